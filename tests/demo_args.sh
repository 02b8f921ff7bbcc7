#!/bin/sh
# One bad argument of the ramdev CLI, as a new user would try it: the
# command must end (a hang fails under timeout), with the documented exit
# status, nothing on stdout, and exactly one line on stderr naming the
# option and its value.
# Usage: demo_args.sh path/to/ramdev CASE      Exit: 0 pass, 1 fail, 77 skip.
set -u
ramdev="$1"
case_name="$2"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
chmod 755 "$T"
printf 'host\n' >"$T/small"
head -c 8192 /dev/zero >"$T/page2"

# As root, permission cases run as nobody (root opens anything).
as_user=""
need_user() {
	if [ "$(id -u)" = 0 ]; then
		command -v setpriv >/dev/null ||
			{ echo "SKIP: root without setpriv to drop privileges"; exit 77; }
		as_user="setpriv --reuid=65534 --regid=65534 --clear-groups"
		# nobody must reach the program and its library: where the
		# build tree is out of its reach (a clone under /root), a copy
		# in $T, laid out as the build is ($ORIGIN/../lib).
		if ! $as_user test -x "$ramdev"; then
			mkdir -p "$T/bin" "$T/lib"
			cp "$ramdev" "$T/bin/" ||
				{ echo "FAIL: cannot copy $ramdev for nobody"; exit 1; }
			for l in "$(dirname "$ramdev")"/../lib/libramdev.so*; do
				[ -f "$l" ] && { cp "$l" "$T/lib/" ||
					{ echo "FAIL: cannot copy $l"; exit 1; }; }
			done
			chmod -R a+rX "$T/bin" "$T/lib"
			ramdev="$T/bin/$(basename "$ramdev")"
		fi
		$as_user test -x "$ramdev" ||
			{ echo "SKIP: nobody cannot run $ramdev"; exit 77; }
	fi
}

# CASE -> the arguments, the exit status, a word the line must hold.
cmd=demo
case "$case_name" in
bar_small) set -- --bar "$T/small"; want=8; word="at least 4096" ;;
bar_proc_empty) set -- --bar /proc/version; want=8; word="0 bytes" ;;
bar_huge) truncate -s 1100G "$T/huge" ||
		{ echo "SKIP: cannot make a sparse 1100 GiB file"; exit 77; }
	set -- --bar "$T/huge"; want=9; word="at most" ;;
bar_devnull) set -- --bar /dev/null; want=7; word="character device" ;;
bar_dir) set -- --bar "$T"; want=7; word="directory" ;;
bar_fifo) mkfifo "$T/fifo"; set -- --bar "$T/fifo"; want=7; word="FIFO" ;;
bar_not_mappable)
	f=/sys/kernel/profiling
	[ -f "$f" ] && [ -w "$f" ] ||
		{ echo "SKIP: no writable sysfs attribute $f"; exit 77; }
	set -- --bar "$f"; want=7; word="mapped" ;;
bar_missing) set -- --bar "$T/none"; want=5; word="must exist" ;;
bar_unreadable) need_user; chmod 000 "$T/page2"
	set -- --bar "$T/page2"; want=5; word="readable" ;;
bar_readonly) need_user; chmod 444 "$T/page2"
	set -- --bar "$T/page2"; want=6; word="read-only" ;;
image_proc) set -- --image /proc/version; want=7; word="size 0" ;;
image_small) set -- --image "$T/small"; want=8; word="at least 4096" ;;
image_no_dir) set -- --image "$T/none/img"; want=5; word="cannot open" ;;
image_readonly) need_user; chmod 444 "$T/page2"
	set -- --image "$T/page2"; want=6; word="read-only" ;;
inflight_nan) set -- --inflight abc; want=4; word="not a number" ;;
inflight_suffix) set -- --inflight 12x; want=4; word="not a number" ;;
inflight_zero) set -- --inflight 0; want=4; word="1..128" ;;
inflight_big) set -- --inflight 129; want=4; word="1..128" ;;
inflight_negative) set -- --inflight -1; want=4; word="not a number" ;;
bar_width_not_pow2) set -- --bar-width 24; want=4; word="not a power of two" ;;
bar_width_big) set -- --bar-width 128; want=4; word="1..64" ;;
policy_bad) set -- --policy fast; want=4; word="qemu-bounce, direct" ;;
engine_bad) set -- --engine aio; want=4; word="auto, uring, sync" ;;
unknown_option) set -- --bogus; want=2; word="unknown option" ;;
short_option) set -- -x; want=2; word="unknown option" ;;
missing_value) set -- --bar; want=2; word="needs a value" ;;
extra_operand) set -- direct; want=2; word="unexpected operand" ;;
unknown_command) cmd=frob; set --; want=2; word="unknown command" ;;
mtree_bar_small) cmd=mtree; set -- --bar "$T/small"; want=8; word="at least" ;;
mtree_extra) cmd=mtree; set -- x; want=2; word="unexpected operand" ;;
*) echo "demo_args: unknown case $case_name"; exit 1 ;;
esac

# The option and value the line must name (the first two arguments).
$as_user timeout 20 "$ramdev" "$cmd" "$@" >"$T/out" 2>"$T/err"
rc=$?
echo "ramdev $cmd $*  -> exit $rc"
cat "$T/err"
fail=0
[ "$rc" = 124 ] && { echo "FAIL: hung (killed after 20 s)"; exit 1; }
[ "$rc" = "$want" ] || { echo "FAIL: exit status $rc, want $want"; fail=1; }
[ -s "$T/out" ] && { echo "FAIL: output on stdout:"; cat "$T/out"; fail=1; }
[ "$(wc -l <"$T/err")" = 1 ] || { echo "FAIL: want exactly one line on stderr"; fail=1; }
grep -qF -- "$word" "$T/err" || { echo "FAIL: the line does not say '$word'"; fail=1; }
for a in "$@"; do
	grep -qF -- "$a" "$T/err" || { echo "FAIL: the line does not name '$a'"; fail=1; }
done
exit $fail
