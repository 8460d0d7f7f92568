// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The write-ahead journal of host changes, and the one function that makes
 * them (vfio_journal_apply).
 *
 * One file per device, run/passvm/vfio/BDF.journal, on tmpfs: it must survive
 * a crash of passvm, not a reboot (after a reboot every device is back on its
 * boot-time driver anyway). The file starts with the device's original state,
 * written to a temporary name, fsync'd and renamed into place, so it is
 * either absent or complete; each step is then appended and fsync'd before
 * the sysfs write it describes, and its outcome after. Restore needs only the
 * original state and the live sysfs (it compares and converges), so a step
 * recorded but never performed, or performed but never marked ok, is
 * harmless.
 *
 * Format (text, one record a line, values never contain blanks; "-" is the
 * empty value):
 *   passvm-vfio-journal 1
 *   device 0000:00:02.0
 *   time 1764158000
 *   pid 1234
 *   orig-driver e1000e
 *   orig-override -
 *   orig-numvfs 0            (only for SR-IOV capable functions)
 *   orig-autoprobe 1         (likewise: sriov_drivers_autoprobe)
 *   step override vfio-pci
 *   ok
 *   step unbind e1000e
 *   err -16
 */
#include "vfio.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define JOURNAL_MAGIC "passvm-vfio-journal 1"
#define JOURNAL_SUFFIX ".journal"
#define PCI_DEVICES "sys/bus/pci/devices"

static const char *const change_names[] = {
	[VFIO_CHANGE_OVERRIDE] = "override",
	[VFIO_CHANGE_UNBIND] = "unbind",
	[VFIO_CHANGE_BIND] = "bind",
	[VFIO_CHANGE_PROBE] = "probe",
	[VFIO_CHANGE_SRIOV_NUMVFS] = "sriov_numvfs",
	[VFIO_CHANGE_SRIOV_AUTOPROBE] = "sriov_autoprobe",
};

const char *vfio_change_name(enum vfio_change_kind kind)
{
	return (size_t)kind < ARRAY_SIZE(change_names) ? change_names[kind] : "?";
}

void vfio_host_init(struct vfio_host *host, const struct host_root *root)
{
	host->root = root;
	host->write_attr = host_root_write;
}

/* mkdir -p of the journal directory inside the host root; returns an fd of
 * it (O_DIRECTORY, usable for openat/renameat/fsync). */
static int journal_dir_open(const struct vfio_host *host, bool create)
{
	static const char *const parts[] = { "run", "run/passvm", VFIO_JOURNAL_DIR };
	if (create) {
		for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
			const char *slash = strrchr(parts[i], '/');
			char parent[64] = ".";
			const char *name = parts[i];
			if (slash) {
				snprintf(parent, sizeof(parent), "%.*s",
					 (int)(slash - parts[i]), parts[i]);
				name = slash + 1;
			}
			int pfd = host_root_openat(host->root, parent, O_PATH | O_DIRECTORY);
			if (pfd < 0)
				return pfd;
			int r = mkdirat(pfd, name, 0700);
			int err = errno;
			close(pfd);
			if (r < 0 && err != EEXIST)
				return -err;
		}
	}
	return host_root_openat(host->root, VFIO_JOURNAL_DIR, O_RDONLY | O_DIRECTORY);
}

static void journal_name(const struct pci_addr *addr, char *buf, size_t size)
{
	char bdf[PCI_ADDR_STRLEN];
	pci_addr_format(addr, bdf);
	snprintf(buf, size, "%s" JOURNAL_SUFFIX, bdf);
}

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

/* Values go into the journal as single words. Driver names and numbers are;
 * anything else is refused rather than escaped. */
static bool is_word(const char *s)
{
	if (!s)
		return false;
	for (; *s; s++)
		if (isspace((unsigned char)*s) || !isprint((unsigned char)*s))
			return false;
	return true;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Appends one line and makes it durable before returning. */
static int journal_append(int dirfd, const char *name, const char *line)
{
	int fd = openat(dirfd, name, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = write_all(fd, line, strlen(line));
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

static int read_numvfs(const struct host_root *root, const char *bdf,
		       bool *has, uint64_t *numvfs)
{
	char path[128];
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/sriov_numvfs", bdf);
	int r = host_root_read_u64(root, path, numvfs);
	*has = r == 0;
	return r == -ENOENT ? 0 : r;
}

/* Records the device's state before passvm's first change to it: written
 * under a temporary name, fsync'd, renamed, and the directory fsync'd, so
 * the journal file is never seen half-written. */
static int journal_create(const struct vfio_host *host, int dirfd,
			  const struct pci_addr *addr, const char *name)
{
	struct pci_dev_info dev;
	int r = pci_dev_read(host->root, addr, &dev);
	if (r < 0)
		return r;
	bool has_numvfs;
	uint64_t numvfs = 0;
	r = read_numvfs(host->root, dev.bdf, &has_numvfs, &numvfs);
	if (r < 0)
		return r;

	char text[512], numvfs_line[96] = "";
	if (has_numvfs) {
		/* sriov_drivers_autoprobe exists beside sriov_numvfs
		 * (drivers/pci/iov.c sriov_pf_dev_attrs); sriov/ turns it off
		 * while it creates VFs for vfio-pci. */
		char path[128];
		uint64_t autoprobe;
		int n = snprintf(numvfs_line, sizeof(numvfs_line),
				 "orig-numvfs %" PRIu64 "\n", numvfs);
		snprintf(path, sizeof(path), PCI_DEVICES "/%s/sriov_drivers_autoprobe",
			 dev.bdf);
		if (host_root_read_u64(host->root, path, &autoprobe) == 0)
			snprintf(numvfs_line + n, sizeof(numvfs_line) - (size_t)n,
				 "orig-autoprobe %" PRIu64 "\n", autoprobe);
	}
	snprintf(text, sizeof(text),
		 JOURNAL_MAGIC "\ndevice %s\ntime %lld\npid %d\norig-driver %s\n"
		 "orig-override %s\n%s",
		 dev.bdf, (long long)time(NULL), (int)getpid(), or_dash(dev.driver),
		 or_dash(dev.driver_override), numvfs_line);

	char tmp[80];
	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	r = write_all(fd, text, strlen(text));
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	close(fd);
	if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		r = -errno;
	if (r == 0 && fsync(dirfd) < 0)
		r = -errno;
	if (r < 0)
		unlinkat(dirfd, tmp, 0);
	return r;
}

/* The sysfs attribute and value a change writes. */
static int change_target(const struct vfio_change *c, const char *bdf,
			 char *path, size_t psize, const char **value)
{
	switch (c->kind) {
	case VFIO_CHANGE_OVERRIDE:
		snprintf(path, psize, PCI_DEVICES "/%s/driver_override", bdf);
		/* A lone newline clears the override (drivers/base/driver.c:
		 * driver_set_override treats "\n" as empty). */
		*value = c->value && *c->value ? c->value : "\n";
		return 0;
	case VFIO_CHANGE_UNBIND:
	case VFIO_CHANGE_BIND:
		if (!c->value || !*c->value || strchr(c->value, '/'))
			return -EINVAL;
		snprintf(path, psize, "sys/bus/pci/drivers/%s/%s", c->value,
			 c->kind == VFIO_CHANGE_BIND ? "bind" : "unbind");
		*value = bdf;
		return 0;
	case VFIO_CHANGE_PROBE:
		snprintf(path, psize, "sys/bus/pci/drivers_probe");
		*value = bdf;
		return 0;
	case VFIO_CHANGE_SRIOV_NUMVFS: {
		uint64_t n;
		if (parse_u64(c->value, &n) < 0)
			return -EINVAL;
		snprintf(path, psize, PCI_DEVICES "/%s/sriov_numvfs", bdf);
		*value = c->value;
		return 0;
	}
	case VFIO_CHANGE_SRIOV_AUTOPROBE:
		if (!c->value || (strcmp(c->value, "0") != 0 && strcmp(c->value, "1") != 0))
			return -EINVAL;
		snprintf(path, psize, PCI_DEVICES "/%s/sriov_drivers_autoprobe", bdf);
		*value = c->value;
		return 0;
	}
	return -EINVAL;
}

int vfio_journal_apply(const struct vfio_host *host, const struct vfio_change *c)
{
	char bdf[PCI_ADDR_STRLEN], name[64], path[256], line[160];
	const char *value;

	pci_addr_format(&c->dev, bdf);
	int r = change_target(c, bdf, path, sizeof(path), &value);
	if (r < 0)
		return r;
	if (c->value && !is_word(c->value))
		return -EINVAL;

	int dirfd = journal_dir_open(host, true);
	if (dirfd < 0)
		return dirfd;
	journal_name(&c->dev, name, sizeof(name));
	if (faccessat(dirfd, name, F_OK, 0) < 0) {
		r = errno == ENOENT ? journal_create(host, dirfd, &c->dev, name) : -errno;
		if (r < 0)
			goto out;
	}

	snprintf(line, sizeof(line), "step %s %s\n", vfio_change_name(c->kind),
		 or_dash(c->value));
	r = journal_append(dirfd, name, line);
	if (r < 0)
		goto out;

	vfio_fault_check("before", c->kind);
	int wr = host->write_attr(host->root, path, value);
	if (wr < 0)
		snprintf(line, sizeof(line), "err %d\n", wr);
	else
		snprintf(line, sizeof(line), "ok\n");
	r = journal_append(dirfd, name, line);
	vfio_fault_check("after", c->kind);
	if (wr < 0)
		r = wr;
out:
	close(dirfd);
	return r;
}

/* ---- reading ---------------------------------------------------------- */

static void copy_value(char *dst, size_t size, const char *src)
{
	if (strcmp(src, "-") == 0)
		src = "";
	snprintf(dst, size, "%s", src);
}

static int journal_parse(const char *text, struct vfio_journal_entry *e)
{
	memset(e, 0, sizeof(*e));
	bool magic = false, device = false, driver = false;
	const char *p = text;
	while (*p) {
		const char *nl = strchr(p, '\n');
		if (!nl)
			break; /* a torn last line: a crash mid-append */
		char line[256], key[32], val[200];
		size_t len = (size_t)(nl - p);
		if (len < sizeof(line)) {
			memcpy(line, p, len);
			line[len] = '\0';
			val[0] = '\0';
			int n = sscanf(line, "%31s %199[^\n]", key, val);
			if (strcmp(line, JOURNAL_MAGIC) == 0) {
				magic = true;
			} else if (n >= 1 && strcmp(key, "device") == 0) {
				device = pci_addr_parse(val, &e->addr) == 0;
			} else if (n >= 1 && strcmp(key, "time") == 0) {
				e->time_s = atoll(val);
			} else if (n >= 1 && strcmp(key, "pid") == 0) {
				e->pid = atoi(val);
			} else if (n == 2 && strcmp(key, "orig-driver") == 0) {
				copy_value(e->orig_driver, sizeof(e->orig_driver), val);
				driver = true;
			} else if (n == 2 && strcmp(key, "orig-override") == 0) {
				copy_value(e->orig_override, sizeof(e->orig_override), val);
			} else if (n == 2 && strcmp(key, "orig-numvfs") == 0) {
				e->has_numvfs = parse_u64(val, &e->orig_numvfs) == 0;
			} else if (n == 2 && strcmp(key, "orig-autoprobe") == 0) {
				e->has_autoprobe = parse_u64(val, &e->orig_autoprobe) == 0;
			} else if (n == 2 && strcmp(key, "step") == 0) {
				e->steps++;
				snprintf(e->last_step, sizeof(e->last_step), "%s", val);
			} else if (n >= 1 && (strcmp(key, "ok") == 0 || strcmp(key, "err") == 0)) {
				size_t l = strlen(e->last_step);
				snprintf(e->last_step + l, sizeof(e->last_step) - l,
					 " %s", line);
			}
		}
		p = nl + 1;
	}
	if (!magic || !device || !driver)
		return -EBADMSG;
	pci_addr_format(&e->addr, e->bdf);
	return 0;
}

static int journal_read_fd(int dirfd, const char *name, struct vfio_journal_entry *e)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	char text[8192];
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, text + len, sizeof(text) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == sizeof(text) - 1)
			break;
	}
	close(fd);
	text[len] = '\0';
	return journal_parse(text, e);
}

int vfio_journal_get(const struct vfio_host *host, const struct pci_addr *addr,
		     struct vfio_journal_entry *entry)
{
	char name[64];
	int dirfd = journal_dir_open(host, false);
	if (dirfd < 0)
		return dirfd;
	journal_name(addr, name, sizeof(name));
	int r = journal_read_fd(dirfd, name, entry);
	close(dirfd);
	if (r == 0 && !pci_addr_equal(&entry->addr, addr))
		r = -EBADMSG;
	return r;
}

static int compare_entries(const void *a, const void *b)
{
	const struct vfio_journal_entry *x = a, *y = b;
	return strcmp(x->bdf, y->bdf);
}

int vfio_journal_list(const struct vfio_host *host,
		      struct vfio_journal_entry **entries_out, size_t *count_out)
{
	char **names;
	size_t n;
	*entries_out = NULL;
	*count_out = 0;
	int r = host_root_list_dir(host->root, VFIO_JOURNAL_DIR, &names, &n);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	int dirfd = journal_dir_open(host, false);
	if (dirfd < 0) {
		strv_free(names, n);
		return dirfd;
	}
	struct vfio_journal_entry *entries = calloc(n ? n : 1, sizeof(*entries));
	size_t count = 0;
	if (!entries)
		r = -ENOMEM;
	for (size_t i = 0; r == 0 && i < n; i++) {
		size_t l = strlen(names[i]), sl = strlen(JOURNAL_SUFFIX);
		if (l <= sl || strcmp(names[i] + l - sl, JOURNAL_SUFFIX) != 0)
			continue;
		/* An unreadable journal is an error, not something to skip:
		 * skipping it would be losing a device. */
		r = journal_read_fd(dirfd, names[i], &entries[count]);
		if (r == 0)
			count++;
	}
	close(dirfd);
	strv_free(names, n);
	if (r < 0) {
		free(entries);
		return r;
	}
	qsort(entries, count, sizeof(*entries), compare_entries);
	*entries_out = entries;
	*count_out = count;
	return 0;
}

int vfio_journal_forget(const struct vfio_host *host, const struct pci_addr *addr)
{
	char name[64];
	int dirfd = journal_dir_open(host, false);
	if (dirfd < 0)
		return dirfd == -ENOENT ? 0 : dirfd;
	journal_name(addr, name, sizeof(name));
	int r = unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	if (r == 0 && fsync(dirfd) < 0)
		r = -errno;
	close(dirfd);
	return r;
}

/* ---- locks ------------------------------------------------------------ */

static int compare_bdf(const void *a, const void *b)
{
	return strcmp(a, b);
}

int vfio_lock_devices(const struct vfio_host *host, const struct pci_addr *addrs,
		      size_t count, struct vfio_locks *locks)
{
	locks->fds = calloc(count ? count : 1, sizeof(int));
	locks->count = 0;
	if (!locks->fds)
		return -ENOMEM;
	if (count == 0)
		return 0; /* nothing to lock: do not create the directory either */
	int dirfd = journal_dir_open(host, true);
	if (dirfd < 0) {
		free(locks->fds);
		locks->fds = NULL;
		return dirfd;
	}
	/* Locks are taken in address order: the fixed order is what keeps
	 * two passvm processes with overlapping sets from deadlocking. */
	char (*bdfs)[PCI_ADDR_STRLEN] = calloc(count ? count : 1, sizeof(*bdfs));
	if (!bdfs) {
		close(dirfd);
		free(locks->fds);
		locks->fds = NULL;
		return -ENOMEM;
	}
	for (size_t i = 0; i < count; i++)
		pci_addr_format(&addrs[i], bdfs[i]);
	qsort(bdfs, count, sizeof(*bdfs), compare_bdf);
	int r = 0;
	for (size_t i = 0; i < count; i++) {
		char name[64];
		const char *bdf = bdfs[i];
		if (i > 0 && strcmp(bdfs[i - 1], bdf) == 0)
			continue;
		snprintf(name, sizeof(name), "%s.lock", bdf);
		int fd = openat(dirfd, name, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0) {
			r = -errno;
			break;
		}
		while (flock(fd, LOCK_EX) < 0) {
			if (errno != EINTR) {
				r = -errno;
				break;
			}
		}
		if (r < 0) {
			close(fd);
			break;
		}
		locks->fds[locks->count++] = fd;
	}
	close(dirfd);
	free(bdfs);
	if (r < 0)
		vfio_unlock_devices(locks);
	return r;
}

void vfio_unlock_devices(struct vfio_locks *locks)
{
	/* Closing drops the flock; the lock files stay (removing them would
	 * race with a process that has just opened one). */
	for (size_t i = 0; i < locks->count; i++)
		close(locks->fds[i]);
	free(locks->fds);
	locks->fds = NULL;
	locks->count = 0;
}
