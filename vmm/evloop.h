/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmm/evloop: an epoll event loop on a thread of its own.
 *
 * Device back ends (virtio queues waiting on their ioeventfd, io_uring
 * completions, a tap) serve their file descriptors on a loop of their own,
 * so no device shares a thread, and no lock, with another. A callback runs
 * on the loop's thread, one at a time per loop.
 *
 * Removing an fd is safe from any thread, including from inside a callback
 * on the loop itself: when vmm_evloop_remove returns, that fd's callback is
 * not running and will not run again (from another thread, remove waits for
 * a callback in progress to finish).
 */
#ifndef PASSVM_VMM_EVLOOP_H
#define PASSVM_VMM_EVLOOP_H

#include <stdint.h>

struct vmm_evloop;

/* events: the EPOLLIN/EPOLLOUT/EPOLLERR/EPOLLHUP bits epoll reported. */
typedef void (*vmm_evloop_fn)(void *ctx, uint32_t events);

/* Starts the thread, named `thread_name` (at most 15 characters are kept,
 * the kernel's limit for comm). */
int vmm_evloop_create(struct vmm_evloop **out, const char *thread_name);
/* Watches fd for `events` (EPOLLIN...; level-triggered). -EEXIST if the fd
 * is already on this loop. */
int vmm_evloop_add(struct vmm_evloop *loop, int fd, uint32_t events,
		   vmm_evloop_fn fn, void *ctx);
/* -ENOENT if fd is not on the loop. */
int vmm_evloop_remove(struct vmm_evloop *loop, int fd);
/* Stops and joins the thread; fds still on the loop are forgotten (not
 * closed: their owners close them). NULL is fine. */
void vmm_evloop_destroy(struct vmm_evloop *loop);
/* True on the loop's own thread (for callers that must not wait on it). */
int vmm_evloop_on_thread(const struct vmm_evloop *loop);

#endif
