/*  topic_table.c: see topic_table.h. The entries own the topic names; the
    index borrows them, so a name is stored once.                          */
#include "topic_table.h"
#include "strmap.h"
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *topic;
    void *value;
    size_t size;
    size_t room;                /* the size it was put with: the most it may hold */
} s_entry_t;

struct topic_table {
    strmap_t *index;            /* topic -> entries[], keys borrowed from them */
    s_entry_t *entries;         /* in order of first arrival */
    size_t count;
    size_t capacity;
    size_t expected;
    topic_table_free_fn *free_fn;
};

topic_table_t *
topic_table_new (size_t expected, topic_table_free_fn *free_fn)
{
    topic_table_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->expected = expected;
    self->free_fn = free_fn;
    self->index = strmap_new_borrowed (expected);
    if (!self->index) {
        free (self);
        return NULL;
    }
    return self;
}

static void
s_free_entries (topic_table_t *self)
{
    for (size_t i = 0; i < self->count; i++) {
        free (self->entries [i].topic);
        if (self->free_fn && self->entries [i].value)
            self->free_fn (self->entries [i].value);
    }
    self->count = 0;
}

void
topic_table_destroy (topic_table_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    topic_table_t *self = *self_p;
    strmap_destroy (&self->index);
    s_free_entries (self);
    free (self->entries);
    free (self);
    *self_p = NULL;
}

int
topic_table_put (topic_table_t *self, const char *topic, void *value, size_t size)
{
    size_t index;
    if (strmap_get (self->index, topic, &index)) {
        s_entry_t *entry = &self->entries [index];
        if (self->free_fn && entry->value)
            self->free_fn (entry->value);
        entry->value = value;
        entry->size = entry->room = size;
        return 0;
    }
    if (self->count == self->capacity) {
        size_t capacity = self->capacity ? self->capacity * 2 : 64;
        s_entry_t *entries = realloc (self->entries, capacity * sizeof *entries);
        if (!entries)
            return -1;
        self->entries = entries;
        self->capacity = capacity;
    }
    char *name = strdup (topic);
    if (!name || strmap_put (self->index, name, self->count)) {
        free (name);
        return -1;
    }
    self->entries [self->count++] = (s_entry_t) { name, value, size, size };
    return 0;
}

void *
topic_table_overwrite (topic_table_t *self, const char *topic, size_t size)
{
    size_t index;
    if (!strmap_get (self->index, topic, &index) || self->entries [index].room < size
    ||  !self->entries [index].value)
        return NULL;
    self->entries [index].size = size;
    return self->entries [index].value;
}

void *
topic_table_get (const topic_table_t *self, const char *topic, size_t *size)
{
    size_t index;
    if (!strmap_get (self->index, topic, &index))
        return NULL;
    if (size)
        *size = self->entries [index].size;
    return self->entries [index].value;
}

int
topic_table_clear (topic_table_t *self)
{
    strmap_t *fresh = strmap_new_borrowed (self->expected);
    if (!fresh)
        return -1;
    strmap_destroy (&self->index);
    self->index = fresh;
    s_free_entries (self);
    return 0;
}

size_t
topic_table_count (const topic_table_t *self)
{
    return self->count;
}

const char *
topic_table_at (const topic_table_t *self, size_t index, void **value, size_t *size)
{
    const s_entry_t *entry = &self->entries [index];
    if (value)
        *value = entry->value;
    if (size)
        *size = entry->size;
    return entry->topic;
}
