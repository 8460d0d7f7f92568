// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The in-kernel interrupt controllers and GSI routing on a real /dev/kvm:
 * create IOAPIC/PIC/PIT, raise and lower an ISA line, add MSI routes beside
 * the default ones, bind an eventfd to one (irqfd), reprogram it, unbind.
 * KVM checks each routing table it is given, so a malformed table fails here.
 */
#include "kvmtest.h"

#include <sys/eventfd.h>
#include <unistd.h>

int main(void)
{
	struct host_root root;
	struct kvm_system kvm;
	struct kvm_vm vm;
	struct vmm_irqchip chip;
	int r = kvmtest_open(&root, &kvm);
	if (r)
		return r;
	const char *missing = NULL;
	r = kvm_system_check_required(&kvm, &missing);
	if (r < 0) {
		fprintf(stderr, "KVM lacks %s\n", missing);
		return test_skip("this KVM lacks a capability passvm needs");
	}
	CHECK_EQ_INT(kvm_vm_create(&vm, &kvm), 0);
	CHECK_EQ_INT(vmm_irqchip_create(&chip, &vm), 0);
	/* 24 IOAPIC routes + 16 PIC routes, as KVM's default table. */
	CHECK_EQ_INT(chip.nr_routes, 40);

	CHECK_EQ_INT(vmm_irqchip_set_line(&chip, 4, true), 0);
	CHECK_EQ_INT(vmm_irqchip_set_line(&chip, 4, false), 0);

	uint32_t gsi1 = 0, gsi2 = 0;
	CHECK_EQ_INT(vmm_irqchip_add_msi_route(&chip, 0xfee00000, 0x4041, &gsi1), 0);
	CHECK_EQ_INT(vmm_irqchip_add_msi_route(&chip, 0xfee01000, 0x4042, &gsi2), 0);
	CHECK_EQ_INT(gsi1, VMM_IOAPIC_PINS);
	CHECK_EQ_INT(gsi2, VMM_IOAPIC_PINS + 1);
	CHECK_EQ_INT(chip.nr_routes, 42);

	int efd = eventfd(0, EFD_CLOEXEC);
	CHECK(efd >= 0);
	CHECK_EQ_INT(vmm_irqchip_irqfd(&chip, efd, gsi1, true), 0);
	CHECK_EQ_INT(vmm_irqchip_irqfd(&chip, efd, gsi1, true), -EBUSY); /* bound */
	uint64_t one = 1;
	CHECK_EQ_INT(write(efd, &one, sizeof(one)), sizeof(one));
	CHECK_EQ_INT(vmm_irqchip_update_msi_route(&chip, gsi1, 0xfee00000, 0x4051), 0);
	CHECK_EQ_INT(vmm_irqchip_update_msi_route(&chip, 3, 0xfee00000, 0x4051), -ENOENT);
	CHECK_EQ_INT(vmm_irqchip_irqfd(&chip, efd, gsi1, false), 0);
	/* KVM_SIGNAL_MSI needs a LAPIC to deliver to (with none, KVM's
	 * delivery returns -1, i.e. -EPERM): APIC ID 0 is vCPU 0. */
	struct kvm_vcpu vcpu;
	CHECK_EQ_INT(kvm_vcpu_create(&vcpu, &vm, 0), 0);
	CHECK_EQ_INT(vmm_irqchip_signal_msi(&chip, 0xfee00000, 0x4041), 0);
	kvm_vcpu_destroy(&vcpu);
	close(efd);

	vmm_irqchip_destroy(&chip);
	kvm_vm_destroy(&vm);
	kvm_system_close(&kvm);
	host_root_close(&root);
	return test_result();
}
