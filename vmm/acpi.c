// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The ACPI tables of a hardware-reduced platform (ACPI 6.5; section numbers
 * below are that spec's): RSDP -> XSDT -> FADT (-> DSDT), MADT, MCFG. One
 * blob, loaded at VMM_ACPI_GPA in the reserved BIOS area, RSDP first (Linux
 * finds it there by scanning, or through boot_params.acpi_rsdp_addr).
 *
 * The DSDT describes: the PCIe host bridge PCI0 (PNP0A08) with its _CRS
 * (bus 0, I/O, the 32-bit window and the 64-bit window above RAM) and a
 * _PRT for INTx; a motherboard resource device reserving the ECAM window
 * (Linux arch/x86/pci/mmconfig-shared.c checks it); COM1; \_S5 for
 * power off through the sleep control register (power.c); and the power
 * button: a Generic Event Device GED0 (ACPI0013) whose _EVT notifies the
 * power button device PWRB (PNP0C0C), see power.c.
 */
#include "vmm.h"
#include "control.h"

#include <errno.h>
#include <string.h>

#define OEM_ID "PASSVM"
#define OEM_TABLE_ID "PASSVM  "
#define CREATOR_ID "PSVM"
#define HEADER_BYTES 36

/* PCI INTx: slot s pin p (0 = INTA) -> GSI 16 + (s + p) % 8, the IOAPIC's
 * PCI pins (level, active low by PCI convention). */

uint8_t vmm_acpi_checksum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint8_t sum = 0;
	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	return (uint8_t)(0 - sum);
}

static void put(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* System description table header (5.2.6). */
static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put(t + 4, len, 4);
	t[8] = rev;
	memcpy(t + 10, OEM_ID, 6);
	memcpy(t + 16, OEM_TABLE_ID, 8);
	put(t + 24, 1, 4);
	memcpy(t + 28, CREATOR_ID, 4);
	put(t + 32, 1, 4);
}

static void finish(uint8_t *t, uint32_t len)
{
	put(t + 4, len, 4);
	t[9] = 0;
	t[9] = vmm_acpi_checksum(t, len);
}

/* Generic Address Structure (5.2.3.2): one byte in system I/O space. */
static void gas_io8(uint8_t *g, uint16_t port)
{
	g[0] = 1;  /* system I/O */
	g[1] = 8;  /* bit width */
	g[2] = 0;  /* bit offset */
	g[3] = 1;  /* byte access */
	put(g + 4, port, 8);
}

/* ---- DSDT ---------------------------------------------------------------- */
static void word_address(struct aml_buf *b, uint8_t type, uint8_t type_flags,
			 uint16_t min, uint16_t max)
{
	/* Word Address Space Descriptor (6.4.3.5.3), a producer with fixed
	 * min and max. */
	uint8_t d[16] = { 0x88, 13, 0, type, 0x0c, type_flags };
	put(d + 8, min, 2);
	put(d + 10, max, 2);
	put(d + 14, (uint32_t)max - min + 1, 2);
	aml_bytes(b, d, sizeof(d));
}

static void dword_memory(struct aml_buf *b, uint32_t min, uint32_t max)
{
	/* DWord Address Space Descriptor (6.4.3.5.2): memory, read-write,
	 * non-cacheable (BARs are uncached, see msr.c). */
	uint8_t d[26] = { 0x87, 23, 0, 0, 0x0c, 0x01 };
	put(d + 10, min, 4);
	put(d + 14, max, 4);
	put(d + 22, (uint64_t)max - min + 1, 4);
	aml_bytes(b, d, sizeof(d));
}

static void qword_memory(struct aml_buf *b, uint64_t min, uint64_t max)
{
	uint8_t d[46] = { 0x8a, 43, 0, 0, 0x0c, 0x01 };
	put(d + 14, min, 8);
	put(d + 22, max, 8);
	put(d + 38, max - min + 1, 8);
	aml_bytes(b, d, sizeof(d));
}

static void io_port(struct aml_buf *b, uint16_t port, uint8_t len)
{
	/* I/O Port Descriptor (6.4.2.5), 16-bit decode. */
	uint8_t d[8] = { 0x47, 0x01 };
	put(d + 2, port, 2);
	put(d + 4, port, 2);
	d[6] = 1;
	d[7] = len;
	aml_bytes(b, d, sizeof(d));
}

static void irq_noflags(struct aml_buf *b, unsigned irq)
{
	uint8_t d[3] = { 0x22 };
	put(d + 1, 1U << irq, 2);
	aml_bytes(b, d, sizeof(d));
}

static void memory32_fixed(struct aml_buf *b, uint32_t base, uint32_t len)
{
	uint8_t d[12] = { 0x86, 9, 0, 0x01 };
	put(d + 4, base, 4);
	put(d + 8, len, 4);
	aml_bytes(b, d, sizeof(d));
}

static const uint8_t op_scope[] = { 0x10 };
static const uint8_t op_device[] = { 0x5b, 0x82 };
static const uint8_t op_package[] = { 0x12 };
static const uint8_t op_buffer[] = { 0x11 };
static const uint8_t op_method[] = { 0x14 };
#define AML_RETURN 0xa4
#define AML_ARG3 0x6b

/* Name(_CRS, ResourceTemplate() {...}): open it; close with crs_close. */
static size_t crs_open(struct aml_buf *b, size_t *size_at)
{
	aml_name(b, "_CRS");
	size_t mark = aml_open(b, op_buffer, 1);
	/* BufferSize as a WordConst, patched by crs_close. */
	aml_byte(b, 0x0b);
	*size_at = b->len;
	aml_byte(b, 0);
	aml_byte(b, 0);
	return mark;
}

static void crs_close(struct aml_buf *b, size_t mark, size_t size_at)
{
	static const uint8_t end_tag[2] = { 0x79, 0x00 }; /* checksum 0: ok */
	aml_bytes(b, end_tag, 2);
	if (!b->overflow)
		put(b->data + size_at, b->len - size_at - 2, 2);
	aml_close(b, mark);
}

static size_t device_open(struct aml_buf *b, const char *name)
{
	size_t mark = aml_open(b, op_device, sizeof(op_device));
	aml_namestring(b, name);
	return mark;
}

static void pci_prt(struct aml_buf *b)
{
	aml_name(b, "_PRT");
	size_t prt = aml_open(b, op_package, 1);
	aml_byte(b, (VMM_PCI_SLOTS - 1) * 4);
	for (unsigned slot = 1; slot < VMM_PCI_SLOTS; slot++) {
		for (unsigned pin = 0; pin < 4; pin++) {
			/* Package { Address, Pin, Source (0: a GSI), GSI } (6.2.13) */
			size_t e = aml_open(b, op_package, 1);
			aml_byte(b, 4);
			aml_integer(b, (uint64_t)slot << 16 | 0xffff);
			aml_integer(b, pin);
			aml_integer(b, 0);
			aml_integer(b, vmm_pci_intx_gsi(slot, pin));
			aml_close(b, e);
		}
	}
	aml_close(b, prt);
}

static void dsdt_pci0(struct aml_buf *b, const struct vmm_memory_map *map)
{
	size_t dev = device_open(b, "PCI0");
	aml_name(b, "_HID");
	aml_eisaid(b, "PNP0A08"); /* PCI Express root bridge */
	aml_name(b, "_CID");
	aml_eisaid(b, "PNP0A03");
	aml_name(b, "_SEG");
	aml_integer(b, 0);
	aml_name(b, "_BBN");
	aml_integer(b, 0);
	aml_name(b, "_UID");
	aml_integer(b, 0);
	size_t size_at, crs = crs_open(b, &size_at);
	word_address(b, 2, 0, 0, VMM_ECAM_BUSES - 1);      /* bus numbers */
	io_port(b, 0xcf8, 8);                             /* config ports */
	word_address(b, 1, 0x3, 0x0000, 0x0cf7);          /* I/O, entire range */
	word_address(b, 1, 0x3, 0x0d00, 0xffff);
	dword_memory(b, (uint32_t)VMM_MMIO32_START, (uint32_t)(VMM_MMIO32_END - 1));
	qword_memory(b, map->mmio64_start, map->mmio64_end - 1);
	crs_close(b, crs, size_at);
	pci_prt(b);
	/* _OSC (ACPI 6.5, 6.2.11; PCI Firmware 3.2, 4.5): hand the OS every
	 * PCIe feature it asks for, by returning its own capabilities buffer
	 * unchanged (no error bits, control = what it requested). Nothing on
	 * this platform needs firmware to keep a feature; without _OSC Linux
	 * keeps native hotplug, AER and PME off for everything below PCI0. */
	size_t osc = aml_open(b, op_method, 1);
	aml_namestring(b, "_OSC");
	aml_byte(b, 4);                 /* 4 arguments, not serialized */
	aml_byte(b, AML_RETURN);
	aml_byte(b, AML_ARG3);
	aml_close(b, osc);
	aml_close(b, dev);
}

/* Device(GED0) { _HID "ACPI0013", _CRS { Interrupt (Consumer, Edge,
 * ActiveHigh, Exclusive) { VMM_GED_GSI } }, OperationRegion(EREG, SystemIO,
 * VMM_GED_PORT, 1), Field { EVTS, 8 }, Method(_EVT, 1, Serialized) {
 * Local0 = EVTS; If (Local0 & 1) { Notify(\_SB.PWRB, 0x80) } } } and
 * Device(PWRB) { _HID PNP0C0C }. Opcodes: ACPI 6.5, 20.2.5. */
static void dsdt_power_button(struct aml_buf *b)
{
	static const uint8_t op_opregion[] = { 0x5b, 0x80 }, op_field[] = { 0x5b, 0x81 },
			     op_if[] = { 0xa0 };
	size_t ged = device_open(b, "GED0");
	aml_name(b, "_HID");
	aml_string(b, "ACPI0013");
	aml_name(b, "_UID");
	aml_integer(b, 0);
	size_t size_at, crs = crs_open(b, &size_at);
	/* Extended Interrupt Descriptor (6.4.3.6): consumer, edge, active
	 * high, exclusive; one interrupt. */
	uint8_t irq[9] = { 0x89, 6, 0, 0x03, 1 };
	put(irq + 5, VMM_GED_GSI, 4);
	aml_bytes(b, irq, sizeof(irq));
	crs_close(b, crs, size_at);
	aml_bytes(b, op_opregion, sizeof(op_opregion));
	aml_namestring(b, "EREG");
	aml_byte(b, 0x01);              /* SystemIO */
	aml_integer(b, VMM_GED_PORT);
	aml_integer(b, VMM_GED_PORT_LEN);
	size_t field = aml_open(b, op_field, sizeof(op_field));
	aml_namestring(b, "EREG");
	aml_byte(b, 0x01);              /* ByteAcc, NoLock, Preserve */
	aml_namestring(b, "EVTS");
	aml_byte(b, 8);                 /* its width in bits (a PkgLength) */
	aml_close(b, field);
	size_t evt = aml_open(b, op_method, 1);
	aml_namestring(b, "_EVT");
	aml_byte(b, 0x09);              /* 1 argument, serialized */
	aml_byte(b, 0x70);              /* Store (EVTS, Local0) */
	aml_namestring(b, "EVTS");
	aml_byte(b, 0x60);
	size_t cond = aml_open(b, op_if, sizeof(op_if));
	aml_byte(b, 0x7b);              /* And (Local0, One, NullName) */
	aml_byte(b, 0x60);
	aml_byte(b, 0x01);
	aml_byte(b, 0x00);
	aml_byte(b, 0x86);              /* Notify (\_SB.PWRB, 0x80) */
	aml_namestring(b, "\\_SB_.PWRB");
	aml_integer(b, 0x80);
	aml_close(b, cond);
	aml_close(b, evt);
	aml_close(b, ged);

	size_t pwrb = device_open(b, "PWRB");
	aml_name(b, "_HID");
	aml_eisaid(b, "PNP0C0C");       /* power button */
	aml_name(b, "_UID");
	aml_integer(b, 0);
	aml_close(b, pwrb);
}

static void dsdt_body(struct aml_buf *b, const struct vmm_acpi_config *cfg)
{
	size_t sb = aml_open(b, op_scope, 1);
	aml_namestring(b, "\\_SB_");
	dsdt_pci0(b, cfg->map);

	size_t mres = device_open(b, "MRES");
	aml_name(b, "_HID");
	aml_eisaid(b, "PNP0C02"); /* motherboard resources */
	aml_name(b, "_UID");
	aml_integer(b, 0);
	size_t size_at, crs = crs_open(b, &size_at);
	memory32_fixed(b, (uint32_t)VMM_ECAM_BASE, (uint32_t)VMM_ECAM_BYTES);
	crs_close(b, crs, size_at);
	aml_close(b, mres);

	size_t com = device_open(b, "COM1");
	aml_name(b, "_HID");
	aml_eisaid(b, "PNP0501"); /* 16550A-compatible */
	aml_name(b, "_UID");
	aml_integer(b, 0);
	crs = crs_open(b, &size_at);
	io_port(b, VMM_UART_COM1_PORT, 8);
	irq_noflags(b, VMM_UART_COM1_IRQ);
	crs_close(b, crs, size_at);
	aml_close(b, com);
	dsdt_power_button(b);
	aml_close(b, sb);

	/* \_S5: Package { SLP_TYPa, SLP_TYPb, reserved, reserved } (7.4.2). */
	aml_name(b, "\\_S5_");
	size_t s5 = aml_open(b, op_package, 1);
	aml_byte(b, 4);
	aml_integer(b, VMM_POWER_S5_TYPE);
	aml_integer(b, VMM_POWER_S5_TYPE);
	aml_integer(b, 0);
	aml_integer(b, 0);
	aml_close(b, s5);
}

/* ---- fixed tables ---------------------------------------------------------- */
#define FADT_BYTES 276
#define FADT_FLAG_WBINVD (1U << 0)
#define FADT_FLAG_RESET_REG_SUP (1U << 10)
#define FADT_FLAG_HW_REDUCED (1U << 20)
#define IAPC_NO_VGA (1U << 2)
#define IAPC_NO_ASPM (1U << 4)
#define IAPC_NO_CMOS_RTC (1U << 5)

/* FADT (5.2.9), revision 6: offsets are the spec's table 5.9. No PM1 or
 * GPE blocks, no SCI, no FACS: the hardware-reduced model (4.1). */
static uint32_t build_fadt(uint8_t *t, uint64_t dsdt_gpa)
{
	memset(t, 0, FADT_BYTES);
	header(t, "FACP", FADT_BYTES, 6);
	put(t + 40, dsdt_gpa, 4);
	/* IAPC_BOOT_ARCH: no VGA, no CMOS RTC, ASPM off; no 8042 and no
	 * LEGACY_DEVICES bit, so Linux skips probing them; MSI supported. */
	put(t + 109, IAPC_NO_VGA | IAPC_NO_ASPM | IAPC_NO_CMOS_RTC, 2);
	put(t + 112, FADT_FLAG_WBINVD | FADT_FLAG_RESET_REG_SUP | FADT_FLAG_HW_REDUCED, 4);
	gas_io8(t + 116, VMM_POWER_RESET);
	t[128] = VMM_POWER_RESET_VALUE;
	t[131] = 3; /* FADT minor version: ACPI 6.3 */
	put(t + 140, dsdt_gpa, 8);
	gas_io8(t + 244, VMM_POWER_SLEEP_CONTROL);
	gas_io8(t + 256, VMM_POWER_SLEEP_STATUS);
	memcpy(t + 268, "PASSVM  ", 8); /* hypervisor vendor identity */
	finish(t, FADT_BYTES);
	return FADT_BYTES;
}

/* MADT (5.2.12): a local APIC per vCPU (APIC ID = vCPU index), the IOAPIC,
 * ISA IRQ 0 -> GSI 2 (the PIT is on IOAPIC pin 2 in KVM), LINT1 as NMI. */
static uint32_t build_madt(uint8_t *t, size_t cap, unsigned cpus)
{
	uint32_t len = HEADER_BYTES + 8 + cpus * 8 + 12 + 10 + 6;
	if (len > cap)
		return 0;
	memset(t, 0, len);
	header(t, "APIC", len, 5);
	put(t + 36, VMM_LAPIC_BASE, 4);
	put(t + 40, 0, 4); /* flags: no PC-AT 8259 pair to disable */
	uint8_t *e = t + 44;
	for (unsigned i = 0; i < cpus; i++, e += 8) {
		e[0] = 0;          /* Processor Local APIC */
		e[1] = 8;
		e[2] = (uint8_t)i; /* ACPI processor UID */
		e[3] = (uint8_t)i; /* APIC ID */
		put(e + 4, 1, 4);  /* enabled */
	}
	e[0] = 1;                  /* I/O APIC */
	e[1] = 12;
	e[2] = 0;                  /* its ID, as KVM's IOAPIC reports */
	put(e + 4, VMM_IOAPIC_BASE, 4);
	put(e + 8, 0, 4);          /* GSI base */
	e += 12;
	e[0] = 2;                  /* Interrupt Source Override */
	e[1] = 10;
	e[2] = 0;                  /* ISA */
	e[3] = 0;                  /* IRQ 0 */
	put(e + 4, 2, 4);          /* GSI 2 */
	put(e + 8, 0, 2);          /* bus-conforming polarity and trigger */
	e += 10;
	e[0] = 4;                  /* Local APIC NMI */
	e[1] = 6;
	e[2] = 0xff;               /* all processors */
	put(e + 3, 0, 2);
	e[5] = 1;                  /* LINT1 */
	finish(t, len);
	return len;
}

/* MCFG (PCI Firmware 3.2, 4.1.2): ECAM for segment 0, bus 0. */
static uint32_t build_mcfg(uint8_t *t)
{
	uint32_t len = HEADER_BYTES + 8 + 16;
	memset(t, 0, len);
	header(t, "MCFG", len, 1);
	uint8_t *e = t + HEADER_BYTES + 8;
	put(e, VMM_ECAM_BASE, 8);
	put(e + 8, 0, 2);
	e[10] = 0;
	e[11] = VMM_ECAM_BUSES - 1;
	finish(t, len);
	return len;
}

static size_t align16(size_t v)
{
	return (v + 15) & ~(size_t)15;
}

int vmm_acpi_build(uint8_t *buf, size_t cap, const struct vmm_acpi_config *cfg)
{
	enum { RSDP_BYTES = 36, XSDT_ENTRIES = 3 };
	if (cfg->cpus == 0 || cfg->cpus > 255 || cap < 1024)
		return -EINVAL;
	memset(buf, 0, cap);
	size_t off_xsdt = align16(RSDP_BYTES);
	size_t off_fadt = align16(off_xsdt + HEADER_BYTES + 8 * XSDT_ENTRIES);
	size_t off_madt = align16(off_fadt + FADT_BYTES);
	uint32_t madt_len = build_madt(buf + off_madt, cap - off_madt, cfg->cpus);
	if (!madt_len)
		return -ENOSPC;
	size_t off_mcfg = align16(off_madt + madt_len);
	size_t off_dsdt = align16(off_mcfg + HEADER_BYTES + 24);
	if (off_dsdt + HEADER_BYTES >= cap)
		return -ENOSPC;
	build_mcfg(buf + off_mcfg);

	struct aml_buf aml;
	aml_init(&aml, buf + off_dsdt + HEADER_BYTES, cap - off_dsdt - HEADER_BYTES);
	dsdt_body(&aml, cfg);
	if (aml.overflow)
		return -ENOSPC;
	uint32_t dsdt_len = (uint32_t)(HEADER_BYTES + aml.len);
	header(buf + off_dsdt, "DSDT", dsdt_len, 2);
	finish(buf + off_dsdt, dsdt_len);
	build_fadt(buf + off_fadt, cfg->base_gpa + off_dsdt);

	uint8_t *x = buf + off_xsdt;
	uint32_t xsdt_len = HEADER_BYTES + 8 * XSDT_ENTRIES;
	header(x, "XSDT", xsdt_len, 1);
	put(x + HEADER_BYTES, cfg->base_gpa + off_fadt, 8);
	put(x + HEADER_BYTES + 8, cfg->base_gpa + off_madt, 8);
	put(x + HEADER_BYTES + 16, cfg->base_gpa + off_mcfg, 8);
	finish(x, xsdt_len);

	/* RSDP (5.2.5.3), revision 2: XSDT only. */
	memcpy(buf, "RSD PTR ", 8);
	memcpy(buf + 9, OEM_ID, 6);
	buf[15] = 2;
	put(buf + 20, RSDP_BYTES, 4);
	put(buf + 24, cfg->base_gpa + off_xsdt, 8);
	buf[8] = vmm_acpi_checksum(buf, 20);
	buf[32] = vmm_acpi_checksum(buf, RSDP_BYTES);
	return (int)(off_dsdt + dsdt_len);
}
