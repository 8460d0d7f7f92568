// SPDX-License-Identifier: GPL-2.0-or-later
/* PCI addresses as the user types them and as sysfs names them. */
#include "common.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Parses exactly `digits` hex digits at *p, advancing it. */
static int take_hex(const char **p, unsigned digits, unsigned *value)
{
	unsigned v = 0;
	for (unsigned i = 0; i < digits; i++) {
		char c = (*p)[i];
		if (!isxdigit((unsigned char)c))
			return -EINVAL;
		v = v * 16 + (unsigned)(isdigit((unsigned char)c) ? c - '0'
						  : tolower((unsigned char)c) - 'a' + 10);
	}
	*p += digits;
	*value = v;
	return 0;
}

static int take_char(const char **p, char c)
{
	if (**p != c)
		return -EINVAL;
	(*p)++;
	return 0;
}

int pci_addr_parse(const char *text, struct pci_addr *addr)
{
	const char *p = text;
	unsigned domain = 0, bus, dev, fn;

	if (!text)
		return -EINVAL;
	/* "DDDD:" is present when the first colon comes after 4 digits. */
	const char *colon = strchr(p, ':');
	if (colon && colon - p == 4) {
		if (take_hex(&p, 4, &domain) || take_char(&p, ':'))
			return -EINVAL;
	}
	if (take_hex(&p, 2, &bus) || take_char(&p, ':') ||
	    take_hex(&p, 2, &dev) || take_char(&p, '.') ||
	    take_hex(&p, 1, &fn) || *p != '\0')
		return -EINVAL;
	if (dev > 31 || fn > 7)
		return -EINVAL;
	*addr = (struct pci_addr){ (uint16_t)domain, (uint8_t)bus, (uint8_t)dev,
				   (uint8_t)fn };
	return 0;
}

void pci_addr_format(const struct pci_addr *addr, char out[PCI_ADDR_STRLEN])
{
	snprintf(out, PCI_ADDR_STRLEN, "%04x:%02x:%02x.%x", addr->domain,
		 addr->bus, addr->device, addr->function & 7u);
}

bool pci_addr_equal(const struct pci_addr *a, const struct pci_addr *b)
{
	return a->domain == b->domain && a->bus == b->bus &&
	       a->device == b->device && a->function == b->function;
}
