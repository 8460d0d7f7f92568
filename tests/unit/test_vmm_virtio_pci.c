// SPDX-License-Identifier: GPL-2.0-or-later
/* vmm/virtio_pci.c: a driver's view of the transport, through the real PCI
 * host and MMIO bus (no KVM): capabilities, feature negotiation (VERSION_1
 * required, unoffered bits refused), queue set-up, a notification served on
 * the queue's own thread, a bad chain marking the device NEEDS_RESET, and
 * reset. */
#include "virtio.h"
#include "testlib.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#define DESC 0x10000ULL
#define AVAIL 0x11000ULL
#define USED 0x12000ULL
#define BUF 0x20000ULL
#define QSZ 16

static struct vmm_guest_memory mem;
static struct vmm_bus pio, mmio;
static struct vmm_pci_host host;
static struct virtio_device *vdev;
static uint64_t bar0;

static atomic_int notified, resets, activated;
static char thread_name[16];

static void cfg_read(void *dev, uint32_t off, uint8_t *data, uint32_t size)
{
	static const uint8_t cfg[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	memcpy(data, cfg + off, size);
}

static void queue_notify(void *dev, unsigned q)
{
	static struct virtq_chain c;
	int r;
	pthread_getname_np(pthread_self(), thread_name, sizeof(thread_name));
	while ((r = virtio_queue_pop(vdev, q, &c)) > 0)
		virtq_push(virtio_queue(vdev, q), c.head, (uint32_t)c.in_bytes);
	virtio_queue_interrupt(vdev, q);
	atomic_fetch_add(&notified, 1);
}

static int activate(void *dev, uint64_t features)
{
	atomic_fetch_add(&activated, 1);
	return 0;
}

static void reset(void *dev)
{
	atomic_fetch_add(&resets, 1);
}

static const struct virtio_device_ops ops = {
	.name = "test", .device_id = VIRTIO_ID_RNG, .pci_class = 0xff0000,
	.config_read = cfg_read, .queue_notify = queue_notify,
	.activate = activate, .reset = reset,
};

static uint64_t rd(uint64_t off, uint32_t size)
{
	uint8_t b[8] = { 0 };
	vmm_bus_access(&mmio, bar0 + off, b, size, false);
	uint64_t v = 0;
	memcpy(&v, b, size);
	return v;
}

static void wr(uint64_t off, uint32_t size, uint64_t v)
{
	uint8_t b[8];
	memcpy(b, &v, 8);
	vmm_bus_access(&mmio, bar0 + off, b, size, true);
}

static bool wait_for(atomic_int *v, int n)
{
	for (int i = 0; i < 2000 && atomic_load(v) < n; i++)
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	return atomic_load(v) >= n;
}

static void set_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	struct virtq_desc *d = vmm_gpa_to_host(&mem, DESC + 16ULL * i, 16);
	*d = (struct virtq_desc){ addr, len, flags, next };
}

static void offer(uint16_t head)
{
	uint16_t *avail = vmm_gpa_to_host(&mem, AVAIL, 4 + 2 * QSZ);
	avail[2 + avail[1] % QSZ] = head;
	__atomic_store_n(&avail[1], (uint16_t)(avail[1] + 1), __ATOMIC_RELEASE);
}

static uint16_t used_idx(void)
{
	uint16_t *used = vmm_gpa_to_host(&mem, USED, 4);
	return __atomic_load_n(&used[1], __ATOMIC_ACQUIRE);
}

static void start_driver(uint32_t features_hi)
{
	wr(0x14, 1, 0);
	wr(0x14, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(0x08, 4, 1);
	wr(0x0c, 4, features_hi);
	wr(0x14, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
}

int main(void)
{
	struct vmm_memory_map map;
	CHECK_EQ_INT(vmm_memory_map_build(&map, 16ULL << 20, 40), 0);
	CHECK_EQ_INT(vmm_guest_memory_alloc(&mem, &map, false), 0);
	vmm_bus_init(&pio, "pio");
	vmm_bus_init(&mmio, "mmio");
	CHECK_EQ_INT(vmm_pci_host_init(&host, &pio, &mmio, &map), 0);
	struct virtio_pci_env env = { .mem = &mem, .mmio = &mmio, .pci = &host };
	struct virtio_device_params p = {
		.ops = &ops, .config_bytes = 8, .num_queues = 2, .queue_size_max = QSZ,
		.id = "test0", .features = 1ULL << 5,
	};
	struct virtio_device_params badp = p;
	badp.queue_size_max = 12;
	CHECK_EQ_INT(virtio_pci_create(&vdev, &env, &badp), -EINVAL);
	badp = p;
	badp.num_queues = 0;
	CHECK_EQ_INT(virtio_pci_create(&vdev, &env, &badp), -EINVAL);
	CHECK_EQ_INT(virtio_pci_create(&vdev, &env, &p), 0);
	struct vmm_pci_device *pdev = virtio_pci_device(vdev);
	CHECK_EQ_INT(pdev->slot, 1);
	CHECK_EQ_INT(vmm_pci_config_read(pdev, 0, 4), 0x10441af4);
	CHECK_EQ_INT(vmm_pci_config_read(pdev, 8, 1), 1);
	CHECK(pdev->bars[0].mapped && pdev->bars[1].mapped);
	bar0 = pdev->bars[0].mapped_addr;

	/* Capability list: MSI-X, then common, ISR, device, notify. */
	unsigned seen_types = 0, cap = vmm_pci_config_read(pdev, 0x34, 1);
	for (int n = 0; cap && n < 16; n++) {
		if (vmm_pci_config_read(pdev, cap, 1) == 0x09)
			seen_types |= 1u << vmm_pci_config_read(pdev, cap + 3, 1);
		if (vmm_pci_config_read(pdev, cap + 3, 1) == 2)
			CHECK_EQ_INT(vmm_pci_config_read(pdev, cap + 16, 4), 4);
		cap = vmm_pci_config_read(pdev, cap + 1, 1);
	}
	CHECK_EQ_INT(seen_types, 0x1e);

	/* Features: device bits plus VERSION_1, EVENT_IDX, INDIRECT_DESC. */
	wr(0x00, 4, 0);
	CHECK_EQ_INT(rd(0x04, 4), (1u << 5) | (1u << 28) | (1u << 29));
	wr(0x00, 4, 1);
	CHECK_EQ_INT(rd(0x04, 4), 1);
	wr(0x00, 4, 7);
	CHECK_EQ_INT(rd(0x04, 4), 0);
	CHECK_EQ_INT(rd(0x12, 2), 2);
	/* The device config, through BAR 0 + 0x2000; beyond its size: 0. */
	CHECK_EQ_INT(rd(0x2004, 4), 0x08070605);
	CHECK_EQ_INT(rd(0x2006, 4), 0);

	/* FEATURES_OK refused without VERSION_1, and with an unoffered bit. */
	start_driver(0);
	CHECK(!(rd(0x14, 1) & VIRTIO_STATUS_FEATURES_OK));
	start_driver(1 | 2);
	CHECK(!(rd(0x14, 1) & VIRTIO_STATUS_FEATURES_OK));
	start_driver(1);
	CHECK(rd(0x14, 1) & VIRTIO_STATUS_FEATURES_OK);
	/* Features are frozen after FEATURES_OK. */
	wr(0x0c, 4, 3);
	CHECK_EQ_INT(rd(0x0c, 4), 1);

	/* Queue 0: size, vectors (an impossible one reads NO_VECTOR), rings. */
	wr(0x16, 2, 0);
	CHECK_EQ_INT(rd(0x18, 2), QSZ);
	CHECK_EQ_INT(rd(0x1a, 2), VIRTIO_MSI_NO_VECTOR);
	wr(0x1a, 2, 99);
	CHECK_EQ_INT(rd(0x1a, 2), VIRTIO_MSI_NO_VECTOR);
	wr(0x1a, 2, 1);
	CHECK_EQ_INT(rd(0x1a, 2), 1);
	CHECK_EQ_INT(rd(0x1e, 2), 0);
	wr(0x20, 4, DESC);
	wr(0x24, 4, 0);
	wr(0x28, 8, AVAIL);
	wr(0x30, 8, USED);
	CHECK_EQ_INT(rd(0x20, 8), DESC);
	wr(0x1c, 2, 1);
	CHECK_EQ_INT(rd(0x1c, 2), 1);
	wr(0x28, 8, 0x1234);          /* frozen once enabled */
	CHECK_EQ_INT(rd(0x28, 8), AVAIL);
	/* A queue that does not exist reads size 0. */
	wr(0x16, 2, 5);
	CHECK_EQ_INT(rd(0x18, 2), 0);
	wr(0x18, 2, 8);               /* and ignores writes */

	wr(0x14, 1, 0x0f);
	CHECK_EQ_INT(rd(0x14, 1), 0x0f);
	CHECK_EQ_INT(atomic_load(&activated), 1);

	/* One chain, notified by a write to queue 0's notify address. */
	set_desc(0, BUF, 64, VIRTQ_DESC_F_WRITE, 0);
	offer(0);
	int before = atomic_load(&notified);
	wr(0x3000, 2, 0);
	CHECK(wait_for(&notified, before + 1));
	for (int i = 0; i < 2000 && used_idx() != 1; i++)
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	CHECK_EQ_INT(used_idx(), 1);
	CHECK_EQ_STR(thread_name, "test0-q0");
	/* A notify for a queue that does not exist is ignored. */
	wr(0x3000 + 4 * 40, 2, 40);
	wr(0x3ffc, 4, 0);

	/* A looping chain: NEEDS_RESET, one count, the queue stops. */
	set_desc(1, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	offer(1);
	before = atomic_load(&notified);
	wr(0x3000, 2, 0);
	CHECK(wait_for(&notified, before + 1));
	CHECK(rd(0x14, 1) & VIRTIO_STATUS_NEEDS_RESET);
	CHECK_EQ_INT(virtio_broken_count(vdev), 1);
	/* The driver cannot clear NEEDS_RESET except by a reset. */
	wr(0x14, 1, 0x0f);
	CHECK(rd(0x14, 1) & VIRTIO_STATUS_NEEDS_RESET);
	int resets_before = atomic_load(&resets);
	wr(0x14, 1, 0);
	CHECK_EQ_INT(rd(0x14, 1), 0);
	CHECK_EQ_INT(atomic_load(&resets), resets_before + 1);
	wr(0x16, 2, 0);
	CHECK_EQ_INT(rd(0x1c, 2), 0);
	CHECK_EQ_INT(rd(0x1a, 2), VIRTIO_MSI_NO_VECTOR);

	/* A ring outside RAM at DRIVER_OK: NEEDS_RESET, no crash. */
	start_driver(1);
	wr(0x16, 2, 0);
	wr(0x20, 8, 0xfffffffffffff000ULL);
	wr(0x28, 8, AVAIL);
	wr(0x30, 8, USED);
	wr(0x1c, 2, 1);
	wr(0x14, 1, 0x0f);
	CHECK(rd(0x14, 1) & VIRTIO_STATUS_NEEDS_RESET);

	/* Hostile common-config accesses: odd sizes and offsets. */
	uint8_t junk[8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	for (uint64_t off = 0; off < 0x40; off++)
		for (uint32_t size = 1; size <= 8; size++)
			if (off != 0x14)
				vmm_bus_access(&mmio, bar0 + off, junk, size, true);
	virtio_pci_destroy(vdev);
	vmm_pci_host_destroy(&host);
	vmm_bus_destroy(&mmio);
	vmm_bus_destroy(&pio);
	vmm_guest_memory_free(&mem);
	return test_result();
}
