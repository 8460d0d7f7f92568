// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: the sysfs `resource` parser (iommu-tools). */
#include "iommu_tools.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	struct pci_resource res[PCI_RESOURCE_MAX];
	size_t n;
	if (pci_resource_parse(text, res, PCI_RESOURCE_MAX, &n) == 0) {
		if (n > PCI_RESOURCE_MAX)
			abort();
		for (size_t i = 0; i < n; i++)
			if (res[i].end < res[i].start ||
			    (res[i].size_bytes && res[i].size_bytes - 1 != res[i].end - res[i].start))
				abort();
	}
	free(text);
	return 0;
}
