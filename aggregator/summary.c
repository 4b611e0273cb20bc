/*  summary.c: see summary.h.

    The tally's kinds and reasons go on the wire as they are (a cast, no
    table): pinned here to the schema's numbers, so that a renumbering on
    either side stops the build.                                            */
#include "summary.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert ((int) DECL_RESULT == ELECTION__DECLARATION_KIND__KIND_RESULT, "decl_kind_t");
_Static_assert ((int) DECL_RUSH == ELECTION__DECLARATION_KIND__KIND_RUSH, "decl_kind_t");
_Static_assert ((int) REVISION_NONE == ELECTION__REVISION_REASON__REASON_NONE, "revision_reason_t");
_Static_assert ((int) REVISION_CORRECTION == ELECTION__REVISION_REASON__REASON_CORRECTION,
                "revision_reason_t");
_Static_assert ((int) REVISION_RECOUNT == ELECTION__REVISION_REASON__REASON_RECOUNT,
                "revision_reason_t");
_Static_assert ((int) REVISION_RETRACTION == ELECTION__REVISION_REASON__REASON_RETRACTION,
                "revision_reason_t");

//  prefix then name into buf, cut short if it must: snprintf's "%s%s"
//  without parsing a format on the path every declaration takes
static void
s_topic (char *buf, size_t size, const char *prefix, size_t prefix_length, const char *name)
{
    if (!size)
        return;
    size_t name_length = name ? strlen (name) : 0;
    if (prefix_length >= size)
        prefix_length = size - 1;
    if (name_length >= size - prefix_length)
        name_length = size - prefix_length - 1;
    memcpy (buf, prefix, prefix_length);
    if (name_length)
        memcpy (buf + prefix_length, name, name_length);
    buf [prefix_length + name_length] = 0;
}

void
summary_seat_topic (const tally_t *tally, size_t seat, char *buf, size_t size)
{
    seat_view_t view;
    tally_seat (tally, seat, &view);
    s_topic (buf, size, "seat.", 5, view.ons_id);
}

void
summary_scope_topic (const tally_t *tally, size_t scope, char *buf, size_t size)
{
    if (scope == 0)
        s_topic (buf, size, "national", 8, NULL);
    else
        s_topic (buf, size, "region.", 7, tally_scope_name (tally, scope));
}

static uint8_t *
s_pack (Election__Update *update, const update_head_t *head, size_t *size)
{
    update_head_stamp (update, head);
    *size = election__update__get_packed_size (update);
    uint8_t *bytes = malloc (*size ? *size : 1);
    if (bytes)
        election__update__pack (update, bytes);
    return bytes;
}

uint8_t *
summary_pack (Election__Update *update, const update_head_t *head, size_t *size)
{
    return s_pack (update, head, size);
}

//  protobuf-c takes char *, the views hand out const char *
#define S_STR(text) ((char *) (text))

uint8_t *
summary_pack_seat (const tally_t *tally, const parties_t *parties, size_t seat,
                   const update_head_t *head, size_t *size)
{
    return summary_pack_seat_with (tally, parties, seat, head, size, NULL, NULL);
}

uint8_t *
summary_pack_seat_with (const tally_t *tally, const parties_t *parties, size_t seat,
                        const update_head_t *head, size_t *size,
                        summary_seat_fn *extra, void *arg)
{
    seat_view_t view;
    tally_seat (tally, seat, &view);

    Election__SeatSummary summary = ELECTION__SEAT_SUMMARY__INIT;
    summary.ons_id = S_STR (view.ons_id);
    summary.name = S_STR (view.name);
    summary.country = S_STR (view.country);
    summary.region = S_STR (view.region);
    summary.has_declared = true;
    summary.declared = view.declared;
    summary.has_revision = true;
    summary.revision = view.revision;
    summary.has_kind = true;
    summary.kind = (Election__DeclarationKind) view.kind;
    summary.has_reason = true;
    summary.reason = (Election__RevisionReason) view.reason;
    summary.winner = S_STR (view.winner);
    summary.previous_winner = S_STR (view.previous_winner);
    summary.has_outcome = true;
    summary.outcome = !view.declared ? ELECTION__OUTCOME__OUTCOME_NONE
                    : view.gain ? ELECTION__OUTCOME__OUTCOME_GAIN : ELECTION__OUTCOME__OUTCOME_HOLD;
    summary.has_majority = true;
    summary.majority = view.majority;
    summary.has_electorate = true;
    summary.electorate = view.electorate;
    summary.has_valid_votes = true;
    summary.valid_votes = view.valid_votes;
    summary.has_turnout = true;
    summary.turnout = view.turnout;
    summary.has_declared_at_ms = view.declared_at_ms != 0;
    summary.declared_at_ms = view.declared_at_ms;
    summary.has_declared_sequence = view.sequence != 0;
    summary.declared_sequence = view.sequence;
    if (view.winner) {
        summary.winner_name = S_STR (parties_name (parties, view.winner));
        summary.winner_colour = S_STR (parties_colour (parties, view.winner));
    }
    summary.has_ballot_papers = view.has_ballot_papers;
    summary.ballot_papers = view.ballot_papers;
    summary.has_official_turnout = view.has_ballot_papers;
    summary.official_turnout = view.official_turnout;
    summary.has_rejected_ballots = view.has_rejected_ballots;
    summary.rejected_ballots = view.rejected_ballots;

    Election__CandidateResult results [view.n_candidates ? view.n_candidates : 1];
    Election__CandidateResult *pointers [view.n_candidates ? view.n_candidates : 1];
    for (size_t i = 0; i < view.n_candidates; i++) {
        const candidate_view_t *in = &view.candidates [i];
        Election__CandidateResult *out = &results [i];
        election__candidate_result__init (out);
        out->name = S_STR (in->name);
        out->party = S_STR (in->party);
        out->has_votes = true;
        out->votes = in->votes;
        out->has_share = true;
        out->share = in->share;
        out->has_share_change = in->has_share_change;
        out->share_change = in->share_change;
        out->has_elected = true;
        out->elected = in->elected;
        out->party_name = S_STR (parties_name (parties, in->party));
        out->colour = S_STR (parties_colour (parties, in->party));
        pointers [i] = out;
    }
    summary.n_candidates = view.n_candidates;
    summary.candidates = pointers;

    Election__Update update = ELECTION__UPDATE__INIT;
    update.body_case = ELECTION__UPDATE__BODY_SEAT;
    update.seat = &summary;
    if (!extra)
        return s_pack (&update, head, size);
    //  The caller adds what it knows (the seat's context): packed before
    //  its stack-held additions go
    return extra (arg, seat, &view, &update, head, size);
}

uint8_t *
summary_pack_scope (tally_t *tally, const parties_t *parties, size_t scope,
                    const update_head_t *head, size_t *size)
{
    scope_view_t view;
    tally_scope (tally, scope, &view);

    Election__NationalSummary summary = ELECTION__NATIONAL_SUMMARY__INIT;
    summary.scope = S_STR (view.scope);
    summary.has_declared = true;
    summary.declared = (uint32_t) view.declared;
    summary.has_seats_total = true;
    summary.seats_total = (uint32_t) view.seats_total;
    summary.has_majority_line = true;
    summary.majority_line = (uint32_t) view.majority_line;
    summary.has_total_votes = true;
    summary.total_votes = view.total_votes;
    summary.has_swing = view.has_swing;
    summary.swing = view.swing;
    summary.swing_from = view.has_swing ? S_STR (view.swing_from) : NULL;
    summary.swing_to = view.has_swing ? S_STR (view.swing_to) : NULL;

    size_t n = view.n_parties ? view.n_parties : 1;
    Election__PartyLine *lines = malloc (n * sizeof *lines);
    Election__PartyLine **pointers = malloc (n * sizeof *pointers);
    uint8_t *bytes = NULL;
    if (lines && pointers) {
        for (size_t i = 0; i < view.n_parties; i++) {
            const party_view_t *in = &view.parties [i];
            Election__PartyLine *out = &lines [i];
            election__party_line__init (out);
            out->party = S_STR (in->party);
            out->has_seats = true;
            out->seats = in->seats;
            out->has_change = true;
            out->change = in->change;
            out->has_votes = true;
            out->votes = in->votes;
            out->has_share = true;
            out->share = in->share;
            out->has_share_change = true;
            out->share_change = in->share_change;
            out->name = S_STR (parties_name (parties, in->party));
            out->colour = S_STR (parties_colour (parties, in->party));
            pointers [i] = out;
        }
        summary.n_parties = view.n_parties;
        summary.parties = pointers;
        Election__Update update = ELECTION__UPDATE__INIT;
        update.body_case = ELECTION__UPDATE__BODY_NATIONAL;
        update.national = &summary;
        bytes = s_pack (&update, head, size);
    }
    free (lines);
    free (pointers);
    return bytes;
}
