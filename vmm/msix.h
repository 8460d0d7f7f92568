/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmm/msix: an emulated MSI-X capability, vector table and pending bit
 * array for one vmm_pci_device (PCI Local Bus 3.0, 6.8.2; PCIe 4.0, 7.7.2).
 *
 * Generic: the model tracks each vector's address, data and mask bit and the
 * capability's Enable and Function Mask bits, and tells its user through
 * vector_changed() whenever what a vector would deliver changes: a new
 * address/data, or its effective mask (vector mask, or function mask, or
 * MSI-X disabled). The user keeps a KVM MSI route and irqfd in step with it
 * (emulated virtio: its own eventfd per vector; passthrough: VFIO's).
 *
 * An interrupt source asks vmm_msix_fire_allowed() before it signals: while
 * the vector is masked the model records a pending bit instead, and on
 * unmask calls deliver_pending() once for it (PCI 3.0 6.8.3.4).
 *
 * Wiring (both are the user's, the model owns neither):
 *  - config space: call vmm_msix_config_written() from the device's
 *    vmm_pci_device_ops.config_written (it ignores writes elsewhere);
 *  - the BAR: pass accesses inside [table_offset, +16*n) and
 *    [pba_offset, +8*ceil(n/64)) to vmm_msix_bar_access().
 * Guest accesses to table and PBA must be 4 or 8 bytes and naturally
 * aligned (PCI 3.0 6.8.2: DWORD or QWORD); others read as all-ones and
 * writes are dropped, counted in `bad_accesses`.
 *
 * Locking: the model has its own mutex; callbacks run with it held, so they
 * must not call back into the model (they may take the irqchip's lock).
 */
#ifndef PASSVM_VMM_MSIX_H
#define PASSVM_VMM_MSIX_H

#include "vmm.h"

#define VMM_MSIX_MAX_VECTORS 2048     /* Table Size is 11 bits */
#define VMM_MSIX_ENTRY_BYTES 16
#define VMM_MSIX_CAP_ID 0x11
#define VMM_MSIX_CAP_BYTES 12

struct vmm_msix_ops {
	/* What vector `vector` delivers changed; masked = effectively masked. */
	void (*vector_changed)(void *ctx, unsigned vector, uint64_t addr,
			       uint32_t data, bool masked);
	/* A vector with its pending bit set was unmasked: deliver it now (the
	 * bit is already clear). Optional. */
	void (*deliver_pending)(void *ctx, unsigned vector);
};

struct vmm_msix {
	struct vmm_pci_device *pdev;
	unsigned nr_vectors;
	uint16_t cap;                 /* config offset of the capability */
	unsigned bar;
	uint32_t table_offset, pba_offset;  /* in the BAR */
	const struct vmm_msix_ops *ops;
	void *ctx;
	pthread_mutex_t lock;
	uint32_t *table;              /* 4 dwords per vector, as the guest sees them */
	uint64_t *pba;
	bool *effective_masked;       /* read locklessly by fire_allowed */
	bool enabled, function_masked;
	unsigned long bad_accesses;
};

/* Adds the capability to pdev's config space (table and PBA in BAR `bar`,
 * which the caller sizes to hold them). All vectors start masked, MSI-X
 * disabled. -EINVAL: no vectors, too many, misaligned or overlapping
 * offsets; -ENOSPC: no room in config space; -ENOMEM. */
int vmm_msix_init(struct vmm_msix *msix, struct vmm_pci_device *pdev,
		  unsigned nr_vectors, unsigned bar, uint32_t table_offset,
		  uint32_t pba_offset, const struct vmm_msix_ops *ops, void *ctx);
void vmm_msix_destroy(struct vmm_msix *msix);
/* Bytes of BAR space the table takes, and the PBA. */
uint32_t vmm_msix_table_bytes(unsigned nr_vectors);
uint32_t vmm_msix_pba_bytes(unsigned nr_vectors);

/* From the device's config_written op: reacts to Message Control writes. */
void vmm_msix_config_written(struct vmm_msix *msix, uint32_t offset, uint32_t size);
/* A guest access at `offset` into the BAR. Returns false if the access is
 * not in the table or the PBA (the caller handles it). */
bool vmm_msix_bar_access(struct vmm_msix *msix, uint64_t offset, uint8_t *data,
			 uint32_t size, bool is_write);

/* true: the vector may be signalled now. false: it is masked (or out of
 * range); its pending bit is set and deliver_pending follows on unmask. */
bool vmm_msix_fire_allowed(struct vmm_msix *msix, unsigned vector);
bool vmm_msix_enabled(struct vmm_msix *msix);
/* The vector's address/data as programmed (false if out of range). */
bool vmm_msix_vector(struct vmm_msix *msix, unsigned vector, uint64_t *addr,
		     uint32_t *data, bool *masked);

#endif
