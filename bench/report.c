/*  report.c: see bench.h. Figures recorded per repetition, their statistics,
    and the report: a table with the ratio to raw, then one JSON line.  */
#include "bench.h"
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
s_cmp_double (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

int
report_cmp_i64 (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return (x > y) - (x < y);
}

//  Nearest-rank percentile of sorted values
int64_t
report_percentile (const int64_t *sorted, size_t n, double p)
{
    if (!n)
        return 0;
    size_t rank = (size_t) ceil (p * (double) n);
    return sorted [rank ? rank - 1 : 0];
}

void
report_record (bench_t *self, const char *key, const char *label, const char *unit, double value)
{
    figure_t *figure = NULL;
    for (size_t i = 0; i < self->n_figures && !figure; i++)
        if (strcmp (self->figures [i].key, key) == 0)
            figure = &self->figures [i];
    if (!figure) {
        if (self->n_figures == BENCH_MAX_FIGURES) {
            //  A figure dropped in silence would read as never measured
            fprintf (stderr, "bench: more than %d figures: %s not kept (raise BENCH_MAX_FIGURES)\n",
                     BENCH_MAX_FIGURES, key);
            abort ();
        }
        figure = &self->figures [self->n_figures++];
        snprintf (figure->key, sizeof figure->key, "%s", key);
        snprintf (figure->label, sizeof figure->label, "%s", label);
        snprintf (figure->unit, sizeof figure->unit, "%s", unit);
    }
    if (figure->n < BENCH_MAX_REPS)
        figure->values [figure->n++] = value;
}

const figure_t *
report_figure (const bench_t *self, const char *key)
{
    for (size_t i = 0; i < self->n_figures; i++)
        if (strcmp (self->figures [i].key, key) == 0)
            return &self->figures [i];
    return NULL;
}

//  min, median, max of a figure (0 if never measured)
static void
s_stats (const figure_t *figure, double *min, double *median, double *max)
{
    *min = *median = *max = 0;
    if (!figure || !figure->n)
        return;
    double sorted [BENCH_MAX_REPS];
    memcpy (sorted, figure->values, figure->n * sizeof (double));
    qsort (sorted, figure->n, sizeof (double), s_cmp_double);
    *min = sorted [0];
    *max = sorted [figure->n - 1];
    *median = figure->n % 2 ? sorted [figure->n / 2]
                            : (sorted [figure->n / 2 - 1] + sorted [figure->n / 2]) / 2;
}

double
report_median (const bench_t *self, const char *key)
{
    double min, median, max;
    s_stats (report_figure (self, key), &min, &median, &max);
    return median;
}

//  Prints one table row with min / median / max and the ratio to raw
static void
s_row (const bench_t *self, const char *key, double raw, const char *raw_what)
{
    const figure_t *figure = report_figure (self, key);
    if (!figure)
        return;
    double min, median, max;
    s_stats (figure, &min, &median, &max);
    char ratio [48] = "";
    if (raw > 0)
        snprintf (ratio, sizeof ratio, "%8.3f x %s", median / raw, raw_what);
    printf ("%-36s %12.2f %12.2f %12.2f %-7s %s\n", figure->label, min, median, max, figure->unit, ratio);
}

void
report_print (bench_t *self, size_t small_topics, size_t large_topics)
{
    const bench_options_t *options = &self->options;
    double raw_rate = report_median (self, "raw_pushpull_msg_per_s");
    double raw_p50 = report_median (self, "raw_rtt_p50_us");
    double raw_p99 = report_median (self, "raw_rtt_p99_us");
    double raw_p999 = report_median (self, "raw_rtt_p999_us");
    double raw_cost_us = raw_rate > 0 ? 1e6 / raw_rate : 0;
    double cost_small = report_median (self, "decl_per_s_nojournal") > 0
                      ? 1e6 / report_median (self, "decl_per_s_nojournal") : 0;
    //  Per-repetition costs of the small run, so the figure has a spread too
    const figure_t *nojournal = report_figure (self, "decl_per_s_nojournal");
    for (size_t i = 0; nojournal && i < nojournal->n; i++)
        report_record (self, "cost_small_us", "per-declaration cost, small", "us", 1e6 / nojournal->values [i]);
    const figure_t *large = report_figure (self, "decl_per_s_large");
    for (size_t i = 0; large && i < large->n; i++)
        report_record (self, "cost_large_us", "per-declaration cost, large", "us", 1e6 / large->values [i]);
    const figure_t *first = report_figure (self, "decl_per_s_large_first");
    for (size_t i = 0; first && i < first->n; i++)
        report_record (self, "cost_large_first_us", "per-decl cost, large, first decls", "us", 1e6 / first->values [i]);
    double cost_large = report_median (self, "cost_large_us");
    double scaling = cost_small > 0 ? cost_large / cost_small : 0;
    double rss_small = report_median (self, "rss_kb_small"), rss_large = report_median (self, "rss_kb_large");
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
    double night = report_median (self, "night_2017_s");
    s_row (self, "night_2017_s", raw_rate > 0 ? 650.0 / raw_rate : 0, "raw 650 msgs");
    printf ("%-36s %12s %12.3f\n", "scaling ratio (large/small cost)", "", scaling);
    printf ("%-36s %12s %12.3f\n", "scaling ratio, aggregator CPU", "",
            report_median (self, "agg_cpu_us_nojournal") > 0
            ? report_median (self, "agg_cpu_us_large") / report_median (self, "agg_cpu_us_nojournal") : 0);
    printf ("%-36s %12s %12.0f %12s bytes\n", "aggregator RSS per seat", "", per_seat, "");

    //  The yardstick of issue 17: the raw durable chain, measured beside ours
    double decl_per_s = report_median (self, "decl_per_s");
    double p99 = report_median (self, "lat_1k_p99_us");
    double chain_rate = report_median (self, "chain_msg_per_s");
    double chain_p99 = report_median (self, "chain_lat_1k_p99_us");
    double chain_throughput = chain_rate > 0 ? decl_per_s / chain_rate : 0;
    double chain_latency = chain_p99 > 0 ? p99 / chain_p99 : 0;
    printf ("\n%-36s %12s %12s %12s %-7s %s\n", "raw durable chain", "min", "median", "max", "unit",
            "ours / raw chain (median)");
    s_row (self, "chain_updates_per_decl", 0, "");
    s_row (self, "chain_msg_per_s", 0, "");
    s_row (self, "decl_per_s", chain_rate, "raw chain");
    static const char *rates [] = { "1k", "10k" }, *ranks [] = { "p50", "p99", "p999" };
    for (size_t i = 0; i < 2; i++)
        for (size_t j = 0; j < 3; j++) {
            char key [48], ours [48];
            snprintf (key, sizeof key, "chain_lat_%s_%s_us", rates [i], ranks [j]);
            s_row (self, key, 0, "");
            snprintf (ours, sizeof ours, "lat_%s_%s_us", rates [i], ranks [j]);
            s_row (self, ours, report_median (self, key), "raw chain");
        }
    s_row (self, "chain_store_cpu_us", 0, "");
    s_row (self, "chain_relay_cpu_us", 0, "");

    double agg_small = report_median (self, "agg_cpu_us");
    double agg_large = report_median (self, "agg_cpu_us_large");
    printf ("\ntargets (issue 17): durable throughput >= 0.5 x raw chain: %.3f %s; "
            "p99 @1,000/s <= 1.5 x raw chain p99: %.2f %s; aggregator CPU/decl <= 5 us at %zu "
            "seats (journal): %.1f %s; <= 7 us at %zu seats: %.1f %s\n",
            chain_throughput, chain_throughput >= 0.5 ? "met" : "NOT met",
            chain_latency, chain_latency > 0 && chain_latency <= 1.5 ? "met" : "NOT met",
            options->seats, agg_small, agg_small > 0 && agg_small <= 5 ? "met" : "NOT met",
            options->large_seats, agg_large, agg_large > 0 && agg_large <= 7 ? "met" : "NOT met");
    printf ("targets (issue 6): scaling <= 1.5: %.2f %s; 2017 night < 0.5 s: %.3f %s\n",
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
    json_object_set_new (json, "p50_us", json_real (report_median (self, "lat_1k_p50_us")));
    json_object_set_new (json, "p99_us", json_real (p99));
    json_object_set_new (json, "p999_us", json_real (report_median (self, "lat_1k_p999_us")));
    json_object_set_new (json, "throughput_ratio", json_real (raw_rate > 0 ? decl_per_s / raw_rate : 0));
    json_object_set_new (json, "throughput_ratio_nojournal",
                         json_real (raw_rate > 0 ? report_median (self, "decl_per_s_nojournal") / raw_rate : 0));
    json_object_set_new (json, "latency_p99_ratio", json_real (raw_p99 > 0 ? p99 / raw_p99 : 0));
    json_object_set_new (json, "latency_p99_ratio_nojournal",
                         json_real (raw_p99 > 0 ? report_median (self, "lat_1k_nojournal_p99_us") / raw_p99 : 0));
    json_object_set_new (json, "chain_throughput_ratio", json_real (chain_throughput));
    json_object_set_new (json, "chain_latency_p99_ratio", json_real (chain_latency));
    json_object_set_new (json, "scaling_ratio", json_real (scaling));
    double cpu_small = report_median (self, "agg_cpu_us_nojournal");
    json_object_set_new (json, "scaling_ratio_cpu",
                         json_real (cpu_small > 0 ? report_median (self, "agg_cpu_us_large") / cpu_small : 0));
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
