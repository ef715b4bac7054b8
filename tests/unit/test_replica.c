/* SPDX-License-Identifier: MIT */
/*
 * test_replica.c - the replica store on real SQLite files: local writes and
 * their journal, merging received changes, acknowledgements and gaps,
 * partition refusals, conflict records, pulls and the canonical export.
 * Replicas here use the ledger schema, the one Hamlet ships.
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
#include "sync_error.h"
#include "uuid7.h"

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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
