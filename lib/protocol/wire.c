/*  wire.c: see wire.h.  */
#include "wire.h"
#include "log.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

int
wire_attach (void *socket, const char *endpoint, bool bind)
{
    char address [256];
    const char *star = strstr (endpoint, "://*:");
    if (!bind && star) {
        snprintf (address, sizeof address, "%.*s://127.0.0.1:%s",
                  (int) (star - endpoint), endpoint, star + 5);
        endpoint = address;
    }
    int rc = bind ? zmq_bind (socket, endpoint) : zmq_connect (socket, endpoint);
    if (rc)
        log_error ("WIRE002", "cannot %s %s: %s", bind ? "bind" : "connect",
                   endpoint, zmq_strerror (errno));
    return rc;
}

void *
wire_socket (void *ctx, int type, const char *endpoint, bool bind)
{
    void *socket = zmq_socket (ctx, type);
    if (!socket) {
        log_error ("WIRE001", "cannot create socket: %s", zmq_strerror (errno));
        return NULL;
    }
    int linger = 0;
    zmq_setsockopt (socket, ZMQ_LINGER, &linger, sizeof linger);
    if (endpoint && wire_attach (socket, endpoint, bind)) {
        zmq_close (socket);
        return NULL;
    }
    return socket;
}

int
wire_send_pb (void *socket, const ProtobufCMessage *msg, int flags)
{
    size_t size = protobuf_c_message_get_packed_size (msg);
    zmq_msg_t frame;
    if (zmq_msg_init_size (&frame, size))
        return -1;
    protobuf_c_message_pack (msg, zmq_msg_data (&frame));
    if (zmq_msg_send (&frame, socket, flags) < 0) {
        zmq_msg_close (&frame);
        return -1;
    }
    return 0;
}

int
wire_send_str (void *socket, const char *text, int flags)
{
    return zmq_send (socket, text, strlen (text), flags) < 0 ? -1 : 0;
}

int
wire_recv_frames (void *socket, zmq_msg_t *frames, size_t max, size_t *count, int flags)
{
    *count = 0;
    int more = 1;
    while (more) {
        zmq_msg_t frame;
        zmq_msg_init (&frame);
        if (zmq_msg_recv (&frame, socket, *count ? 0 : flags) < 0) {
            int err = errno;
            zmq_msg_close (&frame);
            wire_frames_close (frames, *count < max ? *count : max);
            *count = 0;
            errno = err;
            return -1;
        }
        more = zmq_msg_more (&frame);
        if (*count < max)
            frames [*count] = frame;
        else
            zmq_msg_close (&frame);
        if (*count <= max)
            (*count)++;
    }
    return 0;
}

void
wire_frames_close (zmq_msg_t *frames, size_t count)
{
    for (size_t i = 0; i < count; i++)
        zmq_msg_close (&frames [i]);
}

bool
wire_frame_str (zmq_msg_t *frame, char *buf, size_t size)
{
    size_t len = zmq_msg_size (frame);
    if (len >= size)
        return false;
    memcpy (buf, zmq_msg_data (frame), len);
    buf [len] = 0;
    return true;
}

static bool
s_varint (const uint8_t **at, const uint8_t *end, uint64_t *value)
{
    *value = 0;
    for (int shift = 0; shift < 64 && *at < end; shift += 7) {
        uint8_t byte = *(*at)++;
        *value |= (uint64_t) (byte & 0x7F) << shift;
        if (!(byte & 0x80))
            return true;
    }
    return false;
}

bool
wire_peek_update (const void *bytes, size_t size, wire_head_t *head)
{
    memset (head, 0, sizeof *head);
    const uint8_t *at = bytes, *end = at + size;
    while (at < end) {
        uint64_t key, value;
        if (!s_varint (&at, end, &key))
            return false;
        uint64_t field = key >> 3;
        switch (key & 7) {
            case 0:     //  varint
                if (!s_varint (&at, end, &value))
                    return false;
                if (field == 1) head->sequence = value;
                if (field == 2) head->epoch = value;
                if (field == 3) head->mode = (Election__Mode) value;
                break;
            case 1:     //  64-bit
                if (end - at < 8)
                    return false;
                at += 8;
                break;
            case 2:     //  length-delimited: the oneof bodies are fields 4 to 6
                if (!s_varint (&at, end, &value) || value > (uint64_t) (end - at))
                    return false;
                at += value;
                if (field >= ELECTION__UPDATE__BODY_SEAT && field <= ELECTION__UPDATE__BODY_HEARTBEAT)
                    head->body = (Election__Update__BodyCase) field;
                break;
            case 5:     //  32-bit
                if (end - at < 4)
                    return false;
                at += 4;
                break;
            default:
                return false;
        }
    }
    return true;
}

int64_t
wire_now_us (void)
{
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    return (int64_t) now.tv_sec * 1000000 + now.tv_nsec / 1000;
}

int64_t
wire_mono_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

uint64_t
wire_random_u64 (void)
{
    uint64_t value = 0;
    if (getrandom (&value, sizeof value, 0) != sizeof value)
        value = (uint64_t) wire_now_us () ^ ((uint64_t) getpid () << 32);
    return value ? value : 1;
}

Election__Mode
wire_mode_parse (const char *text)
{
    if (!text)
        return ELECTION__MODE__MODE_UNSPECIFIED;
    if (strcmp (text, "live") == 0)
        return ELECTION__MODE__MODE_LIVE;
    if (strcmp (text, "test") == 0)
        return ELECTION__MODE__MODE_TEST;
    if (strcmp (text, "rehearsal") == 0)
        return ELECTION__MODE__MODE_REHEARSAL;
    return ELECTION__MODE__MODE_UNSPECIFIED;
}

const char *
wire_mode_name (Election__Mode mode)
{
    switch (mode) {
        case ELECTION__MODE__MODE_LIVE:      return "live";
        case ELECTION__MODE__MODE_TEST:      return "test";
        case ELECTION__MODE__MODE_REHEARSAL: return "rehearsal";
        default:                             return "unspecified";
    }
}

static volatile sig_atomic_t s_interrupted = 0;

static void
s_on_signal (int signum)
{
    s_interrupted = 1;
}

void
wire_catch_signals (void)
{
    struct sigaction action;
    memset (&action, 0, sizeof action);
    action.sa_handler = s_on_signal;
    sigemptyset (&action.sa_mask);
    sigaction (SIGINT, &action, NULL);
    sigaction (SIGTERM, &action, NULL);
    signal (SIGPIPE, SIG_IGN);
}

bool
wire_interrupted (void)
{
    return s_interrupted != 0;
}
