// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The host side of `passvm run --net`: the option's grammar (each error is
 * one line naming the mistake), and the rtnetlink messages that make a tap
 * a bridge port on a VLAN, checked attribute by attribute as the kernel's
 * nla_parse would see them (net/bridge/br_netlink.c br_afspec).
 */
#include "net.h"
#include "netlink.h"
#include "testlib.h"
#include "virtio_net.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>

static int parse(const char *spec, struct vmm_net_config *cfg, char *why)
{
	return vmm_net_parse(spec, cfg, why, 200);
}

static void test_parse_good(void)
{
	struct vmm_net_config c;
	char why[200];
	CHECK_EQ_INT(parse("virtio,bridge=br0", &c, why), 0);
	CHECK_EQ_INT(c.backend, VMM_NET_BRIDGE);
	CHECK_EQ_STR(c.bridge, "br0");
	CHECK_EQ_INT(c.vlan, 0);
	CHECK(!c.has_mac);
	CHECK_EQ_INT(c.queue_pairs, 1);

	CHECK_EQ_INT(parse("virtio,bridge=vmbr0,tag=42,mac=02:AB:cd:00:00:01,queues=4", &c, why), 0);
	CHECK_EQ_STR(c.bridge, "vmbr0");
	CHECK_EQ_INT(c.vlan, 42);
	CHECK(c.has_mac && memcmp(c.mac, "\x02\xab\xcd\x00\x00\x01", 6) == 0);
	CHECK_EQ_INT(c.queue_pairs, 4);

	CHECK_EQ_INT(parse("tap=tap7", &c, why), 0);
	CHECK_EQ_INT(c.backend, VMM_NET_TAP);
	CHECK_EQ_STR(c.tap, "tap7");
	CHECK_EQ_INT(parse("virtio,tap=tap7,mac=52:54:00:12:34:56", &c, why), 0);
	CHECK_EQ_INT(c.backend, VMM_NET_TAP);
	CHECK(c.has_mac);
	CHECK_EQ_INT(parse("bridge=br0,tag=4094", &c, why), 0);
	CHECK_EQ_INT(c.vlan, 4094);
	CHECK_EQ_INT(parse("bridge=br0,queues=16", &c, why), 0);
	CHECK_EQ_INT(parse("bridge=abcdefghijklmno", &c, why), 0); /* 15 bytes: fits */
}

static void test_parse_bad(void)
{
	static const struct {
		const char *spec, *why;
	} cases[] = {
		{ "", "give one of bridge=BR" },
		{ "virtio", "give one of bridge=BR" },
		{ "e1000,bridge=br0", "unknown model 'e1000'" },
		{ "virtio,bridge=br0,colour=blue", "unknown key 'colour'" },
		{ "virtio,bridge=br0,bridge=br1", "bridge given twice" },
		{ "virtio,bridge=br0,tap=t0", "give one of bridge=BR" },
		{ "virtio,tap=t0,tag=5", "tag= needs bridge=" },
		{ "virtio,bridge=br0,tag=0", "tag '0'" },
		{ "virtio,bridge=br0,tag=4095", "tag '4095'" },
		{ "virtio,bridge=br0,tag=five", "tag 'five'" },
		{ "virtio,bridge=br0,mac=01:00:5e:00:00:01", "mac '01:00:5e:00:00:01'" },
		{ "virtio,bridge=br0,mac=00:00:00:00:00:00", "mac '00:00:00:00:00:00'" },
		{ "virtio,bridge=br0,mac=02:00:00:00:00", "mac '02:00:00:00:00'" },
		{ "virtio,bridge=br0,mac=02-00-00-00-00-01", "mac '02-00-00-00-00-01'" },
		{ "virtio,bridge=br0,mac=02:00:00:00:00:0g", "mac '02:00:00:00:00:0g'" },
		{ "virtio,bridge=br0,queues=0", "queues '0'" },
		{ "virtio,bridge=br0,queues=17", "queues '17'" },
		{ "virtio,bridge=abcdefghijklmnop", "is not an interface name" },
		{ "virtio,bridge=a/b", "is not an interface name" },
		{ "virtio,bridge=..", "is not an interface name" },
		{ "virtio,bridge=a b", "is not an interface name" },
		{ "virtio,bridge=", "is not an interface name" },
		{ "virtio,bridge=br0,virtio", "'virtio' is not KEY=VALUE" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct vmm_net_config c;
		char why[200] = "";
		int r = parse(cases[i].spec, &c, why);
		if (r != -EINVAL || !strstr(why, cases[i].why) || strchr(why, '\n')) {
			fprintf(stderr, "--net '%s': got %d \"%s\", want -EINVAL and \"%s\"\n",
				cases[i].spec, r, why, cases[i].why);
			test_failures++;
		}
	}
}

static void test_mac(void)
{
	uint8_t m[6];
	char s[18];
	for (int i = 0; i < 50; i++) {
		vmm_net_random_mac(m);
		CHECK((m[0] & 1) == 0);   /* unicast */
		CHECK((m[0] & 2) == 2);   /* locally administered */
	}
	CHECK_EQ_INT(vmm_net_parse_mac("fe:dc:ba:98:76:54", m), 0);
	vmm_net_format_mac(m, s);
	CHECK_EQ_STR(s, "fe:dc:ba:98:76:54");
}

/* The attributes of a request, after checking its frame. */
static const struct nlmsghdr *frame(const char *buf, int len, uint16_t type, uint8_t family,
				    int ifindex)
{
	const struct nlmsghdr *nlh = (const void *)buf;
	CHECK(len > 0 && mnl_nlmsg_ok(nlh, len));
	CHECK_EQ_INT(nlh->nlmsg_len, len);
	CHECK_EQ_INT(nlh->nlmsg_type, type);
	CHECK(nlh->nlmsg_flags & NLM_F_REQUEST);
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	CHECK_EQ_INT(ifm->ifi_family, family);
	CHECK_EQ_INT(ifm->ifi_index, ifindex);
	return nlh;
}

static void test_msg_getlink(void)
{
	char buf[VMM_NL_MSG_BYTES];
	int len = vmm_nl_build_getlink(buf, sizeof(buf), 7, "br0");
	const struct nlmsghdr *nlh = frame(buf, len, RTM_GETLINK, AF_UNSPEC, 0);
	const struct nlattr *a;
	int n = 0;
	mnl_attr_for_each(a, nlh, sizeof(struct ifinfomsg)) {
		CHECK_EQ_INT(mnl_attr_get_type(a), IFLA_IFNAME);
		CHECK_EQ_INT(mnl_attr_validate(a, MNL_TYPE_NUL_STRING), 0);
		CHECK_EQ_STR(mnl_attr_get_str(a), "br0");
		n++;
	}
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(vmm_nl_build_getlink(buf, 100, 7, "br0"), -ENOSPC);
	CHECK_EQ_INT(vmm_nl_build_getlink(buf, sizeof(buf), 7, "abcdefghijklmnop"), -EINVAL);
}

static void test_msg_setmaster(void)
{
	char buf[VMM_NL_MSG_BYTES];
	for (int up = 0; up < 2; up++) {
		int len = vmm_nl_build_setmaster(buf, sizeof(buf), 8, 12, 3, up);
		const struct nlmsghdr *nlh = frame(buf, len, RTM_SETLINK, AF_UNSPEC, 12);
		CHECK(nlh->nlmsg_flags & NLM_F_ACK);
		const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
		/* ifi_change says which flags to touch: only IFF_UP, only when
		 * asked (do_setlink -> dev_change_flags). */
		CHECK_EQ_INT(ifm->ifi_change, up ? IFF_UP : 0);
		CHECK_EQ_INT(ifm->ifi_flags, up ? IFF_UP : 0);
		const struct nlattr *a;
		int n = 0;
		mnl_attr_for_each(a, nlh, sizeof(*ifm)) {
			CHECK_EQ_INT(mnl_attr_get_type(a), IFLA_MASTER);
			CHECK_EQ_INT(mnl_attr_validate(a, MNL_TYPE_U32), 0);
			CHECK_EQ_INT(mnl_attr_get_u32(a), 3);
			n++;
		}
		CHECK_EQ_INT(n, 1);
	}
}

static void test_msg_vlan(void)
{
	char buf[VMM_NL_MSG_BYTES];
	for (int del = 0; del < 2; del++) {
		uint16_t flags = del ? 0 : BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED;
		int len = vmm_nl_build_port_vlan(buf, sizeof(buf), 9, 12, del ? 1 : 42, flags, del);
		const struct nlmsghdr *nlh = frame(buf, len, del ? RTM_DELLINK : RTM_SETLINK,
						   AF_BRIDGE, 12);
		CHECK(nlh->nlmsg_flags & NLM_F_ACK);
		const struct nlattr *a, *b;
		int specs = 0, infos = 0;
		mnl_attr_for_each(a, nlh, sizeof(struct ifinfomsg)) {
			CHECK_EQ_INT(mnl_attr_get_type(a), IFLA_AF_SPEC);
			specs++;
			mnl_attr_for_each_nested(b, a) {
				CHECK_EQ_INT(mnl_attr_get_type(b), IFLA_BRIDGE_VLAN_INFO);
				CHECK_EQ_INT(mnl_attr_get_payload_len(b), sizeof(struct bridge_vlan_info));
				const struct bridge_vlan_info *v = mnl_attr_get_payload(b);
				CHECK_EQ_INT(v->vid, del ? 1 : 42);
				CHECK_EQ_INT(v->flags, flags);
				infos++;
			}
		}
		CHECK_EQ_INT(specs, 1);
		CHECK_EQ_INT(infos, 1);
	}
	CHECK_EQ_INT(vmm_nl_build_port_vlan(buf, sizeof(buf), 9, 12, 0, 0, false), -EINVAL);
	CHECK_EQ_INT(vmm_nl_build_port_vlan(buf, sizeof(buf), 9, 12, 4095, 0, false), -EINVAL);
}

/* An RTM_NEWLINK as the kernel fills it for a bridge (rtnl_fill_ifinfo,
 * br_fill_info) and for a tap. */
static int newlink(char *buf, size_t size, int ifindex, const char *name, const char *kind,
		   int filtering, int master)
{
	memset(buf, 0, size);
	struct nlmsghdr *r = mnl_nlmsg_put_header(buf);
	r->nlmsg_type = RTM_NEWLINK;
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(r, sizeof(*ifm));
	ifm->ifi_index = ifindex;
	ifm->ifi_flags = IFF_UP | IFF_BROADCAST;
	mnl_attr_put_strz(r, IFLA_IFNAME, name);
	mnl_attr_put_u32(r, IFLA_MTU, 1500);
	if (master)
		mnl_attr_put_u32(r, IFLA_MASTER, (uint32_t)master);
	struct nlattr *li = mnl_attr_nest_start(r, IFLA_LINKINFO);
	mnl_attr_put_strz(r, IFLA_INFO_KIND, kind);
	if (filtering >= 0) {
		struct nlattr *d = mnl_attr_nest_start(r, IFLA_INFO_DATA);
		mnl_attr_put_u32(r, IFLA_BR_FORWARD_DELAY, 1500);
		mnl_attr_put_u8(r, IFLA_BR_VLAN_FILTERING, (uint8_t)filtering);
		mnl_attr_nest_end(r, d);
	}
	mnl_attr_nest_end(r, li);
	return (int)r->nlmsg_len;
}

static void test_parse_link(void)
{
	char buf[1024];
	struct vmm_nl_link l;
	int len = newlink(buf, sizeof(buf), 4, "br0", "bridge", 1, 0);
	CHECK_EQ_INT(vmm_nl_parse_link(buf, (size_t)len, &l), 0);
	CHECK_EQ_INT(l.ifindex, 4);
	CHECK_EQ_STR(l.name, "br0");
	CHECK_EQ_STR(l.kind, "bridge");
	CHECK(l.vlan_filtering);
	CHECK(l.flags & IFF_UP);
	CHECK_EQ_INT(l.master, 0);

	len = newlink(buf, sizeof(buf), 4, "br0", "bridge", 0, 0);
	CHECK_EQ_INT(vmm_nl_parse_link(buf, (size_t)len, &l), 0);
	CHECK(!l.vlan_filtering);

	/* IFLA_BR_VLAN_FILTERING of something not a bridge means nothing. */
	len = newlink(buf, sizeof(buf), 9, "passvm0", "tun", 1, 4);
	CHECK_EQ_INT(vmm_nl_parse_link(buf, (size_t)len, &l), 0);
	CHECK_EQ_STR(l.kind, "tun");
	CHECK(!l.vlan_filtering);
	CHECK_EQ_INT(l.master, 4);

	/* A truncated message, and the kernel's "no such device" answer. */
	CHECK_EQ_INT(vmm_nl_parse_link(buf, 10, &l), -EBADMSG);
	memset(buf, 0, sizeof(buf));
	struct nlmsghdr *e = mnl_nlmsg_put_header(buf);
	e->nlmsg_type = NLMSG_ERROR;
	struct nlmsgerr *err = mnl_nlmsg_put_extra_header(e, sizeof(*err));
	err->error = -ENODEV;
	CHECK_EQ_INT(vmm_nl_parse_link(buf, e->nlmsg_len, &l), -ENODEV);
}

static void test_features(void)
{
	unsigned all = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN | TUN_F_UFO;
	uint64_t f = vmm_virtio_net_features(all, 1);
	uint64_t guest = VMM_BIT(VIRTIO_NET_F_GUEST_CSUM) | VMM_BIT(VIRTIO_NET_F_GUEST_TSO4) |
			 VMM_BIT(VIRTIO_NET_F_GUEST_TSO6) | VMM_BIT(VIRTIO_NET_F_GUEST_ECN) |
			 VMM_BIT(VIRTIO_NET_F_GUEST_UFO);
	CHECK_EQ_INT(f & guest, guest);
	CHECK(f & VMM_BIT(VIRTIO_NET_F_MRG_RXBUF));
	CHECK(f & VMM_BIT(VIRTIO_NET_F_MAC));
	CHECK(f & VMM_BIT(VIRTIO_NET_F_STATUS));
	CHECK(f & VMM_BIT(VIRTIO_NET_F_CTRL_VQ));
	CHECK(f & VMM_BIT(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS));
	CHECK(!(f & VMM_BIT(VIRTIO_NET_F_MQ)));
	CHECK(vmm_virtio_net_features(all, 2) & VMM_BIT(VIRTIO_NET_F_MQ));
	/* A tap without checksum offload: no guest offload at all. */
	f = vmm_virtio_net_features(TUN_F_TSO4 | TUN_F_TSO6, 1);
	CHECK_EQ_INT(f & guest, 0);
	CHECK(!(f & VMM_BIT(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS)));
	CHECK(f & VMM_BIT(VIRTIO_NET_F_HOST_TSO4));
	/* A tap without UFO: no GUEST_UFO. */
	f = vmm_virtio_net_features(TUN_F_CSUM | TUN_F_TSO4, 1);
	CHECK(!(f & VMM_BIT(VIRTIO_NET_F_GUEST_UFO)));
	CHECK(f & VMM_BIT(VIRTIO_NET_F_GUEST_TSO4));

	CHECK_EQ_INT(vmm_virtio_net_tap_offloads(guest), all);
	CHECK_EQ_INT(vmm_virtio_net_tap_offloads(0), 0);
	CHECK_EQ_INT(vmm_virtio_net_tap_offloads(VMM_BIT(VIRTIO_NET_F_GUEST_TSO4)), 0);
	CHECK_EQ_INT(vmm_virtio_net_tap_offloads(VMM_BIT(VIRTIO_NET_F_GUEST_CSUM) |
						 VMM_BIT(VIRTIO_NET_F_GUEST_ECN)), TUN_F_CSUM);
}

static uint64_t all_host(void)
{
	return VMM_BIT(VIRTIO_NET_F_CSUM) | VMM_BIT(VIRTIO_NET_F_HOST_TSO4) |
	       VMM_BIT(VIRTIO_NET_F_HOST_TSO6) | VMM_BIT(VIRTIO_NET_F_HOST_ECN) |
	       VMM_BIT(VIRTIO_NET_F_HOST_UFO);
}

/* One TX chain: header (split over two buffers to check the copy) and a
 * frame of `len` bytes in two pieces. */
static enum vmm_virtio_net_tx_error tx(const struct virtio_net_hdr_v1 *h, size_t len,
				       uint64_t features, size_t *bytes)
{
	static uint8_t buf[VMM_VIRTIO_NET_MAX_FRAME + 64];
	memcpy(buf, h, sizeof(*h));
	struct iovec iov[3] = {
		{ buf, 5 }, { buf + 5, 7 + len / 2 }, { buf + 12 + len / 2, len - len / 2 },
	};
	struct virtio_net_hdr_v1 got;
	struct iovec frame[4];
	unsigned n;
	enum vmm_virtio_net_tx_error e = vmm_virtio_net_tx_parse(iov, 3, features, &got, frame,
								 4, &n, bytes);
	if (e == VMM_NET_TX_OK) {
		CHECK(memcmp(&got, h, sizeof(got)) == 0);
		CHECK(frame[0].iov_base == buf + 12);
		CHECK_EQ_INT(frame[0].iov_len + (n > 1 ? frame[1].iov_len : 0), len);
	}
	return e;
}

static void test_tx(void)
{
	size_t bytes;
	struct virtio_net_hdr_v1 h = { 0 };
	CHECK_EQ_INT(tx(&h, 60, 0, &bytes), VMM_NET_TX_OK);
	CHECK_EQ_INT(bytes, 60);
	CHECK_EQ_INT(tx(&h, 0, 0, &bytes), VMM_NET_TX_EMPTY);
	CHECK_EQ_INT(tx(&h, VMM_VIRTIO_NET_MAX_FRAME, 0, &bytes), VMM_NET_TX_OK);
	CHECK_EQ_INT(tx(&h, VMM_VIRTIO_NET_MAX_FRAME + 1, 0, &bytes), VMM_NET_TX_TOO_BIG);
	h.flags = VIRTIO_NET_HDR_F_DATA_VALID;
	CHECK_EQ_INT(tx(&h, 60, all_host(), &bytes), VMM_NET_TX_FLAGS);
	/* Checksum offload: negotiated, and the field inside the frame. */
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.csum_start = htole16(34);
	h.csum_offset = htole16(16);
	CHECK_EQ_INT(tx(&h, 60, 0, &bytes), VMM_NET_TX_CSUM);
	CHECK_EQ_INT(tx(&h, 60, all_host(), &bytes), VMM_NET_TX_OK);
	CHECK_EQ_INT(tx(&h, 52, all_host(), &bytes), VMM_NET_TX_OK);
	CHECK_EQ_INT(tx(&h, 51, all_host(), &bytes), VMM_NET_TX_CSUM);
	h.csum_start = htole16(0xffff);
	h.csum_offset = htole16(0xffff);
	CHECK_EQ_INT(tx(&h, 60, all_host(), &bytes), VMM_NET_TX_CSUM);
	/* TSO: negotiated, with NEEDS_CSUM and an MSS. */
	h.csum_start = htole16(34);
	h.csum_offset = htole16(16);
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h.gso_size = htole16(1448);
	h.hdr_len = htole16(66);
	CHECK_EQ_INT(tx(&h, 9000, all_host(), &bytes), VMM_NET_TX_OK);
	CHECK_EQ_INT(tx(&h, 9000, VMM_BIT(VIRTIO_NET_F_CSUM), &bytes), VMM_NET_TX_GSO);
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
	CHECK_EQ_INT(tx(&h, 9000, VMM_BIT(VIRTIO_NET_F_CSUM) | VMM_BIT(VIRTIO_NET_F_HOST_TSO4),
			&bytes), VMM_NET_TX_GSO);
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN;
	CHECK_EQ_INT(tx(&h, 9000, all_host(), &bytes), VMM_NET_TX_OK);
	CHECK_EQ_INT(tx(&h, 9000, all_host() & ~VMM_BIT(VIRTIO_NET_F_HOST_ECN), &bytes),
		     VMM_NET_TX_GSO);
	h.gso_type = 2; /* no such type */
	CHECK_EQ_INT(tx(&h, 9000, all_host(), &bytes), VMM_NET_TX_GSO);
	h.gso_type = VIRTIO_NET_HDR_GSO_ECN; /* ECN without a type */
	CHECK_EQ_INT(tx(&h, 9000, all_host(), &bytes), VMM_NET_TX_GSO);
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h.gso_size = 0;
	CHECK_EQ_INT(tx(&h, 9000, all_host(), &bytes), VMM_NET_TX_GSO);
	h.gso_size = htole16(1448);
	h.flags = 0;
	CHECK_EQ_INT(tx(&h, 9000, all_host(), &bytes), VMM_NET_TX_GSO);

	/* Shorter than the header; more pieces than room. */
	uint8_t b[64] = { 0 };
	struct iovec iov[3] = { { b, 6 }, { b + 6, 5 } }, frame[1];
	struct virtio_net_hdr_v1 got;
	unsigned n;
	CHECK_EQ_INT(vmm_virtio_net_tx_parse(iov, 2, 0, &got, frame, 1, &n, &bytes),
		     VMM_NET_TX_SHORT);
	iov[1].iov_len = 20;
	iov[2] = (struct iovec){ b + 26, 20 };
	CHECK_EQ_INT(vmm_virtio_net_tx_parse(iov, 3, 0, &got, frame, 1, &n, &bytes),
		     VMM_NET_TX_IOV);
	CHECK_EQ_INT(n, 0);
}

static int ctrl(const uint8_t *cmd, size_t len, struct vmm_virtio_net_ctrl *c)
{
	/* Split after the class byte, as a driver may. */
	struct iovec iov[2] = { { (void *)cmd, len ? 1 : 0 }, { (void *)(cmd + 1), len ? len - 1 : 0 } };
	return vmm_virtio_net_ctrl_parse(iov, 2, c);
}

static void test_ctrl(void)
{
	struct vmm_virtio_net_ctrl c;
	uint64_t f = vmm_virtio_net_features(TUN_F_CSUM | TUN_F_TSO4, 4);
	f |= VMM_BIT(VIRTIO_NET_F_GUEST_CSUM);
	static const uint8_t mq[] = { VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 3, 0 };
	CHECK_EQ_INT(ctrl(mq, sizeof(mq), &c), 0);
	CHECK_EQ_INT(c.queue_pairs, 3);
	CHECK_EQ_INT(vmm_virtio_net_ctrl_check(&c, f, 4), 0);
	CHECK_EQ_INT(vmm_virtio_net_ctrl_check(&c, f, 2), -EINVAL);
	CHECK_EQ_INT(vmm_virtio_net_ctrl_check(&c, f & ~VMM_BIT(VIRTIO_NET_F_MQ), 4), -EINVAL);
	static const uint8_t mq0[] = { VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 0, 0 };
	CHECK_EQ_INT(ctrl(mq0, sizeof(mq0), &c), 0);
	CHECK_EQ_INT(vmm_virtio_net_ctrl_check(&c, f, 4), -EINVAL);
	CHECK_EQ_INT(ctrl(mq, 3, &c), -EINVAL);   /* data cut short */
	CHECK_EQ_INT(ctrl(mq, 1, &c), -EINVAL);

	static const uint8_t off[] = { VIRTIO_NET_CTRL_GUEST_OFFLOADS,
				       VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET,
				       (1 << VIRTIO_NET_F_GUEST_CSUM) | (1 << VIRTIO_NET_F_GUEST_TSO4),
				       0, 0, 0, 0, 0, 0, 0 };
	CHECK_EQ_INT(ctrl(off, sizeof(off), &c), 0);
	CHECK_EQ_INT(c.offloads, VMM_BIT(VIRTIO_NET_F_GUEST_CSUM) | VMM_BIT(VIRTIO_NET_F_GUEST_TSO4));
	CHECK_EQ_INT(vmm_virtio_net_ctrl_check(&c, f, 4), 0);
	/* GUEST_TSO6 was not negotiated. */
	c.offloads |= VMM_BIT(VIRTIO_NET_F_GUEST_TSO6);
	CHECK_EQ_INT(vmm_virtio_net_ctrl_check(&c, f, 4), -EINVAL);
	CHECK_EQ_INT(ctrl(off, 9, &c), -EINVAL);

	static const uint8_t promisc[] = { VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, 1 };
	CHECK_EQ_INT(ctrl(promisc, sizeof(promisc), &c), -EOPNOTSUPP);
}

int main(void)
{
	test_features();
	test_tx();
	test_ctrl();
	test_parse_good();
	test_parse_bad();
	test_mac();
	test_msg_getlink();
	test_msg_setmaster();
	test_msg_vlan();
	test_parse_link();
	return test_result();
}
