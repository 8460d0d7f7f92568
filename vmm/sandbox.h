/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The VMM's confinement after start-up: a seccomp filter per thread kind
 * (built with libseccomp) and the drop to an unprivileged user.
 *
 * Owns: the system-call allowlists, the SIGSYS report, the privilege drop.
 * Must not: open files or devices (everything the VMM needs is open before
 * these run), or decide policy (the CLI chooses the mode and the user).
 *
 * Use: the program calls vmm_sandbox_prepare() once before any VMM thread
 * starts (it builds every filter while all system calls are still allowed);
 * each thread calls vmm_sandbox_enter(kind) first thing, the main thread last
 * of all, after start-up. seccomp filters are per thread (no TSYNC) and a
 * thread inherits its creator's, so the main thread installs its own only
 * once every other thread exists.
 */
#ifndef PASSVM_VMM_SANDBOX_H
#define PASSVM_VMM_SANDBOX_H

#include <stdbool.h>
#include <sys/types.h>

enum vmm_sandbox_mode {
	VMM_SANDBOX_OFF,   /* no filters (debugging) */
	VMM_SANDBOX_ON,    /* a forbidden call: one line on stderr, the VMM exits */
	VMM_SANDBOX_LOG,   /* a forbidden call is allowed and logged by the kernel
			    * (audit type=1326 in dmesg): how the lists were found */
};

enum vmm_thread_kind {
	VMM_THREAD_MAIN,      /* waits for the guest to stop, then tears down */
	VMM_THREAD_VCPU,      /* KVM_RUN and the exits it dispatches */
	VMM_THREAD_DEVICE_IO, /* device back ends: event loops, io_uring */
	VMM_THREAD_CONSOLE,   /* the UART's console input reader */
	VMM_THREAD_CONTROL,   /* the control socket */
	VMM_THREAD_KINDS,
};

/* The exit status of a VMM stopped by its seccomp filter: 128 + SIGSYS, as a
 * shell reports a process killed by that signal. */
#define VMM_SANDBOX_EXIT_STATUS (128 + 31)

/* "off", "on", "log" -> mode; -EINVAL for anything else. */
int vmm_sandbox_mode_parse(const char *s, enum vmm_sandbox_mode *mode);
const char *vmm_thread_kind_name(enum vmm_thread_kind kind);

/* Builds the filters of every thread kind and installs the SIGSYS handler.
 * Mode off: nothing (vmm_sandbox_enter then does nothing). -errno. */
int vmm_sandbox_prepare(enum vmm_sandbox_mode mode);
/* Confines the calling thread to its kind's list (and sets no_new_privs on
 * it, which seccomp requires of a thread without CAP_SYS_ADMIN). A thread
 * can enter once; its children inherit the filter. 0 when not prepared. */
int vmm_sandbox_enter(enum vmm_thread_kind kind);
/* The first failure of vmm_sandbox_enter in any thread (-errno, and that
 * thread's kind), or 0: a thread that cannot confine itself stops working,
 * and the main thread stops the VM with this. */
int vmm_sandbox_error(enum vmm_thread_kind *kind);
/* Frees what prepare built (filters already installed stay). */
void vmm_sandbox_release(void);

/* Whether kind's list allows system call nr at all (any arguments): for
 * tests and for docs/security.md. */
bool vmm_sandbox_allows(enum vmm_thread_kind kind, int nr);

/* Drops the whole process to uid/gid: supplementary groups to gid alone,
 * setgid, setuid, every capability (effective, permitted, inheritable,
 * ambient, bounding set) cleared, PR_SET_NO_NEW_PRIVS set. The ids change
 * in every thread (glibc broadcasts set*id to all threads, and the kernel
 * clears a thread's permitted and effective capabilities when it leaves uid
 * 0); the bounding set and no_new_privs are per thread and reach only the
 * threads started after the call (a thread that enters its seccomp filter
 * sets no_new_privs itself). -errno (-EPERM when not root). */
int vmm_sandbox_drop_privileges(uid_t uid, gid_t gid);

#endif
