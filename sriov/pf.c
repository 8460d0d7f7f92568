// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Discovery: SR-IOV PFs and their VFs as sysfs shows them
 * (Documentation/ABI/testing/sysfs-bus-pci: sriov_totalvfs, sriov_numvfs,
 * sriov_drivers_autoprobe; virtfnN links on the PF, physfn on each VF).
 */
#include "sriov.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCI_DEVICES "sys/bus/pci/devices"

/* The first entry of a class directory below the function ("net", "nvme"). */
static void first_child(const struct host_root *root, const char *bdf,
			const char *cls, char *out, size_t size)
{
	char path[128], **names;
	size_t n;
	out[0] = '\0';
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/%s", bdf, cls);
	if (host_root_list_dir(root, path, &names, &n) < 0)
		return;
	if (n)
		snprintf(out, size, "%s", names[0]);
	strv_free(names, n);
}

int sriov_pci_path(const struct host_root *root, const char *bdf, char *buf, size_t size)
{
	char rel[128], link[512];
	snprintf(rel, sizeof(rel), PCI_DEVICES "/%s", bdf);
	ssize_t l = host_root_readlink(root, rel, link, sizeof(link));
	if (l < 0)
		return (int)l;
	/* "../../../devices/pci0000:00/0000:00:05.0/0000:02:00.0" */
	const char *p = strstr(link, "devices/pci");
	if (!p)
		return -EBADMSG;
	p += strlen("devices/");
	size_t used = 0;
	buf[0] = '\0';
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		char comp[64];
		if (len >= sizeof(comp))
			return -EBADMSG;
		memcpy(comp, p, len);
		comp[len] = '\0';
		const char *part = comp;
		struct pci_addr a;
		char df[8];
		if (used && pci_addr_parse(comp, &a) == 0) {
			snprintf(df, sizeof(df), "%02x.%x", a.device, a.function);
			part = df;
		} else if (used) {
			return -EBADMSG; /* something other than a PCI hop */
		}
		int n = snprintf(buf + used, size - used, "%s%s", used ? "/" : "", part);
		if (n < 0 || (size_t)n >= size - used)
			return -ENAMETOOLONG;
		used += (size_t)n;
		if (!slash)
			break;
		p = slash + 1;
	}
	return 0;
}

static int read_vfs(const struct host_root *root, struct sriov_pf *pf)
{
	char path[128], **names;
	size_t n;
	snprintf(path, sizeof(path), PCI_DEVICES "/%s", pf->info.bdf);
	int r = host_root_list_dir(root, path, &names, &n);
	if (r < 0)
		return r;
	pf->vfs = calloc(n ? n : 1, sizeof(*pf->vfs));
	if (!pf->vfs) {
		strv_free(names, n);
		return -ENOMEM;
	}
	/* host_root_list_dir sorts by strverscmp: virtfn2 before virtfn10. */
	for (size_t i = 0; i < n && r == 0; i++) {
		uint64_t index;
		if (strncmp(names[i], "virtfn", 6) != 0 || parse_u64(names[i] + 6, &index) < 0 ||
		    index >= SRIOV_MAX_VFS)
			continue;
		char target[64];
		struct pci_addr a;
		snprintf(path, sizeof(path), PCI_DEVICES "/%s/%s", pf->info.bdf, names[i]);
		r = host_root_link_basename(root, path, target, sizeof(target));
		if (r < 0)
			break;
		if (pci_addr_parse(target, &a) < 0) {
			r = -EBADMSG;
			break;
		}
		struct sriov_vf *vf = &pf->vfs[pf->nvfs];
		vf->index = (unsigned)index;
		r = pci_dev_read(root, &a, &vf->info);
		if (r < 0)
			break;
		first_child(root, vf->info.bdf, "net", vf->netdev, sizeof(vf->netdev));
		pf->nvfs++;
	}
	strv_free(names, n);
	return r;
}

int sriov_pf_read(const struct host_root *root, const struct pci_addr *addr,
		  struct sriov_pf *pf)
{
	char path[160];
	uint64_t v;
	memset(pf, 0, sizeof(*pf));
	int r = pci_dev_read(root, addr, &pf->info);
	if (r < 0)
		return r;
	if (pf->info.is_virtfn)
		return -EXDEV;
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/sriov_totalvfs", pf->info.bdf);
	r = host_root_read_u64(root, path, &v);
	if (r == -ENOENT)
		return -EOPNOTSUPP;
	if (r < 0)
		return r;
	if (v > SRIOV_MAX_VFS)
		return -EBADMSG;
	pf->total_vfs = (uint32_t)v;
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/sriov_numvfs", pf->info.bdf);
	r = host_root_read_u64(root, path, &v);
	if (r < 0)
		return r;
	if (v > SRIOV_MAX_VFS)
		return -EBADMSG;
	pf->num_vfs = (uint32_t)v;
	/* Absent before Linux 4.12: autoprobe was always on then. */
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/sriov_drivers_autoprobe", pf->info.bdf);
	pf->autoprobe = host_root_read_u64(root, path, &v) < 0 || v != 0;

	first_child(root, pf->info.bdf, "net", pf->netdev, sizeof(pf->netdev));
	first_child(root, pf->info.bdf, "nvme", pf->nvme_ctrl, sizeof(pf->nvme_ctrl));
	if (pf->nvme_ctrl[0]) {
		snprintf(path, sizeof(path), PCI_DEVICES "/%s/nvme/%s/serial", pf->info.bdf,
			 pf->nvme_ctrl);
		if (host_root_read(root, path, pf->serial, sizeof(pf->serial)) < 0)
			pf->serial[0] = '\0';
		/* NVMe pads the serial with blanks (Identify Controller SN). */
		for (size_t l = strlen(pf->serial); l && pf->serial[l - 1] == ' '; l--)
			pf->serial[l - 1] = '\0';
	}
	if (sriov_pci_path(root, pf->info.bdf, pf->pci_path, sizeof(pf->pci_path)) < 0)
		pf->pci_path[0] = '\0';
	r = read_vfs(root, pf);
	if (r < 0)
		sriov_pf_free(pf);
	return r;
}

void sriov_pf_free(struct sriov_pf *pf)
{
	free(pf->vfs);
	pf->vfs = NULL;
	pf->nvfs = 0;
}

int sriov_pf_list(const struct host_root *root, struct sriov_pf **out, size_t *count)
{
	struct pci_addr *addrs;
	size_t n;
	*out = NULL;
	*count = 0;
	int r = pci_dev_list(root, &addrs, &n);
	if (r < 0)
		return r;
	struct sriov_pf *pfs = calloc(n ? n : 1, sizeof(*pfs));
	if (!pfs) {
		free(addrs);
		return -ENOMEM;
	}
	size_t found = 0;
	for (size_t i = 0; i < n; i++) {
		r = sriov_pf_read(root, &addrs[i], &pfs[found]);
		if (r == -EOPNOTSUPP || r == -EXDEV || r == -ENODEV) {
			r = 0;
			continue;
		}
		if (r < 0)
			break;
		found++;
	}
	free(addrs);
	if (r < 0) {
		sriov_pf_list_free(pfs, found);
		return r;
	}
	*out = pfs;
	*count = found;
	return 0;
}

void sriov_pf_list_free(struct sriov_pf *pfs, size_t count)
{
	for (size_t i = 0; i < count; i++)
		sriov_pf_free(&pfs[i]);
	free(pfs);
}

static const char *const bind_names[] = {
	[SRIOV_BIND_NONE] = "none",
	[SRIOV_BIND_HOST] = "host",
	[SRIOV_BIND_VFIO] = "vfio",
};

const char *sriov_bind_name(enum sriov_bind bind)
{
	return (size_t)bind < ARRAY_SIZE(bind_names) ? bind_names[bind] : "?";
}

int sriov_bind_parse(const char *text, enum sriov_bind *bind)
{
	for (size_t i = 0; i < ARRAY_SIZE(bind_names); i++) {
		if (strcmp(text, bind_names[i]) == 0) {
			*bind = (enum sriov_bind)i;
			return 0;
		}
	}
	return -EINVAL;
}
