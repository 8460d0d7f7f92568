// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The capability walker over a PCI configuration space image (sysfs
 * `config`). The image is hostile input: a crafted tree, or a device with
 * broken firmware, can hold pointers past the end, loops, or zero-length
 * lists. Every read is bounds-checked against what was actually read, and
 * each walk has a loop limit (PCI Local Bus 3.0 6.7: capabilities live in
 * 0x40..0xff, dword aligned; PCIe 6.0 7.6: extended capabilities in
 * 0x100..0xfff, also dword aligned).
 */
#include "iommu_tools.h"

#include <errno.h>
#include <pci/header.h>
#include <string.h>

#define CFG_STD_SIZE 256
#define CFG_EXT_SIZE 4096
/* Resizable BAR capability (PCIe 6.0 7.8.6): per BAR a capability and a
 * control dword; control bits 2:0 BAR index, 7:5 count (first entry),
 * 13:8 current size as log2(MiB). Not in pciutils' header.h. */
#define REBAR_CAP 4
#define REBAR_CTRL 8

static bool rd8(const uint8_t *c, size_t len, size_t off, uint8_t *v)
{
	if (off >= len)
		return false;
	*v = c[off];
	return true;
}

static bool rd16(const uint8_t *c, size_t len, size_t off, uint16_t *v)
{
	if (off > len || len - off < 2)
		return false;
	*v = (uint16_t)(c[off] | c[off + 1] << 8);
	return true;
}

static bool rd32(const uint8_t *c, size_t len, size_t off, uint32_t *v)
{
	if (off > len || len - off < 4)
		return false;
	*v = (uint32_t)c[off] | (uint32_t)c[off + 1] << 8 |
	     (uint32_t)c[off + 2] << 16 | (uint32_t)c[off + 3] << 24;
	return true;
}

static void parse_pcie(const uint8_t *c, size_t len, size_t pos,
		       struct pci_config_info *o)
{
	uint16_t flags;
	uint32_t devcap;
	if (!rd16(c, len, pos + PCI_EXP_FLAGS, &flags))
		return;
	o->is_pcie = true;
	o->pcie_type = (uint8_t)((flags & PCI_EXP_FLAGS_TYPE) >> 4);
	if (rd32(c, len, pos + PCI_EXP_DEVCAP, &devcap))
		o->flr = (devcap & PCI_EXP_DEVCAP_FLRESET) != 0;
}

static void parse_std_cap(const uint8_t *c, size_t len, uint8_t id, size_t pos,
			  struct pci_config_info *o)
{
	uint16_t ctrl;
	uint32_t table;
	uint8_t af;
	switch (id) {
	case PCI_CAP_ID_PM:
		o->pm = true;
		if (rd16(c, len, pos + PCI_PM_CTRL, &ctrl))
			o->pm_no_soft_reset = (ctrl & PCI_PM_CTRL_NO_SOFT_RST) != 0;
		break;
	case PCI_CAP_ID_MSI:
		if (!rd16(c, len, pos + PCI_MSI_FLAGS, &ctrl))
			break;
		o->msi = true;
		o->msi_vectors = 1u << ((ctrl & PCI_MSI_FLAGS_QMASK) >> 1);
		if (o->msi_vectors > 32) /* encodings 110b and 111b are reserved */
			o->msi_vectors = 32;
		o->msi_64bit = (ctrl & PCI_MSI_FLAGS_64BIT) != 0;
		break;
	case PCI_CAP_ID_MSIX:
		if (!rd16(c, len, pos + PCI_CAP_FLAGS, &ctrl) ||
		    !rd32(c, len, pos + PCI_MSIX_TABLE, &table))
			break;
		o->msix = true;
		o->msix_vectors = (ctrl & PCI_MSIX_TABSIZE) + 1u;
		o->msix_table_bar = (uint8_t)(table & PCI_MSIX_BIR);
		o->msix_table_offset = table & ~(uint32_t)PCI_MSIX_BIR;
		break;
	case PCI_CAP_ID_EXP:
		parse_pcie(c, len, pos, o);
		break;
	case PCI_CAP_ID_AF:
		if (rd8(c, len, pos + PCI_AF_CAP, &af))
			o->af_flr = (af & PCI_AF_CAP_TP) && (af & PCI_AF_CAP_FLR);
		break;
	}
}

static void walk_std_caps(const uint8_t *c, size_t len, struct pci_config_info *o)
{
	uint16_t status;
	uint8_t ptr;
	if (!rd16(c, len, PCI_STATUS, &status) || !(status & PCI_STATUS_CAP_LIST))
		return;
	/* CardBus bridges keep the pointer elsewhere (0x14). */
	if (!rd8(c, len, o->header_type == PCI_HEADER_TYPE_CARDBUS ? 0x14
		 : PCI_CAPABILITY_LIST, &ptr))
		return;
	/* 48 dwords between 0x40 and 0x100: more steps than that is a loop. */
	for (unsigned steps = 0; steps < 48; steps++) {
		ptr &= (uint8_t)~3u;
		if (ptr < 0x40)
			return;
		uint8_t id, next;
		if (!rd8(c, len, ptr + PCI_CAP_LIST_ID, &id) ||
		    !rd8(c, len, ptr + PCI_CAP_LIST_NEXT, &next))
			return;
		if (id == 0xff)
			return;
		parse_std_cap(c, len, id, ptr, o);
		ptr = next;
	}
}

static void parse_rebar(const uint8_t *c, size_t len, size_t pos,
			struct pci_config_info *o)
{
	uint32_t ctrl0;
	if (!rd32(c, len, pos + REBAR_CTRL, &ctrl0))
		return;
	unsigned count = (ctrl0 >> 5) & 7;
	if (count > 6)
		count = 6;
	o->rebar = true;
	o->rebar_count = 0;
	for (unsigned i = 0; i < count; i++) {
		uint32_t cap, ctrl;
		size_t at = pos + 8 * (size_t)i;
		if (!rd32(c, len, at + REBAR_CAP, &cap) ||
		    !rd32(c, len, at + REBAR_CTRL, &ctrl))
			break;
		o->rebar_bars[o->rebar_count].bar = (uint8_t)(ctrl & 7);
		o->rebar_bars[o->rebar_count].current_log2_mib = (uint8_t)((ctrl >> 8) & 0x3f);
		o->rebar_bars[o->rebar_count].supported_mask = (cap >> 4) & 0x0fffffff;
		o->rebar_count++;
	}
}

static void walk_ext_caps(const uint8_t *c, size_t len, struct pci_config_info *o)
{
	size_t pos = 0x100;
	/* (4096 - 256) / 4 dwords: a longer walk is a loop. */
	for (unsigned steps = 0; steps < 960; steps++) {
		uint32_t hdr;
		if (!rd32(c, len, pos, &hdr) || hdr == 0 || hdr == 0xffffffff)
			return;
		uint16_t id = (uint16_t)(hdr & 0xffff);
		switch (id) {
		case PCI_EXT_CAP_ID_ACS:
			if (rd16(c, len, pos + PCI_ACS_CAP, &o->acs_cap) &&
			    rd16(c, len, pos + PCI_ACS_CTRL, &o->acs_ctrl))
				o->acs = true;
			break;
		case PCI_EXT_CAP_ID_SRIOV:
			if (rd16(c, len, pos + PCI_IOV_TOTALVF, &o->sriov_total_vfs) &&
			    rd16(c, len, pos + PCI_IOV_NUMVF, &o->sriov_num_vfs))
				o->sriov = true;
			break;
		case PCI_EXT_CAP_ID_REBAR:
			parse_rebar(c, len, pos, o);
			break;
		}
		size_t next = (hdr >> 20) & 0xffc;
		if (next < 0x100)
			return;
		pos = next;
	}
}

int pci_config_parse(const uint8_t *cfg, size_t len, struct pci_config_info *o)
{
	uint8_t ht;
	memset(o, 0, sizeof(*o));
	o->len = len;
	if (!rd8(cfg, len, PCI_HEADER_TYPE, &ht))
		return -EBADMSG;
	o->header_type = ht & 0x7f;
	o->multifunction = (ht & 0x80) != 0;
	/* An unprivileged reader gets the first 64 bytes only: the
	 * capabilities are then unknown, not absent. */
	o->caps_read = len >= CFG_STD_SIZE;
	if (o->caps_read)
		walk_std_caps(cfg, len, o);
	o->ext_caps_read = len >= CFG_EXT_SIZE && o->is_pcie;
	if (o->ext_caps_read)
		walk_ext_caps(cfg, len, o);
	return 0;
}
