// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Waiting for /dev/vfio/N after binding, through libudev's uevent monitor
 * rather than by sleeping: vfio-pci's probe registers the group, the kernel
 * creates the node (devtmpfs, before the uevent goes out: drivers/base/core.c
 * device_add) and announces it; with udevd running, udevd applies the rules
 * (permissions, ownership) and re-broadcasts. So: listen first, then look,
 * then wait for an event about our group and look again.
 */
#include "vfio.h"

#include <errno.h>
#include <libudev.h>
#include <stdio.h>
#include <string.h>

int vfio_wait_group_node(const struct host_root *root, int group, int timeout_ms)
{
	char node[32];
	snprintf(node, sizeof(node), "dev/vfio/%d", group);
	if (!root->is_real) /* a fixture tree: no kernel to announce anything */
		return host_root_exists(root, node) ? 0 : -ETIMEDOUT;

	struct uevent_monitor mon;
	int r = uevent_monitor_open(&mon, root, "vfio");
	long long deadline = monotonic_ms() + timeout_ms;
	while (r == 0 && !host_root_exists(root, node)) {
		struct udev_device *d;
		r = uevent_monitor_next(&mon, deadline, &d);
		if (d)
			udev_device_unref(d); /* any vfio event: look again */
	}
	uevent_monitor_close(&mon);
	return r;
}
