// SPDX-License-Identifier: MIT
/*
 * A program built the way a user builds one: only the installed headers and
 * `pkg-config --cflags --libs ramdev`.  It touches one function of every
 * layer, so a header that is not installed, a symbol that is not exported
 * or a pkg-config file that forgets a dependency fails the build or the run.
 */
#include <stdio.h>
#include <string.h>

#include <ramdev/access.h>
#include <ramdev/as.h>
#include <ramdev/blk.h>
#include <ramdev/dma.h>
#include <ramdev/virtq.h>

int main(void)
{
	static _Alignas(64) unsigned char dev[64], ram[64];
	struct ramdev_region *r;
	struct ramdev_dma *dma;
	struct ramdev_as *as;
	unsigned char back[8];

	memset(ram, 0x5a, sizeof(ram));
	ramdev_write(dev, ram, sizeof(dev));
	if (ramdev_ld_le32(dev) != 0x5a5a5a5au)
		return 1;
	if (ramdev_as_new(&as, "consumer") ||
	    ramdev_region_new_ramd(&r, "bar", dev, sizeof(dev)) ||
	    ramdev_region_add(ramdev_as_root(as), 0x1000, r, 0) ||
	    ramdev_dma_new(&dma, as, NULL))
		return 2;
	if (ramdev_dma_read(dma, 0x1000, back, sizeof(back)) || back[7] != 0x5a)
		return 3;
	printf("consumer: %s, %s, wide limit %u\n",
	       ramdev_virtq_strerror(RAMDEV_VIRTQ_LOOP),
	       ramdev_blk_strerror(RAMDEV_BLK_RANGE), ramdev_wide_limit());
	ramdev_dma_free(dma);
	ramdev_region_unref(r);
	ramdev_as_free(as);
	return 0;
}
