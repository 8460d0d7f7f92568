// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The MSRs a vCPU starts with. The MTRRs are what firmware would program
 * (Intel SDM vol. 3, 12.11 "Memory Type Range Registers"): default type
 * write-back so all RAM is cached, the 32-bit PCI hole [3 GiB, 4 GiB) and
 * the 64-bit MMIO window uncached, so a passed-through device's BARs are
 * never cached however the guest maps them. KVM honours guest MTRRs when a
 * device with non-coherent DMA is assigned, so they must be right.
 */
#include "vmm.h"

#include <errno.h>
#include <stdlib.h>

#define MSR_IA32_MISC_ENABLE 0x1a0
#define MISC_ENABLE_FAST_STRING 0x1ULL
#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SYSCALL_MASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102

#define MSR_MTRR_DEF_TYPE 0x2ff
#define MTRR_DEF_ENABLE (1ULL << 11)
#define MTRR_DEF_FIXED_ENABLE (1ULL << 10)
#define MSR_MTRR_PHYS_BASE(n) (0x200 + 2 * (n))
#define MSR_MTRR_PHYS_MASK(n) (0x201 + 2 * (n))
#define MTRR_PHYS_MASK_VALID (1ULL << 11)
#define MTRR_TYPE_UC 0x0ULL
#define MTRR_TYPE_WB 0x6ULL
#define MTRR_FIXED_ALL_WB 0x0606060606060606ULL

/* Fixed-range MTRRs for the first MiB (SDM table 12-9). */
static const uint32_t fixed_mtrrs[] = {
	0x250, 0x258, 0x259, 0x268, 0x269, 0x26a, 0x26b, 0x26c, 0x26d, 0x26e, 0x26f,
};

static int push(struct kvm_msr_entry *out, unsigned max, unsigned *n,
		uint32_t index, uint64_t value)
{
	if (*n >= max)
		return -ENOSPC;
	out[*n] = (struct kvm_msr_entry){ .index = index, .data = value };
	(*n)++;
	return 0;
}

/* A variable MTRR for a naturally aligned power-of-two range. */
static int push_var_mtrr(struct kvm_msr_entry *out, unsigned max, unsigned *n,
			 unsigned reg, uint64_t base, uint64_t size, uint64_t type,
			 unsigned phys_bits)
{
	uint64_t phys_mask = (1ULL << phys_bits) - 1;
	if (size == 0 || (size & (size - 1)) || (base & (size - 1)))
		return -EINVAL;
	int r = push(out, max, n, MSR_MTRR_PHYS_BASE(reg), base | type);
	if (r < 0)
		return r;
	return push(out, max, n, MSR_MTRR_PHYS_MASK(reg),
		    (~(size - 1) & phys_mask) | MTRR_PHYS_MASK_VALID);
}

int vmm_msr_boot_list(const struct vmm_memory_map *map, struct kvm_msr_entry *out,
		      unsigned max)
{
	unsigned n = 0;
	int r = 0;
	if (r == 0)
		r = push(out, max, &n, MSR_IA32_MISC_ENABLE, MISC_ENABLE_FAST_STRING);
	if (r == 0)
		r = push(out, max, &n, MSR_IA32_SYSENTER_CS, 0);
	if (r == 0)
		r = push(out, max, &n, MSR_IA32_SYSENTER_ESP, 0);
	if (r == 0)
		r = push(out, max, &n, MSR_IA32_SYSENTER_EIP, 0);
	if (r == 0)
		r = push(out, max, &n, MSR_STAR, 0);
	if (r == 0)
		r = push(out, max, &n, MSR_LSTAR, 0);
	if (r == 0)
		r = push(out, max, &n, MSR_CSTAR, 0);
	if (r == 0)
		r = push(out, max, &n, MSR_SYSCALL_MASK, 0);
	if (r == 0)
		r = push(out, max, &n, MSR_KERNEL_GS_BASE, 0);
	for (size_t i = 0; i < ARRAY_SIZE(fixed_mtrrs); i++)
		if (r == 0)
			r = push(out, max, &n, fixed_mtrrs[i], MTRR_FIXED_ALL_WB);
	if (r == 0)
		r = push_var_mtrr(out, max, &n, 0, VMM_PCI_HOLE_START,
			       VMM_HIGH_RAM_START - VMM_PCI_HOLE_START, MTRR_TYPE_UC,
			       map->phys_bits);
	if (r == 0)
		r = push_var_mtrr(out, max, &n, 1, map->mmio64_start,
			       map->mmio64_end - map->mmio64_start, MTRR_TYPE_UC,
			       map->phys_bits);
	/* Enable last: the order KVM applies the list in is the array's. */
	if (r == 0)
		r = push(out, max, &n, MSR_MTRR_DEF_TYPE,
		      MTRR_DEF_ENABLE | MTRR_DEF_FIXED_ENABLE | MTRR_TYPE_WB);
	return r < 0 ? r : (int)n;
}

int vmm_msr_apply(struct kvm_vcpu *vcpu, const struct vmm_memory_map *map)
{
	struct kvm_msrs *msrs = calloc(1, sizeof(*msrs) +
					     VMM_MSR_MAX * sizeof(struct kvm_msr_entry));
	if (!msrs)
		return -ENOMEM;
	int n = vmm_msr_boot_list(map, msrs->entries, VMM_MSR_MAX);
	int r = n;
	if (n >= 0) {
		msrs->nmsrs = (uint32_t)n;
		/* KVM_SET_MSRS returns how many it set; it stops at the first
		 * MSR it refuses. */
		r = kvm_vcpu_ioctl(vcpu, KVM_SET_MSRS, msrs);
		if (r >= 0)
			r = r == n ? 0 : -EINVAL;
	}
	free(msrs);
	return r;
}
