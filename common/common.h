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
struct host_root_recorder;
struct host_root_replay;
struct host_root {
	int dirfd;
	bool is_real;           /* root is "/": the live host */
	char path[4096];
	/* Optional: every path opened is recorded (for --snapshot), and the
	 * errors a snapshot saw are replayed (host_root_replay_load). */
	struct host_root_recorder *recorder;
	struct host_root_replay *replay;
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
/* The entries of a directory (without "." and ".."), sorted by strverscmp so
 * "10" follows "9". Free with strv_free(). */
int host_root_list_dir(const struct host_root *root, const char *relpath,
		       char ***names, size_t *count);
void strv_free(char **names, size_t count);
/* Resolves relpath inside the root component by component, as
 * RESOLVE_IN_ROOT does, into the physical path (no symlinks left, no
 * leading slash, "." for the root). follow_last: resolve a final symlink. */
int host_root_resolve(const struct host_root *root, const char *relpath,
		      bool follow_last, char *out, size_t size);
/* Writes a value to a sysfs/procfs attribute in one write(2). The writes that
 * change host state go through the VFIO journal, which calls this. */
int host_root_write(const struct host_root *root, const char *relpath,
		    const char *value);

/* ---- snapshots of what the host root read ------------------------------
 * With a recorder attached, the host root remembers every path it opened,
 * listed, or read as a link (and the errors other than "absent" it got).
 * snapshot_write_tar() then writes exactly those files, symlinks as
 * symlinks, into a tar that host_root_open() on its unpacked copy reads the
 * same way; the errors go to passvm-snapshot/errors for host_root_replay_load.
 */
enum host_root_access {
	HOST_ROOT_READ,     /* opened for reading: content needed */
	HOST_ROOT_EXISTS,   /* opened O_PATH: existence (and type) only */
	HOST_ROOT_LINK,     /* readlink of the final component */
	HOST_ROOT_LIST,     /* directory listed */
	HOST_ROOT_ENTRY,    /* an entry seen in a listing (not followed) */
};
int host_root_record_start(struct host_root *root);
void host_root_record_stop(struct host_root *root);
struct snapshot_extra {
	const char *path;   /* inside the tar, e.g. "passvm-snapshot/facts" */
	const char *content;
};
int snapshot_write_tar(const struct host_root *root, int out_fd,
		       const struct snapshot_extra *extra, size_t n_extra);
/* Loads relpath ("passvm-snapshot/errors": "errno path" lines) so that
 * opening those paths for reading fails with the recorded error again. */
int host_root_replay_load(struct host_root *root, const char *relpath);
/* Internal, for snapshot.c: called by the host root for each access. */
void host_root_record(const struct host_root *root, const char *relpath,
		      enum host_root_access what, int err);
/* Internal: the replayed error for a read of relpath, 0 when none. */
int host_root_replayed_error(const struct host_root *root, const char *relpath);
void host_root_replay_free(struct host_root *root);

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

/* ---- PCI devices in sysfs ----------------------------------------------
 * What sysfs says about one PCI function (sys/bus/pci/devices/BDF) and the
 * IOMMU groups (sys/kernel/iommu_groups). Read through the host root, so
 * fixture trees and snapshots work alike. Discovery only: nothing here
 * changes the host.
 */
#define PCI_CLASS_BRIDGE_HOST   0x0600
#define PCI_CLASS_BRIDGE_ISA    0x0601
#define PCI_CLASS_BRIDGE_PCI    0x0604
#define PCI_CLASS_SERIAL_SMBUS  0x0c05
#define PCI_CLASS_DISPLAY_VGA   0x0300

struct pci_dev_info {
	struct pci_addr addr;
	char bdf[PCI_ADDR_STRLEN];
	uint16_t vendor, device;
	uint16_t subsystem_vendor, subsystem_device;
	uint32_t class_code;        /* 24 bits: base, sub, prog-if */
	char driver[64];            /* "" when no driver is bound */
	char driver_override[64];   /* "" when unset ("(null)" in sysfs) */
	int iommu_group;            /* -1 when the device has none */
	bool is_virtfn;             /* an SR-IOV VF; physfn is its PF */
	struct pci_addr physfn;
};

/* class_code >> 8: base class and subclass, as PCI_CLASS_* above. */
static inline uint16_t pci_dev_class(const struct pci_dev_info *dev)
{
	return (uint16_t)(dev->class_code >> 8);
}
/* A bridge (PCI-PCI, CardBus, ...) is not an endpoint VFIO binds. */
bool pci_dev_is_bridge(const struct pci_dev_info *dev);

int pci_dev_read(const struct host_root *root, const struct pci_addr *addr,
		 struct pci_dev_info *dev);
/* Every PCI function, sorted by address. Free with free(). */
int pci_dev_list(const struct host_root *root, struct pci_addr **addrs,
		 size_t *count);
/* The IOMMU group numbers, sorted numerically. Free with free(). */
int iommu_group_list(const struct host_root *root, int **groups, size_t *count);
/* The functions in one group, sorted by address. Free with free(). */
int iommu_group_devices(const struct host_root *root, int group,
			struct pci_addr **addrs, size_t *count);

/* ---- device events (common/uevent.c) -------------------------------------
 * A libudev monitor for one subsystem, on udevd's events when udevd runs and
 * the kernel's otherwise. Open it before the change whose result you wait
 * for, then check the state, then wait for an event and check again.
 */
struct udev;
struct udev_monitor;
struct udev_device;
struct uevent_monitor {
	struct udev *udev;
	struct udev_monitor *monitor;
};

long long monotonic_ms(void);
/* true at most once per interval_ms across all threads sharing *last_ms
 * (0: never passed yet); the caller logs when it is true. */
bool ratelimit_pass(long long *last_ms, long long interval_ms);
int uevent_monitor_open(struct uevent_monitor *m, const struct host_root *root,
			const char *subsystem);
/* Waits until deadline_ms (monotonic_ms clock) for one event: 0 with *dev
 * set (unref it) or NULL (interrupted, or an unreadable event: look again),
 * -ETIMEDOUT past the deadline, another -errno on failure. */
int uevent_monitor_next(struct uevent_monitor *m, long long deadline_ms,
			struct udev_device **dev);
void uevent_monitor_close(struct uevent_monitor *m);

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

/* ===== rtnl.c: one rtnetlink request and its answer ===================== */
/* Sends req on a NETLINK_ROUTE socket of its own and reads the first answer
 * (up to size bytes) into reply; *got is its length. -errno. */
int rtnl_transact(const void *req, size_t len, void *reply, size_t size, size_t *got);
/* The answer to an RTM_GETLINK: 0 when msg is one RTM_NEWLINK with its
 * ifinfomsg; the kernel's -errno for an NLMSG_ERROR; -EBADMSG otherwise. */
int rtnl_link_reply(const void *msg, size_t len);
/* A request sent with NLM_F_ACK: 0 for the ACK, or the kernel's -errno. */
int rtnl_transact_ack(const void *req, size_t len);

#endif
