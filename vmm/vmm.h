/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmm/: the KVM virtual machine monitor.
 *
 * Owns: every KVM ioctl (system, VM and vCPU file descriptors), guest memory,
 * vCPU threads, the platform devices and the boot of a guest. Must not: touch
 * sysfs directly (ask common/'s host root) or a VFIO device fd (ask vfio/).
 */
#ifndef PASSVM_VMM_H
#define PASSVM_VMM_H

#include "common.h"

#include <linux/kvm.h>
#include <stdint.h>

/* /dev/kvm, checked for the API version passvm is written against. */
struct kvm_system {
	int fd;
	int api_version;
	int vcpu_mmap_size;
	int max_vcpus;
};

int kvm_system_open(struct kvm_system *kvm, const struct host_root *root);
void kvm_system_close(struct kvm_system *kvm);
/* KVM_CHECK_EXTENSION on /dev/kvm: >0 supported (often a value), 0 not. */
int kvm_system_check_extension(const struct kvm_system *kvm, long extension);

struct kvm_vm {
	int fd;
	const struct kvm_system *kvm;
	uint32_t slots_used;
};

int kvm_vm_create(struct kvm_vm *vm, const struct kvm_system *kvm);
void kvm_vm_destroy(struct kvm_vm *vm);
/* Maps host memory at guest-physical gpa as the next free memory slot. */
int kvm_vm_add_memory(struct kvm_vm *vm, uint64_t gpa, void *host,
		      uint64_t size_bytes, uint32_t *slot_out);

struct kvm_vcpu {
	int fd;
	unsigned index;
	struct kvm_run *run;
	size_t run_size;
};

int kvm_vcpu_create(struct kvm_vcpu *vcpu, struct kvm_vm *vm, unsigned index);
void kvm_vcpu_destroy(struct kvm_vcpu *vcpu);
/* KVM_RUN once; retries EINTR. Returns 0 and leaves the exit in vcpu->run. */
int kvm_vcpu_run(struct kvm_vcpu *vcpu);
const char *kvm_exit_reason_name(uint32_t reason);

#endif
