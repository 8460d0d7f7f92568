// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz target: the control socket's request parser (vmm/control_proto.c),
 * which reads whatever a client sends. Beyond "no crash": a refused line
 * has a reason; an accepted request names a known command, and the error
 * reply built from any reason parses back as a flat JSON object carrying
 * that reason unchanged (what the VMM sends, clients can read).
 */
#include "control.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum vmm_control_cmd cmd;
	char why[256] = "";
	int r = vmm_control_parse_request((const char *)data, size, &cmd, why, sizeof(why));
	if (r < 0 && why[0] == '\0')
		abort();
	if (r == 0 && strcmp(vmm_control_cmd_name(cmd), "?") == 0)
		abort();
	/* Quoting arbitrary text (here: the input as a C string) round-trips. */
	char text[128]; /* reasons are shorter; 6 bytes each quoted still fits */
	size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
	memcpy(text, data, n);
	text[n] = '\0';
	char line[VMM_CONTROL_LINE_MAX];
	int len = vmm_control_format_error(text, line, sizeof(line));
	if (len <= 0)
		abort();
	struct vmm_json_field f[4];
	size_t nf;
	if (vmm_json_object_parse(line, (size_t)len - 1, f, 4, &nf, why, sizeof(why)) < 0)
		abort();
	const struct vmm_json_field *e = vmm_json_find(f, nf, "error");
	if (!e || strcmp(e->value, text) != 0)
		abort();
	return 0;
}
