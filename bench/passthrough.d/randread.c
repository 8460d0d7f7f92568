// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * 4 KiB random reads, queue depth 1, O_DIRECT, for a fixed time: the IOPS
 * figure of bench/passthrough. Built static, so the same binary runs on the
 * lab's emulated host and in a busybox layer-2 guest.
 * Usage: randread DEVICE SECONDS [SPAN_MIB]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: randread DEVICE SECONDS [SPAN_MIB]\n");
		return 2;
	}
	double secs = atof(argv[2]);
	uint64_t span = (argc > 3 ? strtoull(argv[3], NULL, 0) : 32) << 20;
	int fd = open(argv[1], O_RDONLY | O_DIRECT);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	void *buf;
	if (posix_memalign(&buf, 4096, 4096))
		return 1;
	uint64_t x = 88172645463325252ULL, ops = 0, blocks = span / 4096;
	double t0 = now(), t = t0;
	while (t - t0 < secs) {
		for (int i = 0; i < 64; i++) {
			x ^= x << 13; x ^= x >> 7; x ^= x << 17; /* xorshift64 */
			if (pread(fd, buf, 4096, (off_t)((x % blocks) * 4096)) != 4096) {
				perror("pread");
				return 1;
			}
			ops++;
		}
		t = now();
	}
	printf("randread %s: %llu reads of 4 KiB in %.2f s: %.0f IOPS\n", argv[1],
	       (unsigned long long)ops, t - t0, (double)ops / (t - t0));
	return 0;
}
