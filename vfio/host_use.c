// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The refusal policy's facts about one PCI function: a bridge (left alone),
 * a chipset function the platform needs (never taken), or in use on the
 * host (taken only when named or with --force).
 *
 * The device-usage checks themselves (chipset classes, mounted filesystems
 * and swap through dm/md and NVMe multipath, up interfaces with addresses,
 * the console and boot VGA) are iommu-tools/'s, the same that iommu-check
 * reports with: one implementation, so the preflight and bind never
 * disagree about a device. This file only turns its answer into bind's
 * decision and reason.
 */
#include "vfio.h"
#include "iommu_tools.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void describe_use(const struct iommu_dev_usage *u, char *why, size_t size)
{
	if (u->boot_vga || u->console)
		snprintf(why, size, "it drives the host console (%s)",
			 u->console ? u->console_what : "the boot VGA device");
	else if (u->mounts.n)
		snprintf(why, size, "%s%s", u->mounts.v[0],
			 u->mounts.n > 1 ? ", and more" : "");
	else if (u->netifs.n)
		snprintf(why, size, "network interface %s%s", u->netifs.v[0],
			 u->netifs.n > 1 ? ", and more" : "");
	else
		snprintf(why, size, "the host uses it");
}

int vfio_classify_use(const struct host_root *root, const struct pci_dev_info *dev,
		      enum vfio_use *use, char *why, size_t why_size)
{
	const char *what;
	why[0] = '\0';
	*use = VFIO_USE_FREE;
	if (iommu_is_chipset_function(dev->class_code, &what)) {
		*use = VFIO_USE_CHIPSET;
		snprintf(why, why_size, "the %s, a chipset function the platform needs", what);
		return 0;
	}
	if (pci_dev_is_bridge(dev)) {
		*use = VFIO_USE_BRIDGE;
		snprintf(why, why_size, "a PCI bridge, left on its driver");
		return 0;
	}

	/* Facts (interface addresses over netlink on a live host, from
	 * passvm-snapshot/facts in a tree) and the index are per host; a bind
	 * asks about a handful of functions, so building them per call is
	 * simpler than threading them through the plan. */
	struct iommu_host_facts facts;
	int r = iommu_facts_load(root, &facts);
	if (r < 0)
		return r;
	struct iommu_usage_index *idx;
	r = iommu_usage_index_build(root, &facts, &idx);
	if (r == 0) {
		struct iommu_dev_usage u;
		r = iommu_dev_usage_read(root, idx, dev, &u);
		if (r == 0 && iommu_dev_usage_in_use(&u)) {
			*use = VFIO_USE_HOST;
			describe_use(&u, why, why_size);
		}
		if (r == 0)
			iommu_dev_usage_free(&u);
		iommu_usage_index_free(idx);
	}
	iommu_facts_free(&facts);
	return r;
}
