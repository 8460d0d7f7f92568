// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Per device: what sysfs and the config space say (BARs, ROM, reset,
 * MSI/MSI-X, SR-IOV, ACS on the way up), then the verdict and the devices
 * that must be passed through with it.
 *
 * Group viability follows the kernel: every device in an IOMMU group must
 * be bound to a driver that lets the group's DMA owner change (vfio-pci,
 * pci-stub, pcieport for bridges: drivers with driver_managed_dma,
 * drivers/iommu/iommu.c iommu_group_claim_dma_owner), or to none. So
 * bridges stay with the host, every other peer goes along.
 */
#include "iommu_internal.h"

#include <errno.h>
#include <limits.h>
#include <pci/header.h>
#include <stdlib.h>
#include <string.h>

/* ACS flags the kernel requires for isolation (drivers/pci/pci.c,
 * REQ_ACS_FLAGS / pci_acs_enabled): source validation, P2P request and
 * completion redirect, upstream forwarding. */
#define ACS_ISOLATION_FLAGS (PCI_ACS_CTRL_VALID | PCI_ACS_CTRL_REQ_RED | \
			     PCI_ACS_CTRL_CMPLT_RED | PCI_ACS_CTRL_FORWARD)
#define LARGE_BAR_BYTES (4ull << 30)

static void read_bars(const struct host_root *root, struct iommu_device *d)
{
	char path[256], text[4096];
	struct pci_resource res[PCI_RESOURCE_MAX];
	size_t n;
	snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/resource", d->info.bdf);
	if (host_root_read(root, path, text, sizeof(text)) < 0 ||
	    pci_resource_parse(text, res, ARRAY_SIZE(res), &n) < 0)
		return;
	/* Type 0 headers have 6 BARs and the ROM; bridges 2 BARs. */
	size_t bars = pci_dev_is_bridge(&d->info) ? 2 : 7;
	for (size_t i = 0; i < n && i < bars; i++) {
		if (i >= 2 && i < 6 && pci_dev_is_bridge(&d->info))
			continue;
		if (!res[i].size_bytes || !(res[i].flags & (PCI_RES_IO | PCI_RES_MEM)))
			continue;
		struct iommu_bar *b = &d->bars[d->n_bars++];
		b->index = (unsigned)i;
		b->start = res[i].start;
		b->size_bytes = res[i].size_bytes;
		b->is_io = (res[i].flags & PCI_RES_IO) != 0;
		b->is_64bit = (res[i].flags & PCI_RES_MEM_64) != 0;
		b->prefetch = (res[i].flags & PCI_RES_PREFETCH) != 0;
		/* __pci_read_base(): a BAR firmware left at 0 is marked UNSET
		 * and moved to start 0; a ROM at 0 is just disabled. */
		b->unassigned = i != PCI_ROM_RESOURCE &&
				((res[i].flags & PCI_RES_UNSET) || res[i].start == 0);
	}
}

static void read_reset_and_sriov(const struct host_root *root, struct iommu_device *d)
{
	char path[256], text[128];
	uint64_t v;
	snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/reset_method", d->info.bdf);
	ssize_t n = host_root_read(root, path, text, sizeof(text));
	d->reset_method_known = n >= 0;
	if (n >= 0)
		snprintf(d->reset_method, sizeof(d->reset_method), "%s", text);
	snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/reset", d->info.bdf);
	d->has_reset_file = host_root_exists(root, path);

	d->sriov_total_vfs = d->sriov_num_vfs = -1;
	snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/sriov_totalvfs", d->info.bdf);
	if (host_root_read_u64(root, path, &v) == 0 && v <= 0xffff) {
		d->sriov_total_vfs = (int)v;
		snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/sriov_numvfs", d->info.bdf);
		d->sriov_num_vfs = host_root_read_u64(root, path, &v) == 0 && v <= 0xffff
				   ? (int)v : 0;
	}
}

int iommu_device_read(const struct host_root *root, struct iommu_device *d)
{
	char path[256];
	uint8_t cfg[4096];
	snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/config", d->info.bdf);
	ssize_t n = iommu_read_binary(root, path, cfg, sizeof(cfg));
	d->config_read = n > 0 && pci_config_parse(cfg, (size_t)n, &d->cfg) == 0;
	read_bars(root, d);
	read_reset_and_sriov(root, d);
	return 0;
}

static const char *port_role(const struct iommu_device *d)
{
	if (!d->config_read || !d->cfg.caps_read)
		return "bridge";
	if (!d->cfg.is_pcie)
		return pci_dev_is_bridge(&d->info) ? "PCI bridge" : "function";
	switch (d->cfg.pcie_type) {
	case PCI_EXP_TYPE_ROOT_PORT: return "root port";
	case PCI_EXP_TYPE_DOWNSTREAM: return "downstream port";
	case PCI_EXP_TYPE_UPSTREAM: return "upstream port";
	case PCI_EXP_TYPE_PCI_BRIDGE: return "PCIe-PCI bridge";
	default: return "function";
	}
}

static void acs_hop(struct iommu_device *d, const struct iommu_device *hop, bool self)
{
	if (d->n_acs_path >= ARRAY_SIZE(d->acs_path))
		return;
	struct iommu_acs_hop *h = &d->acs_path[d->n_acs_path++];
	snprintf(h->bdf, sizeof(h->bdf), "%s", hop->info.bdf);
	snprintf(h->role, sizeof(h->role), "%s", self ? "function" : port_role(hop));
	h->conventional = hop->config_read && hop->cfg.caps_read && !hop->cfg.is_pcie;
	h->read = hop->config_read && (hop->cfg.ext_caps_read || h->conventional);
	h->has_acs = hop->cfg.acs;
	h->acs_ctrl = hop->cfg.acs_ctrl;
	/* pci_acs_flags_enabled(): only the flags the port implements count. */
	uint16_t need = (uint16_t)(ACS_ISOLATION_FLAGS & hop->cfg.acs_cap);
	if (self)
		need &= PCI_ACS_CTRL_REQ_RED | PCI_ACS_CTRL_CMPLT_RED;
	h->isolates = h->has_acs && (h->acs_ctrl & need) == need;
}

/* The device's sysfs path names every bridge above it:
 * sys/devices/pci0000:00/0000:00:1c.0/0000:01:00.0. ACS matters on the
 * ports (root and downstream) between it and the root complex, and on the
 * function itself when it shares a multifunction slot. */
void iommu_device_acs_path(const struct host_root *root, const struct iommu_report *r,
			   struct iommu_device *d)
{
	char path[256], phys[PATH_MAX];
	snprintf(path, sizeof(path), "sys/bus/pci/devices/%s", d->info.bdf);
	if (host_root_resolve(root, path, true, phys, sizeof(phys)) < 0)
		return;
	if (d->config_read && d->cfg.multifunction && !pci_dev_is_bridge(&d->info))
		acs_hop(d, d, true);
	/* Walk up, nearest bridge first. */
	char *end = strrchr(phys, '/');
	while (end) {
		*end = '\0';
		char *comp = strrchr(phys, '/');
		comp = comp ? comp + 1 : phys;
		struct pci_addr a;
		if (pci_addr_parse(comp, &a) < 0)
			break;
		size_t i = iommu_report_find(r, &a);
		if (i != SIZE_MAX) {
			const struct iommu_device *up = &r->devices[i];
			if (!up->config_read || !up->cfg.is_pcie ||
			    up->cfg.pcie_type == PCI_EXP_TYPE_ROOT_PORT ||
			    up->cfg.pcie_type == PCI_EXP_TYPE_DOWNSTREAM)
				acs_hop(d, up, false);
		}
		end = comp > phys ? comp - 1 : NULL;
	}
}

/* ---- the decision --------------------------------------------------------- */
static void verdict_raise(enum iommu_verdict *v, enum iommu_verdict to)
{
	if (to > *v)
		*v = to;
}

static bool driver_lets_go(const char *driver)
{
	return !driver[0] || strcmp(driver, "vfio-pci") == 0 ||
	       strcmp(driver, "pci-stub") == 0;
}

/* What the host would lose; the same words for the device and its peers. */
static void usage_reasons(struct iommu_device *d, const struct iommu_device *who,
			  bool self)
{
	const struct iommu_dev_usage *u = &who->usage;
	char prefix[64];
	if (self)
		snprintf(prefix, sizeof(prefix), "it");
	else
		snprintf(prefix, sizeof(prefix), "group peer %s", who->info.bdf);
	if (u->chipset && !self) {
		strlist_addf(&d->reasons, "%s is a chipset function (%s, %s): the host needs it",
			     prefix, u->chipset_what, who->info.driver[0] ? who->info.driver
			     : "no driver");
		verdict_raise(&d->verdict, IOMMU_VERDICT_FAIL);
	}
	for (size_t i = 0; i < u->mounts.n; i++) {
		strlist_addf(&d->reasons, "%s holds host storage in use: %s (unmount or swapoff first)",
			     prefix, u->mounts.v[i]);
		verdict_raise(&d->verdict, IOMMU_VERDICT_FAIL);
	}
	for (size_t i = 0; i < u->netifs.n; i++) {
		strlist_addf(&d->reasons, "%s carries host network: %s (the host loses it)",
			     prefix, u->netifs.v[i]);
		verdict_raise(&d->verdict, IOMMU_VERDICT_WARN);
	}
	if (u->boot_vga) {
		strlist_addf(&d->reasons, "%s is the boot VGA device (the host loses its display; "
			     "the guest may need its VBIOS from a ROM file)", prefix);
		verdict_raise(&d->verdict, IOMMU_VERDICT_WARN);
	}
	if (u->console) {
		strlist_addf(&d->reasons, "%s drives the host console (%s)", prefix, u->console_what);
		verdict_raise(&d->verdict, IOMMU_VERDICT_WARN);
	}
}

static void decide_bars(struct iommu_device *d)
{
	char size[32];
	for (size_t i = 0; i < d->n_bars; i++) {
		const struct iommu_bar *b = &d->bars[i];
		iommu_format_size(b->size_bytes, size, sizeof(size));
		if (b->unassigned && !b->is_io) {
			strlist_addf(&d->reasons, "BAR %u (%s) has no address: firmware could not "
				     "place it; enable \"Above 4G Decoding\" in firmware setup "
				     "(or pci=realloc on the kernel command line)", b->index, size);
			verdict_raise(&d->verdict, IOMMU_VERDICT_FAIL);
		} else if (b->is_64bit && b->size_bytes >= LARGE_BAR_BYTES) {
			strlist_addf(&d->reasons, "BAR %u is %s (64-bit%s): the guest needs a 64-bit "
				     "MMIO window at least that large", b->index, size,
				     b->prefetch ? ", prefetchable" : "");
			verdict_raise(&d->verdict, IOMMU_VERDICT_WARN);
		}
	}
	if (d->cfg.rebar && d->verdict >= IOMMU_VERDICT_WARN)
		for (unsigned i = 0; i < d->cfg.rebar_count; i++) {
			uint32_t mask = d->cfg.rebar_bars[i].supported_mask;
			if (!mask)
				continue;
			iommu_format_size(1ull << (20 + __builtin_ctz(mask)), size, sizeof(size));
			strlist_addf(&d->reasons, "Resizable BAR %u can shrink to %s: write the size "
				     "index to sysfs resource%u_resize with no driver bound",
				     d->cfg.rebar_bars[i].bar, size, d->cfg.rebar_bars[i].bar);
		}
}

static void decide_reset(struct iommu_device *d)
{
	/* reset_method (Linux 5.15) and reset are only visible when the
	 * kernel has a way to reset the function (pci_dev_reset_method_attr
	 * _is_visible). Without one, state leaks from one guest to the next
	 * and some devices do not come up a second time. */
	if (d->reset_method_known && d->reset_method[0])
		return;
	if (!d->reset_method_known && d->has_reset_file)
		return;
	strlist_addf(&d->reasons, "no reset method: the device keeps its state between guests "
		     "and may not work after the first one");
	verdict_raise(&d->verdict, IOMMU_VERDICT_WARN);
}

void iommu_device_decide(struct iommu_report *r, size_t index)
{
	struct iommu_device *d = &r->devices[index];
	d->verdict = IOMMU_VERDICT_OK;
	if (pci_dev_is_bridge(&d->info)) {
		strlist_addf(&d->reasons, "it is a PCI bridge: VFIO assigns the devices behind it, "
			     "not the bridge");
		verdict_raise(&d->verdict, IOMMU_VERDICT_FAIL);
	}
	if (d->usage.chipset) {
		strlist_addf(&d->reasons, "it is a chipset function (%s): the host needs it",
			     d->usage.chipset_what);
		verdict_raise(&d->verdict, IOMMU_VERDICT_FAIL);
	}
	if (d->info.iommu_group < 0) {
		strlist_addf(&d->reasons, "it has no IOMMU group: the kernel runs no IOMMU for it "
			     "(see iommu_enabled)");
		verdict_raise(&d->verdict, IOMMU_VERDICT_FAIL);
	}
	usage_reasons(d, d, true);
	d->group_viable = driver_lets_go(d->info.driver);
	for (size_t i = 0; i < d->n_peers; i++) {
		const struct iommu_device *p = &r->devices[d->peers[i]];
		if (pci_dev_is_bridge(&p->info))
			continue;
		strlist_addf(&d->must_go_along, "%s", p->info.bdf);
		if (!driver_lets_go(p->info.driver))
			d->group_viable = false;
		usage_reasons(d, p, false);
	}
	if (d->must_go_along.n) {
		strlist_addf(&d->reasons, "its IOMMU group %d holds %zu other device%s that must "
			     "be passed through with it", d->info.iommu_group,
			     d->must_go_along.n, d->must_go_along.n == 1 ? "" : "s");
		verdict_raise(&d->verdict, IOMMU_VERDICT_WARN);
	}
	decide_reset(d);
	decide_bars(d);
}
