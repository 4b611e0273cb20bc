/*  guard.h: bounds what the peers of one receiving socket can make us hold.

    libzmq shows the application a multipart message only once its last
    frame has arrived, and its limits do not reach a message still arriving:
    ZMQ_MAXMSGSIZE bounds one frame, the high-water marks count whole
    messages. So a peer that sends frames with MORE set and never a last
    one makes libzmq hold all of it, and no receive loop ever sees it.

    A guard sees it from outside libzmq. A socket monitor tells it each
    connection's file descriptor (ZMQ_EVENT_ACCEPTED / CONNECTED); every
    frame the owner receives through the guard says which connection it
    came from (ZMQ_SRCFD) and is counted as the wire bytes it took; the
    kernel counts the bytes each connection has received (TCP_INFO
    tcpi_bytes_received, less what still waits in the kernel). What the
    peer sent that we have not been given is what libzmq holds for it.

    A connection is cut (shutdown(2): libzmq then drops it and frees what it
    held) when what it holds is not whole messages and passes held_max, or
    when all such connections of the socket together pass held_budget (the
    one holding most goes), or when it holds more than held_hard at all.
    "Not whole messages" is known when the socket has nothing to read (the
    owner has taken every whole message), or when the connection has given
    us nothing for a second while the owner was reading. The guard also
    keeps at most peers_max connections (past it, the longest idle or the
    newest goes), and on an XPUB admits subscriptions: at most
    GUARD_MAX_SUBSCRIPTIONS a peer, each at most NET_MAX_TOPIC bytes.

    It never blocks and runs no thread: the owner calls guard_handle after
    every poll, bounds its poll's timeout by guard_timeout_ms (the guard
    looks every 20 ms at what it suspects and at how much memory the
    process has taken, every 250 ms at every connection), and receives
    through the guard. Create it after the socket's security options (CURVE
    changes the wire size of a frame) and before the socket binds or
    connects.                                                               */
#ifndef EL_GUARD_H
#define EL_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#define GUARD_MAX_SUBSCRIPTIONS 256     /* an XPUB peer's subscriptions at once */

typedef struct {
    const char *name;       /* the port in log lines ("ingest"); borrowed */
    size_t held_max;        /* bytes of unfinished messages one peer may make us hold */
    size_t held_budget;     /* the same, all the socket's peers together */
    size_t held_hard;       /* bytes one peer may make us hold at all, read or not */
    size_t peers_max;       /* connections at once; 0: no limit */
    bool evict_idle;        /* past peers_max: cut the longest idle, else the newest */
} guard_limits_t;

typedef struct guard guard_t;

/*  Guards socket (borrowed; it must outlive the guard), monitoring it in
    ctx. limits is copied. NULL on failure (logged).
    Caller owns the result; free with guard_destroy before closing socket. */
guard_t *guard_new (void *ctx, void *socket, const guard_limits_t *limits);
void guard_destroy (guard_t **self_p);

/*  The guarded socket (borrowed).  */
void *guard_socket (const guard_t *self);

/*  Takes the monitor's news and looks at the connections, when it is time
    to. Call after every poll.                                              */
void guard_handle (guard_t *self);

/*  Milliseconds until guard_handle must run again even if nothing arrives
    (0: now). Never more than 20.                                           */
long guard_timeout_ms (const guard_t *self);

/*  As net_recv_frames on the guarded socket, counting what was received.  */
int guard_recv_frames (guard_t *self, zmq_msg_t *frames, size_t max, size_t *count, int flags);

/*  Receives one frame from the guarded socket, counting it. As zmq_msg_recv. */
int guard_recv (guard_t *self, zmq_msg_t *frame, int flags);

/*  On an XPUB made with ZMQ_XPUB_MANUAL: reads at most max (un)subscriptions
    and applies those the limits allow; a peer past them is cut. Returns how
    many it read.                                                           */
int guard_admit_subscriptions (guard_t *self, int max);

/*  Cuts the connection a frame came from (fd: the frame's ZMQ_SRCFD),
    a peer that does not read what we send it, saying why. Does nothing if
    that fd is not one of ours (any more).                                  */
void guard_cut_fd (guard_t *self, int fd, const char *why);

/*  Connections now, and connections cut since the guard was made.  */
size_t guard_peers (const guard_t *self);
uint64_t guard_cut (const guard_t *self);

#endif
