#!/usr/bin/env bash
# shellcheck disable=SC2016 # jq filters take $vars from --arg: single quotes are meant
# shellcheck source-path=SCRIPTDIR
# sync_two.sh: two real kithd nodes on loopback sync a group (issue 3).
#
# A and B each have an account; a group made on A is joined on B with an
# invite; posts and replies are written on both before they ever connect.
# Then `kith sync --peer` on A: both end with the same sync set digest, and
# every post reads the same on both. While the session stays open a new post
# on A reaches B with no further `kith sync`, and a delete on B removes the
# body on A. A second group that B is not in never shows on B: not in its
# group list, its sets, or its log (no name, no id). A third node C in no
# group learns nothing either. `kith sync` against a stopped node fails with
# one line; kill -9 of B in the middle of a 500-post transfer, a restart and
# another sync converge. `kith peers` and `kith status` report all of it.
#
# Needs: KITHD and KITH (set by ctest), jq. Private temp dir, removed at the
# end (SL_KEEP=1 keeps it).
set -euo pipefail

export SL_NAME=sync_two
# shellcheck source=lib/sync-lib.bash
. "$(dirname "$0")/lib/sync-lib.bash"

A=1
B=2
C=3

# progress_only: kith sync's stderr ($err) holds nothing but progress lines.
progress_only() {
    local line
    while IFS= read -r line; do
        [ -z "$line" ] || [[ "$line" =~ ^sync:\ [0-9]+\ posts?\ \([0-9.]+\ (bytes?|KiB|MiB|GiB)\)\ to\ go$ ]] ||
            fail "unexpected stderr line from kith sync: $line"
    done <<<"$err"
}

say "start A and B (no discovery), an account on each"
sl_start $A
sl_start $B
sl_account $A alice
sl_account $B bob
[ "${SL_PORT[$A]}" != "${SL_PORT[$B]}" ] || fail "A and B got the same port"

say "kith peers and kith sync on a node that knows no other node"
kk $A peers
has "This node is "
has "listening for other nodes on $(sl_addr $A)"
has "It knows no other node yet"
kk $A --json peers
jqt '(.node_key | test("^[0-9a-f]{64}$")) and .peers == []'
jqt '.listen == $l' --arg l "$(sl_addr $A)"
key_a=$(printf '%s' "$out" | jq -r .node_key)
key_b=$(sl_peer_key $B)
[ "$key_a" != "$key_b" ] || fail "A and B have the same node key"
kk $A sync
has "knows no other node to sync with yet"
kk $A --json sync
jqt '.state == "done" and .peers == 0'

say "usage errors of kith sync"
k $A sync --peer "not an address"
[ "$rc" -eq 2 ] || fail "sync --peer 'not an address' exited $rc ($err)"
[[ "$err" == 'kith: "not an address" is not an address to sync with: give HOST:PORT'* ]] ||
    fail "bad --peer message: $err"
k $A sync --timeout 0
if [ "$rc" -ne 2 ] || [[ "$err" != "kith: --timeout is how many seconds"* ]]; then
    fail "sync --timeout 0: $rc $err"
fi

say "a group on A, joined on B with an invite; posts and replies on both, not yet connected"
gid=$(sl_group $A Walkers)
sl_invite_join $A Walkers $B
pa1=$(sl_post $A Walkers "Alice's first post: the direct payments form is due on Friday")
pa2=$(sl_post $A Walkers "Alice's second post about the personal budget review")
ra1=$(sl_reply $A "$pa1" "Alice adds: bring last year's letter")
pb1=$(sl_post $B Walkers "Bob's post: the support planner rang me back")
pb2=$(sl_post $B Walkers "Bob's post that he will delete later")
rb1=$(sl_reply $B "$pb1" "Bob adds: she was helpful")
k $B show "$pa1"
[ "$rc" -ne 0 ] || fail "B shows A's post before any sync"
items_a=$(sl_items $A "$gid")
items_b=$(sl_items $B "$gid")
if [ "$items_a" -lt 4 ] || [ "$items_b" -lt 4 ]; then
    fail "too few items: A $items_a, B $items_b"
fi
! sl_same "$gid" $A $B || fail "A and B have the same digest before syncing"

say "kith sync --peer B on A: a summary line, exit 0, identical sets"
t0=$(sl_ms)
kk $A sync --peer "$(sl_addr $B)"
t_sync=$(($(sl_ms) - t0))
has "Synced with 1 node: got $items_b posts, sent $items_a."
progress_only
sl_same "$gid" $A $B || fail "digests differ after sync: A $(sl_set $A "$gid") B $(sl_set $B "$gid")"
[ "$(sl_items $A "$gid")" -eq $((items_a + items_b)) ] || fail "A holds $(sl_items $A "$gid")"
echo "  sync of $((items_a + items_b)) items took $t_sync ms (kith sync, end to end)"

say "every post reads the same on both nodes"
for p in "$pa1" "$pa2" "$ra1" "$pb1" "$pb2" "$rb1"; do
    kk $A --json show "$p"
    sa=$(printf '%s' "$out" | jq -S '[.post] + .replies')
    kk $B --json show "$p"
    sb=$(printf '%s' "$out" | jq -S '[.post] + .replies')
    [ "$sa" = "$sb" ] || fail "post $p reads differently on A and B"
done
sl_show_has $B "$pa1" "direct payments form" || fail "B cannot show A's post: $out"
sl_show_has $A "$rb1" "she was helpful" || fail "A cannot show B's reply: $out"
kk $B read --group Walkers
has "Alice's second post"
has "Bob's post: the support planner"

say "kith peers on A and B: the other node, its key, what went each way"
sl_wait 10 "A's session with B is live" \
    bash -c '"$0" --socket "$1" --json peers | jq -e ".peers[0].state == \"live\"" >/dev/null' \
    "$KITH" "$(sl_sock $A)"
kk $A --json peers
jqt '.peers | length == 1'
jqt '.peers[0] | .node_key == $k and .address == $a and .source == "config" and .last_error == null' \
    --arg k "$key_b" --arg a "$(sl_addr $B)"
jqt '.peers[0] | .posts_sent == ($s | tonumber) and .posts_received == ($g | tonumber)' \
    --arg s "$items_a" --arg g "$items_b"
jqt '.peers[0] | .bytes_sent > 0 and .bytes_received > 0 and .last_seen_ms > 0 and .last_sync_ms > 0'
kk $A peers
has "Known nodes:"
has "  $(sl_addr $B) (node ${key_b:0:12})"
has "connected and in sync; new posts go across as they are written; named in the config"
has "sent $items_a posts, got $items_b ("
has "last synced just now"
kk $B --json peers
jqt '.peers | length == 1 and .[0].node_key == $k and .[0].source == "inbound"' --arg k "$key_a"
jqt '.peers[0] | .posts_sent == ($g | tonumber) and .posts_received == ($s | tonumber)' \
    --arg s "$items_a" --arg g "$items_b"

say "kith status shows the sync state"
kk $A status
has "Sync: this node is ${key_a:0:12}; listening on $(sl_addr $A); 1 other node is connected."
digest=$(sl_set $A "$gid" | cut -d' ' -f2)
has "  Group \"Walkers\" (${gid:0:12}): $((items_a + items_b)) items to sync, fingerprint ${digest:0:12}"
kk $B --json status
jqt '.sync.node_key == $k and .sync.peers_connected == 1 and (.sync.sets | length == 1)' \
    --arg k "$key_b"
# status's sets are sync.sets's.
kk $B --json status
st=$(printf '%s' "$out" | jq -S .sync.sets)
out=$(sl_request $B '{"id":1,"cmd":"sync.sets"}')
[ "$(printf '%s' "$out" | jq -S .result.sets)" = "$st" ] || fail "sync.sets differs from status: $out"

say "live push: a new post on A reaches B without kith sync"
pa3=$(sl_post $A Walkers "Alice's live post: the meeting moved to the library")
sl_wait 10 "the live post on B" sl_show_has $B "$pa3" "moved to the library"
echo "  live post reached B after $waited_ms ms"
t_live=$waited_ms
sl_wait 10 "digests agree after the live post" sl_same "$gid" $A $B

say "a delete on B removes the body on A"
kk $B delete "$pb2" --yes
sl_wait 10 "the delete on A" sl_deleted $A "$pb2"
echo "  delete reached A after $waited_ms ms"
k $A --json show "$pb2"
case "$out$err" in *"Bob's post that he will delete"*) fail "A still has the deleted body" ;; esac
kk $A read --group Walkers
hasnt "Bob's post that he will delete"
sl_wait 10 "digests agree after the delete" sl_same "$gid" $A $B

say "a second group that B is not in never reaches B: not its name, not its id"
secret_name="Secret circle of kestrels"
sid=$(sl_group $A "$secret_name")
ps1=$(sl_post $A "$secret_name" "A post in the secret circle")
kk $A sync --peer "$(sl_addr $B)"
has "Synced with 1 node"
[ -n "$(sl_set $A "$sid")" ] || fail "A holds no sync set for its second group"
kk $B --json group list
jqt '.groups | length == 1 and .[0].name == "Walkers"'
[ -z "$(sl_set $B "$sid")" ] || fail "B holds a sync set for the secret group"
k $B show "$ps1"
[ "$rc" -ne 0 ] || fail "B shows a post of the secret group"
for pat in "$secret_name" "kestrel" "$sid" "${sid:0:8}"; do
    ! grep -qi -- "$pat" "$(sl_log $B)" || fail "B's log contains \"$pat\""
done

say "a node in no group (C) syncs with A and learns nothing"
sl_start $C
k $A sync --peer "$(sl_addr $C)"
[ "$rc" -eq 1 ] || fail "sync with C exited $rc: $out $err"
[ "$err" = "kith: could not sync with $(sl_addr $C): it shares no group with this node" ] ||
    fail "sync with C: $err"
kk $C --json status
jqt '.sync.sets == [] and .posts == 0'
for pat in "$secret_name" "kestrel" "Walkers" "$sid" "${sid:0:8}" "$gid" "${gid:0:8}"; do
    ! grep -qi -- "$pat" "$(sl_log $C)" || fail "C's log contains \"$pat\""
done
sl_stop $C

say "kith sync with a stopped node fails with one line"
port_b=${SL_PORT[$B]}
base=$(sl_items $B "$gid")
sl_stop $B
k $A sync --peer "$(sl_addr $B)"
[ "$rc" -eq 1 ] || fail "sync with a stopped node exited $rc: $out $err"
[ "$err" = "kith: could not sync with $(sl_addr $B): connection refused" ] ||
    fail "wrong failure line: $err"
k $A --json sync --peer "$(sl_addr $B)"
[ "$rc" -eq 1 ] || fail "sync --json with a stopped node exited $rc"
jqt '.state == "failed" and .peers_failed == 1 and .errors[0].address == $a' --arg a "$(sl_addr $B)"
kk $A --json peers
jqt '.peers[] | select(.address == $a) | .last_error == "ECONNREFUSED"' --arg a "$(sl_addr $B)"

say "A writes 500 posts of 48 KiB while B is down"
t0=$(sl_ms)
sl_bulk_posts $A alice Walkers 500 48000
echo "  500 posts written in $(($(sl_ms) - t0)) ms"
target=$(sl_items $A "$gid")
[ "$target" -eq $((base + 500)) ] || fail "A holds $target items, expected $((base + 500))"

say "B restarts; kill -9 of B in the middle of the transfer"
# Debug logging: B logs peer.stored after each batch it commits (5 posts of
# 48 KiB), and is killed at the 20th.
sl_kill9_on_log $B " peer.stored " 20
sl_start $B --log-level debug
[ "${SL_PORT[$B]}" = "$port_b" ] || fail "B came back on another port"
# A may redial B by itself (its backoff); kith sync makes it now.
"$KITH" --socket "$(sl_sock $A)" sync --peer "$(sl_addr $B)" >"$SL_TMP/bulk.out" 2>"$SL_TMP/bulk.err" &
bulk=$!
sl_kill9_wait $B
wait $bulk && bulk_rc=0 || bulk_rc=$?
echo "  killed B at its 20th stored batch; kith sync on A exit $bulk_rc:" \
    "$(tail -n 1 "$SL_TMP/bulk.err")"
[ "$bulk_rc" -le 1 ] || fail "kith sync during the kill exited $bulk_rc: $(cat "$SL_TMP/bulk.err")"

say "B restarts after kill -9; sync again converges"
sl_start $B
after_kill=$(sl_items $B "$gid")
# B ran with debug logging only in that session: what it logged as stored
# (committed) before the kill must all be there after it.
logged=$(sed -n 's/.* peer\.stored .*posts=\([0-9]*\).*/\1/p' "$(sl_log $B)" | awk '{ n += $1 } END { print n + 0 }')
[ "$logged" -gt 0 ] || fail "B logged no stored batch"
[ "$after_kill" -ge $((base + logged)) ] ||
    fail "B lost posts it had committed: holds $((after_kill - base)), logged $logged as stored"
[ "$after_kill" -lt "$target" ] || fail "B got every post before the kill: not mid-transfer"
echo "  B holds $((after_kill - base)) of the 500 after the restart"
t0=$(sl_ms)
kk $A sync --peer "$(sl_addr $B)" --timeout 120
t_resume=$(($(sl_ms) - t0))
has "Synced with 1 node" # A may have redialled B by itself already
progress_only
sl_same "$gid" $A $B || fail "digests differ after the resumed sync"
[ "$(sl_items $B "$gid")" -eq "$target" ] || fail "B holds $(sl_items $B "$gid") of $target"
echo "  resumed sync of $((target - after_kill)) posts took $t_resume ms;" \
    "$(printf '%s' "$err" | grep -c '^sync: ' || true) progress lines on stderr"
sl_unlock $B bob
kk $B read --group Walkers --limit 1000
has "Bulk post 500"
has "Bulk post 1"

say "both nodes stop cleanly"
sl_stop $A
sl_stop $B
sl_logs_clean
echo "sync_two: all passed in $(sl_ms) ms (first sync $t_sync ms, live push $t_live ms," \
    "resume $t_resume ms)"
