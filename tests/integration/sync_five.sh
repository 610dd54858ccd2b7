#!/usr/bin/env bash
# shellcheck disable=SC2016 # jq filters take $vars from --arg: single quotes are meant
# shellcheck source-path=SCRIPTDIR
# sync_five.sh: five real kithd nodes on loopback converge (issue 3).
#
# All five are in the group "Circle"; nodes 2, 3 and 5 are also in "Trio".
# Every node writes before any connection. Nodes 2-5 are then restarted
# with a config file naming the previous node ([sync] peer = ...), making a
# chain 1-2-3-4-5: Circle converges on all five with no `kith sync`, posts
# passing through the middle nodes. Trio does not pass through node 4 (not a
# member): node 4 never holds it nor logs its name or id, and node 5 only
# gets it after `kith sync --peer` with node 3. Deletes reach every member.
# Then two more nodes with discovery on and no configured peer find each
# other on the LAN and converge by themselves.
#
# Needs: KITHD and KITH (set by ctest), jq, python3. Private temp dir,
# removed at the end (SL_KEEP=1 keeps it).
set -euo pipefail

export SL_NAME=sync_five
. "$(dirname "$0")/lib/sync-lib.bash"

nodes=(1 2 3 4 5)

say "start five nodes (no discovery), an account on each"
for i in "${nodes[@]}"; do
    sl_start "$i"
    sl_account "$i" "member$i"
done

say "Circle made on node 1 and joined on all; Trio made on node 2 and joined on 3 and 5"
circle=$(sl_group 1 Circle)
sl_invite_join 1 Circle 2 3 4 5
trio_name="Trio of herons"
trio=$(sl_group 2 "$trio_name")
sl_invite_join 2 "$trio_name" 3 5

say "each node writes in Circle (posts and a reply), members of Trio write there too"
declare -A circle_post trio_post
for i in "${nodes[@]}"; do
    circle_post[$i]=$(sl_post "$i" Circle "Node $i says hello to the circle")
    sl_post "$i" Circle "Node $i's second post about direct payments" >/dev/null
    sl_reply "$i" "${circle_post[$i]}" "Node $i replies to itself" >/dev/null
done
for i in 2 3 5; do
    trio_post[$i]=$(sl_post "$i" "$trio_name" "Node $i writes in the trio")
done
total=0
for i in "${nodes[@]}"; do
    total=$((total + $(sl_items "$i" "$circle")))
done
# Nothing is shared yet: each node holds only what it wrote (its posts and
# its profile post), so the union of the sets is the sum of their sizes.
echo "  $total items in Circle across the five nodes"

say "restart nodes 2-5 with a config file naming the previous node: a chain"
for i in 2 3 4 5; do
    printf '[sync]\npeer = %s\n' "$(sl_addr $((i - 1)))" >"$(sl_dir "$i")/kithd.conf"
    sl_stop "$i"
    sl_start "$i"
done
t0=$(sl_ms)
sl_wait 60 "Circle converges on all five" sl_same "$circle" "${nodes[@]}"
t_chain=$(($(sl_ms) - t0))
echo "  the chain converged in $t_chain ms"
[ "$(sl_items 1 "$circle")" -eq "$total" ] || fail "node 1 holds $(sl_items 1 "$circle") of $total"
kk 5 --json peers
jqt '.peers | length == 1 and .[0].source == "config" and .[0].address == $a' --arg a "$(sl_addr 4)"
kk 3 --json peers
jqt '[.peers[] | .source] | sort == ["config", "inbound"]'

say "Trio does not pass through node 4, which is not in it"
sl_same "$trio" 2 3 || fail "Trio differs between nodes 2 and 3 (directly connected)"
[ -z "$(sl_set 4 "$trio")" ] || fail "node 4 holds a set for Trio"
! sl_same "$trio" 3 5 || fail "node 5 has all of Trio without a path of members"
for pat in "$trio_name" "herons" "$trio" "${trio:0:8}"; do
    for i in 1 4; do
        ! grep -qi -- "$pat" "$(sl_log "$i")" || fail "node $i's log contains \"$pat\""
    done
done

say "node 5 syncs with node 3: Trio converges on its members"
kk 5 sync --peer "$(sl_addr 3)"
has "Synced with 1 node: got "
sl_wait 20 "Trio converges on 2, 3, 5" sl_same "$trio" 2 3 5
sl_same "$circle" "${nodes[@]}" || fail "Circle differs after the Trio sync"
if [ -n "$(sl_set 4 "$trio")" ] || [ -n "$(sl_set 1 "$trio")" ]; then
    fail "node 1 or 4 holds Trio"
fi
for i in 2 3 5; do
    sl_unlock "$i" "member$i"
    kk "$i" --json group list
    jqt '.groups | length == 2'
done
sl_unlock 4 member4
kk 4 --json group list
jqt '.groups | length == 1 and .[0].name == "Circle"'

say "deletes reach every member"
sl_unlock 1 member1
kk 1 delete "${circle_post[1]}" --yes
kk 5 delete "${trio_post[5]}" --yes
t0=$(sl_ms)
for i in "${nodes[@]}"; do
    sl_wait 30 "the Circle delete on node $i" sl_deleted "$i" "${circle_post[1]}"
done
for i in 2 3; do
    sl_wait 30 "the Trio delete on node $i" sl_deleted "$i" "${trio_post[5]}"
done
echo "  deletes reached every member in $(($(sl_ms) - t0)) ms"
sl_wait 30 "Circle digests agree after the delete" sl_same "$circle" "${nodes[@]}"
sl_wait 30 "Trio digests agree after the delete" sl_same "$trio" 2 3 5
for i in "${nodes[@]}"; do
    k "$i" --json show "${circle_post[1]}"
    case "$out$err" in *"Node 1 says hello"*) fail "node $i still has the deleted body" ;; esac
done

say "kith sync on node 3 with every node it knows: nothing left to move"
kk 3 --json peers
live=$(printf '%s' "$out" | jq '[.peers[] | select(.state == "live")] | length')
[ "$live" -ge 2 ] || fail "node 3 has $live live peers: $out"
kk 3 sync
has "Synced with $live nodes: both sides already had the same posts."
for i in "${nodes[@]}"; do
    sl_stop "$i"
done
echo "  five nodes: chain $t_chain ms"

# ---------------------------------------------------------------- discovery
# Two nodes with discovery on, no configured peer, on a private beacon port
# (so that other tests or nodes on the LAN are not heard).
mcast_ok() {
    python3 - "$1" <<'PY'
import socket, struct, sys
port = int(sys.argv[1])
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
r.bind(("", port))
r.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
             struct.pack("4s4s", socket.inet_aton("239.255.77.11"), socket.inet_aton("0.0.0.0")))
r.settimeout(2)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
s.sendto(b"kith-test", ("239.255.77.11", port))
sys.exit(0 if r.recv(64) == b"kith-test" else 1)
PY
}
dport=$((20000 + RANDOM % 30000))
if ! mcast_ok "$dport" 2>/dev/null; then
    say "SKIPPED the discovery part: UDP multicast to 239.255.77.11 does not loop back here"
    sl_logs_clean
    echo "sync_five: all passed in $(sl_ms) ms (discovery skipped)"
    exit 0
fi

say "two nodes with discovery on and no configured peer find each other and converge"
for i in 6 7; do
    mkdir -p "$(sl_dir "$i")"
    printf '[sync]\ndiscovery_port = %d\nbeacon_interval_seconds = 2\n' "$dport" \
        >"$(sl_dir "$i")/kithd.conf"
done
sl_start 6 --discover --listen 0.0.0.0:0
sl_start 7 --discover --listen 0.0.0.0:0
sl_account 6 member6
sl_account 7 member7
g=$(sl_group 6 "Neighbours")
sl_invite_join 6 Neighbours 7
p6=$(sl_post 6 Neighbours "Node 6 found the others by itself")
p7=$(sl_post 7 Neighbours "Node 7 too")
t0=$(sl_ms)
sl_wait 60 "the discovered nodes converge" sl_same "$g" 6 7
t_disc=$(($(sl_ms) - t0))
sl_wait 10 "node 7 shows node 6's post" sl_show_has 7 "$p6" "found the others"
sl_show_has 6 "$p7" "Node 7 too" || fail "node 6 does not show node 7's post"
kk 6 --json peers
jqt '[.peers[] | select(.node_key == $k)] | length == 1' --arg k "$(sl_peer_key 7)"
kk 6 --json peers
jqt '[.peers[] | .source] | index("discovery") != null'
echo "  discovery: converged $t_disc ms after the posts were written"
sl_stop 6
sl_stop 7
sl_logs_clean
echo "sync_five: all passed in $(sl_ms) ms (chain $t_chain ms, discovery $t_disc ms)"
