// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Vendor, device and class names through libpci's pci_lookup_name, from the
 * pci.ids of the root being read (usr/share/misc/pci.ids, opened through the
 * host root and handed to libpci as /proc/self/fd/N). So a fixture tree or a
 * snapshot names devices as the host it came from did, and udev's hwdb,
 * which a tree cannot carry, is never asked (PCI_LOOKUP_NO_HWDB).
 */
#include "iommu_tools.h"

#include <fcntl.h>
#include <pci/pci.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PCI_IDS_PATH "usr/share/misc/pci.ids"

struct iommu_names {
	struct pci_access *pacc;
	int fd;
	char path[64];
};

/* pci.ids parse problems are the tree's, not ours to print. */
static void quiet(char *msg, ...)
{
}

/* libpci's error hook must not return (it exits by default, which a
 * library must not do): it only fires when libpci runs out of memory
 * while loading the list, so the lookup that was running gives up and the
 * device is shown by its IDs. */
static __thread jmp_buf *lookup_escape;

__attribute__((noreturn)) static void escape(char *msg, ...)
{
	longjmp(*lookup_escape, 1);
}

struct iommu_names *iommu_names_open(const struct host_root *root)
{
	struct iommu_names *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->fd = host_root_openat(root, PCI_IDS_PATH, O_RDONLY);
	if (n->fd < 0)
		return n; /* no names: IDs only */
	n->pacc = pci_alloc();
	if (!n->pacc) {
		close(n->fd);
		n->fd = -1;
		return n;
	}
	n->pacc->warning = quiet;
	n->pacc->debug = quiet;
	n->pacc->error = escape;
	/* No lookup cache: it lives in $HOME (~/.pciids-cache), outside the
	 * root, and only serves DNS lookups, which are never asked for. */
	n->pacc->id_lookup_mode = 0;
	snprintf(n->path, sizeof(n->path), "/proc/self/fd/%d", n->fd);
	pci_set_name_list_path(n->pacc, n->path, 0);
	return n;
}

static const char *guarded_lookup(struct pci_access *pacc, char *buf, int size,
				  int flags, int a, int b)
{
	jmp_buf env;
	lookup_escape = &env;
	if (setjmp(env))
		return NULL;
	/* pci_lookup_name is variadic; it takes its IDs as ints. */
	return pci_lookup_name(pacc, buf, size, flags, a, b);
}

static void lookup(struct iommu_names *n, char *out, size_t size, int flags, int a, int b)
{
	out[0] = '\0';
	if (!n || !n->pacc)
		return;
	char buf[256];
	const char *s = guarded_lookup(n->pacc, buf, sizeof(buf),
				       flags | PCI_LOOKUP_NO_NUMBERS | PCI_LOOKUP_NO_HWDB, a, b);
	if (s)
		snprintf(out, size, "%s", s);
	iommu_sanitize(out);
}

void iommu_names_lookup(struct iommu_names *n, const struct pci_dev_info *dev,
			char *name, size_t name_size, char *cls, size_t cls_size)
{
	char vendor[128], device[128];
	lookup(n, vendor, sizeof(vendor), PCI_LOOKUP_VENDOR, dev->vendor, 0);
	lookup(n, device, sizeof(device), PCI_LOOKUP_DEVICE, dev->vendor, dev->device);
	lookup(n, cls, cls_size, PCI_LOOKUP_CLASS, (int)(dev->class_code >> 8), 0);
	if (vendor[0] && device[0])
		snprintf(name, name_size, "%s %s", vendor, device);
	else if (vendor[0])
		snprintf(name, name_size, "%s device %04x", vendor, dev->device);
	else
		snprintf(name, name_size, "device %04x:%04x", dev->vendor, dev->device);
	if (!cls[0])
		snprintf(cls, cls_size, "class %04x", (unsigned)(dev->class_code >> 8));
}

void iommu_names_close(struct iommu_names *n)
{
	if (!n)
		return;
	if (n->pacc)
		pci_cleanup(n->pacc);
	if (n->fd >= 0)
		close(n->fd);
	free(n);
}
