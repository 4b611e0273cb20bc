/*  store.h: the server side of the Clone pattern. It keeps the latest
    published Update of every topic, byte for byte as it went out, so that a
    snapshot is those bytes sent again: nothing is re-encoded per request.
    The aggregator and every publisher each own one.                         */
#ifndef STORE_H
#define STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "wire.h"

typedef struct store store_t;

/*  A store sized for about `expected` topics. NULL on allocation failure.
    Caller owns it; free with store_destroy.                                 */
store_t *store_new (size_t expected);
void store_destroy (store_t **self_p);

/*  Keeps a copy of bytes as the latest Update of topic. -1 on no memory.  */
int store_put (store_t *self, const char *topic, const void *bytes, size_t size);

/*  The latest Update bytes of topic, or NULL. Owned by the store.  */
const void *store_get (const store_t *self, const char *topic, size_t *size);

/*  Forgets every topic (a follower about to load a fresh snapshot).
    Returns -1, keeping everything, if memory is short.                    */
int store_clear (store_t *self);

size_t store_count (const store_t *self);

/*  Answers a snapshot request on a ROUTER socket: identity frame, the header
    (a Snapshot message whose count this fills in), then (topic, Update) per
    topic starting with prefix ("" or NULL for all). Returns 0 or -1.       */
int store_send_snapshot (const store_t *self, void *router, zmq_msg_t *identity,
                         Election__Snapshot *header, const char *prefix);

#endif
