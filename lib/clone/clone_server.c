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
    if (zmq_msg_send (&id, router, ZMQ_SNDMORE) < 0) {
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

int
clone_server_serve_snapshots (const clone_server_t *self, void *router,
                              const update_head_t *head, bool upstream_ok, int max)
{
    int answered = 0;
    for (; answered < max; answered++) {
        zmq_msg_t frames [3];
        size_t count;
        if (net_recv_frames (router, frames, 3, &count, ZMQ_DONTWAIT))
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
            reply.has_pair_state = self->pair_state != ELECTION__PAIR_STATE__PAIR_NONE;
            reply.pair_state = self->pair_state;
            if (s_send_snapshot (self, router, &frames [0], &reply, prefix))
                log_warn ("STO001", "snapshot reply failed: %s", zmq_strerror (errno));
            else
                log_debug ("STO002", "snapshot of %u topics sent at sequence %llu",
                           reply.count, (unsigned long long) reply.sequence);
        }
        else
            log_warn ("STO003", "snapshot request of %zu frames dropped", count > 0 ? count - 1 : 0);
        net_frames_close (frames, count < 3 ? count : 3);
    }
    return answered;
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
