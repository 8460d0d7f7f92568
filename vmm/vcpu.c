// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vCPUs: one thread each, running KVM_RUN and dispatching its exits to the
 * port and MMIO buses. Stopping: set vm->stopping, then for each vCPU set
 * run->immediate_exit and send it a signal. KVM_RUN returns EINTR whether the
 * signal lands inside it or just before (immediate_exit closes that race;
 * api.rst, "immediate_exit").
 */
#include "vmm.h"
#include "sandbox.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

struct vmm_vcpu_thread {
	struct vmm_vm *vm;
	struct kvm_vcpu vcpu;
	pthread_t thread;
	bool started;
};

#define KICK_SIGNAL (SIGRTMIN + 1)
/* LAPIC register offsets and LVT delivery modes (SDM vol. 3, 11.5.1). */
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_MODE_EXTINT 0x700
#define APIC_MODE_NMI 0x400

static void kick_handler(int sig)
{
	(void)sig; /* only there so the signal interrupts KVM_RUN */
}

/* LINT0 as ExtINT (the PIC's output) and LINT1 as NMI, as a PC's firmware
 * leaves them (MultiProcessor Specification 1.4, 3.6.1). */
static int setup_lint(struct kvm_vcpu *vcpu)
{
	struct kvm_lapic_state lapic;
	int r = kvm_vcpu_ioctl(vcpu, KVM_GET_LAPIC, &lapic);
	if (r < 0)
		return r;
	uint32_t lint0 = APIC_MODE_EXTINT, lint1 = APIC_MODE_NMI;
	memcpy(&lapic.regs[APIC_LVT_LINT0], &lint0, 4);
	memcpy(&lapic.regs[APIC_LVT_LINT1], &lint1, 4);
	r = kvm_vcpu_ioctl(vcpu, KVM_SET_LAPIC, &lapic);
	return r < 0 ? r : 0;
}

static int setup_vcpu(struct vmm_vm *vm, struct kvm_vcpu *vcpu, unsigned index)
{
	struct vmm_cpu_topology topo = {
		.cpus = vm->cfg.cpus, .hide_hypervisor = vm->cfg.hide_hypervisor,
	};
	struct kvm_cpuid2 *cpuid;
	int r = vmm_cpuid_for_vcpu(vm->supported_cpuid, &topo, index, &cpuid);
	if (r < 0)
		return r;
	r = kvm_vcpu_ioctl(vcpu, KVM_SET_CPUID2, cpuid);
	free(cpuid);
	if (r < 0)
		return r;
	r = vmm_msr_apply(vcpu, &vm->mem.map);
	if (r < 0)
		return r;
	r = setup_lint(vcpu);
	if (r < 0)
		return r;
	/* The boot vCPU enters Linux; the others wait in KVM for INIT/SIPI
	 * from it (the in-kernel LAPIC keeps APs in wait-for-SIPI). */
	if (index == 0)
		return vmm_longmode_enter(&vm->mem, vcpu, &vm->entry);
	return 0;
}

int vmm_vcpus_create(struct vmm_vm *vm)
{
	struct sigaction sa = { .sa_handler = kick_handler }; /* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	if (sigaction(KICK_SIGNAL, &sa, NULL) < 0)
		return -errno;
	vm->vcpus = calloc(vm->cfg.cpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return -ENOMEM;
	for (unsigned i = 0; i < vm->cfg.cpus; i++)
		vm->vcpus[i].vcpu.fd = -1;
	for (unsigned i = 0; i < vm->cfg.cpus; i++) {
		struct vmm_vcpu_thread *t = &vm->vcpus[i];
		t->vm = vm;
		int r = kvm_vcpu_create(&t->vcpu, &vm->vm, i);
		if (r == 0)
			r = setup_vcpu(vm, &t->vcpu, i);
		if (r < 0) {
			vmm_vcpus_destroy(vm);
			return r;
		}
	}
	return 0;
}

/* The reset state (SDM vol. 3, 9.1.1): CS base 0xffff0000, rip 0xfff0. */
static bool at_reset_vector(const struct kvm_regs *regs, const struct kvm_sregs *sregs)
{
	return regs->rip == 0xfff0 && sregs->cs.base == 0xffff0000;
}

static void triple_fault(struct vmm_vm *vm, struct kvm_vcpu *vcpu)
{
	struct kvm_regs regs = { 0 };
	struct kvm_sregs sregs = { 0 };
	kvm_vcpu_ioctl(vcpu, KVM_GET_REGS, &regs);
	kvm_vcpu_ioctl(vcpu, KVM_GET_SREGS, &sregs);
	char where[64], line[120] = "";
	/* On AMD, KVM puts the vCPU through INIT at a shutdown intercept
	 * (arch/x86/kvm/svm/svm.c, shutdown_interception): what it reports
	 * then is the reset state, not where the guest failed. */
	if (at_reset_vector(&regs, &sregs))
		snprintf(where, sizeof(where), "(KVM reset its registers: where is not known)");
	else
		snprintf(where, sizeof(where), "at rip=0x%llx", (unsigned long long)regs.rip);
	if (vm->uart)
		vmm_uart_last_line(vm->uart, line, sizeof(line));
	vmm_vm_request_stop(vm, VMM_STOP_TRIPLE_FAULT,
			    "vCPU %u triple fault (KVM_EXIT_SHUTDOWN) %s; its last console line: \"%s\"",
			    vcpu->index, where, line);
}

bool vmm_vcpu_handle_exit(struct vmm_vm *vm, struct kvm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	switch (run->exit_reason) {
	case KVM_EXIT_IO: {
		/* data_offset and size*count come from KVM, but stay inside the
		 * mapping we were told about anyway. */
		uint64_t bytes = (uint64_t)run->io.size * run->io.count;
		if (run->io.data_offset > vcpu->run_size ||
		    bytes > vcpu->run_size - run->io.data_offset) {
			vmm_vm_request_stop(vm, VMM_STOP_ERROR, "bad KVM_EXIT_IO layout");
			return false;
		}
		uint8_t *data = (uint8_t *)run + run->io.data_offset;
		for (uint32_t i = 0; i < run->io.count; i++)
			vmm_bus_access(&vm->pio, run->io.port, data + i * run->io.size,
				       run->io.size, run->io.direction == KVM_EXIT_IO_OUT);
		return true;
	}
	case KVM_EXIT_MMIO:
		vmm_bus_access(&vm->mmio, run->mmio.phys_addr, run->mmio.data,
			       run->mmio.len, run->mmio.is_write);
		return true;
	case KVM_EXIT_SHUTDOWN:
		triple_fault(vm, vcpu);
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		if (run->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN)
			vmm_vm_request_stop(vm, VMM_STOP_POWEROFF, "guest powered off");
		else if (run->system_event.type == KVM_SYSTEM_EVENT_RESET)
			vmm_vm_request_stop(vm, VMM_STOP_RESET, "guest reset");
		else
			vmm_vm_request_stop(vm, VMM_STOP_ERROR, "guest crashed (system event %u)",
					    run->system_event.type);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		vmm_vm_request_stop(vm, VMM_STOP_ERROR,
				    "vCPU %u: KVM could not enter the guest (hardware reason 0x%llx)",
				    vcpu->index,
				    (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		vmm_vm_request_stop(vm, VMM_STOP_ERROR,
				    "vCPU %u: KVM internal error (suberror %u)", vcpu->index,
				    run->internal.suberror);
		return false;
	default:
		vmm_vm_request_stop(vm, VMM_STOP_ERROR, "vCPU %u: unexpected exit '%s' (%u)",
				    vcpu->index, kvm_exit_reason_name(run->exit_reason),
				    run->exit_reason);
		return false;
	}
}

static void *vcpu_main(void *arg)
{
	struct vmm_vcpu_thread *t = arg;
	struct vmm_vm *vm = t->vm;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	/* A name for ps, and for the kernel's seccomp audit lines (comm=). */
	char name[16];
	snprintf(name, sizeof(name), "vcpu%u", t->vcpu.index);
	prctl(PR_SET_NAME, name, 0, 0, 0);
	int r = vmm_sandbox_enter(VMM_THREAD_VCPU);
	if (r < 0) {
		vmm_vm_request_stop(vm, VMM_STOP_ERROR,
				    "vCPU %u: cannot install its seccomp filter: %s",
				    t->vcpu.index, strerror(-r));
		return NULL;
	}
	while (!atomic_load(&vm->stopping)) {
		r = kvm_vcpu_run(&t->vcpu);
		if (r == -EINTR || r == -EAGAIN)
			continue;
		if (r < 0) {
			vmm_vm_request_stop(vm, VMM_STOP_ERROR, "vCPU %u: KVM_RUN failed: %s",
					    t->vcpu.index, strerror(-r));
			break;
		}
		if (!vmm_vcpu_handle_exit(vm, &t->vcpu))
			break;
	}
	return NULL;
}

int vmm_vcpus_start(struct vmm_vm *vm)
{
	/* Other threads (console reader, the main thread) must never take the
	 * kick signal: block it here, vcpu_main unblocks it for itself. */
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, KICK_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	int r = 0;
	for (unsigned i = 0; i < vm->cfg.cpus && r == 0; i++) {
		struct vmm_vcpu_thread *t = &vm->vcpus[i];
		r = -pthread_create(&t->thread, NULL, vcpu_main, t);
		t->started = r == 0;
	}
	if (r < 0)
		vmm_vm_request_stop(vm, VMM_STOP_ERROR, "cannot start vCPU threads: %s",
				    strerror(-r));
	return r;
}

void vmm_vcpus_stop(struct vmm_vm *vm)
{
	atomic_store(&vm->stopping, true);
	for (unsigned i = 0; vm->vcpus && i < vm->cfg.cpus; i++) {
		struct vmm_vcpu_thread *t = &vm->vcpus[i];
		if (!t->started)
			continue;
		t->vcpu.run->immediate_exit = 1;
		pthread_kill(t->thread, KICK_SIGNAL);
	}
	for (unsigned i = 0; vm->vcpus && i < vm->cfg.cpus; i++) {
		struct vmm_vcpu_thread *t = &vm->vcpus[i];
		if (t->started)
			pthread_join(t->thread, NULL);
		t->started = false;
	}
}

void vmm_vcpus_destroy(struct vmm_vm *vm)
{
	if (!vm->vcpus)
		return;
	vmm_vcpus_stop(vm);
	for (unsigned i = 0; i < vm->cfg.cpus; i++)
		kvm_vcpu_destroy(&vm->vcpus[i].vcpu);
	free(vm->vcpus);
	vm->vcpus = NULL;
}

struct kvm_vcpu *vmm_vm_vcpu(struct vmm_vm *vm, unsigned i)
{
	return vm->vcpus && i < vm->cfg.cpus ? &vm->vcpus[i].vcpu : NULL;
}
