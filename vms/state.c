// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A VM's run state, read through the host root: `passvm start` (later)
 * writes run/passvm/ID/pid. A pid file outlives a VM process that was
 * killed, so it is believed only when proc/PID exists and is not a zombie
 * (proc(5): the third field of /proc/PID/stat is the state, 'Z' zombie,
 * 'X' dead). A stale pid file therefore reads as stopped, as issue 10 asks.
 */
#include "vms.h"

#include <stdio.h>
#include <string.h>

enum vms_status vms_status_get(const struct host_root *root, uint32_t id, pid_t *pid)
{
	char path[64], buf[512];
	uint64_t v;
	*pid = 0;
	snprintf(path, sizeof(path), "run/passvm/%u/pid", id);
	if (host_root_read(root, path, buf, sizeof(buf)) <= 0)
		return VMS_STOPPED;
	if (parse_u64(buf, &v) < 0 || v < 1 || v > 4194304) /* PID_MAX_LIMIT */
		return VMS_STOPPED;
	snprintf(path, sizeof(path), "proc/%llu/stat", (unsigned long long)v);
	if (host_root_read(root, path, buf, sizeof(buf)) <= 0)
		return VMS_STOPPED;
	/* "pid (comm) S ...": comm may hold ')' itself, so take the last. */
	const char *paren = strrchr(buf, ')');
	if (!paren || paren[1] != ' ' || paren[2] == 'Z' || paren[2] == 'X' || !paren[2])
		return VMS_STOPPED;
	*pid = (pid_t)v;
	return VMS_RUNNING;
}

const char *vms_status_name(enum vms_status status)
{
	return status == VMS_RUNNING ? "running" : "stopped";
}
