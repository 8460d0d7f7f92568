// SPDX-License-Identifier: GPL-2.0-or-later
/* iommu-check: the passthrough preflight (iommu-tools/iommu_check_main.c). */
#include "iommu_tools.h"

int main(int argc, char **argv)
{
	return iommu_check_main(argc, argv, "iommu-check");
}
