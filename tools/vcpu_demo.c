// SPDX-License-Identifier: MIT
/*
 * ramdev vcpu-demo: a real KVM vCPU (raw /dev/kvm ioctls, no QEMU) whose
 * loads and stores to a RAM-device region trap to this process, which hands
 * each KVM_EXIT_MMIO to ramdev_as_vcpu_access() and checks what reached
 * device memory.
 *
 * The machine: 2 MiB of guest RAM (the only memslot) with identity page
 * tables and the guest program (tools/vcpu_guest.S), and one 4 KiB device
 * page at DEV_GPA, outside the memslots, so every access to it exits.  The
 * page is a memfd (or --bar FILE, a sysfs resourceN) registered as a
 * RAM-device region; a 16-byte MMIO region lies over its first bytes.
 *
 * Why two kinds: the demo device has a read-to-clear STATUS register and a
 * write-1-to-clear INTR register.  Plain memory has no such side effects,
 * and a real BAR implements them in the device, behind the one exact access
 * the VMM forwards.  So the registers are the device model's MMIO callbacks
 * (they count every call and its width, and keep the register state in the
 * device page with one ramdev_ld/ramdev_st of the register's width), while
 * the scratch array behind them is RAM-device memory that only the access
 * core touches.  Those accesses are counted by the CPU itself: hardware
 * breakpoints (perf_event_open) on the 8-byte blocks the exit covers and on
 * the bytes just outside it, armed only around the ramdev_as_vcpu_access()
 * call.
 *
 * Long mode rather than 32-bit protected mode: a 64-bit guest issues 8-byte
 * loads and stores from ordinary registers (mov %rax), which is what a
 * driver does; in 32-bit mode an 8-byte access needs MMX/SSE tricks.  The
 * cost is three pages of identity page tables (2 MiB pages, first 1 GiB).
 *
 * Exit: 0 every check held; 1 a check failed; 2 usage; 77 /dev/kvm or the
 * hardware breakpoints are missing or unusable (the reason is printed).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "commands.h"

#if defined(__x86_64__) && defined(__linux__)
#include "vcpu_demo.h"

int cmd_vcpu_demo(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bar", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *bar = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'b') {
			bar = optarg;
		} else {
			fprintf(c == 'h' ? stdout : stderr,
				"usage: ramdev vcpu-demo [--bar /sys/bus/pci/"
				"devices/.../resourceN]\n"
				"exit: 0 all checks hold, 1 a check failed, "
				"77 KVM or hardware breakpoints unusable\n"
				"--bar: the guest WRITES to the BAR's first "
				"page: only use a BAR you own\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "ramdev vcpu-demo: unexpected argument '%s'\n",
			argv[optind]);
		return 2;
	}
	return vcpu_demo_run(bar);
}

#else

int cmd_vcpu_demo(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("SKIP: ramdev vcpu-demo needs an x86_64 Linux host (KVM, an "
	       "x86 guest program)\n");
	return 77;
}

#endif
