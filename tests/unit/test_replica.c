/* SPDX-License-Identifier: MIT */
/*
 * test_replica.c - the replica store on real SQLite files: local writes and
 * their journal, merging received changes, acknowledgements and gaps,
 * partition refusals, conflict records, pulls and the canonical export; the
 * packed stamps of a record and the upgrade from one stamp row per field;
 * the journal by runs: a record's history with the value each change wrote,
 * changes relayed with their own values, one run per batch, duplicates
 * found across runs, and the upgrade from the journal of one row per
 * change; the JSON form of a change (refused changes, the old journal).
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
#include "migrate.h"
#include "replica.h"
#include "stamps.h"
#include "sync_error.h"
#include "uuid7.h"

#include <cjson/cJSON.h>

extern const struct migration engine_migrations[];
extern const size_t engine_migrations_count;

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

/* The changes a replica's journal holds: hl_run holds runs of n changes. */
static int64_t journaled(struct replica *r)
{
    return count(r, "SELECT coalesce(sum(n), 0) FROM hl_run");
}

/* A query's one text, with ?1 bound to node, into out. */
static void text_for(struct replica *r, const char *sql, uint64_t node, char *out, size_t n)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(replica_db(r), sql, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)node);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const char *v = (const char *)sqlite3_column_text(st, 0);
    snprintf(out, n, "%s", v ? v : "(null)");
    sqlite3_finalize(st);
}

/* Append a copy of change c (its values included) to d. */
static void copy_change(struct delta *d, const struct change *c)
{
    struct change *o = delta_add_change(d, c->nfields);
    assert_non_null(o);
    struct change_field *fields = o->fields;
    *o = *c;
    o->fields = fields;
    for (size_t i = 0; i < c->nfields; i++) {
        fields[i] = c->fields[i];
        if (c->fields[i].value.type == SYNC_TEXT) {
            assert_int_equal(delta_set_text(d, &fields[i].value, c->fields[i].value.s), 0);
        }
    }
}

/* A record's history (replica_history()), copied out. */
#define HISTORY_MAX 64
struct history {
    struct delta *changes; /* in journal order, with their values */
    int64_t pos[HISTORY_MAX], received_ms[HISTORY_MAX];
};

static int history_take(void *ctx, const struct replica_history_entry *e)
{
    struct history *h = ctx;
    assert_true(h->changes->nchanges < HISTORY_MAX);
    h->pos[h->changes->nchanges] = e->pos;
    h->received_ms[h->changes->nchanges] = e->received_ms;
    copy_change(h->changes, e->change);
    return 0;
}

static struct history *history_of(struct replica *r, const char *table, const char *id)
{
    struct history *h = calloc(1, sizeof *h);
    assert_non_null(h);
    h->changes = delta_new(DELTA_PUSH);
    assert_non_null(h->changes);
    int rc = replica_history(r, table, id, history_take, h);
    if (rc != 0) {
        fail_msg("replica_history %s %s: %s", table, id, sync_strerror(rc));
    }
    for (size_t k = 1; k < h->changes->nchanges; k++) {
        assert_true(h->pos[k] > h->pos[k - 1]);
    }
    return h;
}

static void history_free(struct history *h)
{
    delta_free(h->changes);
    free(h);
}

/* The value change c wrote to column col ("deleted": the tombstone), or
 * NULL when it did not write that field. */
static const struct change_field *field_of(const struct change *c, const char *col)
{
    const struct schema_table *table = &ledger_schema_get()->tables[c->table];
    int column = strcmp(col, "deleted") ? schema_column(table, col) : DELTA_DELETED;
    for (size_t i = 0; i < c->nfields; i++) {
        if (c->fields[i].column == column) {
            return &c->fields[i];
        }
    }
    return NULL;
}

static const struct sync_value *written(const struct change *c, const char *col)
{
    const struct change_field *f = field_of(c, col);
    return f ? &f->value : NULL;
}

static void assert_wrote_text(const struct change *c, const char *col, const char *want)
{
    const struct sync_value *v = written(c, col);
    if (!v || v->type != SYNC_TEXT || strcmp(v->s, want) != 0) {
        fail_msg("change %lld wrote %s = %s, not \"%s\"", (long long)c->seq, col,
                 !v                     ? "nothing"
                 : v->type == SYNC_TEXT ? v->s
                                        : "a non-text value",
                 want);
    }
}

static void assert_wrote_int(const struct change *c, const char *col, int64_t want)
{
    const struct sync_value *v = written(c, col);
    assert_non_null(v);
    assert_int_equal(v->type, SYNC_INT);
    assert_int_equal(v->i, want);
}

/* A delta through the encoding and the envelope, as the network carries
 * it; the original is freed. */
static struct delta *through_wire(struct delta *d)
{
    const struct schema *schema = ledger_schema_get();
    uint8_t *wire;
    size_t wire_len;
    assert_int_equal(delta_pack(schema, d, 6, &wire, &wire_len), 0);
    delta_free(d);
    struct envelope_limits limits;
    envelope_limits_default(&limits);
    struct delta *in = NULL;
    char why[200];
    assert_int_equal(delta_unpack(schema, &limits, wire, wire_len, &in, why, sizeof why), 0);
    free(wire);
    return in;
}

/* ---- tests ---- */

static void test_put_journals_only_changes(void **state)
{
    struct fixture *f = *state;
    char id[UUID7_STRLEN + 1];
    new_case(f->a1, "a", id, "registered");
    assert_int_equal(replica_own_seq(f->a1), 1);
    assert_int_equal(journaled(f->a1), 1);

    /* The same values again change nothing and journal nothing. */
    const char *cols[] = {"title", "status"};
    struct sync_value same[] = {text("邻里纠纷"), text("registered")};
    int changed = -1;
    assert_int_equal(replica_put(f->a1, "cases", id, "a", 2, cols, same, &changed), 0);
    assert_int_equal(changed, 0);
    assert_int_equal(replica_own_seq(f->a1), 1);
    assert_int_equal(journaled(f->a1), 1);

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
    assert_int_equal(journaled(f->a1), 1);
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
    int64_t held = journaled(f->hub);
    char *before = export(f->hub, NULL);

    /* The same batch again, any number of times: nothing changes. */
    for (int i = 0; i < 3; i++) {
        struct replica_apply_result again = push(f->hub, f->a1, "a", 0, NULL);
        assert_int_equal(again.applied, 0);
        assert_int_equal(again.duplicates, 3);
        assert_int_equal(again.acked, 3);
    }
    assert_int_equal(journaled(f->hub), held);
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
    assert_int_equal(journaled(f->hub), 0);
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
    assert_int_equal(journaled(f->hub), 4);
    /* Each write has a sequence number of its own and was stamped above the
     * one before, whoever made it. */
    struct delta *d = delta_new(DELTA_PUSH);
    assert_int_equal(replica_pending(f->hub, 0, 1 << 20, d), 0);
    assert_int_equal(d->nchanges, 4);
    for (size_t i = 0; i < d->nchanges; i++) {
        assert_int_equal(d->changes[i].seq, (int64_t)i + 1);
        assert_true(d->changes[i].node == replica_node(f->hub));
        assert_true(i == 0 || d->changes[i].hlc > d->changes[i - 1].hlc);
    }
    delta_free(d);
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
    assert_int_equal(journaled(f->a1), 1);

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
    assert_int_equal(journaled(f->a1), 3);

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

/* The packed stamps of one record, read from its row. */
static void record_stamps(struct replica *r, const char *table, const char *id, struct collected *c)
{
    sqlite3_stmt *st;
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT hl_stamps FROM \"%s\" WHERE id = ?1", table);
    assert_int_equal(sqlite3_prepare_v2(replica_db(r), sql, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
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

    /* Opening it runs migration 0002: one packed value per record, which
     * then moves into the record's row. */
    struct replica *old = NULL;
    int rc = replica_open(path, &f->hub_config, &old, why, sizeof why);
    if (rc != 0) {
        fail_msg("replica_open: %s", why);
    }
    assert_int_equal(count(old, "SELECT count(*) FROM sqlite_master WHERE name = 'hl_cell'"), 0);
    assert_int_equal(count(old, "SELECT count(*) FROM hl_stamp"), 0);
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

/* An appended row of village a that the faulty node 77 writes under id,
 * with its seq and stamp: one apply of one change. */
static void faulty_append(struct replica *r, const char *id, const char *note, int64_t seq,
                          uint64_t hlc)
{
    const struct schema *schema = ledger_schema_get();
    int t = schema_table(schema, "events");
    const struct schema_table *events = &schema->tables[t];
    struct delta *d = delta_new(DELTA_PUSH);
    struct change *c = delta_add_change(d, 2);
    c->op = CHANGE_APPEND;
    c->table = t;
    snprintf(c->id, sizeof c->id, "%s", id);
    snprintf(c->part, sizeof c->part, "a");
    c->node = 77;
    c->seq = seq;
    c->hlc = hlc;
    c->fields[0].column = schema_column(events, "note");
    assert_int_equal(delta_set_text(d, &c->fields[0].value, note), 0);
    c->fields[1].column = schema_column(events, "kind");
    assert_int_equal(delta_set_text(d, &c->fields[1].value, "visit"), 0);
    struct replica_apply_opts opts = {77, NULL, 0};
    struct replica_apply_result result;
    assert_int_equal(replica_apply(r, d, &opts, &result, NULL), 0);
    assert_int_equal(result.applied, 1);
    delta_free(d);
}

/* A faulty node writes three rows under one id: "第二次" at 2000, then
 * "第一次" at 1000 (earlier: it replaces the first), then "第三次" at 3000
 * (later: it loses). */
static const char *const three_notes[] = {"第二次", "第一次", "第三次"};
static const uint64_t three_stamps[] = {2000, 1000, 3000};

static void three_appends(struct replica *r, const char *id)
{
    for (size_t i = 0; i < 3; i++) {
        faulty_append(r, id, three_notes[i], (int64_t)i + 1, three_stamps[i]);
    }
}

static void test_appended_row_earliest_stamp_stands(void **state)
{
    struct fixture *f = *state;
    const char *id = "019b7a3c-9a10-7c02-8d11-6e0f2a9b3c47";
    three_appends(f->hub, id);
    assert_int_equal(count(f->hub, "SELECT count(*) FROM events WHERE note = '第一次'"), 1);
    assert_int_equal(count(f->hub, "SELECT count(*) FROM events"), 1);
    struct collected *c = calloc(1, sizeof *c);
    record_stamps(f->hub, "events", id, c);
    assert_int_equal(c->n, 1);
    assert_true(has_stamp(c, "*", 1000, 77));
    free(c);
}

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
    struct history *h = history_of(f->a1, "contacts", contact);
    assert_int_equal(h->changes->nchanges, 2);
    assert_string_equal(h->changes->changes[0].id, contact);
    assert_string_equal(h->changes->changes[0].from, from_contact);
    assert_wrote_text(&h->changes->changes[0], "name", "谭德胜");
    assert_string_equal(h->changes->changes[1].from, "");
    assert_wrote_text(&h->changes->changes[1], "name", "谭德胜 (村民)");
    history_free(h);
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
    h = history_of(f->hub, "events", event);
    assert_int_equal(h->changes->nchanges, 1);
    assert_string_equal(h->changes->changes[0].from, from_event);
    assert_wrote_text(&h->changes->changes[0], "kind", "visit");
    history_free(h);

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

/* ---- the journal by runs ---- */

static int stop_history(void *ctx, const struct replica_history_entry *e)
{
    (void)e;
    int *calls = ctx;
    (*calls)++;
    return 7;
}

/* A record edited several times: its history gives each change with the
 * value that change wrote, not the one the row holds now, and the old
 * changes travel with their own values. */
static void test_history_gives_each_write_its_value(void **state)
{
    struct fixture *f = *state;
    char id[UUID7_STRLEN + 1];
    int64_t start = fake_ms;
    const char *statuses[] = {"registered", "accepted", "mediating", "closed"};
    new_case(f->a1, "a", id, statuses[0]);
    for (size_t i = 1; i < 3; i++) {
        fake_ms += 1000;
        set_status(f->a1, "a", id, statuses[i]);
    }
    fake_ms += 1000;
    const char *cols[] = {"status", "claims"};
    struct sync_value vals[] = {text(statuses[3]), text("赔偿损失")};
    assert_int_equal(replica_put(f->a1, "cases", id, "a", 2, cols, vals, NULL), 0);
    char status[32];
    case_field(f->a1, id, "status", status, sizeof status);
    assert_string_equal(status, "closed");

    struct history *h = history_of(f->a1, "cases", id);
    const struct delta *mine = h->changes;
    assert_int_equal(mine->nchanges, 4);
    for (size_t k = 0; k < 4; k++) {
        const struct change *c = &mine->changes[k];
        assert_int_equal(c->op, CHANGE_PUT);
        assert_string_equal(c->id, id);
        assert_string_equal(c->part, "a");
        assert_true(c->node == replica_node(f->a1));
        assert_int_equal(c->seq, (int64_t)k + 1);
        assert_int_equal(h->pos[k], (int64_t)k + 1);
        assert_int_equal(h->received_ms[k], start + 1000 * (int64_t)k);
        assert_wrote_text(c, "status", statuses[k]);
        if (k > 0) {
            /* Each replaced the one before. */
            const struct change_field *sf = field_of(c, "status");
            assert_true(sf->prev_hlc == mine->changes[k - 1].hlc);
            assert_true(sf->prev_node == replica_node(f->a1));
            assert_true(c->hlc > mine->changes[k - 1].hlc);
        }
    }
    assert_int_equal(mine->changes[0].nfields, 4);
    assert_wrote_text(&mine->changes[0], "title", "邻里纠纷");
    assert_wrote_int(&mine->changes[0], "severity", 2);
    assert_wrote_text(&mine->changes[0], "created_at", "2026-01-01T08:00:00+08:00");
    assert_int_equal(mine->changes[1].nfields, 1);
    assert_int_equal(mine->changes[3].nfields, 2);
    assert_wrote_text(&mine->changes[3], "claims", "赔偿损失");

    /* What waits to be pushed carries the values too. */
    struct delta *d = delta_new(DELTA_PUSH);
    assert_int_equal(replica_pending(f->a1, 1, 1 << 20, d), 0);
    assert_int_equal(d->nchanges, 3);
    for (size_t k = 0; k < 3; k++) {
        assert_wrote_text(&d->changes[k], "status", statuses[k + 1]);
    }
    delta_free(d);

    /* Up to the hub, and down to a2 through the wire: every change with
     * its own value, and a2 ends where a1 is. */
    assert_int_equal(push(f->hub, f->a1, "a", 0, NULL).applied, 4);
    d = delta_new(DELTA_REPLY);
    assert_int_equal(replica_changes_since(f->hub, 0, "a", replica_node(f->a2), 1 << 20, d), 0);
    assert_int_equal(d->nchanges, 4);
    assert_int_equal(d->cursor, 4);
    assert_false(d->more);
    d = through_wire(d);
    for (size_t k = 0; k < 4; k++) {
        assert_wrote_text(&d->changes[k], "status", statuses[k]);
    }
    struct replica_apply_opts opts = {replica_node(f->hub), "a", 0};
    struct replica_apply_result r;
    assert_int_equal(replica_apply(f->a2, d, &opts, &r, NULL), 0);
    assert_int_equal(r.applied, 4);
    delta_free(d);
    assert_same_export(f->a1, f->a2, "a");
    struct replica *others[] = {f->hub, f->a2};
    for (size_t i = 0; i < 2; i++) {
        struct history *o = history_of(others[i], "cases", id);
        assert_int_equal(o->changes->nchanges, 4);
        for (size_t k = 0; k < 4; k++) {
            assert_int_equal(o->changes->changes[k].seq, mine->changes[k].seq);
            assert_true(o->changes->changes[k].hlc == mine->changes[k].hlc);
            assert_wrote_text(&o->changes->changes[k], "status", statuses[k]);
        }
        assert_wrote_text(&o->changes->changes[3], "claims", "赔偿损失");
        history_free(o);
    }
    history_free(h);

    /* A record without changes has no history; a table the schema lacks
     * is an error; the callback's answer stops the reading. */
    char none[UUID7_STRLEN + 1];
    assert_int_equal(uuid7_now(none), 0);
    h = history_of(f->a1, "cases", none);
    assert_int_equal(h->changes->nchanges, 0);
    history_free(h);
    assert_int_equal(replica_history(f->a1, "nope", id, history_take, NULL), SYNC_E_UNKNOWN_TABLE);
    int calls = 0;
    assert_int_equal(replica_history(f->a1, "cases", id, stop_history, &calls), 7);
    assert_int_equal(calls, 1);
}

/* Concurrent edits: the write that loses is kept in the history of every
 * replica that saw it, and relayed with its value. */
static void test_losing_write_kept_in_history(void **state)
{
    struct fixture *f = *state;
    char id[UUID7_STRLEN + 1];
    new_case(f->a1, "a", id, "registered");
    push(f->hub, f->a1, "a", 0, NULL);
    pull(f->hub, f->a2, "a");
    /* Both laptops change the status without seeing each other; the later
     * write reaches the hub first, so the earlier one loses there. */
    fake_ms += 1000;
    set_status(f->a1, "a", id, "mediating");
    fake_ms += 1000;
    set_status(f->a2, "a", id, "referred");
    assert_int_equal(push(f->hub, f->a2, "a", 0, NULL).applied, 1);
    struct replica_apply_result r = push(f->hub, f->a1, "a", 1, NULL);
    assert_int_equal(r.applied, 1);
    assert_int_equal(r.conflicts, 1);
    assert_int_equal(count(f->hub, "SELECT count(*) FROM hl_conflict WHERE col = 'status'"
                                   " AND standing_value = 'referred'"
                                   " AND incoming_value = 'mediating' AND winner = 'standing'"),
                     1);
    char status[32];
    case_field(f->hub, id, "status", status, sizeof status);
    assert_string_equal(status, "referred");

    const char *at_hub[] = {"registered", "referred", "mediating"};
    struct history *h = history_of(f->hub, "cases", id);
    assert_int_equal(h->changes->nchanges, 3);
    for (size_t k = 0; k < 3; k++) {
        assert_wrote_text(&h->changes->changes[k], "status", at_hub[k]);
    }
    assert_true(h->changes->changes[2].node == replica_node(f->a1));
    history_free(h);

    /* A laptop new to the case gets every write, the loser with its value,
     * and ends where the hub is. */
    struct replica *a3 = open_at(f, "a3", 0);
    struct delta *d = delta_new(DELTA_REPLY);
    assert_int_equal(replica_changes_since(f->hub, 0, "a", replica_node(a3), 1 << 20, d), 0);
    assert_int_equal(d->nchanges, 3);
    assert_wrote_text(&d->changes[2], "status", "mediating");
    d = through_wire(d);
    struct replica_apply_opts opts = {replica_node(f->hub), "a", 0};
    assert_int_equal(replica_apply(a3, d, &opts, &r, NULL), 0);
    assert_int_equal(r.applied, 3);
    delta_free(d);
    assert_same_export(f->hub, a3, "a");
    h = history_of(a3, "cases", id);
    assert_int_equal(h->changes->nchanges, 3);
    for (size_t k = 0; k < 3; k++) {
        assert_wrote_text(&h->changes->changes[k], "status", at_hub[k]);
    }
    history_free(h);
    replica_close(a3);

    /* a1, whose write the later one replaced, keeps its own in its history
     * and in what it would push again. */
    assert_int_equal(pull(f->hub, f->a1, "a"), 1);
    case_field(f->a1, id, "status", status, sizeof status);
    assert_string_equal(status, "referred");
    const char *at_a1[] = {"registered", "mediating", "referred"};
    h = history_of(f->a1, "cases", id);
    assert_int_equal(h->changes->nchanges, 3);
    for (size_t k = 0; k < 3; k++) {
        assert_wrote_text(&h->changes->changes[k], "status", at_a1[k]);
    }
    history_free(h);
    d = delta_new(DELTA_PUSH);
    assert_int_equal(replica_pending(f->a1, 0, 1 << 20, d), 0);
    assert_int_equal(d->nchanges, 2);
    assert_wrote_text(&d->changes[1], "status", "mediating");
    delta_free(d);
    pull(f->hub, f->a2, "a");
    assert_same_export(f->hub, f->a1, "a");
    assert_same_export(f->hub, f->a2, "a");
}

/* An appended row written twice under one id by different stamps (only a
 * faulty node does it): the earliest stands, and every write's values stay
 * in the history and travel. */
static void test_appended_row_history_keeps_every_write(void **state)
{
    struct fixture *f = *state;
    const char *id = "019b7a3c-9a10-7c02-8d11-6e0f2a9b3c47";
    three_appends(f->hub, id);
    assert_int_equal(count(f->hub, "SELECT count(*) FROM events WHERE note = '第一次'"), 1);

    struct history *h = history_of(f->hub, "events", id);
    assert_int_equal(h->changes->nchanges, 3);
    for (size_t k = 0; k < 3; k++) {
        const struct change *c = &h->changes->changes[k];
        assert_int_equal(c->op, CHANGE_APPEND);
        assert_int_equal(c->node, 77);
        assert_int_equal(c->seq, (int64_t)k + 1);
        assert_true(c->hlc == three_stamps[k]);
        assert_wrote_text(c, "note", three_notes[k]);
        assert_wrote_text(c, "kind", "visit");
    }
    history_free(h);

    struct delta *d = delta_new(DELTA_REPLY);
    assert_int_equal(replica_changes_since(f->hub, 0, "a", 0, 1 << 20, d), 0);
    assert_int_equal(d->nchanges, 3);
    for (size_t k = 0; k < 3; k++) {
        assert_wrote_text(&d->changes[k], "note", three_notes[k]);
    }
    d = through_wire(d);
    struct replica_apply_opts opts = {replica_node(f->hub), "a", 0};
    struct replica_apply_result r;
    assert_int_equal(replica_apply(f->a2, d, &opts, &r, NULL), 0);
    assert_int_equal(r.applied, 3);
    delta_free(d);
    assert_same_export(f->hub, f->a2, "a");
    assert_int_equal(count(f->a2, "SELECT count(*) FROM events WHERE note = '第一次'"), 1);
    h = history_of(f->a2, "events", id);
    assert_int_equal(h->changes->nchanges, 3);
    for (size_t k = 0; k < 3; k++) {
        assert_wrote_text(&h->changes->changes[k], "note", three_notes[k]);
    }
    history_free(h);
}

/* The runs of node, "pos:seq:n:part" in journal order. */
#define RUNS_OF                                                                                    \
    "SELECT group_concat(run, ' ') FROM (SELECT pos || ':' || seq || ':' || n || ':' || part"      \
    " AS run FROM hl_run WHERE node = ?1 ORDER BY pos)"

/* A batch of one node and one partition is one run; a change of
 * partition starts another. */
static void test_one_run_per_batch(void **state)
{
    struct fixture *f = *state;
    char id[UUID7_STRLEN + 1], runs[256];
    /* Each local write is a unit of work of its own: a run of one. */
    for (int i = 0; i < 10; i++) {
        new_case(f->a1, "a", id, "registered");
    }
    assert_int_equal(count(f->a1, "SELECT count(*) FROM hl_run"), 10);
    assert_int_equal(journaled(f->a1), 10);
    assert_int_equal(push(f->hub, f->a1, "a", 0, NULL).applied, 10);
    text_for(f->hub, RUNS_OF, replica_node(f->a1), runs, sizeof runs);
    assert_string_equal(runs, "1:1:10:a");

    /* Two partitions interleaved in one batch (the hub accepting any). */
    const char *villages[] = {"a", "a", "b", "b", "a", "a"};
    for (size_t i = 0; i < 6; i++) {
        new_case(f->a1, villages[i], id, "registered");
    }
    struct delta *d = delta_new(DELTA_PUSH);
    assert_int_equal(replica_pending(f->a1, 10, 1 << 20, d), 0);
    assert_int_equal(d->nchanges, 6);
    struct replica_apply_opts opts = {replica_node(f->a1), NULL, 1};
    struct replica_apply_result r;
    assert_int_equal(replica_apply(f->hub, d, &opts, &r, NULL), 0);
    assert_int_equal(r.applied, 6);
    assert_int_equal(r.acked, 16);
    delta_free(d);
    text_for(f->hub, RUNS_OF, replica_node(f->a1), runs, sizeof runs);
    assert_string_equal(runs, "1:1:10:a 11:11:2:a 13:13:2:b 15:15:2:a");
    assert_int_equal(journaled(f->hub), 16);

    /* A pull of one partition takes its changes from the runs between. */
    d = delta_new(DELTA_REPLY);
    assert_int_equal(replica_changes_since(f->hub, 10, "b", 0, 1 << 20, d), 0);
    assert_int_equal(d->nchanges, 2);
    assert_int_equal(d->changes[0].seq, 13);
    assert_int_equal(d->changes[1].seq, 14);
    assert_string_equal(d->changes[1].part, "b");
    assert_int_equal(d->cursor, 16);
    delta_free(d);
    d = delta_new(DELTA_REPLY);
    assert_int_equal(replica_changes_since(f->hub, 12, "a", 0, 1 << 20, d), 0);
    assert_int_equal(d->nchanges, 2);
    assert_int_equal(d->changes[0].seq, 15);
    delta_free(d);
    assert_same_export(f->hub, f->a1, "a");
    assert_same_export(f->hub, f->a1, "b");
}

/* A run holds at most 1,024 changes (REPLICA_RUN_MAX in replica.c). */
static void test_run_holds_at_most_1024_changes(void **state)
{
    struct fixture *f = *state;
    char id[UUID7_STRLEN + 1], runs[256];
    assert_int_equal(replica_begin(f->a2), 0);
    for (int i = 0; i < 1100; i++) {
        new_case(f->a2, "a", id, "registered");
    }
    assert_int_equal(replica_commit(f->a2), 0);
    struct delta *d = delta_new(DELTA_PUSH);
    assert_int_equal(replica_pending(f->a2, 0, 1 << 24, d), 0);
    assert_int_equal(d->nchanges, 1100);
    struct replica_apply_opts opts = {replica_node(f->a2), "a", 1};
    struct replica_apply_result r;
    assert_int_equal(replica_apply(f->hub, d, &opts, &r, NULL), 0);
    assert_int_equal(r.applied, 1100);
    delta_free(d);
    text_for(f->hub, RUNS_OF, replica_node(f->a2), runs, sizeof runs);
    assert_string_equal(runs, "1:1:1024:a 1025:1025:76:a");

    /* Read across the runs' boundary: a pull, a record's history, and the
     * same changes delivered again (found in either run). */
    d = delta_new(DELTA_REPLY);
    assert_int_equal(replica_changes_since(f->hub, 1020, "a", 0, 1 << 24, d), 0);
    assert_int_equal(d->nchanges, 80);
    assert_int_equal(d->changes[0].seq, 1021);
    assert_int_equal(d->changes[79].seq, 1100);
    assert_string_equal(d->changes[79].id, id);
    assert_int_equal(d->cursor, 1100);
    struct history *h = history_of(f->hub, "cases", id);
    assert_int_equal(h->changes->nchanges, 1);
    assert_int_equal(h->pos[0], 1100);
    assert_wrote_text(&h->changes->changes[0], "status", "registered");
    history_free(h);
    opts.contiguous = 0;
    assert_int_equal(replica_apply(f->hub, d, &opts, &r, NULL), 0);
    assert_int_equal(r.applied, 0);
    assert_int_equal(r.duplicates, 80);
    delta_free(d);
    assert_int_equal(journaled(f->hub), 1100);
    assert_same_export(f->hub, f->a2, "a");
}

/* A laptop pulling (changes not pushed in sequence) recognises changes it
 * holds whichever run holds them, and the one being written. */
static void test_pull_finds_duplicates_across_runs(void **state)
{
    struct fixture *f = *state;
    char id[UUID7_STRLEN + 1], runs[256];
    struct replica_apply_opts opts = {replica_node(f->hub), "a", 0};
    struct replica_apply_result r;
    /* a2 pulls a1's cases in two replies: two runs. */
    for (int batch = 0; batch < 2; batch++) {
        for (int i = 0; i < 10; i++) {
            new_case(f->a1, "a", id, "registered");
        }
        assert_int_equal(push(f->hub, f->a1, "a", 10 * batch, NULL).applied, 10);
        struct delta *d = delta_new(DELTA_REPLY);
        assert_int_equal(
            replica_changes_since(f->hub, 10 * batch, "a", replica_node(f->a2), 1 << 20, d), 0);
        assert_int_equal(d->nchanges, 10);
        assert_int_equal(replica_apply(f->a2, d, &opts, &r, NULL), 0);
        assert_int_equal(r.applied, 10);
        delta_free(d);
    }
    text_for(f->a2, RUNS_OF, replica_node(f->a1), runs, sizeof runs);
    assert_string_equal(runs, "1:1:10:a 11:11:10:a");
    for (int i = 0; i < 5; i++) {
        new_case(f->a1, "a", id, "registered");
    }
    assert_int_equal(push(f->hub, f->a1, "a", 20, NULL).applied, 5);

    /* A reply from an old cursor, twice in one delta: what a2 holds, in
     * either run, is skipped; the rest is applied once, the second time
     * found in the run being written. */
    struct delta *d = delta_new(DELTA_REPLY);
    assert_int_equal(replica_changes_since(f->hub, 7, "a", replica_node(f->a2), 1 << 20, d), 0);
    assert_int_equal(d->nchanges, 18);
    assert_int_equal(replica_changes_since(f->hub, 7, "a", replica_node(f->a2), 1 << 20, d), 0);
    assert_int_equal(d->nchanges, 36);
    assert_int_equal(replica_apply(f->a2, d, &opts, &r, NULL), 0);
    assert_int_equal(r.applied, 5);
    assert_int_equal(r.duplicates, 31);
    text_for(f->a2, RUNS_OF, replica_node(f->a1), runs, sizeof runs);
    assert_string_equal(runs, "1:1:10:a 11:11:10:a 21:21:5:a");
    assert_same_export(f->hub, f->a2, "a");

    /* Delivered again: nothing new. */
    assert_int_equal(replica_apply(f->a2, d, &opts, &r, NULL), 0);
    assert_int_equal(r.applied, 0);
    assert_int_equal(r.duplicates, 36);
    assert_int_equal(journaled(f->a2), 25);
    delta_free(d);
}

/* ---- the upgrade from the journal of one row per change ---- */

#define OLD_CASE    "019b7a3c-5e00-7a21-9c3e-2f6b1d0a4e55"
#define OLD_EVENT   "019b7a3c-9a10-7c02-8d11-6e0f2a9b3c47"
#define OLD_CONTACT "019b7a3c-7000-7b00-8000-000000000c01"
#define OLD_A       UINT64_C(0x5f3a9c0e12d47b61)
#define OLD_B       UINT64_C(0xb2)
#define OLD_HUB     UINT64_C(0x9000000000000001)
#define OLD_T0      HLC_STAMP(1767139200000, 0) /* 2025-12-31 */

static int64_t old_received(int64_t pos)
{
    return 1767139200000 + 1000 * pos;
}

/* Append to d a change of village a as a replica of engine version 2
 * journaled it; text values copied. Valid until the next append. */
static struct change *old_change(struct delta *d, enum change_op op, const char *table,
                                 const char *id, uint64_t node, int64_t seq, uint64_t hlc, size_t n,
                                 const char *const *cols, const struct sync_value *vals)
{
    const struct schema *schema = ledger_schema_get();
    struct change *c = delta_add_change(d, n);
    assert_non_null(c);
    c->op = op;
    c->table = schema_table(schema, table);
    assert_true(c->table >= 0);
    snprintf(c->id, sizeof c->id, "%s", id);
    snprintf(c->part, sizeof c->part, "a");
    c->node = node;
    c->seq = seq;
    c->hlc = hlc;
    for (size_t i = 0; i < n; i++) {
        c->fields[i].column = strcmp(cols[i], "deleted")
                                  ? schema_column(&schema->tables[c->table], cols[i])
                                  : DELTA_DELETED;
        if (vals[i].type == SYNC_TEXT) {
            assert_int_equal(delta_set_text(d, &c->fields[i].value, vals[i].s), 0);
        } else {
            c->fields[i].value = vals[i];
        }
    }
    return c;
}

/* A row of the old journal (hl_log): the change at pos, its body the JSON
 * form of format 1. */
static void old_journal(sqlite3 *db, int64_t pos, const struct change *c)
{
    const struct schema *schema = ledger_schema_get();
    char *body = NULL;
    assert_int_equal(delta_change_json(schema, c, &body), 0);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "INSERT INTO hl_log (pos, node, seq, op, tbl, row_id,"
                                        " part, hlc, received_ms, body) VALUES (?1, ?2, ?3, ?4,"
                                        " ?5, ?6, ?7, ?8, ?9, ?10)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(st, 1, pos);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)c->node);
    sqlite3_bind_int64(st, 3, c->seq);
    sqlite3_bind_int(st, 4, (int)c->op);
    sqlite3_bind_text(st, 5, schema->tables[c->table].name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, c->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, c->part, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)c->hlc);
    sqlite3_bind_int64(st, 9, old_received(pos));
    sqlite3_bind_text(st, 10, body, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    free(body);
}

/* A record's stamps as version 2 kept them (hl_stamp without hist). */
static void old_stamps(sqlite3 *db, const char *table, const char *id,
                       const struct stamps_field *fields, size_t n)
{
    unsigned char packed[512];
    size_t len = stamps_encode(fields, n, packed, sizeof packed);
    assert_true(len > 0 && len <= sizeof packed);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "INSERT INTO hl_stamp (tbl, row_id, stamps)"
                                        " VALUES (?1, ?2, ?3)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, packed, (int)len, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
}

static void assert_same_value(const struct sync_value *want, const struct sync_value *got)
{
    assert_int_equal(got->type, want->type);
    if (want->type == SYNC_TEXT) {
        assert_string_equal(got->s, want->s);
    } else if (want->type == SYNC_INT) {
        assert_int_equal(got->i, want->i);
    } else if (want->type == SYNC_REAL) {
        assert_true(got->r == want->r);
    }
}

/* got is the change want, every value included. */
static void assert_same_write(const struct change *want, const struct change *got)
{
    assert_int_equal(got->op, want->op);
    assert_int_equal(got->table, want->table);
    assert_string_equal(got->id, want->id);
    assert_string_equal(got->from, want->from);
    assert_string_equal(got->part, want->part);
    assert_true(got->node == want->node);
    assert_int_equal(got->seq, want->seq);
    assert_true(got->hlc == want->hlc);
    assert_int_equal(got->nfields, want->nfields);
    for (size_t i = 0; i < want->nfields; i++) {
        assert_int_equal(got->fields[i].column, want->fields[i].column);
        assert_same_value(&want->fields[i].value, &got->fields[i].value);
        assert_true(got->fields[i].prev_hlc == want->fields[i].prev_hlc);
        assert_true(got->fields[i].prev_node == want->fields[i].prev_node);
    }
}

/* A hub file of engine version 2, its journal one row per change, opened
 * by this program: migration 0003 makes a run of each change at the same
 * position, and every change reads back with its values, the ones the rows
 * hold and the ones they no longer do. */
static void test_upgrade_from_journal_by_change(void **state)
{
    struct fixture *f = *state;
    char path[128], why[256], text_out[64];
    snprintf(path, sizeof path, "%s/old-journal.db", f->dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(stamps_register(db), 0); /* migration 0002 packs with it */
    assert_int_equal(migrate_apply(db, "engine", engine_migrations, 2, why, sizeof why), 0);
    assert_int_equal(migrate_apply(db, f->hub_config.component, f->hub_config.migrations,
                                   f->hub_config.nmigrations, why, sizeof why),
                     0);
    assert_int_equal(migrate_version(db, "engine"), 2);

    /* Laptop A creates a case and accepts it; the hub sets its level;
     * laptop B's status, made before A's, arrives last and loses (a
     * conflict); A appends an event and adds a contact, which the hub
     * deletes, and B too, earlier: B's delete loses. */
    struct delta *d = delta_new(DELTA_PUSH);
    const char *case_cols[] = {"title", "status", "severity"};
    const struct sync_value case_vals[] = {text("旧标题"), text("registered"), integer(2)};
    const char *status[] = {"status"}, *level[] = {"level"}, *name[] = {"name"};
    const char *tombstone[] = {"deleted"};
    const char *event_cols[] = {"case_id", "kind", "note"};
    const struct sync_value event_vals[] = {text(OLD_CASE), text("visit"), text("走访双方")};
    const struct sync_value accepted = text("accepted"), mediating = text("mediating");
    const struct sync_value three = integer(3), tan = text("谭德胜"), one = integer(1);
    old_change(d, CHANGE_PUT, "cases", OLD_CASE, OLD_A, 1, OLD_T0 + 10, 3, case_cols, case_vals);
    struct change *c =
        old_change(d, CHANGE_PUT, "cases", OLD_CASE, OLD_A, 2, OLD_T0 + 20, 1, status, &accepted);
    c->fields[0].prev_hlc = OLD_T0 + 10;
    c->fields[0].prev_node = OLD_A;
    old_change(d, CHANGE_PUT, "cases", OLD_CASE, OLD_HUB, 1, OLD_T0 + 30, 1, level, &three);
    c = old_change(d, CHANGE_PUT, "cases", OLD_CASE, OLD_B, 1, OLD_T0 + 15, 1, status, &mediating);
    c->fields[0].prev_hlc = OLD_T0 + 10;
    c->fields[0].prev_node = OLD_A;
    old_change(d, CHANGE_APPEND, "events", OLD_EVENT, OLD_A, 3, OLD_T0 + 40, 3, event_cols,
               event_vals);
    old_change(d, CHANGE_PUT, "contacts", OLD_CONTACT, OLD_A, 4, OLD_T0 + 50, 1, name, &tan);
    old_change(d, CHANGE_DELETE, "contacts", OLD_CONTACT, OLD_HUB, 2, OLD_T0 + 70, 1, tombstone,
               &one);
    old_change(d, CHANGE_DELETE, "contacts", OLD_CONTACT, OLD_B, 2, OLD_T0 + 60, 1, tombstone,
               &one);
    assert_int_equal(d->nchanges, 8);
    for (size_t i = 0; i < d->nchanges; i++) {
        old_journal(db, (int64_t)i + 1, &d->changes[i]);
    }
    /* The rows, stamps, conflict, peers and identity that journal left. */
    exec_sql(db, "INSERT INTO cases (id, village, title, status, severity, level) VALUES"
                 " ('" OLD_CASE "', 'a', '旧标题', 'accepted', 2, 3);"
                 "INSERT INTO events (id, village, case_id, kind, note) VALUES"
                 " ('" OLD_EVENT "', 'a', '" OLD_CASE "', 'visit', '走访双方');"
                 "INSERT INTO contacts (id, village, deleted, name) VALUES"
                 " ('" OLD_CONTACT "', 'a', 1, '谭德胜');");
    const struct stamps_field case_stamps[] = {
        {"title", 5, OLD_T0 + 10, OLD_A},
        {"severity", 8, OLD_T0 + 10, OLD_A},
        {"status", 6, OLD_T0 + 20, OLD_A},
        {"level", 5, OLD_T0 + 30, OLD_HUB},
    };
    const struct stamps_field event_stamps[] = {{"*", 1, OLD_T0 + 40, OLD_A}};
    const struct stamps_field contact_stamps[] = {
        {"name", 4, OLD_T0 + 50, OLD_A},
        {"deleted", 7, OLD_T0 + 70, OLD_HUB},
    };
    old_stamps(db, "cases", OLD_CASE, case_stamps, 4);
    old_stamps(db, "events", OLD_EVENT, event_stamps, 1);
    old_stamps(db, "contacts", OLD_CONTACT, contact_stamps, 2);
    char sql[1024];
    snprintf(sql, sizeof sql,
             "INSERT INTO hl_conflict (tbl, row_id, col, part, log_pos, standing_value,"
             " standing_hlc, standing_node, incoming_value, incoming_hlc, incoming_node, winner,"
             " created_ms) VALUES ('cases', '" OLD_CASE "', 'status', 'a', 4, 'accepted', %lld,"
             " %lld, 'mediating', %lld, %lld, 'standing', %lld);"
             "INSERT INTO hl_peer (node, acked, updated_ms) VALUES (%lld, 4, 0), (%lld, 2, 0);"
             "INSERT INTO hl_meta (key, value) VALUES ('hl.node', %lld), ('hl.seq', 2),"
             " ('hl.hlc', %lld);",
             (long long)(OLD_T0 + 20), (long long)OLD_A, (long long)(OLD_T0 + 15), (long long)OLD_B,
             (long long)old_received(4), (long long)OLD_A, (long long)OLD_B, (long long)OLD_HUB,
             (long long)(OLD_T0 + 70));
    exec_sql(db, sql);
    sqlite3_close(db);

    struct replica *old = open_at(f, "old-journal", 1);
    assert_int_equal(migrate_version(replica_db(old), "engine"), (int)engine_migrations_count);
    assert_true(replica_node(old) == OLD_HUB);
    assert_int_equal(count(old, "SELECT count(*) FROM sqlite_master WHERE name = 'hl_log'"), 0);
    /* A run of one for each change, at its position. */
    text_for(old,
             "SELECT group_concat(run, ' ') FROM (SELECT pos || ':' || n AS run FROM hl_run"
             " ORDER BY pos)",
             0, text_out, sizeof text_out);
    assert_string_equal(text_out, "1:1 2:1 3:1 4:1 5:1 6:1 7:1 8:1");
    /* Each record's history, in its row with its stamps. */
    text_for(old, "SELECT hl_hist FROM cases WHERE id = '" OLD_CASE "'", 0, text_out,
             sizeof text_out);
    assert_string_equal(text_out, "1,2,3,4");
    text_for(old, "SELECT hl_hist FROM contacts WHERE id = '" OLD_CONTACT "'", 0, text_out,
             sizeof text_out);
    assert_string_equal(text_out, "6,7,8");
    assert_int_equal(count(old, "SELECT count(*) FROM hl_stamp"), 0);
    /* The conflict stays, naming the position of its change, which no
     * journal row is any more. */
    assert_int_equal(count(old, "SELECT count(*) FROM hl_conflict WHERE log_pos = 4"
                                " AND incoming_value = 'mediating' AND winner = 'standing'"),
                     1);
    assert_int_equal(count(old, "SELECT count(*) FROM pragma_foreign_key_list('hl_conflict')"), 0);

    /* Every record's history: each change at its position, with the values
     * it wrote. */
    const struct {
        const char *table, *id;
        size_t first, n; /* the record's changes in d, from first */
    } records[] = {
        {"cases", OLD_CASE, 0, 4},
        {"events", OLD_EVENT, 4, 1},
        {"contacts", OLD_CONTACT, 5, 3},
    };
    for (size_t i = 0; i < 3; i++) {
        struct history *h = history_of(old, records[i].table, records[i].id);
        assert_int_equal(h->changes->nchanges, records[i].n);
        for (size_t k = 0; k < records[i].n; k++) {
            size_t at = records[i].first + k;
            assert_int_equal(h->pos[k], (int64_t)at + 1);
            assert_int_equal(h->received_ms[k], old_received((int64_t)at + 1));
            assert_same_write(&d->changes[at], &h->changes->changes[k]);
        }
        history_free(h);
    }

    /* The hub's own changes wait to be sent; every change goes down to a
     * laptop, which ends where the hub is. */
    struct delta *out = delta_new(DELTA_PUSH);
    assert_int_equal(replica_pending(old, 0, 1 << 20, out), 0);
    assert_int_equal(out->nchanges, 2);
    assert_same_write(&d->changes[2], &out->changes[0]);
    assert_same_write(&d->changes[6], &out->changes[1]);
    delta_free(out);
    out = delta_new(DELTA_REPLY);
    assert_int_equal(replica_changes_since(old, 0, "a", 0, 1 << 20, out), 0);
    assert_int_equal(out->nchanges, 8);
    for (size_t i = 0; i < 8; i++) {
        assert_same_write(&d->changes[i], &out->changes[i]);
    }
    assert_int_equal(out->cursor, 8);
    assert_false(out->more);
    out = through_wire(out);
    struct replica_apply_opts opts = {OLD_HUB, "a", 0};
    struct replica_apply_result r;
    assert_int_equal(replica_apply(f->a2, out, &opts, &r, NULL), 0);
    assert_int_equal(r.applied, 8);
    delta_free(out);
    assert_same_export(old, f->a2, "a");
    /* From a laptop's old cursor, the rest. */
    out = delta_new(DELTA_REPLY);
    assert_int_equal(replica_changes_since(old, 4, "a", 0, 1 << 20, out), 0);
    assert_int_equal(out->nchanges, 4);
    assert_same_write(&d->changes[4], &out->changes[0]);
    assert_same_write(&d->changes[7], &out->changes[3]);
    delta_free(out);

    /* New writes continue the positions and the sequence. */
    set_status(old, "a", OLD_CASE, "closed");
    assert_int_equal(replica_own_seq(old), 3);
    text_for(old,
             "SELECT pos || ':' || seq || ':' || n FROM hl_run WHERE node = ?1"
             " ORDER BY pos DESC LIMIT 1",
             OLD_HUB, text_out, sizeof text_out);
    assert_string_equal(text_out, "9:3:1");
    struct history *h = history_of(old, "cases", OLD_CASE);
    assert_int_equal(h->changes->nchanges, 5);
    assert_int_equal(h->pos[4], 9);
    c = &h->changes->changes[4];
    assert_wrote_text(c, "status", "closed");
    assert_true(field_of(c, "status")->prev_hlc == OLD_T0 + 20);
    assert_true(field_of(c, "status")->prev_node == OLD_A);
    assert_same_write(&d->changes[3], &h->changes->changes[3]);
    history_free(h);
    out = delta_new(DELTA_REPLY);
    assert_int_equal(replica_changes_since(old, 8, "a", replica_node(f->a2), 1 << 20, out), 0);
    assert_int_equal(out->nchanges, 1);
    assert_int_equal(replica_apply(f->a2, out, &opts, &r, NULL), 0);
    assert_int_equal(r.applied, 1);
    delta_free(out);
    assert_same_export(old, f->a2, "a");
    delta_free(d);
    replica_close(old);
}

/* The JSON form of a change, as cJSON prints the same change in a delta
 * of format 1: delta_change_json() writes it directly and must give the
 * same bytes. hl_refused keeps changes in this form, and the journal of
 * engine migration 0001 kept them so (migration 0003 reads them). */
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
        cmocka_unit_test_setup_teardown(test_history_gives_each_write_its_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_losing_write_kept_in_history, setup, teardown),
        cmocka_unit_test_setup_teardown(test_appended_row_history_keeps_every_write, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_one_run_per_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_holds_at_most_1024_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pull_finds_duplicates_across_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_from_journal_by_change, setup, teardown),
        cmocka_unit_test(test_journal_body_is_the_delta_form),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
