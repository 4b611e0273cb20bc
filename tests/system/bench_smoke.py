#!/usr/bin/env python3
"""bench_smoke: runs `bench --quick` and checks that it completes and that its
last line is one JSON object carrying the figures BENCHMARKS.md documents,
each a positive number. A smoke run, not a speed test: no figure is judged.

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
    "rss_bytes_per_seat", "night_2017_s",
]


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
    print("bench_smoke: %d figures, all required present and positive" % len(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
