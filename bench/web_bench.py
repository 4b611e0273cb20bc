#!/usr/bin/env python3
"""The web tier's benchmark (issue 16; BENCHMARKS.md "The web tier"): the
publisher's own gateway against nginx + nchan (deploy/nginx), at each number
of SSE readers, while the busiest hour of the 2017 night (02:30 to 03:30,
228 declarations) is replayed at 100x. Readers are bench/webload, on the
same machine. Then two nginx servers sharing the channel through one Redis.

Per run: delivery latency to the last reader (p50, p99, max, over the
events), failed streams, whether every reader got every event in order,
memory per connection (the server's proportional set size after the
readers connected, less before, over the readers), CPU of the server, the
publisher and the load client over the replay.

Usage: python3 bench/web_bench.py [--bin build/bin] [--clients 100,1000,10000]
       [--tiers embedded,nginx] [--speed 100] [--window 02:30-03:30] [--json FILE]
Run it inside a network namespace of its own (README "Tests") on a quiet machine."""
import argparse
import json
import os
import resource
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(HERE)


def parse():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=os.path.join(SOURCE, "build", "bin"), help="built programs (default build/bin)")
    parser.add_argument("--clients", default="100,1000,10000", help="readers per run (default 100,1000,10000)")
    parser.add_argument("--tiers", default="embedded,nginx", help="embedded, nginx or both (default both)")
    parser.add_argument("--speed", default="100", help="replay speed (default 100)")
    parser.add_argument("--window", default="02:30-03:30", help="part of the night replayed, local time (default 02:30-03:30)")
    parser.add_argument("--max-server-mib", type=int, default=4096,
                        help="stop a run whose server grows past this (default 4096: the machine is shared)")
    parser.add_argument("--max-run-s", type=int, default=900, help="stop a run that takes longer (default 900)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="nginx worker processes (default: CPUs)")
    parser.add_argument("--no-redis", action="store_true", help="skip the two-servers-through-Redis check")
    parser.add_argument("--json", help="also write every figure here")
    return parser.parse_args()


ARGS = parse()
sys.path.insert(0, os.path.join(SOURCE, "tests", "system"))
import harness          # noqa: E402
import webtier          # noqa: E402
from harness import Pipeline, Process, free_port, http_get, wait_for      # noqa: E402
harness.configure(ARGS.bin, os.path.join(SOURCE, "data"))


def raise_file_limit():
    """As many descriptors as the machine allows (every child inherits them)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with open("/proc/sys/fs/nr_open") as f:
        nr_open = int(f.read())
    wanted = min(nr_open, 200000)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, wanted))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    now = resource.getrlimit(resource.RLIMIT_NOFILE)
    return {"soft_before": soft, "hard_before": hard, "nr_open": nr_open, "now": now[0]}


def window_subset(workdir):
    """The results and times files of the declarations inside the window."""
    import csv
    start, end = ARGS.window.split("-")
    with open(os.path.join(harness.DATA, "declaration_times_2017.csv"), newline="") as f:
        rows = list(csv.reader(f))[1:]
    inside = sorted((r for r in rows if start <= r[1][11:16] < end and r[1][:10] == "2017-06-09"),
                    key=lambda r: r[1])
    wanted = {r[0] for r in inside}
    results = os.path.join(workdir, "window.csv")
    harness.write_csv(results, [r for r in harness.read_rows(harness.RESULTS) if r[0] in wanted])
    times = os.path.join(workdir, "window_times.csv")
    with open(times, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["ons_id", "declared_at"])
        writer.writerows(inside)
    return results, times, len(inside)


def pss_kib(pids):
    """Proportional set size: shared pages (nchan's shared memory) counted once in all."""
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/smaps_rollup" % pid) as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def cpu_s(pids):
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
        except OSError:
            pass
    return total


def threads(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return 0


def run(tier, clients, workdir, results, times, seats):
    p = Pipeline(workdir)
    p.start_aggregator()
    port = free_port()
    extra = ["--http-per-ip", "0", "--quiet"]
    nginx = None
    if tier == "nginx":
        nginx = webtier.Nginx(workdir, "nginx", workers=ARGS.workers, connections=clients + 1000)
        nginx.start(port)
        extra += ["--nchan-publish", nginx.publish_url]
    else:
        extra += ["--http-streams", str(clients + 100)]
    pub = p.start_publisher(http=port, extra=extra)
    url = nginx.url("") if nginx else pub.http
    wait_for(lambda: http_get(url + "/state")[0] == 200, 30, "GET /state")
    servers = lambda: nginx.pids() if nginx else [pub.proc.pid]
    before = pss_kib(servers())
    load = webtier.start_load(workdir, url + "/events", clients, seats, duration=3000)
    started = time.monotonic()
    wait_for(lambda: webtier.load_ready(load), 600, "%d readers" % clients)
    connect_s = time.monotonic() - started
    time.sleep(2)       # let the servers settle before measuring memory, not to synchronise
    after = pss_kib(servers())
    figures = {"tier": tier, "clients": clients, "connect_s": round(connect_s, 1),
               "server_kib_before": before, "server_kib_after": after,
               "bytes_per_connection": round((after - before) * 1024 / clients),
               "publisher_threads": threads(pub.proc.pid), "load_average": os.getloadavg()[0]}
    cpu_before = (cpu_s(servers()), cpu_s([pub.proc.pid]), cpu_s([p.aggregator.proc.pid]))
    replay_started = time.monotonic()
    p.ingest("replay", results, "--times", times, "--speed", ARGS.speed, "--quiet", timeout=3000)
    # Until every reader has the last event; a server that falls so far behind
    # that it grows past the bound, or takes too long, is stopped (and says so)
    peak, stopped = 0, None
    while load.alive() and not stopped:
        peak = max(peak, pss_kib(servers()))
        if peak > ARGS.max_server_mib * 1024:
            stopped = "server over %d MiB" % ARGS.max_server_mib
        elif time.monotonic() - replay_started > ARGS.max_run_s:
            stopped = "over %d s" % ARGS.max_run_s
        else:
            time.sleep(1)       # sampling memory, not synchronising
    if stopped:
        load.proc.terminate()
    report = webtier.load_report(load, 60)
    wall = time.monotonic() - replay_started
    cpu_after = (cpu_s(servers()), cpu_s([pub.proc.pid]), cpu_s([p.aggregator.proc.pid]))
    delivered = max(1, report["deliveries"] + report["health_events"])
    figures.update({
        "replay_s": round(wall, 1),
        "server_us_per_delivery": round(1e6 * (cpu_after[0] - cpu_before[0]) / delivered, 1),
        "load_client_us_per_delivery": round(1e6 * report["cpu_s"] / delivered, 1),
        "server_cpu_percent": round(100 * (cpu_after[0] - cpu_before[0]) / wall, 1),
        "publisher_cpu_percent": round(100 * (cpu_after[1] - cpu_before[1]) / wall, 1),
        "aggregator_cpu_percent": round(100 * (cpu_after[2] - cpu_before[2]) / wall, 1),
        "server_kib_end": pss_kib(servers()), "server_kib_peak": peak, "stopped": stopped,
        "report": report})
    if nginx:
        figures["nginx_errors"] = [l for l in nginx.errors().splitlines() if "[alert]" in l or "[emerg]" in l][:5]
    for proc in list(Process.started):
        if proc.alive():
            proc.stop()
    Process.started.clear()
    return figures


def redis_check(workdir, results, times, seats, readers=100):
    redis = webtier.Redis(workdir)
    p = Pipeline(workdir)
    p.start_aggregator()
    port = free_port()
    servers = [webtier.Nginx(workdir, "nginx-%s" % name, workers=ARGS.workers, redis_port=redis.port)
               for name in ("a", "b")]
    for server in servers:
        server.start(port)
    p.start_publisher(http=port, extra=["--nchan-publish", servers[0].publish_url, "--quiet"])
    for server in servers:
        wait_for(lambda: http_get(server.url("/state"))[0] == 200, 30, "GET /state")
    loads = [webtier.start_load(workdir, server.url("/events"), readers, seats, duration=3000,
                                name="webload-" + str(i)) for i, server in enumerate(servers)]
    for load in loads:
        wait_for(lambda: webtier.load_ready(load), 120, "readers")
    p.ingest("replay", results, "--times", times, "--speed", ARGS.speed, "--quiet", timeout=3000)
    reports = [webtier.load_report(load, 3000) for load in loads]
    for proc in list(Process.started):
        if proc.alive():
            proc.stop()
    Process.started.clear()
    return {"readers_per_server": readers, "digests": [r["digests"] for r in reports],
            "same_events_same_order": reports[0]["digests"] == reports[1]["digests"]
            and list(reports[0]["digests"].values()) == [readers],
            "complete": [r["complete"] for r in reports],
            "latency_last_ms": [r["latency_last_ms"] for r in reports]}


def row(f):
    r = f["report"]
    last = r["latency_last_ms"] or {}
    return "| %s | %s | %s / %s%s | %s | %s | %.1f / %.1f / %.1f | %s | %s | %s | %s | %s | %s |" % (
        f["tier"], "{:,}".format(f["clients"]), r["complete"], r["connected"],
        " (stopped: %s)" % f["stopped"] if f["stopped"] else "", r["failed"],
        r["gaps"] + r["out_of_order"] + r["events_missed_by_some"],
        last.get("p50", -1), last.get("p99", -1), last.get("max", -1),
        "{:,}".format(f["bytes_per_connection"]), "{:,}".format(f["server_kib_peak"] // 1024),
        f["server_cpu_percent"], f["server_us_per_delivery"], f["publisher_cpu_percent"],
        round(r["cpu_percent"], 1))


def main():
    reason = webtier.missing(redis=not ARGS.no_redis) if "nginx" in ARGS.tiers else None
    if reason:
        sys.exit("web_bench: " + reason)
    limits = raise_file_limit()
    print("file descriptors: %s" % limits, flush=True)
    out = {"limits": limits, "speed": ARGS.speed, "window": ARGS.window, "runs": []}
    with tempfile.TemporaryDirectory(prefix="web-bench-") as top:
        results, times, seats = window_subset(top)
        out["declarations"] = seats
        print("| tier | readers | complete / open | failed | lost or out of order | latency to the last p50 / p99 / max ms "
              "| bytes per connection | server peak MiB | server CPU % | server µs per delivery | publisher CPU % "
              "| load client CPU % |", flush=True)
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|", flush=True)
        for clients in [int(c) for c in ARGS.clients.split(",")]:
            for tier in ARGS.tiers.split(","):
                workdir = tempfile.mkdtemp(dir=top)
                figures = run(tier, clients, workdir, results, times, seats)
                out["runs"].append(figures)
                print(row(figures), flush=True)
        if not ARGS.no_redis and "nginx" in ARGS.tiers:
            out["redis"] = redis_check(tempfile.mkdtemp(dir=top), results, times, seats)
            print("two nginx servers through one Redis: %s" % json.dumps(out["redis"]), flush=True)
    if ARGS.json:
        with open(ARGS.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
