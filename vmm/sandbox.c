// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * seccomp per thread kind, and the privilege drop.
 *
 * Why libseccomp and not hand-written BPF: it is a maintained compiler from
 * "allow these calls, with these argument checks" to BPF that resolves names
 * to numbers per architecture and checks the audit arch, which hand-written
 * filters get wrong (Firecracker and crosvm carry their own compilers for the
 * same reason). The filters are compiled once, in vmm_sandbox_prepare(), into
 * plain BPF programs; a thread then installs its program with one seccomp(2)
 * call, so entering needs no allocation and no system call besides prctl and
 * seccomp.
 *
 * A forbidden call raises SIGSYS (SCMP_ACT_TRAP): the handler writes one line
 * naming the call and the thread kind with write(2), and ends the process
 * with exit_group. SCMP_ACT_KILL_PROCESS would be silent. Devices the VMM
 * held are given back by whoever started it (the root parent of
 * `passvm run`, or `passvm vfio restore` from the journal).
 *
 * The lists: what each thread kind was seen to call after start-up, in the
 * lab's Linux boots (docs/security.md says how they were measured: strace -f
 * per thread, and --seccomp log, whose kernel audit lines name every call
 * outside the list). ioctl is allowed only with the request numbers a kind
 * uses; mmap and mprotect never with PROT_EXEC.
 */
#include "sandbox.h"
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/kvm.h>
#include <linux/vfio.h>
#include <linux/seccomp.h>
#include <linux/filter.h>
#include <linux/if_tun.h>
#include <seccomp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <ucontext.h>
#include <unistd.h>

/* ---- the lists --------------------------------------------------------- */

/* Every thread: the C library's own needs (locks are futexes, signals
 * return through rt_sigreturn, free() trims with munmap/madvise/brk, a
 * thread leaves through rt_sigprocmask, madvise on its stack and exit;
 * clock_gettime is a real call where the clocksource has no vDSO, as in the
 * lab), and write(2) for one-line reports on stderr, the SIGSYS one too. */
static const char *const common_calls[] = {
	"futex", "rt_sigreturn", "rt_sigprocmask", "madvise", "munmap", "brk",
	"exit", "exit_group", "write", "clock_gettime",
	/* The ASan/UBSan runtime gives every thread an alternate signal stack
	 * and takes it down at thread exit (the sanitizer build runs these
	 * filters too); it changes nothing outside the thread. */
	"sigaltstack",
	NULL,
};

/* vCPU, measured in the lab (2 vCPUs, Linux to poweroff; per thread after
 * its seccomp(): KVM_RUN 31391, write 66 (console), KVM_IRQ_LINE 12). Also
 * from the code of the exits a vCPU handles: KVM_GET_REGS and KVM_GET_SREGS
 * for a triple-fault report; MSI and MSI-X programming (msix.c, vfio_pci.c) creates eventfds
 * and wires them as irqfds on MSI routes; a virtio BAR placed by the guest
 * gets its notify ioeventfds, and a queue enabled or reset goes on or off
 * its event loop (epoll_ctl); a passed-through device's config space and
 * trapped BAR parts are pread/pwrite on its VFIO fd, its interrupts are
 * VFIO_DEVICE_GET_IRQ_INFO + VFIO_DEVICE_SET_IRQS (found in the lab: an
 * e1000e's driver enabling MSI-X trapped on GET_IRQ_INFO, request 0x3b6d,
 * before it was listed), its mmap'd BARs move with KVM memory slots; a
 * virtio-blk reset by the guest waits for its requests in flight
 * (io_uring_enter); virtio-net's negotiated offloads and queue enables go
 * to its tap (TUNSETOFFLOAD, TUNSETQUEUE; vmm/virtio_net.c). */
static const char *const vcpu_calls[] = {
	"ioctl", "read", "pread64", "pwrite64", "eventfd2", "close", "epoll_ctl",
	"io_uring_enter",
	NULL,
};
static const unsigned long vcpu_ioctls[] = {
	KVM_RUN, KVM_IRQ_LINE, KVM_GET_REGS, KVM_GET_SREGS, KVM_SIGNAL_MSI, KVM_SET_GSI_ROUTING,
	KVM_IRQFD, KVM_IOEVENTFD, KVM_SET_USER_MEMORY_REGION,
	VFIO_DEVICE_GET_IRQ_INFO, VFIO_DEVICE_SET_IRQS, VFIO_DEVICE_RESET,
	/* virtio-net's activate and a guest's reset (vmm/virtio_net.c): the
	 * tap's offloads follow the negotiated features, unused queue pairs'
	 * tap queues are detached and reattached. */
	TUNSETOFFLOAD, TUNSETQUEUE,
	0,
};

/* Device I/O: the event loops of vmm/evloop.c and what device back ends do
 * on them (virtio_blk.c, virtio_rng.c, virtio-net on a tap): wait
 * (epoll_wait), drain eventfds (read), raise interrupts through irqfd
 * eventfds (write) or KVM_IRQ_LINE/KVM_SIGNAL_MSI, submit and reap disk
 * requests (io_uring_enter; fdatasync and fallocate are io_uring ops, no
 * calls here), fill entropy buffers (getrandom), move packets to and from
 * the tap (readv, writev), take a queue off the loop (epoll_ctl). */
static const char *const device_io_calls[] = {
	"ioctl", "epoll_wait", "epoll_ctl", "read", "readv", "writev",
	"io_uring_enter", "getrandom",
	NULL,
};
static const unsigned long device_io_ioctls[] = {
	KVM_IRQ_LINE, KVM_SIGNAL_MSI,
	/* virtio-net's control queue: VQ_PAIRS_SET (a pair's tap queue on or
	 * off) and GUEST_OFFLOADS_SET (vmm/virtio_net.c). */
	TUNSETOFFLOAD, TUNSETQUEUE,
	0,
};

/* Console reader, measured in the lab (stdin a pipe): poll on the input fd
 * and its stop eventfd, read. And input that arrives while the guest has
 * the receive interrupt enabled (Linux's 8250 driver always does) raises
 * COM1's line from this thread: KVM_IRQ_LINE (uart.c update_irq). Seen as
 * SIGSYS on the first key typed into `passvm terminal` (tests/hw/vms.sh,
 * tests/kvm/test_control.c). */
static const char *const console_calls[] = {
	"poll", "read", "ioctl",
	NULL,
};
static const unsigned long console_ioctls[] = {
	KVM_IRQ_LINE,
	0,
};

/* Control socket (vmm/control.c), entered once the socket, the console
 * pipes and the console log are open. Measured on this machine's /dev/kvm
 * with strace -f (tests/kvm/test_control.c: status, console attach, input,
 * detach and re-attach, pause, resume, reboot, shutdown, stop, malformed
 * lines, a line too long, a client gone mid-line, a seventeenth client),
 * the first VM's control thread after its seccomp(): poll 90, recvfrom 59
 * (recv), accept4 38, close 37, sendto 28 (send), futex 10 (a request
 * handed to the main thread, its answer awaited), getpid 9 (the status
 * reply's pid), write 8 (console log, console input into the UART's pipe),
 * read 7 (the guest's console output pipe), then the thread's exit. The
 * first draft's ppoll, recvmsg and sendmsg were never seen. */
static const char *const control_calls[] = {
	"accept4", "poll", "recvfrom", "sendto", "read", "close", "getpid",
	NULL,
};

/* Main thread after start-up, measured in the lab: waits for a stop
 * (futex with clock_gettime), kicks the vCPU threads (getpid + tgkill,
 * which is pthread_kill), stops the console reader (an eventfd write),
 * unmaps guest memory and closes every fd (munmap, close). Also from the
 * code: KVM_GET_REGS for an interrupted guest's report, TCSETS to give the
 * terminal back, and the teardown of virtio devices: queues off their
 * loops (epoll_ctl), a disk's requests in flight drained
 * (io_uring_enter). Passed-through devices are not stopped here: with
 * them the VMM is a child process whose exit releases them. */
static const char *const main_calls[] = {
	"ioctl", "getpid", "tgkill", "close", "epoll_ctl", "io_uring_enter",
	NULL,
};
static const unsigned long main_ioctls[] = {
	KVM_GET_REGS, TCSETS,
	/* virtio-net's reset as the device is torn down (vmm/virtio_net.c). */
	TUNSETOFFLOAD, TUNSETQUEUE,
	/* A virtio device torn down takes its notify ioeventfds and its
	 * vectors' irqfds off the VM (virtio_pci_destroy): seen in the lab
	 * as the main thread's KVM_IOEVENTFD at the end of a --net run. */
	KVM_IOEVENTFD, KVM_IRQFD,
	0,
};

static const struct {
	const char *name;
	const char *const *calls;
	const unsigned long *ioctls; /* NULL: ioctl with any request */
} kinds[VMM_THREAD_KINDS] = {
	[VMM_THREAD_MAIN] = { "main", main_calls, main_ioctls },
	[VMM_THREAD_VCPU] = { "vCPU", vcpu_calls, vcpu_ioctls },
	[VMM_THREAD_DEVICE_IO] = { "device I/O", device_io_calls, device_io_ioctls },
	[VMM_THREAD_CONSOLE] = { "console reader", console_calls, console_ioctls },
	[VMM_THREAD_CONTROL] = { "control", control_calls, NULL }, /* no ioctl */
};

/* ---- state ------------------------------------------------------------- */

/* System call names for the SIGSYS report, resolved at prepare time:
 * libseccomp's resolver allocates, which a signal handler must not. */
#define NAMED_SYSCALLS 512
static char *syscall_names[NAMED_SYSCALLS];
static struct sock_fprog programs[VMM_THREAD_KINDS];
static enum vmm_sandbox_mode sandbox_mode = VMM_SANDBOX_OFF;
static bool prepared;
static uint32_t native_arch; /* AUDIT_ARCH_X86_64 here: what si_arch says */
static __thread int thread_kind = -1;
static atomic_int first_error, first_error_kind;

int vmm_sandbox_mode_parse(const char *s, enum vmm_sandbox_mode *mode)
{
	if (strcmp(s, "on") == 0)
		*mode = VMM_SANDBOX_ON;
	else if (strcmp(s, "off") == 0)
		*mode = VMM_SANDBOX_OFF;
	else if (strcmp(s, "log") == 0)
		*mode = VMM_SANDBOX_LOG;
	else
		return -EINVAL;
	return 0;
}

const char *vmm_thread_kind_name(enum vmm_thread_kind kind)
{
	return kind < VMM_THREAD_KINDS ? kinds[kind].name : "unknown";
}

/* ---- the SIGSYS report (async-signal-safe: write(2) and integers only) -- */

static size_t put_str(char *buf, size_t pos, size_t size, const char *s)
{
	while (*s && pos + 1 < size)
		buf[pos++] = *s++;
	return pos;
}

static size_t put_uint(char *buf, size_t pos, size_t size, unsigned long v, int base)
{
	char tmp[24];
	size_t n = 0;
	do {
		tmp[n++] = "0123456789abcdef"[v % (unsigned)base];
		v /= (unsigned)base;
	} while (v && n < sizeof(tmp));
	while (n && pos + 1 < size)
		buf[pos++] = tmp[--n];
	return pos;
}

static void on_sigsys(int sig, siginfo_t *si, void *uctx)
{
	(void)sig;
	char line[256];
	size_t n = 0, size = sizeof(line);
	int nr = si->si_syscall;
	n = put_str(line, n, size, "passvm: seccomp: the ");
	n = put_str(line, n, size, thread_kind >= 0 ? kinds[thread_kind].name : "unconfined");
	n = put_str(line, n, size, " thread made a forbidden system call ");
	if (si->si_arch == native_arch && nr >= 0 && nr < NAMED_SYSCALLS &&
	    syscall_names[nr])
		n = put_str(line, n, size, syscall_names[nr]);
	else
		n = put_str(line, n, size, "?");
	n = put_str(line, n, size, " (");
	n = put_uint(line, n, size, (unsigned long)(unsigned)nr, 10);
#if defined(__x86_64__)
	/* Which ioctl: its request is the second argument, still in rsi when
	 * the filter trapped the call (x86-64 system call ABI). */
	if (nr == SYS_ioctl && uctx) {
		const ucontext_t *uc = uctx;
		n = put_str(line, n, size, ", request 0x");
		n = put_uint(line, n, size, (unsigned long)uc->uc_mcontext.gregs[REG_RSI], 16);
	}
#endif
	if (si->si_arch != native_arch) {
		n = put_str(line, n, size, ", audit arch 0x");
		n = put_uint(line, n, size, si->si_arch, 16);
	}
	n = put_str(line, n, size, "); stopping the VMM (a passvm bug or a compromised "
		    "VMM; passvm vfio restore gives devices back)\n");
	ssize_t w = write(STDERR_FILENO, line, n);
	(void)w;
	syscall(SYS_exit_group, VMM_SANDBOX_EXIT_STATUS);
}

/* ---- building the filters ---------------------------------------------- */

/* SCMP_Ax() leaves datum_b to the compiler, which clang's
 * -Wmissing-field-initializers rejects: spell the comparison out. */
static struct scmp_arg_cmp arg_cmp(unsigned arg, enum scmp_compare op, uint64_t a, uint64_t b)
{
	return (struct scmp_arg_cmp){ .arg = arg, .op = op, .datum_a = a, .datum_b = b };
}

static int add_rule(scmp_filter_ctx ctx, const char *name)
{
	int nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR)
		return -EINVAL; /* a name this libseccomp does not know: a bug here */
	if (strcmp(name, "ioctl") == 0)
		return 0; /* added with its requests, below */
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
}

static int build_kind(enum vmm_thread_kind kind, uint32_t deny_action,
		      struct sock_fprog *prog)
{
	scmp_filter_ctx ctx = seccomp_init(deny_action);
	if (!ctx)
		return -ENOMEM;
	int r = 0;
	bool has_ioctl = false;
	/* A call through another ABI (int 0x80 on x86-64) is refused too. */
	seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, deny_action);
	for (const char *const *c = common_calls; *c && r == 0; c++)
		r = add_rule(ctx, *c);
	for (const char *const *c = kinds[kind].calls; *c && r == 0; c++) {
		r = add_rule(ctx, *c);
		has_ioctl |= strcmp(*c, "ioctl") == 0;
	}
	/* mmap and mprotect for malloc, never making memory executable: a
	 * guest that got code execution in the VMM cannot map new code. */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				     arg_cmp(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				     arg_cmp(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (has_ioctl && !kinds[kind].ioctls && r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 0);
	for (const unsigned long *req = kinds[kind].ioctls; has_ioctl && req && *req && r == 0;
	     req++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				     arg_cmp(1, SCMP_CMP_EQ, *req, 0));
	/* Export the compiled BPF through a memfd: libseccomp 2.5 writes it
	 * only to a file descriptor. */
	int fd = -1;
	if (r == 0) {
		fd = memfd_create("passvm-seccomp", MFD_CLOEXEC);
		if (fd < 0)
			r = -errno;
	}
	if (r == 0)
		r = seccomp_export_bpf(ctx, fd);
	off_t len = r == 0 ? lseek(fd, 0, SEEK_END) : 0;
	if (r == 0 && (len <= 0 || len % (off_t)sizeof(struct sock_filter) ||
		       len / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS))
		r = -E2BIG;
	if (r == 0) {
		prog->filter = malloc((size_t)len);
		prog->len = (unsigned short)(len / (off_t)sizeof(struct sock_filter));
		if (!prog->filter)
			r = -ENOMEM;
		else if (pread(fd, prog->filter, (size_t)len, 0) != len)
			r = -EIO;
	}
	if (fd >= 0)
		close(fd);
	seccomp_release(ctx);
	return r;
}

int vmm_sandbox_prepare(enum vmm_sandbox_mode mode)
{
	sandbox_mode = mode;
	if (mode == VMM_SANDBOX_OFF || prepared)
		return 0;
	uint32_t deny = mode == VMM_SANDBOX_LOG ? SCMP_ACT_LOG : SCMP_ACT_TRAP;
	int r = 0;
	native_arch = seccomp_arch_native();
	for (int k = 0; k < VMM_THREAD_KINDS && r == 0; k++)
		r = build_kind((enum vmm_thread_kind)k, deny, &programs[k]);
	for (int nr = 0; nr < NAMED_SYSCALLS && r == 0; nr++)
		if (!syscall_names[nr])
			syscall_names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	if (r == 0) {
		struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGSYS, &sa, NULL) < 0)
			r = -errno;
	}
	prepared = r == 0;
	if (r < 0)
		vmm_sandbox_release();
	return r;
}

static int enter(enum vmm_thread_kind kind)
{
	if (kind >= VMM_THREAD_KINDS)
		return -EINVAL;
	if (thread_kind >= 0)
		return -EALREADY;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	thread_kind = (int)kind;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &programs[kind]) < 0) {
		thread_kind = -1;
		return -errno;
	}
	return 0;
}

/* LeakSanitizer checks for leaks when the process exits, on the main
 * thread, and needs calls no list has (gettid, clone, ptrace): in a
 * sanitizer build the process's own main thread stays unconfined. Every
 * other thread, and a MAIN-kind filter entered on another thread (the
 * tests), is confined as in a normal build. */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZER_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZER_BUILD 1
#endif
#endif
#ifndef SANITIZER_BUILD
#define SANITIZER_BUILD 0
#endif

int vmm_sandbox_enter(enum vmm_thread_kind kind)
{
	if (!prepared || sandbox_mode == VMM_SANDBOX_OFF)
		return 0;
	if (SANITIZER_BUILD && kind == VMM_THREAD_MAIN && gettid() == getpid())
		return 0;
	int r = enter(kind);
	int none = 0;
	if (r < 0 && atomic_compare_exchange_strong(&first_error, &none, r))
		atomic_store(&first_error_kind, (int)kind);
	return r;
}

int vmm_sandbox_error(enum vmm_thread_kind *kind)
{
	int r = atomic_load(&first_error);
	if (r < 0 && kind)
		*kind = (enum vmm_thread_kind)atomic_load(&first_error_kind);
	return r;
}

void vmm_sandbox_release(void)
{
	for (int k = 0; k < VMM_THREAD_KINDS; k++) {
		free(programs[k].filter);
		programs[k] = (struct sock_fprog){ 0 };
	}
	/* The names stay: filters already installed outlive this, and their
	 * SIGSYS report reads them (after a release, a trap said "?"). */
	prepared = false;
}

bool vmm_sandbox_allows(enum vmm_thread_kind kind, int nr)
{
	if (kind >= VMM_THREAD_KINDS)
		return false;
	if (nr == SCMP_SYS(mmap) || nr == SCMP_SYS(mprotect))
		return true;
	for (const char *const *c = common_calls; *c; c++)
		if (seccomp_syscall_resolve_name(*c) == nr)
			return true;
	for (const char *const *c = kinds[kind].calls; *c; c++)
		if (seccomp_syscall_resolve_name(*c) == nr)
			return true;
	return false;
}

/* ---- privileges ---------------------------------------------------------- */

int vmm_sandbox_drop_privileges(uid_t uid, gid_t gid)
{
	if (uid == 0)
		return -EINVAL; /* "drop" to root: a caller's mistake */
	/* The bounding set first: dropping from it needs CAP_SETPCAP, which
	 * leaving uid 0 takes away. Nothing can come back through execve. */
	for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return -errno;
	if (setgroups(1, &gid) < 0 || setresgid(gid, gid, gid) < 0 ||
	    setresuid(uid, uid, uid) < 0)
		return -errno;
	/* Leaving uid 0 cleared the permitted and effective sets (capabilities(7),
	 * "Effect of user ID changes"); clear the inheritable and ambient ones
	 * too. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { { 0 } };
	if (syscall(SYS_capset, &hdr, data) < 0)
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	/* Verify rather than trust: regaining root must fail now. */
	if (setuid(0) == 0)
		return -EPERM;
	return 0;
}
