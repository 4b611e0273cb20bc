/*  state_json.c: see state_json.h.  */
#include "state_json.h"
#include "names.h"
#include "parliament.h"
#include "parties.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *
s_str (const char *text)
{
    return text ? json_string (text) : json_null ();
}

//  A party's full name and colour as the summary carries them; a summary
//  from before the register had them stands for itself, in neutral grey
static json_t *
s_party_name (const char *name, const char *code)
{
    return s_str (name && *name ? name : code);
}

static json_t *
s_colour (const char *colour)
{
    return json_string (colour && *colour ? colour : PARTIES_NEUTRAL_COLOUR);
}

//  The seat's previous result, or null
static json_t *
s_previous (const Election__PreviousResult *previous)
{
    if (!previous || !previous->winner)
        return json_null ();
    json_t *shares = json_array ();
    for (size_t i = 0; i < previous->n_shares; i++) {
        const Election__PartyShare *s = previous->shares [i];
        json_array_append_new (shares, json_pack ("{s:o, s:o, s:o, s:f, s:I}",
            "party", s_str (s->party), "name", s_party_name (s->name, s->party),
            "colour", s_colour (s->colour), "share", s->share, "votes", (json_int_t) s->votes));
    }
    return json_pack ("{s:o, s:o, s:o, s:I, s:I, s:o, s:o, s:o}",
        "winner", s_str (previous->winner),
        "winner_name", s_party_name (previous->winner_name, previous->winner),
        "winner_colour", s_colour (previous->winner_colour),
        "majority", (json_int_t) previous->majority,
        "valid_votes", (json_int_t) previous->valid_votes,
        "electorate", previous->has_electorate ? json_integer (previous->electorate) : json_null (),
        "turnout", previous->has_turnout ? json_real (previous->turnout) : json_null (),
        "shares", shares);
}

//  What a results desk needs beside the result (README "Seat context")
static void
s_seat_context (json_t *object, const Election__SeatSummary *seat)
{
    json_object_set_new (object, "withdrawn", json_boolean (seat->has_withdrawn && seat->withdrawn));
    bool projected = !seat->declared && seat->projected_winner;
    json_object_set_new (object, "projected_winner",
                         projected ? json_string (seat->projected_winner) : json_null ());
    json_object_set_new (object, "projected_winner_name", projected
                         ? s_party_name (seat->projected_winner_name, seat->projected_winner)
                         : json_null ());
    json_object_set_new (object, "projected_winner_colour", projected
                         ? s_colour (seat->projected_winner_colour) : json_null ());
    json_object_set_new (object, "projected_confidence", projected && seat->has_projected_confidence
                         ? json_real (seat->projected_confidence) : json_null ());
    json_object_set_new (object, "previous", s_previous (seat->previous));
    json_object_set_new (object, "majority_change", seat->has_majority_change
                         ? json_integer ((json_int_t) seat->majority_change) : json_null ());
    json_object_set_new (object, "swing", seat->has_swing
                         ? json_pack ("{s:f, s:o, s:o}", "points", seat->swing,
                                      "from", s_str (seat->swing_from), "to", s_str (seat->swing_to))
                         : json_null ());
}

json_t *
state_json_seat (const Election__SeatSummary *seat)
{
    json_t *candidates = json_array ();
    for (size_t i = 0; i < seat->n_candidates; i++) {
        const Election__CandidateResult *c = seat->candidates [i];
        json_array_append_new (candidates, json_pack ("{s:o, s:o, s:o, s:o, s:I, s:f, s:o, s:b}",
            "name", s_str (c->name), "party", s_str (c->party),
            "party_name", s_party_name (c->party_name, c->party), "colour", s_colour (c->colour),
            "votes", (json_int_t) c->votes, "share", c->share,
            "share_change", c->has_share_change ? json_real (c->share_change) : json_null (),
            "elected", c->elected));
    }
    json_t *object = json_pack ("{s:o, s:o, s:o, s:o, s:b, s:I, s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:f, s:o}",
        "id", s_str (seat->ons_id), "name", s_str (seat->name),
        "country", s_str (seat->country), "region", s_str (seat->region),
        "declared", seat->declared, "revision", (json_int_t) seat->revision,
        "kind", s_str (names_kind (seat->kind)), "reason", s_str (names_reason (seat->reason)),
        "winner", s_str (seat->declared ? seat->winner : NULL),
        "previous_winner", s_str (seat->previous_winner), "outcome", s_str (names_outcome (seat->outcome)),
        "majority", (json_int_t) seat->majority, "electorate", (json_int_t) seat->electorate,
        "valid_votes", (json_int_t) seat->valid_votes, "turnout", seat->turnout,
        "candidates", candidates);
    //  Lets a page that joins mid-night order the latest results
    if (object)
        json_object_set_new (object, "declared_at_ms", seat->has_declared_at_ms
                             ? json_integer ((json_int_t) seat->declared_at_ms) : json_null ());
    //  Declaration order, where times tie (a replay at full speed)
    if (object)
        json_object_set_new (object, "declared_sequence", seat->has_declared_sequence
                             ? json_integer ((json_int_t) seat->declared_sequence) : json_null ());
    const char *winner = seat->declared ? seat->winner : NULL;
    if (object) {
        json_object_set_new (object, "winner_name", winner ? s_party_name (seat->winner_name, winner)
                                                           : json_null ());
        json_object_set_new (object, "winner_colour", winner ? s_colour (seat->winner_colour)
                                                             : json_null ());
        //  "turnout" is valid votes / electorate; "official_turnout" ballot
        //  papers / electorate, where the returning officer's totals came
        json_object_set_new (object, "official_turnout", seat->has_official_turnout
                             ? json_real (seat->official_turnout) : json_null ());
        json_object_set_new (object, "ballot_papers", seat->has_ballot_papers
                             ? json_integer (seat->ballot_papers) : json_null ());
        json_object_set_new (object, "rejected_ballots", seat->has_rejected_ballots
                             ? json_integer (seat->rejected_ballots) : json_null ());
        s_seat_context (object, seat);
    }
    return object;
}

static json_t *
s_parties (const Election__NationalSummary *national)
{
    json_t *parties = json_array ();
    for (size_t i = 0; i < national->n_parties; i++) {
        const Election__PartyLine *p = national->parties [i];
        json_array_append_new (parties, json_pack ("{s:o, s:o, s:o, s:i, s:i, s:I, s:f, s:f}",
            "party", s_str (p->party), "name", s_party_name (p->name, p->party),
            "colour", s_colour (p->colour), "seats", p->seats, "change", p->change,
            "votes", (json_int_t) p->votes, "share", p->share, "share_change", p->share_change));
    }
    return parties;
}

json_t *
state_json_national (const Election__NationalSummary *national)
{
    json_t *object = json_pack ("{s:o, s:I, s:I, s:I, s:I, s:o}",
        "scope", s_str (national->scope), "declared", (json_int_t) national->declared,
        "seats_total", (json_int_t) national->seats_total,
        "majority_line", (json_int_t) national->majority_line,
        "total_votes", (json_int_t) national->total_votes, "parties", s_parties (national));
    if (national->has_swing)
        json_object_set_new (object, "swing", json_pack ("{s:f, s:o, s:o}", "points", national->swing,
            "from", s_str (national->swing_from), "to", s_str (national->swing_to)));
    return object;
}

static json_t *
s_projected_parties (Election__ProjectedParty **parties, size_t n)
{
    json_t *array = json_array ();
    for (size_t i = 0; i < n; i++) {
        const Election__ProjectedParty *p = parties [i];
        json_array_append_new (array, json_pack ("{s:o, s:o, s:o, s:i, s:i, s:i, s:i}",
            "party", s_str (p->party), "name", s_party_name (p->name, p->party),
            "colour", s_colour (p->colour), "seats", p->seats, "low", p->low, "high", p->high,
            "declared", p->declared));
    }
    return array;
}

json_t *
state_json_exit_poll (const Election__ExitPoll *poll)
{
    if (!poll)
        return json_null ();
    json_t *parties = json_array ();
    for (size_t i = 0; i < poll->n_parties; i++) {
        const Election__ExitPollParty *p = poll->parties [i];
        json_array_append_new (parties, json_pack ("{s:o, s:o, s:o, s:I}",
            "party", s_str (p->party), "name", s_party_name (p->name, p->party),
            "colour", s_colour (p->colour), "seats", (json_int_t) p->seats));
    }
    return json_pack ("{s:o, s:o, s:o}", "parties", parties,
        "published_at_ms", poll->has_published_at_ms
                           ? json_integer ((json_int_t) poll->published_at_ms) : json_null (),
        "source", s_str (poll->source));
}

json_t *
state_json_projection (const Election__Projection *projection)
{
    if (!projection)
        return json_null ();
    json_t *nations = json_array ();
    for (size_t i = 0; i < projection->n_nations; i++) {
        const Election__ProjectedNation *n = projection->nations [i];
        json_array_append_new (nations, json_pack ("{s:o, s:I, s:I, s:I, s:I, s:o}",
            "nation", s_str (n->nation), "declared", (json_int_t) n->declared,
            "projected", (json_int_t) n->projected, "seats_total", (json_int_t) n->seats_total,
            "based_on", (json_int_t) n->based_on,
            "parties", s_projected_parties (n->parties, n->n_parties)));
    }
    return json_pack ("{s:o, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:I}",
        "basis", s_str (projection->basis), "based_on", (json_int_t) projection->based_on,
        "declared", (json_int_t) projection->declared,
        "seats_total", (json_int_t) projection->seats_total,
        "majority_line", (json_int_t) projection->majority_line,
        "verdict", s_str (projection->verdict),
        "parties", s_projected_parties (projection->parties, projection->n_parties),
        "nations", nations, "exit_poll", state_json_exit_poll (projection->exit_poll),
        "exit_poll_until", (json_int_t) projection->exit_poll_until);
}

json_t *
state_json_held (const Election__DeskSummary *desk)
{
    json_t *held = json_array ();
    for (size_t i = 0; desk && i < desk->n_held; i++) {
        const Election__HeldDeclaration *h = desk->held [i];
        json_t *reasons = json_array ();
        for (size_t r = 0; r < h->n_reasons; r++)
            json_array_append_new (reasons, json_string (h->reasons [r]));
        //  The figures as sent, for the desk's second look
        json_t *candidates = json_array ();
        const Election__Declaration *d = h->declaration;
        for (size_t c = 0; d && c < d->n_candidates; c++)
            json_array_append_new (candidates, json_pack ("{s:o, s:o, s:I}",
                "name", s_str (d->candidates [c]->name), "party", s_str (d->candidates [c]->party),
                "votes", (json_int_t) d->candidates [c]->votes));
        json_array_append_new (held, json_pack ("{s:o, s:o, s:I, s:o, s:o, s:I, s:I, s:I, s:o}",
            "id", s_str (h->ons_id), "name", s_str (h->name), "revision", (json_int_t) h->revision,
            "reasons", reasons, "source", s_str (h->source),
            "received_at_ms", (json_int_t) h->received_at_ms, "sequence", (json_int_t) h->sequence,
            "electorate", (json_int_t) (d ? d->electorate : 0), "candidates", candidates));
    }
    return held;
}

json_t *
state_json_update (const char *topic, const Election__Update *update)
{
    json_t *object = json_pack ("{s:s, s:I, s:s}", "topic", topic,
        "sequence", (json_int_t) update->sequence, "mode", names_mode (update->mode));
    //  When it was published: lets a screen or a load test measure delivery
    if (object && update->has_sent_at_us)
        json_object_set_new (object, "sent_at_us", json_integer ((json_int_t) update->sent_at_us));
    if (update->body_case == ELECTION__UPDATE__BODY_SEAT)
        json_object_set_new (object, "seat", state_json_seat (update->seat));
    else
    if (update->body_case == ELECTION__UPDATE__BODY_NATIONAL)
        json_object_set_new (object, "national", state_json_national (update->national));
    else
    if (update->body_case == ELECTION__UPDATE__BODY_HEARTBEAT) {
        const Election__Heartbeat *heartbeat = update->heartbeat;
        json_t *body = json_pack ("{s:b, s:I, s:o}",
            "upstream_ok", heartbeat->upstream_ok, "silent_ms", (json_int_t) heartbeat->silent_ms,
            "source", s_str (heartbeat->source));
        //  Which tier is not live, when upstream_ok is false
        if (body)
            json_object_set_new (body, "stale_source", s_str (heartbeat->upstream_ok ? NULL
                : heartbeat->stale_source ? heartbeat->stale_source : heartbeat->source));
        if (body && heartbeat->has_web_ok)
            json_object_set_new (body, "web_ok", json_boolean (heartbeat->web_ok));
        if (body && heartbeat->has_web_dropped)
            json_object_set_new (body, "web_dropped", json_integer ((json_int_t) heartbeat->web_dropped));
        //  One of a pair: which is active, and whether a copy exists
        if (body && heartbeat->has_pair_state && names_pair_state (heartbeat->pair_state))
            json_object_set_new (body, "pair", json_pack ("{s:s, s:o, s:b, s:I, s:I}",
                "state", names_pair_state (heartbeat->pair_state), "role", s_str (heartbeat->pair_role),
                "copy", heartbeat->copy, "copy_behind", (json_int_t) heartbeat->copy_behind,
                "term", (json_int_t) heartbeat->term));
        json_object_set_new (object, "heartbeat", body);
    }
    else
    if (update->body_case == ELECTION__UPDATE__BODY_PROJECTION)
        json_object_set_new (object, "projection", state_json_projection (update->projection));
    else
    if (update->body_case == ELECTION__UPDATE__BODY_DESK)
        json_object_set_new (object, "desk", json_pack ("{s:o}", "held",
                                                        state_json_held (update->desk)));
    return object;
}

typedef struct {
    json_t *seats;
    json_t *regions;
} s_collect_t;

static void
s_collect (void *arg, const char *topic, const Election__Update *update)
{
    s_collect_t *collect = arg;
    if (update->body_case == ELECTION__UPDATE__BODY_SEAT && update->seat->declared)
        json_array_append_new (collect->seats, state_json_seat (update->seat));
    else
    if (update->body_case == ELECTION__UPDATE__BODY_NATIONAL && strcmp (topic, "national") != 0)
        json_array_append_new (collect->regions, state_json_national (update->national));
}

static int
s_by_id (const void *a, const void *b)
{
    const char *left = json_string_value (json_object_get (*(json_t *const *) a, "id"));
    const char *right = json_string_value (json_object_get (*(json_t *const *) b, "id"));
    return strcmp (left ? left : "", right ? right : "");
}

//  array's objects sorted by compare, as a new array (array is released)
static json_t *
s_sorted (json_t *array, int (*compare) (const void *, const void *))
{
    size_t n = json_array_size (array);
    json_t **items = malloc ((n ? n : 1) * sizeof *items);
    json_t *sorted = json_array ();
    if (items) {
        for (size_t i = 0; i < n; i++)
            items [i] = json_incref (json_array_get (array, i));
        qsort (items, n, sizeof *items, compare);
        for (size_t i = 0; i < n; i++)
            json_array_append_new (sorted, items [i]);
        free (items);
    }
    json_decref (array);
    return sorted;
}

static void
s_collect_all (void *arg, const char *topic, const Election__Update *update)
{
    if (update->body_case == ELECTION__UPDATE__BODY_SEAT)
        json_array_append_new (arg, state_json_seat (update->seat));
}

json_t *
state_json_seats (const state_view_t *view)
{
    json_t *seats = json_array ();
    state_view_each (view, s_collect_all, seats);
    return json_pack ("{s:I, s:o}", "sequence", (json_int_t) state_view_sequence (view),
                      "seats", s_sorted (seats, s_by_id));
}

typedef struct {
    const state_view_t *view;
    json_t *gains;
} s_gains_t;

//  A party's full name: as the seat's candidates, or the UK summary, carry
//  it; else its code
static const char *
s_name_of (const state_view_t *view, const Election__SeatSummary *seat, const char *code)
{
    if (!code)
        return NULL;
    for (size_t i = 0; i < seat->n_candidates; i++)
        if (seat->candidates [i]->party && strcmp (seat->candidates [i]->party, code) == 0
        &&  seat->candidates [i]->party_name && *seat->candidates [i]->party_name)
            return seat->candidates [i]->party_name;
    const Election__NationalSummary *national = state_view_national (view);
    for (size_t i = 0; national && i < national->n_parties; i++)
        if (national->parties [i]->party && strcmp (national->parties [i]->party, code) == 0
        &&  national->parties [i]->name && *national->parties [i]->name)
            return national->parties [i]->name;
    return code;
}

static void
s_collect_gain (void *arg, const char *topic, const Election__Update *update)
{
    s_gains_t *gains = arg;
    if (update->body_case != ELECTION__UPDATE__BODY_SEAT)
        return;
    const Election__SeatSummary *seat = update->seat;
    if (!seat->declared || seat->outcome != ELECTION__OUTCOME__OUTCOME_GAIN)
        return;
    json_array_append_new (gains->gains, json_pack ("{s:s?, s:s?, s:s?, s:s?, s:o, s:s?, s:s?, s:o, s:I}",
        "id", seat->ons_id, "name", seat->name, "winner", seat->winner,
        "winner_name", s_name_of (gains->view, seat, seat->winner),
        "winner_colour", s_colour (seat->winner_colour),
        "previous_winner", seat->previous_winner,
        "previous_winner_name", s_name_of (gains->view, seat, seat->previous_winner),
        "declared_at_ms", seat->has_declared_at_ms ? json_integer ((json_int_t) seat->declared_at_ms)
                                                   : json_null (),
        "sequence", (json_int_t) (seat->has_declared_sequence ? seat->declared_sequence
                                                              : update->sequence)));
}

//  Declaration order: when declared (a seat without the time last), then sequence
static int
s_by_declaration (const void *a, const void *b)
{
    json_t *left = *(json_t *const *) a, *right = *(json_t *const *) b;
    json_t *left_at = json_object_get (left, "declared_at_ms");
    json_t *right_at = json_object_get (right, "declared_at_ms");
    if (json_is_integer (left_at) != json_is_integer (right_at))
        return json_is_integer (left_at) ? -1 : 1;
    json_int_t l = json_integer_value (left_at), r = json_integer_value (right_at);
    if (l != r)
        return l < r ? -1 : 1;
    l = json_integer_value (json_object_get (left, "sequence"));
    r = json_integer_value (json_object_get (right, "sequence"));
    return l < r ? -1 : l > r;
}

json_t *
state_json_gains (const state_view_t *view)
{
    s_gains_t gains = { view, json_array () };
    state_view_each (view, s_collect_gain, &gains);
    return s_sorted (gains.gains, s_by_declaration);
}

json_t *
state_json_state (const state_view_t *view)
{
    s_collect_t collect = { json_array (), json_array () };
    state_view_each (view, s_collect, &collect);

    //  Stable order whatever the arrival order: sort seats by ONS id
    json_t *sorted = s_sorted (collect.seats, s_by_id);

    const Election__NationalSummary *national = state_view_national (view);
    char epoch [17];
    snprintf (epoch, sizeof epoch, "%016llx", (unsigned long long) state_view_epoch (view));
    json_t *state = json_pack ("{s:I, s:s, s:s, s:I, s:I, s:I, s:I}",
        "sequence", (json_int_t) state_view_sequence (view), "epoch", epoch,
        "mode", names_mode (state_view_mode (view)),
        "declared", (json_int_t) (national ? national->declared : 0),
        "seats_total", (json_int_t) (national ? national->seats_total : 0),
        "majority_line", (json_int_t) (national ? national->majority_line : 0),
        "total_votes", (json_int_t) (national ? national->total_votes : 0));
    json_object_set_new (state, "parties", national ? s_parties (national) : json_array ());
    if (national && national->has_swing)
        json_object_set_new (state, "swing", json_pack ("{s:f, s:o, s:o}", "points", national->swing,
            "from", s_str (national->swing_from), "to", s_str (national->swing_to)));
    json_object_set_new (state, "constituencies", sorted);
    json_object_set_new (state, "regions", collect.regions);
    //  Never inside constituencies: what is held is not on air
    const Election__Update *desk = state_view_get (view, "desk");
    json_object_set_new (state, "held", state_json_held (desk && desk->body_case == ELECTION__UPDATE__BODY_DESK
                                                         ? desk->desk : NULL));
    //  Whether these figures are live, and whose word that is (relayed
    //  down the chain: a failing journal at the aggregator says false here)
    json_object_set_new (state, "upstream_ok", json_boolean (state_view_upstream_ok (view)));
    json_object_set_new (state, "source", s_str (state_view_source (view)));
    json_object_set_new (state, "parliament", parliament_json (national));
    json_object_set_new (state, "gains", state_json_gains (view));
    //  Where the night is going, and the exit poll behind it (null before any)
    const Election__Update *projection = state_view_get (view, "projection");
    const Election__Projection *body = projection && projection->body_case
                                       == ELECTION__UPDATE__BODY_PROJECTION ? projection->projection : NULL;
    json_object_set_new (state, "projection", state_json_projection (body));
    json_object_set_new (state, "exit_poll", state_json_exit_poll (body ? body->exit_poll : NULL));
    return state;
}
