/*  aggregator.c: see aggregator.h.

    One zmq_poll loop. Each turn reads a batch of declarations (up to
    S_BATCH), applies each to the tally, encodes the summaries it changed
    and journals it; then one journal commit (write + fdatasync) covers the
    batch, and only after that are the summaries published and the acks
    sent. If the commit fails, nothing of the batch is published or
    acknowledged as accepted: the tally is rebuilt from the journal on disk,
    and the senders are told to retry (ACK_UNAVAILABLE).

    A declaration goes through, in order: decoding (intake), authorisation
    (the allow-list), the nominations (who stands where), the tally's
    verdict (tally_check), and, if the tally would accept it, the scrutiny:
    an improbable one is held (journaled, not applied: holds.h) until the
    count centre confirms it. A command (two frames) ends the batch before
    it, so that its answer sees only what is committed.


    One of a pair, it takes declarations only while active (pair.h): a
    passive one refuses them, saying so (a count centre turns to the other),
    and applies the records its active sends it (replica.h). An active one
    sends each batch to its standby as it commits it, and publishes and
    acknowledges the batch once both disks hold it (or its own alone, with a
    loud warning, when the standby is down or lost). Peer messages are read
    before anything else in a turn: an active that has been overtaken learns
    it before it acknowledges anything more.                                 */
#include "aggregator.h"
#include "auth.h"
#include "holds.h"
#include "intake.h"
#include "journal.h"
#include "journal_record.h"
#include "keys.h"
#include "log.h"
#include "nominations.h"
#include "parties.h"
#include "results_file.h"
#include "clone_server.h"
#include "desk.h"
#include "guard.h"
#include "summary.h"
#include "tally.h"
#include "clock.h"
#include "signals.h"
#include "names.h"
#include "net.h"
#include "pair.h"
#include "peer.h"
#include "replica.h"
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_BATCH         512     /* declarations per journal commit at most */
#define S_TOPIC_MAX     128
#define S_DESK_TOPIC    "desk"
#define S_COMMAND_MAX   32      /* bytes of a command name */
#define S_PUB_HWM       100000  /* updates queued per slow subscriber before dropping */
#define S_ACK_HWM       10000   /* acks queued per sender that it has not read:
                                   past this it is cut (it retries on a new
                                   connection); ingest reads its acks as it
                                   sends, whatever its window */
#define S_NO_COPY_NAG_MS 30000  /* how often an active with no copy says so again */
#define S_INGEST_PEERS  1024    /* count centres connected at once */
#define S_UPDATES_PEERS 256     /* publishers (and direct subscribers) at once */
#define S_SUBSCRIPTIONS 256     /* (un)subscriptions admitted per turn */
#define S_PROJECTION_TOPIC "projection"
#define S_EXIT_POLL_COMMAND "exit-poll"
#define S_FUTURE_MS     (5 * 60 * 1000) /* a declared_at_ms further ahead is clamped */

typedef struct {
    char topic [S_TOPIC_MAX];
    uint8_t *bytes;
    size_t size;
} s_outgoing_t;

typedef struct {
    zmq_msg_t identity;
    int fd;                     /* the sender's connection (ZMQ_SRCFD), or -1 */
    Election__Ack ack;
    char text [256];
    char ons_id [INTAKE_MAX_CODE + 1];
    bool tallied;               /* the answer rests on the tally's state */
    scrutiny_reasons_t reasons; /* ACK_HELD: why */
    char *reason_list [SCRUTINY_MAX_REASONS];
} s_reply_t;

//  Copies text into a buffer of size bytes, cut short if it must: what
//  snprintf (buf, size, "%s", text) did, without parsing a format on the
//  path every declaration takes
static void
s_copy (char *buf, size_t size, const char *text)
{
    size_t length = strlen (text);
    if (length >= size)
        length = size - 1;
    memcpy (buf, text, length);
    buf [length] = 0;
}

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
    guard_t *ingest_guard;      /* what each peer of a socket may make us hold */
    guard_t *updates_guard;
    guard_t *snapshot_guard;
    auth_t *auth;               /* the ZAP handler: the ingest allow-list
                                   (--curve-secret) and the peer's key */
    parties_t *parties;         /* NULL: no register (codes, neutral colours) */
    nominations_t *nominations; /* NULL: declarations checked against nothing */
    holds_t *holds;             /* declarations held for a second look */
    desk_t *desk;               /* seat context, projection, exit poll (desk.h) */
    uint64_t sequence;
    uint64_t published;         /* the sequence of the state published */
    uint64_t epoch;
    int64_t next_heartbeat;     /* mono ms */
    bool journal_failing;       /* the last commit failed; said loudly once */
    char refusal [256];         /* why recovery refused the journal */
    bool batch_unjournaled;     /* a record of this batch could not be buffered */
    //  One of a pair (all NULL when on its own)
    pair_t *pair;
    peer_t *peer;
    replica_t *replica;
    uint64_t peer_epoch;        /* the peer's, as last heard: a new one is a restart */
    int64_t next_peer_beat;     /* mono ms */
    int64_t next_no_copy_nag;   /* mono ms */
    bool waiting_copy;          /* the batch is committed here; its copy is awaited */
    update_head_t snapshot_head;/* what a snapshot answers with (a vote may change it) */
    int64_t vote_said_at;       /* mono ms we last said why we did not take over */
    int64_t stranger_said_at;   /* mono ms we last said the peer serves another night */
    bool peer_alive;            /* as last said (AGG414) */
    //  The batch under way: its journal records as packed, for the standby
    uint8_t *records [S_BATCH];
    size_t record_sizes [S_BATCH];
    size_t n_records;
    zmq_msg_t command [3];      /* the command that ended the batch: identity, name, payload */
    bool have_command;
    s_outgoing_t *outgoing;
    size_t n_outgoing;
    size_t outgoing_capacity;
    //  The regions and countries this batch's seats changed, first touched
    //  first: their summaries go out once, at the batch's end
    size_t *batch_scopes;
    bool *scope_touched;        /* by scope index */
    size_t n_batch_scopes;
    size_t scopes_capacity;
    s_reply_t replies [S_BATCH];
    int command_fd;             /* the connection of the command being answered */
    size_t n_replies;
};

//  The head of every Update we send now
static update_head_t
s_head (const aggregator_t *self)
{
    return (update_head_t) { .sequence = self->sequence, .epoch = self->epoch,
                             .mode = self->config.mode, .sent_at_us = clock_now_us () };
}

//  The head of what says where the published state is (snapshots,
//  heartbeats): a batch awaiting its copy is in the tally, not yet out
static update_head_t
s_published_head (const aggregator_t *self)
{
    update_head_t head = s_head (self);
    head.sequence = self->published;
    return head;
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
    s_copy (entry->topic, sizeof entry->topic, topic);
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

static void
s_drop_records (aggregator_t *self)
{
    for (size_t i = 0; i < self->n_records; i++)
        free (self->records [i]);
    self->n_records = 0;
}

//  Notes that this batch changed a region or country (scope > 0)
static int
s_touch_scope (aggregator_t *self, size_t scope)
{
    if (scope >= self->scopes_capacity) {
        size_t capacity = tally_scope_count (self->tally);
        if (scope >= capacity)
            return -1;
        bool *touched = calloc (capacity, sizeof *touched);
        size_t *scopes = malloc (capacity * sizeof *scopes);
        if (!touched || !scopes) {
            free (touched);
            free (scopes);
            return -1;
        }
        for (size_t i = 0; i < self->n_batch_scopes; i++)
            touched [self->batch_scopes [i]] = true;
        if (self->n_batch_scopes)
            memcpy (scopes, self->batch_scopes, self->n_batch_scopes * sizeof *scopes);
        free (self->scope_touched);
        free (self->batch_scopes);
        self->scope_touched = touched;
        self->batch_scopes = scopes;
        self->scopes_capacity = capacity;
    }
    if (!self->scope_touched [scope]) {
        self->scope_touched [scope] = true;
        self->batch_scopes [self->n_batch_scopes++] = scope;
    }
    return 0;
}

//  Encodes a seat's summary and the UK's, national last. Its region and
//  country are only noted: a batch sends each of those once, at its end
//  (s_queue_batch_end), which saved most of the summaries encoded per
//  declaration (BENCHMARKS.md "Part 2")
static int
s_queue_seat (aggregator_t *self, size_t seat)
{
    update_head_t head = s_head (self);
    char topic [S_TOPIC_MAX];
    size_t size;
    summary_seat_topic (self->tally, seat, topic, sizeof topic);
    uint8_t *bytes = desk_pack_seat (self->desk, seat, &head, &size);
    if (s_queue (self, topic, bytes, size))
        return -1;
    size_t scopes [3];
    size_t n_scopes = tally_seat_scopes (self->tally, seat, scopes);
    for (size_t i = n_scopes; i-- > 0;)
        if (scopes [i] != 0 && s_touch_scope (self, scopes [i]))
            return -1;
    bytes = summary_pack_scope (self->tally, self->parties, 0, &head, &size);
    return s_queue (self, "national", bytes, size);
}

//  The batch's end: the summaries of the regions and countries its seats
//  changed, as they stand now, under the batch's last sequence, before
//  that sequence's national update (which stays the last of its sequence).
//  Every sequence still ends with its national update; a region's update
//  carries the sequence of the batch's last declaration.
static int
s_queue_batch_end (aggregator_t *self)
{
    if (!self->n_batch_scopes)
        return 0;
    int rc = 0;
    s_outgoing_t national = { .bytes = NULL };
    if (self->n_outgoing
    &&  strcmp (self->outgoing [self->n_outgoing - 1].topic, "national") == 0)
        national = self->outgoing [--self->n_outgoing];
    update_head_t head = s_head (self);
    char topic [S_TOPIC_MAX];
    for (size_t i = 0; i < self->n_batch_scopes; i++) {
        size_t scope = self->batch_scopes [i];
        self->scope_touched [scope] = false;
        size_t size;
        summary_scope_topic (self->tally, scope, topic, sizeof topic);
        uint8_t *bytes = summary_pack_scope (self->tally, self->parties, scope, &head, &size);
        if (!rc && s_queue (self, topic, bytes, size))
            rc = -1;
        else
        if (rc)
            free (bytes);
    }
    self->n_batch_scopes = 0;
    if (national.bytes && s_queue (self, national.topic, national.bytes, national.size))
        rc = -1;
    return rc;
}

//  The desk topic: what is held, as of now
static int
s_queue_desk (aggregator_t *self)
{
    update_head_t head = s_head (self);
    size_t size = 0;
    uint8_t *bytes = holds_pack (self->holds, &head, &size);
    return s_queue (self, S_DESK_TOPIC, bytes, size);
}

//  A sequence that changed only what is held: the desk, then the UK
//  summary (unchanged) to complete the sequence, as every sequence ends
static int
s_queue_desk_only (aggregator_t *self)
{
    if (s_queue_desk (self))
        return -1;
    update_head_t head = s_head (self);
    size_t size = 0;
    uint8_t *bytes = summary_pack_scope (self->tally, self->parties, 0, &head, &size);
    return s_queue (self, "national", bytes, size);
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
    //  Every seat, declared or not, with its context and projected winner:
    //  a late joiner sees the whole map (README "Seat context")
    if (desk_project (self->desk, clock_mono_ms ()))
        return -1;
    for (size_t seat = 0; seat < tally_seats_total (self->tally); seat++)
        desk_winner_changed (self->desk, seat);
    uint8_t *projection = desk_pack_projection (self->desk, &head, &size);
    int put = projection ? clone_server_put (self->server, S_PROJECTION_TOPIC, projection, size) : -1;
    free (projection);
    if (put)
        return -1;
    for (size_t seat = 0; seat < tally_seats_total (self->tally); seat++) {
        uint8_t *bytes = desk_pack_seat (self->desk, seat, &head, &size);
        summary_seat_topic (self->tally, seat, topic, sizeof topic);
        int rc = bytes ? clone_server_put (self->server, topic, bytes, size) : -1;
        free (bytes);
        if (rc)
            return -1;
    }
    for (size_t scope = 0; scope < tally_scope_count (self->tally); scope++) {
        uint8_t *bytes = summary_pack_scope (self->tally, self->parties, scope, &head, &size);
        summary_scope_topic (self->tally, scope, topic, sizeof topic);
        int rc = bytes ? clone_server_put (self->server, topic, bytes, size) : -1;
        free (bytes);
        if (rc)
            return -1;
    }
    if (holds_count (self->holds)) {
        uint8_t *bytes = holds_pack (self->holds, &head, &size);
        int rc = bytes ? clone_server_put (self->server, S_DESK_TOPIC, bytes, size) : -1;
        free (bytes);
        if (rc)
            return -1;
    }
    self->published = self->sequence;
    return 0;
}

//  Recovery reads the journal's header first: it must be this night's
static int
s_recover_header (void *arg, const uint8_t *payload, size_t size)
{
    aggregator_t *self = arg;
    Election__JournalHeader *header = journal_record_unpack_header (payload, size);
    bool ours = header && journal_record_belongs (header, NULL, self->config.mode,
                                                  self->config.election, self->refusal,
                                                  sizeof self->refusal);
    if (!header)
        snprintf (self->refusal, sizeof self->refusal, "its header does not decode");
    journal_record_free_header (&header);
    return ours ? 0 : 1;
}

//  Applies one journal record during recovery. A record of another night
//  (a version 1 journal has no header to say so) stops recovery: published
//  under this mode it would pass rehearsal figures off as live.
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
    if (!journal_record_belongs (NULL, record, self->config.mode, self->config.election,
                                 self->refusal, sizeof self->refusal)) {
        journal_record_free (&record);
        return 1;
    }
    if (!record->declaration) {
        //  An exit poll (the only other record): the latest one counts
        if (record->exit_poll && desk_set_exit_poll (self->desk, record->exit_poll))
            log_error ("AGG503", "out of memory taking journal record seq %llu's exit poll",
                       (unsigned long long) record->sequence);
        if (record->sequence > self->sequence)
            self->sequence = record->sequence;
        journal_record_free (&record);
        return 0;
    }
    intake_t intake;
    char text [192];
    el_reason_t reason = intake_from_message (record->declaration, &intake, text, sizeof text);
    if (reason == EL_REASON_NONE && record->has_held && record->held) {
        //  Held for a second look then, and so now: not applied
        long seat = tally_seat_find (self->tally, intake.decl.ons_id);
        seat_view_t view = { .name = "" };
        if (seat >= 0)
            tally_seat (self->tally, (size_t) seat, &view);
        if (holds_put (self->holds, record->declaration, view.name, record->source,
                       record->received_at_us, record->sequence, record->hold_reasons,
                       record->n_hold_reasons))
            log_error ("AGG302", "out of memory holding journal record seq %llu again",
                       (unsigned long long) record->sequence);
        intake_release (&intake);
    }
    else
    if (reason == EL_REASON_NONE) {
        tally_verdict_t verdict;
        const Election__HeldDeclaration *held = holds_find (self->holds, intake.decl.ons_id);
        tally_status_t status = tally_apply (self->tally, &intake.decl, &verdict);
        if (status == TALLY_ACCEPTED)
            tally_seat_sequence (self->tally, verdict.seat, record->sequence);
        //  What was applied at or above the held revision released or
        //  withdrew it; a retraction withdrew a seat that only held one
        if (held && intake.decl.revision >= held->revision
        &&  (status == TALLY_ACCEPTED || intake.decl.reason == REVISION_RETRACTION))
            holds_drop (self->holds, intake.decl.ons_id);
        else
        if (status != TALLY_ACCEPTED)
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

//  The desk reads the tally: a new tally, a new desk (the exit poll comes
//  back from the journal with the declarations)
static int
s_new_desk (aggregator_t *self)
{
    desk_destroy (&self->desk);
    self->desk = desk_new (self->tally, self->parties, self->config.exit_poll_until);
    if (!self->desk)
        log_error ("AGG504", "out of memory building the projection");
    return self->desk ? 0 : -1;
}

static int
s_new_tally (aggregator_t *self)
{
    desk_destroy (&self->desk);
    tally_destroy (&self->tally);
    self->tally = tally_new (self->baseline, &self->tally_options);
    if (!self->tally) {
        log_error ("AGG003", "cannot build the tally from %s", self->config.baseline);
        return -1;
    }
    return s_new_desk (self);
}

//  After a failed commit: the tally holds declarations the disk does not.
//  Rebuild it from what the journal durably holds: its committed records
//  only, not what the failed commit may have left past them.
static int
s_rebuild_from_journal (aggregator_t *self, uint64_t sequence)
{
    if (s_new_tally (self))
        return -1;
    holds_clear (self->holds);
    self->sequence = 0;
    char err [256];
    journal_reader_t reader = { NULL, s_recover_record, self };
    if (journal_replay (self->journal, &reader, err, sizeof err)) {
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

//  The party register: --parties, else parties.csv beside the baseline if
//  there is one (data/ holds both), else none (codes, neutral colours)
static int
s_load_parties (aggregator_t *self)
{
    char err [512], *beside = NULL;
    const char *path = self->config.parties;
    if (!path) {
        char *copy = strdup (self->config.baseline);
        if (copy && asprintf (&beside, "%s/parties.csv", dirname (copy)) < 0)
            beside = NULL;
        free (copy);
        if (beside && access (beside, R_OK) == 0)
            path = beside;
    }
    int rc = 0;
    if (!path)
        log_info ("AGG303", "no party register: parties show as their codes (--parties FILE)");
    else
    if (parties_load (path, &self->parties, err, sizeof err)) {
        log_error ("AGG304", "cannot load the party register: %s", err);
        rc = -1;
    }
    else
        log_info ("AGG305", "party register %s: %zu parties", path, parties_count (self->parties));
    free (beside);
    return rc;
}

//  The nominations, or a loud warning that nothing checks the declarations
static int
s_load_nominations (aggregator_t *self)
{
    if (!self->config.nominations) {
        log_warn ("NOM001", "NO NOMINATIONS: declarations are checked against nothing (any "
                  "candidate, any party, any electorate goes on air) and nothing is held for "
                  "a second look; start with --nominations FILE");
        return 0;
    }
    char err [512];
    if (nominations_load (self->config.nominations, &self->nominations, err, sizeof err)) {
        log_error ("NOM002", "cannot load the nominations: %s", err);
        return -1;
    }
    size_t unknown = 0, candidates = 0;
    for (size_t i = 0; i < nominations_count (self->nominations); i++) {
        const seat_result_t *seat = nominations_at (self->nominations, i);
        candidates += seat->n_candidates;
        if (tally_seat_find (self->tally, seat->ons_id) < 0)
            unknown++;
    }
    if (unknown) {
        log_error ("NOM003", "%s: %zu seats are not seats of the baseline %s: is it this "
                   "election's?", self->config.nominations, unknown, self->config.baseline);
        return -1;
    }
    log_info ("NOM004", "nominations %s: %zu candidates in %zu of %zu seats; electorate within "
              "%g%% of the register; %s", self->config.nominations, candidates,
              nominations_count (self->nominations), tally_seats_total (self->tally),
              self->config.electorate_tolerance,
              self->config.hold ? "improbable declarations held for a second look"
                                : "nothing held (--no-hold)");
    return 0;
}

//  The journal's records, noted with their terms for the pair: record N
//  must be sequence N, or the two journals could not be matched
static int
s_note_record (void *arg, const uint8_t *payload, size_t size)
{
    aggregator_t *self = arg;
    Election__JournalRecord *record = journal_record_unpack (payload, size);
    uint64_t expected = replica_last_sequence (self->replica) + 1;
    int rc = record ? replica_note (self->replica, record->sequence, record->term) : -1;
    if (rc)
        snprintf (self->refusal, sizeof self->refusal, "record %llu is %s", (unsigned long long) expected,
                  record ? "not the next sequence (a pair needs record N to be sequence N)"
                         : "undecodable");
    journal_record_free (&record);
    return rc ? 1 : 0;
}

//  The standby applies what its active sends as recovery applies a record
static int
s_apply_replicated (void *arg, const uint8_t *payload, size_t size)
{
    return s_recover_record (arg, payload, size);
}

static int
s_rebuild_replica (void *arg)
{
    aggregator_t *self = arg;
    self->sequence = 0;
    return s_rebuild_from_journal (self, 0);
}

static void s_on_failover_request (void *arg);

//  One of a pair: starts STARTING, serving no state until it is active
static int
s_new_pair (aggregator_t *self)
{
    const aggregator_config_t *config = &self->config;
    replica_config_t replica = { config->copy_timeout_ms, 512 };
    self->replica = replica_new (self->journal, &replica, s_apply_replicated, s_rebuild_replica, self);
    if (!self->replica)
        return -1;
    char err [256];
    journal_reader_t reader = { NULL, s_note_record, self };
    self->refusal [0] = 0;
    if (journal_replay (self->journal, &reader, err, sizeof err) || self->refusal [0]) {
        log_error ("AGG416", "refusing to start as one of a pair: journal %s: %s", config->journal,
                   self->refusal [0] ? self->refusal : err);
        return -1;
    }
    pair_config_t pair = { strcmp (config->role, "primary") == 0, config->peer_timeout_ms,
                           config->take_over };
    self->pair = pair_new (&pair, replica_last_term (self->replica), clock_mono_ms ());
    if (!self->pair)
        return -1;
    self->peer_alive = true;        //  so that a peer not heard is said (AGG414)
    clone_server_set_pair_state (self->server, ELECTION__PAIR_STATE__PAIR_STARTING);
    clone_server_on_failover (self->server, s_on_failover_request, self);
    return 0;
}

//  The peer link: CURVE both ways with the other's key alone let in, or
//  open (whoever reaches it can pose as the other aggregator) with a warning
static int
s_new_peer (aggregator_t *self)
{
    const aggregator_config_t *config = &self->config;
    if (!config->peer_key) {
        log_warn ("AGG418", "peer link %s is OPEN: whoever reaches it can pose as the other "
                  "aggregator; use --peer-key and --peer-public (SECURITY.md)", config->peer_bind);
        self->peer = peer_new (self->ctx, config->peer_bind, config->peer, NULL);
        return self->peer ? 0 : -1;
    }
    keys_client_t keys;
    char err [512];
    if (keys_client_load (&keys, config->peer_public, config->peer_key, err, sizeof err)
    ||  auth_allow_only (self->ctx, &self->auth, PEER_ZAP_DOMAIN, keys.server_public, "peer",
                         err, sizeof err)) {
        log_error ("AGG420", "peer link: %s", err);
        memset (&keys, 0, sizeof keys);
        return -1;
    }
    char id [KEYS_ID_SIZE];
    keys_id (keys.server_public, id);
    self->peer = peer_new (self->ctx, config->peer_bind, config->peer, &keys);
    memset (&keys, 0, sizeof keys);
    if (self->peer)
        log_info ("AGG421", "peer link is CURVE: only key %s (%s) may connect", id, config->peer_public);
    return self->peer ? 0 : -1;
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
    if (s_new_tally (self) || s_load_parties (self) || s_new_desk (self)
    ||  s_load_nominations (self) || !(self->holds = holds_new ()))
        goto failed;
    self->server = clone_server_new (tally_seats_total (self->tally)
                                   + tally_scope_count (self->tally) + 16);
    if (!self->server)
        goto failed;
    //  Our snapshots say who is not live when the journal fails
    clone_server_set_stale_source (self->server, "aggregator");

    if (config->journal) {
        journal_scan_t scan;
        journal_reader_t reader = { s_recover_header, s_recover_record, self };
        journal_options_t options = { .truncate_corrupt = config->truncate_corrupt };
        options.header = journal_record_pack_header (config->mode, config->election,
                                                     clock_now_us (), &options.header_size);
        el_err_t rc = options.header
                    ? journal_open (config->journal, &options, &reader, &scan, &self->journal,
                                    err, sizeof err)
                    : EL_ERR_NOMEM;
        free ((void *) options.header);
        if (rc == EL_ERR_INVALID && self->refusal [0]) {
            log_error ("AGG100", "refusing to start: journal %s is another night's: %s; "
                       "give this night a journal of its own", config->journal, self->refusal);
            goto failed;
        }
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
        if (scan.version == 1)
            log_warn ("AGG101", "journal %s was version 1 (no header, lengths unchecked): "
                      "rewritten as version 2, the old file kept as %s.v1",
                      config->journal, config->journal);
        log_info ("AGG007", "journal %s: recovered %zu records, %zu seats declared, resuming at sequence %llu",
                  config->journal, scan.records, tally_declared (self->tally),
                  (unsigned long long) self->sequence + 1);
        if (holds_count (self->holds))
            log_warn ("AGG306", "journal %s: %zu declarations still held for a second look",
                      config->journal, holds_count (self->holds));
    }
    if (config->role) {
        if (s_new_pair (self))
            goto failed;
    }
    else
    if (s_fill_server (self))
        goto failed;

    self->ctx = zmq_ctx_new ();
    if (!self->ctx)
        goto failed;
    self->ingest = net_socket (self->ctx, ZMQ_ROUTER, NULL, true);
    self->updates = net_socket (self->ctx, ZMQ_XPUB, NULL, true);
    self->snapshot = net_socket (self->ctx, ZMQ_ROUTER, NULL, true);
    if (!self->ingest || !self->updates || !self->snapshot || s_secure_ingest (self))
        goto failed;
    //  Hostile senders: a frame over this size drops their connection
    int64_t max_size = INTAKE_MAX_MESSAGE;
    zmq_setsockopt (self->ingest, ZMQ_MAXMSGSIZE, &max_size, sizeof max_size);
    //  A slow subscriber gets its updates dropped past this, never stalls us
    int hwm = S_PUB_HWM;
    zmq_setsockopt (self->updates, ZMQ_SNDHWM, &hwm, sizeof hwm);
    int ack_hwm = S_ACK_HWM, mandatory = 1;
    zmq_setsockopt (self->ingest, ZMQ_SNDHWM, &ack_hwm, sizeof ack_hwm);
    //  EAGAIN, not silence, when a sender's acks are not being read
    zmq_setsockopt (self->ingest, ZMQ_ROUTER_MANDATORY, &mandatory, sizeof mandatory);
    //  A declaration and what frames around it may take; a count centre
    //  cut for more retries on a new connection and loses nothing
    guard_limits_t ingest_limits = { .name = "ingest", .held_max = INTAKE_MAX_MESSAGE + 64 * 1024,
                                     .held_budget = 2 * 1024 * 1024, .held_hard = 64 * 1024 * 1024,
                                     .peers_max = S_INGEST_PEERS, .evict_idle = true };
    self->ingest_guard = guard_new (self->ctx, self->ingest, &ingest_limits);
    self->updates_guard = clone_server_guard_updates (self->ctx, self->updates, S_UPDATES_PEERS);
    self->snapshot_guard = clone_server_guard_snapshot (self->ctx, self->snapshot);
    if (!self->ingest_guard || !self->updates_guard || !self->snapshot_guard)
        goto failed;
    if (net_attach (self->ingest, config->ingest, true)
    ||  net_attach (self->updates, config->updates, true)
    ||  net_attach (self->snapshot, config->snapshot, true))
        goto failed;
    if (self->pair && s_new_peer (self))
        goto failed;
    if (self->pair)
        log_info ("AGG415", "one of a pair, as %s: peer link %s (ours) and %s (theirs); STARTING, "
                  "journal at sequence %llu term %llu%s", config->role, config->peer_bind,
                  config->peer, (unsigned long long) replica_last_sequence (self->replica),
                  (unsigned long long) replica_last_term (self->replica),
                  config->take_over ? "; --take-over: may take over without being a known copy" : "");
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
    guard_destroy (&self->ingest_guard);
    guard_destroy (&self->updates_guard);
    guard_destroy (&self->snapshot_guard);
    if (self->ingest)
        zmq_close (self->ingest);
    if (self->updates)
        zmq_close (self->updates);
    if (self->snapshot)
        zmq_close (self->snapshot);
    peer_destroy (&self->peer);
    if (self->ctx)
        zmq_ctx_term (self->ctx);
    s_drop_outgoing (self);
    s_drop_records (self);
    if (self->have_command)
        net_frames_close (self->command, 3);
    free (self->outgoing);
    free (self->batch_scopes);
    free (self->scope_touched);
    replica_destroy (&self->replica);
    pair_destroy (&self->pair);
    journal_close (&self->journal);
    clone_server_destroy (&self->server);
    desk_destroy (&self->desk);
    tally_destroy (&self->tally);
    results_destroy (&self->baseline);
    holds_destroy (&self->holds);
    nominations_destroy (&self->nominations);
    parties_destroy (&self->parties);
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
    reply->fd = -1;
    election__ack__init (&reply->ack);
    reply->ack.has_request_id = true;
    reply->ack.request_id = request_id;
    reply->ack.has_status = true;
    reply->ack.status = status;
    reply->ack.has_code = true;
    reply->ack.code = (Election__RejectCode) reason;
    s_copy (reply->text, sizeof reply->text, text ? text : "");
    reply->ack.text = reply->text;
    reply->ons_id [0] = 0;
    reply->ack.ons_id = reply->ons_id;
    reply->tallied = false;
    reply->reasons.count = 0;
    return reply;
}

//  The revision a seat's next declaration must carry: above what the tally
//  holds and what waits for a second look
static uint32_t
s_next_revision (const aggregator_t *self, const char *ons_id)
{
    uint32_t revision = 0;
    long seat = tally_seat_find (self->tally, ons_id);
    if (seat >= 0) {
        seat_view_t view;
        tally_seat (self->tally, (size_t) seat, &view);
        revision = view.revision;
    }
    const Election__HeldDeclaration *held = holds_find (self->holds, ons_id);
    if (held && held->revision > revision)
        revision = held->revision;
    return revision + 1;
}

//  Every ack about a declaration names its seat and revision, and the
//  revision to send next (so a clerk never has to work it out)
static void
s_reply_names (aggregator_t *self, s_reply_t *reply, const intake_t *intake)
{
    s_copy (reply->ons_id, sizeof reply->ons_id, intake->decl.ons_id);
    reply->ack.has_revision = true;
    reply->ack.revision = intake->decl.revision;
    if (tally_seat_find (self->tally, intake->decl.ons_id) >= 0) {
        reply->ack.has_next_revision = true;
        reply->ack.next_revision = s_next_revision (self, intake->decl.ons_id);
    }
}

//  Decoding: a declaration is one frame that intake accepts. Returns false
//  when it is not (the rejection queued, or the message dropped unanswered).
static bool
s_decode (aggregator_t *self, zmq_msg_t *frames, size_t count, intake_t *intake,
          uint64_t *request_id)
{
    if (count != 2) {
        if (count >= 1 && count <= 4) {
            log_warn ("AGG020", "message of %zu frames dropped: a declaration is one frame, "
                      "a command two", count - 1);
            s_reply (self, &frames [0], 0, ELECTION__ACK_STATUS__ACK_REJECTED,
                     EL_REASON_MALFORMED, "a declaration is exactly one frame, a command two");
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

//  The centre a message comes from under CURVE (the ZAP User-Id of its
//  key), or NULL when the socket is open
static const char *
s_centre (const aggregator_t *self, zmq_msg_t *frame)
{
    if (!self->config.curve_secret)
        return NULL;
    const char *user = zmq_msg_gets (frame, "User-Id");
    return user && *user ? user : "(unauthenticated)";
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
    if (!self->config.curve_secret)
        return true;
    *source = s_centre (self, &frames [1]);
    if (auth_permits (self->auth, *source, intake->decl.ons_id))
        return true;
    const char *key_id = zmq_msg_gets (&frames [1], "X-Key-Id");
    char text [192];
    snprintf (text, sizeof text, "centre %s may not declare %s", *source, intake->decl.ons_id);
    log_warn ("AGG024", "%s rev %u from %s (key %s): NOT AUTHORISED, not on that centre's list",
              intake->decl.ons_id, intake->decl.revision, *source, key_id ? key_id : "?");
    s_reply_names (self, s_reply (self, &frames [0], request_id, ELECTION__ACK_STATUS__ACK_REJECTED,
                                  EL_REASON_NOT_AUTHORISED, text), intake);
    return false;
}

//  Against the nominations: the candidates nominated in the seat, each for
//  the party nominated, none missing, the seat's own name, the register's
//  electorate. Returns false (the rejection queued) when it fails. An
//  unknown seat is left to the tally, which says so.
static bool
s_check_nominations (aggregator_t *self, zmq_msg_t *identity, const intake_t *intake,
                     uint64_t request_id, const char *source)
{
    const declaration_t *decl = &intake->decl;
    if (!self->nominations || decl->reason == REVISION_RETRACTION
    ||  tally_seat_find (self->tally, decl->ons_id) < 0)
        return true;
    nominations_claim_t claim = {
        .ons_id = decl->ons_id, .constituency = intake->message->constituency,
        .electorate = decl->electorate, .rush = decl->kind == DECL_RUSH,
        .candidates = decl->candidates, .n_candidates = decl->n_candidates
    };
    char text [256];
    el_reason_t reason = nominations_check (self->nominations, self->parties, &claim,
                                            self->config.electorate_tolerance, text, sizeof text);
    if (reason == EL_REASON_NONE)
        return true;
    log_warn ("NOM010", "%s rev %u from %s rejected (%s): %s", decl->ons_id, decl->revision,
              source, el_reason_text (reason), text);
    s_reply_names (self, s_reply (self, identity, request_id, ELECTION__ACK_STATUS__ACK_REJECTED,
                                  reason, text), intake);
    return false;
}

//  Replying to the tally's verdict (an accepted one is sent only once the
//  batch's commit holds it: s_handle_ingest)
static s_reply_t *
s_reply_verdict (aggregator_t *self, zmq_msg_t *identity, uint64_t request_id,
                 const intake_t *intake, tally_status_t status, el_reason_t reason,
                 const char *text)
{
    s_reply_t *reply;
    if (status == TALLY_REJECTED)
        reply = s_reply (self, identity, request_id, ELECTION__ACK_STATUS__ACK_REJECTED,
                         reason, text);
    else
    if (status == TALLY_DUPLICATE)
        reply = s_reply (self, identity, request_id, ELECTION__ACK_STATUS__ACK_DUPLICATE,
                         EL_REASON_NONE, "duplicate: already held");
    else {
        reply = s_reply (self, identity, request_id, ELECTION__ACK_STATUS__ACK_ACCEPTED,
                         EL_REASON_NONE, text ? text : "accepted");
        reply->ack.has_sequence = true;
        reply->ack.sequence = self->sequence;
    }
    reply->tallied = true;
    s_reply_names (self, reply, intake);
    return reply;
}

static void
s_log_rejected (const char *source, el_reason_t reason, const char *text)
{
    log_warn ("AGG022", "rejected from %s (%s): %s", source, el_reason_text (reason), text);
}

//  A packed record (NULL: it could not be packed) into the batch's commit,
//  and kept for the standby; takes the bytes
static void
s_batch_record (aggregator_t *self, uint8_t *bytes, size_t size)
{
    if (!bytes || journal_append (self->journal, bytes, size))
        self->batch_unjournaled = true;
    if (bytes && self->replica && self->n_records < S_BATCH) {
        self->records [self->n_records] = bytes;
        self->record_sizes [self->n_records++] = size;
    }
    else
        free (bytes);
}

//  Every record goes into the batch's commit this way, with the sequence
//  just taken and our term: not journalled means not acknowledged, so the
//  batch fails whole; a standby is sent the very bytes we journal
//  The declaration goes in as it came, not packed again.
static void
s_journal_record (aggregator_t *self, const char *source, int64_t received_at_us,
                  const intake_t *intake, char *const *reasons, size_t n_reasons)
{
    if (!self->journal)
        return;
    size_t size;
    uint64_t term = self->pair ? pair_term (self->pair) : 0;
    uint8_t *bytes = intake->bytes
        ? journal_record_pack_raw (self->sequence, term, received_at_us, source, intake->bytes,
                                   intake->size, reasons, n_reasons, &size)
        : journal_record_pack (self->sequence, term, received_at_us, source, intake->message,
                               reasons, n_reasons, &size);
    s_batch_record (self, bytes, size);
}

//  Journalling what the tally accepted: it takes the next sequence and goes
//  into the batch's commit, and its summaries are queued to go out after
//  that commit (the desk first if a hold went, the UK summary last)
static void
s_journal (aggregator_t *self, const intake_t *intake, const char *source, size_t seat,
           bool desk_changed)
{
    self->sequence++;
    tally_seat_sequence (self->tally, seat, self->sequence);
    s_journal_record (self, source, clock_now_us (), intake, NULL, 0);
    desk_mark_stale (self->desk);
    if (desk_changed)
        s_queue_desk (self);
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

//  Applies what the tally has judged acceptable: on air. Whatever the seat
//  held for a second look goes (released, or withdrawn by this revision).
//  checked: tally_check has just accepted it, and what it built is applied
//  as it is (judged once, not twice)
static void
s_apply (aggregator_t *self, zmq_msg_t *identity, const intake_t *intake, uint64_t request_id,
         const char *source, const char *released, bool checked)
{
    tally_verdict_t verdict;
    tally_status_t status = checked ? tally_apply_checked (self->tally, &intake->decl, &verdict)
                                    : tally_apply (self->tally, &intake->decl, &verdict);
    if (status == TALLY_REJECTED)
        s_log_rejected (source, verdict.reason, verdict.text);
    else
    if (status == TALLY_DUPLICATE)
        log_info ("AGG023", "%s rev %u from %s: duplicate, no change", intake->decl.ons_id,
                  intake->decl.revision, source);
    else {
        bool dropped = holds_drop (self->holds, intake->decl.ons_id);
        s_journal (self, intake, source, verdict.seat, dropped);
        if (released)
            log_info ("AGG307", "%s rev %u from %s: %s", intake->decl.ons_id,
                      intake->decl.revision, source, released);
        else
        if (dropped)
            log_info ("AGG308", "%s rev %u from %s: the declaration held for a second look is "
                      "withdrawn", intake->decl.ons_id, intake->decl.revision, source);
    }
    const char *text = released && status == TALLY_ACCEPTED ? released
                     : status == TALLY_ACCEPTED ? "accepted" : verdict.text;
    s_reply_verdict (self, identity, request_id, intake, status, verdict.reason, text);
}

//  Holds an improbable declaration for a second look: journaled (so the
//  hold survives a crash) under the next sequence, shown on the desk, not
//  applied
static void
s_hold (aggregator_t *self, zmq_msg_t *identity, const intake_t *intake, uint64_t request_id,
        const char *source, size_t seat, const scrutiny_reasons_t *reasons)
{
    char *list [SCRUTINY_MAX_REASONS];
    for (size_t i = 0; i < reasons->count; i++)
        list [i] = (char *) reasons->text [i];
    seat_view_t view;
    tally_seat (self->tally, seat, &view);
    int64_t now = clock_now_us ();
    self->sequence++;
    if (holds_put (self->holds, intake->message, view.name, source, now, self->sequence,
                   list, reasons->count)) {
        //  Neither held nor applied: the sender is told to try again
        log_error ("AGG309", "out of memory holding %s rev %u", intake->decl.ons_id,
                   intake->decl.revision);
        self->sequence--;
        s_reply (self, identity, request_id, ELECTION__ACK_STATUS__ACK_UNAVAILABLE,
                 EL_REASON_NONE, "out of memory: not recorded, retry");
        return;
    }
    s_journal_record (self, source, now, intake, list, reasons->count);
    s_queue_desk_only (self);
    log_warn ("AGG301", "%s rev %u from %s HELD for a second look, seq %llu: %s%s",
              intake->decl.ons_id, intake->decl.revision, source,
              (unsigned long long) self->sequence, reasons->text [0],
              reasons->count > 1 ? "; ..." : "");
    const Election__HeldDeclaration *held = holds_find (self->holds, intake->decl.ons_id);
    char text [256];
    snprintf (text, sizeof text, "held for a second look, not on air: %s (confirm with "
              "--confirm, or correct with --revision %u)", reasons->text [0],
              intake->decl.revision + 1);
    s_reply_t *reply = s_reply (self, identity, request_id, ELECTION__ACK_STATUS__ACK_HELD,
                                EL_REASON_NONE, text);
    reply->tallied = true;
    reply->ack.has_sequence = true;
    reply->ack.sequence = held ? held->sequence : self->sequence;
    reply->reasons = *reasons;
    for (size_t i = 0; i < reasons->count; i++)
        reply->reason_list [i] = reply->reasons.text [i];
    reply->ack.n_reasons = reasons->count;
    reply->ack.reasons = reply->reason_list;
    s_reply_names (self, reply, intake);
}

//  The answer to a repeat of what is held: held still, nothing new
static void
s_held_again (aggregator_t *self, zmq_msg_t *identity, const intake_t *intake,
              uint64_t request_id, const Election__HeldDeclaration *held)
{
    scrutiny_reasons_t reasons = { 0 };
    for (size_t i = 0; i < held->n_reasons && i < SCRUTINY_MAX_REASONS; i++)
        snprintf (reasons.text [reasons.count++], SCRUTINY_REASON_SIZE, "%s", held->reasons [i]);
    char text [256];
    snprintf (text, sizeof text, "held for a second look since sequence %llu, not on air: "
              "confirm with --confirm, or correct with --revision %u",
              (unsigned long long) held->sequence, held->revision + 1);
    s_reply_t *reply = s_reply (self, identity, request_id, ELECTION__ACK_STATUS__ACK_HELD,
                                EL_REASON_NONE, text);
    reply->tallied = true;
    reply->ack.has_sequence = true;
    reply->ack.sequence = held->sequence;
    reply->reasons = reasons;
    for (size_t i = 0; i < reasons.count; i++)
        reply->reason_list [i] = reply->reasons.text [i];
    reply->ack.n_reasons = reasons.count;
    reply->ack.reasons = reply->reason_list;
    s_reply_names (self, reply, intake);
}

//  A seat with a declaration held: what comes at or below its revision is
//  a repeat, a confirmation, or refused. Returns true if it answered.
static bool
s_against_held (aggregator_t *self, zmq_msg_t *identity, const intake_t *intake,
                uint64_t request_id, const char *source, const Election__HeldDeclaration *held)
{
    const declaration_t *decl = &intake->decl;
    if (decl->revision > held->revision)
        return false;       //  a new revision: judged as any, it replaces the hold
    char text [256];
    el_reason_t reason = EL_REASON_NONE;
    if (decl->revision < held->revision || decl->reason == REVISION_RETRACTION) {
        reason = EL_REASON_STALE_REVISION;
        snprintf (text, sizeof text, "holds revision %u for a second look: send --revision %u%s",
                  held->revision, held->revision + 1,
                  decl->reason == REVISION_RETRACTION ? "" : " --reason correction");
    }
    else
    if (!holds_same (held, intake->message)) {
        reason = EL_REASON_REVISION_CONFLICT;
        snprintf (text, sizeof text, "differs from the declaration held for a second look at "
                  "revision %u: confirm that one as it was (--confirm), or send --revision %u "
                  "--reason correction", held->revision, held->revision + 1);
    }
    if (reason) {
        s_log_rejected (source, reason, text);
        //  Measured against a hold that may be this batch's: tallied
        s_reply_t *reply = s_reply (self, identity, request_id, ELECTION__ACK_STATUS__ACK_REJECTED,
                                    reason, text);
        reply->tallied = true;
        s_reply_names (self, reply, intake);
        return true;
    }
    if (intake->message->has_confirmed && intake->message->confirmed) {
        snprintf (text, sizeof text, "released after a second look (held since sequence %llu)",
                  (unsigned long long) held->sequence);
        s_apply (self, identity, intake, request_id, source, text, false);
    }
    else
        s_held_again (self, identity, intake, request_id, held);
    return true;
}

//  A retraction of a seat that only holds a declaration for a second look
//  (nothing on air): it withdraws that, journaled like any retraction
static void
s_withdraw_held (aggregator_t *self, zmq_msg_t *identity, const intake_t *intake,
                 uint64_t request_id, const char *source)
{
    holds_drop (self->holds, intake->decl.ons_id);
    self->sequence++;
    s_journal_record (self, source, clock_now_us (), intake, NULL, 0);
    s_queue_desk_only (self);
    log_info ("AGG310", "%s rev %u from %s accepted, seq %llu: the declaration held for a "
              "second look is withdrawn", intake->decl.ons_id, intake->decl.revision, source,
              (unsigned long long) self->sequence);
    s_reply_verdict (self, identity, request_id, intake, TALLY_ACCEPTED, EL_REASON_NONE,
                     "withdrawn: the declaration held for a second look will not go on air");
}

//  Judging: the tally's verdict, then, for what it would accept, whether it
//  is improbable enough to hold
static void
s_judge (aggregator_t *self, zmq_msg_t *identity, const intake_t *intake, uint64_t request_id,
         const char *source)
{
    const declaration_t *decl = &intake->decl;
    const Election__HeldDeclaration *held = holds_find (self->holds, decl->ons_id);
    if (held && s_against_held (self, identity, intake, request_id, source, held))
        return;
    tally_verdict_t verdict;
    seat_view_t preview;
    tally_status_t status = tally_check (self->tally, decl, &verdict, &preview);
    if (status == TALLY_REJECTED && held && decl->reason == REVISION_RETRACTION
    &&  verdict.reason == EL_REASON_NOT_DECLARED) {
        s_withdraw_held (self, identity, intake, request_id, source);
        return;
    }
    if (status != TALLY_ACCEPTED) {
        if (status == TALLY_REJECTED)
            s_log_rejected (source, verdict.reason, verdict.text);
        else
            log_info ("AGG023", "%s rev %u from %s: duplicate, no change", decl->ons_id,
                      decl->revision, source);
        s_reply_verdict (self, identity, request_id, intake, status, verdict.reason, verdict.text);
        return;
    }
    bool confirmed = intake->message->has_confirmed && intake->message->confirmed;
    if (self->nominations && self->config.hold && !confirmed
    &&  decl->reason != REVISION_RETRACTION) {
        scrutiny_reasons_t reasons;
        scrutiny_judge (self->tally, verdict.seat, &preview, &self->config.scrutiny, &reasons);
        if (reasons.count) {
            s_hold (self, identity, intake, request_id, source, verdict.seat, &reasons);
            return;
        }
    }
    s_apply (self, identity, intake, request_id, source, NULL, true);
}

static bool s_vote (aggregator_t *self, const char *who);
static bool s_active (const aggregator_t *self);

//  A declared_at_ms more than S_FUTURE_MS ahead of our clock cannot be the
//  time of a declaration (a page orders its latest results by it, and such
//  a card would stick at the top): it becomes the time we received it,
//  journaled so, and said in the log (rate-limited) and the ack (issue 11)
static void
s_clamp_declared_at (aggregator_t *self, intake_t *intake, const char *source, char *note,
                     size_t note_size)
{
    (void) self;
    int64_t now_ms = clock_now_us () / 1000;
    Election__Declaration *message = intake->message;
    if (!message->has_declared_at_ms || message->declared_at_ms <= now_ms + S_FUTURE_MS)
        return;
    double ahead_h = (double) (message->declared_at_ms - now_ms) / 3600000.0;
    snprintf (note, note_size, "declared_at_ms was %.1f h in the future: set to the time "
              "received (check the sender's clock)", ahead_h);
    log_warn ("AGG502", "%s rev %u from %.64s: declared_at_ms %lld is %.1f h ahead of our clock "
              "(more than %d min): taken as received, %lld", intake->decl.ons_id,
              intake->decl.revision, source, (long long) message->declared_at_ms, ahead_h,
              S_FUTURE_MS / 60000, (long long) now_ms);
    message->declared_at_ms = now_ms;
    intake->decl.declared_at_ms = now_ms;
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
    //  Only a centre that failed over to us votes (Declaration.failover): one
    //  that merely tried us first is told to go to the active one
    if (!s_active (self) && !(intake.message->failover && s_vote (self, "a count centre that failed over"))) {
        s_reply_t *reply = s_reply (self, &frames [0], request_id, ELECTION__ACK_STATUS__ACK_UNAVAILABLE,
                                    EL_REASON_NONE, "this aggregator is the standby: send to the active one");
        reply->ack.has_pair_state = true;
        reply->ack.pair_state = pair_state (self->pair);
        s_reply_names (self, reply, &intake);
        intake_release (&intake);
        return;
    }
    const char *source;
    if (s_authorise (self, frames, &intake, request_id, &source)
    &&  s_check_nominations (self, &frames [0], &intake, request_id, source)) {
        char clamped [128] = "";
        s_clamp_declared_at (self, &intake, source, clamped, sizeof clamped);
        size_t replies = self->n_replies;
        s_judge (self, &frames [0], &intake, request_id, source);
        //  The ack says so too: the sender's clock is wrong
        if (*clamped && self->n_replies > replies) {
            s_reply_t *reply = &self->replies [replies];
            size_t used = strlen (reply->text);
            snprintf (reply->text + used, sizeof reply->text - used, "; %s", clamped);
        }
    }
    intake_release (&intake);
}

//  True if a command frame names command
static bool
s_is_command (zmq_msg_t *frame, const char *command)
{
    size_t size = strlen (command);
    return zmq_msg_size (frame) == size && memcmp (zmq_msg_data (frame), command, size) == 0;
}

//  The exit poll's record: journaled under the next sequence like a
//  declaration, so that it survives a restart and reaches the standby
static void
s_journal_exit_poll (aggregator_t *self, const char *source, const Election__ExitPoll *poll)
{
    if (!self->journal)
        return;
    size_t size;
    uint64_t term = self->pair ? pair_term (self->pair) : 0;
    uint8_t *bytes = journal_record_pack_exit_poll (self->sequence, term, clock_now_us (), source,
                                                    poll, &size);
    s_batch_record (self, bytes, size);
}

//  "exit-poll" (payload ExitPoll): an editor's exit poll, seats per party.
//  Checked (REJECT_BAD_EXIT_POLL with why), journaled, and shown on the
//  projection topic until --exit-poll-until results are in. frames:
//  identity, name, payload; the answer is an Ack, in the batch's replies.
static void
s_handle_exit_poll (aggregator_t *self, zmq_msg_t *frames)
{
    if (!s_active (self)) {
        s_reply_t *reply = s_reply (self, &frames [0], 0, ELECTION__ACK_STATUS__ACK_UNAVAILABLE,
                                    EL_REASON_NONE, "this aggregator is the standby: send to the active one");
        reply->ack.has_pair_state = true;
        reply->ack.pair_state = pair_state (self->pair);
        return;
    }
    Election__ExitPoll *poll = election__exit_poll__unpack (NULL, zmq_msg_size (&frames [2]),
                                                            zmq_msg_data (&frames [2]));
    char why [256];
    el_reason_t reason = EL_REASON_NONE;
    const char *centre = s_centre (self, &frames [1]);
    const char *source = centre ? centre : poll && poll->source ? poll->source : "?";
    if (centre && strcmp (centre, self->config.exit_poll_from) != 0) {
        //  A count centre's key declares its seats, not the night's picture
        reason = EL_REASON_NOT_AUTHORISED;
        snprintf (why, sizeof why, "centre %.64s may not publish an exit poll (only %.64s may: "
                  "aggregator --exit-poll-from)", centre, self->config.exit_poll_from);
    }
    else
    if (!poll) {
        reason = EL_REASON_MALFORMED;
        snprintf (why, sizeof why, "the payload is not an ExitPoll");
    }
    else
    if (poll->has_mode && poll->mode != self->config.mode) {
        reason = EL_REASON_WRONG_MODE;
        snprintf (why, sizeof why, "an exit poll of a %s night sent to a %s aggregator",
                  names_mode (poll->mode), names_mode (self->config.mode));
    }
    else
    if (poll->election_id && strcmp (poll->election_id, self->config.election) != 0) {
        reason = EL_REASON_WRONG_ELECTION;
        snprintf (why, sizeof why, "an exit poll of another election (not %s)", self->config.election);
    }
    else
    if (!desk_exit_poll_check (poll, self->parties, tally_seats_total (self->tally), why, sizeof why))
        reason = EL_REASON_BAD_EXIT_POLL;
    if (reason) {
        log_warn ("AGG501", "exit poll from %.64s rejected (%s): %s", source,
                  el_reason_text (reason), why);
        s_reply (self, &frames [0], 0, ELECTION__ACK_STATUS__ACK_REJECTED, reason, why);
    }
    else
    if (desk_exit_poll_same (self->desk, poll)) {
        //  A retry of what is held (maybe of this batch): tallied
        s_reply_t *reply = s_reply (self, &frames [0], 0, ELECTION__ACK_STATUS__ACK_DUPLICATE,
                                    EL_REASON_NONE, "duplicate: this exit poll is already held");
        reply->tallied = true;
    }
    else {
        poll->has_published_at_ms = true;
        poll->published_at_ms = clock_now_us () / 1000;
        char *who = strdup (source);    //  source may be poll->source itself
        free (poll->source);
        poll->source = who;
        source = who ? who : "?";
        self->sequence++;
        s_journal_exit_poll (self, source, poll);
        if (desk_set_exit_poll (self->desk, poll)) {
            self->batch_unjournaled = true;     //  the batch fails whole, retried
            log_error ("AGG503", "out of memory taking an exit poll");
        }
        //  Its sequence ends as every sequence does; the projection goes
        //  before that at the batch's end
        update_head_t head = s_head (self);
        size_t size = 0;
        uint8_t *bytes = summary_pack_scope (self->tally, self->parties, 0, &head, &size);
        s_queue (self, "national", bytes, size);
        uint32_t total = 0;
        for (size_t i = 0; i < poll->n_parties; i++)
            total += poll->parties [i]->seats;
        log_info ("AGG500", "exit poll from %.64s accepted, seq %llu: %zu parties, %u seats; "
                  "the projection shows it until %u results are in", poll->source ? poll->source : "?",
                  (unsigned long long) self->sequence, poll->n_parties, total,
                  self->config.exit_poll_until);
        s_reply_t *reply = s_reply (self, &frames [0], 0, ELECTION__ACK_STATUS__ACK_ACCEPTED,
                                    EL_REASON_NONE, "exit poll accepted");
        reply->tallied = true;
        reply->ack.has_sequence = true;
        reply->ack.sequence = self->sequence;
    }
    if (poll)
        election__exit_poll__free_unpacked (poll, NULL);
}

//  Sends one answer on the ingest socket, never waiting: a sender whose
//  answers pile up unread (ZMQ_SNDHWM, with ZMQ_ROUTER_MANDATORY saying so)
//  is cut, since holding more for it is what it wants. fd: the connection
//  the request came from.
static void
s_send_reply (aggregator_t *self, zmq_msg_t *identity, int fd, const ProtobufCMessage *reply)
{
    if (zmq_msg_send (identity, self->ingest, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
        if (errno == EAGAIN) {
            char why [80];
            snprintf (why, sizeof why, "it has not read its last %d answers", S_ACK_HWM);
            guard_cut_fd (self->ingest_guard, fd, why);
        }
        else
            log_debug ("AGG041", "answer to a vanished sender dropped");
    }
    else
    if (net_send_pb (self->ingest, reply, 0))
        log_debug ("AGG041", "answer to a vanished sender dropped");
}

//  Runs the projection and queues it under head, with every undeclared
//  seat whose projected winner it changed (README "Projection")
static void
s_queue_projection_updates (aggregator_t *self, const update_head_t *head)
{
    if (desk_project (self->desk, clock_mono_ms ())) {
        log_error ("AGG505", "out of memory projecting: the projection waits");
        return;
    }
    size_t size;
    uint8_t *bytes = desk_pack_projection (self->desk, head, &size);
    if (s_queue (self, S_PROJECTION_TOPIC, bytes, size))
        log_error ("AGG505", "out of memory publishing the projection");
    char topic [S_TOPIC_MAX];
    for (size_t seat = 0; seat < tally_seats_total (self->tally); seat++)
        if (desk_winner_changed (self->desk, seat)) {
            summary_seat_topic (self->tally, seat, topic, sizeof topic);
            bytes = desk_pack_seat (self->desk, seat, head, &size);
            if (s_queue (self, topic, bytes, size))
                log_error ("AGG505", "out of memory publishing %s's projected winner", topic);
        }
}

//  A batch that applied declarations ends with the projection (when its
//  cost allows: desk.h), before the UK summary that ends its last sequence
static void
s_queue_projection (aggregator_t *self)
{
    int64_t next;
    if (!self->n_outgoing || !s_active (self)
    ||  !desk_projection_due (self->desk, clock_mono_ms (), &next))
        return;
    s_outgoing_t last = self->outgoing [self->n_outgoing - 1];
    bool national = strcmp (last.topic, "national") == 0;
    if (national)
        self->n_outgoing--;
    update_head_t head = s_head (self);
    s_queue_projection_updates (self, &head);
    if (national && s_queue (self, last.topic, last.bytes, last.size))
        log_error ("AGG505", "out of memory ending sequence %llu", (unsigned long long) self->sequence);
}

static void
s_publish_and_reply (aggregator_t *self)
{
    s_queue_projection (self);
    for (size_t i = 0; i < self->n_outgoing; i++) {
        s_outgoing_t *entry = &self->outgoing [i];
        //  Chained to the topic's previous update: topic followers check it
        if (clone_server_publish (self->server, self->updates, entry->topic, entry->bytes, entry->size))
            log_error ("AGG040", "out of memory storing %s: snapshots will lack it", entry->topic);
    }
    s_drop_outgoing (self);
    self->published = self->sequence;
    for (size_t i = 0; i < self->n_replies; i++) {
        s_reply_t *reply = &self->replies [i];
        s_send_reply (self, &reply->identity, reply->fd, &reply->ack.base);
        zmq_msg_close (&reply->identity);
    }
    self->n_replies = 0;
}

//  Nothing of the batch goes out as the tally judged it: its updates are
//  dropped, and every verdict of the tally becomes "unavailable", not only
//  acceptances: a duplicate or a stale revision may be measured against a
//  declaration accepted earlier in this same batch, which is not held where
//  it must be (a count centre that resent before its ack came would be told
//  "already held" of something never persisted). Asked again, the state we
//  can stand by answers them truly. Returns how many were rewritten.
static size_t
s_unavailable (aggregator_t *self, const char *text)
{
    s_drop_outgoing (self);
    size_t unavailable = 0;
    for (size_t i = 0; i < self->n_replies; i++) {
        s_reply_t *reply = &self->replies [i];
        if (reply->tallied) {
            reply->ack.status = ELECTION__ACK_STATUS__ACK_UNAVAILABLE;
            reply->ack.code = ELECTION__REJECT_CODE__REJECT_NONE;
            reply->ack.has_sequence = false;
            reply->ack.has_next_revision = false;
            reply->ack.n_reasons = 0;
            if (self->pair) {
                reply->ack.has_pair_state = true;
                reply->ack.pair_state = pair_state (self->pair);
            }
            s_copy (reply->text, sizeof reply->text, text);
            unavailable++;
        }
    }
    return unavailable;
}

//  The batch could not be made durable: acknowledge none of it as accepted
static void
s_fail_batch (aggregator_t *self, uint64_t sequence_before, const char *why)
{
    if (!self->journal_failing)
        log_error ("AGG033", "JOURNAL WRITE FAILED (%s): NOT acknowledging declarations "
                   "until the journal is writable again; count centres will retry", why);
    self->journal_failing = true;
    size_t unavailable = s_unavailable (self, "journal unwritable: not recorded, retry");
    log_error ("AGG034", "%zu declarations refused as unavailable", unavailable);
    //  Without a state we can trust, the loop stops (s_handle_ingest sees no tally)
    if (s_rebuild_from_journal (self, sequence_before))
        tally_destroy (&self->tally);
}

//  ---------------------------------------------------------------------
//  Commands: requests on the ingest socket other than declarations, two
//  frames (a name, a payload), answered with one frame (the command's reply
//  message, or an Ack with its status set where the request is refused).
//  Each is authorised as a declaration is: under CURVE a centre is answered
//  about the seats the allow-list gives it.

//  Sends one reply frame to the requester
static void
s_answer (aggregator_t *self, zmq_msg_t *identity, const ProtobufCMessage *reply)
{
    s_send_reply (self, identity, self->command_fd, reply);
}

static void
s_refuse (aggregator_t *self, zmq_msg_t *identity, el_reason_t reason, const char *format, ...)
    __attribute__ ((format (printf, 4, 5)));

static void
s_refuse (aggregator_t *self, zmq_msg_t *identity, el_reason_t reason, const char *format, ...)
{
    char text [256];
    va_list args;
    va_start (args, format);
    vsnprintf (text, sizeof text, format, args);
    va_end (args);
    Election__Ack ack = ELECTION__ACK__INIT;
    ack.has_status = true;
    ack.status = ELECTION__ACK_STATUS__ACK_REJECTED;
    ack.has_code = true;
    ack.code = (Election__RejectCode) reason;
    ack.text = text;
    log_warn ("AGG311", "request refused (%s): %s", el_reason_text (reason), text);
    s_answer (self, identity, &ack.base);
}

//  The seats a request names, known and permitted to the centre; none
//  named: every seat of the nominations (or of the baseline) it may
//  declare. Fills seats (tally indexes, the caller frees) and returns how
//  many, or -1 once the refusal is sent.
static long
s_requested_seats (aggregator_t *self, zmq_msg_t *frames, const char *centre, size_t **seats)
{
    Election__SeatsRequest *request = election__seats_request__unpack (NULL,
        zmq_msg_size (&frames [2]), zmq_msg_data (&frames [2]));
    if (!request) {
        s_refuse (self, &frames [0], EL_REASON_MALFORMED, "the payload is not a SeatsRequest");
        return -1;
    }
    size_t total = request->n_ons_ids ? request->n_ons_ids
                 : self->nominations ? nominations_count (self->nominations)
                 : tally_seats_total (self->tally);
    *seats = calloc (total ? total : 1, sizeof **seats);
    long count = 0;
    for (size_t i = 0; *seats && i < total; i++) {
        const char *ons_id = request->n_ons_ids ? request->ons_ids [i]
                           : self->nominations ? nominations_at (self->nominations, i)->ons_id
                           : NULL;
        long seat = ons_id ? tally_seat_find (self->tally, ons_id) : (long) i;
        if (seat < 0) {
            if (request->n_ons_ids) {
                char echo [INTAKE_MAX_CODE + 1];
                snprintf (echo, sizeof echo, "%s", ons_id);
                for (char *c = echo; *c; c++)
                    *c = *c >= 0x20 && *c < 0x7F ? *c : '?';
                s_refuse (self, &frames [0], EL_REASON_UNKNOWN_SEAT, "unknown constituency %s", echo);
                count = -1;
                break;
            }
            continue;
        }
        seat_view_t view;
        tally_seat (self->tally, (size_t) seat, &view);
        if (self->config.curve_secret && !auth_permits (self->auth, centre, view.ons_id)) {
            if (request->n_ons_ids) {
                s_refuse (self, &frames [0], EL_REASON_NOT_AUTHORISED, "centre %s may not declare %s",
                          centre, view.ons_id);
                count = -1;
                break;
            }
            continue;
        }
        (*seats) [count++] = (size_t) seat;
    }
    election__seats_request__free_unpacked (request, NULL);
    if (!*seats) {
        s_refuse (self, &frames [0], EL_REASON_MALFORMED, "out of memory");
        return -1;
    }
    if (count < 0) {
        free (*seats);
        *seats = NULL;
    }
    return count;
}

//  "nominations": each seat's nominated candidates, its previous winner and
//  the revision its next declaration must carry, and the party register, so
//  that a clerk's machine needs nothing but its key (ingest declare)
static void
s_command_nominations (aggregator_t *self, zmq_msg_t *frames, const char *centre)
{
    if (!self->nominations) {
        s_refuse (self, &frames [0], EL_REASON_NOT_NOMINATED, "this aggregator has no "
                  "nominations (it runs without --nominations): use ingest --nominations FILE");
        return;
    }
    size_t *seats = NULL;
    long count = s_requested_seats (self, frames, centre, &seats);
    if (count < 0)
        return;
    size_t candidates = 0;
    for (long i = 0; i < count; i++) {
        seat_view_t view;
        tally_seat (self->tally, seats [i], &view);
        const seat_result_t *nominated = nominations_seat (self->nominations, view.ons_id);
        candidates += nominated ? nominated->n_candidates : 0;
    }
    size_t n_parties = parties_count (self->parties);
    Election__NominatedSeat *rows = calloc ((size_t) count + 1, sizeof *rows);
    Election__NominatedSeat **row_list = calloc ((size_t) count + 1, sizeof *row_list);
    Election__Candidate *cands = calloc (candidates + 1, sizeof *cands);
    Election__Candidate **cand_list = calloc (candidates + 1, sizeof *cand_list);
    Election__PartyEntry *entries = calloc (n_parties + 1, sizeof *entries);
    Election__PartyEntry **entry_list = calloc (n_parties + 1, sizeof *entry_list);
    if (!rows || !row_list || !cands || !cand_list || !entries || !entry_list)
        s_refuse (self, &frames [0], EL_REASON_MALFORMED, "out of memory");
    else {
        Election__Nominations reply = ELECTION__NOMINATIONS__INIT;
        size_t used = 0, n_rows = 0;
        for (long i = 0; i < count; i++) {
            seat_view_t view;
            tally_seat (self->tally, seats [i], &view);
            const seat_result_t *nominated = nominations_seat (self->nominations, view.ons_id);
            if (!nominated)
                continue;
            Election__NominatedSeat *row = &rows [n_rows];
            election__nominated_seat__init (row);
            row->ons_id = nominated->ons_id;
            row->name = nominated->name;
            row->country = nominated->country;
            row->region = nominated->region;
            row->has_electorate = true;
            row->electorate = nominated->electorate;
            row->previous_winner = (char *) view.previous_winner;
            row->has_next_revision = true;
            row->next_revision = s_next_revision (self, view.ons_id);
            row->candidates = &cand_list [used];
            for (size_t c = 0; c < nominated->n_candidates; c++, used++) {
                election__candidate__init (&cands [used]);
                cands [used].name = nominated->candidates [c].name;
                cands [used].party = nominated->candidates [c].party;
                cand_list [used] = &cands [used];
            }
            row->n_candidates = nominated->n_candidates;
            row_list [n_rows++] = row;
        }
        for (size_t p = 0; p < n_parties; p++) {
            const party_entry_t *party = parties_at (self->parties, p);
            election__party_entry__init (&entries [p]);
            entries [p].code = (char *) party->code;
            entries [p].name = (char *) party->name;
            entries [p].colour = (char *) party->colour;
            entry_list [p] = &entries [p];
        }
        reply.n_seats = n_rows;
        reply.seats = row_list;
        reply.n_parties = n_parties;
        reply.parties = entry_list;
        log_info ("AGG312", "nominations of %zu seats sent to %s", n_rows,
                  centre ? centre : "a requester (the socket is open)");
        s_answer (self, &frames [0], &reply.base);
    }
    free (rows);
    free (row_list);
    free (cands);
    free (cand_list);
    free (entries);
    free (entry_list);
    free (seats);
}

//  "revision": where each seat stands, so that a correction or a
//  retraction can carry the right revision without the clerk knowing it
static void
s_command_revision (aggregator_t *self, zmq_msg_t *frames, const char *centre)
{
    size_t *seats = NULL;
    long count = s_requested_seats (self, frames, centre, &seats);
    if (count < 0)
        return;
    Election__SeatRevision *rows = calloc ((size_t) count + 1, sizeof *rows);
    Election__SeatRevision **row_list = calloc ((size_t) count + 1, sizeof *row_list);
    if (!rows || !row_list)
        s_refuse (self, &frames [0], EL_REASON_MALFORMED, "out of memory");
    else {
        for (long i = 0; i < count; i++) {
            seat_view_t view;
            tally_seat (self->tally, seats [i], &view);
            const Election__HeldDeclaration *held = holds_find (self->holds, view.ons_id);
            Election__SeatRevision *row = &rows [i];
            election__seat_revision__init (row);
            row->ons_id = (char *) view.ons_id;
            row->has_revision = row->has_declared = row->has_held = row->has_next_revision = true;
            row->next_revision = s_next_revision (self, view.ons_id);
            row->revision = row->next_revision - 1;
            row->declared = view.declared;
            row->held = held != NULL;
            row->previous_winner = (char *) view.previous_winner;
            row_list [i] = row;
        }
        Election__Revisions reply = ELECTION__REVISIONS__INIT;
        reply.n_seats = (size_t) count;
        reply.seats = row_list;
        s_answer (self, &frames [0], &reply.base);
    }
    free (rows);
    free (row_list);
    free (seats);
}

//  The dispatch table: one line per command (the desk adds "exit-poll")
typedef void (s_command_fn) (aggregator_t *self, zmq_msg_t *frames, const char *centre);
static const struct {
    const char *name;
    s_command_fn *handle;
} s_commands [] = {
    { "nominations", s_command_nominations },
    { "revision", s_command_revision },
};

//  frames: identity, name, payload
static void
s_handle_command (aggregator_t *self, zmq_msg_t *frames)
{
    char name [S_COMMAND_MAX + 1];
    bool fits = net_frame_str (&frames [1], name, sizeof name);
    for (size_t i = 0; fits && i < sizeof s_commands / sizeof s_commands [0]; i++)
        if (strcmp (name, s_commands [i].name) == 0) {
            s_commands [i].handle (self, frames, s_centre (self, &frames [1]));
            return;
        }
    //  The name is the sender's: made safe to echo
    if (!fits)
        snprintf (name, sizeof name, "(%zu bytes)", zmq_msg_size (&frames [1]));
    for (char *c = name; *c; c++)
        *c = *c >= 0x20 && *c < 0x7F ? *c : '?';
    s_refuse (self, &frames [0], EL_REASON_MALFORMED, "unknown command \"%s\"", name);
}

//  The batch goes out: its updates and answers, then the command that ended
//  it, if one did. -1 when the loop must stop (no state we can trust)
static int
s_release (aggregator_t *self)
{
    if (self->tally)
        s_publish_and_reply (self);
    if (self->have_command) {
        self->have_command = false;
        if (self->tally)
            s_handle_command (self, self->command);
        net_frames_close (self->command, 3);
    }
    return self->tally ? 0 : -1;
}

//  --- One of a pair ---

static void s_heartbeat (aggregator_t *self);

static const char *
s_state_name (Election__PairState state)
{
    switch (state) {
        case ELECTION__PAIR_STATE__PAIR_STARTING: return "STARTING";
        case ELECTION__PAIR_STATE__PAIR_ACTIVE:   return "ACTIVE";
        case ELECTION__PAIR_STATE__PAIR_PASSIVE:  return "PASSIVE";
        default:                                  return "alone";
    }
}

static bool
s_active (const aggregator_t *self)
{
    return !self->pair || pair_state (self->pair) == ELECTION__PAIR_STATE__PAIR_ACTIVE;
}

static pair_log_t
s_own_log (const aggregator_t *self)
{
    return (pair_log_t) { replica_last_sequence (self->replica), replica_last_term (self->replica) };
}

//  What we say of ourselves on the peer link (every message carries it)
static Election__PeerMessage
s_peer_base (const aggregator_t *self)
{
    Election__PeerMessage message = ELECTION__PEER_MESSAGE__INIT;
    message.has_state = true;
    message.state = pair_state (self->pair);
    message.has_primary = true;
    message.primary = pair_primary (self->pair);
    message.has_term = true;
    message.term = pair_term (self->pair);
    message.has_last_sequence = true;
    message.last_sequence = replica_last_sequence (self->replica);
    message.has_last_term = true;
    message.last_term = replica_last_term (self->replica);
    message.has_copy = true;
    message.copy = s_active (self) ? replica_copy (self->replica) : pair_may_take_over (self->pair);
    message.has_epoch = true;
    message.epoch = self->epoch;
    message.has_mode = true;
    message.mode = self->config.mode;
    message.election_id = (char *) self->config.election;  //  packing only reads it
    return message;
}

static void
s_peer_beat (aggregator_t *self)
{
    Election__PeerMessage message = s_peer_base (self);
    peer_send (self->peer, &message);
    self->next_peer_beat = clock_mono_ms () + self->config.peer_heartbeat_ms;
}

//  The active says so, loudly and again now and then, while no standby
//  holds what it acknowledges
static void
s_nag_no_copy (aggregator_t *self, bool now)
{
    if (!s_active (self) || !self->pair || replica_copy (self->replica))
        return;
    int64_t time = clock_mono_ms ();
    if (!now && time < self->next_no_copy_nag)
        return;
    if (replica_has_standby (self->replica))
        log_warn ("AGG410", "NO COPY: the standby is catching up (%llu records behind); "
                  "acknowledging on this aggregator's journal alone until it holds them all",
                  (unsigned long long) replica_behind (self->replica));
    else
        log_warn ("AGG410", "NO COPY: no standby is answering; acknowledging on this "
                  "aggregator's journal alone: losing this machine would lose declarations");
    self->next_no_copy_nag = time + S_NO_COPY_NAG_MS;
}

//  We take declarations from now on, as a new stream (a new epoch: every
//  follower resyncs from a snapshot), from the sequence our journal holds
static void
s_take_over (aggregator_t *self, const char *why)
{
    self->epoch = clock_random_u64 ();
    replica_forget (self->replica);
    log_warn ("AGG403", "ACTIVE as %s in term %llu: %s; declarations from sequence %llu on, "
              "epoch %016llx", pair_role (self->pair), (unsigned long long) pair_term (self->pair),
              why, (unsigned long long) self->sequence + 1, (unsigned long long) self->epoch);
    if (s_fill_server (self))
        log_error ("AGG040", "out of memory filling the snapshot store: snapshots will lack some of the state");
    clone_server_set_pair_state (self->server, ELECTION__PAIR_STATE__PAIR_ACTIVE);
    s_nag_no_copy (self, true);
    s_heartbeat (self);         //  followers learn it at once
    s_peer_beat (self);
}

//  We follow an active peer from now on. A batch of ours still waiting for
//  its copy is not acknowledged: the peer does not hold it, so it never was
static void
s_stand_by (aggregator_t *self, Election__PairState before, const char *why)
{
    if (before == ELECTION__PAIR_STATE__PAIR_ACTIVE) {
        log_error ("AGG404", "STEPPING DOWN to standby (term now %llu): %s",
                   (unsigned long long) pair_term (self->pair), why);
        if (self->waiting_copy) {
            self->waiting_copy = false;
            size_t refused = s_unavailable (self, "this aggregator is no longer active: "
                                            "send to the other one");
            log_error ("AGG404", "%zu declarations awaiting their copy refused as unavailable",
                       refused);
            s_release (self);
        }
    }
    else
        log_info ("AGG405", "PASSIVE (standby) as %s: %s", pair_role (self->pair), why);
    replica_forget (self->replica);
    clone_server_clear (self->server);
    clone_server_set_pair_state (self->server, ELECTION__PAIR_STATE__PAIR_PASSIVE);
    s_heartbeat (self);
    s_peer_beat (self);
}

//  A client turned to us (a declaration; a follower that lost its
//  aggregator): if we are not active, the Binary Star vote may make us.
//  Returns true if we are active.
static bool
s_vote (aggregator_t *self, const char *who)
{
    if (s_active (self))
        return true;
    char why [512] = "";
    pair_log_t own = s_own_log (self);
    int64_t now = clock_mono_ms ();
    if (pair_on_vote (self->pair, &own, now, why, sizeof why) == ELECTION__PAIR_STATE__PAIR_ACTIVE) {
        s_take_over (self, why);
        return true;
    }
    //  Said at most every few seconds: a centre retries often
    if (now - self->vote_said_at >= 5000 || !self->vote_said_at) {
        self->vote_said_at = now;
        if (pair_peer_alive (self->pair, now))
            log_info ("AGG406", "%s turned to us; we stay %s: %s", who,
                      s_state_name (pair_state (self->pair)), why);
        else
            log_error ("AGG406", "%s turned to us; we stay %s: %s", who,
                       s_state_name (pair_state (self->pair)), why);
    }
    return false;
}

//  A follower's failover snapshot request (clone_server_on_failover)
static void
s_on_failover_request (void *arg)
{
    aggregator_t *self = arg;
    if (s_vote (self, "a follower that lost its aggregator"))
        self->snapshot_head = s_published_head (self);
}

//  A batch awaiting its copy goes out once the standby holds it, or on our
//  journal alone once the standby is lost
static void
s_check_copy (aggregator_t *self)
{
    if (!self->waiting_copy)
        return;
    if (replica_acked (self->replica) >= self->sequence)
        self->waiting_copy = false;
    else
    if (!replica_copy (self->replica)) {
        self->waiting_copy = false;
        log_error ("AGG409", "standby LOST (no copy of sequence %llu within %d ms): "
                   "acknowledging on this aggregator's journal alone",
                   (unsigned long long) self->sequence, self->config.copy_timeout_ms);
        s_nag_no_copy (self, true);
    }
    if (!self->waiting_copy)
        s_release (self);
}

//  What the peer says: its state moves ours (pair.h); an active peer's
//  appends are applied; a standby's answers release our batches
static void
s_handle_peer (aggregator_t *self)
{
    Election__PeerMessage *message;
    while ((message = peer_recv (self->peer))) {
        if (message->mode != self->config.mode || !message->election_id
        ||  strcmp (message->election_id, self->config.election) != 0) {
            if (clock_mono_ms () - self->stranger_said_at >= 10000 || !self->stranger_said_at) {
                self->stranger_said_at = clock_mono_ms ();
                log_error ("AGG411", "the peer serves another night (%s, election %.64s): "
                           "not listening to it; check --mode, --election and --peer",
                           names_mode (message->mode), message->election_id ? message->election_id : "?");
            }
            peer_message_free (&message);
            continue;
        }
        pair_peer_t peer = { message->state, message->primary, message->term,
                             message->last_sequence, message->last_term, message->copy };
        pair_log_t own = s_own_log (self);
        Election__PairState before = pair_state (self->pair);
        char why [512] = "";
        Election__PairState after = pair_on_peer (self->pair, &peer, &own, clock_mono_ms (),
                                                  why, sizeof why);
        if (after == ELECTION__PAIR_STATE__PAIR_ACTIVE)
            s_take_over (self, why);
        else
        if (after == ELECTION__PAIR_STATE__PAIR_PASSIVE)
            s_stand_by (self, before, why);
        bool restarted = message->epoch != self->peer_epoch;
        self->peer_epoch = message->epoch;
        if (s_active (self)) {
            //  A peer that restarted is matched afresh, whatever it held
            if (restarted)
                replica_forget (self->replica);
            if (message->has_appended)
                replica_on_answer (self->replica, message);
            else
            if (message->state != ELECTION__PAIR_STATE__PAIR_ACTIVE)
                replica_heard_standby (self->replica, message->last_sequence);
        }
        else
        if (message->append && message->state == ELECTION__PAIR_STATE__PAIR_ACTIVE) {
            Election__PeerMessage answer = s_peer_base (self);
            char err [256];
            if (replica_on_append (self->replica, message, &answer, err, sizeof err) == 0) {
                //  Durable here: say so first, then follow in the tally
                peer_send (self->peer, &answer);
                if (replica_apply (self->replica, message, err, sizeof err))
                    log_error ("AGG417", "standby: %s: its state lags its journal until a restart", err);
                if (self->journal_failing) {
                    self->journal_failing = false;
                    log_info ("AGG035", "journal writable again: holding the active's records as normal");
                }
            }
            else {
                if (!self->journal_failing)
                    log_error ("AGG412", "STANDBY CANNOT HOLD the active's records (%s): "
                               "it will count us lost and acknowledge alone", err);
                self->journal_failing = true;
            }
        }
        peer_message_free (&message);
    }
    s_check_copy (self);
}

//  Our own records of a committed batch, noted with their term
static int
s_note_batch (aggregator_t *self, uint64_t sequence_before)
{
    for (uint64_t seq = sequence_before + 1; seq <= self->sequence; seq++)
        if (replica_note (self->replica, seq, pair_term (self->pair))) {
            log_error ("AGG413", "cannot note record %llu for the standby (out of memory)",
                       (unsigned long long) seq);
            return -1;
        }
    return 0;
}

static int
s_handle_batch (aggregator_t *self)
{
    uint64_t sequence_before = self->sequence;
    if (self->replica && s_active (self) && replica_check_copy (self->replica) == REPLICA_COPY)
        log_info ("AGG407", "the standby holds all %llu records: it is a copy again, and each "
                  "declaration is acknowledged once both journals hold it",
                  (unsigned long long) self->sequence);
    while (self->n_replies < S_BATCH) {
        zmq_msg_t frames [4];
        size_t count;
        if (guard_recv_frames (self->ingest_guard, frames, 4, &count, ZMQ_DONTWAIT))
            break;
        if (count == 3 && s_is_command (&frames [1], S_EXIT_POLL_COMMAND)) {
            //  An exit poll is journaled like a declaration: one of the batch
            size_t replies = self->n_replies;
            s_handle_exit_poll (self, frames);
            if (self->n_replies > replies)
                self->replies [replies].fd = zmq_msg_get (&frames [1], ZMQ_SRCFD);
            net_frames_close (frames, 3);
            continue;
        }
        if (count == 3) {
            //  A command: answered once what came before it is committed
            self->command_fd = zmq_msg_get (&frames [1], ZMQ_SRCFD);
            for (size_t i = 0; i < 3; i++) {
                zmq_msg_init (&self->command [i]);
                zmq_msg_move (&self->command [i], &frames [i]);
            }
            net_frames_close (frames, 3);
            self->have_command = true;
            break;
        }
        size_t replies = self->n_replies;
        s_handle_declaration (self, frames, count);
        //  The connection to cut if the answer cannot be queued (the
        //  identity frame the ROUTER made up need not say)
        if (self->n_replies > replies)
            self->replies [replies].fd = count >= 2 ? zmq_msg_get (&frames [1], ZMQ_SRCFD) : -1;
        net_frames_close (frames, count < 4 ? count : 4);
    }
    if (s_queue_batch_end (self))
        log_error ("AGG550", "out of memory encoding the batch's region summaries: "
                   "snapshots and the stream will lack some");
    if (self->batch_unjournaled) {
        self->batch_unjournaled = false;
        journal_discard (self->journal);
        s_fail_batch (self, sequence_before, "out of memory buffering journal records");
    }
    else
    if (self->journal && journal_pending (self->journal)) {
        //  A copy is sent the batch first, so both disks sync at once
        if (self->replica) {
            Election__PeerMessage base = s_peer_base (self);
            replica_send_batch (self->replica, self->peer, &base, self->records,
                                self->record_sizes, self->n_records, clock_mono_ms ());
        }
        char err [256];
        if (journal_commit (self->journal, err, sizeof err)) {
            if (self->replica) {
                //  The standby may now hold records we do not: a new term
                //  makes sure they never pass for ours
                replica_batch_failed (self->replica);
                pair_new_term (self->pair);
                log_warn ("AGG408", "new term %llu after the failed commit",
                          (unsigned long long) pair_term (self->pair));
            }
            s_fail_batch (self, sequence_before, err);
        }
        else {
            if (self->journal_failing) {
                self->journal_failing = false;
                log_info ("AGG035", "journal writable again: acknowledging as normal");
            }
            if (self->replica && s_note_batch (self, sequence_before))
                return -1;
            //  Acknowledged once the copy holds it too (s_check_copy), and
            //  a command that ended the batch answered after it
            if (self->replica && replica_copy (self->replica)
            &&  replica_acked (self->replica) < self->sequence) {
                self->waiting_copy = true;
                s_drop_records (self);
                return 0;
            }
        }
    }
    s_drop_records (self);
    //  The batch's log lines go out before its acknowledgements do
    log_release ();
    return s_release (self);
}

//  One batch, its log lines written at once (one write, not one a line)
static int
s_handle_ingest (aggregator_t *self)
{
    log_hold ();
    int rc = s_handle_batch (self);
    log_release ();
    return rc;
}

static void
s_handle_snapshot (aggregator_t *self)
{
    //  A failover request may make us active (s_on_failover_request), and
    //  change what the snapshots that follow it say
    self->snapshot_head = s_published_head (self);
    clone_server_serve_guarded (self->server, self->snapshot_guard, &self->snapshot_head,
                                !self->journal_failing, 16);
}

static void
s_heartbeat (aggregator_t *self)
{
    Election__Heartbeat heartbeat = ELECTION__HEARTBEAT__INIT;
    heartbeat.has_upstream_ok = true;
    heartbeat.upstream_ok = !self->journal_failing;
    heartbeat.source = "aggregator";
    heartbeat.stale_source = self->journal_failing ? "aggregator" : NULL;
    if (self->pair) {
        //  What operators see of the pair (README "A pair of aggregators")
        heartbeat.has_pair_state = true;
        heartbeat.pair_state = pair_state (self->pair);
        heartbeat.pair_role = (char *) pair_role (self->pair);
        heartbeat.has_term = true;
        heartbeat.term = pair_term (self->pair);
        if (s_active (self)) {
            heartbeat.has_copy = true;
            heartbeat.copy = replica_copy (self->replica);
            heartbeat.has_copy_behind = true;
            heartbeat.copy_behind = replica_copy (self->replica) ? 0 : replica_behind (self->replica);
        }
        s_nag_no_copy (self, false);
    }
    Election__Update update;
    update_head_t head = s_published_head (self);
    clone_server_send_heartbeat (self->updates, &head, &heartbeat, &update);
    self->next_heartbeat = clock_mono_ms () + self->config.heartbeat_ms;
    log_tick ();        //  the count of warnings held back, once their window ends
}

//  The peer link's timers: our state to the peer; a standby caught up or
//  found lost; a peer that has gone silent, said once
static void
s_pair_timers (aggregator_t *self)
{
    int64_t now = clock_mono_ms ();
    if (now >= self->next_peer_beat)
        s_peer_beat (self);
    if (s_active (self)) {
        //  A standby caught up while no batch was under way counts at once
        if (!self->waiting_copy && replica_check_copy (self->replica) == REPLICA_COPY)
            log_info ("AGG407", "the standby holds all %llu records: it is a copy again, and each "
                      "declaration is acknowledged once both journals hold it",
                      (unsigned long long) self->sequence);
        Election__PeerMessage base = s_peer_base (self);
        if (replica_pump (self->replica, self->peer, &base, now) == REPLICA_LOST) {
            log_error ("AGG409", "standby LOST: it has not answered for %d ms",
                       self->config.copy_timeout_ms);
            s_check_copy (self);
            s_nag_no_copy (self, true);
        }
    }
    bool alive = pair_peer_alive (self->pair, now);
    if (alive != self->peer_alive) {
        self->peer_alive = alive;
        if (alive)
            log_info ("AGG414", "the peer is heard again");
        else
        if (s_active (self))
            log_warn ("AGG414", "the peer (our standby) is silent");
        else
            log_warn ("AGG414", "the peer is silent: %s", pair_may_take_over (self->pair)
                      ? "we take over when a client turns to us"
                      : "we may lack what it acknowledged, and will NOT take over by ourselves "
                        "(--take-over forces it)");
    }
}

//  When the pair's timers next need us (mono ms)
static int64_t
s_pair_deadline (const aggregator_t *self)
{
    int64_t deadline = self->next_peer_beat;
    int64_t replica = s_active (self) ? replica_deadline (self->replica) : -1;
    if (replica >= 0 && replica < deadline)
        deadline = replica;
    return deadline;
}

//  A projection the cost rule held back goes out once it may, under the
//  published sequence, with nothing else (no batch is under way)
static void
s_projection_timer (aggregator_t *self)
{
    int64_t next;
    if (!self->tally || !s_active (self) || self->waiting_copy || self->n_outgoing
    ||  !desk_projection_due (self->desk, clock_mono_ms (), &next))
        return;
    update_head_t head = s_published_head (self);
    s_queue_projection_updates (self, &head);
    s_publish_and_reply (self);
}

int
aggregator_run (aggregator_t *self)
{
    self->next_heartbeat = clock_mono_ms ();
    self->next_peer_beat = clock_mono_ms ();
    guard_t *guards [] = { self->ingest_guard, self->updates_guard, self->snapshot_guard };
    while (!signals_interrupted ()) {
        //  A batch awaiting its copy holds the next one back: it will be
        //  judged against what both journals hold
        zmq_pollitem_t items [] = {
            { self->peer ? peer_socket (self->peer) : NULL, 0, ZMQ_POLLIN, 0 },
            { self->ingest, 0, self->waiting_copy ? 0 : ZMQ_POLLIN, 0 },
            { self->snapshot, 0, ZMQ_POLLIN, 0 },
            { self->updates, 0, ZMQ_POLLIN, 0 },
            { self->auth ? auth_socket (self->auth) : NULL, 0, ZMQ_POLLIN, 0 }
        };
        int64_t deadline = self->next_heartbeat;
        if (self->pair && s_pair_deadline (self) < deadline)
            deadline = s_pair_deadline (self);
        int64_t projection_at;
        if (self->tally && !desk_projection_due (self->desk, clock_mono_ms (), &projection_at)
        &&  projection_at >= 0 && projection_at < deadline)
            deadline = projection_at;
        int64_t wait = deadline - clock_mono_ms ();
        for (size_t i = 0; i < 3; i++)
            if (guard_timeout_ms (guards [i]) < wait)
                wait = guard_timeout_ms (guards [i]);
        size_t first = self->peer ? 0 : 1;
        if (zmq_poll (items + first, (self->auth ? 5 : 4) - (int) first, wait > 0 ? (long) wait : 0) < 0) {
            if (errno == EINTR)
                continue;
            log_error ("AGG060", "poll failed: %s", zmq_strerror (errno));
            return 1;
        }
        //  The peer first: an active that has been overtaken must know it
        //  before it acknowledges anything more
        if (self->peer && (items [0].revents & ZMQ_POLLIN))
            s_handle_peer (self);
        if (self->pair)
            s_pair_timers (self);
        if ((items [1].revents & ZMQ_POLLIN) && !self->waiting_copy && s_handle_ingest (self))
            return 1;
        if (items [2].revents & ZMQ_POLLIN)
            s_handle_snapshot (self);
        if (items [3].revents & ZMQ_POLLIN)
            guard_admit_subscriptions (self->updates_guard, S_SUBSCRIPTIONS);
        if (self->auth && (items [4].revents & ZMQ_POLLIN))
            auth_handle (self->auth);
        //  After the sockets were read: what is left is what peers hold back
        for (size_t i = 0; i < 3; i++)
            guard_handle (guards [i]);
        if (clock_mono_ms () >= self->next_heartbeat)
            s_heartbeat (self);
        s_projection_timer (self);
    }
    log_info ("AGG099", "stopping at sequence %llu, %zu seats declared",
              (unsigned long long) self->sequence, tally_declared (self->tally));
    return 0;
}
