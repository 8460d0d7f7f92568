// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A VM's run state. `passvm start` keeps a VM's runtime files in its run
 * directory, ID/ under /run/passvm (through the host root; --run-dir or
 * $PASSVM_RUN_DIR for tests): pid (held with flock(2) by the VMM process
 * for its whole life), control (the socket), console.log, passvm.log.
 *
 * A pid file outlives a VMM that was killed, and its pid can be reused by
 * an unrelated program, so it is believed only when proc/PID exists, is
 * not a zombie (proc(5): the state after the last ')' of proc/PID/stat, 'Z'
 * zombie, 'X' dead), and proc/PID/cmdline is a `passvm run` whose
 * --control socket is this VM's. Anything else is stale: the VM is
 * stopped, and vms_run_clean removes pid and socket (the logs stay).
 */
#include "vms.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int vms_run_open(struct vms_run *run, const struct host_root *root, const char *run_dir,
		 bool create)
{
	run->dir.dirfd = -1;
	if (!run_dir || !run_dir[0])
		run_dir = getenv(VMS_RUN_DIR_ENV);
	int n;
	if (run_dir && run_dir[0])
		n = snprintf(run->path, sizeof(run->path), "%s", run_dir);
	else
		n = snprintf(run->path, sizeof(run->path), "%s%s", root->path,
			     strcmp(root->path, "/") == 0 ? "run/passvm" : "/run/passvm");
	if (n < 0 || (size_t)n >= sizeof(run->path))
		return -ENAMETOOLONG;
	if (create) {
		/* /run exists on a host; passvm/ below it is ours (0700: the
		 * sockets steer VMs). */
		if (mkdir(run->path, 0700) < 0 && errno != EEXIST)
			return -errno;
	}
	int r = host_root_open(&run->dir, run->path);
	if (r == -ENOENT && !create) {
		run->dir.dirfd = -1; /* no VM ever started: all stopped */
		return 0;
	}
	/* Absolute: the paths handed to the VMM (socket, log) must not
	 * depend on the directory passvm was started from. */
	char abs[PATH_MAX];
	if (r == 0 && realpath(run->path, abs) && strlen(abs) < sizeof(run->path))
		strcpy(run->path, abs);
	return r;
}

void vms_run_close(struct vms_run *run)
{
	if (run->dir.dirfd >= 0)
		host_root_close(&run->dir);
	run->dir.dirfd = -1;
}

int vms_run_file(const struct vms_run *run, uint32_t id, const char *name, char *out,
		 size_t size)
{
	int n = snprintf(out, size, "%s/%u/%s", run->path, id, name);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Is proc/PID/cmdline `passvm run ... --control .../ID/control ...`? */
static bool cmdline_is_vm(const struct host_root *root, uint64_t pid, uint32_t id)
{
	char path[64], buf[8192], want[32];
	snprintf(path, sizeof(path), "proc/%llu/cmdline", (unsigned long long)pid);
	int fd = host_root_openat(root, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	snprintf(want, sizeof(want), "/%u/control", id);
	bool is_run = false;
	const char *prev = NULL;
	for (const char *arg = buf; arg < buf + n; arg += strlen(arg) + 1) {
		if (prev == buf && strcmp(arg, "run") == 0)
			is_run = true;
		if (is_run && prev && strcmp(prev, "--control") == 0) {
			size_t al = strlen(arg), wl = strlen(want);
			if (al >= wl && strcmp(arg + al - wl, want) == 0)
				return true;
		}
		prev = arg;
	}
	return false;
}

enum vms_status vms_status_get(const struct host_root *root, const struct vms_run *run,
			       uint32_t id, pid_t *pid, bool *stale)
{
	char path[64], buf[512];
	uint64_t v;
	*pid = 0;
	*stale = false;
	if (run->dir.dirfd < 0)
		return VMS_STOPPED;
	snprintf(path, sizeof(path), "%u/pid", id);
	if (host_root_read(&run->dir, path, buf, sizeof(buf)) < 0)
		return VMS_STOPPED;
	*stale = true;
	if (parse_u64(buf, &v) < 0 || v < 1 || v > 4194304) /* PID_MAX_LIMIT */
		return VMS_STOPPED;
	snprintf(path, sizeof(path), "proc/%llu/stat", (unsigned long long)v);
	if (host_root_read(root, path, buf, sizeof(buf)) <= 0)
		return VMS_STOPPED;
	/* "pid (comm) S ...": comm may hold ')' itself, so take the last. */
	const char *paren = strrchr(buf, ')');
	if (!paren || paren[1] != ' ' || paren[2] == 'Z' || paren[2] == 'X' || !paren[2])
		return VMS_STOPPED;
	if (!cmdline_is_vm(root, v, id))
		return VMS_STOPPED; /* the pid now belongs to another program */
	*stale = false;
	*pid = (pid_t)v;
	return VMS_RUNNING;
}

static int run_unlink(const struct vms_run *run, uint32_t id, const char *const *files,
		      size_t n, bool rmdir_too)
{
	if (run->dir.dirfd < 0)
		return 0;
	char dir[16];
	snprintf(dir, sizeof(dir), "%u", id);
	int dfd = host_root_openat(&run->dir, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd == -ENOENT)
		return 0;
	if (dfd < 0)
		return dfd;
	int r = 0;
	for (size_t i = 0; i < n; i++)
		if (unlinkat(dfd, files[i], 0) < 0 && errno != ENOENT && r == 0)
			r = -errno;
	close(dfd);
	if (r == 0 && rmdir_too) {
		int pfd = host_root_openat(&run->dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (pfd < 0)
			return pfd;
		if (unlinkat(pfd, dir, AT_REMOVEDIR) < 0 && errno != ENOENT)
			r = -errno;
		close(pfd);
	}
	return r;
}

int vms_run_clean(const struct vms_run *run, uint32_t id)
{
	static const char *const files[] = { "control", "pid" };
	return run_unlink(run, id, files, ARRAY_SIZE(files), false);
}

int vms_run_purge(const struct vms_run *run, uint32_t id)
{
	static const char *const files[] = { "control", "pid", "console.log", "passvm.log" };
	return run_unlink(run, id, files, ARRAY_SIZE(files), true);
}

const char *vms_status_name(enum vms_status status)
{
	static const char *const names[] = {
		[VMS_STOPPED] = "stopped", [VMS_RUNNING] = "running", [VMS_PAUSED] = "paused",
	};
	return (size_t)status < ARRAY_SIZE(names) ? names[status] : "unknown";
}
