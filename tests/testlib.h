/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A tiny test harness: CHECK() counts failures; skips follow the project rule
 * that a test which cannot find what it needs exits 77 with the reason, and
 * that under CI=true a skip of a kvm or hw test is a failure. */
#ifndef PASSVM_TESTLIB_H
#define PASSVM_TESTLIB_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failures;

#define CHECK(cond)                                                           \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #cond);                             \
			test_failures++;                                      \
		}                                                             \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                    \
	do {                                                                  \
		long long _a = (long long)(a), _b = (long long)(b);           \
		if (_a != _b) {                                               \
			fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n",  \
				__FILE__, __LINE__, #a, _a, _b);              \
			test_failures++;                                      \
		}                                                             \
	} while (0)

#define CHECK_EQ_STR(a, b)                                                    \
	do {                                                                  \
		const char *_a = (a), *_b = (b);                              \
		if (strcmp(_a, _b) != 0) {                                    \
			fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", \
				__FILE__, __LINE__, #a, _a, _b);              \
			test_failures++;                                      \
		}                                                             \
	} while (0)

static inline int test_skip(const char *reason)
{
	const char *ci = getenv("CI");
	if (ci && strcmp(ci, "true") == 0) {
		fprintf(stderr, "FAIL: would skip (%s), and CI=true allows no skip\n",
			reason);
		return 1;
	}
	fprintf(stderr, "SKIP: %s\n", reason);
	return 77;
}

static inline int test_result(void)
{
	if (test_failures)
		fprintf(stderr, "%d check(s) failed\n", test_failures);
	return test_failures ? 1 : 0;
}

#endif
