/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Builds a synthetic bzImage in memory: a boot sector and one setup sector
 * carrying a setup header (Documentation/arch/x86/boot.rst) for protocol
 * 2.15 with a 64-bit entry point, then the given protected-mode "kernel".
 * Used by the unit tests of bootparams.c and by the kvm suite's boot test.
 */
#ifndef PASSVM_TESTS_BZIMAGE_SYNTH_H
#define PASSVM_TESTS_BZIMAGE_SYNTH_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SYNTH_SETUP_SECTS 1
#define SYNTH_SETUP_BYTES ((SYNTH_SETUP_SECTS + 1) * 512)
#define SYNTH_CMDLINE_SIZE 2048
#define SYNTH_INIT_SIZE (4u << 20)
#define SYNTH_PREF_ADDRESS 0x1000000u
#define SYNTH_INITRD_ADDR_MAX 0x7fffffffu

static inline void synth_put(uint8_t *p, size_t off, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[off + i] = (uint8_t)(v >> (8 * i));
}

/* Returns a malloc'ed image of *size bytes. */
static inline uint8_t *synth_bzimage(const void *kernel, size_t kernel_bytes,
				     uint16_t version, size_t *size)
{
	size_t pm = (kernel_bytes + 15) & ~(size_t)15;
	*size = SYNTH_SETUP_BYTES + pm;
	uint8_t *f = calloc(1, *size);
	if (!f)
		return NULL;
	f[0x1f1] = SYNTH_SETUP_SECTS;
	synth_put(f, 0x1f4, pm / 16, 4);              /* syssize */
	synth_put(f, 0x1fe, 0xaa55, 2);               /* boot_flag */
	f[0x200] = 0xeb;                              /* jump over the header */
	f[0x201] = 0x6a;                              /* header ends at 0x26c */
	memcpy(f + 0x202, "HdrS", 4);
	synth_put(f, 0x206, version, 2);
	f[0x211] = 0x01;                              /* loadflags: LOADED_HIGH */
	synth_put(f, 0x214, 0x100000, 4);             /* code32_start */
	synth_put(f, 0x22c, SYNTH_INITRD_ADDR_MAX, 4);
	synth_put(f, 0x230, 0x200000, 4);             /* kernel_alignment */
	f[0x234] = 1;                                 /* relocatable_kernel */
	synth_put(f, 0x236, 0x1, 2);                  /* xloadflags: XLF_KERNEL_64 */
	synth_put(f, 0x238, SYNTH_CMDLINE_SIZE, 4);
	synth_put(f, 0x258, SYNTH_PREF_ADDRESS, 8);
	synth_put(f, 0x260, SYNTH_INIT_SIZE, 4);
	memcpy(f + SYNTH_SETUP_BYTES, kernel, kernel_bytes);
	return f;
}

#endif
