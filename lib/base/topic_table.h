/*  topic_table.h: the latest value of every topic of a stream, kept in
    order of first arrival and found by name in constant time. Both ends of
    the Clone pattern hold one: the clone server (the packed Update bytes it
    sends again as a snapshot) and a follower's state view (the unpacked
    Updates it shows). The table owns the values and frees them with the
    function it was made with.                                               */
#ifndef EL_TOPIC_TABLE_H
#define EL_TOPIC_TABLE_H

#include <stddef.h>

typedef struct topic_table topic_table_t;

/*  Frees one value the table owns.  */
typedef void (topic_table_free_fn) (void *value);

/*  A table sized for about `expected` topics, whose values free_fn frees.
    NULL on allocation failure. Caller owns it; free with topic_table_destroy. */
topic_table_t *topic_table_new (size_t expected, topic_table_free_fn *free_fn);
void topic_table_destroy (topic_table_t **self_p);

/*  Makes value (of size bytes; the table does not look inside) the latest
    of topic, taking ownership of it and freeing the one it replaces.
    Returns -1 if memory is short: the table is unchanged and value is still
    the caller's.                                                            */
int topic_table_put (topic_table_t *self, const char *topic, void *value, size_t size);

/*  For a topic held whose value was put with size bytes or more: makes
    size its size and returns the value, for the caller to overwrite in place
    with the topic's new value (no allocation, and memory already touched);
    NULL otherwise (put it).                                                 */
void *topic_table_overwrite (topic_table_t *self, const char *topic, size_t size);

/*  The latest value of topic (its size in *size if not NULL), or NULL.
    Owned by the table; valid until the topic is put again or cleared.      */
void *topic_table_get (const topic_table_t *self, const char *topic, size_t *size);

/*  Forgets every topic. Returns -1, keeping everything, if memory is short. */
int topic_table_clear (topic_table_t *self);

size_t topic_table_count (const topic_table_t *self);

/*  The name of topic `index` (0 .. count-1, in order of first arrival), with
    its value in *value and size in *size (either may be NULL). Owned by the
    table.                                                                  */
const char *topic_table_at (const topic_table_t *self, size_t index, void **value, size_t *size);

#endif
