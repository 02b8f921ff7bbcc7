/* SPDX-License-Identifier: MIT */
/*
 * MMIO accesses: reject what `valid` forbids, then adapt what remains to
 * what the callbacks implement (`impl`), as QEMU's memory core does:
 *  - an access the callbacks accept as is goes through in one call;
 *  - otherwise the access is covered by ascending, naturally aligned pieces
 *    of the greedy width (at most impl.max_size);
 *  - a piece narrower than impl.min_size is widened to the aligned
 *    impl.min_size block around it: a read extracts its bytes, a write sends
 *    its bytes zero-extended (never a read-modify-write, as QEMU does), so
 *    the device sees zeros for the block's other bytes.
 * Data is little-endian: the value's least significant byte is the byte at
 * the lowest offset.
 */
#include <errno.h>
#include <inttypes.h>

#include "as_priv.h"

static uint64_t byte_mask(unsigned n)
{
	return n >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * n)) - 1;
}

/* Largest power of two <= @max dividing @addr and <= @rem (>= 1). */
unsigned ramdev_as_greedy(uint64_t addr, uint64_t rem, unsigned max)
{
	unsigned w = max;

	while (w > 1 && ((addr & (w - 1)) || w > rem))
		w >>= 1;
	return w;
}

int ramdev_as_mmio_valid(struct ramdev_as *as, const struct ramdev_region *r,
			 uint64_t off, unsigned size)
{
	const struct ramdev_access_rules *v = &r->ops.valid;

	if (size < v->min_size || size > v->max_size) {
		ramdev_as_guest_logf(as, RAMDEV_AS_LOG_MMIO_VALID,
				     "mmio %s: access size 0x%x at offset "
				     "0x%" PRIx64 " outside valid 0x%x..0x%x",
				     r->name, size, off, v->min_size,
				     v->max_size);
		return -EINVAL;
	}
	if (!v->unaligned && (off & (size - 1))) {
		ramdev_as_guest_logf(as, RAMDEV_AS_LOG_MMIO_VALID,
				     "mmio %s: unaligned access size 0x%x "
				     "at offset 0x%" PRIx64 " not valid",
				     r->name, size, off);
		return -EINVAL;
	}
	return 0;
}

/* One callback of @w bytes at aligned @base covering @n bytes of the access
 * starting @skip bytes into the block, @shift bits into the value. */
static int mmio_piece(const struct ramdev_region *r, uint64_t base,
		      unsigned w, unsigned skip, unsigned n, unsigned shift,
		      uint64_t *val, bool write)
{
	uint64_t v;
	int rc;

	if (write) {
		v = ((*val >> shift) & byte_mask(n)) << (8 * skip);
		return r->ops.write(r->opaque, base, w, v);
	}
	v = 0;
	rc = r->ops.read(r->opaque, base, w, &v);
	if (rc == 0)
		*val |= ((v >> (8 * skip)) & byte_mask(n)) << shift;
	return rc;
}

/* Cover [off, off + size) with aligned pieces that satisfy impl. */
static int mmio_cover(const struct ramdev_region *r, uint64_t off,
		      unsigned size, uint64_t *val, bool write)
{
	const struct ramdev_access_rules *im = &r->ops.impl;
	uint64_t c = off, end = off + size; /* within the region: no wrap */
	int rc;

	while (c < end) {
		unsigned w = ramdev_as_greedy(c, end - c, im->max_size);
		uint64_t base = c;
		unsigned skip, n;

		if (w < im->min_size) {
			w = im->min_size;
			base = c & ~(uint64_t)(w - 1);
		}
		skip = (unsigned)(c - base);
		n = (unsigned)as_min_u64(w - skip, end - c);
		rc = mmio_piece(r, base, w, skip, n, (unsigned)(c - off) * 8,
				val, write);
		if (rc)
			return rc;
		c += n;
	}
	return 0;
}

/* Issue an access that already passed the valid check, adapted to impl.
 * Reads store the value (zero-extended) in *val. */
int ramdev_as_mmio_access(const struct ramdev_region *r, uint64_t off,
			  unsigned size, uint64_t *val, bool write)
{
	const struct ramdev_access_rules *im = &r->ops.impl;
	int rc;

	if (!write)
		*val = 0;
	if (size >= im->min_size && size <= im->max_size &&
	    (im->unaligned || (off & (size - 1)) == 0)) {
		if (write)
			return r->ops.write(r->opaque, off, size,
					    *val & byte_mask(size));
		rc = r->ops.read(r->opaque, off, size, val);
		*val &= byte_mask(size);
		return rc;
	}
	return mmio_cover(r, off, size, val, write);
}
