/*  replica.h: the journal of a pair of aggregators, kept the same on both
    (README "A pair of aggregators").

    Every record has a sequence (its place: record N of the journal has
    sequence N) and a term (pair.h: who was active when it was accepted).
    The active sends its standby the records it lacks, each append after a
    record (prev sequence, prev term) the standby must hold: Raft's log
    matching, so that a rejoining node finds where its journal and the
    active's part, drops what it has beyond (never acknowledged), and
    catches up. The standby appends, fdatasyncs, applies the records to its
    tally and says how far it holds them.

    The active's side: a standby that (re)appears is matched and caught up
    from the journal, a chunk at a time; once it holds all the active has
    committed it is a COPY, and every batch waits for its answer before it
    is acknowledged (replica_send_batch, replica_acked). A standby that does
    not answer within the copy timeout is LOST: the active acknowledges on
    its own journal alone until the standby is back and caught up again.

    No sockets of its own: it sends on the peer link it is given.           */
#ifndef REPLICA_H
#define REPLICA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "election.pb-c.h"
#include "journal.h"
#include "peer.h"

typedef struct replica replica_t;

/*  Applies one record's payload to the owner's state (a standby's tally).  */
typedef int (replica_apply_fn) (void *arg, const uint8_t *payload, size_t size);
/*  The journal was cut back: the owner rebuilds its state from it.  */
typedef int (replica_rebuild_fn) (void *arg);

typedef struct {
    int copy_timeout_ms;        /* an append unanswered this long: standby lost */
    size_t chunk;               /* records per catch-up append */
} replica_config_t;

/*  Over journal (borrowed). NULL on no memory. Caller owns it;
    replica_destroy.                                                         */
replica_t *replica_new (journal_t *journal, const replica_config_t *config,
                        replica_apply_fn *apply, replica_rebuild_fn *rebuild, void *arg);
void replica_destroy (replica_t **self_p);

/*  Notes the term of the journal's next record (recovery, for each record
    read; the active, for each it commits). -1 if sequence is not the next
    one, or on no memory.                                                   */
int replica_note (replica_t *self, uint64_t sequence, uint64_t term);
uint64_t replica_last_sequence (const replica_t *self);
uint64_t replica_last_term (const replica_t *self);

/*  --- The active's side ---  */

typedef enum {
    REPLICA_QUIET,              /* nothing to say */
    REPLICA_COPY,               /* the standby has just become a copy */
    REPLICA_LOST                /* the standby has just been lost */
} replica_event_t;

/*  A standby (a passive or starting peer) says where its journal ends: if
    it is new to us, matching starts there.                                 */
void replica_heard_standby (replica_t *self, uint64_t last_sequence);
/*  Forgets the standby (it is gone, or we are no longer active).  */
void replica_forget (replica_t *self);
bool replica_has_standby (const replica_t *self);
/*  True while every batch must wait for the standby.  */
bool replica_copy (const replica_t *self);
/*  Records the standby lacks, as far as we know.  */
uint64_t replica_behind (const replica_t *self);
/*  The standby durably holds every record up to this sequence.  */
uint64_t replica_acked (const replica_t *self);

/*  Between batches: a standby holding all we hold becomes a copy.  */
replica_event_t replica_check_copy (replica_t *self);
/*  A copy is sent the batch's records (packed JournalRecords of the next
    sequences) before our own commit, so both disks sync at once. base is
    the rest of the message (our state), borrowed.                          */
void replica_send_batch (replica_t *self, peer_t *peer, const Election__PeerMessage *base,
                         uint8_t *const *records, const size_t *sizes, size_t count, int64_t now);
/*  Our own commit of the batch failed: whatever the standby says of it is void. */
void replica_batch_failed (replica_t *self);
/*  An answer from the standby.  */
void replica_on_answer (replica_t *self, const Election__PeerMessage *answer);
/*  Catches a standby up (a chunk from the journal when none is in flight)
    and notices one that does not answer.                                    */
replica_event_t replica_pump (replica_t *self, peer_t *peer, const Election__PeerMessage *base,
                              int64_t now);
/*  When replica_pump must next be called (mono ms), or -1.  */
int64_t replica_deadline (const replica_t *self);

/*  --- The standby's side ---  */

/*  Takes an append from the active into the journal (fdatasync), and
    fills answer (appended, last_sequence and last_term, or where the
    journals part). Returns 0, or -1 when nothing could be made durable (err
    says why): then no answer is due. The answer is about durability: send
    it, then replica_apply the same append to the owner's state.            */
int replica_on_append (replica_t *self, const Election__PeerMessage *append,
                       Election__PeerMessage *answer, char *err, size_t errlen);
/*  Applies (through apply) the records replica_on_append took from append,
    if any. -1 if the state could not follow (err says why).                */
int replica_apply (replica_t *self, const Election__PeerMessage *append, char *err, size_t errlen);

#endif
