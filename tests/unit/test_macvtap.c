// SPDX-License-Identifier: GPL-2.0-or-later
/* The RTM_NEWLINK request that makes a macvtap, parsed back with libmnl:
 * name, lower link, MAC, kind "macvtap" in bridge mode, created up and
 * exclusive; bad names and lower links refused before anything is sent. */
#include "macvtap.h"
#include "../testlib.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

struct seen {
	const char *name, *kind;
	uint32_t link, mode;
	const uint8_t *mac;
};

static int data_cb(const struct nlattr *a, void *arg)
{
	struct seen *s = arg;
	if (mnl_attr_get_type(a) == IFLA_MACVLAN_MODE)
		s->mode = mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

static int info_cb(const struct nlattr *a, void *arg)
{
	struct seen *s = arg;
	if (mnl_attr_get_type(a) == IFLA_INFO_KIND)
		s->kind = mnl_attr_get_str(a);
	else if (mnl_attr_get_type(a) == IFLA_INFO_DATA)
		mnl_attr_parse_nested(a, data_cb, s);
	return MNL_CB_OK;
}

static int link_cb(const struct nlattr *a, void *arg)
{
	struct seen *s = arg;
	switch (mnl_attr_get_type(a)) {
	case IFLA_IFNAME: s->name = mnl_attr_get_str(a); break;
	case IFLA_LINK: s->link = mnl_attr_get_u32(a); break;
	case IFLA_ADDRESS: s->mac = mnl_attr_get_payload(a); break;
	case IFLA_LINKINFO: mnl_attr_parse_nested(a, info_cb, s); break;
	}
	return MNL_CB_OK;
}

int main(void)
{
	char buf[VMM_MACVTAP_MSG_BYTES];
	const uint8_t mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
	int len = vmm_macvtap_build_newlink(buf, sizeof(buf), 7, "pvmt1.0", 3, mac);
	CHECK(len > 0);
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	CHECK_EQ_INT(nlh->nlmsg_type, RTM_NEWLINK);
	CHECK(nlh->nlmsg_flags & NLM_F_CREATE);
	CHECK(nlh->nlmsg_flags & NLM_F_EXCL);
	CHECK_EQ_INT((int)nlh->nlmsg_len, len);
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	CHECK(ifm->ifi_flags & IFF_UP);
	struct seen s = { 0 };
	mnl_attr_parse(nlh, sizeof(*ifm), link_cb, &s);
	CHECK(s.name && strcmp(s.name, "pvmt1.0") == 0);
	CHECK(s.kind && strcmp(s.kind, "macvtap") == 0);
	CHECK_EQ_INT(s.link, 3);
	CHECK_EQ_INT(s.mode, MACVLAN_MODE_BRIDGE);
	CHECK(s.mac && memcmp(s.mac, mac, 6) == 0);

	CHECK_EQ_INT(vmm_macvtap_build_newlink(buf, sizeof(buf), 7, "", 3, mac), -EINVAL);
	CHECK_EQ_INT(vmm_macvtap_build_newlink(buf, sizeof(buf), 7, "a-name-too-long-x", 3, mac),
		     -EINVAL);
	CHECK_EQ_INT(vmm_macvtap_build_newlink(buf, sizeof(buf), 7, "x", 0, mac), -EINVAL);
	CHECK_EQ_INT(vmm_macvtap_build_newlink(buf, 16, 7, "x", 3, mac), -ENOSPC);
	return test_result();
}
