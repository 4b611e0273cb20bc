"""A pair of aggregators (issue 14), tested as the night would break it:
the active killed with its disk at random moments, ten times; the standby
down for the first half of the night; a network partition between the two
while count centres and screens reach both. Real processes, real files,
real kill -9, real network namespaces.
Usage: python3 tests/system/test_pair.py BIN_DIR DATA_DIR"""
import csv
import json
import os
import random
import shutil
import subprocess
import time
import unittest

import harness
import hostile
from harness import Pair, PipelineTest, Process, content, wait_for

NIGHT_S = 40        # the 2017 night, in its order, replayed over this many seconds


def night_order():
    """2017's seats in the order they declared."""
    with open(os.path.join(harness.DATA, "declaration_times_2017.csv"), newline="") as f:
        rows = list(csv.reader(f))[1:]
    return [seat for seat, _ in sorted(rows, key=lambda r: r[1])]


class PairBase(PipelineTest):
    """What the pair's tests share."""

    def night_times(self, seconds):
        path = os.path.join(self.workdir, "times.csv")
        harness.even_times(path, [[seat] for seat in night_order()], seconds)
        return path

    def reference_state(self, times):
        """An uninterrupted night on one aggregator, to compare against."""
        p = self.pipeline()
        p.start_aggregator()
        p.ingest("replay", harness.RESULTS, "--times", times, "--speed", "max")
        state = p.state(min_sequence=650)
        p.stop()
        return state

    def screen(self, pair, wrap=()):
        """A screen that follows the pair all night: JSON lines, to the end."""
        return Process(self.workdir, "screen", ["subscribe", "--json", "--updates", pair.updates,
                                                "--snapshot", pair.snapshot], wrap=wrap)

    def assertScreenConsistent(self, screen, reference):
        """The screen never showed two different answers for one sequence,
        and what it showed last is the uninterrupted night."""
        screen.stop()
        national, last_state = {}, None
        for line in screen.output().splitlines():
            if not line.startswith("{"):
                continue
            update = json.loads(line)
            if "constituencies" in update:          # a whole state, after a (re)sync
                last_state = update
                national[update["sequence"]] = json.dumps(update["parties"], sort_keys=True)
            elif update.get("topic") == "national":
                shown = json.dumps(update["national"]["parties"], sort_keys=True)
                self.assertEqual(national.setdefault(update["sequence"], shown), shown,
                                 "two answers for sequence %d" % update["sequence"])
        self.assertIsNotNone(last_state, "the screen never synced")
        self.assertEqual(national[max(national)], json.dumps(reference["parties"], sort_keys=True))

    def assertJournalsHoldTheNight(self, pair, summary, nodes=(0, 1)):
        """Every declaration ingest saw acknowledged is there exactly once, at
        the sequence it was acknowledged with, in both journals."""
        accepted = {s["ons_id"]: s["sequence"] for s in summary["seats"] if s["outcome"] == "accepted"}
        journals = [pair.records(i) for i in nodes]
        for records in journals:
            self.assertEqual([r["sequence"] for r in records], list(range(1, 651)))
            self.assertEqual(sorted(r["ons_id"] for r in records), sorted(night_order()))
            at = {r["ons_id"]: r["sequence"] for r in records}
            for seat, sequence in accepted.items():
                self.assertEqual(at[seat], sequence, "%s acknowledged as %d" % (seat, sequence))
        for records in journals[1:]:
            self.assertEqual(records, journals[0])


class PairTest(PairBase):

    def test_kill_9_the_active_and_its_disk_ten_times(self):
        seed = int(os.environ.get("PAIR_SEED", random.randrange(1 << 30)))
        print("pair kill test seed %d (PAIR_SEED=%d to repeat)" % (seed, seed))
        rng = random.Random(seed)
        times = self.night_times(NIGHT_S)
        reference = self.reference_state(times)

        pair = Pair(self.workdir)
        pair.start(0)
        pair.start(1)
        pair.active()
        screen = self.screen(pair)
        night = Process(self.workdir, "ingest", ["ingest", "replay", harness.RESULTS, "--times", times,
                                                 "--speed", "1", "--to", pair.to, "--retry-ms", "300",
                                                 "--give-up", "120", "--json"], stdout_apart=True)
        started = time.monotonic()
        kills = sorted(rng.uniform(1.0, NIGHT_S - 6.0) for _ in range(10))
        victims = []
        for at in kills:
            # the last one restarted is a synced copy before the next kill:
            # a standby that was not would (rightly) refuse to take over
            active = pair.active(timeout=60)
            wait_for(lambda: time.monotonic() - started >= at, 60, "the next kill time")
            pair.kill(active, lose_disk=True)
            victims.append(pair.ROLES[active])
            pair.start(active)
        summary = night.summary(180)
        self.assertEqual(night.proc.returncode, 0, night.output())
        print("killed in turn: %s; ingest: %d accepted, %d duplicate, failovers %d"
              % (" ".join(victims), summary["accepted"], summary["duplicate"],
                 night.output().count("ING151")))
        # the active alternated: each kill took the one that had taken over
        self.assertEqual(victims, [victims[0], victims[1]] * 5)
        self.assertNotEqual(victims[0], victims[1])
        self.assertEqual(summary["declarations"], 650)
        self.assertEqual(summary["accepted"] + summary["duplicate"], 650)
        self.assertEqual((summary["rejected"], summary["not_acknowledged"]), (0, 0))
        final = pair.state(min_sequence=650)
        self.assertEqual(content(final), content(reference))
        self.assertBBC(final)
        pair.active(timeout=60)                 # the last one restarted has caught up
        self.assertJournalsHoldTheNight(pair, summary)
        self.assertScreenConsistent(screen, reference)

    def test_standby_down_for_the_first_half_then_the_active_is_lost(self):
        seats = night_order()
        rows = harness.read_rows(harness.RESULTS)
        times = self.night_times(NIGHT_S)
        halves = []
        for i, part in enumerate((seats[:325], seats[325:])):
            path = os.path.join(self.workdir, "half%d.csv" % i)
            harness.write_csv(path, [r for r in rows if r[0] in set(part)])
            halves.append(path)
        expected = self.reference_state(times)

        # The night starts with the standby down: the operator says so
        pair = Pair(self.workdir)
        pair.start(0, extra=["--take-over"])
        first = harness.run("ingest", "replay", halves[0], "--times", times, "--speed", "max",
                            "--to", pair.to, "--json")
        self.assertEqual(first.returncode, 0, first.stderr)
        health = pair.health()
        self.assertEqual((health["pair"]["state"], health["pair"]["copy"]), ("active", False))
        self.assertIn("AGG410 NO COPY", pair.log(0))
        # The standby comes: it catches up, then counts as a copy
        pair.start(1)
        self.assertEqual(pair.active(), 0)
        second = harness.run("ingest", "replay", halves[1], "--times", times, "--speed", "max",
                             "--to", pair.to, "--json")
        self.assertEqual(second.returncode, 0, second.stderr)
        summary = json.loads(first.stdout)
        summary["seats"] += json.loads(second.stdout)["seats"]
        self.assertEqual(len([s for s in summary["seats"] if s["outcome"] == "accepted"]), 650)
        # Losing the active (its disk too) loses nothing: the standby takes
        # over when a centre turns to it, and already holds every seat
        pair.kill(0, lose_disk=True)
        again = harness.run("ingest", "send", harness.RESULTS, "--to", pair.to, "--json", timeout=90)
        self.assertEqual(again.returncode, 0, again.stderr)
        again = json.loads(again.stdout)
        self.assertEqual((again["accepted"], again["duplicate"]), (0, 650))
        self.assertRegex(pair.log(1), r"AGG403 ACTIVE as backup in term 2: the peer has been silent")
        final = pair.state(min_sequence=650)
        self.assertEqual(content(final), content(expected))
        self.assertJournalsHoldTheNight(pair, summary, nodes=(1,))


class KeyedPeerLink(PairBase):
    """The peer link under CURVE (--peer-key, --peer-public): the pair
    works as before, and a stranger on the peer port, with no key or the
    wrong one, cannot pose as the other aggregator (open, one message
    claiming a later term makes the active step down)."""

    def keys(self):
        names = [os.path.join(self.workdir, role) for role in Pair.ROLES]
        for name in names:
            r = harness.run("ingest", "keygen", name)
            self.assertEqual(r.returncode, 0, r.stderr)
        return [["--peer-key", names[i], "--peer-public", names[1 - i] + ".pub"] for i in (0, 1)]

    def claim(self, term):
        """A PeerMessage saying: I am the active one, in a later term."""
        return (hostile.field_varint(70, 2) + hostile.field_varint(71, 0) + hostile.field_varint(72, term)
                + hostile.field_varint(73, 10 ** 6) + hostile.field_varint(74, term)
                + hostile.field_varint(83, 1) + hostile.field_varint(84, self.mode)
                + hostile.field_bytes(85, "uk-general"))

    def test_only_the_other_aggregators_key_gets_in(self):
        pair = Pair(self.workdir)
        keys = self.keys()
        for i in (0, 1):
            pair.start(i, extra=keys[i])
        active = pair.active()
        self.assertIn("AGG421 peer link is CURVE", pair.log(active))
        self.assertNotIn("AGG418", pair.log(active))
        self.mode = {"live": 1, "test": 2, "rehearsal": 3}[pair.state()["mode"]]
        term = pair.health()["pair"]["term"]
        port = pair.nodes[active]["peer_port"]

        # No key at all: the handshake fails, the connection is closed
        # (at the greeting, or after what it sent)
        try:
            stranger = hostile.RawPeer.connect(port, "DEALER")
            stranger.message(self.claim(term + 10))
            self.assertTrue(stranger.cut(), "a peer with no key was kept")
            stranger.close()
        except ConnectionError:
            pass
        # A CURVE key that is not the other aggregator's: refused by ZAP
        with open(os.path.join(self.workdir, pair.ROLES[active] + ".pub")) as f:
            server_key = f.read().strip()
        zmq = hostile.Zmq()
        try:
            dealer = zmq.curve_dealer("tcp://127.0.0.1:%d" % port, server_key)
            for _ in range(5):
                zmq.send(dealer, self.claim(term + 10))
            wait_for(lambda: "not the key this link allows" in pair.log(active), 10,
                     "the wrong key refused at the handshake")
        finally:
            zmq.close()

        # Still the same active, in the same term, with its copy: a
        # declaration is acknowledged once both journals hold it
        health = pair.health()
        self.assertEqual((health["pair"]["role"], health["pair"]["term"], health["pair"]["state"]),
                         (pair.ROLES[active], term, "active"))
        sent = harness.run("ingest", "send", harness.RESULTS, "--to", pair.to, "--json", timeout=90)
        self.assertEqual(sent.returncode, 0, sent.stderr)
        self.assertEqual(json.loads(sent.stdout)["accepted"], 650)
        self.assertTrue(pair.health()["pair"]["copy"])
        self.assertEqual(len(pair.records(1 - active)), 650)
        self.assertNotIn("AGG404", pair.log(active))     # never stepped down

    def test_an_open_link_says_so(self):
        pair = Pair(self.workdir)
        pair.start(0, extra=["--take-over"])
        wait_for(lambda: "AGG418" in pair.log(0), 10, "the open peer link warned about")
        self.assertIn("is OPEN: whoever reaches it can pose as the other aggregator", pair.log(0))
        half = harness.run("aggregator", "--role", "primary", "--journal", pair.journal(0) + ".x",
                           "--peer", "tcp://127.0.0.1:1", "--baseline", harness.BASELINE,
                           "--peer-key", os.path.join(self.workdir, "nothing"))
        self.assertEqual(half.returncode, 2)
        self.assertIn("--peer-key and --peer-public go together", half.stderr)


def s_ip(*args):
    subprocess.run(["ip"] + list(args), check=True, capture_output=True)


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("ip"),
                     "needs root and iproute2: it makes network namespaces joined by veth pairs "
                     "(run as root, as CI does, to include it)")
class Partition(PairBase):
    """Three namespaces: the two aggregators' and the clients' (count centres
    and screens), each aggregator joined to the clients by a veth pair and to
    the other by a third; the clients' namespace forwards nothing. Cutting
    the third link partitions the aggregators while the clients reach both."""

    # Named for this run: namespaces are the machine's, and another run of
    # the suite may be making its own at the same time
    A, B, C = ("dur-%s-%d" % (x, os.getpid()) for x in "abc")
    LINKS = ((A, "ac-a", "10.77.1.1", C, "ac-c", "10.77.1.2"),
             (B, "bc-b", "10.77.2.1", C, "bc-c", "10.77.2.2"),
             (A, "ab-a", "10.77.3.1", B, "ab-b", "10.77.3.2"))

    def setUp(self):
        super().setUp()
        self.tearDownNamespaces()
        for ns in (self.A, self.B, self.C):
            s_ip("netns", "add", ns)
            s_ip("-n", ns, "link", "set", "lo", "up")
        for ns1, dev1, ip1, ns2, dev2, ip2 in self.LINKS:
            s_ip("link", "add", dev1, "netns", ns1, "type", "veth", "peer", "name", dev2, "netns", ns2)
            for ns, dev, ip in ((ns1, dev1, ip1), (ns2, dev2, ip2)):
                s_ip("-n", ns, "addr", "add", ip + "/24", "dev", dev)
                s_ip("-n", ns, "link", "set", dev, "up")

    def tearDownNamespaces(self):
        for ns in (self.A, self.B, self.C):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)

    def tearDown(self):
        super().tearDown()
        self.tearDownNamespaces()

    def test_a_partition_between_the_two_never_makes_two_answers(self):
        clients = ("ip", "netns", "exec", self.C)
        times = self.night_times(12)
        reference = self.reference_state(times)
        pair = Pair(self.workdir, hosts=[
            {"client": "10.77.1.1", "peer": "10.77.3.1", "wrap": ("ip", "netns", "exec", self.A)},
            {"client": "10.77.2.1", "peer": "10.77.3.2", "wrap": ("ip", "netns", "exec", self.B)}])
        pair.start(0)
        pair.start(1)
        self.assertEqual(pair.active(wrap=clients), 0)
        screen = self.screen(pair, wrap=clients)
        night = Process(self.workdir, "ingest", ["ingest", "replay", harness.RESULTS, "--times", times,
                                                 "--speed", "1", "--to", pair.to, "--retry-ms", "300",
                                                 "--give-up", "60", "--json"], stdout_apart=True, wrap=clients)
        wait_for(lambda: "AGG407" in pair.log(0) or night.proc.poll() is not None, 30, "the night under way")
        # The link between the two goes; centres and screens still reach both
        s_ip("-n", self.A, "link", "set", "ab-a", "down")
        wait_for(lambda: "AGG409 standby LOST" in pair.log(0), 30, "the active to find its standby lost")
        health = pair.health(wrap=clients)
        self.assertEqual((health["pair"]["role"], health["pair"]["state"], health["pair"]["copy"]),
                         ("primary", "active", False))
        # A centre that lists the standby first is turned away to the active:
        # the standby, its peer silent, still never takes over
        wait_for(lambda: "AGG414 the peer is silent" in pair.log(1), 30, "the standby to find its peer silent")
        first_seat = night_order()[0]           # declared before the partition
        correction = os.path.join(self.workdir, "correction.csv")
        harness.write_csv(correction, harness.read_rows(harness.RESULTS, first_seat))
        backwards = ",".join(reversed(pair.to.split(",")))
        stray = harness.run("ingest", "send", correction, "--revision", "2", "--to", backwards, "--json",
                            wrap=clients)
        self.assertEqual(stray.returncode, 0, stray.stderr)
        self.assertEqual(json.loads(stray.stdout)["accepted"], 1)
        self.assertRegex(stray.stderr, r"ING151 tcp://10.77.2.1:\d+ says it is the standby")
        summary = night.summary(120)
        self.assertEqual(night.proc.returncode, 0, night.output())
        self.assertEqual((summary["accepted"], summary["not_acknowledged"]), (650, 0))
        self.assertNotIn("AGG403", pair.log(1))     # the standby never took over
        # The link comes back: the standby catches up and is a copy again
        s_ip("-n", self.A, "link", "set", "ab-a", "up")
        self.assertEqual(pair.active(wrap=clients, timeout=60), 0)
        final = pair.state(min_sequence=651, wrap=clients)
        corrected = next(c for c in final["constituencies"] if c["id"] == first_seat)
        self.assertEqual(corrected["revision"], 2)
        self.assertEqual(final["parties"], reference["parties"])
        wait_for(lambda: len(pair.records(1)) == 651, 30, "the standby to hold all 651 records")
        self.assertEqual(pair.records(1), pair.records(0))
        # the screen saw one history, the night's
        screen.stop()
        national = {}
        for line in screen.output().splitlines():
            if line.startswith("{"):
                update = json.loads(line)
                if update.get("topic") == "national":
                    shown = json.dumps(update["national"]["parties"], sort_keys=True)
                    self.assertEqual(national.setdefault(update["sequence"], shown), shown)
        self.assertEqual(national[max(national)], json.dumps(reference["parties"], sort_keys=True))


if __name__ == "__main__":
    harness.main()
