// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The ACPI tables that describe an IOMMU, as /sys/firmware/acpi/tables
 * gives them (root only: mode 0400):
 *  - DMAR, Intel VT-d spec 4.0 section 8.1: 36-byte ACPI header, Host
 *    Address Width (byte 36), Flags (byte 37: bit 0 INTR_REMAP, bit 1
 *    X2APIC_OPT_OUT), 10 reserved, then remapping structures (type u16,
 *    length u16): 0 DRHD, 1 RMRR, 2 ATSR, 3 RHSA, 4 ANDD, 5 SATC.
 *  - IVRS, AMD IOMMU spec 3.08 section 5.2: 36-byte header, IVinfo (u32 at
 *    36), 8 reserved, then IVHD (types 10h, 11h, 40h) and IVMD blocks
 *    (type u8, flags u8, length u16).
 * Both are firmware input: lengths are checked, a zero length stops.
 */
#include "iommu_tools.h"

#include <errno.h>
#include <string.h>

#define ACPI_HEADER_LEN 36
#define IOMMU_TABLE_BODY 48

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* The table's own length, clamped to what was read. */
static int table_len(const uint8_t *data, size_t len, const char *sig, size_t *tlen)
{
	if (len < IOMMU_TABLE_BODY || memcmp(data, sig, 4) != 0)
		return -EBADMSG;
	uint32_t l = le32(data + 4);
	if (l < IOMMU_TABLE_BODY)
		return -EBADMSG;
	*tlen = l < len ? l : len;
	return 0;
}

int acpi_dmar_parse(const uint8_t *data, size_t len, struct acpi_iommu_table *out)
{
	size_t tlen;
	memset(out, 0, sizeof(*out));
	int r = table_len(data, len, "DMAR", &tlen);
	if (r < 0)
		return r;
	out->host_address_width = (uint8_t)(data[ACPI_HEADER_LEN] + 1);
	out->flags = data[ACPI_HEADER_LEN + 1];
	for (size_t pos = IOMMU_TABLE_BODY; pos + 4 <= tlen;) {
		uint16_t type = le16(data + pos), slen = le16(data + pos + 2);
		if (slen < 4 || slen > tlen - pos)
			break;
		if (type == 0)
			out->units++;
		else if (type == 1)
			out->rmrr++;
		pos += slen;
	}
	out->valid = true;
	return 0;
}

int acpi_ivrs_parse(const uint8_t *data, size_t len, struct acpi_iommu_table *out)
{
	size_t tlen;
	memset(out, 0, sizeof(*out));
	int r = table_len(data, len, "IVRS", &tlen);
	if (r < 0)
		return r;
	out->ivinfo = le32(data + ACPI_HEADER_LEN);
	/* IVinfo bits 14:8: physical address size (AMD IOMMU spec 5.2.1). */
	out->host_address_width = (uint8_t)((out->ivinfo >> 8) & 0x7f);
	for (size_t pos = IOMMU_TABLE_BODY; pos + 4 <= tlen;) {
		uint8_t type = data[pos];
		uint16_t blen = le16(data + pos + 2);
		if (blen < 4 || blen > tlen - pos)
			break;
		if (type == 0x10 || type == 0x11 || type == 0x40)
			out->units++;
		pos += blen;
	}
	out->valid = true;
	return 0;
}
