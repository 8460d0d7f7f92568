// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz target: the sriov.conf parser (sriov/config.c), which reads a file
 * an administrator typed. Beyond "no crash": an accepted config must hold
 * only values the rest of passvm accepts (counts within SRIOV_MAX_VFS, VF
 * indexes below the PF's count, identities non-empty), and a rejected one
 * must say file:line.
 */
#include "sriov.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sriov_conf conf;
	char err[320];
	int r = sriov_conf_parse((const char *)data, size, "f", &conf, err, sizeof(err));
	if (r == 0) {
		for (size_t i = 0; i < conf.count; i++) {
			const struct sriov_conf_pf *pf = &conf.pfs[i];
			if (!pf->id[0] || pf->vfs > SRIOV_MAX_VFS || pf->bind > SRIOV_BIND_VFIO)
				abort();
			for (size_t k = 0; k < pf->nvf; k++) {
				char why[160];
				if (pf->vf[k].net.vf >= pf->vfs ||
				    sriov_net_check(&pf->vf[k].net, why, sizeof(why)) < 0)
					abort();
			}
		}
	} else if (strncmp(err, "f:", 2) != 0) {
		abort();
	}
	sriov_conf_free(&conf);
	return 0;
}
