// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Port I/O and MMIO dispatch: a sorted table of non-overlapping ranges, each
 * owned by one device through its ops table. vCPU threads look up under a
 * read lock; registration (a BAR moving) takes the write lock. The device
 * does its own locking for its state.
 */
#include "vmm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* At most one line per bus in this time, with the count of those not logged
 * meanwhile: a guest hammering unclaimed addresses cannot flood the host's
 * log (Firecracker does the same for guest-triggered errors). */
#define UNCLAIMED_LOG_INTERVAL_MS 10000

/* An unclaimed access is the guest's doing (probing, or an attack such as a
 * BAR placed over RAM or a table written past its end): it is logged, once
 * per interval, from the vCPU that made it. */
static void log_unclaimed(struct vmm_bus *bus, uint64_t addr, uint32_t size, bool is_write)
{
	if (!ratelimit_pass(&bus->unclaimed_logged_ms, UNCLAIMED_LOG_INTERVAL_MS)) {
		atomic_fetch_add(&bus->unclaimed_quiet, 1);
		return;
	}
	unsigned long quiet = atomic_exchange(&bus->unclaimed_quiet, 0);
	log_warn("guest %s of %u byte(s) at unclaimed %s address 0x%llx: %s "
		 "(%lu unclaimed so far, %lu not logged)", is_write ? "write" : "read", size,
		 bus->name, (unsigned long long)addr, is_write ? "dropped" : "reads all-ones",
		 atomic_load(&bus->unclaimed), quiet);
}

int vmm_bus_init(struct vmm_bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
	int r = pthread_rwlock_init(&bus->lock, NULL);
	return -r;
}

void vmm_bus_destroy(struct vmm_bus *bus)
{
	free(bus->ranges);
	bus->ranges = NULL;
	bus->nr = bus->cap = 0;
	pthread_rwlock_destroy(&bus->lock);
}

/* Index of the first range whose end is above addr (binary search). */
static size_t lower_bound(const struct vmm_bus *bus, uint64_t addr)
{
	size_t lo = 0, hi = bus->nr;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct vmm_bus_range *r = &bus->ranges[mid];
		if (r->base + (r->len - 1) < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int vmm_bus_register(struct vmm_bus *bus, uint64_t base, uint64_t len,
		     const struct vmm_device_ops *ops, void *dev)
{
	if (len == 0 || base + (len - 1) < base || !ops)
		return -EINVAL;
	int r = 0;
	pthread_rwlock_wrlock(&bus->lock);
	size_t i = lower_bound(bus, base);
	if (i < bus->nr && bus->ranges[i].base <= base + (len - 1)) {
		r = -EEXIST;
		goto out;
	}
	if (bus->nr == bus->cap) {
		size_t cap = bus->cap ? bus->cap * 2 : 16;
		void *p = realloc(bus->ranges, cap * sizeof(*bus->ranges));
		if (!p) {
			r = -ENOMEM;
			goto out;
		}
		bus->ranges = p;
		bus->cap = cap;
	}
	memmove(&bus->ranges[i + 1], &bus->ranges[i],
		(bus->nr - i) * sizeof(*bus->ranges));
	bus->ranges[i] = (struct vmm_bus_range){ base, len, ops, dev };
	bus->nr++;
out:
	pthread_rwlock_unlock(&bus->lock);
	return r;
}

int vmm_bus_unregister(struct vmm_bus *bus, uint64_t base, void *dev)
{
	int r = -ENOENT;
	pthread_rwlock_wrlock(&bus->lock);
	size_t i = lower_bound(bus, base);
	if (i < bus->nr && bus->ranges[i].base == base && bus->ranges[i].dev == dev) {
		memmove(&bus->ranges[i], &bus->ranges[i + 1],
			(bus->nr - i - 1) * sizeof(*bus->ranges));
		bus->nr--;
		r = 0;
	}
	pthread_rwlock_unlock(&bus->lock);
	return r;
}

bool vmm_bus_access(struct vmm_bus *bus, uint64_t addr, uint8_t *data,
		    uint32_t size, bool is_write)
{
	struct vmm_bus_range hit = { 0 };
	if (size == 0 || size > 8 || addr + (size - 1) < addr)
		goto unclaimed;
	/* Copy the range out and call the device without the lock: a device
	 * may re-register itself from inside an access (a BAR write through
	 * ECAM moves a BAR on this same bus). Devices outlive the vCPUs, so a
	 * range removed meanwhile still points at a live device. */
	pthread_rwlock_rdlock(&bus->lock);
	size_t i = lower_bound(bus, addr);
	if (i < bus->nr && addr >= bus->ranges[i].base &&
	    addr - bus->ranges[i].base + size <= bus->ranges[i].len)
		hit = bus->ranges[i];
	pthread_rwlock_unlock(&bus->lock);
	if (!hit.ops)
		goto unclaimed;
	uint64_t off = addr - hit.base;
	if (is_write && hit.ops->write)
		hit.ops->write(hit.dev, off, data, size);
	else if (!is_write && hit.ops->read)
		hit.ops->read(hit.dev, off, data, size);
	else if (!is_write)
		memset(data, 0xff, size);
	return true;
unclaimed:
	if (!is_write && size <= 8)
		memset(data, 0xff, size);
	atomic_fetch_add(&bus->unclaimed, 1);
	if (bus->log_unclaimed)
		log_unclaimed(bus, addr, size, is_write);
	return false;
}
