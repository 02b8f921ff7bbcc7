/* SPDX-License-Identifier: MIT */
/*
 * Address-space private header: what the DMA layer uses of the address
 * space beyond its public header to reach guest memory: references taken
 * n at a time, translations with a hint (one search per flat range of a
 * descriptor chain), strict reads and writes, copies to and from one
 * region (QEMU-style indirect access to RAM-device regions) and the
 * per-thread count of those indirect accesses, for tests and benchmarks.
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
 * A translation hint: a copy of the flat range the last translation fell
 * in, so the next address inside it translates inline, without a search.
 * Zeroed: no hint.  Valid only inside the read-side section that filled it
 * (the region is one a view that section protects holds), and only while
 * that view is still the published one: an MMIO callback run inside the
 * section (a bounce fill, an indirect table in MMIO) may move a BAR, and
 * the next translation must see the move as a search would.  For the DMA
 * layer's chains, whose table and buffers mostly lie in one range.
 */
struct as_view;

struct ramdev_as_hint {
	bool valid;
	struct as_view *const *view_slot; /* the address space's view pointer */
	const struct as_view *view;       /* the view the range is from */
	enum ramdev_region_kind kind;
	uint64_t start, last;          /* the range, inclusive */
	struct ramdev_region *region;
	uint64_t offset;               /* of @start in @region */
	uint8_t *host;                 /* of @start; NULL for MMIO */
};

/* flatview.c: ramdev_as_translate(), and *@h = the range found (cleared
 * when none is). */
int ramdev_as_translate_search(struct ramdev_as *as, uint64_t gpa,
			       uint64_t len, struct ramdev_xlate *out,
			       struct ramdev_as_hint *h);

/*
 * ramdev_as_translate_hint - ramdev_as_translate() that answers from *@h
 * when @gpa lies in its range and its view is still the published one (the
 * same answer as the search: the range's bytes from @gpa, up to the end of
 * the requested range), and otherwise searches and sets *@h.
 * Returns: as ramdev_as_translate().
 * Context: inside ramdev_as_read_lock(), the section *@h was filled in.
 */
static inline int ramdev_as_translate_hint(struct ramdev_as *as, uint64_t gpa,
					   uint64_t len,
					   struct ramdev_xlate *out,
					   struct ramdev_as_hint *h)
{
	uint64_t last;

	if (h->valid && gpa >= h->start && gpa <= h->last && len != 0 &&
	    !__builtin_add_overflow(gpa, len - 1, &last) &&
	    __atomic_load_n(h->view_slot, __ATOMIC_ACQUIRE) == h->view) {
		out->region = h->region;
		out->kind = h->kind;
		out->offset = h->offset + (gpa - h->start);
		out->len = (last < h->last ? last : h->last) - gpa + 1;
		out->host = h->host ? h->host + (gpa - h->start) : NULL;
		return 0;
	}
	return ramdev_as_translate_search(as, gpa, len, out, h);
}

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

/*
 * ramdev_as_ramd_read / _write - @n bytes between RAM (@ram) and @dev, in
 * the memory of RAM-device region @r, at @r's DMA width
 * (ramdev_region_set_dma_width()): the strict access core at the default
 * width 8, ramdev_read_wide/_write_wide otherwise.  Every copy the library
 * makes of RAMD memory (not a vCPU's access) goes through these.
 * A NULL @r (a segment not made by ramdev_dma_map) means the default.
 * Context: the caller keeps @r alive (a view, or a segment's reference).
 */
void ramdev_as_ramd_read(const struct ramdev_region *r, void *ram,
			 const void *dev, size_t n);
void ramdev_as_ramd_write(const struct ramdev_region *r, void *dev,
			  const void *ram, size_t n);

/* Per-thread count of RAM-device accesses made through that ops table
 * (QEMU's trace_memory_region_ram_device_read/write points): for tests
 * and benchmarks. */
uint64_t ramdev_as_ramd_indirect_count(void);

#endif /* RAMDEV_AS_ACCESS_H */
