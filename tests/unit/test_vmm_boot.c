// SPDX-License-Identifier: GPL-2.0-or-later
/* Pure logic of the boot path: memory map, e820, bzImage header and zero
 * page, initrd placement, CPUID topology, the boot MSR list. */
#include "vmm.h"
#include "../testlib.h"
#include "../bzimage_synth.h"

#include <errno.h>

#define GiB (1ULL << 30)
#define MiB (1ULL << 20)

static void test_memory_map(void)
{
	struct vmm_memory_map m;
	CHECK_EQ_INT(vmm_memory_map_build(&m, 512 * MiB, 40), 0);
	CHECK_EQ_INT(m.low_ram_bytes, 512 * MiB);
	CHECK_EQ_INT(m.high_ram_bytes, 0);
	CHECK_EQ_INT(m.mmio64_start, 1ULL << 39);
	CHECK_EQ_INT(m.mmio64_end, 1ULL << 40);
	CHECK_EQ_INT(vmm_memory_map_ram_top(&m), 512 * MiB);

	/* More than fits below the PCI hole: the rest goes above 4 GiB. */
	CHECK_EQ_INT(vmm_memory_map_build(&m, 4 * GiB, 40), 0);
	CHECK_EQ_INT(m.low_ram_bytes, 3 * GiB);
	CHECK_EQ_INT(m.high_ram_bytes, 1 * GiB);
	CHECK_EQ_INT(vmm_memory_map_ram_top(&m), 5 * GiB);

	CHECK_EQ_INT(vmm_memory_map_build(&m, 3 * GiB, 40), 0);
	CHECK_EQ_INT(m.high_ram_bytes, 0);

	CHECK_EQ_INT(vmm_memory_map_build(&m, 0, 40), -EINVAL);
	CHECK_EQ_INT(vmm_memory_map_build(&m, 1 * MiB, 40), -EINVAL);
	CHECK_EQ_INT(vmm_memory_map_build(&m, 512 * MiB + 1, 40), -EINVAL);
	CHECK_EQ_INT(vmm_memory_map_build(&m, 512 * MiB, 20), -EINVAL);
	/* 36 bits: the window starts at 32 GiB; 40 GiB of RAM cannot fit. */
	CHECK_EQ_INT(vmm_memory_map_build(&m, 40 * GiB, 36), -E2BIG);
}

static void test_gpa_to_host(void)
{
	struct vmm_guest_memory mem = { .host = (uint8_t *)0x10000000 };
	CHECK_EQ_INT(vmm_memory_map_build(&mem.map, 4 * GiB, 40), 0);
	uint8_t *base = mem.host;
	CHECK(vmm_gpa_to_host(&mem, 0, 16) == base);
	CHECK(vmm_gpa_to_host(&mem, 3 * GiB - 16, 16) == base + 3 * GiB - 16);
	CHECK(vmm_gpa_to_host(&mem, 3 * GiB - 16, 17) == NULL); /* into the hole */
	CHECK(vmm_gpa_to_host(&mem, 3 * GiB, 1) == NULL);
	CHECK(vmm_gpa_to_host(&mem, 4 * GiB, 8) == base + 3 * GiB);
	CHECK(vmm_gpa_to_host(&mem, 5 * GiB - 8, 8) == base + 4 * GiB - 8);
	CHECK(vmm_gpa_to_host(&mem, 5 * GiB - 8, 9) == NULL);
	CHECK(vmm_gpa_to_host(&mem, UINT64_MAX - 4, 16) == NULL); /* wraps */
	CHECK(vmm_gpa_to_host(&mem, 16, UINT64_MAX) == NULL);
}

static void test_e820(void)
{
	struct vmm_memory_map m;
	struct boot_e820_entry e[8];
	CHECK_EQ_INT(vmm_memory_map_build(&m, 4 * GiB, 40), 0);
	int n = vmm_e820_build(&m, e, 8);
	CHECK_EQ_INT(n, 5);
	uint64_t ram = 0;
	for (int i = 0; i < n; i++) {
		if (e[i].type == 1)
			ram += e[i].size;
		if (i > 0) /* sorted, not overlapping */
			CHECK(e[i].addr >= e[i - 1].addr + e[i - 1].size);
	}
	/* All RAM but the EBDA/BIOS area below 1 MiB is usable. */
	CHECK_EQ_INT(ram, 4 * GiB - (VMM_BIOS_END - VMM_EBDA_START));
	CHECK_EQ_INT(e[3].addr, VMM_ECAM_BASE);
	CHECK_EQ_INT(e[3].type, 2);
	CHECK_EQ_INT(e[4].addr, 4 * GiB);
	CHECK_EQ_INT(e[4].size, 1 * GiB);
	CHECK_EQ_INT(vmm_e820_build(&m, e, 3), -ENOSPC);

	CHECK_EQ_INT(vmm_memory_map_build(&m, 256 * MiB, 40), 0);
	CHECK_EQ_INT(vmm_e820_build(&m, e, 8), 4);
	CHECK_EQ_INT(e[2].addr + e[2].size, 256 * MiB);
}

static void test_bzimage(void)
{
	uint8_t kernel[0x400] = { 0 };
	size_t size;
	struct vmm_bzimage img;
	uint8_t *f = synth_bzimage(kernel, sizeof(kernel), 0x020f, &size);
	CHECK_EQ_INT(vmm_bzimage_parse(f, size, &img), 0);
	CHECK_EQ_INT(img.setup_bytes, 1024);
	CHECK_EQ_INT(img.kernel_offset, 1024);
	CHECK_EQ_INT(img.kernel_bytes, sizeof(kernel));
	CHECK_EQ_INT(img.hdr.init_size, SYNTH_INIT_SIZE);

	/* setup_sects 0 means 4 (boot.rst). */
	uint8_t *g = malloc(size + 4 * 512);
	memcpy(g, f, size);
	memset(g + size, 0, 4 * 512);
	g[0x1f1] = 0;
	CHECK_EQ_INT(vmm_bzimage_parse(g, size + 4 * 512, &img), 0);
	CHECK_EQ_INT(img.setup_bytes, 5 * 512);
	free(g);

	uint8_t bad[4096];
	memcpy(bad, f, sizeof(bad) < size ? sizeof(bad) : size);
	bad[0x1fe] = 0;                               /* boot flag */
	CHECK_EQ_INT(vmm_bzimage_parse(bad, size, &img), -ENOEXEC);
	memcpy(bad, f, size);
	bad[0x202] = 'X';                             /* HdrS */
	CHECK_EQ_INT(vmm_bzimage_parse(bad, size, &img), -ENOEXEC);
	memcpy(bad, f, size);
	bad[0x236] = 0;                               /* no 64-bit entry */
	CHECK_EQ_INT(vmm_bzimage_parse(bad, size, &img), -ENOEXEC);
	memcpy(bad, f, size);
	bad[0x1f1] = 200;                             /* setup beyond the file */
	CHECK_EQ_INT(vmm_bzimage_parse(bad, size, &img), -ENOEXEC);
	CHECK_EQ_INT(vmm_bzimage_parse(f, 100, &img), -ENOEXEC);
	free(f);
	f = synth_bzimage(kernel, sizeof(kernel), 0x020b, &size);
	CHECK_EQ_INT(vmm_bzimage_parse(f, size, &img), -ENOEXEC);
	free(f);
}

static void test_boot_params(void)
{
	uint8_t kernel[0x400] = { 0 };
	size_t size;
	struct vmm_bzimage img;
	struct vmm_memory_map m;
	static struct boot_params bp;
	CHECK_EQ_INT(vmm_memory_map_build(&m, 512 * MiB, 40), 0);

	uint8_t *f = synth_bzimage(kernel, sizeof(kernel), 0x020f, &size);
	CHECK_EQ_INT(vmm_bzimage_parse(f, size, &img), 0);
	struct vmm_boot_images im = {
		.cmdline_gpa = VMM_BOOT_CMDLINE_GPA, .cmdline_len = 20,
		.initrd_gpa = 0x1f000000, .initrd_bytes = 0x123456,
		.rsdp_gpa = VMM_ACPI_GPA,
	};
	CHECK_EQ_INT(vmm_boot_params_fill(&bp, f, &img, &im, &m), 0);
	CHECK_EQ_INT(bp.hdr.header, 0x53726448);
	CHECK_EQ_INT(bp.hdr.type_of_loader, 0xff);
	CHECK_EQ_INT(bp.hdr.cmd_line_ptr, VMM_BOOT_CMDLINE_GPA);
	CHECK_EQ_INT(bp.ext_cmd_line_ptr, 0);
	CHECK_EQ_INT(bp.hdr.ramdisk_image, 0x1f000000);
	CHECK_EQ_INT(bp.hdr.ramdisk_size, 0x123456);
	CHECK(bp.hdr.loadflags & CAN_USE_HEAP);
	CHECK(bp.hdr.loadflags & LOADED_HIGH);
	CHECK_EQ_INT(bp.acpi_rsdp_addr, VMM_ACPI_GPA);
	CHECK_EQ_INT(bp.e820_entries, 4);
	CHECK_EQ_INT(bp.e820_table[2].addr, VMM_BIOS_END);
	CHECK_EQ_INT(bp.hdr.init_size, SYNTH_INIT_SIZE); /* copied from the file */

	/* A command line as long as cmdline_size does not fit (NUL). */
	im.cmdline_len = SYNTH_CMDLINE_SIZE;
	CHECK_EQ_INT(vmm_boot_params_fill(&bp, f, &img, &im, &m), -E2BIG);
	free(f);

	/* Protocol 2.13: no acpi_rsdp_addr field to fill. */
	f = synth_bzimage(kernel, sizeof(kernel), 0x020d, &size);
	im.cmdline_len = 1;
	CHECK_EQ_INT(vmm_bzimage_parse(f, size, &img), 0);
	CHECK_EQ_INT(vmm_boot_params_fill(&bp, f, &img, &im, &m), 0);
	CHECK_EQ_INT(bp.acpi_rsdp_addr, 0);
	free(f);
}

static void test_initrd_place(void)
{
	struct vmm_memory_map m;
	uint64_t gpa;
	CHECK_EQ_INT(vmm_memory_map_build(&m, 512 * MiB, 40), 0);
	CHECK_EQ_INT(vmm_initrd_place(&m, 0x7fffffff, 32 * MiB, 10 * MiB + 5, &gpa), 0);
	CHECK_EQ_INT(gpa, (512 * MiB - (10 * MiB + 5)) & ~0xfffULL);
	/* Below initrd_addr_max even when RAM goes higher. */
	CHECK_EQ_INT(vmm_initrd_place(&m, 0xfffffff, 32 * MiB, 4096, &gpa), 0);
	CHECK_EQ_INT(gpa, 0x10000000 - 4096);
	CHECK_EQ_INT(vmm_initrd_place(&m, 0x7fffffff, 32 * MiB, 500 * MiB, &gpa), -ENOSPC);
	CHECK_EQ_INT(vmm_initrd_place(&m, 0x7fffffff, 0, 1024 * MiB, &gpa), -ENOSPC);
}

/* A KVM_GET_SUPPORTED_CPUID-like table of an Intel CPU. */
static struct kvm_cpuid2 *fake_supported(void)
{
	static const struct kvm_cpuid_entry2 e[] = {
		{ .function = 0, .eax = 0x1f },
		{ .function = 1, .eax = 0x806f8, .ebx = 0x00010800, .ecx = 0x7ffafbff, .edx = 0x0f8bfbff },
		{ .function = 4, .index = 0, .flags = 1, .eax = 0x121 },  /* L1d */
		{ .function = 4, .index = 1, .flags = 1, .eax = 0x122 },  /* L1i */
		{ .function = 4, .index = 2, .flags = 1, .eax = 0x143 },  /* L2 */
		{ .function = 4, .index = 3, .flags = 1, .eax = 0x163 },  /* L3 */
		{ .function = 0xb, .index = 0, .flags = 1, .eax = 1, .ebx = 2, .ecx = 0x100 },
		{ .function = 0x40000000, .eax = 0x40000001 },
		{ .function = 0x40000001, .eax = 0x1 },
		{ .function = 0x80000008, .eax = 0x3028, .ecx = 0 },
		{ .function = 0x8000001e, .eax = 7, .ebx = 0x105 },
	};
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + sizeof(e));
	c->nent = ARRAY_SIZE(e);
	memcpy(c->entries, e, sizeof(e));
	return c;
}

static void test_cpuid(void)
{
	struct kvm_cpuid2 *sup = fake_supported(), *c;
	struct vmm_cpu_topology t = { .cpus = 4 };
	CHECK_EQ_INT(vmm_cpuid_phys_bits(sup), 40);
	CHECK_EQ_INT(vmm_cpuid_for_vcpu(sup, &t, 2, &c), 0);
	const struct kvm_cpuid_entry2 *e = vmm_cpuid_find(c, 1, 0);
	CHECK_EQ_INT(e->ebx >> 24, 2);                  /* APIC ID */
	CHECK_EQ_INT((e->ebx >> 16) & 0xff, 4);         /* logical processors */
	CHECK_EQ_INT(e->ebx & 0xffff, 0x0800);          /* CLFLUSH kept */
	CHECK(e->edx & (1U << 28));                     /* HTT */
	CHECK(e->ecx & (1U << 31));                     /* hypervisor */
	e = vmm_cpuid_find(c, 4, 0);
	CHECK_EQ_INT(e->eax >> 26, 3);                  /* 4 core IDs */
	CHECK_EQ_INT((e->eax >> 14) & 0xfff, 0);        /* L1: per core */
	CHECK_EQ_INT(e->eax & 0x3fff, 0x121);
	e = vmm_cpuid_find(c, 4, 3);
	CHECK_EQ_INT((e->eax >> 14) & 0xfff, 3);        /* L3: the package */
	/* Leaf 0xB rebuilt: SMT level of 1, core level of 4, end. */
	e = vmm_cpuid_find(c, 0xb, 0);
	CHECK_EQ_INT(e->eax, 0);
	CHECK_EQ_INT(e->ebx, 1);
	CHECK_EQ_INT(e->ecx, 0x100);
	CHECK_EQ_INT(e->edx, 2);
	e = vmm_cpuid_find(c, 0xb, 1);
	CHECK_EQ_INT(e->eax, 2);
	CHECK_EQ_INT(e->ebx, 4);
	CHECK_EQ_INT(e->ecx, 0x201);
	CHECK_EQ_INT(e->edx, 2);
	e = vmm_cpuid_find(c, 0xb, 2);
	CHECK_EQ_INT((e->ecx >> 8) & 0xff, 0);
	CHECK(vmm_cpuid_find(c, 0x1f, 1) != NULL);
	CHECK_EQ_INT(vmm_cpuid_find(c, 0x1f, 1)->ebx, 4);
	e = vmm_cpuid_find(c, 0x80000008, 0);
	CHECK_EQ_INT(e->ecx, 0x2003);                   /* 2 ID bits, NC = 3 */
	e = vmm_cpuid_find(c, 0x8000001e, 0);
	CHECK_EQ_INT(e->eax, 2);
	CHECK_EQ_INT(e->ebx, 2);                        /* core 2, 1 thread */
	e = vmm_cpuid_find(c, 0x40000000, 0);
	CHECK(e && memcmp(&e->ebx, "KVMK", 4) == 0 && memcmp(&e->edx, "M\0\0\0", 4) == 0);
	free(c);

	/* One vCPU: no HTT; hidden hypervisor: no bit, no leaves. */
	t = (struct vmm_cpu_topology){ .cpus = 1, .hide_hypervisor = true };
	CHECK_EQ_INT(vmm_cpuid_for_vcpu(sup, &t, 0, &c), 0);
	e = vmm_cpuid_find(c, 1, 0);
	CHECK(!(e->edx & (1U << 28)));
	CHECK(!(e->ecx & (1U << 31)));
	CHECK(vmm_cpuid_find(c, 0x40000000, 0) == NULL);
	CHECK(vmm_cpuid_find(c, 0x40000001, 0) == NULL);
	CHECK_EQ_INT(vmm_cpuid_find(c, 0xb, 1)->eax, 0);
	free(c);

	CHECK_EQ_INT(vmm_cpuid_for_vcpu(sup, &t, 1, &c), -EINVAL); /* index >= cpus */
	free(sup);
}

static uint64_t msr_value(const struct kvm_msr_entry *e, int n, uint32_t index, bool *found)
{
	for (int i = 0; i < n; i++)
		if (e[i].index == index) {
			*found = true;
			return e[i].data;
		}
	*found = false;
	return 0;
}

static void test_msrs(void)
{
	struct vmm_memory_map m;
	struct kvm_msr_entry e[VMM_MSR_MAX];
	bool found;
	CHECK_EQ_INT(vmm_memory_map_build(&m, 512 * MiB, 40), 0);
	int n = vmm_msr_boot_list(&m, e, VMM_MSR_MAX);
	CHECK(n > 0);
	/* Enabled, fixed ranges enabled, default type write-back (6). */
	CHECK_EQ_INT(msr_value(e, n, 0x2ff, &found), 0xc06);
	CHECK(found);
	CHECK_EQ_INT(e[n - 1].index, 0x2ff);            /* enabled last */
	CHECK_EQ_INT(msr_value(e, n, 0x250, &found), 0x0606060606060606ULL);
	CHECK_EQ_INT(msr_value(e, n, 0x26f, &found), 0x0606060606060606ULL);
	/* PCI hole: 1 GiB at 3 GiB, uncached; mask within 40 bits. */
	CHECK_EQ_INT(msr_value(e, n, 0x200, &found), 0xc0000000ULL);
	CHECK_EQ_INT(msr_value(e, n, 0x201, &found), 0xffc0000800ULL);
	/* 64-bit window: the upper half of the address space, uncached. */
	CHECK_EQ_INT(msr_value(e, n, 0x202, &found), 1ULL << 39);
	CHECK_EQ_INT(msr_value(e, n, 0x203, &found), 0x8000000800ULL);
	CHECK_EQ_INT(vmm_msr_boot_list(&m, e, 5), -ENOSPC);
}

int main(void)
{
	test_memory_map();
	test_gpa_to_host();
	test_e820();
	test_bzimage();
	test_boot_params();
	test_initrd_place();
	test_cpuid();
	test_msrs();
	return test_result();
}
