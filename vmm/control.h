/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmm/control: a running VM's control socket (issue 10; protocol in
 * docs/control.md). `passvm run --control PATH` listens on a unix socket;
 * each connection sends one-line JSON requests and gets one-line JSON
 * replies, or switches to the raw console with {"cmd":"console"}.
 *
 * Files, one owner each:
 *   control_proto.c  the line protocol: a strict parser of flat one-line
 *                    JSON objects (requests and replies), reply formatting
 *                    (pure; unit and fuzz tested)
 *   console_ring.c   the console's ring buffer (the last bytes the guest
 *                    printed, replayed to whoever attaches)
 *   control.c        the control thread (socket, clients, console pump)
 *                    and the managed VM's main loop: pause, resume, power
 *                    button, stop and reboot run there, on the thread that
 *                    owns the VM, so the control thread never touches a
 *                    vCPU or a device.
 * Must not: print (the caller reports), or exit.
 */
#ifndef PASSVM_VMM_CONTROL_H
#define PASSVM_VMM_CONTROL_H

#include "vmm.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ===== control_proto.c ===================================================== */
#define VMM_CONTROL_LINE_MAX 1024  /* a request or reply line, newline excluded */
#define VMM_CONTROL_FIELDS_MAX 16
#define VMM_CONTROL_VALUE_MAX 256

enum vmm_json_type { VMM_JSON_STRING, VMM_JSON_NUMBER, VMM_JSON_BOOL, VMM_JSON_NULL };

struct vmm_json_field {
	char key[32];
	enum vmm_json_type type;
	char value[VMM_CONTROL_VALUE_MAX]; /* unescaped string, or the literal */
};

/* A flat JSON object on one line: string keys (no duplicates) whose values
 * are strings, integers, true, false or null; whitespace around tokens;
 * nothing after the closing brace but whitespace. Nested objects, arrays,
 * fractions, NUL and control bytes are refused. -EINVAL with the reason in
 * why; -E2BIG when a key, a value or the field count is over the limits. */
int vmm_json_object_parse(const char *line, size_t len, struct vmm_json_field *fields,
			  size_t max_fields, size_t *nfields, char *why, size_t why_size);
/* The field named key, or NULL. */
const struct vmm_json_field *vmm_json_find(const struct vmm_json_field *fields,
					    size_t n, const char *key);
/* s as a JSON string (quotes included) into out; the length, or -ENOSPC. */
int vmm_json_quote(const char *s, char *out, size_t size);

enum vmm_control_cmd {
	VMM_CTL_STATUS,
	VMM_CTL_PAUSE,
	VMM_CTL_RESUME,
	VMM_CTL_SHUTDOWN,   /* press the ACPI power button */
	VMM_CTL_STOP,       /* end the VM now */
	VMM_CTL_REBOOT,     /* reset the guest (same process, same console) */
	VMM_CTL_CONSOLE,    /* this connection becomes the raw console */
};

/* A request: {"cmd": "status"}. Any other key, or an unknown command, is
 * refused with the reason in why. */
int vmm_control_parse_request(const char *line, size_t len, enum vmm_control_cmd *cmd,
			      char *why, size_t why_size);
const char *vmm_control_cmd_name(enum vmm_control_cmd cmd);

/* {"ok": false, "error": "why"}\n; returns the length or -ENOSPC. */
int vmm_control_format_error(const char *why, char *out, size_t size);

/* ===== console_ring.c ======================================================= */
#define VMM_CONSOLE_RING_BYTES (64 * 1024)

struct vmm_console_ring {
	uint8_t *buf;
	size_t cap;
	uint64_t total;   /* bytes ever written; the ring holds the last cap */
};

int vmm_console_ring_init(struct vmm_console_ring *ring, size_t cap);
void vmm_console_ring_free(struct vmm_console_ring *ring);
void vmm_console_ring_write(struct vmm_console_ring *ring, const uint8_t *data, size_t len);
/* Copies what the ring holds, oldest first, into out (up to size bytes,
 * the newest ones if size is smaller); returns the bytes copied. */
size_t vmm_console_ring_read(const struct vmm_console_ring *ring, uint8_t *out, size_t size);

/* ===== control.c ============================================================ */
/* "starting" until vmm_control_run runs the guest: the socket answers
 * while the caller still builds the VM (which may fail), so a client that
 * waits for a VM to be up waits for "running". */
enum vmm_control_state { VMM_CTL_STARTING, VMM_CTL_RUNNING, VMM_CTL_PAUSED };

struct vmm_control_config {
	const char *socket_path;       /* created, removed at close */
	const char *console_log_path;  /* appended to; may be NULL */
};

struct vmm_control;

/* Creates the socket and the console pipes, and starts the control thread.
 * The VM's UART is then wired to *console_in_fd / *console_out_fd (set
 * vmm_config.console = VMM_CONSOLE_FDS with these). -EADDRINUSE when a
 * live VMM already listens on the path. */
int vmm_control_open(struct vmm_control **out, const struct vmm_control_config *cfg,
		     const struct vmm_config *vm_cfg, int *console_in_fd, int *console_out_fd);
void vmm_control_close(struct vmm_control *ctl);

/* The managed VM's main loop (replaces vmm_vm_run): runs the vCPUs and
 * serves pause, resume, shutdown (power button), stop and reboot requests.
 * A guest reset (reboot from inside, panic=-1, a reboot request) rebuilds
 * the VM from its configuration in this process, keeping the console; the
 * loop ends when the guest powers off, a stop is requested, a signal sets
 * interrupt_requested, or the VM cannot be rebuilt. *vm is created by the
 * caller and destroyed here before returning. The stop reason and its
 * detail are returned in reason/detail. */
int vmm_control_run(struct vmm_control *ctl, struct vmm_vm *vm, const struct vmm_config *cfg,
		    volatile sig_atomic_t *interrupt_flag,
		    enum vmm_stop_reason *reason, char *detail, size_t detail_size);

/* ===== power.c: the Generic Event Device (ACPI 6.5, 5.6.9) ================== */
/* GED0 in the DSDT: its interrupt (edge, active high) and one event register
 * the guest's _EVT method reads (read clears). Bit 0: the power button. */
#define VMM_GED_PORT 0x604
#define VMM_GED_PORT_LEN 1
#define VMM_GED_GSI 9
#define VMM_GED_EVENT_POWER_BUTTON 0x01

/* Latches the power button event and pulses the GED interrupt. */
void vmm_ged_power_button(struct vmm_ged *ged);
extern const struct vmm_device_ops vmm_ged_ops;

#endif
