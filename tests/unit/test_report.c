/* SPDX-License-Identifier: MIT */
/*
 * test_report.c - unit tests for the township report (ledger/report.h).
 * The figures are real: rules_figures_compute() runs over a small
 * hand-made ledger of two villages for March 2024, and each format is
 * rendered into memory and read back as a user or a program would: the
 * JSON parsed with cJSON, the CSV split into fields, the table searched for
 * its words and measured for alignment in terminal columns.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "report.h"
#include "sync_error.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---- */

static struct rules_date day(const char *text)
{
    struct rules_date d;
    assert_int_equal(rules_date_parse(text, &d), 0);
    return d;
}

/* A write callback that keeps everything in memory, and can refuse its
 * fail_at-th call (1-based; 0 never) with fail_rc. */
struct sink {
    char *data;
    size_t len;
    size_t calls;
    size_t fail_at;
    int fail_rc;
};

static int sink_write(void *ctx, const char *data, size_t len)
{
    struct sink *s = ctx;
    s->calls++;
    if (s->fail_at && s->calls == s->fail_at) {
        return s->fail_rc;
    }
    assert_true(s->fail_at == 0 || s->calls < s->fail_at); /* never called after a refusal */
    char *grown = realloc(s->data, s->len + len + 1);
    assert_non_null(grown);
    memcpy(grown + s->len, data, len);
    s->data = grown;
    s->len += len;
    s->data[s->len] = '\0';
    return 0;
}

static void sink_free(struct sink *s)
{
    free(s->data);
    memset(s, 0, sizeof *s);
}

/* Terminal columns of the first n bytes of s, counted independently of
 * report.c: a code point in the CJK and full-width ranges is two columns,
 * any other one. */
static size_t width_of(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t w = 0;
    for (size_t i = 0; i < n;) {
        unsigned cp;
        size_t k;
        if (p[i] < 0x80) {
            cp = p[i], k = 1;
        } else if ((p[i] & 0xE0) == 0xC0) {
            cp = (p[i] & 0x1Fu) << 6 | (p[i + 1] & 0x3Fu), k = 2;
        } else if ((p[i] & 0xF0) == 0xE0) {
            cp = (p[i] & 0x0Fu) << 12 | (p[i + 1] & 0x3Fu) << 6 | (p[i + 2] & 0x3Fu), k = 3;
        } else {
            cp = (p[i] & 0x07u) << 18 | (p[i + 1] & 0x3Fu) << 12 | (p[i + 2] & 0x3Fu) << 6 |
                 (p[i + 3] & 0x3Fu);
            k = 4;
        }
        int wide = (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
                   (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
                   (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
                   (cp >= 0xFFE0 && cp <= 0xFFE6) || cp >= 0x20000;
        w += wide ? 2 : 1;
        i += k;
    }
    return w;
}

/* How many times needle occurs in haystack. */
static size_t occurrences(const char *haystack, const char *needle)
{
    size_t n = 0;
    for (const char *p = haystack; (p = strstr(p, needle)) != NULL; p += strlen(needle)) {
        n++;
    }
    return n;
}

static void assert_starts_with(const char *text, const char *prefix)
{
    assert_non_null(text);
    if (strncmp(text, prefix, strlen(prefix)) != 0) {
        fail_msg("expected to start with \"%s\":\n%.200s", prefix, text);
    }
}

/* ---- the ledger ---- */

/* March 2024, seen on 2024-04-10. Village baisha: four cases received in
 * March (three disputes, two of them mediated: participation 2/3; one
 * agreement of two mediations: success 1/2; one of two opinions
 * satisfied: 1/2; a petition due 03-25 and still open: overdue, and open
 * overdue at 03-31). Village yangliu: one dispute received and mediated
 * (1/1), no mediation ended and no opinion (no data), and a case concluded
 * on the leap day whose follow-up visit fell due, and was made, in March. */
#define NCASES 6
static struct rules_case_facts cases[NCASES];
static struct rules_config config;
static struct report_row rows[2];
static struct report_row total;

static void make_report(struct report *r, const char *lang)
{
    memset(cases, 0, sizeof cases);
    cases[0] = (struct rules_case_facts){.village = "baisha",
                                         .kind = RULES_KIND_DISPUTE,
                                         .category = "land",
                                         .channel = RULES_CHANNEL_VISIT,
                                         .status = RULES_STATUS_CONCLUDED,
                                         .severity = 1,
                                         .received = day("2024-03-02"),
                                         .concluded = day("2024-03-20"),
                                         .mediated = 1,
                                         .agreement_reached = 1,
                                         .mediation_concluded = 1,
                                         .opinion = RULES_OPINION_SATISFIED};
    cases[1] = (struct rules_case_facts){.village = "baisha",
                                         .kind = RULES_KIND_DISPUTE,
                                         .category = "debt",
                                         .channel = RULES_CHANNEL_CALL,
                                         .status = RULES_STATUS_FAILED,
                                         .severity = 2,
                                         .received = day("2024-03-05"),
                                         .mediated = 1,
                                         .mediation_concluded = 1,
                                         .opinion = RULES_OPINION_NOT_SATISFIED};
    cases[2] = (struct rules_case_facts){.village = "baisha",
                                         .kind = RULES_KIND_PETITION,
                                         .category = "veterans",
                                         .channel = RULES_CHANNEL_LETTER,
                                         .status = RULES_STATUS_ACCEPTED,
                                         .severity = 2,
                                         .received = day("2024-03-10"),
                                         .due = day("2024-03-25")};
    cases[3] = (struct rules_case_facts){.village = "baisha",
                                         .kind = RULES_KIND_DISPUTE,
                                         .category = "pensions", /* not in the list */
                                         .status = RULES_STATUS_REGISTERED,
                                         .received = day("2024-03-31")};
    cases[4] = (struct rules_case_facts){.village = "yangliu",
                                         .kind = RULES_KIND_DISPUTE,
                                         .category = "land",
                                         .channel = RULES_CHANNEL_VISIT,
                                         .status = RULES_STATUS_MEDIATING,
                                         .severity = 2,
                                         .received = day("2024-03-03"),
                                         .mediated = 1};
    cases[5] = (struct rules_case_facts){.village = "yangliu",
                                         .kind = RULES_KIND_DISPUTE,
                                         .category = "family",
                                         .channel = RULES_CHANNEL_VISIT,
                                         .status = RULES_STATUS_CONCLUDED,
                                         .severity = 1,
                                         .received = day("2023-12-01"),
                                         .concluded = day("2024-02-29"),
                                         .mediated = 1,
                                         .agreement_reached = 1,
                                         .mediation_concluded = 1,
                                         .followup_done = day("2024-03-20")};
    rules_config_default(&config);
    struct rules_period march;
    assert_int_equal(rules_period_month(2024, 3, &march), 0);
    struct rules_date today = day("2024-04-10");
    rows[0] = (struct report_row){.village = "baisha", .name = "白沙村"};
    rows[1] = (struct report_row){.village = "yangliu", .name = "杨柳村"};
    total = (struct report_row){0};
    assert_int_equal(
        rules_figures_compute(cases, NCASES, &march, "baisha", &config, today, &rows[0].figures),
        0);
    assert_int_equal(
        rules_figures_compute(cases, NCASES, &march, "yangliu", &config, today, &rows[1].figures),
        0);
    assert_int_equal(
        rules_figures_compute(cases, NCASES, &march, NULL, &config, today, &total.figures), 0);
    *r = (struct report){
        .config = &config, .today = today, .rows = rows, .nrows = 2, .total = &total, .lang = lang};
}

/* ---- JSON ---- */

static cJSON *render_json(const struct report *r)
{
    struct sink s = {0};
    assert_int_equal(report_write_json(r, sink_write, &s), 0);
    assert_non_null(s.data);
    assert_true(s.len > 2 && s.data[s.len - 1] == '\n');
    cJSON *root = cJSON_Parse(s.data);
    assert_non_null(root);
    sink_free(&s);
    return root;
}

static double number(const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    assert_true(cJSON_IsNumber(item));
    return item->valuedouble;
}

static const char *string(const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    assert_true(cJSON_IsString(item));
    return item->valuestring;
}

static const cJSON *member(const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    assert_non_null(item);
    return item;
}

static void assert_json_rate(const cJSON *obj, const char *key, int num, int den,
                             const char *percent, int target, int meets)
{
    const cJSON *rate = member(obj, key);
    assert_int_equal((int)number(rate, "num"), num);
    assert_int_equal((int)number(rate, "den"), den);
    assert_int_equal((int)number(rate, "target"), target);
    if (percent) {
        assert_string_equal(string(rate, "percent"), percent);
    } else {
        assert_true(cJSON_IsNull(member(rate, "percent")));
    }
    if (meets < 0) {
        assert_true(cJSON_IsNull(member(rate, "meets")));
    } else {
        assert_true(cJSON_IsBool(member(rate, "meets")));
        assert_int_equal(cJSON_IsTrue(member(rate, "meets")) ? 1 : 0, meets);
    }
}

static void test_json(void **state)
{
    (void)state;
    struct report r;
    make_report(&r, NULL);
    cJSON *root = render_json(&r);

    assert_string_equal(string(member(root, "period"), "first"), "2024-03-01");
    assert_string_equal(string(member(root, "period"), "last"), "2024-03-31");
    assert_string_equal(string(root, "as_of"), "2024-03-31");
    assert_string_equal(string(root, "today"), "2024-04-10");
    const cJSON *targets = member(root, "targets");
    assert_int_equal((int)number(targets, "participation"), 9800);
    assert_int_equal((int)number(targets, "success"), 9800);
    assert_int_equal((int)number(targets, "satisfaction"), 9600);

    const cJSON *villages = member(root, "villages");
    assert_true(cJSON_IsArray(villages));
    assert_int_equal(cJSON_GetArraySize(villages), 2);
    const cJSON *baisha = cJSON_GetArrayItem(villages, 0);
    assert_string_equal(string(baisha, "village"), "baisha");
    assert_string_equal(string(baisha, "name"), "白沙村");
    assert_int_equal((int)number(baisha, "received"), 4);
    const cJSON *kinds = member(baisha, "received_by_kind");
    assert_int_equal((int)number(kinds, "dispute"), 3);
    assert_int_equal((int)number(kinds, "petition"), 1);
    assert_int_equal((int)number(kinds, "screening"), 0);
    assert_int_equal((int)number(kinds, "unknown"), 0);
    const cJSON *channels = member(baisha, "received_by_channel");
    assert_int_equal((int)number(channels, "visit"), 1);
    assert_int_equal((int)number(channels, "letter"), 1);
    assert_int_equal((int)number(channels, "call"), 1);
    assert_int_equal((int)number(channels, "referral"), 0);
    assert_int_equal((int)number(channels, "unknown"), 1);
    assert_int_equal(cJSON_GetArraySize(channels), RULES_CHANNEL_COUNT);

    /* Every configured category, in the config's order, then unlisted. */
    const cJSON *categories = member(baisha, "received_by_category");
    assert_int_equal(cJSON_GetArraySize(categories), (int)config.ncategories + 1);
    size_t i = 0;
    for (const cJSON *c = categories->child; c; c = c->next, i++) {
        assert_string_equal(c->string,
                            i < config.ncategories ? config.categories[i].name : "unlisted");
    }
    assert_int_equal((int)number(categories, "land"), 1);
    assert_int_equal((int)number(categories, "debt"), 1);
    assert_int_equal((int)number(categories, "veterans"), 1);
    assert_int_equal((int)number(categories, "family"), 0);
    assert_int_equal((int)number(categories, "unlisted"), 1);

    assert_int_equal((int)number(baisha, "concluded"), 1);
    assert_json_rate(baisha, "participation", 2, 3, "66.7%", 9800, 0);
    assert_json_rate(baisha, "success", 1, 2, "50.0%", 9800, 0);
    assert_json_rate(baisha, "satisfaction", 1, 2, "50.0%", 9600, 0);
    assert_int_equal((int)number(baisha, "overdue"), 1);
    assert_int_equal((int)number(baisha, "overdue_open"), 1);
    assert_int_equal((int)number(baisha, "followups_due"), 0);

    const cJSON *yangliu = cJSON_GetArrayItem(villages, 1);
    assert_string_equal(string(yangliu, "village"), "yangliu");
    assert_json_rate(yangliu, "participation", 1, 1, "100.0%", 9800, 1);
    assert_json_rate(yangliu, "success", 0, 0, NULL, 9800, -1);
    assert_json_rate(yangliu, "satisfaction", 0, 0, NULL, 9600, -1);
    assert_int_equal((int)number(yangliu, "followups_due"), 1);
    assert_int_equal((int)number(yangliu, "followups_done"), 1);
    assert_int_equal((int)number(yangliu, "followups_overdue"), 0);

    const cJSON *t = member(root, "total");
    assert_true(cJSON_IsNull(member(t, "village")));
    assert_true(cJSON_IsNull(member(t, "name")));
    assert_int_equal((int)number(t, "received"), 5);
    assert_int_equal((int)number(member(t, "received_by_category"), "land"), 2);
    assert_json_rate(t, "participation", 3, 4, "75.0%", 9800, 0);
    assert_int_equal((int)number(t, "followups_done"), 1);
    cJSON_Delete(root);

    /* One village alone, no name and no total: the code stands in for the
     * name and "total" is left out. */
    rows[1].name = NULL;
    r.rows = &rows[1];
    r.nrows = 1;
    r.total = NULL;
    root = render_json(&r);
    assert_int_equal(cJSON_GetArraySize(member(root, "villages")), 1);
    assert_string_equal(string(cJSON_GetArrayItem(member(root, "villages"), 0), "name"), "yangliu");
    assert_null(cJSON_GetObjectItemCaseSensitive(root, "total"));
    cJSON_Delete(root);

    /* A township that changed its targets sees them. */
    make_report(&r, "en");
    assert_int_equal(rules_config_set(&config, "target_satisfaction", "96.5"), 0);
    root = render_json(&r);
    assert_int_equal((int)number(member(root, "targets"), "satisfaction"), 9650);
    cJSON_Delete(root);
}

/* cJSON's allocations fail after the first allowed ones. */
static size_t allocations_allowed;

static void *failing_malloc(size_t size)
{
    if (allocations_allowed == 0) {
        return NULL;
    }
    allocations_allowed--;
    return malloc(size);
}

static void test_json_out_of_memory(void **state)
{
    (void)state;
    struct report r;
    make_report(&r, NULL);
    cJSON_Hooks hooks = {failing_malloc, free};
    /* Running out of memory at any step gives SYNC_E_NOMEM, writes nothing
     * and leaks nothing; with enough memory the report comes out whole. */
    int rc = SYNC_E_NOMEM;
    for (size_t allowed = 0; rc == SYNC_E_NOMEM; allowed++) {
        assert_true(allowed < 100000);
        struct sink s = {0};
        allocations_allowed = allowed;
        cJSON_InitHooks(&hooks);
        rc = report_write_json(&r, sink_write, &s);
        cJSON_InitHooks(NULL);
        if (rc == SYNC_E_NOMEM) {
            assert_int_equal(s.calls, 0);
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(s.calls, 1);
        }
        sink_free(&s);
    }
}

/* ---- CSV ---- */

#define MAX_FIELDS 128

/* Split one CSV record (RFC 4180) at text into fields, written NUL-ended
 * into store; returns how many, and where the record ends (after CRLF). */
static size_t csv_split(const char *text, char *store, char *fields[MAX_FIELDS], const char **end)
{
    size_t n = 0;
    const char *p = text;
    char *o = store;
    for (;;) {
        assert_true(n < MAX_FIELDS);
        fields[n++] = o;
        if (*p == '"') {
            for (p++;; p++) {
                assert_true(*p != '\0');
                if (*p == '"' && p[1] == '"') {
                    *o++ = '"';
                    p++;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    *o++ = *p;
                }
            }
        } else {
            while (*p && *p != ',' && *p != '\r' && *p != '\n') {
                *o++ = *p++;
            }
        }
        *o++ = '\0';
        if (*p == ',') {
            p++;
            continue;
        }
        assert_true(p[0] == '\r' && p[1] == '\n'); /* every line ends in CRLF */
        *end = p + 2;
        return n;
    }
}

/* The field of fields named name in header. */
static const char *field(char *header[], size_t n, char *fields[], const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(header[i], name) == 0) {
            return fields[i];
        }
    }
    fail_msg("no column %s", name);
    return NULL;
}

static void test_csv(void **state)
{
    (void)state;
    struct report r;
    make_report(&r, NULL);
    rows[1].name = "Hill \"A\", East";
    struct sink s = {0};
    assert_int_equal(report_write_csv(&r, sink_write, &s), 0);
    assert_memory_equal(s.data, "\xEF\xBB\xBF", 3);
    /* No bare LF anywhere: every line ends in CRLF. */
    for (size_t i = 0; i < s.len; i++) {
        if (s.data[i] == '\n') {
            assert_true(i > 0 && s.data[i - 1] == '\r');
        }
    }
    assert_int_equal(occurrences(s.data, "\r\n"), 4); /* header, two villages, total */

    char *store = malloc(s.len + 1);
    assert_non_null(store);
    char *header[MAX_FIELDS] = {0}, *f[MAX_FIELDS] = {0};
    const char *p;
    size_t n = csv_split(s.data + 3, store, header, &p);
    const char *expected[] = {"village",
                              "name",
                              "received",
                              "received_kind_dispute",
                              "received_kind_petition",
                              "received_kind_screening",
                              "received_kind_unknown",
                              "received_channel_visit",
                              "received_channel_letter",
                              "received_channel_call",
                              "received_channel_online",
                              "received_channel_screening",
                              "received_channel_referral",
                              "received_channel_unknown"};
    assert_true(n > sizeof expected / sizeof expected[0]);
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        assert_string_equal(header[i], expected[i]);
    }
    size_t at = sizeof expected / sizeof expected[0];
    for (size_t i = 0; i < config.ncategories; i++) {
        char name[64];
        snprintf(name, sizeof name, "received_category_%s", config.categories[i].name);
        assert_string_equal(header[at++], name);
    }
    const char *rest[] = {"received_category_unlisted",
                          "concluded",
                          "participation_num",
                          "participation_den",
                          "participation_percent",
                          "participation_target",
                          "participation_meets",
                          "success_num",
                          "success_den",
                          "success_percent",
                          "success_target",
                          "success_meets",
                          "satisfaction_num",
                          "satisfaction_den",
                          "satisfaction_percent",
                          "satisfaction_target",
                          "satisfaction_meets",
                          "overdue",
                          "overdue_open",
                          "followups_due",
                          "followups_done",
                          "followups_overdue"};
    for (size_t i = 0; i < sizeof rest / sizeof rest[0]; i++) {
        assert_string_equal(header[at++], rest[i]);
    }
    assert_int_equal(n, at);
    for (size_t i = 0; i < n; i++) { /* a program can look every column up by name */
        for (size_t j = i + 1; j < n; j++) {
            assert_string_not_equal(header[i], header[j]);
        }
    }

    /* baisha */
    char *store1 = malloc(s.len + 1);
    assert_non_null(store1);
    assert_int_equal(csv_split(p, store1, f, &p), n);
    assert_string_equal(field(header, n, f, "village"), "baisha");
    assert_string_equal(field(header, n, f, "name"), "白沙村");
    assert_string_equal(field(header, n, f, "received"), "4");
    assert_string_equal(field(header, n, f, "received_kind_dispute"), "3");
    assert_string_equal(field(header, n, f, "received_category_land"), "1");
    assert_string_equal(field(header, n, f, "received_category_unlisted"), "1");
    assert_string_equal(field(header, n, f, "participation_num"), "2");
    assert_string_equal(field(header, n, f, "participation_den"), "3");
    assert_string_equal(field(header, n, f, "participation_percent"), "66.7%");
    assert_string_equal(field(header, n, f, "participation_target"), "98%");
    assert_string_equal(field(header, n, f, "participation_meets"), "no");
    assert_string_equal(field(header, n, f, "satisfaction_target"), "96%");
    assert_string_equal(field(header, n, f, "overdue_open"), "1");

    /* yangliu: the name with a comma and quotes survives the round trip;
     * no data leaves percent and meets empty. */
    assert_non_null(strstr(s.data, ",\"Hill \"\"A\"\", East\","));
    assert_int_equal(csv_split(p, store1, f, &p), n);
    assert_string_equal(field(header, n, f, "name"), "Hill \"A\", East");
    assert_string_equal(field(header, n, f, "participation_percent"), "100.0%");
    assert_string_equal(field(header, n, f, "participation_meets"), "yes");
    assert_string_equal(field(header, n, f, "success_num"), "0");
    assert_string_equal(field(header, n, f, "success_den"), "0");
    assert_string_equal(field(header, n, f, "success_percent"), "");
    assert_string_equal(field(header, n, f, "success_target"), "98%");
    assert_string_equal(field(header, n, f, "success_meets"), "");
    assert_string_equal(field(header, n, f, "followups_done"), "1");

    /* The total, last. */
    assert_int_equal(csv_split(p, store1, f, &p), n);
    assert_string_equal(field(header, n, f, "village"), "合计");
    assert_string_equal(field(header, n, f, "name"), "");
    assert_string_equal(field(header, n, f, "received"), "5");
    assert_string_equal(field(header, n, f, "participation_percent"), "75.0%");
    assert_int_equal(*p, '\0');
    free(store1);
    free(store);
    sink_free(&s);

    /* A name a spreadsheet would run as a formula is defused; English
     * calls the last row "total". */
    rows[0].name = "=HYPERLINK(\"http://x\")";
    rows[1].name = "@SUM(1)";
    r.lang = "en";
    assert_int_equal(report_write_csv(&r, sink_write, &s), 0);
    assert_non_null(strstr(s.data, "\r\nbaisha,\"'=HYPERLINK(\"\"http://x\"\")\","));
    assert_non_null(strstr(s.data, "\r\nyangliu,'@SUM(1),"));
    assert_non_null(strstr(s.data, "\r\ntotal,,5,"));
    assert_null(strstr(s.data, ",=")); /* no field starts with a bare = */
    sink_free(&s);
}

/* ---- the table ---- */

/* Check that, after the heading and its blank line, each block (blocks
 * parted by a blank line) has lines of one display width; returns the
 * widest, and the number of blocks in *blocks. */
static size_t assert_aligned(const char *text, size_t *blocks)
{
    const char *p = strstr(text, "\n\n");
    assert_non_null(p);
    p += 2;
    size_t block_width = 0, widest = 0;
    *blocks = 1;
    while (*p) {
        const char *eol = strchr(p, '\n');
        assert_non_null(eol); /* every line ends with a newline */
        size_t w = width_of(p, (size_t)(eol - p));
        if (w == 0) {
            (*blocks)++;
            block_width = 0;
        } else if (block_width == 0) {
            block_width = w;
        } else {
            assert_int_equal(w, block_width);
        }
        widest = w > widest ? w : widest;
        p = eol + 1;
    }
    return widest;
}

/* The line of text that starts with label (after no indent or two
 * spaces), copied into buf. */
static const char *line_of(const char *text, const char *label, char *buf, size_t len)
{
    for (const char *p = text; *p;) {
        const char *eol = strchr(p, '\n');
        assert_non_null(eol);
        const char *start = p;
        while (*start == ' ') {
            start++;
        }
        if (strncmp(start, label, strlen(label)) == 0 && start[strlen(label)] == ' ') {
            size_t n = (size_t)(eol - p);
            assert_true(n < len);
            memcpy(buf, p, n);
            buf[n] = '\0';
            return buf;
        }
        p = eol + 1;
    }
    fail_msg("no line %s", label);
    return NULL;
}

static void test_table(void **state)
{
    (void)state;
    struct report r;
    make_report(&r, NULL);
    struct sink s = {0};
    char line[512];
    assert_int_equal(report_write_table(&r, sink_write, &s), 0);
    assert_non_null(s.data);

    /* The heading names the month and the as-of day. */
    assert_starts_with(s.data,
                       "统计期间：2024年3月（2024-03-01 至 2024-03-31），截至 2024-03-31\n\n");
    const char *labels[] = {"受理数",       "矛盾纠纷", "信访件",     "排查发现", "未注明",
                            "来访",         "转送交办", "土地征收",   "涉法涉诉", "其他未列明",
                            "办结数",       "参调率",   "调解成功率", "满意率",   "逾期数",
                            "当前逾期未结", "应回访",   "已回访",     "回访逾期", "白沙村",
                            "杨柳村",       "合计"};
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++) {
        assert_non_null(strstr(s.data, labels[i]));
    }
    /* Every configured category has its row, even with no cases. */
    for (size_t i = 0; i < config.ncategories; i++) {
        assert_non_null(strstr(s.data, config.categories[i].zh));
    }
    /* Rates with their fraction, and the mark against the target. */
    line_of(s.data, "参调率", line, sizeof line);
    assert_non_null(strstr(line, "66.7% (2/3)"));
    assert_non_null(strstr(line, "100.0% (1/1)"));
    assert_non_null(strstr(line, "75.0% (3/4)"));
    line_of(s.data, "调解成功率", line, sizeof line);
    assert_non_null(strstr(line, "50.0% (1/2)"));
    assert_non_null(strstr(line, "无数据"));
    line_of(s.data, "目标 98%", line, sizeof line);   /* the first: participation */
    assert_int_equal(occurrences(line, "未达标"), 2); /* baisha and the total */
    assert_int_equal(occurrences(line, "达标"), 3);   /* and yangliu meets it */
    assert_non_null(strstr(s.data, "目标 96%"));
    line_of(s.data, "受理数", line, sizeof line);
    assert_non_null(strstr(line, " 4 "));
    assert_string_equal(line + strlen(line) - 2, " 5"); /* the total, last */
    line_of(s.data, "其他未列明", line, sizeof line);
    assert_non_null(strstr(line, " 1 "));

    size_t blocks;
    size_t widest = assert_aligned(s.data, &blocks);
    assert_int_equal(blocks, 1);
    assert_true(widest <= REPORT_TABLE_WIDTH);
    sink_free(&s);

    /* English. */
    r.lang = "en";
    assert_int_equal(report_write_table(&r, sink_write, &s), 0);
    assert_starts_with(s.data,
                       "Figures for March 2024 (2024-03-01 to 2024-03-31), as of 2024-03-31\n\n");
    const char *words[] = {
        "received",           "dispute",      "land expropriation", "unlisted",       "concluded",
        "participation rate", "success rate", "satisfaction rate",  "target 98%",     "target 96%",
        "below target",       "no data",      "overdue and open",   "follow-ups due", "total"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        assert_non_null(strstr(s.data, words[i]));
    }
    assert_null(strstr(s.data, "无数据"));
    line_of(s.data, "success rate", line, sizeof line);
    assert_non_null(strstr(line, "no data"));
    assert_aligned(s.data, &blocks);
    sink_free(&s);
}

static void test_table_many_villages(void **state)
{
    (void)state;
    struct report r;
    make_report(&r, "zh");
    /* Twelve villages cannot stand side by side in 80 columns: they go on
     * in blocks below, each aligned, each no wider than the limit, every
     * village once and the total once, last. */
    struct report_row many[12];
    char codes[12][16], names[12][32];
    for (size_t i = 0; i < 12; i++) {
        snprintf(codes[i], sizeof codes[i], "v%zu", i);
        snprintf(names[i], sizeof names[i], "第%zu村", i + 10);
        many[i] = rows[i % 2];
        many[i].village = codes[i];
        many[i].name = names[i];
    }
    many[11].name = NULL; /* shown by its code */
    r.rows = many;
    r.nrows = 12;
    struct sink s = {0};
    assert_int_equal(report_write_table(&r, sink_write, &s), 0);
    size_t blocks;
    size_t widest = assert_aligned(s.data, &blocks);
    assert_true(blocks > 1);
    assert_true(widest <= REPORT_TABLE_WIDTH);
    assert_int_equal(occurrences(s.data, "项目"), blocks);
    assert_int_equal(occurrences(s.data, "受理数"), blocks);
    for (size_t i = 0; i < 11; i++) {
        assert_int_equal(occurrences(s.data, names[i]), 1);
    }
    assert_int_equal(occurrences(s.data, " v11"), 1);
    assert_int_equal(occurrences(s.data, "合计"), 1);
    assert_true(strstr(s.data, "合计") > strstr(s.data, " v11"));
    sink_free(&s);

    /* A name with a newline or an escape cannot break the lines. */
    make_report(&r, NULL);
    rows[0].name = "白沙\n\x1b[2J村";
    assert_int_equal(report_write_table(&r, sink_write, &s), 0);
    assert_null(strchr(s.data, '\x1b'));
    assert_non_null(strstr(s.data, "白沙??[2J村"));
    assert_aligned(s.data, &blocks);
    assert_int_equal(blocks, 1);
    sink_free(&s);

    /* One village alone, a period that is not a calendar month. */
    struct rules_period span = {day("2024-03-01"), day("2024-03-15")};
    assert_int_equal(rules_figures_compute(cases, NCASES, &span, "baisha", &config,
                                           day("2024-03-10"), &rows[0].figures),
                     0);
    r.nrows = 1;
    r.total = NULL;
    r.today = day("2024-03-10");
    assert_int_equal(report_write_table(&r, sink_write, &s), 0);
    assert_starts_with(s.data, "统计期间：2024-03-01 至 2024-03-15，截至 2024-03-10\n\n");
    assert_null(strstr(s.data, "合计"));
    assert_aligned(s.data, &blocks);
    sink_free(&s);
}

/* ---- errors ---- */

static void test_write_failure(void **state)
{
    (void)state;
    struct report r;
    make_report(&r, NULL);
    int (*const writers[])(const struct report *, ledger_io_write_fn,
                           void *) = {report_write_table, report_write_csv, report_write_json};
    for (size_t w = 0; w < 3; w++) {
        /* How many pieces a full report takes. */
        struct sink s = {0};
        assert_int_equal(writers[w](&r, sink_write, &s), 0);
        size_t pieces = s.calls;
        sink_free(&s);
        assert_true(pieces >= 1);
        /* Refusing any one piece stops there, with the callback's code. */
        for (size_t at = 1; at <= pieces; at++) {
            s = (struct sink){.fail_at = at, .fail_rc = -77};
            assert_int_equal(writers[w](&r, sink_write, &s), -77);
            assert_int_equal(s.calls, at);
            sink_free(&s);
        }
    }
}

static void test_bad_arguments(void **state)
{
    (void)state;
    struct report r;
    make_report(&r, NULL);
    int (*const writers[])(const struct report *, ledger_io_write_fn,
                           void *) = {report_write_table, report_write_csv, report_write_json};
    for (size_t w = 0; w < 3; w++) {
        struct sink s = {0};
        struct report bad;
        assert_int_equal(writers[w](NULL, sink_write, &s), SYNC_E_ARG);
        assert_int_equal(writers[w](&r, NULL, &s), SYNC_E_ARG);
        bad = r;
        bad.config = NULL;
        assert_int_equal(writers[w](&bad, sink_write, &s), SYNC_E_ARG);
        bad = r;
        bad.rows = NULL;
        assert_int_equal(writers[w](&bad, sink_write, &s), SYNC_E_ARG);
        bad = r;
        bad.nrows = 0;
        bad.total = NULL; /* nothing to report */
        assert_int_equal(writers[w](&bad, sink_write, &s), SYNC_E_ARG);
        bad = r;
        bad.today = RULES_DATE_NONE;
        assert_int_equal(writers[w](&bad, sink_write, &s), SYNC_E_ARG);
        /* Rows of different periods cannot share one heading. */
        struct report_row other[2] = {rows[0], rows[1]};
        other[1].figures.period.last = day("2024-03-30");
        bad = r;
        bad.rows = other;
        assert_int_equal(writers[w](&bad, sink_write, &s), SYNC_E_ARG);
        other[1] = rows[1];
        other[1].village = NULL;
        assert_int_equal(writers[w](&bad, sink_write, &s), SYNC_E_ARG);
        /* "unlisted" is the report's own word. */
        struct rules_config c = config;
        assert_int_equal(rules_config_add_category(&c, "unlisted", "未列", "unlisted"), 0);
        bad = r;
        bad.config = &c;
        assert_int_equal(writers[w](&bad, sink_write, &s), SYNC_E_ARG);
        assert_int_equal(s.calls, 0); /* nothing was written */

        /* The total alone is a report. */
        bad = r;
        bad.nrows = 0;
        bad.rows = NULL;
        assert_int_equal(writers[w](&bad, sink_write, &s), 0);
        if (w == 2) {
            cJSON *root = cJSON_Parse(s.data);
            assert_non_null(root);
            assert_int_equal(cJSON_GetArraySize(member(root, "villages")), 0);
            assert_int_equal((int)number(member(root, "total"), "received"), 5);
            cJSON_Delete(root);
        } else {
            assert_non_null(strstr(s.data, w == 0 ? "合计" : "\r\n合计,,5,"));
        }
        sink_free(&s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_json_out_of_memory),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_table_many_villages),
        cmocka_unit_test(test_write_failure),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
