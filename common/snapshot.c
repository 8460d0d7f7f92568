// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Snapshots of what the host root read: the recorder, the tar writer and the
 * replay of errors. A bug report carries exactly the files a tool read, so
 * `--root` on the unpacked tar gives the same answers:
 *  - a path read is stored with its content (sysfs attributes report a size
 *    of 4096, so the content is read again here, not stat'ed);
 *  - every symlink crossed on the way is stored as a symlink, so sysfs's
 *    bus/class links resolve the same way in the copy;
 *  - errors other than "absent" (EACCES for an unprivileged reader) go to
 *    passvm-snapshot/errors and are replayed by host_root_replay_load.
 * The tar is GNU format (ustar plus 'L'/'K' long names), readable by GNU tar,
 * bsdtar and Python's tarfile; owners and times are zero so it is
 * reproducible.
 */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct record {
	char *path;
	enum host_root_access what;
	int err;
};

struct host_root_recorder {
	struct record *v;
	size_t n, cap;
};

struct replay_entry {
	char *path;
	int err;
};

struct host_root_replay {
	struct replay_entry *v;
	size_t n;
};

static const char *skip_slashes(const char *p)
{
	while (*p == '/')
		p++;
	return p;
}

int host_root_record_start(struct host_root *root)
{
	if (root->recorder)
		return 0;
	root->recorder = calloc(1, sizeof(*root->recorder));
	return root->recorder ? 0 : -ENOMEM;
}

void host_root_record_stop(struct host_root *root)
{
	struct host_root_recorder *rec = root->recorder;
	if (!rec)
		return;
	for (size_t i = 0; i < rec->n; i++)
		free(rec->v[i].path);
	free(rec->v);
	free(rec);
	root->recorder = NULL;
}

void host_root_record(const struct host_root *root, const char *relpath,
		      enum host_root_access what, int err)
{
	struct host_root_recorder *rec = root->recorder;
	if (!rec)
		return;
	if (rec->n == rec->cap) {
		size_t ncap = rec->cap ? rec->cap * 2 : 256;
		struct record *grown = realloc(rec->v, ncap * sizeof(*grown));
		if (!grown)
			return; /* a snapshot missing a file beats a crash */
		rec->v = grown;
		rec->cap = ncap;
	}
	char *copy = strdup(skip_slashes(relpath));
	if (!copy)
		return;
	rec->v[rec->n++] = (struct record){ copy, what, err };
}

/* ---- replay ---------------------------------------------------------- */
static int compare_replay(const void *a, const void *b)
{
	return strcmp(((const struct replay_entry *)a)->path,
		      ((const struct replay_entry *)b)->path);
}

void host_root_replay_free(struct host_root *root)
{
	struct host_root_replay *rp = root->replay;
	if (!rp)
		return;
	for (size_t i = 0; i < rp->n; i++)
		free(rp->v[i].path);
	free(rp->v);
	free(rp);
	root->replay = NULL;
}

int host_root_replay_load(struct host_root *root, const char *relpath)
{
	char *text = malloc(1 << 20);
	if (!text)
		return -ENOMEM;
	ssize_t len = host_root_read(root, relpath, text, 1 << 20);
	if (len < 0) {
		free(text);
		return (int)len;
	}
	struct host_root_replay *rp = calloc(1, sizeof(*rp));
	if (!rp) {
		free(text);
		return -ENOMEM;
	}
	size_t cap = 0;
	int r = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char *sp = strchr(line, ' ');
		uint64_t e;
		if (!sp)
			continue;
		*sp = '\0';
		if (parse_u64(line, &e) < 0 || e == 0 || e > 4095 || !sp[1])
			continue;
		if (rp->n == cap) {
			cap = cap ? cap * 2 : 16;
			struct replay_entry *g = realloc(rp->v, cap * sizeof(*g));
			if (!g) {
				r = -ENOMEM;
				break;
			}
			rp->v = g;
		}
		rp->v[rp->n].path = strdup(skip_slashes(sp + 1));
		if (!rp->v[rp->n].path) {
			r = -ENOMEM;
			break;
		}
		rp->v[rp->n++].err = -(int)e;
	}
	free(text);
	if (rp->n)
		qsort(rp->v, rp->n, sizeof(*rp->v), compare_replay);
	host_root_replay_free(root);
	root->replay = rp;
	return r;
}

int host_root_replayed_error(const struct host_root *root, const char *relpath)
{
	const struct host_root_replay *rp = root->replay;
	struct replay_entry key = { (char *)skip_slashes(relpath), 0 };
	if (!rp || !rp->n)
		return 0;
	const struct replay_entry *hit =
		bsearch(&key, rp->v, rp->n, sizeof(*rp->v), compare_replay);
	return hit ? hit->err : 0;
}

/* ---- the set of tar entries -------------------------------------------- */
enum entry_type { ENTRY_DIR, ENTRY_LINK, ENTRY_FILE, ENTRY_EMPTY };

struct entry {
	char *path;           /* physical path inside the root */
	enum entry_type type;
	char *target;         /* ENTRY_LINK */
	const char *content;  /* extra files: given content */
};

struct entries {
	struct entry *v;
	size_t n, cap;
	int err;
};

static void entries_add(struct entries *e, const char *path, enum entry_type type,
			const char *target, const char *content)
{
	if (strcmp(path, ".") == 0 || !*path)
		return;
	if (e->n == e->cap) {
		size_t ncap = e->cap ? e->cap * 2 : 256;
		struct entry *g = realloc(e->v, ncap * sizeof(*g));
		if (!g) {
			e->err = -ENOMEM;
			return;
		}
		e->v = g;
		e->cap = ncap;
	}
	struct entry *x = &e->v[e->n];
	x->path = strdup(path);
	x->target = target ? strdup(target) : NULL;
	x->content = content;
	x->type = type;
	if (!x->path || (target && !x->target)) {
		free(x->path);
		free(x->target);
		e->err = -ENOMEM;
		return;
	}
	e->n++;
	/* Every parent is a directory entry too. */
	char parent[PATH_MAX];
	snprintf(parent, sizeof(parent), "%s", path);
	char *slash = strrchr(parent, '/');
	if (slash) {
		*slash = '\0';
		entries_add(e, parent, ENTRY_DIR, NULL, NULL);
	}
}

/* Adds the symlinks crossed on the way to relpath, then the final object
 * by its type (lstat'ed, never followed when follow_last is false). */
static void add_path(const struct host_root *root, struct entries *e,
		     const char *relpath, bool follow_last, bool content)
{
	char pending[PATH_MAX], done[PATH_MAX], target[PATH_MAX], rest[PATH_MAX];
	unsigned links = 0;
	if (snprintf(pending, sizeof(pending), "%s", relpath) >= (int)sizeof(pending))
		return;
	done[0] = '\0';
	char *p = pending;
	for (;;) {
		p += strspn(p, "/");
		if (!*p)
			break;
		size_t clen = strcspn(p, "/");
		char comp[NAME_MAX + 1];
		if (clen > NAME_MAX)
			return;
		memcpy(comp, p, clen);
		comp[clen] = '\0';
		p += clen;
		bool last = p[strspn(p, "/")] == '\0';
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			char *s = strrchr(done, '/');
			if (s)
				*s = '\0';
			else
				done[0] = '\0';
			continue;
		}
		size_t before = strlen(done);
		if (snprintf(done + before, sizeof(done) - before, "%s%s",
			     before ? "/" : "", comp) >= (int)(sizeof(done) - before))
			return;
		struct stat st;
		if (fstatat(root->dirfd, done, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return;
		if (S_ISLNK(st.st_mode)) {
			ssize_t n = readlinkat(root->dirfd, done, target, sizeof(target) - 1);
			if (n < 0)
				return;
			target[n] = '\0';
			entries_add(e, done, ENTRY_LINK, target, NULL);
			if (last && !follow_last)
				return;
			if (++links > 40)
				return;
			done[before] = '\0';
			if (target[0] == '/')
				done[0] = '\0';
			if (snprintf(rest, sizeof(rest), "%s/%s", target, p) >= (int)sizeof(rest))
				return;
			strcpy(pending, rest);
			p = pending;
			continue;
		}
		if (!last) {
			if (!S_ISDIR(st.st_mode))
				return;
			continue;
		}
		if (S_ISDIR(st.st_mode))
			entries_add(e, done, ENTRY_DIR, NULL, NULL);
		else if (S_ISREG(st.st_mode) && content)
			entries_add(e, done, ENTRY_FILE, NULL, NULL);
		else
			/* Existence only, or a device node (its answers live in
			 * the tool's facts file): an empty regular file. */
			entries_add(e, done, ENTRY_EMPTY, NULL, NULL);
		return;
	}
}

static int compare_entries(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = strcmp(x->path, y->path);
	if (c)
		return c;
	/* For one path, the richest record first: content beats "exists". */
	return (int)x->type - (int)y->type;
}

/* ---- tar --------------------------------------------------------------- */
struct tar_header {
	char name[100], mode[8], uid[8], gid[8], size[12], mtime[12], chksum[8];
	char typeflag, linkname[100], magic[8], uname[32], gname[32];
	char devmajor[8], devminor[8], prefix[155], pad[12];
};
_Static_assert(sizeof(struct tar_header) == 512, "tar header is one block");

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_padded(int fd, const void *data, size_t len)
{
	static const char zeros[512];
	int r = len ? write_all(fd, data, len) : 0;
	if (r == 0 && len % 512)
		r = write_all(fd, zeros, 512 - len % 512);
	return r;
}

static int write_header(int fd, const char *name, char type, const char *link,
			size_t size, unsigned mode);

/* GNU long name/link: a pseudo entry whose data is the full string. */
static int write_long(int fd, char type, const char *text)
{
	int r = write_header(fd, "././@LongLink", type, NULL, strlen(text) + 1, 0644);
	return r < 0 ? r : write_padded(fd, text, strlen(text) + 1);
}

static int write_header(int fd, const char *name, char type, const char *link,
			size_t size, unsigned mode)
{
	struct tar_header h;
	int r;
	if (strlen(name) >= sizeof(h.name) && (r = write_long(fd, 'L', name)) < 0)
		return r;
	if (link && strlen(link) >= sizeof(h.linkname) && (r = write_long(fd, 'K', link)) < 0)
		return r;
	memset(&h, 0, sizeof(h));
	strncpy(h.name, name, sizeof(h.name) - 1);
	snprintf(h.mode, sizeof(h.mode), "%07o", mode);
	snprintf(h.uid, sizeof(h.uid), "%07o", 0);
	snprintf(h.gid, sizeof(h.gid), "%07o", 0);
	snprintf(h.size, sizeof(h.size), "%011llo", (unsigned long long)size);
	snprintf(h.mtime, sizeof(h.mtime), "%011o", 0);
	h.typeflag = type;
	if (link)
		strncpy(h.linkname, link, sizeof(h.linkname) - 1);
	memcpy(h.magic, "ustar  ", 8);
	strcpy(h.uname, "root");
	strcpy(h.gname, "root");
	memset(h.chksum, ' ', sizeof(h.chksum));
	unsigned sum = 0;
	for (size_t i = 0; i < sizeof(h); i++)
		sum += ((unsigned char *)&h)[i];
	snprintf(h.chksum, sizeof(h.chksum), "%06o", sum);
	return write_all(fd, &h, sizeof(h));
}

/* Reads a file of the root again for the tar (physical path, no links). */
static char *read_physical(const struct host_root *root, const char *path, size_t *len)
{
	int fd = openat(root->dirfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		if (n == cap) {
			if (cap >= (64u << 20))
				break;  /* nothing a tool reads is this big */
			char *g = realloc(buf, cap * 2);
			if (!g)
				break;
			buf = g;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	*len = n;
	return buf;
}

static int write_entry(const struct host_root *root, int fd, const struct entry *x)
{
	int r;
	switch (x->type) {
	case ENTRY_DIR:
		return write_header(fd, x->path, '5', NULL, 0, 0755);
	case ENTRY_LINK:
		return write_header(fd, x->path, '2', x->target, 0, 0777);
	case ENTRY_EMPTY:
		if (x->content)
			break;
		return write_header(fd, x->path, '0', NULL, 0, 0644);
	case ENTRY_FILE:
		break;
	}
	if (x->content) {
		size_t len = strlen(x->content);
		r = write_header(fd, x->path, '0', NULL, len, 0644);
		return r < 0 ? r : write_padded(fd, x->content, len);
	}
	size_t len = 0;
	char *data = read_physical(root, x->path, &len);
	r = write_header(fd, x->path, '0', NULL, data ? len : 0, 0644);
	if (r == 0 && data)
		r = write_padded(fd, data, len);
	free(data);
	return r;
}

static char *format_errors(const struct host_root_recorder *rec)
{
	size_t cap = 1, len = 0;
	for (size_t i = 0; i < rec->n; i++)
		cap += strlen(rec->v[i].path) + 16;
	char *text = malloc(cap);
	if (!text)
		return NULL;
	text[0] = '\0';
	for (size_t i = 0; i < rec->n; i++)
		if (rec->v[i].err)
			len += (size_t)snprintf(text + len, cap - len, "%d %s\n",
						-rec->v[i].err, rec->v[i].path);
	return text;
}

int snapshot_write_tar(const struct host_root *root, int out_fd,
		       const struct snapshot_extra *extra, size_t n_extra)
{
	const struct host_root_recorder *rec = root->recorder;
	struct entries e = { 0 };
	if (!rec)
		return -EINVAL;
	char *errors = format_errors(rec);
	if (!errors)
		return -ENOMEM;
	for (size_t i = 0; i < rec->n; i++) {
		const struct record *x = &rec->v[i];
		if (x->err)
			continue;
		bool follow = x->what != HOST_ROOT_LINK && x->what != HOST_ROOT_ENTRY;
		add_path(root, &e, x->path, follow, x->what == HOST_ROOT_READ);
	}
	for (size_t i = 0; i < n_extra; i++)
		entries_add(&e, extra[i].path, ENTRY_FILE, NULL, extra[i].content);
	entries_add(&e, "passvm-snapshot/errors", ENTRY_FILE, NULL, errors);

	int r = e.err;
	if (r == 0 && e.n)
		qsort(e.v, e.n, sizeof(*e.v), compare_entries);
	for (size_t i = 0; r == 0 && i < e.n; i++) {
		if (i && strcmp(e.v[i].path, e.v[i - 1].path) == 0)
			continue;
		r = write_entry(root, out_fd, &e.v[i]);
	}
	if (r == 0) {
		static const char end[1024];
		r = write_all(out_fd, end, sizeof(end));
	}
	for (size_t i = 0; i < e.n; i++) {
		free(e.v[i].path);
		free(e.v[i].target);
	}
	free(e.v);
	free(errors);
	return r;
}
