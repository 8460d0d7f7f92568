// SPDX-License-Identifier: GPL-2.0-or-later
/* passvm run's command line into a vmm_config (cli/run.h). */
#include "cli.h"
#include "common.h"
#include "run.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
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

static void disks_free(struct run_disks *d)
{
	for (unsigned i = 0; i < d->n; i++)
		free(d->specs[i]);
	d->n = 0;
}

/* PATH[,readonly][,direct][,serial=S][,queues=N]: one line on error. */
static int parse_disk(const char *spec, struct run_disks *d)
{
	if (d->n == RUN_MAX_DISKS) {
		log_error("--disk '%s': at most %d disks", spec, RUN_MAX_DISKS);
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

int run_parse_args(int argc, char **argv, struct vmm_config *cfg, struct run_args *ra)
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
	memset(ra, 0, sizeof(*ra));
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
		case 'S': ra->control_path = optarg; break;
		case 'L': ra->console_log_path = optarg; break;
		case 'r': cfg->rng = true; break;
		case 'U': ra->user = optarg; break;
		case 'Z':
			if (vmm_sandbox_mode_parse(optarg, &ra->seccomp) < 0) {
				log_error("--seccomp '%s': give on, off or log", optarg);
				return -EINVAL;
			}
			break;
		case 'b':
			if (parse_disk(optarg, &ra->disks) < 0)
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
			if (vmm_net_parse(optarg, &ra->nets[cfg->nr_nets], why, sizeof(why)) < 0) {
				log_error("%s", why);
				return -EINVAL;
			}
			cfg->nets = ra->nets;
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
	cfg->disks = ra->disks.disks;
	cfg->nr_disks = ra->disks.n;
	if (optind < argc) {
		log_error("unexpected argument '%s' (passvm run --help lists the options)",
			  argv[optind]);
		return -EINVAL;
	}
	if (ra->console_log_path && !ra->control_path) {
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

void run_args_free(struct run_args *ra)
{
	disks_free(&ra->disks);
}

int run_check_host_memory(const struct vmm_config *cfg)
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
