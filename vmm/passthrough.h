/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmm/passthrough.c: the passed-through devices of one VM, together.
 *
 * Owns: the VM's IOMMU context (one container, every group attached), the
 * DMA mapping of all guest RAM, the vfio_pci devices and their slots
 * (functions of one host slot stay one guest slot: a GPU and its audio
 * function). Must not: bind or unbind drivers (vfio/'s journaled ownership
 * does, before this runs), print.
 */
#ifndef PASSVM_VMM_PASSTHROUGH_H
#define PASSVM_VMM_PASSTHROUGH_H

#include "vfio_pci.h"

#define VMM_PASSTHROUGH_MAX 16

struct vmm_passthrough_device {
	struct pci_addr addr;
	int group;
	struct vmm_vfio_pci_options opt;
};

struct vmm_passthrough {
	struct vmm_vm *vm;
	struct vfio_iommu io;
	bool io_open;
	uint64_t dma_low_bytes, dma_high_bytes;   /* mapped at 0 and 4 GiB */
	struct vmm_vfio_pci *devs[VMM_PASSTHROUGH_MAX];
	size_t count;
	double dma_map_s;                          /* how long mapping took */
};

/*
 * Before the vCPUs start: opens the IOMMU context for every group, maps all
 * guest RAM for DMA (faulting it in first, in parallel threads), opens,
 * resets and plugs each device. On failure everything done is undone, `bad`
 * names the device concerned (or is left zeroed) and `why` says what failed.
 */
int vmm_passthrough_start(struct vmm_passthrough *pt, struct vmm_vm *vm,
			  const struct vmm_passthrough_device *devs, size_t count,
			  struct pci_addr *bad, char *why, size_t why_size);
/* Devices reset and closed, DMA unmapped, groups released. Idempotent. */
void vmm_passthrough_stop(struct vmm_passthrough *pt);

/*
 * Groups devices into guest slots: out[i] is the guest function of devs[i]
 * and slot_of[i] an index shared by the devices of one host slot (same
 * domain, bus, device). Host function numbers are kept when function 0 is
 * among them; otherwise they are packed from 0 (a guest scans a slot only
 * when function 0 answers). Pure, for the tests. Returns the slot count.
 */
size_t vmm_passthrough_slots(const struct pci_addr *addrs, size_t count, unsigned *fn_out,
			     size_t *slot_of);

#endif
