/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by the kvm suite: open /dev/kvm or skip, and the 64-bit payloads. */
#ifndef PASSVM_TESTS_KVMTEST_H
#define PASSVM_TESTS_KVMTEST_H

#include "vmm.h"
#include "../testlib.h"

#include <errno.h>

extern const uint8_t payload64_start[], payload64_end[];
extern const uint8_t payload64_exits[], payload64_smp[];
extern const uint8_t payload64_boot[], payload64_boot_image[];

/* 0 with kvm open; otherwise the exit status main() should return. */
static inline int kvmtest_open(struct host_root *root, struct kvm_system *kvm)
{
	if (host_root_open(root, "/") < 0)
		return test_skip("cannot open /");
	int r = kvm_system_open(kvm, root);
	if (r == -ENOENT || r == -EACCES || r == -EPERM) {
		host_root_close(root);
		return test_skip("/dev/kvm is missing or not accessible");
	}
	if (r < 0) {
		fprintf(stderr, "kvm_system_open: %s\n", strerror(-r));
		host_root_close(root);
		return 1;
	}
	return 0;
}

#endif
