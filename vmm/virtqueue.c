// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Split virtqueues (virtio 1.2, 2.7), device side. Everything in the rings
 * is written by the guest, possibly while we read it, so: each descriptor
 * is copied once before it is checked and used; every index is reduced or
 * checked against the table it indexes; every buffer goes through
 * vmm_gpa_to_host, which checks [addr, addr + len) against guest RAM without
 * overflowing; a chain may not visit more descriptors than its table has
 * (a loop), and nested indirect tables are refused (2.7.5.3.1).
 *
 * Memory ordering (2.7.13): read avail->idx with acquire before the ring
 * entries it covers; write used entries before used->idx (release); a full
 * fence between publishing used->idx / avail_event and reading the
 * driver's used_event / avail->idx, as Linux's virtio_ring does on its side.
 */
#include "virtio.h"

#include <errno.h>
#include <string.h>

#define RING_HDR 4  /* flags + idx */

static uint16_t load16(const void *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static void store16(void *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

static uint16_t avail_idx_acquire(const struct virtq *q)
{
	return __atomic_load_n(&q->avail[1], __ATOMIC_ACQUIRE);
}

int virtq_init(struct virtq *q, const struct vmm_guest_memory *mem, uint16_t size,
	       uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa,
	       bool event_idx, bool indirect)
{
	memset(q, 0, sizeof(*q));
	q->mem = mem;
	if (size == 0 || (size & (size - 1)) || size > VIRTQ_SIZE_MAX) {
		q->error = "queue size is not a power of two from 1 to 32768";
		return -EINVAL;
	}
	if ((desc_gpa & 15) || (avail_gpa & 1) || (used_gpa & 3)) {
		q->error = "ring address misaligned";
		return -EINVAL;
	}
	/* Sizes with the event index words (2.7.6, 2.7.8): they exist in the
	 * layout whether or not EVENT_IDX is negotiated. */
	uint64_t desc_bytes = 16ULL * size;
	uint64_t avail_bytes = RING_HDR + 2ULL * size + 2;
	uint64_t used_bytes = RING_HDR + 8ULL * size + 2;
	q->desc = vmm_gpa_to_host(mem, desc_gpa, desc_bytes);
	q->avail = vmm_gpa_to_host(mem, avail_gpa, avail_bytes);
	q->used = vmm_gpa_to_host(mem, used_gpa, used_bytes);
	if (!q->desc || !q->avail || !q->used) {
		q->error = "ring outside guest RAM";
		return -EINVAL;
	}
	q->size = size;
	q->event_idx = event_idx;
	q->indirect = indirect;
	/* Both indexes start at 0 after a reset (2.7.6, 2.7.8); the used ring
	 * is the device's to initialise. */
	q->last_avail = 0;
	q->used_idx = 0;
	q->signalled_used = 0;
	store16(q->used, 0);
	store16(q->used + 2, 0);
	return 0;
}

static int bad(struct virtq *q, const char *why)
{
	q->error = why;
	return -EBADMSG;
}

static int add_buffer(struct virtq *q, struct virtq_chain *c, const struct virtq_desc *d)
{
	unsigned n = c->n_out + c->n_in;
	if (n >= VIRTQ_CHAIN_MAX)
		return bad(q, "descriptor chain longer than passvm's limit");
	void *host = vmm_gpa_to_host(q->mem, d->addr, d->len);
	if (!host)
		return bad(q, "buffer outside guest RAM");
	if (d->flags & VIRTQ_DESC_F_WRITE) {
		c->n_in++;
		c->in_bytes += d->len;
	} else {
		if (c->n_in)
			return bad(q, "device-readable buffer after a writable one");
		c->n_out++;
		c->out_bytes += d->len;
	}
	c->iov[n] = (struct iovec){ .iov_base = host, .iov_len = d->len };
	return 0;
}

/* Walks the chain starting at head; table/count switch to an indirect
 * table at most once. `steps` bounds the walk by the table's size, so a
 * chain whose next pointers loop ends as an error, not a hang. */
static int walk(struct virtq *q, struct virtq_chain *c, uint16_t head)
{
	const uint8_t *table = (const uint8_t *)q->desc;
	uint32_t count = q->size, steps = 0, i = head;
	bool in_indirect = false;

	c->head = head;
	c->n_out = c->n_in = 0;
	c->out_bytes = c->in_bytes = 0;
	for (;;) {
		if (i >= count)
			return bad(q, "descriptor index out of range");
		if (++steps > count)
			return bad(q, "descriptor chain loops");
		struct virtq_desc d;
		memcpy(&d, table + 16ULL * i, sizeof(d));
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			if (!q->indirect)
				return bad(q, "indirect descriptor without INDIRECT_DESC");
			if (in_indirect)
				return bad(q, "indirect descriptor inside an indirect table");
			if (d.flags & VIRTQ_DESC_F_NEXT)
				return bad(q, "indirect descriptor with NEXT set");
			if (d.len == 0 || d.len % 16 || d.len / 16 > VIRTQ_CHAIN_MAX)
				return bad(q, "indirect table length invalid");
			table = vmm_gpa_to_host(q->mem, d.addr, d.len);
			if (!table)
				return bad(q, "indirect table outside guest RAM");
			count = d.len / 16;
			steps = 0;
			i = 0;
			in_indirect = true;
			continue;
		}
		int r = add_buffer(q, c, &d);
		if (r < 0)
			return r;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		i = d.next;
	}
}

int virtq_pop(struct virtq *q, struct virtq_chain *chain)
{
	if (!q->size)
		return bad(q, "queue not set up");
	uint16_t avail = avail_idx_acquire(q);
	if (avail == q->last_avail)
		return 0;
	/* The driver cannot have more chains outstanding than entries. */
	if ((uint16_t)(avail - q->last_avail) > q->size)
		return bad(q, "available index ran ahead of the ring");
	uint16_t head = load16(&q->avail[2 + q->last_avail % q->size]);
	q->last_avail++;
	if (head >= q->size)
		return bad(q, "head descriptor index out of range");
	int r = walk(q, chain, head);
	return r < 0 ? r : 1;
}

void virtq_push(struct virtq *q, uint16_t head, uint32_t len)
{
	uint8_t *elem = q->used + RING_HDR + 8ULL * (q->used_idx % q->size);
	uint32_t id = head;
	memcpy(elem, &id, 4);
	memcpy(elem + 4, &len, 4);
	q->used_idx++;
	__atomic_store_n((uint16_t *)(q->used + 2), q->used_idx, __ATOMIC_RELEASE);
}

/* 2.7.7.2: interrupt if used_event lies in (old, new]. */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

bool virtq_should_interrupt(struct virtq *q)
{
	if (!q->size)
		return false;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	uint16_t old_idx = q->signalled_used, new_idx = q->used_idx;
	if (old_idx == new_idx)
		return false;
	q->signalled_used = new_idx;
	if (q->event_idx)
		return need_event(load16(&q->avail[2 + q->size]), new_idx, old_idx);
	return !(load16(&q->avail[0]) & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

void virtq_disable_notify(struct virtq *q)
{
	/* With EVENT_IDX the driver notifies only when it passes avail_event,
	 * which we leave behind while draining: nothing to write. */
	if (q->size && !q->event_idx)
		store16(q->used, VIRTQ_USED_F_NO_NOTIFY);
}

bool virtq_enable_notify(struct virtq *q)
{
	if (!q->size)
		return false;
	if (q->event_idx)
		store16(q->used + RING_HDR + 8ULL * q->size, q->last_avail);
	else
		store16(q->used, 0);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return avail_idx_acquire(q) != q->last_avail;
}
