// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz target: the config space a passed-through device shows its guest,
 * built from whatever the device's config region holds (a broken or hostile
 * device: looping or out-of-range capability lists). The guest's lists must
 * come out finite, in range and without hidden capabilities; the header is
 * always passvm's. Then BAR placement as a guest programs it (any address,
 * any power-of-two size, memory or port space, in any order): a BAR is
 * placed only where it touches neither guest RAM nor a BAR placed before,
 * and a refusal names the overlap that really exists (checked against a
 * brute-force list).
 */
#include "vfio_pci.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void bar_read(void *dev, uint64_t off, uint8_t *data, uint32_t size)
{
	(void)dev; (void)off;
	memset(data, 0xff, size);
}
static const struct vmm_device_ops bar_ops = { .name = "fuzz-bar", .read = bar_read };

static bool meet(uint64_t a, uint64_t a_len, uint64_t b, uint64_t b_len)
{
	return a_len && b_len && a <= b + (b_len - 1) && b <= a + (a_len - 1);
}

#define FUZZ_BARS 32

/* Input: 1 byte of RAM size (64 MiB steps above the minimum), then 10 bytes per BAR: 8 of
 * address, 1 of size order (12..40), 1 of flags (bit 0 port space). */
static void fuzz_bar_placement(const uint8_t *data, size_t size)
{
	if (size < 1)
		return;
	struct vmm_memory_map map;
	uint64_t ram = VMM_MIN_RAM_BYTES + ((uint64_t)data[0] << 26); /* up to ~16 GiB: high RAM too */
	if (vmm_memory_map_build(&map, ram, 40) < 0)
		abort();
	struct vmm_bus bus[2];
	vmm_bus_init(&bus[0], "mmio");
	vmm_bus_init(&bus[1], "pio");
	struct { uint64_t gpa, len; bool io; } placed[FUZZ_BARS];
	unsigned n = 0;
	static int devs[FUZZ_BARS];
	for (size_t off = 1; off + 10 <= size && n < FUZZ_BARS; off += 10) {
		uint64_t gpa;
		memcpy(&gpa, data + off, 8);
		unsigned order = 12 + data[off + 8] % 29;
		bool io = data[off + 9] & 1;
		uint64_t len = 1ULL << order;
		if (io) {
			gpa &= 0xfffc;
			len = 1ULL << (2 + data[off + 8] % 7);
		}
		bool over_ram = !io && (gpa + (len - 1) < gpa ||
					meet(gpa, len, 0, map.low_ram_bytes) ||
					meet(gpa, len, VMM_HIGH_RAM_START, map.high_ram_bytes));
		bool over_bar = false;
		for (unsigned i = 0; i < n; i++)
			over_bar |= placed[i].io == io && meet(gpa, len, placed[i].gpa, placed[i].len);
		bool wraps = gpa + (len - 1) < gpa;
		enum vmm_vfio_bar_place p = vmm_vfio_bar_claim(&map, &bus[io], io, gpa, len,
							      &bar_ops, &devs[n]);
		switch (p) {
		case VMM_VFIO_BAR_PLACED:
			if (over_ram || over_bar || wraps)
				abort();
			placed[n].gpa = gpa;
			placed[n].len = len;
			placed[n].io = io;
			n++;
			break;
		case VMM_VFIO_BAR_OVER_RAM:
			if (!over_ram)
				abort();
			break;
		case VMM_VFIO_BAR_OVER_DEVICE:
			if (over_ram || !over_bar)
				abort();
			break;
		case VMM_VFIO_BAR_REFUSED:
			if (!wraps)  /* only a range the bus cannot hold */
				abort();
			break;
		}
	}
	vmm_bus_destroy(&bus[0]);
	vmm_bus_destroy(&bus[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t cfg[VMM_PCI_CFG_BYTES], emul[VMM_PCI_CFG_BYTES];
	struct vmm_vfio_caps caps;
	vmm_vfio_build_config(data, size, cfg, emul, &caps);
	for (unsigned i = 0; i < 0x40; i++)
		if (!emul[i])
			abort();
	/* Standard list: dword-aligned, inside 0x40-0xff, no loop, nothing
	 * hidden. */
	unsigned steps = 0;
	for (unsigned p = cfg[0x34]; p; p = cfg[p + 1]) {
		if (p < 0x40 || p > 0xfe || (p & 3) || ++steps > 48 ||
		    vmm_vfio_cap_action(cfg[p], NULL) == VMM_VFIO_CAP_HIDE || !emul[p] || !emul[p + 1])
			abort();
	}
	/* Extended list. */
	steps = 0;
	for (unsigned p = 0x100; p; ) {
		uint32_t h = cfg[p] | cfg[p + 1] << 8 | cfg[p + 2] << 16 | (uint32_t)cfg[p + 3] << 24;
		uint16_t id = (uint16_t)(h & 0xffff);
		if (!emul[p] || ++steps > 960 ||
		    (p != 0x100 && vmm_vfio_ext_cap_action(id, NULL) == VMM_VFIO_CAP_HIDE))
			abort();
		unsigned next = (h >> 20) & 0xffc;
		if (next && (next < 0x100 || next + 4 > VMM_PCI_CFG_BYTES))
			abort();
		p = next;
	}
	fuzz_bar_placement(data, size);
	/* Area carving with offsets from the input. */
	if (size >= 24) {
		uint64_t v[3];
		memcpy(v, data, sizeof(v));
		struct vmm_vfio_area a[8] = { { v[0] & 0xfffff000, (v[1] & 0xffffff) << 12 } };
		unsigned n = vmm_vfio_carve_areas(a, 1, 8, v[2] & 0xffffff, (v[2] & 0xffffff) + 64, 4096);
		for (unsigned i = 0; i < n; i++)
			if ((a[i].offset | a[i].size) & 0xfff || !a[i].size)
				abort();
	}
	return 0;
}
