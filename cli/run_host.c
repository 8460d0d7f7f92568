// SPDX-License-Identifier: GPL-2.0-or-later
/* What passvm run changes on the host around the VM (cli/run.h). */
#include "cli.h"
#include "common.h"
#include "macvtap.h"
#include "run.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Every group member the bind took, for vfio_restore. */
static size_t bound_members(const struct run_plan *plan, struct pci_addr **out)
{
	size_t n = 0;
	*out = NULL;
	if (!plan->have_bind)
		return 0;
	for (size_t g = 0; g < plan->bind.count; g++)
		n += plan->bind.groups[g].count;
	*out = calloc(n ? n : 1, sizeof(**out));
	if (!*out)
		return 0;
	n = 0;
	for (size_t g = 0; g < plan->bind.count; g++)
		for (size_t m = 0; m < plan->bind.groups[g].count; m++)
			if (plan->bind.groups[g].members[m].action == VFIO_MEMBER_BIND)
				(*out)[n++] = plan->bind.groups[g].members[m].info.addr;
	return n;
}

/* Gives back what this run bound: on every way out but SIGKILL (which
 * `passvm vfio restore` covers from the journal). */
int run_give_back(const struct vfio_host *host, const struct run_plan *plan)
{
	struct pci_addr *addrs;
	size_t n = bound_members(plan, &addrs);
	int r = 0;
	if (n) {
		struct vfio_restore_result *res = NULL;
		size_t nres = 0;
		r = vfio_restore(host, addrs, n, &res, &nres);
		for (size_t i = 0; i < nres; i++)
			if (res[i].err < 0)
				log_error_errno(res[i].err, "cannot give %s back to %s (the journal "
						"keeps it: run `passvm vfio restore`)", res[i].bdf,
						res[i].to[0] ? res[i].to : "no driver");
		free(res);
	}
	free(addrs);
	return r;
}

static void hook_init(struct run_passthrough_hook *h, const struct run_plan *plan)
{
	h->count = 0;
	for (size_t i = 0; i < plan->count; i++)
		if (plan->dev[i].decision == RUN_PASS)
			h->devs[h->count++] = (struct vmm_passthrough_device){
				.addr = plan->dev[i].info.addr,
				.group = plan->dev[i].info.iommu_group,
				.opt = plan->dev[i].arg.opt,
			};
}

static int passthrough_plug(struct vmm_vm *vm, void *ctx)
{
	struct run_passthrough_hook *h = ctx;
	memset(&h->pt, 0, sizeof(h->pt));
	h->why[0] = '\0';
	int r = vmm_passthrough_start(&h->pt, vm, h->devs, h->count, &h->bad, h->why,
				      sizeof(h->why));
	if (r < 0)
		return r;
	for (size_t i = 0; i < h->pt.count; i++) {
		char line[384];
		vmm_vfio_pci_describe(h->pt.devs[i], line, sizeof(line));
		log_info("passing through %s", line);
	}
	log_info("guest RAM mapped for device DMA in %.2f s", h->pt.dma_map_s);
	return 0;
}

static void passthrough_unplug(struct vmm_vm *vm, void *ctx)
{
	struct run_passthrough_hook *h = ctx;
	(void)vm;
	vmm_passthrough_stop(&h->pt);
}

void run_passthrough_hook_attach(struct run_passthrough_hook *h, const struct run_plan *plan,
				 struct vmm_config *cfg)
{
	hook_init(h, plan);
	if (!h->count)
		return;
	cfg->plug_extra = passthrough_plug;
	cfg->unplug_extra = passthrough_unplug;
	cfg->extra_ctx = h;
}

void run_report_passthrough_error(const void *hook_ctx, int r)
{
	const struct run_passthrough_hook *h = hook_ctx;
	char bdf[PCI_ADDR_STRLEN];
	pci_addr_format(&h->bad, bdf);
	log_error("cannot pass %s through: %s (%s); the devices go back to their drivers",
		  bdf, h->why[0] ? h->why : "failed", strerror(-r));
}

/* fallback=auto for an NVMe drive: a virtio-blk disk on its host block
 * device, reaching the same namespace through the host's nvme driver. */
static int add_fallback_disks(const struct run_plan *plan, struct vmm_config *cfg,
			      struct run_args *ra)
{
	for (size_t i = 0; i < plan->count; i++) {
		const struct run_device_plan *d = &plan->dev[i];
		if (d->decision != RUN_FALLBACK || d->fallback_kind != RUN_FB_BLK)
			continue;
		if (ra->disks.n == RUN_MAX_DISKS) {
			log_error("cannot give %s's fallback disk: at most %d disks", d->info.bdf,
				  RUN_MAX_DISKS);
			return -E2BIG;
		}
		ra->disks.disks[ra->disks.n++] = (struct virtio_blk_config){
			.path = d->fallback_target, .queues = 1,
		};
	}
	cfg->disks = ra->disks.disks;
	cfg->nr_disks = ra->disks.n;
	return 0;
}

/* fallback=auto for a NIC: a macvtap (bridge mode, the guest's own MAC)
 * over the NIC's host netdev, as a virtio-net interface. The macvtaps are
 * deleted on every way out but SIGKILL. */
static struct vmm_macvtap fallback_taps[VMM_NET_MAX_IFS];
static size_t nr_fallback_taps;

size_t run_fallback_nets_count(void)
{
	return nr_fallback_taps;
}

void run_delete_fallback_nets(void)
{
	for (size_t i = 0; i < nr_fallback_taps; i++) {
		int r = vmm_macvtap_delete(&fallback_taps[i]);
		if (r < 0)
			log_error_errno(r, "cannot delete macvtap %s (ip link del %s)",
					fallback_taps[i].name, fallback_taps[i].name);
	}
	nr_fallback_taps = 0;
}

static int add_fallback_nets(const struct run_plan *plan, struct vmm_config *cfg,
			     struct run_args *ra)
{
	for (size_t i = 0; i < plan->count; i++) {
		const struct run_device_plan *d = &plan->dev[i];
		if (d->decision != RUN_FALLBACK || d->fallback_kind != RUN_FB_NET)
			continue;
		if (cfg->nr_nets == VMM_NET_MAX_IFS) {
			log_error("cannot give %s's fallback network: at most %d interfaces",
				  d->info.bdf, VMM_NET_MAX_IFS);
			return -E2BIG;
		}
		struct vmm_net_config *n = &ra->nets[cfg->nr_nets];
		*n = (struct vmm_net_config){ .backend = VMM_NET_MACVTAP, .queue_pairs = 1,
					      .has_mac = true, .spec = d->info.bdf };
		vmm_net_random_mac(n->mac);
		snprintf(n->tap, sizeof(n->tap), "pvmt%u.%u", (unsigned)getpid() % 100000u,
			 (unsigned)(i % 16));
		struct vmm_macvtap *m = &fallback_taps[nr_fallback_taps];
		int r = vmm_macvtap_create(m, d->fallback_target, n->tap, n->mac);
		if (r < 0) {
			log_error_errno(r, "cannot create a macvtap over %s for %s's fallback",
					d->fallback_target, d->info.bdf);
			return r;
		}
		nr_fallback_taps++;
		snprintf(n->macvtap_dev, sizeof(n->macvtap_dev), "%s", m->dev_path);
		cfg->nets = ra->nets;
		cfg->nr_nets++;
	}
	return 0;
}

int run_add_fallbacks(const struct run_plan *plan, struct vmm_config *cfg, struct run_args *ra)
{
	int r = add_fallback_disks(plan, cfg, ra);
	return r < 0 ? r : add_fallback_nets(plan, cfg, ra);
}

int run_take_devices(const struct vfio_host *host, const struct run_plan *plan)
{
	struct pci_addr failed = { 0 };
	int rollback_err = 0;
	char bdf[PCI_ADDR_STRLEN];
	int r = vfio_bind_apply(host, &plan->bind, 10000, &failed, &rollback_err);
	if (r == 0)
		return 0;
	pci_addr_format(&failed, bdf);
	const char *after = rollback_err == 0 ? "nothing was left changed"
			    : "giving back failed too: run `passvm vfio restore --all`";
	if (r == -ENOPKG)
		log_error("cannot bind %s: the vfio-pci driver is not loaded (modprobe vfio-pci); "
			  "%s", bdf, after);
	else
		log_error_errno(r, "cannot bind %s to vfio-pci (%s)", bdf, after);
	return r;
}
