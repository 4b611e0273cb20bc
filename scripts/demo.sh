#!/usr/bin/env bash
# The demo of the night (README): installs what is missing, builds, starts the
# aggregator (with the 2017 nominations) and a publisher, replays the 2017
# election against 2015 at high speed while a subscriber shows the results
# coming in, shows what the aggregator held for a second look and has the
# count centres confirm it, and ends on the UK table and the Luton North
# card. SPEED=N sets the replay speed (default 4000).
#
# --pair: the same night on a pair of aggregators (README "A pair of
# aggregators"): the publisher, the subscriber and the count centres follow
# whichever is active; half way through the night the active is killed -9
# and its journal deleted, the standby takes over, and the killed one comes
# back as the standby.
set -euo pipefail
cd "$(dirname "$0")/.."
PAIR=false
case "${1:-}" in
    --pair) PAIR=true ;;
    "") ;;
    *) echo "usage: scripts/demo.sh [--pair]" >&2; exit 2 ;;
esac
scripts/setup.sh

BIN=build/bin
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
COMMON=(--baseline data/ge2015.csv --speaker-as Con --baseline-speaker-as Con
        --nominations data/nominations_2017.csv)

if $PAIR; then
    # The primary on the usual ports, the backup on 6555-6557; peer links 5560, 6560
    primary() { "$BIN/aggregator" "${COMMON[@]}" --role primary --journal "$WORK/primary.journal" \
                    --peer-bind tcp://127.0.0.1:5560 --peer tcp://127.0.0.1:6560 \
                    >>"$WORK/primary.log" 2>&1 & }
    backup() { "$BIN/aggregator" "${COMMON[@]}" --role backup --journal "$WORK/backup.journal" \
                   --ingest tcp://*:6555 --updates tcp://*:6556 --snapshot tcp://*:6557 \
                   --peer-bind tcp://127.0.0.1:6560 --peer tcp://127.0.0.1:5560 \
                   >>"$WORK/backup.log" 2>&1 & }
    primary; PRIMARY=$!; PIDS+=($PRIMARY)
    backup; PIDS+=($!)
    TO=tcp://*:5555,tcp://*:6555
    UPDATES=tcp://*:5556,tcp://*:6556
    SNAPSHOT=tcp://*:5557,tcp://*:6557
    "$BIN/publisher" --upstream-updates "$UPDATES" --upstream-snapshot "$SNAPSHOT" \
        >"$WORK/publisher.log" 2>&1 & PIDS+=($!)
else
    "$BIN/aggregator" "${COMMON[@]}" --journal "$WORK/night.journal" >"$WORK/aggregator.log" 2>&1 & PIDS+=($!)
    TO=tcp://*:5555
    "$BIN/publisher" >"$WORK/publisher.log" 2>&1 & PIDS+=($!)
fi
# Ready when the publisher serves a snapshot of a live aggregator
"$BIN/subscribe" --once --timeout 20 >/dev/null

echo "== 2017 general election, replayed at ${SPEED:-4000}x through aggregator$($PAIR && echo " pair") -> publisher -> subscriber =="
"$BIN/subscribe" --top 5 & PIDS+=($!)
SUBSCRIBER=$!
# Exit status 3: every declaration answered, some held for a second look
"$BIN/ingest" replay data/ge2017.csv --speed "${SPEED:-4000}" --to "$TO" >"$WORK/replay.log" 2>&1 & REPLAY=$!
if $PAIR; then
    # Half way, the active dies with its disk; it comes back as the standby
    "$BIN/subscribe" --once --min-sequence 325 --timeout 120 >/dev/null
    echo; echo "== kill -9 the active aggregator (the primary) and delete its journal, half way through the night =="
    kill -9 "$PRIMARY"
    wait "$PRIMARY" 2>/dev/null || true
    rm -f "$WORK/primary.journal"
    primary; PIDS+=($!)
fi
status=0
wait "$REPLAY" || status=$?
[ "$status" -eq 0 ] || [ "$status" -eq 3 ] || { echo "replay failed ($status): $WORK/replay.log"; exit 1; }
"$BIN/subscribe" --once --min-sequence 650 --timeout 20 >/dev/null   # the subscriber has it all
kill "$SUBSCRIBER" 2>/dev/null || true

echo
echo "== Held for a second look, not on air: each count centre checks and confirms =="
grep "HELD" "$WORK/replay.log" || true
held=$("$BIN/subscribe" --once --json --timeout 20 \
       | python3 -c 'import json, sys; print(" ".join(h["id"] for h in json.load(sys.stdin)["held"]))')
for seat in $held; do
    "$BIN/ingest" send data/ge2017.csv --seat "$seat" --confirm --to "$TO"
done
[ -n "$held" ] || echo "(nothing held)"
"$BIN/subscribe" --once --min-sequence $((650 + $(echo $held | wc -w))) --timeout 20 >/dev/null

echo
echo "== The night's result (Speaker counted with the Conservatives, as the BBC does) =="
"$BIN/subscribe" --once --top 5 --card E14000800
if $PAIR; then
    echo
    "$BIN/subscribe" --health --once --updates "$UPDATES" --snapshot "$SNAPSHOT"
    grep -h "AGG403\|AGG405\|AGG407" "$WORK/primary.log" "$WORK/backup.log" | cut -c 1-160
fi
echo
echo "Logs and the night's journal: $WORK (ingest journal $WORK/*.journal lists it)"
