// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A host PCI function passed through to the guest (see vfio_pci.h).
 *
 * Config space: the header, the capability list pointers, MSI, MSI-X and
 * power management are passvm's (the guest programs guest-physical BAR
 * addresses and guest MSI addresses that mean nothing to the device); the
 * bodies of the other capabilities the guest may use go to the device
 * through VFIO's config region, which vfio-pci itself filters further
 * (drivers/vfio/pci/vfio_pci_config.c). Capabilities that cannot work in a
 * guest (SR-IOV, resizable BAR, ATS/PRI/PASID, ...) are left out of the list,
 * as QEMU's hw/vfio/pci.c does.
 *
 * BARs: the parts VFIO lets us mmap (honouring its sparse-mmap areas) become
 * KVM memory slots, so the guest reaches the device without exits; the rest,
 * and always the MSI-X table and PBA, which passvm emulates, trap to passvm
 * and are forwarded with pread/pwrite on the region.
 *
 * Interrupts: each vector is a VFIO trigger eventfd registered as a KVM
 * irqfd on an MSI route (Documentation/virt/kvm/api.rst, KVM_IRQFD), so an
 * interrupt goes device -> host IRQ -> eventfd -> KVM -> guest without
 * passvm. INTx is level-triggered: KVM's resample eventfd unmasks it in
 * vfio-pci at the guest's EOI (KVM_IRQFD_FLAG_RESAMPLE).
 */
#include "vfio_pci.h"
#include "msix.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define CFG_COMMAND 0x04
#define CFG_STATUS 0x06
#define CFG_HEADER_TYPE 0x0e
#define CFG_BAR0 0x10
#define CFG_ROM 0x30
#define CFG_CAP_PTR 0x34
#define CFG_INT_LINE 0x3c
#define CFG_INT_PIN 0x3d
#define CMD_IO 0x1
#define CMD_MEMORY 0x2
#define CMD_MASTER 0x4
#define CMD_INTX_DISABLE 0x400
#define STATUS_CAP_LIST 0x10
#define CAP_ID_PM 0x01
#define CAP_ID_MSI 0x05
#define CAP_ID_VNDR 0x09
#define CAP_ID_PCIE 0x10
#define CAP_ID_MSIX 0x11
#define MSI_CTRL_ENABLE 0x1
#define MSI_CTRL_64BIT 0x80
#define MSI_CTRL_PVM 0x100
#define MAX_VECTORS 2048   /* MSI-X Table Size is 11 bits */
#define MAX_AREAS (VFIO_MAX_SPARSE + 4)

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }

/* ---- which capabilities a guest gets ------------------------------------ */

static const struct {
	uint8_t id;
	enum vmm_vfio_cap_action action;
	const char *why;
} cap_table[] = {
	{ CAP_ID_PM, VMM_VFIO_CAP_EMULATE, "power states are passvm's: the device stays in D0" },
	{ 0x03, VMM_VFIO_CAP_PASS, "VPD, filtered by vfio-pci" },
	{ CAP_ID_MSI, VMM_VFIO_CAP_EMULATE, "guest MSI addresses are routed by KVM" },
	{ 0x07, VMM_VFIO_CAP_HIDE, "PCI-X bridge settings are the host's" },
	{ 0x08, VMM_VFIO_CAP_HIDE, "HyperTransport: the host's fabric" },
	{ CAP_ID_VNDR, VMM_VFIO_CAP_PASS, "vendor-specific: drivers read it" },
	{ 0x0a, VMM_VFIO_CAP_HIDE, "debug port: the host's" },
	{ 0x0d, VMM_VFIO_CAP_HIDE, "bridge subsystem ID of an endpoint-less view" },
	{ CAP_ID_PCIE, VMM_VFIO_CAP_PASS, "PCI Express: link and device control" },
	{ CAP_ID_MSIX, VMM_VFIO_CAP_EMULATE, "guest MSI-X table is emulated (vmm/msix.c)" },
	{ 0x12, VMM_VFIO_CAP_PASS, "SATA index/data pair" },
	{ 0x13, VMM_VFIO_CAP_HIDE, "Advanced Features FLR: passvm resets the device" },
};

enum vmm_vfio_cap_action vmm_vfio_cap_action(uint8_t id, const char **why)
{
	for (size_t i = 0; i < ARRAY_SIZE(cap_table); i++)
		if (cap_table[i].id == id) {
			if (why)
				*why = cap_table[i].why;
			return cap_table[i].action;
		}
	if (why)
		*why = "unknown capability: not shown to a guest";
	return VMM_VFIO_CAP_HIDE;
}

/* PCIe extended capabilities (PCIe 4.0, 7.6 onwards): what a guest may see. */
static const struct {
	uint16_t id;
	enum vmm_vfio_cap_action action;
	const char *why;
} ext_cap_table[] = {
	{ 0x01, VMM_VFIO_CAP_PASS, "AER: the guest driver reads its status" },
	{ 0x03, VMM_VFIO_CAP_PASS, "device serial number" },
	{ 0x0b, VMM_VFIO_CAP_PASS, "vendor-specific" },
	{ 0x0d, VMM_VFIO_CAP_HIDE, "ACS is the host's isolation, not the guest's" },
	{ 0x0e, VMM_VFIO_CAP_HIDE, "ARI: the guest sees no function numbers above 7" },
	{ 0x0f, VMM_VFIO_CAP_HIDE, "ATS would let the device bypass the host's IOMMU mappings" },
	{ 0x10, VMM_VFIO_CAP_HIDE, "SR-IOV: VFs are created on the host (passvm sriov)" },
	{ 0x11, VMM_VFIO_CAP_HIDE, "MR-IOV" },
	{ 0x12, VMM_VFIO_CAP_HIDE, "multicast: host fabric" },
	{ 0x13, VMM_VFIO_CAP_HIDE, "PRI: no guest IOMMU" },
	{ 0x15, VMM_VFIO_CAP_HIDE, "resizable BAR: BAR sizes are fixed by passvm" },
	{ 0x18, VMM_VFIO_CAP_PASS, "latency tolerance reporting" },
	{ 0x19, VMM_VFIO_CAP_PASS, "secondary PCIe" },
	{ 0x1b, VMM_VFIO_CAP_HIDE, "PASID: no guest IOMMU" },
	{ 0x1e, VMM_VFIO_CAP_PASS, "L1 PM substates" },
	{ 0x25, VMM_VFIO_CAP_PASS, "data link feature" },
	{ 0x26, VMM_VFIO_CAP_PASS, "physical layer 16 GT/s" },
	{ 0x27, VMM_VFIO_CAP_PASS, "lane margining" },
};

enum vmm_vfio_cap_action vmm_vfio_ext_cap_action(uint16_t id, const char **why)
{
	for (size_t i = 0; i < ARRAY_SIZE(ext_cap_table); i++)
		if (ext_cap_table[i].id == id) {
			if (why)
				*why = ext_cap_table[i].why;
			return ext_cap_table[i].action;
		}
	if (why)
		*why = "unknown extended capability: not shown to a guest";
	return VMM_VFIO_CAP_HIDE;
}

/* Bytes of a capability passvm emulates whole. */
static unsigned emulated_cap_len(const uint8_t *raw, size_t len, uint8_t off, uint8_t id)
{
	if (id == CAP_ID_PM)
		return 8;
	if (id == CAP_ID_MSIX)
		return 12;
	if (id == CAP_ID_MSI && (size_t)off + 4 <= len) {
		uint16_t ctrl = get16(raw + off + 2);
		unsigned n = ctrl & MSI_CTRL_64BIT ? 14 : 10;
		return ctrl & MSI_CTRL_PVM ? n + 10 : n;
	}
	return 2;
}

void vmm_vfio_build_config(const uint8_t *raw, size_t len, uint8_t *cfg, uint8_t *emul,
			   struct vmm_vfio_caps *caps)
{
	memset(cfg, 0, VMM_PCI_CFG_BYTES);
	memset(emul, 0, VMM_PCI_CFG_BYTES);
	memset(caps, 0, sizeof(*caps));
	if (len > VMM_PCI_CFG_BYTES)
		len = VMM_PCI_CFG_BYTES;
	if (len < 0x40) {
		memset(emul, 1, VMM_PCI_CFG_BYTES);
		return;
	}
	memcpy(cfg, raw, len);
	/* What the device does not have reads as zero, served by passvm. */
	memset(emul, 1, 0x40);
	if (len < VMM_PCI_CFG_BYTES)
		memset(emul + len, 1, VMM_PCI_CFG_BYTES - len);

	/* Standard list: at most 48 capabilities fit in 192 bytes. */
	uint8_t kept[48];
	unsigned nkept = 0;
	bool seen[0x100 / 4] = { false };  /* a list that loops ends there */
	uint8_t ptr = (raw[0x06] & STATUS_CAP_LIST) ? raw[CFG_CAP_PTR] & 0xfc : 0;
	for (unsigned guard = 0; ptr >= 0x40 && guard < 48 && (size_t)ptr + 2 <= len &&
	     ptr + 2 <= 0x100 && !seen[ptr / 4]; guard++) {
		seen[ptr / 4] = true;
		uint8_t id = raw[ptr];
		enum vmm_vfio_cap_action a = vmm_vfio_cap_action(id, NULL);
		if (id == CAP_ID_MSIX && !caps->msix) {
			/* Unlinked here; vmm/msix.c appends its emulated one
			 * at this same offset, last in the list. */
			if (ptr + 12 <= 0x100) {
				caps->msix = ptr;
				memset(emul + ptr, 1, 12);
			}
		} else if (a != VMM_VFIO_CAP_HIDE) {
			unsigned clen = a == VMM_VFIO_CAP_EMULATE ?
					emulated_cap_len(raw, len, ptr, id) : 2;
			if (ptr + clen > 0x100)
				clen = 0x100u - ptr;
			memset(emul + ptr, 1, clen);
			kept[nkept++] = ptr;
			if (id == CAP_ID_MSI)
				caps->msi = ptr;
			else if (id == CAP_ID_PM)
				caps->pm = ptr;
			else if (id == CAP_ID_PCIE)
				caps->pcie = ptr;
		}
		ptr = raw[ptr + 1] & 0xfc;
	}
	caps->last = nkept ? kept[nkept - 1] : 0;
	cfg[CFG_CAP_PTR] = nkept ? kept[0] : 0;
	for (unsigned i = 0; i < nkept; i++)
		cfg[kept[i] + 1] = i + 1 < nkept ? kept[i + 1] : 0;
	if (nkept)
		cfg[CFG_STATUS] |= STATUS_CAP_LIST;
	else
		cfg[CFG_STATUS] &= (uint8_t)~STATUS_CAP_LIST;
	/* The bytes of the standard space outside kept capabilities: passed
	 * (vfio-pci answers them) only where a kept capability lies; the
	 * gaps are unreachable through the list anyway. */

	/* Extended list (PCIe 4.0, 7.6.3): a header dword each; at most
	 * (4096 - 256) / 4 of them. Only a PCIe function has one. */
	if (len <= 0x100 || !caps->pcie) {
		memset(emul + 0x100, 1, VMM_PCI_CFG_BYTES - 0x100);
		memset(cfg + 0x100, 0, VMM_PCI_CFG_BYTES - 0x100);
		return;
	}
	uint16_t ext[960];
	bool ext_seen[960] = { false };
	unsigned next = 0;
	uint16_t off = 0x100;
	for (unsigned guard = 0; off >= 0x100 && off + 4u <= len && guard < 960 &&
	     !ext_seen[(off - 0x100) / 4]; guard++) {
		ext_seen[(off - 0x100) / 4] = true;
		uint32_t h = get32(raw + off);
		if (h == 0 || h == 0xffffffff)
			break;
		memset(emul + off, 1, 4);
		if (vmm_vfio_ext_cap_action((uint16_t)(h & 0xffff), NULL) != VMM_VFIO_CAP_HIDE)
			ext[next++] = off;
		off = (uint16_t)((h >> 20) & 0xffc);
	}
	memset(emul + 0x100, 1, 4);
	/* The chain starts at 0x100 whatever is there (a header of ID 0
	 * pointing on when that capability is hidden, or nothing at all). */
	if (!next || ext[0] != 0x100)
		put32(cfg + 0x100, next ? (uint32_t)ext[0] << 20 : 0);
	for (unsigned i = 0; i < next; i++) {
		uint32_t h = get32(raw + ext[i]) & 0xfffff;
		put32(cfg + ext[i], h | (i + 1 < next ? (uint32_t)ext[i + 1] << 20 : 0));
	}
}

unsigned vmm_vfio_carve_areas(struct vmm_vfio_area *areas, unsigned n, unsigned max,
			      uint64_t hole_start, uint64_t hole_end, uint64_t page)
{
	uint64_t hs = hole_start & ~(page - 1);
	uint64_t he = (hole_end + page - 1) & ~(page - 1);
	struct vmm_vfio_area out[MAX_AREAS];
	unsigned m = 0;
	for (unsigned i = 0; i < n; i++) {
		uint64_t s = areas[i].offset, e = s + areas[i].size;
		/* Pieces before and after the hole, page-aligned inward. */
		uint64_t ps[2] = { s, he > s ? he : s }, pe[2] = { hs < e ? hs : e, e };
		if (he <= s || hs >= e) {
			ps[0] = s;
			pe[0] = e;
			ps[1] = pe[1] = 0;
		}
		for (unsigned k = 0; k < 2; k++) {
			uint64_t a = (ps[k] + page - 1) & ~(page - 1), b = pe[k] & ~(page - 1);
			if (b > a && m < max && m < MAX_AREAS)
				out[m++] = (struct vmm_vfio_area){ a, b - a };
		}
	}
	memcpy(areas, out, m * sizeof(*out));
	return m;
}

/* ---- the device ----------------------------------------------------------- */

struct vfio_bar;

struct mapped_area {
	struct vmm_vfio_area a;
	void *host;
	uint32_t slot;
	bool in_kvm;
};

struct vfio_bar {
	struct vmm_vfio_pci *d;
	unsigned index;
	uint64_t size;
	bool io;
	struct mapped_area areas[MAX_AREAS];
	unsigned nareas;
	uint64_t gpa;
	bool trapped;
};

struct vector {
	int efd;
	uint32_t gsi;
	bool routed, irqfd_on;
};

struct vmm_vfio_pci {
	struct vmm_pci_device pdev;
	struct vmm_vm *vm;
	struct vfio_iommu *io;
	struct vfio_device dev;
	struct pci_addr addr;
	uint8_t emul[VMM_PCI_CFG_BYTES];
	struct vmm_vfio_caps caps;
	struct vfio_bar bars[VMM_PCI_BARS];
	/* expansion ROM */
	uint8_t *rom;
	uint64_t rom_size;       /* BAR size (power of two); 0 without ROM */
	uint64_t rom_gpa;
	bool rom_mapped;
	/* interrupts */
	struct vector *vecs;
	unsigned nvecs;
	bool msi_on;
	unsigned msi_n;
	uint8_t intx_pin;        /* 1-4, 0 none */
	uint32_t intx_gsi;
	int intx_efd, intx_resample_efd;
	bool intx_irqfd, intx_on;
	struct vmm_msix msix;
	bool has_msix, msix_on;
	int *msix_fds;           /* nvecs, for SET_IRQS: no allocation on a vCPU */
	uint64_t guest_errors;
	/* BARs the guest placed over RAM or another device (rate-limited
	 * log, one line per kind per interval: see log_misplaced) */
	long long misplaced_logged_ms[2];
	unsigned long misplaced, misplaced_quiet[2];
};

static struct vmm_vfio_pci *from_pdev(struct vmm_pci_device *pdev)
{
	return pdev->opaque;
}

/* An access the guest triggered failed: counted, never fatal. The edge
 * reads guest_errors; nothing is printed from here. */
static void guest_error(struct vmm_vfio_pci *d)
{
	__atomic_fetch_add(&d->guest_errors, 1, __ATOMIC_RELAXED);
}

/* ---- BAR traps ------------------------------------------------------------ */

static void bar_read(void *opaque, uint64_t off, uint8_t *data, uint32_t size)
{
	struct vfio_bar *b = opaque;
	if (b->d->has_msix && b->index == b->d->msix.bar &&
	    vmm_msix_bar_access(&b->d->msix, off, data, size, false))
		return;
	if (vfio_region_read(&b->d->dev, b->index, off, data, size) != (ssize_t)size) {
		memset(data, 0xff, size);
		guest_error(b->d);
	}
}

static void bar_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t size)
{
	struct vfio_bar *b = opaque;
	if (b->d->has_msix && b->index == b->d->msix.bar &&
	    vmm_msix_bar_access(&b->d->msix, off, (uint8_t *)data, size, true))
		return;
	if (vfio_region_write(&b->d->dev, b->index, off, data, size) != (ssize_t)size)
		guest_error(b->d);
}

static const struct vmm_device_ops bar_trap_ops = {
	.name = "vfio-bar", .read = bar_read, .write = bar_write,
};

/* ---- BAR placement -------------------------------------------------------- */

enum vmm_vfio_bar_place vmm_vfio_bar_claim(const struct vmm_memory_map *map,
					   struct vmm_bus *bus, bool io, uint64_t gpa,
					   uint64_t size, const struct vmm_device_ops *ops,
					   void *dev)
{
	/* Port space has no RAM; memory space does, and RAM is not on the
	 * bus (it is KVM memory slots), so it is checked first. */
	if (!io && vmm_memory_map_overlaps_ram(map, gpa, size))
		return VMM_VFIO_BAR_OVER_RAM;
	int r = vmm_bus_register(bus, gpa, size, ops, dev);
	if (r == -EEXIST)
		return VMM_VFIO_BAR_OVER_DEVICE;
	return r == 0 ? VMM_VFIO_BAR_PLACED : VMM_VFIO_BAR_REFUSED;
}

const char *vmm_vfio_bar_place_name(enum vmm_vfio_bar_place place)
{
	switch (place) {
	case VMM_VFIO_BAR_PLACED:
		return "a free range";
	case VMM_VFIO_BAR_OVER_RAM:
		return "guest RAM";
	case VMM_VFIO_BAR_OVER_DEVICE:
		return "another BAR or device's registers (this function's MSI-X table included)";
	case VMM_VFIO_BAR_REFUSED:
		break;
	}
	return "a range the bus cannot take";
}

/* At most one line per device and kind of overlap in this time, with the
 * count of those not logged: a guest moving BARs in a loop cannot flood
 * the host's log (as vmm/bus.c rate-limits unclaimed accesses). */
#define MISPLACED_LOG_INTERVAL_MS 10000

static void log_misplaced(struct vmm_vfio_pci *d, const struct vfio_bar *b, uint64_t gpa,
			  enum vmm_vfio_bar_place place)
{
	unsigned k = place == VMM_VFIO_BAR_OVER_RAM ? 0 : 1;
	unsigned long total = __atomic_add_fetch(&d->misplaced, 1, __ATOMIC_RELAXED);
	if (!ratelimit_pass(&d->misplaced_logged_ms[k], MISPLACED_LOG_INTERVAL_MS)) {
		__atomic_add_fetch(&d->misplaced_quiet[k], 1, __ATOMIC_RELAXED);
		return;
	}
	unsigned long quiet = __atomic_exchange_n(&d->misplaced_quiet[k], 0, __ATOMIC_RELAXED);
	char bdf[PCI_ADDR_STRLEN];
	pci_addr_format(&d->addr, bdf);
	log_warn("passed-through %s (guest 00:%02x.%x): the guest placed BAR %u (%llu bytes) at "
		 "0x%llx, over %s: left unmapped until the guest moves it (%lu misplaced BARs so "
		 "far, %lu not logged)", bdf, (unsigned)d->pdev.slot, (unsigned)d->pdev.function,
		 b->index, (unsigned long long)b->size, (unsigned long long)gpa,
		 vmm_vfio_bar_place_name(place), total, quiet);
}

static void bar_unmap(struct vmm_vfio_pci *d, struct vfio_bar *b)
{
	for (unsigned i = 0; i < b->nareas; i++) {
		struct mapped_area *m = &b->areas[i];
		if (m->in_kvm && kvm_vm_remove_memory(&d->vm->vm, m->slot) < 0)
			guest_error(d);
		m->in_kvm = false;
	}
	if (b->trapped)
		vmm_bus_unregister(b->io ? &d->vm->pio : &d->vm->mmio, b->gpa, b);
	b->trapped = false;
}

static void bar_map(struct vmm_vfio_pci *d, struct vfio_bar *b, uint64_t gpa)
{
	b->gpa = gpa;
	/* The whole BAR traps; the mmap'd pieces on top of it are memory
	 * slots, which KVM resolves before it would exit for MMIO. So the
	 * slots go in only where the trap could go: never over RAM, another
	 * device or another BAR (CVE-2020-25085/CVE-2021-3947 class; the
	 * guest attack program in tests/hw/passthrough/attack.c tries it). */
	enum vmm_vfio_bar_place place =
		vmm_vfio_bar_claim(&d->vm->mem.map, b->io ? &d->vm->pio : &d->vm->mmio, b->io,
				   gpa, b->size, &bar_trap_ops, b);
	if (place != VMM_VFIO_BAR_PLACED) {
		guest_error(d);
		if (place != VMM_VFIO_BAR_REFUSED)
			log_misplaced(d, b, gpa, place);
		return;
	}
	b->trapped = true;
	for (unsigned i = 0; i < b->nareas && !b->io; i++) {
		struct mapped_area *m = &b->areas[i];
		if (kvm_vm_add_memory(&d->vm->vm, gpa + m->a.offset, m->host, m->a.size,
				      &m->slot) == 0)
			m->in_kvm = true;
		else
			guest_error(d);
	}
}

static void bar_changed(struct vmm_pci_device *pdev, unsigned bar, uint64_t addr,
			bool mapped)
{
	struct vmm_vfio_pci *d = from_pdev(pdev);
	struct vfio_bar *b = &d->bars[bar];
	if (mapped)
		bar_map(d, b, addr);
	else
		bar_unmap(d, b);
}

/* ---- expansion ROM -------------------------------------------------------- */

static void rom_read(void *opaque, uint64_t off, uint8_t *data, uint32_t size)
{
	struct vmm_vfio_pci *d = opaque;
	memset(data, 0xff, size);
	if (d->rom && off < d->rom_size && size <= d->rom_size - off)
		memcpy(data, d->rom + off, size);
}

static const struct vmm_device_ops rom_ops = { .name = "vfio-rom", .read = rom_read };

/* The ROM BAR decodes when its enable bit and Memory Space are both set
 * (PCI 3.0, 6.2.5.2); pci.c handles BARs 0-5 only. */
static void rom_update(struct vmm_vfio_pci *d)
{
	if (!d->rom_size)
		return;
	uint32_t v = get32(d->pdev.config + CFG_ROM);
	bool on = (v & 1) && (get16(d->pdev.config + CFG_COMMAND) & CMD_MEMORY);
	uint64_t gpa = v & ~(uint32_t)0x7ff & ~(uint32_t)(d->rom_size - 1);
	if (gpa == 0 || gpa + d->rom_size > 0x100000000ULL)
		on = false;
	if (on == d->rom_mapped && (!on || gpa == d->rom_gpa))
		return;
	if (d->rom_mapped)
		vmm_bus_unregister(&d->vm->mmio, d->rom_gpa, d);
	d->rom_mapped = false;
	if (on && vmm_bus_register(&d->vm->mmio, gpa, d->rom_size, &rom_ops, d) == 0) {
		d->rom_mapped = true;
		d->rom_gpa = gpa;
	}
}

static uint64_t pow2_at_least(uint64_t v)
{
	uint64_t p = 2048; /* smallest ROM BAR (PCI 3.0, 6.2.5.2) */
	while (p < v && p < (1ULL << 31))
		p <<= 1;
	return p;
}

static int rom_load(struct vmm_vfio_pci *d, const struct vmm_vfio_pci_options *opt,
		    char *why, size_t why_size)
{
	if (opt->rom == VMM_VFIO_ROM_OFF)
		return 0;
	uint64_t bytes = 0;
	if (opt->rom == VMM_VFIO_ROM_FILE) {
		int fd = open(opt->rom_path, O_RDONLY | O_CLOEXEC);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size > (16 << 20)) {
			int r = fd < 0 ? -errno : -EINVAL;
			snprintf(why, why_size, "cannot use ROM file %s: %s", opt->rom_path,
				 fd < 0 ? strerror(errno) : "empty or larger than 16 MiB");
			if (fd >= 0)
				close(fd);
			return r;
		}
		bytes = (uint64_t)st.st_size;
		d->rom_size = pow2_at_least(bytes);
		d->rom = malloc(d->rom_size);
		if (!d->rom) {
			close(fd);
			return -ENOMEM;
		}
		memset(d->rom, 0xff, d->rom_size);
		ssize_t n = pread(fd, d->rom, bytes, 0);
		close(fd);
		if (n != (ssize_t)bytes) {
			snprintf(why, why_size, "cannot read ROM file %s", opt->rom_path);
			return -EIO;
		}
		return 0;
	}
	/* From the device: vfio-pci reads it through the ROM BAR (or the
	 * platform's shadow copy for the boot VGA). Absent or unreadable: the
	 * guest simply sees no ROM, as on a device without one. */
	const struct vfio_region *r = &d->dev.regions[VFIO_PCI_ROM_REGION_INDEX];
	if (d->dev.num_regions <= VFIO_PCI_ROM_REGION_INDEX || !r->size || r->size > (16 << 20))
		return 0;
	d->rom_size = pow2_at_least(r->size);
	d->rom = malloc(d->rom_size);
	if (!d->rom)
		return -ENOMEM;
	memset(d->rom, 0xff, d->rom_size);
	if (vfio_region_read(&d->dev, VFIO_PCI_ROM_REGION_INDEX, 0, d->rom, r->size) !=
	    (ssize_t)r->size) {
		free(d->rom);
		d->rom = NULL;
		d->rom_size = 0;
	}
	return 0;
}

/* ---- interrupts ----------------------------------------------------------- */

static int vectors_reserve(struct vmm_vfio_pci *d, unsigned n)
{
	if (n <= d->nvecs)
		return 0;
	if (n > MAX_VECTORS)
		return -EINVAL;
	struct vector *v = realloc(d->vecs, n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (unsigned i = d->nvecs; i < n; i++)
		v[i] = (struct vector){ .efd = -1 };
	d->vecs = v;
	d->nvecs = n;
	return 0;
}

/* Points vector i at (addr, data) and wires or unwires its irqfd. A masked
 * vector keeps its eventfd: what the device signals meanwhile stays in the
 * counter, and KVM delivers it when the irqfd is assigned again (the
 * pending bit, in effect). */
static int vector_program(struct vmm_vfio_pci *d, unsigned i, uint64_t addr, uint32_t data,
			  bool masked)
{
	struct vector *v = &d->vecs[i];
	struct vmm_irqchip *chip = &d->vm->irqchip;
	if (v->efd < 0) {
		v->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (v->efd < 0)
			return -errno;
	}
	int r = v->routed ? vmm_irqchip_update_msi_route(chip, v->gsi, addr, data)
			  : vmm_irqchip_add_msi_route(chip, addr, data, &v->gsi);
	if (r < 0)
		return r;
	v->routed = true;
	if (!masked && !v->irqfd_on) {
		r = vmm_irqchip_irqfd(chip, v->efd, v->gsi, true);
		if (r < 0)
			return r;
		v->irqfd_on = true;
	} else if (masked && v->irqfd_on) {
		vmm_irqchip_irqfd(chip, v->efd, v->gsi, false);
		v->irqfd_on = false;
	}
	return 0;
}

static void vectors_unwire(struct vmm_vfio_pci *d)
{
	for (unsigned i = 0; i < d->nvecs; i++)
		if (d->vecs[i].irqfd_on) {
			vmm_irqchip_irqfd(&d->vm->irqchip, d->vecs[i].efd, d->vecs[i].gsi, false);
			d->vecs[i].irqfd_on = false;
		}
}

/* vfio-pci takes one interrupt type at a time (vfio_pci_set_msi_trigger
 * refuses MSI while INTx is set up), so INTx goes off while MSI or MSI-X is
 * on and comes back after. */
static int intx_enable(struct vmm_vfio_pci *d)
{
	if (!d->intx_pin || d->intx_on || d->intx_efd < 0)
		return 0;
	int r = vfio_irq_set_eventfds(&d->dev, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &d->intx_efd);
	if (r == 0)
		r = vfio_irq_intx_unmask_eventfd(&d->dev, d->intx_resample_efd);
	if (r == 0)
		d->intx_on = true;
	return r;
}

static void intx_disable(struct vmm_vfio_pci *d)
{
	if (d->intx_on)
		vfio_irq_disable(&d->dev, VFIO_PCI_INTX_IRQ_INDEX);
	d->intx_on = false;
}

int vmm_vfio_pci_plugged(struct vmm_vfio_pci *d)
{
	if (!d->intx_pin)
		return 0;
	d->intx_gsi = vmm_pci_intx_gsi((unsigned)d->pdev.slot, d->intx_pin - 1u);
	d->pdev.config[CFG_INT_LINE] = (uint8_t)d->intx_gsi;
	d->intx_efd = eventfd(0, EFD_CLOEXEC);
	d->intx_resample_efd = eventfd(0, EFD_CLOEXEC);
	if (d->intx_efd < 0 || d->intx_resample_efd < 0)
		return -errno;
	int r = vmm_irqchip_irqfd_resample(&d->vm->irqchip, d->intx_efd,
					   d->intx_resample_efd, d->intx_gsi, true);
	if (r < 0)
		return r;
	d->intx_irqfd = true;
	return intx_enable(d);
}

/* MSI (PCI 3.0, 6.8.1), emulated: the guest's address and data become KVM
 * routes, the device gets one eventfd per enabled vector from vfio-pci. */
static void msi_update(struct vmm_vfio_pci *d)
{
	const uint8_t *c = d->pdev.config + d->caps.msi;
	uint16_t ctrl = get16(c + 2);
	bool is64 = ctrl & MSI_CTRL_64BIT, pvm = ctrl & MSI_CTRL_PVM;
	unsigned mmc = (ctrl >> 1) & 7, mme = (ctrl >> 4) & 7;
	unsigned n = 1u << (mme < mmc ? mme : mmc);
	uint64_t addr = get32(c + 4) | (is64 ? (uint64_t)get32(c + 8) << 32 : 0);
	uint16_t data = get16(c + (is64 ? 12 : 8));
	uint32_t mask = pvm ? get32(c + (is64 ? 16 : 12)) : 0;

	if (!(ctrl & MSI_CTRL_ENABLE)) {
		if (d->msi_on) {
			vfio_irq_disable(&d->dev, VFIO_PCI_MSI_IRQ_INDEX);
			vectors_unwire(d);
			d->msi_on = false;
			if (intx_enable(d) < 0)
				guest_error(d);
		}
		return;
	}
	if (vectors_reserve(d, n) < 0) {
		guest_error(d);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		/* Multiple Message Enable: the vector number replaces the
		 * low bits of the data (PCI 3.0, 6.8.1.3). */
		uint32_t vdata = (data & ~(n - 1)) | i;
		if (vector_program(d, i, addr, vdata, mask & (1u << i)) < 0)
			guest_error(d);
	}
	if (d->msi_on && d->msi_n == n)
		return;
	if (d->msi_on)
		vfio_irq_disable(&d->dev, VFIO_PCI_MSI_IRQ_INDEX);
	intx_disable(d);
	int fds[32];
	for (unsigned i = 0; i < n; i++)
		fds[i] = d->vecs[i].efd;
	if (vfio_irq_set_eventfds(&d->dev, VFIO_PCI_MSI_IRQ_INDEX, 0, n, fds) < 0) {
		guest_error(d);
		d->msi_on = false;
		return;
	}
	d->msi_on = true;
	d->msi_n = n;
}

/* MSI-X (PCI 3.0, 6.8.2): vmm/msix.c models the table; each vector it
 * reports becomes a KVM route with VFIO's eventfd as its irqfd. Called with
 * the model's lock held: touches only passvm's routes, never the model. */
static void msix_vector_changed(void *ctx, unsigned vector, uint64_t addr, uint32_t data,
				bool masked)
{
	struct vmm_vfio_pci *d = ctx;
	if (vector >= d->nvecs || vector_program(d, vector, addr, data, masked) < 0)
		guest_error(d);
}

static const struct vmm_msix_ops msix_ops = { .vector_changed = msix_vector_changed };

/* Enable went on or off in Message Control: hand vfio-pci one eventfd per
 * vector (all at once: before Linux 6.5 vfio-pci cannot grow the set
 * without disabling MSI-X, drivers/vfio/pci/vfio_pci_intrs.c). */
static void msix_update(struct vmm_vfio_pci *d)
{
	bool on = d->pdev.config[d->msix.cap + 3] & 0x80;
	if (on == d->msix_on)
		return;
	if (!on) {
		vfio_irq_disable(&d->dev, VFIO_PCI_MSIX_IRQ_INDEX);
		d->msix_on = false;
		if (intx_enable(d) < 0)
			guest_error(d);
		return;
	}
	int *fds = d->msix_fds;
	for (unsigned i = 0; i < d->nvecs; i++) {
		if (d->vecs[i].efd < 0)
			d->vecs[i].efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		fds[i] = d->vecs[i].efd;
	}
	intx_disable(d);
	if (vfio_irq_set_eventfds(&d->dev, VFIO_PCI_MSIX_IRQ_INDEX, 0, d->nvecs, fds) < 0)
		guest_error(d);
	else
		d->msix_on = true;
}

static int msix_setup(struct vmm_vfio_pci *d, const uint8_t *raw)
{
	uint8_t o = d->caps.msix;
	unsigned n = (get16(raw + o + 2) & 0x7ff) + 1u;
	uint32_t table = get32(raw + o + 4), pba = get32(raw + o + 8);
	struct vfio_irq_info info;
	/* The model keeps table and PBA in one BAR; a device with its PBA
	 * elsewhere (rare) gets no MSI-X and its driver uses MSI or INTx. */
	if ((table & 7) != (pba & 7) || (table & 7) >= VMM_PCI_BARS ||
	    !d->bars[table & 7].size ||
	    vfio_irq_info(&d->dev, VFIO_PCI_MSIX_IRQ_INDEX, &info) < 0 || info.count < n)
		return 0;
	int r = vectors_reserve(d, n);
	if (r < 0)
		return r;
	d->msix_fds = calloc(n, sizeof(int));
	if (!d->msix_fds)
		return -ENOMEM;
	d->pdev.cap_last = d->caps.last;
	d->pdev.cap_free = o;
	r = vmm_msix_init(&d->msix, &d->pdev, n, table & 7, table & ~7u, pba & ~7u,
			  &msix_ops, d);
	if (r == 0)
		d->has_msix = true;
	return r == -EINVAL ? 0 : r;
}

/* ---- config space ----------------------------------------------------------- */

static bool overlaps(uint32_t off, uint32_t size, uint32_t start, uint32_t len)
{
	return start && off < start + len && start < off + size;
}

/* After the generic model applied an emulated write. */
static void config_written(struct vmm_pci_device *pdev, uint32_t off, uint32_t size)
{
	struct vmm_vfio_pci *d = from_pdev(pdev);
	if (overlaps(off, size, CFG_COMMAND, 2)) {
		/* The decode enables, bus mastering and INTx disable reach the
		 * device: it must answer at its host BAR addresses (which the
		 * guest never sees) and may DMA only when the guest allows. */
		uint16_t want = get16(pdev->config + CFG_COMMAND);
		uint16_t cmd;
		if (vfio_config_read16(&d->dev, CFG_COMMAND, &cmd) == 0) {
			uint16_t bits = CMD_IO | CMD_MEMORY | CMD_MASTER | CMD_INTX_DISABLE;
			cmd = (uint16_t)((cmd & ~bits) | (want & bits));
			if (vfio_config_write16(&d->dev, CFG_COMMAND, cmd) < 0)
				guest_error(d);
		}
	}
	if (overlaps(off, size, CFG_COMMAND, 2) || overlaps(off, size, CFG_ROM, 4))
		rom_update(d);
	if (d->caps.msi && overlaps(off, size, d->caps.msi, 24))
		msi_update(d);
	if (d->has_msix && overlaps(off, size, d->msix.cap + 2u, 2)) {
		vmm_msix_config_written(&d->msix, off, size);
		msix_update(d);
	}
}

static uint32_t config_read(struct vmm_pci_device *pdev, uint32_t off, uint32_t size)
{
	struct vmm_vfio_pci *d = from_pdev(pdev);
	uint32_t emulated = vmm_pci_config_read_emulated(pdev, off, size);
	bool any_device = false;
	for (uint32_t i = 0; i < size; i++)
		any_device |= !d->emul[off + i];
	if (!any_device)
		return emulated;
	uint8_t buf[4];
	if (vfio_region_read(&d->dev, VFIO_PCI_CONFIG_REGION_INDEX, off, buf, size) !=
	    (ssize_t)size) {
		guest_error(d);
		memset(buf, 0xff, sizeof(buf));
	}
	uint32_t v = 0;
	for (uint32_t i = 0; i < size; i++) {
		uint8_t byte = d->emul[off + i] ? (uint8_t)(emulated >> (8 * i)) : buf[i];
		v |= (uint32_t)byte << (8 * i);
	}
	return v;
}

static void config_write(struct vmm_pci_device *pdev, uint32_t off, uint32_t size,
			 uint32_t value)
{
	struct vmm_vfio_pci *d = from_pdev(pdev);
	unsigned nemul = 0;
	for (uint32_t i = 0; i < size; i++)
		nemul += d->emul[off + i];
	if (nemul == size) {
		vmm_pci_config_write_emulated(pdev, off, size, value);
		return;
	}
	if (nemul == 0) {
		if (vfio_region_write(&d->dev, VFIO_PCI_CONFIG_REGION_INDEX, off, &value, size) !=
		    (ssize_t)size)
			guest_error(d);
		return;
	}
	/* Straddles an emulated capability header and a device register:
	 * byte by byte, each to its owner. */
	for (uint32_t i = 0; i < size; i++) {
		uint8_t byte = (uint8_t)(value >> (8 * i));
		if (d->emul[off + i])
			vmm_pci_config_write_emulated(pdev, off + i, 1, byte);
		else if (vfio_region_write(&d->dev, VFIO_PCI_CONFIG_REGION_INDEX, off + i,
					   &byte, 1) != 1)
			guest_error(d);
	}
}

static const struct vmm_pci_device_ops vfio_pci_ops = {
	.name = "vfio-pci",
	.bar_changed = bar_changed,
	.config_written = config_written,
	.config_read = config_read,
	.config_write = config_write,
};

/* Guest-writable bits of the emulated capabilities. */
static void caps_wmask(struct vmm_vfio_pci *d)
{
	uint8_t *c = d->pdev.config, *w = d->pdev.wmask, *w1c = d->pdev.w1cmask;
	if (d->caps.msi) {
		uint8_t o = d->caps.msi;
		uint16_t ctrl = get16(c + o + 2);
		bool is64 = ctrl & MSI_CTRL_64BIT;
		put16(c + o + 2, ctrl & (uint16_t)~(MSI_CTRL_ENABLE | 0x70));
		put16(w + o + 2, MSI_CTRL_ENABLE | 0x70);
		put32(w + o + 4, 0xfffffffc);
		if (is64)
			put32(w + o + 8, 0xffffffff);
		put16(w + o + (is64 ? 12 : 8), 0xffff);
		if (ctrl & MSI_CTRL_PVM) {
			put32(w + o + (is64 ? 16 : 12), 0xffffffff);
			put32(c + o + (is64 ? 20 : 16), 0); /* pending: none seen */
		}
	}
	if (d->caps.pm) {
		/* PMCSR: the guest may ask for D0-D3hot and PME enable and
		 * reads back what it wrote; the device stays in D0, so its
		 * state (BARs, queues) is never lost behind passvm's back,
		 * and a device without No_Soft_Reset cannot come back
		 * reset in a state the guest did not expect. */
		uint8_t o = d->caps.pm;
		put16(c + o + 4, get16(c + o + 4) & 0x0008); /* D0, keep No_Soft_Reset */
		put16(w + o + 4, 0x0103);
		put16(w1c + o + 4, 0x8000);
	}
}

static int setup_bars(struct vmm_vfio_pci *d, const uint8_t *raw, char *why, size_t why_size)
{
	long page = sysconf(_SC_PAGESIZE);
	uint8_t *cfg = d->pdev.config;
	memset(cfg + CFG_BAR0, 0, 4 * VMM_PCI_BARS);
	for (unsigned i = 0; i < VMM_PCI_BARS; i++) {
		const struct vfio_region *r = &d->dev.regions[i];
		struct vfio_bar *b = &d->bars[i];
		b->d = d;
		b->index = i;
		if (i >= d->dev.num_regions || !r->size)
			continue;
		uint32_t low = get32(raw + CFG_BAR0 + 4 * i);
		b->io = low & 1;
		bool mem64 = !b->io && (low & 0x6) == 0x4;
		uint32_t flags = b->io ? VMM_PCI_BAR_IO :
				 (mem64 ? VMM_PCI_BAR_MEM64 : 0) | (low & 0x8 ? VMM_PCI_BAR_PREFETCH : 0);
		b->size = r->size;
		int rc = vmm_pci_device_set_bar(&d->pdev, i, r->size, flags);
		if (rc < 0) {
			snprintf(why, why_size, "BAR %u of %llu bytes cannot be modelled", i,
				 (unsigned long long)r->size);
			return rc;
		}
		if (b->io || !(r->flags & VFIO_REGION_INFO_FLAG_MMAP) ||
		    r->size < (uint64_t)page)
			continue;
		struct vmm_vfio_area areas[MAX_AREAS];
		unsigned n = 0;
		if (r->has_sparse)
			for (uint32_t k = 0; k < r->nsparse; k++)
				areas[n++] = (struct vmm_vfio_area){ r->sparse[k].offset,
								    r->sparse[k].size };
		else
			areas[n++] = (struct vmm_vfio_area){ 0, r->size };
		/* The MSI-X table and PBA stay trapped even where vfio-pci
		 * would let us map them (MSIX_MAPPABLE): passvm emulates
		 * them, the device's own table holds host vectors. */
		if (d->caps.msix) {
			uint32_t table = get32(raw + d->caps.msix + 4);
			uint32_t pba = get32(raw + d->caps.msix + 8);
			unsigned count = (get16(raw + d->caps.msix + 2) & 0x7ff) + 1u;
			if ((table & 7) == i)
				n = vmm_vfio_carve_areas(areas, n, MAX_AREAS, table & ~7u,
							 (uint64_t)(table & ~7u) + 16 * count,
							 (uint64_t)page);
			if ((pba & 7) == i)
				n = vmm_vfio_carve_areas(areas, n, MAX_AREAS, pba & ~7u,
							 (uint64_t)(pba & ~7u) + 8 * ((count + 63) / 64),
							 (uint64_t)page);
		}
		for (unsigned k = 0; k < n; k++) {
			void *p;
			if (vfio_region_mmap(&d->dev, i, areas[k].offset, areas[k].size, &p) < 0)
				continue; /* trapped instead: slower, still correct */
			b->areas[b->nareas++] = (struct mapped_area){ .a = areas[k], .host = p };
		}
	}
	return 0;
}

int vmm_vfio_pci_create(struct vmm_vfio_pci **out, struct vmm_vm *vm,
			struct vfio_iommu *io, const struct pci_addr *addr, int group,
			const struct vmm_vfio_pci_options *opt, char *why, size_t why_size)
{
	*out = NULL;
	why[0] = '\0';
	struct vmm_vfio_pci *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->vm = vm;
	d->io = io;
	d->addr = *addr;
	d->intx_efd = d->intx_resample_efd = -1;
	int r = vfio_device_open(&d->dev, io, addr, group);
	if (r < 0) {
		snprintf(why, why_size, "cannot open it through VFIO");
		free(d);
		return r;
	}
	/* A clean device for the guest, whatever the host driver left. */
	vfio_device_reset(&d->dev);

	const struct vfio_region *cr = &d->dev.regions[VFIO_PCI_CONFIG_REGION_INDEX];
	size_t len = cr->size < VMM_PCI_CFG_BYTES ? (size_t)cr->size : VMM_PCI_CFG_BYTES;
	uint8_t *raw = calloc(1, VMM_PCI_CFG_BYTES);
	if (!raw) {
		r = -ENOMEM;
		goto fail;
	}
	ssize_t n = len ? vfio_region_read(&d->dev, VFIO_PCI_CONFIG_REGION_INDEX, 0, raw, len) : -EIO;
	if (n < 0x40) {
		snprintf(why, why_size, "cannot read its config space");
		free(raw);
		r = n < 0 ? (int)n : -EIO;
		goto fail;
	}
	len = (size_t)n;
	vmm_pci_device_init(&d->pdev, get16(raw), get16(raw + 2), get32(raw + 8) >> 8,
			    &vfio_pci_ops, d);
	vmm_vfio_build_config(raw, len, d->pdev.config, d->emul, &d->caps);
	/* The header is passvm's: command off (passvm enables decoding when
	 * it plugs the device), status without error bits. */
	uint8_t *cfg = d->pdev.config;
	put16(cfg + CFG_COMMAND, 0);
	put16(cfg + CFG_STATUS, get16(cfg + CFG_STATUS) & (STATUS_CAP_LIST | 0x06a0));
	cfg[CFG_HEADER_TYPE] &= 0x7f;
	cfg[CFG_INT_LINE] = 0;
	memset(cfg + 0x28, 0, 4);           /* CardBus CIS */
	memset(cfg + CFG_ROM, 0, 4);
	struct vfio_irq_info intx;
	d->intx_pin = raw[CFG_INT_PIN] >= 1 && raw[CFG_INT_PIN] <= 4 &&
		      vfio_irq_info(&d->dev, VFIO_PCI_INTX_IRQ_INDEX, &intx) == 0 && intx.count ?
		      raw[CFG_INT_PIN] : 0;
	cfg[CFG_INT_PIN] = d->intx_pin;
	r = setup_bars(d, raw, why, why_size);
	if (r == 0 && d->caps.msix)
		r = msix_setup(d, raw);
	/* Every MSI vector the device can have, now: the vCPU thread that
	 * enables MSI must not allocate (its seccomp list has no mmap). */
	if (r == 0 && d->caps.msi)
		r = vectors_reserve(d, 1u << ((get16(raw + d->caps.msi + 2) >> 1) & 7));
	if (r == 0)
		r = rom_load(d, opt, why, why_size);
	free(raw);
	if (r < 0)
		goto fail;
	if (d->rom_size)
		put32(d->pdev.wmask + CFG_ROM, (uint32_t)~(d->rom_size - 1) | 1);
	caps_wmask(d);
	*out = d;
	return 0;
fail:
	vmm_vfio_pci_destroy(d);
	return r;
}

struct vmm_pci_device *vmm_vfio_pci_device(struct vmm_vfio_pci *d)
{
	return &d->pdev;
}

unsigned vmm_vfio_pci_host_function(const struct vmm_vfio_pci *d)
{
	return d->addr.function;
}

void vmm_vfio_pci_destroy(struct vmm_vfio_pci *d)
{
	if (!d)
		return;
	if (d->dev.fd >= 0) {
		if (d->msi_on)
			vfio_irq_disable(&d->dev, VFIO_PCI_MSI_IRQ_INDEX);
		if (d->msix_on)
			vfio_irq_disable(&d->dev, VFIO_PCI_MSIX_IRQ_INDEX);
		intx_disable(d);
	}
	vectors_unwire(d);
	if (d->intx_irqfd)
		vmm_irqchip_irqfd_resample(&d->vm->irqchip, d->intx_efd, d->intx_resample_efd,
					   d->intx_gsi, false);
	for (unsigned i = 0; i < VMM_PCI_BARS; i++) {
		struct vfio_bar *b = &d->bars[i];
		if (d->pdev.bars[i].mapped)
			bar_unmap(d, b);
		for (unsigned k = 0; k < b->nareas; k++)
			munmap(b->areas[k].host, b->areas[k].a.size);
		b->nareas = 0;
	}
	if (d->rom_mapped)
		vmm_bus_unregister(&d->vm->mmio, d->rom_gpa, d);
	/* Leave the device as we found it for the host driver: quiet (no
	 * DMA, no decoding) and reset. */
	if (d->dev.fd >= 0) {
		vfio_config_write16(&d->dev, CFG_COMMAND, 0);
		vfio_device_reset(&d->dev);
	}
	vfio_device_close(&d->dev);
	for (unsigned i = 0; i < d->nvecs; i++)
		if (d->vecs[i].efd >= 0)
			close(d->vecs[i].efd);
	if (d->intx_efd >= 0)
		close(d->intx_efd);
	if (d->intx_resample_efd >= 0)
		close(d->intx_resample_efd);
	if (d->has_msix)
		vmm_msix_destroy(&d->msix);
	free(d->msix_fds);
	free(d->vecs);
	free(d->rom);
	free(d);
}

uint64_t vmm_vfio_pci_guest_errors(const struct vmm_vfio_pci *d)
{
	return __atomic_load_n(&d->guest_errors, __ATOMIC_RELAXED);
}

void vmm_vfio_pci_describe(const struct vmm_vfio_pci *d, char *buf, size_t size)
{
	uint64_t mapped = 0;
	unsigned areas = 0, bars = 0;
	for (unsigned i = 0; i < VMM_PCI_BARS; i++) {
		if (!d->bars[i].size)
			continue;
		bars++;
		for (unsigned k = 0; k < d->bars[i].nareas; k++) {
			areas++;
			mapped += d->bars[i].areas[k].a.size;
		}
	}
	char bdf[PCI_ADDR_STRLEN];
	pci_addr_format(&d->addr, bdf);
	snprintf(buf, size, "%s as 00:%02x.%x: %u BARs, %u areas (%llu KiB) mapped into the guest, "
		 "the rest trapped; %s%s%s; ROM %llu KiB", bdf, (unsigned)d->pdev.slot,
		 (unsigned)d->pdev.function, bars, areas, (unsigned long long)(mapped >> 10),
		 d->has_msix ? "MSI-X, " : "", d->caps.msi ? "MSI, " : "",
		 d->intx_pin ? "INTx" : "no INTx", (unsigned long long)(d->rom_size >> 10));
}
