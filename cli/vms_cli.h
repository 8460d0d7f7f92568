/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The VM commands' shared argument parsing and reporting (cli/cmd_vms.c),
 * used by cmd_vms.c (create/set/config/destroy/list) and cmd_vmctl.c
 * (start/status/shutdown/stop/reboot/pause/resume/terminal). */
#ifndef PASSVM_CLI_VMS_CLI_H
#define PASSVM_CLI_VMS_CLI_H

#include "common.h"
#include "vms.h"

#include <stdbool.h>

struct vms_args {
	const char *config_dir;
	const char *root;
	const char *run_dir;
	bool json;
	bool purge;             /* destroy --purge */
	bool have_id;
	uint32_t id;
	const char *deletes;    /* set --delete */
	/* KEY VALUE pairs, applied in order once all are read */
	char keys[64][32];
	const char *values[64];
	size_t nkeys;
};

/* argv: one ID when want_id; --config-dir/--root/--run-dir everywhere;
 * --KEY VALUE, --json, --delete, --purge where allowed. 0, or the exit
 * status of a usage error (reported). */
int vms_parse_args(int argc, char **argv, bool want_id, bool allow_keys, bool allow_json,
		   bool allow_delete, bool allow_purge, struct vms_args *a);
int vms_cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Each reports its failure once and returns 1 (0 on success). */
int vms_cli_open_store(const char *cmd, const struct vms_args *a, bool create,
		       struct vms_store *store);
int vms_cli_lock_vm(const char *cmd, const struct vms_store *store, uint32_t id, int *fd);
int vms_cli_vm_must_exist(const char *cmd, const struct vms_store *store, uint32_t id);
int vms_cli_load_vm(const char *cmd, const struct vms_store *store, uint32_t id,
		    struct vms_config *conf);
int vms_cli_open_root(const char *cmd, const struct vms_args *a, struct host_root *root);
int vms_cli_open_run(const char *cmd, const struct vms_args *a, const struct host_root *root,
		     bool create, struct vms_run *run);
/* Prints text and returns true when argv asks for --help. */
bool vms_cli_wants_help(int argc, char **argv, const char *text);

#endif
