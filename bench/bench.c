/*  bench: throughput, latency and scaling of the real pipeline, side by side
    with raw libzmq on the same machine, in the same run (issue 6).

    It starts the aggregator and publisher binaries that sit next to its own
    executable, on fresh loopback ports, waits until they answer, and drives
    them with synthetic elections (N seats of K candidates, revision after
    revision) through one DEALER (every declaration acknowledged) and one
    SUB on the publisher (every update received). Raw PUSH/PULL throughput
    and DEALER/ROUTER round trips with the same message size are measured
    first, so each figure is also printed as a ratio to raw. The last line of
    output is one JSON object with every figure (keys in BENCHMARKS.md).

    Ordering is what lets it match updates to declarations without decoding:
    one DEALER, one aggregator thread and one PUB chain keep the order, so the
    k-th seat update received belongs to the k-th declaration sent; a seat
    topic out of that order is reported as an error, never guessed at.      */
#include "cli.h"
#include "declaration.h"
#include "log.h"
#include "results_file.h"
#include "clone_client.h"
#include "clock.h"
#include "net.h"
#include "signals.h"
#include "update_head.h"
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define S_MAX_REPS       16
#define S_MAX_FIGURES    96
#define S_MAX_CHILDREN   4
#define S_STALL_NS       (15LL * 1000000000LL)  /* no progress this long: the run failed */
#define S_START_NS       (120LL * 1000000000LL) /* a 200,000-seat baseline takes a while */
#define S_HEARTBEAT_MS   "100"  /* child heartbeats: readiness shows within 0.1 s */
#define S_ELECTION       "uk-general"
#define S_MAX_CANDIDATES 8

//  -------------------------------------------------------------------------
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
    const char *bin_dir;
    const char *data_dir;
    const char *tmp_parent;
    bool keep;
} s_options_t;

//  One measured quantity: a value per repetition
typedef struct {
    char key [48];
    char label [64];
    char unit [12];
    double values [S_MAX_REPS];
    size_t n;
} s_figure_t;

typedef struct {
    pid_t pid;
    const char *name;
} s_child_t;

typedef struct {
    s_options_t options;
    char tmp_dir [1024];
    void *ctx;
    s_child_t children [S_MAX_CHILDREN];
    s_figure_t figures [S_MAX_FIGURES];
    size_t n_figures;
    size_t message_bytes;       /* median packed declaration, for the raw runs */
    unsigned pipelines;         /* pipelines started so far (names their files) */
    bool publisher_has_http;    /* its --help offers --http (a gateway to turn off) */
} s_bench_t;

//  A running aggregator + publisher, with our sender and subscriber on them
typedef struct {
    char name [32];
    pid_t aggregator, publisher;
    char ingest [64], agg_updates [64], agg_snapshot [64], updates [64], snapshot [64];
    char log_path [PATH_MAX];
    void *dealer;               /* to the aggregator's ingest */
    void *sub;                  /* on the publisher's update stream, everything */
    uint32_t next_revision;     /* synthetic: the next revision free for every seat */
} s_pipeline_t;

//  Declarations packed once, sent many times
typedef struct {
    uint8_t *arena;
    size_t *offset;
    size_t *size;
    const char **ons_id;        /* borrowed: the seat each one is for */
    size_t n, used, capacity;
} s_batch_t;

//  What one drive does and what it saw
typedef struct {
    const s_batch_t *batch;
    double rate;                /* offered per second; 0: as fast as the window allows */
    size_t window;
    bool watch_national;        /* decode national updates for `declared` */
    int64_t *latency_ns;        /* NULL, or batch->n send-to-seat-update times */
    int64_t elapsed_ns;         /* first send to the last ack / update */
    size_t held;                /* paced sends the window held back past their time */
    uint32_t declared;          /* from the last national update (watch_national) */
} s_drive_t;

static const char *s_countries [] = { "England", "Scotland", "Wales", "Northern Ireland" };
static const struct { const char *name; int country; } s_regions [] = {
    { "North East", 0 }, { "North West", 0 }, { "Yorkshire and The Humber", 0 },
    { "East Midlands", 0 }, { "West Midlands", 0 }, { "East", 0 }, { "London", 0 },
    { "South East", 0 }, { "South West", 0 }, { "Scotland", 1 }, { "Wales", 2 },
    { "Northern Ireland", 3 }
};
#define S_REGIONS (sizeof s_regions / sizeof s_regions [0])
static const char *s_parties [S_MAX_CANDIDATES] = { "Con", "Lab", "LD", "Grn", "Ref", "Ind", "SNP", "PC" };

//  -------------------------------------------------------------------------
//  Clock and statistics

static int64_t
s_now_ns (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000000000LL + now.tv_nsec;
}

static int
s_cmp_double (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

static int
s_cmp_i64 (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return (x > y) - (x < y);
}

//  Nearest-rank percentile of sorted values
static int64_t
s_percentile (const int64_t *sorted, size_t n, double p)
{
    if (!n)
        return 0;
    size_t rank = (size_t) ceil (p * (double) n);
    return sorted [rank ? rank - 1 : 0];
}

static void
s_record (s_bench_t *self, const char *key, const char *label, const char *unit, double value)
{
    s_figure_t *figure = NULL;
    for (size_t i = 0; i < self->n_figures && !figure; i++)
        if (strcmp (self->figures [i].key, key) == 0)
            figure = &self->figures [i];
    if (!figure) {
        if (self->n_figures == S_MAX_FIGURES)
            return;
        figure = &self->figures [self->n_figures++];
        snprintf (figure->key, sizeof figure->key, "%s", key);
        snprintf (figure->label, sizeof figure->label, "%s", label);
        snprintf (figure->unit, sizeof figure->unit, "%s", unit);
    }
    if (figure->n < S_MAX_REPS)
        figure->values [figure->n++] = value;
}

static const s_figure_t *
s_figure (const s_bench_t *self, const char *key)
{
    for (size_t i = 0; i < self->n_figures; i++)
        if (strcmp (self->figures [i].key, key) == 0)
            return &self->figures [i];
    return NULL;
}

//  min, median, max of a figure (0 if never measured)
static void
s_stats (const s_figure_t *figure, double *min, double *median, double *max)
{
    *min = *median = *max = 0;
    if (!figure || !figure->n)
        return;
    double sorted [S_MAX_REPS];
    memcpy (sorted, figure->values, figure->n * sizeof (double));
    qsort (sorted, figure->n, sizeof (double), s_cmp_double);
    *min = sorted [0];
    *max = sorted [figure->n - 1];
    *median = figure->n % 2 ? sorted [figure->n / 2]
                            : (sorted [figure->n / 2 - 1] + sorted [figure->n / 2]) / 2;
}

static double
s_median (const s_bench_t *self, const char *key)
{
    double min, median, max;
    s_stats (s_figure (self, key), &min, &median, &max);
    return median;
}

//  -------------------------------------------------------------------------
//  Child processes

//  Starts bin_dir/program with argv, stdout and stderr appended to log_path.
//  The child dies with us even if we are killed outright (PDEATHSIG).
static pid_t
s_spawn (s_bench_t *self, const char *program, char *const argv [], const char *log_path)
{
    char path [PATH_MAX];
    snprintf (path, sizeof path, "%s/%s", self->options.bin_dir, program);
    if (access (path, X_OK)) {
        fprintf (stderr, "bench: cannot run %s: %s (build the aggregator and publisher first)\n",
                 path, strerror (errno));
        return -1;
    }
    size_t slot = 0;
    while (slot < S_MAX_CHILDREN && self->children [slot].pid)
        slot++;
    if (slot == S_MAX_CHILDREN) {
        fprintf (stderr, "bench: too many children\n");
        return -1;
    }
    pid_t parent = getpid ();
    fflush (NULL);
    pid_t pid = fork ();
    if (pid < 0) {
        fprintf (stderr, "bench: fork: %s\n", strerror (errno));
        return -1;
    }
    if (pid == 0) {
        prctl (PR_SET_PDEATHSIG, SIGKILL);
        if (getppid () != parent)
            _exit (127);
        int fd = open (log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2 (fd, STDOUT_FILENO);
            dup2 (fd, STDERR_FILENO);
            close (fd);
        }
        execv (path, argv);
        fprintf (stderr, "bench: exec %s: %s\n", path, strerror (errno));
        _exit (127);
    }
    self->children [slot] = (s_child_t) { pid, program };
    return pid;
}

//  True while pid runs; reaps it and forgets it if it has exited
static bool
s_alive (s_bench_t *self, pid_t pid)
{
    int status;
    if (pid <= 0)
        return false;
    if (waitpid (pid, &status, WNOHANG) == 0)
        return true;
    for (size_t i = 0; i < S_MAX_CHILDREN; i++)
        if (self->children [i].pid == pid) {
            if (WIFEXITED (status) || WIFSIGNALED (status))
                fprintf (stderr, "bench: %s (pid %d) exited early (%s %d)\n",
                         self->children [i].name, (int) pid,
                         WIFEXITED (status) ? "status" : "signal",
                         WIFEXITED (status) ? WEXITSTATUS (status) : WTERMSIG (status));
            self->children [i].pid = 0;
        }
    return false;
}

//  Asks a child to stop (SIGTERM), waits for it on a pidfd for up to 3 s,
//  then kills it; always reaps it.
static void
s_stop (s_bench_t *self, pid_t *pid_p)
{
    pid_t pid = *pid_p;
    *pid_p = 0;
    if (pid <= 0)
        return;
    size_t slot = S_MAX_CHILDREN;
    for (size_t i = 0; i < S_MAX_CHILDREN; i++)
        if (self->children [i].pid == pid)
            slot = i;
    if (slot == S_MAX_CHILDREN)
        return;         //  already reaped
    int pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
    kill (pid, SIGTERM);
    bool exited = false;
    if (pidfd >= 0) {
        zmq_pollitem_t item = { NULL, pidfd, ZMQ_POLLIN, 0 };
        int64_t deadline = s_now_ns () + 3000000000LL;
        while (!exited && s_now_ns () < deadline) {
            if (zmq_poll (&item, 1, (long) ((deadline - s_now_ns ()) / 1000000 + 1)) > 0)
                exited = true;
        }
        close (pidfd);
    }
    if (!exited)
        kill (pid, SIGKILL);
    waitpid (pid, NULL, 0);
    self->children [slot].pid = 0;
}

static void
s_stop_all (s_bench_t *self)
{
    for (size_t i = 0; i < S_MAX_CHILDREN; i++)
        if (self->children [i].pid) {
            pid_t pid = self->children [i].pid;
            s_stop (self, &pid);
        }
}

//  VmRSS of a process in kB, or -1
static long
s_rss_kb (pid_t pid)
{
    char path [64], line [256];
    snprintf (path, sizeof path, "/proc/%d/status", (int) pid);
    FILE *file = fopen (path, "r");
    long kb = -1;
    if (!file)
        return -1;
    while (fgets (line, sizeof line, file))
        if (strncmp (line, "VmRSS:", 6) == 0) {
            char *end;
            long value = strtol (line + 6, &end, 10);
            if (end != line + 6 && value >= 0)
                kb = value;
            break;
        }
    fclose (file);
    return kb;
}

//  CPU time (user + system) of a process so far, in microseconds, or -1
static double
s_cpu_us (pid_t pid)
{
    char path [64], line [1024];
    snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
    FILE *file = fopen (path, "r");
    if (!file)
        return -1;
    char *text = fgets (line, sizeof line, file);
    fclose (file);
    //  Fields after the command (which may hold spaces) start past the last ')'
    char *rest = text ? strrchr (line, ')') : NULL;
    unsigned long long utime, stime;
    if (!rest || sscanf (rest + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
                         &utime, &stime) != 2)
        return -1;
    return (double) (utime + stime) * 1e6 / (double) sysconf (_SC_CLK_TCK);
}

//  A loopback TCP port free right now (bound to port 0 and released)
static int
s_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = 0,
                                .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    socklen_t len = sizeof addr;
    int port = -1;
    if (bind (fd, (struct sockaddr *) &addr, sizeof addr) == 0
    &&  getsockname (fd, (struct sockaddr *) &addr, &len) == 0)
        port = ntohs (addr.sin_port);
    close (fd);
    return port;
}

//  -------------------------------------------------------------------------
//  Synthetic elections

static uint64_t
s_mix (uint64_t x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

static void
s_ons_id (size_t seat, char *buf, size_t size)
{
    snprintf (buf, size, "S%07u", (unsigned) ((seat + 1) % 100000000));
}

//  Votes of every candidate of a seat at a revision (0: the baseline).
//  Distinct top so that no tie needs an elected flag.
static void
s_votes (size_t seat, uint32_t revision, size_t candidates, uint32_t *votes)
{
    uint32_t cap = 60000 / (uint32_t) candidates;
    size_t top = 0;
    for (size_t c = 0; c < candidates; c++) {
        votes [c] = 100 + (uint32_t) (s_mix ((seat << 24) ^ ((uint64_t) revision << 8) ^ c) % cap);
        if (votes [c] > votes [top])
            top = c;
    }
    for (size_t c = 0; c < candidates; c++)
        if (c != top && votes [c] == votes [top])
            votes [top]++;
}

static uint32_t
s_electorate (size_t seat)
{
    return 70000 + (uint32_t) (s_mix (seat) % 20000);
}

//  Writes the baseline CSV of a synthetic election
static int
s_write_baseline (const char *path, size_t seats, size_t candidates)
{
    FILE *file = fopen (path, "w");
    if (!file) {
        fprintf (stderr, "bench: cannot write %s: %s\n", path, strerror (errno));
        return -1;
    }
    fprintf (file, "ons_id,constituency,country,region,electorate,candidate,party,votes\n");
    for (size_t seat = 0; seat < seats; seat++) {
        char ons_id [16];
        s_ons_id (seat, ons_id, sizeof ons_id);
        uint32_t votes [S_MAX_CANDIDATES];
        s_votes (seat, 0, candidates, votes);
        size_t region = seat % S_REGIONS;
        for (size_t c = 0; c < candidates; c++)
            fprintf (file, "%s,Seat %zu,%s,%s,%u,Candidate %zu,%s,%u\n", ons_id, seat + 1,
                     s_countries [s_regions [region].country], s_regions [region].name,
                     s_electorate (seat), c + 1, s_parties [(seat + c) % S_MAX_CANDIDATES],
                     votes [c]);
    }
    if (fclose (file)) {
        fprintf (stderr, "bench: cannot write %s\n", path);
        return -1;
    }
    return 0;
}

static void
s_batch_free (s_batch_t *batch)
{
    free (batch->arena);
    free (batch->offset);
    free (batch->size);
    free (batch->ons_id);
    memset (batch, 0, sizeof *batch);
}

static int
s_batch_init (s_batch_t *batch, size_t n)
{
    memset (batch, 0, sizeof *batch);
    batch->offset = malloc (n * sizeof (size_t));
    batch->size = malloc (n * sizeof (size_t));
    batch->ons_id = malloc (n * sizeof (char *));
    batch->capacity = n * 160 + 4096;
    batch->arena = malloc (batch->capacity);
    if (!batch->offset || !batch->size || !batch->ons_id || !batch->arena) {
        s_batch_free (batch);
        return -1;
    }
    return 0;
}

static int
s_batch_add (s_batch_t *batch, const Election__Declaration *decl, const char *ons_id)
{
    size_t size = election__declaration__get_packed_size (decl);
    if (batch->used + size > batch->capacity) {
        size_t capacity = (batch->used + size) * 2;
        uint8_t *arena = realloc (batch->arena, capacity);
        if (!arena)
            return -1;
        batch->arena = arena;
        batch->capacity = capacity;
    }
    election__declaration__pack (decl, batch->arena + batch->used);
    batch->offset [batch->n] = batch->used;
    batch->size [batch->n] = size;
    batch->ons_id [batch->n] = ons_id;
    batch->used += size;
    batch->n++;
    return 0;
}

//  The ons_id strings of a synthetic election (one block, index by seat)
static char *
s_ons_ids (size_t seats)
{
    char *ids = malloc (seats * 16);
    for (size_t seat = 0; ids && seat < seats; seat++)
        s_ons_id (seat, ids + seat * 16, 16);
    return ids;
}

//  Packs one synthetic declaration: result (or rush) of seat at revision
static int
s_batch_synthetic (s_batch_t *batch, const char *ons_ids, size_t seat, uint32_t revision,
                   size_t candidates, bool rush)
{
    const char *ons_id = ons_ids + seat * 16;
    uint32_t votes [S_MAX_CANDIDATES];
    s_votes (seat, revision, candidates, votes);
    static const char *names [S_MAX_CANDIDATES] = { "Candidate 1", "Candidate 2", "Candidate 3",
        "Candidate 4", "Candidate 5", "Candidate 6", "Candidate 7", "Candidate 8" };
    Election__Candidate cands [S_MAX_CANDIDATES];
    Election__Candidate *pointers [S_MAX_CANDIDATES];
    size_t n = 0;
    for (size_t c = 0; c < candidates; c++) {
        if (rush && c > 0)
            break;
        election__candidate__init (&cands [n]);
        cands [n].name = (char *) names [c];
        cands [n].party = (char *) s_parties [(seat + c) % S_MAX_CANDIDATES];
        cands [n].has_votes = true;
        cands [n].votes = rush ? 0 : votes [c];
        pointers [n] = &cands [n];
        n++;
    }
    Election__Declaration decl = ELECTION__DECLARATION__INIT;
    decl.election_id = S_ELECTION;
    decl.ons_id = (char *) ons_id;
    decl.has_revision = true;
    decl.revision = revision;
    decl.has_electorate = true;
    decl.electorate = s_electorate (seat);
    decl.n_candidates = n;
    decl.candidates = pointers;
    decl.has_declared_at_ms = true;
    decl.declared_at_ms = clock_now_us () / 1000;
    decl.source_id = "bench";
    decl.has_mode = true;
    decl.mode = ELECTION__MODE__MODE_REHEARSAL;
    decl.has_kind = true;
    decl.kind = rush ? ELECTION__DECLARATION_KIND__KIND_RUSH : ELECTION__DECLARATION_KIND__KIND_RESULT;
    decl.has_reason = true;
    decl.reason = revision > 1 ? ELECTION__REVISION_REASON__REASON_CORRECTION
                               : ELECTION__REVISION_REASON__REASON_NONE;
    decl.has_request_id = true;
    decl.request_id = batch->n + 1;
    return s_batch_add (batch, &decl, ons_id);
}

//  Packs a real seat (a results file) as its full declaration, or a rush
static int
s_batch_seat (s_batch_t *batch, const seat_result_t *seat, bool rush)
{
    size_t n = seat->n_candidates;
    Election__Candidate cands [n ? n : 1];
    Election__Candidate *pointers [n ? n : 1];
    declaration_opts_t opts = {
        S_ELECTION, "bench", ELECTION__MODE__MODE_REHEARSAL, 1,
        rush ? ELECTION__DECLARATION_KIND__KIND_RUSH : ELECTION__DECLARATION_KIND__KIND_RESULT,
        ELECTION__REVISION_REASON__REASON_NONE, clock_now_us () / 1000
    };
    Election__Declaration decl;
    declaration_from_seat (seat, &opts, &decl, cands, pointers);
    decl.has_request_id = true;
    decl.request_id = batch->n + 1;
    return s_batch_add (batch, &decl, seat->ons_id);
}

//  -------------------------------------------------------------------------
//  Driving the pipeline

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
static int
s_drive (s_pipeline_t *pipeline, s_drive_t *drive)
{
    const s_batch_t *batch = drive->batch;
    size_t n = batch->n, sent = 0, acked = 0, seats = 0, nationals = 0;
    int64_t *send_ns = malloc ((n ? n : 1) * sizeof (int64_t));
    int timer = drive->rate > 0 ? timerfd_create (CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC) : -1;
    int rc = -1;
    if (!send_ns || (drive->rate > 0 && timer < 0)) {
        fprintf (stderr, "bench: out of memory or timers\n");
        goto cleanup;
    }
    int64_t start = s_now_ns (), last_event = start, last_progress = start;
    size_t held_at = SIZE_MAX;
    double interval_ns = drive->rate > 0 ? 1e9 / drive->rate : 0;
    while (acked < n || seats < n || nationals < n) {
        if (signals_interrupted ())
            goto cleanup;
        int64_t now = s_now_ns ();
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
            now = s_now_ns ();
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
            acked++;
            last_event = s_now_ns ();
        }
        for (int i = 0; i < 4096 && (items [1].revents & ZMQ_POLLIN); i++) {
            zmq_msg_t topic, body;
            int got = s_sub_read (pipeline->sub, &topic, &body);
            if (got <= 0) {
                if (got < 0)
                    goto cleanup;
                break;
            }
            int64_t at = s_now_ns ();
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
            last_progress = s_now_ns ();
        else
        if (s_now_ns () - last_progress > S_STALL_NS) {
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
s_ask_snapshot (s_bench_t *self, const char *endpoint, const char *prefix, pid_t watch,
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
    while (!signals_interrupted () && s_now_ns () < deadline && s_alive (self, watch)) {
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

static void
s_pipeline_stop (s_bench_t *self, s_pipeline_t *pipeline)
{
    if (pipeline->dealer)
        zmq_close (pipeline->dealer);
    if (pipeline->sub)
        zmq_close (pipeline->sub);
    pipeline->dealer = pipeline->sub = NULL;
    s_stop (self, &pipeline->publisher);
    s_stop (self, &pipeline->aggregator);
}

//  Waits until the subscriber hears a publisher heartbeat saying its
//  upstream is live: the publisher has its snapshot and we are connected
static int
s_wait_publisher (s_bench_t *self, s_pipeline_t *pipeline, int64_t deadline)
{
    while (!signals_interrupted () && s_now_ns () < deadline) {
        if (!s_alive (self, pipeline->aggregator) || !s_alive (self, pipeline->publisher))
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
                    && update->heartbeat->upstream_ok;
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
static int
s_pipeline_start (s_bench_t *self, s_pipeline_t *pipeline, const char *name,
                  const char *baseline, bool journal, s_batch_t *(*make_probe) (void *, uint32_t),
                  void *probe_arg, uint32_t *probe_revision)
{
    memset (pipeline, 0, sizeof *pipeline);
    snprintf (pipeline->name, sizeof pipeline->name, "%s", name);
    unsigned id = ++self->pipelines;
    int ports [5];
    for (int i = 0; i < 5; i++) {
        ports [i] = s_free_port ();
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
        "--snapshot", pipeline->agg_snapshot, "--heartbeat-ms", S_HEARTBEAT_MS, "--quiet" };
    if (journal) {
        agg_argv [12] = "--journal";
        agg_argv [13] = journal_path;
    }
    char *pub_argv [16] = { "publisher", "--upstream-updates", pipeline->agg_updates,
        "--upstream-snapshot", pipeline->agg_snapshot, "--updates", pipeline->updates,
        "--snapshot", pipeline->snapshot, "--heartbeat-ms", S_HEARTBEAT_MS, "--quiet", NULL };
    //  A publisher with an HTTP gateway would take a fixed port: none here
    if (self->publisher_has_http) {
        pub_argv [12] = "--http";
        pub_argv [13] = "0";
    }
    int64_t deadline = s_now_ns () + S_START_NS;
    Election__Snapshot *header = NULL;

    pipeline->aggregator = s_spawn (self, "aggregator", agg_argv, pipeline->log_path);
    if (pipeline->aggregator < 0)
        goto failed;
    //  Ready = answers a snapshot request (asking for a small part only)
    if (s_ask_snapshot (self, pipeline->agg_snapshot, "national", pipeline->aggregator,
                        deadline, &header))
        goto failed;
    election__snapshot__free_unpacked (header, NULL);
    pipeline->publisher = s_spawn (self, "publisher", pub_argv, pipeline->log_path);
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
        if (signals_interrupted () || s_now_ns () > deadline || revision > *probe_revision + 20)
            goto failed;
        s_batch_t *probe = make_probe (probe_arg, revision);
        if (!probe)
            goto failed;
        //  A probe lost downstream is acknowledged but never seen: give up
        //  on it after a second and send the next one. Seen means its seat
        //  update and then its national update (published last) arrived.
        void *sub = pipeline->sub;
        int64_t probe_deadline = s_now_ns () + 1000000000LL;
        bool seen = false, national = false, acked = false;
        zmq_send (pipeline->dealer, probe->arena, probe->size [0], 0);
        while (!(acked && national) && s_now_ns () < probe_deadline && !signals_interrupted ()) {
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
                        s_batch_free (probe);
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
        s_batch_free (probe);
        free (probe);
        if (national && acked) {
            *probe_revision = revision;
            break;
        }
    }
    return 0;
failed:
    fprintf (stderr, "bench: pipeline %s did not start (logs: %s)\n", name, pipeline->log_path);
    s_pipeline_stop (self, pipeline);
    return -1;
}

//  -------------------------------------------------------------------------
//  The synthetic election as a probe source and as batches

typedef struct {
    const char *ons_ids;
    size_t seats, candidates;
} s_synthetic_t;

static s_batch_t *
s_synthetic_probe (void *arg, uint32_t revision)
{
    s_synthetic_t *election = arg;
    s_batch_t *batch = malloc (sizeof *batch);
    if (!batch || s_batch_init (batch, 1)
    ||  s_batch_synthetic (batch, election->ons_ids, 0, revision, election->candidates, true)) {
        free (batch);
        return NULL;
    }
    return batch;
}

//  `count` declarations going round the seats in a scattered order
//  (a stride coprime with the seat count), each seat's revisions rising
//  from *next_revision; advances *next_revision past what it used.
static int
s_synthetic_batch (s_batch_t *batch, const s_synthetic_t *election, size_t count,
                   uint32_t *next_revision)
{
    size_t seats = election->seats;
    size_t stride = 7919;       //  prime: coprime with any seat count it does not divide
    while (seats % stride == 0)
        stride += 2;
    if (s_batch_init (batch, count))
        return -1;
    for (size_t i = 0; i < count; i++) {
        size_t seat = (size_t) (((uint64_t) (i % seats) * stride) % seats);
        uint32_t revision = *next_revision + (uint32_t) (i / seats);
        if (s_batch_synthetic (batch, election->ons_ids, seat, revision, election->candidates, false)) {
            s_batch_free (batch);
            return -1;
        }
    }
    *next_revision += (uint32_t) ((count + seats - 1) / seats);
    return 0;
}

//  -------------------------------------------------------------------------
//  Raw libzmq baselines

typedef struct {
    void *ctx;
    char endpoint [64];
    size_t messages;
    size_t size;
    int ready [2];              /* a pipe: the receiver has bound */
} s_raw_t;

static void *
s_pull_thread (void *arg)
{
    s_raw_t *raw = arg;
    void *pull = zmq_socket (raw->ctx, ZMQ_PULL);
    char *buffer = malloc (raw->size + 1);
    size_t len = sizeof raw->endpoint;
    bool ok = pull && buffer && zmq_bind (pull, "tcp://127.0.0.1:*") == 0
           && zmq_getsockopt (pull, ZMQ_LAST_ENDPOINT, raw->endpoint, &len) == 0;
    char byte = ok ? 1 : 0;
    if (write (raw->ready [1], &byte, 1) != 1)
        ok = false;
    for (size_t i = 0; ok && i < raw->messages; i++)
        if (zmq_recv (pull, buffer, raw->size + 1, 0) < 0)
            break;
    free (buffer);
    if (pull)
        zmq_close (pull);
    return NULL;
}

static void *
s_echo_thread (void *arg)
{
    s_raw_t *raw = arg;
    void *router = zmq_socket (raw->ctx, ZMQ_ROUTER);
    size_t len = sizeof raw->endpoint;
    bool ok = router && zmq_bind (router, "tcp://127.0.0.1:*") == 0
           && zmq_getsockopt (router, ZMQ_LAST_ENDPOINT, raw->endpoint, &len) == 0;
    char byte = ok ? 1 : 0;
    if (write (raw->ready [1], &byte, 1) != 1)
        ok = false;
    for (size_t i = 0; ok && i < raw->messages; i++) {
        zmq_msg_t identity, body;
        zmq_msg_init (&identity);
        zmq_msg_init (&body);
        if (zmq_msg_recv (&identity, router, 0) < 0 || zmq_msg_recv (&body, router, 0) < 0
        ||  zmq_msg_send (&identity, router, ZMQ_SNDMORE) < 0 || zmq_msg_send (&body, router, 0) < 0)
            ok = false;
        zmq_msg_close (&identity);
        zmq_msg_close (&body);
    }
    if (router)
        zmq_close (router);
    return NULL;
}

//  Starts the receiving thread (own context, as if another process) and
//  connects `type` to it. Returns the socket, or NULL.
static void *
s_raw_start (s_bench_t *self, s_raw_t *raw, pthread_t *thread, void *(*body) (void *), int type)
{
    raw->ctx = zmq_ctx_new ();
    if (!raw->ctx || pipe (raw->ready))
        return NULL;
    if (pthread_create (thread, NULL, body, raw)) {
        close (raw->ready [0]);
        close (raw->ready [1]);
        return NULL;
    }
    char byte = 0;
    if (read (raw->ready [0], &byte, 1) != 1)
        byte = 0;
    close (raw->ready [0]);
    close (raw->ready [1]);
    void *socket = byte ? zmq_socket (self->ctx, type) : NULL;
    if (socket && zmq_connect (socket, raw->endpoint)) {
        zmq_close (socket);
        socket = NULL;
    }
    return socket;
}

//  PUSH/PULL: messages of message_bytes, first send to last receive
static int
s_raw_pushpull (s_bench_t *self)
{
    s_raw_t raw = { .messages = self->options.raw_messages, .size = self->message_bytes };
    pthread_t thread;
    void *push = s_raw_start (self, &raw, &thread, s_pull_thread, ZMQ_PUSH);
    if (!push) {
        fprintf (stderr, "bench: raw PUSH/PULL setup failed\n");
        return -1;      //  the thread, if any, is left blocked: we exit anyway
    }
    char *buffer = calloc (1, raw.size);
    //  One message first so that the connection is up before the clock starts
    int64_t start = s_now_ns ();
    for (size_t i = 0; buffer && i < raw.messages; i++) {
        if (i == 1)
            start = s_now_ns ();
        if (zmq_send (push, buffer, raw.size, 0) < 0)
            break;
    }
    pthread_join (thread, NULL);
    double elapsed = (double) (s_now_ns () - start) / 1e9;
    free (buffer);
    zmq_close (push);
    zmq_ctx_term (raw.ctx);
    s_record (self, "raw_pushpull_msg_per_s", "raw PUSH/PULL throughput", "msg/s",
              (double) (raw.messages - 1) / elapsed);
    return 0;
}

//  DEALER/ROUTER echo: one message out, wait for it back, repeat
static int
s_raw_rtt (s_bench_t *self)
{
    s_raw_t raw = { .messages = self->options.raw_round_trips + 100, .size = self->message_bytes };
    pthread_t thread;
    void *dealer = s_raw_start (self, &raw, &thread, s_echo_thread, ZMQ_DEALER);
    if (!dealer) {
        fprintf (stderr, "bench: raw DEALER/ROUTER setup failed\n");
        return -1;
    }
    char *buffer = calloc (1, raw.size + 1);
    int64_t *rtt = calloc (raw.messages, sizeof (int64_t));
    size_t n = 0;
    for (size_t i = 0; buffer && rtt && i < raw.messages; i++) {
        int64_t t0 = s_now_ns ();
        if (zmq_send (dealer, buffer, raw.size, 0) < 0 || zmq_recv (dealer, buffer, raw.size + 1, 0) < 0)
            break;
        if (i >= 100)           //  the first hundred warm the path up
            rtt [n++] = s_now_ns () - t0;
    }
    pthread_join (thread, NULL);
    zmq_close (dealer);
    zmq_ctx_term (raw.ctx);
    qsort (rtt, n, sizeof (int64_t), s_cmp_i64);
    s_record (self, "raw_rtt_p50_us", "raw DEALER/ROUTER RTT p50", "us", s_percentile (rtt, n, 0.50) / 1e3);
    s_record (self, "raw_rtt_p99_us", "raw DEALER/ROUTER RTT p99", "us", s_percentile (rtt, n, 0.99) / 1e3);
    s_record (self, "raw_rtt_p999_us", "raw DEALER/ROUTER RTT p99.9", "us", s_percentile (rtt, n, 0.999) / 1e3);
    free (buffer);
    free (rtt);
    return n ? 0 : -1;
}

//  -------------------------------------------------------------------------
//  The measurements

//  Throughput: `count` declarations going round the seats, max speed
static int
s_throughput (s_bench_t *self, s_pipeline_t *pipeline, const s_synthetic_t *election,
              size_t count, const char *key, const char *label)
{
    s_batch_t batch;
    if (s_synthetic_batch (&batch, election, count, &pipeline->next_revision))
        return -1;
    s_drive_t drive = { .batch = &batch, .window = self->options.window };
    double agg_cpu = s_cpu_us (pipeline->aggregator), pub_cpu = s_cpu_us (pipeline->publisher);
    double own_cpu = s_cpu_us (getpid ());
    int rc = s_drive (pipeline, &drive);
    if (rc == 0) {
        double per_s = (double) count / ((double) drive.elapsed_ns / 1e9);
        s_record (self, key, label, "decl/s", per_s);
        agg_cpu = (s_cpu_us (pipeline->aggregator) - agg_cpu) / (double) count;
        pub_cpu = (s_cpu_us (pipeline->publisher) - pub_cpu) / (double) count;
        own_cpu = (s_cpu_us (getpid ()) - own_cpu) / (double) count;
        //  CPU per declaration: decl_per_s_X -> agg_cpu_us_X, pub_cpu_us_X
        char cpu_key [64], cpu_label [96];
        const char *suffix = key + strlen ("decl_per_s");
        snprintf (cpu_key, sizeof cpu_key, "agg_cpu_us%s", suffix);
        snprintf (cpu_label, sizeof cpu_label, "aggregator CPU/decl%s", suffix);
        s_record (self, cpu_key, cpu_label, "us", agg_cpu);
        snprintf (cpu_key, sizeof cpu_key, "pub_cpu_us%s", suffix);
        snprintf (cpu_label, sizeof cpu_label, "publisher CPU/decl%s", suffix);
        s_record (self, cpu_key, cpu_label, "us", pub_cpu);
        printf ("  %-40s %10.0f decl/s  (%zu in %.3f s; CPU us/decl: aggregator %.1f, "
                "publisher %.1f, bench %.1f)\n", label, per_s, count,
                (double) drive.elapsed_ns / 1e9, agg_cpu, pub_cpu, own_cpu);
        fflush (stdout);
    }
    s_batch_free (&batch);
    return rc;
}

//  Latency at a fixed offered rate
static int
s_latency (s_bench_t *self, s_pipeline_t *pipeline, const s_synthetic_t *election,
           double rate, const char *prefix, const char *label)
{
    size_t count = (size_t) (rate * self->options.latency_s);
    if (count < 100)
        count = 100;
    s_batch_t batch;
    if (s_synthetic_batch (&batch, election, count, &pipeline->next_revision))
        return -1;
    int64_t *latency = calloc (count, sizeof (int64_t));
    //  The window still applies, as in every drive: sends it holds back
    //  are counted (rate not offered).
    s_drive_t drive = { .batch = &batch, .rate = rate, .window = self->options.window,
                        .latency_ns = latency };
    int rc = latency ? s_drive (pipeline, &drive) : -1;
    if (rc == 0) {
        qsort (latency, count, sizeof (int64_t), s_cmp_i64);
        char key [48], text [96];
        double p50 = s_percentile (latency, count, 0.50) / 1e3;
        double p99 = s_percentile (latency, count, 0.99) / 1e3;
        double p999 = s_percentile (latency, count, 0.999) / 1e3;
        double achieved = (double) count / ((double) drive.elapsed_ns / 1e9);
        snprintf (key, sizeof key, "%s_p50_us", prefix);
        snprintf (text, sizeof text, "%s p50", label);
        s_record (self, key, text, "us", p50);
        snprintf (key, sizeof key, "%s_p99_us", prefix);
        snprintf (text, sizeof text, "%s p99", label);
        s_record (self, key, text, "us", p99);
        snprintf (key, sizeof key, "%s_p999_us", prefix);
        snprintf (text, sizeof text, "%s p99.9", label);
        s_record (self, key, text, "us", p999);
        printf ("  %-40s p50 %8.1f  p99 %8.1f  p99.9 %8.1f us  (%zu at %.0f/s%s)\n",
                label, p50, p99, p999, count, achieved,
                drive.held ? "; the window held sends back: rate not sustained" : "");
        fflush (stdout);
    }
    free (latency);
    s_batch_free (&batch);
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
s_snapshot (s_bench_t *self, s_pipeline_t *pipeline, const char *key, const char *label,
            size_t *topics)
{
    static const clone_handlers_t handlers = { NULL, s_joiner_update, NULL, NULL };
    s_joiner_t joiner = { 0 };
    int64_t start = s_now_ns ();
    clone_client_t *client = clone_client_new (self->ctx, pipeline->updates, pipeline->snapshot,
                                               NULL, 0, &handlers, &joiner);
    if (!client)
        return -1;
    int rc = -1;
    while (!clone_client_synced (client)) {
        if (signals_interrupted () || s_now_ns () - start > S_STALL_NS) {
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
    double ms = (double) (s_now_ns () - start) / 1e6;
    s_record (self, key, label, "ms", ms);
    *topics = joiner.updates;
    printf ("  %-40s %10.1f ms  (%zu topics)\n", label, ms, joiner.updates);
    fflush (stdout);
    rc = 0;
cleanup:
    clone_client_destroy (&client);
    return rc;
}

static int
s_record_rss (s_bench_t *self, s_pipeline_t *pipeline, const char *key, const char *label)
{
    long kb = s_rss_kb (pipeline->aggregator);
    if (kb < 0)
        return -1;
    s_record (self, key, label, "kB", (double) kb);
    printf ("  %-40s %10ld kB\n", label, kb);
    return 0;
}

//  One pipeline of the small election, with or without the journal:
//  throughput, then latency at 1,000/s and 10,000/s; left running
static int
s_small_run (s_bench_t *self, s_pipeline_t *pipeline, s_synthetic_t *election,
             const char *baseline, bool journal)
{
    s_options_t *options = &self->options;
    const char *suffix = journal ? "" : "_nojournal";
    const char *how = journal ? "journal" : "no journal";
    char key [64], label [96], key_10k [64], label_10k [96];
    printf ("== %zu seats, %zu candidates: %s\n", options->seats, options->candidates,
            journal ? "journal + fsync" : "no journal");
    fflush (stdout);
    uint32_t probe = 1;
    if (s_pipeline_start (self, pipeline, journal ? "small-journal" : "small-nojournal", baseline,
                          journal, s_synthetic_probe, election, &probe))
        return -1;
    pipeline->next_revision = probe + 1;
    snprintf (key, sizeof key, "decl_per_s%s", suffix);
    snprintf (label, sizeof label, "acked decl/s, %s", journal ? "journal+fsync" : "no journal");
    for (int rep = 0; rep < options->reps; rep++)
        if (s_throughput (self, pipeline, election, options->seats * options->revisions, key, label))
            return -1;
    snprintf (key, sizeof key, "lat_1k%s", suffix);
    snprintf (label, sizeof label, "latency @1,000/s %s", how);
    snprintf (key_10k, sizeof key_10k, "lat_10k%s", suffix);
    snprintf (label_10k, sizeof label_10k, "latency @10,000/s %s", how);
    for (int rep = 0; rep < options->reps; rep++)
        if (s_latency (self, pipeline, election, 1000, key, label)
        ||  s_latency (self, pipeline, election, 10000, key_10k, label_10k))
            return -1;
    return 0;
}

//  The small election: throughput with and without the journal, latency
//  at fixed rates (both ways), snapshot, memory
static int
s_small (s_bench_t *self, size_t *snapshot_topics)
{
    s_options_t *options = &self->options;
    char baseline [PATH_MAX];
    snprintf (baseline, sizeof baseline, "%s/baseline-%zu.csv", self->tmp_dir, options->seats);
    char *ids = s_ons_ids (options->seats);
    s_synthetic_t election = { ids, options->seats, options->candidates };
    s_pipeline_t durable = { 0 }, volatile_ = { 0 };
    int rc = -1;
    if (!ids || s_write_baseline (baseline, options->seats, options->candidates))
        goto cleanup;
    if (s_small_run (self, &durable, &election, baseline, true)
    ||  s_small_run (self, &volatile_, &election, baseline, false))
        goto cleanup;
    s_pipeline_stop (self, &durable);
    for (int rep = 0; rep < options->reps; rep++)
        if (s_snapshot (self, &volatile_, "snapshot_small_ms", "late-joiner snapshot, small", snapshot_topics))
            goto cleanup;
    if (s_record_rss (self, &volatile_, "rss_kb_small", "aggregator RSS, small"))
        goto cleanup;
    rc = 0;
cleanup:
    s_pipeline_stop (self, &durable);
    s_pipeline_stop (self, &volatile_);
    if (!options->keep)
        unlink (baseline);
    free (ids);
    return rc;
}

//  The large election: every seat declared (a wave), then revised (a
//  second wave in full runs); snapshot and memory once all are declared
static int
s_large (s_bench_t *self, size_t *snapshot_topics)
{
    s_options_t *options = &self->options;
    char baseline [PATH_MAX];
    snprintf (baseline, sizeof baseline, "%s/baseline-%zu.csv", self->tmp_dir, options->large_seats);
    char *ids = s_ons_ids (options->large_seats);
    s_synthetic_t election = { ids, options->large_seats, options->candidates };
    s_pipeline_t pipeline = { 0 };
    int rc = -1;
    printf ("== %zu seats, %zu candidates: no journal\n", options->large_seats, options->candidates);
    fflush (stdout);
    int64_t t0 = s_now_ns ();
    if (!ids || s_write_baseline (baseline, options->large_seats, options->candidates))
        goto cleanup;
    int64_t t1 = s_now_ns ();
    uint32_t probe = 1;
    if (s_pipeline_start (self, &pipeline, "large-nojournal", baseline, false,
                          s_synthetic_probe, &election, &probe))
        goto cleanup;
    printf ("  baseline written in %.1f s, pipeline ready in %.1f s\n",
            (double) (t1 - t0) / 1e9, (double) (s_now_ns () - t1) / 1e9);
    pipeline.next_revision = probe + 1;
    //  First declarations of every seat (so that the state is full size),
    //  then the measured repetitions: revisions scattered over all seats
    if (s_throughput (self, &pipeline, &election, options->large_seats,
                      "decl_per_s_large_first", "acked decl/s, large, first declarations"))
        goto cleanup;
    for (int rep = 0; rep < options->reps; rep++)
        if (s_throughput (self, &pipeline, &election, options->large_decls,
                          "decl_per_s_large", "acked decl/s, large, revisions"))
            goto cleanup;
    for (int rep = 0; rep < options->reps; rep++)
        if (s_snapshot (self, &pipeline, "snapshot_large_ms", "late-joiner snapshot, large", snapshot_topics))
            goto cleanup;
    if (s_record_rss (self, &pipeline, "rss_kb_large", "aggregator RSS, large"))
        goto cleanup;
    rc = 0;
cleanup:
    s_pipeline_stop (self, &pipeline);
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

static s_batch_t *
s_night_probe (void *arg, uint32_t revision)
{
    s_night_t *night = arg;
    s_batch_t *batch = malloc (sizeof *batch);
    if (!batch || revision != 1 || s_batch_init (batch, 1)
    ||  s_batch_seat (batch, &night->results->seats [0], true)) {
        free (batch);
        return NULL;
    }
    return batch;
}

static int
s_night (s_bench_t *self)
{
    char path [PATH_MAX], baseline [PATH_MAX], err [512];
    snprintf (path, sizeof path, "%s/ge2017.csv", self->options.data_dir);
    snprintf (baseline, sizeof baseline, "%s/ge2015.csv", self->options.data_dir);
    s_night_t night = { NULL };
    s_batch_t batch = { 0 };
    if (results_load (path, &night.results, err, sizeof err)) {
        fprintf (stderr, "bench: %s\n", err);
        return -1;
    }
    int rc = -1;
    size_t seats = night.results->n_seats;
    if (s_batch_init (&batch, seats))
        goto cleanup;
    for (size_t i = 0; i < seats; i++)
        if (s_batch_seat (&batch, &night.results->seats [i], false))
            goto cleanup;
    printf ("== 2017 night: %zu declarations on the 2015 baseline, journal + fsync\n", seats);
    fflush (stdout);
    for (int rep = 0; rep < self->options.reps; rep++) {
        s_pipeline_t pipeline;
        uint32_t probe = 1;
        if (s_pipeline_start (self, &pipeline, "night-2017", baseline, true, s_night_probe, &night, &probe))
            goto cleanup;
        s_drive_t drive = { .batch = &batch, .window = seats, .watch_national = true };
        int failed = s_drive (&pipeline, &drive);
        s_pipeline_stop (self, &pipeline);
        if (failed)
            goto cleanup;
        if (drive.declared != seats) {
            fprintf (stderr, "bench: the last national summary says %u declared, not %zu\n",
                     drive.declared, seats);
            goto cleanup;
        }
        double s = (double) drive.elapsed_ns / 1e9;
        s_record (self, "night_2017_s", "2017 night at max speed", "s", s);
        printf ("  %-40s %10.4f s  (national: %u of %zu declared)\n", "2017 night at max speed",
                s, drive.declared, seats);
        fflush (stdout);
    }
    rc = 0;
cleanup:
    s_batch_free (&batch);
    results_destroy (&night.results);
    return rc;
}

//  -------------------------------------------------------------------------
//  Report

//  Prints one table row with min / median / max and the ratio to raw
static void
s_row (const s_bench_t *self, const char *key, double raw, const char *raw_what)
{
    const s_figure_t *figure = s_figure (self, key);
    if (!figure)
        return;
    double min, median, max;
    s_stats (figure, &min, &median, &max);
    char ratio [48] = "";
    if (raw > 0)
        snprintf (ratio, sizeof ratio, "%8.3f x %s", median / raw, raw_what);
    printf ("%-36s %12.2f %12.2f %12.2f %-7s %s\n", figure->label, min, median, max, figure->unit, ratio);
}

static void
s_report (s_bench_t *self, size_t small_topics, size_t large_topics)
{
    const s_options_t *options = &self->options;
    double raw_rate = s_median (self, "raw_pushpull_msg_per_s");
    double raw_p50 = s_median (self, "raw_rtt_p50_us");
    double raw_p99 = s_median (self, "raw_rtt_p99_us");
    double raw_p999 = s_median (self, "raw_rtt_p999_us");
    double raw_cost_us = raw_rate > 0 ? 1e6 / raw_rate : 0;
    double cost_small = s_median (self, "decl_per_s_nojournal") > 0
                      ? 1e6 / s_median (self, "decl_per_s_nojournal") : 0;
    //  Per-repetition costs of the small run, so the figure has a spread too
    const s_figure_t *nojournal = s_figure (self, "decl_per_s_nojournal");
    for (size_t i = 0; nojournal && i < nojournal->n; i++)
        s_record (self, "cost_small_us", "per-declaration cost, small", "us", 1e6 / nojournal->values [i]);
    const s_figure_t *large = s_figure (self, "decl_per_s_large");
    for (size_t i = 0; large && i < large->n; i++)
        s_record (self, "cost_large_us", "per-declaration cost, large", "us", 1e6 / large->values [i]);
    const s_figure_t *first = s_figure (self, "decl_per_s_large_first");
    for (size_t i = 0; first && i < first->n; i++)
        s_record (self, "cost_large_first_us", "per-decl cost, large, first decls", "us", 1e6 / first->values [i]);
    double cost_large = s_median (self, "cost_large_us");
    double scaling = cost_small > 0 ? cost_large / cost_small : 0;
    double rss_small = s_median (self, "rss_kb_small"), rss_large = s_median (self, "rss_kb_large");
    double per_seat = options->large_seats > options->seats
                    ? (rss_large - rss_small) * 1024 / (double) (options->large_seats - options->seats) : 0;

    printf ("\n%-36s %12s %12s %12s %-7s %s\n", "figure", "min", "median", "max", "unit", "ratio to raw (median)");
    s_row (self, "raw_pushpull_msg_per_s", 0, "");
    s_row (self, "raw_rtt_p50_us", 0, "");
    s_row (self, "raw_rtt_p99_us", 0, "");
    s_row (self, "raw_rtt_p999_us", 0, "");
    s_row (self, "decl_per_s", raw_rate, "raw msg/s");
    s_row (self, "decl_per_s_nojournal", raw_rate, "raw msg/s");
    s_row (self, "decl_per_s_large", raw_rate, "raw msg/s");
    s_row (self, "decl_per_s_large_first", raw_rate, "raw msg/s");
    static const char *latencies [] = { "lat_1k", "lat_10k", "lat_1k_nojournal", "lat_10k_nojournal" };
    for (size_t i = 0; i < 4; i++) {
        char key [48];
        snprintf (key, sizeof key, "%s_p50_us", latencies [i]);
        s_row (self, key, raw_p50, "raw RTT p50");
        snprintf (key, sizeof key, "%s_p99_us", latencies [i]);
        s_row (self, key, raw_p99, "raw RTT p99");
        snprintf (key, sizeof key, "%s_p999_us", latencies [i]);
        s_row (self, key, raw_p999, "raw RTT p99.9");
    }
    s_row (self, "cost_small_us", raw_cost_us, "raw us/msg");
    s_row (self, "cost_large_us", raw_cost_us, "raw us/msg");
    s_row (self, "cost_large_first_us", raw_cost_us, "raw us/msg");
    //  A snapshot against raw PUSH/PULL moving the same number of frames
    s_row (self, "snapshot_small_ms", raw_rate > 0 ? 2e3 * (double) small_topics / raw_rate : 0, "raw frames");
    s_row (self, "snapshot_large_ms", raw_rate > 0 ? 2e3 * (double) large_topics / raw_rate : 0, "raw frames");
    static const char *cpus [] = { "agg_cpu_us", "pub_cpu_us", "agg_cpu_us_nojournal", "pub_cpu_us_nojournal",
        "agg_cpu_us_large", "pub_cpu_us_large", "agg_cpu_us_large_first", "pub_cpu_us_large_first" };
    for (size_t i = 0; i < sizeof cpus / sizeof cpus [0]; i++)
        s_row (self, cpus [i], raw_cost_us, "raw us/msg");
    s_row (self, "rss_kb_small", 0, "");
    s_row (self, "rss_kb_large", 0, "");
    double night = s_median (self, "night_2017_s");
    s_row (self, "night_2017_s", raw_rate > 0 ? 650.0 / raw_rate : 0, "raw 650 msgs");
    printf ("%-36s %12s %12.3f\n", "scaling ratio (large/small cost)", "", scaling);
    printf ("%-36s %12s %12.3f\n", "scaling ratio, aggregator CPU", "",
            s_median (self, "agg_cpu_us_nojournal") > 0
            ? s_median (self, "agg_cpu_us_large") / s_median (self, "agg_cpu_us_nojournal") : 0);
    printf ("%-36s %12s %12.0f %12s bytes\n", "aggregator RSS per seat", "", per_seat, "");

    double decl_per_s = s_median (self, "decl_per_s");
    double p99 = s_median (self, "lat_1k_p99_us");
    printf ("\ntargets: durable throughput >= 0.5 x raw PUSH/PULL: %.4f %s; "
            "p99 @1,000/s <= 2 x raw RTT p99: %.2f %s; scaling <= 1.5: %.2f %s; "
            "2017 night < 0.5 s: %.3f %s\n",
            raw_rate > 0 ? decl_per_s / raw_rate : 0, raw_rate > 0 && decl_per_s / raw_rate >= 0.5 ? "met" : "NOT met",
            raw_p99 > 0 ? p99 / raw_p99 : 0, raw_p99 > 0 && p99 / raw_p99 <= 2 ? "met" : "NOT met",
            scaling, scaling > 0 && scaling <= 1.5 ? "met" : "NOT met",
            night, night > 0 && night < 0.5 ? "met" : "NOT met");

    json_t *json = json_object ();
    for (size_t i = 0; i < self->n_figures; i++) {
        double min, median, max;
        s_stats (&self->figures [i], &min, &median, &max);
        char key [64];
        json_object_set_new (json, self->figures [i].key, json_real (median));
        snprintf (key, sizeof key, "%s_min", self->figures [i].key);
        json_object_set_new (json, key, json_real (min));
        snprintf (key, sizeof key, "%s_max", self->figures [i].key);
        json_object_set_new (json, key, json_real (max));
    }
    json_object_set_new (json, "p50_us", json_real (s_median (self, "lat_1k_p50_us")));
    json_object_set_new (json, "p99_us", json_real (p99));
    json_object_set_new (json, "p999_us", json_real (s_median (self, "lat_1k_p999_us")));
    json_object_set_new (json, "throughput_ratio", json_real (raw_rate > 0 ? decl_per_s / raw_rate : 0));
    json_object_set_new (json, "throughput_ratio_nojournal",
                         json_real (raw_rate > 0 ? s_median (self, "decl_per_s_nojournal") / raw_rate : 0));
    json_object_set_new (json, "latency_p99_ratio", json_real (raw_p99 > 0 ? p99 / raw_p99 : 0));
    json_object_set_new (json, "latency_p99_ratio_nojournal",
                         json_real (raw_p99 > 0 ? s_median (self, "lat_1k_nojournal_p99_us") / raw_p99 : 0));
    json_object_set_new (json, "scaling_ratio", json_real (scaling));
    double cpu_small = s_median (self, "agg_cpu_us_nojournal");
    json_object_set_new (json, "scaling_ratio_cpu",
                         json_real (cpu_small > 0 ? s_median (self, "agg_cpu_us_large") / cpu_small : 0));
    json_object_set_new (json, "rss_bytes_per_seat", json_real (per_seat));
    json_object_set_new (json, "message_bytes", json_integer ((json_int_t) self->message_bytes));
    json_object_set_new (json, "seats_small", json_integer ((json_int_t) options->seats));
    json_object_set_new (json, "seats_large", json_integer ((json_int_t) options->large_seats));
    json_object_set_new (json, "candidates", json_integer ((json_int_t) options->candidates));
    json_object_set_new (json, "reps", json_integer (options->reps));
    json_object_set_new (json, "window", json_integer ((json_int_t) options->window));
    json_object_set_new (json, "quick", json_boolean (options->quick));
    char *text = json_dumps (json, JSON_COMPACT | JSON_REAL_PRECISION (6));
    printf ("%s\n", text ? text : "{}");
    free (text);
    json_decref (json);
}

//  -------------------------------------------------------------------------
//  Command line

static void
s_usage (FILE *out)
{
    fprintf (out,
        "Usage: bench [OPTIONS]\n"
        "Measures the real aggregator + publisher (started from the directory of\n"
        "this executable) against raw libzmq on this machine. Prints progress and a\n"
        "table; the last line is one JSON object with every figure (BENCHMARKS.md).\n\n"
        "  --quick              reduced run, under a minute (3 reps, shorter runs)\n"
        "  --reps N             repetitions of each figure (default 5; quick 3)\n"
        "  --seats N            seats of the small election (default 650)\n"
        "  --large-seats N      seats of the large election (default 200000)\n"
        "  --candidates K       candidates per seat, 1..%d (default 5)\n"
        "  --revisions R        revisions of every small seat per throughput rep\n"
        "                       (default 40; quick 10)\n"
        "  --large-decls N      revisions per large-election rep, scattered over all\n"
        "                       seats (default 100000; quick 20000)\n"
        "  --window W           declarations in flight at most (default 256; the\n"
        "                       aggregator queues up to 100000 acks per sender)\n"
        "  --latency-s S        seconds of offered load per rate and rep (default 5; quick 1)\n"
        "  --raw-messages N     raw PUSH/PULL messages per rep (default 2000000; quick 500000)\n"
        "  --raw-round-trips N  raw DEALER/ROUTER round trips per rep (default 20000; quick 10000)\n"
        "  --bin-dir DIR        where aggregator and publisher are (default: beside bench)\n"
        "  --data DIR           ge2015.csv and ge2017.csv (default %s)\n"
        "  --tmpdir DIR         parent of the scratch directory (default $TMPDIR or /tmp);\n"
        "                       journals are fsynced there, so put it on a real disk\n"
        "  --keep               keep the scratch directory (logs, journals, baselines)\n"
        "  --help               this text\n",
        S_MAX_CANDIDATES, EL_DATA_DIR);
}

static int
s_parse_size (const char *text, const char *option, size_t min, size_t max, size_t *value)
{
    long long parsed;
    if (cli_integer ("bench", option, text, (long long) min, (long long) max, &parsed))
        return -1;
    *value = (size_t) parsed;
    return 0;
}

static int
s_parse_options (int argc, char *argv [], s_options_t *options)
{
    size_t reps = 0, revisions = 0, large_decls = 0, raw_messages = 0, raw_round_trips = 0, latency_ds = 0;
    static const struct option table [] = {
        { "quick", no_argument, NULL, 'q' },
        { "reps", required_argument, NULL, 'r' },
        { "seats", required_argument, NULL, 's' },
        { "large-seats", required_argument, NULL, 'L' },
        { "candidates", required_argument, NULL, 'c' },
        { "revisions", required_argument, NULL, 'v' },
        { "window", required_argument, NULL, 'w' },
        { "large-decls", required_argument, NULL, 'D' },
        { "latency-s", required_argument, NULL, 'l' },
        { "raw-messages", required_argument, NULL, 'm' },
        { "raw-round-trips", required_argument, NULL, 't' },
        { "bin-dir", required_argument, NULL, 'b' },
        { "data", required_argument, NULL, 'd' },
        { "tmpdir", required_argument, NULL, 'T' },
        { "keep", no_argument, NULL, 'k' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    int opt;
    while ((opt = getopt_long (argc, argv, "h", table, NULL)) != -1) {
        int rc = 0;
        switch (opt) {
            case 'q': options->quick = true; break;
            case 'r': rc = s_parse_size (optarg, "--reps", 1, S_MAX_REPS, &reps); break;
            case 's': rc = s_parse_size (optarg, "--seats", 1, 9999999, &options->seats); break;
            case 'L': rc = s_parse_size (optarg, "--large-seats", 1, 9999999, &options->large_seats); break;
            case 'c': rc = s_parse_size (optarg, "--candidates", 1, S_MAX_CANDIDATES, &options->candidates); break;
            case 'v': rc = s_parse_size (optarg, "--revisions", 1, 100000, &revisions); break;
            case 'D': rc = s_parse_size (optarg, "--large-decls", 1, 100000000, &large_decls); break;
            case 'w': rc = s_parse_size (optarg, "--window", 1, 1000000, &options->window); break;
            case 'l': {
                double value;
                rc = cli_real ("bench", "--latency-s", optarg, 0.1, 600, &value);
                if (rc == 0)
                    latency_ds = (size_t) (value * 10 + 0.5);
                break;
            }
            case 'm': rc = s_parse_size (optarg, "--raw-messages", 2, 100000000, &raw_messages); break;
            case 't': rc = s_parse_size (optarg, "--raw-round-trips", 1, 100000000, &raw_round_trips); break;
            case 'b': options->bin_dir = optarg; break;
            case 'd': options->data_dir = optarg; break;
            case 'T': options->tmp_parent = optarg; break;
            case 'k': options->keep = true; break;
            case 'h': s_usage (stdout); exit (0);
            default:  s_usage (stderr); return -1;
        }
        if (rc)
            return -1;
    }
    if (optind < argc) {
        fprintf (stderr, "bench: unexpected argument \"%s\"\n", argv [optind]);
        return -1;
    }
    options->reps = reps ? (int) reps : options->quick ? 3 : 5;
    options->revisions = revisions ? revisions : options->quick ? 10 : 40;
    options->large_decls = large_decls ? large_decls : options->quick ? 20000 : 100000;
    options->latency_s = latency_ds ? (double) latency_ds / 10 : options->quick ? 1 : 5;
    options->raw_messages = raw_messages ? raw_messages : options->quick ? 500000 : 2000000;
    options->raw_round_trips = raw_round_trips ? raw_round_trips : options->quick ? 10000 : 20000;
    return 0;
}

static int
s_remove_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove (path);
}

//  The size of a typical small-election declaration, for the raw runs
static size_t
s_typical_size (const s_options_t *options)
{
    char *ids = s_ons_ids (options->seats);
    s_synthetic_t election = { ids, options->seats, options->candidates };
    s_batch_t batch;
    uint32_t revision = 2;
    size_t size = 0;
    if (ids && s_synthetic_batch (&batch, &election, options->seats, &revision) == 0) {
        size = batch.used / batch.n;
        s_batch_free (&batch);
    }
    free (ids);
    return size ? size : 150;
}

//  True if `program --help` mentions `option`
static bool
s_offers (const s_bench_t *self, const char *program, const char *option)
{
    char command [PATH_MAX + 64], line [512];
    snprintf (command, sizeof command, "'%s/%s' --help 2>&1", self->options.bin_dir, program);
    FILE *help = popen (command, "r");
    bool found = false;
    while (help && fgets (line, sizeof line, help))
        found = found || strstr (line, option) != NULL;
    if (help)
        pclose (help);
    return found;
}

static void
s_machine (void)
{
    char model [256] = "unknown", line [512];
    FILE *file = fopen ("/proc/cpuinfo", "r");
    while (file && fgets (line, sizeof line, file))
        if (strncmp (line, "model name", 10) == 0) {
            char *colon = strchr (line, ':');
            if (colon) {
                snprintf (model, sizeof model, "%s", colon + 2);
                model [strcspn (model, "\n")] = 0;
            }
            break;
        }
    if (file)
        fclose (file);
    struct utsname uts;
    uname (&uts);
    printf ("machine: %ld CPUs, %s, %s %s; libzmq %d.%d.%d\n", sysconf (_SC_NPROCESSORS_ONLN),
            model, uts.sysname, uts.release, ZMQ_VERSION_MAJOR, ZMQ_VERSION_MINOR, ZMQ_VERSION_PATCH);
}

int
main (int argc, char *argv [])
{
    static s_bench_t bench;     //  large (figures); one per process
    s_bench_t *self = &bench;
    s_options_t *options = &self->options;
    *options = (s_options_t) { .seats = 650, .large_seats = 200000, .candidates = 5,
                               .window = 256, .data_dir = EL_DATA_DIR };
    if (s_parse_options (argc, argv, options))
        return 2;
    char exe [PATH_MAX];
    ssize_t len = readlink ("/proc/self/exe", exe, sizeof exe - 1);
    if (!options->bin_dir) {
        if (len <= 0) {
            fprintf (stderr, "bench: cannot find my own executable; use --bin-dir\n");
            return 2;
        }
        exe [len] = 0;
        options->bin_dir = dirname (exe);
    }
    log_init ("bench", LOG_WARN);
    signals_catch ();
    const char *tmp = options->tmp_parent ? options->tmp_parent
                    : getenv ("TMPDIR") ? getenv ("TMPDIR") : "/tmp";
    snprintf (self->tmp_dir, sizeof self->tmp_dir, "%s/bench.XXXXXX", tmp);
    if (!mkdtemp (self->tmp_dir)) {
        fprintf (stderr, "bench: cannot make a scratch directory in %s: %s\n", tmp, strerror (errno));
        return 1;
    }
    self->ctx = zmq_ctx_new ();
    int rc = 1;
    if (!self->ctx)
        goto cleanup;
    int64_t start = s_now_ns ();
    s_machine ();
    self->message_bytes = s_typical_size (options);
    self->publisher_has_http = s_offers (self, "publisher", "--http PORT");
    printf ("bench%s: %d reps; small %zu seats, large %zu seats, %zu candidates; %zu revisions "
            "per rep; window %zu; declaration %zu bytes; scratch %s\n",
            options->quick ? " --quick" : "", options->reps, options->seats, options->large_seats,
            options->candidates, options->revisions, options->window, self->message_bytes,
            self->tmp_dir);
    printf ("== raw libzmq, tcp loopback, %zu-byte messages\n", self->message_bytes);
    fflush (stdout);
    for (int rep = 0; rep < options->reps; rep++) {
        if (s_raw_pushpull (self) || s_raw_rtt (self))
            goto cleanup;
        const s_figure_t *rate = s_figure (self, "raw_pushpull_msg_per_s");
        const s_figure_t *p99 = s_figure (self, "raw_rtt_p99_us");
        printf ("  raw PUSH/PULL %10.0f msg/s, DEALER/ROUTER RTT p99 %8.1f us\n",
                rate->values [rate->n - 1], p99->values [p99->n - 1]);
        fflush (stdout);
    }
    size_t small_topics = 0, large_topics = 0;
    if (s_small (self, &small_topics) || s_large (self, &large_topics) || s_night (self))
        goto cleanup;
    printf ("\ntotal %.1f s\n", (double) (s_now_ns () - start) / 1e9);
    s_report (self, small_topics, large_topics);
    rc = 0;
cleanup:
    s_stop_all (self);
    if (signals_interrupted ()) {
        fprintf (stderr, "bench: interrupted\n");
        rc = 130;
    }
    if (self->ctx)
        zmq_ctx_term (self->ctx);
    if (options->keep || (rc && !signals_interrupted ()))
        fprintf (stderr, "bench: scratch directory kept: %s\n", self->tmp_dir);
    else
        nftw (self->tmp_dir, s_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return rc;
}
