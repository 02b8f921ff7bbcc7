/* SPDX-License-Identifier: MIT */
/*
 * Regions: construction, reference counts, and placement in containers
 * with the checks that keep the tree well formed (no wrap, no leaving the
 * container, no equal-priority overlap, no cycle through aliases).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "as_priv.h"

static const char *const as_kind_names[] = {
	[RAMDEV_REGION_RAM] = "ram",	 [RAMDEV_REGION_RAMD] = "ramd",
	[RAMDEV_REGION_MMIO] = "mmio",	 [RAMDEV_REGION_CONTAINER] = "container",
	[RAMDEV_REGION_ALIAS] = "alias",
};

static int region_alloc(struct ramdev_region **out, const char *name,
			enum ramdev_region_kind kind, uint64_t size)
{
	struct ramdev_region *r;

	if (!out || !name) {
		ramdev_as_logf(NULL, LOG_ERR, "new %s region: NULL argument",
			       as_kind_names[kind]);
		return -EINVAL;
	}
	if (size == 0) {
		ramdev_as_logf(NULL, LOG_ERR,
			       "new %s region %s: size 0x0 (must be > 0)",
			       as_kind_names[kind], name);
		return -EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->name = strdup(name);
	if (!r->name) {
		free(r);
		return -ENOMEM;
	}
	r->kind = kind;
	r->last = size - 1;
	r->refs = 1;
	*out = r;
	return 0;
}

static int region_new_host(struct ramdev_region **out, const char *name,
			   void *host, uint64_t size,
			   enum ramdev_region_kind kind)
{
	uint64_t host_last;
	int rc;

	if (!host || (size && (size > UINTPTR_MAX ||
			       !as_range_last((uintptr_t)host, size, &host_last) ||
			       host_last > UINTPTR_MAX))) {
		ramdev_as_logf(NULL, LOG_ERR,
			       "new %s region %s: host memory %p size 0x%" PRIx64
			       " is NULL or wraps", as_kind_names[kind],
			       name ? name : "?", host, size);
		return -EINVAL;
	}
	rc = region_alloc(out, name, kind, size);
	if (rc == 0) {
		(*out)->host = host;
		if (kind == RAMDEV_REGION_RAMD) {
			(*out)->ops = ramdev_as_ramd_ops;
			(*out)->opaque = *out;
			(*out)->dma_width = RAMDEV_AS_DMA_WIDTH_DEFAULT;
		}
	}
	return rc;
}

int ramdev_region_new_ram(struct ramdev_region **out, const char *name,
			  void *host, uint64_t size)
{
	return region_new_host(out, name, host, size, RAMDEV_REGION_RAM);
}

int ramdev_region_new_ramd(struct ramdev_region **out, const char *name,
			   void *host, uint64_t size)
{
	return region_new_host(out, name, host, size, RAMDEV_REGION_RAMD);
}

static bool is_pow2_le8(unsigned v)
{
	return v && v <= 8 && (v & (v - 1)) == 0;
}

/* Normalise (0 -> default) and check one set of MMIO access rules. */
bool ramdev_as_rules_ok(struct ramdev_access_rules *r, const char *what,
			struct ramdev_as *as)
{
	if (r->min_size == 0)
		r->min_size = 1;
	if (r->max_size == 0)
		r->max_size = 4; /* QEMU's default max_access_size */
	if (is_pow2_le8(r->min_size) && is_pow2_le8(r->max_size) &&
	    r->min_size <= r->max_size)
		return true;
	ramdev_as_logf(as, LOG_ERR,
		       "mmio %s rules: min_size 0x%x max_size 0x%x (powers of "
		       "two 1..8, min <= max)", what, r->min_size, r->max_size);
	return false;
}

int ramdev_region_new_mmio(struct ramdev_region **out, const char *name,
			   uint64_t size, const struct ramdev_mmio_ops *ops,
			   void *opaque)
{
	struct ramdev_mmio_ops o;
	int rc;

	if (!ops || !ops->read || !ops->write) {
		ramdev_as_logf(NULL, LOG_ERR, "new mmio region %s: NULL ops",
			       name ? name : "?");
		return -EINVAL;
	}
	o = *ops;
	if (!ramdev_as_rules_ok(&o.valid, "valid", NULL) ||
	    !ramdev_as_rules_ok(&o.impl, "impl", NULL))
		return -EINVAL;
	/* A narrow access is widened to the aligned impl.min_size block
	 * around it: with a size that is not a multiple of min_size, the last
	 * block would reach past the region's end, into bytes the callbacks
	 * never declared.  Refused here rather than clamped at access time. */
	if (size % o.impl.min_size) {
		ramdev_as_logf(NULL, LOG_ERR, "new mmio region %s: size 0x%"
			       PRIx64 " not a multiple of impl.min_size 0x%x",
			       name ? name : "?", size, o.impl.min_size);
		return -EINVAL;
	}
	rc = region_alloc(out, name, RAMDEV_REGION_MMIO, size);
	if (rc == 0) {
		(*out)->ops = o;
		(*out)->opaque = opaque;
	}
	return rc;
}

int ramdev_region_new_container(struct ramdev_region **out, const char *name,
				uint64_t size)
{
	return region_alloc(out, name, RAMDEV_REGION_CONTAINER, size);
}

int ramdev_region_new_alias(struct ramdev_region **out, const char *name,
			    struct ramdev_region *target, uint64_t offset,
			    uint64_t size)
{
	uint64_t last;
	int rc;

	if (!target) {
		ramdev_as_logf(NULL, LOG_ERR, "new alias %s: NULL target",
			       name ? name : "?");
		return -EINVAL;
	}
	if (size && (!as_range_last(offset, size, &last) ||
		     last > target->last)) {
		ramdev_as_logf(NULL, LOG_ERR,
			       "new alias %s: window 0x%" PRIx64 "+0x%" PRIx64
			       " leaves target %s (last 0x%" PRIx64 ")",
			       name ? name : "?", offset, size, target->name,
			       target->last);
		return -EOVERFLOW;
	}
	rc = region_alloc(out, name, RAMDEV_REGION_ALIAS, size);
	if (rc == 0) {
		ramdev_region_ref(target);
		(*out)->target = target;
		(*out)->target_offset = offset;
	}
	return rc;
}

void ramdev_region_ref(struct ramdev_region *r)
{
	ramdev_region_ref_n(r, 1);
}

/* The last reference is gone: nobody can reach @r (see as_priv.h). */
static void region_free(struct ramdev_region *r)
{
	size_t i;

	if (r->kind == RAMDEV_REGION_CONTAINER) {
		pthread_mutex_lock(&as_tree_lock);
		for (i = 0; i < r->nkids; i++) {
			r->kids[i]->parent = NULL;
			ramdev_region_unref(r->kids[i]);
		}
		pthread_mutex_unlock(&as_tree_lock);
		free(r->kids);
	}
	if (r->target)
		ramdev_region_unref(r->target);
	ramdev_as_dirty_free(r->dirty);
	if (r->release)
		r->release(r->release_opaque);
	free(r->name);
	free(r);
}

void ramdev_region_unref(struct ramdev_region *r)
{
	ramdev_region_unref_n(r, 1);
}

void ramdev_region_ref_n(struct ramdev_region *r, unsigned n)
{
	if (r && n)
		__atomic_fetch_add(&r->refs, n, __ATOMIC_RELAXED);
}

void ramdev_region_unref_n(struct ramdev_region *r, unsigned n)
{
	/* acq_rel: every use of the region by this thread happens before the
	 * free, which may run on another thread. */
	if (r && n && __atomic_sub_fetch(&r->refs, n, __ATOMIC_ACQ_REL) == 0)
		region_free(r);
}

void ramdev_region_set_release(struct ramdev_region *r,
			       void (*fn)(void *opaque), void *opaque)
{
	if (!r)
		return;
	pthread_mutex_lock(&as_tree_lock);
	r->release = fn;
	r->release_opaque = opaque;
	pthread_mutex_unlock(&as_tree_lock);
}

const char *ramdev_region_name(const struct ramdev_region *r)
{
	return r ? r->name : NULL;
}

enum ramdev_region_kind ramdev_region_kind(const struct ramdev_region *r)
{
	return r ? r->kind : RAMDEV_REGION_CONTAINER;
}

uint64_t ramdev_region_size(const struct ramdev_region *r)
{
	if (!r)
		return 0;
	/* The root spans 2^64 bytes, which does not fit: saturate. */
	return r->last == UINT64_MAX ? UINT64_MAX : r->last + 1;
}

/* ---- placement ---- */

/* True when @to can be reached from @from through children and alias
 * targets.  Stamps bound the walk to one visit per region. */
static bool region_reaches(struct ramdev_region *from,
			   struct ramdev_region *to, uint64_t stamp)
{
	size_t i;

	if (from == to)
		return true;
	if (from->visit == stamp)
		return false;
	from->visit = stamp;
	if (from->target && region_reaches(from->target, to, stamp))
		return true;
	for (i = 0; i < from->nkids; i++)
		if (region_reaches(from->kids[i], to, stamp))
			return true;
	return false;
}

static int add_check_args(struct ramdev_region *parent,
			  struct ramdev_region *child, struct ramdev_as *as)
{
	static uint64_t stamp;

	if (!parent || !child) {
		ramdev_as_logf(as, LOG_ERR, "region add: NULL argument");
		return -EINVAL;
	}
	if (parent->kind != RAMDEV_REGION_CONTAINER) {
		ramdev_as_logf(as, LOG_ERR, "region add: parent %s is not a "
			       "container", parent->name);
		return -EINVAL;
	}
	if (child->parent || child->root_of) {
		ramdev_as_logf(as, LOG_ERR, "region add: %s is already placed "
			       "(in %s)", child->name,
			       child->parent ? child->parent->name : "root");
		return -EINVAL;
	}
	if (region_reaches(child, parent, ++stamp)) {
		ramdev_as_logf(as, LOG_ERR, "region add: %s into %s makes a "
			       "cycle", child->name, parent->name);
		return -ELOOP;
	}
	return 0;
}

static int add_check_range(struct ramdev_region *parent, uint64_t offset,
			   struct ramdev_region *child, int priority,
			   struct ramdev_as *as)
{
	uint64_t last;
	size_t i;

	if (!as_add_ok(offset, child->last, &last) || last > parent->last) {
		ramdev_as_logf(as, LOG_ERR, "region add: %s at 0x%" PRIx64
			       " size-1 0x%" PRIx64 " wraps or leaves %s (last "
			       "0x%" PRIx64 ")", child->name, offset,
			       child->last, parent->name, parent->last);
		return -EOVERFLOW;
	}
	for (i = 0; i < parent->nkids; i++) {
		struct ramdev_region *s = parent->kids[i];

		if (s->priority != priority || last < s->offset ||
		    offset > s->offset + s->last)
			continue;
		ramdev_as_logf(as, LOG_ERR, "region add: %s [0x%" PRIx64
			       "-0x%" PRIx64 "] overlaps %s [0x%" PRIx64
			       "-0x%" PRIx64 "] at equal priority %d",
			       child->name, offset, last, s->name, s->offset,
			       s->offset + s->last, priority);
		return -EBUSY;
	}
	return 0;
}

/* Insert before the first sibling of lower or equal priority: descending
 * priority, and among equals the newest first (QEMU's order). */
static int kids_insert(struct ramdev_region *parent,
		       struct ramdev_region *child)
{
	size_t i;

	if (parent->nkids == parent->kcap) {
		size_t cap = parent->kcap ? parent->kcap * 2 : 4;
		struct ramdev_region **k =
			realloc(parent->kids, cap * sizeof(*k));

		if (!k)
			return -ENOMEM;
		parent->kids = k;
		parent->kcap = cap;
	}
	for (i = 0; i < parent->nkids; i++)
		if (parent->kids[i]->priority <= child->priority)
			break;
	memmove(&parent->kids[i + 1], &parent->kids[i],
		(parent->nkids - i) * sizeof(*parent->kids));
	parent->kids[i] = child;
	parent->nkids++;
	return 0;
}

static bool kids_remove(struct ramdev_region *parent,
			struct ramdev_region *child)
{
	size_t i;

	for (i = 0; i < parent->nkids; i++)
		if (parent->kids[i] == child)
			break;
	if (i == parent->nkids)
		return false;
	memmove(&parent->kids[i], &parent->kids[i + 1],
		(parent->nkids - i - 1) * sizeof(*parent->kids));
	parent->nkids--;
	return true;
}

static int region_add_locked(struct ramdev_region *parent, uint64_t offset,
			     struct ramdev_region *child, int priority)
{
	struct ramdev_as *as = ramdev_as_of_region(parent);
	int rc;

	rc = add_check_args(parent, child, as);
	if (!rc)
		rc = add_check_range(parent, offset, child, priority, as);
	if (rc)
		return rc;
	child->priority = priority;
	child->offset = offset;
	if (kids_insert(parent, child))
		return -ENOMEM;
	child->parent = parent;
	ramdev_region_ref(child);
	rc = ramdev_as_tree_changed();
	if (rc) {
		/* No view was published: undo, and the tree matches again. */
		kids_remove(parent, child);
		child->parent = NULL;
		ramdev_region_unref(child);
		ramdev_as_tree_changed();
	}
	return rc;
}

int ramdev_region_add(struct ramdev_region *parent, uint64_t offset,
		      struct ramdev_region *child, int priority)
{
	int rc;

	pthread_mutex_lock(&as_tree_lock);
	rc = region_add_locked(parent, offset, child, priority);
	pthread_mutex_unlock(&as_tree_lock);
	return rc;
}

int ramdev_region_del(struct ramdev_region *parent,
		      struct ramdev_region *child)
{
	struct ramdev_as *as;
	int rc = 0;

	if (!parent || !child)
		return -EINVAL;
	pthread_mutex_lock(&as_tree_lock);
	as = ramdev_as_of_region(parent);
	if (child->parent != parent || !kids_remove(parent, child)) {
		ramdev_as_logf(as, LOG_ERR, "region del: %s is not a child of "
			       "%s", child->name, parent->name);
		rc = -ENOENT;
	} else {
		child->parent = NULL;
		/* On -ENOMEM the old views stay published (they keep their
		 * references, so nothing is freed early) and the next change
		 * or commit retries. */
		if (ramdev_as_tree_changed())
			ramdev_as_logf(as, LOG_ERR, "region del: %s: view "
				       "rebuild failed (ENOMEM), retried at the "
				       "next change", child->name);
		ramdev_region_unref(child);
	}
	pthread_mutex_unlock(&as_tree_lock);
	return rc;
}

/*
 * Store @val in *@setting, a creation-time setting of @r (its RAM-device
 * misaligned policy, its DMA width), while only the caller can see @r.
 * Placed or aliased, readers may already use the region, and an access
 * must not meet a setting that changes under it: -EBUSY, logged with
 * @what ("misaligned policy", "dma width").
 */
int ramdev_region_set_unshared(struct ramdev_region *r, uint8_t *setting,
			       uint8_t val, const char *what)
{
	int rc = 0;

	pthread_mutex_lock(&as_tree_lock);
	if (r->parent || __atomic_load_n(&r->refs, __ATOMIC_RELAXED) > 1)
		rc = -EBUSY;
	else
		__atomic_store_n(setting, val, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&as_tree_lock);
	if (rc)
		ramdev_as_logf(NULL, LOG_ERR, "set %s on region %s: already "
			       "placed or referenced (refs 0x%" PRIx64 ")",
			       what, r->name,
			       __atomic_load_n(&r->refs, __ATOMIC_RELAXED));
	return rc;
}
