#!/bin/sh
# Builds the libFuzzer targets with clang (in build-fuzz/, or $BUILD_DIR) and
# runs each for SECONDS (default 30), starting from the seed corpus in
# fuzz/corpus/<target>/. Exit status 1 if any target finds a crash, a leak
# or undefined behaviour; the input that did it is left as
# build-fuzz/fuzz/<target>-crash-* and can be replayed with
#   build-fuzz/fuzz/<target> FILE
#
# CI runs it for 30 s per target. To fuzz for longer, give more seconds, e.g.
#   fuzz/run.sh 3600
# or run one target by hand, in parallel, keeping what it learns:
#   build-fuzz/fuzz/fuzz_intake -jobs=4 -workers=4 -max_total_time=3600 \
#       build-fuzz/corpus/fuzz_intake fuzz/corpus/fuzz_intake
# (the first corpus directory receives new inputs; the repository's seed
# corpus is only read). Worth keeping: a small input that reaches new code,
# minimised with -merge=1, can be added to fuzz/corpus/<target>/.
set -eu
seconds=${1:-30}
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${BUILD_DIR:-$root/build-fuzz}
jobs=${JOBS:-2}

CC=${CC:-clang} cmake -S "$root" -B "$build" -DFUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$jobs" --target fuzz_intake fuzz_csv fuzz_journal

status=0
for target in fuzz_intake fuzz_csv fuzz_journal; do
    work="$build/corpus/$target"
    mkdir -p "$work"
    echo "== $target: $seconds s"
    if ! (cd "$build/fuzz" && ASAN_OPTIONS=detect_leaks=1 \
          "./$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
          -print_final_stats=1 -artifact_prefix="$build/fuzz/$target-" \
          "$work" "$here/corpus/$target"); then
        echo "== $target FAILED: see $build/fuzz/$target-*" >&2
        status=1
    fi
done
exit $status
