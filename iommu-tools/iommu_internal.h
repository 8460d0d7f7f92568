/* SPDX-License-Identifier: GPL-2.0-or-later */
/* iommu-tools/ private: what the report builder hands the checks. */
#ifndef PASSVM_IOMMU_INTERNAL_H
#define PASSVM_IOMMU_INTERNAL_H

#include "iommu_tools.h"

struct iommu_host_ctx {
	const struct host_root *root;
	const struct iommu_check_options *opts;
	const struct iommu_host_facts *facts;
	const struct kcmdline *cmdline;     /* NULL when unreadable */
	int cmdline_err;
	const struct cpuinfo *cpu;          /* NULL when unreadable */
	int cpu_err;
	struct iommu_report *report;        /* devices and groups already read */
};

/* Reads a whole file (text, NUL-terminated, trailing newline kept).
 * Returns malloc'd text or NULL with *err set. */
char *iommu_read_text(const struct host_root *root, const char *path, size_t max, int *err);
/* Reads up to size bytes of a binary file. */
ssize_t iommu_read_binary(const struct host_root *root, const char *path,
			  uint8_t *buf, size_t size);
/* "needs root" for EACCES/EPERM, else the errno text. */
const char *iommu_err_text(int err);
bool iommu_err_is_perm(int err);
/* "16 GiB", "256 MiB", "4 KiB", "512 B" */
void iommu_format_size(uint64_t bytes, char *out, size_t size);

/* device_checks.c: reads one device's details, then decides. */
int iommu_device_read(const struct host_root *root, struct iommu_device *d);
void iommu_device_acs_path(const struct host_root *root, const struct iommu_report *r,
			   struct iommu_device *d);
void iommu_device_decide(struct iommu_report *r, size_t index);
size_t iommu_report_find(const struct iommu_report *r, const struct pci_addr *a);

#endif
