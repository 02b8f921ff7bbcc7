#!/bin/sh
# Build the access core freestanding (-ffreestanding -nostdlib: no libc, no
# start files) with tests/freestanding/main.c, link it statically against
# the compiler's runtime only, and run it.  A libc symbol the pair needs
# (getenv, strtoul, __assert_fail, ...) fails the link; a memcpy, memmove or
# memset call the compiler emitted fails the run.
# Usage: check.sh SOURCE_ROOT [CC...]     Exit: 0 pass, 1 fail, 77 skip.
set -u
src="$1"
shift
[ $# -gt 0 ] || set -- cc
case "$(uname -m)" in
x86_64 | aarch64) ;;
*) echo "SKIP: freestanding start code for x86_64 and aarch64 only"; exit 77 ;;
esac
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Debug (asserts trap) and release (-DNDEBUG) shapes.
for opt in "-O2" "-O2 -DNDEBUG"; do
	# shellcheck disable=SC2086
	if ! "$@" -std=gnu11 $opt -Wall -Wextra -Werror -ffreestanding -nostdlib \
		-static -fno-pie -fno-stack-protector -I"$src/include" \
		"$src/lib/access.c" "$src/tests/freestanding/main.c" -lgcc \
		-o "$out/fs" >"$out/log" 2>&1; then
		cat "$out/log"
		echo "FAIL: the access core does not build freestanding ($opt)"
		exit 1
	fi
	undef=$(nm -u "$out/fs")
	if [ -n "$undef" ]; then
		echo "FAIL: undefined symbols in the freestanding link: $undef"
		exit 1
	fi
	"$out/fs"
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "FAIL: freestanding run ($opt) exited $rc (the check that failed)"
		exit 1
	fi
done
echo "PASS: access.h + lib/access.c freestanding, debug and release"
