// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * 64-bit payloads entered through vmm_longmode_enter — the same GDT, page
 * tables and control registers the Linux boot path uses — with their exits
 * dispatched by vmm_vcpu_handle_exit to devices registered on the buses:
 * port I/O in and out, MMIO read and write, guest RAM through a memory slot,
 * and two vCPUs in threads of their own hitting one device concurrently.
 */
#include "kvmtest.h"

#include <pthread.h>

#define RAM_BYTES (64ULL << 20)
#define CODE_GPA 0x100000ULL
#define MMIO_BASE 0xd0000000ULL
#define SMP_ROUNDS 1000

/* A port device recording the last write per port, and counts per value. */
struct recorder {
	pthread_mutex_t lock;
	uint32_t last[0x40];
	unsigned by_value[4];
	unsigned writes;
};

static void rec_write(void *dev, uint64_t off, const uint8_t *data, uint32_t size)
{
	struct recorder *r = dev;
	uint32_t v = 0;
	memcpy(&v, data, size > 4 ? 4 : size);
	pthread_mutex_lock(&r->lock);
	r->last[off] = v;
	if (v < 4)
		r->by_value[v]++;
	r->writes++;
	pthread_mutex_unlock(&r->lock);
}

static const struct vmm_device_ops recorder_ops = { .name = "recorder", .write = rec_write };

/* An MMIO device: remembers writes, reads return a fixed pattern. */
struct mmio_dev {
	uint64_t last_offset;
	uint32_t last_write;
	uint32_t last_size;
};

static void mmio_read(void *dev, uint64_t off, uint8_t *data, uint32_t size)
{
	uint32_t v = 0xcafebabe;
	memcpy(data, &v, size > 4 ? 4 : size);
}

static void mmio_write(void *dev, uint64_t off, const uint8_t *data, uint32_t size)
{
	struct mmio_dev *m = dev;
	m->last_offset = off;
	m->last_size = size;
	memcpy(&m->last_write, data, size > 4 ? 4 : size);
}

static const struct vmm_device_ops mmio_ops = {
	.name = "mmio-test", .read = mmio_read, .write = mmio_write,
};

/* Runs until an exit the buses do not handle; returns that exit reason. */
static uint32_t run_until_unhandled(struct vmm_vm *vm, struct kvm_vcpu *vcpu)
{
	for (int i = 0; i < 100000; i++) {
		if (kvm_vcpu_run(vcpu) < 0)
			return KVM_EXIT_UNKNOWN;
		uint32_t reason = vcpu->run->exit_reason;
		if (reason != KVM_EXIT_IO && reason != KVM_EXIT_MMIO)
			return reason;
		vmm_vcpu_handle_exit(vm, vcpu);
	}
	return KVM_EXIT_UNKNOWN;
}

struct smp_arg {
	struct vmm_vm *vm;
	struct kvm_vcpu *vcpu;
	uint32_t exit_reason;
};

static void *smp_thread(void *p)
{
	struct smp_arg *a = p;
	a->exit_reason = run_until_unhandled(a->vm, a->vcpu);
	return NULL;
}

/* --hugepages: with a free pool, guest RAM comes from it and registers as
 * a memory slot; without one, allocation fails with ENOMEM at once. */
static void test_hugepages(struct vmm_vm *vm)
{
	uint64_t free_pages = 0;
	char buf[4096];
	ssize_t n = host_root_read(&vm->root, "proc/meminfo", buf, sizeof(buf));
	const char *line = n > 0 ? strstr(buf, "HugePages_Free:") : NULL;
	unsigned long long v;
	if (line && sscanf(line, "HugePages_Free: %llu", &v) == 1)
		free_pages = v;
	struct vmm_memory_map map;
	struct vmm_guest_memory mem;
	CHECK_EQ_INT(vmm_memory_map_build(&map, 32ULL << 20, 40), 0);
	int r = vmm_guest_memory_alloc(&mem, &map, true);
	if (free_pages >= 16) {
		CHECK_EQ_INT(r, 0);
		struct kvm_vm hvm;
		CHECK_EQ_INT(kvm_vm_create(&hvm, &vm->kvm), 0);
		CHECK_EQ_INT(vmm_guest_memory_register(&mem, &hvm), 0);
		kvm_vm_destroy(&hvm);
		vmm_guest_memory_free(&mem);
	} else {
		CHECK_EQ_INT(r, -ENOMEM);
		CHECK(mem.host == NULL);
	}
	/* Not a multiple of 2 MiB: refused before asking. */
	CHECK_EQ_INT(vmm_memory_map_build(&map, (32ULL << 20) + 4096, 40), 0);
	CHECK_EQ_INT(vmm_guest_memory_alloc(&mem, &map, true), -EINVAL);
}

int main(void)
{
	static struct vmm_vm vm;
	int r = kvmtest_open(&vm.root, &vm.kvm);
	if (r)
		return r;
	struct vmm_memory_map map;
	CHECK_EQ_INT(vmm_memory_map_build(&map, RAM_BYTES, 40), 0);
	CHECK_EQ_INT(kvm_vm_create(&vm.vm, &vm.kvm), 0);
	CHECK_EQ_INT(vmm_guest_memory_alloc(&vm.mem, &map, false), 0);
	CHECK_EQ_INT(vmm_guest_memory_register(&vm.mem, &vm.vm), 0);
	CHECK_EQ_INT(vm.vm.slots_used, 1);
	CHECK_EQ_INT(vmm_bus_init(&vm.pio, "pio"), 0);
	CHECK_EQ_INT(vmm_bus_init(&vm.mmio, "mmio"), 0);
	pthread_mutex_init(&vm.stop_lock, NULL);
	pthread_cond_init(&vm.stop_cond, NULL);

	static struct recorder rec = { .lock = PTHREAD_MUTEX_INITIALIZER };
	static struct mmio_dev mdev;
	CHECK_EQ_INT(vmm_bus_register(&vm.pio, 0, 0x40, &recorder_ops, &rec), 0);
	CHECK_EQ_INT(vmm_bus_register(&vm.mmio, MMIO_BASE, 0x1000, &mmio_ops, &mdev), 0);

	size_t len = (size_t)(payload64_end - payload64_start);
	memcpy(vmm_gpa_to_host(&vm.mem, CODE_GPA, len), payload64_start, len);
	uint32_t host_value = 0x0badf00d;
	memcpy(vmm_gpa_to_host(&vm.mem, 0x2000008, 4), &host_value, 4);

	/* One vCPU: ports, MMIO and RAM. */
	struct kvm_vcpu v0, v1;
	CHECK_EQ_INT(kvm_vcpu_create(&v0, &vm.vm, 0), 0);
	struct vmm_boot_entry e = {
		.rip = CODE_GPA + (uint64_t)(payload64_exits - payload64_start), .rsi = 0x5a,
	};
	CHECK_EQ_INT(vmm_longmode_enter(&vm.mem, &v0, &e), 0);
	uint32_t reason = run_until_unhandled(&vm, &v0);
	CHECK_EQ_INT(reason, KVM_EXIT_HLT);
	if (reason != KVM_EXIT_HLT)
		fprintf(stderr, "exit %s\n", kvm_exit_reason_name(reason));
	CHECK_EQ_INT(rec.last[0x10], 0x5a);
	CHECK_EQ_INT(mdev.last_offset, 0);
	CHECK_EQ_INT(mdev.last_size, 4);
	CHECK_EQ_INT(mdev.last_write, 0x12345678);
	CHECK_EQ_INT(rec.last[0x12], 0xcafebabe);
	uint32_t guest_value;
	memcpy(&guest_value, vmm_gpa_to_host(&vm.mem, 0x2000000, 4), 4);
	CHECK_EQ_INT(guest_value, 0xfeedface);
	CHECK_EQ_INT(rec.last[0x13], 0x0badf00d);

	/* The same long-mode state left the sregs Linux expects. */
	struct kvm_sregs sregs;
	CHECK(kvm_vcpu_ioctl(&v0, KVM_GET_SREGS, &sregs) >= 0);
	CHECK_EQ_INT(sregs.cs.selector, 0x10);
	CHECK_EQ_INT(sregs.ds.selector, 0x18);
	CHECK_EQ_INT(sregs.cs.l, 1);
	CHECK(sregs.efer & 0x400); /* LMA */

	/* Two vCPUs, each in its own thread, one device between them. */
	memset(rec.by_value, 0, sizeof(rec.by_value));
	CHECK_EQ_INT(kvm_vcpu_create(&v1, &vm.vm, 1), 0);
	struct kvm_vcpu *vcpus[2] = { &v0, &v1 };
	struct smp_arg args[2];
	pthread_t threads[2];
	for (unsigned i = 0; i < 2; i++) {
		struct vmm_boot_entry se = {
			.rip = CODE_GPA + (uint64_t)(payload64_smp - payload64_start),
			.rsi = 1 + i,
		};
		CHECK_EQ_INT(vmm_longmode_enter(&vm.mem, vcpus[i], &se), 0);
		args[i] = (struct smp_arg){ &vm, vcpus[i], 0 };
	}
	for (unsigned i = 0; i < 2; i++)
		pthread_create(&threads[i], NULL, smp_thread, &args[i]);
	for (unsigned i = 0; i < 2; i++) {
		pthread_join(threads[i], NULL);
		CHECK_EQ_INT(args[i].exit_reason, KVM_EXIT_HLT);
	}
	CHECK_EQ_INT(rec.by_value[1], SMP_ROUNDS);
	CHECK_EQ_INT(rec.by_value[2], SMP_ROUNDS);

	/* An access nobody claims is counted, not fatal. */
	unsigned long before = atomic_load(&vm.pio.unclaimed);
	uint8_t b = 0;
	CHECK(!vmm_bus_access(&vm.pio, 0x9999, &b, 1, false));
	CHECK_EQ_INT(b, 0xff);
	CHECK_EQ_INT(atomic_load(&vm.pio.unclaimed), before + 1);

	test_hugepages(&vm);

	kvm_vcpu_destroy(&v1);
	kvm_vcpu_destroy(&v0);
	vmm_bus_destroy(&vm.mmio);
	vmm_bus_destroy(&vm.pio);
	vmm_guest_memory_free(&vm.mem);
	kvm_vm_destroy(&vm.vm);
	kvm_system_close(&vm.kvm);
	host_root_close(&vm.root);
	return test_result();
}
