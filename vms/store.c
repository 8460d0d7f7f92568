// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The store: a directory of ID.conf files (/etc/passvm/vms, as Proxmox
 * keeps /etc/pve/qemu-server/ID.conf). Writes are atomic - a reader (or a
 * crash) sees the old file or the new one, never half of one: write a temp
 * file, fsync it, link(2) or rename(2) it into place, fsync the directory
 * (rename(2) is atomic per POSIX; the fsyncs make it durable, see
 * "Ensuring data reaches disk", LWN 457667). Each VM has a lock file
 * (.ID.lock) taken with flock(2) around read-modify-write, so two `passvm
 * set` on one VM cannot lose an update.
 */
#include "vms.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* mkdir -p of an absolute or relative path. */
static int mkdir_parents(const char *path)
{
	char buf[PATH_MAX];
	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	for (char *p = buf + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(buf, 0755) < 0 && errno != EEXIST)
				return -errno;
			if (!c)
				return 0;
			*p = c;
		}
	}
}

int vms_store_open(struct vms_store *store, const char *dir, bool create)
{
	if (!dir || !dir[0])
		dir = getenv(VMS_CONFIG_DIR_ENV);
	if (!dir || !dir[0])
		dir = VMS_DEFAULT_CONFIG_DIR;
	if (strlen(dir) >= sizeof(store->path))
		return -ENAMETOOLONG;
	strcpy(store->path, dir);
	if (create) {
		int r = mkdir_parents(dir);
		if (r < 0)
			return r;
	}
	store->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return store->dirfd < 0 ? -errno : 0;
}

void vms_store_close(struct vms_store *store)
{
	if (store->dirfd >= 0)
		close(store->dirfd);
	store->dirfd = -1;
}

int vms_store_lock(const struct vms_store *store, uint32_t id, int *lock_fd)
{
	char name[32];
	snprintf(name, sizeof(name), ".%u.lock", id);
	int fd = openat(store->dirfd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int r = errno == EWOULDBLOCK ? -EBUSY : -errno;
		close(fd);
		return r;
	}
	*lock_fd = fd;
	return 0;
}

void vms_store_unlock(int lock_fd)
{
	if (lock_fd >= 0)
		close(lock_fd);
}

bool vms_store_exists(const struct vms_store *store, uint32_t id)
{
	char name[32];
	snprintf(name, sizeof(name), "%u.conf", id);
	return faccessat(store->dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

/* The largest file accepted: far above any real config (a few hundred
 * bytes), small enough to read in one buffer. */
#define VMS_FILE_MAX (256 * 1024)

int vms_store_load(const struct vms_store *store, uint32_t id,
		   struct vms_config *conf, char *err, size_t err_size)
{
	char name[32], shown[PATH_MAX + 32];
	snprintf(name, sizeof(name), "%u.conf", id);
	snprintf(shown, sizeof(shown), "%s/%s", store->path, name);
	err[0] = '\0';
	int fd = openat(store->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	char *buf = malloc(VMS_FILE_MAX + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	size_t len = 0;
	ssize_t n;
	while ((n = read(fd, buf + len, VMS_FILE_MAX + 1 - len)) > 0 && len + (size_t)n <= VMS_FILE_MAX)
		len += (size_t)n;
	int r = n < 0 ? -errno : 0;
	close(fd);
	if (r == 0 && n > 0) {
		snprintf(err, err_size, "%s: larger than %d bytes", shown, VMS_FILE_MAX);
		r = -EFBIG;
	}
	if (r == 0)
		r = vms_config_parse(buf, len, shown, id, conf, err, err_size);
	free(buf);
	return r;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int vms_store_save(const struct vms_store *store, const struct vms_config *conf,
		   bool create_new)
{
	char name[32], tmp[64], why[256];
	if (vms_config_check(conf, why, sizeof(why)) < 0)
		return -EINVAL;
	char *buf = malloc(VMS_FILE_MAX);
	if (!buf)
		return -ENOMEM;
	ssize_t len = vms_config_format(conf, buf, VMS_FILE_MAX);
	if (len < 0) {
		free(buf);
		return (int)len;
	}
	snprintf(name, sizeof(name), "%u.conf", conf->id);
	snprintf(tmp, sizeof(tmp), ".%u.conf.tmp", conf->id);
	/* The temp name is fixed per VM: the caller holds the VM's lock, so
	 * nobody else writes it; a leftover from a crash is replaced. */
	int fd = openat(store->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	int r = fd < 0 ? -errno : 0;
	if (r == 0)
		r = write_all(fd, buf, (size_t)len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (fd >= 0 && close(fd) < 0 && r == 0)
		r = -errno;
	free(buf);
	if (r == 0) {
		if (create_new) {
			/* link(2) fails with EEXIST instead of replacing. */
			if (linkat(store->dirfd, tmp, store->dirfd, name, 0) < 0)
				r = -errno;
			unlinkat(store->dirfd, tmp, 0);
		} else if (renameat(store->dirfd, tmp, store->dirfd, name) < 0) {
			r = -errno;
		}
	} else if (fd >= 0) {
		unlinkat(store->dirfd, tmp, 0);
	}
	if (r == 0 && fsync(store->dirfd) < 0)
		r = -errno;
	return r;
}

int vms_store_remove(const struct vms_store *store, uint32_t id)
{
	char name[32];
	snprintf(name, sizeof(name), "%u.conf", id);
	if (unlinkat(store->dirfd, name, 0) < 0)
		return -errno;
	/* The lock file stays: removing it while another command waits on it
	 * would let two commands hold "the" lock on different inodes. */
	return fsync(store->dirfd) < 0 ? -errno : 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int vms_store_list(const struct vms_store *store, uint32_t **ids, size_t *count,
		   size_t *bad_names)
{
	int fd = openat(store->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return -errno;
	}
	uint32_t *list = NULL;
	size_t n = 0, cap = 0, bad = 0;
	int r = 0;
	struct dirent *de;
	while ((de = readdir(dir))) {
		size_t len = strlen(de->d_name);
		char idtext[16];
		uint32_t id;
		if (de->d_name[0] == '.' || len < 6 || strcmp(de->d_name + len - 5, ".conf") != 0)
			continue;
		if (len - 5 >= sizeof(idtext) || (snprintf(idtext, sizeof(idtext), "%.*s", (int)(len - 5), de->d_name),
						  vms_id_parse(idtext, &id) < 0)) {
			bad++;
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			uint32_t *grown = realloc(list, cap * sizeof(*list));
			if (!grown) {
				r = -ENOMEM;
				break;
			}
			list = grown;
		}
		list[n++] = id;
	}
	closedir(dir);
	if (r < 0) {
		free(list);
		return r;
	}
	qsort(list, n, sizeof(*list), cmp_u32);
	*ids = list;
	*count = n;
	if (bad_names)
		*bad_names = bad;
	return 0;
}
