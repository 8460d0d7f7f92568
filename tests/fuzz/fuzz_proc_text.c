// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: the parsers of /proc text iommu-check reads: the kernel
 * command line, cpuinfo, limits, mountinfo and the snapshot facts file. */
#include "iommu_tools.h"

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

	struct kcmdline cl;
	if (kcmdline_parse(text, &cl) == 0) {
		bool found;
		for (size_t i = 0; i < cl.n; i++)
			if (!kcmdline_get(&cl, cl.keys[i], &found) && !found)
				abort(); /* every key parsed must be found again */
		(void)kcmdline_has_item(&cl, "intel_iommu", "on");
		kcmdline_free(&cl);
	}
	struct cpuinfo cpu;
	if (cpuinfo_parse(text, &cpu) == 0 && (cpu.phys_bits > 64 || !memchr(cpu.vendor, 0, sizeof(cpu.vendor))))
		abort();
	struct iomem_windows w;
	if (iomem_pci_windows(text, &w) == 0 && w.count == 0 &&
	    (w.below_4g_bytes || w.above_4g_bytes))
		abort();
	uint64_t soft, hard;
	(void)proc_limits_memlock(text, &soft, &hard);
	struct mount_entry *m;
	size_t n;
	if (mountinfo_parse(text, &m, &n) == 0)
		free(m);
	struct iommu_host_facts facts = { 0 };
	(void)iommu_facts_parse(text, &facts);
	iommu_facts_free(&facts);
	free(text);
	return 0;
}
