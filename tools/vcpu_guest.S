/* SPDX-License-Identifier: MIT */
/*
 * The guest program of `ramdev vcpu-demo` (tools/vcpu_demo.c), 64-bit long
 * mode.  It is data for the host: the bytes between vcpu_guest_start and
 * vcpu_guest_end are copied into guest RAM and run there by a KVM vCPU, so
 * the code is position independent (RIP-relative data only) and needs no
 * stack.  %rbx holds the base of the device region (set by the host), which
 * lies outside every memslot: each access below exits to the VMM as
 * KVM_EXIT_MMIO.
 *
 * Before each step the guest writes its number to port 0xe9 (KVM_EXIT_IO),
 * so the host can label the MMIO exits that follow.  Offsets into the
 * device page (keep in sync with vcpu_demo.c):
 *   0x000 STATUS (4 bytes, read-to-clear)   0x004 INTR (4 bytes, write-1-to-clear)
 *   0x100.. scratch array (RAM-device memory)
 */
	.section .rodata.vcpu_guest, "a"
	.globl vcpu_guest_start
	.globl vcpu_guest_end
	.code64

.macro STEP n
	movb $\n, %al
	outb %al, $0xe9
.endm

vcpu_guest_start:
	/* 1: STATUS read twice: the first read returns the pending bits and
	 * clears them, the second returns 0. */
	STEP 1
	movl 0x0(%rbx), %eax
	movl 0x0(%rbx), %eax

	/* 2: INTR write-1-to-clear (bits 0-3), then read what is left. */
	STEP 2
	movl $0x0000000f, 0x4(%rbx)
	movl 0x4(%rbx), %eax

	/* 3: aligned stores of 1, 2, 4, 8 bytes to the scratch array. */
	STEP 3
	movb $0x11, 0x100(%rbx)
	movw $0x2222, 0x102(%rbx)
	movl $0x44444444, 0x104(%rbx)
	movabsq $0x8877665544332211, %rax
	movq %rax, 0x108(%rbx)

	/* 4: aligned loads of 1, 2, 4, 8 bytes. */
	STEP 4
	movzbl 0x100(%rbx), %eax
	movzwl 0x102(%rbx), %eax
	movl 0x104(%rbx), %eax
	movq 0x108(%rbx), %rax

	/* 5: misaligned stores of 2, 4, 8 bytes (one exit each; the region's
	 * policy splits them into aligned device accesses). */
	STEP 5
	movw $0xbbaa, 0x111(%rbx)
	movl $0xddccbbaa, 0x113(%rbx)
	movabsq $0x0123456789abcdef, %rax
	movq %rax, 0x119(%rbx)

	/* 6: misaligned loads of 2, 4, 8 bytes. */
	STEP 6
	movzwl 0x111(%rbx), %eax
	movl 0x113(%rbx), %eax
	movq 0x119(%rbx), %rax

	/* 7: rep movsb (5 bytes) and rep movsd (3 dwords) from guest RAM into
	 * the scratch array. */
	STEP 7
	cld
	leaq src_bytes(%rip), %rsi
	leaq 0x140(%rbx), %rdi
	movl $5, %ecx
	rep movsb
	leaq src_dwords(%rip), %rsi
	leaq 0x150(%rbx), %rdi
	movl $3, %ecx
	rep movsl

	/* 8: a 16-byte SSE load and store (KVM hands these to the VMM as
	 * pieces of at most 8 bytes). */
	STEP 8
	movdqu 0x100(%rbx), %xmm0
	movdqu %xmm0, 0x180(%rbx)

	STEP 9
stop:
	hlt
	jmp stop	/* the host ends the run at the first hlt */

src_bytes:
	.byte 0xa1, 0xa2, 0xa3, 0xa4, 0xa5
	.balign 4
src_dwords:
	.long 0xb1b2b3b4, 0xc1c2c3c4, 0xd1d2d3d4
vcpu_guest_end:

	.section .note.GNU-stack, "", @progbits
