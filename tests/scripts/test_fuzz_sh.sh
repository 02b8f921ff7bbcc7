#!/bin/sh
# scripts/fuzz.sh skips (77) only when clang is missing; a fuzz build that
# does not configure, or a build directory that is not a fuzz build, is a
# failure (1) with a line saying so, never a skip.
# Usage: test_fuzz_sh.sh SOURCE_ROOT      Exit: 0 pass, 1 fail, 77 skip.
set -u
src="$1"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0

# 1. clang is installed but cannot build anything: setup fails.
mkdir "$T/bin"
printf '#!/bin/sh\necho "fake clang: broken" >&2\nexit 1\n' >"$T/bin/clang"
chmod +x "$T/bin/clang"
PATH="$T/bin:$PATH" FUZZ_BUILD="$T/fb1" "$src/scripts/fuzz.sh" 1 virtq \
	>"$T/log1" 2>&1
rc=$?
echo "broken clang: exit $rc: $(tail -n 1 "$T/log1")"
[ $rc = 1 ] && grep -q 'does not configure' "$T/log1" ||
	{ echo "FAIL: want exit 1 and 'does not configure'"; fail=1; }

# 2. FUZZ_BUILD names a configured tree that has no fuzz targets.
command -v meson >/dev/null || { echo "SKIP: no meson"; exit 77; }
mkdir "$T/p"
echo "project('notfuzz', 'c')" >"$T/p/meson.build"
if ! meson setup "$T/fb2" "$T/p" >"$T/setup2" 2>&1; then
	cat "$T/setup2"
	echo "SKIP: cannot configure a scratch meson project"
	exit 77
fi
FUZZ_BUILD="$T/fb2" "$src/scripts/fuzz.sh" 1 virtq >"$T/log2" 2>&1
rc=$?
echo "not a fuzz build: exit $rc: $(tail -n 1 "$T/log2")"
[ $rc = 1 ] && grep -q 'FAIL' "$T/log2" ||
	{ echo "FAIL: want exit 1 and a FAIL line"; fail=1; }

# 3. No clang at all: the one skip.  PATH without clang: a directory with
# only the tools fuzz.sh calls before the check.
mkdir "$T/noclang"
for t in sh dirname; do
	p=$(command -v $t) && ln -s "$p" "$T/noclang/$t"
done
PATH="$T/noclang" FUZZ_BUILD="$T/fb3" "$src/scripts/fuzz.sh" 1 virtq \
	>"$T/log3" 2>&1
rc=$?
echo "no clang: exit $rc: $(tail -n 1 "$T/log3")"
[ $rc = 77 ] || { echo "FAIL: want exit 77 without clang"; fail=1; }
exit $fail
