// SPDX-License-Identifier: MIT
/*
 * The KVM side of `ramdev vcpu-demo`: a VM made with the raw ioctls of
 * Documentation/virt/kvm/api.rst (no QEMU), one vCPU put straight into
 * 64-bit long mode: paging on with identity-mapped 2 MiB pages for the
 * first 1 GiB, flat segments, SSE enabled (CR4.OSFXSR) so the guest's
 * movdqu is legal.  No GDT or IDT is needed: KVM_SET_SREGS loads the hidden
 * segment state directly, and an exception would end the run as a triple
 * fault (KVM_EXIT_SHUTDOWN), which the demo reports.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vcpu_demo.h"

/* Page-table entry bits (Intel SDM vol. 3, 4.5). */
#define PTE_P 0x1ull
#define PTE_RW 0x2ull
#define PTE_PS 0x80ull /* in a PD entry: a 2 MiB page */

#define CR0_PE 0x1ull
#define CR0_MP 0x2ull
#define CR0_ET 0x10ull
#define CR0_NE 0x20ull
#define CR0_WP 0x10000ull
#define CR0_PG 0x80000000ull
#define CR4_PAE 0x20ull
#define CR4_OSFXSR 0x200ull
#define CR4_OSXMMEXCPT 0x400ull
#define EFER_LME 0x100ull
#define EFER_LMA 0x400ull

static void build_page_tables(uint8_t *ram)
{
	uint64_t *pml4 = (uint64_t *)(ram + VCPU_PT_GPA);
	uint64_t *pdpt = (uint64_t *)(ram + VCPU_PT_GPA + 0x1000);
	uint64_t *pd = (uint64_t *)(ram + VCPU_PT_GPA + 0x2000);

	pml4[0] = (VCPU_PT_GPA + 0x1000) | PTE_P | PTE_RW;
	pdpt[0] = (VCPU_PT_GPA + 0x2000) | PTE_P | PTE_RW;
	for (uint64_t i = 0; i < 512; i++) /* 512 x 2 MiB = 1 GiB */
		pd[i] = (i << 21) | PTE_P | PTE_RW | PTE_PS;
}

static void flat_segment(struct kvm_segment *s, uint16_t sel, uint8_t type,
			 int code)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = type;
	s->present = 1;
	s->s = 1;	 /* code or data, not a system segment */
	s->g = 1;
	s->l = code;	 /* 64-bit code segment */
	s->db = !code;	 /* L and D/B are exclusive */
}

static int set_long_mode(struct vcpu_vm *m, const char **why)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(m->vcpu, KVM_GET_SREGS, &sregs) < 0) {
		*why = "KVM_GET_SREGS";
		return -errno;
	}
	sregs.cr3 = VCPU_PT_GPA;
	sregs.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	sregs.efer = EFER_LME | EFER_LMA;
	flat_segment(&sregs.cs, 0x8, 0xb, 1); /* execute/read, accessed */
	flat_segment(&sregs.ds, 0x10, 0x3, 0); /* read/write, accessed */
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	if (ioctl(m->vcpu, KVM_SET_SREGS, &sregs) < 0) {
		*why = "KVM_SET_SREGS (64-bit mode)";
		return -errno;
	}
	memset(&regs, 0, sizeof(regs));
	regs.rflags = 0x2; /* bit 1 is reserved, always 1 */
	regs.rip = VCPU_CODE_GPA;
	regs.rsp = VCPU_RAM_SIZE;
	regs.rbx = VCPU_DEV_GPA;
	if (ioctl(m->vcpu, KVM_SET_REGS, &regs) < 0) {
		*why = "KVM_SET_REGS";
		return -errno;
	}
	return 0;
}

static int create_vcpu(struct vcpu_vm *m, const char **why)
{
	int size;

	m->vcpu = ioctl(m->vm, KVM_CREATE_VCPU, 0);
	if (m->vcpu < 0) {
		*why = "KVM_CREATE_VCPU";
		return -errno;
	}
	size = ioctl(m->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size < (int)sizeof(struct kvm_run)) {
		*why = "KVM_GET_VCPU_MMAP_SIZE";
		return size < 0 ? -errno : -EINVAL;
	}
	m->run_size = (size_t)size;
	m->run = mmap(NULL, m->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      m->vcpu, 0);
	if (m->run == MAP_FAILED) {
		m->run = NULL;
		*why = "mmap of the vCPU's kvm_run";
		return -errno;
	}
	return set_long_mode(m, why);
}

static int create_vm(struct vcpu_vm *m, const char **why)
{
	struct kvm_userspace_memory_region slot;
	size_t code = (size_t)(vcpu_guest_end - vcpu_guest_start);

	m->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (m->kvm < 0) {
		*why = "open /dev/kvm";
		return -errno;
	}
	if (ioctl(m->kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		*why = "KVM_GET_API_VERSION is not 12";
		return -ENOTSUP;
	}
	m->vm = ioctl(m->kvm, KVM_CREATE_VM, 0);
	if (m->vm < 0) {
		*why = "KVM_CREATE_VM";
		return -errno;
	}
	m->ram = mmap(NULL, VCPU_RAM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m->ram == MAP_FAILED) {
		m->ram = NULL;
		*why = "mmap of guest RAM";
		return -errno;
	}
	build_page_tables(m->ram);
	memcpy(m->ram + VCPU_CODE_GPA, vcpu_guest_start, code);
	/* Guest RAM only: the device page stays out, so it exits. */
	memset(&slot, 0, sizeof(slot));
	slot.slot = 0;
	slot.guest_phys_addr = 0;
	slot.memory_size = VCPU_RAM_SIZE;
	slot.userspace_addr = (uintptr_t)m->ram;
	if (ioctl(m->vm, KVM_SET_USER_MEMORY_REGION, &slot) < 0) {
		*why = "KVM_SET_USER_MEMORY_REGION";
		return -errno;
	}
	return 0;
}

int vcpu_vm_create(struct vcpu_vm *m, const char **why)
{
	int rc;

	memset(m, 0, sizeof(*m));
	m->kvm = m->vm = m->vcpu = -1;
	rc = create_vm(m, why);
	if (rc == 0)
		rc = create_vcpu(m, why);
	if (rc)
		vcpu_vm_destroy(m);
	return rc;
}

void vcpu_vm_destroy(struct vcpu_vm *m)
{
	if (m->run)
		munmap(m->run, m->run_size);
	if (m->vcpu >= 0)
		close(m->vcpu);
	if (m->vm >= 0)
		close(m->vm);
	if (m->kvm >= 0)
		close(m->kvm);
	if (m->ram)
		munmap(m->ram, VCPU_RAM_SIZE);
	memset(m, 0, sizeof(*m));
	m->kvm = m->vm = m->vcpu = -1;
}
