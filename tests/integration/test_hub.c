/* SPDX-License-Identifier: MIT */
/*
 * test_hub.c - the township hub as village laptops meet it: the real
 * `hamlet-hub serve` on loopback, real HTTPS with the hub's key pinned, and
 * replicas that sync through tests/tools/hubclient. Each test gets a hub of
 * its own in a temporary folder (tests/tools/hubproc) and checks what a
 * township would notice: cases reaching the right laptops and no others,
 * batches acknowledged exactly once, refusals that say why, limits that
 * hold, and a hub that loses nothing when it is killed mid-merge.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "hlc.h"
#include "hubclient.h"
#include "hubproc.h"
#include "ledger_schema.h"
#include "sync_error.h"
#include "uuid7.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define MAX_DEVICES   256
#define LOAD_DEVICES  200
#define LOAD_VILLAGES 8
#define LOAD_ROUNDS   3
#define KILLS         20
#define KILL_DEVICES  6
#define MIB           ((size_t)1 << 20)

struct fixture {
    struct hubproc *hub;
    struct hubclient_device *dev[MAX_DEVICES];
    size_t ndev;
};

/* ---- helpers ---- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int setup_with(void **state, const char *const *serve_args)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f || hubproc_new(serve_args, &f->hub) != 0 || hubproc_start(f->hub) != 0) {
        if (f) {
            hubproc_free(f->hub);
        }
        free(f);
        return -1;
    }
    printf("  hub: %s in %s\n", f->hub->url, f->hub->dir);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_with(state, NULL);
}

static int setup_idle(void **state)
{
    const char *args[] = {"--idle-timeout", "2", NULL};
    return setup_with(state, args);
}

static int setup_rate(void **state)
{
    const char *args[] = {"--device-rate", "5", NULL};
    return setup_with(state, args);
}

static int setup_unlimited(void **state)
{
    const char *args[] = {"--device-rate", "100000", NULL};
    return setup_with(state, args);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    for (size_t i = 0; i < f->ndev; i++) {
        hubclient_device_free(f->dev[i]);
    }
    int status = hubproc_stop(f->hub);
    if (status != 0) {
        fprintf(stderr, "  the hub did not stop cleanly on SIGTERM (status %d)\n", status);
    }
    hubproc_free(f->hub);
    free(f);
    return status == 0 ? 0 : -1;
}

/* A laptop of the village, without enrolling it. */
static struct hubclient_device *device_from_code(struct fixture *f, const char *code)
{
    assert_true(f->ndev < MAX_DEVICES);
    char path[HUBPROC_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/device-%zu.db", f->hub->dir, f->ndev);
    struct hubclient_device *d = NULL;
    assert_int_equal(hubclient_device_new(path, code, f->hub->cert, &d), 0);
    f->dev[f->ndev++] = d;
    return d;
}

/* A laptop of the village, enrolled. */
static struct hubclient_device *new_device(struct fixture *f, const char *village)
{
    char code[HUBPROC_CODE_MAX];
    assert_int_equal(hubproc_device_add(f->hub, village, code, sizeof code), 0);
    struct hubclient_device *d = device_from_code(f, code);
    long status = hubclient_enroll(d);
    if (status != 200) {
        fprintf(stderr, "  enrol: %ld %s: %s\n", status, d->error, d->message);
    }
    assert_int_equal(status, 200);
    assert_string_equal(d->village, village);
    return d;
}

static long sync_ok(struct hubclient_device *d)
{
    long status = hubclient_sync_all(d, 1000);
    if (status != 200) {
        fprintf(stderr, "  sync of %s: %ld %s: %s\n", d->code.device, status, d->error, d->message);
    }
    return status;
}

static struct sync_value text(const char *s)
{
    return (struct sync_value){.type = SYNC_TEXT, .s = s};
}

static struct sync_value integer(int64_t i)
{
    return (struct sync_value){.type = SYNC_INT, .i = i};
}

/* A new case in partition part (normally the device's village). */
static void put_case(struct hubclient_device *d, const char *part, char id[UUID7_STRLEN + 1],
                     const char *title, const char *facts)
{
    assert_int_equal(uuid7_now(id), 0);
    const char *cols[] = {"case_no", "title", "status", "severity", "facts", "created_at"};
    struct sync_value vals[] = {text(title), text(title), text("registered"),
                                integer(2),  text(facts), text("2026-01-01T08:00:00+08:00")};
    int changed = 0;
    assert_int_equal(replica_put(d->replica, "cases", id, part, 6, cols, vals, &changed), 0);
    assert_int_equal(changed, 1);
}

static void new_case(struct hubclient_device *d, char id[UUID7_STRLEN + 1], const char *title)
{
    put_case(d, d->village, id, title, "两户因宅基地边界发生争执");
}

static void set_field(struct hubclient_device *d, const char *part, const char *id,
                      const char *column, const char *value)
{
    const char *cols[] = {column};
    struct sync_value vals[] = {text(value)};
    assert_int_equal(replica_put(d->replica, "cases", id, part, 1, cols, vals, NULL), 0);
}

static void add_event(struct hubclient_device *d, const char *case_id, const char *note)
{
    char id[UUID7_STRLEN + 1];
    assert_int_equal(uuid7_now(id), 0);
    const char *cols[] = {"case_id", "date", "kind", "note"};
    struct sync_value vals[] = {text(case_id), text("2026-01-02"), text("visit"), text(note)};
    assert_int_equal(replica_append(d->replica, "events", id, d->village, 4, cols, vals), 0);
}

static char *hub_export(struct fixture *f, const char *village)
{
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(hubproc_export(f->hub, village, &out, &len), 0);
    return out;
}

static char *device_export(struct hubclient_device *d)
{
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(hubclient_export(d, &out, &len), 0);
    return out;
}

/* The device's export equals the hub's export of its village, byte for byte. */
static void assert_same_as_hub(struct fixture *f, struct hubclient_device *d)
{
    char *hub = hub_export(f, d->village);
    char *mine = device_export(d);
    if (strcmp(hub, mine) != 0) {
        fprintf(stderr,
                "  export of device %s differs from the hub's export of %s\n"
                "  hub:    %.300s\n  device: %.300s\n",
                d->code.device, d->village, hub, mine);
    }
    assert_string_equal(hub, mine);
    free(hub);
    free(mine);
}

static size_t count_lines(const char *text)
{
    size_t n = 0;
    for (const char *p = text; *p; p++) {
        n += *p == '\n';
    }
    return n;
}

static long long query_int(struct fixture *f, const char *sql)
{
    long long v = -1;
    assert_int_equal(hubproc_query_int(f->hub, sql, &v), 0);
    return v;
}

/* Changes in the hub's journal: it holds them by runs of n. */
static long long journal_changes(struct fixture *f)
{
    return query_int(f, "SELECT coalesce(sum(n), 0) FROM hl_run");
}

/* Pairs of the node's journal runs ?1 that share a sequence number (a run
 * of n changes holds seq to seq + n - 1): a change journaled twice. */
#define RUNS_OVERLAPPING                                                                           \
    "(SELECT count(*) FROM hl_run a JOIN hl_run b ON b.node = a.node AND b.pos <> a.pos"           \
    " AND b.seq BETWEEN a.seq AND a.seq + a.n - 1 WHERE a.node = ?1)"

/* Rows of the hub's refusal log of one kind (NULL: any) for one device. */
static long long hub_log_rows(struct fixture *f, const char *device, const char *kind)
{
    sqlite3 *db;
    assert_int_equal(hubproc_open_db(f->hub, &db), 0);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*) FROM hub_log WHERE device = ?1 AND"
                                        " (?2 IS NULL OR kind = ?2)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
    if (kind) {
        sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    }
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* POST bytes to /v1/sync as the device (or without credential). */
static long post_sync(struct hubclient_device *d, const void *body, size_t len, int chunked,
                      struct hubclient_response *r)
{
    char bearer[256];
    hubclient_bearer(d, bearer, sizeof bearer);
    const char *headers[] = {bearer, "Content-Type: application/x-hamlet-envelope", NULL};
    return hubclient_request(&d->target, "POST", "/v1/sync", headers, body, len, chunked, r);
}

/* The answer is a JSON error {"error": name, "message": ...}. */
static void assert_json_error(const struct hubclient_response *r, const char *name)
{
    cJSON *obj = r->body ? cJSON_ParseWithLength((const char *)r->body, r->len) : NULL;
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(obj, "error");
    const cJSON *message = cJSON_GetObjectItemCaseSensitive(obj, "message");
    if (!cJSON_IsString(error) || strcmp(error->valuestring, name) != 0) {
        fprintf(stderr, "  expected error \"%s\", got: %.300s\n", name,
                r->body ? (const char *)r->body : "(no body)");
    }
    assert_true(cJSON_IsString(error));
    assert_string_equal(error->valuestring, name);
    assert_true(cJSON_IsString(message));
    assert_true(strlen(message->valuestring) > 0);
    cJSON_Delete(obj);
}

static struct delta *decode_reply(const struct hubclient_response *r)
{
    struct envelope_limits limits;
    envelope_limits_default(&limits);
    struct delta *reply = NULL;
    char why[300];
    assert_int_equal(
        delta_unpack(ledger_schema_get(), &limits, r->body, r->len, &reply, why, sizeof why), 0);
    assert_int_equal(reply->type, DELTA_REPLY);
    return reply;
}

static int contains(const char *haystack, const char *needle)
{
    return strstr(haystack, needle) != NULL;
}

/* ---- enrol, sync, pull; resent batches; gaps ---- */

static void test_enrol_sync_pull(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(hubproc_village_add(f->hub, "yangliu"), 0);
    assert_int_equal(hubproc_village_add(f->hub, "hetang"), 0);
    printf("  enrol two laptops of yangliu and one of hetang\n");
    struct hubclient_device *a = new_device(f, "yangliu");
    struct hubclient_device *b = new_device(f, "yangliu");
    struct hubclient_device *c = new_device(f, "hetang");

    printf("  enrolling again with a used code: 409\n");
    assert_int_equal(hubclient_enroll(a), 409);
    assert_string_equal(a->error, "used");

    printf("  a case made on laptop A reaches laptop B, and not hetang's laptop\n");
    char x[UUID7_STRLEN + 1], y[UUID7_STRLEN + 1];
    new_case(a, x, "杨柳-2026-001");
    add_event(a, x, "走访双方");
    new_case(c, y, "荷塘-2026-001");
    assert_int_equal(sync_ok(a), 200);
    assert_int_equal(hubclient_acked(a), 2);
    assert_int_equal(a->acked_total, 2);
    assert_int_equal(sync_ok(c), 200);
    assert_int_equal(sync_ok(b), 200);
    assert_int_equal(b->pulled, 2);
    char *bx = device_export(b);
    assert_true(contains(bx, x));
    assert_true(contains(bx, "走访双方"));
    assert_false(contains(bx, y));
    free(bx);
    assert_int_equal(c->pulled, 0);
    char *cx = device_export(c);
    assert_false(contains(cx, x));
    assert_true(contains(cx, y));
    free(cx);
    assert_same_as_hub(f, a);
    assert_same_as_hub(f, b);
    assert_same_as_hub(f, c);

    printf("  an edit on B travels back to A\n");
    set_field(b, "yangliu", x, "status", "accepted");
    assert_int_equal(sync_ok(b), 200);
    assert_int_equal(sync_ok(a), 200);
    char *ax = device_export(a);
    assert_true(contains(ax, "\"status\":\"accepted\""));
    free(ax);
    assert_same_as_hub(f, a);
    assert_same_as_hub(f, b);

    printf("  the same push batch sent twice changes nothing the second time\n");
    char z[UUID7_STRLEN + 1];
    new_case(a, z, "杨柳-2026-002");
    add_event(a, z, "电话联系");
    int64_t acked = hubclient_acked(a);
    uint8_t *batch;
    size_t batch_len;
    assert_int_equal(hubclient_push(a, acked, 1 << 20, &batch, &batch_len), 0);
    struct hubclient_response r;
    assert_int_equal(post_sync(a, batch, batch_len, 0, &r), 200);
    struct delta *reply = decode_reply(&r);
    assert_int_equal(reply->acked, acked + 2);
    delta_free(reply);
    hubclient_response_clear(&r);
    long long journaled = journal_changes(f);
    char *before = hub_export(f, NULL);
    assert_true(contains(before, z));
    assert_int_equal(post_sync(a, batch, batch_len, 0, &r), 200);
    reply = decode_reply(&r);
    assert_int_equal(reply->acked, acked + 2);
    assert_int_equal(reply->resume_from, 0);
    delta_free(reply);
    hubclient_response_clear(&r);
    free(batch);
    assert_int_equal(journal_changes(f), journaled);
    char *after = hub_export(f, NULL);
    assert_string_equal(before, after);
    free(after);
    /* The laptop never saw those acknowledgements: it sends them again. */
    assert_int_equal(sync_ok(a), 200);
    assert_int_equal(hubclient_acked(a), acked + 2);
    assert_int_equal(journal_changes(f), journaled);
    after = hub_export(f, NULL);
    assert_string_equal(before, after);
    free(after);
    free(before);

    printf("  a batch that starts past the acknowledgement: resume_from, nothing applied\n");
    char w[UUID7_STRLEN + 1];
    new_case(a, w, "杨柳-2026-003");
    set_field(a, "yangliu", w, "status", "accepted");
    add_event(a, w, "调解");
    acked = hubclient_acked(a);
    assert_int_equal(hubclient_push(a, acked + 1, 1 << 20, &batch, &batch_len), 0);
    before = hub_export(f, NULL);
    assert_int_equal(post_sync(a, batch, batch_len, 0, &r), 200);
    free(batch);
    reply = decode_reply(&r);
    assert_int_equal(reply->acked, acked);
    assert_int_equal(reply->resume_from, acked + 1);
    delta_free(reply);
    hubclient_response_clear(&r);
    assert_int_equal(journal_changes(f), journaled);
    after = hub_export(f, NULL);
    assert_string_equal(before, after);
    assert_false(contains(after, w));
    free(after);
    free(before);
    assert_int_equal(sync_ok(a), 200);
    assert_int_equal(hubclient_acked(a), acked + 3);
    assert_int_equal(journal_changes(f), journaled + 3);
    assert_int_equal(sync_ok(b), 200);
    assert_same_as_hub(f, a);
    assert_same_as_hub(f, b);
    assert_int_equal(a->ack_regressions + b->ack_regressions + c->ack_regressions, 0);

    printf("  the hub's log has one line per sync, naming the device and the village\n");
    char *log = hubproc_read_log(f->hub);
    assert_non_null(log);
    char who[128];
    snprintf(who, sizeof who, "sync device=%s village=yangliu", a->code.device);
    size_t lines = 0;
    for (const char *p = strstr(log, who); p; p = strstr(p + 1, who)) {
        lines++;
    }
    /* A's syncs, and the three envelopes posted by hand. */
    assert_int_equal(lines, a->syncs + a->failures + 3);
    assert_true(contains(log, "result=gap"));
    free(log);
}

/* ---- revoked devices, bad credentials ---- */

static void test_revoke(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(hubproc_village_add(f->hub, "yangliu"), 0);
    struct hubclient_device *a = new_device(f, "yangliu");
    struct hubclient_device *b = new_device(f, "yangliu");
    char x[UUID7_STRLEN + 1];
    new_case(a, x, "杨柳-2026-010");
    assert_int_equal(sync_ok(a), 200);
    assert_int_equal(sync_ok(b), 200);

    printf("  a wrong secret or no credential: 401\n");
    char saved[sizeof a->secret];
    memcpy(saved, a->secret, sizeof saved);
    snprintf(a->secret, sizeof a->secret, "not-the-secret");
    assert_int_equal(hubclient_sync(a), 401);
    assert_string_equal(a->error, "auth");
    memcpy(a->secret, saved, sizeof saved);
    struct hubclient_response r;
    const char *headers[] = {"Content-Type: application/x-hamlet-envelope", NULL};
    assert_int_equal(hubclient_request(&a->target, "POST", "/v1/sync", headers, "x", 1, 0, &r),
                     401);
    assert_json_error(&r, "auth");
    hubclient_response_clear(&r);

    printf("  hamlet-hub device revoke A: A's next sync is 401 \"revoked\", B still syncs\n");
    const char *revoke[] = {"device", "revoke", a->code.device, NULL};
    assert_int_equal(hubproc_run(f->hub, revoke, NULL, NULL), 0);
    char y[UUID7_STRLEN + 1];
    new_case(a, y, "杨柳-2026-011");
    long long journaled = journal_changes(f);
    assert_int_equal(hubclient_sync(a), 401);
    assert_string_equal(a->error, "revoked");
    assert_int_equal(hubclient_unacked(a), 1);
    assert_int_equal(journal_changes(f), journaled);
    char *hub = hub_export(f, "yangliu");
    assert_false(contains(hub, y));
    free(hub);
    assert_true(hub_log_rows(f, a->code.device, "revoked") >= 1);
    char z[UUID7_STRLEN + 1];
    new_case(b, z, "杨柳-2026-012");
    assert_int_equal(sync_ok(b), 200);
    hub = hub_export(f, "yangliu");
    assert_true(contains(hub, z));
    free(hub);
    assert_same_as_hub(f, b);
}

/* ---- another village's records ---- */

static void test_other_village(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(hubproc_village_add(f->hub, "yangliu"), 0);
    assert_int_equal(hubproc_village_add(f->hub, "hetang"), 0);
    struct hubclient_device *a = new_device(f, "yangliu");
    struct hubclient_device *c = new_device(f, "hetang");
    char y[UUID7_STRLEN + 1];
    new_case(c, y, "荷塘-2026-001");
    assert_int_equal(sync_ok(c), 200);
    char *hetang_before = hub_export(f, "hetang");

    printf("  laptop A edits hetang's case and makes a case filed under hetang,\n"
           "  between two cases of its own: both refused and logged, its own arrive\n");
    char x1[UUID7_STRLEN + 1], x2[UUID7_STRLEN + 1], z[UUID7_STRLEN + 1];
    new_case(a, x1, "杨柳-2026-020");                     /* seq 1 */
    set_field(a, "yangliu", y, "title", "被篡改");        /* seq 2: hetang's record */
    put_case(a, "hetang", z, "冒名案件", "不应到达荷塘"); /* seq 3: hetang partition */
    new_case(a, x2, "杨柳-2026-021");                     /* seq 4 */
    add_event(a, x2, "走访");                             /* seq 5 */
    assert_int_equal(sync_ok(a), 200);
    assert_int_equal(hubclient_acked(a), 5);
    assert_int_equal(a->refused, 2);
    assert_non_null(a->reply);
    /* The refusals may come in the last reply or an earlier one; the
     * batch fits one push here, so the first reply holds them. */
    assert_int_equal(a->syncs, 1);
    assert_int_equal(a->reply->nrefused, 2);
    assert_int_equal(a->reply->refused[0].seq, 2);
    assert_int_equal(a->reply->refused[0].code, SYNC_E_PARTITION);
    assert_int_equal(a->reply->refused[1].seq, 3);
    assert_int_equal(a->reply->refused[1].code, SYNC_E_PARTITION);
    assert_int_equal(hub_log_rows(f, a->code.device, "refused"), 2);
    assert_int_equal(query_int(f, "SELECT count(*) FROM hl_refused"), 2);
    char *yangliu = hub_export(f, "yangliu");
    assert_true(contains(yangliu, x1));
    assert_true(contains(yangliu, x2));
    assert_true(contains(yangliu, "走访"));
    assert_false(contains(yangliu, y));
    assert_false(contains(yangliu, z));
    free(yangliu);
    char *hetang = hub_export(f, "hetang");
    assert_string_equal(hetang, hetang_before);
    assert_false(contains(hetang, "被篡改"));
    free(hetang);
    free(hetang_before);
    assert_int_equal(sync_ok(c), 200);
    assert_int_equal(c->pulled, 0);
    assert_same_as_hub(f, c);

    printf("  a push that names hetang as A's village: 403, logged, nothing applied\n");
    char w[UUID7_STRLEN + 1];
    new_case(a, w, "杨柳-2026-022");
    char village[sizeof a->village];
    memcpy(village, a->village, sizeof village);
    snprintf(a->village, sizeof a->village, "hetang");
    uint8_t *batch;
    size_t len;
    assert_int_equal(hubclient_push(a, hubclient_acked(a), 1 << 20, &batch, &len), 0);
    memcpy(a->village, village, sizeof village);
    long long journaled = journal_changes(f);
    struct hubclient_response r;
    assert_int_equal(post_sync(a, batch, len, 0, &r), 403);
    assert_json_error(&r, "partition");
    hubclient_response_clear(&r);
    free(batch);
    assert_int_equal(journal_changes(f), journaled);
    assert_int_equal(hub_log_rows(f, a->code.device, "foreign_pull"), 1);
    assert_int_equal(sync_ok(a), 200);
    assert_int_equal(journal_changes(f), journaled + 1);
}

/* ---- malformed bodies ---- */

struct malformed {
    const char *what;
    const char *json; /* a delta template, or NULL for envelope damage */
    int damage;       /* for envelope damage: which */
    long status;
    const char *error;
};

enum damage {
    EMPTY = 1,
    SHORT_HEADER,
    CUT_BODY,
    BAD_MAGIC,
    BAD_VERSION,
    BAD_FLAGS,
    BAD_CRC,
    TRAILING,
    LENGTH_MISMATCH,
    CORRUPT_ZLIB,
    INFLATED_TOO_BIG,
    RATIO,
};

#define HEAD                                                                                       \
    "\"hamlet\":1,\"type\":\"push\",\"node\":\"@N@\",\"time\":1767233000500,"                      \
    "\"clock\":\"019b774b92410000\",\"cursor\":0,\"part\":\"@P@\",\"pull_bytes\":0"
#define CHANGE_HEAD                                                                                \
    "\"seq\":@S@,\"op\":\"put\",\"table\":\"cases\",\"id\":\"@ID@\",\"part\":\"@P@\","             \
    "\"node\":\"@N@\",\"hlc\":\"019b774885000000\""
#define CHANGE "{" CHANGE_HEAD ",\"set\":{\"status\":\"registered\"}}"
#define VALID  "{" HEAD ",\"changes\":[" CHANGE "]}"

static const struct malformed malformed_cases[] = {
    {"empty body", NULL, EMPTY, 400, "env_truncated"},
    {"truncated header", NULL, SHORT_HEADER, 400, "env_truncated"},
    {"truncated body", NULL, CUT_BODY, 400, "env_truncated"},
    {"bad magic", NULL, BAD_MAGIC, 400, "env_magic"},
    {"unknown envelope version", NULL, BAD_VERSION, 400, "env_version"},
    {"unknown flag bit", NULL, BAD_FLAGS, 400, "env_flags"},
    {"bad CRC", NULL, BAD_CRC, 400, "env_crc"},
    {"bytes after the envelope", NULL, TRAILING, 400, "env_trailing"},
    {"stored body of another length", NULL, LENGTH_MISMATCH, 400, "env_length"},
    {"corrupt zlib stream", NULL, CORRUPT_ZLIB, 400, "env_corrupt"},
    {"declared 1 GiB inflated", NULL, INFLATED_TOO_BIG, 413, "env_inflated"},
    {"ratio over 200", NULL, RATIO, 413, "env_ratio"},
    {"invalid UTF-8", "{" HEAD ",\"changes\":[{" CHANGE_HEAD ",\"set\":{\"title\":\"\xc3\x28\"}}]}",
     0, 400, "utf8"},
    {"overlong UTF-8",
     "{" HEAD ",\"changes\":[{" CHANGE_HEAD ",\"set\":{\"title\":\"\xc0\xaf\"}}]}", 0, 400, "utf8"},
    {"not JSON", "{" HEAD ",\"changes\":[", 0, 400, "json"},
    {"text after the JSON", VALID " {}", 0, 400, "json"},
    {"JSON not an object", "[1,2,3]", 0, 400, "json_not_object"},
    {"a change not an object", "{" HEAD ",\"changes\":[42]}", 0, 400, "json_not_object"},
    {"set not an object", "{" HEAD ",\"changes\":[{" CHANGE_HEAD ",\"set\":[1]}]}", 0, 400,
     "json_not_object"},
    {"nested too deep", "{" HEAD ",\"x\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]],\"changes\":[]}",
     0, 400, "json_depth"},
    {"string over 64 KiB", "{" HEAD ",\"x\":\"@BIG@\",\"changes\":[]}", 0, 400, "json_string"},
    {"text field over 32 KiB",
     "{" HEAD ",\"changes\":[{" CHANGE_HEAD ",\"set\":{\"title\":\"@TEXT@\"}}]}", 0, 400,
     "json_string"},
    {"50,001 changes", "{" HEAD ",\"changes\":[@MANY@]}", 0, 400, "too_many"},
    {"missing cursor",
     "{\"hamlet\":1,\"type\":\"push\",\"node\":\"@N@\",\"time\":1,\"clock\":\"0000000000000001\","
     "\"part\":\"@P@\",\"changes\":[]}",
     0, 400, "field_missing"},
    {"missing changes", "{" HEAD "}", 0, 400, "field_missing"},
    {"missing table",
     "{" HEAD ",\"changes\":[{\"seq\":@S@,\"op\":\"put\",\"id\":\"@ID@\",\"part\":\"@P@\","
     "\"node\":\"@N@\",\"hlc\":\"019b774885000000\",\"set\":{\"status\":\"x\"}}]}",
     0, 400, "field_missing"},
    {"cursor a string",
     "{\"hamlet\":1,\"type\":\"push\",\"node\":\"@N@\",\"time\":1,\"clock\":\"0000000000000001\","
     "\"cursor\":\"zero\",\"part\":\"@P@\",\"changes\":[]}",
     0, 400, "field_type"},
    {"node not hex",
     "{\"hamlet\":1,\"type\":\"push\",\"node\":\"village-laptop-1\",\"time\":1,"
     "\"clock\":\"0000000000000001\",\"cursor\":0,\"part\":\"@P@\",\"changes\":[]}",
     0, 400, "field_type"},
    {"severity a string",
     "{" HEAD ",\"changes\":[{" CHANGE_HEAD ",\"set\":{\"severity\":\"high\"}}]}", 0, 400,
     "field_type"},
    {"id not a UUID",
     "{" HEAD ",\"changes\":[{\"seq\":@S@,\"op\":\"put\",\"table\":\"cases\",\"id\":\"case-1\","
     "\"part\":\"@P@\",\"node\":\"@N@\",\"hlc\":\"019b774885000000\",\"set\":{\"status\":\"x\"}}]}",
     0, 400, "field_type"},
    {"seq 0",
     "{" HEAD ",\"changes\":[{\"seq\":0,\"op\":\"put\",\"table\":\"cases\",\"id\":\"@ID@\","
     "\"part\":\"@P@\",\"node\":\"@N@\",\"hlc\":\"019b774885000000\",\"set\":{\"status\":\"x\"}}]}",
     0, 400, "field_type"},
    {"NUL in a string",
     "{" HEAD ",\"changes\":[{" CHANGE_HEAD ",\"set\":{\"title\":\"a\\u0000b\"}}]}", 0, 400,
     "field_type"},
    {"a reply, not a push",
     "{\"hamlet\":1,\"type\":\"reply\",\"node\":\"@N@\",\"time\":1,\"clock\":\"0000000000000001\","
     "\"cursor\":0,\"acked\":0,\"resume_from\":0,\"more\":false,\"changes\":[]}",
     0, 400, "field_type"},
    {"delta version 3",
     "{\"hamlet\":3,\"type\":\"push\",\"node\":\"@N@\",\"time\":1,\"clock\":\"0000000000000001\","
     "\"cursor\":0,\"part\":\"@P@\",\"changes\":[]}",
     0, 400, "delta_version"},
    {"unknown table",
     "{" HEAD ",\"changes\":[{\"seq\":@S@,\"op\":\"put\",\"table\":\"parcels\",\"id\":\"@ID@\","
     "\"part\":\"@P@\",\"node\":\"@N@\",\"hlc\":\"019b774885000000\",\"set\":{\"status\":\"x\"}}]}",
     0, 400, "unknown_table"},
    {"unknown column", "{" HEAD ",\"changes\":[{" CHANGE_HEAD ",\"set\":{\"colour\":\"red\"}}]}", 0,
     400, "unknown_column"},
    {"put on append-only events",
     "{" HEAD ",\"changes\":[{\"seq\":@S@,\"op\":\"put\",\"table\":\"events\",\"id\":\"@ID@\","
     "\"part\":\"@P@\",\"node\":\"@N@\",\"hlc\":\"019b774885000000\",\"set\":{\"note\":\"x\"}}]}",
     0, 400, "append_only"},
    {"a change made by another node",
     "{" HEAD ",\"changes\":[{\"seq\":@S@,\"op\":\"put\",\"table\":\"cases\",\"id\":\"@ID@\","
     "\"part\":\"@P@\",\"node\":\"00000000000000ff\",\"hlc\":\"019b774885000000\","
     "\"set\":{\"status\":\"x\"}}]}",
     0, 403, "origin"},
    {"a push from another node",
     "{\"hamlet\":1,\"type\":\"push\",\"node\":\"00000000000000ff\",\"time\":1,"
     "\"clock\":\"0000000000000001\",\"cursor\":0,\"part\":\"@P@\",\"changes\":[]}",
     0, 403, "origin"},
};

/* Growable bytes. */
struct bytes {
    uint8_t *data;
    size_t len, cap;
};

static void bytes_add(struct bytes *b, const void *data, size_t len)
{
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + len + 1) {
            cap *= 2;
        }
        b->data = realloc(b->data, cap);
        assert_non_null(b->data);
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

static void bytes_repeat(struct bytes *b, const char *unit, size_t times)
{
    for (size_t i = 0; i < times; i++) {
        bytes_add(b, unit, strlen(unit));
    }
}

/* The template with its tokens replaced: @N@ the device's node, @P@ its
 * village, @S@ its next seq, @ID@ a fresh UUID, @BIG@ 70,000 bytes, @TEXT@
 * 33,000 bytes, @MANY@ 50,001 array elements. */
static struct bytes expand(struct hubclient_device *d, const char *tmpl)
{
    struct bytes b = {NULL, 0, 0};
    char node[HLC_HEXLEN + 1], seq[32], id[UUID7_STRLEN + 1];
    hlc_format(replica_node(d->replica), node);
    snprintf(seq, sizeof seq, "%lld", (long long)hubclient_acked(d) + 1);
    assert_int_equal(uuid7_now(id), 0);
    const char *p = tmpl;
    while (*p) {
        if (*p != '@') {
            bytes_add(&b, p++, 1);
            continue;
        }
        const char *end = strchr(p + 1, '@');
        assert_non_null(end);
        size_t n = (size_t)(end - p - 1);
        if (n == 1 && p[1] == 'N') {
            bytes_add(&b, node, strlen(node));
        } else if (n == 1 && p[1] == 'P') {
            bytes_add(&b, d->village, strlen(d->village));
        } else if (n == 1 && p[1] == 'S') {
            bytes_add(&b, seq, strlen(seq));
        } else if (n == 2 && !strncmp(p + 1, "ID", 2)) {
            bytes_add(&b, id, strlen(id));
        } else if (n == 3 && !strncmp(p + 1, "BIG", 3)) {
            bytes_repeat(&b, "abcdefghij", 7000);
        } else if (n == 4 && !strncmp(p + 1, "TEXT", 4)) {
            bytes_repeat(&b, "abcdefghij", 3300);
        } else if (n == 4 && !strncmp(p + 1, "MANY", 4)) {
            bytes_add(&b, "0", 1);
            bytes_repeat(&b, ",0", 50000);
        } else {
            fail_msg("unknown token in %s", tmpl);
        }
        p = end + 1;
    }
    return b;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* An envelope by hand, with a correct CRC over whatever it declares. */
static uint8_t *make_envelope(int flags, const void *stored, size_t stored_len, uint32_t body_len,
                              size_t *out_len)
{
    uint8_t *env = malloc(ENVELOPE_HEADER + stored_len + 1);
    assert_non_null(env);
    memcpy(env, "HMLT", 4);
    env[4] = 1;
    env[5] = (uint8_t)flags;
    env[6] = env[7] = 0;
    put32(env + 8, (uint32_t)stored_len);
    put32(env + 12, body_len);
    memcpy(env + ENVELOPE_HEADER, stored, stored_len);
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, env, 16);
    crc = crc32(crc, env + ENVELOPE_HEADER, (uInt)stored_len);
    put32(env + 16, (uint32_t)crc);
    *out_len = ENVELOPE_HEADER + stored_len;
    return env;
}

/* The well-formed envelope of the VALID template, damaged as asked. */
static uint8_t *damaged(struct hubclient_device *d, int damage, size_t *len)
{
    struct bytes json = expand(d, VALID);
    uint8_t *env;
    assert_int_equal(envelope_seal(json.data, json.len, 0, &env, len), 0);
    size_t body = json.len;
    switch (damage) {
    case EMPTY:
        *len = 0;
        break;
    case SHORT_HEADER:
        *len = 10;
        break;
    case CUT_BODY:
        *len -= 3;
        break;
    case BAD_MAGIC:
        env[0] = 'X';
        break;
    case BAD_VERSION:
        env[4] = 2;
        break;
    case BAD_FLAGS:
        env[5] = 0x80;
        break;
    case BAD_CRC:
        env[ENVELOPE_HEADER + 5] ^= 0x01;
        break;
    case TRAILING:
        env = realloc(env, *len + 1);
        assert_non_null(env);
        env[(*len)++] = '\n';
        break;
    case LENGTH_MISMATCH:
        free(env);
        env = make_envelope(0, json.data, body, (uint32_t)body + 1, len);
        break;
    case CORRUPT_ZLIB:
        free(env);
        env = make_envelope(1, "this is not a zlib stream at all", 32, 64, len);
        break;
    case INFLATED_TOO_BIG:
        free(env);
        env = make_envelope(1, "x\x9c", 2, 1u << 30, len);
        break;
    case RATIO:
        free(env);
        env = make_envelope(1, json.data, 100, 100 * 201, len);
        break;
    }
    free(json.data);
    return env;
}

static void test_malformed(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(hubproc_village_add(f->hub, "yangliu"), 0);
    struct hubclient_device *a = new_device(f, "yangliu");
    char x[UUID7_STRLEN + 1];
    new_case(a, x, "杨柳-2026-030");
    assert_int_equal(sync_ok(a), 200);
    long long journaled = journal_changes(f);
    long long refused = query_int(f, "SELECT count(*) FROM hl_refused");
    char *before = hub_export(f, NULL);

    size_t n = sizeof malformed_cases / sizeof malformed_cases[0];
    size_t wrong = 0;
    printf("  %zu malformed bodies, each refused with its own error:\n", n);
    for (size_t i = 0; i < n; i++) {
        const struct malformed *m = &malformed_cases[i];
        uint8_t *body;
        size_t len;
        if (m->json) {
            /* Stored, not compressed: the repetitive bodies would trip the
             * ratio limit before the JSON is read. */
            struct bytes json = expand(a, m->json);
            assert_int_equal(envelope_seal(json.data, json.len, 0, &body, &len), 0);
            free(json.data);
        } else {
            body = damaged(a, m->damage, &len);
        }
        long long logged = hub_log_rows(f, a->code.device, NULL);
        struct hubclient_response r;
        double t0 = now_s();
        long status = post_sync(a, body, len, 0, &r);
        double took = now_s() - t0;
        int recorded = hub_log_rows(f, a->code.device, NULL) == logged + 1;
        cJSON *obj = r.body ? cJSON_ParseWithLength((const char *)r.body, r.len) : NULL;
        const cJSON *error = cJSON_GetObjectItemCaseSensitive(obj, "error");
        const cJSON *message = cJSON_GetObjectItemCaseSensitive(obj, "message");
        /* Every case is tried, and every wrong answer listed, before the
         * test fails. */
        int right = status == m->status && cJSON_IsString(error) &&
                    !strcmp(error->valuestring, m->error) && cJSON_IsString(message) &&
                    message->valuestring[0] && took < 30 && recorded;
        printf("    %-32s %ld %s: %s%s%s\n", m->what, status,
               cJSON_IsString(error) ? error->valuestring : "?",
               cJSON_IsString(message) ? message->valuestring : r.error,
               recorded ? "" : "  (not in hub_log)", right ? "" : "  <- WRONG");
        if (!right) {
            fprintf(stderr, "  %s: expected %ld %s, got %ld %.200s\n", m->what, m->status, m->error,
                    status, r.body ? (const char *)r.body : r.error);
            wrong++;
        }
        cJSON_Delete(obj);
        hubclient_response_clear(&r);
        free(body);
        assert_true(hubproc_alive(f->hub));
    }

    printf("  the hub still runs and stored nothing\n");
    assert_int_equal(hubclient_health(&a->target), 200);
    assert_int_equal(journal_changes(f), journaled);
    assert_int_equal(query_int(f, "SELECT count(*) FROM hl_refused"), refused);
    char *after = hub_export(f, NULL);
    assert_string_equal(before, after);
    free(after);
    free(before);

    printf("  the same template, well formed, is accepted (the control)\n");
    struct bytes json = expand(a, VALID);
    uint8_t *body;
    size_t len;
    assert_int_equal(envelope_seal(json.data, json.len, 6, &body, &len), 0);
    free(json.data);
    /* The template's change is made by this node: as seq acked+1, the hub
     * takes it. */
    struct hubclient_response r;
    assert_int_equal(post_sync(a, body, len, 0, &r), 200);
    free(body);
    struct delta *reply = decode_reply(&r);
    assert_int_equal(reply->acked, hubclient_acked(a) + 1);
    delta_free(reply);
    hubclient_response_clear(&r);
    assert_int_equal(journal_changes(f), journaled + 1);
    if (wrong) {
        fail_msg("%zu of %zu malformed bodies got a wrong answer (listed above)", wrong, n);
    }
}

/* ---- size limits ---- */

static void test_oversize(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(hubproc_village_add(f->hub, "yangliu"), 0);
    struct hubclient_device *a = new_device(f, "yangliu");
    long long journaled = journal_changes(f);
    size_t len = 9 * MIB;
    uint8_t *body = calloc(1, len);
    assert_non_null(body);

    printf("  a 9 MiB body with its Content-Length: 413\n");
    struct hubclient_response r;
    assert_int_equal(post_sync(a, body, len, 0, &r), 413);
    assert_json_error(&r, "too_big");
    hubclient_response_clear(&r);

    printf("  a 9 MiB chunked body (no Content-Length): 413\n");
    assert_int_equal(post_sync(a, body, len, 1, &r), 413);
    assert_json_error(&r, "too_big");
    hubclient_response_clear(&r);
    free(body);

    printf("  an enrolment body over its limit: 4xx\n");
    body = calloc(1, 64 * 1024);
    assert_non_null(body);
    memset(body, ' ', 64 * 1024);
    const char *headers[] = {"Content-Type: application/json", NULL};
    long status =
        hubclient_request(&a->target, "POST", "/v1/enroll", headers, body, 64 * 1024, 0, &r);
    assert_true(status >= 400 && status < 500);
    hubclient_response_clear(&r);
    free(body);

    assert_true(hubproc_alive(f->hub));
    assert_int_equal(journal_changes(f), journaled);
    char x[UUID7_STRLEN + 1];
    new_case(a, x, "杨柳-2026-040");
    assert_int_equal(sync_ok(a), 200);
}

/* `size` zero bytes, deflated (zlib format). */
static struct bytes deflate_zeros(size_t size)
{
    struct bytes out = {NULL, 0, 0};
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit(&z, 9), Z_OK);
    static const uint8_t zeros[1 << 16];
    uint8_t buf[1 << 16];
    size_t fed = 0;
    int flush;
    do {
        size_t take = size - fed < sizeof zeros ? size - fed : sizeof zeros;
        z.next_in = (Bytef *)zeros;
        z.avail_in = (uInt)take;
        fed += take;
        flush = fed == size ? Z_FINISH : Z_NO_FLUSH;
        do {
            z.next_out = buf;
            z.avail_out = sizeof buf;
            int rc = deflate(&z, flush);
            assert_true(rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR);
            bytes_add(&out, buf, sizeof buf - z.avail_out);
        } while (z.avail_out == 0);
    } while (flush != Z_FINISH);
    deflateEnd(&z);
    return out;
}

static void test_zlib_bomb(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(hubproc_village_add(f->hub, "yangliu"), 0);
    struct hubclient_device *a = new_device(f, "yangliu");
    long long journaled = journal_changes(f);
    double t0 = now_s();
    struct bytes gib = deflate_zeros((size_t)1 << 30);
    struct bytes mib64 = deflate_zeros(64 * MIB);
    printf("  1 GiB of zeros deflates to %zu bytes, 64 MiB to %zu (%.1f s to make)\n", gib.len,
           mib64.len, now_s() - t0);
    const struct {
        const char *what;
        struct bytes *stream;
        uint32_t declared;
        long status;
        const char *error;
    } bombs[] = {
        {"1 GiB stream declared as 1 GiB", &gib, 1u << 30, 413, "env_inflated"},
        {"1 GiB stream declared as 1 MiB", &gib, 1u << 20, 400, "env_length"},
        {"1 GiB stream declared as 64 MiB (the limit)", &gib, 64u << 20, 400, "env_length"},
        {"64 MiB stream declared as 64 MiB", &mib64, 64u << 20, 413, "env_ratio"},
    };
    for (size_t i = 0; i < sizeof bombs / sizeof bombs[0]; i++) {
        size_t len;
        uint8_t *env =
            make_envelope(1, bombs[i].stream->data, bombs[i].stream->len, bombs[i].declared, &len);
        struct hubclient_response r;
        t0 = now_s();
        long status = post_sync(a, env, len, 0, &r);
        double took = now_s() - t0;
        long peak = hubproc_peak_kb(f->hub);
        printf("    %-44s %ld in %.2f s, hub peak memory %ld MiB\n", bombs[i].what, status, took,
               peak / 1024);
        assert_int_equal(status, bombs[i].status);
        assert_json_error(&r, bombs[i].error);
        assert_true(took < 20);
        assert_true(peak > 0 && peak < 200 * 1024);
        hubclient_response_clear(&r);
        free(env);
        assert_true(hubproc_alive(f->hub));
    }
    free(gib.data);
    free(mib64.data);
    assert_int_equal(journal_changes(f), journaled);
    assert_int_equal(hubclient_health(&a->target), 200);
}

/* ---- idle connections ---- */

static int connect_idle(unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

/* 1 once the peer closed the connection. */
static int closed_by_peer(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 0) <= 0) {
        return 0;
    }
    char c;
    ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

static void test_idle_timeout(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(hubproc_village_add(f->hub, "yangliu"), 0);
    struct hubclient_device *a = new_device(f, "yangliu");
    struct hubclient_device *b = new_device(f, "yangliu");
    printf("  a connection that sends nothing is closed after the 2 s idle timeout,\n"
           "  while two laptops keep syncing\n");
    int fd = connect_idle(f->hub->port);
    double t0 = now_s(), closed_at = 0;
    unsigned served = 0;
    while (now_s() - t0 < 30) {
        if (closed_by_peer(fd)) {
            closed_at = now_s() - t0;
            break;
        }
        char x[UUID7_STRLEN + 1];
        struct hubclient_device *d = served % 2 ? b : a;
        new_case(d, x, "杨柳-2026-050");
        assert_int_equal(sync_ok(d), 200);
        served++;
        sleep_ms(50);
    }
    close(fd);
    printf("    closed after %.1f s; %u syncs served meanwhile\n", closed_at, served);
    assert_true(closed_at >= 1.5);
    assert_true(closed_at < 30);
    assert_true(served >= 2);
    assert_int_equal(sync_ok(a), 200);
    assert_int_equal(sync_ok(b), 200);
    assert_same_as_hub(f, a);
    assert_same_as_hub(f, b);
}

/* ---- requests per device per minute ---- */

static void test_rate_limit(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(hubproc_village_add(f->hub, "yangliu"), 0);
    struct hubclient_device *a = new_device(f, "yangliu");
    struct hubclient_device *b = new_device(f, "yangliu");
    /* The allowance is per minute of the clock: start early in one. */
    time_t now = time(NULL);
    if (now % 60 > 45) {
        sleep_ms((long)(61 - now % 60) * 1000);
    }
    printf("  with --device-rate 5, the 6th sync of a laptop within a minute: 429\n");
    for (int i = 0; i < 5; i++) {
        assert_int_equal(hubclient_sync(a), 200);
    }
    assert_int_equal(hubclient_sync(a), 429);
    assert_string_equal(a->error, "rate");
    assert_true(a->retry_after > 0);
    printf("    Retry-After: %ld; another laptop is still served\n", a->retry_after);
    assert_int_equal(hubclient_sync(b), 200);
}

/* ---- 200 laptops at once ---- */

struct slot {
    struct hubclient_device *dev;
    struct hubclient_request *req;
};

/* Sync every device with curl multi, all at once, each until caught up.
 * Returns the number of requests; failures counts those not answered 200. */
static unsigned sync_many(struct hubclient_device **devs, size_t n, unsigned *failures)
{
    CURLM *multi = curl_multi_init();
    assert_non_null(multi);
    struct slot *slots = calloc(n, sizeof *slots);
    assert_non_null(slots);
    size_t active = 0;
    unsigned requests = 0;
    for (size_t i = 0; i < n; i++) {
        slots[i].dev = devs[i];
        slots[i].req = hubclient_sync_begin(devs[i]);
        assert_non_null(slots[i].req);
        CURL *e = hubclient_request_easy(slots[i].req);
        curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)&slots[i]);
        assert_int_equal(curl_multi_add_handle(multi, e), CURLM_OK);
        active++;
    }
    while (active > 0) {
        int running;
        curl_multi_perform(multi, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE) {
                continue;
            }
            CURL *e = msg->easy_handle;
            CURLcode result = msg->data.result;
            char *priv = NULL;
            curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
            struct slot *s = (struct slot *)priv;
            curl_multi_remove_handle(multi, e);
            active--;
            requests++;
            long status = hubclient_sync_end(s->dev, s->req, result);
            s->req = NULL;
            if (status != 200) {
                if (*failures < 5) {
                    fprintf(stderr, "    sync of %s: %ld %s: %s\n", s->dev->code.device, status,
                            s->dev->error, s->dev->message);
                }
                (*failures)++;
                continue;
            }
            if (!hubclient_caught_up(s->dev)) {
                s->req = hubclient_sync_begin(s->dev);
                assert_non_null(s->req);
                e = hubclient_request_easy(s->req);
                curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)s);
                assert_int_equal(curl_multi_add_handle(multi, e), CURLM_OK);
                active++;
            }
        }
        if (active > 0) {
            curl_multi_poll(multi, NULL, 0, 1000, NULL);
        }
    }
    free(slots);
    curl_multi_cleanup(multi);
    return requests;
}

/* The journal of the hub holds each change of the device exactly once:
 * its runs add up to the device's changes, from seq 1 to its own seq, and
 * none overlaps another. */
static void assert_journal_exact(sqlite3 *db, struct hubclient_device *d)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT coalesce(sum(n), 0), coalesce(min(seq), 0),"
                                        " coalesce(max(seq + n - 1), 0), " RUNS_OVERLAPPING
                                        " FROM hl_run WHERE node = ?1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)replica_node(d->replica));
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t own = replica_own_seq(d->replica);
    int64_t count = sqlite3_column_int64(st, 0);
    int64_t lo = sqlite3_column_int64(st, 1), hi = sqlite3_column_int64(st, 2);
    int64_t overlapping = sqlite3_column_int64(st, 3);
    sqlite3_finalize(st);
    if (count != own || overlapping != 0 || hi != own || (own > 0 && lo != 1)) {
        fprintf(stderr,
                "  device %s made %lld changes; the hub holds %lld (seq %lld..%lld, %lld runs"
                " overlapping)\n",
                d->code.device, (long long)own, (long long)count, (long long)lo, (long long)hi,
                (long long)overlapping);
    }
    assert_int_equal(count, own);
    assert_int_equal(overlapping, 0);
    assert_int_equal(hi, own);
    if (own > 0) {
        assert_int_equal(lo, 1);
    }
}

/* Every change acknowledged once, held once, and every laptop equal to the
 * hub's export of its village. */
static void assert_all_settled(struct fixture *f, struct hubclient_device **devs, size_t n,
                               const char *const *villages, size_t nvillages)
{
    sqlite3 *db;
    assert_int_equal(hubproc_open_db(f->hub, &db), 0);
    int64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        struct hubclient_device *d = devs[i];
        int64_t own = replica_own_seq(d->replica);
        assert_int_equal(hubclient_acked(d), own);
        assert_int_equal(d->acked_total, own);
        assert_int_equal(d->ack_regressions, 0);
        assert_int_equal(d->foreign, 0);
        assert_journal_exact(db, d);
        total += own;
    }
    sqlite3_close(db);
    assert_int_equal(journal_changes(f), total);
    for (size_t v = 0; v < nvillages; v++) {
        char *hub = hub_export(f, villages[v]);
        assert_true(strlen(hub) > 0);
        for (size_t i = 0; i < n; i++) {
            if (strcmp(devs[i]->village, villages[v]) != 0) {
                continue;
            }
            char *mine = device_export(devs[i]);
            if (strcmp(hub, mine) != 0) {
                fprintf(stderr, "  device %s differs from the hub's export of %s\n",
                        devs[i]->code.device, villages[v]);
            }
            assert_string_equal(hub, mine);
            free(mine);
        }
        free(hub);
    }
}

/* One round of a laptop's work: a new case, an event on it, and an edit of
 * the first case it holds of its village (often another laptop's). */
static void work(struct hubclient_device *d, unsigned round, size_t index)
{
    char id[UUID7_STRLEN + 1], title[128], note[64];
    snprintf(title, sizeof title, "%s-%zu-%u", d->village, index, round);
    new_case(d, id, title);
    snprintf(note, sizeof note, "round %u visit by laptop %zu", round, index);
    add_event(d, id, note);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(replica_db(d->replica),
                                        "SELECT id FROM cases WHERE village = ?1 ORDER BY id"
                                        " LIMIT 1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, d->village, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    char first[UUID7_STRLEN + 1];
    snprintf(first, sizeof first, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    char status[64];
    snprintf(status, sizeof status, "reviewed by laptop %zu in round %u", index, round);
    set_field(d, d->village, first, "outcome", status);
}

static void test_load(void **state)
{
    struct fixture *f = *state;
    static const char *const villages[LOAD_VILLAGES] = {"v01", "v02", "v03", "v04",
                                                        "v05", "v06", "v07", "v08"};
    double t0 = now_s();
    size_t per = LOAD_DEVICES / LOAD_VILLAGES;
    char(*codes)[HUBPROC_CODE_MAX] = calloc(LOAD_DEVICES, sizeof *codes);
    assert_non_null(codes);
    for (size_t v = 0; v < LOAD_VILLAGES; v++) {
        assert_int_equal(hubproc_village_add(f->hub, villages[v]), 0);
        assert_int_equal(hubproc_devices_add(f->hub, villages[v], per, codes + v * per), 0);
    }
    for (size_t i = 0; i < LOAD_DEVICES; i++) {
        struct hubclient_device *d = device_from_code(f, codes[i]);
        assert_int_equal(hubclient_enroll(d), 200);
    }
    free(codes);
    printf("  %d laptops in %d villages added and enrolled in %.1f s\n", LOAD_DEVICES,
           LOAD_VILLAGES, now_s() - t0);
    struct hubclient_device **devs = f->dev;
    size_t n = f->ndev;
    unsigned failures = 0, requests = 0;
    t0 = now_s();
    for (unsigned round = 0; round < LOAD_ROUNDS; round++) {
        for (size_t i = 0; i < n; i++) {
            work(devs[i], round, i);
        }
        double r0 = now_s();
        unsigned made = sync_many(devs, n, &failures);
        requests += made;
        printf("    round %u: %u requests at once, %.1f s\n", round + 1, made, now_s() - r0);
    }
    unsigned made = sync_many(devs, n, &failures);
    requests += made;
    printf("    final catch-up: %u requests\n", made);
    printf("  %u syncs in %.1f s, %u failed\n", requests, now_s() - t0, failures);
    assert_int_equal(failures, 0);
    printf("  every change acknowledged and held exactly once; every laptop equals the hub\n");
    assert_all_settled(f, devs, n, villages, LOAD_VILLAGES);
    for (size_t v = 0; v < LOAD_VILLAGES; v++) {
        char *hub = hub_export(f, villages[v]);
        assert_int_equal(count_lines(hub), per * LOAD_ROUNDS);
        free(hub);
    }
}

/* ---- SIGKILL in the middle of merges ---- */

struct worker {
    pthread_t thread;
    struct hubclient_device *dev;
    size_t index;
    atomic_int *stop;
    atomic_int *in_flight;
    atomic_int *answered; /* syncs answered 200, by all the workers */
    unsigned ok, cut;     /* syncs answered 200; syncs that got no answer */
    unsigned writes;
    int failed; /* 1: a local write failed; 2: the hub answered an error */
    char why[700];
};

/* More work: a few cases with some text, and events. Runs in the workers'
 * threads, so it reports failures in w->failed rather than asserting. */
static void write_batch(struct worker *w, unsigned cases)
{
    static const char facts[] = "村民甲与村民乙因宅基地边界及排水沟走向发生争执，双方多次协商未果，"
                                "村调解委员会受理后组织现场查看并听取双方陈述，拟定调解方案。";
    struct hubclient_device *d = w->dev;
    for (unsigned i = 0; i < cases && !w->failed; i++) {
        char id[UUID7_STRLEN + 1], event[UUID7_STRLEN + 1], title[128];
        snprintf(title, sizeof title, "%s-%zu-%u", d->village, w->index, w->writes++);
        const char *cols[] = {"case_no", "title", "status", "severity", "facts", "created_at"};
        struct sync_value vals[] = {text(title), text(title), text("registered"),
                                    integer(2),  text(facts), text("2026-01-01T08:00:00+08:00")};
        const char *ecols[] = {"case_id", "date", "kind", "note"};
        struct sync_value evals[] = {text(id), text("2026-01-02"), text("visit"), text(facts)};
        if (uuid7_now(id) != 0 || uuid7_now(event) != 0 ||
            replica_put(d->replica, "cases", id, d->village, 6, cols, vals, NULL) != 0 ||
            replica_append(d->replica, "events", event, d->village, 4, ecols, evals) != 0) {
            w->failed = 1;
        }
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    while (!atomic_load(w->stop) && !w->failed) {
        write_batch(w, 10);
        atomic_fetch_add(w->in_flight, 1);
        long status = hubclient_sync(w->dev);
        atomic_fetch_sub(w->in_flight, 1);
        if (status == 200) {
            w->ok++;
            atomic_fetch_add(w->answered, 1);
        } else {
            if (status == 0) {
                w->cut++;
            } else {
                /* The hub answered, and not with 200: not what a kill does. */
                w->failed = status < 0 ? 1 : 2;
                snprintf(w->why, sizeof w->why, "%ld %s: %s", status, w->dev->error,
                         w->dev->message);
            }
            break; /* the hub is gone; wait for the next round */
        }
    }
    return NULL;
}

/* The hub holds at least every change it acknowledged to each laptop. */
static void assert_acked_kept(struct fixture *f, struct worker *workers, size_t n)
{
    sqlite3 *db;
    assert_int_equal(hubproc_open_db(f->hub, &db), 0);
    sqlite3_stmt *st;
    /* The node's changes with seq <= ?2: all of a run below, the first
     * ?2 - seq + 1 of a run across. */
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT coalesce(sum(CASE WHEN seq + n - 1 <= ?2 THEN n"
                                        " ELSE ?2 - seq + 1 END), 0), " RUNS_OVERLAPPING
                                        " FROM hl_run WHERE node = ?1 AND seq <= ?2",
                                        -1, &st, NULL),
                     SQLITE_OK);
    for (size_t i = 0; i < n; i++) {
        int64_t acked = hubclient_acked(workers[i].dev);
        sqlite3_bind_int64(st, 1, (sqlite3_int64)replica_node(workers[i].dev->replica));
        sqlite3_bind_int64(st, 2, acked);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        int64_t held = sqlite3_column_int64(st, 0);
        int64_t overlapping = sqlite3_column_int64(st, 1);
        sqlite3_reset(st);
        if (held != acked || overlapping != 0) {
            fprintf(stderr,
                    "  laptop %zu was acknowledged up to %lld; the hub holds %lld of"
                    " those (%lld runs overlapping)\n",
                    i, (long long)acked, (long long)held, (long long)overlapping);
        }
        assert_int_equal(held, acked);
        assert_int_equal(overlapping, 0);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void test_kill(void **state)
{
    struct fixture *f = *state;
    static const char *const villages[] = {"yangliu", "hetang"};
    for (size_t v = 0; v < 2; v++) {
        assert_int_equal(hubproc_village_add(f->hub, villages[v]), 0);
    }
    struct worker workers[KILL_DEVICES];
    atomic_int stop, in_flight, answered;
    atomic_init(&stop, 0);
    atomic_init(&in_flight, 0);
    atomic_init(&answered, 0);
    memset(workers, 0, sizeof workers);
    for (size_t i = 0; i < KILL_DEVICES; i++) {
        workers[i].dev = new_device(f, villages[i % 2]);
        workers[i].dev->batch_bytes = 128u << 10;
        workers[i].dev->pull_bytes = 128u << 10;
        workers[i].dev->target.timeout_s = 30;
        workers[i].index = i;
        workers[i].stop = &stop;
        workers[i].in_flight = &in_flight;
        workers[i].answered = &answered;
        write_batch(&workers[i], 150); /* a backlog: large batches from the start */
    }
    unsigned seed = (unsigned)time(NULL);
    const char *given = getenv("HAMLET_TEST_SEED");
    if (given && given[0]) {
        seed = (unsigned)strtoul(given, NULL, 10);
    }
    srand(seed);
    printf("  %d laptops sync large batches; the hub is killed with SIGKILL %d times\n"
           "  at random moments (seed %u, HAMLET_TEST_SEED to repeat)\n",
           KILL_DEVICES, KILLS, seed);
    unsigned busy_kills = 0;
    double t0 = now_s();
    for (int k = 0; k < KILLS; k++) {
        if (k > 0) {
            assert_int_equal(hubproc_start(f->hub), 0);
            assert_acked_kept(f, workers, KILL_DEVICES);
        }
        atomic_store(&stop, 0);
        for (size_t i = 0; i < KILL_DEVICES; i++) {
            assert_int_equal(pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]), 0);
        }
        sleep_ms(50 + rand() % 251);
        /* The last kill waits for a first answered sync if none came yet (a
         * slow machine, a sanitizer build): the test must see the hub merge
         * something between its deaths, whatever the machine's speed. */
        for (int waited = 0; k == KILLS - 1 && atomic_load(&answered) == 0 && waited < 6000;
             waited++) {
            sleep_ms(10);
        }
        busy_kills += atomic_load(&in_flight) > 0;
        hubproc_kill(f->hub);
        atomic_store(&stop, 1);
        for (size_t i = 0; i < KILL_DEVICES; i++) {
            pthread_join(workers[i].thread, NULL);
            if (workers[i].failed) {
                fprintf(stderr, "    laptop %zu: %s\n", i,
                        workers[i].failed == 1 ? "a local write failed" : workers[i].why);
            }
            assert_int_equal(workers[i].failed, 0);
        }
    }
    unsigned ok = 0, cut = 0;
    for (size_t i = 0; i < KILL_DEVICES; i++) {
        ok += workers[i].ok;
        cut += workers[i].cut;
    }
    printf("    %d kills in %.1f s: %u with syncs in flight, %u syncs cut, %u answered\n", KILLS,
           now_s() - t0, busy_kills, cut, ok);
    assert_true(busy_kills >= KILLS / 2);

    printf("  restarted: every change acknowledged before a kill is still held\n");
    assert_int_equal(hubproc_start(f->hub), 0);
    assert_acked_kept(f, workers, KILL_DEVICES);
    long long merged = journal_changes(f);
    printf("    %lld changes merged while the hub was being killed\n", merged);
    assert_true(merged > 0);

    printf("  the laptops resend until caught up; nothing lost or doubled\n");
    struct hubclient_device *devs[KILL_DEVICES];
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < KILL_DEVICES; i++) {
            devs[i] = workers[i].dev;
            assert_int_equal(sync_ok(devs[i]), 200);
        }
    }
    assert_all_settled(f, devs, KILL_DEVICES, villages, 2);
    char *log = hubproc_read_log(f->hub);
    assert_non_null(log);
    free(log);
    printf("    the hub was started %u times on one database\n", f->hub->starts);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    if (hubclient_global_init() != 0) {
        fprintf(stderr, "test_hub: libcurl would not start\n");
        return 1;
    }
    /* HAMLET_TEST_FILTER=test_kill runs one test (a cmocka pattern). */
    const char *filter = getenv("HAMLET_TEST_FILTER");
    if (filter && filter[0]) {
        cmocka_set_test_filter(filter);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_enrol_sync_pull, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoke, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_village, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oversize, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zlib_bomb, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_timeout, setup_idle, teardown),
        cmocka_unit_test_setup_teardown(test_rate_limit, setup_rate, teardown),
        cmocka_unit_test_setup_teardown(test_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill, setup_unlimited, teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    hubclient_global_cleanup();
    return failed ? 1 : 0;
}
