// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The passed-through devices of one VM (see passthrough.h): one IOMMU
 * context for all their groups, all guest RAM mapped for DMA at its
 * guest-physical address (the device sees guest addresses; the IOMMU turns
 * them into passvm's pages), and the devices plugged slot by slot.
 */
#include "passthrough.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14, include/uapi/asm-generic/mman-common.h */
#endif

#define PREFAULT_THREADS 4

size_t vmm_passthrough_slots(const struct pci_addr *addrs, size_t count, unsigned *fn_out,
			     size_t *slot_of)
{
	size_t nslots = 0;
	for (size_t i = 0; i < count; i++) {
		slot_of[i] = SIZE_MAX;
		for (size_t j = 0; j < i; j++)
			if (addrs[j].domain == addrs[i].domain && addrs[j].bus == addrs[i].bus &&
			    addrs[j].device == addrs[i].device) {
				slot_of[i] = slot_of[j];
				break;
			}
		if (slot_of[i] == SIZE_MAX)
			slot_of[i] = nslots++;
	}
	for (size_t s = 0; s < nslots; s++) {
		bool has_fn0 = false;
		for (size_t i = 0; i < count; i++)
			has_fn0 |= slot_of[i] == s && addrs[i].function == 0;
		/* Packed order follows the host function numbers. */
		for (size_t i = 0; i < count; i++) {
			if (slot_of[i] != s)
				continue;
			unsigned below = 0;
			for (size_t j = 0; j < count; j++)
				below += slot_of[j] == s && addrs[j].function < addrs[i].function;
			fn_out[i] = has_fn0 ? addrs[i].function : below;
		}
	}
	return nslots;
}

struct prefault_job {
	uint8_t *start;
	size_t bytes;
};

static void *prefault(void *arg)
{
	const struct prefault_job *job = arg;
	/* Faulting in without writing: the kernel and initrd are already
	 * loaded. Where MADV_POPULATE_WRITE is missing (before 5.14) the
	 * pinning in VFIO_IOMMU_MAP_DMA faults the pages itself. */
	madvise(job->start, job->bytes, MADV_POPULATE_WRITE);
	return NULL;
}

/* type1 pins page by page while it holds its lock, so concurrent MAP_DMA
 * calls would serialise; faulting the memory in first, in threads, is the
 * part that parallelises (4 KiB pages of 1 GiB: 262144 faults). */
static void prefault_parallel(uint8_t *mem, size_t bytes)
{
	pthread_t t[PREFAULT_THREADS];
	struct prefault_job jobs[PREFAULT_THREADS];
	size_t chunk = (bytes / PREFAULT_THREADS + 0x1fffff) & ~(size_t)0x1fffff;
	unsigned started = 0;
	for (unsigned i = 0; i < PREFAULT_THREADS; i++) {
		size_t off = i * chunk;
		if (off >= bytes)
			break;
		jobs[i] = (struct prefault_job){ mem + off, bytes - off < chunk ? bytes - off : chunk };
		if (pthread_create(&t[i], NULL, prefault, &jobs[i]) != 0) {
			prefault(&jobs[i]);
			continue;
		}
		started |= 1u << i;
	}
	for (unsigned i = 0; i < PREFAULT_THREADS; i++)
		if (started & (1u << i))
			pthread_join(t[i], NULL);
}

static int map_guest_ram(struct vmm_passthrough *pt, char *why, size_t why_size)
{
	const struct vmm_guest_memory *mem = &pt->vm->mem;
	const struct vmm_memory_map *m = &mem->map;
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	prefault_parallel(mem->host, mem->size_bytes);
	int r = vfio_dma_map(&pt->io, 0, mem->host, m->low_ram_bytes, true);
	if (r == 0)
		pt->dma_low_bytes = m->low_ram_bytes;
	if (r == 0 && m->high_ram_bytes) {
		r = vfio_dma_map(&pt->io, VMM_HIGH_RAM_START, mem->host + m->low_ram_bytes,
				 m->high_ram_bytes, true);
		if (r == 0)
			pt->dma_high_bytes = m->high_ram_bytes;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	pt->dma_map_s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	if (r < 0)
		snprintf(why, why_size, "cannot map guest RAM for DMA: %s",
			 pt->io.why[0] ? pt->io.why : strerror(-r));
	return r;
}

static int open_groups(struct vmm_passthrough *pt, const struct vmm_passthrough_device *devs,
		       size_t count, struct pci_addr *bad, char *why, size_t why_size)
{
	for (size_t i = 0; i < count; i++) {
		bool seen = false;
		for (size_t j = 0; j < i; j++)
			seen |= devs[j].group == devs[i].group;
		if (seen)
			continue;
		int r = pt->io_open ? vfio_iommu_attach_group(&pt->io, devs[i].group)
				    : vfio_iommu_open(&pt->io, &pt->vm->root, VFIO_BACKEND_AUTO,
						      devs[i].group);
		if (r < 0) {
			*bad = devs[i].addr;
			snprintf(why, why_size, "cannot use IOMMU group %d: %s", devs[i].group,
				 pt->io.why[0] ? pt->io.why : strerror(-r));
			return r;
		}
		pt->io_open = true;
	}
	return 0;
}

int vmm_passthrough_start(struct vmm_passthrough *pt, struct vmm_vm *vm,
			  const struct vmm_passthrough_device *devs, size_t count,
			  struct pci_addr *bad, char *why, size_t why_size)
{
	memset(pt, 0, sizeof(*pt));
	memset(bad, 0, sizeof(*bad));
	why[0] = '\0';
	pt->vm = vm;
	pt->io.container_fd = -1;
	if (count == 0)
		return 0;
	if (count > VMM_PASSTHROUGH_MAX) {
		snprintf(why, why_size, "at most %d devices per VM", VMM_PASSTHROUGH_MAX);
		return -E2BIG;
	}
	int r = open_groups(pt, devs, count, bad, why, why_size);
	if (r == 0)
		r = map_guest_ram(pt, why, why_size);
	for (size_t i = 0; i < count && r == 0; i++) {
		r = vmm_vfio_pci_create(&pt->devs[i], vm, &pt->io, &devs[i].addr, devs[i].group,
					&devs[i].opt, why, why_size);
		if (r < 0)
			*bad = devs[i].addr;
		else
			pt->count = i + 1;
	}
	if (r < 0)
		goto fail;

	struct pci_addr addrs[VMM_PASSTHROUGH_MAX];
	unsigned fn[VMM_PASSTHROUGH_MAX];
	size_t slot_of[VMM_PASSTHROUGH_MAX];
	for (size_t i = 0; i < count; i++)
		addrs[i] = devs[i].addr;
	size_t nslots = vmm_passthrough_slots(addrs, count, fn, slot_of);
	for (size_t s = 0; s < nslots && r == 0; s++) {
		struct vmm_pci_device *fns[VMM_PCI_FUNCTIONS] = { 0 };
		unsigned nfn = 0;
		for (size_t i = 0; i < count; i++)
			if (slot_of[i] == s) {
				fns[fn[i]] = vmm_vfio_pci_device(pt->devs[i]);
				if (fn[i] + 1 > nfn)
					nfn = fn[i] + 1;
			}
		r = vmm_pci_host_add_slot(&vm->pci, fns, nfn);
		if (r < 0) {
			for (size_t i = 0; i < count; i++)
				if (slot_of[i] == s)
					*bad = devs[i].addr;
			snprintf(why, why_size, r == -ENOSPC ?
				 "no free PCI slot or no room for its BARs in the MMIO windows" :
				 "cannot plug it into a PCI slot");
		}
		r = r < 0 ? r : 0;
	}
	for (size_t i = 0; i < count && r == 0; i++) {
		r = vmm_vfio_pci_plugged(pt->devs[i]);
		if (r < 0) {
			*bad = devs[i].addr;
			snprintf(why, why_size, "cannot wire its INTx interrupt");
		}
	}
	if (r == 0)
		return 0;
fail:
	vmm_passthrough_stop(pt);
	return r;
}

void vmm_passthrough_stop(struct vmm_passthrough *pt)
{
	for (size_t i = pt->count; i > 0; i--) {
		vmm_pci_host_remove(&pt->vm->pci, vmm_vfio_pci_device(pt->devs[i - 1]));
		vmm_vfio_pci_destroy(pt->devs[i - 1]);
		pt->devs[i - 1] = NULL;
	}
	pt->count = 0;
	if (pt->dma_high_bytes)
		vfio_dma_unmap(&pt->io, VMM_HIGH_RAM_START, pt->dma_high_bytes);
	if (pt->dma_low_bytes)
		vfio_dma_unmap(&pt->io, 0, pt->dma_low_bytes);
	pt->dma_low_bytes = pt->dma_high_bytes = 0;
	if (pt->io_open)
		vfio_iommu_close(&pt->io);
	pt->io_open = false;
}
