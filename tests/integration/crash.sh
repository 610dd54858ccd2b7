#!/usr/bin/env bash
# Crash test: a burst of posts runs while the daemon is killed with -9 at a
# different point in each of three rounds. After each restart the store must
# open, and every post the node acknowledged before the kill (kith printed
# its id) must be there with its text, as kith show reads it.
#
# Needs: KITHD and KITH (set by ctest), jq.
set -euo pipefail

: "${KITHD:?set KITHD to the kithd binary}"
: "${KITH:?set KITH to the kith binary}"
command -v jq >/dev/null || {
    echo "crash: jq is needed (apt-get install jq)" >&2
    exit 1
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kith-crash.XXXXXX")
if [ ${#tmp} -gt 60 ]; then
    rm -rf "$tmp"
    tmp=$(mktemp -d /tmp/kith-crash.XXXXXX)
fi
pid=
burst=
cleanup() {
    local p
    for p in "$burst" "$pid"; do
        if [ -n "$p" ]; then
            kill "$p" 2>/dev/null || true
            wait "$p" 2>/dev/null || true
        fi
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -m 700 "$tmp/run" "$tmp/home"
export XDG_RUNTIME_DIR=$tmp/run HOME=$tmp/home
unset KITH_SESSION KITH_SOCKET KITH_DATA XDG_DATA_HOME EDITOR
if [ -n "${KITH_SOURCE_DIR:-}" ]; then
    export KITH_CONTENT=$KITH_SOURCE_DIR/content
fi
export KITH_PASSPHRASE="crash test passphrase"

fail() {
    echo "crash FAILED: $*" >&2
    exit 1
}
say() { echo "crash: $*"; }

data=$tmp/d
sock=$data/kithd.sock
log=$tmp/kithd.log
k() { "$KITH" --socket "$sock" "$@"; }

start_node() {
    "$KITHD" --data "$data" 2>>"$log" &
    pid=$!
    for _ in $(seq 1 100); do
        if [ -S "$sock" ] && k status >/dev/null 2>&1; then
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || {
            tail -20 "$log" >&2
            fail "kithd exited at start (the store did not open?)"
        }
        sleep 0.1
    done
    fail "kithd did not answer on $sock in 10 s"
}

# The burst: N posts one after another; each acknowledged one is recorded
# as "id<TAB>text" only after kith has printed it, i.e. after the node said
# it was stored. It stops at the first failure (the node is gone).
run_burst() { # run_burst ROUND N OUTFILE
    local round=$1 n=$2 outf=$3 i text id
    for i in $(seq 1 "$n"); do
        text="round $round post $i $RANDOM$RANDOM"
        id=$(k post --group Crash --json "$text" 2>/dev/null | jq -r .id) || break
        if [ -z "$id" ] || [ "$id" = null ]; then
            break
        fi
        printf '%s\t%s\n' "$id" "$text" >>"$outf"
    done
}

start_node
k account create crasher >/dev/null
k group create Crash >/dev/null
total=0
kill_points=(5 60 140)
for round in 1 2 3; do
    acked=$tmp/acked.$round
    : >"$acked"
    at=${kill_points[round - 1]}
    run_burst "$round" 200 "$acked" &
    burst=$!
    # Wait until `at` posts are acknowledged, then kill -9 the daemon.
    for _ in $(seq 1 3000); do
        [ "$(wc -l <"$acked")" -ge "$at" ] && break
        kill -0 "$burst" 2>/dev/null || break
        sleep 0.01
    done
    kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
    pid=
    wait "$burst" || true
    burst=
    n=$(wc -l <"$acked")
    [ "$n" -ge "$at" ] || fail "round $round: only $n posts acknowledged before the kill"
    [ "$n" -lt 200 ] || say "round $round: NOTE: the burst finished before the kill"
    say "round $round: killed -9 after $n acknowledged posts"

    start_node
    k unlock crasher >/dev/null # sessions do not survive a restart
    k status --json | jq -e '.posts >= 0' >/dev/null || fail "status after restart"
    # Every acknowledged post of every round so far is there, text intact.
    for r in $(seq 1 "$round"); do
        while IFS=$'\t' read -r id text; do
            got=$(k show "$id" --json) || fail "round $round: acknowledged post $id is missing"
            printf '%s' "$got" | jq -e --arg t "$text" '.post.body == $t and (.post.deleted | not)' \
                >/dev/null || fail "round $round: post $id reads back wrong: $got"
        done <"$tmp/acked.$r"
    done
    total=$((total + n))
    threads=$(k read --group Crash --limit 1000 --json | jq '.threads | length')
    [ "$threads" -ge "$total" ] || fail "round $round: $threads threads listed, $total acknowledged"
    say "round $round: all $total acknowledged posts are there after restart"
done
k status >/dev/null
say "ok"
