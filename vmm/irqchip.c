// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The in-kernel interrupt controllers (KVM_CREATE_IRQCHIP: PIC pair, IOAPIC,
 * a LAPIC per vCPU; KVM_CREATE_PIT2) and the GSI routing table. KVM's
 * KVM_SET_GSI_ROUTING replaces the whole table, so passvm keeps its own copy:
 * the default ISA/IOAPIC routes KVM starts with, plus one MSI route per
 * interrupt that a device delivers through an irqfd (virtio, VFIO).
 * Documentation/virt/kvm/api.rst, "KVM_SET_GSI_ROUTING", "KVM_IRQFD".
 */
#include "vmm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ISA_IRQS 16
/* The kernel's limit on routing entries (include/linux/kvm_host.h). */
#define KVM_MAX_IRQ_ROUTES 4096

static int push_route(struct vmm_irqchip *chip, struct kvm_irq_routing_entry e)
{
	if (chip->nr_routes == chip->cap_routes) {
		unsigned cap = chip->cap_routes ? chip->cap_routes * 2 : 64;
		if (cap > KVM_MAX_IRQ_ROUTES)
			return -ENOSPC;
		void *p = realloc(chip->routes, cap * sizeof(e));
		if (!p)
			return -ENOMEM;
		chip->routes = p;
		chip->cap_routes = cap;
	}
	chip->routes[chip->nr_routes++] = e;
	return 0;
}

static int commit_routes(struct vmm_irqchip *chip)
{
	size_t bytes = sizeof(struct kvm_irq_routing) +
		       chip->nr_routes * sizeof(struct kvm_irq_routing_entry);
	struct kvm_irq_routing *table = calloc(1, bytes);
	if (!table)
		return -ENOMEM;
	table->nr = chip->nr_routes;
	memcpy(table->entries, chip->routes,
	       chip->nr_routes * sizeof(struct kvm_irq_routing_entry));
	int r = kvm_vm_ioctl(chip->vm, KVM_SET_GSI_ROUTING, table);
	free(table);
	return r < 0 ? r : 0;
}

/* The table KVM installs with the irqchip (virt/kvm/irqchip.c,
 * kvm_setup_default_irq_routing): GSI n to IOAPIC pin n, and GSIs 0-15
 * also to the PIC pair. */
static int default_routes(struct vmm_irqchip *chip)
{
	for (uint32_t gsi = 0; gsi < VMM_IOAPIC_PINS; gsi++) {
		int r = push_route(chip, (struct kvm_irq_routing_entry){
			.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC, .pin = gsi } });
		if (r == 0 && gsi < ISA_IRQS)
			r = push_route(chip, (struct kvm_irq_routing_entry){
				.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
				.u.irqchip = {
					.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER
							   : KVM_IRQCHIP_PIC_SLAVE,
					.pin = gsi % 8 } });
		if (r < 0)
			return r;
	}
	return 0;
}

int vmm_irqchip_create(struct vmm_irqchip *chip, struct kvm_vm *vm)
{
	memset(chip, 0, sizeof(*chip));
	chip->vm = vm;
	chip->next_gsi = VMM_IOAPIC_PINS;
	pthread_mutex_init(&chip->lock, NULL);
	int r = kvm_vm_ioctl(vm, KVM_CREATE_IRQCHIP, NULL);
	if (r < 0)
		goto fail;
	/* The dummy speaker port (0x61) keeps Linux's PIT calibration happy. */
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	r = kvm_vm_ioctl(vm, KVM_CREATE_PIT2, &pit);
	if (r < 0)
		goto fail;
	r = default_routes(chip);
	if (r < 0)
		goto fail;
	return 0;
fail:
	vmm_irqchip_destroy(chip);
	return r;
}

void vmm_irqchip_destroy(struct vmm_irqchip *chip)
{
	free(chip->routes);
	chip->routes = NULL;
	chip->nr_routes = chip->cap_routes = 0;
	pthread_mutex_destroy(&chip->lock);
}

int vmm_irqchip_set_line(struct vmm_irqchip *chip, uint32_t gsi, bool level)
{
	struct kvm_irq_level irq = { .irq = gsi, .level = level };
	int r = kvm_vm_ioctl(chip->vm, KVM_IRQ_LINE, &irq);
	return r < 0 ? r : 0;
}

int vmm_irqchip_signal_msi(struct vmm_irqchip *chip, uint64_t addr, uint32_t data)
{
	struct kvm_msi msi = {
		.address_lo = (uint32_t)addr, .address_hi = (uint32_t)(addr >> 32),
		.data = data,
	};
	/* >0 delivered, 0 blocked by the guest (masked): both fine. KVM
	 * returns -1 (-EPERM) when no LAPIC matched the destination. */
	int r = kvm_vm_ioctl(chip->vm, KVM_SIGNAL_MSI, &msi);
	return r < 0 ? r : 0;
}

static struct kvm_irq_routing_entry msi_route(uint32_t gsi, uint64_t addr, uint32_t data)
{
	return (struct kvm_irq_routing_entry){
		.gsi = gsi, .type = KVM_IRQ_ROUTING_MSI,
		.u.msi = { .address_lo = (uint32_t)addr,
			   .address_hi = (uint32_t)(addr >> 32), .data = data } };
}

int vmm_irqchip_add_msi_route(struct vmm_irqchip *chip, uint64_t addr, uint32_t data,
			      uint32_t *gsi)
{
	pthread_mutex_lock(&chip->lock);
	uint32_t g = chip->next_gsi;
	int r = push_route(chip, msi_route(g, addr, data));
	if (r == 0) {
		r = commit_routes(chip);
		if (r < 0)
			chip->nr_routes--;
		else
			chip->next_gsi++;
	}
	pthread_mutex_unlock(&chip->lock);
	if (r == 0)
		*gsi = g;
	return r;
}

int vmm_irqchip_update_msi_route(struct vmm_irqchip *chip, uint32_t gsi,
				 uint64_t addr, uint32_t data)
{
	int r = -ENOENT;
	pthread_mutex_lock(&chip->lock);
	for (unsigned i = 0; i < chip->nr_routes; i++) {
		struct kvm_irq_routing_entry *e = &chip->routes[i];
		if (e->gsi != gsi || e->type != KVM_IRQ_ROUTING_MSI)
			continue;
		struct kvm_irq_routing_entry old = *e;
		*e = msi_route(gsi, addr, data);
		r = commit_routes(chip);
		if (r < 0)
			*e = old;
		break;
	}
	pthread_mutex_unlock(&chip->lock);
	return r;
}

int vmm_irqchip_irqfd(struct vmm_irqchip *chip, int eventfd, uint32_t gsi, bool assign)
{
	struct kvm_irqfd irqfd = {
		.fd = (uint32_t)eventfd, .gsi = gsi,
		.flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
	};
	int r = kvm_vm_ioctl(chip->vm, KVM_IRQFD, &irqfd);
	return r < 0 ? r : 0;
}

int vmm_irqchip_irqfd_resample(struct vmm_irqchip *chip, int eventfd, int resample_fd,
			       uint32_t gsi, bool assign)
{
	struct kvm_irqfd irqfd = {
		.fd = (uint32_t)eventfd, .gsi = gsi,
		.flags = assign ? KVM_IRQFD_FLAG_RESAMPLE : KVM_IRQFD_FLAG_DEASSIGN,
		.resamplefd = assign ? (uint32_t)resample_fd : 0,
	};
	int r = kvm_vm_ioctl(chip->vm, KVM_IRQFD, &irqfd);
	return r < 0 ? r : 0;
}
