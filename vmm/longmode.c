// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The 64-bit state passvm starts the boot vCPU in, for Linux's startup_64
 * (Documentation/arch/x86/boot.rst, "64-bit BOOT PROTOCOL": long mode,
 * paging on, an identity map covering the kernel, zero page and command
 * line, a GDT with __BOOT_CS = 0x10 and __BOOT_DS = 0x18, interrupts off).
 * The kvm tests run their 64-bit payloads through these same functions.
 */
#include "vmm.h"

#include <errno.h>
#include <string.h>

#define PDPT_GPA (VMM_BOOT_PML4_GPA + 0x1000)
#define PD_GPA (VMM_BOOT_PML4_GPA + 0x2000)
#define IDENTITY_GIB 4               /* one PD (512 x 2 MiB) per GiB */

#define PTE_PRESENT 0x1ULL
#define PTE_WRITE 0x2ULL
#define PTE_LARGE 0x80ULL            /* PS: a 2 MiB page in a PD */

#define GDT_CODE64 0x10
#define GDT_DATA 0x18
#define GDT_TSS 0x20
#define GDT_ENTRIES 5

#define CR0_PE 0x1ULL
#define CR0_MP 0x2ULL
#define CR0_ET 0x10ULL
#define CR0_NE 0x20ULL
#define CR0_PG 0x80000000ULL
#define CR4_PAE 0x20ULL
#define EFER_LME 0x100ULL
#define EFER_LMA 0x400ULL

/* A segment descriptor (SDM vol. 3, 3.4.5) from KVM's unpacked form. */
static uint64_t gdt_entry(const struct kvm_segment *s)
{
	uint64_t limit = s->limit >> (s->g ? 12 : 0);
	return (limit & 0xffff) | ((uint64_t)(s->base & 0xffffff) << 16) |
	       ((uint64_t)s->type << 40) | ((uint64_t)s->s << 44) |
	       ((uint64_t)s->dpl << 45) | ((uint64_t)s->present << 47) |
	       (((limit >> 16) & 0xf) << 48) | ((uint64_t)s->avl << 52) |
	       ((uint64_t)s->l << 53) | ((uint64_t)s->db << 54) |
	       ((uint64_t)s->g << 55) | ((uint64_t)(s->base >> 24) << 56);
}

static const struct kvm_segment code64 = {
	.base = 0, .limit = 0xffffffff, .selector = GDT_CODE64,
	.type = 0xb /* execute/read, accessed */, .present = 1, .s = 1, .l = 1, .g = 1,
};
static const struct kvm_segment data = {
	.base = 0, .limit = 0xffffffff, .selector = GDT_DATA,
	.type = 0x3 /* read/write, accessed */, .present = 1, .s = 1, .db = 1, .g = 1,
};
/* VMX refuses to enter a guest whose TR is not a busy TSS (SDM vol. 3,
 * 26.3.1.2), so there is one, though Linux installs its own. */
static const struct kvm_segment tss = {
	.base = 0, .limit = 0x67, .selector = GDT_TSS, .type = 0xb /* busy TSS */,
	.present = 1,
};

int vmm_longmode_write_tables(struct vmm_guest_memory *mem)
{
	uint64_t *gdt = vmm_gpa_to_host(mem, VMM_BOOT_GDT_GPA, GDT_ENTRIES * 8);
	uint64_t *pml4 = vmm_gpa_to_host(mem, VMM_BOOT_PML4_GPA, 0x1000);
	uint64_t *pdpt = vmm_gpa_to_host(mem, PDPT_GPA, 0x1000);
	uint64_t *pd = vmm_gpa_to_host(mem, PD_GPA, IDENTITY_GIB * 0x1000);
	if (!gdt || !pml4 || !pdpt || !pd)
		return -ENOSPC;

	memset(gdt, 0, GDT_ENTRIES * 8);
	gdt[GDT_CODE64 / 8] = gdt_entry(&code64);
	gdt[GDT_DATA / 8] = gdt_entry(&data);
	gdt[GDT_TSS / 8] = gdt_entry(&tss);

	memset(pml4, 0, 0x1000);
	memset(pdpt, 0, 0x1000);
	pml4[0] = PDPT_GPA | PTE_PRESENT | PTE_WRITE;
	for (uint64_t g = 0; g < IDENTITY_GIB; g++) {
		pdpt[g] = (PD_GPA + g * 0x1000) | PTE_PRESENT | PTE_WRITE;
		for (uint64_t i = 0; i < 512; i++)
			pd[g * 512 + i] = ((g << 30) + (i << 21)) | PTE_PRESENT |
					  PTE_WRITE | PTE_LARGE;
	}
	return 0;
}

void vmm_longmode_sregs(struct kvm_sregs *sregs)
{
	sregs->cs = code64;
	sregs->ds = sregs->es = sregs->fs = sregs->gs = sregs->ss = data;
	sregs->tr = tss;
	sregs->gdt.base = VMM_BOOT_GDT_GPA;
	sregs->gdt.limit = GDT_ENTRIES * 8 - 1;
	sregs->idt.base = 0;
	sregs->idt.limit = 0;
	/* KVM's reset CR0 has CD and NW set (cache disabled): replace it. */
	sregs->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_PG;
	sregs->cr3 = VMM_BOOT_PML4_GPA;
	sregs->cr4 = CR4_PAE;
	sregs->efer = EFER_LME | EFER_LMA;
}

int vmm_longmode_enter(struct vmm_guest_memory *mem, struct kvm_vcpu *vcpu,
		       const struct vmm_boot_entry *entry)
{
	int r = vmm_longmode_write_tables(mem);
	if (r < 0)
		return r;
	struct kvm_sregs sregs;
	r = kvm_vcpu_ioctl(vcpu, KVM_GET_SREGS, &sregs);
	if (r < 0)
		return r;
	vmm_longmode_sregs(&sregs);
	r = kvm_vcpu_ioctl(vcpu, KVM_SET_SREGS, &sregs);
	if (r < 0)
		return r;
	struct kvm_regs regs = {
		.rip = entry->rip,
		.rsi = entry->rsi,
		.rsp = VMM_BOOT_STACK_TOP,
		.rflags = 0x2, /* reserved bit 1; IF clear */
	};
	return kvm_vcpu_ioctl(vcpu, KVM_SET_REGS, &regs);
}
