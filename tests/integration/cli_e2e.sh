#!/usr/bin/env bash
# shellcheck disable=SC2016 # jq filters take $vars from --arg: single quotes are meant
# End-to-end test of the kith command line against real kithd processes:
# every subcommand, in plain and --json modes, and the error cases a member
# meets (node not running, wrong passphrase, unknown group, a post that is
# not yours, an ambiguous or unknown id, empty text), text from stdin and
# from $EDITOR, an invite used on a second node, delete then show, and
# export holding the account's own posts and no one else's.
#
# Needs: KITHD and KITH (set by ctest), jq. Uses a private temp dir for the
# data, the sockets and the session files, and removes it at the end.
set -euo pipefail

: "${KITHD:?set KITHD to the kithd binary}"
: "${KITH:?set KITH to the kith binary}"
command -v jq >/dev/null || {
    echo "cli_e2e: jq is needed (apt-get install jq)" >&2
    exit 1
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kith-e2e.XXXXXX")
if [ ${#tmp} -gt 60 ]; then # keep socket paths well under 108 bytes
    rm -rf "$tmp"
    tmp=$(mktemp -d /tmp/kith-e2e.XXXXXX)
fi
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$tmp"
}
trap cleanup EXIT

# Sessions, editor drafts and caches stay inside the temp dir.
mkdir -m 700 "$tmp/run" "$tmp/home"
export XDG_RUNTIME_DIR=$tmp/run HOME=$tmp/home
unset KITH_SESSION KITH_SOCKET KITH_DATA XDG_DATA_HOME EDITOR VISUAL
if [ -n "${KITH_SOURCE_DIR:-}" ]; then
    export KITH_CONTENT=$KITH_SOURCE_DIR/content
fi

step=0
say() {
    step=$((step + 1))
    printf 'cli_e2e %3d: %s\n' "$step" "$*"
}
fail() {
    echo "cli_e2e FAILED at step $step: $*" >&2
    exit 1
}

# start_node DIR: run kithd on DIR in the background, wait for its socket.
start_node() {
    local dir=$1 i
    mkdir -p "$dir"
    "$KITHD" --data "$dir" 2>>"$dir.log" &
    pids+=($!)
    for i in $(seq 1 100); do
        [ -S "$dir/kithd.sock" ] && return 0
        kill -0 "${pids[-1]}" 2>/dev/null || {
            cat "$dir.log" >&2
            fail "kithd on $dir exited at start"
        }
        sleep 0.1
    done
    cat "$dir.log" >&2
    fail "kithd on $dir did not create its socket in 10 s"
}

# run: run kith with the given args; sets $out, $err and $rc, never fails.
run() {
    rc=0
    out=$("$KITH" "$@" 2>"$tmp/stderr") || rc=$?
    err=$(cat "$tmp/stderr")
}

# ok ARGS...: kith must succeed; stdout in $out.
ok() {
    run "$@"
    [ "$rc" -eq 0 ] || fail "kith $* exited $rc: $err"
}

# no CODE TEXT ARGS...: kith must exit CODE with one stderr line
# "kith: ..." that contains TEXT.
no() {
    local code=$1 text=$2
    shift 2
    run "$@"
    [ "$rc" -eq "$code" ] || fail "kith $* exited $rc, expected $code (stderr: $err)"
    [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "kith $*: stderr is not one line: $err"
    case "$err" in
    "kith: "*"$text"*) ;;
    *) fail "kith $*: stderr \"$err\" does not contain \"$text\"" ;;
    esac
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

# jqt FILTER [JQ ARGS...]: the --json output in $out must make FILTER true.
jqt() {
    local f=$1
    shift
    printf '%s' "$out" | jq -e "$@" "$f" >/dev/null || fail "jq '$f' is not true for: $out"
}

A=$tmp/a
B=$tmp/b
sockA=$A/kithd.sock
sockB=$B/kithd.sock

# ----------------------------------------------------------------- no node
say "help, version and usage errors need no node"
ok --version
[[ "$out" =~ ^kith\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "bad --version: $out"
ok help
for c in "account create" unlock lock "group create" "group list" post read show reply delete \
    export status invite join help; do
    has "  $c"
done
ok help post
has "Usage: kith post --group GROUP"
ok post --help
has "Usage: kith post --group GROUP"
ok help group
has "kith group create"
has "kith group list"
no 2 'unknown command "frobnicate"' frobnicate
no 2 'needs one more word' group
no 2 'unknown option "--nope"' --socket "$sockA" status --nope
no 2 'something is missing' --socket "$sockA" show
no 2 'too many words' --socket "$sockA" unlock a b
no 2 'say which group' --socket "$sockA" post hello
run
[ "$rc" -eq 2 ] || fail "kith with no command exited $rc"

say "node not running"
no 1 "the node is not running (no socket at $sockA)" --socket "$sockA" status
no 1 "the node is not running (no socket at $sockA)" --socket "$sockA" --json read -g x
KITH_SOCKET=$sockA no 1 "no socket at $sockA" group list
KITH_DATA=$A no 1 "no socket at $sockA" status

# ----------------------------------------------------------------- node A
start_node "$A"
k() { "$KITH" --socket "$sockA" "$@"; }

say "status, plain and JSON; socket from --socket, KITH_SOCKET, KITH_DATA"
ok --socket "$sockA" status
has "The node is running"
has "No account is unlocked here"
ok --socket "$sockA" status --json
jqt '.posts == 0 and .accounts == 0 and (.version | type == "string")'
KITH_SOCKET=$sockA ok status --json
jqt '.socket | endswith("kithd.sock")'
KITH_DATA=$A ok --json status
jqt '.groups == 0'

say "account create: JSON (bob) and plain (alice); name taken; passphrase checks"
export KITH_PASSPHRASE="bob's long passphrase"
ok --socket "$sockA" account create bob --json
jqt '.name == "bob" and (.public_key | test("^[0-9a-f]{64}$")) and (.session | length > 0)'
bob_session=$(printf '%s' "$out" | jq -r .session)
export KITH_PASSPHRASE="correct horse battery staple"
ok --socket "$sockA" account create alice
has 'Created the account "alice"'
no 1 'there is already an account called "alice"' --socket "$sockA" account create alice
KITH_PASSPHRASE='' no 1 "the passphrase is empty" --socket "$sockA" account create carol
# No terminal and no KITH_PASSPHRASE: a clear refusal, not a hang.
out=$(env -u KITH_PASSPHRASE setsid -w "$KITH" --socket "$sockA" unlock alice \
    </dev/null 2>&1) && fail "unlock without a passphrase succeeded"
[[ "$out" == "kith: no passphrase given"* ]] || fail "no-passphrase message: $out"
ok --socket "$sockA" status
has 'You are unlocked as "alice"'

say "lock, then commands say no account is unlocked"
ok --socket "$sockA" lock
has 'Locked "alice"'
no 1 "no account is unlocked (run: kith unlock NAME)" --socket "$sockA" group list
ok --socket "$sockA" lock --json
jqt '.was_unlocked == false'

say "unlock: wrong passphrase, unknown account, plain and JSON"
KITH_PASSPHRASE=wrong no 1 "wrong passphrase" --socket "$sockA" unlock alice
# The node does not tell which names exist: same answer as a wrong passphrase.
no 1 'wrong passphrase, or no account called "nobody"' --socket "$sockA" unlock nobody
ok --socket "$sockA" unlock alice --json
jqt '.name == "alice" and (.session | length > 0)'
ok --socket "$sockA" unlock alice
has 'Unlocked "alice"'

say "group create, plain and JSON (with topics); group list"
ok --socket "$sockA" group create Walkers
has 'Created the group "Walkers"'
has 'kith invite --group Walkers'
ok --socket "$sockA" group create "Peer Talk" --topic "Direct payments" --topic "Everyday life" \
    --json
jqt '.name == "Peer Talk" and .topics == ["Direct payments", "Everyday life"] and .posts == 0'
jqt '.group_id | test("^[0-9a-f]{64}$")'
ok --socket "$sockA" group list
has "You are in 2 groups"
has "Walkers: 0 posts"
has "Peer Talk: 0 posts"
ok --socket "$sockA" group list --json
jqt '.groups | length == 2'
jqt '[.groups[].name] | sort == ["Peer Talk", "Walkers"]'

say "post: words, --title/--topic, JSON, stdin, editor"
posts0=$(k status --json | jq .posts)
m1="first-post-$RANDOM$RANDOM"
ok --socket "$sockA" post --group Walkers --topic "Direct payments" --title "My first post" \
    "Hello walkers," "$m1"
[[ "$out" =~ ^Posted\ [0-9a-f]{12}\ in\ \"Walkers\"\ \(topic:\ Direct\ payments\)\.$ ]] ||
    fail "post output: $out"
p1short=$(printf '%s' "$out" | awk '{print $2}')
ok --socket "$sockA" post -g Walkers --json "Second post, plain words"
jqt '(.id | test("^[0-9a-f]{64}$")) and .kind == "post" and .group == "Walkers"'
jqt '.author == "alice" and .body == "Second post, plain words" and .deleted == false'
jqt '.parent == null'
p2=$(printf '%s' "$out" | jq -r .id)
m3="stdin-post-$RANDOM$RANDOM"
out=$(printf 'From stdin %s\nsecond line\n\n' "$m3" | k post --group Walkers --json -) ||
    fail "post from stdin"
jqt '.body == "From stdin \($x)\nsecond line"' --arg x "$m3"
p3=$(printf '%s' "$out" | jq -r .id)
m4="editor-post-$RANDOM$RANDOM"
cat >"$tmp/editor.sh" <<EOF
#!/bin/sh
# A stand-in for a person in an editor: checks the header, writes text above it.
grep -q '^# Group: Walkers' "\$1" || exit 3
{ printf 'Written in the editor %s\n' '$m4'; cat "\$1"; } > "\$1.new" && mv "\$1.new" "\$1"
EOF
chmod +x "$tmp/editor.sh"
EDITOR=$tmp/editor.sh ok --socket "$sockA" post --group Walkers --json
jqt '.body == "Written in the editor \($x)"' --arg x "$m4"
p4=$(printf '%s' "$out" | jq -r .id)
compgen -G "$XDG_RUNTIME_DIR/kith-post-*" >/dev/null && fail "editor draft left behind"

say "post: empty text from words, stdin and editor; unknown group"
no 1 "the text is empty, so nothing was posted" --socket "$sockA" post --group Walkers "  "
out=$(printf '\n\n' | k post --group Walkers - 2>&1) && fail "empty stdin was posted"
[ "$out" = "kith: the text is empty, so nothing was posted" ] || fail "empty stdin: $out"
EDITOR=true no 1 "the text is empty, so nothing was posted" --socket "$sockA" post -g Walkers
# No text, no $EDITOR and no terminal to open an editor on (cron, scripts).
out=$(setsid -w "$KITH" --socket "$sockA" post -g Walkers </dev/null 2>&1) && fail "posted nothing"
[[ "$out" == "kith: no text given"* ]] || fail "no text, no terminal: $out"
EDITOR=false no 1 "the editor did not finish cleanly" --socket "$sockA" post -g Walkers
no 1 'unknown group "Nosuch"' --socket "$sockA" post --group Nosuch "hello"
no 1 'unknown group "Nosuch"' --socket "$sockA" --json read --group Nosuch
ok --socket "$sockA" status --json
jqt '.posts == $n + 4' --argjson n "$posts0"

say "read: newest first, plain and JSON, topic filter, empty group"
ok --socket "$sockA" read --group Walkers --json
jqt '.threads | length == 4'
jqt '.threads[0].id == $a' --arg a "$p4"
[ "$(printf '%s' "$out" | jq -r '.threads[3].title')" = "My first post" ] || fail "oldest: $out"
jqt '[.threads[].replies] == [0, 0, 0, 0]'
ok --socket "$sockA" read --group Walkers
has 'Threads in "Walkers", newest first'
has "$p1short  My first post"
has "${p2:0:12}  Second post, plain words"
has "${p3:0:12}  From stdin $m3"
has "by alice, just now, 0 replies"
ok --socket "$sockA" read --group Walkers --topic "Direct payments" --json
jqt '.threads | length == 1 and .[0].title == "My first post"'
ok --socket "$sockA" read --group "Peer Talk"
has 'There are no posts in "Peer Talk" yet'
has "kith post --group 'Peer Talk'"

say "show: by short id and by 4-character prefix, plain and JSON; unknown id"
ok --socket "$sockA" show "$p1short"
has "My first post"
has "Post $p1short by alice, just now, in \"Walkers\" (topic: Direct payments):"
has "Hello walkers, $m1"
has "No replies yet"
ok --socket "$sockA" show "${p2:0:4}" --json
jqt '.post.id == $a and .replies == []' --arg a "$p2"
no 1 'no post has an id starting with' --socket "$sockA" show ffffffffffffffffff

say "reply: words, stdin, JSON; counts in read and show"
ok --socket "$sockA" reply "$p1short" "A reply from alice"
[[ "$out" =~ ^Posted\ reply\ [0-9a-f]{12}\ to\ $p1short\ in\ \"Walkers\"\.$ ]] ||
    fail "reply output: $out"
out=$(printf 'Reply from stdin\n' | k reply "$p1short" - --json) || fail "reply from stdin"
jqt '.kind == "reply" and .body == "Reply from stdin"'
[ "$(printf '%s' "$out" | jq -r .parent)" = "$(k show "$p1short" --json | jq -r .post.id)" ] ||
    fail "reply parent: $out"
no 1 "the text is empty" --socket "$sockA" reply "$p1short" ""
no 1 "no post has an id starting with \"eeeeeeeeeeee\"" --socket "$sockA" reply eeeeeeeeeeee hi
ok --socket "$sockA" show "$p1short"
has "2 replies:"
has "A reply from alice"
has "Reply from stdin"
ok --socket "$sockA" read -g Walkers --json
jqt '.threads[0].id | startswith($a)' --arg a "$p1short" # a reply bumps its thread
jqt '.threads[0].replies == 2'

say "invite, plain and JSON; unknown group"
ok --socket "$sockA" invite --group Walkers
has 'Invite code for "Walkers"'
has "kith1-"
ok --socket "$sockA" invite --group Walkers --json
jqt '(.code | startswith("kith1-")) and .name == "Walkers"'
code=$(printf '%s' "$out" | jq -r .code)
no 1 'unknown group "Nosuch"' --socket "$sockA" invite --group Nosuch
no 2 "say which group" --socket "$sockA" invite

say "a second account (bob, by KITH_SESSION) joins, replies, cannot delete alice's post"
KITH_SESSION=$bob_session ok --socket "$sockA" join "$code" --json
jqt '.name == "Walkers"'
KITH_SESSION=$bob_session no 1 "that post is not yours" --socket "$sockA" delete "$p1short"
mb="bobs-post-$RANDOM$RANDOM"
KITH_SESSION=$bob_session ok --socket "$sockA" post --group Walkers "Bob writes $mb"
KITH_SESSION=$bob_session ok --socket "$sockA" reply "$p1short" "Bob replies $mb"
KITH_SESSION=$bob_session no 1 'unknown group "Peer Talk"' --socket "$sockA" read -g "Peer Talk"
ok --socket "$sockA" show "$p1short" --json
jqt '.replies | length == 3'
jqt '[.replies[].author] == ["alice", "alice", "bob"]'

say "ambiguous id prefix (posts until two ids share their first 4 hex digits)"
declare -A seen=()
amb=""
for i in $(seq 1 4000); do
    id=$(k post --group "Peer Talk" --json "bulk $i" | jq -r .id) || fail "bulk post $i"
    pre=${id:0:4}
    if [ -n "${seen[$pre]:-}" ]; then
        amb=$pre
        break
    fi
    seen[$pre]=1
done
[ -n "$amb" ] || fail "no two of 4000 ids shared a 4-digit prefix"
no 1 "more than one post has an id starting with \"$amb\"" --socket "$sockA" show "$amb"
no 1 "more than one post has an id starting with \"$amb\"" --socket "$sockA" delete "$amb"
unset seen

say "delete: asks on a terminal (answer no keeps it), --yes, no terminal, JSON"
if command -v script >/dev/null; then
    out=$(printf 'n\n' | script -qec "'$KITH' --socket '$sockA' delete $p1short" /dev/null) &&
        fail "answering no should exit 1"
    has "Delete this post? [y/N]"
    has "nothing was deleted"
    ok --socket "$sockA" show "$p1short" --json
    jqt '.post.deleted == false'
fi
ok --socket "$sockA" delete "$p1short" </dev/null
has "Deleted $p1short."
ok --socket "$sockA" show "$p1short"
has "was deleted by its author"
hasnt "$m1"
ok --socket "$sockA" show "$p1short" --json
jqt '.post.deleted == true and (.post | has("body") | not)'
ok --socket "$sockA" delete "${p2:0:8}" --yes --json
jqt '.id == $a and .deleted == true' --arg a "$p2"
run --socket "$sockA" delete "${p2:0:8}" --yes
[ "$rc" -ne 0 ] || [[ "$out" == *Deleted* ]] || fail "second delete: $out $err"
ok --socket "$sockA" read -g Walkers
has "(deleted by its author)"

say "export: md and json hold alice's posts, not bob's, not deleted ones"
ok --socket "$sockA" export
has "$m3"
has "$m4"
has "A reply from alice"
hasnt "$mb"
hasnt "$m1"
ok --socket "$sockA" export --format json
jqt '.format == "json" and (.posts | length > 4)'
jqt '[.posts[].author] | unique == ["alice"]'
jqt '[.posts[] | select(.deleted)] | length == 0'
hasnt "$mb"
has "$m3"
ok --socket "$sockA" export --format md --json
jqt '.format == "md" and (.text | type == "string")'
ok --socket "$sockA" export --format md --output "$tmp/mine.md"
has "Saved your posts to $tmp/mine.md."
[ "$(stat -c %a "$tmp/mine.md")" = 600 ] || fail "export file is not mode 600"
grep -q "$m4" "$tmp/mine.md" || fail "export file lacks the post"
ok --socket "$sockA" export --format json -o "$tmp/mine.json" --json
jqt '.format == "json" and .output != null and .posts > 4'
jq -e --arg x "$m3" '[.posts[].body] | any(contains($x))' "$tmp/mine.json" >/dev/null ||
    fail "json export file lacks the post"
no 2 '--format is md' --socket "$sockA" export --format pdf
KITH_SESSION=$bob_session ok --socket "$sockA" export --format json
jqt '[.posts[].author] | unique == ["bob"]'
hasnt "$m3"

say "a reader that goes away early (| head): kith ends quietly"
set +o pipefail
"$KITH" --socket "$sockA" export --format json 2>"$tmp/pipe.err" | head -c 10 >/dev/null
rc=${PIPESTATUS[0]}
set -o pipefail
[ "$rc" -le 1 ] || fail "kith export | head exited $rc"
[ ! -s "$tmp/pipe.err" ] || fail "kith export | head said: $(cat "$tmp/pipe.err")"

say "after the node restarts, the kept session is gone: a clear line, then unlock works"
kill -TERM "${pids[0]}"
wait "${pids[0]}" || true
pids=("${pids[@]:1}")
start_node "$A"
no 1 '"alice" is locked now' --socket "$sockA" group list
has_err_unlock=$err
[[ "$has_err_unlock" == *"run: kith unlock alice"* ]] || fail "restart message: $err"
no 1 "no account is unlocked (run: kith unlock NAME)" --socket "$sockA" group list
ok --socket "$sockA" unlock alice
ok --socket "$sockA" show "${p3:0:12}" --json
jqt '.post.body | startswith("From stdin")'

# ----------------------------------------------------------------- node B
say "join on a second node with the invite code"
start_node "$B"
export KITH_PASSPHRASE="carol passphrase"
ok --socket "$sockB" account create carol
# Each node keeps its own session: alice is still unlocked on A.
ok --socket "$sockA" status
has 'You are unlocked as "alice"'
no 1 "that invite code is not valid" --socket "$sockB" join kith1-notarealcode
ok --socket "$sockB" join "$code"
has 'You joined "Walkers"'
ok --socket "$sockB" group list --json
jqt '[.groups[].name] == ["Walkers"]'
ok --socket "$sockB" read --group Walkers
has 'There are no posts in "Walkers" yet'
ok --socket "$sockB" post --group Walkers "Carol on node B"
has 'in "Walkers"'

say "the node stopping: a clear line, not a crash"
kill -TERM "${pids[-1]}"
wait "${pids[-1]}" || true
unset 'pids[-1]'
no 1 "the node is not running" --socket "$sockB" read --group Walkers
# A socket that accepts and then closes without answering: the node dying
# mid-request (socat plays the node that dies).
if command -v socat >/dev/null; then
    socat UNIX-LISTEN:"$tmp/dying.sock" SYSTEM:'head -c 10 >/dev/null' &
    pids+=($!)
    for i in $(seq 1 50); do [ -S "$tmp/dying.sock" ] && break; sleep 0.1; done
    no 1 "the node stopped before it answered" --socket "$tmp/dying.sock" status
fi
# A reader that goes away (kith read | head -1) ends quietly.
out=$(k read -g Walkers | head -1)
[ -n "$out" ] || fail "read | head printed nothing"

say "all done"
