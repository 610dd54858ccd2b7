#!/usr/bin/env bash
# Cross-builds Kith's Criterion unit tests for ARCH (arm64 or armhf) with
# Debian's cross compiler and the :ARCH -dev packages, and runs them under
# qemu-user-static (ctest runs each binary through CMAKE_CROSSCOMPILING_EMULATOR,
# so binfmt_misc is not needed). Called by tests/run-all.sh; needs
# `bash packaging/setup.sh cross-deps`.
#
#   tests/packaging/cross-test.sh ARCH [BUILDDIR]     (default BUILDDIR: build-cross-ARCH)
#
# Two stand-ins, because some -dev packages cannot be installed for ARCH
# next to the amd64 ones (they are not Multi-Arch: same):
# - Criterion: tests/packaging/criterion (no Criterion at all for armhf in
#   Debian; for arm64 it conflicts through libnanomsg5 and libgit2-dev).
# - libhttp-parser-dev: its header is the same everywhere, so the build
#   uses the amd64 header and links ARCH's libhttp_parser.so.2.9 directly.
#
# -D_FILE_OFFSET_BITS=64, as in the package (future=+lfs in debian/rules):
# without it a 32-bit readdir() under qemu-user fails with EOVERFLOW on the
# host's 64-bit directory offsets.
#
# Left out under qemu (reported as skipped), because qemu-user does not
# emulate setsockopt(IP_MULTICAST_IF) with a struct ip_mreqn (ENOPROTOOPT;
# https://gitlab.com/qemu-project/qemu/-/issues/1837), so no IPv4 beacon
# leaves: the three discovery tests that need IPv4 multicast on a chosen
# interface. tests/run-all.sh runs them natively. CRS_EXCLUDE (suite::name,
# space-separated) replaces this list. Timeouts inside the tests are scaled
# by 10 (CRS_TIMEOUT_SCALE).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)
die() { printf 'cross-test: %s\n' "$*" >&2; exit 1; }

[ $# -ge 1 ] || die "usage: tests/packaging/cross-test.sh arm64|armhf [BUILDDIR]"
arch=$1
case "$arch" in
    arm64) triplet=aarch64-linux-gnu processor=aarch64 qemu=qemu-aarch64-static ;;
    armhf) triplet=arm-linux-gnueabihf processor=arm qemu=qemu-arm-static ;;
    *) die "unknown architecture $arch (arm64 or armhf)" ;;
esac
bdir=${2:-$top/build-cross-$arch}
cc=$triplet-gcc
command -v "$cc" >/dev/null || die "$cc is missing (bash packaging/setup.sh cross-deps)"
command -v "$qemu" >/dev/null || die "$qemu is missing (bash packaging/setup.sh cross-deps)"
httpp=/usr/lib/$triplet/libhttp_parser.so.2.9
[ -e "$httpp" ] || die "$httpp is missing (bash packaging/setup.sh cross-deps)"

# The Criterion stand-in, as a static library with a pkg-config file.
crit=$bdir/criterion
mkdir -p "$crit/pkgconfig"
"$cc" -std=c11 -O2 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
    -I "$top/tests/packaging/criterion/include" \
    -c "$top/tests/packaging/criterion/criterion.c" -o "$crit/criterion.o"
rm -f "$crit/libcriterion.a"
"$triplet-ar" rcs "$crit/libcriterion.a" "$crit/criterion.o"
cat >"$crit/pkgconfig/criterion.pc" <<PC
Name: criterion
Description: Kith's Criterion stand-in for emulated test runs
Version: 2.4.1
Cflags: -I$top/tests/packaging/criterion/include
Libs: -L$crit -lcriterion
PC

export PKG_CONFIG_LIBDIR=$crit/pkgconfig:/usr/lib/$triplet/pkgconfig:/usr/share/pkgconfig
cmake -S "$top" -B "$bdir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR="$processor" \
    -DCMAKE_C_COMPILER="$cc" -DCMAKE_CROSSCOMPILING_EMULATOR="$qemu" \
    -DCMAKE_C_FLAGS="-D_FILE_OFFSET_BITS=64" \
    -DPKG_CONFIG_EXECUTABLE=/usr/bin/pkg-config -DHTTP_PARSER_LIBRARY="$httpp" \
    -DKITH_TESTS=ON -DKITH_MAN=OFF -DKITH_SANITIZE=OFF -DKITH_FUZZ=OFF >/dev/null

# Only the unit tests (the integration tests start kithd and the CLI by path).
targets=()
for src in "$top"/tests/unit/test_*.c; do
    targets+=("$(basename "$src" .c)")
done
cmake --build "$bdir" -j "$jobs" --target "${targets[@]}"

export CRS_EXCLUDE=${CRS_EXCLUDE-discovery::two_nodes_hear_each_other_on_loopback \
discovery::own_beacons_ignored discovery::new_node_answered_at_once}
export CRS_TIMEOUT_SCALE=10
ctest --test-dir "$bdir" --output-on-failure -j "$jobs" -R '^test_'
