/*  clone_server.c: see clone_server.h.  */
#include "clone_server.h"
#include "log.h"
#include "topic_table.h"
#include "net.h"
#include "update_head.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct clone_server {
    topic_table_t *topics;      /* topic -> packed Update bytes (malloc'd) */
    Election__PairState pair_state;
    const char *stale_source;   /* who is not live, when upstream_ok is false */
    clone_server_vote_fn *on_failover;
    void *vote_arg;
};

clone_server_t *
clone_server_new (size_t expected)
{
    clone_server_t *self = calloc (1, sizeof *self);
    if (self && !(self->topics = topic_table_new (expected, free))) {
        free (self);
        self = NULL;
    }
    return self;
}

int
clone_server_clear (clone_server_t *self)
{
    return topic_table_clear (self->topics);
}

void
clone_server_destroy (clone_server_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    clone_server_t *self = *self_p;
    topic_table_destroy (&self->topics);
    free (self);
    *self_p = NULL;
}

int
clone_server_put (clone_server_t *self, const char *topic, const void *bytes, size_t size)
{
    //  A topic's updates keep about one size: its last copy is overwritten
    //  where it fits (snapshots are sent by copy, never from it in place)
    void *held = topic_table_overwrite (self->topics, topic, size);
    if (held) {
        memcpy (held, bytes, size);
        return 0;
    }
    void *copy = malloc (size ? size : 1);
    if (!copy)
        return -1;
    memcpy (copy, bytes, size);
    if (topic_table_put (self->topics, topic, copy, size)) {
        free (copy);
        return -1;
    }
    return 0;
}

int
clone_server_publish (clone_server_t *self, void *publisher, const char *topic,
                      const void *bytes, size_t size)
{
    size_t kept_size;
    const void *kept = topic_table_get (self->topics, topic, &kept_size);
    update_head_t head;
    uint64_t previous = kept && update_head_peek (kept, kept_size, &head) ? head.sequence : 0;
    uint8_t chain [UPDATE_HEAD_CHAIN_MAX];
    size_t chain_size = update_head_chain (chain, previous);
    size_t length = size + chain_size;
    //  Written over the topic's last update where it fits, as
    //  clone_server_put does (the previous sequence is read above)
    uint8_t *held = topic_table_overwrite (self->topics, topic, length);
    uint8_t *chained = held ? held : malloc (length);
    if (!chained) {
        net_send_str (publisher, topic, ZMQ_SNDMORE);
        zmq_send (publisher, bytes, size, 0);
        return -1;
    }
    memcpy (chained, bytes, size);
    memcpy (chained + size, chain, chain_size);
    net_send_str (publisher, topic, ZMQ_SNDMORE);
    zmq_send (publisher, chained, length, 0);
    if (!held && topic_table_put (self->topics, topic, chained, length)) {
        free (chained);
        return -1;
    }
    return 0;
}

const void *
clone_server_get (const clone_server_t *self, const char *topic, size_t *size)
{
    return topic_table_get (self->topics, topic, size);
}

void
clone_server_set_pair_state (clone_server_t *self, Election__PairState state)
{
    self->pair_state = state;
}

void
clone_server_set_stale_source (clone_server_t *self, const char *source)
{
    self->stale_source = source;
}

void
clone_server_on_failover (clone_server_t *self, clone_server_vote_fn *fn, void *arg)
{
    self->on_failover = fn;
    self->vote_arg = arg;
}

size_t
clone_server_count (const clone_server_t *self)
{
    return topic_table_count (self->topics);
}

static int
s_send_snapshot (const clone_server_t *self, void *router, zmq_msg_t *identity,
                 Election__Snapshot *header, const char *prefix)
{
    if (!prefix)
        prefix = "";
    size_t prefix_len = strlen (prefix);
    size_t topics = topic_table_count (self->topics);
    uint32_t count = 0;
    for (size_t i = 0; i < topics; i++)
        if (strncmp (topic_table_at (self->topics, i, NULL, NULL), prefix, prefix_len) == 0)
            count++;
    header->has_count = true;
    header->count = count;

    zmq_msg_t id;
    zmq_msg_init (&id);
    zmq_msg_copy (&id, identity);
    //  ZMQ_ROUTER_MANDATORY: EAGAIN says the peer has not read our last
    //  answer (ZMQ_SNDHWM 1), EHOSTUNREACH that it has gone
    if (zmq_msg_send (&id, router, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&id);
        return -1;
    }
    if (net_send_pb (router, &header->base, count ? ZMQ_SNDMORE : 0))
        return -1;
    for (size_t i = 0; i < topics; i++) {
        void *bytes;
        size_t size;
        const char *topic = topic_table_at (self->topics, i, &bytes, &size);
        if (strncmp (topic, prefix, prefix_len) != 0)
            continue;
        count--;
        if (net_send_str (router, topic, ZMQ_SNDMORE) < 0
        ||  zmq_send (router, bytes, size, count ? ZMQ_SNDMORE : 0) < 0)
            return -1;
    }
    return 0;
}

static int
s_serve (const clone_server_t *self, void *router, guard_t *guard,
         const update_head_t *head, bool upstream_ok, int max)
{
    int answered = 0;
    for (; answered < max; answered++) {
        zmq_msg_t frames [3];
        size_t count;
        if (guard ? guard_recv_frames (guard, frames, 3, &count, ZMQ_DONTWAIT)
                  : net_recv_frames (router, frames, 3, &count, ZMQ_DONTWAIT))
            break;
        if (count == 2) {
            char prefix [128] = "";
            Election__SnapshotRequest *request = election__snapshot_request__unpack (NULL,
                zmq_msg_size (&frames [1]), zmq_msg_data (&frames [1]));
            if (request && request->topic_prefix)
                snprintf (prefix, sizeof prefix, "%s", request->topic_prefix);
            bool failover = request && request->failover;
            if (request)
                election__snapshot_request__free_unpacked (request, NULL);
            if (failover && self->on_failover)
                self->on_failover (self->vote_arg);
            Election__Snapshot reply = ELECTION__SNAPSHOT__INIT;
            reply.has_sequence = true;
            reply.sequence = head->sequence;
            reply.has_epoch = true;
            reply.epoch = head->epoch;
            reply.has_mode = true;
            reply.mode = head->mode;
            reply.has_upstream_ok = true;
            reply.upstream_ok = upstream_ok;
            if (!upstream_ok)
                reply.stale_source = (char *) self->stale_source;
            reply.has_pair_state = self->pair_state != ELECTION__PAIR_STATE__PAIR_NONE;
            reply.pair_state = self->pair_state;
            if (s_send_snapshot (self, router, &frames [0], &reply, prefix) == 0)
                log_debug ("STO002", "snapshot of %u topics sent at sequence %llu",
                           reply.count, (unsigned long long) reply.sequence);
            else
            if (errno == EAGAIN)
                log_warn ("CLN010", "snapshot request dropped: the peer has not read the "
                          "snapshot we sent it last");
            else
            if (errno == EHOSTUNREACH)
                log_debug ("CLN011", "snapshot request from a peer gone since");
            else
                log_warn ("STO001", "snapshot reply failed: %s", zmq_strerror (errno));
        }
        else
            log_warn ("STO003", "snapshot request of %zu frames dropped", count > 0 ? count - 1 : 0);
        net_frames_close (frames, count < 3 ? count : 3);
    }
    return answered;
}

int
clone_server_serve_snapshots (const clone_server_t *self, void *router,
                              const update_head_t *head, bool upstream_ok, int max)
{
    return s_serve (self, router, NULL, head, upstream_ok, max);
}

int
clone_server_serve_guarded (const clone_server_t *self, guard_t *guard,
                            const update_head_t *head, bool upstream_ok, int max)
{
    return s_serve (self, guard_socket (guard), guard, head, upstream_ok, max);
}

guard_t *
clone_server_guard_updates (void *ctx, void *xpub, size_t peers_max)
{
    int manual = 1, one = 1;
    int64_t max_frame = 1024;
    zmq_setsockopt (xpub, ZMQ_XPUB_MANUAL, &manual, sizeof manual);
    zmq_setsockopt (xpub, ZMQ_MAXMSGSIZE, &max_frame, sizeof max_frame);
    //  libzmq files a subscription in its tree as soon as our thread takes
    //  it from the connection's pipe, before we can refuse it: with one
    //  message in the pipe at most, a flood waits in the kernel (where the
    //  guard sees it) instead of in the tree
    zmq_setsockopt (xpub, ZMQ_RCVHWM, &one, sizeof one);
    //  Subscribers send only subscriptions, and at most 256 of 128 bytes
    //  (33 KiB): libzmq files each in a tree at ~50 bytes a byte before we
    //  see it, so a peer is cut as soon as it has sent more
    guard_limits_t limits = { .name = "updates", .held_max = 64 * 1024, .held_budget = 1024 * 1024,
                              .held_hard = 64 * 1024, .peers_max = peers_max,
                              .evict_idle = false };    //  a subscriber is idle by nature
    return guard_new (ctx, xpub, &limits);
}

guard_t *
clone_server_guard_snapshot (void *ctx, void *router)
{
    int one = 1;
    int64_t max_frame = CLONE_SERVER_MAX_REQUEST;
    zmq_setsockopt (router, ZMQ_MAXMSGSIZE, &max_frame, sizeof max_frame);
    zmq_setsockopt (router, ZMQ_SNDHWM, &one, sizeof one);
    zmq_setsockopt (router, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    //  A follower sends one request of a few bytes per connection
    guard_limits_t limits = { .name = "snapshot", .held_max = 64 * 1024, .held_budget = 1024 * 1024,
                              .held_hard = 1024 * 1024, .peers_max = CLONE_SERVER_MAX_PEERS,
                              .evict_idle = true };     //  a follower asks, reads, leaves
    return guard_new (ctx, router, &limits);
}

int
clone_server_send_heartbeat (void *publisher, const update_head_t *head,
                             Election__Heartbeat *heartbeat, Election__Update *update)
{
    election__update__init (update);
    update_head_stamp (update, head);
    update->body_case = ELECTION__UPDATE__BODY_HEARTBEAT;
    update->heartbeat = heartbeat;
    return net_send_str (publisher, "health", ZMQ_SNDMORE)
        || net_send_pb (publisher, &update->base, 0) ? -1 : 0;
}
