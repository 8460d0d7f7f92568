// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rtnetlink for a guest's tap: find the bridge, enslave the tap, put the
 * port on a VLAN, bring it up. Built and parsed with libmnl (attribute
 * alignment and nesting are where hand-packed netlink goes wrong), as
 * sriov/netlink.c does. References: include/uapi/linux/if_link.h,
 * if_bridge.h; net/core/rtnetlink.c (do_setlink: IFLA_MASTER, ifi_change),
 * net/bridge/br_netlink.c (br_setlink/br_dellink: IFLA_AF_SPEC with
 * IFLA_BRIDGE_VLAN_INFO on a port).
 */
#include "netlink.h"
#include "common.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct nlmsghdr *link_header(void *buf, size_t size, uint16_t type, uint16_t flags,
				    uint8_t family, int ifindex, uint32_t seq)
{
	memset(buf, 0, size);
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = family;
	ifm->ifi_index = ifindex;
	return nlh;
}

int vmm_nl_build_getlink(void *buf, size_t size, uint32_t seq, const char *name)
{
	if (size < VMM_NL_MSG_BYTES)
		return -ENOSPC;
	if (strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	struct nlmsghdr *nlh = link_header(buf, VMM_NL_MSG_BYTES, RTM_GETLINK, 0, AF_UNSPEC,
					   0, seq);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return (int)nlh->nlmsg_len;
}

int vmm_nl_build_setmaster(void *buf, size_t size, uint32_t seq, int ifindex, int master,
			   bool up)
{
	if (size < VMM_NL_MSG_BYTES)
		return -ENOSPC;
	struct nlmsghdr *nlh = link_header(buf, VMM_NL_MSG_BYTES, RTM_SETLINK, NLM_F_ACK,
					   AF_UNSPEC, ifindex, seq);
	struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	if (up) {
		ifm->ifi_flags = IFF_UP;
		ifm->ifi_change = IFF_UP;
	}
	mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master);
	return (int)nlh->nlmsg_len;
}

int vmm_nl_build_port_vlan(void *buf, size_t size, uint32_t seq, int ifindex,
			   uint16_t vid, uint16_t flags, bool del)
{
	if (size < VMM_NL_MSG_BYTES)
		return -ENOSPC;
	if (vid < 1 || vid > 4094)
		return -EINVAL;
	struct nlmsghdr *nlh = link_header(buf, VMM_NL_MSG_BYTES,
					   del ? RTM_DELLINK : RTM_SETLINK, NLM_F_ACK,
					   AF_BRIDGE, ifindex, seq);
	struct nlattr *spec = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
	struct bridge_vlan_info info = { .flags = flags, .vid = vid };
	mnl_attr_put(nlh, IFLA_BRIDGE_VLAN_INFO, sizeof(info), &info);
	mnl_attr_nest_end(nlh, spec);
	return (int)nlh->nlmsg_len;
}

static void parse_linkinfo(const struct nlattr *linkinfo, struct vmm_nl_link *out)
{
	const struct nlattr *a;
	const struct nlattr *data = NULL;
	mnl_attr_for_each_nested(a, linkinfo) {
		if (mnl_attr_get_type(a) == IFLA_INFO_KIND &&
		    mnl_attr_validate(a, MNL_TYPE_STRING) == 0)
			snprintf(out->kind, sizeof(out->kind), "%.*s",
				 (int)mnl_attr_get_payload_len(a), mnl_attr_get_str(a));
		else if (mnl_attr_get_type(a) == IFLA_INFO_DATA)
			data = a;
	}
	if (!data || strcmp(out->kind, "bridge") != 0)
		return;
	mnl_attr_for_each_nested(a, data) {
		if (mnl_attr_get_type(a) == IFLA_BR_VLAN_FILTERING &&
		    mnl_attr_validate(a, MNL_TYPE_U8) == 0)
			out->vlan_filtering = mnl_attr_get_u8(a) != 0;
	}
}

int vmm_nl_parse_link(const void *msg, size_t len, struct vmm_nl_link *out)
{
	const struct nlmsghdr *nlh = msg;
	memset(out, 0, sizeof(*out));
	int r = rtnl_link_reply(msg, len);
	if (r < 0)
		return r;
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	out->ifindex = ifm->ifi_index;
	out->flags = ifm->ifi_flags;
	const struct nlattr *a;
	mnl_attr_for_each(a, nlh, sizeof(*ifm)) {
		switch (mnl_attr_get_type(a)) {
		case IFLA_IFNAME:
			if (mnl_attr_validate(a, MNL_TYPE_STRING) == 0)
				snprintf(out->name, sizeof(out->name), "%.*s",
					 (int)mnl_attr_get_payload_len(a), mnl_attr_get_str(a));
			break;
		case IFLA_MASTER:
			if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
				out->master = (int)mnl_attr_get_u32(a);
			break;
		case IFLA_LINKINFO:
			parse_linkinfo(a, out);
			break;
		}
	}
	return out->ifindex > 0 ? 0 : -EBADMSG;
}

/* ---- the live host -------------------------------------------------------- */

/* A request answered by an ACK; a build error passes through. */
static int transact_ack(const void *req, int len)
{
	return len < 0 ? len : rtnl_transact_ack(req, (size_t)len);
}

static uint32_t next_seq(void)
{
	static uint32_t seq;
	if (seq == 0)
		seq = (uint32_t)time(NULL);
	return __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED);
}

int vmm_nl_link_get(const char *name, struct vmm_nl_link *out)
{
	char req[VMM_NL_MSG_BYTES];
	size_t got = 0;
	int len = vmm_nl_build_getlink(req, sizeof(req), next_seq(), name);
	if (len < 0)
		return len;
	/* An RTM_NEWLINK with every attribute of a link is a few KiB. */
	size_t size = MNL_SOCKET_BUFFER_SIZE * 4;
	char *reply = malloc(size);
	if (!reply)
		return -ENOMEM;
	int r = rtnl_transact(req, (size_t)len, reply, size, &got);
	if (r == 0)
		r = vmm_nl_parse_link(reply, got, out);
	free(reply);
	return r;
}

int vmm_nl_set_master(int ifindex, int master, bool up)
{
	char req[VMM_NL_MSG_BYTES];
	return transact_ack(req, vmm_nl_build_setmaster(req, sizeof(req), next_seq(), ifindex,
							master, up));
}

int vmm_nl_port_set_vlan(int ifindex, uint16_t vid)
{
	char req[VMM_NL_MSG_BYTES];
	int r = transact_ack(req, vmm_nl_build_port_vlan(req, sizeof(req), next_seq(), ifindex, vid,
							 BRIDGE_VLAN_INFO_PVID |
							 BRIDGE_VLAN_INFO_UNTAGGED, false));
	if (r < 0 || vid == 1)
		return r;
	r = transact_ack(req, vmm_nl_build_port_vlan(req, sizeof(req), next_seq(), ifindex, 1, 0,
						     true));
	/* A bridge with default_pvid 0 gave the port no VLAN 1 to remove. */
	return r == -ENOENT ? 0 : r;
}
