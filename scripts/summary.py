#!/usr/bin/env python3
"""Print one closing line for `make test`: 'N passed, N failed, N skipped'.

Reads meson's testlog.json of each build directory named on the command line
and any 'cross: N passed, N failed, N skipped' line in the files named with
--extra, so CI sees the total of every suite that ran.
"""
import json
import re
import sys


def count_meson(path, totals):
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except OSError:
        print(f"summary: no test log at {path}", file=sys.stderr)
        totals["failed"] += 1
        return
    for line in lines:
        result = json.loads(line).get("result", "")
        if result == "OK" or result == "EXPECTEDFAIL":
            totals["passed"] += 1
        elif result == "SKIP":
            totals["skipped"] += 1
        else:
            totals["failed"] += 1


def count_extra(path, totals):
    try:
        text = open(path, encoding="utf-8").read()
    except OSError:
        return
    for m in re.finditer(r"(\d+) passed, (\d+) failed, (\d+) skipped", text):
        totals["passed"] += int(m.group(1))
        totals["failed"] += int(m.group(2))
        totals["skipped"] += int(m.group(3))


def main(argv):
    totals = {"passed": 0, "failed": 0, "skipped": 0}
    extra = False
    for arg in argv[1:]:
        if arg == "--extra":
            extra = True
            continue
        if extra:
            count_extra(arg, totals)
        else:
            count_meson(f"{arg}/meson-logs/testlog.json", totals)
    print(f"{totals['passed']} passed, {totals['failed']} failed, "
          f"{totals['skipped']} skipped")
    return 1 if totals["failed"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
