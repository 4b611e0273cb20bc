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
    bool has_topic_previous;            /* the Update says topic_previous */
    uint64_t topic_previous;            /* the topic's previous sequence (0: none) */
} update_head_t;

/*  Bytes update_head_chain writes at most.  */
#define UPDATE_HEAD_CHAIN_MAX 12

/*  Sets update's sequence, epoch, mode and sent_at_us from head, each
    marked present. The body is the caller's: head->body is not used.      */
void update_head_stamp (Election__Update *update, const update_head_t *head);

/*  Reads the head of a packed Update. false if the bytes are not well-formed
    protobuf (the fields themselves are not checked).                       */
bool update_head_peek (const void *bytes, size_t size, update_head_t *head);

/*  Writes Update.topic_previous = previous, encoded, into out (room for
    UPDATE_HEAD_CHAIN_MAX bytes) and returns how many bytes it took. Added
    after a packed Update's bytes it sets that field (a later occurrence of
    a field wins): the server that publishes an Update chains it to the
    topic's previous one without decoding it again.                        */
size_t update_head_chain (uint8_t *out, uint64_t previous);

#endif
