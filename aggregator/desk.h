/*  desk.h: what a results desk needs beyond the results (issue 13), as the
    aggregator publishes it (no sockets, no I/O):
      - each seat's context: the previous election's result there, the
        change in majority, the seat's swing, whether it was withdrawn, and
        while it is undeclared its projected winner (README "Seat context");
      - the projection topic: the projection (projection.h) with the names
        and colours of the party register, or the exit poll while fewer than
        exit_poll_until results are in (README "Projection");
      - the exit poll, checked before it is taken.
    The aggregator calls it at the end of each batch: desk_project, then the
    projection and the seats whose projected winner changed are published
    with the batch's other updates.

    The projection costs O(seats x parties^2) (about 0.2 ms at 650 seats,
    120 ms at 200,000), so it runs at most once per batch, and after an
    update that took T, not again for 20 T: it never takes more than about
    5% of the aggregator's time. One that was not due is marked stale and
    runs once it is (desk_projection_due), or at once when the last seat
    declares (the corrections after that wait their turn).                  */
#ifndef DESK_H
#define DESK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "err.h"
#include "parties.h"
#include "projection.h"
#include "tally.h"
#include "update_head.h"

#define DESK_EXIT_POLL_UNTIL 100    /* results before the projection replaces the exit poll */
#define DESK_COST_FACTOR     20     /* the next projection waits 20x the last one's cost */

typedef struct desk desk_t;

/*  Over a tally (borrowed: it must outlive the desk) and a party register
    (borrowed, may be NULL). exit_poll_until: results (full figures) before
    the projection is the basis instead of an exit poll. NULL on no memory. */
desk_t *desk_new (const tally_t *tally, const parties_t *parties, uint32_t exit_poll_until);
void desk_destroy (desk_t **self_p);

/*  The Butler swing of a declared full result between its top two
    candidates' parties: half the difference of their share changes (each
    against the same party in the seat at the baseline), from the one that
    did worse to the one that did better, in points (>= 0). False where
    undefined: not declared, a rush, fewer than two candidates, or either
    share change undefined (tally.h: the party stood other than once).      */
bool desk_seat_swing (const seat_view_t *view, double *points, const char **from,
                      const char **to);

/*  Packs the Update of a seat (summary.h) with its context and, while
    undeclared, its projected winner as of the last desk_project. Caller
    frees; NULL on no memory.                                               */
uint8_t *desk_pack_seat (desk_t *self, size_t seat, const update_head_t *head, size_t *size);

/*  The projection is out of date (a declaration was applied).  */
void desk_mark_stale (desk_t *self);

/*  True if the projection is stale and may run now (mono ms): its cost
    rule allows it, or every seat has declared. next_ms gets when it may
    (-1: nothing waits).                                                    */
bool desk_projection_due (const desk_t *self, int64_t now_ms, int64_t *next_ms);

/*  Runs the projection now (projection_update), timing it. -1 on no memory
    (the previous projection stays, still stale).                           */
int desk_project (desk_t *self, int64_t now_ms);

/*  After desk_project: true if the undeclared seat's projected winner is
    not the one last published for it (and notes it as published); a
    declared seat is noted as having none and returns false (its own
    summary went out with its declaration).                                 */
bool desk_winner_changed (desk_t *self, size_t seat);

/*  Packs the projection topic's Update. Caller frees; NULL on no memory.   */
uint8_t *desk_pack_projection (desk_t *self, const update_head_t *head, size_t *size);

/*  Checks an exit poll against the register and the seats: every party a
    code (one the register has, where there is a register), none twice, at
    least one, seats adding up to no more than seats_total. False with why
    ("party \"Xyz\" (row 3) is not in the party register").                 */
bool desk_exit_poll_check (const Election__ExitPoll *poll, const parties_t *parties,
                           size_t seats_total, char *why, size_t why_size);

/*  True if poll has the same parties and seats as the one held.  */
bool desk_exit_poll_same (const desk_t *self, const Election__ExitPoll *poll);

/*  Holds a copy of poll as the exit poll. -1 on no memory.  */
int desk_set_exit_poll (desk_t *self, const Election__ExitPoll *poll);

/*  The exit poll held, or NULL.  */
const Election__ExitPoll *desk_exit_poll (const desk_t *self);

#endif
