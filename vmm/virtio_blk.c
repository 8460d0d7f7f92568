// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio-blk (virtio 1.2, 5.2) on io_uring.
 *
 * Each virtqueue has its own io_uring, its own request slots and is served
 * on its own event-loop thread (the transport's, see virtio.h): the queue's
 * notification and its ring's completion eventfd are on the same loop, so
 * a queue's state needs no lock and queues never contend (VIRTIO_BLK_F_MQ).
 *
 * Requests: READ/WRITE as readv/writev at sector * 512; FLUSH as fdatasync;
 * DISCARD as fallocate(PUNCH_HOLE|KEEP_SIZE) and WRITE_ZEROES as
 * fallocate(ZERO_RANGE|KEEP_SIZE) (PUNCH_HOLE when the driver allows
 * unmapping): both work on files and, through blkdev_fallocate, on block
 * devices. A read-only disk (VIRTIO_BLK_F_RO, image opened O_RDONLY)
 * answers every write-type request IOERR.
 *
 * Reads and writes taken from the ring in one notification are submitted
 * together at its end, and runs of them that continue each other on the
 * disk go to the kernel as one readv/writev (as QEMU's
 * virtio_blk_submit_multireq does): a guest's sequential stream, split by
 * its block layer at seg_max, costs one system call per run instead of one
 * per request.
 *
 * O_DIRECT needs buffers, offsets and lengths aligned to the backing
 * store's logical block size; a request whose guest buffers are not goes
 * through an aligned bounce buffer.
 *
 * The host failing a request (ENOSPC when the image's filesystem fills,
 * EIO from a failing disk) is the guest's problem, not the VMM's: the
 * request is answered VIRTIO_BLK_S_IOERR (5.2.6: the only failure status;
 * Linux's virtio_blk turns it into BLK_STS_IOERR, EIO to the writer) and
 * the VMM carries on, so the guest can still read, and write again once
 * the host has room. The operator learns of it from one line a minute at
 * most per disk, with a count, not a line per request: a guest retrying
 * against a full disk would otherwise fill the VMM's log as well.
 */
#include "virtio.h"
#include "evloop.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <liburing.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* Feature bits (5.2.3). */
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_MQ 12
#define VIRTIO_BLK_F_DISCARD 13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* Request types and status (5.2.6). */
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2
#define VIRTIO_BLK_WZ_F_UNMAP 1

#define SECTOR 512ULL
#define HDR_BYTES 16
#define QUEUE_SIZE 256
#define CONFIG_BYTES 60
#define IOERR_LOG_INTERVAL_MS 60000

/* Device configuration layout (5.2.4). */
enum {
	CFG_CAPACITY = 0, CFG_SIZE_MAX = 8, CFG_SEG_MAX = 12, CFG_BLK_SIZE = 20,
	CFG_NUM_QUEUES = 34, CFG_MAX_DISCARD_SECTORS = 36, CFG_MAX_DISCARD_SEG = 40,
	CFG_DISCARD_ALIGN = 44, CFG_MAX_WZ_SECTORS = 48, CFG_MAX_WZ_SEG = 52,
	CFG_WZ_MAY_UNMAP = 56,
};

/* ---- the request parser -------------------------------------------------- */
/* Copies len bytes starting `skip` bytes into iov[0..cnt) to dst. */
static bool iov_gather(const struct iovec *iov, unsigned cnt, uint64_t skip, void *dst,
		       size_t len)
{
	uint8_t *d = dst;
	for (unsigned i = 0; i < cnt && len; i++) {
		uint64_t l = iov[i].iov_len;
		if (skip >= l) {
			skip -= l;
			continue;
		}
		size_t n = (size_t)(l - skip) < len ? (size_t)(l - skip) : len;
		memcpy(d, (uint8_t *)iov[i].iov_base + skip, n);
		d += n;
		len -= n;
		skip = 0;
	}
	return len == 0;
}

/* The bytes [skip, skip + len) of iov[0..cnt) as iovecs in out. */
static unsigned iov_slice(const struct iovec *iov, unsigned cnt, uint64_t skip, uint64_t len,
			  struct iovec *out)
{
	unsigned n = 0;
	for (unsigned i = 0; i < cnt && len; i++) {
		uint64_t l = iov[i].iov_len;
		if (skip >= l) {
			skip -= l;
			continue;
		}
		uint64_t take = l - skip < len ? l - skip : len;
		out[n++] = (struct iovec){ (uint8_t *)iov[i].iov_base + skip, (size_t)take };
		len -= take;
		skip = 0;
	}
	return n;
}

static bool range_ok(uint64_t offset, uint64_t bytes, uint64_t capacity)
{
	return offset <= capacity && bytes <= capacity - offset;
}

int virtio_blk_parse(const struct virtq_chain *chain, uint64_t capacity_bytes,
		     struct virtio_blk_req *req)
{
	const struct iovec *out = chain->iov, *in = chain->iov + chain->n_out;
	memset(req, 0, offsetof(struct virtio_blk_req, data));
	/* The status byte: the last byte of the last non-empty writable buffer. */
	unsigned last = chain->n_in;
	while (last > 0 && in[last - 1].iov_len == 0)
		last--;
	if (last == 0)
		return -EBADMSG;
	req->status = (uint8_t *)in[last - 1].iov_base + in[last - 1].iov_len - 1;
	uint64_t in_data = chain->in_bytes - 1;

	struct { uint32_t type, reserved; uint64_t sector; } hdr;
	if (!iov_gather(out, chain->n_out, 0, &hdr, sizeof(hdr)))
		return -EIO;
	req->type = hdr.type;
	uint64_t out_data = chain->out_bytes - HDR_BYTES;

	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT: {
		bool read = hdr.type == VIRTIO_BLK_T_IN;
		req->kind = read ? VIRTIO_BLK_REQ_READ : VIRTIO_BLK_REQ_WRITE;
		req->data_bytes = read ? in_data : out_data;
		/* 5.2.6.1: data is a multiple of 512 bytes, in one direction. */
		if (req->data_bytes % SECTOR || (read ? out_data : in_data) != 0)
			return -EIO;
		if (hdr.sector > UINT64_MAX / SECTOR)
			return -EIO;
		req->offset_bytes = hdr.sector * SECTOR;
		if (!range_ok(req->offset_bytes, req->data_bytes, capacity_bytes))
			return -EIO;
		req->data_cnt = read ? iov_slice(in, chain->n_in, 0, in_data, req->data)
				     : iov_slice(out, chain->n_out, HDR_BYTES, out_data, req->data);
		return 0;
	}
	case VIRTIO_BLK_T_FLUSH:
		req->kind = VIRTIO_BLK_REQ_FLUSH;
		return 0;
	case VIRTIO_BLK_T_GET_ID:
		req->kind = VIRTIO_BLK_REQ_GET_ID;
		req->data_bytes = in_data < VIRTIO_BLK_SERIAL_MAX ? in_data : VIRTIO_BLK_SERIAL_MAX;
		req->data_cnt = iov_slice(in, chain->n_in, 0, req->data_bytes, req->data);
		return 0;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES: {
		req->kind = hdr.type == VIRTIO_BLK_T_DISCARD ? VIRTIO_BLK_REQ_DISCARD
							     : VIRTIO_BLK_REQ_WRITE_ZEROES;
		/* 5.2.6.2: one 16-byte segment, as max_*_seg = 1 promised. */
		struct { uint64_t sector; uint32_t num_sectors, flags; } seg;
		if (out_data != sizeof(seg) ||
		    !iov_gather(out, chain->n_out, HDR_BYTES, &seg, sizeof(seg)))
			return -EIO;
		if (seg.num_sectors > VIRTIO_BLK_MAX_DISCARD_SECTORS ||
		    seg.sector > UINT64_MAX / SECTOR)
			return -EIO;
		/* DISCARD must not carry flags; WRITE_ZEROES only UNMAP. */
		if (seg.flags & ~(hdr.type == VIRTIO_BLK_T_DISCARD ? 0u : VIRTIO_BLK_WZ_F_UNMAP))
			return -EIO;
		req->unmap = seg.flags & VIRTIO_BLK_WZ_F_UNMAP;
		req->offset_bytes = seg.sector * SECTOR;
		req->data_bytes = (uint64_t)seg.num_sectors * SECTOR;
		if (!range_ok(req->offset_bytes, req->data_bytes, capacity_bytes))
			return -EIO;
		return 0;
	}
	default:
		req->kind = VIRTIO_BLK_REQ_UNSUPPORTED;
		return 0;
	}
}

/* ---- the device ----------------------------------------------------------- */
struct blk_slot {
	struct virtio_blk_req req;
	uint16_t head;
	uint64_t done_bytes;        /* read/write progress (short transfers) */
	unsigned iov_first;         /* req.data[] already transferred */
	/* A merged group (see flush_batch): the head's I/O covers the data of
	 * every slot on its merge_next list. */
	struct blk_slot *merge_next;
	struct iovec *merged_iov;
	unsigned merged_cnt;
	uint64_t merged_bytes;
	void *bounce;               /* O_DIRECT with unaligned guest buffers */
	struct iovec bounce_iov;
	struct blk_slot *next_free;
};

struct blk_queue {
	struct virtio_blk *blk;
	unsigned index;
	struct io_uring ring;
	bool ring_ok;
	int efd;                    /* the ring's completion eventfd */
	bool efd_on_loop;
	struct blk_slot *slots;
	struct blk_slot *free;
	unsigned inflight;
	struct virtq_chain chain;   /* scratch for the walker */
	struct blk_slot *batch[QUEUE_SIZE]; /* reads/writes of this notification */
	unsigned nbatch;
};

struct virtio_blk {
	struct virtio_device *vdev;
	int fd;
	bool readonly, direct;
	uint64_t capacity_bytes;
	uint32_t align;             /* O_DIRECT alignment */
	uint32_t blk_size;
	char serial[VIRTIO_BLK_SERIAL_MAX];
	size_t serial_len;
	unsigned nq;
	struct blk_queue q[VIRTIO_BLK_MAX_QUEUES];
	char id[16];
	char *path;
	/* Requests the host failed, and when that was last logged (any
	 * queue's thread). */
	atomic_ulong io_errors;
	long long err_logged_ms; /* ratelimit_pass */
};

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

static void blk_config_read(void *dev, uint32_t off, uint8_t *data, uint32_t size)
{
	struct virtio_blk *blk = dev;
	uint8_t cfg[CONFIG_BYTES] = { 0 };
	uint64_t sectors = blk->capacity_bytes / SECTOR;
	memcpy(cfg + CFG_CAPACITY, &sectors, 8);
	put32(cfg + CFG_SEG_MAX, VIRTQ_CHAIN_MAX - 2);
	put32(cfg + CFG_BLK_SIZE, blk->blk_size);
	uint16_t nq = (uint16_t)blk->nq;
	memcpy(cfg + CFG_NUM_QUEUES, &nq, 2);
	put32(cfg + CFG_MAX_DISCARD_SECTORS, VIRTIO_BLK_MAX_DISCARD_SECTORS);
	put32(cfg + CFG_MAX_DISCARD_SEG, 1);
	put32(cfg + CFG_DISCARD_ALIGN, blk->blk_size / SECTOR);
	put32(cfg + CFG_MAX_WZ_SECTORS, VIRTIO_BLK_MAX_DISCARD_SECTORS);
	put32(cfg + CFG_MAX_WZ_SEG, 1);
	cfg[CFG_WZ_MAY_UNMAP] = 1;
	memcpy(data, cfg + off, size);
}

static const char *kind_name(enum virtio_blk_req_kind k)
{
	switch (k) {
	case VIRTIO_BLK_REQ_READ: return "read";
	case VIRTIO_BLK_REQ_WRITE: return "write";
	case VIRTIO_BLK_REQ_FLUSH: return "flush";
	case VIRTIO_BLK_REQ_DISCARD: return "discard";
	case VIRTIO_BLK_REQ_WRITE_ZEROES: return "write-zeroes";
	default: return "request";
	}
}

/* The host failed a request (err: a negative errno, or 0 for a transfer
 * that made no progress): count it, and log one line per
 * IOERR_LOG_INTERVAL_MS at most. */
static void report_io_error(struct virtio_blk *blk, const struct virtio_blk_req *r, int err)
{
	unsigned long n = atomic_fetch_add(&blk->io_errors, 1) + 1;
	if (!ratelimit_pass(&blk->err_logged_ms, IOERR_LOG_INTERVAL_MS))
		return;
	log_warn("%s (virtio-blk %s): %s of %llu bytes at offset %llu failed: %s; the guest gets "
		 "I/O errors (%lu so far; at most one such line a minute)", blk->id, blk->path,
		 kind_name(r->kind), (unsigned long long)r->data_bytes,
		 (unsigned long long)r->offset_bytes,
		 err ? strerror(-err) : "no progress (end of file?)", n);
}

static void complete(struct blk_queue *bq, struct blk_slot *s, uint8_t status, uint32_t len)
{
	*s->req.status = status;
	virtq_push(virtio_queue(bq->blk->vdev, bq->index), s->head, len + 1);
	free(s->bounce);
	s->bounce = NULL;
	s->next_free = bq->free;
	bq->free = s;
	bq->inflight--;
}

/* Drops the first n transferred bytes from req.data (in place: the slot
 * owns the array until it completes). */
static void iov_advance(struct blk_slot *s, uint64_t n)
{
	struct virtio_blk_req *r = &s->req;
	while (n && s->iov_first < r->data_cnt) {
		struct iovec *v = &r->data[s->iov_first];
		if (n >= v->iov_len) {
			n -= v->iov_len;
			s->iov_first++;
		} else {
			v->iov_base = (uint8_t *)v->iov_base + n;
			v->iov_len -= (size_t)n;
			n = 0;
		}
	}
}

static bool aligned(const struct virtio_blk *blk, const struct virtio_blk_req *r)
{
	if (r->offset_bytes % blk->align)
		return false;
	for (unsigned i = 0; i < r->data_cnt; i++)
		if ((uintptr_t)r->data[i].iov_base % blk->align || r->data[i].iov_len % blk->align)
			return false;
	return true;
}

/* Queues the next piece of a read/write (all of it, or what is left after
 * a short transfer). false: no SQE free (cannot happen: the ring is as deep
 * as the virtqueue). */
static bool submit_rw(struct blk_queue *bq, struct blk_slot *s)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&bq->ring);
	if (!sqe)
		return false;
	struct virtio_blk_req *r = &s->req;
	const struct iovec *iov = r->data + s->iov_first;
	unsigned cnt = r->data_cnt - s->iov_first;
	if (s->bounce) {
		s->bounce_iov = (struct iovec){ (uint8_t *)s->bounce + s->done_bytes,
						(size_t)(r->data_bytes - s->done_bytes) };
		iov = &s->bounce_iov;
		cnt = 1;
	}
	off_t off = (off_t)(r->offset_bytes + s->done_bytes);
	if (r->kind == VIRTIO_BLK_REQ_READ)
		io_uring_prep_readv(sqe, bq->blk->fd, iov, cnt, off);
	else
		io_uring_prep_writev(sqe, bq->blk->fd, iov, cnt, off);
	io_uring_sqe_set_data(sqe, s);
	return true;
}

static bool submit(struct blk_queue *bq, struct blk_slot *s)
{
	struct virtio_blk *blk = bq->blk;
	struct virtio_blk_req *r = &s->req;
	struct io_uring_sqe *sqe;
	switch (r->kind) {
	case VIRTIO_BLK_REQ_READ:
	case VIRTIO_BLK_REQ_WRITE:
		if (blk->direct && r->data_bytes && !aligned(blk, r)) {
			s->bounce = aligned_alloc(blk->align, (r->data_bytes + blk->align - 1) /
								      blk->align * blk->align);
			if (!s->bounce)
				return false;
			if (r->kind == VIRTIO_BLK_REQ_WRITE)
				iov_gather(r->data, r->data_cnt, 0, s->bounce, r->data_bytes);
		}
		return submit_rw(bq, s);
	case VIRTIO_BLK_REQ_FLUSH:
		if (!(sqe = io_uring_get_sqe(&bq->ring)))
			return false;
		io_uring_prep_fsync(sqe, blk->fd, IORING_FSYNC_DATASYNC);
		break;
	case VIRTIO_BLK_REQ_DISCARD:
	case VIRTIO_BLK_REQ_WRITE_ZEROES: {
		if (!(sqe = io_uring_get_sqe(&bq->ring)))
			return false;
		int mode = FALLOC_FL_KEEP_SIZE;
		mode |= r->kind == VIRTIO_BLK_REQ_DISCARD || r->unmap ? FALLOC_FL_PUNCH_HOLE
								       : FALLOC_FL_ZERO_RANGE;
		io_uring_prep_fallocate(sqe, blk->fd, mode, (off_t)r->offset_bytes,
					(off_t)r->data_bytes);
		break;
	}
	default:
		return false;
	}
	io_uring_sqe_set_data(sqe, s);
	return true;
}

/* Requests answered without I/O: IOERR, UNSUPP, GET_ID, writes to a
 * read-only disk. Returns true if it answered. */
static bool answer_now(struct blk_queue *bq, struct blk_slot *s, int parsed)
{
	struct virtio_blk *blk = bq->blk;
	struct virtio_blk_req *r = &s->req;
	if (parsed == -EIO) {
		complete(bq, s, VIRTIO_BLK_S_IOERR, 0);
		return true;
	}
	switch (r->kind) {
	case VIRTIO_BLK_REQ_GET_ID: {
		/* 5.2.6: up to 20 bytes, NUL-padded when shorter. */
		uint8_t id[VIRTIO_BLK_SERIAL_MAX] = { 0 };
		memcpy(id, blk->serial, blk->serial_len);
		size_t off = 0;
		for (unsigned i = 0; i < r->data_cnt; i++) {
			memcpy(r->data[i].iov_base, id + off, r->data[i].iov_len);
			off += r->data[i].iov_len;
		}
		complete(bq, s, blk->serial_len ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_UNSUPP,
			 (uint32_t)r->data_bytes);
		return true;
	}
	case VIRTIO_BLK_REQ_UNSUPPORTED:
		complete(bq, s, VIRTIO_BLK_S_UNSUPP, 0);
		return true;
	case VIRTIO_BLK_REQ_WRITE:
	case VIRTIO_BLK_REQ_DISCARD:
	case VIRTIO_BLK_REQ_WRITE_ZEROES:
		if (blk->readonly) {
			complete(bq, s, VIRTIO_BLK_S_IOERR, 0);
			return true;
		}
		return false;
	case VIRTIO_BLK_REQ_READ:
		/* A zero-length read has nothing to do. */
		if (!r->data_bytes) {
			complete(bq, s, VIRTIO_BLK_S_OK, 0);
			return true;
		}
		return false;
	default:
		return false;
	}
}

/* The most iovecs one readv/writev takes (IOV_MAX, 1024 on Linux). */
#define MERGE_IOV_MAX 1024

static bool is_rw(const struct virtio_blk_req *r)
{
	return r->kind == VIRTIO_BLK_REQ_READ || r->kind == VIRTIO_BLK_REQ_WRITE;
}

static bool mergeable(const struct blk_slot *a, const struct blk_slot *b)
{
	return a->req.kind == b->req.kind &&
	       a->req.offset_bytes + a->req.data_bytes == b->req.offset_bytes;
}

/* Queues the n requests in g (contiguous on the disk) as one readv/writev,
 * or one by one when there is no memory for the merged vector; a request
 * that cannot be queued is answered IOERR (cannot happen: the ring has an
 * entry per slot). */
static void submit_group(struct blk_queue *bq, struct blk_slot **g, unsigned n, unsigned iovs)
{
	struct iovec *v = n > 1 ? malloc(iovs * sizeof(*v)) : NULL;
	struct io_uring_sqe *sqe = v ? io_uring_get_sqe(&bq->ring) : NULL;
	if (!sqe) {
		free(v);
		for (unsigned i = 0; i < n; i++)
			if (!submit_rw(bq, g[i]))
				complete(bq, g[i], VIRTIO_BLK_S_IOERR, 0);
		return;
	}
	struct blk_slot *head = g[0];
	unsigned k = 0;
	uint64_t bytes = 0;
	for (unsigned i = 0; i < n; i++) {
		memcpy(v + k, g[i]->req.data, g[i]->req.data_cnt * sizeof(*v));
		k += g[i]->req.data_cnt;
		bytes += g[i]->req.data_bytes;
		g[i]->merge_next = i + 1 < n ? g[i + 1] : NULL;
	}
	head->merged_iov = v;
	head->merged_cnt = k;
	head->merged_bytes = bytes;
	if (head->req.kind == VIRTIO_BLK_REQ_READ)
		io_uring_prep_readv(sqe, bq->blk->fd, v, k, (off_t)head->req.offset_bytes);
	else
		io_uring_prep_writev(sqe, bq->blk->fd, v, k, (off_t)head->req.offset_bytes);
	io_uring_sqe_set_data(sqe, head);
}

static void flush_batch(struct blk_queue *bq)
{
	unsigned i = 0;
	while (i < bq->nbatch) {
		unsigned j = i + 1, iovs = bq->batch[i]->req.data_cnt;
		while (j < bq->nbatch && mergeable(bq->batch[j - 1], bq->batch[j]) &&
		       iovs + bq->batch[j]->req.data_cnt <= MERGE_IOV_MAX)
			iovs += bq->batch[j++]->req.data_cnt;
		submit_group(bq, &bq->batch[i], j - i, iovs);
		i = j;
	}
	bq->nbatch = 0;
}

static void blk_queue_notify(void *dev, unsigned q)
{
	struct virtio_blk *blk = dev;
	struct blk_queue *bq = &blk->q[q];
	struct virtq *vq = virtio_queue(blk->vdev, q);
	bool queued = false;
	for (;;) {
		virtq_disable_notify(vq);
		int r = 0;
		/* A slot per chain the driver can have outstanding; a driver
		 * that reuses descriptors still in flight waits for a free one
		 * (the completion handler drains the ring again). */
		while (bq->free && (r = virtio_queue_pop(blk->vdev, q, &bq->chain)) > 0) {
			struct blk_slot *s = bq->free;
			bq->free = s->next_free;
			bq->inflight++;
			s->head = bq->chain.head;
			s->done_bytes = 0;
			s->iov_first = 0;
			int p = virtio_blk_parse(&bq->chain, blk->capacity_bytes, &s->req);
			if (p == -EBADMSG) {
				virtio_device_broken(blk->vdev, q, "queue %u: request without a "
						     "status byte", q);
				s->next_free = bq->free;
				bq->free = s;
				bq->inflight--;
				r = -EBADMSG;
				break;
			}
			if (answer_now(bq, s, p))
				continue;
			/* Reads and writes wait for the end of the batch to be
			 * merged; bounced ones (O_DIRECT, unaligned) go alone. */
			if (is_rw(&s->req) && !(blk->direct && !aligned(blk, &s->req))) {
				bq->batch[bq->nbatch++] = s;
				queued = true;
				continue;
			}
			if (submit(bq, s))
				queued = true;
			else
				complete(bq, s, VIRTIO_BLK_S_IOERR, 0);
		}
		if (r < 0 || !bq->free || !virtq_enable_notify(vq))
			break;
	}
	flush_batch(bq);
	if (queued)
		io_uring_submit(&bq->ring);
	virtio_queue_interrupt(blk->vdev, q);
}

/* A merged group's completion: all done, or each request again on its own
 * (so each gets its own status and short transfers their own retry).
 * false if any was resubmitted. */
static bool finish_group(struct blk_queue *bq, struct blk_slot *head, int res)
{
	bool ok = res >= 0 && (uint64_t)res == head->merged_bytes;
	unsigned resubmitted = 0;
	free(head->merged_iov);
	head->merged_iov = NULL;
	for (struct blk_slot *m = head, *next; m; m = next) {
		next = m->merge_next;
		m->merge_next = NULL;
		if (ok)
			complete(bq, m, VIRTIO_BLK_S_OK,
				 m->req.kind == VIRTIO_BLK_REQ_READ ? (uint32_t)m->req.data_bytes : 0);
		else if (submit_rw(bq, m))
			resubmitted++;
		else
			complete(bq, m, VIRTIO_BLK_S_IOERR, 0);
	}
	return resubmitted == 0;
}

/* One completion; false if it was resubmitted (a short transfer). */
static bool finish(struct blk_queue *bq, struct blk_slot *s, int res)
{
	if (s->merged_iov)
		return finish_group(bq, s, res);
	struct virtio_blk_req *r = &s->req;
	bool rw = r->kind == VIRTIO_BLK_REQ_READ || r->kind == VIRTIO_BLK_REQ_WRITE;
	if (res < 0 || (rw && res == 0)) {
		report_io_error(bq->blk, r, res);
		complete(bq, s, VIRTIO_BLK_S_IOERR, 0);
		return true;
	}
	if (rw) {
		s->done_bytes += (uint64_t)res;
		if (!s->bounce)
			iov_advance(s, (uint64_t)res);
		if (s->done_bytes < r->data_bytes && submit_rw(bq, s))
			return false;
		if (s->done_bytes < r->data_bytes) {
			report_io_error(bq->blk, r, -EAGAIN);
			complete(bq, s, VIRTIO_BLK_S_IOERR, 0);
			return true;
		}
		if (s->bounce && r->kind == VIRTIO_BLK_REQ_READ) {
			size_t off = 0;
			for (unsigned i = 0; i < r->data_cnt; i++) {
				memcpy(r->data[i].iov_base, (uint8_t *)s->bounce + off,
				       r->data[i].iov_len);
				off += r->data[i].iov_len;
			}
		}
		complete(bq, s, VIRTIO_BLK_S_OK,
			 r->kind == VIRTIO_BLK_REQ_READ ? (uint32_t)r->data_bytes : 0);
		return true;
	}
	complete(bq, s, VIRTIO_BLK_S_OK, 0);
	return true;
}

static unsigned reap(struct blk_queue *bq)
{
	struct io_uring_cqe *cqe;
	unsigned n = 0, head, resubmitted = 0;
	io_uring_for_each_cqe(&bq->ring, head, cqe) {
		if (!finish(bq, io_uring_cqe_get_data(cqe), cqe->res))
			resubmitted++;
		n++;
	}
	io_uring_cq_advance(&bq->ring, n);
	if (resubmitted)
		io_uring_submit(&bq->ring);
	return n;
}

static void blk_completion(void *ctx, uint32_t events)
{
	struct blk_queue *bq = ctx;
	uint64_t v;
	if (read(bq->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	bool was_full = !bq->free;
	if (!reap(bq))
		return;
	virtio_queue_interrupt(bq->blk->vdev, bq->index);
	/* Chains left on the ring while every slot was busy. */
	if (was_full)
		blk_queue_notify(bq->blk, bq->index);
}

static void queue_slots_reset(struct blk_queue *bq)
{
	bq->free = NULL;
	for (unsigned i = QUEUE_SIZE; i-- > 0;) {
		free(bq->slots[i].bounce);
		bq->slots[i].bounce = NULL;
		free(bq->slots[i].merged_iov);
		bq->slots[i].merged_iov = NULL;
		bq->slots[i].merge_next = NULL;
		bq->slots[i].next_free = bq->free;
		bq->free = &bq->slots[i];
	}
	bq->inflight = 0;
}

/* The transport has stopped queue_notify; in-flight I/O still writes guest
 * memory until it completes, so wait for it, then forget it (the rings are
 * gone). */
static void blk_reset(void *dev)
{
	struct virtio_blk *blk = dev;
	for (unsigned i = 0; i < blk->nq; i++) {
		struct blk_queue *bq = &blk->q[i];
		struct vmm_evloop *loop = virtio_queue_loop(blk->vdev, i);
		if (bq->efd_on_loop)
			vmm_evloop_remove(loop, bq->efd);
		while (bq->inflight) {
			struct io_uring_cqe *cqe;
			if (io_uring_wait_cqe(&bq->ring, &cqe) < 0)
				break;
			struct blk_slot *s = io_uring_cqe_get_data(cqe);
			io_uring_cqe_seen(&bq->ring, cqe);
			if (s->merged_iov) {
				for (struct blk_slot *m = s, *next; m; m = next) {
					next = m->merge_next;
					m->merge_next = NULL;
					bq->inflight--;
				}
				free(s->merged_iov);
				s->merged_iov = NULL;
				continue;
			}
			if (s->req.kind == VIRTIO_BLK_REQ_READ || s->req.kind == VIRTIO_BLK_REQ_WRITE) {
				s->done_bytes += cqe->res > 0 ? (uint64_t)cqe->res : 0;
				if (cqe->res > 0 && !s->bounce)
					iov_advance(s, (uint64_t)cqe->res);
				if (cqe->res > 0 && s->done_bytes < s->req.data_bytes &&
				    submit_rw(bq, s)) {
					io_uring_submit(&bq->ring);
					continue;
				}
			}
			bq->inflight--;
		}
		queue_slots_reset(bq);
		bq->efd_on_loop = vmm_evloop_add(loop, bq->efd, EPOLLIN, blk_completion, bq) == 0;
	}
}

static const struct virtio_device_ops blk_ops = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.pci_class = 0x018000,      /* mass storage, other */
	.config_read = blk_config_read,
	.queue_notify = blk_queue_notify,
	.reset = blk_reset,
};

/* Size and O_DIRECT alignment of the backing store. */
static int probe_backing(struct virtio_blk *blk)
{
	struct stat st;
	if (fstat(blk->fd, &st) < 0)
		return -errno;
	blk->blk_size = 512;
	blk->align = 512;
	if (S_ISBLK(st.st_mode)) {
		uint64_t bytes;
		int lbs;
		if (ioctl(blk->fd, BLKGETSIZE64, &bytes) < 0)
			return -errno;
		if (ioctl(blk->fd, BLKSSZGET, &lbs) == 0 && lbs >= 512 && lbs <= 65536 &&
		    !(lbs & (lbs - 1))) {
			blk->blk_size = (uint32_t)lbs;
			blk->align = (uint32_t)lbs;
		}
		blk->capacity_bytes = bytes;
	} else if (S_ISREG(st.st_mode)) {
		blk->capacity_bytes = (uint64_t)st.st_size;
		/* A file's O_DIRECT alignment is its filesystem's device's
		 * logical block size; 4096 covers every common one. Aligned
		 * guest I/O (the page cache's, 4 KiB) still goes direct. */
		if (blk->direct)
			blk->align = 4096;
	} else {
		return -EINVAL;
	}
	blk->capacity_bytes -= blk->capacity_bytes % SECTOR;
	return blk->capacity_bytes ? 0 : -EINVAL;
}

static int queue_init(struct virtio_blk *blk, unsigned i)
{
	struct blk_queue *bq = &blk->q[i];
	bq->blk = blk;
	bq->index = i;
	bq->efd = -1;
	bq->slots = calloc(QUEUE_SIZE, sizeof(*bq->slots));
	if (!bq->slots)
		return -ENOMEM;
	queue_slots_reset(bq);
	int r = io_uring_queue_init(QUEUE_SIZE, &bq->ring, 0);
	if (r < 0)
		return r;
	bq->ring_ok = true;
	bq->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (bq->efd < 0)
		return -errno;
	return io_uring_register_eventfd(&bq->ring, bq->efd);
}

void virtio_blk_destroy(struct virtio_blk *blk)
{
	if (!blk)
		return;
	virtio_pci_destroy(blk->vdev);
	for (unsigned i = 0; i < VIRTIO_BLK_MAX_QUEUES; i++) {
		struct blk_queue *bq = &blk->q[i];
		if (bq->ring_ok)
			io_uring_queue_exit(&bq->ring);
		if (bq->efd >= 0)
			close(bq->efd);
		if (bq->slots)
			for (unsigned j = 0; j < QUEUE_SIZE; j++) {
				free(bq->slots[j].bounce);
				free(bq->slots[j].merged_iov);
			}
		free(bq->slots);
	}
	if (blk->fd >= 0)
		close(blk->fd);
	free(blk->path);
	free(blk);
}

int virtio_blk_create(struct virtio_blk **out, const struct virtio_pci_env *env,
		      const struct virtio_blk_config *cfg, unsigned index)
{
	if (cfg->queues == 0 || cfg->queues > VIRTIO_BLK_MAX_QUEUES ||
	    (cfg->serial && strlen(cfg->serial) > VIRTIO_BLK_SERIAL_MAX))
		return -EINVAL;
	struct virtio_blk *blk = calloc(1, sizeof(*blk));
	if (!blk)
		return -ENOMEM;
	for (unsigned i = 0; i < VIRTIO_BLK_MAX_QUEUES; i++)
		blk->q[i].efd = -1;
	blk->readonly = cfg->readonly;
	blk->direct = cfg->direct;
	blk->nq = cfg->queues;
	snprintf(blk->id, sizeof(blk->id), "blk%u", index);
	blk->path = strdup(cfg->path);
	if (!blk->path) {
		free(blk);
		return -ENOMEM;
	}
	if (cfg->serial) {
		blk->serial_len = strlen(cfg->serial);
		memcpy(blk->serial, cfg->serial, blk->serial_len);
	}
	int flags = (cfg->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | (cfg->direct ? O_DIRECT : 0);
	blk->fd = open(cfg->path, flags);
	int r = blk->fd < 0 ? -errno : probe_backing(blk);
	for (unsigned i = 0; r == 0 && i < blk->nq; i++)
		r = queue_init(blk, i);
	if (r < 0)
		goto fail;
	uint64_t features = VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) | VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) |
			    VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) | VIRTIO_BIT(VIRTIO_BLK_F_MQ);
	if (cfg->readonly)
		features |= VIRTIO_BIT(VIRTIO_BLK_F_RO);
	else
		features |= VIRTIO_BIT(VIRTIO_BLK_F_DISCARD) | VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES);
	struct virtio_device_params p = {
		.ops = &blk_ops, .dev = blk, .features = features, .config_bytes = CONFIG_BYTES,
		.num_queues = blk->nq, .queue_size_max = QUEUE_SIZE, .id = blk->id,
	};
	r = virtio_pci_create(&blk->vdev, env, &p);
	if (r < 0)
		goto fail;
	for (unsigned i = 0; i < blk->nq; i++) {
		struct blk_queue *bq = &blk->q[i];
		r = vmm_evloop_add(virtio_queue_loop(blk->vdev, i), bq->efd, EPOLLIN,
				   blk_completion, bq);
		if (r < 0)
			goto fail;
		bq->efd_on_loop = true;
	}
	*out = blk;
	return 0;
fail:
	virtio_blk_destroy(blk);
	return r;
}
