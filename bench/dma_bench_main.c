// SPDX-License-Identifier: MIT
/* Stand-alone runner for the DMA benchmark until `ramdev bench` calls it. */
#include "bench_dma.h"

int main(int argc, char **argv)
{
	return bench_dma_main(argc, argv);
}
