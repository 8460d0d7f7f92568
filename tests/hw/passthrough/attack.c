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
 *    sizes (CVE-2015-7504-like index trust).
 * Each attempt prints one "ATTACK ..." line; "ATTACK-DONE" at the end. The
 * host side (tests/hw/passthrough/faults.sh) checks that passvm kept
 * running, logged with a rate limit, and left the host as it was.
 */
#include <dirent.h>
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

int main(void)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	if (!d) {
		printf("ATTACK no-pci\n");
		return 1;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[300];
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", e->d_name);
		cfg = open(path, O_RDWR);
		if (cfg < 0)
			continue;
		attack(e->d_name);
		close(cfg);
		fflush(stdout);
	}
	closedir(d);
	printf("ATTACK-DONE\n");
	return 0;
}
