/*  drive.c: see bench.h. Starting a pipeline and driving it.  */
#include "bench.h"
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

//  Sends a batch and waits until every declaration is acknowledged as
//  accepted and the subscriber has its seat update and national update.
//  Pacing: at most `window` declarations without both their ack and their
//  seat update, and (rate > 0) declaration k not before first + k / rate.
int
drive_run (pipeline_t *pipeline, drive_t *drive)
{
    const batch_t *batch = drive->batch;
    size_t n = batch->n, sent = 0, acked = 0, seats = 0, nationals = 0;
    int64_t *send_ns = malloc ((n ? n : 1) * sizeof (int64_t));
    int timer = drive->rate > 0 ? timerfd_create (CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC) : -1;
    int rc = -1;
    if (!send_ns || (drive->rate > 0 && timer < 0)) {
        fprintf (stderr, "bench: out of memory or timers\n");
        goto cleanup;
    }
    int64_t start = bench_now_ns (), last_event = start, last_progress = start;
    size_t held_at = SIZE_MAX;
    double interval_ns = drive->rate > 0 ? 1e9 / drive->rate : 0;
    while (acked < n || seats < n || nationals < n) {
        if (signals_interrupted ())
            goto cleanup;
        int64_t now = bench_now_ns ();
        bool paced_wait = false;
        while (sent < n) {
            size_t done = acked < seats ? acked : seats;
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
        size_t progress = acked + seats + nationals;
        for (int i = 0; i < 1024 && (items [0].revents & ZMQ_POLLIN); i++) {
            zmq_msg_t frame;
            zmq_msg_init (&frame);
            if (zmq_msg_recv (&frame, pipeline->dealer, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close (&frame);
                break;
            }
            Election__Ack *ack = election__ack__unpack (NULL, zmq_msg_size (&frame), zmq_msg_data (&frame));
            zmq_msg_close (&frame);
            if (!ack || ack->status != ELECTION__ACK_STATUS__ACK_ACCEPTED) {
                fprintf (stderr, "bench: declaration %llu not accepted: %s\n",
                         ack ? (unsigned long long) ack->request_id : 0ULL,
                         ack && ack->text ? ack->text : "undecodable ack");
                if (ack)
                    election__ack__free_unpacked (ack, NULL);
                goto cleanup;
            }
            election__ack__free_unpacked (ack, NULL);
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
            if (s_topic_is (&topic, "seat.", 5)) {
                const char *expected = seats < n ? batch->ons_id [seats] : "";
                size_t len = strlen (expected);
                if (seats >= sent || zmq_msg_size (&topic) != len + 5
                ||  memcmp ((char *) zmq_msg_data (&topic) + 5, expected, len) != 0) {
                    fprintf (stderr, "bench: seat update %.*s out of order (expected seat.%s, "
                             "%zu of %zu sent): updates were lost or reordered\n",
                             (int) zmq_msg_size (&topic), (char *) zmq_msg_data (&topic),
                             expected, seats, sent);
                    zmq_msg_close (&topic);
                    zmq_msg_close (&body);
                    goto cleanup;
                }
                if (drive->latency_ns)
                    drive->latency_ns [seats] = at - send_ns [seats];
                seats++;
                last_event = at;
            }
            else
            if (zmq_msg_size (&topic) == 8 && s_topic_is (&topic, "national", 8)) {
                nationals++;
                last_event = at;
                if (drive->watch_national) {
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
        if (acked + seats + nationals > progress)
            last_progress = bench_now_ns ();
        else
        if (bench_now_ns () - last_progress > BENCH_STALL_NS) {
            fprintf (stderr, "bench: %s stalled: %zu sent, %zu acked, %zu seat and %zu national "
                     "updates of %zu (see %s)\n", pipeline->name, sent, acked, seats, nationals, n,
                     pipeline->log_path);
            goto cleanup;
        }
    }
    drive->elapsed_ns = last_event - (n ? send_ns [0] : start);
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
    return children_spawn (self, "aggregator", argv, log_path);
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
    int ports [10];
    for (int i = 0; i < 10; i++) {
        ports [i] = children_free_port ();
        for (int j = 0; j < i; j++)
            if (ports [j] == ports [i])
                ports [i] = -1;
        if (ports [i] < 0) {
            fprintf (stderr, "bench: no free port\n");
            return -1;
        }
    }
    snprintf (pipeline->ingest, sizeof pipeline->ingest, "tcp://127.0.0.1:%d", ports [0]);
    snprintf (pipeline->agg_updates, sizeof pipeline->agg_updates, "tcp://127.0.0.1:%d", ports [1]);
    snprintf (pipeline->agg_snapshot, sizeof pipeline->agg_snapshot, "tcp://127.0.0.1:%d", ports [2]);
    snprintf (pipeline->updates, sizeof pipeline->updates, "tcp://127.0.0.1:%d", ports [3]);
    snprintf (pipeline->snapshot, sizeof pipeline->snapshot, "tcp://127.0.0.1:%d", ports [4]);
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
        //  The primary at ports 0-2, the backup at 5-7, their peer links 8, 9
        char backup [3][64], peer [2][64], backup_journal [PATH_MAX];
        for (int i = 0; i < 3; i++)
            snprintf (backup [i], sizeof backup [i], "tcp://127.0.0.1:%d", ports [5 + i]);
        for (int i = 0; i < 2; i++)
            snprintf (peer [i], sizeof peer [i], "tcp://127.0.0.1:%d", ports [8 + i]);
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
        pipeline->aggregator = children_spawn (self, "aggregator", agg_argv, pipeline->log_path);
        if (pipeline->aggregator < 0)
            goto failed;
        //  Ready = answers a snapshot request (asking for a small part only)
        if (s_ask_snapshot (self, pipeline->agg_snapshot, "national", pipeline->aggregator,
                            deadline, &header))
            goto failed;
        election__snapshot__free_unpacked (header, NULL);
    }
    pipeline->publisher = children_spawn (self, "publisher", pub_argv, pipeline->log_path);
    if (pipeline->publisher < 0)
        goto failed;
    pipeline->sub = net_socket (self->ctx, ZMQ_SUB, NULL, false);
    pipeline->dealer = net_socket (self->ctx, ZMQ_DEALER, NULL, false);
    if (!pipeline->sub || !pipeline->dealer)
        goto failed;
    int unlimited = 0;
    zmq_setsockopt (pipeline->sub, ZMQ_RCVHWM, &unlimited, sizeof unlimited);
    zmq_setsockopt (pipeline->sub, ZMQ_SUBSCRIBE, "", 0);
    zmq_setsockopt (pipeline->dealer, ZMQ_SNDHWM, &unlimited, sizeof unlimited);
    zmq_setsockopt (pipeline->dealer, ZMQ_RCVHWM, &unlimited, sizeof unlimited);
    if (net_attach (pipeline->sub, pipeline->updates, false)
    ||  net_attach (pipeline->dealer, pipeline->ingest, false))
        goto failed;
    if (s_wait_publisher (self, pipeline, deadline))
        goto failed;
    //  The probe: the publisher's own subscription may still be on its way
    //  to the aggregator; then its first updates never reach us, and it
    //  resyncs. A probe seen end to end means nothing more will be lost.
    for (uint32_t revision = *probe_revision; ; revision++) {
        if (signals_interrupted () || bench_now_ns () > deadline || revision > *probe_revision + 20)
            goto failed;
        batch_t *probe = make_probe (probe_arg, revision);
        if (!probe)
            goto failed;
        //  A probe lost downstream is acknowledged but never seen: give up
        //  on it after a second and send the next one. Seen means its seat
        //  update and then its national update (published last) arrived.
        void *sub = pipeline->sub;
        int64_t probe_deadline = bench_now_ns () + 1000000000LL;
        bool seen = false, national = false, acked = false;
        zmq_send (pipeline->dealer, probe->arena, probe->size [0], 0);
        while (!(acked && national) && bench_now_ns () < probe_deadline && !signals_interrupted ()) {
            zmq_pollitem_t items [2] = { { pipeline->dealer, 0, ZMQ_POLLIN, 0 }, { sub, 0, ZMQ_POLLIN, 0 } };
            if (zmq_poll (items, 2, 100) <= 0)
                continue;
            if (items [0].revents & ZMQ_POLLIN) {
                zmq_msg_t frame;
                zmq_msg_init (&frame);
                if (zmq_msg_recv (&frame, pipeline->dealer, ZMQ_DONTWAIT) >= 0) {
                    Election__Ack *ack = election__ack__unpack (NULL, zmq_msg_size (&frame), zmq_msg_data (&frame));
                    if (!ack || ack->status != ELECTION__ACK_STATUS__ACK_ACCEPTED) {
                        fprintf (stderr, "bench: probe not accepted: %s\n",
                                 ack && ack->text ? ack->text : "undecodable ack");
                        if (ack)
                            election__ack__free_unpacked (ack, NULL);
                        zmq_msg_close (&frame);
                        batch_free (probe);
                        free (probe);
                        goto failed;
                    }
                    election__ack__free_unpacked (ack, NULL);
                    acked = true;
                }
                zmq_msg_close (&frame);
            }
            zmq_msg_t topic, body;
            while (s_sub_read (sub, &topic, &body) > 0) {
                if (s_topic_is (&topic, "seat.", 5)
                &&  zmq_msg_size (&topic) == 5 + strlen (probe->ons_id [0])
                &&  memcmp ((char *) zmq_msg_data (&topic) + 5, probe->ons_id [0], strlen (probe->ons_id [0])) == 0)
                    seen = true;
                else
                if (seen && zmq_msg_size (&topic) == 8 && s_topic_is (&topic, "national", 8))
                    national = true;
                zmq_msg_close (&topic);
                zmq_msg_close (&body);
            }
        }
        batch_free (probe);
        free (probe);
        if (national && acked) {
            *probe_revision = revision;
            break;
        }
    }
    return 0;
failed:
    fprintf (stderr, "bench: pipeline %s did not start (logs: %s)\n", name, pipeline->log_path);
    pipeline_stop (self, pipeline);
    return -1;
}
