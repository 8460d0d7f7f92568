// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Puts a Linux kernel, its initrd and command line into guest RAM and writes
 * the zero page: the file side of the boot protocol (bootparams.c is the
 * pure side). Layout: kernel at 1 MiB (startup_64 moves itself to where it
 * wants, boot.rst "64-bit BOOT PROTOCOL"), initrd as high as low RAM and
 * initrd_addr_max allow, command line and zero page at fixed low addresses.
 */
#include "vmm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The biggest kernel file passvm reads (Debian's is ~8 MiB). */
#define KERNEL_MAX_BYTES (256ULL << 20)

static int read_whole(int fd, uint8_t *buf, uint64_t size)
{
	uint64_t done = 0;
	while (done < size) {
		ssize_t n = pread(fd, buf + done, size - done, (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* the file shrank under us */
		done += (uint64_t)n;
	}
	return 0;
}

/* Opens a regular file for reading; -EISDIR/-EINVAL for anything else. */
static int open_regular(const char *path, uint64_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	}
	*size = (uint64_t)st.st_size;
	return fd;
}

static int load_initrd(struct vmm_guest_memory *mem, const char *path,
		       const struct vmm_bzimage *img, struct vmm_boot_images *images)
{
	uint64_t size;
	int fd = open_regular(path, &size);
	if (fd < 0)
		return fd;
	uint64_t base = VMM_BOOT_KERNEL_GPA;
	if (img->hdr.pref_address > base)
		base = img->hdr.pref_address;
	int r = vmm_initrd_place(&mem->map, img->hdr.initrd_addr_max,
				 base + img->hdr.init_size, size, &images->initrd_gpa);
	uint8_t *dst = r < 0 ? NULL : vmm_gpa_to_host(mem, images->initrd_gpa, size);
	if (r == 0 && !dst)
		r = -ENOSPC;
	if (r == 0)
		r = read_whole(fd, dst, size);
	close(fd);
	images->initrd_bytes = size;
	return r;
}

int vmm_linux_load(struct vmm_guest_memory *mem, const char *kernel_path,
		   const char *initrd_path, const char *cmdline, uint64_t rsdp_gpa,
		   struct vmm_boot_entry *entry, enum vmm_load_object *failed)
{
	struct vmm_bzimage img;
	struct vmm_boot_images images = { .rsdp_gpa = rsdp_gpa };
	uint8_t *file = NULL;
	uint64_t size = 0;
	int r;

	*failed = VMM_LOAD_KERNEL;
	int fd = open_regular(kernel_path, &size);
	if (fd < 0)
		return fd;
	if (size > KERNEL_MAX_BYTES) {
		r = -EFBIG;
		goto out;
	}
	file = malloc(size ? size : 1);
	if (!file) {
		r = -ENOMEM;
		goto out;
	}
	r = read_whole(fd, file, size);
	if (r < 0)
		goto out;
	r = vmm_bzimage_parse(file, size, &img);
	if (r < 0)
		goto out;
	/* startup_64 moves the kernel to max(load address, pref_address) and
	 * decompresses it there; it needs init_size bytes of RAM from that
	 * point (boot.rst, "init_size"). */
	uint64_t run_base = VMM_BOOT_KERNEL_GPA;
	if (img.hdr.pref_address > run_base)
		run_base = img.hdr.pref_address;
	uint8_t *dst = vmm_gpa_to_host(mem, VMM_BOOT_KERNEL_GPA, img.kernel_bytes);
	if (!dst || !vmm_gpa_to_host(mem, run_base, img.hdr.init_size)) {
		r = -ENOSPC;
		goto out;
	}
	memcpy(dst, file + img.kernel_offset, img.kernel_bytes);

	*failed = VMM_LOAD_CMDLINE;
	images.cmdline_gpa = VMM_BOOT_CMDLINE_GPA;
	images.cmdline_len = strlen(cmdline);
	if (images.cmdline_len >= VMM_BOOT_CMDLINE_MAX) {
		r = -E2BIG;
		goto out;
	}
	memcpy(vmm_gpa_to_host(mem, VMM_BOOT_CMDLINE_GPA, VMM_BOOT_CMDLINE_MAX),
	       cmdline, images.cmdline_len + 1);

	if (initrd_path) {
		*failed = VMM_LOAD_INITRD;
		r = load_initrd(mem, initrd_path, &img, &images);
		if (r < 0)
			goto out;
	}

	*failed = VMM_LOAD_CMDLINE; /* only the length check can fail now */
	struct boot_params *bp =
		vmm_gpa_to_host(mem, VMM_BOOT_ZERO_PAGE_GPA, sizeof(*bp));
	r = vmm_boot_params_fill(bp, file, &img, &images, &mem->map);
	if (r < 0)
		goto out;
	/* boot.rst: the 64-bit entry is 0x200 past the protected-mode start. */
	entry->rip = VMM_BOOT_KERNEL_GPA + 0x200;
	entry->rsi = VMM_BOOT_ZERO_PAGE_GPA;
out:
	free(file);
	close(fd);
	return r;
}
