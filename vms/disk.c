// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Disk images passvm creates for a VM: `--diskN PATH,size=G` with no file at
 * PATH creates a sparse raw image of G GiB (ftruncate(2): no blocks are
 * allocated until the guest writes). Which images passvm created is kept in
 * the store, .ID.images (one absolute path a line), so `destroy --purge`
 * removes those and never an image the administrator brought along.
 */
#include "vms.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int vms_disk_image_create(const char *path, uint64_t size_gib)
{
	if (size_gib == 0 || size_gib > (UINT64_MAX >> 31))
		return -EINVAL;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	int r = ftruncate(fd, (off_t)(size_gib << 30)) < 0 ? -errno : 0;
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	close(fd);
	if (r < 0)
		unlink(path);
	return r;
}

static void images_name(uint32_t id, char *out, size_t size)
{
	snprintf(out, size, ".%u.images", id);
}

int vms_images_add(const struct vms_store *store, uint32_t id, const char *path)
{
	char name[32];
	images_name(id, name, sizeof(name));
	int fd = openat(store->dirfd, name, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
			0600);
	if (fd < 0)
		return -errno;
	char line[PATH_MAX + 2];
	int n = snprintf(line, sizeof(line), "%s\n", path);
	int r = n > 0 && (size_t)n < sizeof(line) && write(fd, line, (size_t)n) == n ? 0 : -EIO;
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

int vms_images_list(const struct vms_store *store, uint32_t id, char ***paths, size_t *count)
{
	char name[32];
	*paths = NULL;
	*count = 0;
	images_name(id, name, sizeof(name));
	int fd = openat(store->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	char line[PATH_MAX + 2];
	int r = 0;
	while (r == 0 && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] != '/')
			continue; /* only absolute paths were ever written */
		char **grown = realloc(*paths, (*count + 1) * sizeof(char *));
		char *copy = strdup(line);
		if (!grown || !copy) {
			free(copy);
			if (grown)
				*paths = grown;
			r = -ENOMEM;
			break;
		}
		*paths = grown;
		(*paths)[(*count)++] = copy;
	}
	fclose(f);
	if (r < 0) {
		strv_free(*paths, *count);
		*paths = NULL;
		*count = 0;
	}
	return r;
}

int vms_images_forget(const struct vms_store *store, uint32_t id)
{
	char name[32];
	images_name(id, name, sizeof(name));
	return unlinkat(store->dirfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
}
