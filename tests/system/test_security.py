"""CurveZMQ, the allow-list and per-seat authorisation, end to end.

    python3 tests/system/test_security.py BIN_DIR DATA_DIR

Starts the real aggregator with --curve-secret and --allow on free loopback
ports, and drives it with the real ingest: a client with no key, with the
wrong server key, or with a key not on the list is refused at the handshake
and changes nothing; a listed centre declaring its own seat is accepted, and
one of another centre's seats is rejected with the reason, and changes
nothing. Also: key files, the journal's source, and the publisher's paid
feed. The state is read with subscribe pointed at the aggregator itself.
Readiness is asked for (a snapshot answered), never slept for.
"""
import json
import os
import shutil
import sys
import tempfile
import unittest

import harness
from harness import Pipeline, Process, free_port, run, tcp

SEAT_A = "E14000530"        # Aldershot: centre-a counts it
SEAT_A2 = "W07000049"       # Aberavon: centre-a counts it too
SEAT_B = "E14000531"        # Aldridge-Brownhills: centre-b's


def private(path):
    """An allow-list is written as a secret key is: mode 0600, or refused."""
    return open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w")


class SecurityTest(unittest.TestCase):
    """One aggregator for the whole class: each test goes on from the last."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="test_security.")
        for name in ("agg", "centre-a", "centre-b", "stranger", "pub", "viewer", "desk"):
            r = run("ingest", "keygen", os.path.join(cls.dir, name))
            assert r.returncode == 0, r.stderr
        cls.allow = os.path.join(cls.dir, "allow.txt")
        with private(cls.allow) as f:
            f.write("# count centres: key, name, the seats each counts\n\n")
            f.write("%s centre-a %s %s\n" % (cls.public("centre-a"), SEAT_A, SEAT_A2))
            f.write("%s centre-b %s\n" % (cls.public("centre-b"), SEAT_B))
            f.write("# the results desk: no seats, but the exit poll\n%s desk\n" % cls.public("desk"))
        cls.journal = os.path.join(cls.dir, "journal")
        cls.pipeline = Pipeline(cls.dir, journal=cls.journal,
                                extra=["--curve-secret", cls.key("agg") + ".key", "--allow", cls.allow])
        cls.agg = cls.pipeline.start_aggregator(wait=False)

    @classmethod
    def tearDownClass(cls):
        rc = cls.agg.stop()
        if rc != 0:
            print(cls.agg.output(), file=sys.stderr)
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def key(cls, name):
        return os.path.join(cls.dir, name)

    @classmethod
    def public(cls, name):
        with open(cls.key(name) + ".pub") as f:
            return f.read().strip()

    def state(self, min_sequence=0):
        """The aggregator's whole state, asked for (this is also the readiness check)."""
        return self.pipeline.state(min_sequence=min_sequence)

    def send(self, seat, *options, summary=True):
        return self.pipeline.ingest("send", harness.BASELINE, "--seat", seat, "--retry-ms", "300",
                                    "--give-up", "2", *options, check=False, summary=summary)

    def curve(self, server, own):
        return ["--curve-server-key", self.key(server) + ".pub", "--curve-key", self.key(own)]

    def assert_refused(self, result, before):
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertEqual(result.summary["not_acknowledged"], 1, result.stdout)
        self.assertEqual(self.state(), before)

    def test_1_refused_at_the_handshake(self):
        before = self.state()
        self.assertEqual(before["sequence"], 0)
        # No key at all: a plain client cannot talk to a CURVE server
        self.assert_refused(self.send(SEAT_A), before)
        # The wrong server key: the aggregator cannot even read the hello
        self.assert_refused(self.send(SEAT_A, *self.curve("stranger", "centre-a")), before)
        # A key not on the allow-list: ZAP says 400, logged with the key's id
        result = self.send(SEAT_A, *self.curve("agg", "stranger"))
        self.assert_refused(result, before)
        self.assertIn("ING031", result.stderr)
        self.assertIn("REFUSED our key", result.stderr)
        stranger_id = self.public("stranger")[:8]
        self.assertIn("AUTH002 key %s" % stranger_id, self.agg.output())
        self.assertIn("not on the allow-list", self.agg.output())

    def test_2_own_seat_accepted_other_seat_rejected(self):
        before = self.state()
        result = self.send(SEAT_A, "--source", "forged-name", *self.curve("agg", "centre-a"))
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertEqual(result.summary["accepted"], 1, result.stdout)
        after = self.state(before["sequence"] + 1)
        self.assertIn(SEAT_A, [seat["id"] for seat in after["constituencies"]])
        self.assertEqual(after["sequence"], before["sequence"] + 1)

        # Another centre's seat: rejected with the reason, nothing changes
        result = self.send(SEAT_B, *self.curve("agg", "centre-a"))
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        [seat] = result.summary["seats"]
        self.assertEqual((seat["ons_id"], seat["outcome"], seat["reason"]),
                         (SEAT_B, "rejected", "centre centre-a may not declare %s" % SEAT_B))
        self.assertEqual(self.state(), after)
        log = self.agg.output()
        self.assertIn("AGG024 %s rev 1 from centre-a (key %s): NOT AUTHORISED"
                      % (SEAT_B, self.public("centre-a")[:8]), log)

        # centre-b may declare it
        result = self.send(SEAT_B, *self.curve("agg", "centre-b"))
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        final = self.state(after["sequence"] + 1)
        self.assertIn(SEAT_B, [seat["id"] for seat in final["constituencies"]])

        # The journal names the authenticated centre, not the claimed source
        r = run("ingest", "journal", self.journal, "--json")
        records = [json.loads(line) for line in r.stdout.splitlines()]
        sources = {rec["ons_id"]: rec["source"] for rec in records}
        self.assertEqual(sources, {SEAT_A: "centre-a", SEAT_B: "centre-b"})

    def test_2b_requests_authorised_like_declarations(self):
        # A request on the ingest socket (here "revision", for --revision
        # next) about another centre's seat is refused, nothing sent
        before = self.state()
        result = self.send(SEAT_B, "--revision", "next", *self.curve("agg", "centre-a"), summary=False)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn('refused "revision": centre centre-a may not declare %s' % SEAT_B, result.stderr)
        self.assertEqual(self.state(), before)

    def test_2c_exit_poll_from_the_desk_only(self):
        # A count centre's key declares its seats, not the night's picture
        poll = os.path.join(self.dir, "exit.csv")
        with open(poll, "w") as f:
            f.write("party,seats\nCon,314\nLab,266\n")
        before = self.state()
        result = self.pipeline.ingest("exit-poll", poll, "--give-up", "5", *self.curve("agg", "centre-a"),
                                      check=False, summary=True)
        self.assertEqual((result.returncode, result.summary["outcome"]), (1, "rejected"), result.stderr)
        self.assertIn("centre centre-a may not publish an exit poll", result.summary["reason"])
        self.assertEqual(self.state(), before)
        result = self.pipeline.ingest("exit-poll", poll, "--give-up", "5", *self.curve("agg", "desk"),
                                      summary=True)
        self.assertEqual(result.summary["outcome"], "accepted")
        state = self.state(min_sequence=before["sequence"] + 1)
        self.assertEqual([(p["party"], p["seats"]) for p in state["exit_poll"]["parties"]],
                         [("Con", 314), ("Lab", 266)])
        self.assertEqual(state["exit_poll"]["source"], "desk")

    def test_3_key_files(self):
        # Keygen never overwrites, and refuses a secret key others can read
        r = run("ingest", "keygen", self.key("centre-a"))
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(os.stat(self.key("viewer") + ".key").st_mode & 0o777, 0o600)
        leaky = self.key("leaky")
        self.assertEqual(run("ingest", "keygen", leaky).returncode, 0)
        os.chmod(leaky + ".key", 0o640)
        r = self.send(SEAT_A, "--curve-server-key", self.key("agg") + ".pub", "--curve-key", leaky, summary=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("readable by group or others", r.stderr)
        # A public key that is not one
        bad = self.key("bad.pub")
        with open(bad, "w") as f:
            f.write("not a key\n")
        r = self.send(SEAT_A, "--curve-server-key", bad, "--curve-key", self.key("centre-a"), summary=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("not a key file", r.stderr)

    def test_4_aggregator_refuses_bad_setups(self):
        ports = [free_port() for _ in range(3)]
        base = ["--baseline", harness.BASELINE, "--ingest", tcp(ports[0]), "--updates", tcp(ports[1]),
                "--snapshot", tcp(ports[2])]
        r = run("aggregator", *base, "--curve-secret", self.key("agg") + ".key")
        self.assertEqual(r.returncode, 2)
        bad_list = self.key("bad-allow.txt")
        with private(bad_list) as f:
            f.write("%s\n" % self.public("centre-a"))   # no centre name
        r = run("aggregator", *base, "--curve-secret", self.key("agg") + ".key", "--allow", bad_list)
        self.assertEqual(r.returncode, 1)
        self.assertIn("bad-allow.txt:1:", r.stderr)
        # An allow-list others may read (or write) is refused, as a secret key is
        os.chmod(self.allow, 0o644)
        try:
            r = run("aggregator", *base, "--curve-secret", self.key("agg") + ".key", "--allow", self.allow)
        finally:
            os.chmod(self.allow, 0o600)
        self.assertEqual(r.returncode, 1)
        self.assertIn("allow-list %s is readable by group or others (mode 644)" % self.allow, r.stderr)

    def test_5_paid_feed(self):
        subs = self.key("subscribers.txt")
        with private(subs) as f:
            f.write("%s viewer-1\n" % self.public("viewer"))
        ports = [free_port() for _ in range(2)]
        publisher = Process(self.dir, "publisher", [
            "publisher", "--upstream-updates", tcp(self.pipeline.agg_updates),
            "--upstream-snapshot", tcp(self.pipeline.agg_snapshot),
            "--updates", tcp(ports[0]), "--snapshot", tcp(ports[1]), "--http", "0",
            "--curve-secret", self.key("pub") + ".key", "--allow", subs])
        try:
            feed = ["--updates", tcp(ports[0]), "--snapshot", tcp(ports[1])]
            r = run("subscribe", "--once", "--json", "--timeout", "20", *feed,
                    "--curve-server-key", self.key("pub") + ".pub", "--curve-key", self.key("viewer"))
            self.assertEqual(r.returncode, 0, r.stderr + publisher.output())
            self.assertEqual(json.loads(r.stdout)["sequence"], self.state()["sequence"])
            for extra in ([], ["--curve-server-key", self.key("pub") + ".pub",
                               "--curve-key", self.key("stranger")]):
                r = run("subscribe", "--once", "--json", "--timeout", "2", *feed, *extra)
                self.assertEqual(r.returncode, 1, r.stdout)
            self.assertIn("AUTH002 key %s" % self.public("stranger")[:8], publisher.output())
        finally:
            self.assertEqual(publisher.stop(), 0, publisher.output())


if __name__ == "__main__":
    harness.main()
