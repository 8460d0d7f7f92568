// SPDX-License-Identifier: GPL-2.0-or-later
/* The VMM process of passvm run: seccomp, --user, the root parent (cli/run.h). */
#include "cli.h"
#include "common.h"
#include "run.h"

#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

volatile sig_atomic_t run_interrupted;
static struct vmm_vm *run_running_vm;

static void on_signal(int sig)
{
	(void)sig;
	run_interrupted = 1;
	if (run_running_vm)
		run_running_vm->interrupt_requested = 1;
}

void run_install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A console reader that goes away (a closed pipe) must not kill the
	 * VM: the UART's writes then fail with EPIPE and are dropped. */
	signal(SIGPIPE, SIG_IGN);
	/* Under a file size limit (ulimit -f) a disk image write past it
	 * raises SIGXFSZ, whose default kills the VM; ignored, the write
	 * fails EFBIG and the guest gets an I/O error, as for a full disk
	 * (vmm/virtio_blk.c). */
	signal(SIGXFSZ, SIG_IGN);
}

/* PASSVM_TEST_FAULT_AT=POINT: passvm kills itself with SIGKILL there, for
 * the fault tests (tests/hw/passthrough/faults.sh): whatever a crash at that
 * point leaves, `passvm vfio restore` must give back. Points, in order:
 * bound (the root process, devices bound), created (the VMM, machine built
 * and devices plugged: opened, reset, DMA-mapped), confined (dropped to
 * --user, about to run). */
void run_fault_point(const char *point)
{
	const char *at = getenv("PASSVM_TEST_FAULT_AT");
	if (at && strcmp(at, point) == 0)
		raise(SIGKILL);
}

/* A forked VMM must not outlive its root parent: a parent killed with
 * SIGKILL cannot give devices back, and `passvm vfio restore` cannot take
 * them from a VMM that still holds them. The kernel clears the setting when
 * credentials change, so the VMM arms it again after dropping to --user
 * (prctl(2), PR_SET_PDEATHSIG). */
static void die_with_parent(pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (getppid() != parent)
		raise(SIGKILL); /* it died before the setting took */
}

int run_lookup_user(const char *name, struct run_user *u)
{
	if (geteuid() != 0) {
		log_error("--user %s: passvm must run as root to drop to another user", name);
		return -EPERM;
	}
	const struct passwd *pw = getpwnam(name);
	if (!pw) {
		log_error("--user %s: no such user on this host (see getent passwd)", name);
		return -ENOENT;
	}
	if (pw->pw_uid == 0) {
		log_error("--user %s: that is root; name an unprivileged user", name);
		return -EINVAL;
	}
	*u = (struct run_user){ .set = true, .uid = pw->pw_uid, .gid = pw->pw_gid };
	return 0;
}

/* The root parent of a forked VMM: waits for it, passes SIGINT/SIGTERM on
 * (a manager that signals passvm stops the guest), and says so when the
 * VMM died of a signal. The caller then gives the devices back. */
static int supervise(pid_t pid)
{
	bool forwarded = false;
	int st = 0;
	for (;;) {
		if (run_interrupted && !forwarded) {
			kill(pid, SIGTERM);
			forwarded = true;
		}
		pid_t w = waitpid(pid, &st, 0);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return log_error_errno(-errno, "cannot wait for the VMM process %d", (int)pid),
			       1;
	}
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	log_error("the VMM process %d was killed by signal %d (%s); its devices go back to "
		  "their drivers", (int)pid, WTERMSIG(st), strsignal(WTERMSIG(st)));
	return 1;
}

/* The VMM: builds the machine (passed-through devices are plugged by the
 * hook in cfg), drops to --user, confines each thread (seccomp) and runs
 * the guest. Returns the exit status. A forked VMM (parent != 0) skips the
 * teardown: its exit closes the VFIO fds, which resets and releases the
 * devices with the container's DMA mappings, and the main thread's seccomp
 * list has no VFIO teardown calls; the parent gives the devices back. */
int run_vmm(struct vmm_config *cfg, const struct run_args *ra,
		   const struct run_user *user, pid_t parent)
{
	static struct vmm_vm vm;
	/* The filters are compiled now, while every call is allowed; each
	 * thread installs its own once it runs (vmm/sandbox.h). */
	int r = vmm_sandbox_prepare(ra->seccomp);
	if (r < 0)
		return log_error_errno(r, "cannot build the seccomp filters (--seccomp off "
				       "runs without them)"), 1;
	r = vmm_vm_create(&vm, cfg);
	if (r < 0) {
		run_report_create_error(&vm, cfg, r);
		vmm_sandbox_release();
		return 1;
	}
	run_fault_point("created");
	if (cfg->console == VMM_CONSOLE_PTY)
		log_info("guest console on %s", vm.console_pty);
	if (user->set) {
		r = vmm_sandbox_drop_privileges(user->uid, user->gid);
		if (r < 0) {
			log_error_errno(r, "cannot drop to user %s", ra->user);
			vmm_vm_destroy(&vm);
			vmm_sandbox_release();
			return 1;
		}
		if (parent)
			die_with_parent(parent);
	}
	run_fault_point("confined");

	run_running_vm = &vm;
	if (run_interrupted)
		vm.interrupt_requested = 1;
	enum vmm_stop_reason reason = vmm_vm_run(&vm);
	char detail[sizeof(vm.stop_detail)];
	snprintf(detail, sizeof(detail), "%s", vm.stop_detail);
	run_running_vm = NULL;
	if (!parent) {
		vmm_vm_destroy(&vm);
		vmm_sandbox_release();
	}
	if (reason == VMM_STOP_POWEROFF)
		return 0;
	log_error("guest stopped (%s): %s", vmm_stop_reason_name(reason), detail);
	return 1;
}

int run_vmm_forked(struct vmm_config *cfg, const struct run_args *ra,
		   const struct run_user *user)
{
	struct termios tio;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &tio) == 0;
	int status = 1;
	fflush(NULL);
	pid_t self = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		log_error_errno(-errno, "cannot start the VMM process");
	} else if (pid == 0) {
		die_with_parent(self);
		_exit(run_vmm(cfg, ra, user, self));
	} else {
		status = supervise(pid);
		/* A VMM killed by a signal left the terminal raw. */
		if (tty)
			tcsetattr(STDIN_FILENO, TCSANOW, &tio);
	}
	return status;
}
