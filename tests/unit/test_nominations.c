/*  test_nominations: the party register and the nominations (lib/data):
    the shipped files load, bad ones are refused with the line and the
    reason, and each check of a declaration says what a clerk must do.      */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "nominations.h"
#include "parties.h"

#define LUTON_NORTH "E14000800"
#define LUTON_SOUTH "E14000801"

typedef struct {
    parties_t *parties;
    nominations_t *nominations;
    results_t *ge2017;
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *fx = calloc (1, sizeof *fx);
    char err [512] = "";
    if (!fx
    ||  parties_load (EL_DATA_DIR "/parties.csv", &fx->parties, err, sizeof err)
    ||  nominations_load (EL_DATA_DIR "/nominations_2017.csv", &fx->nominations, err, sizeof err)
    ||  results_load (EL_DATA_DIR "/ge2017.csv", &fx->ge2017, err, sizeof err)) {
        fprintf (stderr, "set-up failed: %s\n", err);
        return -1;
    }
    *state = fx;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *fx = *state;
    parties_destroy (&fx->parties);
    nominations_destroy (&fx->nominations);
    results_destroy (&fx->ge2017);
    free (fx);
    return 0;
}

static char *
s_write (const char *name, const char *text)
{
    static char path [512];
    snprintf (path, sizeof path, "%s/%s", EL_TEST_TMP, name);
    FILE *file = fopen (path, "w");
    assert_non_null (file);
    fputs (text, file);
    fclose (file);
    return path;
}

static void
test_register (void **state)
{
    fixture_t *fx = *state;
    assert_true (parties_count (fx->parties) >= 15);
    assert_string_equal (parties_name (fx->parties, "LD"), "Liberal Democrats");
    assert_string_equal (parties_colour (fx->parties, "Lab"), "#e4003b");
    //  A party the register lacks still works: its code, in neutral grey
    assert_string_equal (parties_name (fx->parties, "Yorks First"), "Yorks First");
    assert_string_equal (parties_colour (fx->parties, "Yorks First"), PARTIES_NEUTRAL_COLOUR);
    assert_string_equal (parties_name (NULL, "Lab"), "Lab");
    //  The spellings of issue 12, and the codes and names themselves
    const char *labour [] = { "Labour", "labour", "Lab Co-op", "LAB CO-OP", "Lbr", "Lab", "lab" };
    for (size_t i = 0; i < sizeof labour / sizeof labour [0]; i++) {
        const party_entry_t *entry = parties_match (fx->parties, labour [i]);
        assert_non_null (entry);
        assert_string_equal (entry->code, "Lab");
    }
    assert_string_equal (parties_match (fx->parties, "Lib Dem")->code, "LD");
    assert_string_equal (parties_match (fx->parties, "Sinn Fein")->code, "SF");
    assert_null (parties_match (fx->parties, "Labourish"));
    assert_null (parties_match (fx->parties, "--"));
}

static void
test_register_refused (void **state)
{
    (void) state;
    struct { const char *text, *says; } bad [] = {
        { "code,name,colour,aliases\nLab,Labour,red,\n", ":2: colour \"red\" is not #rrggbb" },
        { "code,name,colour,aliases\nLab,Labour,#e4003b,\nLab,Labour,#e4003b,\n", ":3: party Lab appears twice" },
        { "code,name,colour,aliases\nLab,Labour,#e4003b,\nCon,Conservative,#0087dc,Tory;Labour\n",
          ":3: \"Labour\" of party Con is already party Lab's" },
        { "code,name,colour,aliases\n,Labour,#e4003b,\n", ":2: empty code or name" },
        { "code,name,colour\nLab,Labour,#e4003b\n", "missing column \"aliases\"" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        parties_t *parties = NULL;
        char err [256] = "";
        assert_int_not_equal (parties_load (s_write ("parties.csv", bad [i].text), &parties,
                                            err, sizeof err), EL_OK);
        assert_null (parties);
        if (!strstr (err, bad [i].says))
            fail_msg ("\"%s\" does not say \"%s\"", err, bad [i].says);
    }
}

static void
test_nominations_file (void **state)
{
    fixture_t *fx = *state;
    assert_int_equal (nominations_count (fx->nominations), 650);
    const seat_result_t *luton = nominations_seat (fx->nominations, LUTON_NORTH);
    assert_non_null (luton);
    assert_string_equal (luton->name, "Luton North");
    assert_int_equal (luton->electorate, 66811);
    assert_int_equal (luton->n_candidates, 4);
    assert_string_equal (luton->candidates [0].name, "Kelvin Hopkins");
    assert_null (nominations_seat (fx->nominations, "E99999999"));

    //  Refused: party totals (no names), a candidate twice, a votes column
    struct { const char *text, *says; } bad [] = {
        { "ons_id,constituency,country,region,electorate,candidate,party\n"
          "E1,A,England,East,100,,Lab\n", "a nominated candidate (Lab) has no name" },
        { "ons_id,constituency,country,region,electorate,candidate,party\n"
          "E1,A,England,East,100,Ann,Lab\nE1,A,England,East,100,Ann,Con\n", "Ann is nominated twice" },
        { "ons_id,constituency,country,region,electorate,candidate,party,votes\n"
          "E1,A,England,East,100,Ann,Lab,5\n", "header has 8 columns, expected 7" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        nominations_t *nominations = NULL;
        char err [256] = "";
        assert_int_not_equal (nominations_load (s_write ("nominations.csv", bad [i].text),
                                                &nominations, err, sizeof err), EL_OK);
        assert_null (nominations);
        if (!strstr (err, bad [i].says))
            fail_msg ("\"%s\" does not say \"%s\"", err, bad [i].says);
    }
}

//  Checks a seat's real figures, changed by the caller, and expects reason
//  with a text that says `says`
static void
s_expect (fixture_t *fx, const char *ons_id, const char *constituency, const candidate_t *cands,
          size_t n, uint32_t electorate, bool rush, el_reason_t reason, const char *says)
{
    nominations_claim_t claim = { ons_id, constituency, electorate, rush, cands, n };
    char text [256] = "";
    el_reason_t got = nominations_check (fx->nominations, fx->parties, &claim, 5.0, text, sizeof text);
    if (got != reason || (says && !strstr (text, says)))
        fail_msg ("%s: got %d \"%s\", expected %d saying \"%s\"", ons_id, got, text, reason,
                  says ? says : "");
}

static void
test_checks (void **state)
{
    fixture_t *fx = *state;
    const seat_result_t *north = results_find (fx->ge2017, LUTON_NORTH);
    candidate_t cands [8];
    size_t n = north->n_candidates;
    memcpy (cands, north->candidates, n * sizeof *cands);

    //  The real result passes, with or without the seat's name
    s_expect (fx, LUTON_NORTH, "Luton North", cands, n, north->electorate, false, EL_REASON_NONE, NULL);
    s_expect (fx, LUTON_NORTH, "LUTON  north", cands, n, north->electorate, false, EL_REASON_NONE, NULL);
    s_expect (fx, LUTON_NORTH, NULL, cands, n, north->electorate, false, EL_REASON_NONE, NULL);
    //  Luton North's figures under Luton South's id
    s_expect (fx, LUTON_SOUTH, NULL, cands, n, north->electorate, false, EL_REASON_NOT_NOMINATED,
              "Kelvin Hopkins stands in E14000800 Luton North, not in E14000801 Luton South");
    //  A party spelt out
    cands [0].party = "Labour";
    s_expect (fx, LUTON_NORTH, NULL, cands, n, north->electorate, false, EL_REASON_PARTY_MISMATCH,
              "Kelvin Hopkins is nominated for Lab; the declaration says Labour: send the code Lab");
    cands [0].party = "Con";
    s_expect (fx, LUTON_NORTH, NULL, cands, n, north->electorate, false, EL_REASON_PARTY_MISMATCH,
              "Kelvin Hopkins is nominated for Lab; the declaration says Con");
    cands [0].party = "Lab";
    //  A candidate missing (a full result), but not from a rush
    s_expect (fx, LUTON_NORTH, NULL, cands, n - 1, north->electorate, false,
              EL_REASON_CANDIDATE_MISSING, "Simon Hall (Green), nominated in E14000800 Luton North, "
              "is missing: send every nominated candidate, 0 votes as 0");
    s_expect (fx, LUTON_NORTH, NULL, cands, 1, 0, true, EL_REASON_NONE, NULL);
    //  A rush names a nominated candidate, for his party
    candidate_t stranger = { .name = "Gavin Shuker", .party = "Lab" };
    s_expect (fx, LUTON_NORTH, NULL, &stranger, 1, 0, true, EL_REASON_NOT_NOMINATED,
              "Gavin Shuker stands in E14000801 Luton South, not in E14000800 Luton North");
    //  A name mistyped, and one nobody has
    cands [1].name = "caroline kerswell";
    s_expect (fx, LUTON_NORTH, NULL, cands, n, north->electorate, false, EL_REASON_NOT_NOMINATED,
              "did you mean Caroline Kerswell?");
    cands [1].name = "Nobody Atall";
    s_expect (fx, LUTON_NORTH, NULL, cands, n, north->electorate, false, EL_REASON_NOT_NOMINATED,
              "nominated: Kelvin Hopkins (Lab), Caroline Kerswell (Con)");
    cands [1].name = north->candidates [1].name;
    //  The seat's name
    s_expect (fx, LUTON_NORTH, "Luton South", cands, n, north->electorate, false,
              EL_REASON_CONSTITUENCY_MISMATCH, "the declaration names Luton South but E14000800 is "
              "Luton North: check the seat id (E14000801 is that name)");
    //  The electorate: 5% either way passes, more does not
    s_expect (fx, LUTON_NORTH, NULL, cands, n, 70151, false, EL_REASON_NONE, NULL);
    s_expect (fx, LUTON_NORTH, NULL, cands, n, 63471, false, EL_REASON_NONE, NULL);
    s_expect (fx, LUTON_NORTH, NULL, cands, n, 668110, false, EL_REASON_ELECTORATE_MISMATCH,
              "electorate 668110 is 900.0% above the register's 66811 for E14000800 (more than 5%)");
    s_expect (fx, LUTON_NORTH, NULL, cands, n, 6681, false, EL_REASON_ELECTORATE_MISMATCH,
              "below the register's 66811");
    //  A seat the nominations lack
    s_expect (fx, "E99999999", NULL, cands, n, 1000, false, EL_REASON_NOT_NOMINATED,
              "it is not in the nominations");
}

//  The shipped nominations are the 2017 results without their votes
static void
test_derived_from_results (void **state)
{
    fixture_t *fx = *state;
    assert_int_equal (nominations_count (fx->nominations), fx->ge2017->n_seats);
    for (size_t i = 0; i < fx->ge2017->n_seats; i++) {
        const seat_result_t *result = &fx->ge2017->seats [i];
        const seat_result_t *nominated = nominations_at (fx->nominations, i);
        assert_string_equal (nominated->ons_id, result->ons_id);
        assert_int_equal (nominated->electorate, result->electorate);
        assert_int_equal (nominated->n_candidates, result->n_candidates);
        nominations_claim_t claim = { result->ons_id, result->name, result->electorate, false,
                                      result->candidates, result->n_candidates };
        char text [256];
        if (nominations_check (fx->nominations, fx->parties, &claim, 5.0, text, sizeof text))
            fail_msg ("%s", text);
    }
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_register),
        cmocka_unit_test (test_register_refused),
        cmocka_unit_test (test_nominations_file),
        cmocka_unit_test (test_checks),
        cmocka_unit_test (test_derived_from_results),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
