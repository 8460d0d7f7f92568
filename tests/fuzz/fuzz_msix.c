// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz target: what a guest can do to an emulated MSI-X capability
 * (vmm/msix.c), the CVE-2015-7504/CVE-2020-14364-style surface of a table
 * that a guest indexes: any sequence of config writes (Message Control:
 * enable, function mask; anywhere else too), table and PBA accesses at any
 * BAR offset and size (past the end, unaligned, 0-15 bytes), interrupt
 * sources firing any vector number. The vector count comes from the first
 * two bytes (1 to 2048). Invariants: callbacks only for vectors that exist,
 * and a vector read back is in range. Each access: [op][offset 4][value 8].
 */
#include "msix.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned nr;

static void vector_changed(void *ctx, unsigned vector, uint64_t addr, uint32_t d,
			   bool masked)
{
	if (vector >= nr)
		abort();
}

static void deliver_pending(void *ctx, unsigned vector)
{
	if (vector >= nr)
		abort();
}

static const struct vmm_msix_ops ops = { vector_changed, deliver_pending };

static void config_written(struct vmm_pci_device *pdev, uint32_t offset, uint32_t size)
{
	vmm_msix_config_written(pdev->opaque, offset, size);
}

static const struct vmm_pci_device_ops dev_ops = { .name = "fuzz-msix",
						   .config_written = config_written };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	nr = 1u + ((data[0] | (unsigned)data[1] << 8) % VMM_MSIX_MAX_VECTORS);
	data += 2;
	size -= 2;
	static struct vmm_pci_device dev;
	struct vmm_msix msix;
	uint32_t table = vmm_msix_table_bytes(nr);
	uint32_t pba = (table + 4095) & ~4095u;
	uint64_t bar = 1;
	while (bar < pba + vmm_msix_pba_bytes(nr))
		bar <<= 1;
	vmm_pci_device_init(&dev, 0x1af4, 0x1041, 0x020000, &dev_ops, &msix);
	if (vmm_pci_device_set_bar(&dev, 0, bar < 4096 ? 4096 : bar, 0) < 0)
		return 0;
	if (vmm_msix_init(&msix, &dev, nr, 0, 0, pba, &ops, NULL) < 0)
		abort(); /* valid by construction */
	for (size_t i = 0; i + 13 <= size; i += 13) {
		uint8_t op = data[i];
		uint32_t off;
		uint64_t value;
		memcpy(&off, data + i + 1, 4);
		memcpy(&value, data + i + 5, 8);
		uint8_t buf[16] = { 0 };
		memcpy(buf, &value, 8);
		switch (op & 3) {
		case 0: /* config space: mostly at the capability */
			if (op & 4)
				off = msix.cap + (off & 0xf);
			vmm_pci_config_write(&dev, off & 0xfff, 1u << ((op >> 3) & 3),
					     (uint32_t)value);
			break;
		case 1: /* the BAR: table, PBA, and beyond */
			vmm_msix_bar_access(&msix, off % (2 * bar), buf, (op >> 2) & 0xf,
					    op & 0x40);
			break;
		case 2: { /* an interrupt source fires */
			vmm_msix_fire_allowed(&msix, off % (nr + 4));
			break;
		}
		default: {
			uint64_t addr;
			uint32_t d;
			bool masked;
			if (vmm_msix_vector(&msix, off % (nr + 4), &addr, &d, &masked) &&
			    off % (nr + 4) >= nr)
				abort();
			break;
		}
		}
	}
	vmm_msix_destroy(&msix);
	return 0;
}
