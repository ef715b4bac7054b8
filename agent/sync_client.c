/* SPDX-License-Identifier: MIT */
/*
 * sync_client.c - sync rounds, batch sizing, the clock, and enrolment.
 */
#include "sync_client.h"

#include "delta.h"
#include "hlc.h"
#include "https.h"
#include "ledger_schema.h"
#include "rules.h"
#include "sync_error.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#define ENVELOPE_TYPE "application/x-hamlet-envelope"

struct hub {
    char url[LOCAL_TEXT], pin[LOCAL_TEXT], device[LOCAL_TEXT], secret[LOCAL_TEXT];
    char auth[2 * LOCAL_TEXT + 16];
};

static int load_hub(struct local *l, struct hub *h)
{
    if (local_get(l, "agent.hub_url", h->url, sizeof h->url) != 0 ||
        local_get(l, "agent.pin", h->pin, sizeof h->pin) != 0 ||
        local_get(l, "agent.device", h->device, sizeof h->device) != 0 ||
        local_get(l, "agent.secret", h->secret, sizeof h->secret) != 0) {
        return -1;
    }
    snprintf(h->auth, sizeof h->auth, "Bearer %s.%s", h->device, h->secret);
    return 0;
}

int sync_client_lock(struct local *l)
{
    char path[LOCAL_TEXT + 8];
    snprintf(path, sizeof path, "%s.lock", l->path);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

void sync_client_unlock(int fd)
{
    if (fd >= 0) {
        flock(fd, LOCK_UN);
        close(fd);
    }
}

static int64_t system_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The hub's {"error","message"} as one sentence. */
static void hub_error_text(const struct https_response *resp, char *out, size_t len)
{
    cJSON *obj = resp->body ? cJSON_ParseWithLength((const char *)resp->body, resp->len) : NULL;
    const cJSON *message = cJSON_GetObjectItemCaseSensitive(obj, "message");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(obj, "error");
    if (cJSON_IsString(message)) {
        snprintf(out, len, "the hub answered %ld: %s (%s)", resp->status, message->valuestring,
                 cJSON_IsString(name) ? name->valuestring : "error");
    } else {
        snprintf(out, len, "the hub answered %ld", resp->status);
    }
    cJSON_Delete(obj);
}

/* Follow the hub's clock: correct ours by what it says, less half the round
 * trip. */
static void follow_clock(struct local *l, int64_t hub_ms, int64_t sent_ms, int64_t got_ms,
                         struct sync_client_summary *s)
{
    int64_t local_mid = sent_ms + (got_ms - sent_ms) / 2;
    int64_t offset = hub_ms - local_mid;
    s->clock_offset_ms = offset;
    s->clock_off = offset > SYNC_CLIENT_CLOCK_WARN_MS || offset < -SYNC_CLIENT_CLOCK_WARN_MS;
    int64_t stored = local_get_int(l, "agent.clock_offset_ms", 0);
    if (offset - stored > 1000 || stored - offset > 1000) {
        local_set_int(l, "agent.clock_offset_ms", offset);
        hlc_correct(replica_clock(l->replica), offset);
    }
}

/* One round trip, on the sync's session. 1: more to do; 0: caught up; -1:
 * failed (s->error). */
static int sync_round(struct local *l, const struct hub *h, struct https_session *session,
                      size_t batch, struct sync_client_summary *s)
{
    const struct schema *schema = ledger_schema_get();
    struct envelope_limits limits;
    envelope_limits_default(&limits);
    int64_t acked = local_get_int(l, "agent.acked", 0);
    struct delta *push = delta_new(DELTA_PUSH);
    if (!push) {
        snprintf(s->error, sizeof s->error, "out of memory");
        return -1;
    }
    push->node = replica_node(l->replica);
    snprintf(push->part, sizeof push->part, "%.*s", DELTA_MAX_PART, l->village);
    push->time_ms = hlc_wall(replica_clock(l->replica));
    push->clock = hlc_last(replica_clock(l->replica));
    push->cursor = local_get_int(l, "agent.cursor", 0);
    push->pull_bytes = (int64_t)batch;
    int rc = replica_pending(l->replica, acked, batch, push);
    uint8_t *body = NULL;
    size_t len = 0;
    if (rc == 0) {
        rc = delta_pack(schema, push, 9, &body, &len);
    }
    size_t pushed = push->nchanges;
    delta_free(push);
    if (rc != 0) {
        snprintf(s->error, sizeof s->error, "cannot build the batch: %s", sync_strerror(rc));
        return -1;
    }
    char url[LOCAL_TEXT + 16];
    snprintf(url, sizeof url, "%s/v1/sync", h->url);
    struct https_request req = {
        .url = url,
        .pin = h->pin,
        .authorization = h->auth,
        .content_type = ENVELOPE_TYPE,
        .body = body,
        .len = len,
    };
    struct https_response resp;
    int64_t sent_ms = system_ms();
    rc = https_post(session, &req, &resp);
    int64_t got_ms = system_ms();
    free(body);
    s->bytes_up += resp.bytes_up;
    s->bytes_down += resp.bytes_down;
    local_count_bytes(l, resp.bytes_up, resp.bytes_down);
    if (rc != 0) {
        snprintf(s->error, sizeof s->error, "%s", resp.error);
        s->pin_mismatch = resp.pin_mismatch;
        https_response_clear(&resp);
        return -1;
    }
    if (resp.status != 200) {
        hub_error_text(&resp, s->error, sizeof s->error);
        s->revoked = resp.status == 401 && strstr((const char *)resp.body, "revoked") != NULL;
        https_response_clear(&resp);
        return -1;
    }
    struct delta *reply = NULL;
    char why[300];
    rc = delta_unpack(schema, &limits, resp.body, resp.len, &reply, why, sizeof why);
    https_response_clear(&resp);
    if (rc == 0 && reply->type != DELTA_REPLY) {
        rc = SYNC_E_FIELD_TYPE;
        snprintf(why, sizeof why, "not a reply");
    }
    if (rc != 0) {
        snprintf(s->error, sizeof s->error, "the hub's answer is malformed: %s", why);
        delta_free(reply);
        return -1;
    }
    /* Apply the pull and move the cursor together: a crash repeats at most
     * this page. */
    struct replica_apply_opts opts = {reply->node, l->village, 0};
    struct replica_apply_result result;
    rc = replica_begin(l->replica);
    if (rc == 0) {
        rc = replica_apply(l->replica, reply, &opts, &result, NULL);
    }
    int64_t new_acked = reply->resume_from ? reply->resume_from - 1 : reply->acked;
    if (rc == 0 && (rc = local_set_int(l, "agent.acked", new_acked)) == 0 &&
        (rc = local_set_int(l, "agent.cursor", reply->cursor)) == 0) {
        rc = replica_commit(l->replica);
    } else {
        replica_rollback(l->replica);
    }
    if (rc != 0) {
        snprintf(s->error, sizeof s->error, "cannot store what the hub sent: %s",
                 sync_strerror(rc));
        delta_free(reply);
        return -1;
    }
    follow_clock(l, reply->time_ms, sent_ms, got_ms, s);
    s->sent += reply->resume_from ? 0 : (int64_t)pushed;
    s->received += (int64_t)result.applied;
    s->refused += (int64_t)reply->nrefused;
    s->conflicts += reply->conflicts;
    if (reply->nrefused) {
        local_set_int(l, "agent.refused_total",
                      local_get_int(l, "agent.refused_total", 0) + (int64_t)reply->nrefused);
        local_set(l, "agent.last_refusal", reply->refused[reply->nrefused - 1].message);
    }
    int more = reply->more || replica_own_seq(l->replica) > new_acked;
    delta_free(reply);
    return more;
}

int sync_client_run(struct local *l, int max_failures, struct sync_client_summary *s)
{
    memset(s, 0, sizeof *s);
    struct hub h;
    if (!l->village[0] || load_hub(l, &h) != 0) {
        snprintf(s->error, sizeof s->error,
                 "this laptop is not enrolled with a hub yet (hamlet enroll CODE)");
        return -1;
    }
    int lock = sync_client_lock(l);
    if (lock < 0) {
        s->busy = 1;
        snprintf(s->error, sizeof s->error, "another sync of this ledger is running");
        return -1;
    }
    /* One session for all the rounds: they share a connection while it
     * lasts, and a round after a cut makes a new one. */
    struct https_session *session = https_session_new();
    if (!session) {
        snprintf(s->error, sizeof s->error, "cannot start libcurl (out of memory?)");
        sync_client_unlock(lock);
        return -1;
    }
    int64_t batch = local_get_int(l, "agent.batch_bytes", SYNC_CLIENT_MAX_BATCH);
    int failures = 0, rc = 0;
    for (;;) {
        if (batch < SYNC_CLIENT_MIN_BATCH) {
            batch = SYNC_CLIENT_MIN_BATCH;
        }
        if (batch > SYNC_CLIENT_MAX_BATCH) {
            batch = SYNC_CLIENT_MAX_BATCH;
        }
        s->rounds++;
        rc = sync_round(l, &h, session, (size_t)batch, s);
        if (rc >= 0) {
            failures = 0;
            batch *= 2;
            if (rc == 0) {
                break;
            }
            continue;
        }
        s->failures++;
        if (s->revoked || s->pin_mismatch) {
            break; /* no retry can change these */
        }
        batch /= 2;
        if (++failures >= max_failures) {
            break;
        }
        /* Give a cut link a moment, a little longer each time. */
        struct timespec pause = {failures < 4 ? failures : 4, 0};
        nanosleep(&pause, NULL);
    }
    https_session_free(session);
    local_set_int(l, "agent.batch_bytes", batch);
    local_set_int(l, "agent.last_sync_ms", system_ms());
    local_set(l, "agent.last_result", rc == 0 ? "ok" : s->error);
    if (rc == 0) {
        local_set_int(l, "agent.last_ok_ms", system_ms());
    }
    sync_client_unlock(lock);
    return rc == 0 ? 0 : -1;
}

/* ---- enrolment ---- */

int sync_client_enroll(struct local *l, const char *code, char *why, size_t why_len)
{
    static const char prefix[] = "HAMLET1:";
    char copy[2048];
    if (!code || strncmp(code, prefix, sizeof prefix - 1) != 0 || strlen(code) >= sizeof copy) {
        snprintf(why, why_len, "not an enrolment code (it starts with %s)", prefix);
        return -1;
    }
    snprintf(copy, sizeof copy, "%s", code + sizeof prefix - 1);
    /* Trailing spaces and line ends come with pasted codes. */
    size_t n = strlen(copy);
    while (n > 0 && (copy[n - 1] == '\n' || copy[n - 1] == '\r' || copy[n - 1] == ' ')) {
        copy[--n] = '\0';
    }
    char *parts[4];
    char *p = copy;
    for (int i = 0; i < 4; i++) {
        parts[i] = p;
        char *bar = strchr(p, '|');
        if (i < 3) {
            if (!bar) {
                snprintf(why, why_len, "the enrolment code is incomplete (4 parts expected)");
                return -1;
            }
            *bar = '\0';
            p = bar + 1;
        } else if (bar) {
            snprintf(why, why_len, "the enrolment code has too many parts");
            return -1;
        }
    }
    const char *url = parts[0], *pin = parts[1], *device = parts[2], *secret = parts[3];
    if (strncmp(url, "https://", 8) != 0 || strncmp(pin, "sha256//", 8) != 0 ||
        !uuid7_valid(device) || !secret[0]) {
        snprintf(why, why_len, "the enrolment code is damaged (check that it was copied whole)");
        return -1;
    }
    char node[HLC_HEXLEN + 1], body[512], endpoint[LOCAL_TEXT + 16];
    hlc_format(replica_node(l->replica), node);
    snprintf(body, sizeof body, "{\"device\":\"%s\",\"code\":\"%s\",\"node\":\"%s\"}", device,
             secret, node);
    snprintf(endpoint, sizeof endpoint, "%s/v1/enroll", url);
    struct https_request req = {.url = endpoint,
                                .pin = pin,
                                .content_type = "application/json",
                                .body = (const uint8_t *)body,
                                .len = strlen(body)};
    struct https_session *session = https_session_new();
    if (!session) {
        snprintf(why, why_len, "cannot start libcurl (out of memory?)");
        return -1;
    }
    struct https_response resp;
    int posted = https_post(session, &req, &resp);
    https_session_free(session);
    if (posted != 0) {
        snprintf(why, why_len, "cannot reach the hub at %s: %s", url, resp.error);
        https_response_clear(&resp);
        return -1;
    }
    if (resp.status != 200) {
        hub_error_text(&resp, why, why_len);
        https_response_clear(&resp);
        return -1;
    }
    cJSON *obj = cJSON_ParseWithLength((const char *)resp.body, resp.len);
    https_response_clear(&resp);
    const cJSON *credential = cJSON_GetObjectItemCaseSensitive(obj, "secret");
    const cJSON *village = cJSON_GetObjectItemCaseSensitive(obj, "village");
    const cJSON *time_ms = cJSON_GetObjectItemCaseSensitive(obj, "time");
    const cJSON *device_code = cJSON_GetObjectItemCaseSensitive(obj, "device_code");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(obj, "village_name");
    int rc = -1;
    if (!cJSON_IsString(credential) || !cJSON_IsString(village)) {
        snprintf(why, why_len, "the hub's answer to enrolment is malformed");
    } else if (l->village[0] && strcmp(l->village, village->valuestring) != 0) {
        snprintf(why, why_len, "this ledger belongs to village %s, but the code is for village %s",
                 l->village, village->valuestring);
    } else if (replica_begin(l->replica) == 0) {
        rc = local_set_village(l, village->valuestring,
                               cJSON_IsString(name) ? name->valuestring : NULL);
        rc = rc ? rc : local_set(l, "agent.hub_url", url);
        rc = rc ? rc : local_set(l, "agent.pin", pin);
        rc = rc ? rc : local_set(l, "agent.device", device);
        rc = rc ? rc : local_set(l, "agent.secret", credential->valuestring);
        rc = rc ? rc : local_set_int(l, "agent.enrolled_ms", system_ms());
        /* The code the hub gave, unique in the village, for case numbers. */
        if (rc == 0 && cJSON_IsString(device_code) &&
            rules_device_code_valid(device_code->valuestring)) {
            rc = local_set(l, "agent.device_code", device_code->valuestring);
        }
        if (rc == 0 && replica_commit(l->replica) == 0) {
            if (cJSON_IsNumber(time_ms)) {
                struct sync_client_summary unused;
                memset(&unused, 0, sizeof unused);
                follow_clock(l, (int64_t)time_ms->valuedouble, system_ms(), system_ms(), &unused);
            }
        } else {
            replica_rollback(l->replica);
            snprintf(why, why_len, "cannot store the enrolment: %s", sync_strerror(rc));
            rc = -1;
        }
    }
    cJSON_Delete(obj);
    return rc;
}
