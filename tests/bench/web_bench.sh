#!/usr/bin/env bash
# web_bench.sh: how fast kithd serves a conversation page of a big group,
# next to nginx serving the same page's HTML as a static file (issue 5,
# "Benchmark"). A benchmark, not a test: it prints "name: value" figures
# and fails only when the work was not done right (a page that is not the
# conversation, an error response).
#
#   tests/bench/web_bench.sh [--build DIR] [--posts N] [--replies R]
#                            [--seconds S] [--connections C] [--threads T]
#                            [--kithd PATH]
#
# It builds a data dir with kith_web_bench_prep (an account, a group of N
# posts, default 100,000, and one conversation of a first post and R
# replies, default 25), starts kithd on it (web page on 127.0.0.1, no sync),
# signs in with curl, saves the conversation page and its CSS, and starts
# nginx (one worker: kithd answers pages on one loop thread too) serving
# them from a temp dir on another loopback port. Then wrk asks each for
# the page for S seconds (default 10) over C keep-alive connections
# (default 16) from T threads (default 1, leaving the other core to the
# server), kithd with the member's session cookie.
#
# Needs: BUILD/node/kithd and BUILD/tests/kith_web_bench_prep (default
# BUILD: build), and Debian's wrk, nginx and curl
# (apt-get install wrk nginx-light curl). Everything runs on loopback and
# stops by itself; the temp dir is removed at the end.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$top/build
posts=100000
replies=25
seconds=10
conns=16
threads=1
kithd=

die() {
    echo "web_bench: $*" >&2
    exit 1
}

while [ $# -gt 0 ]; do
    case $1 in
    --build) build=$2; shift 2 ;;
    --kithd) kithd=$2; shift 2 ;;
    --posts) posts=$2; shift 2 ;;
    --replies) replies=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --connections) conns=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    *) die "unknown option $1 (see the top of this script)" ;;
    esac
done

kithd=${kithd:-$build/node/kithd}
prep=$build/tests/kith_web_bench_prep
[ -x "$kithd" ] || die "$kithd is missing: build first (cmake --build $build)"
[ -x "$prep" ] || die "$prep is missing: build first (cmake --build $build --target kith_web_bench_prep)"
for tool in wrk nginx curl; do
    command -v "$tool" >/dev/null || die "$tool is missing: apt-get install wrk nginx-light curl"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kith-webbench.XXXXXX")
kpid=
npid=
cleanup() {
    [ -n "$kpid" ] && kill "$kpid" 2>/dev/null && wait "$kpid" 2>/dev/null
    [ -n "$npid" ] && kill "$npid" 2>/dev/null && wait "$npid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

# A free loopback port: bind to 0 and read what the kernel chose.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wrk_run URL [header]: prints "RPS P99_MS NON2XX" from wrk's report.
wrk_run() {
    local out=$tmp/wrk.out
    if [ $# -gt 1 ]; then
        wrk -t"$threads" -c"$conns" -d"${seconds}s" --latency -H "$2" "$1" >"$out"
    else
        wrk -t"$threads" -c"$conns" -d"${seconds}s" --latency "$1" >"$out"
    fi
    awk '
        /^Requests\/sec:/ { rps = $2 }
        /^ *99%/ { v = $2; unit = v; sub(/[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
                   p99 = (unit == "us") ? v / 1000 : (unit == "s") ? v * 1000 : v }
        /Non-2xx or 3xx responses:/ { bad = $NF }
        END { printf "%s %.2f %d\n", rps, p99, bad }' "$out"
}

start=$(date +%s)
"$prep" "$tmp/d" --posts "$posts" --replies "$replies" --pass "bench passphrase" >"$tmp/ids"
gid=$(sed -n 's/^group: //p' "$tmp/ids")
pid=$(sed -n 's/^thread: //p' "$tmp/ids")
echo "posts_in_group: $posts"
echo "replies_in_thread: $replies"
echo "prepare_s: $(($(date +%s) - start))"

wport=$(free_port)
"$kithd" --data "$tmp/d" --listen off --no-discovery --log-level warn \
    --web "127.0.0.1:$wport" >"$tmp/kithd.log" 2>&1 &
kpid=$!
base=http://127.0.0.1:$wport
for _ in $(seq 300); do
    curl -s -o /dev/null "$base/signin" && break
    sleep 0.1
done

jar=$tmp/jar
token=$(curl -s -c "$jar" -b "$jar" "$base/signin" |
    sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' | head -1)
code=$(curl -s -o /dev/null -w '%{http_code}' -c "$jar" -b "$jar" \
    --data-urlencode "csrf=$token" -d 'name=ana' --data-urlencode 'passphrase=bench passphrase' \
    "$base/signin")
[ "$code" = 303 ] || die "signing in answered $code, not 303 (see $tmp/kithd.log)"
cookie="Cookie: $(awk -F'\t' '{ sub(/^#HttpOnly_/, "") } !/^#/ && NF >= 7 { printf "%s%s=%s", sep, $6, $7; sep = "; " }' "$jar")"
cookie=${cookie%; }

page=/p/$pid
mkdir -p "$tmp/www/static"
code=$(curl -s -o "$tmp/www/thread.html" -w '%{http_code}' -H "$cookie" "$base$page")
[ "$code" = 200 ] || die "the conversation page answered $code, not 200"
grep -q 'Paying a personal assistant from direct payments' "$tmp/www/thread.html" ||
    die "the page is not the conversation"
articles=$(grep -o '<article' "$tmp/www/thread.html" | wc -l)
[ "$articles" -eq $((replies + 1)) ] || die "the page shows $articles posts, not $((replies + 1))"
css_bytes=0
for css in $(grep -o 'href="/static/[^"]*\.css"' "$tmp/www/thread.html" | sed 's/href="\(.*\)"/\1/'); do
    curl -s -o "$tmp/www$css" "$base$css"
    css_bytes=$((css_bytes + $(stat -c %s "$tmp/www$css")))
done
html_bytes=$(stat -c %s "$tmp/www/thread.html")
echo "page_html_bytes: $html_bytes"
echo "page_css_bytes: $css_bytes"
echo "page_weight_bytes: $((html_bytes + css_bytes)) (aim: under 51200)"

nport=$(free_port)
cat >"$tmp/nginx.conf" <<EOF
user root;
worker_processes 1;
daemon off;
pid $tmp/nginx.pid;
error_log $tmp/nginx-error.log;
events { worker_connections 256; }
http {
    access_log off;
    server {
        listen 127.0.0.1:$nport;
        root $tmp/www;
        location / { default_type text/html; }
    }
}
EOF
nginx -c "$tmp/nginx.conf" -p "$tmp" &
npid=$!
for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$nport/thread.html" && break
    sleep 0.1
done
cmp -s <(curl -s "http://127.0.0.1:$nport/thread.html") "$tmp/www/thread.html" ||
    die "nginx does not serve the saved page (see $tmp/nginx-error.log)"

echo "wrk: $threads thread(s), $conns connections, ${seconds}s each"
read -r k_rps k_p99 k_bad < <(wrk_run "$base$page" "$cookie")
[ "$k_bad" -eq 0 ] || die "kithd gave $k_bad responses that were not 200"
# Still signed in at the end, so every answer was the page (not a redirect).
code=$(curl -s -o "$tmp/after.html" -w '%{http_code}' -H "$cookie" "$base$page")
[ "$code" = 200 ] && cmp -s "$tmp/after.html" "$tmp/www/thread.html" ||
    die "after the run the page answered $code or changed"
read -r n_rps n_p99 n_bad < <(wrk_run "http://127.0.0.1:$nport/thread.html")
[ "$n_bad" -eq 0 ] || die "nginx gave $n_bad responses that were not 200"

echo "kithd_requests_per_s: $k_rps"
echo "kithd_p99_ms: $k_p99"
echo "nginx_static_requests_per_s: $n_rps"
echo "nginx_static_p99_ms: $n_p99"
echo "ratio_kithd_to_nginx: $(awk -v a="$k_rps" -v b="$n_rps" 'BEGIN { printf "%.3f", a / b }') (aim: at least 0.5)"
