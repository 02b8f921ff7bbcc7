#!/bin/sh
# Build the libFuzzer targets (clang, ASan + UBSan, coverage hooks on the whole
# library) in build-fuzz/ and run one for SECONDS (default 60).
# Usage: scripts/fuzz.sh [SECONDS] [TARGET]    TARGET defaults to virtq.
# FUZZ_RUNS=N also stops the run after N executions (whichever comes first).
# fuzz/TARGET.options, if present, adds libFuzzer flags (one a line, # notes).
# New inputs go to build-fuzz/corpus-TARGET/; the seeds in fuzz/corpus/TARGET/
# are read, never written.  Exit status: 0 clean run, 1 a finding (the
# reproducer is saved as build-fuzz/crash-*), 77 when clang is missing.
set -eu
secs="${1:-60}"
target="${2:-virtq}"
cd "$(dirname "$0")/.."
build="${FUZZ_BUILD:-build-fuzz}"

if ! command -v clang >/dev/null 2>&1; then
	echo "fuzz: skipped: clang is not installed" >&2
	exit 77
fi
if [ ! -f "$build/build.ninja" ]; then
	CC=clang meson setup "$build" -Dfuzz=true \
		-Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
if ! ninja -C "$build" -t targets all | grep -q "^fuzz/fuzz_$target:"; then
	echo "fuzz: skipped: fuzz_$target is not built in this tree" >&2
	exit 77
fi
ninja -C "$build" "fuzz/fuzz_$target" >/dev/null

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
