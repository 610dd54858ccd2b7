# shellcheck shell=bash
# checks.bash: what the single-node integration tests (daemon.sh,
# daemon_systemd.sh, manpages.sh, web_http.sh) share: pass/fail counters,
# ok/not_ok/check/expect lines, one control request, and the closing line.
#
# Sourced, never run: the name does not end in .sh, so ctest does not take
# it for a test. The caller has `set -euo pipefail`.

passed=0
failed=0

ok() {
    passed=$((passed + 1))
    echo "ok - $1"
}

# not_ok NAME [DETAIL...]: a failed check, each detail on a line of its own.
not_ok() {
    failed=$((failed + 1))
    echo "not ok - $1"
    shift
    local line
    for line in "$@"; do
        echo "#   $line"
    done
}

# check NAME COMMAND...: the command must succeed.
check() {
    local name=$1
    shift
    if "$@"; then
        ok "$name"
    else
        not_ok "$name" "failed: $*"
    fi
}

# expect NAME ACTUAL WANTED
expect() {
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "got:  $2" "want: $3"; fi
}

# request SOCKET JSON: send one request line to a control socket, print the
# response line.
request() {
    if command -v socat >/dev/null 2>&1; then
        printf '%s\n' "$2" | socat -t 5 - "UNIX-CONNECT:$1"
    else
        python3 - "$1" "$2" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
buf = b""
while not buf.endswith(b"\n"):
    chunk = s.recv(65536)
    if not chunk:
        break
    buf += chunk
sys.stdout.write(buf.decode())
PY
    fi
}

# The closing line ("N passed, N failed"), and the test's exit status.
checks_end() {
    echo "$passed passed, $failed failed"
    [ "$failed" = 0 ]
}
