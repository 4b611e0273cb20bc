/*  bench.h: what the benchmark's files share (it is one program: this
    header is its own, not a library's). The run's options and figures, the
    pipeline under test (an aggregator and a publisher with our sender and
    subscriber on them), batches of declarations packed once and sent many
    times, and each file's functions:
      main.c       the command line, and the order of the run
      children.c   the aggregator and publisher processes, their memory and CPU
      synthetic.c  synthetic elections: baselines, declarations, probes
      batch.c      batches of packed declarations (and of the raw chain's)
      drive.c      starting a pipeline (ours, or the raw chain), driving
                   it, asking it for snapshots
      raw.c        raw libzmq baselines on the same machine
      measure.c    the measurements: small (and the raw chain beside it),
                   large, the 2017 night, a pair
      failover.c   a pair's failover time
      report.c     figures, statistics and the report
    The raw durable chain's two processes are another program, bench-chain
    (chain_node.c; its frames in chain.h).                                 */
#ifndef BENCH_H
#define BENCH_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include "election.pb-c.h"
#include "results_file.h"

#define BENCH_MAX_REPS       16
#define BENCH_MAX_FIGURES    160
#define BENCH_MAX_CHILDREN   6
#define BENCH_STALL_NS       (15LL * 1000000000LL)  /* no progress this long: the run failed */
#define BENCH_START_NS       (120LL * 1000000000LL) /* a 200,000-seat baseline takes a while */
#define BENCH_HEARTBEAT_MS   "100"  /* child heartbeats: readiness shows within 0.1 s */
#define BENCH_ELECTION       "uk-general"
#define BENCH_MAX_CANDIDATES 8

//  Options and the run's state
typedef struct {
    bool quick;
    int reps;
    size_t seats;               /* the small election (a UK night) */
    size_t large_seats;         /* the big one (precinct-level feed) */
    size_t candidates;
    size_t revisions;           /* revisions of every seat per throughput repetition */
    size_t large_decls;         /* declarations per large-election repetition */
    size_t window;              /* declarations in flight at most */
    double latency_s;           /* seconds of offered load per rate and repetition */
    size_t raw_messages;        /* PUSH/PULL messages per repetition */
    size_t raw_round_trips;     /* DEALER/ROUTER round trips per repetition */
    size_t failovers;           /* failover trials */
    const char *bin_dir;
    const char *data_dir;
    const char *tmp_parent;
    bool keep;
} bench_options_t;

//  One measured quantity: a value per repetition
typedef struct {
    char key [48];
    char label [64];
    char unit [12];
    double values [BENCH_MAX_REPS];
    size_t n;
} figure_t;

typedef struct {
    pid_t pid;
    const char *name;
} child_t;

//  What the real pipeline sent for the declarations of durable throughput
//  runs: the raw chain carries as many updates per declaration, and frames
//  of the same mean sizes. Updates are every message but heartbeats.
typedef struct {
    size_t declarations, acks, updates;
    size_t ack_bytes, topic_bytes, update_bytes;    /* totals */
} traffic_t;

typedef struct {
    bench_options_t options;
    char own_dir [PATH_MAX];    /* where bench is, and bench-chain beside it */
    char tmp_dir [1024];
    void *ctx;
    child_t children [BENCH_MAX_CHILDREN];
    figure_t figures [BENCH_MAX_FIGURES];
    size_t n_figures;
    size_t message_bytes;       /* median packed declaration, for the raw runs */
    unsigned pipelines;         /* pipelines started so far (names their files) */
    bool publisher_has_http;    /* its --help offers --http (a gateway to turn off) */
    traffic_t traffic;          /* counted in the durable small throughput runs */
} bench_t;

//  A running aggregator + publisher, with our sender and subscriber on them;
//  or a pair of aggregators (the primary active, the backup its standby);
//  or the raw chain (`chain`): its store in the aggregator's place and its
//  relay in the publisher's
typedef struct {
    char name [32];
    bool chain;                 /* the raw chain: frames of chain.h, not protobuf */
    pid_t aggregator, publisher;
    pid_t backup;               /* a pair's standby; 0: no pair */
    char ingest [64], agg_updates [64], agg_snapshot [64], updates [64], snapshot [64];
    char pair_updates [136], pair_snapshot [136];    /* "A,B" */
    char log_path [PATH_MAX];
    void *dealer;               /* to the aggregator's ingest */
    void *sub;                  /* on the publisher's update stream, everything */
    uint32_t next_revision;     /* synthetic: the next revision free for every seat */
} pipeline_t;

//  Declarations packed once, sent many times
typedef struct {
    uint8_t *arena;
    size_t *offset;
    size_t *size;
    const char **ons_id;        /* borrowed: the seat each one is for */
    size_t n, used, capacity;
} batch_t;

//  What one drive does and what it saw
typedef struct {
    const batch_t *batch;
    double rate;                /* offered per second; 0: as fast as the window allows */
    size_t window;
    bool watch_national;        /* decode national updates for `declared` */
    int64_t *latency_ns;        /* NULL, or batch->n send-to-seat-update times */
    int64_t *ack_latency_ns;    /* NULL, or batch->n send-to-ack times */
    int64_t elapsed_ns;         /* first send to the last ack / update */
    traffic_t traffic;          /* what came back: acks, updates, their sizes */
    size_t held;                /* paced sends the window held back past their time */
    uint32_t declared;          /* from the last national update (watch_national) */
} drive_t;

//  A synthetic election: N seats of K candidates
typedef struct {
    const char *ons_ids;        /* synthetic_ons_ids */
    size_t seats, candidates;
} synthetic_t;

//  Monotonic clock in nanoseconds: every figure is timed with it
static inline int64_t
bench_now_ns (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000000000LL + now.tv_nsec;
}

//  children.c

//  Starts dir/program with argv, stdout and stderr appended to log_path.
//  The child dies with us even if we are killed outright (PDEATHSIG).
pid_t children_spawn (bench_t *self, const char *dir, const char *program, char *const argv [],
                      const char *log_path);

//  True while pid runs; reaps it and forgets it if it has exited
bool children_alive (bench_t *self, pid_t pid);

//  Asks a child to stop (SIGTERM), waits for it on a pidfd for up to 3 s,
//  then kills it; always reaps it. children_stop_all stops every one.
void children_stop (bench_t *self, pid_t *pid_p);
//  kill -9, and reaps it
void children_kill (bench_t *self, pid_t *pid_p);
void children_stop_all (bench_t *self);

//  VmRSS of a process in kB, or -1
long children_rss_kb (pid_t pid);

//  CPU time (user + system) of a process so far, in microseconds, or -1
double children_cpu_us (pid_t pid);

//  n distinct loopback TCP endpoints on ports free right now (each bound to
//  port 0 and released). -1 if there are none.
int children_endpoints (size_t n, char endpoints [][64]);

//  synthetic.c

//  Writes the baseline CSV of a synthetic election
int synthetic_write_baseline (const char *path, size_t seats, size_t candidates);

//  The ons_id strings of a synthetic election (one block, index by seat;
//  caller frees)
char *synthetic_ons_ids (size_t seats);

//  Packs one synthetic declaration into batch: result (or rush) of seat at
//  revision
int synthetic_pack (batch_t *batch, const char *ons_ids, size_t seat, uint32_t revision,
                    size_t candidates, bool rush);

//  A probe for pipeline_start (arg: the synthetic_t): a batch of one rush
//  for seat 0 at revision. Caller frees it (batch_free, then free).
batch_t *synthetic_probe (void *arg, uint32_t revision);

//  `count` declarations going round the seats in a scattered order
//  (a stride coprime with the seat count), each seat's revisions rising
//  from *next_revision; advances *next_revision past what it used.
int synthetic_batch (batch_t *batch, const synthetic_t *election, size_t count,
                     uint32_t *next_revision);

//  batch.c

//  An empty batch with room for about n declarations; -1 on no memory.
//  batch_free frees what it holds (not the batch_t itself).
int batch_init (batch_t *batch, size_t n);
void batch_free (batch_t *batch);

//  Packs decl at the end of the batch; ons_id is borrowed. -1 on no memory.
int batch_add (batch_t *batch, const Election__Declaration *decl, const char *ons_id);

//  Packs a real seat (a results file) as its full declaration, or a rush
int batch_seat (batch_t *batch, const seat_result_t *seat, bool rush);

//  `count` raw chain declarations of `size` bytes (chain.h), indices from
//  first. Together they ask for as many updates as the real pipeline sent
//  for as many declarations (traffic), spread evenly, at least 1 each
//  (every declaration has its seat update). -1 if traffic is empty.
int batch_chain (batch_t *batch, const traffic_t *traffic, size_t size, uint64_t first, size_t count);

//  drive.c

/*  True if a packed seat Update says the seat is declared (the undeclared
    seats the projection republishes are no declaration's update).          */
bool bench_seat_declared (const void *bytes, size_t size);

//  Starts an aggregator on baseline (journal: a fresh file, or none) and a
//  publisher following it; connects our sender and subscriber; and proves
//  the whole path with a probe: a rush for the probe seat whose update the
//  subscriber must receive (a rush is replaced by the full result later).
//  probe_revision is the revision of that rush; a lost probe is sent again
//  one revision higher, and *probe_revision says which one got through.
//  pair: a pair of aggregators instead (journals on), the publisher
//  following both, ready once the primary is active with its standby a copy.
int pipeline_start (bench_t *self, pipeline_t *pipeline, const char *name,
                    const char *baseline, bool journal, bool pair,
                    batch_t *(*make_probe) (void *, uint32_t),
                    void *probe_arg, uint32_t *probe_revision);

//  Starts one aggregator of a pair (role "primary" or "backup") on the
//  ports given ("tcp://127.0.0.1:P"), its journal a fresh file named for
//  it, logging to log_path. Returns its pid or -1.
pid_t pipeline_pair_member (bench_t *self, const char *role, const char *baseline,
                            const char *ingest, const char *updates, const char *snapshot,
                            const char *peer_bind, const char *peer, const char *journal,
                            const char *log_path);

//  Asks the aggregator at endpoint for a snapshot until it says it is
//  active (a pair's), or the deadline passes. 0 when it is.
int pipeline_wait_active (bench_t *self, const char *snapshot, pid_t watch, int64_t deadline);

//  Starts the raw chain (bench-chain store with a fresh file, and relay),
//  its frames of the mean sizes of self->traffic; connects our sender and
//  subscriber and proves the path with a probe as pipeline_start does.
int chain_start (bench_t *self, pipeline_t *pipeline);

//  Stops both children and closes our sockets
void pipeline_stop (bench_t *self, pipeline_t *pipeline);

//  Sends a batch and waits until every declaration is acknowledged as
//  accepted and the subscriber has its seat update and national update
//  (the raw chain: its first and last update).
//  Pacing: at most `window` declarations without both their ack and their
//  seat update, and (rate > 0) declaration k not before first + k / rate.
int drive_run (pipeline_t *pipeline, drive_t *drive);

//  raw.c

//  PUSH/PULL: messages of message_bytes, first send to last receive
int raw_pushpull (bench_t *self);

//  DEALER/ROUTER echo: one message out, wait for it back, repeat
int raw_rtt (bench_t *self);

//  measure.c

//  The small election: throughput with and without the journal, and of the
//  raw durable chain (each repetition right after ours with the journal,
//  carrying the traffic that counted); latency at fixed rates (all three);
//  snapshot, memory
int measure_small (bench_t *self, size_t *snapshot_topics);

//  The large election: every seat declared (a wave), then revised (a
//  second wave in full runs); snapshot and memory once all are declared
int measure_large (bench_t *self, size_t *snapshot_topics);

//  The 2017 night: a fresh aggregator on the 2015 baseline per repetition,
//  the real declarations sent at once
int measure_night (bench_t *self);

//  A pair of aggregators on the small election: throughput and latency
//  (send to ack, and to seat update) with every batch copied to the
//  standby, beside the single aggregator's figures of measure_small
int measure_pair (bench_t *self);

//  failover.c

//  A pair's failover time, over `failovers` trials: the 2017 night flowing
//  from a real `ingest --to A,B`, the active killed -9, timed from the kill
//  to the first declaration the new active publishes (it publishes what it
//  has acknowledged). Median and max.
int failover_measure (bench_t *self);

//  report.c

//  Adds a repetition's value to the figure `key` (made on first use)
void report_record (bench_t *self, const char *key, const char *label, const char *unit, double value);

//  The figure `key`, or NULL
const figure_t *report_figure (const bench_t *self, const char *key);

//  The median of figure `key` over its repetitions (0 if none)
double report_median (const bench_t *self, const char *key);

//  For qsort of int64_t; then the nearest-rank percentile of sorted values
int report_cmp_i64 (const void *a, const void *b);
int64_t report_percentile (const int64_t *sorted, size_t n, double p);

//  Prints the table (min / median / max, ratio to raw) and the JSON line
void report_print (bench_t *self, size_t small_topics, size_t large_topics);

#endif
