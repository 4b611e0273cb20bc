"""What a follower of the feed is told, on real processes (issue 11 items
11-13, issue 13 section 3): the aggregator's failing journal relayed as
not live down a chain of two publishers (heartbeats, snapshot headers,
/state, /events, subscribe); a subscriber that joins a publisher with no
upstream told so from the first frame; a topic subscriber that hears every
update of its topic with one snapshot; subscribe's --topic, --once and
--card as a graphics developer uses them.
Usage: python3 tests/system/test_feed.py BIN_DIR DATA_DIR"""
import json
import os
import re
import signal
import time

import harness
from harness import EventStream, PipelineTest, Process, free_port, http_get, run, tcp, wait_for

NOT_LIVE = 3        # subscribe --once: printed, but the source is not live


def heartbeat(ports):
    """The first heartbeat a server sends (subscribe --health --once --json)."""
    result = run("subscribe", "--health", "--once", "--json", "--updates", tcp(ports[0]),
                 "--snapshot", tcp(ports[1]), "--timeout", "10", timeout=20)
    if result.returncode != 0:
        return None
    return json.loads(result.stdout.splitlines()[0])["heartbeat"]


def once(ports, *args, timeout=20):
    return run("subscribe", "--updates", tcp(ports[0]), "--snapshot", tcp(ports[1]), "--once",
               "--timeout", str(timeout), *args, timeout=timeout + 10)


class Feed(PipelineTest):

    def chained_publisher(self, upstream):
        """A publisher that follows another publisher."""
        ports = (free_port(), free_port())
        pub = Process(self.workdir, "publisher2", [
            "publisher", "--upstream-updates", tcp(upstream.ports[0]), "--upstream-snapshot",
            tcp(upstream.ports[1]), "--updates", tcp(ports[0]), "--snapshot", tcp(ports[1]), "--http", "0"])
        pub.ports = ports
        return pub

    def test_a_failing_journal_is_not_live_down_a_chain_of_publishers(self):
        # Issue 11 item 11: the aggregator's journal fails (its file may not
        # grow: RLIMIT_FSIZE, as test_durability does without root)
        journal = os.path.join(self.workdir, "night.journal")
        p = self.pipeline(journal=journal)
        p.start_aggregator()
        p.ingest("send", harness.RESULTS, "--seat", "E14000800")
        p.stop()
        p.file_size_limit = os.path.getsize(journal)
        p.start_aggregator()
        first = p.start_publisher(http=True)
        second = self.chained_publisher(first)
        state = p.state(*second.ports)
        self.assertEqual((state["declared"], state["upstream_ok"]), (1, True))
        wait_for(lambda: json.loads(http_get(first.http + "/state")[2]).get("source") == "publisher", 20,
                 "the gateway's state to say it is live")
        stream = EventStream(first.http + "/events")
        self.assertEqual(stream.next()[0], "state")

        failed = p.ingest("send", harness.RESULTS, "--seat", "E14000801", "--retry-ms", "200",
                          "--give-up", "2", check=False, summary=True)
        self.assertEqual(failed.summary["not_acknowledged"], 1, failed.stdout)
        self.assertIn("JOURNAL WRITE FAILED", p.aggregator.output())

        # Every tier says so: the aggregator, the publisher that follows it,
        # and the publisher that follows that one
        for name, ports in (("aggregator", (p.agg_updates, p.agg_snapshot)), ("first publisher", first.ports),
                            ("second publisher", second.ports)):
            wait_for(lambda: (heartbeat(ports) or {}).get("upstream_ok") is False, 20,
                     "the %s's heartbeat to say not live" % name)
            self.assertEqual(heartbeat(ports)["stale_source"], "aggregator", name)
        # /events: a health event that says so
        while True:
            name, _, data = stream.next()
            if name == "health" and not json.loads(data)["heartbeat"]["upstream_ok"]:
                self.assertEqual(json.loads(data)["heartbeat"]["stale_source"], "aggregator")
                break
        # /state: with a new ETag (the document changed though the sequence did not)
        status, headers, body = http_get(first.http + "/state")
        state = json.loads(body)
        self.assertEqual((status, state["upstream_ok"], state["source"]), (200, False, "aggregator"))
        self.assertIn("stale", headers["ETag"])
        # A subscriber that joins now is told from the snapshot header: JSON...
        result = once(second.ports, "--json")
        self.assertEqual(result.returncode, NOT_LIVE, result.stderr)
        state = json.loads(result.stdout)
        self.assertEqual((state["declared"], state["upstream_ok"], state["source"]), (1, False, "aggregator"))
        self.assertIn("not live", result.stderr)
        # ... and text, the warning before any figure
        result = once(second.ports)
        self.assertEqual(result.returncode, NOT_LIVE, result.stderr)
        self.assertTrue(result.stdout.startswith("*** WARNING: the results source is NOT LIVE"), result.stdout)

        # The journal writable again (the aggregator restarted without the
        # limit): live again down the chain
        p.aggregator.stop()
        p.file_size_limit = None
        p.start_aggregator()
        wait_for(lambda: (heartbeat(second.ports) or {}).get("upstream_ok") is True, 30,
                 "the second publisher to say live again")
        self.assertEqual(once(second.ports, "--json").returncode, 0)
        self.assertIn("PUB300", first.output())

    def test_joining_a_publisher_with_no_upstream_says_stale_from_the_first_frame(self):
        # Issue 11 item 13: the aggregator gone mid-night, the publisher keeps
        # its state; a subscriber joining it must not pass it off as live
        p = self.pipeline()
        p.start_aggregator()
        pub = p.start_publisher()
        p.ingest("send", harness.RESULTS, "--seat", "E14000800")
        p.state(*pub.ports, min_sequence=1)
        p.aggregator.kill()
        wait_for(lambda: (heartbeat(pub.ports) or {}).get("upstream_ok") is False, 20,
                 "the publisher to say its upstream is silent")
        self.assertEqual(heartbeat(pub.ports)["stale_source"], "publisher")
        live = Process(self.workdir, "subscribe", ["subscribe", "--updates", tcp(pub.ports[0]),
                                                   "--snapshot", tcp(pub.ports[1])])
        wait_for(lambda: "UK: after 1 of 650" in live.output(), 20, "the subscriber's first table")
        text = live.output()
        self.assertIn("NOT LIVE (a publisher lost the aggregator)", text)
        self.assertLess(text.index("NOT LIVE"), text.index("UK: after 1 of 650"), text)
        live.stop()
        result = once(pub.ports, "--json")
        self.assertEqual(result.returncode, NOT_LIVE, result.stderr)
        self.assertEqual((json.loads(result.stdout)["upstream_ok"], json.loads(result.stdout)["source"]),
                         (False, "publisher"))

    def test_a_topic_subscriber_hears_every_update_of_its_topic_with_one_snapshot(self):
        # Issue 11 item 12: a filtered stream is full of global sequence jumps
        p = self.pipeline()
        p.start_aggregator()
        pub = p.start_publisher()
        scotland = Process(self.workdir, "scotland", [
            "subscribe", "--updates", tcp(pub.ports[0]), "--snapshot", tcp(pub.ports[1]),
            "--topic", "region.Scotland", "--json", "--verbose"])
        luton = Process(self.workdir, "luton", [
            "subscribe", "--updates", tcp(pub.ports[0]), "--snapshot", tcp(pub.ports[1]),
            "--topic", "seat.E14000800", "--verbose"])
        # --once --min-sequence with a topic that is not the UK summary: it
        # reaches the sequence the stream it hears is at (its heartbeats)
        waiting = Process(self.workdir, "waiting", [
            "subscribe", "--updates", tcp(pub.ports[0]), "--snapshot", tcp(pub.ports[1]), "--once",
            "--topic", "region.Scotland", "--min-sequence", "650", "--timeout", "120", "--verbose"],
            stdout_apart=True)
        wait_for(lambda: all("CLN005" in s.output() for s in (scotland, luton, waiting)), 20,
                 "the subscribers to load their snapshot")
        p.ingest("replay", harness.RESULTS, "--speed", "max")
        p.state(*pub.ports, min_sequence=650)
        seats = len({row[0] for row in harness.read_rows(harness.RESULTS) if row[3] == "Scotland"})
        self.assertEqual(seats, 59)

        def lines():
            return [json.loads(l) for l in scotland.output().splitlines() if l.startswith("{")]
        wait_for(lambda: any(l["national"]["declared"] == seats for l in lines()), 30,
                 "the last Scotland update")
        updates = lines()
        self.assertEqual({u["topic"] for u in updates}, {"region.Scotland"})
        sequences = [u["sequence"] for u in updates]
        self.assertEqual(sequences, sorted(set(sequences)), "each update once, in order")
        # the snapshot's line (nothing declared yet), then one live update per
        # batch that declared Scotland seats (a region's summary goes out once
        # per batch: at max speed a batch holds several declarations), each
        # declaring more, the last all of them; none lost (no resync, below)
        declared = [u["national"]["declared"] for u in updates]
        self.assertEqual(declared[0], 0)
        self.assertEqual(declared[-1], seats)
        self.assertEqual(declared, sorted(set(declared)), "each update declares more seats")
        log = scotland.output()
        self.assertEqual(log.count("CLN005"), 1, log[-2000:])
        self.assertNotIn("CLN001", log)
        # the seat subscriber: its card, live, once, and no UK table
        wait_for(lambda: "Luton North (E14000800)  LAB HOLD" in luton.output(), 20, "Luton North's card")
        text = luton.output()
        # its result once; before it, the seat as listed from the start (and
        # again whenever its projected winner moved): not declared yet
        self.assertEqual(text.count("Luton North (E14000800)  LAB HOLD"), 1, text)
        self.assertEqual(text.count("Luton North (E14000800)"),
                         1 + text.count("Luton North (E14000800)  not declared yet"), text)
        self.assertLess(text.rindex("not declared yet"), text.index("LAB HOLD"), text)
        self.assertNotIn("UK: after", text)
        self.assertEqual(text.count("CLN005"), 1, text)
        scotland.stop()
        luton.stop()
        waiting.proc.wait(30)
        self.assertEqual(waiting.proc.returncode, 0, waiting.output())
        with open(waiting.stdout_path) as f:
            self.assertIn("Scotland: after 59 of 59 seats", f.read())

        # --once honours --topic: a region's table, a seat's card, no UK table
        result = once(pub.ports, "--topic", "region.Scotland")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("Scotland: after 59 of 59 seats", result.stdout)
        self.assertNotIn("UK: after", result.stdout)
        result = once(pub.ports, "--topic", "seat.E14000800")
        self.assertIn("Luton North (E14000800)  LAB HOLD", result.stdout)
        self.assertNotIn("UK: after", result.stdout)
        result = once(pub.ports, "--topic", "seat.E14000800", "--json")
        lines = [json.loads(l) for l in result.stdout.splitlines()]
        self.assertEqual([(l["topic"], l["seat"]["winner"]) for l in lines], [("seat.E14000800", "Lab")])
        # --card of no seat: said, and a failure
        result = once(pub.ports, "--card", "E99999999")
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("E99999999: unknown seat", result.stdout)
        self.assertIn("unknown seat", result.stderr)
        result = once(pub.ports, "--card", "E14000800")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("Luton North (E14000800)  LAB HOLD", result.stdout)

    def test_tables_never_say_plus_or_minus_zero(self):
        # Issue 13 section 3: after one seat most parties have no figure in
        # the declared seats (blank, not +0.0), and tiny falls read 0.0
        p = self.pipeline()
        p.start_aggregator()
        p.ingest("send", harness.RESULTS, "--seat", "E14000800")
        result = once((p.agg_updates, p.agg_snapshot), "--top", "0", "--card", "E14000800")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("UK: after 1 of 650", result.stdout)
        self.assertIsNone(re.search(r"[+-]0\.0\b", result.stdout), result.stdout)
        self.assertIsNone(re.search(r"(?<![\d.])[+-]0(?![\d.])", result.stdout), result.stdout)
        # the whole night too (every party, every change)
        p.ingest("send", harness.RESULTS)
        result = once((p.agg_updates, p.agg_snapshot), "--top", "0", "--min-sequence", "650")
        self.assertIn("UK: after 650 of 650", result.stdout)
        self.assertIsNone(re.search(r"[+-]0\.0\b", result.stdout), result.stdout)


    def test_a_follower_that_joins_after_a_burst_gets_all_of_it(self):
        # The publisher is stopped while a whole night is declared, so that
        # what the aggregator sent waits in its socket (thousands of
        # updates, more than one turn of its loop reads); a follower asks
        # for a snapshot before it runs again. Its snapshot must hold the
        # night (seed-check's order: the replay ends, then subscribe --once)
        p = self.pipeline()
        p.start_aggregator()
        pub = p.start_publisher()
        pub.proc.send_signal(signal.SIGSTOP)
        try:
            p.ingest("replay", harness.RESULTS, "--speed", "max")
            follower = Process(self.workdir, "follower", [
                "subscribe", "--updates", tcp(pub.ports[0]), "--snapshot", tcp(pub.ports[1]), "--once",
                "--json", "--timeout", "30"], stdout_apart=True)
            time.sleep(1)           # its request is queued at the stopped publisher
        finally:
            pub.proc.send_signal(signal.SIGCONT)
        self.assertEqual(follower.proc.wait(timeout=40), 0)
        with open(follower.stdout_path) as f:
            state = json.load(f)
        self.assertEqual(state["declared"], 650)
        self.assertBBC(state)


if __name__ == "__main__":
    harness.main()
