#!/usr/bin/env bash
# Installs the Debian packages the project needs (only those missing; needs
# root or sudo for apt-get), then configures and builds into build/.
# Sourced by scripts/demo.sh and scripts/test.sh; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(build-essential cmake pkg-config python3
          libzmq3-dev libprotobuf-c-dev protobuf-c-compiler libcmocka-dev
          libjansson-dev libcsv-dev zlib1g-dev libmicrohttpd-dev libcurl4-openssl-dev)
PACKAGES+=(${EXTRA_PACKAGES:-})

scripts/install-packages.sh "${PACKAGES[@]}"

BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo ${CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
