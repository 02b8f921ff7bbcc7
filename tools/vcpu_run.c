// SPDX-License-Identifier: MIT
/*
 * `ramdev vcpu-demo`: run the guest, hand each KVM_EXIT_MMIO to
 * ramdev_as_vcpu_access(), check each one, print a summary.  See
 * tools/vcpu_demo.c for the design and README.md "The vCPU path".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ramdev/access.h"
#include "ramdev/as.h"
#include "hwbp_watch.h"
#include "vcpu_demo.h"

/* Device page layout (keep in sync with tools/vcpu_guest.S). */
#define REG_STATUS 0x0 /* read-to-clear */
#define REG_INTR 0x4   /* write-1-to-clear */
#define REGS_SIZE 0x10
#define SCRATCH 0x100
#define STATUS_PENDING 0x5u /* raised by the "device" before the run */
#define INTR_PENDING 0xffu

/* ---- the device model behind the MMIO registers ---- */

struct model {
	uint8_t *mem;	   /* the device page: register state lives here */
	unsigned calls;	   /* callbacks since the last reset */
	unsigned last_size;
	unsigned r2c_reads, w1c_writes;
};

static int model_read(void *opaque, uint64_t off, unsigned size,
		      uint64_t *val)
{
	struct model *md = opaque;

	md->calls++;
	md->last_size = size;
	/* One device read of the register's width; a read of STATUS clears
	 * it, as the device would (one device write). */
	*val = ramdev_ld(md->mem + off, size);
	if (off == REG_STATUS) {
		ramdev_st(md->mem + off, size, 0);
		md->r2c_reads++;
	}
	return 0;
}

static int model_write(void *opaque, uint64_t off, unsigned size,
		       uint64_t val)
{
	struct model *md = opaque;
	uint64_t old;

	md->calls++;
	md->last_size = size;
	if (off == REG_INTR) {
		old = ramdev_ld(md->mem + off, size);
		ramdev_st(md->mem + off, size, old & ~val);
		md->w1c_writes++;
	} else if (off != REG_STATUS) {
		ramdev_st(md->mem + off, size, val); /* reserved: plain */
	}
	return 0;
}

/* Registers are 32-bit and must be accessed as such (as on most PCI
 * devices): other widths fail the valid rule and read all-ones. */
static const struct ramdev_mmio_ops model_ops = {
	.read = model_read,
	.write = model_write,
	.valid = { .min_size = 4, .max_size = 4, .unaligned = false },
	.impl = { .min_size = 4, .max_size = 4, .unaligned = false },
};

/* ---- the demo ---- */

static const char *const step_names[] = {
	"(before step 1)",
	"STATUS read-to-clear, read twice",
	"INTR write-1-to-clear, then read",
	"aligned stores 1/2/4/8",
	"aligned loads 1/2/4/8",
	"misaligned stores 2/4/8",
	"misaligned loads 2/4/8",
	"rep movsb x5, rep movsd x3",
	"SSE movdqu 16-byte load+store",
};
#define NSTEPS (sizeof(step_names) / sizeof(step_names[0]))

struct step_stat {
	unsigned exits, bytes, host, bad;
	char sizes[64];
};

struct demo {
	struct vcpu_vm vm;
	struct ramdev_as *as;
	struct model md;
	uint8_t *dev;
	unsigned step;
	struct step_stat st[NSTEPS];
	unsigned guest_status_reads, guest_intr_writes;
	bool w1c_ok, r2c_ok;
	bool canary; /* RAMDEV_VCPU_DEMO_CANARY: prove the checks can fail */
};

/* Aligned pieces ramdev_read/ramdev_write make of [off, off + n). */
static unsigned split_pieces(uint64_t off, unsigned n)
{
	unsigned pieces = 0, w;

	for (; n; off += w, n -= w, pieces++)
		for (w = 8; (off & (w - 1)) || w > n; w >>= 1)
			;
	return pieces;
}

static void hexbytes(char *out, size_t cap, const uint8_t *b, unsigned n)
{
	size_t at = 0;

	out[0] = 0;
	for (unsigned i = 0; i < n && at + 3 < cap; i++)
		at += (size_t)snprintf(out + at, cap - at, "%s%02x",
				       i ? " " : "", b[i]);
}

static uint64_t le_value(const uint8_t *b, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n && i < 8; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static uint32_t reg_now(const struct demo *d, uint64_t off)
{
	return (uint32_t)ramdev_ld(d->dev + off, 4);
}

/* An exit on the registers: the model's callbacks count the accesses. */
static bool exit_regs(struct demo *d, uint64_t gpa, uint8_t *data,
		      unsigned len, bool wr, unsigned *host)
{
	uint64_t off = gpa - VCPU_DEV_GPA, reg = off & ~(uint64_t)3;
	uint32_t before = reg_now(d, reg), after;
	unsigned calls0 = d->md.calls;
	uint64_t val = 0;
	bool ok;
	int rc;

	rc = ramdev_as_vcpu_access(d->as, gpa, data, len, wr);
	*host = d->md.calls - calls0;
	after = reg_now(d, reg);
	val = le_value(data, len);
	ok = rc == 0 && *host == 1 && d->md.last_size == len;
	if (reg == REG_STATUS && !wr) {
		d->guest_status_reads++;
		d->r2c_ok &= ok && val == before && after == 0;
	} else if (reg == REG_INTR && wr) {
		d->guest_intr_writes++;
		d->w1c_ok &= ok && after == (before & ~(uint32_t)val);
	} else if (reg == REG_INTR) {
		ok &= val == before && after == before;
	}
	printf("    -> model: %u callback(s), last of %u bytes; device "
	       "register 0x%" PRIx64 ": 0x%08x -> 0x%08x (rc %d)\n", *host,
	       d->md.last_size, reg, before, after, rc);
	return ok && d->r2c_ok && d->w1c_ok;
}

/* An exit on the RAM-device scratch array: the CPU counts the accesses. */
static bool exit_scratch(struct demo *d, uint64_t gpa, uint8_t *data,
			 unsigned len, bool wr, unsigned *host)
{
	uint64_t off = gpa - VCPU_DEV_GPA;
	uint8_t *p = d->dev + off, now[8];
	bool single = (len == 1 || len == 2 || len == 4 || len == 8) &&
		      (off & (len - 1)) == 0;
	unsigned want = single ? 1 : split_pieces(off, len);
	uint64_t inside, outside;
	sig_atomic_t traps = hwbp_stray_traps;
	struct watch w;
	char hex[32];
	int rc;

	if (watch_open(&w, d->dev, VCPU_DEV_SIZE, p, len)) {
		printf("    -> cannot arm breakpoints: %s\n", strerror(errno));
		return false;
	}
	watch_start(&w);
	rc = ramdev_as_vcpu_access(d->as, gpa, data, len, wr);
	if (d->canary) /* one extra device read: the counts must show it */
		(void)ramdev_ld(p, 1);
	watch_stop(&w, &inside, &outside);
	*host = (unsigned)inside;
	ramdev_read(now, p, len);
	hexbytes(hex, sizeof(hex), now, len);
	printf("    -> bar0+0x%03" PRIx64 " now [%s]; %" PRIu64 " host "
	       "access(es) (want %u: %s), %" PRIu64 " to the bytes around "
	       "it%s\n", off, hex, inside, want,
	       single ? "one of the exit's width" : "aligned pieces, policy split",
	       outside, traps != hwbp_stray_traps ? " (stray SIGTRAP: a hit lost)"
					     : "");
	return rc == 0 && inside == want && outside == 0 &&
	       memcmp(now, data, len) == 0;
}

static bool on_mmio(struct demo *d)
{
	struct kvm_run *run = d->vm.run;
	uint64_t gpa = run->mmio.phys_addr;
	unsigned len = run->mmio.len, host = 0;
	bool wr = run->mmio.is_write, ok;
	struct step_stat *s = &d->st[d->step];
	char hex[32];
	size_t at;

	if (wr) {
		hexbytes(hex, sizeof(hex), run->mmio.data, len);
		printf("  exit MMIO gpa 0x%08" PRIx64 " size %u write value "
		       "0x%" PRIx64 " [%s]\n", gpa, len,
		       le_value(run->mmio.data, len), hex);
	} else {
		printf("  exit MMIO gpa 0x%08" PRIx64 " size %u read\n", gpa,
		       len);
	}
	if (len == 0 || len > 8 || gpa < VCPU_DEV_GPA ||
	    gpa - VCPU_DEV_GPA > VCPU_DEV_SIZE - len)
		ok = false; /* not our page: the guest went astray */
	else if (gpa - VCPU_DEV_GPA < REGS_SIZE)
		ok = exit_regs(d, gpa, run->mmio.data, len, wr, &host);
	else
		ok = exit_scratch(d, gpa, run->mmio.data, len, wr, &host);
	if (!wr)
		printf("    <- guest gets 0x%" PRIx64 "\n",
		       le_value(run->mmio.data, len));
	if (!ok)
		printf("    FAIL: this exit broke a check\n");
	at = strlen(s->sizes);
	snprintf(s->sizes + at, sizeof(s->sizes) - at, "%s%u%s",
		 at ? " " : "", len, wr ? "w" : "r");
	s->exits++;
	s->bytes += len;
	s->host += host;
	s->bad += !ok;
	return ok;
}

/* What KVM is expected to deliver per step (r/w and size per exit). */
static const char *const step_expect[NSTEPS] = {
	"", "4r 4r", "4w 4r", "1w 2w 4w 8w", "1r 2r 4r 8r", "2w 4w 8w",
	"2r 4r 8r", "1w 1w 1w 1w 1w 4w 4w 4w", "8r 8r 8w 8w",
};

/* 0 at the guest's hlt, 1 on a failure to run, 77 when the first KVM_RUN
 * already fails (KVM present but unusable, e.g. no nested VMX). */
static int run_guest(struct demo *d)
{
	struct kvm_run *run = d->vm.run;
	unsigned exits = 0;

	while (exits++ < 1000) {
		if (ioctl(d->vm.vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			printf("%s: KVM_RUN: %s\n", exits == 1 ? "SKIP" : "FAIL",
			       strerror(errno));
			return exits == 1 ? 77 : 1;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			if (run->io.port != VCPU_STEP_PORT ||
			    run->io.direction != KVM_EXIT_IO_OUT)
				break;
			d->step = *((uint8_t *)run + run->io.data_offset);
			if (d->step >= NSTEPS)
				continue; /* the last step: hlt follows */
			printf("step %u: %s\n", d->step, step_names[d->step]);
			continue;
		case KVM_EXIT_MMIO:
			if (d->step < NSTEPS)
				on_mmio(d);
			continue;
		case KVM_EXIT_HLT:
			return 0;
		default:
			break;
		}
		printf("FAIL: unexpected exit reason %u (step %u)\n",
		       run->exit_reason, d->step);
		return 1;
	}
	printf("FAIL: more than 1000 exits\n");
	return 1;
}

static int summary(struct demo *d)
{
	struct ramdev_vcpu_stats vs;
	unsigned exits = 0, host = 0, bad = 0;

	ramdev_as_vcpu_stats(d->as, &vs);
	printf("\nsummary (r/w and size of each exit as KVM delivered it):\n");
	printf("%-2s %-34s %5s %-26s %5s %s\n", "#", "guest step", "exits",
	       "exit sizes", "host", "result");
	for (unsigned i = 1; i < NSTEPS; i++) {
		struct step_stat *s = &d->st[i];
		bool ok = !s->bad && !strcmp(s->sizes, step_expect[i]);

		printf("%-2u %-34s %5u %-26s %5u %s\n", i, step_names[i],
		       s->exits, s->sizes, s->host, ok ? "ok" : "FAIL");
		if (strcmp(s->sizes, step_expect[i]))
			printf("   (expected exits %s)\n", step_expect[i]);
		exits += s->exits;
		host += s->host;
		bad += !ok;
	}
	printf("total: %u exits, %u host accesses to device memory "
	       "(%" PRIu64 " exits split by the misaligned policy)\n", exits,
	       host, vs.misaligned_split);
	printf("read-to-clear: %u guest reads of STATUS, %u model reads: %s\n",
	       d->guest_status_reads, d->md.r2c_reads,
	       d->r2c_ok && d->guest_status_reads == d->md.r2c_reads &&
	       d->guest_status_reads == 2 ? "ok" : "FAIL");
	printf("write-1-to-clear: INTR 0x%02x, guest wrote 0x0f, now 0x%02x "
	       "(%u model writes): %s\n", INTR_PENDING, reg_now(d, REG_INTR),
	       d->md.w1c_writes, d->w1c_ok && d->md.w1c_writes == 1 &&
	       reg_now(d, REG_INTR) == (INTR_PENDING & ~0x0fu) ? "ok" : "FAIL");
	printf("faults: unassigned %" PRIu64 ", spanning %" PRIu64 ", bad "
	       "size %" PRIu64 ", rejected %" PRIu64 ", mmio errors %" PRIu64
	       "\n", vs.unassigned, vs.spanning, vs.bad_size,
	       vs.misaligned_rejected, vs.mmio_errors);
	bad += !d->r2c_ok || d->guest_status_reads != d->md.r2c_reads ||
	       d->md.w1c_writes != 1 || !d->w1c_ok;
	bad += vs.unassigned + vs.spanning + vs.bad_size +
	       vs.misaligned_rejected + vs.mmio_errors != 0;
	printf("%s\n", bad ? "vcpu-demo: FAIL" : "vcpu-demo: all checks hold");
	return bad ? 1 : 0;
}

static void demo_log(void *opaque, int level, const char *msg)
{
	int saved = errno;

	(void)opaque;
	printf("    log(%d): %s\n", level, msg);
	errno = saved;
}

/* The device page: a memfd, or the first page of --bar FILE. */
static uint8_t *map_device(const char *bar)
{
	int fd = bar ? open(bar, O_RDWR | O_SYNC | O_CLOEXEC)
		     : memfd_create("ramdev-vcpu-bar0", MFD_CLOEXEC);
	void *p;

	if (fd < 0 || (!bar && ftruncate(fd, VCPU_DEV_SIZE) < 0)) {
		fprintf(stderr, "ramdev vcpu-demo: %s: %s\n",
			bar ? bar : "memfd", strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	p = mmap(NULL, VCPU_DEV_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 0);
	close(fd);
	if (p == MAP_FAILED) {
		fprintf(stderr, "ramdev vcpu-demo: mmap %s: %s\n",
			bar ? bar : "memfd", strerror(errno));
		return NULL;
	}
	return p;
}

/* RAM-device page at VCPU_DEV_GPA, the registers' MMIO region over it. */
static int build_as(struct demo *d)
{
	struct ramdev_region *bar0 = NULL, *regs = NULL;
	int rc;

	rc = ramdev_as_new(&d->as, "vcpu-demo");
	if (rc)
		return rc;
	ramdev_as_set_log(d->as, demo_log, NULL);
	rc = ramdev_region_new_ramd(&bar0, "bar0", d->dev, VCPU_DEV_SIZE);
	if (!rc) /* the default, chosen explicitly: it is the region's */
		rc = ramdev_region_set_misaligned(bar0,
						  RAMDEV_MISALIGNED_SPLIT);
	if (!rc)
		rc = ramdev_region_new_mmio(&regs, "bar0-regs", REGS_SIZE,
					    &model_ops, &d->md);
	if (!rc)
		rc = ramdev_region_add(ramdev_as_root(d->as), VCPU_DEV_GPA,
				       bar0, 0);
	if (!rc)
		rc = ramdev_region_add(ramdev_as_root(d->as), VCPU_DEV_GPA,
				       regs, 1);
	if (bar0)
		ramdev_region_unref(bar0);
	if (regs)
		ramdev_region_unref(regs);
	return rc;
}

static int demo_setup(struct demo *d, const char *bar)
{
	struct sigaction sa;
	struct watch w;
	const char *why = "";
	int rc;

	d->dev = map_device(bar);
	if (!d->dev)
		return 1;
	d->md.mem = d->dev;
	d->r2c_ok = d->w1c_ok = true;
	d->canary = getenv("RAMDEV_VCPU_DEMO_CANARY") != NULL;
	if (build_as(d)) {
		fprintf(stderr, "ramdev vcpu-demo: building the address "
			"space failed\n");
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = hwbp_on_sigtrap;
	sigaction(SIGTRAP, &sa, NULL);
	if (watch_open(&w, d->dev, VCPU_DEV_SIZE, d->dev + SCRATCH, 8)) {
		printf("SKIP: perf_event_open refuses hardware breakpoints "
		       "(%s): the device-side counts cannot be measured\n",
		       strerror(errno));
		return 77;
	}
	watch_close(&w);
	rc = vcpu_vm_create(&d->vm, &why);
	if (rc) {
		printf("SKIP: /dev/kvm missing or unusable: %s: %s\n", why,
		       strerror(-rc));
		return 77;
	}
	/* The "device" raised these before the guest runs. */
	ramdev_st(d->dev + REG_STATUS, 4, STATUS_PENDING);
	ramdev_st(d->dev + REG_INTR, 4, INTR_PENDING);
	return 0;
}

int vcpu_demo_run(const char *bar)
{
	struct demo *d = calloc(1, sizeof(*d));
	int rc;

	if (!d)
		return 1;
	d->vm.kvm = d->vm.vm = d->vm.vcpu = -1;
	rc = demo_setup(d, bar);
	if (rc == 0) {
		printf("guest: 64-bit long mode, %zu bytes of code at gpa "
		       "0x%x; device page at gpa 0x%x (%s), in no memslot\n",
		       (size_t)(vcpu_guest_end - vcpu_guest_start),
		       VCPU_CODE_GPA, VCPU_DEV_GPA, bar ? bar : "memfd");
		ramdev_as_dump(d->as, stdout);
		rc = run_guest(d);
		if (rc == 0)
			rc = summary(d);
	}
	fflush(stdout);
	vcpu_vm_destroy(&d->vm);
	if (d->as)
		ramdev_as_free(d->as);
	if (d->dev)
		munmap(d->dev, VCPU_DEV_SIZE);
	free(d);
	return rc;
}
