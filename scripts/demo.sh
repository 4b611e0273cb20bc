#!/usr/bin/env bash
# The demo of the night (README): installs what is missing, builds, starts the
# aggregator and a publisher, replays the 2017 election against 2015 at high
# speed while a subscriber shows the results coming in, and ends on the UK
# table and the Luton North card. SPEED=N sets the replay speed (default 4000).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

BIN=build/bin
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

"$BIN/aggregator" --baseline data/ge2015.csv --speaker-as Con --baseline-speaker-as Con \
    --journal "$WORK/night.journal" >"$WORK/aggregator.log" 2>&1 & PIDS+=($!)
"$BIN/publisher" >"$WORK/publisher.log" 2>&1 & PIDS+=($!)
# Ready when the publisher serves a snapshot of a live aggregator
"$BIN/subscribe" --once --timeout 20 >/dev/null

echo "== 2017 general election, replayed at ${SPEED:-4000}x through aggregator -> publisher -> subscriber =="
"$BIN/subscribe" --top 5 & PIDS+=($!)
"$BIN/ingest" replay data/ge2017.csv --speed "${SPEED:-4000}" >"$WORK/replay.log"
"$BIN/subscribe" --once --min-sequence 650 --timeout 20 >/dev/null   # the subscriber has it all
kill "${PIDS[2]}" 2>/dev/null || true

echo
echo "== The night's result (Speaker counted with the Conservatives, as the BBC does) =="
"$BIN/subscribe" --once --top 5 --card E14000800
echo
echo "Logs and the night's journal: $WORK (ingest journal $WORK/night.journal lists it)"
