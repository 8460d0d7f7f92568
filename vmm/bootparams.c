// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The Linux x86 boot protocol, 64-bit entry (Documentation/arch/x86/boot.rst):
 * check the bzImage's setup header, then fill the zero page (struct
 * boot_params) the kernel reads at startup_64 through %rsi. Pure functions:
 * loader.c does the file and guest-memory work.
 */
#include "vmm.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#define SETUP_HEADER_OFFSET 0x1f1       /* boot.rst: "The real-mode kernel header" */
#define BOOT_FLAG 0xAA55
#define HDRS_MAGIC 0x53726448           /* "HdrS" */
#define PROTOCOL_XLOADFLAGS 0x020c      /* 2.12: xloadflags, 64-bit entry */
#define PROTOCOL_RSDP 0x020e            /* 2.14: acpi_rsdp_addr */
#define LOADER_TYPE_UNDEFINED 0xff      /* boot.rst: "0xFF  undefined" */

/* Bytes of setup header the file has: it ends where the 2-byte jump at 0x200
 * lands (boot.rst: "the end of the setup header can be calculated from the
 * jump"), capped at what struct setup_header knows. */
static size_t header_bytes(const uint8_t *file)
{
	size_t end = 0x202 + file[0x201];
	size_t len = end - SETUP_HEADER_OFFSET;
	return len < sizeof(struct setup_header) ? len : sizeof(struct setup_header);
}

int vmm_bzimage_parse(const uint8_t *file, size_t size, struct vmm_bzimage *img)
{
	memset(img, 0, sizeof(*img));
	if (size < 0x202 + 0x80)
		return -ENOEXEC;
	memcpy(&img->hdr, file + SETUP_HEADER_OFFSET, header_bytes(file));
	const struct setup_header *h = &img->hdr;
	if (h->boot_flag != BOOT_FLAG || h->header != HDRS_MAGIC)
		return -ENOEXEC;
	/* Older protocols have no 64-bit entry point; passvm only uses that. */
	if (h->version < PROTOCOL_XLOADFLAGS || !(h->xloadflags & XLF_KERNEL_64) ||
	    !(h->loadflags & LOADED_HIGH))
		return -ENOEXEC;
	unsigned sects = h->setup_sects ? h->setup_sects : 4; /* boot.rst */
	img->setup_bytes = (size_t)(sects + 1) * 512;
	if (img->setup_bytes >= size)
		return -ENOEXEC;
	img->kernel_offset = img->setup_bytes;
	img->kernel_bytes = size - img->setup_bytes;
	/* syssize counts 16-byte paragraphs of the protected-mode part. */
	if ((uint64_t)h->syssize * 16 > img->kernel_bytes || h->init_size == 0)
		return -ENOEXEC;
	return 0;
}

int vmm_boot_params_fill(struct boot_params *bp, const uint8_t *file,
			 const struct vmm_bzimage *img,
			 const struct vmm_boot_images *images,
			 const struct vmm_memory_map *map)
{
	memset(bp, 0, sizeof(*bp));
	memcpy((uint8_t *)bp + SETUP_HEADER_OFFSET, file + SETUP_HEADER_OFFSET,
	       header_bytes(file));
	struct setup_header *h = &bp->hdr;

	if (images->cmdline_len >= h->cmdline_size)
		return -E2BIG;
	h->type_of_loader = LOADER_TYPE_UNDEFINED;
	h->vid_mode = 0xffff;                       /* "normal" */
	h->loadflags |= CAN_USE_HEAP;
	h->heap_end_ptr = 0xfe00 - 0x200;           /* boot.rst example loader */
	h->code32_start = VMM_BOOT_KERNEL_GPA;
	h->cmd_line_ptr = (uint32_t)images->cmdline_gpa;
	bp->ext_cmd_line_ptr = (uint32_t)(images->cmdline_gpa >> 32);
	h->ramdisk_image = (uint32_t)images->initrd_gpa;
	h->ramdisk_size = (uint32_t)images->initrd_bytes;
	bp->ext_ramdisk_image = (uint32_t)(images->initrd_gpa >> 32);
	bp->ext_ramdisk_size = (uint32_t)(images->initrd_bytes >> 32);
	/* Linux also scans 0xE0000-0xFFFFF for the RSDP; 2.14 lets us say. */
	if (h->version >= PROTOCOL_RSDP)
		bp->acpi_rsdp_addr = images->rsdp_gpa;

	int n = vmm_e820_build(map, bp->e820_table, ARRAY_SIZE(bp->e820_table));
	if (n < 0)
		return n;
	bp->e820_entries = (uint8_t)n;
	(void)img;
	return 0;
}

int vmm_initrd_place(const struct vmm_memory_map *map, uint32_t initrd_addr_max,
		     uint64_t floor, uint64_t bytes, uint64_t *gpa)
{
	uint64_t top = map->low_ram_bytes;
	if ((uint64_t)initrd_addr_max + 1 < top)
		top = (uint64_t)initrd_addr_max + 1;
	if (bytes > top)
		return -ENOSPC;
	uint64_t addr = (top - bytes) & ~0xfffULL;
	if (addr < floor)
		return -ENOSPC;
	*gpa = addr;
	return 0;
}
