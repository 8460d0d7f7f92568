// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Who holds a VFIO group open: the processes with an fd on /dev/vfio/N
 * (proc(5), /proc/PID/fd). The kernel does not say who owns a group, and a
 * group that is open cannot be given back to its host driver without
 * yanking the device from under that process (the unbind blocks until the
 * VFIO user lets go: drivers/vfio/vfio_main.c vfio_unregister_group_dev).
 */
#include "vfio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_pid(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static bool pid_holds(const struct host_root *root, const char *pid, const char *node)
{
	char path[64], target[256];
	char **fds;
	size_t n;
	bool found = false;
	snprintf(path, sizeof(path), "proc/%s/fd", pid);
	/* EACCES/ENOENT: not ours to see, or exited meanwhile. */
	if (host_root_list_dir(root, path, &fds, &n) < 0)
		return false;
	for (size_t i = 0; i < n && !found; i++) {
		snprintf(path, sizeof(path), "proc/%s/fd/%s", pid, fds[i]);
		if (host_root_readlink(root, path, target, sizeof(target)) > 0)
			found = strcmp(target, node) == 0;
	}
	strv_free(fds, n);
	return found;
}

int vfio_group_holders(const struct host_root *root, int group,
		       struct vfio_holder **holders_out, size_t *count_out)
{
	char node[32], **pids;
	size_t n;
	*holders_out = NULL;
	*count_out = 0;
	snprintf(node, sizeof(node), "/dev/vfio/%d", group);
	int r = host_root_list_dir(root, "proc", &pids, &n);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	struct vfio_holder *holders = NULL;
	size_t count = 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_pid(pids[i]) || !pid_holds(root, pids[i], node))
			continue;
		struct vfio_holder *grown = realloc(holders, (count + 1) * sizeof(*holders));
		if (!grown) {
			r = -ENOMEM;
			break;
		}
		holders = grown;
		holders[count].pid = atoi(pids[i]);
		char path[64];
		snprintf(path, sizeof(path), "proc/%s/comm", pids[i]);
		if (host_root_read(root, path, holders[count].comm,
				   sizeof(holders[count].comm)) < 0)
			holders[count].comm[0] = '\0';
		count++;
	}
	strv_free(pids, n);
	if (r < 0) {
		free(holders);
		return r;
	}
	*holders_out = holders;
	*count_out = count;
	return 0;
}
