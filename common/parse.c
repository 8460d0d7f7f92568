// SPDX-License-Identifier: GPL-2.0-or-later
/* Numbers and sizes from the command line, config files and sysfs. */
#include "common.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int parse_u64(const char *text, uint64_t *value)
{
	if (!text || !isdigit((unsigned char)text[0]))
		return -EINVAL;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(text, &end, 0);
	if (errno == ERANGE)
		return -ERANGE;
	if (end == text || *end != '\0')
		return -EINVAL;
	*value = v;
	return 0;
}

int parse_size_mib_default(const char *text, uint64_t *bytes)
{
	static const struct { const char *suffix; unsigned shift; } units[] = {
		{ "", 20 }, { "K", 10 }, { "M", 20 }, { "G", 30 }, { "T", 40 },
	};
	char number[32];
	size_t digits = 0;

	if (!text)
		return -EINVAL;
	while (isdigit((unsigned char)text[digits]))
		digits++;
	if (digits == 0 || digits >= sizeof(number))
		return -EINVAL;
	memcpy(number, text, digits);
	number[digits] = '\0';
	uint64_t n;
	int r = parse_u64(number, &n);
	if (r < 0)
		return r;

	const char *suffix = text + digits;
	size_t slen = strlen(suffix);
	/* Accept "M", "MB" and "MiB" alike: all mean 2^20 here. */
	if (slen >= 3 && strcasecmp(suffix + slen - 2, "iB") == 0)
		slen -= 2;
	else if (slen == 2 && toupper((unsigned char)suffix[1]) == 'B')
		slen -= 1;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if (strlen(units[i].suffix) != slen ||
		    strncasecmp(suffix, units[i].suffix, slen) != 0)
			continue;
		if (n > (UINT64_MAX >> units[i].shift))
			return -ERANGE;
		*bytes = n << units[i].shift;
		return 0;
	}
	return -EINVAL;
}
