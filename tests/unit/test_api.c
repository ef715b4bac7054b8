/* SPDX-License-Identifier: MIT */
/*
 * test_api.c - the hub's endpoints without HTTP: enrolment, authentication,
 * sync with its acknowledgements and refusals, the status of every kind of
 * bad request, conflicts through the store, and the devices and villages
 * the store keeps. A real hub database in a temporary folder; devices are
 * real replicas.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "api.h"
#include "hlc.h"
#include "hub_error.h"
#include "ledger_io.h"
#include "ledger_schema.h"
#include "store.h"
#include "sync_error.h"

struct device {
    struct replica *r;
    char id[UUID7_STRLEN + 1];
    char secret[DEVICES_SECRET_LEN];
    char auth[128];
    const char *village;
    int64_t acked, cursor;
};

struct fixture {
    char dir[64];
    struct store *store;
    struct api_limits limits;
    struct replica_config config;
    struct device a1, a2, b1;
};

static struct replica *open_device(struct fixture *f, const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s.db", f->dir, name);
    struct replica *r;
    assert_int_equal(replica_open(path, &f->config, &r, NULL, 0), 0);
    return r;
}

static void enroll(struct fixture *f, struct device *d, const char *name, const char *village)
{
    char code[DEVICES_CODE_LEN];
    d->r = open_device(f, name);
    d->village = village;
    assert_int_equal(store_device_add(f->store, village, name, 86400000, d->id, code), 0);
    char body[256];
    char node[HLC_HEXLEN + 1];
    hlc_format(replica_node(d->r), node);
    snprintf(body, sizeof body, "{\"device\":\"%s\",\"code\":\"%s\",\"node\":\"%s\"}", d->id, code,
             node);
    struct api_response out;
    api_enroll(f->store, (const uint8_t *)body, strlen(body), &out);
    assert_int_equal(out.status, 200);
    const char *at = strstr((const char *)out.body, "\"secret\":\"");
    assert_non_null(at);
    snprintf(d->secret, sizeof d->secret, "%.43s", at + 10);
    snprintf(d->auth, sizeof d->auth, "Bearer %s.%s", d->id, d->secret);
    api_response_clear(&out);
    /* The code works once. */
    api_enroll(f->store, (const uint8_t *)body, strlen(body), &out);
    assert_int_equal(out.status, 409);
    api_response_clear(&out);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/hamlet-test-api-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    char path[128], why[200];
    snprintf(path, sizeof path, "%s/hub.db", f->dir);
    assert_int_equal(store_open(path, 0, &f->store, why, sizeof why), HUB_E_NOT_FOUND);
    assert_int_equal(store_open(path, 1, &f->store, why, sizeof why), 0);
    assert_int_equal(store_village_add(f->store, "yangliu", "杨柳村"), 0);
    assert_int_equal(store_village_add(f->store, "taohua", "桃花村"), 0);
    api_limits_default(&f->limits);
    ledger_schema_config(&f->config, 0);
    enroll(f, &f->a1, "a1", "yangliu");
    enroll(f, &f->a2, "a2", "yangliu");
    enroll(f, &f->b1, "b1", "taohua");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    replica_close(f->a1.r);
    replica_close(f->a2.r);
    replica_close(f->b1.r);
    store_close(f->store);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* Build a push of the device's pending changes, as envelope bytes. */
static uint8_t *push_bytes(struct device *d, int64_t after, const char *part, size_t *len)
{
    struct delta *push = delta_new(DELTA_PUSH);
    push->node = replica_node(d->r);
    snprintf(push->part, sizeof push->part, "%s", part ? part : d->village);
    push->cursor = d->cursor;
    push->pull_bytes = 1 << 20;
    push->time_ms = hlc_wall(replica_clock(d->r));
    assert_int_equal(replica_pending(d->r, after, 1 << 20, push), 0);
    uint8_t *bytes;
    assert_int_equal(delta_pack(ledger_schema_get(), push, 6, &bytes, len), 0);
    delta_free(push);
    return bytes;
}

/* One sync through api_sync; returns the status and applies a 200 reply. */
static int sync_once(struct fixture *f, struct device *d, struct delta **reply_out)
{
    size_t len;
    uint8_t *bytes = push_bytes(d, d->acked, NULL, &len);
    struct api_response out;
    api_sync(f->store, &f->limits, d->auth, bytes, len, &out);
    free(bytes);
    int status = out.status;
    if (status == 200) {
        struct delta *reply;
        assert_int_equal(delta_unpack(ledger_schema_get(), &f->limits.envelope, out.body, out.len,
                                      &reply, NULL, 0),
                         0);
        struct replica_apply_opts opts = {reply->node, d->village, 0};
        struct replica_apply_result result;
        assert_int_equal(replica_apply(d->r, reply, &opts, &result, NULL), 0);
        d->acked = reply->acked;
        d->cursor = reply->cursor;
        if (reply_out) {
            *reply_out = reply;
        } else {
            delta_free(reply);
        }
    }
    api_response_clear(&out);
    return status;
}

static void new_case(struct device *d, const char *village, char id[UUID7_STRLEN + 1],
                     const char *status)
{
    assert_int_equal(uuid7_now(id), 0);
    const char *cols[] = {"title", "status"};
    struct sync_value vals[] = {{.type = SYNC_TEXT, .s = "土地纠纷"},
                                {.type = SYNC_TEXT, .s = status}};
    assert_int_equal(replica_put(d->r, "cases", id, village, 2, cols, vals, NULL), 0);
}

struct buffer {
    char data[1 << 16];
    size_t len;
};

static int to_buffer(void *ctx, const char *data, size_t len)
{
    struct buffer *b = ctx;
    assert_true(b->len + len < sizeof b->data);
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

static void test_sync_round_trip(void **state)
{
    struct fixture *f = *state;
    char id[UUID7_STRLEN + 1];
    new_case(&f->a1, "yangliu", id, "registered");
    struct delta *reply;
    assert_int_equal(sync_once(f, &f->a1, &reply), 200);
    assert_int_equal(reply->acked, 1);
    assert_int_equal(reply->resume_from, 0);
    assert_true(reply->time_ms > 0);
    delta_free(reply);
    assert_int_equal(sync_once(f, &f->a2, NULL), 200);
    assert_int_equal(sync_once(f, &f->b1, NULL), 200);
    struct buffer hub = {.len = 0}, a2 = {.len = 0}, b1 = {.len = 0};
    assert_int_equal(store_export(f->store, "yangliu", 0, to_buffer, &hub), 0);
    assert_int_equal(ledger_io_export_jsonl(f->a2.r, "yangliu", 0, to_buffer, &a2), 0);
    assert_int_equal(ledger_io_export_jsonl(f->b1.r, NULL, 0, to_buffer, &b1), 0);
    assert_string_equal(hub.data, a2.data);
    assert_non_null(strstr(hub.data, id));
    assert_int_equal(b1.len, 0); /* the other village sees nothing */
}

static void test_same_batch_twice_and_gap(void **state)
{
    struct fixture *f = *state;
    char id[UUID7_STRLEN + 1];
    new_case(&f->a1, "yangliu", id, "registered");
    size_t len;
    uint8_t *bytes = push_bytes(&f->a1, 0, NULL, &len);
    struct api_response out;
    for (int i = 0; i < 3; i++) {
        api_sync(f->store, &f->limits, f->a1.auth, bytes, len, &out);
        assert_int_equal(out.status, 200);
        api_response_clear(&out);
    }
    free(bytes);
    struct buffer once = {.len = 0};
    assert_int_equal(store_export(f->store, NULL, 0, to_buffer, &once), 0);
    /* Two more changes, sent without the first: a gap. */
    const char *cols[] = {"status"};
    struct sync_value v = {.type = SYNC_TEXT, .s = "accepted"};
    assert_int_equal(replica_put(f->a1.r, "cases", id, "yangliu", 1, cols, &v, NULL), 0);
    v.s = "mediating";
    assert_int_equal(replica_put(f->a1.r, "cases", id, "yangliu", 1, cols, &v, NULL), 0);
    bytes = push_bytes(&f->a1, 2, NULL, &len);
    api_sync(f->store, &f->limits, f->a1.auth, bytes, len, &out);
    free(bytes);
    assert_int_equal(out.status, 200);
    struct delta *reply;
    assert_int_equal(
        delta_unpack(ledger_schema_get(), &f->limits.envelope, out.body, out.len, &reply, NULL, 0),
        0);
    assert_int_equal(reply->acked, 1);
    assert_int_equal(reply->resume_from, 2);
    delta_free(reply);
    api_response_clear(&out);
    struct buffer after = {.len = 0};
    assert_int_equal(store_export(f->store, NULL, 0, to_buffer, &after), 0);
    assert_string_equal(once.data, after.data);
}

static void test_authentication(void **state)
{
    struct fixture *f = *state;
    size_t len;
    uint8_t *bytes = push_bytes(&f->a1, 0, NULL, &len);
    struct api_response out;
    const char *bad[] = {NULL, "", "Basic abc", "Bearer nonsense", "Bearer x.y"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        api_sync(f->store, &f->limits, bad[i], bytes, len, &out);
        assert_int_equal(out.status, 401);
        api_response_clear(&out);
    }
    char wrong[128];
    snprintf(wrong, sizeof wrong, "Bearer %s.%s", f->a1.id, f->a2.secret);
    api_sync(f->store, &f->limits, wrong, bytes, len, &out);
    assert_int_equal(out.status, 401);
    api_response_clear(&out);
    /* Revoked: refused from the next request on, with its own name. */
    assert_int_equal(store_device_revoke(f->store, f->a1.id), 0);
    api_sync(f->store, &f->limits, f->a1.auth, bytes, len, &out);
    assert_int_equal(out.status, 401);
    assert_non_null(strstr((const char *)out.body, "\"revoked\""));
    api_response_clear(&out);
    free(bytes);
    assert_int_equal(store_device_revoke(f->store, "019b7a3c-5e00-7a21-9c3e-2f6b1d0a4e55"),
                     HUB_E_NOT_FOUND);
    /* A device cannot push as another one. */
    bytes = push_bytes(&f->a2, 0, NULL, &len);
    snprintf(wrong, sizeof wrong, "%s", f->b1.auth);
    api_sync(f->store, &f->limits, wrong, bytes, len, &out);
    assert_int_equal(out.status, 403);
    api_response_clear(&out);
    free(bytes);
}

static void test_other_village_refused(void **state)
{
    struct fixture *f = *state;
    char own[UUID7_STRLEN + 1], foreign[UUID7_STRLEN + 1];
    new_case(&f->a1, "yangliu", own, "registered");
    new_case(&f->a1, "taohua", foreign, "registered");
    struct delta *reply;
    assert_int_equal(sync_once(f, &f->a1, &reply), 200);
    assert_int_equal(reply->acked, 2);
    assert_int_equal(reply->nrefused, 1);
    assert_int_equal(reply->refused[0].seq, 2);
    delta_free(reply);
    struct buffer hub = {.len = 0};
    assert_int_equal(store_export(f->store, NULL, 0, to_buffer, &hub), 0);
    assert_non_null(strstr(hub.data, own));
    assert_null(strstr(hub.data, foreign));
    /* Asking for another village's changes is refused whole. */
    size_t len;
    uint8_t *bytes = push_bytes(&f->a1, 2, "taohua", &len);
    struct api_response out;
    api_sync(f->store, &f->limits, f->a1.auth, bytes, len, &out);
    assert_int_equal(out.status, 403);
    assert_non_null(strstr((const char *)out.body, "partition"));
    api_response_clear(&out);
    free(bytes);
}

static void test_malformed_bodies(void **state)
{
    struct fixture *f = *state;
    char id[UUID7_STRLEN + 1];
    new_case(&f->a1, "yangliu", id, "registered");
    size_t len;
    uint8_t *good = push_bytes(&f->a1, 0, NULL, &len);
    struct {
        const char *what;
        size_t cut;     /* bytes kept (0: all) */
        size_t flip_at; /* byte to change (0: none) */
        int status;
        const char *name;
    } cases[] = {
        {"truncated", 10, 0, 400, "env_truncated"},
        {"bad magic", 0, 1, 400, "env_magic"},
        {"unknown version", 0, 5, 400, "env_version"},
        {"damaged body", 0, 30, 400, "env_crc"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t *copy = malloc(len);
        memcpy(copy, good, len);
        if (cases[i].flip_at) {
            copy[cases[i].flip_at - 1] ^= 0x5a;
        }
        struct api_response out;
        api_sync(f->store, &f->limits, f->a1.auth, copy, cases[i].cut ? cases[i].cut : len, &out);
        assert_int_equal(out.status, cases[i].status);
        assert_non_null(strstr((const char *)out.body, cases[i].name));
        api_response_clear(&out);
        free(copy);
    }
    free(good);
    /* JSON problems, each sealed in a good envelope. */
    const char *bodies[][2] = {
        {"[1,2]", "json_not_object"},
        {"{\"hamlet\":1,", "json"},
        {"{\"hamlet\":3,\"type\":\"push\"}", "delta_version"},
        {"{\"hamlet\":1,\"type\":\"push\",\"node\":\"00\"}", "field_type"},
        {"\xff\xfe", "utf8"},
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        uint8_t *env;
        size_t env_len;
        assert_int_equal(envelope_seal(bodies[i][0], strlen(bodies[i][0]), 6, &env, &env_len), 0);
        struct api_response out;
        api_sync(f->store, &f->limits, f->a1.auth, env, env_len, &out);
        assert_int_equal(out.status, 400);
        assert_non_null(strstr((const char *)out.body, bodies[i][1]));
        api_response_clear(&out);
        free(env);
    }
    /* Over the size limit. */
    struct api_limits small = f->limits;
    small.max_request = 16;
    struct api_response out;
    api_sync(f->store, &small, f->a1.auth, (const uint8_t *)"0123456789abcdefX", 17, &out);
    assert_int_equal(out.status, 413);
    api_response_clear(&out);
    /* Nothing of all that was stored. */
    struct buffer hub = {.len = 0};
    assert_int_equal(store_export(f->store, NULL, 0, to_buffer, &hub), 0);
    assert_int_equal(hub.len, 0);
}

static void test_enroll_refusals(void **state)
{
    struct fixture *f = *state;
    char id[UUID7_STRLEN + 1], code[DEVICES_CODE_LEN], body[256];
    const char *bad[] = {"", "{}", "not json", "{\"device\":\"x\",\"code\":\"y\",\"node\":\"z\"}"};
    struct api_response out;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        api_enroll(f->store, (const uint8_t *)bad[i], strlen(bad[i]), &out);
        assert_int_equal(out.status, 400);
        api_response_clear(&out);
    }
    assert_int_equal(store_device_add(f->store, "yangliu", NULL, 86400000, id, code), 0);
    snprintf(body, sizeof body,
             "{\"device\":\"%s\",\"code\":\"wrong\",\"node\":\"00000000000000aa\"}", id);
    api_enroll(f->store, (const uint8_t *)body, strlen(body), &out);
    assert_int_equal(out.status, 401);
    api_response_clear(&out);
    /* A node that another device holds already. */
    char node[HLC_HEXLEN + 1];
    hlc_format(replica_node(f->a1.r), node);
    snprintf(body, sizeof body, "{\"device\":\"%s\",\"code\":\"%s\",\"node\":\"%s\"}", id, code,
             node);
    api_enroll(f->store, (const uint8_t *)body, strlen(body), &out);
    assert_int_equal(out.status, 409);
    api_response_clear(&out);
    /* An expired code. */
    assert_int_equal(store_device_add(f->store, "yangliu", NULL, -1, id, code), 0);
    snprintf(body, sizeof body, "{\"device\":\"%s\",\"code\":\"%s\",\"node\":\"00000000000000bb\"}",
             id, code);
    api_enroll(f->store, (const uint8_t *)body, strlen(body), &out);
    assert_int_equal(out.status, 410);
    api_response_clear(&out);
    /* A revoked device cannot enrol. */
    assert_int_equal(store_device_add(f->store, "yangliu", NULL, 86400000, id, code), 0);
    assert_int_equal(store_device_revoke(f->store, id), 0);
    snprintf(body, sizeof body, "{\"device\":\"%s\",\"code\":\"%s\",\"node\":\"00000000000000cc\"}",
             id, code);
    api_enroll(f->store, (const uint8_t *)body, strlen(body), &out);
    assert_int_equal(out.status, 403);
    api_response_clear(&out);
    assert_int_equal(store_device_add(f->store, "nowhere", NULL, 1000, id, code), HUB_E_NOT_FOUND);
}

static int count_open(void *ctx, const struct store_conflict *c)
{
    (*(int *)ctx)++;
    assert_string_equal(c->column, "status");
    return 0;
}

static void test_conflict_review(void **state)
{
    struct fixture *f = *state;
    char id[UUID7_STRLEN + 1];
    new_case(&f->a1, "yangliu", id, "registered");
    assert_int_equal(sync_once(f, &f->a1, NULL), 200);
    assert_int_equal(sync_once(f, &f->a2, NULL), 200);
    const char *cols[] = {"status"};
    struct sync_value v = {.type = SYNC_TEXT, .s = "mediating"};
    assert_int_equal(replica_put(f->a1.r, "cases", id, "yangliu", 1, cols, &v, NULL), 0);
    v.s = "referred";
    assert_int_equal(replica_put(f->a2.r, "cases", id, "yangliu", 1, cols, &v, NULL), 0);
    struct delta *reply;
    assert_int_equal(sync_once(f, &f->a1, NULL), 200);
    assert_int_equal(sync_once(f, &f->a2, &reply), 200);
    assert_int_equal(reply->conflicts, 1);
    delta_free(reply);
    int open = 0;
    assert_int_equal(store_conflict_list(f->store, "yangliu", 1, count_open, &open), 0);
    assert_int_equal(open, 1);
    struct store_conflict c;
    assert_int_equal(store_conflict_get(f->store, 1, &c), 0);
    assert_string_equal(c.standing, "mediating");
    assert_string_equal(c.incoming, "referred");
    assert_string_equal(c.standing_device, f->a1.id);
    assert_string_equal(c.incoming_device, f->a2.id);
    assert_int_equal(store_conflict_resolve(f->store, 1, "nonsense", NULL, "tester"), HUB_E_ARG);
    assert_int_equal(store_conflict_resolve(f->store, 1, "standing", NULL, "张主任"), 0);
    assert_int_equal(store_conflict_resolve(f->store, 1, "incoming", NULL, "张主任"), SYNC_E_STATE);
    open = 0;
    assert_int_equal(store_conflict_list(f->store, NULL, 1, count_open, &open), 0);
    assert_int_equal(open, 0);
    /* The decision reaches both laptops. */
    assert_int_equal(sync_once(f, &f->a1, NULL), 200);
    assert_int_equal(sync_once(f, &f->a2, NULL), 200);
    struct buffer hub = {.len = 0}, a1 = {.len = 0}, a2 = {.len = 0};
    assert_int_equal(store_export(f->store, "yangliu", 0, to_buffer, &hub), 0);
    assert_int_equal(ledger_io_export_jsonl(f->a1.r, "yangliu", 0, to_buffer, &a1), 0);
    assert_int_equal(ledger_io_export_jsonl(f->a2.r, "yangliu", 0, to_buffer, &a2), 0);
    assert_string_equal(hub.data, a1.data);
    assert_string_equal(hub.data, a2.data);
    assert_non_null(strstr(hub.data, "\"status\":\"mediating\""));
}

static int count_entries(void *ctx, const struct store_history_entry *e)
{
    (*(int *)ctx)++;
    assert_non_null(e->body);
    assert_true(e->received_ms > 0);
    return 0;
}

static void test_history_and_devices(void **state)
{
    struct fixture *f = *state;
    char id[UUID7_STRLEN + 1];
    new_case(&f->a1, "yangliu", id, "registered");
    const char *cols[] = {"status"};
    struct sync_value v = {.type = SYNC_TEXT, .s = "accepted"};
    assert_int_equal(replica_put(f->a1.r, "cases", id, "yangliu", 1, cols, &v, NULL), 0);
    assert_int_equal(sync_once(f, &f->a1, NULL), 200);
    int entries = 0;
    assert_int_equal(store_history(f->store, "cases", id, count_entries, &entries), 0);
    assert_int_equal(entries, 2);
    assert_int_equal(store_village_add(f->store, "yangliu", "again"), HUB_E_EXISTS);
    assert_int_equal(store_village_add(f->store, "has space", "x"), HUB_E_ARG);
    assert_int_equal(store_village_add(f->store, "", "x"), HUB_E_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sync_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_batch_twice_and_gap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_authentication, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_village_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_bodies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enroll_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflict_review, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_and_devices, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
