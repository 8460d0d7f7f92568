// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fault injection for the crash tests: PASSVM_FAULT=WHEN-STEP:N makes this
 * process die with SIGKILL at the Nth STEP (a vfio_change_name), before or
 * after its sysfs write, so the test sees what a real crash leaves behind
 * (a journal, a half-bound group) and checks that `passvm vfio restore`
 * undoes it. SIGKILL, not exit(): no atexit handler, no flush, no cleanup.
 */
#include "vfio.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned fault_counts[2][VFIO_CHANGE_SRIOV_AUTOPROBE + 1];

void vfio_fault_check(const char *when, enum vfio_change_kind kind)
{
	const char *spec = getenv("PASSVM_FAULT");
	if (!spec || !*spec || (size_t)kind > VFIO_CHANGE_SRIOV_AUTOPROBE)
		return;
	int w = strcmp(when, "before") == 0 ? 0 : 1;
	unsigned seen = ++fault_counts[w][kind];

	char want[64];
	unsigned n = 1;
	const char *colon = strchr(spec, ':');
	size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
	if (len >= sizeof(want))
		return;
	memcpy(want, spec, len);
	want[len] = '\0';
	if (colon && sscanf(colon + 1, "%u", &n) != 1)
		return;

	char here[64];
	snprintf(here, sizeof(here), "%s-%s", when, vfio_change_name(kind));
	if (strcmp(want, here) != 0 || seen != n)
		return;
	/* Library code does not print; this one line is the test's evidence
	 * that the fault fired where asked, written with write(2) so nothing
	 * buffered is needed. */
	char msg[128];
	int m = snprintf(msg, sizeof(msg), "PASSVM_FAULT: dying at %s:%u\n", here, n);
	if (m > 0 && write(STDERR_FILENO, msg, (size_t)m) < 0)
		m = 0;
	kill(getpid(), SIGKILL);
	_exit(137);
}
