// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vmm/bus.c: unclaimed guest accesses are counted, and on a bus that logs
 * them (guest MMIO), a thousand of them make one line on stderr naming the
 * first (address, size, direction), not a thousand; a bus that does not log
 * (port I/O) stays quiet.
 */
#include "vmm.h"
#include "../testlib.h"

#include <fcntl.h>
#include <unistd.h>

static void read_all(int fd, char *buf, size_t size)
{
	size_t n = 0;
	ssize_t k;
	lseek(fd, 0, SEEK_SET);
	while (n + 1 < size && (k = read(fd, buf + n, size - 1 - n)) > 0)
		n += (size_t)k;
	buf[n] = '\0';
}

int main(void)
{
	char path[] = "/tmp/passvm-test-bus-log-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return test_skip("cannot create a temporary file");
	unlink(path);
	fflush(stderr);
	int saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);

	struct vmm_bus mmio, pio;
	vmm_bus_init(&mmio, "mmio");
	vmm_bus_init(&pio, "pio");
	mmio.log_unclaimed = true;
	uint8_t data[8] = { 1, 2, 3, 4 };
	CHECK(!vmm_bus_access(&mmio, 0xfebf0000, data, 4, true));
	for (int i = 0; i < 999; i++)
		vmm_bus_access(&mmio, 0xd0000000 + (uint64_t)i * 4, data, 4, i & 1);
	for (int i = 0; i < 1000; i++)
		vmm_bus_access(&pio, 0x80, data, 1, true);
	vmm_bus_access(&mmio, 0xd0000000, data, 4, false);
	CHECK_EQ_INT(data[0], 0xff); /* unclaimed reads are all-ones */

	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	char out[4096];
	read_all(fd, out, sizeof(out));
	close(fd);

	CHECK_EQ_INT(atomic_load(&mmio.unclaimed), 1001);
	CHECK_EQ_INT(atomic_load(&pio.unclaimed), 1000);
	int lines = 0;
	for (const char *p = out; *p; p++)
		lines += *p == '\n';
	CHECK_EQ_INT(lines, 1);
	CHECK(strstr(out, "guest write of 4 byte(s) at unclaimed mmio address 0xfebf0000: "
			  "dropped (1 unclaimed so far, 0 not logged)") != NULL);
	CHECK(strstr(out, "pio") == NULL);
	if (lines != 1)
		fprintf(stderr, "stderr was:\n%s", out);
	CHECK_EQ_INT(atomic_load(&mmio.unclaimed_quiet), 1000);
	vmm_bus_destroy(&mmio);
	vmm_bus_destroy(&pio);
	return test_result();
}
