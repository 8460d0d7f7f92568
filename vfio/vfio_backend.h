/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vfio/ internal: the IOMMU backends behind struct vfio_iommu_ops. */
#ifndef PASSVM_VFIO_BACKEND_H
#define PASSVM_VFIO_BACKEND_H

#include "vfio.h"

extern const struct vfio_iommu_ops vfio_type1_ops;
#ifdef PASSVM_HAVE_IOMMUFD
extern const struct vfio_iommu_ops vfio_iommufd_ops;
#endif

/* ioctl that returns -errno and retries EINTR. */
int vfio_ioctl(int fd, unsigned long request, void *arg);

/*
 * Walks a VFIO capability chain (struct vfio_info_cap_header) inside an
 * info reply of `size` bytes starting at `first` (0: none), calling fn for
 * each header whose bytes lie inside the reply. Offsets are checked, loops
 * are bounded: a bad chain ends the walk with -EBADMSG.
 */
int vfio_cap_walk(const void *buf, size_t size, uint32_t first,
		  int (*fn)(const struct vfio_info_cap_header *cap, size_t avail, void *ctx),
		  void *ctx);

#endif
