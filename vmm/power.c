// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Power off and reset for a hardware-reduced ACPI platform (ACPI 6.5, 4.8.3.7
 * "Sleep Control and Status Registers", 4.8.3.6 "Reset Register"). The FADT
 * points at these ports. Linux powers off by writing SLP_TYP of \_S5 (from
 * the DSDT) with SLP_EN to the sleep control register
 * (drivers/acpi/acpica/hwesleep.c), and reboots by writing RESET_VALUE to the
 * reset register (drivers/acpi/reboot.c) — also what panic=-1 ends in.
 */
#include "vmm.h"
#include "control.h"

#define SLEEP_CONTROL_SLP_EN 0x20
#define SLEEP_CONTROL_SLP_TYP(v) (((v) >> 2) & 0x7)

static void power_read(void *dev, uint64_t off, uint8_t *data, uint32_t size)
{
	/* Sleep status: WAK_STS is never set; the guest never wakes. */
	for (uint32_t i = 0; i < size; i++)
		data[i] = 0;
}

static void power_write(void *dev, uint64_t off, const uint8_t *data, uint32_t size)
{
	const struct vmm_power *pm = dev;
	uint64_t port = VMM_POWER_PORT + off;
	if (port == VMM_POWER_SLEEP_CONTROL && (data[0] & SLEEP_CONTROL_SLP_EN) &&
	    SLEEP_CONTROL_SLP_TYP(data[0]) == VMM_POWER_S5_TYPE)
		pm->event(pm->ctx, VMM_POWER_OFF);
	else if (port == VMM_POWER_RESET && data[0] == VMM_POWER_RESET_VALUE)
		pm->event(pm->ctx, VMM_POWER_RESET_REQ);
	/* Other sleep states (S1-S4) are not offered in the DSDT: ignored. */
}

const struct vmm_device_ops vmm_power_ops = {
	.name = "acpi-power", .read = power_read, .write = power_write,
};

/*
 * The Generic Event Device's event register (ACPI 6.5, 5.6.9 "Interrupt-
 * signaled ACPI events"): a hardware-reduced platform has no PM1 event
 * block and no SCI, so the power button is signalled through GED0 in the
 * DSDT (acpi.c). Its interrupt makes Linux's drivers/acpi/evged.c run
 * GED0._EVT, which reads this register (the read clears it) and, for bit
 * 0, does Notify(PWRB, 0x80): drivers/acpi/button.c then reports KEY_POWER
 * on the "Power Button" input device, which the guest's acpid or init
 * turns into a poweroff.
 */
static void ged_read(void *dev, uint64_t off, uint8_t *data, uint32_t size)
{
	struct vmm_ged *ged = dev;
	unsigned events = atomic_exchange(&ged->events, 0);
	for (uint32_t i = 0; i < size; i++)
		data[i] = i == 0 ? (uint8_t)events : 0;
}

static void ged_write(void *dev, uint64_t off, const uint8_t *data, uint32_t size)
{
	/* Read-only: writes are dropped. */
}

const struct vmm_device_ops vmm_ged_ops = {
	.name = "acpi-ged", .read = ged_read, .write = ged_write,
};

void vmm_ged_power_button(struct vmm_ged *ged)
{
	atomic_fetch_or(&ged->events, VMM_GED_EVENT_POWER_BUTTON);
	/* Edge-triggered (the _CRS says so): a rising edge per event. */
	vmm_irqchip_set_line(ged->chip, ged->gsi, true);
	vmm_irqchip_set_line(ged->chip, ged->gsi, false);
}
