#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Generated-code oracle for the access core (DESIGN.md S1, S8), x86_64.

1. No call or jump to memcpy/memmove/memset (or their _chk forms) anywhere
   in the access core's text: the compiler must not have turned a device
   loop into a libc call, whose access widths nobody controls.  In a static
   archive the access core is the access.c member; in a shared library it is
   every function with line info from lib/access.c, lib/access_x86_64.h
   (included by access.c) or include/ramdev/access.h
   (without debug info, the whole library is checked).
2. Each out-of-line wrapper in codegen_ldst.c (built -O2 -DNDEBUG, the
   release shape) performs exactly one explicit memory access, of the
   wrapper's width, through its pointer argument ([rdi]), as a load for ld*
   and a store for st*, and calls nothing.

Usage: check_codegen.py OBJDUMP CPU_FAMILY SANITIZE LIBRAMDEV WRAPPERS
Exit: 0 pass, 1 fail, 77 skip (not x86_64, no objdump, instrumented build).
"""
import re
import shutil
import subprocess
import sys

LIBC_MEM = re.compile(
    r'\b(__)?(memcpy|memmove|memset|mempcpy)(_chk)?\b')
SIZE_WORDS = {'BYTE': 1, 'WORD': 2, 'DWORD': 4, 'QWORD': 8,
              'XMMWORD': 16, 'YMMWORD': 32, 'ZMMWORD': 64}
MEM_OPERAND = re.compile(r'\b(BYTE|WORD|DWORD|QWORD|XMMWORD|YMMWORD|ZMMWORD) '
                         r'PTR (?:\w+:)?\[([^\]]*)\]')
FUNC = re.compile(r'^[0-9a-f]+ <([^>]+)>:$')
MEMBER = re.compile(r'^(\S+):\s+file format ')
LINE_INFO = re.compile(r'^(/\S*|\S+\.[ch]):\d+')
INSN = re.compile(r'^\s+[0-9a-f]+:\s+(\S+)\s*(.*)$')


def disassemble(objdump, path, line_info):
    """{(member, function): [(mnemonic, operands, files)]}, where files is
    the set of source files the line info names for the function so far."""
    cmd = [objdump, '-dr', '--no-show-raw-insn', '-M', 'intel']
    if line_info:
        cmd.append('-l')
    out = subprocess.run(cmd + [path], stdout=subprocess.PIPE, check=True,
                         text=True).stdout
    funcs, files = {}, {}
    member, cur = path, None
    for line in out.splitlines():
        m = MEMBER.match(line)
        if m:
            member, cur = m.group(1), None
            continue
        m = FUNC.match(line)
        if m:
            cur = (member, m.group(1))
            funcs[cur], files[cur] = [], set()
            continue
        if cur is None:
            continue
        m = LINE_INFO.match(line)
        if m:
            files[cur].add(m.group(1))
            continue
        if 'R_X86_64_' in line:
            # In an object file the callee is named by the relocation line
            # under the call, not by the call's operand.
            funcs[cur].append(('reloc', line.strip()))
            continue
        m = INSN.match(line)
        if m:
            funcs[cur].append((m.group(1), m.group(2)))
    return funcs, files


def is_nop(mnemonic, operands):
    return ('nop' in mnemonic or mnemonic in ('int3', 'endbr64') or
            (mnemonic == 'xchg' and operands == 'ax,ax') or
            mnemonic in ('data16', 'cs'))


def check_library(objdump, path, errors):
    funcs, files = disassemble(objdump, path, line_info=True)
    if path.endswith('.a'):
        core = {k for k in funcs if re.search(r'(^|/)access\.c\.o$', k[0])}
        how = 'archive member access.c.o'
    else:
        core = {k for k in funcs
                if any(re.search(r'(lib/access\.c|lib/access_x86_64\.h|'
                                 r'ramdev/access\.h)$', f)
                       for f in files[k])}
        how = 'functions with access.c/access.h line info'
        if not any(files.values()):
            core = set(funcs)
            how = 'whole library (no debug line info)'
    if not core:
        errors.append('%s: found no access-core code (%s)' % (path, how))
        return 0
    insns = 0
    for key in sorted(core):
        for mnemonic, operands in funcs[key]:
            insns += 1
            branch = mnemonic.startswith('call') or mnemonic.startswith('j')
            if (branch or mnemonic == 'reloc') and LIBC_MEM.search(operands):
                errors.append('%s: %s branches to libc: %s %s' %
                              (path, key[1], mnemonic, operands))
    print('access core: %d functions, %d instructions (%s)' %
          (len(core), insns, how))
    return len(core)


def expected_wrappers():
    """name -> (width, 'load' | 'store')"""
    want = {}
    for n in (1, 2, 4, 8):
        want['ld%d' % n] = (n, 'load')
        want['st%d' % n] = (n, 'store')
    for order in ('le', 'be'):
        for bits in (16, 32, 64):
            want['ld_%s%d' % (order, bits)] = (bits // 8, 'load')
            want['st_%s%d' % (order, bits)] = (bits // 8, 'store')
    return want


def check_wrappers(objdump, path, errors):
    funcs, _ = disassemble(objdump, path, line_info=False)
    by_name = {name: insns for (_, name), insns in funcs.items()}
    for name, (width, kind) in sorted(expected_wrappers().items()):
        insns = by_name.get(name)
        if insns is None:
            errors.append('wrapper %s not found in %s' % (name, path))
            continue
        accesses = []
        for mnemonic, operands in insns:
            if mnemonic == 'reloc' or mnemonic.startswith('call') or \
                    (mnemonic.startswith('j') and mnemonic != 'jmp'):
                errors.append('%s: calls or branches: %s %s' %
                              (name, mnemonic, operands))
            if is_nop(mnemonic, operands) or mnemonic == 'lea':
                continue
            if mnemonic.startswith('jmp'):
                errors.append('%s: jumps away: %s %s' %
                              (name, mnemonic, operands))
            for m in MEM_OPERAND.finditer(operands):
                accesses.append((mnemonic, operands, m))
        shape = '; '.join('%s %s' % (a[0], a[1]) for a in accesses)
        if len(accesses) != 1:
            errors.append('%s: %d memory accesses, want 1: %s' %
                          (name, len(accesses), shape or '(none)'))
            continue
        mnemonic, operands, m = accesses[0]
        got_width = SIZE_WORDS[m.group(1)]
        # Intel syntax: the destination is the first operand.
        got_kind = 'store' if m.start() == 0 else 'load'
        if got_width != width or got_kind != kind or \
                m.group(2).strip() != 'rdi':
            errors.append('%s: %s %s is a %d-byte %s at [%s], want a '
                          '%d-byte %s at [rdi]' %
                          (name, mnemonic, operands, got_width, got_kind,
                           m.group(2), width, kind))
        else:
            print('%-9s %s %s' % (name, mnemonic, operands))
    return len(expected_wrappers())


def main():
    if len(sys.argv) != 6:
        print(__doc__)
        return 1
    objdump, cpu, sanitize, lib, wrappers = sys.argv[1:]
    if cpu != 'x86_64':
        print('SKIP: generated-code check is for x86_64, host is %s' % cpu)
        return 77
    if sanitize not in ('', 'none'):
        print('SKIP: b_sanitize=%s instruments every access' % sanitize)
        return 77
    objdump = shutil.which(objdump)
    if not objdump:
        print('SKIP: objdump not found')
        return 77
    errors = []
    ncore = check_library(objdump, lib, errors)
    nwrap = check_wrappers(objdump, wrappers, errors)
    for e in errors:
        print('FAIL: ' + e)
    print('codegen: %d access-core functions, %d wrappers, %d problems' %
          (ncore, nwrap, len(errors)))
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
