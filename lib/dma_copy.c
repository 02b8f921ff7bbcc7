// SPDX-License-Identifier: MIT
/*
 * DMA: copies into and out of guest memory without bounce space
 * (ramdev_dma_read/_write, one view for the whole span) and through a
 * mapped segment (ramdev_dma_seg_read/_write), with the access each kind of
 * memory requires: exact for RAM as well (DESIGN.md section 3); device
 * memory at its region's DMA width (ramdev_region_set_dma_width()), read
 * from the region the segment holds a reference on.
 */
#include "dma_ctx.h" /* first: it defines _LGPL_SOURCE for liburcu */

#include <errno.h>
#include <stdint.h>

#include "ramdev/access.h"

/* ---- copies without bounce space ---- */

static int copy_check(struct ramdev_dma *dma, uint64_t gpa, const void *buf,
		      size_t len)
{
	if (!dma || (len && !buf))
		return -EINVAL;
	if (len && ramdev_dma_range_wraps(gpa, len)) {
		dma_guest_log(dma, DMA_ARG, "copy: range wraps (gpa 0x%llx len 0x%zx)",
			(unsigned long long)gpa, len);
		return -EOVERFLOW;
	}
	return 0;
}

/* The address space checks the whole span in one view, then copies. */
static int copy_result(struct ramdev_dma *dma, uint64_t gpa, int ret)
{
	if (ret == -EFAULT)
		dma_guest_log(dma, DMA_UNASSIGNED, "copy: gpa 0x%llx: unassigned bytes",
			(unsigned long long)gpa);
	return ret == RAMDEV_AS_UNASSIGNED ? -EFAULT : ret;
}

/* ramdev_dma_read/_write; @write: @buf is only read. */
static int dma_copy(struct ramdev_dma *dma, uint64_t gpa, void *buf,
		    size_t len, bool write)
{
	struct ramdev_as_guard_frame gf;
	int ret = copy_check(dma, gpa, buf, len);

	if (ret || !len)
		return ret;
	ramdev_dma_guard_enter(&gf, dma);
	ret = write ? ramdev_as_write_strict(dma->as, gpa, buf, len)
		    : ramdev_as_read_strict(dma->as, gpa, buf, len);
	ramdev_as_guard_exit(&gf);
	return copy_result(dma, gpa, ret);
}

int ramdev_dma_read(struct ramdev_dma *dma, uint64_t gpa, void *buf,
		    size_t len)
{
	return dma_copy(dma, gpa, buf, len, false);
}

int ramdev_dma_write(struct ramdev_dma *dma, uint64_t gpa, const void *buf,
		     size_t len)
{
	return dma_copy(dma, gpa, (void *)(uintptr_t)buf, len, true);
}

/* ---- access through a segment ---- */

static int seg_check(const struct ramdev_dma_seg *seg, size_t off,
		     const void *buf, size_t n)
{
	uint32_t dir;

	if (!seg || (n && !buf))
		return -EINVAL;
	dir = __atomic_load_n(&seg->dir, __ATOMIC_RELAXED);
	if ((dir & SEG_MAGIC_MASK) != SEG_MAPPED)
		return -EINVAL;
	/* off + n <= len, written so that it cannot wrap. */
	if (n > seg->len || off > seg->len - n)
		return -EINVAL;
	return 0;
}

int ramdev_dma_seg_read(const struct ramdev_dma_seg *seg, size_t off,
			void *buf, size_t n)
{
	struct ramdev_as_guard_frame gf;
	int ret = seg_check(seg, off, buf, n);

	if (ret || !n)
		return ret;
	if (seg->kind == RAMDEV_SEG_MMIO) {
		ramdev_dma_guard_enter(&gf, seg->owner);
		ret = ramdev_as_region_mmio(seg->owner->as, seg->region,
					    seg->region_offset + off, buf, n,
					    false);
		ramdev_as_guard_exit(&gf);
		return ret;
	}
	/* RAM too through the access core: each guest byte read once (a
	 * guest may change it meanwhile), at memcpy speed. */
	if (seg->kind == RAMDEV_SEG_DEV) /* at its region's DMA width */
		ramdev_as_ramd_read(seg->region, buf,
				    (const uint8_t *)seg->base + off, n);
	else
		ramdev_read_wide(buf, (const uint8_t *)seg->base + off, n,
				 SEG_RAM_WIDTH);
	return 0;
}

int ramdev_dma_seg_write(const struct ramdev_dma_seg *seg, size_t off,
			 const void *buf, size_t n)
{
	struct ramdev_as_guard_frame gf;
	int ret = seg_check(seg, off, buf, n);

	if (ret || !n)
		return ret;
	if (seg->kind == RAMDEV_SEG_MMIO) { /* the write path only reads buf */
		ramdev_dma_guard_enter(&gf, seg->owner);
		ret = ramdev_as_region_mmio(seg->owner->as, seg->region,
					    seg->region_offset + off,
					    (void *)(uintptr_t)buf, n, true);
		ramdev_as_guard_exit(&gf);
		return ret;
	}
	/* RAM too: each guest byte stored exactly once, an aligned 1/2/4/8
	 * bytes in one store (memcpy may store a byte twice, undoing a
	 * guest's racing write of it). */
	if (seg->kind == RAMDEV_SEG_DEV) /* at its region's DMA width */
		ramdev_as_ramd_write(seg->region,
				     (uint8_t *)seg->base + off, buf, n);
	else
		ramdev_write_wide((uint8_t *)seg->base + off, buf, n,
				  SEG_RAM_WIDTH);
	return 0;
}
