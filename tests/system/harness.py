"""Test harness: starts the real binaries on free loopback ports and asks them
for readiness (a snapshot answered), never sleeping to synchronise.

Used by the integration tests, each ending in harness.main():
    python3 tests/system/test_X.py BIN_DIR DATA_DIR [unittest arguments]
(BIN_DIR and DATA_DIR default to $EL_BIN_DIR and $EL_DATA_DIR, then to
build/bin and data). Importing it reads nothing and starts nothing.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

# Set by configure() (harness.main calls it): where the programs and data are
BIN = DATA = BASELINE = RESULTS = None
BBC = {"Con": (318, -13), "Lab": (262, 30), "SNP": (35, -21), "LD": (12, 4), "DUP": (10, 2)}


def configure(bin_dir=None, data_dir=None):
    """Points the harness at the programs and the data."""
    global BIN, DATA, BASELINE, RESULTS
    BIN = os.path.abspath(bin_dir or os.environ.get("EL_BIN_DIR") or "build/bin")
    DATA = os.path.abspath(data_dir or os.environ.get("EL_DATA_DIR") or "data")
    BASELINE = os.path.join(DATA, "ge2015.csv")
    RESULTS = os.path.join(DATA, "ge2017.csv")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tcp(port):
    return "tcp://127.0.0.1:%d" % port


def wait_for(predicate, timeout, what):
    """Polls a condition until it holds (polling, not synchronising on time)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)


def run(program, *args, timeout=60, wrap=()):
    """Runs one of the programs to the end, its output captured as text
    (wrap: a command to run it under, e.g. ip netns exec NS)."""
    return subprocess.run(list(wrap) + [os.path.join(BIN, program)] + list(args), capture_output=True,
                          text=True, timeout=timeout)


class Process:
    """A real program under test, its output in a log file (stdout in a file
    of its own with stdout_apart, for a program that prints a result there)."""
    started = []

    def __init__(self, workdir, name, args, stdout_apart=False, group=False, preexec_fn=None, wrap=()):
        """group: the program starts processes of its own (nginx's workers):
        it gets a process group, and a kill takes the whole group.
        preexec_fn: run in the child before the program (file_size_limit).
        wrap: a command to run it under (ip netns exec NS)."""
        self.name = name
        self.args = list(wrap) + [os.path.join(BIN, args[0])] + list(args[1:])
        self.log_path = os.path.join(workdir, "%s-%d.log" % (name, time.monotonic_ns()))
        self.log = open(self.log_path, "wb")
        self.stdout_path = self.log_path + ".stdout" if stdout_apart else None
        stdout = open(self.stdout_path, "wb") if stdout_apart else self.log
        self.group = group
        # A program whose files are limited in size (file_size_limit) could
        # not write its log to a file: it goes through a pipe, copied here
        piped = preexec_fn is not None and not stdout_apart
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE if piped else stdout,
                                     stderr=self.log if stdout_apart else subprocess.STDOUT,
                                     start_new_session=group, preexec_fn=preexec_fn)
        self.copier = None
        if piped:
            self.copier = threading.Thread(target=self._copy, daemon=True)
            self.copier.start()
        if stdout_apart:
            stdout.close()      # the child has its own copy
        Process.started.append(self)

    def _copy(self):
        for chunk in iter(lambda: self.proc.stdout.read1(65536), b""):
            self.log.write(chunk)
            self.log.flush()
        self.proc.stdout.close()

    def kill_now(self):
        """SIGKILL, and its children too if it has a group of its own."""
        if self.group:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        elif self.alive():
            self.proc.kill()
        self.proc.wait()
        if self.copier:
            self.copier.join(10)

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
        if self.copier:
            self.copier.join(10)
        self.log.close()
        return self.proc.returncode

    def kill(self):
        return self.stop(signal.SIGKILL)

    def output(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def summary(self, timeout=120):
        """Waits for the end of an `ingest --json` run and returns its summary."""
        self.proc.wait(timeout)
        with open(self.stdout_path, encoding="utf-8") as f:
            text = f.read()
        try:
            return json.loads(text)
        except ValueError:
            raise AssertionError("%s printed no JSON summary (exit %s):\n%s\n%s"
                                 % (self.name, self.proc.returncode, text, self.output()))


class Pipeline:
    """An aggregator and, optionally, publishers, on fresh ports."""

    def __init__(self, workdir, journal=None, extra=()):
        self.workdir = workdir
        self.file_size_limit = None     # bytes: the aggregator's files stop growing there
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
        self.aggregator = Process(self.workdir, "aggregator", self.aggregator_args(),
                                  preexec_fn=file_size_limit(self.file_size_limit))
        if wait:
            self.state(self.agg_updates, self.agg_snapshot)
        return self.aggregator

    def start_publisher(self, ports=None, wait=True, http=False, extra=()):
        """A publisher; with http=True (or a port) its gateway (pub.http is its base URL)."""
        updates, snapshot = ports or (free_port(), free_port())
        http_port = (free_port() if http is True else http) if http else 0
        pub = Process(self.workdir, "publisher", [
            "publisher", "--upstream-updates", tcp(self.agg_updates), "--upstream-snapshot", tcp(self.agg_snapshot),
            "--updates", tcp(updates), "--snapshot", tcp(snapshot), "--http", str(http_port)] + list(extra))
        pub.ports = (updates, snapshot)
        pub.http = "http://127.0.0.1:%d" % http_port if http else None
        self.publishers.append(pub)
        if wait:
            self.state(*pub.ports)
        return pub

    def ingest(self, *args, timeout=120, check=True, summary=False):
        """Runs ingest to the end; with summary, adds --json and sets
        result.summary to the JSON line it ends with."""
        extra = ["--json"] if summary else []
        result = run("ingest", *args, *extra, "--to", tcp(self.ingest_port), timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError("ingest %s failed (%d):\n%s\n%s" % (args, result.returncode, result.stdout, result.stderr))
        if summary:
            try:
                result.summary = json.loads(result.stdout)
            except ValueError:
                raise AssertionError("ingest %s printed no JSON summary:\n%s\n%s" % (args, result.stdout, result.stderr))
        return result

    def start_ingest(self, *args):
        """ingest in the background, with --json: read its end with .summary()."""
        return Process(self.workdir, "ingest", ["ingest"] + list(args) + ["--json", "--to", tcp(self.ingest_port)],
                       stdout_apart=True)

    def state(self, updates=None, snapshot=None, min_sequence=0, timeout=20):
        """The whole state as `subscribe --once --json` prints it."""
        updates = updates or self.agg_updates
        snapshot = snapshot or self.agg_snapshot
        result = run("subscribe", "--updates", tcp(updates), "--snapshot", tcp(snapshot), "--once", "--json",
                     "--min-sequence", str(min_sequence), "--timeout", str(timeout), timeout=timeout + 10)
        # 3: printed, but the source is not live (a failing journal): still the state
        if result.returncode not in (0, 3):
            raise AssertionError("subscribe --once failed: %s" % result.stderr)
        return json.loads(result.stdout)

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


def file_size_limit(limit):
    """A preexec_fn that makes files stop growing at limit bytes, a full disk
    that needs no root (RLIMIT_FSIZE; SIGXFSZ ignored, so a write fails with
    EFBIG instead of killing the process). None: no limit."""
    if limit is None:
        return None

    def limit_files():
        import resource
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return limit_files


class Pair:
    """Two aggregators of a pair (README "A pair of aggregators"), the
    primary and the backup, each with its journal in a directory of its own,
    on fresh ports. hosts: each one's address for clients and its peer link
    address, and the command to run it under (a network namespace), for the
    partition test; by default both on loopback."""

    ROLES = ("primary", "backup")

    def __init__(self, workdir, hosts=None, extra=()):
        self.workdir = workdir
        self.extra = list(extra)
        hosts = hosts or [{"client": "127.0.0.1", "peer": "127.0.0.1", "wrap": ()}] * 2
        self.nodes = []
        for role, host in zip(self.ROLES, hosts):
            node = dict(host, role=role, ingest=free_port(), updates=free_port(), snapshot=free_port(),
                        peer_port=free_port(), dir=os.path.join(workdir, role), process=None, started=0)
            os.makedirs(node["dir"], exist_ok=True)
            self.nodes.append(node)
        self.to = ",".join("tcp://%s:%d" % (n["client"], n["ingest"]) for n in self.nodes)
        self.updates = ",".join("tcp://%s:%d" % (n["client"], n["updates"]) for n in self.nodes)
        self.snapshot = ",".join("tcp://%s:%d" % (n["client"], n["snapshot"]) for n in self.nodes)

    def journal(self, i):
        return os.path.join(self.nodes[i]["dir"], "night.journal")

    def start(self, i, extra=()):
        n, other = self.nodes[i], self.nodes[1 - i]
        n["started"] += 1
        args = ["aggregator", "--baseline", BASELINE, "--speaker-as", "Con", "--baseline-speaker-as", "Con",
                "--role", n["role"], "--journal", self.journal(i),
                "--ingest", "tcp://%s:%d" % (n["client"], n["ingest"]),
                "--updates", "tcp://%s:%d" % (n["client"], n["updates"]),
                "--snapshot", "tcp://%s:%d" % (n["client"], n["snapshot"]),
                "--peer-bind", "tcp://%s:%d" % (n["peer"], n["peer_port"]),
                "--peer", "tcp://%s:%d" % (other["peer"], other["peer_port"])] + self.extra + list(extra)
        n["process"] = Process(self.workdir, "%s-%d" % (n["role"], n["started"]), args, wrap=n["wrap"])
        return n["process"]

    def kill(self, i, lose_disk=False):
        """kill -9; with lose_disk, its journal directory goes too (a new empty one is made)."""
        import shutil
        self.nodes[i]["process"].kill()
        if lose_disk:
            shutil.rmtree(self.nodes[i]["dir"])
            os.makedirs(self.nodes[i]["dir"])

    def log(self, i):
        return self.nodes[i]["process"].output()

    def health(self, wrap=(), timeout=20):
        """The active aggregator's heartbeat (subscribe --health --once --json)."""
        result = run("subscribe", "--health", "--once", "--json", "--updates", self.updates,
                     "--snapshot", self.snapshot, "--timeout", str(timeout), timeout=timeout + 10, wrap=wrap)
        if result.returncode != 0:
            raise AssertionError("subscribe --health failed: %s" % result.stderr)
        return json.loads(result.stdout.splitlines()[0])["heartbeat"]

    def active(self, wrap=(), copy=True, timeout=60):
        """Waits until one is active (with a synced standby, if copy) and returns its index."""
        found = []

        def settled():
            pair = self.health(wrap).get("pair", {})
            if pair.get("state") == "active" and (pair.get("copy") or not copy):
                found.append(self.ROLES.index(pair["role"]))
                return True
            return False
        wait_for(settled, timeout, "an active aggregator%s" % (" with a copy" if copy else ""))
        return found[-1]

    def state(self, min_sequence=0, wrap=(), timeout=30):
        result = run("subscribe", "--updates", self.updates, "--snapshot", self.snapshot, "--once", "--json",
                     "--min-sequence", str(min_sequence), "--timeout", str(timeout), timeout=timeout + 10,
                     wrap=wrap)
        if result.returncode != 0:
            raise AssertionError("subscribe --once failed: %s" % result.stderr)
        return json.loads(result.stdout)

    def records(self, i):
        """The journal of node i, as `ingest journal --json` lists it."""
        listing = run("ingest", "journal", self.journal(i), "--json")
        if listing.returncode != 0:
            raise AssertionError("ingest journal failed: %s" % listing.stderr)
        return [json.loads(line) for line in listing.stdout.splitlines()]


def even_times(path, rows, seconds):
    """A declaration-times file for rows' seats in their order, spread evenly
    over `seconds` of night (replayed at --speed 1: that many seconds)."""
    import csv
    import datetime
    start = datetime.datetime(2017, 6, 8, 23, 0, tzinfo=datetime.timezone.utc)
    seats = list(dict.fromkeys(r[0] for r in rows))
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["ons_id", "declared_at"])
        for i, seat in enumerate(seats):
            w.writerow([seat, (start + datetime.timedelta(seconds=seconds * i / len(seats))).isoformat()])


def content(state):
    """The figures of a state, without what differs between runs (epoch;
    declared_at_ms: ingest stamps when it declares, send now and replay the
    replayed time; declared_sequence: retries after a failover may change
    the order seats are taken in)."""
    seats = [{k: v for k, v in seat.items() if k not in ("declared_at_ms", "declared_sequence")}
             for seat in state["constituencies"]]
    return {"declared": state["declared"], "parties": state["parties"],
            "constituencies": seats, "regions": state["regions"]}


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
        for stream in EventStream.opened:
            stream.close()
        EventStream.opened.clear()
        for proc in Process.started:
            proc.kill_now()
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


def journal_frames(path):
    """The frames of a version 2 journal (lib/durability/journal.h), as
    (offset, kind, payload length): the header's first, then the records'."""
    import struct
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"ELJRNL02", "%s is not a version 2 journal" % path
    frames, at = [], 8
    while at + 16 <= len(data):
        kind, length = struct.unpack_from("<4sI", data, at)
        frames.append((at, kind.decode("ascii", "replace"), length))
        at += 16 + length
    return frames


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


def http_get(url, headers=None, method="GET", timeout=10):
    """(status, headers, body) of one request; HTTP errors are answers too."""
    import urllib.error
    import urllib.request
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


class EventStream:
    """One Server-Sent Events reader (GET /events) on a raw socket, so that a
    test sees exactly what was sent: events as (name, id, data) tuples."""

    opened = []         # closed at the end of each test

    def __init__(self, url, headers=None, timeout=20, source=None):
        import urllib.parse
        EventStream.opened.append(self)
        parts = urllib.parse.urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout,
                                             source_address=(source, 0) if source else None)
        lines = ["GET %s HTTP/1.1" % (parts.path or "/"), "Host: %s" % parts.netloc,
                 "Accept: text/event-stream"] + ["%s: %s" % kv for kv in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buffer = b""
        head = self._until(b"\r\n\r\n")
        status_line, *fields = head.decode("latin-1").split("\r\n")
        self.status = int(status_line.split()[1])
        self.headers = {k.strip().lower(): v.strip() for k, v in (f.split(":", 1) for f in fields if ":" in f)}
        self.chunked = "chunked" in self.headers.get("transfer-encoding", "")
        self.body = b""

    def _recv(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("stream closed")
        self.buffer += data

    def _until(self, mark):
        while mark not in self.buffer:
            self._recv()
        head, self.buffer = self.buffer.split(mark, 1)
        return head

    def _more_body(self):
        if not self.chunked:
            if not self.buffer:
                self._recv()
            self.body, self.buffer = self.body + self.buffer, b""
            return
        size = int(self._until(b"\r\n").split(b";")[0], 16)
        while len(self.buffer) < size + 2:
            self._recv()
        self.body, self.buffer = self.body + self.buffer[:size], self.buffer[size + 2:]

    def next(self):
        """The next event (comments and keepalives skipped)."""
        while True:
            while b"\n\n" not in self.body:
                self._more_body()
            block, self.body = self.body.split(b"\n\n", 1)
            event = {"event": "message", "id": None, "data": None}
            for line in block.decode("utf-8").split("\n"):
                if line.startswith(":") or ":" not in line:
                    continue
                field, value = line.split(":", 1)
                event[field] = value[1:] if value.startswith(" ") else value
            if event["data"] is not None:
                return event["event"], event["id"], event["data"]

    def close(self):
        self.sock.close()


def main():
    """python3 test_X.py [BIN_DIR [DATA_DIR [unittest arguments, e.g. a test name]]]"""
    configure(*sys.argv[1:3])
    unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[3:])
