"""Test harness: starts the real binaries on free loopback ports and asks them
for readiness (a snapshot answered), never sleeping to synchronise.

Used by the integration tests: python3 tests/system/test_X.py BIN_DIR DATA_DIR
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

BIN = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.abspath("build/bin")
DATA = os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 else os.path.abspath("data")
BASELINE = os.path.join(DATA, "ge2015.csv")
RESULTS = os.path.join(DATA, "ge2017.csv")
BBC = {"Con": (318, -13), "Lab": (262, 30), "SNP": (35, -21), "LD": (12, 4), "DUP": (10, 2)}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tcp(port):
    return "tcp://127.0.0.1:%d" % port


class Process:
    """A real program under test, its output in a log file."""
    started = []

    def __init__(self, workdir, name, args):
        self.name = name
        self.args = [os.path.join(BIN, args[0])] + list(args[1:])
        self.log_path = os.path.join(workdir, "%s-%d.log" % (name, time.monotonic_ns()))
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT)
        Process.started.append(self)

    def alive(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.alive():
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("%s did not stop within %s s of signal %s" % (self.name, timeout, sig))
        self.log.close()
        return self.proc.returncode

    def kill(self):
        return self.stop(signal.SIGKILL)

    def output(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


class Pipeline:
    """An aggregator and, optionally, publishers, on fresh ports."""

    def __init__(self, workdir, journal=None, extra=()):
        self.workdir = workdir
        self.ingest_port, self.agg_updates, self.agg_snapshot = free_port(), free_port(), free_port()
        self.journal = journal
        self.extra = list(extra)
        self.aggregator = None
        self.publishers = []

    def aggregator_args(self):
        args = ["aggregator", "--baseline", BASELINE, "--speaker-as", "Con", "--baseline-speaker-as", "Con",
                "--ingest", tcp(self.ingest_port), "--updates", tcp(self.agg_updates),
                "--snapshot", tcp(self.agg_snapshot)] + self.extra
        if self.journal:
            args += ["--journal", self.journal]
        return args

    def start_aggregator(self, wait=True):
        self.aggregator = Process(self.workdir, "aggregator", self.aggregator_args())
        if wait:
            self.state(self.agg_updates, self.agg_snapshot)
        return self.aggregator

    def start_publisher(self, ports=None, wait=True):
        updates, snapshot = ports or (free_port(), free_port())
        pub = Process(self.workdir, "publisher", [
            "publisher", "--upstream-updates", tcp(self.agg_updates), "--upstream-snapshot", tcp(self.agg_snapshot),
            "--updates", tcp(updates), "--snapshot", tcp(snapshot), "--http", "0"])
        pub.ports = (updates, snapshot)
        self.publishers.append(pub)
        if wait:
            self.state(*pub.ports)
        return pub

    def ingest(self, *args, timeout=120, check=True):
        cmd = [os.path.join(BIN, "ingest")] + list(args) + ["--to", tcp(self.ingest_port)]
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if check and run.returncode != 0:
            raise AssertionError("ingest %s failed (%d):\n%s\n%s" % (args, run.returncode, run.stdout, run.stderr))
        return run

    def start_ingest(self, *args):
        return Process(self.workdir, "ingest", ["ingest"] + list(args) + ["--to", tcp(self.ingest_port)])

    def state(self, updates=None, snapshot=None, min_sequence=0, timeout=20):
        """The whole state as `subscribe --once --json` prints it."""
        updates = updates or self.agg_updates
        snapshot = snapshot or self.agg_snapshot
        run = subprocess.run([os.path.join(BIN, "subscribe"), "--updates", tcp(updates), "--snapshot", tcp(snapshot),
                              "--once", "--json", "--min-sequence", str(min_sequence), "--timeout", str(timeout)],
                             capture_output=True, text=True, timeout=timeout + 10)
        if run.returncode != 0:
            raise AssertionError("subscribe --once failed: %s" % run.stderr)
        return json.loads(run.stdout)

    def start_subscriber(self, ports, min_sequence):
        """A subscriber that follows live until min_sequence, then prints the state."""
        return Process(self.workdir, "subscribe", [
            "subscribe", "--updates", tcp(ports[0]), "--snapshot", tcp(ports[1]), "--once", "--json",
            "--min-sequence", str(min_sequence), "--timeout", "120"])

    def stop(self):
        for p in self.publishers:
            p.stop()
        if self.aggregator:
            self.aggregator.stop()


def content(state):
    """The figures of a state, without what differs between runs (epoch)."""
    return {"declared": state["declared"], "parties": state["parties"],
            "constituencies": state["constituencies"], "regions": state["regions"]}


def subscriber_state(process, timeout=60):
    process.proc.wait(timeout)
    text = process.output()
    line = [l for l in text.splitlines() if l.startswith("{")]
    assert process.proc.returncode == 0 and line, "subscriber failed:\n" + text
    return json.loads(line[-1])


class PipelineTest(unittest.TestCase):
    """Base: a temp dir per test, every process stopped at the end."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="election-test-")
        self.workdir = self.tmp.name
        self.pipelines = []

    def tearDown(self):
        for proc in Process.started:
            if proc.alive():
                proc.proc.kill()
                proc.proc.wait()
            proc.log.close()
        Process.started.clear()
        self.tmp.cleanup()

    def pipeline(self, **kw):
        p = Pipeline(self.workdir, **kw)
        self.pipelines.append(p)
        return p

    def assertBBC(self, state):
        parties = {p["party"]: p for p in state["parties"]}
        for party, (seats, change) in BBC.items():
            self.assertEqual((parties[party]["seats"], parties[party]["change"]), (seats, change), party)
        others = [p for name, p in parties.items() if name not in BBC]
        self.assertEqual(sum(p["seats"] for p in others), 13)
        self.assertEqual(sum(p["change"] for p in others), -2)
        self.assertEqual(state["declared"], 650)
        luton = next(c for c in state["constituencies"] if c["id"] == "E14000800")
        self.assertEqual((luton["winner"], luton["outcome"], luton["majority"]), ("Lab", "hold", 14364))


def write_csv(path, rows):
    """Writes a results file (header + rows of the 8 columns), quoting as RFC 4180."""
    import csv
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["ons_id", "constituency", "country", "region", "electorate", "candidate", "party", "votes"])
        w.writerows(rows)


def read_rows(path, ons_id=None):
    import csv
    with open(path, newline="") as f:
        rows = list(csv.reader(f))[1:]
    return [r for r in rows if ons_id is None or r[0] == ons_id]


def main():
    unittest.main(argv=[sys.argv[0], "-v"])
