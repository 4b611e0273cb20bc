/*  test_state_json: the README's JSON contract, field by field, from real
    packed Updates: the 2017 night (data/) run through the tally against
    2015 and packed by the aggregator's own summary code, then unpacked into
    a state_view as a subscriber holds it. Each JSON value is checked against
    the Update it came from, and the README's example figures (Luton North,
    the UK line for Con) against the JSON.                                   */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "state_json.h"
#include "summary.h"
#include "tally.h"

#define LUTON_NORTH     "E14000800"
#define S_EPOCH         0x0a3f0c1234abcd56ULL     /* a leading zero digit */

static const tally_options_t s_bbc = { .speaker_as = "Con", .baseline_speaker_as = "Con" };

typedef struct {
    results_t *ge2015;
    results_t *ge2017;
    declaration_times_t *times;
    tally_t *tally;
    state_view_t *view;
    parties_t *parties;
} fixture_t;

static int64_t
s_declared_at (const fixture_t *fx, const char *ons_id)
{
    for (size_t i = 0; i < fx->times->n_times; i++)
        if (strcmp (fx->times->times [i].ons_id, ons_id) == 0)
            return fx->times->times [i].declared_at_ms;
    return 0;
}

static int
s_apply (tally_t *tally, const seat_result_t *seat, uint32_t revision, revision_reason_t reason,
         int64_t declared_at_ms)
{
    declaration_t decl = {
        .ons_id = seat->ons_id, .revision = revision, .kind = DECL_RESULT, .reason = reason,
        .electorate = seat->electorate, .declared_at_ms = declared_at_ms,
        .candidates = seat->candidates, .n_candidates = seat->n_candidates
    };
    tally_verdict_t verdict;
    if (tally_apply (tally, &decl, &verdict) != TALLY_ACCEPTED) {
        fprintf (stderr, "%s\n", verdict.text);
        return -1;
    }
    return 0;
}

//  Publishes as the aggregator does: the seat, its scopes, the UK last
static const parties_t *s_parties;     //  the register the summaries are packed with

static int
s_publish_seat (tally_t *tally, state_view_t *view, size_t seat, uint64_t sequence)
{
    update_head_t stamp = { .sequence = sequence, .epoch = S_EPOCH,
                            .mode = ELECTION__MODE__MODE_REHEARSAL, .sent_at_us = 1496973120000000 };
    char topic [128];
    size_t size;
    uint8_t *bytes = summary_pack_seat (tally, s_parties, seat, &stamp, &size);
    summary_seat_topic (tally, seat, topic, sizeof topic);
    int rc = bytes ? state_view_put (view, topic, bytes, size) : -1;
    free (bytes);
    size_t scopes [3];
    size_t n = tally_seat_scopes (tally, seat, scopes);
    for (size_t i = n; i-- > 0 && rc == 0;) {
        bytes = summary_pack_scope (tally, s_parties, scopes [i], &stamp, &size);
        summary_scope_topic (tally, scopes [i], topic, sizeof topic);
        rc = bytes ? state_view_put (view, topic, bytes, size) : -1;
        free (bytes);
    }
    return rc;
}

static int
s_group_setup (void **state)
{
    fixture_t *fx = calloc (1, sizeof *fx);
    char err [256] = "";
    if (!fx
    ||  results_load (EL_DATA_DIR "/ge2015.csv", &fx->ge2015, err, sizeof err)
    ||  results_load (EL_DATA_DIR "/ge2017.csv", &fx->ge2017, err, sizeof err)
    ||  declaration_times_load (EL_DATA_DIR "/declaration_times_2017.csv", &fx->times, err, sizeof err)
    ||  parties_load (EL_DATA_DIR "/parties.csv", &fx->parties, err, sizeof err)
    ||  !(fx->tally = tally_new (fx->ge2015, &s_bbc))
    ||  !(fx->view = state_view_new ())) {
        fprintf (stderr, "set-up failed: %s\n", err);
        return -1;
    }
    s_parties = fx->parties;
    //  The whole night, one sequence per seat
    for (size_t i = 0; i < fx->ge2017->n_seats; i++) {
        const seat_result_t *seat = &fx->ge2017->seats [i];
        if (s_apply (fx->tally, seat, 1, REVISION_NONE, s_declared_at (fx, seat->ons_id))
        ||  s_publish_seat (fx->tally, fx->view, (size_t) tally_seat_find (fx->tally, seat->ons_id), i + 1))
            return -1;
    }
    *state = fx;
    return 0;
}

static int
s_group_teardown (void **state)
{
    fixture_t *fx = *state;
    state_view_destroy (&fx->view);
    tally_destroy (&fx->tally);
    parties_destroy (&fx->parties);
    declaration_times_destroy (&fx->times);
    results_destroy (&fx->ge2015);
    results_destroy (&fx->ge2017);
    free (fx);
    return 0;
}

//  The object has exactly these keys: none missing, none extra
static void
s_expect_keys (const json_t *object, const char *const *keys, size_t n)
{
    assert_true (json_is_object (object));
    for (size_t i = 0; i < n; i++)
        if (!json_object_get (object, keys [i]))
            fail_msg ("key \"%s\" missing", keys [i]);
    if (json_object_size (object) != n) {
        char *text = json_dumps (object, JSON_COMPACT);
        fail_msg ("%zu keys, expected %zu: %.300s", json_object_size (object), n, text);
    }
}

static void
s_expect_string (const json_t *object, const char *key, const char *expected)
{
    const json_t *value = json_object_get (object, key);
    if (!expected) {
        if (!json_is_null (value))
            fail_msg ("\"%s\" should be null", key);
        return;
    }
    if (!json_is_string (value))
        fail_msg ("\"%s\" should be a string", key);
    assert_string_equal (json_string_value (value), expected);
}

static void
s_expect_int (const json_t *object, const char *key, long long expected)
{
    const json_t *value = json_object_get (object, key);
    if (!json_is_integer (value))
        fail_msg ("\"%s\" should be an integer", key);
    if (json_integer_value (value) != expected)
        fail_msg ("\"%s\" is %lld, expected %lld", key, (long long) json_integer_value (value), expected);
}

static void
s_expect_bool (const json_t *object, const char *key, bool expected)
{
    const json_t *value = json_object_get (object, key);
    if (!json_is_boolean (value))
        fail_msg ("\"%s\" should be true or false", key);
    assert_int_equal (json_is_true (value), expected);
}

//  Numbers in percent are unrounded: the very double the Update carried
static void
s_expect_real (const json_t *object, const char *key, double expected)
{
    const json_t *value = json_object_get (object, key);
    if (!json_is_real (value))
        fail_msg ("\"%s\" should be a real number", key);
    if (json_real_value (value) != expected)
        fail_msg ("\"%s\" is %.17g, expected %.17g", key, json_real_value (value), expected);
}

static double
s_real (const json_t *object, const char *key)
{
    return json_real_value (json_object_get (object, key));
}

static double
s_round2 (double value)
{
    return round (value * 100.0) / 100.0;
}

static const char *const s_seat_keys [] = {
    "id", "name", "country", "region", "declared", "revision", "kind", "reason", "winner",
    "previous_winner", "outcome", "majority", "electorate", "valid_votes", "turnout",
    "declared_at_ms", "candidates", "winner_name", "winner_colour", "official_turnout",
    "ballot_papers", "rejected_ballots",
    //  The results desk's context (issue 13)
    "withdrawn", "projected_winner", "projected_winner_name", "projected_winner_colour",
    "projected_confidence", "previous", "majority_change", "swing", "declared_sequence"
};
static const char *const s_candidate_keys [] = {
    "name", "party", "party_name", "colour", "votes", "share", "share_change", "elected"
};
static const char *const s_scope_keys [] = {
    "scope", "declared", "seats_total", "majority_line", "total_votes", "parties", "swing"
};
static const char *const s_party_keys [] = {
    "party", "name", "colour", "seats", "change", "votes", "share", "share_change"
};
#define S_N(keys) (sizeof (keys) / sizeof (keys) [0])

//  Every field of a seat's JSON is the Update's, as the contract names it
static void
s_expect_seat (const json_t *json, const Election__SeatSummary *seat)
{
    s_expect_keys (json, s_seat_keys, S_N (s_seat_keys));
    s_expect_string (json, "id", seat->ons_id);
    s_expect_string (json, "name", seat->name);
    s_expect_string (json, "country", seat->country);
    s_expect_string (json, "region", seat->region);
    s_expect_bool (json, "declared", seat->declared);
    s_expect_int (json, "revision", seat->revision);
    s_expect_string (json, "kind", seat->kind == ELECTION__DECLARATION_KIND__KIND_RUSH ? "rush" : "result");
    s_expect_string (json, "reason",
        seat->reason == ELECTION__REVISION_REASON__REASON_CORRECTION ? "correction"
      : seat->reason == ELECTION__REVISION_REASON__REASON_RECOUNT ? "recount"
      : seat->reason == ELECTION__REVISION_REASON__REASON_RETRACTION ? "retraction" : NULL);
    s_expect_string (json, "winner", seat->declared ? seat->winner : NULL);
    s_expect_string (json, "previous_winner", seat->previous_winner);
    s_expect_string (json, "outcome", !seat->declared ? NULL
                     : seat->outcome == ELECTION__OUTCOME__OUTCOME_GAIN ? "gain" : "hold");
    s_expect_int (json, "majority", seat->majority);
    s_expect_int (json, "electorate", seat->electorate);
    s_expect_int (json, "valid_votes", (long long) seat->valid_votes);
    s_expect_real (json, "turnout", seat->turnout);
    if (seat->has_declared_at_ms)
        s_expect_int (json, "declared_at_ms", seat->declared_at_ms);
    else
        assert_true (json_is_null (json_object_get (json, "declared_at_ms")));
    if (seat->has_declared_sequence)
        s_expect_int (json, "declared_sequence", (long long) seat->declared_sequence);
    else
        assert_true (json_is_null (json_object_get (json, "declared_sequence")));
    s_expect_string (json, "winner_name", seat->declared ? seat->winner_name : NULL);
    s_expect_string (json, "winner_colour", seat->declared ? seat->winner_colour : NULL);
    if (seat->has_official_turnout)
        s_expect_real (json, "official_turnout", seat->official_turnout);
    else
        assert_true (json_is_null (json_object_get (json, "official_turnout")));
    if (seat->has_ballot_papers)
        s_expect_int (json, "ballot_papers", seat->ballot_papers);
    else
        assert_true (json_is_null (json_object_get (json, "ballot_papers")));
    if (seat->has_rejected_ballots)
        s_expect_int (json, "rejected_ballots", seat->rejected_ballots);
    else
        assert_true (json_is_null (json_object_get (json, "rejected_ballots")));
    const json_t *candidates = json_object_get (json, "candidates");
    assert_true (json_is_array (candidates));
    assert_int_equal (json_array_size (candidates), seat->n_candidates);
    for (size_t i = 0; i < seat->n_candidates; i++) {
        const json_t *c = json_array_get (candidates, i);
        const Election__CandidateResult *expected = seat->candidates [i];
        s_expect_keys (c, s_candidate_keys, S_N (s_candidate_keys));
        s_expect_string (c, "name", expected->name);
        s_expect_string (c, "party", expected->party);
        s_expect_string (c, "party_name", expected->party_name);
        s_expect_string (c, "colour", expected->colour);
        s_expect_int (c, "votes", expected->votes);
        s_expect_real (c, "share", expected->share);
        if (expected->has_share_change)
            s_expect_real (c, "share_change", expected->share_change);
        else
            assert_true (json_is_null (json_object_get (c, "share_change")));
        s_expect_bool (c, "elected", expected->elected);
    }
}

static void
s_expect_scope (const json_t *json, const Election__NationalSummary *scope)
{
    s_expect_keys (json, s_scope_keys, S_N (s_scope_keys) - !scope->has_swing);
    s_expect_string (json, "scope", scope->scope);
    s_expect_int (json, "declared", scope->declared);
    s_expect_int (json, "seats_total", scope->seats_total);
    s_expect_int (json, "majority_line", scope->majority_line);
    s_expect_int (json, "total_votes", (long long) scope->total_votes);
    const json_t *parties = json_object_get (json, "parties");
    assert_int_equal (json_array_size (parties), scope->n_parties);
    for (size_t i = 0; i < scope->n_parties; i++) {
        const json_t *p = json_array_get (parties, i);
        const Election__PartyLine *expected = scope->parties [i];
        s_expect_keys (p, s_party_keys, S_N (s_party_keys));
        s_expect_string (p, "party", expected->party);
        s_expect_string (p, "name", expected->name);
        s_expect_string (p, "colour", expected->colour);
        s_expect_int (p, "seats", expected->seats);
        s_expect_int (p, "change", expected->change);
        s_expect_int (p, "votes", (long long) expected->votes);
        s_expect_real (p, "share", expected->share);
        s_expect_real (p, "share_change", expected->share_change);
    }
    if (scope->has_swing) {
        const json_t *swing = json_object_get (json, "swing");
        const char *const keys [] = { "points", "from", "to" };
        s_expect_keys (swing, keys, 3);
        s_expect_real (swing, "points", scope->swing);
        s_expect_string (swing, "from", scope->swing_from);
        s_expect_string (swing, "to", scope->swing_to);
    }
}

static void
test_seat (void **state)
{
    fixture_t *fx = *state;
    const Election__SeatSummary *seat = state_view_seat (fx->view, LUTON_NORTH);
    assert_non_null (seat);
    json_t *json = state_json_seat (seat);
    s_expect_seat (json, seat);

    //  The README's example, from the data
    const seat_result_t *row = results_find (fx->ge2017, LUTON_NORTH);
    uint64_t valid = 0;
    for (size_t i = 0; i < row->n_candidates; i++)
        valid += row->candidates [i].votes;
    s_expect_string (json, "name", "Luton North");
    s_expect_string (json, "country", "England");
    s_expect_string (json, "region", "East");
    s_expect_bool (json, "declared", true);
    s_expect_int (json, "revision", 1);
    s_expect_string (json, "kind", "result");
    s_expect_string (json, "reason", NULL);     //  a first declaration has none
    s_expect_string (json, "winner", "Lab");
    s_expect_string (json, "previous_winner", "Lab");
    s_expect_string (json, "outcome", "hold");
    s_expect_int (json, "majority", 14364);
    s_expect_int (json, "electorate", row->electorate);
    s_expect_int (json, "valid_votes", (long long) valid);
    assert_true (s_round2 (s_real (json, "turnout")) == 69.78);
    assert_true (fabs (s_real (json, "turnout") - 100.0 * valid / row->electorate) < 1e-9);
    s_expect_int (json, "declared_at_ms", 1496973120000LL);   //  02:52 BST, from the times file
    const json_t *first = json_array_get (json_object_get (json, "candidates"), 0);
    s_expect_string (first, "name", "Kelvin Hopkins");
    s_expect_string (first, "party", "Lab");
    s_expect_string (first, "party_name", "Labour");      //  from data/parties.csv
    s_expect_string (first, "colour", "#e4003b");
    s_expect_string (json, "winner_name", "Labour");
    s_expect_string (json, "winner_colour", "#e4003b");
    assert_true (json_is_null (json_object_get (json, "official_turnout")));
    s_expect_int (first, "votes", 29765);
    assert_true (s_round2 (s_real (first, "share")) == 63.84);
    assert_true (s_round2 (s_real (first, "share_change")) == 11.59);
    s_expect_bool (first, "elected", true);
    s_expect_bool (json_array_get (json_object_get (json, "candidates"), 1), "elected", false);

    //  It serialises (no NaN or infinity in it)
    char *text = json_dumps (json, JSON_COMPACT);
    assert_non_null (text);
    free (text);
    json_decref (json);
}

static void
test_share_change_null_where_undefined (void **state)
{
    fixture_t *fx = *state;
    size_t nulls = 0, numbers = 0;
    for (size_t i = 0; i < fx->ge2017->n_seats; i++) {
        const Election__SeatSummary *seat = state_view_seat (fx->view, fx->ge2017->seats [i].ons_id);
        assert_non_null (seat);
        json_t *json = state_json_seat (seat);
        s_expect_seat (json, seat);
        const json_t *candidates = json_object_get (json, "candidates");
        for (size_t j = 0; j < json_array_size (candidates); j++) {
            const json_t *change = json_object_get (json_array_get (candidates, j), "share_change");
            nulls += json_is_null (change);
            numbers += json_is_real (change);
        }
        json_decref (json);
    }
    //  The night has both: parties new to a seat, and parties standing again
    assert_true (nulls > 0);
    assert_true (numbers > nulls);
}

static void
test_scope (void **state)
{
    fixture_t *fx = *state;
    const Election__NationalSummary *uk = state_view_national (fx->view);
    assert_non_null (uk);
    json_t *json = state_json_national (uk);
    s_expect_scope (json, uk);
    uint64_t total = 0;
    for (size_t i = 0; i < fx->ge2017->n_seats; i++)
        for (size_t j = 0; j < fx->ge2017->seats [i].n_candidates; j++)
            total += fx->ge2017->seats [i].candidates [j].votes;
    s_expect_string (json, "scope", "UK");
    s_expect_int (json, "declared", 650);
    s_expect_int (json, "seats_total", 650);
    s_expect_int (json, "majority_line", 326);
    s_expect_int (json, "total_votes", (long long) total);
    const json_t *con = json_array_get (json_object_get (json, "parties"), 0);
    s_expect_string (con, "party", "Con");
    s_expect_string (con, "name", "Conservative");
    s_expect_string (con, "colour", "#0087dc");
    s_expect_int (con, "seats", 318);
    s_expect_int (con, "change", -13);
    s_expect_int (con, "votes", 13670983);
    assert_true (s_round2 (s_real (con, "share")) == 42.45);
    assert_true (s_round2 (s_real (con, "share_change")) == 5.53);
    const json_t *swing = json_object_get (json, "swing");
    assert_true (s_round2 (s_real (swing, "points")) == 2.01);
    s_expect_string (swing, "from", "Con");
    s_expect_string (swing, "to", "Lab");
    json_decref (json);

    //  A region is a scope like the UK, under its own name
    const Election__Update *east = state_view_get (fx->view, "region.East");
    assert_non_null (east);
    assert_int_equal (east->body_case, ELECTION__UPDATE__BODY_NATIONAL);
    json = state_json_national (east->national);
    s_expect_scope (json, east->national);
    size_t seats = 0;
    for (size_t i = 0; i < fx->ge2017->n_seats; i++)
        seats += strcmp (fx->ge2017->seats [i].region, "East") == 0;
    s_expect_string (json, "scope", "East");
    s_expect_int (json, "declared", (long long) seats);
    s_expect_int (json, "seats_total", (long long) seats);
    json_decref (json);
}

static const char *const s_state_keys [] = {
    "sequence", "epoch", "mode", "declared", "seats_total", "majority_line", "total_votes",
    "parties", "swing", "constituencies", "regions", "held", "upstream_ok", "source",
    "parliament", "gains", "projection", "exit_poll"
};

static void
test_whole_state (void **state)
{
    fixture_t *fx = *state;
    json_t *json = state_json_state (fx->view);
    s_expect_keys (json, s_state_keys, S_N (s_state_keys));
    s_expect_int (json, "sequence", 650);
    s_expect_string (json, "epoch", "0a3f0c1234abcd56");
    s_expect_string (json, "mode", "rehearsal");

    //  The UK line, at the top level
    json_t *uk = state_json_national (state_view_national (fx->view));
    const char *const same [] = { "declared", "seats_total", "majority_line", "total_votes",
                                  "parties", "swing" };
    for (size_t i = 0; i < S_N (same); i++)
        if (!json_equal (json_object_get (json, same [i]), json_object_get (uk, same [i])))
            fail_msg ("\"%s\" differs from the UK summary's", same [i]);
    json_decref (uk);

    //  Every declared seat, each as state_json_seat gives it, by ONS id
    const json_t *seats = json_object_get (json, "constituencies");
    assert_int_equal (json_array_size (seats), 650);
    const char *previous = "";
    for (size_t i = 0; i < json_array_size (seats); i++) {
        const json_t *seat = json_array_get (seats, i);
        const char *id = json_string_value (json_object_get (seat, "id"));
        assert_non_null (id);
        if (strcmp (previous, id) >= 0)
            fail_msg ("constituencies out of order: %s after %s", id, previous);
        previous = id;
        json_t *alone = state_json_seat (state_view_seat (fx->view, id));
        assert_true (json_equal (seat, alone));
        json_decref (alone);
    }

    //  Every other scope, and only those
    const json_t *regions = json_object_get (json, "regions");
    assert_int_equal (json_array_size (regions), tally_scope_count (fx->tally) - 1);
    for (size_t i = 0; i < json_array_size (regions); i++) {
        const json_t *region = json_array_get (regions, i);
        const char *name = json_string_value (json_object_get (region, "scope"));
        assert_non_null (name);
        assert_string_not_equal (name, "UK");
        char topic [128];
        snprintf (topic, sizeof topic, "region.%s", name);
        const Election__Update *update = state_view_get (fx->view, topic);
        assert_non_null (update);
        s_expect_scope (region, update->national);
    }

    //  The document round-trips through text unchanged
    char *text = json_dumps (json, JSON_COMPACT);
    assert_non_null (text);
    json_t *again = json_loads (text, 0, NULL);
    assert_true (json_equal (json, again));
    json_decref (again);
    free (text);
    json_decref (json);
}

//  Before anything: a well-formed, empty state
static void
test_empty_state (void **state)
{
    state_view_t *view = state_view_new ();
    json_t *json = state_json_state (view);
    const char *const keys [] = { "sequence", "epoch", "mode", "declared", "seats_total",
                                  "majority_line", "total_votes", "parties", "constituencies",
                                  "regions", "held", "upstream_ok", "source", "parliament",
                                  "gains", "projection", "exit_poll" };      //  no swing
    assert_int_equal (json_array_size (json_object_get (json, "held")), 0);
    s_expect_keys (json, keys, S_N (keys));
    s_expect_int (json, "sequence", 0);
    s_expect_int (json, "declared", 0);
    assert_int_equal (json_array_size (json_object_get (json, "parties")), 0);
    assert_int_equal (json_array_size (json_object_get (json, "constituencies")), 0);
    assert_int_equal (json_array_size (json_object_get (json, "regions")), 0);
    assert_int_equal (json_array_size (json_object_get (json, "gains")), 0);
    assert_true (json_is_true (json_object_get (json, "upstream_ok")));
    assert_true (json_is_null (json_object_get (json, "source")));
    assert_true (json_is_null (json_object_get (json_object_get (json, "parliament"), "hung")));
    json_decref (json);
    state_view_destroy (&view);
}

//  The 2017 night ends hung, as the BBC said: Con 318, 8 short of 326
static void
test_parliament_2017 (void **state)
{
    fixture_t *fx = *state;
    json_t *json = state_json_state (fx->view);
    const json_t *parliament = json_object_get (json, "parliament");
    s_expect_int (parliament, "seats_total", 650);
    s_expect_int (parliament, "majority_line", 326);
    s_expect_int (parliament, "declared", 650);
    s_expect_bool (parliament, "complete", true);
    s_expect_string (parliament, "largest", "Con");
    s_expect_string (parliament, "largest_name", "Conservative");
    s_expect_int (parliament, "largest_seats", 318);
    s_expect_bool (parliament, "hung", true);
    s_expect_int (parliament, "short", 8);
    assert_true (json_is_null (json_object_get (parliament, "majority")));
    s_expect_string (parliament, "text", "HUNG PARLIAMENT \xe2\x80\x94 Con 8 short of 326");
    //  Every party with a seat, most first, with what it lacks
    const json_t *needed = json_object_get (parliament, "needed");
    const Election__NationalSummary *uk = state_view_national (fx->view);
    size_t with_seats = 0;
    for (size_t i = 0; i < uk->n_parties; i++)
        with_seats += uk->parties [i]->seats > 0;
    assert_int_equal (json_array_size (needed), with_seats);
    s_expect_string (json_array_get (needed, 1), "party", "Lab");
    s_expect_int (json_array_get (needed, 1), "seats", 262);
    s_expect_int (json_array_get (needed, 1), "needed", 64);
    json_decref (json);
}

//  Gains: every declared seat whose outcome is a gain, and only those, in
//  declaration order; /seats: every seat the view holds, by id
static void
test_gains_and_seats (void **state)
{
    fixture_t *fx = *state;
    json_t *gains = state_json_gains (fx->view);
    size_t expected = 0;
    for (size_t i = 0; i < fx->ge2017->n_seats; i++) {
        const Election__SeatSummary *seat = state_view_seat (fx->view, fx->ge2017->seats [i].ons_id);
        expected += seat->declared && seat->outcome == ELECTION__OUTCOME__OUTCOME_GAIN;
    }
    assert_true (expected > 50);        //  2017 changed 70 seats
    assert_int_equal (json_array_size (gains), expected);
    long long last_at = 0, last_sequence = 0;
    for (size_t i = 0; i < json_array_size (gains); i++) {
        const json_t *gain = json_array_get (gains, i);
        const char *id = json_string_value (json_object_get (gain, "id"));
        const Election__SeatSummary *seat = state_view_seat (fx->view, id);
        assert_non_null (seat);
        assert_int_equal (seat->outcome, ELECTION__OUTCOME__OUTCOME_GAIN);
        s_expect_string (gain, "winner", seat->winner);
        s_expect_string (gain, "previous_winner", seat->previous_winner);
        assert_string_not_equal (seat->winner, seat->previous_winner);
        s_expect_string (gain, "winner_colour", seat->winner_colour);
        assert_non_null (json_string_value (json_object_get (gain, "previous_winner_name")));
        long long at = json_integer_value (json_object_get (gain, "declared_at_ms"));
        long long sequence = json_integer_value (json_object_get (gain, "sequence"));
        assert_int_equal (at, s_declared_at (fx, id));
        if (at < last_at || (at == last_at && sequence <= last_sequence))
            fail_msg ("gains out of declaration order at %s", id);
        last_at = at;
        last_sequence = sequence;
    }
    json_decref (gains);

    json_t *seats = state_json_seats (fx->view);
    s_expect_int (seats, "sequence", 650);
    const json_t *list = json_object_get (seats, "seats");
    assert_int_equal (json_array_size (list), 650);
    for (size_t i = 1; i < json_array_size (list); i++)
        assert_true (strcmp (json_string_value (json_object_get (json_array_get (list, i - 1), "id")),
                             json_string_value (json_object_get (json_array_get (list, i), "id"))) < 0);
    json_decref (seats);
}

//  The health a snapshot header and then a heartbeat give the view
static void
test_health (void **state)
{
    state_view_t *view = state_view_new ();
    Election__Snapshot header = ELECTION__SNAPSHOT__INIT;
    header.has_upstream_ok = true;
    header.upstream_ok = false;
    header.stale_source = "aggregator";
    state_view_reset (view, &header);
    json_t *json = state_json_state (view);
    assert_true (json_is_false (json_object_get (json, "upstream_ok")));
    s_expect_string (json, "source", "aggregator");
    json_decref (json);
    state_view_set_health (view, true, "publisher");
    json = state_json_state (view);
    assert_true (json_is_true (json_object_get (json, "upstream_ok")));
    s_expect_string (json, "source", "publisher");
    json_decref (json);
    state_view_destroy (&view);
}

//  Corrections, rushes and retractions as they reach the JSON
static void
test_revision_rush_retraction (void **state)
{
    fixture_t *fx = *state;
    tally_t *tally = tally_new (fx->ge2015, &s_bbc);
    state_view_t *view = state_view_new ();
    const seat_result_t *luton = results_find (fx->ge2017, LUTON_NORTH);
    const seat_result_t *other = &fx->ge2017->seats [0];
    const seat_result_t *rushed = &fx->ge2017->seats [1];
    assert_string_not_equal (other->ons_id, LUTON_NORTH);
    assert_string_not_equal (rushed->ons_id, LUTON_NORTH);
    size_t luton_index = (size_t) tally_seat_find (tally, LUTON_NORTH);
    size_t other_index = (size_t) tally_seat_find (tally, other->ons_id);
    size_t rushed_index = (size_t) tally_seat_find (tally, rushed->ons_id);

    assert_int_equal (s_apply (tally, luton, 1, REVISION_NONE, 0), 0);
    assert_int_equal (s_apply (tally, luton, 2, REVISION_RECOUNT, 0), 0);
    assert_int_equal (s_publish_seat (tally, view, luton_index, 2), 0);
    assert_int_equal (s_apply (tally, other, 1, REVISION_NONE, 0), 0);
    declaration_t retract = { .ons_id = other->ons_id, .revision = 2, .reason = REVISION_RETRACTION };
    tally_verdict_t verdict;
    assert_int_equal (tally_apply (tally, &retract, &verdict), TALLY_ACCEPTED);
    assert_int_equal (s_publish_seat (tally, view, other_index, 4), 0);
    candidate_t winner = rushed->candidates [0];
    winner.votes = 0;
    declaration_t rush = { .ons_id = rushed->ons_id, .revision = 1, .kind = DECL_RUSH,
                           .electorate = rushed->electorate, .candidates = &winner, .n_candidates = 1 };
    assert_int_equal (tally_apply (tally, &rush, &verdict), TALLY_ACCEPTED);
    assert_int_equal (s_publish_seat (tally, view, rushed_index, 5), 0);

    json_t *json = state_json_seat (state_view_seat (view, LUTON_NORTH));
    s_expect_seat (json, state_view_seat (view, LUTON_NORTH));
    s_expect_int (json, "revision", 2);
    s_expect_string (json, "reason", "recount");
    json_decref (json);

    json = state_json_seat (state_view_seat (view, other->ons_id));
    s_expect_seat (json, state_view_seat (view, other->ons_id));
    s_expect_bool (json, "declared", false);
    s_expect_string (json, "reason", "retraction");
    s_expect_string (json, "winner", NULL);
    s_expect_string (json, "outcome", NULL);
    assert_int_equal (json_array_size (json_object_get (json, "candidates")), 0);
    json_decref (json);

    json = state_json_seat (state_view_seat (view, rushed->ons_id));
    s_expect_seat (json, state_view_seat (view, rushed->ons_id));
    s_expect_string (json, "kind", "rush");
    s_expect_string (json, "reason", NULL);
    s_expect_string (json, "winner", winner.party);
    json_decref (json);

    //  A retracted seat is no longer among the declared
    json = state_json_state (view);
    s_expect_int (json, "sequence", 5);
    s_expect_int (json, "declared", 2);
    const json_t *seats = json_object_get (json, "constituencies");
    assert_int_equal (json_array_size (seats), 2);
    for (size_t i = 0; i < 2; i++)
        assert_string_not_equal (json_string_value (json_object_get (json_array_get (seats, i), "id")),
                                 other->ons_id);
    json_decref (json);
    state_view_destroy (&view);
    tally_destroy (&tally);
}

//  The returning officer's totals: the official turnout beside the
//  valid-vote turnout, each saying which it is
static void
test_official_turnout (void **state)
{
    fixture_t *fx = *state;
    tally_t *tally = tally_new (fx->ge2015, &s_bbc);
    state_view_t *view = state_view_new ();
    const seat_result_t *luton = results_find (fx->ge2017, LUTON_NORTH);
    declaration_t decl = {
        .ons_id = luton->ons_id, .revision = 1, .electorate = luton->electorate,
        .candidates = luton->candidates, .n_candidates = luton->n_candidates,
        .has_valid_votes = true, .valid_votes = 46622,
        .has_rejected_ballots = true, .rejected_ballots = 130,
        .has_ballot_papers = true, .ballot_papers = 46752
    };
    tally_verdict_t verdict;
    assert_int_equal (tally_apply (tally, &decl, &verdict), TALLY_ACCEPTED);
    assert_int_equal (s_publish_seat (tally, view, verdict.seat, 1), 0);
    json_t *json = state_json_seat (state_view_seat (view, LUTON_NORTH));
    s_expect_seat (json, state_view_seat (view, LUTON_NORTH));
    s_expect_real (json, "turnout", 100.0 * 46622 / luton->electorate);
    s_expect_real (json, "official_turnout", 100.0 * 46752 / luton->electorate);
    s_expect_int (json, "ballot_papers", 46752);
    s_expect_int (json, "rejected_ballots", 130);
    json_decref (json);
    state_view_destroy (&view);
    tally_destroy (&tally);
}

//  What is held for a second look: a top-level "held" array, never in
//  constituencies; the desk topic as a stream line
static void
test_held (void **state)
{
    (void) state;
    state_view_t *view = state_view_new ();
    Election__Candidate cands [2] = { ELECTION__CANDIDATE__INIT, ELECTION__CANDIDATE__INIT };
    cands [0].name = "Caroline Kerswell";
    cands [0].party = "Con";
    cands [0].has_votes = true;
    cands [0].votes = 29765;
    cands [1].name = "Kelvin Hopkins";
    cands [1].party = "Lab";
    cands [1].has_votes = true;
    cands [1].votes = 15401;
    Election__Candidate *cand_list [2] = { &cands [0], &cands [1] };
    Election__Declaration decl = ELECTION__DECLARATION__INIT;
    decl.ons_id = LUTON_NORTH;
    decl.has_electorate = true;
    decl.electorate = 66811;
    decl.n_candidates = 2;
    decl.candidates = cand_list;
    char *reasons [] = { "swing 26.6 from Lab to Con", "Con share 63.8% (+33.9)" };
    Election__HeldDeclaration held = ELECTION__HELD_DECLARATION__INIT;
    held.ons_id = LUTON_NORTH;
    held.name = "Luton North";
    held.has_revision = true;
    held.revision = 1;
    held.n_reasons = 2;
    held.reasons = reasons;
    held.source = "luton";
    held.has_sequence = true;
    held.sequence = 7;
    held.declaration = &decl;
    Election__HeldDeclaration *list [1] = { &held };
    Election__DeskSummary desk = ELECTION__DESK_SUMMARY__INIT;
    desk.n_held = 1;
    desk.held = list;
    Election__Update update = ELECTION__UPDATE__INIT;
    update.body_case = ELECTION__UPDATE__BODY_DESK;
    update.desk = &desk;
    update_head_stamp (&update, &(update_head_t) { .sequence = 7, .epoch = S_EPOCH,
                                                   .mode = ELECTION__MODE__MODE_REHEARSAL });
    size_t size = election__update__get_packed_size (&update);
    uint8_t bytes [size];
    election__update__pack (&update, bytes);
    update_head_t head;
    assert_true (update_head_peek (bytes, size, &head));
    assert_int_equal (head.body, ELECTION__UPDATE__BODY_DESK);
    assert_int_equal (state_view_put (view, "desk", bytes, size), 0);

    json_t *json = state_json_state (view);
    const json_t *list_json = json_object_get (json, "held");
    assert_int_equal (json_array_size (list_json), 1);
    const json_t *first = json_array_get (list_json, 0);
    s_expect_string (first, "id", LUTON_NORTH);
    s_expect_string (first, "name", "Luton North");
    s_expect_int (first, "revision", 1);
    s_expect_int (first, "sequence", 7);
    s_expect_string (first, "source", "luton");
    s_expect_int (first, "electorate", 66811);
    const json_t *why = json_object_get (first, "reasons");
    assert_int_equal (json_array_size (why), 2);
    assert_string_equal (json_string_value (json_array_get (why, 0)), "swing 26.6 from Lab to Con");
    const json_t *figures = json_object_get (first, "candidates");
    assert_int_equal (json_array_size (figures), 2);
    s_expect_int (json_array_get (figures, 0), "votes", 29765);
    assert_int_equal (json_array_size (json_object_get (json, "constituencies")), 0);
    json_decref (json);

    json = state_json_update ("desk", state_view_get (view, "desk"));
    s_expect_string (json, "topic", "desk");
    s_expect_int (json, "sequence", 7);
    assert_int_equal (json_array_size (json_object_get (json_object_get (json, "desk"), "held")), 1);
    json_decref (json);
    state_view_destroy (&view);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_seat),
        cmocka_unit_test (test_share_change_null_where_undefined),
        cmocka_unit_test (test_scope),
        cmocka_unit_test (test_whole_state),
        cmocka_unit_test (test_empty_state),
        cmocka_unit_test (test_health),
        cmocka_unit_test (test_parliament_2017),
        cmocka_unit_test (test_gains_and_seats),
        cmocka_unit_test (test_revision_rush_retraction),
        cmocka_unit_test (test_official_turnout),
        cmocka_unit_test (test_held),
    };
    return cmocka_run_group_tests (tests, s_group_setup, s_group_teardown);
}
