#!/usr/bin/env bash
# daemon.sh: start a real kithd on a private data directory with no config
# and check the daemon shell: file modes, the control socket answering
# status, one kithd per data directory and per socket, a clean stop on
# SIGTERM (exit 0, socket gone: under ASan this also proves no leak), stale
# socket recovery after kill -9, config errors as one exact line, a key file
# that others can read refused, and a passphrase-protected node.
#
# Needs: KITHD (the kithd binary). Uses socat if installed, else python3.
set -euo pipefail
shopt -s lastpipe # `printf ... | start ...` runs start in this shell

: "${KITHD:?set KITHD to the kithd binary}"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kithd-it.XXXXXX")
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

# start NAME ARGS...: start kithd in the background, logging to $tmp/NAME.log;
# sets $pid. Waits for the ready line; fails if kithd exits first.
start() {
    local name=$1
    shift
    # <&0: keep our stdin (a background job would get /dev/null).
    "$KITHD" "$@" 2>"$tmp/$name.log" <&0 &
    pid=$!
    pids+=("$pid")
    local _
    for _ in $(seq 1 200); do
        if grep -qs '^kithd: ready; control socket ' "$tmp/$name.log"; then
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "# kithd exited early:" >&2
            sed 's/^/#   /' "$tmp/$name.log" >&2
            return 1
        fi
        sleep 0.05
    done
    echo "# kithd did not become ready in 10 s" >&2
    return 1
}

# stop PID [SIGNAL]: signal (TERM by default), wait; sets $stop_rc to the exit
# status. (Not in $(...): a subshell cannot wait for our children.)
stop() {
    stop_rc=0
    kill "-${2:-TERM}" "$1"
    wait "$1" || stop_rc=$?
}

# fails_with NAME EXPECTED ARGS...: kithd must exit 1 with exactly EXPECTED
# (one line) on stderr.
fails_with() {
    local name=$1 want=$2 out rc=0
    shift 2
    out=$("$KITHD" "$@" 2>&1 </dev/null) || rc=$?
    # Event-log lines (they start with a timestamp) may come first; what a
    # person reads must be exactly the one error line.
    out=$(printf '%s\n' "$out" | grep -v '^[0-9]\{4\}-[0-9][0-9]-[0-9][0-9]T' || true)
    if [ "$rc" = 1 ] && [ "$out" = "$want" ]; then
        ok "$name"
    else
        not_ok "$name" "exit $rc, expected 1" "got:  $out" "want: $want"
    fi
}

mode() {
    stat -c %a "$1"
}

data="$tmp/data"
sock="$data/kithd.sock"

# ---- start with built-in defaults ----
if ! start main --data "$data"; then
    not_ok "starts with no config"
    echo "$passed passed, $failed failed"
    exit 1
fi
ok "starts with no config"
main_pid=$pid
check "ready line names the socket" grep -qx "kithd: ready; control socket $sock" "$tmp/main.log"
check "ready event is logged" grep -q " info kithd.ready .*socket=$sock data=$data" "$tmp/main.log"
check "socket is a socket" test -S "$sock"
check "socket mode 0600" test "$(mode "$sock")" = 600
check "data dir mode 0700" test "$(mode "$data")" = 700
check "node.key mode 0600" test "$(mode "$data/node.key")" = 600
check "node.key holds 32 bytes" test "$(stat -c %s "$data/node.key")" = 32

resp=$(request "$sock" '{"id":1,"cmd":"status"}')
if printf '%s' "$resp" | grep -Eq '"id": ?1[,}]' &&
    printf '%s' "$resp" | grep -Eq '"ok": ?true' &&
    printf '%s' "$resp" | grep -Eq '"posts": ?0[,}]'; then
    ok "status answered over the socket"
else
    not_ok "status answered over the socket" "got: $resp"
fi
resp=$(request "$sock" 'this is not json')
if printf '%s' "$resp" | grep -Eq '"ok": ?false'; then
    ok "a malformed line gets an error response"
else
    not_ok "a malformed line gets an error response" "got: $resp"
fi

# ---- one kithd per data dir, one per socket ----
fails_with "second kithd on the same data dir is refused" \
    "kithd: another kithd is already running with the data directory $data" --data "$data"
fails_with "second kithd on the same socket is refused" \
    "kithd: another kithd is already serving the control socket $sock" \
    --data "$tmp/other" --socket "$sock"

# ---- graceful stop, with a client still connected ----
if command -v socat >/dev/null 2>&1; then
    # -u: only reads, so it never sends EOF; it ends when kithd hangs up.
    socat -u "UNIX-CONNECT:$sock" STDOUT >/dev/null 2>&1 </dev/null &
else
    python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.recv(1)' "$sock" >/dev/null 2>&1 </dev/null &
fi
holder=$!
pids+=("$holder")
sleep 0.2
stop "$main_pid"
check "SIGTERM stops with exit 0" test "$stop_rc" = 0
check "socket removed on stop" test ! -e "$sock"
check "stop is logged" grep -q " info kithd.stopped clean=yes" "$tmp/main.log"
check "the connected client was let go" bash -c "for i in \$(seq 1 50); do kill -0 $holder 2>/dev/null || exit 0; sleep 0.1; done; exit 1"

# ---- restart, then kill -9 leaves a stale socket that the next start removes ----
check "restarts on the same data dir" start again --data "$data"
again_pid=$pid
kill -KILL "$again_pid"
wait "$again_pid" 2>/dev/null || true
check "kill -9 leaves the socket file" test -S "$sock"
check "starts over a stale socket" start stale --data "$data"
stale_pid=$pid
check "stale socket removal is logged" grep -q "control.stale_removed" "$tmp/stale.log"
resp=$(request "$sock" '{"id":2,"cmd":"status"}')
check "status after restart" grep -Eq '"ok": ?true' <<<"$resp"
stop "$stale_pid" INT
check "SIGINT stops with exit 0" test "$stop_rc" = 0

# ---- config errors: one exact line, exit 1 ----
printf '[node]\nlog_level = info\nfoo = 1\n' >"$tmp/bad.conf"
fails_with "unknown key in --config" \
    "kithd: $tmp/bad.conf:3: unknown setting \"foo\" in [node]" \
    --data "$tmp/d-bad" --config "$tmp/bad.conf"
mkdir -p "$tmp/d-auto"
printf '[control]\n\nsocket = %s/s.sock\n[node]\nkey_source = usb\n' "$tmp" >"$tmp/d-auto/kithd.conf"
fails_with "DATA/kithd.conf is read" \
    "kithd: $tmp/d-auto/kithd.conf:5: key_source must be file or passphrase, not \"usb\"" \
    --data "$tmp/d-auto"
fails_with "missing --config file" \
    "kithd: cannot read the config file $tmp/none.conf: no such file or directory" \
    --data "$tmp/d-bad" --config "$tmp/none.conf"
fails_with "unknown option" "kithd: unknown option \"--fast\" (see kithd --help)" --fast
fails_with "socket in a missing directory" \
    "kithd: cannot listen on the control socket $tmp/no/such/dir/s.sock: no such file or directory" \
    --data "$tmp/d-nosock" --socket "$tmp/no/such/dir/s.sock"
fails_with "socket path that is a file" \
    "kithd: $tmp/bad.conf exists and is not a socket; remove it or choose another path with --socket" \
    --data "$tmp/d-nosock" --socket "$tmp/bad.conf"

# ---- a good config file is used ----
printf '[node]\nlog_level = warn\n[control]\nsocket = %s/alt.sock\n' "$tmp" >"$tmp/good.conf"
check "starts with --config" start good --data "$tmp/d-good" --config "$tmp/good.conf"
good_pid=$pid
check "socket from the config file" test -S "$tmp/alt.sock"
check "log_level from the config file (no info lines)" bash -c "! grep -q ' info ' '$tmp/good.log'"
stop "$good_pid"
check "stop with the config" test "$stop_rc" = 0

# ---- key file readable by others is refused ----
chmod 644 "$data/node.key"
fails_with "world-readable key file refused" \
    "kithd: the key file $data/node.key can be read by other users; run: chmod 600 $data/node.key" \
    --data "$data"
chmod 600 "$data/node.key"

# ---- passphrase-protected node ----
pdata="$tmp/pdata"
if printf 'correct horse battery\n' | start pass --data "$pdata" --passphrase-stdin; then
    ok "starts with --passphrase-stdin"
    check "no key file with a passphrase" test ! -e "$pdata/node.key"
    stop "$pid"
    check "stop the passphrase node" test "$stop_rc" = 0
else
    not_ok "starts with --passphrase-stdin"
fi
out=$(printf 'wrong horse\n' | "$KITHD" --data "$pdata" --passphrase-stdin 2>&1) && rc=0 || rc=$?
if [ "$rc" = 1 ] && [ "$out" = "kithd: wrong passphrase for this node" ]; then
    ok "wrong passphrase refused"
else
    not_ok "wrong passphrase refused" "exit $rc" "got: $out"
fi
printf '[node]\nkey_source = passphrase\n' >"$pdata/kithd.conf"
if KITHD_PASSPHRASE='correct horse battery' start passenv --data "$pdata" </dev/null; then
    ok "KITHD_PASSPHRASE with key_source = passphrase"
    stop "$pid"
    check "stop the env passphrase node" test "$stop_rc" = 0
else
    not_ok "KITHD_PASSPHRASE with key_source = passphrase"
fi

# ---- the data dir from the environment ----
if KITH_DATA="$tmp/envdata" start env; then
    ok "KITH_DATA names the data dir"
    check "socket in \$KITH_DATA" test -S "$tmp/envdata/kithd.sock"
    stop "$pid"
    check "stop the KITH_DATA node" test "$stop_rc" = 0
else
    not_ok "KITH_DATA names the data dir"
fi

# ---- --version and --help ----
check "--version" bash -c "'$KITHD' --version | grep -Eq '^kithd [0-9]+\.[0-9]+\.[0-9]+$'"
check "--help" bash -c "'$KITHD' --help | grep -q -- '--passphrase-stdin'"

checks_end
