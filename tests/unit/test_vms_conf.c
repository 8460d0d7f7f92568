// SPDX-License-Identifier: GPL-2.0-or-later
/* vms/: the ID.conf parser (file:line errors), the option validation, the
 * canonical writer (format then parse gives the same config), and the
 * store's atomic create/replace and per-VM lock. */
#include "testlib.h"
#include "vms.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static struct vms_config conf, again;

static const char *parse_err(const char *text)
{
	static char err[512];
	if (vms_config_parse(text, strlen(text), "t.conf", 100, &conf, err, sizeof(err)) == 0)
		return "OK";
	return err;
}

#define BASE "name: a\nmemory: 512\ncores: 1\n"

static void test_parse_errors(void)
{
	CHECK_EQ_STR(parse_err(BASE), "OK");
	CHECK_EQ_STR(parse_err("# c\n\n  name :  a \r\nmemory: 1G\ncores: 2\n"), "OK");
	CHECK_EQ_INT(conf.memory_mib, 1024);
	CHECK_EQ_STR(parse_err(BASE "colour: blue\n"), "t.conf:4: unknown key 'colour'");
	CHECK_EQ_STR(parse_err(BASE "cores: 2\n"), "t.conf:4: duplicate key 'cores' (first on line 3)");
	CHECK_EQ_STR(parse_err(BASE "net0 virtio\n"), "t.conf:4: expected 'key: value', got 'net0 virtio'");
	CHECK_EQ_STR(parse_err(BASE "net8: virtio,bridge=b\n"), "t.conf:4: unknown key 'net8'");
	CHECK_EQ_STR(parse_err(BASE "net0: virtio,bridge=vmbr0,tag=4095\n"),
		     "t.conf:4: net0 tag '4095' must be 1..4094");
	CHECK_EQ_STR(parse_err(BASE "net0: virtio,bridge=vmbr0,tag=0\n"),
		     "t.conf:4: net0 tag '0' must be 1..4094");
	CHECK_EQ_STR(parse_err(BASE "net0: virtio,bridge=vmbr0,mac=01:00:00:00:00:01\n"),
		     "t.conf:4: net0 mac '01:00:00:00:00:01' is a multicast address");
	CHECK_EQ_STR(parse_err(BASE "net0: virtio,bridge=a/b\n"),
		     "t.conf:4: net0 bridge 'a/b' is not an interface name (1..15 characters, no '/', ':', spaces)");
	CHECK_EQ_STR(parse_err(BASE "net0: virtio,bridge=a,bridge=b\n"),
		     "t.conf:4: net0 option 'bridge' given twice");
	CHECK_EQ_STR(parse_err(BASE "net0: e1000,bridge=a\n"),
		     "t.conf:4: net0 model 'e1000' unknown (only virtio)");
	CHECK_EQ_STR(parse_err(BASE "hostpci0: 00:20.0\n"),
		     "t.conf:4: hostpci0 '00:20.0' is not a PCI address (DDDD:BB:DD.F)");
	CHECK_EQ_STR(parse_err(BASE "hostpci0: 01:00.0\nhostpci1: 0000:01:00.0\n"),
		     "t.conf:5: hostpci1 repeats hostpci0's device");
	CHECK_EQ_STR(parse_err(BASE "disk0: rel.img\n"), "t.conf:4: disk0 path 'rel.img' must be absolute");
	CHECK_EQ_STR(parse_err(BASE "disk0: /a,size=0\n"), "t.conf:4: disk0 size '0' must be 1..1048576 whole GiB");
	CHECK_EQ_STR(parse_err("name: a\nmemory: 8\ncores: 1\n"), "t.conf:2: memory must be 16 MiB..4 TiB");
	CHECK_EQ_STR(parse_err("name: a\nmemory: 512\ncores: 0\n"), "t.conf:3: cores must be 1..255");
	CHECK_EQ_STR(parse_err("name: -a\n"), "t.conf:1: name must start and end with a letter or digit");
	CHECK_EQ_STR(parse_err("name: a\nmemory: 512\n"), "t.conf: cores is required");
	CHECK_EQ_STR(parse_err(BASE "boot: order=disk0\n"), "t.conf: boot order names disk0, which is not configured");
	CHECK_EQ_STR(parse_err(BASE "boot: disk0\n"),
		     "t.conf:4: boot must be order=DEV[;DEV...] (DEV: diskN, netN, hostpciN)");
	CHECK_EQ_STR(parse_err(BASE "initrd: /i\n"), "t.conf: initrd needs kernel");

	char *longline = malloc(VMS_LINE_MAX + 64);
	snprintf(longline, VMS_LINE_MAX + 64, BASE "cmdline: ");
	size_t len = strlen(longline);
	memset(longline + len, 'x', VMS_LINE_MAX);
	longline[len + VMS_LINE_MAX] = '\0';
	CHECK_EQ_STR(parse_err(longline), "t.conf:4: line longer than 4096 characters");
	free(longline);

	char err[256];
	CHECK_EQ_INT(vms_config_parse("name: a\0", 8, "t.conf", 100, &conf, err, sizeof(err)), -EINVAL);
	CHECK_EQ_STR(err, "t.conf:1: NUL byte in line");
	CHECK_EQ_INT(vms_config_parse(BASE, strlen(BASE), "t.conf", 99, &conf, err, sizeof(err)), -EINVAL);
	CHECK_EQ_STR(err, "t.conf: VM ID 99 outside 100..999999999");
}

static void test_ids(void)
{
	uint32_t id = 0;
	CHECK_EQ_INT(vms_id_parse("100", &id), 0);
	CHECK_EQ_INT(id, 100);
	CHECK_EQ_INT(vms_id_parse("999999999", &id), 0);
	CHECK(vms_id_parse("99", &id) < 0);
	CHECK(vms_id_parse("1000000000", &id) < 0);
	CHECK(vms_id_parse("0100", &id) < 0);
	CHECK(vms_id_parse("0x64", &id) < 0);
	CHECK(vms_id_parse("", &id) < 0);
	CHECK(vms_id_parse("+100", &id) < 0);
}

/* format(parse(x)) parses back to the same config, and is a fixed point. */
static void test_round_trip(void)
{
	static char text[8192], text2[8192], err[256];
	const char *in = BASE "cpu: host\nostype: l26\nboot: order=disk1;net0\n"
		"kernel: /k\ninitrd: /i\ncmdline: console=ttyS0 root=/dev/vda\n"
		"net0: virtio,mac=52:54:00:AA:BB:CC,tag=7,bridge=vmbr0\n"
		"disk1: /d.img,size=2048M\nhostpci3: 0000:03:00.1,fallback=auto\n";
	CHECK_EQ_STR(parse_err(in), "OK");
	ssize_t len = vms_config_format(&conf, text, sizeof(text));
	CHECK(len > 0);
	CHECK(strstr(text, "net0: virtio,bridge=vmbr0,tag=7,mac=52:54:00:aa:bb:cc\n") != NULL);
	CHECK(strstr(text, "disk1: /d.img,size=2G\n") != NULL);
	CHECK_EQ_INT(vms_config_bootdisk_gib(&conf), 2);
	CHECK_EQ_INT(vms_config_parse(text, (size_t)len, "x", 100, &again, err, sizeof(err)), 0);
	CHECK(memcmp(&conf, &again, sizeof(conf)) == 0);
	CHECK_EQ_INT(vms_config_format(&again, text2, sizeof(text2)), len);
	CHECK_EQ_STR(text2, text);
	CHECK_EQ_INT(vms_config_format(&conf, text2, 40), -ENOSPC);

	/* delete: optional keys go, required keys stay */
	CHECK_EQ_INT(vms_config_delete(&conf, "hostpci3", err, sizeof(err)), 0);
	CHECK(!conf.hostpci[3].set);
	CHECK_EQ_INT(vms_config_delete(&conf, "memory", err, sizeof(err)), -EINVAL);
	CHECK_EQ_STR(err, "memory is required and cannot be deleted");
	/* a failed set leaves the config unchanged */
	memcpy(&again, &conf, sizeof(conf));
	CHECK_EQ_INT(vms_config_set(&conf, "net0", "virtio,bridge=b,tag=9999", err, sizeof(err)), -EINVAL);
	CHECK(memcmp(&conf, &again, sizeof(conf)) == 0);
}

static void test_store(void)
{
	char dir[] = "/tmp/test-vms-XXXXXX", sub[64], err[512];
	struct vms_store store;
	CHECK(mkdtemp(dir) != NULL);
	snprintf(sub, sizeof(sub), "%s/a/b", dir);
	CHECK_EQ_INT(vms_store_open(&store, sub, false), -ENOENT);
	CHECK_EQ_INT(vms_store_open(&store, sub, true), 0);

	CHECK_EQ_STR(parse_err(BASE), "OK");
	conf.id = 250;
	CHECK_EQ_INT(vms_store_save(&store, &conf, true), 0);
	CHECK_EQ_INT(vms_store_save(&store, &conf, true), -EEXIST);
	conf.cores = 4;
	CHECK_EQ_INT(vms_store_save(&store, &conf, false), 0);
	CHECK(vms_store_exists(&store, 250));
	CHECK_EQ_INT(vms_store_load(&store, 250, &again, err, sizeof(err)), 0);
	CHECK_EQ_INT(again.cores, 4);
	CHECK_EQ_INT(vms_store_load(&store, 251, &again, err, sizeof(err)), -ENOENT);

	/* no temp file is left behind */
	uint32_t *ids;
	size_t count, bad;
	char path[128];
	snprintf(path, sizeof(path), "%s/0042.conf", sub);
	fclose(fopen(path, "w"));
	CHECK_EQ_INT(vms_store_list(&store, &ids, &count, &bad), 0);
	CHECK_EQ_INT(count, 1);
	CHECK_EQ_INT(bad, 1);
	CHECK_EQ_INT(count ? ids[0] : 0, 250);
	free(ids);
	snprintf(path, sizeof(path), "%s/.250.conf.tmp", sub);
	CHECK(access(path, F_OK) < 0);

	/* the lock is exclusive between two open file descriptions */
	int l1 = -1, l2 = -1;
	CHECK_EQ_INT(vms_store_lock(&store, 250, &l1), 0);
	CHECK_EQ_INT(vms_store_lock(&store, 250, &l2), -EBUSY);
	vms_store_unlock(l1);
	CHECK_EQ_INT(vms_store_lock(&store, 250, &l2), 0);
	vms_store_unlock(l2);

	/* a corrupt file is reported with its path and line */
	snprintf(path, sizeof(path), "%s/300.conf", sub);
	FILE *f = fopen(path, "w");
	fputs(BASE "memory: 1\n", f);
	fclose(f);
	CHECK_EQ_INT(vms_store_load(&store, 300, &again, err, sizeof(err)), -EINVAL);
	char want[256];
	snprintf(want, sizeof(want), "%s:4: duplicate key 'memory' (first on line 2)", path);
	CHECK_EQ_STR(err, want);

	CHECK_EQ_INT(vms_store_remove(&store, 250), 0);
	CHECK(!vms_store_exists(&store, 250));
	vms_store_close(&store);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_EQ_INT(system(cmd), 0);
}

int main(void)
{
	test_ids();
	test_parse_errors();
	test_round_trip();
	test_store();
	return test_result();
}
