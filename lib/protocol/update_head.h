/*  update_head.h: the head of an Update (sequence, epoch, mode and which
    body it carries), read from packed bytes without unpacking the body:
    enough for a relay to order, check and forward an update without
    decoding the summary inside.                                            */
#ifndef EL_UPDATE_HEAD_H
#define EL_UPDATE_HEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "election.pb-c.h"

typedef struct {
    uint64_t sequence;
    uint64_t epoch;
    Election__Mode mode;
    Election__Update__BodyCase body;    /* seat, national, heartbeat or none */
} update_head_t;

/*  Reads the head of a packed Update. false if the bytes are not well-formed
    protobuf (the fields themselves are not checked).                       */
bool update_head_peek (const void *bytes, size_t size, update_head_t *head);

#endif
