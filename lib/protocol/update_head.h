/*  update_head.h: the head of an Update (sequence, epoch, mode, send time
    and which body it carries), written in one place for every sender and
    read without unpacking the body for every relay.

    Every Update on a stream carries the same head (README "Stream, topics
    and sequence numbers"): update_head_stamp is how the aggregator's
    summaries and both servers' heartbeats set it. update_head_peek reads it
    back from packed bytes: enough for a relay to order, check and forward
    an update without decoding the summary inside.                         */
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
    int64_t sent_at_us;
    Election__Update__BodyCase body;    /* seat, national, heartbeat, desk or none */
} update_head_t;

/*  Sets update's sequence, epoch, mode and sent_at_us from head, each
    marked present. The body is the caller's: head->body is not used.      */
void update_head_stamp (Election__Update *update, const update_head_t *head);

/*  Reads the head of a packed Update. false if the bytes are not well-formed
    protobuf (the fields themselves are not checked).                       */
bool update_head_peek (const void *bytes, size_t size, update_head_t *head);

#endif
