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

void strlist_free(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}
