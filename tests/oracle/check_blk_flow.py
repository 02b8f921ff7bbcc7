#!/usr/bin/env python3
"""Layout oracle for lib/blk/ and lib/virtq/ (issue 17): following one OUT
request from pop to push enters each file of lib/blk/ at most twice, and no
two files of lib/virtq/ call each other (one call direction).

callgrind (valgrind) counts every call between functions, with the source
file each function is defined in.  blk_flow runs N requests of 4 KiB one at
a time; it is run with two values of N, and the difference of the call
counts divided by the difference of N is what one request costs, set-up and
teardown cancelled.  An "entry" into a file is a call from a function of
another file to a function of that file (calls inside a file, and inlined
helpers, are not entries; neither are the driver's calls of getters such
as ramdev_blk_inflight, which only poll).  OUT requests from guest RAM and
from RAM-device memory (staged) are checked with the sync engine and, where
io_uring works, the io_uring engine; IN requests are measured and printed
(with io_uring they enter queue.c and uring.c three times: the submission,
the kick of the batch and the reap are three calls into the engine).  The
virtqueue's files are printed too: blk enters used.c four times for a batch
of one request (notifications off and on around the pop, the push, the
question whether to notify), which a batch shares.

Usage: check_blk_flow.py VALGRIND BLK_FLOW
Exit: 0 every file entered at most MAX_ENTRIES times per request, 1 not,
77 valgrind missing.
"""
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile

MAX_ENTRIES = 2
N1, N2 = 20, 60
SHAPES = [('out', 'ramd'), ('out', 'ram'), ('in', 'ramd'), ('in', 'ram')]
# Calls that read state without moving a request on.
GETTERS = {'ramdev_blk_inflight', 'ramdev_blk_error', 'ramdev_blk_event_fd'}
# The files followed: the device's, and the virtqueue's under it.
LAYER_FILE = re.compile(r'(^|/)lib/((blk|virtq)/[^/]+\.c)$')


def parse(path):
    """callgrind.out (run with --compress-strings=no) ->
    {(caller_file, callee_file, callee): calls}.  A call's caller is the
    function of the last fl=/fn= block; cfi=/cfl= and cfn= name the callee,
    and a calls= line counts it (the cost line after it has no '=')."""
    edges = collections.Counter()
    caller_file = callee_file = callee = None
    with open(path) as f:
        for line in f:
            key, _, value = line.rstrip('\n').partition('=')
            if key == 'fl':
                caller_file = value
            elif key in ('cfi', 'cfl'):
                callee_file = value
            elif key == 'cfn':
                callee = value
            elif key == 'calls':
                edges[(caller_file, callee_file or caller_file,
                       callee)] += int(value.split()[0])
                callee_file = None
    return edges


def virtq_cycles(edges_a, edges_b):
    """Pairs of lib/virtq/ files that call each other during requests."""
    calls = set()
    for key in set(edges_a) | set(edges_b):
        src, dst, _ = key
        a = LAYER_FILE.search(src or '')
        b = LAYER_FILE.search(dst or '')
        if (a and b and a.group(3) == b.group(3) == 'virtq' and src != dst
                and edges_b[key] > edges_a[key]):
            calls.add((a.group(2), b.group(2)))
    return sorted((x, y) for x, y in calls if (y, x) in calls and x < y)


def entries(edges):
    """{lib/blk/ or lib/virtq/ file: calls into it from other files}."""
    into = collections.Counter()
    for (src, dst, callee), count in edges.items():
        m = LAYER_FILE.search(dst or '')
        if m and src != dst and callee not in GETTERS:
            into[m.group(2)] += count
    return into


def run(valgrind, prog, shape, engine, n, tmp):
    out = os.path.join(tmp, 'cg.%s.%s.%s.%d' % (shape[0], shape[1],
                                                engine, n))
    proc = subprocess.run(
        [valgrind, '--tool=callgrind', '--callgrind-out-file=' + out,
         '--compress-strings=no', '--compress-pos=no',
         prog, shape[0], shape[1], engine, str(n)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode == 77:
        return None
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit('FAIL: blk_flow %s %s %s %d exited %d' %
                         (shape[0], shape[1], engine, n, proc.returncode))
    return parse(out)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    valgrind, prog = sys.argv[1], sys.argv[2]
    if not shutil.which(valgrind):
        print('SKIP: valgrind not found (%s)' % valgrind)
        return 77
    worst = 0
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for engine in ('sync', 'uring'):
            for shape in SHAPES:
                ea = run(valgrind, prog, shape, engine, N1, tmp)
                eb = run(valgrind, prog, shape, engine, N2, tmp)
                if ea is None or eb is None:
                    print('%-4s %-4s %-5s: SKIP (engine unavailable)' %
                          (shape + (engine,)))
                    continue
                for x, y in virtq_cycles(ea, eb):
                    failed = True
                    print('FAIL: %s and %s call each other' % (x, y))
                a, b = entries(ea), entries(eb)
                per = {f: (b[f] - a[f]) / (N2 - N1) for f in set(a) | set(b)}
                per = {f: v for f, v in per.items() if v > 0.01}
                line = ', '.join('%s %.2f' % (f, v)
                                 for f, v in sorted(per.items()))
                print('%-4s %-4s %-5s: entries per request: %s' %
                      (shape + (engine, line)))
                if shape[0] != 'out':
                    continue
                for f, v in per.items():
                    if not f.startswith('blk/'):
                        continue
                    worst = max(worst, v)
                    if v > MAX_ENTRIES + 0.01:
                        failed = True
                        print('FAIL: %s entered %.2f times per request '
                              '(at most %d)' % (f, v, MAX_ENTRIES))
    print('blk flow: most entries into one file per OUT request: %.2f '
          '(limit %d)' % (worst, MAX_ENTRIES))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
