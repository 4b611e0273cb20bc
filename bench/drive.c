/*  drive.c: see bench.h. Starting a pipeline and driving it.  */
#include "bench.h"
#include "chain.h"
#include "clock.h"
#include "log.h"
#include "net.h"
#include "signals.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <zmq.h>

static bool
s_topic_is (const zmq_msg_t *frame, const char *prefix, size_t len)
{
    return zmq_msg_size ((zmq_msg_t *) frame) >= len
        && memcmp (zmq_msg_data ((zmq_msg_t *) frame), prefix, len) == 0;
}

//  Reads one (topic, Update) message from the subscriber. Returns 1 when
//  one was read, 0 when none is waiting, -1 on error.
static int
s_sub_read (void *sub, zmq_msg_t *topic, zmq_msg_t *body)
{
    zmq_msg_init (topic);
    zmq_msg_init (body);
    if (zmq_msg_recv (topic, sub, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (topic);
        zmq_msg_close (body);
        return errno == EAGAIN ? 0 : -1;
    }
    if (!zmq_msg_more (topic) || zmq_msg_recv (body, sub, 0) < 0) {
        zmq_msg_close (topic);
        zmq_msg_close (body);
        return -1;
    }
    while (zmq_msg_more (body)) {       //  never sent: drop extra frames
        zmq_msg_t extra;
        zmq_msg_init (&extra);
        zmq_msg_recv (&extra, sub, 0);
        zmq_msg_move (body, &extra);
        zmq_msg_close (&extra);
    }
    return 1;
}

//  What an update is to a drive: the first of a declaration's updates (ours:
//  its seat update; latency is timed to it), the last (ours: the national
//  summary, published last), both (a raw chain declaration of one update),
//  a heartbeat (not counted as traffic), or none of these (a region)
enum { S_FIRST = 1, S_LAST = 2, S_HEARTBEAT = 4 };

//  Reads a protobuf varint at *at (below end); false if it runs past end
static bool
s_varint (const uint8_t **at, const uint8_t *end, uint64_t *value)
{
    *value = 0;
    for (int shift = 0; *at < end && shift < 64; shift += 7) {
        uint8_t byte = *(*at)++;
        *value |= (uint64_t) (byte & 0x7F) << shift;
        if (!(byte & 0x80))
            return true;
    }
    return false;
}

//  Finds field `number` in a message's bytes: its varint value, or the
//  bounds of its bytes. False if absent (or the bytes do not parse).
static bool
s_field (const uint8_t *data, const uint8_t *end, uint32_t number, uint64_t *value,
         const uint8_t **inner, const uint8_t **inner_end)
{
    while (data < end) {
        uint64_t key, length;
        if (!s_varint (&data, end, &key))
            return false;
        uint32_t wire = key & 7;
        if (wire == 0) {
            if (!s_varint (&data, end, value))
                return false;
            if (key >> 3 == number)
                return true;
        }
        else
        if (wire == 2) {
            if (!s_varint (&data, end, &length) || length > (uint64_t) (end - data))
                return false;
            if (key >> 3 == number) {
                *inner = data;
                *inner_end = data + length;
                return true;
            }
            data += length;
        }
        else
        if (wire == 1 || wire == 5)
            data += wire == 1 ? 8 : 4;
        else
            return false;
    }
    return false;
}

//  A seat update that says the seat is declared (Update.seat.declared):
//  the undeclared seats the projection republishes (their projected winner
//  changed) are not the update of any declaration
bool
bench_seat_declared (const void *bytes, size_t size)
{
    const uint8_t *data = bytes, *end = data + size;
    const uint8_t *seat, *seat_end, *unused;
    uint64_t declared = 0, ignored;
    return s_field (data, end, 4, &ignored, &seat, &seat_end)
        && s_field (seat, seat_end, 5, &declared, &unused, &unused) && declared;
}

static int
s_update_kind (const pipeline_t *pipeline, zmq_msg_t *topic, zmq_msg_t *body)
{
    if (pipeline->chain) {
        if (zmq_msg_size (body) < CHAIN_UPDATE_MIN)
            return 0;
        const uint8_t *data = zmq_msg_data (body);
        return (data [8] == 0 ? S_FIRST : 0) | (data [8] + 1 == data [9] ? S_LAST : 0);
    }
    if (s_topic_is (topic, "seat.", 5))
        return bench_seat_declared (zmq_msg_data (body), zmq_msg_size (body)) ? S_FIRST : 0;
    if (zmq_msg_size (topic) == 8 && s_topic_is (topic, "national", 8))
        return S_LAST;
    return s_topic_is (topic, "health", 6) ? S_HEARTBEAT : 0;
}

//  True if a first update is that of declaration k of batch: its seat's
//  topic (ours), its index (the raw chain)
static bool
s_first_of (const pipeline_t *pipeline, zmq_msg_t *topic, zmq_msg_t *body,
            const batch_t *batch, size_t k)
{
    if (pipeline->chain)
        return chain_get_u64 (zmq_msg_data (body)) == chain_get_u64 (batch->arena + batch->offset [k]);
    const char *ons_id = batch->ons_id [k];
    size_t len = strlen (ons_id);
    return zmq_msg_size (topic) == len + 5 && memcmp ((char *) zmq_msg_data (topic) + 5, ons_id, len) == 0;
}

//  An ack: 1 if it accepts declaration k of batch (ours do not say which:
//  one sender, in order), 0 if it is about another declaration (the raw
//  chain's say which), -1 if it refuses it (said on stderr)
static int
s_ack (const pipeline_t *pipeline, zmq_msg_t *frame, const batch_t *batch, size_t k)
{
    if (pipeline->chain)
        return zmq_msg_size (frame) >= CHAIN_ACK_MIN && k < batch->n
            && chain_get_u64 (zmq_msg_data (frame)) == chain_get_u64 (batch->arena + batch->offset [k]);
    Election__Ack *ack = election__ack__unpack (NULL, zmq_msg_size (frame), zmq_msg_data (frame));
    int rc = ack && ack->status == ELECTION__ACK_STATUS__ACK_ACCEPTED ? 1 : -1;
    if (rc < 0)
        fprintf (stderr, "bench: %s: declaration %llu not accepted: %s\n", pipeline->name,
                 ack ? (unsigned long long) ack->request_id : 0ULL,
                 ack && ack->text ? ack->text : "undecodable ack");
    if (ack)
        election__ack__free_unpacked (ack, NULL);
    return rc;
}

//  Sends a batch and waits until every declaration is acknowledged as
//  accepted and the subscriber has its first and last update (ours: seat
//  and national).
//  Pacing: at most `window` declarations without both their ack and their
//  first update, and (rate > 0) declaration k not before first + k / rate.
int
drive_run (pipeline_t *pipeline, drive_t *drive)
{
    const batch_t *batch = drive->batch;
    size_t n = batch->n, sent = 0, acked = 0, firsts = 0, lasts = 0;
    int64_t *send_ns = malloc ((n ? n : 1) * sizeof (int64_t));
    int timer = drive->rate > 0 ? timerfd_create (CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC) : -1;
    int rc = -1;
    traffic_t *traffic = &drive->traffic;
    memset (traffic, 0, sizeof *traffic);
    if (!send_ns || (drive->rate > 0 && timer < 0)) {
        fprintf (stderr, "bench: out of memory or timers\n");
        goto cleanup;
    }
    int64_t start = bench_now_ns (), last_event = start, last_progress = start;
    size_t held_at = SIZE_MAX;
    double interval_ns = drive->rate > 0 ? 1e9 / drive->rate : 0;
    while (acked < n || firsts < n || lasts < n) {
        if (signals_interrupted ())
            goto cleanup;
        int64_t now = bench_now_ns ();
        bool paced_wait = false;
        while (sent < n) {
            size_t done = acked < firsts ? acked : firsts;
            if (sent - done >= drive->window) {
                if (interval_ns > 0 && start + (int64_t) (interval_ns * (double) sent) <= now
                &&  held_at != sent) {
                    drive->held++;
                    held_at = sent;
                }
                break;
            }
            if (interval_ns > 0) {
                int64_t due = start + (int64_t) (interval_ns * (double) sent);
                if (due > now) {
                    struct itimerspec when = { .it_value = { due / 1000000000LL, due % 1000000000LL } };
                    timerfd_settime (timer, TFD_TIMER_ABSTIME, &when, NULL);
                    paced_wait = true;
                    break;
                }
            }
            if (zmq_send (pipeline->dealer, batch->arena + batch->offset [sent],
                          batch->size [sent], ZMQ_DONTWAIT) < 0) {
                if (errno == EAGAIN)
                    break;
                fprintf (stderr, "bench: send failed: %s\n", zmq_strerror (errno));
                goto cleanup;
            }
            now = bench_now_ns ();
            send_ns [sent++] = now;
        }
        zmq_pollitem_t items [3] = {
            { pipeline->dealer, 0, ZMQ_POLLIN, 0 },
            { pipeline->sub, 0, ZMQ_POLLIN, 0 },
            { NULL, timer, ZMQ_POLLIN, 0 }
        };
        if (zmq_poll (items, paced_wait ? 3 : 2, 1000) < 0) {
            if (errno == EINTR)
                continue;
            fprintf (stderr, "bench: poll failed: %s\n", zmq_strerror (errno));
            goto cleanup;
        }
        if (paced_wait && (items [2].revents & ZMQ_POLLIN)) {
            uint64_t expirations;
            if (read (timer, &expirations, sizeof expirations) < 0 && errno != EAGAIN)
                goto cleanup;
        }
        size_t progress = acked + firsts + lasts;
        for (int i = 0; i < 1024 && (items [0].revents & ZMQ_POLLIN); i++) {
            zmq_msg_t frame;
            zmq_msg_init (&frame);
            if (zmq_msg_recv (&frame, pipeline->dealer, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close (&frame);
                break;
            }
            int got = s_ack (pipeline, &frame, batch, acked);
            traffic->acks++;
            traffic->ack_bytes += zmq_msg_size (&frame);
            zmq_msg_close (&frame);
            if (got != 1) {
                if (got == 0)
                    fprintf (stderr, "bench: %s: ack %zu out of order\n", pipeline->name, acked);
                goto cleanup;
            }
            last_event = bench_now_ns ();
            //  One DEALER, one aggregator thread: acks come in send order
            if (drive->ack_latency_ns && acked < sent)
                drive->ack_latency_ns [acked] = last_event - send_ns [acked];
            acked++;
        }
        for (int i = 0; i < 4096 && (items [1].revents & ZMQ_POLLIN); i++) {
            zmq_msg_t topic, body;
            int got = s_sub_read (pipeline->sub, &topic, &body);
            if (got <= 0) {
                if (got < 0)
                    goto cleanup;
                break;
            }
            int64_t at = bench_now_ns ();
            int kind = s_update_kind (pipeline, &topic, &body);
            if (!(kind & S_HEARTBEAT)) {
                traffic->updates++;
                traffic->topic_bytes += zmq_msg_size (&topic);
                traffic->update_bytes += zmq_msg_size (&body);
            }
            if (kind & S_FIRST) {
                if (firsts >= sent || !s_first_of (pipeline, &topic, &body, batch, firsts)) {
                    char what [96];
                    if (pipeline->chain)
                        snprintf (what, sizeof what, "of index %llu", (unsigned long long)
                                  chain_get_u64 (zmq_msg_data (&body)));
                    else
                        snprintf (what, sizeof what, "%.*s", (int) zmq_msg_size (&topic),
                                  (char *) zmq_msg_data (&topic));
                    fprintf (stderr, "bench: %s: update %s out of order (expected that of "
                             "declaration %zu of %zu sent): updates were lost or reordered\n",
                             pipeline->name, what, firsts, sent);
                    zmq_msg_close (&topic);
                    zmq_msg_close (&body);
                    goto cleanup;
                }
                if (drive->latency_ns)
                    drive->latency_ns [firsts] = at - send_ns [firsts];
                firsts++;
                last_event = at;
            }
            if (kind & S_LAST) {
                lasts++;
                last_event = at;
                if (drive->watch_national && !pipeline->chain) {
                    Election__Update *update = election__update__unpack (NULL,
                        zmq_msg_size (&body), zmq_msg_data (&body));
                    if (update && update->body_case == ELECTION__UPDATE__BODY_NATIONAL)
                        drive->declared = update->national->declared;
                    if (update)
                        election__update__free_unpacked (update, NULL);
                }
            }
            zmq_msg_close (&topic);
            zmq_msg_close (&body);
        }
        if (acked + firsts + lasts > progress)
            last_progress = bench_now_ns ();
        else
        if (bench_now_ns () - last_progress > BENCH_STALL_NS) {
            fprintf (stderr, "bench: %s stalled: %zu sent, %zu acked, %zu first and %zu last "
                     "updates of %zu (see %s)\n", pipeline->name, sent, acked, firsts, lasts, n,
                     pipeline->log_path);
            goto cleanup;
        }
    }
    drive->elapsed_ns = last_event - (n ? send_ns [0] : start);
    traffic->declarations = n;
    rc = 0;
cleanup:
    if (timer >= 0)
        close (timer);
    free (send_ns);
    return rc;
}

//  Sends one SnapshotRequest for prefix on a fresh DEALER and waits for the
//  header. Returns 0 with *header_out (caller frees), or -1.
static int
s_ask_snapshot (bench_t *self, const char *endpoint, const char *prefix, pid_t watch,
                int64_t deadline, Election__Snapshot **header_out)
{
    void *dealer = net_socket (self->ctx, ZMQ_DEALER, endpoint, false);
    if (!dealer)
        return -1;
    Election__SnapshotRequest request = ELECTION__SNAPSHOT_REQUEST__INIT;
    request.topic_prefix = (char *) prefix;
    int rc = -1;
    if (net_send_pb (dealer, &request.base, 0))
        goto cleanup;
    while (!signals_interrupted () && bench_now_ns () < deadline && children_alive (self, watch)) {
        zmq_pollitem_t item = { dealer, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, 100) <= 0)
            continue;
        zmq_msg_t frames [64];
        size_t count;
        if (net_recv_frames (dealer, frames, 64, &count, 0))
            break;
        *header_out = election__snapshot__unpack (NULL, zmq_msg_size (&frames [0]),
                                                 zmq_msg_data (&frames [0]));
        net_frames_close (frames, count < 64 ? count : 64);
        rc = *header_out ? 0 : -1;
        break;
    }
cleanup:
    zmq_close (dealer);
    return rc;
}

void
pipeline_stop (bench_t *self, pipeline_t *pipeline)
{
    if (pipeline->dealer)
        zmq_close (pipeline->dealer);
    if (pipeline->sub)
        zmq_close (pipeline->sub);
    pipeline->dealer = pipeline->sub = NULL;
    children_stop (self, &pipeline->publisher);
    children_stop (self, &pipeline->aggregator);
    children_stop (self, &pipeline->backup);
}

//  Waits until the subscriber hears a publisher heartbeat saying its
//  upstream is live: the publisher has its snapshot and we are connected
static int
s_wait_publisher (bench_t *self, pipeline_t *pipeline, int64_t deadline)
{
    while (!signals_interrupted () && bench_now_ns () < deadline) {
        if (!children_alive (self, pipeline->aggregator) || !children_alive (self, pipeline->publisher))
            return -1;
        zmq_pollitem_t item = { pipeline->sub, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, 100) <= 0)
            continue;
        zmq_msg_t topic, body;
        while (s_sub_read (pipeline->sub, &topic, &body) > 0) {
            bool live = false;
            if (s_topic_is (&topic, "health", 6)) {
                Election__Update *update = election__update__unpack (NULL, zmq_msg_size (&body),
                                                                     zmq_msg_data (&body));
                live = update && update->body_case == ELECTION__UPDATE__BODY_HEARTBEAT
                    && update->heartbeat->upstream_ok
                    //  a pair is measured with its copy on, as a night would run
                    && (!pipeline->backup || update->heartbeat->copy);
                if (update)
                    election__update__free_unpacked (update, NULL);
            }
            zmq_msg_close (&topic);
            zmq_msg_close (&body);
            if (live)
                return 0;
        }
    }
    return -1;
}

//  Connects our sender and subscriber to a pipeline's children, with no
//  limit on what may queue: bench never drops
static int
s_connect (bench_t *self, pipeline_t *pipeline)
{
    pipeline->sub = net_socket (self->ctx, ZMQ_SUB, NULL, false);
    pipeline->dealer = net_socket (self->ctx, ZMQ_DEALER, NULL, false);
    if (!pipeline->sub || !pipeline->dealer)
        return -1;
    int unlimited = 0;
    zmq_setsockopt (pipeline->sub, ZMQ_RCVHWM, &unlimited, sizeof unlimited);
    zmq_setsockopt (pipeline->sub, ZMQ_SUBSCRIBE, "", 0);
    zmq_setsockopt (pipeline->dealer, ZMQ_SNDHWM, &unlimited, sizeof unlimited);
    zmq_setsockopt (pipeline->dealer, ZMQ_RCVHWM, &unlimited, sizeof unlimited);
    return net_attach (pipeline->sub, pipeline->updates, false)
        || net_attach (pipeline->dealer, pipeline->ingest, false) ? -1 : 0;
}

//  The probe: the last subscription (ours, or the publisher's own) may
//  still be on its way upstream; then the first updates never reach us. A
//  probe seen end to end means nothing more will be lost. A probe lost
//  downstream is acknowledged but never seen: give up on it after a second
//  and send the next one (make_probe's revision one higher). Seen means its
//  first update and then its last arrived.
static int
s_probe (pipeline_t *pipeline, batch_t *(*make_probe) (void *, uint32_t), void *probe_arg,
         uint32_t *probe_revision, int64_t deadline)
{
    for (uint32_t revision = *probe_revision; ; revision++) {
        if (signals_interrupted () || bench_now_ns () > deadline || revision > *probe_revision + 20)
            return -1;
        batch_t *probe = make_probe (probe_arg, revision);
        if (!probe)
            return -1;
        int64_t probe_deadline = bench_now_ns () + 1000000000LL;
        bool seen = false, last = false, acked = false, refused = false;
        zmq_send (pipeline->dealer, probe->arena, probe->size [0], 0);
        while (!(acked && last) && !refused && bench_now_ns () < probe_deadline
           &&  !signals_interrupted ()) {
            zmq_pollitem_t items [2] = { { pipeline->dealer, 0, ZMQ_POLLIN, 0 },
                                         { pipeline->sub, 0, ZMQ_POLLIN, 0 } };
            if (zmq_poll (items, 2, 100) <= 0)
                continue;
            zmq_msg_t frame;
            zmq_msg_init (&frame);
            while (!refused && zmq_msg_recv (&frame, pipeline->dealer, ZMQ_DONTWAIT) >= 0) {
                int got = s_ack (pipeline, &frame, probe, 0);
                acked = acked || got == 1;
                refused = got < 0;
            }
            zmq_msg_close (&frame);
            zmq_msg_t topic, body;
            while (s_sub_read (pipeline->sub, &topic, &body) > 0) {
                int kind = s_update_kind (pipeline, &topic, &body);
                if ((kind & S_FIRST) && s_first_of (pipeline, &topic, &body, probe, 0))
                    seen = true;
                if (seen && (kind & S_LAST))
                    last = true;
                zmq_msg_close (&topic);
                zmq_msg_close (&body);
            }
        }
        batch_free (probe);
        free (probe);
        if (refused)
            return -1;
        if (last && acked) {
            *probe_revision = revision;
            return 0;
        }
    }
}

//  Starts an aggregator on baseline (journal: a fresh file, or none) and a
//  publisher following it; connects our sender and subscriber; and proves
//  the whole path with a probe: a rush for the probe seat whose update the
//  subscriber must receive (a rush is replaced by the full result later).
//  probe_revision is the revision of that rush; a lost probe is sent again
//  one revision higher, and *probe_revision says which one got through.
pid_t
pipeline_pair_member (bench_t *self, const char *role, const char *baseline,
                      const char *ingest, const char *updates, const char *snapshot,
                      const char *peer_bind, const char *peer, const char *journal,
                      const char *log_path)
{
    char *argv [] = { "aggregator", "--baseline", (char *) baseline, "--role", (char *) role,
        "--ingest", (char *) ingest, "--updates", (char *) updates, "--snapshot", (char *) snapshot,
        "--peer-bind", (char *) peer_bind, "--peer", (char *) peer, "--journal", (char *) journal,
        "--heartbeat-ms", BENCH_HEARTBEAT_MS, "--quiet", NULL };
    return children_spawn (self, self->options.bin_dir, "aggregator", argv, log_path);
}

int
pipeline_wait_active (bench_t *self, const char *snapshot, pid_t watch, int64_t deadline)
{
    while (!signals_interrupted () && bench_now_ns () < deadline) {
        Election__Snapshot *header = NULL;
        if (s_ask_snapshot (self, snapshot, "national", watch, deadline, &header))
            return -1;
        bool active = header->pair_state == ELECTION__PAIR_STATE__PAIR_ACTIVE;
        election__snapshot__free_unpacked (header, NULL);
        if (active)
            return 0;
        zmq_poll (NULL, 0, 50);     //  asked again in a moment, not in a spin
    }
    return -1;
}

int
pipeline_start (bench_t *self, pipeline_t *pipeline, const char *name,
                const char *baseline, bool journal, bool pair,
                batch_t *(*make_probe) (void *, uint32_t),
                void *probe_arg, uint32_t *probe_revision)
{
    memset (pipeline, 0, sizeof *pipeline);
    snprintf (pipeline->name, sizeof pipeline->name, "%s", name);
    unsigned id = ++self->pipelines;
    char endpoints [10][64];
    if (children_endpoints (10, endpoints))
        return -1;
    memcpy (pipeline->ingest, endpoints [0], 64);
    memcpy (pipeline->agg_updates, endpoints [1], 64);
    memcpy (pipeline->agg_snapshot, endpoints [2], 64);
    memcpy (pipeline->updates, endpoints [3], 64);
    memcpy (pipeline->snapshot, endpoints [4], 64);
    snprintf (pipeline->log_path, sizeof pipeline->log_path, "%s/%02u-%s.log", self->tmp_dir, id, name);
    char journal_path [PATH_MAX];
    snprintf (journal_path, sizeof journal_path, "%s/%02u-%s.journal", self->tmp_dir, id, name);

    char *agg_argv [16] = { "aggregator", "--baseline", (char *) baseline,
        "--ingest", pipeline->ingest, "--updates", pipeline->agg_updates,
        "--snapshot", pipeline->agg_snapshot, "--heartbeat-ms", BENCH_HEARTBEAT_MS, "--quiet" };
    if (journal) {
        agg_argv [12] = "--journal";
        agg_argv [13] = journal_path;
    }
    char *pub_argv [16] = { "publisher", "--upstream-updates", pipeline->agg_updates,
        "--upstream-snapshot", pipeline->agg_snapshot, "--updates", pipeline->updates,
        "--snapshot", pipeline->snapshot, "--heartbeat-ms", BENCH_HEARTBEAT_MS, "--quiet", NULL };
    //  A publisher with an HTTP gateway would take a fixed port: none here
    if (self->publisher_has_http) {
        pub_argv [12] = "--http";
        pub_argv [13] = "0";
    }
    int64_t deadline = bench_now_ns () + BENCH_START_NS;
    Election__Snapshot *header = NULL;

    if (pair) {
        //  The primary at endpoints 0-2, the backup at 5-7, their peer links 8, 9
        char *backup [3] = { endpoints [5], endpoints [6], endpoints [7] };
        char *peer [2] = { endpoints [8], endpoints [9] };
        char backup_journal [PATH_MAX];
        snprintf (backup_journal, sizeof backup_journal, "%s/%02u-%s-backup.journal", self->tmp_dir, id, name);
        snprintf (pipeline->pair_updates, sizeof pipeline->pair_updates, "%s,%s", pipeline->agg_updates, backup [1]);
        snprintf (pipeline->pair_snapshot, sizeof pipeline->pair_snapshot, "%s,%s", pipeline->agg_snapshot, backup [2]);
        pub_argv [2] = pipeline->pair_updates;
        pub_argv [4] = pipeline->pair_snapshot;
        pipeline->aggregator = pipeline_pair_member (self, "primary", baseline, pipeline->ingest,
            pipeline->agg_updates, pipeline->agg_snapshot, peer [0], peer [1], journal_path,
            pipeline->log_path);
        pipeline->backup = pipeline_pair_member (self, "backup", baseline, backup [0], backup [1],
            backup [2], peer [1], peer [0], backup_journal, pipeline->log_path);
        //  Ready = the primary says it is active (both up, neither was)
        if (pipeline->aggregator < 0 || pipeline->backup < 0
        ||  pipeline_wait_active (self, pipeline->agg_snapshot, pipeline->aggregator, deadline))
            goto failed;
    }
    else {
        pipeline->aggregator = children_spawn (self, self->options.bin_dir, "aggregator", agg_argv,
                                               pipeline->log_path);
        if (pipeline->aggregator < 0)
            goto failed;
        //  Ready = answers a snapshot request (asking for a small part only)
        if (s_ask_snapshot (self, pipeline->agg_snapshot, "national", pipeline->aggregator,
                            deadline, &header))
            goto failed;
        election__snapshot__free_unpacked (header, NULL);
    }
    pipeline->publisher = children_spawn (self, self->options.bin_dir, "publisher", pub_argv,
                                          pipeline->log_path);
    if (pipeline->publisher < 0 || s_connect (self, pipeline)
    ||  s_wait_publisher (self, pipeline, deadline)
    ||  s_probe (pipeline, make_probe, probe_arg, probe_revision, deadline))
        goto failed;
    return 0;
failed:
    fprintf (stderr, "bench: pipeline %s did not start (logs: %s)\n", name, pipeline->log_path);
    pipeline_stop (self, pipeline);
    return -1;
}

//  The mean size of what count frames of total bytes had, within [min, max]
static size_t
s_mean_size (size_t total, size_t count, size_t min, size_t max)
{
    size_t mean = count ? (total + count / 2) / count : min;
    return mean < min ? min : mean > max ? max : mean;
}

static batch_t *
s_chain_probe (void *arg, uint32_t revision)
{
    bench_t *self = arg;
    batch_t *batch = malloc (sizeof *batch);
    if (!batch || batch_chain (batch, &self->traffic, self->message_bytes, UINT64_MAX - revision, 1)) {
        free (batch);
        return NULL;
    }
    return batch;
}

//  Starts the raw chain (bench-chain store with a fresh file, and relay),
//  its frames of the mean sizes of self->traffic; connects our sender and
//  subscriber and proves the path with a probe as pipeline_start does.
int
chain_start (bench_t *self, pipeline_t *pipeline)
{
    const traffic_t *traffic = &self->traffic;
    memset (pipeline, 0, sizeof *pipeline);
    snprintf (pipeline->name, sizeof pipeline->name, "raw-chain");
    pipeline->chain = true;
    if (!traffic->declarations || !traffic->acks || !traffic->updates) {
        fprintf (stderr, "bench: no traffic of the real pipeline counted: nothing to size the raw chain by\n");
        return -1;
    }
    unsigned id = ++self->pipelines;
    char endpoints [3][64];
    if (children_endpoints (3, endpoints))
        return -1;
    memcpy (pipeline->ingest, endpoints [0], 64);
    memcpy (pipeline->agg_updates, endpoints [1], 64);
    memcpy (pipeline->updates, endpoints [2], 64);
    snprintf (pipeline->log_path, sizeof pipeline->log_path, "%s/%02u-raw-chain.log", self->tmp_dir, id);
    char journal_path [PATH_MAX], ack [24], topic [24], update [24];
    snprintf (journal_path, sizeof journal_path, "%s/%02u-raw-chain.journal", self->tmp_dir, id);
    snprintf (ack, sizeof ack, "%zu", s_mean_size (traffic->ack_bytes, traffic->acks,
                                                   CHAIN_ACK_MIN, CHAIN_MAX_FRAME));
    snprintf (topic, sizeof topic, "%zu", s_mean_size (traffic->topic_bytes, traffic->updates,
                                                       1, CHAIN_MAX_FRAME));
    snprintf (update, sizeof update, "%zu", s_mean_size (traffic->update_bytes, traffic->updates,
                                                         CHAIN_UPDATE_MIN, CHAIN_MAX_FRAME));
    char *store_argv [] = { "bench-chain", "store", "--ingest", pipeline->ingest,
        "--updates", pipeline->agg_updates, "--journal", journal_path, "--ack-bytes", ack,
        "--topic-bytes", topic, "--update-bytes", update, NULL };
    char *relay_argv [] = { "bench-chain", "relay", "--upstream", pipeline->agg_updates,
        "--updates", pipeline->updates, NULL };
    printf ("  %.2f updates per declaration (counted in the durable runs); frames: declaration "
            "%zu, ack %s, topic %s, update %s bytes\n",
            (double) traffic->updates / (double) traffic->declarations, self->message_bytes,
            ack, topic, update);
    fflush (stdout);
    int64_t deadline = bench_now_ns () + BENCH_START_NS;
    uint32_t revision = 0;
    pipeline->aggregator = children_spawn (self, self->own_dir, "bench-chain", store_argv,
                                           pipeline->log_path);
    pipeline->publisher = pipeline->aggregator < 0 ? -1
                        : children_spawn (self, self->own_dir, "bench-chain", relay_argv,
                                          pipeline->log_path);
    if (pipeline->publisher < 0 || s_connect (self, pipeline)
    ||  s_probe (pipeline, s_chain_probe, self, &revision, deadline)) {
        fprintf (stderr, "bench: the raw chain did not start (logs: %s)\n", pipeline->log_path);
        pipeline_stop (self, pipeline);
        return -1;
    }
    return 0;
}
