// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Binding whole IOMMU groups to vfio-pci: the plan (which members, what
 * happens to each, what refuses the bind) and its execution.
 *
 * Why whole groups: the IOMMU cannot isolate the members of a group from
 * each other, so VFIO only lets a group be used when every member is bound
 * to a VFIO driver, unbound, or a bridge on pcieport
 * (Documentation/driver-api/vfio.rst, "Groups, Devices, and IOMMUs";
 * drivers/vfio/group.c vfio_group_viable / vfio_dev_driver_allowed).
 *
 * Why driver_override + drivers_probe and never new_id: new_id adds an ID to
 * vfio-pci's table, so every device with that vendor:device (a second,
 * identical NIC the host still needs; a hot-plugged one later) is grabbed
 * too, and the ID stays until removed. driver_override names one device
 * (Documentation/ABI/testing/sysfs-bus-pci, "driver_override").
 */
#include "vfio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VFIO_PCI_DRIVER "vfio-pci"

static const char *const action_names[] = {
	[VFIO_MEMBER_BIND] = "bind",
	[VFIO_MEMBER_ALREADY_VFIO] = "already on vfio-pci",
	[VFIO_MEMBER_LEFT_ALONE] = "left alone",
	[VFIO_MEMBER_REFUSED] = "refused",
};

const char *vfio_member_action_name(enum vfio_member_action action)
{
	return (size_t)action < ARRAY_SIZE(action_names) ? action_names[action] : "?";
}

void vfio_plan_free(struct vfio_plan *plan)
{
	for (size_t i = 0; i < plan->count; i++)
		free(plan->groups[i].members);
	free(plan->groups);
	memset(plan, 0, sizeof(*plan));
}

static bool is_named(const struct pci_addr *named, size_t count,
		     const struct pci_addr *addr)
{
	for (size_t i = 0; i < count; i++)
		if (pci_addr_equal(&named[i], addr))
			return true;
	return false;
}

/* The decision for one member; the order of the rules is the policy. */
static void decide(struct vfio_member *m, bool force)
{
	char use_why[sizeof(m->why)];
	snprintf(use_why, sizeof(use_why), "%s", m->why);
	switch (m->use) {
	case VFIO_USE_BRIDGE:
		m->action = VFIO_MEMBER_LEFT_ALONE;
		return;
	case VFIO_USE_CHIPSET:
		m->action = VFIO_MEMBER_REFUSED;
		snprintf(m->why, sizeof(m->why), "%.180s; never taken, not even with --force",
			 use_why);
		return;
	case VFIO_USE_HOST:
		if (!m->named && !force) {
			m->action = VFIO_MEMBER_REFUSED;
			snprintf(m->why, sizeof(m->why),
				 "in use on the host: %.180s; name it too to take it, or pass --force",
				 use_why);
			return;
		}
		break;
	case VFIO_USE_FREE:
		break;
	}
	m->action = strcmp(m->info.driver, VFIO_PCI_DRIVER) == 0
		? VFIO_MEMBER_ALREADY_VFIO : VFIO_MEMBER_BIND;
}

static int plan_group(const struct vfio_host *host, int group,
		      const struct pci_addr *named, size_t nnamed, bool force,
		      struct vfio_group_plan *gp, size_t *refused)
{
	struct pci_addr *addrs;
	size_t n;
	int r = iommu_group_devices(host->root, group, &addrs, &n);
	if (r < 0)
		return r;
	gp->group = group;
	gp->members = calloc(n ? n : 1, sizeof(*gp->members));
	gp->count = 0;
	if (!gp->members) {
		free(addrs);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct vfio_member *m = &gp->members[gp->count];
		r = pci_dev_read(host->root, &addrs[i], &m->info);
		if (r == -ENODEV)
			continue; /* removed while we looked */
		if (r < 0)
			break;
		m->named = is_named(named, nnamed, &addrs[i]);
		r = vfio_classify_use(host->root, &m->info, &m->use, m->why, sizeof(m->why));
		if (r < 0)
			break;
		decide(m, force);
		if (m->action == VFIO_MEMBER_REFUSED)
			(*refused)++;
		gp->count++;
	}
	free(addrs);
	return r;
}

int vfio_plan_bind(const struct vfio_host *host, const struct pci_addr *named,
		   size_t count, bool force, struct vfio_plan *plan,
		   struct pci_addr *bad)
{
	memset(plan, 0, sizeof(*plan));
	plan->force = force;
	plan->groups = calloc(count ? count : 1, sizeof(*plan->groups));
	if (!plan->groups)
		return -ENOMEM;

	int r = 0;
	for (size_t i = 0; i < count && r == 0; i++) {
		struct pci_dev_info dev;
		r = pci_dev_read(host->root, &named[i], &dev);
		if (r < 0) {
			*bad = named[i];
			break;
		}
		if (dev.iommu_group < 0) {
			*bad = named[i];
			r = -ENXIO;
			break;
		}
		bool seen = false;
		for (size_t g = 0; g < plan->count; g++)
			seen |= plan->groups[g].group == dev.iommu_group;
		if (seen)
			continue;
		r = plan_group(host, dev.iommu_group, named, count, force,
			       &plan->groups[plan->count], &plan->refused);
		plan->count++;
	}
	if (r < 0)
		vfio_plan_free(plan);
	return r;
}

/* Takes one device: override first, so that whatever probes it next (our
 * drivers_probe, or a racing uevent) can only pick vfio-pci; then unbind;
 * then probe. Each step through the journal. */
static int bind_member(const struct vfio_host *host, const struct pci_dev_info *dev)
{
	struct vfio_change c = { .dev = dev->addr };
	int r;

	c.kind = VFIO_CHANGE_OVERRIDE;
	c.value = VFIO_PCI_DRIVER;
	r = vfio_journal_apply(host, &c);
	if (r < 0)
		return r;
	if (dev->driver[0]) {
		c.kind = VFIO_CHANGE_UNBIND;
		c.value = dev->driver;
		r = vfio_journal_apply(host, &c);
		if (r < 0)
			return r;
	}
	c.kind = VFIO_CHANGE_PROBE;
	c.value = NULL;
	r = vfio_journal_apply(host, &c);
	if (r < 0)
		return r;

	struct pci_dev_info now;
	r = pci_dev_read(host->root, &dev->addr, &now);
	if (r < 0)
		return r;
	/* drivers_probe succeeds even when no driver took the device; the
	 * driver link is the only proof. */
	return strcmp(now.driver, VFIO_PCI_DRIVER) == 0 ? 0 : -EIO;
}

/* After a failed bind: give back the members this call set out to bind.
 * Those it never reached have no journal and are reported as untouched. */
static int roll_back(const struct vfio_host *host, const struct pci_addr *addrs, size_t n)
{
	struct vfio_restore_result *res;
	size_t nres;
	int r = vfio_restore(host, addrs, n, &res, &nres);
	free(res);
	return r;
}

int vfio_bind_apply(const struct vfio_host *host, const struct vfio_plan *plan,
		    int timeout_ms, struct pci_addr *failed, int *rollback_err)
{
	*rollback_err = 0;
	if (plan->refused)
		return -EPERM;
	if (!host_root_exists(host->root, "sys/bus/pci/drivers/" VFIO_PCI_DRIVER))
		return -ENOPKG;

	size_t total = 0;
	for (size_t g = 0; g < plan->count; g++)
		total += plan->groups[g].count;
	struct pci_addr *addrs = calloc(total ? total : 1, sizeof(*addrs));
	if (!addrs)
		return -ENOMEM;
	size_t n = 0;
	for (size_t g = 0; g < plan->count; g++)
		for (size_t i = 0; i < plan->groups[g].count; i++)
			if (plan->groups[g].members[i].action == VFIO_MEMBER_BIND)
				addrs[n++] = plan->groups[g].members[i].info.addr;
	struct vfio_locks locks;
	int r = vfio_lock_devices(host, addrs, n, &locks);
	if (r < 0) {
		free(addrs);
		return r;
	}

	for (size_t g = 0; g < plan->count && r == 0; g++) {
		const struct vfio_group_plan *gp = &plan->groups[g];
		for (size_t i = 0; i < gp->count && r == 0; i++) {
			const struct vfio_member *m = &gp->members[i];
			if (m->action != VFIO_MEMBER_BIND)
				continue;
			/* Re-read under the lock: a concurrent passvm may have
			 * bound it while we waited for the lock. */
			struct pci_dev_info now;
			r = pci_dev_read(host->root, &m->info.addr, &now);
			if (r == 0 && strcmp(now.driver, VFIO_PCI_DRIVER) != 0)
				r = bind_member(host, &now);
			if (r < 0)
				*failed = m->info.addr;
		}
		if (r == 0) {
			r = vfio_wait_group_node(host->root, gp->group, timeout_ms);
			if (r < 0 && gp->count)
				*failed = gp->members[0].info.addr;
		}
	}
	/* The locks are per open file: restore takes its own, so ours go
	 * first (a second flock from this process would wait on itself). */
	vfio_unlock_devices(&locks);
	if (r < 0)
		*rollback_err = roll_back(host, addrs, n);
	free(addrs);
	return r;
}
