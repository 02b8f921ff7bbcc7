#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Generated-code oracle for the virtqueue's device-memory barriers.

A ring or buffer in a RAMD region may be write-combining device memory,
whose stores x86's TSO does not order and whose loads may be speculative;
the C11 release/acquire fences the RAM path uses emit no instruction on
x86.  lib/virtq/pop.c and used.c therefore issue virtq_dev_wmb() / virtq_dev_rmb()
on that path (lib/virtq/ring.h).  This checks the instructions are really
in the compiled functions (or in a local function they call, for builds
that do not inline):

  ramdev_virtq_push: sfence (x86_64) / dmb oshst (aarch64): the used
                     element and the buffers before the used idx;
  ramdev_virtq_pop:  lfence (x86_64) / dmb oshld (aarch64): the avail idx
                     before the ring entry, descriptors and buffers.

A canary proves the matcher can fail: ramdev_virtq_inflight, a getter,
must contain neither.

Usage: check_virtq_barrier.py OBJDUMP CPU_FAMILY LIBRAMDEV
Exit: 0 pass, 1 fail, 77 skip (other CPU, no objdump).
"""
import re
import shutil
import subprocess
import sys

FUNC = re.compile(r'^[0-9a-f]+ <([^>]+)>:$')
INSN = re.compile(r'^\s+[0-9a-f]+:\s+(\S+)\s*(.*)$')
CALL = re.compile(r'<([^>+@]+)>')

BARRIERS = {
    'x86_64': {'ramdev_virtq_push': ('sfence', None),
               'ramdev_virtq_pop': ('lfence', None)},
    'aarch64': {'ramdev_virtq_push': ('dmb', 'oshst'),
                'ramdev_virtq_pop': ('dmb', 'oshld')},
}
CALLS = ('call', 'bl', 'jmp', 'b')


def disassemble(objdump, path):
    """{function: [(mnemonic, operands)]}, first definition of each name
    (the library's own, not a test's)."""
    out = subprocess.run([objdump, '-d', '--no-show-raw-insn', path],
                         stdout=subprocess.PIPE, check=True,
                         text=True).stdout
    funcs, cur = {}, None
    for line in out.splitlines():
        m = FUNC.match(line)
        if m:
            name = m.group(1)
            cur = None if name in funcs else name
            if cur:
                funcs[cur] = []
            continue
        m = INSN.match(line)
        if m and cur:
            funcs[cur].append((m.group(1), m.group(2)))
    return funcs


def has_barrier(funcs, name, want, depth=2):
    """True if @name, or a local function it calls (up to @depth levels),
    contains the barrier @want = (mnemonic, operand or None)."""
    mnem, operand = want
    for m, ops in funcs.get(name, []):
        if m == mnem and (operand is None or operand in ops):
            return True
    if depth == 0:
        return False
    for m, ops in funcs.get(name, []):
        if m in CALLS:
            c = CALL.search(ops)
            if c and c.group(1) in funcs and c.group(1) != name and \
               has_barrier(funcs, c.group(1), want, depth - 1):
                return True
    return False


def main():
    objdump, cpu, lib = sys.argv[1:4]
    if cpu not in BARRIERS:
        print(f'SKIP: no barrier table for {cpu}')
        return 77
    if not shutil.which(objdump):
        print(f'SKIP: {objdump} not found')
        return 77
    funcs = disassemble(objdump, lib)
    fails = 0
    for name, want in BARRIERS[cpu].items():
        text = ' '.join(x for x in want if x)
        if name not in funcs:
            print(f'FAIL: {name} not found in {lib}')
            fails += 1
        elif has_barrier(funcs, name, want):
            print(f'ok: {name} issues {text}')
        else:
            print(f'FAIL: {name} does not issue {text} (device-memory path)')
            fails += 1
    canary = 'ramdev_virtq_inflight'
    for name, want in BARRIERS[cpu].items():
        if canary in funcs and has_barrier(funcs, canary, want):
            print(f'FAIL: canary {canary} matched {want}: checker broken')
            fails += 1
    if canary not in funcs:
        print(f'FAIL: canary {canary} not found')
        fails += 1
    return 1 if fails else 0


if __name__ == '__main__':
    sys.exit(main())
