// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ID.conf text: the parser (every error as "file:line: what is wrong") and
 * the canonical writer. The file is something an administrator may edit by
 * hand, so the parser is strict and total: unknown keys, duplicates, bad
 * values, over-long lines and NUL bytes are errors, never ignored, and it
 * never reads past size (the text need not be NUL-terminated).
 */
#include "vms.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int parse_error(char *err, size_t size, const char *name, unsigned line,
		       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int parse_error(char *err, size_t size, const char *name, unsigned line,
		       const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line)
		snprintf(err, size, "%s:%u: %s", name, line, msg);
	else
		snprintf(err, size, "%s: %s", name, msg);
	return -EINVAL;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t len = strlen(s);
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
		s[--len] = '\0';
	return s;
}

/* Which keys a file already set, to reject a duplicate: the key text. */
struct seen {
	char keys[64][12];
	unsigned lines[64];
	size_t count;
};

static int seen_add(struct seen *s, const char *key, unsigned line)
{
	for (size_t i = 0; i < s->count; i++)
		if (strcmp(s->keys[i], key) == 0)
			return (int)s->lines[i];
	if (s->count < ARRAY_SIZE(s->keys) && strlen(key) < sizeof(s->keys[0])) {
		strcpy(s->keys[s->count], key);
		s->lines[s->count++] = line;
	}
	return 0;
}

int vms_config_parse(const char *text, size_t size, const char *name,
		     uint32_t id, struct vms_config *conf, char *err, size_t err_size)
{
	static char line[VMS_LINE_MAX + 2];
	struct seen seen = { .count = 0 };
	unsigned lineno = 0;
	char why[256];

	vms_config_init(conf, id);
	err[0] = '\0';
	if (id < VMS_ID_MIN || id > VMS_ID_MAX)
		return parse_error(err, err_size, name, 0, "VM ID %u outside %u..%u",
				   id, VMS_ID_MIN, VMS_ID_MAX);
	for (size_t pos = 0; pos < size;) {
		const char *start = text + pos;
		const char *nl = memchr(start, '\n', size - pos);
		size_t len = nl ? (size_t)(nl - start) : size - pos;
		pos += len + (nl ? 1 : 0);
		lineno++;
		if (len > VMS_LINE_MAX)
			return parse_error(err, err_size, name, lineno,
					   "line longer than %d characters", VMS_LINE_MAX);
		if (memchr(start, '\0', len))
			return parse_error(err, err_size, name, lineno, "NUL byte in line");
		memcpy(line, start, len);
		line[len] = '\0';
		char *s = trim(line);
		if (!*s || *s == '#')
			continue;
		char *colon = strchr(s, ':');
		if (!colon)
			return parse_error(err, err_size, name, lineno,
					   "expected 'key: value', got '%.40s'", s);
		*colon = '\0';
		char *key = trim(s), *value = trim(colon + 1);
		if (!vms_config_key_known(key))
			return parse_error(err, err_size, name, lineno, "unknown key '%.40s'", key);
		int first = seen_add(&seen, key, lineno);
		if (first)
			return parse_error(err, err_size, name, lineno,
					   "duplicate key '%s' (first on line %d)", key, first);
		if (vms_config_set(conf, key, value, why, sizeof(why)) < 0)
			return parse_error(err, err_size, name, lineno, "%s", why);
	}
	if (vms_config_check(conf, why, sizeof(why)) < 0)
		return parse_error(err, err_size, name, 0, "%s", why);
	return 0;
}
