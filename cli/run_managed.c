// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * passvm run --control PATH: the managed VM (what `passvm start` runs in the
 * background). The console goes through the control layer (ring, log,
 * attachable), requests arrive on the socket, and a guest reset reboots the
 * guest in this process (vmm/control.h). Exit status: 0 when the guest
 * powered off or a stop was requested; 1, with one line, otherwise.
 */
#include "cli.h"
#include "common.h"
#include "control.h"
#include "run_managed.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

int run_managed(struct vmm_vm *vm, const struct vmm_config *cfg, const char *control_path,
		const char *console_log_path, run_report_fn report)
{
	struct vmm_control *ctl;
	struct vmm_config c = *cfg;
	struct vmm_control_config cc = {
		.socket_path = control_path, .console_log_path = console_log_path,
	};
	int r = vmm_control_open(&ctl, &cc, cfg, &c.console_fd_in, &c.console_fd_out);
	if (r == -EADDRINUSE) {
		log_error("control socket %s: a running passvm listens there already "
			  "(passvm status shows it)", control_path);
		return 1;
	}
	if (r < 0) {
		log_error_errno(r, "cannot open the control socket %s or the console log %s",
				control_path, console_log_path ? console_log_path : "(none)");
		return 1;
	}
	c.console = VMM_CONSOLE_FDS;
	c.console_path = NULL;

	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	r = vmm_vm_create(vm, &c);
	if (r < 0) {
		report(vm, &c, r);
		vmm_control_close(ctl);
		return 1;
	}
	log_info("guest running; control socket %s", control_path);
	enum vmm_stop_reason reason;
	char detail[sizeof(vm->stop_detail) + 128];
	vmm_control_run(ctl, vm, &c, &interrupted, &reason, detail, sizeof(detail));
	vmm_control_close(ctl);
	if (reason == VMM_STOP_POWEROFF || reason == VMM_STOP_REQUESTED) {
		log_info("guest stopped (%s): %s", vmm_stop_reason_name(reason), detail);
		return 0;
	}
	log_error("guest stopped (%s): %s", vmm_stop_reason_name(reason), detail);
	return 1;
}
