// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The first lines of vmm/ against a real /dev/kvm: API version, one VM, one
 * memory slot, one vCPU in real mode, a port-I/O exit and HLT. Runs on the
 * development machine's PVM-backed KVM (which runs real-mode payloads, see
 * shared/LAB.md) and inside the lab's emulated host (nested SVM).
 */
#include "vmm.h"
#include "../testlib.h"

#include <errno.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define GUEST_MEM_BYTES 0x10000
#define CODE_GPA 0x1000
#define TEST_PORT 0x10

static const uint8_t payload[] = {
	0xb0, 0x42,       /* mov al, 0x42 */
	0xe6, TEST_PORT,  /* out 0x10, al */
	0xb0, 0x43,       /* mov al, 0x43 */
	0xe6, TEST_PORT,  /* out 0x10, al */
	0xf4,             /* hlt */
};

static int set_real_mode_entry(struct kvm_vcpu *vcpu)
{
	struct kvm_sregs sregs;
	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	struct kvm_regs regs = { .rip = CODE_GPA, .rflags = 0x2 };
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

static void expect_out(struct kvm_vcpu *vcpu, uint8_t value)
{
	CHECK_EQ_INT(kvm_vcpu_run(vcpu), 0);
	struct kvm_run *run = vcpu->run;
	CHECK_EQ_INT(run->exit_reason, KVM_EXIT_IO);
	if (run->exit_reason != KVM_EXIT_IO) {
		fprintf(stderr, "exit: %s\n", kvm_exit_reason_name(run->exit_reason));
		return;
	}
	CHECK_EQ_INT(run->io.direction, KVM_EXIT_IO_OUT);
	CHECK_EQ_INT(run->io.port, TEST_PORT);
	CHECK_EQ_INT(run->io.size, 1);
	CHECK_EQ_INT(run->io.count, 1);
	CHECK_EQ_INT(((uint8_t *)run)[run->io.data_offset], value);
}

int main(void)
{
	struct host_root root;
	struct kvm_system kvm;
	struct kvm_vm vm;
	struct kvm_vcpu vcpu;

	if (host_root_open(&root, "/") < 0)
		return test_skip("cannot open /");
	int r = kvm_system_open(&kvm, &root);
	if (r == -ENOENT || r == -EACCES || r == -EPERM)
		return test_skip("/dev/kvm is missing or not accessible");
	CHECK_EQ_INT(r, 0);
	if (r < 0)
		return test_result();
	CHECK_EQ_INT(kvm.api_version, 12);
	CHECK(kvm.vcpu_mmap_size >= (int)sizeof(struct kvm_run));

	CHECK_EQ_INT(kvm_vm_create(&vm, &kvm), 0);
	uint8_t *mem = mmap(NULL, GUEST_MEM_BYTES, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(mem != MAP_FAILED);
	memcpy(mem + CODE_GPA, payload, sizeof(payload));
	uint32_t slot = 99;
	CHECK_EQ_INT(kvm_vm_add_memory(&vm, 0, mem, GUEST_MEM_BYTES, &slot), 0);
	CHECK_EQ_INT(slot, 0);

	CHECK_EQ_INT(kvm_vcpu_create(&vcpu, &vm, 0), 0);
	CHECK_EQ_INT(set_real_mode_entry(&vcpu), 0);
	expect_out(&vcpu, 0x42);
	expect_out(&vcpu, 0x43);
	CHECK_EQ_INT(kvm_vcpu_run(&vcpu), 0);
	CHECK_EQ_INT(vcpu.run->exit_reason, KVM_EXIT_HLT);

	kvm_vcpu_destroy(&vcpu);
	kvm_vm_destroy(&vm);
	munmap(mem, GUEST_MEM_BYTES);
	kvm_system_close(&kvm);
	host_root_close(&root);
	return test_result();
}
