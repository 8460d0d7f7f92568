// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The one job of a PC keyboard controller that a VM without a keyboard still
 * needs: command 0xFE on port 0x64 pulses the CPU reset line (8042 "pulse
 * output port"). Linux uses it with reboot=k, and walks through it in its
 * fallback order when other reboot methods return. The status register reads
 * 0 (input buffer empty, no data), so kb_wait() in arch/x86/kernel/reboot.c
 * does not spin through 65536 port reads before each attempt. Port 0x60
 * reads as no data. The FADT says there is no 8042, so Linux never probes it.
 */
#include "vmm.h"

#define I8042_CMD_RESET 0xfe

static void i8042_read(void *dev, uint64_t off, uint8_t *data, uint32_t size)
{
	for (uint32_t i = 0; i < size; i++)
		data[i] = 0;
}

static void i8042_write(void *dev, uint64_t off, const uint8_t *data, uint32_t size)
{
	const struct vmm_power *pm = dev;
	/* The device spans 0x60-0x64: offset 4 is the command port. */
	if (off == 4 && data[0] == I8042_CMD_RESET)
		pm->event(pm->ctx, VMM_POWER_RESET_REQ);
}

const struct vmm_device_ops vmm_i8042_ops = {
	.name = "i8042-reset", .read = i8042_read, .write = i8042_write,
};
