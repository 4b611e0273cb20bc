/*  net.c: see net.h.  */
#include "net.h"
#include "log.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

int
net_attach (void *socket, const char *endpoint, bool bind)
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

size_t
net_attach_list (void *socket, const char *endpoints)
{
    size_t count = 0;
    for (const char *at = endpoints; *at;) {
        size_t length = strcspn (at, ",");
        char endpoint [256];
        if (!length || length >= sizeof endpoint) {
            errno = EINVAL;         //  the caller says it, under its own id
            return 0;
        }
        memcpy (endpoint, at, length);
        endpoint [length] = 0;
        if (net_attach (socket, endpoint, false))
            return 0;
        count++;
        at += length;
        if (*at == ',')
            at++;
    }
    return count;
}

void *
net_socket (void *ctx, int type, const char *endpoint, bool bind)
{
    void *socket = zmq_socket (ctx, type);
    if (!socket) {
        log_error ("WIRE001", "cannot create socket: %s", zmq_strerror (errno));
        return NULL;
    }
    int linger = 0;
    zmq_setsockopt (socket, ZMQ_LINGER, &linger, sizeof linger);
    if (endpoint && net_attach (socket, endpoint, bind)) {
        zmq_close (socket);
        return NULL;
    }
    return socket;
}

int
net_send_pb (void *socket, const ProtobufCMessage *msg, int flags)
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
net_send_str (void *socket, const char *text, int flags)
{
    return zmq_send (socket, text, strlen (text), flags) < 0 ? -1 : 0;
}

int
net_recv_frames (void *socket, zmq_msg_t *frames, size_t max, size_t *count, int flags)
{
    return net_recv_frames_counted (socket, frames, max, count, flags, NULL, NULL);
}

int
net_recv_frames_counted (void *socket, zmq_msg_t *frames, size_t max, size_t *count,
                         int flags, net_seen_fn *seen, void *arg)
{
    *count = 0;
    int more = 1;
    while (more) {
        zmq_msg_t frame;
        zmq_msg_init (&frame);
        if (zmq_msg_recv (&frame, socket, *count ? 0 : flags) < 0) {
            int err = errno;
            zmq_msg_close (&frame);
            net_frames_close (frames, *count < max ? *count : max);
            *count = 0;
            errno = err;
            return -1;
        }
        more = zmq_msg_more (&frame);
        if (seen)
            seen (arg, &frame, *count);
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
net_frames_close (zmq_msg_t *frames, size_t count)
{
    for (size_t i = 0; i < count; i++)
        zmq_msg_close (&frames [i]);
}

int
net_recv_event (void *monitor, uint16_t *event, uint32_t *value, int flags)
{
    zmq_msg_t frames [2];
    size_t count;
    if (net_recv_frames (monitor, frames, 2, &count, flags))
        return -1;
    *event = 0;
    *value = 0;
    //  The first frame: the event (16 bits) and its value (32 bits); the
    //  second, the endpoint
    if (count >= 1 && zmq_msg_size (&frames [0]) == 6) {
        memcpy (event, zmq_msg_data (&frames [0]), 2);
        memcpy (value, (uint8_t *) zmq_msg_data (&frames [0]) + 2, 4);
    }
    net_frames_close (frames, count < 2 ? count : 2);
    return 0;
}

bool
net_frame_str (zmq_msg_t *frame, char *buf, size_t size)
{
    size_t len = zmq_msg_size (frame);
    if (len >= size)
        return false;
    memcpy (buf, zmq_msg_data (frame), len);
    buf [len] = 0;
    return true;
}
