// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Is the host using this PCI function? The questions to ask before a
 * function (or a peer in its IOMMU group) is taken from its host driver:
 *  - a chipset function (host bridge, ISA/LPC bridge, SMBus, ...): the host
 *    needs it to run at all;
 *  - block devices below it that hold mounted filesystems or swap, directly
 *    or under device-mapper/md (their `slaves`), or through NVMe native
 *    multipath, whose namespaces hang off sys/devices/virtual/nvme-subsystem
 *    with links back to each controller;
 *  - network interfaces below it that are up with addresses (or enslaved to
 *    a bridge/bond that has them);
 *  - the console: the boot VGA device (vgacon, efifb), a framebuffer the
 *    VT console runs on, a PCI serial port named in /proc/consoles.
 * Everything is read through the host root; the index is built once per
 * host and then asked per function.
 */
#include "iommu_tools.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

struct block_dev {
	char name[64];
	unsigned major, minor;
	char **anchors;             /* physical sysfs paths this device hangs off */
	size_t n_anchors;
	char **slaves;              /* names of block devices it is built on */
	size_t n_slaves;
};

struct iommu_usage_index {
	const struct iommu_host_facts *facts;
	struct block_dev *blocks;
	size_t n_blocks;
	struct mount_entry *mounts;
	size_t n_mounts;
	char **swaps;               /* block names in use as swap */
	size_t n_swaps;
	struct console_dev {
		char path[PATH_MAX];    /* physical sysfs path of the device */
		char name[32];          /* ttyS4, fb0 */
	} *consoles;
	size_t n_consoles;
	bool vt_console;            /* a VT (tty0, ttyN) is a console */
};

/* Class codes (PCI Code and ID Assignment spec) of functions that belong to
 * the platform: taking them from the host breaks it, and VFIO cannot give
 * them to a guest in any useful way. */
static const struct {
	uint16_t cls;
	const char *what;
} chipset_classes[] = {
	{ 0x0500, "RAM controller" },
	{ 0x0600, "host bridge" },
	{ 0x0601, "ISA/LPC bridge" },
	{ 0x0602, "EISA bridge" },
	{ 0x0603, "MicroChannel bridge" },
	{ 0x0800, "interrupt controller" },
	{ 0x0801, "DMA controller" },
	{ 0x0802, "timer" },
	{ 0x0803, "RTC" },
	{ 0x0c05, "SMBus controller" },
};

bool iommu_is_chipset_function(uint32_t class_code, const char **what)
{
	uint16_t cls = (uint16_t)(class_code >> 8);
	for (size_t i = 0; i < ARRAY_SIZE(chipset_classes); i++)
		if (chipset_classes[i].cls == cls) {
			if (what)
				*what = chipset_classes[i].what;
			return true;
		}
	return false;
}

static int strv_push(char ***v, size_t *n, const char *s)
{
	char **g = realloc(*v, (*n + 1) * sizeof(**v));
	if (!g)
		return -ENOMEM;
	*v = g;
	g[*n] = strdup(s);
	if (!g[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

/* NVMe native multipath: the namespace is a child of the subsystem; the
 * subsystem directory links to each controller (nvmeN). */
static int add_nvme_subsys_anchors(const struct host_root *root, struct block_dev *b,
				   const char *phys)
{
	char subsys[PATH_MAX];
	snprintf(subsys, sizeof(subsys), "%s", phys);
	char *slash = strrchr(subsys, '/');
	if (!slash || !strstr(subsys, "/nvme-subsystem/"))
		return 0;
	*slash = '\0';
	char **names;
	size_t n;
	if (host_root_list_dir(root, subsys, &names, &n) < 0)
		return 0;
	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++) {
		const char *s = names[i];
		if (strncmp(s, "nvme", 4) != 0 || !s[4] || strspn(s + 4, "0123456789") != strlen(s + 4))
			continue;
		char link[PATH_MAX], ctrl[PATH_MAX];
		if (snprintf(link, sizeof(link), "%s/%s", subsys, s) >= (int)sizeof(link))
			continue;
		if (host_root_resolve(root, link, true, ctrl, sizeof(ctrl)) == 0)
			r = strv_push(&b->anchors, &b->n_anchors, ctrl);
	}
	strv_free(names, n);
	return r;
}

static int read_block(const struct host_root *root, const char *name, struct block_dev *b)
{
	char path[PATH_MAX], phys[PATH_MAX], dev[32];
	snprintf(b->name, sizeof(b->name), "%s", name);
	snprintf(path, sizeof(path), "sys/class/block/%s", name);
	if (host_root_resolve(root, path, true, phys, sizeof(phys)) < 0)
		return 0;
	int r = strv_push(&b->anchors, &b->n_anchors, phys);
	/* A partition (nvme0n1p1) hangs below its disk (the multipath head
	 * nvme0n1): its controllers are the disk's, so look from there. */
	char disk[PATH_MAX];
	snprintf(disk, sizeof(disk), "%s", phys);
	snprintf(path, sizeof(path), "sys/class/block/%s/partition", name);
	if (host_root_exists(root, path) && strrchr(disk, '/'))
		*strrchr(disk, '/') = '\0';
	if (r == 0)
		r = add_nvme_subsys_anchors(root, b, disk);
	snprintf(path, sizeof(path), "sys/class/block/%s/dev", name);
	if (host_root_read(root, path, dev, sizeof(dev)) > 0 &&
	    sscanf(dev, "%u:%u", &b->major, &b->minor) != 2)
		b->major = b->minor = 0;
	snprintf(path, sizeof(path), "sys/class/block/%s/slaves", name);
	char **names;
	size_t n;
	if (r == 0 && host_root_list_dir(root, path, &names, &n) == 0) {
		for (size_t i = 0; i < n && r == 0; i++)
			r = strv_push(&b->slaves, &b->n_slaves, names[i]);
		strv_free(names, n);
	}
	return r;
}

static int index_blocks(const struct host_root *root, struct iommu_usage_index *idx)
{
	char **names;
	size_t n;
	if (host_root_list_dir(root, "sys/class/block", &names, &n) < 0)
		return 0;
	idx->blocks = calloc(n ? n : 1, sizeof(*idx->blocks));
	if (!idx->blocks) {
		strv_free(names, n);
		return -ENOMEM;
	}
	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++) {
		r = read_block(root, names[i], &idx->blocks[idx->n_blocks]);
		idx->n_blocks++;
	}
	strv_free(names, n);
	return r;
}

static char *read_text(const struct host_root *root, const char *path, size_t max)
{
	char *buf = malloc(max);
	if (!buf)
		return NULL;
	if (host_root_read(root, path, buf, max) < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* /proc/swaps: "Filename Type Size Used Priority", first line a header. */
static int index_swaps(const struct host_root *root, struct iommu_usage_index *idx)
{
	char *text = read_text(root, "proc/swaps", 65536);
	if (!text)
		return 0;
	int r = 0;
	char *save = NULL;
	strtok_r(text, "\n", &save);
	for (char *line = strtok_r(NULL, "\n", &save); line && r == 0;
	     line = strtok_r(NULL, "\n", &save)) {
		line[strcspn(line, " \t")] = '\0';
		const char *base = strrchr(line, '/');
		r = strv_push(&idx->swaps, &idx->n_swaps, base ? base + 1 : line);
	}
	free(text);
	return r;
}

static bool is_vt_name(const char *name)
{
	return strncmp(name, "tty", 3) == 0 && name[3] &&
	       strspn(name + 3, "0123456789") == strlen(name + 3);
}

static int add_console(struct iommu_usage_index *idx, const char *path, const char *name)
{
	struct console_dev *g = realloc(idx->consoles, (idx->n_consoles + 1) * sizeof(*g));
	if (!g)
		return -ENOMEM;
	idx->consoles = g;
	snprintf(g[idx->n_consoles].path, sizeof(g->path), "%s", path);
	snprintf(g[idx->n_consoles].name, sizeof(g->name), "%s", name);
	idx->n_consoles++;
	return 0;
}

/* /proc/consoles: "ttyS0 -W- (EC p a) 4:64"; a VT console runs on every
 * framebuffer (fbcon) or, without one, on the boot VGA (vgacon). */
static int index_consoles(const struct host_root *root, struct iommu_usage_index *idx)
{
	char *text = read_text(root, "proc/consoles", 16384);
	if (!text)
		return 0;
	int r = 0;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line && r == 0;
	     line = strtok_r(NULL, "\n", &save)) {
		line[strcspn(line, " \t")] = '\0';
		char path[PATH_MAX], phys[PATH_MAX];
		if (is_vt_name(line)) {
			idx->vt_console = true;
			continue;
		}
		snprintf(path, sizeof(path), "sys/class/tty/%s", line);
		if (host_root_resolve(root, path, true, phys, sizeof(phys)) < 0)
			continue;
		r = add_console(idx, phys, line);
	}
	free(text);
	if (r < 0 || !idx->vt_console)
		return r;
	char **names;
	size_t n;
	if (host_root_list_dir(root, "sys/class/graphics", &names, &n) < 0)
		return 0;
	for (size_t i = 0; i < n && r == 0; i++) {
		char path[PATH_MAX], phys[PATH_MAX];
		if (strncmp(names[i], "fb", 2) != 0)
			continue;
		snprintf(path, sizeof(path), "sys/class/graphics/%s", names[i]);
		if (host_root_resolve(root, path, true, phys, sizeof(phys)) < 0)
			continue;
		r = add_console(idx, phys, names[i]);
	}
	strv_free(names, n);
	return r;
}

int iommu_usage_index_build(const struct host_root *root,
			    const struct iommu_host_facts *facts,
			    struct iommu_usage_index **out)
{
	struct iommu_usage_index *idx = calloc(1, sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	idx->facts = facts;
	int r = index_blocks(root, idx);
	if (r == 0) {
		char *text = read_text(root, "proc/self/mountinfo", 1 << 20);
		if (text) {
			r = mountinfo_parse(text, &idx->mounts, &idx->n_mounts);
			free(text);
		}
	}
	if (r == 0)
		r = index_swaps(root, idx);
	if (r == 0)
		r = index_consoles(root, idx);
	if (r < 0) {
		iommu_usage_index_free(idx);
		return r;
	}
	*out = idx;
	return 0;
}

void iommu_usage_index_free(struct iommu_usage_index *idx)
{
	if (!idx)
		return;
	for (size_t i = 0; i < idx->n_blocks; i++) {
		strv_free(idx->blocks[i].anchors, idx->blocks[i].n_anchors);
		strv_free(idx->blocks[i].slaves, idx->blocks[i].n_slaves);
	}
	free(idx->blocks);
	free(idx->mounts);
	strv_free(idx->swaps, idx->n_swaps);
	free(idx->consoles);
	free(idx);
}

static bool path_under(const char *path, const char *dir)
{
	size_t l = strlen(dir);
	return strncmp(path, dir, l) == 0 && (path[l] == '/' || path[l] == '\0');
}

static bool block_under(const struct block_dev *b, const char *devpath)
{
	for (size_t i = 0; i < b->n_anchors; i++)
		if (path_under(b->anchors[i], devpath))
			return true;
	return false;
}

static size_t block_find(const struct iommu_usage_index *idx, const char *name)
{
	for (size_t i = 0; i < idx->n_blocks; i++)
		if (strcmp(idx->blocks[i].name, name) == 0)
			return i;
	return SIZE_MAX;
}

static void usage_mounts(const struct iommu_usage_index *idx, const char *devpath,
			 struct iommu_dev_usage *u)
{
	if (!idx->n_blocks)
		return;
	bool *owned = calloc(idx->n_blocks, sizeof(*owned));
	if (!owned)
		return;
	for (size_t i = 0; i < idx->n_blocks; i++)
		owned[i] = block_under(&idx->blocks[i], devpath);
	/* Stacked devices (dm, md) on an owned device are owned too; the
	 * stack is at most as deep as there are devices. */
	for (bool grew = true; grew;) {
		grew = false;
		for (size_t i = 0; i < idx->n_blocks; i++) {
			for (size_t s = 0; !owned[i] && s < idx->blocks[i].n_slaves; s++) {
				size_t j = block_find(idx, idx->blocks[i].slaves[s]);
				if (j != SIZE_MAX && owned[j])
					owned[i] = grew = true;
			}
		}
	}
	for (size_t i = 0; i < idx->n_blocks; i++) {
		if (!owned[i])
			continue;
		const struct block_dev *b = &idx->blocks[i];
		for (size_t m = 0; m < idx->n_mounts; m++) {
			const struct mount_entry *e = &idx->mounts[m];
			const char *base = strrchr(e->source, '/');
			bool by_num = b->major && e->major == b->major && e->minor == b->minor;
			bool by_name = base && strcmp(base + 1, b->name) == 0;
			if (by_num || by_name)
				strlist_addf(&u->mounts, "/dev/%s on %s (%s)", b->name,
					     e->mountpoint, e->fstype);
		}
		for (size_t s = 0; s < idx->n_swaps; s++)
			if (strcmp(idx->swaps[s], b->name) == 0)
				strlist_addf(&u->mounts, "/dev/%s is swap", b->name);
	}
	free(owned);
}

static bool is_link_local(const char *addr)
{
	return strncmp(addr, "fe80:", 5) == 0;
}

/* The addresses that make an interface matter to the host: global ones
 * (an IPv6 link-local address is on every up interface). */
static size_t format_addrs(const struct iommu_usage_index *idx, const char *ifname,
			   char *out, size_t size)
{
	size_t count = 0, len = 0;
	out[0] = '\0';
	const struct iommu_host_facts *f = idx->facts;
	for (size_t i = 0; f && i < f->n_ifaddrs; i++) {
		if (strcmp(f->ifaddrs[i].ifname, ifname) != 0 || is_link_local(f->ifaddrs[i].addr))
			continue;
		int n = snprintf(out + len, size - len, "%s%s", count ? " " : "",
				 f->ifaddrs[i].addr);
		if (n > 0 && (size_t)n < size - len)
			len += (size_t)n;
		count++;
	}
	return count;
}

static void usage_netifs(const struct host_root *root, const struct iommu_usage_index *idx,
			 const struct pci_dev_info *dev, struct iommu_dev_usage *u)
{
	char path[PATH_MAX];
	char **names;
	size_t n;
	snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/net", dev->bdf);
	if (host_root_list_dir(root, path, &names, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		char flags_text[32], master[64] = "", addrs[512];
		uint64_t flags = 0;
		snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/net/%s/flags",
			 dev->bdf, names[i]);
		if (host_root_read(root, path, flags_text, sizeof(flags_text)) > 0)
			(void)parse_u64(flags_text, &flags);
		bool up = flags & 0x1; /* IFF_UP */
		snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/net/%s/master",
			 dev->bdf, names[i]);
		if (host_root_link_basename(root, path, master, sizeof(master)) < 0)
			master[0] = '\0';
		size_t count = format_addrs(idx, master[0] ? master : names[i], addrs, sizeof(addrs));
		if (up && count && master[0])
			strlist_addf(&u->netifs, "%s is up in %s, which has %s", names[i],
				     master, addrs);
		else if (up && count)
			strlist_addf(&u->netifs, "%s is up with %s", names[i], addrs);
		else
			strlist_addf(&u->netifs_idle, "%s is %s%s", names[i],
				     up ? "up" : "down", up ? " without addresses" : "");
	}
	strv_free(names, n);
}

static void usage_console(const struct host_root *root, const struct iommu_usage_index *idx,
			  const struct pci_dev_info *dev, const char *devpath,
			  struct iommu_dev_usage *u)
{
	char path[PATH_MAX], text[8];
	snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/boot_vga", dev->bdf);
	u->boot_vga = host_root_read(root, path, text, sizeof(text)) > 0 &&
		      strcmp(text, "1") == 0;
	for (size_t i = 0; i < idx->n_consoles; i++) {
		if (path_under(idx->consoles[i].path, devpath)) {
			u->console = true;
			snprintf(u->console_what, sizeof(u->console_what), "%s",
				 idx->consoles[i].name);
			iommu_sanitize(u->console_what);
			return;
		}
	}
	if (u->boot_vga && idx->vt_console) {
		u->console = true;
		snprintf(u->console_what, sizeof(u->console_what), "VGA text console");
	}
}

int iommu_dev_usage_read(const struct host_root *root,
			 const struct iommu_usage_index *idx,
			 const struct pci_dev_info *dev, struct iommu_dev_usage *u)
{
	char path[PATH_MAX], devpath[PATH_MAX];
	const char *what = NULL;
	memset(u, 0, sizeof(*u));
	u->chipset = iommu_is_chipset_function(dev->class_code, &what);
	if (u->chipset)
		snprintf(u->chipset_what, sizeof(u->chipset_what), "%s", what);
	snprintf(path, sizeof(path), "sys/bus/pci/devices/%s", dev->bdf);
	int r = host_root_resolve(root, path, true, devpath, sizeof(devpath));
	if (r < 0)
		return r;
	usage_mounts(idx, devpath, u);
	usage_netifs(root, idx, dev, u);
	usage_console(root, idx, dev, devpath, u);
	return 0;
}

bool iommu_dev_usage_in_use(const struct iommu_dev_usage *u)
{
	return u->chipset || u->boot_vga || u->console || u->mounts.n || u->netifs.n;
}

void iommu_dev_usage_free(struct iommu_dev_usage *u)
{
	strlist_free(&u->mounts);
	strlist_free(&u->netifs);
	strlist_free(&u->netifs_idle);
}

int iommu_dev_usage_query(const struct host_root *root, const struct pci_dev_info *dev,
			  struct iommu_dev_usage *out)
{
	struct iommu_host_facts facts;
	struct iommu_usage_index *idx;
	memset(out, 0, sizeof(*out));
	int r = iommu_facts_load(root, &facts);
	if (r < 0)
		return r;
	r = iommu_usage_index_build(root, &facts, &idx);
	if (r == 0) {
		r = iommu_dev_usage_read(root, idx, dev, out);
		iommu_usage_index_free(idx);
	}
	iommu_facts_free(&facts);
	return r;
}

static void append(char *buf, size_t size, size_t *len, const char *text)
{
	int n = snprintf(buf + *len, size - *len, "%s%s", *len ? "; " : "", text);
	if (n > 0)
		*len = (size_t)n < size - *len ? *len + (size_t)n : size - 1;
}

void iommu_dev_usage_describe(const struct iommu_dev_usage *u, char *buf, size_t size)
{
	size_t len = 0;
	char what[128];
	if (!size)
		return;
	buf[0] = '\0';
	if (u->chipset) {
		snprintf(what, sizeof(what), "chipset function (%s)", u->chipset_what);
		append(buf, size, &len, what);
	}
	for (size_t i = 0; i < u->mounts.n; i++)
		append(buf, size, &len, u->mounts.v[i]);
	for (size_t i = 0; i < u->netifs.n; i++)
		append(buf, size, &len, u->netifs.v[i]);
	if (u->boot_vga)
		append(buf, size, &len, "boot VGA");
	if (u->console) {
		snprintf(what, sizeof(what), "console (%s)", u->console_what);
		append(buf, size, &len, what);
	}
}
