// SPDX-License-Identifier: GPL-2.0-or-later
/* vmm/virtio_blk.c: the request parser on well-formed and hostile chains,
 * then the whole device (transport, io_uring, a temporary image) driven as
 * a guest driver would: write, read back, flush, GET_ID, discard, write
 * zeroes, out-of-range and odd-sized requests, a read-only disk refusing
 * writes, two queues, O_DIRECT with unaligned buffers. */
#include "virtio.h"
#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define QSZ 256
#define RING(q) (0x100000ULL + 0x10000ULL * (q))
#define DESC(q) RING(q)
#define AVAIL(q) (RING(q) + 0x1000)
#define USED(q) (RING(q) + 0x2000)
#define HDR 0x200000ULL
#define DATA 0x300000ULL
#define STATUS 0x400000ULL
#define IMAGE_BYTES (1ULL << 20)

enum { T_IN = 0, T_OUT = 1, T_FLUSH = 4, T_GET_ID = 8, T_DISCARD = 11, T_WZ = 13 };

static struct vmm_guest_memory mem;
static struct vmm_bus pio, mmio;
static struct vmm_pci_host host;
static uint64_t bar0;
static uint16_t avail_idx[2], next_desc[2];

static void *g(uint64_t gpa, uint64_t len)
{
	return vmm_gpa_to_host(&mem, gpa, len);
}

/* ---- parser ---------------------------------------------------------------- */
static struct virtq_chain chain;

static void chain_add(uint64_t gpa, size_t len, bool writable)
{
	unsigned n = chain.n_out + chain.n_in;
	chain.iov[n] = (struct iovec){ g(gpa, len), len };
	if (writable) {
		chain.n_in++;
		chain.in_bytes += len;
	} else {
		chain.n_out++;
		chain.out_bytes += len;
	}
}

static void hdr(uint64_t gpa, uint32_t type, uint64_t sector)
{
	uint32_t *h = g(gpa, 16);
	h[0] = type;
	h[1] = 0;
	memcpy(h + 2, &sector, 8);
}

static void test_parser(void)
{
	static struct virtio_blk_req req;
	/* READ of 2 sectors at sector 3: header, 1024 writable, status. */
	memset(&chain, 0, sizeof(chain));
	hdr(HDR, T_IN, 3);
	chain_add(HDR, 16, false);
	chain_add(DATA, 1024, true);
	chain_add(STATUS, 1, true);
	CHECK_EQ_INT(virtio_blk_parse(&chain, IMAGE_BYTES, &req), 0);
	CHECK_EQ_INT(req.kind, VIRTIO_BLK_REQ_READ);
	CHECK_EQ_INT(req.offset_bytes, 3 * 512);
	CHECK_EQ_INT(req.data_bytes, 1024);
	CHECK_EQ_INT(req.data_cnt, 1);
	CHECK(req.status == g(STATUS, 1));
	/* Out of range by one sector. */
	hdr(HDR, T_IN, IMAGE_BYTES / 512 - 1);
	CHECK_EQ_INT(virtio_blk_parse(&chain, IMAGE_BYTES, &req), -EIO);
	/* Sector * 512 overflows. */
	hdr(HDR, T_IN, UINT64_MAX / 256);
	CHECK_EQ_INT(virtio_blk_parse(&chain, IMAGE_BYTES, &req), -EIO);
	/* Header split over two buffers, data and status in one (2.6.4). */
	memset(&chain, 0, sizeof(chain));
	hdr(HDR, T_IN, 0);
	chain_add(HDR, 5, false);
	chain_add(HDR + 5, 11, false);
	chain_add(DATA, 513, true);
	CHECK_EQ_INT(virtio_blk_parse(&chain, IMAGE_BYTES, &req), 0);
	CHECK_EQ_INT(req.data_bytes, 512);
	CHECK(req.status == g(DATA + 512, 1));
	/* WRITE with data in the writable part: IOERR. Odd data size: IOERR. */
	memset(&chain, 0, sizeof(chain));
	hdr(HDR, T_OUT, 0);
	chain_add(HDR, 16, false);
	chain_add(DATA, 512, true);
	chain_add(STATUS, 1, true);
	CHECK_EQ_INT(virtio_blk_parse(&chain, IMAGE_BYTES, &req), -EIO);
	memset(&chain, 0, sizeof(chain));
	chain_add(HDR, 16, false);
	chain_add(DATA, 100, false);
	chain_add(STATUS, 1, true);
	CHECK_EQ_INT(virtio_blk_parse(&chain, IMAGE_BYTES, &req), -EIO);
	/* Header short: IOERR. No writable byte at all: broken. */
	memset(&chain, 0, sizeof(chain));
	chain_add(HDR, 8, false);
	chain_add(STATUS, 1, true);
	CHECK_EQ_INT(virtio_blk_parse(&chain, IMAGE_BYTES, &req), -EIO);
	memset(&chain, 0, sizeof(chain));
	chain_add(HDR, 16, false);
	CHECK_EQ_INT(virtio_blk_parse(&chain, IMAGE_BYTES, &req), -EBADMSG);
	chain_add(STATUS, 0, true);
	CHECK_EQ_INT(virtio_blk_parse(&chain, IMAGE_BYTES, &req), -EBADMSG);
	/* Unknown type: parsed, answered UNSUPP. */
	memset(&chain, 0, sizeof(chain));
	hdr(HDR, 99, 0);
	chain_add(HDR, 16, false);
	chain_add(STATUS, 1, true);
	CHECK_EQ_INT(virtio_blk_parse(&chain, IMAGE_BYTES, &req), 0);
	CHECK_EQ_INT(req.kind, VIRTIO_BLK_REQ_UNSUPPORTED);
	/* DISCARD: one segment; flags refused; range checked; two segments. */
	uint64_t *seg = g(HDR + 16, 32);
	memset(&chain, 0, sizeof(chain));
	hdr(HDR, T_DISCARD, 0);
	seg[0] = 8;
	seg[1] = 16;                  /* 16 sectors, flags 0 */
	chain_add(HDR, 32, false);
	chain_add(STATUS, 1, true);
	CHECK_EQ_INT(virtio_blk_parse(&chain, IMAGE_BYTES, &req), 0);
	CHECK_EQ_INT(req.offset_bytes, 8 * 512);
	CHECK_EQ_INT(req.data_bytes, 16 * 512);
	seg[1] = 16 | (1ULL << 32);
	CHECK_EQ_INT(virtio_blk_parse(&chain, IMAGE_BYTES, &req), -EIO);
	hdr(HDR, T_WZ, 0);
	CHECK_EQ_INT(virtio_blk_parse(&chain, IMAGE_BYTES, &req), 0);
	CHECK(req.unmap);
	seg[0] = IMAGE_BYTES / 512;
	CHECK_EQ_INT(virtio_blk_parse(&chain, IMAGE_BYTES, &req), -EIO);
	seg[0] = UINT64_MAX;
	CHECK_EQ_INT(virtio_blk_parse(&chain, IMAGE_BYTES, &req), -EIO);
	memset(&chain, 0, sizeof(chain));
	chain_add(HDR, 48, false);
	chain_add(STATUS, 1, true);
	CHECK_EQ_INT(virtio_blk_parse(&chain, IMAGE_BYTES, &req), -EIO);
	/* GET_ID: at most 20 bytes used. */
	memset(&chain, 0, sizeof(chain));
	hdr(HDR, T_GET_ID, 0);
	chain_add(HDR, 16, false);
	chain_add(DATA, 64, true);
	chain_add(STATUS, 1, true);
	CHECK_EQ_INT(virtio_blk_parse(&chain, IMAGE_BYTES, &req), 0);
	CHECK_EQ_INT(req.data_bytes, 20);
}

/* ---- the device, driven through the transport --------------------------- */
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

static void driver_start(unsigned queues)
{
	memset(mem.host, 0, 0x500000);
	memset(avail_idx, 0, sizeof(avail_idx));
	memset(next_desc, 0, sizeof(next_desc));
	wr(0x14, 1, 0);
	wr(0x14, 1, 3);
	wr(0x08, 4, 0);
	wr(0x0c, 4, (uint32_t)rd(0x04, 4) & ~(1u << 29));   /* no EVENT_IDX */
	wr(0x08, 4, 1);
	wr(0x0c, 4, 1);
	wr(0x14, 1, 0x0b);
	CHECK(rd(0x14, 1) & 0x08);
	for (unsigned q = 0; q < queues; q++) {
		wr(0x16, 2, q);
		CHECK_EQ_INT(rd(0x18, 2), QSZ);
		wr(0x20, 8, DESC(q));
		wr(0x28, 8, AVAIL(q));
		wr(0x30, 8, USED(q));
		wr(0x1c, 2, 1);
	}
	wr(0x14, 1, 0x0f);
	CHECK_EQ_INT(rd(0x14, 1), 0x0f);
}

static void desc(unsigned q, unsigned i, uint64_t addr, uint32_t len, uint16_t flags)
{
	struct virtq_desc *d = g(DESC(q) + 16ULL * i, 16);
	*d = (struct virtq_desc){ addr, len, flags, (uint16_t)((i + 1) % QSZ) };
}

/* Puts one request on queue q's ring (header, optional data, status byte
 * `slot`), without notifying. */
static void post(unsigned q, unsigned slot, uint32_t type, uint64_t sector, uint64_t data_gpa,
		 uint32_t data_len)
{
	uint64_t h = HDR + 0x100 * q + 0x20 * slot, st = STATUS + 0x10 * q + slot;
	hdr(h, type, sector);
	*(uint8_t *)g(st, 1) = 0xee;
	unsigned head = next_desc[q], i = head;
	bool dev_writes = type == T_IN || type == T_GET_ID;
	desc(q, i++ % QSZ, h, 16, VIRTQ_DESC_F_NEXT);
	if (data_len)
		desc(q, i++ % QSZ, data_gpa, data_len,
		     VIRTQ_DESC_F_NEXT | (dev_writes ? VIRTQ_DESC_F_WRITE : 0));
	desc(q, i++ % QSZ, st, 1, VIRTQ_DESC_F_WRITE);
	next_desc[q] = (uint16_t)(i % QSZ);
	uint16_t *avail = g(AVAIL(q), 4 + 2 * QSZ);
	avail[2 + avail_idx[q] % QSZ] = (uint16_t)head;
	avail_idx[q]++;
	__atomic_store_n(&avail[1], avail_idx[q], __ATOMIC_RELEASE);
}

/* Notifies queue q and waits until the device used everything posted;
 * false on a timeout. */
static bool kick_wait(unsigned q)
{
	wr(0x3000 + 4 * q, 2, q);
	uint16_t *used = g(USED(q), 4 + 8 * QSZ);
	for (int t = 0; t < 5000; t++) {
		if (__atomic_load_n(&used[1], __ATOMIC_ACQUIRE) == avail_idx[q])
			return true;
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
	return false;
}

static int status_of(unsigned q, unsigned slot)
{
	return *(uint8_t *)g(STATUS + 0x10 * q + slot, 1);
}

/* One request: returns the status byte, or -1 if the device did not
 * answer; *used_len gets what the device reported written. */
static int request(unsigned q, uint32_t type, uint64_t sector, uint64_t data_gpa,
		   uint32_t data_len, uint32_t *used_len)
{
	post(q, 0, type, sector, data_gpa, data_len);
	if (!kick_wait(q))
		return -1;
	uint16_t *used = g(USED(q), 4 + 8 * QSZ);
	uint32_t *e = (uint32_t *)&used[2] + 2 * ((avail_idx[q] - 1) % QSZ);
	if (used_len)
		*used_len = e[1];
	return status_of(q, 0);
}

static bool file_size_ok(int fd)
{
	return lseek(fd, 0, SEEK_END) == (off_t)IMAGE_BYTES;
}

static char image[] = "/tmp/passvm-test-blk.XXXXXX";

static struct virtio_blk *make(bool readonly, bool direct, unsigned queues, const char *serial)
{
	struct virtio_pci_env env = { .mem = &mem, .mmio = &mmio, .pci = &host };
	struct virtio_blk_config cfg = { .path = image, .readonly = readonly, .direct = direct,
					 .serial = serial, .queues = queues };
	struct virtio_blk *blk = NULL;
	int r = virtio_blk_create(&blk, &env, &cfg, 0);
	CHECK_EQ_INT(r, 0);
	if (r < 0)
		return NULL;
	/* The newest device is in the highest used slot. */
	for (int s = VMM_PCI_SLOTS - 1; s > 0; s--)
		if (host.slots[s][0]) {
			bar0 = host.slots[s][0]->bars[0].mapped_addr;
			break;
		}
	return blk;
}

static void test_device(void)
{
	int fd = mkstemp(image);
	CHECK(fd >= 0 && ftruncate(fd, IMAGE_BYTES) == 0);
	uint32_t len = 0;

	struct virtio_blk *blk = make(false, false, 2, "passvm-serial-0001");
	if (!blk)
		return;
	/* Config: capacity in sectors, num_queues. */
	CHECK_EQ_INT(rd(0x2000, 8), IMAGE_BYTES / 512);
	CHECK_EQ_INT(rd(0x2000 + 34, 2), 2);
	driver_start(2);
	uint8_t *data = g(DATA, 8192);
	for (int i = 0; i < 4096; i++)
		data[i] = (uint8_t)(i * 7 + 1);
	CHECK_EQ_INT(request(0, T_OUT, 10, DATA, 4096, &len), 0);
	CHECK_EQ_INT(len, 1);
	CHECK_EQ_INT(request(1, T_FLUSH, 0, 0, 0, NULL), 0);
	uint8_t file[4096];
	CHECK(pread(fd, file, 4096, 10 * 512) == 4096);
	CHECK(memcmp(file, data, 4096) == 0);
	memset(data + 4096, 0, 4096);
	CHECK_EQ_INT(request(1, T_IN, 10, DATA + 4096, 4096, &len), 0);
	CHECK_EQ_INT(len, 4097);
	CHECK(memcmp(data, data + 4096, 4096) == 0);
	/* GET_ID. */
	CHECK_EQ_INT(request(0, T_GET_ID, 0, DATA, 20, &len), 0);
	CHECK(memcmp(data, "passvm-serial-0001\0", 19) == 0);
	/* Past the end, and straddling it: IOERR, nothing written. */
	CHECK_EQ_INT(request(0, T_OUT, IMAGE_BYTES / 512, DATA, 512, NULL), 1);
	CHECK_EQ_INT(request(0, T_IN, IMAGE_BYTES / 512 - 1, DATA, 1024, NULL), 1);
	CHECK_EQ_INT(request(0, T_OUT, 0, DATA, 100, NULL), 1);
	CHECK_EQ_INT(request(0, 77, 0, 0, 0, NULL), 2);
	/* WRITE_ZEROES over the pattern. */
	uint64_t *seg = g(DATA, 16);
	seg[0] = 10;
	seg[1] = 8;
	CHECK_EQ_INT(request(0, T_WZ, 0, DATA, 16, NULL), 0);
	CHECK(pread(fd, file, 4096, 10 * 512) == 4096);
	uint8_t zero[4096] = { 0 };
	CHECK(memcmp(file, zero, 4096) == 0);
	seg[0] = 0;
	seg[1] = 8;
	CHECK_EQ_INT(request(0, T_DISCARD, 0, DATA, 16, NULL), 0);
	CHECK(file_size_ok(fd));
	/* Four writes that continue each other, posted before one notify:
	 * the device merges them into one writev; then the same as reads, and
	 * a read that does not continue them (not merged). Each request gets
	 * its own status. */
	for (int i = 0; i < 4 * 4096; i++)
		data[i] = (uint8_t)(i * 13 + 5);
	for (unsigned k = 0; k < 4; k++)
		post(0, k, T_OUT, 64 + 8 * k, DATA + 4096 * k, 4096);
	CHECK(kick_wait(0));
	for (unsigned k = 0; k < 4; k++)
		CHECK_EQ_INT(status_of(0, k), 0);
	static uint8_t big[4 * 4096];
	CHECK(pread(fd, big, sizeof(big), 64 * 512) == (ssize_t)sizeof(big));
	CHECK(memcmp(big, data, sizeof(big)) == 0);
	uint8_t *back = g(DATA + 0x10000, 5 * 4096);
	memset(back, 0, 5 * 4096);
	for (unsigned k = 0; k < 4; k++)
		post(0, k, T_IN, 64 + 8 * k, DATA + 0x10000 + 4096 * k, 4096);
	post(0, 4, T_IN, 0, DATA + 0x10000 + 4 * 4096, 4096);
	CHECK(kick_wait(0));
	for (unsigned k = 0; k < 5; k++)
		CHECK_EQ_INT(status_of(0, k), 0);
	CHECK(memcmp(back, data, 4 * 4096) == 0);
	/* A merged run that reaches past the end: the last request fails
	 * alone (IOERR at parse), the others succeed. */
	for (unsigned k = 0; k < 2; k++)
		post(0, k, T_OUT, IMAGE_BYTES / 512 - 8 + 8 * k, DATA + 4096 * k, 4096);
	CHECK(kick_wait(0));
	CHECK_EQ_INT(status_of(0, 0), 0);
	CHECK_EQ_INT(status_of(0, 1), 1);
	/* Reset with the device idle, then again usable. */
	wr(0x14, 1, 0);
	CHECK_EQ_INT(rd(0x14, 1), 0);
	driver_start(1);
	CHECK_EQ_INT(request(0, T_FLUSH, 0, 0, 0, NULL), 0);
	virtio_blk_destroy(blk);

	/* Read-only: writes, discards, write-zeroes answer IOERR; reads work. */
	blk = make(true, false, 1, NULL);
	if (!blk)
		return;
	wr(0x00, 4, 0);
	CHECK(rd(0x04, 4) & (1u << 5));           /* VIRTIO_BLK_F_RO */
	CHECK(!(rd(0x04, 4) & (1u << 13)));       /* no DISCARD */
	driver_start(1);
	for (int i = 0; i < 512; i++)
		data[i] = 0x5a;
	CHECK_EQ_INT(request(0, T_OUT, 0, DATA, 512, NULL), 1);
	CHECK(pread(fd, file, 512, 0) == 512);
	CHECK(file[0] != 0x5a);
	CHECK_EQ_INT(request(0, T_IN, 0, DATA, 512, NULL), 0);
	CHECK_EQ_INT(request(0, T_GET_ID, 0, DATA, 20, NULL), 2);  /* no serial */
	virtio_blk_destroy(blk);

	/* O_DIRECT, unaligned guest buffer (bounced) and aligned one. Skipped
	 * where the filesystem refuses O_DIRECT (tmpfs before 6.6). */
	struct virtio_pci_env env = { .mem = &mem, .mmio = &mmio, .pci = &host };
	struct virtio_blk_config cfg = { .path = image, .direct = true, .queues = 1 };
	int r = virtio_blk_create(&blk, &env, &cfg, 0);
	if (r == -EINVAL) {
		fprintf(stderr, "note: %s does not take O_DIRECT, direct part not run\n", image);
	} else {
		CHECK_EQ_INT(r, 0);
		for (int s = VMM_PCI_SLOTS - 1; s > 0; s--)
			if (host.slots[s][0]) {
				bar0 = host.slots[s][0]->bars[0].mapped_addr;
				break;
			}
		driver_start(1);
		for (int i = 0; i < 1024; i++)
			data[512 + i] = (uint8_t)(i ^ 0x33);
		CHECK_EQ_INT(request(0, T_OUT, 16, DATA + 512, 1024, NULL), 0);
		CHECK(pread(fd, file, 1024, 16 * 512) == 1024);
		CHECK(memcmp(file, data + 512, 1024) == 0);
		memset(data + 8192, 0, 4096);
		CHECK_EQ_INT(request(0, T_IN, 16, DATA + 8192 + 512, 1024, NULL), 0);
		CHECK(memcmp(data + 8192 + 512, file, 1024) == 0);
		virtio_blk_destroy(blk);
	}
	/* Bad configurations. */
	cfg = (struct virtio_blk_config){ .path = "/nonexistent/image", .queues = 1 };
	CHECK_EQ_INT(virtio_blk_create(&blk, &env, &cfg, 0), -ENOENT);
	cfg = (struct virtio_blk_config){ .path = "/dev/null", .queues = 1 };
	CHECK_EQ_INT(virtio_blk_create(&blk, &env, &cfg, 0), -EINVAL);
	cfg = (struct virtio_blk_config){ .path = image, .queues = 0 };
	CHECK_EQ_INT(virtio_blk_create(&blk, &env, &cfg, 0), -EINVAL);
	cfg = (struct virtio_blk_config){ .path = image, .queues = 1,
					  .serial = "012345678901234567890" };
	CHECK_EQ_INT(virtio_blk_create(&blk, &env, &cfg, 0), -EINVAL);
	close(fd);
	unlink(image);
}

/* The host refusing writes, as a full filesystem does: RLIMIT_FSIZE makes
 * every write at or past the limit fail EFBIG (generic_write_check_limits;
 * SIGXFSZ ignored, as passvm does), io_uring's included, without needing a
 * small filesystem. The guest gets IOERR for those writes only, reads and
 * writes below the limit still work, the device takes writes again once
 * the limit is lifted, and all those failures make one log line. */
static void test_host_errors(void)
{
	strcpy(image, "/tmp/passvm-test-blk.XXXXXX");
	int fd = mkstemp(image);
	CHECK(fd >= 0 && ftruncate(fd, IMAGE_BYTES) == 0);
	struct virtio_blk *blk = make(false, false, 1, NULL);
	if (!blk)
		return;
	driver_start(1);
	uint8_t *data = g(DATA, 8 * 4096);
	for (int i = 0; i < 8 * 4096; i++)
		data[i] = (uint8_t)(i * 5 + 3);
	CHECK_EQ_INT(request(0, T_OUT, 0, DATA, 4096, NULL), 0);

	char logname[] = "/tmp/passvm-test-blk-log.XXXXXX";
	int logfd = mkstemp(logname);
	CHECK(logfd >= 0);
	fflush(stderr);
	int saved = dup(2);
	dup2(logfd, 2);
	signal(SIGXFSZ, SIG_IGN);
	struct rlimit old, lim;
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 64 * 1024;
	CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
	/* Past the limit: IOERR. Straddling it: a short write, then EFBIG
	 * for the rest: IOERR. Four merged writes past it: each IOERR. */
	CHECK_EQ_INT(request(0, T_OUT, 256, DATA, 4096, NULL), 1);
	CHECK_EQ_INT(request(0, T_OUT, 120, DATA, 8192, NULL), 1);
	for (unsigned k = 0; k < 4; k++)
		post(0, k, T_OUT, 512 + 8 * k, DATA + 4096 * k, 4096);
	CHECK(kick_wait(0));
	for (unsigned k = 0; k < 4; k++)
		CHECK_EQ_INT(status_of(0, k), 1);
	/* The device still serves: a read, a write below the limit, a
	 * flush. */
	memset(data + 4 * 4096, 0, 4096);
	CHECK_EQ_INT(request(0, T_IN, 0, DATA + 4 * 4096, 4096, NULL), 0);
	CHECK(memcmp(data, data + 4 * 4096, 4096) == 0);
	CHECK_EQ_INT(request(0, T_OUT, 8, DATA, 4096, NULL), 0);
	CHECK_EQ_INT(request(0, T_FLUSH, 0, 0, 0, NULL), 0);
	/* Room again: the same write succeeds and lands. */
	CHECK(setrlimit(RLIMIT_FSIZE, &old) == 0);
	CHECK_EQ_INT(request(0, T_OUT, 256, DATA, 4096, NULL), 0);
	uint8_t file[4096];
	CHECK(pread(fd, file, 4096, 256 * 512) == 4096);
	CHECK(memcmp(file, data, 4096) == 0);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	signal(SIGXFSZ, SIG_DFL);

	/* Six failed requests, one line, naming the disk and the cause. */
	char log[2048] = { 0 };
	CHECK(pread(logfd, log, sizeof(log) - 1, 0) >= 0);
	unsigned lines = 0;
	for (char *p = log; (p = strchr(p, '\n')); p++)
		lines++;
	CHECK_EQ_INT(lines, 1);
	CHECK(strstr(log, "blk0 (virtio-blk ") && strstr(log, strerror(EFBIG)) &&
	      strstr(log, "the guest gets I/O errors"));
	if (lines != 1)
		fprintf(stderr, "the device logged:\n%s", log);
	close(logfd);
	unlink(logname);
	virtio_blk_destroy(blk);
	close(fd);
	unlink(image);
}

int main(void)
{
	struct vmm_memory_map map;
	CHECK_EQ_INT(vmm_memory_map_build(&map, 32ULL << 20, 40), 0);
	CHECK_EQ_INT(vmm_guest_memory_alloc(&mem, &map, false), 0);
	vmm_bus_init(&pio, "pio");
	vmm_bus_init(&mmio, "mmio");
	CHECK_EQ_INT(vmm_pci_host_init(&host, &pio, &mmio, &map), 0);
	test_parser();
	test_device();
	test_host_errors();
	vmm_pci_host_destroy(&host);
	vmm_bus_destroy(&mmio);
	vmm_bus_destroy(&pio);
	vmm_guest_memory_free(&mem);
	return test_result();
}
