/*  measure.c: see bench.h. What is measured, and in which order.  */
#include "bench.h"
#include "clone_client.h"
#include "clock.h"
#include "signals.h"
#include "update_head.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

//  `count` declarations for a drive: synthetic ones for our pipelines, raw
//  frames for the chain
static int
s_batch (bench_t *self, pipeline_t *pipeline, const synthetic_t *election, size_t count,
         batch_t *batch)
{
    if (pipeline->chain)
        return batch_chain (batch, &self->traffic, self->message_bytes, 0, count);
    return synthetic_batch (batch, election, count, &pipeline->next_revision);
}

static void
s_add_traffic (traffic_t *into, const traffic_t *add)
{
    into->declarations += add->declarations;
    into->acks += add->acks;
    into->updates += add->updates;
    into->ack_bytes += add->ack_bytes;
    into->topic_bytes += add->topic_bytes;
    into->update_bytes += add->update_bytes;
}

//  Throughput: `count` declarations going round the seats, max speed. The
//  CPU its two children spent per declaration goes beside it: for ours
//  decl_per_s_X gives agg_cpu_us_X and pub_cpu_us_X, for the raw chain
//  chain_store_cpu_us and chain_relay_cpu_us. traffic: NULL, or where to
//  add what came back.
static int
s_throughput (bench_t *self, pipeline_t *pipeline, const synthetic_t *election,
              size_t count, const char *key, const char *label, traffic_t *traffic)
{
    batch_t batch;
    if (s_batch (self, pipeline, election, count, &batch))
        return -1;
    drive_t drive = { .batch = &batch, .window = self->options.window };
    double agg_cpu = children_cpu_us (pipeline->aggregator), pub_cpu = children_cpu_us (pipeline->publisher);
    double own_cpu = children_cpu_us (getpid ());
    int rc = drive_run (pipeline, &drive);
    if (rc == 0) {
        double per_s = (double) count / ((double) drive.elapsed_ns / 1e9);
        report_record (self, key, label, "decl/s", per_s);
        agg_cpu = (children_cpu_us (pipeline->aggregator) - agg_cpu) / (double) count;
        pub_cpu = (children_cpu_us (pipeline->publisher) - pub_cpu) / (double) count;
        own_cpu = (children_cpu_us (getpid ()) - own_cpu) / (double) count;
        const char *names [2] = { "aggregator", "publisher" };
        char cpu_key [2][64], cpu_label [2][96];
        if (pipeline->chain) {
            names [0] = "store";
            names [1] = "relay";
            snprintf (cpu_key [0], sizeof cpu_key [0], "chain_store_cpu_us");
            snprintf (cpu_key [1], sizeof cpu_key [1], "chain_relay_cpu_us");
            snprintf (cpu_label [0], sizeof cpu_label [0], "raw chain store CPU/decl");
            snprintf (cpu_label [1], sizeof cpu_label [1], "raw chain relay CPU/decl");
        }
        else {
            const char *suffix = key + strlen ("decl_per_s");
            for (int i = 0; i < 2; i++) {
                snprintf (cpu_key [i], sizeof cpu_key [i], "%s_cpu_us%s", i ? "pub" : "agg", suffix);
                snprintf (cpu_label [i], sizeof cpu_label [i], "%s CPU/decl%s", names [i], suffix);
            }
        }
        report_record (self, cpu_key [0], cpu_label [0], "us", agg_cpu);
        report_record (self, cpu_key [1], cpu_label [1], "us", pub_cpu);
        printf ("  %-40s %10.0f decl/s  (%zu in %.3f s; CPU us/decl: %s %.1f, "
                "%s %.1f, bench %.1f)\n", label, per_s, count,
                (double) drive.elapsed_ns / 1e9, names [0], agg_cpu, names [1], pub_cpu, own_cpu);
        fflush (stdout);
        if (traffic)
            s_add_traffic (traffic, &drive.traffic);
    }
    batch_free (&batch);
    return rc;
}

//  Latency at a fixed offered rate
static int
s_latency (bench_t *self, pipeline_t *pipeline, const synthetic_t *election,
           double rate, const char *prefix, const char *label)
{
    //  --quick: half as long at 10,000/s (5,000 declarations still put 5
    //  behind a p99.9), to keep the CI smoke run near a minute with the
    //  raw chain's runs beside ours
    double seconds = self->options.latency_s;
    if (self->options.quick && rate > 1000)
        seconds /= 2;
    size_t count = (size_t) (rate * seconds);
    if (count < 100)
        count = 100;
    batch_t batch;
    if (s_batch (self, pipeline, election, count, &batch))
        return -1;
    int64_t *latency = calloc (count, sizeof (int64_t));
    int64_t *ack_latency = calloc (count, sizeof (int64_t));
    //  The window still applies, as in every drive: sends it holds back
    //  are counted (rate not offered).
    drive_t drive = { .batch = &batch, .rate = rate, .window = self->options.window,
                        .latency_ns = latency, .ack_latency_ns = ack_latency };
    int rc = latency && ack_latency ? drive_run (pipeline, &drive) : -1;
    if (rc == 0) {
        qsort (latency, count, sizeof (int64_t), report_cmp_i64);
        char key [48], text [96];
        double p50 = report_percentile (latency, count, 0.50) / 1e3;
        double p99 = report_percentile (latency, count, 0.99) / 1e3;
        double p999 = report_percentile (latency, count, 0.999) / 1e3;
        double achieved = (double) count / ((double) drive.elapsed_ns / 1e9);
        snprintf (key, sizeof key, "%s_p50_us", prefix);
        snprintf (text, sizeof text, "%s p50", label);
        report_record (self, key, text, "us", p50);
        snprintf (key, sizeof key, "%s_p99_us", prefix);
        snprintf (text, sizeof text, "%s p99", label);
        report_record (self, key, text, "us", p99);
        snprintf (key, sizeof key, "%s_p999_us", prefix);
        snprintf (text, sizeof text, "%s p99.9", label);
        report_record (self, key, text, "us", p999);
        printf ("  %-40s p50 %8.1f  p99 %8.1f  p99.9 %8.1f us  (%zu at %.0f/s%s)\n",
                label, p50, p99, p999, count, achieved,
                drive.held ? "; the window held sends back: rate not sustained" : "");
        //  Send to ack: what a count centre waits for
        qsort (ack_latency, count, sizeof (int64_t), report_cmp_i64);
        double ack_p50 = report_percentile (ack_latency, count, 0.50) / 1e3;
        double ack_p99 = report_percentile (ack_latency, count, 0.99) / 1e3;
        snprintf (key, sizeof key, "%s_ack_p50_us", prefix);
        snprintf (text, sizeof text, "%s, ack p50", label);
        report_record (self, key, text, "us", ack_p50);
        snprintf (key, sizeof key, "%s_ack_p99_us", prefix);
        snprintf (text, sizeof text, "%s, ack p99", label);
        report_record (self, key, text, "us", ack_p99);
        printf ("  %-40s p50 %8.1f  p99 %8.1f us (send to ack)\n", "", ack_p50, ack_p99);
        fflush (stdout);
    }
    free (latency);
    free (ack_latency);
    batch_free (&batch);
    return rc;
}

//  A late joiner: the project's Clone client on the publisher, from
//  nothing to a full state (snapshot received and every Update decoded)
typedef struct {
    size_t updates;
} s_joiner_t;

//  Decodes each update, as a subscriber holding the state must
static void
s_joiner_update (void *arg, const char *topic, const update_head_t *head,
                 const void *bytes, size_t size, bool live)
{
    Election__Update *update = election__update__unpack (NULL, size, bytes);
    if (update) {
        ((s_joiner_t *) arg)->updates++;
        election__update__free_unpacked (update, NULL);
    }
}

static int
s_snapshot (bench_t *self, pipeline_t *pipeline, const char *key, const char *label,
            size_t *topics)
{
    static const clone_handlers_t handlers = { NULL, s_joiner_update, NULL, NULL };
    s_joiner_t joiner = { 0 };
    int64_t start = bench_now_ns ();
    clone_client_t *client = clone_client_new (self->ctx, pipeline->updates, pipeline->snapshot,
                                               NULL, 0, &handlers, &joiner);
    if (!client)
        return -1;
    int rc = -1;
    while (!clone_client_synced (client)) {
        if (signals_interrupted () || bench_now_ns () - start > BENCH_STALL_NS) {
            fprintf (stderr, "bench: no snapshot from the publisher of %s\n", pipeline->name);
            goto cleanup;
        }
        zmq_pollitem_t item = { clone_client_socket (client), 0, ZMQ_POLLIN, 0 };
        long wait = clone_client_timeout_ms (client);
        if (zmq_poll (&item, 1, wait < 0 || wait > 1000 ? 1000 : wait) < 0 && errno != EINTR)
            goto cleanup;
        if (clone_client_handle (client, item.revents & ZMQ_POLLIN))
            goto cleanup;
    }
    double ms = (double) (bench_now_ns () - start) / 1e6;
    report_record (self, key, label, "ms", ms);
    *topics = joiner.updates;
    printf ("  %-40s %10.1f ms  (%zu topics)\n", label, ms, joiner.updates);
    fflush (stdout);
    rc = 0;
cleanup:
    clone_client_destroy (&client);
    return rc;
}

static int
s_record_rss (bench_t *self, pipeline_t *pipeline, const char *key, const char *label)
{
    long kb = children_rss_kb (pipeline->aggregator);
    if (kb < 0)
        return -1;
    report_record (self, key, label, "kB", (double) kb);
    printf ("  %-40s %10ld kB\n", label, kb);
    return 0;
}

//  One pipeline of the small election, with or without the journal:
//  throughput, then latency at 1,000/s and 10,000/s; left running. With the
//  journal, the raw chain (*chain, started once the first repetition has
//  counted the traffic to give it) runs each figure right after ours, so
//  that both see the same moment of a shared machine.
static int
s_small_run (bench_t *self, pipeline_t *pipeline, synthetic_t *election,
             const char *baseline, bool journal, pipeline_t *chain)
{
    bench_options_t *options = &self->options;
    const char *suffix = journal ? "" : "_nojournal";
    const char *how = journal ? "journal" : "no journal";
    char key [64], label [96], key_10k [64], label_10k [96];
    printf ("== %zu seats, %zu candidates: %s\n", options->seats, options->candidates,
            journal ? "journal + fsync, and the raw durable chain" : "no journal");
    fflush (stdout);
    uint32_t probe = 1;
    if (pipeline_start (self, pipeline, journal ? "small-journal" : "small-nojournal", baseline,
                        journal, false, synthetic_probe, election, &probe))
        return -1;
    pipeline->next_revision = probe + 1;
    snprintf (key, sizeof key, "decl_per_s%s", suffix);
    snprintf (label, sizeof label, "acked decl/s, %s", journal ? "journal+fsync" : "no journal");
    size_t count = options->seats * options->revisions;
    for (int rep = 0; rep < options->reps; rep++) {
        if (s_throughput (self, pipeline, election, count, key, label, chain ? &self->traffic : NULL))
            return -1;
        if (chain && !chain->aggregator && chain_start (self, chain))
            return -1;
        if (chain && s_throughput (self, chain, NULL, count, "chain_msg_per_s", "raw chain decl/s", NULL))
            return -1;
    }
    if (chain)
        report_record (self, "chain_updates_per_decl", "updates per declaration", "",
                       (double) self->traffic.updates / (double) self->traffic.declarations);
    snprintf (key, sizeof key, "lat_1k%s", suffix);
    snprintf (label, sizeof label, "latency @1,000/s %s", how);
    snprintf (key_10k, sizeof key_10k, "lat_10k%s", suffix);
    snprintf (label_10k, sizeof label_10k, "latency @10,000/s %s", how);
    for (int rep = 0; rep < options->reps; rep++)
        if (s_latency (self, pipeline, election, 1000, key, label)
        ||  (chain && s_latency (self, chain, NULL, 1000, "chain_lat_1k", "latency @1,000/s raw chain"))
        ||  s_latency (self, pipeline, election, 10000, key_10k, label_10k)
        ||  (chain && s_latency (self, chain, NULL, 10000, "chain_lat_10k", "latency @10,000/s raw chain")))
            return -1;
    return 0;
}

//  The small election: throughput with and without the journal, and of the
//  raw durable chain; latency at fixed rates (all three); snapshot, memory
int
measure_small (bench_t *self, size_t *snapshot_topics)
{
    bench_options_t *options = &self->options;
    char baseline [PATH_MAX];
    snprintf (baseline, sizeof baseline, "%s/baseline-%zu.csv", self->tmp_dir, options->seats);
    char *ids = synthetic_ons_ids (options->seats);
    synthetic_t election = { ids, options->seats, options->candidates };
    pipeline_t durable = { 0 }, volatile_ = { 0 }, chain = { 0 };
    int rc = -1;
    if (!ids || synthetic_write_baseline (baseline, options->seats, options->candidates))
        goto cleanup;
    if (s_small_run (self, &durable, &election, baseline, true, &chain))
        goto cleanup;
    pipeline_stop (self, &chain);
    if (s_small_run (self, &volatile_, &election, baseline, false, NULL))
        goto cleanup;
    pipeline_stop (self, &durable);
    for (int rep = 0; rep < options->reps; rep++)
        if (s_snapshot (self, &volatile_, "snapshot_small_ms", "late-joiner snapshot, small", snapshot_topics))
            goto cleanup;
    if (s_record_rss (self, &volatile_, "rss_kb_small", "aggregator RSS, small"))
        goto cleanup;
    rc = 0;
cleanup:
    pipeline_stop (self, &chain);
    pipeline_stop (self, &durable);
    pipeline_stop (self, &volatile_);
    if (!options->keep)
        unlink (baseline);
    free (ids);
    return rc;
}

//  The large election: every seat declared (a wave), then revised (a
//  second wave in full runs); snapshot and memory once all are declared
int
measure_large (bench_t *self, size_t *snapshot_topics)
{
    bench_options_t *options = &self->options;
    char baseline [PATH_MAX];
    snprintf (baseline, sizeof baseline, "%s/baseline-%zu.csv", self->tmp_dir, options->large_seats);
    char *ids = synthetic_ons_ids (options->large_seats);
    synthetic_t election = { ids, options->large_seats, options->candidates };
    pipeline_t pipeline = { 0 };
    int rc = -1;
    printf ("== %zu seats, %zu candidates: no journal\n", options->large_seats, options->candidates);
    fflush (stdout);
    int64_t t0 = bench_now_ns ();
    if (!ids || synthetic_write_baseline (baseline, options->large_seats, options->candidates))
        goto cleanup;
    int64_t t1 = bench_now_ns ();
    uint32_t probe = 1;
    if (pipeline_start (self, &pipeline, "large-nojournal", baseline, false, false,
                        synthetic_probe, &election, &probe))
        goto cleanup;
    printf ("  baseline written in %.1f s, pipeline ready in %.1f s\n",
            (double) (t1 - t0) / 1e9, (double) (bench_now_ns () - t1) / 1e9);
    pipeline.next_revision = probe + 1;
    //  First declarations of every seat (so that the state is full size),
    //  then the measured repetitions: revisions scattered over all seats
    if (s_throughput (self, &pipeline, &election, options->large_seats,
                      "decl_per_s_large_first", "acked decl/s, large, first declarations", NULL))
        goto cleanup;
    for (int rep = 0; rep < options->reps; rep++)
        if (s_throughput (self, &pipeline, &election, options->large_decls,
                          "decl_per_s_large", "acked decl/s, large, revisions", NULL))
            goto cleanup;
    for (int rep = 0; rep < options->reps; rep++)
        if (s_snapshot (self, &pipeline, "snapshot_large_ms", "late-joiner snapshot, large", snapshot_topics))
            goto cleanup;
    if (s_record_rss (self, &pipeline, "rss_kb_large", "aggregator RSS, large"))
        goto cleanup;
    rc = 0;
cleanup:
    pipeline_stop (self, &pipeline);
    if (!options->keep)
        unlink (baseline);
    free (ids);
    return rc;
}

//  The 2017 night: a fresh aggregator on the 2015 baseline per repetition,
//  journal on, all 650 declarations at once; first send to the national
//  summary saying 650 declared
typedef struct {
    results_t *results;
} s_night_t;

static batch_t *
s_night_probe (void *arg, uint32_t revision)
{
    s_night_t *night = arg;
    batch_t *batch = malloc (sizeof *batch);
    if (!batch || revision != 1 || batch_init (batch, 1)
    ||  batch_seat (batch, &night->results->seats [0], true)) {
        free (batch);
        return NULL;
    }
    return batch;
}

int
measure_night (bench_t *self)
{
    char path [PATH_MAX], baseline [PATH_MAX], err [512];
    snprintf (path, sizeof path, "%s/ge2017.csv", self->options.data_dir);
    snprintf (baseline, sizeof baseline, "%s/ge2015.csv", self->options.data_dir);
    s_night_t night = { NULL };
    batch_t batch = { 0 };
    if (results_load (path, &night.results, err, sizeof err)) {
        fprintf (stderr, "bench: %s\n", err);
        return -1;
    }
    int rc = -1;
    size_t seats = night.results->n_seats;
    if (batch_init (&batch, seats))
        goto cleanup;
    for (size_t i = 0; i < seats; i++)
        if (batch_seat (&batch, &night.results->seats [i], false))
            goto cleanup;
    printf ("== 2017 night: %zu declarations on the 2015 baseline, journal + fsync\n", seats);
    fflush (stdout);
    for (int rep = 0; rep < self->options.reps; rep++) {
        pipeline_t pipeline;
        uint32_t probe = 1;
        if (pipeline_start (self, &pipeline, "night-2017", baseline, true, false, s_night_probe, &night, &probe))
            goto cleanup;
        drive_t drive = { .batch = &batch, .window = seats, .watch_national = true };
        int failed = drive_run (&pipeline, &drive);
        pipeline_stop (self, &pipeline);
        if (failed)
            goto cleanup;
        if (drive.declared != seats) {
            fprintf (stderr, "bench: the last national summary says %u declared, not %zu\n",
                     drive.declared, seats);
            goto cleanup;
        }
        double s = (double) drive.elapsed_ns / 1e9;
        report_record (self, "night_2017_s", "2017 night at max speed", "s", s);
        printf ("  %-40s %10.4f s  (national: %u of %zu declared)\n", "2017 night at max speed",
                s, drive.declared, seats);
        fflush (stdout);
    }
    rc = 0;
cleanup:
    batch_free (&batch);
    results_destroy (&night.results);
    return rc;
}

//  A pair of aggregators on the small election, its standby a copy: every
//  batch is on both journals before it is acknowledged. Beside the single
//  aggregator's figures (decl_per_s, lat_1k) from measure_small, same run.
int
measure_pair (bench_t *self)
{
    bench_options_t *options = &self->options;
    char baseline [PATH_MAX];
    snprintf (baseline, sizeof baseline, "%s/baseline-pair-%zu.csv", self->tmp_dir, options->seats);
    char *ids = synthetic_ons_ids (options->seats);
    synthetic_t election = { ids, options->seats, options->candidates };
    pipeline_t pipeline = { 0 };
    int rc = -1;
    printf ("== %zu seats, %zu candidates: a pair, journal + fsync on both, the standby a copy\n",
            options->seats, options->candidates);
    fflush (stdout);
    uint32_t probe = 1;
    if (!ids || synthetic_write_baseline (baseline, options->seats, options->candidates)
    ||  pipeline_start (self, &pipeline, "small-pair", baseline, true, true, synthetic_probe,
                        &election, &probe))
        goto cleanup;
    pipeline.next_revision = probe + 1;
    for (int rep = 0; rep < options->reps; rep++)
        if (s_throughput (self, &pipeline, &election, options->seats * options->revisions,
                          "decl_per_s_pair", "acked decl/s, pair (copy on)", NULL))
            goto cleanup;
    for (int rep = 0; rep < options->reps; rep++)
        if (s_latency (self, &pipeline, &election, 1000, "lat_1k_pair", "latency @1,000/s pair"))
            goto cleanup;
    double single = report_median (self, "decl_per_s"), pair = report_median (self, "decl_per_s_pair");
    printf ("  the copy: %.0f decl/s against %.0f alone (x%.2f); ack p99 @1,000/s %.0f us against "
            "%.0f us alone\n", pair, single, single > 0 ? pair / single : 0,
            report_median (self, "lat_1k_pair_ack_p99_us"), report_median (self, "lat_1k_ack_p99_us"));
    fflush (stdout);
    rc = 0;
cleanup:
    pipeline_stop (self, &pipeline);
    if (!options->keep)
        unlink (baseline);
    free (ids);
    return rc;
}
