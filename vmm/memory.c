// SPDX-License-Identifier: GPL-2.0-or-later
/* The guest-physical memory map (see vmm.h) and the RAM behind it. */
#include "vmm.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define HUGE_PAGE_BYTES (2ULL << 20)

int vmm_memory_map_build(struct vmm_memory_map *map, uint64_t ram_bytes,
			 unsigned phys_bits)
{
	memset(map, 0, sizeof(*map));
	if (ram_bytes < VMM_MIN_RAM_BYTES || (ram_bytes & 0xfff))
		return -EINVAL;
	/* Below 36 bits the 64-bit window would overlap the first 32 GiB; above
	 * 52 no x86 CPU exists (SDM vol. 3, 4.1.4: MAXPHYADDR <= 52). */
	if (phys_bits < 36 || phys_bits > 52)
		return -EINVAL;
	map->phys_bits = phys_bits;
	map->ram_bytes = ram_bytes;
	map->low_ram_bytes = ram_bytes < VMM_PCI_HOLE_START ? ram_bytes : VMM_PCI_HOLE_START;
	map->high_ram_bytes = ram_bytes - map->low_ram_bytes;
	map->mmio64_start = 1ULL << (phys_bits - 1);
	map->mmio64_end = 1ULL << phys_bits;
	if (vmm_memory_map_ram_top(map) > map->mmio64_start)
		return -E2BIG;
	return 0;
}

uint64_t vmm_memory_map_ram_top(const struct vmm_memory_map *map)
{
	if (map->high_ram_bytes)
		return VMM_HIGH_RAM_START + map->high_ram_bytes;
	return map->low_ram_bytes;
}

/* Anonymous memory starting on a 2 MiB boundary. KVM maps a guest page
 * with a huge page only where the guest address and the host address agree
 * modulo 2 MiB (host_pfn_mapping_level, arch/x86/kvm/mmu/mmu.c), and Linux
 * before 6.7 places a large anonymous mapping on any 4 KiB boundary: without
 * this, transparent huge pages back the RAM yet the guest runs on 4 KiB
 * mappings, a TLB miss costing a two-dimensional walk each. */
static void *map_huge_aligned(uint64_t bytes, int flags)
{
	uint64_t span = bytes + HUGE_PAGE_BYTES;
	uint8_t *p = mmap(NULL, span, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (p == MAP_FAILED)
		return MAP_FAILED;
	uintptr_t start = ((uintptr_t)p + HUGE_PAGE_BYTES - 1) & ~(uintptr_t)(HUGE_PAGE_BYTES - 1);
	uint64_t head = start - (uintptr_t)p, tail = span - head - bytes;
	if (head)
		munmap(p, head);
	if (tail)
		munmap((uint8_t *)start + bytes, tail);
	return (void *)start;
}

static bool ranges_meet(uint64_t a, uint64_t a_len, uint64_t b, uint64_t b_len)
{
	/* Both non-empty and not wrapping: compare last bytes, never sums. */
	return b_len && a <= b + (b_len - 1) && b <= a + (a_len - 1);
}

bool vmm_memory_map_overlaps_ram(const struct vmm_memory_map *map, uint64_t gpa, uint64_t len)
{
	if (len == 0 || gpa + (len - 1) < gpa)
		return true;
	return ranges_meet(gpa, len, 0, map->low_ram_bytes) ||
	       ranges_meet(gpa, len, VMM_HIGH_RAM_START, map->high_ram_bytes);
}

int vmm_guest_memory_alloc(struct vmm_guest_memory *mem,
			   const struct vmm_memory_map *map, bool hugepages)
{
	memset(mem, 0, sizeof(*mem));
	mem->map = *map;
	mem->hugepages = hugepages;
	mem->size_bytes = map->ram_bytes;
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
	if (hugepages) {
		if (map->ram_bytes % HUGE_PAGE_BYTES)
			return -EINVAL;
		/* MAP_HUGETLB draws on the pool in /proc/sys/vm/nr_hugepages and
		 * fails with ENOMEM when it is short; without MAP_NORESERVE the
		 * pages are reserved now, so a short pool fails here, not later
		 * with a SIGBUS in a vCPU. */
		flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB;
	}
	void *p = hugepages ? mmap(NULL, map->ram_bytes, PROT_READ | PROT_WRITE, flags, -1, 0)
			    : map_huge_aligned(map->ram_bytes, flags);
	if (p == MAP_FAILED)
		return -errno;
	if (!hugepages)
		madvise(p, map->ram_bytes, MADV_HUGEPAGE); /* THP: a hint only */
	/* Guest RAM must not end up in a core dump of passvm. */
	madvise(p, map->ram_bytes, MADV_DONTDUMP);
	mem->host = p;
	return 0;
}

void vmm_guest_memory_free(struct vmm_guest_memory *mem)
{
	if (mem->host)
		munmap(mem->host, mem->size_bytes);
	mem->host = NULL;
}

int vmm_guest_memory_register(const struct vmm_guest_memory *mem, struct kvm_vm *vm)
{
	const struct vmm_memory_map *m = &mem->map;
	int r = kvm_vm_add_memory(vm, 0, mem->host, m->low_ram_bytes, NULL);
	if (r < 0 || !m->high_ram_bytes)
		return r;
	return kvm_vm_add_memory(vm, VMM_HIGH_RAM_START, mem->host + m->low_ram_bytes,
				 m->high_ram_bytes, NULL);
}

void *vmm_gpa_to_host(const struct vmm_guest_memory *mem, uint64_t gpa, uint64_t len)
{
	const struct vmm_memory_map *m = &mem->map;
	if (!mem->host)
		return NULL;
	if (gpa < m->low_ram_bytes && len <= m->low_ram_bytes - gpa)
		return mem->host + gpa;
	if (gpa >= VMM_HIGH_RAM_START) {
		uint64_t off = gpa - VMM_HIGH_RAM_START;
		if (off < m->high_ram_bytes && len <= m->high_ram_bytes - off)
			return mem->host + m->low_ram_bytes + off;
	}
	return NULL;
}

int vmm_host_memory_bytes(const struct host_root *root, uint64_t *bytes)
{
	char buf[4096];
	ssize_t n = host_root_read(root, "proc/meminfo", buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	unsigned long long kib;
	const char *line = strstr(buf, "MemTotal:");
	if (!line || sscanf(line, "MemTotal: %llu kB", &kib) != 1)
		return -EBADMSG;
	*bytes = (uint64_t)kib << 10;
	return 0;
}
