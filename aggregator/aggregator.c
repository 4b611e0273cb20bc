/*  aggregator.c: see aggregator.h.

    One zmq_poll loop. Each turn reads a batch of declarations (up to
    S_BATCH), applies each to the tally, encodes the summaries it changed
    and journals it; then one journal commit (write + fdatasync) covers the
    batch, and only after that are the summaries published and the acks
    sent. If the commit fails, nothing of the batch is published or
    acknowledged as accepted: the tally is rebuilt from the journal on disk,
    and the senders are told to retry (ACK_UNAVAILABLE).                    */
#include "aggregator.h"
#include "auth.h"
#include "intake.h"
#include "journal.h"
#include "journal_record.h"
#include "keys.h"
#include "log.h"
#include "results_file.h"
#include "clone_server.h"
#include "summary.h"
#include "tally.h"
#include "clock.h"
#include "signals.h"
#include "names.h"
#include "net.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_BATCH         512     /* declarations per journal commit at most */
#define S_TOPIC_MAX     128
#define S_PUB_HWM       100000  /* updates queued per slow subscriber before dropping */
#define S_ACK_HWM       100000  /* acks queued per sender: past libzmq's default
                                   of 1000 a ROUTER silently drops replies, and a
                                   sender with a wide window would see none */

typedef struct {
    char topic [S_TOPIC_MAX];
    uint8_t *bytes;
    size_t size;
} s_outgoing_t;

typedef struct {
    zmq_msg_t identity;
    Election__Ack ack;
    char text [192];
    char ons_id [INTAKE_MAX_CODE + 1];
    bool tallied;               /* the answer rests on the tally's state */
} s_reply_t;

struct aggregator {
    aggregator_config_t config;
    results_t *baseline;
    tally_options_t tally_options;
    tally_t *tally;
    clone_server_t *server;
    journal_t *journal;
    void *ctx;
    void *ingest;
    void *updates;
    void *snapshot;
    auth_t *auth;               /* NULL: the ingest socket is open to anyone */
    uint64_t sequence;
    uint64_t epoch;
    int64_t next_heartbeat;     /* mono ms */
    bool journal_failing;       /* the last commit failed; said loudly once */
    bool batch_unjournaled;     /* a record of this batch could not be buffered */
    //  The batch under way
    s_outgoing_t *outgoing;
    size_t n_outgoing;
    size_t outgoing_capacity;
    s_reply_t replies [S_BATCH];
    size_t n_replies;
};

//  The head of every Update we send now
static update_head_t
s_head (const aggregator_t *self)
{
    return (update_head_t) { .sequence = self->sequence, .epoch = self->epoch,
                             .mode = self->config.mode, .sent_at_us = clock_now_us () };
}

//  Queues a packed Update for publication after the batch commits
static int
s_queue (aggregator_t *self, const char *topic, uint8_t *bytes, size_t size)
{
    if (!bytes)
        return -1;
    if (self->n_outgoing == self->outgoing_capacity) {
        size_t capacity = self->outgoing_capacity ? self->outgoing_capacity * 2 : 4 * S_BATCH;
        s_outgoing_t *outgoing = realloc (self->outgoing, capacity * sizeof *outgoing);
        if (!outgoing) {
            free (bytes);
            return -1;
        }
        self->outgoing = outgoing;
        self->outgoing_capacity = capacity;
    }
    s_outgoing_t *entry = &self->outgoing [self->n_outgoing++];
    snprintf (entry->topic, sizeof entry->topic, "%s", topic);
    entry->bytes = bytes;
    entry->size = size;
    return 0;
}

static void
s_drop_outgoing (aggregator_t *self)
{
    for (size_t i = 0; i < self->n_outgoing; i++)
        free (self->outgoing [i].bytes);
    self->n_outgoing = 0;
}

//  Encodes a seat's summary and those of its scopes, national last
static int
s_queue_seat (aggregator_t *self, size_t seat)
{
    update_head_t head = s_head (self);
    char topic [S_TOPIC_MAX];
    size_t size;
    summary_seat_topic (self->tally, seat, topic, sizeof topic);
    uint8_t *bytes = summary_pack_seat (self->tally, seat, &head, &size);
    if (s_queue (self, topic, bytes, size))
        return -1;
    size_t scopes [3];
    size_t n_scopes = tally_seat_scopes (self->tally, seat, scopes);
    for (size_t i = n_scopes; i-- > 0;) {
        summary_scope_topic (self->tally, scopes [i], topic, sizeof topic);
        bytes = summary_pack_scope (self->tally, scopes [i], &head, &size);
        if (s_queue (self, topic, bytes, size))
            return -1;
    }
    return 0;
}

//  Puts every declared seat and every scope into the clone server, as of now
static int
s_fill_server (aggregator_t *self)
{
    if (clone_server_clear (self->server))
        return -1;
    update_head_t head = s_head (self);
    char topic [S_TOPIC_MAX];
    size_t size;
    for (size_t seat = 0; seat < tally_seats_total (self->tally); seat++) {
        seat_view_t view;
        tally_seat (self->tally, seat, &view);
        if (!view.declared && view.revision == 0)
            continue;
        uint8_t *bytes = summary_pack_seat (self->tally, seat, &head, &size);
        summary_seat_topic (self->tally, seat, topic, sizeof topic);
        int rc = bytes ? clone_server_put (self->server, topic, bytes, size) : -1;
        free (bytes);
        if (rc)
            return -1;
    }
    for (size_t scope = 0; scope < tally_scope_count (self->tally); scope++) {
        uint8_t *bytes = summary_pack_scope (self->tally, scope, &head, &size);
        summary_scope_topic (self->tally, scope, topic, sizeof topic);
        int rc = bytes ? clone_server_put (self->server, topic, bytes, size) : -1;
        free (bytes);
        if (rc)
            return -1;
    }
    return 0;
}

//  Applies one journal record during recovery
static int
s_recover_record (void *arg, const uint8_t *payload, size_t size)
{
    aggregator_t *self = arg;
    Election__JournalRecord *record = journal_record_unpack (payload, size);
    if (!record) {
        log_error ("AGG030", "journal record %llu does not decode; skipped",
                   (unsigned long long) self->sequence + 1);
        return 0;
    }
    intake_t intake;
    char text [192];
    el_reason_t reason = intake_from_message (record->declaration, &intake, text, sizeof text);
    if (reason == EL_REASON_NONE) {
        tally_verdict_t verdict;
        if (tally_apply (self->tally, &intake.decl, &verdict) != TALLY_ACCEPTED)
            log_warn ("AGG031", "journal record seq %llu not re-applied: %s",
                      (unsigned long long) record->sequence, verdict.text);
        intake_release (&intake);
    }
    else
        log_warn ("AGG036", "journal record seq %llu refused: %s",
                  (unsigned long long) record->sequence, text);
    if (record->sequence > self->sequence)
        self->sequence = record->sequence;
    journal_record_free (&record);
    return 0;
}

static int
s_new_tally (aggregator_t *self)
{
    tally_destroy (&self->tally);
    self->tally = tally_new (self->baseline, &self->tally_options);
    if (!self->tally) {
        log_error ("AGG003", "cannot build the tally from %s", self->config.baseline);
        return -1;
    }
    return 0;
}

//  After a failed commit: the tally holds declarations the disk does not.
//  Rebuild it from what the journal durably holds.
static int
s_rebuild_from_journal (aggregator_t *self, uint64_t sequence)
{
    if (s_new_tally (self))
        return -1;
    self->sequence = 0;
    journal_scan_t scan;
    char err [256];
    if (journal_read (self->config.journal, s_recover_record, self, &scan, err, sizeof err)) {
        log_error ("AGG032", "cannot re-read journal: %s", err);
        return -1;
    }
    if (self->sequence < sequence)
        self->sequence = sequence;
    return 0;
}

//  CURVE on the ingest socket, with the allow-list's ZAP handler, or a
//  warning that anyone who can reach the port may declare
static int
s_secure_ingest (aggregator_t *self)
{
    if (!self->config.curve_secret) {
        log_warn ("AGG008", "ingest %s is OPEN: anyone who can reach it may declare results; "
                  "use --curve-secret and --allow (SECURITY.md)", self->config.ingest);
        return 0;
    }
    char secret [KEYS_Z85_SIZE], err [512];
    if (keys_read_secret (self->config.curve_secret, secret, err, sizeof err)) {
        log_error ("AGG009", "%s", err);
        return -1;
    }
    auth_load (self->ctx, self->config.allow, "ingest", &self->auth, err, sizeof err);
    int rc = self->auth ? keys_apply_server (self->ingest, secret, "ingest") : -1;
    memset (secret, 0, sizeof secret);
    if (!self->auth)
        log_error ("AGG009", "%s", err);
    else
    if (rc)
        log_error ("AGG013", "cannot make the ingest socket a CURVE server: %s",
                   zmq_strerror (errno));
    else
        log_info ("AGG012", "ingest is CURVE-secured: %zu keys of %zu centres allowed (%s)",
                  auth_keys (self->auth), auth_centres (self->auth), self->config.allow);
    return rc;
}

aggregator_t *
aggregator_new (const aggregator_config_t *config)
{
    aggregator_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->config = *config;
    self->tally_options.speaker_as = config->speaker_as;
    self->tally_options.baseline_speaker_as = config->baseline_speaker_as;
    self->epoch = clock_random_u64 ();

    char err [512];
    if (results_load (config->baseline, &self->baseline, err, sizeof err)) {
        log_error ("AGG002", "cannot load baseline: %s", err);
        goto failed;
    }
    if (s_new_tally (self))
        goto failed;
    self->server = clone_server_new (tally_seats_total (self->tally)
                                   + tally_scope_count (self->tally) + 16);
    if (!self->server)
        goto failed;

    if (config->journal) {
        journal_scan_t scan;
        el_err_t rc = journal_open (config->journal, config->truncate_corrupt, s_recover_record,
                                    self, &scan, &self->journal, err, sizeof err);
        if (rc == EL_ERR_CORRUPT) {
            log_error ("AGG004", "refusing to start: %s; inspect it, or start with "
                       "--truncate-corrupt to cut the journal there", err);
            goto failed;
        }
        if (rc) {
            log_error ("AGG005", "cannot open journal: %s", err);
            goto failed;
        }
        if (scan.cut_bytes)
            log_warn ("AGG006", "journal %s: cut %llu bytes of a torn or corrupt tail after %zu records",
                      config->journal, (unsigned long long) scan.cut_bytes, scan.records);
        log_info ("AGG007", "journal %s: recovered %zu records, %zu seats declared, resuming at sequence %llu",
                  config->journal, scan.records, tally_declared (self->tally),
                  (unsigned long long) self->sequence + 1);
    }
    if (s_fill_server (self))
        goto failed;

    self->ctx = zmq_ctx_new ();
    if (!self->ctx)
        goto failed;
    self->ingest = net_socket (self->ctx, ZMQ_ROUTER, NULL, true);
    self->updates = net_socket (self->ctx, ZMQ_PUB, NULL, true);
    self->snapshot = net_socket (self->ctx, ZMQ_ROUTER, NULL, true);
    if (!self->ingest || !self->updates || !self->snapshot || s_secure_ingest (self))
        goto failed;
    //  Hostile senders: a frame over this size drops their connection
    int64_t max_size = INTAKE_MAX_MESSAGE;
    zmq_setsockopt (self->ingest, ZMQ_MAXMSGSIZE, &max_size, sizeof max_size);
    int64_t request_max = 4096;
    zmq_setsockopt (self->snapshot, ZMQ_MAXMSGSIZE, &request_max, sizeof request_max);
    //  A slow subscriber gets its updates dropped past this, never stalls us
    int hwm = S_PUB_HWM;
    zmq_setsockopt (self->updates, ZMQ_SNDHWM, &hwm, sizeof hwm);
    int ack_hwm = S_ACK_HWM;
    zmq_setsockopt (self->ingest, ZMQ_SNDHWM, &ack_hwm, sizeof ack_hwm);
    if (net_attach (self->ingest, config->ingest, true)
    ||  net_attach (self->updates, config->updates, true)
    ||  net_attach (self->snapshot, config->snapshot, true))
        goto failed;
    log_info ("AGG001", "ready: %zu seats, mode %s, election %s, ingest %s, updates %s, snapshot %s, epoch %016llx",
              tally_seats_total (self->tally), names_mode (config->mode), config->election,
              config->ingest, config->updates, config->snapshot, (unsigned long long) self->epoch);
    return self;
failed:
    aggregator_destroy (&self);
    return NULL;
}

void
aggregator_destroy (aggregator_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    aggregator_t *self = *self_p;
    auth_destroy (&self->auth);
    if (self->ingest)
        zmq_close (self->ingest);
    if (self->updates)
        zmq_close (self->updates);
    if (self->snapshot)
        zmq_close (self->snapshot);
    if (self->ctx)
        zmq_ctx_term (self->ctx);
    s_drop_outgoing (self);
    free (self->outgoing);
    journal_close (&self->journal);
    clone_server_destroy (&self->server);
    tally_destroy (&self->tally);
    results_destroy (&self->baseline);
    free (self);
    *self_p = NULL;
}

static s_reply_t *
s_reply (aggregator_t *self, zmq_msg_t *identity, uint64_t request_id,
         Election__AckStatus status, el_reason_t reason, const char *text)
{
    s_reply_t *reply = &self->replies [self->n_replies++];
    zmq_msg_init (&reply->identity);
    zmq_msg_move (&reply->identity, identity);
    election__ack__init (&reply->ack);
    reply->ack.has_request_id = true;
    reply->ack.request_id = request_id;
    reply->ack.has_status = true;
    reply->ack.status = status;
    reply->ack.has_code = true;
    reply->ack.code = (Election__RejectCode) reason;
    snprintf (reply->text, sizeof reply->text, "%s", text ? text : "");
    reply->ack.text = reply->text;
    reply->ons_id [0] = 0;
    reply->ack.ons_id = reply->ons_id;
    reply->tallied = false;
    return reply;
}

//  Every ack about a declaration names its seat and revision
static void
s_reply_names (s_reply_t *reply, const intake_t *intake)
{
    snprintf (reply->ons_id, sizeof reply->ons_id, "%s", intake->decl.ons_id);
    reply->ack.has_revision = true;
    reply->ack.revision = intake->decl.revision;
}

//  Decoding: a declaration is one frame that intake accepts. Returns false
//  when it is not (the rejection queued, or the message dropped unanswered).
static bool
s_decode (aggregator_t *self, zmq_msg_t *frames, size_t count, intake_t *intake,
          uint64_t *request_id)
{
    if (count != 2) {
        if (count >= 1 && count <= 4) {
            log_warn ("AGG020", "message of %zu frames dropped: a declaration is one frame", count - 1);
            s_reply (self, &frames [0], 0, ELECTION__ACK_STATUS__ACK_REJECTED,
                     EL_REASON_MALFORMED, "a declaration is exactly one frame");
        }
        else
            log_warn ("AGG020", "message of more than %zu frames dropped unanswered", count - 2);
        return false;
    }
    char text [192];
    el_reason_t reason = intake_decode (zmq_msg_data (&frames [1]), zmq_msg_size (&frames [1]),
                                        self->config.mode, self->config.election,
                                        intake, request_id, text, sizeof text);
    if (reason) {
        log_warn ("AGG021", "declaration rejected before the tally (%s): %s",
                  el_reason_text (reason), text);
        s_reply (self, &frames [0], *request_id, ELECTION__ACK_STATUS__ACK_REJECTED, reason, text);
        return false;
    }
    return true;
}

//  Authorisation: under CURVE the sender is who its key says (ZAP
//  User-Id), not what source_id claims, and may declare only the seats the
//  allow-list gives its centre. Sets *source; returns false (the rejection
//  queued) when it may not.
static bool
s_authorise (aggregator_t *self, zmq_msg_t *frames, const intake_t *intake,
             uint64_t request_id, const char **source)
{
    *source = intake->message->source_id ? intake->message->source_id : "?";
    if (!self->auth)
        return true;
    const char *user = zmq_msg_gets (&frames [1], "User-Id");
    *source = user && *user ? user : "(unauthenticated)";
    if (user && auth_permits (self->auth, user, intake->decl.ons_id))
        return true;
    const char *key_id = zmq_msg_gets (&frames [1], "X-Key-Id");
    char text [192];
    snprintf (text, sizeof text, "centre %s may not declare %s", *source, intake->decl.ons_id);
    log_warn ("AGG024", "%s rev %u from %s (key %s): NOT AUTHORISED, not on that centre's list",
              intake->decl.ons_id, intake->decl.revision, *source, key_id ? key_id : "?");
    s_reply_names (s_reply (self, &frames [0], request_id, ELECTION__ACK_STATUS__ACK_REJECTED,
                            EL_REASON_NOT_AUTHORISED, text), intake);
    return false;
}

//  Tallying: applies the declaration, or says why not
static tally_status_t
s_tally (aggregator_t *self, const intake_t *intake, const char *source, tally_verdict_t *verdict)
{
    tally_status_t status = tally_apply (self->tally, &intake->decl, verdict);
    if (status == TALLY_REJECTED)
        log_warn ("AGG022", "rejected from %s (%s): %s", source,
                  el_reason_text (verdict->reason), verdict->text);
    else
    if (status == TALLY_DUPLICATE)
        log_info ("AGG023", "%s rev %u from %s: duplicate, no change", intake->decl.ons_id,
                  intake->decl.revision, source);
    return status;
}

//  Journalling what the tally accepted: it takes the next sequence and goes
//  into the batch's commit, and its summaries are queued to go out after
//  that commit
static void
s_journal (aggregator_t *self, const intake_t *intake, const char *source, size_t seat)
{
    self->sequence++;
    //  Not journalled means not acknowledged: the batch fails whole
    if (self->journal
    &&  journal_record_append (self->journal, self->sequence, clock_now_us (), source,
                               intake->message))
        self->batch_unjournaled = true;
    s_queue_seat (self, seat);
    seat_view_t view;
    tally_seat (self->tally, seat, &view);
    if (view.declared)
        log_info ("AGG010", "%s rev %u from %s accepted, seq %llu: %s %s%s%s",
                  view.ons_id, view.revision, source, (unsigned long long) self->sequence,
                  view.winner, view.gain ? "GAIN FROM " : "HOLD",
                  view.gain && view.previous_winner ? view.previous_winner : "",
                  view.kind == DECL_RUSH ? " (rush)" : "");
    else
        log_info ("AGG011", "%s rev %u from %s accepted, seq %llu: declaration retracted",
                  view.ons_id, view.revision, source, (unsigned long long) self->sequence);
}

//  Replying: the ack for the tally's verdict (an accepted one is sent only
//  once the batch's commit holds it: s_handle_ingest)
static void
s_reply_verdict (aggregator_t *self, zmq_msg_t *identity, uint64_t request_id,
                 const intake_t *intake, tally_status_t status, const tally_verdict_t *verdict)
{
    s_reply_t *reply;
    if (status == TALLY_REJECTED)
        reply = s_reply (self, identity, request_id, ELECTION__ACK_STATUS__ACK_REJECTED,
                         verdict->reason, verdict->text);
    else
    if (status == TALLY_DUPLICATE)
        reply = s_reply (self, identity, request_id, ELECTION__ACK_STATUS__ACK_DUPLICATE,
                         EL_REASON_NONE, "duplicate: already held");
    else {
        reply = s_reply (self, identity, request_id, ELECTION__ACK_STATUS__ACK_ACCEPTED,
                         EL_REASON_NONE, "accepted");
        reply->ack.has_sequence = true;
        reply->ack.sequence = self->sequence;
    }
    reply->tallied = true;
    s_reply_names (reply, intake);
}

//  Handles one declaration message, step by step; adds its reply to the
//  batch
static void
s_handle_declaration (aggregator_t *self, zmq_msg_t *frames, size_t count)
{
    intake_t intake;
    uint64_t request_id;
    if (!s_decode (self, frames, count, &intake, &request_id))
        return;
    const char *source;
    if (s_authorise (self, frames, &intake, request_id, &source)) {
        tally_verdict_t verdict;
        tally_status_t status = s_tally (self, &intake, source, &verdict);
        if (status == TALLY_ACCEPTED)
            s_journal (self, &intake, source, verdict.seat);
        s_reply_verdict (self, &frames [0], request_id, &intake, status, &verdict);
    }
    intake_release (&intake);
}

static void
s_publish_and_reply (aggregator_t *self)
{
    for (size_t i = 0; i < self->n_outgoing; i++) {
        s_outgoing_t *entry = &self->outgoing [i];
        net_send_str (self->updates, entry->topic, ZMQ_SNDMORE);
        zmq_send (self->updates, entry->bytes, entry->size, 0);
        if (clone_server_put (self->server, entry->topic, entry->bytes, entry->size))
            log_error ("AGG040", "out of memory storing %s: snapshots will lack it", entry->topic);
    }
    s_drop_outgoing (self);
    for (size_t i = 0; i < self->n_replies; i++) {
        s_reply_t *reply = &self->replies [i];
        if (zmq_msg_send (&reply->identity, self->ingest, ZMQ_SNDMORE) < 0
        ||  net_send_pb (self->ingest, &reply->ack.base, 0))
            log_debug ("AGG041", "ack to a vanished sender dropped");
        zmq_msg_close (&reply->identity);
    }
    self->n_replies = 0;
}

//  The batch could not be made durable: acknowledge none of it as accepted
static void
s_fail_batch (aggregator_t *self, uint64_t sequence_before, const char *why)
{
    if (!self->journal_failing)
        log_error ("AGG033", "JOURNAL WRITE FAILED (%s): NOT acknowledging declarations "
                   "until the journal is writable again; count centres will retry", why);
    self->journal_failing = true;
    s_drop_outgoing (self);
    //  Every verdict of the tally in this batch goes, not only acceptances: a
    //  duplicate or a stale revision may be measured against a declaration
    //  accepted earlier in this same batch, which the disk does not hold (a
    //  count centre that resent before its ack came would be told "already
    //  held" of something never persisted). Asked again, the rebuilt tally
    //  answers them truly.
    size_t unavailable = 0;
    for (size_t i = 0; i < self->n_replies; i++) {
        s_reply_t *reply = &self->replies [i];
        if (reply->tallied) {
            reply->ack.status = ELECTION__ACK_STATUS__ACK_UNAVAILABLE;
            reply->ack.code = ELECTION__REJECT_CODE__REJECT_NONE;
            reply->ack.has_sequence = false;
            snprintf (reply->text, sizeof reply->text, "journal unwritable: not recorded, retry");
            unavailable++;
        }
    }
    log_error ("AGG034", "%zu declarations refused as unavailable", unavailable);
    //  Without a state we can trust, the loop stops (s_handle_ingest sees no tally)
    if (s_rebuild_from_journal (self, sequence_before))
        tally_destroy (&self->tally);
}

static int
s_handle_ingest (aggregator_t *self)
{
    uint64_t sequence_before = self->sequence;
    while (self->n_replies < S_BATCH) {
        zmq_msg_t frames [4];
        size_t count;
        if (net_recv_frames (self->ingest, frames, 4, &count, ZMQ_DONTWAIT))
            break;
        s_handle_declaration (self, frames, count);
        net_frames_close (frames, count < 4 ? count : 4);
    }
    if (self->batch_unjournaled) {
        self->batch_unjournaled = false;
        journal_discard (self->journal);
        s_fail_batch (self, sequence_before, "out of memory buffering journal records");
        if (!self->tally)
            return -1;
    }
    else
    if (self->journal && journal_pending (self->journal)) {
        char err [256];
        if (journal_commit (self->journal, err, sizeof err)) {
            s_fail_batch (self, sequence_before, err);
            if (!self->tally)
                return -1;
        }
        else
        if (self->journal_failing) {
            self->journal_failing = false;
            log_info ("AGG035", "journal writable again: acknowledging as normal");
        }
    }
    s_publish_and_reply (self);
    return 0;
}

static void
s_handle_snapshot (aggregator_t *self)
{
    update_head_t head = s_head (self);
    clone_server_serve_snapshots (self->server, self->snapshot, &head, !self->journal_failing, 16);
}

static void
s_heartbeat (aggregator_t *self)
{
    Election__Heartbeat heartbeat = ELECTION__HEARTBEAT__INIT;
    heartbeat.has_upstream_ok = true;
    heartbeat.upstream_ok = !self->journal_failing;
    heartbeat.source = "aggregator";
    Election__Update update;
    update_head_t head = s_head (self);
    clone_server_send_heartbeat (self->updates, &head, &heartbeat, &update);
    self->next_heartbeat = clock_mono_ms () + self->config.heartbeat_ms;
}

int
aggregator_run (aggregator_t *self)
{
    self->next_heartbeat = clock_mono_ms ();
    while (!signals_interrupted ()) {
        zmq_pollitem_t items [] = {
            { self->ingest, 0, ZMQ_POLLIN, 0 },
            { self->snapshot, 0, ZMQ_POLLIN, 0 },
            { self->auth ? auth_socket (self->auth) : NULL, 0, ZMQ_POLLIN, 0 }
        };
        int64_t wait = self->next_heartbeat - clock_mono_ms ();
        if (zmq_poll (items, self->auth ? 3 : 2, wait > 0 ? (long) wait : 0) < 0) {
            if (errno == EINTR)
                continue;
            log_error ("AGG060", "poll failed: %s", zmq_strerror (errno));
            return 1;
        }
        if ((items [0].revents & ZMQ_POLLIN) && s_handle_ingest (self))
            return 1;
        if (items [1].revents & ZMQ_POLLIN)
            s_handle_snapshot (self);
        if (self->auth && (items [2].revents & ZMQ_POLLIN))
            auth_handle (self->auth);
        if (clock_mono_ms () >= self->next_heartbeat)
            s_heartbeat (self);
    }
    log_info ("AGG099", "stopping at sequence %llu, %zu seats declared",
              (unsigned long long) self->sequence, tally_declared (self->tally));
    return 0;
}
