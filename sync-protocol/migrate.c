/* SPDX-License-Identifier: MIT */
/*
 * migrate.c - applies embedded migrations in order, once each. The version
 * and the schema change commit together, so a crash between migrations
 * leaves a database that the next start continues from.
 */
#include "migrate.h"

#include "sync_error.h"

#include <stdio.h>

static const char create_sql[] = "CREATE TABLE IF NOT EXISTS hl_migration ("
                                 " component TEXT NOT NULL,"
                                 " version INTEGER NOT NULL,"
                                 " name TEXT NOT NULL,"
                                 " applied_at TEXT NOT NULL,"
                                 " PRIMARY KEY (component, version)) WITHOUT ROWID";

int migrate_version(sqlite3 *db, const char *component)
{
    sqlite3_stmt *st = NULL;
    int version = SYNC_E_DB;
    if (sqlite3_exec(db, create_sql, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "SELECT coalesce(max(version), 0) FROM hl_migration"
                           " WHERE component = ?1",
                           -1, &st, NULL) != SQLITE_OK) {
        goto done;
    }
    sqlite3_bind_text(st, 1, component, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        version = sqlite3_column_int(st, 0);
    }
done:
    sqlite3_finalize(st);
    return version;
}

int migrate_apply(sqlite3 *db, const char *component, const struct migration *list, size_t n,
                  char *why, size_t why_len)
{
    int current = migrate_version(db, component);
    if (current < 0) {
        snprintf(why, why_len, "%s: cannot read the schema version: %s", component,
                 sqlite3_errmsg(db));
        return SYNC_E_MIGRATION;
    }
    if ((size_t)current > n) {
        snprintf(why, why_len,
                 "%s: the database has schema version %d, newer than this program's %zu;"
                 " upgrade the program",
                 component, current, n);
        return SYNC_E_MIGRATION;
    }
    for (size_t i = (size_t)current; i < n; i++) {
        sqlite3_stmt *st = NULL;
        char *err = NULL;
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &err) != SQLITE_OK ||
            sqlite3_exec(db, list[i].sql, NULL, NULL, &err) != SQLITE_OK) {
            goto fail;
        }
        if (sqlite3_prepare_v2(db,
                               "INSERT INTO hl_migration (component, version, name, applied_at)"
                               " VALUES (?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
                               -1, &st, NULL) != SQLITE_OK) {
            goto fail;
        }
        sqlite3_bind_text(st, 1, component, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, list[i].version);
        sqlite3_bind_text(st, 3, list[i].name, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            goto fail;
        }
        sqlite3_finalize(st);
        st = NULL;
        if (sqlite3_exec(db, "COMMIT", NULL, NULL, &err) != SQLITE_OK) {
            goto fail;
        }
        continue;
    fail:
        snprintf(why, why_len, "%s: migration %s failed: %s", component, list[i].name,
                 err ? err : sqlite3_errmsg(db));
        sqlite3_free(err);
        sqlite3_finalize(st);
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return SYNC_E_MIGRATION;
    }
    return 0;
}
