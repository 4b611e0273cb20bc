"""Issue 12 end to end against the real aggregator started with --nominations:
each clerk's mistake is rejected with a reason naming the fix, or held, and
nothing on air changes; the 2017 night replays with no rejection, the few
improbable results held until confirmed; holds and releases survive kill -9;
the clerk's commands (declare with piped answers, template, retract,
--revision next).
Usage: python3 tests/system/test_clerk.py BIN_DIR DATA_DIR"""
import json
import os
import subprocess

import harness
from harness import PipelineTest, content, tcp

NORTH, SOUTH = "E14000800", "E14000801"


def nominations():
    return os.path.join(harness.DATA, "nominations_2017.csv")


class Nominations(PipelineTest):

    def aggregator(self, journal=True, nominated=True):
        extra = ["--nominations", nominations()] if nominated else []
        p = self.pipeline(journal=os.path.join(self.workdir, "night.journal") if journal else None,
                          extra=extra)
        p.start_aggregator()
        return p

    def send(self, p, rows, *args):
        """Sends rows (results-file rows) as a CSV; returns the one seat's outcome."""
        path = os.path.join(self.workdir, "sheet.csv")
        harness.write_csv(path, rows)
        result = p.ingest("send", path, *args, check=False, summary=True)
        self.assertEqual(len(result.summary["seats"]), 1, result.stderr)
        return result.summary["seats"][0]

    def on_air(self, state):
        """What a screen shows: the figures, without the sequence."""
        return content(state)

    def restart(self, p):
        p.aggregator.kill()
        p.start_aggregator()

    # -----------------------------------------------------------------
    def test_clerk_mistakes_are_rejected_or_held(self):
        p = self.aggregator()
        # The night up to Luton North's turn: every other seat, in file order
        rows = harness.read_rows(harness.RESULTS)
        others = os.path.join(self.workdir, "others.csv")
        harness.write_csv(others, [r for r in rows if r[0] != NORTH])
        sent = p.ingest("send", others, "--confirmed", summary=True).summary
        self.assertEqual((sent["accepted"], sent["rejected"], sent["held"]), (649, 0, 0))
        before = p.state(min_sequence=649)
        north = harness.read_rows(harness.RESULTS, NORTH)
        self.assertEqual([r[6] for r in north], ["Lab", "Con", "LD", "Green"])

        def changed(column, index, value, rows=north):
            out = [list(r) for r in rows]
            out[index][column] = value
            return out

        swapped = changed(7, 0, north[1][7], changed(7, 1, north[0][7]))
        rejected = [
            ("Labour for Lab", changed(6, 0, "Labour"),
             "Kelvin Hopkins is nominated for Lab; the declaration says Labour: send the code Lab"),
            ("Lbr for Lab", changed(6, 0, "Lbr"), "send the code Lab"),
            ("Lib Dem for LD", changed(6, 2, "Lib Dem"),
             "Rabi Martins is nominated for LD; the declaration says Lib Dem: send the code LD"),
            ("Luton North's figures under Luton South's id",
             changed(1, 0, "Luton South", [[SOUTH, "Luton South"] + r[2:] for r in north]),
             "Kelvin Hopkins stands in E14000800 Luton North, not in E14000801 Luton South"),
            ("the seat's name under the wrong id", [[SOUTH] + r[1:] for r in north],
             "stands in E14000800 Luton North, not in E14000801 Luton South"),
            ("a candidate missing", north[:3],
             "Simon Hall (Green), nominated in E14000800 Luton North, is missing: "
             "send every nominated candidate, 0 votes as 0"),
            ("electorate typed as 668110", [r[:4] + ["668110"] + r[5:] for r in north],
             "electorate 668110 is 900.0% above the register's 66811"),
        ]
        for what, sheet, says in rejected:
            outcome = self.send(p, sheet)
            self.assertEqual(outcome["outcome"], "rejected", what)
            self.assertIn(says, outcome["reason"], what)
        # Held: each a new revision (--revision next), replacing the hold before
        held = [("the top two swapped", swapped, "swing 26.6 from Lab to Con"),
                ("a digit dropped from the runner-up's votes", changed(7, 1, "1540"),
                 "Con share 4.7% (-25.2)")]
        for revision, (what, sheet, says) in enumerate(held, 1):
            outcome = self.send(p, sheet, "--revision", "next")
            self.assertEqual(outcome["outcome"], "held", what)
            self.assertTrue(any(says in r for r in outcome["reasons"]), (what, outcome))
            self.assertEqual(outcome["next_revision"], revision + 1)
        # Nothing on air changed; the desk shows the last one held
        after = p.state(min_sequence=before["sequence"])
        self.assertEqual(self.on_air(after), self.on_air(before))
        self.assertNotIn(NORTH, [c["id"] for c in after["constituencies"]])
        self.assertEqual([(h["id"], h["revision"]) for h in after["held"]], [(NORTH, 2)])
        self.assertIn("Con share 4.7% (-25.2)", " ".join(after["held"][0]["reasons"]))

        # The hold survives a crash; a repeat is held again, nothing new
        self.restart(p)
        again = self.send(p, changed(7, 1, "1540"), "--revision", "2")
        self.assertEqual(again["outcome"], "held")
        self.assertEqual(p.state()["held"], after["held"])
        # The same revision with other figures is refused, saying what to send
        outcome = self.send(p, north, "--revision", "2")
        self.assertEqual(outcome["outcome"], "rejected")
        self.assertIn("send --revision 3 --reason correction", outcome["reason"])
        # A corrected revision withdraws the hold and goes on air; that survives a crash
        outcome = self.send(p, north, "--revision", "next")
        self.assertEqual((outcome["outcome"], outcome["next_revision"]), ("accepted", 4))
        self.restart(p)
        final = p.state()
        self.assertEqual(final["held"], [])
        seat = next(c for c in final["constituencies"] if c["id"] == NORTH)
        self.assertEqual((seat["revision"], seat["winner"], seat["outcome"], seat["majority"]),
                         (3, "Lab", "hold", 14364))
        self.assertEqual((seat["winner_name"], seat["candidates"][0]["colour"]), ("Labour", "#e4003b"))
        # A stale revision says which to send
        outcome = self.send(p, north, "--revision", "1")
        self.assertEqual(outcome["outcome"], "rejected")
        self.assertIn("holds revision 3: send --revision 4 --reason correction", outcome["reason"])
        p.stop()

    # -----------------------------------------------------------------
    def test_night_replays_held_then_confirmed(self):
        # The night without nominations: what a confirmed night must equal
        plain = self.aggregator(journal=False, nominated=False)
        self.assertIn("NOM001", plain.aggregator.output())     # said loudly at start
        plain.ingest("replay", harness.RESULTS, "--speed", "max")
        reference = plain.state(min_sequence=650)
        plain.stop()

        p = self.aggregator()
        night = p.ingest("replay", harness.RESULTS, "--speed", "max", check=False, summary=True)
        s = night.summary
        held = [seat["ons_id"] for seat in s["seats"] if seat["outcome"] == "held"]
        print("2017 night with nominations: %d rejected, %d held (%s)"
              % (s["rejected"], s["held"], ", ".join(held)))
        self.assertEqual((s["rejected"], s["not_acknowledged"]), (0, 0))
        self.assertEqual(s["held"], len(held))
        self.assertLessEqual(len(held), 6)         # the aim: at most 1% of 650
        self.assertEqual(night.returncode, 3 if held else 0)
        state = p.state(min_sequence=650)
        self.assertEqual(sorted(h["id"] for h in state["held"]), sorted(held))
        self.assertEqual(state["declared"], 650 - len(held))
        ids = {c["id"] for c in state["constituencies"]}
        self.assertFalse(ids & set(held))          # never inside constituencies

        # Held declarations survive kill -9; the journal says which they are
        self.restart(p)
        self.assertEqual(p.state()["held"], state["held"])
        audit = harness.run("ingest", "journal", p.journal, "--json")
        records = [json.loads(line) for line in audit.stdout.splitlines()]
        self.assertEqual(sorted(r["ons_id"] for r in records if r["held"]), sorted(held))

        # Confirmed, the night replays whole: the held are released
        confirmed = p.ingest("replay", harness.RESULTS, "--speed", "max", "--confirmed", summary=True)
        self.assertEqual((confirmed.summary["accepted"], confirmed.summary["duplicate"]),
                         (len(held), 650 - len(held)))
        released = p.state(min_sequence=650 + len(held))
        self.assertEqual(released["held"], [])
        self.assertEqual(self.on_air(released), self.on_air(reference))
        self.assertBBC(released)
        # and the confirmed releases survive kill -9
        self.restart(p)
        self.assertEqual(self.on_air(p.state()), self.on_air(reference))
        p.stop()

    # -----------------------------------------------------------------
    def test_clerk_commands(self):
        p = self.aggregator(journal=False)
        north = harness.read_rows(harness.RESULTS, NORTH)
        # template: the seat's nominated candidates, votes to fill in
        template = p.ingest("template", "--seat", NORTH)
        lines = template.stdout.splitlines()
        self.assertEqual(lines[0], "ons_id,constituency,country,region,electorate,candidate,party,votes")
        self.assertEqual(lines[1:], [",".join(r[:7]) + "," for r in north])

        # declare, answers piped in: a figure typed with a comma, one mistyped
        # and asked again, the totals, and a typo corrected at the confirmation
        answers = "29,765\n15401\n808\n64B\n648\n\n130\n46752\nLuton Nrth\nluton north\n"
        declare = subprocess.run([os.path.join(harness.BIN, "ingest"), "declare", "--seat", NORTH,
                                  "--to", tcp(p.ingest_port)], input=answers, capture_output=True,
                                 text=True, timeout=60)
        out = declare.stdout
        self.assertEqual(declare.returncode, 0, out + declare.stderr)
        self.assertIn("Kelvin Hopkins               Lab      Labour", out)
        self.assertIn('"64B" is not a number of votes', out)
        self.assertIn("LUTON NORTH \u2014 LAB HOLD, majority 14,364, turnout 69.8%", out)
        self.assertIn("official turnout 70.0%", out)
        self.assertIn('"Luton Nrth" is not Luton North: nothing sent', out)
        self.assertIn("E14000800 Luton North rev 1: accepted", out)
        seat = next(c for c in p.state()["constituencies"] if c["id"] == NORTH)
        self.assertEqual((seat["majority"], seat["ballot_papers"], seat["rejected_ballots"]),
                         (14364, 46752, 130))
        self.assertAlmostEqual(seat["official_turnout"], 100.0 * 46752 / 66811)
        self.assertAlmostEqual(seat["turnout"], 100.0 * 46622 / 66811)

        # Input that ends before the confirmation sends nothing
        declare = subprocess.run([os.path.join(harness.BIN, "ingest"), "declare", "--seat", NORTH,
                                  "--to", tcp(p.ingest_port)], input="29765\n15401\n",
                                 capture_output=True, text=True, timeout=60)
        self.assertEqual(declare.returncode, 2)
        self.assertIn("nothing sent", declare.stdout)

        # A rush names a nominated candidate, and reads HOLD where the winner holds
        south = harness.read_rows(harness.RESULTS, SOUTH)
        outcome = self.send(p, [[SOUTH] + north[0][1:]], "--kind", "rush")
        self.assertEqual(outcome["outcome"], "rejected")
        outcome = self.send(p, south, "--kind", "rush")
        self.assertEqual(outcome["outcome"], "accepted")
        card = harness.run("subscribe", "--updates", tcp(p.agg_updates), "--snapshot",
                           tcp(p.agg_snapshot), "--once", "--card", SOUTH, "--timeout", "20")
        self.assertIn("Luton South (E14000801)  LAB HOLD", card.stdout)

        # retract: no figures, and the next revision is said
        retract = p.ingest("retract", "--seat", NORTH, "--reason", "figures were misread")
        self.assertIn("withdrawn; its next declaration is --revision 3", retract.stderr)
        self.assertNotIn(NORTH, [c["id"] for c in p.state()["constituencies"]])
        p.stop()

        # Without nominations: said loudly, and the clerk's file stands in
        q = self.aggregator(journal=False, nominated=False)
        self.assertIn("NOM001", q.aggregator.output())
        refused = q.ingest("template", "--seat", NORTH, check=False)
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("has no nominations", refused.stderr)
        answers = "29765\n15401\n808\n648\n\n\n\nLuton North\n"
        declare = subprocess.run([os.path.join(harness.BIN, "ingest"), "declare", "--seat", NORTH,
                                  "--nominations", nominations(), "--to", tcp(q.ingest_port), "--json"],
                                 input=answers, capture_output=True, text=True, timeout=60)
        self.assertEqual(declare.returncode, 0, declare.stderr)
        self.assertEqual(json.loads(declare.stdout)["accepted"], 1)
        self.assertIn("LUTON NORTH \u2014 LAB HOLD", declare.stderr)
        q.stop()


if __name__ == "__main__":
    harness.main()
