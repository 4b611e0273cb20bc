/*  wire.h: what every program does with ZeroMQ and the schema: sockets with
    the project's options, sending and receiving protobuf frames, the clock,
    mode names, and the interrupt flag set by SIGINT / SIGTERM.              */
#ifndef WIRE_H
#define WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>
#include <zmq.h>
#include "election.pb-c.h"

/*  Default endpoints (README "Endpoints").  */
#define WIRE_AGG_INGEST      "tcp://*:5555"
#define WIRE_AGG_UPDATES     "tcp://*:5556"
#define WIRE_AGG_SNAPSHOT    "tcp://*:5557"
#define WIRE_PUB_UPDATES     "tcp://*:5558"
#define WIRE_PUB_SNAPSHOT    "tcp://*:5559"
#define WIRE_HEARTBEAT_MS    1000
/*  A stream silent for this long is taken as dead (three missed heartbeats). */
#define WIRE_SILENCE_MS      3000

/*  Makes a socket of `type`, binds (bind=true) or connects it to endpoint,
    with LINGER 0 so that closing never hangs. A connect endpoint written with
    a star host (as in the defaults) is read as localhost, so one default serves both ends.
    endpoint NULL: no bind or connect yet (set options first, then attach).
    Logs and returns NULL on failure.                                        */
void *wire_socket (void *ctx, int type, const char *endpoint, bool bind);

/*  Binds or connects as wire_socket does. Returns 0, or -1 (logged).  */
int wire_attach (void *socket, const char *endpoint, bool bind);

/*  Packs msg and sends it as one frame. Returns 0 or -1 (errno set).  */
int wire_send_pb (void *socket, const ProtobufCMessage *msg, int flags);

/*  Sends a NUL-terminated string as one frame.  */
int wire_send_str (void *socket, const char *text, int flags);

/*  Receives every frame of one message into frames[0..*count-1] (at most
    max; extra frames are dropped and counted in *count as max+1). Returns 0,
    or -1 with errno (EAGAIN with ZMQ_DONTWAIT and nothing to read).
    Caller closes each frame with zmq_msg_close (wire_frames_close).         */
int wire_recv_frames (void *socket, zmq_msg_t *frames, size_t max, size_t *count, int flags);
void wire_frames_close (zmq_msg_t *frames, size_t count);

/*  Copies a frame into a NUL-terminated string of at most size-1 bytes.
    Returns false if the frame was longer than that.                        */
bool wire_frame_str (zmq_msg_t *frame, char *buf, size_t size);

/*  The top-level fields of a packed Update, read without unpacking it:
    enough for a relay to order, check and forward it. body is the oneof's
    case (seat, national, heartbeat or none).                                */
typedef struct {
    uint64_t sequence;
    uint64_t epoch;
    Election__Mode mode;
    Election__Update__BodyCase body;
} wire_head_t;

/*  Reads the head of a packed Update. false if the bytes are not well-formed
    protobuf (the fields themselves are not checked).                       */
bool wire_peek_update (const void *bytes, size_t size, wire_head_t *head);

/*  Wall clock in microseconds and monotonic clock in milliseconds.  */
int64_t wire_now_us (void);
int64_t wire_mono_ms (void);

/*  A random 64-bit number (for epochs and request ids), never 0.  */
uint64_t wire_random_u64 (void);

/*  "live", "test", "rehearsal" <-> Mode. Unknown text gives MODE_UNSPECIFIED. */
Election__Mode wire_mode_parse (const char *text);
const char *wire_mode_name (Election__Mode mode);

/*  Installs SIGINT and SIGTERM handlers that only set a flag, and ignores
    SIGPIPE. wire_interrupted is true once a signal has arrived.            */
void wire_catch_signals (void);
bool wire_interrupted (void);

#endif
