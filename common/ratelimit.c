// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * One log line per interval from any thread: the gate that every report of
 * a guest's (or a failing host's) repeated mistakes goes through, so that a
 * guest doing the same wrong thing in a loop cannot flood the host's log.
 */
#include "common.h"

bool ratelimit_pass(long long *last_ms, long long interval_ms)
{
	long long now = monotonic_ms();
	long long last = __atomic_load_n(last_ms, __ATOMIC_RELAXED);
	if (last && now - last < interval_ms)
		return false;
	/* Of threads racing here, one wins the interval. */
	return __atomic_compare_exchange_n(last_ms, &last, now, false, __ATOMIC_RELAXED,
					   __ATOMIC_RELAXED);
}
