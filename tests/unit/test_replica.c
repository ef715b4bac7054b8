/* SPDX-License-Identifier: MIT */
/*
 * test_replica.c - the replica store on real SQLite files: local writes and
 * their journal, merging received changes, acknowledgements and gaps,
 * partition refusals, conflict records, pulls and the canonical export; the
 * packed stamps of a record and the upgrade from one stamp row per field;
 * the journal's form of a change. Replicas here use the ledger schema, the
 * one Hamlet ships.
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

#include "hlc.h"
#include "ledger_schema.h"
#include "replica.h"
#include "stamps.h"
#include "sync_error.h"
#include "uuid7.h"

#include <cjson/cJSON.h>

extern const struct migration engine_migrations[];

struct fixture {
    char dir[64];
    struct replica_config hub_config, device_config;
    struct replica *hub, *a1, *a2, *b1; /* a1, a2 in village "a"; b1 in "b" */
};

static int64_t fake_ms = 1767225600000; /* 2026-01-01 */

static int64_t fake_wall(void *ctx)
{
    (void)ctx;
    return fake_ms;
}

static struct replica *open_at(struct fixture *f, const char *name, int hub)
{
    char path[128], why[256];
    snprintf(path, sizeof path, "%s/%s.db", f->dir, name);
    struct replica *r = NULL;
    int rc = replica_open(path, hub ? &f->hub_config : &f->device_config, &r, why, sizeof why);
    if (rc != 0) {
        fprintf(stderr, "replica_open %s: %s (%s)\n", path, sync_strerror(rc), why);
    }
    assert_int_equal(rc, 0);
    hlc_set_wall(replica_clock(r), fake_wall, NULL);
    return r;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/hamlet-test-replica-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    ledger_schema_config(&f->hub_config, 1);
    ledger_schema_config(&f->device_config, 0);
    f->hub = open_at(f, "hub", 1);
    f->a1 = open_at(f, "a1", 0);
    f->a2 = open_at(f, "a2", 0);
    f->b1 = open_at(f, "b1", 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    replica_close(f->hub);
    replica_close(f->a1);
    replica_close(f->a2);
    replica_close(f->b1);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static struct sync_value text(const char *s)
{
    return (struct sync_value){.type = SYNC_TEXT, .s = s};
}

static struct sync_value integer(int64_t i)
{
    return (struct sync_value){.type = SYNC_INT, .i = i};
}

static void new_case(struct replica *r, const char *village, char id[UUID7_STRLEN + 1],
                     const char *status)
{
    assert_int_equal(uuid7_now(id), 0);
    const char *cols[] = {"title", "status", "severity", "created_at"};
    struct sync_value vals[] = {text("邻里纠纷"), text(status), integer(2),
                                text("2026-01-01T08:00:00+08:00")};
    int changed = -1;
    assert_int_equal(replica_put(r, "cases", id, village, 4, cols, vals, &changed), 0);
    assert_int_equal(changed, 1);
}

static void set_status(struct replica *r, const char *village, const char *id, const char *status)
{
    const char *cols[] = {"status"};
    struct sync_value vals[] = {text(status)};
    assert_int_equal(replica_put(r, "cases", id, village, 1, cols, vals, NULL), 0);
}

/* Read one text column of a case, into out. */
static void case_field(struct replica *r, const char *id, const char *col, char *out, size_t n)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT %s FROM cases WHERE id = ?1", col);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(replica_db(r), sql, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const char *v = (const char *)sqlite3_column_text(st, 0);
    snprintf(out, n, "%s", v ? v : "(null)");
    sqlite3_finalize(st);
}

static int64_t count(struct replica *r, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(replica_db(r), sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* One push from device to hub, through the real encoding and envelope. */
static struct replica_apply_result push(struct replica *hub, struct replica *dev,
                                        const char *village, int64_t after, struct delta **reply)
{
    const struct schema *schema = ledger_schema_get();
    struct delta *out = delta_new(DELTA_PUSH);
    assert_non_null(out);
    out->node = replica_node(dev);
    snprintf(out->part, sizeof out->part, "%s", village);
    assert_int_equal(replica_pending(dev, after, 1 << 20, out), 0);
    uint8_t *wire;
    size_t wire_len;
    assert_int_equal(delta_pack(schema, out, 6, &wire, &wire_len), 0);
    delta_free(out);

    struct envelope_limits limits;
    envelope_limits_default(&limits);
    struct delta *in;
    char why[200];
    assert_int_equal(delta_unpack(schema, &limits, wire, wire_len, &in, why, sizeof why), 0);
    free(wire);
    struct replica_apply_opts opts = {replica_node(dev), village, 1};
    struct replica_apply_result result;
    struct delta *refusals = delta_new(DELTA_REPLY);
    assert_int_equal(replica_apply(hub, in, &opts, &result, refusals), 0);
    delta_free(in);
    if (reply) {
        *reply = refusals;
    } else {
        delta_free(refusals);
    }
    return result;
}

/* Pull everything for village from hub into dev; returns changes applied. */
static size_t pull(struct replica *hub, struct replica *dev, const char *village)
{
    size_t applied = 0;
    int64_t cursor = replica_meta_int(dev, "test.cursor", 0);
    for (;;) {
        struct delta *d = delta_new(DELTA_REPLY);
        assert_int_equal(replica_changes_since(hub, cursor, village, replica_node(dev), 4096, d),
                         0);
        struct replica_apply_opts opts = {replica_node(hub), village, 0};
        struct replica_apply_result result;
        assert_int_equal(replica_apply(dev, d, &opts, &result, NULL), 0);
        applied += result.applied;
        cursor = d->cursor;
        int more = d->more;
        delta_free(d);
        if (!more) {
            break;
        }
    }
    assert_int_equal(replica_set_meta_int(dev, "test.cursor", cursor), 0);
    return applied;
}

struct buffer {
    char *data;
    size_t len;
};

static int to_buffer(void *ctx, const char *line, size_t len)
{
    struct buffer *b = ctx;
    b->data = realloc(b->data, b->len + len + 1);
    memcpy(b->data + b->len, line, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

static char *export(struct replica *r, const char *village)
{
    struct buffer b = {calloc(1, 1), 0};
    assert_int_equal(replica_export(r, village, to_buffer, &b), 0);
    return b.data;
}

static void assert_same_export(struct replica *x, struct replica *y, const char *village)
{
    char *ex = export(x, village), *ey = export(y, village);
    assert_string_equal(ex, ey);
    free(ex);
    free(ey);
}

/* ---- tests ---- */

static void test_put_journals_only_changes(void **state)
{
    struct fixture *f = *state;
    char id[UUID7_STRLEN + 1];
    new_case(f->a1, "a", id, "registered");
    assert_int_equal(replica_own_seq(f->a1), 1);
    assert_int_equal(count(f->a1, "SELECT count(*) FROM hl_log"), 1);

    /* The same values again change nothing and journal nothing. */
    const char *cols[] = {"title", "status"};
    struct sync_value same[] = {text("邻里纠纷"), text("registered")};
    int changed = -1;
    assert_int_equal(replica_put(f->a1, "cases", id, "a", 2, cols, same, &changed), 0);
    assert_int_equal(changed, 0);
    assert_int_equal(replica_own_seq(f->a1), 1);

    /* One field changed: one change holding just that field. */
    struct sync_value one[] = {text("邻里纠纷"), text("accepted")};
    assert_int_equal(replica_put(f->a1, "cases", id, "a", 2, cols, one, &changed), 0);
    assert_int_equal(changed, 1);
    struct delta *d = delta_new(DELTA_PUSH);
    assert_int_equal(replica_pending(f->a1, 1, 1 << 20, d), 0);
    assert_int_equal(d->nchanges, 1);
    assert_int_equal(d->changes[0].nfields, 1);
    assert_int_equal(d->changes[0].seq, 2);
    assert_true(d->changes[0].fields[0].prev_hlc != 0);
    assert_int_equal(d->changes[0].fields[0].prev_node, replica_node(f->a1));
    delta_free(d);
    char status[32];
    case_field(f->a1, id, "status", status, sizeof status);
    assert_string_equal(status, "accepted");
}

static void test_put_errors_write_nothing(void **state)
{
    struct fixture *f = *state;
    char id[UUID7_STRLEN + 1];
    new_case(f->a1, "a", id, "registered");
    const char *bad_col[] = {"no_such_column"};
    const char *sev[] = {"severity"};
    const char *created[] = {"created_at"};
    struct sync_value t = text("x");
    assert_int_equal(replica_put(f->a1, "cases", id, "a", 1, bad_col, &t, NULL),
                     SYNC_E_UNKNOWN_COLUMN);
    assert_int_equal(replica_put(f->a1, "nope", id, "a", 1, sev, &t, NULL), SYNC_E_UNKNOWN_TABLE);
    assert_int_equal(replica_put(f->a1, "cases", id, "a", 1, sev, &t, NULL), SYNC_E_FIELD_TYPE);
    assert_int_equal(replica_put(f->a1, "cases", id, "b", 1, created, &t, NULL), SYNC_E_PARTITION);
    assert_int_equal(replica_put(f->a1, "cases", id, "a", 1, created, &t, NULL), SYNC_E_IMMUTABLE);
    assert_int_equal(replica_put(f->a1, "cases", "not-a-uuid", "a", 1, created, &t, NULL),
                     SYNC_E_ARG);
    struct sync_value bad_utf8 = text("\xff\xfe");
    const char *title[] = {"title"};
    assert_int_equal(replica_put(f->a1, "cases", id, "a", 1, title, &bad_utf8, NULL),
                     SYNC_E_FIELD_TYPE);
    assert_int_equal(replica_put(f->a1, "events", id, "a", 1, title, &t, NULL), SYNC_E_APPEND_ONLY);
    assert_int_equal(replica_own_seq(f->a1), 1);
    assert_int_equal(count(f->a1, "SELECT count(*) FROM hl_log"), 1);
}

static void test_integers_stay_exact(void **state)
{
    struct fixture *f = *state;
    char id[UUID7_STRLEN + 1];
    new_case(f->a1, "a", id, "registered");
    const char *sev[] = {"severity"};
    /* Integers travel as JSON numbers: beyond 2^53 they would not arrive intact. */
    struct sync_value huge = integer(9007199254740993LL);
    assert_int_equal(replica_put(f->a1, "cases", id, "a", 1, sev, &huge, NULL), SYNC_E_FIELD_TYPE);
    struct sync_value edge = integer(9007199254740992LL);
    assert_int_equal(replica_put(f->a1, "cases", id, "a", 1, sev, &edge, NULL), 0);
    /* The exact value goes out, arrives, and is exported as written. */
    push(f->hub, f->a1, "a", 0, NULL);
    char *e = export(f->hub, "a");
    assert_non_null(strstr(e, "\"severity\":9007199254740992,"));
    free(e);
    assert_same_export(f->hub, f->a1, "a");
}

static void test_append_and_delete(void **state)
{
    struct fixture *f = *state;
    char case_id[UUID7_STRLEN + 1], ev[UUID7_STRLEN + 1];
    new_case(f->a1, "a", case_id, "registered");
    assert_int_equal(uuid7_now(ev), 0);
    const char *cols[] = {"case_id", "date", "kind", "note"};
    struct sync_value vals[] = {text(case_id), text("2026-01-02"), text("visit"), text("走访双方")};
    assert_int_equal(replica_append(f->a1, "events", ev, "a", 4, cols, vals), 0);
    /* Appending the same row again is a no-op; another row under its id is refused. */
    assert_int_equal(replica_append(f->a1, "events", ev, "a", 4, cols, vals), 0);
    vals[3] = text("改过的记录");
    assert_int_equal(replica_append(f->a1, "events", ev, "a", 4, cols, vals), SYNC_E_APPEND_ONLY);
    assert_int_equal(replica_delete(f->a1, "events", ev), SYNC_E_APPEND_ONLY);
    assert_int_equal(replica_own_seq(f->a1), 2);

    assert_int_equal(replica_delete(f->a1, "cases", case_id), 0);
    assert_int_equal(replica_delete(f->a1, "cases", case_id), 0); /* already deleted */
    assert_int_equal(replica_own_seq(f->a1), 3);
    char deleted[8];
    case_field(f->a1, case_id, "deleted", deleted, sizeof deleted);
    assert_string_equal(deleted, "1");
    char missing[UUID7_STRLEN + 1];
    assert_int_equal(uuid7_now(missing), 0);
    assert_int_equal(replica_delete(f->a1, "cases", missing), SYNC_E_NOT_FOUND);

    /* The tombstone travels, and the row stays in the export. */
    push(f->hub, f->a1, "a", 0, NULL);
    assert_same_export(f->hub, f->a1, "a");
    char *e = export(f->hub, "a");
    assert_non_null(strstr(e, "\"deleted\":1"));
    assert_non_null(strstr(e, "走访双方"));
    free(e);
}

static void test_push_is_idempotent_and_gap_resumes(void **state)
{
    struct fixture *f = *state;
    char id[UUID7_STRLEN + 1];
    new_case(f->a1, "a", id, "registered");
    set_status(f->a1, "a", id, "accepted");
    set_status(f->a1, "a", id, "mediating");

    struct replica_apply_result r1 = push(f->hub, f->a1, "a", 0, NULL);
    assert_int_equal(r1.applied, 3);
    assert_int_equal(r1.acked, 3);
    int64_t log_rows = count(f->hub, "SELECT count(*) FROM hl_log");
    char *before = export(f->hub, NULL);

    /* The same batch again, any number of times: nothing changes. */
    for (int i = 0; i < 3; i++) {
        struct replica_apply_result again = push(f->hub, f->a1, "a", 0, NULL);
        assert_int_equal(again.applied, 0);
        assert_int_equal(again.duplicates, 3);
        assert_int_equal(again.acked, 3);
    }
    assert_int_equal(count(f->hub, "SELECT count(*) FROM hl_log"), log_rows);
    char *after = export(f->hub, NULL);
    assert_string_equal(before, after);
    free(before);
    free(after);

    /* A batch that starts past the acknowledgement: resume from 4. */
    set_status(f->a1, "a", id, "agreement");
    set_status(f->a1, "a", id, "closed");
    struct replica_apply_result gap = push(f->hub, f->a1, "a", 4, NULL);
    assert_int_equal(gap.applied, 0);
    assert_int_equal(gap.resume_from, 4);
    assert_int_equal(gap.acked, 3);
    struct replica_apply_result resumed = push(f->hub, f->a1, "a", 3, NULL);
    assert_int_equal(resumed.applied, 2);
    assert_int_equal(resumed.acked, 5);
    assert_same_export(f->hub, f->a1, "a");
}

static void test_foreign_partition_refused_rest_arrives(void **state)
{
    struct fixture *f = *state;
    char own[UUID7_STRLEN + 1], foreign[UUID7_STRLEN + 1];
    new_case(f->a1, "a", own, "registered");
    new_case(f->a1, "b", foreign, "registered"); /* a device writing another village */
    set_status(f->a1, "a", own, "accepted");

    struct delta *reply;
    struct replica_apply_result r = push(f->hub, f->a1, "a", 0, &reply);
    assert_int_equal(r.applied, 2);
    assert_int_equal(r.refused, 1);
    assert_int_equal(r.acked, 3); /* the refused change is answered, not retried */
    assert_int_equal(reply->nrefused, 1);
    assert_int_equal(reply->refused[0].seq, 2);
    assert_int_equal(reply->refused[0].code, SYNC_E_PARTITION);
    assert_non_null(strstr(reply->refused[0].message, foreign));
    delta_free(reply);
    assert_int_equal(count(f->hub, "SELECT count(*) FROM hl_refused"), 1);
    assert_int_equal(count(f->hub, "SELECT count(*) FROM cases WHERE village = 'b'"), 0);
    char status[32];
    case_field(f->hub, own, "status", status, sizeof status);
    assert_string_equal(status, "accepted");

    /* A record of village b written by b1 cannot be taken over by a1. */
    char bcase[UUID7_STRLEN + 1];
    new_case(f->b1, "b", bcase, "registered");
    push(f->hub, f->b1, "b", 0, NULL);
    const char *cols[] = {"status"};
    struct sync_value v = text("closed");
    assert_int_equal(replica_put(f->a1, "cases", bcase, "a", 1, cols, &v, NULL), 0);
    r = push(f->hub, f->a1, "a", 3, NULL);
    assert_int_equal(r.refused, 1);
    case_field(f->hub, bcase, "status", status, sizeof status);
    assert_string_equal(status, "registered");
}

static void test_pushed_change_of_another_node_refused_whole(void **state)
{
    struct fixture *f = *state;
    char id[UUID7_STRLEN + 1];
    new_case(f->a1, "a", id, "registered");
    struct delta *d = delta_new(DELTA_PUSH);
    assert_int_equal(replica_pending(f->a1, 0, 1 << 20, d), 0);
    struct replica_apply_opts opts = {replica_node(f->a2), "a", 1}; /* claims to be a2 */
    struct replica_apply_result result;
    assert_int_equal(replica_apply(f->hub, d, &opts, &result, NULL), SYNC_E_ORIGIN);
    assert_int_equal(result.applied, 0);
    assert_int_equal(count(f->hub, "SELECT count(*) FROM hl_log"), 0);
    delta_free(d);
}

static void test_concurrent_edit_makes_one_conflict(void **state)
{
    struct fixture *f = *state;
    char id[UUID7_STRLEN + 1];
    new_case(f->a1, "a", id, "registered");
    push(f->hub, f->a1, "a", 0, NULL);
    pull(f->hub, f->a2, "a");
    assert_same_export(f->a1, f->a2, "a");

    /* Both laptops change the status without seeing each other. */
    fake_ms += 1000;
    set_status(f->a1, "a", id, "mediating");
    fake_ms += 1000;
    set_status(f->a2, "a", id, "referred");
    /* And a sequential edit elsewhere that must not count. */
    const char *cols[] = {"claims"};
    struct sync_value claims = text("赔偿损失");
    assert_int_equal(replica_put(f->a1, "cases", id, "a", 1, cols, &claims, NULL), 0);

    struct replica_apply_result r1 = push(f->hub, f->a1, "a", 1, NULL);
    assert_int_equal(r1.conflicts, 0);
    struct replica_apply_result r2 = push(f->hub, f->a2, "a", 0, NULL);
    assert_int_equal(r2.conflicts, 1);
    assert_int_equal(count(f->hub, "SELECT count(*) FROM hl_conflict WHERE col = 'status'"
                                   " AND standing_value = 'mediating'"
                                   " AND incoming_value = 'referred'"
                                   " AND winner = 'incoming'"),
                     1);
    pull(f->hub, f->a1, "a");
    pull(f->hub, f->a2, "a");
    /* The later stamp stands everywhere. */
    char status[32];
    case_field(f->a1, id, "status", status, sizeof status);
    assert_string_equal(status, "referred");
    assert_same_export(f->hub, f->a1, "a");
    assert_same_export(f->hub, f->a2, "a");

    /* Pushing again raises nothing new. */
    push(f->hub, f->a2, "a", 0, NULL);
    assert_int_equal(count(f->hub, "SELECT count(*) FROM hl_conflict"), 1);

    /* Concurrent edits to the same value are not conflicts. */
    set_status(f->a1, "a", id, "closed");
    set_status(f->a2, "a", id, "closed");
    push(f->hub, f->a1, "a", 3, NULL);
    push(f->hub, f->a2, "a", 1, NULL);
    assert_int_equal(count(f->hub, "SELECT count(*) FROM hl_conflict"), 1);
}

static void test_resolution_is_an_ordinary_change(void **state)
{
    struct fixture *f = *state;
    char id[UUID7_STRLEN + 1];
    new_case(f->a1, "a", id, "registered");
    push(f->hub, f->a1, "a", 0, NULL);
    pull(f->hub, f->a2, "a");
    set_status(f->a1, "a", id, "mediating");
    set_status(f->a2, "a", id, "referred");
    push(f->hub, f->a1, "a", 1, NULL);
    push(f->hub, f->a2, "a", 0, NULL);
    int64_t conflict = count(f->hub, "SELECT max(id) FROM hl_conflict");
    assert_int_equal(count(f->hub, "SELECT count(*) FROM hl_conflict WHERE resolved_ms IS NULL"),
                     1);
    /* The reviewer keeps the value that lost. */
    struct sync_value v = text("mediating");
    assert_int_equal(replica_resolve_conflict(f->hub, conflict, &v, "kept mediating"), 0);
    assert_int_equal(count(f->hub, "SELECT count(*) FROM hl_conflict WHERE resolved_ms IS NULL"),
                     0);
    assert_int_equal(replica_resolve_conflict(f->hub, conflict, &v, "again"), SYNC_E_STATE);
    assert_int_equal(replica_resolve_conflict(f->hub, conflict + 99, &v, "none"), SYNC_E_NOT_FOUND);
    /* The decision reaches both laptops at their next sync, and raises no
     * new conflict. */
    pull(f->hub, f->a1, "a");
    pull(f->hub, f->a2, "a");
    char status[32];
    case_field(f->a1, id, "status", status, sizeof status);
    assert_string_equal(status, "mediating");
    case_field(f->a2, id, "status", status, sizeof status);
    assert_string_equal(status, "mediating");
    assert_same_export(f->hub, f->a2, "a");
    set_status(f->a2, "a", id, "closed");
    push(f->hub, f->a2, "a", 1, NULL);
    assert_int_equal(count(f->hub, "SELECT count(*) FROM hl_conflict"), 1);
}

static void test_hub_write_travels_down(void **state)
{
    struct fixture *f = *state;
    char id[UUID7_STRLEN + 1];
    new_case(f->a1, "a", id, "registered");
    push(f->hub, f->a1, "a", 0, NULL);
    /* A township decision is an ordinary change made at the hub. */
    const char *cols[] = {"level"};
    struct sync_value v = integer(3);
    assert_int_equal(replica_put(f->hub, "cases", id, "a", 1, cols, &v, NULL), 0);
    assert_int_equal(pull(f->hub, f->a1, "a"), 1);
    assert_int_equal(pull(f->hub, f->a2, "a"), 2);
    assert_int_equal(pull(f->hub, f->b1, "b"), 0);
    char level[8];
    case_field(f->a1, id, "level", level, sizeof level);
    assert_string_equal(level, "3");
    assert_same_export(f->hub, f->a2, "a");
    /* Pulling again brings nothing and changes nothing. */
    assert_int_equal(pull(f->hub, f->a1, "a"), 0);
}

static void test_pull_pages_and_is_idempotent(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < 50; i++) {
        char id[UUID7_STRLEN + 1];
        new_case(f->a1, "a", id, "registered");
    }
    push(f->hub, f->a1, "a", 0, NULL);
    struct delta *d = delta_new(DELTA_REPLY);
    assert_int_equal(replica_changes_since(f->hub, 0, "a", 0, 2000, d), 0);
    assert_true(d->nchanges > 0 && d->nchanges < 50);
    assert_true(d->more);
    /* Applying one page twice is the same as once. */
    struct replica_apply_opts opts = {replica_node(f->hub), "a", 0};
    struct replica_apply_result r;
    assert_int_equal(replica_apply(f->a2, d, &opts, &r, NULL), 0);
    assert_int_equal(r.applied, d->nchanges);
    assert_int_equal(replica_apply(f->a2, d, &opts, &r, NULL), 0);
    assert_int_equal(r.applied, 0);
    assert_int_equal(r.duplicates, d->nchanges);
    size_t first_page = d->nchanges;
    delta_free(d);
    /* A pull from the start skips what the first page brought. */
    assert_int_equal(pull(f->hub, f->a2, "a"), 50 - first_page);
    assert_same_export(f->hub, f->a2, "a");
}

static void test_write_above_a_future_stamp(void **state)
{
    struct fixture *f = *state;
    char id[UUID7_STRLEN + 1];
    /* a1's clock is 200 days ahead. */
    int64_t now = fake_ms;
    fake_ms = now + 200LL * 86400 * 1000;
    new_case(f->a1, "a", id, "registered");
    fake_ms = now;
    push(f->hub, f->a1, "a", 0, NULL);
    /* The hub's clock refused to follow, yet its later edit must win. */
    assert_true(HLC_MS(hlc_last(replica_clock(f->hub))) < now + 86400000);
    set_status(f->hub, "a", id, "accepted");
    pull(f->hub, f->a2, "a");
    char status[32];
    case_field(f->a2, id, "status", status, sizeof status);
    assert_string_equal(status, "accepted");
    pull(f->hub, f->a1, "a");
    assert_same_export(f->hub, f->a1, "a");
    assert_int_equal(count(f->hub, "SELECT count(*) FROM hl_conflict"), 0);
}

static void test_reopen_keeps_node_and_sequence(void **state)
{
    struct fixture *f = *state;
    char id[UUID7_STRLEN + 1];
    new_case(f->a1, "a", id, "registered");
    uint64_t node = replica_node(f->a1);
    uint64_t last = hlc_last(replica_clock(f->a1));
    replica_close(f->a1);
    f->a1 = open_at(f, "a1", 0);
    assert_int_equal(replica_node(f->a1), node);
    assert_int_equal(replica_own_seq(f->a1), 1);
    assert_true(hlc_last(replica_clock(f->a1)) >= last);
    set_status(f->a1, "a", id, "accepted");
    assert_int_equal(replica_own_seq(f->a1), 2);
    assert_true(replica_node(f->a1) != replica_node(f->a2));
}

static void test_two_handles_share_one_sequence(void **state)
{
    struct fixture *f = *state;
    /* The hub's command line writes beside its running server. */
    struct replica *other = open_at(f, "hub", 1);
    char id[UUID7_STRLEN + 1];
    new_case(f->hub, "a", id, "registered");
    set_status(other, "a", id, "accepted");
    set_status(f->hub, "a", id, "mediating");
    set_status(other, "a", id, "closed");
    assert_int_equal(replica_own_seq(f->hub), 4);
    assert_int_equal(replica_own_seq(other), 4);
    assert_int_equal(count(f->hub, "SELECT count(DISTINCT seq) FROM hl_log"), 4);
    /* Each write was stamped above the one before, whoever made it. */
    assert_int_equal(count(f->hub, "SELECT count(*) FROM hl_log a JOIN hl_log b"
                                   " ON b.seq = a.seq + 1 WHERE b.hlc <= a.hlc"),
                     0);
    char status[32];
    case_field(f->hub, id, "status", status, sizeof status);
    assert_string_equal(status, "closed");
    replica_close(other);
}

static void test_caller_transaction_rolls_back(void **state)
{
    struct fixture *f = *state;
    char id[UUID7_STRLEN + 1];
    new_case(f->a1, "a", id, "registered");
    assert_int_equal(replica_begin(f->a1), 0);
    set_status(f->a1, "a", id, "accepted");
    set_status(f->a1, "a", id, "mediating");
    assert_int_equal(replica_own_seq(f->a1), 3);
    replica_rollback(f->a1);
    assert_int_equal(replica_own_seq(f->a1), 1);
    char status[32];
    case_field(f->a1, id, "status", status, sizeof status);
    assert_string_equal(status, "registered");
    assert_int_equal(count(f->a1, "SELECT count(*) FROM hl_log"), 1);

    assert_int_equal(replica_begin(f->a1), 0);
    set_status(f->a1, "a", id, "accepted");
    assert_int_equal(replica_commit(f->a1), 0);
    assert_int_equal(replica_own_seq(f->a1), 2);
    assert_int_equal(replica_commit(f->a1), SYNC_E_STATE);

    /* Nested units: the inner one rolled back alone, then the outer kept;
     * an inner commit is undone by the outer rollback. */
    assert_int_equal(replica_begin(f->a1), 0);
    set_status(f->a1, "a", id, "mediating");
    assert_int_equal(replica_begin(f->a1), 0);
    set_status(f->a1, "a", id, "failed");
    assert_int_equal(replica_own_seq(f->a1), 4);
    replica_rollback(f->a1);
    assert_int_equal(replica_own_seq(f->a1), 3);
    case_field(f->a1, id, "status", status, sizeof status);
    assert_string_equal(status, "mediating");
    assert_int_equal(replica_commit(f->a1), 0);
    assert_int_equal(count(f->a1, "SELECT count(*) FROM hl_log"), 3);

    assert_int_equal(replica_begin(f->a1), 0);
    assert_int_equal(replica_begin(f->a1), 0);
    set_status(f->a1, "a", id, "agreement");
    assert_int_equal(replica_commit(f->a1), 0);
    replica_rollback(f->a1);
    assert_int_equal(replica_own_seq(f->a1), 3);
    case_field(f->a1, id, "status", status, sizeof status);
    assert_string_equal(status, "mediating");
    assert_int_equal(replica_commit(f->a1), SYNC_E_STATE);
}

static void test_meta(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(replica_meta_int(f->a1, "agent.cursor", -7), -7);
    assert_int_equal(replica_set_meta_int(f->a1, "agent.cursor", 42), 0);
    assert_int_equal(replica_meta_int(f->a1, "agent.cursor", -7), 42);
    char buf[32];
    assert_int_equal(replica_meta_text(f->a1, "agent.hub", buf, sizeof buf), SYNC_E_NOT_FOUND);
    assert_int_equal(replica_set_meta_text(f->a1, "agent.hub", "https://hub:8443"), 0);
    assert_int_equal(replica_meta_text(f->a1, "agent.hub", buf, sizeof buf), 0);
    assert_string_equal(buf, "https://hub:8443");
}

static void test_open_refuses_mismatched_tables(void **state)
{
    struct fixture *f = *state;
    char path[128], why[256];
    snprintf(path, sizeof path, "%s/odd.db", f->dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    /* A database whose ledger migration left out a column. */
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE hl_migration (component TEXT, version INTEGER,"
                                  " name TEXT, applied_at TEXT, PRIMARY KEY (component,"
                                  " version)) WITHOUT ROWID;"
                                  "INSERT INTO hl_migration VALUES ('ledger', 1, 'x', 'now');"
                                  "INSERT INTO hl_migration VALUES ('ledger', 2, 'y', 'now');"
                                  "CREATE TABLE cases (id TEXT PRIMARY KEY, village TEXT);",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    struct replica *r = NULL;
    assert_int_equal(replica_open(path, &f->device_config, &r, why, sizeof why), SYNC_E_SCHEMA);
    assert_null(r);
    assert_non_null(strstr(why, "cases"));
}

/* ---- stamps, the upgrade, the journal's form ---- */

struct collected {
    char names[300][STAMPS_NAME_MAX + 1];
    uint64_t hlc[300], node[300];
    size_t n;
};

static int collect_field(void *ctx, const struct stamps_field *f)
{
    struct collected *c = ctx;
    assert_true(c->n < 300);
    memcpy(c->names[c->n], f->name, f->name_len);
    c->names[c->n][f->name_len] = '\0';
    c->hlc[c->n] = f->hlc;
    c->node[c->n++] = f->node;
    return 0;
}

static void test_stamps_pack_and_unpack(void **state)
{
    (void)state;
    /* Three fields of one write and one of another: two groups. */
    struct stamps_field in[] = {
        {"status", 6, 0x019b774885000000, 0x5f3a9c0e12d47b61},
        {"deleted", 7, 0xffffffffffffffff, 0x8000000000000001},
        {"title", 5, 0x019b774885000000, 0x5f3a9c0e12d47b61},
        {"*", 1, 0x019b774885000000, 0x5f3a9c0e12d47b61},
    };
    unsigned char out[256];
    size_t len = stamps_encode(in, 4, out, sizeof out);
    /* Version, two group heads, four names with their lengths. */
    assert_int_equal(len, 1 + 2 * 17 + (1 + 6) + (1 + 7) + (1 + 5) + (1 + 1));
    assert_int_equal(stamps_encode(in, 4, NULL, 0), len); /* the size alone */
    assert_int_equal(stamps_encode(in, 4, out, 10), len); /* too small: the size */
    assert_int_equal(stamps_encode(in, 4, out, sizeof out), len);
    struct collected *c = calloc(1, sizeof *c);
    assert_int_equal(stamps_decode(out, len, collect_field, c), 0);
    assert_int_equal(c->n, 4);
    const char *order[] = {"status", "title", "*", "deleted"}; /* grouped */
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(c->names[i], order[i]);
    }
    assert_true(c->hlc[3] == 0xffffffffffffffff && c->node[3] == 0x8000000000000001);
    assert_true(c->hlc[0] == 0x019b774885000000 && c->node[0] == 0x5f3a9c0e12d47b61);

    /* Damaged values are refused, never read past their end. */
    assert_int_equal(stamps_decode(out, len - 1, collect_field, c), SYNC_E_DB);
    assert_int_equal(stamps_decode(out, 10, collect_field, c), SYNC_E_DB);
    assert_int_equal(stamps_decode(out, 0, collect_field, c), SYNC_E_DB);
    out[0] = 2;
    assert_int_equal(stamps_decode(out, len, collect_field, c), SYNC_E_DB);
    out[0] = STAMPS_VERSION;
    out[17] = 0; /* a group of no fields */
    assert_int_equal(stamps_decode(out, len, collect_field, c), SYNC_E_DB);

    /* Names must be 1 to 255 bytes. */
    struct stamps_field bad = {"x", 0, 1, 1};
    assert_int_equal(stamps_encode(&bad, 1, out, sizeof out), 0);
    bad.name_len = 256;
    assert_int_equal(stamps_encode(&bad, 1, out, sizeof out), 0);
    assert_int_equal(stamps_encode(in, 0, out, sizeof out), 0);

    /* More than 255 fields of one stamp take more than one group. */
    static char names[300][8];
    struct stamps_field many[300];
    for (size_t i = 0; i < 300; i++) {
        snprintf(names[i], sizeof names[i], "f%zu", i);
        many[i] = (struct stamps_field){names[i], strlen(names[i]), 42, 7};
    }
    size_t need = stamps_encode(many, 300, NULL, 0);
    unsigned char *big = malloc(need);
    assert_int_equal(stamps_encode(many, 300, big, need), need);
    c->n = 0;
    assert_int_equal(stamps_decode(big, need, collect_field, c), 0);
    assert_int_equal(c->n, 300);
    assert_string_equal(c->names[299], "f299");
    assert_true(c->hlc[299] == 42 && c->node[299] == 7);
    free(big);
    free(c);
}

/* The packed stamps of one record, read from the file. */
static void record_stamps(struct replica *r, const char *table, const char *id, struct collected *c)
{
    sqlite3_stmt *st;
    assert_int_equal(
        sqlite3_prepare_v2(replica_db(r),
                           "SELECT stamps FROM hl_stamp WHERE tbl = ?1 AND row_id = ?2", -1, &st,
                           NULL),
        SQLITE_OK);
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    c->n = 0;
    assert_int_equal(stamps_decode(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0),
                                   collect_field, c),
                     0);
    sqlite3_finalize(st);
}

static int has_stamp(const struct collected *c, const char *name, uint64_t hlc, uint64_t node)
{
    for (size_t i = 0; i < c->n; i++) {
        if (!strcmp(c->names[i], name)) {
            return c->hlc[i] == hlc && c->node[i] == node;
        }
    }
    return 0;
}

static void exec_sql(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fail_msg("%s: %s", sql, err ? err : "?");
    }
}

/* A put of one field, as node made it with stamp hlc over prev. */
static struct delta *one_put(const char *id, const char *col, const char *value, uint64_t node,
                             int64_t seq, uint64_t hlc, uint64_t prev_hlc, uint64_t prev_node)
{
    const struct schema *schema = ledger_schema_get();
    int t = schema_table(schema, "cases");
    struct delta *d = delta_new(DELTA_PUSH);
    struct change *c = delta_add_change(d, 1);
    assert_non_null(c);
    c->op = CHANGE_PUT;
    c->table = t;
    snprintf(c->id, sizeof c->id, "%s", id);
    snprintf(c->part, sizeof c->part, "a");
    c->node = node;
    c->seq = seq;
    c->hlc = hlc;
    c->fields[0].column = schema_column(&schema->tables[t], col);
    assert_int_equal(delta_set_text(d, &c->fields[0].value, value), 0);
    c->fields[0].prev_hlc = prev_hlc;
    c->fields[0].prev_node = prev_node;
    return d;
}

static void test_upgrade_packs_field_stamps(void **state)
{
    struct fixture *f = *state;
    /* A hub file as version 1 of the engine left it: one hl_cell row per
     * field, and a stamp of a column this program does not know. */
    char path[128], why[256];
    snprintf(path, sizeof path, "%s/old-hub.db", f->dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(migrate_apply(db, "engine", engine_migrations, 1, why, sizeof why), 0);
    assert_int_equal(migrate_apply(db, f->hub_config.component, f->hub_config.migrations,
                                   f->hub_config.nmigrations, why, sizeof why),
                     0);
    const char *id = "019b7a3c-5e00-7a21-9c3e-2f6b1d0a4e55";
    const char *event = "019b7a3c-9a10-7c02-8d11-6e0f2a9b3c47";
    exec_sql(db, "INSERT INTO cases (id, village, status, title) VALUES"
                 " ('019b7a3c-5e00-7a21-9c3e-2f6b1d0a4e55', 'a', 'registered', '邻里纠纷');"
                 "INSERT INTO events (id, village, case_id, kind) VALUES"
                 " ('019b7a3c-9a10-7c02-8d11-6e0f2a9b3c47', 'a',"
                 "  '019b7a3c-5e00-7a21-9c3e-2f6b1d0a4e55', 'visit');"
                 "INSERT INTO hl_cell (tbl, row_id, col, hlc, node) VALUES"
                 " ('cases', '019b7a3c-5e00-7a21-9c3e-2f6b1d0a4e55', 'status', 1000, 11),"
                 " ('cases', '019b7a3c-5e00-7a21-9c3e-2f6b1d0a4e55', 'title', 2000, -5),"
                 " ('cases', '019b7a3c-5e00-7a21-9c3e-2f6b1d0a4e55', 'gone_column', 500, 11),"
                 " ('events', '019b7a3c-9a10-7c02-8d11-6e0f2a9b3c47', '*', 3000, 11);");
    sqlite3_close(db);

    /* Opening it runs migration 0002: one packed row per record. */
    struct replica *old = NULL;
    int rc = replica_open(path, &f->hub_config, &old, why, sizeof why);
    if (rc != 0) {
        fail_msg("replica_open: %s", why);
    }
    assert_int_equal(count(old, "SELECT count(*) FROM sqlite_master WHERE name = 'hl_cell'"), 0);
    assert_int_equal(count(old, "SELECT count(*) FROM hl_stamp"), 2);
    struct collected *c = calloc(1, sizeof *c);
    record_stamps(old, "cases", id, c);
    assert_int_equal(c->n, 3);
    assert_true(has_stamp(c, "status", 1000, 11));
    assert_true(has_stamp(c, "title", 2000, (uint64_t)-5));
    assert_true(has_stamp(c, "gone_column", 500, 11));
    record_stamps(old, "events", event, c);
    assert_int_equal(c->n, 1);
    assert_true(has_stamp(c, "*", 3000, 11));

    /* The converted stamps merge as they did: an edit of what stands wins
     * without a conflict; an older write loses; a write that never saw the
     * standing value is a conflict. */
    struct replica_apply_opts opts = {77, NULL, 0};
    struct replica_apply_result result;
    struct delta *d = one_put(id, "status", "accepted", 77, 1, 1500, 1000, 11);
    assert_int_equal(replica_apply(old, d, &opts, &result, NULL), 0);
    delta_free(d);
    assert_int_equal(result.applied, 1);
    assert_int_equal(result.conflicts, 0);
    char value[64];
    case_field(old, id, "status", value, sizeof value);
    assert_string_equal(value, "accepted");
    d = one_put(id, "title", "旧标题", 77, 2, 1999, 0, 0);
    assert_int_equal(replica_apply(old, d, &opts, &result, NULL), 0);
    delta_free(d);
    assert_int_equal(result.conflicts, 1); /* never saw the title that stands */
    case_field(old, id, "title", value, sizeof value);
    assert_string_equal(value, "邻里纠纷");
    assert_int_equal(count(old, "SELECT count(*) FROM hl_conflict WHERE col = 'title'"
                                " AND winner = 'standing' AND standing_hlc = 2000"
                                " AND standing_node = -5"),
                     1);

    /* The stamp of the unknown column is kept through the writes. */
    record_stamps(old, "cases", id, c);
    assert_int_equal(c->n, 3);
    assert_true(has_stamp(c, "status", 1500, 77));
    assert_true(has_stamp(c, "title", 2000, (uint64_t)-5));
    assert_true(has_stamp(c, "gone_column", 500, 11));
    free(c);
    replica_close(old);
}

static void test_appended_row_earliest_stamp_stands(void **state)
{
    struct fixture *f = *state;
    const struct schema *schema = ledger_schema_get();
    int t = schema_table(schema, "events");
    const struct schema_table *events = &schema->tables[t];
    const char *id = "019b7a3c-9a10-7c02-8d11-6e0f2a9b3c47";
    const char *notes[] = {"第二次", "第一次", "第三次"};
    const uint64_t stamps[] = {2000, 1000, 3000};
    struct replica_apply_opts opts = {77, NULL, 0};
    for (size_t i = 0; i < 3; i++) {
        /* A faulty node writes three rows under one id. */
        struct delta *d = delta_new(DELTA_PUSH);
        struct change *c = delta_add_change(d, 2);
        c->op = CHANGE_APPEND;
        c->table = t;
        snprintf(c->id, sizeof c->id, "%s", id);
        snprintf(c->part, sizeof c->part, "a");
        c->node = 77;
        c->seq = (int64_t)i + 1;
        c->hlc = stamps[i];
        c->fields[0].column = schema_column(events, "note");
        assert_int_equal(delta_set_text(d, &c->fields[0].value, notes[i]), 0);
        c->fields[1].column = schema_column(events, "kind");
        assert_int_equal(delta_set_text(d, &c->fields[1].value, "visit"), 0);
        struct replica_apply_result result;
        assert_int_equal(replica_apply(f->hub, d, &opts, &result, NULL), 0);
        assert_int_equal(result.applied, 1);
        delta_free(d);
    }
    assert_int_equal(count(f->hub, "SELECT count(*) FROM events WHERE note = '第一次'"), 1);
    assert_int_equal(count(f->hub, "SELECT count(*) FROM events"), 1);
    struct collected *c = calloc(1, sizeof *c);
    record_stamps(f->hub, "events", id, c);
    assert_int_equal(c->n, 1);
    assert_true(has_stamp(c, "*", 1000, 77));
    free(c);
}

/* The journal's body of a change, as cJSON prints the same change in a
 * delta: delta_change_json() writes it directly and must give the same
 * bytes, the history and the pulls read them. */
/* Records named by a derivation (a party of an imported case): the engine
 * derives the id, the journal keeps the derivation, and syncs carry the
 * derivation instead of the id, up to the hub and down to another laptop. */
static void test_records_by_derivation(void **state)
{
    struct fixture *f = *state;
    const struct schema *schema = ledger_schema_get();
    char case_id[UUID7_STRLEN + 1], contact[UUID7_STRLEN + 1], event[UUID7_STRLEN + 1];
    char from_contact[UUID7_FROMLEN + 1], from_event[UUID7_FROMLEN + 1];
    new_case(f->a1, "a", case_id, "registered");
    snprintf(from_contact, sizeof from_contact, "%s/contact/0", case_id);
    snprintf(from_event, sizeof from_event, "%s/event/0", case_id);
    assert_int_equal(uuid7_derive(from_contact, contact), 0);
    assert_int_equal(uuid7_derive(from_event, event), 0);

    const char *name[] = {"name"};
    struct sync_value v = text("谭德胜");
    assert_int_equal(replica_put(f->a1, "contacts", from_contact, "a", 1, name, &v, NULL), 0);
    /* The record is the derived id: a put by the id edits it. */
    v = text("谭德胜 (村民)");
    assert_int_equal(replica_put(f->a1, "contacts", contact, "a", 1, name, &v, NULL), 0);
    assert_int_equal(count(f->a1, "SELECT count(*) FROM contacts"), 1);
    const char *ev_cols[] = {"case_id", "date", "kind"};
    struct sync_value ev[] = {text(case_id), text("2026-01-02"), text("visit")};
    assert_int_equal(replica_append(f->a1, "events", from_event, "a", 3, ev_cols, ev), 0);
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM events WHERE id = '%s'", event);
    assert_int_equal(count(f->a1, sql), 1);
    /* The journal keeps the derivation of the writes that named it. */
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM hl_log WHERE row_id = '%s' AND body LIKE '%%\"from\":\"%s\"%%'",
             contact, from_contact);
    assert_int_equal(count(f->a1, sql), 1);
    /* Not a derivation, or one that cannot name a record here. */
    assert_int_equal(replica_put(f->a1, "contacts", "x/contact/0", "a", 1, name, &v, NULL),
                     SYNC_E_ARG);
    char bad[UUID7_FROMLEN + 8];
    snprintf(bad, sizeof bad, "%s/a b", case_id);
    assert_int_equal(replica_put(f->a1, "contacts", bad, "a", 1, name, &v, NULL), SYNC_E_ARG);
    assert_int_equal(replica_delete(f->a1, "contacts", from_contact), SYNC_E_ARG);

    /* Up to the hub, encoded: the derived ids do not travel. */
    struct delta *out = delta_new(DELTA_PUSH);
    assert_non_null(out);
    out->node = replica_node(f->a1);
    snprintf(out->part, sizeof out->part, "a");
    assert_int_equal(replica_pending(f->a1, 0, 1 << 20, out), 0);
    char *json = NULL;
    size_t len = 0;
    assert_int_equal(delta_encode(schema, out, &json, &len), 0);
    assert_non_null(strstr(json, "\"/contact/0\""));
    assert_non_null(strstr(json, "/event/0\",7,[\"\"]"));
    free(json);
    delta_free(out);
    struct replica_apply_result r = push(f->hub, f->a1, "a", 0, NULL);
    assert_int_equal(r.applied, 4);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM hl_log WHERE row_id = '%s' AND body LIKE '%%\"from\":\"%s\"%%'",
             event, from_event);
    assert_int_equal(count(f->hub, sql), 1);

    /* Down to a second laptop: the hub relays the derivation too. */
    struct delta *down = delta_new(DELTA_REPLY);
    assert_non_null(down);
    assert_int_equal(replica_changes_since(f->hub, 0, "a", replica_node(f->a2), 1 << 20, down), 0);
    assert_int_equal(delta_encode(schema, down, &json, &len), 0);
    assert_null(strstr(json, contact));
    assert_null(strstr(json, event));
    struct delta *in = NULL;
    char why[200];
    struct envelope_limits limits;
    envelope_limits_default(&limits);
    assert_int_equal(delta_decode(schema, &limits, json, len, &in, why, sizeof why), 0);
    free(json);
    struct replica_apply_opts opts = {replica_node(f->hub), "a", 0};
    assert_int_equal(replica_apply(f->a2, in, &opts, &r, NULL), 0);
    assert_int_equal(r.applied, 4);
    delta_free(in);
    delta_free(down);
    assert_same_export(f->a1, f->a2, "a");
    assert_same_export(f->a1, f->hub, "a");
}

static void test_journal_body_is_the_delta_form(void **state)
{
    (void)state;
    const struct schema *schema = ledger_schema_get();
    int t = schema_table(schema, "cases");
    static const char *const texts[] = {
        "a\"b\\c/d", "\b\f\n\r\t", "\x01\x1f\x7f", "中文\xe2\x80\xa8x", "", "<>&'", "调解",
    };
    const struct sync_value values[] = {
        {.type = SYNC_INT, .i = -9007199254740991},
        {.type = SYNC_INT, .i = 0},
        {.type = SYNC_REAL, .r = 0.1},
        {.type = SYNC_REAL, .r = 1e300},
        {.type = SYNC_REAL, .r = -3.0},
        {.type = SYNC_NULL},
    };
    size_t ntexts = sizeof texts / sizeof texts[0], nvalues = sizeof values / sizeof values[0];
    for (size_t k = 0; k < ntexts + nvalues; k++) {
        for (int op = CHANGE_PUT; op <= CHANGE_DELETE; op++) {
            struct delta *d = delta_new(DELTA_PUSH);
            struct change *c = delta_add_change(d, 2);
            c->op = (enum change_op)op;
            c->table = op == CHANGE_APPEND ? schema_table(schema, "events") : t;
            snprintf(c->id, sizeof c->id, "019b7a3c-5e00-7a21-9c3e-2f6b1d0a4e55");
            snprintf(c->part, sizeof c->part, "%s", k < ntexts ? texts[k] : "杨柳村");
            c->node = 0x5f3a9c0e12d47b61;
            c->seq = (int64_t)k + 1;
            c->hlc = 0x019b774885000000 + k;
            const struct schema_table *table = &schema->tables[c->table];
            c->fields[0].column = op == CHANGE_DELETE ? DELTA_DELETED : 0;
            c->fields[1].column = schema_column(table, op == CHANGE_APPEND ? "note" : "title");
            c->nfields = op == CHANGE_DELETE ? 1 : 2;
            if (k < ntexts) {
                assert_int_equal(delta_set_text(d, &c->fields[1].value, texts[k]), 0);
            } else {
                c->fields[1].value = values[k - ntexts];
            }
            if (op == CHANGE_DELETE) {
                c->fields[0].value = (struct sync_value){.type = SYNC_INT, .i = 1};
            }
            c->fields[0].prev_hlc = k % 2 ? 0x019b774885000000 : 0;
            c->fields[0].prev_node = k % 3 ? 7 : 0;
            char *body = NULL, *all = NULL;
            size_t len = 0;
            assert_int_equal(delta_change_json(schema, c, &body), 0);
            d->version = DELTA_VERSION1; /* the journal keeps format 1's form */
            assert_int_equal(delta_encode(schema, d, &all, &len), 0);
            const char *at = strstr(all, "\"changes\":[");
            assert_non_null(at);
            at += strlen("\"changes\":[");
            size_t n = strlen(body);
            if (strncmp(at, body, n) != 0 || at[n] != ']') {
                fail_msg("journal body\n  %s\ndiffers from the delta's\n  %s", body, at);
            }
            /* And it reads back as the same change. */
            cJSON *parsed = cJSON_Parse(body);
            assert_non_null(parsed);
            cJSON_Delete(parsed);
            free(body);
            free(all);
            if (c->nfields == 1) {
                c->nfields = 2; /* freed with the delta */
            }
            delta_free(d);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_journals_only_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_errors_write_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_integers_stay_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_and_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_push_is_idempotent_and_gap_resumes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_partition_refused_rest_arrives, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pushed_change_of_another_node_refused_whole, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_edit_makes_one_conflict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolution_is_an_ordinary_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hub_write_travels_down, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pull_pages_and_is_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_above_a_future_stamp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_keeps_node_and_sequence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_handles_share_one_sequence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_caller_transaction_rolls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_meta, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_refuses_mismatched_tables, setup, teardown),
        cmocka_unit_test(test_stamps_pack_and_unpack),
        cmocka_unit_test_setup_teardown(test_upgrade_packs_field_stamps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_appended_row_earliest_stamp_stands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_records_by_derivation, setup, teardown),
        cmocka_unit_test(test_journal_body_is_the_delta_form),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
