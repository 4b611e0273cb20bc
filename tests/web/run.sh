#!/bin/sh
# The browser test (ctest test_web): makes sure Chromium and playwright-core
# are there, then runs test_web.mjs against the real aggregator and publisher.
# Usage: run.sh BIN_DIR SOURCE_DIR WORK_DIR
# Exit 77 (ctest: skipped) only when Chromium cannot be had.
set -eu
BIN_DIR=$1
SOURCE_DIR=$2
WORK_DIR=$3
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

# What the test needs from Debian, installed if missing and we may
missing=""
[ -x "$CHROMIUM" ] || missing="$missing chromium"
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
if [ -n "$missing" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test_web: installing$missing (Debian packages)"
    # shellcheck disable=SC2086
    { DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing \
      || { apt-get update -q && DEBIAN_FRONTEND=noninteractive \
           apt-get install -y -q --no-install-recommends $missing; }; } >"$WORK_DIR/apt.log" 2>&1 || true
fi
if [ ! -x "$CHROMIUM" ]; then
    echo "test_web: SKIPPED: Chromium is not installed and cannot be installed (see $WORK_DIR/apt.log)"
    exit 77
fi
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || {
    echo "test_web: node and npm are needed (Debian packages nodejs npm; see $WORK_DIR/apt.log)" >&2
    exit 1
}

# playwright-core, exactly as locked, installed in the build tree (never the
# source tree); again only when the lock file changes
mkdir -p "$WORK_DIR/npm"
if ! cmp -s "$SOURCE_DIR/tests/web/package-lock.json" "$WORK_DIR/npm/package-lock.json" \
|| [ ! -d "$WORK_DIR/npm/node_modules/playwright-core" ]; then
    cp "$SOURCE_DIR/tests/web/package.json" "$SOURCE_DIR/tests/web/package-lock.json" "$WORK_DIR/npm/"
    (cd "$WORK_DIR/npm" && npm ci --no-audit --no-fund --loglevel=error)
fi

exec node "$SOURCE_DIR/tests/web/test_web.mjs" "$BIN_DIR" "$SOURCE_DIR" "$WORK_DIR"
