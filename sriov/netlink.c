// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Network VF settings over rtnetlink, on the PF's netdev: a VF's MAC, VLAN,
 * trust, spoof check, link state and rate are properties of the PF's
 * embedded switch, set with RTM_SETLINK carrying
 * IFLA_VFINFO_LIST { IFLA_VF_INFO { IFLA_VF_MAC, IFLA_VF_VLAN, ... } }
 * (include/uapi/linux/if_link.h; net/core/rtnetlink.c do_setvfinfo) and read
 * back with RTM_GETLINK + IFLA_EXT_MASK RTEXT_FILTER_VF. Messages are built
 * and parsed with libmnl rather than packed by hand: attribute alignment and
 * nesting are where hand-packed netlink goes wrong.
 *
 * The lab has no SR-IOV NIC (QEMU 7.2 has no igb, the kernel no netdevsim):
 * these messages are tested by tests/unit/test_sriov_netlink.c, which
 * parses what the builders produce (docs/sriov.md says so).
 */
#include "sriov.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const struct {
	const char *name;
	unsigned key;
} keys[] = {
	{ "mac", SRIOV_NET_MAC },         { "vlan", SRIOV_NET_VLAN },
	{ "qos", SRIOV_NET_QOS },         { "trust", SRIOV_NET_TRUST },
	{ "spoofchk", SRIOV_NET_SPOOFCHK }, { "link", SRIOV_NET_LINK },
	{ "rate", SRIOV_NET_RATE },
};

static const char *const link_states[] = {
	[IFLA_VF_LINK_STATE_AUTO] = "auto",
	[IFLA_VF_LINK_STATE_ENABLE] = "enable",
	[IFLA_VF_LINK_STATE_DISABLE] = "disable",
};

unsigned sriov_net_key_parse(const char *key)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (strcmp(key, keys[i].name) == 0)
			return keys[i].key;
	return 0;
}

const char *sriov_link_state_name(uint32_t state)
{
	return state < ARRAY_SIZE(link_states) ? link_states[state] : "?";
}

void sriov_format_mac(const uint8_t m[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static int parse_mac(const char *text, uint8_t mac[6])
{
	if (strlen(text) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		const char *p = text + i * 3;
		int hi = -1, lo = -1;
		char h = p[0], l = p[1];
		hi = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10
		   : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
		lo = l >= '0' && l <= '9' ? l - '0' : l >= 'a' && l <= 'f' ? l - 'a' + 10
		   : l >= 'A' && l <= 'F' ? l - 'A' + 10 : -1;
		if (hi < 0 || lo < 0 || (i < 5 && p[2] != ':'))
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	/* A multicast address cannot be a station's (IEEE 802 I/G bit). */
	return (mac[0] & 1) ? -EINVAL : 0;
}

static int parse_bool(const char *text, bool *out)
{
	if (strcmp(text, "on") == 0 || strcmp(text, "1") == 0 || strcmp(text, "yes") == 0)
		*out = true;
	else if (strcmp(text, "off") == 0 || strcmp(text, "0") == 0 || strcmp(text, "no") == 0)
		*out = false;
	else
		return -EINVAL;
	return 0;
}

int sriov_net_parse_setting(struct sriov_net_vf *s, const char *key, const char *value,
			    char *why, size_t why_size)
{
	unsigned k = sriov_net_key_parse(key);
	uint64_t v;
	int r = 0;
	switch (k) {
	case SRIOV_NET_MAC:
		r = parse_mac(value, s->mac);
		if (r < 0)
			snprintf(why, why_size, "mac: expected a unicast address like "
				 "02:00:00:00:00:01");
		break;
	case SRIOV_NET_VLAN:
		r = parse_u64(value, &v) < 0 || v > 4095 ? -EINVAL : 0;
		s->vlan = (uint16_t)v;
		if (r < 0)
			snprintf(why, why_size, "vlan: expected a VLAN ID from 0 (none) to 4095");
		break;
	case SRIOV_NET_QOS:
		r = parse_u64(value, &v) < 0 || v > 7 ? -EINVAL : 0;
		s->qos = (uint8_t)v;
		if (r < 0)
			snprintf(why, why_size, "qos: expected an 802.1p priority from 0 to 7");
		break;
	case SRIOV_NET_TRUST:
		r = parse_bool(value, &s->trust);
		if (r < 0)
			snprintf(why, why_size, "trust: expected on or off");
		break;
	case SRIOV_NET_SPOOFCHK:
		r = parse_bool(value, &s->spoofchk);
		if (r < 0)
			snprintf(why, why_size, "spoofchk: expected on or off");
		break;
	case SRIOV_NET_LINK:
		r = -EINVAL;
		for (uint32_t i = 0; i < ARRAY_SIZE(link_states); i++) {
			if (strcmp(value, link_states[i]) == 0) {
				s->link_state = i;
				r = 0;
			}
		}
		if (r < 0)
			snprintf(why, why_size, "link: expected auto, enable or disable");
		break;
	case SRIOV_NET_RATE:
		r = parse_u64(value, &v) < 0 || v > UINT32_MAX ? -EINVAL : 0;
		s->max_tx_rate = (uint32_t)v;
		if (r < 0)
			snprintf(why, why_size, "rate: expected a maximum in Mbit/s (0: none)");
		break;
	default:
		snprintf(why, why_size, "unknown key '%s' (mac, vlan, qos, trust, spoofchk, "
			 "link, rate)", key);
		return -ENOENT;
	}
	if (r == 0)
		s->has |= k;
	return r;
}

int sriov_net_check(const struct sriov_net_vf *s, char *why, size_t why_size)
{
	/* The kernel takes qos only with a VLAN (do_setvfinfo: -EINVAL for
	 * qos without vlan), and the VLAN message carries both. */
	if ((s->has & SRIOV_NET_QOS) && !(s->has & SRIOV_NET_VLAN)) {
		snprintf(why, why_size, "qos needs vlan in the same setting");
		return -EINVAL;
	}
	if ((s->has & SRIOV_NET_QOS) && s->qos && !s->vlan) {
		snprintf(why, why_size, "qos needs a VLAN ID other than 0");
		return -EINVAL;
	}
	return 0;
}

bool sriov_net_matches(const struct sriov_net_vf *w, const struct sriov_net_vf *h)
{
	if ((w->has & SRIOV_NET_MAC) && memcmp(w->mac, h->mac, 6) != 0)
		return false;
	if ((w->has & SRIOV_NET_VLAN) && w->vlan != h->vlan)
		return false;
	if ((w->has & SRIOV_NET_QOS) && w->qos != h->qos)
		return false;
	if ((w->has & SRIOV_NET_TRUST) && w->trust != h->trust)
		return false;
	if ((w->has & SRIOV_NET_SPOOFCHK) && w->spoofchk != h->spoofchk)
		return false;
	if ((w->has & SRIOV_NET_LINK) && w->link_state != h->link_state)
		return false;
	if ((w->has & SRIOV_NET_RATE) && w->max_tx_rate != h->max_tx_rate)
		return false;
	return true;
}

/* ---- messages ------------------------------------------------------------ */

static struct nlmsghdr *link_header(void *buf, uint16_t type, uint16_t flags,
				    int ifindex, uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	return nlh;
}

int sriov_net_build_setlink(void *buf, size_t size, int ifindex, uint32_t seq,
			    const struct sriov_net_vf *s)
{
	/* The largest request (every attribute) is well under 512 bytes. */
	if (size < 512)
		return -ENOSPC;
	memset(buf, 0, 512);
	struct nlmsghdr *nlh = link_header(buf, RTM_SETLINK, NLM_F_ACK, ifindex, seq);
	struct nlattr *list = mnl_attr_nest_start(nlh, IFLA_VFINFO_LIST);
	struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_VF_INFO);
	if (s->has & SRIOV_NET_MAC) {
		struct ifla_vf_mac m = { .vf = s->vf };
		memcpy(m.mac, s->mac, 6);
		mnl_attr_put(nlh, IFLA_VF_MAC, sizeof(m), &m);
	}
	if (s->has & (SRIOV_NET_VLAN | SRIOV_NET_QOS)) {
		struct ifla_vf_vlan v = { .vf = s->vf, .vlan = s->vlan, .qos = s->qos };
		mnl_attr_put(nlh, IFLA_VF_VLAN, sizeof(v), &v);
	}
	if (s->has & SRIOV_NET_TRUST) {
		struct ifla_vf_trust t = { .vf = s->vf, .setting = s->trust };
		mnl_attr_put(nlh, IFLA_VF_TRUST, sizeof(t), &t);
	}
	if (s->has & SRIOV_NET_SPOOFCHK) {
		struct ifla_vf_spoofchk c = { .vf = s->vf, .setting = s->spoofchk };
		mnl_attr_put(nlh, IFLA_VF_SPOOFCHK, sizeof(c), &c);
	}
	if (s->has & SRIOV_NET_LINK) {
		struct ifla_vf_link_state l = { .vf = s->vf, .link_state = s->link_state };
		mnl_attr_put(nlh, IFLA_VF_LINK_STATE, sizeof(l), &l);
	}
	if (s->has & SRIOV_NET_RATE) {
		/* IFLA_VF_RATE carries min and max; passvm sets the max
		 * (what `ip link ... vf N max_tx_rate` does) and no minimum. */
		struct ifla_vf_rate r = { .vf = s->vf, .min_tx_rate = 0,
					  .max_tx_rate = s->max_tx_rate };
		mnl_attr_put(nlh, IFLA_VF_RATE, sizeof(r), &r);
	}
	mnl_attr_nest_end(nlh, info);
	mnl_attr_nest_end(nlh, list);
	return (int)nlh->nlmsg_len;
}

int sriov_net_build_getlink(void *buf, size_t size, int ifindex, uint32_t seq)
{
	if (size < 512)
		return -ENOSPC;
	memset(buf, 0, 512);
	struct nlmsghdr *nlh = link_header(buf, RTM_GETLINK, 0, ifindex, seq);
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_VF);
	return (int)nlh->nlmsg_len;
}

/* Copies an attribute's payload when it has at least `size` bytes. */
static bool attr_get(const struct nlattr *a, void *out, size_t size)
{
	if (mnl_attr_get_payload_len(a) < size)
		return false;
	memcpy(out, mnl_attr_get_payload(a), size);
	return true;
}

static void parse_vf_info(const struct nlattr *info, struct sriov_net_vf *vf)
{
	const struct nlattr *a;
	memset(vf, 0, sizeof(*vf));
	mnl_attr_for_each_nested(a, info) {
		switch (mnl_attr_get_type(a)) {
		case IFLA_VF_MAC: {
			struct ifla_vf_mac m;
			if (attr_get(a, &m, sizeof(m))) {
				vf->vf = m.vf;
				memcpy(vf->mac, m.mac, 6);
				vf->has |= SRIOV_NET_MAC;
			}
			break;
		}
		case IFLA_VF_VLAN: {
			struct ifla_vf_vlan v;
			if (attr_get(a, &v, sizeof(v))) {
				vf->vlan = (uint16_t)v.vlan;
				vf->qos = (uint8_t)v.qos;
				vf->has |= SRIOV_NET_VLAN | SRIOV_NET_QOS;
			}
			break;
		}
		case IFLA_VF_TRUST: {
			struct ifla_vf_trust t;
			if (attr_get(a, &t, sizeof(t))) {
				vf->trust = t.setting == 1;
				vf->has |= SRIOV_NET_TRUST;
			}
			break;
		}
		case IFLA_VF_SPOOFCHK: {
			struct ifla_vf_spoofchk c;
			if (attr_get(a, &c, sizeof(c))) {
				vf->spoofchk = c.setting == 1;
				vf->has |= SRIOV_NET_SPOOFCHK;
			}
			break;
		}
		case IFLA_VF_LINK_STATE: {
			struct ifla_vf_link_state l;
			if (attr_get(a, &l, sizeof(l))) {
				vf->link_state = l.link_state;
				vf->has |= SRIOV_NET_LINK;
			}
			break;
		}
		case IFLA_VF_RATE: {
			struct ifla_vf_rate r;
			if (attr_get(a, &r, sizeof(r))) {
				vf->max_tx_rate = r.max_tx_rate;
				vf->has |= SRIOV_NET_RATE;
			}
			break;
		}
		}
	}
}

int sriov_net_parse_link(const void *msg, size_t len, struct sriov_net_vf *out,
			 size_t max, size_t *count)
{
	const struct nlmsghdr *nlh = msg;
	*count = 0;
	int r = rtnl_link_reply(msg, len);
	if (r < 0)
		return r;
	const struct nlattr *a;
	mnl_attr_for_each(a, nlh, sizeof(struct ifinfomsg)) {
		if (mnl_attr_get_type(a) != IFLA_VFINFO_LIST)
			continue;
		const struct nlattr *info;
		mnl_attr_for_each_nested(info, a) {
			if (mnl_attr_get_type(info) != IFLA_VF_INFO || *count >= max)
				continue;
			parse_vf_info(info, &out[*count]);
			(*count)++;
		}
	}
	return 0;
}

/* ---- the live host -------------------------------------------------------- */

static int pf_ifindex(const char *pf_netdev)
{
	unsigned idx = if_nametoindex(pf_netdev);
	return idx ? (int)idx : -ENODEV;
}

int sriov_net_query(const char *pf_netdev, struct sriov_net_vf *out, size_t max,
		    size_t *count)
{
	char req[512];
	size_t got = 0;
	int ifindex = pf_ifindex(pf_netdev);
	*count = 0;
	if (ifindex < 0)
		return ifindex;
	int len = sriov_net_build_getlink(req, sizeof(req), ifindex, (uint32_t)time(NULL));
	if (len < 0)
		return len;
	char *reply = malloc(MNL_SOCKET_BUFFER_SIZE * 4);
	if (!reply)
		return -ENOMEM;
	int r = rtnl_transact(req, (size_t)len, reply, MNL_SOCKET_BUFFER_SIZE * 4, &got);
	if (r == 0)
		r = sriov_net_parse_link(reply, got, out, max, count);
	free(reply);
	return r;
}

int sriov_net_set(const char *pf_netdev, const struct sriov_net_vf *s)
{
	char req[512];
	int ifindex = pf_ifindex(pf_netdev);
	if (ifindex < 0)
		return ifindex;
	int len = sriov_net_build_setlink(req, sizeof(req), ifindex, (uint32_t)time(NULL), s);
	if (len < 0)
		return len;
	return rtnl_transact_ack(req, (size_t)len);
}
