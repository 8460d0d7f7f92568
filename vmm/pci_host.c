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

static const struct vmm_pci_device_ops bridge_ops = { .name = "host-bridge" };

/* The function at bus/device/function, or NULL (reads as all-ones). Only
 * function 0 of bus 0 exists. Caller holds host->lock. */
static struct vmm_pci_device *lookup(struct vmm_pci_host *host, uint32_t bus,
				     uint32_t dev, uint32_t fn)
{
	if (bus != 0 || fn != 0 || dev >= VMM_PCI_SLOTS)
		return NULL;
	return host->slots[dev];
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
	host->slots[0] = &host->bridge;
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

/* Picks an address for each BAR (largest alignment is the BAR size). */
static int assign_bars(struct vmm_pci_host *host, struct vmm_pci_device *pdev)
{
	uint16_t cmd = 0;
	for (unsigned i = 0; i < VMM_PCI_BARS; i++) {
		const struct vmm_pci_bar *b = &pdev->bars[i];
		if (!b->size)
			continue;
		uint64_t addr;
		if (b->flags & VMM_PCI_BAR_IO) {
			addr = align_up(host->io_next, b->size);
			if (addr + b->size > IO_WINDOW_END)
				return -ENOSPC;
			host->io_next = (uint32_t)(addr + b->size);
			cmd |= 0x1;
		} else if (b->flags & VMM_PCI_BAR_MEM64) {
			addr = align_up(host->mmio64_next, b->size);
			if (addr < host->mmio64_next || addr + b->size > host->mmio64_end)
				return -ENOSPC;
			host->mmio64_next = addr + b->size;
			cmd |= 0x2;
		} else {
			addr = align_up(host->mmio32_next, b->size);
			if (addr + b->size > VMM_MMIO32_END)
				return -ENOSPC;
			host->mmio32_next = addr + b->size;
			cmd |= 0x2;
		}
		vmm_pci_config_write(pdev, 0x10 + 4 * i, 4, (uint32_t)addr);
		if (b->flags & VMM_PCI_BAR_MEM64)
			vmm_pci_config_write(pdev, 0x10 + 4 * (i + 1), 4,
					     (uint32_t)(addr >> 32));
	}
	/* Enable decoding last, so each BAR is mapped once, where it ends up. */
	if (cmd)
		vmm_pci_config_write(pdev, 0x4, 2, cmd);
	return 0;
}

int vmm_pci_host_add(struct vmm_pci_host *host, struct vmm_pci_device *pdev)
{
	int r = -ENOSPC;
	pthread_mutex_lock(&host->lock);
	for (int slot = 1; slot < VMM_PCI_SLOTS; slot++) {
		if (host->slots[slot])
			continue;
		r = assign_bars(host, pdev);
		if (r < 0)
			break;
		pdev->slot = slot;
		host->slots[slot] = pdev;
		r = slot;
		break;
	}
	pthread_mutex_unlock(&host->lock);
	return r;
}
