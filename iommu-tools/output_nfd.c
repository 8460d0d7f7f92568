// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Node Feature Discovery labels, in the format of its "local" feature
 * source: a file in /etc/kubernetes/node-feature-discovery/features.d/ with
 * one `name=value` per line; NFD adds the feature.node.kubernetes.io/
 * prefix. Label names are [A-Za-z0-9][-A-Za-z0-9_.]* (at most 63), values
 * the same or empty, so a BDF is written with '-' for ':'.
 */
#include "iommu_internal.h"

#include <errno.h>

int iommu_report_write_nfd(FILE *out, const struct iommu_report *r)
{
	fprintf(out, "# passvm iommu-check labels for NFD's local feature source\n");
	fprintf(out, "passvm-iommu=%s\n", r->iommu_on ? "true" : "false");
	fprintf(out, "passvm-interrupt-remapping=%s\n", r->intremap_on ? "true" : "false");
	fprintf(out, "passvm-vfio=%s\n", r->vfio_ready ? "true" : "false");
	fprintf(out, "passvm-passthrough-ready=%s\n", r->ready ? "true" : "false");
	size_t sriov = 0;
	for (size_t i = 0; i < r->n_devices; i++)
		sriov += r->devices[i].sriov_total_vfs > 0;
	fprintf(out, "passvm-sriov-capable=%s\n", sriov ? "true" : "false");
	for (size_t i = 0; i < r->n_devices; i++) {
		const struct iommu_device *d = &r->devices[i];
		if (d->sriov_total_vfs <= 0)
			continue;
		char name[PCI_ADDR_STRLEN];
		snprintf(name, sizeof(name), "%s", d->info.bdf);
		for (char *p = name; *p; p++)
			if (*p == ':')
				*p = '-';
		fprintf(out, "passvm-sriov-totalvfs.%s=%d\n", name, d->sriov_total_vfs);
		fprintf(out, "passvm-sriov-numvfs.%s=%d\n", name, d->sriov_num_vfs);
	}
	return ferror(out) ? -EIO : 0;
}
