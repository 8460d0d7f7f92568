/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmm/virtio: emulated virtio 1.x devices on the modern PCI transport.
 *
 * Files, one owner each:
 *   virtqueue.c   split virtqueues: the descriptor chain walker (every guest
 *                 index, length and address checked), the used ring, event
 *                 index notification suppression. Pure: no KVM, no threads.
 *   virtio_pci.c  the transport (virtio 1.2 spec, 4.1 "Virtio Over PCI
 *                 Bus"): capabilities, common configuration, feature
 *                 negotiation, status and reset, MSI-X vectors (msix.c)
 *                 delivered through KVM irqfds, queue notifications through
 *                 KVM ioeventfds served on evloop threads (evloop.c).
 *   virtio_blk.c, virtio_rng.c, virtio_net.c: one device each, behind
 *                 struct virtio_device_ops.
 *
 * Spec references are to "Virtual I/O Device (VIRTIO) Version 1.2"
 * (OASIS, 2022); section numbers are given where a rule comes from.
 */
#ifndef PASSVM_VMM_VIRTIO_H
#define PASSVM_VMM_VIRTIO_H

#include "vmm.h"

#include <sys/uio.h>

/* ===== constants from the spec ============================================ */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG 4

/* Device-independent feature bits (6 "Reserved Feature Bits"). */
#define VIRTIO_F_RING_INDIRECT_DESC 28
#define VIRTIO_F_RING_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_BIT(b) (1ULL << (b))

/* Device status (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 0x01
#define VIRTIO_STATUS_DRIVER 0x02
#define VIRTIO_STATUS_DRIVER_OK 0x04
#define VIRTIO_STATUS_FEATURES_OK 0x08
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED 0x80

#define VIRTIO_MSI_NO_VECTOR 0xffff

/* ===== virtqueue.c: split virtqueues (2.7) ================================ */
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_USED_F_NO_NOTIFY 1
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_SIZE_MAX 32768           /* 2.7: Queue Size is at most 32768 */
/* The most buffers one chain may have (direct or through an indirect
 * table). Devices advertise limits that keep the driver under it (blk:
 * seg_max = VIRTQ_CHAIN_MAX - 2, for the header and the status byte). */
#define VIRTQ_CHAIN_MAX 256

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/* One descriptor chain, as the device sees it: the driver-written
 * (device-readable) buffers first, then the device-writable ones (2.7.4.2:
 * a driver must place readable descriptors before writable ones). Host
 * pointers are into guest RAM: the guest can change the bytes under them at
 * any time, so copy a header before checking it. */
struct virtq_chain {
	uint16_t head;                  /* to give back in virtq_push */
	unsigned n_out, n_in;           /* readable, then writable buffers */
	uint64_t out_bytes, in_bytes;
	struct iovec iov[VIRTQ_CHAIN_MAX];
};

struct virtq {
	const struct vmm_guest_memory *mem;
	uint16_t size;
	bool event_idx;                 /* VIRTIO_F_RING_EVENT_IDX negotiated */
	bool indirect;                  /* VIRTIO_F_RING_INDIRECT_DESC negotiated */
	struct virtq_desc *desc;        /* host pointers, checked at init */
	uint16_t *avail;                /* flags, idx, ring[size], used_event */
	uint8_t *used;                  /* flags, idx, ring[size] {id, len}, avail_event */
	uint16_t last_avail;            /* next avail entry the device reads */
	uint16_t used_idx;              /* shadow of used->idx */
	uint16_t signalled_used;        /* used_idx at the last interrupt */
	const char *error;              /* why the last pop failed (static) */
};

/* Checks and maps a queue the driver set up (2.7: size a power of two, at
 * most 32768; descriptor table 16-byte, available ring 2-byte, used ring
 * 4-byte aligned, each wholly in guest RAM). -EINVAL with q->error set. */
int virtq_init(struct virtq *q, const struct vmm_guest_memory *mem, uint16_t size,
	       uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa,
	       bool event_idx, bool indirect);
/* Takes the next available chain. 1: got one; 0: the ring is empty;
 * -EBADMSG: the driver broke the rules (q->error says how); the queue must
 * not be used again until reset (the transport marks the device
 * NEEDS_RESET). Never reads outside guest RAM, never loops more than the
 * queue size (plus an indirect table's entries). */
int virtq_pop(struct virtq *q, struct virtq_chain *chain);
/* Returns a chain to the driver with `len` bytes written into it. */
void virtq_push(struct virtq *q, uint16_t head, uint32_t len);
/* After pushes: must the driver be interrupted? (event index, 2.7.7.2, or
 * the NO_INTERRUPT flag). Updates the record of the last interrupt. */
bool virtq_should_interrupt(struct virtq *q);
/* Ask the driver not to notify (the device is busy draining). */
void virtq_disable_notify(struct virtq *q);
/* Ask for notifications again; true if buffers arrived meanwhile (drain
 * again before sleeping, or a notification may be lost). */
bool virtq_enable_notify(struct virtq *q);

/* ===== virtio_pci.c: the device API ======================================= */
/*
 * A device model is one file with:
 *   - its state (a struct of its own), created by its own constructor,
 *   - a const struct virtio_device_ops, and
 *   - a call to virtio_pci_create() that plugs it in.
 *
 * Threads. Config reads/writes, activate and reset run on a vCPU thread,
 * under the transport's per-device lock (one device at a time; never the
 * hot path). queue_notify runs on the queue's event-loop thread, one per
 * queue unless queue_loop() groups queues; two queues on different loops
 * are served in parallel, and the transport takes no lock on that path.
 *
 * Lifecycle, as the driver drives it (3.1):
 *   reset (status 0) -> ACKNOWLEDGE|DRIVER -> features -> FEATURES_OK (the
 *   transport refuses it if VERSION_1 is missing or an unoffered bit is set)
 *   -> queues set up and enabled -> DRIVER_OK: the transport checks every
 *   enabled queue (virtq_init), calls activate(features), then starts
 *   serving the queues' notifications. A reset (status 0 written, or
 *   passvm tearing the device down) first stops every queue thread from
 *   calling queue_notify, then calls reset(), which must return only when
 *   the device no longer touches guest memory or the rings (complete or
 *   cancel in-flight I/O).
 *
 * On a queue's thread a device typically does:
 *     for (;;) {
 *         virtq_disable_notify(vq);
 *         while ((r = virtio_queue_pop(vdev, q, &chain)) > 0)
 *             handle(chain) ... virtq_push(vq, chain.head, written);
 *         if (r < 0 || !virtq_enable_notify(vq)) break;
 *     }
 *     virtio_queue_interrupt(vdev, q);
 * and for I/O that completes later, virtq_push + virtio_queue_interrupt from
 * the same thread (add the completion fd to virtio_queue_loop()).
 */
struct virtio_device;

struct virtio_device_ops {
	const char *name;           /* "virtio-blk": messages, thread names */
	uint16_t device_id;         /* VIRTIO_ID_* (PCI device 0x1040 + id) */
	uint32_t pci_class;         /* class code, 24 bits */
	/* Device-specific configuration space (4.1.4.6), `config_bytes` long:
	 * the transport checks offset + size <= config_bytes before calling. */
	void (*config_read)(void *dev, uint32_t offset, uint8_t *data, uint32_t size);
	void (*config_write)(void *dev, uint32_t offset, const uint8_t *data,
			     uint32_t size);       /* optional: writes dropped */
	/* DRIVER_OK: features are final and the queues valid. A negative
	 * return marks the device NEEDS_RESET. Optional. */
	int (*activate)(void *dev, uint64_t features);
	/* The driver notified queue q (on that queue's loop thread). */
	void (*queue_notify)(void *dev, unsigned q);
	/* Back to the initial state (see above). Optional. */
	void (*reset)(void *dev);
	/* Queues with the same group number share one loop thread. Optional:
	 * by default each queue has its own. */
	unsigned (*queue_group)(void *dev, unsigned q);
};

struct virtio_device_params {
	const struct virtio_device_ops *ops;
	void *dev;                  /* passed to every op */
	uint64_t features;          /* device-specific bits offered;
				     * VERSION_1, EVENT_IDX and INDIRECT_DESC
				     * are added by the transport */
	uint32_t config_bytes;      /* size of the device config space */
	unsigned num_queues;        /* 1..VIRTIO_PCI_MAX_QUEUES */
	uint16_t queue_size_max;    /* power of two, <= VIRTQ_SIZE_MAX */
	const char *id;             /* short name for threads and logs: "blk0" */
};

/* What the transport needs from the VM. */
struct virtio_pci_env {
	const struct vmm_guest_memory *mem;
	struct vmm_bus *mmio;
	struct vmm_pci_host *pci;
	struct vmm_irqchip *irqchip; /* NULL: no interrupts (tests, fuzzing) */
	struct kvm_vm *vm;           /* NULL: notifications by MMIO exit only */
};

#define VIRTIO_PCI_MAX_QUEUES 64

/* Creates the PCI function and plugs it into env->pci. -EINVAL on bad
 * params; -ENOSPC when the PCI bus or MMIO window is full. */
int virtio_pci_create(struct virtio_device **out, const struct virtio_pci_env *env,
		      const struct virtio_device_params *params);
/* Resets the device (stopping its threads) and frees it. NULL is fine. */
void virtio_pci_destroy(struct virtio_device *vdev);

/* For device models, on queue q's loop thread: */
struct virtq *virtio_queue(struct virtio_device *vdev, unsigned q);
/* The loop that serves queue q: add a completion fd here to be called on
 * the same thread as queue_notify (no lock between them). */
struct vmm_evloop *virtio_queue_loop(struct virtio_device *vdev, unsigned q);
/* virtq_pop, and on a bad chain: the device is marked broken (see below). */
int virtio_queue_pop(struct virtio_device *vdev, unsigned q, struct virtq_chain *chain);
/* Interrupts the driver for queue q if the ring asks for it (event index)
 * and the queue has an MSI-X vector; a masked vector is left pending. */
void virtio_queue_interrupt(struct virtio_device *vdev, unsigned q);
/* The device broke (a bad chain, a request that breaks the spec): sets
 * NEEDS_RESET, stops serving queue q (all queues if q is out of range),
 * interrupts the driver with a configuration change (2.1.2) and logs one
 * line, at most one every few seconds per device (a guest must not flood
 * the host log). */
void virtio_device_broken(struct virtio_device *vdev, unsigned q, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The device config changed (e.g. capacity): bump config_generation and
 * interrupt the driver on its configuration vector. */
void virtio_config_changed(struct virtio_device *vdev);
uint64_t virtio_features(const struct virtio_device *vdev);  /* negotiated */
const struct vmm_guest_memory *virtio_memory(const struct virtio_device *vdev);
uint8_t virtio_status(struct virtio_device *vdev);
/* Times the device was marked broken (tests). */
unsigned long virtio_broken_count(const struct virtio_device *vdev);
/* The PCI function (tests reach config space through it). */
struct vmm_pci_device *virtio_pci_device(struct virtio_device *vdev);

/* ===== devices ============================================================ */
struct vmm_vm;

/* virtio_blk.c */
struct virtio_blk_config {
	const char *path;           /* image file or block device */
	bool readonly;
	bool direct;                /* O_DIRECT */
	const char *serial;         /* GET_ID, at most 20 bytes; NULL: none */
	unsigned queues;            /* 1..VIRTIO_BLK_MAX_QUEUES */
};
#define VIRTIO_BLK_MAX_QUEUES 16
#define VIRTIO_BLK_SERIAL_MAX 20
struct virtio_blk;
/* Opens the image (-errno from open/fstat; -EINVAL: not a regular file or
 * block device, or empty) and plugs the device. */
int virtio_blk_create(struct virtio_blk **out, const struct virtio_pci_env *env,
		      const struct virtio_blk_config *cfg, unsigned index);
void virtio_blk_destroy(struct virtio_blk *blk);

/* The request parser, separate for unit tests and fuzzing (5.2.6). The
 * spec lets a driver frame a request however it likes (2.6.4): the header
 * is gathered from the first 16 readable bytes, the status byte is the last
 * writable one, and the data is whatever lies between, as iovecs into
 * guest RAM. */
enum virtio_blk_req_kind {
	VIRTIO_BLK_REQ_READ, VIRTIO_BLK_REQ_WRITE, VIRTIO_BLK_REQ_FLUSH,
	VIRTIO_BLK_REQ_GET_ID, VIRTIO_BLK_REQ_DISCARD, VIRTIO_BLK_REQ_WRITE_ZEROES,
	VIRTIO_BLK_REQ_UNSUPPORTED,
};
struct virtio_blk_req {
	enum virtio_blk_req_kind kind;
	uint32_t type;              /* as the driver wrote it */
	uint64_t offset_bytes;      /* READ/WRITE: sector * 512; DISCARD and
				     * WRITE_ZEROES: the range's start */
	uint64_t data_bytes;        /* READ/WRITE/GET_ID: buffer bytes;
				     * DISCARD/WRITE_ZEROES: the range's length */
	bool unmap;                 /* WRITE_ZEROES may deallocate */
	uint8_t *status;            /* the status byte, in guest RAM */
	unsigned data_cnt;
	struct iovec data[VIRTQ_CHAIN_MAX];
};
#define VIRTIO_BLK_MAX_DISCARD_SECTORS (1U << 22)  /* 2 GiB per request */
/* 0: a request to carry out. -EIO: a request the device must answer with
 * IOERR (malformed header, misdirected or odd-sized data, out of range,
 * arithmetic that overflows; req->status is set). -EBADMSG: no status byte
 * to answer in (the device is broken). capacity_bytes bounds the ranges. */
int virtio_blk_parse(const struct virtq_chain *chain, uint64_t capacity_bytes,
		     struct virtio_blk_req *req);

/* virtio_rng.c */
struct virtio_rng;
int virtio_rng_create(struct virtio_rng **out, const struct virtio_pci_env *env);
void virtio_rng_destroy(struct virtio_rng *rng);

#endif
