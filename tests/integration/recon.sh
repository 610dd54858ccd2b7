#!/usr/bin/env bash
# Set reconciliation end to end: two kith-recon-harness processes talk
# Negentropy's test protocol through kith-recon-driver, on random and
# clustered differences, with and without frame size limits, and every
# run must report exactly the true differences. Also: the harness replays a
# conversation of the reference implementation byte for byte, and answers
# an unknown protocol version as the protocol says.
set -euo pipefail

src=${KITH_SOURCE_DIR:?}
bindir=$(dirname "${KITH:?}")/../tests
harness=${KITH_RECON_HARNESS:-$bindir/kith-recon-harness}
driver=${KITH_RECON_DRIVER:-$bindir/kith-recon-driver}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# run NAME MAX_BYTES DRIVER_ARGS...: one reconciliation; MAX_BYTES (0: no
# check) bounds the total traffic, so cost must follow d log n, not n.
run() {
    local name=$1 max=$2 out
    shift 2
    out=$("$driver" "$@" "$harness") || fail "$name: $out"
    echo "$name: $out"
    if [ "$max" -gt 0 ]; then
        local up down
        up=$(sed -n 's/.* up \([0-9]*\) .*/\1/p' <<<"$out")
        down=$(sed -n 's/.* down \([0-9]*\) .*/\1/p' <<<"$out")
        [ $((up + down)) -le "$max" ] || fail "$name: $((up + down)) bytes > $max"
    fi
}

# Small differences in a large set: bytes stay far below n * 32.
run "identical 100k" 400 -n 100000 -a 0 -b 0 -s 1
run "random d=2 in 100k" 6000 -n 100000 -a 1 -b 1 -s 2
run "random d=20 in 100k" 60000 -n 100000 -a 10 -b 10 -s 3
run "clustered d=20 in 100k" 20000 -n 100000 -a 10 -b 10 -c -s 4
run "clustered d=200 in 100k" 60000 -n 100000 -a 100 -b 100 -c -s 5
run "random d=200 in 10k" 0 -n 10000 -a 100 -b 100 -s 6
run "empty initiator" 0 -n 0 -a 0 -b 3000 -s 7
run "empty responder" 0 -n 0 -a 3000 -b 0 -s 8

# The reference test suite's settings (test/test.pl), 100k records.
lim=(-l 60000 -L 500000)
run "full upload" 0 -n 0 -a 100000 -b 0 "${lim[@]}" -s 9
run "full download" 0 -n 0 -a 0 -b 100000 "${lim[@]}" -s 10
run "identical, limited" 0 -n 100000 -a 0 -b 0 "${lim[@]}" -s 11
run "mixed, limited" 0 -n 71000 -a 14500 -b 14500 "${lim[@]}" -s 12
# Smallest frames on both sides: many rounds, still exact.
run "tiny frames" 0 -n 3000 -a 1000 -b 1000 -l 4096 -L 4096 -s 13
run "tiny frames, clustered" 0 -n 3000 -a 1000 -b 1000 -c -l 4096 -L 4096 -s 14

# The adaptive split policy (KITH_RECON_POLICY=adaptive) against itself and
# against the reference policy in both roles: still exact, frames still fit,
# and where many items differ far cheaper than the reference (785 KB here).
ada="KITH_RECON_POLICY=adaptive $harness"
# runp NAME MAX_BYTES HARNESS1 HARNESS2 DRIVER_ARGS...
runp() {
    local name=$1 max=$2 h1=$3 h2=$4 out
    shift 4
    out=$("$driver" "$@" "$h1" "$h2") || fail "$name: $out"
    echo "$name: $out"
    if [ "$max" -gt 0 ]; then
        local up down
        up=$(sed -n 's/.* up \([0-9]*\) .*/\1/p' <<<"$out")
        down=$(sed -n 's/.* down \([0-9]*\) .*/\1/p' <<<"$out")
        [ $((up + down)) -le "$max" ] || fail "$name: $((up + down)) bytes > $max"
    fi
}
runp "adaptive: identical 100k" 400 "$ada" "$ada" -n 100000 -a 0 -b 0 -s 1
runp "adaptive: random d=1000 in 100k" 500000 "$ada" "$ada" -n 100000 -a 500 -b 500 -s 7
for pair in adaptive/reference reference/adaptive adaptive/adaptive; do
    tag=$pair
    h1=$harness
    h2=$harness
    [ "${pair%/*}" = adaptive ] && h1=$ada
    [ "${pair#*/}" = adaptive ] && h2=$ada
    runp "$tag random d=20 in 100k" 60000 "$h1" "$h2" -n 100000 -a 10 -b 10 -s 3
    runp "$tag clustered d=200 in 100k" 60000 "$h1" "$h2" -n 100000 -a 100 -b 100 -c -s 5
    runp "$tag empty initiator" 0 "$h1" "$h2" -n 0 -a 0 -b 3000 -s 7
    runp "$tag empty responder" 0 "$h1" "$h2" -n 0 -a 3000 -b 0 -s 8
    runp "$tag mixed, limited" 0 "$h1" "$h2" -n 71000 -a 14500 -b 14500 "${lim[@]}" -s 12
    runp "$tag tiny frames" 0 "$h1" "$h2" -n 3000 -a 1000 -b 1000 -l 4096 -L 4096 -s 13
    runp "$tag tiny frames, clustered" 0 "$h1" "$h2" -n 3000 -a 1000 -b 1000 -c -l 4096 -L 4096 -s 14
done
if KITH_RECON_POLICY=fast "$harness" 2>/dev/null <<<"seal"; then
    fail "unknown policy accepted"
fi

# The reference's "two rounds" conversation through the harness, byte for byte.
vec=$src/tests/vectors/recon-negentropy.txt
awk '/^case two-rounds/{on=1} on&&/^end/{exit} on' "$vec" >"$tmp/case"
msgs=$(sed -n 's/^msg //p' "$tmp/case")
first=$(sed -n 1p <<<"$msgs")
second=$(sed -n 2p <<<"$msgs")
{ sed -n 's/^client /item,/p' "$tmp/case"; echo seal; echo initiate; echo "msg,$second"; } |
    "$harness" >"$tmp/client.out"
[ "$(sed -n 1p "$tmp/client.out")" = "msg,$first" ] || fail "initiate differs from the reference"
[ "$(grep -c '^have,' "$tmp/client.out")" = 6 ] || fail "have count"
[ "$(grep -c '^need,' "$tmp/client.out")" = 6 ] || fail "need count"
[ "$(tail -n 1 "$tmp/client.out")" = done ] || fail "client not done"
{ sed -n 's/^server /item,/p' "$tmp/case"; echo seal; echo "msg,$first"; } |
    "$harness" >"$tmp/server.out"
[ "$(cat "$tmp/server.out")" = "msg,$second" ] || fail "server reply differs from the reference"
echo "reference two-rounds conversation: identical"

# A newer protocol version gets the single byte 0x61 back; garbage kills the
# harness with a non-zero status, as the reference's does.
out=$(printf 'item,12345,%s\nseal\nmsg,62aabbccddeeff\n' "$(printf 'ee%.0s' {1..32})" | "$harness")
[ "$out" = "msg,61" ] || fail "version fallback: $out"
if printf 'seal\nmsg,61000003\n' | "$harness" 2>/dev/null; then
    fail "bad mode accepted"
fi
if FRAMESIZELIMIT=100 "$harness" 2>/dev/null <<<"seal"; then
    fail "frame limit under 4096 accepted"
fi
echo "OK"
