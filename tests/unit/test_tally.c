/*  test_tally.c: the tally engine against the 2015 baseline and the 2017
    declarations (data/), then revisions, rushes, rejections, a synthetic
    200,000-seat baseline, and parties forgotten when nothing names them.   */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tally.h"

#define LUTON_NORTH "E14000800"
#define BUCKINGHAM "E14000608"
#define BATLEY "E14000548"

typedef struct {
    results_t *ge2015;
    results_t *ge2017;
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
    ||  results_load (EL_DATA_DIR "/ge2017.csv", &fixture->ge2017, err, sizeof err)) {
        fprintf (stderr, "cannot load results: %s\n", err);
        results_destroy (&fixture->ge2015);
        free (fixture);
        return -1;
    }
    *state = fixture;
    return 0;
}

static int
s_group_teardown (void **state)
{
    fixture_t *fixture = *state;
    results_destroy (&fixture->ge2015);
    results_destroy (&fixture->ge2017);
    free (fixture);
    return 0;
}

//  A declaration from a seat of a results file (borrows its candidates).
static declaration_t
s_decl (const seat_result_t *seat, uint32_t revision)
{
    declaration_t decl = {
        .ons_id = seat->ons_id, .revision = revision, .kind = DECL_RESULT,
        .reason = revision > 1? REVISION_CORRECTION: REVISION_NONE,
        .electorate = seat->electorate, .declared_at_ms = 1496962800000LL,
        .candidates = seat->candidates, .n_candidates = seat->n_candidates
    };
    return decl;
}

static tally_status_t
s_apply (tally_t *tally, const declaration_t *decl, tally_verdict_t *verdict)
{
    tally_verdict_t local;
    return tally_apply (tally, decl, verdict? verdict: &local);
}

static void
s_apply_seat (tally_t *tally, const results_t *results, const char *ons_id, uint32_t revision)
{
    const seat_result_t *seat = results_find (results, ons_id);
    assert_non_null (seat);
    declaration_t decl = s_decl (seat, revision);
    tally_verdict_t verdict;
    assert_int_equal (tally_apply (tally, &decl, &verdict), TALLY_ACCEPTED);
    assert_int_equal (verdict.reason, EL_REASON_NONE);
}

static tally_t *
s_tally_all (const fixture_t *fixture, const tally_options_t *opts)
{
    tally_t *tally = tally_new (fixture->ge2015, opts);
    assert_non_null (tally);
    for (size_t i = 0; i < fixture->ge2017->n_seats; i++) {
        declaration_t decl = s_decl (&fixture->ge2017->seats [i], 1);
        tally_verdict_t verdict;
        if (tally_apply (tally, &decl, &verdict) != TALLY_ACCEPTED)
            fail_msg ("%s", verdict.text);
    }
    return tally;
}

static const party_view_t *
s_party (const scope_view_t *view, const char *party)
{
    for (size_t i = 0; i < view->n_parties; i++)
        if (strcmp (view->parties [i].party, party) == 0)
            return &view->parties [i];
    return NULL;
}

static const candidate_view_t *
s_candidate (const seat_view_t *view, const char *party)
{
    for (size_t i = 0; i < view->n_candidates; i++)
        if (strcmp (view->candidates [i].party, party) == 0)
            return &view->candidates [i];
    return NULL;
}

static double
s_round1 (double value)
{
    return round (value * 10.0) / 10.0;
}

static void
s_expect_party (const scope_view_t *view, const char *party, int seats, int change)
{
    const party_view_t *line = s_party (view, party);
    if (!line)
        fail_msg ("%s: no line for %s", view->scope, party);
    if (line->seats != seats || line->change != change)
        fail_msg ("%s %s: %d seats %+d, expected %d %+d", view->scope, party,
                  line->seats, line->change, seats, change);
}

//  A copy of every scope's figures, to check that something left them alone
//  or that a sequence of revisions restored them exactly.
#define SNAP_SCOPES 16
#define SNAP_PARTIES 200

typedef struct {
    size_t declared;
    uint64_t total_votes;
    size_t n_parties;
    party_view_t parties [SNAP_PARTIES];
    char names [SNAP_PARTIES][16];  //  copies: the snapshot may outlive its tally
    bool has_swing;
    double swing;
} scope_copy_t;

typedef struct {
    size_t n_scopes;
    size_t declared;
    scope_copy_t scopes [SNAP_SCOPES];
} snapshot_t;

static void
s_snapshot (tally_t *tally, snapshot_t *snap)
{
    memset (snap, 0, sizeof (snapshot_t));
    snap->declared = tally_declared (tally);
    snap->n_scopes = tally_scope_count (tally);
    assert_true (snap->n_scopes <= SNAP_SCOPES);
    for (size_t s = 0; s < snap->n_scopes; s++) {
        scope_view_t view;
        tally_scope (tally, s, &view);
        scope_copy_t *copy = &snap->scopes [s];
        copy->declared = view.declared;
        copy->total_votes = view.total_votes;
        copy->n_parties = view.n_parties;
        copy->has_swing = view.has_swing;
        copy->swing = view.swing;
        assert_true (view.n_parties <= SNAP_PARTIES);
        memcpy (copy->parties, view.parties, view.n_parties * sizeof (party_view_t));
        for (size_t p = 0; p < view.n_parties; p++) {
            snprintf (copy->names [p], sizeof copy->names [p], "%s", view.parties [p].party);
            copy->parties [p].party = copy->names [p];
        }
    }
}

static void
s_expect_snapshot (tally_t *tally, const snapshot_t *before)
{
    snapshot_t now;
    s_snapshot (tally, &now);
    assert_int_equal (now.declared, before->declared);
    assert_int_equal (now.n_scopes, before->n_scopes);
    for (size_t s = 0; s < now.n_scopes; s++) {
        const scope_copy_t *a = &before->scopes [s], *b = &now.scopes [s];
        assert_int_equal (b->declared, a->declared);
        assert_int_equal (b->total_votes, a->total_votes);
        assert_int_equal (b->n_parties, a->n_parties);
        assert_int_equal (b->has_swing, a->has_swing);
        assert_true (fabs (b->swing - a->swing) < 1e-9);
        for (size_t p = 0; p < a->n_parties; p++) {
            assert_string_equal (b->parties [p].party, a->parties [p].party);
            assert_int_equal (b->parties [p].seats, a->parties [p].seats);
            assert_int_equal (b->parties [p].change, a->parties [p].change);
            assert_int_equal (b->parties [p].votes, a->parties [p].votes);
            assert_true (fabs (b->parties [p].share - a->parties [p].share) < 1e-9);
            assert_true (fabs (b->parties [p].share_change - a->parties [p].share_change) < 1e-9);
        }
    }
}

static void
s_uk (tally_t *tally, scope_view_t *view)
{
    long uk = tally_scope_find (tally, "UK");
    assert_int_equal (uk, 0);
    tally_scope (tally, (size_t) uk, view);
}


//  ---------------------------------------------------------------------
//  The 2017 night against the 2015 baseline

static void
test_luton_north (void **state)
{
    tally_t *tally = s_tally_all (*state, &s_bbc);
    long index = tally_seat_find (tally, LUTON_NORTH);
    assert_true (index >= 0);
    seat_view_t seat;
    tally_seat (tally, (size_t) index, &seat);
    assert_string_equal (seat.ons_id, LUTON_NORTH);
    assert_string_equal (seat.name, "Luton North");
    assert_string_equal (seat.country, "England");
    assert_string_equal (seat.region, "East");
    assert_true (seat.declared);
    assert_int_equal (seat.revision, 1);
    assert_int_equal (seat.kind, DECL_RESULT);
    assert_string_equal (seat.winner, "Lab");
    assert_string_equal (seat.previous_winner, "Lab");
    assert_false (seat.gain);
    assert_int_equal (seat.majority, 14364);
    assert_int_equal (seat.electorate, 66811);
    assert_int_equal (seat.valid_votes, 29765 + 15401 + 808 + 648);
    assert_true (fabs (seat.turnout - 69.78) < 0.01);
    assert_int_equal (seat.n_candidates, 4);

    //  Most votes first; the winner is flagged
    assert_string_equal (seat.candidates [0].party, "Lab");
    assert_string_equal (seat.candidates [0].name, "Kelvin Hopkins");
    assert_true (seat.candidates [0].elected);
    for (size_t i = 1; i < seat.n_candidates; i++) {
        assert_false (seat.candidates [i].elected);
        assert_true (seat.candidates [i].votes <= seat.candidates [i - 1].votes);
    }
    struct { const char *party; double share, change; } expect [] = {
        { "Lab", 63.8, 11.6 }, { "Con", 33.0, 3.1 }, { "LD", 1.7, -1.3 }, { "Green", 1.4, -0.9 }
    };
    for (size_t i = 0; i < 4; i++) {
        const candidate_view_t *cand = s_candidate (&seat, expect [i].party);
        assert_non_null (cand);
        assert_true (cand->has_share_change);
        assert_true (fabs (s_round1 (cand->share) - expect [i].share) < 1e-9);
        assert_true (fabs (s_round1 (cand->share_change) - expect [i].change) < 1e-9);
    }
    tally_destroy (&tally);
    assert_null (tally);
}

static void
test_share_change_needs_one_candidate (void **state)
{
    tally_t *tally = s_tally_all (*state, &s_bbc);
    seat_view_t seat;
    tally_seat (tally, (size_t) tally_seat_find (tally, BATLEY), &seat);
    size_t independents = 0;
    for (size_t i = 0; i < seat.n_candidates; i++) {
        const candidate_view_t *cand = &seat.candidates [i];
        if (strcmp (cand->party, "Ind") == 0) {
            //  Two Ind candidates: no share change for either
            independents++;
            assert_false (cand->has_share_change);
            assert_true (cand->share > 0);
        }
        else
            assert_true (cand->has_share_change);
    }
    assert_int_equal (independents, 2);
    tally_destroy (&tally);
}

static void
test_speaker_attribution (void **state)
{
    tally_t *tally = s_tally_all (*state, &s_bbc);
    seat_view_t seat;
    tally_seat (tally, (size_t) tally_seat_find (tally, BUCKINGHAM), &seat);
    assert_string_equal (seat.winner, "Con");
    assert_string_equal (seat.previous_winner, "Con");
    assert_false (seat.gain);
    assert_string_equal (seat.candidates [0].party, "Con");
    assert_string_equal (seat.candidates [0].name, "John Bercow");
    tally_destroy (&tally);

    tally = s_tally_all (*state, NULL);
    tally_seat (tally, (size_t) tally_seat_find (tally, BUCKINGHAM), &seat);
    assert_string_equal (seat.winner, "Speaker");
    assert_string_equal (seat.previous_winner, "Speaker");
    assert_string_equal (seat.candidates [0].party, "Speaker");
    tally_destroy (&tally);
}

static void
test_uk_totals (void **state)
{
    tally_t *tally = s_tally_all (*state, &s_bbc);
    assert_int_equal (tally_seats_total (tally), 650);
    assert_int_equal (tally_declared (tally), 650);
    scope_view_t uk;
    s_uk (tally, &uk);
    assert_string_equal (uk.scope, "UK");
    assert_int_equal (uk.declared, 650);
    assert_int_equal (uk.seats_total, 650);
    assert_int_equal (uk.majority_line, 326);
    s_expect_party (&uk, "Con", 318, -13);
    s_expect_party (&uk, "Lab", 262, 30);
    s_expect_party (&uk, "SNP", 35, -21);
    s_expect_party (&uk, "LD", 12, 4);
    s_expect_party (&uk, "DUP", 10, 2);
    assert_null (s_party (&uk, "Speaker"));

    int seats = 0, change = 0, rest_seats = 0, rest_change = 0;
    uint64_t votes = 0;
    double share = 0;
    const char *big [] = { "Con", "Lab", "SNP", "LD", "DUP" };
    for (size_t i = 0; i < uk.n_parties; i++) {
        const party_view_t *line = &uk.parties [i];
        seats += line->seats;
        change += line->change;
        votes += line->votes;
        share += line->share;
        bool is_big = false;
        for (size_t b = 0; b < 5; b++)
            is_big |= strcmp (line->party, big [b]) == 0;
        if (!is_big) {
            rest_seats += line->seats;
            rest_change += line->change;
        }
        //  Listed: seats, change or votes; sorted seats, votes, name
        assert_true (line->seats || line->change || line->votes);
        if (i > 0) {
            const party_view_t *prev = &uk.parties [i - 1];
            assert_true (prev->seats > line->seats
                     || (prev->seats == line->seats && prev->votes > line->votes)
                     || (prev->seats == line->seats && prev->votes == line->votes
                         && strcmp (prev->party, line->party) < 0));
        }
    }
    assert_int_equal (seats, 650);
    assert_int_equal (change, 0);
    assert_int_equal (rest_seats, 13);
    assert_int_equal (rest_change, -2);
    assert_int_equal (votes, uk.total_votes);
    assert_true (fabs (share - 100.0) < 1e-6);
    //  UKIP lost its seat: listed with no seats but a change
    s_expect_party (&uk, "UKIP", 0, -1);
    //  Both Con and Lab gained share on 2015; Lab by more
    assert_true (uk.has_swing);
    assert_string_equal (uk.swing_from, "Con");
    assert_string_equal (uk.swing_to, "Lab");
    const party_view_t *con = s_party (&uk, "Con"), *lab = s_party (&uk, "Lab");
    assert_true (con->share_change > 0 && lab->share_change > con->share_change);
    assert_true (fabs (uk.swing - (lab->share_change - con->share_change) / 2) < 1e-9);
    tally_destroy (&tally);

    tally = s_tally_all (*state, NULL);
    s_uk (tally, &uk);
    s_expect_party (&uk, "Con", 317, -13);
    s_expect_party (&uk, "Speaker", 1, 0);
    s_expect_party (&uk, "Lab", 262, 30);
    tally_destroy (&tally);
}

static void
test_scopes (void **state)
{
    tally_t *tally = s_tally_all (*state, &s_bbc);
    //  UK, 4 countries, England's 9 regions
    assert_int_equal (tally_scope_count (tally), 14);
    assert_int_equal (tally_scope_find (tally, "UK"), 0);
    assert_int_equal (tally_scope_find (tally, "Atlantis"), -1);
    assert_int_equal (tally_scope_find (tally, NULL), -1);

    long scotland = tally_scope_find (tally, "Scotland");
    assert_true (scotland > 0 && scotland <= 4);
    scope_view_t view;
    tally_scope (tally, (size_t) scotland, &view);
    assert_string_equal (view.scope, "Scotland");
    assert_int_equal (view.seats_total, 59);
    assert_int_equal (view.declared, 59);
    assert_int_equal (view.majority_line, 30);
    s_expect_party (&view, "SNP", 35, -21);
    s_expect_party (&view, "Con", 13, 12);
    s_expect_party (&view, "Lab", 7, 6);
    s_expect_party (&view, "LD", 4, 3);
    assert_string_equal (view.parties [0].party, "SNP");
    assert_true (view.has_swing);
    assert_string_equal (view.swing_from, "SNP");

    long east = tally_scope_find (tally, "East");
    assert_true (east > 4);
    tally_scope (tally, (size_t) east, &view);
    assert_string_equal (view.scope, "East");
    assert_int_equal (view.seats_total, 58);
    assert_int_equal (view.declared, 58);

    //  Wales is a country and its own region: one scope
    long wales = tally_scope_find (tally, "Wales");
    assert_true (wales > 0 && wales <= 4);
    tally_scope (tally, (size_t) wales, &view);
    assert_int_equal (view.seats_total, 40);

    size_t scopes [3];
    size_t n = tally_seat_scopes (tally, (size_t) tally_seat_find (tally, LUTON_NORTH), scopes);
    assert_int_equal (n, 3);
    assert_int_equal (scopes [0], 0);
    assert_int_equal (scopes [1], tally_scope_find (tally, "England"));
    assert_int_equal (scopes [2], east);
    n = tally_seat_scopes (tally, (size_t) tally_seat_find (tally, "W07000049"), scopes);
    assert_int_equal (n, 2);
    assert_int_equal (scopes [1], wales);

    //  Seats of the scopes add up
    size_t total = 0;
    for (size_t s = 1; s <= 4; s++) {
        tally_scope (tally, s, &view);
        total += view.seats_total;
    }
    assert_int_equal (total, 650);
    tally_destroy (&tally);
}

static void
test_partial_night (void **state)
{
    fixture_t *fixture = *state;
    tally_t *tally = tally_new (fixture->ge2015, &s_bbc);
    assert_non_null (tally);
    scope_view_t uk;
    s_uk (tally, &uk);
    assert_int_equal (uk.declared, 0);
    assert_int_equal (uk.seats_total, 650);
    assert_int_equal (uk.n_parties, 0);
    assert_false (uk.has_swing);

    seat_view_t seat;
    long luton = tally_seat_find (tally, LUTON_NORTH);
    tally_seat (tally, (size_t) luton, &seat);
    assert_false (seat.declared);
    assert_null (seat.winner);
    assert_string_equal (seat.previous_winner, "Lab");
    assert_int_equal (seat.n_candidates, 0);

    //  After Luton North alone, the UK share change is the seat's
    s_apply_seat (tally, fixture->ge2017, LUTON_NORTH, 1);
    tally_seat (tally, (size_t) luton, &seat);
    s_uk (tally, &uk);
    assert_int_equal (uk.declared, 1);
    assert_int_equal (tally_declared (tally), 1);
    assert_int_equal (uk.total_votes, seat.valid_votes);
    const char *parties [] = { "Lab", "Con", "LD", "Green" };
    for (size_t i = 0; i < 4; i++) {
        const party_view_t *line = s_party (&uk, parties [i]);
        const candidate_view_t *cand = s_candidate (&seat, parties [i]);
        assert_non_null (line);
        assert_true (fabs (line->share - cand->share) < 1e-9);
        assert_true (fabs (line->share_change - cand->share_change) < 1e-9);
    }
    s_expect_party (&uk, "Lab", 1, 0);
    assert_int_equal (uk.n_parties, 4);
    assert_true (uk.has_swing);

    //  A second seat, a gain: Lab from Con in Canterbury
    s_apply_seat (tally, fixture->ge2017, "E14000619", 1);
    s_uk (tally, &uk);
    assert_int_equal (uk.declared, 2);
    s_expect_party (&uk, "Lab", 2, 1);
    s_expect_party (&uk, "Con", 0, -1);
    tally_seat (tally, (size_t) tally_seat_find (tally, "E14000619"), &seat);
    assert_true (seat.gain);
    assert_string_equal (seat.winner, "Lab");
    assert_string_equal (seat.previous_winner, "Con");
    tally_destroy (&tally);
}


//  ---------------------------------------------------------------------
//  Revisions

//  Luton North's 2017 candidates with Lab's and Con's votes swapped.
static void
s_luton_flipped (const seat_result_t *seat, candidate_t *out)
{
    memcpy (out, seat->candidates, seat->n_candidates * sizeof (candidate_t));
    for (size_t i = 0; i < seat->n_candidates; i++) {
        if (strcmp (out [i].party, "Lab") == 0)
            out [i].votes = 15401;
        else
        if (strcmp (out [i].party, "Con") == 0)
            out [i].votes = 29765;
    }
}

static void
test_revision_flips_seat (void **state)
{
    fixture_t *fixture = *state;
    tally_t *tally = s_tally_all (fixture, &s_bbc);
    snapshot_t before;
    s_snapshot (tally, &before);

    const seat_result_t *luton = results_find (fixture->ge2017, LUTON_NORTH);
    candidate_t flipped [8];
    s_luton_flipped (luton, flipped);
    declaration_t decl = s_decl (luton, 2);
    decl.candidates = flipped;
    decl.reason = REVISION_RECOUNT;
    tally_verdict_t verdict;
    assert_int_equal (tally_apply (tally, &decl, &verdict), TALLY_ACCEPTED);
    assert_int_equal (verdict.seat, (size_t) tally_seat_find (tally, LUTON_NORTH));

    seat_view_t seat;
    tally_seat (tally, verdict.seat, &seat);
    assert_string_equal (seat.winner, "Con");
    assert_true (seat.gain);
    assert_int_equal (seat.revision, 2);
    assert_int_equal (seat.reason, REVISION_RECOUNT);
    assert_int_equal (seat.majority, 14364);
    assert_int_equal (tally_declared (tally), 650);

    scope_view_t uk;
    s_uk (tally, &uk);
    assert_int_equal (uk.declared, 650);
    s_expect_party (&uk, "Con", 319, -12);
    s_expect_party (&uk, "Lab", 261, 29);
    scope_view_t east;
    tally_scope (tally, (size_t) tally_scope_find (tally, "East"), &east);
    const party_view_t *lab_east = s_party (&east, "Lab");
    assert_non_null (lab_east);
    assert_int_equal (east.declared, 58);

    //  Revision 3 flips it back: every figure exactly as before
    decl = s_decl (luton, 3);
    assert_int_equal (tally_apply (tally, &decl, &verdict), TALLY_ACCEPTED);
    s_expect_snapshot (tally, &before);
    tally_seat (tally, verdict.seat, &seat);
    assert_string_equal (seat.winner, "Lab");
    assert_false (seat.gain);
    assert_int_equal (seat.revision, 3);
    tally_destroy (&tally);
}

static void
test_duplicate (void **state)
{
    fixture_t *fixture = *state;
    tally_t *tally = s_tally_all (fixture, &s_bbc);
    snapshot_t before;
    s_snapshot (tally, &before);

    const seat_result_t *luton = results_find (fixture->ge2017, LUTON_NORTH);
    declaration_t decl = s_decl (luton, 1);
    tally_verdict_t verdict;
    assert_int_equal (tally_apply (tally, &decl, &verdict), TALLY_DUPLICATE);
    assert_int_equal (verdict.status, TALLY_DUPLICATE);
    assert_int_equal (verdict.reason, EL_REASON_NONE);
    assert_non_null (strstr (verdict.text, LUTON_NORTH));
    s_expect_snapshot (tally, &before);

    //  The same candidates in another order are the same declaration
    candidate_t reversed [8];
    for (size_t i = 0; i < luton->n_candidates; i++)
        reversed [i] = luton->candidates [luton->n_candidates - 1 - i];
    decl.candidates = reversed;
    assert_int_equal (tally_apply (tally, &decl, &verdict), TALLY_DUPLICATE);
    s_expect_snapshot (tally, &before);

    //  A timestamp or reason that differ do not make new figures
    decl.declared_at_ms += 1000;
    decl.reason = REVISION_RECOUNT;
    assert_int_equal (tally_apply (tally, &decl, &verdict), TALLY_DUPLICATE);
    s_expect_snapshot (tally, &before);
    tally_destroy (&tally);
}

static void
test_conflict_stale_bad_revision (void **state)
{
    fixture_t *fixture = *state;
    tally_t *tally = s_tally_all (fixture, &s_bbc);
    snapshot_t before;
    s_snapshot (tally, &before);

    const seat_result_t *luton = results_find (fixture->ge2017, LUTON_NORTH);
    candidate_t changed [8];
    memcpy (changed, luton->candidates, luton->n_candidates * sizeof (candidate_t));
    changed [0].votes -= 10;
    declaration_t decl = s_decl (luton, 1);
    decl.candidates = changed;
    tally_verdict_t verdict;
    assert_int_equal (tally_apply (tally, &decl, &verdict), TALLY_REJECTED);
    assert_int_equal (verdict.reason, EL_REASON_REVISION_CONFLICT);
    assert_non_null (strstr (verdict.text, LUTON_NORTH));
    assert_non_null (strstr (verdict.text, "rev 1"));
    s_expect_snapshot (tally, &before);

    //  A different electorate is a conflict too
    decl = s_decl (luton, 1);
    decl.electorate += 1;
    assert_int_equal (tally_apply (tally, &decl, &verdict), TALLY_REJECTED);
    assert_int_equal (verdict.reason, EL_REASON_REVISION_CONFLICT);
    s_expect_snapshot (tally, &before);

    //  Revision 2 accepted, then revision 1 (even identical to the old) is stale
    decl = s_decl (luton, 2);
    decl.candidates = changed;
    assert_int_equal (tally_apply (tally, &decl, &verdict), TALLY_ACCEPTED);
    s_snapshot (tally, &before);
    decl = s_decl (luton, 1);
    assert_int_equal (tally_apply (tally, &decl, &verdict), TALLY_REJECTED);
    assert_int_equal (verdict.reason, EL_REASON_STALE_REVISION);
    s_expect_snapshot (tally, &before);

    decl = s_decl (luton, 0);
    assert_int_equal (tally_apply (tally, &decl, &verdict), TALLY_REJECTED);
    assert_int_equal (verdict.reason, EL_REASON_BAD_REVISION);
    s_expect_snapshot (tally, &before);
    tally_destroy (&tally);

    //  A first declaration may come at any revision of 1 or more
    tally = tally_new (fixture->ge2015, &s_bbc);
    decl = s_decl (luton, 4);
    assert_int_equal (tally_apply (tally, &decl, &verdict), TALLY_ACCEPTED);
    decl = s_decl (luton, 0);
    assert_int_equal (tally_apply (tally, &decl, &verdict), TALLY_REJECTED);
    assert_int_equal (verdict.reason, EL_REASON_BAD_REVISION);
    tally_destroy (&tally);
}

static void
test_retraction (void **state)
{
    fixture_t *fixture = *state;
    tally_t *tally = tally_new (fixture->ge2015, &s_bbc);
    assert_non_null (tally);
    s_apply_seat (tally, fixture->ge2017, "E14000619", 1);
    s_apply_seat (tally, fixture->ge2017, "S14000001", 1);
    snapshot_t before;
    s_snapshot (tally, &before);

    //  Retraction of a seat never declared
    declaration_t retract = {
        .ons_id = LUTON_NORTH, .revision = 2, .reason = REVISION_RETRACTION
    };
    tally_verdict_t verdict;
    assert_int_equal (tally_apply (tally, &retract, &verdict), TALLY_REJECTED);
    assert_int_equal (verdict.reason, EL_REASON_NOT_DECLARED);
    s_expect_snapshot (tally, &before);

    s_apply_seat (tally, fixture->ge2017, LUTON_NORTH, 1);
    assert_int_equal (tally_declared (tally), 3);

    //  Withdrawn: every total back to as before, declared count down
    assert_int_equal (tally_apply (tally, &retract, &verdict), TALLY_ACCEPTED);
    s_expect_snapshot (tally, &before);
    assert_int_equal (tally_declared (tally), 2);
    seat_view_t seat;
    tally_seat (tally, verdict.seat, &seat);
    assert_false (seat.declared);
    assert_int_equal (seat.revision, 2);
    assert_int_equal (seat.reason, REVISION_RETRACTION);
    assert_null (seat.winner);
    assert_int_equal (seat.n_candidates, 0);

    //  The same retraction again is a duplicate; retracting again is refused
    assert_int_equal (tally_apply (tally, &retract, &verdict), TALLY_DUPLICATE);
    retract.revision = 3;
    assert_int_equal (tally_apply (tally, &retract, &verdict), TALLY_REJECTED);
    assert_int_equal (verdict.reason, EL_REASON_NOT_DECLARED);
    s_expect_snapshot (tally, &before);

    //  A later declaration must exceed the retraction's revision
    const seat_result_t *luton = results_find (fixture->ge2017, LUTON_NORTH);
    declaration_t decl = s_decl (luton, 1);
    assert_int_equal (tally_apply (tally, &decl, &verdict), TALLY_REJECTED);
    assert_int_equal (verdict.reason, EL_REASON_STALE_REVISION);
    decl.revision = 2;
    assert_int_equal (tally_apply (tally, &decl, &verdict), TALLY_REJECTED);
    assert_int_equal (verdict.reason, EL_REASON_REVISION_CONFLICT);
    s_expect_snapshot (tally, &before);
    decl.revision = 3;
    assert_int_equal (tally_apply (tally, &decl, &verdict), TALLY_ACCEPTED);
    assert_int_equal (tally_declared (tally), 3);
    tally_seat (tally, verdict.seat, &seat);
    assert_true (seat.declared);
    assert_string_equal (seat.winner, "Lab");

    //  A stale retraction is refused
    retract.revision = 3;
    assert_int_equal (tally_apply (tally, &retract, &verdict), TALLY_REJECTED);
    assert_int_equal (verdict.reason, EL_REASON_REVISION_CONFLICT);
    retract.revision = 1;
    assert_int_equal (tally_apply (tally, &retract, &verdict), TALLY_REJECTED);
    assert_int_equal (verdict.reason, EL_REASON_STALE_REVISION);

    //  Retracting everything leaves an empty night
    retract.revision = 9;
    assert_int_equal (tally_apply (tally, &retract, &verdict), TALLY_ACCEPTED);
    retract.ons_id = "E14000619";
    assert_int_equal (tally_apply (tally, &retract, &verdict), TALLY_ACCEPTED);
    retract.ons_id = "S14000001";
    assert_int_equal (tally_apply (tally, &retract, &verdict), TALLY_ACCEPTED);
    assert_int_equal (tally_declared (tally), 0);
    scope_view_t uk;
    s_uk (tally, &uk);
    assert_int_equal (uk.declared, 0);
    assert_int_equal (uk.total_votes, 0);
    assert_int_equal (uk.n_parties, 0);
    assert_false (uk.has_swing);
    tally_destroy (&tally);
}

static void
test_rush (void **state)
{
    fixture_t *fixture = *state;
    tally_t *tally = tally_new (fixture->ge2015, &s_bbc);
    assert_non_null (tally);
    s_apply_seat (tally, fixture->ge2017, "E14000619", 1);
    snapshot_t before;
    s_snapshot (tally, &before);

    candidate_t winner = { .name = "Kelvin Hopkins", .party = "Lab", .votes = 0 };
    declaration_t rush = {
        .ons_id = LUTON_NORTH, .revision = 1, .kind = DECL_RUSH,
        .electorate = 66811, .candidates = &winner, .n_candidates = 1
    };
    tally_verdict_t verdict;

    //  Not exactly one candidate
    rush.n_candidates = 0;
    assert_int_equal (tally_apply (tally, &rush, &verdict), TALLY_REJECTED);
    assert_int_equal (verdict.reason, EL_REASON_BAD_RUSH);
    const seat_result_t *luton = results_find (fixture->ge2017, LUTON_NORTH);
    rush.candidates = luton->candidates;
    rush.n_candidates = luton->n_candidates;
    assert_int_equal (tally_apply (tally, &rush, &verdict), TALLY_REJECTED);
    assert_int_equal (verdict.reason, EL_REASON_BAD_RUSH);
    s_expect_snapshot (tally, &before);

    //  Counted for seats, not votes
    rush.candidates = &winner;
    rush.n_candidates = 1;
    assert_int_equal (tally_apply (tally, &rush, &verdict), TALLY_ACCEPTED);
    assert_int_equal (tally_declared (tally), 2);
    seat_view_t seat;
    tally_seat (tally, verdict.seat, &seat);
    assert_true (seat.declared);
    assert_int_equal (seat.kind, DECL_RUSH);
    assert_string_equal (seat.winner, "Lab");
    assert_false (seat.gain);
    assert_int_equal (seat.majority, 0);
    assert_int_equal (seat.valid_votes, 0);
    assert_true (seat.turnout == 0.0);
    assert_int_equal (seat.n_candidates, 1);
    assert_true (seat.candidates [0].elected);
    assert_true (seat.candidates [0].share == 0.0);
    assert_false (seat.candidates [0].has_share_change);
    scope_view_t uk;
    s_uk (tally, &uk);
    assert_int_equal (uk.declared, 2);
    assert_int_equal (uk.total_votes, before.scopes [0].total_votes);
    s_expect_party (&uk, "Lab", 2, 1);

    //  The same rush again is a duplicate; another winner at the same revision conflicts
    assert_int_equal (tally_apply (tally, &rush, &verdict), TALLY_DUPLICATE);
    candidate_t other = { .name = "Caroline Kerswell", .party = "Con" };
    rush.candidates = &other;
    assert_int_equal (tally_apply (tally, &rush, &verdict), TALLY_REJECTED);
    assert_int_equal (verdict.reason, EL_REASON_REVISION_CONFLICT);
    rush.candidates = &winner;

    //  The full result at the same revision replaces the rush
    s_apply_seat (tally, fixture->ge2017, LUTON_NORTH, 1);
    assert_int_equal (tally_declared (tally), 2);
    tally_seat (tally, verdict.seat, &seat);
    assert_int_equal (seat.kind, DECL_RESULT);
    assert_int_equal (seat.majority, 14364);
    s_uk (tally, &uk);
    s_expect_party (&uk, "Lab", 2, 1);
    assert_int_equal (uk.total_votes, before.scopes [0].total_votes + seat.valid_votes);

    //  A rush no later than the full result is stale
    assert_int_equal (tally_apply (tally, &rush, &verdict), TALLY_REJECTED);
    assert_int_equal (verdict.reason, EL_REASON_STALE_REVISION);
    tally_destroy (&tally);

    //  A rush for a gain counts the change, and its result at a higher revision
    //  replaces it; the same totals as the result alone
    tally = tally_new (fixture->ge2015, &s_bbc);
    candidate_t lab = { .name = "Rosie Duffield", .party = "Lab" };
    rush.ons_id = "E14000619";
    rush.candidates = &lab;
    assert_int_equal (tally_apply (tally, &rush, &verdict), TALLY_ACCEPTED);
    s_uk (tally, &uk);
    s_expect_party (&uk, "Lab", 1, 1);
    s_expect_party (&uk, "Con", 0, -1);
    assert_false (uk.has_swing);
    s_apply_seat (tally, fixture->ge2017, "E14000619", 2);
    s_expect_snapshot (tally, &before);
    tally_destroy (&tally);
}

//  Every refusal leaves the figures alone and names seat and revision.
static void
s_expect_rejected (tally_t *tally, const declaration_t *decl, el_reason_t reason)
{
    snapshot_t before;
    s_snapshot (tally, &before);
    tally_verdict_t verdict;
    assert_int_equal (tally_apply (tally, decl, &verdict), TALLY_REJECTED);
    if (verdict.reason != reason)
        fail_msg ("expected %s, got %s (%s)", el_reason_text (reason),
                  el_reason_text (verdict.reason), verdict.text);
    assert_int_equal (verdict.status, TALLY_REJECTED);
    if (decl->ons_id)
        assert_non_null (strstr (verdict.text, decl->ons_id));
    char rev [32];
    snprintf (rev, sizeof rev, "rev %u", decl->revision);
    assert_non_null (strstr (verdict.text, rev));
    s_expect_snapshot (tally, &before);
}

static void
test_rejections (void **state)
{
    fixture_t *fixture = *state;
    tally_t *tally = tally_new (fixture->ge2015, &s_bbc);
    assert_non_null (tally);
    for (size_t i = 0; i < 100; i++) {
        declaration_t decl = s_decl (&fixture->ge2017->seats [i], 1);
        assert_int_equal (s_apply (tally, &decl, NULL), TALLY_ACCEPTED);
    }
    const seat_result_t *luton = results_find (fixture->ge2017, LUTON_NORTH);
    candidate_t cands [8];
    memcpy (cands, luton->candidates, luton->n_candidates * sizeof (candidate_t));
    declaration_t decl = s_decl (luton, 1);
    decl.candidates = cands;

    declaration_t bad = decl;
    bad.ons_id = "E99999999";
    s_expect_rejected (tally, &bad, EL_REASON_UNKNOWN_SEAT);
    tally_verdict_t verdict;
    bad.ons_id = NULL;
    assert_int_equal (tally_apply (tally, &bad, &verdict), TALLY_REJECTED);
    assert_int_equal (verdict.reason, EL_REASON_UNKNOWN_SEAT);

    bad = decl;
    bad.n_candidates = 0;
    s_expect_rejected (tally, &bad, EL_REASON_NO_CANDIDATES);

    bad = decl;
    bad.electorate = 0;
    s_expect_rejected (tally, &bad, EL_REASON_BAD_ELECTORATE);

    bad = decl;
    bad.electorate = 40000;
    s_expect_rejected (tally, &bad, EL_REASON_VOTES_EXCEED_ELECTORATE);

    //  Votes that would overflow 32 bits still exceed the electorate
    candidate_t huge [2] = {
        { .name = "A", .party = "Lab", .votes = UINT32_MAX },
        { .name = "B", .party = "Con", .votes = 2 }
    };
    bad = decl;
    bad.candidates = huge;
    bad.n_candidates = 2;
    bad.electorate = UINT32_MAX;
    s_expect_rejected (tally, &bad, EL_REASON_VOTES_EXCEED_ELECTORATE);

    candidate_t twice [5];
    memcpy (twice, cands, 4 * sizeof (candidate_t));
    twice [4] = cands [1];
    twice [4].votes = 5;
    bad = decl;
    bad.candidates = twice;
    bad.n_candidates = 5;
    s_expect_rejected (tally, &bad, EL_REASON_DUPLICATE_CANDIDATE);

    //  Without names (party totals), the same party twice is a duplicate;
    //  with names, two candidates of one party are not
    candidate_t nameless [3] = {
        { .name = "", .party = "Lab", .votes = 100 },
        { .name = "", .party = "Ind", .votes = 50 },
        { .name = "", .party = "Ind", .votes = 40 }
    };
    bad = decl;
    bad.candidates = nameless;
    bad.n_candidates = 3;
    s_expect_rejected (tally, &bad, EL_REASON_DUPLICATE_CANDIDATE);
    nameless [1].name = NULL;       //  absent name and empty name are the same
    nameless [2].name = NULL;
    s_expect_rejected (tally, &bad, EL_REASON_DUPLICATE_CANDIDATE);

    bad = decl;
    cands [2].party = "";
    s_expect_rejected (tally, &bad, EL_REASON_EMPTY_PARTY);
    cands [2].party = NULL;
    s_expect_rejected (tally, &bad, EL_REASON_EMPTY_PARTY);
    cands [2] = luton->candidates [2];

    candidate_t tie [3] = {
        { .name = "A", .party = "Lab", .votes = 20000 },
        { .name = "B", .party = "Con", .votes = 20000 },
        { .name = "C", .party = "LD", .votes = 100 }
    };
    bad = decl;
    bad.candidates = tie;
    bad.n_candidates = 3;
    s_expect_rejected (tally, &bad, EL_REASON_TIE_WITHOUT_ELECTED);
    tie [0].elected = tie [1].elected = true;
    s_expect_rejected (tally, &bad, EL_REASON_TIE_WITHOUT_ELECTED);
    //  A flag outside the tie does not break it
    tie [0].elected = tie [1].elected = false;
    tie [2].elected = true;
    s_expect_rejected (tally, &bad, EL_REASON_TIE_WITHOUT_ELECTED);

    bad = decl;
    bad.kind = (decl_kind_t) 7;
    s_expect_rejected (tally, &bad, EL_REASON_MALFORMED);

    candidate_t rush_party = { .name = "A", .party = "" };
    bad = decl;
    bad.kind = DECL_RUSH;
    bad.candidates = &rush_party;
    bad.n_candidates = 1;
    s_expect_rejected (tally, &bad, EL_REASON_EMPTY_PARTY);

    bad = decl;
    bad.revision = 0;
    s_expect_rejected (tally, &bad, EL_REASON_BAD_REVISION);

    declaration_t retract = { .ons_id = LUTON_NORTH, .revision = 1, .reason = REVISION_RETRACTION };
    s_expect_rejected (tally, &retract, EL_REASON_NOT_DECLARED);

    //  After all that, the seat is still free to declare; a tie with the
    //  winner flagged is accepted, with majority 0
    tie [2].elected = false;
    tie [1].elected = true;
    bad = decl;
    bad.candidates = tie;
    bad.n_candidates = 3;
    assert_int_equal (tally_apply (tally, &bad, &verdict), TALLY_ACCEPTED);
    seat_view_t seat;
    tally_seat (tally, verdict.seat, &seat);
    assert_string_equal (seat.winner, "Con");
    assert_true (seat.gain);
    assert_int_equal (seat.majority, 0);
    assert_string_equal (seat.candidates [0].party, "Con");
    assert_true (seat.candidates [0].elected);
    assert_false (seat.candidates [1].elected);
    //  The tie-break flag is part of the content
    tie [1].elected = false;
    tie [0].elected = true;
    s_expect_rejected (tally, &bad, EL_REASON_REVISION_CONFLICT);
    tally_destroy (&tally);

    //  No baseline, no tally; destroy is NULL-safe
    results_t empty = { 0 };
    assert_null (tally_new (&empty, NULL));
    assert_null (tally_new (NULL, NULL));
    tally_destroy (&tally);
}


//  ---------------------------------------------------------------------
//  A synthetic 200,000-seat baseline

#define BIG_SEATS 200000
#define BIG_APPLIED 5000

static const char *s_big_parties [] = { "Red", "Blue", "Yellow", "Green" };
static const char *s_big_regions [] = { "North", "South", "East", "West", "Isles" };

static results_t *
s_big_baseline (void)
{
    results_t *results = calloc (1, sizeof (results_t));
    assert_non_null (results);
    results->seats = calloc (BIG_SEATS, sizeof (seat_result_t));
    assert_non_null (results->seats);
    results->n_seats = BIG_SEATS;
    for (size_t i = 0; i < BIG_SEATS; i++) {
        seat_result_t *seat = &results->seats [i];
        char text [32];
        snprintf (text, sizeof text, "X%08zu", i);
        seat->ons_id = strdup (text);
        snprintf (text, sizeof text, "Seat %zu", i);
        seat->name = strdup (text);
        //  Two countries; the second is its own region
        seat->country = strdup (i % 5 == 4? "Isles": "Mainland");
        seat->region = strdup (s_big_regions [i % 5]);
        seat->electorate = 70000;
        seat->n_candidates = 3;
        seat->candidates = calloc (3, sizeof (candidate_t));
        assert_non_null (seat->candidates);
        for (size_t c = 0; c < 3; c++) {
            seat->candidates [c].name = strdup ("");
            //  Red wins the even seats, Blue the odd ones
            seat->candidates [c].party = strdup (s_big_parties [(i + c) % 2 + (c == 2) * 2]);
            seat->candidates [c].votes = (uint32_t) (20000 - c * 5000);
        }
    }
    return results;
}

static void
s_big_free (results_t *results)
{
    for (size_t i = 0; i < results->n_seats; i++) {
        seat_result_t *seat = &results->seats [i];
        for (size_t c = 0; c < seat->n_candidates; c++) {
            free (seat->candidates [c].name);
            free (seat->candidates [c].party);
        }
        free (seat->candidates);
        free (seat->ons_id);
        free (seat->name);
        free (seat->country);
        free (seat->region);
    }
    free (results->seats);
    free (results);
}

static void
test_big_baseline (void **state)
{
    results_t *baseline = s_big_baseline ();
    tally_t *tally = tally_new (baseline, &s_bbc);
    assert_non_null (tally);
    s_big_free (baseline);      //  the tally keeps its own copy

    assert_int_equal (tally_seats_total (tally), BIG_SEATS);
    assert_int_equal (tally_scope_count (tally), 1 + 2 + 4);
    assert_int_equal (tally_seat_find (tally, "X00199999"), BIG_SEATS - 1);

    //  Declarations spread over the seats: Yellow wins every one
    candidate_t cands [4] = {
        { .name = "Ann", .party = "Yellow", .votes = 30000 },
        { .name = "Bob", .party = "Red", .votes = 10000 },
        { .name = "Cat", .party = "Blue", .votes = 9000 },
        { .name = "Dan", .party = "Purple", .votes = 1000 }
    };
    char ons_id [32];
    declaration_t decl = {
        .ons_id = ons_id, .revision = 1, .kind = DECL_RESULT,
        .electorate = 70000, .candidates = cands, .n_candidates = 4
    };
    tally_verdict_t verdict;
    for (size_t k = 0; k < BIG_APPLIED; k++) {
        snprintf (ons_id, sizeof ons_id, "X%08zu", k * (BIG_SEATS / BIG_APPLIED));
        if (tally_apply (tally, &decl, &verdict) != TALLY_ACCEPTED)
            fail_msg ("%s", verdict.text);
    }
    assert_int_equal (tally_declared (tally), BIG_APPLIED);
    scope_view_t uk;
    s_uk (tally, &uk);
    assert_int_equal (uk.declared, BIG_APPLIED);
    assert_int_equal (uk.seats_total, BIG_SEATS);
    assert_int_equal (uk.majority_line, BIG_SEATS / 2 + 1);
    assert_int_equal (uk.total_votes, (uint64_t) BIG_APPLIED * 50000);
    //  The stride (40) is even: every declared seat was Red's
    s_expect_party (&uk, "Yellow", BIG_APPLIED, BIG_APPLIED);
    s_expect_party (&uk, "Red", 0, -BIG_APPLIED);
    assert_true (uk.has_swing);
    assert_string_equal (uk.swing_to, "Yellow");
    assert_string_equal (uk.swing_from, "Red");

    //  Revisions give half of them back to Red
    cands [1].votes = 40000;
    cands [0].votes = 1000;
    decl.revision = 2;
    for (size_t k = 0; k < BIG_APPLIED; k += 2) {
        snprintf (ons_id, sizeof ons_id, "X%08zu", k * (BIG_SEATS / BIG_APPLIED));
        if (tally_apply (tally, &decl, &verdict) != TALLY_ACCEPTED)
            fail_msg ("%s", verdict.text);
    }
    s_uk (tally, &uk);
    assert_int_equal (uk.declared, BIG_APPLIED);
    s_expect_party (&uk, "Yellow", BIG_APPLIED / 2, BIG_APPLIED / 2);
    s_expect_party (&uk, "Red", BIG_APPLIED / 2, -BIG_APPLIED / 2);

    long mainland = tally_scope_find (tally, "Mainland");
    long isles = tally_scope_find (tally, "Isles");
    scope_view_t view;
    tally_scope (tally, (size_t) mainland, &view);
    assert_int_equal (view.seats_total, BIG_SEATS / 5 * 4);
    tally_scope (tally, (size_t) isles, &view);
    assert_int_equal (view.seats_total, BIG_SEATS / 5);
    tally_destroy (&tally);
}

//  The seat's baseline as the tally shows it, against the baseline file
static void
test_seat_baseline (void **state)
{
    fixture_t *fixture = *state;
    tally_t *tally = tally_new (fixture->ge2015, &s_bbc);
    assert_non_null (tally);
    const char *seats [] = { LUTON_NORTH, BUCKINGHAM, BATLEY };
    for (size_t s = 0; s < 3; s++) {
        const seat_result_t *file = results_find (fixture->ge2015, seats [s]);
        assert_non_null (file);
        long index = tally_seat_find (tally, seats [s]);
        assert_true (index >= 0);
        seat_baseline_t base;
        tally_seat_baseline (tally, (size_t) index, &base);
        assert_int_equal (base.n_parties, file->n_candidates);
        uint64_t total = 0;
        uint32_t first = 0, second = 0;
        size_t top = 0;
        for (size_t c = 0; c < file->n_candidates; c++) {
            uint32_t votes = file->candidates [c].votes;
            total += votes;
            if (votes > first) {
                second = first;
                first = votes;
                top = c;
            }
            else
            if (votes > second)
                second = votes;
        }
        assert_int_equal (base.valid_votes, total);
        assert_int_equal (base.majority, (int64_t) first - (int64_t) second);
        assert_int_equal (base.electorate, file->electorate);
        assert_true (base.has_turnout);
        assert_true (fabs (base.turnout - 100.0 * (double) total / file->electorate) < 1e-9);
        //  The winner after attribution: the Speaker's seat counts for Con
        const char *winner = file->candidates [top].party;
        if (strcmp (winner, "Speaker") == 0)
            winner = "Con";
        assert_string_equal (base.winner, winner);
        assert_string_equal (tally_party_name (tally, base.winner_id), winner);
        double shares = 0;
        for (size_t b = 0; b < base.n_parties; b++) {
            const baseline_party_t *line = &base.parties [b];
            assert_string_equal (tally_party_name (tally, line->party_id), line->party);
            assert_int_equal (tally_party_find (tally, line->party), (long) line->party_id);
            if (b > 0)
                assert_true (line->votes <= base.parties [b - 1].votes);
            shares += line->share;
        }
        assert_true (fabs (shares - 100.0) < 1e-9);
        //  The seat view's previous winner is the same party
        seat_view_t view;
        tally_seat (tally, (size_t) index, &view);
        assert_string_equal (view.previous_winner, base.winner);
    }
    seat_baseline_t none;
    tally_seat_baseline (tally, tally_seats_total (tally), &none);
    assert_null (none.winner);
    assert_int_equal (none.n_parties, 0);
    assert_null (tally_party_name (tally, tally_party_count (tally)));
    assert_int_equal (tally_party_find (tally, "No Such Party"), -1);

    //  A declaration's candidates carry the party ids too
    s_apply_seat (tally, fixture->ge2017, LUTON_NORTH, 1);
    seat_view_t view;
    tally_seat (tally, (size_t) tally_seat_find (tally, LUTON_NORTH), &view);
    for (size_t c = 0; c < view.n_candidates; c++)
        assert_string_equal (tally_party_name (tally, view.candidates [c].party_id),
                             view.candidates [c].party);
    tally_destroy (&tally);
}

//  One seat revised 2,000 times, each revision naming 10 parties never seen
//  before: the tally forgets each revision's parties when the next replaces
//  them, so it holds the baseline's parties and a revision or two's more,
//  not 20,000 more, and the totals stay right. A party also named by another seat, or by
//  the baseline, outlives a revision that drops it.
static void
test_parties_forgotten (void **state)
{
    fixture_t *fixture = *state;
    tally_t *tally = tally_new (fixture->ge2015, &s_bbc);
    assert_non_null (tally);
    size_t baseline_parties = tally_party_count (tally);
    const seat_result_t *luton = results_find (fixture->ge2017, LUTON_NORTH);
    s_apply_seat (tally, fixture->ge2017, BUCKINGHAM, 1);

    char codes [10][16], names [10][8];
    candidate_t cands [10];
    size_t settled = 0;
    for (uint32_t revision = 1; revision <= 2000; revision++) {
        for (size_t i = 0; i < 10; i++) {
            snprintf (codes [i], sizeof codes [i], "P%u_%zu", revision, i);
            snprintf (names [i], sizeof names [i], "C%zu", i);
            //  The last revision's first candidate stands for a party of
            //  Buckingham's (2017) and one of the baseline's
            const char *party = revision == 2000 && i == 0 ? "Green" : revision == 2000 && i == 1
                              ? "UKIP" : codes [i];
            cands [i] = (candidate_t) { names [i], (char *) party, 100 + (uint32_t) i, false };
        }
        declaration_t decl = s_decl (luton, revision);
        decl.candidates = cands;
        decl.n_candidates = 10;
        tally_verdict_t verdict;
        assert_int_equal (s_apply (tally, &decl, &verdict), TALLY_ACCEPTED);
        //  The one before is forgotten; these are known
        if (revision > 1) {
            char old [16];
            snprintf (old, sizeof old, "P%u_5", revision - 1);
            assert_int_equal (tally_party_find (tally, old), -1);
        }
        assert_true (tally_party_find (tally, codes [9]) >= 0);
        //  A revision's parties are named before the last one's are let go:
        //  ids for two revisions at most, and then no more
        if (revision == 2)
            settled = tally_party_count (tally);
        if (revision > 2)
            assert_int_equal (tally_party_count (tally), settled);
    }
    assert_true (settled <= baseline_parties + 20);
    //  The winner's name resolves through its id; the seat counts for it
    seat_view_t view;
    tally_seat (tally, (size_t) tally_seat_find (tally, LUTON_NORTH), &view);
    assert_string_equal (view.winner, "P2000_9");
    for (size_t c = 0; c < view.n_candidates; c++)
        assert_string_equal (tally_party_name (tally, view.candidates [c].party_id),
                             view.candidates [c].party);
    scope_view_t uk;
    tally_scope (tally, 0, &uk);
    assert_int_equal (uk.declared, 2);
    uint64_t votes = 0;
    for (size_t i = 0; i < uk.n_parties; i++)
        votes += uk.parties [i].votes;
    assert_int_equal (votes, uk.total_votes);
    //  Retracting the seat forgets its own parties, not the shared ones
    declaration_t retraction = s_decl (luton, 2001);
    retraction.reason = REVISION_RETRACTION;
    retraction.n_candidates = 0;
    assert_int_equal (s_apply (tally, &retraction, NULL), TALLY_ACCEPTED);
    assert_int_equal (tally_party_find (tally, "P2000_9"), -1);
    assert_true (tally_party_find (tally, "Green") >= 0);
    assert_true (tally_party_find (tally, "UKIP") >= 0);
    tally_destroy (&tally);
}

//  Judged once: tally_check then tally_apply_checked leaves the tally as
//  tally_apply alone does, seat by seat and scope by scope, for the whole
//  night and a revision; and with another check in between it judges anew
static void
test_apply_checked (void **state)
{
    fixture_t *fixture = *state;
    tally_t *once = tally_new (fixture->ge2015, &s_bbc);
    tally_t *twice = s_tally_all (fixture, &s_bbc);
    assert_non_null (once);
    for (size_t i = 0; i < fixture->ge2017->n_seats; i++) {
        declaration_t decl = s_decl (&fixture->ge2017->seats [i], 1);
        tally_verdict_t checked, applied;
        seat_view_t preview;
        assert_int_equal (tally_check (once, &decl, &checked, &preview), TALLY_ACCEPTED);
        assert_int_equal (tally_apply_checked (once, &decl, &applied), TALLY_ACCEPTED);
        assert_string_equal (checked.text, applied.text);
        assert_int_equal (checked.seat, applied.seat);
    }
    for (size_t seat = 0; seat < tally_seats_total (once); seat++) {
        seat_view_t a, b;
        tally_seat (once, seat, &a);
        tally_seat (twice, seat, &b);
        assert_string_equal (a.winner, b.winner);
        assert_int_equal (a.majority, b.majority);
        assert_int_equal (a.n_candidates, b.n_candidates);
        for (size_t c = 0; c < a.n_candidates; c++)
            assert_int_equal (a.candidates [c].votes, b.candidates [c].votes);
    }
    for (size_t scope = 0; scope < tally_scope_count (once); scope++) {
        scope_view_t a, b;
        tally_scope (once, scope, &a);
        tally_scope (twice, scope, &b);
        assert_int_equal (a.declared, b.declared);
        assert_int_equal (a.total_votes, b.total_votes);
        assert_int_equal (a.n_parties, b.n_parties);
        for (size_t p = 0; p < a.n_parties; p++) {
            assert_string_equal (a.parties [p].party, b.parties [p].party);
            assert_int_equal (a.parties [p].seats, b.parties [p].seats);
        }
    }
    //  A check of another declaration in between: what was checked is not
    //  what is applied, so it is judged again (a duplicate now)
    declaration_t luton = s_decl (results_find (fixture->ge2017, LUTON_NORTH), 1);
    declaration_t revised = s_decl (results_find (fixture->ge2017, BUCKINGHAM), 2);
    tally_verdict_t verdict;
    assert_int_equal (tally_check (once, &revised, &verdict, NULL), TALLY_ACCEPTED);
    assert_int_equal (tally_apply_checked (once, &luton, &verdict), TALLY_DUPLICATE);
    assert_int_equal (tally_apply_checked (once, &revised, &verdict), TALLY_ACCEPTED);
    tally_destroy (&once);
    tally_destroy (&twice);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_luton_north),
        cmocka_unit_test (test_share_change_needs_one_candidate),
        cmocka_unit_test (test_speaker_attribution),
        cmocka_unit_test (test_uk_totals),
        cmocka_unit_test (test_scopes),
        cmocka_unit_test (test_partial_night),
        cmocka_unit_test (test_revision_flips_seat),
        cmocka_unit_test (test_duplicate),
        cmocka_unit_test (test_conflict_stale_bad_revision),
        cmocka_unit_test (test_retraction),
        cmocka_unit_test (test_rush),
        cmocka_unit_test (test_rejections),
        cmocka_unit_test (test_big_baseline),
        cmocka_unit_test (test_seat_baseline),
        cmocka_unit_test (test_parties_forgotten),
        cmocka_unit_test (test_apply_checked),
    };
    return cmocka_run_group_tests (tests, s_group_setup, s_group_teardown);
}
