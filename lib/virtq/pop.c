// SPDX-License-Identifier: MIT
/*
 * The split virtqueue, the second stage of a queue's life (after queue.c):
 * pop, i.e. the avail side (VIRTIO 1.2 section 2.7.6: avail idx, the head)
 * and the descriptor chain walk (2.7.5: descriptors, indirect tables) with
 * the mapping of its buffers through the DMA layer, into an element from
 * elem.c that leaves the queue through used.c.
 *
 * The walk reads each descriptor once, validates it, and records its buffer
 * as a guest range in the queue's scratch list; one step answers MORE, DONE
 * or an error whose reason is recorded in the queue (never a bare "no
 * more").  Only a fully valid chain is mapped, in two scatter-gather lists
 * (device-readable, then device-writable), and copied into one allocation
 * holding the element and its segments.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dma_lib.h"
#include "elem.h"
#include "queue.h"

enum step {
	STEP_DONE = 0, /* the chain ended with this descriptor */
	STEP_MORE = 1, /* the walk continues at w->idx */
};

struct walk {
	struct ramdev_virtq *vq;
	struct ramdev_dma_chain *dc; /* the read-side section of the pop */
	uint16_t head;
	uint32_t idx;       /* next descriptor to read */
	uint32_t ttl;       /* descriptors left before we call it a loop */
	bool indirect;      /* walking an indirect table */
	uint64_t table;     /* its guest address */
	uint32_t table_len; /* its entries */
	bool table_copied;  /* ... copied into vq->itab */
	unsigned nsg;       /* ranges recorded in vq->sg */
	unsigned out_nsg;   /* of which device-readable */
	uint64_t out_len;
	uint64_t in_len;
};

#define NAME(e) ramdev_virtq_strerror(e)
#define ULL(v) ((unsigned long long)(v))

static inline uint64_t le64_at(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return RAMDEV_LE(64, v);
}

static inline uint32_t le32_at(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return RAMDEV_LE(32, v);
}

static inline uint16_t le16_at(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return RAMDEV_LE(16, v);
}

/*
 * Read descriptor w->idx.  The descriptor table was translated at creation
 * (16-byte aligned, in RAM/RAMD): one exact access per field.  An indirect
 * table is an ordinary guest buffer anywhere in guest memory: copied whole
 * when table_copy() could, else read through the DMA layer entry by entry
 * (16 bytes, each byte once).
 */
static int read_desc(struct walk *w, struct virtq_desc *d)
{
	struct ramdev_virtq *vq = w->vq;
	uint8_t raw[VIRTQ_DESC_SIZE];
	const uint8_t *p;
	int ret;

	if (!w->indirect) {
		/* idx < size was checked by the caller (2.7.5). */
		p = vq->desc.host + (size_t)VIRTQ_DESC_SIZE * w->idx;
		d->addr = ramdev_ld_le64(p + VIRTQ_DESC_ADDR);
		d->len = ramdev_ld_le32(p + VIRTQ_DESC_LEN);
		d->flags = ramdev_ld_le16(p + VIRTQ_DESC_FLAGS);
		d->next = ramdev_ld_le16(p + VIRTQ_DESC_NEXT);
		return 0;
	}
	/* idx < table_len checked by the caller. */
	if (w->table_copied) {
		p = vq->itab + (size_t)VIRTQ_DESC_SIZE * w->idx;
		d->addr = le64_at(p + VIRTQ_DESC_ADDR);
		d->len = le32_at(p + VIRTQ_DESC_LEN);
		d->flags = le16_at(p + VIRTQ_DESC_FLAGS);
		d->next = le16_at(p + VIRTQ_DESC_NEXT);
		return 0;
	}
	/* table + 16 * idx <= table + len - 16: checked when the table was
	 * accepted (no wrap). */
	ret = ramdev_dma_read(vq->dma, w->table + (uint64_t)VIRTQ_DESC_SIZE * w->idx,
			      raw, sizeof(raw));
	if (ret < 0)
		return ramdev_virtq_fail(vq, RAMDEV_VIRTQ_UNMAPPED,
					 "virtq: %s: indirect table 0x%llx entry "
					 "0x%x unreadable (%d), head 0x%x",
					 NAME(RAMDEV_VIRTQ_UNMAPPED), ULL(w->table),
					 w->idx, ret, w->head);
	d->addr = le64_at(raw + VIRTQ_DESC_ADDR);
	d->len = le32_at(raw + VIRTQ_DESC_LEN);
	d->flags = le16_at(raw + VIRTQ_DESC_FLAGS);
	d->next = le16_at(raw + VIRTQ_DESC_NEXT);
	return 0;
}

/*
 * Copy a whole indirect table that lies in one RAM or RAMD region into
 * vq->itab: one lookup instead of two per entry, and every entry is read
 * exactly once (RAMD through the access core), as the per-entry path does.
 * Tables in MMIO (reads may have side effects: only visited entries are
 * read), across regions or larger than the copy stay on that path.
 */
static bool table_copy(struct walk *w, uint64_t gpa, uint32_t len)
{
	struct ramdev_virtq *vq = w->vq;
	struct ramdev_xlate x;
	bool ok = false;

	if (len > sizeof(vq->itab))
		return false;
	/* In the pop's read-side section, with the chain's hint: the table
	 * usually lies in the flat range its buffers are in. */
	if (ramdev_dma_chain_translate(w->dc, gpa, len, &x) == 0 &&
	    x.len >= len && x.host) {
		if (x.kind == RAMDEV_REGION_RAMD) {
			ramdev_as_ramd_read(x.region, vq->itab, x.host, len);
			ok = true;
		} else if (x.kind == RAMDEV_REGION_RAM) {
			/* Entry by entry (len is a multiple of 16): a
			 * memcpy of a length known to be <= 4096 becomes
			 * `rep movsq`, whose start-up cost dwarfs a typical
			 * 2-4 entry table. */
			const uint8_t *src = x.host;

			for (uint32_t off = 0; off < len; off += VIRTQ_DESC_SIZE)
				memcpy(vq->itab + off, src + off,
				       VIRTQ_DESC_SIZE);
			ok = true;
		}
	}
	return ok;
}

/* Switch the walk to the indirect table @d describes (2.7.5.3). */
static int enter_indirect(struct walk *w, const struct virtq_desc *d)
{
	struct ramdev_virtq *vq = w->vq;
	uint64_t last;

	/* 2.7.5.3.1: INDIRECT only when VIRTIO_F_INDIRECT_DESC was
	 * negotiated. */
	if (!vq->cfg.indirect)
		return ramdev_virtq_fail(vq, RAMDEV_VIRTQ_INDIRECT_OFF,
					 "virtq: %s: desc 0x%x flags 0x%x, head 0x%x",
					 NAME(RAMDEV_VIRTQ_INDIRECT_OFF), w->idx,
					 d->flags, w->head);
	/* 2.7.5.3.1: no INDIRECT inside an indirect table. */
	if (w->indirect)
		return ramdev_virtq_fail(vq, RAMDEV_VIRTQ_INDIRECT_NESTED,
					 "virtq: %s: entry 0x%x of table 0x%llx "
					 "flags 0x%x, head 0x%x",
					 NAME(RAMDEV_VIRTQ_INDIRECT_NESTED), w->idx,
					 ULL(w->table), d->flags, w->head);
	/* 2.7.5.3.1: INDIRECT and NEXT are exclusive. */
	if (d->flags & VIRTQ_DESC_F_NEXT)
		return ramdev_virtq_fail(vq, RAMDEV_VIRTQ_INDIRECT_NEXT,
					 "virtq: %s: desc 0x%x flags 0x%x, head 0x%x",
					 NAME(RAMDEV_VIRTQ_INDIRECT_NEXT), w->idx,
					 d->flags, w->head);
	/* 2.7.5.3: the table is len / 16 descriptors; next is a le16, so
	 * at most 65535 entries. */
	if (d->len == 0 || d->len % VIRTQ_DESC_SIZE ||
	    d->len / VIRTQ_DESC_SIZE > VIRTQ_MAX_INDIRECT)
		return ramdev_virtq_fail(vq, RAMDEV_VIRTQ_INDIRECT_LEN,
					 "virtq: %s: desc 0x%x len 0x%x, head 0x%x",
					 NAME(RAMDEV_VIRTQ_INDIRECT_LEN), w->idx,
					 d->len, w->head);
	if (!virtq_add_ok(d->addr, d->len - 1u, &last))
		return ramdev_virtq_fail(vq, RAMDEV_VIRTQ_ADDR_OVERFLOW,
					 "virtq: %s: indirect table 0x%llx len "
					 "0x%x, head 0x%x",
					 NAME(RAMDEV_VIRTQ_ADDR_OVERFLOW),
					 ULL(d->addr), d->len, w->head);
	w->indirect = true;
	w->table = d->addr;
	w->table_len = d->len / VIRTQ_DESC_SIZE;
	w->idx = 0;
	w->ttl = w->table_len; /* a chain visits each entry at most once */
	w->table_copied = table_copy(w, d->addr, d->len);
	return 0;
}

/* Record the buffer @d describes. */
static int add_buffer(struct walk *w, const struct virtq_desc *d)
{
	struct ramdev_virtq *vq = w->vq;
	bool writable = d->flags & VIRTQ_DESC_F_WRITE;
	uint64_t last, total;

	/* Zero-length buffers carry nothing and are refused (as QEMU and
	 * libvhost-user do). */
	if (d->len == 0)
		return ramdev_virtq_fail(vq, RAMDEV_VIRTQ_ZERO_LEN,
					 "virtq: %s: desc 0x%x addr 0x%llx, head 0x%x",
					 NAME(RAMDEV_VIRTQ_ZERO_LEN), w->idx,
					 ULL(d->addr), w->head);
	/* The range is [addr, addr + len - 1]; it may end at 2^64 - 1. */
	if (!virtq_add_ok(d->addr, d->len - 1u, &last))
		return ramdev_virtq_fail(vq, RAMDEV_VIRTQ_ADDR_OVERFLOW,
					 "virtq: %s: desc 0x%x addr 0x%llx len "
					 "0x%x, head 0x%x",
					 NAME(RAMDEV_VIRTQ_ADDR_OVERFLOW), w->idx,
					 ULL(d->addr), d->len, w->head);
	/* 2.7.4.2 / 2.7.5: device-writable buffers follow readable ones. */
	if (!writable && w->nsg > w->out_nsg)
		return ramdev_virtq_fail(vq, RAMDEV_VIRTQ_ORDER,
					 "virtq: %s: desc 0x%x flags 0x%x after "
					 "0x%x writable, head 0x%x",
					 NAME(RAMDEV_VIRTQ_ORDER), w->idx, d->flags,
					 w->nsg - w->out_nsg, w->head);
	/* 2.7.5.2: a chain is at most 2^32 bytes in total.  Both sums stay
	 * far below 2^64: each term is below 2^32 and there are at most
	 * max_segs of them before the check fires. */
	if (!virtq_add_ok(w->out_len + w->in_len, d->len, &total) ||
	    total > VIRTQ_MAX_CHAIN_LEN)
		return ramdev_virtq_fail(vq, RAMDEV_VIRTQ_CHAIN_TOO_LONG,
					 "virtq: %s: 0x%llx bytes at desc 0x%x, "
					 "head 0x%x",
					 NAME(RAMDEV_VIRTQ_CHAIN_TOO_LONG),
					 ULL(w->out_len + w->in_len + d->len),
					 w->idx, w->head);
	if (w->nsg >= vq->cfg.max_segs)
		return ramdev_virtq_fail(vq, RAMDEV_VIRTQ_TOO_MANY_SEGS,
					 "virtq: %s: more than 0x%x buffers, head 0x%x",
					 NAME(RAMDEV_VIRTQ_TOO_MANY_SEGS),
					 vq->cfg.max_segs, w->head);
	vq->sg[w->nsg].gpa = d->addr;
	vq->sg[w->nsg].len = d->len;
	w->nsg++;
	if (writable) {
		w->in_len += d->len;
	} else {
		w->out_nsg++;
		w->out_len += d->len;
	}
	return 0;
}

/*
 * One step of the walk: read, validate and record descriptor w->idx.
 * Returns: STEP_MORE (w->idx is the next one), STEP_DONE, or -EIO with the
 * reason recorded in the queue.
 */
static int walk_step(struct walk *w)
{
	struct ramdev_virtq *vq = w->vq;
	struct virtq_desc d = { 0 };
	uint32_t limit;
	int ret;

	/* 2.7.5.2: a chain is at most as long as its table; one more
	 * descriptor means it loops. */
	if (w->ttl == 0)
		return ramdev_virtq_fail(vq, RAMDEV_VIRTQ_LOOP,
					 "virtq: %s: more than 0x%x descriptors "
					 "in %s table 0x%llx, head 0x%x",
					 NAME(RAMDEV_VIRTQ_LOOP),
					 w->indirect ? w->table_len : vq->cfg.size,
					 w->indirect ? "indirect" : "the",
					 ULL(w->indirect ? w->table : vq->cfg.desc),
					 w->head);
	w->ttl--;
	ret = read_desc(w, &d);
	if (ret < 0)
		return ret;
	if (d.flags & VIRTQ_DESC_F_INDIRECT) {
		/* 2.7.5.3.2: the device handles zero or more chained
		 * descriptors followed by one indirect descriptor. */
		ret = enter_indirect(w, &d);
		return ret < 0 ? ret : STEP_MORE;
	}
	ret = add_buffer(w, &d);
	if (ret < 0)
		return ret;
	if (!(d.flags & VIRTQ_DESC_F_NEXT))
		return STEP_DONE;
	/* 2.7.5: next indexes the same table (size entries, or len / 16
	 * for an indirect table, 2.7.5.3). */
	limit = w->indirect ? w->table_len : vq->cfg.size;
	if (d.next >= limit)
		return ramdev_virtq_fail(vq, RAMDEV_VIRTQ_NEXT_INDEX,
					 "virtq: %s: desc 0x%x next 0x%x >= 0x%x "
					 "(%s table), head 0x%x",
					 NAME(RAMDEV_VIRTQ_NEXT_INDEX), w->idx,
					 d.next, limit,
					 w->indirect ? "indirect" : "descriptor",
					 w->head);
	w->idx = d.next;
	return STEP_MORE;
}

/* Name the first range of @sg[0..n) that does not translate, for the log. */
static void report_unmapped(struct ramdev_virtq *vq, const struct ramdev_sg *sg,
			    unsigned n, int err, uint16_t head)
{
	struct ramdev_xlate x;
	uint64_t gpa = 0, off;
	int ret = 0;

	ramdev_as_read_lock();
	for (unsigned i = 0; i < n && ret == 0; i++) {
		for (off = 0; off < sg[i].len && ret == 0; off += x.len) {
			gpa = sg[i].gpa + off; /* no wrap: checked by the walk */
			ret = ramdev_as_translate(vq->as, gpa, sg[i].len - off, &x);
			if (ret == 0 && x.len == 0)
				break;
		}
	}
	ramdev_as_read_unlock();
	ramdev_virtq_fail(vq, RAMDEV_VIRTQ_UNMAPPED,
			  "virtq: %s: buffer at 0x%llx cannot be mapped (%d), "
			  "head 0x%x", NAME(RAMDEV_VIRTQ_UNMAPPED),
			  ULL(ret ? gpa : sg[0].gpa), err, head);
}

/*
 * The chain's map failed with @ret (res: which part).  Returns @ret or
 * -EIO: -EIO or -ENOBUFS when the queue was broken, -EAGAIN and -ENOMEM
 * with the queue untouched.  Called after the pop's read-side section.
 */
static int map_failed(struct ramdev_virtq *vq, const struct walk *w, int ret,
		      const struct ramdev_dma_chain_map *res)
{
	unsigned max = vq->cfg.max_segs, nin = w->nsg - w->out_nsg;
	/* The part that failed, for the messages. */
	const struct ramdev_sg *sg = res->in_failed ? vq->sg + w->out_nsg
						    : vq->sg;
	unsigned n = res->in_failed ? nin : w->out_nsg;
	unsigned room = res->in_failed ? max - res->out_segs : max;

	switch (ret) {
	case -EAGAIN:
	case -ENOMEM:
		return ret;
	case -ENOBUFS:
		/* QEMU_BOUNCE policy: fail as QEMU does, with its words (QEMU
		 * reports an unmappable buffer and an exhausted bounce buffer
		 * alike, hence UNMAPPED). */
		ramdev_virtq_fail(vq, RAMDEV_VIRTQ_UNMAPPED,
				  "virtio: bogus descriptor or out of resources");
		return -ENOBUFS;
	case -E2BIG:
		return ramdev_virtq_fail(vq, RAMDEV_VIRTQ_TOO_MANY_SEGS,
					 "virtq: %s: 0x%x buffers need more than "
					 "0x%x segments, head 0x%x",
					 NAME(RAMDEV_VIRTQ_TOO_MANY_SEGS), n, room,
					 w->head);
	default:
		report_unmapped(vq, sg, n, ret, w->head);
		return -EIO;
	}
}

/* The element of a mapped chain: @nseg segments in vq->segs, @res->out_segs
 * of them device-readable.  1, or -ENOMEM (unmapped again). */
static int make_elem(struct ramdev_virtq *vq, const struct walk *w,
		     unsigned nseg, const struct ramdev_dma_chain_map *res,
		     struct ramdev_virtq_elem **out)
{
	unsigned nout = res->out_segs;
	struct virtq_elem_priv *p = virtq_elem_alloc(vq, nseg);

	if (!p) {
		ramdev_dma_unmap_chain(vq->dma, vq->segs, nout, nseg - nout, 0);
		return -ENOMEM;
	}
	memcpy(p->segs, vq->segs, sizeof(p->segs[0]) * (size_t)nseg);
	/* Device memory in the element: pop() and push() then need the
	 * device barriers (virtq_dev_rmb/wmb); bounce buffers count too, for
	 * the copy-back may store into RAMD (the QEMU_BOUNCE policy). */
	p->dev = res->dev;
	p->owner = vq;
	p->pub.head = w->head;
	p->pub.out_num = nout;
	p->pub.in_num = nseg - nout;
	p->pub.out_len = w->out_len;
	p->pub.in_len = w->in_len;
	p->pub.segs = p->segs;
	*out = &p->pub;
	return 1;
}

/*
 * Walk and map the chain starting at @head, in one read-side section (one
 * search of the flat view when the table and the buffers share a flat
 * range).  Only a fully valid chain is mapped, in two parts
 * (device-readable, then device-writable).  Returns 1 with *@out set;
 * -EIO (queue now broken); -ENOBUFS (QEMU_BOUNCE pool busy, queue now
 * broken); -EAGAIN, -ENOMEM (nothing consumed).
 */
static int chain_pop(struct ramdev_virtq *vq, uint16_t head,
		     struct ramdev_virtq_elem **out)
{
	struct ramdev_dma_chain dc;
	struct ramdev_dma_chain_map res = { 0, false, false };
	struct walk w = {
		.vq = vq,
		.dc = &dc,
		.head = head,
		.idx = head,
		.ttl = vq->cfg.size, /* 2.7.5.2: chain length <= queue size */
	};
	int ret;

	ramdev_dma_chain_begin(&dc, vq->dma);
	do
		ret = walk_step(&w);
	while (ret == STEP_MORE);
	if (ret < 0) {
		ramdev_dma_chain_end(&dc);
		return ret;
	}
	ret = ramdev_dma_chain_map(&dc, vq->sg, w.out_nsg, w.nsg - w.out_nsg,
				   vq->segs, vq->cfg.max_segs, &res);
	ramdev_dma_chain_end(&dc); /* unmaps what a failed map mapped */
	if (ret < 0)
		return map_failed(vq, &w, ret, &res);
	return make_elem(vq, &w, (unsigned)ret, &res, out);
}

/* Pop the next head of the resubmit list (inflight.c): 1, or -errno as
 * ramdev_virtq_pop(). */
static int pop_resubmit(struct ramdev_virtq *vq, struct ramdev_virtq_elem **out)
{
	uint16_t head = vq->resubmit[vq->resubmit_pos];
	int ret;

	/* Each in-flight chain holds one of the size descriptors (2.7.5). */
	if (vq->inflight >= vq->cfg.size)
		return ramdev_virtq_fail(vq, RAMDEV_VIRTQ_AVAIL_IDX,
					 "virtq: %s: 0x%x chains in flight, "
					 "size 0x%x (resubmit)",
					 ramdev_virtq_strerror(RAMDEV_VIRTQ_AVAIL_IDX),
					 vq->inflight, vq->cfg.size);
	ret = chain_pop(vq, head, out);
	if (ret <= 0)
		return ret;
	vq->resubmit_pos++;
	vq->inflight++;
	if (vq->hooks.popped)
		vq->hooks.popped(vq->hooks.opaque, head);
	return 1;
}

/* ---- pop: the avail side ---- */

RAMDEV_EXPORT int ramdev_virtq_pop(struct ramdev_virtq *vq,
				   struct ramdev_virtq_elem **out)
{
	uint16_t idx, pending, head;
	int ret;

	if (!vq || !out)
		return -EINVAL;
	if (vq->err != RAMDEV_VIRTQ_OK) {
		ramdev_virtq_flush_pending(vq);
		return -EIO;
	}
	if (vq->resubmit_pos < vq->resubmit_n)
		return pop_resubmit(vq, out);
	idx = virtq_avail_idx(vq);
	pending = (uint16_t)(idx - vq->last_avail);
	/* 2.7.6: the driver makes at most size heads available at a time;
	 * a larger jump is a corrupt index (and would let the guest make us
	 * walk stale slots). */
	if (pending > vq->cfg.size)
		return ramdev_virtq_fail(vq, RAMDEV_VIRTQ_AVAIL_IDX,
					 "virtq: %s: avail idx 0x%x, last 0x%x, "
					 "size 0x%x",
					 ramdev_virtq_strerror(RAMDEV_VIRTQ_AVAIL_IDX),
					 idx, vq->last_avail, vq->cfg.size);
	if (pending == 0)
		return 0;
	/* Each in-flight chain holds at least one of the size descriptors
	 * (2.7.5), so more than size in flight means heads were reused. */
	if (vq->inflight >= vq->cfg.size)
		return ramdev_virtq_fail(vq, RAMDEV_VIRTQ_AVAIL_IDX,
					 "virtq: %s: 0x%x chains in flight, "
					 "size 0x%x",
					 ramdev_virtq_strerror(RAMDEV_VIRTQ_AVAIL_IDX),
					 vq->inflight, vq->cfg.size);
	/* Orders the avail idx load above before the loads of the ring entry
	 * and of the descriptors it names (2.7.13: the driver writes them
	 * before it publishes idx).  In RAM an acquire fence (nothing on
	 * x86); rings in device memory need the real barrier (see
	 * virtq_dev_rmb()). */
	if (vq->avail.dev || vq->desc.dev)
		virtq_dev_rmb();
	else
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	virtq_tsan_acquire(vq->avail.host + VIRTQ_RING_IDX);
	/* 2.7.6: ring[] has size entries; size is a power of two. */
	head = virtq_avail_ring(vq, vq->last_avail & (vq->cfg.size - 1u));
	/* 2.7.5: a head indexes the descriptor table of size entries. */
	if (head >= vq->cfg.size)
		return ramdev_virtq_fail(vq, RAMDEV_VIRTQ_HEAD_INDEX,
					 "virtq: %s: head 0x%x at avail slot "
					 "0x%x >= size 0x%x",
					 ramdev_virtq_strerror(RAMDEV_VIRTQ_HEAD_INDEX),
					 head, vq->last_avail, vq->cfg.size);
	ret = chain_pop(vq, head, out);
	if (ret <= 0)
		return ret;
	/* Buffers in device memory are read by the caller after this returns:
	 * order those loads after the avail idx load as well. */
	if (((struct virtq_elem_priv *)*out)->dev)
		virtq_dev_rmb();
	vq->last_avail++;
	vq->inflight++;
	if (vq->hooks.popped)
		vq->hooks.popped(vq->hooks.opaque, head);
	/* 2.7.10: with EVENT_IDX, ask for a kick when the driver makes the
	 * next buffer after this one available. */
	if (vq->cfg.event_idx && vq->notify_on)
		virtq_set_avail_event(vq, vq->last_avail);
	return 1;
}
