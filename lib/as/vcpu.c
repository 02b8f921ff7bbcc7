/* SPDX-License-Identifier: MIT */
/*
 * The vCPU path: one access a vCPU trapped on (KVM_EXIT_MMIO, an emulator's
 * slow path), in the shape KVM delivers it: (gpa, size, is_write, data bytes
 * in guest memory order).
 *
 * It reuses the pieces of ramdev_as_ld/st (dispatch.c) rather than calling
 * them, because the decision it adds (the RAM-device region's misaligned
 * policy, the per-case counters) needs the translated region before any
 * device access, and ramdev_as_ld/st would translate a second time, possibly
 * in a newer view.  So: one read-side section, one lookup, then
 *  - RAMD: ramdev_ld/ramdev_st of exactly @size (the access core), or the
 *    policy for a misaligned access: ramdev_read/ramdev_write (aligned
 *    pieces, ascending, each byte once) or nothing;
 *  - MMIO: ramdev_as_mmio_valid + ramdev_as_mmio_access (mmio.c), the same
 *    valid/impl rules as every other MMIO access;
 *  - RAM: a copy.
 * Whatever cannot be done as issued (no region, two regions, a bad size)
 * does nothing, reads all-ones, and is counted in as->vcpu_stats.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <syslog.h>

#include "ramdev/access.h"
#include "as_priv.h"

enum vcpu_counter {
	VC_UNASSIGNED,
	VC_SPANNING,
	VC_BAD_SIZE,
	VC_SPLIT,
	VC_REJECTED,
	VC_MMIO_ERR,
};

/* Only the unusual cases are counted: every vCPU of a VM shares the
 * counters, and the common case must not bounce their cache line. */
static void vc_count(struct ramdev_as *as, enum vcpu_counter c)
{
	uint64_t *p;

	switch (c) {
	case VC_UNASSIGNED: p = &as->vcpu_stats.unassigned; break;
	case VC_SPANNING: p = &as->vcpu_stats.spanning; break;
	case VC_BAD_SIZE: p = &as->vcpu_stats.bad_size; break;
	case VC_SPLIT: p = &as->vcpu_stats.misaligned_split; break;
	case VC_REJECTED: p = &as->vcpu_stats.misaligned_rejected; break;
	default: p = &as->vcpu_stats.mmio_errors; break;
	}
	__atomic_fetch_add(p, 1, __ATOMIC_RELAXED);
}

int ramdev_region_set_misaligned(struct ramdev_region *r,
				 enum ramdev_misaligned policy)
{
	if (!r || r->kind != RAMDEV_REGION_RAMD ||
	    (policy != RAMDEV_MISALIGNED_SPLIT &&
	     policy != RAMDEV_MISALIGNED_REJECT)) {
		ramdev_as_logf(NULL, LOG_ERR, "set misaligned policy 0x%x on "
			       "region %s: needs a RAM-device region and a "
			       "known policy", (unsigned)policy,
			       r ? r->name : "(NULL)");
		return -EINVAL;
	}
	return ramdev_region_set_unshared(r, &r->misaligned, (uint8_t)policy,
					  "misaligned policy");
}

int ramdev_as_vcpu_stats(struct ramdev_as *as, struct ramdev_vcpu_stats *out)
{
	const struct ramdev_vcpu_stats *s;

	if (!as || !out)
		return -EINVAL;
	s = &as->vcpu_stats;
	out->unassigned = __atomic_load_n(&s->unassigned, __ATOMIC_RELAXED);
	out->spanning = __atomic_load_n(&s->spanning, __ATOMIC_RELAXED);
	out->bad_size = __atomic_load_n(&s->bad_size, __ATOMIC_RELAXED);
	out->misaligned_split =
		__atomic_load_n(&s->misaligned_split, __ATOMIC_RELAXED);
	out->misaligned_rejected =
		__atomic_load_n(&s->misaligned_rejected, __ATOMIC_RELAXED);
	out->mmio_errors = __atomic_load_n(&s->mmio_errors, __ATOMIC_RELAXED);
	return 0;
}

static bool pow2_le8(unsigned size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

static int vcpu_ramd(struct ramdev_as *as, const struct ramdev_xlate *x,
		     uint64_t gpa, uint8_t *data, unsigned size, bool write)
{
	if (pow2_le8(size) && ramdev_is_aligned(x->host, size)) {
		/* The guarantee: one device access of the guest's width. */
		if (write)
			ramdev_st(x->host, size, ramdev_as_bytes_ld(data, size));
		else
			ramdev_as_bytes_st(data, size, ramdev_ld(x->host, size));
		return 0;
	}
	if (__atomic_load_n(&x->region->misaligned, __ATOMIC_RELAXED) ==
	    RAMDEV_MISALIGNED_REJECT) {
		vc_count(as, VC_REJECTED);
		ramdev_as_guest_logf(as, RAMDEV_AS_LOG_VCPU_REJECT,
				     "vcpu %s: misaligned access rejected "
				     "by region %s: gpa 0x%" PRIx64 " size 0x%x",
				     write ? "store" : "load", x->region->name,
				     gpa, size);
		return -EOPNOTSUPP;
	}
	vc_count(as, VC_SPLIT);
	if (write)
		ramdev_write(x->host, data, size);
	else
		ramdev_read(data, x->host, size);
	return 0;
}

/* MMIO data is little-endian: the byte at the lowest address is the
 * value's least significant byte (struct ramdev_mmio_ops). */
static int vcpu_mmio(struct ramdev_as *as, const struct ramdev_xlate *x,
		     uint8_t *data, unsigned size, bool write)
{
	uint64_t v = 0;
	unsigned i;
	int rc;

	if (!pow2_le8(size)) /* a page-crossing piece: greedy, valid-checked */
		return ramdev_as_region_mmio(as, x->region, x->offset, data,
					     size, write);
	rc = ramdev_as_mmio_valid(as, x->region, x->offset, size);
	if (rc)
		return rc;
	if (write)
		for (i = 0; i < size; i++)
			v |= (uint64_t)data[i] << (8 * i);
	rc = ramdev_as_mmio_access(as, x->region, x->offset, size, &v, write);
	if (rc == 0 && !write)
		for (i = 0; i < size; i++)
			data[i] = (uint8_t)(v >> (8 * i));
	return rc;
}

static int vcpu_dispatch(struct ramdev_as *as, uint64_t gpa, uint8_t *data,
			 unsigned size, bool write)
{
	struct ramdev_xlate x;
	int rc;

	rc = ramdev_as_view_xlate(AS_RCU_DEREF(as->view), gpa, size, &x);
	if (x.len != size) {
		vc_count(as, VC_SPANNING);
		ramdev_as_guest_logf(as, RAMDEV_AS_LOG_VCPU_SPAN,
				     "vcpu %s: gpa 0x%" PRIx64 " size 0x%x "
				     "spans two regions or a hole (first 0x%"
				     PRIx64 " bytes in one)",
				     write ? "store" : "load", gpa, size, x.len);
		return -EFAULT;
	}
	if (rc == -EFAULT) {
		vc_count(as, VC_UNASSIGNED);
		ramdev_as_guest_logf(as, write ? RAMDEV_AS_LOG_UNASSIGNED_WRITE :
				     RAMDEV_AS_LOG_UNASSIGNED_READ,
				     "vcpu %s: unassigned gpa 0x%" PRIx64
				     " size 0x%x in address space %s",
				     write ? "store" : "load", gpa, size,
				     as->name);
		return RAMDEV_AS_UNASSIGNED;
	}
	switch (x.kind) {
	case RAMDEV_REGION_RAM:
		/* Exact in RAM too (a guest may race with its own access):
		 * an aligned 1/2/4/8-byte access is one access of that width,
		 * any other span each byte once. */
		if (write)
			ramdev_write(x.host, data, size);
		else
			ramdev_read(data, x.host, size);
		break;
	case RAMDEV_REGION_RAMD:
		rc = vcpu_ramd(as, &x, gpa, data, size, write);
		if (rc)
			return rc;
		break;
	default:
		rc = vcpu_mmio(as, &x, data, size, write);
		if (rc)
			vc_count(as, VC_MMIO_ERR);
		return rc;
	}
	if (write)
		ramdev_region_dirty_mark(x.region, x.offset, size);
	return 0;
}

int ramdev_as_vcpu_access(struct ramdev_as *as, uint64_t gpa, void *data,
			  unsigned size, bool is_write)
{
	uint64_t last;
	int rc;

	if (!as || !data)
		return -EINVAL;
	if (size == 0 || size > 8) {
		vc_count(as, VC_BAD_SIZE);
		ramdev_as_guest_logf(as, RAMDEV_AS_LOG_VCPU_ARG,
				     "vcpu %s: gpa 0x%" PRIx64 " size 0x%x "
				     "not 1..8", is_write ? "store" : "load",
				     gpa, size);
		rc = -EINVAL;
	} else if (!as_range_last(gpa, size, &last)) {
		vc_count(as, VC_SPANNING);
		ramdev_as_guest_logf(as, RAMDEV_AS_LOG_VCPU_ARG,
				     "vcpu %s: gpa 0x%" PRIx64 " size 0x%x "
				     "wraps past 2^64",
				     is_write ? "store" : "load", gpa, size);
		rc = -EFAULT;
	} else {
		ramdev_as_rdlock();
		rc = vcpu_dispatch(as, gpa, data, size, is_write);
		ramdev_as_rdunlock();
	}
	/* KVM hands the read's bytes to the guest whatever we return: make
	 * every failure the bus's all-ones, never stale or partial data. */
	if (rc && !is_write)
		memset(data, 0xff, size > 8 ? 8 : size);
	return rc;
}
