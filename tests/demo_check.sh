#!/bin/sh
# Run `ramdev demo` and check what it must show: QEMU's failure under
# qemu-bounce, and a complete, verified write-back under direct, with the
# documented exit status (0; 3 when only qemu-bounce ran).
# Usage: demo_check.sh path/to/ramdev [demo options...]
set -u
ramdev="$1"
shift
policy=both
prev=
for a in "$@"; do
	[ "$prev" = "--policy" ] && policy="$a"
	prev="$a"
done
out=$("$ramdev" demo "$@")
rc=$?
printf '%s\n' "$out"
want=0
[ "$policy" = "qemu-bounce" ] && want=3
if [ "$rc" -ne "$want" ]; then
	echo "demo_check: exit status $rc, want $want" >&2
	exit 1
fi
if [ "$policy" != "direct" ]; then
	printf '%s\n' "$out" | grep -q 'virtio: bogus descriptor or out of resources' || {
		echo "demo_check: no bounce failure shown for qemu-bounce" >&2
		exit 1
	}
	printf '%s\n' "$out" | grep -Eq '^qemu-bounce +[0-9]+ +[0-9]+ +[1-9][0-9]* ' || {
		echo "demo_check: qemu-bounce row shows no failed request" >&2
		exit 1
	}
fi
if [ "$policy" != "qemu-bounce" ]; then
	printf '%s\n' "$out" | grep -Eq '^direct +([0-9]+) +\1 +0 +[0-9.]+ +OK ' || {
		echo "demo_check: direct row is not 'all completed, 0 failed, OK'" >&2
		exit 1
	}
	printf '%s\n' "$out" | grep -q 'result: OK: direct: ' || {
		echo "demo_check: no 'result: OK' line" >&2
		exit 1
	}
else
	printf '%s\n' "$out" | grep -q 'result: NOT VERIFIED: the direct policy was not run' || {
		echo "demo_check: no reason given for exit status 3" >&2
		exit 1
	}
fi
exit 0
