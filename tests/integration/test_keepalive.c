/* SPDX-License-Identifier: MIT */
/*
 * test_keepalive.c - a sync is one connection. The real `hamlet` syncs with
 * the real `hamlet-hub serve` through the slow-link proxy, whose counts
 * say how many TCP connections were made, while the hub's log says how
 * many requests it answered. A first sync made of many small rounds must
 * make one connection for all of them, on the pushing laptop and on the
 * pulling one, and the agent's byte counts must stay within what the link
 * carried. A link that cuts every connection after a few KB costs one new
 * connection a cut, and the sync still completes in the same run; a link
 * that goes down in the middle of a sync fails that run, and the next run
 * completes; nothing is missing or doubled at the hub either way. Below
 * the agent, agent/https.c's session is driven directly: a connection the
 * hub closed for idleness is replaced without a failure, and the pin is
 * checked on each new connection (a hub that changed its key is refused).
 *
 * Environment: HAMLET_AGENT, HAMLET_HUB, SLOWLINK (the programs), HAMLET_DATA
 * (the reference data; default ../shared/data), HAMLET_TEST_FILTER (a cmocka
 * pattern: run some tests).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "agentproc.h"
#include "checks.h"
#include "https.h"
#include "hubclient.h"
#include "hubproc.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VILLAGE     "大坳村" /* 21 cases in cases-200.jsonl, the most of any village */
#define DATA_FILE   "cases-200.jsonl"
#define MIN_CASES   15
#define MAX_LAPTOPS 4
/* Batches start at the smallest (SYNC_CLIENT_MIN_BATCH) and double after
 * each round, so that the village's cases take several rounds. */
#define SMALL_BATCH  2048
#define MIN_ROUNDS   4
#define LATENCY_MS   "40"   /* one way, on every link of these tests */
#define CUT_AFTER    "9000" /* bytes of a connection, both ways, before it is cut */
#define IDLE_S       "2"    /* the hub's idle timeout in the session test */
#define IDLE_WAIT_MS 4500   /* long enough for the hub to close an idle connection */

struct fixture {
    struct hubproc *hub;
    char dir[AGENTPROC_PATH_MAX - 80]; /* the laptops' files */
    char data[AGENTPROC_PATH_MAX];     /* the reference data folder */
    struct agentproc *laptop[MAX_LAPTOPS];
    size_t nlaptops;
    struct agentproc_link *link;
};

/* What a link carried, read once it stopped. */
struct link_counts {
    uint64_t connections, bytes_up, bytes_down, cuts;
};

/* What `hamlet sync` said it did. */
struct sync_said {
    int64_t sent, received, bytes_up, bytes_down;
    int rounds;
};

/* ---- set-up ---- */

static int setup_with(void **state, const char *const *serve_args)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f) {
        return -1;
    }
    const char *env = getenv("HAMLET_DATA");
    snprintf(f->data, sizeof f->data, "%s", env && env[0] ? env : "../shared/data");
    char probe[AGENTPROC_PATH_MAX + 32];
    snprintf(probe, sizeof probe, "%s/%s", f->data, DATA_FILE);
    if (access(probe, R_OK) != 0) {
        fprintf(stderr, "test_keepalive: no reference data at %s (set HAMLET_DATA)\n", probe);
        free(f);
        return -1;
    }
    if (agentproc_tmpdir("hamlet-keepalive-test", f->dir, sizeof f->dir) != 0 ||
        hubproc_new(serve_args, &f->hub) != 0 || hubproc_start(f->hub) != 0) {
        hubproc_free(f->hub);
        agentproc_rmdir(f->dir);
        free(f);
        return -1;
    }
    printf("  hub: %s in %s; laptops in %s\n", f->hub->url, f->hub->dir, f->dir);
    *state = f;
    return 0;
}

/* Rounds come fast here: no per-minute allowance gets in the way. */
static int setup(void **state)
{
    const char *args[] = {"--device-rate", "100000", NULL};
    return setup_with(state, args);
}

/* A hub that closes a connection idle for IDLE_S seconds. */
static int setup_idle(void **state)
{
    const char *args[] = {"--device-rate", "100000", "--idle-timeout", IDLE_S, NULL};
    return setup_with(state, args);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    agentproc_link_stop(f->link);
    for (size_t i = 0; i < f->nlaptops; i++) {
        agentproc_free(f->laptop[i]);
    }
    int status = hubproc_stop(f->hub);
    if (status != 0) {
        fprintf(stderr, "  the hub did not stop cleanly on SIGTERM (status %d)\n", status);
    }
    hubproc_free(f->hub);
    agentproc_rmdir(f->dir);
    free(f);
    return status == 0 ? 0 : -1;
}

/* ---- helpers ---- */

#define ARGS(...)          ((const char *const[]){__VA_ARGS__, NULL})
#define RUN_OK(a, ...)     run_ok(a, ARGS(__VA_ARGS__), __LINE__)
#define RUN_ANY(a, r, ...) agentproc_run(a, ARGS(__VA_ARGS__), r)

/* Run hamlet on a laptop; it must succeed. Returns its stdout (free it). */
static char *run_ok(struct agentproc *a, const char *const *args, int line)
{
    struct agentproc_result r;
    int status = agentproc_run(a, args, &r);
    if (status != 0) {
        fprintf(stderr,
                "  line %d: %s: hamlet %s: exit %d (signal %d)\n  stdout: %.2000s\n"
                "  stderr: %.2000s\n",
                line, a->name, args[0], r.status, r.signal, r.out, r.err);
        agentproc_result_clear(&r);
    }
    assert_int_equal(status, 0);
    char *out = r.out;
    r.out = NULL;
    agentproc_result_clear(&r);
    return out;
}

static struct agentproc *new_laptop(struct fixture *f, const char *name)
{
    assert_true(f->nlaptops < MAX_LAPTOPS);
    struct agentproc *a = NULL;
    assert_int_equal(agentproc_new(f->dir, name, &a), 0);
    f->laptop[f->nlaptops++] = a;
    return a;
}

/* Write a value into the laptop's hl_meta, as the agent keeps it (the
 * agent is not running). text NULL: the number. */
static void set_meta(struct agentproc *a, const char *key, const char *text, int64_t number)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(a->db, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "INSERT INTO hl_meta (key, value) VALUES (?1, ?2)"
                                        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (text) {
        sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_int64(st, 2, number);
    }
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static int64_t meta(struct agentproc *a, const char *key)
{
    int64_t v = -1;
    assert_int_equal(agentproc_meta_int(a, key, &v), 0);
    return v;
}

/* A laptop of VILLAGE, enrolled directly with the hub, whose syncs then go
 * through url (a link) in batches that start small. With import, it holds
 * the village's cases of the reference data, not yet sent. */
static struct agentproc *laptop_through(struct fixture *f, const char *name, const char *code,
                                        int import, char *device, size_t device_len)
{
    struct agentproc *a = new_laptop(f, name);
    free(RUN_OK(a, "init", "--village", VILLAGE));
    if (import) {
        char path[AGENTPROC_PATH_MAX + 64];
        snprintf(path, sizeof path, "%s/%s", f->data, DATA_FILE);
        char *out = RUN_OK(a, "import", path);
        printf("    %s: %s", name, out);
        free(out);
    }
    char *out = RUN_OK(a, "enroll", code);
    printf("    %s: %s", name, out);
    free(out);
    set_meta(a, "agent.batch_bytes", NULL, SMALL_BATCH);
    assert_int_equal(agentproc_code_part(code, 2, device, device_len), 0);
    return a;
}

static struct agentproc_link *link_start(struct fixture *f, const char *const *options)
{
    assert_null(f->link);
    assert_int_equal(agentproc_link_start(f->dir, f->hub->listen, options, &f->link), 0);
    return f->link;
}

/* Stop the link (it writes its final counts as it stops) and read them. */
static void link_stop(struct fixture *f, struct link_counts *out)
{
    struct agentproc_link copy = *f->link; /* the stats file stays */
    agentproc_link_stop(f->link);
    f->link = NULL;
    assert_int_equal(agentproc_link_stat(&copy, "connections", &out->connections), 0);
    assert_int_equal(agentproc_link_stat(&copy, "bytes_up", &out->bytes_up), 0);
    assert_int_equal(agentproc_link_stat(&copy, "bytes_down", &out->bytes_down), 0);
    assert_int_equal(agentproc_link_stat(&copy, "cuts", &out->cuts), 0);
    printf("    the link: %" PRIu64 " connection(s), %" PRIu64 " bytes up, %" PRIu64
           " bytes down, %" PRIu64 " cut(s)\n",
           out->connections, out->bytes_up, out->bytes_down, out->cuts);
}

/* Sync requests the hub answered for a device: one log line each. */
static size_t hub_syncs(struct fixture *f, const char *device)
{
    char *log = hubproc_read_log(f->hub);
    assert_non_null(log);
    char needle[96];
    snprintf(needle, sizeof needle, "hamlet-hub: sync device=%s ", device);
    size_t n = 0;
    for (const char *p = log; (p = strstr(p, needle)); p += strlen(needle)) {
        n++;
    }
    free(log);
    return n;
}

/* The number before text in line ("synced: sent 12, ..."); -1 if none. */
static int64_t number_before(const char *line, const char *text)
{
    const char *at = strstr(line, text);
    if (!at) {
        return -1;
    }
    const char *start = at;
    while (start > line && start[-1] >= '0' && start[-1] <= '9') {
        start--;
    }
    if (start == at) {
        return -1;
    }
    char *end;
    errno = 0;
    long long v = strtoll(start, &end, 10);
    return errno == 0 && end == at ? (int64_t)v : -1;
}

/* The summary line of a successful `hamlet sync`: "synced: sent N,
 * received N, N bytes up, N bytes down, N round trips, N conflicts". */
static void parse_synced(const char *out, struct sync_said *said)
{
    assert_non_null(strstr(out, "synced: "));
    const char *sent = strstr(out, "sent ");
    const char *received = strstr(out, "received ");
    assert_non_null(sent);
    assert_non_null(received);
    said->sent = strtoll(sent + 5, NULL, 10);
    said->received = strtoll(received + 9, NULL, 10);
    said->bytes_up = number_before(out, " bytes up");
    said->bytes_down = number_before(out, " bytes down");
    said->rounds = (int)number_before(out, " round trip");
    assert_true(said->bytes_up > 0);
    assert_true(said->bytes_down > 0);
    assert_true(said->rounds > 0);
}

/* One `hamlet sync`, which must succeed; what it said. */
static void sync_ok(struct agentproc *a, struct sync_said *said)
{
    char *out = RUN_OK(a, "sync");
    printf("    %s: %s", a->name, out);
    parse_synced(out, said);
    free(out);
}

/* Each change the laptop made is at the hub exactly once (checks.h). */
static void assert_exactly_once(struct fixture *f, struct agentproc *a)
{
    char why[300];
    if (checks_exactly_once(f->hub, a, why, sizeof why) != 0) {
        fail_msg("%s", why);
    }
}

/* The laptop's export equals the hub's export of the village. */
static void assert_same_as_hub(struct fixture *f, struct agentproc *a)
{
    char why[400];
    if (checks_same_as_hub(f->hub, a, VILLAGE, why, sizeof why) != 0) {
        fail_msg("%s", why);
    }
}

/* The agent counts HTTP bytes; the link counts them with TLS around them:
 * a handshake and a few dozen bytes a round. Counts that took a byte twice
 * (a small body sent with the headers) or that were not per request (each
 * summing the ones before it) would exceed what the link carried. */
static void assert_counts_honest(const struct sync_said *said, const struct link_counts *link)
{
    uint64_t tls = 4096 + 256 * (uint64_t)said->rounds;
    assert_true((uint64_t)said->bytes_up <= link->bytes_up);
    assert_true((uint64_t)said->bytes_down <= link->bytes_down);
    assert_true((uint64_t)said->bytes_up + tls >= link->bytes_up);
    assert_true((uint64_t)said->bytes_down + tls >= link->bytes_down);
}

/* ---- 1. many rounds, one connection ---- */

static void test_one_connection_per_sync(void **state)
{
    struct fixture *f = *state;
    printf("  checks: a first sync of many small rounds, pushing and then pulling, makes one"
           " TCP connection for all of its requests; the agent's byte counts stay within"
           " what the link carried\n");
    assert_int_equal(hubproc_village_add(f->hub, VILLAGE), 0);
    char codes[2][HUBPROC_CODE_MAX];
    assert_int_equal(hubproc_devices_add(f->hub, VILLAGE, 2, codes), 0);
    char device1[64], device2[64];
    struct agentproc *k1 = laptop_through(f, "k1", codes[0], 1, device1, sizeof device1);
    int64_t changes = meta(k1, "hl.seq");
    assert_true(changes > 0);

    const char *options[] = {"--latency", LATENCY_MS, NULL};
    set_meta(k1, "agent.hub_url", link_start(f, options)->url, 0);
    size_t before = hub_syncs(f, device1);
    struct sync_said said;
    sync_ok(k1, &said);
    struct link_counts link;
    link_stop(f, &link);
    size_t requests = hub_syncs(f, device1) - before;
    printf("    k1 pushed %" PRId64 " changes in %d rounds; the hub answered %zu requests\n",
           said.sent, said.rounds, requests);
    assert_int_equal(said.sent, changes);
    assert_true(said.rounds >= MIN_ROUNDS);
    assert_int_equal(requests, (size_t)said.rounds);
    assert_int_equal(link.connections, 1);
    assert_int_equal(link.cuts, 0);
    assert_counts_honest(&said, &link);
    assert_exactly_once(f, k1);

    printf("  k2 pulls the village in small rounds\n");
    struct agentproc *k2 = laptop_through(f, "k2", codes[1], 0, device2, sizeof device2);
    set_meta(k2, "agent.hub_url", link_start(f, options)->url, 0);
    before = hub_syncs(f, device2);
    sync_ok(k2, &said);
    link_stop(f, &link);
    requests = hub_syncs(f, device2) - before;
    printf("    k2 received %" PRId64 " changes in %d rounds; the hub answered %zu requests\n",
           said.received, said.rounds, requests);
    assert_true(said.received >= changes);
    assert_true(said.rounds >= MIN_ROUNDS);
    assert_int_equal(requests, (size_t)said.rounds);
    assert_int_equal(link.connections, 1);
    assert_counts_honest(&said, &link);
    assert_same_as_hub(f, k2);

    printf("  nothing to do: one request, one connection\n");
    set_meta(k2, "agent.hub_url", link_start(f, options)->url, 0);
    sync_ok(k2, &said);
    link_stop(f, &link);
    assert_int_equal(said.rounds, 1);
    assert_int_equal(said.received, 0);
    assert_int_equal(link.connections, 1);
}

/* ---- 2. cuts within a sync ---- */

static void test_cuts_within_a_sync(void **state)
{
    struct fixture *f = *state;
    printf("  checks: a link that cuts every connection after " CUT_AFTER " bytes costs one"
           " failed round and one new connection a cut; the rounds after a cut share the new"
           " connection, and the same run of hamlet sync completes, every change once\n");
    assert_int_equal(hubproc_village_add(f->hub, VILLAGE), 0);
    char code[HUBPROC_CODE_MAX], device[64];
    assert_int_equal(hubproc_device_add(f->hub, VILLAGE, code, sizeof code), 0);
    struct agentproc *c1 = laptop_through(f, "c1", code, 1, device, sizeof device);
    const char *options[] = {"--latency", LATENCY_MS, "--cut-after", CUT_AFTER, NULL};
    set_meta(c1, "agent.hub_url", link_start(f, options)->url, 0);
    size_t before = hub_syncs(f, device);
    struct sync_said said;
    sync_ok(c1, &said);
    struct link_counts link;
    link_stop(f, &link);
    size_t requests = hub_syncs(f, device) - before;
    printf("    c1: %d rounds (%zu answered at the hub) over %" PRIu64 " connections, %" PRIu64
           " cut\n",
           said.rounds, requests, link.connections, link.cuts);
    assert_true(link.cuts >= 2); /* the link really cut, more than once */
    /* Every connection but the last was cut, and none was made for
     * nothing: a cut connection is replaced once, then reused. */
    assert_int_equal(link.connections, link.cuts + 1);
    assert_true((uint64_t)said.rounds > link.connections);
    assert_true(requests <= (size_t)said.rounds);
    assert_exactly_once(f, c1);
    assert_same_as_hub(f, c1);
}

/* ---- 3. the link goes down; the next run completes ---- */

static void test_link_down_then_next_run(void **state)
{
    struct fixture *f = *state;
    printf("  checks: a link that goes down in the middle of a sync fails that run of hamlet"
           " sync; once the link is back, the next run completes on one connection and"
           " every change is at the hub once\n");
    assert_int_equal(hubproc_village_add(f->hub, VILLAGE), 0);
    char code[HUBPROC_CODE_MAX], device[64];
    assert_int_equal(hubproc_device_add(f->hub, VILLAGE, code, sizeof code), 0);
    struct agentproc *d1 = laptop_through(f, "d1", code, 1, device, sizeof device);
    int64_t changes = meta(d1, "hl.seq");
    /* Slower rounds than the others, so that the link goes down well
     * before the sync could end. */
    const char *options[] = {"--latency", "150", NULL};
    struct agentproc_link *link = link_start(f, options);
    unsigned port = link->port;
    set_meta(d1, "agent.hub_url", link->url, 0);
    assert_int_equal(agentproc_spawn(d1, ARGS("sync")), 0);
    double deadline = agentproc_now() + 60;
    while (hub_syncs(f, device) < 2 && agentproc_running(d1) && agentproc_now() < deadline) {
        agentproc_sleep_ms(5);
    }
    assert_true(hub_syncs(f, device) >= 2);
    assert_true(agentproc_running(d1));
    struct link_counts counts;
    link_stop(f, &counts);
    printf("    the link went down after %zu rounds\n", hub_syncs(f, device));
    struct agentproc_result r;
    int status = agentproc_wait(d1, &r);
    printf("    d1: exit %d after %.1f s: %.*s\n", status, r.seconds, (int)strcspn(r.err, "\n"),
           r.err);
    int failed_cleanly = status == 1 && strstr(r.err, "sync failed") != NULL;
    agentproc_result_clear(&r);
    assert_true(failed_cleanly);
    int64_t acked = meta(d1, "agent.acked");
    printf("    %" PRId64 " of %" PRId64 " changes acknowledged before the link went down\n", acked,
           changes);
    assert_true(acked > 0);
    assert_true(acked < changes);

    printf("  the link is back on the same port: the next run completes\n");
    char listen[32];
    snprintf(listen, sizeof listen, "127.0.0.1:%u", port);
    const char *again[] = {"--latency", LATENCY_MS, "--listen", listen, NULL};
    assert_int_equal(link_start(f, again)->port, port);
    struct sync_said said;
    sync_ok(d1, &said);
    link_stop(f, &counts);
    assert_int_equal(counts.connections, 1);
    assert_true(said.rounds >= 2);
    assert_exactly_once(f, d1);
    assert_same_as_hub(f, d1);
}

/* ---- 4. the session of agent/https.c, directly ---- */

/* One POST to /v1/sync without a credential: the hub reads it whole and
 * answers 401, keeping the connection. Returns https_post()'s result. */
static int post_unauthorised(struct https_session *session, const char *base, const char *pin,
                             struct https_response *resp)
{
    char url[160];
    snprintf(url, sizeof url, "%s/v1/sync", base);
    static const uint8_t body[] = "not an envelope";
    struct https_request req = {
        .url = url,
        .pin = pin,
        .content_type = "application/x-hamlet-envelope",
        .body = body,
        .len = sizeof body - 1,
    };
    return https_post(session, &req, resp);
}

static void expect_answer(struct https_session *session, struct fixture *f, const char *pin,
                          int new_connections)
{
    struct https_response resp;
    int rc = post_unauthorised(session, f->hub->url, pin, &resp);
    printf("    status %ld, %d new connection(s), %" PRId64 " bytes up, %" PRId64
           " bytes down%s%s\n",
           resp.status, resp.new_connections, resp.bytes_up, resp.bytes_down, rc ? ": " : "",
           rc ? resp.error : "");
    assert_int_equal(rc, 0);
    assert_int_equal(resp.status, 401);
    assert_int_equal(resp.new_connections, new_connections);
    assert_true(resp.bytes_up > 0 && resp.bytes_down > 0);
    https_response_clear(&resp);
}

static void test_session_reconnects(void **state)
{
    struct fixture *f = *state;
    printf("  checks: requests of one session share a connection; a connection the hub closed"
           " for idleness (" IDLE_S " s) is replaced without a failure; each new connection"
           " checks the pin, so a hub that changed its key is refused, by the same session\n");
    assert_int_equal(https_global_init(), 0);
    struct https_session *session = https_session_new();
    assert_non_null(session);
    printf("  two requests\n");
    expect_answer(session, f, f->hub->pin, 1);
    expect_answer(session, f, f->hub->pin, 0);
    printf("  the hub closes the idle connection\n");
    agentproc_sleep_ms(IDLE_WAIT_MS);
    expect_answer(session, f, f->hub->pin, 1);
    expect_answer(session, f, f->hub->pin, 0);

    printf("  the hub takes a new key (SIGHUP) and closes the idle connection\n");
    /* Made in the laptops' folder, then moved over the hub's files. */
    const char *generate[] = {"cert", "generate", "--out", f->dir, "--name", "localhost", NULL};
    char *out = NULL;
    assert_int_equal(hubproc_run(f->hub, generate, &out, NULL), 0);
    const char *pin = strstr(out, "pin:");
    assert_non_null(pin);
    pin += 4 + strspn(pin + 4, " \t");
    char new_pin[128];
    snprintf(new_pin, sizeof new_pin, "%.*s", (int)strcspn(pin, "\r\n"), pin);
    free(out);
    assert_string_not_equal(new_pin, f->hub->pin);
    char from[AGENTPROC_PATH_MAX];
    snprintf(from, sizeof from, "%s/hub.crt", f->dir);
    assert_int_equal(rename(from, f->hub->cert), 0);
    snprintf(from, sizeof from, "%s/hub.key", f->dir);
    assert_int_equal(rename(from, f->hub->key), 0);
    assert_int_equal(kill(f->hub->pid, SIGHUP), 0);
    agentproc_sleep_ms(IDLE_WAIT_MS);
    struct https_response resp;
    assert_int_equal(post_unauthorised(session, f->hub->url, f->hub->pin, &resp), -1);
    printf("    the old pin: %s\n", resp.error);
    assert_true(resp.pin_mismatch);
    assert_int_equal(resp.status, 0);
    https_response_clear(&resp);
    printf("  the new pin, on the same session\n");
    expect_answer(session, f, new_pin, 1);
    expect_answer(session, f, new_pin, 0);
    https_session_free(session);
    /* The hub is stopped at teardown without its pin: keep it right for
     * anything that would check it. */
    snprintf(f->hub->pin, sizeof f->hub->pin, "%s", new_pin);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0); /* progress and failures interleave in order */
    if (hubclient_global_init() != 0) {
        fprintf(stderr, "test_keepalive: libcurl would not start\n");
        return 1;
    }
    const char *filter = getenv("HAMLET_TEST_FILTER");
    if (filter && filter[0]) {
        cmocka_set_test_filter(filter);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_connection_per_sync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cuts_within_a_sync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_link_down_then_next_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_reconnects, setup_idle, teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    hubclient_global_cleanup();
    return failed ? 1 : 0;
}
