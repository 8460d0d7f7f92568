// SPDX-License-Identifier: GPL-2.0-or-later
/* The report for people: host checks, the groups table, the devices, and a
 * one-line verdict. Columns are sized to their content; colour only when
 * asked (the program asks when stdout is a terminal and --no-color is off). */
#include "iommu_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <pci/header.h>
#include <string.h>

struct text {
	FILE *out;
	bool color;
};

static const char *status_color(enum iommu_status s)
{
	static const char *c[] = { "\033[32m", "\033[33m", "\033[1;31m", "\033[2m" };
	return (unsigned)s < ARRAY_SIZE(c) ? c[s] : "";
}

static const char *verdict_color(enum iommu_verdict v)
{
	static const char *c[] = { "\033[32m", "\033[33m", "\033[1;31m" };
	return (unsigned)v < ARRAY_SIZE(c) ? c[v] : "";
}

/* A word padded to width, coloured without breaking the alignment. */
static void word(const struct text *t, const char *color, const char *w, int width)
{
	if (t->color)
		fprintf(t->out, "%s%s\033[0m%*s", color, w, width - (int)strlen(w), "");
	else
		fprintf(t->out, "%-*s", width, w);
}

static void upper(char *dst, const char *src, size_t size)
{
	size_t i = 0;
	for (; src[i] && i + 1 < size; i++)
		dst[i] = (char)(src[i] >= 'a' && src[i] <= 'z' ? src[i] - 32 : src[i]);
	dst[i] = '\0';
}

static void write_checks(const struct text *t, const struct iommu_report *r)
{
	int idw = 0;
	for (size_t i = 0; i < r->n_checks; i++)
		if ((int)strlen(r->checks[i].id) > idw)
			idw = (int)strlen(r->checks[i].id);
	fprintf(t->out, "Host\n");
	for (size_t i = 0; i < r->n_checks; i++) {
		const struct iommu_check_result *c = &r->checks[i];
		char st[16];
		upper(st, iommu_status_name(c->status), sizeof(st));
		fputs("  ", t->out);
		word(t, status_color(c->status), st, 8);
		fprintf(t->out, "%-*s  %s\n", idw, c->id, c->summary);
		for (size_t e = 0; e < c->evidence.n; e++)
			fprintf(t->out, "  %8s%*s  %s\n", "", idw, "", c->evidence.v[e]);
		if (c->fix[0])
			fprintf(t->out, "  %8s%*s  fix: %s\n", "", idw, "", c->fix);
	}
}

static const char *driver_or_dash(const struct iommu_device *d)
{
	return d->info.driver[0] ? d->info.driver : "-";
}

static void write_groups(const struct text *t, const struct iommu_report *r)
{
	int dw = 6;
	for (size_t i = 0; i < r->n_devices; i++)
		if ((int)strlen(driver_or_dash(&r->devices[i])) > dw)
			dw = (int)strlen(driver_or_dash(&r->devices[i]));
	fprintf(t->out, "IOMMU groups\n");
	if (!r->n_groups) {
		fprintf(t->out, "  none: the kernel runs no IOMMU\n");
		return;
	}
	fprintf(t->out, "  %-6s %-9s %-12s  %-9s  %-*s  %s\n", "GROUP", "TYPE", "DEVICE", "ID",
		dw, "DRIVER", "NAME");
	for (size_t i = 0; i < r->n_groups; i++) {
		const struct iommu_group_info *g = &r->groups[i];
		for (size_t k = 0; k < g->n_members; k++) {
			const struct iommu_device *d = &r->devices[g->members[k]];
			char gid[16];
			snprintf(gid, sizeof(gid), "%d", g->id);
			fprintf(t->out, "  %-6s %-9s %-12s  %04x:%04x  %-*s  %s [%s]\n",
				k ? "" : gid, k ? "" : (g->type[0] ? g->type : "-"), d->info.bdf,
				d->info.vendor, d->info.device, dw, driver_or_dash(d), d->name,
				d->class_name);
		}
	}
}

static void write_device_summary(const struct text *t, const struct iommu_report *r)
{
	int dw = 6;
	for (size_t i = 0; i < r->n_devices; i++)
		if ((int)strlen(driver_or_dash(&r->devices[i])) > dw)
			dw = (int)strlen(driver_or_dash(&r->devices[i]));
	fprintf(t->out, "Devices\n");
	fprintf(t->out, "  %-12s  %-7s %-5s  %-*s  %s\n", "DEVICE", "VERDICT", "GROUP", dw,
		"DRIVER", "NAME; FIRST REASON");
	for (size_t i = 0; i < r->n_devices; i++) {
		const struct iommu_device *d = &r->devices[i];
		char gid[16];
		snprintf(gid, sizeof(gid), d->info.iommu_group >= 0 ? "%d" : "-",
			 d->info.iommu_group);
		fprintf(t->out, "  %-12s  ", d->info.bdf);
		word(t, verdict_color(d->verdict), iommu_verdict_name(d->verdict), 7);
		fprintf(t->out, " %-5s  %-*s  %s", gid, dw, driver_or_dash(d), d->name);
		if (d->reasons.n == 1)
			fprintf(t->out, "; %s", d->reasons.v[0]);
		else if (d->reasons.n > 1)
			fprintf(t->out, "; %s (+%zu more)", d->reasons.v[0], d->reasons.n - 1);
		fputc('\n', t->out);
	}
}

static void field(const struct text *t, const char *name)
{
	fprintf(t->out, "  %-14s", name);
}

static void write_bars(const struct text *t, const struct iommu_device *d)
{
	bool any = false;
	char size[32];
	for (size_t i = 0; i < d->n_bars; i++) {
		const struct iommu_bar *b = &d->bars[i];
		if (b->index == PCI_ROM_RESOURCE)
			continue;
		iommu_format_size(b->size_bytes, size, sizeof(size));
		field(t, any ? "" : "BARs");
		any = true;
		fprintf(t->out, "%u: %s %s", b->index, size, b->is_io ? "I/O" : "memory");
		if (!b->is_io)
			fprintf(t->out, " %s%s", b->is_64bit ? "64-bit" : "32-bit",
				b->prefetch ? " prefetchable" : "");
		if (b->unassigned)
			fprintf(t->out, ", NOT ASSIGNED");
		else
			fprintf(t->out, " at 0x%" PRIx64, b->start);
		if (b->is_64bit && b->size_bytes >= (4ull << 30))
			fprintf(t->out, " (large)");
		fputc('\n', t->out);
	}
	if (!any) {
		field(t, "BARs");
		fprintf(t->out, "none\n");
	}
	for (size_t i = 0; i < d->n_bars; i++)
		if (d->bars[i].index == PCI_ROM_RESOURCE) {
			iommu_format_size(d->bars[i].size_bytes, size, sizeof(size));
			field(t, "ROM");
			fprintf(t->out, "%s\n", size);
		}
	for (unsigned i = 0; d->cfg.rebar && i < d->cfg.rebar_count; i++) {
		char cur[32];
		uint32_t m = d->cfg.rebar_bars[i].supported_mask;
		iommu_format_size(1ull << (20 + d->cfg.rebar_bars[i].current_log2_mib), cur,
				  sizeof(cur));
		field(t, i ? "" : "Resizable BAR");
		fprintf(t->out, "BAR %u now %s", d->cfg.rebar_bars[i].bar, cur);
		if (m) {
			char lo[32], hi[32];
			iommu_format_size(1ull << (20 + __builtin_ctz(m)), lo, sizeof(lo));
			iommu_format_size(1ull << (20 + 31 - __builtin_clz(m)), hi, sizeof(hi));
			fprintf(t->out, ", supports %s to %s", lo, hi);
		}
		fputc('\n', t->out);
	}
}

static void write_caps(const struct text *t, const struct iommu_device *d)
{
	const struct pci_config_info *c = &d->cfg;
	bool caps = d->config_read && c->caps_read;
	field(t, "reset");
	if (d->reset_method_known)
		fprintf(t->out, "%s", d->reset_method[0] ? d->reset_method : "none");
	else
		fprintf(t->out, "%s", d->has_reset_file ? "available (no reset_method file)"
			: "none");
	if (caps)
		fprintf(t->out, "; FLR capability: %s", c->flr || c->af_flr ? "yes" : "no");
	fputc('\n', t->out);
	field(t, "interrupts");
	if (!caps)
		fprintf(t->out, "unknown (config space: %s)", d->config_read
			? "needs root beyond 64 bytes" : "unreadable");
	else if (!c->msi && !c->msix)
		fprintf(t->out, "INTx only");
	if (caps && c->msi)
		fprintf(t->out, "MSI %u vector%s%s", c->msi_vectors, c->msi_vectors == 1 ? "" : "s",
			c->msi_64bit ? " 64-bit" : "");
	if (caps && c->msix)
		fprintf(t->out, "%sMSI-X %u vector%s, table in BAR %u", c->msi ? "; " : "",
			c->msix_vectors, c->msix_vectors == 1 ? "" : "s", c->msix_table_bar);
	fputc('\n', t->out);
	if (d->sriov_total_vfs >= 0) {
		field(t, "SR-IOV");
		fprintf(t->out, "%d of %d VFs enabled\n", d->sriov_num_vfs, d->sriov_total_vfs);
	}
	if (d->info.is_virtfn) {
		char pf[PCI_ADDR_STRLEN];
		pci_addr_format(&d->info.physfn, pf);
		field(t, "SR-IOV");
		fprintf(t->out, "virtual function of %s\n", pf);
	}
}

static void write_acs(const struct text *t, const struct iommu_device *d)
{
	for (size_t i = 0; i < d->n_acs_path; i++) {
		const struct iommu_acs_hop *h = &d->acs_path[i];
		field(t, i ? "" : "ACS path");
		fprintf(t->out, "%s %s: ", h->bdf, h->role);
		if (!h->read)
			fprintf(t->out, "unknown (extended config space needs root)\n");
		else if (h->conventional)
			fprintf(t->out, "conventional PCI, no ACS\n");
		else if (!h->has_acs)
			fprintf(t->out, "no ACS capability\n");
		else
			fprintf(t->out, "ACS control 0x%04x (%s)\n", h->acs_ctrl,
				h->isolates ? "isolates" : "does not isolate");
	}
	if (!d->n_acs_path) {
		field(t, "ACS path");
		fprintf(t->out, "no ports between the device and the root complex\n");
	}
}

static void write_device_detail(const struct text *t, const struct iommu_report *r,
				const struct iommu_device *d)
{
	fprintf(t->out, "\n%s  %s [%s]\n", d->info.bdf, d->name, d->class_name);
	field(t, "ids");
	fprintf(t->out, "%04x:%04x, subsystem %04x:%04x, class %06x\n", d->info.vendor,
		d->info.device, d->info.subsystem_vendor, d->info.subsystem_device,
		d->info.class_code);
	field(t, "driver");
	fprintf(t->out, "%s%s%s\n", driver_or_dash(d), d->info.driver_override[0]
		? ", driver_override " : "", d->info.driver_override);
	field(t, "IOMMU group");
	if (d->info.iommu_group < 0)
		fprintf(t->out, "none\n");
	else if (d->n_peers)
		fprintf(t->out, "%d, %s\n", d->info.iommu_group, d->group_viable
			? "every member free for vfio-pci now"
			: "members on host drivers now (passvm vfio bind takes the group)");
	else
		fprintf(t->out, "%d, alone%s%s%s\n", d->info.iommu_group,
			d->group_viable ? "" : ", on host driver ",
			d->group_viable ? "" : d->info.driver,
			d->group_viable ? ", free for vfio-pci now" : " now");
	for (size_t i = 0; i < d->n_peers; i++) {
		const struct iommu_device *p = &r->devices[d->peers[i]];
		field(t, i ? "" : "peers");
		fprintf(t->out, "%s %s (%s)%s\n", p->info.bdf, p->name, driver_or_dash(p),
			pci_dev_is_bridge(&p->info) ? ", bridge: stays with the host" : "");
	}
	write_acs(t, d);
	write_bars(t, d);
	write_caps(t, d);
	const struct iommu_dev_usage *u = &d->usage;
	bool used = false;
	for (size_t i = 0; i < u->mounts.n; i++, used = true) {
		field(t, used ? "" : "host use");
		fprintf(t->out, "%s\n", u->mounts.v[i]);
	}
	for (size_t i = 0; i < u->netifs.n; i++, used = true) {
		field(t, used ? "" : "host use");
		fprintf(t->out, "%s\n", u->netifs.v[i]);
	}
	for (size_t i = 0; i < u->netifs_idle.n; i++, used = true) {
		field(t, used ? "" : "host use");
		fprintf(t->out, "%s\n", u->netifs_idle.v[i]);
	}
	if (u->boot_vga || u->console) {
		field(t, used ? "" : "host use");
		used = true;
		fprintf(t->out, "%s%s%s\n", u->boot_vga ? "boot VGA" : "",
			u->boot_vga && u->console ? ", " : "",
			u->console ? u->console_what : "");
	}
	if (!used) {
		field(t, "host use");
		fprintf(t->out, "none seen\n");
	}
	field(t, "verdict");
	char v[8];
	upper(v, iommu_verdict_name(d->verdict), sizeof(v));
	word(t, verdict_color(d->verdict), v, 0);
	fputc('\n', t->out);
	for (size_t i = 0; i < d->reasons.n; i++) {
		field(t, "");
		fprintf(t->out, "- %s\n", d->reasons.v[i]);
	}
	if (d->must_go_along.n) {
		field(t, "must go along");
		for (size_t i = 0; i < d->must_go_along.n; i++)
			fprintf(t->out, "%s%s", i ? " " : "", d->must_go_along.v[i]);
		fputc('\n', t->out);
	}
}

static void write_verdict(const struct text *t, const struct iommu_report *r)
{
	size_t fails = 0, warns = 0, unknown = 0;
	char failed[512] = "";
	size_t len = 0;
	for (size_t i = 0; i < r->n_checks; i++) {
		const struct iommu_check_result *c = &r->checks[i];
		if (c->status == IOMMU_FAIL) {
			fails++;
			int w = snprintf(failed + len, sizeof(failed) - len, "%s%s", len ? ", " : "", c->id);
			if (w > 0 && (size_t)w < sizeof(failed) - len)
				len += (size_t)w;
		}
		warns += c->status == IOMMU_WARN;
		unknown += c->status == IOMMU_UNKNOWN;
	}
	for (size_t i = 0; i < r->n_asked; i++) {
		const struct iommu_device *d = &r->devices[r->asked[i]];
		if (d->verdict != IOMMU_VERDICT_FAIL)
			continue;
		fails++;
		int w = snprintf(failed + len, sizeof(failed) - len, "%s%s", len ? ", " : "",
				 d->info.bdf);
		if (w > 0 && (size_t)w < sizeof(failed) - len)
			len += (size_t)w;
	}
	fputc('\n', t->out);
	if (r->ready)
		word(t, status_color(IOMMU_PASS), "READY", 0);
	else
		word(t, status_color(IOMMU_FAIL), "NOT READY", 0);
	if (!r->ready)
		fprintf(t->out, ": %s failed", failed);
	else
		fprintf(t->out, ": %zu host checks pass", r->n_checks - warns - unknown);
	fprintf(t->out, "; %zu warning%s, %zu unknown\n", warns, warns == 1 ? "" : "s", unknown);
}

int iommu_report_write_text(FILE *out, const struct iommu_report *r,
			    const struct iommu_output_options *o)
{
	struct text t = { out, o->color };
	if (o->groups_only) {
		write_groups(&t, r);
		return ferror(out) ? -EIO : 0;
	}
	write_checks(&t, r);
	fputc('\n', out);
	write_groups(&t, r);
	fputc('\n', out);
	write_device_summary(&t, r);
	for (size_t i = 0; i < r->n_asked; i++)
		write_device_detail(&t, r, &r->devices[r->asked[i]]);
	write_verdict(&t, r);
	return ferror(out) ? -EIO : 0;
}
