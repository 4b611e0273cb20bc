/*  projection.h: where the night is going, from the results declared so far
    (no sockets, no I/O; reads the tally, never changes it).

    From the declared seats of the tally it projects every undeclared seat
    and the final count: seats per party with a low-high range, per nation
    and for the UK, the verdict ("Con majority of 12", "Hung parliament: Con
    8 short of 326"), the number of results it rests on, and each undeclared
    seat's projected winner. Declared seats count as they are: declared +
    projected = seats, per nation and UK.

    The model (README "Projection" says it at length):
      - Per nation (the tally's countries: Scotland, Wales and Northern
        Ireland move apart from England and have their own parties), each
        party's change in share in a seat is a linear function of the seat's
        baseline shares of the nation's parties:
            new_p = base_p + c_p + sum_q beta_pq (base_q - mean base_q)
        fitted by ridge (Bayesian) regression on the declared seats with
        full figures. A regression on the baseline corrects the first
        results' bias towards one kind of seat (safe urban seats declare
        first) as far as the baseline shares describe the seats; the cross
        terms let a party gain where another collapses.
      - Priors (what the model says with few or no results): the nation's
        mean change c_p is drawn towards the same party's mean change in the
        other nations (sd tau_nation), which is drawn towards no change (sd
        tau_national); the party's own slope is drawn towards proportional
        change for a party that is losing (it loses votes where it had them)
        and uniform change otherwise, the cross slopes towards 0 (sd
        tau_slope). With no results the projection is the baseline.
      - A seat's winner is the party with the largest projected share; its
        chances come from the seat-level scatter of the fit (normal, pair by
        pair against the leader). Projected seats are the expected numbers
        of seats (sums of the chances), rounded per nation so that they add
        up; the range adds to that scatter the uncertainty of the fitted
        mean changes (delta method), at the interval's confidence.
    Parties with too small a share in a nation (min_share) are not modelled
    there: they win no projected seat. A rush counts as a declared seat but
    gives no shares; a retracted seat is undeclared again.

    Cost: O(seats x parties^2) per projection_update, no allocation after
    the first; see README for measured figures.                             */
#ifndef PROJECTION_H
#define PROJECTION_H

#include <stdbool.h>
#include <stddef.h>
#include "err.h"
#include "tally.h"

typedef struct projection projection_t;

/*  The model's few parameters, shares as fractions (0.04 = 4 points).
    projection_options_default fills the defaults README explains.           */
typedef struct {
    double min_share;       /* a party is modelled in a nation if it won a
                               baseline seat there or has this share of the
                               nation's baseline or declared votes: 0.01 */
    double tau_national;    /* prior sd of a party's mean change: 0.10 */
    double tau_nation;      /* prior sd of a nation's mean change about the
                               other nations': 0.04 */
    double tau_slope;       /* prior sd of the slopes about proportional
                               (losers) or uniform change: 0.25 */
    double sigma0;          /* prior seat-level scatter of a change: 0.04 */
    double nu0;             /* its weight, in seats: 5 */
    double confidence;      /* of the low-high range: 0.90 */
} projection_options_t;

void projection_options_default (projection_options_t *opts);

/*  Builds a projection over the tally's seats. The tally is borrowed and
    must outlive the projection (its party codes appear in the views).
    opts may be NULL (defaults). Returns NULL on allocation failure or bad
    options. Caller owns the result; free with projection_destroy.          */
projection_t *projection_new (const tally_t *tally, const projection_options_t *opts);

void projection_destroy (projection_t **self_p);

/*  Recomputes the projection from the tally's state now. Call it once per
    batch of declarations, not per declaration. Returns EL_ERR_NOMEM if it
    could not grow its arrays (the previous projection stays).              */
el_err_t projection_update (projection_t *self);

typedef struct {
    const char *party;      /* borrowed from the tally */
    int seats;              /* declared + projected */
    int low;                /* range of seats, at opts.confidence */
    int high;
    int declared;           /* seats won among the declared */
    int winners;            /* declared + undeclared seats it is projected to
                               win (what a map of projected winners shows) */
    double expected;        /* seats before rounding */
} projection_party_t;

typedef struct {
    const char *scope;      /* "UK" or a nation */
    size_t based_on;        /* declared seats with full figures it rests on */
    size_t declared;        /* declared seats, rushes included */
    size_t seats_total;
    size_t majority_line;   /* seats_total / 2 + 1 */
    bool has_basis;         /* false: no result yet, the figures are the
                               baseline's and verdict says so */
    const projection_party_t *parties;  /* seats desc, then expected, then
                                           name; parties with seats or a range */
    size_t n_parties;
    const char *largest;    /* party with the most seats, NULL if none */
    bool majority;          /* largest reaches majority_line */
    int margin;             /* majority: 2*seats - total; hung: seats short */
    char verdict [96];      /* "Con majority of 12", "Hung parliament: Con 8
                               short of 326", "No projection: no results yet" */
} projection_view_t;

/*  Scopes: index 0 is the UK, then each nation in the tally's order.        */
size_t projection_scope_count (const projection_t *self);

/*  Fills *view with scope `index` as of the last projection_update. The
    pointers inside belong to the projection and stay valid until the next
    projection_update.                                                      */
void projection_scope (const projection_t *self, size_t index, projection_view_t *view);

/*  The projected winner (party code) of an undeclared seat; NULL for a
    declared seat, an index out of range or before the first update.        */
const char *projection_seat_winner (const projection_t *self, size_t seat);

/*  The chance, 0..1, that the projected winner holds on to the seat (1.0
    where the model sees no contender); 0 for a declared seat.              */
double projection_seat_confidence (const projection_t *self, size_t seat);

#endif
