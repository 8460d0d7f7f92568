// SPDX-License-Identifier: GPL-2.0-or-later
#include "common.h"
#include "../testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_pci_addr(void)
{
	struct pci_addr a;
	char s[PCI_ADDR_STRLEN];

	CHECK_EQ_INT(pci_addr_parse("0000:00:03.0", &a), 0);
	pci_addr_format(&a, s);
	CHECK_EQ_STR(s, "0000:00:03.0");
	CHECK_EQ_INT(pci_addr_parse("3a:1f.7", &a), 0);
	pci_addr_format(&a, s);
	CHECK_EQ_STR(s, "0000:3a:1f.7");
	CHECK_EQ_INT(pci_addr_parse("10de:01:00.1", &a), 0);
	CHECK_EQ_INT(a.domain, 0x10de);

	static const char *const bad[] = {
		"", "0000:00:03", "00:03", "00:20.0", "00:03.8", "0000:00:03.0x",
		"g0:00.0", "0:00.0", "00000:00:03.0", "00:03.0 ", " 00:03.0",
		"00-03.0",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		CHECK_EQ_INT(pci_addr_parse(bad[i], &a), -EINVAL);
	CHECK_EQ_INT(pci_addr_parse(NULL, &a), -EINVAL);
}

static void test_sizes(void)
{
	uint64_t b = 0, v = 0;
	CHECK_EQ_INT(parse_size_mib_default("512", &b), 0);
	CHECK_EQ_INT(b, 512ull << 20);
	CHECK_EQ_INT(parse_size_mib_default("4G", &b), 0);
	CHECK_EQ_INT(b, 4ull << 30);
	CHECK_EQ_INT(parse_size_mib_default("2GiB", &b), 0);
	CHECK_EQ_INT(b, 2ull << 30);
	CHECK_EQ_INT(parse_size_mib_default("64k", &b), 0);
	CHECK_EQ_INT(b, 64ull << 10);
	CHECK_EQ_INT(parse_size_mib_default("1MB", &b), 0);
	CHECK_EQ_INT(b, 1ull << 20);
	CHECK_EQ_INT(parse_size_mib_default("", &b), -EINVAL);
	CHECK_EQ_INT(parse_size_mib_default("G", &b), -EINVAL);
	CHECK_EQ_INT(parse_size_mib_default("12X", &b), -EINVAL);
	CHECK_EQ_INT(parse_size_mib_default("-1", &b), -EINVAL);
	CHECK_EQ_INT(parse_size_mib_default("99999999999T", &b), -ERANGE);
	CHECK_EQ_INT(parse_u64("0x10", &v), 0);
	CHECK_EQ_INT(v, 16);
	CHECK_EQ_INT(parse_u64("12 ", &v), -EINVAL);
	CHECK_EQ_INT(parse_u64("-3", &v), -EINVAL);
}

/* A fixture root with an absolute symlink: inside the root it must resolve
 * to the root's own file, never to the real host's. */
static void test_host_root(void)
{
	char dir[] = "/tmp/passvm-hostroot-XXXXXX";
	char path[4200];
	struct host_root root;
	char buf[64];

	if (!mkdtemp(dir)) {
		CHECK(!"mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/etc", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/etc/hostname", dir);
	FILE *f = fopen(path, "w");
	fputs("fixture-host\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/link", dir);
	CHECK_EQ_INT(symlink("/etc/hostname", path), 0);
	snprintf(path, sizeof(path), "%s/up", dir);
	CHECK_EQ_INT(symlink("../../../../etc/hostname", path), 0);

	CHECK_EQ_INT(host_root_open(&root, dir), 0);
	CHECK(!root.is_real);
	CHECK_EQ_INT(host_root_read(&root, "etc/hostname", buf, sizeof(buf)), 12);
	CHECK_EQ_STR(buf, "fixture-host");
	CHECK_EQ_INT(host_root_read(&root, "/link", buf, sizeof(buf)), 12);
	CHECK_EQ_STR(buf, "fixture-host");
	CHECK_EQ_INT(host_root_read(&root, "up", buf, sizeof(buf)), 12);
	CHECK_EQ_STR(buf, "fixture-host");
	CHECK_EQ_INT(host_root_link_basename(&root, "up", buf, sizeof(buf)), 0);
	CHECK_EQ_STR(buf, "hostname");
	CHECK(host_root_exists(&root, "etc"));
	CHECK(!host_root_exists(&root, "nope"));
	CHECK_EQ_INT(host_root_read(&root, "nope", buf, sizeof(buf)), -ENOENT);
	CHECK_EQ_INT(host_root_write(&root, "etc/hostname", "x"), 0);
	CHECK_EQ_INT(host_root_read(&root, "etc/hostname", buf, sizeof(buf)), 1);
	host_root_close(&root);

	CHECK_EQ_INT(host_root_open(&root, "/"), 0);
	CHECK(root.is_real);
	host_root_close(&root);
	CHECK_EQ_INT(host_root_open(&root, "/nonexistent/dir"), -ENOENT);

	char cmd[4300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK_EQ_INT(system(cmd), 0);
}

int main(void)
{
	test_pci_addr();
	test_sizes();
	test_host_root();
	return test_result();
}
