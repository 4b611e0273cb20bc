"""The nginx web tier (issue 16) on real processes: nginx + nchan with the
shipped site (deploy/nginx), the real aggregator and publisher posting to it
(--nchan-publish), hundreds of SSE readers (bench/webload) while part of the
2017 night is replayed. Every reader must get every event, in order, the
same as the publisher's own /events; /state through nginx must be the
publisher's. The results page, in Chromium, works behind it unchanged.
Then nginx goes away and comes back (events queued, dropped and counted,
readers told to resync), and two nginx servers share the channel through
Redis. Exits 77 (skipped) only where nginx cannot be installed.
Usage: python3 tests/system/test_nginx.py BIN_DIR DATA_DIR"""
import gzip
import json
import os
import shutil
import subprocess
import sys
import time
import unittest

import harness
import webtier
from harness import EventStream, PipelineTest, http_get, wait_for

READERS = 300       # SSE streams through nginx
SEATS = 80          # of the 2017 night, replayed at 2000x (the first 80 declared in under 3 hours)


def state_of(url, headers=None):
    status, response_headers, body = http_get(url + "/state", headers)
    return status, response_headers, body


def health(stream):
    """The next health event's heartbeat."""
    while True:
        name, _, data = stream.next()
        if name == "health":
            return json.loads(data)["heartbeat"]


class NginxTier(PipelineTest):

    def start(self, nginx_servers=1, redis=None, extra=()):
        p = self.pipeline()
        p.start_aggregator()
        servers = [webtier.Nginx(self.workdir, "nginx%d" % i, redis_port=redis and redis.port)
                   for i in range(nginx_servers)]
        # nginx first, as on the night: the publisher's first post finds it
        port = harness.free_port()
        for server in servers:
            server.start(port)
        pub = p.start_publisher(http=port, extra=("--nchan-publish", servers[0].publish_url) + tuple(extra))
        for server in servers:
            wait_for(lambda: state_of(server.url(""))[0] == 200, 20, "GET /state through nginx")
        return p, pub, servers

    def test_hundreds_of_readers_get_every_event_in_order_and_the_same_state(self):
        p, pub, (nginx,) = self.start()
        started = time.monotonic()
        reference = EventStream(nginx.url("/events"))
        direct = EventStream(pub.http + "/events")
        load = webtier.start_load(self.workdir, nginx.url("/events"), READERS, SEATS)
        wait_for(lambda: webtier.load_ready(load), 60, "%d streams open" % READERS)
        results, times = webtier.night_subset(self.workdir, SEATS)
        p.ingest("replay", results, "--times", times, "--speed", "2000", "--quiet")

        report = webtier.load_report(load, 120)
        self.assertEqual((report["connected"], report["failed"]), (READERS, 0), report["failures"])
        self.assertEqual((report["complete"], report["gaps"], report["out_of_order"]), (READERS, 0, 0))
        self.assertEqual(report["resyncs"], 0)
        # every reader got the same events: one digest for all
        self.assertEqual(list(report["digests"].values()), [READERS], report["digests"])
        # ...the ones the publisher streams itself, same names, same data, same order
        through_nginx = webtier.read_until_national(reference, SEATS)
        from_publisher = webtier.read_until_national(direct, SEATS)
        updates = lambda events: [e for e in events if e[0] not in ("state", "health", "resync")
                                  and json.loads(e[1])["sequence"] > 0]
        self.assertEqual(updates(through_nginx), updates(from_publisher))
        self.assertEqual(len(updates(through_nginx)), report["deliveries"] // READERS)
        self.assertEqual(list(report["digests"]), [webtier.digest(through_nginx)])
        print("%d readers through nginx got %d events each; latency to the last p50 %.1f ms, p99 %.1f ms"
              % (READERS, report["deliveries"] // READERS, report["latency_last_ms"]["p50"],
                 report["latency_last_ms"]["p99"]))

        # /state through nginx is the publisher's, once its second in the cache is up
        own = json.loads(state_of(pub.http)[2])
        self.assertEqual(own["sequence"], SEATS)
        wait_for(lambda: json.loads(state_of(nginx.url(""))[2])["sequence"] == SEATS, 20, "a fresh /state")
        status, headers, plain = state_of(nginx.url(""))
        self.assertEqual(json.loads(plain), own)
        status, zipped_headers, zipped = state_of(nginx.url(""), {"Accept-Encoding": "gzip"})
        self.assertEqual((status, zipped_headers["Content-Encoding"]), (200, "gzip"))
        self.assertEqual(json.loads(gzip.decompress(zipped)), own)
        etag = zipped_headers["ETag"]
        self.assertEqual(etag, '"%s-%d-gzip"' % (own["epoch"], SEATS))
        self.assertEqual(state_of(nginx.url(""), {"Accept-Encoding": "gzip", "If-None-Match": etag})[0], 304)
        # the page and the rest of the API, the same URLs as the publisher's
        self.assertEqual(http_get(nginx.url("/"))[0], 200)
        self.assertEqual(http_get(nginx.url("/app.js"))[0], 200)
        self.assertEqual(http_get(nginx.url("/.git/config"))[0], 404)
        seat = own["constituencies"][0]
        self.assertEqual(json.loads(http_get(nginx.url("/seat/" + seat["id"]))[2]), seat)
        # and nobody but the publisher posts events
        self.assertEqual(http_get(nginx.url("/pub"), method="POST")[0], 404)
        print("test took %.1f s" % (time.monotonic() - started))

    def test_nginx_away_then_back_queues_drops_and_resyncs(self):
        # A queue of 128 KiB: less than the 59 declarations sent while nginx
        # is away take (each a seat, its scopes, the UK and the seats whose
        # projected winner moved: about 10 KiB), more than the last one's burst
        p, pub, (nginx,) = self.start(extra=("--nchan-buffer-kib", "128"))
        own = EventStream(pub.http + "/events")
        self.assertTrue(health(own)["web_ok"])
        reader = EventStream(nginx.url("/events"))
        results, times = webtier.night_subset(self.workdir, 60)
        p.ingest("send", results, "--seat", harness.read_rows(results)[0][0], "--quiet")
        last_id = None
        while True:
            name, event_id, data = reader.next()
            last_id = event_id or last_id
            if name == "national":
                break
        nginx.stop()
        # the publisher goes on without it: its own state and stream move at once
        p.ingest("send", results, "--quiet")
        wait_for(lambda: json.loads(state_of(pub.http)[2])["sequence"] == 60, 20, "the publisher's state")
        wait_for(lambda: (lambda h: not h["web_ok"] and h["web_dropped"] > 0)(health(own)), 20,
                 "health saying nginx is away and events were dropped")
        self.assertIn("PUB111", pub.output())
        self.assertIn("PUB113", pub.output())

        # nchan's ids are "second:n": a server restarted within the second of
        # the reader's last id would take the first events after it for old ones
        wait_for(lambda: time.time() >= int(last_id.split(":")[0]) + 1, 5, "the next second")
        nginx.start(int(pub.http.rsplit(":", 1)[1]))
        wait_for(lambda: health(own)["web_ok"], 30, "health saying nginx takes events again")
        self.assertIn("PUB112", pub.output())
        # a reader coming back (as a browser does, with its Last-Event-ID) is told to start over
        back = EventStream(nginx.url("/events"), {"Last-Event-ID": last_id})
        while True:
            name, _, data = back.next()
            if name not in ("health",):
                break
        self.assertEqual(name, "resync", data)
        need = json.loads(data)
        state = json.loads(state_of(pub.http)[2])
        self.assertEqual((need["sequence"], need["epoch"]), (60, state["epoch"]))
        wait_for(lambda: json.loads(state_of(nginx.url(""))[2])["sequence"] == 60, 20, "/state through nginx")
        # and what comes next flows again, in order
        more, more_times = webtier.night_subset(self.workdir, 62, name="more")
        p.ingest("send", more, "--quiet")
        events = webtier.read_until_national(back, 62)
        sequences = [json.loads(d)["sequence"] for n, d in events if n == "national"]
        self.assertEqual(sequences[-2:], [61, 62])

    def test_the_page_works_unchanged_behind_nginx(self):
        # Chromium and playwright-core, as test_web sets them up in the build tree
        npm = os.path.join(os.path.dirname(harness.BIN), "tests", "npm")
        chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
        if not (shutil.which("node") and os.access(chromium, os.X_OK)
                and os.path.isdir(os.path.join(npm, "node_modules", "playwright-core"))):
            raise unittest.SkipTest("no Chromium, node or playwright-core (test_web installs them)")
        p, pub, (nginx,) = self.start()
        first, _ = webtier.night_subset(self.workdir, 40, name="first")
        results, _ = webtier.night_subset(self.workdir, 60)
        p.ingest("send", first, "--quiet")
        script = os.path.join(webtier.SOURCE, "tests", "web", "page_check.mjs")
        page = subprocess.Popen(["node", script, npm, nginx.url("/"), "40", "60"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            # the first thing it hears through nchan is not a state: it fetches /state
            shown = json.loads(page.stdout.readline() or "null")
            self.assertIsNotNone(shown, page.stderr.read() if page.poll() is not None else "")
            self.assertEqual((shown["sequence"], shown["declared"], shown["connection"]), (40, 40, "open"))
            # then it follows the events nginx fans out
            p.ingest("send", results, "--quiet")
            shown = json.loads(page.stdout.readline() or "null")
            self.assertIsNotNone(shown, page.stderr.read() if page.poll() is not None else "")
            self.assertEqual((shown["sequence"], shown["declared"]), (60, 60))
            # the hex map comes from the page's directory, every seat and the gains through the cache
            self.assertEqual((shown["hexes"], shown["declaredHexes"]), (650, 60))
            status, headers, body = http_get(nginx.url("/constituencies-2010.hexjson"))
            self.assertEqual((status, headers.get("Content-Type", "").split(";")[0]), (200, "application/json"))
            status, _, body = http_get(nginx.url("/seats"))
            self.assertEqual((status, len(json.loads(body)["seats"])), (200, 650))
            status, _, body = http_get(nginx.url("/gains"))
            self.assertEqual((status, len(json.loads(body)["gains"])), (200, shown["gains"]))
            self.assertEqual(shown["errors"], [])
            self.assertEqual(page.wait(30), 0)
        finally:
            if page.poll() is None:
                page.kill()
            page.communicate()

    def test_two_nginx_servers_share_the_channel_through_redis(self):
        reason = webtier.missing(redis=True)
        if reason:
            raise unittest.SkipTest(reason)
        redis = webtier.Redis(self.workdir)
        p, pub, (one, two) = self.start(nginx_servers=2, redis=redis)
        loads = [webtier.start_load(self.workdir, server.url("/events"), 20, 30, name="webload-" + server.name)
                 for server in (one, two)]
        for load in loads:
            wait_for(lambda: webtier.load_ready(load), 60, "streams open")
        results, times = webtier.night_subset(self.workdir, 30)
        p.ingest("replay", results, "--times", times, "--speed", "5000", "--quiet")
        reports = [webtier.load_report(load, 60) for load in loads]
        for report in reports:
            self.assertEqual((report["complete"], report["gaps"], report["out_of_order"]), (20, 0, 0), report)
        # the publisher posted to the first only: the second got it all through Redis, in the same order
        self.assertEqual(reports[0]["digests"], reports[1]["digests"])
        self.assertEqual(list(reports[0]["digests"].values()), [20])
        wait_for(lambda: json.loads(state_of(two.url(""))[2])["sequence"] == 30, 20, "/state through the second")


if __name__ == "__main__":
    reason = webtier.missing()
    if reason:
        print("test_nginx: SKIPPED: " + reason)
        sys.exit(77)
    harness.main()
