// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz target: the split-virtqueue walker (vmm/virtqueue.c) against rings a
 * hostile guest writes. Input: [log2 queue size][flags][bytes copied to
 * guest RAM at 0: descriptor table at 0, available ring at 0x4000, used
 * ring at 0x6000, anything else (indirect tables, buffers) wherever the
 * descriptors point]. Every chain the walker returns must lie in guest RAM
 * and add up; the walk must end (libFuzzer's timeout catches a hang).
 */
#include "virtio.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define WINDOW 0x10000

static struct vmm_guest_memory mem;

static void check_chain(const struct virtq_chain *c)
{
	uint64_t out = 0, in = 0;
	if (c->n_out + c->n_in > VIRTQ_CHAIN_MAX)
		abort();
	for (unsigned i = 0; i < c->n_out + c->n_in; i++) {
		const uint8_t *p = c->iov[i].iov_base;
		if (p < mem.host || p + c->iov[i].iov_len > mem.host + mem.size_bytes)
			abort();
		if (i < c->n_out)
			out += c->iov[i].iov_len;
		else
			in += c->iov[i].iov_len;
	}
	if (out != c->out_bytes || in != c->in_bytes)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!mem.host) {
		struct vmm_memory_map map;
		if (vmm_memory_map_build(&map, 16ULL << 20, 40) || vmm_guest_memory_alloc(&mem, &map, false))
			abort();
	}
	if (size < 2)
		return 0;
	uint16_t qsize = (uint16_t)(1u << (data[0] % 10)); /* 1..512; 512 overlaps: fine */
	if (data[0] & 0x80)
		qsize = (uint16_t)(data[0] & 0x7f);             /* 0 and non-powers of two */
	bool event_idx = data[1] & 1, indirect = data[1] & 2;
	size -= 2;
	data += 2;
	memset(mem.host, 0, WINDOW);
	memcpy(mem.host, data, size < WINDOW ? size : WINDOW);
	struct virtq q;
	if (virtq_init(&q, &mem, qsize, 0, 0x4000, 0x6000, event_idx, indirect) < 0)
		return 0;
	static struct virtq_chain c;
	for (int i = 0; i < 64; i++) {
		int r = virtq_pop(&q, &c);
		if (r <= 0)
			break;
		check_chain(&c);
		virtq_push(&q, c.head, (uint32_t)c.in_bytes);
		(void)virtq_should_interrupt(&q);
	}
	(void)virtq_enable_notify(&q);
	virtq_disable_notify(&q);
	return 0;
}
