// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The whole machine of vm.c with its seccomp filters on (as `passvm run`
 * runs it by default): the synthetic boot payload with 2 vCPUs, a pty
 * console (so the console reader runs confined too), a triple fault (the
 * vCPU reads its registers for the report) and an interrupted guest (the
 * main thread reads vCPU 0's). Each boot runs in a forked child: a call
 * missing from a list kills it with the seccomp line, which fails the test.
 */
#include "kvmtest.h"
#include "sandbox.h"
#include "../bzimage_synth.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[] = "/tmp/passvm-test-sandbox-XXXXXX";
static struct vmm_vm vm;

static void on_alarm(int sig)
{
	vm.interrupt_requested = 1;
}

static void write_kernel(const char *path, const void *code, size_t len)
{
	size_t size;
	uint8_t *img = synth_bzimage(code, len, 0x020f, &size);
	FILE *f = fopen(path, "wb");
	CHECK(f && fwrite(img, 1, size, f) == size);
	if (f)
		fclose(f);
	free(img);
}

/* Boots in a child with the filters on; returns the stop reason (the
 * child's exit status) and the child's stderr. */
static int boot_confined(const struct vmm_config *cfg, unsigned alarm_s, char *err,
			 size_t err_size)
{
	int pipefd[2];
	if (pipe(pipefd) < 0)
		return -1;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], STDERR_FILENO);
		close(pipefd[0]);
		struct sigaction sa = { .sa_handler = on_alarm };
		sigemptyset(&sa.sa_mask);
		sigaction(SIGALRM, &sa, NULL);
		if (vmm_sandbox_prepare(VMM_SANDBOX_ON) < 0)
			_exit(100);
		int r = vmm_vm_create(&vm, cfg);
		if (r < 0) {
			fprintf(stderr, "vmm_vm_create: %s: %s\n", vm.failed_phase, strerror(-r));
			_exit(101);
		}
		alarm(alarm_s);
		enum vmm_stop_reason reason = vmm_vm_run(&vm);
		fprintf(stderr, "%s\n", vm.stop_detail);
		vmm_vm_destroy(&vm);
		vmm_sandbox_release();
		_exit((int)reason);
	}
	close(pipefd[1]);
	size_t n = 0;
	ssize_t k;
	while (n + 1 < err_size && (k = read(pipefd[0], err + n, err_size - 1 - n)) > 0)
		n += (size_t)k;
	err[n] = '\0';
	close(pipefd[0]);
	int status = 0;
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status))
		return -2;
	return WEXITSTATUS(status);
}

static void expect(const struct vmm_config *cfg, unsigned alarm_s,
		   enum vmm_stop_reason want, const char *what)
{
	char err[1024];
	int got = boot_confined(cfg, alarm_s, err, sizeof(err));
	CHECK_EQ_INT(got, want);
	CHECK(strstr(err, "seccomp") == NULL);
	if (got != (int)want || strstr(err, "seccomp"))
		fprintf(stderr, "  %s: child exit %d, stderr: %s\n", what, got, err);
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
		return test_skip("cannot create a temporary directory");
	char kernel[128], code[128], console[128];
	snprintf(kernel, sizeof(kernel), "%s/bzImage", dir);
	snprintf(code, sizeof(code), "%s/code", dir);
	snprintf(console, sizeof(console), "%s/console", dir);
	write_kernel(kernel, payload64_boot_image,
		     (size_t)(payload64_end - payload64_boot_image));

	struct vmm_config cfg = {
		.kernel_path = kernel, .cmdline = "console=ttyS0", .cpus = 2,
		.memory_bytes = 64ULL << 20, .console = VMM_CONSOLE_FILE,
		.console_path = console,
	};
	expect(&cfg, 20, VMM_STOP_POWEROFF, "2 vCPUs, console file");
	cfg.cpus = 1;
	cfg.console = VMM_CONSOLE_PTY;
	expect(&cfg, 20, VMM_STOP_POWEROFF, "pty console");

	/* ud2 with no IDT: a triple fault, reported with the vCPU's rip. */
	uint8_t pm[0x200 + 16];
	memset(pm, 0xf4, sizeof(pm));
	pm[0x200] = 0x0f;
	pm[0x201] = 0x0b;
	write_kernel(code, pm, sizeof(pm));
	cfg.kernel_path = code;
	cfg.console = VMM_CONSOLE_FILE;
	expect(&cfg, 20, VMM_STOP_TRIPLE_FAULT, "triple fault");
	/* jmp . : a hang, interrupted after 1 s; main reads vCPU 0's rip. */
	pm[0x200] = 0xeb;
	pm[0x201] = 0xfe;
	write_kernel(code, pm, sizeof(pm));
	expect(&cfg, 1, VMM_STOP_INTERRUPTED, "interrupted");

	unlink(kernel);
	unlink(code);
	unlink(console);
	rmdir(dir);
	return test_result();
}
