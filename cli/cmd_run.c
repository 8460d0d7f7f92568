// SPDX-License-Identifier: GPL-2.0-or-later
/* passvm run: boot a Linux guest on KVM; exits when the guest stops. */
#include "cli.h"
#include "common.h"
#include "vmm.h"
#include "sandbox.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#define DEFAULT_MEMORY "512M"
#define DEFAULT_CMDLINE "console=ttyS0 panic=-1"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: passvm run --kernel PATH [options]\n"
		"\n"
		"Boots a Linux kernel (bzImage, x86 boot protocol 2.12 or later) on KVM.\n"
		"passvm exits 0 when the guest powers off; non-zero, with one line\n"
		"saying why, when it resets (reboot, or a panic with panic=-1), triple\n"
		"faults or cannot start.\n"
		"\n"
		"options:\n"
		"  --kernel PATH       the guest kernel (bzImage)\n"
		"  --initrd PATH       an initial ramdisk\n"
		"  --cmdline STR       kernel command line (default \"%s\")\n"
		"  --cpus N            vCPUs, 1 to KVM's limit (default 1)\n"
		"  --memory SIZE       guest RAM: 512M, 4G; a bare number means MiB (default %s)\n"
		"  --hugepages         back guest RAM with 2 MiB huge pages (see\n"
		"                      /proc/sys/vm/nr_hugepages)\n"
		"  --console KIND      stdio (default), pty (prints the pty's path) or a\n"
		"                      file PATH that receives the guest's output\n"
		"  --hide-hypervisor   no hypervisor CPUID bit or KVM leaves\n"
		"  --seccomp MODE      on (default): each VMM thread may make only the\n"
		"                      system calls its kind needs, a forbidden one stops\n"
		"                      the VMM with one line; log: allow and let the kernel\n"
		"                      log them (dmesg, audit type=1326); off\n"
		"  -h, --help          this text\n",
		DEFAULT_CMDLINE, DEFAULT_MEMORY);
}

static struct vmm_vm *running_vm;

static void on_signal(int sig)
{
	(void)sig;
	if (running_vm)
		running_vm->interrupt_requested = 1;
}

struct run_options {
	enum vmm_sandbox_mode seccomp;
};

static int parse_args(int argc, char **argv, struct vmm_config *cfg,
		      struct run_options *ro)
{
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "cmdline", required_argument, NULL, 'c' },
		{ "cpus", required_argument, NULL, 'n' },
		{ "memory", required_argument, NULL, 'm' },
		{ "hugepages", no_argument, NULL, 'H' },
		{ "console", required_argument, NULL, 'C' },
		{ "hide-hypervisor", no_argument, NULL, 'x' },
		{ "seccomp", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *memory = DEFAULT_MEMORY;
	uint64_t v;
	int c;

	*cfg = (struct vmm_config){ .cmdline = DEFAULT_CMDLINE, .cpus = 1,
				    .console = VMM_CONSOLE_STDIO };
	*ro = (struct run_options){ .seccomp = VMM_SANDBOX_ON };
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'k': cfg->kernel_path = optarg; break;
		case 'i': cfg->initrd_path = optarg; break;
		case 'c': cfg->cmdline = optarg; break;
		case 'H': cfg->hugepages = true; break;
		case 'x': cfg->hide_hypervisor = true; break;
		case 'm': memory = optarg; break;
		case 'n':
			if (parse_u64(optarg, &v) < 0 || v == 0 || v > 65535) {
				log_error("--cpus '%s': give a whole number from 1 to KVM's limit", optarg);
				return -EINVAL;
			}
			cfg->cpus = (unsigned)v;
			break;
		case 'C':
			if (strcmp(optarg, "stdio") == 0)
				cfg->console = VMM_CONSOLE_STDIO;
			else if (strcmp(optarg, "pty") == 0)
				cfg->console = VMM_CONSOLE_PTY;
			else {
				cfg->console = VMM_CONSOLE_FILE;
				cfg->console_path = optarg;
			}
			break;
		case 'S':
			if (vmm_sandbox_mode_parse(optarg, &ro->seccomp) < 0) {
				log_error("--seccomp '%s': give on, off or log", optarg);
				return -EINVAL;
			}
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			fprintf(stderr, "(passvm run --help lists the options)\n");
			return -EINVAL;
		}
	}
	if (optind < argc) {
		log_error("unexpected argument '%s' (passvm run --help lists the options)",
			  argv[optind]);
		return -EINVAL;
	}
	if (!cfg->kernel_path) {
		log_error("--kernel PATH is required (passvm run --help)");
		return -EINVAL;
	}
	if (parse_size_mib_default(memory, &cfg->memory_bytes) < 0 ||
	    cfg->memory_bytes == 0) {
		log_error("--memory '%s': give a size such as 512M or 4G (a bare number means MiB)",
			  memory);
		return -EINVAL;
	}
	if (cfg->memory_bytes < VMM_MIN_RAM_BYTES || cfg->memory_bytes % 4096) {
		log_error("--memory '%s': at least %llu MiB, in whole 4 KiB pages", memory,
			  VMM_MIN_RAM_BYTES >> 20);
		return -EINVAL;
	}
	return 0;
}

static int check_host_memory(const struct vmm_config *cfg)
{
	struct host_root root;
	uint64_t host_bytes;
	if (host_root_open(&root, "/") < 0)
		return 0;
	int r = vmm_host_memory_bytes(&root, &host_bytes);
	host_root_close(&root);
	if (r == 0 && cfg->memory_bytes > host_bytes) {
		log_error("--memory %llu MiB is more than this host has (%llu MiB)",
			  (unsigned long long)(cfg->memory_bytes >> 20),
			  (unsigned long long)(host_bytes >> 20));
		return -E2BIG;
	}
	return 0;
}

/* One line for a VM that did not start: what, which object, why, what to do. */
static void report_create_error(const struct vmm_vm *vm, const struct vmm_config *cfg,
				int r)
{
	const char *phase = vm->failed_phase ? vm->failed_phase : "start";
	const char *detail = vm->failed_detail ? vm->failed_detail : "";
	if (strcmp(phase, "open /dev/kvm") == 0) {
		if (r == -ENOENT || r == -ENXIO || r == -ENODEV)
			log_error("/dev/kvm not found: this host has no KVM (enable virtualization "
				  "in firmware, load kvm-intel or kvm-amd)");
		else if (r == -EACCES || r == -EPERM)
			log_error("no permission to open /dev/kvm: run as root or join the kvm group");
		else if (r == -EOPNOTSUPP)
			log_error("KVM on this host lacks %s, which passvm needs", detail);
		else if (r == -E2BIG && vm->kvm.max_vcpus > 255)
			log_error("--cpus %u is above passvm's limit of 255 vCPUs (8-bit APIC IDs)",
				  cfg->cpus);
		else if (r == -E2BIG)
			log_error("--cpus %u is above KVM's limit of %d vCPUs on this host",
				  cfg->cpus, vm->kvm.max_vcpus);
		else
			log_error_errno(r, "cannot use /dev/kvm");
	} else if (strcmp(phase, "allocate guest memory") == 0 && cfg->hugepages &&
		   r == -ENOMEM) {
		log_error("cannot get %llu MiB of 2 MiB huge pages: reserve them first "
			  "(/proc/sys/vm/nr_hugepages)",
			  (unsigned long long)(cfg->memory_bytes >> 20));
	} else if (strcmp(phase, "allocate guest memory") == 0 && cfg->hugepages &&
		   r == -EINVAL) {
		log_error("--memory must be a multiple of 2 MiB with --hugepages");
	} else if (strcmp(detail, "kernel") == 0 && r == -ENOEXEC) {
		log_error("kernel %s is not a bzImage with a 64-bit entry point (x86 boot "
			  "protocol 2.12 or later)", cfg->kernel_path);
	} else if (strcmp(detail, "kernel") == 0 && r == -ENOSPC) {
		log_error("kernel %s does not fit in %llu MiB of guest RAM: give more --memory",
			  cfg->kernel_path, (unsigned long long)(cfg->memory_bytes >> 20));
	} else if (strcmp(detail, "kernel") == 0) {
		log_error_errno(r, "cannot load kernel %s", cfg->kernel_path);
	} else if (strcmp(detail, "initrd") == 0 && r == -ENOSPC) {
		log_error("initrd %s does not fit below the kernel's limit in %llu MiB of guest "
			  "RAM: give more --memory", cfg->initrd_path,
			  (unsigned long long)(cfg->memory_bytes >> 20));
	} else if (strcmp(detail, "initrd") == 0) {
		log_error_errno(r, "cannot load initrd %s", cfg->initrd_path);
	} else if (strcmp(detail, "command line") == 0) {
		log_error("--cmdline is longer than the kernel accepts");
	} else if (strcmp(detail, "console") == 0) {
		log_error_errno(r, "cannot open the console %s",
				cfg->console_path ? cfg->console_path : "pty");
	} else {
		log_error_errno(r, "cannot %s%s%s", phase, *detail ? " " : "", detail);
	}
}

int cmd_run(int argc, char **argv);
int cmd_run(int argc, char **argv)
{
	struct vmm_config cfg;
	struct run_options ro;
	int r = parse_args(argc, argv, &cfg, &ro);
	if (r > 0)
		return 0; /* --help */
	if (r < 0 || check_host_memory(&cfg) < 0)
		return EXIT_USAGE;

	/* The filters are compiled now, while every call is allowed; each
	 * thread installs its own once it is running (vmm/sandbox.h). */
	r = vmm_sandbox_prepare(ro.seccomp);
	if (r < 0) {
		log_error_errno(r, "cannot build the seccomp filters (--seccomp off runs "
				"without them)");
		return 1;
	}

	static struct vmm_vm vm;
	r = vmm_vm_create(&vm, &cfg);
	if (r < 0) {
		report_create_error(&vm, &cfg, r);
		vmm_sandbox_release();
		return 1;
	}
	if (cfg.console == VMM_CONSOLE_PTY)
		log_info("guest console on %s", vm.console_pty);

	running_vm = &vm;
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A console reader that goes away (a closed pipe) must not kill the
	 * VM: the UART's writes then fail with EPIPE and are dropped. */
	signal(SIGPIPE, SIG_IGN);

	enum vmm_stop_reason reason = vmm_vm_run(&vm);
	char detail[sizeof(vm.stop_detail)];
	snprintf(detail, sizeof(detail), "%s", vm.stop_detail);
	vmm_vm_destroy(&vm);
	vmm_sandbox_release();
	running_vm = NULL;
	if (reason == VMM_STOP_POWEROFF)
		return 0;
	log_error("guest stopped (%s): %s", vmm_stop_reason_name(reason), detail);
	return 1;
}
