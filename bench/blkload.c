// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * blkload: a small block-device load generator for bench/blk, linked
 * statically so it runs in the lab's busybox guest (Debian's fio needs a
 * dozen shared libraries). O_DIRECT, io_uring, a fixed queue depth, for a
 * fixed time; prints one RESULT line.
 *
 * Usage: blkload DEVICE randread|randwrite|read|write BLOCK_BYTES QUEUE_DEPTH SECONDS
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t next_rand(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: blkload DEVICE randread|randwrite|read|write BLOCK_BYTES "
				"QUEUE_DEPTH SECONDS\n");
		return 2;
	}
	const char *dev = argv[1], *mode = argv[2];
	size_t bs = strtoul(argv[3], NULL, 0);
	unsigned qd = (unsigned)strtoul(argv[4], NULL, 0);
	double seconds = strtod(argv[5], NULL);
	int rnd = strncmp(mode, "rand", 4) == 0;
	int wr = strcmp(mode + (rnd ? 4 : 0), "write") == 0;
	if (!bs || bs % 512 || !qd || qd > 256 || seconds <= 0) {
		fprintf(stderr, "blkload: bad block size, queue depth or time\n");
		return 2;
	}
	int fd = open(dev, (wr ? O_RDWR : O_RDONLY) | O_DIRECT);
	uint64_t size = 0;
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		size = (uint64_t)st.st_size;     /* a file: for trying it out */
	else if (fd >= 0 && ioctl(fd, BLKGETSIZE64, &size) < 0)
		size = 0;
	if (fd < 0 || size < bs * qd) {
		fprintf(stderr, "blkload: %s: %s\n", dev, strerror(errno));
		return 1;
	}
	uint64_t blocks = size / bs, seq = 0;
	struct io_uring ring;
	int r = io_uring_queue_init(qd, &ring, 0);
	if (r < 0) {
		fprintf(stderr, "blkload: io_uring: %s\n", strerror(-r));
		return 1;
	}
	void *buf;
	if (posix_memalign(&buf, 4096, bs * qd))
		return 1;
	memset(buf, 0x5a, bs * qd);
	uint64_t ios = 0;
	double start = now_s(), end = start + seconds;
	unsigned inflight = 0;
	for (;;) {
		int stop = now_s() >= end;
		while (!stop && inflight < qd) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
			unsigned slot = inflight;
			uint64_t blk = rnd ? next_rand() % blocks : seq++ % blocks;
			void *b = (char *)buf + (size_t)slot * bs;
			if (wr)
				io_uring_prep_write(sqe, fd, b, (unsigned)bs, blk * bs);
			else
				io_uring_prep_read(sqe, fd, b, (unsigned)bs, blk * bs);
			inflight++;
		}
		if (inflight == 0)
			break;
		io_uring_submit(&ring);
		struct io_uring_cqe *cqe;
		if (io_uring_wait_cqe(&ring, &cqe) < 0)
			return 1;
		unsigned head, n = 0;
		io_uring_for_each_cqe(&ring, head, cqe) {
			if (cqe->res != (int)bs) {
				fprintf(stderr, "blkload: I/O error: %s\n",
					cqe->res < 0 ? strerror(-cqe->res) : "short");
				return 1;
			}
			n++;
		}
		io_uring_cq_advance(&ring, n);
		inflight -= n;
		ios += n;
	}
	double elapsed = now_s() - start;
	printf("RESULT mode=%s bs=%zu qd=%u ios=%llu seconds=%.2f iops=%.0f MiBps=%.1f\n", mode, bs,
	       qd, (unsigned long long)ios, elapsed, (double)ios / elapsed,
	       (double)ios * (double)bs / elapsed / 1048576.0);
	return 0;
}
