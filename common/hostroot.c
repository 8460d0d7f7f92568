// SPDX-License-Identifier: GPL-2.0-or-later
/* The host root: the single owner of /sys, /proc, /dev and /run access. */
#include "common.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int host_root_open(struct host_root *root, const char *path)
{
	if (!path || !*path)
		path = "/";
	if (strlen(path) >= sizeof(root->path))
		return -ENAMETOOLONG;
	root->recorder = NULL;
	root->replay = NULL;
	root->dirfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root->dirfd < 0)
		return -errno;
	strcpy(root->path, path);
	struct stat root_st, slash_st;
	root->is_real = fstat(root->dirfd, &root_st) == 0 &&
			stat("/", &slash_st) == 0 &&
			root_st.st_dev == slash_st.st_dev &&
			root_st.st_ino == slash_st.st_ino;
	return 0;
}

void host_root_close(struct host_root *root)
{
	host_root_record_stop(root);
	host_root_replay_free(root);
	if (root->dirfd >= 0)
		close(root->dirfd);
	root->dirfd = -1;
}

static const char *strip_leading_slashes(const char *relpath)
{
	while (*relpath == '/')
		relpath++;
	return *relpath ? relpath : ".";
}

static int openat_in_root(const struct host_root *root, const char *relpath, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)flags | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	const char *rel = strip_leading_slashes(relpath);
	/* RESOLVE_IN_ROOT fails with EAGAIN when a rename happens anywhere on
	 * the system while a path with ".." (sysfs' relative links) is being
	 * resolved (openat2(2); fs/namei.c checks rename_lock): retry, as the
	 * man page says to. Seen in the fixture tests while the VFIO journal
	 * renamed its files in parallel tests. */
	int fd = -1;
	for (int tries = 0; tries < 64; tries++) {
		fd = (int)syscall(SYS_openat2, root->dirfd, rel, &how, sizeof(how));
		if (fd >= 0 || errno != EAGAIN)
			break;
	}
	if (fd >= 0)
		return fd;
	if (errno != ENOSYS)
		return -errno;
	/* Kernels before 5.6 have no openat2: plain openat, without the
	 * containment guarantee (only relevant to crafted fixture trees). */
	fd = openat(root->dirfd, rel, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int host_root_openat(const struct host_root *root, const char *relpath, int flags)
{
	bool path_only = (flags & O_PATH) != 0;
	if (!path_only && root->replay) {
		int err = host_root_replayed_error(root, relpath);
		if (err) {
			/* A snapshot of a snapshot keeps the error. */
			if (root->recorder)
				host_root_record(root, relpath, HOST_ROOT_READ, err);
			return err;
		}
	}
	int fd = openat_in_root(root, relpath, flags);
	if (root->recorder) {
		/* "Absent" needs no record: the snapshot lacks the path too. */
		if (fd >= 0)
			host_root_record(root, relpath, path_only ? HOST_ROOT_EXISTS
						  : HOST_ROOT_READ, 0);
		else if (fd != -ENOENT && fd != -ENOTDIR && !path_only)
			host_root_record(root, relpath, HOST_ROOT_READ, fd);
	}
	return fd;
}

ssize_t host_root_read(const struct host_root *root, const char *relpath,
		       char *buf, size_t size)
{
	if (size == 0)
		return -EINVAL;
	int fd = host_root_openat(root, relpath, O_RDONLY);
	if (fd < 0)
		return fd;
	size_t len = 0;
	while (len < size - 1) {
		ssize_t n = read(fd, buf + len, size - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int err = -errno;
			close(fd);
			return err;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	return (ssize_t)len;
}

int host_root_read_u64(const struct host_root *root, const char *relpath,
		       uint64_t *value)
{
	char buf[64];
	ssize_t n = host_root_read(root, relpath, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	return parse_u64(buf, value);
}

/* readlinkat() on a path inside the root: resolve the parent directory
 * inside the root first, then read the link itself without following it. */
ssize_t host_root_readlink(const struct host_root *root, const char *relpath,
			   char *buf, size_t size)
{
	char parent[PATH_MAX];
	const char *rel = strip_leading_slashes(relpath);
	const char *slash = strrchr(rel, '/');
	const char *name = rel;
	int dirfd;

	if (size == 0)
		return -EINVAL;
	if (slash) {
		size_t plen = (size_t)(slash - rel);
		if (plen >= sizeof(parent))
			return -ENAMETOOLONG;
		memcpy(parent, rel, plen);
		parent[plen] = '\0';
		name = slash + 1;
		dirfd = openat_in_root(root, parent, O_PATH | O_DIRECTORY);
		if (dirfd < 0)
			return dirfd;
	} else {
		dirfd = dup(root->dirfd);
		if (dirfd < 0)
			return -errno;
	}
	ssize_t n = readlinkat(dirfd, name, buf, size - 1);
	int err = errno;
	close(dirfd);
	if (n < 0)
		return -err;
	buf[n] = '\0';
	if (root->recorder)
		host_root_record(root, relpath, HOST_ROOT_LINK, 0);
	return n;
}

int host_root_link_basename(const struct host_root *root, const char *relpath,
			    char *buf, size_t size)
{
	char target[PATH_MAX];
	ssize_t n = host_root_readlink(root, relpath, target, sizeof(target));
	if (n < 0)
		return (int)n;
	const char *base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= size)
		return -ENAMETOOLONG;
	strcpy(buf, base);
	return 0;
}

bool host_root_exists(const struct host_root *root, const char *relpath)
{
	int fd = host_root_openat(root, relpath, O_PATH);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

int host_root_write(const struct host_root *root, const char *relpath,
		    const char *value)
{
	/* O_TRUNC as the shell's "echo > attr" does: sysfs ignores it, and a
	 * fixture tree's regular file then holds exactly the value written. */
	int fd = host_root_openat(root, relpath, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return fd;
	size_t len = strlen(value);
	ssize_t n;
	do {
		n = write(fd, value, len);
	} while (n < 0 && errno == EINTR);
	int err = n < 0 ? -errno : ((size_t)n == len ? 0 : -EIO);
	if (close(fd) < 0 && err == 0)
		err = -errno;
	return err;
}

static int compare_names(const void *a, const void *b)
{
	return strverscmp(*(char *const *)a, *(char *const *)b);
}

void strv_free(char **names, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
}

int host_root_list_dir(const struct host_root *root, const char *relpath,
		       char ***names_out, size_t *count_out)
{
	int fd = root->replay ? host_root_replayed_error(root, relpath) : 0;
	if (fd < 0 && root->recorder)
		host_root_record(root, relpath, HOST_ROOT_LIST, fd);
	if (fd < 0)
		return fd;
	fd = openat_in_root(root, relpath, O_RDONLY | O_DIRECTORY);
	if (fd < 0) {
		if (root->recorder && fd != -ENOENT && fd != -ENOTDIR)
			host_root_record(root, relpath, HOST_ROOT_LIST, fd);
		return fd;
	}
	DIR *dir = fdopendir(fd);
	if (!dir) {
		int err = -errno;
		close(fd);
		return err;
	}
	char **names = NULL;
	size_t count = 0, cap = 0;
	int err = 0;
	struct dirent *entry;
	while ((entry = readdir(dir))) {
		if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
			continue;
		if (count == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char **grown = realloc(names, ncap * sizeof(*names));
			if (!grown) {
				err = -ENOMEM;
				break;
			}
			names = grown;
			cap = ncap;
		}
		names[count] = strdup(entry->d_name);
		if (!names[count]) {
			err = -ENOMEM;
			break;
		}
		count++;
	}
	closedir(dir);
	if (err < 0) {
		strv_free(names, count);
		return err;
	}
	if (count)
		qsort(names, count, sizeof(*names), compare_names);
	if (root->recorder) {
		host_root_record(root, relpath, HOST_ROOT_LIST, 0);
		for (size_t i = 0; i < count; i++) {
			char child[PATH_MAX];
			if (snprintf(child, sizeof(child), "%s/%s", relpath, names[i]) <
			    (int)sizeof(child))
				host_root_record(root, child, HOST_ROOT_ENTRY, 0);
		}
	}
	*names_out = names;
	*count_out = count;
	return 0;
}

/* One step of resolution: the physical prefix grows by a component, or a
 * symlink's target is spliced in front of what is left. */
static int path_append(char *out, size_t size, const char *comp)
{
	size_t len = strlen(out);
	int n = snprintf(out + len, size - len, "%s%s", len ? "/" : "", comp);
	return n < 0 || (size_t)n >= size - len ? -ENAMETOOLONG : 0;
}

static void path_pop(char *out)
{
	char *slash = strrchr(out, '/');
	if (slash)
		*slash = '\0';
	else
		out[0] = '\0';  /* ".." at the root stays at the root */
}

int host_root_resolve(const struct host_root *root, const char *relpath,
		      bool follow_last, char *out, size_t size)
{
	char pending[PATH_MAX], rest[PATH_MAX], target[PATH_MAX];
	unsigned links = 0;

	if (size == 0)
		return -EINVAL;
	if (snprintf(pending, sizeof(pending), "%s", relpath) >= (int)sizeof(pending))
		return -ENAMETOOLONG;
	out[0] = '\0';
	char *p = pending;
	for (;;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		char *end = strchr(p, '/');
		size_t clen = end ? (size_t)(end - p) : strlen(p);
		char comp[NAME_MAX + 1];
		if (clen > NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(comp, p, clen);
		comp[clen] = '\0';
		p += clen;
		bool last = strspn(p, "/") == strlen(p);
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			path_pop(out);
			continue;
		}
		size_t before = strlen(out);
		int r = path_append(out, size, comp);
		if (r < 0)
			return r;
		struct stat st;
		if (fstatat(root->dirfd, out, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
		if (!S_ISLNK(st.st_mode) || (last && !follow_last))
			continue;
		if (++links > 40)
			return -ELOOP;
		ssize_t n = readlinkat(root->dirfd, out, target, sizeof(target) - 1);
		if (n < 0)
			return -errno;
		target[n] = '\0';
		out[before] = '\0';
		if (target[0] == '/')
			out[0] = '\0';  /* absolute: from the root, as RESOLVE_IN_ROOT */
		if (snprintf(rest, sizeof(rest), "%s/%s", target, p) >= (int)sizeof(rest))
			return -ENAMETOOLONG;
		strcpy(pending, rest);
		p = pending;
	}
	if (!out[0]) {
		if (size < 2)
			return -ENAMETOOLONG;
		strcpy(out, ".");
	}
	if (root->recorder)
		host_root_record(root, relpath, follow_last ? HOST_ROOT_EXISTS
					  : HOST_ROOT_ENTRY, 0);
	return 0;
}
