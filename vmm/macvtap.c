// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A macvtap over a host netdev (see macvtap.h). References:
 * include/uapi/linux/if_link.h (IFLA_LINKINFO, IFLA_MACVLAN_MODE),
 * drivers/net/macvtap.c (the char device is /dev/tap<ifindex>, one open per
 * queue), drivers/net/macvlan.c (bridge mode: macvtaps on one lower device
 * talk to each other, the lower device's own traffic is untouched).
 */
#include "macvtap.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int vmm_macvtap_build_newlink(void *buf, size_t size, uint32_t seq, const char *name,
			      int lower_ifindex, const uint8_t mac[6])
{
	if (size < VMM_MACVTAP_MSG_BYTES)
		return -ENOSPC;
	if (!name[0] || strlen(name) >= IFNAMSIZ || lower_ifindex <= 0)
		return -EINVAL;
	memset(buf, 0, VMM_MACVTAP_MSG_BYTES);
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	/* EXCL: never adopt an existing link of that name. */
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_flags = IFF_UP;
	ifm->ifi_change = IFF_UP;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put_u32(nlh, IFLA_LINK, (uint32_t)lower_ifindex);
	mnl_attr_put(nlh, IFLA_ADDRESS, 6, mac);
	struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "macvtap");
	struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	mnl_attr_put_u32(nlh, IFLA_MACVLAN_MODE, MACVLAN_MODE_BRIDGE);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return (int)nlh->nlmsg_len;
}

int vmm_macvtap_create(struct vmm_macvtap *m, const char *lower, const char *name,
		       const uint8_t mac[6])
{
	memset(m, 0, sizeof(*m));
	unsigned lower_ifindex = if_nametoindex(lower);
	if (!lower_ifindex)
		return -ENODEV;
	char buf[VMM_MACVTAP_MSG_BYTES];
	uint32_t seq = (uint32_t)time(NULL);
	int len = vmm_macvtap_build_newlink(buf, sizeof(buf), seq, name, (int)lower_ifindex, mac);
	if (len < 0)
		return len;
	int r = rtnl_transact_ack(buf, (size_t)len);
	if (r < 0)
		return r;
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->ifindex = (int)if_nametoindex(name);
	if (m->ifindex <= 0) {
		vmm_macvtap_delete(m);
		return -ENODEV;
	}
	snprintf(m->dev_path, sizeof(m->dev_path), "dev/tap%d", m->ifindex);
	return 0;
}

int vmm_macvtap_delete(struct vmm_macvtap *m)
{
	if (m->ifindex <= 0)
		return 0;
	char buf[VMM_MACVTAP_MSG_BYTES];
	memset(buf, 0, sizeof(buf));
	uint32_t seq = (uint32_t)time(NULL) + 1;
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_DELLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = m->ifindex;
	int r = rtnl_transact_ack(buf, nlh->nlmsg_len);
	if (r == -ENODEV)
		r = 0;
	if (r == 0)
		m->ifindex = 0;
	return r;
}
