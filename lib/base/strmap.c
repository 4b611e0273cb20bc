/*  strmap.c: see strmap.h.  */
#include "strmap.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *key;    /* NULL: empty slot; owned unless the map borrows */
    size_t value;
} s_slot_t;

struct strmap {
    s_slot_t *slots;
    size_t capacity;    /* a power of two */
    size_t size;
    bool borrowed;      /* keys belong to the caller */
};

//  FNV-1a: short keys, no adversary that matters (keys are validated first)
static uint64_t
s_hash (const char *key)
{
    uint64_t hash = 14695981039346656037ULL;     //  the 64-bit offset basis
    for (const unsigned char *c = (const unsigned char *) key; *c; c++)
        hash = (hash ^ *c) * 1099511628211ULL;
    return hash;
}

static s_slot_t *
s_find (s_slot_t *slots, size_t capacity, const char *key)
{
    size_t index = s_hash (key) & (capacity - 1);
    while (slots [index].key && strcmp (slots [index].key, key) != 0)
        index = (index + 1) & (capacity - 1);
    return &slots [index];
}

static strmap_t *
s_new (size_t expected, bool borrowed)
{
    strmap_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->capacity = 16;
    while (self->capacity < expected * 2)
        self->capacity *= 2;
    self->slots = calloc (self->capacity, sizeof *self->slots);
    if (!self->slots) {
        free (self);
        return NULL;
    }
    self->borrowed = borrowed;
    return self;
}

strmap_t *
strmap_new (size_t expected)
{
    return s_new (expected, false);
}

strmap_t *
strmap_new_borrowed (size_t expected)
{
    return s_new (expected, true);
}

void
strmap_destroy (strmap_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    strmap_t *self = *self_p;
    for (size_t i = 0; !self->borrowed && i < self->capacity; i++)
        free ((char *) self->slots [i].key);
    free (self->slots);
    free (self);
    *self_p = NULL;
}

bool
strmap_get (const strmap_t *self, const char *key, size_t *value)
{
    s_slot_t *slot = s_find (self->slots, self->capacity, key);
    if (!slot->key)
        return false;
    if (value)
        *value = slot->value;
    return true;
}

static int
s_grow (strmap_t *self)
{
    size_t capacity = self->capacity * 2;
    s_slot_t *slots = calloc (capacity, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < self->capacity; i++)
        if (self->slots [i].key)
            *s_find (slots, capacity, self->slots [i].key) = self->slots [i];
    free (self->slots);
    self->slots = slots;
    self->capacity = capacity;
    return 0;
}

int
strmap_put (strmap_t *self, const char *key, size_t value)
{
    //  Keep the load factor under a half so probes stay short
    if ((self->size + 1) * 2 > self->capacity && s_grow (self))
        return -1;
    s_slot_t *slot = s_find (self->slots, self->capacity, key);
    if (!slot->key) {
        slot->key = self->borrowed ? key : strdup (key);
        if (!slot->key)
            return -1;
        self->size++;
    }
    slot->value = value;
    return 0;
}

bool
strmap_remove (strmap_t *self, const char *key)
{
    s_slot_t *slot = s_find (self->slots, self->capacity, key);
    if (!slot->key)
        return false;
    if (!self->borrowed)
        free ((char *) slot->key);
    slot->key = NULL;
    self->size--;
    //  Backward shift: a key after the hole that could sit in it moves into
    //  it (its home slot is not between the hole and where it is), so no
    //  probe for it stops early at the hole
    size_t mask = self->capacity - 1;
    size_t hole = (size_t) (slot - self->slots);
    for (size_t i = (hole + 1) & mask; self->slots [i].key; i = (i + 1) & mask) {
        size_t home = s_hash (self->slots [i].key) & mask;
        bool stays = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
        if (!stays) {
            self->slots [hole] = self->slots [i];
            self->slots [i].key = NULL;
            hole = i;
        }
    }
    return true;
}

size_t
strmap_size (const strmap_t *self)
{
    return self->size;
}
