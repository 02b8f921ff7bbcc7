/* rdguest: the integration test's helper inside the Linux guest.
 *
 * Static, libc only, raw syscalls for the NUMA calls (the initramfs has no
 * libnuma).  It writes and/or verifies a self-describing pattern on a block
 * device with O_DIRECT, from buffers it places where the case wants them:
 * bound to one NUMA node (mbind), and checked to sit where they must (the
 * node of every page, and with --min-phys its physical address from
 * /proc/self/pagemap, so case c proves the I/O went through hot-plugged RAM).
 *
 * Pattern: each 512-byte sector at LBA L carries seed (le64), L (le64), then
 * byte i = (L * 31 + seed * 17 + i) & 0xff.  tests/integration/run.py builds
 * the same bytes on the host.
 *
 * Usage: rdguest write|verify|both DEV OFF_MIB LEN_MIB CHUNK_KIB SEED
 *                [--node N] [--min-phys HEXADDR] [--jobs N] [--progress]
 *        rdguest zeroout|discard DEV OFF_MIB LEN_MIB
 * The second form issues BLKZEROOUT or BLKDISCARD: requests that reach the
 * device even when the guest kernel marks the disk read-only (Linux 6.1
 * refuses write(2) on such a disk itself, so only these test the back end's
 * own read-only check).
 * Prints "rdguest: ..." lines; the last one is "rdguest: OK ..." or
 * "rdguest: FAIL ...".  Exit 0 on OK, 1 on FAIL.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define SECTOR 512u
#define PAGE 4096u
#define MPOL_BIND 2
#define MPOL_F_NODE (1u << 0)
#define MPOL_F_ADDR (1u << 1)
#define MPOL_MF_STRICT (1u << 0)
#define MPOL_MF_MOVE (1u << 1)

struct opts {
	const char *mode, *dev;
	uint64_t off, len, chunk, seed, min_phys;
	int node, jobs, progress;
};

/* 0, 1, ..., 255 three times: a sector's body is the window at its start
 * byte, so fill and check are memcpy and memcmp (fast under TCG too). */
static uint8_t ramp[768];

static void fill(uint8_t *buf, uint64_t lba, size_t n, uint64_t seed)
{
	for (size_t s = 0; s < n / SECTOR; s++, lba++) {
		uint8_t *p = buf + s * SECTOR;
		memcpy(p, &seed, 8);
		memcpy(p + 8, &lba, 8);
		memcpy(p + 16, ramp + (uint8_t)(lba * 31 + seed * 17 + 16),
		       SECTOR - 16);
	}
}

/* Returns the index of the first bad sector, or -1. */
static long check(const uint8_t *buf, uint64_t lba, size_t n, uint64_t seed)
{
	for (size_t s = 0; s < n / SECTOR; s++) {
		uint8_t want[SECTOR];
		fill(want, lba + s, SECTOR, seed);
		if (memcmp(buf + s * SECTOR, want, SECTOR))
			return (long)s;
	}
	return -1;
}

/* Map the buffer, bind it to o->node, fault it in, lock it and check where
 * every page landed. */
static uint8_t *buffer(const struct opts *o)
{
	uint8_t *buf = mmap(NULL, o->chunk, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		printf("rdguest: FAIL mmap: %s\n", strerror(errno));
		return NULL;
	}
	if (o->node >= 0) {
		unsigned long mask = 1ul << o->node;
		if (syscall(SYS_mbind, buf, o->chunk, MPOL_BIND, &mask,
			    sizeof(mask) * 8, MPOL_MF_STRICT | MPOL_MF_MOVE)) {
			printf("rdguest: FAIL mbind node %d: %s\n", o->node,
			       strerror(errno));
			return NULL;
		}
	}
	memset(buf, 0xa5, o->chunk);
	if (mlock(buf, o->chunk))
		printf("rdguest: mlock: %s (continuing)\n", strerror(errno));
	int pm = o->min_phys ? open("/proc/self/pagemap", O_RDONLY) : -1;
	uint64_t lo = UINT64_MAX, hi = 0;
	for (uint64_t a = 0; a < o->chunk; a += PAGE) {
		if (o->node >= 0) {
			int node = -1;
			if (syscall(SYS_get_mempolicy, &node, NULL, 0, buf + a,
				    MPOL_F_NODE | MPOL_F_ADDR) || node != o->node) {
				printf("rdguest: FAIL page +0x%" PRIx64
				       " on node %d, want %d\n", a, node, o->node);
				return NULL;
			}
		}
		if (pm >= 0) {
			uint64_t e = 0, va = (uintptr_t)(buf + a);
			if (pread(pm, &e, 8, (off_t)(va / PAGE * 8)) != 8 ||
			    !(e >> 63)) {
				printf("rdguest: FAIL pagemap +0x%" PRIx64 "\n", a);
				return NULL;
			}
			uint64_t pa = (e & ((1ull << 55) - 1)) * PAGE;
			lo = pa < lo ? pa : lo;
			hi = pa > hi ? pa : hi;
		}
	}
	if (pm >= 0) {
		close(pm);
		printf("rdguest: buffer phys 0x%" PRIx64 "..0x%" PRIx64 "\n",
		       lo, hi + PAGE - 1);
		if (lo < o->min_phys) {
			printf("rdguest: FAIL buffer page at phys 0x%" PRIx64
			       " below 0x%" PRIx64 "\n", lo, o->min_phys);
			return NULL;
		}
	}
	return buf;
}

/* One job: chunks job, job + jobs, ...  Returns 0 or -1 (message printed). */
static int run_job(const struct opts *o, int job, int write)
{
	int fd = open(o->dev, (write ? O_RDWR : O_RDONLY) | O_DIRECT);
	if (fd < 0) {
		printf("rdguest: FAIL open %s: %s\n", o->dev, strerror(errno));
		return -1;
	}
	uint8_t *buf = buffer(o);
	if (!buf)
		return -1;
	uint64_t nchunks = o->len / o->chunk;
	for (uint64_t c = (uint64_t)job; c < nchunks; c += (uint64_t)o->jobs) {
		uint64_t pos = o->off + c * o->chunk;
		ssize_t r;
		if (write) {
			fill(buf, pos / SECTOR, o->chunk, o->seed);
			r = pwrite(fd, buf, o->chunk, (off_t)pos);
		} else {
			r = pread(fd, buf, o->chunk, (off_t)pos);
		}
		if (r != (ssize_t)o->chunk) {
			printf("rdguest: FAIL %s at 0x%" PRIx64 ": %s\n",
			       write ? "pwrite" : "pread", pos,
			       r < 0 ? strerror(errno) : "short");
			return -1;
		}
		long bad = write ? -1 : check(buf, pos / SECTOR, o->chunk,
					      o->seed);
		if (bad >= 0) {
			printf("rdguest: FAIL data at sector 0x%" PRIx64 "\n",
			       pos / SECTOR + (uint64_t)bad);
			return -1;
		}
		if (o->progress && job == 0 && (c / (uint64_t)o->jobs) % 16 == 15)
			printf("rdguest: progress %s 0x%" PRIx64 "\n",
			       write ? "write" : "read", pos);
	}
	if (write && fdatasync(fd)) {
		printf("rdguest: FAIL fdatasync: %s\n", strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

/* Run the jobs in child processes so several requests are in flight. */
static int run(const struct opts *o, int write)
{
	if (o->jobs == 1)
		return run_job(o, 0, write);
	pid_t pids[64];
	for (int j = 0; j < o->jobs; j++) {
		pids[j] = fork();
		if (pids[j] == 0) {
			int r = run_job(o, j, write);
			fflush(stdout);
			_exit(r ? 1 : 0);
		}
	}
	int rc = 0;
	for (int j = 0; j < o->jobs; j++) {
		int st;
		if (pids[j] < 0 || waitpid(pids[j], &st, 0) < 0 ||
		    !WIFEXITED(st) || WEXITSTATUS(st))
			rc = -1;
	}
	return rc;
}

static int parse(int argc, char **argv, struct opts *o)
{
	if (argc < 7)
		return -1;
	memset(o, 0, sizeof(*o));
	o->mode = argv[1];
	o->dev = argv[2];
	o->off = strtoull(argv[3], NULL, 0) << 20;
	o->len = strtoull(argv[4], NULL, 0) << 20;
	o->chunk = strtoull(argv[5], NULL, 0) << 10;
	o->seed = strtoull(argv[6], NULL, 0);
	o->node = -1;
	o->jobs = 1;
	for (int i = 7; i < argc; i++) {
		if (!strcmp(argv[i], "--node") && i + 1 < argc)
			o->node = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--min-phys") && i + 1 < argc)
			o->min_phys = strtoull(argv[++i], NULL, 16);
		else if (!strcmp(argv[i], "--jobs") && i + 1 < argc)
			o->jobs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--progress"))
			o->progress = 1;
		else
			return -1;
	}
	if (!o->chunk || o->chunk % PAGE || o->len % o->chunk ||
	    o->jobs < 1 || o->jobs > 64 || o->node > 63)
		return -1;
	return 0;
}

/* BLKZEROOUT / BLKDISCARD over [off, off + len). */
static int range_ioctl(int argc, char **argv)
{
	int zero = !strcmp(argv[1], "zeroout");
	uint64_t r[2] = { strtoull(argv[3], NULL, 0) << 20,
			  strtoull(argv[4], NULL, 0) << 20 };
	int fd = open(argv[2], O_RDWR);
	if (argc != 5 || fd < 0) {
		printf("rdguest: FAIL open %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	if (ioctl(fd, zero ? BLKZEROOUT : BLKDISCARD, r)) {
		printf("rdguest: FAIL %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	printf("rdguest: OK %s %s\n", argv[1], argv[2]);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (unsigned i = 0; i < sizeof(ramp); i++)
		ramp[i] = (uint8_t)i;
	if (argc >= 5 && (!strcmp(argv[1], "zeroout") ||
			  !strcmp(argv[1], "discard")))
		return range_ioctl(argc, argv);
	if (parse(argc, argv, &o)) {
		fprintf(stderr, "usage: rdguest write|verify|both DEV OFF_MIB "
			"LEN_MIB CHUNK_KIB SEED [--node N] [--min-phys HEX] "
			"[--jobs N] [--progress]\n");
		return 2;
	}
	int w = !strcmp(o.mode, "write") || !strcmp(o.mode, "both");
	int v = !strcmp(o.mode, "verify") || !strcmp(o.mode, "both");
	if ((w && run(&o, 1)) || (v && run(&o, 0))) {
		printf("rdguest: FAIL %s %s\n", o.mode, o.dev);
		return 1;
	}
	printf("rdguest: OK %s %s bytes 0x%" PRIx64 " chunk 0x%" PRIx64 "\n",
	       o.mode, o.dev, o.len, o.chunk);
	return 0;
}
