"""The live pipeline end to end: ingest -> aggregator -> publisher -> subscribers,
real processes on loopback. Usage: python3 tests/system/test_pipeline.py BIN_DIR DATA_DIR"""
import os
import subprocess
import time

import harness
from harness import PipelineTest, content, subscriber_state, tcp, wait_for


class LivePipeline(PipelineTest):

    def test_full_replay_three_subscribers_agree(self):
        p = self.pipeline()
        p.start_aggregator()
        pub = p.start_publisher()
        before = p.start_subscriber(pub.ports, 650)
        # 2017 night (22 h to the last seat) at 10000x: about 8 s, so a subscriber can join mid-way
        replay = p.start_ingest("replay", harness.RESULTS, "--speed", "10000")
        p.state(min_sequence=100, timeout=30)       # the aggregator has taken 100
        middle = p.start_subscriber(pub.ports, 650)
        self.assertEqual(replay.summary(60)["accepted"], 650, replay.output())
        self.assertEqual(replay.proc.returncode, 0, replay.output())
        after = p.state(*pub.ports, min_sequence=650)
        states = [subscriber_state(before), subscriber_state(middle), after]
        for s in states:
            self.assertBBC(s)
            self.assertEqual(s["sequence"], 650)
        self.assertEqual(content(states[0]), content(states[2]))
        self.assertEqual(content(states[1]), content(states[2]))
        # and the publisher's state is the aggregator's
        self.assertEqual(content(p.state()), content(after))
        p.stop()

    def test_publisher_and_subscriber_restarted_mid_replay_converge(self):
        p = self.pipeline()
        p.start_aggregator()
        pub = p.start_publisher()
        ports = pub.ports
        sub = p.start_subscriber(ports, 650)
        replay = p.start_ingest("replay", harness.RESULTS, "--speed", "10000")
        p.state(min_sequence=150, timeout=30)       # the aggregator has taken 150
        pub.kill()
        sub.kill()
        pub2 = p.start_publisher(ports=ports)      # same ports: subscribers reconnect
        sub2 = p.start_subscriber(ports, 650)
        self.assertEqual(replay.proc.wait(60), 0, replay.output())
        final = p.state()
        self.assertBBC(final)
        self.assertEqual(content(subscriber_state(sub2)), content(final))
        self.assertEqual(content(p.state(*pub2.ports, min_sequence=650)), content(final))
        p.stop()

    def test_ingest_retries_until_aggregator_is_back(self):
        p = self.pipeline()
        # the count centre starts first: nothing listens yet
        replay = p.start_ingest("replay", harness.RESULTS, "--speed", "max", "--retry-ms", "300")
        wait_for(lambda: "sent 650/650" in replay.output() or not replay.alive(), 10, "all sent once")
        self.assertTrue(replay.alive(), "ingest gave up while the aggregator was away")
        p.start_aggregator()
        summary = replay.summary(60)
        self.assertEqual(replay.proc.returncode, 0, replay.output())
        self.assertEqual((summary["accepted"], summary["not_acknowledged"]), (650, 0))
        self.assertGreater(max(seat["attempts"] for seat in summary["seats"]), 1)   # it did retry
        state = p.state()
        self.assertBBC(state)
        # exactly once: one sequence per declaration, votes counted once
        self.assertEqual(state["sequence"], 650)
        total = sum(int(r[7]) for r in harness.read_rows(harness.RESULTS))
        self.assertEqual(state["total_votes"], total)
        p.stop()

    def test_subscriber_that_never_reads_does_not_stall_the_night(self):
        p = self.pipeline()
        p.start_aggregator()
        pub = p.start_publisher()
        # its stdout is a pipe nobody reads: it blocks, and stops reading its socket
        stuck = subprocess.Popen([os.path.join(harness.BIN, "subscribe"), "--updates", tcp(pub.ports[0]),
                                  "--snapshot", tcp(pub.ports[1]), "--json"], stdout=subprocess.PIPE)
        try:
            p.state(*pub.ports)
            started = time.monotonic()
            for revision in (1, 2, 3):     # three nights' worth of updates through the stuck pipe
                p.ingest("send", harness.RESULTS, "--revision", str(revision), "--reason", "correction")
            elapsed = time.monotonic() - started
            self.assertIsNone(stuck.poll(), "the stuck subscriber should still be there")
            final = p.state(*pub.ports, min_sequence=1950)
            self.assertEqual(final["sequence"], 1950)
            self.assertBBC(final)
            print("1950 declarations past a stuck subscriber in %.2f s" % elapsed)
        finally:
            stuck.kill()
            stuck.wait()
        p.stop()

    def test_send_prints_a_line_per_seat_and_fails_on_rejection(self):
        p = self.pipeline()
        p.start_aggregator()
        run = p.ingest("send", harness.RESULTS, "--seat", "E14000800")
        self.assertRegex(run.stdout, r"E14000800 Luton North rev 1: accepted \(sequence 1\)")
        run = p.ingest("send", harness.RESULTS, "--seat", "E14000800")
        self.assertIn("duplicate", run.stdout)
        bad = os.path.join(self.workdir, "bad.csv")
        rows = harness.read_rows(harness.RESULTS, "E14000800")
        rows[0][7] = "99999"          # more votes than electors
        harness.write_csv(bad, rows)
        run = p.ingest("send", bad, "--revision", "2", check=False)
        self.assertEqual(run.returncode, 1)
        self.assertIn("rejected", run.stdout)
        self.assertIn("exceed", run.stdout)
        self.assertEqual(p.state()["sequence"], 1)
        # the wrong mode never reaches the state
        run = p.ingest("send", harness.RESULTS, "--seat", "E14000801", "--mode", "live", check=False)
        self.assertEqual(run.returncode, 1)
        self.assertIn("mode", run.stdout)
        self.assertEqual(p.state()["declared"], 1)
        p.stop()

    def test_every_program_stops_cleanly_on_sigint(self):
        import signal
        p = self.pipeline()
        agg = p.start_aggregator()
        pub = p.start_publisher()
        sub = p.start_subscriber(pub.ports, 10**9)
        p.state(*pub.ports)
        for proc in (sub, pub, agg):
            self.assertEqual(proc.stop(signal.SIGINT, timeout=5), 0, proc.output())

    def test_help_on_every_program(self):
        for program in ("aggregator", "publisher", "ingest", "subscribe"):
            run = subprocess.run([os.path.join(harness.BIN, program), "--help"], capture_output=True, text=True)
            self.assertEqual(run.returncode, 0, program)
            self.assertIn("default", run.stdout, program)


if __name__ == "__main__":
    harness.main()
