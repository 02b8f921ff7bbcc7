// SPDX-License-Identifier: MIT
/* The virtqueue tests' fixture and shared helpers (see test_virtq.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_virtq.h"

static void log_cb(void *opaque, int level, const char *msg)
{
	struct fx *f = opaque;

	(void)level;
	f->nmsg++;
	snprintf(f->msg, sizeof(f->msg), "%s", msg);
}

/* (Re)create the queue from f->cfg. */
void fx_queue(struct fx *f)
{
	ramdev_virtq_free(f->vq);
	f->vq = NULL;
	assert_int_equal(0, ramdev_virtq_new(&f->vq, f->g->dma, &f->cfg));
	ramdev_virtq_set_log(f->vq, log_cb, f);
}

static int fx_setup(void **state, unsigned features,
		    const struct test_guest_config *gc)
{
	struct vring_drv_config dc = {
		.size = QSIZE, .desc = DESC_GPA, .avail = AVAIL_GPA,
		.used = USED_GPA, .event_idx = features & F_EVENT_IDX,
		.indirect_gpa = IND_GPA, .indirect_max = IND_MAX,
	};
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || test_guest_new(&f->g, gc) != 0 ||
	    vring_drv_new(&f->drv, f->g->as, &dc) != 0)
		return -1;
	f->features = features;
	f->cfg = (struct ramdev_virtq_config){
		.size = QSIZE, .desc = DESC_GPA, .avail = AVAIL_GPA,
		.used = USED_GPA, .event_idx = features & F_EVENT_IDX,
		.indirect = features & F_INDIRECT,
	};
	if (ramdev_virtq_new(&f->vq, f->g->dma, &f->cfg) != 0)
		return -1;
	ramdev_virtq_set_log(f->vq, log_cb, f);
	*state = f;
	return 0;
}

int setup_plain(void **state) { return fx_setup(state, 0, NULL); }
int setup_ev(void **state) { return fx_setup(state, F_EVENT_IDX, NULL); }
int setup_ind(void **state) { return fx_setup(state, F_INDIRECT, NULL); }
int setup_both(void **state)
{
	return fx_setup(state, F_EVENT_IDX | F_INDIRECT, NULL);
}

int setup_tiny_bounce(void **state)
{
	struct test_guest_config gc = { .bounce_size = 64 };

	return fx_setup(state, F_INDIRECT, &gc);
}

int setup_qemu_bounce(void **state)
{
	struct test_guest_config gc = { .policy = RAMDEV_DMA_QEMU_BOUNCE };

	return fx_setup(state, 0, &gc);
}

int teardown(void **state)
{
	struct fx *f = *state;

	ramdev_virtq_free(f->vq);
	vring_drv_free(f->drv);
	test_guest_free(f->g);
	free(f);
	return 0;
}

/* Assert the queue broke with @err, and stays broken. */
void assert_broken(struct fx *f, enum ramdev_virtq_err err)
{
	struct ramdev_virtq_elem *e = NULL;

	assert_int_equal(-EIO, ramdev_virtq_pop(f->vq, &e));
	assert_int_equal(err, ramdev_virtq_error(f->vq));
	assert_int_equal(1, f->nmsg);
	assert_non_null(strstr(f->msg, ramdev_virtq_strerror(err)));
	assert_int_equal(-EIO, ramdev_virtq_pop(f->vq, &e));
	assert_null(e);
	assert_false(ramdev_virtq_should_notify(f->vq));
	assert_int_equal(1, f->nmsg);
}

/* Publish one hand-built chain starting at descriptor @head. */
void post(struct fx *f, uint16_t head)
{
	vring_drv_post_head(f->drv, head);
	vring_drv_publish(f->drv);
}

/* Add a chain the way the negotiated features allow. */
int add(struct fx *f, const struct vring_drv_buf *out, unsigned nout,
	const struct vring_drv_buf *in, unsigned nin)
{
	return vring_drv_add(f->drv, out, nout, in, nin,
			     f->features & F_INDIRECT);
}

void push_one(struct fx *f)
{
	struct vring_drv_buf in = { DATA_GPA, 32 };
	struct ramdev_virtq_elem *e;
	uint16_t id;
	uint32_t len;

	assert_true(add(f, NULL, 0, &in, 1) >= 0);
	vring_drv_publish(f->drv);
	assert_int_equal(1, ramdev_virtq_pop(f->vq, &e));
	assert_int_equal(0, ramdev_virtq_push(f->vq, e, 1));
	assert_int_equal(1, vring_drv_get_used(f->drv, &id, &len));
}
