// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the split virtqueue (clang only; scripts/fuzz.sh).
 *
 * The input is decoded into guest memory contents and a sequence of API
 * calls, then replayed:
 *
 *   u8  size_log2         queue size 1 << (v % 9): 1..256
 *   u8  flags             bit0 EVENT_IDX, bit1 INDIRECT, bit2 QEMU_BOUNCE
 *                         policy, bit3 rings in RAMD, bits4-5 max_segs
 *                         (default, 1, 4, 16), bit6 rings misplaced
 *   desc table            size * 16 bytes
 *   avail ring            6 + 2 * size bytes (flags, idx, ring[], used_event)
 *   used ring header      4 bytes (flags, idx)
 *   u16 n, n bytes        blob copied to DATA_OFF in RAM (buffers, indirect
 *                         tables); u16 m, m bytes copied to the RAMD start
 *   ops until the end     (see enum op)
 *
 * Missing bytes read as zero.  Guest memory is the test guest's RAM, RAMD
 * and MMIO regions, each host mapping between guard pages: a read or write
 * outside the guest faults.  Every popped element is checked: its segments
 * lie inside guest memory (or the bounce pool) and add up to its lengths.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ramdev/virtq.h"
#include "test_guest.h"
#include "fuzz_input.h"

#define RAM_SIZE (64u << 10)
#define RAMD_SIZE (64u << 10)
#define DESC_OFF 0x0000u
#define AVAIL_OFF 0x1000u
#define USED_OFF 0x2000u
#define DATA_OFF 0x3000u
#define DATA_MAX 0x4000u
#define MAX_ELEMS 64

enum op {
	OP_POP,           /* pop one element */
	OP_PUSH,          /* u8 which, u32 written */
	OP_SET_NOTIFY,    /* u8 on */
	OP_SHOULD_NOTIFY, /* */
	OP_SET_LAST,      /* u16 idx */
	OP_AVAIL_IDX,     /* u16: the guest publishes a new avail idx */
	OP_POKE,          /* u16 offset into the ring span, u8 value */
	OP_TOUCH,         /* u8 which: read then write every segment */
	OP_COUNT
};

/* Copy up to @n input bytes to @dst; the rest of @dst is zero. */
static void get_bytes(struct input *in, uint8_t *dst, size_t n)
{
	size_t k = n < in->left ? n : in->left;

	memcpy(dst, in->p, k);
	memset(dst + k, 0, n - k);
	in->p += k;
	in->left -= k;
}

static void quiet(void *opaque, int level, const char *msg)
{
	(void)opaque;
	(void)level;
	(void)msg;
}

static struct test_guest *guest(int qemu)
{
	static struct test_guest *g[2];

	if (!g[qemu]) {
		struct test_guest_config c = {
			.ram_size = RAM_SIZE, .ramd_size = RAMD_SIZE,
			.mmio_size = 4096,
			.policy = qemu ? RAMDEV_DMA_QEMU_BOUNCE : RAMDEV_DMA_DIRECT,
		};

		if (test_guest_new(&g[qemu], &c) != 0)
			abort();
		ramdev_as_set_log(g[qemu]->as, quiet, NULL);
	}
	return g[qemu];
}

static int inside(const uint8_t *p, size_t n, const uint8_t *base, size_t size)
{
	return p >= base && n <= size && (size_t)(p - base) <= size - n;
}

/* The invariants of a popped element. */
static void check_elem(struct test_guest *g, const struct ramdev_virtq_elem *e)
{
	uint64_t out = 0, in = 0;

	for (unsigned i = 0; i < e->out_num + e->in_num; i++) {
		const struct ramdev_dma_seg *s = &e->segs[i];

		if (s->len == 0)
			__builtin_trap();
		if (s->kind == RAMDEV_SEG_DEV &&
		    !inside(s->base, s->len, g->ramd_host, g->ramd_size))
			__builtin_trap();
		if (i < e->out_num)
			out += s->len;
		else
			in += s->len;
	}
	if (out != e->out_len || in != e->in_len)
		__builtin_trap();
}

static void touch(const struct ramdev_virtq_elem *e)
{
	uint8_t buf[256];

	for (unsigned i = 0; i < e->out_num + e->in_num; i++) {
		const struct ramdev_dma_seg *s = &e->segs[i];
		size_t n = s->len < sizeof(buf) ? s->len : sizeof(buf);

		ramdev_dma_seg_read(s, s->len - n, buf, n);
		if (i >= e->out_num)
			ramdev_dma_seg_write(s, 0, buf, n);
	}
}

static void run_ops(struct input *in, struct test_guest *g,
		    struct ramdev_virtq *vq, uint8_t *rings, size_t span)
{
	struct ramdev_virtq_elem *elems[MAX_ELEMS];
	unsigned n = 0, which;
	uint32_t written;
	uint16_t v;

	while (in->left) {
		switch (get8(in) % OP_COUNT) {
		case OP_POP:
			if (n < MAX_ELEMS && ramdev_virtq_pop(vq, &elems[n]) == 1)
				check_elem(g, elems[n++]);
			break;
		case OP_PUSH:
			which = get8(in);
			written = get32(in);
			if (n == 0)
				break;
			which %= n;
			if (elems[which]->in_len)
				written %= (uint32_t)(elems[which]->in_len + 1);
			else
				written = 0;
			ramdev_virtq_push(vq, elems[which], written);
			elems[which] = elems[--n];
			break;
		case OP_SET_NOTIFY:
			ramdev_virtq_set_notify(vq, get8(in) & 1);
			break;
		case OP_SHOULD_NOTIFY:
			ramdev_virtq_should_notify(vq);
			break;
		case OP_SET_LAST:
			ramdev_virtq_set_last_avail(vq, get16(in));
			break;
		case OP_AVAIL_IDX:
			v = get16(in);
			memcpy(rings + AVAIL_OFF + 2, &v, 2); /* LE host assumed */
			break;
		case OP_POKE:
			v = get16(in);
			rings[v % span] = get8(in);
			break;
		case OP_TOUCH:
			which = get8(in);
			if (n)
				touch(elems[which % n]);
			break;
		}
	}
	while (n)
		ramdev_virtq_push(vq, elems[--n], 0);
	if (ramdev_virtq_inflight(vq) != 0 &&
	    ramdev_virtq_error(vq) == RAMDEV_VIRTQ_OK)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned segs_opt[4] = { 0, 1, 4, 16 };
	struct input in = { data, size };
	struct ramdev_virtq_config cfg = { 0 };
	struct ramdev_virtq *vq;
	struct test_guest *g;
	uint8_t flags, *rings;
	uint64_t base;
	uint16_t qsize, n;

	qsize = (uint16_t)(1u << (get8(&in) % 9));
	flags = get8(&in);
	g = guest(!!(flags & 4));
	test_guest_clear(g);
	rings = flags & 8 ? g->ramd_host : g->ram_host;
	base = flags & 8 ? TEST_GUEST_RAMD_GPA : TEST_GUEST_RAM_GPA;

	get_bytes(&in, rings + DESC_OFF, 16u * qsize);
	get_bytes(&in, rings + AVAIL_OFF, 6u + 2u * qsize);
	get_bytes(&in, rings + USED_OFF, 4);
	n = get16(&in);
	get_bytes(&in, g->ram_host + DATA_OFF, n % DATA_MAX);
	n = get16(&in);
	get_bytes(&in, g->ramd_host + DATA_OFF, n % DATA_MAX);

	cfg.size = qsize;
	cfg.desc = base + DESC_OFF;
	cfg.avail = base + AVAIL_OFF;
	cfg.used = base + USED_OFF;
	if (flags & 64) /* misplaced: misaligned, or off the end of RAM */
		cfg.used = flags & 1 ? base + RAM_SIZE - 8 : cfg.used + 2;
	cfg.event_idx = flags & 1;
	cfg.indirect = flags & 2;
	cfg.max_segs = segs_opt[(flags >> 4) & 3];
	if (ramdev_virtq_new(&vq, g->dma, &cfg) != 0)
		abort();
	ramdev_virtq_set_log(vq, quiet, NULL);
	run_ops(&in, g, vq, rings, USED_OFF + 6u + 8u * qsize);
	ramdev_virtq_free(vq);
	return 0;
}
