// SPDX-License-Identifier: GPL-2.0-or-later
/* KVM system, VM and vCPU file descriptors: the only place ioctls go out. */
#include "vmm.h"

#include <errno.h>
#include <fcntl.h>
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

int kvm_vm_create(struct kvm_vm *vm, const struct kvm_system *kvm)
{
	memset(vm, 0, sizeof(*vm));
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

void kvm_vm_destroy(struct kvm_vm *vm)
{
	if (vm->fd >= 0)
		close(vm->fd);
	vm->fd = -1;
}

int kvm_vm_add_memory(struct kvm_vm *vm, uint64_t gpa, void *host,
		      uint64_t size_bytes, uint32_t *slot_out)
{
	struct kvm_userspace_memory_region region = {
		.slot = vm->slots_used,
		.guest_phys_addr = gpa,
		.memory_size = size_bytes,
		.userspace_addr = (uint64_t)(uintptr_t)host,
	};
	int r = ioctl_or_errno(vm->fd, KVM_SET_USER_MEMORY_REGION,
			       (unsigned long)&region);
	if (r < 0)
		return r;
	if (slot_out)
		*slot_out = vm->slots_used;
	vm->slots_used++;
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
	int r;
	do {
		r = ioctl_or_errno(vcpu->fd, KVM_RUN, 0);
	} while (r == -EINTR);
	return r < 0 ? r : 0;
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
