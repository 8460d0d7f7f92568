// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz target: what a guest's virtio-net driver writes, through the device's
 * parsers: a TX chain (the vnet header and the frame, split over buffers of
 * any lengths, against any negotiated features) and a control-queue
 * command. Input: [selector][features 8][cut count][cuts...][payload]; the
 * cuts split the payload into the chain's buffers, as a driver's
 * descriptors would. Checks the parser's promises, not just "no crash":
 * an accepted frame lies inside the chain, its size is what the pieces add
 * up to, and its header passes the rules it was checked against.
 */
#include "virtio_net.h"

#include <assert.h>
#include <stdlib.h>
#include <endian.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_IOV 16
#define VMM_NET_MAX_PAIRS_FOR_FUZZ 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 10)
		return 0;
	uint8_t sel = data[0];
	uint64_t features;
	memcpy(&features, data + 1, 8);
	unsigned cuts = data[9] % MAX_IOV;
	data += 10;
	size -= 10;
	if (size < cuts)
		return 0;
	const uint8_t *cut = data;
	data += cuts;
	size -= cuts;

	/* The payload, copied so ASan sees its exact bounds, cut into pieces. */
	uint8_t *buf = size ? malloc(size) : NULL;
	if (size && !buf)
		return 0;
	if (size)
		memcpy(buf, data, size);
	struct iovec iov[MAX_IOV];
	unsigned n = 0;
	size_t at = 0;
	for (unsigned i = 0; i < cuts && at < size; i++) {
		size_t len = cut[i] % 32;
		if (len > size - at)
			len = size - at;
		iov[n++] = (struct iovec){ buf + at, len };
		at += len;
	}
	if (n < MAX_IOV)
		iov[n++] = (struct iovec){ buf + at, size - at };

	if (sel & 1) {
		struct virtio_net_hdr_v1 hdr;
		struct iovec frame[4];
		unsigned nf;
		size_t bytes;
		enum vmm_virtio_net_tx_error e =
			vmm_virtio_net_tx_parse(iov, n, features, &hdr, frame, 4, &nf, &bytes);
		(void)vmm_virtio_net_tx_error_name(e);
		if (e == VMM_NET_TX_OK) {
			size_t sum = 0;
			for (unsigned i = 0; i < nf; i++) {
				const uint8_t *p = frame[i].iov_base;
				assert(p >= buf + VMM_VIRTIO_NET_HDR_BYTES &&
				       p + frame[i].iov_len <= buf + size);
				sum += frame[i].iov_len;
			}
			assert(sum == bytes && bytes > 0 && bytes <= VMM_VIRTIO_NET_MAX_FRAME);
			assert(bytes + VMM_VIRTIO_NET_HDR_BYTES <= size);
			assert(!(hdr.flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM));
			if (hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
				assert((size_t)le16toh(hdr.csum_start) + le16toh(hdr.csum_offset) + 2 <=
				       bytes);
		}
	} else {
		struct vmm_virtio_net_ctrl c;
		if (vmm_virtio_net_ctrl_parse(iov, n, &c) == 0 &&
		    vmm_virtio_net_ctrl_check(&c, features, VMM_NET_MAX_PAIRS_FOR_FUZZ) == 0) {
			if (c.cls == VIRTIO_NET_CTRL_MQ)
				assert(c.queue_pairs >= 1 &&
				       c.queue_pairs <= VMM_NET_MAX_PAIRS_FOR_FUZZ);
			(void)vmm_virtio_net_tap_offloads(c.offloads);
		}
	}
	(void)vmm_virtio_net_features((unsigned)features, sel >> 4);
	free(buf);
	return 0;
}
