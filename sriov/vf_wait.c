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
#include <stdio.h>
#include <string.h>

int sriov_vf_watch_begin(const struct host_root *root, struct sriov_vf_watch *w)
{
	memset(w, 0, sizeof(*w));
	w->root = root;
	if (!root->is_real)
		return 0; /* a fixture tree: nothing announces anything */
	return uevent_monitor_open(&w->events, root, "pci");
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
	long long deadline = monotonic_ms() + timeout_ms;
	for (;;) {
		unsigned ready = 0;
		for (unsigned i = 0; i < count; i++) {
			vf_bdf(w->root, pf_bdf, i, bdfs[i], sizeof(bdfs[i]));
			if (bdfs[i][0] && (seen[i] || !w->events.monitor))
				ready++;
		}
		if (ready == count)
			return 0;
		if (!w->events.monitor)
			return -ETIMEDOUT;
		struct udev_device *d;
		int r = uevent_monitor_next(&w->events, deadline, &d);
		if (r < 0)
			return r;
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
	uevent_monitor_close(&w->events);
}
