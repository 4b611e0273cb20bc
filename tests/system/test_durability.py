"""Nothing lost: the journal, crash recovery, corrections end to end, a full
disk. Real processes, real files, real kill -9.
Usage: python3 tests/system/test_durability.py BIN_DIR DATA_DIR"""
import json
import os
import random
import re
import signal
import subprocess
import time
import unittest

import harness
from harness import PipelineTest, content, wait_for


class Durability(PipelineTest):

    def reference_state(self):
        """An uninterrupted run of the night, to compare against."""
        p = self.pipeline()
        p.start_aggregator()
        p.ingest("replay", harness.RESULTS, "--speed", "max")
        state = p.state(min_sequence=650)
        p.stop()
        return state

    def test_kill_9_at_random_moments_loses_nothing(self):
        seed = int(os.environ.get("CRASH_SEED", random.randrange(1 << 30)))
        print("crash test seed %d (CRASH_SEED=%d to repeat)" % (seed, seed))
        rng = random.Random(seed)
        reference = self.reference_state()

        journal = os.path.join(self.workdir, "night.journal")
        p = self.pipeline(journal=journal)
        p.start_aggregator()
        # About 8 s of night (22 h at 10000x), retried fast so the crashes bite
        replay = p.start_ingest("replay", harness.RESULTS, "--speed", "10000", "--retry-ms", "200",
                                "--give-up", "120")
        kills = sorted(rng.uniform(0.1, 7.0) for _ in range(10))
        started = time.monotonic()
        for at in kills:
            wait_for(lambda: time.monotonic() - started >= at, 30, "the next kill time")
            p.aggregator.kill()
            p.start_aggregator(wait=False)
        summary = replay.summary(120)
        self.assertEqual(replay.proc.returncode, 0, replay.output())
        self.assertEqual(summary["declarations"], 650)
        # each acknowledged once: accepted, or a duplicate of what a kill interrupted the ack of
        self.assertEqual(summary["accepted"] + summary["duplicate"], 650)
        self.assertEqual((summary["rejected"], summary["not_acknowledged"]), (0, 0))
        final = p.state(min_sequence=1)
        self.assertEqual(content(final), content(reference))
        self.assertBBC(final)
        # every acknowledged declaration is in the journal, exactly once
        listing = harness.run("ingest", "journal", journal, "--json")
        self.assertEqual(listing.returncode, 0, listing.stderr)
        records = [json.loads(l) for l in listing.stdout.splitlines()]
        self.assertEqual(len(records), 650)
        self.assertEqual(len({r["ons_id"] for r in records}), 650)
        self.assertEqual([r["sequence"] for r in records], list(range(1, 651)))
        recovered = p.aggregator.output()
        self.assertIn("AGG007", recovered)       # it recovered from the journal
        p.stop()

    def fill_journal(self, seats):
        journal = os.path.join(self.workdir, "night.journal")
        p = self.pipeline(journal=journal)
        p.start_aggregator()
        csv = os.path.join(self.workdir, "some.csv")
        rows = harness.read_rows(harness.RESULTS)
        ids = sorted({r[0] for r in rows})[:seats]
        harness.write_csv(csv, [r for r in rows if r[0] in ids])
        p.ingest("send", csv)
        p.stop()
        return p, journal

    def test_torn_tail_is_cut_and_reported(self):
        p, journal = self.fill_journal(5)
        size = os.path.getsize(journal)
        with open(journal, "r+b") as f:
            f.truncate(size - 10)           # a crash in the middle of the last write
        p.start_aggregator()
        self.assertEqual(p.state()["declared"], 4)
        self.assertRegex(p.aggregator.output(), r"AGG006 .*cut \d+ bytes of a torn or corrupt tail after 4 records")
        p.stop()

    def test_corrupt_middle_record_is_refused(self):
        p, journal = self.fill_journal(5)
        at = harness.journal_frames(journal)[1][0] + 16 + 10   # inside the first record's payload
        with open(journal, "r+b") as f:
            f.seek(at)
            byte = f.read(1)
            f.seek(at)
            f.write(bytes([byte[0] ^ 0xFF]))
        agg = p.start_aggregator(wait=False)
        self.assertEqual(agg.proc.wait(10), 1)
        self.assertIn("corrupt record", agg.output())
        self.assertIn("--truncate-corrupt", agg.output())
        # told to, it starts, cutting the journal at the bad record
        p.extra = ["--truncate-corrupt"]
        p.start_aggregator()
        self.assertEqual(p.state()["declared"], 0)
        self.assertTrue(os.path.exists(journal + ".corrupt"))
        p.stop()

    def test_a_flipped_bit_anywhere_in_the_journal_refuses_to_start(self):
        # Issue 11 item 3: one flipped bit in a record's length, in the
        # middle of the journal, was read as a torn tail and the file was cut
        # (650 acknowledged records -> 325). Every record's fields are now
        # checked: any flipped bit of a committed journal refuses to start,
        # and the file is left as it was. Half the flips hit length fields.
        p, journal = self.fill_journal(650)
        frames = harness.journal_frames(journal)
        self.assertEqual(len(frames), 651)
        with open(journal, "rb") as f:
            whole = f.read()
        seed = int(os.environ.get("FLIP_SEED", random.randrange(1 << 30)))
        print("bit flip test seed %d (FLIP_SEED=%d to repeat)" % (seed, seed))
        rng = random.Random(seed)
        flips = [(rng.choice(frames[1:])[0] + 4) * 8 + rng.randrange(32) for _ in range(8)]
        flips += [rng.randrange(len(whole) * 8) for _ in range(8)]
        for bit in flips:
            flipped = bytearray(whole)
            flipped[bit // 8] ^= 1 << (bit % 8)
            with open(journal, "wb") as f:
                f.write(flipped)
            agg = p.start_aggregator(wait=False)
            self.assertEqual(agg.proc.wait(30), 1, "bit %d (byte %d) did not refuse:\n%s" % (bit, bit // 8, agg.output()))
            self.assertIn("AGG004", agg.output())
            with open(journal, "rb") as f:
                self.assertEqual(f.read(), bytes(flipped), "bit %d: the journal was changed" % bit)
            self.assertFalse(os.path.exists(journal + ".corrupt"))
        # the same file unflipped recovers all 650
        with open(journal, "wb") as f:
            f.write(whole)
        p.start_aggregator()
        self.assertEqual(p.state()["declared"], 650)
        p.stop()

    def test_a_live_aggregator_refuses_another_nights_journal(self):
        # Issue 11 item 2: last week's rehearsal journal under --mode live
        p, journal = self.fill_journal(5)
        with open(journal, "rb") as f:
            rehearsal = f.read()
        for extra, words in ((["--mode", "live"], "rehearsal night"),
                             (["--election", "uk-general-2019"], 'election "uk-general"')):
            p.extra = extra
            agg = p.start_aggregator(wait=False)
            self.assertEqual(agg.proc.wait(30), 1, agg.output())
            self.assertRegex(agg.output(), r"AGG100 refusing to start: journal .* is another night's: its header")
            self.assertIn(words, agg.output())
            with open(journal, "rb") as f:
                self.assertEqual(f.read(), rehearsal)
        # A version 1 journal has no header: each record is checked
        old = os.path.join(self.workdir, "old.journal")
        self.write_version_1(journal, old)
        with open(old, "rb") as f:
            version_1 = f.read()
        p.journal = old
        p.extra = ["--mode", "live"]
        agg = p.start_aggregator(wait=False)
        self.assertEqual(agg.proc.wait(30), 1, agg.output())
        self.assertRegex(agg.output(), r"AGG100 .*record seq 1 is a declaration of a rehearsal night")
        with open(old, "rb") as f:
            self.assertEqual(f.read(), version_1)
        # its own night's aggregator recovers it, rewritten as version 2
        p.extra = []
        p.start_aggregator()
        self.assertEqual(p.state()["declared"], 5)
        self.assertIn("AGG101", p.aggregator.output())
        self.assertEqual(len(harness.journal_frames(old)), 6)
        with open(old + ".v1", "rb") as f:
            self.assertEqual(f.read(), version_1)
        p.stop()
        listing = harness.run("ingest", "journal", old)
        self.assertEqual(listing.returncode, 0, listing.stderr)
        self.assertIn("journal of a rehearsal night of election uk-general", listing.stderr)
        self.assertEqual(len(listing.stdout.splitlines()), 5)

    def write_version_1(self, journal, path):
        """The records of a version 2 journal as a version 1 file (the format
        before issue 11: magic, then u32 length | u32 CRC | payload)."""
        import struct
        import zlib
        with open(journal, "rb") as f:
            data = f.read()
        out = bytearray(b"ELJRNL01")
        for at, kind, length in harness.journal_frames(journal)[1:]:
            payload = data[at + 16:at + 16 + length]
            out += struct.pack("<II", length, zlib.crc32(payload)) + payload
        with open(path, "wb") as f:
            f.write(out)

    def test_two_aggregators_never_share_a_journal(self):
        # Issue 11 item 4: the second one overwrote acknowledged records
        journal = os.path.join(self.workdir, "night.journal")
        first = self.pipeline(journal=journal)
        first.start_aggregator()
        self.assertEqual(os.stat(journal).st_mode & 0o777, 0o600)
        first.ingest("send", self.one_seat_csv("E14000800", "a.csv"))
        second = self.pipeline(journal=journal)
        agg = second.start_aggregator(wait=False)
        self.assertEqual(agg.proc.wait(30), 1, agg.output())
        self.assertRegex(agg.output(), r"AGG005 cannot open journal: .*in use")
        first.ingest("send", self.one_seat_csv("S14000051", "b.csv"))
        first.stop()
        # what the first acknowledged is all there
        first.start_aggregator()
        self.assertEqual({c["id"] for c in first.state()["constituencies"]}, {"E14000800", "S14000051"})
        first.stop()

    @unittest.skipUnless(os.geteuid() == 0, "needs root: it mounts a 96 KiB tmpfs to fill the disk "
                         "(tests/unit/test_journal covers a failed write without root)")
    def test_full_disk_never_acknowledges_what_it_could_not_persist(self):
        mount = os.path.join(self.workdir, "small")
        os.mkdir(mount)
        # 96 KiB: room for about a third of the night's records
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", mount], check=True)
        try:
            journal = os.path.join(mount, "night.journal")
            p = self.pipeline(journal=journal)
            p.start_aggregator()
            run = p.ingest("send", harness.RESULTS, "--retry-ms", "200", "--give-up", "3", check=False,
                           summary=True)
            self.assertEqual(run.returncode, 1, "a full disk must leave declarations unacknowledged")
            summary = run.summary
            self.assertGreater(summary["accepted"], 0)
            self.assertGreater(summary["not_acknowledged"], 0)
            self.assertEqual(summary["accepted"] + summary["not_acknowledged"], 650)
            acknowledged = {s["ons_id"] for s in summary["seats"] if s["outcome"] == "accepted"}
            self.assertEqual(len(acknowledged), summary["accepted"])
            self.assertIn("JOURNAL WRITE FAILED", p.aggregator.output())
            live = p.state()
            self.assertEqual({c["id"] for c in live["constituencies"]}, acknowledged)
            # what survives a restart is exactly what was acknowledged
            p.aggregator.kill()
            p.start_aggregator()
            self.assertEqual({c["id"] for c in p.state()["constituencies"]}, acknowledged)
            self.assertEqual(content(p.state()), content(live))
            p.stop()
        finally:
            subprocess.run(["umount", "-l", mount])

    def one_seat_csv(self, ons_id="E14000800", name="luton.csv"):
        path = os.path.join(self.workdir, name)
        harness.write_csv(path, harness.read_rows(harness.RESULTS, ons_id))
        return path

    def test_retry_in_the_same_batch_as_its_original_when_the_commit_fails(self):
        # Issue 11 item 1: the original and its retries reach the aggregator
        # together (it is stopped while ingest resends), so one batch holds
        # them all, and the disk is full, so that batch's commit fails. Each
        # copy must be answered "unavailable": a "duplicate" would be judged
        # against the first copy, which the disk never held.
        journal = os.path.join(self.workdir, "night.journal")
        p = self.pipeline(journal=journal)
        p.start_aggregator()
        p.stop()                                # the journal exists, holding no record
        p.file_size_limit = os.path.getsize(journal)
        p.start_aggregator()
        p.aggregator.proc.send_signal(signal.SIGSTOP)
        try:
            sender = p.start_ingest("send", self.one_seat_csv(), "--retry-ms", "20", "--give-up", "4",
                                    "--verbose")
            # the original and three retries wait in the sockets for the aggregator
            wait_for(lambda: "(attempt 4)" in sender.output(), 30, "ingest to resend three times")
        finally:
            p.aggregator.proc.send_signal(signal.SIGCONT)
        summary = sender.summary(60)
        self.assertEqual(sender.proc.returncode, 1, sender.output())
        self.assertEqual((summary["accepted"], summary["duplicate"], summary["not_acknowledged"]), (0, 0, 1),
                         sender.output())
        log = p.aggregator.output()
        # the test did what it says: several copies were judged in one batch that failed
        batches = [int(n) for n in re.findall(r"AGG034 (\d+) declarations refused as unavailable", log)]
        self.assertTrue(batches and max(batches) >= 2, log)
        self.assertEqual(p.state()["declared"], 0)
        p.stop()
        # and the journal holds nothing (it never acknowledged anything)
        listing = harness.run("ingest", "journal", journal, "--json")
        self.assertEqual((listing.returncode, listing.stdout), (0, ""), listing.stderr)

    def test_correction_moves_a_seat_between_parties(self):
        p = self.pipeline(journal=os.path.join(self.workdir, "night.journal"))
        p.start_aggregator()
        pub = p.start_publisher()
        p.ingest("replay", harness.RESULTS, "--speed", "max")
        before = p.state(*pub.ports, min_sequence=650)
        # revision 2 of Luton North: the Conservative and Labour figures swapped
        rows = harness.read_rows(harness.RESULTS, "E14000800")
        votes = {r[6]: r[7] for r in rows}
        for r in rows:
            if r[6] in ("Lab", "Con"):
                r[7] = votes["Con" if r[6] == "Lab" else "Lab"]
        fixed = os.path.join(self.workdir, "luton-rev2.csv")
        harness.write_csv(fixed, rows)
        run = p.ingest("send", fixed, "--revision", "2", "--reason", "recount")
        self.assertIn("accepted (sequence 651)", run.stdout)
        after = p.state(*pub.ports, min_sequence=651)
        seat = next(c for c in after["constituencies"] if c["id"] == "E14000800")
        self.assertEqual((seat["winner"], seat["outcome"], seat["previous_winner"], seat["revision"]),
                         ("Con", "gain", "Lab", 2))
        old = {x["party"]: x for x in before["parties"]}
        new = {x["party"]: x for x in after["parties"]}
        self.assertEqual((new["Con"]["seats"], new["Con"]["change"]), (old["Con"]["seats"] + 1, old["Con"]["change"] + 1))
        self.assertEqual((new["Lab"]["seats"], new["Lab"]["change"]), (old["Lab"]["seats"] - 1, old["Lab"]["change"] - 1))
        self.assertEqual(new["Lab"]["votes"] - old["Lab"]["votes"], old["Con"]["votes"] - new["Con"]["votes"])
        self.assertEqual(after["total_votes"], before["total_votes"])   # votes moved, the total did not
        # a lower revision now is refused; the state stays
        run = p.ingest("send", harness.RESULTS, "--seat", "E14000800", check=False)
        self.assertIn("rejected", run.stdout)
        p.stop()

    def test_a_recorded_night_replays_as_a_feed(self):
        journal = os.path.join(self.workdir, "night.journal")
        first = self.pipeline(journal=journal)
        first.start_aggregator()
        first.ingest("replay", harness.RESULTS, "--speed", "max")
        rows = harness.read_rows(harness.RESULTS, "E14000800")
        fixed = os.path.join(self.workdir, "luton-rev2.csv")
        rows[0][7] = str(int(rows[0][7]) - 100)
        harness.write_csv(fixed, rows)
        first.ingest("send", fixed, "--revision", "2")
        recorded = first.state(min_sequence=651)
        first.stop()
        # last night's journal is tonight's rehearsal: corrections and all
        second = self.pipeline()
        second.start_aggregator()
        run = second.ingest("replay", journal, "--speed", "max", summary=True)
        self.assertEqual((run.summary["declarations"], run.summary["accepted"]), (651, 651))
        self.assertEqual(content(second.state(min_sequence=651)), content(recorded))
        listing = harness.run("ingest", "journal", journal)
        self.assertEqual(listing.returncode, 0, listing.stderr)
        last = listing.stdout.splitlines()[-1]
        self.assertRegex(last, r"^ *651 \S+ E14000800 +uk-general rev 2 result correction")
        self.assertEqual(len(listing.stdout.splitlines()), 651)
        second.stop()


if __name__ == "__main__":
    harness.main()
