// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The sysfs `resource` file of a PCI function (drivers/pci/pci-sysfs.c,
 * resource_show): one line per resource, "0x%016llx 0x%016llx 0x%016llx"
 * start, end, flags; an unused resource is all zeros. Lines 0-5 are the
 * BARs, 6 the expansion ROM, then the SR-IOV VF BARs and bridge windows.
 */
#include "iommu_tools.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int take_hex(const char **p, uint64_t *v)
{
	const char *s = *p;
	while (*s == ' ' || *s == '\t')
		s++;
	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || !isxdigit((unsigned char)s[2]))
		return -EBADMSG;
	s += 2;
	uint64_t x = 0;
	unsigned digits = 0;
	while (isxdigit((unsigned char)*s)) {
		if (++digits > 16)
			return -EBADMSG;
		char ch = *s++;
		x = x << 4 | (uint64_t)(isdigit((unsigned char)ch) ? ch - '0'
					: tolower((unsigned char)ch) - 'a' + 10);
	}
	*v = x;
	*p = s;
	return 0;
}

int pci_resource_parse(const char *text, struct pci_resource *res, size_t max,
		       size_t *count)
{
	size_t n = 0;
	const char *p = text;
	while (*p && n < max) {
		struct pci_resource r = { 0 };
		if (take_hex(&p, &r.start) || take_hex(&p, &r.end) ||
		    take_hex(&p, &r.flags))
			return -EBADMSG;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\n')
			p++;
		else if (*p)
			return -EBADMSG;
		/* The kernel prints end = start - 1 + size, or 0 0 when unused. */
		if (r.end > r.start || (r.end == r.start && r.flags))
			r.size_bytes = r.end - r.start + 1;
		if (r.end < r.start)
			return -EBADMSG;
		res[n++] = r;
	}
	*count = n;
	return 0;
}
