/* SPDX-License-Identifier: MIT */
/*
 * ramdev address space: RAM, RAM-device and MMIO regions placed in a tree of
 * containers and aliases with priorities, flattened into a sorted,
 * non-overlapping view that readers look up in O(log n) without locks (RCU).
 *
 * Region kinds:
 *  - RAM:  ordinary host memory; mapped directly for DMA.  Copies go through
 *          the access core too (ramdev/access.h): each byte is read or
 *          written exactly once, and a naturally aligned 1/2/4/8-byte access
 *          is one access of that width, so a guest racing with a device
 *          write never sees a byte stored twice.
 *  - RAMD: a host mapping of device memory (a vfio BAR mmap); accessed only
 *          through the access core (exact width, each byte once, naturally
 *          aligned accesses), and mapped directly for DMA as a
 *          RAMDEV_SEG_DEV segment.
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
 * by one library-wide writer lock and may be done from any thread while
 * other threads translate, read, write and DMA.  Each add or del takes
 * effect at once (the flat view is rebuilt and published before it
 * returns); ramdev_as_begin/_commit only batch several changes into one
 * rebuild.  Lookups run in an RCU read-side section (liburcu's memb
 * flavour); the library registers calling threads with liburcu as needed
 * and unregisters them at thread exit.
 *
 * Lifetime: a region is freed when its last reference is dropped.  The
 * references are the creator's (from ramdev_region_new_*), one per
 * placement in a container (ramdev_region_add, dropped by
 * ramdev_region_del), one per alias pointing at it, one per DMA mapping
 * (ramdev_dma_map), and the published flat views' (dropped one RCU grace
 * period after the view is replaced).  The release callback
 * (ramdev_region_set_release) runs at that moment, on the thread that drops
 * the last reference: usually liburcu's call_rcu thread after a removal,
 * the thread that unmaps the last DMA mapping, or the caller of the last
 * ramdev_region_unref.  ramdev_as_synchronize() waits for the callbacks of
 * regions removed before it was called.
 *
 * DMA re-entrancy: a guest can point a device's DMA at the device's own
 * registers: a virtio-blk request whose status byte or data buffer is the
 * queue's notify register, or the device's config space.  The device then
 * writes its own notify register from inside its queue processing, whose
 * callback processes the queue again, and so on: unbounded recursion, or
 * state the device model never expected to see change under it (QEMU's
 * MemReentrancyGuard closed a series of CVEs of this class).
 *
 * The rule: an MMIO region may name its owner (ramdev_region_set_owner(),
 * one pointer identifying the device; all regions of a device share it).
 * On a thread, an owner is "engaged"
 *  - while a callback of one of its regions runs on that thread (a vCPU's
 *    write to the notify register, whose callback processes the queue), and
 *  - while that thread is inside a call of a DMA context created with that
 *    owner (struct ramdev_dma_config.owner: map, unmap, copies, segment
 *    accesses), which covers a device that processes its queues on an
 *    I/O thread rather than in the callback.
 * An MMIO access on a thread to any region of an owner engaged on that
 * thread is re-entrant and is refused: no callback runs, a read gives
 * all-ones (0xff bytes), a write is dropped, the access returns
 * RAMDEV_AS_REENTRANT (nothing after it in a span is done), the address
 * space counts it (ramdev_as_reentrant_refused()) and logs one line,
 * rate-limited (at most one a second per address space).  Other owners'
 * regions and regions without an owner stay reachable (a device may DMA
 * into another device's BAR: peer to peer), RAM and RAM-device regions are
 * never guarded (they have no callbacks), and other threads are not
 * affected (a vCPU thread may write the register while the device's thread
 * is in its DMA: that is concurrency, not re-entrancy, and the callbacks
 * must handle it as before).  Hence a device's own DMA reaches its
 * callbacks at most one level deep.
 */
#ifndef RAMDEV_AS_H
#define RAMDEV_AS_H

#include <errno.h>
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
 * @opaque: the pointer given with the callback to the set_log call
 *          (ramdev_as_set_log, or the virtq and blk layers' own).
 * @level:  syslog level (LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG).
 * @msg:    one line, no trailing newline; valid during the call only.
 * Must not change errno.  Without a callback, messages at LOG_WARNING and
 * above go to stderr prefixed with "ramdev: ".
 * Context: any thread that uses the library, including liburcu's call_rcu
 * thread, possibly while the library's writer lock is held and inside an
 * RCU read-side section: do not call ramdev_as_synchronize() or
 * ramdev_as_free() from it.  The address space's messages a guest can
 * trigger (unassigned accesses, refused MMIO sizes, bad DMA addresses) come
 * at most once per second per kind of message and address space; the next
 * one of a kind that gets through ends with "(N similar suppressed)".
 */
typedef void ramdev_log_fn(void *opaque, int level, const char *msg);

enum ramdev_region_kind {
	RAMDEV_REGION_RAM,
	RAMDEV_REGION_RAMD,
	RAMDEV_REGION_MMIO,
	RAMDEV_REGION_CONTAINER,
	RAMDEV_REGION_ALIAS,
};

/**
 * struct ramdev_access_rules - access sizes of an MMIO region (QEMU's
 * MemoryRegionOps.valid/impl).
 * @min_size:  power of two 1..8; 0 means 1.
 * @max_size:  power of two 1..8, >= @min_size; 0 means 4.
 * @unaligned: accesses not aligned to their size are allowed.
 */
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
 *        ascending @impl.max_size pieces; smaller ones are widened to the
 *        aligned @impl.min_size block around them (reads extract the bytes;
 *        writes send the value zero-extended, as QEMU does, never a
 *        read-modify-write).  The region's size must be a multiple of
 *        @impl.min_size, so a widened access never leaves the region.
 * Callbacks run on the thread that makes the access (a vCPU's, a device
 * model's), inside an RCU read-side section: they must not call
 * ramdev_as_synchronize() or ramdev_as_free(), and may be called
 * concurrently from several threads.  A callback may make accesses and DMA
 * of its own (process a queue on a notify write); those reaching a region
 * of the same owner are refused (see "DMA re-entrancy" at the top).
 */
struct ramdev_mmio_ops {
	int (*read)(void *opaque, uint64_t offset, unsigned size, uint64_t *val);
	int (*write)(void *opaque, uint64_t offset, unsigned size, uint64_t val);
	struct ramdev_access_rules valid;
	struct ramdev_access_rules impl;
};

/* ---- DMA re-entrancy guard (see "DMA re-entrancy" above) ---- */

/**
 * RAMDEV_AS_REENTRANT - what an access refused by the re-entrancy guard
 * returns (-EDEADLK: carrying it out could recurse into the device that is
 * making it).  See "DMA re-entrancy" at the top.  MMIO callbacks should
 * not return -EDEADLK themselves, or callers cannot tell the two apart.
 */
#define RAMDEV_AS_REENTRANT (-EDEADLK)

/**
 * ramdev_region_set_owner - name the device an MMIO region belongs to, for
 * the re-entrancy guard.
 * @r:     an MMIO region.
 * @owner: any pointer identifying the device (its state, say), the same
 *         for all its regions; compared, never dereferenced.  NULL (the
 *         default) removes the owner: the region is not guarded.
 * Accesses that start after the call see the new owner.
 * Returns: 0; -EINVAL (NULL @r, or @r not an MMIO region: logged).
 * Context: any thread; never blocks.
 */
RAMDEV_EXPORT int ramdev_region_set_owner(struct ramdev_region *r,
					  const void *owner);

/**
 * ramdev_as_reentrant_refused - MMIO accesses the re-entrancy guard refused
 * on @as since its creation (one per refused callback access: an access
 * split into several pieces by impl rules counts once per access refused).
 * Returns: the count; 0 for a NULL @as.
 * Context: any thread; never blocks.
 */
RAMDEV_EXPORT uint64_t ramdev_as_reentrant_refused(struct ramdev_as *as);

/* ---- the address space ---- */

/**
 * ramdev_as_new - create an empty address space.
 * @out:  receives the address space.
 * @name: shown by ramdev_as_dump() and in messages; copied.
 * Returns: 0; -EINVAL (NULL argument); -ENOMEM.
 * Context: any thread.
 */
RAMDEV_EXPORT int ramdev_as_new(struct ramdev_as **out, const char *name);

/**
 * ramdev_as_free - detach every region and free the address space.
 * @as: NULL does nothing.
 * Drops the root container and with it the placement references of the
 * regions in the tree, then waits as ramdev_as_synchronize() does: the
 * release callbacks of regions nobody else holds (no caller reference, no
 * DMA mapping, no alias from another address space) have run when it
 * returns.  Every DMA context on @as must be freed first.
 * Context: any thread, not inside an RCU read-side section, not from a
 * log, MMIO or release callback.
 */
RAMDEV_EXPORT void ramdev_as_free(struct ramdev_as *as);

/**
 * ramdev_as_set_log - route this address space's messages to @fn.
 * @as:     NULL does nothing.
 * @fn:     the sink; NULL restores the default (stderr, warnings and up).
 * @opaque: passed to @fn.
 * The DMA contexts on @as log here too.  @fn and @opaque are published as
 * one pair: a message sent concurrently goes to the old pair or the new
 * one, never to @fn with the old opaque.  A message already running on
 * another thread may still call the old @fn after this returns.  Out of
 * memory, the old sink stays (and gets an error message).
 * Context: any thread.
 */
RAMDEV_EXPORT void ramdev_as_set_log(struct ramdev_as *as, ramdev_log_fn *fn,
				     void *opaque);

/**
 * ramdev_as_root - the root container, spanning the whole 64-bit space.
 * Returns: a region owned by @as (do not unref it), NULL for a NULL @as.
 * Context: any thread.
 */
RAMDEV_EXPORT struct ramdev_region *ramdev_as_root(struct ramdev_as *as);

/**
 * ramdev_as_begin / ramdev_as_commit - batch changes to @as.
 * Optional: without them every ramdev_region_add/_del takes effect at once.
 * Between begin and the outermost commit, readers keep seeing the layout
 * from before begin; the flat view is rebuilt and published once, at the
 * outermost commit.  Nestable.  A begin with a NULL @as does nothing.
 * Returns (commit): 0; -ENOMEM when the view could not be rebuilt (the
 * old view stays published; the next change or commit retries); -EINVAL
 * for a NULL @as or a commit without a matching begin (logged; nothing
 * changes).
 * Context: any thread (takes the writer lock), MMIO callbacks included (a
 * guest moving a BAR).
 */
RAMDEV_EXPORT void ramdev_as_begin(struct ramdev_as *as);
RAMDEV_EXPORT int ramdev_as_commit(struct ramdev_as *as);

/**
 * ramdev_as_dump - print the region tree like QEMU's `info mtree`.
 * @as: the address space.
 * @f:  where to print.
 * One line per region, "start-last (prio N, kind): name", indented by
 * depth, kinds ram, ramd, i/o, container, alias ("@target start-last" for
 * aliases).
 * Returns: 0; -EINVAL (NULL argument); -EIO (write error on @f).
 * Context: any thread (takes the writer lock while it walks the tree).
 */
RAMDEV_EXPORT int ramdev_as_dump(struct ramdev_as *as, FILE *f);

/* ---- regions ---- */

/**
 * ramdev_region_new_ram / _ramd - a region backed by host memory.
 * @out:  receives the region.
 * @name: shown by ramdev_as_dump() and in messages; copied.
 * @host: start of @size bytes of host memory; for RAMD, device memory.  The
 *        memory stays the caller's and must stay mapped until the region's
 *        release callback ran: see ramdev_region_set_release().
 * @size: > 0; @host + @size must not wrap.
 * Returns: 0; -EINVAL (NULL argument, size 0, a range that wraps);
 * -ENOMEM.  The caller holds one reference; drop it with
 * ramdev_region_unref() when done with the handle.
 * Context: any thread.
 */
RAMDEV_EXPORT int ramdev_region_new_ram(struct ramdev_region **out,
					const char *name, void *host,
					uint64_t size);
RAMDEV_EXPORT int ramdev_region_new_ramd(struct ramdev_region **out,
					 const char *name, void *host,
					 uint64_t size);

/**
 * ramdev_region_new_mmio - a region served by callbacks.
 * @out:    receives the region (one reference, the caller's).
 * @name:   copied.
 * @size:   > 0, a multiple of @ops->impl.min_size (after 0 -> 1).
 * @ops:    copied; rules are checked (powers of two, min <= max, <= 8).
 * @opaque: passed to the callbacks.
 * Returns: 0; -EINVAL (bad rules, size 0 or not a multiple of
 * impl.min_size, NULL @out, @name, @ops or callback); -ENOMEM.
 * Context: any thread.
 */
RAMDEV_EXPORT int ramdev_region_new_mmio(struct ramdev_region **out,
					 const char *name, uint64_t size,
					 const struct ramdev_mmio_ops *ops,
					 void *opaque);

/**
 * ramdev_region_new_container - an empty region that holds subregions.
 * @out:  receives the region (one reference, the caller's).
 * @name: copied.
 * @size: > 0.  Addresses of the container that no subregion covers are
 *        unassigned.
 * Returns: 0; -EINVAL (NULL argument, size 0); -ENOMEM.
 * Context: any thread.
 */
RAMDEV_EXPORT int ramdev_region_new_container(struct ramdev_region **out,
					      const char *name, uint64_t size);

/**
 * ramdev_region_new_alias - @size bytes of @target starting at @offset.
 * @out:    receives the alias (one reference, the caller's).
 * @name:   copied.
 * @target: any region; the alias holds a reference on it until freed.
 * @offset: where the window starts in @target.
 * @size:   > 0.
 * Returns: 0; -EINVAL (NULL argument, size 0); -EOVERFLOW (the window
 * leaves @target); -ENOMEM.
 * Context: any thread.
 */
RAMDEV_EXPORT int ramdev_region_new_alias(struct ramdev_region **out,
					  const char *name,
					  struct ramdev_region *target,
					  uint64_t offset, uint64_t size);

/**
 * ramdev_region_ref - take one more reference on @r (NULL: nothing).
 * Context: any thread; @r must be known alive (a reference of the caller's,
 * or a translation inside the current RCU read-side section).
 */
RAMDEV_EXPORT void ramdev_region_ref(struct ramdev_region *r);
/**
 * ramdev_region_unref - drop a reference (NULL: nothing).
 * The last one frees the region at once, on this thread, and runs its
 * release callback.  While @r is placed in a container or in a published
 * view, those references keep it alive: after ramdev_region_del the last
 * one usually goes one RCU grace period later, on liburcu's call_rcu
 * thread (see ramdev_as_synchronize()).
 * Context: any thread, not inside an RCU read-side section that still uses
 * @r through this reference.
 */
RAMDEV_EXPORT void ramdev_region_unref(struct ramdev_region *r);

/**
 * ramdev_region_set_release - set what runs when @r is freed.
 * @r:      NULL does nothing.
 * @fn:     called once with @opaque when the last reference goes, i.e.
 *          after @r was removed and no reader, DMA mapping or handle uses it
 *          any more: the moment its host memory may be unmapped (or a vfio
 *          device fd closed).  NULL: nothing is called.
 * @opaque: passed to @fn.
 * @fn runs on the thread that drops the last reference: liburcu's call_rcu
 * thread when a published view held it (the usual case after
 * ramdev_region_del), the thread that unmaps the last DMA mapping, or the
 * caller of the last ramdev_region_unref.  It must not block on the
 * library: no ramdev_as_synchronize(), ramdev_as_free() or
 * ramdev_dma_free() from it.  To wait for it, use ramdev_as_synchronize().
 * Context: any thread (takes the writer lock).
 */
RAMDEV_EXPORT void ramdev_region_set_release(struct ramdev_region *r,
					     void (*fn)(void *opaque),
					     void *opaque);

/**
 * ramdev_region_add - place @child at @offset in container @parent.
 * @parent:   a container (an address space's root or one placed below it).
 * @offset:   where @child starts in @parent.
 * @child:    any region not placed yet.
 * @priority: higher wins where siblings overlap.
 * @parent takes a reference on @child (the caller keeps its own).  No
 * ramdev_as_begin/_commit is needed: the change is visible to readers when
 * this returns, unless a transaction of the address space is open, in which
 * case at its outermost commit.
 * Returns: 0; -EINVAL (not a container, child already placed, NULL);
 * -ELOOP (@parent is reachable from @child through children and alias
 * targets: the tree would contain a cycle); -EOVERFLOW (offset + size wraps
 * or leaves the container); -EBUSY (overlaps a sibling of equal priority);
 * -ENOMEM (nothing changed).
 * Context: any thread (takes the writer lock), MMIO callbacks included (a
 * guest moving a BAR).
 */
RAMDEV_EXPORT int ramdev_region_add(struct ramdev_region *parent,
				    uint64_t offset,
				    struct ramdev_region *child, int priority);

/**
 * ramdev_region_del - remove @child from @parent.
 * Drops the reference @parent took in ramdev_region_add(); the caller's own
 * reference (from ramdev_region_new_*) stays the caller's to drop.  Like
 * add, takes effect at once without begin/commit (or at the outermost
 * commit of an open transaction).  Readers that translated an address into
 * @child before may keep using it until their read-side section ends, and
 * DMA mappings until they are unmapped; ramdev_as_synchronize() waits for
 * the former.  If the view cannot be rebuilt (out of memory) the old view
 * stays published, keeping @child alive, and the next change or commit
 * retries (logged).
 * Returns: 0; -EINVAL (NULL argument); -ENOENT (@child is not a child of
 * @parent).
 * Context: any thread (takes the writer lock), MMIO callbacks included (a
 * guest moving a BAR).
 */
RAMDEV_EXPORT int ramdev_region_del(struct ramdev_region *parent,
				    struct ramdev_region *child);

/**
 * ramdev_region_name - the name given at creation (NULL for a NULL @r).
 * Context: any thread; valid while the caller holds a reference.
 */
RAMDEV_EXPORT const char *ramdev_region_name(const struct ramdev_region *r);
/**
 * ramdev_region_kind - the kind given at creation
 * (RAMDEV_REGION_CONTAINER for a NULL @r).
 * Context: any thread.
 */
RAMDEV_EXPORT enum ramdev_region_kind
ramdev_region_kind(const struct ramdev_region *r);
/**
 * ramdev_region_size - size in bytes.  An address space's root spans all
 * 2^64 bytes, which does not fit: it reports UINT64_MAX.  0 for a NULL @r.
 * Context: any thread.
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
 * read lock.  A region found inside the section is not freed before the
 * section ends.
 * Context: any thread; every lock must be matched by an unlock on the same
 * thread.  Inside the section: no ramdev_as_synchronize(), ramdev_as_free()
 * or ramdev_region_set_release(), and no blocking for long (it delays every
 * release).
 */
RAMDEV_EXPORT void ramdev_as_read_lock(void);
RAMDEV_EXPORT void ramdev_as_read_unlock(void);

/**
 * ramdev_as_synchronize - wait until removed regions are released.
 * Waits for an RCU grace period and for every RCU callback queued before
 * the call (liburcu's rcu_barrier).  When it returns, every region that was
 * removed (ramdev_region_del, ramdev_as_free) before the call and is held
 * by nothing else (no caller reference, no DMA mapping, no alias, no other
 * address space) has been freed and its release callback has returned, on
 * whichever thread ran it.  A VMM that must close a vfio device fd or
 * munmap a BAR before acknowledging an unplug calls ramdev_region_del(),
 * ramdev_region_unref() on its own handle, then this.  Regions still
 * mapped by DMA are released at their last unmap instead.
 * Context: any thread that is not inside an RCU read-side section and not
 * in a log, MMIO or release callback (there it would wait for itself: it
 * logs an error and returns at once).  Blocks for a grace period (typically
 * milliseconds).
 */
RAMDEV_EXPORT void ramdev_as_synchronize(void);

/**
 * ramdev_as_translate - look up [@gpa, @gpa + @len).
 * @as:  the address space.
 * @gpa: first guest-physical address.
 * @len: > 0.
 * @out: receives where @gpa lands (see struct ramdev_xlate).
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

/**
 * RAMDEV_AS_UNASSIGNED - what the access functions return when some bytes
 * hit no region.  A negative errno (-ENXIO, "no such device or address"),
 * so that an `rc < 0` check catches a store to a removed region; distinct
 * from -EFAULT, which ramdev_as_ld/_st return for an access that straddles
 * a boundary and the DMA layer returns for unassigned memory.  Unlike the
 * other errors it means the access was carried out as a bus does: the
 * unassigned bytes read as 0xff, writes to them are dropped, and the
 * assigned bytes of the span were accessed.  MMIO callbacks should not
 * return -ENXIO themselves, or callers cannot tell the two apart.
 */
#define RAMDEV_AS_UNASSIGNED (-ENXIO)

/**
 * ramdev_as_read / ramdev_as_write - copy across region boundaries.
 * @as:  the address space.
 * @gpa: first guest-physical address.
 * @buf: @len bytes of ordinary memory.
 * @len: 0 does nothing.
 * RAM and RAMD through the access core (each byte exactly once, naturally
 * aligned accesses of the greedy width, so an aligned 1/2/4/8-byte span is
 * one access; RAM with the wide exact copy), MMIO in accesses of the greedy
 * width within @valid, adapted to @impl.  Unassigned bytes read as 0xff
 * and writes to them are dropped.  Writes to RAM and RAMD mark the region's
 * dirty log.  The whole span is carried out in one view of the address
 * space: a concurrent change applies to all of it or none.
 * Returns: 0; RAMDEV_AS_UNASSIGNED (the rest of the span was done; logged,
 * rate-limited); -EINVAL (NULL @as, NULL @buf with @len > 0, or an MMIO
 * region's valid rules forbid an access: nothing after that point is
 * done); -EOVERFLOW (range wraps past 2^64); RAMDEV_AS_REENTRANT (an MMIO
 * access the re-entrancy guard refused: its bytes read as 0xff, nothing
 * after it is done); a callback's negative errno (nothing after that point
 * is done).
 * Context: any thread; takes the RCU read lock itself; may be called inside
 * ramdev_as_read_lock().
 */
RAMDEV_EXPORT int ramdev_as_read(struct ramdev_as *as, uint64_t gpa,
				 void *buf, size_t len);
RAMDEV_EXPORT int ramdev_as_write(struct ramdev_as *as, uint64_t gpa,
				  const void *buf, size_t len);

/**
 * ramdev_as_ld / ramdev_as_st - one guest access of @size, as a vCPU
 * issues it.
 * @as:   the address space.
 * @gpa:  guest-physical address.
 * @size: 1, 2, 4 or 8.
 * @val:  ld: receives the value; st: the value (its low @size bytes).
 * RAM and RAMD get exactly one @size access when the host address is
 * aligned to @size, otherwise each byte once in aligned pieces; MMIO is
 * checked against @valid and adapted to @impl.  Values in host order (MMIO
 * data little-endian, see struct ramdev_mmio_ops).  A store marks the
 * dirty log of RAM and RAMD.
 * Returns: 0; RAMDEV_AS_UNASSIGNED (no region at @gpa: ld sets *@val to
 * all ones in the low @size bytes, i.e. 0xff bytes, and zero above; st does
 * nothing; logged, rate-limited); -EINVAL (NULL @as or @val, bad @size, or
 * refused by the MMIO region's valid rules); -EOVERFLOW (@gpa + @size
 * wraps); -EFAULT (the access straddles two regions or a region and a
 * hole: nothing is accessed); RAMDEV_AS_REENTRANT (refused by the
 * re-entrancy guard: ld sets *@val to all ones in the low @size bytes, st
 * does nothing); a callback's negative errno.  On another error, *@val
 * after ld is unspecified.
 * Context: any thread; takes the RCU read lock itself.
 */
RAMDEV_EXPORT int ramdev_as_ld(struct ramdev_as *as, uint64_t gpa,
			       unsigned size, uint64_t *val);
RAMDEV_EXPORT int ramdev_as_st(struct ramdev_as *as, uint64_t gpa,
			       unsigned size, uint64_t val);

/* ---- dirty log (for migration) ---- */

#define RAMDEV_DIRTY_PAGE 4096u

/**
 * ramdev_region_dirty_enable - start or stop logging writes to a RAM or RAMD
 * region in a bitmap of RAMDEV_DIRTY_PAGE pages.
 * @r:  a RAM or RAMD region.
 * @on: true starts logging with a clean bitmap (already on: the bits
 *      collected so far stay); false stops and drops the bitmap.
 * Writes racing with the switch may or may not be logged.
 * Returns: 0; -EINVAL (NULL @r, not RAM or RAMD); -ENOMEM.
 * Context: any thread (takes the writer lock).
 */
RAMDEV_EXPORT int ramdev_region_dirty_enable(struct ramdev_region *r, bool on);

/**
 * ramdev_region_dirty_mark - mark [@offset, @offset + @len) of @r dirty.
 * @r:      a RAM or RAMD region (others: nothing happens).
 * @offset: first byte, relative to @r.
 * @len:    0 does nothing; the range is clamped to the region.
 * For writes the library does not see (a device writing through a direct
 * DMA mapping outside ramdev_dma_unmap's @written).  No-op when logging is
 * off.
 * Context: any thread; never blocks.
 */
RAMDEV_EXPORT void ramdev_region_dirty_mark(struct ramdev_region *r,
					    uint64_t offset, uint64_t len);

/**
 * ramdev_region_dirty_take - copy the bitmap into @bits and clear it,
 * atomically per word (no concurrent mark is lost).
 * @r:     a region with logging on.
 * @bits:  ceil(pages / 64) words; bit i of word j is page j * 64 + i,
 *         page p covering offsets [p, p + 1) * RAMDEV_DIRTY_PAGE of @r.
 * @words: how many words @bits holds.
 * Returns: the number of dirty pages (>= 0); -EINVAL (NULL argument,
 * logging off, too few words).
 * Context: any thread; never blocks.
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
 * ramdev_region_set_dma_width - the widest access the library's own copies
 * may make in a RAM-device region's memory.
 * @r:         a RAMD region the caller holds the only reference on: not yet
 *             added to a container nor the target of an alias.
 * @max_width: a power of two, 1 to 64 bytes.  The default, 8, is the strict
 *             access core (ramdev_read/ramdev_write, non-temporal 8-byte
 *             stores for large spans); any other width is
 *             ramdev_read_wide/ramdev_write_wide(..., @max_width), which the
 *             access core caps at ramdev_wide_limit().
 * The copies are ramdev_as_read/_write, ramdev_dma_read/_write,
 * ramdev_dma_seg_read/_write of a RAMDEV_SEG_DEV segment (and so virtio-blk
 * staging), and an indirect table read from the region: every access
 * naturally aligned, each byte once, the greedy width up to @max_width
 * (DESIGN.md S2-S4).  Wider than 8 suits a BAR mapped write-combining (a
 * GPU's prefetchable BAR takes 16/32/64-byte stores); 4 suits a BAR that
 * takes only 32-bit accesses.  A vCPU's access (ramdev_as_vcpu_access(),
 * ramdev_as_ld/st) keeps its own width whatever this says.  The
 * QEMU_BOUNCE DMA policy reaches RAMD through its 8-byte ops table, as QEMU
 * does, and ignores it.
 * Returns: 0; -EINVAL (NULL, not RAMD, @max_width not a power of two in
 * 1..64); -EBUSY (the region is placed or referenced elsewhere: the width
 * is part of its creation).
 * Context: any thread; takes the writer lock.
 */
RAMDEV_EXPORT int ramdev_region_set_dma_width(struct ramdev_region *r,
					      unsigned max_width);

/**
 * ramdev_region_dma_width - a RAM-device region's DMA width (see
 * ramdev_region_set_dma_width()).
 * @r: any region, or NULL.
 * Returns: the width in bytes, 1..64 (8 unless set); 0 for NULL or a region
 * that is not RAMD (its copies are not governed by a width).
 * Context: any thread; no lock.
 */
RAMDEV_EXPORT unsigned ramdev_region_dma_width(const struct ramdev_region *r);

/**
 * struct ramdev_vcpu_stats - vCPU accesses that did not reach a device as
 * issued, per address space, since its creation.
 * @unassigned:  hit no region (read all-ones, write dropped).
 * @spanning:    crossed a region boundary, a hole, or 2^64 (same outcome).
 * @bad_size:    size 0 or > 8, which KVM never produces (same outcome).
 * @misaligned_split:    RAM-device, split into aligned pieces (done).
 * @misaligned_rejected: RAM-device under RAMDEV_MISALIGNED_REJECT.
 * @mmio_errors: an MMIO region's valid rules or callback, or the
 *               re-entrancy guard, refused it.
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
 *  - RAM: exact as well: an aligned 1/2/4/8-byte access is one access of
 *    that width, any other span touches each byte once.
 *  - no region, two regions (or a region and a hole), or a bad @size: no
 *    access at all; a read returns all-ones, a write is dropped, a
 *    rate-limited log line names the case, and struct ramdev_vcpu_stats
 *    counts it.
 * Returns: 0; RAMDEV_AS_UNASSIGNED (-ENXIO: no region); -EFAULT (spans two
 * regions or a hole, or wraps past 2^64); -EINVAL (bad @size, NULL @as or
 * @data, or an MMIO valid rule); -EOPNOTSUPP (misaligned, REJECT policy);
 * RAMDEV_AS_REENTRANT (the re-entrancy guard); an MMIO callback's negative
 * errno.  On any nonzero return a read's @data
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
