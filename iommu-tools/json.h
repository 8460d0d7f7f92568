/* SPDX-License-Identifier: GPL-2.0-or-later */
/* iommu-tools/ private: a streaming JSON writer with proper escaping. */
#ifndef PASSVM_JSON_H
#define PASSVM_JSON_H

#include <stdbool.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32
struct json {
	FILE *out;
	int depth;
	bool want_value;            /* a key was written, its value comes next */
	unsigned count[JSON_MAX_DEPTH];
};

void json_begin(struct json *j, FILE *out);
void json_object_begin(struct json *j);
void json_object_end(struct json *j);
void json_array_begin(struct json *j);
void json_array_end(struct json *j);
void json_key(struct json *j, const char *key);
void json_string(struct json *j, const char *s);
void json_int(struct json *j, long long v);
void json_uint(struct json *j, unsigned long long v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);
/* One JSON string literal, escaped. */
void json_write_string(FILE *out, const char *s);

#endif
