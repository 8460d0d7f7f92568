/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sriov/: SR-IOV virtual functions: discover, create, provision, configure,
 * remove, and make the host match a declarative file.
 *
 * Owns: the SR-IOV view of PFs and VFs (sriov_* attributes, virtfnN links),
 * the order of the steps the kernel demands when changing a VF count,
 * device-class provisioning of VFs (NVMe Virtualization Management) through
 * the PF's admin queue, VF network settings over rtnetlink on the PF, and the
 * sriov.conf format with its plan.
 * Must not: write sysfs other than through vfio_journal_apply (vfio/), bind
 * VFs to vfio-pci other than through vfio_plan_bind/vfio_bind_apply, open
 * /sys, /proc, /dev other than through common/'s host root, print, or exit.
 *
 * Kernel interface: Documentation/ABI/testing/sysfs-bus-pci (sriov_totalvfs,
 * sriov_numvfs, sriov_drivers_autoprobe, sriov_offset, sriov_stride,
 * sriov_vf_device), Documentation/PCI/pci-iov-howto.rst, drivers/pci/iov.c.
 */
#ifndef PASSVM_SRIOV_H
#define PASSVM_SRIOV_H

#include "common.h"
#include "vfio.h"

#include <stdbool.h>
#include <stdint.h>

#define SRIOV_MAX_VFS 256
#define SRIOV_NAME_LEN 32

/* ======================================================================
 * Discovery
 * ====================================================================== */

struct sriov_vf {
	struct pci_dev_info info;
	unsigned index;             /* N of the PF's virtfnN link */
	char netdev[SRIOV_NAME_LEN]; /* "" when the VF has no netdev */
};

struct sriov_pf {
	struct pci_dev_info info;
	uint32_t total_vfs;
	uint32_t num_vfs;
	bool autoprobe;             /* sriov_drivers_autoprobe */
	char netdev[SRIOV_NAME_LEN]; /* first netdev of the PF, "" if none */
	char nvme_ctrl[SRIOV_NAME_LEN]; /* "nvme0" for an NVMe PF with a controller */
	char serial[64];            /* NVMe serial; "" when unknown */
	char pci_path[128];         /* stable path, see sriov_pci_path */
	struct sriov_vf *vfs;       /* num_vfs entries found through virtfnN */
	size_t nvfs;
};

/*
 * Reads one PF and its VFs. -ENODEV: no such PCI function; -EOPNOTSUPP: it
 * has no SR-IOV capability (no sriov_totalvfs); -EXDEV: it is a VF (`pf`
 * still gets its info, physfn names its PF). Free with sriov_pf_free.
 */
int sriov_pf_read(const struct host_root *root, const struct pci_addr *addr,
		  struct sriov_pf *pf);
void sriov_pf_free(struct sriov_pf *pf);
/* Every SR-IOV capable PF, sorted by address. Free with sriov_pf_list_free. */
int sriov_pf_list(const struct host_root *root, struct sriov_pf **pfs, size_t *count);
void sriov_pf_list_free(struct sriov_pf *pfs, size_t count);

/*
 * The stable PCI path of a function: its root bus and the device.function of
 * each hop from the root ("pci0000:00/05.0/00.0"). Unlike the BDF it does not
 * change when bus numbers are reassigned (a card added behind another
 * bridge, firmware renumbering), only when the card moves to another slot.
 */
int sriov_pci_path(const struct host_root *root, const char *bdf, char *buf, size_t size);

/* ======================================================================
 * Device-class provisioning: VFs that need resources before they work
 * ====================================================================== */

struct sriov_provision_params {
	uint32_t nvme_queues;       /* 0: default (flexible resources / VFs) */
	uint32_t nvme_interrupts;   /* 0: default */
};

/* What one provisioner did or found, per VF. */
struct sriov_vf_provision {
	unsigned vf_index;
	uint16_t secondary_id;      /* NVMe secondary controller ID */
	uint32_t queues, interrupts;
	bool online;
};

/*
 * One device class whose VFs need the PF to hand them resources. The table
 * lives in provision.c; each entry is one file (nvme_virt.c).
 */
struct sriov_provisioner {
	const char *name;
	bool (*matches)(const struct sriov_pf *pf);
	/* Assigns resources to VFs 0..count-1 and brings them online.
	 * Returns 1 when this device's VFs need nothing (why says so). */
	int (*provision)(const struct host_root *root, const struct sriov_pf *pf,
			 unsigned count, const struct sriov_provision_params *params,
			 struct sriov_vf_provision *out, char *why, size_t why_size);
	/* Takes VFs 0..count-1 offline and gives their resources back. */
	int (*release)(const struct host_root *root, const struct sriov_pf *pf,
		       unsigned count, char *why, size_t why_size);
	/* The current state of VFs 0..count-1 (for list and apply). */
	int (*query)(const struct host_root *root, const struct sriov_pf *pf,
		     unsigned count, struct sriov_vf_provision *out);
};

extern const struct sriov_provisioner sriov_provisioner_nvme;

/* The provisioner for this PF, or NULL when its VFs work as created. */
const struct sriov_provisioner *sriov_provisioner_for(const struct sriov_pf *pf);

/* ---- NVMe Virtualization Management, exposed for tests ---- */
/* Secondary Controller List (Identify CNS 15h), NVMe base spec 2.0 5.17.2.1
 * Figure 287: a 4096-byte page, byte 0 the number of entries, entries of 32
 * bytes from byte 32. */
struct nvme_secondary_ctrl {
	uint16_t scid;              /* secondary controller identifier */
	uint16_t pcid;              /* primary controller identifier */
	uint8_t scs;                /* bit 0: online */
	uint16_t vfn;               /* virtual function number, 1-based */
	uint16_t nvq, nvi;          /* flexible queue / interrupt resources assigned */
};
int nvme_parse_secondary_list(const void *page, size_t size,
			      struct nvme_secondary_ctrl *out, size_t max, size_t *count);

/* ======================================================================
 * Network VFs: settings over rtnetlink on the PF's netdev
 * (RTM_SETLINK/RTM_GETLINK with IFLA_VFINFO_LIST, include/uapi/linux/if_link.h;
 * what `ip link set PF vf N ...` sends). Messages are built and parsed with
 * libmnl; the builders and parser are pure, for tests.
 * ====================================================================== */

enum sriov_net_key {
	SRIOV_NET_MAC = 1 << 0,
	SRIOV_NET_VLAN = 1 << 1,
	SRIOV_NET_QOS = 1 << 2,
	SRIOV_NET_TRUST = 1 << 3,
	SRIOV_NET_SPOOFCHK = 1 << 4,
	SRIOV_NET_LINK = 1 << 5,
	SRIOV_NET_RATE = 1 << 6,
};

/* The settings of one VF: `has` says which fields are meant. */
struct sriov_net_vf {
	unsigned vf;
	unsigned has;               /* SRIOV_NET_* */
	uint8_t mac[6];
	uint16_t vlan;              /* 0..4095, 0 = none */
	uint8_t qos;                /* 802.1p priority 0..7, needs a VLAN */
	bool trust, spoofchk;
	uint32_t link_state;        /* IFLA_VF_LINK_STATE_AUTO/ENABLE/DISABLE */
	uint32_t max_tx_rate;       /* Mbit/s, 0 = unlimited */
};

/* "mac", "vlan", ... -> SRIOV_NET_*, 0 if unknown. */
unsigned sriov_net_key_parse(const char *key);
/* Parses KEY=VALUE into s (-ENOENT unknown key, -EINVAL bad value, with
 * `why` saying what is expected). */
int sriov_net_parse_setting(struct sriov_net_vf *s, const char *key, const char *value,
			    char *why, size_t why_size);
/* Cross-field checks (qos without vlan). */
int sriov_net_check(const struct sriov_net_vf *s, char *why, size_t why_size);
void sriov_format_mac(const uint8_t mac[6], char out[18]);
const char *sriov_link_state_name(uint32_t state);
/* Whether `have` already has every setting `want` asks for. */
bool sriov_net_matches(const struct sriov_net_vf *want, const struct sriov_net_vf *have);

/* Builds the RTM_SETLINK request for one VF into buf (at least 512 bytes);
 * returns its length, or -ENOSPC. */
int sriov_net_build_setlink(void *buf, size_t size, int ifindex, uint32_t seq,
			    const struct sriov_net_vf *s);
/* Builds the RTM_GETLINK request asking for the VF list (RTEXT_FILTER_VF). */
int sriov_net_build_getlink(void *buf, size_t size, int ifindex, uint32_t seq);
/* Parses an RTM_NEWLINK reply's IFLA_VFINFO_LIST. */
int sriov_net_parse_link(const void *msg, size_t len, struct sriov_net_vf *out,
			 size_t max, size_t *count);
/* Live host: query and set through a NETLINK_ROUTE socket. */
int sriov_net_query(const char *pf_netdev, struct sriov_net_vf *out, size_t max,
		    size_t *count);
int sriov_net_set(const char *pf_netdev, const struct sriov_net_vf *s);

/* ======================================================================
 * Operations
 * ====================================================================== */

enum sriov_bind {
	SRIOV_BIND_NONE,    /* VFs left without a driver */
	SRIOV_BIND_HOST,    /* the host's own driver (driver core's choice) */
	SRIOV_BIND_VFIO,    /* vfio-pci, through vfio/'s journaled ownership */
};
const char *sriov_bind_name(enum sriov_bind bind);
int sriov_bind_parse(const char *text, enum sriov_bind *bind);

/* What an operation did, for the caller to print (the library prints not). */
#define SRIOV_MAX_NOTES 24
struct sriov_report {
	char notes[SRIOV_MAX_NOTES][160];
	size_t nnotes;
	struct sriov_vf_provision prov[SRIOV_MAX_VFS];
	size_t nprov;
	char why[256];              /* on failure: the detail behind the errno */
	struct pci_addr culprit;    /* on failure: the device it concerns */
	int holder_pid;             /* -EBUSY: the process holding a VF group */
	char holder_comm[32];
};

struct sriov_create_opts {
	unsigned count;
	enum sriov_bind bind;
	struct sriov_provision_params prov;
	int timeout_ms;             /* for the VFs to appear and /dev/vfio/N */
	bool force;                 /* replace VFs in use on the host (not held ones) */
};

/*
 * Makes PF have `count` VFs bound as asked, following the kernel's rules:
 * a non-zero count changes through 0 (drivers/pci/iov.c sriov_numvfs_store
 * returns -EBUSY otherwise); a PF without a driver gets one that implements
 * sriov_configure (its own through drivers_probe, else pci-pf-stub);
 * sriov_drivers_autoprobe is off while VFs are created so no host driver
 * grabs them before they are provisioned or bound, and back as it was after.
 *
 * Every sysfs write is journaled (vfio_journal_apply): a crash in the middle
 * is undone by vfio_restore. On success the PF's journal is dropped: the VF
 * count (and the PF's driver) are the user's intent and stay; the VFs'
 * journals stay, so vfio_restore gives back their bindings only.
 * Errors: -ENODEV, -EOPNOTSUPP, -EXDEV as sriov_pf_read; -ERANGE: count
 * above sriov_totalvfs; -EALREADY: the PF has a journal (passvm's VFIO
 * ownership, or a crashed operation: vfio_restore first); others with
 * report->why.
 */
int sriov_create(const struct vfio_host *host, const struct pci_addr *pf_addr,
		 const struct sriov_create_opts *opts, struct sriov_report *report);

/*
 * Sets PF's VF count to 0 after releasing provisioned resources. Refuses
 * (-EBUSY, report->culprit/holder_*) while a VF's group is held open, and
 * (-EADDRINUSE, report->culprit/why) while a VF is in use on the host unless
 * `force`. Nothing is changed when it refuses.
 */
int sriov_remove(const struct vfio_host *host, const struct pci_addr *pf_addr,
		 bool force, struct sriov_report *report);

/*
 * Binds the VFs of `pf` whose want[vf index] is true as asked, each write
 * journaled; vfio through vfio_plan_bind/vfio_bind_apply (the VFs' journals
 * stay, so vfio_restore gives them back), host and none as lasting changes
 * (their journals are dropped once done). Used by create and by apply.
 */
int sriov_bind_vfs(const struct vfio_host *host, const struct sriov_pf *pf,
		   const bool *want, enum sriov_bind bind, int timeout_ms,
		   struct sriov_report *report);

/* ======================================================================
 * sriov.conf: the declarative file, and the plan that makes the host match
 * ====================================================================== */

#define SRIOV_CONF_PATH "/etc/passvm/sriov.conf"

enum sriov_id_kind {
	SRIOV_ID_PATH,    /* path=pci0000:00/05.0/00.0 (sriov_pci_path) */
	SRIOV_ID_BDF,     /* bdf=0000:02:00.0: moves with bus renumbering */
	SRIOV_ID_SERIAL,  /* serial=S: the NVMe controller's serial number */
	SRIOV_ID_MAC,     /* mac=M: the PF netdev's permanent address */
};

struct sriov_conf_vf {
	struct sriov_net_vf net;    /* net.vf is the VF index */
	int line;
};

struct sriov_conf_pf {
	enum sriov_id_kind id_kind;
	char id[128];
	int line;
	unsigned vfs;
	enum sriov_bind bind;       /* default host */
	struct sriov_provision_params prov;
	struct sriov_conf_vf *vf;
	size_t nvf;
};

struct sriov_conf {
	struct sriov_conf_pf *pfs;
	size_t count;
};

/*
 * Parses the text of a config file. On error returns -EINVAL and writes
 * "NAME:LINE: what is wrong" to err. Free with sriov_conf_free (also after
 * an error).
 */
int sriov_conf_parse(const char *text, size_t len, const char *name,
		     struct sriov_conf *conf, char *err, size_t err_size);
void sriov_conf_free(struct sriov_conf *conf);
const char *sriov_id_kind_name(enum sriov_id_kind kind);

/* What the host has, for one configured PF (built by sriov_observe). */
struct sriov_observed_vf {
	unsigned index;
	char bdf[PCI_ADDR_STRLEN];
	char driver[64];
	bool has_net;
	struct sriov_net_vf net;
	bool has_prov;
	struct sriov_vf_provision prov;
};

struct sriov_observed_pf {
	int found;                  /* matches: 0 none, 1 ok, >1 ambiguous */
	struct pci_addr addr;
	char bdf[PCI_ADDR_STRLEN];
	char netdev[SRIOV_NAME_LEN];
	unsigned num_vfs, total_vfs;
	bool provisionable;
	struct sriov_observed_vf vf[SRIOV_MAX_VFS];
	size_t nvf;
};

/* Looks up each configured PF on the host and reads its state. obs has
 * conf->count entries. */
int sriov_observe(const struct host_root *root, const struct sriov_conf *conf,
		  struct sriov_observed_pf *obs);

enum sriov_action_kind {
	SRIOV_ACT_MISSING,    /* the PF is not on this host (or ambiguous): error */
	SRIOV_ACT_TOO_MANY,   /* more VFs asked than sriov_totalvfs: error */
	SRIOV_ACT_CREATE,     /* sriov_create with count, bind, prov */
	SRIOV_ACT_PROVISION,  /* provision the existing VFs */
	SRIOV_ACT_BIND,       /* rebind one VF */
	SRIOV_ACT_SET,        /* network settings of one VF */
};

struct sriov_action {
	enum sriov_action_kind kind;
	size_t pf;                  /* index into conf->pfs / obs */
	unsigned vf;
	struct sriov_net_vf net;
	char text[200];             /* the plan line */
};

/*
 * Pure: what to do so the host matches the config. Only what differs; a
 * host that matches gives no actions. Free *actions with free().
 */
int sriov_plan(const struct sriov_conf *conf, const struct sriov_observed_pf *obs,
	       struct sriov_action **actions, size_t *count);

/* Internal helpers shared by the operations' files. */
void sriov_note(struct sriov_report *rep, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* One journaled sysfs change (vfio_journal_apply). */
int sriov_apply(const struct vfio_host *host, const struct pci_addr *addr,
		enum vfio_change_kind kind, const char *value);
/* Whether the PF's VFs may go away: -EBUSY (group held open, holder in
 * report) or -EADDRINUSE (in use on the host, unless force). */
int sriov_check_vfs_free(const struct vfio_host *host, const struct sriov_pf *pf,
			 bool force, struct sriov_report *report);

/* Drops the journals of PF's VFs that no longer exist. */
int sriov_forget_vanished_vfs(const struct vfio_host *host, const struct sriov_pf *pf);

/*
 * Waiting for new VFs through libudev: begin listening before writing
 * sriov_numvfs, then wait until virtfn0..count-1 exist and udev (or, with
 * no udevd running, the kernel) has announced each one.
 */
struct sriov_vf_watch {
	const struct host_root *root;
	struct uevent_monitor events; /* events.monitor NULL: a fixture tree */
};
int sriov_vf_watch_begin(const struct host_root *root, struct sriov_vf_watch *w);
int sriov_vf_watch_wait(struct sriov_vf_watch *w, const char *pf_bdf,
			unsigned count, int timeout_ms);
void sriov_vf_watch_end(struct sriov_vf_watch *w);

#endif
