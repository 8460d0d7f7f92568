/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmm/macvtap.c: a macvtap on a host NIC's netdev, for the NIC fallback of
 * `--device vfio=BDF,fallback=auto`: the guest's virtio-net reaches the same
 * wire through the host's own driver, with a MAC of its own (bridge mode:
 * the host keeps its interface and addresses).
 *
 * Owns: the RTM_NEWLINK/RTM_DELLINK of the macvtap (libmnl) and finding its
 * character device (/dev/tapIFINDEX, made by devtmpfs). Must not: touch the
 * lower device's settings.
 */
#ifndef PASSVM_VMM_MACVTAP_H
#define PASSVM_VMM_MACVTAP_H

#include "common.h"

#include <net/if.h>

#define VMM_MACVTAP_MSG_BYTES 512

/* The RTM_NEWLINK request: IFLA_IFNAME name, IFLA_LINK lower_ifindex,
 * IFLA_ADDRESS mac, IFLA_LINKINFO { kind "macvtap", data { MACVLAN_MODE
 * bridge } }, created up. Pure (tests parse it back). Returns its length. */
int vmm_macvtap_build_newlink(void *buf, size_t size, uint32_t seq, const char *name,
			      int lower_ifindex, const uint8_t mac[6]);

struct vmm_macvtap {
	char name[IFNAMSIZ];
	int ifindex;
	char dev_path[32];   /* "dev/tapN", relative to the host root */
};

/* Creates macvtap `name` over host netdev `lower` with the guest's MAC. */
int vmm_macvtap_create(struct vmm_macvtap *m, const char *lower, const char *name,
		       const uint8_t mac[6]);
/* Deletes it (idempotent: -ENODEV counts as done). */
int vmm_macvtap_delete(struct vmm_macvtap *m);

#endif
