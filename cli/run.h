/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * passvm run, in the files that each own one part of it:
 *   cmd_run.c      the flow: options, plan, bind, the VMM, give back
 *   run_options.c  the command line into a vmm_config (usage, --disk)
 *   run_report.c   one line for a VM that did not start or a device plan
 *   run_host.c     what changes on the host around the VM: binding and
 *                  giving back, fallback disks and macvtaps, and the hook
 *                  through which vmm_vm_create plugs passed-through devices
 *   run_vmm.c      the VMM itself: seccomp, the drop to --user, the root
 *                  parent that outlives it, signals, fault points
 *   run_devices.c  the device plan (which device passes, falls back, is
 *                  refused) and --device's grammar
 */
#ifndef PASSVM_CLI_RUN_H
#define PASSVM_CLI_RUN_H

#include "net.h"
#include "run_devices.h"
#include "sandbox.h"
#include "virtio.h"
#include "vmm.h"

#include <signal.h>
#include <sys/types.h>

/* ===== run_options.c ======================================================= */
#define RUN_MAX_DISKS 16

struct run_disks {
	struct virtio_blk_config disks[RUN_MAX_DISKS];
	char *specs[RUN_MAX_DISKS];     /* strdup'ed, cut at the commas */
	unsigned n;
};

struct run_args {
	struct run_device_arg devices[RUN_DEVICES_MAX];
	size_t ndevices;
	bool dry_run;
	enum vmm_sandbox_mode seccomp;
	const char *user;
	/* --control, --console-log: the managed path (cli/run_managed.c). */
	const char *control_path, *console_log_path;
	struct vmm_net_config nets[VMM_NET_MAX_IFS];
	struct run_disks disks;          /* --disk, then fallback disks */
};

/* The command line into cfg and ra (cfg points into ra: keep ra alive).
 * 1 for --help (printed), 0, or -EINVAL after one line on stderr. */
int run_parse_args(int argc, char **argv, struct vmm_config *cfg, struct run_args *ra);
void run_args_free(struct run_args *ra);
/* -E2BIG, with one line, when --memory is more than the host has. */
int run_check_host_memory(const struct vmm_config *cfg);

/* ===== run_report.c ======================================================== */
/* One line for a VM that did not start: what, which object, why, what to do. */
void run_report_create_error(const struct vmm_vm *vm, const struct vmm_config *cfg, int r);
/* One line per device that does not go to the guest as asked. */
void run_report_plan(const struct run_plan *plan);

/* ===== run_host.c ========================================================== */
/* The passed-through devices, plugged by vmm_vm_create as its extra phase
 * (so a managed VM rebuilt after a guest reset gets them again). */
struct run_passthrough_hook {
	struct vmm_passthrough pt;
	struct vmm_passthrough_device devs[RUN_DEVICES_MAX];
	size_t count;
	struct pci_addr bad;
	char why[512];
};

/* The devices the plan passes through; wired into cfg when there are any. */
void run_passthrough_hook_attach(struct run_passthrough_hook *h, const struct run_plan *plan,
				 struct vmm_config *cfg);
void run_report_passthrough_error(const void *hook_ctx, int r);
/* fallback=auto: disks and macvtap interfaces for the plan's fallbacks,
 * added to cfg (in ra). On failure, one line; delete what was made with
 * run_delete_fallback_nets. */
int run_add_fallbacks(const struct run_plan *plan, struct vmm_config *cfg, struct run_args *ra);
void run_delete_fallback_nets(void);
/* How many fallback macvtaps this run made (they need the VMM forked, so
 * this process deletes them however the VMM ends). */
size_t run_fallback_nets_count(void);
/* Binds the plan's groups to vfio-pci (journaled); one line on failure. */
int run_take_devices(const struct vfio_host *host, const struct run_plan *plan);
/* Gives back what run_take_devices bound; one line per device that failed. */
int run_give_back(const struct vfio_host *host, const struct run_plan *plan);

/* ===== run_vmm.c =========================================================== */
/* Set by SIGINT/SIGTERM (run_install_signals); the running VM is told too. */
extern volatile sig_atomic_t run_interrupted;
void run_install_signals(void);

struct run_user {
	bool set;
	uid_t uid;
	gid_t gid;
};

/* --user NAME: must be run as root and name an unprivileged user. */
int run_lookup_user(const char *name, struct run_user *u);
/* PASSVM_TEST_FAULT_AT: see run_vmm.c. */
void run_fault_point(const char *point);
/* Runs the VMM in this process; returns the exit status. */
int run_vmm(struct vmm_config *cfg, const struct run_args *ra, const struct run_user *user,
	    pid_t parent);
/* Runs the VMM in a child and waits for it as its root parent. */
int run_vmm_forked(struct vmm_config *cfg, const struct run_args *ra,
		   const struct run_user *user);

#endif
