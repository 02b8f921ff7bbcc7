/* SPDX-License-Identifier: MIT */
/*
 * Guest accesses: ramdev_as_read/write (spans, across regions) and
 * ramdev_as_ld/st (one access as a vCPU issues it).
 *  - RAM and RAMD: only through the access core, so each byte is accessed
 *    exactly once and a naturally aligned 1/2/4/8-byte access is one access
 *    of that width (RAMD spans: at most the region's DMA width, 8 unless
 *    ramdev_region_set_dma_width() said otherwise).  For RAMD the device needs it; for RAM a guest racing
 *    with a device write (a descriptor's status byte) must never see its
 *    own write undone by a second store of a byte, which memcpy/memmove do
 *    (a 2-byte memmove stores 2 bytes, then 1 byte over the second).  RAM
 *    spans use the wide exact copy (SIMD widths) for memcpy speed.
 *  - MMIO: valid check, then impl adaptation (mmio.c).
 *  - Unassigned: reads return 0xff bytes, writes are dropped, and the
 *    access reports RAMDEV_AS_UNASSIGNED (a negative errno) plus a
 *    rate-limited log line.
 * One view is used for a whole call, so a concurrent update cannot make a
 * span see half of an old layout and half of a new one.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <syslog.h>

#include "ramdev/access.h"
#include "as_priv.h"

/* RAM spans: the widest exact access the host has (capped by the access
 * core at ramdev_wide_limit()), which copies at memcpy speed. */
#define AS_RAM_WIDTH 64u

/* Bulk MMIO: greedy width within valid.max_size, each access checked
 * against valid and adapted to impl.  Bytes are little-endian. */
static int mmio_span(struct ramdev_as *as, const struct ramdev_region *r,
		     uint64_t off, uint8_t *buf, uint64_t n, bool write)
{
	while (n) {
		unsigned w = ramdev_as_greedy(off, n, r->ops.valid.max_size);
		uint64_t v = 0;
		unsigned i;
		int rc = ramdev_as_mmio_valid(as, r, off, w);

		if (rc)
			return rc;
		if (write)
			for (i = 0; i < w; i++)
				v |= (uint64_t)buf[i] << (8 * i);
		rc = ramdev_as_mmio_access(as, r, off, w, &v, write);
		/* A refused read still gives its bytes (all-ones). */
		if (rc && (write || rc != RAMDEV_AS_REENTRANT))
			return rc;
		if (!write)
			for (i = 0; i < w; i++)
				buf[i] = (uint8_t)(v >> (8 * i));
		if (rc)
			return rc;
		off += w;
		buf += w;
		n -= w;
	}
	return 0;
}

/* ---- the DMA width of a RAM-device region ---- */

static bool dma_width_ok(unsigned w)
{
	return w >= 1 && w <= 64 && (w & (w - 1)) == 0;
}

int ramdev_region_set_dma_width(struct ramdev_region *r, unsigned max_width)
{
	if (!r || r->kind != RAMDEV_REGION_RAMD || !dma_width_ok(max_width)) {
		ramdev_as_logf(NULL, LOG_ERR, "set dma width 0x%x on region "
			       "%s: needs a RAM-device region and a power of "
			       "two 0x1..0x40", max_width,
			       r ? r->name : "(NULL)");
		return -EINVAL;
	}
	/* A copy under way must not change width halfway. */
	return ramdev_region_set_unshared(r, &r->dma_width, (uint8_t)max_width,
					  "dma width");
}

unsigned ramdev_region_dma_width(const struct ramdev_region *r)
{
	if (!r || r->kind != RAMDEV_REGION_RAMD)
		return 0;
	return __atomic_load_n(&r->dma_width, __ATOMIC_RELAXED);
}

/* One load and one branch in front of the copy: the default keeps the
 * strict core (8-byte accesses, non-temporal stores for large spans).  No
 * region (a segment built by hand, as virtio-blk's unit tests do, rather
 * than mapped): the default. */
static inline unsigned ramd_width(const struct ramdev_region *r)
{
	return r ? __atomic_load_n(&r->dma_width, __ATOMIC_RELAXED)
		 : RAMDEV_AS_DMA_WIDTH_DEFAULT;
}

void ramdev_as_ramd_read(const struct ramdev_region *r, void *ram,
			 const void *dev, size_t n)
{
	unsigned w = ramd_width(r);

	if (__builtin_expect(w == RAMDEV_AS_DMA_WIDTH_DEFAULT, 1))
		ramdev_read(ram, dev, n);
	else
		ramdev_read_wide(ram, dev, n, w);
}

void ramdev_as_ramd_write(const struct ramdev_region *r, void *dev,
			  const void *ram, size_t n)
{
	unsigned w = ramd_width(r);

	if (__builtin_expect(w == RAMDEV_AS_DMA_WIDTH_DEFAULT, 1))
		ramdev_write(dev, ram, n);
	else
		ramdev_write_wide(dev, ram, n, w);
}

static int span_piece(struct ramdev_as *as, const struct ramdev_xlate *x,
		      uint8_t *buf, bool write, bool indirect)
{
	int rc;

	switch (x->kind) {
	case RAMDEV_REGION_RAM:
		/* Exact, like RAMD (see the top of this file). */
		if (write)
			ramdev_write_wide(x->host, buf, x->len, AS_RAM_WIDTH);
		else
			ramdev_read_wide(buf, x->host, x->len, AS_RAM_WIDTH);
		break;
	case RAMDEV_REGION_RAMD:
		/* QEMU before the fix: RAMD is not "direct", so it goes
		 * through its ops table like MMIO.  The dirty log is still
		 * kept: the bytes did change. */
		if (indirect) {
			rc = mmio_span(as, x->region, x->offset, buf, x->len,
				       write);
			if (rc)
				return rc;
		} else if (write) {
			ramdev_as_ramd_write(x->region, x->host, buf, x->len);
		} else {
			ramdev_as_ramd_read(x->region, buf, x->host, x->len);
		}
		break;
	default:
		return mmio_span(as, x->region, x->offset, buf, x->len, write);
	}
	if (write)
		ramdev_region_dirty_mark(x->region, x->offset, x->len);
	return 0;
}

static void report_unassigned(struct ramdev_as *as, const char *what,
			      bool write, uint64_t gpa, uint64_t len)
{
	ramdev_as_guest_logf(as, write ? RAMDEV_AS_LOG_UNASSIGNED_WRITE
				       : RAMDEV_AS_LOG_UNASSIGNED_READ,
			     "unassigned %s: gpa 0x%" PRIx64 " len 0x%" PRIx64
			     " in address space %s", what, gpa, len, as->name);
}

/*
 * [@off, @off + @n) of terminal region @r itself, not of whatever a guest
 * address maps now: for the DMA layer's segments and bounce buffers, which
 * hold a reference on @r (a guest that moves a BAR under an in-flight
 * request must not split one buffer between two devices).  As a direct
 * RAM or RAMD mapping keeps using the memory it mapped, this keeps using a
 * region removed meanwhile, as QEMU does for a referenced MemoryRegion.
 */
int ramdev_as_region_copy(struct ramdev_as *as, struct ramdev_region *r,
			  uint64_t off, void *buf, uint64_t n, bool write,
			  bool indirect)
{
	struct ramdev_xlate x;

	if (!n)
		return 0;
	if (!r || (r->kind != RAMDEV_REGION_RAM &&
		   r->kind != RAMDEV_REGION_RAMD &&
		   r->kind != RAMDEV_REGION_MMIO) ||
	    n - 1 > r->last || off > r->last - (n - 1))
		return -EINVAL;
	x = (struct ramdev_xlate){ .region = r, .kind = r->kind, .offset = off,
				   .len = n, .host = r->host ? r->host + off
							     : NULL };
	return span_piece(as, &x, buf, write, indirect);
}

int ramdev_as_region_mmio(struct ramdev_as *as, const struct ramdev_region *r,
			  uint64_t off, void *buf, uint64_t n, bool write)
{
	if (n && r && r->kind != RAMDEV_REGION_MMIO)
		return -EINVAL;
	/* Only MMIO: span_piece marks no dirty log for it, so the region is
	 * not modified. */
	return ramdev_as_region_copy(as, (struct ramdev_region *)(uintptr_t)r,
				     off, buf, n, write, false);
}

enum span_flags {
	SPAN_WRITE = 1,
	SPAN_STRICT = 2, /* a hole is -EFAULT, found before any access */
};

/* In one view: -EFAULT when some byte of [gpa, gpa + len) is unassigned. */
static int span_assigned(const struct as_view *v, uint64_t gpa, size_t len)
{
	struct ramdev_xlate x;

	while (len) {
		if (ramdev_as_view_xlate(v, gpa, len, &x))
			return -EFAULT;
		len -= x.len;
		gpa += x.len;
	}
	return 0;
}

static int as_span(struct ramdev_as *as, uint64_t gpa, uint8_t *buf,
		   size_t len, unsigned flags)
{
	bool write = flags & SPAN_WRITE;
	const struct as_view *v;
	struct ramdev_xlate x;
	uint64_t last;
	int rc = 0, unassigned = 0;

	if (!as || (!buf && len))
		return -EINVAL;
	if (len == 0)
		return 0;
	if (!as_range_last(gpa, len, &last))
		return -EOVERFLOW;
	ramdev_as_rdlock();
	v = AS_RCU_DEREF(as->view);
	/* Strict: check the whole span in this same view first, so a hole
	 * means nothing was accessed (no partial write, no MMIO side
	 * effects before it). */
	if ((flags & SPAN_STRICT) && span_assigned(v, gpa, len)) {
		report_unassigned(as, write ? "write" : "read", write, gpa,
				  len);
		ramdev_as_rdunlock();
		return -EFAULT;
	}
	while (len) {
		if (ramdev_as_view_xlate(v, gpa, len, &x) == 0) {
			rc = span_piece(as, &x, buf, write, false);
			if (rc)
				break;
		} else {
			if (!write)
				memset(buf, 0xff, x.len);
			report_unassigned(as, write ? "write" : "read", write,
					  gpa, x.len);
			unassigned = RAMDEV_AS_UNASSIGNED;
		}
		len -= x.len;
		buf += x.len;
		gpa += x.len; /* may wrap to 0 only when len reaches 0 */
	}
	ramdev_as_rdunlock();
	return rc ? rc : unassigned;
}

int ramdev_as_read(struct ramdev_as *as, uint64_t gpa, void *buf, size_t len)
{
	return as_span(as, gpa, buf, len, 0);
}

int ramdev_as_write(struct ramdev_as *as, uint64_t gpa, const void *buf,
		    size_t len)
{
	/* The buffer is only read on this path. */
	return as_span(as, gpa, (uint8_t *)(uintptr_t)buf, len, SPAN_WRITE);
}

int ramdev_as_read_strict(struct ramdev_as *as, uint64_t gpa, void *buf,
			  size_t len)
{
	return as_span(as, gpa, buf, len, SPAN_STRICT);
}

int ramdev_as_write_strict(struct ramdev_as *as, uint64_t gpa,
			   const void *buf, size_t len)
{
	return as_span(as, gpa, (uint8_t *)(uintptr_t)buf, len,
		       SPAN_WRITE | SPAN_STRICT);
}

/* RAMD and RAM: one exact access when the host address is aligned;
 * otherwise the bytes go through ramdev_read/ramdev_write (each byte exactly
 * once, in aligned pieces), since device memory may not take a misaligned
 * access. */
static void ramd_one(void *host, unsigned size, uint64_t *val, bool write)
{
	uint8_t tmp[8];

	if (ramdev_is_aligned(host, size)) {
		if (write)
			ramdev_st(host, size, *val);
		else
			*val = ramdev_ld(host, size);
	} else if (write) {
		ramdev_as_bytes_st(tmp, size, *val);
		ramdev_write(host, tmp, size);
	} else {
		ramdev_read(tmp, host, size);
		*val = ramdev_as_bytes_ld(tmp, size);
	}
}

/* ---- RAM-device regions as QEMU's memory core sees them ----
 * QEMU's ram_device_mem_ops (memory_region_ram_device_read/_write): every
 * access of a RAM-device region that is not "direct" (all of them in
 * address_space_map/flatview_read_continue before the fix) is one
 * memory_region_dispatch_read/write call of at most 8 bytes through this
 * table.  QEMU declares valid and impl 1..8 with unaligned allowed and so
 * walks a span in 8-byte pieces (pow2floor of what is left); we keep
 * impl.unaligned false so the device still gets only naturally aligned
 * accesses (S3): the pieces are the same for an aligned span, and a
 * misaligned one takes a few narrower pieces at its ends. */

static RAMDEV_TLS uint64_t ramd_indirect_count;

uint64_t ramdev_as_ramd_indirect_count(void)
{
	return ramd_indirect_count;
}

/* Host-order value <-> MMIO value (least significant byte first). */
static uint64_t le_val(uint64_t v, unsigned size)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return __builtin_bswap64(v) >> (64 - 8 * size);
#else
	(void)size;
	return v;
#endif
}

static int ramd_ops_read(void *opaque, uint64_t off, unsigned size,
			 uint64_t *val)
{
	struct ramdev_region *r = opaque;
	uint64_t v;

	ramd_indirect_count++;
	ramd_one(r->host + off, size, &v, false);
	*val = le_val(v, size);
	return 0;
}

static int ramd_ops_write(void *opaque, uint64_t off, unsigned size,
			  uint64_t val)
{
	struct ramdev_region *r = opaque;
	uint64_t v = le_val(val, size);

	ramd_indirect_count++;
	ramd_one(r->host + off, size, &v, true);
	return 0;
}

const struct ramdev_mmio_ops ramdev_as_ramd_ops = {
	.read = ramd_ops_read,
	.write = ramd_ops_write,
	.valid = { .min_size = 1, .max_size = 8, .unaligned = true },
	.impl = { .min_size = 1, .max_size = 8, .unaligned = false },
};

static int one_access(struct ramdev_as *as, const struct ramdev_xlate *x,
		      unsigned size, uint64_t *val, bool write)
{
	int rc;

	switch (x->kind) {
	case RAMDEV_REGION_RAM:
	case RAMDEV_REGION_RAMD:
		/* RAM too: one access of @size when aligned, whatever the
		 * compiler would make of a copy (see the top of the file). */
		ramd_one(x->host, size, val, write);
		break;
	default:
		rc = ramdev_as_mmio_valid(as, x->region, x->offset, size);
		return rc ? rc : ramdev_as_mmio_access(as, x->region,
						       x->offset, size, val,
						       write);
	}
	if (write)
		ramdev_region_dirty_mark(x->region, x->offset, size);
	return 0;
}

static int as_one(struct ramdev_as *as, uint64_t gpa, unsigned size,
		  uint64_t *val, bool write)
{
	struct ramdev_xlate x;
	uint64_t last;
	int rc;

	if (!as || !val || !ramdev_size_ok(size))
		return -EINVAL;
	if (!as_range_last(gpa, size, &last))
		return -EOVERFLOW;
	ramdev_as_rdlock();
	rc = ramdev_as_view_xlate(AS_RCU_DEREF(as->view), gpa, size, &x);
	if (x.len != size) {
		rc = -EFAULT; /* the access spans two regions (or a hole) */
	} else if (rc == -EFAULT) {
		if (!write)
			*val = size == 8 ? UINT64_MAX
					 : (UINT64_C(1) << (8 * size)) - 1;
		report_unassigned(as, write ? "store" : "load", write, gpa,
				  size);
		rc = RAMDEV_AS_UNASSIGNED;
	} else {
		rc = one_access(as, &x, size, val, write);
	}
	ramdev_as_rdunlock();
	return rc;
}

int ramdev_as_ld(struct ramdev_as *as, uint64_t gpa, unsigned size,
		 uint64_t *val)
{
	return as_one(as, gpa, size, val, false);
}

int ramdev_as_st(struct ramdev_as *as, uint64_t gpa, unsigned size,
		 uint64_t val)
{
	return as_one(as, gpa, size, &val, true);
}
