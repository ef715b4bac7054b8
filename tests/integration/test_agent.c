/* SPDX-License-Identifier: MIT */
/*
 * test_agent.c - the village agent end to end: the real `hamlet` on
 * laptops' ledger files and the real `hamlet-hub serve` on loopback, over
 * real HTTPS with the hub's key pinned, driven the way a village secretary
 * and a township administrator drive them (tests/tools/agentproc,
 * tests/tools/hubproc). Each test gets its own hub and folder and checks
 * what people would notice: every laptop's export byte for byte the hub's,
 * concurrent edits in the review queue and the decision back on the
 * laptops, a 2G link that cuts every 20 KB, crashes of either side in the
 * middle of a sync, a wrong certificate, laptop clocks 200 days off, and
 * the township's actions on a case (deadline, level, mediator, a request
 * for a correction) reaching the village and the village's answer coming
 * back.
 * Nothing may be missing or doubled: the hub holds each laptop's changes
 * exactly once (one journal row per change the laptop made).
 *
 * Environment: HAMLET_AGENT, HAMLET_HUB, SLOWLINK (the programs), HAMLET_DATA
 * (the reference data; default ../shared/data), HAMLET_TEST_FILTER (a cmocka
 * pattern: run some tests), HAMLET_TEST_SEED (repeat a run's random choices),
 * FAKETIME_LIB (libfaketime.so.1, if not where Debian puts it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "agentproc.h"
#include "checks.h"
#include "hubclient.h"
#include "hubproc.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_LAPTOPS 8
#define UUID_LEN    36

#define VILLAGE_A "白沙村"
#define VILLAGE_B "柏树湾村"

/* The slow link of a village: 64 kbit/s, 300 ms one way, cut every 20 KB. */
#define SLOW_RATE    "64"
#define SLOW_LATENCY "300"
#define SLOW_CUT     "20000"
/* All 72 cases of 白沙村 in cases-1000.jsonl (767 changes, about 145 KB on the
 * wire) take about 45 s at 64 kbit/s, well inside the bound below. */
#define SLOW_MAX_CASES   72
#define SLOW_DEADLINE_S  240 /* seconds of syncing before the test gives up */
#define SLOW_MAX_SYNCS   40  /* `hamlet sync` runs before giving up */
#define AGENT_KILLS      50
#define HUB_KILLS        10
#define KILL_LATENCY     "25" /* ms each way on the crashing laptop's link */
#define CLOCK_SKEW_S     (200LL * 86400)
#define CLOCK_SLACK_S    120 /* how far the measured offset may be from 200 days */
#define DEFAULT_FAKETIME "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1" /* Debian */
#define OTHER_FAKETIME   "/usr/lib/faketime/libfaketime.so.1"

struct fixture {
    struct hubproc *hub;
    char dir[AGENTPROC_PATH_MAX - 80]; /* the laptops' files */
    char data[AGENTPROC_PATH_MAX];     /* the reference data folder */
    struct agentproc *laptop[MAX_LAPTOPS];
    size_t nlaptops;
    struct agentproc_link *link;
};

static uint64_t rng_state;

/* ---- set-up ---- */

/* The reference data: $HAMLET_DATA, else ../shared/data from the root. */
static int find_data(char *out, size_t len)
{
    const char *env = getenv("HAMLET_DATA");
    snprintf(out, len, "%s", env && env[0] ? env : "../shared/data");
    char probe[AGENTPROC_PATH_MAX + 32];
    snprintf(probe, sizeof probe, "%s/cases-1000.jsonl", out);
    if (access(probe, R_OK) != 0) {
        fprintf(stderr, "test_agent: no reference data at %s (set HAMLET_DATA)\n", probe);
        return -1;
    }
    return 0;
}

static int setup_with(void **state, const char *const *serve_args)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f) {
        return -1;
    }
    if (find_data(f->data, sizeof f->data) != 0 ||
        agentproc_tmpdir("hamlet-agent-test", f->dir, sizeof f->dir) != 0 ||
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

static int setup(void **state)
{
    return setup_with(state, NULL);
}

/* For tests that sync far more often than a laptop would in a minute. */
static int setup_unlimited(void **state)
{
    const char *args[] = {"--device-rate", "100000", NULL};
    return setup_with(state, args);
}

/* Everything a test started is stopped here, also after a failed assertion. */
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

static uint64_t rng_next(void)
{
    /* xorshift64*: repeatable from the seed the run prints. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

/* A number from lo to hi, both included. */
static long rng_between(long lo, long hi)
{
    return lo + (long)(rng_next() % (uint64_t)(hi - lo + 1));
}

static struct agentproc *new_laptop(struct fixture *f, const char *name)
{
    assert_true(f->nlaptops < MAX_LAPTOPS);
    struct agentproc *a = NULL;
    assert_int_equal(agentproc_new(f->dir, name, &a), 0);
    f->laptop[f->nlaptops++] = a;
    return a;
}

/* The commands below take their arguments inline: RUN_OK(laptop, "case",
 * "show", id) runs `hamlet --db DB case show ID`. */
#define ARGS(...)          ((const char *const[]){__VA_ARGS__, NULL})
#define RUN_OK(a, ...)     run_ok(a, ARGS(__VA_ARGS__), __LINE__)
#define RUN_QUIET(a, ...)  run_quiet(a, ARGS(__VA_ARGS__), __LINE__)
#define RUN_ANY(a, r, ...) agentproc_run(a, ARGS(__VA_ARGS__), r)
#define HUB_OK(f, ...)     hub_ok(f, ARGS(__VA_ARGS__), __LINE__)

static void report_failure(const struct agentproc *a, const char *const *args,
                           const struct agentproc_result *r, int line)
{
    fprintf(stderr, "  line %d: %s: hamlet", line, a->name);
    for (size_t i = 0; args[i]; i++) {
        fprintf(stderr, " %s", args[i]);
    }
    fprintf(stderr, ": exit %d%s (signal %d) after %.1f s\n  stdout: %.2000s\n  stderr: %.2000s\n",
            r->status, r->timed_out ? ", timed out" : "", r->signal, r->seconds, r->out, r->err);
}

/* Run hamlet on a laptop; it must succeed. Returns its stdout (free it). */
static char *run_ok(struct agentproc *a, const char *const *args, int line)
{
    struct agentproc_result r;
    int status = agentproc_run(a, args, &r);
    if (status != 0) {
        report_failure(a, args, &r, line);
        agentproc_result_clear(&r); /* a failed test leaks nothing */
    }
    assert_int_equal(status, 0);
    char *out = r.out;
    r.out = NULL;
    agentproc_result_clear(&r);
    return out;
}

/* Run hamlet on a laptop; it must succeed; its output is not needed. */
static void run_quiet(struct agentproc *a, const char *const *args, int line)
{
    free(run_ok(a, args, line));
}

/* hamlet sync must succeed; its summary line is shown. */
static void sync_ok(struct agentproc *a)
{
    char *out = RUN_OK(a, "sync");
    printf("    %s: %s", a->name, out);
    free(out);
}

/* hamlet-hub --db HUB args...; it must succeed. Returns stdout (free it). */
static char *hub_ok(struct fixture *f, const char *const *args, int line)
{
    char *out = NULL;
    size_t len = 0;
    int status = hubproc_run(f->hub, args, &out, &len);
    if (status != 0) {
        fprintf(stderr, "  line %d: hamlet-hub %s %s: exit %d\n", line, args[0],
                args[1] ? args[1] : "", status);
        free(out);
        out = NULL;
    }
    assert_int_equal(status, 0);
    assert_non_null(out);
    return out;
}

static void enrol(struct agentproc *a, const char *code)
{
    char *out = RUN_OK(a, "enroll", code);
    printf("    %s: %s", a->name, out);
    free(out);
}

/* The laptop's export equals the hub's export of its village, byte for byte. */
static void assert_same_as_hub(struct fixture *f, struct agentproc *a, const char *village)
{
    char why[400];
    if (checks_same_as_hub(f->hub, a, village, why, sizeof why) != 0) {
        fail_msg("%s", why);
    }
}

static int64_t meta(struct agentproc *a, const char *key)
{
    int64_t v = -1;
    assert_int_equal(agentproc_meta_int(a, key, &v), 0);
    return v;
}

static int64_t ledger_count(struct agentproc *a, const char *sql)
{
    int64_t v = -1;
    assert_int_equal(agentproc_query_int(a, sql, &v), 0);
    return v;
}

/* Each change the laptop made is at the hub exactly once (checks.h). */
static void assert_exactly_once(struct fixture *f, struct agentproc *a)
{
    char why[300];
    if (checks_exactly_once(f->hub, a, why, sizeof why) != 0) {
        fail_msg("%s", why);
    }
}

/* Write the cases of village number first..first+count-1 (in file order)
 * of a reference file to dir/name; returns how many were written. With a
 * non-NULL tag, every title starts with it (an edit of every case). */
static size_t write_cases(struct fixture *f, const char *file, const char *village, size_t first,
                          size_t count, const char *tag, const char *name, char *path,
                          size_t path_len)
{
    char src[AGENTPROC_PATH_MAX + 64];
    snprintf(src, sizeof src, "%s/%s", f->data, file);
    snprintf(path, path_len, "%s/%s", f->dir, name);
    FILE *in = fopen(src, "r");
    assert_non_null(in);
    FILE *out = fopen(path, "w");
    assert_non_null(out);
    char needle[128];
    snprintf(needle, sizeof needle, "\"village\":\"%s\"", village);
    static const char title[] = "\"title\":\"";
    char *line = NULL;
    size_t cap = 0, index = 0, written = 0;
    while (getline(&line, &cap, in) > 0) {
        if (!strstr(line, needle)) {
            continue;
        }
        if (index >= first && index < first + count) {
            char *t = tag ? strstr(line, title) : NULL;
            if (t) {
                size_t head = (size_t)(t - line) + strlen(title);
                fprintf(out, "%.*s%s%s", (int)head, line, tag, line + head);
            } else {
                fputs(line, out);
            }
            written++;
        }
        index++;
    }
    free(line);
    fclose(in);
    assert_int_equal(fclose(out), 0);
    return written;
}

/* The ids of the cases in a JSON Lines file (each line starts {"id":"...). */
static size_t case_ids(const char *path, char (*ids)[UUID_LEN + 1], size_t max)
{
    FILE *in = fopen(path, "r");
    assert_non_null(in);
    char *line = NULL;
    size_t cap = 0, n = 0;
    static const char head[] = "{\"id\":\"";
    while (n < max && getline(&line, &cap, in) > 0) {
        assert_true(strncmp(line, head, strlen(head)) == 0);
        memcpy(ids[n], line + strlen(head), UUID_LEN);
        ids[n][UUID_LEN] = '\0';
        n++;
    }
    free(line);
    fclose(in);
    return n;
}

/* The line of an export that holds one record, copied (free it); NULL if
 * none. */
static char *export_line(const char *export, const char *id)
{
    char head[64];
    snprintf(head, sizeof head, "{\"id\":\"%s\"", id);
    for (const char *p = export; p && *p;) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (strncmp(p, head, strlen(head)) == 0) {
            return strndup(p, len);
        }
        p = end ? end + 1 : NULL;
    }
    return NULL;
}

/* The hub's record of one case holds "field":value (value given as JSON). */
static int hub_case_has(struct fixture *f, const char *village, const char *id, const char *field,
                        const char *json_value)
{
    char *hub = NULL;
    size_t len = 0;
    assert_int_equal(hubproc_export(f->hub, village, &hub, &len), 0);
    char *line = export_line(hub, id);
    char want[600];
    snprintf(want, sizeof want, "\"%s\":%s", field, json_value);
    int found = line && strstr(line, want) != NULL;
    if (!found) {
        fprintf(stderr, "  the hub's case %s lacks %s: %.600s\n", id, want, line ? line : "(none)");
    }
    free(line);
    free(hub);
    return found;
}

/* A value from `hamlet case show`: the text after "FIELD: " on its line. */
static void case_field(struct agentproc *a, const char *id, const char *field, char *out,
                       size_t out_len)
{
    char *show = RUN_OK(a, "case", "show", id);
    char head[64];
    snprintf(head, sizeof head, "%s: ", field);
    out[0] = '\0';
    for (const char *p = show; p && *p;) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (strncmp(p, head, strlen(head)) == 0 && len - strlen(head) < out_len) {
            memcpy(out, p + strlen(head), len - strlen(head));
            out[len - strlen(head)] = '\0';
            break;
        }
        p = end ? end + 1 : NULL;
    }
    free(show);
}

/* The number at the start of the conflict list's line for a case field;
 * -1 if the list has none. */
static long conflict_id(const char *list, const char *case_id, const char *field)
{
    char what[64];
    snprintf(what, sizeof what, "cases.%s:", field);
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char *line = strndup(p, len);
        assert_non_null(line);
        long id = -1;
        if (strstr(line, case_id) && strstr(line, what)) {
            char *after;
            errno = 0;
            id = strtol(line, &after, 10);
            if (errno || after == line) {
                id = -1;
            }
        }
        free(line);
        if (id > 0) {
            return id;
        }
        p = end ? end + 1 : NULL;
    }
    return -1;
}

static size_t count_lines(const char *text)
{
    size_t n = 0;
    for (const char *p = text; *p; p++) {
        n += *p == '\n';
    }
    return n;
}

/* The device id of an enrolment code. */
static void code_device(const char *code, char *out, size_t len)
{
    assert_int_equal(agentproc_code_part(code, 2, out, len), 0);
}

/* ---- 1. two villages, three laptops ---- */

static void test_three_laptops(void **state)
{
    struct fixture *f = *state;
    printf("  checks: offline edits on three laptops of two villages, syncs in three orders;"
           " every export equals the hub's; a concurrent edit reaches the review queue and"
           " the reviewer's decision reaches both laptops\n");
    assert_int_equal(hubproc_village_add(f->hub, VILLAGE_A), 0);
    assert_int_equal(hubproc_village_add(f->hub, VILLAGE_B), 0);
    char code_a1[HUBPROC_CODE_MAX], code_a2[HUBPROC_CODE_MAX], code_b1[HUBPROC_CODE_MAX];
    assert_int_equal(hubproc_device_add(f->hub, VILLAGE_A, code_a1, sizeof code_a1), 0);
    assert_int_equal(hubproc_device_add(f->hub, VILLAGE_A, code_a2, sizeof code_a2), 0);
    assert_int_equal(hubproc_device_add(f->hub, VILLAGE_B, code_b1, sizeof code_b1), 0);
    struct agentproc *a1 = new_laptop(f, "a1");
    struct agentproc *a2 = new_laptop(f, "a2");
    struct agentproc *b1 = new_laptop(f, "b1");

    /* Cases 0-9 of 白沙村 on a1, 5-16 on a2 (5-9 on both), all of 柏树湾村 on b1. */
    char path_a1[AGENTPROC_PATH_MAX + 64], path_a2[AGENTPROC_PATH_MAX + 64],
        path_b1[AGENTPROC_PATH_MAX + 64];
    assert_int_equal(write_cases(f, "cases-200.jsonl", VILLAGE_A, 0, 10, NULL, "a1.jsonl", path_a1,
                                 sizeof path_a1),
                     10);
    assert_int_equal(write_cases(f, "cases-200.jsonl", VILLAGE_A, 5, 12, NULL, "a2.jsonl", path_a2,
                                 sizeof path_a2),
                     12);
    size_t nb = write_cases(f, "cases-200.jsonl", VILLAGE_B, 0, 100, NULL, "b1.jsonl", path_b1,
                            sizeof path_b1);
    assert_true(nb >= 10);
    char ids_a[17][UUID_LEN + 1], ids_b[100][UUID_LEN + 1];
    assert_int_equal(case_ids(path_a1, ids_a, 10), 10);
    assert_int_equal(case_ids(path_a2, ids_a + 5, 12), 12);
    assert_int_equal(case_ids(path_b1, ids_b, 100), nb);

    printf("  offline: init, import and edits on every laptop (b1 enrols first)\n");
    RUN_QUIET(a1, "init", "--village", VILLAGE_A);
    RUN_QUIET(a2, "init", "--village", VILLAGE_A);
    enrol(b1, code_b1); /* enrolment before init gives the village */
    RUN_QUIET(a1, "import", path_a1);
    RUN_QUIET(a2, "import", path_a2);
    char *out = RUN_OK(b1, "import", path_b1);
    printf("    b1: %s", out);
    free(out);

    /* a1: a field of a case only it has, an event, a new case, a contact, a
     * deletion. a2: fields of a case only it has, an event on a shared case,
     * a new case, a contact. b1: the same kinds in its village. */
    RUN_QUIET(a1, "case", "set", ids_a[0], "title=宅基地边界纠纷（已复核）", "severity=3");
    RUN_QUIET(a1, "event", "add", ids_a[7], "--kind", "visit", "--note", "a1 上门走访", "--date",
              "2026-03-01");
    char *new_a1 = RUN_OK(a1, "case", "add", "case_no=（2026）白沙调字第9001号",
                          "title=a1 新登记的山林纠纷", "category=forest_boundary", "severity=2");
    new_a1[strcspn(new_a1, "\n")] = '\0';
    char *contact_a1 = RUN_OK(a1, "contact", "add", "name=柳青", "phone=13900001111");
    contact_a1[strcspn(contact_a1, "\n")] = '\0';
    RUN_QUIET(a1, "case", "delete", ids_a[1]);
    RUN_QUIET(a2, "case", "set", ids_a[15], "claims=请求重新丈量", "outcome=待复核");
    RUN_QUIET(a2, "event", "add", ids_a[7], "--kind", "phone", "--note", "a2 电话回访", "--date",
              "2026-03-02");
    char *new_a2 = RUN_OK(a2, "case", "add", "case_no=（2026）白沙调字第9002号",
                          "title=a2 新登记的债务纠纷", "category=debt");
    new_a2[strcspn(new_a2, "\n")] = '\0';
    RUN_QUIET(a2, "contact", "add", "name=周敏", "address=白沙村5组");
    RUN_QUIET(b1, "case", "set", ids_b[0], "received_by=b1 值班员", "outcome=双方和解");
    RUN_QUIET(b1, "event", "add", ids_b[1], "--kind", "session", "--note", "b1 调解会");
    char *new_b1 = RUN_OK(b1, "case", "add", "title=b1 新登记的邻里纠纷", "category=neighbour");
    new_b1[strcspn(new_b1, "\n")] = '\0';

    printf("  enrol a1 and a2; first order: b1, a2, a1\n");
    enrol(a1, code_a1);
    enrol(a2, code_a2);
    sync_ok(b1);
    sync_ok(a2);
    sync_ok(a1);
    /* a1 synced last in its village: it holds everything the hub has. */
    assert_same_as_hub(f, a1, VILLAGE_A);
    assert_same_as_hub(f, b1, VILLAGE_B);

    printf("  more offline edits; second order: a1, b1, a2, a1\n");
    RUN_QUIET(a1, "event", "add", new_a2, "--kind", "inspection", "--note", "a1 查看现场");
    RUN_QUIET(a2, "case", "set", new_a2, "status=accepted");
    RUN_QUIET(a1, "contact", "set", contact_a1, "address=白沙村2组");
    RUN_QUIET(b1, "case", "set", new_b1, "severity=1");
    sync_ok(a1);
    sync_ok(b1);
    sync_ok(a2);
    sync_ok(a1);
    assert_same_as_hub(f, a1, VILLAGE_A);
    assert_same_as_hub(f, a2, VILLAGE_A);
    assert_same_as_hub(f, b1, VILLAGE_B);

    printf("  every edit is in the merged ledger, and no village sees the other's\n");
    assert_true(hub_case_has(f, VILLAGE_A, ids_a[0], "severity", "3"));
    assert_true(hub_case_has(f, VILLAGE_A, ids_a[15], "outcome", "\"待复核\""));
    assert_true(hub_case_has(f, VILLAGE_A, new_a1, "title", "\"a1 新登记的山林纠纷\""));
    assert_true(hub_case_has(f, VILLAGE_A, new_a2, "status", "\"accepted\""));
    assert_true(hub_case_has(f, VILLAGE_B, ids_b[0], "received_by", "\"b1 值班员\""));
    assert_true(hub_case_has(f, VILLAGE_B, new_b1, "severity", "1"));
    char *exp_a = RUN_OK(a2, "export");
    char *exp_b = RUN_OK(b1, "export");
    char *shared = export_line(exp_a, ids_a[7]);
    assert_non_null(shared);
    assert_non_null(strstr(shared, "a1 上门走访"));
    assert_non_null(strstr(shared, "a2 电话回访"));
    assert_int_equal(count_lines(exp_a), 17 + 2 - 1); /* a deleted case is not exported */
    char *gone = export_line(exp_a, ids_a[1]);
    assert_null(gone);
    assert_int_equal(count_lines(exp_b), nb + 1);
    assert_null(strstr(exp_a, "\"village\":\"" VILLAGE_B));
    assert_null(strstr(exp_b, "\"village\":\"" VILLAGE_A));
    free(shared);
    free(exp_a);
    free(exp_b);
    /* A contact made and changed on a1 reaches a2. */
    char *contact = RUN_OK(a2, "contact", "show", contact_a1);
    assert_non_null(strstr(contact, "柳青"));
    assert_non_null(strstr(contact, "白沙村2组"));
    free(contact);
    for (size_t i = 0; i < 3; i++) {
        assert_exactly_once(f, f->laptop[i]);
    }

    printf("  a concurrent edit: a2 then a1 change one case's status and title offline\n");
    /* a1's new case is registered on both laptops: the rules let a2 refuse
     * it and a1 accept it. */
    const char *case_c = new_a1;
    char current[64];
    case_field(a1, case_c, "status", current, sizeof current);
    assert_string_equal(current, "registered");
    const char *status_a2 = "not_accepted", *status_a1 = "accepted";
    char set_a2[64], set_a1[64];
    snprintf(set_a2, sizeof set_a2, "status=%s", status_a2);
    snprintf(set_a1, sizeof set_a1, "status=%s", status_a1);
    RUN_QUIET(a2, "case", "set", case_c, set_a2, "title=a2 的标题");
    agentproc_sleep_ms(5); /* a1's edit is the later one: it stands */
    RUN_QUIET(a1, "case", "set", case_c, set_a1, "title=a1 的标题");
    printf("  third order: a2, a1, a2\n");
    sync_ok(a2);
    out = RUN_OK(a1, "sync");
    printf("    a1: %s", out);
    assert_non_null(strstr(out, " 2 conflicts"));
    free(out);
    sync_ok(a2);
    char value[128];
    case_field(a2, case_c, "status", value, sizeof value);
    assert_string_equal(value, status_a1);
    case_field(a1, case_c, "title", value, sizeof value);
    assert_string_equal(value, "a1 的标题");

    char *list = HUB_OK(f, "conflicts", "list");
    printf("  hamlet-hub conflicts list:\n%s", list);
    long status_conflict = conflict_id(list, case_c, "status");
    long title_conflict = conflict_id(list, case_c, "title");
    assert_true(status_conflict > 0);
    assert_true(title_conflict > 0);
    assert_int_equal(count_lines(list), 2);
    assert_non_null(strstr(list, status_a1));
    assert_non_null(strstr(list, status_a2));
    free(list);

    printf("  the reviewer keeps the standing status (a2's) and writes a title\n");
    char id_text[32];
    snprintf(id_text, sizeof id_text, "%ld", status_conflict);
    out = HUB_OK(f, "conflicts", "show", id_text);
    char standing[64];
    snprintf(standing, sizeof standing, "standing: \"%s\"", status_a2);
    assert_non_null(strstr(out, standing));
    free(out);
    free(HUB_OK(f, "conflicts", "resolve", id_text, "--keep", "standing", "--by", "审核员"));
    snprintf(id_text, sizeof id_text, "%ld", title_conflict);
    free(HUB_OK(f, "conflicts", "resolve", id_text, "--value", "审核后的标题"));
    list = HUB_OK(f, "conflicts", "list");
    assert_int_equal(conflict_id(list, case_c, "status"), -1);
    assert_int_equal(conflict_id(list, case_c, "title"), -1);
    free(list);
    sync_ok(a1);
    sync_ok(a2);
    struct agentproc *both[] = {a1, a2};
    for (size_t i = 0; i < 2; i++) {
        case_field(both[i], case_c, "status", value, sizeof value);
        printf("    %s shows status %s\n", both[i]->name, value);
        assert_string_equal(value, status_a2);
        case_field(both[i], case_c, "title", value, sizeof value);
        assert_string_equal(value, "审核后的标题");
        assert_same_as_hub(f, both[i], VILLAGE_A);
    }
    assert_same_as_hub(f, b1, VILLAGE_B);
    for (size_t i = 0; i < 3; i++) {
        assert_exactly_once(f, f->laptop[i]);
    }
    free(new_a1);
    free(new_a2);
    free(new_b1);
    free(contact_a1);
}

/* ---- 2. a slow link ---- */

static void test_slow_link(void **state)
{
    struct fixture *f = *state;
    printf("  checks: a village's cases reach the hub exactly once through a 64 kbit/s link"
           " with 300 ms latency that is cut every 20 KB; a second laptop and the hub agree\n");
    assert_int_equal(hubproc_village_add(f->hub, VILLAGE_A), 0);
    char codes[2][HUBPROC_CODE_MAX];
    assert_int_equal(hubproc_devices_add(f->hub, VILLAGE_A, 2, codes), 0);
    const char *options[] = {"--rate",      SLOW_RATE, "--latency", SLOW_LATENCY,
                             "--cut-every", SLOW_CUT,  NULL};
    assert_int_equal(agentproc_link_start(f->dir, f->hub->listen, options, &f->link), 0);
    char slow_code[HUBPROC_CODE_MAX + 64];
    assert_int_equal(agentproc_code_with_url(codes[0], f->link->url, slow_code, sizeof slow_code),
                     0);
    printf("  slowlink on %s -> %s\n", f->link->url, f->hub->listen);

    struct agentproc *s1 = new_laptop(f, "s1");
    struct agentproc *s2 = new_laptop(f, "s2");
    char path[AGENTPROC_PATH_MAX + 64];
    size_t ncases = write_cases(f, "cases-1000.jsonl", VILLAGE_A, 0, SLOW_MAX_CASES, NULL,
                                "village.jsonl", path, sizeof path);
    assert_true(ncases >= 30);
    RUN_QUIET(s1, "init", "--village", VILLAGE_A);
    char *out = RUN_OK(s1, "import", path);
    printf("    s1: %s", out);
    free(out);
    int64_t changes = meta(s1, "hl.seq");
    double started = agentproc_now();
    enrol(s1, slow_code);

    int attempts = 0, status = -1;
    while (status != 0 && attempts < SLOW_MAX_SYNCS &&
           agentproc_now() - started < SLOW_DEADLINE_S) {
        struct agentproc_result r;
        status = RUN_ANY(s1, &r, "sync");
        attempts++;
        const char *said = status == 0 ? r.out : r.err;
        printf("    s1 sync %d (%.1f s): exit %d: %.*s\n", attempts, r.seconds, status,
               (int)strcspn(said, "\n"), said);
        agentproc_result_clear(&r);
        if (status != 0) {
            printf("      pending %" PRId64 " of %" PRId64 "\n", changes - meta(s1, "agent.acked"),
                   changes);
        }
    }
    double elapsed = agentproc_now() - started;
    uint64_t cuts = 0, up = 0, conns = 0;
    agentproc_link_stat(f->link, "cuts", &cuts);
    agentproc_link_stat(f->link, "bytes_up", &up);
    agentproc_link_stat(f->link, "connections", &conns);
    printf("  %zu cases, %" PRId64 " changes: %d runs of hamlet sync, %.1f s; the link carried"
           " %" PRIu64 " bytes up in %" PRIu64 " connections, %" PRIu64 " cut\n",
           ncases, changes, attempts, elapsed, up, conns, cuts);
    assert_int_equal(status, 0);
    assert_true(cuts > 0); /* the link really was cut */

    printf("  s2 enrols and syncs directly, changes a case; s1 pulls it through the link\n");
    enrol(s2, codes[1]);
    sync_ok(s2);
    char first[1][UUID_LEN + 1];
    assert_int_equal(case_ids(path, first, 1), 1);
    RUN_QUIET(s2, "case", "set", first[0], "claims=s2 补充的请求");
    sync_ok(s2);
    status = -1;
    for (attempts = 0; status != 0 && attempts < 5; attempts++) {
        struct agentproc_result r;
        status = RUN_ANY(s1, &r, "sync");
        printf("    s1: exit %d: %.*s\n", status, (int)strcspn(status ? r.err : r.out, "\n"),
               status ? r.err : r.out);
        agentproc_result_clear(&r);
    }
    assert_int_equal(status, 0);
    assert_same_as_hub(f, s1, VILLAGE_A);
    assert_same_as_hub(f, s2, VILLAGE_A);
    assert_exactly_once(f, s1);
    assert_exactly_once(f, s2);
    char *exp = RUN_OK(s1, "export");
    assert_int_equal(count_lines(exp), ncases);
    assert_non_null(strstr(exp, "s2 补充的请求"));
    free(exp);
}

/* ---- 3. crashes in the middle of a sync ---- */

/* Run `hamlet sync` until it exits 0 (a few tries: a crash may leave the
 * hub busy for a moment). */
static void sync_until_ok(struct agentproc *a, int tries)
{
    int status = -1;
    struct agentproc_result r;
    memset(&r, 0, sizeof r);
    for (int i = 0; i < tries && status != 0; i++) {
        agentproc_result_clear(&r);
        status = RUN_ANY(a, &r, "sync");
    }
    if (status != 0) {
        const char *args[] = {"sync", NULL};
        report_failure(a, args, &r, __LINE__);
    } else {
        printf("    %s: %s", a->name, r.out);
    }
    agentproc_result_clear(&r);
    assert_int_equal(status, 0);
}

/* Some local edits: an outcome, a title and an event; the event count is
 * kept in *events. */
static void local_edits(struct agentproc *a, char (*ids)[UUID_LEN + 1], size_t nids, int round,
                        int64_t *events)
{
    const char *id = ids[rng_between(0, (long)nids - 1)];
    char status[64], title[128], note[64];
    snprintf(status, sizeof status, "outcome=第%d轮的结果（%ld）", round, rng_between(0, 5));
    snprintf(title, sizeof title, "title=第%d轮修改的标题", round);
    snprintf(note, sizeof note, "第%d轮走访", round);
    RUN_QUIET(a, "case", "set", id, status, title);
    RUN_QUIET(a, "event", "add", ids[rng_between(0, (long)nids - 1)], "--kind", "visit", "--note",
              note);
    (*events)++;
}

/* Every title of the village changed (tagged with round) and a few edits:
 * a sync of some size for the hub to be killed in. */
static void hub_round_edits(struct fixture *f, struct agentproc *k, char (*ids)[UUID_LEN + 1],
                            int round, int64_t *events, char *path, size_t path_len)
{
    char tag[32];
    snprintf(tag, sizeof tag, "[复核%d] ", round);
    write_cases(f, "cases-1000.jsonl", VILLAGE_A, 0, SLOW_MAX_CASES, tag, "part3.jsonl", path,
                path_len);
    RUN_QUIET(k, "import", path);
    local_edits(k, ids, 40, 2000 + round, events);
}

static void test_kills(void **state)
{
    struct fixture *f = *state;
    printf("  checks: %d SIGKILLs of hamlet sync at random moments, then %d SIGKILLs of the"
           " hub during syncs: after a final sync nothing is missing or doubled\n",
           AGENT_KILLS, HUB_KILLS);
    assert_int_equal(hubproc_village_add(f->hub, VILLAGE_A), 0);
    char codes[2][HUBPROC_CODE_MAX];
    assert_int_equal(hubproc_devices_add(f->hub, VILLAGE_A, 2, codes), 0);
    struct agentproc *k = new_laptop(f, "k");
    struct agentproc *m = new_laptop(f, "m");
    char path[AGENTPROC_PATH_MAX + 64];
    size_t ncases = write_cases(f, "cases-1000.jsonl", VILLAGE_A, 0, 40, NULL, "part1.jsonl", path,
                                sizeof path);
    assert_int_equal(ncases, 40);
    char ids[40][UUID_LEN + 1];
    assert_int_equal(case_ids(path, ids, 40), 40);
    /* k syncs through a link with 25 ms of latency each way, so that a sync
     * lasts a few hundred milliseconds (connect, TLS, request, answer) and the
     * kills land in every part of it. */
    const char *options[] = {"--latency", KILL_LATENCY, NULL};
    assert_int_equal(agentproc_link_start(f->dir, f->hub->listen, options, &f->link), 0);
    char link_code[HUBPROC_CODE_MAX + 64];
    assert_int_equal(agentproc_code_with_url(codes[0], f->link->url, link_code, sizeof link_code),
                     0);
    enrol(k, link_code);
    enrol(m, codes[1]);
    RUN_QUIET(k, "import", path);
    int64_t events = ledger_count(k, "SELECT count(*) FROM events");
    int64_t m_events = 0; /* events m added */

    double started = agentproc_now();
    int killed = 0, finished = 0;
    const char *sync_args[] = {"sync", NULL};
    for (int i = 0; i < AGENT_KILLS; i++) {
        if (i % 3 == 1) {
            local_edits(k, ids, 40, i, &events);
        }
        if (i == AGENT_KILLS / 2) {
            /* A second big batch: the rest of the village, and every title changed. */
            char tag[32];
            snprintf(tag, sizeof tag, "[修订%d] ", i);
            size_t more = write_cases(f, "cases-1000.jsonl", VILLAGE_A, 0, SLOW_MAX_CASES, tag,
                                      "part2.jsonl", path, sizeof path);
            assert_true(more > 40);
            int64_t before = ledger_count(k, "SELECT count(*) FROM events");
            RUN_QUIET(k, "import", path);
            events += ledger_count(k, "SELECT count(*) FROM events") - before;
        }
        if (i % 10 == 5) {
            /* Another laptop's changes, for k to pull. */
            char title[64], note[64];
            snprintf(title, sizeof title, "title=m 第%d轮登记", i);
            snprintf(note, sizeof note, "m 第%d轮走访", i);
            char *id = RUN_OK(m, "case", "add", title);
            id[strcspn(id, "\n")] = '\0';
            RUN_QUIET(m, "event", "add", id, "--kind", "visit", "--note", note);
            free(id);
            m_events++;
            sync_until_ok(m, 3);
        }
        assert_int_equal(agentproc_spawn(k, sync_args), 0);
        agentproc_sleep_ms(rng_between(5, 300));
        struct agentproc_result r;
        int rc = agentproc_signal(k, SIGKILL, &r);
        if (rc == 1) {
            killed++;
        } else {
            finished++;
            if (r.status != 0) {
                fprintf(stderr, "    k: sync exited %d on its own: %s", r.status, r.err);
            }
            assert_int_equal(r.status, 0); /* a sync that ran to its end succeeded */
        }
        agentproc_result_clear(&r);
    }
    printf("  %d runs killed mid-way, %d finished first (%.1f s)\n", killed, finished,
           agentproc_now() - started);
    assert_true(killed >= AGENT_KILLS / 4); /* most kills land mid-sync, not after it */
    sync_until_ok(k, 3);
    sync_until_ok(m, 3);
    sync_until_ok(k, 3);
    events += m_events;
    assert_same_as_hub(f, k, VILLAGE_A);
    assert_same_as_hub(f, m, VILLAGE_A);
    assert_exactly_once(f, k);
    assert_exactly_once(f, m);
    printf("    events: %" PRId64 " expected, k holds %" PRId64 ", m holds %" PRId64 "\n", events,
           ledger_count(k, "SELECT count(*) FROM events"),
           ledger_count(m, "SELECT count(*) FROM events"));
    assert_int_equal(ledger_count(k, "SELECT count(*) FROM events"), events);
    assert_int_equal(ledger_count(m, "SELECT count(*) FROM events"), events);

    printf("  now the hub: killed during syncs and restarted, %d times\n", HUB_KILLS);
    /* How long one such sync takes here (builds and machines differ): the hub
     * is killed at a random moment within it. */
    hub_round_edits(f, k, ids, HUB_KILLS, &events, path, sizeof path);
    double before = agentproc_now();
    sync_until_ok(k, 1);
    long window_ms = (long)((agentproc_now() - before) * 1000);
    window_ms = window_ms < 20 ? 20 : window_ms;
    printf("  one such sync takes %ld ms\n", window_ms);
    started = agentproc_now();
    int hub_mid = 0;
    for (int i = 0; i < HUB_KILLS; i++) {
        hub_round_edits(f, k, ids, i, &events, path, sizeof path);
        assert_int_equal(agentproc_spawn(k, sync_args), 0);
        agentproc_sleep_ms(rng_between(5, window_ms));
        hub_mid += agentproc_running(k);
        hubproc_kill(f->hub);
        assert_int_equal(hubproc_start(f->hub), 0);
        struct agentproc_result r;
        int status = agentproc_wait(k, &r);
        printf("    hub kill %d: hamlet sync exit %d after %.1f s: %.*s\n", i + 1, status,
               r.seconds, (int)strcspn(status ? r.err : r.out, "\n"), status ? r.err : r.out);
        agentproc_result_clear(&r);
    }
    printf("  %d of %d hub kills hit a running sync (%.1f s)\n", hub_mid, HUB_KILLS,
           agentproc_now() - started);
    assert_true(hub_mid >= HUB_KILLS / 3);
    sync_until_ok(k, 3);
    sync_until_ok(m, 3);
    assert_same_as_hub(f, k, VILLAGE_A);
    assert_same_as_hub(f, m, VILLAGE_A);
    assert_exactly_once(f, k);
    assert_exactly_once(f, m);
    assert_int_equal(ledger_count(k, "SELECT count(*) FROM events"), events);
    assert_int_equal(ledger_count(m, "SELECT count(*) FROM events"), events);
}

/* ---- 4. a wrong certificate pin ---- */

/* The hub's log from byte from on holds no request: no line names the
 * device or a request of that kind ("enroll ", "sync "). */
static void assert_log_silent(struct fixture *f, size_t from, const char *device,
                              const char *request)
{
    char *log = hubproc_read_log(f->hub);
    assert_non_null(log);
    const char *since = strlen(log) > from ? log + from : "";
    printf("    the hub's log since then: %s\n", since[0] ? since : "(nothing)");
    assert_null(strstr(since, device));
    assert_null(strstr(since, request));
    free(log);
}

static size_t log_length(struct fixture *f)
{
    char *log = hubproc_read_log(f->hub);
    assert_non_null(log);
    size_t len = strlen(log);
    free(log);
    return len;
}

static int64_t hub_device_rows(struct fixture *f, const char *sql, const char *device)
{
    sqlite3 *db;
    assert_int_equal(hubproc_open_db(f->hub, &db), 0);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static void assert_pin_refusal(const struct agentproc_result *r, const char *what)
{
    printf("    %s: exit %d after %.1f s: %s", what, r->status, r->seconds, r->err);
    assert_int_equal(r->status, 1);
    assert_non_null(strstr(r->err, "certificate key"));
    assert_non_null(strstr(r->err, "pin"));
    assert_non_null(strstr(r->err, "nothing was sent"));
}

static void test_wrong_pin(void **state)
{
    struct fixture *f = *state;
    printf("  checks: with a wrong pin, enroll and sync fail with exit 1, say that the"
           " certificate key does not match the pin, and the hub receives no request\n");
    assert_int_equal(hubproc_village_add(f->hub, VILLAGE_A), 0);
    char code[HUBPROC_CODE_MAX];
    assert_int_equal(hubproc_device_add(f->hub, VILLAGE_A, code, sizeof code), 0);
    char device[64], pin[HUBPROC_CODE_MAX], bad_code[HUBPROC_CODE_MAX + 8];
    code_device(code, device, sizeof device);
    assert_int_equal(agentproc_code_part(code, 1, pin, sizeof pin), 0);
    /* Another key's pin: one base64 digit of the hash changed. */
    size_t at = strlen("sha256//") + 5;
    assert_true(strlen(pin) > at + 1);
    pin[at] = pin[at] == 'A' ? 'B' : 'A';
    assert_int_equal(agentproc_code_with_pin(code, pin, bad_code, sizeof bad_code), 0);
    struct agentproc *w = new_laptop(f, "w");
    RUN_QUIET(w, "init", "--village", VILLAGE_A);
    RUN_QUIET(w, "case", "add", "title=未发出的案件");

    size_t log_before = log_length(f);
    struct agentproc_result r;
    RUN_ANY(w, &r, "enroll", bad_code);
    assert_pin_refusal(&r, "enroll with a wrong pin");
    agentproc_result_clear(&r);
    agentproc_sleep_ms(200); /* a request would be in the log by now */
    assert_log_silent(f, log_before, device, "enroll ");
    assert_int_equal(hub_device_rows(f,
                                     "SELECT count(*) FROM devices WHERE id = ?1 AND"
                                     " status = 'pending' AND node IS NULL",
                                     device),
                     1);
    assert_int_equal(hub_device_rows(f, "SELECT count(*) FROM hub_log WHERE device = ?1", device),
                     0);
    char *status = RUN_OK(w, "status");
    assert_non_null(strstr(status, "not enrolled"));
    free(status);

    printf("  the one-time code was not spent: the right pin enrols\n");
    enrol(w, code);
    sync_ok(w);
    assert_exactly_once(f, w);

    printf("  the hub's certificate is made anew; the laptop keeps the old pin\n");
    assert_int_equal(hubproc_stop(f->hub), 0);
    assert_int_equal(unlink(f->hub->cert), 0);
    assert_int_equal(unlink(f->hub->key), 0);
    char *gen = HUB_OK(f, "cert", "generate", "--out", f->hub->dir, "--name", "localhost");
    const char *new_pin = strstr(gen, "pin:");
    assert_non_null(new_pin);
    new_pin += strlen("pin:");
    new_pin += strspn(new_pin, " \t");
    size_t pin_len = strcspn(new_pin, "\r\n");
    assert_true(pin_len > 0 && pin_len < sizeof f->hub->pin);
    memcpy(f->hub->pin, new_pin, pin_len); /* hubproc checks health with it */
    f->hub->pin[pin_len] = '\0';
    assert_true(strcmp(f->hub->pin, pin) != 0);
    free(gen);
    assert_int_equal(hubproc_start(f->hub), 0);

    RUN_QUIET(w, "case", "add", "title=证书更换后的案件");
    int64_t acked = meta(w, "agent.acked");
    log_before = log_length(f);
    RUN_ANY(w, &r, "sync");
    assert_pin_refusal(&r, "sync after the hub's certificate changed");
    agentproc_result_clear(&r);
    agentproc_sleep_ms(200);
    assert_log_silent(f, log_before, device, "sync ");
    assert_int_equal(meta(w, "agent.acked"), acked);
    assert_int_equal(meta(w, "hl.seq"), acked + 1);
    status = RUN_OK(w, "status");
    printf("%s", status);
    assert_non_null(strstr(status, "pending changes: 1"));
    assert_non_null(strstr(status, "certificate key"));
    free(status);
}

/* ---- 5. clocks 200 days off ---- */

/* Run a laptop's later commands with its clock moved by spec ("+200d"). */
static void set_clock(struct agentproc *a, const char *lib, const char *spec)
{
    assert_int_equal(agentproc_setenv(a, "LD_PRELOAD", lib), 0);
    assert_int_equal(agentproc_setenv(a, "FAKETIME", spec), 0);
    /* Timeouts and the monotonic clock stay true; only the calendar moves. */
    assert_int_equal(agentproc_setenv(a, "FAKETIME_DONT_FAKE_MONOTONIC", "1"), 0);
    /* Under AddressSanitizer the preloaded library comes before its runtime. */
    const char *asan = getenv("ASAN_OPTIONS");
    char options[512];
    snprintf(options, sizeof options, "%s%sverify_asan_link_order=0", asan ? asan : "",
             asan && asan[0] ? ":" : "");
    assert_int_equal(agentproc_setenv(a, "ASAN_OPTIONS", options), 0);
}

/* hamlet status shows the clock offset; its seconds are returned. */
static double status_offset(struct agentproc *a)
{
    char *status = RUN_OK(a, "status");
    const char *line = strstr(status, "clock offset:");
    assert_non_null(line);
    printf("    %s: %.*s\n", a->name, (int)strcspn(line, "\n"), line);
    const char *num = line + strlen("clock offset:");
    char *end;
    double seconds = strtod(num, &end);
    assert_true(end != num);
    if (seconds > 300 || seconds < -300) {
        assert_non_null(strstr(line, "clock is off"));
    }
    free(status);
    return seconds;
}

/* hamlet sync succeeds and says that the clock is off. */
static void sync_warns(struct agentproc *a)
{
    struct agentproc_result r;
    int status = RUN_ANY(a, &r, "sync");
    printf("    %s: exit %d: %s%s", a->name, status, r.out, r.err);
    int warned = strstr(r.err, "clock") != NULL;
    agentproc_result_clear(&r);
    assert_int_equal(status, 0);
    assert_true(warned);
}

static void assert_offset(double seconds, long long expected)
{
    assert_true(seconds > (double)(expected - CLOCK_SLACK_S));
    assert_true(seconds < (double)(expected + CLOCK_SLACK_S));
}

/* The date in China (UTC+8) of now plus days, as YYYY-MM-DD. */
static void china_date(int days, char *out, size_t len)
{
    time_t t = time(NULL) + (time_t)days * 86400 + 8 * 3600;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%d", &tm);
}

/* The hub's copy of a case was registered today (the day began at
 * since, or the day after if midnight passed meanwhile). */
static void assert_created_on(struct fixture *f, const char *id, const char *since)
{
    char *hub = NULL;
    size_t len = 0;
    assert_int_equal(hubproc_export(f->hub, VILLAGE_A, &hub, &len), 0);
    char *line = export_line(hub, id);
    assert_non_null(line);
    const char *created = strstr(line, "\"created_at\":\"");
    assert_non_null(created);
    created += strlen("\"created_at\":\"");
    char now[16];
    china_date(0, now, sizeof now);
    printf("    case %.8s registered %.25s (today is %s)\n", id, created, now);
    assert_true(strncmp(created, since, strlen(since)) == 0 ||
                strncmp(created, now, strlen(now)) == 0);
    free(line);
    free(hub);
}

static void test_clock(void **state)
{
    struct fixture *f = *state;
    printf("  checks: laptops 200 days ahead and 200 days behind (from enrolment, and after"
           " enrolment) edit the cases a normal laptop edits: the sync warns, status shows the"
           " offset, no edit is lost, the replicas converge\n");
    const char *lib = getenv("FAKETIME_LIB");
    if (!lib || !lib[0]) {
        static const char *const places[] = {DEFAULT_FAKETIME, OTHER_FAKETIME};
        lib = places[access(places[0], R_OK) == 0 ? 0 : 1];
    }
    if (access(lib, R_OK) != 0) {
        fprintf(stderr, "  no libfaketime at %s: apt-get install faketime (or set FAKETIME_LIB)\n",
                lib);
        fail();
    }
    assert_int_equal(hubproc_village_add(f->hub, VILLAGE_A), 0);
    char codes[5][HUBPROC_CODE_MAX];
    assert_int_equal(hubproc_devices_add(f->hub, VILLAGE_A, 5, codes), 0);
    /* n: a true clock. f: 200 days ahead, s: 200 days behind, both from the
     * start. j and k: true at enrolment, then 200 days ahead and behind. */
    struct agentproc *n = new_laptop(f, "n");
    struct agentproc *fa = new_laptop(f, "f");
    struct agentproc *sl = new_laptop(f, "s");
    struct agentproc *j = new_laptop(f, "j");
    struct agentproc *k = new_laptop(f, "k");
    struct agentproc *all[] = {n, fa, sl, j, k};
    char path[AGENTPROC_PATH_MAX + 64];
    assert_int_equal(
        write_cases(f, "cases-200.jsonl", VILLAGE_A, 0, 8, NULL, "clock.jsonl", path, sizeof path),
        8);
    char ids[8][UUID_LEN + 1];
    assert_int_equal(case_ids(path, ids, 8), 8);

    RUN_QUIET(n, "init", "--village", VILLAGE_A);
    RUN_QUIET(n, "import", path);
    enrol(n, codes[0]);
    sync_ok(n);
    set_clock(fa, lib, "+200d");
    set_clock(sl, lib, "-200d");
    printf("  f and s enrol with their clocks 200 days off\n");
    enrol(fa, codes[1]);
    enrol(sl, codes[2]);
    sync_warns(fa);
    sync_warns(sl);
    enrol(j, codes[3]);
    enrol(k, codes[4]);
    sync_ok(j);
    sync_ok(k);
    set_clock(j, lib, "+200d");
    set_clock(k, lib, "-200d");

    printf("  offline: every laptop edits its own fields of the same cases, and adds events\n");
    int64_t events = ledger_count(n, "SELECT count(*) FROM events");
    RUN_QUIET(j, "case", "set", ids[0], "title=j 的标题（钟快）", "severity=3");
    RUN_QUIET(k, "case", "set", ids[0], "claims=k 的请求（钟慢）");
    RUN_QUIET(fa, "case", "set", ids[1], "title=f 的标题");
    RUN_QUIET(sl, "case", "set", ids[1], "claims=s 的请求");
    RUN_QUIET(n, "case", "set", ids[2], "title=n 的标题");
    RUN_QUIET(k, "case", "set", ids[3], "outcome=k 的结果");
    for (size_t i = 0; i < 5; i++) {
        char note[128];
        snprintf(note, sizeof note, "%s 记录的走访", all[i]->name);
        RUN_QUIET(all[i], "event", "add", ids[0], "--kind", "visit", "--note", note);
        events++;
    }
    /* f and s know their offsets since enrolment: a case they register is
     * dated by the hub's calendar, not their own. */
    char today_before[16];
    china_date(0, today_before, sizeof today_before);
    char *case_f = RUN_OK(fa, "case", "add", "title=f 登记的案件");
    char *case_s = RUN_OK(sl, "case", "add", "title=s 登记的案件");
    case_f[strcspn(case_f, "\n")] = '\0';
    case_s[strcspn(case_s, "\n")] = '\0';
    char *contact_j = RUN_OK(j, "contact", "add", "name=钟快的联系人");
    char *contact_k = RUN_OK(k, "contact", "add", "name=钟慢的联系人");
    contact_j[strcspn(contact_j, "\n")] = '\0';
    contact_k[strcspn(contact_k, "\n")] = '\0';

    printf("  sync: j and k learn that their clocks are off\n");
    sync_warns(j);
    sync_warns(k);
    sync_warns(fa);
    sync_warns(sl);
    sync_ok(n);
    for (size_t i = 0; i < 5; i++) {
        sync_ok(all[i]);
    }
    assert_offset(status_offset(fa), CLOCK_SKEW_S);
    assert_offset(status_offset(j), CLOCK_SKEW_S);
    assert_offset(status_offset(sl), -CLOCK_SKEW_S);
    assert_offset(status_offset(k), -CLOCK_SKEW_S);
    assert_offset(status_offset(n), 0);

    printf("  every offline edit is at the hub\n");
    assert_true(hub_case_has(f, VILLAGE_A, ids[0], "title", "\"j 的标题（钟快）\""));
    assert_true(hub_case_has(f, VILLAGE_A, ids[0], "severity", "3"));
    assert_true(hub_case_has(f, VILLAGE_A, ids[0], "claims", "\"k 的请求（钟慢）\""));
    assert_true(hub_case_has(f, VILLAGE_A, ids[1], "title", "\"f 的标题\""));
    assert_true(hub_case_has(f, VILLAGE_A, ids[1], "claims", "\"s 的请求\""));
    assert_true(hub_case_has(f, VILLAGE_A, ids[2], "title", "\"n 的标题\""));
    assert_true(hub_case_has(f, VILLAGE_A, ids[3], "outcome", "\"k 的结果\""));
    assert_created_on(f, case_f, today_before);
    assert_created_on(f, case_s, today_before);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(ledger_count(all[i], "SELECT count(*) FROM events"), events);
        char *c = RUN_OK(all[i], "contact", "show", contact_k);
        assert_non_null(strstr(c, "钟慢的联系人"));
        free(c);
        c = RUN_OK(all[i], "contact", "show", contact_j);
        assert_non_null(strstr(c, "钟快的联系人"));
        free(c);
    }

    printf("  later edits win: each laptop in turn syncs, then changes the title j set with"
           " its clock ahead, and the severity\n");
    struct agentproc *order[] = {n, k, sl, j, fa, n};
    for (size_t i = 0; i < 6; i++) {
        struct agentproc *a = order[i];
        char title[128], json[160], severity[32];
        snprintf(title, sizeof title, "title=第%zu次修改（%s）", i + 1, a->name);
        snprintf(json, sizeof json, "\"第%zu次修改（%s）\"", i + 1, a->name);
        snprintf(severity, sizeof severity, "severity=%zu", i % 3 + 1);
        if (a != n) {
            sync_warns(a);
        } else {
            sync_ok(a);
        }
        RUN_QUIET(a, "case", "set", ids[0], title, severity);
        if (a != n) {
            sync_warns(a);
        } else {
            sync_ok(a);
        }
        assert_true(hub_case_has(f, VILLAGE_A, ids[0], "title", json));
        char value[8];
        snprintf(value, sizeof value, "%zu", i % 3 + 1);
        assert_true(hub_case_has(f, VILLAGE_A, ids[0], "severity", value));
    }

    printf("  all replicas converge\n");
    for (size_t i = 0; i < 5; i++) {
        sync_ok(all[i]);
    }
    char *list = HUB_OK(f, "conflicts", "list");
    printf("  open conflicts: %zu\n", count_lines(list));
    assert_int_equal(count_lines(list), 0); /* nothing here was concurrent */
    free(list);
    for (size_t i = 0; i < 5; i++) {
        assert_same_as_hub(f, all[i], VILLAGE_A);
        assert_exactly_once(f, all[i]);
    }
    free(contact_j);
    free(contact_k);
    free(case_f);
    free(case_s);
}

/* The day in China (UTC+8) days from now, as YYYY-MM-DD. */
static void china_day(int days, char out[16])
{
    time_t t = time(NULL) + 8 * 3600 + (time_t)days * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 16, "%Y-%m-%d", &tm);
}

/* The libfaketime library, or the test fails saying how to get it. */
static const char *faketime_lib(void)
{
    const char *lib = getenv("FAKETIME_LIB");
    if (!lib || !lib[0]) {
        static const char *const places[] = {DEFAULT_FAKETIME, OTHER_FAKETIME};
        lib = places[access(places[0], R_OK) == 0 ? 0 : 1];
    }
    if (access(lib, R_OK) != 0) {
        fprintf(stderr, "  no libfaketime at %s: apt-get install faketime (or set FAKETIME_LIB)\n",
                lib);
        fail();
    }
    return lib;
}

static void test_deadline_travels_down(void **state)
{
    struct fixture *f = *state;
    printf("  checks: a deadline the township sets on a case reaches the village with a sync;"
           " with the laptop offline when it passes, the village's overdue list shows it\n");
    const char *lib = faketime_lib();
    assert_int_equal(hubproc_village_add(f->hub, VILLAGE_A), 0);
    char code[HUBPROC_CODE_MAX];
    assert_int_equal(hubproc_device_add(f->hub, VILLAGE_A, code, sizeof code), 0);
    struct agentproc *t = new_laptop(f, "t");
    char path[AGENTPROC_PATH_MAX + 64];
    assert_int_equal(write_cases(f, "cases-200.jsonl", VILLAGE_A, 0, 8, NULL, "deadline.jsonl",
                                 path, sizeof path),
                     8);
    char ids[8][UUID_LEN + 1];
    assert_int_equal(case_ids(path, ids, 8), 8);
    RUN_QUIET(t, "init", "--village", VILLAGE_A);
    RUN_QUIET(t, "import", path);
    enrol(t, code);
    sync_ok(t);

    /* A case still being handled: only open cases have deadlines. */
    static const char *const open[] = {"registered", "accepted", "mediating", "agreement",
                                       "failed"};
    const char *id = NULL;
    char status[64], case_no[128];
    for (size_t i = 0; i < 8 && !id; i++) {
        case_field(t, ids[i], "status", status, sizeof status);
        for (size_t k = 0; k < sizeof open / sizeof open[0]; k++) {
            id = !strcmp(status, open[k]) ? ids[i] : id;
        }
    }
    assert_non_null(id);
    case_field(t, id, "case_no", case_no, sizeof case_no);
    assert_true(case_no[0] != '\0');

    char due[16];
    china_day(3, due);
    printf("  the township sets %s on %s (%s, %s)\n", due, case_no, id, status);
    free(HUB_OK(f, "case", "deadline", id, due, "--note", "督办：三日内调结"));
    char *out = RUN_OK(t, "list", "overdue");
    assert_null(strstr(out, case_no)); /* not yet at the village */
    free(out);
    sync_ok(t);
    char field[64];
    case_field(t, id, "deadline", field, sizeof field);
    assert_string_equal(field, due);
    out = RUN_OK(t, "list", "overdue", "--lang", "en");
    printf("    before the day: %s", out);
    assert_null(strstr(out, case_no));
    free(out);
    out = RUN_OK(t, "list", "due", "--days", "5", "--lang", "en");
    printf("    due within 5 days: %s", out);
    assert_non_null(strstr(out, case_no));
    assert_non_null(strstr(out, "3 days left"));
    free(out);
    out = RUN_OK(t, "case", "show", id);
    assert_non_null(strstr(out, "督办期限"));
    free(out);

    printf("  the link goes; five days later the deadline has passed\n");
    assert_int_equal(agentproc_setenv(t, "https_proxy", "http://127.0.0.1:9"), 0);
    assert_int_equal(agentproc_setenv(t, "HTTPS_PROXY", "http://127.0.0.1:9"), 0);
    set_clock(t, lib, "+5d");
    struct agentproc_result r;
    memset(&r, 0, sizeof r);
    assert_int_not_equal(RUN_ANY(t, &r, "sync"), 0);
    printf("    sync offline: %.*s\n", (int)strcspn(r.err, "\n"), r.err);
    agentproc_result_clear(&r);
    out = RUN_OK(t, "list", "overdue", "--lang", "en");
    printf("    overdue: %s", out);
    assert_non_null(strstr(out, case_no));
    assert_non_null(strstr(out, "2 days overdue"));
    assert_non_null(strstr(out, due));
    free(out);
    out = RUN_OK(t, "list", "overdue", "--json");
    assert_non_null(strstr(out, "\"state\":\t\"overdue\""));
    free(out);
    /* The hub, on its true clock, has the deadline still ahead. */
    char *hub = HUB_OK(f, "list", "due", "--days", "5", "--lang", "en");
    assert_non_null(strstr(hub, case_no));
    free(hub);
}

/* The hub's list of corrections, in English, for the village. */
static char *hub_corrections(struct fixture *f)
{
    return HUB_OK(f, "list", "corrections", "--village", VILLAGE_A, "--lang", "en");
}

static void test_township_actions(void **state)
{
    struct fixture *f = *state;
    printf("  checks: the township marks a case \"needs correction\", sets its level and its"
           " mediator; after a sync the village lists it, its export carries them, and it"
           " answers; after the next sync the township sees the answer and clears the request;"
           " refused values write nothing\n");
    assert_int_equal(hubproc_village_add(f->hub, VILLAGE_A), 0);
    char code[HUBPROC_CODE_MAX];
    assert_int_equal(hubproc_device_add(f->hub, VILLAGE_A, code, sizeof code), 0);
    struct agentproc *t = new_laptop(f, "t");
    char path[AGENTPROC_PATH_MAX + 64];
    assert_int_equal(write_cases(f, "cases-200.jsonl", VILLAGE_A, 0, 4, NULL, "actions.jsonl", path,
                                 sizeof path),
                     4);
    char ids[4][UUID_LEN + 1];
    assert_int_equal(case_ids(path, ids, 4), 4);
    RUN_QUIET(t, "init", "--village", VILLAGE_A);
    RUN_QUIET(t, "import", path);
    enrol(t, code);
    sync_ok(t);
    const char *id = ids[0], *other = ids[1];
    char case_no[128];
    case_field(t, id, "case_no", case_no, sizeof case_no);
    assert_true(case_no[0] != '\0');

    printf("  the township acts on %s (%s)\n", case_no, id);
    static const char comment[] = "当事人电话号码与身份证登记不一致，请核对后更正";
    free(HUB_OK(f, "case", "correct", id, comment, "--by", "王科长"));
    free(HUB_OK(f, "case", "level", id, "4", "--by", "王科长"));
    free(HUB_OK(f, "case", "mediator", id, "谭永清", "--id", "M09", "--by", "王科长"));
    char *out = hub_corrections(f);
    printf("    hub: %s", out);
    assert_non_null(strstr(out, case_no));
    assert_non_null(strstr(out, comment));
    assert_non_null(strstr(out, "not answered yet"));
    free(out);

    /* Refused at the hub: a usage error, or a reason; nothing written. */
    char *before = NULL;
    size_t len = 0;
    assert_int_equal(hubproc_export(f->hub, VILLAGE_A, &before, &len), 0);
    static const struct {
        int status;
        const char *args[6];
    } refused[] = {
        {2, {"case", "level", NULL, "9", NULL}},
        {1, {"case", "level", NULL, "4", NULL}}, /* the level it holds */
        {1, {"case", "correct", NULL, "--clear", NULL}},
        {1, {"case", "correct", NULL, "\xE3\x80\x80", NULL}}, /* U+3000 alone is blank */
        {1, {"case", "mediator", NULL, "谭永清", "--id", "M\x01"}},
        {2, {"case", "correct", NULL, comment, "--clear", NULL}},
        {2, {"case", "promote", NULL, NULL}},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        const char *args[7] = {NULL};
        memcpy(args, refused[i].args, sizeof refused[i].args);
        args[2] = i == 2 || i == 3 ? other : id; /* the case, filled in */
        int status = hubproc_run(f->hub, args, NULL, NULL);
        if (status != refused[i].status) {
            fail_msg("hamlet-hub %s %s: exit %d, expected %d", args[0], args[1], status,
                     refused[i].status);
        }
    }
    static const char *const no_case[] = {"case", "mediator",
                                          "0190f5a2-7b3c-7d4e-8f5a-6b7c8d9e0a99", "谭永清", NULL};
    assert_int_equal(hubproc_run(f->hub, no_case, NULL, NULL), 1);
    char *after = NULL;
    assert_int_equal(hubproc_export(f->hub, VILLAGE_A, &after, &len), 0);
    assert_string_equal(before, after);
    free(before);
    free(after);

    out = RUN_OK(t, "list", "corrections", "--lang", "en");
    assert_string_equal(out, "the township asks no correction\n"); /* not yet here */
    free(out);
    sync_ok(t);
    out = RUN_OK(t, "list", "corrections", "--lang", "en");
    printf("    village: %s", out);
    assert_non_null(strstr(out, case_no));
    assert_non_null(strstr(out, comment));
    assert_non_null(strstr(out, "asked today"));
    assert_non_null(strstr(out, "not answered yet"));
    free(out);
    out = RUN_OK(t, "list", "corrections", "--json");
    assert_non_null(strstr(out, "\"state\":\t\"asked\""));
    free(out);
    char *exported = RUN_OK(t, "export");
    char *line = export_line(exported, id);
    assert_non_null(line);
    assert_non_null(strstr(line, "\"level\":4,"));
    assert_non_null(strstr(line, "\"mediator\":{\"id\":\"M09\",\"name\":\"谭永清\"}"));
    assert_non_null(strstr(line, comment));
    assert_null(strstr(line, "\"correction_reply\""));
    free(line);
    free(exported);
    assert_same_as_hub(f, t, VILLAGE_A);
    out = RUN_OK(t, "case", "show", id);
    assert_non_null(strstr(out, "correction: 当事人电话号码"));
    assert_non_null(strstr(out, "镇里调整责任层级"));
    assert_non_null(strstr(out, "王科长"));
    free(out);
    assert_int_equal(ledger_count(t, "SELECT count(*) FROM events WHERE kind IN ('level',"
                                     " 'mediator', 'correction') AND detail IS NOT NULL"),
                     3);

    printf("  the village answers\n");
    struct agentproc_result r;
    memset(&r, 0, sizeof r);
    assert_int_equal(RUN_ANY(t, &r, "case", "answer", other, "已核对", "--lang", "en"), 1);
    assert_non_null(strstr(r.err, "nothing to answer"));
    agentproc_result_clear(&r);
    memset(&r, 0, sizeof r);
    assert_int_equal(RUN_ANY(t, &r, "case", "set", id, "correction=不要了"), 2);
    assert_non_null(strstr(r.err, "hamlet-hub case correct"));
    agentproc_result_clear(&r);
    memset(&r, 0, sizeof r);
    assert_int_equal(RUN_ANY(t, &r, "case", "answer", id, "", "--lang", "en"), 1);
    assert_non_null(strstr(r.err, "must not be empty"));
    agentproc_result_clear(&r);
    static const char answer[] = "已与当事人核对，电话号码已更正为本人手机";
    RUN_QUIET(t, "case", "answer", id, answer);
    out = RUN_OK(t, "list", "corrections", "--lang", "en");
    assert_non_null(strstr(out, "answer ("));
    assert_non_null(strstr(out, answer));
    free(out);
    sync_ok(t);
    out = hub_corrections(f);
    printf("    hub: %s", out);
    assert_non_null(strstr(out, case_no));
    assert_non_null(strstr(out, answer));
    free(out);
    char json_answer[256];
    snprintf(json_answer, sizeof json_answer, "\"%s\"", answer);
    assert_true(hub_case_has(f, VILLAGE_A, id, "correction_reply", json_answer));
    assert_true(hub_case_has(f, VILLAGE_A, id, "correction",
                             "\"当事人电话号码与身份证登记不一致，请核对后更正\""));

    printf("  the township is satisfied and clears it\n");
    free(HUB_OK(f, "case", "correct", id, "--clear"));
    out = hub_corrections(f);
    assert_string_equal(out, "the township asks no correction\n");
    free(out);
    sync_ok(t);
    out = RUN_OK(t, "list", "corrections", "--lang", "en");
    assert_string_equal(out, "the township asks no correction\n");
    free(out);
    assert_same_as_hub(f, t, VILLAGE_A);
    assert_int_equal(ledger_count(t, "SELECT count(*) FROM events WHERE kind = 'correction'"), 2);
    assert_int_equal(ledger_count(t, "SELECT count(*) FROM events WHERE kind = 'correction_reply'"),
                     1);
    assert_exactly_once(f, t);
}

/* The number of lines of text that contain needle. */
static size_t lines_with(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle)) {
        n++;
    }
    return n;
}

static void test_case_numbers_and_agreements(void **state)
{
    struct fixture *f = *state;
    printf("  checks: two laptops of a village number new cases apart (device codes from the hub);"
           " an agreement is shown incomplete, signed only when parts 1-4 are there, then locked;"
           " it prints as the paper form with numbers masked unless revealed, and the reveal is an"
           " event\n");
    assert_int_equal(hubproc_village_add(f->hub, VILLAGE_A), 0);
    char codes[2][HUBPROC_CODE_MAX];
    assert_int_equal(hubproc_devices_add(f->hub, VILLAGE_A, 2, codes), 0);
    struct agentproc *p = new_laptop(f, "p"), *q = new_laptop(f, "q");
    enrol(p, codes[0]);
    enrol(q, codes[1]);
    char *id_p = RUN_OK(p, "case", "add", "title=p 登记的纠纷", "category=land", "severity=2");
    char *id_q = RUN_OK(q, "case", "add", "title=q 登记的纠纷", "category=debt", "severity=1");
    id_p[strcspn(id_p, "\n")] = '\0';
    id_q[strcspn(id_q, "\n")] = '\0';
    char no_p[128], no_q[128], year[16];
    case_field(p, id_p, "case_no", no_p, sizeof no_p);
    case_field(q, id_q, "case_no", no_q, sizeof no_q);
    china_day(0, year);
    year[4] = '\0';
    printf("    p numbered %s, q numbered %s\n", no_p, no_q);
    char head[64];
    snprintf(head, sizeof head, "（%s）白沙调字第", year);
    assert_int_equal(strncmp(no_p, head, strlen(head)), 0);
    assert_int_equal(strncmp(no_q, head, strlen(head)), 0);
    assert_non_null(strstr(no_p, "-0001号"));
    assert_non_null(strstr(no_q, "-0001号"));
    assert_string_not_equal(no_p, no_q);
    char *second = RUN_OK(p, "case", "add", "title=p 的第二件");
    second[strcspn(second, "\n")] = '\0';
    char no_p2[128];
    case_field(p, second, "case_no", no_p2, sizeof no_p2);
    assert_non_null(strstr(no_p2, "-0002号"));
    free(second);
    sync_ok(p);
    sync_ok(q);
    sync_ok(p);

    printf("  a status the rules refuse, then the steps of a mediation\n");
    struct agentproc_result r;
    memset(&r, 0, sizeof r);
    assert_int_equal(RUN_ANY(p, &r, "case", "status", id_p, "mediating", "--lang", "en"), 1);
    assert_non_null(strstr(r.err, "from registered a case can go to: accepted, not_accepted"));
    agentproc_result_clear(&r);
    RUN_QUIET(p, "case", "status", id_p, "accepted");
    RUN_QUIET(p, "case", "status", id_p, "mediating", "--note", "双方同意调解");
    RUN_QUIET(p, "contact", "add", "name=谭德胜", "phone=17880400833", "id_no=431228197202284460");

    char *agreement = RUN_OK(p, "agreement", "add", id_p, "parties_details=申请人谭德胜",
                             "facts_and_liability=宅基地边界不清");
    agreement[strcspn(agreement, "\n")] = '\0';
    char *out = RUN_OK(p, "agreement", "show", agreement, "--lang", "en");
    assert_non_null(strstr(out, "incomplete"));
    assert_non_null(strstr(out, "(3)"));
    free(out);
    memset(&r, 0, sizeof r);
    assert_int_equal(RUN_ANY(p, &r, "agreement", "sign", agreement), 1);
    printf("    signing too early: %s", r.err);
    assert_non_null(strstr(r.err, "incomplete"));
    agentproc_result_clear(&r);
    RUN_QUIET(p, "agreement", "set", agreement, "rights_obligations=重新丈量，各退半米",
              "performance_method=现场立界桩", "performance_place=白沙村3组",
              "performance_deadline=2026-12-31");
    RUN_QUIET(p, "agreement", "sign", agreement);
    char status[64];
    case_field(p, id_p, "status", status, sizeof status);
    assert_string_equal(status, "agreement");
    memset(&r, 0, sizeof r);
    assert_int_equal(RUN_ANY(p, &r, "agreement", "set", agreement, "performance_place=别处"), 1);
    assert_non_null(strstr(r.err, "supplementary"));
    agentproc_result_clear(&r);
    /* A change is a supplementary agreement, signed in its turn: the case
     * cannot be concluded while one is unsigned. */
    char *extra = RUN_OK(p, "agreement", "supplement", agreement, "parties_details=申请人谭德胜",
                         "facts_and_liability=界桩位置有变", "rights_obligations=补充：费用各半",
                         "performance_method=现金", "performance_place=村委会",
                         "performance_deadline=2026-12-31");
    extra[strcspn(extra, "\n")] = '\0';
    memset(&r, 0, sizeof r);
    assert_int_equal(RUN_ANY(p, &r, "case", "status", id_p, "concluded", "--lang", "en"), 1);
    assert_non_null(strstr(r.err, "signed"));
    agentproc_result_clear(&r);
    RUN_QUIET(p, "agreement", "sign", extra);
    free(extra);

    char *page = RUN_OK(p, "agreement", "print", agreement);
    assert_non_null(strstr(page, "人民调解协议书"));
    assert_non_null(strstr(page, no_p));
    assert_non_null(strstr(page, "已签署"));
    free(page);
    int64_t reveals = 0;
    assert_int_equal(
        agentproc_query_int(p, "SELECT count(*) FROM events WHERE kind = 'reveal'", &reveals), 0);
    assert_int_equal(reveals, 0);
    char *shown = RUN_OK(p, "case", "show", id_p, "--reveal");
    free(shown);
    char *exported = RUN_OK(p, "export");
    assert_int_equal(lines_with(exported, "17880400833"), 0);
    free(exported);
    exported = RUN_OK(p, "export", "--reveal");
    free(exported);
    assert_int_equal(
        agentproc_query_int(p, "SELECT count(*) FROM events WHERE kind = 'reveal'", &reveals), 0);
    assert_int_equal(reveals, 2);

    printf("  the conclusion, the opinion and the follow-up owed\n");
    RUN_QUIET(p, "case", "status", id_p, "concluded");
    RUN_QUIET(p, "case", "opinion", id_p, "basically_satisfied");
    out = RUN_OK(p, "list", "followups", "--lang", "en");
    printf("    %s", out);
    assert_non_null(strstr(out, no_p));
    free(out);
    RUN_QUIET(p, "case", "followup", id_p, "--note", "协议已履行，双方满意");
    out = RUN_OK(p, "list", "followups", "--lang", "en");
    assert_null(strstr(out, no_p));
    free(out);
    sync_ok(p);
    char month[16];
    china_day(0, month);
    month[7] = '\0';
    char *report = HUB_OK(f, "report", "--month", month, "--json");
    assert_non_null(strstr(report, "\"satisfaction\""));
    assert_non_null(strstr(report, "\"num\":\t1"));
    free(report);
    free(agreement);
    free(id_p);
    free(id_q);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0); /* progress and failures interleave in order */
    if (hubclient_global_init() != 0) {
        fprintf(stderr, "test_agent: libcurl would not start\n");
        return 1;
    }
    const char *seed = getenv("HAMLET_TEST_SEED");
    rng_state = (uint64_t)time(NULL);
    if (seed && seed[0]) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(seed, &end, 10);
        if (errno || *end || v == 0) {
            fprintf(stderr, "test_agent: HAMLET_TEST_SEED must be a positive number\n");
            return 1;
        }
        rng_state = v;
    }
    printf("test_agent: seed %" PRIu64 " (HAMLET_TEST_SEED repeats it)\n", rng_state);
    /* HAMLET_TEST_FILTER=test_kills runs one test (a cmocka pattern). */
    const char *filter = getenv("HAMLET_TEST_FILTER");
    if (filter && filter[0]) {
        cmocka_set_test_filter(filter);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_three_laptops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_link, setup_unlimited, teardown),
        cmocka_unit_test_setup_teardown(test_kills, setup_unlimited, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_pin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadline_travels_down, setup, teardown),
        cmocka_unit_test_setup_teardown(test_case_numbers_and_agreements, setup, teardown),
        cmocka_unit_test_setup_teardown(test_township_actions, setup, teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    hubclient_global_cleanup();
    return failed ? 1 : 0;
}
