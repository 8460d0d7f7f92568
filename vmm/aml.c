// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Just enough of an ACPI Machine Language encoder for passvm's DSDT (ACPI
 * 6.5, chapter 20 "ACPI Machine Language Specification"): integers, strings,
 * EISA IDs, names, and length-prefixed blocks (Scope, Device, Package,
 * Buffer) whose PkgLength is patched when the block is closed. Writes past
 * the buffer set `overflow` instead of writing.
 */
#include "vmm.h"

#include <string.h>

#define PKG_LENGTH_RESERVED 4 /* the longest PkgLength encoding */

void aml_init(struct aml_buf *b, uint8_t *data, size_t cap)
{
	*b = (struct aml_buf){ .data = data, .cap = cap };
}

void aml_bytes(struct aml_buf *b, const void *p, size_t n)
{
	if (b->overflow || n > b->cap - b->len) {
		b->overflow = true;
		return;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void aml_byte(struct aml_buf *b, uint8_t v)
{
	aml_bytes(b, &v, 1);
}

static void le(struct aml_buf *b, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		aml_byte(b, (uint8_t)(v >> (8 * i)));
}

void aml_integer(struct aml_buf *b, uint64_t v)
{
	/* ZeroOp, OneOp, then Byte/Word/DWord/QWordPrefix (20.2.3). */
	if (v <= 1) {
		aml_byte(b, (uint8_t)v);
	} else if (v <= 0xff) {
		aml_byte(b, 0x0a);
		le(b, v, 1);
	} else if (v <= 0xffff) {
		aml_byte(b, 0x0b);
		le(b, v, 2);
	} else if (v <= 0xffffffff) {
		aml_byte(b, 0x0c);
		le(b, v, 4);
	} else {
		aml_byte(b, 0x0e);
		le(b, v, 8);
	}
}

void aml_string(struct aml_buf *b, const char *s)
{
	aml_byte(b, 0x0d); /* StringPrefix */
	aml_bytes(b, s, strlen(s) + 1);
}

void aml_eisaid(struct aml_buf *b, const char *id)
{
	/* Compressed EISA ID (6.1.5 _HID): three letters of 5 bits, then four
	 * hex digits; the bytes in this order form a DWord. */
	static const char hex[] = "0123456789ABCDEF";
	uint32_t digits = 0;
	for (int i = 3; i < 7; i++)
		digits = digits << 4 | (uint32_t)(strchr(hex, id[i]) - hex);
	uint8_t c1 = (uint8_t)(id[0] - 0x40), c2 = (uint8_t)(id[1] - 0x40),
		c3 = (uint8_t)(id[2] - 0x40);
	uint8_t bytes[4] = {
		(uint8_t)(c1 << 2 | c2 >> 3), (uint8_t)(c2 << 5 | c3),
		(uint8_t)(digits >> 8), (uint8_t)digits,
	};
	aml_byte(b, 0x0c); /* DWordPrefix */
	aml_bytes(b, bytes, 4);
}

/* NameString: optional root prefix, then 1, 2 (DualNamePrefix) or more
 * (MultiNamePrefix) 4-character segments separated by dots in `name`. */
void aml_namestring(struct aml_buf *b, const char *name)
{
	if (*name == '\\') {
		aml_byte(b, '\\');
		name++;
	}
	unsigned segs = 1;
	for (const char *p = name; *p; p++)
		segs += *p == '.';
	if (segs == 2)
		aml_byte(b, 0x2e);
	else if (segs > 2) {
		aml_byte(b, 0x2f);
		aml_byte(b, (uint8_t)segs);
	}
	while (*name) {
		char seg[4] = { '_', '_', '_', '_' };
		for (int i = 0; i < 4 && *name && *name != '.'; i++)
			seg[i] = *name++;
		aml_bytes(b, seg, 4);
		if (*name == '.')
			name++;
	}
}

void aml_name(struct aml_buf *b, const char *name)
{
	aml_byte(b, 0x08); /* NameOp */
	aml_namestring(b, name);
}

size_t aml_open(struct aml_buf *b, const uint8_t *op, size_t oplen)
{
	aml_bytes(b, op, oplen);
	size_t mark = b->len;
	static const uint8_t zero[PKG_LENGTH_RESERVED];
	aml_bytes(b, zero, sizeof(zero));
	return mark;
}

void aml_close(struct aml_buf *b, size_t mark)
{
	if (b->overflow)
		return;
	size_t body = b->len - mark - PKG_LENGTH_RESERVED;
	/* PkgLength counts itself (20.2.4): pick the shortest encoding. */
	unsigned n = 1;
	while (n < 4 && body + n >= (n == 1 ? 0x40U : 1U << (4 + 8 * (n - 1))))
		n++;
	size_t total = body + n;
	uint8_t enc[4];
	if (n == 1) {
		enc[0] = (uint8_t)total;
	} else {
		enc[0] = (uint8_t)((n - 1) << 6 | (total & 0xf));
		for (unsigned i = 1; i < n; i++)
			enc[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
	}
	memmove(b->data + mark + n, b->data + mark + PKG_LENGTH_RESERVED, body);
	memcpy(b->data + mark, enc, n);
	b->len -= PKG_LENGTH_RESERVED - n;
}
