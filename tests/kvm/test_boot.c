// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The whole machine of vm.c on the local /dev/kvm, booted the way Linux is:
 * a synthetic bzImage through the loader, zero page, ACPI tables, long-mode
 * entry, vCPU threads, the UART as console, PCI config through CF8/CFC and
 * ECAM, and power off through the ACPI sleep register. Also: a triple fault,
 * a reset, and load errors that must leave nothing behind.
 */
#include "kvmtest.h"
#include "../bzimage_synth.h"

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/passvm-test-boot-XXXXXX";
static struct vmm_vm *watched;

/* A guest that fails to stop must fail the test, not hang it. */
static void on_alarm(int sig)
{
	if (watched)
		watched->interrupt_requested = 1;
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	CHECK(f != NULL);
	if (!f)
		return;
	CHECK_EQ_INT(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void path_in(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", dir, name);
}

static enum vmm_stop_reason boot(const char *kernel, const char *initrd,
				 unsigned cpus, const char *console,
				 struct vmm_vm *vm, char *detail, size_t detail_size)
{
	struct vmm_config cfg = {
		.kernel_path = kernel, .initrd_path = initrd,
		.cmdline = "console=ttyS0 passvm-test", .cpus = cpus,
		.memory_bytes = 64ULL << 20, .console = VMM_CONSOLE_FILE,
		.console_path = console,
	};
	int r = vmm_vm_create(vm, &cfg);
	CHECK_EQ_INT(r, 0);
	if (r < 0) {
		fprintf(stderr, "vmm_vm_create: %s: %s (%s)\n", vm->failed_phase,
			strerror(-r), vm->failed_detail ? vm->failed_detail : "");
		return VMM_STOP_NONE;
	}
	watched = vm;
	alarm(20);
	enum vmm_stop_reason reason = vmm_vm_run(vm);
	alarm(0);
	watched = NULL;
	snprintf(detail, detail_size, "%s", vm->stop_detail);
	return reason;
}

static void test_poweroff(void)
{
	char kernel[128], initrd[128], console[128], detail[256];
	path_in(kernel, sizeof(kernel), "bzImage");
	path_in(initrd, sizeof(initrd), "initrd");
	path_in(console, sizeof(console), "console");
	size_t size;
	uint8_t *img = synth_bzimage(payload64_boot_image,
				     (size_t)(payload64_end - payload64_boot_image), 0x020f,
				     &size);
	write_file(kernel, img, size);
	free(img);
	static const char initrd_bytes[] = "an initrd of a few bytes";
	write_file(initrd, initrd_bytes, sizeof(initrd_bytes));

	static struct vmm_vm vm;
	enum vmm_stop_reason reason = boot(kernel, initrd, 2, console, &vm, detail,
					   sizeof(detail));
	CHECK_EQ_INT(reason, VMM_STOP_POWEROFF);
	if (reason != VMM_STOP_POWEROFF)
		fprintf(stderr, "stopped: %s\n", detail);
	if (reason != VMM_STOP_NONE) {
		/* The initrd is where the zero page says. */
		const struct boot_params *bp =
			vmm_gpa_to_host(&vm.mem, VMM_BOOT_ZERO_PAGE_GPA, sizeof(*bp));
		CHECK_EQ_INT(bp->hdr.ramdisk_size, sizeof(initrd_bytes));
		const char *rd = vmm_gpa_to_host(&vm.mem, bp->hdr.ramdisk_image,
						 sizeof(initrd_bytes));
		CHECK(rd && memcmp(rd, initrd_bytes, sizeof(initrd_bytes)) == 0);
		CHECK_EQ_INT(bp->hdr.ramdisk_image % 4096, 0);
		vmm_vm_destroy(&vm);
	}

	char out[1024] = "";
	FILE *f = fopen(console, "r");
	CHECK(f != NULL);
	if (f) {
		size_t n = fread(out, 1, sizeof(out) - 1, f);
		out[n] = '\0';
		fclose(f);
	}
	CHECK_EQ_STR(out, "cmdline=console=ttyS0 passvm-test\n"
			  "e820=00000004\n"
			  "rsdp=RSD PTR \n"
			  "cf8=00081b36\n"
			  "ecam=00081b36\n"
			  "absent=ffffffff\n");
	unlink(kernel);
	unlink(initrd);
	unlink(console);
}

/* A "kernel" of a few bytes at the 64-bit entry. */
static enum vmm_stop_reason boot_code(const uint8_t *code, size_t len, char *detail,
				      size_t detail_size)
{
	uint8_t pm[0x200 + 64];
	memset(pm, 0xf4, sizeof(pm));
	memcpy(pm + 0x200, code, len);
	size_t size;
	uint8_t *img = synth_bzimage(pm, sizeof(pm), 0x020f, &size);
	char kernel[128], console[128];
	path_in(kernel, sizeof(kernel), "code");
	path_in(console, sizeof(console), "code-console");
	write_file(kernel, img, size);
	free(img);
	static struct vmm_vm vm;
	enum vmm_stop_reason reason = boot(kernel, NULL, 1, console, &vm, detail,
					   detail_size);
	if (reason != VMM_STOP_NONE)
		vmm_vm_destroy(&vm);
	unlink(kernel);
	unlink(console);
	return reason;
}

static void test_triple_fault_and_reset(void)
{
	char detail[256];
	/* ud2 with no IDT: #UD, #GP, #DF, shutdown. */
	static const uint8_t ud2[] = { 0x0f, 0x0b };
	CHECK_EQ_INT(boot_code(ud2, sizeof(ud2), detail, sizeof(detail)),
		     VMM_STOP_TRIPLE_FAULT);
	CHECK(strstr(detail, "triple fault") != NULL);
	/* 'P' on the console, then the FADT's reset register. */
	static const uint8_t reset[] = {
		0x66, 0xba, 0xf8, 0x03, 0xb0, 'P', 0xee,   /* mov $0x3f8,%dx; out 'P' */
		0x66, 0xba, 0x02, 0x06, 0xb0, 0x01, 0xee,  /* mov $0x602,%dx; out 1 */
		0xf4,
	};
	CHECK_EQ_INT(boot_code(reset, sizeof(reset), detail, sizeof(detail)),
		     VMM_STOP_RESET);
	CHECK(strstr(detail, "\"P\"") != NULL);
	/* The keyboard controller's reset command (reboot=k). */
	static const uint8_t kbd_reset[] = { 0xb0, 0xfe, 0xe6, 0x64, 0xf4 };
	CHECK_EQ_INT(boot_code(kbd_reset, sizeof(kbd_reset), detail, sizeof(detail)),
		     VMM_STOP_RESET);
}

/* --console pty: the guest's output arrives on the pty's slave side. */
static void test_pty(void)
{
	char kernel[128], detail[256];
	path_in(kernel, sizeof(kernel), "bzImage-pty");
	size_t size;
	uint8_t *img = synth_bzimage(payload64_boot_image,
				     (size_t)(payload64_end - payload64_boot_image), 0x020f,
				     &size);
	write_file(kernel, img, size);
	free(img);
	static struct vmm_vm vm;
	struct vmm_config cfg = {
		.kernel_path = kernel, .cmdline = "pty", .cpus = 1,
		.memory_bytes = 64ULL << 20, .console = VMM_CONSOLE_PTY,
	};
	int r = vmm_vm_create(&vm, &cfg);
	CHECK_EQ_INT(r, 0);
	if (r < 0)
		return;
	CHECK(strncmp(vm.console_pty, "/dev/pts/", 9) == 0);
	int fd = open(vm.console_pty, O_RDONLY | O_NOCTTY | O_NONBLOCK);
	CHECK(fd >= 0);
	watched = &vm;
	alarm(20);
	CHECK_EQ_INT(vmm_vm_run(&vm), VMM_STOP_POWEROFF);
	alarm(0);
	watched = NULL;
	snprintf(detail, sizeof(detail), "%s", vm.stop_detail);
	/* The pty hands what the master wrote to the slave's line discipline
	 * later, in pieces (drivers/tty/tty_buffer.c flush_to_ldisc runs from a
	 * workqueue), so one read() right after the VM stopped may see none or
	 * part of it: read until the line is there, waiting up to 5 s. */
	char out[256] = "";
	size_t len = 0;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	while (fd >= 0 && len < 11 && poll(&pfd, 1, 5000) > 0) {
		ssize_t n = read(fd, out + len, sizeof(out) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	out[len] = '\0';
	CHECK(len > 0);
	CHECK(strncmp(out, "cmdline=pty", 11) == 0);
	if (fd >= 0)
		close(fd);
	vmm_vm_destroy(&vm);
	unlink(kernel);
}

/* A real-mode jump to F000:FFF0 (how Linux reboots on this platform, see
 * vmm/resetvec.c) must end in a reset, not in whatever lies there. */
static void test_reset_vector(void)
{
	char kernel[128], console[128];
	path_in(kernel, sizeof(kernel), "bzImage-rv");
	path_in(console, sizeof(console), "rv-console");
	size_t size;
	uint8_t pm[0x210];
	memset(pm, 0xf4, sizeof(pm));
	uint8_t *img = synth_bzimage(pm, sizeof(pm), 0x020f, &size);
	write_file(kernel, img, size);
	free(img);
	static struct vmm_vm vm;
	struct vmm_config cfg = {
		.kernel_path = kernel, .cmdline = "", .cpus = 1,
		.memory_bytes = 64ULL << 20, .console = VMM_CONSOLE_FILE,
		.console_path = console,
	};
	CHECK_EQ_INT(vmm_vm_create(&vm, &cfg), 0);
	struct kvm_vcpu *v = vmm_vm_vcpu(&vm, 0);
	CHECK(v != NULL);
	if (!v)
		return;
	struct kvm_sregs sregs;
	CHECK(kvm_vcpu_ioctl(v, KVM_GET_SREGS, &sregs) >= 0);
	struct kvm_segment real = { .limit = 0xffff, .type = 0x3, .present = 1, .s = 1 };
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = real;
	sregs.cs = real;
	sregs.cs.type = 0xb;
	sregs.cs.selector = 0xf000;
	sregs.cs.base = 0xf0000;
	sregs.cr0 = 0x10;
	sregs.cr4 = 0;
	sregs.efer = 0;
	CHECK(kvm_vcpu_ioctl(v, KVM_SET_SREGS, &sregs) >= 0);
	struct kvm_regs regs = { .rip = 0xfff0, .rflags = 0x2 };
	CHECK(kvm_vcpu_ioctl(v, KVM_SET_REGS, &regs) >= 0);
	watched = &vm;
	alarm(20);
	CHECK_EQ_INT(vmm_vm_run(&vm), VMM_STOP_RESET);
	alarm(0);
	watched = NULL;
	vmm_vm_destroy(&vm);
	unlink(kernel);
	unlink(console);
}

static void test_load_errors(void)
{
	char kernel[128], console[128];
	path_in(console, sizeof(console), "never");
	static struct vmm_vm vm;
	struct vmm_config cfg = {
		.kernel_path = "/nonexistent/bzImage", .cmdline = "", .cpus = 1,
		.memory_bytes = 64ULL << 20, .console = VMM_CONSOLE_FILE,
		.console_path = console,
	};
	CHECK_EQ_INT(vmm_vm_create(&vm, &cfg), -ENOENT);
	CHECK_EQ_STR(vm.failed_detail, "kernel");

	path_in(kernel, sizeof(kernel), "not-a-bzimage");
	write_file(kernel, "#!/bin/sh\necho not a kernel\n", 28);
	cfg.kernel_path = kernel;
	CHECK_EQ_INT(vmm_vm_create(&vm, &cfg), -ENOEXEC);

	/* Protocol 2.11 has no 64-bit entry: refused as not a bzImage. */
	size_t size;
	uint8_t code[0x210] = { 0 };
	uint8_t *img = synth_bzimage(code, sizeof(code), 0x020b, &size);
	write_file(kernel, img, size);
	free(img);
	CHECK_EQ_INT(vmm_vm_create(&vm, &cfg), -ENOEXEC);
	unlink(kernel);

	/* Nothing left behind: the console file was never created. */
	struct stat st;
	CHECK(stat(console, &st) < 0 && errno == ENOENT);
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
	struct sigaction sa = { .sa_handler = on_alarm };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	if (!mkdtemp(dir))
		return test_skip("cannot create a temporary directory");
	test_poweroff();
	test_triple_fault_and_reset();
	test_pty();
	test_reset_vector();
	test_load_errors();
	rmdir(dir);
	return test_result();
}
