// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/hw/sriov: a VF seen through VFIO, for the lab's SR-IOV tests.
 *   vf-probe probe BDF    open BDF's group and device through VFIO (the
 *                         vfio/ library), print its IDs from config space and
 *                         the NVMe registers VS and CSTS from BAR0
 *   vf-probe hold GROUP   hold /dev/vfio/GROUP open until killed (a "VM")
 * A QEMU NVMe VF whose secondary controller is offline reads CSTS.CFS = 1
 * (hw/nvme/ctrl.c nvme_ctrl_reset; LAB.md saw "CSTS=0x2"); once the PF gave
 * it resources and brought it online, CSTS reads 0: this is how the tests
 * tell that provisioning reached the device.
 */
#include "common.h"
#include "vfio.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int probe(const char *text)
{
	struct host_root root;
	struct pci_addr addr;
	struct pci_dev_info info;
	if (pci_addr_parse(text, &addr) < 0 || host_root_open(&root, "/") < 0 ||
	    pci_dev_read(&root, &addr, &info) < 0) {
		fprintf(stderr, "vf-probe: cannot read %s\n", text);
		return 1;
	}
	struct vfio_iommu io;
	int r = vfio_iommu_open(&io, &root, VFIO_BACKEND_AUTO, info.iommu_group);
	if (r < 0) {
		fprintf(stderr, "vf-probe: group %d: %s (%s)\n", info.iommu_group, strerror(-r), io.why);
		return 1;
	}
	struct vfio_device dev;
	r = vfio_device_open(&dev, &io, &addr, info.iommu_group);
	if (r < 0) {
		fprintf(stderr, "vf-probe: device %s: %s\n", info.bdf, strerror(-r));
		vfio_iommu_close(&io);
		return 1;
	}
	uint16_t vendor = 0, device = 0;
	uint32_t vs = 0, csts = 0;
	vfio_config_read16(&dev, 0, &vendor);
	vfio_config_read16(&dev, 2, &device);
	ssize_t a = vfio_region_read(&dev, VFIO_PCI_BAR0_REGION_INDEX, 0x08, &vs, 4);
	ssize_t b = vfio_region_read(&dev, VFIO_PCI_BAR0_REGION_INDEX, 0x1c, &csts, 4);
	printf("%s group %d config %04x:%04x bar0 VS %08x CSTS %08x\n", info.bdf,
	       info.iommu_group, vendor, device, vs, csts);
	vfio_device_close(&dev);
	vfio_iommu_close(&io);
	return a == 4 && b == 4 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "probe") == 0)
		return probe(argv[2]);
	if (argc == 3 && strcmp(argv[1], "hold") == 0) {
		char path[64];
		snprintf(path, sizeof(path), "/dev/vfio/%s", argv[2]);
		int fd = open(path, O_RDWR);
		if (fd < 0) {
			perror(path);
			return 1;
		}
		printf("holding %s\n", path);
		fflush(stdout);
		for (;;)
			pause();
	}
	fprintf(stderr, "usage: vf-probe probe BDF | hold GROUP\n");
	return 2;
}
