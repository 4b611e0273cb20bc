/*  state_view.c: see state_view.h.  */
#include "state_view.h"
#include "strmap.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *topic;
    Election__Update *update;   /* unpacked copy; NULL once dropped */
} s_entry_t;

struct state_view {
    strmap_t *index;
    s_entry_t *entries;
    size_t count;
    size_t capacity;
    uint64_t sequence;
    uint64_t epoch;
    Election__Mode mode;
};

state_view_t *
state_view_new (void)
{
    state_view_t *self = calloc (1, sizeof *self);
    if (self && !(self->index = strmap_new (1024))) {
        free (self);
        self = NULL;
    }
    return self;
}

static void
s_clear (state_view_t *self)
{
    for (size_t i = 0; i < self->count; i++) {
        free (self->entries [i].topic);
        if (self->entries [i].update)
            election__update__free_unpacked (self->entries [i].update, NULL);
    }
    self->count = 0;
}

void
state_view_destroy (state_view_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    state_view_t *self = *self_p;
    s_clear (self);
    free (self->entries);
    strmap_destroy (&self->index);
    free (self);
    *self_p = NULL;
}

void
state_view_reset (state_view_t *self, const Election__Snapshot *header)
{
    strmap_t *fresh = strmap_new (header->count + 16);
    if (fresh) {
        s_clear (self);
        strmap_destroy (&self->index);
        self->index = fresh;
    }
    self->sequence = header->sequence;
    self->epoch = header->epoch;
    self->mode = header->mode;
}

int
state_view_put (state_view_t *self, const char *topic, const void *bytes, size_t size)
{
    Election__Update *copy = election__update__unpack (NULL, size, bytes);
    if (!copy)
        return -1;
    const Election__Update *update = copy;
    //  A sequence is complete with its UK summary, always the last of its
    //  updates: until then the view is still as of the one before
    if (strcmp (topic, "national") == 0 && update->sequence > self->sequence)
        self->sequence = update->sequence;
    if (update->epoch)
        self->epoch = update->epoch;
    if (update->has_mode)
        self->mode = update->mode;

    size_t index;
    if (strmap_get (self->index, topic, &index)) {
        election__update__free_unpacked (self->entries [index].update, NULL);
        self->entries [index].update = copy;
        return 0;
    }
    if (self->count == self->capacity) {
        size_t capacity = self->capacity ? self->capacity * 2 : 256;
        s_entry_t *entries = realloc (self->entries, capacity * sizeof *entries);
        if (!entries)
            goto nomem;
        self->entries = entries;
        self->capacity = capacity;
    }
    char *name = strdup (topic);
    if (!name || strmap_put (self->index, topic, self->count)) {
        free (name);
        goto nomem;
    }
    self->entries [self->count++] = (s_entry_t) { name, copy };
    return 0;
nomem:
    election__update__free_unpacked (copy, NULL);
    return -1;
}

uint64_t
state_view_sequence (const state_view_t *self)
{
    return self->sequence;
}

uint64_t
state_view_epoch (const state_view_t *self)
{
    return self->epoch;
}

Election__Mode
state_view_mode (const state_view_t *self)
{
    return self->mode;
}

const Election__Update *
state_view_get (const state_view_t *self, const char *topic)
{
    size_t index;
    return strmap_get (self->index, topic, &index) ? self->entries [index].update : NULL;
}

const Election__NationalSummary *
state_view_national (const state_view_t *self)
{
    const Election__Update *update = state_view_get (self, "national");
    return update && update->body_case == ELECTION__UPDATE__BODY_NATIONAL ? update->national : NULL;
}

const Election__SeatSummary *
state_view_seat (const state_view_t *self, const char *ons_id)
{
    char topic [128];
    snprintf (topic, sizeof topic, "seat.%s", ons_id);
    const Election__Update *update = state_view_get (self, topic);
    return update && update->body_case == ELECTION__UPDATE__BODY_SEAT ? update->seat : NULL;
}

void
state_view_each (const state_view_t *self, state_view_fn *fn, void *arg)
{
    for (size_t i = 0; i < self->count; i++)
        fn (arg, self->entries [i].topic, self->entries [i].update);
}
