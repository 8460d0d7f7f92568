// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The e820 table a Linux guest reads from the zero page. It must agree with
 * the memory slots (memory.c), the ACPI tables (in the BIOS area, reserved)
 * and the MCFG (ECAM reserved: Linux 6.1 arch/x86/pci/mmconfig-shared.c
 * only trusts an ECAM window that the firmware reserved).
 */
#include "vmm.h"

#include <errno.h>

static int add(struct boot_e820_entry *out, unsigned max, unsigned *n,
	       uint64_t addr, uint64_t size, uint32_t type)
{
	if (*n >= max)
		return -ENOSPC;
	out[*n] = (struct boot_e820_entry){ .addr = addr, .size = size, .type = type };
	(*n)++;
	return 0;
}

/* E820 types (Linux arch/x86/include/asm/e820/types.h, ACPI 6.5 15.1). */
#define E820_RAM 1
#define E820_RESERVED 2

int vmm_e820_build(const struct vmm_memory_map *map, struct boot_e820_entry *out,
		   unsigned max)
{
	/* Below 1 MiB: conventional memory up to where a PC has its EBDA; the
	 * EBDA, VGA hole and BIOS area (where the ACPI tables live) reserved. */
	const struct boot_e820_entry table[] = {
		{ 0, VMM_EBDA_START, E820_RAM },
		{ VMM_EBDA_START, VMM_BIOS_END - VMM_EBDA_START, E820_RESERVED },
		{ VMM_BIOS_END, map->low_ram_bytes - VMM_BIOS_END, E820_RAM },
		{ VMM_ECAM_BASE, VMM_ECAM_BYTES, E820_RESERVED },
		{ VMM_HIGH_RAM_START, map->high_ram_bytes, E820_RAM },
	};
	unsigned n = 0;
	for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
		if (table[i].size == 0)
			continue;
		int r = add(out, max, &n, table[i].addr, table[i].size, table[i].type);
		if (r < 0)
			return r;
	}
	return (int)n;
}
