"""The nginx web tier for the tests and the benchmark (bench/web_bench.py):
nginx + nchan, and Redis, run as foreground processes on free loopback ports
with the shipped site (deploy/nginx) in a temp directory; the load client
(bench/webload) and the digest it keeps of each stream."""
import json
import os
import shutil
import socket
import subprocess

import harness
from harness import Process, free_port, wait_for

SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEPLOY = os.path.join(SOURCE, "deploy", "nginx")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
NCHAN = "/usr/lib/nginx/modules/ngx_nchan_module.so"
REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"


def missing(redis=False):
    """Why nginx + nchan (and Redis) cannot run here, or None. Installs the
    Debian packages first where it may (root, apt-get), as scripts/test.sh does."""
    def wanted():
        packages = []
        if not os.access(NGINX, os.X_OK):
            packages.append("nginx")
        if not os.path.exists(NCHAN):
            packages.append("libnginx-mod-nchan")
        if redis and not os.access(REDIS, os.X_OK):
            packages.append("redis-server")
        return packages
    packages = wanted()
    if packages and os.geteuid() == 0 and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        install = ["apt-get", "install", "-y", "-q", "--no-install-recommends"] + packages
        if subprocess.run(install, env=env, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True)
            subprocess.run(install, env=env, capture_output=True)
        packages = wanted()
    if packages:
        return "%s not installed, and cannot be installed here (Debian packages: %s)" % (
            ", ".join(packages), " ".join(packages))
    return None


def _substitute(text, name, replacements):
    for old, new in replacements:
        if text.count(old) != 1:
            raise AssertionError("deploy/nginx/%s no longer has \"%s\" once" % (name, old))
        text = text.replace(old, new)
    return text


class Nginx:
    """One nginx server with the shipped site. Its ports are chosen at once
    (the publisher needs publish_url); start() runs it in front of a publisher."""

    def __init__(self, workdir, name, workers=1, connections=1024, redis_port=None):
        self.workdir, self.name = workdir, name
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir)
        self.port, self.publish_port = free_port(), free_port()
        self.workers, self.connections, self.redis_port = workers, connections, redis_port
        self.publish_url = "http://127.0.0.1:%d/pub" % self.publish_port
        self.proc = None

    def url(self, path="/"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def configure(self, publisher_port):
        with open(os.path.join(DEPLOY, "election-night.conf")) as f:
            site = _substitute(f.read(), "election-night.conf", [
                ("listen 80 backlog=4096;", "listen 127.0.0.1:%d backlog=4096;" % self.port),
                ("listen 127.0.0.1:8081;", "listen 127.0.0.1:%d;" % self.publish_port),
                ("server 127.0.0.1:8080;", "server 127.0.0.1:%d;" % publisher_port),
                ("root /opt/election/web;", "root %s;" % os.path.join(SOURCE, "web")),
                ("/var/lib/nginx/election-night", os.path.join(self.dir, "cache"))])
        site_path = os.path.join(self.dir, "election-night.conf")
        with open(site_path, "w") as f:
            f.write(site)
        # The store snippet and, for Redis, its upstream, as README says to install them
        os.makedirs(os.path.join(self.dir, "snippets"), exist_ok=True)
        store = os.path.join(DEPLOY, "redis" if self.redis_port else "", "election-night-store.conf")
        shutil.copy(store, os.path.join(self.dir, "snippets", "election-night-store.conf"))
        includes = [site_path]
        if self.redis_port:
            with open(os.path.join(DEPLOY, "redis", "election-night-redis.conf")) as f:
                upstream = _substitute(f.read(), "redis/election-night-redis.conf", [
                    ("redis://127.0.0.1:6379", "redis://127.0.0.1:%d" % self.redis_port)])
            includes.insert(0, os.path.join(self.dir, "election-night-redis.conf"))
            with open(includes[0], "w") as f:
                f.write(upstream)
        temp = "\n".join("  %s_temp_path %s;" % (kind, os.path.join(self.dir, kind))
                         for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        # As root, workers would switch to a user that cannot enter the temp directory
        user = "user root root;\n" if os.geteuid() == 0 else ""
        with open(os.path.join(self.dir, "nginx.conf"), "w") as f:
            f.write("%sdaemon off;\nworker_processes %d;\nworker_rlimit_nofile %d;\npid %s;\n"
                    "error_log %s notice;\nload_module %s;\nevents { worker_connections %d; }\n"
                    "http {\n  include /etc/nginx/mime.types;\n  default_type application/octet-stream;\n"
                    "  access_log off;\n%s\n%s}\n" % (
                        user, self.workers, self.connections * 2 + 64, os.path.join(self.dir, "nginx.pid"),
                        os.path.join(self.dir, "error.log"), NCHAN, self.connections, temp,
                        "".join("  include %s;\n" % path for path in includes)))

    def start(self, publisher_port):
        """Runs nginx (in the foreground, as a child) and waits until it answers."""
        self.configure(publisher_port)
        self.proc = Process(self.workdir, self.name, [NGINX, "-p", self.dir, "-e", os.path.join(self.dir, "error.log"),
                                                      "-c", os.path.join(self.dir, "nginx.conf")], group=True)

        def answers():
            if not self.proc.alive():
                raise AssertionError("nginx exited:\n%s%s" % (self.proc.output(), self.errors()))
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                return False
        wait_for(answers, 20, "nginx on port %d" % self.port)
        return self

    def errors(self):
        try:
            with open(os.path.join(self.dir, "error.log")) as f:
                return f.read()
        except OSError:
            return ""

    def pids(self):
        """The master and its workers."""
        pids = [self.proc.proc.pid]
        try:
            with open("/proc/%d/task/%d/children" % (pids[0], pids[0])) as f:
                pids += [int(p) for p in f.read().split()]
        except OSError:
            pass
        return pids

    def stop(self):
        if self.proc and self.proc.alive():
            self.proc.stop()


class Redis:
    """A Redis server of its own, in memory only."""

    def __init__(self, workdir):
        self.port = free_port()
        directory = os.path.join(workdir, "redis")
        os.makedirs(directory)
        self.proc = Process(workdir, "redis", [REDIS, "--port", str(self.port), "--bind", "127.0.0.1",
                                               "--save", "", "--appendonly", "no", "--dir", directory,
                                               "--daemonize", "no"])

        def pong():
            if not self.proc.alive():
                raise AssertionError("redis-server exited:\n" + self.proc.output())
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    return s.recv(16).startswith(b"+PONG")
            except OSError:
                return False
        wait_for(pong, 20, "redis-server on port %d" % self.port)


def start_load(workdir, url, clients, until, start_from=0, duration=120, name="webload"):
    """The load client, opening its streams; ready(proc) once they are all open."""
    return Process(workdir, name, ["webload", "--url", url, "--clients", str(clients),
                                   "--from-sequence", str(start_from), "--until-sequence", str(until),
                                   "--duration", str(duration)])


def load_ready(proc):
    if not proc.alive() and "LOD002" not in proc.output():
        raise AssertionError("webload exited before its streams were open:\n" + proc.output())
    return "LOD002" in proc.output()


def load_report(proc, timeout):
    """The load client's JSON report, once it has finished."""
    proc.proc.wait(timeout)
    lines = [line for line in proc.output().splitlines() if line.startswith("{")]
    if not lines:
        raise AssertionError("webload printed no report:\n" + proc.output())
    return json.loads(lines[-1])


def digest(events, start_from=0):
    """What webload hashes per stream: FNV-1a 64 of "name\\ndata\\n" for each
    update event (not state, health or resync) after sequence start_from."""
    value = 0xcbf29ce484222325
    for name, data in events:
        if name in ("state", "health", "resync") or json.loads(data)["sequence"] <= start_from:
            continue
        for byte in ("%s\n%s\n" % (name, data)).encode("utf-8"):
            value = ((value ^ byte) * 0x100000001b3) & 0xffffffffffffffff
    return "%016x" % value


def read_until_national(stream, sequence):
    """(name, data) of every event of a stream up to sequence's national update."""
    events = []
    while True:
        name, _, data = stream.next()
        events.append((name, data))
        if name == "national" and json.loads(data)["sequence"] >= sequence:
            return events


def night_subset(workdir, count, name="part"):
    """A results file and a times file with the first count seats of the 2017 night."""
    import csv
    with open(os.path.join(harness.DATA, "declaration_times_2017.csv"), newline="") as f:
        times = sorted(list(csv.reader(f))[1:], key=lambda row: row[1])[:count]
    wanted = {row[0] for row in times}
    results = os.path.join(workdir, name + ".csv")
    harness.write_csv(results, [r for r in harness.read_rows(harness.RESULTS) if r[0] in wanted])
    times_path = os.path.join(workdir, name + "_times.csv")
    with open(times_path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["ons_id", "declared_at"])
        writer.writerows(times)
    return results, times_path
