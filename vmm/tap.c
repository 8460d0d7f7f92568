// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The tap device behind a virtio-net interface. The ioctls are those of
 * drivers/net/tun.c and Documentation/networking/tuntap.rst; the vnet header
 * size and byte order are what virtio 1.x says the driver writes
 * (virtio 1.2, 5.1.6: struct virtio_net_hdr, num_buffers always present,
 * little-endian).
 */
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int tap_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) < 0 ? -errno : 0;
}

/* One queue: open /dev/net/tun, attach it to the device, set the header. */
static int open_queue(struct vmm_tap *tap, const struct host_root *root, const char *name,
		      unsigned flags)
{
	int fd = host_root_openat(root, "dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return fd;
	struct ifreq ifr = { .ifr_flags = (short)flags };
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	int hdr = VMM_TAP_VNET_HDR_BYTES, le = 1;
	int r = tap_ioctl(fd, TUNSETIFF, &ifr);
	if (r == 0)
		r = tap_ioctl(fd, TUNSETVNETHDRSZ, &hdr);
	/* Only matters on a big-endian host, where the tap would otherwise
	 * use the legacy (native) byte order. */
	if (r == 0)
		r = tap_ioctl(fd, TUNSETVNETLE, &le);
	if (r < 0) {
		close(fd);
		return r;
	}
	snprintf(tap->name, IFNAMSIZ, "%s", ifr.ifr_name);
	tap->fds[tap->nr_queues++] = fd;
	return 0;
}

/* TUNSETOFFLOAD answers -EINVAL for a bit it does not know ("a way to test
 * for new features", tun.c set_offload); TSO and UFO need TUN_F_CSUM. */
static unsigned probe_offloads(int fd)
{
	static const unsigned want[] = { TUN_F_TSO4, TUN_F_TSO6, TUN_F_TSO_ECN, TUN_F_UFO };
	unsigned ok = 0, f = TUN_F_CSUM;
	if (ioctl(fd, TUNSETOFFLOAD, f) < 0)
		return 0;
	ok = TUN_F_CSUM;
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		f = TUN_F_CSUM | want[i];
		if (want[i] == TUN_F_TSO_ECN)
			f |= TUN_F_TSO4;
		if (ioctl(fd, TUNSETOFFLOAD, f) == 0)
			ok |= want[i];
	}
	return ok;
}

int vmm_tap_open(struct vmm_tap *tap, const struct host_root *root, const char *name,
		 unsigned queues)
{
	memset(tap, 0, sizeof(*tap));
	for (unsigned i = 0; i < VMM_TAP_MAX_QUEUES; i++)
		tap->fds[i] = -1;
	if (queues == 0 || queues > VMM_TAP_MAX_QUEUES)
		return -EINVAL;
	unsigned flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (queues > 1)
		flags |= IFF_MULTI_QUEUE;
	/* "passvm%d": the kernel picks the first free number
	 * (dev_alloc_name), so concurrent VMs cannot race for a name. */
	int r = open_queue(tap, root, name ? name : "passvm%d", flags);
	if (r < 0)
		return r;
	struct ifreq ifr = { 0 };
	r = tap_ioctl(tap->fds[0], TUNGETIFF, &ifr);
	if (r < 0)
		goto fail;
	if (name && !(ifr.ifr_flags & IFF_PERSIST)) {
		/* TUNSETIFF made a new tap of that name, or joined one that
		 * another process holds: neither is "an existing tap". Closing
		 * our fd deletes what we made. */
		r = -ENODEV;
		goto fail;
	}
	tap->created = !name;
	for (unsigned q = 1; q < queues; q++) {
		r = open_queue(tap, root, tap->name, flags);
		if (r < 0)
			goto fail;
	}
	tap->ifindex = (int)if_nametoindex(tap->name);
	if (tap->ifindex == 0) {
		r = -ENODEV;
		goto fail;
	}
	tap->offloads_supported = probe_offloads(tap->fds[0]);
	r = vmm_tap_set_offload(tap, 0);
	if (r < 0)
		goto fail;
	return 0;
fail:
	vmm_tap_close(tap);
	return r;
}

void vmm_tap_close(struct vmm_tap *tap)
{
	for (unsigned i = 0; i < tap->nr_queues; i++) {
		if (tap->fds[i] >= 0)
			close(tap->fds[i]);
		tap->fds[i] = -1;
	}
	tap->nr_queues = 0;
}

int vmm_tap_set_offload(struct vmm_tap *tap, unsigned tun_flags)
{
	if (tun_flags & ~tap->offloads_supported)
		return -EOPNOTSUPP;
	if (tap->nr_queues == 0)
		return -EBADF;
	/* The flags are the device's (netdev features), not one queue's. */
	return ioctl(tap->fds[0], TUNSETOFFLOAD, tun_flags) < 0 ? -errno : 0;
}

int vmm_tap_set_mac(struct vmm_tap *tap, const uint8_t mac[6])
{
	struct ifreq ifr = { 0 };
	if (tap->nr_queues == 0)
		return -EBADF;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", tap->name);
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
	return tap_ioctl(tap->fds[0], SIOCSIFHWADDR, &ifr);
}

int vmm_tap_queue_enable(struct vmm_tap *tap, unsigned q, bool enable)
{
	if (q >= tap->nr_queues)
		return -EINVAL;
	if (tap->nr_queues == 1)
		return 0; /* TUNSETQUEUE is for IFF_MULTI_QUEUE taps only */
	struct ifreq ifr = { .ifr_flags = enable ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE };
	int r = tap_ioctl(tap->fds[q], TUNSETQUEUE, &ifr);
	/* Attaching an attached queue (or detaching a detached one) is
	 * -EINVAL in tun.c; the state asked for is what we have. */
	return r == -EINVAL ? 0 : r;
}

int vmm_tap_open_macvtap(struct vmm_tap *tap, const struct host_root *root,
			 const char *dev_path, const char *name, unsigned queues)
{
	memset(tap, 0, sizeof(*tap));
	for (unsigned i = 0; i < VMM_TAP_MAX_QUEUES; i++)
		tap->fds[i] = -1;
	if (queues == 0 || queues > VMM_TAP_MAX_QUEUES)
		return -EINVAL;
	int r = 0;
	for (unsigned q = 0; q < queues && r == 0; q++) {
		int fd = host_root_openat(root, dev_path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0) {
			r = fd;
			break;
		}
		int hdr = VMM_TAP_VNET_HDR_BYTES, le = 1;
		r = tap_ioctl(fd, TUNSETVNETHDRSZ, &hdr);
		if (r == 0)
			r = tap_ioctl(fd, TUNSETVNETLE, &le);
		if (r < 0) {
			close(fd);
			break;
		}
		tap->fds[tap->nr_queues++] = fd;
	}
	if (r == 0) {
		snprintf(tap->name, IFNAMSIZ, "%s", name);
		tap->ifindex = (int)if_nametoindex(name);
		tap->offloads_supported = probe_offloads(tap->fds[0]);
		r = tap->ifindex ? vmm_tap_set_offload(tap, 0) : -ENODEV;
	}
	if (r < 0)
		vmm_tap_close(tap);
	return r;
}
