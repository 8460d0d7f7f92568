// SPDX-License-Identifier: GPL-2.0-or-later
/* The report as JSON (schema: docs/iommu-check.md, "JSON"). */
#include "iommu_internal.h"
#include "json.h"

#include <errno.h>
#include <pci/header.h>
#include <string.h>

#define JSON_SCHEMA_VERSION 1

static void kv_str(struct json *j, const char *k, const char *v)
{
	json_key(j, k);
	json_string(j, v);
}

static void kv_hex(struct json *j, const char *k, unsigned v, int digits)
{
	char buf[16];
	snprintf(buf, sizeof(buf), "%0*x", digits, v);
	kv_str(j, k, buf);
}

static void kv_bool(struct json *j, const char *k, bool v)
{
	json_key(j, k);
	json_bool(j, v);
}

static void kv_uint(struct json *j, const char *k, unsigned long long v)
{
	json_key(j, k);
	json_uint(j, v);
}

static void strlist_json(struct json *j, const char *k, const struct strlist *l)
{
	json_key(j, k);
	json_array_begin(j);
	for (size_t i = 0; i < l->n; i++)
		json_string(j, l->v[i]);
	json_array_end(j);
}

static void ident(struct json *j, const struct iommu_device *d)
{
	kv_str(j, "bdf", d->info.bdf);
	kv_hex(j, "vendor", d->info.vendor, 4);
	kv_hex(j, "device", d->info.device, 4);
	kv_hex(j, "class", d->info.class_code, 6);
	kv_str(j, "name", d->name);
	kv_str(j, "class_name", d->class_name);
	json_key(j, "driver");
	if (d->info.driver[0])
		json_string(j, d->info.driver);
	else
		json_null(j);
}

static void write_checks(struct json *j, const struct iommu_report *r)
{
	json_key(j, "checks");
	json_array_begin(j);
	for (size_t i = 0; i < r->n_checks; i++) {
		const struct iommu_check_result *c = &r->checks[i];
		json_object_begin(j);
		kv_str(j, "id", c->id);
		kv_str(j, "status", iommu_status_name(c->status));
		kv_str(j, "summary", c->summary);
		strlist_json(j, "evidence", &c->evidence);
		json_key(j, "fix");
		if (c->fix[0])
			json_string(j, c->fix);
		else
			json_null(j);
		json_object_end(j);
	}
	json_array_end(j);
}

static void write_groups(struct json *j, const struct iommu_report *r)
{
	json_key(j, "groups");
	json_array_begin(j);
	for (size_t i = 0; i < r->n_groups; i++) {
		const struct iommu_group_info *g = &r->groups[i];
		json_object_begin(j);
		json_key(j, "id");
		json_int(j, g->id);
		json_key(j, "type");
		if (g->type[0])
			json_string(j, g->type);
		else
			json_null(j);
		json_key(j, "devices");
		json_array_begin(j);
		for (size_t k = 0; k < g->n_members; k++) {
			json_object_begin(j);
			ident(j, &r->devices[g->members[k]]);
			json_object_end(j);
		}
		json_array_end(j);
		json_object_end(j);
	}
	json_array_end(j);
}

static void write_bars(struct json *j, const struct iommu_device *d)
{
	json_key(j, "bars");
	json_array_begin(j);
	for (size_t i = 0; i < d->n_bars; i++) {
		const struct iommu_bar *b = &d->bars[i];
		if (b->index == PCI_ROM_RESOURCE)
			continue;
		json_object_begin(j);
		kv_uint(j, "index", b->index);
		kv_str(j, "type", b->is_io ? "io" : "mem");
		kv_uint(j, "start", b->start);
		kv_uint(j, "size", b->size_bytes);
		kv_bool(j, "64bit", b->is_64bit);
		kv_bool(j, "prefetchable", b->prefetch);
		kv_bool(j, "assigned", !b->unassigned);
		json_object_end(j);
	}
	json_array_end(j);
	json_key(j, "rom_size");
	for (size_t i = 0; i < d->n_bars; i++)
		if (d->bars[i].index == PCI_ROM_RESOURCE) {
			json_uint(j, d->bars[i].size_bytes);
			return;
		}
	json_null(j);
}

static void write_caps(struct json *j, const struct iommu_device *d)
{
	const struct pci_config_info *c = &d->cfg;
	bool caps = d->config_read && c->caps_read;
	json_key(j, "config_readable");
	json_uint(j, d->config_read ? c->len : 0);
	json_key(j, "msi");
	if (!caps) {
		json_null(j);
	} else {
		json_object_begin(j);
		kv_bool(j, "present", c->msi);
		kv_uint(j, "vectors", c->msi ? c->msi_vectors : 0);
		kv_bool(j, "64bit", c->msi_64bit);
		json_object_end(j);
	}
	json_key(j, "msix");
	if (!caps) {
		json_null(j);
	} else {
		json_object_begin(j);
		kv_bool(j, "present", c->msix);
		kv_uint(j, "vectors", c->msix ? c->msix_vectors : 0);
		kv_uint(j, "table_bar", c->msix_table_bar);
		json_object_end(j);
	}
	json_key(j, "reset");
	json_object_begin(j);
	json_key(j, "methods");
	if (d->reset_method_known)
		json_string(j, d->reset_method);
	else
		json_null(j);
	kv_bool(j, "reset_file", d->has_reset_file);
	json_key(j, "flr");
	if (caps)
		json_bool(j, c->flr || c->af_flr);
	else
		json_null(j);
	json_object_end(j);
	json_key(j, "sriov");
	if (d->sriov_total_vfs < 0) {
		json_null(j);
	} else {
		json_object_begin(j);
		kv_uint(j, "total_vfs", (unsigned)d->sriov_total_vfs);
		kv_uint(j, "num_vfs", (unsigned)d->sriov_num_vfs);
		json_object_end(j);
	}
	json_key(j, "resizable_bars");
	json_array_begin(j);
	for (unsigned i = 0; c->rebar && i < c->rebar_count; i++) {
		json_object_begin(j);
		kv_uint(j, "bar", c->rebar_bars[i].bar);
		kv_uint(j, "current_size", 1ull << (20 + c->rebar_bars[i].current_log2_mib));
		json_key(j, "supported_sizes");
		json_array_begin(j);
		for (unsigned b = 0; b < 28; b++)
			if (c->rebar_bars[i].supported_mask & (1u << b))
				json_uint(j, 1ull << (20 + b));
		json_array_end(j);
		json_object_end(j);
	}
	json_array_end(j);
}

static void write_acs(struct json *j, const struct iommu_device *d)
{
	json_key(j, "acs_path");
	json_array_begin(j);
	for (size_t i = 0; i < d->n_acs_path; i++) {
		const struct iommu_acs_hop *h = &d->acs_path[i];
		json_object_begin(j);
		kv_str(j, "bdf", h->bdf);
		kv_str(j, "role", h->role);
		json_key(j, "acs");
		if (h->read)
			json_bool(j, h->has_acs);
		else
			json_null(j);
		json_key(j, "isolates");
		if (h->read)
			json_bool(j, h->isolates);
		else
			json_null(j);
		kv_bool(j, "conventional_pci", h->conventional);
		kv_hex(j, "acs_ctrl", h->acs_ctrl, 4);
		json_object_end(j);
	}
	json_array_end(j);
}

static void write_usage(struct json *j, const struct iommu_device *d)
{
	const struct iommu_dev_usage *u = &d->usage;
	json_key(j, "host_use");
	json_object_begin(j);
	json_key(j, "chipset");
	if (u->chipset)
		json_string(j, u->chipset_what);
	else
		json_null(j);
	kv_bool(j, "boot_vga", u->boot_vga);
	json_key(j, "console");
	if (u->console)
		json_string(j, u->console_what);
	else
		json_null(j);
	strlist_json(j, "mounts", &u->mounts);
	strlist_json(j, "netifs", &u->netifs);
	strlist_json(j, "netifs_idle", &u->netifs_idle);
	json_object_end(j);
}

static void write_devices(struct json *j, const struct iommu_report *r)
{
	json_key(j, "devices");
	json_array_begin(j);
	for (size_t i = 0; i < r->n_devices; i++) {
		const struct iommu_device *d = &r->devices[i];
		json_object_begin(j);
		ident(j, d);
		json_key(j, "group");
		if (d->info.iommu_group >= 0)
			json_int(j, d->info.iommu_group);
		else
			json_null(j);
		kv_str(j, "verdict", iommu_verdict_name(d->verdict));
		strlist_json(j, "reasons", &d->reasons);
		strlist_json(j, "must_go_along", &d->must_go_along);
		kv_bool(j, "group_viable", d->group_viable);
		json_key(j, "physfn");
		if (d->info.is_virtfn) {
			char pf[PCI_ADDR_STRLEN];
			pci_addr_format(&d->info.physfn, pf);
			json_string(j, pf);
		} else {
			json_null(j);
		}
		write_acs(j, d);
		write_bars(j, d);
		write_caps(j, d);
		write_usage(j, d);
		json_object_end(j);
	}
	json_array_end(j);
}

int iommu_report_write_json(FILE *out, const struct iommu_report *r,
			    const struct iommu_output_options *o)
{
	struct json j;
	json_begin(&j, out);
	json_object_begin(&j);
	kv_uint(&j, "schema_version", JSON_SCHEMA_VERSION);
	kv_bool(&j, "ready", r->ready);
	json_key(&j, "asked");
	json_array_begin(&j);
	for (size_t i = 0; i < r->n_asked; i++)
		json_string(&j, r->devices[r->asked[i]].info.bdf);
	json_array_end(&j);
	if (!o->groups_only)
		write_checks(&j, r);
	write_groups(&j, r);
	if (!o->groups_only)
		write_devices(&j, r);
	json_object_end(&j);
	fputc('\n', out);
	return ferror(out) ? -EIO : 0;
}
