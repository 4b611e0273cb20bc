/*  desk.c: see desk.h.  */
#include "desk.h"
#include "clock.h"
#include "summary.h"
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_NONE (-1L)

struct desk {
    const tally_t *tally;
    const parties_t *parties;
    projection_t *projection;
    uint32_t exit_poll_until;
    Election__ExitPoll *exit_poll;  /* our copy, or NULL */
    long *published;            /* per seat: party id of the projected winner last
                                   published, S_NONE for none */
    size_t n_seats;
    bool stale;                 /* declarations since the last projection */
    bool projected;             /* desk_project has run once */
    int64_t last_ms;            /* mono ms the last projection ran */
    int64_t cost_us;            /* and what it cost */
    size_t projected_declared;  /* seats declared when it ran */
};

//  protobuf-c takes char *, the views hand out const char *
#define S_STR(text) ((char *) (text))

desk_t *
desk_new (const tally_t *tally, const parties_t *parties, uint32_t exit_poll_until)
{
    desk_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->tally = tally;
    self->parties = parties;
    self->exit_poll_until = exit_poll_until;
    self->n_seats = tally_seats_total (tally);
    self->projection = projection_new (tally, NULL);
    self->published = malloc ((self->n_seats ? self->n_seats : 1) * sizeof *self->published);
    if (!self->projection || !self->published) {
        desk_destroy (&self);
        return NULL;
    }
    for (size_t i = 0; i < self->n_seats; i++)
        self->published [i] = S_NONE;
    self->stale = true;
    return self;
}

void
desk_destroy (desk_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    desk_t *self = *self_p;
    projection_destroy (&self->projection);
    if (self->exit_poll)
        election__exit_poll__free_unpacked (self->exit_poll, NULL);
    free (self->published);
    free (self);
    *self_p = NULL;
}

bool
desk_seat_swing (const seat_view_t *view, double *points, const char **from, const char **to)
{
    if (!view->declared || view->kind != DECL_RESULT || view->n_candidates < 2)
        return false;
    const candidate_view_t *first = &view->candidates [0], *second = &view->candidates [1];
    if (!first->has_share_change || !second->has_share_change
    ||  strcmp (first->party, second->party) == 0)
        return false;
    double swing = (first->share_change - second->share_change) / 2.0;
    *points = swing >= 0 ? swing : -swing;
    *from = swing >= 0 ? second->party : first->party;
    *to = swing >= 0 ? first->party : second->party;
    return true;
}

//  What summary_pack_seat_with hands us: the seat's Update, to which we add
//  its context before packing (every addition lives on this stack frame)
static uint8_t *
s_seat_extra (void *arg, size_t seat, const seat_view_t *view, Election__Update *update,
              const update_head_t *head, size_t *size)
{
    desk_t *self = arg;
    Election__SeatSummary *summary = update->seat;
    seat_baseline_t base;
    tally_seat_baseline (self->tally, seat, &base);
    size_t n_shares = base.winner ? base.n_parties : 0;
    Election__PreviousResult previous = ELECTION__PREVIOUS_RESULT__INIT;
    Election__PartyShare shares [n_shares ? n_shares : 1];
    Election__PartyShare *share_list [n_shares ? n_shares : 1];
    if (base.winner) {
        previous.winner = S_STR (base.winner);
        previous.winner_name = S_STR (parties_name (self->parties, base.winner));
        previous.winner_colour = S_STR (parties_colour (self->parties, base.winner));
        previous.has_majority = true;
        previous.majority = base.majority;
        previous.has_valid_votes = true;
        previous.valid_votes = base.valid_votes;
        previous.has_electorate = base.electorate != 0;
        previous.electorate = base.electorate;
        previous.has_turnout = base.has_turnout;
        previous.turnout = base.turnout;
        for (size_t i = 0; i < n_shares; i++) {
            const baseline_party_t *in = &base.parties [i];
            election__party_share__init (&shares [i]);
            shares [i].party = S_STR (in->party);
            shares [i].name = S_STR (parties_name (self->parties, in->party));
            shares [i].colour = S_STR (parties_colour (self->parties, in->party));
            shares [i].has_share = true;
            shares [i].share = in->share;
            shares [i].has_votes = true;
            shares [i].votes = in->votes;
            share_list [i] = &shares [i];
        }
        previous.n_shares = n_shares;
        previous.shares = share_list;
        summary->previous = &previous;
    }
    //  A rush has no majority yet: no change to speak of
    if (view->declared && view->kind == DECL_RESULT && base.winner) {
        summary->has_majority_change = true;
        summary->majority_change = view->majority - base.majority;
    }
    double points;
    const char *from, *to;
    if (desk_seat_swing (view, &points, &from, &to)) {
        summary->has_swing = true;
        summary->swing = points;
        summary->swing_from = S_STR (from);
        summary->swing_to = S_STR (to);
    }
    summary->has_withdrawn = true;
    summary->withdrawn = !view->declared && view->revision > 0;
    const char *projected = !view->declared && self->projected
                          ? projection_seat_winner (self->projection, seat) : NULL;
    if (projected) {
        summary->projected_winner = S_STR (projected);
        summary->projected_winner_name = S_STR (parties_name (self->parties, projected));
        summary->projected_winner_colour = S_STR (parties_colour (self->parties, projected));
        summary->has_projected_confidence = true;
        summary->projected_confidence = projection_seat_confidence (self->projection, seat);
    }
    return summary_pack (update, head, size);
}

uint8_t *
desk_pack_seat (desk_t *self, size_t seat, const update_head_t *head, size_t *size)
{
    assert (self);
    return summary_pack_seat_with (self->tally, self->parties, seat, head, size, s_seat_extra, self);
}

void
desk_mark_stale (desk_t *self)
{
    assert (self);
    self->stale = true;
}

bool
desk_projection_due (const desk_t *self, int64_t now_ms, int64_t *next_ms)
{
    assert (self);
    *next_ms = -1;
    if (!self->stale)
        return false;
    //  The night's last result is shown at once, whatever it costs (not
    //  every correction after it: those wait their turn as any)
    size_t declared = tally_declared (self->tally);
    if (!self->projected || (declared == self->n_seats && self->projected_declared != declared))
        return true;
    int64_t wait_ms = (self->cost_us * DESK_COST_FACTOR + 999) / 1000;
    *next_ms = self->last_ms + wait_ms;
    return now_ms >= *next_ms;
}

int
desk_project (desk_t *self, int64_t now_ms)
{
    assert (self);
    int64_t started = clock_mono_us ();
    if (projection_update (self->projection))
        return -1;
    self->cost_us = clock_mono_us () - started;
    self->last_ms = now_ms;
    self->stale = false;
    self->projected = true;
    self->projected_declared = tally_declared (self->tally);
    return 0;
}

bool
desk_winner_changed (desk_t *self, size_t seat)
{
    assert (self);
    if (seat >= self->n_seats)
        return false;
    const char *winner = projection_seat_winner (self->projection, seat);
    long id = winner ? tally_party_find (self->tally, winner) : S_NONE;
    if (id == self->published [seat])
        return false;
    self->published [seat] = id;
    seat_view_t view;
    tally_seat (self->tally, seat, &view);
    return !view.declared;
}

//  One party's line of the projection
static void
s_party (const desk_t *self, Election__ProjectedParty *out, const char *party, int seats,
         int low, int high, int declared)
{
    election__projected_party__init (out);
    out->party = S_STR (party);
    out->name = S_STR (parties_name (self->parties, party));
    out->colour = S_STR (parties_colour (self->parties, party));
    out->has_seats = out->has_low = out->has_high = out->has_declared = true;
    out->seats = seats;
    out->low = low;
    out->high = high;
    out->declared = declared;
}

static int
s_by_seats (const void *a, const void *b)
{
    const Election__ProjectedParty *left = a, *right = b;
    if (left->seats != right->seats)
        return right->seats - left->seats;
    return strcmp (left->party, right->party);
}

//  The verdict as projection.c words it, of whichever basis
static void
s_verdict (Election__Projection *out, const Election__ProjectedParty *largest, char *verdict,
           size_t size)
{
    if (!largest || largest->seats <= 0) {
        snprintf (verdict, size, "No projection yet");
        return;
    }
    int line = (int) out->majority_line;
    out->largest = largest->party;
    out->has_majority = out->has_margin = true;
    out->majority = largest->seats >= line;
    out->margin = out->majority ? 2 * largest->seats - (int) out->seats_total : line - largest->seats;
    if (out->majority)
        snprintf (verdict, size, "%.40s majority of %d", largest->party, out->margin);
    else
        snprintf (verdict, size, "Hung parliament: %.40s %d short of %d", largest->party,
                  out->margin, line);
}

uint8_t *
desk_pack_projection (desk_t *self, const update_head_t *head, size_t *size)
{
    assert (self);
    projection_view_t uk;
    projection_scope (self->projection, 0, &uk);
    size_t n_scopes = projection_scope_count (self->projection);
    bool by_poll = self->exit_poll && uk.based_on < self->exit_poll_until;
    size_t n_lines = by_poll ? self->exit_poll->n_parties : uk.n_parties;
    size_t n_nation_lines = 0;
    for (size_t i = 1; i < n_scopes; i++) {
        projection_view_t nation;
        projection_scope (self->projection, i, &nation);
        n_nation_lines += nation.n_parties;
    }
    Election__ProjectedParty *lines = calloc (n_lines + n_nation_lines + 1, sizeof *lines);
    Election__ProjectedParty **line_list = calloc (n_lines + n_nation_lines + 1, sizeof *line_list);
    Election__ProjectedNation *nations = calloc (n_scopes, sizeof *nations);
    Election__ProjectedNation **nation_list = calloc (n_scopes, sizeof *nation_list);
    uint8_t *bytes = NULL;
    if (!lines || !line_list || !nations || !nation_list)
        goto done;

    Election__Projection out = ELECTION__PROJECTION__INIT;
    out.basis = by_poll ? "exit poll" : uk.has_basis ? "results" : "baseline";
    out.has_based_on = out.has_declared = out.has_seats_total = out.has_majority_line = true;
    out.based_on = (uint32_t) uk.based_on;
    out.declared = (uint32_t) uk.declared;
    out.seats_total = (uint32_t) self->n_seats;
    out.majority_line = (uint32_t) (self->n_seats / 2 + 1);
    out.has_exit_poll_until = true;
    out.exit_poll_until = self->exit_poll_until;
    out.exit_poll = self->exit_poll;
    if (by_poll) {
        //  The poll's seats; what is declared of each, from the results
        for (size_t i = 0; i < n_lines; i++) {
            const Election__ExitPollParty *in = self->exit_poll->parties [i];
            int declared = 0;
            for (size_t p = 0; p < uk.n_parties; p++)
                if (strcmp (uk.parties [p].party, in->party) == 0)
                    declared = uk.parties [p].declared;
            s_party (self, &lines [i], in->party, (int) in->seats, (int) in->seats,
                     (int) in->seats, declared);
        }
        qsort (lines, n_lines, sizeof *lines, s_by_seats);
    }
    else
        for (size_t i = 0; i < n_lines; i++) {
            const projection_party_t *in = &uk.parties [i];
            s_party (self, &lines [i], in->party, in->seats, in->low, in->high, in->declared);
        }
    for (size_t i = 0; i < n_lines; i++)
        line_list [i] = &lines [i];
    out.n_parties = n_lines;
    out.parties = line_list;
    char verdict [128];
    s_verdict (&out, n_lines ? &lines [0] : NULL, verdict, sizeof verdict);
    if (!by_poll && !uk.has_basis)
        snprintf (verdict, sizeof verdict, "%s", uk.verdict);
    out.verdict = verdict;

    size_t used = n_lines;
    for (size_t i = 1; i < n_scopes; i++) {
        projection_view_t view;
        projection_scope (self->projection, i, &view);
        Election__ProjectedNation *nation = &nations [i - 1];
        election__projected_nation__init (nation);
        nation->nation = S_STR (view.scope);
        nation->has_declared = nation->has_projected = nation->has_seats_total = true;
        nation->has_based_on = true;
        nation->declared = (uint32_t) view.declared;
        nation->seats_total = (uint32_t) view.seats_total;
        nation->projected = (uint32_t) (view.seats_total - view.declared);
        nation->based_on = (uint32_t) view.based_on;
        nation->parties = &line_list [used];
        for (size_t p = 0; p < view.n_parties; p++, used++) {
            const projection_party_t *in = &view.parties [p];
            s_party (self, &lines [used], in->party, in->seats, in->low, in->high, in->declared);
            line_list [used] = &lines [used];
        }
        nation->n_parties = view.n_parties;
        nation_list [i - 1] = nation;
    }
    out.n_nations = n_scopes - 1;
    out.nations = nation_list;

    Election__Update update = ELECTION__UPDATE__INIT;
    update.body_case = ELECTION__UPDATE__BODY_PROJECTION;
    update.projection = &out;
    bytes = summary_pack (&update, head, size);
done:
    free (lines);
    free (line_list);
    free (nations);
    free (nation_list);
    return bytes;
}

bool
desk_exit_poll_check (const Election__ExitPoll *poll, const parties_t *parties,
                      size_t seats_total, char *why, size_t why_size)
{
    if (!poll || poll->n_parties == 0) {
        snprintf (why, why_size, "no party in it: an exit poll is a line \"party,seats\" per party");
        return false;
    }
    uint64_t total = 0;
    for (size_t i = 0; i < poll->n_parties; i++) {
        const Election__ExitPollParty *party = poll->parties [i];
        if (!party->party || !*party->party || strlen (party->party) > 32) {
            snprintf (why, why_size, "row %zu has no party code (or one over 32 bytes)", i + 1);
            return false;
        }
        for (const char *c = party->party; *c; c++)
            if ((unsigned char) *c < 0x20 || *c == 0x7F) {
                snprintf (why, why_size, "row %zu: the party code has control characters", i + 1);
                return false;
            }
        if (parties && !parties_find (parties, party->party)) {
            const party_entry_t *match = parties_match (parties, party->party);
            if (match)
                snprintf (why, why_size, "row %zu: \"%.32s\" is not a party code of the register: "
                          "send %s", i + 1, party->party, match->code);
            else
                snprintf (why, why_size, "row %zu: party \"%.32s\" is not in the party register",
                          i + 1, party->party);
            return false;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp (poll->parties [j]->party, party->party) == 0) {
                snprintf (why, why_size, "row %zu: %.32s is given twice (row %zu too)", i + 1,
                          party->party, j + 1);
                return false;
            }
        total += party->seats;
    }
    if (total > seats_total) {
        snprintf (why, why_size, "the seats add up to %llu, more than the %zu seats there are",
                  (unsigned long long) total, seats_total);
        return false;
    }
    return true;
}

bool
desk_exit_poll_same (const desk_t *self, const Election__ExitPoll *poll)
{
    assert (self);
    const Election__ExitPoll *held = self->exit_poll;
    if (!held || !poll || held->n_parties != poll->n_parties)
        return false;
    for (size_t i = 0; i < poll->n_parties; i++)
        if (strcmp (held->parties [i]->party, poll->parties [i]->party) != 0
        ||  held->parties [i]->seats != poll->parties [i]->seats)
            return false;
    return true;
}

int
desk_set_exit_poll (desk_t *self, const Election__ExitPoll *poll)
{
    assert (self);
    //  A deep copy by the codec: the request's message is freed after this
    size_t size = election__exit_poll__get_packed_size (poll);
    uint8_t *bytes = malloc (size ? size : 1);
    if (!bytes)
        return -1;
    election__exit_poll__pack (poll, bytes);
    Election__ExitPoll *copy = election__exit_poll__unpack (NULL, size, bytes);
    free (bytes);
    if (!copy)
        return -1;
    //  Names and colours are the register's, whatever the sender put
    for (size_t i = 0; i < copy->n_parties; i++) {
        free (copy->parties [i]->name);
        free (copy->parties [i]->colour);
        copy->parties [i]->name = strdup (parties_name (self->parties, copy->parties [i]->party));
        copy->parties [i]->colour = strdup (parties_colour (self->parties, copy->parties [i]->party));
    }
    if (self->exit_poll)
        election__exit_poll__free_unpacked (self->exit_poll, NULL);
    self->exit_poll = copy;
    self->stale = true;
    return 0;
}

const Election__ExitPoll *
desk_exit_poll (const desk_t *self)
{
    assert (self);
    return self->exit_poll;
}
