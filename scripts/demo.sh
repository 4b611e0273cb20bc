#!/usr/bin/env bash
# The demo of the night (README): installs what is missing, builds, starts the
# aggregator (with the 2017 nominations) and a publisher, replays the 2017
# election against 2015 at high speed while a subscriber shows the results
# coming in, shows what the aggregator held for a second look and has the
# count centres confirm it, and ends on the UK table and the Luton North
# card. SPEED=N sets the replay speed (default 4000).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

BIN=build/bin
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

"$BIN/aggregator" --baseline data/ge2015.csv --speaker-as Con --baseline-speaker-as Con \
    --nominations data/nominations_2017.csv \
    --journal "$WORK/night.journal" >"$WORK/aggregator.log" 2>&1 & PIDS+=($!)
"$BIN/publisher" >"$WORK/publisher.log" 2>&1 & PIDS+=($!)
# Ready when the publisher serves a snapshot of a live aggregator
"$BIN/subscribe" --once --timeout 20 >/dev/null

echo "== 2017 general election, replayed at ${SPEED:-4000}x through aggregator -> publisher -> subscriber =="
"$BIN/subscribe" --top 5 & PIDS+=($!)
# Exit status 3: every declaration answered, some held for a second look
status=0
"$BIN/ingest" replay data/ge2017.csv --speed "${SPEED:-4000}" >"$WORK/replay.log" || status=$?
[ "$status" -eq 0 ] || [ "$status" -eq 3 ] || { echo "replay failed ($status): $WORK/replay.log"; exit 1; }
"$BIN/subscribe" --once --min-sequence 650 --timeout 20 >/dev/null   # the subscriber has it all
kill "${PIDS[2]}" 2>/dev/null || true

echo
echo "== Held for a second look, not on air: each count centre checks and confirms =="
grep "HELD" "$WORK/replay.log" || true
held=$("$BIN/subscribe" --once --json --timeout 20 \
       | python3 -c 'import json, sys; print(" ".join(h["id"] for h in json.load(sys.stdin)["held"]))')
for seat in $held; do
    "$BIN/ingest" send data/ge2017.csv --seat "$seat" --confirm
done
[ -n "$held" ] || echo "(nothing held)"
"$BIN/subscribe" --once --min-sequence $((650 + $(echo $held | wc -w))) --timeout 20 >/dev/null

echo
echo "== The night's result (Speaker counted with the Conservatives, as the BBC does) =="
"$BIN/subscribe" --once --top 5 --card E14000800
echo
echo "Logs and the night's journal: $WORK (ingest journal $WORK/night.journal lists it)"
