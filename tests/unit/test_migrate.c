/* SPDX-License-Identifier: MIT */
/*
 * test_migrate.c - unit tests for numbered schema migrations
 * (sync-protocol/migrate.h) against real SQLite databases: a temporary file
 * (so that versions survive closing and reopening) and :memory:. Covers
 * applying migrations once each, adding a later one, rolling back a failing
 * one, refusing a database written by a newer program, and keeping the
 * versions of the engine and the ledger apart.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "migrate.h"
#include "sync_error.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Plain CREATE TABLE (no IF NOT EXISTS): running one twice would fail. */
static const struct migration first_two[] = {
    {1, "0001_villages.sql", "CREATE TABLE villages (id TEXT PRIMARY KEY, name TEXT);"},
    {2, "0002_cases.sql",
     "CREATE TABLE cases (id TEXT PRIMARY KEY, village TEXT);"
     "CREATE INDEX cases_village ON cases (village);"},
};

static const struct migration first_three[] = {
    {1, "0001_villages.sql", "CREATE TABLE villages (id TEXT PRIMARY KEY, name TEXT);"},
    {2, "0002_cases.sql",
     "CREATE TABLE cases (id TEXT PRIMARY KEY, village TEXT);"
     "CREATE INDEX cases_village ON cases (village);"},
    {3, "0003_events.sql", "CREATE TABLE events (id TEXT PRIMARY KEY, case_id TEXT);"},
};

/* The third migration creates its table, then fails on a syntax error. */
static const struct migration broken_third[] = {
    {1, "0001_villages.sql", "CREATE TABLE villages (id TEXT PRIMARY KEY, name TEXT);"},
    {2, "0002_cases.sql",
     "CREATE TABLE cases (id TEXT PRIMARY KEY, village TEXT);"
     "CREATE INDEX cases_village ON cases (village);"},
    {3, "0003_broken.sql",
     "CREATE TABLE events (id TEXT PRIMARY KEY, case_id TEXT);"
     "INSERT INTO villages VALUES ('v1', 'Hamlet');"
     "CREATE TABEL oops (x);"},
};

struct fixture {
    char path[64]; /* empty for :memory: */
    sqlite3 *db;
};

static int open_db(struct fixture *f)
{
    const char *name = f->path[0] ? f->path : ":memory:";
    return sqlite3_open(name, &f->db) == SQLITE_OK ? 0 : -1;
}

static int setup_file(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f) {
        return -1;
    }
    snprintf(f->path, sizeof f->path, "/tmp/hamlet-test-migrate-XXXXXX");
    int fd = mkstemp(f->path);
    if (fd < 0) {
        free(f);
        return -1;
    }
    close(fd);
    *state = f;
    return open_db(f);
}

static int setup_memory(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f) {
        return -1;
    }
    *state = f;
    return open_db(f);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    sqlite3_close(f->db);
    if (f->path[0]) {
        char side[80];
        unlink(f->path);
        snprintf(side, sizeof side, "%s-journal", f->path);
        unlink(side);
        snprintf(side, sizeof side, "%s-wal", f->path);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", f->path);
        unlink(side);
    }
    free(f);
    return 0;
}

/* Close and reopen a file database, as a program restart would. */
static void reopen(struct fixture *f)
{
    assert_true(f->path[0] != '\0');
    assert_int_equal(sqlite3_close(f->db), SQLITE_OK);
    f->db = NULL;
    assert_int_equal(open_db(f), 0);
}

static int object_exists(sqlite3 *db, const char *type, const char *name)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*) FROM sqlite_master"
                                        " WHERE type = ?1 AND name = ?2",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n > 0;
}

static int table_exists(sqlite3 *db, const char *name)
{
    return object_exists(db, "table", name);
}

static int count_rows(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

static void apply_ok(sqlite3 *db, const char *component, const struct migration *list, size_t n)
{
    char why[512] = "";
    int rc = migrate_apply(db, component, list, n, why, sizeof why);
    if (rc != 0) {
        fail_msg("migrate_apply(%s, %zu) returned %d: %s", component, n, rc, why);
    }
}

static void test_fresh_version_zero(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(migrate_version(f->db, "ledger"), 0);
    assert_int_equal(migrate_version(f->db, "engine"), 0);
}

static void test_apply_two(void **state)
{
    struct fixture *f = *state;
    apply_ok(f->db, "ledger", first_two, 2);
    assert_true(table_exists(f->db, "villages"));
    assert_true(table_exists(f->db, "cases"));
    assert_true(object_exists(f->db, "index", "cases_village"));
    assert_false(table_exists(f->db, "events"));
    assert_int_equal(migrate_version(f->db, "ledger"), 2);
    /* Each applied migration is recorded once, by name. */
    assert_int_equal(count_rows(f->db, "SELECT count(*) FROM hl_migration"
                                       " WHERE component = 'ledger'"),
                     2);
    assert_int_equal(count_rows(f->db, "SELECT count(*) FROM hl_migration"
                                       " WHERE name = '0002_cases.sql' AND version = 2"),
                     1);
    /* No transaction is left open. */
    assert_int_equal(sqlite3_get_autocommit(f->db), 1);
}

static void test_apply_again_noop(void **state)
{
    struct fixture *f = *state;
    apply_ok(f->db, "ledger", first_two, 2);
    assert_int_equal(
        sqlite3_exec(f->db, "INSERT INTO villages VALUES ('v1', 'Hamlet')", NULL, NULL, NULL),
        SQLITE_OK);
    /* The migrations would fail if run twice: success means they were not. */
    apply_ok(f->db, "ledger", first_two, 2);
    assert_int_equal(migrate_version(f->db, "ledger"), 2);
    assert_int_equal(count_rows(f->db, "SELECT count(*) FROM hl_migration"), 2);
    assert_int_equal(count_rows(f->db, "SELECT count(*) FROM villages"), 1);
    if (f->path[0]) {
        reopen(f);
        assert_int_equal(migrate_version(f->db, "ledger"), 2);
        apply_ok(f->db, "ledger", first_two, 2);
        assert_int_equal(count_rows(f->db, "SELECT count(*) FROM villages"), 1);
    }
}

static void test_later_migration_alone(void **state)
{
    struct fixture *f = *state;
    apply_ok(f->db, "ledger", first_two, 2);
    assert_int_equal(sqlite3_exec(f->db, "INSERT INTO cases VALUES ('c1', 'v1')", NULL, NULL, NULL),
                     SQLITE_OK);
    if (f->path[0]) {
        reopen(f);
    }
    /* A newer program brings a third migration; only it runs. */
    apply_ok(f->db, "ledger", first_three, 3);
    assert_int_equal(migrate_version(f->db, "ledger"), 3);
    assert_true(table_exists(f->db, "events"));
    assert_int_equal(count_rows(f->db, "SELECT count(*) FROM cases"), 1);
    assert_int_equal(count_rows(f->db, "SELECT count(*) FROM hl_migration"), 3);
}

static void test_failing_migration_rolls_back(void **state)
{
    struct fixture *f = *state;
    apply_ok(f->db, "ledger", first_two, 2);

    char why[512] = "";
    assert_int_equal(migrate_apply(f->db, "ledger", broken_third, 3, why, sizeof why),
                     SYNC_E_MIGRATION);
    assert_true(why[0] != '\0');
    /* The reason names the migration that failed. */
    assert_non_null(strstr(why, "0003_broken.sql"));
    /* Nothing of the failed migration remains. */
    assert_false(table_exists(f->db, "events"));
    assert_int_equal(count_rows(f->db, "SELECT count(*) FROM villages"), 0);
    assert_int_equal(migrate_version(f->db, "ledger"), 2);
    assert_int_equal(sqlite3_get_autocommit(f->db), 1);
    /* Earlier migrations are untouched. */
    assert_true(table_exists(f->db, "villages"));
    assert_true(table_exists(f->db, "cases"));

    /* Once the migration is fixed, the same database moves on. */
    apply_ok(f->db, "ledger", first_three, 3);
    assert_int_equal(migrate_version(f->db, "ledger"), 3);
    assert_true(table_exists(f->db, "events"));
}

static void test_failing_first_migration(void **state)
{
    struct fixture *f = *state;
    static const struct migration broken_first[] = {
        {1, "0001_broken.sql", "CREATE TABLE villages (id TEXT); NOT SQL AT ALL"},
    };
    char why[512] = "";
    assert_int_equal(migrate_apply(f->db, "ledger", broken_first, 1, why, sizeof why),
                     SYNC_E_MIGRATION);
    assert_true(why[0] != '\0');
    assert_false(table_exists(f->db, "villages"));
    assert_int_equal(migrate_version(f->db, "ledger"), 0);
    assert_int_equal(sqlite3_get_autocommit(f->db), 1);
}

static void test_newer_database_refused(void **state)
{
    struct fixture *f = *state;
    apply_ok(f->db, "ledger", first_three, 3);
    if (f->path[0]) {
        reopen(f);
    }
    /* An older program, which knows only two migrations, opens the file. */
    char why[512] = "";
    assert_int_equal(migrate_apply(f->db, "ledger", first_two, 2, why, sizeof why),
                     SYNC_E_MIGRATION);
    assert_non_null(strstr(why, "newer"));
    assert_int_equal(migrate_version(f->db, "ledger"), 3);
    assert_true(table_exists(f->db, "events"));
}

static void test_components_separate(void **state)
{
    struct fixture *f = *state;
    static const struct migration engine[] = {
        {1, "0001_engine.sql", "CREATE TABLE hl_meta (key TEXT PRIMARY KEY, value);"},
    };
    apply_ok(f->db, "engine", engine, 1);
    assert_int_equal(migrate_version(f->db, "engine"), 1);
    assert_int_equal(migrate_version(f->db, "ledger"), 0);

    apply_ok(f->db, "ledger", first_two, 2);
    assert_int_equal(migrate_version(f->db, "engine"), 1);
    assert_int_equal(migrate_version(f->db, "ledger"), 2);
    assert_int_equal(migrate_version(f->db, "other"), 0);

    if (f->path[0]) {
        reopen(f);
    }
    /* Each component is brought up on its own list only. */
    apply_ok(f->db, "engine", engine, 1);
    apply_ok(f->db, "ledger", first_three, 3);
    assert_int_equal(migrate_version(f->db, "engine"), 1);
    assert_int_equal(migrate_version(f->db, "ledger"), 3);
    /* The engine's one migration does not make the ledger look newer. */
    char why[512] = "";
    assert_int_equal(migrate_apply(f->db, "engine", engine, 1, why, sizeof why), 0);
    /* And a ledger at version 3 is newer than an engine list of 1. */
    assert_int_equal(migrate_apply(f->db, "ledger", engine, 1, why, sizeof why), SYNC_E_MIGRATION);
}

static struct CMUnitTest with_db(const char *name, CMUnitTestFunction test, CMFixtureFunction setup)
{
    return (struct CMUnitTest){name, test, setup, teardown, NULL};
}

/* Each test runs on a file database and on :memory:, under its own name. */
#define ON_FILE(test)   with_db(#test " (file)", test, setup_file)
#define IN_MEMORY(test) with_db(#test " (memory)", test, setup_memory)

int main(void)
{
    const struct CMUnitTest tests[] = {
        ON_FILE(test_fresh_version_zero),
        IN_MEMORY(test_fresh_version_zero),
        ON_FILE(test_apply_two),
        IN_MEMORY(test_apply_two),
        ON_FILE(test_apply_again_noop),
        IN_MEMORY(test_apply_again_noop),
        ON_FILE(test_later_migration_alone),
        IN_MEMORY(test_later_migration_alone),
        ON_FILE(test_failing_migration_rolls_back),
        IN_MEMORY(test_failing_migration_rolls_back),
        ON_FILE(test_failing_first_migration),
        IN_MEMORY(test_failing_first_migration),
        ON_FILE(test_newer_database_refused),
        IN_MEMORY(test_newer_database_refused),
        ON_FILE(test_components_separate),
        IN_MEMORY(test_components_separate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
