// SPDX-License-Identifier: GPL-2.0-or-later
/* vfio/'s pure logic: capability-chain parsing of VFIO_IOMMU_GET_INFO and
 * VFIO_DEVICE_GET_REGION_INFO replies (laid out as the kernel writes them),
 * the IOVA-range and DMA-limit checks, and the explanations. */
#include "vfio.h"
#include "../testlib.h"

#include <errno.h>
#include <stdalign.h>
#include <string.h>

static alignas(8) unsigned char buf[512];

/* A type1 info reply: header, then IOVA ranges cap, then DMA avail cap. */
static size_t build_type1_info(uint32_t nr_iovas, uint32_t loop_to)
{
	memset(buf, 0, sizeof(buf));
	struct vfio_iommu_type1_info *info = (void *)buf;
	size_t off = sizeof(*info);
	struct vfio_iommu_type1_info_cap_iova_range *r = (void *)(buf + off);
	size_t rsize = sizeof(*r) + nr_iovas * sizeof(r->iova_ranges[0]);
	struct vfio_iommu_type1_info_dma_avail *d = (void *)(buf + off + rsize);
	info->flags = VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS;
	info->iova_pgsizes = 0x40201000; /* 4K | 2M | 1G */
	info->cap_offset = (uint32_t)off;
	r->header.id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE;
	r->header.version = 1;
	r->header.next = (uint32_t)(off + rsize);
	r->nr_iovas = nr_iovas;
	if (nr_iovas >= 2) {
		/* x86 with an IOMMU: everything but the MSI window */
		r->iova_ranges[0].start = 0;
		r->iova_ranges[0].end = 0xfedfffff;
		r->iova_ranges[1].start = 0xfef00000;
		r->iova_ranges[1].end = (1ULL << 39) - 1;
	}
	d->header.id = VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL;
	d->header.version = 1;
	d->header.next = loop_to;
	d->avail = 2;
	info->argsz = (uint32_t)(off + rsize + sizeof(*d));
	return info->argsz;
}

static void test_type1_info(void)
{
	struct vfio_iommu io;
	memset(&io, 0, sizeof(io));
	size_t n = build_type1_info(2, 0);
	CHECK_EQ_INT(vfio_type1_parse_info(&io, buf, n), 0);
	CHECK_EQ_INT(io.pgsize_bitmap, 0x40201000);
	CHECK_EQ_INT(io.niova, 2);
	CHECK(io.has_dma_limit);
	CHECK_EQ_INT(io.dma_avail, 2);

	/* the MSI window 0xfee00000 is not DMA space */
	CHECK(vfio_iova_allowed(&io, 0, 256 << 20));
	CHECK(!vfio_iova_allowed(&io, 0xfee00000, 4096));
	CHECK(!vfio_iova_allowed(&io, 0xfed00000, 0x200000)); /* straddles */
	CHECK(vfio_iova_allowed(&io, 0x100000000ULL, 1ULL << 30));
	CHECK(!vfio_iova_allowed(&io, 1ULL << 39, 4096));
	CHECK(!vfio_iova_allowed(&io, UINT64_MAX - 4095, 8192)); /* wraps */
	CHECK(!vfio_iova_allowed(&io, 0, 0));

	/* a chain that loops back on itself ends, as an error */
	n = build_type1_info(2, sizeof(struct vfio_iommu_type1_info));
	CHECK_EQ_INT(vfio_type1_parse_info(&io, buf, n), -EBADMSG);
	/* nr_iovas larger than the reply */
	n = build_type1_info(2, 0);
	((struct vfio_iommu_type1_info_cap_iova_range *)
	 (buf + sizeof(struct vfio_iommu_type1_info)))->nr_iovas = 1000;
	CHECK_EQ_INT(vfio_type1_parse_info(&io, buf, n), -EBADMSG);
	/* a cap offset past the end */
	n = build_type1_info(2, 0);
	((struct vfio_iommu_type1_info *)buf)->cap_offset = 4000;
	CHECK_EQ_INT(vfio_type1_parse_info(&io, buf, n), -EBADMSG);
	/* argsz claiming more than we have */
	n = build_type1_info(2, 0);
	CHECK_EQ_INT(vfio_type1_parse_info(&io, buf, n - 8), -EBADMSG);
}

static void test_dma_checks(void)
{
	struct vfio_iommu io;
	memset(&io, 0, sizeof(io));
	io.container_fd = -1;
	/* no backend: refused before anything else */
	CHECK_EQ_INT(vfio_dma_map(&io, 0, buf, 4096, true), -EBADF);

	char why[400];
	vfio_explain_memlock(why, sizeof(why), 1ULL << 30, 8ULL << 20);
	CHECK(strstr(why, "1024 MiB") && strstr(why, "RLIMIT_MEMLOCK is 8 MiB"));
	CHECK(strstr(why, "ulimit -l 1048576"));
	vfio_explain_set_iommu_eperm(why, sizeof(why), "N");
	CHECK(strstr(why, "interrupt remapping") && strstr(why, "allow_unsafe_interrupts=1"));
	CHECK(strstr(why, "(now N"));
}

/* A BAR region reply with a sparse-mmap cap (MSI-X table hole) and the
 * MSI-X-mappable cap. */
static size_t build_region(uint32_t nr_areas)
{
	memset(buf, 0, sizeof(buf));
	struct vfio_region_info *info = (void *)buf;
	size_t off = sizeof(*info);
	struct vfio_region_info_cap_sparse_mmap *s = (void *)(buf + off);
	size_t ssize = sizeof(*s) + nr_areas * sizeof(s->areas[0]);
	struct vfio_info_cap_header *m = (void *)(buf + off + ssize);
	info->index = VFIO_PCI_BAR0_REGION_INDEX;
	info->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
		      VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_CAPS;
	info->size = 0x4000;
	info->offset = 0;
	info->cap_offset = (uint32_t)off;
	s->header.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP;
	s->header.version = 1;
	s->header.next = (uint32_t)(off + ssize);
	s->nr_areas = nr_areas;
	if (nr_areas >= 3) {
		s->areas[0].offset = 0;
		s->areas[0].size = 0x2000;
		s->areas[1].offset = 0x3000;
		s->areas[1].size = 0x1000;
		s->areas[2].offset = 0x3000; /* past the end: must be dropped */
		s->areas[2].size = 0x2000;
	}
	m->id = VFIO_REGION_INFO_CAP_MSIX_MAPPABLE;
	m->version = 1;
	info->argsz = (uint32_t)(off + ssize + sizeof(*m));
	return info->argsz;
}

static void test_region_info(void)
{
	struct vfio_region r;
	size_t n = build_region(3);
	CHECK_EQ_INT(vfio_region_parse_info(&r, buf, n), 0);
	CHECK_EQ_INT(r.size, 0x4000);
	CHECK(r.has_sparse);
	CHECK_EQ_INT(r.nsparse, 2);
	CHECK_EQ_INT(r.sparse[1].offset, 0x3000);
	CHECK(r.msix_mappable);

	n = build_region(3);
	((struct vfio_region_info_cap_sparse_mmap *)(buf + sizeof(struct vfio_region_info)))
		->nr_areas = 0x10000000;
	CHECK_EQ_INT(vfio_region_parse_info(&r, buf, n), -EBADMSG);
	n = build_region(3);
	((struct vfio_region_info *)buf)->cap_offset = 6; /* misaligned */
	CHECK_EQ_INT(vfio_region_parse_info(&r, buf, n), -EBADMSG);
	CHECK_EQ_INT(vfio_region_parse_info(&r, buf, 8), -EBADMSG);

	/* region access outside the region is refused before any syscall */
	struct vfio_device dev;
	memset(&dev, 0, sizeof(dev));
	dev.fd = -1;
	dev.num_regions = 1;
	dev.regions[0] = r;
	dev.regions[0].size = 0x100;
	dev.regions[0].flags = VFIO_REGION_INFO_FLAG_READ;
	char b[8];
	CHECK_EQ_INT(vfio_region_read(&dev, 0, 0xfc, b, 8), -EINVAL);
	CHECK_EQ_INT(vfio_region_read(&dev, 0, UINT64_MAX - 2, b, 8), -EINVAL);
	CHECK_EQ_INT(vfio_region_read(&dev, 3, 0, b, 8), -EINVAL);
	CHECK_EQ_INT(vfio_region_write(&dev, 0, 0, b, 8), -EACCES);

	/* no VFIO reset offered: reported, not attempted */
	dev.flags = VFIO_DEVICE_FLAGS_PCI;
	CHECK_EQ_INT(vfio_device_reset(&dev), -ENOTTY);
	/* an interrupt index the device does not have */
	struct vfio_irq_info irq;
	CHECK_EQ_INT(vfio_irq_info(&dev, 7, &irq), -EINVAL);
}

int main(void)
{
	test_type1_info();
	test_dma_checks();
	test_region_info();
	return test_result();
}
