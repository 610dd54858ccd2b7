#!/usr/bin/env bash
# The packaging test (the `package` step of tests/run-all.sh): builds the
# Debian packages with packaging/build-deb, runs lintian on them (no errors,
# no warnings), scores kithd.service with `systemd-analyze security
# --offline=true` (2.5 or lower), installs each .deb into a scratch root
# with dpkg --root and checks its files, starts each architecture's
# installed kithd (arm64 and armhf under qemu-user-static) with the packaged
# default config, its paths pointed at a temporary state directory by a
# conf.d drop-in, to see it come up: READY=1 on a notify socket, the web
# page answers, `kith status` works over a 0660 control socket, SIGHUP
# reloads, SIGTERM stops it cleanly;
# last, purges each package from its scratch root and checks what is left.
#
#   tests/packaging/package-test.sh [OUTDIR]    (default OUTDIR: build-deb-out)
#
# DEB_ARCHS (default "amd64 arm64 armhf") picks the architectures;
# PACKAGE_TEST_PREBUILT=1 tests the packages already in OUTDIR.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=${1:-$top/build-deb-out}
read -r -a archs <<<"${DEB_ARCHS:-amd64 arm64 armhf}"
die() { printf 'package-test: %s\n' "$*" >&2; exit 1; }
step() { printf -- '--- %s\n' "$*"; }

version=$(dpkg-parsechangelog -l "$top/packaging/debian/changelog" -S Version)
build_arch=$(dpkg --print-architecture)
tmp=$(mktemp -d /tmp/kith-pkgtest.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

if [ -z "${PACKAGE_TEST_PREBUILT:-}" ]; then
    step "build (packaging/build-deb ${archs[*]})"
    rm -f "$out"/kith_* "$out"/kith-dbgsym_*
    "$top/packaging/build-deb" "$out" "${archs[@]}"
fi

step "lintian"
changes=()
for arch in "${archs[@]}"; do
    changes+=("$out/kith_${version}_$arch.changes")
done
# Root is how CI runs; lintian's note about it is not a finding.
lint_ok=1
lint=$(lintian --fail-on error,warning --info "${changes[@]}" 2>&1) || lint_ok=0
grep -v '^running with root privileges' <<<"$lint" || true
[ "$lint_ok" = 1 ] || die "lintian found errors or warnings"
echo "lintian: no errors, no warnings"

# dpkg --root into a scratch root, maintainer scripts run outside a chroot
# with DPKG_ROOT set (systemd-sysusers --root, deb-systemd-helper). A
# policy-rc.d that says no keeps deb-systemd-invoke from starting anything on
# a build machine that runs systemd.
dpkg_root() {  # dpkg_root WHAT DPKG-ARGS...  (uses $root and $arch)
    local what=$1
    shift
    if [ ! -d "$root/var/lib/dpkg" ]; then
        mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/usr/sbin"
        : >"$root/var/lib/dpkg/status"
        : >"$root/var/lib/dpkg/available"
        printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
        chmod +x "$root/usr/sbin/policy-rc.d"
    fi
    DPKG_ROOT=$root dpkg --root="$root" --force-script-chrootless --force-depends \
        --force-architecture --log=/dev/null "$@" >"$tmp/dpkg-$what-$arch.log" 2>&1 ||
        { cat "$tmp/dpkg-$what-$arch.log" >&2; die "$arch: dpkg --root could not $what the package"; }
}

for arch in "${archs[@]}"; do
    step "dpkg --root install of kith_${version}_$arch.deb, its files"
    deb=$out/kith_${version}_$arch.deb
    dbg=$out/kith-dbgsym_${version}_$arch.deb
    root=$tmp/root-$arch
    dpkg_root install -i "$deb"
    dbgfiles=$(dpkg-deb -c "$dbg")
    for f in usr/sbin/kithd usr/bin/kith etc/kith/kithd.conf etc/kith/conf.d/README \
        lib/systemd/system/kithd.service usr/lib/sysusers.d/kith.conf \
        usr/share/kith/avahi/kith.service usr/share/kith/web/templates \
        usr/share/man/man1/kith.1.gz usr/share/man/man5/kithd.conf.5.gz \
        usr/share/man/man8/kithd.8.gz usr/share/doc/kith/copyright usr/share/doc/kith/PI.md.gz; do
        [ -e "$root/$f" ] || die "$arch: /$f is missing"
    done
    for f in /etc/kith/kithd.conf /etc/kith/conf.d/README; do
        grep -qx "$f" "$root/var/lib/dpkg/info/kith.conffiles" || die "$arch: $f is not a conffile"
    done
    for l in 'data_dir = /var/lib/kith' 'socket = /run/kith/kithd.sock' 'group = kith' \
        ';listen = 127.0.0.1:7780'; do
        grep -qx "$l" "$root/etc/kith/kithd.conf" || die "$arch: kithd.conf lacks '$l'"
    done
    # Every setting of the example is there, commented out or set.
    settings() { sed -n 's/^;\{0,1\}\([a-z_]*\) = .*/\1/p' "$1" | sort -u; }
    [ "$(settings "$top/packaging/kithd.conf.example")" = "$(settings "$root/etc/kith/kithd.conf")" ] ||
        die "$arch: kithd.conf does not have every setting of kithd.conf.example"
    machine=$(case $arch in amd64) echo X86-64 ;; arm64) echo AArch64 ;; armhf) echo ARM ;; esac)
    for b in usr/sbin/kithd usr/bin/kith; do
        elf=$(readelf -hSdlnW "$root/$b")
        grep -q "Machine: *.*$machine" <<<"$elf" || die "$arch: /$b is not for $machine"
        grep -q '\.debug_info' <<<"$elf" && die "$arch: /$b is not stripped"
        grep -q 'Type: *DYN' <<<"$elf" || die "$arch: /$b is not PIE"
        grep -q 'BIND_NOW' <<<"$elf" || die "$arch: /$b lacks BIND_NOW"
        grep -q GNU_RELRO <<<"$elf" || die "$arch: /$b lacks RELRO"
        id=$(sed -n 's/.*Build ID: *//p' <<<"$elf")
        grep -q "/usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug" <<<"$dbgfiles" ||
            die "$arch: kith-dbgsym has no debug symbols for /$b"
    done
    python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' \
        "$root/usr/share/kith/avahi/kith.service" || die "$arch: the Avahi service file is not XML"
    grep -q '^kith:' "$root/etc/group" || die "$arch: the postinst made no kith group"
    [ -L "$root/etc/systemd/system/multi-user.target.wants/kithd.service" ] ||
        die "$arch: the postinst did not enable kithd.service"
    echo "ok"
done

step "systemd unit"
unit=$tmp/root-${archs[0]}/lib/systemd/system/kithd.service
# shellcheck disable=SC2016 # $MAINPID is meant literally
for d in Type=notify DynamicUser=yes StateDirectory=kith ConfigurationDirectory=kith \
    RuntimeDirectory=kith Restart=on-failure NoNewPrivileges=yes ProtectSystem=strict \
    ProtectHome=yes PrivateTmp=yes ProtectKernelTunables=yes ProtectKernelModules=yes \
    ProtectKernelLogs=yes ProtectControlGroups=yes RestrictNamespaces=yes LockPersonality=yes \
    MemoryDenyWriteExecute=yes SystemCallFilter=@system-service 'SupplementaryGroups=kith dialout' \
    'ExecReload=/bin/kill -HUP $MAINPID' 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK' \
    'DeviceAllow=char-rfcomm rw' 'DeviceAllow=char-ttyUSB rw'; do
    grep -qxF "$d" "$unit" || die "kithd.service lacks $d"
done
grep -q '^Documentation=' "$unit" || die "kithd.service lacks Documentation="
analysis=$(systemd-analyze security --offline=true --no-pager "$unit" 2>&1)
! grep -E 'Unknown (key|section)|Failed to parse|[Ii]nvalid' <<<"$analysis" ||
    die "systemd does not understand part of kithd.service"
score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$analysis")
[ -n "$score" ] || die "systemd-analyze security gave no score"
echo "systemd-analyze security --offline=true: $score"
awk -v s="$score" 'BEGIN { exit !(s <= 2.5) }' || die "kithd.service exposure $score is over 2.5"

for arch in "${archs[@]}"; do
    step "start the installed kithd ($arch)"
    root=$tmp/root-$arch
    emu=()
    case $arch in
        "$build_arch") ;;
        arm64) emu=(qemu-aarch64-static) ;;
        armhf) emu=(qemu-arm-static) ;;
    esac
    run=$tmp/run-$arch
    mkdir -p "$run/etc/kith/conf.d" "$run/state"
    cp "$root/etc/kith/kithd.conf" "$run/etc/kith/"
    web_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    # The packaged paths, moved into the scratch directory; ports that do not
    # clash with other tests; the invoking user's group stands in for kith.
    cat >"$run/etc/kith/conf.d/90-test.conf" <<CONF
[node]
data_dir = $run/state
[control]
socket = $run/kithd.sock
group = $(id -gn)
[sync]
listen = 127.0.0.1:0
discovery = off
[web]
listen = 127.0.0.1:$web_port
CONF
    KITH_CONTENT=$root/usr/share/kith python3 "$top/tests/packaging/notify-run.py" \
        --log "$run/kithd.log" --web "http://127.0.0.1:$web_port/" --socket "$run/kithd.sock" \
        --cli "${emu[*]:+${emu[*]} }$root/usr/bin/kith" -- \
        "${emu[@]}" "$root/usr/sbin/kithd" --config "$run/etc/kith/kithd.conf" ||
        { tail -n 20 "$run/kithd.log" >&2; die "the installed kithd ($arch) did not come up as it should"; }
done
for arch in "${archs[@]}"; do
    step "dpkg --root purge ($arch)"
    root=$tmp/root-$arch
    dpkg_root purge --purge kith
    for f in etc/kith usr/sbin/kithd usr/bin/kith lib/systemd/system/kithd.service \
        etc/systemd/system/multi-user.target.wants/kithd.service; do
        if [ -e "$root/$f" ] || [ -L "$root/$f" ]; then
            die "$arch: /$f is left after purge"
        fi
    done
    echo "ok"
done
step "package test passed"
