// SPDX-License-Identifier: GPL-2.0-or-later
/* vmm/evloop: callbacks run on the loop's named thread; remove from another
 * thread and from inside a callback; destroy joins. */
#include "evloop.h"
#include "testlib.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

struct probe {
	int fd;
	struct vmm_evloop *loop;
	atomic_int calls;
	bool remove_self;
	char thread[16];
};

static void on_event(void *ctx, uint32_t events)
{
	struct probe *p = ctx;
	uint64_t v;
	if (read(p->fd, &v, sizeof(v)) < 0)
		return;
	pthread_getname_np(pthread_self(), p->thread, sizeof(p->thread));
	if (p->remove_self)
		vmm_evloop_remove(p->loop, p->fd);
	atomic_fetch_add(&p->calls, 1);
}

static void kick(int fd)
{
	uint64_t one = 1;
	CHECK(write(fd, &one, sizeof(one)) == sizeof(one));
}

static bool wait_calls(struct probe *p, int n)
{
	for (int i = 0; i < 2000; i++) {
		if (atomic_load(&p->calls) >= n)
			return true;
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
	return false;
}

int main(void)
{
	struct vmm_evloop *loop;
	CHECK_EQ_INT(vmm_evloop_create(&loop, "test-loop"), 0);
	struct probe a = { .fd = eventfd(0, EFD_NONBLOCK), .loop = loop };
	struct probe b = { .fd = eventfd(0, EFD_NONBLOCK), .loop = loop, .remove_self = true };
	CHECK_EQ_INT(vmm_evloop_add(loop, a.fd, EPOLLIN, on_event, &a), 0);
	CHECK_EQ_INT(vmm_evloop_add(loop, a.fd, EPOLLIN, on_event, &a), -EEXIST);
	CHECK_EQ_INT(vmm_evloop_add(loop, -1, EPOLLIN, on_event, &a), -EINVAL);
	CHECK_EQ_INT(vmm_evloop_add(loop, b.fd, EPOLLIN, on_event, &b), 0);
	CHECK(!vmm_evloop_on_thread(loop));

	kick(a.fd);
	CHECK(wait_calls(&a, 1));
	CHECK_EQ_STR(a.thread, "test-loop");
	kick(a.fd);
	CHECK(wait_calls(&a, 2));

	/* b removes itself from its callback: a second kick finds nobody. */
	kick(b.fd);
	CHECK(wait_calls(&b, 1));
	kick(b.fd);
	CHECK_EQ_INT(vmm_evloop_remove(loop, b.fd), -ENOENT);

	/* Removed from this thread: no callback after remove returns. */
	CHECK_EQ_INT(vmm_evloop_remove(loop, a.fd), 0);
	int before = atomic_load(&a.calls);
	kick(a.fd);
	nanosleep(&(struct timespec){ .tv_nsec = 20000000 }, NULL);
	CHECK_EQ_INT(atomic_load(&a.calls), before);
	CHECK_EQ_INT(atomic_load(&b.calls), 1);

	/* Destroy with an fd still on the loop: joins, does not close it. */
	CHECK_EQ_INT(vmm_evloop_add(loop, a.fd, EPOLLIN, on_event, &a), 0);
	vmm_evloop_destroy(loop);
	CHECK(write(a.fd, &(uint64_t){ 1 }, 8) == 8);
	close(a.fd);
	close(b.fd);
	return test_result();
}
