// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The managed VM on the local /dev/kvm (vmm/control.c): a tiny 64-bit
 * "kernel" prints "HI", then echoes what arrives on COM1 and powers off
 * when the GED event register (the power button) reads bit 0. Through the
 * control socket: status; the console (ring replay of "HI", a typed byte
 * echoed, the log file); pause and resume; reboot (the guest prints "HI" a
 * second time, in the same process, and status counts it); shutdown (the
 * guest sees the button and powers off: the loop ends with POWEROFF);
 * then a second VM ended by stop. Hostile request lines get error replies:
 * a malformed line, a duplicate key, a line too long, a client gone
 * mid-line, a seventeenth client; a console detaches and attaches again.
 * All of it with every thread confined (--seccomp on), the control thread
 * too: the scenario runs in a child process, and a call outside a thread's
 * list ends that child with VMM_SANDBOX_EXIT_STATUS (159), which the parent
 * reports as such.
 */
#include "kvmtest.h"
#include "control.h"
#include "sandbox.h"
#include "../bzimage_synth.h"

/* Guest RAM above the boot area, the kernel image and any initrd. */
#define MARK_GPA (20ULL << 20)

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[] = "/tmp/passvm-test-control-XXXXXX";
static char sock_path[96], log_path[128], kernel_path[128], faulting_path[128];
static volatile sig_atomic_t interrupted;

/* HI\n; enable the receive interrupt; loop { if (in 0x604) & 1: S5 power
 * off; if LSR.DR: echo RBR } */
static const uint8_t guest[] = {
	0x66, 0xba, 0xf8, 0x03, 0xb0, 'H', 0xee, 0xb0, 'I', 0xee, 0xb0, '\n', 0xee,
	/* IER = receive interrupt, MCR = OUT2: as Linux's 8250 driver sets
	 * them, so input raises COM1's line (KVM_IRQ_LINE from the console
	 * reader thread); IF stays clear, the guest keeps polling. */
	0x66, 0xba, 0xf9, 0x03, 0xb0, 0x01, 0xee,
	0x66, 0xba, 0xfc, 0x03, 0xb0, 0x08, 0xee,
	/* loop: */
	0x66, 0xba, 0x04, 0x06, 0xec, 0xa8, 0x01, 0x75, 0x11,  /* jnz poweroff */
	0x66, 0xba, 0xfd, 0x03, 0xec, 0xa8, 0x01, 0x74, 0xee,  /* jz loop */
	0x66, 0xba, 0xf8, 0x03, 0xec, 0xee, 0xeb, 0xe6,        /* echo; jmp loop */
	/* poweroff: SLP_TYP 5 | SLP_EN to the sleep control register */
	0x66, 0xba, 0x00, 0x06, 0xb0, 0x34, 0xee, 0xf4,
};

struct runner {
	struct vmm_control *ctl;
	struct vmm_config cfg;
	struct vmm_vm vm;
	enum vmm_stop_reason reason;
	char detail[512];
	pthread_t thread;
};

static void *run_main(void *arg)
{
	struct runner *rn = arg;
	vmm_control_run(rn->ctl, &rn->vm, &rn->cfg, &interrupted, &rn->reason, rn->detail,
			sizeof(rn->detail));
	return NULL;
}

static int start(struct runner *rn, const char *kernel)
{
	struct vmm_control_config cc = { .socket_path = sock_path, .console_log_path = log_path };
	rn->cfg = (struct vmm_config){
		.kernel_path = kernel, .cmdline = "control-test", .cpus = 1,
		.memory_bytes = 32ULL << 20, .console = VMM_CONSOLE_FDS,
	};
	int r = vmm_control_open(&rn->ctl, &cc, &rn->cfg, &rn->cfg.console_fd_in,
				 &rn->cfg.console_fd_out);
	CHECK_EQ_INT(r, 0);
	if (r < 0)
		return r;
	r = vmm_vm_create(&rn->vm, &rn->cfg);
	CHECK_EQ_INT(r, 0);
	if (r < 0) {
		fprintf(stderr, "vmm_vm_create: %s: %s\n", rn->vm.failed_phase, strerror(-r));
		vmm_control_close(rn->ctl);
		return r;
	}
	return -pthread_create(&rn->thread, NULL, run_main, rn);
}

static int connect_ctl(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0);
	CHECK_EQ_INT(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Reads until `want` has arrived (or 10 s): the bytes read so far. */
static bool read_until(int fd, const char *want, char *buf, size_t size)
{
	size_t got = 0;
	buf[0] = '\0';
	for (int i = 0; i < 100 && !strstr(buf, want); i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 100) <= 0)
			continue;
		ssize_t n = read(fd, buf + got, size - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		buf[got] = '\0';
	}
	return strstr(buf, want) != NULL;
}

/* Whether anything arrives on fd within ms. */
static bool quiet_for(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, ms) == 0;
}

/* One request line, its reply line. */
static void ask(const char *line, char *reply, size_t size)
{
	int fd = connect_ctl();
	CHECK(write(fd, line, strlen(line)) == (ssize_t)strlen(line));
	CHECK(read_until(fd, "\n", reply, size));
	close(fd);
}

static bool wait_status(const char *want)
{
	char reply[512];
	for (int i = 0; i < 100; i++) {
		ask("{\"cmd\": \"status\"}\n", reply, sizeof(reply));
		if (strstr(reply, want))
			return true;
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "status never showed %s: %s\n", want, reply);
	return false;
}

/* Clients that misbehave; each is dropped and the socket keeps serving. */
static void test_hostile_clients(void)
{
	char reply[512];
	/* Gone in the middle of a line: nothing is carried out. */
	int fd = connect_ctl();
	CHECK(write(fd, "{\"cmd\": \"sto", 13) == 13);
	close(fd);
	CHECK(wait_status("\"status\": \"running\""));
	/* A line over VMM_CONTROL_LINE_MAX: an error, then the connection
	 * is closed. */
	static char longline[VMM_CONTROL_LINE_MAX + 64];
	memset(longline, 'x', sizeof(longline));
	fd = connect_ctl();
	CHECK(write(fd, longline, sizeof(longline)) == (ssize_t)sizeof(longline));
	CHECK(read_until(fd, "\n", reply, sizeof(reply)));
	CHECK(strstr(reply, "line too long") != NULL);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	CHECK(poll(&p, 1, 2000) == 1 && read(fd, reply, sizeof(reply)) == 0);
	close(fd);
	/* Sixteen clients at once (the console is one): the seventeenth is
	 * told so and closed. Accepted in the order they connected. */
	int idle[15];
	for (int i = 0; i < 15; i++)
		idle[i] = connect_ctl();
	fd = connect_ctl();
	CHECK(read_until(fd, "\n", reply, sizeof(reply)));
	CHECK(strstr(reply, "too many clients") != NULL);
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	CHECK(poll(&p, 1, 2000) == 1 && read(fd, reply, sizeof(reply)) == 0);
	close(fd);
	for (int i = 0; i < 15; i++)
		close(idle[i]);
	CHECK(wait_status("\"consoles\": 1"));
}

/* The mode of the seccomp filter (/proc's "Seccomp:" line, 2 = filter)
 * of this process's thread named name; -1 when there is none. */
static int thread_seccomp(const char *name)
{
	DIR *d = opendir("/proc/self/task");
	int mode = -1;
	struct dirent *e;
	while (d && mode < 0 && (e = readdir(d))) {
		char path[300], buf[4096];
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		FILE *f = fopen(path, "r");
		bool match = f && fgets(buf, sizeof(buf), f) && strcmp(buf, name) == 0;
		if (f)
			fclose(f);
		snprintf(path, sizeof(path), "/proc/self/task/%s/status", e->d_name);
		f = match ? fopen(path, "r") : NULL;
		while (f && fgets(buf, sizeof(buf), f))
			if (sscanf(buf, "Seccomp: %d", &mode) == 1)
				break;
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	return mode;
}

/* The console log file, as a string. */
static void read_log(char *buf, size_t size)
{
	int lf = open(log_path, O_RDONLY);
	CHECK(lf >= 0);
	ssize_t n = lf >= 0 ? read(lf, buf, size - 1) : -1;
	if (lf >= 0)
		close(lf);
	buf[n > 0 ? n : 0] = '\0';
}

static void test_managed(void)
{
	static struct runner rn;
	if (start(&rn, kernel_path) < 0)
		return;
	char reply[512], buf[4096];
	/* "starting" until the run loop has the guest going. */
	CHECK(wait_status("\"ok\": true, \"status\": \"running\""));
	ask("{\"cmd\": \"status\"}\n", reply, sizeof(reply));
	CHECK(strstr(reply, "\"vcpus\": 1, \"memory_mib\": 32, \"reboots\": 0") != NULL);
	/* The control thread runs under its filter. */
	CHECK_EQ_INT(thread_seccomp("control\n"), 2);

	/* The console: the ring replays HI, a typed byte comes back. */
	int con = connect_ctl();
	CHECK(write(con, "{\"cmd\":\"console\"}\nz", 19) == 19);
	CHECK(read_until(con, "HI\n", buf, sizeof(buf)));
	CHECK(strncmp(buf, "{\"ok\": true, \"console\": \"attached\"}\n", 36) == 0);
	if (!strstr(buf, "z"))
		CHECK(read_until(con, "z", buf, sizeof(buf)));
	ask("{\"cmd\": \"status\"}\n", reply, sizeof(reply));
	CHECK(strstr(reply, "\"consoles\": 1") != NULL);

	/* Hostile lines: an error reply each, the VM untouched. */
	ask("{\"cmd\": \"status\", \"cmd\": \"stop\"}\n", reply, sizeof(reply));
	CHECK(strstr(reply, "duplicate key") != NULL);
	ask("\x01\x02garbage\n", reply, sizeof(reply));
	CHECK(strstr(reply, "\"ok\": false") != NULL);
	ask("{\"cmd\": \"resume\"}\n", reply, sizeof(reply));
	CHECK(strstr(reply, "not paused") != NULL);
	ask("{\"cmd\": \"reboot\"\n", reply, sizeof(reply));   /* no closing brace */
	CHECK(strstr(reply, "\"ok\": false") != NULL);
	test_hostile_clients();

	/* pause: no echo while paused; resume: the byte typed meanwhile. */
	ask("{\"cmd\": \"pause\"}\n", reply, sizeof(reply));
	CHECK_EQ_STR(reply, "{\"ok\": true}\n");
	CHECK(wait_status("\"paused\""));
	CHECK(write(con, "q", 1) == 1);
	CHECK(quiet_for(con, 300));
	ask("{\"cmd\": \"resume\"}\n", reply, sizeof(reply));
	CHECK_EQ_STR(reply, "{\"ok\": true}\n");
	CHECK(read_until(con, "q", buf, sizeof(buf)));

	/* reboot: the same process boots the guest again, on the same RAM
	 * (vmm_vm_rebuild): a mark left above 1 MiB is still there, the
	 * boot area below it starts from zeroes again. */
	uint8_t *ram = rn.vm.mem.host;
	memcpy(ram + MARK_GPA, "KEPT", 4);
	memcpy(ram + 0x600, "GONE", 4);
	ask("{\"cmd\": \"reboot\"}\n", reply, sizeof(reply));
	CHECK_EQ_STR(reply, "{\"ok\": true}\n");
	CHECK(read_until(con, "HI\n", buf, sizeof(buf)));
	CHECK(wait_status("\"reboots\": 1"));
	CHECK(rn.vm.mem.host == ram);
	CHECK(memcmp(ram + MARK_GPA, "KEPT", 4) == 0);
	CHECK(memcmp(ram + 0x600, "GONE", 4) != 0);
	CHECK_EQ_INT(thread_seccomp("control\n"), 2); /* the same thread, still confined */

	/* Detach (the client goes away) and attach again after the reboot:
	 * the ring replays both boots to the new console. */
	close(con);
	CHECK(wait_status("\"consoles\": 0"));
	con = connect_ctl();
	CHECK(write(con, "{\"cmd\":\"console\"}\n", 18) == 18);
	CHECK(read_until(con, "HI\nzqHI\n", buf, sizeof(buf)));
	CHECK(wait_status("\"consoles\": 1"));

	/* shutdown: the guest reads the GED register and powers off. */
	ask("{\"cmd\": \"shutdown\"}\n", reply, sizeof(reply));
	CHECK_EQ_STR(reply, "{\"ok\": true}\n");
	pthread_join(rn.thread, NULL);
	CHECK_EQ_INT(rn.reason, VMM_STOP_POWEROFF);
	/* Requests after the VM stopped are refused, not lost. */
	ask("{\"cmd\": \"pause\"}\n", reply, sizeof(reply));
	CHECK(strstr(reply, "the VM is stopping") != NULL);
	close(con);
	vmm_control_close(rn.ctl);
	CHECK(access(sock_path, F_OK) < 0); /* the socket is removed */

	/* The log has all of it: both boots and the echoes. */
	read_log(buf, sizeof(buf));
	CHECK_EQ_STR(buf, "HI\nzqHI\n");
}

static void test_stop(void)
{
	static struct runner rn;
	unlink(log_path);
	if (start(&rn, kernel_path) < 0)
		return;
	char reply[512];
	/* A second VMM on the same socket is refused while this one lives. */
	struct vmm_control *other;
	int in, out;
	struct vmm_control_config cc = { .socket_path = sock_path };
	CHECK_EQ_INT(vmm_control_open(&other, &cc, &rn.cfg, &in, &out), -EADDRINUSE);
	ask("{\"cmd\": \"stop\"}\n", reply, sizeof(reply));
	CHECK_EQ_STR(reply, "{\"ok\": true}\n");
	pthread_join(rn.thread, NULL);
	CHECK_EQ_INT(rn.reason, VMM_STOP_REQUESTED);
	vmm_control_close(rn.ctl);
}

/* A guest that triple-faults is booted again, as a PC resets, three times
 * in a row; the fourth fault stops it, reported with its last line. */
static void test_triple_faults(void)
{
	static struct runner rn;
	unlink(log_path);
	if (start(&rn, faulting_path) < 0)
		return;
	pthread_join(rn.thread, NULL);
	CHECK_EQ_INT(rn.reason, VMM_STOP_TRIPLE_FAULT);
	CHECK(strstr(rn.detail, "its last console line: \"T\"") != NULL);
	vmm_control_close(rn.ctl);
	char buf[64];
	read_log(buf, sizeof(buf));
	CHECK_EQ_STR(buf, "T\nT\nT\nT\n");
}

static int write_image(const char *path, const uint8_t *code, size_t len)
{
	uint8_t pm[0x200 + 256];
	if (len > sizeof(pm) - 0x200)
		return -1;
	memset(pm, 0xf4, sizeof(pm));
	memcpy(pm + 0x200, code, len);
	size_t size;
	uint8_t *img = synth_bzimage(pm, 0x200 + len, 0x020f, &size);
	FILE *f = fopen(path, "wb");
	bool ok = f && fwrite(img, 1, size, f) == size;
	if (f)
		fclose(f);
	free(img);
	return ok ? 0 : -1;
}

static void on_alarm(int sig)
{
	interrupted = 1; /* a hung guest fails the test instead of hanging it */
}

int main(void)
{
	struct host_root root;
	struct kvm_system kvm;
	int r = kvmtest_open(&root, &kvm);
	if (r)
		return r;
	kvm_system_close(&kvm);
	host_root_close(&root);
	if (!mkdtemp(dir))
		return 1;
	snprintf(sock_path, sizeof(sock_path), "%s/control", dir);
	snprintf(log_path, sizeof(log_path), "%s/console.log", dir);
	snprintf(kernel_path, sizeof(kernel_path), "%s/bzImage", dir);
	snprintf(faulting_path, sizeof(faulting_path), "%s/faulting", dir);
	/* "T\n", then ud2 with no IDT: #UD, #GP, #DF, shutdown. */
	static const uint8_t faulting[] = {
		0x66, 0xba, 0xf8, 0x03, 0xb0, 'T', 0xee, 0xb0, '\n', 0xee, 0x0f, 0x0b,
	};
	CHECK_EQ_INT(write_image(kernel_path, guest, sizeof(guest)), 0);
	CHECK_EQ_INT(write_image(faulting_path, faulting, sizeof(faulting)), 0);
	signal(SIGPIPE, SIG_IGN);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGALRM, on_alarm);
		/* As passvm run --control runs it: the control, vCPU and
		 * console reader threads confined by their seccomp lists
		 * (vmm/sandbox.c), so every request, and console input that
		 * raises the UART's interrupt, runs under the filters. */
		CHECK_EQ_INT(vmm_sandbox_prepare(VMM_SANDBOX_ON), 0);
		alarm(60);
		test_managed();
		test_stop();
		test_triple_faults();
		alarm(0);
		vmm_sandbox_release();
		_exit(test_result());
	}
	int st = 0;
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
	if (WIFEXITED(st) && WEXITSTATUS(st) == VMM_SANDBOX_EXIT_STATUS)
		fprintf(stderr, "the VMM stopped on a seccomp violation (exit %d): a thread "
			"made a call outside its list (the line above names it)\n",
			VMM_SANDBOX_EXIT_STATUS);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) != VMM_SANDBOX_EXIT_STATUS);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	unlink(sock_path);
	unlink(kernel_path);
	unlink(faulting_path);
	unlink(log_path);
	rmdir(dir);
	return test_result();
}
