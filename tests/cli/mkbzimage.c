// SPDX-License-Identifier: GPL-2.0-or-later
/* mkbzimage OUT: writes a synthetic bzImage whose 64-bit entry point halts
 * in a loop, so `passvm run` gets past loading a kernel on any machine with
 * /dev/kvm and stays up until interrupted (tests of start-up phases that come
 * after loading, such as --net). */
#include "../bzimage_synth.h"

#include <stdio.h>

int main(int argc, char **argv)
{
	/* The 64-bit entry point is startup_32 + 0x200 (boot.rst, "64-bit
	 * boot protocol"): hlt; jmp back to the hlt. */
	static uint8_t halt_loop[0x203];
	size_t size;
	halt_loop[0x200] = 0xf4;
	halt_loop[0x201] = 0xeb;
	halt_loop[0x202] = 0xfd;
	if (argc != 2) {
		fprintf(stderr, "usage: mkbzimage OUT\n");
		return 2;
	}
	uint8_t *img = synth_bzimage(halt_loop, sizeof(halt_loop), 0x020f, &size);
	FILE *f = img ? fopen(argv[1], "wb") : NULL;
	if (!f || fwrite(img, 1, size, f) != size || fclose(f) != 0) {
		perror(argv[1]);
		return 1;
	}
	free(img);
	return 0;
}
