// SPDX-License-Identifier: GPL-2.0-or-later
/* KVM system, VM and vCPU file descriptors: the only place ioctls go out. */
#include "vmm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

/* KVM's stable API has been version 12 since Linux 2.6.22
 * (Documentation/virt/kvm/api.rst, KVM_GET_API_VERSION). */
#define KVM_EXPECTED_API_VERSION 12

static int ioctl_or_errno(int fd, unsigned long request, unsigned long arg)
{
	int r = ioctl(fd, request, arg);
	return r < 0 ? -errno : r;
}

int kvm_system_open(struct kvm_system *kvm, const struct host_root *root)
{
	memset(kvm, 0, sizeof(*kvm));
	kvm->fd = host_root_openat(root, "dev/kvm", O_RDWR);
	if (kvm->fd < 0)
		return kvm->fd;
	int r = ioctl_or_errno(kvm->fd, KVM_GET_API_VERSION, 0);
	if (r >= 0 && r != KVM_EXPECTED_API_VERSION)
		r = -EPROTO;
	if (r < 0)
		goto fail;
	kvm->api_version = r;
	r = ioctl_or_errno(kvm->fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (r < 0)
		goto fail;
	kvm->vcpu_mmap_size = r;
	r = kvm_system_check_extension(kvm, KVM_CAP_MAX_VCPUS);
	kvm->max_vcpus = r > 0 ? r : 4; /* api.rst: assume 4 without the cap */
	return 0;
fail:
	close(kvm->fd);
	kvm->fd = -1;
	return r;
}

void kvm_system_close(struct kvm_system *kvm)
{
	if (kvm->fd >= 0)
		close(kvm->fd);
	kvm->fd = -1;
}

int kvm_system_check_extension(const struct kvm_system *kvm, long extension)
{
	return ioctl_or_errno(kvm->fd, KVM_CHECK_EXTENSION, (unsigned long)extension);
}

/* What the machine in vm.c needs, each with the reason it is needed. */
static const struct {
	long cap;
	const char *name;
} required_caps[] = {
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },       /* guest RAM */
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },     /* VMX real mode */
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },           /* KVM_SET_CPUID2 */
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },               /* IOAPIC/LAPIC */
	{ KVM_CAP_PIT2, "KVM_CAP_PIT2" },                     /* in-kernel PIT */
	{ KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING" },       /* MSI routes */
	{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },                   /* device irqs */
	{ KVM_CAP_SIGNAL_MSI, "KVM_CAP_SIGNAL_MSI" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" }, /* vCPU stop */
};

int kvm_system_check_required(const struct kvm_system *kvm, const char **missing)
{
	for (size_t i = 0; i < ARRAY_SIZE(required_caps); i++) {
		int r = kvm_system_check_extension(kvm, required_caps[i].cap);
		if (r <= 0) {
			*missing = required_caps[i].name;
			return r < 0 ? r : -EOPNOTSUPP;
		}
	}
	return 0;
}

int kvm_system_supported_cpuid(const struct kvm_system *kvm, struct kvm_cpuid2 **out)
{
	/* api.rst: E2BIG means the table was too small; grow and retry. */
	for (unsigned n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c)
			return -ENOMEM;
		c->nent = n;
		int r = ioctl_or_errno(kvm->fd, KVM_GET_SUPPORTED_CPUID, (unsigned long)c);
		if (r >= 0) {
			*out = c;
			return 0;
		}
		free(c);
		if (r != -E2BIG)
			return r;
	}
	return -E2BIG;
}

int kvm_vm_create(struct kvm_vm *vm, const struct kvm_system *kvm)
{
	memset(vm, 0, sizeof(*vm));
	vm->fd = -1;
	vm->kvm = kvm;
	int fd;
	/* KVM_CREATE_VM can fail with EINTR while the host is busy. */
	do {
		fd = ioctl_or_errno(kvm->fd, KVM_CREATE_VM, 0);
	} while (fd == -EINTR);
	if (fd < 0)
		return fd;
	vm->fd = fd;
	return 0;
}

int kvm_vm_ioctl(const struct kvm_vm *vm, unsigned long request, void *arg)
{
	return ioctl_or_errno(vm->fd, request, (unsigned long)arg);
}

void kvm_vm_destroy(struct kvm_vm *vm)
{
	if (vm->fd >= 0)
		close(vm->fd);
	vm->fd = -1;
}

/* The lowest slot removed earlier, else the next never used. */
static uint32_t pick_slot(const struct kvm_vm *vm, bool *reused)
{
	for (uint32_t w = 0; w < KVM_VM_SLOT_WORDS; w++)
		if (vm->slots_free[w]) {
			*reused = true;
			return w * 64 + (uint32_t)__builtin_ctzll(vm->slots_free[w]);
		}
	*reused = false;
	return vm->slots_used;
}

int kvm_vm_add_memory(struct kvm_vm *vm, uint64_t gpa, void *host,
		      uint64_t size_bytes, uint32_t *slot_out)
{
	bool reused;
	uint32_t slot = pick_slot(vm, &reused);
	if (!reused && slot >= KVM_VM_SLOT_WORDS * 64)
		return -ENOSPC;
	struct kvm_userspace_memory_region region = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size_bytes,
		.userspace_addr = (uint64_t)(uintptr_t)host,
	};
	int r = ioctl_or_errno(vm->fd, KVM_SET_USER_MEMORY_REGION,
			       (unsigned long)&region);
	if (r < 0)
		return r;
	if (slot_out)
		*slot_out = slot;
	if (reused)
		vm->slots_free[slot / 64] &= ~(1ULL << (slot % 64));
	else
		vm->slots_used++;
	return 0;
}

int kvm_vm_remove_memory(struct kvm_vm *vm, uint32_t slot)
{
	if (slot >= vm->slots_used || (vm->slots_free[slot / 64] & (1ULL << (slot % 64))))
		return -EINVAL;
	/* api.rst, KVM_SET_USER_MEMORY_REGION: memory_size 0 deletes it. */
	struct kvm_userspace_memory_region region = { .slot = slot };
	int r = ioctl_or_errno(vm->fd, KVM_SET_USER_MEMORY_REGION, (unsigned long)&region);
	if (r < 0)
		return r;
	vm->slots_free[slot / 64] |= 1ULL << (slot % 64);
	return 0;
}

int kvm_vcpu_create(struct kvm_vcpu *vcpu, struct kvm_vm *vm, unsigned index)
{
	memset(vcpu, 0, sizeof(*vcpu));
	vcpu->index = index;
	vcpu->fd = ioctl_or_errno(vm->fd, KVM_CREATE_VCPU, index);
	if (vcpu->fd < 0)
		return vcpu->fd;
	vcpu->run_size = (size_t)vm->kvm->vcpu_mmap_size;
	vcpu->run = mmap(NULL, vcpu->run_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		int err = -errno;
		close(vcpu->fd);
		vcpu->fd = -1;
		vcpu->run = NULL;
		return err;
	}
	return 0;
}

void kvm_vcpu_destroy(struct kvm_vcpu *vcpu)
{
	if (vcpu->run)
		munmap(vcpu->run, vcpu->run_size);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	vcpu->run = NULL;
	vcpu->fd = -1;
}

int kvm_vcpu_run(struct kvm_vcpu *vcpu)
{
	/* EINTR is returned, not retried: it is how vcpu.c stops a vCPU (a
	 * signal, with run->immediate_exit closing the race before KVM_RUN). */
	int r = ioctl_or_errno(vcpu->fd, KVM_RUN, 0);
	return r < 0 ? r : 0;
}

int kvm_vcpu_ioctl(const struct kvm_vcpu *vcpu, unsigned long request, void *arg)
{
	return ioctl_or_errno(vcpu->fd, request, (unsigned long)arg);
}

const char *kvm_exit_reason_name(uint32_t reason)
{
	static const char *const names[] = {
		[KVM_EXIT_UNKNOWN] = "unknown",
		[KVM_EXIT_EXCEPTION] = "exception",
		[KVM_EXIT_IO] = "io",
		[KVM_EXIT_HYPERCALL] = "hypercall",
		[KVM_EXIT_DEBUG] = "debug",
		[KVM_EXIT_HLT] = "hlt",
		[KVM_EXIT_MMIO] = "mmio",
		[KVM_EXIT_IRQ_WINDOW_OPEN] = "irq-window-open",
		[KVM_EXIT_SHUTDOWN] = "shutdown",
		[KVM_EXIT_FAIL_ENTRY] = "fail-entry",
		[KVM_EXIT_INTR] = "intr",
		[KVM_EXIT_SET_TPR] = "set-tpr",
		[KVM_EXIT_TPR_ACCESS] = "tpr-access",
		[KVM_EXIT_INTERNAL_ERROR] = "internal-error",
		[KVM_EXIT_SYSTEM_EVENT] = "system-event",
	};
	if (reason < ARRAY_SIZE(names) && names[reason])
		return names[reason];
	return "other";
}
