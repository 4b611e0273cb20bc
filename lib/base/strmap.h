/*  strmap.h: a map from strings to indexes, for O(1) lookup of seats,
    parties and topics by name: the project's one hash map. Open addressing
    with linear probing; it grows by doubling and never shrinks. A key can
    be removed (a party no declaration names any more): its slot is filled
    again by shifting back the keys after it, so lookups stay short.

    Keys are copied, or, in a map made with strmap_new_borrowed, borrowed
    from whoever owns the named things (a seat's ons_id, a party's code):
    no second copy of every name, and nothing to fail on a put but the
    table's own growth.                                                     */
#ifndef STRMAP_H
#define STRMAP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct strmap strmap_t;

/*  A map sized for about `expected` keys. NULL on allocation failure.
    Caller owns the result; free with strmap_destroy.                       */
strmap_t *strmap_new (size_t expected);

/*  The same, but keys are not copied: each key put must stay valid and
    unchanged for as long as the map lives.                                 */
strmap_t *strmap_new_borrowed (size_t expected);

void strmap_destroy (strmap_t **self_p);

/*  Looks a key up: true and *value set if present.  */
bool strmap_get (const strmap_t *self, const char *key, size_t *value);

/*  Sets key to value (adding or replacing). Returns -1 on allocation failure. */
int strmap_put (strmap_t *self, const char *key, size_t value);

/*  Removes key. Returns true if it was there. A borrowed key is the
    caller's again (free it after, not before).                            */
bool strmap_remove (strmap_t *self, const char *key);

size_t strmap_size (const strmap_t *self);

#endif
