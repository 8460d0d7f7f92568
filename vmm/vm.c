// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The machine: a table of start-up phases, each with an undo, run in order;
 * a failure unwinds the phases already done, so a VM that fails to start
 * leaves nothing behind (no console file, no terminal mode change).
 */
#include "vmm.h"
#include "sandbox.h"
#include "virtio.h"
#include "control.h"
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* KVM's real-mode helpers on Intel (api.rst, KVM_SET_TSS_ADDR: three pages
 * below 4 GiB that the guest does not use): just below the BIOS ROM area,
 * inside the PCI hole, clear of the IOAPIC, LAPIC and ECAM. */
#define KVM_TSS_GPA 0xfffbd000ULL
#define KVM_IDENTITY_MAP_GPA 0xfffbc000ULL

static int phase_kvm(struct vmm_vm *vm)
{
	int r = host_root_open(&vm->root, "/");
	if (r < 0)
		return r;
	r = kvm_system_open(&vm->kvm, &vm->root);
	if (r < 0)
		goto fail_root;
	r = kvm_system_check_required(&vm->kvm, &vm->failed_detail);
	if (r == 0 && (vm->cfg.cpus == 0 || vm->cfg.cpus > (unsigned)vm->kvm.max_vcpus ||
		       vm->cfg.cpus > 255)) {
		vm->failed_detail = "--cpus";
		r = -E2BIG;
	}
	if (r == 0)
		r = kvm_system_supported_cpuid(&vm->kvm, &vm->supported_cpuid);
	if (r == 0)
		return 0;
	kvm_system_close(&vm->kvm);
fail_root:
	host_root_close(&vm->root);
	return r;
}

static void undo_kvm(struct vmm_vm *vm)
{
	free(vm->supported_cpuid);
	vm->supported_cpuid = NULL;
	kvm_system_close(&vm->kvm);
	host_root_close(&vm->root);
}

static int phase_vm(struct vmm_vm *vm)
{
	int r = kvm_vm_create(&vm->vm, &vm->kvm);
	if (r < 0)
		return r;
	r = kvm_vm_ioctl(&vm->vm, KVM_SET_TSS_ADDR, (void *)(uintptr_t)KVM_TSS_GPA);
	if (r >= 0 && kvm_system_check_extension(&vm->kvm, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0) {
		uint64_t addr = KVM_IDENTITY_MAP_GPA;
		r = kvm_vm_ioctl(&vm->vm, KVM_SET_IDENTITY_MAP_ADDR, &addr);
	}
	if (r >= 0)
		r = vmm_irqchip_create(&vm->irqchip, &vm->vm);
	if (r >= 0)
		return 0;
	kvm_vm_destroy(&vm->vm);
	return r;
}

static void undo_vm(struct vmm_vm *vm)
{
	vmm_irqchip_destroy(&vm->irqchip);
	kvm_vm_destroy(&vm->vm);
}

/* RAM kept from before a reset (vmm_vm_rebuild): what the loader builds
 * below 1 MiB starts from zeroes as on a first boot; the rest keeps what the
 * guest left, as on hardware. */
static int adopt_memory(struct vmm_vm *vm)
{
	memset(vm->mem.host, 0, VMM_BIOS_END);
	int r = vmm_guest_memory_register(&vm->mem, &vm->vm);
	if (r < 0)
		vmm_guest_memory_free(&vm->mem);
	return r;
}

static int phase_memory(struct vmm_vm *vm)
{
	if (vm->mem.host)
		return adopt_memory(vm);
	struct vmm_memory_map map;
	int r = vmm_memory_map_build(&map, vm->cfg.memory_bytes,
				     vmm_cpuid_phys_bits(vm->supported_cpuid));
	if (r < 0)
		return r;
	r = vmm_guest_memory_alloc(&vm->mem, &map, vm->cfg.hugepages);
	if (r < 0)
		return r;
	r = vmm_guest_memory_register(&vm->mem, &vm->vm);
	if (r < 0)
		vmm_guest_memory_free(&vm->mem);
	return r;
}

static void undo_memory(struct vmm_vm *vm)
{
	vmm_guest_memory_free(&vm->mem);
}

static const char *const load_objects[] = {
	[VMM_LOAD_KERNEL] = "kernel", [VMM_LOAD_INITRD] = "initrd",
	[VMM_LOAD_CMDLINE] = "command line",
};

static int phase_load(struct vmm_vm *vm)
{
	uint8_t *acpi = vmm_gpa_to_host(&vm->mem, VMM_ACPI_GPA, VMM_ACPI_MAX_BYTES);
	struct vmm_acpi_config acfg = {
		.cpus = vm->cfg.cpus, .map = &vm->mem.map, .base_gpa = VMM_ACPI_GPA,
	};
	if (!acpi)
		return -ENOSPC;
	int r = vmm_acpi_build(acpi, VMM_ACPI_MAX_BYTES, &acfg);
	if (r < 0) {
		vm->failed_detail = "ACPI tables";
		return r;
	}
	r = vmm_reset_vector_write(&vm->mem);
	if (r < 0)
		return r;
	enum vmm_load_object obj;
	r = vmm_linux_load(&vm->mem, vm->cfg.kernel_path, vm->cfg.initrd_path,
			   vm->cfg.cmdline, VMM_ACPI_GPA, &vm->entry, &obj);
	if (r < 0)
		vm->failed_detail = load_objects[obj];
	return r;
}

static void undo_nothing(struct vmm_vm *vm)
{
}

static int open_console(struct vmm_vm *vm)
{
	vm->console_in_fd = vm->console_out_fd = vm->console_pty_slave_fd = -1;
	switch (vm->cfg.console) {
	case VMM_CONSOLE_STDIO:
		vm->console_in_fd = STDIN_FILENO;
		vm->console_out_fd = STDOUT_FILENO;
		/* Keys go to the guest one at a time, unechoed; ISIG stays on
		 * so ^C still stops passvm. */
		if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &vm->saved_termios) == 0) {
			struct termios t = vm->saved_termios;
			t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
			if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0)
				vm->termios_saved = true;
		}
		return 0;
	case VMM_CONSOLE_PTY: {
		int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (m < 0)
			return -errno;
		if (grantpt(m) < 0 || unlockpt(m) < 0 ||
		    ptsname_r(m, vm->console_pty, sizeof(vm->console_pty)) != 0) {
			int r = -errno;
			close(m);
			return r;
		}
		/* Raw slave: the guest's console does its own line editing.
		 * passvm keeps the slave open itself, so the master never sees
		 * a hangup while no terminal is attached (reads would fail
		 * with EIO and the console input thread would stop). */
		int s = open(vm->console_pty, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (s >= 0) {
			struct termios t;
			if (tcgetattr(s, &t) == 0) {
				cfmakeraw(&t);
				tcsetattr(s, TCSANOW, &t);
			}
		}
		vm->console_pty_slave_fd = s;
		/* Nobody may be attached: a full pty drops guest output
		 * rather than stalling the vCPU that writes it. */
		fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK);
		vm->console_in_fd = m;
		vm->console_out_fd = m;
		return 0;
	}
	case VMM_CONSOLE_FDS:
		vm->console_in_fd = vm->cfg.console_fd_in;
		vm->console_out_fd = vm->cfg.console_fd_out;
		return 0;
	case VMM_CONSOLE_FILE: {
		int fd = open(vm->cfg.console_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0)
			vm->console_created = true;
		else if (errno == EEXIST)
			fd = open(vm->cfg.console_path, O_WRONLY | O_TRUNC | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		vm->console_out_fd = fd;
		return 0;
	}
	}
	return -EINVAL;
}

static void close_console(struct vmm_vm *vm, bool failed)
{
	if (vm->termios_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &vm->saved_termios);
	vm->termios_saved = false;
	if (vm->cfg.console != VMM_CONSOLE_STDIO && vm->cfg.console != VMM_CONSOLE_FDS &&
	    vm->console_out_fd >= 0)
		close(vm->console_out_fd);
	if (vm->console_pty_slave_fd >= 0)
		close(vm->console_pty_slave_fd);
	vm->console_pty_slave_fd = -1;
	if (failed && vm->console_created)
		unlink(vm->cfg.console_path);
	vm->console_in_fd = vm->console_out_fd = -1;
}

static void power_event(void *ctx, enum vmm_power_event ev)
{
	struct vmm_vm *vm = ctx;
	if (ev == VMM_POWER_OFF) {
		vmm_vm_request_stop(vm, VMM_STOP_POWEROFF, "guest powered off");
		return;
	}
	char line[160] = "";
	if (vm->uart && vmm_uart_panic_line(vm->uart, line, sizeof(line))) {
		vmm_vm_request_stop(vm, VMM_STOP_RESET, "guest panicked and reset itself: \"%s\"",
				    line);
		return;
	}
	if (vm->uart)
		vmm_uart_last_line(vm->uart, line, sizeof(line));
	vmm_vm_request_stop(vm, VMM_STOP_RESET,
			    "guest reset itself (reboot, or a panic with panic=-1); "
			    "its last console line: \"%s\"", line);
}

static int phase_devices(struct vmm_vm *vm)
{
	int r = vmm_bus_init(&vm->pio, "pio");
	if (r < 0)
		return r;
	r = vmm_bus_init(&vm->mmio, "mmio");
	if (r < 0)
		goto fail_pio;
	vm->mmio.log_unclaimed = true;
	r = vmm_pci_host_init(&vm->pci, &vm->pio, &vm->mmio, &vm->mem.map);
	if (r < 0)
		goto fail_mmio;
	r = open_console(vm);
	if (r < 0) {
		vm->failed_detail = "console";
		goto fail_pci;
	}
	r = vmm_uart_create(&vm->uart, &vm->irqchip, VMM_UART_COM1_IRQ,
			    vm->console_in_fd, vm->console_out_fd);
	if (r < 0)
		goto fail_console;
	r = vmm_bus_register(&vm->pio, VMM_UART_COM1_PORT, 8, &vmm_uart_ops, vm->uart);
	if (r < 0)
		goto fail_uart;
	vm->power = (struct vmm_power){ .event = power_event, .ctx = vm };
	r = vmm_bus_register(&vm->pio, VMM_POWER_PORT, VMM_POWER_PORT_LEN,
			     &vmm_power_ops, &vm->power);
	if (r == 0)
		r = vmm_bus_register(&vm->pio, VMM_I8042_PORT, VMM_I8042_PORT_LEN,
				     &vmm_i8042_ops, &vm->power);
	vm->ged.chip = &vm->irqchip;
	vm->ged.gsi = VMM_GED_GSI;
	if (r == 0)
		r = vmm_bus_register(&vm->pio, VMM_GED_PORT, VMM_GED_PORT_LEN, &vmm_ged_ops,
				     &vm->ged);
	if (r == 0)
		return 0;
fail_uart:
	vmm_uart_destroy(vm->uart);
	vm->uart = NULL;
fail_console:
	close_console(vm, true);
fail_pci:
	vmm_pci_host_destroy(&vm->pci);
fail_mmio:
	vmm_bus_destroy(&vm->mmio);
fail_pio:
	vmm_bus_destroy(&vm->pio);
	return r;
}

static void undo_devices(struct vmm_vm *vm)
{
	vmm_uart_destroy(vm->uart);
	vm->uart = NULL;
	close_console(vm, vm->stop_reason == VMM_STOP_NONE);
	vmm_pci_host_destroy(&vm->pci);
	vmm_bus_destroy(&vm->mmio);
	vmm_bus_destroy(&vm->pio);
}

static void undo_virtio(struct vmm_vm *vm)
{
	for (unsigned i = 0; vm->disks && i < vm->cfg.nr_disks; i++)
		virtio_blk_destroy(vm->disks[i]);
	free(vm->disks);
	vm->disks = NULL;
	virtio_rng_destroy(vm->rng);
	vm->rng = NULL;
}

/* The emulated virtio devices, each a PCI function on bus 0 (vmm/virtio.h).
 * A disk that cannot be opened fails the start with failed_disk set. */
static int phase_virtio(struct vmm_vm *vm)
{
	struct virtio_pci_env env = {
		.mem = &vm->mem, .mmio = &vm->mmio, .pci = &vm->pci,
		.irqchip = &vm->irqchip, .vm = &vm->vm,
	};
	int r = 0;
	if (vm->cfg.nr_disks) {
		vm->disks = calloc(vm->cfg.nr_disks, sizeof(*vm->disks));
		if (!vm->disks)
			return -ENOMEM;
	}
	for (unsigned i = 0; i < vm->cfg.nr_disks && r == 0; i++) {
		r = virtio_blk_create(&vm->disks[i], &env, &vm->cfg.disks[i], i);
		if (r < 0) {
			vm->failed_disk = i;
			vm->failed_detail = "disk";
		}
	}
	if (r == 0 && vm->cfg.rng) {
		r = virtio_rng_create(&vm->rng, &env);
		if (r < 0)
			vm->failed_detail = "rng";
	}
	if (r < 0)
		undo_virtio(vm);
	return r;
}

static int phase_extra(struct vmm_vm *vm)
{
	return vm->cfg.plug_extra ? vm->cfg.plug_extra(vm, vm->cfg.extra_ctx) : 0;
}

static void undo_extra(struct vmm_vm *vm)
{
	if (vm->cfg.unplug_extra)
		vm->cfg.unplug_extra(vm, vm->cfg.extra_ctx);
}

static int phase_vcpus(struct vmm_vm *vm)
{
	return vmm_vcpus_create(vm);
}

static const struct {
	const char *name;
	int (*run)(struct vmm_vm *vm);
	void (*undo)(struct vmm_vm *vm);
} phases[] = {
	{ "open /dev/kvm", phase_kvm, undo_kvm },
	{ "create the VM", phase_vm, undo_vm },
	{ "allocate guest memory", phase_memory, undo_memory },
	{ "load the guest", phase_load, undo_nothing },
	{ "create devices", phase_devices, undo_devices },
	{ "create virtio devices", phase_virtio, undo_virtio },
	{ "set up networks", vmm_vm_net_setup, vmm_vm_net_teardown },
	{ VMM_PHASE_EXTRA, phase_extra, undo_extra },
	{ "create vCPUs", phase_vcpus, vmm_vcpus_destroy },
};

static int create(struct vmm_vm *vm, const struct vmm_config *cfg,
		  const struct vmm_guest_memory *ram)
{
	memset(vm, 0, sizeof(*vm));
	vm->cfg = *cfg;
	if (ram)
		vm->mem = *ram;
	vm->console_in_fd = vm->console_out_fd = vm->console_pty_slave_fd = -1;
	vm->kvm.fd = -1;
	vm->vm.fd = -1;
	pthread_mutex_init(&vm->stop_lock, NULL);
	pthread_cond_init(&vm->stop_cond, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(phases); i++) {
		int r = phases[i].run(vm);
		if (r < 0) {
			vm->failed_phase = phases[i].name;
			vmm_vm_destroy(vm);
			/* RAM handed in but not adopted yet. */
			vmm_guest_memory_free(&vm->mem);
			return r;
		}
		vm->phases_done = (unsigned)i + 1;
	}
	return 0;
}

int vmm_vm_create(struct vmm_vm *vm, const struct vmm_config *cfg)
{
	return create(vm, cfg, NULL);
}

void vmm_vm_destroy(struct vmm_vm *vm)
{
	while (vm->phases_done > 0) {
		vm->phases_done--;
		phases[vm->phases_done].undo(vm);
	}
}

/* Keeping the mapping also keeps a huge-page-backed guest from losing its
 * pages to another process between teardown and rebuild, and spares the
 * faulting-in of every page again. */
int vmm_vm_rebuild(struct vmm_vm *vm, const struct vmm_config *cfg)
{
	struct vmm_guest_memory ram = vm->mem;
	bool same_ram = cfg->memory_bytes == vm->cfg.memory_bytes &&
			cfg->hugepages == vm->cfg.hugepages;
	vm->mem.host = NULL; /* undo_memory leaves it mapped */
	vmm_vm_destroy(vm);
	if (ram.host && !same_ram)
		vmm_guest_memory_free(&ram);
	return create(vm, cfg, ram.host ? &ram : NULL);
}

void vmm_vm_request_stop(struct vmm_vm *vm, enum vmm_stop_reason reason,
			 const char *fmt, ...)
{
	pthread_mutex_lock(&vm->stop_lock);
	if (vm->stop_reason == VMM_STOP_NONE) {
		vm->stop_reason = reason;
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(vm->stop_detail, sizeof(vm->stop_detail), fmt, ap);
		va_end(ap);
		pthread_cond_signal(&vm->stop_cond);
	}
	pthread_mutex_unlock(&vm->stop_lock);
}

/* Where the guest was is the first question about a guest that had to be
 * interrupted (a hang): each vCPU's rip, as many as the detail holds. One
 * halted and one spinning is a different story from all halted. */
static void append_vcpu_rips(struct vmm_vm *vm)
{
	for (unsigned i = 0; i < vm->cfg.cpus; i++) {
		struct kvm_regs regs;
		struct kvm_vcpu *v = vmm_vm_vcpu(vm, i);
		if (!v || kvm_vcpu_ioctl(v, KVM_GET_REGS, &regs) < 0)
			continue;
		size_t n = strlen(vm->stop_detail);
		int w = snprintf(vm->stop_detail + n, sizeof(vm->stop_detail) - n,
				 "%s vCPU %u %s rip=0x%llx", i ? "," : ";", i,
				 i ? "at" : "was at", (unsigned long long)regs.rip);
		if (w < 0 || (size_t)w >= sizeof(vm->stop_detail) - n) {
			vm->stop_detail[n] = '\0'; /* a cut-off entry says nothing */
			break;
		}
	}
}

enum vmm_stop_reason vmm_vm_run(struct vmm_vm *vm)
{
	if (vmm_vcpus_start(vm) == 0) {
		/* Last of all threads: every other thread exists now, so none
		 * inherits the main thread's list on top of its own. */
		int r = vmm_sandbox_enter(VMM_THREAD_MAIN);
		pthread_mutex_lock(&vm->stop_lock);
		while (vm->stop_reason == VMM_STOP_NONE) {
			enum vmm_thread_kind kind = VMM_THREAD_MAIN;
			if (r == 0)
				r = vmm_sandbox_error(&kind);
			if (r < 0) {
				vm->stop_reason = VMM_STOP_ERROR;
				snprintf(vm->stop_detail, sizeof(vm->stop_detail),
					 "the %s thread cannot install its seccomp filter: %s",
					 vmm_thread_kind_name(kind), strerror(-r));
				break;
			}
			if (vm->interrupt_requested) {
				vm->stop_reason = VMM_STOP_INTERRUPTED;
				snprintf(vm->stop_detail, sizeof(vm->stop_detail),
					 "interrupted by a signal");
				break;
			}
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 100 * 1000 * 1000;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&vm->stop_cond, &vm->stop_lock, &ts);
		}
		pthread_mutex_unlock(&vm->stop_lock);
	}
	vmm_vcpus_stop(vm);
	if (vm->stop_reason == VMM_STOP_INTERRUPTED)
		append_vcpu_rips(vm);
	return vm->stop_reason;
}

const char *vmm_stop_reason_name(enum vmm_stop_reason reason)
{
	static const char *const names[] = {
		[VMM_STOP_NONE] = "running", [VMM_STOP_POWEROFF] = "powered off",
		[VMM_STOP_RESET] = "reset", [VMM_STOP_TRIPLE_FAULT] = "triple fault",
		[VMM_STOP_ERROR] = "error", [VMM_STOP_INTERRUPTED] = "interrupted",
		[VMM_STOP_REQUESTED] = "stopped",
	};
	return reason < ARRAY_SIZE(names) ? names[reason] : "unknown";
}
