#!/bin/sh
# Cross-build the access core with its plain-C tests and run them under
# qemu-user on the hosts that behave differently from x86_64 (DESIGN.md S7):
#   aarch64   64-bit little-endian, 16-byte SIMD wide path
#   riscv64   64-bit little-endian without SIMD (qemu-user emulates misaligned
#             accesses here, so only sparc64 proves alignment)
#   s390x     big-endian
#   sparc64   big-endian, strict alignment: qemu-user raises SIGBUS on a
#             misaligned access, which an alignment canary confirms first
#   armhf     32-bit: an 8-byte device access is two 4-byte ones
# Each target builds tests/access_values.c (value grid, --quick) and
# tests/access_endian.c statically at -O2, plus -O0 on sparc64 and armhf
# (asserts on in both; -O0 also keeps every helper out of line).
#
# Output: one line per target, "PASS <arch>", "FAIL <arch>: <why>" or
# "SKIP <arch>: <reason>", then "cross: N passed, N failed, N skipped".
# Build logs and test output go to build-cross/<arch>/.
# Exit: 0 when nothing failed, 1 on any failure, 77 when no target could run
# at all (no cross compiler or emulator installed: scripts/deps.sh test).
# Usage: scripts/test-cross.sh [arch...]   (default: all five)
set -u

case $0 in
*/*) cd "${0%/*}/.." || exit 1 ;;
*) cd .. || exit 1 ;;
esac
OUT=build-cross
CFLAGS_COMMON="-std=gnu11 -Wall -Wextra -Werror -static -Iinclude"
RUN_TIMEOUT=90
# Host signal numbers: qemu-user dies of the guest's signal, as the host's.
SIGBUS_NUM=7
i=1
while [ $i -lt 65 ]; do
	case $(kill -l $i 2>/dev/null) in
	BUS | SIGBUS) SIGBUS_NUM=$i && break ;;
	esac
	i=$((i + 1))
done

passed=0 failed=0 skipped=0
start=$(date +%s)

# arch -> "compiler-prefix qemu-name extra-O-levels"
target_info() {
	case "$1" in
	aarch64) echo "aarch64-linux-gnu aarch64 -O2" ;;
	riscv64) echo "riscv64-linux-gnu riscv64 -O2" ;;
	s390x) echo "s390x-linux-gnu s390x -O2" ;;
	sparc64) echo "sparc64-linux-gnu sparc64 -O2 -O0" ;;
	armhf) echo "arm-linux-gnueabihf arm -O2 -O0" ;;
	*) return 1 ;;
	esac
}

# Describe an exit status: "exit N", "killed by SIGx" or "timed out".
describe_rc() {
	if [ "$1" -eq 124 ]; then
		echo "timed out after ${RUN_TIMEOUT}s"
	elif [ "$1" -gt 128 ]; then
		echo "killed by SIG$(kill -l $(($1 - 128)) 2>/dev/null || echo "#$(($1 - 128))")"
	else
		echo "exit $1"
	fi
}

have_timeout=0
command -v timeout >/dev/null 2>&1 && have_timeout=1
# --foreground: let a signal-killed qemu report its own death status.
run() {
	if [ $have_timeout = 1 ]; then
		timeout --foreground "$RUN_TIMEOUT" "$@"
	else
		"$@"
	fi
}

# build <cc> <out> <flags> <sources...>; on failure prints the reason.
build() {
	b_cc=$1 b_exe=$2 b_opt=$3
	shift 3
	# shellcheck disable=SC2086
	if ! "$b_cc" $CFLAGS_COMMON $b_opt -o "$b_exe" "$@" >"$b_exe.build.log" 2>&1; then
		echo "build of $(basename "$b_exe") failed, see $b_exe.build.log"
		return 1
	fi
}

# test_target <arch>: prints the "PASS/FAIL/SKIP" line, returns 0/1/2.
test_target() {
	arch=$1
	# shellcheck disable=SC2046 # splitting the fields is the point
	set -- $(target_info "$arch")
	prefix=$1 qarch=$2
	shift 2
	cc="$prefix-gcc" qemu="qemu-$qarch-static"
	if ! command -v "$cc" >/dev/null 2>&1; then
		echo "SKIP $arch: no $cc"
		return 2
	fi
	if ! command -v "$qemu" >/dev/null 2>&1; then
		echo "SKIP $arch: no $qemu"
		return 2
	fi
	dir="$OUT/$arch"
	mkdir -p "$dir" || { echo "FAIL $arch: cannot create $dir"; return 1; }

	# The canary first: a pass on a strict-alignment target means nothing
	# unless a misaligned access really traps there.
	if [ "$arch" = sparc64 ]; then
		why=$(build "$cc" "$dir/misaligned_canary" -O2 \
			tests/cross/misaligned_canary.c) ||
			{ echo "FAIL $arch: $why"; return 1; }
		run "$qemu" "$dir/misaligned_canary" >"$dir/misaligned_canary.log" 2>&1
		rc=$?
		if [ $rc -ne $((128 + SIGBUS_NUM)) ]; then
			echo "FAIL $arch: alignment canary did not die of SIGBUS" \
				"($(describe_rc $rc)): $qemu does not trap misaligned" \
				"accesses, so this run would not catch one"
			return 1
		fi
	fi

	for opt in "$@"; do
		o=${opt#-}
		for prog in access_values access_endian; do
			exe="$dir/$prog-$o"
			why=$(build "$cc" "$exe" "$opt" lib/access.c "tests/$prog.c") ||
				{ echo "FAIL $arch: $why"; return 1; }
			args=
			[ $prog = access_values ] && args=--quick
			# shellcheck disable=SC2086
			run "$qemu" "$exe" $args >"$exe.log" 2>&1
			rc=$?
			if [ $rc -ne 0 ]; then
				first=$(grep -m1 -E 'FAIL|Assertion|rror' "$exe.log")
				echo "FAIL $arch: $prog $opt $(describe_rc $rc)${first:+: $first} (log: $exe.log)"
				return 1
			fi
		done
	done
	echo "PASS $arch"
	return 0
}

targets=${*:-aarch64 riscv64 s390x sparc64 armhf}
for arch in $targets; do
	if ! target_info "$arch" >/dev/null; then
		echo "test-cross: unknown target '$arch' (aarch64 riscv64 s390x sparc64 armhf)" >&2
		exit 2
	fi
done

# No cross tool at all: one SKIP for the whole run.
any=0
for arch in $targets; do
	# shellcheck disable=SC2046 # splitting the fields is the point
	set -- $(target_info "$arch")
	if command -v "$1-gcc" >/dev/null 2>&1 || command -v "qemu-$2-static" >/dev/null 2>&1; then
		any=1
	fi
done
if [ $any = 0 ]; then
	n=0
	for arch in $targets; do n=$((n + 1)); done
	echo "SKIP cross: no cross compiler and no qemu-user-static found (scripts/deps.sh test installs them)"
	echo "cross: 0 passed, 0 failed, $n skipped"
	exit 77
fi

for arch in $targets; do
	test_target "$arch"
	case $? in
	0) passed=$((passed + 1)) ;;
	1) failed=$((failed + 1)) ;;
	*) skipped=$((skipped + 1)) ;;
	esac
done

echo "cross: $passed passed, $failed failed, $skipped skipped ($(($(date +%s) - start)) s)"
[ $failed -eq 0 ] || exit 1
[ $passed -gt 0 ] || exit 77
exit 0
