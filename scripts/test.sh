#!/usr/bin/env bash
# The test command (README): installs what is missing, builds, and runs the
# whole suite twice: once as built, once under AddressSanitizer and
# UndefinedBehaviorSanitizer; then runs each fuzz target for 30 s.
set -euo pipefail
cd "$(dirname "$0")/.."

EXTRA="docker-compose chromium clang libclang-rt-14-dev nginx libnginx-mod-nchan redis-server"
# Node.js for the browser test: Debian's, unless the machine has one already
# (mixing a non-Debian node with Debian's npm breaks apt)
command -v npm >/dev/null 2>&1 || EXTRA="$EXTRA nodejs npm"
export EXTRA_PACKAGES="$EXTRA ${EXTRA_PACKAGES:-}"
scripts/setup.sh
echo "== tests =="
(cd build && ctest --output-on-failure --timeout 600)

echo "== tests under AddressSanitizer + UndefinedBehaviorSanitizer =="
BUILD_DIR=build-asan CMAKE_ARGS="-DSANITIZE=address;undefined" scripts/setup.sh
# The benchmark smoke run is about speed, which sanitizers distort, and the
# container test builds its own image from the tree (no sanitizers in it):
# both run above only.
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
   ctest --output-on-failure --timeout 900 -E 'bench|container_stack')

echo "== fuzzing: each libFuzzer target for 30 s (fuzz/run.sh SECONDS runs longer) =="
fuzz/run.sh 30
