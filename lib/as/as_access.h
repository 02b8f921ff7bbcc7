/* SPDX-License-Identifier: MIT */
/*
 * Address-space private header: what the DMA layer uses of the address
 * space beyond its public header to reach guest memory: references taken
 * n at a time, strict reads and writes, copies to and from one region
 * (QEMU-style indirect access to RAM-device regions) and the per-thread
 * count of those indirect accesses, for tests and benchmarks.
 */
#ifndef RAMDEV_AS_ACCESS_H
#define RAMDEV_AS_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ramdev/as.h"

/* region.c: @n references at once (one atomic operation), as @n calls of
 * ramdev_region_ref/_unref would take and drop them.  The DMA layer takes
 * one per mapped segment, for a whole scatter-gather list at a time. */
void ramdev_region_ref_n(struct ramdev_region *r, unsigned n);
void ramdev_region_unref_n(struct ramdev_region *r, unsigned n);

/*
 * ramdev_as_translate_hint - ramdev_as_translate() that remembers, in
 * *@hint, the flat range the translation fell in, and translates an
 * address inside that range again without a search.  *@hint is NULL before
 * the first call, and may be reused only inside the read-side section that
 * set it (the range belongs to a view that section protects; the answer is
 * that view's).  Sets *@hint to NULL when the translation fails.  For the
 * DMA layer's scatter-gather maps, whose segments mostly lie in one range.
 * Returns: as ramdev_as_translate().
 * Context: inside ramdev_as_read_lock().
 */
struct as_range;
int ramdev_as_translate_hint(struct ramdev_as *as, uint64_t gpa, uint64_t len,
			     struct ramdev_xlate *out,
			     const struct as_range **hint);

/*
 * ramdev_as_read_strict / _write_strict - ramdev_as_read/_write, except
 * that a span with any unassigned byte is -EFAULT and nothing of it is
 * accessed: the whole span is checked first, in the same view that the
 * access then uses.  For the DMA layer's ramdev_dma_read/_write.
 */
int ramdev_as_read_strict(struct ramdev_as *as, uint64_t gpa, void *buf,
			  size_t len);
int ramdev_as_write_strict(struct ramdev_as *as, uint64_t gpa,
			   const void *buf, size_t len);

/*
 * ramdev_as_region_copy - [@off, @off + @n) of terminal region @r itself
 * (RAM, RAMD or MMIO), with the accesses ramdev_as_read/_write would make
 * there (@indirect: RAMD through its ops table, as QEMU's flatview_read/
 * write_continue do for a RAM-device region, which is not "direct": one
 * valid check and one indirect callback per piece of at most 8 bytes; the
 * DMA layer's QEMU_BOUNCE policy),
 * writes marking the dirty log.  Not a new translation of a guest address:
 * for the DMA layer's bounce buffers and segments, which hold a reference
 * on @r, so a region moved or removed meanwhile is still the one accessed.
 * Returns 0, -EINVAL (not a terminal region, or out of it), or a callback's
 * or valid rule's error.
 */
int ramdev_as_region_copy(struct ramdev_as *as, struct ramdev_region *r,
			  uint64_t off, void *buf, uint64_t n, bool write,
			  bool indirect);

/* ramdev_as_region_copy() for an MMIO region only (-EINVAL otherwise). */
int ramdev_as_region_mmio(struct ramdev_as *as, const struct ramdev_region *r,
			  uint64_t off, void *buf, uint64_t n, bool write);

/* Per-thread count of RAM-device accesses made through that ops table
 * (QEMU's trace_memory_region_ram_device_read/write points): for tests
 * and benchmarks. */
uint64_t ramdev_as_ramd_indirect_count(void);

#endif /* RAMDEV_AS_ACCESS_H */
