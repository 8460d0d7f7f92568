// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The host checks, one table. Each reads through the host root, fills one
 * result (status, summary, evidence, fix) and never fails as a function:
 * what cannot be read becomes status "unknown", saying why ("needs root").
 * The IOMMU is decided from the ACPI tables and /sys/class/iommu, never from
 * the CPU vendor (an AMD CPU can sit under an Intel IOMMU: LAB.md, and
 * virt-host-validate's mistake there).
 */
#include "iommu_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define GRUB_HOWTO "(Debian: add it to GRUB_CMDLINE_LINUX in /etc/default/grub, " \
		   "run update-grub, reboot)"

__attribute__((format(printf, 3, 4)))
static void set(struct iommu_check_result *res, enum iommu_status st, const char *fmt, ...)
{
	va_list ap;
	res->status = st;
	va_start(ap, fmt);
	vsnprintf(res->summary, sizeof(res->summary), fmt, ap);
	va_end(ap);
	iommu_sanitize(res->summary);
}

__attribute__((format(printf, 2, 3)))
static void fix(struct iommu_check_result *res, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(res->fix, sizeof(res->fix), fmt, ap);
	va_end(ap);
	iommu_sanitize(res->fix);
}

static bool exists(const struct iommu_host_ctx *ctx, const char *path)
{
	return host_root_exists(ctx->root, path);
}

static bool module_loaded(const struct iommu_host_ctx *ctx, const char *name)
{
	char path[128];
	snprintf(path, sizeof(path), "sys/module/%s", name);
	return exists(ctx, path);
}

/* The kernel parameters that matter here, as one evidence line. */
static void cmdline_evidence(const struct iommu_host_ctx *ctx, struct iommu_check_result *res,
			     const char *const *keys, size_t n)
{
	char line[512] = "";
	size_t len = 0;
	if (!ctx->cmdline) {
		strlist_addf(&res->evidence, "/proc/cmdline: %s", iommu_err_text(ctx->cmdline_err));
		return;
	}
	for (size_t i = 0; i < n; i++) {
		bool found;
		const char *v = kcmdline_get(ctx->cmdline, keys[i], &found);
		if (!found)
			continue;
		int w = snprintf(line + len, sizeof(line) - len, "%s%s%s%s", len ? " " : "",
				 keys[i], v ? "=" : "", v ? v : "");
		if (w > 0 && (size_t)w < sizeof(line) - len)
			len += (size_t)w;
	}
	strlist_addf(&res->evidence, "kernel command line: %s", len ? line
		     : "none of the IOMMU parameters");
}

/* ---- cpu_virtualization -------------------------------------------------- */
static void check_cpu(const struct iommu_host_ctx *ctx, struct iommu_check_result *res)
{
	const struct cpuinfo *c = ctx->cpu;
	if (!c) {
		set(res, IOMMU_UNKNOWN, "/proc/cpuinfo: %s", iommu_err_text(ctx->cpu_err));
		return;
	}
	strlist_addf(&res->evidence, "/proc/cpuinfo: vendor %s, %s%s",
		     c->vendor[0] ? c->vendor : "unknown",
		     c->vmx ? "flag vmx" : c->svm ? "flag svm" : "no vmx or svm flag",
		     c->hypervisor ? ", flag hypervisor (this host is itself a VM)" : "");
	const char *mod = c->svm ? "kvm_amd" : "kvm_intel";
	if (c->vmx || c->svm)
		strlist_addf(&res->evidence, "%s is %sloaded", mod,
			     module_loaded(ctx, mod) ? "" : "not ");
	if (c->vmx) {
		set(res, IOMMU_PASS, "Intel VT-x (vmx) is enabled");
		return;
	}
	if (c->svm) {
		set(res, IOMMU_PASS, "AMD-V (svm) is enabled");
		return;
	}
	/* Linux clears the vmx flag when firmware locked VT-x off in
	 * IA32_FEAT_CTL (arch/x86/kernel/cpu/feat_ctl.c, "VMX (outside TXT)
	 * disabled by BIOS"); kvm_amd reports SVM disabled in MSR_VM_CR. */
	/* /dev/kvm only appears once a KVM backend initialised (kvm_init()
	 * from kvm_intel, kvm_amd or PVM), so its presence is enough even for
	 * a user who may not open it. */
	if ((ctx->facts->present && ctx->facts->kvm_open == 0) || exists(ctx, "dev/kvm")) {
		set(res, IOMMU_WARN, "no VT-x/AMD-V flag, yet /dev/kvm exists (a paravirtual "
		    "KVM backend such as PVM, or a hypervisor hiding the flag)");
		fix(res, "nothing to do for KVM itself; device passthrough still needs an IOMMU "
		    "the kernel runs (see iommu_enabled)");
		return;
	}
	set(res, IOMMU_FAIL, "no VT-x/AMD-V in the CPU flags: disabled by firmware or absent");
	if (c->hypervisor)
		fix(res, "this host is a VM: enable nested virtualization in the hypervisor below "
		    "it (e.g. kvm_intel nested=1, -cpu host)");
	else
		fix(res, "enable Intel VT-x / AMD SVM in the firmware setup (the kernel hides the "
		    "flag when firmware has locked it off)");
}

/* ---- kvm_device ------------------------------------------------------------ */
static void check_kvm(const struct iommu_host_ctx *ctx, struct iommu_check_result *res)
{
	const struct iommu_host_facts *f = ctx->facts;
	bool node = exists(ctx, "dev/kvm");
	strlist_addf(&res->evidence, "/dev/kvm %s", node ? "exists" : "is absent");
	if (!f->present) {
		set(res, IOMMU_UNKNOWN, "the tree has no %s (only --snapshot records the KVM "
		    "ioctl)", IOMMU_FACTS_PATH);
		return;
	}
	if (f->kvm_open == 0) {
		strlist_addf(&res->evidence, "KVM_GET_API_VERSION: %d", f->kvm_api_version);
		set(res, IOMMU_PASS, "/dev/kvm opens, KVM API version %d", f->kvm_api_version);
		return;
	}
	strlist_addf(&res->evidence, "open(/dev/kvm): %s", strerror(-f->kvm_open));
	if (iommu_err_is_perm(f->kvm_open)) {
		set(res, IOMMU_UNKNOWN, "/dev/kvm: needs root (or membership of group kvm)");
		fix(res, "run as root, or add the user to group kvm (adduser USER kvm)");
	} else if (f->kvm_open == -ENOENT) {
		set(res, IOMMU_FAIL, "no /dev/kvm: the KVM module is not loaded");
		fix(res, "modprobe kvm_intel (Intel) or kvm_amd (AMD); if that fails, see "
		    "cpu_virtualization");
	} else if (f->kvm_open == -EPROTO) {
		set(res, IOMMU_FAIL, "/dev/kvm answers an API version other than 12");
	} else {
		set(res, IOMMU_FAIL, "/dev/kvm does not open: %s", strerror(-f->kvm_open));
		fix(res, "check the kernel log (dmesg | grep -i kvm)");
	}
}

/* ---- iommu_firmware -------------------------------------------------------- */
static void table_evidence(const struct iommu_host_ctx *ctx, struct iommu_check_result *res,
			   const char *sig)
{
	char path[64];
	uint8_t *buf = malloc(65536);
	if (!buf)
		return;
	snprintf(path, sizeof(path), "sys/firmware/acpi/tables/%s", sig);
	ssize_t n = iommu_read_binary(ctx->root, path, buf, 65536);
	struct acpi_iommu_table t;
	if (n < 0) {
		strlist_addf(&res->evidence, "ACPI %s table present (contents: %s)", sig,
			     iommu_err_text((int)n));
	} else if ((strcmp(sig, "DMAR") == 0 ? acpi_dmar_parse(buf, (size_t)n, &t)
		    : acpi_ivrs_parse(buf, (size_t)n, &t)) < 0) {
		strlist_addf(&res->evidence, "ACPI %s table present but malformed (%zd bytes)",
			     sig, n);
	} else if (strcmp(sig, "DMAR") == 0) {
		strlist_addf(&res->evidence, "ACPI DMAR: %u remapping unit(s), %u-bit host "
			     "address width, INTR_REMAP flag %s, %u RMRR region(s)", t.units,
			     t.host_address_width, t.flags & 1 ? "set" : "clear", t.rmrr);
	} else {
		strlist_addf(&res->evidence, "ACPI IVRS: %u IOMMU block(s), IVinfo 0x%08x",
			     t.units, t.ivinfo);
	}
	free(buf);
}

static void check_firmware(const struct iommu_host_ctx *ctx, struct iommu_check_result *res)
{
	bool dmar = exists(ctx, "sys/firmware/acpi/tables/DMAR");
	bool ivrs = exists(ctx, "sys/firmware/acpi/tables/IVRS");
	char **units = NULL;
	size_t n = 0;
	(void)host_root_list_dir(ctx->root, "sys/class/iommu", &units, &n);
	if (dmar)
		table_evidence(ctx, res, "DMAR");
	if (ivrs)
		table_evidence(ctx, res, "IVRS");
	if (!dmar && !ivrs)
		strlist_addf(&res->evidence, "no DMAR or IVRS in /sys/firmware/acpi/tables");
	if (dmar && ivrs)
		set(res, IOMMU_PASS, "firmware describes Intel VT-d (DMAR) and AMD-Vi (IVRS) "
		    "IOMMUs");
	else if (dmar)
		set(res, IOMMU_PASS, "firmware describes an Intel VT-d IOMMU (ACPI DMAR)");
	else if (ivrs)
		set(res, IOMMU_PASS, "firmware describes an AMD-Vi IOMMU (ACPI IVRS)");
	else if (n)
		set(res, IOMMU_PASS, "no ACPI IOMMU table, but the kernel registered %zu IOMMU "
		    "unit(s) (virtio-iommu or device tree)", n);
	else {
		set(res, IOMMU_FAIL, "firmware describes no IOMMU (no ACPI DMAR or IVRS table)");
		fix(res, "enable VT-d (Intel) or AMD-Vi/IOMMU (AMD) in the firmware setup; in a "
		    "VM, give it a virtual IOMMU (QEMU: -device intel-iommu,intremap=on with "
		    "-M q35,kernel-irqchip=split); then intel_iommu=on on the kernel command "
		    "line for Intel");
	}
	strv_free(units, n);
}

/* ---- iommu_enabled ------------------------------------------------------------ */
static const char *const iommu_params[] = {
	"intel_iommu", "amd_iommu", "iommu", "iommu.passthrough", "iommu.strict",
	"intremap", "vfio_iommu_type1.allow_unsafe_interrupts",
};

static const char *unit_driver(const struct iommu_host_ctx *ctx, const char *unit)
{
	char path[128];
	snprintf(path, sizeof(path), "sys/class/iommu/%s/intel-iommu", unit);
	if (exists(ctx, path))
		return "intel-iommu";
	snprintf(path, sizeof(path), "sys/class/iommu/%s/amd-iommu", unit);
	if (exists(ctx, path))
		return "amd-iommu";
	return "other";
}

static void domain_types(const struct iommu_report *r, struct iommu_check_result *res)
{
	char line[256] = "";
	size_t len = 0;
	bool done[64] = { false };
	for (size_t i = 0; i < r->n_groups && i < ARRAY_SIZE(done); i++) {
		if (done[i])
			continue;
		size_t count = 0;
		for (size_t k = i; k < r->n_groups && k < ARRAY_SIZE(done); k++)
			if (!done[k] && strcmp(r->groups[k].type, r->groups[i].type) == 0) {
				done[k] = true;
				count++;
			}
		int w = snprintf(line + len, sizeof(line) - len, "%s%zu %s", len ? ", " : "",
				 count, r->groups[i].type[0] ? r->groups[i].type : "(no type file)");
		if (w > 0 && (size_t)w < sizeof(line) - len)
			len += (size_t)w;
	}
	if (len)
		strlist_addf(&res->evidence, "default domain types: %s%s", line,
			     r->n_groups > ARRAY_SIZE(done) ? " (first 64 groups)" : "");
}

static void check_enabled(const struct iommu_host_ctx *ctx, struct iommu_check_result *res)
{
	struct iommu_report *r = ctx->report;
	char **units = NULL;
	size_t n = 0;
	char list[256] = "";
	size_t len = 0;
	const char *driver = NULL;
	(void)host_root_list_dir(ctx->root, "sys/class/iommu", &units, &n);
	for (size_t i = 0; i < n; i++) {
		driver = unit_driver(ctx, units[i]);
		int w = snprintf(list + len, sizeof(list) - len, "%s%s (%s)", i ? ", " : "",
				 units[i], driver);
		if (w > 0 && (size_t)w < sizeof(list) - len)
			len += (size_t)w;
	}
	strlist_addf(&res->evidence, "/sys/class/iommu: %s", n ? list : "empty");
	size_t grouped = 0;
	for (size_t i = 0; i < r->n_devices; i++)
		grouped += r->devices[i].info.iommu_group >= 0;
	strlist_addf(&res->evidence, "/sys/kernel/iommu_groups: %zu group(s), %zu of %zu PCI "
		     "function(s) in a group", r->n_groups, grouped, r->n_devices);
	domain_types(r, res);
	cmdline_evidence(ctx, res, iommu_params, ARRAY_SIZE(iommu_params));
	strv_free(units, n);

	const struct kcmdline *cl = ctx->cmdline;
	bool pt = cl && (kcmdline_has_item(cl, "iommu", "pt") ||
			 kcmdline_has_item(cl, "iommu.passthrough", "1"));
	if (n && r->n_groups) {
		r->iommu_on = true;
		set(res, IOMMU_PASS, "the kernel runs the IOMMU (%s): %zu group(s)%s",
		    driver ? driver : "", r->n_groups,
		    pt ? "; iommu=pt: host devices use identity domains (fine for VFIO)" : "");
		return;
	}
	if (r->n_groups) {
		r->iommu_on = true;
		set(res, IOMMU_PASS, "IOMMU groups exist (%zu), no unit in /sys/class/iommu",
		    r->n_groups);
		return;
	}
	set(res, IOMMU_FAIL, "the kernel runs no IOMMU: no IOMMU groups");
	bool dmar = exists(ctx, "sys/firmware/acpi/tables/DMAR");
	bool ivrs = exists(ctx, "sys/firmware/acpi/tables/IVRS");
	if (cl && kcmdline_has_item(cl, "intel_iommu", "off"))
		fix(res, "remove intel_iommu=off from the kernel command line " GRUB_HOWTO);
	else if (cl && kcmdline_has_item(cl, "amd_iommu", "off"))
		fix(res, "remove amd_iommu=off from the kernel command line " GRUB_HOWTO);
	else if (cl && kcmdline_has_item(cl, "iommu", "off"))
		fix(res, "remove iommu=off from the kernel command line " GRUB_HOWTO);
	else if (dmar)
		fix(res, "add intel_iommu=on to the kernel command line " GRUB_HOWTO);
	else if (ivrs)
		fix(res, "AMD-Vi is on by default: check the kernel command line for "
		    "amd_iommu= and the kernel log (dmesg | grep AMD-Vi)");
	else
		fix(res, "enable the IOMMU in firmware (see iommu_firmware), then intel_iommu=on "
		    "on the kernel command line for Intel " GRUB_HOWTO);
}

/* ---- interrupt_remapping ----------------------------------------------------- */
/* Intel VT-d spec 11.4.3: Extended Capability Register bit 3, IR. */
#define VTD_ECAP_IR (1ull << 3)

static void intel_ir_support(const struct iommu_host_ctx *ctx, struct iommu_check_result *res,
			     int *supported)
{
	char **units = NULL;
	size_t n = 0;
	(void)host_root_list_dir(ctx->root, "sys/class/iommu", &units, &n);
	for (size_t i = 0; i < n; i++) {
		char path[256], text[64];
		uint64_t ecap;
		snprintf(path, sizeof(path), "sys/class/iommu/%s/intel-iommu/ecap", units[i]);
		ssize_t r = host_root_read(ctx->root, path, text, sizeof(text));
		if (r == -ENOENT)
			continue;
		char hex[70];
		snprintf(hex, sizeof(hex), "0x%s", text);
		if (r < 0 || parse_u64(hex, &ecap) < 0) {
			strlist_addf(&res->evidence, "%s ecap: %s", units[i],
				     r < 0 ? iommu_err_text((int)r) : "unreadable");
			continue;
		}
		bool ir = ecap & VTD_ECAP_IR;
		strlist_addf(&res->evidence, "%s ecap 0x%s: IR (bit 3) %s", units[i], text,
			     ir ? "supported" : "not supported");
		if (*supported != 0)
			*supported = ir;
	}
	strv_free(units, n);
}

/* AMD IOMMUs remap interrupts architecturally (AMD IOMMU spec 2.2.5); the
 * kernel turns it off with amd_iommu_intr=legacy... or intremap=off. The
 * Extended Feature Register is shown as evidence. */
static void amd_ir_evidence(const struct iommu_host_ctx *ctx, struct iommu_check_result *res)
{
	char **units = NULL;
	size_t n = 0;
	(void)host_root_list_dir(ctx->root, "sys/class/iommu", &units, &n);
	for (size_t i = 0; i < n; i++) {
		char path[256], text[64];
		snprintf(path, sizeof(path), "sys/class/iommu/%s/amd-iommu/features", units[i]);
		if (host_root_read(ctx->root, path, text, sizeof(text)) > 0)
			strlist_addf(&res->evidence, "%s (AMD-Vi) extended features (EFR[:EFR2]) %s", units[i],
				     text);
	}
	strv_free(units, n);
}

/* /proc/interrupts: chips named "IR-..." (IR-IO-APIC, IR-PCI-MSI) are
 * routed through the remapping table (arch/x86/kernel/apic/msi.c). */
static int interrupts_remapped(const struct iommu_host_ctx *ctx, struct iommu_check_result *res)
{
	int err;
	char *text = iommu_read_text(ctx->root, "proc/interrupts", 1 << 20, &err);
	if (!text) {
		strlist_addf(&res->evidence, "/proc/interrupts: %s", iommu_err_text(err));
		return -1;
	}
	size_t ir = 0, plain = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		if (strstr(line, " IR-"))
			ir++;
		else if (strstr(line, "-MSI") || strstr(line, "IO-APIC"))
			plain++;
	}
	free(text);
	strlist_addf(&res->evidence, "/proc/interrupts: %zu remapped (IR-) and %zu direct "
		     "MSI/IO-APIC line(s)", ir, plain);
	return ir > 0;
}

static void check_intremap(const struct iommu_host_ctx *ctx, struct iommu_check_result *res)
{
	int hw = -1; /* -1 unknown */
	char text[16];
	intel_ir_support(ctx, res, &hw);
	amd_ir_evidence(ctx, res);
	int active = interrupts_remapped(ctx, res);
	static const char *const keys[] = { "intremap", "intel_iommu", "amd_iommu_intr",
					    "nox2apic" };
	cmdline_evidence(ctx, res, keys, ARRAY_SIZE(keys));
	ssize_t ur = host_root_read(ctx->root,
				    "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts",
				    text, sizeof(text));
	bool unsafe = ur > 0 && (text[0] == 'Y' || text[0] == '1');
	if (ur >= 0)
		strlist_addf(&res->evidence, "vfio_iommu_type1 allow_unsafe_interrupts=%s", text);
	bool off_cmdline = ctx->cmdline && kcmdline_has_item(ctx->cmdline, "intremap", "off");
	struct iommu_report *r = ctx->report;

	if (active > 0 || (active < 0 && hw == 1 && ctx->cmdline && !off_cmdline &&
			   r->iommu_on)) {
		r->intremap_on = true;
		if (unsafe) {
			set(res, IOMMU_WARN, "interrupt remapping is on, but VFIO's "
			    "allow_unsafe_interrupts is set: turn it off");
			fix(res, "remove vfio_iommu_type1 allow_unsafe_interrupts=1 (modprobe.d or "
			    "kernel command line); it is not needed here");
		} else {
			set(res, IOMMU_PASS, "interrupt remapping is on%s", active > 0 ? ""
			    : " (IR supported and not disabled; /proc/interrupts unreadable)");
		}
		return;
	}
	if (active < 0 && hw < 0) {
		set(res, IOMMU_UNKNOWN, "interrupt remapping state could not be read");
		return;
	}
	if (!r->iommu_on) {
		set(res, IOMMU_FAIL, "no IOMMU runs, so no interrupt remapping");
		fix(res, "see iommu_enabled");
		return;
	}
	if (unsafe) {
		set(res, IOMMU_WARN, "UNSAFE: interrupt remapping is off and VFIO's "
		    "allow_unsafe_interrupts is set: a guest can forge interrupts (MSI "
		    "writes) to the host");
		fix(res, "enable interrupt remapping (see below) and drop allow_unsafe_interrupts");
		return;
	}
	set(res, IOMMU_FAIL, "interrupt remapping is off: VFIO refuses to attach devices "
	    "(VFIO_SET_IOMMU fails with EPERM)");
	if (off_cmdline)
		fix(res, "remove intremap=off from the kernel command line " GRUB_HOWTO);
	else if (hw == 1)
		fix(res, "the IOMMU supports it but the kernel did not enable it: check dmesg "
		    "for DMAR-IR / x2apic messages and remove nox2apic or intremap= options");
	else
		fix(res, "the IOMMU lacks interrupt remapping: enable it in firmware (in QEMU: "
		    "-device intel-iommu,intremap=on with -M q35,kernel-irqchip=split); as a "
		    "last resort, and unsafe, vfio_iommu_type1.allow_unsafe_interrupts=1");
}

/* ---- vfio_modules ------------------------------------------------------------- */
static const struct {
	const char *name;     /* as /sys/module names it */
	const char *file;     /* module file name */
	const char *path;     /* where Linux builds it, under kernel/ */
} vfio_modules[] = {
	{ "vfio", "vfio.ko", "drivers/vfio/vfio.ko" },
	{ "vfio_iommu_type1", "vfio_iommu_type1.ko", "drivers/vfio/vfio_iommu_type1.ko" },
	{ "vfio_pci", "vfio-pci.ko", "drivers/vfio/pci/vfio-pci.ko" },
};

/* Without modules.dep (a kernel unpacked from its .deb, LAB.md): the file
 * itself, compressed as distributions ship it or not. */
static bool module_file_exists(const struct iommu_host_ctx *ctx, const char *release,
			       const char *path)
{
	static const char *const suffixes[] = { "", ".xz", ".zst", ".gz" };
	for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++) {
		char full[512];
		snprintf(full, sizeof(full), "lib/modules/%s/kernel/%s%s", release, path, suffixes[i]);
		if (exists(ctx, full))
			return true;
	}
	return false;
}

static bool list_has_module(const char *list, const char *file)
{
	/* Lines like "kernel/drivers/vfio/pci/vfio-pci.ko.xz: ...". */
	size_t fl = strlen(file);
	for (const char *p = list; p && *p;) {
		const char *end = p + strcspn(p, ":\n");
		const char *base = end;
		while (base > p && base[-1] != '/')
			base--;
		if ((size_t)(end - base) >= fl && strncmp(base, file, fl) == 0 &&
		    (base[fl] == ':' || base[fl] == '\n' || base[fl] == '.' || base[fl] == '\0'))
			return true;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return false;
}

static void check_vfio(const struct iommu_host_ctx *ctx, struct iommu_check_result *res)
{
	char release[128], path[256];
	char *builtin = NULL, *dep = NULL;
	int err;
	ssize_t rr = host_root_read(ctx->root, "proc/sys/kernel/osrelease", release,
				    sizeof(release));
	if (rr > 0) {
		snprintf(path, sizeof(path), "lib/modules/%s/modules.builtin", release);
		builtin = iommu_read_text(ctx->root, path, 1 << 20, &err);
		snprintf(path, sizeof(path), "lib/modules/%s/modules.dep", release);
		dep = iommu_read_text(ctx->root, path, 4 << 20, &err);
		strlist_addf(&res->evidence, "kernel %s: modules.builtin %s, modules.dep %s",
			     release, builtin ? "read" : "absent", dep ? "read" : "absent");
	}
	size_t loaded = 0, missing = 0;
	char state[256] = "";
	size_t len = 0;
	for (size_t i = 0; i < ARRAY_SIZE(vfio_modules); i++) {
		const char *st;
		if (builtin && list_has_module(builtin, vfio_modules[i].file))
			st = "built in", loaded++;
		else if (module_loaded(ctx, vfio_modules[i].name))
			st = "loaded", loaded++;
		else if ((dep && list_has_module(dep, vfio_modules[i].file)) ||
			 (rr > 0 && module_file_exists(ctx, release, vfio_modules[i].path)))
			st = "available, not loaded";
		else if (dep)
			st = "missing", missing++;
		else
			st = "not loaded";
		int w = snprintf(state + len, sizeof(state) - len, "%s%s %s", i ? ", " : "",
				 vfio_modules[i].name, st);
		if (w > 0 && (size_t)w < sizeof(state) - len)
			len += (size_t)w;
	}
	free(builtin);
	free(dep);
	strlist_addf(&res->evidence, "modules: %s", state);
	bool container = exists(ctx, "dev/vfio/vfio");
	bool iommufd = exists(ctx, "dev/iommu");
	bool cdev = exists(ctx, "dev/vfio/devices");
	strlist_addf(&res->evidence, "/dev/vfio/vfio %s; iommufd (/dev/iommu) %s; VFIO device "
		     "cdev (/dev/vfio/devices) %s", container ? "present" : "absent",
		     iommufd ? "present" : "absent", cdev ? "present" : "absent");
	if (loaded == ARRAY_SIZE(vfio_modules) && (container || iommufd)) {
		ctx->report->vfio_ready = true;
		set(res, IOMMU_PASS, "VFIO is ready (%s)", container ? "/dev/vfio/vfio"
		    : "iommufd");
		return;
	}
	if (missing) {
		set(res, IOMMU_FAIL, "this kernel has no VFIO PCI support");
		fix(res, "use a kernel built with CONFIG_VFIO and CONFIG_VFIO_PCI (Debian's "
		    "linux-image-amd64 has them)");
		return;
	}
	set(res, IOMMU_WARN, "VFIO modules are not loaded");
	fix(res, "modprobe vfio-pci vfio_iommu_type1; to load them at boot: printf "
	    "'vfio\\nvfio_iommu_type1\\nvfio-pci\\n' > /etc/modules-load.d/vfio.conf");
}

/* ---- memlock --------------------------------------------------------------------- */
/* CAP_IPC_LOCK (bit 14) lifts RLIMIT_MEMLOCK for VFIO's pinning
 * (drivers/vfio/vfio_iommu_type1.c vfio_lock_acct). */
#define CAP_IPC_LOCK_BIT 14

static int cap_ipc_lock(const struct iommu_host_ctx *ctx)
{
	int err;
	char *text = iommu_read_text(ctx->root, "proc/self/status", 65536, &err);
	if (!text)
		return -1;
	char *cap = strstr(text, "\nCapEff:");
	unsigned long long v = 0;
	int r = cap && sscanf(cap, "\nCapEff: %llx", &v) == 1 ? (int)((v >> CAP_IPC_LOCK_BIT) & 1)
		: -1;
	free(text);
	return r;
}

static void check_memlock(const struct iommu_host_ctx *ctx, struct iommu_check_result *res)
{
	int err;
	uint64_t soft, hard;
	char s1[32], s2[32], want[32];
	char *text = iommu_read_text(ctx->root, "proc/self/limits", 65536, &err);
	if (!text || proc_limits_memlock(text, &soft, &hard) < 0) {
		free(text);
		set(res, IOMMU_UNKNOWN, "/proc/self/limits: %s", text ? "no memlock line"
		    : iommu_err_text(err));
		return;
	}
	free(text);
	if (soft == UINT64_MAX)
		snprintf(s1, sizeof(s1), "unlimited");
	else
		iommu_format_size(soft, s1, sizeof(s1));
	if (hard == UINT64_MAX)
		snprintf(s2, sizeof(s2), "unlimited");
	else
		iommu_format_size(hard, s2, sizeof(s2));
	int cap = cap_ipc_lock(ctx);
	strlist_addf(&res->evidence, "RLIMIT_MEMLOCK soft %s, hard %s; CAP_IPC_LOCK %s", s1, s2,
		     cap < 0 ? "unknown" : cap ? "held" : "not held");
	uint64_t mem = ctx->opts->memory_bytes;
	if (!mem) {
		set(res, IOMMU_PASS, "memlock limit %s%s (give --memory SIZE to compare)", s1,
		    cap == 1 ? ", and CAP_IPC_LOCK lifts it" : "");
		return;
	}
	iommu_format_size(mem, want, sizeof(want));
	if (cap == 1 || soft == UINT64_MAX || soft >= mem) {
		set(res, IOMMU_PASS, "VFIO can pin %s of guest memory (%s)", want,
		    cap == 1 ? "CAP_IPC_LOCK" : "memlock limit");
		return;
	}
	set(res, IOMMU_FAIL, "memlock limit %s is below the guest's %s: VFIO pins all guest "
	    "memory, so mapping it would fail", s1, want);
	fix(res, "raise the limit for the user running the VM: `ulimit -l` (hard limit %s), "
	    "/etc/security/limits.conf \"USER hard memlock KIB\", systemd LimitMEMLOCK=, or run "
	    "as root", s2);
}

/* ---- hugepages -------------------------------------------------------------------- */
static void check_hugepages(const struct iommu_host_ctx *ctx, struct iommu_check_result *res)
{
	char **sizes = NULL;
	size_t n = 0;
	int r = host_root_list_dir(ctx->root, "sys/kernel/mm/hugepages", &sizes, &n);
	if (r < 0) {
		set(res, IOMMU_UNKNOWN, "/sys/kernel/mm/hugepages: %s", iommu_err_text(r));
		return;
	}
	uint64_t best_free = 0, total_pages = 0;
	for (size_t i = 0; i < n; i++) {
		char path[256], sz[32];
		uint64_t kib, nr = 0, fr = 0;
		if (sscanf(sizes[i], "hugepages-%" SCNu64 "kB", &kib) != 1)
			continue;
		snprintf(path, sizeof(path), "sys/kernel/mm/hugepages/%s/nr_hugepages", sizes[i]);
		(void)host_root_read_u64(ctx->root, path, &nr);
		snprintf(path, sizeof(path), "sys/kernel/mm/hugepages/%s/free_hugepages", sizes[i]);
		(void)host_root_read_u64(ctx->root, path, &fr);
		iommu_format_size(kib << 10, sz, sizeof(sz));
		strlist_addf(&res->evidence, "%s pages: %" PRIu64 " configured, %" PRIu64 " free",
			     sz, nr, fr);
		total_pages += nr;
		if (fr * (kib << 10) > best_free)
			best_free = fr * (kib << 10);
	}
	strv_free(sizes, n);
	uint64_t mem = ctx->opts->memory_bytes;
	if (!total_pages) {
		set(res, IOMMU_PASS, "no huge pages configured (optional: guest memory then uses "
		    "normal pages)");
		return;
	}
	char fs[32], ms[32];
	iommu_format_size(best_free, fs, sizeof(fs));
	if (mem && best_free < mem) {
		iommu_format_size(mem, ms, sizeof(ms));
		set(res, IOMMU_WARN, "huge pages configured, but at most %s free in one size, "
		    "less than the guest's %s", fs, ms);
		fix(res, "reserve more: echo N > /sys/kernel/mm/hugepages/hugepages-2048kB/"
		    "nr_hugepages (or hugepages= on the kernel command line)");
		return;
	}
	set(res, IOMMU_PASS, "huge pages configured, %s free in the largest pool", fs);
}

/* /proc/iomem names the root buses' windows: a window above 4 GiB is
 * what firmware's "Above 4G Decoding" gives. Addresses need root. */
static void iomem_evidence(const struct iommu_host_ctx *ctx, struct iommu_check_result *res)
{
	int err;
	char *text = iommu_read_text(ctx->root, "proc/iomem", 1 << 20, &err);
	struct iomem_windows w;
	if (!text) {
		strlist_addf(&res->evidence, "/proc/iomem: %s", iommu_err_text(err));
		return;
	}
	err = iomem_pci_windows(text, &w);
	free(text);
	if (err < 0) {
		strlist_addf(&res->evidence, "/proc/iomem: %s", err == -EACCES
			     ? "addresses need root" : "no resources listed");
		return;
	}
	char lo[32], hi[32];
	iommu_format_size(w.below_4g_bytes, lo, sizeof(lo));
	iommu_format_size(w.above_4g_bytes, hi, sizeof(hi));
	strlist_addf(&res->evidence, "/proc/iomem: %u root bus window(s), %s below 4 GiB, %s "
		     "above%s", w.count, lo, hi, w.above_4g_bytes ? " (64-bit MMIO decoding on)"
		     : " (no 64-bit MMIO window)");
}

/* ---- mmio_space --------------------------------------------------------------------- */
static void check_mmio(const struct iommu_host_ctx *ctx, struct iommu_check_result *res)
{
	const struct iommu_report *r = ctx->report;
	uint64_t largest = 0, highest_end = 0;
	size_t unassigned = 0, above4g = 0;
	const char *largest_bdf = NULL;
	for (size_t i = 0; i < r->n_devices; i++) {
		const struct iommu_device *d = &r->devices[i];
		for (size_t b = 0; b < d->n_bars; b++) {
			const struct iommu_bar *bar = &d->bars[b];
			if (bar->is_io || bar->index == PCI_ROM_RESOURCE)
				continue;
			if (bar->unassigned) {
				unassigned++;
				continue;
			}
			if (bar->start >= (1ull << 32))
				above4g++;
			if (bar->start + bar->size_bytes > highest_end)
				highest_end = bar->start + bar->size_bytes;
			if (bar->size_bytes > largest) {
				largest = bar->size_bytes;
				largest_bdf = d->info.bdf;
			}
		}
	}
	char ls[32];
	iommu_format_size(largest, ls, sizeof(ls));
	if (ctx->cpu && ctx->cpu->phys_bits)
		strlist_addf(&res->evidence, "CPU physical address bits: %u (%llu GiB addressable)",
			     ctx->cpu->phys_bits, ctx->cpu->phys_bits >= 30 && ctx->cpu->phys_bits < 64
			     ? 1ull << (ctx->cpu->phys_bits - 30) : 0ull);
	iomem_evidence(ctx, res);
	strlist_addf(&res->evidence, "%zu memory BAR(s) above 4 GiB, highest BAR end 0x%llx",
		     above4g, (unsigned long long)highest_end);
	if (largest_bdf)
		strlist_addf(&res->evidence, "largest BAR: %s on %s", ls, largest_bdf);
	if (unassigned) {
		set(res, IOMMU_WARN, "%zu memory BAR(s) have no address: firmware ran out of MMIO "
		    "space", unassigned);
		fix(res, "enable \"Above 4G Decoding\" (and \"Resizable BAR\" if wanted) in the "
		    "firmware setup, or try pci=realloc on the kernel command line");
		return;
	}
	set(res, IOMMU_PASS, "every BAR has an address%s", above4g
	    ? "; 64-bit MMIO above 4 GiB is in use (above-4G decoding on)" : "");
}

const struct iommu_host_check iommu_host_checks[] = {
	{ "cpu_virtualization", check_cpu },
	{ "kvm_device", check_kvm },
	{ "iommu_firmware", check_firmware },
	{ "iommu_enabled", check_enabled },
	{ "interrupt_remapping", check_intremap },
	{ "vfio_modules", check_vfio },
	{ "memlock", check_memlock },
	{ "hugepages", check_hugepages },
	{ "mmio_space", check_mmio },
};
const size_t iommu_host_checks_count = ARRAY_SIZE(iommu_host_checks);
