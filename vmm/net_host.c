// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The host side of a guest interface: a tap, and for bridge= the tap made a
 * port of that bridge (on a VLAN when asked) and brought up. The order is
 * check, create, configure, up: the port carries no frame before its VLAN
 * is set, and a failure at any step closes the tap, which deletes it.
 */
#include "net.h"
#include "netlink.h"

#include <errno.h>
#include <string.h>

static int open_bridged(struct vmm_net_host *h, const struct host_root *root,
			const char **failed_step)
{
	const struct vmm_net_config *cfg = &h->cfg;
	struct vmm_nl_link br;
	*failed_step = "bridge";
	int r = vmm_nl_link_get(cfg->bridge, &br);
	if (r < 0)
		return r == -ENODEV ? -ENODEV : r;
	if (strcmp(br.kind, "bridge") != 0)
		return -EMEDIUMTYPE;
	/* Without vlan_filtering the bridge keeps port VLANs but forwards
	 * every frame regardless (br_allowed_ingress), so a tag would be a
	 * promise not kept. Turning filtering on changes every port of the
	 * bridge, which is the host's decision, not passvm's. */
	if (cfg->vlan && !br.vlan_filtering)
		return -EPROTONOSUPPORT;
	h->bridge_ifindex = br.ifindex;

	*failed_step = "tap";
	r = vmm_tap_open(&h->tap, root, NULL, cfg->queue_pairs);
	if (r < 0)
		return r;
	/* The tap's own address, not the guest's: the guest's with the first
	 * octet 0xFE. A bridge takes the lowest address of its ports as its
	 * own (br_stp_recalculate_bridge_id), and 0xFE keeps a tap's from
	 * being that, so the bridge's address does not change as VMs come and
	 * go; libvirt does the same (virNetDevTapCreateInBridgePort). */
	uint8_t host_mac[6];
	memcpy(host_mac, h->mac, 6);
	host_mac[0] = 0xfe;
	*failed_step = "tap address";
	r = vmm_tap_set_mac(&h->tap, host_mac);
	if (r == 0) {
		*failed_step = "bridge port";
		r = vmm_nl_set_master(h->tap.ifindex, br.ifindex, false);
	}
	if (r == 0 && cfg->vlan) {
		*failed_step = "vlan";
		r = vmm_nl_port_set_vlan(h->tap.ifindex, cfg->vlan);
	}
	if (r == 0) {
		*failed_step = "link up";
		r = vmm_nl_set_master(h->tap.ifindex, br.ifindex, true);
	}
	if (r < 0)
		vmm_tap_close(&h->tap);
	return r;
}

int vmm_net_host_open(struct vmm_net_host *h, const struct host_root *root,
		      const struct vmm_net_config *cfg, const char **failed_step)
{
	memset(h, 0, sizeof(*h));
	for (unsigned i = 0; i < VMM_TAP_MAX_QUEUES; i++)
		h->tap.fds[i] = -1;
	h->cfg = *cfg;
	if (cfg->has_mac)
		memcpy(h->mac, cfg->mac, 6);
	else
		vmm_net_random_mac(h->mac);
	if (cfg->backend == VMM_NET_BRIDGE)
		return open_bridged(h, root, failed_step);
	if (cfg->backend == VMM_NET_MACVTAP) {
		*failed_step = "macvtap";
		return vmm_tap_open_macvtap(&h->tap, root, cfg->macvtap_dev, cfg->tap,
					    cfg->queue_pairs);
	}
	*failed_step = "tap";
	return vmm_tap_open(&h->tap, root, cfg->tap, cfg->queue_pairs);
}

void vmm_net_host_close(struct vmm_net_host *h)
{
	vmm_tap_close(&h->tap);
}
