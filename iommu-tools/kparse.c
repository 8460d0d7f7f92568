// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Parsers of the kernel's text files that iommu-check reads: the command
 * line (/proc/cmdline), /proc/cpuinfo, /proc/self/limits and
 * /proc/self/mountinfo. Pure functions over a string, each fuzzed: the text
 * comes from a tree that may have been crafted.
 */
#include "iommu_tools.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- /proc/cmdline ------------------------------------------------------
 * Split as lib/cmdline.c next_arg() does: whitespace separates parameters,
 * double quotes group (and are removed), the first '=' splits key and
 * value; '-' and '_' are the same in a key (parameq()).
 */
static void normalize_key(char *k)
{
	for (; *k; k++)
		if (*k == '-')
			*k = '_';
}

int kcmdline_parse(const char *text, struct kcmdline *cl)
{
	memset(cl, 0, sizeof(*cl));
	size_t len = strlen(text);
	cl->buf = malloc(len + 1);
	size_t cap = len / 2 + 1;
	cl->keys = calloc(cap, sizeof(char *));
	cl->values = calloc(cap, sizeof(char *));
	if (!cl->buf || !cl->keys || !cl->values) {
		kcmdline_free(cl);
		return -ENOMEM;
	}
	char *out = cl->buf;
	const char *p = text;
	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		char *key = out, *value = NULL;
		bool quoted = false;
		for (; *p && (quoted || !isspace((unsigned char)*p)); p++) {
			if (*p == '"') {
				quoted = !quoted;
				continue;
			}
			if (*p == '=' && !value) {
				*out++ = '\0';
				value = out;
				continue;
			}
			*out++ = *p;
		}
		*out++ = '\0';
		if (cl->n == cap)
			break; /* cannot happen: every parameter takes >= 2 bytes */
		normalize_key(key);
		cl->keys[cl->n] = key;
		cl->values[cl->n] = value;
		cl->n++;
	}
	return 0;
}

/* parameq(): '-' and '_' are the same character in a parameter name. */
static bool param_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a == '-' ? '_' : *a, y = *b == '-' ? '_' : *b;
		if (x != y)
			return false;
	}
	return *a == *b;
}

const char *kcmdline_get(const struct kcmdline *cl, const char *key, bool *found)
{
	for (size_t i = cl->n; i-- > 0;) {
		if (param_eq(cl->keys[i], key)) {
			if (found)
				*found = true;
			return cl->values[i];
		}
	}
	if (found)
		*found = false;
	return NULL;
}

bool kcmdline_has_item(const struct kcmdline *cl, const char *key, const char *item)
{
	size_t ilen = strlen(item);
	/* Every occurrence counts: intel_iommu=on intel_iommu=sm_on adds up. */
	for (size_t i = 0; i < cl->n; i++) {
		if (!param_eq(cl->keys[i], key) || !cl->values[i])
			continue;
		for (const char *v = cl->values[i]; *v;) {
			size_t l = strcspn(v, ",");
			if (l == ilen && strncmp(v, item, ilen) == 0)
				return true;
			v += l;
			if (*v == ',')
				v++;
		}
	}
	return false;
}

void kcmdline_free(struct kcmdline *cl)
{
	free(cl->buf);
	free(cl->keys);
	free(cl->values);
	memset(cl, 0, sizeof(*cl));
}

/* ---- /proc/cpuinfo ------------------------------------------------------
 * "key\t: value" lines, one block per CPU; the first block decides (flags
 * are the same on every CPU the kernel keeps online). */
static bool has_word(const char *list, const char *word)
{
	size_t wl = strlen(word);
	for (const char *p = list; *p;) {
		while (*p == ' ')
			p++;
		size_t l = strcspn(p, " ");
		if (l == wl && strncmp(p, word, wl) == 0)
			return true;
		p += l;
	}
	return false;
}

int cpuinfo_parse(const char *text, struct cpuinfo *out)
{
	memset(out, 0, sizeof(*out));
	bool seen_flags = false;
	for (const char *line = text; *line;) {
		size_t l = strcspn(line, "\n");
		char buf[8192];
		size_t copy = l < sizeof(buf) - 1 ? l : sizeof(buf) - 1;
		memcpy(buf, line, copy);
		buf[copy] = '\0';
		line += l;
		if (*line == '\n')
			line++;
		char *colon = strchr(buf, ':');
		if (!colon)
			continue;
		char *val = colon + 1;
		while (*val == ' ')
			val++;
		char *kend = colon;
		while (kend > buf && isspace((unsigned char)kend[-1]))
			kend--;
		*kend = '\0';
		if (strcmp(buf, "vendor_id") == 0 && !out->vendor[0]) {
			snprintf(out->vendor, sizeof(out->vendor), "%s", val);
		} else if (strcmp(buf, "flags") == 0 && !seen_flags) {
			seen_flags = true;
			out->vmx = has_word(val, "vmx");
			out->svm = has_word(val, "svm");
			out->hypervisor = has_word(val, "hypervisor");
		} else if (strcmp(buf, "vmx flags") == 0) {
			out->has_vmx_flags_line = true;
		} else if (strcmp(buf, "address sizes") == 0 && !out->phys_bits) {
			unsigned p = 0, v = 0;
			if (sscanf(val, "%u bits physical, %u bits virtual", &p, &v) == 2 &&
			    p <= 64 && v <= 64) {
				out->phys_bits = p;
				out->virt_bits = v;
			}
		}
	}
	return seen_flags ? 0 : -EBADMSG;
}

/* ---- /proc/self/limits --------------------------------------------------
 * "Max locked memory         8388608              8388608              bytes"
 * (fs/proc/base.c proc_pid_limits: columns of fixed width, "unlimited"). */
static int limit_value(const char **p, uint64_t *v)
{
	while (**p == ' ')
		(*p)++;
	if (strncmp(*p, "unlimited", 9) == 0) {
		*v = UINT64_MAX;
		*p += 9;
		return 0;
	}
	if (!isdigit((unsigned char)**p))
		return -EBADMSG;
	errno = 0;
	char *end;
	unsigned long long x = strtoull(*p, &end, 10);
	if (errno)
		return -EBADMSG;
	*v = x;
	*p = end;
	return 0;
}

int proc_limits_memlock(const char *text, uint64_t *soft, uint64_t *hard)
{
	static const char key[] = "Max locked memory";
	for (const char *line = text; *line;) {
		if (strncmp(line, key, sizeof(key) - 1) == 0) {
			const char *p = line + sizeof(key) - 1;
			if (limit_value(&p, soft) < 0 || limit_value(&p, hard) < 0)
				return -EBADMSG;
			return 0;
		}
		line += strcspn(line, "\n");
		if (*line)
			line++;
	}
	return -ENOENT;
}

/* ---- /proc/self/mountinfo ------------------------------------------------
 * "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw"
 * (Documentation/filesystems/proc.rst 3.5): optional fields end at " - ",
 * then type and source. Paths escape space, tab, newline and backslash as
 * \ooo octal. */
static void unescape(char *s)
{
	char *o = s;
	for (char *p = s; *p;) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' &&
		    p[2] <= '7' && p[3] >= '0' && p[3] <= '7') {
			*o++ = (char)((p[1] - '0') << 6 | (p[2] - '0') << 3 | (p[3] - '0'));
			p += 4;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
}

static int parse_mount_line(char *line, struct mount_entry *m)
{
	char *fields[16];
	size_t nf = 0;
	char *save = NULL;
	for (char *t = strtok_r(line, " ", &save); t && nf < ARRAY_SIZE(fields);
	     t = strtok_r(NULL, " ", &save))
		fields[nf++] = t;
	size_t dash = 0;
	for (size_t i = 6; i < nf; i++)
		if (strcmp(fields[i], "-") == 0) {
			dash = i;
			break;
		}
	if (nf < 6 || !dash || dash + 2 >= nf)
		return -EBADMSG;
	if (sscanf(fields[2], "%u:%u", &m->major, &m->minor) != 2)
		return -EBADMSG;
	unescape(fields[4]);
	unescape(fields[dash + 2]);
	snprintf(m->mountpoint, sizeof(m->mountpoint), "%s", fields[4]);
	snprintf(m->fstype, sizeof(m->fstype), "%s", fields[dash + 1]);
	snprintf(m->source, sizeof(m->source), "%s", fields[dash + 2]);
	return 0;
}

int mountinfo_parse(const char *text, struct mount_entry **entries, size_t *count)
{
	size_t cap = 16, n = 0;
	struct mount_entry *v = malloc(cap * sizeof(*v));
	char *copy = strdup(text);
	if (!v || !copy) {
		free(v);
		free(copy);
		return -ENOMEM;
	}
	char *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		struct mount_entry m;
		memset(&m, 0, sizeof(m));
		if (parse_mount_line(line, &m) < 0)
			continue; /* a line we do not understand is skipped */
		if (n == cap) {
			struct mount_entry *g = realloc(v, cap * 2 * sizeof(*v));
			if (!g) {
				free(v);
				free(copy);
				return -ENOMEM;
			}
			v = g;
			cap *= 2;
		}
		v[n++] = m;
	}
	free(copy);
	*entries = v;
	*count = n;
	return 0;
}

/* ---- /proc/iomem ----------------------------------------------------------
 * "800000000-fffffffff : PCI Bus 0000:00": hex start-end (inclusive), then
 * the owner; nested resources are indented and not windows of a root bus
 * (kernel/resource.c r_show). */
int iomem_pci_windows(const char *text, struct iomem_windows *out)
{
	bool any_address = false, any_line = false;
	memset(out, 0, sizeof(*out));
	for (const char *line = text; *line;) {
		size_t len = strcspn(line, "\n");
		char buf[256];
		size_t c = len < sizeof(buf) - 1 ? len : sizeof(buf) - 1;
		memcpy(buf, line, c);
		buf[c] = '\0';
		line += len;
		if (*line)
			line++;
		if (!isxdigit((unsigned char)buf[0]))
			continue;
		char *end;
		errno = 0;
		unsigned long long start = strtoull(buf, &end, 16);
		if (errno || *end != '-')
			continue;
		unsigned long long last = strtoull(end + 1, &end, 16);
		if (errno || strncmp(end, " : ", 3) != 0)
			continue;
		any_line = true;
		if (start || last)
			any_address = true;
		if (strncmp(end + 3, "PCI Bus ", 8) != 0 || last < start)
			continue;
		uint64_t size = (uint64_t)(last - start) + 1;
		if (start >= (1ull << 32))
			out->above_4g_bytes += size;
		else
			out->below_4g_bytes += size;
		if (last + 1 > out->highest_end || last == UINT64_MAX)
			out->highest_end = last == UINT64_MAX ? UINT64_MAX : last + 1;
		out->count++;
	}
	if (any_line && !any_address)
		return -EACCES;
	return any_line ? 0 : -EBADMSG;
}
