// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The emulated MSI-X capability (see msix.h). Layout, PCI Local Bus 3.0
 * 6.8.2: capability = ID 0x11, next, Message Control (Table Size - 1 in bits
 * 10:0, Function Mask bit 14, MSI-X Enable bit 15), Table Offset/BIR, PBA
 * Offset/BIR. Each table entry = Message Address, Upper Address, Data,
 * Vector Control (bit 0: mask). The PBA is read-only to the guest.
 */
#include "msix.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CTRL_FUNCTION_MASK 0x4000
#define CTRL_ENABLE 0x8000
#define VECTOR_CTRL_MASK 0x1

enum { E_ADDR_LO, E_ADDR_HI, E_DATA, E_CTRL };

uint32_t vmm_msix_table_bytes(unsigned nr_vectors)
{
	return nr_vectors * VMM_MSIX_ENTRY_BYTES;
}

uint32_t vmm_msix_pba_bytes(unsigned nr_vectors)
{
	return (nr_vectors + 63) / 64 * 8;
}

static bool ranges_overlap(uint32_t a, uint32_t alen, uint32_t b, uint32_t blen)
{
	return a < b + blen && b < a + alen;
}

int vmm_msix_init(struct vmm_msix *msix, struct vmm_pci_device *pdev,
		  unsigned nr_vectors, unsigned bar, uint32_t table_offset,
		  uint32_t pba_offset, const struct vmm_msix_ops *ops, void *ctx)
{
	memset(msix, 0, sizeof(*msix));
	if (nr_vectors == 0 || nr_vectors > VMM_MSIX_MAX_VECTORS || bar >= VMM_PCI_BARS ||
	    (table_offset & 7) || (pba_offset & 7) || !ops || !ops->vector_changed ||
	    ranges_overlap(table_offset, vmm_msix_table_bytes(nr_vectors), pba_offset,
			   vmm_msix_pba_bytes(nr_vectors)))
		return -EINVAL;
	int cap = vmm_pci_device_add_capability(pdev, VMM_MSIX_CAP_ID, VMM_MSIX_CAP_BYTES);
	if (cap < 0)
		return cap;
	msix->table = calloc(nr_vectors, 4 * sizeof(uint32_t));
	msix->pba = calloc((nr_vectors + 63) / 64, sizeof(uint64_t));
	msix->effective_masked = calloc(nr_vectors, sizeof(bool));
	if (!msix->table || !msix->pba || !msix->effective_masked) {
		vmm_msix_destroy(msix);
		return -ENOMEM;
	}
	msix->pdev = pdev;
	msix->nr_vectors = nr_vectors;
	msix->cap = (uint16_t)cap;
	msix->bar = bar;
	msix->table_offset = table_offset;
	msix->pba_offset = pba_offset;
	msix->ops = ops;
	msix->ctx = ctx;
	pthread_mutex_init(&msix->lock, NULL);
	for (unsigned v = 0; v < nr_vectors; v++) {
		msix->table[4 * v + E_CTRL] = VECTOR_CTRL_MASK;
		msix->effective_masked[v] = true;
	}
	uint8_t *c = pdev->config + cap;
	uint16_t ctrl = (uint16_t)(nr_vectors - 1);
	c[2] = (uint8_t)ctrl;
	c[3] = (uint8_t)(ctrl >> 8);
	uint32_t t = table_offset | bar, p = pba_offset | bar;
	for (int i = 0; i < 4; i++) {
		c[4 + i] = (uint8_t)(t >> (8 * i));
		c[8 + i] = (uint8_t)(p >> (8 * i));
	}
	/* Only Enable and Function Mask are writable. */
	pdev->wmask[cap + 3] = (CTRL_ENABLE | CTRL_FUNCTION_MASK) >> 8;
	return 0;
}

void vmm_msix_destroy(struct vmm_msix *msix)
{
	free(msix->table);
	free(msix->pba);
	free(msix->effective_masked);
	if (msix->nr_vectors)
		pthread_mutex_destroy(&msix->lock);
	msix->table = NULL;
	msix->pba = NULL;
	msix->effective_masked = NULL;
	msix->nr_vectors = 0;
}

static uint64_t entry_addr(const struct vmm_msix *msix, unsigned v)
{
	return (uint64_t)msix->table[4 * v + E_ADDR_HI] << 32 | msix->table[4 * v + E_ADDR_LO];
}

static bool compute_masked(const struct vmm_msix *msix, unsigned v)
{
	return !msix->enabled || msix->function_masked ||
	       (msix->table[4 * v + E_CTRL] & VECTOR_CTRL_MASK);
}

static bool pending(const struct vmm_msix *msix, unsigned v)
{
	return msix->pba[v / 64] >> (v % 64) & 1;
}

/* Tells the user about vector v if its effective state changed (or
 * `force`: address/data changed); delivers a pending interrupt on unmask.
 * Caller holds the lock. */
static void update_vector(struct vmm_msix *msix, unsigned v, bool force)
{
	bool masked = compute_masked(msix, v);
	bool was = msix->effective_masked[v];
	if (!force && masked == was)
		return;
	/* Before the callback, so a fire racing with an unmask either sees
	 * the old mask (then takes the lock, waits, and sees it clear) or the
	 * new one. */
	__atomic_store_n(&msix->effective_masked[v], masked, __ATOMIC_RELEASE);
	msix->ops->vector_changed(msix->ctx, v, entry_addr(msix, v),
				  msix->table[4 * v + E_DATA], masked);
	if (!masked && pending(msix, v)) {
		msix->pba[v / 64] &= ~(1ULL << (v % 64));
		if (msix->ops->deliver_pending)
			msix->ops->deliver_pending(msix->ctx, v);
	}
}

void vmm_msix_config_written(struct vmm_msix *msix, uint32_t offset, uint32_t size)
{
	uint32_t ctrl_off = msix->cap + 2u;
	if (!msix->nr_vectors || offset >= ctrl_off + 2 || offset + size <= ctrl_off)
		return;
	uint16_t ctrl = (uint16_t)(msix->pdev->config[ctrl_off] |
				   msix->pdev->config[ctrl_off + 1] << 8);
	pthread_mutex_lock(&msix->lock);
	msix->enabled = ctrl & CTRL_ENABLE;
	msix->function_masked = ctrl & CTRL_FUNCTION_MASK;
	for (unsigned v = 0; v < msix->nr_vectors; v++)
		update_vector(msix, v, false);
	pthread_mutex_unlock(&msix->lock);
}

static void table_write32(struct vmm_msix *msix, uint32_t off, uint32_t value)
{
	unsigned v = off / VMM_MSIX_ENTRY_BYTES, field = (off % VMM_MSIX_ENTRY_BYTES) / 4;
	uint32_t *e = &msix->table[4 * v];
	if (field == E_CTRL)
		value &= VECTOR_CTRL_MASK;   /* the other bits are reserved */
	if (field == E_ADDR_LO)
		value &= ~3U;                /* Message Address is dword aligned */
	if (e[field] == value)
		return;
	e[field] = value;
	/* A new address/data matters only to an unmasked vector; the mask
	 * bit is a change of the effective mask or nothing. */
	update_vector(msix, v, field != E_CTRL && !compute_masked(msix, v));
}

static void put_le(uint8_t *data, uint32_t size, uint64_t v)
{
	for (uint32_t i = 0; i < size; i++)
		data[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *data, uint32_t size)
{
	uint64_t v = 0;
	for (uint32_t i = 0; i < size; i++)
		v |= (uint64_t)data[i] << (8 * i);
	return v;
}

bool vmm_msix_bar_access(struct vmm_msix *msix, uint64_t offset, uint8_t *data,
			 uint32_t size, bool is_write)
{
	uint64_t tlen = vmm_msix_table_bytes(msix->nr_vectors);
	uint64_t plen = vmm_msix_pba_bytes(msix->nr_vectors);
	bool in_table = offset >= msix->table_offset && offset - msix->table_offset < tlen;
	bool in_pba = offset >= msix->pba_offset && offset - msix->pba_offset < plen;
	if (!in_table && !in_pba)
		return false;
	uint64_t base = in_table ? msix->table_offset : msix->pba_offset;
	uint64_t off = offset - base, len = in_table ? tlen : plen;
	if ((size != 4 && size != 8) || (off & (size - 1)) || off + size > len) {
		if (!is_write)
			memset(data, 0xff, size);
		__atomic_fetch_add(&msix->bad_accesses, 1, __ATOMIC_RELAXED);
		return true;
	}
	pthread_mutex_lock(&msix->lock);
	if (in_table && is_write) {
		uint64_t v = get_le(data, size);
		table_write32(msix, (uint32_t)off, (uint32_t)v);
		if (size == 8)
			table_write32(msix, (uint32_t)off + 4, (uint32_t)(v >> 32));
	} else if (in_table) {
		uint64_t v = msix->table[off / 4];
		if (size == 8)
			v |= (uint64_t)msix->table[off / 4 + 1] << 32;
		put_le(data, size, v);
	} else if (!is_write) {
		uint64_t word = msix->pba[off / 8];
		put_le(data, size, size == 8 ? word : word >> (off % 8 * 8));
	}
	pthread_mutex_unlock(&msix->lock);
	return true;
}

bool vmm_msix_fire_allowed(struct vmm_msix *msix, unsigned vector)
{
	if (vector >= msix->nr_vectors)
		return false;
	if (!__atomic_load_n(&msix->effective_masked[vector], __ATOMIC_ACQUIRE))
		return true;
	pthread_mutex_lock(&msix->lock);
	bool masked = msix->effective_masked[vector];
	if (masked)
		msix->pba[vector / 64] |= 1ULL << (vector % 64);
	pthread_mutex_unlock(&msix->lock);
	return !masked;
}

bool vmm_msix_enabled(struct vmm_msix *msix)
{
	pthread_mutex_lock(&msix->lock);
	bool on = msix->enabled;
	pthread_mutex_unlock(&msix->lock);
	return on;
}

bool vmm_msix_vector(struct vmm_msix *msix, unsigned vector, uint64_t *addr,
		     uint32_t *data, bool *masked)
{
	if (vector >= msix->nr_vectors)
		return false;
	pthread_mutex_lock(&msix->lock);
	*addr = entry_addr(msix, vector);
	*data = msix->table[4 * vector + E_DATA];
	*masked = msix->effective_masked[vector];
	pthread_mutex_unlock(&msix->lock);
	return true;
}
