// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tcpbench: one TCP stream, for bench/net (built static, so it runs in the
 * lab's busybox guest without libraries).
 *   tcpbench recv ADDR PORT COUNT   accept COUNT connections one after
 *                                   another; for each print
 *                                   "bytes=N seconds=S bps=B"
 *   tcpbench send ADDR PORT SECONDS send zeroes for SECONDS, then close
 * The receiver times from the first byte to the end of the stream, so a
 * slow guest boot or connection set-up does not count.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int addr_of(const char *a, const char *p, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((unsigned short)atoi(p));
	return inet_pton(AF_INET, a, &sa->sin_addr) == 1 ? 0 : -1;
}

static int do_recv(struct sockaddr_in *sa, int count)
{
	static char buf[1 << 17];
	int one = 1, s = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (s < 0 || bind(s, (struct sockaddr *)sa, sizeof(*sa)) < 0 || listen(s, 4) < 0) {
		perror("tcpbench recv");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	for (int i = 0; i < count; i++) {
		int c = accept(s, NULL, NULL);
		if (c < 0) {
			perror("accept");
			return 1;
		}
		unsigned long long bytes = 0;
		double t0 = 0, t1 = 0;
		ssize_t n;
		while ((n = read(c, buf, sizeof(buf))) > 0) {
			if (!bytes)
				t0 = now();
			bytes += (unsigned long long)n;
			t1 = now();
		}
		close(c);
		double sec = t1 - t0;
		printf("bytes=%llu seconds=%.3f bps=%.0f\n", bytes, sec,
		       sec > 0 ? (double)bytes * 8 / sec : 0.0);
		fflush(stdout);
	}
	return 0;
}

static int do_send(struct sockaddr_in *sa, double seconds)
{
	static char buf[1 << 17];
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || connect(s, (struct sockaddr *)sa, sizeof(*sa)) < 0) {
		perror("tcpbench send");
		return 1;
	}
	unsigned long long bytes = 0;
	double end = now() + seconds;
	while (now() < end) {
		ssize_t n = write(s, buf, sizeof(buf));
		if (n <= 0) {
			perror("write");
			return 1;
		}
		bytes += (unsigned long long)n;
	}
	close(s);
	printf("sent bytes=%llu\n", bytes);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa;
	if (argc != 5 || addr_of(argv[2], argv[3], &sa) < 0) {
		fprintf(stderr, "usage: tcpbench recv ADDR PORT COUNT | send ADDR PORT SECONDS\n");
		return 2;
	}
	if (strcmp(argv[1], "recv") == 0)
		return do_recv(&sa, atoi(argv[4]));
	if (strcmp(argv[1], "send") == 0)
		return do_send(&sa, atof(argv[4]));
	fprintf(stderr, "tcpbench: recv or send\n");
	return 2;
}
