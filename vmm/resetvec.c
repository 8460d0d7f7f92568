// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The reset vector: what a PC's firmware runs at F000:FFF0 after a reset.
 * passvm has no firmware, but Linux jumps there to reboot: on a
 * hardware-reduced ACPI platform without EFI, arch/x86/kernel/reboot.c
 * (reboot_init: efi_reboot_required() is true when acpi_gbl_reduced_hardware)
 * picks BOOT_EFI, which falls through to BOOT_BIOS, machine_real_restart(),
 * a far jump to F000:FFF0 in real mode — never to the FADT reset register.
 * So the reset vector asks for the reset through that register itself;
 * without it a `reboot` or a panic=-1 would run whatever bytes lie there.
 */
#include "vmm.h"

#include <errno.h>
#include <string.h>

int vmm_reset_vector_write(struct vmm_guest_memory *mem)
{
	static const uint8_t stub[] = {
		0xba, VMM_POWER_RESET & 0xff, VMM_POWER_RESET >> 8, /* mov dx, reset register */
		0xb0, VMM_POWER_RESET_VALUE,                        /* mov al, reset value */
		0xee,                                               /* out dx, al */
		0xf4,                                               /* hlt */
		0xeb, 0xfd,                                         /* jmp hlt */
	};
	uint8_t *p = vmm_gpa_to_host(mem, VMM_RESET_VECTOR_GPA, 16);
	if (!p)
		return -ENOSPC;
	memset(p, 0xf4, 16);
	memcpy(p, stub, sizeof(stub));
	return 0;
}
