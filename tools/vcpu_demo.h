/* SPDX-License-Identifier: MIT */
/* ramdev vcpu-demo: the KVM machine (vcpu_kvm.c) and the demo around it
 * (vcpu_demo.c).  x86_64 Linux only. */
#ifndef RAMDEV_TOOLS_VCPU_DEMO_H
#define RAMDEV_TOOLS_VCPU_DEMO_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>

/* Guest physical layout. */
#define VCPU_RAM_SIZE 0x200000u	  /* the only memslot: [0, 2 MiB) */
#define VCPU_PT_GPA 0x1000u	  /* PML4, PDPT, PD: three pages */
#define VCPU_CODE_GPA 0x10000u	  /* the guest program */
#define VCPU_DEV_GPA 0x10000000u  /* the device page, in no memslot */
#define VCPU_DEV_SIZE 0x1000u
#define VCPU_STEP_PORT 0xe9	  /* the guest announces its steps here */

struct vcpu_vm {
	int kvm, vm, vcpu;
	uint8_t *ram;
	struct kvm_run *run;
	size_t run_size;
};

/* The guest program (tools/vcpu_guest.S): bytes to copy, not to call. */
extern const uint8_t vcpu_guest_start[], vcpu_guest_end[];

/*
 * vcpu_vm_create - a VM with guest RAM, the guest program, identity page
 * tables and one vCPU in 64-bit mode at its first instruction, %rbx =
 * VCPU_DEV_GPA.  Returns 0; -errno with @why set (a static string naming
 * the step) when KVM is missing or refuses.
 */
int vcpu_vm_create(struct vcpu_vm *m, const char **why);
void vcpu_vm_destroy(struct vcpu_vm *m);

int vcpu_demo_run(const char *bar);

#endif
