// SPDX-License-Identifier: GPL-2.0-or-later
/* Dispatch of a command group (`passvm vfio ...`, `passvm sriov ...`):
 * the optional --root, help, and the table of subcommands, in one place. */
#include "cli.h"
#include "common.h"

#include <string.h>

int cli_run_group(const char *group, int argc, char **argv,
		  const struct cli_subcommand *subs, size_t nsubs,
		  void (*usage)(FILE *out))
{
	const char *root_path = "/";
	int i = 1;
	if (i + 1 < argc && strcmp(argv[i], "--root") == 0) {
		root_path = argv[i + 1];
		i += 2;
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "help") == 0) {
		usage(stdout);
		return 0;
	}
	const struct cli_subcommand *sub = NULL;
	for (size_t k = 0; k < nsubs && !sub; k++)
		if (strcmp(argv[i], subs[k].name) == 0)
			sub = &subs[k];
	if (!sub) {
		log_error("unknown %s command '%s'", group, argv[i]);
		usage(stderr);
		return EXIT_USAGE;
	}

	struct host_root root;
	int r = host_root_open(&root, root_path);
	if (r < 0)
		return log_error_errno(r, "cannot open host root %s", root_path), 1;
	struct vfio_host host;
	vfio_host_init(&host, &root);
	int rc = sub->run(&host, argc - i, argv + i);
	host_root_close(&root);
	return rc;
}
