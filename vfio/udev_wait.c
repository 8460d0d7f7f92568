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
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int vfio_wait_group_node(const struct host_root *root, int group, int timeout_ms)
{
	char node[32], name[16];
	snprintf(node, sizeof(node), "dev/vfio/%d", group);
	snprintf(name, sizeof(name), "%d", group);
	if (!root->is_real) /* a fixture tree: no kernel to announce anything */
		return host_root_exists(root, node) ? 0 : -ETIMEDOUT;

	struct udev *udev = udev_new();
	if (!udev)
		return -ENOMEM;
	/* Without udevd (a minimal initramfs, a container) only the kernel's
	 * own uevents exist; udevd's are the ones to wait for when it runs,
	 * since the node is only usable after its rules. */
	const char *source = host_root_exists(root, "run/udev/control") ? "udev" : "kernel";
	struct udev_monitor *mon = udev_monitor_new_from_netlink(udev, source);
	int r = mon ? 0 : -ENOMEM;
	if (r == 0 && udev_monitor_filter_add_match_subsystem_devtype(mon, "vfio", NULL) < 0)
		r = -EINVAL;
	if (r == 0 && udev_monitor_enable_receiving(mon) < 0)
		r = -EIO;

	long long deadline = now_ms() + timeout_ms;
	while (r == 0 && !host_root_exists(root, node)) {
		long long left = deadline - now_ms();
		if (left <= 0) {
			r = -ETIMEDOUT;
			break;
		}
		struct pollfd pfd = { .fd = udev_monitor_get_fd(mon), .events = POLLIN };
		int p = poll(&pfd, 1, (int)left);
		if (p < 0 && errno != EINTR)
			r = -errno;
		if (p <= 0)
			continue;
		struct udev_device *d = udev_monitor_receive_device(mon);
		if (d)
			udev_device_unref(d); /* any vfio event: look again */
	}
	if (mon)
		udev_monitor_unref(mon);
	udev_unref(udev);
	return r;
}
