/*  peer.h: the link between the two aggregators of a pair: every message
    either sends goes out on a DEALER connected to the other's peer
    endpoint, and every message either receives comes in on a ROUTER bound
    to its own. What they say is a PeerMessage (proto/election.proto);
    pair.h decides what it means.

    Nothing waits for a peer that is not there: a message for a peer with no
    connection is dropped, not queued (ZMQ_IMMEDIATE), and ZMTP heartbeats
    close a connection that has gone dead (a cable pulled, a partition), so
    that stale heartbeats are never delivered in a burst when it heals. The
    state messages are resent a few times a second anyway.                   */
#ifndef PEER_H
#define PEER_H

#include <stdbool.h>
#include "election.pb-c.h"
#include "keys.h"

#define PEER_ZAP_DOMAIN "peer"

typedef struct peer peer_t;

/*  Binds bind (ROUTER) and connects to connect (DEALER). keys: NULL for an
    open link, else this aggregator's pair and the other's public key
    (server_public): both ends are CURVE, and ctx's ZAP handler must let in
    the other's key alone on PEER_ZAP_DOMAIN (auth_allow_only) before this
    is called. NULL on failure (logged). Caller owns it; free with
    peer_destroy.                                                            */
peer_t *peer_new (void *ctx, const char *bind, const char *connect, const keys_client_t *keys);
void peer_destroy (peer_t **self_p);

/*  The socket to poll for ZMQ_POLLIN.  */
void *peer_socket (peer_t *self);

/*  Sends a message to the peer. Returns 0, or -1 if it was dropped (no
    connection, or its queue full).                                        */
int peer_send (peer_t *self, const Election__PeerMessage *message);

/*  The next message from the peer, or NULL if there is none now. Junk is
    dropped (logged). Caller frees with peer_message_free.                  */
Election__PeerMessage *peer_recv (peer_t *self);
void peer_message_free (Election__PeerMessage **message_p);

#endif
