#!/bin/sh
# Run `ramdev demo` (both policies) and check what it must show: QEMU's
# failure under qemu-bounce, and a complete, verified write-back under direct.
# Usage: demo_check.sh path/to/ramdev [demo options...]
set -u
ramdev="$1"
shift
out=$("$ramdev" demo "$@")
rc=$?
printf '%s\n' "$out"
if [ "$rc" -ne 0 ]; then
	echo "demo_check: exit status $rc, want 0" >&2
	exit 1
fi
printf '%s\n' "$out" | grep -q 'virtio: bogus descriptor or out of resources' || {
	echo "demo_check: no bounce failure shown for qemu-bounce" >&2
	exit 1
}
printf '%s\n' "$out" | grep -Eq '^qemu-bounce +[0-9]+ +[0-9]+ +[1-9][0-9]* ' || {
	echo "demo_check: qemu-bounce row shows no failed request" >&2
	exit 1
}
printf '%s\n' "$out" | grep -Eq '^direct +([0-9]+) +\1 +0 +[0-9.]+ +OK ' || {
	echo "demo_check: direct row is not 'all completed, 0 failed, OK'" >&2
	exit 1
}
exit 0
