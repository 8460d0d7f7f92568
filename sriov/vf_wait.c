// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Waiting for new VFs. Writing sriov_numvfs creates the VF devices before it
 * returns (drivers/pci/iov.c sriov_enable -> pci_iov_add_virtfn ->
 * pci_device_add), but their uevents are processed afterwards: with udevd
 * running, rules (names, permissions, the host driver's autoload) run
 * asynchronously. So the monitor is opened before the write, and after it
 * we wait for an "add" event of each VF, bounded by a timeout, instead of
 * sleeping. Without udevd (a minimal initramfs, the lab) the kernel's own
 * uevents are the ones to wait for.
 */
#include "sriov.h"

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

int sriov_vf_watch_begin(const struct host_root *root, struct sriov_vf_watch *w)
{
	memset(w, 0, sizeof(*w));
	w->root = root;
	if (!root->is_real)
		return 0; /* a fixture tree: nothing announces anything */
	struct udev *udev = udev_new();
	if (!udev)
		return -ENOMEM;
	const char *source = host_root_exists(root, "run/udev/control") ? "udev" : "kernel";
	struct udev_monitor *mon = udev_monitor_new_from_netlink(udev, source);
	int r = mon ? 0 : -ENOMEM;
	if (r == 0 && udev_monitor_filter_add_match_subsystem_devtype(mon, "pci", NULL) < 0)
		r = -EINVAL;
	if (r == 0 && udev_monitor_enable_receiving(mon) < 0)
		r = -EIO;
	if (r < 0) {
		if (mon)
			udev_monitor_unref(mon);
		udev_unref(udev);
		return r;
	}
	w->udev = udev;
	w->monitor = mon;
	return 0;
}

/* The BDF of PF's virtfnN, or "" while it does not exist. */
static void vf_bdf(const struct host_root *root, const char *pf_bdf, unsigned n,
		   char *out, size_t size)
{
	char path[128];
	snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/virtfn%u", pf_bdf, n);
	if (host_root_link_basename(root, path, out, size) < 0)
		out[0] = '\0';
}

int sriov_vf_watch_wait(struct sriov_vf_watch *w, const char *pf_bdf,
			unsigned count, int timeout_ms)
{
	bool seen[SRIOV_MAX_VFS] = { false };
	char bdfs[SRIOV_MAX_VFS][PCI_ADDR_STRLEN + 8];
	if (count > SRIOV_MAX_VFS)
		return -EINVAL;
	long long deadline = now_ms() + timeout_ms;
	for (;;) {
		unsigned ready = 0;
		for (unsigned i = 0; i < count; i++) {
			vf_bdf(w->root, pf_bdf, i, bdfs[i], sizeof(bdfs[i]));
			if (bdfs[i][0] && (seen[i] || !w->monitor))
				ready++;
		}
		if (ready == count)
			return 0;
		long long left = deadline - now_ms();
		if (left <= 0 || !w->monitor)
			return -ETIMEDOUT;
		struct pollfd pfd = { .fd = udev_monitor_get_fd(w->monitor), .events = POLLIN };
		int p = poll(&pfd, 1, (int)left);
		if (p < 0 && errno != EINTR)
			return -errno;
		if (p <= 0)
			continue;
		struct udev_device *d = udev_monitor_receive_device(w->monitor);
		if (!d)
			continue;
		const char *action = udev_device_get_action(d);
		const char *name = udev_device_get_sysname(d);
		if (action && name && strcmp(action, "add") == 0) {
			for (unsigned i = 0; i < count; i++) {
				/* The event may come before we read the link. */
				if (!bdfs[i][0])
					vf_bdf(w->root, pf_bdf, i, bdfs[i], sizeof(bdfs[i]));
				if (strcmp(bdfs[i], name) == 0)
					seen[i] = true;
			}
		}
		udev_device_unref(d);
	}
}

void sriov_vf_watch_end(struct sriov_vf_watch *w)
{
	if (w->monitor)
		udev_monitor_unref(w->monitor);
	if (w->udev)
		udev_unref(w->udev);
	w->monitor = w->udev = NULL;
}
