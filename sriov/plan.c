// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `apply`: look up each configured PF by its stable identity, read what the
 * host has (sriov_observe), and compute the smallest list of actions that
 * makes it match (sriov_plan, pure, unit-tested). A host that matches gives
 * an empty plan, so a second apply changes nothing.
 */
#include "sriov.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- observing ------------------------------------------------------------ */

static bool pf_matches(const struct host_root *root, const struct sriov_conf_pf *c,
		       const struct sriov_pf *pf)
{
	switch (c->id_kind) {
	case SRIOV_ID_PATH:
		return strcmp(c->id, pf->pci_path) == 0;
	case SRIOV_ID_BDF:
		return strcmp(c->id, pf->info.bdf) == 0;
	case SRIOV_ID_SERIAL:
		return pf->serial[0] && strcmp(c->id, pf->serial) == 0;
	case SRIOV_ID_MAC: {
		/* The permanent address: `address` while addr_assign_type is
		 * 0 (NET_ADDR_PERM, Documentation/ABI/testing/sysfs-class-net). */
		char path[160], mac[32], type[8];
		if (!pf->netdev[0])
			return false;
		snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/net/%s/addr_assign_type",
			 pf->info.bdf, pf->netdev);
		if (host_root_read(root, path, type, sizeof(type)) >= 0 && strcmp(type, "0") != 0)
			return false;
		snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/net/%s/address",
			 pf->info.bdf, pf->netdev);
		return host_root_read(root, path, mac, sizeof(mac)) >= 0 &&
		       strcasecmp(mac, c->id) == 0;
	}
	}
	return false;
}

static void observe_pf(const struct host_root *root, const struct sriov_pf *pf,
		       struct sriov_observed_pf *o)
{
	struct sriov_vf_provision prov[SRIOV_MAX_VFS];
	struct sriov_net_vf net[SRIOV_MAX_VFS];
	size_t nnet = 0;
	o->addr = pf->info.addr;
	snprintf(o->bdf, sizeof(o->bdf), "%s", pf->info.bdf);
	snprintf(o->netdev, sizeof(o->netdev), "%s", pf->netdev);
	o->num_vfs = pf->num_vfs;
	o->total_vfs = pf->total_vfs;
	const struct sriov_provisioner *p = sriov_provisioner_for(pf);
	o->provisionable = p != NULL;
	bool have_prov = p && pf->num_vfs && p->query(root, pf, pf->num_vfs, prov) == 0;
	bool have_net = root->is_real && pf->netdev[0] &&
			sriov_net_query(pf->netdev, net, SRIOV_MAX_VFS, &nnet) == 0;
	o->nvf = 0;
	for (size_t i = 0; i < pf->nvfs; i++) {
		struct sriov_observed_vf *v = &o->vf[o->nvf++];
		v->index = pf->vfs[i].index;
		snprintf(v->bdf, sizeof(v->bdf), "%s", pf->vfs[i].info.bdf);
		snprintf(v->driver, sizeof(v->driver), "%s", pf->vfs[i].info.driver);
		if (have_prov && v->index < pf->num_vfs) {
			v->has_prov = true;
			v->prov = prov[v->index];
		}
		for (size_t k = 0; have_net && k < nnet; k++) {
			if (net[k].vf == v->index) {
				v->has_net = true;
				v->net = net[k];
			}
		}
	}
}

int sriov_observe(const struct host_root *root, const struct sriov_conf *conf,
		  struct sriov_observed_pf *obs)
{
	struct sriov_pf *pfs;
	size_t n;
	int r = sriov_pf_list(root, &pfs, &n);
	if (r < 0)
		return r;
	for (size_t c = 0; c < conf->count; c++) {
		memset(&obs[c], 0, sizeof(obs[c]));
		for (size_t i = 0; i < n; i++) {
			if (!pf_matches(root, &conf->pfs[c], &pfs[i]))
				continue;
			if (obs[c].found++ == 0)
				observe_pf(root, &pfs[i], &obs[c]);
		}
	}
	sriov_pf_list_free(pfs, n);
	return 0;
}

/* ---- planning ------------------------------------------------------------- */

struct plan {
	struct sriov_action *a;
	size_t n;
	int err;
};

static struct sriov_action *add(struct plan *p, enum sriov_action_kind kind, size_t pf,
				unsigned vf, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static struct sriov_action *add(struct plan *p, enum sriov_action_kind kind, size_t pf,
				unsigned vf, const char *fmt, ...)
{
	struct sriov_action *grown = realloc(p->a, (p->n + 1) * sizeof(*grown));
	if (!grown) {
		p->err = -ENOMEM;
		return NULL;
	}
	p->a = grown;
	struct sriov_action *a = &p->a[p->n++];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	a->pf = pf;
	a->vf = vf;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a->text, sizeof(a->text), fmt, ap);
	va_end(ap);
	return a;
}

static bool bind_matches(enum sriov_bind want, const char *driver)
{
	switch (want) {
	case SRIOV_BIND_VFIO:
		return strcmp(driver, "vfio-pci") == 0;
	case SRIOV_BIND_NONE:
		return driver[0] == '\0';
	case SRIOV_BIND_HOST:
		/* A VF no host driver claims stays unbound: that matches. */
		return strcmp(driver, "vfio-pci") != 0;
	}
	return false;
}

static void describe_net(const struct sriov_net_vf *s, char *buf, size_t size)
{
	size_t used = 0;
	char mac[18];
	buf[0] = '\0';
#define PUT(...) used += (size_t)snprintf(buf + used, used < size ? size - used : 0, __VA_ARGS__)
	if (s->has & SRIOV_NET_MAC) {
		sriov_format_mac(s->mac, mac);
		PUT(" mac=%s", mac);
	}
	if (s->has & SRIOV_NET_VLAN)
		PUT(" vlan=%u", s->vlan);
	if (s->has & SRIOV_NET_QOS)
		PUT(" qos=%u", s->qos);
	if (s->has & SRIOV_NET_TRUST)
		PUT(" trust=%s", s->trust ? "on" : "off");
	if (s->has & SRIOV_NET_SPOOFCHK)
		PUT(" spoofchk=%s", s->spoofchk ? "on" : "off");
	if (s->has & SRIOV_NET_LINK)
		PUT(" link=%s", sriov_link_state_name(s->link_state));
	if (s->has & SRIOV_NET_RATE)
		PUT(" rate=%u", s->max_tx_rate);
#undef PUT
}

static void plan_net(struct plan *p, size_t i, const struct sriov_conf_pf *c,
		     const struct sriov_observed_pf *o, bool fresh)
{
	for (size_t k = 0; k < c->nvf; k++) {
		const struct sriov_net_vf *want = &c->vf[k].net;
		const struct sriov_observed_vf *have = NULL;
		for (size_t v = 0; !fresh && v < o->nvf; v++)
			if (o->vf[v].index == want->vf)
				have = &o->vf[v];
		if (have && have->has_net && sriov_net_matches(want, &have->net))
			continue;
		char desc[160];
		describe_net(want, desc, sizeof(desc));
		struct sriov_action *a = add(p, SRIOV_ACT_SET, i, want->vf, "set %s vf %u:%s",
					     o->bdf, want->vf, desc);
		if (a)
			a->net = *want;
	}
}

static bool provisioned(const struct sriov_conf_pf *c, const struct sriov_observed_pf *o)
{
	for (size_t v = 0; v < o->nvf; v++) {
		const struct sriov_observed_vf *vf = &o->vf[v];
		if (!vf->has_prov || !vf->prov.online)
			return false;
		if (c->prov.nvme_queues && vf->prov.queues != c->prov.nvme_queues)
			return false;
		if (c->prov.nvme_interrupts && vf->prov.interrupts != c->prov.nvme_interrupts)
			return false;
	}
	return true;
}

int sriov_plan(const struct sriov_conf *conf, const struct sriov_observed_pf *obs,
	       struct sriov_action **actions, size_t *count)
{
	struct plan p = { 0 };
	for (size_t i = 0; i < conf->count && !p.err; i++) {
		const struct sriov_conf_pf *c = &conf->pfs[i];
		const struct sriov_observed_pf *o = &obs[i];
		const char *kind = sriov_id_kind_name(c->id_kind);
		if (o->found != 1) {
			add(&p, SRIOV_ACT_MISSING, i, 0, "pf %s=%s (line %d): %s", kind, c->id,
			    c->line, o->found ? "matches several PCI functions"
					      : "no such SR-IOV PF on this host");
			continue;
		}
		if (c->vfs > o->total_vfs) {
			add(&p, SRIOV_ACT_TOO_MANY, i, 0, "pf %s=%s (line %d): %u VFs asked, "
			    "%s supports %u", kind, c->id, c->line, c->vfs, o->bdf, o->total_vfs);
			continue;
		}
		if (o->num_vfs != c->vfs) {
			add(&p, SRIOV_ACT_CREATE, i, 0, "create %s %u VF(s) (now %u), bind %s",
			    o->bdf, c->vfs, o->num_vfs, sriov_bind_name(c->bind));
			plan_net(&p, i, c, o, true);
			continue;
		}
		if (o->provisionable && o->nvf && !provisioned(c, o))
			add(&p, SRIOV_ACT_PROVISION, i, 0, "provision the %u VF(s) of %s",
			    c->vfs, o->bdf);
		for (size_t v = 0; v < o->nvf; v++)
			if (!bind_matches(c->bind, o->vf[v].driver))
				add(&p, SRIOV_ACT_BIND, i, o->vf[v].index, "bind %s (vf %u of %s) "
				    "to %s (now %s)", o->vf[v].bdf, o->vf[v].index, o->bdf,
				    sriov_bind_name(c->bind),
				    o->vf[v].driver[0] ? o->vf[v].driver : "no driver");
		plan_net(&p, i, c, o, false);
	}
	if (p.err) {
		free(p.a);
		return p.err;
	}
	*actions = p.a;
	*count = p.n;
	return 0;
}
