"""The publisher's HTTP gateway against real clients: event names, /state
caching (gzip, ETag, 304), a full gateway (503 + Retry-After), slow clients
(slowloris), the static web root's edges (dotfiles, symlinks), and the keyed
feed's gateway. Real aggregator and publisher on loopback.
Usage: python3 tests/system/test_http.py BIN_DIR DATA_DIR"""
import gzip
import json
import os
import socket
import subprocess
import time

import harness
from harness import EventStream, PipelineTest, http_get, wait_for


def events_until_national(stream, sequence):
    """Events read up to and including the national update of sequence."""
    seen = []
    while True:
        name, event_id, data = stream.next()
        seen.append((name, event_id, json.loads(data)))
        if name == "national" and seen[-1][2]["sequence"] >= sequence:
            return seen


class Gateway(PipelineTest):

    def start(self, *extra, web_root=None):
        p = self.pipeline()
        p.start_aggregator()
        if web_root:
            extra = extra + ("--web-root", web_root)
        pub = p.start_publisher(http=True, extra=extra)
        wait_for(lambda: http_get(pub.http + "/state")[0] == 200, 20, "GET /state")
        return p, pub

    def test_events_are_named_by_topic_kind(self):
        p, pub = self.start()
        stream = EventStream(pub.http + "/events")
        self.assertEqual(stream.status, 200)
        name, _, data = stream.next()
        self.assertEqual(name, "state")
        p.ingest("send", harness.RESULTS, "--seat", "E14000800")      # Luton North, East, England
        seen = events_until_national(stream, 1)
        names = [name for name, _, _ in seen if name != "health"]
        # The declared seat and its scopes, the batch's projection and the
        # undeclared seats whose projected winner it changed, the UK last
        self.assertEqual(names[:4] + names[-1:], ["seat", "region", "region", "projection", "national"], seen)
        self.assertEqual(set(names[4:-1]) - {"seat"}, set(), seen)
        self.assertTrue(all(not u["seat"]["declared"] for n, _, u in seen[4:] if n == "seat"), seen)
        for name, event_id, update in seen:
            if name == "health":
                continue
            self.assertEqual(update["topic"].split(".")[0], name)
            self.assertEqual((event_id, update["sequence"]), ("1", 1))
            self.assertIsInstance(update["sent_at_us"], int)
        self.assertEqual({u["topic"] for n, _, u in seen if n == "region"}, {"region.East", "region.England"})
        stream.close()

    def test_state_is_gzipped_with_an_etag_and_304(self):
        p, pub = self.start()
        p.ingest("send", harness.RESULTS, "--seat", "E14000800")
        wait_for(lambda: json.loads(http_get(pub.http + "/state")[2])["sequence"] == 1, 20, "sequence 1")
        status, headers, plain = http_get(pub.http + "/state")
        state = json.loads(plain)
        self.assertEqual(headers["ETag"], '"%s-1"' % state["epoch"])
        self.assertIsNone(headers["Content-Encoding"])
        status, zipped_headers, zipped = http_get(pub.http + "/state", {"Accept-Encoding": "br, gzip;q=0.8"})
        self.assertEqual((status, zipped_headers["Content-Encoding"]), (200, "gzip"))
        self.assertEqual(gzip.decompress(zipped), plain)
        self.assertLess(len(zipped), len(plain) / 3)
        self.assertEqual(zipped_headers["ETag"], '"%s-1-gzip"' % state["epoch"])
        self.assertIn("Accept-Encoding", zipped_headers["Vary"])
        # q=0 refuses gzip
        self.assertIsNone(http_get(pub.http + "/state", {"Accept-Encoding": "gzip;q=0"})[1]["Content-Encoding"])
        # unchanged: 304, for each representation
        self.assertEqual(http_get(pub.http + "/state", {"If-None-Match": headers["ETag"]})[0], 304)
        self.assertEqual(http_get(pub.http + "/state", {"If-None-Match": 'W/"x", ' + zipped_headers["ETag"],
                                                        "Accept-Encoding": "gzip"})[0], 304)
        # changed: the whole new state, with the next tag
        p.ingest("send", harness.RESULTS, "--seat", "E14000801")
        wait_for(lambda: http_get(pub.http + "/state", {"If-None-Match": headers["ETag"]})[0] == 200, 20,
                 "a new state after the second declaration")
        status, headers, plain = http_get(pub.http + "/state")
        self.assertEqual((json.loads(plain)["sequence"], headers["ETag"]), (2, '"%s-2"' % state["epoch"]))

    def test_seats_gains_seat_and_the_desk_state(self):
        # Issue 13: /seats (every seat the store holds, by id; gzip, ETag,
        # 304), /gains in declaration order, /seat/<id> 404 for no seat, and
        # the state's parliament, gains and health
        p, pub = self.start()
        p.ingest("replay", harness.RESULTS, "--speed", "max")
        wait_for(lambda: json.loads(http_get(pub.http + "/state")[2])["declared"] == 650, 60, "650 declared")
        status, headers, body = http_get(pub.http + "/state")
        state = json.loads(body)
        self.assertEqual((state["upstream_ok"], state["source"]), (True, "publisher"))
        parliament = state["parliament"]
        self.assertEqual((parliament["hung"], parliament["largest"], parliament["short"], parliament["majority"]),
                         (True, "Con", 8, None))
        self.assertEqual(parliament["text"], "HUNG PARLIAMENT \u2014 Con 8 short of 326")
        self.assertEqual(len(state["constituencies"]), 650)

        status, headers, body = http_get(pub.http + "/seats")
        self.assertEqual(status, 200)
        seats = json.loads(body)
        ids = [s["id"] for s in seats["seats"]]
        self.assertEqual(seats["sequence"], state["sequence"])
        self.assertEqual(ids, sorted(ids))
        self.assertEqual(seats["seats"], state["constituencies"])       # every seat has declared
        self.assertEqual(headers["ETag"], '"%s-%d"' % (state["epoch"], state["sequence"]))
        status, zipped_headers, zipped = http_get(pub.http + "/seats", {"Accept-Encoding": "gzip"})
        self.assertEqual((status, zipped_headers["Content-Encoding"]), (200, "gzip"))
        self.assertEqual(gzip.decompress(zipped), body)
        self.assertEqual(http_get(pub.http + "/seats", {"If-None-Match": headers["ETag"]})[0], 304)

        # the gains: the state's, the gains of /state's seats, in the order they declared
        status, _, body = http_get(pub.http + "/gains")
        gains = json.loads(body)
        self.assertEqual((status, gains["sequence"], gains["gains"]), (200, state["sequence"], state["gains"]))
        gained = {c["id"]: c for c in state["constituencies"] if c["outcome"] == "gain"}
        self.assertEqual({g["id"] for g in gains["gains"]}, set(gained))
        self.assertGreater(len(gained), 50)
        order = [(g["declared_at_ms"], g["sequence"]) for g in gains["gains"]]
        self.assertEqual(order, sorted(order))
        for g in gains["gains"]:
            seat = gained[g["id"]]
            self.assertEqual((g["winner"], g["winner_name"], g["previous_winner"], g["declared_at_ms"]),
                             (seat["winner"], seat["winner_name"], seat["previous_winner"], seat["declared_at_ms"]))
            self.assertTrue(g["previous_winner_name"])

        # one seat; an id that is no seat
        status, _, body = http_get(pub.http + "/seat/E14000800")
        self.assertEqual((status, json.loads(body)["name"]), (200, "Luton North"))
        for bad in ("E99999999", "nonsense", "E1400080%2F"):
            status, _, body = http_get(pub.http + "/seat/" + bad)
            self.assertEqual((status, json.loads(body)), (404, {"error": "unknown seat"}), bad)

    def test_a_full_gateway_answers_503_with_retry_after(self):
        p, pub = self.start("--http-streams", "2")
        streams = [EventStream(pub.http + "/events") for _ in range(2)]
        for stream in streams:
            self.assertEqual((stream.status, stream.next()[0]), (200, "state"))
        status, headers, body = http_get(pub.http + "/events")
        self.assertEqual(status, 503)
        self.assertGreater(int(headers["Retry-After"]), 0)
        self.assertIn("too many event streams", json.loads(body)["error"])
        self.assertIn("Retry-After", headers["Access-Control-Expose-Headers"])
        # a page asks HEAD /events why it was refused
        self.assertEqual(http_get(pub.http + "/events", method="HEAD")[0], 503)
        # /state is not a stream: still served
        self.assertEqual(http_get(pub.http + "/state")[0], 200)
        streams.pop().close()
        wait_for(lambda: http_get(pub.http + "/events", method="HEAD")[0] == 200, 20, "a stream to free up")
        again = EventStream(pub.http + "/events")
        self.assertEqual((again.status, again.next()[0]), (200, "state"))
        self.assertIn("HTTP020", pub.output())

    def test_slowloris_from_one_address_does_not_lock_others_out(self):
        p, pub = self.start()       # defaults: 64 connections per address
        port = int(pub.http.rsplit(":", 1)[1])
        # 300 requests from 127.0.0.2 that never finish their headers
        attackers = []
        for _ in range(300):
            s = socket.create_connection(("127.0.0.1", port), source_address=("127.0.0.2", 0), timeout=5)
            try:
                s.sendall(b"GET /state HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n")
            except OSError:
                pass                # refused at once: fine
            attackers.append(s)
        started = time.monotonic()
        try:
            status = http_get(pub.http + "/state", timeout=10)[0]
        except OSError as error:    # a timeout: the attackers hold every connection
            status = error
        self.assertEqual(status, 200)
        self.assertLess(time.monotonic() - started, 5)

        def still_open(sock):
            sock.setblocking(False)
            try:
                return sock.recv(1) != b""
            except BlockingIOError:
                return True
            except OSError:
                return False
        # the gateway closed what it would not hold: one address gets 64 at most
        wait_for(lambda: sum(still_open(s) for s in attackers) <= 64, 20, "connections over the limit closed")
        for s in attackers:
            s.close()

    def test_a_request_that_stalls_is_closed_after_the_timeout(self):
        p, pub = self.start("--http-timeout", "2")
        port = int(pub.http.rsplit(":", 1)[1])
        s = socket.create_connection(("127.0.0.1", port), timeout=20)
        s.sendall(b"GET /state HTTP/1.1\r\nHost: x\r\n")     # and nothing more
        started = time.monotonic()
        self.assertEqual(s.recv(1024), b"")                 # closed by the gateway, unanswered
        self.assertLess(time.monotonic() - started, 15)
        s.close()
        # a stream idle longer than the timeout is kept: its keepalives are activity
        stream = EventStream(pub.http + "/events")
        self.assertEqual(stream.next()[0], "state")
        p.ingest("send", harness.RESULTS, "--seat", "E14000800")
        self.assertEqual(events_until_national(stream, 1)[-1][0], "national")

    def test_web_root_refuses_dotfiles_and_symlinks_out_of_it(self):
        outside = os.path.join(self.workdir, "outside.txt")
        root = os.path.join(self.workdir, "web")
        os.makedirs(os.path.join(root, "sub"))
        for path, text in ((outside, "secret outside"), (os.path.join(root, "index.html"), "<p>page"),
                           (os.path.join(root, ".htpasswd"), "admin:x"), (os.path.join(root, "sub", ".env"), "KEY=1"),
                           (os.path.join(root, "sub", "ok.txt"), "fine")):
            with open(path, "w") as f:
                f.write(text)
        os.symlink(outside, os.path.join(root, "leak.txt"))
        os.symlink("/etc", os.path.join(root, "etc"))
        os.symlink("index.html", os.path.join(root, "home.html"))      # inside the root: fine
        p, pub = self.start(web_root=root)
        for path in ("/.htpasswd", "/sub/.env", "/leak.txt", "/etc/hostname", "/etc/passwd"):
            status, _, body = http_get(pub.http + path)
            self.assertEqual(status, 404, path)
            self.assertNotIn(b"secret", body)
        for path, text in (("/", b"<p>page"), ("/home.html", b"<p>page"), ("/sub/ok.txt", b"fine")):
            self.assertEqual(http_get(pub.http + path)[::2], (200, text), path)

    def test_keyed_feed_starts_without_the_open_gateway(self):
        keys = os.path.join(self.workdir, "feed")
        subprocess.run([os.path.join(harness.BIN, "ingest"), "keygen", keys], check=True, capture_output=True)
        p = self.pipeline()
        p.start_aggregator()
        # SECURITY.md's command: no --http given
        pub = harness.Process(self.workdir, "publisher", [
            "publisher", "--upstream-updates", harness.tcp(p.agg_updates),
            "--upstream-snapshot", harness.tcp(p.agg_snapshot), "--updates", harness.tcp(harness.free_port()),
            "--snapshot", harness.tcp(harness.free_port()), "--curve-secret", keys + ".key"])
        wait_for(lambda: "PUB001" in pub.output() or not pub.alive(), 20, "the publisher to start")
        self.assertIn("PUB120", pub.output())
        self.assertNotIn("HTTP001", pub.output())
        # asked for explicitly, it is on, with a warning
        port = harness.free_port()
        pub2 = harness.Process(self.workdir, "publisher", [
            "publisher", "--upstream-updates", harness.tcp(p.agg_updates),
            "--upstream-snapshot", harness.tcp(p.agg_snapshot), "--updates", harness.tcp(harness.free_port()),
            "--snapshot", harness.tcp(harness.free_port()), "--curve-secret", keys + ".key", "--http", str(port)])
        wait_for(lambda: "HTTP001" in pub2.output() or not pub2.alive(), 20, "the gateway beside the keyed feed")
        self.assertTrue(pub2.alive(), pub2.output())
        self.assertIn("PUB121", pub2.output())
        wait_for(lambda: http_get("http://127.0.0.1:%d/state" % port)[0] == 200, 20, "GET /state")


if __name__ == "__main__":
    harness.main()
