// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The control socket's line protocol (docs/control.md): one JSON object per
 * line, flat (RFC 8259 syntax, restricted to string keys and scalar values).
 * Whoever can connect to the socket is root on the host already, but a
 * confused client (a wrong tool, a truncated line, random bytes) must get an
 * error reply and never crash or stall the VMM: every length is bounded and
 * the parser never reads past len.
 */
#include "control.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

struct cursor {
	const char *p, *end;
	char *why;
	size_t why_size;
};

static int fail(struct cursor *c, int err, const char *what)
{
	snprintf(c->why, c->why_size, "%s", what);
	return err;
}

static void skip_ws(struct cursor *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' || *c->p == '\n'))
		c->p++;
}

static int hex4(const char *p, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		char ch = p[i];
		unsigned d;
		if (ch >= '0' && ch <= '9')
			d = (unsigned)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			d = (unsigned)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			d = (unsigned)(ch - 'A' + 10);
		else
			return -EINVAL;
		*v = *v << 4 | d;
	}
	return 0;
}

/* Appends one code point as UTF-8; false when out is full. */
static bool put_utf8(char *out, size_t size, size_t *n, unsigned cp)
{
	char b[4];
	size_t k;
	if (cp < 0x80) {
		b[0] = (char)cp;
		k = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | cp >> 6);
		b[1] = (char)(0x80 | (cp & 0x3f));
		k = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | cp >> 12);
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		k = 3;
	} else {
		b[0] = (char)(0xf0 | cp >> 18);
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		k = 4;
	}
	if (*n + k >= size)
		return false;
	memcpy(out + *n, b, k);
	*n += k;
	return true;
}

/* A JSON string at c->p (the opening quote) into out, NUL-terminated. */
static int parse_string(struct cursor *c, char *out, size_t size)
{
	size_t n = 0;
	c->p++; /* the quote */
	for (;;) {
		if (c->p >= c->end)
			return fail(c, -EINVAL, "unterminated string");
		unsigned char ch = (unsigned char)*c->p++;
		if (ch == '"')
			break;
		if (ch < 0x20)
			return fail(c, -EINVAL, "control character in a string");
		if (ch != '\\') {
			if (n + 1 >= size)
				return fail(c, -E2BIG, "string too long");
			out[n++] = (char)ch;
			continue;
		}
		if (c->p >= c->end)
			return fail(c, -EINVAL, "unterminated escape");
		char e = *c->p++;
		static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
		const char *k = e ? strchr(from, e) : NULL;
		if (k) {
			if (n + 1 >= size)
				return fail(c, -E2BIG, "string too long");
			out[n++] = to[k - from];
			continue;
		}
		if (e != 'u')
			return fail(c, -EINVAL, "bad escape in a string");
		unsigned cp;
		if (c->end - c->p < 4 || hex4(c->p, &cp) < 0)
			return fail(c, -EINVAL, "bad \\u escape");
		c->p += 4;
		if (cp >= 0xd800 && cp < 0xdc00) {
			/* A surrogate pair: the low half must follow (8.2). */
			unsigned lo;
			if (c->end - c->p < 6 || c->p[0] != '\\' || c->p[1] != 'u' ||
			    hex4(c->p + 2, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
				return fail(c, -EINVAL, "unpaired surrogate in a \\u escape");
			c->p += 6;
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		} else if (cp >= 0xdc00 && cp < 0xe000) {
			return fail(c, -EINVAL, "unpaired surrogate in a \\u escape");
		}
		if (cp == 0)
			return fail(c, -EINVAL, "NUL in a string");
		if (!put_utf8(out, size, &n, cp))
			return fail(c, -E2BIG, "string too long");
	}
	out[n] = '\0';
	return 0;
}

/* An integer (no fraction or exponent: nothing here needs them). */
static int parse_number(struct cursor *c, char *out, size_t size)
{
	const char *start = c->p;
	if (c->p < c->end && *c->p == '-')
		c->p++;
	const char *digits = c->p;
	while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
		c->p++;
	if (c->p == digits)
		return fail(c, -EINVAL, "bad value");
	if (*digits == '0' && c->p - digits > 1)
		return fail(c, -EINVAL, "number with a leading zero");
	if (c->p < c->end && (*c->p == '.' || *c->p == 'e' || *c->p == 'E'))
		return fail(c, -EINVAL, "only whole numbers are accepted");
	size_t len = (size_t)(c->p - start);
	if (len >= size || len > 20)
		return fail(c, -E2BIG, "number too long");
	memcpy(out, start, len);
	out[len] = '\0';
	return 0;
}

static bool literal(struct cursor *c, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
		return false;
	c->p += n;
	return true;
}

static int parse_value(struct cursor *c, struct vmm_json_field *f)
{
	if (c->p >= c->end)
		return fail(c, -EINVAL, "missing value");
	char ch = *c->p;
	if (ch == '"') {
		f->type = VMM_JSON_STRING;
		return parse_string(c, f->value, sizeof(f->value));
	}
	if (ch == '-' || (ch >= '0' && ch <= '9')) {
		f->type = VMM_JSON_NUMBER;
		return parse_number(c, f->value, sizeof(f->value));
	}
	bool t = literal(c, "true");
	if (t || literal(c, "false")) {
		f->type = VMM_JSON_BOOL;
		snprintf(f->value, sizeof(f->value), "%s", t ? "true" : "false");
		return 0;
	}
	if (literal(c, "null")) {
		f->type = VMM_JSON_NULL;
		f->value[0] = '\0';
		return 0;
	}
	if (ch == '{' || ch == '[')
		return fail(c, -EINVAL, "nested objects and arrays are not accepted");
	return fail(c, -EINVAL, "bad value");
}

int vmm_json_object_parse(const char *line, size_t len, struct vmm_json_field *fields,
			  size_t max_fields, size_t *nfields, char *why, size_t why_size)
{
	struct cursor c = { .p = line, .end = line + len, .why = why, .why_size = why_size };
	*nfields = 0;
	if (why_size)
		why[0] = '\0';
	if (len > VMM_CONTROL_LINE_MAX)
		return fail(&c, -E2BIG, "line too long");
	if (memchr(line, '\0', len))
		return fail(&c, -EINVAL, "NUL byte in the line");
	skip_ws(&c);
	if (c.p >= c.end || *c.p != '{')
		return fail(&c, -EINVAL, "not a JSON object");
	c.p++;
	skip_ws(&c);
	if (c.p < c.end && *c.p == '}') {
		c.p++;
	} else {
		for (;;) {
			skip_ws(&c);
			if (c.p >= c.end || *c.p != '"')
				return fail(&c, -EINVAL, "expected a key in quotes");
			if (*nfields == max_fields)
				return fail(&c, -E2BIG, "too many keys");
			struct vmm_json_field *f = &fields[*nfields];
			int r = parse_string(&c, f->key, sizeof(f->key));
			if (r < 0)
				return r == -E2BIG ? fail(&c, -E2BIG, "key too long") : r;
			if (vmm_json_find(fields, *nfields, f->key))
				return fail(&c, -EINVAL, "duplicate key");
			skip_ws(&c);
			if (c.p >= c.end || *c.p != ':')
				return fail(&c, -EINVAL, "expected ':' after a key");
			c.p++;
			skip_ws(&c);
			r = parse_value(&c, f);
			if (r < 0)
				return r;
			(*nfields)++;
			skip_ws(&c);
			if (c.p < c.end && *c.p == ',') {
				c.p++;
				continue;
			}
			if (c.p < c.end && *c.p == '}') {
				c.p++;
				break;
			}
			return fail(&c, -EINVAL, "expected ',' or '}'");
		}
	}
	skip_ws(&c);
	if (c.p != c.end)
		return fail(&c, -EINVAL, "text after the object");
	return 0;
}

const struct vmm_json_field *vmm_json_find(const struct vmm_json_field *fields,
					    size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(fields[i].key, key) == 0)
			return &fields[i];
	return NULL;
}

int vmm_json_quote(const char *s, char *out, size_t size)
{
	size_t n = 0;
	if (size < 3)
		return -ENOSPC;
	out[n++] = '"';
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char esc[8];
		size_t k;
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			k = 2;
		} else if (*p < 0x20 || *p == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			k = 6;
		} else {
			esc[0] = (char)*p;
			k = 1;
		}
		if (n + k + 2 > size)
			return -ENOSPC;
		memcpy(out + n, esc, k);
		n += k;
	}
	out[n++] = '"';
	out[n] = '\0';
	return (int)n;
}

static const char *const cmd_names[] = {
	[VMM_CTL_STATUS] = "status", [VMM_CTL_PAUSE] = "pause", [VMM_CTL_RESUME] = "resume",
	[VMM_CTL_SHUTDOWN] = "shutdown", [VMM_CTL_STOP] = "stop", [VMM_CTL_REBOOT] = "reboot",
	[VMM_CTL_CONSOLE] = "console",
};

const char *vmm_control_cmd_name(enum vmm_control_cmd cmd)
{
	return (size_t)cmd < ARRAY_SIZE(cmd_names) ? cmd_names[cmd] : "?";
}

int vmm_control_parse_request(const char *line, size_t len, enum vmm_control_cmd *cmd,
			      char *why, size_t why_size)
{
	struct vmm_json_field fields[VMM_CONTROL_FIELDS_MAX];
	size_t n;
	int r = vmm_json_object_parse(line, len, fields, ARRAY_SIZE(fields), &n, why, why_size);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (strcmp(fields[i].key, "cmd") != 0) {
			char key[48];
			vmm_json_quote(fields[i].key, key, sizeof(key));
			snprintf(why, why_size, "unknown key %s (a request has only \"cmd\")", key);
			return -EINVAL;
		}
	const struct vmm_json_field *f = vmm_json_find(fields, n, "cmd");
	if (!f || f->type != VMM_JSON_STRING) {
		snprintf(why, why_size, "a request is {\"cmd\": \"NAME\"}");
		return -EINVAL;
	}
	for (size_t i = 0; i < ARRAY_SIZE(cmd_names); i++)
		if (strcmp(f->value, cmd_names[i]) == 0) {
			*cmd = (enum vmm_control_cmd)i;
			return 0;
		}
	snprintf(why, why_size, "unknown command (status, pause, resume, shutdown, stop, "
		 "reboot, console)");
	return -EINVAL;
}

int vmm_control_format_error(const char *why, char *out, size_t size)
{
	char q[VMM_CONTROL_LINE_MAX - 32]; /* a 150-byte reason all \u escapes fits */
	if (vmm_json_quote(why, q, sizeof(q)) < 0)
		snprintf(q, sizeof(q), "\"error text too long\"");
	int n = snprintf(out, size, "{\"ok\": false, \"error\": %s}\n", q);
	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}
