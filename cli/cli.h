/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli/: the `passvm` program, a thin front end. Each subcommand lives in its
 * own file (cmd_NAME.c) and is listed once in the table in passvm.c. A
 * subcommand parses its arguments, calls the libraries, prints, and reports
 * errors once (log_error_errno). Exit status: 0 success, 1 failure, 2 usage.
 */
#ifndef PASSVM_CLI_H
#define PASSVM_CLI_H

#define EXIT_USAGE 2

#include "vfio.h"

#include <stdio.h>

/* A subcommand of a group; it gets the host (root and journaled writes). */
struct cli_subcommand {
	const char *name;
	int (*run)(const struct vfio_host *host, int argc, char **argv);
};

/* `passvm GROUP [--root DIR] SUB ARGS...`: help, an unknown SUB (usage
 * error), opening the host root, and running SUB from the table. */
int cli_run_group(const char *group, int argc, char **argv,
		  const struct cli_subcommand *subs, size_t nsubs,
		  void (*usage)(FILE *out));

struct cli_command {
	const char *name;
	const char *summary;
	int (*main)(int argc, char **argv); /* argv[0] is the subcommand name */
};

#endif
