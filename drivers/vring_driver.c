// SPDX-License-Identifier: MIT
/*
 * vring_driver: a guest driver for a split virtqueue, written the way a guest
 * kernel writes it: plain little-endian loads and stores on the ring memory,
 * a release barrier before publishing the avail idx, a full barrier before
 * reading the device's event index.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vring_driver.h"

struct vring_drv {
	struct ramdev_as *as;
	struct vring_drv_config cfg;
	uint8_t *desc, *avail, *used; /* host addresses of the rings */
	uint8_t *itab;       /* host address of the indirect tables, or NULL */
	uint16_t avail_idx;  /* shadow of avail->idx */
	uint16_t kicked;     /* avail idx at the last publish */
	uint16_t last_used;  /* next used slot to read */
	uint16_t free_head;
	unsigned num_free;
	uint16_t *next;      /* driver's own copy of each descriptor's next */
	uint16_t *ndesc;     /* per head: descriptors in its chain */
};

static void put16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

/*
 * ThreadSanitizer: the driver's half of the annotations of lib/virtq/ring.h
 * (read the comment there).  Under -fsanitize=thread the ring words both
 * sides access concurrently (idx, flags, events) are relaxed atomics of
 * their width (one aligned access, as put16 and the plain word_ld make),
 * and the barriers that publish the avail idx and consume the used idx are
 * annotated on that idx: __tsan_release before the avail idx store,
 * __tsan_acquire after the used idx load.  Descriptors, ring entries,
 * indirect tables and buffers stay plain accesses that TSan checks.
 * Nothing changes in other builds.
 */
#if defined(__SANITIZE_THREAD__)
#define DRV_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define DRV_TSAN 1
#endif
#endif

#ifdef DRV_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define drv_tsan_acquire(p) __tsan_acquire((void *)(p))
#define drv_tsan_release(p) __tsan_release((void *)(p))
static uint16_t word_ld(const uint8_t *p)
{
	return le16toh(__atomic_load_n((const uint16_t *)(const void *)p,
				       __ATOMIC_RELAXED));
}

static void word_st(uint8_t *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)(void *)p, htole16(v), __ATOMIC_RELAXED);
}
#else
#define drv_tsan_acquire(p) ((void)(p))
#define drv_tsan_release(p) ((void)(p))
static uint16_t word_ld(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return le16toh(v);
}

#define word_st(p, v) put16(p, v)
#endif

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

static uint8_t *host_of(struct ramdev_as *as, uint64_t gpa, uint64_t len)
{
	struct ramdev_xlate x;
	uint8_t *host = NULL;

	ramdev_as_read_lock();
	if (ramdev_as_translate(as, gpa, len, &x) == 0 && x.len == len &&
	    (x.kind == RAMDEV_REGION_RAM || x.kind == RAMDEV_REGION_RAMD))
		host = x.host;
	ramdev_as_read_unlock();
	return host;
}

int vring_drv_new(struct vring_drv **out, struct ramdev_as *as,
		  const struct vring_drv_config *cfg)
{
	struct vring_drv *d;
	unsigned n = cfg ? cfg->size : 0;

	if (!out || !as || n == 0 || (n & (n - 1)) || n > 32768)
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->as = as;
	d->cfg = *cfg;
	d->desc = host_of(as, cfg->desc, vring_drv_desc_bytes(cfg->size));
	d->avail = host_of(as, cfg->avail, vring_drv_avail_bytes(cfg->size));
	d->used = host_of(as, cfg->used, vring_drv_used_bytes(cfg->size));
	/* Tables in one RAM(D) region are written in place, as a guest CPU
	 * does; anywhere else (MMIO, across regions) through the address
	 * space, entry by entry. */
	if (cfg->indirect_max)
		d->itab = host_of(as, cfg->indirect_gpa,
				  (uint64_t)n * cfg->indirect_max * 16u);
	d->next = calloc(n, sizeof(*d->next));
	d->ndesc = calloc(n, sizeof(*d->ndesc));
	if (!d->desc || !d->avail || !d->used || !d->next || !d->ndesc) {
		int ret = d->next && d->ndesc ? -EINVAL : -ENOMEM;

		vring_drv_free(d);
		return ret;
	}
	memset(d->desc, 0, vring_drv_desc_bytes(cfg->size));
	memset(d->avail, 0, vring_drv_avail_bytes(cfg->size));
	memset(d->used, 0, vring_drv_used_bytes(cfg->size));
	for (unsigned i = 0; i < n; i++)
		d->next[i] = (uint16_t)(i + 1);
	d->num_free = n;
	*out = d;
	return 0;
}

void vring_drv_free(struct vring_drv *d)
{
	if (!d)
		return;
	free(d->next);
	free(d->ndesc);
	free(d);
}

void vring_drv_set_desc(struct vring_drv *d, uint16_t idx, uint64_t addr,
			uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *p = d->desc + 16u * (size_t)idx;

	put64(p, addr);
	put32(p + 8, len);
	put16(p + 12, flags);
	put16(p + 14, next);
}

int vring_drv_write_desc_at(struct ramdev_as *as, uint64_t table, uint32_t idx,
			    uint64_t addr, uint32_t len, uint16_t flags,
			    uint16_t next)
{
	uint8_t raw[16];

	put64(raw, addr);
	put32(raw + 8, len);
	put16(raw + 12, flags);
	put16(raw + 14, next);
	return ramdev_as_write(as, table + 16u * (uint64_t)idx, raw, sizeof(raw));
}

/* Take one descriptor off the free list. */
static uint16_t take_desc(struct vring_drv *d)
{
	uint16_t i = d->free_head;

	d->free_head = d->next[i];
	d->num_free--;
	return i;
}

static int add_indirect(struct vring_drv *d, const struct vring_drv_buf *out,
			unsigned nout, const struct vring_drv_buf *in,
			unsigned nin)
{
	unsigned n = nout + nin;
	uint16_t head;
	uint64_t table;

	if (n > d->cfg.indirect_max || d->num_free < 1)
		return n > d->cfg.indirect_max ? -EINVAL : -ENOSPC;
	head = d->free_head;
	table = d->cfg.indirect_gpa + (uint64_t)head * d->cfg.indirect_max * 16u;
	for (unsigned i = 0; i < n; i++) {
		const struct vring_drv_buf *b = i < nout ? &out[i] : &in[i - nout];
		uint16_t flags = (uint16_t)((i + 1 < n ? VRING_DESC_F_NEXT : 0) |
					    (i >= nout ? VRING_DESC_F_WRITE : 0));

		if (d->itab) {
			uint8_t *p = d->itab + (table - d->cfg.indirect_gpa) +
				     16u * (size_t)i;

			put64(p, b->gpa);
			put32(p + 8, b->len);
			put16(p + 12, flags);
			put16(p + 14, (uint16_t)(i + 1));
		} else if (vring_drv_write_desc_at(d->as, table, i, b->gpa,
						   b->len, flags,
						   (uint16_t)(i + 1)) != 0) {
			return -EINVAL;
		}
	}
	take_desc(d);
	vring_drv_set_desc(d, head, table, 16u * n, VRING_DESC_F_INDIRECT, 0);
	d->ndesc[head] = 1;
	return head;
}

int vring_drv_add(struct vring_drv *d, const struct vring_drv_buf *out,
		  unsigned nout, const struct vring_drv_buf *in, unsigned nin,
		  bool indirect)
{
	unsigned n = nout + nin;
	uint16_t head, cur;
	int ret;

	if (n == 0)
		return -EINVAL;
	if (indirect) {
		ret = add_indirect(d, out, nout, in, nin);
		if (ret >= 0)
			vring_drv_post_head(d, (uint16_t)ret);
		return ret;
	}
	if (d->num_free < n)
		return -ENOSPC;
	head = cur = d->free_head;
	for (unsigned i = 0; i < n; i++) {
		const struct vring_drv_buf *b = i < nout ? &out[i] : &in[i - nout];
		uint16_t flags = (uint16_t)(i >= nout ? VRING_DESC_F_WRITE : 0);

		cur = take_desc(d);
		if (i + 1 < n)
			flags |= VRING_DESC_F_NEXT;
		vring_drv_set_desc(d, cur, b->gpa, b->len, flags, d->next[cur]);
	}
	d->ndesc[head] = (uint16_t)n;
	vring_drv_post_head(d, head);
	return head;
}

void vring_drv_post_head(struct vring_drv *d, uint16_t head)
{
	uint16_t slot = d->avail_idx & (d->cfg.size - 1u);

	put16(d->avail + 4 + 2u * slot, head);
	d->avail_idx++;
}

/* 2.7.10: kick when the new avail idx passed avail_event since the last. */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event - 1u) < (uint16_t)(new_idx - old_idx);
}

bool vring_drv_publish(struct vring_drv *d)
{
	uint16_t old = d->kicked;

	/* Release: the descriptors and ring entries before the idx. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	drv_tsan_release(d->avail + 2);
	word_st(d->avail + 2, d->avail_idx);
	d->kicked = d->avail_idx;
	/* Full: our idx store before reading the device's suppression. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (d->cfg.event_idx)
		return need_event(vring_drv_avail_event(d), d->avail_idx, old);
	return !(word_ld(d->used) & VRING_USED_F_NO_NOTIFY);
}

int vring_drv_get_used(struct vring_drv *d, uint16_t *id, uint32_t *len)
{
	uint16_t slot;
	uint32_t head;

	if (vring_drv_used_idx(d) == d->last_used)
		return 0;
	/* Acquire: the used idx before the element it publishes. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	drv_tsan_acquire(d->used + 2);
	slot = d->last_used & (d->cfg.size - 1u);
	vring_drv_used_elem(d, slot, &head, len);
	d->last_used++;
	*id = (uint16_t)head;
	if (head < d->cfg.size && d->ndesc[head]) {
		/* Return the chain to the free list (driver's own next[]). */
		uint16_t last = (uint16_t)head;

		for (unsigned i = 1; i < d->ndesc[head]; i++)
			last = d->next[last];
		d->next[last] = d->free_head;
		d->free_head = (uint16_t)head;
		d->num_free += d->ndesc[head];
		d->ndesc[head] = 0;
	}
	return 1;
}

void vring_drv_enable_intr(struct vring_drv *d, bool on)
{
	if (d->cfg.event_idx) {
		if (on)
			vring_drv_set_used_event(d, d->last_used);
		return;
	}
	vring_drv_set_avail_flags(d, on ? 0 : VRING_AVAIL_F_NO_INTERRUPT);
}

void vring_drv_set_avail_idx(struct vring_drv *d, uint16_t idx)
{
	__atomic_thread_fence(__ATOMIC_RELEASE);
	drv_tsan_release(d->avail + 2);
	word_st(d->avail + 2, idx);
	d->avail_idx = idx;
	d->kicked = idx;
}

void vring_drv_set_avail_flags(struct vring_drv *d, uint16_t flags)
{
	word_st(d->avail, flags);
}

void vring_drv_set_used_event(struct vring_drv *d, uint16_t v)
{
	word_st(d->avail + 4 + 2u * d->cfg.size, v);
}

uint16_t vring_drv_avail_idx(const struct vring_drv *d)
{
	return word_ld(d->avail + 2);
}

uint16_t vring_drv_used_idx(const struct vring_drv *d)
{
	return word_ld(d->used + 2);
}

uint16_t vring_drv_used_flags(const struct vring_drv *d)
{
	return word_ld(d->used);
}

uint16_t vring_drv_avail_event(const struct vring_drv *d)
{
	return word_ld(d->used + 4 + 8u * d->cfg.size);
}

void vring_drv_used_elem(const struct vring_drv *d, uint16_t slot,
			 uint32_t *id, uint32_t *len)
{
	const uint8_t *p = d->used + 4 + 8u * (size_t)slot;

	*id = get32(p);
	*len = get32(p + 4);
}

unsigned vring_drv_num_free(const struct vring_drv *d)
{
	return d->num_free;
}
