// SPDX-License-Identifier: GPL-2.0-or-later
/* vmm/msix: capability layout, table programming, masks, pending bits, and
 * hostile accesses (misaligned, wrong size, out of range). */
#include "msix.h"
#include "testlib.h"

#include <errno.h>

#define NV 5
#define TABLE 0x0
#define PBA 0x800

static struct {
	unsigned calls, vector;
	uint64_t addr;
	uint32_t data;
	bool masked;
	unsigned delivered[NV];
} seen;

static void changed(void *ctx, unsigned v, uint64_t addr, uint32_t data, bool masked)
{
	seen.calls++;
	seen.vector = v;
	seen.addr = addr;
	seen.data = data;
	seen.masked = masked;
}

static void deliver(void *ctx, unsigned v)
{
	if (v < NV)
		seen.delivered[v]++;
}

static const struct vmm_msix_ops ops = { .vector_changed = changed, .deliver_pending = deliver };

static struct vmm_pci_device pdev;
static struct vmm_msix msix;

static void cfg_written(struct vmm_pci_device *p, uint32_t off, uint32_t size)
{
	vmm_msix_config_written(&msix, off, size);
}

static const struct vmm_pci_device_ops pops = { .name = "t", .config_written = cfg_written };

static void wr(uint64_t off, uint32_t size, uint64_t v)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	CHECK(vmm_msix_bar_access(&msix, off, b, size, true));
}

static uint64_t rd(uint64_t off, uint32_t size)
{
	uint8_t b[8] = { 0 };
	CHECK(vmm_msix_bar_access(&msix, off, b, size, false));
	uint64_t v = 0;
	for (uint32_t i = 0; i < size; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

int main(void)
{
	vmm_pci_device_init(&pdev, 0x1af4, 0x1042, 0x010000, &pops, NULL);
	CHECK_EQ_INT(vmm_msix_init(&msix, &pdev, 0, 1, TABLE, PBA, &ops, NULL), -EINVAL);
	CHECK_EQ_INT(vmm_msix_init(&msix, &pdev, 4096, 1, TABLE, PBA, &ops, NULL), -EINVAL);
	CHECK_EQ_INT(vmm_msix_init(&msix, &pdev, NV, 1, TABLE, 0x40, &ops, NULL), -EINVAL);
	CHECK_EQ_INT(vmm_msix_init(&msix, &pdev, NV, 1, TABLE, PBA + 4, &ops, NULL), -EINVAL);
	CHECK_EQ_INT(vmm_msix_init(&msix, &pdev, NV, 1, TABLE, PBA, &ops, NULL), 0);
	int cap = msix.cap;
	CHECK_EQ_INT(vmm_pci_config_read(&pdev, (uint32_t)cap, 1), 0x11);
	CHECK_EQ_INT(vmm_pci_config_read(&pdev, (uint32_t)cap + 2, 2), NV - 1);
	CHECK_EQ_INT(vmm_pci_config_read(&pdev, (uint32_t)cap + 4, 4), TABLE | 1);
	CHECK_EQ_INT(vmm_pci_config_read(&pdev, (uint32_t)cap + 8, 4), PBA | 1);
	/* Table Size is read-only. */
	vmm_pci_config_write(&pdev, (uint32_t)cap + 2, 2, 0x07ff);
	CHECK_EQ_INT(vmm_pci_config_read(&pdev, (uint32_t)cap + 2, 2), NV - 1);

	/* Vectors start masked; program vector 2 while disabled: no callback. */
	CHECK_EQ_INT(rd(TABLE + 2 * 16 + 12, 4), 1);
	wr(TABLE + 2 * 16, 8, 0xfee01000ULL);
	wr(TABLE + 2 * 16 + 8, 4, 0x4041);
	CHECK_EQ_INT(rd(TABLE + 2 * 16, 8), 0xfee01000ULL);
	CHECK_EQ_INT(seen.calls, 0);
	/* Firing a masked vector records a pending bit. */
	CHECK(!vmm_msix_fire_allowed(&msix, 2));
	CHECK_EQ_INT(rd(PBA, 8), 1 << 2);
	CHECK_EQ_INT(rd(PBA, 4), 1 << 2);
	CHECK(!vmm_msix_fire_allowed(&msix, NV));  /* out of range */

	/* Enable MSI-X: vector 2 is still masked by its own bit. */
	vmm_pci_config_write(&pdev, (uint32_t)cap + 2, 2, 0x8000);
	CHECK(vmm_msix_enabled(&msix));
	CHECK_EQ_INT(seen.calls, 0);
	/* Unmask vector 2: callback with its address/data, pending delivered. */
	wr(TABLE + 2 * 16 + 12, 4, 0);
	CHECK_EQ_INT(seen.calls, 1);
	CHECK_EQ_INT(seen.vector, 2);
	CHECK_EQ_INT(seen.addr, 0xfee01000ULL);
	CHECK_EQ_INT(seen.data, 0x4041);
	CHECK(!seen.masked);
	CHECK_EQ_INT(seen.delivered[2], 1);
	CHECK_EQ_INT(rd(PBA, 8), 0);
	CHECK(vmm_msix_fire_allowed(&msix, 2));

	/* New data on an unmasked vector: a callback. */
	wr(TABLE + 2 * 16 + 8, 4, 0x4042);
	CHECK_EQ_INT(seen.calls, 2);
	CHECK_EQ_INT(seen.data, 0x4042);
	/* Function mask masks every vector; only vector 2 changes state. */
	vmm_pci_config_write(&pdev, (uint32_t)cap + 2, 2, 0xc000);
	CHECK_EQ_INT(seen.calls, 3);
	CHECK(seen.masked);
	CHECK(!vmm_msix_fire_allowed(&msix, 2));
	vmm_pci_config_write(&pdev, (uint32_t)cap + 3, 1, 0x80);
	CHECK_EQ_INT(seen.calls, 4);
	CHECK(!seen.masked);
	CHECK_EQ_INT(seen.delivered[2], 2);
	/* A write to another config register does not touch MSI-X. */
	vmm_pci_config_write(&pdev, 0x04, 2, 0x6);
	CHECK_EQ_INT(seen.calls, 4);

	/* Hostile accesses: wrong size, misaligned, straddling the end, PBA
	 * writes. Reads give all-ones, writes change nothing. */
	unsigned long bad = msix.bad_accesses;
	CHECK_EQ_INT(rd(TABLE + 2 * 16 + 8, 2), 0xffff);
	wr(TABLE + 2 * 16 + 9, 4, 0);
	wr(TABLE + 2 * 16 + 4, 8, 0);          /* 8 bytes, 4-aligned */
	wr(TABLE + NV * 16 - 4, 8, 0);         /* off the end of the table */
	CHECK_EQ_INT(msix.bad_accesses, bad + 4);
	CHECK_EQ_INT(rd(TABLE + 2 * 16 + 8, 4), 0x4042);
	wr(PBA, 8, ~0ULL);
	CHECK_EQ_INT(rd(PBA, 8), 0);
	/* Beyond both regions: not ours. */
	uint8_t b[4];
	CHECK(!vmm_msix_bar_access(&msix, TABLE + NV * 16, b, 4, false));
	CHECK(!vmm_msix_bar_access(&msix, PBA + 8, b, 4, false));
	/* Reserved Vector Control bits do not stick. */
	wr(TABLE + 16 + 12, 4, 0xfffffffe);
	CHECK_EQ_INT(rd(TABLE + 16 + 12, 4), 0);

	/* Disabling MSI-X masks vector 2 (and 1, just unmasked). */
	seen.calls = 0;
	vmm_pci_config_write(&pdev, (uint32_t)cap + 2, 2, 0);
	CHECK_EQ_INT(seen.calls, 2);
	CHECK(seen.masked);
	vmm_msix_destroy(&msix);
	return test_result();
}
