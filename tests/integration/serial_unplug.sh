#!/usr/bin/env bash
# shellcheck disable=SC2016 # jq filters take $vars from --arg: single quotes are meant
# shellcheck source-path=SCRIPTDIR
# serial_unplug.sh: the serial device goes away in the middle of a sync and
# comes back; the sync resumes and converges (issue 4).
#
# Two kithd nodes with no TCP, joined by the test relay at 460800 baud. A
# holds 600 posts of about 500 bytes, B none. Once B holds some of them
# (and not all), the relay is "unplugged" (SIGUSR1: both pseudo-terminals
# close and their paths vanish, as when Bluetooth drops) for 3 seconds.
# Both nodes log the loss and wait for the device without spinning the CPU
# and without a log line per retry; B keeps what it stored. When the relay
# plugs in again (same paths, new ptys), the links reopen and the sync
# carries on from where it stopped: B ends with A's set, and A sent about
# as many posts as B needed (no full restart).
#
# Needs: KITHD, KITH, KITH_SERIAL_RELAY (set by ctest), jq. Private temp
# dir, removed at the end (SL_KEEP=1 keeps it).
set -euo pipefail

export SL_NAME=serial_unplug
# shellcheck source=lib/serial-lib.bash
. "$(dirname "$0")/lib/serial-lib.bash"

A=1
B=2
BAUD=460800
POSTS=600

# cpu_ticks PID: user + system clock ticks the process has used.
cpu_ticks() {
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# partway: B holds more than it started with, and not yet all of A's.
partway() {
    local n
    n=$(sl_items $B "$gid")
    [ "$n" -ge $((base_b + 100)) ] && [ "$n" -lt $((base_b + POSTS)) ]
}

say "A and B with no TCP; a group joined by invite; $POSTS posts on A"
sr_start $A
sr_start $B
sl_account $A alice
sl_account $B bob
gid=$(sl_group $A Walkers)
sl_invite_join $A Walkers $B
sl_bulk_posts $A alice Walkers $POSTS 500
base_b=$(sl_items $B "$gid")
sl_stop $A
sl_stop $B

say "a relay at $BAUD baud that unplugs for 3 s on SIGUSR1; both nodes on it"
sr_relay --baud "$BAUD" --unplug-seconds 3
sr_start $A --serial "$SR_DIR/a@$BAUD"
sr_start $B --serial "$SR_DIR/b@$BAUD"

say "once B holds part of A's posts, unplug the line"
sl_wait 30 "B receives part of A's posts" partway
kill -USR1 "$SR_PID"
sl_wait 5 "A logs the loss of its device" grep -q ' serial.lost device=' "$(sl_log $A)"
sl_wait 5 "B logs the loss of its device" grep -q ' serial.lost device=' "$(sl_log $B)"
held=$(sl_items $B "$gid")
say "unplugged with $((held - base_b)) of $POSTS posts on B"

say "while unplugged: B keeps what it stored, the nodes wait quietly and do not spin"
ticks_a=$(cpu_ticks "${SL_PID[$A]}")
ticks_b=$(cpu_ticks "${SL_PID[$B]}")
sleep 1.5
used=$(($(cpu_ticks "${SL_PID[$A]}") - ticks_a + $(cpu_ticks "${SL_PID[$B]}") - ticks_b))
say "CPU used by both nodes in 1.5 s unplugged: $used ticks"
[ "$used" -le 30 ] || fail "the nodes used $used clock ticks in 1.5 s while the device was gone"
[ "$(sl_items $B "$gid")" -ge "$held" ] || fail "B lost posts when the line went"
waits=$(grep -c ' serial.waiting ' "$(sl_log $B)" || true)
[ "$waits" -le 3 ] || fail "B logged $waits serial.waiting lines: one per state change expected"

say "plugged in again: the links reopen and the sync resumes and converges"
sl_wait 30 "the relay plugs in again" grep -q 'plugged in again' "$SL_TMP/relay.log"
sl_wait 90 "A and B converge after the line came back" sl_same "$gid" $A $B
say "converged $waited_ms ms after the relay was back"
[ "$(grep -c ' serial.open ' "$(sl_log $B)")" -ge 2 ] || fail "B did not reopen its device"
[ "$(sl_items $B "$gid")" -ge $((base_b + POSTS)) ] || fail "B holds $(sl_items $B "$gid") items"
kk $A --json peers
sent=$(printf '%s' "$out" | jq '[.peers[] | select(.source == "serial")][0].posts_sent')
say "A sent $sent posts in all for the $POSTS B needed"
# Posts in flight when the line went are sent again, and on the pty pair
# the kernel holds some of them; nothing like a second full transfer.
[ "$sent" -lt $((POSTS + POSTS / 2)) ] || fail "A sent $sent posts: the sync started over"

say "both stop cleanly"
sl_stop $A
sl_stop $B
sl_logs_clean
say "ok"
