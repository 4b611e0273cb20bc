"""What one hostile peer can make the programs hold, and their logs say
(issue 11 items 5-9 and the open-files limit), against the real programs.

    python3 tests/system/test_bounds.py BIN_DIR DATA_DIR [TestClass.test_name]

Each attack is what a peer needing no key can do by hand (hostile.py: raw
ZMTP over a plain socket): a multipart message that never ends, enormous
or countless subscriptions, snapshot requests whose answers it never reads,
junk that makes warnings, refused CURVE keys by the thousand, idle
connections by the thousand, and, with a sender's rights, a fresh party
code in every candidate of every revision. Memory is asserted as a bound
on the growth of the target's peak resident set (VmHWM, reset before each
attack), never as a time. Readiness and "it has read everything we sent"
are asked for (a snapshot answered, an ack, a log line after the last
message on the same connection), never slept for.
"""
import os
import re
import resource
import shutil
import socket
import tempfile
import time
import unittest

import harness
import hostile
from harness import Pipeline, Process, free_port, run, tcp, wait_for
from hostile import RawPeer

MIB = 1024 * 1024
SEAT = "E14000530"          # Aldershot

# Under AddressSanitizer, freed memory waits in a quarantine (256 MiB) before
# it is used again: what a program frees would look like what it keeps
os.environ["ASAN_OPTIONS"] = ":".join(filter(None, [os.environ.get("ASAN_OPTIONS"),
                                                    "quarantine_size_mb=0",
                                                    "thread_local_quarantine_size_kb=0"]))


def peak_growth(pid, before_kib, what=""):
    """Peak resident memory since the reset, above what it was then, in MiB
    (printed with BOUNDS_SHOW=1, for the record)."""
    with open("/proc/%d/status" % pid) as f:
        peak = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    if os.environ.get("BOUNDS_SHOW"):
        print("\n  %s: peak +%.1f MiB" % (what, (peak - before_kib) / 1024.0), end=" ")
    return (peak - before_kib) / 1024.0


def bound(pid, mib):
    """A bound on memory growth, in MiB: half as much again for a program
    built with AddressSanitizer (its shadow memory and redzones)."""
    with open("/proc/%d/maps" % pid) as f:
        return mib * 1.5 if "libasan" in f.read() else mib


def reset_peak(pid):
    """Resets VmHWM to the current RSS (clear_refs 5) and returns that RSS in KiB."""
    with open("/proc/%d/clear_refs" % pid, "w") as f:
        f.write("5")
    return hostile.rss_kib(pid)


class Ports(unittest.TestCase):
    """One aggregator and one publisher, all 650 seats declared; each test
    attacks their ports in turn and checks they still serve."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="test_bounds.")
        cls.pipeline = Pipeline(cls.dir)
        cls.agg = cls.pipeline.start_aggregator()
        cls.pub = cls.pipeline.start_publisher()
        result = cls.pipeline.ingest("send", harness.RESULTS, summary=True, timeout=120)
        assert result.summary["accepted"] == 650, result.stdout
        cls.pipeline.state(*cls.pub.ports, min_sequence=650)
        p = cls.pipeline
        # (process, port, the socket type we pretend to be)
        cls.ports = {"aggregator ingest": (cls.agg, p.ingest_port, "DEALER"),
                     "aggregator snapshot": (cls.agg, p.agg_snapshot, "DEALER"),
                     "aggregator updates": (cls.agg, p.agg_updates, "SUB"),
                     "publisher snapshot": (cls.pub, cls.pub.ports[1], "DEALER"),
                     "publisher updates": (cls.pub, cls.pub.ports[0], "SUB")}

    @classmethod
    def tearDownClass(cls):
        cls.pipeline.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def still_serves(self):
        """Both still answer with the whole night."""
        self.assertEqual(self.pipeline.state()["declared"], 650)
        self.assertEqual(self.pipeline.state(*self.pub.ports)["declared"], 650)

    def test_endless_multipart_message_is_cut(self):
        # 8 MiB of empty frames, each with MORE: 4 million frames, which libzmq
        # held at 64 bytes each (+256 MiB) before the guard. Now: what libzmq
        # takes in the 20 ms before the guard looks (it decodes a few hundred
        # MB a second of these), and the bound itself at 32 times its bytes
        for name, (proc, port, kind) in self.ports.items():
            before = reset_peak(proc.proc.pid)
            peer = RawPeer.connect(port, kind)
            cut = peer.endless(8 * MIB) or peer.cut()
            peer.close()
            growth = peak_growth(proc.proc.pid, before, name + " endless message")
            self.assertTrue(cut, "%s held all of a never-ending message (peak +%.0f MiB)" % (name, growth))
            self.assertLess(growth, bound(proc.proc.pid, 64), name)
        self.assertIn("NET001", self.agg.output())
        self.still_serves()

    def test_subscriptions_are_bounded(self):
        for name in ("aggregator updates", "publisher updates"):
            proc, port, _ = self.ports[name]
            # A subscription of 1 MiB (libzmq's topic tree costs ~30 bytes a byte)
            before = reset_peak(proc.proc.pid)
            peer = RawPeer.connect(port, "SUB")
            cut = False
            try:
                for i in range(8):
                    peer.message(b"\x01" + bytes([65 + i]) * MIB)
            except OSError:
                cut = True
            cut = cut or peer.cut()
            peer.close()
            growth = peak_growth(proc.proc.pid, before, name + " 1 MiB subscriptions")
            self.assertTrue(cut, "%s kept 1 MiB subscriptions (peak +%.0f MiB)" % (name, growth))
            self.assertLess(growth, bound(proc.proc.pid, 32), name)
            # Countless subscriptions, each as long as a topic may be
            before = reset_peak(proc.proc.pid)
            peer = RawPeer.connect(port, "SUB")
            subs = b"".join(hostile.frame(b"\x01" + b"%06d" % i + b"x" * 120) for i in range(20000))
            try:
                peer.send(subs)
                cut = peer.cut()
            except OSError:
                cut = True
            peer.close()
            growth = peak_growth(proc.proc.pid, before, name + " 20,000 subscriptions")
            self.assertTrue(cut, "%s kept 20,000 subscriptions of one peer (peak +%.0f MiB)" % (name, growth))
            self.assertLess(growth, bound(proc.proc.pid, 32), name)
        self.still_serves()

    def test_unread_snapshots_are_not_queued(self):
        for name in ("aggregator snapshot", "publisher snapshot"):
            proc, port, _ = self.ports[name]
            before = reset_peak(proc.proc.pid)
            peer = RawPeer.connect(port, "DEALER", rcvbuf=4096)
            # 1,200 requests for the whole state, never read; then a request of
            # two frames, logged when read: by then it has read all before it
            peer.send(hostile.frame(b"") * 1200)
            peer.message(b"", b"")
            wait_for(lambda: "STO003 snapshot request of 2 frames dropped" in proc.output(), 60,
                     "%s to read 1,200 requests" % name)
            growth = peak_growth(proc.proc.pid, before, name + " 1,200 unread snapshots")
            peer.close()
            self.assertLess(growth, bound(proc.proc.pid, 32), "%s queued unread snapshots" % name)
            self.assertIn("CLN010", proc.output())
        self.still_serves()


class Alone(harness.PipelineTest):
    """Attacks that need an aggregator of their own."""

    def test_fresh_party_codes_are_freed(self):
        p = self.pipeline()
        agg = p.start_aggregator()
        peer = RawPeer.connect(p.ingest_port, "DEALER")

        def revisions(first, last, chunk=50):
            """Revisions of one seat, each naming 100 parties never seen
            before; 50 at a time, so that what one batch takes to work on
            (a peak that grows with the batch under load) stays small
            beside what 200,000 kept codes would take."""
            for start in range(first, last, chunk):
                end = min(start + chunk, last)
                for revision in range(start, end):
                    cands = [hostile.candidate("C%d" % i, "P%d_%d" % (revision, i), 100 + i) for i in range(100)]
                    peer.message(hostile.declaration(SEAT, revision, 80000, cands, revision))
                acks = hostile.read_frames(peer.sock, end - start)
                statuses = {hostile.ack_fields(a).get(4) for a in acks}
                self.assertEqual(statuses, {1}, "every revision accepted")
        revisions(1, 201)           # the maps and arrays at their working size
        before = reset_peak(agg.proc.pid)
        revisions(201, 2201)        # 200,000 party codes, each named once
        growth = peak_growth(agg.proc.pid, before, "200,000 party codes")
        peer.close()
        self.assertLess(growth, bound(agg.proc.pid, 16), "parties no declaration names any more were kept")
        state = p.state()
        self.assertEqual([c["revision"] for c in state["constituencies"]], [2200])

    def test_unread_acks_cut_the_sender(self):
        p = self.pipeline()
        agg = p.start_aggregator()
        before = reset_peak(agg.proc.pid)
        # Four senders of junk (each frame answered with a rejection) that
        # never read the answers: 100,000 acks each were queued (+58 MiB)
        peers = [RawPeer.connect(p.ingest_port, "DEALER", rcvbuf=4096) for _ in range(4)]
        for peer in peers:
            peer.send(hostile.frame(b"\xff") * 200000)
        wait_for(lambda: agg.output().count("it has not read its last") >= 4, 30, "four senders cut")
        growth = peak_growth(agg.proc.pid, before, "unread acks")
        for peer in peers:
            peer.close()
        self.assertLess(growth, bound(agg.proc.pid, 24))
        self.assertEqual(p.state()["sequence"], 0)

    def test_repeated_warnings_are_counted_not_written(self):
        p = self.pipeline()
        agg = p.start_aggregator()
        peer = RawPeer.connect(p.ingest_port, "DEALER")
        # 20,000 messages of five frames (each a warning), then a declaration:
        # its ack says the aggregator has read everything before it
        junk = b"".join(hostile.frame(b"", more=True) for _ in range(4)) + hostile.frame(b"")
        peer.send(junk * 20000)
        cands = [hostile.candidate("A", "Con", 100), hostile.candidate("B", "Lab", 50)]
        peer.message(hostile.declaration(SEAT, 1, 80000, cands, 77))
        [ack] = hostile.read_frames(peer.sock, 1)
        self.assertEqual(hostile.ack_fields(ack)[1], 77)
        peer.close()
        self.assertEqual(agg.stop(), 0)
        log = agg.output()
        lines = [l for l in log.splitlines() if " AGG020 " in l]
        held = [int(n) for n in re.findall(r"AGG020 \.\.\. and (\d+) more like it", log)]
        # At most LOG_BURST lines a window (10 s), and the rest counted
        self.assertLessEqual(len(lines) - len(held), 10 * len(held), "%d AGG020 lines" % len(lines))
        self.assertEqual(len(lines) - len(held) + sum(held), 20000)
        self.assertLess(len(log), 64 * 1024)

    def test_refused_keys_are_counted_not_written(self):
        p = self.pipeline()
        keys = os.path.join(self.workdir, "agg")
        self.assertEqual(run("ingest", "keygen", keys).returncode, 0)
        self.assertEqual(run("ingest", "keygen", keys + "-centre").returncode, 0)
        allow = os.path.join(self.workdir, "allow.txt")
        with open(keys + "-centre.pub") as f:
            centre = f.read().strip()
        with open(os.open(allow, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write("%s centre %s\n" % (centre, SEAT))
        p.extra = ["--curve-secret", keys + ".key", "--allow", allow]
        agg = p.start_aggregator()
        with open(keys + ".pub") as f:
            server = f.read().strip()
        zmq = hostile.Zmq()
        try:
            for _ in range(1000):
                zmq.curve_dealer(tcp(p.ingest_port), server)
            wait_for(lambda: agg.output().count(" AUTH002 ") >= 10, 60, "refused keys logged")
            # A listed centre still gets in
            r = p.ingest("send", harness.BASELINE, "--seat", SEAT, "--curve-server-key", keys + ".pub",
                         "--curve-key", keys + "-centre", summary=True)
            self.assertEqual(r.summary["accepted"], 1)
        finally:
            zmq.close()
        self.assertEqual(agg.stop(), 0)
        log = agg.output()
        lines = [l for l in log.splitlines() if " AUTH002 " in l]
        self.assertLessEqual(len(lines), 12, "%d AUTH002 lines for 1,000 keys" % len(lines))
        self.assertRegex(log, r"AUTH002 \.\.\. and \d+ more like it")

    def test_idle_connections_leave_room_for_count_centres(self):
        p = self.pipeline()
        # A machine whose hard limit is the usual soft one: raising cannot help
        limit = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))
        agg = Process(self.workdir, "aggregator", p.aggregator_args(), preexec_fn=limit)
        p.aggregator = agg
        p.state()
        idle = []
        try:
            for _ in range(1100):
                s = socket.socket()
                s.connect(("127.0.0.1", p.agg_snapshot))
                idle.append(s)
            r = p.ingest("send", harness.BASELINE, "--seat", SEAT, "--give-up", "10", summary=True, check=False)
            self.assertEqual(r.summary["accepted"], 1, r.stderr + agg.output()[-2000:])
            self.assertEqual(p.state()["declared"], 1)
            self.assertLess(hostile.open_fds(agg.proc.pid), 900)
        finally:
            for s in idle:
                s.close()

    def test_endless_snapshot_from_upstream_is_cut(self):
        # A false upstream: its snapshot reply never ends. The clone client
        # takes snapshots of up to 256 MiB (200,000 seats are about 100 MB)
        updates, updates_port = hostile.listen()
        snapshots, snapshot_port = hostile.listen()
        sub = Process(self.workdir, "subscribe", ["subscribe", "--updates", tcp(updates_port),
                                                  "--snapshot", tcp(snapshot_port), "--json"])
        conn, _ = snapshots.accept()
        peer = RawPeer(conn, "ROUTER")
        hostile.read_frames(conn, 1)            # the request
        before = reset_peak(sub.proc.pid)
        cut = peer.endless(512 * MIB, frame_size=65000) or peer.cut()
        growth = peak_growth(sub.proc.pid, before, "endless snapshot from upstream")
        for s in (conn, updates, snapshots):
            s.close()
        self.assertTrue(cut, "subscribe held a never-ending snapshot (peak +%.0f MiB)" % growth)
        self.assertLess(growth, bound(sub.proc.pid, 320))
        self.assertTrue(sub.alive(), sub.output())
        self.assertIn("NET001 upstream: cut", sub.output())

    def test_open_files_raised_to_the_hard_limit(self):
        p = self.pipeline()
        limit = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 4096))
        agg = Process(self.workdir, "aggregator", p.aggregator_args(), preexec_fn=limit)
        p.aggregator = agg
        p.state()
        with open("/proc/%d/limits" % agg.proc.pid) as f:
            line = next(l for l in f if l.startswith("Max open files"))
        self.assertEqual(line.split()[3:5], ["4096", "4096"], line)



class Inputs(harness.PipelineTest):
    """What ingest is given: it refuses at once what can never work."""

    def test_replay_speed_out_of_range_is_refused(self):
        p = self.pipeline()
        p.start_aggregator()
        r = p.ingest("replay", harness.RESULTS, "--speed", "1e-300", check=False)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("--speed must be 0.001..", r.stderr)
        self.assertEqual(p.state()["sequence"], 0)

    def test_replay_of_a_file_without_line_ends_is_refused(self):
        ingest = Process(self.workdir, "ingest", ["ingest", "replay", "/dev/zero", "--to", tcp(free_port())])
        peak = 0
        while ingest.alive():
            try:
                peak = max(peak, hostile.rss_kib(ingest.proc.pid))
            except (OSError, AssertionError):
                pass        # it has just ended
            if peak > 256 * 1024:
                ingest.kill()
                self.fail("ingest replay /dev/zero grew past 256 MiB")
            time.sleep(0.02)
        self.assertEqual(ingest.stop(), 1)
        self.assertIn("/dev/zero:1: line longer than 65536 bytes", ingest.output())
        self.assertLess(peak, 64 * 1024)

    def test_declaration_too_large_is_refused_at_once(self):
        p = self.pipeline()
        p.start_aggregator()
        path = os.path.join(self.workdir, "huge.csv")
        harness.write_csv(path, [[SEAT, "Aldershot", "England", "South East", "72430",
                                  "N%d" % i + "x" * 60000, "P%d" % i, str(100 + i)] for i in range(5)])
        r = p.ingest("send", path, "--give-up", "5", "--retry-ms", "500", check=False, summary=True)
        self.assertEqual(r.returncode, 1, r.stderr)
        [seat] = r.summary["seats"]
        self.assertEqual((seat["outcome"], seat["attempts"]), ("rejected", 0), r.stdout)
        self.assertIn("declaration too large", seat["reason"])
        self.assertIn("the aggregator takes at most 262144", seat["reason"])


if __name__ == "__main__":
    harness.main()
