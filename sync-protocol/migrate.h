/* SPDX-License-Identifier: MIT */
/*
 * migrate.h - numbered schema migrations, embedded in the programs.
 *
 * Each component (the engine, the ledger) keeps its SQL in numbered files
 * (migrations/0001_*.sql ...) that the build embeds as an array of struct
 * migration. migrate_apply() runs those the database has not seen yet, each
 * in its own transaction, and records them in hl_migration.
 */
#ifndef HAMLET_MIGRATE_H
#define HAMLET_MIGRATE_H

#include <sqlite3.h>
#include <stddef.h>

struct migration {
    int version;      /* 1, 2, 3... */
    const char *name; /* the file it came from */
    const char *sql;
};

/* migrate_apply(db, component, list, n, why, why_len): bring the
 * component's tables up to list[n-1]. Returns 0, or SYNC_E_MIGRATION when a
 * migration fails (it is rolled back; the reason goes to why) or when the
 * database was written by a newer program (more versions than list has). */
int migrate_apply(sqlite3 *db, const char *component, const struct migration *list, size_t n,
                  char *why, size_t why_len);

/* migrate_version(db, component): the component's applied version, 0 for
 * none, or a negative SYNC_E_* code. */
int migrate_version(sqlite3 *db, const char *component);

#endif
