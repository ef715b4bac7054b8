/* SPDX-License-Identifier: MIT */
/*
 * json_util.c - exact integers in cJSON output, as raw number text.
 */
#include "json_util.h"

#include <inttypes.h>
#include <stdio.h>

cJSON *json_util_int(int64_t value)
{
    char text[24];
    snprintf(text, sizeof text, "%" PRId64, value);
    return cJSON_CreateRaw(text);
}

int json_util_add_int(cJSON *object, const char *key, int64_t value)
{
    cJSON *item = json_util_int(value);
    if (!item) {
        return 0;
    }
    if (!cJSON_AddItemToObject(object, key, item)) {
        cJSON_Delete(item);
        return 0;
    }
    return 1;
}
