// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz target: what a guest can do to passvm's platform devices — any
 * sequence of port and MMIO accesses (any address, size 0-15, any value)
 * against the PCI host bridge (CF8/CFC, ECAM) with a device that has BARs,
 * the UART and the power registers, all on the real buses. Each input byte
 * group is one access: [flags][addr 4][value 4].
 */
#include "vmm.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void power_event(void *ctx, enum vmm_power_event ev)
{
	(void)ctx;
	(void)ev;
}

static void bar_changed(struct vmm_pci_device *pdev, unsigned bar, uint64_t addr,
			bool mapped)
{
	(void)pdev;
	(void)bar;
	(void)addr;
	(void)mapped;
}

static const struct vmm_pci_device_ops dev_ops = { .name = "fuzz", .bar_changed = bar_changed };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vmm_pci_host host;
	static struct vmm_pci_device dev;
	struct vmm_bus pio, mmio;
	struct vmm_memory_map map;
	struct kvm_vm vm = { .fd = -1 };
	struct vmm_irqchip chip = { .vm = &vm };
	struct vmm_power power = { .event = power_event };
	struct vmm_uart *uart;

	vmm_memory_map_build(&map, 256ULL << 20, 40);
	vmm_bus_init(&pio, "pio");
	vmm_bus_init(&mmio, "mmio");
	vmm_pci_host_init(&host, &pio, &mmio, &map);
	vmm_pci_device_init(&dev, 0x1af4, 0x1041, 0x020000, &dev_ops, NULL);
	vmm_pci_device_set_bar(&dev, 0, 0x1000, 0);
	vmm_pci_device_set_bar(&dev, 2, 0x4000, VMM_PCI_BAR_MEM64);
	vmm_pci_device_set_bar(&dev, 4, 0x40, VMM_PCI_BAR_IO);
	vmm_pci_device_add_capability(&dev, 0x05, 14);
	vmm_pci_host_add(&host, &dev);
	if (vmm_uart_create(&uart, &chip, 4, -1, -1) != 0)
		return 0;
	vmm_bus_register(&pio, VMM_UART_COM1_PORT, 8, &vmm_uart_ops, uart);
	vmm_bus_register(&pio, VMM_POWER_PORT, VMM_POWER_PORT_LEN, &vmm_power_ops, &power);

	for (size_t i = 0; i + 9 <= size; i += 9) {
		uint8_t flags = data[i];
		uint32_t addr, value;
		memcpy(&addr, data + i + 1, 4);
		memcpy(&value, data + i + 5, 4);
		uint8_t buf[16] = { 0 };
		memcpy(buf, &value, 4);
		uint32_t len = flags & 0xf;
		bool is_write = flags & 0x10;
		if (flags & 0x20) {
			/* MMIO: aim most accesses at ECAM. */
			uint64_t a = (flags & 0x40) ? VMM_ECAM_BASE + (addr & 0xfffff) : addr;
			vmm_bus_access(&mmio, a, buf, len, is_write);
		} else {
			/* Port I/O: CF8-CFF, the UART or the power block. */
			static const uint16_t bases[] = { 0xcf8, 0x3f8, 0x600, 0 };
			uint16_t port = (uint16_t)(bases[(flags >> 6) & 3] + (addr & 0xff));
			if ((flags >> 6) == 3)
				port = (uint16_t)addr;
			vmm_bus_access(&pio, port, buf, len, is_write);
		}
	}

	vmm_uart_destroy(uart);
	vmm_pci_host_destroy(&host);
	vmm_bus_destroy(&mmio);
	vmm_bus_destroy(&pio);
	return 0;
}
