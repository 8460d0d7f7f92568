// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The VM configuration model: one table of keys, each with a setter that
 * validates a value and a formatter that writes it back in canonical form.
 * The parser, `passvm create/set` and the writer all go through this table,
 * so a value the CLI accepts is exactly a value the file may hold.
 * Format (docs/cli.md): "key: value" lines, '#' comments, blank lines.
 */
#include "vms.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int why_set(char *why, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int why_set(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (why && size)
		vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int vms_id_parse(const char *text, uint32_t *id)
{
	uint64_t v = 0;
	size_t n = 0;
	if (!text || text[0] < '1' || text[0] > '9')
		return -EINVAL;
	for (; text[n]; n++) {
		if (!isdigit((unsigned char)text[n]) || n >= 9)
			return -EINVAL;
		v = v * 10 + (uint64_t)(text[n] - '0');
	}
	if (v < VMS_ID_MIN || v > VMS_ID_MAX)
		return -ERANGE;
	*id = (uint32_t)v;
	return 0;
}

void vms_config_init(struct vms_config *conf, uint32_t id)
{
	memset(conf, 0, sizeof(*conf));
	conf->id = id;
}

/* Copies text into a fixed field; too long is a bad value, not a cut. */
static int copy_field(char *dst, size_t size, const char *text, const char *what,
		      char *why, size_t why_size)
{
	size_t len = strlen(text);
	if (len >= size)
		return why_set(why, why_size, "%s longer than %zu characters", what, size - 1);
	memcpy(dst, text, len + 1);
	return 0;
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* A DNS label list, as Proxmox requires of a VM name. */
static int set_name(struct vms_config *c, unsigned idx, const char *v, char *why, size_t ws)
{
	size_t len = strlen(v);
	if (len == 0 || len > 63)
		return why_set(why, ws, "name must be 1..63 characters");
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)v[i]) && v[i] != '-' && v[i] != '.')
			return why_set(why, ws, "name may hold only letters, digits, '-' and '.'");
	if (v[0] == '-' || v[0] == '.' || v[len - 1] == '-' || v[len - 1] == '.')
		return why_set(why, ws, "name must start and end with a letter or digit");
	memcpy(c->name, v, len + 1);
	return 0;
}

static int set_memory(struct vms_config *c, unsigned idx, const char *v, char *why, size_t ws)
{
	uint64_t bytes;
	if (parse_size_mib_default(v, &bytes) < 0)
		return why_set(why, ws, "memory '%s' is not a size (MiB, or with K/M/G/T)", v);
	if (bytes % (1u << 20))
		return why_set(why, ws, "memory must be a whole number of MiB");
	/* 16 MiB: below that not even a Linux initramfs boots; 4 TiB: far
	 * above any host passvm targets, so a typo of units is caught. */
	if (bytes < (16ull << 20) || bytes > (4ull << 40))
		return why_set(why, ws, "memory must be 16 MiB..4 TiB");
	c->memory_mib = bytes >> 20;
	return 0;
}

static int set_cores(struct vms_config *c, unsigned idx, const char *v, char *why, size_t ws)
{
	uint64_t n;
	/* 255: the xAPIC IDs the VMM hands out (vmm/ ACPI MADT). */
	if (parse_u64(v, &n) < 0 || n < 1 || n > 255)
		return why_set(why, ws, "cores must be 1..255");
	c->cores = (unsigned)n;
	return 0;
}

static int set_cpu(struct vms_config *c, unsigned idx, const char *v, char *why, size_t ws)
{
	if (strcmp(v, "host") != 0)
		return why_set(why, ws, "cpu must be 'host' (the only model passvm offers)");
	strcpy(c->cpu, v);
	return 0;
}

static int set_ostype(struct vms_config *c, unsigned idx, const char *v, char *why, size_t ws)
{
	if (strcmp(v, "l26") != 0 && strcmp(v, "other") != 0)
		return why_set(why, ws, "ostype must be l26 or other");
	strcpy(c->ostype, v);
	return 0;
}

/* "device[N]" names of the devices a boot order may list. */
static int parse_dev_name(const char *s, size_t len, char *kind, unsigned *idx)
{
	static const char *const kinds[] = { "disk", "net", "hostpci" };
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		size_t kl = strlen(kinds[k]);
		if (len == kl + 1 && strncmp(s, kinds[k], kl) == 0 &&
		    s[kl] >= '0' && s[kl] < '0' + VMS_MAX_DEV) {
			*kind = kinds[k][0];
			*idx = (unsigned)(s[kl] - '0');
			return 0;
		}
	}
	return -EINVAL;
}

static int set_boot(struct vms_config *c, unsigned idx, const char *v, char *why, size_t ws)
{
	if (strncmp(v, "order=", 6) != 0 || !v[6])
		return why_set(why, ws, "boot must be order=DEV[;DEV...] (DEV: diskN, netN, hostpciN)");
	for (const char *p = v + 6;;) {
		size_t len = strcspn(p, ";");
		char kind;
		unsigned n;
		if (parse_dev_name(p, len, &kind, &n) < 0)
			return why_set(why, ws, "boot order entry '%.*s' is not diskN, netN or hostpciN (N 0..%d)",
				       (int)len, p, VMS_MAX_DEV - 1);
		if (!p[len])
			break;
		p += len + 1;
	}
	return copy_field(c->boot, sizeof(c->boot), v, "boot", why, ws);
}

static int set_path(char *dst, size_t size, const char *what, const char *v, char *why, size_t ws)
{
	if (v[0] != '/')
		return why_set(why, ws, "%s must be an absolute path", what);
	if (strchr(v, ','))
		return why_set(why, ws, "%s must not contain ','", what);
	return copy_field(dst, size, v, what, why, ws);
}

static int set_kernel(struct vms_config *c, unsigned idx, const char *v, char *why, size_t ws)
{
	return set_path(c->kernel, sizeof(c->kernel), "kernel", v, why, ws);
}

static int set_initrd(struct vms_config *c, unsigned idx, const char *v, char *why, size_t ws)
{
	return set_path(c->initrd, sizeof(c->initrd), "initrd", v, why, ws);
}

static int set_cmdline(struct vms_config *c, unsigned idx, const char *v, char *why, size_t ws)
{
	return copy_field(c->cmdline, sizeof(c->cmdline), v, "cmdline", why, ws);
}

/* Splits "a,b=c,..." in place; returns the next item or NULL. */
static char *next_item(char **rest)
{
	char *s = *rest;
	if (!s)
		return NULL;
	char *comma = strchr(s, ',');
	if (comma) {
		*comma = '\0';
		*rest = comma + 1;
	} else {
		*rest = NULL;
	}
	return s;
}

/* Linux interface names (dev_valid_name()): 1..15 bytes, no '/', ':', space. */
static bool ifname_valid(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len >= 16 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || *s == '=' || isspace((unsigned char)*s) ||
		    !isgraph((unsigned char)*s))
			return false;
	return true;
}

/* A unicast MAC: multicast bit (bit 0 of the first octet) clear. */
static int mac_canon(const char *s, char out[18])
{
	unsigned b[6];
	char tail;
	if (strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 17; i++) {
		if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char)s[i]))
			return -EINVAL;
	}
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6)
		return -EINVAL;
	if (b[0] & 1)
		return -EADDRNOTAVAIL;
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", b[0] & 0xffu, b[1] & 0xffu,
		 b[2] & 0xffu, b[3] & 0xffu, b[4] & 0xffu, b[5] & 0xffu);
	return 0;
}

static int set_net(struct vms_config *c, unsigned idx, const char *v, char *why, size_t ws)
{
	struct vms_net n = { .set = true };
	char buf[256];
	if (strlen(v) >= sizeof(buf))
		return why_set(why, ws, "net%u value too long", idx);
	strcpy(buf, v);
	char *rest = buf, *item = next_item(&rest);
	if (strcmp(item, "virtio") != 0)
		return why_set(why, ws, "net%u model '%s' unknown (only virtio)", idx, item);
	bool have_tag = false, have_mac = false;
	while ((item = next_item(&rest))) {
		char *eq = strchr(item, '=');
		if (!eq)
			return why_set(why, ws, "net%u option '%s' needs =VALUE", idx, item);
		*eq = '\0';
		const char *val = eq + 1;
		if (strcmp(item, "bridge") == 0 && !n.bridge[0]) {
			if (!ifname_valid(val))
				return why_set(why, ws, "net%u bridge '%s' is not an interface name (1..15 characters, no '/', ':', spaces)", idx, val);
			strcpy(n.bridge, val);
		} else if (strcmp(item, "tag") == 0 && !have_tag) {
			uint64_t t;
			/* 802.1Q: VID 0 means "no VLAN" and 4095 is reserved. */
			if (parse_u64(val, &t) < 0 || t < 1 || t > 4094)
				return why_set(why, ws, "net%u tag '%s' must be 1..4094", idx, val);
			n.tag = (unsigned)t;
			have_tag = true;
		} else if (strcmp(item, "mac") == 0 && !have_mac) {
			int r = mac_canon(val, n.mac);
			if (r == -EADDRNOTAVAIL)
				return why_set(why, ws, "net%u mac '%s' is a multicast address", idx, val);
			if (r < 0)
				return why_set(why, ws, "net%u mac '%s' is not XX:XX:XX:XX:XX:XX", idx, val);
			have_mac = true;
		} else if (strcmp(item, "bridge") == 0 || strcmp(item, "tag") == 0 || strcmp(item, "mac") == 0) {
			return why_set(why, ws, "net%u option '%s' given twice", idx, item);
		} else {
			return why_set(why, ws, "net%u option '%s' unknown (bridge, tag, mac)", idx, item);
		}
	}
	if (!n.bridge[0])
		return why_set(why, ws, "net%u needs bridge=BRIDGE", idx);
	c->net[idx] = n;
	return 0;
}

static int set_disk(struct vms_config *c, unsigned idx, const char *v, char *why, size_t ws)
{
	struct vms_disk d = { .set = true };
	char buf[PATH_MAX + 64];
	if (strlen(v) >= sizeof(buf))
		return why_set(why, ws, "disk%u value too long", idx);
	strcpy(buf, v);
	char *rest = buf, *item = next_item(&rest);
	if (item[0] != '/')
		return why_set(why, ws, "disk%u path '%s' must be absolute", idx, item);
	if (copy_field(d.path, sizeof(d.path), item, "disk path", why, ws) < 0)
		return -EINVAL;
	while ((item = next_item(&rest))) {
		uint64_t bytes;
		if (strncmp(item, "size=", 5) != 0)
			return why_set(why, ws, "disk%u option '%s' unknown (size)", idx, item);
		if (d.size_gib)
			return why_set(why, ws, "disk%u option 'size' given twice", idx);
		/* A bare number is GiB here, as qm's disk sizes are. */
		const char *val = item + 5;
		size_t dl = strspn(val, "0123456789");
		char sz[40];
		if (dl && !val[dl] && dl < 20) {
			snprintf(sz, sizeof(sz), "%sG", val);
			val = sz;
		}
		if (parse_size_mib_default(val, &bytes) < 0 || bytes == 0 ||
		    bytes % (1ull << 30) || bytes > (1ull << 50))
			return why_set(why, ws, "disk%u size '%s' must be 1..1048576 whole GiB", idx, item + 5);
		d.size_gib = bytes >> 30;
	}
	c->disk[idx] = d;
	return 0;
}

static int set_hostpci(struct vms_config *c, unsigned idx, const char *v, char *why, size_t ws)
{
	struct vms_hostpci h = { .set = true, .fallback = VMS_FALLBACK_NONE };
	char buf[128];
	if (strlen(v) >= sizeof(buf))
		return why_set(why, ws, "hostpci%u value too long", idx);
	strcpy(buf, v);
	char *rest = buf, *item = next_item(&rest);
	if (pci_addr_parse(item, &h.addr) < 0)
		return why_set(why, ws, "hostpci%u '%s' is not a PCI address (DDDD:BB:DD.F)", idx, item);
	bool have_fb = false;
	while ((item = next_item(&rest))) {
		if (strncmp(item, "fallback=", 9) != 0)
			return why_set(why, ws, "hostpci%u option '%s' unknown (fallback)", idx, item);
		if (have_fb)
			return why_set(why, ws, "hostpci%u option 'fallback' given twice", idx);
		if (strcmp(item + 9, "auto") == 0)
			h.fallback = VMS_FALLBACK_AUTO;
		else if (strcmp(item + 9, "none") == 0)
			h.fallback = VMS_FALLBACK_NONE;
		else
			return why_set(why, ws, "hostpci%u fallback '%s' must be auto or none", idx, item + 9);
		have_fb = true;
	}
	for (unsigned i = 0; i < VMS_MAX_DEV; i++)
		if (i != idx && c->hostpci[i].set && pci_addr_equal(&c->hostpci[i].addr, &h.addr))
			return why_set(why, ws, "hostpci%u repeats hostpci%u's device", idx, i);
	c->hostpci[idx] = h;
	return 0;
}

static int fmt_name(const struct vms_config *c, unsigned i, char *o, size_t n)
{ return c->name[0] ? snprintf(o, n, "%s", c->name) : -1; }
static int fmt_memory(const struct vms_config *c, unsigned i, char *o, size_t n)
{ return c->memory_mib ? snprintf(o, n, "%llu", (unsigned long long)c->memory_mib) : -1; }
static int fmt_cores(const struct vms_config *c, unsigned i, char *o, size_t n)
{ return c->cores ? snprintf(o, n, "%u", c->cores) : -1; }
static int fmt_cpu(const struct vms_config *c, unsigned i, char *o, size_t n)
{ return c->cpu[0] ? snprintf(o, n, "%s", c->cpu) : -1; }
static int fmt_ostype(const struct vms_config *c, unsigned i, char *o, size_t n)
{ return c->ostype[0] ? snprintf(o, n, "%s", c->ostype) : -1; }
static int fmt_boot(const struct vms_config *c, unsigned i, char *o, size_t n)
{ return c->boot[0] ? snprintf(o, n, "%s", c->boot) : -1; }
static int fmt_kernel(const struct vms_config *c, unsigned i, char *o, size_t n)
{ return c->kernel[0] ? snprintf(o, n, "%s", c->kernel) : -1; }
static int fmt_initrd(const struct vms_config *c, unsigned i, char *o, size_t n)
{ return c->initrd[0] ? snprintf(o, n, "%s", c->initrd) : -1; }
static int fmt_cmdline(const struct vms_config *c, unsigned i, char *o, size_t n)
{ return c->cmdline[0] ? snprintf(o, n, "%s", c->cmdline) : -1; }

static int fmt_net(const struct vms_config *c, unsigned i, char *o, size_t n)
{
	const struct vms_net *v = &c->net[i];
	if (!v->set)
		return -1;
	int len = snprintf(o, n, "virtio,bridge=%s", v->bridge);
	if (v->tag)
		len += snprintf(o + len, n - (size_t)len, ",tag=%u", v->tag);
	if (v->mac[0])
		len += snprintf(o + len, n - (size_t)len, ",mac=%s", v->mac);
	return len;
}

static int fmt_disk(const struct vms_config *c, unsigned i, char *o, size_t n)
{
	const struct vms_disk *d = &c->disk[i];
	if (!d->set)
		return -1;
	if (d->size_gib)
		return snprintf(o, n, "%s,size=%lluG", d->path, (unsigned long long)d->size_gib);
	return snprintf(o, n, "%s", d->path);
}

static int fmt_hostpci(const struct vms_config *c, unsigned i, char *o, size_t n)
{
	const struct vms_hostpci *h = &c->hostpci[i];
	char bdf[PCI_ADDR_STRLEN];
	if (!h->set)
		return -1;
	pci_addr_format(&h->addr, bdf);
	return snprintf(o, n, "%s,fallback=%s", bdf,
			h->fallback == VMS_FALLBACK_AUTO ? "auto" : "none");
}

static void clear_scalar(struct vms_config *c, unsigned i, size_t off, size_t size)
{
	memset((char *)c + off, 0, size);
}

/* The keys, in the order the writer emits them. indexed: the key takes a
 * device number 0..VMS_MAX_DEV-1 ("net0"). */
struct key_def {
	const char *name;
	bool indexed;
	bool required;
	int (*set)(struct vms_config *c, unsigned idx, const char *v, char *why, size_t ws);
	int (*fmt)(const struct vms_config *c, unsigned idx, char *out, size_t size);
	size_t off, size;  /* the field a delete clears (indexed: one element) */
};
#define FIELD(f) offsetof(struct vms_config, f), sizeof(((struct vms_config *)0)->f)
static const struct key_def keys[] = {
	{ "name", false, true, set_name, fmt_name, FIELD(name) },
	{ "memory", false, true, set_memory, fmt_memory, FIELD(memory_mib) },
	{ "cores", false, true, set_cores, fmt_cores, FIELD(cores) },
	{ "cpu", false, false, set_cpu, fmt_cpu, FIELD(cpu) },
	{ "ostype", false, false, set_ostype, fmt_ostype, FIELD(ostype) },
	{ "boot", false, false, set_boot, fmt_boot, FIELD(boot) },
	{ "kernel", false, false, set_kernel, fmt_kernel, FIELD(kernel) },
	{ "initrd", false, false, set_initrd, fmt_initrd, FIELD(initrd) },
	{ "cmdline", false, false, set_cmdline, fmt_cmdline, FIELD(cmdline) },
	{ "net", true, false, set_net, fmt_net, FIELD(net[0]) },
	{ "disk", true, false, set_disk, fmt_disk, FIELD(disk[0]) },
	{ "hostpci", true, false, set_hostpci, fmt_hostpci, FIELD(hostpci[0]) },
};

static const struct key_def *key_lookup(const char *key, unsigned *idx)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		size_t len = strlen(keys[i].name);
		if (strncmp(key, keys[i].name, len) != 0)
			continue;
		if (!keys[i].indexed && key[len] == '\0') {
			*idx = 0;
			return &keys[i];
		}
		if (keys[i].indexed && key[len] >= '0' && key[len] < '0' + VMS_MAX_DEV &&
		    key[len + 1] == '\0') {
			*idx = (unsigned)(key[len] - '0');
			return &keys[i];
		}
	}
	return NULL;
}

bool vms_config_key_known(const char *key)
{
	unsigned idx;
	return key_lookup(key, &idx) != NULL;
}

int vms_config_set(struct vms_config *conf, const char *key, const char *value,
		   char *why, size_t why_size)
{
	unsigned idx;
	const struct key_def *k = key_lookup(key, &idx);
	if (!k)
		return why_set(why, why_size, "unknown key '%s'", key);
	if (!printable(value))
		return why_set(why, why_size, "%s value holds a control character", key);
	if (!value[0])
		return why_set(why, why_size, "%s value is empty", key);
	return k->set(conf, idx, value, why, why_size);
}

int vms_config_delete(struct vms_config *conf, const char *key, char *why, size_t why_size)
{
	unsigned idx;
	const struct key_def *k = key_lookup(key, &idx);
	if (!k)
		return why_set(why, why_size, "unknown key '%s'", key);
	if (k->required)
		return why_set(why, why_size, "%s is required and cannot be deleted", key);
	clear_scalar(conf, idx, k->off + idx * k->size, k->size);
	return 0;
}

int vms_config_check(const struct vms_config *conf, char *why, size_t why_size)
{
	if (conf->id < VMS_ID_MIN || conf->id > VMS_ID_MAX)
		return why_set(why, why_size, "VM ID %u outside %u..%u", conf->id, VMS_ID_MIN, VMS_ID_MAX);
	if (!conf->name[0])
		return why_set(why, why_size, "name is required");
	if (!conf->memory_mib)
		return why_set(why, why_size, "memory is required");
	if (!conf->cores)
		return why_set(why, why_size, "cores is required");
	if (conf->initrd[0] && !conf->kernel[0])
		return why_set(why, why_size, "initrd needs kernel");
	if (conf->cmdline[0] && !conf->kernel[0])
		return why_set(why, why_size, "cmdline needs kernel");
	for (const char *p = conf->boot[0] ? conf->boot + 6 : NULL; p;) {
		size_t len = strcspn(p, ";");
		char kind;
		unsigned n;
		if (parse_dev_name(p, len, &kind, &n) == 0) {
			bool set = kind == 'd' ? conf->disk[n].set :
				   kind == 'n' ? conf->net[n].set : conf->hostpci[n].set;
			if (!set)
				return why_set(why, why_size, "boot order names %.*s, which is not configured",
					       (int)len, p);
		}
		p = p[len] ? p + len + 1 : NULL;
	}
	return 0;
}

uint64_t vms_config_bootdisk_gib(const struct vms_config *conf)
{
	const char *p = strstr(conf->boot, "disk");
	if (p && p[4] >= '0' && p[4] < '0' + VMS_MAX_DEV && conf->disk[p[4] - '0'].set)
		return conf->disk[p[4] - '0'].size_gib;
	return conf->disk[0].set ? conf->disk[0].size_gib : 0;
}

int vms_config_value(const struct vms_config *conf, const char *key, char *out, size_t size)
{
	unsigned idx;
	const struct key_def *k = key_lookup(key, &idx);
	if (!k)
		return -EINVAL;
	int n = k->fmt(conf, idx, out, size);
	if (n < 0)
		return 0;
	if ((size_t)n >= size)
		return -ENOSPC;
	return n;
}

ssize_t vms_config_format(const struct vms_config *conf, char *buf, size_t size)
{
	char key[16], value[VMS_LINE_MAX];
	int n = snprintf(buf, size, "# passvm VM %u: key: value lines (docs/cli.md)\n", conf->id);
	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	size_t len = (size_t)n;
	for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
		for (unsigned i = 0; i < (keys[k].indexed ? VMS_MAX_DEV : 1u); i++) {
			if (keys[k].indexed)
				snprintf(key, sizeof(key), "%s%u", keys[k].name, i);
			else
				snprintf(key, sizeof(key), "%s", keys[k].name);
			int vl = vms_config_value(conf, key, value, sizeof(value));
			if (vl < 0)
				return vl;
			if (vl == 0)
				continue;
			n = snprintf(buf + len, size - len, "%s: %s\n", key, value);
			if (n < 0 || (size_t)n >= size - len)
				return -ENOSPC;
			len += (size_t)n;
		}
	}
	return (ssize_t)len;
}
