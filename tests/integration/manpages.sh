#!/usr/bin/env bash
# manpages.sh: the man pages (packaging/man/*.scd, built into the build
# directory's man/) cover what the programs do: every subcommand that
# `kith help` lists has its own subsection in kith.1; every setting kithd
# accepts (the settings table in node/config.c, and the `;name =` lines of
# packaging/kithd.conf.example, which must agree) is described under its
# section in kithd.conf.5; every option of `kithd --help` is in kithd.8; and
# groff renders each page with every warning turned on and says nothing.
#
# Needs: KITH, KITHD, KITH_SOURCE_DIR; groff (and man, for `man -l`).
set -euo pipefail

: "${KITH:?set KITH to the kith binary}"
: "${KITHD:?set KITHD to the kithd binary}"
: "${KITH_SOURCE_DIR:?set KITH_SOURCE_DIR to the source tree}"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kith-man.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

. "$(dirname "${BASH_SOURCE[0]}")/lib/checks.bash"

# The pages the build made (build/cli/kith -> build/man); a build without
# them (KITH_MAN=OFF) gets them made here from the sources.
man_dir=$(cd "$(dirname "$KITH")/.." && pwd)/man
if [ ! -f "$man_dir/kith.1" ]; then
    if ! command -v scdoc >/dev/null 2>&1; then
        echo "not ok - the man pages were not built and scdoc is not installed (apt-get install scdoc)"
        exit 1
    fi
    man_dir="$tmp/man"
    mkdir "$man_dir"
    for page in kith.1 kithd.8 kithd.conf.5; do
        scdoc <"$KITH_SOURCE_DIR/packaging/man/$page.scd" >"$man_dir/$page"
    done
fi
for page in kith.1 kithd.8 kithd.conf.5; do
    if [ -s "$man_dir/$page" ]; then
        ok "$page was built"
    else
        not_ok "$page was built" "missing: $man_dir/$page"
    fi
done

# ---- every subcommand of `kith help` has a subsection in kith.1 ----
# The command list: the lines under "Commands:" up to the blank line. A
# command's name is its leading lower-case words ("group create NAME ..."
# -> "group create").
"$KITH" help >"$tmp/help.txt"
awk '/^Commands:/ { on = 1; next } on && /^$/ { exit } on && /^  [a-z]/ {
        name = ""
        for (i = 1; i <= NF; i++) { if ($i !~ /^[a-z]+$/) break; name = name (name == "" ? "" : " ") $i }
        print name
    }' "$tmp/help.txt" | sed 's/ *$//' >"$tmp/commands.txt"
# A summary that starts with a lower-case word would run into the name.
awk '{ for (i = 1; i <= NF; i++) if (i > 2) { print "bad: " $0; exit 1 } }' "$tmp/commands.txt" ||
    not_ok "command names parse" "$(cat "$tmp/commands.txt")"
n_commands=$(wc -l <"$tmp/commands.txt")
if [ "$n_commands" -ge 15 ]; then
    ok "kith help lists $n_commands commands"
else
    not_ok "kith help lists the commands" "found only: $(tr '\n' ',' <"$tmp/commands.txt")"
fi
missing=()
while read -r cmd; do
    grep -qx "\.SS $cmd" "$man_dir/kith.1" || missing+=("$cmd")
done <"$tmp/commands.txt"
if [ ${#missing[@]} -eq 0 ]; then
    ok "every command has a subsection in kith.1"
else
    not_ok "every command has a subsection in kith.1" "missing: ${missing[*]}"
fi
if grep -q '^\.SH EXAMPLES' "$man_dir/kith.1" &&
    [ "$(grep -m1 -n '^\.SH EXAMPLES' "$man_dir/kith.1" | cut -d: -f1)" -lt \
        "$(grep -m1 -n '^\.SH COMMANDS' "$man_dir/kith.1" | cut -d: -f1)" ]; then
    ok "kith.1 shows examples before the commands"
else
    not_ok "kith.1 shows examples before the commands"
fi

# ---- every setting is in kithd.conf.5, under its section ----
# From the parser's table: {"section", "name", set_..., repeatable}.
sed -n 's/^ *{"\([a-z]*\)", "\([a-z_]*\)", set_[a-z_]*, [01]},$/\1.\2/p' \
    "$KITH_SOURCE_DIR/node/config.c" | sort -u >"$tmp/parser.txt"
# From the example: the section of each ";name = value" line (a commented
# ";[serial]" repeats a section already seen).
awk '/^\[[a-z]+\]/ { sec = substr($1, 2, length($1) - 2); next }
     /^;[a-z_]+ =/ { name = substr($1, 2); print sec "." name }' \
    "$KITH_SOURCE_DIR/packaging/kithd.conf.example" | sort -u >"$tmp/example.txt"
n_settings=$(wc -l <"$tmp/parser.txt")
if [ "$n_settings" -ge 20 ] && cmp -s "$tmp/parser.txt" "$tmp/example.txt"; then
    ok "the parser's $n_settings settings are the example's"
else
    not_ok "the parser's settings are the example's" \
        "$(diff "$tmp/parser.txt" "$tmp/example.txt" | tr '\n' ' ')"
fi
missing=()
while IFS=. read -r sec name; do
    # The lines from ".SH [sec]" to the next ".SH", where a setting's entry
    # starts with its name in bold.
    if ! awk -v sec="[$sec]" -v name="$name" '
            /^\.SH / { on = ($0 == ".SH " sec || $0 == ".SH \"" sec "\""); next }
            on && index($0, "\\fB" name "\\fR") == 1 { found = 1 }
            END { exit found ? 0 : 1 }' "$man_dir/kithd.conf.5"; then
        missing+=("[$sec] $name")
    fi
done < <(sort -u "$tmp/parser.txt" "$tmp/example.txt")
if [ ${#missing[@]} -eq 0 ]; then
    ok "every setting is described under its section in kithd.conf.5"
else
    not_ok "every setting is described under its section in kithd.conf.5" "missing: ${missing[*]}"
fi
# (scdoc writes "conf.d" as "conf.\&d".)
if grep -Eq 'conf\.(\\&)?d' "$man_dir/kithd.conf.5" && grep -q 'SIGHUP' "$man_dir/kithd.conf.5"; then
    ok "kithd.conf.5 tells of conf.d and reloading"
else
    not_ok "kithd.conf.5 tells of conf.d and reloading"
fi

# ---- every kithd option is in kithd.8 ----
"$KITHD" --help | grep -o -- '--[a-z][a-z-]*' | sort -u >"$tmp/options.txt"
missing=()
while read -r opt; do
    # roff writes a "-" as "\-" or leaves it.
    grep -q -- "\\\\fB$(sed 's/-/\\\\\\?-/g' <<<"$opt")" "$man_dir/kithd.8" || missing+=("$opt")
done <"$tmp/options.txt"
if [ "$(wc -l <"$tmp/options.txt")" -ge 10 ] && [ ${#missing[@]} -eq 0 ]; then
    ok "every option of kithd --help is in kithd.8"
else
    not_ok "every option of kithd --help is in kithd.8" "missing: ${missing[*]}"
fi
for word in NOTIFY_SOCKET READY=1 RELOADING=1 STOPPING=1 SIGHUP; do
    if grep -q "$word" "$man_dir/kithd.8"; then
        ok "kithd.8 tells of $word"
    else
        not_ok "kithd.8 tells of $word"
    fi
done

# ---- each page renders without a warning ----
for page in kith.1 kithd.8 kithd.conf.5; do
    out=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$man_dir/$page" 2>&1) && rc=0 || rc=$?
    if [ "$rc" = 0 ] && [ -z "$out" ]; then
        ok "groff renders $page without warnings"
    else
        not_ok "groff renders $page without warnings" "exit $rc" "$out"
    fi
    if command -v man >/dev/null 2>&1; then
        rc=0
        text=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$man_dir/$page" 2>"$tmp/man.err") ||
            rc=$?
        if [ "$rc" = 0 ] && [ ! -s "$tmp/man.err" ] && grep -q '^NAME' <<<"$text"; then
            ok "man -l shows $page"
        else
            not_ok "man -l shows $page" "exit $rc" "$(cat "$tmp/man.err")"
        fi
    fi
done

checks_end
