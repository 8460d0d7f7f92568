// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Waiting for kernel device events through libudev, for the code that changes
 * the host and must wait for the result (a /dev/vfio/N node, new SR-IOV VFs)
 * instead of sleeping. With udevd running, its events are the ones to wait
 * for: a node is only usable after its rules (permissions, names) ran.
 * Without udevd (a minimal initramfs, the lab, a container) only the
 * kernel's own uevents exist.
 */
#include "common.h"

#include <errno.h>
#include <libudev.h>
#include <poll.h>
#include <string.h>
#include <time.h>

long long monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int uevent_monitor_open(struct uevent_monitor *m, const struct host_root *root,
			const char *subsystem)
{
	memset(m, 0, sizeof(*m));
	m->udev = udev_new();
	if (!m->udev)
		return -ENOMEM;
	const char *source = host_root_exists(root, "run/udev/control") ? "udev" : "kernel";
	m->monitor = udev_monitor_new_from_netlink(m->udev, source);
	int r = m->monitor ? 0 : -ENOMEM;
	if (r == 0 && udev_monitor_filter_add_match_subsystem_devtype(m->monitor, subsystem, NULL) < 0)
		r = -EINVAL;
	if (r == 0 && udev_monitor_enable_receiving(m->monitor) < 0)
		r = -EIO;
	if (r < 0)
		uevent_monitor_close(m);
	return r;
}

int uevent_monitor_next(struct uevent_monitor *m, long long deadline_ms,
			struct udev_device **dev)
{
	*dev = NULL;
	long long left = deadline_ms - monotonic_ms();
	if (left <= 0)
		return -ETIMEDOUT;
	struct pollfd pfd = { .fd = udev_monitor_get_fd(m->monitor), .events = POLLIN };
	int p = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
	if (p < 0)
		return errno == EINTR ? 0 : -errno;
	if (p > 0)
		*dev = udev_monitor_receive_device(m->monitor);
	return 0;
}

void uevent_monitor_close(struct uevent_monitor *m)
{
	if (m->monitor)
		udev_monitor_unref(m->monitor);
	if (m->udev)
		udev_unref(m->udev);
	m->monitor = NULL;
	m->udev = NULL;
}
