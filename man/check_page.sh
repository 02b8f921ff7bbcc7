#!/bin/sh
# Render a man page the way man(1) does and fail on any warning: groff with
# all warnings (-ww), and mandoc's linter when it is installed.
# Usage: check_page.sh PAGE      Exit: 0 pass, 1 fail, 77 skip (no groff).
set -u
page="$1"
command -v groff >/dev/null ||
	{ echo "SKIP: groff is not installed (Debian: groff-base)"; exit 77; }
[ -s "$page" ] || { echo "FAIL: $page is missing or empty"; exit 1; }
out=$(groff -man -ww -z -Tutf8 "$page" 2>&1)
if [ -n "$out" ]; then
	printf '%s\n' "$out"
	echo "FAIL: groff warns on $page"
	exit 1
fi
if command -v mandoc >/dev/null; then
	out=$(mandoc -T lint -W warning "$page" 2>&1)
	if [ -n "$out" ]; then
		printf '%s\n' "$out"
		echo "FAIL: mandoc warns on $page"
		exit 1
	fi
fi
lines=$(groff -man -Tutf8 "$page" 2>/dev/null | wc -l)
[ "$lines" -gt 20 ] || { echo "FAIL: $page renders to only $lines lines"; exit 1; }
echo "PASS: $page renders without warnings ($lines lines)"
