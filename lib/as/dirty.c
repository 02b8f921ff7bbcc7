/* SPDX-License-Identifier: MIT */
/*
 * Dirty log of RAM and RAMD regions: one bit per RAMDEV_DIRTY_PAGE page.
 * Marks are atomic fetch-or per word and a take is an atomic exchange per
 * word, so a mark racing with a take lands either in this take or in the
 * next one, never nowhere.  The bitmap is RCU-published so that logging can
 * be switched off while other threads mark.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <syslog.h>

#include "as_priv.h"

void ramdev_as_dirty_free(struct as_dirty *d)
{
	free(d);
}

static void dirty_free_cb(struct rcu_head *head)
{
	ramdev_as_cb_enter(head);
	free(caa_container_of(head, struct as_dirty, rcu));
	ramdev_as_cb_exit();
}

static struct as_dirty *dirty_alloc(const struct ramdev_region *r)
{
	/* Pages = ceil(size / page) computed from last, which cannot wrap. */
	uint64_t pages = r->last / RAMDEV_DIRTY_PAGE + 1;
	uint64_t words = (pages + 63) / 64;
	struct as_dirty *d;

	if (words > (SIZE_MAX - sizeof(*d)) / sizeof(uint64_t))
		return NULL;
	d = calloc(1, sizeof(*d) + (size_t)words * sizeof(uint64_t));
	if (d) {
		d->pages = pages;
		d->words = (size_t)words;
	}
	return d;
}

int ramdev_region_dirty_enable(struct ramdev_region *r, bool on)
{
	struct as_dirty *d = NULL, *old;

	if (!r || (r->kind != RAMDEV_REGION_RAM &&
		   r->kind != RAMDEV_REGION_RAMD)) {
		ramdev_as_logf(NULL, LOG_ERR, "dirty enable: %s is not a ram "
			       "or ramd region", r ? r->name : "NULL");
		return -EINVAL;
	}
	if (on && !(d = dirty_alloc(r)))
		return -ENOMEM;
	pthread_mutex_lock(&as_tree_lock);
	old = r->dirty;
	if (on && old) {
		free(d); /* already on: keep the bits collected so far */
		d = old;
	}
	AS_RCU_ASSIGN(r->dirty, d);
	pthread_mutex_unlock(&as_tree_lock);
	if (old && old != d)
		ramdev_as_call_rcu(&old->rcu, dirty_free_cb);
	return 0;
}

static void dirty_set(struct as_dirty *d, uint64_t first, uint64_t last)
{
	uint64_t p = first;

	while (p <= last) {
		uint64_t w = p / 64, bit = p % 64;
		uint64_t n = as_min_u64(64 - bit, last - p + 1);
		uint64_t mask = (n == 64 ? UINT64_MAX
					 : ((UINT64_C(1) << n) - 1)) << bit;

		__atomic_fetch_or(&d->bits[w], mask, __ATOMIC_RELAXED);
		p += n;
	}
}

/* ramdev_region_dirty_mark() with logging on (at the time of its check). */
static void __attribute__((noinline))
dirty_mark_on(struct ramdev_region *r, uint64_t offset, uint64_t len)
{
	struct as_dirty *d;
	uint64_t last;

	if (offset > r->last)
		return;
	/* Clamp to the region: a wrapped or overlong range ends at its end. */
	if (!as_range_last(offset, len, &last) || last > r->last)
		last = r->last;
	ramdev_as_rdlock(); /* nests inside the caller's section, if any */
	d = AS_RCU_DEREF(r->dirty);
	if (d)
		dirty_set(d, offset / RAMDEV_DIRTY_PAGE,
			  last / RAMDEV_DIRTY_PAGE);
	ramdev_as_rdunlock();
}

/* Every DMA unmap and used-ring store calls this: the usual "logging
 * off" answer stays a few instructions, the rest is out of line. */
void ramdev_region_dirty_mark(struct ramdev_region *r, uint64_t offset,
			      uint64_t len)
{
	/* Logging off: nothing to mark, and no read-side section needed to
	 * learn it.  A log switched on concurrently may or may not see this
	 * mark, exactly as when the load below ran under the lock: the read
	 * lock only keeps a bitmap alive, it orders nothing against enable. */
	if (!r || len == 0 || !__atomic_load_n(&r->dirty, __ATOMIC_RELAXED))
		return;
	dirty_mark_on(r, offset, len);
}

int64_t ramdev_region_dirty_take(struct ramdev_region *r, uint64_t *bits,
				 size_t words)
{
	struct as_dirty *d;
	int64_t count = 0;
	size_t i;

	if (!r || !bits)
		return -EINVAL;
	ramdev_as_rdlock();
	d = AS_RCU_DEREF(r->dirty);
	if (!d || words < d->words) {
		ramdev_as_logf(NULL, LOG_ERR, "dirty take: %s: logging off or "
			       "0x%zx words < 0x%zx", r->name, words,
			       d ? d->words : (size_t)0);
		ramdev_as_rdunlock();
		return -EINVAL;
	}
	for (i = 0; i < d->words; i++) {
		bits[i] = __atomic_exchange_n(&d->bits[i], 0, __ATOMIC_RELAXED);
		count += __builtin_popcountll(bits[i]);
	}
	ramdev_as_rdunlock();
	return count;
}
