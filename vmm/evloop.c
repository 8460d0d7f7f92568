// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * An epoll loop on its own thread (see evloop.h). The thread holds
 * `dispatch` while it runs the callbacks of one epoll_wait batch; a remove
 * from another thread takes that mutex after EPOLL_CTL_DEL, so it returns
 * only once no callback of the removed fd can still be running (a remove
 * from inside a callback cannot wait for itself, and need not). The entry
 * is marked dead, so a batch that still holds it skips it, and only the
 * thread frees it, after a batch: epoll_wait may have returned it already.
 */
#include "evloop.h"
#include "sandbox.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define BATCH 32

struct entry {
	int fd;
	bool dead;
	vmm_evloop_fn fn;
	void *ctx;
	struct entry *next;     /* the loop's list of entries (or of garbage) */
};

struct vmm_evloop {
	int epfd;
	int stopfd;             /* eventfd: wakes the thread to stop */
	pthread_t thread;
	pthread_mutex_t dispatch; /* held by the thread while it runs callbacks */
	pthread_mutex_t lock;   /* the entry lists */
	struct entry *entries;
	struct entry *garbage;  /* removed from inside a callback */
	bool stopping;
	char name[16];
};

static struct entry *unlink_entry(struct vmm_evloop *loop, int fd)
{
	for (struct entry **p = &loop->entries; *p; p = &(*p)->next) {
		if ((*p)->fd == fd) {
			struct entry *e = *p;
			*p = e->next;
			return e;
		}
	}
	return NULL;
}

static void free_garbage(struct vmm_evloop *loop)
{
	pthread_mutex_lock(&loop->lock);
	struct entry *g = loop->garbage;
	loop->garbage = NULL;
	pthread_mutex_unlock(&loop->lock);
	while (g) {
		struct entry *next = g->next;
		free(g);
		g = next;
	}
}

static void *loop_thread(void *arg)
{
	struct vmm_evloop *loop = arg;
	struct epoll_event ev[BATCH];
	pthread_setname_np(pthread_self(), loop->name);
	bool confined = false;
	for (;;) {
		int n = epoll_wait(loop->epfd, ev, BATCH, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		/* Confined before the first callback, not at thread start: the
		 * loops exist before `--user` drops privileges, and glibc's
		 * setuid family signals every thread (SIGSETXID) to change its
		 * own credentials, a handler that calls getpid and setresuid.
		 * A loop confined at start died there (seen in the lab:
		 * "the device I/O thread made a forbidden system call getpid"
		 * with --rng --user nobody, tests/hw/passthrough/faults.sh).
		 * Until its first event the thread only waits in epoll_wait.
		 * A loop that cannot confine itself serves nothing; the main
		 * thread sees vmm_sandbox_error() and stops the VM. */
		if (!confined) {
			if (vmm_sandbox_enter(VMM_THREAD_DEVICE_IO) < 0)
				break;
			confined = true;
		}
		pthread_mutex_lock(&loop->dispatch);
		bool stop = false;
		for (int i = 0; i < n; i++) {
			struct entry *e = ev[i].data.ptr;
			if (!e) {
				stop = true;
				continue;
			}
			if (!__atomic_load_n(&e->dead, __ATOMIC_ACQUIRE))
				e->fn(e->ctx, ev[i].events);
		}
		pthread_mutex_unlock(&loop->dispatch);
		free_garbage(loop);
		if (stop)
			break;
	}
	return NULL;
}

int vmm_evloop_create(struct vmm_evloop **out, const char *thread_name)
{
	struct vmm_evloop *loop = calloc(1, sizeof(*loop));
	if (!loop)
		return -ENOMEM;
	snprintf(loop->name, sizeof(loop->name), "%s", thread_name ? thread_name : "evloop");
	pthread_mutex_init(&loop->dispatch, NULL);
	pthread_mutex_init(&loop->lock, NULL);
	int r;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	loop->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (loop->epfd < 0 || loop->stopfd < 0) {
		r = -errno;
		goto fail;
	}
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->stopfd, &ev) < 0) {
		r = -errno;
		goto fail;
	}
	r = -pthread_create(&loop->thread, NULL, loop_thread, loop);
	if (r < 0)
		goto fail;
	*out = loop;
	return 0;
fail:
	if (loop->epfd >= 0)
		close(loop->epfd);
	if (loop->stopfd >= 0)
		close(loop->stopfd);
	pthread_mutex_destroy(&loop->dispatch);
	pthread_mutex_destroy(&loop->lock);
	free(loop);
	return r;
}

int vmm_evloop_on_thread(const struct vmm_evloop *loop)
{
	return pthread_equal(pthread_self(), loop->thread);
}

int vmm_evloop_add(struct vmm_evloop *loop, int fd, uint32_t events,
		   vmm_evloop_fn fn, void *ctx)
{
	if (fd < 0 || !fn)
		return -EINVAL;
	struct entry *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	*e = (struct entry){ .fd = fd, .fn = fn, .ctx = ctx };
	pthread_mutex_lock(&loop->lock);
	struct epoll_event ev = { .events = events, .data.ptr = e };
	int r = epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
	if (r == 0) {
		e->next = loop->entries;
		loop->entries = e;
	}
	pthread_mutex_unlock(&loop->lock);
	if (r < 0)
		free(e);
	return r;
}

int vmm_evloop_remove(struct vmm_evloop *loop, int fd)
{
	pthread_mutex_lock(&loop->lock);
	struct entry *e = unlink_entry(loop, fd);
	if (e) {
		epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
		__atomic_store_n(&e->dead, true, __ATOMIC_RELEASE);
	}
	if (e) {
		/* The thread may hold e in a batch epoll_wait returned and not
		 * yet dispatched: only the thread frees it, after a batch. */
		e->next = loop->garbage;
		loop->garbage = e;
	}
	pthread_mutex_unlock(&loop->lock);
	if (!e)
		return -ENOENT;
	if (!vmm_evloop_on_thread(loop)) {
		/* A callback of e running now finishes before we get this. */
		pthread_mutex_lock(&loop->dispatch);
		pthread_mutex_unlock(&loop->dispatch);
	}
	return 0;
}

void vmm_evloop_destroy(struct vmm_evloop *loop)
{
	if (!loop)
		return;
	uint64_t one = 1;
	if (write(loop->stopfd, &one, sizeof(one)) != sizeof(one))
		pthread_cancel(loop->thread); /* cannot happen with a fresh eventfd */
	pthread_join(loop->thread, NULL);
	free_garbage(loop);
	while (loop->entries) {
		struct entry *e = loop->entries;
		loop->entries = e->next;
		free(e);
	}
	close(loop->epfd);
	close(loop->stopfd);
	pthread_mutex_destroy(&loop->dispatch);
	pthread_mutex_destroy(&loop->lock);
	free(loop);
}
