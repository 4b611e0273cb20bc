/*  clone_server.c: see clone_server.h.  */
#include "clone_server.h"
#include "log.h"
#include "strmap.h"
#include "net.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *topic;
    void *bytes;
    size_t size;
} s_entry_t;

struct clone_server {
    strmap_t *index;        /* topic -> entries[] */
    s_entry_t *entries;     /* in order of first publication */
    size_t count;
    size_t capacity;
    size_t expected;
};

clone_server_t *
clone_server_new (size_t expected)
{
    clone_server_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->expected = expected;
    self->index = strmap_new (expected);
    if (!self->index) {
        free (self);
        return NULL;
    }
    return self;
}

int
clone_server_clear (clone_server_t *self)
{
    strmap_t *fresh = strmap_new (self->expected);
    if (!fresh)
        return -1;
    strmap_destroy (&self->index);
    self->index = fresh;
    for (size_t i = 0; i < self->count; i++) {
        free (self->entries [i].topic);
        free (self->entries [i].bytes);
    }
    self->count = 0;
    return 0;
}

void
clone_server_destroy (clone_server_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    clone_server_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++) {
        free (self->entries [i].topic);
        free (self->entries [i].bytes);
    }
    free (self->entries);
    strmap_destroy (&self->index);
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

    size_t index;
    if (strmap_get (self->index, topic, &index)) {
        free (self->entries [index].bytes);
        self->entries [index].bytes = copy;
        self->entries [index].size = size;
        return 0;
    }
    if (self->count == self->capacity) {
        size_t capacity = self->capacity ? self->capacity * 2 : 64;
        s_entry_t *entries = realloc (self->entries, capacity * sizeof *entries);
        if (!entries)
            goto nomem;
        self->entries = entries;
        self->capacity = capacity;
    }
    char *name = strdup (topic);
    if (!name)
        goto nomem;
    if (strmap_put (self->index, topic, self->count)) {
        free (name);
        goto nomem;
    }
    self->entries [self->count++] = (s_entry_t) { name, copy, size };
    return 0;
nomem:
    free (copy);
    return -1;
}

const void *
clone_server_get (const clone_server_t *self, const char *topic, size_t *size)
{
    size_t index;
    if (!strmap_get (self->index, topic, &index))
        return NULL;
    if (size)
        *size = self->entries [index].size;
    return self->entries [index].bytes;
}

size_t
clone_server_count (const clone_server_t *self)
{
    return self->count;
}

static int
s_send_snapshot (const clone_server_t *self, void *router, zmq_msg_t *identity,
                 Election__Snapshot *header, const char *prefix)
{
    size_t prefix_len = prefix ? strlen (prefix) : 0;
    uint32_t count = 0;
    for (size_t i = 0; i < self->count; i++)
        if (strncmp (self->entries [i].topic, prefix ? prefix : "", prefix_len) == 0)
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
    for (size_t i = 0; i < self->count; i++) {
        const s_entry_t *entry = &self->entries [i];
        if (strncmp (entry->topic, prefix ? prefix : "", prefix_len) != 0)
            continue;
        count--;
        if (net_send_str (router, entry->topic, ZMQ_SNDMORE) < 0
        ||  zmq_send (router, entry->bytes, entry->size, count ? ZMQ_SNDMORE : 0) < 0)
            return -1;
    }
    return 0;
}

int
clone_server_serve_snapshots (const clone_server_t *self, void *router,
                              const Election__Snapshot *header, int max)
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
            if (request)
                election__snapshot_request__free_unpacked (request, NULL);
            Election__Snapshot reply = *header;
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
