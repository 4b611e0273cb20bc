/*  state_view.h: a follower's decoded copy of the state: the latest Update
    of every topic, as a subscriber or the HTTP gateway holds it, with the
    sequence, epoch and mode it is as of.                                    */
#ifndef STATE_VIEW_H
#define STATE_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "election.pb-c.h"

typedef struct state_view state_view_t;

/*  Caller owns the result; free with state_view_destroy. NULL on no memory. */
state_view_t *state_view_new (void);
void state_view_destroy (state_view_t **self_p);

/*  Forgets everything; the state is now as of the snapshot header (its
    health too: upstream_ok and stale_source).                              */
void state_view_reset (state_view_t *self, const Election__Snapshot *header);

/*  Unpacks a packed Update (bytes, size) and keeps it as the latest of
    topic, moving the view's epoch and mode to the update's. The view's sequence moves with the
    "national" topic only: it is the last update of every sequence, so the
    view is complete as of its sequence. Returns -1 if the bytes do not
    unpack (or memory is short).                                             */
int state_view_put (state_view_t *self, const char *topic, const void *bytes, size_t size);

/*  The latest Update of topic, or NULL. Owned by the view; valid until the
    topic is put again or the view reset.                                   */
const Election__Update *state_view_get (const state_view_t *self, const char *topic);

/*  Whether the figures are live, as the latest heartbeat (or the snapshot
    header) says, and the tier that says so: when not live, the one that is
    not ("aggregator": it cannot persist; "publisher": a publisher lost its
    upstream); when live, the server followed (NULL: not known yet).
    source is copied.                                                      */
void state_view_set_health (state_view_t *self, bool upstream_ok, const char *source);
bool state_view_upstream_ok (const state_view_t *self);
const char *state_view_source (const state_view_t *self);

uint64_t state_view_sequence (const state_view_t *self);
uint64_t state_view_epoch (const state_view_t *self);
Election__Mode state_view_mode (const state_view_t *self);

/*  The latest UK summary ("national" topic), or NULL before any.  */
const Election__NationalSummary *state_view_national (const state_view_t *self);

/*  The latest summary of a seat by ONS id, or NULL.  */
const Election__SeatSummary *state_view_seat (const state_view_t *self, const char *ons_id);

/*  Visits every stored update in order of first arrival.  */
typedef void (state_view_fn) (void *arg, const char *topic, const Election__Update *update);
void state_view_each (const state_view_t *self, state_view_fn *fn, void *arg);

#endif
