#!/usr/bin/env bash
# Kith's developer setup: installs the Debian packages the build and tests
# need, builds, and then either runs a node or runs every test.
#
#   bash packaging/setup.sh run     set up, build, start kithd with built-in defaults
#   bash packaging/setup.sh test    set up, build, run every test (what CI runs)
#   bash packaging/setup.sh deps    only install the packages
#   bash packaging/setup.sh cross-deps  only the packages for the .deb and the arm64/armhf tests
#   bash packaging/setup.sh build   only build (into build/)
#
# Safe to run again: packages already installed are skipped, builds are
# incremental.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)

# What the build needs, then what only the tests need.
build_pkgs=(build-essential cmake pkg-config libsodium-dev libuv1-dev liblmdb-dev
            libjansson-dev libinih-dev libhttp-parser-dev libcmark-dev libqrencode-dev
            libsystemd-dev scdoc)
test_pkgs=(libcriterion-dev clang libclang-rt-14-dev clang-format clang-tidy cppcheck
           jq socat lmdb-utils procps iproute2 python3)
# The Debian package and the arm64/armhf cross builds (packaging/build-deb,
# tests/packaging/): debhelper, lintian, Debian's cross compilers, qemu, and
# for each foreign architecture the libraries of build_pkgs. Not
# libhttp-parser-dev:ARCH or libcriterion-dev:ARCH: they cannot be installed
# next to the amd64 ones (not Multi-Arch: same), so the cross builds link
# libhttp-parser2.9:ARCH directly and use tests/packaging/criterion.
cross_archs=(arm64 armhf)
cross_pkgs=(debhelper lintian qemu-user-static)
for a in "${cross_archs[@]}"; do
    cross_pkgs+=("crossbuild-essential-$a")
    for p in libsodium-dev libuv1-dev liblmdb-dev libjansson-dev libinih-dev libcmark-dev \
        libqrencode-dev libsystemd-dev libhttp-parser2.9 pkgconf pkg-config; do
        cross_pkgs+=("$p:$a")
    done
done

say() { printf '%s\n' "$*" >&2; }
die() { say "setup: $*"; exit 1; }

install_pkgs() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            say "setup: installing ${missing[*]} (with sudo)"
            sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
            sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
            return 0
        fi
        die "these Debian packages are missing and installing them needs root: ${missing[*]}
       run this script as root, or: sudo apt-get install ${missing[*]}"
    fi
    say "setup: installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

build() {  # build DIR [cmake args...]
    local dir=$1; shift
    cmake -S "$top" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
    cmake --build "$dir" -j "$jobs"
}

cmd_run() {
    install_pkgs "${build_pkgs[@]}"
    build "$top/build" -DKITH_TESTS=OFF
    local data=${KITH_DATA:-${XDG_DATA_HOME:-$HOME/.local/share}/kith}
    say "setup: starting kithd with built-in defaults (data in $data); Ctrl-C stops it"
    say "setup: in another terminal, try: $top/build/cli/kith --socket $data/kithd.sock status"
    exec "$top/build/node/kithd" --data "$data"
}

# The browser tests (tests/browser): Debian's chromium, node and npm (Debian's,
# unless a node and npm are already installed), and the npm packages pinned in
# tests/browser/package-lock.json. playwright-core needs node 20 or newer.
browser_deps() {
    install_pkgs chromium
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        install_pkgs nodejs npm
    fi
    (cd "$top/tests/browser" && npm ci --no-audit --no-fund --loglevel=error &&
        cp package-lock.json node_modules/.kith-lock)
}

# The foreign architectures must be known to dpkg before their packages can
# be installed.
cross_deps() {
    local a missing=()
    for a in "${cross_archs[@]}"; do
        dpkg --print-foreign-architectures | grep -qx "$a" || missing+=("$a")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        local sudo=()
        if [ "$(id -u)" -ne 0 ]; then
            command -v sudo >/dev/null 2>&1 ||
                die "adding the architectures ${missing[*]} needs root: dpkg --add-architecture ${missing[*]}"
            sudo=(sudo)
        fi
        for a in "${missing[@]}"; do
            say "setup: dpkg --add-architecture $a"
            "${sudo[@]}" dpkg --add-architecture "$a"
        done
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    fi
    install_pkgs "${cross_pkgs[@]}"
}

cmd_test() {
    install_pkgs "${build_pkgs[@]}" "${test_pkgs[@]}"
    cross_deps
    browser_deps
    bash "$top/tests/run-all.sh"
}

case "${1:-}" in
    deps) install_pkgs "${build_pkgs[@]}" "${test_pkgs[@]}"; cross_deps; browser_deps ;;
    cross-deps) install_pkgs "${build_pkgs[@]}"; cross_deps ;;
    build) install_pkgs "${build_pkgs[@]}" "${test_pkgs[@]}"; build "$top/build" ;;
    run) cmd_run ;;
    test) cmd_test ;;
    *) say "usage: bash packaging/setup.sh run|test|deps|cross-deps|build"; exit 2 ;;
esac
