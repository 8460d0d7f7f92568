// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Device interrupts through VFIO_DEVICE_SET_IRQS: each vector's trigger
 * becomes an eventfd (the VMM hands it to KVM as an irqfd, or polls it).
 * INTx is level-triggered: vfio-pci masks the line when it fires and the
 * consumer unmasks it after the guest's EOI, either with an ioctl or by
 * signalling the unmask eventfd, which is what KVM's irqfd "resample" fd is
 * wired to (Documentation/virt/kvm/api.rst, KVM_IRQFD_FLAG_RESAMPLE).
 */
#include "vfio_backend.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int vfio_irq_info(const struct vfio_device *dev, uint32_t index,
		  struct vfio_irq_info *info)
{
	if (index >= dev->num_irqs)
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = index;
	return vfio_ioctl(dev->fd, VFIO_DEVICE_GET_IRQ_INFO, info);
}

static int set_irqs(const struct vfio_device *dev, uint32_t flags, uint32_t index,
		    uint32_t start, uint32_t count, const int *fds)
{
	size_t data = (flags & VFIO_IRQ_SET_DATA_EVENTFD) ? count * sizeof(int32_t) : 0;
	struct vfio_irq_set *set = calloc(1, sizeof(*set) + data);
	if (!set)
		return -ENOMEM;
	set->argsz = (uint32_t)(sizeof(*set) + data);
	set->flags = flags;
	set->index = index;
	set->start = start;
	set->count = count;
	if (data)
		memcpy(set->data, fds, data);
	int r = vfio_ioctl(dev->fd, VFIO_DEVICE_SET_IRQS, set);
	free(set);
	return r;
}

int vfio_irq_set_eventfds(const struct vfio_device *dev, uint32_t index,
			  uint32_t start, uint32_t count, const int *fds)
{
	struct vfio_irq_info info;
	int r = vfio_irq_info(dev, index, &info);
	if (r < 0)
		return r;
	if (!(info.flags & VFIO_IRQ_INFO_EVENTFD) || count == 0 ||
	    start >= info.count || count > info.count - start)
		return -EINVAL;
	return set_irqs(dev, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
			index, start, count, fds);
}

int vfio_irq_disable(const struct vfio_device *dev, uint32_t index)
{
	/* DATA_NONE with count 0 tears the whole index down (vfio.h). */
	return set_irqs(dev, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
			index, 0, 0, NULL);
}

int vfio_irq_intx_unmask_eventfd(const struct vfio_device *dev, int fd)
{
	return set_irqs(dev, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK,
			VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &fd);
}

int vfio_irq_intx_unmask(const struct vfio_device *dev)
{
	return set_irqs(dev, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
			VFIO_PCI_INTX_IRQ_INDEX, 0, 1, NULL);
}
