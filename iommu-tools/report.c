// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The report: discovery (every PCI function, its group, its details and
 * how the host uses it), then the host checks in table order, then a
 * verdict per device. Data flows one way; the writers only read it.
 */
#include "iommu_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *iommu_read_text(const struct host_root *root, const char *path, size_t max, int *err)
{
	int fd = host_root_openat(root, path, O_RDONLY);
	if (fd < 0) {
		*err = fd;
		return NULL;
	}
	char *buf = malloc(max);
	size_t len = 0;
	*err = 0;
	while (buf && len < max - 1) {
		ssize_t n = read(fd, buf + len, max - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*err = -errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (!buf) {
		*err = -ENOMEM;
		return NULL;
	}
	if (*err) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

ssize_t iommu_read_binary(const struct host_root *root, const char *path,
			  uint8_t *buf, size_t size)
{
	int fd = host_root_openat(root, path, O_RDONLY);
	if (fd < 0)
		return fd;
	size_t len = 0;
	while (len < size) {
		ssize_t n = read(fd, buf + len, size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0 && len == 0) {
				int err = -errno;
				close(fd);
				return err;
			}
			break;
		}
		len += (size_t)n;
	}
	close(fd);
	return (ssize_t)len;
}

bool iommu_err_is_perm(int err)
{
	return err == -EACCES || err == -EPERM;
}

const char *iommu_err_text(int err)
{
	return iommu_err_is_perm(err) ? "needs root" : strerror(-err);
}

void iommu_format_size(uint64_t bytes, char *out, size_t size)
{
	static const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	unsigned u = 0;
	uint64_t v = bytes;
	while (u + 1 < ARRAY_SIZE(units) && v >= 1024 && v % 1024 == 0) {
		v /= 1024;
		u++;
	}
	if (v >= 10240 && u + 1 < ARRAY_SIZE(units)) {
		/* Not a power-of-two size (an address window): approximate. */
		double d = (double)bytes;
		unsigned k = 0;
		while (d >= 1024 && k + 1 < ARRAY_SIZE(units)) {
			d /= 1024;
			k++;
		}
		snprintf(out, size, "%.1f %s", d, units[k]);
		return;
	}
	snprintf(out, size, "%llu %s", (unsigned long long)v, units[u]);
}

const char *iommu_status_name(enum iommu_status s)
{
	static const char *names[] = { "pass", "warn", "fail", "unknown" };
	return (unsigned)s < ARRAY_SIZE(names) ? names[s] : "?";
}

const char *iommu_verdict_name(enum iommu_verdict v)
{
	static const char *names[] = { "ok", "warn", "fail" };
	return (unsigned)v < ARRAY_SIZE(names) ? names[v] : "?";
}

static int compare_addr(const struct pci_addr *x, const struct pci_addr *y)
{
	uint32_t kx = (uint32_t)x->domain << 16 | (uint32_t)x->bus << 8 |
		      (uint32_t)x->device << 3 | x->function;
	uint32_t ky = (uint32_t)y->domain << 16 | (uint32_t)y->bus << 8 |
		      (uint32_t)y->device << 3 | y->function;
	return kx < ky ? -1 : kx > ky;
}

size_t iommu_report_find(const struct iommu_report *r, const struct pci_addr *a)
{
	size_t lo = 0, hi = r->n_devices;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = compare_addr(&r->devices[mid].info.addr, a);
		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return SIZE_MAX;
}

static int read_devices(const struct host_root *root, struct iommu_report *r)
{
	struct pci_addr *addrs;
	size_t n;
	int ret = pci_dev_list(root, &addrs, &n);
	if (ret == -ENOENT) {
		n = 0;
		addrs = NULL;
	} else if (ret < 0) {
		return ret;
	}
	r->devices = calloc(n ? n : 1, sizeof(*r->devices));
	if (!r->devices) {
		free(addrs);
		return -ENOMEM;
	}
	struct iommu_names *names = iommu_names_open(root);
	for (size_t i = 0; i < n; i++) {
		struct iommu_device *d = &r->devices[r->n_devices];
		/* A function that vanished or reads garbage is left out,
		 * not fatal: hot-unplug races, crafted trees. */
		if (pci_dev_read(root, &addrs[i], &d->info) < 0)
			continue;
		iommu_names_lookup(names, &d->info, d->name, sizeof(d->name),
				   d->class_name, sizeof(d->class_name));
		iommu_sanitize(d->info.driver);
		iommu_sanitize(d->info.driver_override);
		iommu_device_read(root, d);
		iommu_sanitize(d->reset_method);
		r->n_devices++;
	}
	iommu_names_close(names);
	free(addrs);
	return 0;
}

static int read_groups(const struct host_root *root, struct iommu_report *r)
{
	int *ids;
	size_t n;
	int ret = iommu_group_list(root, &ids, &n);
	if (ret < 0)
		return ret;
	r->groups = calloc(n ? n : 1, sizeof(*r->groups));
	if (!r->groups) {
		free(ids);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct iommu_group_info *g = &r->groups[r->n_groups++];
		char path[128];
		struct pci_addr *addrs;
		size_t na;
		g->id = ids[i];
		snprintf(path, sizeof(path), "sys/kernel/iommu_groups/%d/type", ids[i]);
		if (host_root_read(root, path, g->type, sizeof(g->type)) < 0)
			g->type[0] = '\0';
		iommu_sanitize(g->type);
		if (iommu_group_devices(root, ids[i], &addrs, &na) < 0)
			continue;
		g->members = calloc(na ? na : 1, sizeof(*g->members));
		for (size_t k = 0; g->members && k < na; k++) {
			size_t idx = iommu_report_find(r, &addrs[k]);
			if (idx != SIZE_MAX)
				g->members[g->n_members++] = idx;
		}
		free(addrs);
	}
	free(ids);
	/* Peers: the other members of each device's group. */
	for (size_t i = 0; i < r->n_groups; i++) {
		const struct iommu_group_info *g = &r->groups[i];
		for (size_t k = 0; k < g->n_members; k++) {
			struct iommu_device *d = &r->devices[g->members[k]];
			if (d->info.iommu_group != g->id)
				continue;
			d->peers = calloc(g->n_members, sizeof(*d->peers));
			for (size_t j = 0; d->peers && j < g->n_members; j++)
				if (j != k)
					d->peers[d->n_peers++] = g->members[j];
		}
	}
	return 0;
}

static int read_usage(const struct host_root *root, const struct iommu_host_facts *facts,
		      struct iommu_report *r)
{
	struct iommu_usage_index *idx;
	int ret = iommu_usage_index_build(root, facts, &idx);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < r->n_devices; i++) {
		struct iommu_device *d = &r->devices[i];
		(void)iommu_dev_usage_read(root, idx, &d->info, &d->usage);
		iommu_device_acs_path(root, r, d);
	}
	iommu_usage_index_free(idx);
	return 0;
}

static int run_host_checks(const struct host_root *root, const struct iommu_check_options *opts,
			   const struct iommu_host_facts *facts, struct iommu_report *r)
{
	struct kcmdline cl;
	struct cpuinfo cpu;
	struct iommu_host_ctx ctx = { .root = root, .opts = opts, .facts = facts, .report = r };
	char *text = iommu_read_text(root, "proc/cmdline", 65536, &ctx.cmdline_err);
	if (text) {
		ctx.cmdline_err = kcmdline_parse(text, &cl);
		if (ctx.cmdline_err == 0)
			ctx.cmdline = &cl;
		free(text);
	}
	text = iommu_read_text(root, "proc/cpuinfo", 1 << 20, &ctx.cpu_err);
	if (text) {
		ctx.cpu_err = cpuinfo_parse(text, &cpu);
		if (ctx.cpu_err == 0)
			ctx.cpu = &cpu;
		free(text);
	}
	r->checks = calloc(iommu_host_checks_count, sizeof(*r->checks));
	if (!r->checks) {
		if (ctx.cmdline)
			kcmdline_free(&cl);
		return -ENOMEM;
	}
	for (size_t i = 0; i < iommu_host_checks_count; i++) {
		struct iommu_check_result *res = &r->checks[r->n_checks++];
		res->id = iommu_host_checks[i].id;
		iommu_host_checks[i].run(&ctx, res);
	}
	if (ctx.cmdline)
		kcmdline_free(&cl);
	return 0;
}

int iommu_report_build(const struct host_root *root, const struct iommu_check_options *opts,
		       struct iommu_report *r, size_t *bad_bdf)
{
	struct iommu_host_facts facts;
	memset(r, 0, sizeof(*r));
	int ret = iommu_facts_load(root, &facts);
	if (ret < 0)
		return ret;
	ret = read_devices(root, r);
	if (ret == 0)
		ret = read_groups(root, r);
	if (ret == 0)
		ret = read_usage(root, &facts, r);
	if (ret == 0) {
		r->asked = calloc(opts->n_bdfs ? opts->n_bdfs : 1, sizeof(*r->asked));
		if (!r->asked)
			ret = -ENOMEM;
	}
	for (size_t i = 0; ret == 0 && i < opts->n_bdfs; i++) {
		size_t idx = iommu_report_find(r, &opts->bdfs[i]);
		if (idx == SIZE_MAX) {
			*bad_bdf = i;
			ret = -ENODEV;
			break;
		}
		r->asked[r->n_asked++] = idx;
	}
	if (ret == 0)
		ret = run_host_checks(root, opts, &facts, r);
	iommu_facts_free(&facts);
	if (ret < 0) {
		iommu_report_free(r);
		return ret;
	}
	for (size_t i = 0; i < r->n_devices; i++)
		iommu_device_decide(r, i);
	r->ready = true;
	for (size_t i = 0; i < r->n_checks; i++)
		if (r->checks[i].status == IOMMU_FAIL)
			r->ready = false;
	for (size_t i = 0; i < r->n_asked; i++)
		if (r->devices[r->asked[i]].verdict == IOMMU_VERDICT_FAIL)
			r->ready = false;
	return 0;
}

void iommu_report_free(struct iommu_report *r)
{
	for (size_t i = 0; i < r->n_checks; i++)
		strlist_free(&r->checks[i].evidence);
	free(r->checks);
	for (size_t i = 0; i < r->n_devices; i++) {
		struct iommu_device *d = &r->devices[i];
		iommu_dev_usage_free(&d->usage);
		strlist_free(&d->reasons);
		strlist_free(&d->must_go_along);
		free(d->peers);
	}
	free(r->devices);
	for (size_t i = 0; i < r->n_groups; i++)
		free(r->groups[i].members);
	free(r->groups);
	free(r->asked);
	memset(r, 0, sizeof(*r));
}
