/* SPDX-License-Identifier: MIT */
/*
 * webutil.c - request helpers that both browser UIs' HTTP layers call
 * (webutil.h): the Cookie header, JSON bodies and their members, the
 * language of the answer, the refusals' JSON and text fit for a log line.
 */
#include "webutil.h"

#include <string.h>
#include <strings.h>

const char *webutil_cookie(const char *header, const char *name, size_t *len)
{
    size_t name_len = strlen(name);
    *len = 0;
    for (const char *p = header; p && *p;) {
        p += strspn(p, " \t");
        if (!strncmp(p, name, name_len) && p[name_len] == '=') {
            const char *value = p + name_len + 1;
            *len = strcspn(value, "; \t");
            return value;
        }
        p = strchr(p, ';');
        p = p ? p + 1 : NULL;
    }
    return NULL;
}

int webutil_is_json(const char *content_type)
{
    size_t len = sizeof WEBUTIL_JSON_TYPE - 1;
    return content_type && !strncasecmp(content_type, WEBUTIL_JSON_TYPE, len) &&
           (content_type[len] == '\0' || content_type[len] == ';' || content_type[len] == ' ');
}

void webutil_log_safe(char *out, size_t out_len, const char *text)
{
    size_t n = 0;
    for (; text && text[n] && n + 1 < out_len; n++) {
        unsigned char c = (unsigned char)text[n];
        out[n] = c < ' ' || c == 0x7f ? '?' : (char)c;
    }
    out[n] = '\0';
}

cJSON *webutil_parse_object(const uint8_t *body, size_t len)
{
    cJSON *doc = cJSON_ParseWithLength(body ? (const char *)body : "", len);
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

const char *webutil_member_text(const cJSON *doc, const char *name, size_t max, int *bad)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(doc, name);
    if (!item || cJSON_IsNull(item)) {
        return NULL;
    }
    if (!cJSON_IsString(item) || strlen(item->valuestring) > max) {
        *bad = 1;
        return NULL;
    }
    return item->valuestring;
}

const char *webutil_lang(const char *given)
{
    return given && !strcmp(given, "en") ? "en" : "zh";
}

cJSON *webutil_error_json(const char *name, const char *message)
{
    cJSON *obj = cJSON_CreateObject();
    if (obj && (!cJSON_AddStringToObject(obj, "error", name) ||
                !cJSON_AddStringToObject(obj, "message", message))) {
        cJSON_Delete(obj);
        obj = NULL;
    }
    return obj;
}
