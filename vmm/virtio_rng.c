// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio-rng (virtio 1.2, 5.4): one queue of device-writable buffers,
 * filled from the host kernel's CSPRNG with getrandom(2). Linux's
 * virtio-rng driver feeds hwrng, so a guest has entropy at boot without
 * waiting on its own jitter sources.
 */
#include "virtio.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

/* At most this much per request: a guest asking for gigabytes gets a short
 * answer (allowed: the used length says how much) instead of a thread
 * busy for seconds. */
#define RNG_MAX_PER_REQUEST (64 * 1024)

struct virtio_rng {
	struct virtio_device *vdev;
	struct virtq_chain chain;
};

static void rng_config_read(void *dev, uint32_t off, uint8_t *data, uint32_t size)
{
}

static uint32_t fill(struct virtq_chain *c)
{
	uint32_t total = 0;
	for (unsigned i = c->n_out; i < c->n_out + c->n_in && total < RNG_MAX_PER_REQUEST; i++) {
		size_t want = c->iov[i].iov_len;
		if (want > RNG_MAX_PER_REQUEST - total)
			want = RNG_MAX_PER_REQUEST - total;
		uint8_t *p = c->iov[i].iov_base;
		size_t got = 0;
		while (got < want) {
			ssize_t n = getrandom(p + got, want - got, 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return total + (uint32_t)got;
			got += (size_t)n;
		}
		total += (uint32_t)got;
	}
	return total;
}

static void rng_queue_notify(void *dev, unsigned q)
{
	struct virtio_rng *rng = dev;
	struct virtq *vq = virtio_queue(rng->vdev, q);
	for (;;) {
		virtq_disable_notify(vq);
		int r;
		while ((r = virtio_queue_pop(rng->vdev, q, &rng->chain)) > 0)
			virtq_push(vq, rng->chain.head, fill(&rng->chain));
		if (r < 0 || !virtq_enable_notify(vq))
			break;
	}
	virtio_queue_interrupt(rng->vdev, q);
}

static const struct virtio_device_ops rng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.pci_class = 0xff0000,      /* unclassified: what QEMU uses too */
	.config_read = rng_config_read,
	.queue_notify = rng_queue_notify,
};

int virtio_rng_create(struct virtio_rng **out, const struct virtio_pci_env *env)
{
	struct virtio_rng *rng = calloc(1, sizeof(*rng));
	if (!rng)
		return -ENOMEM;
	struct virtio_device_params p = {
		.ops = &rng_ops, .dev = rng, .num_queues = 1, .queue_size_max = 64, .id = "rng0",
	};
	int r = virtio_pci_create(&rng->vdev, env, &p);
	if (r < 0) {
		free(rng);
		return r;
	}
	*out = rng;
	return 0;
}

void virtio_rng_destroy(struct virtio_rng *rng)
{
	if (!rng)
		return;
	virtio_pci_destroy(rng->vdev);
	free(rng);
}
