// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The PCIe host bridge: bus 0 of segment 0, reached through the legacy
 * configuration mechanism #1 (CONFIG_ADDRESS at port 0xCF8, CONFIG_DATA at
 * 0xCFC; PCI Local Bus 3.0, 3.2.2.3.2) and through ECAM (PCIe 4.0, 7.2.2:
 * bus << 20 | device << 15 | function << 12 | register), announced to the
 * guest by the MCFG table. It also hands out BAR addresses at plug time, as
 * firmware would, from the windows the DSDT's _CRS declares.
 */
#include "vmm.h"

#include <errno.h>
#include <string.h>

#define CONFIG_ADDRESS_ENABLE (1U << 31)
#define IO_WINDOW_START 0xc000U   /* matches the DSDT's I/O window */
#define IO_WINDOW_END 0x10000U

/* Red Hat's generic PCIe host bridge ID (QEMU's gpex uses it): Linux binds
 * no driver to it and lspci names it. Class 06 00 00: host bridge. */
#define HOST_BRIDGE_VENDOR 0x1b36
#define HOST_BRIDGE_DEVICE 0x0008
#define HOST_BRIDGE_CLASS 0x060000

#define PCI_INTX_GSI_BASE 16
#define PCI_INTX_GSIS 8

uint32_t vmm_pci_intx_gsi(unsigned slot, unsigned pin)
{
	return PCI_INTX_GSI_BASE + (slot + pin) % PCI_INTX_GSIS;
}

static const struct vmm_pci_device_ops bridge_ops = { .name = "host-bridge" };

#define PCI_HEADER_TYPE 0x0e
#define PCI_HEADER_TYPE_MULTIFUNCTION 0x80

/* The function at bus/device/function of bus 0, or NULL (reads as
 * all-ones, which is how a guest's scan learns a function is absent).
 * Caller holds host->lock. */
static struct vmm_pci_device *lookup(struct vmm_pci_host *host, uint32_t bus,
				     uint32_t dev, uint32_t fn)
{
	if (bus != 0 || dev >= VMM_PCI_SLOTS || fn >= VMM_PCI_FUNCTIONS)
		return NULL;
	return host->slots[dev][fn];
}

static uint32_t load_le(const uint8_t *data, uint32_t size)
{
	uint32_t v = 0;
	for (uint32_t i = 0; i < size && i < 4; i++)
		v |= (uint32_t)data[i] << (8 * i);
	return v;
}

static void store_le(uint8_t *data, uint32_t size, uint32_t v)
{
	for (uint32_t i = 0; i < size; i++)
		data[i] = i < 4 ? (uint8_t)(v >> (8 * i)) : 0xff;
}

static void config_access(struct vmm_pci_host *host, struct vmm_pci_device *pdev,
			  uint32_t reg, uint8_t *data, uint32_t size, bool is_write)
{
	if (!pdev || size > 4) {
		if (!is_write)
			memset(data, 0xff, size);
		return;
	}
	if (is_write)
		vmm_pci_config_write(pdev, reg, size, load_le(data, size));
	else
		store_le(data, size, vmm_pci_config_read(pdev, reg, size));
}

/* Ports 0xCF8-0xCFF. */
static void cf8_access(void *dev, uint64_t off, uint8_t *data, uint32_t size,
		       bool is_write)
{
	struct vmm_pci_host *host = dev;
	pthread_mutex_lock(&host->lock);
	if (off == 0 && size == 4) {
		/* CONFIG_ADDRESS only takes dword accesses; byte accesses to
		 * 0xCF8-0xCFB are other chipset registers (0xCF9: reset). */
		if (is_write)
			host->cf8 = load_le(data, 4) & 0x80fffffc;
		else
			store_le(data, 4, host->cf8);
	} else if (off >= 4 && (host->cf8 & CONFIG_ADDRESS_ENABLE)) {
		uint32_t a = host->cf8;
		struct vmm_pci_device *pdev =
			lookup(host, (a >> 16) & 0xff, (a >> 11) & 0x1f, (a >> 8) & 0x7);
		config_access(host, pdev, (a & 0xfc) + (uint32_t)(off - 4), data, size,
			      is_write);
	} else if (!is_write) {
		memset(data, 0xff, size);
	}
	pthread_mutex_unlock(&host->lock);
}

static void cf8_read(void *dev, uint64_t off, uint8_t *data, uint32_t size)
{
	cf8_access(dev, off, data, size, false);
}

static void cf8_write(void *dev, uint64_t off, const uint8_t *data, uint32_t size)
{
	cf8_access(dev, off, (uint8_t *)data, size, true);
}

static void ecam_access(void *dev, uint64_t off, uint8_t *data, uint32_t size,
			bool is_write)
{
	struct vmm_pci_host *host = dev;
	pthread_mutex_lock(&host->lock);
	struct vmm_pci_device *pdev = lookup(host, (uint32_t)(off >> 20),
					     (off >> 15) & 0x1f, (off >> 12) & 0x7);
	config_access(host, pdev, off & 0xfff, data, size, is_write);
	pthread_mutex_unlock(&host->lock);
}

static void ecam_read(void *dev, uint64_t off, uint8_t *data, uint32_t size)
{
	ecam_access(dev, off, data, size, false);
}

static void ecam_write(void *dev, uint64_t off, const uint8_t *data, uint32_t size)
{
	ecam_access(dev, off, (uint8_t *)data, size, true);
}

const struct vmm_device_ops vmm_pci_host_cfg_ops = {
	.name = "pci-cf8", .read = cf8_read, .write = cf8_write,
};
const struct vmm_device_ops vmm_pci_host_ecam_ops = {
	.name = "pci-ecam", .read = ecam_read, .write = ecam_write,
};

int vmm_pci_host_init(struct vmm_pci_host *host, struct vmm_bus *pio,
		      struct vmm_bus *mmio, const struct vmm_memory_map *map)
{
	memset(host, 0, sizeof(*host));
	pthread_mutex_init(&host->lock, NULL);
	host->mmio32_next = VMM_MMIO32_START;
	host->mmio64_next = map->mmio64_start;
	host->mmio64_end = map->mmio64_end;
	host->io_next = IO_WINDOW_START;
	vmm_pci_device_init(&host->bridge, HOST_BRIDGE_VENDOR, HOST_BRIDGE_DEVICE,
			    HOST_BRIDGE_CLASS, &bridge_ops, host);
	host->bridge.slot = 0;
	host->slots[0][0] = &host->bridge;
	int r = vmm_bus_register(pio, 0xcf8, 8, &vmm_pci_host_cfg_ops, host);
	if (r == 0)
		r = vmm_bus_register(mmio, VMM_ECAM_BASE, VMM_ECAM_BYTES,
				     &vmm_pci_host_ecam_ops, host);
	return r;
}

void vmm_pci_host_destroy(struct vmm_pci_host *host)
{
	pthread_mutex_destroy(&host->lock);
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* Picks an address for each BAR of a function (alignment is the BAR size),
 * advancing the window cursors; writes nothing to the function yet. */
static int place_bars(struct vmm_pci_host *host, const struct vmm_pci_device *pdev,
		      uint64_t addrs[VMM_PCI_BARS], uint16_t *cmd)
{
	*cmd = 0;
	for (unsigned i = 0; i < VMM_PCI_BARS; i++) {
		const struct vmm_pci_bar *b = &pdev->bars[i];
		addrs[i] = 0;
		if (!b->size)
			continue;
		uint64_t addr;
		if (b->flags & VMM_PCI_BAR_IO) {
			addr = align_up(host->io_next, b->size);
			if (addr + b->size > IO_WINDOW_END)
				return -ENOSPC;
			host->io_next = (uint32_t)(addr + b->size);
			*cmd |= 0x1;
		} else if (b->flags & VMM_PCI_BAR_MEM64) {
			/* Every 64-bit BAR goes above 4 GiB: the window is half
			 * the physical address space, so a GPU's 16 or 32 GiB
			 * BAR fits, and the 32-bit window stays for the BARs
			 * that can only live there. */
			addr = align_up(host->mmio64_next, b->size);
			if (addr < host->mmio64_next || addr > host->mmio64_end ||
			    b->size > host->mmio64_end - addr)
				return -ENOSPC;
			host->mmio64_next = addr + b->size;
			*cmd |= 0x2;
		} else {
			addr = align_up(host->mmio32_next, b->size);
			if (addr > VMM_MMIO32_END || b->size > VMM_MMIO32_END - addr)
				return -ENOSPC;
			host->mmio32_next = addr + b->size;
			*cmd |= 0x2;
		}
		addrs[i] = addr;
	}
	return 0;
}

static void apply_bars(struct vmm_pci_device *pdev, const uint64_t addrs[VMM_PCI_BARS],
		       uint16_t cmd)
{
	for (unsigned i = 0; i < VMM_PCI_BARS; i++) {
		const struct vmm_pci_bar *b = &pdev->bars[i];
		if (!b->size)
			continue;
		vmm_pci_config_write(pdev, 0x10 + 4 * i, 4, (uint32_t)addrs[i]);
		if (b->flags & VMM_PCI_BAR_MEM64)
			vmm_pci_config_write(pdev, 0x10 + 4 * (i + 1), 4,
					     (uint32_t)(addrs[i] >> 32));
	}
	/* Enable decoding last, so each BAR is mapped once, where it ends up. */
	if (cmd)
		vmm_pci_config_write(pdev, 0x4, 2, cmd);
}

static bool slot_free(const struct vmm_pci_host *host, int slot)
{
	for (unsigned fn = 0; fn < VMM_PCI_FUNCTIONS; fn++)
		if (host->slots[slot][fn])
			return false;
	return true;
}

int vmm_pci_host_add_slot(struct vmm_pci_host *host, struct vmm_pci_device *const *fns,
			  unsigned count)
{
	if (count == 0 || count > VMM_PCI_FUNCTIONS || !fns[0])
		return -EINVAL;
	int r = -ENOSPC;
	pthread_mutex_lock(&host->lock);
	/* BAR windows are only advanced on success: a failed plug must not
	 * leave a hole that later devices can no longer use. */
	uint64_t m32 = host->mmio32_next, m64 = host->mmio64_next;
	uint32_t io = host->io_next;
	for (int slot = 1; slot < VMM_PCI_SLOTS; slot++) {
		if (!slot_free(host, slot))
			continue;
		bool multi = false;
		uint64_t addrs[VMM_PCI_FUNCTIONS][VMM_PCI_BARS];
		uint16_t cmds[VMM_PCI_FUNCTIONS] = { 0 };
		r = 0;
		for (unsigned fn = 0; fn < count && r == 0; fn++) {
			if (!fns[fn])
				continue;
			multi |= fn > 0;
			r = place_bars(host, fns[fn], addrs[fn], &cmds[fn]);
		}
		if (r < 0) {
			host->mmio32_next = m32;
			host->mmio64_next = m64;
			host->io_next = io;
			break;
		}
		uint8_t *ht = &fns[0]->config[PCI_HEADER_TYPE];
		*ht = (uint8_t)(multi ? *ht | PCI_HEADER_TYPE_MULTIFUNCTION
				      : *ht & ~PCI_HEADER_TYPE_MULTIFUNCTION);
		for (unsigned fn = 0; fn < count; fn++) {
			if (!fns[fn])
				continue;
			apply_bars(fns[fn], addrs[fn], cmds[fn]);
			fns[fn]->slot = slot;
			fns[fn]->function = (int)fn;
			host->slots[slot][fn] = fns[fn];
		}
		r = slot;
		break;
	}
	pthread_mutex_unlock(&host->lock);
	return r;
}

int vmm_pci_host_add(struct vmm_pci_host *host, struct vmm_pci_device *pdev)
{
	return vmm_pci_host_add_slot(host, &pdev, 1);
}

void vmm_pci_host_remove(struct vmm_pci_host *host, struct vmm_pci_device *pdev)
{
	pthread_mutex_lock(&host->lock);
	if (pdev->slot > 0 && pdev->slot < VMM_PCI_SLOTS && pdev->function >= 0 &&
	    pdev->function < VMM_PCI_FUNCTIONS &&
	    host->slots[pdev->slot][pdev->function] == pdev)
		host->slots[pdev->slot][pdev->function] = NULL;
	pdev->slot = -1;
	pthread_mutex_unlock(&host->lock);
}
