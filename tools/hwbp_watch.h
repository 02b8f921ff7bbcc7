/* SPDX-License-Identifier: MIT */
/*
 * Hardware breakpoints on device bytes (perf_event_open), counting the
 * instructions that touch them while one call runs: the oracle of
 * tests/oracle/hwbp_count.c, narrowed to one access.  Used by
 * `ramdev vcpu-demo` (tools/vcpu_run.c) and tests/test_as_vcpu.c; the
 * event set-up and the stray-SIGTRAP count also by hwbp_count.c.
 *
 * A watch covers an access [p, p + len) of at most 8 bytes with the (one or
 * two) naturally aligned 8-byte blocks it touches, plus the byte just below
 * and the byte just above it when they lie in the page: four events, x86's
 * four debug registers, in one perf group.  A read or write by one
 * instruction counts once per watched range it touches; x86 has no
 * read-only breakpoints, so each event counts loads and stores.  The blocks'
 * counts add up to the number of device accesses, since an aligned access
 * of at most 8 bytes never touches two blocks; the outside bytes count any
 * widening.
 *
 * Under a hypervisor a hit is now and then delivered as SIGTRAP instead of
 * being counted (see hwbp_count.c); install hwbp_on_sigtrap and compare
 * hwbp_stray_traps around the call to tell a lost hit from a real one.
 */
#ifndef RAMDEV_TOOLS_HWBP_WATCH_H
#define RAMDEV_TOOLS_HWBP_WATCH_H

#include <errno.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile sig_atomic_t hwbp_stray_traps;

static inline void hwbp_on_sigtrap(int sig)
{
	(void)sig;
	hwbp_stray_traps++;
}

struct watch {
	int fd[4];
	unsigned n, nblocks;
};

/*
 * One breakpoint event on [addr, addr + len) of @type (HW_BREAKPOINT_RW or
 * _W), user space only, read as a group; @group < 0 starts a new group
 * (disabled until enabled), else joins it.  The fd, or -1 with errno set.
 */
static inline int hwbp_event(const void *addr, unsigned type, unsigned len,
			     int group)
{
	struct perf_event_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.type = PERF_TYPE_BREAKPOINT;
	attr.size = sizeof(attr);
	attr.bp_type = type;
	attr.bp_addr = (uintptr_t)addr;
	attr.bp_len = len;
	attr.disabled = group < 0;
	attr.exclude_kernel = 1;
	attr.exclude_hv = 1;
	attr.read_format = PERF_FORMAT_GROUP;
	return (int)syscall(SYS_perf_event_open, &attr, 0, -1, group, 0);
}

static inline void watch_close(struct watch *w)
{
	while (w->n)
		close(w->fd[--w->n]);
}

static inline int watch_add(struct watch *w, const void *addr, unsigned len)
{
	int fd = hwbp_event(addr, HW_BREAKPOINT_RW, len, w->n ? w->fd[0] : -1);

	if (fd < 0)
		return -errno;
	w->fd[w->n++] = fd;
	return 0;
}

/* Watch [p, p + len) (len 1..8) inside [page, page + page_size).
 * Returns 0 or -errno (errno set too) from perf_event_open. */
static inline int watch_open(struct watch *w, uint8_t *page, size_t page_size,
			     uint8_t *p, unsigned len)
{
	uintptr_t first = (uintptr_t)p & ~(uintptr_t)7;
	uintptr_t last = ((uintptr_t)p + len - 1) & ~(uintptr_t)7;
	int rc;

	w->n = 0;
	rc = watch_add(w, (void *)first, HW_BREAKPOINT_LEN_8);
	if (!rc && last != first)
		rc = watch_add(w, (void *)last, HW_BREAKPOINT_LEN_8);
	w->nblocks = w->n;
	if (!rc && p > page)
		rc = watch_add(w, p - 1, HW_BREAKPOINT_LEN_1);
	if (!rc && p + len < page + page_size)
		rc = watch_add(w, p + len, HW_BREAKPOINT_LEN_1);
	if (rc) {
		watch_close(w);
		errno = -rc;
	}
	return rc;
}

static inline void watch_start(const struct watch *w)
{
	if (ioctl(w->fd[0], PERF_EVENT_IOC_RESET, PERF_IOC_FLAG_GROUP) ||
	    ioctl(w->fd[0], PERF_EVENT_IOC_ENABLE, PERF_IOC_FLAG_GROUP)) {
		perror("hwbp: enabling breakpoints");
		exit(1);
	}
}

/* Stop, read and close: accesses to the blocks, to the outside bytes. */
static inline void watch_stop(struct watch *w, uint64_t *inside,
			      uint64_t *outside)
{
	uint64_t buf[5];
	ssize_t want = (ssize_t)((w->n + 1) * sizeof(uint64_t));

	if (ioctl(w->fd[0], PERF_EVENT_IOC_DISABLE, PERF_IOC_FLAG_GROUP) ||
	    read(w->fd[0], buf, sizeof(buf)) != want || buf[0] != w->n) {
		perror("hwbp: reading breakpoint counts");
		exit(1);
	}
	*inside = *outside = 0;
	for (unsigned i = 0; i < w->n; i++)
		*(i < w->nblocks ? inside : outside) += buf[1 + i];
	watch_close(w);
}

#endif
