// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Each vCPU's CPUID table: what KVM supports (KVM_GET_SUPPORTED_CPUID), with
 * the topology made true for this VM — one package of `cpus` cores, one
 * thread each, APIC ID = vCPU index — and the hypervisor leaf set or hidden.
 * The topology must agree across leaves or Linux builds a wrong sibling map:
 * leaf 0x1 EBX, leaf 0x4 EAX[31:14] (Intel SDM vol. 2A, CPUID), leaves 0xB
 * and 0x1F (extended topology), and AMD's 0x80000008 ECX, 0x8000001D EAX,
 * 0x8000001E (AMD APM vol. 3, appendix E). The lab's CPU is AMD.
 */
#include "vmm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LEAF1_ECX_HYPERVISOR (1U << 31)
#define LEAF1_EDX_HTT (1U << 28)
#define HV_LEAF_FIRST 0x40000000U
#define HV_LEAF_LAST 0x400000ffU

static unsigned ceil_log2(unsigned n)
{
	unsigned bits = 0;
	while ((1U << bits) < n)
		bits++;
	return bits;
}

const struct kvm_cpuid_entry2 *vmm_cpuid_find(const struct kvm_cpuid2 *cpuid,
					      uint32_t function, uint32_t index)
{
	for (uint32_t i = 0; i < cpuid->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &cpuid->entries[i];
		if (e->function != function)
			continue;
		if (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e->index == index)
			return e;
	}
	return NULL;
}

unsigned vmm_cpuid_phys_bits(const struct kvm_cpuid2 *cpuid)
{
	const struct kvm_cpuid_entry2 *e = vmm_cpuid_find(cpuid, 0x80000008, 0);
	/* SDM: without the leaf, MAXPHYADDR is 36 when PAE is supported. */
	return e && (e->eax & 0xff) ? e->eax & 0xff : 36;
}

/* Leaves 0xB and 0x1F: SMT level (1 thread), then core level, then end. */
static void add_extended_topology(struct kvm_cpuid2 *c, uint32_t leaf,
				  unsigned cpus, unsigned index)
{
	const uint32_t level_smt = 1, level_core = 2;
	struct {
		uint32_t eax, ebx, ecx;
	} levels[] = {
		{ 0, 1, 0 | (level_smt << 8) },
		{ ceil_log2(cpus), cpus, 1 | (level_core << 8) },
		{ 0, 0, 2 }, /* level type 0: no more levels */
	};
	for (uint32_t i = 0; i < ARRAY_SIZE(levels); i++) {
		c->entries[c->nent++] = (struct kvm_cpuid_entry2){
			.function = leaf, .index = i,
			.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
			.eax = levels[i].eax, .ebx = levels[i].ebx,
			.ecx = levels[i].ecx, .edx = index,
		};
	}
}

static void fix_entry(struct kvm_cpuid_entry2 *e, const struct vmm_cpu_topology *t,
		      unsigned index)
{
	unsigned core_bits = ceil_log2(t->cpus);
	uint32_t core_ids = (1U << core_bits) - 1;
	switch (e->function) {
	case 0x1:
		/* EBX[31:24] initial APIC ID, [23:16] logical processors. */
		e->ebx = (e->ebx & 0xffff) | ((t->cpus > 255 ? 255 : t->cpus) << 16) |
			 (index << 24);
		if (t->cpus > 1)
			e->edx |= LEAF1_EDX_HTT;
		else
			e->edx &= ~LEAF1_EDX_HTT;
		if (t->hide_hypervisor)
			e->ecx &= ~LEAF1_ECX_HYPERVISOR;
		else
			e->ecx |= LEAF1_ECX_HYPERVISOR;
		break;
	case 0x4: {
		/* EAX[31:26] cores per package - 1; [25:14] threads sharing the
		 * cache - 1: a core's own for L1/L2, the package for L3. */
		unsigned level = (e->eax >> 5) & 0x7;
		uint32_t sharing = level >= 3 ? core_ids : 0;
		e->eax = (e->eax & 0x3fff) | (sharing << 14) | (core_ids << 26);
		break;
	}
	case 0x80000008:
		/* ECX[15:12] ApicIdCoreIdSize, [7:0] NC = cores - 1. */
		e->ecx = (e->ecx & ~0xf0ffU) | (core_bits << 12) | (t->cpus - 1);
		break;
	case 0x8000001d: {
		unsigned level = (e->eax >> 5) & 0x7;
		uint32_t sharing = level >= 3 ? core_ids : 0;
		e->eax = (e->eax & ~(0xfffU << 14)) | (sharing << 14);
		break;
	}
	case 0x8000001e:
		/* Extended APIC ID; core ID with 1 thread per core; node 0. */
		e->eax = index;
		e->ebx = index & 0xff;
		e->ecx = 0;
		break;
	case HV_LEAF_FIRST:
		/* "KVMKVMKVM\0\0\0": Linux's kvm_para_available() looks for it. */
		memcpy(&e->ebx, "KVMK", 4);
		memcpy(&e->ecx, "VMKV", 4);
		memcpy(&e->edx, "M\0\0\0", 4);
		break;
	}
}

int vmm_cpuid_for_vcpu(const struct kvm_cpuid2 *supported,
		       const struct vmm_cpu_topology *topo, unsigned index,
		       struct kvm_cpuid2 **out)
{
	if (topo->cpus == 0 || index >= topo->cpus)
		return -EINVAL;
	uint32_t cap = supported->nent + 6;
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + cap * sizeof(c->entries[0]));
	if (!c)
		return -ENOMEM;
	const struct kvm_cpuid_entry2 *leaf0 = vmm_cpuid_find(supported, 0, 0);
	uint32_t max_basic = leaf0 ? leaf0->eax : 0;

	for (uint32_t i = 0; i < supported->nent; i++) {
		struct kvm_cpuid_entry2 e = supported->entries[i];
		if (e.function == 0xb || e.function == 0x1f)
			continue; /* rebuilt below */
		if (topo->hide_hypervisor && e.function >= HV_LEAF_FIRST &&
		    e.function <= HV_LEAF_LAST)
			continue;
		fix_entry(&e, topo, index);
		c->entries[c->nent++] = e;
	}
	if (max_basic >= 0xb)
		add_extended_topology(c, 0xb, topo->cpus, index);
	if (max_basic >= 0x1f)
		add_extended_topology(c, 0x1f, topo->cpus, index);
	*out = c;
	return 0;
}
