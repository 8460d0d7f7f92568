// SPDX-License-Identifier: GPL-2.0-or-later
/* What `passvm run --device` does with each device (see run_devices.h). */
#include "run_devices.h"
#include "iommu_tools.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The emulated devices a fallback can become. They come with the virtio
 * devices of the VMM (--disk, --net); until a build has them, a device that
 * would fall back is refused with both reasons. */
#ifndef PASSVM_HAVE_VIRTIO_BLK
#define PASSVM_HAVE_VIRTIO_BLK 1    /* --disk: vmm/virtio_blk.c */
#endif
#ifndef PASSVM_HAVE_VIRTIO_NET
#define PASSVM_HAVE_VIRTIO_NET 1    /* --net: vmm/virtio_net.c on a macvtap */
#endif

static bool same_addr(const struct pci_addr *a, const struct pci_addr *b)
{
	return a->domain == b->domain && a->bus == b->bus && a->device == b->device &&
	       a->function == b->function;
}

int run_device_parse(const char *text, struct run_device_arg *out, const char **bad)
{
	memset(out, 0, sizeof(*out));
	out->fallback = RUN_FALLBACK_NONE;
	out->opt.rom = VMM_VFIO_ROM_DEVICE;
	*bad = text;
	if (strncmp(text, "vfio=", 5) != 0)
		return -EINVAL;
	const char *p = text + 5;
	const char *end = strchr(p, ',');
	size_t n = end ? (size_t)(end - p) : strlen(p);
	char bdf[32];
	if (n == 0 || n >= sizeof(bdf))
		return -EINVAL;
	memcpy(bdf, p, n);
	bdf[n] = '\0';
	*bad = p;
	if (pci_addr_parse(bdf, &out->addr) < 0)
		return -EINVAL;
	pci_addr_format(&out->addr, out->bdf);
	while (end) {
		p = end + 1;
		end = strchr(p, ',');
		n = end ? (size_t)(end - p) : strlen(p);
		*bad = p;
		if (n == 13 && strncmp(p, "fallback=auto", n) == 0)
			out->fallback = RUN_FALLBACK_AUTO;
		else if (n == 13 && strncmp(p, "fallback=none", n) == 0)
			out->fallback = RUN_FALLBACK_NONE;
		else if (n == 7 && strncmp(p, "rom=off", n) == 0)
			out->opt.rom = VMM_VFIO_ROM_OFF;
		else if (n > 4 && strncmp(p, "rom=", 4) == 0 && !end) {
			/* A file name may hold commas only as the last option. */
			out->opt.rom = VMM_VFIO_ROM_FILE;
			out->opt.rom_path = p + 4;
		} else if (n > 4 && strncmp(p, "rom=", 4) == 0) {
			out->opt.rom = VMM_VFIO_ROM_FILE;
			char *path = strndup(p + 4, n - 4);
			if (!path)
				return -ENOMEM;
			out->opt.rom_path = path; /* lives as long as passvm */
		} else if (n == 15 && strncmp(p, "hide-hypervisor", n) == 0)
			out->hide_hypervisor = true;
		else
			return -EINVAL;
	}
	return 0;
}

/* The first entry of a sysfs directory under the device, "" if none. */
static void first_entry(const struct host_root *root, const char *rel, char *out, size_t size)
{
	char **names;
	size_t count;
	out[0] = '\0';
	if (host_root_list_dir(root, rel, &names, &count) < 0)
		return;
	if (count)
		snprintf(out, size, "%s", names[0]);
	strv_free(names, count);
}

/* What the guest could get instead, reaching the same hardware through
 * its host driver. */
static void decide_fallback(const struct host_root *root, struct run_device_plan *d)
{
	char rel[256], name[64];
	uint16_t cls = pci_dev_class(&d->info);
	if ((cls >> 8) == 0x02) { /* network controller */
		snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/net", d->info.bdf);
		first_entry(root, rel, name, sizeof(name));
		if (!name[0]) {
			snprintf(d->fallback_what, sizeof(d->fallback_what),
				 "nothing: the NIC has no host network interface (is its driver loaded?)");
			return;
		}
		d->fallback_kind = RUN_FB_NET;
		snprintf(d->fallback_target, sizeof(d->fallback_target), "%s", name);
		snprintf(d->fallback_what, sizeof(d->fallback_what),
			 "virtio-net on a macvtap over the host's %s", name);
		return;
	}
	if (cls == 0x0108) { /* NVMe */
		char ctrl[64];
		snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/nvme", d->info.bdf);
		first_entry(root, rel, ctrl, sizeof(ctrl));
		name[0] = '\0';
		if (ctrl[0]) {
			/* Namespaces are block devices named nvme<ctrl>n<ns> in
			 * the controller's directory. */
			char **names;
			size_t count;
			snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/nvme/%s", d->info.bdf, ctrl);
			if (host_root_list_dir(root, rel, &names, &count) == 0) {
				for (size_t i = 0; i < count && !name[0]; i++)
					if (strncmp(names[i], ctrl, strlen(ctrl)) == 0 &&
					    names[i][strlen(ctrl)] == 'n')
						snprintf(name, sizeof(name), "%s", names[i]);
				strv_free(names, count);
			}
		}
		if (!name[0]) {
			snprintf(d->fallback_what, sizeof(d->fallback_what),
				 "nothing: the NVMe controller has no host namespace (is nvme loaded?)");
			return;
		}
		/* A namespace the host has mounted must not get a second
		 * writer: the guest's filesystem and the host's would corrupt
		 * each other. */
		struct iommu_dev_usage u;
		if (iommu_dev_usage_query(root, &d->info, &u) == 0) {
			bool mounted = u.mounts.n > 0;
			char what[160] = "";
			if (mounted)
				snprintf(what, sizeof(what), "%s", u.mounts.v[0]);
			iommu_dev_usage_free(&u);
			if (mounted) {
				snprintf(d->fallback_what, sizeof(d->fallback_what),
					 "nothing: /dev/%s is in use on the host (%s)", name, what);
				return;
			}
		}
		d->fallback_kind = RUN_FB_BLK;
		snprintf(d->fallback_target, sizeof(d->fallback_target), "/dev/%s", name);
		snprintf(d->fallback_what, sizeof(d->fallback_what),
			 "virtio-blk on the host's /dev/%s", name);
		return;
	}
	snprintf(d->fallback_what, sizeof(d->fallback_what),
		 "nothing: a %s has no emulated equivalent that reaches the same hardware",
		 (cls >> 8) == 0x03 ? "GPU" : "device of this class");
}

static void join_reasons(const struct strlist *l, char *out, size_t size)
{
	out[0] = '\0';
	for (size_t i = 0; i < l->n; i++) {
		size_t len = strlen(out);
		snprintf(out + len, size - len, "%s%s", i ? "; " : "", l->v[i]);
	}
}

/* The iommu-check verdicts: host checks first (without an IOMMU nothing
 * can pass), then the device's own. */
static void preflight(const struct iommu_report *rep, struct run_device_plan *d)
{
	const struct iommu_device *dev = NULL;
	for (size_t i = 0; i < rep->n_devices && !dev; i++)
		if (same_addr(&rep->devices[i].info.addr, &d->info.addr))
			dev = &rep->devices[i];
	if (dev) {
		snprintf(d->name, sizeof(d->name), "%s", dev->name);
		join_reasons(&dev->must_go_along, d->along, sizeof(d->along));
	}
	for (size_t i = 0; i < rep->n_checks; i++)
		if (rep->checks[i].status == IOMMU_FAIL) {
			snprintf(d->why_not, sizeof(d->why_not), "%s", rep->checks[i].summary);
			return;
		}
	if (dev && dev->verdict == IOMMU_VERDICT_FAIL)
		join_reasons(&dev->reasons, d->why_not, sizeof(d->why_not));
}

static void decide(const struct host_root *root, struct run_device_plan *d)
{
	if (!d->why_not[0]) {
		d->decision = RUN_PASS;
		return;
	}
	if (d->arg.fallback == RUN_FALLBACK_NONE || !d->info.vendor) {
		d->decision = RUN_REFUSE;
		if (!d->info.vendor)
			return; /* no such device: nothing to fall back to */
		snprintf(d->fallback_what, sizeof(d->fallback_what), "nothing (fallback=none)");
		return;
	}
	decide_fallback(root, d);
	bool built = (d->fallback_kind == RUN_FB_NET && PASSVM_HAVE_VIRTIO_NET) ||
		     (d->fallback_kind == RUN_FB_BLK && PASSVM_HAVE_VIRTIO_BLK);
	if (d->fallback_kind != RUN_FB_NONE && !built) {
		size_t len = strlen(d->fallback_what);
		snprintf(d->fallback_what + len, sizeof(d->fallback_what) - len,
			 ", which this build of passvm cannot provide yet");
		d->fallback_kind = RUN_FB_NONE;
	}
	d->decision = d->fallback_kind == RUN_FB_NONE ? RUN_REFUSE : RUN_FALLBACK;
}

int run_plan_build(const struct vfio_host *host, const struct run_device_arg *args,
		   size_t count, struct run_plan *plan)
{
	memset(plan, 0, sizeof(*plan));
	if (count > RUN_DEVICES_MAX)
		return -E2BIG;
	struct pci_addr addrs[RUN_DEVICES_MAX];
	for (size_t i = 0; i < count; i++) {
		struct run_device_plan *d = &plan->dev[i];
		d->arg = args[i];
		addrs[i] = args[i].addr;
		for (size_t j = 0; j < i; j++)
			if (same_addr(&addrs[j], &addrs[i]))
				return -EEXIST;
		int r = pci_dev_read(host->root, &args[i].addr, &d->info);
		if (r < 0) {
			snprintf(d->why_not, sizeof(d->why_not), "no such PCI function on this host");
			d->decision = RUN_REFUSE;
			snprintf(d->fallback_what, sizeof(d->fallback_what), "nothing");
			memcpy(d->info.bdf, args[i].bdf, sizeof(d->info.bdf));
			d->info.iommu_group = -1;
		}
	}
	plan->count = count;

	struct iommu_check_options opts = { .bdfs = addrs, .n_bdfs = count };
	struct iommu_report rep;
	size_t bad;
	int r = iommu_report_build(host->root, &opts, &rep, &bad);
	if (r < 0 && r != -ENODEV)
		return r;
	if (r == 0) {
		for (size_t i = 0; i < count; i++)
			if (plan->dev[i].decision != RUN_REFUSE)
				preflight(&rep, &plan->dev[i]);
		iommu_report_free(&rep);
	}

	/* vfio/'s group policy on what is left to pass: it has the last
	 * word on what binding a group takes from the host. */
	struct pci_addr pass[RUN_DEVICES_MAX];
	size_t npass = 0;
	for (size_t i = 0; i < count; i++)
		if (!plan->dev[i].why_not[0])
			pass[npass++] = plan->dev[i].info.addr;
	if (npass) {
		struct pci_addr badaddr;
		r = vfio_plan_bind(host, pass, npass, false, &plan->bind, &badaddr);
		if (r == 0) {
			plan->have_bind = true;
			for (size_t g = 0; g < plan->bind.count; g++)
				for (size_t m = 0; m < plan->bind.groups[g].count; m++) {
					const struct vfio_member *mb = &plan->bind.groups[g].members[m];
					if (mb->action != VFIO_MEMBER_REFUSED)
						continue;
					for (size_t i = 0; i < count; i++)
						if (plan->dev[i].info.iommu_group == plan->bind.groups[g].group &&
						    !plan->dev[i].why_not[0])
							snprintf(plan->dev[i].why_not,
								 sizeof(plan->dev[i].why_not),
								 "IOMMU group %d: %s is %s",
								 plan->bind.groups[g].group, mb->info.bdf,
								 mb->why);
				}
		} else {
			for (size_t i = 0; i < count; i++)
				if (!plan->dev[i].why_not[0] &&
				    same_addr(&plan->dev[i].info.addr, &badaddr))
					snprintf(plan->dev[i].why_not, sizeof(plan->dev[i].why_not),
						 r == -ENXIO ? "it has no IOMMU group (no IOMMU, or it is off)"
							     : "cannot plan its group: %s", strerror(-r));
		}
	}
	for (size_t i = 0; i < count; i++) {
		decide(host->root, &plan->dev[i]);
		if (plan->dev[i].decision == RUN_REFUSE)
			plan->refused++;
	}
	return 0;
}

void run_plan_free(struct run_plan *plan)
{
	if (plan->have_bind)
		vfio_plan_free(&plan->bind);
	plan->have_bind = false;
}

void run_plan_print(FILE *out, const struct run_plan *plan)
{
	for (size_t i = 0; i < plan->count; i++) {
		const struct run_device_plan *d = &plan->dev[i];
		fprintf(out, "%s %04x:%04x %s (driver %s, IOMMU group %d):\n", d->info.bdf,
			d->info.vendor, d->info.device, d->name[0] ? d->name : "",
			d->info.driver[0] ? d->info.driver : "none", d->info.iommu_group);
		switch (d->decision) {
		case RUN_PASS:
			fprintf(out, "  pass through (vfio-pci)%s%s\n",
				d->along[0] ? "; group members going along to vfio-pci: " : "",
				d->along);
			break;
		case RUN_FALLBACK:
			fprintf(out, "  fall back: cannot pass through (%s); the guest gets %s\n",
				d->why_not, d->fallback_what);
			break;
		case RUN_REFUSE:
			fprintf(out, "  refuse: cannot pass through (%s); fallback: %s\n", d->why_not,
				d->fallback_what);
			break;
		}
	}
}
