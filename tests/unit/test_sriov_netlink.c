// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The rtnetlink messages `passvm sriov set` sends, checked attribute by
 * attribute (the lab has no SR-IOV NIC: LAB.md). The request is walked
 * with libmnl's validating iterators the way the kernel's nla_parse would
 * see it; the reply parser is fed a message built here as a PF driver's
 * RTM_NEWLINK would look.
 */
#include "sriov.h"
#include "testlib.h"

#include <errno.h>

#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

static struct sriov_net_vf settings(const char *const *kv, size_t n)
{
	struct sriov_net_vf s = { .vf = 5 };
	char why[160];
	for (size_t i = 0; i < n; i += 2)
		CHECK_EQ_INT(sriov_net_parse_setting(&s, kv[i], kv[i + 1], why, sizeof(why)), 0);
	return s;
}

/* The IFLA_VF_INFO nest of a SETLINK request, after checking the frame. */
static const struct nlattr *vf_info(const char *buf, int len, int ifindex)
{
	const struct nlmsghdr *nlh = (const void *)buf;
	CHECK(mnl_nlmsg_ok(nlh, len));
	CHECK_EQ_INT(nlh->nlmsg_len, len);
	CHECK_EQ_INT(nlh->nlmsg_type, RTM_SETLINK);
	CHECK_EQ_INT(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	CHECK_EQ_INT(ifm->ifi_index, ifindex);
	CHECK_EQ_INT(ifm->ifi_family, AF_UNSPEC);
	const struct nlattr *a, *found = NULL;
	int lists = 0;
	mnl_attr_for_each(a, nlh, sizeof(*ifm)) {
		CHECK_EQ_INT(mnl_attr_get_type(a), IFLA_VFINFO_LIST);
		CHECK(a->nla_type & NLA_F_NESTED || 1); /* the kernel accepts both */
		lists++;
		const struct nlattr *info;
		int infos = 0;
		mnl_attr_for_each_nested(info, a) {
			CHECK_EQ_INT(mnl_attr_get_type(info), IFLA_VF_INFO);
			found = info;
			infos++;
		}
		CHECK_EQ_INT(infos, 1);
	}
	CHECK_EQ_INT(lists, 1);
	return found;
}

static void test_setlink_all(void)
{
	static const char *const kv[] = {
		"mac", "02:ab:cd:ef:01:23", "vlan", "100", "qos", "5", "trust", "on",
		"spoofchk", "off", "link", "disable", "rate", "2500",
	};
	struct sriov_net_vf s = settings(kv, ARRAY_SIZE(kv));
	char buf[512];
	int len = sriov_net_build_setlink(buf, sizeof(buf), 7, 42, &s);
	CHECK(len > 0);
	const struct nlattr *info = vf_info(buf, len, 7);
	if (!info)
		return;
	const struct nlattr *a;
	unsigned seen = 0;
	mnl_attr_for_each_nested(a, info) {
		const void *p = mnl_attr_get_payload(a);
		size_t plen = mnl_attr_get_payload_len(a);
		switch (mnl_attr_get_type(a)) {
		case IFLA_VF_MAC: {
			const struct ifla_vf_mac *m = p;
			CHECK_EQ_INT(plen, sizeof(*m));
			CHECK_EQ_INT(m->vf, 5);
			CHECK(memcmp(m->mac, "\x02\xab\xcd\xef\x01\x23", 6) == 0);
			CHECK(m->mac[6] == 0 && m->mac[31] == 0);
			seen |= 1;
			break;
		}
		case IFLA_VF_VLAN: {
			const struct ifla_vf_vlan *v = p;
			CHECK_EQ_INT(plen, sizeof(*v));
			CHECK_EQ_INT(v->vf, 5);
			CHECK_EQ_INT(v->vlan, 100);
			CHECK_EQ_INT(v->qos, 5);
			seen |= 2;
			break;
		}
		case IFLA_VF_TRUST: {
			const struct ifla_vf_trust *t = p;
			CHECK_EQ_INT(plen, sizeof(*t));
			CHECK_EQ_INT(t->vf, 5);
			CHECK_EQ_INT(t->setting, 1);
			seen |= 4;
			break;
		}
		case IFLA_VF_SPOOFCHK: {
			const struct ifla_vf_spoofchk *c = p;
			CHECK_EQ_INT(plen, sizeof(*c));
			CHECK_EQ_INT(c->setting, 0);
			seen |= 8;
			break;
		}
		case IFLA_VF_LINK_STATE: {
			const struct ifla_vf_link_state *l = p;
			CHECK_EQ_INT(plen, sizeof(*l));
			CHECK_EQ_INT(l->link_state, IFLA_VF_LINK_STATE_DISABLE);
			seen |= 16;
			break;
		}
		case IFLA_VF_RATE: {
			const struct ifla_vf_rate *r = p;
			CHECK_EQ_INT(plen, sizeof(*r));
			CHECK_EQ_INT(r->min_tx_rate, 0);
			CHECK_EQ_INT(r->max_tx_rate, 2500);
			seen |= 32;
			break;
		}
		default:
			fprintf(stderr, "unexpected attribute %u\n", mnl_attr_get_type(a));
			test_failures++;
		}
	}
	CHECK_EQ_INT(seen, 63);
}

/* Only the attributes asked for: a trust change must not reset the MAC. */
static void test_setlink_one(void)
{
	static const char *const kv[] = { "trust", "off" };
	struct sriov_net_vf s = settings(kv, ARRAY_SIZE(kv));
	char buf[512];
	int len = sriov_net_build_setlink(buf, sizeof(buf), 3, 1, &s);
	const struct nlattr *info = vf_info(buf, len, 3);
	const struct nlattr *a;
	int n = 0;
	mnl_attr_for_each_nested(a, info) {
		CHECK_EQ_INT(mnl_attr_get_type(a), IFLA_VF_TRUST);
		n++;
	}
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(sriov_net_build_setlink(buf, 100, 3, 1, &s), -ENOSPC);
}

static void test_values(void)
{
	struct sriov_net_vf s = { 0 };
	char why[160];
	CHECK_EQ_INT(sriov_net_parse_setting(&s, "mac", "03:00:00:00:00:01", why, sizeof(why)), -EINVAL);
	CHECK_EQ_INT(sriov_net_parse_setting(&s, "mac", "02:00:00:00:00", why, sizeof(why)), -EINVAL);
	CHECK_EQ_INT(sriov_net_parse_setting(&s, "mac", "02-00-00-00-00-01", why, sizeof(why)), -EINVAL);
	CHECK_EQ_INT(sriov_net_parse_setting(&s, "vlan", "-1", why, sizeof(why)), -EINVAL);
	CHECK_EQ_INT(sriov_net_parse_setting(&s, "qos", "8", why, sizeof(why)), -EINVAL);
	CHECK_EQ_INT(sriov_net_parse_setting(&s, "link", "up", why, sizeof(why)), -EINVAL);
	CHECK_EQ_INT(sriov_net_parse_setting(&s, "rate", "fast", why, sizeof(why)), -EINVAL);
	CHECK_EQ_INT(sriov_net_parse_setting(&s, "colour", "blue", why, sizeof(why)), -ENOENT);
	CHECK_EQ_INT(s.has, 0); /* nothing kept from a bad value */
	CHECK_EQ_INT(sriov_net_parse_setting(&s, "link", "auto", why, sizeof(why)), 0);
	CHECK_EQ_INT(s.link_state, IFLA_VF_LINK_STATE_AUTO);
	CHECK_EQ_INT(s.has, SRIOV_NET_LINK);
}

static void test_getlink_and_reply(void)
{
	char buf[1024];
	int len = sriov_net_build_getlink(buf, sizeof(buf), 9, 2);
	const struct nlmsghdr *nlh = (const void *)buf;
	CHECK(len > 0 && mnl_nlmsg_ok(nlh, len));
	CHECK_EQ_INT(nlh->nlmsg_type, RTM_GETLINK);
	const struct nlattr *a;
	int ext = 0;
	mnl_attr_for_each(a, nlh, sizeof(struct ifinfomsg)) {
		CHECK_EQ_INT(mnl_attr_get_type(a), IFLA_EXT_MASK);
		CHECK_EQ_INT(mnl_attr_get_u32(a), RTEXT_FILTER_VF);
		ext++;
	}
	CHECK_EQ_INT(ext, 1);

	/* A reply as a PF driver fills it (net/core/rtnetlink.c
	 * rtnl_fill_vfinfo): two VFs, the second with a VLAN and trust. */
	memset(buf, 0, sizeof(buf));
	struct nlmsghdr *r = mnl_nlmsg_put_header(buf);
	r->nlmsg_type = RTM_NEWLINK;
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(r, sizeof(*ifm));
	ifm->ifi_index = 9;
	mnl_attr_put_strz(r, IFLA_IFNAME, "enp1s0f0");
	struct nlattr *list = mnl_attr_nest_start(r, IFLA_VFINFO_LIST);
	for (uint32_t vf = 0; vf < 2; vf++) {
		struct nlattr *info = mnl_attr_nest_start(r, IFLA_VF_INFO);
		struct ifla_vf_mac m = { .vf = vf, .mac = { 2, 0, 0, 0, 0, (uint8_t)(vf + 1) } };
		struct ifla_vf_vlan v = { .vf = vf, .vlan = vf ? 42 : 0, .qos = 0 };
		struct ifla_vf_trust t = { .vf = vf, .setting = vf };
		struct ifla_vf_spoofchk c = { .vf = vf, .setting = 1 };
		struct ifla_vf_link_state l = { .vf = vf, .link_state = IFLA_VF_LINK_STATE_ENABLE };
		mnl_attr_put(r, IFLA_VF_MAC, sizeof(m), &m);
		mnl_attr_put(r, IFLA_VF_VLAN, sizeof(v), &v);
		mnl_attr_put(r, IFLA_VF_TRUST, sizeof(t), &t);
		mnl_attr_put(r, IFLA_VF_SPOOFCHK, sizeof(c), &c);
		mnl_attr_put(r, IFLA_VF_LINK_STATE, sizeof(l), &l);
		mnl_attr_nest_end(r, info);
	}
	mnl_attr_nest_end(r, list);
	struct sriov_net_vf vfs[4];
	size_t n = 0;
	CHECK_EQ_INT(sriov_net_parse_link(buf, r->nlmsg_len, vfs, 4, &n), 0);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(vfs[1].vf, 1);
	CHECK_EQ_INT(vfs[1].mac[5], 2);
	CHECK_EQ_INT(vfs[1].vlan, 42);
	CHECK(vfs[1].trust && !vfs[0].trust && vfs[0].spoofchk);
	CHECK_EQ_INT(vfs[0].link_state, IFLA_VF_LINK_STATE_ENABLE);
	/* What `set` asked for, compared with what came back. */
	static const char *const kv[] = { "vlan", "42", "trust", "on" };
	struct sriov_net_vf want = settings(kv, ARRAY_SIZE(kv));
	CHECK(sriov_net_matches(&want, &vfs[1]));
	CHECK(!sriov_net_matches(&want, &vfs[0]));
	/* Truncated: refused, not read past. */
	CHECK_EQ_INT(sriov_net_parse_link(buf, 10, vfs, 4, &n), -EBADMSG);
	/* An error reply carries the kernel's errno. */
	memset(buf, 0, sizeof(buf));
	r = mnl_nlmsg_put_header(buf);
	r->nlmsg_type = NLMSG_ERROR;
	struct nlmsgerr *e = mnl_nlmsg_put_extra_header(r, sizeof(*e));
	e->error = -EOPNOTSUPP;
	CHECK_EQ_INT(sriov_net_parse_link(buf, r->nlmsg_len, vfs, 4, &n), -EOPNOTSUPP);
}

int main(void)
{
	test_setlink_all();
	test_setlink_one();
	test_values();
	test_getlink_and_reply();
	return test_result();
}
