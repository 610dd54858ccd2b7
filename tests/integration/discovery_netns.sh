#!/usr/bin/env bash
# shellcheck disable=SC2016 # jq filters take $vars from --arg: single quotes are meant
# shellcheck source-path=SCRIPTDIR
# discovery_netns.sh: nodes on one LAN find each other with no configured
# peer (issue 3). Needs root: it builds the LAN out of network namespaces.
#
# A bridge and four network namespaces, each joined to the bridge by a veth
# pair, multicast on every link, lo up in each: n1 and n2 have IPv4
# (10.77.0.0/24) and IPv6 link-local addresses, n3 only IPv6 link-local
# (beacons and sync over fe80::), n4 only IPv4 (IPv6 disabled). A kithd runs
# in each namespace with discovery on (the default), listening on [::]:7711,
# and no peer in its config. One group, made on n1, is joined on the others
# with invite codes, and posts are written on three of them. With no
# `kith sync` at all the four converge to one sync set digest; a post
# written afterwards on the IPv6-only node reaches the IPv4-only one (through
# the dual-stack ones) and every other; `kith peers` shows peers found by
# discovery, over IPv6 link-local on n3 and IPv4 on n4.
#
# Cleanup (trap, also on failure): the daemons are killed, then the
# namespaces, veths and bridge removed. Names carry $$ so parallel runs do
# not clash. Exits 77 (ctest: skipped) when not root or `ip netns` does not
# work (iproute2 is the Debian package).
set -euo pipefail

skip() {
    echo "discovery_netns: SKIP: $*"
    exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root to create network namespaces"
command -v ip >/dev/null || skip "no ip command (install iproute2)"

N=4
ID=$$
NS=kith$ID-     # namespaces kithPID-1 .. kithPID-4
BR=kbr$ID       # the bridge (interface names: at most 15 characters)
VH=kv${ID}h     # host ends of the veths, VH1 .. VH4
VN=kv${ID}n     # namespace ends
created_ns=()

netns_cleanup() {
    local i
    # The daemons first: a namespace with a process in it outlives `ip netns del`.
    if declare -F sl_cleanup >/dev/null; then
        sl_cleanup
    fi
    for i in "${created_ns[@]}"; do
        ip netns del "$NS$i" 2>/dev/null || true
        ip link del "$VH$i" 2>/dev/null || true
    done
    ip link del "$BR" 2>/dev/null || true
}
trap netns_cleanup EXIT

ip netns add "${NS}1" 2>/dev/null || skip "ip netns add failed (no permission or no netns support)"
created_ns+=(1)

export SL_NAME=discovery_netns
REAL_KITHD=${KITHD:?set KITHD to the kithd binary}
# shellcheck source=lib/sync-lib.bash
. "$(dirname "$0")/lib/sync-lib.bash"
trap netns_cleanup EXIT # the lib set its own; ours calls it

say "a bridge and $N namespaces with veths (n1, n2 dual stack; n3 IPv6 only; n4 IPv4 only)"
ip link add "$BR" type bridge
# No IGMP/MLD snooping: with no querier on this LAN it could drop beacons.
ip link set "$BR" type bridge mcast_snooping 0
ip link set "$BR" multicast on up
for i in $(seq 1 $N); do
    [ "$i" -eq 1 ] || {
        ip netns add "$NS$i"
        created_ns+=("$i")
    }
    nx() { ip netns exec "$NS$i" "$@"; }
    nx ip link set lo up
    # Link-local addresses usable at once (no duplicate address detection).
    nx sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0
    if [ "$i" -eq 4 ]; then
        nx sysctl -qw net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.all.disable_ipv6=1
    fi
    ip link add "$VH$i" type veth peer name "$VN$i" netns "$NS$i"
    ip link set "$VH$i" master "$BR" multicast on up
    nx ip link set "$VN$i" multicast on up
    if [ "$i" -ne 3 ]; then
        nx ip addr add "10.77.0.$i/24" dev "$VN$i"
    fi
done

# kithd runs in the namespace of its node: a wrapper picks it from --data.
cat >"$SL_TMP/kithd-in-netns" <<EOF
#!/bin/sh
# Run kithd in the network namespace of the node whose data dir is given.
prev=""
for a; do
    [ "\$prev" = "--data" ] && d=\$a
    prev=\$a
done
exec ip netns exec "$NS\${d##*/n}" "$REAL_KITHD" "\$@"
EOF
chmod +x "$SL_TMP/kithd-in-netns"
KITHD=$SL_TMP/kithd-in-netns

# wait_link_local I: node I's namespace has its IPv6 link-local address.
wait_link_local() {
    ip netns exec "$NS$1" ip -6 addr show dev "$VN$1" scope link | grep -q 'inet6 fe80::'
}

say "a kithd in each namespace: discovery on, no configured peer, listening on [::]:7711"
for i in $(seq 1 $N); do
    [ "$i" -eq 4 ] || sl_wait 10 "n$i's link-local address" wait_link_local "$i"
    sl_start "$i" --discover --listen "[::]:7711"
    [ "${SL_PORT[$i]}" = 7711 ] || fail "node $i listens on port ${SL_PORT[$i]}"
done
for i in $(seq 1 $N); do
    ! grep -q ' discovery\.no_interfaces \| sync\.no_discovery ' "$(sl_log "$i")" ||
        fail "node $i has no discovery: $(grep -m1 'no_' "$(sl_log "$i")")"
done

say "one group made on n1, joined on the others with invite codes; posts on n1, n2, n3"
sl_account 1 ada
sl_account 2 ben
sl_account 3 cai
sl_account 4 dee
gid=$(sl_group 1 "Riverside access group")
sl_invite_join 1 "Riverside access group" 2 3 4
p1=$(sl_post 1 "Riverside access group" "Ada NETNSMARK1: the new bus ramps work well")
p2=$(sl_post 2 "Riverside access group" "Ben NETNSMARK2: audio description at the cinema on Tuesday")
p3=$(sl_post 3 "Riverside access group" "Cai NETNSMARK3: who knows a BSL interpreter for Friday")

say "the four nodes find each other and converge, with no kith sync"
t0=$(sl_ms)
sl_wait 30 "all four nodes agree" sl_same "$gid" 1 2 3 4
echo "  converged $(($(sl_ms) - t0)) ms after the last post: $(sl_set 1 "$gid")"
for i in $(seq 1 $N); do
    for p in "$p1" "$p2" "$p3"; do
        sl_show_has "$i" "$p" NETNSMARK || fail "node $i cannot show post $p"
    done
done

say "a post on the IPv6-only node reaches every node, the IPv4-only one too"
t0=$(sl_ms)
p4=$(sl_post 3 "Riverside access group" "Cai NETNSMARK4: the interpreter is booked")
for i in 1 2 4; do
    sl_wait 20 "node $i shows n3's new post" sl_show_has "$i" "$p4" NETNSMARK4
done
echo "  on every node $(($(sl_ms) - t0)) ms after it was written"
sl_same "$gid" 1 2 3 4 || fail "the nodes differ after the new post"

say "kith peers: peers found by discovery, over fe80:: on n3 and IPv4 on n4"
for i in $(seq 1 $N); do
    kk "$i" --json peers
    printf '  n%s: %s\n' "$i" "$(printf '%s' "$out" |
        jq -c '[.peers[] | {a: .address, s: .source, st: .state, e: .last_error}]')"
    jqt '[.peers[] | select(.source == "discovery")] | length >= 1'
done
kk 3 --json peers
jqt '[.peers[] | select(.source == "discovery")] | all(.address | startswith("[fe80::"))'
kk 4 --json peers
jqt '[.peers[] | select(.source == "discovery")] | all(.address | startswith("10.77.0."))'
for i in $(seq 1 $N); do
    kk "$i" --json peers
    jqt '[.peers[] | select(.node_key != null)] | length >= 1'
done

say "clean stop; no sanitizer report or error event"
for i in $(seq 1 $N); do
    sl_stop "$i"
done
sl_logs_clean
say "ok ($(sl_ms) ms)"
