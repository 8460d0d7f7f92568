// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Guest-side attack program (static, in a layer-2 initramfs): from inside a
 * passvm guest it does to every PCI function what past VMM CVEs did to
 * theirs, through the guest kernel's sysfs (config, resourceN mmap):
 *  - writes to read-only header fields and over every capability, and over
 *    all of extended config space, where passvm hides capabilities
 *    (CVE-2015-5165-style config trust; QEMU's hidden-cap handling);
 *  - memory BARs programmed over guest RAM and over the MSI-X table's page
 *    (CVE-2020-25085/CVE-2021-3947 class: a BAR overlapping RAM or the
 *    table), touched at the old and new address;
 *  - MSI-X table and PBA writes past the table's end, unaligned and odd
 *    sizes (CVE-2015-7504-like index trust);
 *  - on passvm's virtio-rng (modern virtio-pci, driven by hand through
 *    resource0 after unbinding the guest's driver): queue sizes 0 and 3,
 *    a descriptor loop (CVE-2016-5403 class: QEMU's virtqueue_pop trusted
 *    the chain), a next index out of range and a buffer far outside guest
 *    RAM (CVE-2015-3214/CVE-2019-14378 class address trust).
 * Each attempt prints one "ATTACK ..." line; "ATTACK-DONE" at the end. The
 * host side (tests/hw/passthrough/faults.sh) checks that passvm kept
 * running, logged with a rate limit, and left the host as it was.
 */
#include <dirent.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int cfg;

static uint32_t rd(unsigned off, unsigned size)
{
	uint32_t v = 0xffffffff;
	if (pread(cfg, &v, size, off) != (ssize_t)size)
		return 0xffffffff;
	return size == 4 ? v : v & ((1u << (8 * size)) - 1);
}

static void wr(unsigned off, unsigned size, uint32_t v)
{
	if (pwrite(cfg, &v, size, off) != (ssize_t)size) {
		/* the guest kernel may refuse (beyond its config size) */
	}
}

/* Offset of capability id, or 0. */
static unsigned find_cap(unsigned id)
{
	if (!(rd(0x06, 2) & 0x10))
		return 0;
	unsigned p = rd(0x34, 1) & 0xfc;
	for (int n = 0; p && n < 48; n++) {
		if (rd(p, 1) == id)
			return p;
		p = rd(p + 1, 1) & 0xfc;
	}
	return 0;
}

static volatile uint32_t *map_bar(const char *dev, unsigned bar, size_t *len)
{
	char path[300];
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource%u", dev, bar);
	int fd = open(path, O_RDWR | O_SYNC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size == 0) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	*len = (size_t)st.st_size;
	return p == MAP_FAILED ? NULL : p;
}

static void attack(const char *dev)
{
	uint32_t id = rd(0, 4);
	/* 1: read-only header fields. */
	wr(0x00, 4, 0xbeefdead);
	wr(0x08, 4, 0xffffffff);
	wr(0x0e, 1, 0x7f);
	wr(0x34, 1, 0x44);
	printf("ATTACK %s ro-header id-kept=%d\n", dev, rd(0, 4) == id);
	/* 2: every capability byte but MSI-X's control, and all of extended
	 * config space (hidden capabilities live there). */
	unsigned msix = find_cap(0x11);
	unsigned p = rd(0x34, 1) & 0xfc;
	for (int n = 0; p && n < 48; n++) {
		unsigned next = rd(p + 1, 1) & 0xfc;
		for (unsigned o = 2; o < 16 && p + o < 0x100; o++)
			if (!(msix && p == msix))
				wr(p + o, 1, 0xff);
		p = next;
	}
	for (unsigned o = 0x100; o < 0x1000; o += 4)
		wr(o, 4, 0xffffffff);
	printf("ATTACK %s caps-and-extended id-kept=%d ext0=%08x\n", dev, rd(0, 4) == id,
	       rd(0x100, 4));
	if ((rd(0x0e, 1) & 0x7f) != 0)
		return; /* bridges: header type 1 has two BARs only, leave them */

	/* 3: each memory BAR over guest RAM (1 MiB), touched there and at its
	 * old address, then put back. */
	wr(0x04, 2, rd(0x04, 2) | 0x2);
	for (unsigned b = 0; b < 6; b++) {
		unsigned off = 0x10 + 4 * b;
		uint32_t old = rd(off, 4);
		if (old & 1 || old == 0)
			continue;
		size_t len = 0;
		volatile uint32_t *m = map_bar(dev, b, &len);
		wr(off, 4, 0x00100000);
		uint32_t seen = m ? m[0] : 0;
		if (m)
			m[1] = 0x5a5a5a5a;
		printf("ATTACK %s bar%u-over-ram readback=%08x old-addr-read=%08x\n", dev, b,
		       rd(off, 4), seen);
		wr(off, 4, old);
		if (m)
			munmap((void *)m, len);
		if (old & 4)
			b++; /* 64-bit: the next register is the high half */
	}

	if (!msix)
		return;
	unsigned ctl = rd(msix + 2, 2), n = (ctl & 0x7ff) + 1;
	uint32_t table = rd(msix + 4, 4), pba = rd(msix + 8, 4);
	unsigned tbir = table & 7, toff = table & ~7u, poff = pba & ~7u;
	/* 4: every other memory BAR over the MSI-X table's page. */
	uint32_t tbar = rd(0x10 + 4 * tbir, 4) & ~0xfu;
	for (unsigned b = 0; b < 6 && tbir < 6; b++) {
		unsigned off = 0x10 + 4 * b;
		uint32_t old = rd(off, 4);
		if (b == tbir || old & 1 || old == 0)
			continue;
		wr(off, 4, tbar + (toff & ~0xfffu));
		printf("ATTACK %s bar%u-over-msix-table readback=%08x\n", dev, b, rd(off, 4));
		wr(off, 4, old);
		if (old & 4)
			b++;
	}
	/* 5: the table past its end, the PBA (read-only), odd sizes. */
	size_t len = 0;
	volatile uint8_t *m = (volatile uint8_t *)map_bar(dev, tbir, &len);
	if (!m) {
		printf("ATTACK %s msix no-mmap\n", dev);
		return;
	}
	unsigned writes = 0;
	for (size_t o = toff + 16 * (size_t)n; o + 4 <= len && o < toff + 16 * (size_t)n + 256;
	     o += 4, writes++)
		*(volatile uint32_t *)(m + o) = 0xffffffff;
	for (size_t o = poff; o + 8 <= len && o < poff + 64; o += 8, writes++)
		*(volatile uint64_t *)(m + o) = ~0ull;
	if (toff + 3 < len) {
		m[toff + 1] = 0xff;                          /* byte access */
		*(volatile uint16_t *)(m + toff + 2) = 0xffff; /* word access */
		writes += 2;
	}
	printf("ATTACK %s msix-past-end vectors=%u writes=%u pba0=%08x\n", dev, n, writes,
	       poff + 4 <= len ? *(volatile uint32_t *)(m + poff) : 0);
	munmap((void *)m, len);
}

/* ---- virtio-rng ---------------------------------------------------------- */
/* Common configuration registers (virtio 1.2, 4.1.4.3). */
enum {
	VC_DFSELECT = 0x00, VC_GFSELECT = 0x08, VC_GF = 0x0c, VC_STATUS = 0x14,
	VC_Q_SELECT = 0x16, VC_Q_SIZE = 0x18, VC_Q_ENABLE = 0x1c, VC_Q_NOFF = 0x1e,
	VC_Q_DESC = 0x20, VC_Q_DRIVER = 0x28, VC_Q_DEVICE = 0x30,
};
enum { ST_ACK = 1, ST_DRIVER = 2, ST_DRIVER_OK = 4, ST_FEATURES_OK = 8, ST_NEEDS_RESET = 0x40 };

struct vio {
	volatile uint8_t *common, *notify;
	uint32_t notify_mult;
	volatile uint8_t *ring;  /* one locked page: desc 0x0, avail 0x100, used 0x200 */
	uint64_t ring_gpa;
};

static void w8(volatile uint8_t *b, unsigned o, uint8_t v) { *(volatile uint8_t *)(b + o) = v; }
static void w16(volatile uint8_t *b, unsigned o, uint16_t v) { *(volatile uint16_t *)(b + o) = v; }
static void w32(volatile uint8_t *b, unsigned o, uint32_t v) { *(volatile uint32_t *)(b + o) = v; }
static uint8_t r8(volatile uint8_t *b, unsigned o) { return *(volatile uint8_t *)(b + o); }
static uint16_t r16(volatile uint8_t *b, unsigned o) { return *(volatile uint16_t *)(b + o); }
static void w64(volatile uint8_t *b, unsigned o, uint64_t v)
{
	/* Two 32-bit halves, the access size every transport accepts. */
	w32(b, o, (uint32_t)v);
	w32(b, o + 4, (uint32_t)(v >> 32));
}

static void vio_reset(struct vio *v)
{
	w8(v->common, VC_STATUS, 0);
	for (int n = 0; n < 1000 && r8(v->common, VC_STATUS); n++)
		usleep(1000);
}

/* A page whose guest-physical address stays put: mlock'ed, found in
 * /proc/self/pagemap (bits 0-54: the PFN; root only). */
static int ring_page(struct vio *v)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || mlock(p, 4096) < 0)
		return -1;
	memset(p, 0, 4096);
	int fd = open("/proc/self/pagemap", O_RDONLY);
	uint64_t e = 0;
	if (fd < 0 || pread(fd, &e, 8, (off_t)((uintptr_t)p / 4096 * 8)) != 8) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	if (!(e >> 63) || !(e & ((1ULL << 55) - 1)))
		return -1;
	v->ring = p;
	v->ring_gpa = (e & ((1ULL << 55) - 1)) * 4096;
	return 0;
}

/* Drives queue 0 from reset to DRIVER_OK with the given size; the rings are
 * in v->ring. Returns device_status afterwards. */
static uint8_t vio_start(struct vio *v, uint16_t size, bool notify)
{
	vio_reset(v);
	w8(v->common, VC_STATUS, ST_ACK);
	w8(v->common, VC_STATUS, ST_ACK | ST_DRIVER);
	w32(v->common, VC_GFSELECT, 0);
	w32(v->common, VC_GF, 0);
	w32(v->common, VC_GFSELECT, 1);
	w32(v->common, VC_GF, 1); /* VIRTIO_F_VERSION_1, bit 32 */
	w8(v->common, VC_STATUS, ST_ACK | ST_DRIVER | ST_FEATURES_OK);
	w16(v->common, VC_Q_SELECT, 0);
	w16(v->common, VC_Q_SIZE, size);
	w64(v->common, VC_Q_DESC, v->ring_gpa);
	w64(v->common, VC_Q_DRIVER, v->ring_gpa + 0x100);
	w64(v->common, VC_Q_DEVICE, v->ring_gpa + 0x200);
	w16(v->common, VC_Q_ENABLE, 1);
	w8(v->common, VC_STATUS, ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK);
	if (notify)
		w16(v->notify, (unsigned)r16(v->common, VC_Q_NOFF) * v->notify_mult, 0);
	usleep(200 * 1000); /* the queue thread runs */
	return r8(v->common, VC_STATUS);
}

/* One chain of one descriptor at the head of a size-8 queue. */
static uint8_t vio_chain(struct vio *v, uint64_t addr, uint16_t flags, uint16_t next)
{
	volatile uint8_t *r = v->ring;
	memset((void *)r, 0, 0x300);
	*(volatile uint64_t *)(r + 0) = addr;
	w32(r, 8, 16);
	w16(r, 12, flags);
	w16(r, 14, next);
	w16(r, 0x100 + 4, 0); /* avail ring[0]: head 0 */
	w16(r, 0x100 + 2, 1); /* avail idx */
	return vio_start(v, 8, true);
}

static void vio_report(const char *dev, const char *what, uint8_t st)
{
	printf("ATTACK %s virtio-%s status=%02x needs-reset=%d\n", dev, what, st,
	       !!(st & ST_NEEDS_RESET));
	fflush(stdout);
	/* passvm logs a broken device at most once per 5 s (virtio_pci.c,
	 * BROKEN_LOG_INTERVAL_MS): wait it out so each attempt is logged. */
	sleep(6);
}

static void attack_virtio(const char *dev)
{
	if (rd(0, 2) != 0x1af4 || rd(2, 2) != 0x1044)
		return;
	char path[300];
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", dev);
	int fd = open(path, O_WRONLY);
	if (fd >= 0) {
		if (write(fd, dev, strlen(dev)) < 0)
			printf("ATTACK %s virtio unbind-failed\n", dev);
		close(fd);
	}
	wr(0x04, 2, rd(0x04, 2) | 0x6); /* memory space, bus master */
	/* The vendor capabilities (4.1.4): cfg_type at +3, bar +4, offset +8,
	 * notify_off_multiplier +16 for the notify one. */
	struct vio v = { 0 };
	unsigned common_bar = 6, common_off = 0, notify_bar = 6, notify_off = 0;
	unsigned p = rd(0x34, 1) & 0xfc;
	for (int n = 0; p && n < 48; n++) {
		if (rd(p, 1) == 0x09) {
			unsigned type = rd(p + 3, 1);
			if (type == 1) {
				common_bar = rd(p + 4, 1);
				common_off = rd(p + 8, 4);
			} else if (type == 2) {
				notify_bar = rd(p + 4, 1);
				notify_off = rd(p + 8, 4);
				v.notify_mult = rd(p + 16, 4);
			}
		}
		p = rd(p + 1, 1) & 0xfc;
	}
	size_t len = 0, nlen = 0;
	volatile uint8_t *bar = common_bar < 6 ? (volatile uint8_t *)map_bar(dev, common_bar, &len) : NULL;
	volatile uint8_t *nbar = notify_bar == common_bar ? bar :
				 notify_bar < 6 ? (volatile uint8_t *)map_bar(dev, notify_bar, &nlen) : NULL;
	if (!bar || !nbar || common_off + 0x38 > len || ring_page(&v) < 0) {
		printf("ATTACK %s virtio no-access bar=%u notify-bar=%u\n", dev, common_bar, notify_bar);
		return;
	}
	v.common = bar + common_off;
	v.notify = nbar + notify_off;

	vio_report(dev, "queue-size-0", vio_start(&v, 0, false));
	vio_report(dev, "queue-size-3", vio_start(&v, 3, false));
	/* A writable buffer, as virtio-rng wants, whose next is itself. */
	vio_report(dev, "descriptor-loop", vio_chain(&v, v.ring_gpa + 0x800, 1 | 2, 0));
	vio_report(dev, "descriptor-next-200", vio_chain(&v, v.ring_gpa + 0x800, 1 | 2, 200));
	vio_report(dev, "buffer-outside-ram", vio_chain(&v, 1ULL << 46, 2, 0));
	vio_reset(&v);
	printf("ATTACK %s virtio-after-reset status=%02x\n", dev, r8(v.common, VC_STATUS));
}

/* Runs fn on each PCI device whose config space opens, as `cfg`. */
static void for_each_device(DIR *d, void (*fn)(const char *dev))
{
	struct dirent *e;
	rewinddir(d);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[300];
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", e->d_name);
		cfg = open(path, O_RDWR);
		if (cfg < 0)
			continue;
		fn(e->d_name);
		close(cfg);
		fflush(stdout);
	}
}

int main(void)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	if (!d) {
		printf("ATTACK no-pci\n");
		return 1;
	}
	for_each_device(d, attack);
	/* The virtio attacks after the others, each device once more. */
	for_each_device(d, attack_virtio);
	closedir(d);
	printf("ATTACK-DONE\n");
	return 0;
}
