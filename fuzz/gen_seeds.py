#!/usr/bin/env python3
"""Write seeds for the fuzz targets other than virtq into fuzz/corpus/<target>/.

Each target's input layout is documented at the top of fuzz/fuzz_<target>.c.
Usage: fuzz/gen_seeds.py [TARGET...]   (default: every target below)
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


# ---- fuzz_access: u8 seed, then ops (u8 op, u16 a, u16 b, u16 n, u8 width)
A_READ, A_WRITE, A_COPY, A_MOVE, A_READ_WIDE, A_WRITE_WIDE = range(6)


def a_op(op, a, b, n, wlog2=3):
    return struct.pack('<BHHHB', op, a, b, n, wlog2)


def access_seeds():
    s = {}
    s['aligned'] = bytes([1]) + a_op(A_READ, 0, 0, 64) + a_op(A_WRITE, 64, 0, 64)
    s['odd'] = bytes([2]) + a_op(A_READ, 3, 5, 61) + a_op(A_WRITE, 7, 1, 33)
    s['move_up'] = bytes([3]) + a_op(A_MOVE, 9, 1, 200)
    s['move_down'] = bytes([4]) + a_op(A_MOVE, 1, 9, 200)
    s['copy'] = bytes([5]) + a_op(A_COPY, 256, 3, 250)
    s['wide'] = bytes([6]) + b''.join(a_op(op, 1 + w, 64, 300, w)
                                      for op in (A_READ_WIDE, A_WRITE_WIDE)
                                      for w in range(7))
    s['nt'] = bytes([7]) + a_op(A_WRITE, 0, 0, 512) + a_op(A_WRITE, 8, 0, 480)
    return s


# ---- fuzz_dma: u8 flags (bit0 QEMU_BOUNCE), then ops; a range is
# u8 where (0 RAM, 1 RAMD, 2 MMIO, 3 anywhere, 4 near 2^64, 5 before MMIO),
# u16 offset, u16 length
D_MAP, D_UNMAP, D_MAP_SG, D_UNMAP_SG, D_SEG_WRITE, D_SEG_READ = range(6)
TO_DEV, FROM_DEV, BIDIR = 0, 1, 2   # decoded as 1 + v % 3


def d_rng(where, off, length):
    return struct.pack('<BHH', where, off, length)


def d_map(where, off, length, d):
    return bytes([D_MAP]) + d_rng(where, off, length) + bytes([d])


def d_sg(ranges, d):
    return (bytes([D_MAP_SG, len(ranges)]) +
            b''.join(d_rng(*r) for r in ranges) + bytes([d]))


def d_unmap(which, written):
    return bytes([D_UNMAP, which]) + struct.pack('<H', written)


def dma_seeds():
    s = {}
    for pol, name in ((0, 'direct'), (1, 'qemu')):
        s[name + '_ram'] = bytes([pol]) + d_map(0, 0x100, 0x200, BIDIR) + \
            bytes([D_SEG_READ, 0, 0, D_SEG_WRITE, 0, 0, 0x5a]) + d_unmap(0, 0x200)
        s[name + '_mmio_pool'] = bytes([pol]) + d_map(2, 0, 0x80, FROM_DEV) + \
            d_map(2, 0x100, 0x100, TO_DEV) + d_map(2, 0x200, 0x100, TO_DEV) + \
            bytes([D_SEG_WRITE, 0, 0, 0x11]) + d_unmap(0, 0x80)
        s[name + '_sg'] = bytes([pol]) + d_sg(
            [(0, 0, 0x10), (1, 0x1000, 0x800), (2, 0x10, 0x400), (0, 0x3000, 1)],
            BIDIR) + bytes([D_SEG_WRITE, 0, 2, 0x33, D_SEG_READ, 0, 1]) + \
            bytes([D_UNMAP_SG, 0]) + struct.pack('<H', 0x1000)
        s[name + '_bad'] = bytes([pol]) + d_map(4, 3, 0x10, TO_DEV) + \
            d_sg([(5, 0x10, 0x40), (3, 0x10, 0x100)], TO_DEV) + \
            d_map(0, 0, 0, TO_DEV)
    return s


# ---- fuzz_as: ops; kinds 0 RAM, 1 RAMD, 2 MMIO, 3 MMIO (impl 4), 4 container,
# 5 alias; an address is u8 where (7: near 2^64), u16 offset
S_NEW, S_ADD, S_DEL, S_XLATE, S_READ, S_WRITE, S_BEGIN, S_COMMIT = range(8)


def s_new(kind, size, target=0, toff=0):
    return struct.pack('<BBHBH', S_NEW, kind, size - 1, target, toff)


def s_add(child, parent, off, prio=1, where=0):
    # child and parent index the regions made so far (0 is the root);
    # the target decodes child as 1 + v % (n - 1)
    return struct.pack('<BBBBHB', S_ADD, child, parent, where, off, prio)


def s_addr(op, off, where=0, *rest):
    return struct.pack('<BBH', op, where, off) + bytes(rest)


def as_seeds():
    s = {}
    # RAM at 0, an MMIO window overlapping it with a higher priority.
    s['overlap'] = (s_new(0, 0x1000, 0, 0) + s_new(2, 0x100) +
                    s_add(0, 0, 0x0, 1) + s_add(1, 0, 0x80, 2) +
                    s_addr(S_XLATE, 0x7f) + s_addr(S_READ, 0x70, 0, 40) +
                    s_addr(S_WRITE, 0x60, 0, 63, 0x5a))
    # A container with a RAMD child and an alias of it elsewhere.
    s['alias'] = (s_new(4, 0x2000) + s_new(1, 0x800, 0, 0x100) +
                  s_new(5, 0x400, 1, 0x10) + s_add(1, 1, 0x100, 0) +
                  s_add(0, 0, 0x4000, 0) + s_add(2, 0, 0x9000, 0) +
                  s_addr(S_READ, 0x9000, 0, 63) + s_addr(S_XLATE, 0x4100))
    # Hot remove inside a batch, MMIO with 4-byte callbacks, the top.
    s['batch'] = (s_new(3, 0x40) + s_new(0, 0x200) + s_add(0, 0, 0x10, 0) +
                  s_add(1, 0, 0x0, 1) + bytes([S_BEGIN]) + bytes([S_DEL, 1]) +
                  s_addr(S_READ, 0x11, 0, 5) + bytes([S_COMMIT]) +
                  s_addr(S_READ, 0x11, 0, 5) + s_addr(S_READ, 0x20, 7, 60))
    # A loop through an alias (-ELOOP) and equal priorities (-EBUSY).
    s['loop'] = (s_new(4, 0x1000) + s_new(5, 0x100, 0, 0) +
                 s_add(1, 1, 0, 0) + s_add(0, 0, 0, 0) +
                 s_new(0, 0x10) + s_add(2, 0, 0x8, 0))
    return s


# ---- fuzz_blk: u8 flags (bit0 QEMU_BOUNCE, bit1 direct descriptors,
# bit2 io_uring), then
# requests; a place is u8 area (0 RAM data, 1 RAMD, 2 MMIO), u16 offset
B_IN, B_OUT, B_FLUSH, B_GET_ID, B_DISCARD, B_WZ, B_UNKNOWN, B_RAW_TYPE = range(8)


def b_place(area, off):
    return struct.pack('<BH', area, off)


def b_req(typ, sector, hdr, segs, status, misc=0, ranges=(), fill=None,
          big=False):
    """segs: (area, off, lensel); lensel < 0x80 is (v % 16 + 1) sectors."""
    out = bytes([0, typ, 0x80 if big else 0]) + struct.pack('<H', sector)
    out += b_place(*hdr) + bytes([len(segs), misc])
    for area, off, lensel in segs:
        out += bytes([lensel]) + b_place(area, off)
    if typ in (B_DISCARD, B_WZ) and segs:
        out += bytes([len(ranges)])
        for s, n, f in ranges:
            out += struct.pack('<HHB', s, n, f)
    elif typ == B_OUT and segs:
        out += bytes([fill or 0x41])
    return out + b_place(*status)


def blk_seeds():
    s = {}
    wr = b_req(B_OUT, 3, (0, 0), [(0, 0x100, 0), (1, 0x10, 1), (2, 0x200, 0)],
               (0, 0x20), fill=0x61)
    rd = b_req(B_IN, 3, (1, 0x3000), [(2, 0x800, 1), (0, 0x1000, 1)], (1, 0x3010))
    s['out_in_mixed'] = bytes([0]) + wr + rd
    s['out_in_qemu'] = bytes([1]) + wr + rd
    s['out_in_uring'] = bytes([4]) + wr + rd + wr + \
        b_req(B_FLUSH, 0, (0, 0x40), [], (0, 0x50))
    s['flush_getid'] = bytes([0]) + b_req(B_FLUSH, 0, (0, 0x40), [], (0, 0x50)) + \
        b_req(B_GET_ID, 0, (2, 0x40), [(0, 0x200, 0x93)], (2, 0x80))
    s['discard_wz'] = bytes([2]) + \
        b_req(B_WZ, 0, (0, 0), [(1, 0x100, 0x9f)], (0, 0x30),
              ranges=[(4, 8, 0), (100, 28, 1)]) + \
        b_req(B_DISCARD, 0, (0, 0x40), [(2, 0x100, 0x8f)], (0, 0x31),
              ranges=[(0, 16, 0)])
    s['bad'] = bytes([0]) + b_req(B_IN, 120, (0, 0), [(0, 0x100, 15)], (0, 0x10)) + \
        b_req(B_OUT, 0, (0, 0x200), [(0, 0x300, 0x85)], (0, 0x11)) + \
        b_req(B_IN, 0xffff, (0, 0x400), [(0, 0x500, 0)], (0, 0x12), big=True) + \
        b_req(B_OUT, 1, (1, 0), [(1, 0x200, 0)], (1, 0x10), misc=1) + \
        b_req(B_UNKNOWN, 0, (2, 0), [], (2, 0x20))
    # Fault engine (flags bit3): rules u8 n, then u8 kind (0 readv, 1 writev,
    # 2 fdatasync, 3 fallocate), u8 nth - 1, u8 times - 1, u8 action (0 EIO,
    # 1 ENOSPC, 2 EINTR, 3 EOPNOTSUPP, 4 no progress, 5 short), u16 bytes - 1
    def rule(kind, nth, times, action, nbytes=1):
        return struct.pack('<BBBBH', kind, nth - 1, times - 1, action,
                           nbytes - 1)
    flush = b_req(B_FLUSH, 0, (0, 0x40), [], (0, 0x50))
    s['faults_write_eio'] = bytes([8, 2]) + rule(1, 1, 1, 5, 700) + \
        rule(1, 2, 1, 0) + wr + flush + rd + flush
    s['faults_short_eintr'] = bytes([8, 3]) + rule(0, 1, 2, 5, 100) + \
        rule(1, 1, 2, 2) + rule(2, 1, 1, 1) + wr + rd + flush + flush
    s['faults_fallocate'] = bytes([8, 2]) + rule(3, 1, 2, 3) + \
        rule(3, 3, 1, 0) + \
        b_req(B_WZ, 0, (0, 0), [(1, 0x100, 0x9f)], (0, 0x30),
              ranges=[(4, 8, 1), (100, 28, 0)]) + \
        b_req(B_DISCARD, 0, (0, 0x40), [(2, 0x100, 0x8f)], (0, 0x31),
              ranges=[(0, 16, 0)]) + flush
    # Raw chains: a lone header, a status before data, an unassigned buffer.
    raw = bytes([0xe0, 1, 1, 0, 0, 0, 16, 0])
    raw += bytes([0xe0, 2, 0, 0]) + struct.pack('<HH', 0x100, 1) + \
        bytes([3]) + struct.pack('<HH', 0, 512)
    s['raw'] = bytes([0]) + raw + wr
    return s


TARGETS = {
    'access': access_seeds,
    'dma': dma_seeds,
    'as': as_seeds,
    'blk': blk_seeds,
}


def main():
    names = sys.argv[1:] or list(TARGETS)
    for name in names:
        out = os.path.join(HERE, 'corpus', name)
        os.makedirs(out, exist_ok=True)
        for seed, blob in TARGETS[name]().items():
            with open(os.path.join(out, seed), 'wb') as f:
                f.write(blob)


if __name__ == '__main__':
    main()
