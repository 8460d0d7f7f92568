// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The refusal policy's facts about one PCI function: is it a bridge (left
 * alone), a chipset function the platform needs (never taken), or in use on
 * the host (taken only when named or with --force)?
 *
 * The host-use checks are a table; each reads sysfs/procfs through the host
 * root only, so fixture trees exercise them. iommu-tools/ is growing the
 * same checks for iommu-check; vfio_classify_use is the one seam where this
 * file is to be replaced by a call into it once that lands in main.
 */
#include "vfio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PCI_DEVICES "sys/bus/pci/devices"
#define WALK_DEPTH 8

/* Chipset functions: taking one from the host breaks the platform (the LPC
 * bridge carries the RTC, PIC, ACPI PM timer and SPI flash; the SMBus
 * controller the memory SPD and sensors; the host bridge the root complex).
 * PCI Code and ID Assignment Specification 1.11, base class 06 and 0c. */
static const struct {
	uint16_t class;
	const char *what;
} chipset_classes[] = {
	{ PCI_CLASS_BRIDGE_HOST, "a host bridge" },
	{ PCI_CLASS_BRIDGE_ISA, "an ISA/LPC bridge" },
	{ PCI_CLASS_SERIAL_SMBUS, "an SMBus controller" },
};

/* What lives below a PCI function in sysfs: block devices and netdevs. */
struct below {
	char blockdevs[16][16];   /* "259:0" */
	char blocknames[16][32];
	size_t nblock;
	char netdevs[8][32];
	char netpaths[8][200];
	size_t nnet;
};

static void walk(const struct host_root *root, const char *relpath, int depth,
		 struct below *b);

/* With native NVMe multipath (CONFIG_NVME_MULTIPATH, on in Debian), the
 * controller's namespace below the PCI function is a hidden path device
 * "nvme<S>c<C>n<N>"; what gets mounted is the head "nvme<S>n<N>" under
 * devices/virtual/nvme-subsystem (drivers/nvme/host/multipath.c,
 * nvme_mpath_set_disk_name). Follow the path device to its head. */
static void walk_nvme_head(const struct host_root *root, const char *name,
			   int depth, struct below *b)
{
	unsigned s, c, n;
	char tail;
	if (sscanf(name, "nvme%uc%un%u%c", &s, &c, &n, &tail) != 3)
		return;
	char head[96];
	snprintf(head, sizeof(head), "sys/class/block/nvme%un%u", s, n);
	walk(root, head, depth + 1, b);
}

static void walk(const struct host_root *root, const char *relpath, int depth,
		 struct below *b)
{
	char path[512], sub[64];
	int fd = host_root_openat(root, relpath, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return;
	DIR *dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return;
	}

	snprintf(path, sizeof(path), "%s/subsystem", relpath);
	if (depth > 0 && host_root_link_basename(root, path, sub, sizeof(sub)) == 0) {
		const char *name = strrchr(relpath, '/');
		name = name ? name + 1 : relpath;
		snprintf(path, sizeof(path), "%s/dev", relpath);
		char dev[16];
		if (strcmp(sub, "block") == 0 && b->nblock < ARRAY_SIZE(b->blockdevs) &&
		    host_root_read(root, path, dev, sizeof(dev)) > 0) {
			snprintf(b->blockdevs[b->nblock], sizeof(b->blockdevs[0]), "%s", dev);
			snprintf(b->blocknames[b->nblock], sizeof(b->blocknames[0]), "%s", name);
			b->nblock++;
			walk_nvme_head(root, name, depth, b);
		} else if (strcmp(sub, "net") == 0 && b->nnet < ARRAY_SIZE(b->netdevs)) {
			snprintf(b->netdevs[b->nnet], sizeof(b->netdevs[0]), "%s", name);
			snprintf(b->netpaths[b->nnet], sizeof(b->netpaths[0]), "%s", relpath);
			b->nnet++;
		}
	}

	struct dirent *e;
	while (depth < WALK_DEPTH && (e = readdir(dir))) {
		/* Real directories only: sysfs links (driver, subsystem, physfn,
		 * virtfnN, iommu_group...) lead out of the device and loop. */
		if (e->d_name[0] == '.')
			continue;
		struct stat st;
		bool is_dir = e->d_type == DT_DIR ||
			      (e->d_type == DT_UNKNOWN &&
			       fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			       S_ISDIR(st.st_mode));
		if (!is_dir)
			continue;
		snprintf(path, sizeof(path), "%s/%s", relpath, e->d_name);
		walk(root, path, depth + 1, b);
	}
	closedir(dir);
}

/* A block device counts as in use when it, or a device stacked on it
 * (dm, md: its holders), is mounted. Swap is not checked: swap on a
 * passthrough candidate is rare, and mountinfo is what the issue names. */
static int check_mounted(const struct host_root *root, const struct below *b,
			 char *why, size_t size)
{
	char *text = malloc(1 << 20);
	if (!text)
		return -ENOMEM;
	ssize_t len = host_root_read(root, "proc/self/mountinfo", text, 1 << 20);
	if (len < 0) {
		free(text);
		return len == -ENOENT ? 0 : (int)len;
	}
	int found = 0;
	for (char *line = strtok(text, "\n"); line && !found; line = strtok(NULL, "\n")) {
		/* mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT ... (proc(5)) */
		char majmin[32], mnt[256];
		if (sscanf(line, "%*d %*d %31s %*s %255s", majmin, mnt) != 2)
			continue;
		for (size_t i = 0; i < b->nblock; i++) {
			if (strcmp(majmin, b->blockdevs[i]) == 0) {
				snprintf(why, size, "block device %s (%s) is mounted on %s",
					 b->blocknames[i], majmin, mnt);
				found = 1;
				break;
			}
		}
	}
	free(text);
	return found;
}

static bool file_mentions_iface(const struct host_root *root, const char *relpath,
				const char *iface, int column, bool skip_linklocal)
{
	char *text = malloc(1 << 18);
	if (!text)
		return false;
	bool found = false;
	if (host_root_read(root, relpath, text, 1 << 18) > 0) {
		for (char *line = strtok(text, "\n"); line && !found;
		     line = strtok(NULL, "\n")) {
			char cols[6][64];
			int n = sscanf(line, "%63s %63s %63s %63s %63s %63s", cols[0],
				       cols[1], cols[2], cols[3], cols[4], cols[5]);
			if (n <= column || strcmp(cols[column], iface) != 0)
				continue;
			/* if_inet6 column 3 is the scope: 20 is link-local, which
			 * every up interface has and which carries no service. */
			if (skip_linklocal && strcmp(cols[3], "20") == 0)
				continue;
			found = true;
		}
	}
	free(text);
	return found;
}

/* An interface in use: administratively up (IFF_UP) and carrying an address.
 * IPv6 from proc/net/if_inet6 (link-local ignored); IPv4 from
 * proc/net/route, where an address with a prefix shows as its connected
 * route (a /32 address without a route is missed: documented gap). */
static int check_netdev(const struct host_root *root, const struct below *b,
			char *why, size_t size)
{
	for (size_t i = 0; i < b->nnet; i++) {
		char path[256];
		uint64_t flags;
		snprintf(path, sizeof(path), "%s/flags", b->netpaths[i]);
		if (host_root_read_u64(root, path, &flags) < 0 || !(flags & 0x1))
			continue;
		bool v4 = file_mentions_iface(root, "proc/net/route", b->netdevs[i], 0, false);
		bool v6 = file_mentions_iface(root, "proc/net/if_inet6", b->netdevs[i], 5, true);
		if (v4 || v6) {
			snprintf(why, size, "network interface %s is up with %s addresses",
				 b->netdevs[i], v4 && v6 ? "IPv4 and IPv6" : v4 ? "IPv4" : "IPv6");
			return 1;
		}
	}
	return 0;
}

static int check_boot_vga(const struct host_root *root, const struct pci_dev_info *dev,
			  char *why, size_t size)
{
	char path[128], v[8];
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/boot_vga", dev->bdf);
	if (host_root_read(root, path, v, sizeof(v)) > 0 && strcmp(v, "1") == 0) {
		snprintf(why, size, "it is the boot VGA device (the host console)");
		return 1;
	}
	return 0;
}

int vfio_classify_use(const struct host_root *root, const struct pci_dev_info *dev,
		      enum vfio_use *use, char *why, size_t why_size)
{
	why[0] = '\0';
	*use = VFIO_USE_FREE;
	for (size_t i = 0; i < ARRAY_SIZE(chipset_classes); i++) {
		if (pci_dev_class(dev) == chipset_classes[i].class) {
			*use = VFIO_USE_CHIPSET;
			snprintf(why, why_size, "%s, a chipset function the platform needs",
				 chipset_classes[i].what);
			return 0;
		}
	}
	if (pci_dev_is_bridge(dev)) {
		*use = VFIO_USE_BRIDGE;
		snprintf(why, why_size, "a PCI bridge, left on its driver");
		return 0;
	}

	int r = check_boot_vga(root, dev, why, why_size);
	if (r == 0) {
		struct below *b = calloc(1, sizeof(*b));
		char path[128];
		if (!b)
			return -ENOMEM;
		snprintf(path, sizeof(path), PCI_DEVICES "/%s", dev->bdf);
		walk(root, path, 0, b);
		r = check_mounted(root, b, why, why_size);
		if (r == 0)
			r = check_netdev(root, b, why, why_size);
		free(b);
	}
	if (r < 0)
		return r;
	if (r > 0)
		*use = VFIO_USE_HOST;
	return 0;
}
