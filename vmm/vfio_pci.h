/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmm/vfio_pci.c: a host PCI function passed through to the guest.
 *
 * Owns: the guest's view of one VFIO device: its config space (virtualised
 * where the guest must not or cannot reach the device: BAR addresses, the
 * capability list, MSI/MSI-X, power states, the expansion ROM; passed to the
 * device elsewhere), its BARs (mmap'd into KVM memory slots where VFIO
 * allows it, trapped and forwarded elsewhere), and its interrupts (VFIO
 * eventfds wired to KVM irqfds, so the hot path never enters passvm).
 * Must not: touch the device fd other than through vfio/'s library, own the
 * IOMMU context (vmm/passthrough.c does), or print, except one
 * rate-limited line when the guest places a BAR where it must not be (as
 * vmm/bus.c logs unclaimed accesses).
 */
#ifndef PASSVM_VMM_VFIO_PCI_H
#define PASSVM_VMM_VFIO_PCI_H

#include "vfio.h"
#include "vmm.h"

enum vmm_vfio_rom { VMM_VFIO_ROM_DEVICE, VMM_VFIO_ROM_OFF, VMM_VFIO_ROM_FILE };

struct vmm_vfio_pci_options {
	enum vmm_vfio_rom rom;
	const char *rom_path;   /* VMM_VFIO_ROM_FILE */
};

struct vmm_vfio_pci;

/*
 * Opens BDF (its group attached to io already), resets it, reads its config
 * space and regions and builds the guest's view. The device is not on the
 * bus yet: plug vmm_vfio_pci_device() into the host bridge. *why says what
 * failed in words (the edge reports it).
 */
int vmm_vfio_pci_create(struct vmm_vfio_pci **out, struct vmm_vm *vm,
			struct vfio_iommu *io, const struct pci_addr *addr, int group,
			const struct vmm_vfio_pci_options *opt, char *why, size_t why_size);
struct vmm_pci_device *vmm_vfio_pci_device(struct vmm_vfio_pci *d);
/* The host function's number in its slot (0-7), to keep functions together. */
unsigned vmm_vfio_pci_host_function(const struct vmm_vfio_pci *d);
/* Wires INTx to the slot's GSI once the device is plugged. */
int vmm_vfio_pci_plugged(struct vmm_vfio_pci *d);
/* Guest accesses that failed at the device (counted, never fatal). */
uint64_t vmm_vfio_pci_guest_errors(const struct vmm_vfio_pci *d);
/* One line for the user: guest slot, BARs mapped or trapped, interrupts. */
void vmm_vfio_pci_describe(const struct vmm_vfio_pci *d, char *buf, size_t size);
/* Interrupts off, BARs unmapped, the device reset and closed. */
void vmm_vfio_pci_destroy(struct vmm_vfio_pci *d);

/* ---- pure helpers, exposed for the unit tests ---------------------------- */

/* What happens to a capability of a passed-through function. */
enum vmm_vfio_cap_action {
	VMM_VFIO_CAP_PASS,      /* guest reaches the device's registers */
	VMM_VFIO_CAP_EMULATE,   /* passvm serves it (MSI, MSI-X, PM) */
	VMM_VFIO_CAP_HIDE,      /* left out of the guest's list */
};
enum vmm_vfio_cap_action vmm_vfio_cap_action(uint8_t id, const char **why);
enum vmm_vfio_cap_action vmm_vfio_ext_cap_action(uint16_t id, const char **why);

/*
 * The guest's config space built from the device's (raw, len 256 or 4096):
 * the capability chains relinked without hidden capabilities, into cfg;
 * emul[i] set for each byte passvm serves. Offsets of the kept MSI and PM
 * capabilities are returned (0: absent or hidden); MSI-X is unlinked and its
 * offset returned, for vmm/msix.c to append its emulated one there. Bounds-checked
 * walk with a loop limit: raw may be anything.
 */
struct vmm_vfio_caps {
	uint8_t msi, msix, pm, pcie;
	uint8_t last;           /* last capability in the relinked list */
};
void vmm_vfio_build_config(const uint8_t *raw, size_t len, uint8_t *cfg, uint8_t *emul,
			   struct vmm_vfio_caps *caps);

/* A piece of a BAR that may be mmap'd. */
struct vmm_vfio_area {
	uint64_t offset, size;
};
/*
 * Removes [hole_start, hole_end) (rounded out to pages) from a list of
 * mmap-able areas, splitting where needed; keeps page-aligned pieces only.
 * Returns the new count (at most max).
 */
unsigned vmm_vfio_carve_areas(struct vmm_vfio_area *areas, unsigned n, unsigned max,
			      uint64_t hole_start, uint64_t hole_end, uint64_t page);

/*
 * Where the guest may put a BAR of a passed-through function. Its mmap'd
 * parts become KVM memory slots, which KVM resolves before any MMIO exit,
 * so a BAR over guest RAM or over another device's registers would shadow
 * them (or KVM refuses the overlapping slot). A memory BAR over RAM is
 * refused outright; otherwise the BAR's whole range is registered on bus
 * (ops/dev: its trap), which refuses any overlap with a range already there:
 * another device's BAR or emulated registers, or another BAR of the same
 * function, the one holding the MSI-X table included. Only a BAR claimed
 * here (VMM_VFIO_BAR_PLACED) gets memory slots; a refused one decodes
 * nothing until the guest moves it.
 */
enum vmm_vfio_bar_place {
	VMM_VFIO_BAR_PLACED,       /* registered on bus: map its areas */
	VMM_VFIO_BAR_OVER_RAM,     /* touches guest RAM: nothing registered */
	VMM_VFIO_BAR_OVER_DEVICE,  /* overlaps a range on bus: nothing registered */
	VMM_VFIO_BAR_REFUSED,      /* the bus could not take it (no memory) */
};
enum vmm_vfio_bar_place vmm_vfio_bar_claim(const struct vmm_memory_map *map,
					   struct vmm_bus *bus, bool io, uint64_t gpa,
					   uint64_t size, const struct vmm_device_ops *ops,
					   void *dev);
/* "guest RAM", "another device's or BAR's registers", ...: for log lines. */
const char *vmm_vfio_bar_place_name(enum vmm_vfio_bar_place place);

#endif
