"""The results desk's figures (issue 13; issue 11 item 15), real processes on
loopback: the projection topic through the 2017 night against 2015, the exit
poll before it, every seat from the start with its context, and when a seat
says it was declared. Usage: python3 tests/system/test_desk.py BIN_DIR DATA_DIR"""
import csv
import json
import os
import time
import urllib.error
import urllib.request

import harness
import hostile
from harness import PipelineTest, wait_for

EXIT_POLL_2017 = [("Con", 314), ("Lab", 266), ("SNP", 34), ("LD", 14), ("PC", 3), ("Green", 1)]
FOUR = ("Con", "Lab", "SNP", "LD")


def seats_in_order():
    """2017's seats in their real declaration order (ties by id)."""
    with open(os.path.join(harness.DATA, "declaration_times_2017.csv")) as f:
        rows = list(csv.DictReader(f))
    return [r["ons_id"] for r in sorted(rows, key=lambda r: (r["declared_at"], r["ons_id"]))]


def http_json(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, None


def verdict_of(parties, seats_total):
    """The verdict the projection's own seats call for."""
    line = seats_total // 2 + 1
    top = parties[0]
    if top["seats"] >= line:
        return "%s majority of %d" % (top["party"], 2 * top["seats"] - seats_total)
    return "Hung parliament: %s %d short of %d" % (top["party"], line - top["seats"], line)


def seat_figures(path, ons_id):
    """(votes by party, valid votes) of a seat in a results file, the
    Speaker counted as Con as the harness's aggregator does."""
    votes = {}
    for row in harness.read_rows(path, ons_id):
        party = "Con" if row[6] == "Speaker" else row[6]
        votes[party] = votes.get(party, 0) + int(row[7])
    return votes, sum(votes.values())


class Desk(PipelineTest):

    def write_seats(self, name, seats):
        """A results file of the 2017 rows of seats."""
        wanted = set(seats)
        rows = [r for r in harness.read_rows(harness.RESULTS) if r[0] in wanted]
        path = os.path.join(self.workdir, name)
        harness.write_csv(path, rows)
        return path

    def write_exit_poll(self, name, rows):
        path = os.path.join(self.workdir, name)
        with open(path, "w") as f:
            f.write("party,seats\n" + "".join("%s,%d\n" % r for r in rows))
        return path

    def projection(self, p, declared, timeout=20):
        """The state once its projection rests on `declared` seats (a
        projection may follow its batch by a few ms: desk.h's cost rule)."""
        found = []

        def ready():
            state = p.state()
            found[:] = [state]
            return state["projection"] is not None and state["projection"]["declared"] == declared
        wait_for(ready, timeout, "a projection of %d declared seats" % declared)
        return found[0]

    def assertConsistent(self, projection, state):
        """declared + projected = seats per nation and UK; the parties' seats
        add up to them; the verdict is the one its seats call for."""
        total = projection["seats_total"]
        self.assertEqual(total, 650)
        self.assertEqual(projection["majority_line"], 326)
        self.assertEqual(sum(n["seats_total"] for n in projection["nations"]), total)
        for n in projection["nations"]:
            self.assertEqual(n["declared"] + n["projected"], n["seats_total"], n["nation"])
            self.assertEqual(sum(p["seats"] for p in n["parties"]), n["seats_total"], n["nation"])
            scope = next(r for r in state["regions"] if r["scope"] == n["nation"])
            self.assertEqual(n["declared"], scope["declared"], n["nation"])
        self.assertEqual(sum(n["declared"] for n in projection["nations"]), state["declared"])
        self.assertEqual(projection["declared"], state["declared"])
        parties = projection["parties"]
        self.assertEqual([p["seats"] for p in parties], sorted((p["seats"] for p in parties), reverse=True))
        if projection["basis"] == "results":
            self.assertEqual(sum(p["seats"] for p in parties), total)
        for p in parties:
            self.assertLessEqual(p["low"], p["seats"], p["party"])
            self.assertGreaterEqual(p["high"], p["seats"], p["party"])
        self.assertEqual(projection["verdict"], verdict_of(parties, total))

    def test_the_night_projected_from_the_exit_poll_to_the_last_seat(self):
        order = seats_in_order()
        journal = os.path.join(self.workdir, "night.journal")
        p = self.pipeline(journal=journal)
        p.start_aggregator()
        pub = p.start_publisher(http=True)

        # Before any result: the projection is the baseline's, and says so
        state = p.state()
        self.assertEqual(state["projection"]["basis"], "baseline")
        self.assertIsNone(state["exit_poll"])
        self.assertEqual(state["constituencies"], [])      # still declared seats only

        # The exit poll, checked line by line before it is sent
        bad = self.write_exit_poll("bad.csv", [("Con", 314), ("Con", 3)])
        run = p.ingest("exit-poll", bad, check=False)
        self.assertEqual(run.returncode, 2)
        self.assertIn("bad.csv:3: Con is given twice", run.stderr)
        bad = self.write_exit_poll("over.csv", [("Con", 500), ("Lab", 200)])
        run = p.ingest("exit-poll", bad, check=False)
        self.assertIn("over.csv:3: the seats add up to 700", run.stderr)
        # ... and by the aggregator, against its party register
        bad = self.write_exit_poll("labour.csv", [("Con", 314), ("Labour", 266)])
        run = p.ingest("exit-poll", bad, check=False, summary=True)
        self.assertEqual((run.returncode, run.summary["outcome"]), (1, "rejected"))
        self.assertIn("send Lab", run.summary["reason"])
        poll = self.write_exit_poll("exit.csv", EXIT_POLL_2017)
        run = p.ingest("exit-poll", poll, summary=True)
        self.assertEqual(run.summary["outcome"], "accepted")
        again = p.ingest("exit-poll", poll, summary=True)       # a retry changes nothing
        self.assertEqual(again.summary["outcome"], "duplicate")

        state = self.projection(p, 0)
        projection = state["projection"]
        self.assertEqual(projection["basis"], "exit poll")
        self.assertEqual([(x["party"], x["seats"]) for x in state["exit_poll"]["parties"]], EXIT_POLL_2017)
        self.assertEqual(state["exit_poll"]["parties"][0]["name"], "Conservative")
        self.assertEqual([(x["party"], x["seats"]) for x in projection["parties"]], EXIT_POLL_2017)
        self.assertEqual(projection["verdict"], "Hung parliament: Con 12 short of 326")
        self.assertConsistent(projection, state)

        # The gateway follows it live too (its /state, as the page reads it)
        wait_for(lambda: (http_json(pub.http + "/state")[1].get("projection") or {}).get("basis")
                 == "exit poll", 10, "the exit poll on the gateway's /state")

        # Every seat is there from the start, undeclared, with its context
        baseline = sorted({r[0] for r in harness.read_rows(harness.BASELINE)})
        self.assertEqual(len(baseline), 650)
        for ons_id in baseline:
            status, seat = http_json("%s/seat/%s" % (pub.http, ons_id))
            self.assertEqual(status, 200, ons_id)
            self.assertEqual((seat["declared"], seat["withdrawn"]), (False, False), ons_id)
            self.assertIsNotNone(seat["previous"], ons_id)
            self.assertIsNotNone(seat["projected_winner"], ons_id)
            self.assertIsNone(seat["winner"], ons_id)
        self.assertEqual(http_json(pub.http + "/seat/E14000800")[1]["previous"]["winner"], "Lab")

        # 99 results: still the exit poll; it survives a restart
        p.ingest("replay", self.write_seats("first99.csv", order[:99]), "--speed", "max", "--times",
                 os.path.join(harness.DATA, "declaration_times_2017.csv"))
        state = self.projection(p, 99)
        self.assertEqual(state["projection"]["basis"], "exit poll")
        self.assertConsistent(state["projection"], state)
        p.aggregator.stop()
        p.start_aggregator()
        state = self.projection(p, 99)
        self.assertEqual(state["projection"]["basis"], "exit poll")
        self.assertEqual([(x["party"], x["seats"]) for x in state["exit_poll"]["parties"]], EXIT_POLL_2017)
        # The journal holds it as sent, and who sent it, once (the retry was a duplicate)
        listing = harness.run("ingest", "journal", journal, "--json")
        records = [json.loads(line) for line in listing.stdout.splitlines()]
        polls = [r for r in records if r.get("kind") == "exit poll"]
        self.assertEqual(len(polls), 1, listing.stdout[:2000])
        self.assertEqual((polls[0]["sequence"], polls[0]["source"]), (1, state["exit_poll"]["source"]))
        self.assertTrue(polls[0]["source"].startswith("ingest@"), polls[0])
        self.assertEqual([(x["party"], x["seats"]) for x in polls[0]["exit_poll"]], EXIT_POLL_2017)
        self.assertEqual(len(records), 100)

        # The 100th result: the projection from the results takes over
        p.ingest("send", self.write_seats("100th.csv", order[99:100]))
        state = self.projection(p, 100)
        at100 = state["projection"]
        self.assertEqual((at100["basis"], at100["based_on"]), ("results", 100))
        self.assertEqual(state["exit_poll"]["parties"][0]["seats"], 314)    # still there, not the basis
        self.assertConsistent(at100, state)
        undeclared = [s for s in baseline if s not in set(order[:100])]
        for ons_id in undeclared[:50]:
            self.assertIsNotNone(http_json("%s/seat/%s" % (pub.http, ons_id))[1]["projected_winner"])
        ranges = {x["party"]: x for x in at100["parties"]}
        print("after 100: " + ", ".join("%s %d (%d-%d)" % (k, ranges[k]["seats"], ranges[k]["low"],
                                                            ranges[k]["high"]) for k in FOUR))

        # The rest of the night
        p.ingest("send", self.write_seats("rest.csv", order[100:]))
        state = self.projection(p, 650)
        final = state["projection"]
        self.assertConsistent(final, state)
        declared = {x["party"]: x["seats"] for x in state["parties"]}
        self.assertEqual({x["party"]: x["seats"] for x in final["parties"] if x["seats"]},
                         {k: v for k, v in declared.items() if v})
        for x in final["parties"]:
            self.assertEqual((x["low"], x["high"]), (x["seats"], x["seats"]), x["party"])
        self.assertEqual(final["verdict"], "Hung parliament: Con 8 short of 326")
        # Within the range it stated at 100 results, for each of the four largest
        for party in FOUR:
            self.assertTrue(ranges[party]["low"] <= declared[party] <= ranges[party]["high"],
                            "%s: final %d outside %d-%d stated at 100 results"
                            % (party, declared[party], ranges[party]["low"], ranges[party]["high"]))
        self.assertBBC(state)
        p.stop()

    def test_a_seats_context_agrees_with_the_files(self):
        p = self.pipeline()
        p.start_aggregator()
        p.ingest("send", harness.RESULTS, "--seat", "E14000800")
        luton = next(c for c in p.state()["constituencies"] if c["id"] == "E14000800")
        # Computed here from the two CSVs alone
        before, valid_before = seat_figures(harness.BASELINE, "E14000800")
        after, valid_after = seat_figures(harness.RESULTS, "E14000800")
        ranked_before = sorted(before.items(), key=lambda kv: -kv[1])
        ranked_after = sorted(after.items(), key=lambda kv: -kv[1])
        majority_before = ranked_before[0][1] - ranked_before[1][1]
        majority_after = ranked_after[0][1] - ranked_after[1][1]
        (first, _), (second, _) = ranked_after[:2]
        change = {party: 100.0 * after[party] / valid_after - 100.0 * before[party] / valid_before
                  for party in (first, second)}
        swing = (change[first] - change[second]) / 2
        previous = luton["previous"]
        self.assertEqual((previous["winner"], previous["winner_name"]), ("Lab", "Labour"))
        self.assertEqual((previous["majority"], previous["valid_votes"]), (majority_before, valid_before))
        self.assertEqual([s["party"] for s in previous["shares"]], [k for k, _ in ranked_before])
        self.assertAlmostEqual(previous["shares"][0]["share"], 100.0 * ranked_before[0][1] / valid_before, 6)
        self.assertEqual(luton["majority_change"], majority_after - majority_before)
        self.assertEqual(luton["majority_change"], 14364 - majority_before)
        self.assertEqual((luton["swing"]["from"], luton["swing"]["to"]),
                         (second, first) if swing >= 0 else (first, second))
        self.assertAlmostEqual(luton["swing"]["points"], abs(swing), 6)
        self.assertEqual((first, second), ("Lab", "Con"))
        self.assertFalse(luton["withdrawn"])
        self.assertIsNone(luton["projected_winner"])
        # Withdrawn: declared false, and says so
        p.ingest("retract", "--seat", "E14000800", "--reason", "wrong sheet")
        pub = p.start_publisher(http=True)
        seat = http_json(pub.http + "/seat/E14000800")[1]
        self.assertEqual((seat["declared"], seat["withdrawn"]), (False, True))
        self.assertIsNone(seat["majority_change"])
        self.assertIsNone(seat["swing"])
        p.stop()

    def test_declared_at_is_when_it_was_declared(self):
        p = self.pipeline()
        p.start_aggregator()
        # send: now
        before = time.time() * 1000
        p.ingest("send", harness.RESULTS, "--seat", "E14000801")
        after = time.time() * 1000
        seat = next(c for c in p.state()["constituencies"] if c["id"] == "E14000801")
        self.assertTrue(before - 1000 <= seat["declared_at_ms"] <= after + 1000, seat["declared_at_ms"])
        # replay: the replayed time, the night's times scaled by --speed
        seats = ["E14000802", "E14000803", "E14000804"]
        times = os.path.join(self.workdir, "times.csv")
        harness.even_times(times, [[s] for s in seats], 30)     # 10 s apart on the night
        before = time.time() * 1000
        p.ingest("replay", self.write_seats("three.csv", seats), "--times", times, "--speed", "10")
        after = time.time() * 1000
        stamped = {c["id"]: c["declared_at_ms"] for c in p.state()["constituencies"]}
        at = [stamped[s] for s in seats]
        self.assertTrue(before - 1000 <= at[0] and at[-1] <= after + 1000, at)
        for a, b in zip(at, at[1:]):
            self.assertAlmostEqual(b - a, 1000, delta=150)      # 10 s of night at 10x
        # The hostile test's case: a time 7.4 h ahead is clamped to the receive
        # time, and the ack and the log say so
        rows = harness.read_rows(harness.RESULTS, "E14000800")
        cands = [hostile.candidate(r[5], r[6], int(r[7])) for r in rows]
        future = int(time.time() * 1000) + int(7.4 * 3600 * 1000)
        decl = hostile.declaration("E14000800", 1, int(rows[0][4]), cands, 5) + hostile.field_varint(6, future)
        peer = hostile.RawPeer.connect(p.ingest_port)
        sent = time.time() * 1000
        peer.message(decl)
        [ack] = hostile.read_frames(peer.sock, 1)
        fields = hostile.ack_fields(ack)
        peer.close()
        self.assertEqual(fields[4], 1, fields)          # accepted
        self.assertIn(b"7.4 h in the future", fields[6])
        seat = next(c for c in p.state()["constituencies"] if c["id"] == "E14000800")
        self.assertTrue(sent - 1000 <= seat["declared_at_ms"] <= time.time() * 1000 + 1000, seat)
        wait_for(lambda: "AGG502" in p.aggregator.output(), 5, "the clamp in the log")
        p.stop()

    def test_gains_keep_their_order_across_a_restart(self):
        # A replay at full speed stamps every seat with nearly the same time:
        # declaration order is then the sequence each seat went out under,
        # which a restart (every seat republished at the recovered sequence)
        # must not lose
        journal = os.path.join(self.workdir, "night.journal")
        p = self.pipeline(journal=journal)
        p.start_aggregator()
        p.ingest("replay", harness.RESULTS, "--speed", "max")
        before = p.state(min_sequence=650)
        p.stop()
        p.start_aggregator()
        after = p.state(min_sequence=650)
        p.stop()
        self.assertNotEqual(before["epoch"], after["epoch"])
        self.assertEqual(after["gains"], before["gains"])
        # In the order the seats were declared: the journal's
        order = {r["ons_id"]: r["sequence"] for r in
                 (json.loads(line) for line in harness.run("ingest", "journal", journal, "--json")
                  .stdout.splitlines())}
        self.assertEqual([g["sequence"] for g in before["gains"]],
                         sorted(order[g["id"]] for g in before["gains"]))
        self.assertEqual(len(before["gains"]), 70)
        for seat in after["constituencies"]:
            self.assertEqual(seat["declared_sequence"], order[seat["id"]], seat["id"])


if __name__ == "__main__":
    harness.main()
