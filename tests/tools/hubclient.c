/* SPDX-License-Identifier: MIT */
/*
 * hubclient.c - the tests' client of the hub: libcurl for HTTPS (pinned
 * key, TLS 1.2 or newer, https only), the engine for the envelopes and the
 * replica. A sync is hubclient_sync_begin() (build the push) then
 * hubclient_sync_end() (check the answer, apply the pull, store the
 * acknowledgement and cursor in one transaction).
 */
#include "hubclient.h"

#include "hlc.h"
#include "ledger_io.h"
#include "ledger_schema.h"
#include "sync_error.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_RESPONSE  ((size_t)64 << 20) /* bytes of a response body kept */
#define DEFAULT_BYTES (256u << 10)
#define ACKED_KEY     "client.acked"
#define CURSOR_KEY    "client.cursor"
#define ENVELOPE_TYPE "Content-Type: application/x-hamlet-envelope"
#define JSON_TYPE     "Content-Type: application/json"

struct hubclient_request {
    CURL *easy;
    struct curl_slist *headers;
    uint8_t *body; /* what is sent */
    size_t len, sent;
    struct hubclient_response response; /* what comes back */
    size_t cap;
    int overflow;
    char errbuf[CURL_ERROR_SIZE];
};

int hubclient_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void hubclient_global_cleanup(void)
{
    curl_global_cleanup();
}

/* ---- enrolment codes ---- */

/* Copy the part [from, to) into out; -1 if empty or too long. */
static int take_part(const char *from, const char *to, char *out, size_t out_len)
{
    size_t n = (size_t)(to - from);
    if (n == 0 || n >= out_len) {
        return -1;
    }
    memcpy(out, from, n);
    out[n] = '\0';
    return 0;
}

int hubclient_parse_code(const char *line, struct hubclient_code *out)
{
    static const char prefix[] = DEVICES_CODE_PREFIX;
    memset(out, 0, sizeof *out);
    if (!line || strncmp(line, prefix, sizeof prefix - 1) != 0) {
        return -1;
    }
    const char *p = line + sizeof prefix - 1;
    const char *end = p + strcspn(p, "\r\n");
    const char *bar1 = memchr(p, '|', (size_t)(end - p));
    const char *bar2 = bar1 ? memchr(bar1 + 1, '|', (size_t)(end - bar1 - 1)) : NULL;
    const char *bar3 = bar2 ? memchr(bar2 + 1, '|', (size_t)(end - bar2 - 1)) : NULL;
    if (!bar3 || memchr(bar3 + 1, '|', (size_t)(end - bar3 - 1))) {
        return -1;
    }
    if (take_part(p, bar1, out->url, sizeof out->url) != 0 ||
        take_part(bar1 + 1, bar2, out->pin, sizeof out->pin) != 0 ||
        take_part(bar2 + 1, bar3, out->device, sizeof out->device) != 0 ||
        take_part(bar3 + 1, end, out->code, sizeof out->code) != 0) {
        return -1;
    }
    if (strncmp(out->url, "https://", 8) != 0 || strncmp(out->pin, "sha256//", 8) != 0 ||
        !uuid7_valid(out->device)) {
        return -1;
    }
    return 0;
}

/* ---- raw requests ---- */

void hubclient_response_clear(struct hubclient_response *r)
{
    free(r->body);
    memset(r, 0, sizeof *r);
    r->retry_after = -1;
}

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    struct hubclient_request *req = ctx;
    struct hubclient_response *r = &req->response;
    size_t len = size * n;
    if (r->len + len > MAX_RESPONSE) {
        req->overflow = 1;
        return 0;
    }
    if (r->len + len + 1 > req->cap) {
        size_t cap = req->cap ? req->cap : 4096;
        while (cap < r->len + len + 1) {
            cap *= 2;
        }
        uint8_t *grown = realloc(r->body, cap);
        if (!grown) {
            return 0;
        }
        r->body = grown;
        req->cap = cap;
    }
    memcpy(r->body + r->len, data, len);
    r->len += len;
    r->body[r->len] = '\0';
    return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *ctx)
{
    struct hubclient_request *req = ctx;
    size_t len = size * n;
    static const char name[] = "Retry-After:";
    if (len > sizeof name && strncasecmp(data, name, sizeof name - 1) == 0) {
        char value[32];
        size_t vlen = len - (sizeof name - 1);
        if (vlen >= sizeof value) {
            vlen = sizeof value - 1;
        }
        memcpy(value, data + sizeof name - 1, vlen);
        value[vlen] = '\0';
        char *end;
        long v = strtol(value, &end, 10);
        if (end != value && v >= 0) {
            req->response.retry_after = v;
        }
    }
    return len;
}

/* Chunked uploads: hand out the body in pieces of at most 16 KiB. */
static size_t on_read(char *out, size_t size, size_t n, void *ctx)
{
    struct hubclient_request *req = ctx;
    size_t room = size * n;
    size_t left = req->len - req->sent;
    size_t take = left < room ? left : room;
    if (take > 16384) {
        take = 16384;
    }
    memcpy(out, req->body + req->sent, take);
    req->sent += take;
    return take;
}

static int add_header(struct hubclient_request *req, const char *line)
{
    struct curl_slist *grown = curl_slist_append(req->headers, line);
    if (!grown) {
        return -1;
    }
    req->headers = grown;
    return 0;
}

/* The TLS and transport settings every request shares. */
static int set_transport(CURL *e, const struct hubclient_target *t)
{
    CURLcode rc = curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
    if (rc == CURLE_OK) {
        rc = curl_easy_setopt(e, CURLOPT_PINNEDPUBLICKEY, t->pin);
    }
    if (rc == CURLE_OK) {
        rc = curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    }
    if (rc == CURLE_OK && t->cafile && t->cafile[0]) {
        rc = curl_easy_setopt(e, CURLOPT_CAINFO, t->cafile);
        if (rc == CURLE_OK) {
            rc = curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
        }
    } else if (rc == CURLE_OK) {
        /* No certificate to check against: the pin alone decides. */
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        rc = curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (rc == CURLE_OK) {
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 10L);
        curl_easy_setopt(e, CURLOPT_TIMEOUT, t->timeout_s > 0 ? t->timeout_s : 60L);
    }
    return rc == CURLE_OK ? 0 : -1;
}

struct hubclient_request *hubclient_request_new(const struct hubclient_target *t,
                                                const char *method, const char *path,
                                                const char *const *headers, const void *body,
                                                size_t len, int chunked)
{
    struct hubclient_request *req = calloc(1, sizeof *req);
    if (!req) {
        return NULL;
    }
    req->response.retry_after = -1;
    req->easy = curl_easy_init();
    req->body = malloc(len ? len : 1);
    if (!req->easy || !req->body) {
        goto fail;
    }
    if (len) {
        memcpy(req->body, body, len);
    }
    req->len = len;
    char url[HUBCLIENT_URL_MAX + 128];
    snprintf(url, sizeof url, "%s%s", t->url, path);
    CURL *e = req->easy;
    if (set_transport(e, t) != 0 || curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK) {
        goto fail;
    }
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, req->errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, req);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, req);
    for (size_t i = 0; headers && headers[i]; i++) {
        if (add_header(req, headers[i]) != 0) {
            goto fail;
        }
    }
    if (!strcmp(method, "GET")) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else if (chunked) {
        if (add_header(req, "Transfer-Encoding: chunked") != 0) {
            goto fail;
        }
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(e, CURLOPT_READDATA, req);
    } else {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body);
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, req->headers);
    return req;
fail:
    hubclient_request_free(req);
    return NULL;
}

void hubclient_request_free(struct hubclient_request *req)
{
    if (!req) {
        return;
    }
    curl_easy_cleanup(req->easy);
    curl_slist_free_all(req->headers);
    free(req->body);
    free(req->response.body);
    free(req);
}

CURL *hubclient_request_easy(struct hubclient_request *req)
{
    return req->easy;
}

void hubclient_request_finish(struct hubclient_request *req, CURLcode result,
                              struct hubclient_response *out)
{
    *out = req->response;
    memset(&req->response, 0, sizeof req->response);
    req->cap = 0;
    long status = 0;
    if (result == CURLE_OK) {
        curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &status);
    } else {
        snprintf(out->error, sizeof out->error, "%s%s%s", curl_easy_strerror(result),
                 req->errbuf[0] ? ": " : "", req->errbuf);
        if (req->overflow) {
            snprintf(out->error, sizeof out->error, "the response passed %zu bytes", MAX_RESPONSE);
        }
    }
    out->status = status;
}

long hubclient_request(const struct hubclient_target *t, const char *method, const char *path,
                       const char *const *headers, const void *body, size_t len, int chunked,
                       struct hubclient_response *out)
{
    memset(out, 0, sizeof *out);
    out->retry_after = -1;
    struct hubclient_request *req =
        hubclient_request_new(t, method, path, headers, body, len, chunked);
    if (!req) {
        snprintf(out->error, sizeof out->error, "out of memory");
        return -1;
    }
    CURLcode rc = curl_easy_perform(req->easy);
    hubclient_request_finish(req, rc, out);
    hubclient_request_free(req);
    return out->status;
}

long hubclient_health(const struct hubclient_target *t)
{
    struct hubclient_response r;
    long status = hubclient_request(t, "GET", "/v1/health", NULL, NULL, 0, 0, &r);
    hubclient_response_clear(&r);
    return status;
}

/* ---- a test device ---- */

int hubclient_device_new(const char *path, const char *code_line, const char *cafile,
                         struct hubclient_device **out)
{
    struct hubclient_device *d = calloc(1, sizeof *d);
    if (!d) {
        return -1;
    }
    if (hubclient_parse_code(code_line, &d->code) != 0 ||
        (cafile && strlen(cafile) >= sizeof d->cafile)) {
        free(d);
        return -1;
    }
    snprintf(d->cafile, sizeof d->cafile, "%s", cafile ? cafile : "");
    d->target.url = d->code.url;
    d->target.pin = d->code.pin;
    d->target.cafile = d->cafile[0] ? d->cafile : NULL;
    d->target.timeout_s = 60;
    d->batch_bytes = DEFAULT_BYTES;
    d->pull_bytes = DEFAULT_BYTES;
    d->retry_after = -1;
    ledger_schema_config(&d->config, 0);
    char why[300];
    if (replica_open(path, &d->config, &d->replica, why, sizeof why) != 0) {
        free(d);
        return -1;
    }
    *out = d;
    return 0;
}

void hubclient_device_free(struct hubclient_device *d)
{
    if (!d) {
        return;
    }
    replica_close(d->replica);
    delta_free(d->reply);
    free(d);
}

/* Note what an answer said: status, and for a JSON error its name and
 * sentence. Returns the status. */
static long take_answer(struct hubclient_device *d, const struct hubclient_response *r)
{
    d->status = r->status;
    d->retry_after = r->retry_after;
    d->error[0] = '\0';
    d->message[0] = '\0';
    if (r->status == 0) {
        snprintf(d->error, sizeof d->error, "transport");
        snprintf(d->message, sizeof d->message, "%s", r->error);
        return 0;
    }
    if (r->status == 200) {
        return 200;
    }
    cJSON *obj = r->body ? cJSON_ParseWithLength((const char *)r->body, r->len) : NULL;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(obj, "error");
    const cJSON *message = cJSON_GetObjectItemCaseSensitive(obj, "message");
    snprintf(d->error, sizeof d->error, "%s", cJSON_IsString(name) ? name->valuestring : "?");
    snprintf(d->message, sizeof d->message, "%s",
             cJSON_IsString(message) ? message->valuestring : "(no JSON message)");
    cJSON_Delete(obj);
    return r->status;
}

static long local_failure(struct hubclient_device *d, const char *what, int code)
{
    d->status = -1;
    snprintf(d->error, sizeof d->error, "local");
    snprintf(d->message, sizeof d->message, "%s: %s", what, sync_strerror(code));
    return -1;
}

long hubclient_enroll(struct hubclient_device *d)
{
    char node[HLC_HEXLEN + 1];
    hlc_format(replica_node(d->replica), node);
    cJSON *obj = cJSON_CreateObject();
    if (obj) {
        cJSON_AddStringToObject(obj, "device", d->code.device);
        cJSON_AddStringToObject(obj, "code", d->code.code);
        cJSON_AddStringToObject(obj, "node", node);
    }
    char *json = obj ? cJSON_PrintUnformatted(obj) : NULL;
    cJSON_Delete(obj);
    if (!json) {
        return local_failure(d, "enrol", SYNC_E_NOMEM);
    }
    const char *headers[] = {JSON_TYPE, NULL};
    struct hubclient_response r;
    hubclient_request(&d->target, "POST", "/v1/enroll", headers, json, strlen(json), 0, &r);
    free(json);
    long status = take_answer(d, &r);
    if (status == 200) {
        cJSON *answer = cJSON_ParseWithLength((const char *)r.body, r.len);
        const cJSON *secret = cJSON_GetObjectItemCaseSensitive(answer, "secret");
        const cJSON *village = cJSON_GetObjectItemCaseSensitive(answer, "village");
        if (cJSON_IsString(secret) && cJSON_IsString(village) &&
            strlen(secret->valuestring) < sizeof d->secret &&
            strlen(village->valuestring) < sizeof d->village) {
            snprintf(d->secret, sizeof d->secret, "%s", secret->valuestring);
            snprintf(d->village, sizeof d->village, "%s", village->valuestring);
        } else {
            status = local_failure(d, "enrolment answer", SYNC_E_FIELD_MISSING);
        }
        cJSON_Delete(answer);
    }
    hubclient_response_clear(&r);
    return status;
}

void hubclient_bearer(const struct hubclient_device *d, char *out, size_t out_len)
{
    snprintf(out, out_len, "Authorization: Bearer %s.%s", d->code.device, d->secret);
}

int hubclient_push(struct hubclient_device *d, int64_t after_seq, size_t max_bytes, uint8_t **out,
                   size_t *out_len)
{
    struct delta *push = delta_new(DELTA_PUSH);
    if (!push) {
        return SYNC_E_NOMEM;
    }
    struct hlc *clock = replica_clock(d->replica);
    push->node = replica_node(d->replica);
    snprintf(push->part, sizeof push->part, "%s", d->village);
    push->time_ms = hlc_wall(clock);
    push->clock = hlc_last(clock);
    push->cursor = replica_meta_int(d->replica, CURSOR_KEY, 0);
    push->pull_bytes = d->pull_bytes;
    int rc = replica_pending(d->replica, after_seq, max_bytes, push);
    if (rc == 0) {
        rc = delta_pack(ledger_schema_get(), push, 6, out, out_len);
    }
    delta_free(push);
    return rc;
}

int64_t hubclient_acked(struct hubclient_device *d)
{
    return replica_meta_int(d->replica, ACKED_KEY, 0);
}

int64_t hubclient_unacked(struct hubclient_device *d)
{
    return replica_own_seq(d->replica) - hubclient_acked(d);
}

int hubclient_caught_up(struct hubclient_device *d)
{
    return hubclient_unacked(d) == 0 && !d->more;
}

struct hubclient_request *hubclient_sync_begin(struct hubclient_device *d)
{
    uint8_t *envelope = NULL;
    size_t len = 0;
    int rc = hubclient_push(d, hubclient_acked(d), d->batch_bytes, &envelope, &len);
    if (rc != 0) {
        local_failure(d, "push", rc);
        return NULL;
    }
    char bearer[sizeof d->code.device + sizeof d->secret + 64];
    hubclient_bearer(d, bearer, sizeof bearer);
    const char *headers[] = {bearer, ENVELOPE_TYPE, NULL};
    struct hubclient_request *req =
        hubclient_request_new(&d->target, "POST", "/v1/sync", headers, envelope, len, 0);
    free(envelope);
    if (!req) {
        local_failure(d, "request", SYNC_E_NOMEM);
    }
    return req;
}

/* Apply a reply and keep its acknowledgement and cursor, all or nothing. */
static int take_reply(struct hubclient_device *d, struct delta *reply)
{
    int64_t before = hubclient_acked(d);
    struct replica_apply_opts opts = {reply->node, d->village, 0};
    struct replica_apply_result result;
    int rc = replica_begin(d->replica);
    if (rc != 0) {
        return rc;
    }
    rc = replica_apply(d->replica, reply, &opts, &result, NULL);
    if (rc == 0) {
        rc = replica_set_meta_int(d->replica, ACKED_KEY, reply->acked);
    }
    if (rc == 0) {
        rc = replica_set_meta_int(d->replica, CURSOR_KEY, reply->cursor);
    }
    if (rc == 0) {
        rc = replica_commit(d->replica);
    } else {
        replica_rollback(d->replica);
    }
    if (rc != 0) {
        return rc;
    }
    if (reply->acked < before) {
        d->ack_regressions++;
    } else {
        d->acked_total += reply->acked - before;
    }
    d->more = reply->more;
    d->pulled += result.applied;
    d->foreign += result.refused;
    d->refused += reply->nrefused;
    d->resumes += reply->resume_from != 0;
    return 0;
}

long hubclient_sync_end(struct hubclient_device *d, struct hubclient_request *req, CURLcode result)
{
    struct hubclient_response r;
    hubclient_request_finish(req, result, &r);
    hubclient_request_free(req);
    long status = take_answer(d, &r);
    if (status == 200) {
        struct envelope_limits limits;
        envelope_limits_default(&limits);
        struct delta *reply = NULL;
        char why[300] = "";
        int rc = delta_unpack(ledger_schema_get(), &limits, r.body, r.len, &reply, why, sizeof why);
        if (rc == 0 && reply->type != DELTA_REPLY) {
            rc = SYNC_E_FIELD_TYPE;
        }
        if (rc == 0) {
            rc = take_reply(d, reply);
        }
        if (rc != 0) {
            status = local_failure(d, "reply", rc);
            if (why[0]) {
                snprintf(d->message, sizeof d->message, "reply: %s", why);
            }
            delta_free(reply);
        } else {
            delta_free(d->reply);
            d->reply = reply;
        }
    }
    if (status == 200) {
        d->syncs++;
    } else {
        d->failures++;
    }
    hubclient_response_clear(&r);
    return status;
}

long hubclient_sync(struct hubclient_device *d)
{
    struct hubclient_request *req = hubclient_sync_begin(d);
    if (!req) {
        d->failures++;
        return -1;
    }
    CURLcode rc = curl_easy_perform(hubclient_request_easy(req));
    return hubclient_sync_end(d, req, rc);
}

long hubclient_sync_all(struct hubclient_device *d, unsigned max_syncs)
{
    for (unsigned i = 0; i < max_syncs; i++) {
        long status = hubclient_sync(d);
        if (status != 200) {
            return status;
        }
        if (hubclient_caught_up(d)) {
            return 200;
        }
    }
    return -2;
}

int hubclient_export(struct hubclient_device *d, char **out, size_t *out_len)
{
    struct ledger_io_buffer b = {0};
    int rc = ledger_io_buffer_write(&b, "", 0); /* "" for an empty export, not NULL */
    if (rc == 0) {
        rc = ledger_io_export_jsonl(d->replica, d->village, 0, ledger_io_buffer_write, &b);
    }
    if (rc != 0) {
        ledger_io_buffer_free(&b);
        return rc;
    }
    *out = b.data;
    *out_len = b.len;
    return 0;
}
