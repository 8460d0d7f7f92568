// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * PCI functions and IOMMU groups as sysfs shows them
 * (Documentation/ABI/testing/sysfs-bus-pci, sysfs-kernel-iommu_groups).
 */
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCI_DEVICES "sys/bus/pci/devices"
#define IOMMU_GROUPS "sys/kernel/iommu_groups"

static int read_hex_attr(const struct host_root *root, const char *bdf,
			 const char *attr, uint64_t *value)
{
	char path[256];
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/%s", bdf, attr);
	return host_root_read_u64(root, path, value);
}

/* Optional symlink whose basename is the answer: "" when absent. */
static int read_link_name(const struct host_root *root, const char *bdf,
			  const char *link, char *out, size_t size)
{
	char path[256];
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/%s", bdf, link);
	int r = host_root_link_basename(root, path, out, size);
	if (r == -ENOENT) {
		out[0] = '\0';
		return 0;
	}
	return r;
}

static int read_ids(const struct host_root *root, struct pci_dev_info *dev)
{
	static const struct { const char *attr; int width; } attrs[] = {
		{ "vendor", 16 }, { "device", 16 }, { "subsystem_vendor", 16 },
		{ "subsystem_device", 16 }, { "class", 24 },
	};
	uint64_t v[ARRAY_SIZE(attrs)];
	for (size_t i = 0; i < ARRAY_SIZE(attrs); i++) {
		int r = read_hex_attr(root, dev->bdf, attrs[i].attr, &v[i]);
		/* Subsystem IDs are absent on some bridges: not an error. */
		if (r == -ENOENT && i >= 2 && i <= 3) {
			v[i] = 0;
			continue;
		}
		if (r < 0)
			return r;
		if (v[i] >> attrs[i].width)
			return -EBADMSG;
	}
	dev->vendor = (uint16_t)v[0];
	dev->device = (uint16_t)v[1];
	dev->subsystem_vendor = (uint16_t)v[2];
	dev->subsystem_device = (uint16_t)v[3];
	dev->class_code = (uint32_t)v[4];
	return 0;
}

int pci_dev_read(const struct host_root *root, const struct pci_addr *addr,
		 struct pci_dev_info *dev)
{
	char path[256], group[32], physfn[PCI_ADDR_STRLEN + 8];
	memset(dev, 0, sizeof(*dev));
	dev->addr = *addr;
	pci_addr_format(addr, dev->bdf);

	snprintf(path, sizeof(path), PCI_DEVICES "/%s", dev->bdf);
	if (!host_root_exists(root, path))
		return -ENODEV;
	int r = read_ids(root, dev);
	if (r < 0)
		return r;
	r = read_link_name(root, dev->bdf, "driver", dev->driver, sizeof(dev->driver));
	if (r < 0)
		return r;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/driver_override", dev->bdf);
	r = (int)host_root_read(root, path, dev->driver_override,
				sizeof(dev->driver_override));
	if (r == -ENOENT || strcmp(dev->driver_override, "(null)") == 0)
		dev->driver_override[0] = '\0';
	else if (r < 0)
		return r;

	r = read_link_name(root, dev->bdf, "iommu_group", group, sizeof(group));
	if (r < 0)
		return r;
	uint64_t group_nr;
	dev->iommu_group = -1;
	if (group[0] && parse_u64(group, &group_nr) == 0 && group_nr <= INT32_MAX)
		dev->iommu_group = (int)group_nr;

	r = read_link_name(root, dev->bdf, "physfn", physfn, sizeof(physfn));
	if (r < 0)
		return r;
	if (physfn[0]) {
		dev->is_virtfn = true;
		r = pci_addr_parse(physfn, &dev->physfn);
		if (r < 0)
			return -EBADMSG;
	}
	return 0;
}

bool pci_dev_is_bridge(const struct pci_dev_info *dev)
{
	/* Base class 06 subclasses 04 (PCI-PCI), 07 (CardBus) and 09
	 * (semi-transparent PCI-PCI) forward a bus; a host bridge (00) or an
	 * ISA bridge (01) does not, and is a chipset function instead. */
	uint16_t cls = pci_dev_class(dev);
	return cls == 0x0604 || cls == 0x0607 || cls == 0x0609;
}

static int compare_addrs(const void *a, const void *b)
{
	const struct pci_addr *x = a, *y = b;
	uint32_t kx = ((uint32_t)x->bus << 8) | (uint32_t)(x->device << 3) | x->function;
	uint32_t ky = ((uint32_t)y->bus << 8) | (uint32_t)(y->device << 3) | y->function;
	if (x->domain != y->domain)
		return x->domain < y->domain ? -1 : 1;
	return kx < ky ? -1 : kx > ky;
}

/* Turns a directory of BDF-named entries into a sorted address array;
 * entries that are not addresses are skipped (sysfs has none, a fixture
 * or a hostile tree might). */
static int list_addrs(const struct host_root *root, const char *relpath,
		      struct pci_addr **addrs_out, size_t *count_out)
{
	char **names;
	size_t n;
	int r = host_root_list_dir(root, relpath, &names, &n);
	if (r < 0)
		return r;
	struct pci_addr *addrs = calloc(n ? n : 1, sizeof(*addrs));
	if (!addrs) {
		strv_free(names, n);
		return -ENOMEM;
	}
	size_t count = 0;
	for (size_t i = 0; i < n; i++)
		if (pci_addr_parse(names[i], &addrs[count]) == 0)
			count++;
	strv_free(names, n);
	qsort(addrs, count, sizeof(*addrs), compare_addrs);
	*addrs_out = addrs;
	*count_out = count;
	return 0;
}

int pci_dev_list(const struct host_root *root, struct pci_addr **addrs,
		 size_t *count)
{
	return list_addrs(root, PCI_DEVICES, addrs, count);
}

int iommu_group_devices(const struct host_root *root, int group,
			struct pci_addr **addrs, size_t *count)
{
	char path[128];
	if (group < 0)
		return -EINVAL;
	snprintf(path, sizeof(path), IOMMU_GROUPS "/%d/devices", group);
	return list_addrs(root, path, addrs, count);
}

static int compare_ints(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return x < y ? -1 : x > y;
}

int iommu_group_list(const struct host_root *root, int **groups_out, size_t *count_out)
{
	char **names;
	size_t n;
	int r = host_root_list_dir(root, IOMMU_GROUPS, &names, &n);
	if (r == -ENOENT) {
		/* No IOMMU: the directory exists but is empty on most kernels,
		 * absent on some. Both mean "no groups". */
		*groups_out = NULL;
		*count_out = 0;
		return 0;
	}
	if (r < 0)
		return r;
	int *groups = calloc(n ? n : 1, sizeof(*groups));
	if (!groups) {
		strv_free(names, n);
		return -ENOMEM;
	}
	size_t count = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t v;
		if (parse_u64(names[i], &v) == 0 && v <= INT32_MAX)
			groups[count++] = (int)v;
	}
	strv_free(names, n);
	qsort(groups, count, sizeof(*groups), compare_ints);
	*groups_out = groups;
	*count_out = count;
	return 0;
}
