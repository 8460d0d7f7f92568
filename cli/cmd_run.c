// SPDX-License-Identifier: GPL-2.0-or-later
/* passvm run: boot a Linux guest on KVM; exits when the guest stops. */
#include "cli.h"
#include "common.h"
#include "macvtap.h"
#include "net.h"
#include "run_devices.h"
#include "vmm.h"
#include "virtio.h"
#include "run_managed.h"
#include "sandbox.h"

#include <errno.h>
#include <pwd.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

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
		"  --disk PATH[,readonly][,direct][,serial=S][,queues=N]\n"
		"                      a virtio-blk disk on a raw image file or block\n"
		"                      device (repeatable): readonly refuses the guest's\n"
		"                      writes, direct bypasses the host page cache\n"
		"                      (O_DIRECT), serial is what the guest reads as its\n"
		"                      ID (at most 20 bytes), queues 1-%d (one host thread\n"
		"                      and io_uring each)\n"
		"  --rng               a virtio-rng device fed by the host's getrandom()\n"
		"  --device vfio=BDF[,fallback=auto|none][,rom=off|FILE][,hide-hypervisor]\n"
		"                      pass a host PCI function through (repeatable). Its\n"
		"                      whole IOMMU group goes to vfio-pci for the VM's life\n"
		"                      and back to its drivers at exit; fallback=auto gives\n"
		"                      the guest virtio-net/-blk on the host's driver when\n"
		"                      it cannot be passed through; rom= the expansion ROM\n"
		"  --dry-run           print what would happen to each --device; change nothing\n"
		"  --control PATH      a control socket (docs/control.md): status, pause,\n"
		"                      resume, shutdown, stop, reboot, console; a guest\n"
		"                      reset then reboots the guest instead of exiting\n"
		"  --console-log PATH  with --control: append the console output here\n"
		"  --net SPEC          a virtio-net interface (repeatable, up to %d):\n"
		"                      virtio,bridge=BR[,tag=N][,mac=MAC][,queues=N]: a new tap\n"
		"                        on bridge BR (on VLAN N: the bridge must filter VLANs)\n"
		"                      tap=NAME[,mac=MAC][,queues=N]: an existing tap, as it is\n"
		"  --seccomp MODE      on (default): each VMM thread may make only the\n"
		"                      system calls its kind needs, a forbidden one stops\n"
		"                      the VMM with one line; log: allow and let the kernel\n"
		"                      log them (dmesg, audit type=1326); off\n"
		"  --user USER         once everything is open, the VMM runs as USER with no\n"
		"                      capabilities; a root parent stays to give devices back\n"
		"  -h, --help          this text\n",
		DEFAULT_CMDLINE, DEFAULT_MEMORY, VIRTIO_BLK_MAX_QUEUES, VMM_NET_MAX_IFS);
}

static struct vmm_vm *running_vm;
static volatile sig_atomic_t interrupted;
/* --control, --console-log: the managed path (cli/run_managed.c). */
static const char *control_path, *console_log_path;
static struct vmm_net_config nets[VMM_NET_MAX_IFS];

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
	if (running_vm)
		running_vm->interrupt_requested = 1;
}

#define MAX_DISKS 16

struct disk_args {
	struct virtio_blk_config disks[MAX_DISKS];
	char *specs[MAX_DISKS];     /* strdup'ed, cut at the commas */
	unsigned n;
};

static void disk_args_free(struct disk_args *d)
{
	for (unsigned i = 0; i < d->n; i++)
		free(d->specs[i]);
	d->n = 0;
}

/* PATH[,readonly][,direct][,serial=S][,queues=N]: one line on error. */
static int parse_disk(const char *spec, struct disk_args *d)
{
	if (d->n == MAX_DISKS) {
		log_error("--disk '%s': at most %d disks", spec, MAX_DISKS);
		return -E2BIG;
	}
	char *copy = strdup(spec);
	if (!copy)
		return log_error_errno(-ENOMEM, "--disk");
	struct virtio_blk_config *c = &d->disks[d->n];
	*c = (struct virtio_blk_config){ .queues = 1 };
	bool seen_ro = false, seen_direct = false, seen_queues = false;
	char *save = NULL, *tok = strtok_r(copy, ",", &save);
	int r = 0;
	if (!tok || spec[0] == ',') {
		log_error("--disk '%s': give the image first: --disk PATH[,readonly][,direct]"
			  "[,serial=S][,queues=N]", spec);
		r = -EINVAL;
		goto out;
	}
	c->path = tok;
	while (r == 0 && (tok = strtok_r(NULL, ",", &save))) {
		bool *seen = NULL;
		uint64_t v;
		if (strcmp(tok, "readonly") == 0) {
			seen = &seen_ro;
			c->readonly = true;
		} else if (strcmp(tok, "direct") == 0) {
			seen = &seen_direct;
			c->direct = true;
		} else if (strncmp(tok, "serial=", 7) == 0) {
			if (c->serial) {
				log_error("--disk '%s': serial given twice", spec);
				r = -EINVAL;
			} else if (strlen(tok + 7) == 0 || strlen(tok + 7) > VIRTIO_BLK_SERIAL_MAX) {
				log_error("--disk '%s': serial must be 1 to %d bytes", spec,
					  VIRTIO_BLK_SERIAL_MAX);
				r = -EINVAL;
			}
			c->serial = tok + 7;
		} else if (strncmp(tok, "queues=", 7) == 0) {
			seen = &seen_queues;
			if (parse_u64(tok + 7, &v) < 0 || v == 0 || v > VIRTIO_BLK_MAX_QUEUES) {
				log_error("--disk '%s': queues must be a number from 1 to %d", spec,
					  VIRTIO_BLK_MAX_QUEUES);
				r = -EINVAL;
			}
			c->queues = (unsigned)v;
		} else {
			log_error("--disk '%s': unknown option '%s' (readonly, direct, serial=S, "
				  "queues=N)", spec, tok);
			r = -EINVAL;
		}
		if (r == 0 && seen && *seen) {
			log_error("--disk '%s': '%.*s' given twice", spec,
				  (int)strcspn(tok, "="), tok);
			r = -EINVAL;
		}
		if (seen)
			*seen = true;
	}
	for (unsigned i = 0; r == 0 && i < d->n; i++) {
		if (strcmp(d->disks[i].path, c->path) == 0) {
			/* Two devices on one image corrupt it (two page caches
			 * with direct, two writers in any case). */
			log_error("--disk %s given twice: one image, one disk", c->path);
			r = -EINVAL;
		}
	}
out:
	if (r < 0) {
		free(copy);
		return r;
	}
	d->specs[d->n++] = copy;
	return 0;
}

/* --disk's parsed copies; freed by cmd_run on every way out. */
static struct disk_args run_disks;

struct run_args {
	struct run_device_arg devices[RUN_DEVICES_MAX];
	size_t ndevices;
	bool dry_run;
	enum vmm_sandbox_mode seccomp;
	const char *user;
};

static int parse_args(int argc, char **argv, struct vmm_config *cfg, struct run_args *ra)
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
		{ "device", required_argument, NULL, 'd' },
		{ "dry-run", no_argument, NULL, 'D' },
		{ "control", required_argument, NULL, 'S' },
		{ "console-log", required_argument, NULL, 'L' },
		{ "disk", required_argument, NULL, 'b' },
		{ "rng", no_argument, NULL, 'r' },
		{ "net", required_argument, NULL, 'N' },
		{ "seccomp", required_argument, NULL, 'Z' },
		{ "user", required_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *memory = DEFAULT_MEMORY;
	uint64_t v;
	int c;

	*cfg = (struct vmm_config){ .cmdline = DEFAULT_CMDLINE, .cpus = 1,
				    .console = VMM_CONSOLE_STDIO };
	ra->seccomp = VMM_SANDBOX_ON;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'k': cfg->kernel_path = optarg; break;
		case 'i': cfg->initrd_path = optarg; break;
		case 'c': cfg->cmdline = optarg; break;
		case 'H': cfg->hugepages = true; break;
		case 'x': cfg->hide_hypervisor = true; break;
		case 'm': memory = optarg; break;
		case 'D': ra->dry_run = true; break;
		case 'S': control_path = optarg; break;
		case 'L': console_log_path = optarg; break;
		case 'r': cfg->rng = true; break;
		case 'U': ra->user = optarg; break;
		case 'Z':
			if (vmm_sandbox_mode_parse(optarg, &ra->seccomp) < 0) {
				log_error("--seccomp '%s': give on, off or log", optarg);
				return -EINVAL;
			}
			break;
		case 'b':
			if (parse_disk(optarg, &run_disks) < 0)
				return -EINVAL;
			break;
		case 'd': {
			const char *bad;
			if (ra->ndevices == RUN_DEVICES_MAX) {
				log_error("--device: at most %d devices per VM", RUN_DEVICES_MAX);
				return -EINVAL;
			}
			if (run_device_parse(optarg, &ra->devices[ra->ndevices], &bad) < 0) {
				log_error("--device '%s': cannot parse at '%s': expected "
					  "vfio=BDF[,fallback=auto|none][,rom=off|FILE][,hide-hypervisor]",
					  optarg, bad);
				return -EINVAL;
			}
			if (ra->devices[ra->ndevices].hide_hypervisor)
				cfg->hide_hypervisor = true;
			ra->ndevices++;
			break;
		}
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
		case 'N': {
			char why[200];
			if (cfg->nr_nets == VMM_NET_MAX_IFS) {
				log_error("--net: at most %d interfaces", VMM_NET_MAX_IFS);
				return -EINVAL;
			}
			if (vmm_net_parse(optarg, &nets[cfg->nr_nets], why, sizeof(why)) < 0) {
				log_error("%s", why);
				return -EINVAL;
			}
			cfg->nets = nets;
			cfg->nr_nets++;
			break;
		}
		case 'h':
			usage(stdout);
			return 1;
		default:
			fprintf(stderr, "(passvm run --help lists the options)\n");
			return -EINVAL;
		}
	}
	cfg->disks = run_disks.disks;
	cfg->nr_disks = run_disks.n;
	if (optind < argc) {
		log_error("unexpected argument '%s' (passvm run --help lists the options)",
			  argv[optind]);
		return -EINVAL;
	}
	if (console_log_path && !control_path) {
		log_error("--console-log needs --control (passvm run --help)");
		return -EINVAL;
	}
	if (!cfg->kernel_path && !ra->dry_run) {
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

/* One line for a --net that could not be set up. */
static void report_net_error(const struct vmm_vm *vm, const struct vmm_config *cfg, int r)
{
	const struct vmm_net_config *n = &cfg->nets[vm->failed_index];
	const char *step = vm->failed_detail ? vm->failed_detail : "";
	if (strcmp(step, "bridge") == 0 && r == -ENODEV)
		log_error("--net %s: there is no bridge %s on this host (create it: ip link add "
			  "%s type bridge)", n->spec, n->bridge, n->bridge);
	else if (strcmp(step, "bridge") == 0 && r == -EMEDIUMTYPE)
		log_error("--net %s: %s is not a bridge (bridge= wants a Linux bridge, tap= an "
			  "existing tap)", n->spec, n->bridge);
	else if (strcmp(step, "bridge") == 0 && r == -EPROTONOSUPPORT)
		log_error("--net %s: bridge %s does not filter VLANs, so tag=%u would not keep "
			  "the guest on VLAN %u (ip link set %s type bridge vlan_filtering 1)",
			  n->spec, n->bridge, n->vlan, n->vlan, n->bridge);
	else if (strcmp(step, "tap") == 0 && n->backend == VMM_NET_TAP && r == -ENODEV)
		log_error("--net %s: there is no persistent tap %s (create it: ip tuntap add %s "
			  "mode tap%s)", n->spec, n->tap, n->tap, n->queue_pairs > 1 ? " multi_queue" : "");
	else if (strcmp(step, "tap") == 0 && n->backend == VMM_NET_TAP && r == -EINVAL)
		log_error("--net %s: %s is a tun, not a tap, or was made without multi_queue "
			  "(queues=%u needs it)", n->spec, n->tap, n->queue_pairs);
	else if (strcmp(step, "tap") == 0 && (r == -ENOENT || r == -ENODEV))
		log_error("--net %s: no /dev/net/tun on this host (modprobe tun)", n->spec);
	else if (r == -EPERM || r == -EACCES)
		log_error("--net %s: no permission to set up the %s: run as root (CAP_NET_ADMIN)",
			  n->spec, step);
	else
		log_error_errno(r, "--net %s: cannot set up the %s", n->spec, step);
}

/* One line for a VM that did not start: what, which object, why, what to do. */
static void report_passthrough_error(const void *hook_ctx, int r);

static void report_create_error(const struct vmm_vm *vm, const struct vmm_config *cfg,
				int r)
{
	const char *phase = vm->failed_phase ? vm->failed_phase : "start";
	const char *detail = vm->failed_detail ? vm->failed_detail : "";
	if (strcmp(phase, "set up networks") == 0) {
		report_net_error(vm, cfg, r);
	} else if (strcmp(phase, VMM_PHASE_EXTRA) == 0 && cfg->extra_ctx) {
		report_passthrough_error(cfg->extra_ctx, r);
	} else if (strcmp(phase, "open /dev/kvm") == 0) {
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
	} else if (strcmp(detail, "disk") == 0) {
		const struct virtio_blk_config *d = &cfg->disks[vm->failed_disk];
		if (r == -EINVAL)
			log_error("--disk %s: not a regular file or block device with at least "
				  "one 512-byte sector", d->path);
		else if (r == -EROFS || r == -EACCES || r == -EPERM)
			log_error_errno(r, "--disk %s: cannot open it for writing (add ,readonly "
					"for a read-only disk)", d->path);
		else if (r == -ENOSPC)
			log_error("--disk %s: no free PCI slot or MMIO space left for it", d->path);
		else
			log_error_errno(r, "--disk %s: cannot open the image", d->path);
	} else if (strcmp(detail, "console") == 0) {
		log_error_errno(r, "cannot open the console %s",
				cfg->console_path ? cfg->console_path : "pty");
	} else {
		log_error_errno(r, "cannot %s%s%s", phase, *detail ? " " : "", detail);
	}
}

/* Prints one line per device that does not go to the guest as asked. */
static void report_plan(const struct run_plan *plan)
{
	for (size_t i = 0; i < plan->count; i++) {
		const struct run_device_plan *d = &plan->dev[i];
		if (d->decision == RUN_FALLBACK)
			log_warn("%s: not passed through (%s); the guest gets %s instead",
				 d->info.bdf, d->why_not, d->fallback_what);
		else if (d->decision == RUN_REFUSE)
			log_error("cannot pass through %s: %s; fallback: %s; nothing was changed",
				  d->info.bdf, d->why_not, d->fallback_what);
	}
}

/* Every group member the bind took, for vfio_restore. */
static size_t bound_members(const struct run_plan *plan, struct pci_addr **out)
{
	size_t n = 0;
	*out = NULL;
	if (!plan->have_bind)
		return 0;
	for (size_t g = 0; g < plan->bind.count; g++)
		n += plan->bind.groups[g].count;
	*out = calloc(n ? n : 1, sizeof(**out));
	if (!*out)
		return 0;
	n = 0;
	for (size_t g = 0; g < plan->bind.count; g++)
		for (size_t m = 0; m < plan->bind.groups[g].count; m++)
			if (plan->bind.groups[g].members[m].action == VFIO_MEMBER_BIND)
				(*out)[n++] = plan->bind.groups[g].members[m].info.addr;
	return n;
}

/* Gives back what this run bound: on every way out but SIGKILL (which
 * `passvm vfio restore` covers from the journal). */
static int give_back(const struct vfio_host *host, const struct run_plan *plan)
{
	struct pci_addr *addrs;
	size_t n = bound_members(plan, &addrs);
	int r = 0;
	if (n) {
		struct vfio_restore_result *res = NULL;
		size_t nres = 0;
		r = vfio_restore(host, addrs, n, &res, &nres);
		for (size_t i = 0; i < nres; i++)
			if (res[i].err < 0)
				log_error_errno(res[i].err, "cannot give %s back to %s (the journal "
						"keeps it: run `passvm vfio restore`)", res[i].bdf,
						res[i].to[0] ? res[i].to : "no driver");
		free(res);
	}
	free(addrs);
	return r;
}

/* The passed-through devices, plugged by vmm_vm_create as its extra phase
 * (so a managed VM rebuilt after a guest reset gets them again). */
struct passthrough_hook {
	struct vmm_passthrough pt;
	struct vmm_passthrough_device devs[RUN_DEVICES_MAX];
	size_t count;
	struct pci_addr bad;
	char why[512];
};

static void passthrough_hook_init(struct passthrough_hook *h, const struct run_plan *plan)
{
	h->count = 0;
	for (size_t i = 0; i < plan->count; i++)
		if (plan->dev[i].decision == RUN_PASS)
			h->devs[h->count++] = (struct vmm_passthrough_device){
				.addr = plan->dev[i].info.addr,
				.group = plan->dev[i].info.iommu_group,
				.opt = plan->dev[i].arg.opt,
			};
}

static int passthrough_plug(struct vmm_vm *vm, void *ctx)
{
	struct passthrough_hook *h = ctx;
	memset(&h->pt, 0, sizeof(h->pt));
	h->why[0] = '\0';
	int r = vmm_passthrough_start(&h->pt, vm, h->devs, h->count, &h->bad, h->why,
				      sizeof(h->why));
	if (r < 0)
		return r;
	for (size_t i = 0; i < h->pt.count; i++) {
		char line[384];
		vmm_vfio_pci_describe(h->pt.devs[i], line, sizeof(line));
		log_info("passing through %s", line);
	}
	log_info("guest RAM mapped for device DMA in %.2f s", h->pt.dma_map_s);
	return 0;
}

static void passthrough_unplug(struct vmm_vm *vm, void *ctx)
{
	struct passthrough_hook *h = ctx;
	(void)vm;
	vmm_passthrough_stop(&h->pt);
}

static void report_passthrough_error(const void *hook_ctx, int r)
{
	const struct passthrough_hook *h = hook_ctx;
	char bdf[PCI_ADDR_STRLEN];
	pci_addr_format(&h->bad, bdf);
	log_error("cannot pass %s through: %s (%s); the devices go back to their drivers",
		  bdf, h->why[0] ? h->why : "failed", strerror(-r));
}

/* fallback=auto for an NVMe drive: a virtio-blk disk on its host block
 * device, reaching the same namespace through the host's nvme driver. */
static int add_fallback_disks(const struct run_plan *plan, struct vmm_config *cfg)
{
	for (size_t i = 0; i < plan->count; i++) {
		const struct run_device_plan *d = &plan->dev[i];
		if (d->decision != RUN_FALLBACK || d->fallback_kind != RUN_FB_BLK)
			continue;
		if (run_disks.n == MAX_DISKS) {
			log_error("cannot give %s's fallback disk: at most %d disks", d->info.bdf,
				  MAX_DISKS);
			return -E2BIG;
		}
		run_disks.disks[run_disks.n++] = (struct virtio_blk_config){
			.path = d->fallback_target, .queues = 1,
		};
	}
	cfg->disks = run_disks.disks;
	cfg->nr_disks = run_disks.n;
	return 0;
}

/* fallback=auto for a NIC: a macvtap (bridge mode, the guest's own MAC)
 * over the NIC's host netdev, as a virtio-net interface. The macvtaps are
 * deleted on every way out but SIGKILL. */
static struct vmm_macvtap fallback_taps[VMM_NET_MAX_IFS];
static size_t nr_fallback_taps;

static void delete_fallback_nets(void)
{
	for (size_t i = 0; i < nr_fallback_taps; i++) {
		int r = vmm_macvtap_delete(&fallback_taps[i]);
		if (r < 0)
			log_error_errno(r, "cannot delete macvtap %s (ip link del %s)",
					fallback_taps[i].name, fallback_taps[i].name);
	}
	nr_fallback_taps = 0;
}

static int add_fallback_nets(const struct run_plan *plan, struct vmm_config *cfg)
{
	for (size_t i = 0; i < plan->count; i++) {
		const struct run_device_plan *d = &plan->dev[i];
		if (d->decision != RUN_FALLBACK || d->fallback_kind != RUN_FB_NET)
			continue;
		if (cfg->nr_nets == VMM_NET_MAX_IFS) {
			log_error("cannot give %s's fallback network: at most %d interfaces",
				  d->info.bdf, VMM_NET_MAX_IFS);
			return -E2BIG;
		}
		struct vmm_net_config *n = &nets[cfg->nr_nets];
		*n = (struct vmm_net_config){ .backend = VMM_NET_MACVTAP, .queue_pairs = 1,
					      .has_mac = true, .spec = d->info.bdf };
		vmm_net_random_mac(n->mac);
		snprintf(n->tap, sizeof(n->tap), "pvmt%u.%u", (unsigned)getpid() % 100000u,
			 (unsigned)(i % 16));
		struct vmm_macvtap *m = &fallback_taps[nr_fallback_taps];
		int r = vmm_macvtap_create(m, d->fallback_target, n->tap, n->mac);
		if (r < 0) {
			log_error_errno(r, "cannot create a macvtap over %s for %s's fallback",
					d->fallback_target, d->info.bdf);
			return r;
		}
		nr_fallback_taps++;
		snprintf(n->macvtap_dev, sizeof(n->macvtap_dev), "%s", m->dev_path);
		cfg->nets = nets;
		cfg->nr_nets++;
	}
	return 0;
}

static int take_devices(const struct vfio_host *host, const struct run_plan *plan)
{
	struct pci_addr failed = { 0 };
	int rollback_err = 0;
	char bdf[PCI_ADDR_STRLEN];
	int r = vfio_bind_apply(host, &plan->bind, 10000, &failed, &rollback_err);
	if (r == 0)
		return 0;
	pci_addr_format(&failed, bdf);
	const char *after = rollback_err == 0 ? "nothing was left changed"
			    : "giving back failed too: run `passvm vfio restore --all`";
	if (r == -ENOPKG)
		log_error("cannot bind %s: the vfio-pci driver is not loaded (modprobe vfio-pci); "
			  "%s", bdf, after);
	else
		log_error_errno(r, "cannot bind %s to vfio-pci (%s)", bdf, after);
	return r;
}

/* PASSVM_TEST_FAULT_AT=POINT: passvm kills itself with SIGKILL there, for
 * the fault tests (tests/hw/passthrough/faults.sh): whatever a crash at that
 * point leaves, `passvm vfio restore` must give back. Points, in order:
 * bound (the root process, devices bound), created (the VMM, machine built
 * and devices plugged: opened, reset, DMA-mapped), confined (dropped to
 * --user, about to run). */
static void fault_point(const char *point)
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

struct vmm_user {
	bool set;
	uid_t uid;
	gid_t gid;
};

static int lookup_user(const char *name, struct vmm_user *u)
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
	*u = (struct vmm_user){ .set = true, .uid = pw->pw_uid, .gid = pw->pw_gid };
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
		if (interrupted && !forwarded) {
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
static int run_vmm(struct vmm_config *cfg, const struct run_args *ra,
		   const struct vmm_user *user, pid_t parent)
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
		report_create_error(&vm, cfg, r);
		vmm_sandbox_release();
		return 1;
	}
	fault_point("created");
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
	fault_point("confined");

	running_vm = &vm;
	if (interrupted)
		vm.interrupt_requested = 1;
	enum vmm_stop_reason reason = vmm_vm_run(&vm);
	char detail[sizeof(vm.stop_detail)];
	snprintf(detail, sizeof(detail), "%s", vm.stop_detail);
	running_vm = NULL;
	if (!parent) {
		vmm_vm_destroy(&vm);
		vmm_sandbox_release();
	}
	if (reason == VMM_STOP_POWEROFF)
		return 0;
	log_error("guest stopped (%s): %s", vmm_stop_reason_name(reason), detail);
	return 1;
}

static int cmd_run_main(int argc, char **argv)
{
	struct vmm_config cfg;
	static struct run_args ra;
	memset(&ra, 0, sizeof(ra));
	int r = parse_args(argc, argv, &cfg, &ra);
	if (r > 0)
		return 0; /* --help */
	if (r < 0 || (!ra.dry_run && check_host_memory(&cfg) < 0))
		return EXIT_USAGE;

	struct vmm_user user = { 0 };
	if (ra.user && control_path) {
		log_error("--user does not work with --control yet (a guest reset rebuilds the "
			  "machine, which needs root); run without one of them");
		return EXIT_USAGE;
	}
	if (ra.user && !ra.dry_run && lookup_user(ra.user, &user) < 0)
		return EXIT_USAGE;

	/* Signals are caught from here on: a SIGTERM while devices are
	 * being bound or the VM is starting still ends in give_back. */
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A console reader that goes away (a closed pipe) must not kill the
	 * VM: the UART's writes then fail with EPIPE and are dropped. */
	signal(SIGPIPE, SIG_IGN);

	static struct host_root root;
	static struct vfio_host vhost;
	static struct run_plan plan;
	bool bound = false;
	if (ra.ndevices) {
		if (host_root_open(&root, "/") < 0)
			return log_error_errno(-errno, "cannot open the host root /"), 1;
		vfio_host_init(&vhost, &root);
		r = run_plan_build(&vhost, ra.devices, ra.ndevices, &plan);
		if (r == -EEXIST) {
			log_error("--device: the same device is named twice");
			return EXIT_USAGE;
		}
		if (r < 0) {
			log_error_errno(r, "cannot read the host's PCI devices and IOMMU groups");
			return 1;
		}
		if (ra.dry_run) {
			run_plan_print(stdout, &plan);
			r = plan.refused ? 1 : 0;
			run_plan_free(&plan);
			host_root_close(&root);
			return r;
		}
		report_plan(&plan);
		if (!plan.refused && (add_fallback_disks(&plan, &cfg) < 0 ||
				      add_fallback_nets(&plan, &cfg) < 0)) {
			delete_fallback_nets();
			run_plan_free(&plan);
			host_root_close(&root);
			return 1;
		}
		if (plan.refused) {
			run_plan_free(&plan);
			host_root_close(&root);
			return 1;
		}
		if (plan.have_bind) {
			if (take_devices(&vhost, &plan) < 0) {
				run_plan_free(&plan);
				host_root_close(&root);
				return 1;
			}
			bound = true;
		}
	} else if (ra.dry_run) {
		printf("no --device: nothing on the host would change\n");
		return 0;
	}

	static struct vmm_vm vm;
	static struct passthrough_hook hook;
	int status = 1;
	if (interrupted)
		goto out;
	passthrough_hook_init(&hook, &plan);
	if (hook.count) {
		cfg.plug_extra = passthrough_plug;
		cfg.unplug_extra = passthrough_unplug;
		cfg.extra_ctx = &hook;
	}
	if (control_path) {
		/* Managed: a guest reset rebuilds the machine in this process
		 * and pause/resume starts new vCPU threads, so the main thread
		 * stays unconfined (a filter cannot be lifted, and new threads
		 * would inherit it); vCPU, device and console threads enter
		 * their lists as everywhere. */
		r = vmm_sandbox_prepare(ra.seccomp);
		if (r < 0) {
			log_error_errno(r, "cannot build the seccomp filters (--seccomp off "
					"runs without them)");
			goto out;
		}
		status = run_managed(&vm, &cfg, control_path, console_log_path,
				     report_create_error);
		vmm_sandbox_release();
		goto out;
	}
	if (bound)
		fault_point("bound");
	/* Passed-through devices or --user: the VMM runs in a child, and this
	 * root process only waits and gives the devices back, however the VMM
	 * ends (its seccomp filter, SIGKILL, a crash). */
	/* A fallback's macvtaps are deleted by this process, whatever ends
	 * the VMM: it runs in a child for them too. */
	if (ra.user || hook.count || nr_fallback_taps) {
		struct termios tio;
		bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &tio) == 0;
		fflush(NULL);
		pid_t self = getpid();
		pid_t pid = fork();
		if (pid < 0) {
			log_error_errno(-errno, "cannot start the VMM process");
		} else if (pid == 0) {
			die_with_parent(self);
			_exit(run_vmm(&cfg, &ra, &user, self));
		} else {
			status = supervise(pid);
			/* A VMM killed by a signal left the terminal raw. */
			if (tty)
				tcsetattr(STDIN_FILENO, TCSANOW, &tio);
		}
	} else {
		status = run_vmm(&cfg, &ra, &user, 0);
	}
out:
	if (bound && give_back(&vhost, &plan) < 0)
		status = 1;
	delete_fallback_nets();
	if (ra.ndevices) {
		run_plan_free(&plan);
		host_root_close(&root);
	}
	return status;
}

int cmd_run(int argc, char **argv);
int cmd_run(int argc, char **argv)
{
	int status = cmd_run_main(argc, argv);
	disk_args_free(&run_disks);
	return status;
}
