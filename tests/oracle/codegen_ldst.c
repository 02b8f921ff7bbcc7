// SPDX-License-Identifier: MIT
/*
 * Out-of-line wrappers around the inline single-access helpers, compiled
 * with -O2 -DNDEBUG (the release shape: the debug asserts add compare and
 * branch paths, never device accesses), so check_codegen.py can disassemble
 * each one and find exactly one load or store of the right width (S1).
 */
#include "ramdev/access.h"

#define LDST(n)                                                                \
	uint64_t ld##n(const void *p);                                         \
	void st##n(void *p, uint64_t v);                                       \
	uint64_t ld##n(const void *p) { return ramdev_ld(p, n); }              \
	void st##n(void *p, uint64_t v) { ramdev_st(p, n, v); }

#define ENDIAN(order, bits)                                                    \
	uint##bits##_t ld_##order##bits(const void *p);                        \
	void st_##order##bits(void *p, uint##bits##_t v);                      \
	uint##bits##_t ld_##order##bits(const void *p)                         \
	{                                                                      \
		return ramdev_ld_##order##bits(p);                             \
	}                                                                      \
	void st_##order##bits(void *p, uint##bits##_t v)                       \
	{                                                                      \
		ramdev_st_##order##bits(p, v);                                 \
	}

LDST(1)
LDST(2)
LDST(4)
LDST(8)
ENDIAN(le, 16)
ENDIAN(le, 32)
ENDIAN(le, 64)
ENDIAN(be, 16)
ENDIAN(be, 32)
ENDIAN(be, 64)
