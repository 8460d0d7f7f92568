// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Host facts that are not files: whether /dev/kvm opens and its API
 * version (an ioctl, asked through vmm/), and the addresses of network
 * interfaces (netlink, through getifaddrs). On the live host they are
 * asked for; in a tree they are read from passvm-snapshot/facts, which
 * --snapshot writes, so a snapshot reproduces the report:
 *
 *     kvm_open 0            (0, or a negative errno)
 *     kvm_api_version 12
 *     ifaddr eth0 192.0.2.10/24
 */
#include "iommu_tools.h"
#include "vmm.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int add_ifaddr(struct iommu_host_facts *f, const char *ifname, const char *addr)
{
	struct ifaddr_fact *g = realloc(f->ifaddrs, (f->n_ifaddrs + 1) * sizeof(*g));
	if (!g)
		return -ENOMEM;
	f->ifaddrs = g;
	snprintf(g[f->n_ifaddrs].ifname, sizeof(g->ifname), "%s", ifname);
	snprintf(g[f->n_ifaddrs].addr, sizeof(g->addr), "%s", addr);
	f->n_ifaddrs++;
	return 0;
}

static unsigned prefix_len(const struct sockaddr *mask)
{
	const unsigned char *b;
	size_t n;
	if (!mask)
		return 0;
	if (mask->sa_family == AF_INET) {
		b = (const unsigned char *)&((const struct sockaddr_in *)mask)->sin_addr;
		n = 4;
	} else {
		b = (const unsigned char *)&((const struct sockaddr_in6 *)mask)->sin6_addr;
		n = 16;
	}
	unsigned bits = 0;
	for (size_t i = 0; i < n; i++)
		bits += (unsigned)__builtin_popcount(b[i]);
	return bits;
}

static int gather_ifaddrs(struct iommu_host_facts *f)
{
	struct ifaddrs *list;
	if (getifaddrs(&list) < 0)
		return -errno;
	int r = 0;
	for (struct ifaddrs *a = list; a && r == 0; a = a->ifa_next) {
		if (!a->ifa_addr)
			continue;
		int fam = a->ifa_addr->sa_family;
		if (fam != AF_INET && fam != AF_INET6)
			continue;
		char text[INET6_ADDRSTRLEN], full[80];
		const void *src = fam == AF_INET
			? (const void *)&((struct sockaddr_in *)a->ifa_addr)->sin_addr
			: (const void *)&((struct sockaddr_in6 *)a->ifa_addr)->sin6_addr;
		if (!inet_ntop(fam, src, text, sizeof(text)))
			continue;
		snprintf(full, sizeof(full), "%s/%u", text, prefix_len(a->ifa_netmask));
		r = add_ifaddr(f, a->ifa_name, full);
	}
	freeifaddrs(list);
	return r;
}

int iommu_facts_parse(const char *text, struct iommu_host_facts *f)
{
	char line[256];
	f->present = true;
	f->kvm_open = -ENOENT;
	for (const char *p = text; *p;) {
		size_t l = strcspn(p, "\n");
		size_t c = l < sizeof(line) - 1 ? l : sizeof(line) - 1;
		memcpy(line, p, c);
		line[c] = '\0';
		p += l;
		if (*p)
			p++;
		char a[64], b[64];
		int v;
		if (sscanf(line, "kvm_open %d", &v) == 1 && v <= 0 && v > -4096)
			f->kvm_open = v;
		else if (sscanf(line, "kvm_api_version %d", &v) == 1 && v >= 0)
			f->kvm_api_version = v;
		else if (sscanf(line, "ifaddr %31s %63s", a, b) == 2 &&
			 add_ifaddr(f, a, b) < 0)
			return -ENOMEM;
	}
	return 0;
}

int iommu_facts_load(const struct host_root *root, struct iommu_host_facts *f)
{
	memset(f, 0, sizeof(*f));
	if (root->is_real) {
		struct kvm_system kvm;
		f->present = true;
		f->kvm_open = kvm_system_open(&kvm, root);
		if (f->kvm_open == 0) {
			f->kvm_api_version = kvm.api_version;
			kvm_system_close(&kvm);
		}
		return gather_ifaddrs(f);
	}
	f->from_tree = true;
	char *text = malloc(65536);
	if (!text)
		return -ENOMEM;
	ssize_t n = host_root_read(root, IOMMU_FACTS_PATH, text, 65536);
	int r = 0;
	if (n >= 0)
		r = iommu_facts_parse(text, f);
	free(text);
	return r;
}

char *iommu_facts_format(const struct iommu_host_facts *f)
{
	char *text;
	size_t len;
	FILE *m = open_memstream(&text, &len);
	if (!m)
		return NULL;
	fprintf(m, "kvm_open %d\n", f->kvm_open);
	if (f->kvm_open == 0)
		fprintf(m, "kvm_api_version %d\n", f->kvm_api_version);
	for (size_t i = 0; i < f->n_ifaddrs; i++)
		fprintf(m, "ifaddr %s %s\n", f->ifaddrs[i].ifname, f->ifaddrs[i].addr);
	return fclose(m) == 0 ? text : NULL;
}

void iommu_facts_free(struct iommu_host_facts *f)
{
	free(f->ifaddrs);
	f->ifaddrs = NULL;
	f->n_ifaddrs = 0;
}
