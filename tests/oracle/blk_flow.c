// SPDX-License-Identifier: MIT
/*
 * Program side of the blk flow check (check_blk_flow.py): N virtio-blk
 * requests of 4 KiB, one at a time, through the whole device path (pop,
 * parse, staging, engine, completion, push), for callgrind to count the
 * calls between the files of lib/blk/.  The script runs it twice with
 * different N and takes the difference, so set-up and teardown cancel out
 * and what is left is the cost of one request.
 *
 * Usage: blk_flow in|out ram|ramd sync|uring N
 * Exit: 0 all N requests completed with VIRTIO_BLK_S_OK, 1 otherwise,
 * 77 the engine is unavailable here (io_uring refused).
 */
#define _GNU_SOURCE /* mkostemp */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ramdev/blk.h"
#include "ramdev/virtq.h"
#include "test_guest.h"
#include "vring_driver.h"

#define QSIZE 16u
#define DESC_GPA 0x0ull
#define AVAIL_GPA 0x1000ull
#define USED_GPA 0x2000ull
#define INDIRECT_GPA 0x10000ull
#define HDR_GPA 0x20000ull
#define STATUS_GPA 0x21000ull
#define DATA_RAM_GPA 0x100000ull
#define DATA_LEN 4096u
#define IMG_SIZE (1u << 20)

static int fail(const char *what, int err)
{
	fprintf(stderr, "blk_flow: %s: %s\n", what, strerror(-err));
	return 1;
}

/* One request, added, processed, completed and reaped. */
static int one_request(struct test_guest *g, struct ramdev_blk *blk,
		       struct vring_drv *drv, bool out, uint64_t data,
		       uint64_t sector)
{
	uint8_t *h = test_guest_host(g, HDR_GPA, 16);
	uint8_t *status = test_guest_host(g, STATUS_GPA, 1);
	uint32_t type = htole32(out ? RAMDEV_BLK_T_OUT : RAMDEV_BLK_T_IN);
	uint64_t sec = htole64(sector);
	struct vring_drv_buf hdr = { HDR_GPA, 16 }, buf = { data, DATA_LEN },
			     st = { STATUS_GPA, 1 };
	struct vring_drv_buf outs[2] = { hdr, buf }, ins[2] = { buf, st };
	uint16_t id;
	uint32_t len;
	int ret;

	memcpy(h, &type, 4);
	memset(h + 4, 0, 4);
	memcpy(h + 8, &sec, 8);
	*status = 0xff;
	ret = out ? vring_drv_add(drv, outs, 2, &st, 1, true)
		  : vring_drv_add(drv, &hdr, 1, ins, 2, true);
	if (ret < 0)
		return fail("vring_drv_add", ret);
	vring_drv_publish(drv);
	ret = ramdev_blk_process(blk, 0, NULL);
	while (ret >= 0 && ramdev_blk_inflight(blk))
		ret = ramdev_blk_wait(blk, -1, NULL);
	if (ret < 0)
		return fail("ramdev_blk_process/wait", ret);
	if (vring_drv_get_used(drv, &id, &len) < 0 || *status != 0) {
		fprintf(stderr, "blk_flow: request not completed OK "
			"(status 0x%02x)\n", *status);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct test_guest_config gc = { .policy = RAMDEV_DMA_DIRECT };
	struct ramdev_virtq_config qc = {
		.size = QSIZE, .desc = DESC_GPA, .avail = AVAIL_GPA,
		.used = USED_GPA, .event_idx = true, .indirect = true,
	};
	struct vring_drv_config vc = vring_drv_config_of(&qc, INDIRECT_GPA, 4);
	struct ramdev_blk_options bo = { .serial = "blk-flow" };
	char path[] = "/var/tmp/ramdev-blk-flow-XXXXXX";
	struct test_guest *g = NULL;
	struct ramdev_virtq *vq = NULL;
	struct vring_drv *drv = NULL;
	struct ramdev_blk *blk = NULL;
	bool out, ramd;
	long n;
	int ret, rc = 1;

	if (argc != 5 || (strcmp(argv[1], "in") && strcmp(argv[1], "out")) ||
	    (strcmp(argv[2], "ram") && strcmp(argv[2], "ramd")) ||
	    (strcmp(argv[3], "sync") && strcmp(argv[3], "uring")) ||
	    (n = strtol(argv[4], NULL, 0)) <= 0) {
		fprintf(stderr, "usage: blk_flow in|out ram|ramd sync|uring N\n");
		return 2;
	}
	out = !strcmp(argv[1], "out");
	ramd = !strcmp(argv[2], "ramd");
	bo.engine = strcmp(argv[3], "sync") ? RAMDEV_BLK_ENGINE_URING
					     : RAMDEV_BLK_ENGINE_SYNC;
	bo.fd = mkostemp(path, 0);
	if (bo.fd < 0 || unlink(path) || ftruncate(bo.fd, IMG_SIZE))
		return fail("image", -errno);
	ret = test_guest_new(&g, &gc);
	if (ret < 0)
		return fail("test_guest_new", ret);
	ret = ramdev_blk_open(&blk, &bo);
	if (ret < 0) {
		printf("SKIP: ramdev_blk_open(%s): %s\n", argv[3], strerror(-ret));
		test_guest_free(g);
		return 77;
	}
	ret = ramdev_virtq_new(&vq, g->dma, &qc);
	if (ret == 0)
		ret = vring_drv_new(&drv, g->as, &vc);
	if (ret == 0)
		ret = ramdev_blk_attach_queue(blk, 0, vq, g->dma);
	if (ret < 0) {
		fail("queue set-up", ret);
		goto out;
	}
	for (long i = 0; i < n; i++) {
		uint64_t data = ramd ? TEST_GUEST_RAMD_GPA : DATA_RAM_GPA;

		if (one_request(g, blk, drv, out, data,
				(uint64_t)(i % (IMG_SIZE / DATA_LEN)) * 8))
			goto out;
	}
	rc = 0;
out:
	if (vq)
		(void)ramdev_blk_detach_queue(blk, 0);
	vring_drv_free(drv);
	ramdev_virtq_free(vq);
	ramdev_blk_close(blk);
	test_guest_free(g);
	close(bo.fd);
	return rc;
}
