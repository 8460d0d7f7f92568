// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Binding VFs: to vfio-pci through vfio/'s journaled group ownership, to
 * the host's driver, or to none. Every sysfs write goes through
 * vfio_journal_apply.
 */
#include "sriov.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sriov_note(struct sriov_report *rep, const char *fmt, ...)
{
	if (rep->nnotes >= SRIOV_MAX_NOTES)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rep->notes[rep->nnotes++], sizeof(rep->notes[0]), fmt, ap);
	va_end(ap);
}

int sriov_apply(const struct vfio_host *host, const struct pci_addr *addr,
		enum vfio_change_kind kind, const char *value)
{
	struct vfio_change c = { .kind = kind, .dev = *addr, .value = value };
	return vfio_journal_apply(host, &c);
}

static int bind_vfio(const struct vfio_host *host, const struct sriov_pf *pf,
		     const bool *want, int timeout_ms, struct sriov_report *rep)
{
	struct pci_addr addrs[SRIOV_MAX_VFS], bad = pf->info.addr;
	size_t n = 0;
	for (size_t i = 0; i < pf->nvfs; i++)
		if (want[pf->vfs[i].index] && strcmp(pf->vfs[i].info.driver, "vfio-pci") != 0)
			addrs[n++] = pf->vfs[i].info.addr;
	if (!n)
		return 0;
	struct vfio_plan plan;
	int r = vfio_plan_bind(host, addrs, n, false, &plan, &bad);
	if (r < 0) {
		rep->culprit = bad;
		snprintf(rep->why, sizeof(rep->why), "%s",
			 r == -ENXIO ? "the VF has no IOMMU group (no IOMMU, or it is off)"
				     : "planning the vfio-pci bind failed");
		return r;
	}
	for (size_t g = 0; g < plan.count && r == 0; g++) {
		for (size_t i = 0; i < plan.groups[g].count; i++) {
			const struct vfio_member *m = &plan.groups[g].members[i];
			if (m->action == VFIO_MEMBER_REFUSED && r == 0) {
				rep->culprit = m->info.addr;
				snprintf(rep->why, sizeof(rep->why),
					 "IOMMU group %d of the VFs: %s %.150s", plan.groups[g].group,
					 m->info.bdf, m->why);
				r = -EPERM;
			}
		}
	}
	if (r == 0) {
		/* On failure vfio_bind_apply gives back what it bound; a
		 * failed create then restores the rest (vfio_restore). */
		int rollback_err = 0;
		r = vfio_bind_apply(host, &plan, timeout_ms, &bad, &rollback_err);
		if (r < 0) {
			rep->culprit = bad;
			snprintf(rep->why, sizeof(rep->why), "binding to vfio-pci failed%s",
				 rollback_err ? " (and giving back the VFs bound so far)" : "");
		}
	}
	for (size_t g = 0; g < plan.count && r == 0; g++)
		sriov_note(rep, "IOMMU group %d: %zu function(s) on vfio-pci, /dev/vfio/%d ready",
			   plan.groups[g].group, plan.groups[g].count, plan.groups[g].group);
	vfio_plan_free(&plan);
	return r;
}

/* Off vfio-pci (or another driver) to the host's choice, or to none. */
static int bind_host_or_none(const struct vfio_host *host, const struct sriov_vf *vf,
			     enum sriov_bind bind, struct sriov_report *rep)
{
	const struct pci_addr *a = &vf->info.addr;
	bool on_host = vf->info.driver[0] && strcmp(vf->info.driver, "vfio-pci") != 0;
	int r = 0;
	if (bind == SRIOV_BIND_HOST && on_host && !vf->info.driver_override[0])
		return 0;
	if (bind == SRIOV_BIND_NONE && !vf->info.driver[0] && !vf->info.driver_override[0])
		return 0;
	if (vf->info.driver_override[0])
		r = sriov_apply(host, a, VFIO_CHANGE_OVERRIDE, "");
	if (r == 0 && vf->info.driver[0])
		r = sriov_apply(host, a, VFIO_CHANGE_UNBIND, vf->info.driver);
	/* With sriov_drivers_autoprobe off, drivers_probe binds nothing to a
	 * VF without an override (LAB.md pitfalls): the caller turns it
	 * back on before asking for the host driver. */
	if (r == 0 && bind == SRIOV_BIND_HOST)
		r = sriov_apply(host, a, VFIO_CHANGE_PROBE, NULL);
	if (r < 0) {
		rep->culprit = *a;
		snprintf(rep->why, sizeof(rep->why), "rebinding the VF failed");
		return r;
	}
	struct pci_dev_info now;
	r = pci_dev_read(host->root, a, &now);
	if (r == 0 && bind == SRIOV_BIND_HOST && !now.driver[0] && host->root->is_real) {
		/* Not an error: no host driver claims this VF (none loaded). */
		sriov_note(rep, "%s: no host driver claimed it", vf->info.bdf);
	} else if (r == 0) {
		sriov_note(rep, "%s: %s", vf->info.bdf,
			   now.driver[0] ? now.driver : "(no driver)");
	}
	/* The binding is the user's lasting intent: nothing to restore. */
	return vfio_journal_forget(host, a);
}

int sriov_bind_vfs(const struct vfio_host *host, const struct sriov_pf *pf,
		   const bool *want, enum sriov_bind bind, int timeout_ms,
		   struct sriov_report *rep)
{
	if (bind == SRIOV_BIND_VFIO)
		return bind_vfio(host, pf, want, timeout_ms, rep);
	for (size_t i = 0; i < pf->nvfs; i++) {
		if (!want[pf->vfs[i].index])
			continue;
		int r = bind_host_or_none(host, &pf->vfs[i], bind, rep);
		if (r < 0)
			return r;
	}
	return 0;
}
