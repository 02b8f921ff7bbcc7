// SPDX-License-Identifier: MIT
/*
 * Alignment canary for scripts/test-cross.sh: one deliberately misaligned
 * 4-byte volatile load.  On a strict-alignment host (sparc64, also under
 * qemu-user) it must die with SIGBUS; the script checks that, so a passing
 * cross run there proves a misaligned device access would have been caught.
 *
 * Exit: killed by SIGBUS on strict-alignment hosts; 0 (and the value
 * printed) where the host tolerates misaligned loads.
 */
#include <stdint.h>
#include <stdio.h>

int main(void)
{
	static _Alignas(8) uint8_t buf[16] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	/* volatile pointer: the compiler cannot prove the alignment and
	 * turn this into byte loads. */
	uint8_t *volatile base = buf;
	const volatile uint32_t *p = (const volatile uint32_t *)(base + 1);
	uint32_t v = *p;

	printf("misaligned_canary: loaded 0x%08x without a trap\n", (unsigned)v);
	return 0;
}
