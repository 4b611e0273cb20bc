/*  test_desk.c: the results desk's pure parts (desk.h, exit_poll_file.h):
    a seat's Butler swing, the exit poll's checks in the aggregator and in
    the file, and the projection topic's Update over the 2015 baseline.    */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "desk.h"
#include "exit_poll_file.h"

static const tally_options_t s_bbc = { .speaker_as = "Con", .baseline_speaker_as = "Con" };

static seat_view_t
s_seat (candidate_view_t *candidates, size_t n)
{
    seat_view_t view = { .ons_id = "E14000800", .declared = true, .kind = DECL_RESULT,
                         .revision = 1, .candidates = candidates, .n_candidates = n };
    return view;
}

static void
test_swing (void **state)
{
    (void) state;
    candidate_view_t luton [] = {
        { .party = "Lab", .has_share_change = true, .share_change = 11.59 },
        { .party = "Con", .has_share_change = true, .share_change = 3.10 },
        { .party = "LD", .has_share_change = true, .share_change = -1.3 }
    };
    seat_view_t view = s_seat (luton, 3);
    double points;
    const char *from, *to;
    assert_true (desk_seat_swing (&view, &points, &from, &to));
    assert_float_equal (points, 4.245, 1e-9);
    assert_string_equal (from, "Con");
    assert_string_equal (to, "Lab");

    //  The winner fell back against the runner-up: from the winner
    luton [0].share_change = -2.0;
    luton [1].share_change = 4.0;
    assert_true (desk_seat_swing (&view, &points, &from, &to));
    assert_float_equal (points, 3.0, 1e-9);
    assert_string_equal (from, "Lab");
    assert_string_equal (to, "Con");

    //  Undefined: a share change missing, a rush, undeclared, one candidate
    luton [1].has_share_change = false;
    assert_false (desk_seat_swing (&view, &points, &from, &to));
    luton [1].has_share_change = true;
    view.kind = DECL_RUSH;
    assert_false (desk_seat_swing (&view, &points, &from, &to));
    view.kind = DECL_RESULT;
    view.declared = false;
    assert_false (desk_seat_swing (&view, &points, &from, &to));
    view.declared = true;
    view.n_candidates = 1;
    assert_false (desk_seat_swing (&view, &points, &from, &to));
    //  Two candidates of one party at the top: no swing between parties
    candidate_view_t twins [] = {
        { .party = "Ind", .has_share_change = true, .share_change = 1 },
        { .party = "Ind", .has_share_change = true, .share_change = 2 }
    };
    view = s_seat (twins, 2);
    assert_false (desk_seat_swing (&view, &points, &from, &to));
}

static Election__ExitPoll *
s_poll (const char *const *codes, const uint32_t *seats, size_t n)
{
    Election__ExitPoll *poll = calloc (1, sizeof *poll);
    election__exit_poll__init (poll);
    poll->parties = calloc (n + 1, sizeof *poll->parties);
    for (size_t i = 0; i < n; i++) {
        Election__ExitPollParty *party = calloc (1, sizeof *party);
        election__exit_poll_party__init (party);
        party->party = strdup (codes [i]);
        party->has_seats = true;
        party->seats = seats [i];
        poll->parties [i] = party;
    }
    poll->n_parties = n;
    return poll;
}

static void
test_exit_poll_check (void **state)
{
    (void) state;
    parties_t *parties = NULL;
    char why [256];
    assert_int_equal (parties_load (EL_DATA_DIR "/parties.csv", &parties, why, sizeof why), EL_OK);

    const char *good [] = { "Con", "Lab", "SNP" };
    uint32_t seats [] = { 314, 266, 34 };
    Election__ExitPoll *poll = s_poll (good, seats, 3);
    assert_true (desk_exit_poll_check (poll, parties, 650, why, sizeof why));
    assert_true (desk_exit_poll_check (poll, NULL, 650, why, sizeof why));
    //  More seats than there are
    assert_false (desk_exit_poll_check (poll, parties, 600, why, sizeof why));
    assert_non_null (strstr (why, "add up to 614, more than the 600"));
    election__exit_poll__free_unpacked (poll, NULL);

    const char *labour [] = { "Con", "Labour" };
    poll = s_poll (labour, seats, 2);
    assert_false (desk_exit_poll_check (poll, parties, 650, why, sizeof why));
    assert_string_equal (why, "row 2: \"Labour\" is not a party code of the register: send Lab");
    //  Without a register any code goes
    assert_true (desk_exit_poll_check (poll, NULL, 650, why, sizeof why));
    election__exit_poll__free_unpacked (poll, NULL);

    const char *unknown [] = { "Zzz" };
    poll = s_poll (unknown, seats, 1);
    assert_false (desk_exit_poll_check (poll, parties, 650, why, sizeof why));
    assert_non_null (strstr (why, "not in the party register"));
    election__exit_poll__free_unpacked (poll, NULL);

    const char *twice [] = { "Con", "Lab", "Con" };
    poll = s_poll (twice, seats, 3);
    assert_false (desk_exit_poll_check (poll, NULL, 650, why, sizeof why));
    assert_string_equal (why, "row 3: Con is given twice (row 1 too)");
    election__exit_poll__free_unpacked (poll, NULL);

    poll = s_poll (good, seats, 0);
    assert_false (desk_exit_poll_check (poll, NULL, 650, why, sizeof why));
    election__exit_poll__free_unpacked (poll, NULL);
    const char *empty [] = { "" };
    poll = s_poll (empty, seats, 1);
    assert_false (desk_exit_poll_check (poll, NULL, 650, why, sizeof why));
    election__exit_poll__free_unpacked (poll, NULL);
    assert_false (desk_exit_poll_check (NULL, NULL, 650, why, sizeof why));
    parties_destroy (&parties);
}

static const char *
s_file (const char *text)
{
    static char path [256];
    snprintf (path, sizeof path, "%s/exit_poll_test.csv", EL_TEST_TMP);
    FILE *file = fopen (path, "w");
    fputs (text, file);
    fclose (file);
    return path;
}

static void
test_exit_poll_file (void **state)
{
    (void) state;
    parties_t *parties = NULL;
    char err [512];
    assert_int_equal (parties_load (EL_DATA_DIR "/parties.csv", &parties, err, sizeof err), EL_OK);
    exit_poll_t *poll = NULL;
    const char *path = s_file ("party,seats\nCon,314\nLab,266\r\nSNP,34\n");
    assert_int_equal (exit_poll_load (path, parties, 650, &poll, err, sizeof err), EL_OK);
    assert_int_equal (poll->n_rows, 3);
    assert_string_equal (poll->rows [1].party, "Lab");
    assert_int_equal (poll->rows [2].seats, 34);
    assert_int_equal (poll->seats, 614);
    exit_poll_destroy (&poll);

    struct { const char *text; const char *says; } bad [] = {
        { "party,seats\nCon,314\nCon,2\n", ":3: Con is given twice" },
        { "party,seats\nCon,314\nLabour,2\n", ":3: \"Labour\" is not a party code: write Lab" },
        { "party,seats\nCon,314\nZzz,2\n", ":3: party \"Zzz\" is not in the party register" },
        { "party,seats\nCon,3x\n", ":2:" },
        { "party,seats\n,3\n", ":2: no party code" },
        { "party,seats\nCon,600\nLab,51\n", ":3: the seats add up to 651 so far, more than the 650" },
        { "party,votes\nCon,3\n", ":1:" },
        { "party,seats\n", "" }
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        path = s_file (bad [i].text);
        err [0] = 0;
        assert_int_not_equal (exit_poll_load (path, parties, 650, &poll, err, sizeof err), EL_OK);
        assert_null (poll);
        if (!strstr (err, bad [i].says) || strncmp (err, path, strlen (path)) != 0)
            fail_msg ("case %zu: \"%s\" does not say \"%s\"", i, err, bad [i].says);
    }
    //  No register, no total: any code, any sum
    path = s_file ("party,seats\nWhoever,700\n");
    assert_int_equal (exit_poll_load (path, NULL, 0, &poll, err, sizeof err), EL_OK);
    exit_poll_destroy (&poll);
    parties_destroy (&parties);
}

static Election__Projection *
s_projection (desk_t *desk, Election__Update **update)
{
    update_head_t head = { .sequence = 1, .epoch = 2, .mode = ELECTION__MODE__MODE_REHEARSAL };
    size_t size;
    uint8_t *bytes = desk_pack_projection (desk, &head, &size);
    assert_non_null (bytes);
    *update = election__update__unpack (NULL, size, bytes);
    free (bytes);
    assert_non_null (*update);
    assert_int_equal ((*update)->body_case, ELECTION__UPDATE__BODY_PROJECTION);
    return (*update)->projection;
}

static void
test_projection_topic (void **state)
{
    (void) state;
    results_t *baseline = NULL;
    parties_t *parties = NULL;
    char err [256];
    assert_int_equal (results_load (EL_DATA_DIR "/ge2015.csv", &baseline, err, sizeof err), EL_OK);
    assert_int_equal (parties_load (EL_DATA_DIR "/parties.csv", &parties, err, sizeof err), EL_OK);
    tally_t *tally = tally_new (baseline, &s_bbc);
    desk_t *desk = desk_new (tally, parties, 100);
    assert_non_null (desk);
    int64_t next;
    assert_true (desk_projection_due (desk, 0, &next));     //  never run yet
    assert_int_equal (desk_project (desk, 0), 0);
    assert_false (desk_projection_due (desk, 0, &next));    //  nothing new
    desk_mark_stale (desk);
    //  Not again before 20 times its cost has passed
    assert_false (desk_projection_due (desk, 0, &next));
    assert_true (next > 0);
    assert_true (desk_projection_due (desk, next, &next));

    //  No result: the baseline, every seat projected, first time changed
    size_t changed = 0;
    for (size_t seat = 0; seat < tally_seats_total (tally); seat++)
        changed += desk_winner_changed (desk, seat);
    assert_int_equal (changed, 650);
    for (size_t seat = 0; seat < tally_seats_total (tally); seat++)
        assert_false (desk_winner_changed (desk, seat));
    Election__Update *update;
    Election__Projection *projection = s_projection (desk, &update);
    assert_string_equal (projection->basis, "baseline");
    assert_int_equal (projection->seats_total, 650);
    assert_int_equal (projection->majority_line, 326);
    int seats = 0;
    for (size_t i = 0; i < projection->n_parties; i++)
        seats += projection->parties [i]->seats;
    assert_int_equal (seats, 650);
    assert_string_equal (projection->parties [0]->party, "Con");
    assert_string_equal (projection->parties [0]->name, "Conservative");
    uint32_t nations = 0;
    for (size_t i = 0; i < projection->n_nations; i++) {
        assert_int_equal (projection->nations [i]->projected, projection->nations [i]->seats_total);
        nations += projection->nations [i]->seats_total;
    }
    assert_int_equal (nations, 650);
    election__update__free_unpacked (update, NULL);

    //  An exit poll is the basis, its seats and verdict, until 100 results
    const char *codes [] = { "Lab", "Con" };
    uint32_t poll_seats [] = { 266, 330 };
    Election__ExitPoll *poll = s_poll (codes, poll_seats, 2);
    assert_false (desk_exit_poll_same (desk, poll));
    assert_int_equal (desk_set_exit_poll (desk, poll), 0);
    assert_true (desk_exit_poll_same (desk, poll));
    election__exit_poll__free_unpacked (poll, NULL);
    assert_string_equal (desk_exit_poll (desk)->parties [0]->name, "Labour");
    projection = s_projection (desk, &update);
    assert_string_equal (projection->basis, "exit poll");
    assert_string_equal (projection->parties [0]->party, "Con");      //  most seats first
    assert_int_equal (projection->parties [0]->low, 330);
    assert_string_equal (projection->verdict, "Con majority of 10");
    assert_int_equal (projection->exit_poll->n_parties, 2);
    election__update__free_unpacked (update, NULL);

    desk_destroy (&desk);
    desk_destroy (&desk);       //  NULL is fine
    tally_destroy (&tally);
    parties_destroy (&parties);
    results_destroy (&baseline);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_swing),
        cmocka_unit_test (test_exit_poll_check),
        cmocka_unit_test (test_exit_poll_file),
        cmocka_unit_test (test_projection_topic),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
