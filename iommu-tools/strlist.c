// SPDX-License-Identifier: GPL-2.0-or-later
/* Growable lists of formatted lines: evidence and reasons in a report. */
#include "iommu_tools.h"

#include <stdarg.h>
#include <stdlib.h>

void strlist_addf(struct strlist *l, const char *fmt, ...)
{
	char *s;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	iommu_sanitize(s);
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 4;
		char **g = realloc(l->v, ncap * sizeof(*g));
		if (!g) {
			free(s);
			return;
		}
		l->v = g;
		l->cap = ncap;
	}
	l->v[l->n++] = s;
}

void iommu_sanitize(char *s)
{
	for (unsigned char *p = (unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			p[0] = p[1] = '?';
	}
}

void strlist_free(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}
