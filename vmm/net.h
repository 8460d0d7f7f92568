/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmm/ networking: what `passvm run --net ...` asks for, and the host side
 * of a guest's network interface.
 *
 * Files, one owner each: net_config.c (the --net option's grammar),
 * tap.c (tap.h: the tap device and its queues), netlink.c (netlink.h: the
 * bridge port and its VLAN over rtnetlink), net_host.c (a tap attached as
 * asked: create, bridge, VLAN, up; undone on every failure),
 * virtio_net.c (the virtio-net device on top of the transport).
 * Must not: touch a bridge or VLAN setting of any port other than the tap
 * passvm created or was given.
 */
#ifndef PASSVM_VMM_NET_H
#define PASSVM_VMM_NET_H

#include "tap.h"

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Queue pairs per interface: one tap queue each (tap.h). */
#define VMM_NET_MAX_QUEUE_PAIRS VMM_TAP_MAX_QUEUES
#define VMM_NET_MAX_IFS 8

enum vmm_net_backend {
	VMM_NET_BRIDGE,   /* passvm creates a tap and makes it a bridge port */
	VMM_NET_TAP,      /* an existing tap, set up by someone else */
	VMM_NET_MACVTAP,  /* a macvtap's char device (passthrough's NIC fallback) */
};

struct vmm_net_config {
	enum vmm_net_backend backend;
	char bridge[IFNAMSIZ];     /* VMM_NET_BRIDGE */
	char tap[IFNAMSIZ];        /* VMM_NET_TAP; VMM_NET_MACVTAP: its name */
	char macvtap_dev[32];      /* VMM_NET_MACVTAP: "dev/tapN", root-relative */
	uint16_t vlan;             /* 802.1Q VID on the bridge port; 0: none */
	uint8_t mac[6];            /* the guest's address */
	bool has_mac;              /* else a random locally administered one */
	unsigned queue_pairs;      /* 1..VMM_NET_MAX_QUEUE_PAIRS */
	const char *spec;          /* the option as given, for messages */
};

/* Parses one --net value:
 *   virtio,bridge=BR[,tag=N][,mac=MAC][,queues=N]
 *   [virtio,]tap=NAME[,mac=MAC][,queues=N]
 * On error returns -EINVAL and writes one line into why. */
int vmm_net_parse(const char *spec, struct vmm_net_config *cfg, char *why,
		  size_t why_size);
/* "02:00:00:00:00:01": unicast, six octets. -EINVAL otherwise. */
int vmm_net_parse_mac(const char *text, uint8_t mac[6]);
void vmm_net_format_mac(const uint8_t mac[6], char out[18]);
/* A random locally administered unicast address (IEEE 802 U/L bit set). */
void vmm_net_random_mac(uint8_t mac[6]);
/* The rules the kernel's dev_valid_name applies to interface names. */
bool vmm_net_ifname_valid(const char *name);

/* ---- net_host.c: the host side of one interface --------------------------
 * bridge=: checks the bridge, creates a tap, gives it the host-side MAC,
 * makes it a port of the bridge, on VLAN `vlan` when asked, and brings it
 * up; tap=: opens the existing tap as it is. Any failure closes what was
 * opened, and a tap passvm created goes with it (tap.h).
 * Errors, besides what the kernel returns:
 *   -ENODEV           the bridge, or the tap= tap, does not exist
 *   -EMEDIUMTYPE      bridge= names a link that is not a bridge
 *   -EPROTONOSUPPORT  tag= on a bridge that does not filter VLANs
 * *failed_step says which step failed ("bridge", "tap", "vlan", ...). */
struct vmm_net_host {
	struct vmm_net_config cfg;
	struct vmm_tap tap;
	uint8_t mac[6];            /* the guest's */
	int bridge_ifindex;
};
int vmm_net_host_open(struct vmm_net_host *h, const struct host_root *root,
		      const struct vmm_net_config *cfg, const char **failed_step);
void vmm_net_host_close(struct vmm_net_host *h);

/* ---- vm_net.c: the VM phase "set up networks" -------------------------------
 * One interface per vm->cfg.nets[i], in order: the host side, then the
 * virtio-net device. On failure vm->failed_index names the --net and
 * vm->failed_detail the step (net_host.c's *failed_step, or "device"). */
struct vmm_vm;
int vmm_vm_net_setup(struct vmm_vm *vm);
void vmm_vm_net_teardown(struct vmm_vm *vm);

#endif
