/* SPDX-License-Identifier: MIT */
/*
 * Address-space private header: host-order values to and from 1, 2, 4 or
 * 8 bytes of ordinary memory (dispatch.c, vcpu.c).
 */
#ifndef RAMDEV_AS_BYTES_H
#define RAMDEV_AS_BYTES_H

#include <stdint.h>
#include <string.h>

/* Host-order value <-> @size (1, 2, 4 or 8) bytes of ordinary memory: the
 * values ramdev_ld/st take and return, to and from a caller's buffer
 * (dispatch.c, vcpu.c). */
static inline uint64_t ramdev_as_bytes_ld(const void *p, unsigned size)
{
	uint8_t b1;
	uint16_t b2;
	uint32_t b4;
	uint64_t b8;

	switch (size) {
	case 1: memcpy(&b1, p, 1); return b1;
	case 2: memcpy(&b2, p, 2); return b2;
	case 4: memcpy(&b4, p, 4); return b4;
	default: memcpy(&b8, p, 8); return b8;
	}
}

static inline void ramdev_as_bytes_st(void *p, unsigned size, uint64_t val)
{
	uint8_t b1 = (uint8_t)val;
	uint16_t b2 = (uint16_t)val;
	uint32_t b4 = (uint32_t)val;

	switch (size) {
	case 1: memcpy(p, &b1, 1); break;
	case 2: memcpy(p, &b2, 2); break;
	case 4: memcpy(p, &b4, 4); break;
	default: memcpy(p, &val, 8); break;
	}
}

#endif /* RAMDEV_AS_BYTES_H */
