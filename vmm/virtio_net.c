// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio-net (virtio 1.2, 5.1) on a tap.
 *
 * Queues: receiveq/transmitq pairs 0..N-1 (2i, 2i+1), then the control
 * queue (2N). Pair i and tap queue i are served on one event-loop thread
 * (queue_group), which owns all of the pair's state, so the frame path
 * takes no lock: TX on the transmit queue's notification (the frame goes
 * to the tap with one writev, straight from guest memory after the header,
 * which is copied and checked first); RX when the tap's queue fd is
 * readable: the frame is read with one readv straight into the guest's
 * buffers, several of them with VIRTIO_NET_F_MRG_RXBUF (num_buffers says
 * how many, 5.1.6.4).
 *
 * Enough buffers before reading: a frame read from the tap cannot be put
 * back, so RX first takes chains from the ring until they can hold the
 * largest frame the tap may hand over (64 KiB with the guest's GSO
 * offloads on, else an MTU-sized frame). With too few, it stops watching
 * the tap until the guest adds buffers and notifies, as QEMU's
 * virtio_net_has_buffers does; chains taken but unused stay with the
 * device for the next frame (a device may hold buffers as long as it
 * likes, 2.7.14).
 *
 * The control queue (MQ: how many pairs are in use; GUEST_OFFLOADS) runs on
 * pair 0's thread; it tells another pair's thread to start or stop
 * watching its tap queue through that pair's eventfd, so each pair's tap
 * state changes only on its own thread.
 */
#include "virtio_net.h"
#include "evloop.h"
#include "net.h"
#include "virtio.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define QUEUE_SIZE 256
/* Chains RX may hold: enough for a 64 KiB frame in the smallest buffers
 * Linux posts (GOOD_PACKET_LEN, 1518 bytes, in mergeable mode). */
#define RX_HELD_MAX 64
#define RX_BIG_NEED (VMM_VIRTIO_NET_HDR_BYTES + VMM_VIRTIO_NET_MAX_FRAME)
#define RX_IOV_MAX 1024
#define LOG_INTERVAL_MS 5000

/* virtio_net_config up to max_virtqueue_pairs (5.1.4): mac, status,
 * max_virtqueue_pairs. No MTU, speed or RSS fields are offered. */
#define CONFIG_BYTES 10

struct vmm_virtio_net;

struct net_pair {
	struct vmm_virtio_net *net;
	unsigned index;
	int tap_fd;
	int ctl_fd;                 /* eventfd: "look at want_enabled" */
	atomic_bool want_enabled;   /* set by the control queue */
	bool enabled;               /* pair in use (loop thread) */
	bool polling;               /* tap_fd on the loop (loop thread) */
	bool ctl_added;
	/* RX chains taken from the ring and not yet used. */
	struct virtq_chain *held;   /* a ring of RX_HELD_MAX, from held_first */
	unsigned held_first, nheld;
	uint64_t held_bytes;
	bool refill_expected;       /* frames given since the ring last ran dry */
	struct iovec rx_iov[RX_IOV_MAX];
	uint32_t rx_len[RX_HELD_MAX];
	struct iovec tx_iov[VIRTQ_CHAIN_MAX + 1];
	struct virtq_chain tx_chain;
};

struct vmm_virtio_net {
	struct virtio_device *vdev;
	struct vmm_net_host *host;
	unsigned pairs;
	uint64_t features;          /* negotiated (activate) */
	bool mergeable;
	uint64_t rx_need;           /* bytes of buffers RX wants before a read */
	uint8_t config[CONFIG_BYTES];
	struct net_pair pair[VMM_NET_MAX_QUEUE_PAIRS];
	struct virtq_chain ctrl_chain;
	char id[16];
	/* Frames the guest got wrong (dropped, not fatal): counted and logged
	 * at most once per LOG_INTERVAL_MS. */
	atomic_ulong tx_bad, tx_errors, rx_dropped, rx_frames, tx_frames;
	long long bad_logged_ms; /* ratelimit_pass */
	atomic_bool gone_logged;     /* the tap went away: said once */
};

static unsigned ctrl_queue(const struct vmm_virtio_net *n)
{
	return 2 * n->pairs;
}

/* ---- rate-limited reports of guest mistakes -------------------------------- */

static void report_bad(struct vmm_virtio_net *n, const char *what)
{
	if (!ratelimit_pass(&n->bad_logged_ms, LOG_INTERVAL_MS))
		return;
	log_warn("%s (virtio-net): transmit queue: %s; frame dropped (%lu bad frame(s) "
		 "dropped so far)", n->id, what, atomic_load(&n->tx_bad));
}

/* ---- config space ------------------------------------------------------------ */

static void config_read(void *dev, uint32_t offset, uint8_t *data, uint32_t size)
{
	struct vmm_virtio_net *n = dev;
	memcpy(data, n->config + offset, size);
}

/* ---- TX ---------------------------------------------------------------------- */

/* Sends one frame. Returns false when the chain itself breaks the ring's
 * rules (no room for the header, larger than any frame): the device is
 * then broken. A header that breaks a rule costs that frame only. */
static bool tx_one(struct vmm_virtio_net *n, struct net_pair *p, unsigned q,
		   const struct virtq_chain *c)
{
	struct virtio_net_hdr_v1 hdr;
	unsigned frame_iov;
	size_t bytes;
	enum vmm_virtio_net_tx_error e =
		vmm_virtio_net_tx_parse(c->iov, c->n_out, n->features, &hdr, p->tx_iov + 1,
					VIRTQ_CHAIN_MAX, &frame_iov, &bytes);
	if (e == VMM_NET_TX_SHORT || e == VMM_NET_TX_TOO_BIG || e == VMM_NET_TX_IOV) {
		virtio_device_broken(n->vdev, q, "transmit queue %u: %s", q,
				     vmm_virtio_net_tx_error_name(e));
		return false;
	}
	if (e != VMM_NET_TX_OK) {
		atomic_fetch_add(&n->tx_bad, 1);
		report_bad(n, vmm_virtio_net_tx_error_name(e));
		return true;
	}
	p->tx_iov[0] = (struct iovec){ .iov_base = &hdr, .iov_len = sizeof(hdr) };
	ssize_t w = writev(p->tap_fd, p->tx_iov, (int)frame_iov + 1);
	if (w < 0) {
		/* EINVAL: the kernel's own header checks; EAGAIN/ENOBUFS:
		 * the host is short of memory; EBADFD: a detached queue.
		 * A NIC drops such frames too. */
		atomic_fetch_add(&n->tx_errors, 1);
		return true;
	}
	atomic_fetch_add(&n->tx_frames, 1);
	return true;
}

static void tx_drain(struct vmm_virtio_net *n, unsigned q)
{
	struct net_pair *p = &n->pair[q / 2];
	struct virtq *vq = virtio_queue(n->vdev, q);
	int r = 0;
	for (;;) {
		virtq_disable_notify(vq);
		while ((r = virtio_queue_pop(n->vdev, q, &p->tx_chain)) > 0) {
			const struct virtq_chain *c = &p->tx_chain;
			/* 5.1.6.2: a transmit buffer is device-readable only. */
			if (c->n_in) {
				virtio_device_broken(n->vdev, q, "transmit queue %u: a writable "
						     "buffer in a transmit chain", q);
				return;
			}
			if (!tx_one(n, p, q, c))
				return;
			virtq_push(vq, c->head, 0);
		}
		if (r < 0 || !virtq_enable_notify(vq))
			break;
	}
	virtio_queue_interrupt(n->vdev, q);
}

/* ---- RX ---------------------------------------------------------------------- */

static void rx_fn(void *ctx, uint32_t events);

static struct virtq_chain *held(struct net_pair *p, unsigned k)
{
	return &p->held[(p->held_first + k) % RX_HELD_MAX];
}

static void rx_watch(struct net_pair *p, bool on)
{
	struct vmm_evloop *loop = virtio_queue_loop(p->net->vdev, 2 * p->index);
	if (on && !p->polling)
		p->polling = vmm_evloop_add(loop, p->tap_fd, EPOLLIN, rx_fn, p) == 0;
	else if (!on && p->polling) {
		vmm_evloop_remove(loop, p->tap_fd);
		p->polling = false;
	}
}

/* Takes chains until the held ones can take the largest frame. 1: enough;
 * 0: the ring ran dry first; -1: the device broke. */
static int rx_fill(struct vmm_virtio_net *n, struct net_pair *p, unsigned q)
{
	uint64_t need = n->mergeable ? n->rx_need : 1;
	while (p->nheld < RX_HELD_MAX && (n->mergeable ? p->held_bytes < need : p->nheld == 0)) {
		struct virtq_chain *c = held(p, p->nheld);
		int r = virtio_queue_pop(n->vdev, q, c);
		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
		/* 5.1.6.3.1: receive buffers are device-writable, and the
		 * first must hold the header. */
		if (c->n_out || c->in_bytes < VMM_VIRTIO_NET_HDR_BYTES ||
		    c->in_bytes > UINT32_MAX) {
			virtio_device_broken(n->vdev, q, "receive queue %u: a buffer that is "
					     "readable or too small for the header", q);
			return -1;
		}
		p->held_bytes += c->in_bytes;
		p->nheld++;
	}
	return 1;
}

/* Writes num_buffers (the last 2 bytes of the header) into the first
 * chain, which may split the header across buffers. */
static void rx_set_num_buffers(const struct virtq_chain *c, uint16_t count)
{
	uint16_t v = htole16(count);
	const uint8_t *src = (const uint8_t *)&v;
	size_t off = VMM_VIRTIO_NET_HDR_BYTES - 2;
	for (unsigned i = 0, done = 0; i < c->n_in && done < 2; i++) {
		size_t l = c->iov[i].iov_len;
		if (off >= l) {
			off -= l;
			continue;
		}
		size_t take = l - off < 2 - done ? l - off : 2 - done;
		memcpy((uint8_t *)c->iov[i].iov_base + off, src + done, take);
		done += (unsigned)take;
		off = 0;
	}
}

/* Reads one frame into the held chains. 1: a frame; 0: nothing to read;
 * -1: stop (an error already counted). */
static int rx_one(struct vmm_virtio_net *n, struct net_pair *p, struct virtq *vq)
{
	unsigned niov = 0, chains = n->mergeable ? p->nheld : 1;
	for (unsigned k = 0; k < chains && niov < RX_IOV_MAX; k++)
		for (unsigned i = 0; i < held(p, k)->n_in && niov < RX_IOV_MAX; i++)
			p->rx_iov[niov++] = held(p, k)->iov[i];
	ssize_t got = readv(p->tap_fd, p->rx_iov, (int)niov);
	if (got < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		/* EFAULT: a frame larger than the buffers (tun_put_user),
		 * dropped by the kernel. EBADFD: the queue was detached. */
		atomic_fetch_add(&n->rx_dropped, 1);
		return errno == EFAULT ? 1 : -1;
	}
	/* Give back as many chains as the frame filled, in order: all full
	 * but the last (5.1.6.4.2). readv wrote at most what they hold. */
	uint64_t left = (uint64_t)got;
	unsigned used = 0;
	do {
		uint64_t cap = held(p, used)->in_bytes;
		uint32_t len = (uint32_t)(left < cap ? left : cap);
		p->rx_len[used] = len;
		left -= len;
		used++;
	} while (left > 0 && used < chains);
	/* num_buffers before the used entries are published. */
	rx_set_num_buffers(held(p, 0), (uint16_t)used);
	for (unsigned k = 0; k < used; k++) {
		virtq_push(vq, held(p, k)->head, p->rx_len[k]);
		p->held_bytes -= held(p, k)->in_bytes;
	}
	p->held_first = (p->held_first + used) % RX_HELD_MAX;
	p->nheld -= used;
	p->refill_expected = true;
	atomic_fetch_add(&n->rx_frames, 1);
	return 1;
}

static void rx_drain(struct net_pair *p)
{
	struct vmm_virtio_net *n = p->net;
	unsigned q = 2 * p->index;
	struct virtq *vq = virtio_queue(n->vdev, q);
	unsigned frames = 0;
	if (!p->enabled || !vq || !vq->size)
		return;
	for (;;) {
		int r = rx_fill(n, p, q);
		if (r < 0) {
			rx_watch(p, false);
			break;
		}
		if (r == 0 && p->nheld == 0) {
			/* No buffers: wait for the guest's notification,
			 * unless buffers arrived while we looked. */
			if (virtq_enable_notify(vq))
				continue;
			rx_watch(p, false);
			break;
		}
		if (r == 0 && n->mergeable && p->held_bytes < n->rx_need) {
			/* Short of room for the largest frame. If the guest
			 * has frames of ours to take, it refills after them:
			 * wait for that. If not, it has posted all it will
			 * (a small ring): read into what there is; a frame
			 * larger than that is dropped by the tap (EFAULT). */
			if (virtq_enable_notify(vq))
				continue;
			if (p->refill_expected) {
				p->refill_expected = false;
				rx_watch(p, false);
				break;
			}
		}
		r = rx_one(n, p, vq);
		if (r <= 0)
			break;
		/* Interrupt now and then while a burst lasts, so the guest
		 * starts on the first frames early. */
		if (++frames % 64 == 0)
			virtio_queue_interrupt(n->vdev, q);
	}
	virtio_queue_interrupt(n->vdev, q);
}

static void rx_fn(void *ctx, uint32_t events)
{
	struct net_pair *p = ctx;
	if (events & (EPOLLERR | EPOLLHUP)) {
		/* A queue detached from its tap polls as an error, for good
		 * (tun_chr_poll: no tun_struct), and so does every queue of a
		 * tap deleted under us (`ip link del`: tun_detach_all). Stop
		 * watching it, or the level-triggered error would spin this
		 * thread; writes to it fail EBADFD and count as tx_errors.
		 * The VM runs on without a network. pair_apply stops watching
		 * before it detaches a queue, so this is not the guest's doing:
		 * say so once. */
		rx_watch(p, false);
		bool no = false;
		if (atomic_compare_exchange_strong(&p->net->gone_logged, &no, true))
			log_warn("%s (virtio-net): tap %s: queue %u reports an error (the tap was "
				 "deleted?); the guest's network is down, the VM runs on",
				 p->net->id, p->net->host->tap.name, p->index);
		return;
	}
	rx_drain(p);
}

/* ---- pairs in use -------------------------------------------------------------- */

/* On the pair's own thread: apply want_enabled. */
static void pair_apply(struct net_pair *p)
{
	bool want = atomic_load(&p->want_enabled);
	if (want == p->enabled)
		return;
	if (want) {
		vmm_tap_queue_enable(&p->net->host->tap, p->index, true);
		p->enabled = true;
		rx_watch(p, true);
	} else {
		rx_watch(p, false);
		p->enabled = false;
		vmm_tap_queue_enable(&p->net->host->tap, p->index, false);
	}
}

static void ctl_fn(void *ctx, uint32_t events)
{
	struct net_pair *p = ctx;
	uint64_t v;
	if (read(p->ctl_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	pair_apply(p);
}

/* ---- control queue ------------------------------------------------------------- */

static uint8_t ctrl_apply(struct vmm_virtio_net *n, const struct virtq_chain *c)
{
	struct vmm_virtio_net_ctrl cmd;
	if (vmm_virtio_net_ctrl_parse(c->iov, c->n_out, &cmd) < 0 ||
	    vmm_virtio_net_ctrl_check(&cmd, n->features, n->pairs) < 0)
		return VIRTIO_NET_ERR;
	if (cmd.cls == VIRTIO_NET_CTRL_MQ) {
		for (unsigned i = 0; i < n->pairs; i++) {
			atomic_store(&n->pair[i].want_enabled, i < cmd.queue_pairs);
			uint64_t one = 1;
			if (write(n->pair[i].ctl_fd, &one, sizeof(one)) < 0)
				return VIRTIO_NET_ERR;
		}
		return VIRTIO_NET_OK;
	}
	/* GUEST_OFFLOADS_SET: what the tap may hand over from now on
	 * (the Linux driver turns them off for XDP). */
	unsigned tun = vmm_virtio_net_tap_offloads(cmd.offloads);
	if (vmm_tap_set_offload(&n->host->tap, tun & n->host->tap.offloads_supported) < 0)
		return VIRTIO_NET_ERR;
	return VIRTIO_NET_OK;
}

static void ctrl_drain(struct vmm_virtio_net *n, unsigned q)
{
	struct virtq *vq = virtio_queue(n->vdev, q);
	struct virtq_chain *c = &n->ctrl_chain;
	int r;
	while ((r = virtio_queue_pop(n->vdev, q, c)) > 0) {
		/* 5.1.6.5: class, command, data (readable), then the ack byte
		 * (writable). */
		if (c->n_out == 0 || c->n_in == 0 || c->iov[c->n_out].iov_len == 0) {
			virtio_device_broken(n->vdev, q, "control queue: a command without "
					     "its readable part or its ack byte");
			return;
		}
		uint8_t ack = ctrl_apply(n, c);
		memcpy(c->iov[c->n_out].iov_base, &ack, 1);
		virtq_push(vq, c->head, 1);
	}
	virtio_queue_interrupt(n->vdev, q);
}

/* ---- virtio_device_ops -------------------------------------------------------- */

static void queue_notify(void *dev, unsigned q)
{
	struct vmm_virtio_net *n = dev;
	if (q == ctrl_queue(n)) {
		ctrl_drain(n, q);
	} else if (q % 2) {
		tx_drain(n, q);
	} else {
		struct net_pair *p = &n->pair[q / 2];
		/* Buffers arrived: watch the tap again and read what waits. */
		if (p->enabled)
			rx_watch(p, true);
		rx_drain(p);
	}
}

static unsigned queue_group(void *dev, unsigned q)
{
	struct vmm_virtio_net *n = dev;
	return q == ctrl_queue(n) ? 0 : q / 2;
}

static int activate(void *dev, uint64_t features)
{
	struct vmm_virtio_net *n = dev;
	n->features = features;
	n->mergeable = features & VMM_BIT(VIRTIO_NET_F_MRG_RXBUF);
	unsigned tun = vmm_virtio_net_tap_offloads(features);
	/* Room for the largest frame the tap can hand over: 64 KiB with
	 * GSO, else one of the tap's MTU, which passvm does not control (the
	 * bridge's may be 9000): 64 KiB too, which Linux's ring of 256
	 * buffers of at least 1518 bytes always has. */
	n->rx_need = RX_BIG_NEED;
	int r = vmm_tap_set_offload(&n->host->tap, tun & n->host->tap.offloads_supported);
	if (r < 0)
		return r;
	/* One pair in use until the driver asks for more (5.1.6.5.5). */
	for (unsigned i = 0; i < n->pairs; i++) {
		struct net_pair *p = &n->pair[i];
		p->nheld = p->held_first = 0;
		p->held_bytes = 0;
		p->refill_expected = false;
		p->enabled = false;
		atomic_store(&p->want_enabled, i == 0);
		struct vmm_evloop *loop = virtio_queue_loop(n->vdev, 2 * i);
		r = vmm_evloop_add(loop, p->ctl_fd, EPOLLIN, ctl_fn, p);
		if (r < 0)
			return r;
		p->ctl_added = true;
		if (i > 0)
			vmm_tap_queue_enable(&n->host->tap, i, false);
		/* pair_apply runs on the pair's thread from the ctl fd. */
		uint64_t one = 1;
		if (write(p->ctl_fd, &one, sizeof(one)) < 0)
			return -errno;
	}
	return 0;
}

static void reset(void *dev)
{
	struct vmm_virtio_net *n = dev;
	/* The transport no longer serves the queues' notifications; stop
	 * the pairs' own fds, waiting for a callback in progress, and drop
	 * held buffers (the rings are gone with the reset). */
	for (unsigned i = 0; i < n->pairs; i++) {
		struct net_pair *p = &n->pair[i];
		struct vmm_evloop *loop = virtio_queue_loop(n->vdev, 2 * i);
		if (p->ctl_added)
			vmm_evloop_remove(loop, p->ctl_fd);
		p->ctl_added = false;
		/* Unconditionally: `polling` is the loop thread's, and this
		 * remove (-ENOENT when not watched) waits for an RX callback
		 * in progress, after which nothing re-adds the fd. */
		vmm_evloop_remove(loop, p->tap_fd);
		p->polling = false;
		p->enabled = false;
		p->nheld = p->held_first = 0;
		p->held_bytes = 0;
		vmm_tap_queue_enable(&n->host->tap, i, true);
	}
	vmm_tap_set_offload(&n->host->tap, 0);
	n->features = 0;
}

static const struct virtio_device_ops net_ops = {
	.name = "virtio-net",
	.device_id = VIRTIO_ID_NET,
	.pci_class = 0x020000,      /* network controller, Ethernet */
	.config_read = config_read,
	.activate = activate,
	.queue_notify = queue_notify,
	.reset = reset,
	.queue_group = queue_group,
};

int vmm_virtio_net_create_env(struct vmm_virtio_net **out, const struct virtio_pci_env *env,
			      struct vmm_net_host *host, unsigned index)
{
	struct vmm_virtio_net *n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->host = host;
	n->pairs = host->tap.nr_queues;
	snprintf(n->id, sizeof(n->id), "net%u", index);
	memcpy(n->config, host->mac, 6);
	uint16_t status = htole16(VIRTIO_NET_S_LINK_UP), maxp = htole16((uint16_t)n->pairs);
	memcpy(n->config + 6, &status, 2);
	memcpy(n->config + 8, &maxp, 2);
	int r = 0;
	for (unsigned i = 0; i < VMM_NET_MAX_QUEUE_PAIRS; i++)
		n->pair[i].ctl_fd = -1;
	for (unsigned i = 0; i < n->pairs; i++) {
		struct net_pair *p = &n->pair[i];
		p->net = n;
		p->index = i;
		p->tap_fd = host->tap.fds[i];
		p->ctl_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		p->held = calloc(RX_HELD_MAX, sizeof(*p->held));
		if (p->ctl_fd < 0 || !p->held) {
			r = p->ctl_fd < 0 ? -errno : -ENOMEM;
			goto fail;
		}
	}
	struct virtio_device_params params = {
		.ops = &net_ops,
		.dev = n,
		.features = vmm_virtio_net_features(host->tap.offloads_supported, n->pairs),
		.config_bytes = CONFIG_BYTES,
		.num_queues = 2 * n->pairs + 1,
		.queue_size_max = QUEUE_SIZE,
		.id = n->id,
	};
	r = virtio_pci_create(&n->vdev, env, &params);
	if (r < 0)
		goto fail;
	*out = n;
	return 0;
fail:
	n->host = NULL;   /* the caller still owns it */
	vmm_virtio_net_destroy(n);
	return r;
}

int vmm_virtio_net_create(struct vmm_virtio_net **out, struct vmm_vm *vm,
			  struct vmm_net_host *host, unsigned index)
{
	struct virtio_pci_env env = {
		.mem = &vm->mem, .mmio = &vm->mmio, .pci = &vm->pci,
		.irqchip = &vm->irqchip, .vm = &vm->vm,
	};
	return vmm_virtio_net_create_env(out, &env, host, index);
}

void vmm_virtio_net_destroy(struct vmm_virtio_net *n)
{
	if (!n)
		return;
	virtio_pci_destroy(n->vdev);   /* resets first: no thread touches n */
	for (unsigned i = 0; i < VMM_NET_MAX_QUEUE_PAIRS; i++) {
		if (n->pair[i].ctl_fd >= 0)
			close(n->pair[i].ctl_fd);
		free(n->pair[i].held);
	}
	if (n->host)
		vmm_net_host_close(n->host);
	free(n);
}

void vmm_virtio_net_stats(const struct vmm_virtio_net *n, struct vmm_virtio_net_counters *c)
{
	c->tx_frames = atomic_load(&n->tx_frames);
	c->rx_frames = atomic_load(&n->rx_frames);
	c->tx_bad = atomic_load(&n->tx_bad);
	c->tx_errors = atomic_load(&n->tx_errors);
	c->rx_dropped = atomic_load(&n->rx_dropped);
}

struct virtio_device *vmm_virtio_net_vdev(struct vmm_virtio_net *n)
{
	return n->vdev;
}
