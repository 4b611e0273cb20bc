/*  request.h: asks the aggregator something on its ingest socket other
    than a declaration: a command name and its payload, two frames, answered
    with one (README "Requests on the ingest socket"). Used for the
    nominations and the seats' revisions, so that a clerk's machine needs
    nothing but its key.

    One request at a time, on a DEALER of its own (CURVE as the sender's),
    resent after retry_ms and given up after give_up_ms, as the sender does
    with declarations: the answers never change state, so a repeat is
    harmless. A refusal comes back as an Ack with its status set; the
    replies' own fields are numbered from 40, so an Ack never reads as one. */
#ifndef INGEST_REQUEST_H
#define INGEST_REQUEST_H

#include <stdint.h>
#include "election.pb-c.h"
#include "sender.h"

/*  Sends command with payload (may be NULL: empty) to config->to and waits
    for the answer. Returns 0 with the answer unpacked as descriptor says in
    *reply (caller frees with protobuf_c_message_free_unpacked); or -1 once
    it has said why on stderr ("ingest: ..."): no answer in time, or the
    aggregator refused (its reason).                                        */
int request_ask (void *ctx, const sender_config_t *config, const char *command,
                 const ProtobufCMessage *payload, const ProtobufCMessageDescriptor *descriptor,
                 ProtobufCMessage **reply);

/*  Sends command with payload and waits for its Ack, whatever it says (the
    caller judges it), asking again while the answer is "unavailable" (a
    pair's standby, a failing journal). Returns 0 with *ack (caller frees:
    election__ack__free_unpacked), or -1 once it has said why on stderr.    */
int request_ack (void *ctx, const sender_config_t *config, const char *command,
                 const ProtobufCMessage *payload, Election__Ack **ack);

/*  "nominations" of one seat (ons_id) or of every seat the centre may
    declare (NULL). Caller frees *reply (election__nominations__free_unpacked). */
int request_nominations (void *ctx, const sender_config_t *config, const char *ons_id,
                         Election__Nominations **reply);

/*  "revision" of one seat or of every seat the centre may declare (NULL).  */
int request_revisions (void *ctx, const sender_config_t *config, const char *ons_id,
                       Election__Revisions **reply);

#endif
