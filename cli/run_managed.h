/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli/run_managed.c: `passvm run --control`, the managed VM's main. */
#ifndef PASSVM_CLI_RUN_MANAGED_H
#define PASSVM_CLI_RUN_MANAGED_H

#include "vmm.h"

/* Reports a vmm_vm_create failure in one line (cmd_run.c's). */
typedef void (*run_report_fn)(const struct vmm_vm *vm, const struct vmm_config *cfg, int r);

int run_managed(struct vmm_vm *vm, const struct vmm_config *cfg, const char *control_path,
		const char *console_log_path, run_report_fn report);

#endif
