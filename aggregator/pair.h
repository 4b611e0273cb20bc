/*  pair.h: where one aggregator of a pair stands, and when that changes:
    the ZeroMQ Guide's Binary Star state machine, with Raft's terms and log
    comparison where Binary Star would trust a role (README "A pair of
    aggregators" has the whole machine, each transition and its cause).

    Every node starts STARTING and takes over (ACTIVE) only
    - when it sees its peer and neither is active: the one whose journal is
      further on (last term, then last sequence) becomes active; on a tie,
      the primary;
    - or when its peer has been silent past the timeout AND a client turns
      to it (a count centre's declaration, or a follower's failover
      snapshot request): the Binary Star vote, which a network partition
      between the two aggregators alone never casts, since every client
      still reaches the active. Then only if it may: it was its active's
      synced copy when it last heard it (so it holds every acknowledged
      declaration), or the operator said --take-over.
    A node that hears an active peer becomes PASSIVE (the standby); an
    active one that hears an active peer of a higher term steps down.

    Terms: each takeover takes a new term above every term the node knows,
    odd for the primary and even for the backup, so that no two nodes ever
    act in the same term. No sockets, no clock: the caller passes the time
    and what the peer said, and logs the transitions this returns.          */
#ifndef PAIR_H
#define PAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "election.pb-c.h"

typedef struct {
    bool primary;               /* --role primary (else backup) */
    int peer_timeout_ms;        /* a peer silent this long is gone */
    bool take_over;             /* may take over without being a known copy */
} pair_config_t;

/*  What the peer said of itself (any message on the peer link).  */
typedef struct {
    Election__PairState state;
    bool primary;
    uint64_t term;
    uint64_t last_sequence;     /* its last durable record */
    uint64_t last_term;
    bool copy;                  /* from an active peer: we are its synced copy */
} pair_peer_t;

/*  This node's journal, as the comparison of logs needs it.  */
typedef struct {
    uint64_t last_sequence;
    uint64_t last_term;
} pair_log_t;

typedef struct pair pair_t;

/*  A node starting now (mono ms). NULL on no memory.
    Caller owns it; free with pair_destroy.                                 */
pair_t *pair_new (const pair_config_t *config, uint64_t term, int64_t now);
void pair_destroy (pair_t **self_p);

Election__PairState pair_state (const pair_t *self);
uint64_t pair_term (const pair_t *self);
bool pair_primary (const pair_t *self);
/*  "primary" or "backup".  */
const char *pair_role (const pair_t *self);
/*  True if the peer was heard within the timeout.  */
bool pair_peer_alive (const pair_t *self, int64_t now);
/*  True if it may take over when its peer is gone (see above).  */
bool pair_may_take_over (const pair_t *self);

/*  The peer spoke. Returns the new state if it changed (else PAIR_NONE),
    with the cause written to why.                                          */
Election__PairState pair_on_peer (pair_t *self, const pair_peer_t *peer, const pair_log_t *own,
                                  int64_t now, char *why, size_t why_size);

/*  A client turned to this node (a declaration, or a failover snapshot
    request). Returns PAIR_ACTIVE if that made it take over (why says so),
    else PAIR_NONE; then, if it is not active, why says why not.            */
Election__PairState pair_on_vote (pair_t *self, const pair_log_t *own, int64_t now,
                                  char *why, size_t why_size);

/*  This active node has found that it cannot keep its term's promises (its
    journal commit failed and its standby may hold records it dropped): it
    moves to a new term, so that those records never match its own.        */
void pair_new_term (pair_t *self);

#endif
