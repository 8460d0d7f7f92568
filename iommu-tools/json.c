// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A small streaming JSON writer (RFC 8259): objects, arrays, strings with
 * every control character, quote and backslash escaped, and bytes that are
 * not valid UTF-8 replaced by U+FFFD, so hostile sysfs text (a crafted
 * device name, a mount point with a newline) cannot break the document.
 */
#include "json.h"

#include <string.h>

static void newline(struct json *j)
{
	fputc('\n', j->out);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->out);
}

/* Before a value or key: a comma after a sibling, then the indentation. */
static void sep(struct json *j)
{
	if (j->depth > 0 && j->depth <= JSON_MAX_DEPTH && !j->want_value) {
		if (j->count[j->depth - 1]++)
			fputc(',', j->out);
		newline(j);
	}
	j->want_value = false;
}

void json_begin(struct json *j, FILE *out)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
}

static void open_(struct json *j, char c)
{
	sep(j);
	fputc(c, j->out);
	if (j->depth >= 0 && j->depth < JSON_MAX_DEPTH)
		j->count[j->depth] = 0;
	j->depth++;
}

static void close_(struct json *j, char c)
{
	bool had = j->depth > 0 && j->depth <= JSON_MAX_DEPTH && j->count[j->depth - 1];
	if (j->depth > 0)
		j->depth--;
	if (had)
		newline(j);
	fputc(c, j->out);
}

void json_object_begin(struct json *j) { open_(j, '{'); }
void json_object_end(struct json *j) { close_(j, '}'); }
void json_array_begin(struct json *j) { open_(j, '['); }
void json_array_end(struct json *j) { close_(j, ']'); }

/* Length of a valid UTF-8 sequence at p (1-4), 0 when invalid. */
static size_t utf8_len(const unsigned char *p)
{
	if (p[0] < 0x80)
		return 1;
	size_t n;
	unsigned cp;
	if ((p[0] & 0xe0) == 0xc0) { n = 2; cp = p[0] & 0x1f; }
	else if ((p[0] & 0xf0) == 0xe0) { n = 3; cp = p[0] & 0x0f; }
	else if ((p[0] & 0xf8) == 0xf0) { n = 4; cp = p[0] & 0x07; }
	else return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	static const unsigned min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

void json_write_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		unsigned char c = *p;
		/* A run of printable ASCII goes out in one write. */
		size_t run = 0;
		while (p[run] >= 0x20 && p[run] < 0x7f && p[run] != '"' && p[run] != '\\')
			run++;
		if (run) {
			fwrite(p, 1, run, out);
			p += run;
			continue;
		}
		if (c == '"' || c == '\\') {
			fputc('\\', out);
			fputc(c, out);
			p++;
		} else if (c == '\n') {
			fputs("\\n", out), p++;
		} else if (c == '\t') {
			fputs("\\t", out), p++;
		} else if (c == '\r') {
			fputs("\\r", out), p++;
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(out, "\\u%04x", c);
			p++;
		} else {
			size_t n = utf8_len(p);
			if (n == 0) {
				fputs("\\ufffd", out);
				p++;
			} else {
				fwrite(p, 1, n, out);
				p += n;
			}
		}
	}
	fputc('"', out);
}

void json_key(struct json *j, const char *key)
{
	sep(j);
	json_write_string(j->out, key);
	fputs(": ", j->out);
	j->want_value = true;
}

void json_string(struct json *j, const char *s)
{
	sep(j);
	json_write_string(j->out, s);
}

void json_int(struct json *j, long long v)
{
	sep(j);
	fprintf(j->out, "%lld", v);
}

void json_uint(struct json *j, unsigned long long v)
{
	sep(j);
	fprintf(j->out, "%llu", v);
}

void json_bool(struct json *j, bool v)
{
	sep(j);
	fputs(v ? "true" : "false", j->out);
}

void json_null(struct json *j)
{
	sep(j);
	fputs("null", j->out);
}
