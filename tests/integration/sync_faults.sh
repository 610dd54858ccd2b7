#!/usr/bin/env bash
# shellcheck disable=SC2016 # jq filters take $vars from --arg: single quotes are meant
# shellcheck source-path=SCRIPTDIR
# sync_faults.sh: a sync node under faults (issue 3).
#
# Two honest nodes A and B share a group (an invite); kith-rogue
# (tests/tools/kith_rogue.c) connects to A and misbehaves in every way it
# knows: garbage before and after the handshake, a handshake message and
# session messages over the limits, a peer that stalls half-way through a
# frame, messages out of order or naming a group index never proved, a
# malformed Negentropy message, a
# replayed handshake message 3 and a replayed PROOF, a batch of 300 valid
# posts ending in a forged one, a forged PUSH, undecryptable posts, a post of
# a group nobody proved, a peer in no common group. For each: the rogue sees A
# close the connection the expected way (ERROR with the right code, BYE, or a
# silent close during the handshake), A logs it, A backs the rogue's key off
# with the right last_error, A stored nothing the rogue sent (its sync set
# digest is unchanged), and A keeps serving: a new post on B reaches A and
# their digests agree.
#
# Then A holds ~2,000 posts. A node C in another group connects to A and gets
# no post and no group name (nothing of A's group in C's data dir, sets or
# log). The rogue cuts a transfer from A with a reset half-way; A serves on.
# B syncs through a throttling TCP proxy that resets the connection half-way
# through the transfer: B keeps every post it had stored (its count never
# goes down), and the next sync resumes, moves only what is missing and
# converges.
#
# Needs: KITHD, KITH, KITH_ROGUE (set by ctest), jq, python3. Private temp
# dir, removed at the end (SL_KEEP=1 keeps it).
set -euo pipefail

export SL_NAME=sync_faults
# shellcheck source=lib/sync-lib.bash
. "$(dirname "$0")/lib/sync-lib.bash"
: "${KITH_ROGUE:?set KITH_ROGUE to the kith-rogue binary}"

A=1
B=2
C=3
GROUP="Walkers of Kestrel Lane"
BULK=2000

# The proxy (a child of this shell) is killed with the nodes.
proxy_pid=""
faults_cleanup() {
    [ -z "$proxy_pid" ] || kill -KILL "$proxy_pid" 2>/dev/null || true
    sl_cleanup
}
trap faults_cleanup EXIT

# log_mark I: remember where node I's log ends now (for log_wait).
log_mark() {
    mark=$(stat -c %s "$(sl_log "$1")")
}

# log_has I REGEX: node I logged a line matching REGEX since log_mark.
log_has() {
    tail -c +"$((mark + 1))" "$(sl_log "$1")" | grep -qE "$2"
}

# rogue MODE [ARGS...]: run kith-rogue against A; it must exit 0 (the node
# did what it should). Sets $rogue_out (its stdout), $rkey (its node key),
# $rlocal (its address on its first connection), $rlocals (all of them).
rogue() {
    local mode=$1 rrc=0
    shift
    "$KITH_ROGUE" --connect "$(sl_addr $A)" --mode "$mode" --timeout 10 "$@" \
        >"$SL_TMP/rogue-$mode.out" 2>&1 || rrc=$?
    rogue_out=$(cat "$SL_TMP/rogue-$mode.out")
    grep -E '^(result|sent|session|cut|reconciled|the node)' "$SL_TMP/rogue-$mode.out" |
        sed 's/^/  rogue: /' || true
    [ "$rrc" -eq 0 ] || fail "kith-rogue --mode $mode exited $rrc: $rogue_out"
    rkey=$(sed -n 's/^key //p' <<<"$rogue_out")
    rlocals=$(sed -n 's/^local //p' <<<"$rogue_out")
    rlocal=$(head -n 1 <<<"$rlocals")
}

# a_entry KEY: A's peers entry for node KEY (JSON), "null" if none.
a_entry() {
    out=$(sl_request $A '{"id":1,"cmd":"peers"}')
    printf '%s' "$out" | jq -c --arg k "$1" '[.result.peers[] | select(.node_key == $k)][0]'
}

# backed_off KEY ERROR: A lists node KEY in backoff with last_error ERROR.
backed_off() {
    local e
    e=$(a_entry "$1")
    printf '%s' "$e" | jq -e --arg err "$2" \
        '.state == "backoff" and .last_error == $err and .posts_received == 0' >/dev/null ||
        fail "A does not back off the rogue with $2: $e"
}

# serving WHAT: A still serves B: a new post on B, kith sync on B, equal
# digests; A's item count grew by exactly that post.
serving() {
    local before after
    before=$(sl_items $A "$gid")
    sl_post $B "$GROUP" "Bob's honest post after the $1 FAULTMARK" >/dev/null
    kk $B sync --peer "$(sl_addr $A)"
    sl_wait 10 "A and B agree after the $1" sl_same "$gid" $A $B
    after=$(sl_items $A "$gid")
    [ "$after" -eq $((before + 1)) ] || fail "A holds $after items after the $1, expected $((before + 1))"
    kill -0 "${SL_PID[$A]}" || fail "A died"
}

# unchanged: A's set is what it was before the rogue ran ($set_before).
unchanged() {
    [ "$(sl_set $A "$gid")" = "$set_before" ] ||
        fail "A's set changed while only the rogue talked to it: $(sl_set $A "$gid") vs $set_before"
}

say "A and B; a group on A joined on B; A gives up a stalled handshake after 2 s"
mkdir -p "$(sl_dir $A)"
printf '[sync]\nhandshake_timeout_seconds = 2\n' >"$(sl_dir $A)/kithd.conf"
sl_start $A
sl_start $B
sl_account $A alice
sl_account $B bob
gid=$(sl_group $A "$GROUP")
sl_invite_join $A "$GROUP" $B
kk $A --json invite --group "$GROUP"
code=$(printf '%s' "$out" | jq -r .code)
sl_post $A "$GROUP" "Alice's first post FAULTMARK: the ramp at the library is fixed" >/dev/null
sl_post $B "$GROUP" "Bob's first post FAULTMARK: the lift at the station is out again" >/dev/null
kk $B sync --peer "$(sl_addr $A)"
sl_same "$gid" $A $B || fail "A and B differ after their first sync"

# Modes whose fault is found after the handshake: the rogue gets ERROR (or
# BYE), A logs peer.error with its key, backs it off, stores nothing.
for spec in garbage:KITH_EDECRYPT oversize:KITH_ETOOBIG oversize-want:KITH_ETOOBIG \
    order:KITH_EPROTOCOL badindex:KITH_EPROTOCOL badrecon:KITH_EENCODING foreign:KITH_EPROTOCOL \
    forged:KITH_ESIGNATURE forged-push:KITH_ESIGNATURE undecryptable:KITH_EDECRYPT; do
    mode=${spec%%:*}
    errname=${spec#*:}
    say "rogue $mode: A ends the session with ERROR $errname, backs the rogue off, serves on"
    set_before=$(sl_set $A "$gid")
    log_mark $A
    # forged: 300 valid posts, then the forged one, in one POSTS batch (so
    # the threadpool verifies it in parts): A must store none of them.
    rogue "$mode" --invite "$code" --count 300
    sl_wait 5 "A logs the $mode" log_has $A " peer\.error peer=${rkey:0:8} via=tcp-in $rlocal error=$errname"
    case $mode in
    forged | forged-push | undecryptable | foreign)
        if [ "$mode" != foreign ]; then
            sl_wait 5 "A logs the bad post" log_has $A " peer\.bad_post peer=${rkey:0:8} .*error=$errname"
        fi
        ids=$(sed -n 's/^sent post .*: id //p' <<<"$rogue_out")
        for id in $(head -n 2 <<<"$ids") $(tail -n 1 <<<"$ids"); do
            k $A show "$id"
            [ "$rc" -ne 0 ] || fail "A shows post $id that the rogue sent"
        done
        ;;
    esac
    backed_off "$rkey" "$errname"
    unchanged
    serving "$mode"
done

say "a rogue that sent a forged post and comes straight back as the same node is refused"
skey=$(printf '5a%.0s' $(seq 32))
rogue forged --invite "$code" --count 1 --key "$skey"
backed_off "$rkey" KITH_ESIGNATURE
rogue probe --key "$skey"
grep -q '^result: .*closed after BYE [0-9]* (busy)' <<<"$rogue_out" ||
    fail "A accepted a backed-off node again: $rogue_out"
backed_off "$rkey" KITH_ESIGNATURE

# Modes whose fault is found during the handshake: A closes without a word
# (PROTOCOL.md: handshake failures are not explained); no key is known, so
# the log names the connection.
for spec in garbage-hs:KITH_E oversize-hs:KITH_EBUFSIZE stall:ETIMEDOUT; do
    mode=${spec%%:*}
    errname=${spec#*:}
    say "rogue $mode: A closes the connection during the handshake, serves on"
    set_before=$(sl_set $A "$gid")
    log_mark $A
    t0=$(sl_ms)
    rogue "$mode"
    t_close=$(($(sl_ms) - t0))
    sl_wait 5 "A logs the $mode" log_has $A " peer\.closed peer=00000000 via=tcp-in $rlocal error=$errname"
    if [ "$mode" = stall ]; then
        # handshake_timeout_seconds = 2 in A's config.
        if [ "$t_close" -lt 1500 ] || [ "$t_close" -ge 6000 ]; then
            fail "A closed the stalled connection after $t_close ms, expected about 2000"
        fi
        echo "  the stalled connection was closed after $t_close ms"
    fi
    unchanged
    serving "$mode"
done

say "rogue endless: a member that answers every RECON with 'everything differs' is cut off"
set_before=$(sl_set $A "$gid")
eport=$((20000 + RANDOM % 20000))
"$KITH_ROGUE" --listen "$eport" --mode endless --invite "$code" --timeout 20 \
    >"$SL_TMP/rogue-endless.out" 2>&1 &
epid=$!
sl_wait 5 "the endless rogue listens" grep -q '^listening' "$SL_TMP/rogue-endless.out"
log_mark $A
k $A sync --peer "127.0.0.1:$eport" --timeout 30
[ "$rc" -ne 0 ] || fail "kith sync with the endless rogue succeeded"
sl_wait 10 "A ends the endless session" log_has $A " peer\.error peer=.* error=KITH_EPROTOCOL"
kill "$epid" 2>/dev/null || true
wait "$epid" 2>/dev/null || true
unchanged
serving endless

say "rogue nogroup: a peer that proves no group of A's gets BYE (no groups) and nothing else"
set_before=$(sl_set $A "$gid")
log_mark $A
rogue nogroup
sl_wait 5 "A logs the no-group session" log_has $A " peer\.groups peer=${rkey:0:8} offered=2 common=0"
backed_off "$rkey" KITH_ENOTMEMBER
unchanged

say "rogue replay: message 3 and a PROOF from an earlier session are refused in a new one"
set_before=$(sl_set $A "$gid")
log_mark $A
rogue replay --invite "$code"
while read -r l; do
    sl_wait 5 "A logs the replayed handshake from $l" \
        log_has $A " peer\.error peer=00000000 via=tcp-in $l error=KITH_EDECRYPT"
done < <(sed -n '2,3p' <<<"$rlocals")
l4=$(sed -n '4p' <<<"$rlocals")
sl_wait 5 "A logs the replayed PROOF" log_has $A " peer\.groups peer=${rkey:0:8} offered=1 common=0"
log_has $A " peer\.bye peer=${rkey:0:8} via=tcp-in $l4 reason=3 sent=1" ||
    fail "A did not end the replayed-PROOF session with BYE no groups"
backed_off "$rkey" KITH_ENOTMEMBER
unchanged
serving replay

say "A writes $BULK posts while B is stopped"
sl_stop $B
t0=$(sl_ms)
python3 - "$(sl_sock $A)" alice "$KITH_PASSPHRASE" "$GROUP" "$BULK" <<'PY' || fail "bulk posting failed"
# Pipelined post.create requests on one control connection (64 in flight).
import json, socket, sys
path, name, pw, group, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
s = socket.socket(socket.AF_UNIX)
s.settimeout(60)
s.connect(path)
f = s.makefile("rwb")
def check(line):
    r = json.loads(line)
    if not r.get("ok"):
        sys.exit("bulk: %s" % r)
    return r["result"]
f.write((json.dumps({"id": 0, "cmd": "account.unlock", "name": name, "passphrase": pw}) + "\n").encode())
f.flush()
sess = check(f.readline())["session"]
filler = ("the quick brown fox jumps over the lazy dog " * 24)[:1000]
sent = got = 0
while got < n:
    while sent < n and sent - got < 64:
        sent += 1
        req = {"id": sent, "cmd": "post.create", "session": sess, "group": group,
               "title": "Bulk %d" % sent, "body": "BULKMARK %d %s" % (sent, filler)}
        f.write((json.dumps(req) + "\n").encode())
    f.flush()
    check(f.readline())
    got += 1
PY
echo "  $BULK posts of about 1 KB written in $(($(sl_ms) - t0)) ms"
total=$(sl_items $A "$gid")

say "C, in another group only, connects to A: no post, no group name"
sl_start $C
sl_account $C carol
cgid=$(sl_group $C "Quilters")
sl_post $C Quilters "Carol's own post about quilting" >/dev/null
c_items=$(sl_items $C "$cgid")
k $C sync --peer "$(sl_addr $A)"
[ "$rc" -le 1 ] || fail "kith sync on C exited $rc: $err"
key_c=$(sl_peer_key $C)
c_refused() {
    [ "$(a_entry "$key_c" | jq -r .last_error)" = KITH_ENOTMEMBER ]
}
sl_wait 10 "A saw C's session end with no common group" c_refused
[ -z "$(sl_set $C "$gid")" ] || fail "C holds a sync set for A's group"
[ "$(sl_items $C "$cgid")" -eq "$c_items" ] || fail "C's own set changed"
kk $C --json status
jqt '.sync.sets | length == 1'
kk $C --json peers
jqt '.peers | all(.posts_received == 0)'
# The group id travels in the clear in every sealed post: a post of A's in
# C's store would show it. The name and the marker must not be anywhere.
python3 - "$(sl_dir $C)" "$gid" "$GROUP" <<'PY' || fail "C's data dir holds something of A's group"
import os, sys
root, gid, name = sys.argv[1], bytes.fromhex(sys.argv[2]), sys.argv[3].encode()
needles = [gid, gid.hex().encode(), name, b"BULKMARK", b"FAULTMARK", b"Kestrel"]
for d, _, files in os.walk(root):
    for f in files:
        p = os.path.join(d, f)
        try:
            data = open(p, "rb").read()
        except OSError:
            continue  # the control socket
        for n in needles:
            if n in data:
                sys.exit("%s contains %r" % (p, n[:16]))
PY
for pat in "$GROUP" Kestrel "$gid" "${gid:0:8}" BULKMARK FAULTMARK; do
    if grep -qF -- "$pat" "$(sl_log $C)"; then
        fail "C's log mentions \"$pat\""
    fi
done
if grep -qF Quilters "$(sl_log $A)"; then
    fail "A's log names C's group"
fi

say "rogue truncate: it WANTs all $total posts and resets the connection after the first batch"
set_before=$(sl_set $A "$gid")
log_mark $A
rogue truncate --invite "$code"
grep -q "reconciled: the node holds $total posts we lack" <<<"$rogue_out" ||
    fail "the rogue did not learn of all $total posts"
sl_wait 5 "A logs the cut" log_has $A " peer\.closed peer=${rkey:0:8} via=tcp-in $rlocal error=ECONNRESET"
unchanged

say "B syncs through a proxy that resets the connection half-way through the transfer"
sl_start $B
sl_unlock $B bob
base=$(sl_items $B "$gid")
python3 - "$SL_TMP/proxy.port" "${SL_PORT[$A]}" 1200000 <<'PY' &
# A TCP proxy for one connection to 127.0.0.1:TARGET. Bytes from the target
# go on at about 4 MB/s (so the cut falls mid-transfer whatever the machine);
# after CUT of them both sides are reset (SO_LINGER 0), as a pulled cable.
import os, select, socket, struct, sys, time
portfile, target, cut = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(1)
with open(portfile + ".tmp", "w") as f:
    f.write(str(ls.getsockname()[1]))
os.rename(portfile + ".tmp", portfile)
ls.settimeout(30)
down, _ = ls.accept()
up = socket.create_connection(("127.0.0.1", target))
sent, t0 = 0, time.monotonic()
while sent < cut:
    r, _, _ = select.select([down, up], [], [], 30)
    if not r:
        break
    if down in r:
        d = down.recv(65536)
        if not d:
            break
        up.sendall(d)
    if up in r:
        d = up.recv(min(16384, cut - sent))
        if not d:
            break
        down.sendall(d)
        sent += len(d)
        ahead = sent / 4e6 - (time.monotonic() - t0)
        if ahead > 0:
            time.sleep(ahead)
for s in (down, up):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
print("proxy: reset both sides after %d bytes from A" % sent)
PY
proxy_pid=$!
sl_wait 10 "the proxy listens" test -s "$SL_TMP/proxy.port"
pport=$(cat "$SL_TMP/proxy.port")
k $B sync --peer "127.0.0.1:$pport" --timeout 30
echo "  kith sync through the proxy: exit $rc, $(tail -n 1 <<<"$err")"
[ "$rc" -le 1 ] || fail "kith sync through the proxy exited $rc: $err"
wait "$proxy_pid" || fail "the proxy failed"
proxy_pid=""
at_cut=$(sl_items $B "$gid")
echo "  B stored $((at_cut - base)) of $((total - base)) missing posts before the cut"
[ "$at_cut" -gt "$base" ] || fail "B stored nothing before the cut ($at_cut)"
[ "$at_cut" -lt "$total" ] || fail "B got everything before the cut: not mid-transfer"
kk $B --json peers
recv_before=$(printf '%s' "$out" | jq '[.peers[].posts_received] | add')

say "the next sync resumes: only the missing posts move, B's count never goes down"
t0=$(sl_ms)
kk $B sync --peer "$(sl_addr $A)" --timeout 60
t_resume=$(($(sl_ms) - t0))
sl_wait 10 "A and B agree after the resumed sync" sl_same "$gid" $A $B
final=$(sl_items $B "$gid")
[ "$final" -eq "$total" ] || fail "B holds $final items, A $total"
[ "$final" -ge "$at_cut" ] || fail "B's count went down: $at_cut -> $final"
kk $B --json peers
recv_after=$(printf '%s' "$out" | jq '[.peers[].posts_received] | add')
moved=$((recv_after - recv_before))
[ "$moved" -eq $((total - at_cut)) ] ||
    fail "the resumed sync stored $moved posts on B, expected the $((total - at_cut)) missing"
echo "  resumed sync moved $moved posts in $t_resume ms"
last=$(sl_post $A "$GROUP" "Alice's last post FAULTMARK after the faults")
sl_wait 10 "A's last post reaches B live" sl_show_has $B "$last" "last post FAULTMARK"

say "A never crashed; no node logged a sanitizer report or an error event"
for i in $A $B $C; do
    kill -0 "${SL_PID[$i]}" || fail "node $i died"
done
sl_stop $A
sl_stop $B
sl_stop $C
sl_logs_clean
say "ok ($(sl_ms) ms)"
