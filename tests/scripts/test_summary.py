#!/usr/bin/env python3
"""scripts/summary.py counts cmocka's own per-test results.

Runs tests/scripts/cmocka_mix (real cmocka output) in several modes, writes
the meson testlog.json a `meson test` run would, and checks the closing line
of summary.py: a skip() is a skip, a crash mid-group counts its unreported
tests as failed, a whole-program skip (exit 77) and a non-cmocka test are
one each, and --extra lines add up.
Usage: test_summary.py SUMMARY_PY CMOCKA_MIX
"""
import json
import os
import subprocess
import sys
import tempfile


def run(prog, *args):
    p = subprocess.run([prog, *args], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    return p.returncode, p.stdout


def entry(name, rc, out):
    result = "SKIP" if rc == 77 else ("OK" if rc == 0 else "FAIL")
    return {"name": name, "stdout": out, "result": result, "returncode": rc}


def summary(summary_py, entries, extra=None):
    with tempfile.TemporaryDirectory() as d:
        os.mkdir(f"{d}/meson-logs")
        with open(f"{d}/meson-logs/testlog.json", "w") as f:
            for e in entries:
                f.write(json.dumps(e) + "\n")
        args = [sys.executable, summary_py, d]
        if extra is not None:
            with open(f"{d}/extra.log", "w") as f:
                f.write(extra)
            args += ["--extra", f"{d}/extra.log"]
        p = subprocess.run(args, stdout=subprocess.PIPE, text=True)
        return p.stdout.strip().splitlines()[-1], p.returncode


def main(argv):
    summary_py, mix = argv[1], argv[2]
    ok = run(mix)
    failing = run(mix, "fail")
    crash = run(mix, "crash")
    cases = [
        # (what, entries, extra, want line, want exit status)
        ("one pass, one skip(), one pass", [entry("mix", *ok)], None,
         "2 passed, 0 failed, 1 skipped", 0),
        ("a failing test", [entry("mix", *failing)], None,
         "1 passed, 1 failed, 1 skipped", 1),
        ("a crash in the second test", [entry("mix", *crash)], None,
         "0 passed, 3 failed, 0 skipped", 1),
        ("cmocka passed but meson failed (sanitizer at exit)",
         [entry("mix", 1, ok[1])], None, "2 passed, 1 failed, 1 skipped", 1),
        ("exit 77 and a plain test",
         [entry("whole", 77, "SKIP: no io_uring\n"),
          entry("plain", 0, "fine\n")], None,
         "1 passed, 0 failed, 1 skipped", 0),
        ("extra lines",
         [entry("mix", *ok)], "cross: 5 passed, 0 failed, 0 skipped\n"
         "fuzz: 0 passed, 1 failed, 0 skipped\n",
         "7 passed, 1 failed, 1 skipped", 1),
    ]
    bad = 0
    for what, entries, extra, want, want_rc in cases:
        line, rc = summary(summary_py, entries, extra)
        status = "ok" if (line, rc) == (want, want_rc) else "FAIL"
        bad += status != "ok"
        print(f"{status}: {what}: '{line}' exit {rc} (want '{want}' exit "
              f"{want_rc})")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
