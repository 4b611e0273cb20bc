/*  request.c: see request.h.  */
#include "request.h"
#include "clock.h"
#include "keys.h"
#include "log.h"
#include "names.h"
#include "net.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_REPLY (16 * 1024 * 1024)  /* every seat's nominations fit many times over */

//  An answer with an Ack status is a refusal: says it and returns true
static bool
s_refused (const char *command, zmq_msg_t *frame)
{
    Election__Ack *ack = election__ack__unpack (NULL, zmq_msg_size (frame), zmq_msg_data (frame));
    bool refused = ack && ack->has_status;
    if (refused)
        fprintf (stderr, "ingest: the aggregator refused \"%s\": %s\n", command,
                 ack->text ? ack->text : names_ack_status (ack->status));
    if (ack)
        election__ack__free_unpacked (ack, NULL);
    return refused;
}

//  ack_answers: the command's answer is an Ack (whatever its status), and
//  one saying "unavailable" (a standby, a journal that fails) is asked again
static int
s_ask (void *ctx, const sender_config_t *config, const char *command,
       const ProtobufCMessage *payload, const ProtobufCMessageDescriptor *descriptor,
       ProtobufCMessage **reply, bool ack_answers)
{
    *reply = NULL;
    uint8_t *bytes = NULL;
    size_t size = payload ? protobuf_c_message_get_packed_size (payload) : 0;
    if (size && !(bytes = malloc (size))) {
        fprintf (stderr, "ingest: out of memory\n");
        return -1;
    }
    if (size)
        protobuf_c_message_pack (payload, bytes);
    void *dealer = net_socket (ctx, ZMQ_DEALER, NULL, false);
    int rc = -1;
    if (!dealer)
        goto cleanup;
    int64_t max_size = S_MAX_REPLY;
    zmq_setsockopt (dealer, ZMQ_MAXMSGSIZE, &max_size, sizeof max_size);
    if (config->curve && keys_apply_client (dealer, config->curve)) {
        fprintf (stderr, "ingest: cannot set CURVE keys: %s\n", zmq_strerror (errno));
        goto cleanup;
    }
    //  A pair's two: either answers (the standby from what it holds)
    errno = 0;
    if (!net_attach_list (dealer, config->to)) {
        if (errno == EINVAL)
            log_error ("ING152", "--to must be one endpoint or a pair \"A,B\", not \"%s\"",
                       config->to);
        goto cleanup;
    }
    int64_t started = clock_mono_ms (), sent = 0;
    while (true) {
        int64_t now = clock_mono_ms ();
        if (now - started >= config->give_up_ms) {
            fprintf (stderr, "ingest: no answer to \"%s\" from %s in %d s: is the aggregator "
                     "running there (and does it take our key)?\n", command, config->to,
                     config->give_up_ms / 1000);
            break;
        }
        if (!sent || now - sent >= config->retry_ms) {
            if (sent)
                log_info ("ING101", "no answer to \"%s\" in %d ms, asking again", command,
                          config->retry_ms);
            //  Once the first frame is taken the second is too (ZeroMQ sends
            //  a message whole); a refused first frame is tried again later
            if (net_send_str (dealer, command, ZMQ_SNDMORE | ZMQ_DONTWAIT) == 0)
                zmq_send (dealer, bytes ? bytes : (void *) "", size, 0);
            sent = now;
        }
        zmq_pollitem_t item = { dealer, 0, ZMQ_POLLIN, 0 };
        long wait = (long) (sent + config->retry_ms - clock_mono_ms ());
        if (zmq_poll (&item, 1, wait > 0 ? wait : 0) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (!(item.revents & ZMQ_POLLIN))
            continue;
        zmq_msg_t frame;
        zmq_msg_init (&frame);
        if (ack_answers && zmq_msg_recv (&frame, dealer, 0) >= 0) {
            Election__Ack *ack = election__ack__unpack (NULL, zmq_msg_size (&frame),
                                                        zmq_msg_data (&frame));
            zmq_msg_close (&frame);
            if (ack && ack->status == ELECTION__ACK_STATUS__ACK_UNAVAILABLE) {
                log_info ("ING300", "\"%s\": %s; asking again", command, ack->text ? ack->text : "unavailable");
                election__ack__free_unpacked (ack, NULL);
                continue;       //  resent once retry_ms has passed
            }
            *reply = (ProtobufCMessage *) ack;
            rc = ack ? 0 : -1;
            if (!ack)
                fprintf (stderr, "ingest: the answer to \"%s\" does not decode\n", command);
            break;
        }
        if (!ack_answers && zmq_msg_recv (&frame, dealer, 0) >= 0) {
            if (!s_refused (command, &frame)) {
                *reply = protobuf_c_message_unpack (descriptor, NULL, zmq_msg_size (&frame),
                                                    zmq_msg_data (&frame));
                if (*reply)
                    rc = 0;
                else
                    fprintf (stderr, "ingest: the answer to \"%s\" does not decode\n", command);
            }
        }
        zmq_msg_close (&frame);
        break;
    }
cleanup:
    if (dealer)
        zmq_close (dealer);
    free (bytes);
    return rc;
}

int
request_ask (void *ctx, const sender_config_t *config, const char *command,
             const ProtobufCMessage *payload, const ProtobufCMessageDescriptor *descriptor,
             ProtobufCMessage **reply)
{
    return s_ask (ctx, config, command, payload, descriptor, reply, false);
}

int
request_ack (void *ctx, const sender_config_t *config, const char *command,
             const ProtobufCMessage *payload, Election__Ack **ack)
{
    return s_ask (ctx, config, command, payload, &election__ack__descriptor,
                  (ProtobufCMessage **) ack, true);
}

static int
s_seats (void *ctx, const sender_config_t *config, const char *command, const char *ons_id,
         const ProtobufCMessageDescriptor *descriptor, ProtobufCMessage **reply)
{
    Election__SeatsRequest request = ELECTION__SEATS_REQUEST__INIT;
    char *ids [1] = { (char *) ons_id };
    request.n_ons_ids = ons_id ? 1 : 0;
    request.ons_ids = ids;
    return request_ask (ctx, config, command, &request.base, descriptor, reply);
}

int
request_nominations (void *ctx, const sender_config_t *config, const char *ons_id,
                     Election__Nominations **reply)
{
    return s_seats (ctx, config, "nominations", ons_id, &election__nominations__descriptor,
                    (ProtobufCMessage **) reply);
}

int
request_revisions (void *ctx, const sender_config_t *config, const char *ons_id,
                   Election__Revisions **reply)
{
    return s_seats (ctx, config, "revision", ons_id, &election__revisions__descriptor,
                    (ProtobufCMessage **) reply);
}
