// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Device classes whose VFs need the PF to hand them resources before they
 * work. One entry per class, each in its own file; the first that matches a
 * PF provisions its VFs.
 */
#include "sriov.h"

extern const struct sriov_provisioner sriov_provisioner_nvme;

static const struct sriov_provisioner *const provisioners[] = {
	&sriov_provisioner_nvme,
};

const struct sriov_provisioner *sriov_provisioner_for(const struct sriov_pf *pf)
{
	for (size_t i = 0; i < ARRAY_SIZE(provisioners); i++)
		if (provisioners[i]->matches(pf))
			return provisioners[i];
	return NULL;
}
