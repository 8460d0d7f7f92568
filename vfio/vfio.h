/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio/: VFIO device ownership and the VFIO library.
 *
 * Owns: taking whole IOMMU groups from their host drivers and giving them
 * back (the refusal policy, the write-ahead journal under /run/passvm, the
 * one journaled function through which every host-changing sysfs write goes,
 * restore after a crash), and every ioctl on a VFIO container, group, iommufd
 * or device fd (regions, interrupts, DMA mapping, resets).
 * Must not: issue KVM ioctls (vmm/ does), open /sys, /proc, /dev or /run
 * other than through common/'s host root, print, or exit.
 *
 * Kernel interface: Documentation/driver-api/vfio.rst, include/uapi/linux/vfio.h,
 * Documentation/ABI/testing/sysfs-bus-pci (driver_override, drivers_probe).
 */
#ifndef PASSVM_VFIO_H
#define PASSVM_VFIO_H

#include "common.h"

#include <linux/vfio.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* ======================================================================
 * Ownership: journal
 * ====================================================================== */

/* Where ownership state lives, relative to the host root. */
#define VFIO_JOURNAL_DIR "run/passvm/vfio"

/*
 * The host a journal belongs to. write_attr is the single door to sysfs for
 * changes: host_root_write on a real host; fixture tests put a small model of
 * the kernel's driver core there, so binding and restoring run unchanged
 * against a tree of plain files.
 */
struct vfio_host {
	const struct host_root *root;
	int (*write_attr)(const struct host_root *root, const char *relpath,
			  const char *value);
};

void vfio_host_init(struct vfio_host *host, const struct host_root *root);

/* The changes passvm makes to a PCI function. Names are the journal's. */
enum vfio_change_kind {
	VFIO_CHANGE_OVERRIDE,     /* driver_override := value ("" clears) */
	VFIO_CHANGE_UNBIND,       /* drivers/<value>/unbind := BDF */
	VFIO_CHANGE_BIND,         /* drivers/<value>/bind := BDF */
	VFIO_CHANGE_PROBE,        /* drivers_probe := BDF */
	VFIO_CHANGE_SRIOV_NUMVFS, /* sriov_numvfs := value (sriov/ uses it) */
	VFIO_CHANGE_SRIOV_AUTOPROBE, /* sriov_drivers_autoprobe := 0|1 (sriov/) */
};

struct vfio_change {
	enum vfio_change_kind kind;
	struct pci_addr dev;
	const char *value;
};

const char *vfio_change_name(enum vfio_change_kind kind);

/*
 * THE function through which every host-changing sysfs write goes. Before the
 * write it records, fsync'd: the device's original state (driver,
 * driver_override, sriov_numvfs, sriov_drivers_autoprobe) if this is the
 * first change to it, then the
 * step. Only then does it write. A crash at any point leaves a journal that
 * `vfio_restore` can replay. Honours PASSVM_FAULT (see vfio_fault_check).
 */
int vfio_journal_apply(const struct vfio_host *host, const struct vfio_change *change);

/* What the journal remembers about one device. */
struct vfio_journal_entry {
	struct pci_addr addr;
	char bdf[PCI_ADDR_STRLEN];
	char orig_driver[64];     /* "" = no driver was bound */
	char orig_override[64];   /* "" = unset */
	bool has_numvfs;
	uint64_t orig_numvfs;
	bool has_autoprobe;
	uint64_t orig_autoprobe;  /* sriov_drivers_autoprobe before passvm */
	long long time_s;         /* when it was first changed */
	int pid;                  /* the passvm that first changed it */
	unsigned steps;           /* steps recorded */
	char last_step[96];       /* "override vfio-pci", "unbind e1000e ok" */
};

/* Every journaled device, sorted by address. Free with free(). */
int vfio_journal_list(const struct vfio_host *host,
		      struct vfio_journal_entry **entries, size_t *count);
int vfio_journal_get(const struct vfio_host *host, const struct pci_addr *addr,
		     struct vfio_journal_entry *entry);
/* Drops a device's journal (after it was verified back in its prior state). */
int vfio_journal_forget(const struct vfio_host *host, const struct pci_addr *addr);

/*
 * Per-device locks (flock on run/passvm/vfio/BDF.lock), taken in address
 * order so two passvm processes binding overlapping groups cannot deadlock.
 * Blocks until the other holder is done.
 */
struct vfio_locks {
	int *fds;
	size_t count;
};
int vfio_lock_devices(const struct vfio_host *host, const struct pci_addr *addrs,
		      size_t count, struct vfio_locks *locks);
void vfio_unlock_devices(struct vfio_locks *locks);

/*
 * Fault injection for crash tests: PASSVM_FAULT=WHEN-STEP:N, WHEN being
 * "before" or "after", STEP a vfio_change_name, N the Nth such step in this
 * process (1-based). At that point the process kills itself with SIGKILL,
 * leaving the journal exactly as a crash would.
 */
void vfio_fault_check(const char *when, enum vfio_change_kind kind);

/* ======================================================================
 * Ownership: policy, bind, restore, status
 * ====================================================================== */

/* Why a group member may not be taken. */
enum vfio_use {
	VFIO_USE_FREE,
	VFIO_USE_BRIDGE,   /* a PCI bridge: left on its driver, never bound */
	VFIO_USE_CHIPSET,  /* host bridge, ISA/LPC bridge, SMBus: never taken */
	VFIO_USE_HOST,     /* in use on the host: needs naming or --force */
};

/*
 * The refusal policy's view of one function. The host-use checks (mounted
 * filesystems, up interfaces with addresses, boot VGA) live behind this one
 * call so they can be pointed at iommu-tools/ once it offers them.
 */
int vfio_classify_use(const struct host_root *root, const struct pci_dev_info *dev,
		      enum vfio_use *use, char *why, size_t why_size);

enum vfio_member_action {
	VFIO_MEMBER_BIND,          /* taken from its driver onto vfio-pci */
	VFIO_MEMBER_ALREADY_VFIO,  /* already on vfio-pci: nothing to do */
	VFIO_MEMBER_LEFT_ALONE,    /* a bridge: stays where it is */
	VFIO_MEMBER_REFUSED,       /* blocks the whole group */
};

struct vfio_member {
	struct pci_dev_info info;
	bool named;                 /* the user named it */
	enum vfio_use use;
	enum vfio_member_action action;
	char why[256];              /* the use or refusal reason */
};

struct vfio_group_plan {
	int group;
	struct vfio_member *members;
	size_t count;
};

struct vfio_plan {
	struct vfio_group_plan *groups;
	size_t count;
	size_t refused;             /* members with VFIO_MEMBER_REFUSED */
	bool force;
};

/*
 * Decides what binding the named functions means: their whole groups, and
 * for each member what happens. Changes nothing. -ENODEV: a named function
 * does not exist; -ENXIO: it has no IOMMU group (no IOMMU, or disabled);
 * `bad` receives the offending address in both cases.
 */
int vfio_plan_bind(const struct vfio_host *host, const struct pci_addr *named,
		   size_t count, bool force, struct vfio_plan *plan,
		   struct pci_addr *bad);
void vfio_plan_free(struct vfio_plan *plan);
const char *vfio_member_action_name(enum vfio_member_action action);

/*
 * Carries out a plan with no refusals: locks the members, journals and
 * binds each endpoint with driver_override + drivers_probe, checks it landed
 * on vfio-pci, then waits (libudev, up to timeout_ms) for /dev/vfio/N of each
 * group. On failure it stops, names the device in `failed`, and gives back
 * what this call bound (vfio_restore of those members); *rollback_err is 0
 * when that worked, else the journal keeps them for `passvm vfio restore`.
 * A crash leaves everything to vfio_restore.
 */
int vfio_bind_apply(const struct vfio_host *host, const struct vfio_plan *plan,
		    int timeout_ms, struct pci_addr *failed, int *rollback_err);

/* Waits for dev/vfio/GROUP to exist, via libudev on a live host. */
int vfio_wait_group_node(const struct host_root *root, int group, int timeout_ms);

struct vfio_restore_result {
	struct pci_addr addr;
	char bdf[PCI_ADDR_STRLEN];
	char from[64];             /* driver before restore */
	char to[64];               /* the original driver restored */
	int err;                   /* 0, or why this device is not back */
	bool vanished;             /* gone from sysfs (a VF whose PF dropped it) */
	bool not_journaled;        /* named, but passvm had not changed it */
};

/*
 * Puts every journaled device (or the listed ones) back: sriov_numvfs, its
 * driver_override and its original driver, each change journaled, then checks
 * and forgets it. Idempotent: nothing journaled is success. Results: one per
 * device handled (free()). Returns the first error; -EBUSY for a device
 * whose group a process still holds open (vfio_group_holders names it).
 */
int vfio_restore(const struct vfio_host *host, const struct pci_addr *addrs,
		 size_t count, struct vfio_restore_result **results,
		 size_t *nresults);

/* Processes holding /dev/vfio/GROUP open (scan of /proc/PID/fd). */
struct vfio_holder {
	int pid;
	char comm[32];
};
int vfio_group_holders(const struct host_root *root, int group,
		       struct vfio_holder **holders, size_t *count);

/* ======================================================================
 * Library: IOMMU backends (type1 container/group, iommufd)
 * ====================================================================== */

struct vfio_iova_window {
	uint64_t start, end;        /* inclusive */
};

struct vfio_iommu;

/* One backend; the table lives in iommu.c. */
struct vfio_iommu_ops {
	const char *name;
	/* Opens the IOMMU context and attaches `group`. */
	int (*open)(struct vfio_iommu *io, int group);
	/* Adds another group to the same context (one VM, several devices). */
	int (*attach_group)(struct vfio_iommu *io, int group);
	/* A device fd for BDF in an attached group. */
	int (*device_fd)(struct vfio_iommu *io, const char *bdf, int group);
	int (*dma_map)(struct vfio_iommu *io, uint64_t iova, void *vaddr,
		       uint64_t size, bool writable);
	int (*dma_unmap)(struct vfio_iommu *io, uint64_t iova, uint64_t size);
	void (*close)(struct vfio_iommu *io);
};

#define VFIO_MAX_GROUPS 8
#define VFIO_MAX_IOVA_RANGES 16

struct vfio_iommu {
	const struct vfio_iommu_ops *ops;
	const struct host_root *root;
	int container_fd;           /* type1: /dev/vfio/vfio; iommufd: /dev/iommu */
	int group_fds[VFIO_MAX_GROUPS];
	int groups[VFIO_MAX_GROUPS];
	size_t ngroups;
	uint32_t ioas_id;           /* iommufd only */
	uint64_t pgsize_bitmap;
	struct vfio_iova_window iova[VFIO_MAX_IOVA_RANGES];
	size_t niova;
	bool has_dma_limit;
	uint32_t dma_avail;         /* DMA mappings the kernel will still take */
	uint64_t mapped_bytes;
	char why[384];              /* explanation of the last failure */
};

enum vfio_backend { VFIO_BACKEND_AUTO, VFIO_BACKEND_TYPE1, VFIO_BACKEND_IOMMUFD };

/* Whether this build has the iommufd backend (linux/iommufd.h was found). */
bool vfio_iommufd_built(void);

/*
 * Opens an IOMMU context for `group`. On failure io->why explains it in
 * words (no interrupt remapping, no type1 v2, group not viable...).
 */
int vfio_iommu_open(struct vfio_iommu *io, const struct host_root *root,
		    enum vfio_backend backend, int group);
int vfio_iommu_attach_group(struct vfio_iommu *io, int group);
void vfio_iommu_close(struct vfio_iommu *io);
/*
 * Maps [vaddr, vaddr+size) at iova for device DMA. Refuses (-ERANGE) a range
 * outside the IOVA ranges the kernel reported and (-ENOSPC) a map beyond its
 * DMA-entry limit; an ENOMEM from the kernel is explained against
 * RLIMIT_MEMLOCK with the amount needed.
 */
int vfio_dma_map(struct vfio_iommu *io, uint64_t iova, void *vaddr,
		 uint64_t size, bool writable);
int vfio_dma_unmap(struct vfio_iommu *io, uint64_t iova, uint64_t size);
/* Pure checks, exposed for tests. */
bool vfio_iova_allowed(const struct vfio_iommu *io, uint64_t iova, uint64_t size);
void vfio_explain_memlock(char *buf, size_t size, uint64_t need_bytes,
			  uint64_t limit_bytes);
void vfio_explain_set_iommu_eperm(char *buf, size_t size, const char *unsafe_param);

/* Parses a VFIO_IOMMU_GET_INFO reply with its capability chain. */
int vfio_type1_parse_info(struct vfio_iommu *io, const void *buf, size_t size);

/* ======================================================================
 * Library: devices
 * ====================================================================== */

#define VFIO_MAX_REGIONS 16
#define VFIO_MAX_SPARSE 8

struct vfio_region {
	uint32_t index;
	uint32_t flags;             /* VFIO_REGION_INFO_FLAG_* */
	uint64_t size;
	uint64_t offset;            /* in the device fd */
	bool msix_mappable;         /* VFIO_REGION_INFO_CAP_MSIX_MAPPABLE */
	bool has_sparse;            /* only these areas may be mmap'd */
	uint32_t nsparse;
	struct vfio_region_sparse_mmap_area sparse[VFIO_MAX_SPARSE];
};

struct vfio_device {
	int fd;
	char bdf[PCI_ADDR_STRLEN];
	uint32_t flags;             /* VFIO_DEVICE_FLAGS_* */
	uint32_t num_regions;
	uint32_t num_irqs;
	struct vfio_region regions[VFIO_MAX_REGIONS];
};

int vfio_device_open(struct vfio_device *dev, struct vfio_iommu *io,
		     const struct pci_addr *addr, int group);
void vfio_device_close(struct vfio_device *dev);
/* Parses a VFIO_DEVICE_GET_REGION_INFO reply with its capability chain. */
int vfio_region_parse_info(struct vfio_region *region, const void *buf, size_t size);
/* Maps a whole region (or, with sparse areas, the first area holding
 * `offset`); returns the address for region offset 0 of the mapping. */
int vfio_region_mmap(const struct vfio_device *dev, uint32_t index,
		     uint64_t offset, uint64_t size, void **addr);
ssize_t vfio_region_read(const struct vfio_device *dev, uint32_t index,
			 uint64_t offset, void *buf, size_t size);
ssize_t vfio_region_write(const struct vfio_device *dev, uint32_t index,
			  uint64_t offset, const void *buf, size_t size);
int vfio_config_read16(const struct vfio_device *dev, uint32_t offset, uint16_t *val);
int vfio_config_write16(const struct vfio_device *dev, uint32_t offset, uint16_t val);
/* Sets Memory Space and Bus Master in the command register: vfio-pci hands
 * the device over with bus mastering off, and a device that is to DMA
 * (queues, MSI-X writes) needs it on. */
int vfio_device_enable_bus_master(const struct vfio_device *dev);

int vfio_device_reset(const struct vfio_device *dev);
/* VFIO_DEVICE_PCI_HOT_RESET of the device's slot/bus, given the group fds
 * the caller holds (the kernel requires every affected group). */
int vfio_device_hot_reset(const struct vfio_device *dev, const struct vfio_iommu *io);

/* ---- interrupts ---- */
int vfio_irq_info(const struct vfio_device *dev, uint32_t index,
		  struct vfio_irq_info *info);
/* Triggers of vectors [start, start+count) become these eventfds (-1: none). */
int vfio_irq_set_eventfds(const struct vfio_device *dev, uint32_t index,
			  uint32_t start, uint32_t count, const int *fds);
/* Tears down every vector of an interrupt index. */
int vfio_irq_disable(const struct vfio_device *dev, uint32_t index);
/* INTx: the eventfd the kernel reads to unmask a level interrupt. */
int vfio_irq_intx_unmask_eventfd(const struct vfio_device *dev, int fd);
int vfio_irq_intx_unmask(const struct vfio_device *dev);

#endif
