/*  clone_client.h: the client side of the Clone pattern (ZeroMQ Guide,
    chapter 5), shared by the publisher (following the aggregator) and by
    subscribe (following a publisher, or the aggregator directly).

    It subscribes to the update stream first, then asks for a snapshot, and
    only then reads the stream, skipping what the snapshot already covers.
    It resyncs (a fresh snapshot) when it sees a sequence gap, a heartbeat
    ahead of what it holds, or a new epoch (the upstream restarted). A
    follower of some topics (topics given) checks each topic's own chain
    instead (Update.topic_previous: a gap is an update that does not follow
    the last one it saw on its topic), and follows the heartbeats' sequence
    (clone_client_sequence: as far on as the stream it hears). It
    never blocks: the owner polls the one socket it exposes and calls
    clone_client_handle.

    Given a pair of aggregators ("A,B" for both endpoints, in the same
    order), it follows whichever is active (Clone model 6): it hears both
    streams, ignores a standby's heartbeats, asks both for a snapshot and
    takes the active one's. When the one it follows says it is no longer
    active, or is silent for NET_SILENCE_MS, it asks both again, saying it
    lost its aggregator: a standby whose peer is silent too takes that as a
    vote to take over (aggregator/pair.h).                                  */
#ifndef CLONE_CLIENT_H
#define CLONE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "keys.h"
#include "update_head.h"

typedef struct clone_client clone_client_t;

typedef struct {
    /*  A snapshot is about to replace the whole state: forget it.  */
    void (*on_reset) (void *arg, const Election__Snapshot *header);
    /*  The latest Update of a topic, from a snapshot (live false) or from the
        stream (live true). bytes is the packed Update as received (valid for
        the call only), head its top-level fields: it is not unpacked here,
        so a relay that only forwards never pays for decoding.              */
    void (*on_update) (void *arg, const char *topic, const update_head_t *head,
                       const void *bytes, size_t size, bool live);
    /*  A snapshot has been applied in full.  */
    void (*on_synced) (void *arg, const Election__Snapshot *header);
    /*  A heartbeat from upstream (may be NULL).  */
    void (*on_heartbeat) (void *arg, const Election__Update *update);
} clone_handlers_t;

/*  Follows the stream at `updates` (SUB) and `snapshot` (DEALER), each one
    endpoint or a pair's two ("A,B"). topics:
    prefixes to subscribe to (NULL or none: everything); "health" is always
    added. handlers/arg are borrowed. NULL on failure (logged).
    Caller owns the result; free with clone_client_destroy.                 */
clone_client_t *clone_client_new (void *ctx, const char *updates, const char *snapshot,
                                  const char *const *topics, size_t n_topics,
                                  const clone_handlers_t *handlers, void *arg);

/*  As clone_client_new, but both sockets are CURVE clients with these keys
    (copied; NULL: plain, as clone_client_new).                             */
clone_client_t *clone_client_new_curve (void *ctx, const char *updates, const char *snapshot,
                                        const char *const *topics, size_t n_topics,
                                        const clone_handlers_t *handlers, void *arg,
                                        const keys_client_t *curve);
void clone_client_destroy (clone_client_t **self_p);

/*  The socket to poll for ZMQ_POLLIN now (it changes on resync).  */
void *clone_client_socket (clone_client_t *self);

/*  Does what is due: reads the socket if readable, re-asks for a snapshot
    that is late. Call after every poll. Returns 0, or -1 on a fatal error. */
int clone_client_handle (clone_client_t *self, bool readable);

/*  Milliseconds until clone_client_handle must be called even if nothing
    arrives: a snapshot retry, or a look at what upstream makes each socket
    hold (guard.h; at most 256 MiB; never more than 20 ms away).            */
long clone_client_timeout_ms (const clone_client_t *self);

/*  Throws the state away and asks for a fresh snapshot.  */
void clone_client_resync (clone_client_t *self, const char *why);

/*  True while synced with stream messages waiting to be read: what
    upstream has sent and clone_client_handle has not applied yet.          */
bool clone_client_behind (clone_client_t *self);

bool clone_client_synced (const clone_client_t *self);
uint64_t clone_client_sequence (const clone_client_t *self);
uint64_t clone_client_epoch (const clone_client_t *self);
/*  Milliseconds since anything arrived on the stream.  */
int64_t clone_client_silent_ms (const clone_client_t *self);
/*  How many snapshots it has loaded (1 after the first sync).  */
uint64_t clone_client_snapshots (const clone_client_t *self);

#endif
