#!/usr/bin/env bash
# ctest container_stack (issue 15): the image built from the working tree and
# docker-compose.yml run for real, with Debian's podman and podman-compose.
#   1. installs podman, podman-compose, debootstrap, runc and the dnsname
#      plugin (compose service names resolve through it) where missing;
#   2. makes the Dockerfile's base images (debian:12, debian:12-slim) with
#      debootstrap from the mirror apt already uses, unless they exist: no
#      registry is reachable here;
#   3. writes /etc/containers/containers.conf only where podman cannot start
#      a container without it, and skips (exit 77) only when it still cannot;
#   4. builds the image (--pull=never) and brings the stack up under its own
#      project name, with the page on a free host port and REPLAY_SPEED=max;
#   5. waits for every service's health check (run by hand: podman runs them
#      only under systemd) and for the replay to finish, then checks from
#      the host that /state through the publisher says 650 declared and is
#      the same document as `subscribe --once --json` run inside the stack
#      against the aggregator, that the subscriber service shows 650, and
#      that the page (web/) is served as it is in the tree;
#   6. takes the stack down (keeping the journal volume), brings the
#      long-running services up again without the replay, and checks that
#      the new aggregator (new epoch) recovered the same night from the volume;
#   7. removes its containers, network, volume and image on any exit. The base
#      images and the package layers stay as the cache of the next run
#      (CONTAINER_TEST_PURGE=1 removes them too).
# A new service in docker-compose.yml is checked without changes here: its
# health check must pass, a one-shot (restart: "no") must exit 0, anything
# else must still be running, never restarted, after both starts. Checks of
# what a service serves go in s_check_night.
# Usage: scripts/container-test.sh (as root, or with passwordless sudo)
# Exit status: 0 passed, 77 skipped (podman cannot create a container on this
# machine; the reason is printed), anything else failed.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
    exec sudo -n -E bash "$0" "$@"
fi

SKIP=77
SEATS=650
PROJECT=election-ctest-$$
IMAGE=localhost/$PROJECT:latest
COMPOSE_FILE=$PWD/docker-compose.yml
# Logs and the build's bookkeeping; under /var/tmp by project name, so that
# a later run can clean up after one that was killed
RUNS=/var/tmp/election-container-test
WORK=$RUNS/$PROJECT
rm -rf "$WORK"; mkdir -p "$WORK"
STARTED=$SECONDS
BASE_IMAGES=""

say() { echo "container-test: $*"; }
fail() { echo "container-test: FAIL: $*" >&2; exit 1; }
elapsed() { echo "$((SECONDS - STARTED)) s"; }

# Every podman call has a deadline: a hung exec session must fail the test,
# not hold CI until its time limit.
pm() { timeout --kill-after=10 "${PM_TIMEOUT:-120}" podman "$@" </dev/null; }

# podman-compose under the test's project; its chatter goes to a log that is
# printed when something fails.
compose() {
    say "podman-compose $*" >>"$WORK/compose.log"
    timeout --kill-after=10 300 podman-compose -p "$PROJECT" -f "$COMPOSE_FILE" "$@" \
        </dev/null >>"$WORK/compose.log" 2>&1
}

# JSON and YAML helpers (python3; python3-yaml comes with podman-compose)
py() {
    python3 - "$@" <<'PY'
import json, sys, yaml, glob, re, os

def load(path):
    with open(path) as f:
        return json.load(f)

mode, args = sys.argv[1], sys.argv[2:]
if mode == "services":
    # services KIND: all | healthchecked | oneshot | daemon
    with open(args[1]) as f:
        services = yaml.safe_load(f)["services"]
    for name, svc in services.items():
        oneshot = str(svc.get("restart", "no")) == "no"
        kind = args[0]
        if (kind == "all" or (kind == "healthchecked" and "healthcheck" in svc)
                or (kind == "oneshot" and oneshot) or (kind == "daemon" and not oneshot)):
            print(name)
elif mode == "froms":
    # The base images a Dockerfile's FROM lines name (not its own stages)
    stages, bases = set(), []
    for line in open(args[0]):
        m = re.match(r"\s*FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?", line, re.I)
        if m:
            if m.group(1).lower() not in stages and m.group(1) not in bases:
                bases.append(m.group(1))
            if m.group(2):
                stages.add(m.group(2).lower())
    print("\n".join(bases))
elif mode == "mirror":
    # The Debian mirror apt uses for SUITE: the first deb source of that
    # suite in the files apt reads (one-line and deb822 formats).
    suite = args[0]
    files = ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")) \
        + sorted(glob.glob("/etc/apt/sources.list.d/*.sources"))
    found = []
    for path in files:
        if not os.path.exists(path):
            continue
        text = open(path).read()
        if path.endswith(".sources"):
            for stanza in re.split(r"\n\s*\n", text):
                fields = {}
                for line in stanza.splitlines():
                    if line.startswith("#") or ":" not in line or line[0].isspace():
                        continue
                    key, value = line.split(":", 1)
                    fields[key.strip().lower()] = value.split()
                if ("deb" in fields.get("types", []) and suite in fields.get("suites", [])
                        and fields.get("enabled", ["yes"])[0].lower() != "no"):
                    found += fields.get("uris", [])
        else:
            for line in text.splitlines():
                words = re.sub(r"\[[^]]*\]", "", line.split("#", 1)[0]).split()
                if len(words) >= 3 and words[0] == "deb" and words[2] == suite:
                    found.append(words[1])
    found = [u for u in found if re.match(r"(https?|ftp|file)://", u)]
    if not found:
        sys.exit("no deb source for %s in %s" % (suite, ", ".join(files)))
    print(found[0])
elif mode == "state":
    # state FILE: "declared seats_total sequence epoch"
    d = load(args[0])
    print(d.get("declared"), d.get("seats_total"), d.get("sequence"), d.get("epoch"))
elif mode == "same":
    # same A B [but KEY]: the two documents are equal (parsed: key order and
    # spacing aside), except KEY, which must differ
    a, b = load(args[0]), load(args[1])
    but = args[3] if len(args) > 3 else None
    if but:
        if a.get(but) == b.get(but):
            sys.exit("%s is the same (%s) in both" % (but, a.get(but)))
        a.pop(but, None); b.pop(but, None)
    if a != b:
        keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        sys.exit("they differ in %s" % ", ".join(keys))
PY
}

s_containers() { podman ps -a -q --filter "label=io.podman.compose.project=$1" 2>/dev/null || true; }

# The one container of SERVICE in this project
s_container() {
    local id
    id=$(podman ps -a -q --filter "label=io.podman.compose.project=$PROJECT" \
         --filter "label=com.docker.compose.service=$1")
    [ -n "$id" ] || fail "service $1 has no container (podman-compose up did not create it; see its log above)"
    echo "$id"
}

# Removes a project's containers, volumes and network, and the image it built
s_remove_project() {
    local project=$1 ids
    ids=$(s_containers "$project")
    [ -z "$ids" ] || pm rm -f -t 1 $ids >/dev/null 2>&1 || true
    ids=$(podman volume ls -q --filter "label=io.podman.compose.project=$project" 2>/dev/null || true)
    [ -z "$ids" ] || pm volume rm -f $ids >/dev/null 2>&1 || true
    ids=$(podman network ls -q --filter "label=io.podman.compose.project=$project" 2>/dev/null || true)
    [ -z "$ids" ] || pm network rm -f $ids >/dev/null 2>&1 || true
    pm rmi --no-prune "localhost/$project:latest" "localhost/$project-web:latest" >/dev/null 2>&1 || true
}

# Removes the layers a run's build made (listed by its build log; not those
# it found in the cache), except the package layers (a base image's child):
# those are the next run's cache. Newest first, so a child goes before its
# parent. DIR is the run's WORK.
s_remove_build_layers() {
    local dir=$1 short id parent keep
    [ -s "$dir/build.log" ] || return 0
    keep=" $(podman image inspect --format '{{.Id}}' $BASE_IMAGES 2>/dev/null | tr '\n' ' ') "
    grep -oE '^--> [0-9a-f]{8,}' "$dir/build.log" | awk '{print $2}' | tac | while read -r short; do
        ! grep -q "^$short" "$dir/layers-before" 2>/dev/null || continue
        id=$(podman image inspect --format '{{.Id}}' "$short" 2>/dev/null) || continue
        parent=$(podman image inspect --format '{{.Parent}}' "$id" 2>/dev/null) || continue
        if [ "${CONTAINER_TEST_PURGE:-0}" = 1 ] || [[ "$keep" != *" $parent "* ]]; then
            pm rmi --no-prune "$id" >/dev/null 2>&1 || true
        fi
    done
}

# CONTAINER_TEST_PURGE=1: also the cache, the package layers (whichever run
# made them) and the base images
s_purge_cache() {
    local base id
    base=" $(podman image inspect --format '{{.Id}}' $BASE_IMAGES 2>/dev/null | tr '\n' ' ') "
    for id in $(podman images -a -q --no-trunc | sed 's/^sha256://'); do
        [[ "$base" != *" $(podman image inspect --format '{{.Parent}}' "$id" 2>/dev/null) "* ]] \
            || pm rmi --no-prune "$id" >/dev/null 2>&1 || true
    done
    pm rmi $BASE_IMAGES >/dev/null 2>&1 || true
}

s_dump_logs() {
    local id
    echo "---- podman-compose log (last 40 lines) ----" >&2
    tail -n 40 "$WORK/compose.log" >&2 2>/dev/null || true
    for id in $(s_containers "$PROJECT"); do
        echo "---- $(podman inspect --format '{{.Name}} ({{.State.Status}}, exit {{.State.ExitCode}})' "$id") ----" >&2
        pm logs --tail 25 "$id" >&2 2>&1 || true
    done
}

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    if [ "$status" -ne 0 ] && [ "$status" -ne "$SKIP" ]; then
        s_dump_logs || true
    fi
    say "tearing down $PROJECT"
    s_remove_project "$PROJECT"
    s_remove_build_layers "$WORK" || true
    if [ "${CONTAINER_TEST_PURGE:-0}" = 1 ] && [ -n "${BASE_IMAGES:-}" ]; then
        s_purge_cache || true
    fi
    rm -rf "$WORK"
    [ -z "$(s_containers "$PROJECT")" ] || { echo "container-test: containers of $PROJECT are left" >&2; status=1; }
    say "done in $(elapsed), exit $status"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Polls COMMAND... until it succeeds or SECONDS_ pass; the last output is kept
# in $WORK/last for the failure message.
s_until() {
    local deadline=$((SECONDS + $1)); shift
    until "$@" >"$WORK/last" 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 1
    done
}

# ---- 1. packages ----
scripts/install-packages.sh podman podman-compose debootstrap runc \
    golang-github-containernetworking-plugin-dnsname python3-yaml curl

# ---- 2. base images ----
for from in $(py froms Dockerfile); do
    case $from in
        debian:12|debian:12-slim) BASE_IMAGES="$BASE_IMAGES docker.io/library/$from" ;;
        *) fail "the Dockerfile's FROM $from: this test makes only debian:12 and debian:12-slim (debootstrap bookworm)" ;;
    esac
done
[ -n "$BASE_IMAGES" ] || fail "no FROM line in the Dockerfile"
missing_base=""
for image in $BASE_IMAGES; do
    pm image exists "$image" || missing_base="$missing_base $image"
done
if [ -n "$missing_base" ]; then
    # One minimal Debian 12 serves as debian:12 and debian:12-slim alike: slim
    # differs only in leaving out documentation, and no registry is reachable.
    mirror=$(py mirror bookworm) || fail "no Debian mirror for bookworm in the apt sources"
    say "making${missing_base} with debootstrap from $mirror"
    rootfs=$WORK/rootfs
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$WORK/debootstrap.log" 2>&1 \
        || { tail -n 20 "$WORK/debootstrap.log" >&2; fail "debootstrap bookworm from $mirror"; }
    # The packages and lists debootstrap leaves (80 MB): the Dockerfile updates the lists itself
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    first=${missing_base# }; first=${first%% *}
    tar -C "$rootfs" -c . | PM_TIMEOUT=300 timeout 300 podman import --quiet --change 'CMD ["bash"]' - "$first" >/dev/null \
        || fail "podman import of the Debian 12 root"
    for image in $missing_base; do
        [ "$image" = "$first" ] || pm tag "$first" "$image"
    done
    rm -rf "$rootfs"
    say "base images ready ($(elapsed))"
fi
BASE_IMAGES=${BASE_IMAGES# }

# A run killed before its teardown (kill -9, a ctest timeout) leaves its
# project behind: remove those whose process is gone.
for project in $( (podman ps -a --format '{{index .Labels "io.podman.compose.project"}}'
                   podman volume ls --format '{{.Name}}'; podman network ls --format '{{.Name}}'
                   podman images --format '{{.Repository}}'; ls "$RUNS") 2>/dev/null \
                 | sed -nE 's,^(localhost/)?(election-ctest-[0-9]+)(_.*)?$,\2,p' | sort -u); do
    kill -0 "${project##*-}" 2>/dev/null && continue
    say "removing $project, left by a run that died"
    s_remove_project "$project"
    s_remove_build_layers "$RUNS/$project"
    rm -rf "${RUNS:?}/$project"
done

# ---- 3. can podman start a container here? ----
probe() { pm run --rm --pull=never --network none "${BASE_IMAGES%% *}" true >"$WORK/probe" 2>&1; }
if ! probe; then
    # Where the runtime cannot raise the container's limits above the
    # machine's (no CAP_SYS_RESOURCE; podman asks for 1048576 files), or crun
    # cannot start containers (cgroup hybrid mode), runc with limits that fit
    # the machine can. podman itself runs with at most 32768 processes here
    # (measured), and the container cannot be given more than it has.
    conf=/etc/containers/containers.conf
    marker="# Written by election-night scripts/container-test.sh"
    if [ -e "$conf" ] && ! head -n 1 "$conf" | grep -qF "$marker"; then
        say "SKIP: podman cannot start a container here, and $conf is not ours to change: $(tail -n 1 "$WORK/probe")"
        exit "$SKIP"
    fi
    files=$(ulimit -Hn)
    procs=$(ulimit -Hu); [ "$procs" = unlimited ] || [ "$procs" -gt 32768 ] && procs=32768
    say "podman cannot start a container as configured ($(tail -n 1 "$WORK/probe")); writing $conf: runc, nofile=$files nproc=$procs"
    mkdir -p /etc/containers
    cat >"$conf.tmp.$$" <<EOF
$marker: podman as
# installed cannot start a container on this machine (see the script).
[containers]
default_ulimits = ["nofile=$files:$files", "nproc=$procs:$procs"]

[engine]
runtime = "runc"
EOF
    mv "$conf.tmp.$$" "$conf"
    if ! probe; then
        say "SKIP: podman cannot create a container on this machine: $(tail -n 1 "$WORK/probe")"
        exit "$SKIP"
    fi
fi

# ---- 4. the image ----
say "building $IMAGE from $PWD"
podman images -a -q --no-trunc | sed 's/^sha256://' | sort -u >"$WORK/layers-before"
build_started=$SECONDS
PM_TIMEOUT=900 pm build --pull=never -t "$IMAGE" -f Dockerfile . >"$WORK/build.log" 2>&1 \
    || { tail -n 30 "$WORK/build.log" >&2; fail "podman build"; }
say "image built in $((SECONDS - build_started)) s"

# The nginx service's image too is the run's own, removed with it
export ELECTION_IMAGE=$IMAGE ELECTION_WEB_IMAGE=localhost/$PROJECT-web:latest
export REPLAY_SPEED=max ELECTION_HTTP_BIND=127.0.0.1
ELECTION_HTTP_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export ELECTION_HTTP_PORT
STATE_URL=http://127.0.0.1:$ELECTION_HTTP_PORT/state

SERVICES=$(py services all "$COMPOSE_FILE")
HEALTHCHECKED=$(py services healthchecked "$COMPOSE_FILE")
ONESHOTS=$(py services oneshot "$COMPOSE_FILE")
DAEMONS=$(py services daemon "$COMPOSE_FILE")

# Every health-checked service among SERVICE... passes its check; one whose
# program exits (so is restarted) fails at once rather than at the deadline
s_wait_healthy() {
    local svc id restarts deadline
    for svc in "$@"; do
        [[ " $(echo $HEALTHCHECKED) " == *" $svc "* ]] || continue
        id=$(s_container "$svc")
        deadline=$((SECONDS + 90))
        until PM_TIMEOUT=30 pm healthcheck run "$id" >"$WORK/last" 2>&1; do
            restarts=$(podman inspect --format '{{.RestartCount}}' "$id")
            [ "$restarts" = 0 ] || fail "service $svc: its program exits (restarted $restarts times; its log is below)"
            [ "$SECONDS" -lt "$deadline" ] || fail "service $svc: its health check did not pass in 90 s: $(tail -n 3 "$WORK/last")"
            sleep 1
        done
        say "$svc healthy ($(elapsed))"
    done
}
# ... and every long-running one is running, never restarted
s_check_running() {
    local svc state
    for svc in $DAEMONS; do
        [[ " $* " == *" $svc "* ]] || continue
        state=$(podman inspect --format '{{.State.Status}} {{.RestartCount}}' "$(s_container "$svc")")
        [ "$state" = "running 0" ] || fail "service $svc should be running, never restarted; it is: $state (status, restarts)"
    done
}

# /state from the host, through the publisher, once it says all seats declared
s_fetch_state() {
    curl -fsS --max-time 5 -o "$1" "$STATE_URL" || return 1
    set -- $(py state "$1")
    echo "declared $1 of $2, sequence $3"
    [ "$1" = "$SEATS" ] && [ "$2" = "$SEATS" ]
}

# What the stack serves once the night is in: /state says 650 declared and
# is the document `subscribe --once --json` gets from the aggregator inside
# the stack (compared parsed, every field: sequence, epoch, mode, counts,
# parties, swing, every constituency with its candidates, regions), but
# "source", which names the tier that served it and must differ.
s_check_night() {
    local label=$1 sequence
    s_until 60 s_fetch_state "$WORK/state-$label.json" \
        || fail "$label: $STATE_URL did not say $SEATS of $SEATS declared in 60 s: $(tail -c 300 "$WORK/last")"
    read -r _ _ sequence _ < <(py state "$WORK/state-$label.json")
    say "$label: /state through the publisher: $SEATS declared, sequence $sequence"
    PM_TIMEOUT=60 pm exec "$(s_container subscriber)" subscribe --once --json --timeout 30 \
        --min-sequence "$sequence" --updates tcp://aggregator:5556 --snapshot tcp://aggregator:5557 \
        >"$WORK/subscribe-$label.json" || fail "$label: subscribe --once --json inside the stack (against aggregator)"
    py same "$WORK/state-$label.json" "$WORK/subscribe-$label.json" but source \
        || fail "$label: /state through the publisher is not the aggregator's state"
    say "$label: /state equals subscribe --once --json from the aggregator inside the stack"
    s_until 30 sh -c "podman logs '$(s_container subscriber)' 2>&1 | grep -F 'after $SEATS of $SEATS seats'" \
        || fail "$label: the subscriber service never printed the whole night"
}

# The results page: every file of web/ served from the image as it is in the tree
s_check_page() {
    local file
    for file in web/*; do
        [ -f "$file" ] || continue
        curl -fsS --max-time 5 -o "$WORK/served" "http://127.0.0.1:$ELECTION_HTTP_PORT/${file#web/}" \
            || fail "the publisher does not serve /${file#web/} (from the image's web root)"
        cmp -s "$file" "$WORK/served" || fail "the publisher serves a /${file#web/} that is not $file"
    done
    say "the publisher serves the results page (web/ as in the tree)"
}

# ---- 5. the stack and the night ----
say "starting services (project $PROJECT, page on 127.0.0.1:$ELECTION_HTTP_PORT, replay at max speed)"
compose up -d || fail "podman-compose up"
for svc in $SERVICES; do s_container "$svc" >/dev/null; done
s_wait_healthy $SERVICES
for svc in $ONESHOTS; do
    code=$(PM_TIMEOUT=300 pm wait "$(s_container "$svc")") || fail "service $svc did not finish in 300 s"
    [ "$code" = 0 ] || fail "service $svc exited with status $code"
    say "$svc finished, status 0 ($(elapsed))"
done
s_check_night first
s_check_page
s_check_running $SERVICES

# ---- 6. the journal volume outlives the containers ----
say "down (volumes kept), then up again without the one-shot services"
compose down || fail "podman-compose down"
[ -z "$(s_containers "$PROJECT")" ] || fail "podman-compose down left containers"
compose up -d $DAEMONS || fail "podman-compose up $DAEMONS"
s_wait_healthy $DAEMONS
s_check_night again
py same "$WORK/state-first.json" "$WORK/state-again.json" but epoch \
    || fail "after down/up the aggregator (a new one: new epoch) did not recover the same night from the journal volume"
podman logs "$(s_container aggregator)" 2>&1 | grep -E "AGG007 .*recovered $SEATS records" >/dev/null \
    || fail "the new aggregator's log has no AGG007 line recovering $SEATS records"
say "again: a new aggregator recovered the night from the journal volume (AGG007)"
s_check_running $DAEMONS
say "passed"
