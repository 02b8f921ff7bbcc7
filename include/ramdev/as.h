/* SPDX-License-Identifier: MIT */
/*
 * ramdev address space: RAM, RAM-device and MMIO regions placed in a tree of
 * containers and aliases with priorities, flattened into a sorted,
 * non-overlapping view that readers look up in O(log n) without locks (RCU).
 *
 * Region kinds (DESIGN.md section 2):
 *  - RAM:  ordinary host memory; accessed with memcpy, mapped directly for DMA.
 *  - RAMD: a host mapping of device memory (a vfio BAR mmap); accessed only
 *          through the access core (exact width, each byte once), and mapped
 *          directly for DMA as a RAMDEV_SEG_DEV segment.
 *  - MMIO: read/write callbacks with `valid` rules (what a caller may issue)
 *          and `impl` rules (what the callbacks implement); the core splits
 *          or widens accesses to satisfy `impl` and rejects what `valid`
 *          forbids.
 *  - CONTAINER: groups subregions at offsets; ALIAS: a window onto part of
 *          another region.
 *
 * Errors are negative errno values; messages go to the address space's log
 * callback (rule and values in hex).  Ranges are stored as (start, inclusive
 * last), so a region may end at 2^64 - 1.
 *
 * Threads: building and changing the tree (new/add/del/set_*) is serialised
 * by the address space's writer lock and may be done from any thread while
 * other threads translate, read, write and DMA.  Lookups run in an RCU
 * read-side section; the library registers calling threads with liburcu as
 * needed.
 */
#ifndef RAMDEV_AS_H
#define RAMDEV_AS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef RAMDEV_EXPORT
#define RAMDEV_EXPORT __attribute__((visibility("default")))
#endif

struct ramdev_as;
struct ramdev_region;

/**
 * ramdev_log_fn - a context's log sink.
 * @level: syslog level (LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG).
 * @msg:   one line, no trailing newline.
 * Must not change errno.  Without a callback, messages at LOG_WARNING and
 * above go to stderr prefixed with "ramdev: ".
 */
typedef void ramdev_log_fn(void *opaque, int level, const char *msg);

enum ramdev_region_kind {
	RAMDEV_REGION_RAM,
	RAMDEV_REGION_RAMD,
	RAMDEV_REGION_MMIO,
	RAMDEV_REGION_CONTAINER,
	RAMDEV_REGION_ALIAS,
};

/** Access-size rules of an MMIO region (QEMU's MemoryRegionOps.valid/impl). */
struct ramdev_access_rules {
	unsigned min_size; /* power of two 1..8; 0 means 1 */
	unsigned max_size; /* power of two 1..8; 0 means 4 */
	bool unaligned;    /* accesses not aligned to their size are allowed */
};

/**
 * struct ramdev_mmio_ops - callbacks of an MMIO region.
 * @read/@write: one access at @offset (relative to the region) of @size
 *        bytes; size and alignment always satisfy @impl.  The value's least
 *        significant byte is the byte at @offset (little-endian data, as on
 *        the PCI bus).  Return 0, or a negative errno that the caller of the
 *        access receives.
 * @valid: what callers may issue; anything else is rejected with -EINVAL.
 * @impl:  what the callbacks implement.  Larger accesses are split into
 *        ascending @impl.max_size pieces; smaller ones are widened to
 *        @impl.min_size (reads extract the bytes; writes send the value
 *        zero-extended, as QEMU does, never a read-modify-write).
 */
struct ramdev_mmio_ops {
	int (*read)(void *opaque, uint64_t offset, unsigned size, uint64_t *val);
	int (*write)(void *opaque, uint64_t offset, unsigned size, uint64_t val);
	struct ramdev_access_rules valid;
	struct ramdev_access_rules impl;
};

/* ---- the address space ---- */

/**
 * ramdev_as_new - create an empty address space.
 * @out:  receives the address space.
 * @name: shown by ramdev_as_dump(); copied.
 * Returns: 0, -EINVAL (NULL argument), -ENOMEM.
 */
RAMDEV_EXPORT int ramdev_as_new(struct ramdev_as **out, const char *name);

/**
 * ramdev_as_free - detach every region and free the address space.
 * Regions are released once no reader and no DMA mapping uses them.
 * Context: not from an RCU read-side section.
 */
RAMDEV_EXPORT void ramdev_as_free(struct ramdev_as *as);

/** ramdev_as_set_log - route this address space's messages to @fn. */
RAMDEV_EXPORT void ramdev_as_set_log(struct ramdev_as *as, ramdev_log_fn *fn,
				     void *opaque);

/**
 * ramdev_as_root - the root container, spanning the whole 64-bit space.
 * Returns: a region owned by @as (do not unref it).
 */
RAMDEV_EXPORT struct ramdev_region *ramdev_as_root(struct ramdev_as *as);

/**
 * ramdev_as_begin / ramdev_as_commit - batch changes: the flat view is
 * rebuilt and published once, at the outermost commit.  Nestable.
 * Returns (commit): 0; -ENOMEM when the view could not be rebuilt (the
 * old view stays published); -EINVAL for a NULL @as or a commit without a
 * matching begin (logged; nothing changes).
 */
RAMDEV_EXPORT void ramdev_as_begin(struct ramdev_as *as);
RAMDEV_EXPORT int ramdev_as_commit(struct ramdev_as *as);

/**
 * ramdev_as_dump - print the region tree like QEMU's `info mtree`:
 * one line per region, "start-last (prio N, kind): name", indented by depth,
 * kinds ram, ramd, i/o, container, alias ("@target start-last" for aliases).
 * Returns: 0 or -EIO (write error on @f).
 */
RAMDEV_EXPORT int ramdev_as_dump(struct ramdev_as *as, FILE *f);

/* ---- regions ---- */

/**
 * ramdev_region_new_ram / _ramd - a region backed by host memory.
 * @host: start of @size bytes of host memory; for RAMD, device memory.  The
 *        memory stays the caller's: see ramdev_region_set_release().
 * @size: > 0.
 * Returns: 0, -EINVAL (NULL, size 0), -ENOMEM.  The caller holds one
 * reference; drop it with ramdev_region_unref() when done with the handle.
 */
RAMDEV_EXPORT int ramdev_region_new_ram(struct ramdev_region **out,
					const char *name, void *host,
					uint64_t size);
RAMDEV_EXPORT int ramdev_region_new_ramd(struct ramdev_region **out,
					 const char *name, void *host,
					 uint64_t size);

/**
 * ramdev_region_new_mmio - a region served by callbacks.
 * @ops: copied; rules are checked (powers of two, min <= max, <= 8).
 * Returns: 0, -EINVAL (bad rules, size 0, NULL), -ENOMEM.
 */
RAMDEV_EXPORT int ramdev_region_new_mmio(struct ramdev_region **out,
					 const char *name, uint64_t size,
					 const struct ramdev_mmio_ops *ops,
					 void *opaque);

/** ramdev_region_new_container - an empty region that holds subregions. */
RAMDEV_EXPORT int ramdev_region_new_container(struct ramdev_region **out,
					      const char *name, uint64_t size);

/**
 * ramdev_region_new_alias - @size bytes of @target starting at @offset.
 * Returns: 0, -EINVAL, -EOVERFLOW (the window leaves @target), -ENOMEM.
 * The alias holds a reference on @target.
 */
RAMDEV_EXPORT int ramdev_region_new_alias(struct ramdev_region **out,
					  const char *name,
					  struct ramdev_region *target,
					  uint64_t offset, uint64_t size);

RAMDEV_EXPORT void ramdev_region_ref(struct ramdev_region *r);
/** Drop a reference; the region is freed after an RCU grace period. */
RAMDEV_EXPORT void ramdev_region_unref(struct ramdev_region *r);

/**
 * ramdev_region_set_release - called once when the region is freed, i.e.
 * after it was removed and no reader or DMA mapping uses it any more: the
 * moment its host memory may be unmapped.
 */
RAMDEV_EXPORT void ramdev_region_set_release(struct ramdev_region *r,
					     void (*fn)(void *opaque),
					     void *opaque);

/**
 * ramdev_region_add - place @child at @offset in container @parent.
 * @priority: higher wins where siblings overlap.
 * Returns: 0; -EINVAL (not a container, child already placed, NULL);
 * -ELOOP (@parent is reachable from @child through children and alias
 * targets: the tree would contain a cycle); -EOVERFLOW (offset + size wraps
 * or leaves the container); -EBUSY (overlaps a sibling of equal priority);
 * -ENOMEM.  @parent takes a reference.
 */
RAMDEV_EXPORT int ramdev_region_add(struct ramdev_region *parent,
				    uint64_t offset,
				    struct ramdev_region *child, int priority);

/** ramdev_region_del - remove @child from @parent.  Returns 0 or -ENOENT. */
RAMDEV_EXPORT int ramdev_region_del(struct ramdev_region *parent,
				    struct ramdev_region *child);

RAMDEV_EXPORT const char *ramdev_region_name(const struct ramdev_region *r);
RAMDEV_EXPORT enum ramdev_region_kind
ramdev_region_kind(const struct ramdev_region *r);
/**
 * ramdev_region_size - size in bytes.  An address space's root spans all
 * 2^64 bytes, which does not fit: it reports UINT64_MAX.
 */
RAMDEV_EXPORT uint64_t ramdev_region_size(const struct ramdev_region *r);

/* ---- lookup and access ---- */

/**
 * struct ramdev_xlate - where a guest address lands.
 * @region: terminal region (RAM, RAMD or MMIO), aliases resolved.
 * @offset: offset of the address inside @region.
 * @len:    bytes from the address that stay in @region (<= requested).
 * @host:   host address for RAM and RAMD, NULL for MMIO.
 * Valid only inside the RCU read-side section it was obtained in, unless
 * the caller took a reference on @region.
 */
struct ramdev_xlate {
	struct ramdev_region *region;
	enum ramdev_region_kind kind;
	uint64_t offset;
	uint64_t len;
	void *host;
};

/**
 * ramdev_as_read_lock / _unlock - RCU read-side section around
 * ramdev_as_translate() and the use of its result.  Nestable, never blocks;
 * the first call on a thread registers it with liburcu (unregistered at
 * thread exit), later ones cost a thread-local test plus liburcu's inline
 * read lock.
 */
RAMDEV_EXPORT void ramdev_as_read_lock(void);
RAMDEV_EXPORT void ramdev_as_read_unlock(void);

/**
 * ramdev_as_translate - look up [@gpa, @gpa + @len).
 * Returns: 0; -EINVAL (@len 0, NULL @as or @out); -EOVERFLOW (range wraps
 * past 2^64); -EFAULT (@gpa is unassigned: @out->len is then the number of
 * unassigned bytes from @gpa, up to the next region or the end of the
 * requested range, whichever comes first, and the other fields of @out are
 * zero).
 * Context: inside ramdev_as_read_lock(); O(log n) without data-dependent
 * branches, never blocks.
 */
RAMDEV_EXPORT int ramdev_as_translate(struct ramdev_as *as, uint64_t gpa,
				      uint64_t len, struct ramdev_xlate *out);

/** Positive return of the access functions: some bytes hit no region. */
#define RAMDEV_AS_UNASSIGNED 1

/**
 * ramdev_as_read / ramdev_as_write - copy across region boundaries.
 * RAM by memcpy, RAMD through ramdev_read/ramdev_write (exact), MMIO in
 * accesses of the greedy width within @valid, adapted to @impl.
 * Unassigned bytes read as 0xff and writes to them are dropped.  Writes to
 * RAM and RAMD mark the region's dirty log.
 * Returns: 0; RAMDEV_AS_UNASSIGNED (reported in the log, rate-limited);
 * -EOVERFLOW (range wraps); -EINVAL (an MMIO region's valid rules forbid the
 * access; nothing after that point is done); a callback's negative errno.
 * Context: any thread; takes the RCU read lock itself.
 */
RAMDEV_EXPORT int ramdev_as_read(struct ramdev_as *as, uint64_t gpa,
				 void *buf, size_t len);
RAMDEV_EXPORT int ramdev_as_write(struct ramdev_as *as, uint64_t gpa,
				  const void *buf, size_t len);

/**
 * ramdev_as_ld / ramdev_as_st - one guest access of @size (1, 2, 4, 8), as
 * a vCPU issues it: RAMD gets exactly one @size access when @gpa is aligned;
 * MMIO is checked against @valid and adapted to @impl.  Values in host order
 * (MMIO data little-endian, see struct ramdev_mmio_ops).
 * Returns: as ramdev_as_read(); -EINVAL for a bad @size; -EFAULT when the
 * access spans two regions.
 */
RAMDEV_EXPORT int ramdev_as_ld(struct ramdev_as *as, uint64_t gpa,
			       unsigned size, uint64_t *val);
RAMDEV_EXPORT int ramdev_as_st(struct ramdev_as *as, uint64_t gpa,
			       unsigned size, uint64_t val);

/* ---- dirty log (for migration) ---- */

#define RAMDEV_DIRTY_PAGE 4096u

/**
 * ramdev_region_dirty_enable - start or stop logging writes to a RAM or RAMD
 * region in a bitmap of RAMDEV_DIRTY_PAGE pages.  Returns 0, -EINVAL, -ENOMEM.
 */
RAMDEV_EXPORT int ramdev_region_dirty_enable(struct ramdev_region *r, bool on);

/**
 * ramdev_region_dirty_mark - mark [@offset, @offset + @len) dirty.  Used by
 * the DMA layer for writes through direct mappings.  No-op when logging is
 * off or @len is 0; the range is clamped to the region.
 */
RAMDEV_EXPORT void ramdev_region_dirty_mark(struct ramdev_region *r,
					    uint64_t offset, uint64_t len);

/**
 * ramdev_region_dirty_take - copy the bitmap into @bits and clear it,
 * atomically per word (no concurrent mark is lost).
 * @bits: ceil(pages / 64) words; bit i of word j is page j * 64 + i.
 * Returns: number of dirty pages, -EINVAL (logging off, too few words).
 */
RAMDEV_EXPORT int64_t ramdev_region_dirty_take(struct ramdev_region *r,
					       uint64_t *bits, size_t words);

/* ---- the vCPU path (lib/as/vcpu.c) ---- */

/**
 * enum ramdev_misaligned - what a RAM-device region does with a vCPU access
 * that is not naturally aligned (or has a size of 3, 5, 6 or 7 bytes, which
 * KVM produces where an access crosses a page boundary).
 * @RAMDEV_MISALIGNED_SPLIT:  the default: aligned pieces through
 *        ramdev_read/ramdev_write, lowest address first, each byte once.
 * @RAMDEV_MISALIGNED_REJECT: no device access; the caller gets
 *        -EOPNOTSUPP, a read returns all-ones, a write is dropped.
 * Never an unaligned host access.
 */
enum ramdev_misaligned {
	RAMDEV_MISALIGNED_SPLIT = 0,
	RAMDEV_MISALIGNED_REJECT = 1,
};

/**
 * ramdev_region_set_misaligned - choose a RAM-device region's policy for
 * misaligned vCPU accesses (ramdev_as_vcpu_access()).
 * @r:      a RAMD region the caller holds the only reference on: not yet
 *          added to a container nor the target of an alias.
 * @policy: RAMDEV_MISALIGNED_SPLIT or RAMDEV_MISALIGNED_REJECT.
 * Returns: 0; -EINVAL (NULL, not RAMD, unknown policy); -EBUSY (the region
 * is placed or referenced elsewhere: the policy is part of its creation).
 * Context: any thread; takes the writer lock.
 */
RAMDEV_EXPORT int ramdev_region_set_misaligned(struct ramdev_region *r,
					       enum ramdev_misaligned policy);

/**
 * struct ramdev_vcpu_stats - vCPU accesses that did not reach a device as
 * issued, per address space, since its creation.
 * @unassigned:  hit no region (read all-ones, write dropped).
 * @spanning:    crossed a region boundary, a hole, or 2^64 (same outcome).
 * @bad_size:    size 0 or > 8, which KVM never produces (same outcome).
 * @misaligned_split:    RAM-device, split into aligned pieces (done).
 * @misaligned_rejected: RAM-device under RAMDEV_MISALIGNED_REJECT.
 * @mmio_errors: an MMIO region's valid rules or callback refused it.
 */
struct ramdev_vcpu_stats {
	uint64_t unassigned;
	uint64_t spanning;
	uint64_t bad_size;
	uint64_t misaligned_split;
	uint64_t misaligned_rejected;
	uint64_t mmio_errors;
};

/**
 * ramdev_as_vcpu_access - one access a vCPU trapped on, as KVM_EXIT_MMIO
 * (struct kvm_run.mmio) or an emulator's slow path delivers it.
 * @gpa:      guest physical address.
 * @data:     @size bytes in guest memory order (the order they have at
 *            @gpa; for an x86 guest the value little-endian).  Read from
 *            for a write; filled for a read (kvm_run.mmio.data as is).
 * @size:     1 to 8 (KVM: 1, 2, 4, 8; 3, 5, 6, 7 for the pieces of an
 *            access crossing a page).
 * @is_write: direction.
 * Where the access lands:
 *  - RAM-device: a naturally aligned access of 1, 2, 4 or 8 bytes is
 *    exactly one ramdev_ld/ramdev_st of @size; anything else follows the
 *    region's enum ramdev_misaligned policy.  Writes mark the dirty log.
 *  - MMIO: the callbacks, under the region's valid and impl rules.
 *  - RAM: a plain copy.
 *  - no region, two regions (or a region and a hole), or a bad @size: no
 *    access at all; a read returns all-ones, a write is dropped, a
 *    rate-limited log line names the case, and struct ramdev_vcpu_stats
 *    counts it.
 * Returns: 0; RAMDEV_AS_UNASSIGNED (no region); -EFAULT (spans two
 * regions or a hole, or wraps past 2^64); -EINVAL (bad @size, NULL @as or
 * @data, or an MMIO valid rule); -EOPNOTSUPP (misaligned, REJECT policy);
 * an MMIO callback's negative errno.  On any nonzero return a read's @data
 * is all-ones.
 * Context: any thread; takes the RCU read lock once; no allocation; never
 * blocks (unless an MMIO callback does).
 */
RAMDEV_EXPORT int ramdev_as_vcpu_access(struct ramdev_as *as, uint64_t gpa,
					void *data, unsigned size,
					bool is_write);

/**
 * ramdev_as_vcpu_stats - read the counters of ramdev_as_vcpu_access().
 * Returns: 0, -EINVAL (NULL argument).  Each counter is read atomically.
 */
RAMDEV_EXPORT int ramdev_as_vcpu_stats(struct ramdev_as *as,
				       struct ramdev_vcpu_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* RAMDEV_AS_H */
