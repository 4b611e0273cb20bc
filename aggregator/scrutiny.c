/*  scrutiny.c: see scrutiny.h.

    The region's change of a party is the tally's: its share of the votes
    over the region's seats with figures, minus its share of the same seats'
    baseline votes. It is kept incrementally by the tally, so judging costs
    O(candidates x parties) whatever the number of seats.                   */
#include "scrutiny.h"
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

scrutiny_options_t
scrutiny_defaults (void)
{
    return (scrutiny_options_t) {
        .share_points = SCRUTINY_SHARE_POINTS, .share_max = SCRUTINY_SHARE_MAX,
        .swing_points = SCRUTINY_SWING_POINTS, .swing_max = SCRUTINY_SWING_MAX,
        .turnout_points = SCRUTINY_TURNOUT_POINTS, .majority_factor = SCRUTINY_MAJORITY_FACTOR,
        .min_seats = SCRUTINY_MIN_SEATS
    };
}

static void
s_reason (scrutiny_reasons_t *reasons, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

static void
s_reason (scrutiny_reasons_t *reasons, const char *format, ...)
{
    if (reasons->count == SCRUTINY_MAX_REASONS)
        return;
    va_list args;
    va_start (args, format);
    vsnprintf (reasons->text [reasons->count++], SCRUTINY_REASON_SIZE, format, args);
    va_end (args);
}

//  The region's change of a party's share, if it has one
static bool
s_region_change (const scope_view_t *region, const char *party, double *change)
{
    for (size_t i = 0; i < region->n_parties; i++)
        if (strcmp (region->parties [i].party, party) == 0) {
            *change = region->parties [i].share_change;
            return true;
        }
    return false;
}

//  The swing from b to a, as "X points from B to A" reads it
static void
s_swing_words (double swing, const char *a, const char *b, char *buf, size_t size)
{
    snprintf (buf, size, "%.1f from %.20s to %.20s", fabs (swing),
              swing >= 0 ? b : a, swing >= 0 ? a : b);
}

void
scrutiny_judge (tally_t *tally, size_t seat, const seat_view_t *preview,
                const scrutiny_options_t *options, scrutiny_reasons_t *reasons)
{
    memset (reasons, 0, sizeof *reasons);
    if (!preview->declared || preview->kind == DECL_RUSH || preview->n_candidates == 0)
        return;
    size_t scopes [3];
    size_t n_scopes = tally_seat_scopes (tally, seat, scopes);
    if (n_scopes == 0)
        return;
    scope_view_t region;
    tally_scope (tally, scopes [n_scopes - 1], &region);
    bool early = region.declared < options->min_seats;

    //  Each party's change in share
    for (size_t i = 0; i < preview->n_candidates; i++) {
        const candidate_view_t *c = &preview->candidates [i];
        if (!c->has_share_change)
            continue;
        double regional;
        if (early || !s_region_change (&region, c->party, &regional)) {
            if (fabs (c->share_change) > options->share_max)
                s_reason (reasons, "%.20s share %.1f%% (%+.1f): a change of more than %.0f points",
                          c->party, c->share, c->share_change, options->share_max);
        }
        else
        if (fabs (c->share_change - regional) > options->share_points)
            s_reason (reasons, "%.20s share %.1f%% (%+.1f) where %.30s's %zu declared seats "
                      "show %+.1f", c->party, c->share, c->share_change, region.scope,
                      region.declared, regional);
    }

    //  The swing between the two leading parties
    const candidate_view_t *a = &preview->candidates [0];
    const candidate_view_t *b = preview->n_candidates > 1 ? &preview->candidates [1] : NULL;
    if (b && a->has_share_change && b->has_share_change && strcmp (a->party, b->party) != 0) {
        double swing = (a->share_change - b->share_change) / 2.0;
        double change_a, change_b;
        char seat_words [64], region_words [64];
        s_swing_words (swing, a->party, b->party, seat_words, sizeof seat_words);
        if (!early && s_region_change (&region, a->party, &change_a)
        &&  s_region_change (&region, b->party, &change_b)) {
            double regional = (change_a - change_b) / 2.0;
            if (fabs (swing - regional) > options->swing_points) {
                s_swing_words (regional, a->party, b->party, region_words, sizeof region_words);
                s_reason (reasons, "swing %s where %.30s's declared seats show %s",
                          seat_words, region.scope, region_words);
            }
        }
        else
        if (fabs (swing) > options->swing_max)
            s_reason (reasons, "swing %s: more than %.0f points", seat_words, options->swing_max);
    }

    //  Against the seat's own last result
    seat_baseline_t base;
    tally_seat_baseline (tally, seat, &base);
    if (base.has_turnout && fabs (preview->turnout - base.turnout) > options->turnout_points)
        s_reason (reasons, "turnout %.1f%% against %.1f%% last time (electorate %u)",
                  preview->turnout, base.turnout, preview->electorate);
    if (base.winner && preview->winner && strcmp (base.winner, preview->winner) == 0
    &&  base.majority > 0 && (double) base.majority >= 0.05 * (double) base.valid_votes
    &&  (double) preview->majority >= options->majority_factor * (double) base.majority)
        s_reason (reasons, "majority %lld is %.0f times last time's %lld",
                  (long long) preview->majority,
                  floor ((double) preview->majority / (double) base.majority),
                  (long long) base.majority);
}
