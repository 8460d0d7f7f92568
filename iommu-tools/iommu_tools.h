/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iommu-tools/: the passthrough preflight (`iommu-check`, `passvm check`).
 *
 * Owns: reading what a host says about its IOMMU, interrupt remapping, VFIO,
 * KVM and PCI devices (through the host root only), deciding per host check
 * and per device whether passthrough can work, and the reports (text, JSON,
 * NFD labels). Also the device-usage checks that vfio/ reuses before it
 * takes a group (is a function part of the chipset, does it hold mounted
 * filesystems, an up network interface with addresses, the console).
 * Must not: change the host (no sysfs writes, no driver binding), print from
 * library code (only the report writers write, to the FILE they are given).
 */
#ifndef PASSVM_IOMMU_TOOLS_H
#define PASSVM_IOMMU_TOOLS_H

#include "common.h"

#include <stdio.h>

/* ---- string lists (evidence, reasons) ---------------------------------- */
struct strlist {
	char **v;
	size_t n, cap;
};
/* Appends a formatted line; on allocation failure the line is dropped and
 * the list remembers it (strlist_failed), so reports never crash. */
void strlist_addf(struct strlist *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void strlist_free(struct strlist *l);
/* Replaces control characters (C0, DEL, C1 in UTF-8) with '?', in place:
 * text from a tree (pci.ids names, mount points, interface names) must not
 * drive the terminal the report is printed on. strlist_addf does it. */
void iommu_sanitize(char *s);

/* ---- parsers of what the host root reads (pure, fuzzed) ---------------- */
/* PCI configuration space, as sysfs `config` gives it: 64 bytes to an
 * unprivileged reader, 256 (conventional) or 4096 (PCIe) to root. */
struct pci_config_info {
	size_t len;                 /* bytes that were readable */
	bool caps_read;             /* the standard capability list was readable */
	bool ext_caps_read;         /* the extended capabilities were readable */
	uint8_t header_type;        /* 0 endpoint, 1 bridge, 2 CardBus */
	bool multifunction;
	bool is_pcie;
	uint8_t pcie_type;          /* PCI_EXP_TYPE_* */
	bool flr;                   /* Device Capabilities: Function Level Reset */
	bool af_flr;                /* Advanced Features capability with FLR */
	bool pm;
	bool pm_no_soft_reset;      /* D3hot->D0 keeps state: PM reset works */
	bool msi;
	unsigned msi_vectors;       /* Multiple Message Capable */
	bool msi_64bit;
	bool msix;
	unsigned msix_vectors;      /* Table Size + 1 */
	uint8_t msix_table_bar;
	uint32_t msix_table_offset;
	bool acs;
	uint16_t acs_cap, acs_ctrl;
	bool sriov;
	uint16_t sriov_total_vfs, sriov_num_vfs;
	bool rebar;
	unsigned rebar_count;
	struct {
		uint8_t bar;
		uint8_t current_log2_mib;   /* size = 1 MiB << n */
		uint32_t supported_mask;    /* bit n: 1 MiB << n supported */
	} rebar_bars[6];
};
/* Walks the capability lists with every offset bounds-checked and a loop
 * limit, so a crafted `config` cannot make it read out of range or spin. */
int pci_config_parse(const uint8_t *cfg, size_t len, struct pci_config_info *out);

/* The sysfs `resource` file: one "start end flags" line per resource. */
#define PCI_RESOURCE_MAX 17        /* 6 BARs, ROM, 6 IOV BARs, bridge windows */
#define PCI_ROM_RESOURCE 6
struct pci_resource {
	uint64_t start, end, flags;
	uint64_t size_bytes;        /* 0 when unused */
};
/* Resource flags (include/linux/ioport.h, IORESOURCE_*). */
#define PCI_RES_IO        0x00000100ull
#define PCI_RES_MEM       0x00000200ull
#define PCI_RES_PREFETCH  0x00002000ull
#define PCI_RES_MEM_64    0x00100000ull
#define PCI_RES_UNSET     0x20000000ull
int pci_resource_parse(const char *text, struct pci_resource *res, size_t max,
		       size_t *count);

/* The kernel command line, split as the kernel does (quotes group). */
struct kcmdline {
	char *buf;
	char **keys, **values;      /* values[i] is NULL for a bare flag */
	size_t n;
};
int kcmdline_parse(const char *text, struct kcmdline *out);
/* The value of the last occurrence of key (the kernel's behaviour for most
 * parameters); *found tells a bare flag (NULL value) from absence. */
const char *kcmdline_get(const struct kcmdline *cl, const char *key, bool *found);
/* Whether a comma-separated value list of key contains item. */
bool kcmdline_has_item(const struct kcmdline *cl, const char *key, const char *item);
void kcmdline_free(struct kcmdline *cl);

struct cpuinfo {
	char vendor[32];
	bool vmx, svm, hypervisor;
	bool has_vmx_flags_line;    /* "vmx flags": VMX usable (Linux >= 5.9) */
	unsigned phys_bits, virt_bits;
};
int cpuinfo_parse(const char *text, struct cpuinfo *out);

/* /proc/self/limits: "Max locked memory" soft and hard, UINT64_MAX = unlimited. */
int proc_limits_memlock(const char *text, uint64_t *soft, uint64_t *hard);

/* /proc/iomem: the root buses' MMIO windows (top-level "PCI Bus" lines).
 * An unprivileged reader sees every address as 0: -EACCES then. */
struct iomem_windows {
	uint64_t below_4g_bytes, above_4g_bytes;
	uint64_t highest_end;       /* last byte + 1 of the highest window */
	unsigned count;
};
int iomem_pci_windows(const char *text, struct iomem_windows *out);

/* /proc/self/mountinfo: the device numbers (major:minor) of every mount. */
struct mount_entry {
	unsigned major, minor;
	char mountpoint[256];
	char fstype[32];
	char source[128];
};
int mountinfo_parse(const char *text, struct mount_entry **entries, size_t *count);

/* ACPI DMAR (Intel VT-d spec 8.1) and IVRS (AMD IOMMU spec 5.2) tables. */
struct acpi_iommu_table {
	bool valid;
	uint8_t host_address_width;  /* DMAR: HAW + 1 bits */
	uint8_t flags;               /* DMAR: bit 0 INTR_REMAP, bit 1 X2APIC_OPT_OUT */
	unsigned units;              /* DRHD or IVHD entries */
	unsigned rmrr;               /* DMAR reserved memory regions */
	uint32_t ivinfo;             /* IVRS IVinfo */
};
int acpi_dmar_parse(const uint8_t *data, size_t len, struct acpi_iommu_table *out);
int acpi_ivrs_parse(const uint8_t *data, size_t len, struct acpi_iommu_table *out);

/* ---- host facts ----------------------------------------------------------
 * What the checks need that is not a file (the /dev/kvm ioctl, interface
 * addresses from netlink). On the live host they are asked for; with --root
 * they come from the tree's passvm-snapshot/facts, written by --snapshot,
 * so a report reproduces from a snapshot. */
#define IOMMU_FACTS_PATH "passvm-snapshot/facts"
#define IOMMU_ERRORS_PATH "passvm-snapshot/errors"
struct ifaddr_fact {
	char ifname[32];
	char addr[64];              /* "192.0.2.1/24", "2001:db8::1/64" */
};
struct iommu_host_facts {
	bool from_tree;             /* read from passvm-snapshot/facts */
	bool present;               /* false: a tree without a facts file */
	int kvm_open;               /* 0 or -errno of opening /dev/kvm */
	int kvm_api_version;        /* when kvm_open == 0 */
	struct ifaddr_fact *ifaddrs;
	size_t n_ifaddrs;
};
int iommu_facts_load(const struct host_root *root, struct iommu_host_facts *out);
int iommu_facts_parse(const char *text, struct iommu_host_facts *out);
/* The facts as passvm-snapshot/facts holds them (malloc'd text). */
char *iommu_facts_format(const struct iommu_host_facts *facts);
void iommu_facts_free(struct iommu_host_facts *facts);

/* ---- device usage: is the host using this function? ----------------------
 * The questions vfio/ asks before it takes a group, and iommu-check asks of
 * every peer. Built once per host (block devices, mounts, consoles), then
 * asked per function. */
struct iommu_usage_index;
int iommu_usage_index_build(const struct host_root *root,
			    const struct iommu_host_facts *facts,
			    struct iommu_usage_index **out);
void iommu_usage_index_free(struct iommu_usage_index *idx);

struct iommu_dev_usage {
	bool chipset;               /* host bridge, ISA/LPC bridge, SMBus, ... */
	char chipset_what[64];
	bool boot_vga;
	bool console;               /* drives a console (framebuffer, serial) */
	char console_what[64];
	struct strlist mounts;      /* "/dev/sda1 on / (ext4)" */
	struct strlist netifs;      /* "eth0 up: 192.0.2.1/24" (up with addresses) */
	struct strlist netifs_idle; /* interfaces that are down or have no address */
};
/* Whether the class code names a function the host's chipset needs. */
bool iommu_is_chipset_function(uint32_t class_code, const char **what);
int iommu_dev_usage_read(const struct host_root *root,
			 const struct iommu_usage_index *idx,
			 const struct pci_dev_info *dev, struct iommu_dev_usage *out);
void iommu_dev_usage_free(struct iommu_dev_usage *u);
/* One-shot form for callers that ask about a few functions (vfio/'s
 * refusal policy): loads the host facts, builds the index, reads `dev`. */
int iommu_dev_usage_query(const struct host_root *root, const struct pci_dev_info *dev,
			  struct iommu_dev_usage *out);
/* One line naming how the host uses the function ("chipset function (ISA/LPC
 * bridge)", "/dev/sda2 on / (ext4)", "boot VGA"...), "" when it is free. */
void iommu_dev_usage_describe(const struct iommu_dev_usage *u, char *buf, size_t size);
/* True when passing the function through would take something from the host. */
bool iommu_dev_usage_in_use(const struct iommu_dev_usage *u);

/* ---- the report ---------------------------------------------------------- */
enum iommu_status { IOMMU_PASS, IOMMU_WARN, IOMMU_FAIL, IOMMU_UNKNOWN };
const char *iommu_status_name(enum iommu_status s);

struct iommu_check_result {
	const char *id;
	enum iommu_status status;
	char summary[256];
	struct strlist evidence;
	char fix[512];
};

enum iommu_verdict { IOMMU_VERDICT_OK, IOMMU_VERDICT_WARN, IOMMU_VERDICT_FAIL };
const char *iommu_verdict_name(enum iommu_verdict v);

struct iommu_bar {
	unsigned index;             /* 0-5, 6 = expansion ROM */
	uint64_t start, size_bytes;
	bool is_io, is_64bit, prefetch, unassigned;
};

struct iommu_acs_hop {
	char bdf[PCI_ADDR_STRLEN];
	char role[24];              /* "root port", "downstream port", "function" */
	bool read;                  /* config space was readable */
	bool conventional;          /* conventional PCI: no ACS exists */
	bool has_acs;
	uint16_t acs_ctrl;
	bool isolates;              /* SV, RR, CR, UF enabled (kernel's REQ_ACS_FLAGS) */
};

struct iommu_device {
	struct pci_dev_info info;
	char name[256];             /* "Vendor Device" from pci.ids */
	char class_name[96];
	bool config_read;
	struct pci_config_info cfg;
	struct iommu_bar bars[7];
	size_t n_bars;
	char reset_method[128];      /* sysfs reset_method, "" when absent */
	bool reset_method_known;
	bool has_reset_file;
	int sriov_total_vfs, sriov_num_vfs;  /* -1 when not SR-IOV capable */
	struct iommu_acs_hop acs_path[8];
	size_t n_acs_path;
	struct iommu_dev_usage usage;
	/* decision */
	size_t *peers;              /* indices into report->devices, same group */
	size_t n_peers;
	bool group_viable;
	enum iommu_verdict verdict;
	struct strlist reasons;
	struct strlist must_go_along;
};

struct iommu_group_info {
	int id;
	char type[16];              /* default domain type: DMA, DMA-FQ, identity */
	size_t *members;            /* indices into report->devices */
	size_t n_members;
};

struct iommu_check_options {
	uint64_t memory_bytes;      /* --memory; 0 when not given */
	const struct pci_addr *bdfs;/* devices asked about (may be none) */
	size_t n_bdfs;
};

struct iommu_report {
	struct iommu_check_result *checks;
	size_t n_checks;
	struct iommu_device *devices;   /* every PCI function, by address */
	size_t n_devices;
	struct iommu_group_info *groups;
	size_t n_groups;
	size_t *asked;                  /* indices of the devices asked about */
	size_t n_asked;
	bool ready;
	/* host facts the NFD labels and summaries use */
	bool iommu_on, intremap_on, vfio_ready;
};

/* Builds the whole report. -errno only for what makes a report impossible
 * (no memory, an unreadable root); anything the host does not show becomes a
 * check with status unknown. A BDF asked about that does not exist: -ENODEV
 * with *bad_bdf set to its index. */
int iommu_report_build(const struct host_root *root,
		       const struct iommu_check_options *opts,
		       struct iommu_report *report, size_t *bad_bdf);
void iommu_report_free(struct iommu_report *report);

/* PCI names through libpci's pci_lookup_name with the root's pci.ids
 * (usr/share/misc/pci.ids, opened through the host root). */
struct iommu_names;
struct iommu_names *iommu_names_open(const struct host_root *root);
void iommu_names_lookup(struct iommu_names *names, const struct pci_dev_info *dev,
			char *name, size_t name_size, char *cls, size_t cls_size);
void iommu_names_close(struct iommu_names *names);

/* The host checks, one table (host_checks.c). */
struct iommu_host_ctx;
struct iommu_host_check {
	const char *id;
	void (*run)(const struct iommu_host_ctx *ctx, struct iommu_check_result *res);
};
extern const struct iommu_host_check iommu_host_checks[];
extern const size_t iommu_host_checks_count;

/* ---- writers ------------------------------------------------------------- */
struct iommu_output_options {
	bool color;
	bool groups_only;
	bool verbose;
};
int iommu_report_write_text(FILE *out, const struct iommu_report *r,
			    const struct iommu_output_options *o);
int iommu_report_write_json(FILE *out, const struct iommu_report *r,
			    const struct iommu_output_options *o);
int iommu_report_write_nfd(FILE *out, const struct iommu_report *r);

/* The program (iommu-check and `passvm check` share it). */
int iommu_check_main(int argc, char **argv, const char *program);

#endif
