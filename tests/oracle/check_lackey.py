#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Access-pattern oracle: runs access_trace under valgrind lackey and holds
every device access in the trace against what DESIGN.md S2-S5 imply.

The expected accesses are computed here from the spec's wording, not from
lib/access.c: greedy width walking up; an overlapping ramdev_move with
dst > src walks down from the end; copies take a width dividing both
addresses; _wide caps at min(max_width, wide limit).  A case passes only if
its device accesses match exactly: same count, kinds, addresses, widths and
order, and nothing else touched the mapping (guard bytes included).

The canary cases (glibc memmove/memcpy on the mapping) must FAIL this check;
if they pass, the checker is blind and the run fails.

Group "ram" holds guest RAM to the same rule: ramdev_as_read/_write,
ramdev_dma_read/_write, ramdev_dma_seg_read/_write and ramdev_as_ld/_st on
a RAM region over the mapping, with glibc memcpy into it as the canary.
Group "ramd" holds RAM-device regions of DMA width 4, 8 (the default), 16
and 64 to the greedy width capped at the region's width: the same copies
minus ld/st, with the strict core's 8-byte stores on a width-4 region as
the canary.

Usage: check_lackey.py [--env VAR=VALUE]... [--expect-wide-limit N]
                       VALGRIND ACCESS_TRACE GROUP
Exit: 0 pass, 1 fail, 77 skip (no valgrind).
"""
import argparse
import mmap
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

# Keep in sync with enum kind in access_trace.c.
KINDS = ['read', 'write', 'copy', 'move', 'read_wide', 'write_wide',
         'ld', 'st', 'canary_move', 'canary_copy',
         'as_write', 'as_read', 'dma_write', 'dma_read', 'seg_write',
         'seg_read', 'as_st', 'as_ld', 'canary_ram',
         'ramd_as_write', 'ramd_as_read', 'ramd_dma_write', 'ramd_dma_read',
         'ramd_seg_write', 'ramd_seg_read', 'canary_ramd']
CANARIES = {'canary_move', 'canary_copy', 'canary_ram', 'canary_ramd'}
# Guest RAM through the address space and DMA layers (group "ram"): the
# same rule as a device span, each byte once at the greedy width, with the
# widest exact access the host has (the library asks for 64, the access
# core caps it at the wide limit).
RAM_WRITES = {'as_write', 'dma_write', 'seg_write', 'canary_ram'}
RAM_READS = {'as_read', 'dma_read', 'seg_read'}
RAM_WIDTH = 64
# RAM-device memory through the same layers (group "ramd"): each byte once
# at the greedy width, capped at the region's DMA width (the case's width,
# ramdev_region_set_dma_width; 8 by default) and at the wide limit.
RAMD_WRITES = {'ramd_as_write', 'ramd_dma_write', 'ramd_seg_write',
               'canary_ramd'}
RAMD_READS = {'ramd_as_read', 'ramd_dma_read', 'ramd_seg_read'}
WIDTHS = (64, 32, 16, 8, 4, 2, 1)


def greedy(addrs, remaining, cap):
    """S4: the largest power of two <= cap dividing every address, <= remaining."""
    for w in WIDTHS:
        if w <= cap and w <= remaining and all(a % w == 0 for a in addrs):
            return w
    raise AssertionError('no width for %r' % (addrs,))


def walk_up_dev(kind, dev, n, cap):
    out, a, left = [], dev, n
    while left:
        w = greedy((a,), left, cap)
        out.append((kind, a, w))
        a += w
        left -= w
    return out


def copy_up(dst, src, n):
    out, left = [], n
    while left:
        w = greedy((dst, src), left, 8)
        out += [('L', src, w), ('S', dst, w)]
        dst += w
        src += w
        left -= w
    return out


def copy_down(dst, src, n):
    """S5: overlapping dst > src walks down, greedy at the current ends."""
    out, de, se, left = [], dst + n, src + n, n
    while left:
        w = greedy((de, se), left, 8)
        de -= w
        se -= w
        left -= w
        out += [('L', se, w), ('S', de, w)]
    return out


def expected(kind, dst, src, n, width, wide_limit):
    if kind == 'read':
        return walk_up_dev('L', src, n, 8)
    if kind == 'write':
        return walk_up_dev('S', dst, n, 8)
    if kind == 'read_wide':
        return walk_up_dev('L', src, n, min(width, wide_limit))
    if kind == 'write_wide':
        return walk_up_dev('S', dst, n, min(width, wide_limit))
    if kind in ('copy', 'canary_copy'):
        return copy_up(dst, src, n)
    if kind in ('move', 'canary_move'):
        if dst > src and dst - src < n:
            return copy_down(dst, src, n)
        return copy_up(dst, src, n)
    if kind in RAM_WRITES:
        return walk_up_dev('S', dst, n, min(RAM_WIDTH, wide_limit))
    if kind in RAM_READS:
        return walk_up_dev('L', src, n, min(RAM_WIDTH, wide_limit))
    if kind in RAMD_WRITES:
        return walk_up_dev('S', dst, n, min(width, wide_limit))
    if kind in RAMD_READS:
        return walk_up_dev('L', src, n, min(width, wide_limit))
    if kind == 'as_st':
        # One store of the width when aligned, else aligned pieces.
        return walk_up_dev('S', dst, width, 8)
    if kind == 'as_ld':
        return walk_up_dev('L', src, width, 8)
    if kind == 'ld':
        return [('L', src, width)]
    if kind == 'st':
        return [('S', dst, width)]
    raise AssertionError(kind)


def host_wide_limit_under_valgrind():
    """valgrind 3.19 emulates AVX2 at most (no AVX-512) when the host has it."""
    try:
        with open('/proc/cpuinfo') as f:
            flags = f.read()
    except OSError:
        return None
    return 32 if re.search(r'\bavx2\b', flags) else 16


def parse_header(text):
    hdr = {}
    for line in text.splitlines():
        parts = line.split()
        if parts and parts[0] in ('wide_limit', 'marker_begin', 'marker_end',
                                  'region', 'cases'):
            hdr[parts[0]] = [int(p, 0) for p in parts[1:]]
    return hdr


def trace_events(log_path, lo, hi):
    """Yield (kind, addr, size) for every L/S/M line inside [lo, hi), in order.

    The mapping is 64 KiB aligned and 64 KiB long, so its addresses share
    every hex digit but the last four: the regex selects them in C, which
    keeps a trace of tens of millions of lines cheap to scan.
    """
    assert lo % 0x10000 == 0 and hi - lo == 0x10000
    prefix = ('%x' % (lo >> 16)).encode()
    pat = re.compile(rb'^ ([LSM]) 0*' + prefix + rb'([0-9a-f]{4}),([0-9]+)$',
                     re.M)
    with open(log_path, 'rb') as f:
        if os.fstat(f.fileno()).st_size == 0:
            return
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
            for x in pat.finditer(m):
                k, a, s = x.groups()
                yield (k.decode(), lo + int(a, 16), int(s))


def fmt(acc):
    return '%s %#x,%d' % acc


class CaseTable:
    """The program's case table: one 48-byte descriptor per case, in the
    order the cases ran."""

    def __init__(self, path):
        self.f = open(path, 'rb')

    def get(self, i):
        self.f.seek(48 * i)
        raw = self.f.read(48)
        return struct.unpack('<6Q', raw) if len(raw) == 48 else None

    def count(self):
        return os.fstat(self.f.fileno()).st_size // 48


class Judge:
    """Holds each case's device accesses against the spec as the case ends."""

    def __init__(self, table, wide_limit):
        self.table, self.wide_limit = table, wide_limit
        self.errors = []
        self.cases = self.ok = self.checked = 0
        self.canaries = self.fired = 0

    def case(self, i, got):
        self.cases += 1
        self.checked += len(got)
        desc = self.table.get(i)
        if desc is None:
            self.errors.append('case %d is missing from the case table' % i)
            return
        kind_no, dst, src, n, width, _ = desc
        kind = KINDS[kind_no]
        want = expected(kind, dst, src, n, width, self.wide_limit)
        if kind in CANARIES:
            self.canaries += 1
            if got == want:
                self.errors.append('canary %s n=%d dst=%#x src=%#x was NOT '
                                   'flagged: the oracle is blind' %
                                   (kind, n, dst, src))
                return
            self.fired += 1
            print('canary %s n=%d flagged as expected: got [%s], spec [%s]' %
                  (kind, n, ', '.join(map(fmt, got)),
                   ', '.join(map(fmt, want))))
            return
        if got == want:
            self.ok += 1
            return
        j = next((j for j, (x, y) in enumerate(zip(got, want)) if x != y),
                 min(len(got), len(want)))
        self.errors.append(
            'case %d %s n=%d dst=%#x (mod 64: %d) src=%#x (mod 64: %d) '
            'width=%d: %d accesses, spec %d; first difference at #%d: '
            'got %s, spec %s' %
            (i, kind, n, dst, dst % 64, src, src % 64, width, len(got),
             len(want), j, fmt(got[j]) if j < len(got) else '(nothing)',
             fmt(want[j]) if j < len(want) else '(nothing)'))

    def trace(self, events, begin, end):
        """Split the trace into cases at the markers; anything between
        cases that touches the mapping is a violation."""
        current, stray = None, 0
        for ev in events:
            if ev == ('S', begin, 8):
                if current is not None:
                    self.errors.append('case %d has no end marker' %
                                       self.cases)
                current = []
            elif ev == ('S', end, 8):
                if current is None:
                    self.errors.append('end marker outside a case')
                else:
                    self.case(self.cases, current)
                    current = None
            elif current is None:
                if not stray:
                    self.errors.append('device access outside any case: %s'
                                       % fmt(ev))
                stray += 1
            else:
                current.append(ev)
        if current is not None:
            self.errors.append('the last case has no end marker')
        if stray > 1:
            self.errors.append('%d device accesses outside cases' % stray)
        if self.table.count() != self.cases:
            self.errors.append('trace shows %d cases, the table has %d' %
                               (self.cases, self.table.count()))
        if not self.canaries:
            self.errors.append('no canary case ran')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--env', action='append', default=[],
                    help='VAR=VALUE for the traced program')
    ap.add_argument('--expect-wide-limit', type=int)
    ap.add_argument('valgrind')
    ap.add_argument('program')
    ap.add_argument('group')
    args = ap.parse_args()

    valgrind = shutil.which(args.valgrind)
    if not valgrind:
        print('SKIP: valgrind not found (%s)' % args.valgrind)
        return 77

    env = dict(os.environ)
    for kv in args.env:
        k, _, v = kv.partition('=')
        env[k] = v

    # The trace runs to hundreds of MB: it goes to a file that is scanned
    # once valgrind is done (a pipe costs more: lackey writes every line
    # with its own write(), and each one would wake the reader).
    with tempfile.TemporaryDirectory(prefix='ramdev-lackey-') as tmp:
        log = os.path.join(tmp, 'lackey.log')
        table = os.path.join(tmp, 'cases.bin')
        proc = subprocess.run(
            [valgrind, '--tool=lackey', '--trace-mem=yes',
             '--log-file=' + log, args.program, args.group, table],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        hdr = parse_header(proc.stdout)
        if proc.returncode != 0 or not all(
                k in hdr for k in ('region', 'marker_begin', 'marker_end',
                                   'wide_limit', 'cases')):
            print('FAIL: access_trace exited %d under valgrind\n%s%s' %
                  (proc.returncode, proc.stdout, proc.stderr[-4000:]))
            return 1
        judge = Judge(CaseTable(table), hdr['wide_limit'][0])
        judge.trace(trace_events(log, *hdr['region']),
                    hdr['marker_begin'][0], hdr['marker_end'][0])

    errors = judge.errors
    if hdr.get('cases') != [judge.cases]:
        errors.append('the program ran %r cases, the trace shows %d' %
                      (hdr.get('cases'), judge.cases))
    want_limit = args.expect_wide_limit or host_wide_limit_under_valgrind()
    if want_limit and judge.wide_limit != want_limit:
        errors.append('wide limit is %d, expected %d under valgrind' %
                      (judge.wide_limit, want_limit))
    print('lackey %s: %d cases (+%d canaries), %d ok, %d device accesses '
          'checked, wide limit %d, canaries flagged %d/%d' %
          (args.group, judge.cases - judge.canaries, judge.canaries,
           judge.ok, judge.checked, judge.wide_limit, judge.fired,
           judge.canaries))
    for e in errors[:20]:
        print('FAIL: ' + e)
    if len(errors) > 20:
        print('FAIL: ... %d more' % (len(errors) - 20))
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
