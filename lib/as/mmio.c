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
#include <syslog.h>

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

/* The access adapted to impl, callbacks called: no guard here. */
static int mmio_dispatch(const struct ramdev_region *r, uint64_t off,
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

/* ---- the DMA re-entrancy guard (include/ramdev/as.h) ---- */

RAMDEV_TLS struct ramdev_as_guard_frame *ramdev_as_guard_top;

static int mmio_refuse(struct ramdev_as *as, const struct ramdev_region *r,
		       uint64_t off, unsigned size, uint64_t *val, bool write)
{
	if (!write)
		*val = byte_mask(size); /* a bus error reads all-ones */
	if (as) {
		__atomic_fetch_add(&as->reentrant_refused, 1,
				   __ATOMIC_RELAXED);
		ramdev_as_guest_logf(as, RAMDEV_AS_LOG_REENTRANT,
				     "mmio %s: re-entrant %s of 0x%x bytes at "
				     "offset 0x%" PRIx64 " refused: its device "
				     "is already in a callback or DMA on this "
				     "thread", r->name,
				     write ? "write" : "read", size, off);
	}
	return RAMDEV_AS_REENTRANT;
}

/* Issue an access that already passed the valid check, adapted to impl.
 * Reads store the value (zero-extended) in *val.  A region with an owner
 * engages it while its callbacks run, and is refused when its owner is
 * engaged already: the guard of as.h. */
int ramdev_as_mmio_access(struct ramdev_as *as, const struct ramdev_region *r,
			  uint64_t off, unsigned size, uint64_t *val,
			  bool write)
{
	const void *owner = __atomic_load_n(&r->owner, __ATOMIC_RELAXED);
	struct ramdev_as_guard_frame f;
	int rc;

	if (!owner)
		return mmio_dispatch(r, off, size, val, write);
	if (ramdev_as_guard_engaged(owner))
		return mmio_refuse(as, r, off, size, val, write);
	ramdev_as_guard_enter(&f, owner);
	rc = mmio_dispatch(r, off, size, val, write);
	ramdev_as_guard_exit(&f);
	return rc;
}

int ramdev_region_set_owner(struct ramdev_region *r, const void *owner)
{
	if (!r || r->kind != RAMDEV_REGION_MMIO) {
		ramdev_as_logf(NULL, LOG_ERR, "set owner of region %s: not an "
			       "MMIO region", r ? r->name : "(NULL)");
		return -EINVAL;
	}
	__atomic_store_n(&r->owner, owner, __ATOMIC_RELAXED);
	return 0;
}

uint64_t ramdev_as_reentrant_refused(struct ramdev_as *as)
{
	return as ? __atomic_load_n(&as->reentrant_refused, __ATOMIC_RELAXED)
		  : 0;
}
