# shellcheck shell=bash
# sync-lib.bash: what the multi-node sync tests (sync_two.sh, sync_five.sh)
# share: a private temp dir, N real kithd processes on loopback with their own
# data dirs, sockets, logs and TCP ports, kith run against one node, waiting
# for a condition with a deadline, and reading a node's sync sets.
#
# Sourced, never run: the name does not end in .sh, so ctest does not take
# it for a test. The caller sets SL_NAME and has `set -euo pipefail`.
#
# Nodes are numbered; node I lives in $SL_TMP/nI (data), $SL_TMP/nI/kithd.sock
# (socket) and $SL_TMP/nI.log (its stderr, appended over restarts).
# SL_PORT[I] is its TCP sync port, SL_PID[I] its pid.

: "${KITHD:?set KITHD to the kithd binary}"
: "${KITH:?set KITH to the kith binary}"
: "${SL_NAME:?set SL_NAME before sourcing sync-lib.bash}"
command -v jq >/dev/null || {
    echo "$SL_NAME: jq is needed (apt-get install jq)" >&2
    exit 1
}

# Short paths: a Unix socket path must stay under 108 bytes.
SL_TMP=$(mktemp -d /tmp/kith-sync.XXXXXX)
declare -a SL_PID=() SL_PORT=() SL_WATCH=()
export waited_ms=0 # set by sl_wait: how long the last wait took
SL_STEP=0
SL_T0=$(date +%s%N)

sl_cleanup() {
    local i
    for i in "${!SL_PID[@]}"; do
        [ -n "${SL_PID[$i]}" ] || continue
        kill -KILL "${SL_PID[$i]}" 2>/dev/null || true
        wait "${SL_PID[$i]}" 2>/dev/null || true
    done
    if [ -n "${SL_KEEP:-}" ]; then
        echo "$SL_NAME: kept $SL_TMP" >&2
    else
        rm -rf "$SL_TMP"
    fi
}
trap sl_cleanup EXIT

# Sessions and caches stay inside the temp dir.
mkdir -m 700 "$SL_TMP/run" "$SL_TMP/home"
export XDG_RUNTIME_DIR=$SL_TMP/run HOME=$SL_TMP/home
unset KITH_SESSION KITH_SOCKET KITH_DATA XDG_DATA_HOME EDITOR VISUAL
export KITH_PASSPHRASE="a passphrase for sync tests"
if [ -n "${KITH_SOURCE_DIR:-}" ]; then
    export KITH_CONTENT=$KITH_SOURCE_DIR/content
fi

# Milliseconds since the test started.
sl_ms() {
    echo $((($(date +%s%N) - SL_T0) / 1000000))
}

say() {
    SL_STEP=$((SL_STEP + 1))
    printf '%s %3d [%6d ms]: %s\n' "$SL_NAME" "$SL_STEP" "$(sl_ms)" "$*"
}

fail() {
    local i
    echo "$SL_NAME FAILED at step $SL_STEP: $*" >&2
    for i in "${!SL_PID[@]}"; do
        echo "---- last lines of node $i's log ($SL_TMP/n$i.log)" >&2
        tail -n 25 "$SL_TMP/n$i.log" >&2 || true
    done
    exit 1
}

# sl_bulk_posts I ACCOUNT GROUP N BYTES: write N posts of about BYTES bytes
# each (distinct text, "Bulk post K" on the first line) in GROUP on node I
# as ACCOUNT, over one control connection: far faster than N runs of kith.
sl_bulk_posts() {
    python3 - "$(sl_sock "$1")" "$2" "$3" "$4" "$5" <<'PY' || fail "bulk posts on node $1"
import base64, json, os, socket, sys
path, name, group, n, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
s = socket.socket(socket.AF_UNIX)
s.connect(path)
f = s.makefile("rwb")
def call(req):
    f.write(json.dumps(req).encode() + b"\n")
    f.flush()
    r = json.loads(f.readline())
    if not r.get("ok"):
        sys.exit("request %s failed: %s" % (req["cmd"], r))
    return r["result"]
tok = call({"id": 0, "cmd": "account.unlock", "name": name,
            "passphrase": os.environ["KITH_PASSPHRASE"]})["session"]
for k in range(1, n + 1):
    body = "Bulk post %d\n\n%s" % (k, base64.b64encode(os.urandom(size * 3 // 4)).decode())
    call({"id": k, "cmd": "post.create", "session": tok, "group": group, "body": body})
call({"id": n + 1, "cmd": "account.lock", "session": tok})
PY
}

# sl_logs_clean: no node logged a sanitizer report (ASan builds) or an
# error-level event. Call at the end of a test.
sl_logs_clean() {
    local f
    for f in "$SL_TMP"/n*.log; do
        if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:| error [a-z_.]+ ' "$f"; then
            grep -nE 'AddressSanitizer|LeakSanitizer|runtime error:| error [a-z_.]+ ' "$f" | head -5 >&2
            fail "$f has a sanitizer report or an error event"
        fi
    done
}

sl_dir() { echo "$SL_TMP/n$1"; }
sl_sock() { echo "$SL_TMP/n$1/kithd.sock"; }
sl_log() { echo "$SL_TMP/n$1.log"; }

# sl_start I [--discover] [KITHD ARGS...]: start node I and wait until it
# answers and listens for sync. Without --discover it runs with
# --no-discovery. Listens on 127.0.0.1, on the port it had before if it
# ran before (so that peers configured with it still reach it), else on a
# free port; a --listen in the arguments wins.
sl_start() {
    local i=$1 discover=0 listen="" a lines n
    shift
    if [ "${1:-}" = "--discover" ]; then
        discover=1
        shift
    fi
    for a in "$@"; do
        [ "$a" = "--listen" ] && listen=given
    done
    local args=(--data "$(sl_dir "$i")")
    if [ -z "$listen" ]; then
        args+=(--listen "127.0.0.1:${SL_PORT[$i]:-0}")
    fi
    [ "$discover" -eq 1 ] || args+=(--no-discovery)
    mkdir -p "$(sl_dir "$i")"
    touch "$(sl_log "$i")"
    lines=$(wc -l <"$(sl_log "$i")")
    "$KITHD" "${args[@]}" "$@" 2>>"$(sl_log "$i")" &
    SL_PID[i]=$!
    echo "${SL_PID[$i]}" >"$SL_TMP/n$i.pid"
    for n in $(seq 1 200); do
        if [ -S "$(sl_sock "$i")" ] &&
            tail -n +"$((lines + 1))" "$(sl_log "$i")" | grep -q ' kithd.ready '; then
            break
        fi
        kill -0 "${SL_PID[$i]}" 2>/dev/null || fail "kithd node $i exited at start"
        sleep 0.05
    done
    [ "$n" -lt 200 ] || fail "kithd node $i was not ready within 10 s"
    local port
    port=$(tail -n +"$((lines + 1))" "$(sl_log "$i")" | sed -n 's/.* sync\.listening .*port=\([0-9]*\).*/\1/p' | tail -n 1)
    [ -n "$port" ] || fail "node $i logged no sync.listening port"
    SL_PORT[i]=$port
}

# sl_stop I: SIGTERM and wait; kithd must exit 0.
sl_stop() {
    local i=$1 rc=0
    kill -TERM "${SL_PID[$i]}"
    wait "${SL_PID[$i]}" || rc=$?
    SL_PID[i]=""
    [ "$rc" -eq 0 ] || fail "kithd node $i exited $rc on SIGTERM"
}

# sl_kill9 I: kill -9, as a power cut would.
sl_kill9() {
    local i=$1
    kill -KILL "${SL_PID[$i]}"
    wait "${SL_PID[$i]}" 2>/dev/null || true
    SL_PID[i]=""
}

# sl_addr I: HOST:PORT where node I takes sync connections.
sl_addr() { echo "127.0.0.1:${SL_PORT[$1]}"; }

# k I ARGS...: run kith against node I; sets $out, $err, $rc; never fails.
k() {
    local i=$1
    shift
    rc=0
    out=$("$KITH" --socket "$(sl_sock "$i")" "$@" 2>"$SL_TMP/stderr") || rc=$?
    err=$(cat "$SL_TMP/stderr")
}

# kk I ARGS...: kith must succeed on node I; stdout in $out.
kk() {
    local i=$1
    shift
    k "$i" "$@"
    [ "$rc" -eq 0 ] || fail "kith (node $i) $* exited $rc: $err"
}

has() { # has TEXT: $out contains TEXT
    case "$out" in
    *"$1"*) ;;
    *) fail "output does not contain \"$1\": $out" ;;
    esac
}

hasnt() {
    case "$out" in
    *"$1"*) fail "output contains \"$1\": $out" ;;
    *) ;;
    esac
}

# jqt FILTER [JQ ARGS...]: $out (JSON) must make FILTER true.
jqt() {
    local f=$1
    shift
    printf '%s' "$out" | jq -e "$@" "$f" >/dev/null || fail "jq '$f' is not true for: $out"
}

# sl_wait SECONDS WHAT COMMAND...: poll COMMAND every 0.1 s until it
# succeeds; fail after SECONDS. Prints how long it took in $waited_ms.
sl_wait() {
    local secs=$1 what=$2 start now
    shift 2
    start=$(date +%s%N)
    while :; do
        if "$@"; then
            now=$(date +%s%N)
            waited_ms=$(((now - start) / 1000000))
            return 0
        fi
        now=$(date +%s%N)
        [ $(((now - start) / 1000000)) -lt $((secs * 1000)) ] || fail "$what: not within $secs s"
        sleep 0.1
    done
}

# sl_account I NAME: create account NAME on node I (it stays unlocked).
sl_account() {
    kk "$1" account create "$2"
}

# sl_unlock I NAME: unlock again after a restart.
sl_unlock() {
    kk "$1" unlock "$2"
}

# sl_group I NAME: create group NAME on node I; prints its id.
sl_group() {
    kk "$1" --json group create "$2"
    printf '%s' "$out" | jq -r .group_id
}

# sl_invite_join FROM GROUP TO...: invite from node FROM, join on each TO.
sl_invite_join() {
    local from=$1 group=$2 code t
    shift 2
    kk "$from" --json invite --group "$group"
    code=$(printf '%s' "$out" | jq -r .code)
    for t in "$@"; do
        kk "$t" join "$code"
    done
}

# sl_post I GROUP TEXT: write a post on node I; prints its id.
sl_post() {
    kk "$1" --json post --group "$2" "$3"
    printf '%s' "$out" | jq -r .id
}

# sl_reply I PARENT TEXT: reply on node I; prints its id.
sl_reply() {
    kk "$1" --json reply "$2" "$3"
    printf '%s' "$out" | jq -r .id
}

# sl_sets I: node I's sync sets, one line per group: "GROUP_ID ITEMS DIGEST".
# Returns 1 (quietly: sl_wait polls it) when the node does not answer.
sl_sets() {
    k "$1" --json status
    [ "$rc" -eq 0 ] || return 1
    printf '%s' "$out" | jq -r '.sync.sets[] | "\(.group_id) \(.items) \(.digest)"'
}

# sl_set I GROUP_ID: "ITEMS DIGEST" of one group on node I, "" if not held.
sl_set() {
    sl_sets "$1" | awk -v g="$2" '$1 == g { print $2 " " $3 }'
}

# sl_items I GROUP_ID: how many items node I holds in the group (0 if none);
# the node must answer.
sl_items() {
    local s
    s=$(sl_set "$1" "$2") || fail "node $1 does not answer"
    s=${s%% *}
    echo "${s:-0}"
}

# sl_same GROUP_ID I J...: every node listed holds the group with the same
# digest (and so the same items). Quiet; for sl_wait.
sl_same() {
    local g=$1 first="" i s
    shift
    for i in "$@"; do
        s=$(sl_set "$i" "$g")
        [ -n "$s" ] || return 1
        if [ -z "$first" ]; then
            first=$s
        elif [ "$s" != "$first" ]; then
            return 1
        fi
    done
    return 0
}

# sl_show_has I POST_ID TEXT: node I shows the post and it contains TEXT.
sl_show_has() {
    k "$1" show "$2"
    [ "$rc" -eq 0 ] && case "$out" in *"$3"*) return 0 ;; esac
    return 1
}

# sl_deleted I POST_ID: node I holds the post and shows it as deleted.
sl_deleted() {
    k "$1" --json show "$2"
    if [ "$rc" -eq 0 ]; then
        printf '%s' "$out" | jq -e --arg id "$2" \
            '[.post] + .replies | map(select(.id == $id)) | .[0].deleted == true' >/dev/null
        return
    fi
    # A deleted post with nothing under it: show says it was deleted.
    case "$err" in *"deleted"*) return 0 ;; esac
    return 1
}

# sl_peer_key I: node I's node key (64 hex).
sl_peer_key() {
    kk "$1" --json peers
    printf '%s' "$out" | jq -r .node_key
}

# sl_request I JSON: send one raw request line to node I's control socket
# and print the response line (for commands kith does not wrap).
sl_request() {
    python3 - "$(sl_sock "$1")" "$2" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
buf = b""
while not buf.endswith(b"\n"):
    d = s.recv(65536)
    if not d:
        break
    buf += d
sys.stdout.write(buf.decode())
PY
}

# sl_kill9_on_log I PATTERN [COUNT [SECONDS]]: before node I's next start,
# begin watching its log; the moment the COUNT-th (default 1) line
# containing PATTERN appears in it, kill -9 the node. Watching a file is faster than asking the node (whose
# answers may wait behind a transfer), and starting before the node means a
# peer that connects at once is not missed. Then call sl_start, and
# sl_kill9_wait to see it done. Fails there if no such lines came within
# SECONDS (default 30).
sl_kill9_on_log() {
    local i=$1
    local n
    rm -f "$SL_TMP/n$i.pid" "$SL_TMP/n$i.watching"
    touch "$(sl_log "$i")"
    python3 - "$(sl_log "$i")" "$2" "$(stat -c %s "$(sl_log "$i")")" "$SL_TMP/n$i.pid" \
        "${4:-30}" "$SL_TMP/n$i.watching" "${3:-1}" <<'PY' &
import os, signal, sys, time
path, pat, pos, pidfile, secs = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3]), sys.argv[4], float(sys.argv[5])
deadline = time.monotonic() + secs
buf = b""
with open(path, "rb") as f:
    f.seek(pos)
    open(sys.argv[6], "w").close()  # watching now: the node may start
    while time.monotonic() < deadline:
        d = f.read()
        buf += d
        if buf.count(pat) >= int(sys.argv[7]):
            with open(pidfile) as p:
                os.kill(int(p.read()), signal.SIGKILL)
            sys.exit(0)
        if not d:
            time.sleep(0.0005)
sys.exit(1)
PY
    SL_WATCH[i]=$!
    for n in $(seq 1 200); do
        [ -e "$SL_TMP/n$i.watching" ] && return 0
        sleep 0.05
    done
    fail "the log watcher for node $i did not start within 10 s"
}

# sl_kill9_wait I: wait for sl_kill9_on_log's kill of node I.
sl_kill9_wait() {
    local i=$1
    local rc=0
    # stderr off: bash reports the killed node ("Killed ...") at this wait.
    wait "${SL_WATCH[$i]}" 2>/dev/null || rc=$?
    [ "$rc" -eq 0 ] || fail "node $i logged no line that sl_kill9_on_log waited for"
    wait "${SL_PID[$i]}" 2>/dev/null || true
    SL_PID[i]=""
}
