/*  state_view.c: see state_view.h.  */
#include "state_view.h"
#include "topic_table.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct state_view {
    topic_table_t *topics;      /* topic -> unpacked Election__Update */
    uint64_t sequence;
    uint64_t epoch;
    Election__Mode mode;
    bool upstream_ok;
    char source [16];           /* "" : not known */
};

static void
s_free_update (void *update)
{
    election__update__free_unpacked (update, NULL);
}

state_view_t *
state_view_new (void)
{
    state_view_t *self = calloc (1, sizeof *self);
    if (self)
        self->upstream_ok = true;
    if (self && !(self->topics = topic_table_new (1024, s_free_update))) {
        free (self);
        self = NULL;
    }
    return self;
}

void
state_view_destroy (state_view_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    state_view_t *self = *self_p;
    topic_table_destroy (&self->topics);
    free (self);
    *self_p = NULL;
}

void
state_view_reset (state_view_t *self, const Election__Snapshot *header)
{
    //  Short of memory, the old topics stay: the snapshot's replace them
    topic_table_clear (self->topics);
    self->sequence = header->sequence;
    self->epoch = header->epoch;
    self->mode = header->mode;
    state_view_set_health (self, !header->has_upstream_ok || header->upstream_ok,
                           header->stale_source);
}

void
state_view_set_health (state_view_t *self, bool upstream_ok, const char *source)
{
    self->upstream_ok = upstream_ok;
    snprintf (self->source, sizeof self->source, "%s", source ? source : "");
}

bool
state_view_upstream_ok (const state_view_t *self)
{
    return self->upstream_ok;
}

const char *
state_view_source (const state_view_t *self)
{
    return self->source [0] ? self->source : NULL;
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
    if (topic_table_put (self->topics, topic, copy, size)) {
        election__update__free_unpacked (copy, NULL);
        return -1;
    }
    return 0;
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
    return topic_table_get (self->topics, topic, NULL);
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
    for (size_t i = 0; i < topic_table_count (self->topics); i++) {
        void *update;
        const char *topic = topic_table_at (self->topics, i, &update, NULL);
        fn (arg, topic, update);
    }
}
