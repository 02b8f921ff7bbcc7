// SPDX-License-Identifier: MIT
/*
 * drivers/vhost_front against real vhost-user-blk back ends: qemu-storage-
 * daemon (the reference: if the front end passes there, it negotiates as
 * QEMU does) and ramdev-vhost-user-blk when it is built (argv[1]).  Each
 * case starts the back end on a fresh 8 MiB image, negotiates, and writes,
 * reads back, flushes and reads out of range, on two queues, with buffers
 * in RAM and in the device-memory region.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/virtio_blk.h>

#include "vhost_backend.h"
#include "vhost_front.h"

#define IMG_SIZE (8u << 20)
#define DEV_GPA (1ull << 32)
#define DEV_SIZE (1u << 20)
#define BUF 65536u

static const char *ramdev_path;

struct rig {
	char dir[64], sock[96], img[96], log[96];
	pid_t pid;
	struct vhost_front *f;
};

static bool have_qsd(void)
{
	return system("command -v qemu-storage-daemon >/dev/null 2>&1") == 0;
}

/* Start @kind on a fresh image and connect with two queues. */
static void rig_up(struct rig *r, const char *kind)
{
	struct vhost_backend_config bc = {
		.kind = kind, .num_queues = 2, .direct = false,
		.ramdev = ramdev_path, .dev_mem = "0x100000000:0x100000",
	};
	struct vhost_front_config fc = {
		.connect_ms = 5000, .num_queues = 2, .queue_size = 64,
		.data_size = 4 * BUF, .dev_gpa = DEV_GPA, .dev_size = DEV_SIZE,
	};
	char err[256];
	FILE *img;
	int ret;

	snprintf(r->dir, sizeof(r->dir), "/tmp/vhost-front-XXXXXX");
	assert_non_null(mkdtemp(r->dir));
	snprintf(r->sock, sizeof(r->sock), "%s/sock", r->dir);
	snprintf(r->img, sizeof(r->img), "%s/img", r->dir);
	snprintf(r->log, sizeof(r->log), "%s/log", r->dir);
	img = fopen(r->img, "w");
	assert_non_null(img);
	assert_int_equal(0, ftruncate(fileno(img), IMG_SIZE));
	fclose(img);
	bc.socket = fc.socket = r->sock;
	bc.image = r->img;
	bc.log = r->log;
	assert_int_equal(0, vhost_backend_start(&r->pid, &bc));
	ret = vhost_front_connect(&r->f, &fc, err, sizeof(err));
	if (ret < 0) {
		char cmd[160];

		fprintf(stderr, "connect to %s: %s (%s); its log:\n", kind,
			strerror(-ret), err);
		snprintf(cmd, sizeof(cmd), "cat %s >&2", r->log);
		(void)!system(cmd);
	}
	assert_int_equal(0, ret);
}

static void rig_down(struct rig *r)
{
	char cmd[96];

	vhost_front_close(r->f);
	assert_int_equal(0, vhost_backend_stop(r->pid, 5000));
	snprintf(cmd, sizeof(cmd), "rm -rf %s", r->dir);
	(void)!system(cmd);
}

/* Submit one request on @q, kick, wait for it; returns its status. */
static int one(struct rig *r, unsigned q, uint32_t type, uint64_t sector,
	       uint64_t gpa, uint32_t len)
{
	struct vhost_front_done d;
	int tag = 42;

	assert_int_equal(0, vhost_front_submit(r->f, q, type, sector, gpa, len,
					       &tag));
	assert_int_equal(0, vhost_front_kick(r->f, q));
	for (int i = 0; i < 500; i++) {
		if (vhost_front_reap(r->f, q, &d, 1) == 1) {
			assert_ptr_equal(&tag, d.opaque);
			return d.status;
		}
		assert_true(vhost_front_wait(r->f, 10) >= 0);
	}
	fail_msg("request type %u on queue %u: no completion in 5 s", type, q);
	return -1;
}

static void check_io(const char *kind)
{
	const struct vhost_front_info *in;
	struct rig r = { 0 };
	uint64_t ram;
	uint8_t *w, *rd, *dev;

	rig_up(&r, kind);
	in = vhost_front_info(r.f);
	assert_int_equal(IMG_SIZE / 512, in->capacity);
	assert_int_equal(2, in->num_queues);
	assert_true(in->acked & (1ull << 32)); /* VERSION_1 */
	ram = vhost_front_data_gpa(r.f);
	w = vhost_front_host(r.f, ram, BUF);
	rd = vhost_front_host(r.f, ram + BUF, BUF);
	dev = vhost_front_host(r.f, DEV_GPA, BUF);
	assert_non_null(w);
	assert_non_null(rd);
	assert_non_null(dev);
	for (unsigned i = 0; i < BUF; i++)
		w[i] = (uint8_t)(i * 7 + 3);
	/* RAM buffer on queue 0, read back into device memory on queue 1,
	 * and the other way round at another offset. */
	assert_int_equal(VIRTIO_BLK_S_OK,
			 one(&r, 0, VIRTIO_BLK_T_OUT, 128, ram, BUF));
	assert_int_equal(VIRTIO_BLK_S_OK,
			 one(&r, 1, VIRTIO_BLK_T_IN, 128, DEV_GPA, BUF));
	assert_memory_equal(w, dev, BUF);
	memset(dev, 0x5a, 4096);
	assert_int_equal(VIRTIO_BLK_S_OK,
			 one(&r, 1, VIRTIO_BLK_T_OUT, 8, DEV_GPA, 4096));
	assert_int_equal(VIRTIO_BLK_S_OK,
			 one(&r, 0, VIRTIO_BLK_T_IN, 8, ram + BUF, 4096));
	assert_memory_equal(dev, rd, 4096);
	assert_int_equal(VIRTIO_BLK_S_OK,
			 one(&r, 0, VIRTIO_BLK_T_FLUSH, 0, 0, 0));
	/* Past the end: an I/O error, not a hang. */
	assert_int_equal(VIRTIO_BLK_S_IOERR,
			 one(&r, 0, VIRTIO_BLK_T_IN, IMG_SIZE / 512, ram, 4096));
	rig_down(&r);
}

static void test_vhost_front_qsd(void **state)
{
	(void)state;
	if (!have_qsd())
		skip();
	check_io("qsd");
}

static void test_vhost_front_ramdev(void **state)
{
	(void)state;
	if (!ramdev_path || access(ramdev_path, X_OK) != 0) {
		fprintf(stderr, "SKIP: %s not built\n",
			ramdev_path ? ramdev_path : "ramdev-vhost-user-blk");
		skip();
	}
	check_io("ramdev");
}

/* A socket nobody listens on: a clear error, no hang. */
static void test_vhost_front_connect_refused(void **state)
{
	struct vhost_front_config fc = {
		.socket = "/nonexistent/vhost.sock", .num_queues = 1,
		.data_size = 4096,
	};
	struct vhost_front *f = NULL;
	char err[128];

	(void)state;
	assert_int_equal(-ENOENT, vhost_front_connect(&f, &fc, err,
						       sizeof(err)));
	assert_null(f);
	assert_non_null(strstr(err, "connect"));
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vhost_front_connect_refused),
		cmocka_unit_test(test_vhost_front_qsd),
		cmocka_unit_test(test_vhost_front_ramdev),
	};

	ramdev_path = argc > 1 ? argv[1] : NULL;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
