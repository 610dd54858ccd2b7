# shellcheck shell=bash
# serial-lib.bash: what the serial sync tests (serial.sh, serial_noise.sh,
# serial_unplug.sh) share, on top of sync-lib.bash: the test relay
# (tests/tools/kith_serial_relay.c) playing a cable between two
# pseudo-terminals, and kithd nodes that have no TCP at all (--listen off,
# --no-discovery) and reach each other only through it.
#
# Sourced, never run. The caller sets SL_NAME and has `set -euo pipefail`.

: "${KITH_SERIAL_RELAY:?set KITH_SERIAL_RELAY to the kith-serial-relay binary}"
# shellcheck source=sync-lib.bash
. "$(dirname "${BASH_SOURCE[0]}")/sync-lib.bash"

SR_PID=""
SR_DIR=$SL_TMP/relay

sr_cleanup() {
    if [ -n "$SR_PID" ]; then
        kill -TERM "$SR_PID" 2>/dev/null || true
        wait "$SR_PID" 2>/dev/null || true
    fi
    sl_cleanup
}
trap sr_cleanup EXIT

# sr_relay [RELAY ARGS...]: start the relay on $SR_DIR/a and $SR_DIR/b; its
# stderr goes to $SL_TMP/relay.log.
sr_relay() {
    local n
    mkdir -p "$SR_DIR"
    "$KITH_SERIAL_RELAY" --dir "$SR_DIR" "$@" >"$SL_TMP/relay.out" 2>>"$SL_TMP/relay.log" &
    SR_PID=$!
    for n in $(seq 1 100); do
        grep -q '^b=' "$SL_TMP/relay.out" 2>/dev/null && [ -e "$SR_DIR/b" ] && return 0
        kill -0 "$SR_PID" 2>/dev/null || fail "the relay exited at start"
        sleep 0.05
    done
    fail "the relay was not ready within 5 s"
}

# sr_stop_relay: stop the relay (it prints its counters to relay.log).
sr_stop_relay() {
    kill -TERM "$SR_PID"
    wait "$SR_PID" || true
    SR_PID=""
}

# sr_start I [KITHD ARGS...]: start node I with no TCP listener and no
# discovery and no web page (give it --serial ...), and wait until it
# answers.
sr_start() {
    local i=$1 lines _
    shift
    mkdir -p "$(sl_dir "$i")"
    touch "$(sl_log "$i")"
    lines=$(wc -l <"$(sl_log "$i")")
    "$KITHD" --data "$(sl_dir "$i")" --listen off --no-discovery --web off "$@" 2>>"$(sl_log "$i")" &
    SL_PID[i]=$!
    for _ in $(seq 1 200); do
        if [ -S "$(sl_sock "$i")" ] &&
            tail -n +"$((lines + 1))" "$(sl_log "$i")" | grep -q ' kithd.ready '; then
            return 0
        fi
        kill -0 "${SL_PID[$i]}" 2>/dev/null || fail "kithd node $i exited at start"
        sleep 0.05
    done
    fail "kithd node $i was not ready within 10 s"
}

# sr_no_tcp I: node I has no sync listener and no TCP peer: whatever it
# syncs came over the serial line.
sr_no_tcp() {
    kk "$1" --json peers
    jqt '.listen == null and ([.peers[] | select(.source != "serial")] | length) == 0'
}

# sr_serial_peer I FILTER: node I lists one serial peer, for which FILTER
# (a jq expression on it) is true.
sr_serial_peer() {
    k "$1" --json peers
    [ "$rc" -eq 0 ] || return 1
    printf '%s' "$out" | jq -e "[.peers[] | select(.source == \"serial\")] | length == 1 and (.[0] | $2)" >/dev/null
}
