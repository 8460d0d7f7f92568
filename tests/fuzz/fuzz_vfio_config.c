// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz target: the config space a passed-through device shows its guest,
 * built from whatever the device's config region holds (a broken or hostile
 * device: looping or out-of-range capability lists). The guest's lists must
 * come out finite, in range and without hidden capabilities; the header is
 * always passvm's.
 */
#include "vfio_pci.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
