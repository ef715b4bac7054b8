/* SPDX-License-Identifier: MIT */
/*
 * api.c - what the hub answers to each request. Authentication first, then
 * the envelope and delta checks of the engine (each refusal with its own
 * name), then the store. Nothing is stored unless the whole request was
 * well-formed.
 */
#include "api.h"

#include "delta.h"
#include "hlc.h"
#include "hub_error.h"
#include "json_util.h"
#include "ledger_schema.h"
#include "sync_error.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void api_limits_default(struct api_limits *limits)
{
    envelope_limits_default(&limits->envelope);
    limits->max_request = limits->envelope.max_envelope;
    limits->max_pull = 256u << 10;
}

void api_response_clear(struct api_response *r)
{
    free(r->body);
    memset(r, 0, sizeof *r);
}

static void set_json(struct api_response *out, int status, cJSON *obj)
{
    free(out->body);
    out->body = NULL;
    out->len = 0;
    char *text = obj ? cJSON_PrintUnformatted(obj) : NULL;
    cJSON_Delete(obj);
    out->status = text ? status : 500;
    out->content_type = API_JSON_TYPE;
    if (text) {
        out->body = (uint8_t *)text;
        out->len = strlen(text);
    }
}

void api_error(struct api_response *out, int status, const char *name, const char *fmt, ...)
{
    char message[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    /* The message may quote input cut at any byte: keep the JSON valid. */
    size_t len = strlen(message);
    while (len > 0 && !delta_utf8_valid(message, len)) {
        message[--len] = '\0';
    }
    cJSON *obj = cJSON_CreateObject();
    if (obj) {
        cJSON_AddStringToObject(obj, "error", name);
        cJSON_AddStringToObject(obj, "message", message);
    }
    set_json(out, status, obj);
    snprintf(out->log, sizeof out->log, "status=%d error=%s: %s", status, name, message);
}

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "Bearer <device id>.<secret>" into its parts. */
static int parse_bearer(const char *header, char id[UUID7_STRLEN + 1],
                        char secret[DEVICES_SECRET_LEN])
{
    static const char prefix[] = "Bearer ";
    if (!header || strncmp(header, prefix, sizeof prefix - 1) != 0) {
        return -1;
    }
    const char *token = header + sizeof prefix - 1;
    const char *dot = strchr(token, '.');
    if (!dot || dot - token != UUID7_STRLEN || strlen(dot + 1) >= DEVICES_SECRET_LEN || !dot[1]) {
        return -1;
    }
    memcpy(id, token, UUID7_STRLEN);
    id[UUID7_STRLEN] = '\0';
    snprintf(secret, DEVICES_SECRET_LEN, "%s", dot + 1);
    return uuid7_valid(id) ? 0 : -1;
}

static int status_of(int code)
{
    switch (code) {
    case SYNC_E_ENV_TOO_BIG:
    case SYNC_E_ENV_INFLATED:
    case SYNC_E_ENV_RATIO:
        return 413;
    case SYNC_E_ORIGIN:
    case SYNC_E_PARTITION:
        return 403;
    case SYNC_E_UNKNOWN_TABLE:
    case SYNC_E_UNKNOWN_COLUMN:
    case SYNC_E_APPEND_ONLY:
        return 400; /* malformed deltas, though numbered past the decoder's range */
    case SYNC_E_NOMEM:
        return 503;
    case SYNC_E_DB:
    case SYNC_E_STATE:
        return 500;
    default:
        return code <= -20 && code > -60 ? 400 : 500;
    }
}

void api_sync(struct store *store, const struct api_limits *limits, const char *authorization,
              const uint8_t *body, size_t len, struct api_response *out)
{
    int64_t started = monotonic_ms();
    char id[UUID7_STRLEN + 1], secret[DEVICES_SECRET_LEN], why[300];
    struct store_device device;
    struct delta *push = NULL, *reply = NULL;
    memset(out, 0, sizeof *out);

    if (parse_bearer(authorization, id, secret) != 0) {
        api_error(out, 401, "auth", "a device credential is required (Authorization: Bearer)");
        return;
    }
    int rc = store_device_auth(store, id, secret, &device);
    if (rc != 0) {
        store_log(store, uuid7_valid(id) ? id : NULL, rc == HUB_E_REVOKED ? "revoked" : "auth",
                  hub_strerror(rc));
        api_error(out, 401, rc == HUB_E_REVOKED ? "revoked" : "auth", "%s", hub_strerror(rc));
        return;
    }
    snprintf(out->device, sizeof out->device, "%s", device.id);
    if (len > limits->max_request) {
        api_error(out, 413, "too_big", "a request of %zu bytes (the limit is %zu)", len,
                  limits->max_request);
        goto logged;
    }
    rc = delta_unpack(ledger_schema_get(), &limits->envelope, body, len, &push, why, sizeof why);
    if (rc == 0 && push->type != DELTA_PUSH) {
        rc = SYNC_E_FIELD_TYPE;
        snprintf(why, sizeof why, "type: a sync request is a push");
    }
    if (rc != 0) {
        api_error(out, status_of(rc), sync_error_name(rc), "%s", why[0] ? why : sync_strerror(rc));
        store_log(store, device.id, "malformed", out->log);
        goto logged;
    }
    reply = delta_new(DELTA_REPLY);
    if (!reply) {
        api_error(out, 503, "nomem", "out of memory");
        goto logged;
    }
    reply->version = push->version; /* each device is answered in its own format */
    struct store_sync_result result;
    rc = store_sync(store, &device, push, limits->max_pull, reply, &result);
    if (rc != 0) {
        api_error(out, status_of(rc), sync_error_name(rc), "%s",
                  rc == SYNC_E_PARTITION ? "this device may only sync its own village"
                  : rc == SYNC_E_ORIGIN  ? "the changes were not made by this device"
                                         : sync_strerror(rc));
        goto logged;
    }
    /* The village pays for the bytes; the hub has the time. */
    rc = delta_pack(ledger_schema_get(), reply, 9, &out->body, &out->len);
    if (rc != 0) {
        api_error(out, 500, sync_error_name(rc), "the reply could not be encoded");
        goto logged;
    }
    out->status = 200;
    out->content_type = API_ENVELOPE_TYPE;
    const char *outcome = result.apply.resume_from ? "gap"
                          : result.apply.refused   ? "refused"
                                                   : "ok";
    int64_t offset = push->time_ms - reply->time_ms;
    store_note_sync(store, device.id, (int64_t)len, (int64_t)out->len, outcome, offset);
    snprintf(out->log, sizeof out->log,
             "status=200 in=%zu applied=%zu dup=%zu refused=%zu conflicts=%zu out=%zu acked=%lld"
             " resume_from=%lld cursor=%lld clock_offset_ms=%lld result=%s",
             push->nchanges, result.apply.applied, result.apply.duplicates, result.apply.refused,
             result.apply.conflicts, result.sent, (long long)result.apply.acked,
             (long long)result.apply.resume_from, (long long)reply->cursor, (long long)offset,
             outcome);
logged : {
    /* Prefix the outcome with who and how much; cut at the log's size. */
    char detail[sizeof out->log];
    memcpy(detail, out->log, sizeof detail);
    int n = snprintf(out->log, sizeof out->log,
                     "sync device=%s village=%s bytes_in=%zu bytes_out=%zu ms=%lld ", device.id,
                     device.village, len, out->len, (long long)(monotonic_ms() - started));
    if (n > 0 && (size_t)n < sizeof out->log) {
        size_t room = sizeof out->log - (size_t)n;
        memcpy(out->log + n, detail, strnlen(detail, room - 1));
        out->log[n + (int)strnlen(detail, room - 1)] = '\0';
    }
}
    if (out->status != 200) {
        store_note_sync(store, device.id, (int64_t)len, (int64_t)out->len, "error", 0);
    }
    delta_free(push);
    delta_free(reply);
}

void api_enroll(struct store *store, const uint8_t *body, size_t len, struct api_response *out)
{
    memset(out, 0, sizeof *out);
    cJSON *req = len <= 4096 ? cJSON_ParseWithLength((const char *)body, len) : NULL;
    const cJSON *device = cJSON_GetObjectItemCaseSensitive(req, "device");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(req, "code");
    const cJSON *node = cJSON_GetObjectItemCaseSensitive(req, "node");
    uint64_t node_id = 0;
    if (!cJSON_IsString(device) || !cJSON_IsString(code) || !cJSON_IsString(node) ||
        hlc_parse(node->valuestring, &node_id) != 0 || node_id == 0 ||
        !uuid7_valid(device->valuestring)) {
        api_error(out, 400, "malformed",
                  "expected JSON {\"device\": UUID, \"code\": TEXT, \"node\": 16 hex digits}");
        cJSON_Delete(req);
        return;
    }
    char secret[DEVICES_SECRET_LEN];
    struct store_device d;
    int rc =
        store_device_enroll(store, device->valuestring, code->valuestring, node_id, secret, &d);
    snprintf(out->device, sizeof out->device, "%s", device->valuestring);
    if (rc != 0) {
        int status = rc == HUB_E_AUTH                         ? 401
                     : rc == HUB_E_REVOKED                    ? 403
                     : rc == HUB_E_EXPIRED                    ? 410
                     : rc == HUB_E_USED || rc == HUB_E_EXISTS ? 409
                                                              : 500;
        const char *name = rc == HUB_E_AUTH      ? "auth"
                           : rc == HUB_E_REVOKED ? "revoked"
                           : rc == HUB_E_EXPIRED ? "expired"
                           : rc == HUB_E_USED    ? "used"
                           : rc == HUB_E_EXISTS  ? "node_taken"
                                                 : "internal";
        api_error(out, status, name, "%s", hub_strerror(rc));
        store_log(store, uuid7_valid(device->valuestring) ? device->valuestring : NULL, "enroll",
                  out->log);
        cJSON_Delete(req);
        return;
    }
    cJSON *obj = cJSON_CreateObject();
    if (obj) {
        cJSON_AddStringToObject(obj, "device", d.id);
        cJSON_AddStringToObject(obj, "village", d.village);
        cJSON_AddStringToObject(obj, "village_name", d.village_name);
        cJSON_AddStringToObject(obj, "device_code", d.case_code);
        cJSON_AddStringToObject(obj, "secret", secret);
        json_util_add_int(obj, "time", store_now(store));
    }
    set_json(out, 200, obj);
    snprintf(out->log, sizeof out->log, "enroll device=%s village=%s node=%s status=%d", d.id,
             d.village, node->valuestring, out->status);
    cJSON_Delete(req);
}

void api_health(struct store *store, struct api_response *out)
{
    memset(out, 0, sizeof *out);
    cJSON *obj = cJSON_CreateObject();
    if (obj) {
        cJSON_AddStringToObject(obj, "status", "ok");
        json_util_add_int(obj, "time", store_now(store));
        json_util_add_int(obj, "protocol", DELTA_VERSION);
    }
    set_json(out, 200, obj);
}
