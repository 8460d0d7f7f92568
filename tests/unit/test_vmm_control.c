// SPDX-License-Identifier: GPL-2.0-or-later
/* The control socket's line protocol (vmm/control_proto.c): requests that
 * must parse, hostile lines that must be refused with a reason, JSON
 * quoting; the console ring (vmm/console_ring.c); the GED event register. */
#include "control.h"
#include "../testlib.h"

#include <errno.h>
#include <string.h>

static int parse(const char *line, enum vmm_control_cmd *cmd, char *why, size_t size)
{
	return vmm_control_parse_request(line, strlen(line), cmd, why, size);
}

static void accepted(const char *line, enum vmm_control_cmd want)
{
	enum vmm_control_cmd cmd = (enum vmm_control_cmd)-1;
	char why[256] = "";
	int r = parse(line, &cmd, why, sizeof(why));
	if (r != 0)
		fprintf(stderr, "refused %s: %s\n", line, why);
	CHECK_EQ_INT(r, 0);
	CHECK_EQ_INT(cmd, want);
}

static void refused(const char *line, size_t len, const char *why_part)
{
	enum vmm_control_cmd cmd;
	char why[256] = "";
	int r = vmm_control_parse_request(line, len, &cmd, why, sizeof(why));
	CHECK(r < 0);
	if (!strstr(why, why_part))
		fprintf(stderr, "line %.*s: reason '%s', expected '%s'\n", (int)len, line, why, why_part);
	CHECK(strstr(why, why_part) != NULL);
}

static void test_requests(void)
{
	accepted("{\"cmd\":\"status\"}", VMM_CTL_STATUS);
	accepted("  { \"cmd\" : \"pause\" }  ", VMM_CTL_PAUSE);
	accepted("{\"cmd\":\"resume\"}\r", VMM_CTL_RESUME);
	accepted("{\"cmd\":\"shutdown\"}", VMM_CTL_SHUTDOWN);
	accepted("{\"cmd\":\"stop\"}", VMM_CTL_STOP);
	accepted("{\"cmd\":\"reboot\"}", VMM_CTL_REBOOT);
	accepted("{\"cmd\":\"console\"}", VMM_CTL_CONSOLE);
	accepted("{\"cmd\":\"\\u0073tatus\"}", VMM_CTL_STATUS); /* \u0073 = s */
	accepted("{\"\\u0063md\":\"stop\"}", VMM_CTL_STOP);
}

static void test_hostile(void)
{
	static char big[VMM_CONTROL_LINE_MAX + 8];
	memset(big, ' ', sizeof(big));
	memcpy(big, "{\"cmd\":\"status\"}", 16);
	refused(big, sizeof(big), "line too long");
	refused("", 0, "not a JSON object");
	refused("status", 6, "not a JSON object");
	refused("{", 1, "expected a key");
	refused("{}", 2, "a request is");
	refused("{\"cmd\":\"status\"", 15, "expected ','");
	refused("{\"cmd\":\"status\"}}", 17, "text after");
	refused("{\"cmd\":\"status\"} {\"cmd\":\"stop\"}", 30, "text after");
	refused("{\"cmd\":\"stat", 12, "unterminated string");
	refused("{\"cmd\":\"st\\", 11, "unterminated escape");
	refused("{\"cmd\":\"s\\xt\"}", 14, "bad escape");
	refused("{\"cmd\":\"\\u12\"}", 14, "bad \\u escape");
	refused("{\"cmd\":\"\\ud800\"}", 16, "unpaired surrogate");
	refused("{\"cmd\":\"\\udc00x\"}", 17, "unpaired surrogate");
	refused("{\"cmd\":\"\\u0000\"}", 16, "NUL in a string");
	refused("{\"cmd\":\"st\0op\"}", 15, "NUL byte");
	refused("{\"cmd\":\"st\top\"}", 15, "control character");
	refused("{\"cmd\":\"stop\",\"cmd\":\"stop\"}", 27, "duplicate key");
	refused("{\"cmd\":\"stop\",\"force\":true}", 27, "unknown key \"force\"");
	refused("{\"cmd\":[\"stop\"]}", 16, "nested");
	refused("{\"cmd\":{\"a\":1}}", 15, "nested");
	refused("{\"cmd\":1.5}", 11, "whole numbers");
	refused("{\"cmd\":01}", 10, "leading zero");
	refused("{\"cmd\":-}", 9, "bad value");
	refused("{\"cmd\":tru}", 11, "bad value");
	refused("{\"cmd\":7}", 9, "a request is");
	refused("{\"cmd\":null}", 12, "a request is");
	refused("{\"cmd\":\"halt\"}", 14, "unknown command");
	refused("{\"cmd\":\"STATUS\"}", 16, "unknown command");
	refused("{cmd:\"stop\"}", 12, "expected a key");
	refused("{\"cmd\" \"stop\"}", 14, "expected ':'");
	refused("{\"cmd\":\"stop\",}", 15, "expected a key");
	char longkey[80];
	snprintf(longkey, sizeof(longkey), "{\"%040d\":1}", 0);
	refused(longkey, strlen(longkey), "key too long");
	char many[VMM_CONTROL_LINE_MAX];
	size_t n = (size_t)snprintf(many, sizeof(many), "{");
	for (int i = 0; i < VMM_CONTROL_FIELDS_MAX + 1; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "%s\"k%d\":%d", i ? "," : "", i, i);
	n += (size_t)snprintf(many + n, sizeof(many) - n, "}");
	refused(many, n, "too many keys");
	char longval[VMM_CONTROL_VALUE_MAX + 32];
	memset(longval, 'a', sizeof(longval));
	memcpy(longval, "{\"cmd\":\"", 8);
	memcpy(longval + sizeof(longval) - 2, "\"}", 2);
	refused(longval, sizeof(longval), "string too long");
}

static void test_generic_object(void)
{
	struct vmm_json_field f[VMM_CONTROL_FIELDS_MAX];
	size_t n;
	char why[128];
	const char *line = "{\"ok\": true, \"status\": \"paused\", \"pid\": 4242, "
			   "\"error\": \"a \\\"quoted\\\" \\u00e9\", \"x\": null, \"n\": -3}";
	CHECK_EQ_INT(vmm_json_object_parse(line, strlen(line), f, VMM_CONTROL_FIELDS_MAX, &n,
					   why, sizeof(why)), 0);
	CHECK_EQ_INT(n, 6);
	const struct vmm_json_field *v = vmm_json_find(f, n, "ok");
	CHECK(v && v->type == VMM_JSON_BOOL && strcmp(v->value, "true") == 0);
	v = vmm_json_find(f, n, "pid");
	CHECK(v && v->type == VMM_JSON_NUMBER && strcmp(v->value, "4242") == 0);
	v = vmm_json_find(f, n, "error");
	CHECK(v && strcmp(v->value, "a \"quoted\" \xc3\xa9") == 0);
	v = vmm_json_find(f, n, "x");
	CHECK(v && v->type == VMM_JSON_NULL);
	CHECK(vmm_json_find(f, n, "missing") == NULL);
}

static void test_quote_and_error(void)
{
	char out[64];
	CHECK_EQ_INT(vmm_json_quote("a\"b\\c\n\x01", out, sizeof(out)), 21);
	CHECK_EQ_STR(out, "\"a\\\"b\\\\c\\u000a\\u0001\"");
	CHECK_EQ_INT(vmm_json_quote("abcdef", out, 5), -ENOSPC);
	char line[128];
	int n = vmm_control_format_error("no \"such\" VM", line, sizeof(line));
	CHECK(n > 0);
	CHECK_EQ_STR(line, "{\"ok\": false, \"error\": \"no \\\"such\\\" VM\"}\n");
	/* What we send, we parse back. */
	struct vmm_json_field f[4];
	size_t nf;
	char why[64];
	CHECK_EQ_INT(vmm_json_object_parse(line, (size_t)n - 1, f, 4, &nf, why, sizeof(why)), 0);
	CHECK(nf == 2 && strcmp(f[1].value, "no \"such\" VM") == 0);
}

static void test_ring(void)
{
	struct vmm_console_ring ring;
	uint8_t out[16];
	CHECK_EQ_INT(vmm_console_ring_init(&ring, 8), 0);
	CHECK_EQ_INT(vmm_console_ring_read(&ring, out, sizeof(out)), 0);
	vmm_console_ring_write(&ring, (const uint8_t *)"abc", 3);
	CHECK_EQ_INT(vmm_console_ring_read(&ring, out, sizeof(out)), 3);
	CHECK(memcmp(out, "abc", 3) == 0);
	vmm_console_ring_write(&ring, (const uint8_t *)"defghij", 7); /* wraps */
	CHECK_EQ_INT(vmm_console_ring_read(&ring, out, sizeof(out)), 8);
	CHECK(memcmp(out, "cdefghij", 8) == 0);
	CHECK_EQ_INT(vmm_console_ring_read(&ring, out, 3), 3); /* the newest 3 */
	CHECK(memcmp(out, "hij", 3) == 0);
	vmm_console_ring_write(&ring, (const uint8_t *)"0123456789XY", 12); /* > cap */
	CHECK_EQ_INT(vmm_console_ring_read(&ring, out, sizeof(out)), 8);
	CHECK(memcmp(out, "456789XY", 8) == 0);
	CHECK_EQ_INT(ring.total, 22);
	vmm_console_ring_free(&ring);
	CHECK_EQ_INT(vmm_console_ring_init(&ring, 0), -EINVAL);
}

static void test_ged_register(void)
{
	struct vmm_ged ged = { 0 };
	uint8_t v = 0xff;
	atomic_store(&ged.events, VMM_GED_EVENT_POWER_BUTTON);
	vmm_ged_ops.read(&ged, 0, &v, 1);
	CHECK_EQ_INT(v, VMM_GED_EVENT_POWER_BUTTON);
	vmm_ged_ops.read(&ged, 0, &v, 1); /* the read cleared it */
	CHECK_EQ_INT(v, 0);
}

int main(void)
{
	test_requests();
	test_hostile();
	test_generic_object();
	test_quote_and_error();
	test_ring();
	test_ged_register();
	return test_result();
}
