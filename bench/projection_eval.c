/*  projection-eval: how good is the seat projection, and what does it cost.

    Replays a night in its real declaration order through the tally (the
    aggregator's engine, no sockets) and, after the given numbers of
    results, prints each of the four largest parties' projected seats, the
    range, the error against the night's final count and whether the final
    lies inside the range. --all also projects after every result and
    sums up: mean absolute error per party over stretches of the night and
    how often the final lay inside the stated range.

    --bench SEATS times projection_update on a synthetic election of SEATS
    seats (the real baseline and night tiled, every copy's votes perturbed)
    with half the seats declared.

    Examples:
      projection-eval                                  (2017 against 2015)
      projection-eval --results data/ge2015.csv --baseline data/ge2017.csv \
                      --times data/declaration_times_2015.csv   (reversed)  */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "projection.h"
#include "results_file.h"
#include "times_file.h"
#include "tally.h"

#define S_MAX_AT 64
#define S_TOP 4

typedef struct {
    const char *baseline;
    const char *results;
    const char *times;
    const char *speaker_as;
    const char *baseline_speaker_as;
    size_t at [S_MAX_AT];
    size_t n_at;
    bool all;
    size_t bench_seats;
    int bench_reps;
    projection_options_t model;
} s_options_t;

static void
s_usage (FILE *out, const s_options_t *d)
{
    fprintf (out,
"Usage: projection-eval [OPTIONS]\n"
"Replays a night in declaration order and scores the seat projection.\n"
"  --baseline FILE         previous election (default %s)\n"
"  --results FILE          the night's results (default %s)\n"
"  --times FILE            declaration times, the replay order (default %s)\n"
"  --speaker-as PARTY      the Speaker's seat counts for PARTY this time (default %s)\n"
"  --baseline-speaker-as PARTY   ... and in the baseline (default %s)\n"
"  --speaker-own           keep Speaker as a party of its own in both\n"
"  --at N                  report after N results (repeatable; default 25 50 100 200)\n"
"  --all                   also project after every result and sum up accuracy and coverage\n"
"  --bench SEATS           time one projection at SEATS synthetic seats (half declared)\n"
"  --reps N                timing repetitions (default %d)\n"
"  model parameters (README \"Projection\"):\n"
"  --min-share F           default %.3f\n"
"  --tau-national F        default %.3f\n"
"  --tau-nation F          default %.3f\n"
"  --tau-slope F           default %.3f\n"
"  --sigma0 F              default %.3f\n"
"  --nu0 F                 default %.1f\n"
"  --confidence F          of the range, default %.2f\n"
"  -h, --help              this help\n",
        d->baseline, d->results, d->times, d->speaker_as, d->baseline_speaker_as,
        d->bench_reps, d->model.min_share, d->model.tau_national, d->model.tau_nation,
        d->model.tau_slope, d->model.sigma0, d->model.nu0, d->model.confidence);
}

static int
s_parse_count (const char *text, const char *option, long long min, size_t *value)
{
    long long number;
    if (cli_integer ("projection-eval", option, text, min, 100000000, &number))
        return -1;
    *value = (size_t) number;
    return 0;
}

static int
s_parse_real (const char *text, const char *option, double max, double *value)
{
    //  The model checks its own options (projection_new); this is the syntax
    return cli_real ("projection-eval", option, text, 0, max, value);
}

static int
s_parse (int argc, char **argv, s_options_t *o)
{
    static const struct option table [] = {
        { "baseline", required_argument, NULL, 'b' },
        { "results", required_argument, NULL, 'r' },
        { "times", required_argument, NULL, 't' },
        { "speaker-as", required_argument, NULL, 's' },
        { "baseline-speaker-as", required_argument, NULL, 'S' },
        { "speaker-own", no_argument, NULL, 'o' },
        { "at", required_argument, NULL, 'a' },
        { "all", no_argument, NULL, 'A' },
        { "bench", required_argument, NULL, 'B' },
        { "reps", required_argument, NULL, 'R' },
        { "min-share", required_argument, NULL, 1 },
        { "tau-national", required_argument, NULL, 2 },
        { "tau-nation", required_argument, NULL, 3 },
        { "tau-slope", required_argument, NULL, 4 },
        { "sigma0", required_argument, NULL, 5 },
        { "nu0", required_argument, NULL, 6 },
        { "confidence", required_argument, NULL, 7 },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    s_options_t defaults = *o;
    bool at_given = false;
    int opt;
    size_t number;
    while ((opt = getopt_long (argc, argv, "h", table, NULL)) != -1) {
        switch (opt) {
            case 'b': o->baseline = optarg; break;
            case 'r': o->results = optarg; break;
            case 't': o->times = optarg; break;
            case 's': o->speaker_as = optarg; break;
            case 'S': o->baseline_speaker_as = optarg; break;
            case 'o': o->speaker_as = o->baseline_speaker_as = NULL; break;
            case 'a':
                if (s_parse_count (optarg, "--at", 0, &number))
                    return -1;
                if (!at_given)
                    o->n_at = 0;
                at_given = true;
                if (o->n_at == S_MAX_AT) {
                    fprintf (stderr, "projection-eval: at most %d --at\n", S_MAX_AT);
                    return -1;
                }
                o->at [o->n_at++] = number;
                break;
            case 'A': o->all = true; break;
            case 'B':
                if (s_parse_count (optarg, "--bench", 0, &o->bench_seats))
                    return -1;
                break;
            case 'R':
                if (s_parse_count (optarg, "--reps", 1, &number))
                    return -1;
                o->bench_reps = (int) number;
                break;
            case 1: if (s_parse_real (optarg, "--min-share", 1, &o->model.min_share)) return -1; break;
            case 2: if (s_parse_real (optarg, "--tau-national", 1e9, &o->model.tau_national)) return -1; break;
            case 3: if (s_parse_real (optarg, "--tau-nation", 1e9, &o->model.tau_nation)) return -1; break;
            case 4: if (s_parse_real (optarg, "--tau-slope", 1e9, &o->model.tau_slope)) return -1; break;
            case 5: if (s_parse_real (optarg, "--sigma0", 1e9, &o->model.sigma0)) return -1; break;
            case 6: if (s_parse_real (optarg, "--nu0", 1e9, &o->model.nu0)) return -1; break;
            case 7: if (s_parse_real (optarg, "--confidence", 1, &o->model.confidence)) return -1; break;
            case 'h': s_usage (stdout, &defaults); exit (0);
            default: s_usage (stderr, &defaults); return -1;
        }
    }
    if (optind < argc) {
        fprintf (stderr, "projection-eval: unexpected argument '%s'\n", argv [optind]);
        return -1;
    }
    return 0;
}


//  -------------------------------------------------------------------------
//  The night

typedef struct {
    const seat_result_t *seat;
    int64_t at_ms;              //  INT64_MAX: no time known
} s_entry_t;

//  The night's seats in declaration order. Caller frees.
static s_entry_t *
s_order (const results_t *results, const declaration_times_t *times)
{
    s_entry_t *entries = calloc (results->n_seats + 1, sizeof (s_entry_t));
    size_t *order = calloc (results->n_seats + 1, sizeof (size_t));
    int64_t *at_ms = calloc (results->n_seats + 1, sizeof (int64_t));
    if (entries && order && at_ms
    &&  results_declaration_order (results, times, order, at_ms) == EL_OK)
        for (size_t i = 0; i < results->n_seats; i++) {
            entries [i].seat = &results->seats [order [i]];
            entries [i].at_ms = at_ms [i];
        }
    else {
        free (entries);
        entries = NULL;
    }
    free (order);
    free (at_ms);
    return entries;
}

static tally_status_t
s_declare (tally_t *tally, const seat_result_t *seat, int64_t at_ms, bool quiet)
{
    declaration_t decl = {
        .ons_id = seat->ons_id, .revision = 1, .kind = DECL_RESULT,
        .reason = REVISION_NONE, .electorate = seat->electorate,
        .declared_at_ms = at_ms == INT64_MAX? 0: at_ms,
        .candidates = seat->candidates, .n_candidates = seat->n_candidates
    };
    tally_verdict_t verdict;
    tally_status_t status = tally_apply (tally, &decl, &verdict);
    if (status == TALLY_REJECTED && !quiet)
        fprintf (stderr, "projection-eval: %s\n", verdict.text);
    return status;
}

typedef struct {
    const char *party [S_TOP];
    int final [S_TOP];
    //  --all: sums per stretch of the night
    double abs_error [4][S_TOP];
    size_t inside [4][S_TOP];
    size_t count [4];
    int worst_after_100 [S_TOP];
} s_score_t;

static const projection_party_t *
s_line (const projection_view_t *view, const char *party)
{
    for (size_t i = 0; i < view->n_parties; i++)
        if (strcmp (view->parties [i].party, party) == 0)
            return &view->parties [i];
    return NULL;
}

static void
s_report (const projection_view_t *view, const s_score_t *score)
{
    printf ("%5zu |", view->based_on);
    for (int t = 0; t < S_TOP; t++) {
        const projection_party_t *line = s_line (view, score->party [t]);
        int seats = line? line->seats: 0, low = line? line->low: 0, high = line? line->high: 0;
        int error = seats - score->final [t];
        bool inside = score->final [t] >= low && score->final [t] <= high;
        printf (" %4d %4d-%-4d %+4d %s |", seats, low, high, error, inside? "in ": "OUT");
    }
    printf (" %s\n", view->verdict);
}

static void
s_score_all (const projection_view_t *view, s_score_t *score)
{
    size_t n = view->based_on;
    int stretch = n < 50? 0: n < 100? 1: n < 200? 2: 3;
    score->count [stretch]++;
    for (int t = 0; t < S_TOP; t++) {
        const projection_party_t *line = s_line (view, score->party [t]);
        int seats = line? line->seats: 0, low = line? line->low: 0, high = line? line->high: 0;
        int error = abs (seats - score->final [t]);
        score->abs_error [stretch][t] += error;
        score->inside [stretch][t] += score->final [t] >= low && score->final [t] <= high;
        if (n >= 100 && n < 650 && error > score->worst_after_100 [t])
            score->worst_after_100 [t] = error;
    }
}

static int
s_night (const s_options_t *o)
{
    char err [256] = "";
    results_t *baseline = NULL, *results = NULL;
    declaration_times_t *times = NULL;
    tally_t *tally = NULL, *final_tally = NULL;
    projection_t *projection = NULL;
    s_entry_t *entries = NULL;
    int rc = 1;
    if (results_load (o->baseline, &baseline, err, sizeof err)
    ||  results_load (o->results, &results, err, sizeof err)
    || (o->times && *o->times && declaration_times_load (o->times, &times, err, sizeof err))) {
        fprintf (stderr, "projection-eval: %s\n", err);
        goto cleanup;
    }
    tally_options_t topts = { o->speaker_as, o->baseline_speaker_as };
    tally = tally_new (baseline, &topts);
    final_tally = tally_new (baseline, &topts);
    entries = s_order (results, times);
    if (!tally || !final_tally || !entries) {
        fprintf (stderr, "projection-eval: out of memory or empty baseline\n");
        goto cleanup;
    }
    projection = projection_new (tally, &o->model);
    if (!projection) {
        fprintf (stderr, "projection-eval: bad model parameters\n");
        goto cleanup;
    }
    //  The night's final count, and its four largest parties
    for (size_t i = 0; i < results->n_seats; i++)
        if (s_declare (final_tally, entries [i].seat, entries [i].at_ms, false) == TALLY_REJECTED)
            goto cleanup;
    scope_view_t final;
    tally_scope (final_tally, 0, &final);
    s_score_t score;
    memset (&score, 0, sizeof score);
    for (int t = 0; t < S_TOP; t++) {
        score.party [t] = t < (int) final.n_parties? final.parties [t].party: "-";
        score.final [t] = t < (int) final.n_parties? final.parties [t].seats: 0;
    }
    printf ("%s declared in the order of %s, against %s (Speaker as %s / %s)\n",
            o->results, o->times && *o->times? o->times: "the file", o->baseline,
            o->speaker_as? o->speaker_as: "Speaker",
            o->baseline_speaker_as? o->baseline_speaker_as: "Speaker");
    printf ("final:");
    for (int t = 0; t < S_TOP; t++)
        printf (" %s %d", score.party [t], score.final [t]);
    printf ("   (range at %.0f%%)\n", o->model.confidence * 100);
    printf ("after |");
    for (int t = 0; t < S_TOP; t++)
        printf (" %-4s seats range    err    |", score.party [t]);
    printf (" verdict\n");

    projection_view_t view;
    if (projection_update (projection))
        goto cleanup;
    projection_scope (projection, 0, &view);
    for (size_t a = 0; a < o->n_at; a++)
        if (o->at [a] == 0)
            s_report (&view, &score);
    for (size_t i = 0; i < results->n_seats; i++) {
        if (s_declare (tally, entries [i].seat, entries [i].at_ms, false) == TALLY_REJECTED)
            goto cleanup;
        bool report = false;
        for (size_t a = 0; a < o->n_at; a++)
            report |= o->at [a] == i + 1;
        if (!report && !o->all)
            continue;
        if (projection_update (projection))
            goto cleanup;
        projection_scope (projection, 0, &view);
        if (report)
            s_report (&view, &score);
        if (o->all)
            s_score_all (&view, &score);
    }
    if (o->all) {
        static const char *stretches [4] = { "1-49", "50-99", "100-199", "200-649" };
        printf ("\nevery result: mean |error| / final inside range\n");
        for (int s = 0; s < 4; s++) {
            if (!score.count [s])
                continue;
            printf ("%-8s |", stretches [s]);
            for (int t = 0; t < S_TOP; t++)
                printf (" %-5s %5.1f %3.0f%%        |", score.party [t],
                        score.abs_error [s][t] / (double) score.count [s],
                        100.0 * (double) score.inside [s][t] / (double) score.count [s]);
            printf ("\n");
        }
        printf ("worst |error| from 100 results on:");
        for (int t = 0; t < S_TOP; t++)
            printf (" %s %d", score.party [t], score.worst_after_100 [t]);
        printf ("\n");
    }
    rc = 0;

cleanup:
    projection_destroy (&projection);
    tally_destroy (&tally);
    tally_destroy (&final_tally);
    free (entries);
    declaration_times_destroy (&times);
    results_destroy (&baseline);
    results_destroy (&results);
    return rc;
}


//  -------------------------------------------------------------------------
//  The cost at scale: the real night tiled to SEATS seats

//  A copy of results tiled to `seats` seats: copy k of seat i is seat
//  i + k*n, its id suffixed, every party's votes scaled by a factor drawn
//  per copy and party (seeded, so both elections of a copy move alike).
static results_t *
s_tile (const results_t *source, size_t seats, unsigned seed_base)
{
    results_t *tiled = calloc (1, sizeof (results_t));
    if (!tiled)
        return NULL;
    tiled->seats = calloc (seats, sizeof (seat_result_t));
    if (!tiled->seats) {
        free (tiled);
        return NULL;
    }
    for (size_t i = 0; i < seats; i++) {
        const seat_result_t *from = &source->seats [i % source->n_seats];
        seat_result_t *to = &tiled->seats [i];
        tiled->n_seats++;
        char id [48];
        snprintf (id, sizeof id, "%s-%zu", from->ons_id, i / source->n_seats);
        to->ons_id = strdup (id);
        to->name = strdup (from->name);
        to->country = strdup (from->country);
        to->region = strdup (from->region);
        to->electorate = from->electorate * 2;
        to->candidates = calloc (from->n_candidates, sizeof (candidate_t));
        if (!to->ons_id || !to->name || !to->country || !to->region || !to->candidates) {
            results_destroy (&tiled);
            return NULL;
        }
        to->n_candidates = from->n_candidates;
        unsigned copy = (unsigned) (i / source->n_seats);
        for (size_t c = 0; c < from->n_candidates; c++) {
            to->candidates [c].name = strdup (from->candidates [c].name);
            to->candidates [c].party = strdup (from->candidates [c].party);
            if (!to->candidates [c].name || !to->candidates [c].party) {
                results_destroy (&tiled);
                return NULL;
            }
            //  A factor in [0.6, 1.4) per copy and party letter, seed-stable
            unsigned state = copy * 2654435761u + seed_base
                           + (unsigned char) from->candidates [c].party [0] * 40503u;
            state ^= state >> 13;
            state *= 0x5bd1e995u;
            state ^= state >> 15;
            double factor = 0.6 + 0.8 * (double) (state % 10000) / 10000.0;
            to->candidates [c].votes = (uint32_t) (from->candidates [c].votes * factor);
        }
    }
    return tiled;
}

static double
s_now_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec * 1e6 + (double) ts.tv_nsec / 1e3;
}

static int
s_bench (const s_options_t *o)
{
    char err [256] = "";
    results_t *baseline = NULL, *results = NULL, *big_base = NULL, *big_night = NULL;
    tally_t *tally = NULL;
    projection_t *projection = NULL;
    int rc = 1;
    if (results_load (o->baseline, &baseline, err, sizeof err)
    ||  results_load (o->results, &results, err, sizeof err)) {
        fprintf (stderr, "projection-eval: %s\n", err);
        goto cleanup;
    }
    big_base = s_tile (baseline, o->bench_seats, 0);
    big_night = s_tile (results, o->bench_seats, 0);
    tally_options_t topts = { o->speaker_as, o->baseline_speaker_as };
    if (!big_base || !big_night || !(tally = tally_new (big_base, &topts))
    ||  !(projection = projection_new (tally, &o->model))) {
        fprintf (stderr, "projection-eval: out of memory\n");
        goto cleanup;
    }
    //  Half the seats declared, every other one of the night's copies in
    //  the night's seats order (both elections tiled alike, so seat i of
    //  the night is seat i of the baseline)
    //  (a tie the tiling made is refused by the tally: that seat stays
    //  undeclared, which changes nothing to the timing)
    for (size_t i = 0; i < big_night->n_seats; i += 2)
        s_declare (tally, &big_night->seats [i], 0, true);
    if (projection_update (projection))
        goto cleanup;        //  the first update grows the arrays
    double best = 1e300, total = 0;
    for (int r = 0; r < o->bench_reps; r++) {
        double start = s_now_us ();
        if (projection_update (projection))
            goto cleanup;
        double took = s_now_us () - start;
        total += took;
        if (took < best)
            best = took;
    }
    projection_view_t view;
    projection_scope (projection, 0, &view);
    printf ("projection_update at %zu seats (%zu declared): mean %.1f us, best %.1f us "
            "over %d runs; %s\n", o->bench_seats, view.declared,
            total / o->bench_reps, best, o->bench_reps, view.verdict);
    rc = 0;

cleanup:
    projection_destroy (&projection);
    tally_destroy (&tally);
    results_destroy (&big_base);
    results_destroy (&big_night);
    results_destroy (&baseline);
    results_destroy (&results);
    return rc;
}

int
main (int argc, char **argv)
{
    s_options_t options = {
        .baseline = EL_DATA_DIR "/ge2015.csv",
        .results = EL_DATA_DIR "/ge2017.csv",
        .times = EL_DATA_DIR "/declaration_times_2017.csv",
        .speaker_as = "Con", .baseline_speaker_as = "Con",
        .at = { 25, 50, 100, 200 }, .n_at = 4,
        .bench_reps = 20
    };
    projection_options_default (&options.model);
    if (s_parse (argc, argv, &options))
        return 2;
    if (options.bench_seats)
        return s_bench (&options);
    return s_night (&options);
}
