// SPDX-License-Identifier: GPL-2.0-or-later
/* The pure parts of the passed-through device model: which capabilities a
 * guest sees (relinked lists, emulated bytes), carving the MSI-X table out
 * of mmap-able BAR areas, and keeping the functions of one slot together. */
#include "passthrough.h"
#include "../testlib.h"

#include <errno.h>

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static uint32_t get32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

/* A GPU-like PCIe function: PM at 0x40 -> MSI (64-bit) at 0x50 -> PCIe at
 * 0x70 -> MSI-X at 0xb0 -> vendor at 0xc0 -> AF (FLR) at 0xd0; extended:
 * SR-IOV at 0x100 -> AER at 0x140 -> resizable BAR at 0x180 -> vendor
 * at 0x200. */
static void make_device(uint8_t *raw)
{
	memset(raw, 0, 4096);
	put16(raw, 0x10de);
	put16(raw + 2, 0x2204);
	raw[0x06] = 0x10;
	raw[0x34] = 0x40;
	raw[0x40] = 0x01; raw[0x41] = 0x50;
	raw[0x50] = 0x05; raw[0x51] = 0x70; put16(raw + 0x52, 0x0080);
	raw[0x70] = 0x10; raw[0x71] = 0xb0;
	raw[0xb0] = 0x11; raw[0xb1] = 0xc0; put16(raw + 0xb2, 7); put32(raw + 0xb4, 0x3000 | 0);
	raw[0xc0] = 0x09; raw[0xc1] = 0xd0; raw[0xc2] = 0x10;
	raw[0xd0] = 0x13; raw[0xd1] = 0x00;
	put32(raw + 0x100, 0x10 | 1 << 16 | 0x140u << 20);
	put32(raw + 0x140, 0x01 | 2 << 16 | 0x180u << 20);
	put32(raw + 0x180, 0x15 | 1 << 16 | 0x200u << 20);
	put32(raw + 0x200, 0x0b | 1 << 16 | 0u << 20);
}

static void test_caps(void)
{
	static uint8_t raw[4096], cfg[4096], emul[4096];
	struct vmm_vfio_caps caps;
	make_device(raw);
	vmm_vfio_build_config(raw, sizeof(raw), cfg, emul, &caps);
	/* PM -> MSI -> PCIe -> vendor; MSI-X unlinked for vmm/msix; AF hidden. */
	CHECK_EQ_INT(cfg[0x34], 0x40);
	CHECK_EQ_INT(cfg[0x41], 0x50);
	CHECK_EQ_INT(cfg[0x51], 0x70);
	CHECK_EQ_INT(cfg[0x71], 0xc0);
	CHECK_EQ_INT(cfg[0xc1], 0);
	CHECK_EQ_INT(caps.pm, 0x40);
	CHECK_EQ_INT(caps.msi, 0x50);
	CHECK_EQ_INT(caps.msix, 0xb0);
	CHECK_EQ_INT(caps.pcie, 0x70);
	CHECK_EQ_INT(caps.last, 0xc0);
	/* Emulated: header, PM and MSI whole, list links; passed: PCIe and
	 * vendor bodies. */
	CHECK(emul[0x00] && emul[0x10] && emul[0x3f]);
	CHECK(emul[0x44] && emul[0x47] && !emul[0x48]);
	CHECK(emul[0x5d] && !emul[0x5e]);  /* 64-bit MSI without PVM: 14 bytes */
	CHECK(emul[0x70] && emul[0x71] && !emul[0x72]);
	CHECK(emul[0xb0] && emul[0xbb]);
	CHECK(!emul[0xc2]);
	/* Extended: SR-IOV and resizable BAR gone; a header at 0x100 leads on. */
	CHECK_EQ_INT(get32(cfg + 0x100) >> 20, 0x140);
	CHECK_EQ_INT(get32(cfg + 0x100) & 0xffff, 0);
	CHECK_EQ_INT(get32(cfg + 0x140) >> 20, 0x200);
	CHECK_EQ_INT(get32(cfg + 0x140) & 0xfffff, 0x20001);
	CHECK_EQ_INT(get32(cfg + 0x200) >> 20, 0);
	CHECK(emul[0x100] && emul[0x140] && !emul[0x144]);

	/* A looping list and a list running off the end stay bounded. */
	raw[0xc1] = 0x40;
	put32(raw + 0x200, 0x0b | 1 << 16 | 0x100u << 20);
	vmm_vfio_build_config(raw, sizeof(raw), cfg, emul, &caps);
	CHECK(cfg[0x34] == 0x40);
	unsigned steps = 0;
	for (unsigned p = cfg[0x34]; p && steps < 100; p = cfg[p + 1])
		steps++;
	CHECK_EQ_INT(steps, 4);
	steps = 0;
	for (unsigned p = 0x100; p && steps < 100; p = get32(cfg + p) >> 20)
		steps++;
	CHECK_EQ_INT(steps, 3);
	vmm_vfio_build_config(raw, 0x48, cfg, emul, &caps);
	CHECK(emul[0x100] && emul[0xfff]);
	/* Conventional PCI (256 bytes): no extended space at all. */
	make_device(raw);
	vmm_vfio_build_config(raw, 256, cfg, emul, &caps);
	CHECK_EQ_INT(get32(cfg + 0x100), 0);
	CHECK(emul[0x100]);

	CHECK_EQ_INT(vmm_vfio_cap_action(0x10, NULL), VMM_VFIO_CAP_PASS);
	CHECK_EQ_INT(vmm_vfio_cap_action(0x42, NULL), VMM_VFIO_CAP_HIDE);
	CHECK_EQ_INT(vmm_vfio_ext_cap_action(0x10, NULL), VMM_VFIO_CAP_HIDE);
	CHECK_EQ_INT(vmm_vfio_ext_cap_action(0x01, NULL), VMM_VFIO_CAP_PASS);
}

static void test_carve(void)
{
	struct vmm_vfio_area a[8] = { { 0, 0x10000 } };
	/* A table of 8 vectors at 0x3000: its page goes, two pieces stay. */
	unsigned n = vmm_vfio_carve_areas(a, 1, 8, 0x3000, 0x3080, 0x1000);
	CHECK_EQ_INT(n, 2);
	CHECK(a[0].offset == 0 && a[0].size == 0x3000);
	CHECK(a[1].offset == 0x4000 && a[1].size == 0xc000);
	/* The PBA at the very end, unaligned start. */
	n = vmm_vfio_carve_areas(a, n, 8, 0xfff8, 0x10000, 0x1000);
	CHECK_EQ_INT(n, 2);
	CHECK(a[1].offset == 0x4000 && a[1].size == 0xb000);
	/* A hole elsewhere changes nothing; one covering all removes all. */
	n = vmm_vfio_carve_areas(a, n, 8, 0x20000, 0x21000, 0x1000);
	CHECK_EQ_INT(n, 2);
	n = vmm_vfio_carve_areas(a, n, 8, 0, 0x10000, 0x1000);
	CHECK_EQ_INT(n, 0);
}

static void test_slots(void)
{
	struct pci_addr a[4] = {
		{ 0, 0x65, 0, 1 }, { 0, 0x65, 0, 0 }, { 0, 0x02, 0, 0 }, { 0, 0x03, 0, 2 },
	};
	unsigned fn[4];
	size_t slot[4];
	CHECK_EQ_INT(vmm_passthrough_slots(a, 4, fn, slot), 3);
	CHECK(slot[0] == slot[1] && slot[0] != slot[2] && slot[2] != slot[3]);
	CHECK_EQ_INT(fn[0], 1);
	CHECK_EQ_INT(fn[1], 0);
	CHECK_EQ_INT(fn[2], 0);
	CHECK_EQ_INT(fn[3], 0); /* a VF at .2 alone becomes function 0 */
}

static void trap_read(void *dev, uint64_t off, uint8_t *data, uint32_t size)
{
	(void)dev; (void)off;
	memset(data, 0xab, size);
}
static const struct vmm_device_ops trap_ops = { .name = "test-bar", .read = trap_read };

/* Where a guest may put a passed-through BAR (vmm_vfio_bar_claim): the
 * lab's e1000e layout in a 192 MiB guest, BAR3 holding the MSI-X table,
 * moved as tests/hw/passthrough/attack.c moves it. */
static void test_bar_placement(void)
{
	struct vmm_memory_map map, big;
	CHECK_EQ_INT(vmm_memory_map_build(&map, 192ULL << 20, 40), 0);
	CHECK_EQ_INT(vmm_memory_map_build(&big, 5ULL << 30, 40), 0); /* 3 GiB low, 2 high */
	struct vmm_bus mmio, pio;
	CHECK_EQ_INT(vmm_bus_init(&mmio, "mmio"), 0);
	CHECK_EQ_INT(vmm_bus_init(&pio, "pio"), 0);
	int bar0, bar3, bar_io, other_io;
	/* Where passvm placed them, as firmware would: all free. */
	CHECK_EQ_INT(vmm_vfio_bar_claim(&map, &mmio, false, 0xc0040000, 0x4000, &trap_ops, &bar3),
		     VMM_VFIO_BAR_PLACED);
	CHECK_EQ_INT(vmm_vfio_bar_claim(&map, &pio, true, 0xc000, 0x20, &trap_ops, &other_io),
		     VMM_VFIO_BAR_PLACED);
	CHECK_EQ_INT(mmio.nr, 1);

	/* Over RAM: at 1 MiB, and straddling RAM's end; nothing registered. */
	CHECK_EQ_INT(vmm_vfio_bar_claim(&map, &mmio, false, 0x100000, 0x20000, &trap_ops, &bar0),
		     VMM_VFIO_BAR_OVER_RAM);
	CHECK_EQ_INT(vmm_vfio_bar_claim(&map, &mmio, false, (192ULL << 20) - 0x10000, 0x20000,
					&trap_ops, &bar0), VMM_VFIO_BAR_OVER_RAM);
	CHECK_EQ_INT(mmio.nr, 1);
	/* Over the MSI-X table's BAR, whole or by one page at its end. */
	CHECK_EQ_INT(vmm_vfio_bar_claim(&map, &mmio, false, 0xc0040000, 0x20000, &trap_ops, &bar0),
		     VMM_VFIO_BAR_OVER_DEVICE);
	CHECK_EQ_INT(vmm_vfio_bar_claim(&map, &mmio, false, 0xc0020000, 0x21000, &trap_ops, &bar0),
		     VMM_VFIO_BAR_OVER_DEVICE);
	CHECK_EQ_INT(mmio.nr, 1);
	/* Just after RAM's end and just before the table: placed. */
	CHECK_EQ_INT(vmm_vfio_bar_claim(&map, &mmio, false, 192ULL << 20, 0x20000, &trap_ops, &bar0),
		     VMM_VFIO_BAR_PLACED);
	CHECK_EQ_INT(vmm_bus_unregister(&mmio, 192ULL << 20, &bar0), 0);
	CHECK_EQ_INT(vmm_vfio_bar_claim(&map, &mmio, false, 0xc0020000, 0x20000, &trap_ops, &bar0),
		     VMM_VFIO_BAR_PLACED);
	CHECK_EQ_INT(mmio.nr, 2);
	CHECK_EQ_INT(vmm_bus_unregister(&mmio, 0xc0020000, &bar0), 0);

	/* High RAM: a 64-bit BAR at 4 GiB touches it, one after it does not. */
	CHECK_EQ_INT(vmm_vfio_bar_claim(&big, &mmio, false, 0x100000000ULL, 0x20000, &trap_ops,
					&bar0), VMM_VFIO_BAR_OVER_RAM);
	CHECK_EQ_INT(vmm_vfio_bar_claim(&big, &mmio, false, 0x17fff0000ULL, 0x20000, &trap_ops,
					&bar0), VMM_VFIO_BAR_OVER_RAM);
	CHECK_EQ_INT(vmm_vfio_bar_claim(&big, &mmio, false, 0x180000000ULL, 0x20000, &trap_ops,
					&bar0), VMM_VFIO_BAR_PLACED);
	/* The PCI hole below 4 GiB is not RAM even with 5 GiB of it. */
	CHECK(!vmm_memory_map_overlaps_ram(&big, 0xc0000000, 0x40000000));
	CHECK(vmm_memory_map_overlaps_ram(&big, 0xbffff000, 0x2000));
	/* Empty and wrapping ranges are never placeable. */
	CHECK(vmm_memory_map_overlaps_ram(&map, 0xc0000000, 0));
	CHECK(vmm_memory_map_overlaps_ram(&map, ~0ULL - 0xfff, 0x2000));

	/* Port space has no RAM: only other ranges count. */
	CHECK_EQ_INT(vmm_vfio_bar_claim(&map, &pio, true, 0x100, 0x20, &trap_ops, &bar_io),
		     VMM_VFIO_BAR_PLACED);
	CHECK_EQ_INT(vmm_vfio_bar_claim(&map, &pio, true, 0xc010, 0x20, &trap_ops, &bar_io),
		     VMM_VFIO_BAR_OVER_DEVICE);
	CHECK(strstr(vmm_vfio_bar_place_name(VMM_VFIO_BAR_OVER_RAM), "RAM") != NULL);
	vmm_bus_destroy(&mmio);
	vmm_bus_destroy(&pio);
}

int main(void)
{
	test_caps();
	test_carve();
	test_slots();
	test_bar_placement();
	return test_result();
}
