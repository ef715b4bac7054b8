/* SPDX-License-Identifier: MIT */
/*
 * test_view.c - the review pages' read side (hub/view.h) on a real hub
 * database: the first SLICE cases of the reference data imported into a
 * hub as its villages would send them, with a few deadlines, levels and
 * petitions set by the township. Every filter is checked against a count
 * the test makes itself from the data file; paging is checked to show
 * every case once; search is checked in Chinese, with words of two
 * characters and longer, with FTS5's syntax characters, and in the notes
 * of events, against a plain substring search of the test's own; overdue
 * against the ledger's own list (casefile.h). One case's page is checked
 * for masked numbers, and its history and the conflict queue after two
 * laptops of a village edit the same field.
 *
 * Environment: HAMLET_DATA (the reference data; default ../shared/data).
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

#include "casefile.h"
#include "delta.h"
#include "hlc.h"
#include "hub_error.h"
#include "ledger_io.h"
#include "ledger_schema.h"
#include "replica.h"
#include "rules.h"
#include "store.h"
#include "view.h"

#include <cjson/cJSON.h>

#define DATA_FILE "cases-1000.jsonl"
#define SLICE     400 /* cases imported: enough for every filter to bite */
#define MAX_NOTES 16

/* A case of the data, as the test itself reads it (and then changes it). */
struct model {
    char id[UUID7_STRLEN + 1];
    char village[16]; /* its code at the hub */
    char category[32], status[32], created_at[40], case_no[80];
    int severity, level, petition;
    char *text; /* title, facts, claims and event notes, joined by newlines */
    char phone[32], id_no[32];
    size_t events;
};

struct fixture {
    char dir[64];
    struct store *store;
    struct rules_config rules;
    struct model cases[SLICE];
    size_t n;
    char villages[20][64]; /* names, by code v01.. */
    size_t nvillages;
};

/* ---- reading the data ---- */

static void copy_member(const cJSON *obj, const char *key, char *out, size_t len)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    snprintf(out, len, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

static void append_text(char **text, const char *more)
{
    size_t have = *text ? strlen(*text) : 0, add = strlen(more);
    char *grown = realloc(*text, have + add + 2);
    assert_non_null(grown);
    memcpy(grown + have, more, add);
    grown[have + add] = '\n';
    grown[have + add + 1] = '\0';
    *text = grown;
}

/* The village's code at the hub (v01, v02, ... in order of appearance). */
static const char *village_code(struct fixture *f, const char *name, char out[16])
{
    size_t i = 0;
    while (i < f->nvillages && strcmp(f->villages[i], name) != 0) {
        i++;
    }
    if (i == f->nvillages) {
        assert_true(i < 20);
        snprintf(f->villages[f->nvillages++], sizeof f->villages[0], "%s", name);
        char code[16];
        snprintf(code, sizeof code, "v%02zu", i + 1);
        assert_int_equal(store_village_add(f->store, code, name), 0);
    }
    snprintf(out, 16, "v%02zu", i + 1);
    return out;
}

struct import {
    struct fixture *f;
    const char *line;
    size_t len;
    struct ledger_io_village village;
};

static int import_one(struct replica *r, void *ctx)
{
    struct import *im = ctx;
    char why[256] = "";
    int rc = ledger_io_import_line(r, &im->village, im->line, im->len, NULL, why, sizeof why);
    if (rc != 0) {
        fail_msg("import: %s", why);
    }
    return rc;
}

static void model_of(struct fixture *f, const char *line, struct model *m)
{
    cJSON *obj = cJSON_Parse(line);
    assert_non_null(obj);
    copy_member(obj, "id", m->id, sizeof m->id);
    char name[64];
    copy_member(obj, "village", name, sizeof name);
    village_code(f, name, m->village);
    copy_member(obj, "category", m->category, sizeof m->category);
    copy_member(obj, "status", m->status, sizeof m->status);
    copy_member(obj, "created_at", m->created_at, sizeof m->created_at);
    copy_member(obj, "case_no", m->case_no, sizeof m->case_no);
    m->severity = cJSON_GetObjectItemCaseSensitive(obj, "severity")->valueint;
    const char *keys[] = {"title", "facts", "claims"};
    for (int k = 0; k < 3; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, keys[k]);
        append_text(&m->text, cJSON_IsString(v) ? v->valuestring : "");
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(obj, "events"))
    {
        const cJSON *note = cJSON_GetObjectItemCaseSensitive(e, "note");
        append_text(&m->text, cJSON_IsString(note) ? note->valuestring : "");
        m->events++;
    }
    const cJSON *party = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(obj, "parties"), 0);
    copy_member(party, "phone", m->phone, sizeof m->phone);
    copy_member(party, "id_no", m->id_no, sizeof m->id_no);
    cJSON_Delete(obj);
}

/* A change of the township, made at the hub. */
struct put {
    const char *id, *village, *column;
    struct sync_value value;
};

static int put_one(struct replica *r, void *ctx)
{
    struct put *p = ctx;
    return replica_put(r, "cases", p->id, p->village, 1, &p->column, &p->value, NULL);
}

static void hub_put_text(struct fixture *f, struct model *m, const char *column, const char *text)
{
    struct put p = {m->id, m->village, column, {.type = SYNC_TEXT, .s = text}};
    assert_int_equal(store_with_ledger(f->store, put_one, &p), 0);
}

static void hub_put_int(struct fixture *f, struct model *m, const char *column, int value)
{
    struct put p = {m->id, m->village, column, {.type = SYNC_INT, .i = value}};
    assert_int_equal(store_with_ledger(f->store, put_one, &p), 0);
}

static int group_setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/hamlet-test-view-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    char path[128], why[256] = "";
    snprintf(path, sizeof path, "%s/hub.db", f->dir);
    assert_int_equal(store_open(path, 1, &f->store, why, sizeof why), 0);
    rules_config_default(&f->rules);
    const char *env = getenv("HAMLET_DATA");
    char data[512];
    snprintf(data, sizeof data, "%s/" DATA_FILE, env && env[0] ? env : "../shared/data");
    FILE *in = fopen(data, "r");
    if (!in) {
        fail_msg("cannot read %s: set HAMLET_DATA to the reference data", data);
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while (f->n < SLICE && (len = getline(&line, &cap, in)) > 0) {
        struct model *m = &f->cases[f->n++];
        model_of(f, line, m);
        char name[64];
        snprintf(name, sizeof name, "%s", f->villages[strtol(m->village + 1, NULL, 10) - 1]);
        struct import im = {f, line, (size_t)len, {m->village, name}};
        assert_int_equal(store_with_ledger(f->store, import_one, &im), 0);
    }
    free(line);
    fclose(in);
    /* The township's own changes: petitions, levels and deadlines. */
    for (size_t i = 0; i < f->n; i++) {
        struct model *m = &f->cases[i];
        if (i % 7 == 3) {
            hub_put_text(f, m, "kind", "petition");
            m->petition = 1;
        }
        if (i % 5 == 1) {
            m->level = (int)(i % 7) + 1;
            hub_put_int(f, m, "level", m->level);
        }
        if (i % 11 == 2) {
            hub_put_text(f, m, "deadline", i % 2 ? "2024-01-31" : "2099-12-31");
        }
    }
    *state = f;
    return 0;
}

static int group_teardown(void **state)
{
    struct fixture *f = *state;
    for (size_t i = 0; i < f->n; i++) {
        free(f->cases[i].text);
    }
    store_close(f->store);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* ---- helpers ---- */

/* view_cases() that must succeed. */
static cJSON *cases(struct fixture *f, const struct view_filter *filter)
{
    cJSON *doc = NULL;
    char why[256] = "";
    int rc = view_cases(f->store, &f->rules, filter, &doc, why, sizeof why);
    if (rc != 0) {
        fail_msg("view_cases: %s (%s)", hub_strerror(rc), why);
    }
    assert_non_null(doc);
    return doc;
}

static int64_t total_of(struct fixture *f, struct view_filter filter)
{
    cJSON *doc = cases(f, &filter);
    int64_t total = (int64_t)cJSON_GetObjectItemCaseSensitive(doc, "total")->valuedouble;
    /* The first page agrees with the total. */
    int64_t shown = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "cases"));
    int per = filter.per ? filter.per : VIEW_DEFAULT_PER;
    assert_int_equal(shown, total < per ? total : per);
    cJSON_Delete(doc);
    return total;
}

/* Every id the filter gives, page after page, in order; *n set. */
static char (*all_ids(struct fixture *f, struct view_filter filter, size_t *n))[UUID7_STRLEN + 1]
{
    char(*ids)[UUID7_STRLEN + 1] = calloc(SLICE + 1, sizeof *ids);
    assert_non_null(ids);
    *n = 0;
    for (filter.page = 1;; filter.page++) {
        cJSON *doc = cases(f, &filter);
        cJSON *list = cJSON_GetObjectItemCaseSensitive(doc, "cases");
        int size = cJSON_GetArraySize(list);
        const cJSON *c;
        cJSON_ArrayForEach(c, list)
        {
            assert_true(*n < SLICE);
            snprintf(ids[(*n)++], UUID7_STRLEN + 1, "%s",
                     cJSON_GetObjectItemCaseSensitive(c, "id")->valuestring);
        }
        cJSON_Delete(doc);
        if (size == 0) {
            break;
        }
    }
    return ids;
}

static struct model *model_find(struct fixture *f, const char *id)
{
    for (size_t i = 0; i < f->n; i++) {
        if (!strcmp(f->cases[i].id, id)) {
            return &f->cases[i];
        }
    }
    fail_msg("case %s is not in the slice", id);
    return NULL;
}

/* ---- filters ---- */

static void test_filters_narrow(void **state)
{
    struct fixture *f = *state;
    struct view_filter all = {0};
    assert_int_equal(total_of(f, all), (int64_t)f->n);
    size_t village = 0, land = 0, class1 = 0, mediating = 0, closed = 0, level3 = 0;
    size_t petitions = 0, both = 0;
    for (size_t i = 0; i < f->n; i++) {
        const struct model *m = &f->cases[i];
        village += !strcmp(m->village, "v02");
        land += !strcmp(m->category, "land");
        class1 += m->severity == 1;
        mediating += !strcmp(m->status, "mediating");
        closed += !strcmp(m->status, "closed");
        level3 += m->level == 3;
        petitions += m->petition;
        both += !strcmp(m->village, "v02") && !strcmp(m->category, "land") && m->severity == 1;
    }
    assert_true(village > 0 && land > 0 && class1 > 0 && mediating > 0 && closed > 0);
    assert_true(level3 > 0 && petitions > 0 && both > 0);
    assert_int_equal(total_of(f, (struct view_filter){.village = "v02"}), village);
    assert_int_equal(total_of(f, (struct view_filter){.category = "land"}), land);
    assert_int_equal(total_of(f, (struct view_filter){.category = "土地征收"}), land);
    assert_int_equal(total_of(f, (struct view_filter){.severity = 1}), class1);
    assert_int_equal(total_of(f, (struct view_filter){.status = "mediating"}), mediating);
    assert_int_equal(total_of(f, (struct view_filter){.status = "调解中"}), mediating);
    /* The reference data's "closed" is the rules' "concluded". */
    assert_int_equal(total_of(f, (struct view_filter){.status = "concluded"}), closed);
    assert_int_equal(total_of(f, (struct view_filter){.level = 3}), level3);
    assert_int_equal(total_of(f, (struct view_filter){.kind = "petition"}), petitions);
    assert_int_equal(total_of(f, (struct view_filter){.kind = "dispute"}), f->n - petitions);
    assert_int_equal(total_of(f, (struct view_filter){.kind = "screening"}), 0);
    assert_int_equal(
        total_of(f, (struct view_filter){.village = "v02", .category = "land", .severity = 1}),
        both);
    assert_int_equal(total_of(f, (struct view_filter){.village = "nowhere"}), 0);
    /* No conflict yet in this hub. */
    assert_int_equal(total_of(f, (struct view_filter){.conflict = 1}), 0);
}

static void test_row_shape(void **state)
{
    struct fixture *f = *state;
    cJSON *doc = cases(f, &(struct view_filter){.village = "v01", .per = 1});
    assert_int_equal((int)cJSON_GetObjectItemCaseSensitive(doc, "per")->valuedouble, 1);
    assert_int_equal((int)cJSON_GetObjectItemCaseSensitive(doc, "page")->valuedouble, 1);
    const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "cases"), 0);
    assert_non_null(c);
    static const char *const members[] = {
        "id",          "village",  "village_name", "case_no", "title",     "kind",
        "channel",     "category", "severity",     "status",  "level",     "created_at",
        "accepted_on", "due_on",   "deadline",     "overdue", "conflicts", "updated_at"};
    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++) {
        if (!cJSON_HasObjectItem(c, members[i])) {
            fail_msg("a row has no \"%s\"", members[i]);
        }
    }
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(c, "village")->valuestring, "v01");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(c, "village_name")->valuestring,
                        f->villages[0]);
    assert_true(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(c, "overdue")));
    struct model *m = model_find(f, cJSON_GetObjectItemCaseSensitive(c, "id")->valuestring);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(c, "case_no")->valuestring, m->case_no);
    assert_int_equal((int)cJSON_GetObjectItemCaseSensitive(c, "severity")->valuedouble,
                     m->severity);
    cJSON_Delete(doc);
}

/* ---- paging and sorting ---- */

static void test_paging_covers_every_case_once(void **state)
{
    struct fixture *f = *state;
    const char *sorts[] = {"received", "village", "status", "deadline", "level", "case_no"};
    for (size_t s = 0; s < sizeof sorts / sizeof sorts[0]; s++) {
        size_t n;
        char(*ids)[UUID7_STRLEN + 1] =
            all_ids(f, (struct view_filter){.sort = sorts[s], .desc = (int)s % 2, .per = 37}, &n);
        assert_int_equal(n, f->n);
        for (size_t i = 0; i < f->n; i++) {
            size_t seen = 0;
            for (size_t k = 0; k < n; k++) {
                seen += !strcmp(ids[k], f->cases[i].id);
            }
            if (seen != 1) {
                fail_msg("sort %s: case %s shown %zu times", sorts[s], f->cases[i].id, seen);
            }
        }
        free(ids);
    }
    /* A page past the end is empty, and says the total. */
    cJSON *doc = cases(f, &(struct view_filter){.page = 1000, .per = 200});
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "cases")), 0);
    assert_int_equal((int)cJSON_GetObjectItemCaseSensitive(doc, "total")->valuedouble, (int)f->n);
    cJSON_Delete(doc);
}

/* The member of every row of one page of up to 200, in order. */
static void check_order(struct fixture *f, const char *sort, int desc, const char *member)
{
    cJSON *doc = cases(f, &(struct view_filter){.sort = sort, .desc = desc, .per = 200});
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(doc, "cases");
    assert_int_equal(cJSON_GetArraySize(list), 200);
    const cJSON *prev = NULL, *c;
    int nulls_seen = 0;
    cJSON_ArrayForEach(c, list)
    {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, member);
        if (cJSON_IsNull(v)) {
            nulls_seen = 1;
            prev = NULL;
            continue;
        }
        if (nulls_seen && !strcmp(sort, "deadline")) {
            fail_msg("sort deadline: a deadline after cases without one");
        }
        if (prev && !cJSON_IsNull(prev)) {
            int cmp = cJSON_IsNumber(v) ? (v->valuedouble > prev->valuedouble) -
                                              (v->valuedouble < prev->valuedouble)
                                        : strcmp(v->valuestring, prev->valuestring);
            if (desc ? cmp > 0 : cmp < 0) {
                fail_msg("sort %s%s: out of order", sort, desc ? " desc" : "");
            }
        }
        prev = v;
    }
    cJSON_Delete(doc);
}

static void test_sorting(void **state)
{
    struct fixture *f = *state;
    check_order(f, "received", 0, "created_at");
    check_order(f, "received", 1, "created_at");
    check_order(f, "case_no", 0, "case_no");
    check_order(f, "village", 1, "village");
    check_order(f, "status", 0, "status");
    check_order(f, "updated", 1, "updated_at");
    check_order(f, "level", 1, "level");
    check_order(f, "deadline", 0, "deadline");
    /* Within a village, by the day received. */
    cJSON *doc = cases(f, &(struct view_filter){.sort = "village", .per = 200});
    const cJSON *c, *prev = NULL;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "cases"))
    {
        if (prev && !strcmp(cJSON_GetObjectItemCaseSensitive(c, "village")->valuestring,
                            cJSON_GetObjectItemCaseSensitive(prev, "village")->valuestring)) {
            assert_true(strcmp(cJSON_GetObjectItemCaseSensitive(c, "created_at")->valuestring,
                               cJSON_GetObjectItemCaseSensitive(prev, "created_at")->valuestring) >=
                        0);
        }
        prev = c;
    }
    cJSON_Delete(doc);
}

/* ---- search ---- */

/* 1 when needle occurs in haystack, ASCII letters without case. */
static int contains(const char *haystack, const char *needle, size_t len)
{
    for (const char *h = haystack; *h; h++) {
        size_t k = 0;
        while (k < len && h[k]) {
            char a = h[k], b = needle[k];
            a = a >= 'A' && a <= 'Z' ? (char)(a - 'A' + 'a') : a;
            b = b >= 'A' && b <= 'Z' ? (char)(b - 'A' + 'a') : b;
            if (a != b) {
                break;
            }
            k++;
        }
        if (k == len) {
            return 1;
        }
    }
    return 0;
}

/* The test's own search: every word (split at ASCII spaces) occurs in the
 * case's text, ASCII letters without case. */
static size_t expected_matches_in(struct fixture *f, const char *q, const char *village)
{
    const char *words[VIEW_MAX_TERMS];
    size_t lens[VIEW_MAX_TERMS], nwords = 0;
    for (const char *p = q; *p;) {
        while (*p == ' ') {
            p++;
        }
        size_t len = strcspn(p, " ");
        if (len > 0) {
            assert_true(nwords < VIEW_MAX_TERMS);
            words[nwords] = p;
            lens[nwords++] = len;
        }
        p += len;
    }
    size_t n = 0;
    for (size_t i = 0; i < f->n; i++) {
        size_t k = 0;
        if (village && strcmp(f->cases[i].village, village) != 0) {
            continue;
        }
        while (k < nwords && contains(f->cases[i].text, words[k], lens[k])) {
            k++;
        }
        n += k == nwords;
    }
    return n;
}

static size_t expected_matches(struct fixture *f, const char *q)
{
    return expected_matches_in(f, q, NULL);
}

/* The search alone, and within one village (SQL of another shape). */
static void check_search(struct fixture *f, const char *q)
{
    size_t want = expected_matches(f, q);
    int64_t got = total_of(f, (struct view_filter){.q = q, .per = 200});
    if ((size_t)got != want) {
        fail_msg("search \"%s\": %lld cases, expected %zu", q, (long long)got, want);
    }
    want = expected_matches_in(f, q, "v02");
    got = total_of(f, (struct view_filter){.q = q, .village = "v02", .per = 200});
    if ((size_t)got != want) {
        fail_msg("search \"%s\" in v02: %lld cases, expected %zu", q, (long long)got, want);
    }
}

static void test_search_chinese(void **state)
{
    struct fixture *f = *state;
    assert_true(expected_matches(f, "土地") > 0);
    assert_true(expected_matches(f, "宅基地") > 0);
    check_search(f, "土地");      /* 2 characters: below the trigram's reach */
    check_search(f, "宅基");      /* 2 */
    check_search(f, "纠");        /* 1 */
    check_search(f, "宅基地");    /* 3 */
    check_search(f, "土地纠纷");  /* 4 */
    check_search(f, "调解 宅基"); /* two words, both must occur */
    check_search(f, "宅基地 邻居");
    check_search(f, "宅 宅基地 土地 纠纷"); /* short and long words, mixed */
    assert_true(expected_matches_in(f, "土地", "v02") > 0);
    check_search(f, "谭德胜");
    check_search(f, "没有这种说法的内容");
    /* The query language of FTS5 and of LIKE is only text here. */
    const char *syntax[] = {"\"",         "\"土地",
                            "土地\"",     "*",
                            "土*",        "土地*",
                            "NEAR",       "NEAR(土地 纠纷)",
                            "(土地)",     "土地 OR 纠纷",
                            "AND",        "NOT 土地",
                            "%",          "_",
                            "土_",        "\\",
                            "100%",       "a\"b\"c",
                            "title:土地", "^土地",
                            "\"\"\"\"",   "-",
                            "+土地"};
    for (size_t i = 0; i < sizeof syntax / sizeof syntax[0]; i++) {
        check_search(f, syntax[i]);
    }
    /* Latin letters compare without case: the counts agree either way. */
    check_search(f, "near");
}

/* A piece of an event note that occurs in no title, facts or claims. */
static int note_only_text(struct fixture *f, char *out, size_t len, const char **case_id)
{
    for (size_t i = 0; i < f->n; i++) {
        const char *text = f->cases[i].text;
        /* Skip the title, facts and claims: three lines. */
        const char *notes = text;
        for (int k = 0; k < 3 && notes; k++) {
            notes = strchr(notes, '\n');
            notes = notes ? notes + 1 : NULL;
        }
        for (const char *p = notes; p && *p && *p != '\n' && strlen(p) > 15; p += 3) {
            snprintf(out, len, "%.15s", p); /* five CJK characters */
            if (strchr(out, '\n') || (unsigned char)out[0] < 0xe0) {
                continue;
            }
            int elsewhere = 0;
            for (size_t j = 0; j < f->n && !elsewhere; j++) {
                const char *t = f->cases[j].text;
                const char *cut = t;
                for (int k = 0; k < 3; k++) {
                    cut = strchr(cut, '\n') + 1;
                }
                char *head = strndup(t, (size_t)(cut - t));
                elsewhere = strstr(head, out) != NULL;
                free(head);
            }
            if (!elsewhere) {
                *case_id = f->cases[i].id;
                return 1;
            }
        }
    }
    return 0;
}

static void test_search_event_notes(void **state)
{
    struct fixture *f = *state;
    char piece[64];
    const char *id = NULL;
    assert_true(note_only_text(f, piece, sizeof piece, &id));
    check_search(f, piece);
    cJSON *doc = cases(f, &(struct view_filter){.q = piece, .per = 200});
    int found = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "cases"))
    {
        found |= !strcmp(cJSON_GetObjectItemCaseSensitive(c, "id")->valuestring, id);
    }
    cJSON_Delete(doc);
    assert_true(found);
}

/* ---- short words ---- */

/* Replace line k of the model's text (0 title, 1 facts, 2 claims). */
static void model_set_line(struct model *m, int k, const char *value)
{
    const char *start = m->text;
    for (int i = 0; i < k; i++) {
        start = strchr(start, '\n') + 1;
    }
    const char *end = strchr(start, '\n');
    size_t head = (size_t)(start - m->text), vlen = strlen(value), tail = strlen(end);
    char *text = malloc(head + vlen + tail + 1);
    assert_non_null(text);
    memcpy(text, m->text, head);
    memcpy(text + head, value, vlen);
    memcpy(text + head + vlen, end, tail + 1);
    free(m->text);
    m->text = text;
}

static void set_case_text(struct fixture *f, struct model *m, int k, const char *value)
{
    static const char *const columns[] = {"title", "facts", "claims"};
    hub_put_text(f, m, columns[k], value);
    model_set_line(m, k, value);
}

struct note {
    const char *case_id, *village, *note;
};

static int append_note(struct replica *r, void *ctx)
{
    const struct note *n = ctx;
    char id[UUID7_STRLEN + 1];
    assert_int_equal(uuid7_now(id), 0);
    const char *columns[] = {"case_id", "date", "kind", "note"};
    struct sync_value values[] = {{.type = SYNC_TEXT, .s = n->case_id},
                                  {.type = SYNC_TEXT, .s = "2024-05-01"},
                                  {.type = SYNC_TEXT, .s = "visit"},
                                  {.type = SYNC_TEXT, .s = n->note}};
    return replica_append(r, "events", id, n->village, 4, columns, values);
}

static void add_note(struct fixture *f, struct model *m, const char *note)
{
    struct note n = {m->id, m->village, note};
    assert_int_equal(store_with_ledger(f->store, append_note, &n), 0);
    append_text(&m->text, note);
    m->events++;
}

/* The search gives exactly the cases whose text holds every word (the
 * test's own substring search), each once, on every page. */
static void check_search_ids(struct fixture *f, const char *q)
{
    size_t n = 0, want = 0;
    char(*ids)[UUID7_STRLEN + 1] = all_ids(f, (struct view_filter){.q = q, .per = 7}, &n);
    for (size_t i = 0; i < f->n; i++) {
        char one[VIEW_MAX_QUERY + 1];
        int all = 1;
        for (const char *p = q; *p && all;) {
            size_t len = strcspn(p, " ");
            snprintf(one, sizeof one, "%.*s", (int)len, p);
            all = len == 0 || contains(f->cases[i].text, one, len);
            p += len + (p[len] == ' ');
        }
        size_t found = 0;
        for (size_t k = 0; k < n; k++) {
            found += !strcmp(ids[k], f->cases[i].id);
        }
        if (found != (size_t)all) {
            fail_msg("search \"%s\": case %s found %zu times, expected %d", q, f->cases[i].id,
                     found, all);
        }
        want += (size_t)all;
    }
    assert_int_equal(n, want);
    free(ids);
    check_search(f, q); /* the count, and within a village */
}

static void test_search_short_words(void **state)
{
    struct fixture *f = *state;
    /* Texts of exactly 2 characters have no trigram. */
    set_case_text(f, &f->cases[5], 0, "Zq");
    set_case_text(f, &f->cases[6], 2, "龘龗");
    add_note(f, &f->cases[7], "鼍鼑");
    add_note(f, &f->cases[8], "x");
    /* Words at the very start and end of a text, in several columns. */
    set_case_text(f, &f->cases[9], 0, "鼊Ab中间的文字鼋");
    set_case_text(f, &f->cases[10], 1, "Qx 边上 xQ");
    add_note(f, &f->cases[11], "齉是开头，结尾是齾");
    /* The syntax of LIKE and of FTS5 in the text. */
    set_case_text(f, &f->cases[12], 0, "折扣 50%_\\ 与 a\"b 和 \"\"");
    /* Letters beyond ASCII keep their case, as LIKE does. */
    set_case_text(f, &f->cases[13], 0, "ÉCOLE");
    set_case_text(f, &f->cases[14], 2, "école");
    /* A letter in more trigrams than VIEW_MAX_TRIGRAMS: the scan answers. */
    char many[2 * 4 * (VIEW_MAX_TRIGRAMS + 8) + 1];
    size_t o = 0;
    for (int i = 0; i < VIEW_MAX_TRIGRAMS + 8; i++) {
        o += (size_t)snprintf(many + o, sizeof many - o, "J%c%c%c", 0xe4, 0xb8 + i / 64,
                              0x80 + i % 64);
    }
    set_case_text(f, &f->cases[15], 1, many);
    set_case_text(f, &f->cases[16], 0, "j");
    const char *words[] = {"Zq",   "zQ",   "zq", "q",    "Z",      "龘龗",  "龘",
                           "龗",   "鼍鼑", "鼍", "鼑",   "x",      "X",     "鼊",
                           "鼊a",  "鼊A",  "鼋", "字鼋", "Qx",     "xq",    "齉",
                           "齉是", "是齾", "齾", "%",    "%_",     "_",     "_\\",
                           "\\",   "0%",   "\"", "a\"",  "\"b",    "\"\"",  "É",
                           "é",    "éc",   "Éc", "j",    "J",      "J一",   "土",
                           "地",   "土地", "的", "纠",   "土地 x", "纠 鼋", "的 土地 宅基地"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        check_search_ids(f, words[i]);
    }
    /* The test's texts are found at all. */
    assert_int_equal(expected_matches(f, "龘"), 1);
    assert_int_equal(expected_matches(f, "鼑"), 1);
    assert_int_equal(expected_matches(f, "É"), 1);
    assert_true(expected_matches(f, "J") >= 2);
}

/* ---- overdue ---- */

struct overdue_list {
    const struct rules_config *rules;
    struct rules_date today;
    char (*ids)[UUID7_STRLEN + 1];
    size_t n;
};

static int casefile_overdue(struct replica *r, void *ctx)
{
    struct overdue_list *o = ctx;
    struct casefile *cf = NULL;
    int rc = casefile_load(r, NULL, o->rules, o->today, &cf);
    size_t *list = NULL;
    if (rc == 0) {
        rc = casefile_select(cf, CASEFILE_OVERDUE, NULL, 0, &list, &o->n);
    }
    if (rc == 0) {
        o->ids = calloc(o->n + 1, sizeof *o->ids);
        for (size_t i = 0; i < o->n; i++) {
            snprintf(o->ids[i], UUID7_STRLEN + 1, "%s", cf->cases[list[i]].id);
        }
    }
    free(list);
    casefile_free(cf);
    return rc;
}

static void test_overdue_agrees_with_casefile(void **state)
{
    struct fixture *f = *state;
    struct overdue_list o = {&f->rules, RULES_DATE_NONE, NULL, 0};
    assert_int_equal(rules_today(store_now(f->store), &o.today), 0);
    assert_int_equal(store_with_ledger(f->store, casefile_overdue, &o), 0);
    assert_true(o.n > 0);
    size_t n;
    char(*ids)[UUID7_STRLEN + 1] = all_ids(f, (struct view_filter){.overdue = 1, .per = 50}, &n);
    assert_int_equal(n, o.n);
    for (size_t i = 0; i < o.n; i++) {
        size_t k = 0;
        while (k < n && strcmp(ids[k], o.ids[i]) != 0) {
            k++;
        }
        if (k == n) {
            fail_msg("casefile lists %s as overdue; the view does not", o.ids[i]);
        }
    }
    /* Each row says so, and every row of a filtered page does. */
    cJSON *doc = cases(f, &(struct view_filter){.overdue = 1, .village = "v01"});
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "cases"))
    {
        assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "overdue")));
        assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(c, "due_on")));
    }
    cJSON_Delete(doc);
    /* And rows not overdue say so too: the whole table, row by row. */
    size_t flagged = 0;
    for (int page = 1; page <= 2; page++) {
        doc = cases(f, &(struct view_filter){.page = page, .per = 200});
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "cases"))
        {
            flagged += cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "overdue"));
        }
        cJSON_Delete(doc);
    }
    assert_int_equal(flagged, o.n);
    free(ids);
    free(o.ids);
}

/* ---- bad filters ---- */

static void expect_arg(struct fixture *f, struct view_filter filter, const char *what)
{
    cJSON *doc = NULL;
    char why[256] = "";
    int rc = view_cases(f->store, &f->rules, &filter, &doc, why, sizeof why);
    if (rc != HUB_E_ARG) {
        fail_msg("%s: %d, expected HUB_E_ARG", what, rc);
    }
    assert_null(doc);
    if (strlen(why) < 10) {
        fail_msg("%s: no sentence says why (\"%s\")", what, why);
    }
}

static void test_bad_filters(void **state)
{
    struct fixture *f = *state;
    char longq[VIEW_MAX_QUERY + 2];
    memset(longq, 'a', sizeof longq - 1);
    longq[sizeof longq - 1] = '\0';
    expect_arg(f, (struct view_filter){.sort = "title"}, "unknown sort");
    expect_arg(f, (struct view_filter){.sort = "received; DROP TABLE cases"}, "sort with SQL");
    expect_arg(f, (struct view_filter){.per = VIEW_MAX_PER + 1}, "per too large");
    expect_arg(f, (struct view_filter){.per = -1}, "per negative");
    expect_arg(f, (struct view_filter){.page = -1}, "page negative");
    expect_arg(f, (struct view_filter){.page = VIEW_MAX_PAGE + 1}, "page too large");
    expect_arg(f, (struct view_filter){.status = "finished"}, "unknown status");
    expect_arg(f, (struct view_filter){.kind = "quarrel"}, "unknown kind");
    expect_arg(f, (struct view_filter){.category = "Land Grab"}, "bad category");
    expect_arg(f, (struct view_filter){.severity = 4}, "class 4");
    expect_arg(f, (struct view_filter){.level = 8}, "level 8");
    expect_arg(f, (struct view_filter){.level = -1}, "level -1");
    expect_arg(f, (struct view_filter){.overdue = 2}, "overdue 2");
    expect_arg(f, (struct view_filter){.village = "v0\x01"}, "village with a control char");
    expect_arg(f, (struct view_filter){.village = ""}, "empty village");
    expect_arg(f, (struct view_filter){.q = longq}, "search too long");
    expect_arg(f, (struct view_filter){.q = "\xff\xfe"}, "search not UTF-8");
    expect_arg(f, (struct view_filter){.q = "a b c d e f g h i"}, "too many words");
    /* At the limits, fine. */
    longq[VIEW_MAX_QUERY] = '\0';
    check_search(f, longq);
    assert_int_equal(total_of(f, (struct view_filter){.per = VIEW_MAX_PER}), (int64_t)f->n);
    check_search(f, "a b c d e f g h");
    cJSON *doc = NULL;
    assert_int_equal(view_cases(f->store, &f->rules, NULL, &doc, NULL, 0), HUB_E_ARG);
}

/* ---- one case ---- */

static void test_case_masked_unless_revealed(void **state)
{
    struct fixture *f = *state;
    struct model *m = &f->cases[0];
    cJSON *doc = NULL;
    char why[256] = "";
    assert_int_equal(view_case(f->store, &f->rules, m->id, 0, &doc, why, sizeof why), 0);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(doc, "case");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(c, "id")->valuestring, m->id);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(c, "case_no")->valuestring, m->case_no);
    assert_non_null(cJSON_GetObjectItemCaseSensitive(c, "facts"));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "masked")));
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(c, "village_name")->valuestring,
                        f->villages[0]);
    /* The engine's columns (stamps, history) are not the case's. */
    assert_null(cJSON_GetObjectItemCaseSensitive(c, "hl_stamps"));
    assert_null(cJSON_GetObjectItemCaseSensitive(c, "hl_hist"));
    const cJSON *party = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "parties"), 0);
    char phone[32], id_no[32];
    assert_int_equal(rules_mask_phone(m->phone, phone, sizeof phone), 0);
    assert_int_equal(rules_mask_id_no(m->id_no, id_no, sizeof id_no), 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(party, "phone")->valuestring, phone);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(party, "id_no")->valuestring, id_no);
    char *text = cJSON_PrintUnformatted(doc);
    assert_null(strstr(text, m->phone)); /* nowhere, the history included */
    assert_null(strstr(text, m->id_no));
    free(text);
    /* Events: all of them, by date. */
    const cJSON *events = cJSON_GetObjectItemCaseSensitive(doc, "events"), *e, *prev = NULL;
    assert_int_equal(cJSON_GetArraySize(events), (int)m->events);
    cJSON_ArrayForEach(e, events)
    {
        if (prev) {
            assert_true(strcmp(cJSON_GetObjectItemCaseSensitive(e, "date")->valuestring,
                               cJSON_GetObjectItemCaseSensitive(prev, "date")->valuestring) >= 0);
        }
        prev = e;
    }
    /* History: the import made the case with every field from nothing. */
    const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "history"), 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(first, "what")->valuestring, "case");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(first, "device")->valuestring, "hub");
    const cJSON *field;
    cJSON_ArrayForEach(field, cJSON_GetObjectItemCaseSensitive(first, "fields"))
    {
        assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(field, "before")));
    }
    cJSON_Delete(doc);
    /* Revealed: the numbers in full. */
    assert_int_equal(view_case(f->store, &f->rules, m->id, 1, &doc, why, sizeof why), 0);
    c = cJSON_GetObjectItemCaseSensitive(doc, "case");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(c, "masked")));
    party = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "parties"), 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(party, "phone")->valuestring, m->phone);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(party, "id_no")->valuestring, m->id_no);
    cJSON_Delete(doc);
    /* Errors. */
    assert_int_equal(view_case(f->store, &f->rules, "00000000-0000-7000-8000-000000000000", 0, &doc,
                               why, sizeof why),
                     HUB_E_NOT_FOUND);
    assert_non_null(strstr(why, "no case"));
    assert_int_equal(
        view_case(f->store, &f->rules, "'; DROP TABLE cases; --", 0, &doc, why, sizeof why),
        HUB_E_ARG);
    assert_int_equal(view_case(f->store, &f->rules, NULL, 0, &doc, why, sizeof why), HUB_E_ARG);
    assert_null(doc);
}

/* ---- two laptops, one field: history and conflicts ---- */

struct laptop {
    struct replica *r;
    struct store_device dev;
    int64_t acked, cursor;
};

struct sync_fixture {
    char dir[64];
    struct store *store;
    struct replica_config config;
    struct laptop a, b;
};

static void laptop_open(struct sync_fixture *s, struct laptop *l, const char *name,
                        const char *label)
{
    char path[128], why[256] = "";
    snprintf(path, sizeof path, "%s/%s.db", s->dir, name);
    assert_int_equal(replica_open(path, &s->config, &l->r, why, sizeof why), 0);
    char id[UUID7_STRLEN + 1], code[DEVICES_CODE_LEN], secret[DEVICES_SECRET_LEN];
    assert_int_equal(store_device_add(s->store, "yangliu", label, 86400000, id, code), 0);
    assert_int_equal(store_device_enroll(s->store, id, code, replica_node(l->r), secret, &l->dev),
                     0);
}

/* One sync of a laptop: push what it has, pull what it lacks. */
static void laptop_sync(struct sync_fixture *s, struct laptop *l)
{
    struct delta *push = delta_new(DELTA_PUSH), *reply = delta_new(DELTA_REPLY);
    assert_non_null(push);
    assert_non_null(reply);
    push->node = replica_node(l->r);
    snprintf(push->part, sizeof push->part, "yangliu");
    push->cursor = l->cursor;
    push->pull_bytes = 1 << 20;
    push->time_ms = hlc_wall(replica_clock(l->r));
    assert_int_equal(replica_pending(l->r, l->acked, 1 << 20, push), 0);
    struct store_sync_result result;
    assert_int_equal(store_sync(s->store, &l->dev, push, 1 << 20, reply, &result), 0);
    struct replica_apply_opts opts = {reply->node, "yangliu", 0};
    struct replica_apply_result applied;
    assert_int_equal(replica_apply(l->r, reply, &opts, &applied, NULL), 0);
    l->acked = reply->acked;
    l->cursor = reply->cursor;
    delta_free(push);
    delta_free(reply);
}

static void set_text(struct laptop *l, const char *table, const char *id, const char *column,
                     const char *text)
{
    struct sync_value v = {.type = SYNC_TEXT, .s = text};
    assert_int_equal(replica_put(l->r, table, id, "yangliu", 1, &column, &v, NULL), 0);
}

static int sync_setup(void **state)
{
    struct sync_fixture *s = calloc(1, sizeof *s);
    assert_non_null(s);
    snprintf(s->dir, sizeof s->dir, "/tmp/hamlet-test-view-sync-XXXXXX");
    assert_non_null(mkdtemp(s->dir));
    char path[128], why[256] = "";
    snprintf(path, sizeof path, "%s/hub.db", s->dir);
    assert_int_equal(store_open(path, 1, &s->store, why, sizeof why), 0);
    assert_int_equal(store_village_add(s->store, "yangliu", "杨柳村"), 0);
    ledger_schema_config(&s->config, 0);
    laptop_open(s, &s->a, "a", "村委会笔记本");
    laptop_open(s, &s->b, "b", "书记的电脑");
    *state = s;
    return 0;
}

static int sync_teardown(void **state)
{
    struct sync_fixture *s = *state;
    replica_close(s->a.r);
    replica_close(s->b.r);
    store_close(s->store);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
    assert_int_equal(system(cmd), 0);
    free(s);
    return 0;
}

static const cJSON *member(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) {
        fail_msg("no \"%s\"", key);
    }
    return v;
}

/* The field column of a history entry, or NULL. */
static const cJSON *entry_field(const cJSON *entry, const char *column)
{
    const cJSON *field;
    cJSON_ArrayForEach(field, member(entry, "fields"))
    {
        if (!strcmp(member(field, "column")->valuestring, column)) {
            return field;
        }
    }
    return NULL;
}

static void test_history_and_conflict(void **state)
{
    struct sync_fixture *s = *state;
    char case_id[UUID7_STRLEN + 1], contact_id[UUID7_STRLEN + 1], party_id[UUID7_STRLEN + 1];
    assert_int_equal(uuid7_now(case_id), 0);
    assert_int_equal(uuid7_now(contact_id), 0);
    assert_int_equal(uuid7_now(party_id), 0);
    /* Laptop a registers a case with one party; b receives it. */
    const char *cols[] = {"title", "status", "created_at"};
    struct sync_value vals[] = {{.type = SYNC_TEXT, .s = "王家与李家宅基地纠纷"},
                                {.type = SYNC_TEXT, .s = "registered"},
                                {.type = SYNC_TEXT, .s = "2026-01-05T09:00:00+08:00"}};
    assert_int_equal(replica_put(s->a.r, "cases", case_id, "yangliu", 3, cols, vals, NULL), 0);
    set_text(&s->a, "contacts", contact_id, "phone", "13800138000");
    const char *pcols[] = {"case_id", "contact_id"};
    struct sync_value pvals[] = {{.type = SYNC_TEXT, .s = case_id},
                                 {.type = SYNC_TEXT, .s = contact_id}};
    assert_int_equal(
        replica_put(s->a.r, "case_parties", party_id, "yangliu", 2, pcols, pvals, NULL), 0);
    laptop_sync(s, &s->a);
    laptop_sync(s, &s->b);
    /* Both change the title without seeing each other; a's phone changes. */
    set_text(&s->a, "cases", case_id, "title", "王家与李家宅基地边界纠纷");
    set_text(&s->a, "contacts", contact_id, "phone", "13900139000");
    usleep(2000); /* b's edit is the later one: it wins */
    set_text(&s->b, "cases", case_id, "title", "王李两家宅基地纠纷");
    laptop_sync(s, &s->a);
    laptop_sync(s, &s->b);

    /* The queue shows both values and who wrote them. */
    cJSON *doc = NULL;
    assert_int_equal(view_conflicts(s->store, "yangliu", 1, &doc), 0);
    const cJSON *list = member(doc, "conflicts");
    assert_int_equal(cJSON_GetArraySize(list), 1);
    const cJSON *c = cJSON_GetArrayItem(list, 0);
    assert_string_equal(member(c, "table")->valuestring, "cases");
    assert_string_equal(member(c, "column")->valuestring, "title");
    assert_string_equal(member(c, "case_id")->valuestring, case_id);
    assert_string_equal(member(c, "title")->valuestring, "王李两家宅基地纠纷");
    assert_string_equal(member(c, "standing")->valuestring, "王家与李家宅基地边界纠纷");
    assert_string_equal(member(c, "incoming")->valuestring, "王李两家宅基地纠纷");
    assert_string_equal(member(c, "standing_device")->valuestring, s->a.dev.id);
    assert_string_equal(member(c, "incoming_device")->valuestring, s->b.dev.id);
    assert_string_equal(member(c, "standing_label")->valuestring, "村委会笔记本");
    assert_string_equal(member(c, "incoming_label")->valuestring, "书记的电脑");
    assert_string_equal(member(c, "winner")->valuestring, "incoming");
    assert_true(cJSON_IsNull(member(c, "resolved_ms")));
    assert_true(member(c, "created_ms")->valuedouble > 0);
    int64_t conflict_id = (int64_t)member(c, "id")->valuedouble;
    cJSON_Delete(doc);
    assert_int_equal(view_conflicts(s->store, "taohua", 0, &doc), 0);
    assert_int_equal(cJSON_GetArraySize(member(doc, "conflicts")), 0);
    cJSON_Delete(doc);

    /* The table counts it, and the conflict filter finds the case. */
    struct rules_config rules;
    rules_config_default(&rules);
    char why[256] = "";
    assert_int_equal(
        view_cases(s->store, &rules, &(struct view_filter){.conflict = 1}, &doc, why, sizeof why),
        0);
    assert_int_equal((int)member(doc, "total")->valuedouble, 1);
    c = cJSON_GetArrayItem(member(doc, "cases"), 0);
    assert_int_equal((int)member(c, "conflicts")->valuedouble, 1);
    cJSON_Delete(doc);

    /* The case's history: each change, its device, and the value before. */
    assert_int_equal(view_case(s->store, &rules, case_id, 0, &doc, why, sizeof why), 0);
    const cJSON *history = member(doc, "history"), *e;
    const cJSON *titles[3] = {NULL, NULL, NULL};
    const cJSON *phones[2] = {NULL, NULL};
    int ntitles = 0, nphones = 0;
    cJSON_ArrayForEach(e, history)
    {
        assert_true(member(e, "device_ms")->valuedouble > 1.7e12);
        assert_true(member(e, "hub_ms")->valuedouble >= member(e, "device_ms")->valuedouble - 5e3);
        if (entry_field(e, "title") && ntitles < 3) {
            titles[ntitles++] = e;
        }
        if (entry_field(e, "phone") && nphones < 2) {
            phones[nphones++] = e;
        }
    }
    assert_int_equal(ntitles, 3);
    assert_int_equal(nphones, 2);
    const cJSON *t0 = entry_field(titles[0], "title"), *t1 = entry_field(titles[1], "title");
    const cJSON *t2 = entry_field(titles[2], "title");
    assert_string_equal(member(titles[0], "what")->valuestring, "case");
    assert_string_equal(member(titles[0], "op")->valuestring, "put");
    assert_true(cJSON_IsNull(member(t0, "before")));
    assert_string_equal(member(t0, "after")->valuestring, "王家与李家宅基地纠纷");
    assert_string_equal(member(titles[1], "device")->valuestring, s->a.dev.id);
    assert_string_equal(member(titles[1], "device_label")->valuestring, "村委会笔记本");
    assert_string_equal(member(t1, "before")->valuestring, "王家与李家宅基地纠纷");
    assert_string_equal(member(t1, "after")->valuestring, "王家与李家宅基地边界纠纷");
    assert_string_equal(member(titles[2], "device")->valuestring, s->b.dev.id);
    assert_string_equal(member(titles[2], "device_label")->valuestring, "书记的电脑");
    assert_string_equal(member(t2, "before")->valuestring, "王家与李家宅基地边界纠纷");
    assert_string_equal(member(t2, "after")->valuestring, "王李两家宅基地纠纷");
    /* The contact's phone, masked in the history. */
    assert_string_equal(member(phones[0], "what")->valuestring, "contact");
    const cJSON *p1 = entry_field(phones[1], "phone");
    assert_string_equal(member(p1, "before")->valuestring, "138****8000");
    assert_string_equal(member(p1, "after")->valuestring, "139****9000");
    /* The conflict, in the case's list. */
    const cJSON *conflicts = member(doc, "conflicts");
    assert_int_equal(cJSON_GetArraySize(conflicts), 1);
    assert_int_equal((int64_t)member(cJSON_GetArrayItem(conflicts, 0), "id")->valuedouble,
                     conflict_id);
    cJSON_Delete(doc);
    /* Revealed, the history shows the numbers. */
    assert_int_equal(view_case(s->store, &rules, case_id, 1, &doc, why, sizeof why), 0);
    char *text = cJSON_PrintUnformatted(doc);
    assert_non_null(strstr(text, "13800138000"));
    assert_non_null(strstr(text, "13900139000"));
    free(text);
    cJSON_Delete(doc);

    /* A decision ends the conflict: the filter no longer finds the case,
     * the case still lists it, resolved. */
    assert_int_equal(store_conflict_resolve(s->store, conflict_id, "standing", NULL, "王芳"), 0);
    assert_int_equal(
        view_cases(s->store, &rules, &(struct view_filter){.conflict = 1}, &doc, why, sizeof why),
        0);
    assert_int_equal((int)member(doc, "total")->valuedouble, 0);
    cJSON_Delete(doc);
    assert_int_equal(view_case(s->store, &rules, case_id, 0, &doc, why, sizeof why), 0);
    c = cJSON_GetArrayItem(member(doc, "conflicts"), 0);
    assert_true(member(c, "resolved_ms")->valuedouble > 0);
    const cJSON *last =
        cJSON_GetArrayItem(member(doc, "history"), cJSON_GetArraySize(member(doc, "history")) - 1);
    assert_string_equal(member(last, "device")->valuestring, "hub");
    assert_string_equal(member(last, "device_label")->valuestring, "hub");
    const cJSON *decided = entry_field(last, "title");
    assert_non_null(decided);
    assert_string_equal(member(decided, "before")->valuestring, "王李两家宅基地纠纷");
    assert_string_equal(member(decided, "after")->valuestring, "王家与李家宅基地边界纠纷");
    cJSON_Delete(doc);

    /* Search follows every write: the new title is found, the old is not. */
    assert_int_equal(
        view_cases(s->store, &rules, &(struct view_filter){.q = "边界纠纷"}, &doc, why, sizeof why),
        0);
    assert_int_equal((int)member(doc, "total")->valuedouble, 1);
    cJSON_Delete(doc);
    assert_int_equal(
        view_cases(s->store, &rules, &(struct view_filter){.q = "王李两家"}, &doc, why, sizeof why),
        0);
    assert_int_equal((int)member(doc, "total")->valuedouble, 0);
    cJSON_Delete(doc);
}

int main(void)
{
    const struct CMUnitTest data_tests[] = {
        cmocka_unit_test(test_filters_narrow),
        cmocka_unit_test(test_row_shape),
        cmocka_unit_test(test_paging_covers_every_case_once),
        cmocka_unit_test(test_sorting),
        cmocka_unit_test(test_search_chinese),
        cmocka_unit_test(test_search_event_notes),
        cmocka_unit_test(test_search_short_words),
        cmocka_unit_test(test_overdue_agrees_with_casefile),
        cmocka_unit_test(test_bad_filters),
        cmocka_unit_test(test_case_masked_unless_revealed),
    };
    const struct CMUnitTest sync_tests[] = {
        cmocka_unit_test_setup_teardown(test_history_and_conflict, sync_setup, sync_teardown),
    };
    int failed = cmocka_run_group_tests_name("view: the reference data", data_tests, group_setup,
                                             group_teardown);
    failed += cmocka_run_group_tests_name("view: two laptops", sync_tests, NULL, NULL);
    return failed;
}
