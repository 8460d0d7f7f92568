// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The console ring: the last VMM_CONSOLE_RING_BYTES the guest printed, so a
 * `passvm terminal` that attaches late first sees the recent past (the
 * login prompt, the panic) and only then live output. The whole history
 * goes to the console log file as well (control.c); the ring is what
 * fits in memory. Not locked: only the control thread uses it.
 */
#include "control.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int vmm_console_ring_init(struct vmm_console_ring *ring, size_t cap)
{
	*ring = (struct vmm_console_ring){ 0 };
	if (cap == 0)
		return -EINVAL;
	ring->buf = malloc(cap);
	if (!ring->buf)
		return -ENOMEM;
	ring->cap = cap;
	return 0;
}

void vmm_console_ring_free(struct vmm_console_ring *ring)
{
	free(ring->buf);
	*ring = (struct vmm_console_ring){ 0 };
}

void vmm_console_ring_write(struct vmm_console_ring *ring, const uint8_t *data, size_t len)
{
	if (len > ring->cap) {
		/* Only the newest cap bytes can stay. */
		ring->total += len - ring->cap;
		data += len - ring->cap;
		len = ring->cap;
	}
	size_t at = (size_t)(ring->total % ring->cap);
	size_t first = ring->cap - at < len ? ring->cap - at : len;
	memcpy(ring->buf + at, data, first);
	memcpy(ring->buf, data + first, len - first);
	ring->total += len;
}

size_t vmm_console_ring_read(const struct vmm_console_ring *ring, uint8_t *out, size_t size)
{
	size_t held = ring->total < ring->cap ? (size_t)ring->total : ring->cap;
	size_t n = held < size ? held : size;
	if (n == 0)
		return 0;
	/* The newest n bytes end at total. */
	uint64_t start = ring->total - n;
	size_t at = (size_t)(start % ring->cap);
	size_t first = ring->cap - at < n ? ring->cap - at : n;
	memcpy(out, ring->buf + at, first);
	memcpy(out + first, ring->buf, n - first);
	return n;
}
