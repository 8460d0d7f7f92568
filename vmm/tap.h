/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmm/tap.c: a tap device, one file descriptor per queue.
 *
 * Owns: /dev/net/tun (opened through the host root) and the ioctls on the
 * tap's queue fds. Every queue carries frames with a 12-byte virtio 1.x
 * header (struct virtio_net_hdr_v1, num_buffers included), little-endian,
 * so what the guest's driver wrote goes to the kernel unchanged.
 *
 * A tap passvm creates is not persistent: the kernel deletes it when its
 * last queue fd closes (drivers/net/tun.c __tun_detach), so it disappears
 * on every exit path, a crash or SIGKILL included, with nothing to undo.
 */
#ifndef PASSVM_VMM_TAP_H
#define PASSVM_VMM_TAP_H

#include "common.h"

#include <linux/if_tun.h>
#include <net/if.h>

#define VMM_TAP_VNET_HDR_BYTES 12
/* The Linux driver's default is a queue pair per vCPU; a tap takes up to
 * 256 queues (MAX_TAP_QUEUES, drivers/net/tun.c). */
#define VMM_TAP_MAX_QUEUES 16

/* The TUNSETOFFLOAD bits passvm knows; which of them this kernel's tap takes
 * is probed (TUN_F_UFO came and went: removed in 4.14, restored in 4.15). */
#define VMM_TAP_OFFLOADS (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN | TUN_F_UFO)

struct vmm_tap {
	char name[IFNAMSIZ];
	int ifindex;
	int fds[VMM_TAP_MAX_QUEUES];
	unsigned nr_queues;
	unsigned offloads_supported;   /* TUN_F_* bits TUNSETOFFLOAD accepts */
	bool created;                  /* passvm made it; it dies with the fds */
};

/* Creates a tap (name NULL: the kernel picks "passvmN") or opens the
 * existing persistent tap `name`, with `queues` queues (IFF_MULTI_QUEUE
 * when more than one), non-blocking fds, the vnet header set up, offloads
 * probed and then all off. Errors: -ENODEV (name given, no such persistent
 * tap), -EINVAL (the existing tap is a tun or lacks multi_queue), or what
 * opening /dev/net/tun and the ioctls return. */
int vmm_tap_open(struct vmm_tap *tap, const struct host_root *root, const char *name,
		 unsigned queues);
/* A macvtap's queues: `dev_path` ("dev/tapN", under the root) opened once
 * per queue (drivers/net/tap.c: every open is a queue), the same vnet
 * header and offload setup as a tap. The macvtap itself is the caller's
 * (vmm/macvtap.c); closing the fds does not delete it. */
int vmm_tap_open_macvtap(struct vmm_tap *tap, const struct host_root *root,
			 const char *dev_path, const char *name, unsigned queues);
void vmm_tap_close(struct vmm_tap *tap);
/* TUN_F_* flags: what the tap may hand to the guest (offloads the guest
 * negotiated). Bits outside offloads_supported give -EOPNOTSUPP. */
int vmm_tap_set_offload(struct vmm_tap *tap, unsigned tun_flags);
/* The host side's own address (not the guest's): see net_host.c. */
int vmm_tap_set_mac(struct vmm_tap *tap, const uint8_t mac[6]);
/* Attaches or detaches queue `q` (TUNSETQUEUE), so the kernel steers no
 * frames to a queue the guest has not enabled. */
int vmm_tap_queue_enable(struct vmm_tap *tap, unsigned q, bool enable);

#endif
