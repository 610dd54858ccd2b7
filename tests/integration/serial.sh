#!/usr/bin/env bash
# shellcheck disable=SC2016 # jq filters take $vars from --arg: single quotes are meant
# shellcheck source-path=SCRIPTDIR
# serial.sh: two real kithd nodes joined only by a serial line (issue 4).
#
# The test relay plays the cable between two pseudo-terminals; neither node
# listens on TCP or sends beacons (--listen off --no-discovery), so all
# they share is the line. A and B each have an account; a group made on A
# is joined on B with an invite; posts and a reply are written on both
# before the line is plugged in. With `--serial DIR/a@BAUD` on A and
# `--serial DIR/b` plus a [serial] config section on B (the two ways to
# name a device), the sets converge (same digest), every post reads on
# both, a new post goes across live, and a delete on B reaches A. `kith
# peers` lists the link with source serial and the device as its address.
# Then B restarts with no serial link at all, and `kith sync --serial`
# (the one-off link, with progress) brings over what A wrote meanwhile;
# bad --serial / --baud arguments fail with one line.
#
# Needs: KITHD, KITH, KITH_SERIAL_RELAY (set by ctest), jq. Private temp
# dir, removed at the end (SL_KEEP=1 keeps it).
set -euo pipefail

export SL_NAME=serial
# shellcheck source=lib/serial-lib.bash
. "$(dirname "$0")/lib/serial-lib.bash"

A=1
B=2
BAUD=921600

# ids N: node N's thread ids in the group, sorted, one line each.
ids() {
    kk "$1" --json read --group Walkers --limit 1000
    printf '%s' "$out" | jq -r '.threads[].id' | sort
}

say "a relay at $BAUD baud; A and B with no TCP, accounts, a group joined by invite"
sr_relay --baud "$BAUD"
sr_start $A
sr_start $B
sl_account $A alice
sl_account $B bob
gid=$(sl_group $A Walkers)
sl_invite_join $A Walkers $B
pa1=$(sl_post $A Walkers "Alice over the wire: the direct payments form is due on Friday")
ra1=$(sl_reply $A "$pa1" "Alice adds: bring last year's letter")
pb1=$(sl_post $B Walkers "Bob over the wire: the support planner rang me back")
pb2=$(sl_post $B Walkers "Bob's post that he will delete later")
[ "$(sl_set $A "$gid")" != "$(sl_set $B "$gid")" ] || fail "A and B agree before they ever met"
sr_no_tcp $A
sr_no_tcp $B

say "restart A with --serial DIR/a@$BAUD and B with a [serial] section for DIR/b"
sl_stop $A
sl_stop $B
cat >"$SL_TMP/b.conf" <<EOF
[serial]
device = $SR_DIR/b
baud = $BAUD
role = auto
EOF
sr_start $A --serial "$SR_DIR/a@$BAUD"
sr_start $B --config "$SL_TMP/b.conf"
sl_unlock $A alice
sl_unlock $B bob

say "the sets converge over the line"
sl_wait 30 "A and B converge over the serial line" sl_same "$gid" $A $B
say "converged in $waited_ms ms; $(sl_items $A "$gid") items on each"
[ "$(ids $A)" = "$(ids $B)" ] || fail "A and B list different threads"
sl_show_has $A "$pb1" "the support planner rang me back" || fail "A does not show B's post"
sl_show_has $B "$ra1" "bring last year's letter" || fail "B does not show A's reply"
grep -q ' serial.linked device=' "$(sl_log $A)" || fail "A logged no serial.linked"
grep -q ' serial.open device=.*baud=921600' "$(sl_log $B)" || fail "B logged no serial.open at $BAUD"
sr_no_tcp $A

say "kith peers lists the link: source serial, the device as address, the other node's key"
key_a=$(sl_peer_key $A)
key_b=$(sl_peer_key $B)
sl_wait 10 "A lists B over the serial link" sr_serial_peer $A \
    "(.address == \"$SR_DIR/a\") and .node_key == \"$key_b\" and .baud == $BAUD and .posts_received >= 2 and .state == \"live\""
sl_wait 10 "B lists A over the serial link" sr_serial_peer $B \
    "(.address == \"$SR_DIR/b\") and .node_key == \"$key_a\" and .posts_received >= 2"
kk $A peers
has "$SR_DIR/a"
has "over a serial line"

say "live: a new post on A reaches B with no kith sync"
pa2=$(sl_post $A Walkers "Alice, live over the line: the review meeting moved to Tuesday")
sl_wait 20 "B gets A's live post" sl_show_has $B "$pa2" "the review meeting moved to Tuesday"

say "a delete on B reaches A"
kk $B delete "$pb2"
sl_wait 20 "A sees B's delete" sl_deleted $A "$pb2"
sl_wait 20 "A and B converge after the delete" sl_same "$gid" $A $B

say "B restarts with no serial link; kith sync --serial brings A's new posts with progress"
sl_stop $B
sr_start $B
sl_unlock $B bob
pa3=$(sl_post $A Walkers "Alice, while B was away: the carers' group meets at the library")
kk $B --json peers
jqt '.peers == []'
kk $B sync --serial "$SR_DIR/b" --baud $BAUD --timeout 60
has "Synced with 1 node: got 1 post, sent 0."
sl_show_has $B "$pa3" "the carers' group meets at the library" || fail "B lacks A's post after kith sync --serial"
sl_wait 20 "A and B converge after the one-off sync" sl_same "$gid" $A $B
grep -q ' sync.serial_oneoff device=' "$(sl_log $B)" || fail "B logged no one-off link"
sl_wait 10 "B stops its one-off link" grep -q ' serial.stopped device=' "$(sl_log $B)"
kk $B --json peers
jqt '[.peers[] | select(.source == "serial")] | length == 1 and .[0].posts_received == 1'

say "kith sync --serial with JSON, and usage errors"
kk $B --json sync --serial "$SR_DIR/b" --baud $BAUD --timeout 60
jqt '.state == "done" and .peers == 1 and .peers_done == 1'
k $B sync --serial "$SR_DIR/b" --baud 12345
[ "$rc" -eq 2 ] || fail "--baud 12345 exited $rc ($err)"
[[ "$err" == "kith: 12345 is not a baud rate this system can set"* ]] || fail "bad --baud message: $err"
k $B sync --baud 9600
if [ "$rc" -ne 2 ] || [[ "$err" != "kith: --baud goes with --serial DEVICE" ]]; then
    fail "--baud alone: $rc $err"
fi
k $B sync --serial "$SR_DIR/b" --peer 127.0.0.1:1
if [ "$rc" -ne 2 ] || [[ "$err" != "kith: give --peer or --serial, not both" ]]; then
    fail "both: $rc $err"
fi
say "a device that is not there fails after the wait, naming it"
k $B sync --serial "$SL_TMP/no-such-tty" --timeout 60
[ "$rc" -eq 1 ] || fail "sync with a missing device exited $rc"
[[ "$err" == *"could not sync with $SL_TMP/no-such-tty: no such host or device"* ]] ||
    fail "missing device message: $err"

say "both stop cleanly"
sl_stop $A
sl_stop $B
sl_logs_clean
say "ok"
