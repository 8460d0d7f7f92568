// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz target: the virtio-blk request parser (vmm/virtio_blk.c) on chains
 * the virtqueue walker takes from guest-written rings (same input layout
 * as fuzz_virtqueue, plus an 8-byte disk capacity first). A parsed request
 * must stay inside the chain's buffers and the disk.
 */
#include "virtio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define WINDOW 0x10000

static struct vmm_guest_memory mem;

static void check_req(const struct virtq_chain *c, const struct virtio_blk_req *r,
		      uint64_t capacity)
{
	uint64_t sum = 0;
	for (unsigned i = 0; i < r->data_cnt; i++) {
		const uint8_t *p = r->data[i].iov_base;
		if (p < mem.host || p + r->data[i].iov_len > mem.host + mem.size_bytes)
			abort();
		sum += r->data[i].iov_len;
	}
	if (r->data_cnt > c->n_out + c->n_in)
		abort();
	switch (r->kind) {
	case VIRTIO_BLK_REQ_READ:
	case VIRTIO_BLK_REQ_WRITE:
		if (sum != r->data_bytes || r->data_bytes % 512)
			abort();
		/* fall through */
	case VIRTIO_BLK_REQ_DISCARD:
	case VIRTIO_BLK_REQ_WRITE_ZEROES:
		if (r->offset_bytes > capacity || r->data_bytes > capacity - r->offset_bytes)
			abort();
		break;
	case VIRTIO_BLK_REQ_GET_ID:
		if (sum != r->data_bytes || sum > VIRTIO_BLK_SERIAL_MAX)
			abort();
		break;
	default:
		break;
	}
	const uint8_t *st = r->status;
	if (st < mem.host || st >= mem.host + mem.size_bytes)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!mem.host) {
		struct vmm_memory_map map;
		if (vmm_memory_map_build(&map, 16ULL << 20, 40) || vmm_guest_memory_alloc(&mem, &map, false))
			abort();
	}
	if (size < 10)
		return 0;
	uint64_t capacity;
	memcpy(&capacity, data, 8);
	uint16_t qsize = (uint16_t)(1u << (data[8] % 9));
	bool indirect = data[9] & 2;
	size -= 10;
	data += 10;
	memset(mem.host, 0, WINDOW);
	memcpy(mem.host, data, size < WINDOW ? size : WINDOW);
	struct virtq q;
	if (virtq_init(&q, &mem, qsize, 0, 0x4000, 0x6000, false, indirect) < 0)
		return 0;
	static struct virtq_chain c;
	static struct virtio_blk_req req;
	for (int i = 0; i < 32; i++) {
		if (virtq_pop(&q, &c) <= 0)
			break;
		int r = virtio_blk_parse(&c, capacity, &req);
		if (r == 0)
			check_req(&c, &req, capacity);
		else if (r == -EIO && (req.status < mem.host ||
				       req.status >= mem.host + mem.size_bytes))
			abort();   /* an IOERR answer goes to a real status byte */
		else if (r != -EIO && r != -EBADMSG)
			abort();
		virtq_push(&q, c.head, 1);
	}
	return 0;
}
