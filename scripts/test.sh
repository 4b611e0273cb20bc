#!/usr/bin/env bash
# The test command (README): installs what is missing, builds, and runs the
# whole suite twice: once as built, once under AddressSanitizer and
# UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."

export EXTRA_PACKAGES="docker-compose chromium nodejs npm ${EXTRA_PACKAGES:-}"
scripts/setup.sh
echo "== tests =="
(cd build && ctest --output-on-failure --timeout 600)

echo "== tests under AddressSanitizer + UndefinedBehaviorSanitizer =="
BUILD_DIR=build-asan CMAKE_ARGS="-DSANITIZE=address;undefined" scripts/setup.sh
# The benchmark smoke run is about speed, which sanitizers distort: it runs above.
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
   ctest --output-on-failure --timeout 900 -E 'bench')
