/*  sender.h: delivers declarations to the aggregator and makes sure each
    one is acknowledged: the Lazy Pirate pattern, pipelined. Many requests
    are in flight at once on one DEALER socket; each carries a request id the
    ack echoes; a request not acknowledged within the retry interval is sent
    again (the same bytes: the aggregator answers a repeat as a duplicate,
    so nothing is counted twice), until it is acknowledged or the give-up
    time passes. An ack saying the aggregator cannot persist now
    (ACK_UNAVAILABLE) is retried the same way.

    Given a pair of aggregators ("A,B"), it talks to one at a time and turns
    to the other (the Binary Star client) when a request has waited the
    failover time for its ack, or when the one it talks to says it is the
    standby. Every request in flight is sent again there with the same
    request id: what the first had already taken comes back a duplicate. */
#ifndef SENDER_H
#define SENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "keys.h"
#include "election.pb-c.h"

typedef struct {
    const char *to;         /* aggregator ingest endpoint, or a pair's "A,B" */
    int failover_ms;        /* a pair: turn to the other after this long unanswered */
    int retry_ms;           /* resend a request unacknowledged this long */
    int give_up_ms;         /* stop retrying a request after this long */
    size_t window;          /* requests in flight at most */
    const keys_client_t *curve; /* NULL: plain; else CURVE with these keys */
} sender_config_t;

typedef struct sender sender_t;

/*  Called once per request: with its final ack, or ack NULL if it was never
    acknowledged. label is the one given to sender_submit.                  */
typedef void (sender_done_fn) (void *arg, const char *label, const Election__Ack *ack,
                               int attempts);

/*  NULL on failure (logged). Caller owns it; free with sender_destroy.  */
sender_t *sender_new (void *ctx, const sender_config_t *config, sender_done_fn *done, void *arg);
void sender_destroy (sender_t **self_p);

/*  Queues a packed Declaration to be sent no
    earlier than due_ms (monotonic ms; 0 for now). Copies bytes and label.
    Requests are sent in submission order; the sender gives each its own
    request id (the ack echoes it). One larger than the aggregator takes
    (NET_MAX_DECLARATION) is not queued: it is done at once, rejected with
    the reason (done gets an Ack made here, and 0 attempts). Returns -1 on
    no memory.                                                              */
int sender_submit (sender_t *self, const char *label, const void *bytes, size_t size,
                   int64_t due_ms);

/*  Sends what is due, resends what is late, reads acks; waits at most
    wait_ms for something to happen. Returns -1 on a fatal socket error.    */
int sender_pump (sender_t *self, long wait_ms);

/*  Counts: submitted, sent at least once, finished (acked or given up).  */
size_t sender_submitted (const sender_t *self);
size_t sender_sent (const sender_t *self);
size_t sender_finished (const sender_t *self);
/*  Monotonic ms when the next queued request is due, or -1 if none queued. */
int64_t sender_next_due (const sender_t *self);

#endif
