/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli/run_devices.c: what `passvm run --device vfio=...` will do with each
 * device, decided before anything on the host changes: the iommu-check
 * device checks and vfio/'s group policy, then pass through, fall back to an
 * emulated virtio device that reaches the same hardware through its host
 * driver, or refuse. Then binding (journaled) and giving back.
 */
#ifndef PASSVM_CLI_RUN_DEVICES_H
#define PASSVM_CLI_RUN_DEVICES_H

#include "common.h"
#include "passthrough.h"
#include "vfio.h"

#include <stdio.h>

#define RUN_DEVICES_MAX VMM_PASSTHROUGH_MAX

enum run_fallback_mode { RUN_FALLBACK_NONE, RUN_FALLBACK_AUTO };

struct run_device_arg {
	struct pci_addr addr;
	char bdf[PCI_ADDR_STRLEN];
	enum run_fallback_mode fallback;
	struct vmm_vfio_pci_options opt;
	bool hide_hypervisor;
};

/* Parses "vfio=BDF[,fallback=auto|none][,rom=off|FILE][,hide-hypervisor]".
 * -EINVAL with *bad pointing at the offending part. */
int run_device_parse(const char *text, struct run_device_arg *out, const char **bad);

enum run_decision { RUN_PASS, RUN_FALLBACK, RUN_REFUSE };

struct run_device_plan {
	struct run_device_arg arg;
	struct pci_dev_info info;
	char name[256];               /* "Intel 82574L Gigabit Network Connection" */
	enum run_decision decision;
	char why_not[512];            /* why it cannot be passed through */
	char fallback_what[256];      /* what the guest gets instead */
	enum { RUN_FB_NONE, RUN_FB_NET, RUN_FB_BLK } fallback_kind;
	char fallback_target[128];    /* host netdev or /dev/nvmeXnY */
	char along[256];              /* group members bound with it */
};

struct run_plan {
	struct run_device_plan dev[RUN_DEVICES_MAX];
	size_t count;
	size_t refused;
	struct vfio_plan bind;        /* for the devices passed through */
	bool have_bind;
};

/* Decides every device. Changes nothing. -errno only when the host cannot
 * be read at all; decisions carry their reasons. */
int run_plan_build(const struct vfio_host *host, const struct run_device_arg *args,
		   size_t count, struct run_plan *plan);
void run_plan_free(struct run_plan *plan);
/* The plan, one block per device (what --dry-run shows). */
void run_plan_print(FILE *out, const struct run_plan *plan);

#endif
