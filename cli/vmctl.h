/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli/vmctl.c: the client side of a managed VM's control socket
 * (docs/control.md), and the run state as the VM commands show it.
 */
#ifndef PASSVM_CLI_VMCTL_H
#define PASSVM_CLI_VMCTL_H

#include "control.h"
#include "vms.h"

/* Connects to the socket path. */
int vmctl_connect(const char *socket_path, int *fd);
/* Sends {"cmd": CMD} and reads the one-line reply into fields. A reply
 * with "ok": false returns -EREMOTEIO and its "error" in err; a VMM that
 * does not answer in timeout_ms, -ETIMEDOUT. */
int vmctl_request_fd(int fd, const char *cmd, int timeout_ms, struct vmm_json_field *fields,
		     size_t max, size_t *n, char *err, size_t err_size);
int vmctl_request(const char *socket_path, const char *cmd, int timeout_ms,
		  struct vmm_json_field *fields, size_t max, size_t *n, char *err, size_t err_size);

/* A VM's state for list/status/start: running, paused (asked over the
 * socket) or stopped. A stale pid file is cleaned up, and the devices a
 * dead VM held (its hostpciN) are given back through the VFIO journal;
 * *restored counts them. */
enum vms_status vmctl_vm_state(const struct host_root *root, const struct vms_run *run,
			       const struct vms_config *conf, pid_t *pid, unsigned *restored);

#endif
