/*  test_scrutiny.c: the hold's calibration (README "The hold"). The 2017
    night is declared in its real order against 2015 through the tally, and
    each declaration is judged before it is applied: how many of the 650
    real ones would be held (the aim: at most 1%), and, at Luton North's real
    moment in the night, whether each clerk's mistake of issue 12 that the
    figures alone can show (the top two swapped, a digit dropped, the
    electorate mistyped) would be. Prints the figures the README quotes.
    Also: tally_check judges as tally_apply does and changes nothing.      */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "scrutiny.h"
#include "tally.h"

#define LUTON_NORTH "E14000800"

typedef struct {
    results_t *ge2015;
    results_t *ge2017;
    declaration_times_t *times;
    size_t *order;
} fixture_t;

static const tally_options_t s_bbc = { .speaker_as = "Con", .baseline_speaker_as = "Con" };

static int
s_group_setup (void **state)
{
    fixture_t *fixture = calloc (1, sizeof (fixture_t));
    char err [256] = "";
    if (!fixture)
        return -1;
    if (results_load (EL_DATA_DIR "/ge2015.csv", &fixture->ge2015, err, sizeof err)
    ||  results_load (EL_DATA_DIR "/ge2017.csv", &fixture->ge2017, err, sizeof err)
    ||  declaration_times_load (EL_DATA_DIR "/declaration_times_2017.csv", &fixture->times,
                                err, sizeof err)) {
        fprintf (stderr, "cannot load the data: %s\n", err);
        return -1;
    }
    fixture->order = calloc (fixture->ge2017->n_seats, sizeof (size_t));
    if (!fixture->order
    ||  results_declaration_order (fixture->ge2017, fixture->times, fixture->order, NULL))
        return -1;
    *state = fixture;
    return 0;
}

static int
s_group_teardown (void **state)
{
    fixture_t *fixture = *state;
    results_destroy (&fixture->ge2015);
    results_destroy (&fixture->ge2017);
    declaration_times_destroy (&fixture->times);
    free (fixture->order);
    free (fixture);
    return 0;
}

static declaration_t
s_decl (const seat_result_t *seat, const candidate_t *candidates)
{
    return (declaration_t) {
        .ons_id = seat->ons_id, .revision = 1, .kind = DECL_RESULT,
        .electorate = seat->electorate, .declared_at_ms = 1496962800000LL,
        .candidates = candidates, .n_candidates = seat->n_candidates
    };
}

//  Judges a declaration as the aggregator does: reasons to hold it
static size_t
s_judge (tally_t *tally, const declaration_t *decl, scrutiny_reasons_t *reasons)
{
    scrutiny_options_t options = scrutiny_defaults ();
    tally_verdict_t verdict;
    seat_view_t preview;
    assert_int_equal (tally_check (tally, decl, &verdict, &preview), TALLY_ACCEPTED);
    scrutiny_judge (tally, verdict.seat, &preview, &options, reasons);
    return reasons->count;
}

static void
s_print (const char *what, const scrutiny_reasons_t *reasons)
{
    printf ("  %-44s %s", what, reasons->count ? "HELD:" : "not held");
    for (size_t i = 0; i < reasons->count; i++)
        printf ("%s %s", i ? ";" : "", reasons->text [i]);
    printf ("\n");
}

//  The mistakes, each made on Luton North's real figures
static void
s_mistakes (tally_t *tally, const seat_result_t *luton, size_t *held, size_t *tried)
{
    candidate_t figures [16];
    assert_true (luton->n_candidates <= 16);
    //  The file's order is most votes first: Lab 29,765, Con 15,401...
    assert_true (luton->candidates [0].votes > luton->candidates [1].votes);
    scrutiny_reasons_t reasons;
    struct { const char *what; int swap, drop; uint32_t electorate; } cases [] = {
        { "top two candidates' votes swapped", 1, -1, 0 },
        { "a digit dropped from the winner's votes", 0, 0, 0 },
        { "a digit dropped from the runner-up's votes", 0, 1, 0 },
        { "electorate typed as 668110", 0, -1, 668110 }
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases [0]; k++) {
        memcpy (figures, luton->candidates, luton->n_candidates * sizeof (candidate_t));
        if (cases [k].swap) {
            figures [0].votes = luton->candidates [1].votes;
            figures [1].votes = luton->candidates [0].votes;
        }
        if (cases [k].drop >= 0)
            figures [cases [k].drop].votes /= 10;
        declaration_t decl = s_decl (luton, figures);
        if (cases [k].electorate)
            decl.electorate = cases [k].electorate;
        (*tried)++;
        *held += s_judge (tally, &decl, &reasons) > 0;
        s_print (cases [k].what, &reasons);
        assert_true (reasons.count > 0);
    }
    //  And the real figures are not held
    declaration_t real = s_decl (luton, luton->candidates);
    assert_int_equal (s_judge (tally, &real, &reasons), 0);
}

static void
test_2017_night (void **state)
{
    fixture_t *fixture = *state;
    tally_t *tally = tally_new (fixture->ge2015, &s_bbc);
    assert_non_null (tally);
    size_t held = 0, mistakes_held = 0, mistakes = 0;
    size_t n = fixture->ge2017->n_seats;
    printf ("2017 night in declaration order against 2015, default thresholds:\n");
    for (size_t k = 0; k < n; k++) {
        const seat_result_t *seat = &fixture->ge2017->seats [fixture->order [k]];
        if (strcmp (seat->ons_id, LUTON_NORTH) == 0) {
            printf ("clerk's mistakes at Luton North (declaration %zu of the night):\n", k + 1);
            s_mistakes (tally, seat, &mistakes_held, &mistakes);
        }
        declaration_t decl = s_decl (seat, seat->candidates);
        scrutiny_reasons_t reasons;
        if (s_judge (tally, &decl, &reasons)) {
            held++;
            char what [96];
            snprintf (what, sizeof what, "real: %s %.30s", seat->ons_id, seat->name);
            s_print (what, &reasons);
        }
        tally_verdict_t verdict;
        assert_int_equal (tally_apply (tally, &decl, &verdict), TALLY_ACCEPTED);
    }
    printf ("held: %zu of %zu real declarations (%.1f%%); %zu of %zu mistakes\n",
            held, n, 100.0 * (double) held / (double) n, mistakes_held, mistakes);
    assert_int_equal (tally_declared (tally), n);
    assert_true (held * 100 <= n);      //  the aim: at most 1%
    assert_int_equal (mistakes_held, mistakes);
    tally_destroy (&tally);
}

//  tally_check says what tally_apply would, and changes nothing
static void
test_check_changes_nothing (void **state)
{
    fixture_t *fixture = *state;
    tally_t *tally = tally_new (fixture->ge2015, &s_bbc);
    const seat_result_t *luton = results_find (fixture->ge2017, LUTON_NORTH);
    declaration_t decl = s_decl (luton, luton->candidates);
    tally_verdict_t verdict;
    seat_view_t preview, seat;
    assert_int_equal (tally_check (tally, &decl, &verdict, &preview), TALLY_ACCEPTED);
    assert_string_equal (verdict.text, "E14000800 rev 1: Lab hold");
    assert_true (preview.declared);
    assert_string_equal (preview.winner, "Lab");
    assert_int_equal (preview.majority, 14364);
    assert_int_equal (tally_declared (tally), 0);
    tally_seat (tally, verdict.seat, &seat);
    assert_false (seat.declared);
    assert_int_equal (seat.revision, 0);

    assert_int_equal (tally_apply (tally, &decl, &verdict), TALLY_ACCEPTED);
    assert_int_equal (tally_check (tally, &decl, &verdict, &preview), TALLY_DUPLICATE);
    decl.revision = 2;
    decl.reason = REVISION_RETRACTION;
    decl.n_candidates = 0;
    assert_int_equal (tally_check (tally, &decl, &verdict, NULL), TALLY_ACCEPTED);
    tally_seat (tally, verdict.seat, &seat);
    assert_true (seat.declared);
    assert_int_equal (seat.revision, 1);
    decl.revision = 1;
    decl.reason = REVISION_NONE;
    decl.n_candidates = luton->n_candidates;
    candidate_t other [16];
    memcpy (other, luton->candidates, luton->n_candidates * sizeof (candidate_t));
    other [0].votes--;
    decl.candidates = other;
    assert_int_equal (tally_check (tally, &decl, &verdict, NULL), TALLY_REJECTED);
    assert_int_equal (verdict.reason, EL_REASON_REVISION_CONFLICT);
    assert_non_null (strstr (verdict.text, "send --revision 2 --reason correction"));
    tally_destroy (&tally);
}

//  The returning officer's totals: checked, and the official turnout
static void
test_totals (void **state)
{
    fixture_t *fixture = *state;
    tally_t *tally = tally_new (fixture->ge2015, &s_bbc);
    const seat_result_t *luton = results_find (fixture->ge2017, LUTON_NORTH);
    declaration_t decl = s_decl (luton, luton->candidates);
    tally_verdict_t verdict;
    decl.has_valid_votes = true;
    decl.valid_votes = 46621;
    assert_int_equal (tally_apply (tally, &decl, &verdict), TALLY_REJECTED);
    assert_int_equal (verdict.reason, EL_REASON_VALID_VOTES_MISMATCH);
    assert_non_null (strstr (verdict.text, "add up to 46622"));
    decl.valid_votes = 46622;
    decl.has_rejected_ballots = decl.has_ballot_papers = true;
    decl.rejected_ballots = 130;
    decl.ballot_papers = 46800;
    assert_int_equal (tally_apply (tally, &decl, &verdict), TALLY_REJECTED);
    assert_int_equal (verdict.reason, EL_REASON_BALLOT_PAPERS_MISMATCH);
    assert_non_null (strstr (verdict.text, "46752"));
    decl.ballot_papers = 46752;
    assert_int_equal (tally_apply (tally, &decl, &verdict), TALLY_ACCEPTED);
    seat_view_t seat;
    tally_seat (tally, verdict.seat, &seat);
    assert_true (seat.has_ballot_papers);
    assert_int_equal (seat.rejected_ballots, 130);
    assert_float_equal (seat.official_turnout, 100.0 * 46752 / 66811, 1e-9);
    assert_float_equal (seat.turnout, 100.0 * 46622 / 66811, 1e-9);
    tally_destroy (&tally);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_2017_night),
        cmocka_unit_test (test_check_changes_nothing),
        cmocka_unit_test (test_totals),
    };
    return cmocka_run_group_tests (tests, s_group_setup, s_group_teardown);
}
