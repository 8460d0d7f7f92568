// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Removing VFs: sriov_numvfs to 0, after the checks that keep it from
 * pulling a device out from under a running VM or the host, and after
 * giving provisioned resources back to the PF.
 */
#include "sriov.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sriov_check_vfs_free(const struct vfio_host *host, const struct sriov_pf *pf,
			 bool force, struct sriov_report *rep)
{
	for (size_t i = 0; i < pf->nvfs; i++) {
		const struct sriov_vf *vf = &pf->vfs[i];
		/* Disabling SR-IOV removes the VF devices; for one a VMM holds
		 * through VFIO the kernel waits in vfio_unregister_group_dev
		 * until the VMM lets go, with the guest's device gone. */
		if (vf->info.iommu_group >= 0) {
			struct vfio_holder *h;
			size_t nh;
			int r = vfio_group_holders(host->root, vf->info.iommu_group, &h, &nh);
			if (r < 0)
				return r;
			if (nh) {
				rep->culprit = vf->info.addr;
				rep->holder_pid = h[0].pid;
				snprintf(rep->holder_comm, sizeof(rep->holder_comm), "%s", h[0].comm);
				snprintf(rep->why, sizeof(rep->why),
					 "VF %u (%s) is held open through /dev/vfio/%d by pid %d (%s)",
					 vf->index, vf->info.bdf, vf->info.iommu_group, h[0].pid,
					 h[0].comm);
				free(h);
				return -EBUSY;
			}
			free(h);
		}
		if (force || !vf->info.driver[0] || strcmp(vf->info.driver, "vfio-pci") == 0)
			continue;
		enum vfio_use use;
		char why[200];
		int r = vfio_classify_use(host->root, &vf->info, &use, why, sizeof(why));
		if (r < 0)
			return r;
		if (use == VFIO_USE_HOST) {
			rep->culprit = vf->info.addr;
			snprintf(rep->why, sizeof(rep->why), "VF %u (%s) is in use on the host: %s",
				 vf->index, vf->info.bdf, why);
			return -EADDRINUSE;
		}
	}
	return 0;
}

int sriov_forget_vanished_vfs(const struct vfio_host *host, const struct sriov_pf *pf)
{
	/* A VF that went with sriov_numvfs := 0 has nothing to give back;
	 * its journal would otherwise be taken for the next VF created at
	 * the same address. */
	for (size_t i = 0; i < pf->nvfs; i++) {
		struct pci_dev_info gone;
		if (pci_dev_read(host->root, &pf->vfs[i].info.addr, &gone) != -ENODEV)
			continue;
		int r = vfio_journal_forget(host, &pf->vfs[i].info.addr);
		if (r < 0)
			return r;
	}
	return 0;
}

int sriov_remove(const struct vfio_host *host, const struct pci_addr *pf_addr,
		 bool force, struct sriov_report *rep)
{
	struct sriov_pf pf;
	struct vfio_journal_entry je;
	struct vfio_locks locks;
	memset(rep, 0, sizeof(*rep));
	rep->culprit = *pf_addr;
	int r = sriov_pf_read(host->root, pf_addr, &pf);
	if (r < 0)
		return r;
	if (vfio_journal_get(host, pf_addr, &je) == 0) {
		sriov_pf_free(&pf);
		return -EALREADY;
	}
	if (pf.num_vfs == 0) {
		sriov_note(rep, "%s has no VFs: nothing to do", pf.info.bdf);
		sriov_pf_free(&pf);
		return 0;
	}
	r = sriov_check_vfs_free(host, &pf, force, rep);
	if (r == 0)
		r = vfio_lock_devices(host, pf_addr, 1, &locks);
	if (r < 0) {
		sriov_pf_free(&pf);
		return r;
	}
	const struct sriov_provisioner *prov = sriov_provisioner_for(&pf);
	if (prov) {
		r = prov->release(host->root, &pf, pf.num_vfs, rep->why, sizeof(rep->why));
		if (r < 0)
			goto out;
		sriov_note(rep, "%s: released the resources of %u VF(s) (%s)", pf.info.bdf,
			   pf.num_vfs, prov->name);
	}
	r = sriov_apply(host, pf_addr, VFIO_CHANGE_SRIOV_NUMVFS, "0");
	if (r < 0) {
		snprintf(rep->why, sizeof(rep->why), "writing 0 to sriov_numvfs failed");
		goto out;
	}
	sriov_note(rep, "%s: sriov_numvfs %u -> 0", pf.info.bdf, pf.num_vfs);
	/* An intended change: vfio_restore must not bring the VFs back. The
	 * VFs' own journals are moot now that they are gone. */
	r = vfio_journal_forget(host, pf_addr);
	if (r == 0)
		r = sriov_forget_vanished_vfs(host, &pf);
out:
	vfio_unlock_devices(&locks);
	sriov_pf_free(&pf);
	return r;
}
