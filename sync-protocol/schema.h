/* SPDX-License-Identifier: MIT */
/*
 * schema.h - the description of the replicated tables.
 *
 * The engine knows no domain words: an application describes its tables,
 * their columns, the type of each column and how it merges, and the engine
 * replicates exactly that. Every replicated table has the columns "id"
 * (TEXT PRIMARY KEY, a UUID), a partition column (TEXT, set for life when the
 * record is created: in Hamlet, the village) and, for record tables,
 * "deleted" (INTEGER, the tombstone). The application creates the tables
 * with its own migrations; replica_open() checks that they match.
 */
#ifndef HAMLET_SCHEMA_H
#define HAMLET_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

/* The types a replicated value can have. */
enum sync_type {
    SYNC_NULL = 0,
    SYNC_INT,  /* 64-bit signed integer; on the wire a JSON number within 2^53 */
    SYNC_REAL, /* double */
    SYNC_TEXT, /* UTF-8 text */
};

/* A value: the field matching type is meaningful. Text is borrowed. */
struct sync_value {
    enum sync_type type;
    int64_t i;
    double r;
    const char *s; /* SYNC_TEXT: NUL-terminated UTF-8 */
};

/* How a column merges when two replicas hold different values. */
enum schema_merge {
    SCHEMA_LWW,  /* last writer wins, by (hlc, node); concurrent edits flagged */
    SCHEMA_ONCE, /* set at creation; the earliest (hlc, node) wins */
};

/* What a table's rows are. */
enum schema_kind {
    SCHEMA_RECORD, /* columns edited field by field; deleted by tombstone */
    SCHEMA_APPEND, /* rows written once, never edited or deleted (events) */
};

#define SCHEMA_MAX_COLUMNS                                                                         \
    52 /* replicated columns of a table (a mask of them                                            \
          is a JSON integer, below 2^53) */

struct schema_column {
    const char *name;
    enum sync_type type; /* SYNC_INT, SYNC_REAL or SYNC_TEXT; NULL is always allowed */
    enum schema_merge merge;
};

struct schema_table {
    const char *name;
    enum schema_kind kind;
    const char *partition;               /* the partition column's name, e.g. "village" */
    const struct schema_column *columns; /* replicated columns, without id,
                                            partition and deleted */
    size_t ncolumns;
};

struct schema {
    const struct schema_table *tables;
    size_t ntables;
    size_t max_text; /* longest text value accepted, in bytes */
};

/* schema_check(schema, why, why_len): validate a description: names are
 * lower-case identifiers ([a-z_][a-z0-9_]*, at most 63 characters), at most
 * SCHEMA_MAX_COLUMNS columns a table, no
 * duplicates, no reserved names (id, deleted, the partition, names starting
 * with "hl_"), types known. Returns 0, or SYNC_E_SCHEMA with the reason in
 * why (if given). */
int schema_check(const struct schema *schema, char *why, size_t why_len);

/* schema_table(schema, name): the table's index, or -1. */
int schema_table(const struct schema *schema, const char *name);

/* schema_column(table, name): the column's index in table->columns, or -1. */
int schema_column(const struct schema_table *table, const char *name);

/* schema_value_ok(column, value): 1 if value may be stored in the column
 * (NULL, or the column's type; an integer is accepted for a REAL column). */
int schema_value_ok(const struct schema_column *column, const struct sync_value *value);

#endif
