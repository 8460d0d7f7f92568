/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * common/: what every passvm library shares.
 *
 * Owns: the host root (the one place that opens /sys, /proc, /dev and /run),
 * PCI address parsing, number and size parsing, and error reporting at the
 * edge. Must not: know about KVM, VFIO or any device; print from library code
 * (only log_* at a program's edge prints).
 */
#ifndef PASSVM_COMMON_H
#define PASSVM_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- host root -------------------------------------------------------
 * Every sysfs/procfs/devfs/runfs path is opened relative to one root
 * directory: "/" on a real host, a fixture tree in tests, an unpacked
 * snapshot for a bug report. Paths are resolved with openat2() and
 * RESOLVE_IN_ROOT, so an absolute or ".." symlink inside a fixture (or a
 * crafted one on a host) cannot escape the root.
 */
struct host_root {
	int dirfd;
	bool is_real;           /* root is "/": the live host */
	char path[4096];
};

int host_root_open(struct host_root *root, const char *path);
void host_root_close(struct host_root *root);

/* open(2) of a path relative to the root ("sys/bus/pci/devices/..."). */
int host_root_openat(const struct host_root *root, const char *relpath, int flags);
/* Reads a whole small file; strips one trailing newline. Returns length. */
ssize_t host_root_read(const struct host_root *root, const char *relpath,
		       char *buf, size_t size);
int host_root_read_u64(const struct host_root *root, const char *relpath,
		       uint64_t *value);
/* readlink(2) of a path relative to the root, NUL-terminated. */
ssize_t host_root_readlink(const struct host_root *root, const char *relpath,
			   char *buf, size_t size);
/* The last path component a symlink points at ("vfio-pci" for a driver link). */
int host_root_link_basename(const struct host_root *root, const char *relpath,
			    char *buf, size_t size);
bool host_root_exists(const struct host_root *root, const char *relpath);
/* Writes a value to a sysfs/procfs attribute in one write(2). The writes that
 * change host state go through the VFIO journal, which calls this. */
int host_root_write(const struct host_root *root, const char *relpath,
		    const char *value);

/* ---- PCI addresses ----------------------------------------------------- */
struct pci_addr {
	uint16_t domain;
	uint8_t bus;
	uint8_t device;   /* 0..31 */
	uint8_t function; /* 0..7 */
};
#define PCI_ADDR_STRLEN sizeof("0000:00:00.0")

/* Accepts "DDDD:BB:DD.F" and "BB:DD.F" (domain 0). -EINVAL otherwise. */
int pci_addr_parse(const char *text, struct pci_addr *addr);
/* Always "DDDD:BB:DD.F", the form sysfs uses. */
void pci_addr_format(const struct pci_addr *addr, char out[PCI_ADDR_STRLEN]);
bool pci_addr_equal(const struct pci_addr *a, const struct pci_addr *b);

/* ---- numbers ----------------------------------------------------------- */
/* Whole decimal (or 0x hex) number, no sign, no trailing garbage. */
int parse_u64(const char *text, uint64_t *value);
/* A size with a unit (K, M, G, T; optional "iB"/"B"); a bare number means
 * MiB, as in Proxmox's qm. */
int parse_size_mib_default(const char *text, uint64_t *bytes);

/* ---- errors at the edge -------------------------------------------------
 * Library functions return -errno and never print. A program reports the
 * error once, where it is handled, in one line; log_error_errno returns its
 * error so reporting and returning are one statement.
 */
void log_set_program(const char *name);
int log_error_errno(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
