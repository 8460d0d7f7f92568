// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A PCI function's configuration space (PCI Local Bus 3.0, chapter 6; PCIe
 * 4.0, 7.5), the part every device model shares: the bytes, which bits the
 * guest may write (wmask) or clear by writing 1 (w1cmask), BAR sizing, the
 * capability list, and telling the device when a BAR is mapped, moved or
 * unmapped. All offsets and sizes come from the guest and are checked.
 */
#include "vmm.h"

#include <errno.h>
#include <string.h>

#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_COMMAND_IO 0x1
#define PCI_COMMAND_MEMORY 0x2
#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_CLASS_REVISION 0x08
#define PCI_CACHE_LINE_SIZE 0x0c
#define PCI_LATENCY_TIMER 0x0d
#define PCI_BAR0 0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID 0x2e
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_CAP_FIRST 0x40
#define PCI_CFG_LEGACY_BYTES 0x100

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }

void vmm_pci_device_init(struct vmm_pci_device *pdev, uint16_t vendor,
			 uint16_t device, uint32_t class_code,
			 const struct vmm_pci_device_ops *ops, void *opaque)
{
	memset(pdev, 0, sizeof(*pdev));
	pdev->ops = ops;
	pdev->opaque = opaque;
	pdev->slot = -1;
	pdev->cap_free = PCI_CAP_FIRST;
	uint8_t *c = pdev->config;
	put16(c + PCI_VENDOR_ID, vendor);
	put16(c + PCI_DEVICE_ID, device);
	put32(c + PCI_CLASS_REVISION, class_code << 8); /* revision 0 */
	put16(c + PCI_SUBSYSTEM_VENDOR_ID, vendor);
	put16(c + PCI_SUBSYSTEM_ID, device);
	/* Command: I/O, memory, bus master, parity, SERR, INTx disable. */
	put16(pdev->wmask + PCI_COMMAND, 0x0547);
	/* Status: the error bits are write-1-to-clear. */
	put16(pdev->w1cmask + PCI_STATUS, 0xf900);
	pdev->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
	pdev->wmask[PCI_LATENCY_TIMER] = 0xff;
	pdev->wmask[PCI_INTERRUPT_LINE] = 0xff;
}

int vmm_pci_device_set_bar(struct vmm_pci_device *pdev, unsigned index,
			   uint64_t size, uint32_t flags)
{
	bool io = flags & VMM_PCI_BAR_IO, mem64 = flags & VMM_PCI_BAR_MEM64;
	if (index >= VMM_PCI_BARS || (mem64 && index + 1 >= VMM_PCI_BARS) ||
	    (io && mem64) || size == 0 || (size & (size - 1)) ||
	    size < (io ? 4 : 16) || (io && size > 256) || (!mem64 && size > (1ULL << 31)))
		return -EINVAL;
	pdev->bars[index] = (struct vmm_pci_bar){ .size = size, .flags = flags };
	uint8_t *bar = pdev->config + PCI_BAR0 + 4 * index;
	uint32_t low_flags = io ? 0x1 : (mem64 ? 0x4 : 0) | (flags & VMM_PCI_BAR_PREFETCH ? 0x8 : 0);
	put32(bar, low_flags);
	uint64_t mask = ~(size - 1);
	put32(pdev->wmask + PCI_BAR0 + 4 * index, (uint32_t)mask & (io ? ~0x3U : ~0xfU));
	if (mem64)
		put32(pdev->wmask + PCI_BAR0 + 4 * (index + 1), (uint32_t)(mask >> 32));
	return 0;
}

int vmm_pci_device_add_capability(struct vmm_pci_device *pdev, uint8_t id, uint8_t len)
{
	uint16_t off = (uint16_t)((pdev->cap_free + 3) & ~3);
	if (len < 2 || off + len > PCI_CFG_LEGACY_BYTES)
		return -ENOSPC;
	pdev->config[off] = id;
	pdev->config[off + 1] = 0;
	if (pdev->cap_last)
		pdev->config[pdev->cap_last + 1] = (uint8_t)off;
	else
		pdev->config[PCI_CAPABILITY_LIST] = (uint8_t)off;
	pdev->config[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	pdev->cap_last = (uint8_t)off;
	pdev->cap_free = off + len;
	return off;
}

static bool access_ok(uint32_t offset, uint32_t size)
{
	return (size == 1 || size == 2 || size == 4) && (offset & (size - 1)) == 0 &&
	       offset < VMM_PCI_CFG_BYTES && offset + size <= VMM_PCI_CFG_BYTES;
}

uint32_t vmm_pci_config_read(struct vmm_pci_device *pdev, uint32_t offset, uint32_t size)
{
	if (!access_ok(offset, size))
		return 0xffffffff;
	if (pdev->ops && pdev->ops->config_read)
		return pdev->ops->config_read(pdev, offset, size);
	return vmm_pci_config_read_emulated(pdev, offset, size);
}

uint32_t vmm_pci_config_read_emulated(struct vmm_pci_device *pdev, uint32_t offset,
				      uint32_t size)
{
	uint32_t v = 0;
	for (uint32_t i = 0; i < size; i++)
		v |= (uint32_t)pdev->config[offset + i] << (8 * i);
	return v;
}

/* Where BAR i decodes now, if its decode type is enabled in COMMAND. */
static bool bar_decode(const struct vmm_pci_device *pdev, unsigned i, uint64_t *addr)
{
	const struct vmm_pci_bar *b = &pdev->bars[i];
	uint16_t cmd = get16(pdev->config + PCI_COMMAND);
	bool io = b->flags & VMM_PCI_BAR_IO;
	if (!(cmd & (io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY)))
		return false;
	uint64_t a = get32(pdev->config + PCI_BAR0 + 4 * i) & (io ? ~0x3U : ~0xfU);
	if (b->flags & VMM_PCI_BAR_MEM64)
		a |= (uint64_t)get32(pdev->config + PCI_BAR0 + 4 * (i + 1)) << 32;
	/* Address 0 is how firmware leaves a BAR unassigned; all-ones is a
	 * BAR in the middle of sizing. Neither decodes. */
	uint64_t sizing = ~(b->size - 1) & (io ? ~0x3ULL : ~0xfULL);
	if (!(b->flags & VMM_PCI_BAR_MEM64))
		sizing &= 0xffffffff;
	if (a == 0 || a == sizing || a + (b->size - 1) < a)
		return false;
	*addr = a;
	return true;
}

static void update_bars(struct vmm_pci_device *pdev)
{
	for (unsigned i = 0; i < VMM_PCI_BARS; i++) {
		struct vmm_pci_bar *b = &pdev->bars[i];
		if (!b->size)
			continue;
		uint64_t addr = 0;
		bool on = bar_decode(pdev, i, &addr);
		if (on == b->mapped && (!on || addr == b->mapped_addr))
			continue;
		if (b->mapped && pdev->ops && pdev->ops->bar_changed)
			pdev->ops->bar_changed(pdev, i, b->mapped_addr, false);
		b->mapped = on;
		b->mapped_addr = on ? addr : 0;
		if (on && pdev->ops && pdev->ops->bar_changed)
			pdev->ops->bar_changed(pdev, i, addr, true);
	}
}

int vmm_pci_config_write(struct vmm_pci_device *pdev, uint32_t offset,
			 uint32_t size, uint32_t value)
{
	if (!access_ok(offset, size))
		return -EINVAL;
	if (pdev->ops && pdev->ops->config_write)
		pdev->ops->config_write(pdev, offset, size, value);
	else
		vmm_pci_config_write_emulated(pdev, offset, size, value);
	return 0;
}

void vmm_pci_config_write_emulated(struct vmm_pci_device *pdev, uint32_t offset,
				   uint32_t size, uint32_t value)
{
	for (uint32_t i = 0; i < size; i++) {
		uint8_t v = (uint8_t)(value >> (8 * i));
		uint32_t o = offset + i;
		uint8_t wm = pdev->wmask[o], w1c = pdev->w1cmask[o];
		pdev->config[o] = (uint8_t)((pdev->config[o] & ~wm) | (v & wm));
		pdev->config[o] &= (uint8_t)~(v & w1c);
	}
	/* A write to COMMAND or a BAR may map, move or unmap a BAR. */
	if (offset < PCI_BAR0 + 4 * VMM_PCI_BARS && offset + size > PCI_COMMAND)
		update_bars(pdev);
	if (pdev->ops && pdev->ops->config_written)
		pdev->ops->config_written(pdev, offset, size);
}
