// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * One rtnetlink request on a socket of its own, and its answer. The callers
 * (sriov/'s VF settings, vmm/'s bridge ports, VLANs and macvtaps) build and
 * parse their messages themselves, as pure functions their unit tests
 * check; only this exchange with the kernel is shared. Reference:
 * rtnetlink(7), netlink(7) on NLMSG_ERROR and NLM_F_ACK.
 */
#include "common.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdint.h>
#include <sys/socket.h>

int rtnl_transact(const void *req, size_t len, void *reply, size_t size, size_t *got)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	int r = 0;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_sendto(nl, req, len) < 0) {
		r = -errno;
	} else {
		ssize_t n = mnl_socket_recvfrom(nl, reply, size);
		if (n < 0)
			r = -errno;
		else
			*got = (size_t)n;
	}
	mnl_socket_close(nl);
	return r;
}

int rtnl_link_reply(const void *msg, size_t len)
{
	const struct nlmsghdr *nlh = msg;
	if (len > INT32_MAX || !mnl_nlmsg_ok(nlh, (int)len))
		return -EBADMSG;
	if (nlh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
		if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e))
			return -EBADMSG;
		return e->error < 0 ? e->error : -EBADMSG;
	}
	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(struct ifinfomsg))
		return -EBADMSG;
	return 0;
}

int rtnl_transact_ack(const void *req, size_t len)
{
	char reply[MNL_SOCKET_BUFFER_SIZE];
	size_t got = 0;
	int r = rtnl_transact(req, len, reply, sizeof(reply), &got);
	if (r < 0)
		return r;
	const struct nlmsghdr *nlh = (const void *)reply;
	if (!mnl_nlmsg_ok(nlh, (int)got) || nlh->nlmsg_type != NLMSG_ERROR ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(struct nlmsgerr))
		return -EBADMSG;
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	return e->error > 0 ? -EBADMSG : e->error;
}
