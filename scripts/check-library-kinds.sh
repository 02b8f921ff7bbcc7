#!/bin/sh
# Meson's standard -Ddefault_library=static and =shared (the default is
# both): each must configure and build warning-clean (--werror), and its
# install must work for a consumer (suite install: headers, man pages,
# ramdev.pc, the library of that kind).
# Usage: scripts/check-library-kinds.sh [KIND...]   (default: static shared)
# The last line counts the kinds for scripts/summary.py.
set -u
cd "$(dirname "$0")/.."
prefix="${KINDS_BUILD:-build-kinds}"
[ $# -gt 0 ] || set -- static shared
p=0
f=0
for kind in "$@"; do
	dir="$prefix-$kind"
	log="$dir.log"
	ok=1
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup --werror "$dir" -Ddefault_library="$kind" >"$log" 2>&1 ||
			{ ok=0; echo "FAIL: default_library=$kind does not configure"; }
	fi
	if [ $ok = 1 ] && ! ninja -C "$dir" >>"$log" 2>&1; then
		ok=0
		echo "FAIL: default_library=$kind does not build warning-clean"
	fi
	if [ $ok = 1 ] && ! meson test -C "$dir" --suite install \
		--print-errorlogs >>"$log" 2>&1; then
		ok=0
		echo "FAIL: default_library=$kind: suite install fails"
	fi
	if [ $ok = 1 ]; then
		p=$((p + 1))
		echo "PASS library-kind $kind"
	else
		f=$((f + 1))
		grep -E 'ERROR|error|warning|FAIL' "$log" | tail -n 20
		echo "(log: $log)"
	fi
done
echo "library-kinds: $p passed, $f failed, 0 skipped"
[ $f = 0 ]
