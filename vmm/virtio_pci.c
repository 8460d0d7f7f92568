// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The modern virtio PCI transport (virtio 1.2, 4.1), device side.
 *
 * BAR 0 (32-bit memory, 16 KiB) holds the four regions the vendor-specific
 * capabilities (4.1.4) point at; BAR 1 holds the MSI-X table and PBA:
 *
 *   BAR 0 + 0x0000  common configuration (4.1.4.3)
 *   BAR 0 + 0x1000  ISR status (4.1.4.5)
 *   BAR 0 + 0x2000  device-specific configuration (4.1.4.6)
 *   BAR 0 + 0x3000  notifications: queue i at 0x3000 + 4 * i
 *                   (queue_notify_off = i, notify_off_multiplier = 4)
 *   BAR 1 + 0x000   MSI-X table (queues + 1 vectors), PBA at + 0x800
 *
 * A modern-only device: PCI device ID 0x1040 + virtio ID, revision 1
 * (4.1.2.1), no legacy I/O BAR, no INTx (Linux's virtio_pci asks for MSI-X
 * first; passvm's guests always have it). The VIRTIO_PCI_CAP_PCI_CFG
 * window (4.1.4.9), for firmware without BAR access, is not offered.
 *
 * Hot path: a driver's notify write hits a KVM ioeventfd (no exit to
 * passvm); the queue's event-loop thread reads it and calls the device's
 * queue_notify; the device's interrupt is an eventfd write into a KVM
 * irqfd on an MSI route. Neither takes the device lock, which only
 * serialises the driver's configuration accesses on vCPU threads.
 */
#include "virtio.h"
#include "evloop.h"
#include "msix.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040
#define PCI_CAP_ID_VNDR 0x09

enum {
	CAP_COMMON = 1, CAP_NOTIFY = 2, CAP_ISR = 3, CAP_DEVICE = 4,
};

#define BAR_REGS 0
#define BAR_MSIX 1
#define REGS_BYTES 0x4000
#define COMMON_OFF 0x0000
#define COMMON_BYTES 0x38
#define ISR_OFF 0x1000
#define DEVICE_OFF 0x2000
#define DEVICE_MAX 0x1000
#define NOTIFY_OFF 0x3000
#define NOTIFY_MULT 4
#define MSIX_BYTES 0x1000
#define MSIX_TABLE_OFF 0x000
#define MSIX_PBA_OFF 0x800
#define MAX_VECTORS (VIRTIO_PCI_MAX_QUEUES + 1)

/* Common configuration registers (4.1.4.3). */
enum {
	CC_DFSELECT = 0x00, CC_DF = 0x04, CC_GFSELECT = 0x08, CC_GF = 0x0c,
	CC_MSIX_CONFIG = 0x10, CC_NUM_QUEUES = 0x12, CC_STATUS = 0x14,
	CC_CFG_GENERATION = 0x15, CC_Q_SELECT = 0x16, CC_Q_SIZE = 0x18,
	CC_Q_MSIX = 0x1a, CC_Q_ENABLE = 0x1c, CC_Q_NOFF = 0x1e,
	CC_Q_DESC = 0x20, CC_Q_DRIVER = 0x28, CC_Q_DEVICE = 0x30,
};

#define BROKEN_LOG_INTERVAL_MS 5000

struct vq_state {
	struct virtio_device *vdev;
	unsigned index;
	uint16_t size;
	uint16_t msix_vector;       /* read by the queue thread: atomics */
	bool enabled;
	uint64_t desc, driver, device;
	struct virtq vq;
	int kick_fd;
	bool kick_registered;       /* KVM ioeventfd assigned */
	uint64_t kick_gpa;
	bool serving;               /* kick_fd on its loop */
	unsigned loop;
	bool broken;                /* atomics */
};

struct vector_state {
	int fd;
	uint32_t gsi;
	bool routed;
};

struct virtio_device {
	struct vmm_pci_device pci;
	struct vmm_msix msix;
	struct virtio_pci_env env;
	struct virtio_device_params p;
	char id[16];
	pthread_mutex_t lock;       /* driver config accesses (vCPU threads) */
	uint64_t offered, driver_features, features;
	uint32_t dfselect, gfselect;
	uint16_t config_vector;     /* atomics */
	uint8_t status;             /* atomics: NEEDS_RESET set from queue threads */
	uint8_t config_generation;  /* atomics */
	uint8_t isr;                /* atomics */
	uint16_t queue_select;
	struct vq_state q[VIRTIO_PCI_MAX_QUEUES];
	struct vmm_evloop *loops[VIRTIO_PCI_MAX_QUEUES];
	unsigned nloops;
	struct vector_state vec[MAX_VECTORS];
	unsigned nvectors;
	bool mapped[2];
	uint64_t bar_addr[2];
	unsigned long broken_count, broken_suppressed;
	long long broken_logged_ms;
};

/* ---- interrupts ---------------------------------------------------------- */
static void signal_vector(struct virtio_device *vdev, unsigned v)
{
	if (v >= vdev->nvectors || !vmm_msix_fire_allowed(&vdev->msix, v))
		return;
	uint64_t one = 1;
	/* Fails only when the counter would overflow: the guest has not
	 * taken 2^64 - 1 interrupts, so one is pending anyway. */
	if (write(vdev->vec[v].fd, &one, sizeof(one)) < 0)
		return;
}

static void msix_vector_changed(void *ctx, unsigned v, uint64_t addr, uint32_t data,
				bool masked)
{
	struct virtio_device *vdev = ctx;
	struct vector_state *vs = &vdev->vec[v];
	if (!vdev->env.irqchip || v >= vdev->nvectors)
		return;
	/* A masked vector is never signalled (fire_allowed), so its route
	 * may keep the old message; route it when it is first unmasked. */
	if (masked)
		return;
	if (!vs->routed) {
		if (vmm_irqchip_add_msi_route(vdev->env.irqchip, addr, data, &vs->gsi) < 0)
			return;
		if (vmm_irqchip_irqfd(vdev->env.irqchip, vs->fd, vs->gsi, true) < 0)
			return;
		vs->routed = true;
	} else {
		vmm_irqchip_update_msi_route(vdev->env.irqchip, vs->gsi, addr, data);
	}
}

static void msix_deliver_pending(void *ctx, unsigned v)
{
	struct virtio_device *vdev = ctx;
	uint64_t one = 1;
	if (v < vdev->nvectors && write(vdev->vec[v].fd, &one, sizeof(one)) < 0)
		return;
}

static const struct vmm_msix_ops msix_ops = {
	.vector_changed = msix_vector_changed,
	.deliver_pending = msix_deliver_pending,
};

void virtio_queue_interrupt(struct virtio_device *vdev, unsigned q)
{
	if (q >= vdev->p.num_queues)
		return;
	struct vq_state *s = &vdev->q[q];
	if (!virtq_should_interrupt(&s->vq))
		return;
	signal_vector(vdev, __atomic_load_n(&s->msix_vector, __ATOMIC_RELAXED));
}

void virtio_config_changed(struct virtio_device *vdev)
{
	__atomic_fetch_add(&vdev->config_generation, 1, __ATOMIC_RELEASE);
	__atomic_fetch_or(&vdev->isr, 2, __ATOMIC_RELEASE);
	signal_vector(vdev, __atomic_load_n(&vdev->config_vector, __ATOMIC_RELAXED));
}

void virtio_device_broken(struct virtio_device *vdev, unsigned q, const char *fmt, ...)
{
	if (q < vdev->p.num_queues) {
		__atomic_store_n(&vdev->q[q].broken, true, __ATOMIC_RELEASE);
	} else {
		for (unsigned i = 0; i < vdev->p.num_queues; i++)
			__atomic_store_n(&vdev->q[i].broken, true, __ATOMIC_RELEASE);
	}
	uint8_t old = __atomic_fetch_or(&vdev->status, VIRTIO_STATUS_NEEDS_RESET,
					__ATOMIC_ACQ_REL);
	unsigned long n = __atomic_add_fetch(&vdev->broken_count, 1, __ATOMIC_RELAXED);
	if (!(old & VIRTIO_STATUS_NEEDS_RESET) && (old & VIRTIO_STATUS_DRIVER_OK))
		virtio_config_changed(vdev);
	/* Rate limit: one line per device every BROKEN_LOG_INTERVAL_MS. */
	if (!ratelimit_pass(&vdev->broken_logged_ms, BROKEN_LOG_INTERVAL_MS)) {
		__atomic_add_fetch(&vdev->broken_suppressed, 1, __ATOMIC_RELAXED);
		return;
	}
	char msg[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	unsigned long quiet = __atomic_exchange_n(&vdev->broken_suppressed, 0, __ATOMIC_RELAXED);
	log_warn("%s (%s): guest driver error: %s; device needs a reset "
		 "(%lu error(s) so far, %lu not logged)",
		 vdev->id, vdev->p.ops->name, msg, n, quiet);
}

unsigned long virtio_broken_count(const struct virtio_device *vdev)
{
	return __atomic_load_n(&vdev->broken_count, __ATOMIC_RELAXED);
}

/* ---- queues and their threads -------------------------------------------- */
struct virtq *virtio_queue(struct virtio_device *vdev, unsigned q)
{
	return q < vdev->p.num_queues ? &vdev->q[q].vq : NULL;
}

struct vmm_evloop *virtio_queue_loop(struct virtio_device *vdev, unsigned q)
{
	return q < vdev->p.num_queues ? vdev->loops[vdev->q[q].loop] : NULL;
}

int virtio_queue_pop(struct virtio_device *vdev, unsigned q, struct virtq_chain *chain)
{
	struct vq_state *s = &vdev->q[q];
	if (__atomic_load_n(&s->broken, __ATOMIC_ACQUIRE))
		return -EBADMSG;
	int r = virtq_pop(&s->vq, chain);
	if (r == -EBADMSG)
		virtio_device_broken(vdev, q, "queue %u: %s", q, s->vq.error);
	return r;
}

static void kick(void *ctx, uint32_t events)
{
	struct vq_state *s = ctx;
	uint64_t n;
	if (read(s->kick_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	if (__atomic_load_n(&s->broken, __ATOMIC_ACQUIRE))
		return;
	s->vdev->p.ops->queue_notify(s->vdev->p.dev, s->index);
}

static void stop_serving(struct virtio_device *vdev)
{
	for (unsigned i = 0; i < vdev->p.num_queues; i++) {
		struct vq_state *s = &vdev->q[i];
		if (s->serving)
			vmm_evloop_remove(vdev->loops[s->loop], s->kick_fd);
		s->serving = false;
	}
}

/* ---- status, features, reset --------------------------------------------- */
/* The transport's state after a reset (4.1.4.3.2: vectors NO_VECTOR,
 * queue sizes at their maximum). */
static void reset_state(struct virtio_device *vdev)
{
	for (unsigned i = 0; i < vdev->p.num_queues; i++) {
		struct vq_state *s = &vdev->q[i];
		s->size = vdev->p.queue_size_max;
		__atomic_store_n(&s->msix_vector, VIRTIO_MSI_NO_VECTOR, __ATOMIC_RELAXED);
		s->enabled = false;
		s->desc = s->driver = s->device = 0;
		memset(&s->vq, 0, sizeof(s->vq));
		__atomic_store_n(&s->broken, false, __ATOMIC_RELEASE);
		uint64_t n;
		if (read(s->kick_fd, &n, sizeof(n)) < 0)
			n = 0; /* nothing pending: fine */
	}
	vdev->driver_features = vdev->features = 0;
	vdev->dfselect = vdev->gfselect = 0;
	vdev->queue_select = 0;
	__atomic_store_n(&vdev->config_vector, VIRTIO_MSI_NO_VECTOR, __ATOMIC_RELAXED);
	__atomic_store_n(&vdev->isr, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&vdev->status, 0, __ATOMIC_RELEASE);
}

/* Caller holds the lock. */
static void device_reset(struct virtio_device *vdev)
{
	stop_serving(vdev);
	if (vdev->p.ops->reset)
		vdev->p.ops->reset(vdev->p.dev);
	reset_state(vdev);
}

static bool features_ok(const struct virtio_device *vdev)
{
	/* 6.1: a device must not accept features it did not offer; passvm
	 * is modern only, so VERSION_1 is required (no legacy interface). */
	return !(vdev->driver_features & ~vdev->offered) &&
	       (vdev->driver_features & VIRTIO_BIT(VIRTIO_F_VERSION_1));
}

static void driver_ok(struct virtio_device *vdev)
{
	uint64_t f = vdev->features;
	for (unsigned i = 0; i < vdev->p.num_queues; i++) {
		struct vq_state *s = &vdev->q[i];
		if (!s->enabled)
			continue;
		if (s->size > vdev->p.queue_size_max ||
		    virtq_init(&s->vq, vdev->env.mem, s->size, s->desc, s->driver, s->device,
			       f & VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX),
			       f & VIRTIO_BIT(VIRTIO_F_RING_INDIRECT_DESC)) < 0) {
			virtio_device_broken(vdev, i, "queue %u: %s", i,
					     s->vq.error ? s->vq.error : "size above the maximum");
			memset(&s->vq, 0, sizeof(s->vq));
		}
	}
	if (vdev->p.ops->activate && vdev->p.ops->activate(vdev->p.dev, f) < 0) {
		virtio_device_broken(vdev, ~0u, "the device could not start");
		return;
	}
	for (unsigned i = 0; i < vdev->p.num_queues; i++) {
		struct vq_state *s = &vdev->q[i];
		if (!s->enabled || !s->vq.size)
			continue;
		if (vmm_evloop_add(vdev->loops[s->loop], s->kick_fd, EPOLLIN, kick, s) == 0)
			s->serving = true;
		/* Buffers made available before DRIVER_OK (2.7.13.3 lets the
		 * driver notify early): look once. */
		uint64_t one = 1;
		if (write(s->kick_fd, &one, sizeof(one)) < 0)
			continue;
	}
}

static void write_status(struct virtio_device *vdev, uint8_t v)
{
	if (v == 0) {
		device_reset(vdev);
		return;
	}
	uint8_t cur = __atomic_load_n(&vdev->status, __ATOMIC_ACQUIRE);
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(cur & VIRTIO_STATUS_FEATURES_OK)) {
		if (features_ok(vdev))
			vdev->features = vdev->driver_features;
		else
			v &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;  /* 3.1.1 step 6 */
	}
	/* NEEDS_RESET is the device's bit; the driver cannot clear it. */
	v = (uint8_t)((v & ~VIRTIO_STATUS_NEEDS_RESET) | (cur & VIRTIO_STATUS_NEEDS_RESET));
	bool start = (v & VIRTIO_STATUS_DRIVER_OK) && !(cur & VIRTIO_STATUS_DRIVER_OK) &&
		     (v & VIRTIO_STATUS_FEATURES_OK);
	__atomic_store_n(&vdev->status, v, __ATOMIC_RELEASE);
	if (start)
		driver_ok(vdev);
}

/* ---- common configuration ------------------------------------------------ */
static uint64_t common_read(struct virtio_device *vdev, uint32_t off, uint32_t size)
{
	struct vq_state *s = vdev->queue_select < vdev->p.num_queues ?
				     &vdev->q[vdev->queue_select] : NULL;
	uint8_t regs[COMMON_BYTES] = { 0 };
	uint32_t df = vdev->dfselect < 2 ? (uint32_t)(vdev->offered >> (32 * vdev->dfselect)) : 0;
	uint32_t gf = vdev->gfselect < 2 ?
			      (uint32_t)(vdev->driver_features >> (32 * vdev->gfselect)) : 0;
	uint16_t cv = __atomic_load_n(&vdev->config_vector, __ATOMIC_RELAXED);
	uint16_t nq = (uint16_t)vdev->p.num_queues;
	memcpy(regs + CC_DFSELECT, &vdev->dfselect, 4);
	memcpy(regs + CC_DF, &df, 4);
	memcpy(regs + CC_GFSELECT, &vdev->gfselect, 4);
	memcpy(regs + CC_GF, &gf, 4);
	memcpy(regs + CC_MSIX_CONFIG, &cv, 2);
	memcpy(regs + CC_NUM_QUEUES, &nq, 2);
	regs[CC_STATUS] = __atomic_load_n(&vdev->status, __ATOMIC_ACQUIRE);
	regs[CC_CFG_GENERATION] = __atomic_load_n(&vdev->config_generation, __ATOMIC_ACQUIRE);
	memcpy(regs + CC_Q_SELECT, &vdev->queue_select, 2);
	if (s) {
		/* 4.1.4.3.2: size reads 0 for a queue that does not exist. */
		uint16_t vec = __atomic_load_n(&s->msix_vector, __ATOMIC_RELAXED);
		uint16_t en = s->enabled, noff = (uint16_t)s->index;
		memcpy(regs + CC_Q_SIZE, &s->size, 2);
		memcpy(regs + CC_Q_MSIX, &vec, 2);
		memcpy(regs + CC_Q_ENABLE, &en, 2);
		memcpy(regs + CC_Q_NOFF, &noff, 2);
		memcpy(regs + CC_Q_DESC, &s->desc, 8);
		memcpy(regs + CC_Q_DRIVER, &s->driver, 8);
		memcpy(regs + CC_Q_DEVICE, &s->device, 8);
	}
	uint64_t v = 0;
	memcpy(&v, regs + off, size);
	return v;
}

static void set_u64_half(uint64_t *field, uint32_t half, uint64_t v, uint32_t size)
{
	if (size == 8)
		*field = v;
	else if (half)
		*field = (*field & 0xffffffffULL) | v << 32;
	else
		*field = (*field & ~0xffffffffULL) | (v & 0xffffffffULL);
}

static uint16_t checked_vector(const struct virtio_device *vdev, uint64_t v)
{
	/* 4.1.4.3.2: a vector the device cannot map reads back as NO_VECTOR. */
	return v < vdev->nvectors ? (uint16_t)v : VIRTIO_MSI_NO_VECTOR;
}

static void common_write(struct virtio_device *vdev, uint32_t off, uint32_t size, uint64_t v)
{
	struct vq_state *s = vdev->queue_select < vdev->p.num_queues ?
				     &vdev->q[vdev->queue_select] : NULL;
	uint8_t status = __atomic_load_n(&vdev->status, __ATOMIC_ACQUIRE);
	/* Queue fields are frozen once the queue is enabled or the driver is
	 * running: the rings are in use (4.1.4.3.2). */
	bool q_writable = s && !s->enabled && !(status & VIRTIO_STATUS_DRIVER_OK);
	switch (off) {
	case CC_DFSELECT: if (size == 4) vdev->dfselect = (uint32_t)v; break;
	case CC_GFSELECT: if (size == 4) vdev->gfselect = (uint32_t)v; break;
	case CC_GF:
		if (size == 4 && vdev->gfselect < 2 && !(status & VIRTIO_STATUS_FEATURES_OK))
			set_u64_half(&vdev->driver_features, vdev->gfselect, v, 4);
		break;
	case CC_MSIX_CONFIG:
		if (size == 2)
			__atomic_store_n(&vdev->config_vector, checked_vector(vdev, v),
					 __ATOMIC_RELAXED);
		break;
	case CC_STATUS: if (size == 1) write_status(vdev, (uint8_t)v); break;
	case CC_Q_SELECT: if (size == 2) vdev->queue_select = (uint16_t)v; break;
	case CC_Q_SIZE: if (size == 2 && q_writable) s->size = (uint16_t)v; break;
	case CC_Q_MSIX:
		if (size == 2 && s)
			__atomic_store_n(&s->msix_vector, checked_vector(vdev, v), __ATOMIC_RELAXED);
		break;
	case CC_Q_ENABLE: if (size == 2 && q_writable && v == 1) s->enabled = true; break;
	case CC_Q_DESC: case CC_Q_DESC + 4:
		if (q_writable && (size == 8 || size == 4))
			set_u64_half(&s->desc, (off - CC_Q_DESC) / 4, v, size);
		break;
	case CC_Q_DRIVER: case CC_Q_DRIVER + 4:
		if (q_writable && (size == 8 || size == 4))
			set_u64_half(&s->driver, (off - CC_Q_DRIVER) / 4, v, size);
		break;
	case CC_Q_DEVICE: case CC_Q_DEVICE + 4:
		if (q_writable && (size == 8 || size == 4))
			set_u64_half(&s->device, (off - CC_Q_DEVICE) / 4, v, size);
		break;
	default: break;   /* read-only registers, odd offsets: dropped */
	}
}

/* ---- BAR 0 ----------------------------------------------------------------- */
static uint64_t get_le(const uint8_t *d, uint32_t size)
{
	uint64_t v = 0;
	for (uint32_t i = 0; i < size && i < 8; i++)
		v |= (uint64_t)d[i] << (8 * i);
	return v;
}

static void put_le(uint8_t *d, uint32_t size, uint64_t v)
{
	for (uint32_t i = 0; i < size && i < 8; i++)
		d[i] = (uint8_t)(v >> (8 * i));
}

static void regs_access(void *dev, uint64_t off, uint8_t *data, uint32_t size, bool is_write)
{
	struct virtio_device *vdev = dev;
	bool aligned = (size == 1 || size == 2 || size == 4 || size == 8) && !(off & (size - 1));
	if (!is_write)
		memset(data, 0, size);
	if (off >= NOTIFY_OFF) {
		/* Reached only when no ioeventfd caught the write (no KVM, or
		 * an access of another size): same effect. */
		uint64_t q = (off - NOTIFY_OFF) / NOTIFY_MULT;
		uint64_t one = 1;
		if (is_write && q < vdev->p.num_queues &&
		    write(vdev->q[q].kick_fd, &one, sizeof(one)) < 0)
			return;
		return;
	}
	if (off >= DEVICE_OFF) {
		uint64_t o = off - DEVICE_OFF;
		if (o + size > vdev->p.config_bytes)
			return;
		pthread_mutex_lock(&vdev->lock);
		if (!is_write)
			vdev->p.ops->config_read(vdev->p.dev, (uint32_t)o, data, size);
		else if (vdev->p.ops->config_write)
			vdev->p.ops->config_write(vdev->p.dev, (uint32_t)o, data, size);
		pthread_mutex_unlock(&vdev->lock);
		return;
	}
	if (off >= ISR_OFF) {
		/* Read to clear (4.1.4.5). */
		if (!is_write && off == ISR_OFF)
			data[0] = __atomic_exchange_n(&vdev->isr, 0, __ATOMIC_ACQ_REL);
		return;
	}
	if (off + size > COMMON_BYTES || !aligned)
		return;
	pthread_mutex_lock(&vdev->lock);
	if (is_write)
		common_write(vdev, (uint32_t)off, size, get_le(data, size));
	else
		put_le(data, size, common_read(vdev, (uint32_t)off, size));
	pthread_mutex_unlock(&vdev->lock);
}

static void regs_read(void *dev, uint64_t off, uint8_t *data, uint32_t size)
{
	regs_access(dev, off, data, size, false);
}

static void regs_write(void *dev, uint64_t off, const uint8_t *data, uint32_t size)
{
	regs_access(dev, off, (uint8_t *)data, size, true);
}

static const struct vmm_device_ops regs_ops = {
	.name = "virtio-pci", .read = regs_read, .write = regs_write,
};

static void msix_read(void *dev, uint64_t off, uint8_t *data, uint32_t size)
{
	struct virtio_device *vdev = dev;
	if (!vmm_msix_bar_access(&vdev->msix, off, data, size, false))
		memset(data, 0, size);
}

static void msix_write(void *dev, uint64_t off, const uint8_t *data, uint32_t size)
{
	struct virtio_device *vdev = dev;
	vmm_msix_bar_access(&vdev->msix, off, (uint8_t *)data, size, true);
}

static const struct vmm_device_ops msix_bar_ops = {
	.name = "virtio-msix", .read = msix_read, .write = msix_write,
};

/* KVM_IOEVENTFD for each queue's notify address: a 2-byte write there
 * (Linux's vp_notify writes the queue index with iowrite16) signals the
 * queue's eventfd inside KVM, with no exit to passvm. */
static void ioeventfds(struct virtio_device *vdev, uint64_t bar_addr, bool assign)
{
	if (!vdev->env.vm)
		return;
	for (unsigned i = 0; i < vdev->p.num_queues; i++) {
		struct vq_state *s = &vdev->q[i];
		if (assign == s->kick_registered)
			continue;
		uint64_t gpa = assign ? bar_addr + NOTIFY_OFF + NOTIFY_MULT * i : s->kick_gpa;
		struct kvm_ioeventfd io = {
			.addr = gpa, .len = 2, .fd = s->kick_fd,
			.flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN,
		};
		if (kvm_vm_ioctl(vdev->env.vm, KVM_IOEVENTFD, &io) < 0)
			continue;   /* the MMIO exit path still works */
		s->kick_registered = assign;
		s->kick_gpa = gpa;
	}
}

static void bar_changed(struct vmm_pci_device *pdev, unsigned bar, uint64_t addr, bool mapped)
{
	struct virtio_device *vdev = pdev->opaque;
	if (bar > BAR_MSIX)
		return;
	const struct vmm_device_ops *ops = bar == BAR_REGS ? &regs_ops : &msix_bar_ops;
	if (mapped) {
		if (vmm_bus_register(vdev->env.mmio, addr, pdev->bars[bar].size, ops, vdev) < 0)
			return;
		vdev->mapped[bar] = true;
		vdev->bar_addr[bar] = addr;
		if (bar == BAR_REGS)
			ioeventfds(vdev, addr, true);
	} else if (vdev->mapped[bar]) {
		if (bar == BAR_REGS)
			ioeventfds(vdev, addr, false);
		vmm_bus_unregister(vdev->env.mmio, vdev->bar_addr[bar], vdev);
		vdev->mapped[bar] = false;
	}
}

static void config_written(struct vmm_pci_device *pdev, uint32_t offset, uint32_t size)
{
	struct virtio_device *vdev = pdev->opaque;
	vmm_msix_config_written(&vdev->msix, offset, size);
}

static const struct vmm_pci_device_ops pci_ops = {
	.name = "virtio", .bar_changed = bar_changed, .config_written = config_written,
};

/* ---- construction -------------------------------------------------------- */
static int add_virtio_cap(struct vmm_pci_device *pdev, uint8_t type, uint32_t offset,
			  uint32_t length, uint32_t multiplier)
{
	uint8_t len = type == CAP_NOTIFY ? 20 : 16;
	int cap = vmm_pci_device_add_capability(pdev, PCI_CAP_ID_VNDR, len);
	if (cap < 0)
		return cap;
	uint8_t *c = pdev->config + cap;
	c[2] = len;
	c[3] = type;
	c[4] = BAR_REGS;
	memcpy(c + 8, &offset, 4);
	memcpy(c + 12, &length, 4);
	if (type == CAP_NOTIFY)
		memcpy(c + 16, &multiplier, 4);
	return 0;
}

static int params_ok(const struct virtio_device_params *p)
{
	const struct virtio_device_ops *o = p->ops;
	uint16_t qs = p->queue_size_max;
	if (!o || !o->config_read || !o->queue_notify || p->num_queues == 0 ||
	    p->num_queues > VIRTIO_PCI_MAX_QUEUES || qs == 0 || (qs & (qs - 1)) ||
	    qs > VIRTQ_SIZE_MAX || p->config_bytes > DEVICE_MAX)
		return -EINVAL;
	return 0;
}

static int create_loops(struct virtio_device *vdev)
{
	for (unsigned i = 0; i < vdev->p.num_queues; i++) {
		unsigned g = vdev->p.ops->queue_group ? vdev->p.ops->queue_group(vdev->p.dev, i) : i;
		if (g >= vdev->p.num_queues)
			g = 0;
		vdev->q[i].loop = g;
		if (vdev->loops[g])
			continue;
		/* comm is 15 characters: "blk0-q3" fits, a long id is cut. */
		char name[32];
		snprintf(name, sizeof(name), "%.8s-q%u", vdev->id, g);
		int r = vmm_evloop_create(&vdev->loops[g], name);
		if (r < 0)
			return r;
	}
	return 0;
}

int virtio_pci_create(struct virtio_device **out, const struct virtio_pci_env *env,
		      const struct virtio_device_params *params)
{
	int r = params_ok(params);
	if (r < 0)
		return r;
	struct virtio_device *vdev = calloc(1, sizeof(*vdev));
	if (!vdev)
		return -ENOMEM;
	vdev->env = *env;
	vdev->p = *params;
	snprintf(vdev->id, sizeof(vdev->id), "%s", params->id ? params->id : params->ops->name);
	pthread_mutex_init(&vdev->lock, NULL);
	vdev->offered = params->features | VIRTIO_BIT(VIRTIO_F_VERSION_1) |
			VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX) |
			VIRTIO_BIT(VIRTIO_F_RING_INDIRECT_DESC);
	vdev->nvectors = params->num_queues + 1;
	for (unsigned i = 0; i < MAX_VECTORS; i++)
		vdev->vec[i].fd = -1;
	for (unsigned i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++)
		vdev->q[i].kick_fd = -1;
	for (unsigned i = 0; i < vdev->nvectors; i++) {
		vdev->vec[i].fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vdev->vec[i].fd < 0) {
			r = -errno;
			goto fail;
		}
	}
	for (unsigned i = 0; i < params->num_queues; i++) {
		vdev->q[i].vdev = vdev;
		vdev->q[i].index = i;
		vdev->q[i].kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vdev->q[i].kick_fd < 0) {
			r = -errno;
			goto fail;
		}
	}
	r = create_loops(vdev);
	if (r < 0)
		goto fail;

	struct vmm_pci_device *pdev = &vdev->pci;
	vmm_pci_device_init(pdev, VIRTIO_PCI_VENDOR,
			    (uint16_t)(VIRTIO_PCI_DEVICE_BASE + params->ops->device_id),
			    params->ops->pci_class, &pci_ops, vdev);
	pdev->config[0x08] = 1;  /* revision 1: a modern device (4.1.2.1) */
	/* Subsystem device ID >= 0x40 for modern devices (4.1.2.1). */
	pdev->config[0x2e] = 0x40;
	pdev->config[0x2f] = 0;
	r = vmm_pci_device_set_bar(pdev, BAR_REGS, REGS_BYTES, 0);
	if (r == 0)
		r = vmm_pci_device_set_bar(pdev, BAR_MSIX, MSIX_BYTES, 0);
	if (r == 0)
		r = vmm_msix_init(&vdev->msix, pdev, vdev->nvectors, BAR_MSIX, MSIX_TABLE_OFF,
				  MSIX_PBA_OFF, &msix_ops, vdev);
	if (r == 0)
		r = add_virtio_cap(pdev, CAP_COMMON, COMMON_OFF, COMMON_BYTES, 0);
	if (r == 0)
		r = add_virtio_cap(pdev, CAP_ISR, ISR_OFF, 1, 0);
	if (r == 0 && params->config_bytes)
		r = add_virtio_cap(pdev, CAP_DEVICE, DEVICE_OFF, params->config_bytes, 0);
	if (r == 0)
		r = add_virtio_cap(pdev, CAP_NOTIFY, NOTIFY_OFF,
				   NOTIFY_MULT * params->num_queues, NOTIFY_MULT);
	if (r < 0)
		goto fail;
	reset_state(vdev);
	r = vmm_pci_host_add(env->pci, pdev);
	if (r < 0)
		goto fail;
	*out = vdev;
	return 0;
fail:
	virtio_pci_destroy(vdev);
	return r;
}

void virtio_pci_destroy(struct virtio_device *vdev)
{
	if (!vdev)
		return;
	pthread_mutex_lock(&vdev->lock);
	stop_serving(vdev);
	if (vdev->pci.slot > 0 && vdev->p.ops->reset)
		vdev->p.ops->reset(vdev->p.dev);
	pthread_mutex_unlock(&vdev->lock);
	for (unsigned b = 0; b < 2; b++)
		if (vdev->mapped[b])
			bar_changed(&vdev->pci, b, vdev->bar_addr[b], false);
	if (vdev->pci.slot > 0)
		vmm_pci_host_remove(vdev->env.pci, &vdev->pci);
	for (unsigned i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++)
		vmm_evloop_destroy(vdev->loops[i]);
	for (unsigned i = 0; i < vdev->nvectors; i++) {
		if (vdev->vec[i].routed)
			vmm_irqchip_irqfd(vdev->env.irqchip, vdev->vec[i].fd, vdev->vec[i].gsi, false);
		if (vdev->vec[i].fd >= 0)
			close(vdev->vec[i].fd);
	}
	for (unsigned i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++)
		if (vdev->q[i].kick_fd >= 0)
			close(vdev->q[i].kick_fd);
	vmm_msix_destroy(&vdev->msix);
	pthread_mutex_destroy(&vdev->lock);
	free(vdev);
}

uint64_t virtio_features(const struct virtio_device *vdev)
{
	return vdev->features;
}

const struct vmm_guest_memory *virtio_memory(const struct virtio_device *vdev)
{
	return vdev->env.mem;
}

uint8_t virtio_status(struct virtio_device *vdev)
{
	return __atomic_load_n(&vdev->status, __ATOMIC_ACQUIRE);
}

struct vmm_pci_device *virtio_pci_device(struct virtio_device *vdev)
{
	return &vdev->pci;
}
