// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: JSON string escaping. Whatever bytes go in (a crafted device
 * name, a mount point), the output must be one valid JSON string: checked
 * here by a strict little validator of RFC 8259 string syntax. */
#include "json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void validate(const unsigned char *s, size_t n)
{
	if (n < 2 || s[0] != '"' || s[n - 1] != '"')
		abort();
	for (size_t i = 1; i + 1 < n; i++) {
		if (s[i] < 0x20 || s[i] == '"')
			abort();
		if (s[i] == '\\') {
			i++;
			if (i + 1 >= n || !strchr("\"\\/bfnrtu", s[i]))
				abort();
			if (s[i] == 'u') {
				for (int k = 1; k <= 4; k++)
					if (i + (size_t)k + 1 >= n || !strchr("0123456789abcdef", s[i + k]))
						abort();
				i += 4;
			}
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (f) {
		json_write_string(f, text);
		if (fclose(f) == 0) {
			validate((const unsigned char *)out, len);
			free(out);
		}
	}
	free(text);
	return 0;
}
