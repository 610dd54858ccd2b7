#!/usr/bin/env bash
# shellcheck disable=SC2016 # jq filters take $vars from --arg: single quotes are meant
# shellcheck source-path=SCRIPTDIR
# serial_noise.sh: a sync over a noisy serial line completes and stores no
# damaged post (issue 4).
#
# Two kithd nodes with no TCP, joined by the test relay, which flips one
# random bit in about one byte in 10,000 (--flip 1e-4) and drops one in
# 50,000, both ways, from a fixed seed. A holds 300 posts of about 500
# bytes, B 60; neither has seen the other's. Every damaged frame ends the
# session (serial.bad_frame) and the link starts a fresh one; what was
# stored stays, so each session picks up where the last stopped. In the end
# both hold the same set (same digest), list the same threads, show sampled
# posts intact, and a delete still goes across.
#
# Needs: KITHD, KITH, KITH_SERIAL_RELAY (set by ctest), jq. Private temp
# dir, removed at the end (SL_KEEP=1 keeps it).
set -euo pipefail

export SL_NAME=serial_noise
# shellcheck source=lib/serial-lib.bash
. "$(dirname "$0")/lib/serial-lib.bash"

A=1
B=2
BAUD=921600

ids() {
    kk "$1" --json read --group Walkers --limit 1000
    printf '%s' "$out" | jq -r '.threads[].id' | sort
}

say "A and B with no TCP; a group joined by invite; 300 posts on A, 60 on B"
sr_start $A
sr_start $B
sl_account $A alice
sl_account $B bob
gid=$(sl_group $A Walkers)
sl_invite_join $A Walkers $B
sl_bulk_posts $A alice Walkers 300 500
sl_bulk_posts $B bob Walkers 60 500
pa=$(sl_post $A Walkers "Alice's marker post: the noisy line must not touch this sentence")
pb=$(sl_post $B Walkers "Bob's marker post, to be deleted over the noisy line")
sl_stop $A
sl_stop $B

say "a relay at $BAUD baud flipping 1e-4 and dropping 2e-5 of the bytes; both nodes on it"
sr_relay --baud "$BAUD" --flip 1e-4 --drop 2e-5 --seed 7
sr_start $A --serial "$SR_DIR/a@$BAUD"
sr_start $B --serial "$SR_DIR/b@$BAUD"
sl_unlock $A alice
sl_unlock $B bob

say "the sync completes in spite of the noise"
sl_wait 120 "A and B converge over the noisy line" sl_same "$gid" $A $B
say "converged in $waited_ms ms; $(sl_items $A "$gid") items on each"
bad_a=$(grep -c ' serial.bad_frame ' "$(sl_log $A)" || true)
bad_b=$(grep -c ' serial.bad_frame ' "$(sl_log $B)" || true)
sessions=$(grep -c ' serial.linked ' "$(sl_log $A)" || true)
say "bad frames seen: A $bad_a, B $bad_b; sessions: $sessions"
[ $((bad_a + bad_b)) -gt 0 ] || fail "no bad frame was seen: the relay did not damage anything"
[ "$sessions" -gt 1 ] || fail "one session only: the noise ended none"

say "no damaged post was stored: same threads on both, sampled posts read intact"
[ "$(ids $A | wc -l)" -eq 362 ] || fail "A lists $(ids $A | wc -l) threads, not 362"
[ "$(ids $A)" = "$(ids $B)" ] || fail "A and B list different threads"
sl_show_has $B "$pa" "the noisy line must not touch this sentence" || fail "B's copy of A's marker differs"
sl_show_has $A "$pb" "to be deleted over the noisy line" || fail "A's copy of B's marker differs"
# The bulk posts only: the two markers (checked above) say something else.
for id in $(ids $A | grep -v -x -e "$pa" -e "$pb" | shuf -n 25 --random-source=<(yes)); do
    kk $B show "$id"
    has "Bulk post"
done
! grep -q ' peer.bad_post ' "$(sl_log $A)" "$(sl_log $B)" || fail "a post failed to open or verify"

say "a delete on B still reaches A over the noisy line"
kk $B delete "$pb"
sl_wait 90 "A sees B's delete" sl_deleted $A "$pb"
sl_wait 90 "A and B converge after the delete" sl_same "$gid" $A $B

say "both stop cleanly"
sl_stop $A
sl_stop $B
sr_stop_relay
grep 'flipped=' "$SL_TMP/relay.log" | tail -n 1
sl_logs_clean
say "ok"
