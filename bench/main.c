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
#include "bench.h"
#include "cli.h"
#include "log.h"
#include "signals.h"
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <zmq.h>

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
        "  --latency-s S        seconds of offered load per rate and rep (default 5; quick 1,\n"
        "                       and with --quick half of it at 10,000/s)\n"
        "  --raw-messages N     raw PUSH/PULL messages per rep (default 2000000; quick 500000)\n"
        "  --raw-round-trips N  raw DEALER/ROUTER round trips per rep (default 20000; quick 10000)\n"
        "  --failovers N        failover trials of a pair of aggregators (default 20; quick 3)\n"
        "  --bin-dir DIR        where aggregator and publisher are (default: beside bench;\n"
        "                       bench-chain, the raw chain, is always the one beside bench)\n"
        "  --data DIR           ge2015.csv and ge2017.csv (default %s)\n"
        "  --tmpdir DIR         parent of the scratch directory (default $TMPDIR or /tmp);\n"
        "                       journals are fsynced there, so put it on a real disk\n"
        "  --keep               keep the scratch directory (logs, journals, baselines)\n"
        "  --help               this text\n",
        BENCH_MAX_CANDIDATES, EL_DATA_DIR);
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
s_parse_options (int argc, char *argv [], bench_options_t *options)
{
    size_t reps = 0, revisions = 0, large_decls = 0, raw_messages = 0, raw_round_trips = 0, latency_ds = 0;
    size_t failovers = 0;
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
        { "failovers", required_argument, NULL, 'F' },
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
            case 'r': rc = s_parse_size (optarg, "--reps", 1, BENCH_MAX_REPS, &reps); break;
            case 's': rc = s_parse_size (optarg, "--seats", 1, 9999999, &options->seats); break;
            case 'L': rc = s_parse_size (optarg, "--large-seats", 1, 9999999, &options->large_seats); break;
            case 'c': rc = s_parse_size (optarg, "--candidates", 1, BENCH_MAX_CANDIDATES, &options->candidates); break;
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
            case 'F': rc = s_parse_size (optarg, "--failovers", 1, 1000, &failovers); break;
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
    options->failovers = failovers ? failovers : options->quick ? 3 : 20;
    return 0;
}

static int
s_remove_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove (path);
}

//  The size of a typical small-election declaration, for the raw runs
static size_t
s_typical_size (const bench_options_t *options)
{
    char *ids = synthetic_ons_ids (options->seats);
    synthetic_t election = { ids, options->seats, options->candidates };
    batch_t batch;
    uint32_t revision = 2;
    size_t size = 0;
    if (ids && synthetic_batch (&batch, &election, options->seats, &revision) == 0) {
        size = batch.used / batch.n;
        batch_free (&batch);
    }
    free (ids);
    return size ? size : 150;
}

//  True if `program --help` mentions `option`
static bool
s_offers (const bench_t *self, const char *program, const char *option)
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
    static bench_t bench;     //  large (figures); one per process
    bench_t *self = &bench;
    bench_options_t *options = &self->options;
    *options = (bench_options_t) { .seats = 650, .large_seats = 200000, .candidates = 5,
                               .window = 256, .data_dir = EL_DATA_DIR };
    if (s_parse_options (argc, argv, options))
        return 2;
    //  bench-chain is ours: always beside us, wherever --bin-dir points
    char exe [PATH_MAX];
    ssize_t len = readlink ("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0) {
        fprintf (stderr, "bench: cannot find my own executable\n");
        return 2;
    }
    exe [len] = 0;
    snprintf (self->own_dir, sizeof self->own_dir, "%s", dirname (exe));
    if (!options->bin_dir)
        options->bin_dir = self->own_dir;
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
    int64_t start = bench_now_ns ();
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
        if (raw_pushpull (self) || raw_rtt (self))
            goto cleanup;
        const figure_t *rate = report_figure (self, "raw_pushpull_msg_per_s");
        const figure_t *p99 = report_figure (self, "raw_rtt_p99_us");
        printf ("  raw PUSH/PULL %10.0f msg/s, DEALER/ROUTER RTT p99 %8.1f us\n",
                rate->values [rate->n - 1], p99->values [p99->n - 1]);
        fflush (stdout);
    }
    size_t small_topics = 0, large_topics = 0;
    if (measure_small (self, &small_topics) || measure_large (self, &large_topics) || measure_night (self)
    ||  measure_pair (self) || failover_measure (self))
        goto cleanup;
    printf ("\ntotal %.1f s\n", (double) (bench_now_ns () - start) / 1e9);
    report_print (self, small_topics, large_topics);
    rc = 0;
cleanup:
    children_stop_all (self);
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
