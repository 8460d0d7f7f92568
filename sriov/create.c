// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Creating VFs: the steps the kernel demands, in order, each sysfs write
 * journaled (vfio_journal_apply), with a rollback through vfio_restore when
 * a step fails, and a commit (the PF's journal dropped) when all succeed.
 *
 *   1. a non-zero VF count changes only through 0 (drivers/pci/iov.c
 *      sriov_numvfs_store: -EBUSY otherwise);
 *   2. sriov_numvfs needs a PF driver with sriov_configure (-ENOENT without
 *      one, LAB.md): a driverless PF gets its own driver (drivers_probe) or
 *      pci-pf-stub (drivers/pci/pci-pf-stub.c, matches only by override);
 *   3. sriov_drivers_autoprobe off while the VFs appear, so no host driver
 *      probes a VF before it is provisioned or bound to vfio-pci;
 *   4. sriov_numvfs := N, then wait for the VFs' uevents;
 *   5. device-class provisioning (NVMe Virtualization Management);
 *   6. bind; sriov_drivers_autoprobe back as it was (before the host
 *      driver is asked for, since drivers_probe binds nothing to a VF
 *      without an override while it is off).
 *
 * Why a commit: the journal exists so that a crash mid-operation can be
 * undone by `passvm vfio restore`. Once create has succeeded, the VF count
 * is what the user asked for; keeping the PF's journal would let the next
 * `vfio restore` set it back to 0 and destroy VFs a VM is configured to use.
 * The VFs' journals stay: restore gives back their bindings, not their
 * existence (docs/sriov.md).
 */
#include "sriov.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PF_STUB "pci-pf-stub"

/* Step 2: give a driverless PF a driver that can enable SR-IOV. */
static int ensure_pf_driver(const struct vfio_host *host, struct sriov_pf *pf,
			    struct sriov_report *rep)
{
	const struct pci_addr *a = &pf->info.addr;
	if (pf->info.driver[0])
		return 0;
	int r = pf->info.driver_override[0] ? 0 : sriov_apply(host, a, VFIO_CHANGE_PROBE, NULL);
	if (r < 0 && r != -ENODEV) {
		snprintf(rep->why, sizeof(rep->why), "drivers_probe of the PF failed");
		return r;
	}
	struct pci_dev_info now;
	r = pci_dev_read(host->root, a, &now);
	if (r < 0)
		return r;
	if (now.driver[0]) {
		sriov_note(rep, "%s had no driver: bound its own driver %s (drivers_probe)",
			   pf->info.bdf, now.driver);
		pf->info = now;
		return 0;
	}
	if (!host_root_exists(host->root, "sys/bus/pci/drivers/" PF_STUB)) {
		snprintf(rep->why, sizeof(rep->why),
			 "the PF has no driver, none claims it, and " PF_STUB
			 " is not loaded (modprobe " PF_STUB ")");
		return -ENOENT;
	}
	r = sriov_apply(host, a, VFIO_CHANGE_OVERRIDE, PF_STUB);
	if (r == 0)
		r = sriov_apply(host, a, VFIO_CHANGE_PROBE, NULL);
	if (r == 0)
		r = pci_dev_read(host->root, a, &now);
	if (r == 0 && strcmp(now.driver, PF_STUB) != 0)
		r = -EIO;
	if (r < 0) {
		snprintf(rep->why, sizeof(rep->why), "binding " PF_STUB " to the PF failed");
		return r;
	}
	sriov_note(rep, "%s had no driver and none claims it: bound " PF_STUB
		   " (it only enables SR-IOV)", pf->info.bdf);
	pf->info = now;
	return 0;
}

static int reread(const struct vfio_host *host, struct sriov_pf *pf)
{
	/* sriov_pf_read clears *pf first: take the address out of it. */
	struct pci_addr addr = pf->info.addr;
	sriov_pf_free(pf);
	return sriov_pf_read(host->root, &addr, pf);
}

/* Steps 4-6, after the count went to 0 and the PF has a driver. */
static int create_vfs(const struct vfio_host *host, struct sriov_pf *pf,
		      const struct sriov_create_opts *o, bool count_changes,
		      struct sriov_report *rep)
{
	const struct pci_addr *a = &pf->info.addr;
	bool autoprobe_was = pf->autoprobe;
	char value[16];
	int r = 0;

	if (count_changes && pf->autoprobe) {
		r = sriov_apply(host, a, VFIO_CHANGE_SRIOV_AUTOPROBE, "0");
		if (r < 0) {
			snprintf(rep->why, sizeof(rep->why),
				 "turning sriov_drivers_autoprobe off failed");
			return r;
		}
		sriov_note(rep, "%s: sriov_drivers_autoprobe 1 -> 0 while the VFs appear",
			   pf->info.bdf);
	}
	if (count_changes) {
		struct sriov_vf_watch w;
		snprintf(value, sizeof(value), "%u", o->count);
		r = sriov_vf_watch_begin(host->root, &w);
		if (r == 0) {
			r = sriov_apply(host, a, VFIO_CHANGE_SRIOV_NUMVFS, value);
			if (r < 0)
				snprintf(rep->why, sizeof(rep->why),
					 "writing %u to sriov_numvfs failed", o->count);
		}
		if (r == 0) {
			r = sriov_vf_watch_wait(&w, pf->info.bdf, o->count, o->timeout_ms);
			if (r < 0)
				snprintf(rep->why, sizeof(rep->why),
					 "the VFs did not appear within %d ms", o->timeout_ms);
		}
		sriov_vf_watch_end(&w);
		if (r < 0)
			return r;
		sriov_note(rep, "%s: sriov_numvfs %u -> %u", pf->info.bdf, pf->num_vfs, o->count);
	}
	r = reread(host, pf);
	if (r == 0 && pf->nvfs != o->count) {
		snprintf(rep->why, sizeof(rep->why), "%zu VFs found after creating %u",
			 pf->nvfs, o->count);
		r = -EIO;
	}
	if (r < 0)
		return r;

	const struct sriov_provisioner *prov = sriov_provisioner_for(pf);
	if (prov) {
		r = prov->provision(host->root, pf, o->count, &o->prov, rep->prov,
				    rep->why, sizeof(rep->why));
		if (r < 0)
			return r;
		if (r == 0) {
			rep->nprov = o->count;
			sriov_note(rep, "%s: VFs provisioned (%s)", pf->info.bdf, prov->name);
		} else {
			sriov_note(rep, "%s: no provisioning: %s", pf->info.bdf, rep->why);
			rep->why[0] = '\0';
		}
		r = 0;
	}

	bool want[SRIOV_MAX_VFS];
	for (size_t i = 0; i < SRIOV_MAX_VFS; i++)
		want[i] = true;
	/* vfio-pci binds through driver_override, which works with
	 * autoprobe off; the host driver needs autoprobe back on first. */
	if (o->bind == SRIOV_BIND_VFIO)
		r = sriov_bind_vfs(host, pf, want, o->bind, o->timeout_ms, rep);
	if (r == 0 && count_changes && autoprobe_was) {
		r = sriov_apply(host, a, VFIO_CHANGE_SRIOV_AUTOPROBE, "1");
		if (r < 0)
			snprintf(rep->why, sizeof(rep->why),
				 "turning sriov_drivers_autoprobe back on failed");
		else
			sriov_note(rep, "%s: sriov_drivers_autoprobe 0 -> 1 (as it was)",
				   pf->info.bdf);
	}
	if (r == 0 && o->bind != SRIOV_BIND_VFIO)
		r = sriov_bind_vfs(host, pf, want, o->bind, o->timeout_ms, rep);
	return r;
}

/* Undo of a failed create: every journaled change to the PF and its VFs,
 * newest state first (vfio_restore orders VFs before PFs). */
static void roll_back(const struct vfio_host *host, const struct sriov_pf *pf,
		      struct sriov_report *rep)
{
	struct pci_addr addrs[SRIOV_MAX_VFS + 1];
	struct vfio_restore_result *res;
	size_t n = 0, nres;
	for (size_t i = 0; i < pf->nvfs; i++)
		addrs[n++] = pf->vfs[i].info.addr;
	addrs[n++] = pf->info.addr;
	int r = vfio_restore(host, addrs, n, &res, &nres);
	free(res);
	sriov_note(rep, "%s", r == 0 ? "rolled back: the PF and its VFs are as they were"
				     : "roll-back incomplete: run `passvm vfio restore`");
}

int sriov_create(const struct vfio_host *host, const struct pci_addr *pf_addr,
		 const struct sriov_create_opts *o, struct sriov_report *rep)
{
	struct sriov_pf pf;
	struct vfio_journal_entry je;
	struct vfio_locks locks;
	memset(rep, 0, sizeof(*rep));
	rep->culprit = *pf_addr;
	int r = sriov_pf_read(host->root, pf_addr, &pf);
	if (r < 0)
		return r;
	if (o->count > pf.total_vfs) {
		sriov_pf_free(&pf);
		return -ERANGE;
	}
	/* A journal on the PF is passvm's VFIO ownership of it, or what a
	 * crashed operation left: the commit below would lose it. */
	if (vfio_journal_get(host, pf_addr, &je) == 0) {
		sriov_pf_free(&pf);
		return -EALREADY;
	}
	bool count_changes = pf.num_vfs != o->count;
	if (count_changes && pf.num_vfs) {
		r = sriov_check_vfs_free(host, &pf, o->force, rep);
		if (r < 0) {
			sriov_pf_free(&pf);
			return r;
		}
	}
	r = vfio_lock_devices(host, pf_addr, 1, &locks);
	if (r < 0) {
		sriov_pf_free(&pf);
		return r;
	}

	if (count_changes && pf.num_vfs) {
		const struct sriov_provisioner *prov = sriov_provisioner_for(&pf);
		if (prov)
			r = prov->release(host->root, &pf, pf.num_vfs, rep->why, sizeof(rep->why));
		if (r == 0)
			r = sriov_apply(host, pf_addr, VFIO_CHANGE_SRIOV_NUMVFS, "0");
		if (r < 0) {
			if (!rep->why[0])
				snprintf(rep->why, sizeof(rep->why), "writing 0 to sriov_numvfs failed");
			goto fail;
		}
		sriov_note(rep, "%s: sriov_numvfs %u -> 0 first (a non-zero count changes "
			   "only through 0)", pf.info.bdf, pf.num_vfs);
		r = sriov_forget_vanished_vfs(host, &pf);
		if (r == 0)
			r = reread(host, &pf);
		if (r < 0)
			goto fail;
	}
	if (o->count == 0)
		goto commit;
	r = ensure_pf_driver(host, &pf, rep);
	if (r == 0)
		r = create_vfs(host, &pf, o, count_changes, rep);
	if (r < 0)
		goto fail;
commit:
	r = vfio_journal_forget(host, pf_addr);
	vfio_unlock_devices(&locks);
	sriov_pf_free(&pf);
	return r;
fail:
	vfio_unlock_devices(&locks);
	/* Re-read so the roll-back names the VFs that exist now. */
	if (reread(host, &pf) == 0)
		roll_back(host, &pf, rep);
	sriov_pf_free(&pf);
	return r;
}
