/* SPDX-License-Identifier: MIT */
/*
 * Address space internals shared by the files of lib/as/.  Not installed.
 *
 * Locking and lifetime, in one place:
 *  - The region tree (children, parent links, placement) and every address
 *    space's staging state are protected by one library-wide recursive
 *    writer lock (as_tree_lock).  It is library-wide rather than per
 *    address space because a region may be reached from several address
 *    spaces through aliases, so one change can require rebuilding several
 *    views.  It is recursive because dropping the last reference of a
 *    container (possibly while the lock is held, e.g. in ramdev_region_del)
 *    must detach its children under the lock.
 *  - Readers use only published views (struct as_view), reached with
 *    rcu_dereference, never the tree.  A view holds one reference on every
 *    terminal region it points at, and drops them from a call_rcu callback,
 *    i.e. after a grace period.  Hence a region whose count reaches zero is
 *    reachable by no reader and no mapping, and is freed at once: the grace
 *    period has already elapsed for every view that ever pointed at it.
 */
#ifndef RAMDEV_AS_PRIV_H
#define RAMDEV_AS_PRIV_H

#include "as_lib.h" /* first: it defines _LGPL_SOURCE for liburcu */

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "ramdev/as.h"

#ifdef RAMDEV_TSAN
/* rcu_dereference/rcu_assign_pointer are volatile accesses plus fences TSan
 * does not model; the acquire/release builtins express the same ordering. */
#define AS_RCU_DEREF(p) __atomic_load_n(&(p), __ATOMIC_ACQUIRE)
#define AS_RCU_ASSIGN(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
#else
#define AS_RCU_DEREF(p) rcu_dereference(p)
#define AS_RCU_ASSIGN(p, v) rcu_assign_pointer(p, v)
#endif

/* ---- checked arithmetic (STYLE rule 6) ---- */

/* *last = start + size - 1; false when size is 0 or the range wraps. */
static inline bool as_range_last(uint64_t start, uint64_t size, uint64_t *last)
{
	return size != 0 && !__builtin_add_overflow(start, size - 1, last);
}

static inline bool as_add_ok(uint64_t a, uint64_t b, uint64_t *sum)
{
	return !__builtin_add_overflow(a, b, sum);
}

static inline uint64_t as_min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* ---- regions ---- */

struct as_dirty {
	struct rcu_head rcu;
	uint64_t pages;
	size_t words;
	uint64_t bits[]; /* accessed only with __atomic builtins */
};

struct ramdev_region {
	char *name;
	enum ramdev_region_kind kind;
	uint64_t last;	/* size - 1; 2^64 - 1 for a root (it spans 2^64) */
	uint64_t refs;	/* __atomic */

	uint8_t *host;	/* RAM, RAMD */
	struct ramdev_mmio_ops ops; /* MMIO; rules normalised (0 -> default) */
	void *opaque;
	const void *owner; /* MMIO: re-entrancy guard identity, __atomic */

	struct ramdev_region *target; /* ALIAS: referenced */
	uint64_t target_offset;

	/* CONTAINER, under the tree lock: descending priority, ties newest
	 * first (QEMU's order); each child referenced. */
	struct ramdev_region **kids;
	size_t nkids, kcap;

	/* Placement, under the tree lock. */
	struct ramdev_region *parent;
	uint64_t offset;
	int priority;
	struct ramdev_as *root_of; /* non-NULL: the root of this address space */
	uint64_t visit;		   /* cycle-check stamp */

	void (*release)(void *opaque);
	void *release_opaque;
	struct as_dirty *dirty; /* RCU-published */
	uint8_t misaligned; /* vcpu.c: enum ramdev_misaligned, __atomic */
	/* RAMD: the widest access of the library's own copies (dispatch.c,
	 * ramdev_region_set_dma_width), 1..64; 8 is the strict access core.
	 * Set only before the region is placed: __atomic for TSan only. */
	uint8_t dma_width;
};

/* ---- flat views ---- */

struct as_range {
	uint64_t start, last; /* guest addresses, inclusive */
	struct ramdev_region *mr; /* terminal region, referenced by the view */
	uint64_t offset;	  /* offset in mr of start */
	/* Copies of mr's fields, so a lookup does not touch the region. */
	uint8_t *host;		  /* mr->host + offset, or NULL */
	enum ramdev_region_kind kind;
};

/* Keys past the end of as_view.keys, all UINT64_MAX: the search reads a
 * fixed block of AS_VIEW_PAD keys without bounds checks. */
#define AS_VIEW_PAD 8

struct as_view {
	struct rcu_head rcu;
	size_t n, cap;
	struct as_range *r;
	/* Published views only: r[i].last for i < n, then AS_VIEW_PAD times
	 * UINT64_MAX.  Searched instead of r (8 bytes a key, not 48). */
	uint64_t *keys;
};

/* A log callback and its opaque, published together (never modified). */
struct as_log_sink {
	ramdev_log_fn *fn;
	void *opaque;
	struct as_log_sink *prev;
};

struct ramdev_as {
	char *name;
	struct ramdev_region *root;
	struct as_view *view;	/* RCU-published; readers use only this */
	struct as_view *staged; /* under the tree lock, during an update */
	unsigned depth;		/* begin/commit nesting */
	uint64_t gen;		/* tree generation the published view shows */
	struct ramdev_as *next; /* list of all address spaces */
	struct as_log_sink *log;	/* __atomic: read on the data path */
	struct as_log_sink *log_sinks;	/* every sink ever set, for free */
	/* Rate limit of guest-triggered messages, one per kind. */
	uint64_t log_next_ns[RAMDEV_AS_LOG_KINDS];
	uint64_t log_dropped[RAMDEV_AS_LOG_KINDS];
	struct ramdev_vcpu_stats vcpu_stats; /* vcpu.c: __atomic counters */
	uint64_t reentrant_refused; /* mmio.c: __atomic */
};

extern pthread_mutex_t as_tree_lock;

/* space.c (and as_rcu.h: the read-side section, registration) */
void ramdev_as_call_rcu(struct rcu_head *head, void (*fn)(struct rcu_head *));
void ramdev_as_cb_enter(struct rcu_head *head);
void ramdev_as_cb_exit(void);
int ramdev_as_tree_changed(void);
struct ramdev_as *ramdev_as_of_region(struct ramdev_region *r);

/* region.c */
bool ramdev_as_rules_ok(struct ramdev_access_rules *r, const char *what,
			struct ramdev_as *as);
int ramdev_region_set_unshared(struct ramdev_region *r, uint8_t *setting,
			       uint8_t val, const char *what);

/* flatview.c */
int ramdev_as_view_build(struct ramdev_as *as, struct as_view **out);
void ramdev_as_view_drop(struct as_view *v);
const struct as_range *ramdev_as_view_find(const struct as_view *v,
					   uint64_t gpa, uint64_t *hole_last);
int ramdev_as_view_xlate(const struct as_view *v, uint64_t gpa, uint64_t len,
			 struct ramdev_xlate *out);

/* dispatch.c: a new RAMD region's DMA width, the strict access core's
 * (ramdev_region_set_dma_width). */
#define RAMDEV_AS_DMA_WIDTH_DEFAULT 8u

/* dispatch.c: the ops table of every RAMD region (opaque: the region), used
 * only by the indirect accesses of as_access.h. */
extern const struct ramdev_mmio_ops ramdev_as_ramd_ops;

/* mmio.c */
int ramdev_as_mmio_valid(struct ramdev_as *as, const struct ramdev_region *r,
			 uint64_t off, unsigned size);
/* The one place MMIO callbacks are called from: the re-entrancy guard
 * (as.h) is enforced here, counted and logged on @as (may be NULL). */
int ramdev_as_mmio_access(struct ramdev_as *as, const struct ramdev_region *r,
			  uint64_t off, unsigned size, uint64_t *val,
			  bool write);
unsigned ramdev_as_greedy(uint64_t addr, uint64_t rem, unsigned max);

/* dirty.c */
void ramdev_as_dirty_free(struct as_dirty *d);

/* log.c: declared in as_log.h */

#endif /* RAMDEV_AS_PRIV_H */
