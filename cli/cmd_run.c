// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * passvm run: boot a Linux guest on KVM; exits when the guest stops. The
 * flow lives here; each part it calls has a file of its own (cli/run.h).
 */
#include "cli.h"
#include "common.h"
#include "run.h"
#include "run_managed.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The host side before the VMM: the device plan, then fallbacks and
 * binding. true to go on; false when done, with *status set (--dry-run
 * printed, a refusal or failure said in one line). *bound tells whether
 * run_give_back is owed. */
static bool prepare_devices(struct run_args *ra, struct vmm_config *cfg,
			    const struct vfio_host *vhost, struct run_plan *plan, bool *bound,
			    int *status)
{
	*status = 1;
	int r = run_plan_build(vhost, ra->devices, ra->ndevices, plan);
	if (r == -EEXIST) {
		log_error("--device: the same device is named twice");
		*status = EXIT_USAGE;
		return false;
	}
	if (r < 0) {
		log_error_errno(r, "cannot read the host's PCI devices and IOMMU groups");
		return false;
	}
	if (ra->dry_run) {
		run_plan_print(stdout, plan);
		*status = plan->refused ? 1 : 0;
		return false;
	}
	run_report_plan(plan);
	if (plan->refused || run_add_fallbacks(plan, cfg, ra) < 0)
		return false;
	if (plan->have_bind) {
		if (run_take_devices(vhost, plan) < 0)
			return false;
		*bound = true;
	}
	return true;
}

/* Managed (--control): a guest reset rebuilds the machine in this process
 * and pause/resume starts new vCPU threads, so the main thread stays
 * unconfined (a filter cannot be lifted, and new threads would inherit
 * it); vCPU, device and console threads enter their lists as everywhere. */
static int run_managed_vm(struct vmm_config *cfg, const struct run_args *ra)
{
	static struct vmm_vm vm;
	int r = vmm_sandbox_prepare(ra->seccomp);
	if (r < 0)
		return log_error_errno(r, "cannot build the seccomp filters (--seccomp off "
				       "runs without them)"), 1;
	int status = run_managed(&vm, cfg, ra->control_path, ra->console_log_path,
				 run_report_create_error);
	vmm_sandbox_release();
	return status;
}

static int cmd_run_main(struct run_args *ra, int argc, char **argv)
{
	struct vmm_config cfg;
	int r = run_parse_args(argc, argv, &cfg, ra);
	if (r > 0)
		return 0; /* --help */
	if (r < 0 || (!ra->dry_run && run_check_host_memory(&cfg) < 0))
		return EXIT_USAGE;

	struct run_user user = { 0 };
	if (ra->user && ra->control_path) {
		log_error("--user does not work with --control yet (a guest reset rebuilds the "
			  "machine, which needs root); run without one of them");
		return EXIT_USAGE;
	}
	if (ra->user && !ra->dry_run && run_lookup_user(ra->user, &user) < 0)
		return EXIT_USAGE;
	if (!ra->ndevices && ra->dry_run) {
		printf("no --device: nothing on the host would change\n");
		return 0;
	}

	/* Signals are caught from here on: a SIGTERM while devices are
	 * being bound or the VM is starting still ends in give_back. */
	run_install_signals();

	static struct host_root root;
	static struct vfio_host vhost;
	static struct run_plan plan;
	static struct run_passthrough_hook hook;
	bool bound = false;
	int status = 1;
	if (ra->ndevices) {
		if (host_root_open(&root, "/") < 0)
			return log_error_errno(-errno, "cannot open the host root /"), 1;
		vfio_host_init(&vhost, &root);
		if (!prepare_devices(ra, &cfg, &vhost, &plan, &bound, &status))
			goto out;
	}
	if (run_interrupted)
		goto out;
	run_passthrough_hook_attach(&hook, &plan, &cfg);
	if (ra->control_path) {
		status = run_managed_vm(&cfg, ra);
		goto out;
	}
	if (bound)
		run_fault_point("bound");
	/* Passed-through devices or --user: the VMM runs in a child, and this
	 * root process only waits and gives the devices back, however the VMM
	 * ends (its seccomp filter, SIGKILL, a crash). */
	/* A fallback's macvtaps likewise: this process deletes them whatever
	 * ends the VMM (a SIGSYS once left one behind). */
	if (ra->user || hook.count || run_fallback_nets_count())
		status = run_vmm_forked(&cfg, ra, &user);
	else
		status = run_vmm(&cfg, ra, &user, 0);
out:
	if (bound && run_give_back(&vhost, &plan) < 0)
		status = 1;
	run_delete_fallback_nets();
	if (ra->ndevices) {
		run_plan_free(&plan);
		host_root_close(&root);
	}
	return status;
}

int cmd_run(int argc, char **argv);
int cmd_run(int argc, char **argv)
{
	static struct run_args ra;
	int status = cmd_run_main(&ra, argc, argv);
	run_args_free(&ra);
	return status;
}
