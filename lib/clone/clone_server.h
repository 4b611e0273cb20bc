/*  clone_server.h: the server side of the Clone pattern. It keeps the latest
    published Update of every topic, byte for byte as it went out, so that a
    snapshot is those bytes sent again: nothing is re-encoded per request;
    it answers snapshot requests and sends the heartbeats that tell
    followers the stream is alive. The aggregator and every publisher each
    own one.                                                                 */
#ifndef CLONE_SERVER_H
#define CLONE_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "election.pb-c.h"
#include "guard.h"
#include "update_head.h"

#define CLONE_SERVER_MAX_REQUEST    4096    /* bytes of a snapshot request */
#define CLONE_SERVER_MAX_PEERS      256     /* connections to a snapshot port */

typedef struct clone_server clone_server_t;

/*  A server sized for about `expected` topics. NULL on allocation failure.
    Caller owns it; free with clone_server_destroy.                         */
clone_server_t *clone_server_new (size_t expected);
void clone_server_destroy (clone_server_t **self_p);

/*  Keeps a copy of bytes as the latest Update of topic. -1 on no memory.  */
int clone_server_put (clone_server_t *self, const char *topic, const void *bytes, size_t size);

/*  Publishes an Update: sends [topic][bytes] on the PUB socket `publisher`
    with Update.topic_previous set to the sequence of the Update kept for
    topic (0: none), and keeps those bytes as the topic's latest. The one
    place where the chain a topic's followers check is made (the aggregator
    publishes through it; a publisher relays the bytes as they came).
    Returns 0, or -1 on no memory (sent unchained, and not kept).          */
int clone_server_publish (clone_server_t *self, void *publisher, const char *topic,
                          const void *bytes, size_t size);

/*  The latest Update bytes of topic, or NULL. Owned by the server. */
const void *clone_server_get (const clone_server_t *self, const char *topic, size_t *size);

/*  Forgets every topic (a follower about to load a fresh snapshot).
    Returns -1, keeping everything, if memory is short.                    */
int clone_server_clear (clone_server_t *self);

size_t clone_server_count (const clone_server_t *self);

/*  A member of a pair of aggregators says where it stands in every
    snapshot header (a follower takes only an active one's snapshot).
    Default PAIR_NONE.                                                      */
void clone_server_set_pair_state (clone_server_t *self, Election__PairState state);

/*  Who is not live when a snapshot says upstream_ok false: the snapshot
    header's stale_source ("aggregator", "publisher"; borrowed, static or
    outliving the server; NULL: not said).                                  */
void clone_server_set_stale_source (clone_server_t *self, const char *source);

/*  Called for a snapshot request that says its asker lost the server it
    followed (SnapshotRequest.failover), before the request is answered: a
    standby takes it as a client's vote (pair.h), and may take over, filling
    the server and changing what head points to. fn NULL: none.            */
typedef void (clone_server_vote_fn) (void *arg);
void clone_server_on_failover (clone_server_t *self, clone_server_vote_fn *fn, void *arg);

/*  Answers the snapshot requests waiting on a ROUTER socket (at most `max`,
    so one busy client cannot starve the caller's loop). Each reply is the
    identity frame, the Snapshot header (head's sequence, epoch and mode,
    upstream_ok, the pair state, and the count of what follows), then
    (topic, Update) per topic starting with the request's topic_prefix.
    *head is read afresh for each request (a vote may change it). Returns
    how many it answered; failures are logged.                              */
int clone_server_serve_snapshots (const clone_server_t *self, void *router,
                                  const update_head_t *head, bool upstream_ok, int max);

/*  As clone_server_serve_snapshots, on the ROUTER that guard watches
    (clone_server_guard_snapshot), counting what it reads.                 */
int clone_server_serve_guarded (const clone_server_t *self, guard_t *guard,
                                const update_head_t *head, bool upstream_ok, int max);

/*  The serving sockets of the aggregator and of every publisher, and what
    one subscriber may make them hold (SECURITY.md "Resource bounds").

    The update socket is an XPUB with ZMQ_XPUB_MANUAL: its guard admits each
    subscription (guard_admit_subscriptions; read the socket whenever it is
    readable), and a frame over 1 KiB (a subscription of 1 MiB) cuts the
    peer at once. The snapshot ROUTER takes requests of 4 KiB at most and
    queues one reply per peer: a peer that asks again before it has read
    the last answer is not answered (ZMQ_SNDHWM 1, ZMQ_ROUTER_MANDATORY).
    Both set the socket's options: call them after CURVE and before
    binding. NULL on failure (logged); caller owns the guard (guard_destroy
    before closing the socket).                                             */
guard_t *clone_server_guard_updates (void *ctx, void *xpub, size_t peers_max);
guard_t *clone_server_guard_snapshot (void *ctx, void *router);

/*  Sends a heartbeat on the PUB socket `publisher`: topic "health", an
    Update with head and body heartbeat (borrowed). *update is filled with
    what was sent (its body is heartbeat). Returns 0, or -1 (errno set).    */
int clone_server_send_heartbeat (void *publisher, const update_head_t *head,
                                 Election__Heartbeat *heartbeat, Election__Update *update);

#endif
