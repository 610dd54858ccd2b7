#!/usr/bin/env bash
# Every test, in order: format and lint, the normal build with unit and
# integration tests, the same under AddressSanitizer + UBSan, short libFuzzer
# runs, a smoke run of the benchmark, and the package: the Debian packages
# for amd64, arm64 and armhf, checked and started (tests/packaging/
# package-test.sh). The unit tests cross-built for arm64 and armhf run under
# qemu (tests/packaging/cross-test.sh) in the background while the fuzzers
# run, since each fuzzer uses one core; their logs are
# build-cross-ARCH/cross-test.log.
# Called by `packaging/setup.sh test` (which installs what is needed first).
# Stops at the first failure.
#
# FUZZ_SECONDS (default 30) sets how long each fuzz target runs.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)
fuzz_seconds=${FUZZ_SECONDS:-30}
cd "$top"

step() { printf '\n=== %s\n' "$*"; }

sources() { git ls-files '*.c' '*.h' 2>/dev/null || find proto node cli tests -name '*.[ch]'; }

step "format (clang-format --dry-run)"
sources | xargs clang-format --dry-run --Werror

step "lint (cppcheck)"
sources | grep '\.c$' | xargs cppcheck --quiet --error-exitcode=1 --std=c11 \
    --enable=warning,performance,portability --inline-suppr \
    --suppress=missingIncludeSystem --suppress="unknownMacro:tests/unit/*" \
    -I proto/include -I node

step "build and test"
# Options spelled out: a build/ left by `setup.sh run` has the tests off.
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKITH_TESTS=ON -DKITH_SANITIZE=OFF \
    -DKITH_FUZZ=OFF >/dev/null
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs"

step "lint (clang-tidy, checks in .clang-tidy)"
# valist.Uninitialized is off: clang-tidy 14 reports it falsely when given
# several files at once.
git ls-files 'proto/*.c' 'node/*.c' 'cli/*.c' | xargs -P "$jobs" -n 8 clang-tidy -p build --quiet

step "build and test under AddressSanitizer + UndefinedBehaviorSanitizer"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DKITH_SANITIZE=ON -DKITH_TESTS=ON \
    -DKITH_FUZZ=OFF >/dev/null
cmake --build build-asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j "$jobs"

step "fuzz (${fuzz_seconds}s per target)"
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKITH_FUZZ=ON \
    -DKITH_TESTS=OFF >/dev/null
cmake --build build-fuzz -j "$jobs"

# The cross unit tests, one architecture after the other, beside the fuzzers,
# in a process group of their own so that a failure here stops them too.
echo "(arm64 and armhf unit tests under qemu in the background: build-cross-*/cross-test.log)"
mkdir -p build-cross-arm64 build-cross-armhf
rm -f build-cross-arm64/FAILED build-cross-armhf/FAILED
# shellcheck disable=SC2016 # $arch belongs to the inner shell
setsid bash -c 'for arch in arm64 armhf; do
    nice tests/packaging/cross-test.sh "$arch" >"build-cross-$arch/cross-test.log" 2>&1 ||
        { touch "build-cross-$arch/FAILED"; exit 1; }
done' &
cross_pid=$!
trap 'kill -- "-$cross_pid" 2>/dev/null || true' EXIT
for bin in build-fuzz/tests/fuzz_*; do
    name=$(basename "$bin" | sed 's/^fuzz_//')
    corpus=$(mktemp -d)
    [ -d "tests/fuzz/corpus/$name" ] && cp -r "tests/fuzz/corpus/$name/." "$corpus/"
    echo "fuzz_$name"
    log="build-fuzz/fuzz_$name.log"
    if ! "$bin" -max_total_time="$fuzz_seconds" -artifact_prefix="build-fuzz/fuzz_$name-" \
        "$corpus" >"$log" 2>&1; then
        cat "$log"
        echo "fuzz_$name found a crash; the input is saved as build-fuzz/fuzz_$name-*"
        exit 1
    fi
    grep -E '^(#[0-9]+ *DONE|Done)' "$log" | tail -n 1
    rm -rf "$corpus"
done

if [ -x build/tests/kith_bench ]; then
    step "benchmark smoke run (figures from a tiny run; use build/tests/kith_bench for real ones)"
    build/tests/kith_bench --posts 500
    # 70,000 posts: a first sync that lists ids for more than 64 rounds must
    # not be cut off as an endless reconciliation (it was, at about 62,000).
    build/tests/kith_sync_bench --quick --posts 70000 --kithd build/node/kithd
fi

step "cross unit tests (arm64, armhf under qemu)"
if ! wait "$cross_pid"; then
    for arch in arm64 armhf; do
        if [ -e "build-cross-$arch/FAILED" ]; then
            tail -n 40 "build-cross-$arch/cross-test.log"
            echo "the $arch unit tests failed under qemu; the log is build-cross-$arch/cross-test.log"
        fi
    done
    exit 1
fi
trap - EXIT
grep -H 'tests passed' build-cross-arm64/cross-test.log build-cross-armhf/cross-test.log

step "package (Debian packages for amd64, arm64, armhf: lintian, systemd-analyze, files, start)"
tests/packaging/package-test.sh build-deb-out

step "all tests passed"
