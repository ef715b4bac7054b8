/* SPDX-License-Identifier: MIT */
/*
 * test_workflow.c - the rules applied to a real ledger file: every status
 * move of RULES.md's workflow table, allowed or refused; transfers,
 * escalations, result notices, opinions, follow-ups, the one extension of
 * a petition, township deadlines, the township's levels, mediators and
 * requests for a correction with the village's answers, free events and
 * reveals; the signing and
 * locking of agreements; case numbers per device and year; and steps taken
 * inside a caller's unit of work. Each step is checked by what the ledger
 * then holds: the case's fields, the events recorded and, for a refused
 * step, that nothing was written at all.
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

#include <sqlite3.h>

#include "ledger_schema.h"
#include "replica.h"
#include "rules.h"
#include "sync_error.h"
#include "uuid7.h"
#include "workflow.h"

#define VILLAGE  "baisha"
#define NOW      "2026-03-10T10:00:00+08:00"
#define TODAY    "2026-03-10"
#define RECEIVED "2026-03-01T09:30:00+08:00"

struct fixture {
    char dir[64];
    char path[128];
    struct replica_config config;
    struct replica *replica;
    struct rules_config rules;
    struct workflow w;
};

/* What the ledger holds before a step, to show a refused step wrote
 * nothing. */
struct snapshot {
    int64_t own_seq;
    int events;
    char status[32];
};

/* One row of the events table. */
struct event {
    char id[UUID7_STRLEN + 1];
    char village[32];
    char case_id[UUID7_STRLEN + 1]; /* "" when NULL */
    char date[16];
    char kind[40];
    char detail[64]; /* "" when NULL */
    char note[1024];
    char recorded_at[40];
};

/* RULES.md's workflow table, written out here rather than asked of the
 * code under test. */
static const enum rules_status allowed_moves[RULES_STATUS_COUNT][4] = {
    [RULES_STATUS_REGISTERED] = {RULES_STATUS_ACCEPTED, RULES_STATUS_NOT_ACCEPTED,
                                 RULES_STATUS_REFERRED},
    [RULES_STATUS_ACCEPTED] = {RULES_STATUS_INVESTIGATING, RULES_STATUS_MEDIATING,
                               RULES_STATUS_REFERRED},
    [RULES_STATUS_INVESTIGATING] = {RULES_STATUS_MEDIATING, RULES_STATUS_REFERRED,
                                    RULES_STATUS_CONCLUDED},
    [RULES_STATUS_MEDIATING] = {RULES_STATUS_AGREEMENT, RULES_STATUS_FAILED, RULES_STATUS_REFERRED},
    [RULES_STATUS_AGREEMENT] = {RULES_STATUS_CONCLUDED},
    [RULES_STATUS_FAILED] = {RULES_STATUS_REFERRED, RULES_STATUS_CONCLUDED},
    [RULES_STATUS_NOT_ACCEPTED] = {RULES_STATUS_ARCHIVED},
    [RULES_STATUS_REFERRED] = {RULES_STATUS_ARCHIVED},
    [RULES_STATUS_CONCLUDED] = {RULES_STATUS_ARCHIVED},
    [RULES_STATUS_ARCHIVED] = {RULES_STATUS_NONE},
};

/* ---- fixture ---- */

static void open_replica(struct fixture *f)
{
    char why[256];
    int rc = replica_open(f->path, &f->config, &f->replica, why, sizeof why);
    if (rc != 0) {
        fail_msg("replica_open %s: %s (%s)", f->path, sync_strerror(rc), why);
    }
    f->w.replica = f->replica;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/hamlet-test-workflow-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/ledger.db", f->dir);
    ledger_schema_config(&f->config, 0);
    rules_config_default(&f->rules);
    f->w = (struct workflow){
        .config = &f->rules,
        .today = {2026, 3, 10},
        .now = NOW,
        .lang = "en",
        .who = "李明 (mediator)",
    };
    open_replica(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    replica_close(f->replica);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* ---- writing test records ---- */

static void put_text(struct fixture *f, const char *table, const char *id, const char *column,
                     const char *value)
{
    const char *columns[] = {column};
    struct sync_value v = value ? (struct sync_value){.type = SYNC_TEXT, .s = value}
                                : (struct sync_value){.type = SYNC_NULL};
    assert_int_equal(replica_put(f->replica, table, id, VILLAGE, 1, columns, &v, NULL), 0);
}

static void put_int(struct fixture *f, const char *table, const char *id, const char *column,
                    int64_t value)
{
    const char *columns[] = {column};
    struct sync_value v = {.type = SYNC_INT, .i = value};
    assert_int_equal(replica_put(f->replica, table, id, VILLAGE, 1, columns, &v, NULL), 0);
}

/* A new case of kind with status (a token, or NULL for none). */
static void new_case(struct fixture *f, const char *kind, const char *status,
                     char id[UUID7_STRLEN + 1])
{
    assert_int_equal(uuid7_now(id), 0);
    const char *columns[] = {"kind", "status", "created_at"};
    struct sync_value values[] = {
        {.type = SYNC_TEXT, .s = kind},
        status ? (struct sync_value){.type = SYNC_TEXT, .s = status}
               : (struct sync_value){.type = SYNC_NULL},
        {.type = SYNC_TEXT, .s = RECEIVED},
    };
    assert_int_equal(replica_put(f->replica, "cases", id, VILLAGE, 3, columns, values, NULL), 0);
}

/* A new agreement of case_id with parts 1-4 filled in. */
static void new_agreement(struct fixture *f, const char *case_id, char id[UUID7_STRLEN + 1])
{
    assert_int_equal(uuid7_now(id), 0);
    const char *columns[] = {"case_id",
                             "parties_details",
                             "facts_and_liability",
                             "rights_obligations",
                             "performance_method",
                             "performance_place",
                             "performance_deadline"};
    struct sync_value values[] = {
        {.type = SYNC_TEXT, .s = case_id},
        {.type = SYNC_TEXT, .s = "张三，男，1970年生；李四，男，1972年生"},
        {.type = SYNC_TEXT, .s = "两家宅基地边界争议，双方各有责任"},
        {.type = SYNC_TEXT, .s = "李四退让半米，张三补偿二千元"},
        {.type = SYNC_TEXT, .s = "现金一次付清"},
        {.type = SYNC_TEXT, .s = "白沙村委会"},
        {.type = SYNC_TEXT, .s = "2026-04-01"},
    };
    assert_int_equal(replica_put(f->replica, "agreements", id, VILLAGE, 7, columns, values, NULL),
                     0);
}

/* ---- reading the ledger ---- */

static sqlite3_stmt *prepare(struct fixture *f, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(replica_db(f->replica), sql, -1, &st, NULL) != SQLITE_OK) {
        fail_msg("%s: %s", sql, sqlite3_errmsg(replica_db(f->replica)));
    }
    return st;
}

static void copy_column(sqlite3_stmt *st, int col, char *out, size_t len)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(out, len, "%s", t ? (const char *)t : "");
}

/* A text field of a record into out; returns 0 when it is NULL, else 1.
 * column is one of this file's own column names, never input. */
static int field_text(struct fixture *f, const char *table, const char *id, const char *column,
                      char *out, size_t len)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT %s FROM %s WHERE id = ?1", column, table);
    sqlite3_stmt *st = prepare(f, sql);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int set = sqlite3_column_type(st, 0) != SQLITE_NULL;
    copy_column(st, 0, out, len);
    sqlite3_finalize(st);
    return set;
}

static int64_t field_int(struct fixture *f, const char *table, const char *id, const char *column)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT %s FROM %s WHERE id = ?1", column, table);
    sqlite3_stmt *st = prepare(f, sql);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void assert_case_text(struct fixture *f, const char *case_id, const char *column,
                             const char *expected)
{
    char value[256];
    int set = field_text(f, "cases", case_id, column, value, sizeof value);
    if (!expected) {
        if (set) {
            fail_msg("cases.%s is \"%s\", expected NULL", column, value);
        }
        return;
    }
    if (!set) {
        fail_msg("cases.%s is NULL, expected \"%s\"", column, expected);
    }
    assert_string_equal(value, expected);
}

/* The events of the ledger (case_id NULL: all of them; kind NULL: of
 * every kind). */
static int count_events(struct fixture *f, const char *case_id, const char *kind)
{
    sqlite3_stmt *st =
        prepare(f, "SELECT count(*) FROM events"
                   " WHERE (?1 IS NULL OR case_id = ?1) AND (?2 IS NULL OR kind = ?2)");
    if (case_id) {
        sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
    }
    if (kind) {
        sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    }
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

static void read_event(sqlite3_stmt *st, struct event *ev)
{
    copy_column(st, 0, ev->id, sizeof ev->id);
    copy_column(st, 1, ev->village, sizeof ev->village);
    copy_column(st, 2, ev->case_id, sizeof ev->case_id);
    copy_column(st, 3, ev->date, sizeof ev->date);
    copy_column(st, 4, ev->kind, sizeof ev->kind);
    copy_column(st, 5, ev->detail, sizeof ev->detail);
    copy_column(st, 6, ev->note, sizeof ev->note);
    copy_column(st, 7, ev->recorded_at, sizeof ev->recorded_at);
}

/* The latest event of kind recorded for case_id (NULL: for no case). */
static void latest_event(struct fixture *f, const char *case_id, const char *kind, struct event *ev)
{
    sqlite3_stmt *st = prepare(f, "SELECT id, village, case_id, date, kind, detail, note,"
                                  " recorded_at FROM events"
                                  " WHERE case_id IS ?1 AND kind = ?2 ORDER BY rowid DESC LIMIT 1");
    if (case_id) {
        sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
    }
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        fail_msg("no \"%s\" event for case %s", kind, case_id ? case_id : "(none)");
        return;
    }
    read_event(st, ev);
    sqlite3_finalize(st);
}

static void event_by_id(struct fixture *f, const char *id, struct event *ev)
{
    sqlite3_stmt *st = prepare(f, "SELECT id, village, case_id, date, kind, detail, note,"
                                  " recorded_at FROM events WHERE id = ?1");
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    read_event(st, ev);
    sqlite3_finalize(st);
}

static void snap(struct fixture *f, const char *case_id, struct snapshot *s)
{
    s->own_seq = replica_own_seq(f->replica);
    s->events = count_events(f, NULL, NULL);
    s->status[0] = '\0';
    if (case_id) {
        (void)field_text(f, "cases", case_id, "status", s->status, sizeof s->status);
    }
}

/* A refused step: nothing new in the journal, no event, the status kept. */
static void assert_unchanged(struct fixture *f, const char *case_id, const struct snapshot *s)
{
    struct snapshot now;
    snap(f, case_id, &now);
    assert_int_equal(now.own_seq, s->own_seq);
    assert_int_equal(now.events, s->events);
    assert_string_equal(now.status, s->status);
}

static void assert_why_has(const struct fixture *f, const char *words)
{
    if (!strstr(f->w.why, words)) {
        fail_msg("why \"%s\" does not mention \"%s\"", f->w.why, words);
    }
}

static int move_allowed(enum rules_status from, enum rules_status to)
{
    for (size_t i = 0; i < 4 && allowed_moves[from][i]; i++) {
        if (allowed_moves[from][i] == to) {
            return 1;
        }
    }
    return 0;
}

/* why ends with "from FROM a case can go to: A, B, C", the list being
 * exactly the statuses the table allows. */
static void assert_why_names_allowed(const struct fixture *f, enum rules_status from)
{
    if (!allowed_moves[from][0]) {
        assert_why_has(f, "final");
        return;
    }
    char head[64];
    snprintf(head, sizeof head, "from %s a case can go to: ", rules_status_name(from));
    const char *list = strstr(f->w.why, head);
    if (!list) {
        fail_msg("why \"%s\" does not say where a case can go from %s", f->w.why,
                 rules_status_name(from));
        return;
    }
    list += strlen(head);
    size_t named = 0;
    while (*list) {
        size_t len = strcspn(list, ",");
        char token[32];
        assert_true(len < sizeof token);
        memcpy(token, list, len);
        token[len] = '\0';
        enum rules_status s;
        if (rules_status_parse(token, &s) != 0 || !move_allowed(from, s)) {
            fail_msg("why \"%s\" names \"%s\", not allowed from %s", f->w.why, token,
                     rules_status_name(from));
        }
        named++;
        list += len;
        list += strspn(list, ", ");
    }
    size_t expected = 0;
    while (expected < 4 && allowed_moves[from][expected]) {
        expected++;
    }
    assert_int_equal(named, expected);
}

/* ---- status ---- */

static void test_status_allowed_moves(void **state)
{
    struct fixture *f = *state;
    int moves = 0;
    for (int from = RULES_STATUS_REGISTERED; from < RULES_STATUS_COUNT; from++) {
        for (size_t i = 0; i < 4 && allowed_moves[from][i]; i++) {
            enum rules_status to = allowed_moves[from][i];
            if (to == RULES_STATUS_REFERRED) {
                continue; /* a transfer: test_transfer */
            }
            char id[UUID7_STRLEN + 1];
            new_case(f, "dispute", rules_status_name((enum rules_status)from), id);
            int64_t seq = replica_own_seq(f->replica);
            int events = count_events(f, NULL, NULL);
            int rc = workflow_status(&f->w, id, to, "双方同意");
            if (rc != 0) {
                fail_msg("%s -> %s: %d (%s)", rules_status_name((enum rules_status)from),
                         rules_status_name(to), rc, f->w.why);
            }
            assert_case_text(f, id, "status", rules_status_name(to));
            assert_true(replica_own_seq(f->replica) > seq);
            assert_int_equal(count_events(f, NULL, NULL), events + 1);
            assert_int_equal(count_events(f, id, "status"), 1);
            struct event ev;
            latest_event(f, id, "status", &ev);
            assert_string_equal(ev.detail, rules_status_name(to));
            assert_string_equal(ev.village, VILLAGE);
            assert_string_equal(ev.date, TODAY);
            assert_string_equal(ev.recorded_at, NOW);
            assert_non_null(strstr(ev.note, rules_status_label(to, "zh")));
            assert_non_null(strstr(ev.note, "双方同意"));
            moves++;
        }
    }
    assert_int_equal(moves, 13); /* the table's 18 moves, 5 of them to referred */
}

static void test_status_illegal_moves(void **state)
{
    struct fixture *f = *state;
    int refused = 0;
    for (int from = RULES_STATUS_REGISTERED; from < RULES_STATUS_COUNT; from++) {
        char id[UUID7_STRLEN + 1];
        new_case(f, "dispute", rules_status_name((enum rules_status)from), id);
        struct snapshot before;
        snap(f, id, &before);
        for (int to = RULES_STATUS_REGISTERED; to < RULES_STATUS_COUNT; to++) {
            if (to == RULES_STATUS_REFERRED || move_allowed((enum rules_status)from, to)) {
                continue;
            }
            int rc = workflow_status(&f->w, id, (enum rules_status)to, NULL);
            if (rc != RULES_E_TRANSITION) {
                fail_msg("%s -> %s gave %d (%s), expected RULES_E_TRANSITION",
                         rules_status_name((enum rules_status)from),
                         rules_status_name((enum rules_status)to), rc, f->w.why);
            }
            assert_why_names_allowed(f, (enum rules_status)from);
            assert_unchanged(f, id, &before);
            refused++;
        }
        /* A status that does not exist is refused too. */
        assert_int_equal(workflow_status(&f->w, id, RULES_STATUS_NONE, NULL), RULES_E_ARG);
        assert_int_equal(workflow_status(&f->w, id, RULES_STATUS_COUNT, NULL), RULES_E_ARG);
        assert_unchanged(f, id, &before);
    }
    /* 10 statuses x 9 targets other than referred, less the 13 allowed. */
    assert_int_equal(refused, 77);

    /* In Chinese, the labels. */
    char id[UUID7_STRLEN + 1];
    new_case(f, "dispute", "mediating", id);
    f->w.lang = "zh";
    assert_int_equal(workflow_status(&f->w, id, RULES_STATUS_CONCLUDED, NULL), RULES_E_TRANSITION);
    assert_why_has(f, "达成协议、调解不成、转办");
}

static void test_status_unknown_counts_as_registered(void **state)
{
    struct fixture *f = *state;
    char none[UUID7_STRLEN + 1], odd[UUID7_STRLEN + 1];
    new_case(f, "dispute", NULL, none);
    new_case(f, "dispute", "pending_review", odd);

    struct snapshot before;
    snap(f, odd, &before);
    assert_int_equal(workflow_status(&f->w, odd, RULES_STATUS_MEDIATING, NULL), RULES_E_TRANSITION);
    assert_why_names_allowed(f, RULES_STATUS_REGISTERED);
    assert_unchanged(f, odd, &before);

    assert_int_equal(workflow_status(&f->w, none, RULES_STATUS_ACCEPTED, NULL), 0);
    assert_case_text(f, none, "status", "accepted");
    assert_int_equal(workflow_status(&f->w, odd, RULES_STATUS_NOT_ACCEPTED, NULL), 0);
    assert_case_text(f, odd, "status", "not_accepted");
    struct event ev;
    latest_event(f, odd, "status", &ev);
    assert_non_null(strstr(ev.note, "登记"));

    /* The reference data's "closed" is concluded: it may be archived. */
    char closed[UUID7_STRLEN + 1];
    new_case(f, "dispute", "closed", closed);
    assert_int_equal(workflow_status(&f->w, closed, RULES_STATUS_ARCHIVED, NULL), 0);
    assert_case_text(f, closed, "status", "archived");
}

static void test_status_dates(void **state)
{
    struct fixture *f = *state;
    char id[UUID7_STRLEN + 1];
    new_case(f, "dispute", "registered", id);
    assert_case_text(f, id, "accepted_on", NULL);
    assert_int_equal(workflow_status(&f->w, id, RULES_STATUS_ACCEPTED, NULL), 0);
    assert_case_text(f, id, "accepted_on", TODAY);
    assert_case_text(f, id, "concluded_on", NULL);

    f->w.today = (struct rules_date){2026, 3, 12};
    assert_int_equal(workflow_status(&f->w, id, RULES_STATUS_INVESTIGATING, NULL), 0);
    assert_case_text(f, id, "concluded_on", NULL);
    f->w.today = (struct rules_date){2026, 3, 20};
    assert_int_equal(workflow_status(&f->w, id, RULES_STATUS_CONCLUDED, NULL), 0);
    assert_case_text(f, id, "concluded_on", "2026-03-20");
    assert_case_text(f, id, "accepted_on", TODAY); /* kept */
    struct event ev;
    latest_event(f, id, "status", &ev);
    assert_string_equal(ev.date, "2026-03-20");
    assert_int_equal(count_events(f, id, "status"), 3);
}

static void test_conclude_petition_needs_result_notice(void **state)
{
    struct fixture *f = *state;
    char id[UUID7_STRLEN + 1];
    new_case(f, "petition", "investigating", id);
    struct snapshot before;
    snap(f, id, &before);
    assert_int_equal(workflow_status(&f->w, id, RULES_STATUS_CONCLUDED, NULL), RULES_E_INCOMPLETE);
    assert_why_has(f, "result notice");
    assert_unchanged(f, id, &before);
    assert_case_text(f, id, "concluded_on", NULL);

    f->w.lang = "zh";
    assert_int_equal(workflow_status(&f->w, id, RULES_STATUS_CONCLUDED, NULL), RULES_E_INCOMPLETE);
    assert_why_has(f, "书面告知");
    assert_unchanged(f, id, &before);
    f->w.lang = "en";

    assert_int_equal(workflow_result_notice(&f->w, id, RULES_DATE_NONE, NULL), 0);
    assert_int_equal(workflow_status(&f->w, id, RULES_STATUS_CONCLUDED, NULL), 0);
    assert_case_text(f, id, "status", "concluded");
    assert_case_text(f, id, "concluded_on", TODAY);

    /* A dispute needs no result notice. */
    char dispute[UUID7_STRLEN + 1];
    new_case(f, "dispute", "investigating", dispute);
    assert_int_equal(workflow_status(&f->w, dispute, RULES_STATUS_CONCLUDED, NULL), 0);
}

static void test_conclude_needs_signed_agreement(void **state)
{
    struct fixture *f = *state;
    char id[UUID7_STRLEN + 1], agreement[UUID7_STRLEN + 1];
    new_case(f, "dispute", "agreement", id);
    new_agreement(f, id, agreement);
    struct snapshot before;
    snap(f, id, &before);
    assert_int_equal(workflow_status(&f->w, id, RULES_STATUS_CONCLUDED, NULL), RULES_E_INCOMPLETE);
    assert_why_has(f, "signed");
    assert_unchanged(f, id, &before);

    assert_int_equal(workflow_agreement_sign(&f->w, agreement), 0);
    assert_case_text(f, id, "status", "agreement"); /* not mediating: no move */

    /* A supplementary agreement, not signed yet, holds the case back. */
    char supplement[UUID7_STRLEN + 1];
    new_agreement(f, id, supplement);
    put_text(f, "agreements", supplement, "supplements", agreement);
    snap(f, id, &before);
    assert_int_equal(workflow_status(&f->w, id, RULES_STATUS_CONCLUDED, NULL), RULES_E_INCOMPLETE);
    assert_unchanged(f, id, &before);
    assert_int_equal(workflow_agreement_sign(&f->w, supplement), 0);
    assert_int_equal(workflow_status(&f->w, id, RULES_STATUS_CONCLUDED, NULL), 0);
    assert_case_text(f, id, "status", "concluded");
    assert_case_text(f, id, "concluded_on", TODAY);

    /* A failed mediation with an agreement drafted but never signed is held
     * back too. */
    char failed[UUID7_STRLEN + 1], draft[UUID7_STRLEN + 1];
    new_case(f, "dispute", "failed", failed);
    new_agreement(f, failed, draft);
    assert_int_equal(workflow_status(&f->w, failed, RULES_STATUS_CONCLUDED, NULL),
                     RULES_E_INCOMPLETE);
    assert_case_text(f, failed, "status", "failed");
}

static void test_status_referred_is_a_transfer(void **state)
{
    struct fixture *f = *state;
    char id[UUID7_STRLEN + 1];
    new_case(f, "dispute", "mediating", id);
    struct snapshot before;
    snap(f, id, &before);
    assert_int_equal(workflow_status(&f->w, id, RULES_STATUS_REFERRED, NULL), RULES_E_ARG);
    assert_why_has(f, "transfer");
    assert_unchanged(f, id, &before);
}

static void test_status_of_missing_case(void **state)
{
    struct fixture *f = *state;
    struct snapshot before;
    snap(f, NULL, &before);
    assert_int_equal(
        workflow_status(&f->w, "0190f5a2-7b3c-7d4e-8f5a-6b7c8d9e0a99", RULES_STATUS_ACCEPTED, NULL),
        SYNC_E_NOT_FOUND);
    assert_int_equal(workflow_status(&f->w, NULL, RULES_STATUS_ACCEPTED, NULL), RULES_E_ARG);
    assert_unchanged(f, NULL, &before);
}

/* ---- transfer, escalation ---- */

static void test_transfer(void **state)
{
    struct fixture *f = *state;
    char id[UUID7_STRLEN + 1];
    new_case(f, "dispute", "investigating", id);
    assert_int_equal(workflow_transfer(&f->w, id, RULES_REFERRAL_POLICE, "涉嫌故意伤害"), 0);
    assert_case_text(f, id, "status", "referred");
    assert_int_equal(count_events(f, id, NULL), 1);
    struct event ev;
    latest_event(f, id, "referral", &ev);
    assert_string_equal(ev.detail, "police_station");
    assert_non_null(strstr(ev.note, "派出所"));
    assert_non_null(strstr(ev.note, "涉嫌故意伤害"));

    char other[UUID7_STRLEN + 1];
    new_case(f, "dispute", "registered", other);
    struct snapshot before;
    snap(f, other, &before);
    assert_int_equal(workflow_transfer(&f->w, other, RULES_REFERRAL_NONE, NULL), RULES_E_ARG);
    assert_int_equal(workflow_transfer(&f->w, other, RULES_REFERRAL_COUNT, NULL), RULES_E_ARG);
    assert_why_has(f, "court");
    assert_unchanged(f, other, &before);
    assert_int_equal(workflow_transfer(&f->w, other, RULES_REFERRAL_COURT, NULL), 0);
    latest_event(f, other, "referral", &ev);
    assert_string_equal(ev.detail, "court");

    /* A concluded case, or one already referred, goes nowhere but the
     * archive. */
    char done[UUID7_STRLEN + 1];
    new_case(f, "dispute", "concluded", done);
    snap(f, done, &before);
    assert_int_equal(workflow_transfer(&f->w, done, RULES_REFERRAL_COURT, NULL),
                     RULES_E_TRANSITION);
    assert_why_has(f, "archived");
    assert_unchanged(f, done, &before);
    snap(f, id, &before);
    assert_int_equal(workflow_transfer(&f->w, id, RULES_REFERRAL_COURT, NULL), RULES_E_TRANSITION);
    assert_unchanged(f, id, &before);
}

static void test_escalate(void **state)
{
    struct fixture *f = *state;
    char id[UUID7_STRLEN + 1];
    new_case(f, "dispute", "mediating", id);
    struct snapshot before;
    snap(f, id, &before);
    /* No level yet: the case is at level 1. */
    assert_int_equal(workflow_escalate(&f->w, id, 1, NULL), RULES_E_LEVEL);
    assert_unchanged(f, id, &before);

    assert_int_equal(workflow_escalate(&f->w, id, 3, "村里调解不下"), 0);
    assert_int_equal(field_int(f, "cases", id, "level"), 3);
    assert_case_text(f, id, "status", "mediating"); /* an escalation keeps the status */
    struct event ev;
    latest_event(f, id, "escalation", &ev);
    assert_string_equal(ev.detail, "3");
    assert_non_null(strstr(ev.note, "驻村干部"));
    assert_non_null(strstr(ev.note, "村里调解不下"));
    assert_int_equal(count_events(f, id, NULL), 1);

    snap(f, id, &before);
    assert_int_equal(workflow_escalate(&f->w, id, 3, NULL), RULES_E_LEVEL);
    assert_why_has(f, "4 to 7");
    assert_int_equal(workflow_escalate(&f->w, id, 2, NULL), RULES_E_LEVEL);
    assert_why_has(f, "4 to 7");
    assert_int_equal(workflow_escalate(&f->w, id, 8, NULL), RULES_E_ARG);
    assert_int_equal(workflow_escalate(&f->w, id, 0, NULL), RULES_E_ARG);
    assert_unchanged(f, id, &before);
    assert_int_equal(field_int(f, "cases", id, "level"), 3);

    /* Several levels at once, up to the top, and no further. */
    assert_int_equal(workflow_escalate(&f->w, id, 7, NULL), 0);
    assert_int_equal(field_int(f, "cases", id, "level"), 7);
    snap(f, id, &before);
    assert_int_equal(workflow_escalate(&f->w, id, 7, NULL), RULES_E_LEVEL);
    assert_why_has(f, "highest");
    assert_unchanged(f, id, &before);

    /* A level of 0, as an import may leave it, counts as 1 too. */
    char zero[UUID7_STRLEN + 1];
    new_case(f, "dispute", "mediating", zero);
    put_int(f, "cases", zero, "level", 0);
    assert_int_equal(workflow_escalate(&f->w, zero, 1, NULL), RULES_E_LEVEL);
    assert_int_equal(workflow_escalate(&f->w, zero, 2, NULL), 0);
    assert_int_equal(field_int(f, "cases", zero, "level"), 2);
}

/* A long note is kept whole, never cut inside a character. */
static void test_long_notes(void **state)
{
    struct fixture *f = *state;
    static const char word[] = "调";
    char id[UUID7_STRLEN + 1], note[1024];
    size_t len = 0;
    for (int i = 0; i < 300; i++, len += sizeof word - 1) {
        memcpy(note + len, word, sizeof word - 1);
    }
    note[len] = '\0';
    new_case(f, "dispute", "accepted", id);
    assert_int_equal(workflow_status(&f->w, id, RULES_STATUS_MEDIATING, note), 0);
    struct event ev;
    latest_event(f, id, "status", &ev);
    assert_non_null(strstr(ev.note, note));
    assert_int_equal(workflow_escalate(&f->w, id, 2, note), 0);
    latest_event(f, id, "escalation", &ev);
    assert_non_null(strstr(ev.note, note));
}

/* ---- result notice, opinion, follow-up ---- */

static void test_result_notice(void **state)
{
    struct fixture *f = *state;
    char id[UUID7_STRLEN + 1];
    new_case(f, "petition", "investigating", id);
    struct snapshot before;
    snap(f, id, &before);
    assert_int_equal(workflow_result_notice(&f->w, id, (struct rules_date){2026, 3, 11}, NULL),
                     RULES_E_ARG);
    assert_why_has(f, "future");
    assert_int_equal(workflow_result_notice(&f->w, id, (struct rules_date){2026, 2, 30}, NULL),
                     RULES_E_ARG);
    assert_unchanged(f, id, &before);
    assert_case_text(f, id, "result_notice_on", NULL);

    assert_int_equal(
        workflow_result_notice(&f->w, id, (struct rules_date){2026, 3, 5}, "挂号信寄出"), 0);
    assert_case_text(f, id, "result_notice_on", "2026-03-05");
    struct event ev;
    latest_event(f, id, "result_notice", &ev);
    assert_string_equal(ev.date, "2026-03-05");
    assert_string_equal(ev.recorded_at, NOW);
    assert_non_null(strstr(ev.note, "挂号信寄出"));

    /* Without a date: today. */
    char other[UUID7_STRLEN + 1];
    new_case(f, "petition", "investigating", other);
    assert_int_equal(workflow_result_notice(&f->w, other, RULES_DATE_NONE, NULL), 0);
    assert_case_text(f, other, "result_notice_on", TODAY);
    latest_event(f, other, "result_notice", &ev);
    assert_string_equal(ev.date, TODAY);
}

static void test_opinion(void **state)
{
    struct fixture *f = *state;
    char id[UUID7_STRLEN + 1];
    new_case(f, "dispute", "concluded", id);
    struct snapshot before;
    snap(f, id, &before);
    assert_int_equal(workflow_opinion(&f->w, id, RULES_OPINION_NONE, NULL), RULES_E_ARG);
    assert_int_equal(workflow_opinion(&f->w, id, RULES_OPINION_COUNT, NULL), RULES_E_ARG);
    assert_why_has(f, "basically_satisfied");
    assert_unchanged(f, id, &before);
    assert_case_text(f, id, "opinion", NULL);

    assert_int_equal(workflow_opinion(&f->w, id, RULES_OPINION_BASICALLY_SATISFIED, NULL), 0);
    assert_case_text(f, id, "opinion", "basically_satisfied");
    struct event ev;
    latest_event(f, id, "opinion", &ev);
    assert_string_equal(ev.detail, "basically_satisfied");
    assert_non_null(strstr(ev.note, "基本满意"));

    assert_int_equal(workflow_opinion(&f->w, id, RULES_OPINION_NOT_SATISFIED, NULL), 0);
    assert_case_text(f, id, "opinion", "not_satisfied");
    assert_int_equal(count_events(f, id, "opinion"), 2);
}

static void test_followup(void **state)
{
    struct fixture *f = *state;
    char id[UUID7_STRLEN + 1];
    new_case(f, "dispute", "concluded", id);
    struct snapshot before;
    snap(f, id, &before);
    assert_int_equal(workflow_followup(&f->w, id, (struct rules_date){2026, 4, 1}, NULL),
                     RULES_E_ARG);
    assert_unchanged(f, id, &before);

    assert_int_equal(workflow_followup(&f->w, id, (struct rules_date){2026, 3, 1}, "双方已履行"),
                     0);
    assert_int_equal(count_events(f, id, "followup"), 1);
    struct event ev;
    latest_event(f, id, "followup", &ev);
    assert_string_equal(ev.date, "2026-03-01");
    assert_non_null(strstr(ev.note, "双方已履行"));
    assert_case_text(f, id, "status", "concluded");

    assert_int_equal(workflow_followup(&f->w, id, RULES_DATE_NONE, NULL), 0);
    latest_event(f, id, "followup", &ev);
    assert_string_equal(ev.date, TODAY);
}

/* ---- extension, township deadline ---- */

static void test_extend(void **state)
{
    struct fixture *f = *state;
    char dispute[UUID7_STRLEN + 1], id[UUID7_STRLEN + 1];
    new_case(f, "dispute", "investigating", dispute);
    new_case(f, "petition", "investigating", id);

    struct snapshot before;
    snap(f, dispute, &before);
    assert_int_equal(workflow_extend(&f->w, dispute, 10, NULL), RULES_E_ARG);
    assert_why_has(f, "petition");
    assert_unchanged(f, dispute, &before);

    snap(f, id, &before);
    assert_int_equal(workflow_extend(&f->w, id, 31, NULL), RULES_E_EXTENSION_TOO_LONG);
    assert_why_has(f, "30");
    assert_int_equal(workflow_extend(&f->w, id, 0, NULL), RULES_E_ARG);
    assert_unchanged(f, id, &before);
    assert_case_text(f, id, "extension_days", NULL);

    /* Not accepted yet: 60 days from 2026-03-01, then 20 more. */
    assert_int_equal(workflow_extend(&f->w, id, 20, "需要补充调查"), 0);
    assert_int_equal(field_int(f, "cases", id, "extension_days"), 20);
    struct event ev;
    latest_event(f, id, "extension", &ev);
    assert_string_equal(ev.detail, "20");
    assert_non_null(strstr(ev.note, "2026-05-20"));
    assert_non_null(strstr(ev.note, "需要补充调查"));

    snap(f, id, &before);
    assert_int_equal(workflow_extend(&f->w, id, 5, NULL), RULES_E_EXTENDED);
    assert_unchanged(f, id, &before);
    assert_int_equal(field_int(f, "cases", id, "extension_days"), 20);

    /* The township's own maximum. */
    assert_int_equal(rules_config_set(&f->rules, "max_extension_days", "10"), 0);
    char other[UUID7_STRLEN + 1];
    new_case(f, "petition", "accepted", other);
    put_text(f, "cases", other, "accepted_on", "2026-03-05");
    snap(f, other, &before);
    assert_int_equal(workflow_extend(&f->w, other, 11, NULL), RULES_E_EXTENSION_TOO_LONG);
    assert_why_has(f, "10");
    assert_unchanged(f, other, &before);
    assert_int_equal(workflow_extend(&f->w, other, 10, NULL), 0);
    latest_event(f, other, "extension", &ev);
    assert_non_null(strstr(ev.note, "2026-05-14")); /* 2026-03-05 + 60 + 10 */

    /* A petition no longer handled here has nothing to extend. */
    char done[UUID7_STRLEN + 1];
    new_case(f, "petition", "concluded", done);
    snap(f, done, &before);
    assert_int_equal(workflow_extend(&f->w, done, 5, NULL), RULES_E_ARG);
    assert_unchanged(f, done, &before);
}

static void test_deadline(void **state)
{
    struct fixture *f = *state;
    char id[UUID7_STRLEN + 1];
    new_case(f, "dispute", "mediating", id);
    struct snapshot before;
    snap(f, id, &before);
    assert_int_equal(workflow_deadline(&f->w, id, (struct rules_date){2026, 2, 30}, NULL),
                     RULES_E_ARG);
    assert_unchanged(f, id, &before);

    assert_int_equal(workflow_deadline(&f->w, id, (struct rules_date){2026, 4, 1}, "镇督办"), 0);
    assert_case_text(f, id, "deadline", "2026-04-01");
    struct event ev;
    latest_event(f, id, "deadline", &ev);
    assert_string_equal(ev.detail, "2026-04-01");
    assert_non_null(strstr(ev.note, "镇督办"));

    assert_int_equal(workflow_deadline(&f->w, id, RULES_DATE_NONE, NULL), 0);
    assert_case_text(f, id, "deadline", NULL);
    assert_int_equal(count_events(f, id, "deadline"), 2);
    latest_event(f, id, "deadline", &ev);
    assert_string_not_equal(ev.detail, "2026-04-01");
    assert_non_null(strstr(ev.note, "撤销"));
}

/* ---- the township's actions ---- */

static void test_level(void **state)
{
    struct fixture *f = *state;
    char id[UUID7_STRLEN + 1];
    new_case(f, "dispute", "mediating", id);
    struct snapshot before;
    snap(f, id, &before);
    /* Outside 1-7: refused, naming the levels. */
    assert_int_equal(workflow_level(&f->w, id, 0, NULL), RULES_E_ARG);
    assert_why_has(f, "1 to 7");
    assert_int_equal(workflow_level(&f->w, id, 8, NULL), RULES_E_ARG);
    assert_int_equal(workflow_level(&f->w, "0190f5a2-7b3c-7d4e-8f5a-6b7c8d9e0a99", 3, NULL),
                     SYNC_E_NOT_FOUND);
    assert_int_equal(workflow_level(&f->w, NULL, 3, NULL), RULES_E_ARG);
    assert_unchanged(f, id, &before);

    /* A case without a level may be set to any, 1 included. */
    f->w.who = "王科长";
    assert_int_equal(workflow_level(&f->w, id, 1, NULL), 0);
    assert_int_equal(field_int(f, "cases", id, "level"), 1);
    struct event ev;
    latest_event(f, id, "level", &ev);
    assert_string_equal(ev.detail, "1");
    assert_non_null(strstr(ev.note, "未定"));
    assert_non_null(strstr(ev.note, "王科长"));

    /* Up several levels, then down: the township may do both. */
    assert_int_equal(workflow_level(&f->w, id, 5, "镇里督办"), 0);
    assert_int_equal(field_int(f, "cases", id, "level"), 5);
    latest_event(f, id, "level", &ev);
    assert_string_equal(ev.detail, "5");
    assert_non_null(strstr(ev.note, "第1级"));
    assert_non_null(strstr(ev.note, "分管领导"));
    assert_non_null(strstr(ev.note, "镇里督办"));
    assert_int_equal(workflow_level(&f->w, id, 2, NULL), 0);
    assert_int_equal(field_int(f, "cases", id, "level"), 2);
    assert_case_text(f, id, "status", "mediating"); /* the status stays */
    assert_int_equal(count_events(f, id, "level"), 3);
    assert_int_equal(count_events(f, id, NULL), 3);

    /* The level it holds: nothing to record. */
    snap(f, id, &before);
    assert_int_equal(workflow_level(&f->w, id, 2, NULL), RULES_E_LEVEL);
    assert_why_has(f, "already at level 2");
    f->w.lang = "zh";
    assert_int_equal(workflow_level(&f->w, id, 2, NULL), RULES_E_LEVEL);
    assert_why_has(f, "案件已在第2级");
    assert_unchanged(f, id, &before);
    /* A village's escalation still goes only up from the township's level. */
    f->w.lang = "en";
    assert_int_equal(workflow_escalate(&f->w, id, 1, NULL), RULES_E_LEVEL);
    assert_int_equal(workflow_escalate(&f->w, id, 3, NULL), 0);
}

static void test_mediator(void **state)
{
    struct fixture *f = *state;
    char id[UUID7_STRLEN + 1];
    new_case(f, "dispute", "accepted", id);
    struct snapshot before;
    snap(f, id, &before);
    char name[3 * 51 + 1];
    for (size_t i = 0; i < 51; i++) {
        memcpy(name + 3 * i, "张", 3);
    }
    name[3 * 51] = '\0';
    char long_id[66];
    memset(long_id, 'M', 65);
    long_id[65] = '\0';
    const struct {
        const char *name, *id, *words;
    } refused[] = {
        {NULL, NULL, "must not be empty"},
        {"", NULL, "must not be empty"},
        {" \xE3\x80\x80 ", NULL, "must not be empty"}, /* spaces, U+3000 among them */
        {"\xC3\x28", NULL, "not valid UTF-8"},
        {"张\n三", NULL, "control characters"},
        {name, NULL, "51 characters long; at most 50"},
        {"张三", "", "must not be empty"},
        {"张三", long_id, "65 characters long; at most 64"},
        {"张三", "M\x01", "control characters"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        assert_int_equal(workflow_mediator(&f->w, id, refused[i].name, refused[i].id, NULL),
                         RULES_E_ARG);
        assert_why_has(f, refused[i].words);
    }
    assert_int_equal(
        workflow_mediator(&f->w, "0190f5a2-7b3c-7d4e-8f5a-6b7c8d9e0a99", "张三", NULL, NULL),
        SYNC_E_NOT_FOUND);
    assert_unchanged(f, id, &before);

    /* 50 characters is the limit, and allowed. */
    name[3 * 50] = '\0';
    assert_int_equal(workflow_mediator(&f->w, id, name, NULL, NULL), 0);
    assert_case_text(f, id, "mediator_name", name);

    f->w.who = "王科长";
    assert_int_equal(workflow_mediator(&f->w, id, "谭永清", "M03", "熟悉山林纠纷"), 0);
    assert_case_text(f, id, "mediator_name", "谭永清");
    assert_case_text(f, id, "mediator_id", "M03");
    struct event ev;
    latest_event(f, id, "mediator", &ev);
    assert_string_equal(ev.detail, "谭永清");
    assert_non_null(strstr(ev.note, "M03"));
    assert_non_null(strstr(ev.note, "王科长"));
    assert_non_null(strstr(ev.note, "熟悉山林纠纷"));

    /* The same mediator again is refused; a name alone drops the old id. */
    snap(f, id, &before);
    assert_int_equal(workflow_mediator(&f->w, id, "谭永清", "M03", NULL), RULES_E_ARG);
    assert_why_has(f, "mediator already");
    assert_unchanged(f, id, &before);
    assert_int_equal(workflow_mediator(&f->w, id, "谭永清", NULL, NULL), 0);
    assert_case_text(f, id, "mediator_name", "谭永清");
    assert_case_text(f, id, "mediator_id", NULL);
    assert_int_equal(count_events(f, id, "mediator"), 3);
    assert_case_text(f, id, "status", "accepted");
}

static void test_correction(void **state)
{
    struct fixture *f = *state;
    char id[UUID7_STRLEN + 1];
    new_case(f, "dispute", "mediating", id);
    struct snapshot before;
    snap(f, id, &before);
    /* Nothing asked yet: nothing to clear, nothing to answer. */
    assert_int_equal(workflow_correction(&f->w, id, NULL), RULES_E_ARG);
    assert_why_has(f, "nothing to clear");
    assert_int_equal(workflow_correction_reply(&f->w, id, "已改"), RULES_E_ARG);
    assert_why_has(f, "nothing to answer");
    /* A blank comment is refused, not taken for a clearing. */
    char long_text[3 * 1001 + 1];
    for (size_t i = 0; i < 1001; i++) {
        memcpy(long_text + 3 * i, "改", 3);
    }
    long_text[3 * 1001] = '\0';
    const struct {
        const char *text, *words;
    } refused[] = {
        {"", "must not be empty"},
        {"\n\t ", "must not be empty"},
        {"\xE4\xB8", "not valid UTF-8"},
        {"请更正\x1b[31m", "control characters"},
        {long_text, "1001 characters long; at most 1000"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        assert_int_equal(workflow_correction(&f->w, id, refused[i].text), RULES_E_ARG);
        assert_why_has(f, refused[i].words);
    }
    assert_int_equal(workflow_correction(&f->w, "0190f5a2-7b3c-7d4e-8f5a-6b7c8d9e0a99", "请更正"),
                     SYNC_E_NOT_FOUND);
    assert_unchanged(f, id, &before);
    assert_case_text(f, id, "correction", NULL);

    /* The township asks; 1000 characters and line breaks are allowed. */
    f->w.who = "王科长";
    long_text[3 * 1000] = '\0';
    assert_int_equal(workflow_correction(&f->w, id, long_text), 0);
    assert_case_text(f, id, "correction_on", TODAY);
    assert_int_equal(workflow_correction(&f->w, id, "当事人电话有误，\n请核对后更正"), 0);
    assert_case_text(f, id, "correction", "当事人电话有误，\n请核对后更正");
    assert_case_text(f, id, "correction_on", TODAY);
    assert_case_text(f, id, "correction_reply", NULL);
    struct event ev;
    latest_event(f, id, "correction", &ev);
    assert_string_equal(ev.detail, "asked");
    assert_non_null(strstr(ev.note, "当事人电话有误"));
    assert_non_null(strstr(ev.note, "王科长"));
    assert_int_equal(count_events(f, id, "correction"), 2);

    /* The village answers: its own fields, the township's untouched. */
    snap(f, id, &before);
    assert_int_equal(workflow_correction_reply(&f->w, id, " "), RULES_E_ARG);
    assert_int_equal(workflow_correction_reply(&f->w, id, NULL), RULES_E_ARG);
    assert_unchanged(f, id, &before);
    assert_int_equal(workflow_correction_reply(&f->w, id, long_text + 3), 0); /* 999 characters */
    f->w.who = "村支书";
    f->w.today = (struct rules_date){2026, 3, 11};
    assert_int_equal(workflow_correction_reply(&f->w, id, "已核对，电话已更正"), 0);
    assert_case_text(f, id, "correction_reply", "已核对，电话已更正");
    assert_case_text(f, id, "correction_reply_on", "2026-03-11");
    assert_case_text(f, id, "correction", "当事人电话有误，\n请核对后更正");
    assert_case_text(f, id, "correction_on", TODAY);
    latest_event(f, id, "correction_reply", &ev);
    assert_string_equal(ev.detail, "answered");
    assert_non_null(strstr(ev.note, "已核对，电话已更正"));
    assert_non_null(strstr(ev.note, "村支书"));
    assert_int_equal(count_events(f, id, "correction_reply"), 2);

    /* Satisfied, the township clears it; the answer stays the village's. */
    assert_int_equal(workflow_correction(&f->w, id, NULL), 0);
    assert_case_text(f, id, "correction", NULL);
    assert_case_text(f, id, "correction_on", NULL);
    assert_case_text(f, id, "correction_reply", "已核对，电话已更正");
    latest_event(f, id, "correction", &ev);
    assert_string_equal(ev.detail, "cleared");
    assert_non_null(strstr(ev.note, "撤销"));
    snap(f, id, &before);
    assert_int_equal(workflow_correction(&f->w, id, NULL), RULES_E_ARG);
    assert_int_equal(workflow_correction_reply(&f->w, id, "再答复"), RULES_E_ARG);
    assert_unchanged(f, id, &before);
    assert_case_text(f, id, "status", "mediating");
    /* In Chinese too. */
    f->w.lang = "zh";
    assert_int_equal(workflow_correction_reply(&f->w, id, "再答复"), RULES_E_ARG);
    assert_why_has(f, "镇里没有");
    assert_int_equal(workflow_correction(&f->w, id, ""), RULES_E_ARG);
    assert_why_has(f, "更正要求不能为空");
}

/* ---- free events, reveals ---- */

static void test_event(void **state)
{
    struct fixture *f = *state;
    char id[UUID7_STRLEN + 1], ev_id[UUID7_STRLEN + 1];
    new_case(f, "dispute", "mediating", id);
    struct snapshot before;
    snap(f, id, &before);
    static const char *const steps[] = {"status",  "referral",  "escalation", "result_notice",
                                        "opinion", "extension", "deadline",   "reveal",
                                        "level",   "mediator",  "correction", "correction_reply"};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        int rc = workflow_event(&f->w, id, steps[i], RULES_DATE_NONE, NULL, NULL, NULL);
        if (rc != RULES_E_ARG) {
            fail_msg("an event \"%s\" was not refused (%d)", steps[i], rc);
        }
    }
    char long_kind[65];
    memset(long_kind, 'a', sizeof long_kind - 1);
    long_kind[sizeof long_kind - 1] = '\0';
    const char *bad[] = {"Visit", "", "home visit", "visit2", long_kind};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(workflow_event(&f->w, id, bad[i], RULES_DATE_NONE, NULL, NULL, NULL),
                         RULES_E_ARG);
    }
    assert_int_equal(workflow_event(&f->w, id, NULL, RULES_DATE_NONE, NULL, NULL, NULL),
                     RULES_E_ARG);
    assert_int_equal(
        workflow_event(&f->w, id, "visit", (struct rules_date){2026, 2, 30}, NULL, NULL, NULL),
        RULES_E_ARG);
    assert_int_equal(workflow_event(&f->w, "0190f5a2-7b3c-7d4e-8f5a-6b7c8d9e0a99", "visit",
                                    RULES_DATE_NONE, NULL, NULL, NULL),
                     SYNC_E_NOT_FOUND);
    assert_unchanged(f, id, &before);

    assert_int_equal(workflow_event(&f->w, id, "visit", (struct rules_date){2026, 3, 8},
                                    "上门了解情况", "home", ev_id),
                     0);
    assert_true(uuid7_valid(ev_id));
    struct event ev;
    event_by_id(f, ev_id, &ev);
    assert_string_equal(ev.case_id, id);
    assert_string_equal(ev.kind, "visit");
    assert_string_equal(ev.date, "2026-03-08");
    assert_string_equal(ev.note, "上门了解情况");
    assert_string_equal(ev.detail, "home");
    assert_string_equal(ev.village, VILLAGE);

    assert_int_equal(workflow_event(&f->w, id, "followup", RULES_DATE_NONE, NULL, NULL, NULL), 0);
    latest_event(f, id, "followup", &ev);
    assert_string_equal(ev.date, TODAY);
    assert_int_equal(count_events(f, id, NULL), 2);
    assert_case_text(f, id, "status", "mediating");
}

static void test_reveal(void **state)
{
    struct fixture *f = *state;
    char id[UUID7_STRLEN + 1];
    new_case(f, "dispute", "mediating", id);
    assert_int_equal(workflow_reveal(&f->w, VILLAGE, id, "当事人张三"), 0);
    struct event ev;
    latest_event(f, id, "reveal", &ev);
    assert_string_equal(ev.village, VILLAGE);
    assert_non_null(strstr(ev.note, "李明 (mediator)"));
    assert_non_null(strstr(ev.note, "当事人张三"));

    /* The case says where the event belongs. */
    assert_int_equal(workflow_reveal(&f->w, NULL, id, "当事人李四"), 0);
    latest_event(f, id, "reveal", &ev);
    assert_string_equal(ev.village, VILLAGE);
    assert_non_null(strstr(ev.note, "当事人李四"));

    /* The ledger as a whole, such as an export. */
    assert_int_equal(workflow_reveal(&f->w, VILLAGE, NULL, "export"), 0);
    latest_event(f, NULL, "reveal", &ev);
    assert_string_equal(ev.case_id, "");
    assert_string_equal(ev.village, VILLAGE);
    assert_non_null(strstr(ev.note, "李明 (mediator)"));
    assert_non_null(strstr(ev.note, "export"));
    assert_int_equal(count_events(f, NULL, "reveal"), 3);

    struct snapshot before;
    snap(f, NULL, &before);
    assert_int_equal(workflow_reveal(&f->w, NULL, NULL, "export"), RULES_E_ARG);
    assert_int_equal(workflow_reveal(&f->w, "", NULL, "export"), RULES_E_ARG);
    assert_int_equal(workflow_reveal(&f->w, VILLAGE, "0190f5a2-7b3c-7d4e-8f5a-6b7c8d9e0a99", "x"),
                     SYNC_E_NOT_FOUND);
    assert_unchanged(f, NULL, &before);
}

/* ---- agreements ---- */

static void test_agreement_sign(void **state)
{
    struct fixture *f = *state;
    char id[UUID7_STRLEN + 1], agreement[UUID7_STRLEN + 1];
    new_case(f, "dispute", "mediating", id);
    new_agreement(f, id, agreement);
    put_text(f, "agreements", agreement, "rights_obligations", NULL);
    put_text(f, "agreements", agreement, "performance_place", "\xe3\x80\x80 "); /* U+3000 */

    assert_int_equal(workflow_agreement_editable(&f->w, agreement), 0);
    struct snapshot before;
    snap(f, id, &before);
    assert_int_equal(workflow_agreement_sign(&f->w, agreement), RULES_E_INCOMPLETE);
    assert_why_has(f, "(3) each party's rights and obligations");
    assert_why_has(f, "(4) the place of performance");
    assert_null(strstr(f->w.why, "(4) how"));
    assert_null(strstr(f->w.why, "(5)")); /* the signing itself is not missing */
    assert_unchanged(f, id, &before);
    char text[64];
    assert_int_equal(field_text(f, "agreements", agreement, "signed_at", text, sizeof text), 0);
    assert_int_equal(workflow_agreement_editable(&f->w, agreement), 0);

    put_text(f, "agreements", agreement, "rights_obligations", "李四退让半米");
    put_text(f, "agreements", agreement, "performance_place", "白沙村委会");
    int64_t seq = replica_own_seq(f->replica);
    assert_int_equal(workflow_agreement_sign(&f->w, agreement), 0);
    assert_true(replica_own_seq(f->replica) > seq);
    assert_int_equal(field_int(f, "agreements", agreement, "parties_signed"), 1);
    assert_int_equal(field_int(f, "agreements", agreement, "mediator_signed"), 1);
    assert_int_equal(field_int(f, "agreements", agreement, "sealed"), 1);
    assert_int_equal(field_text(f, "agreements", agreement, "signed_at", text, sizeof text), 1);
    assert_string_equal(text, NOW);
    struct event ev;
    latest_event(f, id, "agreement", &ev);
    assert_string_equal(ev.detail, "signed");
    assert_string_equal(ev.date, TODAY);
    assert_case_text(f, id, "status", "agreement");
    latest_event(f, id, "status", &ev);
    assert_string_equal(ev.detail, "agreement");
    assert_int_equal(count_events(f, id, NULL), 2);

    /* Signed means locked. */
    assert_int_equal(workflow_agreement_editable(&f->w, agreement), RULES_E_LOCKED);
    assert_why_has(f, "supplementary");
    snap(f, id, &before);
    assert_int_equal(workflow_agreement_sign(&f->w, agreement), RULES_E_LOCKED);
    assert_unchanged(f, id, &before);

    const char *missing = "0190f5a2-7b3c-7d4e-8f5a-6b7c8d9e0a99";
    assert_int_equal(workflow_agreement_editable(&f->w, missing), SYNC_E_NOT_FOUND);
    assert_int_equal(workflow_agreement_sign(&f->w, missing), SYNC_E_NOT_FOUND);
    assert_unchanged(f, id, &before);

    /* An agreement whose case this ledger does not hold cannot be signed,
     * and the refusal leaves it unsigned. */
    char orphan[UUID7_STRLEN + 1];
    new_agreement(f, missing, orphan);
    snap(f, NULL, &before);
    assert_int_equal(workflow_agreement_sign(&f->w, orphan), SYNC_E_NOT_FOUND);
    assert_unchanged(f, NULL, &before);
    assert_int_equal(field_text(f, "agreements", orphan, "signed_at", text, sizeof text), 0);
    assert_int_equal(workflow_agreement_editable(&f->w, orphan), 0);
}

static void test_agreement_incomplete_in_chinese(void **state)
{
    struct fixture *f = *state;
    char id[UUID7_STRLEN + 1], agreement[UUID7_STRLEN + 1];
    new_case(f, "dispute", "mediating", id);
    new_agreement(f, id, agreement);
    put_text(f, "agreements", agreement, "performance_deadline", "");
    f->w.lang = "zh";
    assert_int_equal(workflow_agreement_sign(&f->w, agreement), RULES_E_INCOMPLETE);
    assert_why_has(f, "（四）履行期限");
    assert_case_text(f, id, "status", "mediating");
}

/* ---- case numbers ---- */

static void next_case_no(struct fixture *f, const char *code, const char *expected)
{
    char buf[RULES_CASE_NO_MAX];
    int rc = workflow_case_no(&f->w, VILLAGE, "白沙村", code, buf, sizeof buf);
    if (rc != 0) {
        fail_msg("workflow_case_no %s: %d (%s)", code, rc, f->w.why);
    }
    assert_string_equal(buf, expected);
}

static void test_case_no(void **state)
{
    struct fixture *f = *state;
    next_case_no(f, "A3", "（2026）白沙调字第A3-0001号");
    next_case_no(f, "A3", "（2026）白沙调字第A3-0002号");

    /* A number of this device already in the ledger (made before a
     * reinstall, or synced back) is never made again. */
    char id[UUID7_STRLEN + 1];
    new_case(f, "dispute", "registered", id);
    put_text(f, "cases", id, "case_no", "（2026）白沙调字第A3-0041号");
    next_case_no(f, "A3", "（2026）白沙调字第A3-0042号");
    /* Numbers of other devices and other years do not count. */
    char other[UUID7_STRLEN + 1];
    new_case(f, "dispute", "registered", other);
    put_text(f, "cases", other, "case_no", "（2025）白沙调字第A3-0900号");
    new_case(f, "dispute", "registered", other);
    put_text(f, "cases", other, "case_no", "（2026）白沙调字第B7-0500号");
    next_case_no(f, "A3", "（2026）白沙调字第A3-0043号");

    /* Typed by hand, with ASCII brackets or a lower-case code: the same
     * numbers, so they count as well. */
    new_case(f, "dispute", "registered", other);
    put_text(f, "cases", other, "case_no", "(2026)白沙调字第A3-0050号");
    next_case_no(f, "A3", "（2026）白沙调字第A3-0051号");
    new_case(f, "dispute", "registered", other);
    put_text(f, "cases", other, "case_no", "（2026）白沙调字第a3-0060号");
    next_case_no(f, "A3", "（2026）白沙调字第A3-0061号");

    /* Another device counts on its own. */
    next_case_no(f, "C4", "（2026）白沙调字第C4-0001号");
    next_case_no(f, "B7", "（2026）白沙调字第B7-0501号");

    char buf[RULES_CASE_NO_MAX];
    const char *bad[] = {"a3", "3A", "A", "A33", "I1", "", NULL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(workflow_case_no(&f->w, VILLAGE, "白沙村", bad[i], buf, sizeof buf),
                         RULES_E_ARG);
    }
    assert_int_equal(workflow_case_no(&f->w, VILLAGE, "白沙村", "A3", buf, 8), RULES_E_SPACE);

    /* The counter lives in the ledger file. */
    replica_close(f->replica);
    f->replica = NULL;
    open_replica(f);
    next_case_no(f, "A3", "（2026）白沙调字第A3-0062号");

    /* A new year starts again at 1; the old year's counter is kept. */
    f->w.today = (struct rules_date){2027, 1, 2};
    next_case_no(f, "A3", "（2027）白沙调字第A3-0001号");
    next_case_no(f, "A3", "（2027）白沙调字第A3-0002号");
    f->w.today = (struct rules_date){2026, 12, 31};
    next_case_no(f, "A3", "（2026）白沙调字第A3-0063号");

    /* The last number there can be was made: no more this year. */
    new_case(f, "dispute", "registered", other);
    put_text(f, "cases", other, "case_no", "（2026）白沙调字第A3-999999号");
    assert_int_equal(workflow_case_no(&f->w, VILLAGE, "白沙村", "A3", buf, sizeof buf),
                     RULES_E_RANGE);
    assert_string_equal(buf, "");
    next_case_no(f, "B7", "（2026）白沙调字第B7-0502号");
}

/* ---- units of work ---- */

static void test_nested_units_of_work(void **state)
{
    struct fixture *f = *state;
    char id[UUID7_STRLEN + 1];
    new_case(f, "dispute", "registered", id);
    struct snapshot before;
    snap(f, id, &before);

    assert_int_equal(replica_begin(f->replica), 0);
    assert_int_equal(workflow_status(&f->w, id, RULES_STATUS_ACCEPTED, NULL), 0);
    assert_int_equal(workflow_escalate(&f->w, id, 2, NULL), 0);
    assert_case_text(f, id, "status", "accepted");
    replica_rollback(f->replica);
    assert_unchanged(f, id, &before);
    assert_case_text(f, id, "accepted_on", NULL);
    assert_case_text(f, id, "level", NULL);

    /* A refused step inside the caller's unit undoes only itself. */
    assert_int_equal(replica_begin(f->replica), 0);
    assert_int_equal(workflow_status(&f->w, id, RULES_STATUS_ACCEPTED, NULL), 0);
    assert_int_equal(workflow_status(&f->w, id, RULES_STATUS_ARCHIVED, NULL), RULES_E_TRANSITION);
    assert_int_equal(workflow_status(&f->w, id, RULES_STATUS_MEDIATING, NULL), 0);
    assert_int_equal(replica_commit(f->replica), 0);
    assert_case_text(f, id, "status", "mediating");
    assert_case_text(f, id, "accepted_on", TODAY);
    assert_int_equal(count_events(f, id, "status"), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_status_allowed_moves, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_illegal_moves, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_unknown_counts_as_registered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_dates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conclude_petition_needs_result_notice, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_conclude_needs_signed_agreement, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_referred_is_a_transfer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_of_missing_case, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transfer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escalate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_notes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_result_notice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_opinion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_followup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_extend, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_level, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mediator, setup, teardown),
        cmocka_unit_test_setup_teardown(test_correction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reveal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_agreement_sign, setup, teardown),
        cmocka_unit_test_setup_teardown(test_agreement_incomplete_in_chinese, setup, teardown),
        cmocka_unit_test_setup_teardown(test_case_no, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nested_units_of_work, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
