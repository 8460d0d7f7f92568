/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmm/virtio_net: the virtio-net device (virtio 1.2, section 5.1) on a tap.
 *
 * virtio_net_proto.c is the pure part, every rule about what the guest
 * wrote, separate so unit tests and the fuzz target (tests/fuzz/
 * fuzz_virtio_net.c) drive it without a VM: which features to offer for a
 * tap, which tap offloads follow from what the guest negotiated, the TX
 * header check, the control-queue command parser. virtio_net.c is the
 * device on the virtio transport (vmm/virtio.h).
 */
#ifndef PASSVM_VMM_VIRTIO_NET_H
#define PASSVM_VMM_VIRTIO_NET_H

#include <linux/virtio_net.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* Frames the tap takes and gives, header excluded: a 64 KiB GSO frame plus
 * its Ethernet and VLAN headers, rounded up (tun.c takes any size up to
 * the skb limit; the Linux driver sends GSO up to 64 KiB). */
#define VMM_VIRTIO_NET_MAX_FRAME (65536 + 256)
#define VMM_VIRTIO_NET_HDR_BYTES 12  /* struct virtio_net_hdr_v1 */

#define VMM_BIT(n) (1ULL << (n))

/* The features offered for a tap that takes the TUN_F_* offloads
 * `tap_offloads` with `queue_pairs` queue pairs (VERSION_1 and EVENT_IDX are
 * the transport's). The GUEST_* offloads (the tap may hand the guest
 * unchecksummed or GSO frames) are offered only when the tap can be told to;
 * the HOST_* ones always (the tap takes such frames from any writer:
 * virtio_net_hdr_to_skb in tun_get_user). */
uint64_t vmm_virtio_net_features(unsigned tap_offloads, unsigned queue_pairs);
/* The TUN_F_* flags for guest offload bits (feature bits GUEST_CSUM,
 * GUEST_TSO4/6, GUEST_ECN, GUEST_UFO: the numbering both the feature word
 * and VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET use). */
unsigned vmm_virtio_net_tap_offloads(uint64_t guest_offload_bits);

/* Why a TX frame was refused; the device counts them. */
enum vmm_virtio_net_tx_error {
	VMM_NET_TX_OK,
	VMM_NET_TX_SHORT,        /* chain shorter than the header */
	VMM_NET_TX_TOO_BIG,      /* frame above VMM_VIRTIO_NET_MAX_FRAME */
	VMM_NET_TX_EMPTY,        /* header but no frame */
	VMM_NET_TX_FLAGS,        /* flags other than NEEDS_CSUM (DATA_VALID, RSC_INFO...) */
	VMM_NET_TX_CSUM,         /* NEEDS_CSUM unnegotiated, or the checksum field past the frame */
	VMM_NET_TX_GSO,          /* a GSO type not negotiated, unknown, or without NEEDS_CSUM/size */
	VMM_NET_TX_IOV,          /* more pieces than the caller has room for */
};
const char *vmm_virtio_net_tx_error_name(enum vmm_virtio_net_tx_error e);

/* A TX chain's readable buffers in order (what the virtqueue walker
 * gives): copies the header out of the first 12 bytes (it may span
 * buffers; a copy also means the guest cannot change it after the check),
 * checks it against the negotiated features, and fills frame[] with the
 * rest (up to max_frame_iov pieces). */
enum vmm_virtio_net_tx_error
vmm_virtio_net_tx_parse(const struct iovec *iov, unsigned n, uint64_t features,
			struct virtio_net_hdr_v1 *hdr, struct iovec *frame,
			unsigned max_frame_iov, unsigned *frame_iov, size_t *frame_bytes);

/* A control-queue command (5.1.6.5): class, command, its data. */
struct vmm_virtio_net_ctrl {
	uint8_t cls, cmd;            /* class (a C++ keyword) and command */
	uint16_t queue_pairs;     /* MQ_VQ_PAIRS_SET */
	uint64_t offloads;        /* GUEST_OFFLOADS_SET */
};
/* Parses the readable part of a control chain. Returns 0, or -EINVAL for a
 * command shorter than its data, -EOPNOTSUPP for one passvm does not do
 * (the device answers VIRTIO_NET_ERR to both). */
int vmm_virtio_net_ctrl_parse(const struct iovec *iov, unsigned n,
			      struct vmm_virtio_net_ctrl *out);
/* Checks a parsed command against the device's state: queue pairs within
 * 1..max_pairs, offloads a subset of the negotiated guest offloads. */
int vmm_virtio_net_ctrl_check(const struct vmm_virtio_net_ctrl *c, uint64_t features,
			      unsigned max_pairs);

/* Copies up to len bytes at offset off of an iovec array into out;
 * returns how many were there. */
size_t vmm_iov_copy_out(const struct iovec *iov, unsigned n, size_t off, void *out, size_t len);

/* ---- the device (virtio_net.c) ------------------------------------------ */
struct vmm_vm;
struct vmm_net_host;
struct vmm_virtio_net;
struct virtio_pci_env;
struct virtio_device;
/* A virtio-net PCI function ("net<index>" in logs and thread names) on
 * the VM's bus for an opened host side, which the device then owns (it is
 * closed with the device; on failure it stays the caller's). */
int vmm_virtio_net_create(struct vmm_virtio_net **out, struct vmm_vm *vm,
			  struct vmm_net_host *host, unsigned index);
/* The same on any transport environment (tests: no KVM). */
int vmm_virtio_net_create_env(struct vmm_virtio_net **out, const struct virtio_pci_env *env,
			      struct vmm_net_host *host, unsigned index);
void vmm_virtio_net_destroy(struct vmm_virtio_net *dev);

struct vmm_virtio_net_counters {
	unsigned long tx_frames, rx_frames;
	unsigned long tx_bad;       /* dropped: the guest broke a header rule */
	unsigned long tx_errors;    /* the tap refused the frame */
	unsigned long rx_dropped;   /* larger than the guest's buffers, or a read error */
};
void vmm_virtio_net_stats(const struct vmm_virtio_net *dev, struct vmm_virtio_net_counters *c);
struct virtio_device *vmm_virtio_net_vdev(struct vmm_virtio_net *dev);

#endif
