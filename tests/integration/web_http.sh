#!/usr/bin/env bash
# web_http.sh: the web page's security at the HTTP level, with curl against
# a real kithd on a private data directory (node/WEB.md): the start line
# prints the page address, CSRF-less and cross-site POSTs are refused, a
# script in a post body is shown as text, sign-in is slowed after wrong
# passphrases, static files cannot leave their directory, an oversized
# request is refused, private pages are not cached, the CSP and other
# headers are sent, sign-out ends the session on the node, and kithd stops
# cleanly (under ASan this also proves no leak).
#
# Needs: KITHD (the kithd binary), curl.
set -euo pipefail

: "${KITHD:?set KITHD to the kithd binary}"
command -v curl >/dev/null || { echo "1..0 # SKIP curl is not installed"; exit 0; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kith-web.XXXXXX")
pid=

cleanup() {
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

. "$(dirname "${BASH_SOURCE[0]}")/lib/checks.bash"

# contains NAME FILE TEXT
contains() {
    if grep -qF -- "$3" "$2"; then ok "$1"; else not_ok "$1" "no \"$3\" in $2" "$(head -c 600 "$2")"; fi
}

lacks() {
    if grep -qF -- "$3" "$2"; then not_ok "$1" "found \"$3\" in $2"; else ok "$1"; fi
}

"$KITHD" --data "$tmp/d" --listen off --no-discovery --web 127.0.0.1:0 \
    >"$tmp/out" 2>&1 &
pid=$!
for _ in $(seq 100); do
    grep -q "kithd: ready" "$tmp/out" 2>/dev/null && break
    sleep 0.1
done
url=$(sed -n 's/^kithd: web page at \(http:\/\/127\.0\.0\.1:[0-9]*\/\)$/\1/p' "$tmp/out")
if [ -z "$url" ]; then
    not_ok "start prints the web page address" "$(cat "$tmp/out")"
    echo "1..$((passed + failed))"
    exit 1
fi
ok "start prints the web page address ($url)"
base=${url%/}

jar=$tmp/jar
# csrf PATH: the form token on PATH (with the jar's session)
csrf() {
    curl -s -c "$jar" -b "$jar" "$base$1" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' | head -1
}
# status METHOD PATH [curl args...]: the status code
status() {
    local m=$1 p=$2
    shift 2
    curl -s -o "$tmp/body" -D "$tmp/head" -w '%{http_code}' -c "$jar" -b "$jar" -X "$m" "$@" "$base$p"
}

# ---- headers and caching ----
expect "sign-in page answers" "$(status GET /signin)" 200
contains "CSP header" "$tmp/head" "Content-Security-Policy: default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
contains "nosniff" "$tmp/head" "X-Content-Type-Options: nosniff"
contains "no framing" "$tmp/head" "X-Frame-Options: DENY"
contains "no referrer" "$tmp/head" "Referrer-Policy: no-referrer"
contains "pages are not cached" "$tmp/head" "Cache-Control: no-store"
contains "session cookie is HttpOnly and SameSite=Strict" "$tmp/head" "; Path=/; HttpOnly; SameSite=Strict"
lacks "no script on the page" "$tmp/body" "<script"
expect "static CSS" "$(status GET /static/kith.css)" 200
contains "static files may be cached" "$tmp/head" "Cache-Control: public, max-age=86400"

# ---- an account ----
t=$(csrf /signup)
expect "create an account" "$(status POST /signup --data-urlencode "csrf=$t" -d 'name=ana&passphrase=long+passphrase&invite=')" 303
t=$(csrf /groups)
expect "start a group" "$(status POST /groups --data-urlencode "csrf=$t" -d 'name=Walkers')" 303
gid=$(sed -n 's/^Location: \/g\/\([0-9a-f]\{64\}\).*/\1/p' "$tmp/head" | tr -d '\r')
expect "private page not cached" "$(status GET /g/$gid)" 200
contains "group page is no-store" "$tmp/head" "Cache-Control: no-store"

# ---- CSRF ----
expect "POST without csrf refused" "$(status POST /groups -d 'name=NoToken')" 403
expect "POST with a wrong csrf refused" "$(status POST /groups -d 'csrf=00&name=Wrong')" 403
t=$(csrf /groups)
expect "cross-site POST refused" "$(status POST /groups -H 'Sec-Fetch-Site: cross-site' --data-urlencode "csrf=$t" -d 'name=Cross')" 403
expect "cross-origin POST refused" "$(status POST /groups -H 'Origin: http://evil.example' --data-urlencode "csrf=$t" -d 'name=Cross2')" 403
status GET /groups >/dev/null
lacks "refused POSTs changed nothing" "$tmp/body" "NoToken"
lacks "refused cross-site POST changed nothing" "$tmp/body" "Cross"
expect "foreign Host refused (DNS rebinding)" "$(status GET /signin -H 'Host: evil.example')" 400

# ---- XSS in a post body ----
t=$(csrf "/g/$gid/write")
expect "write a post" "$(status POST "/g/$gid/write" --data-urlencode "csrf=$t" -d topic= \
    --data-urlencode 'title=<img src=x onerror=alert(1)>' \
    --data-urlencode 'body=<script>alert("x")</script> [a](javascript:alert(1)) <b onclick=x>b</b>')" 303
post=$(sed -n 's/^Location: \/p\/\([0-9a-f]\{64\}\).*/\1/p' "$tmp/head" | tr -d '\r')
expect "thread page" "$(status GET "/p/$post")" 200
lacks "script in a body is not markup" "$tmp/body" "<script"
lacks "no javascript: link" "$tmp/body" "javascript:"
lacks "no event handler markup" "$tmp/body" "<b onclick"
lacks "no img markup from a title" "$tmp/body" "<img src=x"
contains "title shown as text" "$tmp/body" "&lt;img src=x onerror=alert(1)&gt;"
size=$(stat -c %s "$tmp/body")
css=$(curl -s "$base/static/kith.css" | wc -c)
if [ $((size + css)) -lt 51200 ]; then ok "thread page with CSS under 50 KB ($((size + css)) bytes)"; else not_ok "thread page weight" "$((size + css)) bytes"; fi

# ---- path traversal ----
for p in /static/../main.c /static/..%2f..%2fetc/passwd /static/%2e%2e/templates/head.html \
    /static/.hidden.css /static//kith.css '/static/kith.css%00.svg' /help/..%2Fglossary; do
    expect "traversal refused: $p" "$(status GET "$p" --path-as-is)" 404
done

# ---- oversized requests ----
head -c 300000 /dev/zero | tr '\0' a >"$tmp/big"
expect "oversized body refused" "$(status POST /signin -H 'Content-Type: application/x-www-form-urlencoded' --data-binary @"$tmp/big")" 413
expect "oversized URL refused" "$(status GET "/$(head -c 5000 /dev/zero | tr '\0' a)")" 414

# ---- sign-in slowed down ----
b2=$tmp/jar2
codes=
for i in 1 2 3 4 5 6; do
    t=$(curl -s -c "$b2" -b "$b2" "$base/signin" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' | head -1)
    codes="$codes $(curl -s -o "$tmp/body" -w '%{http_code}' -c "$b2" -b "$b2" --data-urlencode "csrf=$t" -d 'name=ana&passphrase=wrong' "$base/signin")"
done
expect "wrong passphrases, then slowed" "$codes" " 400 400 400 400 400 429"
contains "slowed sign-in says to wait" "$tmp/body" "Too many tries. Wait"

# ---- sign out ends the session on the node ----
status GET /status >/dev/null
contains "one member signed in" "$tmp/body" '<dd id="sessions">1</dd>'
cp "$jar" "$tmp/jar-before"
t=$(csrf /groups)
expect "sign out" "$(status POST /signout --data-urlencode "csrf=$t")" 303
contains "sign out goes to the sign-in page" "$tmp/head" "Location: /signin?done=signedout"
status GET /status >/dev/null
contains "no member signed in after sign-out" "$tmp/body" '<dd id="sessions">0</dd>'
expect "the old cookie is worthless" "$(curl -s -o /dev/null -w '%{http_code}' -b "$tmp/jar-before" "$base/groups")" 303

# ---- stop ----
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
expect "kithd stops cleanly" "$rc" 0

echo "1..$((passed + failed))"
[ "$failed" -eq 0 ]
