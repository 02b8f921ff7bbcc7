#!/usr/bin/env python3
"""Print one closing line for `make test`: 'N passed, N failed, N skipped'.

Reads meson's testlog.json of each build directory named on the command line
and any 'NAME: N passed, N failed, N skipped' line in the files named with
--extra, so CI sees the total of every suite that ran.

A cmocka program is counted by its own per-test results, not as one test:
cmocka's summary lines ('[  PASSED  ] N test(s).', '[  SKIPPED ] N test(s),
listed below:', '[  FAILED  ] N test(s), listed below:') per group, so a test
that called skip() (no io_uring on this host, say) is a skip, not a pass.
Tests a group announced ('Running N test(s)') but never reported (the
program crashed) count as failed, and so does a program meson saw fail
whose cmocka summaries report no failure (a sanitizer, a leak, a crash
after the last test).  Any other program is one test, by meson's result.
"""
import json
import re
import sys

CMOCKA_RUNNING = re.compile(r"^\[==========\] Running (\d+) test\(s\)\.",
                            re.M)
CMOCKA_COUNT = {
    "passed": re.compile(r"^\[  PASSED  \] (\d+) test\(s\)\.", re.M),
    "skipped": re.compile(r"^\[  SKIPPED \] (\d+) test\(s\), listed below:",
                          re.M),
    "failed": re.compile(r"^\[  FAILED  \] (\d+) test\(s\), listed below:",
                         re.M),
}


def count_cmocka(text, meson_ok, totals):
    """Count a cmocka program's tests; False if @text is not cmocka's."""
    announced = sum(int(n) for n in CMOCKA_RUNNING.findall(text))
    if not announced:
        return False
    got = {k: sum(int(n) for n in rx.findall(text))
           for k, rx in CMOCKA_COUNT.items()}
    missing = announced - sum(got.values())
    if missing > 0:
        got["failed"] += missing
    if not meson_ok and not got["failed"]:
        got["failed"] = 1
    for k, n in got.items():
        totals[k] += n
    return True


def count_meson(path, totals):
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except OSError:
        print(f"summary: no test log at {path}", file=sys.stderr)
        totals["failed"] += 1
        return
    for line in lines:
        entry = json.loads(line)
        result = entry.get("result", "")
        ok = result in ("OK", "EXPECTEDFAIL")
        if result == "SKIP":
            totals["skipped"] += 1
        elif count_cmocka(entry.get("stdout", "") + entry.get("stderr", ""),
                          ok, totals):
            pass
        elif ok:
            totals["passed"] += 1
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
