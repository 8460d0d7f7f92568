// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: the parsers of user-typed PCI addresses, numbers and sizes. */
#include "common.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	struct pci_addr addr;
	if (pci_addr_parse(text, &addr) == 0) {
		/* Round trip: what parses must format back to something that
		 * parses to the same address. */
		char out[PCI_ADDR_STRLEN];
		struct pci_addr again;
		pci_addr_format(&addr, out);
		if (pci_addr_parse(out, &again) != 0 || !pci_addr_equal(&addr, &again))
			abort();
	}
	uint64_t v;
	(void)parse_u64(text, &v);
	(void)parse_size_mib_default(text, &v);
	free(text);
	return 0;
}
