#!/bin/sh
# Build the libFuzzer targets (clang, ASan + UBSan, coverage hooks on the whole
# library) in build-fuzz/ and run one for SECONDS (default 60).
# Usage: scripts/fuzz.sh [SECONDS] [TARGET]    TARGET defaults to virtq.
# FUZZ_RUNS=N also stops the run after N executions (whichever comes first).
# fuzz/TARGET.options, if present, adds libFuzzer flags (one a line, # notes).
# New inputs go to build-fuzz/corpus-TARGET/; the seeds in fuzz/corpus/TARGET/
# are read, never written.  Exit status: 0 clean run, 1 a finding (the
# reproducer is saved as build-fuzz/crash-*) or a build that does not
# configure or build, 77 (skip) only when clang is not installed.
set -eu
secs="${1:-60}"
target="${2:-virtq}"
cd "$(dirname "$0")/.."
build="${FUZZ_BUILD:-build-fuzz}"

if ! command -v clang >/dev/null 2>&1; then
	echo "fuzz: skipped: clang is not installed" >&2
	exit 77
fi
# A build that fails to configure or build is a failure: clang is here, so
# the fuzzer should run (a missing libFuzzer runtime, say, must show).
if [ ! -f "$build/build.ninja" ]; then
	if ! CC=clang meson setup --werror "$build" -Dfuzz=true \
		-Db_sanitize=address,undefined -Db_lundef=false \
		>"$build.setup.log" 2>&1; then
		tail -n 20 "$build.setup.log" >&2
		echo "fuzz: FAIL: the fuzz build does not configure" \
			"(CC=clang meson setup $build -Dfuzz=true; log $build.setup.log)" >&2
		exit 1
	fi
	rm -f "$build.setup.log"
fi
if ! meson introspect "$build" --buildoptions 2>/dev/null | python3 -c '
import json, sys
sys.exit(not any(o["name"] == "fuzz" and o["value"] is True
		 for o in json.load(sys.stdin)))'; then
	echo "fuzz: FAIL: $build is not a -Dfuzz=true build (remove it, or set" \
		"FUZZ_BUILD)" >&2
	exit 1
fi
if ! ninja -C "$build" -t targets all | grep -q "^fuzz/fuzz_$target:"; then
	echo "fuzz: FAIL: no target fuzz_$target in fuzz/meson.build" >&2
	exit 1
fi
if ! ninja -C "$build" "fuzz/fuzz_$target" >"$build/fuzz-build.log" 2>&1; then
	tail -n 30 "$build/fuzz-build.log" >&2
	echo "fuzz: FAIL: fuzz_$target does not build (log $build/fuzz-build.log)" >&2
	exit 1
fi

opts=""
if [ -f "fuzz/$target.options" ]; then
	opts=$(sed -e 's/#.*//' "fuzz/$target.options" | tr '\n' ' ')
fi
work="$build/corpus-$target"
mkdir -p "$work"
UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" \
exec "$build/fuzz/fuzz_$target" -max_total_time="$secs" -print_final_stats=1 \
	${FUZZ_RUNS:+-runs="$FUZZ_RUNS"} $opts \
	-timeout=10 -rss_limit_mb=2048 -artifact_prefix="$build/" \
	"$work" "fuzz/corpus/$target"
