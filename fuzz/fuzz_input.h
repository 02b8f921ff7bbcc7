/* SPDX-License-Identifier: MIT */
/*
 * Reading a fuzz input as a stream of little-endian fields, shared by the
 * fuzz targets: past the end every field reads as zero, so any input
 * decodes to some sequence of operations.
 */
#ifndef RAMDEV_FUZZ_INPUT_H
#define RAMDEV_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

struct input {
	const uint8_t *p;
	size_t left;
};

static inline uint8_t get8(struct input *in)
{
	uint8_t v = 0;

	if (in->left) {
		v = *in->p++;
		in->left--;
	}
	return v;
}

/* Two statements: the operands of | are unsequenced, and the low byte
 * must be read first. */
static inline uint16_t get16(struct input *in)
{
	uint16_t lo = get8(in);

	return (uint16_t)(lo | get8(in) << 8);
}

static inline uint32_t get32(struct input *in)
{
	uint32_t lo = get16(in);

	return lo | (uint32_t)get16(in) << 16;
}

#endif
