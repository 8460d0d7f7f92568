// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: the PCI config space capability walker (iommu-tools). */
#include "iommu_tools.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy, so ASan sees any read past what sysfs gave. */
	uint8_t *cfg = malloc(size ? size : 1);
	if (!cfg)
		return 0;
	memcpy(cfg, data, size);
	struct pci_config_info info;
	if (pci_config_parse(cfg, size, &info) == 0) {
		if (info.rebar_count > 6 || info.msi_vectors > 32 || info.msix_vectors > 2048)
			abort();
		if (info.caps_read != (size >= 256))
			abort();
	}
	free(cfg);
	return 0;
}
