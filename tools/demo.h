/* SPDX-License-Identifier: MIT */
/*
 * The demo machine, shared by `ramdev demo` and `ramdev mtree`: guest RAM
 * (memfd) plus a RAM-device region standing in for a GPU BAR hot-added as
 * guest memory (memfd, or an mmap of a real /sys/bus/pci/.../resourceN).
 */
#ifndef RAMDEV_TOOLS_DEMO_H
#define RAMDEV_TOOLS_DEMO_H

#include <stdint.h>

#include "ramdev/as.h"

#include "demo_args.h"

#define DEMO_RAM_SIZE (48ull << 20)
#define DEMO_BAR_SIZE (32ull << 20)
#define DEMO_BAR_GPA 0x1000000000ull /* 64 GiB, above RAM like a 64-bit BAR */
#define DEMO_BAR_NAME "0000:3b:00.0 BAR 4"
/* The largest --bar the demo accepts: 1 TiB, beyond any PCI BAR the demo
 * stands in for; a larger file is a mistake (a sparse image given as the
 * BAR), and the demo maps the file whole. */
#define DEMO_BAR_MAX (1ull << 40)

/* The demo's exit statuses, for `ramdev demo --help` and `ramdev help`
 * (2 and 4-9, for bad arguments, are shared by every command). */
#define DEMO_EXIT_HELP                                                        \
	"exit status:\n"                                                       \
	"  0  the direct policy completed every request, the image verifies\n" \
	"  1  it did not, or a run could not be set up (the last line says\n"  \
	"     why)\n"                                                          \
	RAMDEV_EXIT_USAGE_HELP                                                 \
	"  3  the direct policy was not run (--policy qemu-bounce): the\n"     \
	"     failure is shown, nothing is verified\n"                         \
	RAMDEV_EXIT_ARGS_HELP

struct demo_machine {
	struct ramdev_as *as;
	uint8_t *ram;      /* guest RAM at GPA 0 */
	uint64_t ram_size;
	uint8_t *bar;      /* device memory: access core only */
	uint64_t bar_size;
	uint64_t bar_gpa;
	const char *bar_path; /* NULL: memfd */
};

/* Build the machine; @bar_path NULL for a memfd BAR; @bar_width the BAR's
 * DMA width (ramdev_region_set_dma_width), 0 for the default.  0 or
 * -errno. */
int demo_machine_new(struct demo_machine **out, const char *bar_path,
		     unsigned bar_width);
void demo_machine_free(struct demo_machine *m);

#endif
