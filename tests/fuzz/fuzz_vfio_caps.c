// SPDX-License-Identifier: GPL-2.0-or-later
/* The VFIO capability-chain parsers (IOMMU info, region info): whatever the
 * bytes, they must stay inside the reply and terminate. */
#include "vfio.h"

#include <stdalign.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static alignas(8) uint8_t buf[4096];
	if (size < 1 || size > sizeof(buf))
		return 0;
	memcpy(buf, data + 1, size - 1);
	if (data[0] & 1) {
		struct vfio_iommu io;
		memset(&io, 0, sizeof(io));
		vfio_type1_parse_info(&io, buf, size - 1);
	} else {
		struct vfio_region r;
		vfio_region_parse_info(&r, buf, size - 1);
	}
	return 0;
}
