/*  test_projection.c: the seat projection on the 2017 night replayed in its
    declaration order against 2015 (data/), then rushes, retractions, the
    verdicts, a party new to the night and bad options.                    */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "projection.h"

#define BUCKINGHAM "E14000608"

typedef struct {
    results_t *ge2015;
    results_t *ge2017;
    const seat_result_t **order2017;    //  2017 seats in declaration order
    const seat_result_t **order2015;    //  2015 seats in declaration order
} fixture_t;

static const tally_options_t s_bbc = { .speaker_as = "Con", .baseline_speaker_as = "Con" };

//  The seats of a night in the order they declared (untimed seats last).
static const seat_result_t **
s_order (const results_t *results, const char *times_path)
{
    declaration_times_t *times = NULL;
    char err [256] = "";
    if (declaration_times_load (times_path, &times, err, sizeof err)) {
        fprintf (stderr, "%s\n", err);
        return NULL;
    }
    size_t *index = calloc (results->n_seats, sizeof (size_t));
    const seat_result_t **order = calloc (results->n_seats, sizeof (seat_result_t *));
    if (index && order && results_declaration_order (results, times, index, NULL) == EL_OK)
        for (size_t i = 0; i < results->n_seats; i++)
            order [i] = &results->seats [index [i]];
    else {
        free (order);
        order = NULL;
    }
    free (index);
    declaration_times_destroy (&times);
    return order;
}

static int
s_group_setup (void **state)
{
    fixture_t *fixture = calloc (1, sizeof (fixture_t));
    char err [256] = "";
    if (!fixture)
        return -1;
    if (results_load (EL_DATA_DIR "/ge2015.csv", &fixture->ge2015, err, sizeof err)
    ||  results_load (EL_DATA_DIR "/ge2017.csv", &fixture->ge2017, err, sizeof err)) {
        fprintf (stderr, "cannot load results: %s\n", err);
        return -1;
    }
    fixture->order2017 = s_order (fixture->ge2017, EL_DATA_DIR "/declaration_times_2017.csv");
    fixture->order2015 = s_order (fixture->ge2015, EL_DATA_DIR "/declaration_times_2015.csv");
    if (!fixture->order2017 || !fixture->order2015)
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
    free (fixture->order2017);
    free (fixture->order2015);
    free (fixture);
    return 0;
}

static void
s_declare (tally_t *tally, const seat_result_t *seat, decl_kind_t kind, uint32_t revision)
{
    //  A rush names the winner only (the candidate with most votes)
    size_t winner = 0;
    for (size_t c = 0; c < seat->n_candidates; c++)
        if (seat->candidates [c].votes > seat->candidates [winner].votes)
            winner = c;
    declaration_t decl = {
        .ons_id = seat->ons_id, .revision = revision, .kind = kind,
        .reason = revision > 1? REVISION_CORRECTION: REVISION_NONE,
        .electorate = seat->electorate, .declared_at_ms = 1496962800000LL,
        .candidates = kind == DECL_RUSH? &seat->candidates [winner]: seat->candidates,
        .n_candidates = kind == DECL_RUSH? 1: seat->n_candidates
    };
    tally_verdict_t verdict;
    if (tally_apply (tally, &decl, &verdict) != TALLY_ACCEPTED)
        fail_msg ("%s", verdict.text);
}

static void
s_retract (tally_t *tally, const char *ons_id, uint32_t revision)
{
    declaration_t decl = {
        .ons_id = ons_id, .revision = revision, .reason = REVISION_RETRACTION
    };
    tally_verdict_t verdict;
    if (tally_apply (tally, &decl, &verdict) != TALLY_ACCEPTED)
        fail_msg ("%s", verdict.text);
}

static const projection_party_t *
s_line (const projection_view_t *view, const char *party)
{
    for (size_t i = 0; i < view->n_parties; i++)
        if (strcmp (view->parties [i].party, party) == 0)
            return &view->parties [i];
    return NULL;
}

static int
s_seats (const projection_view_t *view, const char *party)
{
    const projection_party_t *line = s_line (view, party);
    return line? line->seats: 0;
}

//  Everything that must hold at any point of a night: declared + projected
//  = seats per nation and UK, nations add up to the UK, every undeclared
//  seat has a winner and no declared one has, each range holds its seats.
static void
s_check_consistent (const tally_t *tally, const projection_t *projection)
{
    size_t scopes = projection_scope_count (projection);
    assert_true (scopes >= 2);
    projection_view_t uk;
    projection_scope (projection, 0, &uk);
    assert_string_equal (uk.scope, "UK");
    assert_int_equal (uk.seats_total, tally_seats_total (tally));
    assert_int_equal (uk.declared, tally_declared (tally));
    assert_int_equal (uk.majority_line, uk.seats_total / 2 + 1);
    size_t nation_seats = 0, nation_declared = 0, nation_based_on = 0;
    for (size_t s = 0; s < scopes; s++) {
        projection_view_t view;
        projection_scope (projection, s, &view);
        int seats = 0, declared = 0, winners = 0;
        for (size_t p = 0; p < view.n_parties; p++) {
            const projection_party_t *line = &view.parties [p];
            assert_true (line->low <= line->seats && line->seats <= line->high);
            assert_true (line->declared <= line->low);
            assert_true (line->high <= line->declared + (int) (view.seats_total - view.declared));
            if (p > 0)
                assert_true (line->seats <= view.parties [p - 1].seats);
            seats += line->seats;
            declared += line->declared;
            winners += line->winners;
        }
        assert_int_equal (seats, view.seats_total);
        assert_int_equal (declared, view.declared);
        assert_int_equal (winners, view.seats_total);
        if (s == 0)
            continue;
        nation_seats += view.seats_total;
        nation_declared += view.declared;
        nation_based_on += view.based_on;
        //  The nations add up to the UK, party by party
        for (size_t p = 0; p < view.n_parties; p++) {
            const projection_party_t *line = s_line (&uk, view.parties [p].party);
            assert_non_null (line);
            assert_true (line->seats >= view.parties [p].seats);
        }
    }
    assert_int_equal (nation_seats, uk.seats_total);
    assert_int_equal (nation_declared, uk.declared);
    assert_int_equal (nation_based_on, uk.based_on);
    for (size_t i = 0; i < tally_seats_total (tally); i++) {
        seat_view_t seat;
        tally_seat (tally, i, &seat);
        const char *winner = projection_seat_winner (projection, i);
        if (seat.declared)
            assert_null (winner);
        else {
            assert_non_null (winner);
            double chance = projection_seat_confidence (projection, i);
            assert_true (chance > 0.0 && chance <= 1.0);
        }
    }
}

//  No result yet: no basis, and the projection is the baseline
static void
test_no_results (void **state)
{
    fixture_t *fixture = *state;
    tally_t *tally = tally_new (fixture->ge2015, &s_bbc);
    projection_t *projection = projection_new (tally, NULL);
    assert_non_null (projection);
    projection_view_t view;
    projection_scope (projection, 0, &view);
    assert_false (view.has_basis);
    assert_null (projection_seat_winner (projection, 0));

    assert_int_equal (projection_update (projection), EL_OK);
    projection_scope (projection, 0, &view);
    assert_false (view.has_basis);
    assert_int_equal (view.based_on, 0);
    assert_int_equal (view.declared, 0);
    assert_string_equal (view.verdict, "No projection: no full result yet");
    s_check_consistent (tally, projection);
    //  Every seat is projected to its previous winner
    for (size_t i = 0; i < tally_seats_total (tally); i++) {
        seat_baseline_t base;
        tally_seat_baseline (tally, i, &base);
        assert_string_equal (projection_seat_winner (projection, i), base.winner);
    }
    projection_destroy (&projection);
    assert_null (projection);
    tally_destroy (&tally);
}

//  Consistent at every checkpoint of the night, exact at its end
static void
test_consistent_through_night (void **state)
{
    fixture_t *fixture = *state;
    tally_t *tally = tally_new (fixture->ge2015, &s_bbc);
    projection_t *projection = projection_new (tally, NULL);
    assert_non_null (projection);
    size_t checkpoints [] = { 1, 5, 25, 60, 100, 250, 500, 649, 650 };
    size_t next = 0;
    for (size_t i = 0; i < fixture->ge2017->n_seats; i++) {
        s_declare (tally, fixture->order2017 [i], DECL_RESULT, 1);
        if (i + 1 != checkpoints [next])
            continue;
        next++;
        assert_int_equal (projection_update (projection), EL_OK);
        s_check_consistent (tally, projection);
        projection_view_t view;
        projection_scope (projection, 0, &view);
        assert_true (view.has_basis);
        assert_int_equal (view.based_on, i + 1);
    }
    assert_int_equal (next, sizeof checkpoints / sizeof checkpoints [0]);
    //  All declared: the projection is the count, with no range left
    scope_view_t count;
    tally_scope (tally, 0, &count);
    projection_view_t view;
    projection_scope (projection, 0, &view);
    for (size_t p = 0; p < count.n_parties; p++) {
        const projection_party_t *line = s_line (&view, count.parties [p].party);
        if (count.parties [p].seats == 0)
            continue;
        assert_non_null (line);
        assert_int_equal (line->seats, count.parties [p].seats);
        assert_int_equal (line->low, line->seats);
        assert_int_equal (line->high, line->seats);
    }
    projection_destroy (&projection);
    tally_destroy (&tally);
}

//  After 100 results of 2017, the final count of each of the four largest
//  parties lies inside its range (projection-eval --all: from 100 to 199
//  results, the final is inside the 90% range at all 100 points for Con, Lab
//  and SNP and at 46 of 100 for LD; at exactly 100, for all four).
static void
test_final_inside_range_at_100 (void **state)
{
    fixture_t *fixture = *state;
    tally_t *tally = tally_new (fixture->ge2015, &s_bbc);
    tally_t *final = tally_new (fixture->ge2015, &s_bbc);
    projection_t *projection = projection_new (tally, NULL);
    assert_non_null (projection);
    for (size_t i = 0; i < fixture->ge2017->n_seats; i++) {
        s_declare (final, fixture->order2017 [i], DECL_RESULT, 1);
        if (i < 100)
            s_declare (tally, fixture->order2017 [i], DECL_RESULT, 1);
    }
    assert_int_equal (projection_update (projection), EL_OK);
    projection_view_t view;
    projection_scope (projection, 0, &view);
    scope_view_t count;
    tally_scope (final, 0, &count);
    for (size_t p = 0; p < 4; p++) {
        const projection_party_t *line = s_line (&view, count.parties [p].party);
        assert_non_null (line);
        int truth = count.parties [p].seats;
        if (truth < line->low || truth > line->high)
            fail_msg ("%s: final %d outside %d-%d", line->party, truth, line->low, line->high);
        //  The aim: within 10 seats after 100 results
        assert_true (abs (line->seats - truth) <= 10);
    }
    projection_destroy (&projection);
    tally_destroy (&tally);
    tally_destroy (&final);
}

//  The verdicts: 2017 all in is hung (Con 318 with the Speaker), 2015
//  against 2017 is a Conservative majority
static void
test_verdicts (void **state)
{
    fixture_t *fixture = *state;
    tally_t *tally = tally_new (fixture->ge2015, &s_bbc);
    projection_t *projection = projection_new (tally, NULL);
    for (size_t i = 0; i < fixture->ge2017->n_seats; i++)
        s_declare (tally, &fixture->ge2017->seats [i], DECL_RESULT, 1);
    assert_int_equal (projection_update (projection), EL_OK);
    projection_view_t view;
    projection_scope (projection, 0, &view);
    int con = s_seats (&view, "Con");
    assert_false (view.majority);
    assert_string_equal (view.largest, "Con");
    assert_int_equal (view.margin, 326 - con);
    char expect [96];
    snprintf (expect, sizeof expect, "Hung parliament: Con %d short of 326", 326 - con);
    assert_string_equal (view.verdict, expect);
    projection_destroy (&projection);
    tally_destroy (&tally);

    tally = tally_new (fixture->ge2017, &s_bbc);
    projection = projection_new (tally, NULL);
    for (size_t i = 0; i < 300; i++)
        s_declare (tally, fixture->order2015 [i], DECL_RESULT, 1);
    assert_int_equal (projection_update (projection), EL_OK);
    projection_scope (projection, 0, &view);
    con = s_seats (&view, "Con");
    assert_true (view.majority);
    assert_string_equal (view.largest, "Con");
    assert_int_equal (view.margin, 2 * con - 650);
    snprintf (expect, sizeof expect, "Con majority of %d", 2 * con - 650);
    assert_string_equal (view.verdict, expect);
    s_check_consistent (tally, projection);
    projection_destroy (&projection);
    tally_destroy (&tally);
}

//  A rush is a declared seat without shares; its full result replaces it
static void
test_rushes (void **state)
{
    fixture_t *fixture = *state;
    tally_t *tally = tally_new (fixture->ge2015, &s_bbc);
    projection_t *projection = projection_new (tally, NULL);
    //  Rushes only: seats counted, still no basis
    for (size_t i = 0; i < 5; i++)
        s_declare (tally, fixture->order2017 [i], DECL_RUSH, 1);
    assert_int_equal (projection_update (projection), EL_OK);
    projection_view_t view;
    projection_scope (projection, 0, &view);
    assert_int_equal (view.declared, 5);
    assert_int_equal (view.based_on, 0);
    assert_false (view.has_basis);
    s_check_consistent (tally, projection);
    int declared = 0;
    for (size_t p = 0; p < view.n_parties; p++)
        declared += view.parties [p].declared;
    assert_int_equal (declared, 5);

    //  100 declared, the first 5 and every tenth after a rush: 86 results
    for (size_t i = 5; i < 100; i++)
        s_declare (tally, fixture->order2017 [i], i % 10? DECL_RESULT: DECL_RUSH, 1);
    assert_int_equal (projection_update (projection), EL_OK);
    projection_scope (projection, 0, &view);
    assert_int_equal (view.declared, 100);
    assert_int_equal (view.based_on, 86);
    assert_true (view.has_basis);
    s_check_consistent (tally, projection);

    //  Their full results replace the rushes: the projection is then the
    //  one of a night of 100 results
    tally_t *plain = tally_new (fixture->ge2015, &s_bbc);
    projection_t *reference = projection_new (plain, NULL);
    for (size_t i = 0; i < 100; i++) {
        s_declare (plain, fixture->order2017 [i], DECL_RESULT, 1);
        if (i < 5 || i % 10 == 0)
            s_declare (tally, fixture->order2017 [i], DECL_RESULT, 1);
    }
    assert_int_equal (projection_update (projection), EL_OK);
    assert_int_equal (projection_update (reference), EL_OK);
    projection_view_t mine, theirs;
    projection_scope (projection, 0, &mine);
    projection_scope (reference, 0, &theirs);
    assert_int_equal (mine.based_on, 100);
    assert_int_equal (mine.n_parties, theirs.n_parties);
    for (size_t p = 0; p < mine.n_parties; p++) {
        assert_string_equal (mine.parties [p].party, theirs.parties [p].party);
        assert_int_equal (mine.parties [p].seats, theirs.parties [p].seats);
        assert_int_equal (mine.parties [p].low, theirs.parties [p].low);
        assert_int_equal (mine.parties [p].high, theirs.parties [p].high);
    }
    projection_destroy (&reference);
    tally_destroy (&plain);
    projection_destroy (&projection);
    tally_destroy (&tally);
}

//  A retracted seat is projected again; the projection is that of a night
//  where it never declared
static void
test_retractions (void **state)
{
    fixture_t *fixture = *state;
    tally_t *tally = tally_new (fixture->ge2015, &s_bbc);
    tally_t *plain = tally_new (fixture->ge2015, &s_bbc);
    projection_t *projection = projection_new (tally, NULL);
    projection_t *reference = projection_new (plain, NULL);
    for (size_t i = 0; i < 120; i++) {
        s_declare (tally, fixture->order2017 [i], DECL_RESULT, 1);
        if (i % 12)
            s_declare (plain, fixture->order2017 [i], DECL_RESULT, 1);
    }
    assert_int_equal (projection_update (projection), EL_OK);
    for (size_t i = 0; i < 120; i += 12)
        s_retract (tally, fixture->order2017 [i]->ons_id, 2);
    assert_int_equal (projection_update (projection), EL_OK);
    assert_int_equal (projection_update (reference), EL_OK);
    s_check_consistent (tally, projection);
    projection_view_t mine, theirs;
    projection_scope (projection, 0, &mine);
    projection_scope (reference, 0, &theirs);
    assert_int_equal (mine.based_on, 110);
    assert_int_equal (mine.declared, 110);
    assert_string_equal (mine.verdict, theirs.verdict);
    assert_int_equal (mine.n_parties, theirs.n_parties);
    for (size_t p = 0; p < mine.n_parties; p++) {
        assert_int_equal (mine.parties [p].seats, theirs.parties [p].seats);
        assert_int_equal (mine.parties [p].low, theirs.parties [p].low);
        assert_int_equal (mine.parties [p].high, theirs.parties [p].high);
    }
    for (size_t i = 0; i < tally_seats_total (tally); i++) {
        const char *a = projection_seat_winner (projection, i);
        const char *b = projection_seat_winner (reference, i);
        assert_true ((!a && !b) || (a && b && strcmp (a, b) == 0));
    }
    projection_destroy (&reference);
    projection_destroy (&projection);
    tally_destroy (&plain);
    tally_destroy (&tally);
}

//  The Speaker as a party of its own keeps the seat until it declares; a
//  party the baseline never had can be projected to win where it is strong
static void
test_speaker_and_new_party (void **state)
{
    fixture_t *fixture = *state;
    tally_t *tally = tally_new (fixture->ge2015, NULL);
    projection_t *projection = projection_new (tally, NULL);
    long buckingham = tally_seat_find (tally, BUCKINGHAM);
    assert_true (buckingham >= 0);
    //  100 English results (not Buckingham), "Lab" renamed "New" in them
    size_t done = 0;
    for (size_t i = 0; i < fixture->ge2017->n_seats && done < 100; i++) {
        const seat_result_t *seat = fixture->order2017 [i];
        if (strcmp (seat->country, "England") || strcmp (seat->ons_id, BUCKINGHAM) == 0)
            continue;
        candidate_t cands [16];
        size_t n = seat->n_candidates < 16? seat->n_candidates: 16;
        for (size_t c = 0; c < n; c++) {
            cands [c] = seat->candidates [c];
            if (strcmp (cands [c].party, "Lab") == 0)
                cands [c].party = "New";
        }
        seat_result_t renamed = *seat;
        renamed.candidates = cands;
        renamed.n_candidates = n;
        s_declare (tally, &renamed, DECL_RESULT, 1);
        done++;
    }
    assert_int_equal (projection_update (projection), EL_OK);
    s_check_consistent (tally, projection);
    assert_string_equal (projection_seat_winner (projection, (size_t) buckingham), "Speaker");
    projection_view_t view;
    projection_scope (projection, 0, &view);
    //  "New" takes seats it never held; "Lab" keeps Scotland's and Wales's
    assert_true (s_seats (&view, "New") > 0);
    projection_destroy (&projection);
    tally_destroy (&tally);
}

static void
test_bad_options (void **state)
{
    fixture_t *fixture = *state;
    assert_null (projection_new (NULL, NULL));
    tally_t *tally = tally_new (fixture->ge2015, NULL);
    projection_options_t opts;
    projection_options_default (&opts);
    opts.confidence = 1.0;
    assert_null (projection_new (tally, &opts));
    projection_options_default (&opts);
    opts.tau_slope = 0.0;
    assert_null (projection_new (tally, &opts));
    projection_options_default (&opts);
    opts.sigma0 = NAN;
    assert_null (projection_new (tally, &opts));
    projection_options_default (&opts);
    opts.min_share = -0.5;
    assert_null (projection_new (tally, &opts));
    projection_t *projection = projection_new (tally, NULL);
    assert_non_null (projection);
    projection_view_t view;
    projection_scope (projection, 99, &view);
    assert_null (view.scope);
    assert_null (projection_seat_winner (projection, 100000));
    projection_destroy (&projection);
    projection_destroy (&projection);   //  NULL-safe
    tally_destroy (&tally);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_no_results),
        cmocka_unit_test (test_consistent_through_night),
        cmocka_unit_test (test_final_inside_range_at_100),
        cmocka_unit_test (test_verdicts),
        cmocka_unit_test (test_rushes),
        cmocka_unit_test (test_retractions),
        cmocka_unit_test (test_speaker_and_new_party),
        cmocka_unit_test (test_bad_options),
    };
    return cmocka_run_group_tests (tests, s_group_setup, s_group_teardown);
}
