// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * NVMe VFs: resources through Virtualization Management.
 *
 * An NVMe PF that supports SR-IOV with flexible resources (NVMe Base
 * Specification 2.0, 8.26 "Virtualization Enhancements") creates VFs whose
 * secondary controllers start Offline with no queue (VQ) or interrupt (VI)
 * resources: a VF probed in that state fails ("Device not ready; aborting
 * initialisation, CSTS=0x2" from Linux's nvme driver, seen in the lab). The
 * primary controller assigns each secondary controller resources with the
 * Virtualization Management admin command (opcode 1Ch, 5.22) and brings it
 * Online. Secondary controller IDs come from Identify CNS 15h (Secondary
 * Controller List, Figure 287); the pool and per-VF limits from CNS 14h
 * (Primary Controller Capabilities, Figure 286).
 *
 * The commands go through the PF's admin passthrough (/dev/nvmeN,
 * NVME_IOCTL_ADMIN_CMD, include/uapi/linux/nvme_ioctl.h), a device node the
 * host root opens. No sysfs is written here; setting sriov_numvfs to 0 drops
 * the assignments anyway (LAB.md; QEMU hw/nvme/ctrl.c), so a crash between
 * provisioning and success leaves nothing that vfio_restore has to undo.
 *
 * Tested in the lab against QEMU 7.2's nvme with sriov_max_vfs=2,
 * sriov_vq_flexible=4, sriov_vi_flexible=2 (tests/hw/sriov).
 */
#include "sriov.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nvme_ioctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define NVME_ADMIN_IDENTIFY 0x06
#define NVME_ADMIN_VIRT_MGMT 0x1c
#define NVME_IDENTIFY_CNS_CTRL 0x01
#define NVME_IDENTIFY_CNS_PRIMARY_CAPS 0x14
#define NVME_IDENTIFY_CNS_SECONDARY_LIST 0x15
/* Virtualization Management actions (CDW10 bits 3:0) and resource types
 * (bits 10:8), Figure 424/425. */
#define VIRT_ACT_SEC_OFFLINE 0x7
#define VIRT_ACT_SEC_ASSIGN 0x8
#define VIRT_ACT_SEC_ONLINE 0x9
#define VIRT_RT_VQ 0x0
#define VIRT_RT_VI 0x1
/* Identify Controller OACS (bytes 257:256) bit 7: Virtualization Management
 * supported. */
#define OACS_VIRT_MGMT (1u << 7)
#define NVME_PAGE 4096

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

int nvme_parse_secondary_list(const void *page, size_t size,
			      struct nvme_secondary_ctrl *out, size_t max, size_t *count)
{
	const uint8_t *p = page;
	*count = 0;
	if (size < 32)
		return -EBADMSG;
	size_t n = p[0]; /* NUMID: entries that follow, at most 127 */
	if (n > 127 || 32 + n * 32 > size)
		return -EBADMSG;
	for (size_t i = 0; i < n && *count < max; i++) {
		const uint8_t *e = p + 32 + i * 32;
		out[*count] = (struct nvme_secondary_ctrl){
			.scid = le16(e + 0),
			.pcid = le16(e + 2),
			.scs = e[4],
			.vfn = le16(e + 8),
			.nvq = le16(e + 10),
			.nvi = le16(e + 12),
		};
		(*count)++;
	}
	return 0;
}

static int admin_open(const struct host_root *root, const struct sriov_pf *pf)
{
	char path[64];
	if (!pf->nvme_ctrl[0])
		return -ENODEV;
	snprintf(path, sizeof(path), "dev/%s", pf->nvme_ctrl);
	return host_root_openat(root, path, O_RDWR);
}

/* One admin command; returns 0, -errno from the ioctl, or -EREMOTEIO with
 * the NVMe status in *status. */
static int admin_cmd(int fd, uint8_t opcode, uint32_t cdw10, uint32_t cdw11,
		     void *data, uint32_t len, uint32_t *result, int *status)
{
	struct nvme_admin_cmd cmd = {
		.opcode = opcode,
		.addr = (uint64_t)(uintptr_t)data,
		.data_len = len,
		.cdw10 = cdw10,
		.cdw11 = cdw11,
		.timeout_ms = 5000,
	};
	int r = ioctl(fd, NVME_IOCTL_ADMIN_CMD, &cmd);
	if (r < 0)
		return -errno;
	if (status)
		*status = r;
	if (result)
		*result = cmd.result;
	return r > 0 ? -EREMOTEIO : 0;
}

static int identify(int fd, uint8_t cns, uint16_t cntid, uint8_t *page, int *status)
{
	memset(page, 0, NVME_PAGE);
	return admin_cmd(fd, NVME_ADMIN_IDENTIFY, (uint32_t)cntid << 16 | cns, 0, page,
			 NVME_PAGE, NULL, status);
}

static int virt_mgmt(int fd, uint8_t action, uint8_t rt, uint16_t cntlid,
		     uint16_t nr, int *status)
{
	return admin_cmd(fd, NVME_ADMIN_VIRT_MGMT,
			 (uint32_t)cntlid << 16 | (uint32_t)rt << 8 | action, nr, NULL, 0,
			 NULL, status);
}

/* The secondary controller of each VF index 0..count-1 (VFN is 1-based). */
static int secondary_for_vfs(int fd, unsigned count, struct nvme_secondary_ctrl *sec,
			     char *why, size_t why_size)
{
	uint8_t *page = malloc(NVME_PAGE);
	struct nvme_secondary_ctrl list[127];
	size_t n;
	int status = 0;
	if (!page)
		return -ENOMEM;
	int r = identify(fd, NVME_IDENTIFY_CNS_SECONDARY_LIST, 0, page, &status);
	if (r == 0)
		r = nvme_parse_secondary_list(page, NVME_PAGE, list, 127, &n);
	free(page);
	if (r < 0) {
		snprintf(why, why_size, "Identify Secondary Controller List failed (%s, status 0x%x)",
			 strerror(-r), status);
		return r;
	}
	for (unsigned i = 0; i < count; i++) {
		bool found = false;
		for (size_t j = 0; j < n && !found; j++) {
			if (list[j].vfn == i + 1) {
				sec[i] = list[j];
				found = true;
			}
		}
		if (!found) {
			snprintf(why, why_size, "no secondary controller for VF %u in the "
				 "Secondary Controller List", i);
			return -ENOENT;
		}
	}
	return 0;
}

static bool nvme_matches(const struct sriov_pf *pf)
{
	/* Class 01 08 02: mass storage, NVM, NVM Express; only with a
	 * controller node the admin commands can go through. */
	return (pf->info.class_code & 0xffffff) == 0x010802 && pf->nvme_ctrl[0];
}

/* Defaults: an even share of the flexible pool, within the per-VF maximum
 * (VQFRSM / VIFRSM). A VF needs at least 2 queues (admin + one I/O pair)
 * and 1 interrupt to go online (spec 8.26.4; QEMU checks the same). */
static void default_resources(const uint8_t *caps, unsigned count,
			      const struct sriov_provision_params *params,
			      uint32_t *queues, uint32_t *interrupts)
{
	uint32_t vqfrt = le32(caps + 32), vqfrsm = le16(caps + 44);
	uint32_t vifrt = le32(caps + 64), vifrsm = le16(caps + 76);
	uint32_t q = count ? vqfrt / count : 0, v = count ? vifrt / count : 0;
	if (vqfrsm && q > vqfrsm)
		q = vqfrsm;
	if (vifrsm && v > vifrsm)
		v = vifrsm;
	*queues = params->nvme_queues ? params->nvme_queues : (q < 2 ? 2 : q);
	*interrupts = params->nvme_interrupts ? params->nvme_interrupts : (v < 1 ? 1 : v);
}

static int nvme_provision(const struct host_root *root, const struct sriov_pf *pf,
			  unsigned count, const struct sriov_provision_params *params,
			  struct sriov_vf_provision *out, char *why, size_t why_size)
{
	struct nvme_secondary_ctrl sec[SRIOV_MAX_VFS];
	uint8_t *page = malloc(NVME_PAGE);
	int status = 0, r;
	if (!page)
		return -ENOMEM;
	int fd = admin_open(root, pf);
	if (fd < 0) {
		free(page);
		snprintf(why, why_size, "cannot open /dev/%s for admin commands", pf->nvme_ctrl);
		return fd;
	}
	/*
	 * Whether the controller has Virtualization Management: OACS bit 7
	 * says so, but QEMU 7.2's nvme (the lab's) implements the command
	 * and the Identify CNS 14h/15h pages without setting that bit (it was
	 * added to QEMU later; seen in the lab: OACS 0x000e). So the Primary
	 * Controller Capabilities page decides: a controller with flexible
	 * resources to hand out (VQFRT or VIFRT non-zero) needs provisioning;
	 * one that rejects CNS 14h, or has none, gives its VFs fixed
	 * resources and needs nothing.
	 */
	r = identify(fd, NVME_IDENTIFY_CNS_CTRL, 0, page, &status);
	uint16_t oacs = r == 0 ? le16(page + 256) : 0;
	if (r == 0)
		r = identify(fd, NVME_IDENTIFY_CNS_PRIMARY_CAPS, 0, page, &status);
	if (r == -EREMOTEIO && !(oacs & OACS_VIRT_MGMT)) {
		snprintf(why, why_size, "no Virtualization Management (OACS 0x%04x, Identify CNS "
			 "14h status 0x%x): VFs have fixed resources", oacs, status);
		r = 1;
		goto out;
	}
	if (r < 0) {
		snprintf(why, why_size, "Identify failed on /dev/%s (%s, status 0x%x)",
			 pf->nvme_ctrl, strerror(-r), status);
		goto out;
	}
	if (!le32(page + 32) && !le32(page + 64)) {
		snprintf(why, why_size, "no flexible resources (VQFRT = VIFRT = 0): VFs have "
			 "fixed resources");
		r = 1;
		goto out;
	}
	uint32_t queues, interrupts;
	default_resources(page, count, params, &queues, &interrupts);
	r = secondary_for_vfs(fd, count, sec, why, why_size);
	for (unsigned i = 0; r == 0 && i < count; i++) {
		out[i] = (struct sriov_vf_provision){ .vf_index = i, .secondary_id = sec[i].scid,
						      .queues = queues, .interrupts = interrupts };
		if ((sec[i].scs & 1) && sec[i].nvq == queues && sec[i].nvi == interrupts) {
			out[i].online = true;
			continue; /* already as asked */
		}
		/* Resources change only while the secondary is Offline. */
		if (sec[i].scs & 1)
			r = virt_mgmt(fd, VIRT_ACT_SEC_OFFLINE, VIRT_RT_VQ, sec[i].scid, 0, &status);
		const char *what = "offline";
		if (r == 0) {
			what = "assign queues";
			r = virt_mgmt(fd, VIRT_ACT_SEC_ASSIGN, VIRT_RT_VQ, sec[i].scid,
				      (uint16_t)queues, &status);
		}
		if (r == 0) {
			what = "assign interrupts";
			r = virt_mgmt(fd, VIRT_ACT_SEC_ASSIGN, VIRT_RT_VI, sec[i].scid,
				      (uint16_t)interrupts, &status);
		}
		if (r == 0) {
			what = "online";
			r = virt_mgmt(fd, VIRT_ACT_SEC_ONLINE, VIRT_RT_VQ, sec[i].scid, 0, &status);
		}
		if (r < 0)
			snprintf(why, why_size, "Virtualization Management (%s) of secondary "
				 "controller %u (VF %u) failed: %s, NVMe status 0x%x", what,
				 sec[i].scid, i, strerror(-r), status);
		else
			out[i].online = true;
	}
out:
	close(fd);
	free(page);
	return r;
}

static int nvme_release(const struct host_root *root, const struct sriov_pf *pf,
			unsigned count, char *why, size_t why_size)
{
	struct nvme_secondary_ctrl sec[SRIOV_MAX_VFS];
	int status = 0;
	int fd = admin_open(root, pf);
	if (fd < 0) {
		snprintf(why, why_size, "cannot open /dev/%s for admin commands", pf->nvme_ctrl);
		return fd;
	}
	int r = secondary_for_vfs(fd, count, sec, why, why_size);
	if (r == -EREMOTEIO) /* no Virtualization Management: nothing was assigned */
		r = 0, count = 0;
	for (unsigned i = 0; r == 0 && i < count; i++) {
		if (!(sec[i].scs & 1) && !sec[i].nvq && !sec[i].nvi)
			continue;
		/* Offline gives the flexible resources back to the pool
		 * (8.26.3); assigning 0 says so explicitly for controllers
		 * that keep them. */
		r = virt_mgmt(fd, VIRT_ACT_SEC_OFFLINE, VIRT_RT_VQ, sec[i].scid, 0, &status);
		if (r == 0)
			r = virt_mgmt(fd, VIRT_ACT_SEC_ASSIGN, VIRT_RT_VQ, sec[i].scid, 0, &status);
		if (r == 0)
			r = virt_mgmt(fd, VIRT_ACT_SEC_ASSIGN, VIRT_RT_VI, sec[i].scid, 0, &status);
		if (r < 0)
			snprintf(why, why_size, "releasing secondary controller %u (VF %u) "
				 "failed: %s, NVMe status 0x%x", sec[i].scid, i, strerror(-r), status);
	}
	close(fd);
	return r;
}

static int nvme_query(const struct host_root *root, const struct sriov_pf *pf,
		      unsigned count, struct sriov_vf_provision *out)
{
	struct nvme_secondary_ctrl sec[SRIOV_MAX_VFS];
	char why[160];
	int fd = admin_open(root, pf);
	if (fd < 0)
		return fd;
	int r = secondary_for_vfs(fd, count, sec, why, sizeof(why));
	close(fd);
	for (unsigned i = 0; r == 0 && i < count; i++)
		out[i] = (struct sriov_vf_provision){ .vf_index = i, .secondary_id = sec[i].scid,
						      .queues = sec[i].nvq, .interrupts = sec[i].nvi,
						      .online = sec[i].scs & 1 };
	return r;
}

const struct sriov_provisioner sriov_provisioner_nvme = {
	.name = "nvme-virt-mgmt",
	.matches = nvme_matches,
	.provision = nvme_provision,
	.release = nvme_release,
	.query = nvme_query,
};
