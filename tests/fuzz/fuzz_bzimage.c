// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: a kernel file as passvm reads it — the bzImage header parser
 * and the zero page filled from it (user data, bounds-checked). */
#include "vmm.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmm_bzimage img;
	if (vmm_bzimage_parse(data, size, &img) != 0)
		return 0;
	if (img.kernel_offset + img.kernel_bytes != size)
		abort();
	struct vmm_memory_map map;
	if (vmm_memory_map_build(&map, 64ULL << 20, 40) != 0)
		abort();
	static struct boot_params bp;
	struct vmm_boot_images images = {
		.cmdline_gpa = VMM_BOOT_CMDLINE_GPA, .cmdline_len = 10,
		.initrd_gpa = 0x2000000, .initrd_bytes = 4096, .rsdp_gpa = VMM_ACPI_GPA,
	};
	(void)vmm_boot_params_fill(&bp, data, &img, &images, &map);
	uint64_t gpa;
	(void)vmm_initrd_place(&map, img.hdr.initrd_addr_max, img.hdr.init_size, 4096, &gpa);
	return 0;
}
