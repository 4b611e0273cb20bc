/*  render.c: see render.h.  */
#include "render.h"
#include "cli.h"
#include <ctype.h>
#include <stdbool.h>
#include <string.h>

const char *
render_thousands (long long n, char *buf, size_t size)
{
    return cli_thousands (n, buf, size);
}

static void
s_upper (const char *in, char *out, size_t size)
{
    size_t i = 0;
    for (; in && in [i] && i + 1 < size; i++)
        out [i] = (char) toupper ((unsigned char) in [i]);
    out [i] = 0;
}

//  A change in points, one decimal, signed: never "-0.0" for a fall that
//  rounds to nothing (it is "0.0"), and blank where there is no previous
//  figure to change from (has false)
static const char *
s_points (double value, bool has, char *buf, size_t size)
{
    if (!has)
        snprintf (buf, size, "%s", "");
    else
    if (value > -0.05 && value < 0.05)
        snprintf (buf, size, "%s", "0.0");
    else
        snprintf (buf, size, "%+.1f", value);
    return buf;
}

//  A change in seats: "0" rather than "+0"
static const char *
s_seats_change (int value, char *buf, size_t size)
{
    snprintf (buf, size, value ? "%+d" : "%d", value);
    return buf;
}

typedef struct {
    int seats, change;
    unsigned long long votes;
    double share, share_change;
} s_others_t;

static s_others_t
s_others (const Election__NationalSummary *national, size_t top)
{
    s_others_t others = { 0 };
    for (size_t i = top; top && i < national->n_parties; i++) {
        const Election__PartyLine *p = national->parties [i];
        others.seats += p->seats;
        others.change += p->change;
        others.votes += p->votes;
        others.share += p->share;
        others.share_change += p->share_change;
    }
    return others;
}

void
render_table (FILE *out, const Election__NationalSummary *national, size_t top, Election__Mode mode)
{
    char votes [32];
    fprintf (out, "\n%s: after %u of %u seats (majority %u)%s\n", national->scope,
             national->declared, national->seats_total, national->majority_line,
             mode == ELECTION__MODE__MODE_LIVE ? "" :
             mode == ELECTION__MODE__MODE_TEST ? "   [TEST]" : "   [REHEARSAL]");
    fprintf (out, "  %-10s %6s %7s %13s %7s %7s\n", "Party", "Seats", "Change", "Votes", "Share", "Change");
    //  Before any seat has declared there is nothing to compare with
    bool has_change = national->declared > 0;
    char seats [16], points [16];
    size_t named = top && top < national->n_parties ? top : national->n_parties;
    for (size_t i = 0; i < named; i++) {
        const Election__PartyLine *p = national->parties [i];
        fprintf (out, "  %-10s %6d %7s %13s %6.1f%% %7s\n", p->party, p->seats,
                 s_seats_change (p->change, seats, sizeof seats),
                 render_thousands ((long long) p->votes, votes, sizeof votes), p->share,
                 //  No votes now nor then in the declared seats: no figure to change
                 s_points (p->share_change, has_change && p->has_share_change
                                            && (p->votes || p->share_change), points, sizeof points));
    }
    if (named < national->n_parties) {
        s_others_t o = s_others (national, top);
        fprintf (out, "  %-10s %6d %7s %13s %6.1f%% %7s\n", "Others", o.seats,
                 s_seats_change (o.change, seats, sizeof seats),
                 render_thousands ((long long) o.votes, votes, sizeof votes), o.share,
                 s_points (o.share_change, has_change, points, sizeof points));
    }
    if (national->has_swing)
        fprintf (out, "  Swing %.1f%% from %s to %s\n", national->swing < 0.05 ? 0.0 : national->swing,
                 national->swing_from, national->swing_to);
    fflush (out);
}

void
render_line (FILE *out, const Election__NationalSummary *national, size_t top)
{
    fprintf (out, "After %u of %u seats:", national->declared, national->seats_total);
    size_t named = top && top < national->n_parties ? top : national->n_parties;
    for (size_t i = 0; i < named; i++) {
        char change [16];
        fprintf (out, "%s %s %d (%s)", i ? "," : "", national->parties [i]->party,
                 national->parties [i]->seats,
                 s_seats_change (national->parties [i]->change, change, sizeof change));
    }
    if (named < national->n_parties) {
        char change [16];
        s_others_t o = s_others (national, top);
        fprintf (out, ", Others %d (%s)", o.seats, s_seats_change (o.change, change, sizeof change));
    }
    fprintf (out, "\n");
    fflush (out);
}

void
render_desk (FILE *out, const Election__DeskSummary *desk)
{
    if (!desk->n_held)
        fprintf (out, "\nDesk: nothing held for a second look\n");
    else
        fprintf (out, "\nHELD for a second look, not on air (%zu):\n", desk->n_held);
    for (size_t i = 0; i < desk->n_held; i++) {
        const Election__HeldDeclaration *held = desk->held [i];
        fprintf (out, "  %s %s rev %u from %s:", held->ons_id ? held->ons_id : "?",
                 held->name ? held->name : "", held->revision, held->source ? held->source : "?");
        for (size_t r = 0; r < held->n_reasons; r++)
            fprintf (out, "%s %s", r ? ";" : "", held->reasons [r]);
        fprintf (out, "\n");
    }
    fflush (out);
}

void
render_card (FILE *out, const Election__SeatSummary *seat)
{
    char winner [32], previous [32], number [32], electorate [32];
    if (!seat->declared && seat->revision == 0) {
        //  Listed before its result (the aggregator lists every seat)
        fprintf (out, "\n%s (%s)  not declared yet\n", seat->name, seat->ons_id);
        fflush (out);
        return;
    }
    if (!seat->declared) {
        fprintf (out, "\n%s (%s)  DECLARATION WITHDRAWN (rev %u)\n", seat->name, seat->ons_id,
                 seat->revision);
        fflush (out);
        return;
    }
    s_upper (seat->winner, winner, sizeof winner);
    s_upper (seat->previous_winner, previous, sizeof previous);
    fprintf (out, "\n%s (%s)  %s %s%s%s\n", seat->name, seat->ons_id, winner,
             seat->outcome == ELECTION__OUTCOME__OUTCOME_GAIN ? "GAIN FROM " : "HOLD",
             seat->outcome == ELECTION__OUTCOME__OUTCOME_GAIN ? previous : "",
             seat->revision > 1 ? "  (revised)" : "");
    if (seat->kind == ELECTION__DECLARATION_KIND__KIND_RUSH) {
        fprintf (out, "  Winner declared; figures to follow\n");
        fflush (out);
        return;
    }
    fprintf (out, "  Majority %s   Turnout %.1f%%   Electorate %s\n",
             render_thousands (seat->majority, number, sizeof number), seat->turnout,
             render_thousands (seat->electorate, electorate, sizeof electorate));
    for (size_t i = 0; i < seat->n_candidates; i++) {
        const Election__CandidateResult *c = seat->candidates [i];
        char change [16];
        s_points (c->share_change, c->has_share_change, change, sizeof change);
        fprintf (out, "  %-28s %-8s %9s %6.1f%% %7s\n", c->name && *c->name ? c->name : "-",
                 c->party, render_thousands (c->votes, number, sizeof number), c->share, change);
    }
    fflush (out);
}
