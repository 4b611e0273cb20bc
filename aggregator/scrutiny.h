/*  scrutiny.h: is a declaration that passes every check still improbable
    enough to want a second look before it goes on air?

    A swapped pair of figures, a dropped digit, an electorate typed with
    one digit too many: each passes the checks of the figures on their own,
    and each shows as a result far outside what the night shows. Judged
    against the seat's previous election and the seats already declared in
    its region (the tally's views; no I/O), a declaration is improbable when:
      - a party's share changes far more, or less, than it does across the
        region's declared seats (early in the night, when the region has
        fewer than min_seats declared, far from no change at all);
      - the Butler swing between the seat's two leading parties is far from
        the region's between the same two (early: far from none);
      - turnout is far from the seat's last;
      - the winner's majority grows tenfold over a majority that was not
        already tiny.
    The aggregator holds such a declaration (README "The hold"). Thresholds
    are the aggregator's options; the defaults hold 3 of the 650 real 2017
    declarations against 2015 (Foyle, Bradford East, Richmond Park) and every
    clerk's mistake of issue 12 (tests/unit/test_scrutiny.c).                 */
#ifndef SCRUTINY_H
#define SCRUTINY_H

#include <stddef.h>
#include "tally.h"

#define SCRUTINY_MAX_REASONS 6
#define SCRUTINY_REASON_SIZE 160

typedef struct {
    double share_points;    /* a party's share change this far from its region's */
    double share_max;       /* early: a share change this large */
    double swing_points;    /* the seat's swing this far from its region's */
    double swing_max;       /* early: a swing this large */
    double turnout_points;  /* turnout this far from the seat's last */
    double majority_factor; /* majority this many times the last (a last of 5% or more) */
    size_t min_seats;       /* region seats declared before comparing with them */
} scrutiny_options_t;

#define SCRUTINY_SHARE_POINTS    25.0
#define SCRUTINY_SHARE_MAX       35.0
#define SCRUTINY_SWING_POINTS    15.0
#define SCRUTINY_SWING_MAX       20.0
#define SCRUTINY_TURNOUT_POINTS  12.0
#define SCRUTINY_MAJORITY_FACTOR 10.0
#define SCRUTINY_MIN_SEATS       5

/*  The documented defaults above.  */
scrutiny_options_t scrutiny_defaults (void);

typedef struct {
    size_t count;
    char text [SCRUTINY_MAX_REASONS][SCRUTINY_REASON_SIZE];
} scrutiny_reasons_t;

/*  Judges preview, the seat `seat` as a declaration would make it
    (tally_check's preview), against its baseline and the region's declared
    seats in tally. Fills *reasons (count 0: plausible). A rush, which has no
    figures, and a retraction are always plausible. tally is read only; it
    is not const because its scope views are built on demand.               */
void scrutiny_judge (tally_t *tally, size_t seat, const seat_view_t *preview,
                     const scrutiny_options_t *options, scrutiny_reasons_t *reasons);

#endif
