/*  store.c: see store.h.  */
#include "store.h"
#include "strmap.h"
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *topic;
    void *bytes;
    size_t size;
} s_entry_t;

struct store {
    strmap_t *index;        /* topic -> entries[] */
    s_entry_t *entries;     /* in order of first publication */
    size_t count;
    size_t capacity;
    size_t expected;
};

store_t *
store_new (size_t expected)
{
    store_t *self = calloc (1, sizeof *self);
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
store_clear (store_t *self)
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
store_destroy (store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    store_t *self = *self_p;
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
store_put (store_t *self, const char *topic, const void *bytes, size_t size)
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
store_get (const store_t *self, const char *topic, size_t *size)
{
    size_t index;
    if (!strmap_get (self->index, topic, &index))
        return NULL;
    if (size)
        *size = self->entries [index].size;
    return self->entries [index].bytes;
}

size_t
store_count (const store_t *self)
{
    return self->count;
}

int
store_send_snapshot (const store_t *self, void *router, zmq_msg_t *identity,
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
    if (wire_send_pb (router, &header->base, count ? ZMQ_SNDMORE : 0))
        return -1;
    for (size_t i = 0; i < self->count; i++) {
        const s_entry_t *entry = &self->entries [i];
        if (strncmp (entry->topic, prefix ? prefix : "", prefix_len) != 0)
            continue;
        count--;
        if (wire_send_str (router, entry->topic, ZMQ_SNDMORE) < 0
        ||  zmq_send (router, entry->bytes, entry->size, count ? ZMQ_SNDMORE : 0) < 0)
            return -1;
    }
    return 0;
}
