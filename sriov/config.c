// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sriov.conf: the declarative SR-IOV configuration (format in docs/sriov.md).
 *
 *   # comment
 *   pf path=pci0000:00/05.0/00.0     a PF by a stable identity: path=, serial=,
 *       vfs 2                         mac= (or bdf=, which can move)
 *       bind vfio                     vfio | host | none   (default host)
 *       nvme-queues 2                 NVMe VFs: resources (default: a fair share)
 *       nvme-interrupts 1
 *       vf 0 mac=02:00:00:00:00:01 vlan=100 trust=on
 *
 * One statement a line; indentation is free. Every error names file:line.
 * Untrusted input (it is fuzzed: tests/fuzz/fuzz_sriov_conf.c): lines are
 * bounded, numbers range-checked, nothing is kept from a line that failed.
 */
#include "sriov.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINE 1024
#define MAX_WORDS 16
#define MAX_PFS 64

static const char *const id_kinds[] = {
	[SRIOV_ID_PATH] = "path",
	[SRIOV_ID_BDF] = "bdf",
	[SRIOV_ID_SERIAL] = "serial",
	[SRIOV_ID_MAC] = "mac",
};

const char *sriov_id_kind_name(enum sriov_id_kind kind)
{
	return (size_t)kind < ARRAY_SIZE(id_kinds) ? id_kinds[kind] : "?";
}

struct parser {
	const char *name;
	int line;
	char *err;
	size_t err_size;
	struct sriov_conf *conf;
};

static int fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct parser *p, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->err_size, "%s:%d: %s", p->name, p->line, msg);
	return -EINVAL;
}

static size_t split(char *line, char **words)
{
	size_t n = 0;
	char *save = NULL;
	for (char *w = strtok_r(line, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (n == MAX_WORDS)
			return MAX_WORDS + 1;
		words[n++] = w;
	}
	return n;
}

static bool printable_word(const char *s)
{
	for (; *s; s++)
		if (!isgraph((unsigned char)*s))
			return false;
	return true;
}

static int parse_identity(struct parser *p, const char *arg, struct sriov_conf_pf *pf)
{
	const char *eq = strchr(arg, '=');
	if (!eq)
		return fail(p, "pf wants KIND=VALUE (path=, serial=, mac=, bdf=), got '%s'", arg);
	size_t kl = (size_t)(eq - arg);
	const char *val = eq + 1;
	bool known = false;
	for (size_t i = 0; i < ARRAY_SIZE(id_kinds); i++) {
		if (strlen(id_kinds[i]) == kl && strncmp(arg, id_kinds[i], kl) == 0) {
			pf->id_kind = (enum sriov_id_kind)i;
			known = true;
		}
	}
	if (!known)
		return fail(p, "unknown PF identity '%.*s' (path, serial, mac, bdf)", (int)kl, arg);
	if (!*val || strlen(val) >= sizeof(pf->id) || !printable_word(val))
		return fail(p, "%s= wants a value of 1 to %zu printable characters",
			    id_kinds[pf->id_kind], sizeof(pf->id) - 1);
	struct pci_addr a;
	struct sriov_net_vf tmp = { 0 };
	char why[128];
	if (pf->id_kind == SRIOV_ID_BDF && pci_addr_parse(val, &a) < 0)
		return fail(p, "bdf=%s is not a PCI address (DDDD:BB:DD.F)", val);
	if (pf->id_kind == SRIOV_ID_MAC && sriov_net_parse_setting(&tmp, "mac", val, why, sizeof(why)) < 0)
		return fail(p, "%s", why);
	if (pf->id_kind == SRIOV_ID_BDF) {
		pci_addr_format(&a, pf->id); /* one spelling, for matching */
	} else if (pf->id_kind == SRIOV_ID_MAC) {
		sriov_format_mac(tmp.mac, pf->id);
	} else {
		snprintf(pf->id, sizeof(pf->id), "%s", val);
	}
	for (size_t i = 0; i < p->conf->count; i++) {
		const struct sriov_conf_pf *o = &p->conf->pfs[i];
		if (o->id_kind == pf->id_kind && strcmp(o->id, pf->id) == 0)
			return fail(p, "pf %s=%s is already configured at line %d",
				    id_kinds[pf->id_kind], pf->id, o->line);
	}
	return 0;
}

static int parse_u32(struct parser *p, const char *key, const char *text, uint32_t min,
		     uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	if (parse_u64(text, &v) < 0 || v < min || v > max)
		return fail(p, "%s wants a whole number from %u to %u, got '%s'", key, min, max, text);
	*out = (uint32_t)v;
	return 0;
}

static int parse_vf(struct parser *p, struct sriov_conf_pf *pf, char **w, size_t n)
{
	uint32_t index = 0;
	int r = parse_u32(p, "vf", w[1], 0, SRIOV_MAX_VFS - 1, &index);
	if (r < 0)
		return r;
	if (n < 3)
		return fail(p, "vf %u wants at least one KEY=VALUE", index);
	for (size_t i = 0; i < pf->nvf; i++)
		if (pf->vf[i].net.vf == index)
			return fail(p, "vf %u is already configured at line %d", index,
				    pf->vf[i].line);
	struct sriov_conf_vf vf = { .net = { .vf = index }, .line = p->line };
	for (size_t i = 2; i < n; i++) {
		char *eq = strchr(w[i], '=');
		char why[160];
		if (!eq)
			return fail(p, "'%s': expected KEY=VALUE", w[i]);
		*eq = '\0';
		unsigned key = sriov_net_key_parse(w[i]);
		if (key && (vf.net.has & key))
			return fail(p, "%s given twice", w[i]);
		if (sriov_net_parse_setting(&vf.net, w[i], eq + 1, why, sizeof(why)) < 0)
			return fail(p, "%s", why);
	}
	char why[160];
	if (sriov_net_check(&vf.net, why, sizeof(why)) < 0)
		return fail(p, "%s", why);
	struct sriov_conf_vf *grown = realloc(pf->vf, (pf->nvf + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	pf->vf = grown;
	pf->vf[pf->nvf++] = vf;
	return 0;
}

/* A finished PF section: what only the whole section can tell. */
static int check_pf(struct parser *p, const struct sriov_conf_pf *pf, bool has_vfs)
{
	int line = p->line;
	p->line = pf->line;
	int r = 0;
	if (!has_vfs)
		r = fail(p, "pf %s=%s has no 'vfs COUNT'", id_kinds[pf->id_kind], pf->id);
	for (size_t i = 0; r == 0 && i < pf->nvf; i++) {
		if (pf->vf[i].net.vf >= pf->vfs) {
			p->line = pf->vf[i].line;
			r = fail(p, "vf %u is beyond the %u VF(s) of this pf (vfs %u)",
				 pf->vf[i].net.vf, pf->vfs, pf->vfs);
		}
	}
	if (r == 0)
		p->line = line;
	return r;
}

static int parse_line(struct parser *p, char *line, bool *has_vfs)
{
	char *words[MAX_WORDS];
	char *hash = strchr(line, '#');
	if (hash)
		*hash = '\0';
	size_t n = split(line, words);
	if (n == 0)
		return 0;
	if (n > MAX_WORDS)
		return fail(p, "too many words (at most %d)", MAX_WORDS);
	const char *key = words[0];
	struct sriov_conf *c = p->conf;
	struct sriov_conf_pf *pf = c->count ? &c->pfs[c->count - 1] : NULL;

	if (strcmp(key, "pf") == 0) {
		if (n != 2)
			return fail(p, "usage: pf path=...|serial=...|mac=...|bdf=...");
		if (pf) {
			int r = check_pf(p, pf, *has_vfs);
			if (r < 0)
				return r;
		}
		if (c->count == MAX_PFS)
			return fail(p, "more than %d pf sections", MAX_PFS);
		struct sriov_conf_pf next = { .line = p->line, .bind = SRIOV_BIND_HOST };
		int r = parse_identity(p, words[1], &next);
		if (r < 0)
			return r;
		struct sriov_conf_pf *grown = realloc(c->pfs, (c->count + 1) * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		c->pfs = grown;
		c->pfs[c->count++] = next;
		*has_vfs = false;
		return 0;
	}
	if (!pf)
		return fail(p, "'%s' outside a pf section (start one with 'pf path=...')", key);
	if (strcmp(key, "vf") == 0)
		return n >= 2 ? parse_vf(p, pf, words, n) : fail(p, "usage: vf INDEX KEY=VALUE...");
	if (n != 2)
		return fail(p, "usage: %s VALUE", key);
	if (strcmp(key, "vfs") == 0) {
		*has_vfs = true;
		return parse_u32(p, "vfs", words[1], 0, SRIOV_MAX_VFS, &pf->vfs);
	}
	if (strcmp(key, "bind") == 0) {
		if (sriov_bind_parse(words[1], &pf->bind) < 0)
			return fail(p, "bind wants vfio, host or none, got '%s'", words[1]);
		return 0;
	}
	if (strcmp(key, "nvme-queues") == 0)
		return parse_u32(p, key, words[1], 2, 0xffff, &pf->prov.nvme_queues);
	if (strcmp(key, "nvme-interrupts") == 0)
		return parse_u32(p, key, words[1], 1, 0xffff, &pf->prov.nvme_interrupts);
	return fail(p, "unknown key '%s' (vfs, bind, nvme-queues, nvme-interrupts, vf)", key);
}

int sriov_conf_parse(const char *text, size_t len, const char *name,
		     struct sriov_conf *conf, char *err, size_t err_size)
{
	struct parser p = { .name = name, .err = err, .err_size = err_size, .conf = conf };
	bool has_vfs = false;
	memset(conf, 0, sizeof(*conf));
	err[0] = '\0';
	size_t pos = 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - (text + pos)) : len - pos;
		char line[MAX_LINE];
		p.line++;
		if (l >= sizeof(line))
			return fail(&p, "line longer than %d bytes", MAX_LINE - 1);
		memcpy(line, text + pos, l);
		line[l] = '\0';
		if (memchr(line, '\0', l))
			return fail(&p, "NUL byte in the file");
		if (l && line[l - 1] == '\r')
			line[l - 1] = '\0';
		int r = parse_line(&p, line, &has_vfs);
		if (r < 0)
			return r;
		pos += l + 1;
	}
	if (conf->count) {
		p.line++;
		return check_pf(&p, &conf->pfs[conf->count - 1], has_vfs);
	}
	return 0;
}

void sriov_conf_free(struct sriov_conf *conf)
{
	for (size_t i = 0; i < conf->count; i++)
		free(conf->pfs[i].vf);
	free(conf->pfs);
	conf->pfs = NULL;
	conf->count = 0;
}
