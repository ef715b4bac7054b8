/* SPDX-License-Identifier: MIT */
/*
 * test_ledger_io.c - import and export of cases as JSON Lines and CSV, on
 * real SQLite files with the ledger schema: the reference data imported for
 * one village, imported again with no change, exported and re-imported to
 * the same bytes (also through the hub), single changed fields, removed
 * parties, events that must not change, the township's request for a
 * correction and the village's answer, bad lines refused whole, and the
 * CSV a spreadsheet opens. The reference data is found in $HAMLET_DATA or
 * ../shared/data (run from the repository root).
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

#include <cjson/cJSON.h>

#include "delta.h"
#include "ledger_io.h"
#include "ledger_schema.h"
#include "replica.h"
#include "sync_error.h"
#include "uuid7.h"

#define DATA_LINES 50
#define CODE       "village-a" /* the partition of the test device's village */

static const char case_a[] = "0190f5a2-7b3c-7d4e-8f5a-6b7c8d9e0a01";
static const char case_b[] = "0190f5a2-7b3c-7d4e-8f5a-6b7c8d9e0a02";
static const char case_c[] = "0190f5a2-7b3c-7d4e-8f5a-6b7c8d9e0a03";
static const char case_d[] = "0190f5a2-7b3c-7d4e-8f5a-6b7c8d9e0a04";

struct fixture {
    char dir[64];
    struct replica_config config, hub_config;
    struct replica *open[8];
    size_t nopen;
    char *lines[DATA_LINES]; /* the first lines of cases-200.jsonl, or NULL */
    size_t nlines;
    char village_name[128]; /* the village of the first line */
    struct ledger_io_village village;
};

/* ---- fixture ---- */

static FILE *open_data(void)
{
    const char *env = getenv("HAMLET_DATA");
    const char *dirs[] = {env, "../shared/data", "../../shared/data"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        if (!dirs[i]) {
            continue;
        }
        char path[512];
        snprintf(path, sizeof path, "%s/cases-200.jsonl", dirs[i]);
        FILE *in = fopen(path, "r");
        if (in) {
            return in;
        }
    }
    return NULL;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/hamlet-test-ledger-io-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    ledger_schema_config(&f->config, 0);
    ledger_schema_config(&f->hub_config, 1);
    snprintf(f->village_name, sizeof f->village_name, "杨柳村");

    FILE *in = open_data();
    if (in) {
        char *line = NULL;
        size_t cap = 0;
        while (f->nlines < DATA_LINES && getline(&line, &cap, in) > 0) {
            f->lines[f->nlines++] = strdup(line);
        }
        free(line);
        fclose(in);
        cJSON *first = cJSON_Parse(f->lines[0]);
        assert_non_null(first);
        const cJSON *village = cJSON_GetObjectItemCaseSensitive(first, "village");
        assert_true(cJSON_IsString(village));
        snprintf(f->village_name, sizeof f->village_name, "%s", village->valuestring);
        cJSON_Delete(first);
    }
    f->village = (struct ledger_io_village){CODE, f->village_name};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    for (size_t i = 0; i < f->nopen; i++) {
        replica_close(f->open[i]);
    }
    for (size_t i = 0; i < f->nlines; i++) {
        free(f->lines[i]);
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static struct replica *open_replica(struct fixture *f, const char *name, int hub)
{
    char path[128], why[256];
    snprintf(path, sizeof path, "%s/%s.db", f->dir, name);
    struct replica *r = NULL;
    int rc = replica_open(path, hub ? &f->hub_config : &f->config, &r, why, sizeof why);
    if (rc != 0) {
        fprintf(stderr, "replica_open %s: %s (%s)\n", path, sync_strerror(rc), why);
    }
    assert_int_equal(rc, 0);
    assert_true(f->nopen < sizeof f->open / sizeof f->open[0]);
    f->open[f->nopen++] = r;
    return r;
}

static void need_data(const struct fixture *f)
{
    if (f->nlines < DATA_LINES) {
        fail_msg("the reference data is not at ../shared/data: run from the repository"
                 " root beside shared/, or set HAMLET_DATA");
    }
}

/* ---- helpers ---- */

struct mem {
    char *data;
    size_t len, cap;
};

static int mem_write(void *ctx, const char *data, size_t len)
{
    struct mem *m = ctx;
    if (m->len + len + 1 > m->cap) {
        size_t cap = (m->len + len + 1) * 2;
        char *bigger = realloc(m->data, cap);
        assert_non_null(bigger);
        m->data = bigger;
        m->cap = cap;
    }
    memcpy(m->data + m->len, data, len);
    m->len += len;
    m->data[m->len] = '\0';
    return 0;
}

static int refuse_write(void *ctx, const char *data, size_t len)
{
    (void)ctx;
    (void)data;
    (void)len;
    return 42;
}

/* The JSON Lines export of a village (NULL: all), NUL-terminated; free(). */
static char *export_jsonl(struct replica *r, const char *code)
{
    struct mem m = {0};
    mem_write(&m, "", 0);
    assert_int_equal(ledger_io_export_jsonl(r, code, 0, mem_write, &m), 0);
    return m.data;
}

static char *export_csv(struct replica *r, const char *code)
{
    struct mem m = {0};
    mem_write(&m, "", 0);
    assert_int_equal(ledger_io_export_csv(r, code, 0, mem_write, &m), 0);
    return m.data;
}

static int64_t count(struct replica *r, const char *sql, const char *param)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(replica_db(r), sql, -1, &st, NULL), SQLITE_OK);
    if (param) {
        sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC);
    }
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* The changes the journal holds: each run of hl_run holds n. */
static int64_t journal(struct replica *r)
{
    return count(r, "SELECT coalesce(sum(n), 0) FROM hl_run", NULL);
}

static int import_text(struct replica *r, const struct ledger_io_village *v, const char *text,
                       struct ledger_io_stats *st, char *why, size_t why_len)
{
    return ledger_io_import_line(r, v, text, strlen(text), st, why, why_len);
}

/* Import every line of text with ledger_io_import_file(). */
static int import_all(struct replica *r, const struct ledger_io_village *v, const char *text,
                      struct ledger_io_stats *st, char *why, size_t why_len)
{
    FILE *in = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
    assert_non_null(in);
    int rc = ledger_io_import_file(r, v, in, st, why, why_len);
    fclose(in);
    return rc;
}

static void import_ok(struct replica *r, const struct ledger_io_village *v, const char *text,
                      struct ledger_io_stats *st)
{
    char why[512] = "";
    int rc = import_all(r, v, text, st, why, sizeof why);
    if (rc != 0) {
        fprintf(stderr, "import: %s (%s)\n", sync_strerror(rc), why);
    }
    assert_int_equal(rc, 0);
}

/* The first DATA_LINES lines of the reference data as one text; free(). */
static char *data_text(const struct fixture *f)
{
    struct mem m = {0};
    mem_write(&m, "", 0);
    for (size_t i = 0; i < f->nlines; i++) {
        mem_write(&m, f->lines[i], strlen(f->lines[i]));
    }
    return m.data;
}

static const char *member_text(const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

/* A hand-made case: three parties, two events. cJSON_Delete() it. */
static cJSON *make_case(const char *id, const char *village)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "id", id);
    cJSON_AddStringToObject(c, "village", village);
    cJSON_AddStringToObject(c, "case_no", "（2024）杨柳调字第0901号");
    cJSON_AddStringToObject(c, "category", "neighbour");
    cJSON_AddNumberToObject(c, "severity", 2);
    cJSON_AddStringToObject(c, "status", "mediating");
    cJSON_AddStringToObject(c, "title", "张大山与李小河相邻排水纠纷");
    cJSON_AddStringToObject(c, "facts", "两家共用一条排水沟，李小河填平后雨水倒灌。");
    cJSON_AddStringToObject(c, "claims", "请求恢复排水沟。");
    cJSON *parties = cJSON_AddArrayToObject(c, "parties");
    static const char *const people[][5] = {
        {"张大山", "申请人", "13800000001", "431228197001010011", "杨柳村1组1号"},
        {"李小河", "被申请人", "13800000002", "431228197001010022", "杨柳村1组2号"},
        {"王五", "第三人", "13800000003", "431228197001010033", "杨柳村2组3号"},
    };
    for (size_t i = 0; i < 3; i++) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "name", people[i][0]);
        cJSON_AddStringToObject(p, "role", people[i][1]);
        cJSON_AddStringToObject(p, "phone", people[i][2]);
        cJSON_AddStringToObject(p, "id_no", people[i][3]);
        cJSON_AddStringToObject(p, "address", people[i][4]);
        cJSON_AddItemToArray(parties, p);
    }
    cJSON *mediator = cJSON_AddObjectToObject(c, "mediator");
    cJSON_AddStringToObject(mediator, "id", "M01");
    cJSON_AddStringToObject(mediator, "name", "赵调解");
    cJSON_AddStringToObject(c, "created_at", "2024-05-01T09:00:00+08:00");
    cJSON_AddStringToObject(c, "updated_at", "2024-05-08T10:00:00+08:00");
    cJSON *events = cJSON_AddArrayToObject(c, "events");
    static const char *const happened[][3] = {
        {"2024-05-01", "register", "张大山到村委会申请调解。"},
        {"2024-05-08", "session", "组织双方面对面调解。"},
    };
    for (size_t i = 0; i < 2; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "date", happened[i][0]);
        cJSON_AddStringToObject(e, "kind", happened[i][1]);
        cJSON_AddStringToObject(e, "note", happened[i][2]);
        cJSON_AddItemToArray(events, e);
    }
    return c;
}

static void set_text(cJSON *obj, const char *key, const char *value)
{
    cJSON_ReplaceItemInObjectCaseSensitive(obj, key, cJSON_CreateString(value));
}

static int import_case(struct replica *r, const struct ledger_io_village *v, const cJSON *c,
                       struct ledger_io_stats *st, char *why, size_t why_len)
{
    char *text = cJSON_PrintUnformatted(c);
    assert_non_null(text);
    int rc = import_text(r, v, text, st, why, why_len);
    cJSON_free(text);
    return rc;
}

static void import_case_ok(struct replica *r, const struct ledger_io_village *v, const cJSON *c,
                           struct ledger_io_stats *st)
{
    char why[512] = "";
    int rc = import_case(r, v, c, st, why, sizeof why);
    if (rc != 0) {
        fprintf(stderr, "import: %s (%s)\n", sync_strerror(rc), why);
    }
    assert_int_equal(rc, 0);
}

/* The exported case with this id, parsed; NULL if the export lacks it. */
static cJSON *exported_case(struct replica *r, const char *id)
{
    char *text = export_jsonl(r, NULL);
    cJSON *found = NULL;
    for (char *line = text; *line && !found;) {
        char *end = strchr(line, '\n');
        assert_non_null(end);
        *end = '\0';
        cJSON *c = cJSON_Parse(line);
        assert_non_null(c);
        const char *cid = member_text(c, "id");
        if (cid && strcmp(cid, id) == 0) {
            found = c;
        } else {
            cJSON_Delete(c);
        }
        line = end + 1;
    }
    free(text);
    return found;
}

/* The id the import derives (the engine's derivation, whose values
 * test_uuid7 pins). */
static void derived(const char *seed, char out[UUID7_STRLEN + 1])
{
    assert_int_equal(uuid7_derive(seed, out), 0);
}

/* Every change of dev goes to hub, as a sync would carry it. */
static void push_all(struct replica *dev, struct replica *hub, const char *part)
{
    struct delta *out = delta_new(DELTA_PUSH);
    assert_non_null(out);
    out->node = replica_node(dev);
    snprintf(out->part, sizeof out->part, "%s", part);
    assert_int_equal(replica_pending(dev, 0, (size_t)64 << 20, out), 0);
    struct replica_apply_opts opts = {replica_node(dev), part, 1};
    struct replica_apply_result result;
    assert_int_equal(replica_apply(hub, out, &opts, &result, NULL), 0);
    assert_int_equal(result.refused, 0);
    assert_int_equal(result.applied, out->nchanges);
    delta_free(out);
}

/* ---- the reference data ---- */

static void test_import_data_then_again(void **state)
{
    struct fixture *f = *state;
    need_data(f);
    struct replica *r = open_replica(f, "a", 0);

    /* What the lines hold for our village, counted independently. */
    size_t mine = 0, parties = 0, events = 0;
    for (size_t i = 0; i < f->nlines; i++) {
        cJSON *c = cJSON_Parse(f->lines[i]);
        assert_non_null(c);
        if (strcmp(member_text(c, "village"), f->village_name) == 0) {
            mine++;
            parties += (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(c, "parties"));
            events += (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(c, "events"));
        }
        cJSON_Delete(c);
    }
    assert_true(mine >= 2 && mine < f->nlines);

    struct ledger_io_stats st = {0};
    char why[256];
    for (size_t i = 0; i < f->nlines; i++) {
        int rc = import_text(r, &f->village, f->lines[i], &st, why, sizeof why);
        if (rc != 0) {
            fprintf(stderr, "line %zu: %s\n", i + 1, why);
        }
        assert_int_equal(rc, 0);
    }
    assert_int_equal(st.records, f->nlines);
    assert_int_equal(st.created, mine);
    assert_int_equal(st.skipped_other_village, f->nlines - mine);
    assert_int_equal(st.updated, 0);
    assert_int_equal(st.unchanged, 0);
    /* One entry per case, per contact, per party row and per event. */
    assert_int_equal(st.changes, mine + 2 * parties + events);
    assert_int_equal(replica_own_seq(r), (int64_t)st.changes);
    assert_int_equal(count(r, "SELECT count(*) FROM cases WHERE village = ?1", CODE), mine);
    assert_int_equal(count(r, "SELECT count(*) FROM case_parties", NULL), parties);
    assert_int_equal(count(r, "SELECT count(*) FROM contacts", NULL), parties);
    assert_int_equal(count(r, "SELECT count(*) FROM events", NULL), events);
    assert_int_equal(count(r, "SELECT count(*) FROM cases WHERE village <> ?1", CODE), 0);

    /* The same lines again, one by one and as a file: nothing changes. */
    int64_t seq = replica_own_seq(r), journaled = journal(r);
    struct ledger_io_stats again = {0};
    for (size_t i = 0; i < f->nlines; i++) {
        assert_int_equal(import_text(r, &f->village, f->lines[i], &again, why, sizeof why), 0);
    }
    char *text = data_text(f);
    import_ok(r, &f->village, text, &again);
    free(text);
    assert_int_equal(again.records, 2 * f->nlines);
    assert_int_equal(again.created, 0);
    assert_int_equal(again.updated, 0);
    assert_int_equal(again.unchanged, 2 * mine);
    assert_int_equal(again.changes, 0);
    assert_int_equal(replica_own_seq(r), seq);
    assert_int_equal(journal(r), journaled);
}

static void test_export_is_a_fixed_point(void **state)
{
    struct fixture *f = *state;
    need_data(f);
    struct replica *a = open_replica(f, "a", 0);
    struct replica *b = open_replica(f, "b", 0);
    char *text = data_text(f);
    struct ledger_io_stats st = {0};
    import_ok(a, &f->village, text, &st);
    free(text);

    char *first = export_jsonl(a, CODE);
    size_t lines = 0;
    for (const char *p = first; *p; p++) {
        lines += *p == '\n';
    }
    assert_int_equal(lines, st.created);
    assert_int_equal(first[strlen(first) - 1], '\n');

    /* Into a fresh replica of the same village, and out again. */
    struct ledger_io_stats st_b = {0};
    import_ok(b, &f->village, first, &st_b);
    assert_int_equal(st_b.created, st.created);
    assert_int_equal(st_b.changes, st.changes);
    char *second = export_jsonl(b, CODE);
    assert_string_equal(first, second);
    /* The engine's own export agrees too: the same ids everywhere. */
    struct mem canon_a = {0}, canon_b = {0};
    assert_int_equal(replica_export(a, CODE, mem_write, &canon_a), 0);
    assert_int_equal(replica_export(b, CODE, mem_write, &canon_b), 0);
    assert_string_equal(canon_a.data, canon_b.data);
    free(canon_a.data);
    free(canon_b.data);

    /* The export imported where it came from is recognised: no change. */
    struct ledger_io_stats back = {0};
    import_ok(a, &f->village, first, &back);
    assert_int_equal(back.changes, 0);
    assert_int_equal(back.unchanged, st.created);
    char *all = export_jsonl(a, NULL);
    assert_string_equal(first, all);

    /* The hub holding the village's changes exports the same bytes, and so
     * does a hub that imported the export itself. */
    struct replica *hub = open_replica(f, "hub", 1);
    push_all(a, hub, CODE);
    char *from_hub = export_jsonl(hub, CODE);
    assert_string_equal(first, from_hub);
    struct replica *hub2 = open_replica(f, "hub2", 1);
    struct ledger_io_stats st_hub = {0};
    import_ok(hub2, NULL, first, &st_hub);
    assert_int_equal(st_hub.created, st.created);
    char *from_hub2 = export_jsonl(hub2, CODE);
    assert_string_equal(first, from_hub2);
    char *other = export_jsonl(hub2, "no-such-village");
    assert_string_equal(other, "");

    free(first);
    free(second);
    free(all);
    free(from_hub);
    free(from_hub2);
    free(other);
}

static void compare_member(const cJSON *in, const cJSON *out, const char *key, const char *what)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(in, key);
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(out, key);
    if (!a || !b || !cJSON_Compare(a, b, 1)) {
        fprintf(stderr, "%s: member %s differs\n", what, key);
        fail();
    }
}

static void check_derived_v8(const char *id)
{
    assert_true(uuid7_valid(id));
    assert_int_equal(id[14], '8');
    assert_non_null(strchr("89ab", id[19]));
}

static void test_export_keeps_every_value(void **state)
{
    struct fixture *f = *state;
    need_data(f);
    struct replica *r = open_replica(f, "a", 0);
    char *text = data_text(f);
    struct ledger_io_stats st = {0};
    import_ok(r, &f->village, text, &st);
    free(text);

    static const char *const plain[] = {"id",       "case_no",    "category",  "severity",
                                        "status",   "title",      "facts",     "claims",
                                        "mediator", "created_at", "updated_at"};
    static const char *const order[] = {
        "id",    "village", "case_no", "category", "severity",   "status",     "title",
        "facts", "claims",  "parties", "mediator", "created_at", "updated_at", "events"};
    size_t compared = 0;
    for (size_t i = 0; i < f->nlines; i++) {
        cJSON *in = cJSON_Parse(f->lines[i]);
        assert_non_null(in);
        const char *id = member_text(in, "id");
        cJSON *out = exported_case(r, id);
        if (strcmp(member_text(in, "village"), f->village_name) != 0) {
            assert_null(out);
            cJSON_Delete(in);
            continue;
        }
        assert_non_null(out);
        compared++;
        /* The members of the reference shape, in the export's order. */
        size_t k = 0;
        const cJSON *member;
        cJSON_ArrayForEach(member, out)
        {
            assert_true(k < sizeof order / sizeof order[0]);
            assert_string_equal(member->string, order[k++]);
        }
        assert_int_equal(k, sizeof order / sizeof order[0]);
        for (size_t j = 0; j < sizeof plain / sizeof plain[0]; j++) {
            compare_member(in, out, plain[j], id);
        }
        assert_string_equal(member_text(out, "village"), CODE);

        const cJSON *pin = cJSON_GetObjectItemCaseSensitive(in, "parties");
        const cJSON *pout = cJSON_GetObjectItemCaseSensitive(out, "parties");
        assert_int_equal(cJSON_GetArraySize(pin), cJSON_GetArraySize(pout));
        for (int j = 0; j < cJSON_GetArraySize(pin); j++) {
            const cJSON *p = cJSON_GetArrayItem(pin, j), *q = cJSON_GetArrayItem(pout, j);
            static const char *const keys[] = {"name", "role", "phone", "id_no", "address"};
            for (size_t m = 0; m < sizeof keys / sizeof keys[0]; m++) {
                compare_member(p, q, keys[m], id);
            }
            char seed[128], want[UUID7_STRLEN + 1];
            snprintf(seed, sizeof seed, "%s/party/%d", id, j);
            derived(seed, want);
            check_derived_v8(member_text(q, "id"));
            assert_string_equal(member_text(q, "id"), want);
        }
        const cJSON *ein = cJSON_GetObjectItemCaseSensitive(in, "events");
        const cJSON *eout = cJSON_GetObjectItemCaseSensitive(out, "events");
        assert_int_equal(cJSON_GetArraySize(ein), cJSON_GetArraySize(eout));
        for (int j = 0; j < cJSON_GetArraySize(ein); j++) {
            const cJSON *e = cJSON_GetArrayItem(ein, j), *g = cJSON_GetArrayItem(eout, j);
            compare_member(e, g, "date", id);
            compare_member(e, g, "kind", id);
            compare_member(e, g, "note", id);
            char seed[128], want[UUID7_STRLEN + 1];
            snprintf(seed, sizeof seed, "%s/event/%d", id, j);
            derived(seed, want);
            assert_string_equal(member_text(g, "id"), want);
        }
        /* The contact row carries the derived contact id. */
        char seed[128], contact[UUID7_STRLEN + 1];
        snprintf(seed, sizeof seed, "%s/contact/0", id);
        derived(seed, contact);
        assert_int_equal(count(r, "SELECT count(*) FROM contacts WHERE id = ?1", contact), 1);
        cJSON_Delete(in);
        cJSON_Delete(out);
    }
    assert_int_equal(compared, st.created);
}

/* ---- hand-made edits ---- */

static void test_one_changed_field_is_one_change(void **state)
{
    struct fixture *f = *state;
    struct replica *r = open_replica(f, "a", 0);
    cJSON *c = make_case(case_a, f->village_name);
    struct ledger_io_stats st = {0};
    import_case_ok(r, &f->village, c, &st);
    assert_int_equal(st.created, 1);
    /* case, 3 contacts, 3 party rows, 2 events */
    assert_int_equal(st.changes, 9);

    int64_t journaled = journal(r);
    set_text(c, "title", "张大山与李小河相邻排水及通行纠纷");
    struct ledger_io_stats edit = {0};
    import_case_ok(r, &f->village, c, &edit);
    assert_int_equal(edit.updated, 1);
    assert_int_equal(edit.changes, 1);
    assert_int_equal(journal(r), journaled + 1);

    /* A party's phone: one change, to the contact. */
    cJSON *party = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(c, "parties"), 1);
    set_text(party, "phone", "13900000009");
    struct ledger_io_stats phone = {0};
    import_case_ok(r, &f->village, c, &phone);
    assert_int_equal(phone.changes, 1);
    assert_int_equal(journal(r), journaled + 2);

    /* The severity, given as 3.0: one change. */
    cJSON_ReplaceItemInObjectCaseSensitive(c, "severity", cJSON_CreateNumber(3.0));
    struct ledger_io_stats sev = {0};
    import_case_ok(r, &f->village, c, &sev);
    assert_int_equal(sev.changes, 1);

    cJSON *out = exported_case(r, case_a);
    assert_non_null(out);
    assert_string_equal(member_text(out, "title"), "张大山与李小河相邻排水及通行纠纷");
    const cJSON *p1 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(out, "parties"), 1);
    assert_string_equal(member_text(p1, "phone"), "13900000009");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(out, "severity")->valuedouble, 3);

    /* An absent member leaves the field alone; null clears it; optional
     * members appear in the export only when set. */
    cJSON_DeleteItemFromObjectCaseSensitive(c, "claims");
    cJSON_AddStringToObject(c, "outcome", "达成协议");
    cJSON_AddNumberToObject(c, "level", 2);
    cJSON_ReplaceItemInObjectCaseSensitive(c, "mediator", cJSON_CreateNull());
    struct ledger_io_stats more = {0};
    import_case_ok(r, &f->village, c, &more);
    assert_int_equal(more.changes, 1);
    cJSON_Delete(out);
    out = exported_case(r, case_a);
    assert_string_equal(member_text(out, "claims"), "请求恢复排水沟。");
    assert_string_equal(member_text(out, "outcome"), "达成协议");
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(out, "mediator")));
    assert_null(cJSON_GetObjectItemCaseSensitive(out, "kind"));
    char *line = cJSON_PrintUnformatted(out);
    assert_non_null(strstr(line, "\"level\":2,\"title\""));
    assert_non_null(strstr(line, "\"mediator\":null,\"outcome\":\"达成协议\",\"created_at\""));
    cJSON_free(line);
    cJSON_Delete(out);
    cJSON_Delete(c);
}

static void test_removed_party_is_tombstoned(void **state)
{
    struct fixture *f = *state;
    struct replica *r = open_replica(f, "a", 0);
    cJSON *c = make_case(case_a, f->village_name);
    struct ledger_io_stats st = {0};
    import_case_ok(r, &f->village, c, &st);
    cJSON *before = exported_case(r, case_a);
    const cJSON *parties = cJSON_GetObjectItemCaseSensitive(before, "parties");
    char gone[UUID7_STRLEN + 1];
    snprintf(gone, sizeof gone, "%s", member_text(cJSON_GetArrayItem(parties, 2), "id"));

    /* The third party leaves the list: one change, its tombstone. */
    cJSON_DeleteItemFromArray(cJSON_GetObjectItemCaseSensitive(c, "parties"), 2);
    struct ledger_io_stats edit = {0};
    import_case_ok(r, &f->village, c, &edit);
    assert_int_equal(edit.changes, 1);
    assert_int_equal(edit.updated, 1);
    assert_int_equal(count(r, "SELECT deleted FROM case_parties WHERE id = ?1", gone), 1);
    char *text = export_jsonl(r, CODE);
    assert_null(strstr(text, gone));
    assert_null(strstr(text, "王五"));
    free(text);
    cJSON *after = exported_case(r, case_a);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(after, "parties")), 2);

    /* Importing the old export, which names the removed party, is refused. */
    char *old = cJSON_PrintUnformatted(before);
    char why[256] = "";
    int64_t seq = replica_own_seq(r);
    assert_int_equal(import_text(r, &f->village, old, NULL, why, sizeof why), SYNC_E_STATE);
    assert_non_null(strstr(why, "parties[2].id"));
    assert_int_equal(replica_own_seq(r), seq);
    cJSON_free(old);

    /* Someone new in third place gets a new id, and shows. */
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "name", "孙七");
    cJSON_AddStringToObject(p, "role", "第三人");
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(c, "parties"), p);
    struct ledger_io_stats add = {0};
    import_case_ok(r, &f->village, c, &add);
    assert_int_equal(add.changes, 2); /* contact and party row */
    cJSON *again = exported_case(r, case_a);
    const cJSON *third = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(again, "parties"), 2);
    assert_non_null(third);
    assert_string_equal(member_text(third, "name"), "孙七");
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(third, "phone")));
    assert_string_not_equal(member_text(third, "id"), gone);
    check_derived_v8(member_text(third, "id"));

    /* An empty list removes every party. */
    cJSON_ReplaceItemInObjectCaseSensitive(c, "parties", cJSON_CreateArray());
    struct ledger_io_stats none = {0};
    import_case_ok(r, &f->village, c, &none);
    assert_int_equal(none.changes, 3);
    assert_int_equal(
        count(r, "SELECT count(*) FROM case_parties WHERE case_id = ?1 AND deleted = 0", case_a),
        0);

    cJSON_Delete(before);
    cJSON_Delete(after);
    cJSON_Delete(again);
    cJSON_Delete(c);
}

static void test_event_changed_in_place_is_refused(void **state)
{
    struct fixture *f = *state;
    struct replica *r = open_replica(f, "a", 0);
    cJSON *c = make_case(case_a, f->village_name);
    import_case_ok(r, &f->village, c, NULL);
    int64_t seq = replica_own_seq(r), journaled = journal(r);
    char *before = export_jsonl(r, NULL);

    /* A changed title and an edited event: the edit refuses the whole line. */
    set_text(c, "title", "改过的标题");
    cJSON *event = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(c, "events"), 1);
    set_text(event, "note", "组织双方面对面调解，达成一致。");
    char why[256] = "";
    struct ledger_io_stats st = {0};
    assert_int_equal(import_case(r, &f->village, c, &st, why, sizeof why), SYNC_E_APPEND_ONLY);
    assert_non_null(strstr(why, "events[1]"));
    assert_non_null(strstr(why, "never edited"));
    assert_int_equal(replica_own_seq(r), seq);
    assert_int_equal(journal(r), journaled);
    assert_int_equal(st.records, 0);
    char *after = export_jsonl(r, NULL);
    assert_string_equal(before, after);

    /* The correction as a new event is accepted. */
    set_text(event, "note", "组织双方面对面调解。");
    cJSON *fix = cJSON_CreateObject();
    cJSON_AddStringToObject(fix, "date", "2024-05-09");
    cJSON_AddStringToObject(fix, "kind", "session");
    cJSON_AddStringToObject(fix, "note", "更正：5月8日调解达成一致。");
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(c, "events"), fix);
    struct ledger_io_stats ok = {0};
    import_case_ok(r, &f->village, c, &ok);
    assert_int_equal(ok.changes, 2); /* the title and the new event */
    assert_int_equal(count(r, "SELECT count(*) FROM events WHERE case_id = ?1", case_a), 3);

    free(before);
    free(after);
    cJSON_Delete(c);
}

static void test_optional_members_round_trip(void **state)
{
    struct fixture *f = *state;
    struct replica *a = open_replica(f, "a", 0);
    struct replica *b = open_replica(f, "b", 0);
    cJSON *c = make_case(case_a, f->village_name);
    cJSON_AddStringToObject(c, "kind", "petition");
    cJSON_AddStringToObject(c, "channel", "visit");
    cJSON_AddNumberToObject(c, "level", 3);
    cJSON_AddStringToObject(c, "received_by", "村支书");
    cJSON_AddStringToObject(c, "outcome", "已答复");
    cJSON_AddStringToObject(c, "unknown_member", "ignored");
    import_case_ok(a, &f->village, c, NULL);

    char *first = export_jsonl(a, CODE);
    cJSON *out = cJSON_Parse(first);
    assert_non_null(out);
    static const char *const order[] = {
        "id",          "village", "case_no",    "kind",       "channel", "category", "severity",
        "status",      "level",   "title",      "facts",      "claims",  "parties",  "mediator",
        "received_by", "outcome", "created_at", "updated_at", "events"};
    size_t k = 0;
    const cJSON *member;
    cJSON_ArrayForEach(member, out)
    {
        assert_true(k < sizeof order / sizeof order[0]);
        assert_string_equal(member->string, order[k++]);
    }
    assert_int_equal(k, sizeof order / sizeof order[0]);
    assert_string_equal(member_text(out, "received_by"), "村支书");
    assert_non_null(strstr(first, "\"level\":3,"));

    struct ledger_io_stats st = {0};
    import_ok(b, &f->village, first, &st);
    char *second = export_jsonl(b, CODE);
    assert_string_equal(first, second);
    free(first);
    free(second);
    cJSON_Delete(out);
    cJSON_Delete(c);
}

/* The workflow's fields and the four of a correction travel in the
 * export, in their place, and only when set. */
static void test_correction_members_round_trip(void **state)
{
    struct fixture *f = *state;
    struct replica *a = open_replica(f, "a", 0);
    struct replica *b = open_replica(f, "b", 0);
    cJSON *c = make_case(case_a, f->village_name);
    cJSON_AddStringToObject(c, "opinion", "satisfied");
    cJSON_AddStringToObject(c, "correction", "调解笔录缺双方签名，\n请补签");
    cJSON_AddStringToObject(c, "correction_on", "2024-05-10");
    cJSON_AddStringToObject(c, "correction_reply", "已补签");
    cJSON_AddStringToObject(c, "correction_reply_on", "2024-05-12");
    import_case_ok(a, &f->village, c, NULL);

    char *first = export_jsonl(a, CODE);
    cJSON *out = cJSON_Parse(first);
    assert_non_null(out);
    static const char *const order[] = {"id",
                                        "village",
                                        "case_no",
                                        "category",
                                        "severity",
                                        "status",
                                        "title",
                                        "facts",
                                        "claims",
                                        "parties",
                                        "mediator",
                                        "opinion",
                                        "correction",
                                        "correction_on",
                                        "correction_reply",
                                        "correction_reply_on",
                                        "created_at",
                                        "updated_at",
                                        "events"};
    size_t k = 0;
    const cJSON *member;
    cJSON_ArrayForEach(member, out)
    {
        assert_true(k < sizeof order / sizeof order[0]);
        assert_string_equal(member->string, order[k++]);
    }
    assert_int_equal(k, sizeof order / sizeof order[0]);
    assert_string_equal(member_text(out, "correction"), "调解笔录缺双方签名，\n请补签");
    assert_string_equal(member_text(out, "correction_reply_on"), "2024-05-12");

    /* Through a second replica to the same bytes. */
    struct ledger_io_stats st = {0};
    import_ok(b, &f->village, first, &st);
    char *second = export_jsonl(b, CODE);
    assert_string_equal(first, second);
    free(second);

    /* Cleared: the request leaves the export, the answer stays. */
    cJSON_ReplaceItemInObjectCaseSensitive(c, "correction", cJSON_CreateNull());
    cJSON_ReplaceItemInObjectCaseSensitive(c, "correction_on", cJSON_CreateNull());
    import_case_ok(a, &f->village, c, NULL);
    char *cleared = export_jsonl(a, CODE);
    assert_null(strstr(cleared, "\"correction\":"));
    assert_null(strstr(cleared, "\"correction_on\":"));
    assert_non_null(strstr(cleared, "\"correction_reply\":\"已补签\""));
    free(cleared);
    free(first);
    cJSON_Delete(out);
    cJSON_Delete(c);
}

/* ---- refusals ---- */

static void expect_refused(struct replica *r, const struct ledger_io_village *v, const char *line,
                           size_t len, int code, const char *reason)
{
    int64_t seq = replica_own_seq(r);
    int64_t cases = count(r, "SELECT count(*) FROM cases", NULL);
    char why[256] = "";
    struct ledger_io_stats st = {0};
    int rc = ledger_io_import_line(r, v, line, len, &st, why, sizeof why);
    if (rc != code || !strstr(why, reason)) {
        fprintf(stderr, "got %s (%s), wanted %s (%s)\n", sync_error_name(rc), why,
                sync_error_name(code), reason);
        fail();
    }
    assert_int_equal(st.records, 0);
    assert_int_equal(replica_own_seq(r), seq);
    assert_int_equal(count(r, "SELECT count(*) FROM cases", NULL), cases);
}

static void expect_case_refused(struct replica *r, const struct ledger_io_village *v, cJSON *c,
                                int code, const char *reason)
{
    char *text = cJSON_PrintUnformatted(c);
    expect_refused(r, v, text, strlen(text), code, reason);
    cJSON_free(text);
    cJSON_Delete(c);
}

static void test_bad_lines_change_nothing(void **state)
{
    struct fixture *f = *state;
    struct replica *r = open_replica(f, "a", 0);
    const struct ledger_io_village *v = &f->village;
    cJSON *good = make_case(case_a, f->village_name);
    import_case_ok(r, v, good, NULL);
    cJSON_Delete(good);

    static const char not_json[] = "{\"id\": \"0190f5a2-7b3c-7d4e-8f5a-6b7c8d9e0a02\",";
    expect_refused(r, v, not_json, strlen(not_json), SYNC_E_JSON, "not JSON");
    expect_refused(r, v, "[1, 2]", 6, SYNC_E_JSON_NOT_OBJECT, "object");
    expect_refused(r, v, "{} {}", 5, SYNC_E_JSON, "more after");
    expect_refused(r, v, "", 0, SYNC_E_JSON, "not JSON");
    static const char bad_utf8[] = "{\"id\":\"0190f5a2-7b3c-7d4e-8f5a-6b7c8d9e0a02\","
                                   "\"village\":\"\xff\xfe\"}";
    expect_refused(r, v, bad_utf8, strlen(bad_utf8), SYNC_E_UTF8, "UTF-8");

    cJSON *c = make_case(case_b, f->village_name);
    set_text(c, "id", "not-a-uuid");
    expect_case_refused(r, v, c, SYNC_E_FIELD_TYPE, "id: expected a UUID");
    c = make_case(case_b, f->village_name);
    set_text(c, "id", "0190F5A2-7B3C-7D4E-8F5A-6B7C8D9E0A02");
    expect_case_refused(r, v, c, SYNC_E_FIELD_TYPE, "id: expected a UUID");
    c = make_case(case_b, f->village_name);
    cJSON_DeleteItemFromObjectCaseSensitive(c, "id");
    expect_case_refused(r, v, c, SYNC_E_FIELD_MISSING, "id: missing");
    c = make_case(case_b, f->village_name);
    cJSON_DeleteItemFromObjectCaseSensitive(c, "village");
    expect_case_refused(r, v, c, SYNC_E_FIELD_MISSING, "village: missing");
    c = make_case(case_b, f->village_name);
    cJSON_AddStringToObject(c, "correction_on", "2024-02-30");
    expect_case_refused(r, v, c, SYNC_E_FIELD_TYPE, "correction_on: expected a date");
    c = make_case(case_b, f->village_name);
    cJSON_AddNumberToObject(c, "correction", 1);
    expect_case_refused(r, v, c, SYNC_E_FIELD_TYPE, "correction: expected a string");
    c = make_case(case_b, f->village_name);
    set_text(c, "village", "");
    expect_case_refused(r, v, c, SYNC_E_FIELD_TYPE, "village");

    c = make_case(case_b, f->village_name);
    cJSON_ReplaceItemInObjectCaseSensitive(c, "severity", cJSON_CreateNumber(7));
    expect_case_refused(r, v, c, SYNC_E_FIELD_TYPE, "severity: expected 1, 2 or 3");
    c = make_case(case_b, f->village_name);
    cJSON_ReplaceItemInObjectCaseSensitive(c, "severity", cJSON_CreateNumber(1.5));
    expect_case_refused(r, v, c, SYNC_E_FIELD_TYPE, "severity");
    c = make_case(case_b, f->village_name);
    set_text(c, "severity", "2");
    expect_case_refused(r, v, c, SYNC_E_FIELD_TYPE, "severity");
    c = make_case(case_b, f->village_name);
    cJSON_ReplaceItemInObjectCaseSensitive(c, "status", cJSON_CreateNumber(1));
    expect_case_refused(r, v, c, SYNC_E_FIELD_TYPE, "status: expected a string");
    c = make_case(case_b, f->village_name);
    cJSON_ReplaceItemInObjectCaseSensitive(c, "mediator", cJSON_CreateString("赵调解"));
    expect_case_refused(r, v, c, SYNC_E_FIELD_TYPE, "mediator");

    c = make_case(case_b, f->village_name);
    cJSON_ReplaceItemInObjectCaseSensitive(c, "parties", cJSON_CreateObject());
    expect_case_refused(r, v, c, SYNC_E_FIELD_TYPE, "parties: expected an array");
    c = make_case(case_b, f->village_name);
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(c, "parties"), cJSON_CreateNumber(1));
    expect_case_refused(r, v, c, SYNC_E_FIELD_TYPE, "parties[3]: expected an object");
    c = make_case(case_b, f->village_name);
    cJSON *party = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(c, "parties"), 1);
    cJSON_ReplaceItemInObjectCaseSensitive(party, "phone", cJSON_CreateNumber(13800000002.0));
    expect_case_refused(r, v, c, SYNC_E_FIELD_TYPE, "parties[1].phone");

    c = make_case(case_b, f->village_name);
    cJSON *event = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(c, "events"), 1);
    set_text(event, "date", "2024-02-30");
    expect_case_refused(r, v, c, SYNC_E_FIELD_TYPE, "events[1].date: expected a date YYYY-MM-DD");
    c = make_case(case_b, f->village_name);
    event = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(c, "events"), 0);
    cJSON_DeleteItemFromObjectCaseSensitive(event, "kind");
    expect_case_refused(r, v, c, SYNC_E_FIELD_MISSING, "events[0].kind");
    c = make_case(case_b, f->village_name);
    cJSON_ReplaceItemInObjectCaseSensitive(c, "events", cJSON_CreateString("none"));
    expect_case_refused(r, v, c, SYNC_E_FIELD_TYPE, "events: expected an array");

    /* Nothing of the refused cases was written: only case A's parties. */
    assert_int_equal(count(r, "SELECT count(*) FROM case_parties", NULL), 3);
    assert_int_equal(count(r, "SELECT count(*) FROM events", NULL), 2);

    /* Text beyond the schema's limit. */
    size_t max_text = replica_schema(r)->max_text;
    char *big = malloc(max_text + 2);
    assert_non_null(big);
    memset(big, 'x', max_text + 1);
    big[max_text + 1] = '\0';
    c = make_case(case_b, f->village_name);
    set_text(c, "facts", big);
    expect_case_refused(r, v, c, SYNC_E_JSON_STRING, "facts:");
    big[max_text] = '\0';
    c = make_case(case_b, f->village_name);
    set_text(c, "facts", big);
    import_case_ok(r, v, c, NULL); /* exactly the limit is fine */
    cJSON_Delete(c);
    free(big);

    /* A line over 1 MiB, even well-formed, is refused unread. */
    size_t len = LEDGER_IO_MAX_LINE + 64;
    char *huge = malloc(len + 1);
    assert_non_null(huge);
    int head =
        snprintf(huge, len + 1, "{\"id\":\"%s\",\"village\":\"%s\",\"notes\":\"", case_c, CODE);
    memset(huge + head, 'y', len - (size_t)head - 2);
    memcpy(huge + len - 2, "\"}", 3);
    expect_refused(r, v, huge, len, SYNC_E_JSON_STRING, "longer than 1048576 bytes");
    free(huge);

    assert_int_equal(count(r, "SELECT count(*) FROM cases", NULL), 2);
}

static void test_import_file_stops_at_bad_line(void **state)
{
    struct fixture *f = *state;
    struct replica *r = open_replica(f, "a", 0);
    const char *ids[] = {case_a, case_b, case_c, case_d};
    struct mem text = {0};
    mem_write(&text, "", 0);
    for (size_t i = 0; i < 4; i++) {
        cJSON *c = make_case(ids[i], f->village_name);
        if (i == 2) {
            cJSON_ReplaceItemInObjectCaseSensitive(c, "severity", cJSON_CreateNumber(7));
        }
        char *line = cJSON_PrintUnformatted(c);
        mem_write(&text, line, strlen(line));
        mem_write(&text, i == 0 ? "\r\n  \r\n\n" : "\n", i == 0 ? 7 : 1);
        cJSON_free(line);
        cJSON_Delete(c);
    }
    char why[256] = "";
    struct ledger_io_stats st = {0};
    assert_int_equal(import_all(r, &f->village, text.data, &st, why, sizeof why),
                     SYNC_E_FIELD_TYPE);
    assert_string_equal(why, "line 5: severity: expected 1, 2 or 3");
    assert_int_equal(st.records, 2);
    assert_int_equal(st.created, 2);
    assert_int_equal(count(r, "SELECT count(*) FROM cases WHERE id = ?1", case_a), 1);
    assert_int_equal(count(r, "SELECT count(*) FROM cases WHERE id = ?1", case_b), 1);
    assert_int_equal(count(r, "SELECT count(*) FROM cases WHERE id = ?1", case_c), 0);
    assert_int_equal(count(r, "SELECT count(*) FROM cases WHERE id = ?1", case_d), 0);
    free(text.data);

    /* An over-long line is reported with its number, not read whole. */
    struct mem longer = {0};
    mem_write(&longer, "\n", 1);
    char *chunk = malloc(LEDGER_IO_MAX_LINE + 2);
    assert_non_null(chunk);
    memset(chunk, ' ', LEDGER_IO_MAX_LINE + 2);
    mem_write(&longer, chunk, LEDGER_IO_MAX_LINE + 2);
    mem_write(&longer, "{}\n", 3);
    free(chunk);
    assert_int_equal(import_all(r, &f->village, longer.data, NULL, why, sizeof why),
                     SYNC_E_JSON_STRING);
    assert_string_equal(why, "line 2: the line is longer than 1048576 bytes");
    free(longer.data);

    /* A last line without a newline is read. */
    cJSON *c = make_case(case_d, f->village_name);
    char *line = cJSON_PrintUnformatted(c);
    struct ledger_io_stats last = {0};
    import_ok(r, &f->village, line, &last);
    assert_int_equal(last.created, 1);
    cJSON_free(line);
    cJSON_Delete(c);
}

/* ---- villages ---- */

static void test_villages_and_deleted_cases(void **state)
{
    struct fixture *f = *state;
    struct replica *r = open_replica(f, "a", 0);

    /* The village by its code is ours too; another one is skipped. */
    cJSON *by_code = make_case(case_a, CODE);
    cJSON *other = make_case(case_b, "别的村");
    struct ledger_io_stats st = {0};
    import_case_ok(r, &f->village, by_code, &st);
    int64_t seq = replica_own_seq(r);
    import_case_ok(r, &f->village, other, &st);
    assert_int_equal(st.records, 2);
    assert_int_equal(st.created, 1);
    assert_int_equal(st.skipped_other_village, 1);
    assert_int_equal(replica_own_seq(r), seq);
    assert_int_equal(count(r, "SELECT count(*) FROM cases WHERE id = ?1", case_b), 0);

    /* The same record under the name updates the same case. */
    cJSON *by_name = make_case(case_a, f->village_name);
    struct ledger_io_stats same = {0};
    import_case_ok(r, &f->village, by_name, &same);
    assert_int_equal(same.unchanged, 1);

    /* The hub takes every village, filed under the record's own value. */
    struct replica *hub = open_replica(f, "hub", 1);
    struct ledger_io_stats hub_st = {0};
    import_case_ok(hub, NULL, by_name, &hub_st);
    import_case_ok(hub, NULL, other, &hub_st);
    assert_int_equal(hub_st.created, 2);
    assert_int_equal(count(hub, "SELECT count(*) FROM cases WHERE village = ?1", "别的村"), 1);
    assert_int_equal(count(hub, "SELECT count(*) FROM events WHERE village = ?1", "别的村"), 2);
    char *one = export_jsonl(hub, "别的村");
    assert_non_null(strstr(one, case_b));
    assert_null(strstr(one, case_a));
    free(one);
    /* A case held in another village is not moved by an import. */
    cJSON *moved = make_case(case_b, f->village_name);
    char why[256] = "";
    assert_int_equal(import_case(hub, NULL, moved, NULL, why, sizeof why), SYNC_E_PARTITION);
    assert_non_null(strstr(why, "别的村"));

    /* A deleted case stays deleted, and out of the export. */
    assert_int_equal(replica_delete(r, "cases", case_a), 0);
    seq = replica_own_seq(r);
    set_text(by_name, "title", "删除后又导入");
    struct ledger_io_stats del = {0};
    import_case_ok(r, &f->village, by_name, &del);
    assert_int_equal(del.skipped_deleted, 1);
    assert_int_equal(del.changes, 0);
    assert_int_equal(replica_own_seq(r), seq);
    char *none = export_jsonl(r, CODE);
    assert_string_equal(none, "");
    free(none);

    /* Arguments: a village without a code. Inside a caller's unit of work,
     * the import is part of it and rolls back with it. */
    struct ledger_io_village no_code = {NULL, "x"};
    assert_int_equal(import_case(r, &no_code, by_name, NULL, why, sizeof why), SYNC_E_ARG);
    assert_int_equal(replica_begin(r), 0);
    assert_int_equal(import_case(r, &f->village, by_name, NULL, why, sizeof why), 0);
    replica_rollback(r);
    none = export_jsonl(r, CODE);
    assert_string_equal(none, "");
    free(none);
    assert_int_equal(ledger_io_export_jsonl(r, NULL, 0, NULL, NULL), SYNC_E_ARG);

    cJSON_Delete(by_code);
    cJSON_Delete(other);
    cJSON_Delete(by_name);
    cJSON_Delete(moved);
}

/* ---- CSV ---- */

static void test_csv(void **state)
{
    struct fixture *f = *state;
    struct replica *r = open_replica(f, "a", 0);
    cJSON *c = make_case(case_a, f->village_name);
    set_text(c, "title", "排水沟, \"急\"");
    import_case_ok(r, &f->village, c, NULL);
    cJSON *bare = cJSON_CreateObject();
    cJSON_AddStringToObject(bare, "id", case_b);
    cJSON_AddStringToObject(bare, "village", CODE);
    import_case_ok(r, &f->village, bare, NULL);

    /* A write that says stop stops the export with its value. */
    assert_int_equal(ledger_io_export_csv(r, NULL, 0, refuse_write, NULL), 42);
    assert_int_equal(ledger_io_export_jsonl(r, NULL, 0, refuse_write, NULL), 42);

    char *csv = export_csv(r, CODE);
    static const char head[] = "\xEF\xBB\xBF"
                               "id,village,case_no,category,severity,status,title,parties,"
                               "mediator,created_at,updated_at,events,last_event_date\r\n";
    assert_memory_equal(csv, head, strlen(head));
    char row_a[1024];
    snprintf(row_a, sizeof row_a,
             "%s,%s,（2024）杨柳调字第0901号,neighbour,2,mediating,\"排水沟, \"\"急\"\"\","
             "张大山、李小河、王五,赵调解,2024-05-01T09:00:00+08:00,2024-05-08T10:00:00+08:00,2,"
             "2024-05-08\r\n",
             case_a, CODE);
    char row_b[256];
    snprintf(row_b, sizeof row_b, "%s,%s,,,,,,,,,,0,\r\n", case_b, CODE);
    char want[2048];
    snprintf(want, sizeof want, "%s%s%s", head, row_a, row_b);
    assert_string_equal(csv, want);
    /* Every line ends in CRLF. */
    for (const char *p = strchr(csv, '\n'); p; p = strchr(p + 1, '\n')) {
        assert_int_equal(p[-1], '\r');
    }
    free(csv);

    /* A note with a line break is quoted, the break kept. */
    set_text(c, "title", "第一行\n第二行");
    import_case_ok(r, &f->village, c, NULL);
    csv = export_csv(r, NULL);
    assert_non_null(strstr(csv, ",\"第一行\n第二行\","));
    free(csv);

    /* A title a spreadsheet would run as a formula stays text. */
    set_text(c, "title", "=HYPERLINK(\"http://x\",\"点我\")");
    import_case_ok(r, &f->village, c, NULL);
    csv = export_csv(r, NULL);
    assert_non_null(strstr(csv, ",\"'=HYPERLINK(\"\"http://x\"\",\"\"点我\"\")\","));
    free(csv);
    cJSON_Delete(c);
    cJSON_Delete(bare);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_import_data_then_again, setup, teardown),
        cmocka_unit_test_setup_teardown(test_export_is_a_fixed_point, setup, teardown),
        cmocka_unit_test_setup_teardown(test_export_keeps_every_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_changed_field_is_one_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_removed_party_is_tombstoned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_changed_in_place_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_optional_members_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_correction_members_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_lines_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_file_stops_at_bad_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_villages_and_deleted_cases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csv, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
