/* SPDX-License-Identifier: MIT */
/*
 * test_schema.c - unit tests for schema descriptions (sync-protocol/schema.h).
 * The ledger's own description must pass schema_check(); descriptions with
 * missing tables, unsafe or reserved names, duplicates or unknown types must
 * be refused with a reason, because those names are later spliced into SQL.
 * Also covers the table and column look-ups and which values a column takes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ledger_schema.h"
#include "schema.h"
#include "sync_error.h"

#include <string.h>

/* A small valid description that each test copies and spoils in one way. */
struct fixture {
    struct schema_column notes[3];
    struct schema_column events[2];
    struct schema_table tables[2];
    struct schema schema;
};

static void fixture_init(struct fixture *f)
{
    f->notes[0] = (struct schema_column){"title", SYNC_TEXT, SCHEMA_LWW};
    f->notes[1] = (struct schema_column){"weight", SYNC_REAL, SCHEMA_LWW};
    f->notes[2] = (struct schema_column){"created_at", SYNC_TEXT, SCHEMA_ONCE};
    f->events[0] = (struct schema_column){"note_id", SYNC_TEXT, SCHEMA_ONCE};
    f->events[1] = (struct schema_column){"count", SYNC_INT, SCHEMA_ONCE};
    f->tables[0] = (struct schema_table){"notes", SCHEMA_RECORD, "village", f->notes, 3};
    f->tables[1] = (struct schema_table){"note_events", SCHEMA_APPEND, "village", f->events, 2};
    f->schema = (struct schema){f->tables, 2, 1024};
}

/* schema_check() must refuse the description and say why; what names the
 * defect in the failure message. */
static void assert_refused(const struct schema *schema, const char *what)
{
    char why[256];
    memset(why, 0, sizeof why);
    int rc = schema_check(schema, why, sizeof why);
    if (rc != SYNC_E_SCHEMA) {
        fail_msg("%s: schema_check returned %d, expected SYNC_E_SCHEMA", what, rc);
    }
    if (why[0] == '\0' || !memchr(why, '\0', sizeof why)) {
        fail_msg("%s: refused without a reason", what);
    }
    /* Without a buffer for the reason, the answer is the same. */
    assert_int_equal(schema_check(schema, NULL, 0), SYNC_E_SCHEMA);
}

static void assert_accepted(const struct schema *schema, const char *what)
{
    char why[256] = "";
    int rc = schema_check(schema, why, sizeof why);
    if (rc != 0) {
        fail_msg("%s: schema_check refused a valid description (%d): %s", what, rc, why);
    }
}

static void test_ledger_schema_valid(void **state)
{
    (void)state;
    const struct schema *ledger = ledger_schema_get();
    assert_non_null(ledger);
    assert_accepted(ledger, "ledger schema");
    assert_true(ledger->max_text == LEDGER_MAX_TEXT);
}

static void test_fixture_valid(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f);
    assert_accepted(&f.schema, "the test fixture");
}

static void test_no_tables(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f);
    f.schema.ntables = 0;
    assert_refused(&f.schema, "ntables 0");

    fixture_init(&f);
    f.schema.tables = NULL;
    assert_refused(&f.schema, "tables NULL");

    assert_refused(NULL, "schema NULL");
}

static void test_max_text_zero(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f);
    f.schema.max_text = 0;
    assert_refused(&f.schema, "max_text 0");
}

static void test_bad_table_names(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "Notes",   "NOTES",
        "1notes",  "9",
        "hl_x",    "hl_notes",
        "no\"tes", "no'tes",
        "no`tes",  "no]tes",
        "no tes",  "no-tes",
        "no;tes",  "notes;--",
        "",        "n\xc3\xa9",
        "notes\n", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 64 */
    };
    assert_int_equal(strlen(bad[sizeof bad / sizeof bad[0] - 1]), 64);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct fixture f;
        fixture_init(&f);
        f.tables[1].name = bad[i];
        assert_refused(&f.schema, bad[i]);
    }
    struct fixture f;
    fixture_init(&f);
    f.tables[0].name = NULL;
    assert_refused(&f.schema, "table name NULL");
}

static void test_good_table_names(void **state)
{
    (void)state;
    static const char *const good[] = {
        "n",
        "_private",
        "notes2",
        "h",
        "hl",
        "hlx_notes",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 63 */
    };
    assert_int_equal(strlen(good[sizeof good / sizeof good[0] - 1]), 63);
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        struct fixture f;
        fixture_init(&f);
        f.tables[1].name = good[i];
        assert_accepted(&f.schema, good[i]);
    }
}

static void test_duplicate_table(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f);
    f.tables[1].name = "notes";
    assert_refused(&f.schema, "table listed twice");
}

static void test_bad_table_kind(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f);
    f.tables[0].kind = (enum schema_kind)42;
    assert_refused(&f.schema, "unknown table kind");
}

static void test_bad_column_names(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "id",
        "deleted",
        "village",
        "hl_x",
        "hl_",
        "Title",
        "1title",
        "ti tle",
        "ti\"tle",
        "ti'tle",
        "title;--",
        "",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 64 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct fixture f;
        fixture_init(&f);
        f.notes[1].name = bad[i];
        assert_refused(&f.schema, bad[i]);
    }
    struct fixture f;
    fixture_init(&f);
    f.events[0].name = NULL;
    assert_refused(&f.schema, "column name NULL");

    /* The partition column is reserved under whatever name the table uses. */
    fixture_init(&f);
    f.tables[0].partition = "district";
    f.notes[2].name = "district";
    assert_refused(&f.schema, "column named like the partition \"district\"");
    fixture_init(&f);
    f.tables[0].partition = "district";
    f.notes[2].name = "village";
    assert_accepted(&f.schema, "\"village\" column when the partition is \"district\"");
}

static void test_duplicate_columns(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f);
    f.notes[2].name = "title";
    assert_refused(&f.schema, "column listed twice");

    /* The same column name in two tables is fine. */
    fixture_init(&f);
    f.events[1].name = "title";
    assert_accepted(&f.schema, "same column name in two tables");
}

static void test_bad_type(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f);
    f.notes[0].type = SYNC_NULL;
    assert_refused(&f.schema, "column type SYNC_NULL");
    fixture_init(&f);
    f.events[1].type = (enum sync_type)42;
    assert_refused(&f.schema, "column type 42");
}

static void test_bad_merge(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f);
    f.notes[1].merge = (enum schema_merge)42;
    assert_refused(&f.schema, "merge kind 42");
}

static void test_bad_partition(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "Village", "1village", "hl_village", "id", "deleted", "vil lage", "vil\"lage", "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct fixture f;
        fixture_init(&f);
        f.tables[1].partition = bad[i];
        assert_refused(&f.schema, bad[i]);
    }
    struct fixture f;
    fixture_init(&f);
    f.tables[0].partition = NULL;
    assert_refused(&f.schema, "partition NULL");
}

static void test_table_lookup(void **state)
{
    (void)state;
    const struct schema *ledger = ledger_schema_get();
    int cases = schema_table(ledger, "cases");
    assert_true(cases >= 0);
    assert_string_equal(ledger->tables[cases].name, "cases");
    int events = schema_table(ledger, "events");
    assert_true(events >= 0 && events != cases);
    assert_string_equal(ledger->tables[events].name, "events");
    assert_int_equal(ledger->tables[events].kind, SCHEMA_APPEND);

    assert_int_equal(schema_table(ledger, "nope"), -1);
    assert_int_equal(schema_table(ledger, "Cases"), -1);
    assert_int_equal(schema_table(ledger, "case"), -1);
    assert_int_equal(schema_table(ledger, ""), -1);
    assert_int_equal(schema_table(ledger, "hl_stamp"), -1);
    assert_int_equal(schema_table(ledger, NULL), -1);

    struct fixture f;
    fixture_init(&f);
    assert_int_equal(schema_table(&f.schema, "notes"), 0);
    assert_int_equal(schema_table(&f.schema, "note_events"), 1);
}

static void test_column_lookup(void **state)
{
    (void)state;
    const struct schema *ledger = ledger_schema_get();
    const struct schema_table *cases = &ledger->tables[schema_table(ledger, "cases")];
    int col = schema_column(cases, "case_no");
    assert_true(col >= 0);
    assert_string_equal(cases->columns[col].name, "case_no");
    col = schema_column(cases, "created_at");
    assert_true(col >= 0);
    assert_int_equal(cases->columns[col].merge, SCHEMA_ONCE);

    /* id, the partition and deleted are not replicated columns. */
    assert_int_equal(schema_column(cases, "id"), -1);
    assert_int_equal(schema_column(cases, "village"), -1);
    assert_int_equal(schema_column(cases, "deleted"), -1);
    assert_int_equal(schema_column(cases, "nope"), -1);
    assert_int_equal(schema_column(cases, "CASE_NO"), -1);
    assert_int_equal(schema_column(cases, NULL), -1);

    struct fixture f;
    fixture_init(&f);
    assert_int_equal(schema_column(&f.tables[0], "title"), 0);
    assert_int_equal(schema_column(&f.tables[0], "created_at"), 2);
    assert_int_equal(schema_column(&f.tables[1], "count"), 1);
    assert_int_equal(schema_column(&f.tables[1], "title"), -1);
}

static void test_value_ok(void **state)
{
    (void)state;
    const struct schema_column int_col = {"n", SYNC_INT, SCHEMA_LWW};
    const struct schema_column real_col = {"r", SYNC_REAL, SCHEMA_LWW};
    const struct schema_column text_col = {"t", SYNC_TEXT, SCHEMA_LWW};
    const struct sync_value null_v = {.type = SYNC_NULL};
    const struct sync_value int_v = {.type = SYNC_INT, .i = 7};
    const struct sync_value real_v = {.type = SYNC_REAL, .r = 2.5};
    const struct sync_value text_v = {.type = SYNC_TEXT, .s = "seven"};
    const struct sync_value empty_v = {.type = SYNC_TEXT, .s = ""};
    const struct sync_value text_null_v = {.type = SYNC_TEXT, .s = NULL};
    const struct sync_value odd_v = {.type = (enum sync_type)42, .s = "x"};

    assert_int_equal(schema_value_ok(&int_col, &null_v), 1);
    assert_int_equal(schema_value_ok(&int_col, &int_v), 1);
    assert_int_equal(schema_value_ok(&int_col, &real_v), 0);
    assert_int_equal(schema_value_ok(&int_col, &text_v), 0);
    assert_int_equal(schema_value_ok(&int_col, &odd_v), 0);

    assert_int_equal(schema_value_ok(&real_col, &null_v), 1);
    assert_int_equal(schema_value_ok(&real_col, &int_v), 1);
    assert_int_equal(schema_value_ok(&real_col, &real_v), 1);
    assert_int_equal(schema_value_ok(&real_col, &text_v), 0);
    assert_int_equal(schema_value_ok(&real_col, &odd_v), 0);

    assert_int_equal(schema_value_ok(&text_col, &null_v), 1);
    assert_int_equal(schema_value_ok(&text_col, &int_v), 0);
    assert_int_equal(schema_value_ok(&text_col, &real_v), 0);
    assert_int_equal(schema_value_ok(&text_col, &text_v), 1);
    assert_int_equal(schema_value_ok(&text_col, &empty_v), 1);
    assert_int_equal(schema_value_ok(&text_col, &text_null_v), 0);
    assert_int_equal(schema_value_ok(&text_col, &odd_v), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ledger_schema_valid),
        cmocka_unit_test(test_fixture_valid),
        cmocka_unit_test(test_no_tables),
        cmocka_unit_test(test_max_text_zero),
        cmocka_unit_test(test_bad_table_names),
        cmocka_unit_test(test_good_table_names),
        cmocka_unit_test(test_duplicate_table),
        cmocka_unit_test(test_bad_table_kind),
        cmocka_unit_test(test_bad_column_names),
        cmocka_unit_test(test_duplicate_columns),
        cmocka_unit_test(test_bad_type),
        cmocka_unit_test(test_bad_merge),
        cmocka_unit_test(test_bad_partition),
        cmocka_unit_test(test_table_lookup),
        cmocka_unit_test(test_column_lookup),
        cmocka_unit_test(test_value_ok),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
