#!/usr/bin/env python3
"""Write a handful of valid-ish seeds for fuzz_virtq into fuzz/corpus/virtq/.

The layout is the one fuzz/fuzz_virtq.c documents: header, descriptor table,
avail ring, used ring header, RAM blob, RAMD blob, operations.
Usage: fuzz/gen_virtq_seeds.py [OUTDIR]
"""
import os
import struct
import sys

DATA = 0x3000          # RAM blob lands here (guest address == RAM offset)
RAMD = 0x40000000      # TEST_GUEST_RAMD_GPA
MMIO = 0x80000000      # TEST_GUEST_MMIO_GPA
NEXT, WRITE, INDIRECT = 1, 2, 4
POP, PUSH, SET_NOTIFY, SHOULD_NOTIFY, SET_LAST, AVAIL_IDX, POKE, TOUCH = range(8)


def desc(addr, length, flags=0, nxt=0):
    return struct.pack('<QIHH', addr, length, flags, nxt)


def seed(log2, flags, descs, heads, avail_idx=None, used_idx=0, blob=b'',
         ramd_blob=b'', ops=b'', used_event=0):
    size = 1 << log2
    table = b''.join(descs).ljust(16 * size, b'\0')
    ring = struct.pack('<%dH' % size, *(list(heads) + [0] * (size - len(heads))))
    if avail_idx is None:
        avail_idx = len(heads)
    avail = struct.pack('<HH', 0, avail_idx) + ring + struct.pack('<H', used_event)
    used = struct.pack('<HH', 0, used_idx)
    return (bytes([log2, flags]) + table + avail + used +
            struct.pack('<H', len(blob)) + blob +
            struct.pack('<H', len(ramd_blob)) + ramd_blob + ops)


def op_push(which, written):
    return bytes([PUSH, which]) + struct.pack('<I', written)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), 'corpus', 'virtq')
    os.makedirs(out, exist_ok=True)
    seeds = {}
    # A direct chain: one readable, one writable buffer.
    seeds['direct'] = seed(4, 0, [desc(DATA, 64, NEXT, 1),
                                  desc(DATA + 0x100, 64, WRITE)], [0],
                           ops=bytes([POP, TOUCH, 0]) + op_push(0, 64) +
                           bytes([SHOULD_NOTIFY]))
    # EVENT_IDX + INDIRECT: a table of two in the RAM blob.
    table = desc(DATA + 0x400, 32, NEXT, 1) + desc(DATA + 0x500, 32, WRITE)
    seeds['indirect'] = seed(4, 3, [desc(DATA, len(table), INDIRECT)], [0],
                             blob=table,
                             ops=bytes([SET_NOTIFY, 1, POP, TOUCH, 0]) +
                             op_push(0, 16) + bytes([SHOULD_NOTIFY, POP]))
    # Direct descriptors followed by an indirect one (2.7.5.3.2).
    seeds['direct_then_indirect'] = seed(
        3, 2, [desc(DATA + 0x600, 16, NEXT, 1),
               desc(DATA, len(table), INDIRECT)], [0], blob=table,
        ops=bytes([POP, TOUCH, 0]) + op_push(0, 32))
    # Buffers in RAMD and MMIO (bounced), rings in RAMD.
    seeds['mixed_kinds'] = seed(2, 8, [desc(DATA, 32, NEXT, 1),
                                       desc(RAMD + 0x3000, 128, NEXT | WRITE, 2),
                                       desc(MMIO + 0x10, 8, WRITE)], [0],
                                ops=bytes([POP, TOUCH, 0]) + op_push(0, 136))
    # QEMU_BOUNCE: two chains in RAMD; the second finds the pool in use.
    seeds['qemu_bounce'] = seed(2, 4, [desc(RAMD + 0x3000, 64, WRITE),
                                       desc(RAMD + 0x4000, 64, WRITE)], [0, 1],
                                ops=bytes([POP, POP]) + op_push(0, 64))
    # Many chains, indices near the u16 wrap.
    descs = [desc(DATA + 0x40 * i, 0x40, WRITE) for i in range(8)]
    ops = struct.pack('<BH', SET_LAST, 0xfffc)
    for i in range(8):
        ops += bytes([POP]) + op_push(0, 0x40)
    seeds['wrap'] = seed(3, 1, descs, list(range(8)), avail_idx=0x0004,
                         used_idx=0xfffc, ops=ops + bytes([SHOULD_NOTIFY]),
                         used_event=0xfffe)
    # A looping chain (rejected) and max_segs 1 with two buffers.
    seeds['loop'] = seed(1, 0, [desc(DATA, 8, NEXT, 1), desc(DATA, 8, NEXT, 0)],
                         [0], ops=bytes([POP, POP]))
    seeds['max_segs'] = seed(2, 0x10, [desc(DATA, 8, NEXT, 1), desc(DATA, 8)],
                             [0], ops=bytes([POP]))
    for name, blob in seeds.items():
        with open(os.path.join(out, name), 'wb') as f:
            f.write(blob)


if __name__ == '__main__':
    main()
