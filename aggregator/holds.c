/*  holds.c: see holds.h.

    A handful of seats are held on a night, so the holds are an array
    searched from end to end: no index to keep, whatever the number of
    seats. Each is kept as an unpacked HeldDeclaration, made by packing one
    whose strings are borrowed and unpacking it: a deep copy that protobuf-c
    frees in one call.                                                      */
#include "holds.h"
#include <stdlib.h>
#include <string.h>

struct holds {
    Election__HeldDeclaration **held;   /* in the order held */
    size_t count;
    size_t cap;
};

holds_t *
holds_new (void)
{
    return calloc (1, sizeof (holds_t));
}

void
holds_clear (holds_t *self)
{
    for (size_t i = 0; i < self->count; i++)
        election__held_declaration__free_unpacked (self->held [i], NULL);
    self->count = 0;
}

void
holds_destroy (holds_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    holds_t *self = *self_p;
    holds_clear (self);
    free (self->held);
    free (self);
    *self_p = NULL;
}

static long
s_index (const holds_t *self, const char *ons_id)
{
    for (size_t i = 0; ons_id && i < self->count; i++)
        if (self->held [i]->ons_id && strcmp (self->held [i]->ons_id, ons_id) == 0)
            return (long) i;
    return -1;
}

const Election__HeldDeclaration *
holds_find (const holds_t *self, const char *ons_id)
{
    long index = s_index (self, ons_id);
    return index < 0 ? NULL : self->held [index];
}

bool
holds_drop (holds_t *self, const char *ons_id)
{
    long index = s_index (self, ons_id);
    if (index < 0)
        return false;
    election__held_declaration__free_unpacked (self->held [index], NULL);
    memmove (&self->held [index], &self->held [index + 1],
             (self->count - (size_t) index - 1) * sizeof *self->held);
    self->count--;
    return true;
}

size_t
holds_count (const holds_t *self)
{
    return self->count;
}

int
holds_put (holds_t *self, const Election__Declaration *declaration, const char *name,
           const char *source, int64_t received_at_us, uint64_t sequence,
           char *const *reasons, size_t n_reasons)
{
    if (self->count == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 16;
        Election__HeldDeclaration **held = realloc (self->held, cap * sizeof *held);
        if (!held)
            return -1;
        self->held = held;
        self->cap = cap;
    }
    //  protobuf-c's structs take non-const pointers; packing only reads them
    Election__HeldDeclaration borrowed = ELECTION__HELD_DECLARATION__INIT;
    borrowed.ons_id = declaration->ons_id;
    borrowed.name = (char *) name;
    borrowed.has_revision = true;
    borrowed.revision = declaration->revision;
    borrowed.n_reasons = n_reasons;
    borrowed.reasons = (char **) reasons;
    borrowed.source = (char *) source;
    borrowed.has_received_at_ms = true;
    borrowed.received_at_ms = received_at_us / 1000;
    borrowed.has_sequence = true;
    borrowed.sequence = sequence;
    borrowed.declaration = (Election__Declaration *) declaration;
    size_t size = election__held_declaration__get_packed_size (&borrowed);
    uint8_t *bytes = malloc (size ? size : 1);
    if (!bytes)
        return -1;
    election__held_declaration__pack (&borrowed, bytes);
    Election__HeldDeclaration *copy = election__held_declaration__unpack (NULL, size, bytes);
    free (bytes);
    if (!copy)
        return -1;
    holds_drop (self, declaration->ons_id);
    self->held [self->count++] = copy;
    return 0;
}

static bool
s_same_text (const char *a, const char *b)
{
    return strcmp (a ? a : "", b ? b : "") == 0;
}

static bool
s_same_candidate (const Election__Candidate *a, const Election__Candidate *b)
{
    return s_same_text (a->name, b->name) && s_same_text (a->party, b->party)
        && a->votes == b->votes && (a->has_elected && a->elected) == (b->has_elected && b->elected);
}

bool
holds_same (const Election__HeldDeclaration *held, const Election__Declaration *declaration)
{
    const Election__Declaration *kept = held->declaration;
    if (!kept || kept->revision != declaration->revision || kept->kind != declaration->kind
    ||  kept->electorate != declaration->electorate
    ||  kept->n_candidates != declaration->n_candidates
    ||  kept->has_valid_votes != declaration->has_valid_votes
    ||  kept->valid_votes != declaration->valid_votes
    ||  kept->has_rejected_ballots != declaration->has_rejected_ballots
    ||  kept->rejected_ballots != declaration->rejected_ballots
    ||  kept->has_ballot_papers != declaration->has_ballot_papers
    ||  kept->ballot_papers != declaration->ballot_papers)
        return false;
    //  The same candidates in any order: each of one matched in the other,
    //  once (a declaration names a candidate once, or the tally refuses it)
    for (size_t i = 0; i < kept->n_candidates; i++) {
        bool found = false;
        for (size_t j = 0; !found && j < declaration->n_candidates; j++)
            found = s_same_candidate (kept->candidates [i], declaration->candidates [j]);
        if (!found)
            return false;
    }
    return true;
}

uint8_t *
holds_pack (const holds_t *self, const update_head_t *head, size_t *size)
{
    Election__DeskSummary desk = ELECTION__DESK_SUMMARY__INIT;
    desk.n_held = self->count;
    desk.held = self->held;
    Election__Update update = ELECTION__UPDATE__INIT;
    update.body_case = ELECTION__UPDATE__BODY_DESK;
    update.desk = &desk;
    update_head_stamp (&update, head);
    *size = election__update__get_packed_size (&update);
    uint8_t *bytes = malloc (*size ? *size : 1);
    if (bytes)
        election__update__pack (&update, bytes);
    return bytes;
}
