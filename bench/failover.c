/*  failover.c: see bench.h. How long a pair of aggregators takes to fail
    over: the 2017 night flows from the real `ingest --to A,B` (its
    declarations spread over half a minute), the active is killed -9 once a
    second of it has been published, and the clock runs from the kill to the
    first seat the new active publishes. The new active publishes a
    declaration once it has acknowledged it, so that is death to the first
    accepted declaration on the new active, as a count centre sees it.       */
#include "bench.h"
#include "net.h"
#include "signals.h"
#include "update_head.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#define S_NIGHT_S       30      /* the night's declarations, spread over this long */
#define S_BEFORE_KILL   20      /* seats published by the first active before the kill */
#define S_LIMIT_NS      (20LL * 1000000000LL)

//  A declaration-times file: the 2017 seats, spread evenly over S_NIGHT_S
static int
s_write_times (const bench_t *self, const char *path)
{
    char results_path [PATH_MAX], err [512];
    snprintf (results_path, sizeof results_path, "%s/ge2017.csv", self->options.data_dir);
    results_t *results = NULL;
    if (results_load (results_path, &results, err, sizeof err)) {
        fprintf (stderr, "bench: %s\n", err);
        return -1;
    }
    FILE *file = fopen (path, "w");
    if (file) {
        fprintf (file, "ons_id,declared_at\n");
        time_t start = 1496959200;          //  2017-06-08T22:00:00Z
        for (size_t i = 0; i < results->n_seats; i++) {
            long ms = (long) (S_NIGHT_S * 1000.0 * (double) i / (double) results->n_seats);
            time_t at = start + ms / 1000;
            struct tm tm;
            gmtime_r (&at, &tm);
            char when [32];
            strftime (when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
            fprintf (file, "%s,%s.%03ldZ\n", results->seats [i].ons_id, when, ms % 1000);
        }
    }
    results_destroy (&results);
    return file && fclose (file) == 0 ? 0 : -1;
}

//  Reads what the SUB has; counts seats of epoch `epoch` (0: any, and sets
//  it from the first), and returns true once a seat of another epoch comes
static bool
s_watch (void *sub, uint64_t *epoch, size_t *seats)
{
    bool other = false;
    while (!other) {
        zmq_msg_t frames [3];
        size_t count;
        if (net_recv_frames (sub, frames, 3, &count, ZMQ_DONTWAIT))
            break;
        update_head_t head;
        if (count == 2 && zmq_msg_size (&frames [0]) > 5
        &&  memcmp (zmq_msg_data (&frames [0]), "seat.", 5) == 0
        &&  bench_seat_declared (zmq_msg_data (&frames [1]), zmq_msg_size (&frames [1]))
        &&  update_head_peek (zmq_msg_data (&frames [1]), zmq_msg_size (&frames [1]), &head)) {
            if (!*epoch)
                *epoch = head.epoch;
            if (head.epoch == *epoch)
                (*seats)++;
            else
                other = true;
        }
        net_frames_close (frames, count < 3 ? count : 3);
    }
    return other;
}

//  One trial: returns the failover time in ms, or -1
static double
s_trial (bench_t *self, int trial, const char *times)
{
    char endpoints [2][4][64], journal [2][PATH_MAX], log_path [PATH_MAX], free_endpoints [8][64];
    if (children_endpoints (8, free_endpoints))
        return -1;
    for (int node = 0; node < 2; node++) {
        for (int i = 0; i < 4; i++)
            memcpy (endpoints [node][i], free_endpoints [node * 4 + i], 64);
        snprintf (journal [node], sizeof journal [node], "%s/failover-%02d-%s.journal",
                  self->tmp_dir, trial, node ? "backup" : "primary");
    }
    snprintf (log_path, sizeof log_path, "%s/failover-%02d.log", self->tmp_dir, trial);
    char baseline [PATH_MAX], results [PATH_MAX], to [140];
    snprintf (baseline, sizeof baseline, "%s/ge2015.csv", self->options.data_dir);
    snprintf (results, sizeof results, "%s/ge2017.csv", self->options.data_dir);
    snprintf (to, sizeof to, "%s,%s", endpoints [0][0], endpoints [1][0]);
    double ms = -1;
    void *sub = NULL;
    pid_t ingest = 0;
    pid_t primary = pipeline_pair_member (self, "primary", baseline, endpoints [0][0], endpoints [0][1],
        endpoints [0][2], endpoints [0][3], endpoints [1][3], journal [0], log_path);
    pid_t backup = pipeline_pair_member (self, "backup", baseline, endpoints [1][0], endpoints [1][1],
        endpoints [1][2], endpoints [1][3], endpoints [0][3], journal [1], log_path);
    int64_t deadline = bench_now_ns () + BENCH_START_NS;
    if (primary < 0 || backup < 0
    ||  pipeline_wait_active (self, endpoints [0][2], primary, deadline))
        goto cleanup;
    sub = net_socket (self->ctx, ZMQ_SUB, NULL, false);
    if (!sub || zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "seat.", 5)
    ||  net_attach (sub, endpoints [0][1], false) || net_attach (sub, endpoints [1][1], false))
        goto cleanup;
    char *argv [] = { "ingest", "replay", results, "--times", (char *) times, "--speed", "1",
                      "--to", to, "--give-up", "60", "--quiet", NULL };
    ingest = children_spawn (self, self->options.bin_dir, "ingest", argv, log_path);
    if (ingest < 0)
        goto cleanup;
    uint64_t epoch = 0;
    size_t seats = 0;
    int64_t limit = bench_now_ns () + S_LIMIT_NS;
    while (seats < S_BEFORE_KILL && bench_now_ns () < limit && !signals_interrupted ()) {
        zmq_pollitem_t item = { sub, 0, ZMQ_POLLIN, 0 };
        zmq_poll (&item, 1, 100);
        s_watch (sub, &epoch, &seats);
    }
    if (seats < S_BEFORE_KILL) {
        fprintf (stderr, "bench: failover trial %d: the night did not get going (see %s)\n",
                 trial, log_path);
        goto cleanup;
    }
    children_kill (self, &primary);
    int64_t killed = bench_now_ns ();
    bool over = false;
    while (!over && bench_now_ns () < killed + S_LIMIT_NS && !signals_interrupted ()) {
        zmq_pollitem_t item = { sub, 0, ZMQ_POLLIN, 0 };
        zmq_poll (&item, 1, 100);
        over = s_watch (sub, &epoch, &seats);
    }
    if (over)
        ms = (double) (bench_now_ns () - killed) / 1e6;
    else
        fprintf (stderr, "bench: failover trial %d: no seat from the backup within %lld s (see %s)\n",
                 trial, S_LIMIT_NS / 1000000000LL, log_path);
cleanup:
    if (sub)
        zmq_close (sub);
    children_stop (self, &ingest);
    children_stop (self, &primary);
    children_stop (self, &backup);
    return ms;
}

int
failover_measure (bench_t *self)
{
    size_t trials = self->options.failovers;
    char times [PATH_MAX];
    snprintf (times, sizeof times, "%s/failover-times.csv", self->tmp_dir);
    printf ("== a pair's failover: the active killed -9 mid-night, %zu trials "
            "(kill to the first seat the new active publishes)\n", trials);
    fflush (stdout);
    double *ms = calloc (trials ? trials : 1, sizeof *ms);
    int rc = -1;
    if (!ms || s_write_times (self, times))
        goto cleanup;
    printf ("  ms:");
    for (size_t i = 0; i < trials; i++) {
        ms [i] = s_trial (self, (int) i, times);
        if (ms [i] < 0)
            goto cleanup;
        printf (" %.0f", ms [i]);
        fflush (stdout);
    }
    printf ("\n");
    //  Sorted, for the median and the max
    for (size_t i = 1; i < trials; i++)
        for (size_t j = i; j > 0 && ms [j - 1] > ms [j]; j--) {
            double swap = ms [j];
            ms [j] = ms [j - 1];
            ms [j - 1] = swap;
        }
    double median = trials % 2 ? ms [trials / 2] : (ms [trials / 2 - 1] + ms [trials / 2]) / 2;
    report_record (self, "failover_median_ms", "pair failover, median", "ms", median);
    report_record (self, "failover_max_ms", "pair failover, max", "ms", ms [trials - 1]);
    printf ("  %-40s median %.0f ms, max %.0f ms over %zu trials\n", "pair failover", median,
            ms [trials - 1], trials);
    fflush (stdout);
    rc = 0;
cleanup:
    free (ms);
    return rc;
}
