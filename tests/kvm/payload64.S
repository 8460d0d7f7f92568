/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * 64-bit guest payloads for the kvm suite. The tests copy the bytes from
 * payload64_start to payload64_end into guest RAM and enter at one of the
 * labels through vmm_longmode_enter (the Linux boot path's own long-mode
 * setup), with %rsi set as for Linux's startup_64. Position-independent.
 */
	.section .rodata
	.code64
	.globl payload64_start, payload64_end
	.globl payload64_exits, payload64_smp, payload64_boot, payload64_boot_image

payload64_start:

/* Port and MMIO exits, memory: see test_longmode.c for the expected exits. */
payload64_exits:
	mov	%esi, %eax
	out	%al, $0x10			/* rsi arrived */
	mov	$0xd0000000, %rbx
	movl	$0x12345678, (%rbx)		/* MMIO write, 4 bytes */
	mov	4(%rbx), %eax			/* MMIO read, 4 bytes */
	mov	$0x12, %dx
	out	%eax, %dx			/* what the device returned */
	movl	$0xfeedface, 0x2000000		/* RAM write the host reads */
	mov	0x2000008, %eax			/* RAM the host wrote */
	mov	$0x13, %dx
	out	%eax, %dx
	hlt

/* Several vCPUs: each reports its index (in %rsi) 1000 times. */
payload64_smp:
	mov	$1000, %ecx
1:	mov	%esi, %eax
	out	%al, $0x20
	loop	1b
	hlt

/* A stand-in for a Linux kernel in a synthetic bzImage (loaded at 1 MiB,
 * entered at +0x200): prints what the zero page says, reads the PCI host
 * bridge's ID through port 0xCF8/0xCFC and through ECAM, and powers off
 * through the ACPI sleep control register, as Linux's poweroff does. */
	.balign 16
payload64_boot_image:
	.fill	0x200, 1, 0xf4			/* 32-bit entry: hlt */
payload64_boot:
	sub	$32, %rsp			/* scratch below the boot stack */
	lea	msg_cmdline(%rip), %rbx
	call	puts
	mov	0x228(%rsi), %ebx		/* hdr.cmd_line_ptr */
	call	puts
	lea	msg_e820(%rip), %rbx
	call	puts
	movzbl	0x1e8(%rsi), %eax		/* e820_entries */
	call	puthex
	lea	msg_rsdp(%rip), %rbx
	call	puts
	mov	0x70(%rsi), %rbx		/* acpi_rsdp_addr */
	movb	$0, 8(%rsp)			/* NUL after 8 copied bytes */
	mov	(%rbx), %rax
	mov	%rax, (%rsp)
	mov	%rsp, %rbx
	call	puts
	lea	msg_cf8(%rip), %rbx
	call	puts
	mov	$0xcf8, %dx
	mov	$0x80000000, %eax		/* bus 0, device 0, register 0 */
	out	%eax, %dx
	mov	$0xcfc, %dx
	in	%dx, %eax
	call	puthex
	lea	msg_ecam(%rip), %rbx
	call	puts
	mov	$0xe0000000, %rbx
	mov	(%rbx), %eax			/* ECAM 00:00.0 register 0 */
	call	puthex
	lea	msg_ecam_absent(%rip), %rbx
	call	puts
	mov	$0xe0008000, %rbx
	mov	(%rbx), %eax			/* 00:01.0: nothing there */
	call	puthex
	mov	$'\n', %al
	call	putc
	mov	$0x600, %dx			/* sleep control: SLP_TYP 5, SLP_EN */
	mov	$(5 << 2 | 0x20), %al
	out	%al, %dx
2:	hlt
	jmp	2b

puts:	movb	(%rbx), %al
	test	%al, %al
	jz	1f
	call	putc
	inc	%rbx
	jmp	puts
1:	ret

putc:	push	%rdx
	mov	$0x3f8, %dx
	out	%al, %dx
	pop	%rdx
	ret

/* %eax as 8 hex digits. */
puthex:	push	%rcx
	push	%rdx
	mov	%eax, %edx
	mov	$8, %ecx
1:	rol	$4, %edx
	mov	%edx, %eax
	and	$0xf, %eax
	cmp	$10, %al
	jb	2f
	add	$('a' - '0' - 10), %al
2:	add	$'0', %al
	call	putc
	loop	1b
	pop	%rdx
	pop	%rcx
	ret

msg_cmdline:	.asciz "cmdline="
msg_e820:	.asciz "\ne820="
msg_rsdp:	.asciz "\nrsdp="
msg_cf8:	.asciz "\ncf8="
msg_ecam:	.asciz "\necam="
msg_ecam_absent: .asciz "\nabsent="
payload64_end:
	.section .note.GNU-stack,"",@progbits
