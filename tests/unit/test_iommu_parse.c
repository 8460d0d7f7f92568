// SPDX-License-Identifier: GPL-2.0-or-later
/* iommu-tools' parsers on hand-made inputs, hostile ones included. */
#include "iommu_tools.h"
#include "../testlib.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void put16(uint8_t *c, size_t off, uint16_t v)
{
	c[off] = (uint8_t)v;
	c[off + 1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *c, size_t off, uint32_t v)
{
	put16(c, off, (uint16_t)v);
	put16(c, off + 2, (uint16_t)(v >> 16));
}

static void test_config(void)
{
	static uint8_t c[4096];
	struct pci_config_info info;

	memset(c, 0, sizeof(c));
	put16(c, 6, 0x10);          /* capability list */
	c[0x34] = 0x40;
	c[0x40] = 0x10;             /* PCIe, next 0x60 */
	c[0x41] = 0x60;
	put16(c, 0x42, 0x0002);     /* endpoint */
	put32(c, 0x44, 0x10000000); /* FLR */
	c[0x60] = 0x11;             /* MSI-X, next 0 */
	put16(c, 0x62, 15);         /* 16 vectors */
	put32(c, 0x64, 0x2003);     /* table in BAR 3 at 0x2000 */
	put32(c, 0x100, 0x0d | 1 << 16 | 0x140u << 20);      /* ACS -> 0x140 */
	put16(c, 0x104, 0x1f);
	put16(c, 0x106, 0x1d);
	put32(c, 0x140, 0x10 | 1 << 16);                     /* SR-IOV, last */
	put16(c, 0x14e, 7);
	put16(c, 0x150, 3);
	CHECK_EQ_INT(pci_config_parse(c, sizeof(c), &info), 0);
	CHECK(info.is_pcie && info.flr && info.msix);
	CHECK_EQ_INT(info.msix_vectors, 16);
	CHECK_EQ_INT(info.msix_table_bar, 3);
	CHECK_EQ_INT(info.msix_table_offset, 0x2000);
	CHECK(info.acs);
	CHECK_EQ_INT(info.acs_ctrl, 0x1d);
	CHECK(info.sriov);
	CHECK_EQ_INT(info.sriov_total_vfs, 7);
	CHECK_EQ_INT(info.sriov_num_vfs, 3);

	/* What an unprivileged reader gets: 64 bytes, capabilities unknown. */
	CHECK_EQ_INT(pci_config_parse(c, 64, &info), 0);
	CHECK(!info.caps_read && !info.ext_caps_read && !info.is_pcie);

	/* Loops in both lists end; pointers past the end are not followed. */
	c[0x61] = 0x40;
	put32(c, 0x140, 0x10 | 1 << 16 | 0x100u << 20);
	CHECK_EQ_INT(pci_config_parse(c, sizeof(c), &info), 0);
	CHECK(info.msix && info.sriov);
	c[0x61] = 0xfc;
	CHECK_EQ_INT(pci_config_parse(c, 256, &info), 0);
	CHECK(!info.ext_caps_read);
	CHECK_EQ_INT(pci_config_parse(c, 0, &info), -EBADMSG);
}

static void test_resource(void)
{
	struct pci_resource r[PCI_RESOURCE_MAX];
	size_t n;
	const char *text =
		"0x00000000fea00000 0x00000000fea1ffff 0x0000000000040200\n"
		"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
		"0x0000000000000000 0x00000003ffffffff 0x000000002014220c\n";
	CHECK_EQ_INT(pci_resource_parse(text, r, PCI_RESOURCE_MAX, &n), 0);
	CHECK_EQ_INT(n, 3);
	CHECK_EQ_INT(r[0].size_bytes, 128 << 10);
	CHECK_EQ_INT(r[1].size_bytes, 0);
	CHECK(r[2].size_bytes == 16ull << 30);
	CHECK(r[2].flags & PCI_RES_UNSET);
	CHECK_EQ_INT(pci_resource_parse("0x1 0x0 0x200\n", r, PCI_RESOURCE_MAX, &n), -EBADMSG);
	CHECK_EQ_INT(pci_resource_parse("0x1 0x2\n", r, PCI_RESOURCE_MAX, &n), -EBADMSG);
	CHECK_EQ_INT(pci_resource_parse("0x11111111111111111 0x0 0x0\n", r, PCI_RESOURCE_MAX, &n),
		     -EBADMSG);
}

static void test_cmdline(void)
{
	struct kcmdline cl;
	bool found;
	CHECK_EQ_INT(kcmdline_parse("ro \"acpi_osi=Windows 2020\" intel-iommu=on,sm_on "
				    "iommu=pt quiet intel_iommu=igfx_off", &cl), 0);
	CHECK_EQ_INT(cl.n, 6);
	CHECK_EQ_STR(kcmdline_get(&cl, "acpi_osi", &found), "Windows 2020");
	CHECK(kcmdline_get(&cl, "quiet", &found) == NULL && found);
	CHECK(kcmdline_get(&cl, "nope", &found) == NULL && !found);
	CHECK_EQ_STR(kcmdline_get(&cl, "intel_iommu", &found), "igfx_off");
	CHECK(kcmdline_has_item(&cl, "intel_iommu", "sm_on"));
	CHECK(kcmdline_has_item(&cl, "intel-iommu", "on"));
	CHECK(!kcmdline_has_item(&cl, "intel_iommu", "off"));
	CHECK(kcmdline_has_item(&cl, "iommu", "pt"));
	kcmdline_free(&cl);
}

static void test_proc(void)
{
	struct cpuinfo cpu;
	CHECK_EQ_INT(cpuinfo_parse("vendor_id\t: AuthenticAMD\nflags\t\t: fpu svm lm\n"
				   "address sizes\t: 40 bits physical, 48 bits virtual\n", &cpu), 0);
	CHECK(cpu.svm && !cpu.vmx && !cpu.hypervisor);
	CHECK_EQ_INT(cpu.phys_bits, 40);
	CHECK_EQ_STR(cpu.vendor, "AuthenticAMD");
	CHECK_EQ_INT(cpuinfo_parse("flags: vmxx svmm\n", &cpu), 0);
	CHECK(!cpu.vmx && !cpu.svm);
	CHECK_EQ_INT(cpuinfo_parse("nothing here\n", &cpu), -EBADMSG);

	uint64_t soft, hard;
	CHECK_EQ_INT(proc_limits_memlock("Max locked memory         65536                unlimited"
					 "            bytes\n", &soft, &hard), 0);
	CHECK_EQ_INT(soft, 65536);
	CHECK(hard == UINT64_MAX);
	CHECK_EQ_INT(proc_limits_memlock("Max open files 1 1 files\n", &soft, &hard), -ENOENT);

	struct iomem_windows w;
	CHECK_EQ_INT(iomem_pci_windows("00000000-00000fff : Reserved\n"
				       "c0001000-eebfffff : PCI Bus 0000:00\n"
				       "  eec00000-eecfffff : PCI Bus 0000:00\n"
				       "4000000000-7fffffffff : PCI Bus 0000:00\n", &w), 0);
	CHECK_EQ_INT(w.count, 2);
	CHECK(w.above_4g_bytes == 256ull << 30);
	CHECK(w.below_4g_bytes == 0xeebfffffull - 0xc0001000ull + 1);
	CHECK(w.highest_end == 0x8000000000ull);
	CHECK_EQ_INT(iomem_pci_windows("00000000-00000000 : PCI Bus 0000:00\n", &w), -EACCES);
	CHECK_EQ_INT(iomem_pci_windows("", &w), -EBADMSG);

	struct mount_entry *m;
	size_t n;
	CHECK_EQ_INT(mountinfo_parse("36 35 8:2 / /mnt/a\\040b rw master:1 - ext4 /dev/sda2 rw\n"
				     "garbage\n"
				     "37 35 0:5 / /proc rw - proc proc rw\n", &m, &n), 0);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_STR(m[0].mountpoint, "/mnt/a b");
	CHECK_EQ_INT(m[0].major, 8);
	CHECK_EQ_INT(m[0].minor, 2);
	CHECK_EQ_STR(m[0].fstype, "ext4");
	CHECK_EQ_STR(m[1].source, "proc");
	free(m);
}

static void test_facts(void)
{
	struct iommu_host_facts f = { 0 };
	CHECK_EQ_INT(iommu_facts_parse("kvm_open -13\nifaddr eth0 192.0.2.1/24\nbogus\n", &f), 0);
	CHECK_EQ_INT(f.kvm_open, -EACCES);
	CHECK_EQ_INT(f.n_ifaddrs, 1);
	char *text = iommu_facts_format(&f);
	CHECK(text && strcmp(text, "kvm_open -13\nifaddr eth0 192.0.2.1/24\n") == 0);
	free(text);
	iommu_facts_free(&f);
}

static void test_chipset(void)
{
	const char *what = NULL;
	CHECK(iommu_is_chipset_function(0x060100, &what));
	CHECK_EQ_STR(what, "ISA/LPC bridge");
	CHECK(iommu_is_chipset_function(0x0c0500, NULL));
	CHECK(!iommu_is_chipset_function(0x060400, NULL)); /* a PCI bridge is not */
	CHECK(!iommu_is_chipset_function(0x020000, NULL));
}

int main(void)
{
	test_config();
	test_resource();
	test_cmdline();
	test_proc();
	test_facts();
	test_chipset();
	return test_result();
}
