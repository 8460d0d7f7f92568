// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfio-hwtool: drives real devices through passvm's VFIO library, for the
 * hw suite (runs inside the lab's emulated host, on devices that `passvm
 * vfio bind` has given to vfio-pci).
 *
 *   vfio-hwtool e1000e BDF
 *       maps BAR0 and reads STATUS (0x08); writes RDBAL (0x2800) through the
 *       mapping and reads it back through the region's read path.
 *   vfio-hwtool e1000e-irq BDF
 *       INTx (eventfd trigger, masked until the unmask eventfd is written)
 *       and MSI, raised by setting a cause in the ICS register.
 *   vfio-hwtool nvme-identify BDF SERIAL MODEL
 *       builds the admin queues in DMA-mapped memory, enables the controller,
 *       arms MSI-X vector 0 with an eventfd, issues Identify Controller and
 *       waits for the interrupt; compares serial and model with what the
 *       kernel's nvme driver reported (arguments).
 *   vfio-hwtool hot-reset BDF
 *       VFIO_DEVICE_PCI_HOT_RESET (the bus below BDF's bridge; every group
 *       on it must be this process's).
 *   vfio-hwtool open-group BDF
 *       only opens the IOMMU context (prints io.why on failure).
 *   vfio-hwtool dma-bench BDF MIB [huge]
 *       times vfio_dma_map/unmap of MIB of anonymous memory (bench/dma-map).
 * NVMe register layout and commands: NVM Express Base Specification 2.0,
 * sections 3.1 (controller registers), 5.17 (Identify), 4.2/4.6 (queue
 * entries).
 */
#include "vfio.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

struct ctx {
	struct host_root root;
	struct vfio_iommu io;
	struct vfio_device dev;
	struct pci_addr addr;
	int group;
};

static int open_ctx(struct ctx *c, const char *bdf)
{
	struct pci_dev_info info;
	if (pci_addr_parse(bdf, &c->addr) < 0) {
		fprintf(stderr, "bad BDF %s\n", bdf);
		return -EINVAL;
	}
	int r = host_root_open(&c->root, "/");
	if (r == 0)
		r = pci_dev_read(&c->root, &c->addr, &info);
	if (r < 0)
		return log_error_errno(r, "cannot read %s", bdf);
	c->group = info.iommu_group;
	r = vfio_iommu_open(&c->io, &c->root, VFIO_BACKEND_AUTO, c->group);
	if (r < 0)
		return log_error_errno(r, "cannot open the IOMMU for %s: %s", bdf, c->io.why);
	printf("iommu backend: %s, IOVA ranges: %zu, DMA entry limit: %s (%u)\n",
	       c->io.ops->name, c->io.niova, c->io.has_dma_limit ? "yes" : "no",
	       c->io.dma_avail);
	return 0;
}

static int open_device(struct ctx *c)
{
	int r = vfio_device_open(&c->dev, &c->io, &c->addr, c->group);
	if (r < 0)
		return log_error_errno(r, "cannot open the VFIO device: %s", c->io.why);
	uint16_t vendor;
	r = vfio_config_read16(&c->dev, 0, &vendor);
	if (r < 0)
		return log_error_errno(r, "config read");
	const struct vfio_region *bar0 = &c->dev.regions[VFIO_PCI_BAR0_REGION_INDEX];
	printf("device %s: vendor 0x%04x, %u regions, %u irqs, reset %s; BAR0 %" PRIu64
	       " bytes, mmap %s, sparse areas %u, msix-mappable %s\n",
	       c->dev.bdf, vendor, c->dev.num_regions, c->dev.num_irqs,
	       (c->dev.flags & VFIO_DEVICE_FLAGS_RESET) ? "yes" : "no", bar0->size,
	       (bar0->flags & VFIO_REGION_INFO_FLAG_MMAP) ? "yes" : "no",
	       bar0->has_sparse ? bar0->nsparse : 0, bar0->msix_mappable ? "yes" : "no");
	return 0;
}

static int cmd_e1000e(struct ctx *c)
{
	int r = open_device(c);
	if (r < 0)
		return r;
	volatile uint32_t *bar;
	r = vfio_region_mmap(&c->dev, VFIO_PCI_BAR0_REGION_INDEX, 0, 0x4000, (void **)&bar);
	if (r < 0)
		return log_error_errno(r, "mmap BAR0");
	uint32_t status = bar[0x08 / 4], via_read = 0;
	vfio_region_read(&c->dev, VFIO_PCI_BAR0_REGION_INDEX, 0x08, &via_read, 4);
	printf("e1000e STATUS (0x08) through the mapped BAR: 0x%08x, through read(): 0x%08x\n",
	       status, via_read);
	/* RDBAL takes any 16-byte aligned value and reads it back: a write
	 * that reaches the device and comes back proves the mapping is the
	 * device and not a copy. */
	const uint32_t pattern = 0x12345670;
	bar[0x2800 / 4] = pattern;
	uint32_t back = 0;
	vfio_region_read(&c->dev, VFIO_PCI_BAR0_REGION_INDEX, 0x2800, &back, 4);
	bar[0x2800 / 4] = 0;
	printf("e1000e RDBAL: wrote 0x%08x through the mapping, read back 0x%08x\n", pattern, back);
	munmap((void *)bar, 0x4000);
	if (status == 0xffffffff || status != via_read || back != pattern) {
		fprintf(stderr, "FAIL: device registers do not answer as expected\n");
		return -EIO;
	}
	return 0;
}

/* e1000e interrupt causes (82574 datasheet 10.2.4: ICR 0xC0 read-to-clear,
 * ICS 0xC8 sets causes, IMS 0xD0 enables them, IMC 0xD8 disables). */
#define E1000_ICR 0xc0
#define E1000_ICS 0xc8
#define E1000_IMS 0xd0
#define E1000_IMC 0xd8
#define E1000_LSC 0x4

static bool fired(int efd, int timeout_ms)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };
	uint64_t n;
	if (poll(&p, 1, timeout_ms) != 1)
		return false;
	return read(efd, &n, sizeof(n)) == sizeof(n) && n > 0;
}

/* INTx with the unmask eventfd (the resample path a VMM wires to KVM),
 * then MSI, each raised by setting a cause in ICS. */
static int cmd_e1000e_irq(struct ctx *c)
{
	int r = open_device(c);
	if (r < 0)
		return r;
	r = vfio_device_enable_bus_master(&c->dev);
	if (r < 0)
		return log_error_errno(r, "enable bus mastering");
	volatile uint32_t *bar;
	r = vfio_region_mmap(&c->dev, VFIO_PCI_BAR0_REGION_INDEX, 0, 0x1000, (void **)&bar);
	if (r < 0)
		return log_error_errno(r, "mmap BAR0");
	int trig = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int unmask = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	bool ok = true;

	bar[E1000_IMC / 4] = 0xffffffff;
	(void)bar[E1000_ICR / 4];
	r = vfio_irq_set_eventfds(&c->dev, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &trig);
	if (r == 0)
		r = vfio_irq_intx_unmask_eventfd(&c->dev, unmask);
	if (r < 0)
		return log_error_errno(r, "INTx eventfds");
	bar[E1000_IMS / 4] = E1000_LSC;
	bar[E1000_ICS / 4] = E1000_LSC;
	bool first = fired(trig, 3000);
	(void)bar[E1000_ICR / 4];            /* clears the cause: line deasserts */
	bar[E1000_ICS / 4] = E1000_LSC;      /* asserts again, while VFIO masks */
	bool while_masked = fired(trig, 300);
	uint64_t one = 1;
	if (write(unmask, &one, sizeof(one)) != sizeof(one))
		ok = false;
	bool after_unmask = fired(trig, 3000);
	(void)bar[E1000_ICR / 4];
	printf("INTx: fired %s; again while masked %s; after the unmask eventfd %s\n",
	       first ? "yes" : "no", while_masked ? "yes" : "no", after_unmask ? "yes" : "no");
	ok &= first && !while_masked && after_unmask;
	bar[E1000_IMC / 4] = 0xffffffff;
	vfio_irq_disable(&c->dev, VFIO_PCI_INTX_IRQ_INDEX);

	r = vfio_irq_set_eventfds(&c->dev, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, &trig);
	if (r < 0)
		return log_error_errno(r, "MSI eventfd");
	bar[E1000_IMS / 4] = E1000_LSC;
	bar[E1000_ICS / 4] = E1000_LSC;
	bool msi = fired(trig, 3000);
	(void)bar[E1000_ICR / 4];
	bar[E1000_ICS / 4] = E1000_LSC;      /* edge: no masking, fires again */
	bool msi2 = fired(trig, 3000);
	(void)bar[E1000_ICR / 4];
	printf("MSI: fired %s, and again %s\n", msi ? "yes" : "no", msi2 ? "yes" : "no");
	ok &= msi && msi2;
	bar[E1000_IMC / 4] = 0xffffffff;
	vfio_irq_disable(&c->dev, VFIO_PCI_MSI_IRQ_INDEX);
	munmap((void *)bar, 0x1000);
	close(trig);
	close(unmask);
	if (!ok)
		fprintf(stderr, "FAIL: e1000e interrupts through VFIO\n");
	return ok ? 0 : -EIO;
}

/* ---- a minimal NVMe admin driver ---- */
#define NVME_CAP 0x00
#define NVME_CC 0x14
#define NVME_CSTS 0x1c
#define NVME_AQA 0x24
#define NVME_ASQ 0x28
#define NVME_ACQ 0x30
#define QDEPTH 8
#define IOVA_BASE 0x10000000ULL

static uint64_t rd64(volatile uint8_t *bar, unsigned off)
{
	return *(volatile uint32_t *)(bar + off) |
	       ((uint64_t) * (volatile uint32_t *)(bar + off + 4) << 32);
}

static void wr64(volatile uint8_t *bar, unsigned off, uint64_t v)
{
	*(volatile uint32_t *)(bar + off) = (uint32_t)v;
	*(volatile uint32_t *)(bar + off + 4) = (uint32_t)(v >> 32);
}

static int wait_ready(volatile uint8_t *bar, unsigned want, unsigned timeout_ms)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	for (unsigned t = 0; t <= timeout_ms; t += 10) {
		uint32_t csts = *(volatile uint32_t *)(bar + NVME_CSTS);
		if (csts == 0xffffffff)
			return -ENODEV;
		if ((csts & 1) == want)
			return 0;
		nanosleep(&ts, NULL);
	}
	return -ETIMEDOUT;
}

static void trim(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\0'))
		s[--n] = '\0';
}

static int cmd_nvme(struct ctx *c, const char *want_serial, const char *want_model)
{
	int r = open_device(c);
	if (r < 0)
		return r;
	volatile uint8_t *bar;
	r = vfio_region_mmap(&c->dev, VFIO_PCI_BAR0_REGION_INDEX, 0, 0x2000, (void **)&bar);
	if (r < 0)
		return log_error_errno(r, "mmap BAR0 registers and doorbells");
	r = vfio_device_enable_bus_master(&c->dev);
	if (r < 0)
		return log_error_errno(r, "enable bus mastering");

	/* 3 pages: submission queue, completion queue, identify data */
	size_t len = 3 * 4096;
	uint8_t *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return -errno;
	memset(mem, 0, len);
	r = vfio_dma_map(&c->io, IOVA_BASE, mem, len, true);
	if (r < 0)
		return log_error_errno(r, "DMA map: %s", c->io.why);
	uint8_t *sq = mem, *cq = mem + 4096, *data = mem + 8192;

	uint64_t cap = rd64(bar, NVME_CAP);
	unsigned dstrd = (unsigned)((cap >> 32) & 0xf);
	unsigned to_ms = (unsigned)((cap >> 24) & 0xff) * 500;
	printf("NVMe CAP 0x%016" PRIx64 ": MQES %u, DSTRD %u, timeout %u ms\n", cap,
	       (unsigned)(cap & 0xffff) + 1, dstrd, to_ms);

	*(volatile uint32_t *)(bar + NVME_CC) = 0;
	r = wait_ready(bar, 0, to_ms);
	if (r < 0)
		return log_error_errno(r, "controller did not stop");
	*(volatile uint32_t *)(bar + NVME_AQA) = ((QDEPTH - 1) << 16) | (QDEPTH - 1);
	wr64(bar, NVME_ASQ, IOVA_BASE);
	wr64(bar, NVME_ACQ, IOVA_BASE + 4096);

	/* MSI-X vector 0 is the admin completion queue's interrupt. */
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct vfio_irq_info irq;
	r = vfio_irq_info(&c->dev, VFIO_PCI_MSIX_IRQ_INDEX, &irq);
	if (r == 0)
		r = vfio_irq_set_eventfds(&c->dev, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1, &efd);
	if (r < 0)
		return log_error_errno(r, "MSI-X vector 0 -> eventfd");
	printf("MSI-X: %u vectors, vector 0 -> eventfd %d\n", irq.count, efd);

	/* IOSQES 6 (64 B), IOCQES 4 (16 B), MPS 0 (4 KiB), NVM command set, EN */
	*(volatile uint32_t *)(bar + NVME_CC) = (6u << 16) | (4u << 20) | 1u;
	r = wait_ready(bar, 1, to_ms);
	if (r < 0)
		return log_error_errno(r, "controller did not become ready");

	uint32_t *sqe = (uint32_t *)sq;
	const uint16_t cid = 0x1234;
	sqe[0] = 0x06u | ((uint32_t)cid << 16); /* Identify */
	sqe[1] = 0;                              /* NSID */
	sqe[6] = (uint32_t)(IOVA_BASE + 8192);   /* PRP1 */
	sqe[7] = (uint32_t)((IOVA_BASE + 8192) >> 32);
	sqe[10] = 1;                             /* CNS 1: controller */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	*(volatile uint32_t *)(bar + 0x1000) = 1; /* SQ0 tail */

	struct pollfd pfd = { .fd = efd, .events = POLLIN };
	int p = poll(&pfd, 1, 10000);
	uint64_t count = 0;
	if (p == 1 && read(efd, &count, sizeof(count)) != sizeof(count))
		count = 0;
	volatile uint32_t *cqe = (volatile uint32_t *)cq;
	uint32_t dw3 = cqe[3];
	printf("completion: interrupt %s (eventfd count %" PRIu64 "), CQE cid 0x%04x phase %u status 0x%x\n",
	       p == 1 ? "fired" : "did NOT fire", count, dw3 & 0xffff, (dw3 >> 16) & 1,
	       (dw3 >> 17) & 0x7fff);
	*(volatile uint32_t *)(bar + 0x1000 + (4u << dstrd)) = 1; /* CQ0 head */

	char serial[21], model[41];
	memcpy(serial, data + 4, 20);
	serial[20] = '\0';
	memcpy(model, data + 24, 40);
	model[40] = '\0';
	trim(serial);
	trim(model);
	char ws[64], wm[64];
	snprintf(ws, sizeof(ws), "%s", want_serial);
	snprintf(wm, sizeof(wm), "%s", want_model);
	trim(ws);
	trim(wm);
	printf("Identify through VFIO: serial '%s' model '%s'\n", serial, model);
	printf("the kernel's nvme driver: serial '%s' model '%s'\n", ws, wm);

	*(volatile uint32_t *)(bar + NVME_CC) = 0;
	wait_ready(bar, 0, to_ms);
	vfio_irq_disable(&c->dev, VFIO_PCI_MSIX_IRQ_INDEX);
	vfio_dma_unmap(&c->io, IOVA_BASE, len);
	munmap((void *)bar, 0x2000);
	bool ok = p == 1 && (dw3 & 0xffff) == cid && ((dw3 >> 17) & 0x7fff) == 0 &&
		  strcmp(serial, ws) == 0 && strcmp(model, wm) == 0;
	if (!ok)
		fprintf(stderr, "FAIL: Identify through VFIO does not match\n");
	return ok ? 0 : -EIO;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Maps once with the memory untouched (the kernel faults in and zeroes every
 * page while pinning: what a VMM pays at start, and what QEMU's figure
 * includes) and once with it already faulted in (pinning alone). */
static int time_map(struct ctx *c, size_t len, bool huge, bool touch, double *map_s,
		    double *unmap_s)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | (huge ? MAP_HUGETLB : 0);
	void *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (mem == MAP_FAILED)
		return log_error_errno(-errno, "cannot allocate %zu MiB%s", len >> 20,
				       huge ? " of huge pages (vm.nr_hugepages)" : "");
	if (touch)
		memset(mem, 0, len);
	double t0 = now_s();
	int r = vfio_dma_map(&c->io, 0, mem, len, true);
	double t1 = now_s();
	if (r < 0) {
		munmap(mem, len);
		return log_error_errno(r, "DMA map: %s", c->io.why);
	}
	vfio_dma_unmap(&c->io, 0, len);
	double t2 = now_s();
	munmap(mem, len);
	*map_s = t1 - t0;
	*unmap_s = t2 - t1;
	return 0;
}

static int cmd_dma_bench(struct ctx *c, uint64_t mib, bool huge)
{
	double cold, warm, unmap;
	size_t len = (size_t)mib << 20;
	int r = time_map(c, len, huge, false, &cold, &unmap);
	if (r == 0)
		r = time_map(c, len, huge, true, &warm, &unmap);
	if (r < 0)
		return r;
	printf("dma-map %" PRIu64 " MiB %s pages: map %.3f s (untouched memory), map %.3f s "
	       "(faulted in), unmap %.3f s\n", mib, huge ? "2 MiB" : "4 KiB", cold, warm, unmap);
	return 0;
}

int main(int argc, char **argv)
{
	struct ctx c;
	int r;
	log_set_program("vfio-hwtool");
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 3) {
		fprintf(stderr, "usage: vfio-hwtool e1000e|nvme-identify|open-group|dma-bench BDF ...\n");
		return 2;
	}
	memset(&c, 0, sizeof(c));
	c.dev.fd = -1;
	r = open_ctx(&c, argv[2]);
	if (r < 0)
		return 1;
	if (strcmp(argv[1], "e1000e") == 0)
		r = cmd_e1000e(&c);
	else if (strcmp(argv[1], "e1000e-irq") == 0)
		r = cmd_e1000e_irq(&c);
	else if (strcmp(argv[1], "nvme-identify") == 0 && argc == 5)
		r = cmd_nvme(&c, argv[3], argv[4]);
	else if (strcmp(argv[1], "hot-reset") == 0) {
		r = open_device(&c);
		if (r == 0)
			r = vfio_device_hot_reset(&c.dev, &c.io);
		uint16_t vendor = 0xffff;
		if (r == 0)
			r = vfio_config_read16(&c.dev, 0, &vendor);
		if (r < 0)
			log_error_errno(r, "VFIO_DEVICE_PCI_HOT_RESET of %s", c.dev.bdf);
		else
			printf("hot reset (secondary bus reset) of %s's bus done; vendor ID 0x%04x after\n",
			       c.dev.bdf, vendor);
		if (r == 0 && vendor == 0xffff)
			r = -EIO;
	} else if (strcmp(argv[1], "open-group") == 0)
		r = 0;
	else if (strcmp(argv[1], "dma-bench") == 0 && argc >= 4)
		r = cmd_dma_bench(&c, strtoull(argv[3], NULL, 0), argc == 5);
	else
		r = -EINVAL;
	vfio_device_close(&c.dev);
	vfio_iommu_close(&c.io);
	return r < 0 ? 1 : 0;
}
