// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Giving devices back: converge each journaled device on the state recorded
 * before passvm first touched it, then forget it. Restore compares with the
 * live sysfs instead of undoing the recorded steps one by one, so it does
 * the right thing whatever step a crash interrupted (override set but still
 * on its driver; unbound; bound to vfio-pci), and running it again finds
 * nothing left to do.
 */
#include "vfio.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int apply(const struct vfio_host *host, const struct pci_addr *addr,
		 enum vfio_change_kind kind, const char *value)
{
	struct vfio_change c = { .kind = kind, .dev = *addr, .value = value };
	return vfio_journal_apply(host, &c);
}

static int restore_numvfs(const struct vfio_host *host,
			  const struct vfio_journal_entry *e)
{
	char path[128], value[24];
	uint64_t now;
	snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/sriov_numvfs", e->bdf);
	int r = host_root_read_u64(host->root, path, &now);
	if (r < 0 || now == e->orig_numvfs)
		return r;
	/* The kernel only changes a non-zero VF count through 0
	 * (drivers/pci/iov.c sriov_numvfs_store: -EBUSY otherwise). */
	if (now != 0) {
		r = apply(host, &e->addr, VFIO_CHANGE_SRIOV_NUMVFS, "0");
		if (r < 0 || e->orig_numvfs == 0)
			return r;
	}
	snprintf(value, sizeof(value), "%" PRIu64, e->orig_numvfs);
	return apply(host, &e->addr, VFIO_CHANGE_SRIOV_NUMVFS, value);
}

/* sriov/ turns a PF's sriov_drivers_autoprobe off while it creates VFs for
 * vfio-pci, so no host driver grabs them; a crash in between must not leave
 * it off. */
static int restore_autoprobe(const struct vfio_host *host,
			     const struct vfio_journal_entry *e)
{
	char path[128];
	uint64_t now;
	snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/sriov_drivers_autoprobe",
		 e->bdf);
	int r = host_root_read_u64(host->root, path, &now);
	if (r < 0 || now == e->orig_autoprobe)
		return r;
	return apply(host, &e->addr, VFIO_CHANGE_SRIOV_AUTOPROBE,
		     e->orig_autoprobe ? "1" : "0");
}

static int restore_one(const struct vfio_host *host, const struct vfio_journal_entry *e,
		       struct vfio_restore_result *res)
{
	struct pci_dev_info dev;
	int r = pci_dev_read(host->root, &e->addr, &dev);
	if (r == -ENODEV) {
		/* A VF that went away with its PF's sriov_numvfs: there is
		 * nothing left to give back. */
		res->vanished = true;
		return vfio_journal_forget(host, &e->addr);
	}
	if (r < 0)
		return r;
	snprintf(res->from, sizeof(res->from), "%s", dev.driver);

	/* Unbinding vfio-pci from a device whose group a VMM holds open
	 * blocks until the VMM lets go (vfio_unregister_group_dev waits), and
	 * yanks the device from a running guest: refuse instead. */
	if (strcmp(dev.driver, "vfio-pci") == 0 && dev.iommu_group >= 0) {
		struct vfio_holder *h;
		size_t nh;
		r = vfio_group_holders(host->root, dev.iommu_group, &h, &nh);
		free(h);
		if (r < 0)
			return r;
		if (nh)
			return -EBUSY;
	}

	if (e->has_numvfs) {
		r = restore_numvfs(host, e);
		if (r < 0)
			return r;
	}
	if (e->has_autoprobe) {
		r = restore_autoprobe(host, e);
		if (r < 0)
			return r;
	}
	if (strcmp(dev.driver_override, e->orig_override) != 0) {
		r = apply(host, &e->addr, VFIO_CHANGE_OVERRIDE, e->orig_override);
		if (r < 0)
			return r;
	}
	if (strcmp(dev.driver, e->orig_driver) != 0) {
		if (dev.driver[0]) {
			r = apply(host, &e->addr, VFIO_CHANGE_UNBIND, dev.driver);
			if (r < 0)
				return r;
		}
		if (e->orig_driver[0]) {
			/* bind names the driver; if it declines (-ENODEV when the
			 * ID table no longer matches, say), let the driver core
			 * choose, as at boot. The check below decides. */
			if (apply(host, &e->addr, VFIO_CHANGE_BIND, e->orig_driver) < 0)
				apply(host, &e->addr, VFIO_CHANGE_PROBE, NULL);
		}
	}

	r = pci_dev_read(host->root, &e->addr, &dev);
	if (r < 0)
		return r;
	if (strcmp(dev.driver, e->orig_driver) != 0 ||
	    strcmp(dev.driver_override, e->orig_override) != 0)
		return -EIO;
	return vfio_journal_forget(host, &e->addr);
}

/* Endpoints and VFs before the PFs whose sriov_numvfs passvm changed: a VF
 * is given back while it exists, then its PF's VF count. */
static int compare_restore_order(const void *a, const void *b)
{
	const struct vfio_journal_entry *x = a, *y = b;
	if (x->has_numvfs != y->has_numvfs)
		return x->has_numvfs ? 1 : -1;
	return strcmp(x->bdf, y->bdf);
}

int vfio_restore(const struct vfio_host *host, const struct pci_addr *addrs,
		 size_t count, struct vfio_restore_result **results_out,
		 size_t *nresults)
{
	struct vfio_journal_entry *entries;
	size_t n;
	*results_out = NULL;
	*nresults = 0;
	int r = vfio_journal_list(host, &entries, &n);
	if (r < 0)
		return r;

	size_t want = count ? count : n;
	struct vfio_restore_result *results = calloc(want ? want : 1, sizeof(*results));
	struct vfio_journal_entry *todo = calloc(n ? n : 1, sizeof(*todo));
	struct pci_addr *lock_addrs = calloc(n ? n : 1, sizeof(*lock_addrs));
	if (!results || !todo || !lock_addrs) {
		free(results);
		free(todo);
		free(lock_addrs);
		free(entries);
		return -ENOMEM;
	}
	size_t ntodo = 0, nres = 0;
	if (count == 0) {
		if (n)
			memcpy(todo, entries, n * sizeof(*todo));
		ntodo = n;
	} else {
		for (size_t i = 0; i < count; i++) {
			bool found = false;
			for (size_t j = 0; j < n && !found; j++) {
				if (pci_addr_equal(&entries[j].addr, &addrs[i])) {
					todo[ntodo++] = entries[j];
					found = true;
				}
			}
			if (!found) {
				/* Asked for, never changed (or already given
				 * back): nothing to do, and not an error. */
				results[nres].addr = addrs[i];
				pci_addr_format(&addrs[i], results[nres].bdf);
				results[nres].not_journaled = true;
				nres++;
			}
		}
	}
	free(entries);
	qsort(todo, ntodo, sizeof(*todo), compare_restore_order);

	for (size_t i = 0; i < ntodo; i++)
		lock_addrs[i] = todo[i].addr;
	struct vfio_locks locks;
	r = vfio_lock_devices(host, lock_addrs, ntodo, &locks);
	free(lock_addrs);
	if (r < 0) {
		free(todo);
		free(results);
		return r;
	}
	int first_err = 0;
	for (size_t i = 0; i < ntodo; i++) {
		struct vfio_restore_result *res = &results[nres++];
		struct vfio_journal_entry now;
		res->addr = todo[i].addr;
		snprintf(res->bdf, sizeof(res->bdf), "%s", todo[i].bdf);
		snprintf(res->to, sizeof(res->to), "%s", todo[i].orig_driver);
		/* Re-read under the lock: another restore may have finished
		 * this device while we waited. */
		int g = vfio_journal_get(host, &todo[i].addr, &now);
		if (g == -ENOENT) {
			res->not_journaled = true;
			continue;
		}
		res->err = g < 0 ? g : restore_one(host, &now, res);
		if (res->err < 0 && first_err == 0)
			first_err = res->err;
	}
	vfio_unlock_devices(&locks);
	free(todo);
	*results_out = results;
	*nresults = nres;
	return first_err;
}
