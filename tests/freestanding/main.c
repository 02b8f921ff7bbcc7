// SPDX-License-Identifier: MIT
/*
 * The access core built freestanding: no libc, no start files, only
 * access.h, lib/access.c, this file and the compiler's runtime (libgcc).
 * _start calls main and exits with its status through a raw syscall.
 *
 * The stubs below stand in for what a compiler may emit on its own
 * (memcpy, memmove, memset): the access core must call none of them, so
 * each counts its calls and main fails when any was called.  Nothing here
 * uses them either: the checks below touch memory with volatile loops.
 */
#include <stddef.h>
#include <stdint.h>

#include "ramdev/access.h"

#if !defined(__x86_64__) && !defined(__aarch64__)
#error "freestanding test: x86_64 or aarch64 only (check.sh skips others)"
#endif

int main(void);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);

static volatile unsigned libc_calls;

/* Byte loops through volatile pointers, so they cannot become calls of
 * themselves. */
void *memcpy(void *dst, const void *src, size_t n)
{
	volatile uint8_t *d = dst;
	const volatile uint8_t *s = src;

	libc_calls++;
	for (size_t i = 0; i < n; i++)
		d[i] = s[i];
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	volatile uint8_t *d = dst;
	const volatile uint8_t *s = src;

	libc_calls++;
	if (d < s)
		for (size_t i = 0; i < n; i++)
			d[i] = s[i];
	else
		for (size_t i = n; i-- > 0;)
			d[i] = s[i];
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	volatile uint8_t *d = dst;

	libc_calls++;
	for (size_t i = 0; i < n; i++)
		d[i] = (uint8_t)c;
	return dst;
}

static long sys3(long nr, long a, long b, long c)
{
	long ret;
#if defined(__x86_64__)
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
#else
	register long x8 __asm__("x8") = nr;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;

	__asm__ volatile("svc #0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2)
			 : "memory");
	ret = x0;
#endif
	return ret;
}

#if defined(__x86_64__)
#define NR_WRITE 1
#define NR_EXIT_GROUP 231
__asm__(".text\n.globl _start\n_start:\n"
	"\txor %ebp, %ebp\n\tand $-16, %rsp\n\tcall main\n"
	"\tmov %eax, %edi\n\tmov $231, %eax\n\tsyscall\n\thlt\n");
#else
#define NR_WRITE 64
#define NR_EXIT_GROUP 94
__asm__(".text\n.globl _start\n_start:\n"
	"\tmov x29, #0\n\tbl main\n\tmov x8, #94\n\tsvc #0\n");
#endif

static void say(const char *msg)
{
	size_t n = 0;

	while (msg[n])
		n++;
	(void)sys3(NR_WRITE, 1, (long)msg, (long)n);
}

/* Large enough for the non-temporal body (4 MiB and up on x86_64). */
#define BIG (5u << 20)
static _Alignas(64) uint8_t dev[BIG + 128], ram[BIG + 128];

static uint8_t pattern(size_t i, unsigned seed)
{
	return (uint8_t)(i * 131u + seed * 7u + (i >> 8));
}

static void fill(volatile uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = pattern(i, seed);
}

static int same(const volatile uint8_t *a, const volatile uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

/* Write then read back spans of every size up to 80 at every offset to 16,
 * then one large span (the non-temporal bodies on x86_64). */
static int check_bulk(void)
{
	static const unsigned widths[] = { 1, 8, 16, 64 };

	for (size_t off = 0; off < 16; off++) {
		for (size_t n = 0; n <= 80; n++) {
			for (unsigned w = 0; w < 4; w++) {
				fill(ram, n, (unsigned)(off + n + w));
				ramdev_write_wide(dev + off, ram, n, widths[w]);
				if (!same(dev + off, ram, n))
					return 1;
				fill(ram, n, 0);
				ramdev_read_wide(ram, dev + off, n, widths[w]);
				if (!same(dev + off, ram, n))
					return 2;
			}
			fill(ram, n, 3);
			ramdev_write(dev + off, ram, n);
			ramdev_read(ram + 4096, dev + off, n);
			if (!same(ram + 4096, ram, n))
				return 3;
		}
	}
	fill(ram, BIG, 9);
	ramdev_write(dev + 3, ram, BIG);
	if (!same(dev + 3, ram, BIG))
		return 4;
	fill(ram, BIG, 5);
	ramdev_read(ram, dev + 3, BIG);
	if (!same(dev + 3, ram, BIG))
		return 5;
	return 0;
}

static int check_copy_move(void)
{
	fill(dev, 256, 1);
	ramdev_copy(dev + 512 + 3, dev + 5, 200);
	if (!same(dev + 512 + 3, dev + 5, 200))
		return 6;
	fill(ram, 256, 2);
	fill(dev, 256, 2);
	ramdev_move(dev + 7, dev, 200); /* overlapping, dst > src */
	if (!same(dev + 7, ram, 200))
		return 7;
	return 0;
}

static int check_ldst(void)
{
	ramdev_st(dev, 8, 0x1122334455667788ull);
	if (ramdev_ld(dev, 4) != (dev[0] == 0x88 ? 0x55667788u : 0x11223344u))
		return 8;
	ramdev_st_be32(dev + 8, 0xa1b2c3d4u);
	if (dev[8] != 0xa1 || dev[11] != 0xd4 ||
	    ramdev_ld_be32(dev + 8) != 0xa1b2c3d4u)
		return 9;
	ramdev_st_le16(dev + 16, 0x1234);
	if (dev[16] != 0x34 || ramdev_ld_le16(dev + 16) != 0x1234)
		return 10;
	return 0;
}

int main(void)
{
	unsigned limit = ramdev_wide_limit();
	int rc;

	if (limit < 8 || limit > 64 || (limit & (limit - 1)))
		rc = 11;
	else if ((rc = check_ldst()) == 0 && (rc = check_bulk()) == 0)
		rc = check_copy_move();
	if (rc == 0 && libc_calls)
		rc = 12;
	say(rc == 0 ? "freestanding: access core linked without libc and "
		      "ran clean, no memcpy/memmove/memset call\n"
		    : "freestanding: FAIL (see the status for the check)\n");
	return rc;
}
