// SPDX-License-Identifier: GPL-2.0-or-later
/* passvm run's one-line reports of a VM that did not start (cli/run.h). */
#include "cli.h"
#include "common.h"
#include "run.h"

#include <errno.h>
#include <string.h>

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

void run_report_create_error(const struct vmm_vm *vm, const struct vmm_config *cfg,
				int r)
{
	const char *phase = vm->failed_phase ? vm->failed_phase : "start";
	const char *detail = vm->failed_detail ? vm->failed_detail : "";
	if (strcmp(phase, "set up networks") == 0) {
		report_net_error(vm, cfg, r);
	} else if (strcmp(phase, VMM_PHASE_EXTRA) == 0 && cfg->extra_ctx) {
		run_report_passthrough_error(cfg->extra_ctx, r);
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

void run_report_plan(const struct run_plan *plan)
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
