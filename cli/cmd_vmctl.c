// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * passvm start | status | shutdown | stop | reboot | pause | resume |
 * terminal: running managed VMs (issue 10; docs/cli.md, docs/control.md).
 *
 * start builds `passvm run` arguments from ID.conf and runs it in the
 * background: double fork and setsid, so the VMM is nobody's child and
 * has no terminal; stdio to ID/passvm.log; the pid file ID/pid written and
 * flock(2)ed by the VMM process itself just before exec, so the lock lives
 * exactly as long as the VMM. (Where systemd is PID 1 a transient unit
 * would be the better home; the lab and the tests have no systemd, and
 * the daemon path is the one they exercise.) The other commands talk to
 * the VM's control socket, ID/control.
 */
#include "cli.h"
#include "common.h"
#include "vmctl.h"
#include "vms_cli.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

int cmd_start(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_shutdown(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_reboot(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_terminal(int argc, char **argv);

#define OPTS "[--config-dir DIR] [--root DIR] [--run-dir DIR]"
/* The VMM binds passed-through devices (DMA-maps all guest RAM for each:
 * seconds per GiB under the lab's TCG, more on a loaded machine), loads
 * kernel and initrd, then runs the guest. */
#define START_WAIT_MS 120000
#define STOP_WAIT_MS 15000
#define DETACH_KEY 0x0f       /* Ctrl+O, as qm terminal */

/* Which stored keys `passvm run` can express. A config that uses one it
 * cannot is refused by start with one line rather than started without the
 * device (all three map now; the table stays for the next device kind). */
static const struct {
	const char *kind;       /* "disk", "net", "hostpci" */
	const char *run_option; /* NULL: passvm run has none yet */
} device_options[] = {
	{ "disk", "--disk" },
	{ "net", "--net" },
	{ "hostpci", "--device" },
};

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* What every command here opens: store, host root, run directory, and
 * the VM's config. */
struct vmctx {
	struct vms_args a;
	struct vms_store store;
	struct host_root root;
	struct vms_run run;
	struct vms_config conf;
	int lock;
	bool store_open, root_open, run_open;
};

static void ctx_close(struct vmctx *c)
{
	if (c->lock >= 0)
		vms_store_unlock(c->lock);
	if (c->run_open)
		vms_run_close(&c->run);
	if (c->root_open)
		host_root_close(&c->root);
	if (c->store_open)
		vms_store_close(&c->store);
}

/* 0, or the exit status to return (reported). */
static int ctx_open(struct vmctx *c, const char *cmd, int argc, char **argv, bool lock,
		    bool create_run)
{
	memset(c, 0, sizeof(*c));
	c->lock = -1;
	int r = vms_parse_args(argc, argv, true, false, false, false, false, &c->a);
	if (r)
		return r;
	r = vms_cli_open_store(cmd, &c->a, false, &c->store);
	if (r)
		return r;
	c->store_open = true;
	r = vms_cli_vm_must_exist(cmd, &c->store, c->a.id);
	if (r == 0 && lock)
		r = vms_cli_lock_vm(cmd, &c->store, c->a.id, &c->lock);
	if (r == 0)
		r = vms_cli_load_vm(cmd, &c->store, c->a.id, &c->conf);
	if (r == 0)
		r = vms_cli_open_root(cmd, &c->a, &c->root);
	c->root_open = r == 0;
	if (r == 0)
		r = vms_cli_open_run(cmd, &c->a, &c->root, create_run, &c->run);
	c->run_open = r == 0;
	return r;
}

/* Strips --timeout S from argv (shutdown's own option). */
static int take_timeout(int *argc, char **argv, long *timeout_s)
{
	for (int i = 1; i < *argc; i++) {
		const char *v = NULL;
		int used = 0;
		if (strcmp(argv[i], "--timeout") == 0 && i + 1 < *argc) {
			v = argv[i + 1];
			used = 2;
		} else if (strncmp(argv[i], "--timeout=", 10) == 0) {
			v = argv[i] + 10;
			used = 1;
		} else if (strcmp(argv[i], "--timeout") == 0) {
			return vms_cli_usage(argv[0], "option '--timeout' needs a value");
		}
		if (!v)
			continue;
		uint64_t t;
		if (parse_u64(v, &t) < 0 || t > 86400)
			return vms_cli_usage(argv[0], "--timeout '%s' must be seconds, 0..86400", v);
		*timeout_s = (long)t;
		memmove(&argv[i], &argv[i + used], (size_t)(*argc - i - used + 1) * sizeof(char *));
		*argc -= used;
		i--;
	}
	return 0;
}

static int socket_path(const struct vmctx *c, char *out, size_t size)
{
	int r = vms_run_file(&c->run, c->a.id, "control", out, size);
	if (r < 0)
		log_error("%s/%u/control: path too long for a unix socket", c->run.path, c->a.id);
	return r;
}

/* The VM must be running (or paused); reports "not running" otherwise. */
static int must_run(const char *cmd, struct vmctx *c, pid_t *pid)
{
	unsigned restored;
	enum vms_status st = vmctl_vm_state(&c->root, &c->run, &c->conf, pid, &restored);
	if (st == VMS_STOPPED) {
		log_error("%s %u: VM %u is not running (passvm start %u)", cmd, c->a.id, c->a.id,
			  c->a.id);
		return 1;
	}
	return 0;
}

/* One request on the VM's socket; reports a refusal or a dead socket. */
static int request(const char *cmd, struct vmctx *c, const char *what,
		   struct vmm_json_field *f, size_t max, size_t *n)
{
	char sock[PATH_MAX], err[256];
	if (socket_path(c, sock, sizeof(sock)) < 0)
		return 1;
	int r = vmctl_request(sock, what, 10000, f, max, n, err, sizeof(err));
	if (r == -EREMOTEIO) {
		log_error("%s %u: %s", cmd, c->a.id, err);
		return 1;
	}
	if (r < 0) {
		log_error_errno(r, "%s %u: no answer on the control socket %s (passvm stop %u "
				"ends the VM)", cmd, c->a.id, sock, c->a.id);
		return 1;
	}
	return 0;
}

/* Waits until the VMM process pid is gone (or is no longer this VM's). */
static bool wait_gone(struct vmctx *c, long long timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	do {
		pid_t pid;
		bool stale;
		if (vms_status_get(&c->root, &c->run, c->a.id, &pid, &stale) == VMS_STOPPED) {
			vms_run_clean(&c->run, c->a.id);
			return true;
		}
		sleep_ms(100);
	} while (now_ms() < deadline);
	return false;
}

/* ---- start --------------------------------------------------------------- */
static int refuse_unsupported(const struct vms_config *conf)
{
	for (size_t k = 0; k < ARRAY_SIZE(device_options); k++) {
		if (device_options[k].run_option)
			continue;
		for (unsigned i = 0; i < VMS_MAX_DEV; i++) {
			const char *kind = device_options[k].kind;
			bool set = strcmp(kind, "disk") == 0 ? conf->disk[i].set :
				   strcmp(kind, "net") == 0 ? conf->net[i].set : conf->hostpci[i].set;
			if (set) {
				log_error("start %u: %s%u is set, but this passvm run cannot attach "
					  "a %s yet; remove it (passvm set %u --delete %s%u) or "
					  "update passvm", conf->id, kind, i, kind, conf->id, kind, i);
				return 1;
			}
		}
	}
	return 0;
}

/* Another running VM with one of conf's hostpciN devices: refused. */
static int refuse_taken_devices(struct vmctx *c)
{
	uint32_t *ids;
	size_t count, bad;
	static struct vms_config other;
	if (vms_store_list(&c->store, &ids, &count, &bad) < 0)
		return 0;
	int r = 0;
	for (size_t i = 0; i < count && r == 0; i++) {
		char err[512];
		pid_t pid;
		unsigned restored;
		if (ids[i] == c->a.id || vms_store_load(&c->store, ids[i], &other, err, sizeof(err)) < 0)
			continue;
		bool shares = false;
		char bdf[PCI_ADDR_STRLEN] = "";
		for (unsigned a = 0; a < VMS_MAX_DEV && !shares; a++)
			for (unsigned b = 0; b < VMS_MAX_DEV && !shares; b++)
				if (c->conf.hostpci[a].set && other.hostpci[b].set &&
				    pci_addr_equal(&c->conf.hostpci[a].addr, &other.hostpci[b].addr)) {
					shares = true;
					pci_addr_format(&c->conf.hostpci[a].addr, bdf);
				}
		if (shares && vmctl_vm_state(&c->root, &c->run, &other, &pid, &restored) != VMS_STOPPED) {
			log_error("start %u: device %s is in use by VM %u (pid %d), which is running; "
				  "stop VM %u first", c->a.id, bdf, other.id, (int)pid, other.id);
			r = 1;
		}
	}
	free(ids);
	return r;
}

struct argv_buf {
	char *v[24 + 4 * VMS_MAX_DEV];
	int n;
	char text[2][24];
	char device[VMS_MAX_DEV][64];
	char net[VMS_MAX_DEV][96];
};

/* Each option's value is one argument: a path with a comma would be read
 * as options by passvm run's --disk grammar. */
static bool disk_path_ok(const char *path)
{
	return !strchr(path, ',');
}

static int build_argv(struct vmctx *c, const char *self, const char *sock, const char *log,
		      struct argv_buf *b)
{
	const struct vms_config *conf = &c->conf;
	b->n = 0;
	b->v[b->n++] = (char *)self;
	b->v[b->n++] = "run";
	b->v[b->n++] = "--kernel";
	b->v[b->n++] = (char *)conf->kernel;
	if (conf->initrd[0]) {
		b->v[b->n++] = "--initrd";
		b->v[b->n++] = (char *)conf->initrd;
	}
	if (conf->cmdline[0]) {
		b->v[b->n++] = "--cmdline";
		b->v[b->n++] = (char *)conf->cmdline;
	}
	snprintf(b->text[0], sizeof(b->text[0]), "%u", conf->cores);
	b->v[b->n++] = "--cpus";
	b->v[b->n++] = b->text[0];
	snprintf(b->text[1], sizeof(b->text[1]), "%lluM", (unsigned long long)conf->memory_mib);
	b->v[b->n++] = "--memory";
	b->v[b->n++] = b->text[1];
	/* hostpciN BDF,fallback=F -> --device vfio=BDF,fallback=F: passvm run
	 * binds the device's group to vfio-pci (journaled) and gives it back at
	 * exit; after a crash the journal does (vmctl_vm_state). */
	for (unsigned i = 0; i < VMS_MAX_DEV; i++) {
		if (!conf->hostpci[i].set)
			continue;
		char bdf[PCI_ADDR_STRLEN];
		pci_addr_format(&conf->hostpci[i].addr, bdf);
		snprintf(b->device[i], sizeof(b->device[i]), "vfio=%s,fallback=%s", bdf,
			 conf->hostpci[i].fallback == VMS_FALLBACK_AUTO ? "auto" : "none");
		b->v[b->n++] = "--device";
		b->v[b->n++] = b->device[i];
	}
	/* diskN PATH[,size=G] -> --disk PATH (the size was used when the image
	 * was created; the boot order does not matter to a direct kernel boot). */
	for (unsigned i = 0; i < VMS_MAX_DEV; i++) {
		if (!conf->disk[i].set)
			continue;
		if (!disk_path_ok(conf->disk[i].path)) {
			log_error("start %u: disk%u path %s has a comma, which passvm run --disk "
				  "cannot take; rename the image", conf->id, i, conf->disk[i].path);
			return -EINVAL;
		}
		b->v[b->n++] = "--disk";
		b->v[b->n++] = (char *)conf->disk[i].path;
	}
	/* netN is stored in passvm run's own --net grammar
	 * (virtio,bridge=BR[,tag=N][,mac=MAC]): its canonical text as is. */
	for (unsigned i = 0; i < VMS_MAX_DEV; i++) {
		char key[8];
		snprintf(key, sizeof(key), "net%u", i);
		if (!conf->net[i].set)
			continue;
		if (vms_config_value(conf, key, b->net[i], sizeof(b->net[i])) <= 0) {
			log_error("start %u: %s does not fit passvm run's --net", conf->id, key);
			return -EINVAL;
		}
		b->v[b->n++] = "--net";
		b->v[b->n++] = b->net[i];
	}
	b->v[b->n++] = "--control";
	b->v[b->n++] = (char *)sock;
	b->v[b->n++] = "--console-log";
	b->v[b->n++] = (char *)log;
	b->v[b->n] = NULL;
	return 0;
}

/* The grandchild: pid file, stdio, exec. Never returns. */
static void become_vmm(int run_dirfd, const char *pidname, const char *logname,
		       char *const argv[], int status_fd)
{
	int err = 0;
	int pfd = openat(run_dirfd, pidname, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600);
	if (pfd < 0 || flock(pfd, LOCK_EX | LOCK_NB) < 0)
		err = errno;
	char line[24];
	int len = snprintf(line, sizeof(line), "%d\n", (int)getpid());
	if (!err && write(pfd, line, (size_t)len) != len)
		err = EIO;
	int lfd = openat(run_dirfd, logname, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW, 0600);
	int nul = open("/dev/null", O_RDONLY);
	if (!err && (lfd < 0 || nul < 0))
		err = errno;
	if (!err && (dup2(nul, 0) < 0 || dup2(lfd, 1) < 0 || dup2(lfd, 2) < 0))
		err = errno;
	if (nul > 2)
		close(nul);
	if (lfd > 2)
		close(lfd);
	/* Nothing the caller had open leaks into the VMM but the pid file
	 * (whose flock must live as long as it). */
	if (!err && pfd > 3)
		close_range(3, (unsigned)pfd - 1, CLOSE_RANGE_CLOEXEC);
	if (!err)
		close_range((unsigned)pfd + 1, ~0U, CLOSE_RANGE_CLOEXEC);
	/* A daemon keeps no directory busy and creates private files. */
	if (!err && chdir("/") < 0)
		err = errno;
	umask(077);
	if (!err) {
		/* pfd stays open without FD_CLOEXEC: the flock is held by the
		 * VMM until it exits. */
		execv(argv[0], argv);
		err = errno;
	}
	if (write(status_fd, &err, sizeof(err)) < 0) {
		/* the parent sees EOF without a status: also a failure */
	}
	_exit(127);
}

/* The last line of ID/passvm.log: why a VMM that died at once died. */
static void last_log_line(struct vmctx *c, char *out, size_t size)
{
	char path[PATH_MAX], buf[4096];
	out[0] = '\0';
	if (vms_run_file(&c->run, c->a.id, "passvm.log", path, sizeof(path)) < 0)
		return;
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(buf, sizeof(buf), f))
		if (buf[0] != '\n') {
			size_t len = strnlen(buf, size - 1);
			memcpy(out, buf, len);
			out[len] = '\0';
		}
	fclose(f);
	out[strcspn(out, "\n")] = '\0';
}

static int spawn(struct vmctx *c, char *const argv[], pid_t *vmm_pid)
{
	char dir[16];
	snprintf(dir, sizeof(dir), "%u", c->a.id);
	if (mkdirat(c->run.dir.dirfd, dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	int dfd = host_root_openat(&c->run.dir, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return dfd;
	int sp[2];
	if (pipe2(sp, O_CLOEXEC) < 0) {
		int r = -errno;
		close(dfd);
		return r;
	}
	fflush(NULL);
	pid_t child = fork();
	if (child < 0) {
		int r = -errno;
		close(dfd);
		close(sp[0]);
		close(sp[1]);
		return r;
	}
	if (child == 0) {
		close(sp[0]);
		/* A new session: no controlling terminal, no SIGHUP when the
		 * shell that ran `passvm start` goes; the second fork makes the
		 * VMM a non-leader that can never acquire a terminal again. */
		setsid();
		signal(SIGHUP, SIG_IGN);
		pid_t g = fork();
		if (g == 0)
			become_vmm(dfd, "pid", "passvm.log", argv, sp[1]);
		_exit(g < 0 ? 127 : 0);
	}
	close(sp[1]);
	close(dfd);
	int st;
	waitpid(child, &st, 0);
	int err = 0;
	ssize_t n = read(sp[0], &err, sizeof(err)); /* EOF at exec: success */
	close(sp[0]);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -ECHILD;
	if (n == sizeof(err) && err)
		return -err;
	bool stale;
	vms_status_get(&c->root, &c->run, c->a.id, vmm_pid, &stale);
	return 0;
}

int cmd_start(int argc, char **argv)
{
	struct vmctx c;
	if (vms_cli_wants_help(argc, argv, "usage: passvm start ID " OPTS "\n"
			       "Runs the VM in the background (passvm run --control); the pid file,\n"
			       "control socket and logs are in RUN_DIR/ID (default /run/passvm/ID).\n"))
		return 0;
	int r = ctx_open(&c, "start", argc, argv, true, true);
	pid_t pid;
	unsigned restored;
	if (r == 0 && vmctl_vm_state(&c.root, &c.run, &c.conf, &pid, &restored) != VMS_STOPPED) {
		log_error("start %u: VM %u is running already (pid %d)", c.a.id, c.a.id, (int)pid);
		r = 1;
	}
	if (r == 0 && !c.conf.kernel[0]) {
		log_error("start %u: no kernel to boot; passvm boots a kernel directly: "
			  "passvm set %u --kernel PATH [--initrd PATH]", c.a.id, c.a.id);
		r = 1;
	}
	if (r == 0)
		r = refuse_taken_devices(&c);
	if (r == 0)
		r = refuse_unsupported(&c.conf);
	char self[PATH_MAX], sock[PATH_MAX], log[PATH_MAX];
	struct argv_buf args;
	if (r == 0) {
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n <= 0) {
			log_error_errno(-errno, "start %u: cannot find the passvm executable", c.a.id);
			r = 1;
		} else {
			self[n] = '\0';
		}
	}
	if (r == 0 && (socket_path(&c, sock, sizeof(sock)) < 0 ||
		       vms_run_file(&c.run, c.a.id, "console.log", log, sizeof(log)) < 0))
		r = 1;
	if (r == 0) {
		int e = build_argv(&c, self, sock, log, &args);
		if (e == 0)
			e = spawn(&c, args.v, &pid);
		if (e == -EINVAL) {
			r = 1; /* reported */
		} else if (e < 0) {
			log_error_errno(e, "start %u: cannot start passvm run in the background", c.a.id);
			r = 1;
		}
	}
	/* Started means: the VMM answers on its socket. One that dies first
	 * says why in its log. */
	if (r == 0) {
		long long deadline = now_ms() + START_WAIT_MS;
		struct vmm_json_field f[VMM_CONTROL_FIELDS_MAX];
		size_t n;
		char err[256];
		bool up = false;
		while (!up && now_ms() < deadline) {
			bool stale;
			if (vms_status_get(&c.root, &c.run, c.a.id, &pid, &stale) == VMS_STOPPED)
				break;
			/* Up: the socket answers and the guest runs (the VMM
			 * listens before it has built the VM, which may fail). */
			const struct vmm_json_field *st;
			up = vmctl_request(sock, "status", 1000, f, ARRAY_SIZE(f), &n, err,
					   sizeof(err)) == 0 &&
			     (st = vmm_json_find(f, n, "status")) && strcmp(st->value, "starting") != 0;
			if (!up)
				sleep_ms(100);
		}
		if (!up) {
			char why[512];
			bool stale;
			/* Still starting after the wait: end it rather than leave
			 * a VM that start called failed running behind the user's
			 * back (SIGTERM: passvm run gives its devices back). */
			if (vms_status_get(&c.root, &c.run, c.a.id, &pid, &stale) == VMS_RUNNING) {
				kill(pid, SIGTERM);
				if (!wait_gone(&c, STOP_WAIT_MS)) {
					kill(pid, SIGKILL);
					wait_gone(&c, 5000);
				}
			}
			last_log_line(&c, why, sizeof(why));
			log_error("start %u: the VM did not come up: %s (log: %s/%u/passvm.log)", c.a.id,
				  why[0] ? why : "it was still starting after 120 s; stopped it",
				  c.run.path, c.a.id);
			vms_run_clean(&c.run, c.a.id);
			r = 1;
		}
	}
	ctx_close(&c);
	return r;
}

/* ---- status, pause, resume, reboot ---------------------------------------- */
int cmd_status(int argc, char **argv)
{
	struct vmctx c;
	if (vms_cli_wants_help(argc, argv, "usage: passvm status ID " OPTS "\n"))
		return 0;
	int r = ctx_open(&c, "status", argc, argv, false, false);
	if (r) {
		ctx_close(&c);
		return r;
	}
	pid_t pid;
	unsigned restored;
	enum vms_status st = vmctl_vm_state(&c.root, &c.run, &c.conf, &pid, &restored);
	printf("status: %s\n", vms_status_name(st));
	fflush(stdout); /* before any error line on stderr */
	if (st != VMS_STOPPED) {
		struct vmm_json_field f[VMM_CONTROL_FIELDS_MAX];
		size_t n;
		if (request("status", &c, "status", f, ARRAY_SIZE(f), &n) == 0) {
			static const char *const keys[] = { "pid", "uptime_s", "vcpus", "memory_mib",
							    "reboots", "consoles" };
			for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
				const struct vmm_json_field *v = vmm_json_find(f, n, keys[i]);
				if (v)
					printf("%s: %s\n", keys[i], v->value);
			}
		} else {
			r = 1;
		}
	}
	ctx_close(&c);
	return r;
}

static int simple_request(const char *cmd, const char *what, int argc, char **argv)
{
	struct vmctx c;
	char help[128];
	snprintf(help, sizeof(help), "usage: passvm %s ID " OPTS "\n", cmd);
	if (vms_cli_wants_help(argc, argv, help))
		return 0;
	int r = ctx_open(&c, cmd, argc, argv, false, false);
	pid_t pid;
	if (r == 0)
		r = must_run(cmd, &c, &pid);
	struct vmm_json_field f[VMM_CONTROL_FIELDS_MAX];
	size_t n;
	if (r == 0)
		r = request(cmd, &c, what, f, ARRAY_SIZE(f), &n);
	ctx_close(&c);
	return r;
}

int cmd_pause(int argc, char **argv)
{
	return simple_request("pause", "pause", argc, argv);
}

int cmd_resume(int argc, char **argv)
{
	return simple_request("resume", "resume", argc, argv);
}

int cmd_reboot(int argc, char **argv)
{
	return simple_request("reboot", "reboot", argc, argv);
}

/* ---- stop, shutdown -------------------------------------------------------- */
/* stop: the socket's stop; a VMM that does not answer gets SIGTERM, then
 * SIGKILL (its pid was checked to be this VM's passvm run). */
static int stop_vm(const char *cmd, struct vmctx *c, pid_t pid)
{
	struct vmm_json_field f[VMM_CONTROL_FIELDS_MAX];
	size_t n;
	char sock[PATH_MAX], err[256];
	if (socket_path(c, sock, sizeof(sock)) < 0)
		return 1;
	int r = vmctl_request(sock, "stop", 5000, f, ARRAY_SIZE(f), &n, err, sizeof(err));
	if (r == 0 && wait_gone(c, STOP_WAIT_MS))
		return 0;
	log_warn("%s %u: the VMM did not stop on request (%s); sending SIGTERM to pid %d",
		 cmd, c->a.id, r < 0 ? (err[0] ? err : strerror(-r)) : "still running", (int)pid);
	kill(pid, SIGTERM);
	if (wait_gone(c, 5000))
		return 0;
	kill(pid, SIGKILL);
	if (wait_gone(c, 5000))
		return 0;
	log_error("%s %u: pid %d does not end even on SIGKILL", cmd, c->a.id, (int)pid);
	return 1;
}

int cmd_stop(int argc, char **argv)
{
	struct vmctx c;
	if (vms_cli_wants_help(argc, argv, "usage: passvm stop ID " OPTS "\n"
			       "Ends the VM at once (as pulling the plug).\n"))
		return 0;
	int r = ctx_open(&c, "stop", argc, argv, false, false);
	pid_t pid;
	if (r == 0)
		r = must_run("stop", &c, &pid);
	if (r == 0)
		r = stop_vm("stop", &c, pid);
	ctx_close(&c);
	return r;
}

int cmd_shutdown(int argc, char **argv)
{
	struct vmctx c;
	long timeout_s = 60;
	if (vms_cli_wants_help(argc, argv, "usage: passvm shutdown ID [--timeout S] " OPTS "\n"
			       "Presses the ACPI power button and waits S seconds (default 60)\n"
			       "for the guest to power off; then stops the VM.\n"))
		return 0;
	int r = take_timeout(&argc, argv, &timeout_s);
	if (r)
		return r;
	r = ctx_open(&c, "shutdown", argc, argv, false, false);
	pid_t pid;
	if (r == 0)
		r = must_run("shutdown", &c, &pid);
	unsigned restored;
	/* A paused guest cannot see the button (it is latched until resume):
	 * waiting the whole timeout for nothing helps nobody. */
	if (r == 0 && vmctl_vm_state(&c.root, &c.run, &c.conf, &pid, &restored) == VMS_PAUSED) {
		log_error("shutdown %u: VM %u is paused and cannot see the power button; "
			  "passvm resume %u first, or passvm stop %u", c.a.id, c.a.id, c.a.id, c.a.id);
		r = 1;
	}
	struct vmm_json_field f[VMM_CONTROL_FIELDS_MAX];
	size_t n;
	if (r == 0)
		r = request("shutdown", &c, "shutdown", f, ARRAY_SIZE(f), &n);
	if (r == 0 && !wait_gone(&c, timeout_s * 1000LL)) {
		log_warn("shutdown %u: the guest did not power off within %ld s; stopping it",
			 c.a.id, timeout_s);
		r = stop_vm("shutdown", &c, pid);
	}
	ctx_close(&c);
	return r;
}

/* ---- terminal ------------------------------------------------------------- */
static int pump(int from, int to)
{
	char buf[4096];
	ssize_t n = read(from, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0)
		return -1;
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(to, buf + off, (size_t)(n - off));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		off += w;
	}
	return 0;
}

int cmd_terminal(int argc, char **argv)
{
	struct vmctx c;
	if (vms_cli_wants_help(argc, argv, "usage: passvm terminal ID " OPTS "\n"
			       "Attaches to the VM's serial console: first what the guest printed\n"
			       "recently, then live. Keys go to the guest; Ctrl+O detaches.\n"))
		return 0;
	int r = ctx_open(&c, "terminal", argc, argv, false, false);
	pid_t pid;
	if (r == 0)
		r = must_run("terminal", &c, &pid);
	char sock[PATH_MAX], err[256];
	int fd = -1;
	if (r == 0 && socket_path(&c, sock, sizeof(sock)) < 0)
		r = 1;
	if (r == 0) {
		struct vmm_json_field f[VMM_CONTROL_FIELDS_MAX];
		size_t n;
		int e = vmctl_connect(sock, &fd);
		if (e == 0)
			e = vmctl_request_fd(fd, "console", 5000, f, ARRAY_SIZE(f), &n, err, sizeof(err));
		if (e < 0) {
			log_error("terminal %u: cannot attach to the console on %s: %s", c.a.id, sock,
				  e == -EREMOTEIO ? err : strerror(-e));
			r = 1;
		}
	}
	ctx_close(&c);
	if (r) {
		if (fd >= 0)
			close(fd);
		return r;
	}
	struct termios saved, raw;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	if (tty) {
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	fprintf(stderr, "passvm: attached to VM %u's console; Ctrl+O detaches\r\n", c.a.id);
	bool detached = false, in_open = true;
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = fd, .events = POLLIN },
			{ .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN },
		};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents && pump(fd, STDOUT_FILENO) < 0)
			break; /* the VM went away */
		if (p[1].revents) {
			char buf[256];
			ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n <= 0) {
				in_open = false; /* end of input: keep showing output */
				continue;
			}
			char *key = memchr(buf, DETACH_KEY, (size_t)n);
			size_t len = key ? (size_t)(key - buf) : (size_t)n;
			if (len && send(fd, buf, len, MSG_NOSIGNAL) < 0)
				break;
			if (key) {
				detached = true;
				break;
			}
		}
	}
	if (tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	close(fd);
	if (detached)
		fprintf(stderr, "\npassvm: detached from VM %u's console\n", c.a.id);
	else
		fprintf(stderr, "\npassvm: VM %u's console closed (the VM stopped)\n", c.a.id);
	return 0;
}
