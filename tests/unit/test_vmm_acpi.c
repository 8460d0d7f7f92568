// SPDX-License-Identifier: GPL-2.0-or-later
/* ACPI tables: checksums, the pointer chain RSDP -> XSDT -> tables, MADT
 * entries per CPU, MCFG, the DSDT's resource windows; AML PkgLength. */
#include "vmm.h"
#include "../testlib.h"

#include <errno.h>

#define BASE 0xe0000ULL

static uint64_t get(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

/* The table at gpa inside buf, checked: in bounds, signature, checksum. */
static const uint8_t *table(const uint8_t *buf, int used, uint64_t gpa, const char *sig)
{
	CHECK(gpa >= BASE && gpa + 36 <= BASE + (uint64_t)used);
	if (gpa < BASE || gpa + 36 > BASE + (uint64_t)used)
		return NULL;
	const uint8_t *t = buf + (gpa - BASE);
	uint32_t len = (uint32_t)get(t + 4, 4);
	CHECK(gpa + len <= BASE + (uint64_t)used);
	CHECK(memcmp(t, sig, 4) == 0);
	CHECK_EQ_INT(sum(t, len), 0);
	return t;
}

static const uint8_t *find_bytes(const uint8_t *hay, size_t n, const void *needle, size_t m)
{
	for (size_t i = 0; i + m <= n; i++)
		if (memcmp(hay + i, needle, m) == 0)
			return hay + i;
	return NULL;
}

static void test_tables(unsigned cpus)
{
	static uint8_t buf[VMM_ACPI_MAX_BYTES];
	struct vmm_memory_map map;
	CHECK_EQ_INT(vmm_memory_map_build(&map, 1ULL << 30, 40), 0);
	struct vmm_acpi_config cfg = { .cpus = cpus, .map = &map, .base_gpa = BASE };
	int used = vmm_acpi_build(buf, sizeof(buf), &cfg);
	CHECK(used > 0);
	if (used <= 0)
		return;

	/* RSDP: both checksums, revision 2, XSDT pointer. */
	CHECK(memcmp(buf, "RSD PTR ", 8) == 0);
	CHECK_EQ_INT(sum(buf, 20), 0);
	CHECK_EQ_INT(sum(buf, 36), 0);
	CHECK_EQ_INT(buf[15], 2);
	const uint8_t *xsdt = table(buf, used, get(buf + 24, 8), "XSDT");
	if (!xsdt)
		return;
	CHECK_EQ_INT(get(xsdt + 4, 4), 36 + 3 * 8);
	const uint8_t *fadt = table(buf, used, get(xsdt + 36, 8), "FACP");
	const uint8_t *madt = table(buf, used, get(xsdt + 44, 8), "APIC");
	const uint8_t *mcfg = table(buf, used, get(xsdt + 52, 8), "MCFG");
	if (!fadt || !madt || !mcfg)
		return;

	/* FADT: hardware-reduced, reset and sleep registers, the DSDT. */
	CHECK_EQ_INT(get(fadt + 4, 4), 276);
	CHECK(get(fadt + 112, 4) & (1U << 20));
	CHECK(get(fadt + 112, 4) & (1U << 10));
	CHECK(!(get(fadt + 109, 2) & (1U << 3)));       /* MSI not disabled */
	CHECK_EQ_INT(fadt[116], 1);                     /* reset reg in I/O space */
	CHECK_EQ_INT(get(fadt + 120, 8), VMM_POWER_RESET);
	CHECK_EQ_INT(fadt[128], VMM_POWER_RESET_VALUE);
	CHECK_EQ_INT(get(fadt + 248, 8), VMM_POWER_SLEEP_CONTROL);
	CHECK_EQ_INT(get(fadt + 260, 8), VMM_POWER_SLEEP_STATUS);
	CHECK_EQ_INT(get(fadt + 40, 4), get(fadt + 140, 8));
	const uint8_t *dsdt = table(buf, used, get(fadt + 140, 8), "DSDT");

	/* MADT: one enabled local APIC per CPU, then IOAPIC, ISO, NMI. */
	CHECK_EQ_INT(get(madt + 36, 4), VMM_LAPIC_BASE);
	const uint8_t *e = madt + 44, *end = madt + get(madt + 4, 4);
	unsigned lapics = 0, ioapics = 0, isos = 0;
	while (e + 2 <= end && e[1] >= 2) {
		if (e[0] == 0) {
			CHECK_EQ_INT(e[3], lapics);
			CHECK_EQ_INT(get(e + 4, 4), 1);
			lapics++;
		} else if (e[0] == 1) {
			CHECK_EQ_INT(get(e + 4, 4), VMM_IOAPIC_BASE);
			ioapics++;
		} else if (e[0] == 2) {
			CHECK_EQ_INT(e[3], 0);
			CHECK_EQ_INT(get(e + 4, 4), 2);
			isos++;
		}
		e += e[1];
	}
	CHECK(e == end);
	CHECK_EQ_INT(lapics, cpus);
	CHECK_EQ_INT(ioapics, 1);
	CHECK_EQ_INT(isos, 1);

	/* MCFG: ECAM for segment 0, bus 0 only. */
	CHECK_EQ_INT(get(mcfg + 4, 4), 60);
	CHECK_EQ_INT(get(mcfg + 44, 8), VMM_ECAM_BASE);
	CHECK_EQ_INT(mcfg[54], 0);
	CHECK_EQ_INT(mcfg[55], VMM_ECAM_BUSES - 1);

	if (!dsdt)
		return;
	size_t dlen = get(dsdt + 4, 4);
	CHECK(find_bytes(dsdt, dlen, "PCI0", 4) != NULL);
	CHECK(find_bytes(dsdt, dlen, "_S5_", 4) != NULL);
	CHECK(find_bytes(dsdt, dlen, "_PRT", 4) != NULL);
	CHECK(find_bytes(dsdt, dlen, "COM1", 4) != NULL);
	/* The power button: GED0 (ACPI0013) with an edge, active-high
	 * interrupt on VMM_GED_GSI; _EVT reads EVTS and notifies PWRB
	 * (PNP0C0C, EISA ID 0x0c0cd041) with 0x80. */
	CHECK(find_bytes(dsdt, dlen, "\x08_HID\x0d" "ACPI0013", 14) != NULL);
	CHECK(find_bytes(dsdt, dlen, "\x89\x06\x00\x03\x01\x09\x00\x00\x00", 9) != NULL);
	CHECK(find_bytes(dsdt, dlen, "\x5b\x80" "EREG\x01\x0b\x04\x06\x01", 11) != NULL);
	CHECK(find_bytes(dsdt, dlen, "_EVT\x09\x70" "EVTS\x60\xa0", 11) != NULL);
	CHECK(find_bytes(dsdt, dlen, "\x7b\x60\x01\x00\x86\\\x2e_SB_PWRB\x0a\x80", 17) != NULL);
	CHECK(find_bytes(dsdt, dlen, "PWRB\x08_HID\x0c\x41\xd0\x0c\x0c", 14) != NULL);
	/* Method(_OSC, 4) { Return (Arg3) } */
	CHECK(find_bytes(dsdt, dlen, "\x14\x08_OSC\x04\xa4\x6b", 8) != NULL);
	/* The QWord memory descriptor covers the 64-bit window exactly. */
	const uint8_t *q = find_bytes(dsdt, dlen, "\x8a\x2b\x00", 3);
	CHECK(q != NULL);
	if (q) {
		CHECK_EQ_INT(get(q + 14, 8), map.mmio64_start);
		CHECK_EQ_INT(get(q + 22, 8), map.mmio64_end - 1);
		CHECK_EQ_INT(get(q + 38, 8), map.mmio64_end - map.mmio64_start);
	}
	const uint8_t *d = find_bytes(dsdt, dlen, "\x87\x17\x00", 3);
	CHECK(d != NULL);
	if (d) {
		CHECK_EQ_INT(get(d + 10, 4), VMM_MMIO32_START);
		CHECK_EQ_INT(get(d + 14, 4), VMM_MMIO32_END - 1);
	}
	/* The ECAM window is reserved as a motherboard resource. */
	uint8_t m32[12] = { 0x86, 9, 0, 1 };
	memcpy(m32 + 4, &(uint32_t){ (uint32_t)VMM_ECAM_BASE }, 4);
	memcpy(m32 + 8, &(uint32_t){ (uint32_t)VMM_ECAM_BYTES }, 4);
	CHECK(find_bytes(dsdt, dlen, m32, sizeof(m32)) != NULL);
}

static void test_limits(void)
{
	static uint8_t buf[VMM_ACPI_MAX_BYTES];
	struct vmm_memory_map map;
	CHECK_EQ_INT(vmm_memory_map_build(&map, 1ULL << 30, 40), 0);
	struct vmm_acpi_config cfg = { .cpus = 0, .map = &map, .base_gpa = BASE };
	CHECK_EQ_INT(vmm_acpi_build(buf, sizeof(buf), &cfg), -EINVAL);
	cfg.cpus = 1;
	CHECK_EQ_INT(vmm_acpi_build(buf, 2048, &cfg), -ENOSPC);
}

static void test_aml(void)
{
	uint8_t data[512];
	struct aml_buf b;
	static const uint8_t pkg[] = { 0x12 };

	/* Short body: a one-byte PkgLength that counts itself. */
	aml_init(&b, data, sizeof(data));
	size_t m = aml_open(&b, pkg, 1);
	aml_byte(&b, 2);
	aml_integer(&b, 0);
	aml_integer(&b, 0x1234);
	aml_close(&b, m);
	static const uint8_t want[] = { 0x12, 0x06, 0x02, 0x00, 0x0b, 0x34, 0x12 };
	CHECK_EQ_INT(b.len, sizeof(want));
	CHECK(memcmp(data, want, sizeof(want)) == 0);

	/* 100 bytes of body: two-byte PkgLength 102 = 0x66 -> 0x46 0x06. */
	aml_init(&b, data, sizeof(data));
	m = aml_open(&b, pkg, 1);
	for (int i = 0; i < 100; i++)
		aml_byte(&b, 0xaa);
	aml_close(&b, m);
	CHECK_EQ_INT(b.len, 103);
	CHECK_EQ_INT(data[1], 0x46);
	CHECK_EQ_INT(data[2], 0x06);
	CHECK_EQ_INT(data[3], 0xaa);

	/* Integers, names, EISA IDs. */
	aml_init(&b, data, sizeof(data));
	aml_integer(&b, 1);
	aml_integer(&b, 0x100000000ULL);
	CHECK_EQ_INT(b.len, 10);
	CHECK_EQ_INT(data[1], 0x0e);
	aml_init(&b, data, sizeof(data));
	aml_eisaid(&b, "PNP0A08");
	static const uint8_t pnp0a08[] = { 0x0c, 0x41, 0xd0, 0x0a, 0x08 };
	CHECK(memcmp(data, pnp0a08, sizeof(pnp0a08)) == 0);
	aml_init(&b, data, sizeof(data));
	aml_namestring(&b, "\\_SB.PCI0");
	CHECK(memcmp(data, "\\\x2e_SB_PCI0", 10) == 0);

	/* Overflow is recorded, never written past the buffer. */
	aml_init(&b, data, 4);
	aml_string(&b, "too long for four bytes");
	CHECK(b.overflow);
	CHECK(b.len <= 4);
}

int main(void)
{
	test_tables(1);
	test_tables(2);
	test_tables(64);
	test_limits();
	test_aml();
	return test_result();
}
