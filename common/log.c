// SPDX-License-Identifier: GPL-2.0-or-later
/* Reporting at a program's edge: one line per error, to stderr. */
#include "common.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *program_name = "passvm";

void log_set_program(const char *name)
{
	const char *slash = strrchr(name, '/');
	program_name = slash ? slash + 1 : name;
}

__attribute__((format(printf, 3, 0)))
static void vlog(const char *level, int err, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: %s", program_name, level);
	vfprintf(stderr, fmt, ap);
	if (err)
		fprintf(stderr, ": %s", strerror(err < 0 ? -err : err));
	fputc('\n', stderr);
}

int log_error_errno(int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog("error: ", err, fmt, ap);
	va_end(ap);
	return err;
}

void log_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog("error: ", 0, fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog("warning: ", 0, fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog("", 0, fmt, ap);
	va_end(ap);
}
