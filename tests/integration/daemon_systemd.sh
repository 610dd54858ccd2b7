#!/usr/bin/env bash
# daemon_systemd.sh: kithd under a service manager. A real kithd runs with
# NOTIFY_SOCKET pointing at a Unix datagram socket that this test listens on
# (as systemd does for Type=notify), and the test checks: READY=1 with a
# STATUS line once the node is up; SIGHUP after a change of log_level gives
# RELOADING=1 then READY=1 and the new level takes effect; a drop-in in
# conf.d is read on reload and wins over kithd.conf; a setting that needs a
# restart is named and kept; a bad config on SIGHUP is logged and the node
# keeps running with its old settings; SIGTERM gives STOPPING=1 and a clean
# exit. Then [control] group: the socket is mode 0660 and owned by the
# group, and an unknown group stops kithd with one line.
#
# Needs: KITHD (the kithd binary), python3.
set -euo pipefail

: "${KITHD:?set KITHD to the kithd binary}"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kithd-sd.XXXXXX")
pids=()

cleanup() {
    local p
    for p in "${pids[@]}"; do
        kill -KILL "$p" 2>/dev/null || true
    done
    rm -rf "$tmp"
}
trap cleanup EXIT

. "$(dirname "${BASH_SOURCE[0]}")/lib/checks.bash"

# The service manager's end: every datagram kithd sends to $notify becomes
# one line of $notes, its newlines shown as "|".
notify="$tmp/notify.sock"
notes="$tmp/notes.txt"
: >"$notes"
python3 - "$notify" "$notes" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        data = s.recv(65536)
        out.write(data.decode().replace("\n", "|") + "\n")
PY
pids+=("$!")
disown "$!" # no "Killed" notice when cleanup ends it
for _ in $(seq 1 100); do
    [ -S "$notify" ] && break
    sleep 0.05
done
check "the notify socket listens" test -S "$notify"

# wait_note N PATTERN: wait (up to 10 s) until line N of the notes exists,
# then it must match the extended regex PATTERN.
wait_note() {
    local n=$1 want=$2 line _
    for _ in $(seq 1 200); do
        line=$(sed -n "${n}p" "$notes")
        if [ -n "$line" ]; then
            if grep -Eq -- "$want" <<<"$line"; then
                return 0
            fi
            echo "# note $n is: $line" >&2
            return 1
        fi
        sleep 0.05
    done
    echo "# no note $n after 10 s; notes so far:" >&2
    sed 's/^/#   /' "$notes" >&2
    return 1
}

# wait_log PATTERN: wait (up to 10 s) for a line matching PATTERN in the log.
wait_log() {
    local _
    for _ in $(seq 1 200); do
        grep -Eq -- "$1" "$log" && return 0
        sleep 0.05
    done
    echo "# no log line matching $1" >&2
    return 1
}

data="$tmp/data"
sock="$data/kithd.sock"
conf="$data/kithd.conf"
log="$tmp/kithd.log"
mkdir -m 700 "$data"
printf '[node]\nlog_level = info\n[sync]\nmax_peers = 16\n' >"$conf"

NOTIFY_SOCKET="$notify" "$KITHD" --data "$data" --listen 127.0.0.1:0 --web 127.0.0.1:0 \
    --no-discovery 2>"$log" </dev/null &
pid=$!
pids+=("$pid")

# ---- READY=1 once everything is up ----
if wait_note 1 '^READY=1\|STATUS=Ready; control socket '; then
    ok "READY=1 with a STATUS line"
else
    not_ok "READY=1 with a STATUS line"
fi
check "READY=1 comes after the ready line" grep -q '^kithd: ready; control socket ' "$log"
check "STATUS names the socket, the web page and the sync port" \
    grep -Eq "^READY=1\|STATUS=Ready; control socket $sock; web page on port [0-9]+; sync on port [0-9]+$" "$notes"
check "the socket answers when READY=1 is sent" \
    grep -Eq '"ok": ?true' <<<"$(request "$sock" '{"id":1,"cmd":"status"}')"
check "no debug lines at log_level = info" bash -c "! grep -q ' debug ' '$log'"

# ---- SIGHUP after log_level = debug ----
printf '[node]\nlog_level = debug\n[sync]\nmax_peers = 16\npeer = 127.0.0.1:9\n' >"$conf"
kill -HUP "$pid"
check "SIGHUP gives RELOADING=1" wait_note 2 '^RELOADING=1\|MONOTONIC_USEC=[0-9]+\|'
check "then READY=1 again" wait_note 3 '^READY=1\|STATUS=Ready'
check "the reload is logged with what changed" \
    wait_log ' info config\.reloaded changed=node\.log_level[ ,]'
request "$sock" '{"id":2,"cmd":"status"}' >/dev/null
check "log_level = debug takes effect" wait_log ' debug control\.open '
check "still running after the reload" kill -0 "$pid"
check "the new peer line is logged" wait_log ' info config\.reloaded changed=node\.log_level,sync\.peer peers_added=1 peers_removed=0 '
peers=$(request "$sock" '{"id":6,"cmd":"peers"}')
if grep -Eq '"address": ?"127\.0\.0\.1:9"' <<<"$peers" && grep -Eq '"source": ?"config"' <<<"$peers"; then
    ok "the new peer is known at once"
else
    not_ok "the new peer is known at once" "got: $peers"
fi

# ---- a drop-in in conf.d, and a setting that needs a restart ----
mkdir "$data/conf.d"
printf '[node]\nlog_level = warn\n' >"$data/conf.d/50-quiet.conf"
printf '[node]\nlog_level = debug\n[sync]\nmax_peers = 3\n' >"$conf"
debug_before=$(grep -c ' debug ' "$log" || true)
kill -HUP "$pid"
check "second reload: RELOADING=1" wait_note 4 '^RELOADING=1'
check "second reload: READY=1" wait_note 5 '^READY=1'
# max_concurrent_syncs (4) is over the new max_peers (3): it would come
# down with it, so it waits for the restart too.
check "settings that need a restart are named, once" test "$(grep -c \
    ' warn config\.needs_restart settings=sync\.max_peers,sync\.max_concurrent_syncs kept=running$' \
    "$log")" = 1
request "$sock" '{"id":3,"cmd":"status"}' >/dev/null
sleep 0.3
debug_after=$(grep -c ' debug ' "$log" || true)
check "conf.d/50-quiet.conf wins over kithd.conf (no more debug lines)" \
    test "$debug_before" = "$debug_after"
check "and at warn, the reload's info line is not logged" \
    test "$(grep -c ' info config\.reloaded ' "$log")" = 1
# The peer line is gone from the config: the node forgets it (at once, or
# on its next tick when a dial to it was under way).
gone=no
for _ in $(seq 1 50); do
    if ! grep -q '127\.0\.0\.1:9"' <<<"$(request "$sock" '{"id":7,"cmd":"peers"}')"; then
        gone=yes
        break
    fi
    sleep 0.1
done
check "a peer line removed from the config is dropped" test "$gone" = yes

# ---- a bad config: logged, the node keeps its settings and runs on ----
rm "$data/conf.d/50-quiet.conf"
printf '[node]\nlog_level = loud\n' >"$conf"
kill -HUP "$pid"
check "bad config: RELOADING=1" wait_note 6 '^RELOADING=1'
check "bad config: READY=1 (still serving)" wait_note 7 '^READY=1'
check "bad config: one clear error line" \
    wait_log " error config\.reload_failed kept=running reason=$conf:2: log_level must be debug, info, warn or error, not \"loud\"$"
check "bad config: the node still answers" \
    grep -Eq '"ok": ?true' <<<"$(request "$sock" '{"id":4,"cmd":"status"}')"
request "$sock" '{"id":5,"cmd":"status"}' >/dev/null
sleep 0.3
check "bad config: the old log level (warn) is kept" \
    test "$debug_before" = "$(grep -c ' debug ' "$log" || true)"

# ---- SIGTERM: STOPPING=1, clean exit ----
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
check "SIGTERM gives STOPPING=1" wait_note 8 '^STOPPING=1'
check "SIGTERM stops with exit 0" test "$rc" = 0
check "socket removed on stop" test ! -e "$sock"
check "nothing more was sent" test "$(wc -l <"$notes")" = 8

# ---- without NOTIFY_SOCKET nothing is sent and all is as before ----
printf '[node]\nlog_level = info\n' >"$conf"
"$KITHD" --data "$data" --listen off --web off --no-discovery 2>"$tmp/plain.log" </dev/null &
pid=$!
pids+=("$pid")
for _ in $(seq 1 200); do
    grep -qs '^kithd: ready' "$tmp/plain.log" && break
    sleep 0.05
done
kill -HUP "$pid"
log="$tmp/plain.log" wait_log ' info config\.reloaded ' && ok "reload without NOTIFY_SOCKET" ||
    not_ok "reload without NOTIFY_SOCKET"
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
check "stops cleanly without NOTIFY_SOCKET" test "$rc" = 0
check "no note without NOTIFY_SOCKET" test "$(wc -l <"$notes")" = 8

# ---- [control] group ----
group=$(id -gn)
gid=$(id -g)
printf '[control]\ngroup = %s\n' "$group" >"$conf"
"$KITHD" --data "$data" --listen off --web off --no-discovery 2>"$tmp/group.log" </dev/null &
pid=$!
pids+=("$pid")
for _ in $(seq 1 200); do
    grep -qs '^kithd: ready' "$tmp/group.log" && break
    sleep 0.05
done
check "[control] group: socket mode 0660" test "$(stat -c %a "$sock" 2>/dev/null)" = 660
check "[control] group: socket belongs to the group" test "$(stat -c %g "$sock" 2>/dev/null)" = "$gid"
kill -TERM "$pid"
wait "$pid" || true

printf '[control]\ngroup = kith-no-such-group\n' >"$conf"
rc=0
out=$("$KITHD" --data "$data" --listen off --web off --no-discovery 2>&1 </dev/null) || rc=$?
out=$(printf '%s\n' "$out" | grep -v '^[0-9]\{4\}-[0-9][0-9]-[0-9][0-9]T' || true)
want="kithd: there is no group called kith-no-such-group on this system ([control] group in the config): create it, or remove the setting"
if [ "$rc" = 1 ] && [ "$out" = "$want" ]; then
    ok "unknown group: one line, exit 1"
else
    not_ok "unknown group: one line, exit 1" "exit $rc" "got:  $out" "want: $want"
fi

checks_end
