// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz target: the VM config parser (vms/parse.c), which reads ID.conf
 * files an administrator may edit by hand. Beyond "no crash": an accepted
 * config must pass vms_config_check, and its canonical text must parse
 * back to the same config and format to the same text (the writer never
 * writes what the parser rejects); a rejected one must say "f:".
 */
#include "vms.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vms_config conf, again;
	static char text[64 * 1024], text2[64 * 1024];
	char err[512], why[256];
	int r = vms_config_parse((const char *)data, size, "f", 100, &conf, err, sizeof(err));
	if (r < 0) {
		if (strncmp(err, "f:", 2) != 0)
			abort();
		return 0;
	}
	if (vms_config_check(&conf, why, sizeof(why)) < 0)
		abort();
	ssize_t len = vms_config_format(&conf, text, sizeof(text));
	if (len < 0)
		abort();
	if (vms_config_parse(text, (size_t)len, "g", 100, &again, err, sizeof(err)) < 0)
		abort();
	if (memcmp(&conf, &again, sizeof(conf)) != 0)
		abort();
	if (vms_config_format(&again, text2, sizeof(text2)) != len || memcmp(text, text2, (size_t)len) != 0)
		abort();
	return 0;
}
