// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The IOMMU side of VFIO, backend-neutral: choosing a backend from the
 * table, the checks every DMA map passes (IOVA ranges and the DMA-entry
 * limit the kernel reported, locked-memory budget), and the explanations
 * that turn bare errnos into something a user can act on.
 */
#include "vfio.h"
#include "vfio_backend.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* Every backend, in the order AUTO tries them. iommufd first when built:
 * it is the kernel's future and the only path to new features; where the
 * kernel lacks it (no /dev/iommu, no VFIO device cdev) type1 follows. */
static const struct vfio_iommu_ops *const backends[] = {
#ifdef PASSVM_HAVE_IOMMUFD
	&vfio_iommufd_ops,
#endif
	&vfio_type1_ops,
};

bool vfio_iommufd_built(void)
{
#ifdef PASSVM_HAVE_IOMMUFD
	return true;
#else
	return false;
#endif
}

static void iommu_reset(struct vfio_iommu *io, const struct host_root *root)
{
	memset(io, 0, sizeof(*io));
	io->root = root;
	io->container_fd = -1;
	for (size_t i = 0; i < VFIO_MAX_GROUPS; i++)
		io->group_fds[i] = -1;
}

int vfio_iommu_open(struct vfio_iommu *io, const struct host_root *root,
		    enum vfio_backend backend, int group)
{
	int r = -ENODEV;
	char why[sizeof(io->why)] = "";
	iommu_reset(io, root);
	for (size_t i = 0; i < ARRAY_SIZE(backends); i++) {
		const struct vfio_iommu_ops *ops = backends[i];
		if (backend == VFIO_BACKEND_TYPE1 && ops != &vfio_type1_ops)
			continue;
		if (backend == VFIO_BACKEND_IOMMUFD && ops == &vfio_type1_ops)
			continue;
		iommu_reset(io, root);
		io->ops = ops;
		r = ops->open(io, group);
		if (r == 0)
			return 0;
		snprintf(why, sizeof(why), "%s", io->why);
		vfio_iommu_close(io);
		/* AUTO falls through to the next backend only when this one is
		 * absent, not when it found a real problem with the group. */
		if (backend != VFIO_BACKEND_AUTO || (r != -ENOENT && r != -ENOTTY))
			break;
	}
	if (r == -ENODEV && !why[0])
		snprintf(why, sizeof(why), "this build has no %s backend",
			 backend == VFIO_BACKEND_IOMMUFD ? "iommufd" : "matching");
	snprintf(io->why, sizeof(io->why), "%s", why);
	return r;
}

int vfio_iommu_attach_group(struct vfio_iommu *io, int group)
{
	io->why[0] = '\0';
	if (!io->ops)
		return -EBADF;
	for (size_t i = 0; i < io->ngroups; i++)
		if (io->groups[i] == group)
			return 0;
	return io->ops->attach_group(io, group);
}

void vfio_iommu_close(struct vfio_iommu *io)
{
	if (io->ops)
		io->ops->close(io);
	for (size_t i = 0; i < VFIO_MAX_GROUPS; i++)
		if (io->group_fds[i] >= 0)
			close(io->group_fds[i]);
	if (io->container_fd >= 0)
		close(io->container_fd);
	const struct host_root *root = io->root;
	iommu_reset(io, root);
}

bool vfio_iova_allowed(const struct vfio_iommu *io, uint64_t iova, uint64_t size)
{
	if (size == 0 || iova + (size - 1) < iova)
		return false;
	uint64_t last = iova + (size - 1);
	/* No ranges reported (an old kernel): the whole space is assumed. */
	if (io->niova == 0)
		return true;
	for (size_t i = 0; i < io->niova; i++)
		if (iova >= io->iova[i].start && last <= io->iova[i].end)
			return true;
	return false;
}

void vfio_explain_memlock(char *buf, size_t size, uint64_t need_bytes,
			  uint64_t limit_bytes)
{
	/* type1 pins every mapped page and charges it to RLIMIT_MEMLOCK of the
	 * process unless it has CAP_IPC_LOCK (drivers/vfio/vfio_iommu_type1.c,
	 * vfio_lock_acct); iommufd charges the same limit by default. */
	snprintf(buf, size,
		 "DMA mapping needs %" PRIu64 " MiB of locked memory (all guest RAM is pinned), "
		 "but RLIMIT_MEMLOCK is %" PRIu64 " MiB: raise it to at least %" PRIu64
		 " MiB (ulimit -l %" PRIu64 ", or LimitMEMLOCK= in a systemd unit), or run "
		 "with CAP_IPC_LOCK",
		 need_bytes >> 20, limit_bytes >> 20, (need_bytes + (1 << 20) - 1) >> 20,
		 (need_bytes + 1023) >> 10);
}

void vfio_explain_set_iommu_eperm(char *buf, size_t size, const char *unsafe_param)
{
	/* vfio_iommu_type1_attach_group refuses a domain without interrupt
	 * remapping (IOMMU_CAP_INTR_REMAP / MSI isolation) unless the module
	 * parameter allows it: without remapping, a device can write any MSI
	 * and so inject interrupts into the host or other guests. */
	snprintf(buf, size,
		 "the IOMMU has no interrupt remapping, so VFIO refuses the device "
		 "(a device could forge MSI writes and inject interrupts into the host "
		 "or other VMs). Enable interrupt remapping (intel_iommu=on with "
		 "intremap on, or the firmware's x2APIC/IR setting), or accept that risk "
		 "with vfio_iommu_type1.allow_unsafe_interrupts=1 (now %s; set on the "
		 "kernel command line or in /etc/modprobe.d)",
		 unsafe_param && *unsafe_param ? unsafe_param : "unknown");
}

/* CAP_IPC_LOCK exempts from RLIMIT_MEMLOCK; read it from CapEff. */
static bool has_ipc_lock(const struct host_root *root)
{
	char status[4096];
	if (host_root_read(root, "proc/self/status", status, sizeof(status)) < 0)
		return geteuid() == 0;
	const char *p = strstr(status, "CapEff:");
	unsigned long long caps;
	if (!p || sscanf(p + 7, "%llx", &caps) != 1)
		return geteuid() == 0;
	return caps & (1ULL << 14); /* CAP_IPC_LOCK */
}

int vfio_dma_map(struct vfio_iommu *io, uint64_t iova, void *vaddr,
		 uint64_t size, bool writable)
{
	io->why[0] = '\0';
	if (!io->ops)
		return -EBADF;
	uint64_t page = io->pgsize_bitmap ? io->pgsize_bitmap & -io->pgsize_bitmap : 4096;
	if ((iova | size | (uintptr_t)vaddr) & (page - 1)) {
		snprintf(io->why, sizeof(io->why),
			 "IOVA 0x%" PRIx64 ", size 0x%" PRIx64 " or address %p is not aligned to the "
			 "IOMMU page size 0x%" PRIx64, iova, size, vaddr, page);
		return -EINVAL;
	}
	if (!vfio_iova_allowed(io, iova, size)) {
		int len = snprintf(io->why, sizeof(io->why),
				   "IOVA 0x%" PRIx64 "-0x%" PRIx64 " is outside the ranges the "
				   "IOMMU accepts:", iova, iova + size - 1);
		for (size_t i = 0; i < io->niova && len > 0 && (size_t)len < sizeof(io->why); i++)
			len += snprintf(io->why + len, sizeof(io->why) - (size_t)len,
					" 0x%" PRIx64 "-0x%" PRIx64, io->iova[i].start,
					io->iova[i].end);
		return -ERANGE;
	}
	if (io->has_dma_limit && io->dma_avail == 0) {
		snprintf(io->why, sizeof(io->why),
			 "the kernel allows no more DMA mappings in this container "
			 "(vfio_iommu_type1 dma_entry_limit): map guest memory in fewer, larger "
			 "pieces, or raise the module parameter");
		return -ENOSPC;
	}
	struct rlimit lim;
	bool limited = getrlimit(RLIMIT_MEMLOCK, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY &&
		       !has_ipc_lock(io->root);
	if (limited && io->mapped_bytes + size > lim.rlim_cur) {
		vfio_explain_memlock(io->why, sizeof(io->why), io->mapped_bytes + size,
				     lim.rlim_cur);
		return -ENOMEM;
	}
	int r = io->ops->dma_map(io, iova, vaddr, size, writable);
	if (r == -ENOMEM && limited)
		vfio_explain_memlock(io->why, sizeof(io->why), io->mapped_bytes + size,
				     lim.rlim_cur);
	else if (r == -ENOMEM)
		snprintf(io->why, sizeof(io->why),
			 "the kernel could not pin %" PRIu64 " MiB of memory for DMA "
			 "(no locked-memory limit applies: the host is short of memory)",
			 size >> 20);
	if (r < 0)
		return r;
	io->mapped_bytes += size;
	if (io->has_dma_limit)
		io->dma_avail--;
	return 0;
}

int vfio_dma_unmap(struct vfio_iommu *io, uint64_t iova, uint64_t size)
{
	if (!io->ops)
		return -EBADF;
	int r = io->ops->dma_unmap(io, iova, size);
	if (r < 0)
		return r;
	io->mapped_bytes = io->mapped_bytes > size ? io->mapped_bytes - size : 0;
	if (io->has_dma_limit)
		io->dma_avail++;
	return 0;
}
