#!/usr/bin/env python3
"""profile-bench: where the aggregator's and the publisher's time goes per
declaration, measured under `bench` (issue 17; BENCHMARKS.md "Where the time
goes"). Hardware counters are not available on the VMs this project runs on,
so it uses what is:

  callgrind  instructions and simulated cache misses of the code that handles
             declarations: the aggregator's loop, aggregator_run (decode, tally,
             journal, summaries, publish, acks) and the publisher's
             clone_client_handle (receive, store, forward), with callees.
             libzmq's I/O thread and the kernel are not in it.
  perf       CPU time by thread and function, kernel included (perf record
             -e cpu-clock on every CPU), over exactly the throughput runs.

It starts bench with --bin-dir on wrappers of the aggregator and publisher
(valgrind for callgrind; plain for perf, to learn their pids), reads bench's
progress lines as they come, and profiles three phases of one pipeline each:
  small            the first durable throughput run at 650 seats ("acked
                   decl/s, journal+fsync")
  small-nojournal  the first at 650 seats without a journal
  large            the first revisions run at 200,000 seats (no journal:
                   "acked decl/s, large, revisions"); under callgrind its
                   pipeline is not instrumented until the first wave ends
                   (its start would take minutes)
then stops bench (SIGINT). Results go to OUT: callgrind.PHASE.ROLE.txt
(callgrind_annotate, inclusive cost; .self.txt: self cost) or
perf.PHASE.ROLE.txt (CPU per declaration by thread, by kind, by function),
and summary.txt with the declarations each phase carried, to divide by.

    scripts/profile-bench.py --tool callgrind --out /tmp/profile
    scripts/profile-bench.py --tool perf --out /tmp/profile -- --revisions 200
"""
import argparse
import glob
import os
import re
import shlex
import signal
import subprocess
import sys
import time

WRAPPER = """#!/bin/sh
# profile-bench: %(role)s under %(tool)s
echo "%(role)s $$ $*" >> '%(out)s/pids'
%(pre)s
exec %(command)s '%(real)s' "$@"
"""

# The aggregator's whole loop: its handler of a batch (s_handle_ingest) is
# static and gcc inlines it at -O2 since main as of b882ab0, which left
# nothing to collect. The loop adds its polls, heartbeats and the bench's
# probes: a few instructions per declaration over thousands.
TOGGLE = {"aggregator": "aggregator_run", "publisher": "clone_client_handle"}

# A large election of this many seats or fewer is instrumented from its
# start (and counted from zero after its first wave); a larger one takes
# minutes to load so, and is instrumented only after its first wave, which
# leaves the aggregator's loop, entered before, out of its profile
INSTRUMENTED_SEATS = 50000

DEFAULT_ARGS = {
    "callgrind": ["--reps", "1", "--revisions", "20", "--large-decls", "20000", "--latency-s", "0.1"],
    "perf": ["--reps", "1", "--revisions", "100", "--large-decls", "100000", "--latency-s", "0.1"],
}


def write_wrappers(args, bin_dir):
    os.makedirs(bin_dir, exist_ok=True)
    for role in ("aggregator", "publisher"):
        pre, command = "", ""
        if args.tool == "callgrind":
            # The caches of the machine this was written on (AMD EPYC: L1d
            # 32 KB 8-way, L3 32 MB 16-way); valgrind guessed its L3 as
            # 256 MB direct-mapped, which hides what a 490 MB state misses
            vg = ("valgrind --tool=callgrind --cache-sim=yes --D1=32768,8,64 --LL=%s "
                  "--toggle-collect=%s --callgrind-out-file='%s/callgrind.%%p'"
                  % (args.ll, TOGGLE[role], args.out))
            # The large election takes minutes to load and declare
            # instrumented: its pipeline is not instrumented until the first
            # wave ends (this script marks the phase, then turns it on)
            pre = "INSTR=yes\n[ -e '%s/large' ] && INSTR=no" % args.out
            command = vg + " --instr-atstart=$INSTR"
        path = os.path.join(bin_dir, role)
        with open(path, "w") as out:
            out.write(WRAPPER % {"role": role, "tool": args.tool, "out": args.out, "pre": pre,
                                 "command": command,
                                 "real": os.path.join(os.path.abspath(args.build), "bin", role)})
        os.chmod(path, 0o755)


def latest_pids(out):
    """The most recent aggregator and publisher the wrappers started."""
    pids = {}
    try:
        with open(os.path.join(out, "pids")) as table:
            for line in table:
                role, pid = line.split()[:2]
                pids[role] = int(pid)
    except FileNotFoundError:
        pass
    return pids


def callgrind_control(option, pid):
    subprocess.run(["callgrind_control", option, str(pid)], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=120, check=False)


def declarations(line):
    match = re.search(r"\((\d+) in ([0-9.]+) s", line)
    return (int(match.group(1)), float(match.group(2))) if match else (0, 0.0)


def run(args, bench_args):
    bin_dir = os.path.join(args.out, "bin")
    write_wrappers(args, bin_dir)
    perf = None
    if args.tool == "perf":
        perf = subprocess.Popen(["perf", "record", "-a", "-k", "CLOCK_MONOTONIC", "-e", "cpu-clock",
                                 "-F", str(args.frequency), "-o", os.path.join(args.out, "perf.data")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    bench = [os.path.join(args.build, "bin", "bench"), "--bin-dir", bin_dir] + bench_args
    print("profile-bench: " + " ".join(shlex.quote(a) for a in bench), flush=True)
    if args.tool == "callgrind" and args.large_seats > INSTRUMENTED_SEATS:
        print("profile-bench: %d seats are instrumented after their first wave only: the "
              "large profile will lack the aggregator's loop (--large-seats %d or fewer has it)"
              % (args.large_seats, INSTRUMENTED_SEATS), flush=True)
    phases = {}     # phase -> {start, end, decls, seconds, pids}
    proc = subprocess.Popen(bench, stdout=subprocess.PIPE, text=True)
    for line in proc.stdout:
        now = time.monotonic()
        sys.stdout.write(line)
        sys.stdout.flush()
        phase = None
        if "acked decl/s, journal+fsync" in line and "small" not in phases:
            phase = "small"
        elif "acked decl/s, no journal" in line and "small-nojournal" not in phases:
            phase = "small-nojournal"
        elif line.startswith("== %d seats" % args.large_seats) and args.large_seats > INSTRUMENTED_SEATS:
            open(os.path.join(args.out, "large"), "w").close()
        elif "acked decl/s, large, first declarations" in line and args.tool == "callgrind":
            # What follows the first wave is the phase: turned on, or (a
            # pipeline instrumented from its start) counted from zero
            option = "--instr=on" if args.large_seats > INSTRUMENTED_SEATS else "--zero"
            for pid in latest_pids(args.out).values():
                callgrind_control(option, pid)
        elif "acked decl/s, large, revisions" in line and "large" not in phases:
            phase = "large"
        if phase:
            pids = latest_pids(args.out)
            decls, seconds = declarations(line)
            # bench's own figure times the run: the window ends now, and
            # starts that long before (not at the previous line: the
            # pipeline's start lies between)
            phases[phase] = {"start": now - seconds, "end": now, "decls": decls,
                             "seconds": seconds, "pids": pids}
            if args.tool == "callgrind":
                for role, pid in pids.items():
                    callgrind_control("--dump=" + phase, pid)
            if phase == "large":
                proc.send_signal(signal.SIGINT)
    proc.wait()
    if perf:
        perf.send_signal(signal.SIGINT)
        perf.wait()
    return phases


KINDS = [   # (dso prefix, symbol pattern, kind): the first that matches
    ("[kernel", "", "kernel"),
    ("libc", "malloc|free|calloc|realloc|unlink_chunk|tcache|consolidate", "malloc/free"),
    ("libc", "printf|_IO_|strchrnul", "printf"),
    ("libc", "qsort|msort", "qsort"),
    ("libc", "mem|str", "memcpy/strings"),
    ("libprotobuf-c", "", "protobuf-c"),
    ("libzmq", "", "libzmq"),
    ("libz.", "", "crc32"),
]


def perf_kind(dso, sym):
    for prefix, pattern, kind in KINDS:
        if dso.startswith(prefix) and re.search(pattern, sym):
            return kind
    return "other " + dso


def perf_table(args, pid, info):
    """CPU time per declaration of one process in a phase's window, by
    thread (main, libzmq's I/O thread) and function, kernel included."""
    script = subprocess.run(["perf", "script", "-i", os.path.join(args.out, "perf.data"),
                             "-F", "comm,pid,tid,time,ip,sym,dso",
                             "--time", "%.6f,%.6f" % (info["start"], info["end"])],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    line_re = re.compile(r"^\s*(.+?)\s+(\d+)/(\d+)\s+[\d.]+:\s+[0-9a-f]+\s+(.*?)\s*\((.*)\)\s*$")
    counts, threads, total = {}, {}, 0
    for line in script.splitlines():
        match = line_re.match(line)
        if not match or int(match.group(2)) != pid:
            continue
        comm, sym, dso = match.group(1), match.group(4) or "?", os.path.basename(match.group(5))
        thread = "io" if comm.startswith("ZMQbg") else "main"
        counts[(thread, dso, sym)] = counts.get((thread, dso, sym), 0) + 1
        threads[thread] = threads.get(thread, 0) + 1
        total += 1
    per = 1e6 / args.frequency / max(info["decls"], 1)     # us of CPU per sample and declaration
    out = ["%d samples at %d/s over %d declarations: %.2f us of CPU per declaration"
           % (total, args.frequency, info["decls"], total * per)]
    out += ["  %-4s %6.2f us  %5.1f%%" % (t, n * per, 100.0 * n / max(total, 1))
            for t, n in sorted(threads.items(), key=lambda kv: -kv[1])]
    kinds = {}
    for (thread, dso, sym), n in counts.items():
        kind = (thread, perf_kind(dso, sym))
        kinds[kind] = kinds.get(kind, 0) + n
    out.append("thread  us/decl  share  kind")
    out += ["%-4s %8.3f %5.1f%%  %s" % (thread, n * per, 100.0 * n / total, kind)
            for (thread, kind), n in sorted(kinds.items(), key=lambda kv: -kv[1])
            if n * 200 >= total]
    out.append("thread  us/decl  share  dso  symbol")
    for (thread, dso, sym), n in sorted(counts.items(), key=lambda kv: -kv[1]):
        if n * 1000 < total * 3:        # below 0.3 %
            break
        out.append("%-4s %8.3f %5.1f%%  %s  %s" % (thread, n * per, 100.0 * n / total, dso, sym))
    return "\n".join(out) + "\n"


def report(args, phases):
    lines = []
    for phase, info in phases.items():
        lines.append("%s: %d declarations in %.3f s, window %.6f,%.6f (CLOCK_MONOTONIC), pids %s"
                     % (phase, info["decls"], info["seconds"], info["start"], info["end"],
                        info["pids"]))
        for role, pid in info["pids"].items():
            target = os.path.join(args.out, "%s.%s.%s.txt" % (args.tool, phase, role))
            if args.tool == "callgrind":
                dumps = [path for path in glob.glob(os.path.join(args.out, "callgrind.%d.*" % pid))
                         if ("desc: Trigger: dump " + phase + "\n") in open(path).read(4096)]
                if not dumps:
                    lines.append("  %s: no dump for %s" % (role, phase))
                    continue
                for suffix, extra in ((".txt", ["--inclusive=yes"]), (".self.txt", [])):
                    with open(target.replace(".txt", suffix), "w") as out:
                        subprocess.run(["callgrind_annotate", "--auto=no", "--threshold=100"]
                                       + extra + [dumps[0]], stdout=out,
                                       stderr=subprocess.DEVNULL, check=False)
            else:
                with open(target, "w") as out:
                    out.write(perf_table(args, pid, info))
            lines.append("  %s: %s" % (role, target))
    text = "\n".join(lines) + "\n"
    with open(os.path.join(args.out, "summary.txt"), "w") as out:
        out.write(text)
    sys.stdout.write(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tool", choices=("callgrind", "perf"), default="callgrind",
                        help="default callgrind")
    parser.add_argument("--out", required=True, help="directory for the results (made if missing)")
    parser.add_argument("--build", default="build", help="build directory (default build)")
    parser.add_argument("--large-seats", type=int, default=200000,
                        help="seats of bench's large election (default 200000)")
    parser.add_argument("--frequency", type=int, default=999, help="perf samples/s (default 999)")
    parser.add_argument("--ll", default="33554432,16,64",
                        help="callgrind's last-level cache: size,ways,line (default 33554432,16,64)")
    parser.add_argument("bench_args", nargs="*",
                        help="after --: bench's own options (default: one repetition, short runs)")
    args = parser.parse_args()
    args.out = os.path.abspath(args.out)
    os.makedirs(args.out, exist_ok=True)
    for stale in ("large", "pids"):
        if os.path.exists(os.path.join(args.out, stale)):
            os.unlink(os.path.join(args.out, stale))
    bench_args = args.bench_args or DEFAULT_ARGS[args.tool]
    if args.large_seats != 200000:
        bench_args = bench_args + ["--large-seats", str(args.large_seats)]
    report(args, run(args, bench_args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
