/* SPDX-License-Identifier: MIT */
/*
 * json_util.h - small helpers shared by the engine's JSON writers.
 *
 * cJSON keeps numbers as doubles and prints large integers with 15
 * significant digits, which changes values above 2^52. Integers are written
 * here as exact decimal text instead.
 */
#ifndef HAMLET_JSON_UTIL_H
#define HAMLET_JSON_UTIL_H

#include <cjson/cJSON.h>
#include <stdint.h>

#define JSON_MAX_SAFE_INT 9007199254740992LL /* 2^53: integers JSON carries exactly */

/* json_util_int(value): a cJSON number item printing exactly value. NULL on
 * out-of-memory. The caller owns it (usually by adding it to an object). */
cJSON *json_util_int(int64_t value);

/* json_util_add_int(object, key, value): add an exact integer member.
 * Returns 1, or 0 on out-of-memory. */
int json_util_add_int(cJSON *object, const char *key, int64_t value);

#endif
