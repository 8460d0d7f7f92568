// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The iommufd backend (Documentation/userspace-api/iommufd.rst): one
 * /dev/iommu fd with an IO address space (IOAS); each device is opened
 * through its VFIO cdev (/dev/vfio/devices/vfioN), bound to the iommufd and
 * attached to the IOAS. Groups are no longer opened; the kernel still
 * enforces group viability at bind time.
 *
 * Built only when the kernel headers have linux/iommufd.h and the VFIO
 * cdev ioctls (Linux 6.6+). Debian 12's headers (6.1) have neither, and its
 * kernels have neither iommufd nor the cdev, so the lab cannot run this
 * (docs/vfio.md); AUTO falls back to type1 when /dev/iommu or the device's
 * cdev is missing.
 */
#include "vfio_backend.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/iommufd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int iommufd_read_ranges(struct vfio_iommu *io)
{
	struct iommu_iova_range ranges[VFIO_MAX_IOVA_RANGES];
	struct iommu_ioas_iova_ranges q = {
		.size = sizeof(q),
		.ioas_id = io->ioas_id,
		.num_iovas = VFIO_MAX_IOVA_RANGES,
		.allowed_iovas = (uintptr_t)ranges,
	};
	int r = vfio_ioctl(io->container_fd, IOMMU_IOAS_IOVA_RANGES, &q);
	/* EMSGSIZE: more ranges than we keep; the first ones are filled. */
	if (r < 0 && r != -EMSGSIZE)
		return r;
	io->niova = 0;
	for (uint32_t i = 0; i < q.num_iovas && i < VFIO_MAX_IOVA_RANGES; i++) {
		io->iova[io->niova].start = ranges[i].start;
		io->iova[io->niova].end = ranges[i].last;
		io->niova++;
	}
	io->pgsize_bitmap = q.out_iova_alignment ? q.out_iova_alignment : 4096;
	/* iommufd has no DMA-entry limit of its own (pages are accounted
	 * against RLIMIT_MEMLOCK instead). */
	io->has_dma_limit = false;
	return 0;
}

static int iommufd_open(struct vfio_iommu *io, int group)
{
	int fd = host_root_openat(io->root, "dev/iommu", O_RDWR);
	if (fd < 0) {
		snprintf(io->why, sizeof(io->why),
			 "no /dev/iommu: this kernel has no iommufd (CONFIG_IOMMUFD)");
		return fd;
	}
	io->container_fd = fd;
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	int r = vfio_ioctl(fd, IOMMU_IOAS_ALLOC, &alloc);
	if (r < 0) {
		snprintf(io->why, sizeof(io->why), "IOMMU_IOAS_ALLOC failed");
		return r;
	}
	io->ioas_id = alloc.out_ioas_id;
	io->groups[io->ngroups++] = group;
	return 0;
}

static int iommufd_attach_group(struct vfio_iommu *io, int group)
{
	if (io->ngroups == VFIO_MAX_GROUPS)
		return -E2BIG;
	io->groups[io->ngroups++] = group;
	return 0;
}

static int iommufd_device_fd(struct vfio_iommu *io, const char *bdf, int group)
{
	char path[128], **names;
	size_t n;
	snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/vfio-dev", bdf);
	int r = host_root_list_dir(io->root, path, &names, &n);
	if (r < 0 || n == 0) {
		if (r == 0)
			strv_free(names, n);
		snprintf(io->why, sizeof(io->why),
			 "%s has no VFIO device cdev (kernel without CONFIG_VFIO_DEVICE_CDEV, "
			 "or not bound to vfio-pci)", bdf);
		return -ENOENT;
	}
	snprintf(path, sizeof(path), "dev/vfio/devices/%s", names[0]);
	strv_free(names, n);
	int fd = host_root_openat(io->root, path, O_RDWR);
	if (fd < 0) {
		snprintf(io->why, sizeof(io->why), "cannot open /%s for %s", path, bdf);
		return fd;
	}
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind),
		.iommufd = io->container_fd,
	};
	r = vfio_ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &bind);
	if (r < 0) {
		snprintf(io->why, sizeof(io->why),
			 "VFIO_DEVICE_BIND_IOMMUFD failed for %s (is its IOMMU group %d viable?)",
			 bdf, group);
		close(fd);
		return r;
	}
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
		.pt_id = io->ioas_id,
	};
	r = vfio_ioctl(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach);
	if (r == -EPERM) {
		char param[8] = "";
		host_root_read(io->root, "sys/module/iommufd/parameters/allow_unsafe_interrupts",
			       param, sizeof(param));
		vfio_explain_set_iommu_eperm(io->why, sizeof(io->why), param);
	}
	if (r == 0)
		r = iommufd_read_ranges(io); /* attaching can narrow them */
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

static int iommufd_dma_map(struct vfio_iommu *io, uint64_t iova, void *vaddr,
			   uint64_t size, bool writable)
{
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 (writable ? IOMMU_IOAS_MAP_WRITEABLE : 0),
		.ioas_id = io->ioas_id,
		.user_va = (uintptr_t)vaddr,
		.length = size,
		.iova = iova,
	};
	return vfio_ioctl(io->container_fd, IOMMU_IOAS_MAP, &map);
}

static int iommufd_dma_unmap(struct vfio_iommu *io, uint64_t iova, uint64_t size)
{
	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap),
		.ioas_id = io->ioas_id,
		.iova = iova,
		.length = size,
	};
	int r = vfio_ioctl(io->container_fd, IOMMU_IOAS_UNMAP, &unmap);
	if (r == 0 && unmap.length != size)
		return -EIO;
	return r;
}

static void iommufd_close(struct vfio_iommu *io)
{
	if (io->container_fd >= 0 && io->ioas_id) {
		struct iommu_destroy d = { .size = sizeof(d), .id = io->ioas_id };
		vfio_ioctl(io->container_fd, IOMMU_DESTROY, &d);
	}
	io->ioas_id = 0;
}

const struct vfio_iommu_ops vfio_iommufd_ops = {
	.name = "iommufd",
	.open = iommufd_open,
	.attach_group = iommufd_attach_group,
	.device_fd = iommufd_device_fd,
	.dma_map = iommufd_dma_map,
	.dma_unmap = iommufd_dma_unmap,
	.close = iommufd_close,
};
