/*  plan.h: what an ingest run will send, built before the first send: one
    packed Declaration per seat, with a label for the output and its time on
    the night (replay sends in that order, at --speed).

    From a results file: every seat (or one, --seat), each at its time in a
    declaration-times file, else spread evenly over a night, each with the
    seat's name (Declaration.constituency) so that the aggregator can tell
    figures sent under the wrong id. From a journal:
    every record as it was accepted, figures, revision and timing, but in
    this run's mode and election, so last night's feed is the next
    rehearsal.                                                               */
#ifndef INGEST_PLAN_H
#define INGEST_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "election.pb-c.h"

/*  The revision a seat's next declaration must carry (ingest asks the
    aggregator: --revision next).                                           */
typedef uint32_t (plan_revision_fn) (void *arg, const char *ons_id);

typedef struct {
    const char *election;
    const char *source;
    Election__Mode mode;
    uint32_t revision;          /* 0: each seat's next, from revision_of */
    plan_revision_fn *revision_of;
    void *revision_arg;
    bool confirmed;             /* checked by a second person (--confirm) */
    Election__DeclarationKind kind;
    Election__RevisionReason reason;
    const char *seat;           /* only this seat; NULL: every seat */
    const char *times_path;     /* NULL: the file beside the results (replay only) */
    bool replay;                /* replay: times beside the results, and say which */
} plan_options_t;

//  One declaration to send, with its time on the night
typedef struct {
    char label [96];
    uint8_t *bytes;             /* the packed Declaration; owned by the plan */
    size_t size;
    int64_t night_ms;
} plan_item_t;

/*  The caller's; starts zeroed ({ 0 }) and is emptied with plan_free.  */
typedef struct {
    plan_item_t *items;
    size_t count;
    size_t capacity;
} plan_t;

/*  Adds the seats of the results file at path. Returns 0, or -1 once it
    has said why on stderr ("ingest: ...").                                 */
int plan_csv (plan_t *self, const plan_options_t *options, const char *path);

/*  Adds every record of the journal at path, as plan_csv does (a record
    held for a second look is sent again as it was: held again, unless
    confirmed).                                                             */
int plan_journal (plan_t *self, const plan_options_t *options, const char *path);

/*  Adds one declaration built elsewhere (ingest declare, retract), labelled.
    Returns 0, or -1 on no memory.                                          */
int plan_add (plan_t *self, const char *label, const Election__Declaration *declaration,
              int64_t night_ms);

/*  Sets the declaration's declared_at_ms (Unix ms) to when it is really
    declared: send stamps now, replay the replayed time (issue 11: a time
    on the recorded night, or spread over a night, would sit hours off the
    clock that screens order their latest results by). -1 on no memory or
    an item that does not decode (it is left as it was).                    */
int plan_stamp (plan_item_t *item, int64_t declared_at_ms);

/*  Puts the items in order of their time on the night.  */
void plan_sort (plan_t *self);

/*  Frees the items; the plan is empty again.  */
void plan_free (plan_t *self);

#endif
