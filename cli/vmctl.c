// SPDX-License-Identifier: GPL-2.0-or-later
/* The control socket's client side and the VM state shown by the CLI. */
#include "vmctl.h"
#include "common.h"
#include "vfio.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int vmctl_connect(const char *socket_path, int *fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(socket_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, socket_path);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;
		close(s);
		return r;
	}
	*fd = s;
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int vmctl_request_fd(int fd, const char *cmd, int timeout_ms, struct vmm_json_field *fields,
		     size_t max, size_t *n, char *err, size_t err_size)
{
	char line[VMM_CONTROL_LINE_MAX + 1];
	int len = snprintf(line, sizeof(line), "{\"cmd\": \"%s\"}\n", cmd);
	err[0] = '\0';
	if (send(fd, line, (size_t)len, MSG_NOSIGNAL) != len)
		return -errno ? -errno : -EIO;
	/* Read one byte at a time up to the newline: whatever follows (the
	 * console stream after "console") stays in the socket for the caller. */
	size_t got = 0;
	long long deadline = now_ms() + timeout_ms;
	for (;;) {
		long long left = deadline - now_ms();
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (left <= 0 || poll(&pfd, 1, (int)left) == 0)
			return -ETIMEDOUT;
		char c;
		ssize_t r = recv(fd, &c, 1, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -ECONNRESET;
		if (c == '\n')
			break;
		if (got == VMM_CONTROL_LINE_MAX)
			return -EPROTO;
		line[got++] = c;
	}
	if (vmm_json_object_parse(line, got, fields, max, n, err, err_size) < 0)
		return -EPROTO;
	const struct vmm_json_field *ok = vmm_json_find(fields, *n, "ok");
	if (!ok || ok->type != VMM_JSON_BOOL)
		return -EPROTO;
	if (strcmp(ok->value, "true") != 0) {
		const struct vmm_json_field *e = vmm_json_find(fields, *n, "error");
		snprintf(err, err_size, "%s", e ? e->value : "refused");
		return -EREMOTEIO;
	}
	return 0;
}

int vmctl_request(const char *socket_path, const char *cmd, int timeout_ms,
		  struct vmm_json_field *fields, size_t max, size_t *n, char *err, size_t err_size)
{
	int fd;
	int r = vmctl_connect(socket_path, &fd);
	if (r < 0) {
		snprintf(err, err_size, "%s", strerror(-r));
		return r;
	}
	r = vmctl_request_fd(fd, cmd, timeout_ms, fields, max, n, err, err_size);
	close(fd);
	return r;
}

/* Gives back the journaled hostpciN devices of a VM that died. */
static unsigned restore_devices(const struct host_root *root, const struct vms_config *conf)
{
	struct pci_addr addrs[VMS_MAX_DEV];
	size_t n = 0;
	struct vfio_host host;
	vfio_host_init(&host, root);
	for (unsigned i = 0; i < VMS_MAX_DEV; i++) {
		struct vfio_journal_entry e;
		if (conf->hostpci[i].set && vfio_journal_get(&host, &conf->hostpci[i].addr, &e) == 0)
			addrs[n++] = conf->hostpci[i].addr;
	}
	if (!n)
		return 0;
	struct vfio_restore_result *res = NULL;
	size_t nres = 0;
	int r = vfio_restore(&host, addrs, n, &res, &nres);
	unsigned back = 0;
	for (size_t i = 0; i < nres; i++) {
		if (res[i].err == 0 && !res[i].not_journaled) {
			log_info("VM %u had died: %s is back on %s", conf->id, res[i].bdf,
				 res[i].to[0] ? res[i].to : "no driver");
			back++;
		} else if (res[i].err) {
			log_warn("VM %u had died: cannot give %s back: %s (passvm vfio restore %s)",
				 conf->id, res[i].bdf, strerror(-res[i].err), res[i].bdf);
		}
	}
	if (r < 0 && nres == 0)
		log_warn("VM %u had died: cannot give its devices back: %s (passvm vfio restore)",
			 conf->id, strerror(-r));
	free(res);
	return back;
}

enum vms_status vmctl_vm_state(const struct host_root *root, const struct vms_run *run,
			       const struct vms_config *conf, pid_t *pid, unsigned *restored)
{
	bool stale;
	*restored = 0;
	enum vms_status st = vms_status_get(root, run, conf->id, pid, &stale);
	if (st == VMS_STOPPED && stale) {
		vms_run_clean(run, conf->id);
		*restored = restore_devices(root, conf);
		return VMS_STOPPED;
	}
	if (st != VMS_RUNNING)
		return st;
	char sock[PATH_MAX], err[256];
	struct vmm_json_field f[VMM_CONTROL_FIELDS_MAX];
	size_t n;
	if (vms_run_file(run, conf->id, "control", sock, sizeof(sock)) == 0 &&
	    vmctl_request(sock, "status", 1000, f, ARRAY_SIZE(f), &n, err, sizeof(err)) == 0) {
		const struct vmm_json_field *s = vmm_json_find(f, n, "status");
		if (s && strcmp(s->value, "paused") == 0)
			return VMS_PAUSED;
	}
	return VMS_RUNNING;
}
