/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmm/netlink.c: the rtnetlink messages that make a tap a bridge port.
 *
 * Owns: the NETLINK_ROUTE requests passvm sends for its guests' taps
 * (which link is what, IFLA_MASTER, up, the port's bridge VLANs). The
 * builders and the parser are pure, so tests check the messages attribute by
 * attribute (tests/unit/test_vmm_net.c); vmm_nl_* below send them.
 */
#ifndef PASSVM_VMM_NETLINK_H
#define PASSVM_VMM_NETLINK_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VMM_NL_MSG_BYTES 512

/* What RTM_NEWLINK says about a link. */
struct vmm_nl_link {
	int ifindex;
	char name[IFNAMSIZ];
	char kind[32];             /* IFLA_INFO_KIND: "bridge", "tun"; "" when none */
	int master;                /* IFLA_MASTER, 0 when none */
	unsigned flags;            /* ifi_flags: IFF_UP ... */
	bool vlan_filtering;       /* kind "bridge": IFLA_BR_VLAN_FILTERING */
};

/* RTM_GETLINK for one link by name (IFLA_IFNAME). Returns the length. */
int vmm_nl_build_getlink(void *buf, size_t size, uint32_t seq, const char *name);
/* RTM_SETLINK: IFLA_MASTER = master (0: leave the bridge) and, when up,
 * IFF_UP in ifi_flags/ifi_change. */
int vmm_nl_build_setmaster(void *buf, size_t size, uint32_t seq, int ifindex, int master,
			   bool up);
/* RTM_SETLINK (add) or RTM_DELLINK (del), AF_BRIDGE, on port ifindex:
 * IFLA_AF_SPEC { IFLA_BRIDGE_VLAN_INFO { flags, vid } }
 * (net/bridge/br_netlink.c br_afspec; what `bridge vlan add/del` sends). */
int vmm_nl_build_port_vlan(void *buf, size_t size, uint32_t seq, int ifindex,
			   uint16_t vid, uint16_t flags, bool del);
/* Parses an RTM_NEWLINK answer; an NLMSG_ERROR gives its error. */
int vmm_nl_parse_link(const void *msg, size_t len, struct vmm_nl_link *out);

/* The live host. -ENODEV when there is no such link. */
int vmm_nl_link_get(const char *name, struct vmm_nl_link *out);
int vmm_nl_set_master(int ifindex, int master, bool up);
/* The port's VLAN: `vid` becomes its PVID, egress untagged, and VLAN 1
 * (the bridge's default_pvid, which every new port gets) is removed, so the
 * port is on `vid` only. */
int vmm_nl_port_set_vlan(int ifindex, uint16_t vid);

#endif
