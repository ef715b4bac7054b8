/* SPDX-License-Identifier: MIT */
/*
 * test_township_rules.c - unit tests for the township's rules as a
 * replicated settings text (ledger/township_rules.h): the text of the
 * defaults and of a changed configuration read back to the same numbers
 * and categories; bad texts refused with the line that is wrong, leaving
 * the defaults; comments, blank lines and CRLF line ends accepted; and, on
 * a real replica with the ledger schema, the village's record written only
 * when the settings change and read back for that village alone.
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
#include "township_rules.h"

#define BAISHA  "baisha"
#define YANGLIU "yangliu"
#define NOW     "2024-03-01T09:00:00+08:00"

/* ---- helpers ---- */

/* Asserts that a and b hold the same numbers and the same categories, in
 * the same order. */
static void assert_config_equal(const struct rules_config *a, const struct rules_config *b)
{
    assert_int_equal(a->accept_days, b->accept_days);
    assert_int_equal(a->conclude_days, b->conclude_days);
    assert_int_equal(a->max_extension_days, b->max_extension_days);
    assert_int_equal(a->warn_days, b->warn_days);
    for (int i = 0; i < RULES_SEVERITY_MAX; i++) {
        assert_int_equal(a->followup_months[i], b->followup_months[i]);
    }
    assert_int_equal(a->target_participation_bp, b->target_participation_bp);
    assert_int_equal(a->target_success_bp, b->target_success_bp);
    assert_int_equal(a->target_satisfaction_bp, b->target_satisfaction_bp);
    assert_int_equal(a->ncategories, b->ncategories);
    for (size_t i = 0; i < a->ncategories; i++) {
        assert_string_equal(a->categories[i].name, b->categories[i].name);
        assert_string_equal(a->categories[i].zh, b->categories[i].zh);
        assert_string_equal(a->categories[i].en, b->categories[i].en);
    }
}

static void assert_is_default(const struct rules_config *config)
{
    struct rules_config defaults;
    rules_config_default(&defaults);
    assert_config_equal(config, &defaults);
}

/* A township that changed some numbers and lists its own categories. */
static void changed_config(struct rules_config *config)
{
    rules_config_default(config);
    assert_int_equal(rules_config_set(config, "accept_days", "10"), 0);
    assert_int_equal(rules_config_set(config, "target_satisfaction", "96.5"), 0);
    assert_int_equal(rules_config_set(config, "target_success", "97.25"), 0);
    assert_int_equal(rules_config_set(config, "followup_months_3", "12"), 0);
    assert_int_equal(rules_config_set(config, "max_extension_days", "0"), 0);
    rules_config_clear_categories(config);
    assert_int_equal(rules_config_add_category(config, "land", "土地征收", "Land requisition"), 0);
    assert_int_equal(rules_config_add_category(config, "water_rights", "水利纠纷", "Water rights"),
                     0);
    assert_int_equal(rules_config_add_category(config, "other", "其他", "Other"), 0);
}

static void assert_contains(const char *text, const char *needle)
{
    if (!strstr(text, needle)) {
        fail_msg("\"%s\" not in:\n%s", needle, text);
    }
}

/* Parses text, expecting the error code and a reason that starts with
 * prefix; the configuration must be left at the defaults. */
static void assert_refused(const char *text, int code, const char *prefix)
{
    struct rules_config config;
    char why[256] = "";
    changed_config(&config);
    int rc = township_rules_parse(text, &config, why, sizeof why);
    if (rc != code) {
        fail_msg("parse of \"%s\": %d (%s), expected %d", text, rc, why, code);
    }
    if (strncmp(why, prefix, strlen(prefix)) != 0) {
        fail_msg("parse of \"%s\": reason \"%s\", expected it to start with \"%s\"", text, why,
                 prefix);
    }
    assert_is_default(&config);
}

/* ---- format and parse ---- */

static void test_defaults_round_trip(void **state)
{
    (void)state;
    struct rules_config defaults, back;
    rules_config_default(&defaults);
    char text[TOWNSHIP_RULES_MAX_TEXT], why[256] = "x";
    assert_int_equal(township_rules_format(&defaults, text, sizeof text), 0);
    assert_contains(text, "accept_days=15\n");
    assert_contains(text, "conclude_days=60\n");
    assert_contains(text, "followup_months_2=3\n");
    assert_contains(text, "target_satisfaction=96\n");
    assert_contains(text, "category=land|土地征收|");
    memset(&back, 0x55, sizeof back);
    assert_int_equal(township_rules_parse(text, &back, why, sizeof why), 0);
    assert_string_equal(why, "");
    assert_config_equal(&back, &defaults);
    assert_int_equal(back.ncategories, 12);

    /* An empty text, or only comments, is the defaults. */
    memset(&back, 0x55, sizeof back);
    assert_int_equal(township_rules_parse("", &back, NULL, 0), 0);
    assert_config_equal(&back, &defaults);
    assert_int_equal(township_rules_parse("# nothing changed\n", &back, NULL, 0), 0);
    assert_config_equal(&back, &defaults);
}

static void test_changed_round_trip(void **state)
{
    (void)state;
    struct rules_config config, back;
    changed_config(&config);
    char text[TOWNSHIP_RULES_MAX_TEXT], again[TOWNSHIP_RULES_MAX_TEXT];
    assert_int_equal(township_rules_format(&config, text, sizeof text), 0);
    assert_contains(text, "accept_days=10\n");
    assert_contains(text, "max_extension_days=0\n");
    assert_contains(text, "followup_months_3=12\n");
    assert_contains(text, "target_satisfaction=96.5\n");
    assert_contains(text, "target_success=97.25\n");
    assert_contains(text, "category=water_rights|水利纠纷|Water rights\n");
    assert_null(strstr(text, "debt"));
    assert_int_equal(township_rules_parse(text, &back, NULL, 0), 0);
    assert_config_equal(&back, &config);
    assert_int_equal(back.target_satisfaction_bp, 9650);
    assert_int_equal(back.target_success_bp, 9725);
    assert_int_equal(back.followup_months[2], 12);
    /* The same configuration is the same text, byte for byte. */
    assert_int_equal(township_rules_format(&back, again, sizeof again), 0);
    assert_string_equal(again, text);

    /* A text that names only some numbers changes only those. */
    assert_int_equal(township_rules_parse("warn_days=7\ntarget_participation=95\n", &back, NULL, 0),
                     0);
    assert_int_equal(back.warn_days, 7);
    assert_int_equal(back.target_participation_bp, 9500);
    assert_int_equal(back.accept_days, 15);
    assert_int_equal(back.ncategories, 12);

    /* Too small a buffer: an error and no partial text. */
    char small[64] = "x";
    assert_int_equal(township_rules_format(&config, small, sizeof small), RULES_E_SPACE);
    assert_string_equal(small, "");
    /* A configuration out of range is not written. */
    config.warn_days = -1;
    assert_int_equal(township_rules_format(&config, text, sizeof text), RULES_E_ARG);
    assert_int_equal(township_rules_format(NULL, text, sizeof text), RULES_E_ARG);
}

static void test_parse_errors_name_the_line(void **state)
{
    (void)state;
    assert_refused("accept_days=10\n# comment\nwarn_days=abc\n", RULES_E_ARG, "line 3: ");
    assert_refused("accept_days=10\nnonsense\n", RULES_E_PARSE, "line 2: ");
    assert_refused("accept_days=0\n", RULES_E_ARG, "line 1: ");
    assert_refused("\n\nfollowup_months_1=61\n", RULES_E_ARG, "line 3: ");
    assert_refused("target_success=100.5\n", RULES_E_ARG, "line 1: ");
    assert_refused("category=land|土地\n", RULES_E_ARG, "line 1: ");
    assert_refused("category=land|土地|Land|more\n", RULES_E_ARG, "line 1: ");
    assert_refused("category=land|土地|Land\ncategory=land|土地|Land\n", RULES_E_ARG, "line 2: ");
    assert_refused("category=Land|土地|Land\n", RULES_E_ARG, "line 1: ");
    assert_refused("category=land||Land\n", RULES_E_ARG, "line 1: ");
    /* A line longer than any setting. */
    char text[1200];
    memset(text, 'x', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    memcpy(text, "accept_days=10\n# ", 17);
    assert_refused(text, RULES_E_PARSE, "line 2: ");

    struct rules_config config;
    assert_int_equal(township_rules_parse(NULL, &config, NULL, 0), RULES_E_ARG);
    assert_int_equal(township_rules_parse("", NULL, NULL, 0), RULES_E_ARG);
}

static void test_unknown_key_refused(void **state)
{
    (void)state;
    assert_refused("accept_dayz=10\n", RULES_E_ARG, "line 1: ");
    char why[256];
    struct rules_config config;
    assert_int_equal(township_rules_parse("warn_days=3\nholidays=7\n", &config, why, sizeof why),
                     RULES_E_ARG);
    assert_contains(why, "line 2: ");
    assert_contains(why, "holidays");
    assert_is_default(&config);
    /* The keys are exact: no spaces around them. */
    assert_refused("accept_days = 10\n", RULES_E_ARG, "line 1: ");
}

static void test_comments_blank_lines_and_crlf(void **state)
{
    (void)state;
    static const char text[] = "# 白沙镇的规则\r\n"
                               "\r\n"
                               "accept_days=12\r\n"
                               "\n"
                               "# 回访\r\n"
                               "followup_months_1=2\r\n"
                               "category=land|土地征收|Land\r\n"
                               "category=family|婚姻家庭|Family\r\n"
                               "warn_days=3\r";
    struct rules_config config;
    char why[256] = "x";
    /* A last line of only "\r" once made the parser loop for ever: a
     * regression ends the program instead of hanging it. */
    alarm(10);
    assert_int_equal(township_rules_parse(text, &config, why, sizeof why), 0);
    assert_string_equal(why, "");
    assert_int_equal(config.accept_days, 12);
    assert_int_equal(config.followup_months[0], 2);
    assert_int_equal(config.warn_days, 3);
    assert_int_equal(config.ncategories, 2);
    assert_string_equal(config.categories[0].en, "Land");
    assert_string_equal(config.categories[1].name, "family");
    assert_string_equal(config.categories[1].en, "Family");
    /* The last line without its line end, and one that is only "\r". */
    assert_int_equal(township_rules_parse("accept_days=20", &config, NULL, 0), 0);
    assert_int_equal(config.accept_days, 20);
    assert_int_equal(township_rules_parse("accept_days=21\n\r", &config, NULL, 0), 0);
    assert_int_equal(config.accept_days, 21);
    alarm(0);
    /* The line count includes the comments and blank lines. */
    assert_refused("# a\r\n\r\n# b\r\nwarn_days=x\r\n", RULES_E_ARG, "line 4: ");
}

static void test_too_long_text_refused(void **state)
{
    (void)state;
    /* Comment lines up to the longest text allowed, then one byte more. */
    static char text[TOWNSHIP_RULES_MAX_TEXT + 2];
    memset(text, 0, sizeof text);
    for (size_t i = 0; i < TOWNSHIP_RULES_MAX_TEXT; i += 64) {
        memset(text + i, '#', 63);
        text[i + 63] = '\n';
    }
    assert_int_equal(strlen(text), TOWNSHIP_RULES_MAX_TEXT);
    struct rules_config config;
    char why[256] = "";
    assert_int_equal(township_rules_parse(text, &config, why, sizeof why), 0);
    text[TOWNSHIP_RULES_MAX_TEXT] = '\n';
    changed_config(&config);
    assert_int_equal(township_rules_parse(text, &config, why, sizeof why), RULES_E_ARG);
    assert_true(why[0] != '\0');
    assert_is_default(&config);
}

/* ---- the record in the ledger ---- */

struct fixture {
    char dir[64];
    struct replica_config config;
    struct replica *replica;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/hamlet-test-township-rules-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    ledger_schema_config(&f->config, 1);
    char path[128], why[256] = "";
    snprintf(path, sizeof path, "%s/hub.db", f->dir);
    int rc = replica_open(path, &f->config, &f->replica, why, sizeof why);
    if (rc != 0) {
        fail_msg("replica_open %s: %s (%s)", path, sync_strerror(rc), why);
    }
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

/* Stores config for village, expecting changed to be want. */
static void store(struct fixture *f, const char *village, const struct rules_config *config,
                  int want)
{
    int changed = -1;
    int rc = township_rules_store(f->replica, village, config, NOW, &changed);
    if (rc != 0) {
        fail_msg("township_rules_store: %d", rc);
    }
    assert_int_equal(changed, want);
}

/* How many township_rules records the replica holds. */
static int records(struct fixture *f)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(replica_db(f->replica),
                                        "SELECT count(*) FROM township_rules", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

static void test_store_writes_only_changes(void **state)
{
    struct fixture *f = *state;
    struct rules_config defaults, changed;
    rules_config_default(&defaults);
    changed_config(&changed);

    /* No record and the defaults: nothing to send. */
    int64_t seq = replica_own_seq(f->replica);
    store(f, BAISHA, &defaults, 0);
    assert_int_equal(replica_own_seq(f->replica), seq);
    assert_int_equal(records(f), 0);

    /* A changed configuration is written once. */
    store(f, BAISHA, &changed, 1);
    assert_true(replica_own_seq(f->replica) > seq);
    assert_int_equal(records(f), 1);
    seq = replica_own_seq(f->replica);
    store(f, BAISHA, &changed, 0);
    assert_int_equal(replica_own_seq(f->replica), seq);

    /* Back to the defaults: the record held must say so. */
    store(f, BAISHA, &defaults, 1);
    assert_true(replica_own_seq(f->replica) > seq);
    assert_int_equal(records(f), 1);
    seq = replica_own_seq(f->replica);
    store(f, BAISHA, &defaults, 0);
    assert_int_equal(replica_own_seq(f->replica), seq);
    struct rules_config back;
    assert_int_equal(township_rules_load(f->replica, BAISHA, &back), 0);
    assert_config_equal(&back, &defaults);

    /* Bad arguments write nothing. */
    int flag = -1;
    assert_int_equal(township_rules_store(f->replica, BAISHA, &changed, NULL, &flag), RULES_E_ARG);
    assert_int_equal(flag, 0);
    assert_int_equal(township_rules_store(NULL, BAISHA, &changed, NOW, &flag), RULES_E_ARG);
    assert_int_equal(township_rules_store(f->replica, NULL, &changed, NOW, &flag), RULES_E_ARG);
    changed.accept_days = 0;
    assert_int_equal(township_rules_store(f->replica, BAISHA, &changed, NOW, &flag), RULES_E_ARG);
    assert_int_equal(flag, 0);
    assert_int_equal(replica_own_seq(f->replica), seq);
}

static void test_load_by_village(void **state)
{
    struct fixture *f = *state;
    struct rules_config changed, back;
    changed_config(&changed);
    store(f, BAISHA, &changed, 1);

    memset(&back, 0, sizeof back);
    assert_int_equal(township_rules_load(f->replica, BAISHA, &back), 0);
    assert_config_equal(&back, &changed);
    memset(&back, 0, sizeof back);
    assert_int_equal(township_rules_load(f->replica, YANGLIU, &back), 0);
    assert_is_default(&back);
    assert_int_equal(township_rules_load(f->replica, NULL, &back), 0);
    assert_is_default(&back);
    assert_int_equal(township_rules_load(NULL, BAISHA, &back), 0);
    assert_is_default(&back);

    /* Another village's record is its own. */
    struct rules_config other;
    rules_config_default(&other);
    assert_int_equal(rules_config_set(&other, "conclude_days", "45"), 0);
    store(f, YANGLIU, &other, 1);
    assert_int_equal(township_rules_load(f->replica, YANGLIU, &back), 0);
    assert_config_equal(&back, &other);
    assert_int_equal(township_rules_load(f->replica, BAISHA, &back), 0);
    assert_config_equal(&back, &changed);

    /* A record that does not parse (a newer hub's, say) gives the
     * defaults. */
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(replica_db(f->replica),
                                        "SELECT id FROM township_rules WHERE village = ?1", -1, &st,
                                        NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, BAISHA, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    char id[UUID7_STRLEN + 1];
    snprintf(id, sizeof id, "%s", (const char *)sqlite3_column_text(st, 0));
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    const char *columns[] = {"settings"};
    struct sync_value values[] = {{.type = SYNC_TEXT, .s = "accept_days=10\nholidays=on\n"}};
    assert_int_equal(
        replica_put(f->replica, "township_rules", id, BAISHA, 1, columns, values, NULL), 0);
    memset(&back, 0, sizeof back);
    assert_int_equal(township_rules_load(f->replica, BAISHA, &back), 0);
    assert_is_default(&back);
    /* Storing the configuration again repairs it. */
    store(f, BAISHA, &changed, 1);
    assert_int_equal(township_rules_load(f->replica, BAISHA, &back), 0);
    assert_config_equal(&back, &changed);

    /* A deleted record is no record. */
    assert_int_equal(replica_delete(f->replica, "township_rules", id), 0);
    assert_int_equal(township_rules_load(f->replica, BAISHA, &back), 0);
    assert_is_default(&back);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_round_trip),
        cmocka_unit_test(test_changed_round_trip),
        cmocka_unit_test(test_parse_errors_name_the_line),
        cmocka_unit_test(test_unknown_key_refused),
        cmocka_unit_test(test_comments_blank_lines_and_crlf),
        cmocka_unit_test(test_too_long_text_refused),
        cmocka_unit_test_setup_teardown(test_store_writes_only_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_by_village, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
