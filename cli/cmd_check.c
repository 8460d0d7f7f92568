// SPDX-License-Identifier: GPL-2.0-or-later
/* passvm check: the passthrough preflight, the same program as iommu-check. */
#include "cli.h"
#include "iommu_tools.h"

int cmd_check(int argc, char **argv);

int cmd_check(int argc, char **argv)
{
	return iommu_check_main(argc, argv, "passvm check");
}
