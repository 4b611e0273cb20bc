#!/usr/bin/env python3
"""bench_smoke: runs `bench --quick` and checks that it completes and that its
last line is one JSON object carrying the figures BENCHMARKS.md documents,
each a positive number; that the raw durable chain (issue 17) was measured
and its ratios agree with the figures they come from; and that the report
shows the chain beside ours. A smoke run, not a speed test: no figure is
judged against a goal.

    bench_smoke.py PATH/TO/bench
"""
import json
import math
import subprocess
import sys

REQUIRED = [
    "decl_per_s", "decl_per_s_nojournal", "raw_pushpull_msg_per_s", "throughput_ratio",
    "p50_us", "p99_us", "p999_us", "raw_rtt_p99_us", "latency_p99_ratio",
    "lat_10k_p99_us", "cost_small_us", "cost_large_us", "scaling_ratio",
    "snapshot_small_ms", "snapshot_large_ms", "rss_kb_small", "rss_kb_large",
    "rss_bytes_per_seat", "night_2017_s", "agg_cpu_us", "agg_cpu_us_large",
    "chain_msg_per_s", "chain_updates_per_decl", "chain_throughput_ratio",
    "chain_latency_p99_ratio", "chain_lat_1k_p50_us", "chain_lat_1k_p99_us",
    "chain_lat_1k_p999_us", "chain_lat_10k_p50_us", "chain_lat_10k_p99_us",
    "chain_lat_10k_p999_us", "chain_store_cpu_us", "chain_relay_cpu_us",
]


def chain_problems(figures, report):
    """What is not sane about the raw chain's figures (values unjudged)."""
    problems = []
    if figures["chain_updates_per_decl"] < 1:
        problems.append("fewer than one update per declaration: %r"
                        % figures["chain_updates_per_decl"])
    for rate in ("1k", "10k"):
        ranks = [figures["chain_lat_%s_%s_us" % (rate, rank)] for rank in ("p50", "p99", "p999")]
        if ranks != sorted(ranks):
            problems.append("chain latency percentiles at %s/s not in order: %r" % (rate, ranks))
    derived = [
        ("chain_throughput_ratio", figures["decl_per_s"] / figures["chain_msg_per_s"]),
        ("chain_latency_p99_ratio", figures["p99_us"] / figures["chain_lat_1k_p99_us"]),
    ]
    for key, expected in derived:
        # The JSON carries 6 significant digits
        if not math.isclose(figures[key], expected, rel_tol=1e-4):
            problems.append("%s is %r, but its figures give %r" % (key, figures[key], expected))
    # The chain does less than the pipeline: ten times slower is a broken chain
    if figures["chain_throughput_ratio"] > 10:
        problems.append("the raw chain is over 10 x slower than the pipeline")
    for text in ("raw durable chain", "ours / raw chain", "targets (issue 17)"):
        if text not in report:
            problems.append("the report lacks \"%s\"" % text)
    return problems


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        run = subprocess.run([sys.argv[1], "--quick"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, timeout=170)
    except subprocess.TimeoutExpired as timeout:
        print("bench --quick did not finish in %d s" % timeout.timeout, file=sys.stderr)
        return 1
    sys.stdout.write(run.stdout)
    sys.stderr.write(run.stderr)
    if run.returncode != 0:
        print("bench --quick exited with status %d" % run.returncode, file=sys.stderr)
        return 1
    lines = run.stdout.strip().splitlines()
    if not lines:
        print("bench --quick printed nothing", file=sys.stderr)
        return 1
    try:
        figures = json.loads(lines[-1])
    except ValueError as error:
        print("last line is not JSON: %s" % error, file=sys.stderr)
        return 1
    if not isinstance(figures, dict):
        print("last line is not a JSON object", file=sys.stderr)
        return 1
    bad = []
    for key in REQUIRED:
        value = figures.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value) or value <= 0:
            bad.append("%s=%r" % (key, value))
    if bad:
        print("missing or non-positive figures: " + ", ".join(bad), file=sys.stderr)
        return 1
    problems = chain_problems(figures, run.stdout)
    if problems:
        print("raw chain figures not sane: " + "; ".join(problems), file=sys.stderr)
        return 1
    print("bench_smoke: %d figures, all required present and positive" % len(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
