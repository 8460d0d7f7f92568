// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The legacy VFIO IOMMU backend: a container (/dev/vfio/vfio) holding groups
 * (/dev/vfio/N), type1 v2 IOMMU (Documentation/driver-api/vfio.rst,
 * "VFIO Usage Example"). What Debian 12's kernel and the lab have.
 */
#include "vfio_backend.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int vfio_ioctl(int fd, unsigned long request, void *arg)
{
	int r;
	do {
		r = ioctl(fd, request, arg);
	} while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

int vfio_cap_walk(const void *buf, size_t size, uint32_t first,
		  int (*fn)(const struct vfio_info_cap_header *cap, size_t avail, void *ctx),
		  void *ctx)
{
	uint32_t off = first;
	/* Each header is at least 8 bytes, so a chain in `size` bytes has at
	 * most size/8 entries: more means a loop. */
	for (size_t hops = 0; off; hops++) {
		if (hops > size / sizeof(struct vfio_info_cap_header) ||
		    off < sizeof(uint32_t) || off > size ||
		    size - off < sizeof(struct vfio_info_cap_header) || (off & 3))
			return -EBADMSG;
		const struct vfio_info_cap_header *cap =
			(const void *)((const char *)buf + off);
		int r = fn(cap, size - off, ctx);
		if (r < 0)
			return r;
		off = cap->next;
	}
	return 0;
}

static int type1_info_cap(const struct vfio_info_cap_header *cap, size_t avail, void *ctx)
{
	struct vfio_iommu *io = ctx;
	switch (cap->id) {
	case VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE: {
		const struct vfio_iommu_type1_info_cap_iova_range *c = (const void *)cap;
		if (avail < sizeof(*c))
			return -EBADMSG;
		if (c->nr_iovas > (avail - sizeof(*c)) / sizeof(c->iova_ranges[0]))
			return -EBADMSG;
		io->niova = 0;
		for (uint32_t i = 0; i < c->nr_iovas && io->niova < VFIO_MAX_IOVA_RANGES; i++) {
			if (c->iova_ranges[i].end < c->iova_ranges[i].start)
				return -EBADMSG;
			io->iova[io->niova].start = c->iova_ranges[i].start;
			io->iova[io->niova].end = c->iova_ranges[i].end;
			io->niova++;
		}
		return 0;
	}
	case VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL: {
		const struct vfio_iommu_type1_info_dma_avail *c = (const void *)cap;
		if (avail < sizeof(*c))
			return -EBADMSG;
		io->has_dma_limit = true;
		io->dma_avail = c->avail;
		return 0;
	}
	default:
		return 0; /* migration and future capabilities: not needed */
	}
}

int vfio_type1_parse_info(struct vfio_iommu *io, const void *buf, size_t size)
{
	const struct vfio_iommu_type1_info *info = buf;
	if (size < offsetof(struct vfio_iommu_type1_info, cap_offset) ||
	    info->argsz > size)
		return -EBADMSG;
	io->pgsize_bitmap = (info->flags & VFIO_IOMMU_INFO_PGSIZES) ? info->iova_pgsizes : 0;
	io->niova = 0;
	io->has_dma_limit = false;
	if (!(info->flags & VFIO_IOMMU_INFO_CAPS) || size < sizeof(*info))
		return 0;
	return vfio_cap_walk(buf, info->argsz, info->cap_offset, type1_info_cap, io);
}

/* VFIO_IOMMU_GET_INFO: ask, and ask again with the size the kernel wants
 * when the capability chain does not fit. */
static int type1_get_info(struct vfio_iommu *io)
{
	size_t size = sizeof(struct vfio_iommu_type1_info);
	for (int tries = 0; tries < 4; tries++) {
		struct vfio_iommu_type1_info *info = calloc(1, size);
		if (!info)
			return -ENOMEM;
		info->argsz = (uint32_t)size;
		int r = vfio_ioctl(io->container_fd, VFIO_IOMMU_GET_INFO, info);
		if (r == 0 && info->argsz > size) {
			size = info->argsz;
			free(info);
			continue;
		}
		if (r == 0)
			r = vfio_type1_parse_info(io, info, size);
		free(info);
		return r;
	}
	return -EMSGSIZE;
}

static int type1_attach(struct vfio_iommu *io, int group)
{
	char path[32];
	if (io->ngroups == VFIO_MAX_GROUPS)
		return -E2BIG;
	snprintf(path, sizeof(path), "dev/vfio/%d", group);
	int fd = host_root_openat(io->root, path, O_RDWR);
	if (fd == -ENOENT) {
		snprintf(io->why, sizeof(io->why),
			 "no /dev/vfio/%d: the group is not bound to vfio-pci "
			 "(passvm vfio bind)", group);
		return -ENOENT;
	}
	if (fd == -EBUSY) {
		snprintf(io->why, sizeof(io->why),
			 "/dev/vfio/%d is already open in another process "
			 "(passvm vfio status shows which)", group);
		return -EBUSY;
	}
	if (fd < 0) {
		snprintf(io->why, sizeof(io->why), "cannot open /dev/vfio/%d", group);
		return fd;
	}
	io->group_fds[io->ngroups] = fd;
	io->groups[io->ngroups] = group;
	io->ngroups++;

	struct vfio_group_status status = { .argsz = sizeof(status) };
	int r = vfio_ioctl(fd, VFIO_GROUP_GET_STATUS, &status);
	if (r < 0)
		return r;
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		snprintf(io->why, sizeof(io->why),
			 "IOMMU group %d is not viable: a member is still on a host driver "
			 "(bind the whole group: passvm vfio bind)", group);
		return -EBUSY;
	}
	r = vfio_ioctl(fd, VFIO_GROUP_SET_CONTAINER, &io->container_fd);
	if (r < 0) {
		snprintf(io->why, sizeof(io->why),
			 "cannot add IOMMU group %d to the VFIO container", group);
		return r;
	}
	if (io->ngroups > 1)
		return type1_get_info(io); /* a new group can narrow the ranges */

	/* The IOMMU model is set once, after the first group joins. */
	r = vfio_ioctl(io->container_fd, VFIO_SET_IOMMU, (void *)(uintptr_t)VFIO_TYPE1v2_IOMMU);
	if (r == -EPERM) {
		char param[8] = "";
		host_root_read(io->root,
			       "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts",
			       param, sizeof(param));
		vfio_explain_set_iommu_eperm(io->why, sizeof(io->why), param);
		return r;
	}
	if (r < 0) {
		snprintf(io->why, sizeof(io->why),
			 "VFIO_SET_IOMMU (type1 v2) failed for IOMMU group %d", group);
		return r;
	}
	return type1_get_info(io);
}

static int type1_open(struct vfio_iommu *io, int group)
{
	int fd = host_root_openat(io->root, "dev/vfio/vfio", O_RDWR);
	if (fd < 0) {
		snprintf(io->why, sizeof(io->why),
			 "no /dev/vfio/vfio: the vfio module is not loaded (modprobe vfio-pci)");
		return fd;
	}
	io->container_fd = fd;
	int r = vfio_ioctl(fd, VFIO_GET_API_VERSION, NULL);
	if (r != VFIO_API_VERSION) {
		snprintf(io->why, sizeof(io->why), "VFIO API version %d, passvm speaks %d",
			 r, VFIO_API_VERSION);
		return -EPROTO;
	}
	/* type1 v2: unmap of a partial mapping fails instead of unmapping the
	 * whole original mapping; the only semantics a VMM can rely on. */
	if (vfio_ioctl(fd, VFIO_CHECK_EXTENSION, (void *)(uintptr_t)VFIO_TYPE1v2_IOMMU) <= 0) {
		snprintf(io->why, sizeof(io->why),
			 "the kernel offers no type1 v2 IOMMU (modprobe vfio_iommu_type1)");
		return -EPROTONOSUPPORT;
	}
	return type1_attach(io, group);
}

static int type1_device_fd(struct vfio_iommu *io, const char *bdf, int group)
{
	for (size_t i = 0; i < io->ngroups; i++) {
		if (io->groups[i] != group)
			continue;
		/* VFIO_GROUP_GET_DEVICE_FD takes a string: the device name. */
		int fd = vfio_ioctl(io->group_fds[i], VFIO_GROUP_GET_DEVICE_FD, (void *)bdf);
		if (fd < 0)
			snprintf(io->why, sizeof(io->why),
				 "cannot open VFIO device %s in IOMMU group %d", bdf, group);
		return fd;
	}
	snprintf(io->why, sizeof(io->why), "IOMMU group %d is not attached", group);
	return -ENOENT;
}

static int type1_dma_map(struct vfio_iommu *io, uint64_t iova, void *vaddr,
			 uint64_t size, bool writable)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | (writable ? VFIO_DMA_MAP_FLAG_WRITE : 0),
		.vaddr = (uintptr_t)vaddr,
		.iova = iova,
		.size = size,
	};
	return vfio_ioctl(io->container_fd, VFIO_IOMMU_MAP_DMA, &map);
}

static int type1_dma_unmap(struct vfio_iommu *io, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = iova,
		.size = size,
	};
	int r = vfio_ioctl(io->container_fd, VFIO_IOMMU_UNMAP_DMA, &unmap);
	if (r == 0 && unmap.size != size)
		return -EIO;
	return r;
}

static void type1_close(struct vfio_iommu *io)
{
	/* Closing the group and container fds (vfio_iommu_close) detaches;
	 * nothing extra to undo here. */
}

const struct vfio_iommu_ops vfio_type1_ops = {
	.name = "type1v2",
	.open = type1_open,
	.attach_group = type1_attach,
	.device_fd = type1_device_fd,
	.dma_map = type1_dma_map,
	.dma_unmap = type1_dma_unmap,
	.close = type1_close,
};
