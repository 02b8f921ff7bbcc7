#!/bin/sh
# Install the Debian 12 packages that building and testing ramdev needs.
# Only what is missing is installed, so a second run costs one dpkg query.
# Usage: scripts/deps.sh [build|test|bench]   (test adds the oracles, cross
# tools and the integration test's QEMU; bench adds fio for bench/guest_fio.sh)
set -eu

want="${1:-test}"

build_pkgs="meson ninja-build pkg-config gcc clang libc6-dev
libcmocka-dev liburcu-dev liburing-dev python3"
# libclang-rt-14-dev: clang's ThreadSanitizer and libFuzzer runtimes
# (make test-tsan, make test-fuzz); clang alone does not pull it in.
# llvm-14: llvm-symbolizer, without which TSan cannot name the functions
# that tests/tsan.supp suppresses.
# qemu-system-x86 (with qemu-storage-daemon), linux-image-amd64,
# busybox-static, cpio: the vhost-user-blk integration test boots a real
# Linux guest against the daemon.
# groff-base: the man page checks render each page (suite install).
test_pkgs="valgrind binutils gnuplot-nox linux-perf libclang-rt-14-dev llvm-14
groff-base
qemu-user-static binfmt-support
gcc-aarch64-linux-gnu libc6-dev-arm64-cross
gcc-riscv64-linux-gnu libc6-dev-riscv64-cross
gcc-s390x-linux-gnu libc6-dev-s390x-cross
gcc-sparc64-linux-gnu libc6-dev-sparc64-cross
gcc-arm-linux-gnueabihf libc6-dev-armhf-cross
qemu-system-x86 linux-image-amd64 busybox-static cpio fio"

# fio: only bench/guest_fio.sh (not make test), and it pulls in Ceph's,
# Gluster's and RDMA's client libraries: asked for by name.
bench_pkgs="fio"

pkgs="$build_pkgs"
[ "$want" = test ] || [ "$want" = bench ] && pkgs="$pkgs $test_pkgs"
[ "$want" = bench ] && pkgs="$pkgs $bench_pkgs"

missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing (run as root, or install them)" >&2
	exit 1
fi
echo "deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
