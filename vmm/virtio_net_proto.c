// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio-net's rules about guest data, pure: features for a tap, TX
 * header checks, control commands. References are to virtio 1.2
 * (section 5.1.6.2 "Packet Transmission", 5.1.6.5 "Control Virtqueue").
 *
 * A header that breaks a driver requirement of 5.1.6.2.1 (flags the
 * driver must not set, a GSO type it did not negotiate, a checksum field
 * outside the frame) costs the guest that frame only: the device counts
 * and drops it, as the tap would refuse it anyway (tun_get_user ->
 * virtio_net_hdr_to_skb: -EINVAL). What breaks the ring's own rules (a
 * chain too short, too long, writable buffers in TX) is the walker's and
 * the device's business: it marks the device broken.
 */
#include "virtio_net.h"
#include "common.h"

#include <endian.h>
#include <errno.h>
#include <linux/if_tun.h>
#include <string.h>

static const struct {
	unsigned feature;
	unsigned tun;
} guest_offloads[] = {
	{ VIRTIO_NET_F_GUEST_CSUM, TUN_F_CSUM },
	{ VIRTIO_NET_F_GUEST_TSO4, TUN_F_TSO4 },
	{ VIRTIO_NET_F_GUEST_TSO6, TUN_F_TSO6 },
	{ VIRTIO_NET_F_GUEST_ECN, TUN_F_TSO_ECN },
	{ VIRTIO_NET_F_GUEST_UFO, TUN_F_UFO },
};

#define GUEST_OFFLOAD_MASK                                                          \
	(VMM_BIT(VIRTIO_NET_F_GUEST_CSUM) | VMM_BIT(VIRTIO_NET_F_GUEST_TSO4) |      \
	 VMM_BIT(VIRTIO_NET_F_GUEST_TSO6) | VMM_BIT(VIRTIO_NET_F_GUEST_ECN) |       \
	 VMM_BIT(VIRTIO_NET_F_GUEST_UFO))

uint64_t vmm_virtio_net_features(unsigned tap_offloads, unsigned queue_pairs)
{
	uint64_t f = VMM_BIT(VIRTIO_NET_F_MAC) | VMM_BIT(VIRTIO_NET_F_STATUS) |
		     VMM_BIT(VIRTIO_NET_F_MRG_RXBUF) | VMM_BIT(VIRTIO_NET_F_CTRL_VQ) |
		     VMM_BIT(VIRTIO_NET_F_CSUM) | VMM_BIT(VIRTIO_NET_F_HOST_TSO4) |
		     VMM_BIT(VIRTIO_NET_F_HOST_TSO6) | VMM_BIT(VIRTIO_NET_F_HOST_ECN) |
		     VMM_BIT(VIRTIO_NET_F_HOST_UFO);
	for (size_t i = 0; i < ARRAY_SIZE(guest_offloads); i++)
		if (tap_offloads & guest_offloads[i].tun)
			f |= VMM_BIT(guest_offloads[i].feature);
	/* GUEST_TSO*, ECN and UFO depend on GUEST_CSUM (5.1.3.1): without the
	 * tap's checksum offload, none of them. */
	if (!(f & VMM_BIT(VIRTIO_NET_F_GUEST_CSUM)))
		f &= ~GUEST_OFFLOAD_MASK;
	if (f & VMM_BIT(VIRTIO_NET_F_GUEST_CSUM))
		f |= VMM_BIT(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS);
	if (queue_pairs > 1)
		f |= VMM_BIT(VIRTIO_NET_F_MQ);
	return f;
}

unsigned vmm_virtio_net_tap_offloads(uint64_t bits)
{
	unsigned tun = 0;
	for (size_t i = 0; i < ARRAY_SIZE(guest_offloads); i++)
		if (bits & VMM_BIT(guest_offloads[i].feature))
			tun |= guest_offloads[i].tun;
	/* The tap refuses TSO/UFO without checksum offload, and ECN without
	 * TSO (tun.c set_offload); a guest may negotiate such a set. */
	if (!(tun & TUN_F_CSUM))
		return 0;
	if (!(tun & (TUN_F_TSO4 | TUN_F_TSO6)))
		tun &= ~(unsigned)TUN_F_TSO_ECN;
	return tun;
}

const char *vmm_virtio_net_tx_error_name(enum vmm_virtio_net_tx_error e)
{
	static const char *const names[] = {
		[VMM_NET_TX_OK] = "ok",
		[VMM_NET_TX_SHORT] = "chain shorter than the virtio-net header",
		[VMM_NET_TX_TOO_BIG] = "frame larger than 64 KiB",
		[VMM_NET_TX_EMPTY] = "header without a frame",
		[VMM_NET_TX_FLAGS] = "header flags a driver must not set",
		[VMM_NET_TX_CSUM] = "checksum request not negotiated or outside the frame",
		[VMM_NET_TX_GSO] = "segmentation request not negotiated or malformed",
		[VMM_NET_TX_IOV] = "frame in too many pieces",
	};
	return (unsigned)e < ARRAY_SIZE(names) ? names[e] : "?";
}

size_t vmm_iov_copy_out(const struct iovec *iov, unsigned n, size_t off, void *out, size_t len)
{
	size_t done = 0;
	for (unsigned i = 0; i < n && done < len; i++) {
		size_t l = iov[i].iov_len;
		if (off >= l) {
			off -= l;
			continue;
		}
		size_t take = l - off < len - done ? l - off : len - done;
		memcpy((uint8_t *)out + done, (const uint8_t *)iov[i].iov_base + off, take);
		done += take;
		off = 0;
	}
	return done;
}

static enum vmm_virtio_net_tx_error check_hdr(const struct virtio_net_hdr_v1 *h,
					      size_t frame, uint64_t features)
{
	if (h->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		return VMM_NET_TX_FLAGS;
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		/* The 16-bit checksum field at csum_start + csum_offset
		 * lies inside the frame. */
		uint32_t start = le16toh(h->csum_start), off = le16toh(h->csum_offset);
		if (!(features & VMM_BIT(VIRTIO_NET_F_CSUM)) || (uint64_t)start + off + 2 > frame)
			return VMM_NET_TX_CSUM;
	}
	uint8_t gso = h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	if (gso == VIRTIO_NET_HDR_GSO_NONE)
		return h->gso_type == VIRTIO_NET_HDR_GSO_NONE ? VMM_NET_TX_OK : VMM_NET_TX_GSO;
	unsigned need = gso == VIRTIO_NET_HDR_GSO_TCPV4 ? VIRTIO_NET_F_HOST_TSO4
		      : gso == VIRTIO_NET_HDR_GSO_TCPV6 ? VIRTIO_NET_F_HOST_TSO6
		      : gso == VIRTIO_NET_HDR_GSO_UDP ? VIRTIO_NET_F_HOST_UFO : 0;
	if (!need || !(features & VMM_BIT(need)))
		return VMM_NET_TX_GSO;
	if ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) &&
	    (gso == VIRTIO_NET_HDR_GSO_UDP || !(features & VMM_BIT(VIRTIO_NET_F_HOST_ECN))))
		return VMM_NET_TX_GSO;
	/* "If gso_type differs from VIRTIO_NET_HDR_GSO_NONE, then the driver
	 * MUST also set the VIRTIO_NET_HDR_F_NEEDS_CSUM bit in flags and MUST
	 * set gso_size to indicate the desired MSS." */
	if (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) || le16toh(h->gso_size) == 0 ||
	    le16toh(h->hdr_len) > frame)
		return VMM_NET_TX_GSO;
	return VMM_NET_TX_OK;
}

enum vmm_virtio_net_tx_error
vmm_virtio_net_tx_parse(const struct iovec *iov, unsigned n, uint64_t features,
			struct virtio_net_hdr_v1 *hdr, struct iovec *frame,
			unsigned max_frame_iov, unsigned *frame_iov, size_t *frame_bytes)
{
	*frame_iov = 0;
	*frame_bytes = 0;
	memset(hdr, 0, sizeof(*hdr));
	if (vmm_iov_copy_out(iov, n, 0, hdr, sizeof(*hdr)) < sizeof(*hdr))
		return VMM_NET_TX_SHORT;
	size_t skip = sizeof(*hdr), total = 0;
	unsigned k = 0;
	for (unsigned i = 0; i < n; i++) {
		size_t l = iov[i].iov_len;
		if (skip >= l) {
			skip -= l;
			continue;
		}
		if (l - skip > VMM_VIRTIO_NET_MAX_FRAME - total)
			return VMM_NET_TX_TOO_BIG;
		if (k == max_frame_iov)
			return VMM_NET_TX_IOV;
		frame[k].iov_base = (uint8_t *)iov[i].iov_base + skip;
		frame[k].iov_len = l - skip;
		total += l - skip;
		skip = 0;
		k++;
	}
	if (total == 0)
		return VMM_NET_TX_EMPTY;
	enum vmm_virtio_net_tx_error e = check_hdr(hdr, total, features);
	if (e != VMM_NET_TX_OK)
		return e;
	*frame_iov = k;
	*frame_bytes = total;
	return VMM_NET_TX_OK;
}

int vmm_virtio_net_ctrl_parse(const struct iovec *iov, unsigned n,
			      struct vmm_virtio_net_ctrl *out)
{
	uint8_t head[2];
	memset(out, 0, sizeof(*out));
	if (vmm_iov_copy_out(iov, n, 0, head, 2) < 2)
		return -EINVAL;
	out->cls = head[0];
	out->cmd = head[1];
	if (out->cls == VIRTIO_NET_CTRL_MQ && out->cmd == VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET) {
		uint16_t v;
		if (vmm_iov_copy_out(iov, n, 2, &v, sizeof(v)) < sizeof(v))
			return -EINVAL;
		out->queue_pairs = le16toh(v);
		return 0;
	}
	if (out->cls == VIRTIO_NET_CTRL_GUEST_OFFLOADS &&
	    out->cmd == VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET) {
		uint64_t v;
		if (vmm_iov_copy_out(iov, n, 2, &v, sizeof(v)) < sizeof(v))
			return -EINVAL;
		out->offloads = le64toh(v);
		return 0;
	}
	/* RX mode, MAC and VLAN filters, announce: features passvm does not
	 * offer, so a driver that sends them is answered VIRTIO_NET_ERR. */
	return -EOPNOTSUPP;
}

int vmm_virtio_net_ctrl_check(const struct vmm_virtio_net_ctrl *c, uint64_t features,
			      unsigned max_pairs)
{
	if (c->cls == VIRTIO_NET_CTRL_MQ) {
		/* 5.1.6.5.6.1: only with VIRTIO_NET_F_MQ, 1..max_virtqueue_pairs. */
		if (!(features & VMM_BIT(VIRTIO_NET_F_MQ)) || c->queue_pairs < 1 ||
		    c->queue_pairs > max_pairs)
			return -EINVAL;
		return 0;
	}
	if (c->cls == VIRTIO_NET_CTRL_GUEST_OFFLOADS) {
		/* 5.1.6.5.6.2: only offloads negotiated at feature time. */
		if (!(features & VMM_BIT(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS)) ||
		    (c->offloads & ~(features & GUEST_OFFLOAD_MASK)))
			return -EINVAL;
		return 0;
	}
	return -EOPNOTSUPP;
}
