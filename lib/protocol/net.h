/*  net.h: what every program does with ZeroMQ: sockets with the project's
    options, and protobuf messages and strings sent and received as frames.
    The default endpoints and timings of the topology are here too, so that
    both ends of a link agree on them (README "Topology").                  */
#ifndef EL_NET_H
#define EL_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>
#include <zmq.h>

/*  Default endpoints (README "Topology").  */
#define NET_AGG_INGEST      "tcp://*:5555"
#define NET_AGG_UPDATES     "tcp://*:5556"
#define NET_AGG_SNAPSHOT    "tcp://*:5557"
#define NET_PUB_UPDATES     "tcp://*:5558"
#define NET_PUB_SNAPSHOT    "tcp://*:5559"
#define NET_AGG_PEER        "tcp://*:5560"   /* a pair's peer link */
#define NET_HEARTBEAT_MS    1000
/*  A stream silent for this long is taken as dead (three missed heartbeats). */
#define NET_SILENCE_MS      3000
/*  A pair of aggregators (README "A pair of aggregators" has the timing
    argument): each tells the other its state this often; a peer silent this
    long is gone; an active waits this long for its standby's copy before it
    acknowledges on its own journal alone; a count centre waits this long
    for an acknowledgement before it turns to the other aggregator. The copy
    timeout must stay below the centres' failover time, and the peer timeout
    too, with room to spare.                                                 */
#define NET_PEER_HEARTBEAT_MS   250
#define NET_PEER_TIMEOUT_MS     1000
#define NET_COPY_TIMEOUT_MS     500
#define NET_FAILOVER_MS         1500
/*  The largest declaration the aggregator's ingest socket takes (its
    ZMQ_MAXMSGSIZE): a sender refuses to send a larger one.                 */
#define NET_MAX_DECLARATION (256 * 1024)
/*  The longest topic published ("seat.<id>", "region.<name>"...), and so the
    longest subscription a publishing socket admits.                        */
#define NET_MAX_TOPIC       128

/*  Makes a socket of `type`, binds (bind=true) or connects it to endpoint,
    with LINGER 0 so that closing never hangs. A connect endpoint written with
    a star host (as in the defaults) is read as localhost, so one default serves both ends.
    endpoint NULL: no bind or connect yet (set options first, then attach).
    Logs and returns NULL on failure.                                        */
void *net_socket (void *ctx, int type, const char *endpoint, bool bind);

/*  Binds or connects as net_socket does. Returns 0, or -1 (logged).  */
int net_attach (void *socket, const char *endpoint, bool bind);

/*  Connects socket to every endpoint of a list "A,B" (a pair of
    aggregators; one endpoint is a list of one), as net_attach does.
    Returns how many, or 0 if one cannot be attached (logged) or the list
    is malformed (errno EINVAL, not logged: the caller says it).            */
size_t net_attach_list (void *socket, const char *endpoints);

/*  Packs msg and sends it as one frame. Returns 0 or -1 (errno set).  */
int net_send_pb (void *socket, const ProtobufCMessage *msg, int flags);

/*  Sends a NUL-terminated string as one frame.  */
int net_send_str (void *socket, const char *text, int flags);

/*  Receives every frame of one message into frames[0..*count-1] (at most
    max; extra frames are dropped and counted in *count as max+1). Returns 0,
    or -1 with errno (EAGAIN with ZMQ_DONTWAIT and nothing to read).
    Caller closes each frame with zmq_msg_close (net_frames_close).          */
int net_recv_frames (void *socket, zmq_msg_t *frames, size_t max, size_t *count, int flags);
void net_frames_close (zmq_msg_t *frames, size_t count);

/*  As net_recv_frames, and calls seen (arg, frame, index) on every frame
    received, the dropped extra ones too, before it is kept or closed.      */
typedef void (net_seen_fn) (void *arg, zmq_msg_t *frame, size_t index);
int net_recv_frames_counted (void *socket, zmq_msg_t *frames, size_t max, size_t *count,
                             int flags, net_seen_fn *seen, void *arg);

/*  Reads one event from a socket monitor's PAIR (zmq_socket_monitor):
    its number and value (an fd, an errno or a status). Returns 0, or -1
    with errno (EAGAIN with ZMQ_DONTWAIT and none waiting).                 */
int net_recv_event (void *monitor, uint16_t *event, uint32_t *value, int flags);

/*  Copies a frame into a NUL-terminated string of at most size-1 bytes.
    Returns false if the frame was longer than that.                        */
bool net_frame_str (zmq_msg_t *frame, char *buf, size_t size);

#endif
