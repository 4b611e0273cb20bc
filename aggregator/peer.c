/*  peer.c: see peer.h.  */
#include "peer.h"
#include "keys.h"
#include "log.h"
#include "net.h"
#include <errno.h>
#include <stdlib.h>

#define S_MAX_MESSAGE   (256 * 1024 * 1024)    /* a catch-up chunk of records */
#define S_SEND_HWM      1000
#define S_ZMTP_IVL_MS   250
#define S_ZMTP_DEAD_MS  1000

struct peer {
    void *in;                   /* ROUTER: what the peer sends us */
    void *out;                  /* DEALER: what we send the peer */
};

peer_t *
peer_new (void *ctx, const char *bind, const char *connect, const keys_client_t *keys)
{
    peer_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->in = net_socket (ctx, ZMQ_ROUTER, NULL, true);
    self->out = net_socket (ctx, ZMQ_DEALER, NULL, false);
    if (!self->in || !self->out)
        goto failed;
    int64_t max = S_MAX_MESSAGE;
    zmq_setsockopt (self->in, ZMQ_MAXMSGSIZE, &max, sizeof max);
    int on = 1, hwm = S_SEND_HWM, ivl = S_ZMTP_IVL_MS, dead = S_ZMTP_DEAD_MS, reconnect = 100;
    zmq_setsockopt (self->out, ZMQ_IMMEDIATE, &on, sizeof on);
    zmq_setsockopt (self->out, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt (self->out, ZMQ_RECONNECT_IVL, &reconnect, sizeof reconnect);
    zmq_setsockopt (self->out, ZMQ_RECONNECT_IVL_MAX, &dead, sizeof dead);
    for (int i = 0; i < 2; i++) {
        void *socket = i ? self->out : self->in;
        zmq_setsockopt (socket, ZMQ_HEARTBEAT_IVL, &ivl, sizeof ivl);
        zmq_setsockopt (socket, ZMQ_HEARTBEAT_TIMEOUT, &dead, sizeof dead);
    }
    //  Each end is the other's CURVE server: what comes in must come from
    //  the other's key (the ZAP domain PEER_ZAP_DOMAIN allows it alone)
    if (keys && (keys_apply_server (self->in, keys->secret_key, PEER_ZAP_DOMAIN)
             ||  keys_apply_client (self->out, keys))) {
        log_error ("AGG419", "cannot make the peer link CURVE: %s", zmq_strerror (errno));
        goto failed;
    }
    if (net_attach (self->in, bind, true) || net_attach (self->out, connect, false))
        goto failed;
    return self;
failed:
    peer_destroy (&self);
    return NULL;
}

void
peer_destroy (peer_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    peer_t *self = *self_p;
    if (self->in)
        zmq_close (self->in);
    if (self->out)
        zmq_close (self->out);
    free (self);
    *self_p = NULL;
}

void *
peer_socket (peer_t *self)
{
    return self->in;
}

int
peer_send (peer_t *self, const Election__PeerMessage *message)
{
    return net_send_pb (self->out, &message->base, ZMQ_DONTWAIT);
}

Election__PeerMessage *
peer_recv (peer_t *self)
{
    while (true) {
        zmq_msg_t frames [3];
        size_t count;
        if (net_recv_frames (self->in, frames, 3, &count, ZMQ_DONTWAIT))
            return NULL;
        Election__PeerMessage *message = count == 2
            ? election__peer_message__unpack (NULL, zmq_msg_size (&frames [1]), zmq_msg_data (&frames [1]))
            : NULL;
        net_frames_close (frames, count < 3 ? count : 3);
        if (message)
            return message;
        log_warn ("AGG400", "peer link: a message that is not a PeerMessage (%zu frames) dropped",
                  count > 0 ? count - 1 : 0);
    }
}

void
peer_message_free (Election__PeerMessage **message_p)
{
    if (!message_p || !*message_p)
        return;
    election__peer_message__free_unpacked (*message_p, NULL);
    *message_p = NULL;
}
