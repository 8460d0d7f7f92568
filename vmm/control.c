// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The control socket of a managed VM (docs/control.md) and the VM's main
 * loop under it.
 *
 * Threads: the control thread owns the socket, its clients and the console
 * (the UART writes into a pipe; this thread copies it to the log file, the
 * ring and attached consoles, and copies console input into the UART's
 * input pipe). The main thread owns the VM: it runs vmm_control_run, which
 * waits for the guest to stop and, every 100 ms or when woken, carries out
 * the one pending request (pause, resume, power button, stop, reboot).
 * The control thread hands a request over and waits for its result; it
 * never touches a vCPU, a device or the VM struct, which a reboot frees and
 * rebuilds.
 */
#include "control.h"
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 16
#define PUMP_BYTES 4096
#define MAX_TRIPLE_FAULT_RESETS 3 /* in a row; the next one stops the VM */
#define REQUEST_WAIT_S 30   /* a rebuild (reboot) reloads kernel and initrd */
#define CLIENT_SEND_WAIT_MS 500

struct client {
	int fd;                 /* -1: free slot */
	bool console;
	size_t len;
	char buf[VMM_CONTROL_LINE_MAX + 1];
};

struct vmm_control {
	char socket_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int listen_fd, wake_fd, log_fd;
	int out_pipe[2], in_pipe[2];  /* [0] read end, [1] write end */
	pthread_t thread;
	bool thread_started;
	struct vmm_console_ring ring;
	struct client clients[MAX_CLIENTS];
	/* shared with the main loop, under lock */
	pthread_mutex_t lock;
	pthread_cond_t done_cond;
	bool pending, done, main_gone;
	enum vmm_control_cmd request;
	int result;
	char result_why[160];
	enum vmm_control_state state;
	unsigned cpus, reboots;
	uint64_t memory_bytes;
	struct timespec started;
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ? -errno : 0;
}

/* ---- sending ----------------------------------------------------------- */
/* Writes all of data to a client, waiting a little for a slow one; false
 * when it is gone or stuck (the caller drops it). */
static bool client_send(struct client *cl, const void *data, size_t len)
{
	const uint8_t *p = data;
	while (len) {
		ssize_t n = send(cl->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pfd = { .fd = cl->fd, .events = POLLOUT };
			if (poll(&pfd, 1, CLIENT_SEND_WAIT_MS) > 0)
				continue;
		}
		return false;
	}
	return true;
}

static void client_drop(struct client *cl)
{
	close_fd(&cl->fd);
	cl->console = false;
	cl->len = 0;
}

static void reply_error(struct client *cl, const char *why)
{
	char line[VMM_CONTROL_LINE_MAX];
	int n = vmm_control_format_error(why, line, sizeof(line));
	if (n > 0 && !client_send(cl, line, (size_t)n))
		client_drop(cl);
}

/* ---- requests ---------------------------------------------------------- */
static void format_status(struct vmm_control *ctl, char *line, size_t size)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	unsigned consoles = 0;
	for (size_t i = 0; i < MAX_CLIENTS; i++)
		consoles += ctl->clients[i].fd >= 0 && ctl->clients[i].console;
	pthread_mutex_lock(&ctl->lock);
	snprintf(line, size,
		 "{\"ok\": true, \"status\": \"%s\", \"pid\": %d, \"uptime_s\": %lld, "
		 "\"vcpus\": %u, \"memory_mib\": %llu, \"reboots\": %u, \"consoles\": %u}\n",
		 ctl->state == VMM_CTL_PAUSED ? "paused" :
		 ctl->state == VMM_CTL_STARTING ? "starting" : "running", (int)getpid(),
		 (long long)(now.tv_sec - ctl->started.tv_sec), ctl->cpus,
		 (unsigned long long)(ctl->memory_bytes >> 20), ctl->reboots, consoles);
	pthread_mutex_unlock(&ctl->lock);
}

/* Hands a request to the main loop and waits for its result. */
static int run_on_main(struct vmm_control *ctl, enum vmm_control_cmd cmd, char *why,
		       size_t why_size)
{
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += REQUEST_WAIT_S;
	pthread_mutex_lock(&ctl->lock);
	if (ctl->main_gone || ctl->pending) {
		pthread_mutex_unlock(&ctl->lock);
		snprintf(why, why_size, ctl->main_gone ? "the VM is stopping" :
			 "another request is in progress");
		return -EBUSY;
	}
	ctl->request = cmd;
	ctl->pending = true;
	ctl->done = false;
	int r = 0;
	while (!ctl->done && r == 0)
		r = pthread_cond_timedwait(&ctl->done_cond, &ctl->lock, &deadline);
	if (!ctl->done) {
		/* Still pending: withdraw it, unless the main loop took it. */
		ctl->pending = false;
		pthread_mutex_unlock(&ctl->lock);
		snprintf(why, why_size, "the VMM did not carry out the request in %d s",
			 REQUEST_WAIT_S);
		return -ETIMEDOUT;
	}
	r = ctl->result;
	snprintf(why, why_size, "%s", ctl->result_why);
	pthread_mutex_unlock(&ctl->lock);
	return r;
}

static void attach_console(struct vmm_control *ctl, struct client *cl)
{
	static uint8_t past[VMM_CONSOLE_RING_BYTES];
	static const char ok[] = "{\"ok\": true, \"console\": \"attached\"}\n";
	if (!client_send(cl, ok, sizeof(ok) - 1)) {
		client_drop(cl);
		return;
	}
	size_t n = vmm_console_ring_read(&ctl->ring, past, sizeof(past));
	if (n && !client_send(cl, past, n)) {
		client_drop(cl);
		return;
	}
	cl->console = true;
}

static void handle_line(struct vmm_control *ctl, struct client *cl, const char *line, size_t len)
{
	enum vmm_control_cmd cmd;
	char why[256];
	if (vmm_control_parse_request(line, len, &cmd, why, sizeof(why)) < 0) {
		reply_error(cl, why);
		return;
	}
	char out[VMM_CONTROL_LINE_MAX];
	switch (cmd) {
	case VMM_CTL_STATUS:
		format_status(ctl, out, sizeof(out));
		break;
	case VMM_CTL_CONSOLE:
		attach_console(ctl, cl);
		return;
	default:
		if (run_on_main(ctl, cmd, why, sizeof(why)) < 0) {
			reply_error(cl, why);
			return;
		}
		snprintf(out, sizeof(out), "{\"ok\": true}\n");
		break;
	}
	if (!client_send(cl, out, strlen(out)))
		client_drop(cl);
}

/* ---- the control thread ----------------------------------------------- */
static void console_input(struct vmm_control *ctl, const char *data, size_t len)
{
	/* The UART drains this pipe; when the guest does not read, input is
	 * lost rather than stalling the control thread. */
	while (len) {
		ssize_t n = write(ctl->in_pipe[1], data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		data += n;
		len -= (size_t)n;
	}
}

static void client_readable(struct vmm_control *ctl, struct client *cl)
{
	char tmp[VMM_CONTROL_LINE_MAX];
	ssize_t n = recv(cl->fd, tmp, sizeof(tmp), MSG_DONTWAIT);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		client_drop(cl);
		return;
	}
	if (cl->console) {
		console_input(ctl, tmp, (size_t)n);
		return;
	}
	for (ssize_t i = 0; i < n && cl->fd >= 0; i++) {
		if (cl->console) {
			/* Bytes after {"cmd":"console"} are console input. */
			console_input(ctl, tmp + i, (size_t)(n - i));
			return;
		}
		if (tmp[i] != '\n') {
			if (cl->len == VMM_CONTROL_LINE_MAX) {
				reply_error(cl, "line too long");
				client_drop(cl);
				return;
			}
			cl->buf[cl->len++] = tmp[i];
			continue;
		}
		size_t len = cl->len;
		cl->len = 0;
		handle_line(ctl, cl, cl->buf, len);
	}
}

static void accept_client(struct vmm_control *ctl)
{
	int fd = accept4(ctl->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	for (size_t i = 0; i < MAX_CLIENTS; i++)
		if (ctl->clients[i].fd < 0) {
			ctl->clients[i] = (struct client){ .fd = fd };
			return;
		}
	struct client busy = { .fd = fd };
	reply_error(&busy, "too many clients");
	close(fd);
}

static void pump_console(struct vmm_control *ctl)
{
	uint8_t buf[PUMP_BYTES];
	ssize_t n = read(ctl->out_pipe[0], buf, sizeof(buf));
	if (n <= 0)
		return;
	if (ctl->log_fd >= 0 && write(ctl->log_fd, buf, (size_t)n) < 0) {
		/* A full disk loses log lines, never the VM. */
	}
	vmm_console_ring_write(&ctl->ring, buf, (size_t)n);
	for (size_t i = 0; i < MAX_CLIENTS; i++) {
		struct client *cl = &ctl->clients[i];
		if (cl->fd >= 0 && cl->console && !client_send(cl, buf, (size_t)n))
			client_drop(cl);
	}
}

static void *control_main(void *arg)
{
	struct vmm_control *ctl = arg;
	/* Confined first thing: the socket, the console pipes and the log are
	 * open (vmm_control_open), and nothing this thread does later opens
	 * anything; its list is in vmm/sandbox.c. A reboot rebuilds the VM on
	 * the main thread and leaves this thread, and its filter, as they are.
	 * A thread that cannot confine itself serves nothing: the main loop
	 * sees vmm_sandbox_error() and stops the VM. */
	pthread_setname_np(pthread_self(), "control");
	if (vmm_sandbox_enter(VMM_THREAD_CONTROL) < 0)
		return NULL;
	for (;;) {
		struct pollfd fds[3 + MAX_CLIENTS];
		size_t idx[MAX_CLIENTS], nfds = 3;
		fds[0] = (struct pollfd){ .fd = ctl->wake_fd, .events = POLLIN };
		fds[1] = (struct pollfd){ .fd = ctl->listen_fd, .events = POLLIN };
		fds[2] = (struct pollfd){ .fd = ctl->out_pipe[0], .events = POLLIN };
		for (size_t i = 0; i < MAX_CLIENTS; i++)
			if (ctl->clients[i].fd >= 0) {
				idx[nfds - 3] = i;
				fds[nfds++] = (struct pollfd){ .fd = ctl->clients[i].fd, .events = POLLIN };
			}
		if (poll(fds, nfds, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (fds[2].revents & POLLIN)
			pump_console(ctl);
		if (fds[0].revents) {
			/* Closing: what the guest printed last still goes out. */
			pump_console(ctl);
			break;
		}
		if (fds[1].revents & POLLIN)
			accept_client(ctl);
		for (size_t k = 3; k < nfds; k++)
			if (fds[k].revents && ctl->clients[idx[k - 3]].fd == fds[k].fd)
				client_readable(ctl, &ctl->clients[idx[k - 3]]);
	}
	return NULL;
}

/* ---- setup ------------------------------------------------------------- */
static int listen_on(struct vmm_control *ctl, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A socket file left by a VMM that died is stale; a live one is not
	 * ours to take. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(fd);
		return -EADDRINUSE;
	}
	unlink(path);
	mode_t old = umask(077); /* root's socket: only root may steer the VM */
	int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	umask(old);
	if (r == 0 && listen(fd, 8) < 0)
		r = -errno;
	if (r == 0)
		r = set_nonblock(fd);
	if (r < 0) {
		close(fd);
		return r;
	}
	snprintf(ctl->socket_path, sizeof(ctl->socket_path), "%s", path);
	ctl->listen_fd = fd;
	return 0;
}

int vmm_control_open(struct vmm_control **out, const struct vmm_control_config *cfg,
		     const struct vmm_config *vm_cfg, int *console_in_fd, int *console_out_fd)
{
	struct vmm_control *ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -ENOMEM;
	ctl->listen_fd = ctl->wake_fd = ctl->log_fd = -1;
	ctl->out_pipe[0] = ctl->out_pipe[1] = ctl->in_pipe[0] = ctl->in_pipe[1] = -1;
	for (size_t i = 0; i < MAX_CLIENTS; i++)
		ctl->clients[i].fd = -1;
	pthread_mutex_init(&ctl->lock, NULL);
	pthread_cond_init(&ctl->done_cond, NULL);
	ctl->state = VMM_CTL_STARTING;
	ctl->cpus = vm_cfg->cpus;
	ctl->memory_bytes = vm_cfg->memory_bytes;
	clock_gettime(CLOCK_MONOTONIC, &ctl->started);
	int r = vmm_console_ring_init(&ctl->ring, VMM_CONSOLE_RING_BYTES);
	if (r == 0 && (pipe2(ctl->out_pipe, O_CLOEXEC) < 0 || pipe2(ctl->in_pipe, O_CLOEXEC) < 0))
		r = -errno;
	/* The UART's writes must never block a vCPU; console input must
	 * never block this thread. */
	if (r == 0)
		r = set_nonblock(ctl->out_pipe[1]);
	if (r == 0)
		r = set_nonblock(ctl->out_pipe[0]); /* drained at close */
	if (r == 0)
		r = set_nonblock(ctl->in_pipe[1]);
	if (r == 0 && (ctl->wake_fd = eventfd(0, EFD_CLOEXEC)) < 0)
		r = -errno;
	if (r == 0 && cfg->console_log_path) {
		ctl->log_fd = open(cfg->console_log_path,
				   O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (ctl->log_fd < 0)
			r = -errno;
	}
	if (r == 0)
		r = listen_on(ctl, cfg->socket_path);
	if (r == 0) {
		r = -pthread_create(&ctl->thread, NULL, control_main, ctl);
		ctl->thread_started = r == 0;
	}
	if (r < 0) {
		vmm_control_close(ctl);
		return r;
	}
	*console_in_fd = ctl->in_pipe[0];
	*console_out_fd = ctl->out_pipe[1];
	*out = ctl;
	return 0;
}

void vmm_control_close(struct vmm_control *ctl)
{
	if (!ctl)
		return;
	if (ctl->thread_started) {
		uint64_t one = 1;
		if (write(ctl->wake_fd, &one, sizeof(one)) < 0) {
			/* an eventfd write of 1 does not fail */
		}
		pthread_join(ctl->thread, NULL);
	}
	for (size_t i = 0; i < MAX_CLIENTS; i++)
		close_fd(&ctl->clients[i].fd);
	if (ctl->listen_fd >= 0)
		unlink(ctl->socket_path);
	close_fd(&ctl->listen_fd);
	close_fd(&ctl->wake_fd);
	close_fd(&ctl->log_fd);
	for (int i = 0; i < 2; i++) {
		close_fd(&ctl->out_pipe[i]);
		close_fd(&ctl->in_pipe[i]);
	}
	vmm_console_ring_free(&ctl->ring);
	pthread_cond_destroy(&ctl->done_cond);
	pthread_mutex_destroy(&ctl->lock);
	free(ctl);
}

/* ---- the main loop ------------------------------------------------------ */
static int start_vcpus(struct vmm_vm *vm)
{
	/* After a pause the threads were joined with stopping set and every
	 * immediate_exit raised (vcpu.c); clear both before new threads run. */
	atomic_store(&vm->stopping, false);
	for (unsigned i = 0; i < vm->cfg.cpus; i++) {
		struct kvm_vcpu *v = vmm_vm_vcpu(vm, i);
		if (v)
			v->run->immediate_exit = 0;
	}
	return vmm_vcpus_start(vm);
}

static void set_state(struct vmm_control *ctl, enum vmm_control_state state)
{
	pthread_mutex_lock(&ctl->lock);
	ctl->state = state;
	pthread_mutex_unlock(&ctl->lock);
}

/* Carries out one request on the VM; why is "" on success. */
static int carry_out(struct vmm_control *ctl, struct vmm_vm *vm, enum vmm_control_cmd cmd,
		     char *why, size_t why_size)
{
	bool paused = ctl->state == VMM_CTL_PAUSED; /* only this thread writes it */
	switch (cmd) {
	case VMM_CTL_PAUSE:
		if (paused) {
			snprintf(why, why_size, "the VM is paused already");
			return -EALREADY;
		}
		vmm_vcpus_stop(vm);
		set_state(ctl, VMM_CTL_PAUSED);
		return 0;
	case VMM_CTL_RESUME:
		if (!paused) {
			snprintf(why, why_size, "the VM is not paused");
			return -EALREADY;
		}
		if (start_vcpus(vm) < 0) {
			snprintf(why, why_size, "cannot restart the vCPU threads");
			return -EAGAIN;
		}
		set_state(ctl, VMM_CTL_RUNNING);
		return 0;
	case VMM_CTL_SHUTDOWN:
		/* Latched while paused: the guest sees it when resumed. */
		vmm_ged_power_button(&vm->ged);
		return 0;
	case VMM_CTL_STOP:
		vmm_vm_request_stop(vm, VMM_STOP_REQUESTED, "stopped on request (control socket)");
		return 0;
	case VMM_CTL_REBOOT:
		vmm_vm_request_stop(vm, VMM_STOP_RESET, "reboot requested (control socket)");
		return 0;
	default:
		snprintf(why, why_size, "not a request for the VM");
		return -EINVAL;
	}
}

static void serve_pending(struct vmm_control *ctl, struct vmm_vm *vm)
{
	pthread_mutex_lock(&ctl->lock);
	bool pending = ctl->pending;
	enum vmm_control_cmd cmd = ctl->request;
	ctl->pending = false;
	pthread_mutex_unlock(&ctl->lock);
	if (!pending)
		return;
	char why[160] = "";
	int r = carry_out(ctl, vm, cmd, why, sizeof(why));
	pthread_mutex_lock(&ctl->lock);
	ctl->result = r;
	snprintf(ctl->result_why, sizeof(ctl->result_why), "%s", why);
	ctl->done = true;
	pthread_cond_broadcast(&ctl->done_cond);
	pthread_mutex_unlock(&ctl->lock);
}

/* Runs one incarnation of the guest until it stops. */
static enum vmm_stop_reason run_once(struct vmm_control *ctl, struct vmm_vm *vm,
				     volatile sig_atomic_t *interrupt_flag)
{
	set_state(ctl, VMM_CTL_RUNNING);
	if (start_vcpus(vm) == 0) {
		for (;;) {
			pthread_mutex_lock(&vm->stop_lock);
			if (vm->stop_reason == VMM_STOP_NONE && !*interrupt_flag) {
				struct timespec ts;
				clock_gettime(CLOCK_REALTIME, &ts);
				ts.tv_nsec += 100 * 1000 * 1000;
				if (ts.tv_nsec >= 1000000000L) {
					ts.tv_sec++;
					ts.tv_nsec -= 1000000000L;
				}
				pthread_cond_timedwait(&vm->stop_cond, &vm->stop_lock, &ts);
			}
			bool stopped = vm->stop_reason != VMM_STOP_NONE;
			pthread_mutex_unlock(&vm->stop_lock);
			if (*interrupt_flag && !stopped)
				vmm_vm_request_stop(vm, VMM_STOP_INTERRUPTED, "interrupted by a signal");
			if (stopped || *interrupt_flag)
				break;
			enum vmm_thread_kind kind;
			int e = vmm_sandbox_error(&kind);
			if (e < 0) {
				vmm_vm_request_stop(vm, VMM_STOP_ERROR,
						    "the %s thread cannot install its seccomp filter: %s",
						    vmm_thread_kind_name(kind), strerror(-e));
				continue;
			}
			serve_pending(ctl, vm);
		}
	}
	vmm_vcpus_stop(vm);
	return vm->stop_reason;
}

/* Whether a managed VM boots again after this stop. A reset does, as on
 * any machine. So does a triple fault, as on a PC, whose chipset turns
 * the processor's shutdown cycle into a reset (and as QEMU does unless
 * told -no-reboot), but not forever: a guest that faults again and again
 * with no other reset between is stopped. */
static bool restarts_after(enum vmm_stop_reason reason, unsigned *triple_faults)
{
	if (reason == VMM_STOP_RESET) {
		*triple_faults = 0;
		return true;
	}
	return reason == VMM_STOP_TRIPLE_FAULT && ++*triple_faults <= MAX_TRIPLE_FAULT_RESETS;
}

int vmm_control_run(struct vmm_control *ctl, struct vmm_vm *vm, const struct vmm_config *cfg,
		    volatile sig_atomic_t *interrupt_flag,
		    enum vmm_stop_reason *reason, char *detail, size_t detail_size)
{
	int r = 0;
	unsigned triple_faults = 0;   /* in a row, with no other reset between */
	for (;;) {
		*reason = run_once(ctl, vm, interrupt_flag);
		snprintf(detail, detail_size, "%s", vm->stop_detail);
		if (!restarts_after(*reason, &triple_faults) || *interrupt_flag) {
			vmm_vm_destroy(vm);
			break;
		}
		if (*reason == VMM_STOP_TRIPLE_FAULT)
			log_warn("guest stopped (triple fault): %s; booting it again, as a PC "
				 "resets (%u of %d in a row)", detail, triple_faults,
				 MAX_TRIPLE_FAULT_RESETS);
		else
			log_info("guest reset: %s; booting it again", detail);
		/* A reset: the same machine again, from its configuration, on
		 * the same RAM. The console pipes belong to the control layer
		 * and survive. */
		r = vmm_vm_rebuild(vm, cfg);
		if (r < 0) {
			*reason = VMM_STOP_ERROR;
			snprintf(detail, detail_size, "cannot restart the guest after a reset: %s%s%s: %s",
				 vm->failed_phase ? vm->failed_phase : "start",
				 vm->failed_detail ? " " : "",
				 vm->failed_detail ? vm->failed_detail : "", strerror(-r));
			break;
		}
		pthread_mutex_lock(&ctl->lock);
		ctl->reboots++;
		pthread_mutex_unlock(&ctl->lock);
	}
	/* No VM any more: a request that arrives now is refused, one that
	 * was waiting is answered. */
	pthread_mutex_lock(&ctl->lock);
	ctl->main_gone = true;
	if (ctl->pending) {
		ctl->pending = false;
		ctl->result = -EBUSY;
		snprintf(ctl->result_why, sizeof(ctl->result_why), "the VM is stopping");
		ctl->done = true;
		pthread_cond_broadcast(&ctl->done_cond);
	}
	pthread_mutex_unlock(&ctl->lock);
	return r;
}
