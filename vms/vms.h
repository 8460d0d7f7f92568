/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vms/: managed VMs' stored configurations (issue 10, the qm-style CLI).
 *
 * Owns: the VM configuration model (one `key: value` file per VM, ID.conf,
 * docs/cli.md), its parser (errors as "file:line: what is wrong"), the
 * validation of every option value, the atomic writer with its per-VM lock,
 * and reading a VM's run state (pid file under run/passvm/ID through the
 * host root). Must not: start or stop VMs, issue KVM ioctls (vmm/), bind
 * devices (vfio/), or print (callers report).
 */
#ifndef PASSVM_VMS_H
#define PASSVM_VMS_H

#include "common.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define VMS_ID_MIN 100u
#define VMS_ID_MAX 999999999u
#define VMS_MAX_DEV 8          /* net0..7, disk0..7, hostpci0..7 */
#define VMS_LINE_MAX 4096      /* longest config line, newline excluded */
#define VMS_DEFAULT_CONFIG_DIR "/etc/passvm/vms"
#define VMS_CONFIG_DIR_ENV "PASSVM_CONFIG_DIR"

enum vms_fallback { VMS_FALLBACK_AUTO, VMS_FALLBACK_NONE };

struct vms_net {
	bool set;
	char bridge[16];     /* IFNAMSIZ */
	unsigned tag;        /* 0: untagged, else 1..4094 */
	char mac[18];        /* "" : generated at start; else lower-case */
};

struct vms_disk {
	bool set;
	char path[PATH_MAX];
	uint64_t size_gib;   /* 0: the image exists, size not stated */
};

struct vms_hostpci {
	bool set;
	struct pci_addr addr;
	enum vms_fallback fallback;
};

struct vms_config {
	uint32_t id;
	char name[64];
	uint64_t memory_mib;        /* 0 until set: required */
	unsigned cores;             /* 0 until set: required */
	char cpu[16];               /* "" (default) or "host" */
	char ostype[8];             /* "" or "l26", "other" */
	char boot[64];              /* "" or "order=disk0;net0" */
	char kernel[PATH_MAX];
	char initrd[PATH_MAX];
	char cmdline[2048];
	struct vms_net net[VMS_MAX_DEV];
	struct vms_disk disk[VMS_MAX_DEV];
	struct vms_hostpci hostpci[VMS_MAX_DEV];
};

/* "100".."999999999", decimal only, no leading zero. */
int vms_id_parse(const char *text, uint32_t *id);

void vms_config_init(struct vms_config *conf, uint32_t id);
/* Is KEY one the configuration knows ("memory", "net3", ...)? */
bool vms_config_key_known(const char *key);
/* Validates VALUE for KEY and stores it. -EINVAL (unknown key, bad value)
 * with the reason in why ("tag must be 1..4094"). conf is unchanged on error. */
int vms_config_set(struct vms_config *conf, const char *key, const char *value,
		   char *why, size_t why_size);
/* Removes KEY (set --delete). -EINVAL for an unknown or required key. */
int vms_config_delete(struct vms_config *conf, const char *key,
		      char *why, size_t why_size);
/* A complete configuration: name, memory, cores set; boot names a device
 * that exists. */
int vms_config_check(const struct vms_config *conf, char *why, size_t why_size);

/* Parses a whole file's text. name is used in errors: "name:line: why".
 * Rejects unknown and duplicate keys, bad values, lines over VMS_LINE_MAX,
 * NUL bytes, and a configuration that fails vms_config_check. */
int vms_config_parse(const char *text, size_t size, const char *name,
		     uint32_t id, struct vms_config *conf,
		     char *err, size_t err_size);
/* KEY's value in canonical form: its length, 0 when unset, -EINVAL for an
 * unknown key. */
int vms_config_value(const struct vms_config *conf, const char *key, char *out, size_t size);
/* The canonical text: fixed key order, a header comment. Returns length or
 * -ENOSPC. */
ssize_t vms_config_format(const struct vms_config *conf, char *buf, size_t size);
/* The size of the boot disk (boot order's first disk, else disk0), GiB. */
uint64_t vms_config_bootdisk_gib(const struct vms_config *conf);

/* ---- the store: a directory of ID.conf files ---------------------------- */
struct vms_store {
	int dirfd;
	char path[PATH_MAX];
};
/* dir NULL: $PASSVM_CONFIG_DIR, else /etc/passvm/vms. create: mkdir -p. */
int vms_store_open(struct vms_store *store, const char *dir, bool create);
void vms_store_close(struct vms_store *store);
/* An exclusive flock on .ID.lock; -EBUSY when another command holds it. */
int vms_store_lock(const struct vms_store *store, uint32_t id, int *lock_fd);
void vms_store_unlock(int lock_fd);
bool vms_store_exists(const struct vms_store *store, uint32_t id);
/* -ENOENT when absent; -EINVAL with "path:line: why" in err when bad. */
int vms_store_load(const struct vms_store *store, uint32_t id,
		   struct vms_config *conf, char *err, size_t err_size);
/* Atomic: a temp file, fsync, then link (create_new: -EEXIST if the VM
 * exists) or rename over the old file, then fsync of the directory. */
int vms_store_save(const struct vms_store *store, const struct vms_config *conf,
		   bool create_new);
int vms_store_remove(const struct vms_store *store, uint32_t id);
/* The IDs with an ID.conf, ascending. Names that are not a valid ID are
 * skipped (bad_names counts them). Free with free(). */
int vms_store_list(const struct vms_store *store, uint32_t **ids, size_t *count,
		   size_t *bad_names);

/* ---- disk images passvm created (disk.c) ------------------------------------ */
/* A sparse raw image of size_gib GiB at path; -EEXIST if anything is there. */
int vms_disk_image_create(const char *path, uint64_t size_gib);
/* .ID.images in the store: the images created for VM id. */
int vms_images_add(const struct vms_store *store, uint32_t id, const char *path);
int vms_images_list(const struct vms_store *store, uint32_t id, char ***paths, size_t *count);
int vms_images_forget(const struct vms_store *store, uint32_t id);

/* ---- run state (state.c) --------------------------------------------------- */
#define VMS_RUN_DIR_ENV "PASSVM_RUN_DIR"

enum vms_status { VMS_STOPPED, VMS_RUNNING, VMS_PAUSED };

/* The run directory holding ID/pid, ID/control, ID/console.log and
 * ID/passvm.log: run_dir, else $PASSVM_RUN_DIR, else ROOT/run/passvm. */
struct vms_run {
	struct host_root dir;   /* dirfd -1: does not exist (nothing ran) */
	char path[PATH_MAX];
};
/* create: mkdir the run directory (0700) when missing. */
int vms_run_open(struct vms_run *run, const struct host_root *root, const char *run_dir,
		 bool create);
void vms_run_close(struct vms_run *run);
/* The absolute path of ID/NAME in the run directory. */
int vms_run_file(const struct vms_run *run, uint32_t id, const char *name, char *out,
		 size_t size);
/* Running when ID/pid names a live, non-zombie process (proc/ under root)
 * whose cmdline is `passvm run ... --control .../ID/control`; otherwise
 * stopped, *pid 0, and *stale set when a pid file was left behind. Never
 * VMS_PAUSED: only the VMM knows that (ask its socket). */
enum vms_status vms_status_get(const struct host_root *root, const struct vms_run *run,
			       uint32_t id, pid_t *pid, bool *stale);
/* Removes a stopped VM's ID/pid and ID/control (its logs stay). */
int vms_run_clean(const struct vms_run *run, uint32_t id);
/* destroy --purge: all of RUN/ID, logs included, and the directory. */
int vms_run_purge(const struct vms_run *run, uint32_t id);
const char *vms_status_name(enum vms_status status);

#endif
