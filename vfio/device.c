// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A VFIO device fd: its regions (BARs, ROM, config space, VGA), with the
 * capabilities that say which parts may be mmap'd (sparse mmap: e.g. the
 * MSI-X table page of a BAR is trapped; MSI-X mappable: it is not, on
 * platforms with interrupt remapping that isolates MSI), region access, and
 * the resets. The only code in passvm that holds a VFIO device fd.
 */
#include "vfio_backend.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>


static int region_cap(const struct vfio_info_cap_header *cap, size_t avail, void *ctx)
{
	struct vfio_region *region = ctx;
	switch (cap->id) {
	case VFIO_REGION_INFO_CAP_SPARSE_MMAP: {
		const struct vfio_region_info_cap_sparse_mmap *c = (const void *)cap;
		if (avail < sizeof(*c) ||
		    c->nr_areas > (avail - sizeof(*c)) / sizeof(c->areas[0]))
			return -EBADMSG;
		region->has_sparse = true;
		region->nsparse = 0;
		for (uint32_t i = 0; i < c->nr_areas && region->nsparse < VFIO_MAX_SPARSE; i++) {
			const struct vfio_region_sparse_mmap_area *a = &c->areas[i];
			/* areas outside the region are dropped, never mapped */
			if (a->size == 0 || a->offset > region->size ||
			    a->size > region->size - a->offset)
				continue;
			region->sparse[region->nsparse++] = *a;
		}
		return 0;
	}
	case VFIO_REGION_INFO_CAP_MSIX_MAPPABLE:
		region->msix_mappable = true;
		return 0;
	default:
		return 0; /* type (vendor regions), NVLink...: not used */
	}
}

int vfio_region_parse_info(struct vfio_region *region, const void *buf, size_t size)
{
	const struct vfio_region_info *info = buf;
	if (size < sizeof(*info) || info->argsz > size || info->argsz < sizeof(*info))
		return -EBADMSG;
	memset(region, 0, sizeof(*region));
	region->index = info->index;
	region->flags = info->flags;
	region->size = info->size;
	region->offset = info->offset;
	if (!(info->flags & VFIO_REGION_INFO_FLAG_CAPS))
		return 0;
	return vfio_cap_walk(buf, info->argsz, info->cap_offset, region_cap, region);
}

static int region_get_info(int fd, uint32_t index, struct vfio_region *region)
{
	size_t size = sizeof(struct vfio_region_info);
	for (int tries = 0; tries < 4; tries++) {
		struct vfio_region_info *info = calloc(1, size);
		if (!info)
			return -ENOMEM;
		info->argsz = (uint32_t)size;
		info->index = index;
		int r = vfio_ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, info);
		if (r == 0 && info->argsz > size) {
			size = info->argsz;
			free(info);
			continue;
		}
		if (r == 0)
			r = vfio_region_parse_info(region, info, size);
		free(info);
		return r;
	}
	return -EMSGSIZE;
}

int vfio_device_open(struct vfio_device *dev, struct vfio_iommu *io,
		     const struct pci_addr *addr, int group)
{
	memset(dev, 0, sizeof(*dev));
	pci_addr_format(addr, dev->bdf);
	if (!io->ops)
		return -EBADF;
	int fd = io->ops->device_fd(io, dev->bdf, group);
	if (fd < 0) {
		dev->fd = -1;
		return fd;
	}
	dev->fd = fd;
	struct vfio_device_info info = { .argsz = sizeof(info) };
	int r = vfio_ioctl(fd, VFIO_DEVICE_GET_INFO, &info);
	if (r == 0 && !(info.flags & VFIO_DEVICE_FLAGS_PCI))
		r = -ENODEV; /* platform/ccw/ap devices: not passvm's */
	if (r < 0) {
		vfio_device_close(dev);
		return r;
	}
	dev->flags = info.flags;
	dev->num_regions = info.num_regions;
	dev->num_irqs = info.num_irqs;
	for (uint32_t i = 0; i < info.num_regions && i < VFIO_MAX_REGIONS; i++) {
		r = region_get_info(fd, i, &dev->regions[i]);
		/* VGA region on a non-VGA device: EINVAL, simply absent */
		if (r == -EINVAL) {
			memset(&dev->regions[i], 0, sizeof(dev->regions[i]));
			dev->regions[i].index = i;
			continue;
		}
		if (r < 0) {
			vfio_device_close(dev);
			return r;
		}
	}
	return 0;
}

void vfio_device_close(struct vfio_device *dev)
{
	if (dev->fd >= 0)
		close(dev->fd);
	dev->fd = -1;
}

static const struct vfio_region *get_region(const struct vfio_device *dev, uint32_t index)
{
	if (index >= VFIO_MAX_REGIONS || index >= dev->num_regions)
		return NULL;
	return &dev->regions[index];
}

/* [offset, offset+size) inside the region, without overflow. */
static bool in_region(const struct vfio_region *r, uint64_t offset, uint64_t size)
{
	return size && offset <= r->size && size <= r->size - offset;
}

int vfio_region_mmap(const struct vfio_device *dev, uint32_t index,
		     uint64_t offset, uint64_t size, void **addr)
{
	const struct vfio_region *r = get_region(dev, index);
	if (!r || !in_region(r, offset, size))
		return -EINVAL;
	if (!(r->flags & VFIO_REGION_INFO_FLAG_MMAP))
		return -ENOTSUP;
	long page = sysconf(_SC_PAGESIZE);
	if (offset & (uint64_t)(page - 1))
		return -EINVAL;
	if (r->has_sparse) {
		/* Only inside one advertised area: the rest (the MSI-X table
		 * of this BAR, typically) is emulated by vfio-pci. */
		bool ok = false;
		for (uint32_t i = 0; i < r->nsparse && !ok; i++)
			ok = offset >= r->sparse[i].offset &&
			     offset - r->sparse[i].offset <= r->sparse[i].size &&
			     size <= r->sparse[i].size - (offset - r->sparse[i].offset);
		if (!ok)
			return -EACCES;
	}
	int prot = ((r->flags & VFIO_REGION_INFO_FLAG_READ) ? PROT_READ : 0) |
		   ((r->flags & VFIO_REGION_INFO_FLAG_WRITE) ? PROT_WRITE : 0);
	void *p = mmap(NULL, size, prot, MAP_SHARED, dev->fd, (off_t)(r->offset + offset));
	if (p == MAP_FAILED)
		return -errno;
	*addr = p;
	return 0;
}

ssize_t vfio_region_read(const struct vfio_device *dev, uint32_t index,
			 uint64_t offset, void *buf, size_t size)
{
	const struct vfio_region *r = get_region(dev, index);
	if (!r || !in_region(r, offset, size))
		return -EINVAL;
	if (!(r->flags & VFIO_REGION_INFO_FLAG_READ))
		return -EACCES;
	ssize_t n = pread(dev->fd, buf, size, (off_t)(r->offset + offset));
	return n < 0 ? -errno : n;
}

ssize_t vfio_region_write(const struct vfio_device *dev, uint32_t index,
			  uint64_t offset, const void *buf, size_t size)
{
	const struct vfio_region *r = get_region(dev, index);
	if (!r || !in_region(r, offset, size))
		return -EINVAL;
	if (!(r->flags & VFIO_REGION_INFO_FLAG_WRITE))
		return -EACCES;
	ssize_t n = pwrite(dev->fd, buf, size, (off_t)(r->offset + offset));
	return n < 0 ? -errno : n;
}

int vfio_config_read16(const struct vfio_device *dev, uint32_t offset, uint16_t *val)
{
	ssize_t n = vfio_region_read(dev, VFIO_PCI_CONFIG_REGION_INDEX, offset, val, 2);
	if (n < 0)
		return (int)n;
	return n == 2 ? 0 : -EIO;
}

int vfio_config_write16(const struct vfio_device *dev, uint32_t offset, uint16_t val)
{
	ssize_t n = vfio_region_write(dev, VFIO_PCI_CONFIG_REGION_INDEX, offset, &val, 2);
	if (n < 0)
		return (int)n;
	return n == 2 ? 0 : -EIO;
}

int vfio_device_enable_bus_master(const struct vfio_device *dev)
{
	uint16_t cmd;
	int r = vfio_config_read16(dev, 0x04, &cmd); /* PCI_COMMAND */
	if (r < 0)
		return r;
	/* PCI_COMMAND_MEMORY (bit 1) | PCI_COMMAND_MASTER (bit 2) */
	return vfio_config_write16(dev, 0x04, cmd | 0x6);
}

int vfio_device_reset(const struct vfio_device *dev)
{
	/* vfio-pci sets FLAGS_RESET only when the device has a reset method
	 * it can use alone (FLR, PM, a slot or bus reset with only this device
	 * affected...): drivers/vfio/pci/vfio_pci_core.c. */
	if (!(dev->flags & VFIO_DEVICE_FLAGS_RESET))
		return -ENOTTY;
	return vfio_ioctl(dev->fd, VFIO_DEVICE_RESET, NULL);
}

int vfio_device_hot_reset(const struct vfio_device *dev, const struct vfio_iommu *io)
{
	size_t size = sizeof(struct vfio_pci_hot_reset_info) +
		      8 * sizeof(struct vfio_pci_dependent_device);
	struct vfio_pci_hot_reset_info *info = calloc(1, size);
	if (!info)
		return -ENOMEM;
	info->argsz = (uint32_t)size;
	int r = vfio_ioctl(dev->fd, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, info);
	if (r == -ENOSPC) {
		/* more affected devices than we guessed: count is now right */
		size = sizeof(*info) + info->count * sizeof(info->devices[0]);
		struct vfio_pci_hot_reset_info *grown = realloc(info, size);
		if (!grown) {
			free(info);
			return -ENOMEM;
		}
		info = grown;
		info->argsz = (uint32_t)size;
		r = vfio_ioctl(dev->fd, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, info);
	}
	if (r < 0) {
		free(info);
		return r;
	}
	/* The kernel wants a group fd for every group the reset touches, to
	 * prove this process owns them all. */
	struct vfio_pci_hot_reset *req =
		calloc(1, sizeof(*req) + VFIO_MAX_GROUPS * sizeof(int32_t));
	if (!req) {
		free(info);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < info->count && r == 0; i++) {
		bool have = false;
		for (size_t g = 0; g < io->ngroups && !have; g++)
			have = io->groups[g] == (int)info->devices[i].group_id;
		if (!have)
			r = -EACCES; /* a device of a group we do not own */
	}
	for (size_t g = 0; g < io->ngroups; g++)
		req->group_fds[req->count++] = io->group_fds[g];
	req->argsz = (uint32_t)(sizeof(*req) + req->count * sizeof(int32_t));
	if (r == 0)
		r = vfio_ioctl(dev->fd, VFIO_DEVICE_PCI_HOT_RESET, req);
	free(req);
	free(info);
	return r;
}
