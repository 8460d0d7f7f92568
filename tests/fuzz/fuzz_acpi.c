// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: the ACPI DMAR and IVRS table parsers (iommu-tools). */
#include "iommu_tools.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *t = malloc(size ? size : 1);
	if (!t)
		return 0;
	memcpy(t, data, size);
	struct acpi_iommu_table out;
	(void)acpi_dmar_parse(t, size, &out);
	(void)acpi_ivrs_parse(t, size, &out);
	/* The signature decides: try both on the same bytes with it forced. */
	if (size >= 4) {
		memcpy(t, "DMAR", 4);
		(void)acpi_dmar_parse(t, size, &out);
		memcpy(t, "IVRS", 4);
		(void)acpi_ivrs_parse(t, size, &out);
	}
	free(t);
	return 0;
}
