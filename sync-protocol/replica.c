/* SPDX-License-Identifier: MIT */
/*
 * replica.c - the replica store: local writes, merging of received changes,
 * the journal, acknowledgements, pulls and the canonical export.
 *
 * Every change, local or received, goes through ingest(): it checks the
 * record's partition, adds the change to the journal's run (hl_run,
 * journal.h: one row per run of consecutive changes, without values) and
 * merges its fields into the application's row, which also holds the
 * record's stamps (hl_stamps, packed by stamps.c) and history (hl_hist,
 * the positions of its changes). A new record is written by one INSERT, an
 * existing one by one UPDATE of the fields the change wins with its stamps
 * and history, with statements prepared once; a value that leaves the row
 * goes to hl_prior, so that the journal can give every change's values.
 * Local writes and received batches differ only in where the change comes
 * from and whether concurrent edits are recorded. SQL text is built only
 * from schema names that schema_check() accepted; every value is bound.
 */
#include "replica.h"

#include "hlc.h"
#include "journal.h"
#include "json_util.h"
#include "stamps.h"
#include "sync_error.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

extern const struct migration engine_migrations[];
extern const size_t engine_migrations_count;

#define SQL_MAX 4096

/* The engine's columns in every replicated table: the record's stamps
 * (stamps.h) and history (the positions of its changes, ascending,
 * comma-separated). */
#define ENGINE_STAMPS "hl_stamps"
#define ENGINE_HIST   "hl_hist"

/* Changes in one journal run at most: a record's history reads its whole
 * run. */
#define REPLICA_RUN_MAX 1024

/* A field's stamp: the (hlc, node) of the write that set it. */
struct stamp {
    uint64_t hlc;
    uint64_t node;
    int set;
};

/* A merge writes the fields a change wins in one UPDATE: a statement per
 * set of columns (a bit per slot), the recent ones kept. */
#define FIELDS_SET_CACHE 16
#define FIELDS_MAX_SLOTS 64

/* Statements for a set of columns, the recent ones kept. */
struct fields_cache {
    struct {
        uint64_t mask; /* 0: unused */
        sqlite3_stmt *st;
    } entry[FIELDS_SET_CACHE];
    size_t next; /* the entry to replace next */
};

/* Statements of one application table, prepared on first use. */
struct table_stmts {
    sqlite3_stmt *row_get;       /* part, deleted, columns... by id */
    sqlite3_stmt *row_insert;    /* id, part */
    sqlite3_stmt *append_set;    /* all columns, then id */
    sqlite3_stmt *append_insert; /* id, part, all columns */
    sqlite3_stmt *deleted_set;
    sqlite3_stmt *stamps_set;   /* the record's stamps and history, by id */
    sqlite3_stmt **column_set;  /* one per column */
    struct fields_cache update; /* UPDATE of the slots of a mask */
    struct fields_cache insert; /* INSERT of a new row with the slots of a mask */
};

struct replica {
    sqlite3 *db;
    const struct schema *schema;
    struct hlc *clock;
    uint64_t node;
    int keep_conflicts;
    int in_tx; /* units of work the caller opened (replica_begin()), nested */
    int depth; /* units of work open inside this module */
    int64_t own_seq;
    struct envelope_limits limits; /* for reading our own journal */
    struct table_stmts *tables;
    sqlite3_stmt *log_exists, *conflict_insert;
    sqlite3_stmt *meta_get, *meta_set, *peer_get, *peer_set, *refused_insert;
    sqlite3_stmt *pending, *since_part, *since_all, *log_max;
    sqlite3_stmt *run_insert, *run_last, *run_find, *prior_insert, *prior_get;
    /* The run being journaled (journal.h), written to hl_run when the unit
     * of work ends or the next change cannot join it. */
    struct journal_writer run;
    struct change run_head; /* node, part, seq of its first change */
    int64_t run_pos;        /* position of its first change */
    int64_t next_pos;       /* position of the next change; 0: read it */
};

/* ---- small helpers ---- */

static int say(char *why, size_t why_len, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int say(char *why, size_t why_len, int code, const char *fmt, ...)
{
    if (why && why_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, why_len, fmt, ap);
        va_end(ap);
    }
    return code;
}

static int stamp_cmp(struct stamp a, struct stamp b)
{
    if (a.hlc != b.hlc) {
        return a.hlc < b.hlc ? -1 : 1;
    }
    if (a.node != b.node) {
        return a.node < b.node ? -1 : 1;
    }
    return 0;
}

/* Prepare once into *slot; the statement lives until replica_close(). */
static int stmt(struct replica *r, sqlite3_stmt **slot, const char *sql)
{
    if (*slot) {
        sqlite3_reset(*slot);
        sqlite3_clear_bindings(*slot);
        return 0;
    }
    if (sqlite3_prepare_v3(r->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) != SQLITE_OK) {
        *slot = NULL;
        return SYNC_E_DB;
    }
    return 0;
}

/* Run a statement that returns no rows, and reset it. */
static int step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : SYNC_E_DB;
}

static void bind_value(sqlite3_stmt *st, int idx, const struct sync_value *v)
{
    switch (v->type) {
    case SYNC_INT:
        sqlite3_bind_int64(st, idx, v->i);
        break;
    case SYNC_REAL:
        sqlite3_bind_double(st, idx, v->r);
        break;
    case SYNC_TEXT:
        sqlite3_bind_text(st, idx, v->s, -1, SQLITE_STATIC);
        break;
    case SYNC_NULL:
        sqlite3_bind_null(st, idx);
        break;
    }
}

/* The value in column idx of a row, read as the column's type. Text is
 * borrowed from the statement. */
static struct sync_value column_value(sqlite3_stmt *st, int idx, enum sync_type type)
{
    struct sync_value v = {.type = SYNC_NULL};
    if (sqlite3_column_type(st, idx) == SQLITE_NULL) {
        return v;
    }
    v.type = type;
    if (type == SYNC_INT) {
        v.i = sqlite3_column_int64(st, idx);
    } else if (type == SYNC_REAL) {
        v.r = sqlite3_column_double(st, idx);
    } else {
        v.s = (const char *)sqlite3_column_text(st, idx);
        if (!v.s) {
            v.type = SYNC_NULL;
        }
    }
    return v;
}

/* An integer given for a REAL column is stored as a real. */
static struct sync_value normalize(const struct schema_column *col, struct sync_value v)
{
    if (col && col->type == SYNC_REAL && v.type == SYNC_INT) {
        v.type = SYNC_REAL;
        v.r = (double)v.i;
    }
    return v;
}

static int value_equal(const struct sync_value *a, const struct sync_value *b)
{
    if (a->type != b->type) {
        return 0;
    }
    switch (a->type) {
    case SYNC_NULL:
        return 1;
    case SYNC_INT:
        return a->i == b->i;
    case SYNC_REAL:
        return a->r == b->r;
    case SYNC_TEXT:
        return strcmp(a->s, b->s) == 0;
    }
    return 0;
}

static int append_sql(char *buf, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int append_sql(char *buf, size_t *used, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *used, SQL_MAX - *used, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= SQL_MAX - *used) {
        return SYNC_E_SCHEMA;
    }
    *used += (size_t)n;
    return 0;
}

/* ---- per-table statements ---- */

static int row_get_stmt(struct replica *r, int t, sqlite3_stmt **out)
{
    const struct schema_table *table = &r->schema->tables[t];
    struct table_stmts *ts = &r->tables[t];
    if (!ts->row_get) {
        char sql[SQL_MAX];
        size_t used = 0;
        int rc = append_sql(sql, &used, "SELECT \"%s\", %s", table->partition,
                            table->kind == SCHEMA_RECORD ? "deleted" : "0");
        for (size_t c = 0; rc == 0 && c < table->ncolumns; c++) {
            rc = append_sql(sql, &used, ", \"%s\"", table->columns[c].name);
        }
        if (rc == 0) {
            rc = append_sql(sql, &used,
                            ", " ENGINE_STAMPS ", " ENGINE_HIST " FROM \"%s\" WHERE id = ?1",
                            table->name);
        }
        if (rc != 0) {
            return rc;
        }
        if (stmt(r, &ts->row_get, sql) != 0) {
            return SYNC_E_DB;
        }
    } else {
        sqlite3_reset(ts->row_get);
    }
    *out = ts->row_get;
    return 0;
}

static size_t slot_of(const struct schema_table *table, int column)
{
    return column == DELTA_DELETED ? table->ncolumns : (size_t)column;
}

static const char *slot_name(const struct schema_table *table, size_t slot)
{
    if (slot < table->ncolumns && table->columns) {
        return table->columns[slot].name;
    }
    return slot == table->ncolumns ? "deleted" : "*";
}

/* Bind a field of a record, as the engine's tables name it: ?1 the table,
 * ?2 the record, ?3 the field. */
static void bind_field(sqlite3_stmt *st, const struct schema_table *table, const char *id,
                       size_t slot)
{
    sqlite3_bind_text(st, 1, table->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, slot_name(table, slot), -1, SQLITE_STATIC);
}

static int column_set_stmt(struct replica *r, int t, int column, sqlite3_stmt **out)
{
    const struct schema_table *table = &r->schema->tables[t];
    struct table_stmts *ts = &r->tables[t];
    sqlite3_stmt **slot = column == DELTA_DELETED ? &ts->deleted_set : &ts->column_set[column];
    if (*slot) {
        sqlite3_reset(*slot);
        *out = *slot;
        return 0;
    }
    char sql[SQL_MAX];
    snprintf(sql, sizeof sql, "UPDATE \"%s\" SET \"%s\" = ?1 WHERE id = ?2", table->name,
             slot_name(table, slot_of(table, column)));
    if (stmt(r, slot, sql) != 0) {
        return SYNC_E_DB;
    }
    *out = *slot;
    return 0;
}

/* For the slots of mask, in slot order, then the stamps and history:
 * "UPDATE t SET a = ?1, b = ?2 ..., hl_stamps = ?n+1, hl_hist = ?n+2
 * WHERE id = ?n+3", or for a new row "INSERT INTO t (id, part, a, b ...,
 * hl_stamps, hl_hist) VALUES (?1, ?2, ?3, ?4 ...)". */
static int fields_stmt(struct replica *r, int t, uint64_t mask, int insert, sqlite3_stmt **out)
{
    const struct schema_table *table = &r->schema->tables[t];
    struct fields_cache *cache = insert ? &r->tables[t].insert : &r->tables[t].update;
    for (size_t i = 0; i < FIELDS_SET_CACHE; i++) {
        if (cache->entry[i].mask == mask && cache->entry[i].st) {
            sqlite3_reset(cache->entry[i].st);
            *out = cache->entry[i].st;
            return 0;
        }
    }
    char sql[SQL_MAX];
    size_t used = 0, n = 0;
    int rc = insert ? append_sql(sql, &used, "INSERT INTO \"%s\" (id, \"%s\"", table->name,
                                 table->partition)
                    : append_sql(sql, &used, "UPDATE \"%s\" SET ", table->name);
    for (size_t slot = 0; rc == 0 && slot <= table->ncolumns; slot++) {
        if (mask & ((uint64_t)1 << slot)) {
            n++;
            rc = insert ? append_sql(sql, &used, ", \"%s\"", slot_name(table, slot))
                        : append_sql(sql, &used, "%s\"%s\" = ?%zu", n > 1 ? ", " : "",
                                     slot_name(table, slot), n);
        }
    }
    if (rc == 0 && insert) {
        rc = append_sql(sql, &used, ", " ENGINE_STAMPS ", " ENGINE_HIST ") VALUES (?1, ?2");
        for (size_t i = 0; rc == 0 && i < n + 2; i++) {
            rc = append_sql(sql, &used, ", ?%zu", i + 3);
        }
        if (rc == 0) {
            rc = append_sql(sql, &used, ")");
        }
    } else if (rc == 0) {
        rc = append_sql(sql, &used,
                        ", " ENGINE_STAMPS " = ?%zu, " ENGINE_HIST " = ?%zu WHERE id = ?%zu", n + 1,
                        n + 2, n + 3);
    }
    size_t k = cache->next;
    sqlite3_finalize(cache->entry[k].st);
    cache->entry[k].st = NULL;
    cache->entry[k].mask = 0;
    if (rc != 0 || stmt(r, &cache->entry[k].st, sql) != 0) {
        return SYNC_E_DB;
    }
    cache->entry[k].mask = mask;
    cache->next = (k + 1) % FIELDS_SET_CACHE;
    *out = cache->entry[k].st;
    return 0;
}

/* All columns of an append-only row, then its stamps and history: "UPDATE
 * t SET a = ?1 ..., hl_stamps = ?n+1, hl_hist = ?n+2 WHERE id = ?n+3", or
 * for a new row "INSERT INTO t (id, part, a ..., hl_stamps, hl_hist)
 * VALUES (?1, ?2, ?3 ...)". */
static int append_stmt(struct replica *r, int t, int insert, sqlite3_stmt **out)
{
    const struct schema_table *table = &r->schema->tables[t];
    struct table_stmts *ts = &r->tables[t];
    sqlite3_stmt **slot = insert ? &ts->append_insert : &ts->append_set;
    if (!*slot) {
        char sql[SQL_MAX];
        size_t used = 0;
        int rc = insert ? append_sql(sql, &used, "INSERT INTO \"%s\" (id, \"%s\"", table->name,
                                     table->partition)
                        : append_sql(sql, &used, "UPDATE \"%s\" SET ", table->name);
        for (size_t c = 0; rc == 0 && c < table->ncolumns; c++) {
            rc = insert ? append_sql(sql, &used, ", \"%s\"", table->columns[c].name)
                        : append_sql(sql, &used, "%s\"%s\" = ?%zu", c ? ", " : "",
                                     table->columns[c].name, c + 1);
        }
        size_t n = table->ncolumns;
        if (rc == 0 && insert) {
            rc = append_sql(sql, &used, ", " ENGINE_STAMPS ", " ENGINE_HIST ") VALUES (?1, ?2");
            for (size_t c = 0; rc == 0 && c < n + 2; c++) {
                rc = append_sql(sql, &used, ", ?%zu", c + 3);
            }
            if (rc == 0) {
                rc = append_sql(sql, &used, ")");
            }
        } else if (rc == 0) {
            rc = append_sql(sql, &used,
                            ", " ENGINE_STAMPS " = ?%zu, " ENGINE_HIST " = ?%zu WHERE id = ?%zu",
                            n + 1, n + 2, n + 3);
        }
        if (rc != 0) {
            return rc;
        }
        if (stmt(r, slot, sql) != 0) {
            return SYNC_E_DB;
        }
    } else {
        sqlite3_reset(*slot);
        sqlite3_clear_bindings(*slot);
    }
    *out = *slot;
    return 0;
}

static int row_insert(struct replica *r, int t, const char *id, const char *part)
{
    const struct schema_table *table = &r->schema->tables[t];
    char sql[SQL_MAX];
    snprintf(sql, sizeof sql, "INSERT INTO \"%s\" (id, \"%s\") VALUES (?1, ?2)", table->name,
             table->partition);
    if (stmt(r, &r->tables[t].row_insert, sql) != 0) {
        return SYNC_E_DB;
    }
    sqlite3_stmt *st = r->tables[t].row_insert;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, part, -1, SQLITE_STATIC);
    return step_done(st);
}

/* ---- the row as it stands ---- */

/* A copy of a record's current state: partition, tombstone, values and the
 * stamp of every field. Slot ncolumns is the tombstone, ncolumns + 1 the
 * stamp of an appended row. */
struct row {
    int exists;
    char part[DELTA_MAX_PART + 1];
    size_t ncolumns;
    struct sync_value *values; /* ncolumns + 1; text owned */
    struct stamp *stamps;      /* ncolumns + 2: as stored */
    struct stamp *next;        /* ncolumns + 2: after the change being merged */
    /* Stamps of fields this schema does not know (a column a later program
     * version dropped, or one a newer version added): kept as they are. */
    unsigned char *packed; /* copy of the stored value they point into */
    struct stamps_field *unknown;
    size_t nunknown;
    char *hist;  /* positions of the record's changes, as stored (or NULL) */
    int64_t pos; /* position of the change being merged */
};

static void row_free(struct row *row)
{
    if (row->values) {
        for (size_t c = 0; c <= row->ncolumns; c++) {
            if (row->values[c].type == SYNC_TEXT) {
                free((char *)(uintptr_t)row->values[c].s);
            }
        }
    }
    free(row->values);
    free(row->stamps);
    free(row->packed);
    free(row->unknown);
    free(row->hist);
    memset(row, 0, sizeof *row);
}

/* The slot of a field name, or -1 if the table has no such field. */
static long slot_by_name(const struct schema_table *table, const char *name, size_t len)
{
    if (len == 7 && !memcmp(name, "deleted", 7)) {
        return (long)table->ncolumns;
    }
    if (len == 1 && name[0] == '*') {
        return (long)table->ncolumns + 1;
    }
    for (size_t c = 0; c < table->ncolumns; c++) {
        const char *col = table->columns[c].name;
        if (!strncmp(col, name, len) && col[len] == '\0') {
            return (long)c;
        }
    }
    return -1;
}

struct unpack {
    const struct schema_table *table;
    struct row *row;
    const unsigned char *stored; /* the value being decoded, and its size */
    size_t len;
};

static int unpack_field(void *ctx, const struct stamps_field *f)
{
    struct unpack *u = ctx;
    struct row *row = u->row;
    long slot = slot_by_name(u->table, f->name, f->name_len);
    if (slot >= 0) {
        row->stamps[slot] = (struct stamp){f->hlc, f->node, 1};
        return 0;
    }
    if (!row->packed) {
        if (!(row->packed = malloc(u->len))) {
            return SYNC_E_NOMEM;
        }
        memcpy(row->packed, u->stored, u->len);
    }
    struct stamps_field *grown = realloc(row->unknown, (row->nunknown + 1) * sizeof *grown);
    if (!grown) {
        return SYNC_E_NOMEM;
    }
    row->unknown = grown;
    row->unknown[row->nunknown] = *f;
    row->unknown[row->nunknown++].name =
        (const char *)row->packed + ((const unsigned char *)f->name - u->stored);
    return 0;
}

/* Read the record's stamps (column at of a stepped statement, stamps.h)
 * into row->stamps, and its history (column at + 1). */
static int stamps_read(const struct schema_table *table, sqlite3_stmt *st, int at, struct row *row)
{
    int rc = 0;
    if (sqlite3_column_type(st, at) != SQLITE_NULL) {
        struct unpack u = {table, row, sqlite3_column_blob(st, at),
                           (size_t)sqlite3_column_bytes(st, at)};
        rc = stamps_decode(u.stored, u.len, unpack_field, &u);
    }
    const char *hist = (const char *)sqlite3_column_text(st, at + 1);
    if (rc == 0 && hist && !(row->hist = strdup(hist))) {
        rc = SYNC_E_NOMEM;
    }
    return rc;
}

static int row_load(struct replica *r, int t, const char *id, struct row *row)
{
    const struct schema_table *table = &r->schema->tables[t];
    memset(row, 0, sizeof *row);
    row->ncolumns = table->ncolumns;
    row->values = calloc(table->ncolumns + 1, sizeof *row->values);
    row->stamps = calloc(2 * (table->ncolumns + 2), sizeof *row->stamps);
    if (!row->values || !row->stamps) {
        row_free(row);
        return SYNC_E_NOMEM;
    }
    row->next = row->stamps + table->ncolumns + 2;
    sqlite3_stmt *st;
    int rc = row_get_stmt(r, t, &st);
    if (rc != 0) {
        row_free(row);
        return rc;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        row->exists = 1;
        const char *part = (const char *)sqlite3_column_text(st, 0);
        snprintf(row->part, sizeof row->part, "%s", part ? part : "");
        row->values[table->ncolumns] =
            (struct sync_value){.type = SYNC_INT, .i = sqlite3_column_int64(st, 1)};
        for (size_t c = 0; c < table->ncolumns; c++) {
            struct sync_value v = column_value(st, (int)c + 2, table->columns[c].type);
            if (v.type == SYNC_TEXT && !(v.s = strdup(v.s))) {
                rc = SYNC_E_NOMEM;
            }
            row->values[c] = v;
        }
        if (rc == 0) {
            rc = stamps_read(table, st, (int)table->ncolumns + 2, row);
        }
    } else if (step != SQLITE_DONE) {
        rc = SYNC_E_DB;
    }
    sqlite3_reset(st);
    if (rc != 0) {
        row_free(row);
        return rc;
    }
    memcpy(row->next, row->stamps, (table->ncolumns + 2) * sizeof *row->stamps);
    return 0;
}

/* A record's stamps as row->next holds them (stamps.h), and its history
 * with the change being merged (row->pos) added: the values of its row's
 * columns hl_stamps and hl_hist. */
struct packed {
    unsigned char small[1024], *stamps;
    size_t len;
    char small_hist[256], *hist;
};

static void packed_free(struct packed *p)
{
    if (p->stamps != p->small) {
        free(p->stamps);
    }
    if (p->hist != p->small_hist) {
        free(p->hist);
    }
}

static int stamps_pack(const struct schema_table *table, const struct row *row, struct packed *p)
{
    p->stamps = p->small;
    p->hist = p->small_hist;
    struct stamps_field small[FIELDS_MAX_SLOTS + 2], *fields = small;
    size_t nslots = table->ncolumns + 2, n = 0;
    if (nslots + row->nunknown > sizeof small / sizeof small[0] &&
        !(fields = malloc((nslots + row->nunknown) * sizeof *fields))) {
        return SYNC_E_NOMEM;
    }
    for (size_t slot = 0; slot < nslots; slot++) {
        if (row->next[slot].set) {
            const char *name = slot_name(table, slot);
            fields[n++] = (struct stamps_field){name, strlen(name), row->next[slot].hlc,
                                                row->next[slot].node};
        }
    }
    for (size_t i = 0; i < row->nunknown; i++) {
        fields[n++] = row->unknown[i];
    }
    p->len = stamps_encode(fields, n, p->small, sizeof p->small);
    if (p->len > sizeof p->small && (p->stamps = malloc(p->len)) != NULL) {
        stamps_encode(fields, n, p->stamps, p->len);
    }
    int rc = p->len == 0 ? SYNC_E_ARG : !p->stamps ? SYNC_E_NOMEM : 0;
    if (fields != small) {
        free(fields);
    }
    size_t had = row->hist ? strlen(row->hist) : 0, hist_len = had + 22;
    if (rc == 0 && hist_len > sizeof p->small_hist && !(p->hist = malloc(hist_len))) {
        rc = SYNC_E_NOMEM;
    }
    if (rc == 0) {
        snprintf(p->hist, hist_len, "%s%s%lld", had ? row->hist : "", had ? "," : "",
                 (long long)row->pos);
    }
    if (rc != 0) {
        packed_free(p);
    }
    return rc;
}

static void packed_bind(sqlite3_stmt *st, int at, const struct packed *p)
{
    sqlite3_bind_blob(st, at, p->stamps, (int)p->len, SQLITE_STATIC);
    sqlite3_bind_text(st, at + 1, p->hist, -1, SQLITE_STATIC);
}

/* Store the record's stamps and history in its row, when no other
 * statement writes the row. */
static int stamps_store(struct replica *r, int t, const char *id, const struct row *row)
{
    const struct schema_table *table = &r->schema->tables[t];
    struct table_stmts *ts = &r->tables[t];
    struct packed p;
    int rc = stamps_pack(table, row, &p);
    if (rc != 0) {
        return rc;
    }
    if (!ts->stamps_set) {
        char sql[SQL_MAX];
        snprintf(sql, sizeof sql,
                 "UPDATE \"%s\" SET " ENGINE_STAMPS " = ?1, " ENGINE_HIST " = ?2 WHERE id = ?3",
                 table->name);
        if (stmt(r, &ts->stamps_set, sql) != 0) {
            packed_free(&p);
            return SYNC_E_DB;
        }
    }
    packed_bind(ts->stamps_set, 1, &p);
    sqlite3_bind_text(ts->stamps_set, 3, id, -1, SQLITE_STATIC);
    rc = step_done(ts->stamps_set);
    packed_free(&p);
    return rc;
}

/* ---- meta ---- */

int64_t replica_meta_int(struct replica *r, const char *key, int64_t fallback)
{
    if (stmt(r, &r->meta_get, "SELECT value FROM hl_meta WHERE key = ?1") != 0) {
        return fallback;
    }
    sqlite3_bind_text(r->meta_get, 1, key, -1, SQLITE_STATIC);
    int64_t v = fallback;
    if (sqlite3_step(r->meta_get) == SQLITE_ROW) {
        v = sqlite3_column_int64(r->meta_get, 0);
    }
    sqlite3_reset(r->meta_get);
    return v;
}

static int meta_set(struct replica *r, const char *key, const struct sync_value *v)
{
    if (stmt(r, &r->meta_set,
             "INSERT INTO hl_meta (key, value) VALUES (?1, ?2)"
             " ON CONFLICT (key) DO UPDATE SET value = excluded.value") != 0) {
        return SYNC_E_DB;
    }
    sqlite3_bind_text(r->meta_set, 1, key, -1, SQLITE_STATIC);
    bind_value(r->meta_set, 2, v);
    return step_done(r->meta_set);
}

int replica_set_meta_int(struct replica *r, const char *key, int64_t value)
{
    struct sync_value v = {.type = SYNC_INT, .i = value};
    return meta_set(r, key, &v);
}

int replica_set_meta_text(struct replica *r, const char *key, const char *value)
{
    struct sync_value v = {.type = SYNC_TEXT, .s = value};
    return meta_set(r, key, &v);
}

int replica_meta_text(struct replica *r, const char *key, char *out, size_t out_len)
{
    if (stmt(r, &r->meta_get, "SELECT value FROM hl_meta WHERE key = ?1") != 0) {
        return SYNC_E_DB;
    }
    sqlite3_bind_text(r->meta_get, 1, key, -1, SQLITE_STATIC);
    int rc = SYNC_E_NOT_FOUND;
    int step = sqlite3_step(r->meta_get);
    if (step == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(r->meta_get, 0);
        snprintf(out, out_len, "%s", text ? text : "");
        rc = 0;
    } else if (step != SQLITE_DONE) {
        rc = SYNC_E_DB;
    }
    sqlite3_reset(r->meta_get);
    return rc;
}

/* ---- transactions ---- */

/* Enter a unit of work: a transaction of its own, or a savepoint inside the
 * caller's. */
static int run_flush(struct replica *r);

static int work_begin(struct replica *r)
{
    /* A run never spans units of work: an inner one may be rolled back. */
    if (run_flush(r) != 0) {
        return SYNC_E_DB;
    }
    const char *sql = r->in_tx || r->depth ? "SAVEPOINT hl_work" : "BEGIN IMMEDIATE";
    if (sqlite3_exec(r->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        return SYNC_E_DB;
    }
    r->next_pos = 0;
    r->depth++;
    return 0;
}

static void reload_state(struct replica *r)
{
    r->own_seq = replica_meta_int(r, "hl.seq", 0);
}

static int work_end(struct replica *r, int rc)
{
    r->depth--;
    int nested = r->in_tx || r->depth > 0;
    if (rc == 0) {
        rc = run_flush(r);
    }
    journal_reset(&r->run);
    r->next_pos = 0;
    if (rc == 0) {
        const char *sql = nested ? "RELEASE hl_work" : "COMMIT";
        if (sqlite3_exec(r->db, sql, NULL, NULL, NULL) == SQLITE_OK) {
            return 0;
        }
        rc = SYNC_E_DB;
    }
    if (nested) {
        sqlite3_exec(r->db, "ROLLBACK TO hl_work; RELEASE hl_work", NULL, NULL, NULL);
    } else {
        sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
    }
    reload_state(r);
    return rc;
}

int replica_begin(struct replica *r)
{
    /* An inner unit of work is a savepoint of the outer one. */
    if (sqlite3_exec(r->db, r->in_tx ? "SAVEPOINT hl_unit" : "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
        SQLITE_OK) {
        return SYNC_E_DB;
    }
    r->in_tx++;
    return 0;
}

int replica_commit(struct replica *r)
{
    if (!r->in_tx) {
        return SYNC_E_STATE;
    }
    if (r->in_tx > 1) {
        r->in_tx--;
        return sqlite3_exec(r->db, "RELEASE hl_unit", NULL, NULL, NULL) == SQLITE_OK ? 0
                                                                                     : SYNC_E_DB;
    }
    r->in_tx = 0;
    if (sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
        reload_state(r);
        return SYNC_E_DB;
    }
    return 0;
}

void replica_rollback(struct replica *r)
{
    if (r->in_tx > 1) {
        r->in_tx--;
        sqlite3_exec(r->db, "ROLLBACK TO hl_unit; RELEASE hl_unit", NULL, NULL, NULL);
        reload_state(r);
    } else if (r->in_tx) {
        r->in_tx = 0;
        sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
        reload_state(r);
    }
}

/* ---- merging ---- */

static int conflict_insert(struct replica *r, const struct schema_table *table,
                           const struct change *c, size_t slot, int64_t pos, const struct row *row,
                           const struct change_field *f, int incoming_wins)
{
    if (stmt(r, &r->conflict_insert,
             "INSERT INTO hl_conflict (tbl, row_id, col, part, log_pos, standing_value,"
             " standing_hlc, standing_node, incoming_value, incoming_hlc, incoming_node,"
             " winner, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
             " ?12, ?13)") != 0) {
        return SYNC_E_DB;
    }
    sqlite3_stmt *st = r->conflict_insert;
    bind_field(st, table, c->id, slot);
    sqlite3_bind_text(st, 4, c->part, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, pos);
    bind_value(st, 6, &row->values[slot]);
    if (row->stamps[slot].set) {
        sqlite3_bind_int64(st, 7, (sqlite3_int64)row->stamps[slot].hlc);
        sqlite3_bind_int64(st, 8, (sqlite3_int64)row->stamps[slot].node);
    }
    bind_value(st, 9, &f->value);
    sqlite3_bind_int64(st, 10, (sqlite3_int64)c->hlc);
    sqlite3_bind_int64(st, 11, (sqlite3_int64)c->node);
    sqlite3_bind_text(st, 12, incoming_wins ? "incoming" : "standing", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 13, hlc_wall(r->clock));
    return step_done(st);
}

/* Keep the value a journaled write gave a field, now that the row does not
 * hold it (journal.h): the write was replaced, or never won. */
static int prior_keep(struct replica *r, const struct schema_table *table, const char *id,
                      size_t slot, struct stamp stamp, const struct sync_value *value)
{
    if (stmt(r, &r->prior_insert,
             "INSERT OR IGNORE INTO hl_prior (tbl, row_id, col, hlc, node, value)"
             " VALUES (?1, ?2, ?3, ?4, ?5, ?6)") != 0) {
        return SYNC_E_DB;
    }
    sqlite3_stmt *st = r->prior_insert;
    bind_field(st, table, id, slot);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)stamp.hlc);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)stamp.node);
    bind_value(st, 6, value);
    return step_done(st);
}

/* Merge the fields of a put or delete into the row: a new record is written
 * by one INSERT, an existing one by one UPDATE of the fields the change
 * wins, then the record's stamps. */
static int merge_fields(struct replica *r, int t, const struct change *c, struct row *row,
                        int64_t pos, int detect, size_t *conflicts)
{
    const struct schema_table *table = &r->schema->tables[t];
    struct stamp incoming = {c->hlc, c->node, 1};
    /* The fields this change wins, by slot: written in one statement, since
     * every UPDATE rewrites the whole row (a case's facts included). */
    struct sync_value won[FIELDS_MAX_SLOTS];
    uint64_t mask = 0;
    int one_update = table->ncolumns < FIELDS_MAX_SLOTS, rc;
    if (!one_update && !row->exists && (rc = row_insert(r, t, c->id, c->part)) != 0) {
        return rc;
    }
    for (size_t i = 0; i < c->nfields; i++) {
        const struct change_field *f = &c->fields[i];
        size_t slot = slot_of(table, f->column);
        const struct schema_column *col = f->column == DELTA_DELETED ? NULL : &table->columns[slot];
        struct stamp standing = row->stamps[slot];
        int lww = !col || col->merge == SCHEMA_LWW;
        int take = !standing.set ||
                   (lww ? stamp_cmp(incoming, standing) > 0 : stamp_cmp(incoming, standing) < 0);
        struct sync_value value = normalize(col, f->value);
        if (detect && lww) {
            /* The writer replaced prev; if that is not what stands here, the
             * two writes never saw each other (DESIGN.md rule 5). */
            struct stamp prev = {f->prev_hlc, f->prev_node, f->prev_hlc || f->prev_node};
            int same = prev.set == standing.set && (!prev.set || !stamp_cmp(prev, standing));
            if (!same && !value_equal(&row->values[slot], &value)) {
                if ((rc = conflict_insert(r, table, c, slot, pos, row, f, take)) != 0) {
                    return rc;
                }
                (*conflicts)++;
            }
        }
        /* The value that does not stand leaves the row: keep it for the
         * journal. */
        if ((!take || standing.set) &&
            (rc = prior_keep(r, table, c->id, slot, take ? standing : incoming,
                             take ? &row->values[slot] : &value)) != 0) {
            return rc;
        }
        if (!take) {
            continue;
        }
        row->next[slot] = incoming;
        if (one_update) {
            won[slot] = value;
            mask |= (uint64_t)1 << slot;
            continue;
        }
        sqlite3_stmt *st;
        if ((rc = column_set_stmt(r, t, f->column, &st)) != 0) {
            return rc;
        }
        bind_value(st, 1, &value);
        sqlite3_bind_text(st, 2, c->id, -1, SQLITE_STATIC);
        if ((rc = step_done(st)) != 0) {
            return rc;
        }
    }
    if (mask == 0) {
        /* The record's history gains the change whatever it won. */
        if (one_update && !row->exists && (rc = row_insert(r, t, c->id, c->part)) != 0) {
            return rc;
        }
        return stamps_store(r, t, c->id, row);
    }
    /* The fields won, the stamps and the history in one statement. */
    struct packed p;
    sqlite3_stmt *st;
    if ((rc = stamps_pack(table, row, &p)) != 0) {
        return rc;
    }
    if ((rc = fields_stmt(r, t, mask, !row->exists, &st)) != 0) {
        packed_free(&p);
        return rc;
    }
    int at = 0;
    if (!row->exists) {
        sqlite3_bind_text(st, ++at, c->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, ++at, c->part, -1, SQLITE_STATIC);
    }
    for (size_t slot = 0; slot <= table->ncolumns; slot++) {
        if (mask & ((uint64_t)1 << slot)) {
            bind_value(st, ++at, &won[slot]);
        }
    }
    packed_bind(st, at + 1, &p);
    at += 2;
    if (row->exists) {
        sqlite3_bind_text(st, ++at, c->id, -1, SQLITE_STATIC);
    }
    rc = step_done(st);
    packed_free(&p);
    return rc;
}

/* Write an appended row, or replace one that an earlier stamp also wrote
 * (only a faulty node reuses an id; the earliest write wins everywhere). */
static int merge_append(struct replica *r, int t, const struct change *c, struct row *row)
{
    const struct schema_table *table = &r->schema->tables[t];
    struct stamp incoming = {c->hlc, c->node, 1};
    struct stamp standing = row->stamps[table->ncolumns + 1];
    int rc = 0;
    if (standing.set && stamp_cmp(incoming, standing) >= 0) {
        /* The row stands: keep the values of this write for the journal. */
        for (size_t i = 0; rc == 0 && i < c->nfields; i++) {
            size_t col = (size_t)c->fields[i].column;
            struct sync_value v = normalize(&table->columns[col], c->fields[i].value);
            rc = prior_keep(r, table, c->id, col, incoming, &v);
        }
        return rc == 0 ? stamps_store(r, t, c->id, row) : rc;
    }
    /* An earlier write replaces the row: keep the values it had. */
    for (size_t col = 0; standing.set && rc == 0 && col < table->ncolumns; col++) {
        rc = prior_keep(r, table, c->id, col, standing, &row->values[col]);
    }
    row->next[table->ncolumns + 1] = incoming;
    struct packed p;
    sqlite3_stmt *st;
    if (rc != 0 || (rc = stamps_pack(table, row, &p)) != 0) {
        return rc;
    }
    /* One more than the columns: never an allocation of nothing. */
    struct sync_value *values = calloc(table->ncolumns + 1, sizeof *values);
    if (!values || (rc = append_stmt(r, t, !row->exists, &st)) != 0) {
        free(values);
        packed_free(&p);
        return values ? rc : SYNC_E_NOMEM;
    }
    for (size_t i = 0; i < c->nfields; i++) {
        int col = c->fields[i].column;
        values[col] = normalize(&table->columns[col], c->fields[i].value);
    }
    /* A new row binds id and partition first; an update binds id last. */
    int first = row->exists ? 1 : 3;
    for (size_t col = 0; col < table->ncolumns; col++) {
        bind_value(st, (int)col + first, &values[col]);
    }
    packed_bind(st, (int)table->ncolumns + first, &p);
    if (row->exists) {
        sqlite3_bind_text(st, (int)table->ncolumns + 3, c->id, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, c->part, -1, SQLITE_STATIC);
    }
    rc = step_done(st);
    free(values);
    packed_free(&p);
    return rc;
}

/* The position of the next change: after the last run's, read once per
 * unit of work. */
static int next_pos(struct replica *r, int64_t *pos)
{
    if (r->next_pos == 0) {
        if (stmt(r, &r->run_last, "SELECT pos + n FROM hl_run ORDER BY pos DESC LIMIT 1") != 0) {
            return SYNC_E_DB;
        }
        int step = sqlite3_step(r->run_last);
        if (step == SQLITE_ROW) {
            r->next_pos = sqlite3_column_int64(r->run_last, 0);
        } else if (step == SQLITE_DONE) {
            r->next_pos = 1;
        }
        sqlite3_reset(r->run_last);
        if (r->next_pos == 0) {
            return SYNC_E_DB;
        }
    }
    *pos = r->next_pos;
    return 0;
}

/* Write the run being journaled, if any, to hl_run. */
static int run_flush(struct replica *r)
{
    if (r->run.nchanges == 0) {
        return 0;
    }
    unsigned char *body = NULL;
    size_t len = 0;
    int rc = journal_finish(&r->run, &body, &len);
    if (rc == 0 && stmt(r, &r->run_insert,
                        "INSERT INTO hl_run (pos, node, seq, n, part, received_ms, body)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)") != 0) {
        rc = SYNC_E_DB;
    }
    if (rc == 0) {
        sqlite3_stmt *st = r->run_insert;
        sqlite3_bind_int64(st, 1, r->run_pos);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)r->run_head.node);
        sqlite3_bind_int64(st, 3, r->run_head.seq);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)r->run.nchanges);
        sqlite3_bind_text(st, 5, r->run_head.part, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, hlc_wall(r->clock));
        sqlite3_bind_blob(st, 7, body, (int)len, SQLITE_STATIC);
        rc = step_done(st);
    }
    free(body);
    journal_reset(&r->run);
    return rc;
}

/* Add a change at position pos to the run, starting one if none is open. */
static int run_add(struct replica *r, const struct change *c, int64_t pos)
{
    if (r->run.nchanges == 0) {
        r->run_head.node = c->node;
        r->run_head.seq = c->seq;
        snprintf(r->run_head.part, sizeof r->run_head.part, "%s", c->part);
        r->run_pos = pos;
    }
    return journal_add(&r->run, r->schema, c);
}

/* Journal a change: it joins the run being written when it follows that
 * run's last change (same node and partition, the next seq), else starts
 * one. *pos gets its position. */
static int log_insert(struct replica *r, const struct change *c, int64_t *pos)
{
    int rc = next_pos(r, pos);
    if (rc != 0) {
        return rc;
    }
    const struct change *head = &r->run_head;
    size_t n = r->run.nchanges;
    if (n > 0 &&
        (n == REPLICA_RUN_MAX || c->node != head->node || c->seq != head->seq + (int64_t)n ||
         strcmp(c->part, head->part) != 0) &&
        (rc = run_flush(r)) != 0) {
        return rc;
    }
    rc = run_add(r, c, *pos);
    if (rc == SYNC_E_ARG && r->run.nchanges > 0 && (rc = run_flush(r)) == 0) {
        /* The run names as many fields as it may: the change starts the
         * next one. */
        rc = run_add(r, c, *pos);
    }
    if (rc == 0) {
        r->next_pos++;
    }
    return rc;
}

/* Journal and merge one change. SYNC_E_PARTITION when the record lives in
 * another partition: nothing is written then. */
static int ingest(struct replica *r, const struct change *c, struct row *row, int detect,
                  size_t *conflicts)
{
    int64_t pos = 0;
    int rc;
    if (row->exists && strcmp(row->part, c->part) != 0) {
        return SYNC_E_PARTITION;
    }
    if ((rc = log_insert(r, c, &pos)) != 0) {
        return rc;
    }
    row->pos = pos;
    if (c->op == CHANGE_APPEND) {
        return merge_append(r, c->table, c, row);
    }
    return merge_fields(r, c->table, c, row, pos, detect, conflicts);
}

/* ---- local writes ---- */

static int check_text(const struct replica *r, const struct sync_value *v)
{
    if (v->type != SYNC_TEXT) {
        return 0;
    }
    size_t len = strlen(v->s);
    return len <= r->schema->max_text && delta_utf8_valid(v->s, len) ? 0 : SYNC_E_FIELD_TYPE;
}

/* Stamp, number, journal and merge a change made here; row is the record
 * as it stands. */
static int commit_local(struct replica *r, struct change *c, struct row *row)
{
    uint64_t floor_hlc = 0;
    for (size_t i = 0; i < c->nfields; i++) {
        if (c->fields[i].prev_hlc > floor_hlc) {
            floor_hlc = c->fields[i].prev_hlc;
        }
    }
    /* Another process (the hub's command line beside its server) may have
     * written since: continue its sequence and its clock. The transaction
     * holds the write lock, so these cannot move until it ends. */
    reload_state(r);
    hlc_restore(r->clock, (uint64_t)replica_meta_int(r, "hl.hlc", 0));
    int rc = hlc_now(r->clock, &c->hlc);
    if (rc != 0) {
        return rc;
    }
    /* A value stamped ahead of our clock (its writer's clock was wrong, and
     * our clock refused to follow) must still be replaced by this later
     * edit: stamp the write just above it. */
    if (c->hlc <= floor_hlc) {
        c->hlc = floor_hlc + 1;
    }
    c->node = r->node;
    c->seq = r->own_seq + 1;
    size_t conflicts = 0;
    if ((rc = ingest(r, c, row, 0, &conflicts)) != 0 ||
        (rc = replica_set_meta_int(r, "hl.seq", c->seq)) != 0 ||
        (rc = replica_set_meta_int(r, "hl.hlc", (int64_t)hlc_last(r->clock))) != 0) {
        return rc;
    }
    r->own_seq = c->seq;
    return 0;
}

/* The table, partition and record a write names; the record as a UUID or
 * a derivation "<uuid>/<label>", whose uuid7_derive() is the id (into
 * c's id and from, when c is given). */
static int check_record_args(const struct replica *r, const char *table, const char *id,
                             const char *part, int *t, struct change *c)
{
    *t = schema_table(r->schema, table);
    if (*t < 0) {
        return SYNC_E_UNKNOWN_TABLE;
    }
    if (c && uuid7_from_valid(id)) {
        snprintf(c->from, sizeof c->from, "%s", id);
        if (uuid7_derive(id, c->id) != 0) {
            return SYNC_E_ARG;
        }
    } else if (!uuid7_valid(id)) {
        return SYNC_E_ARG;
    } else if (c) {
        snprintf(c->id, sizeof c->id, "%s", id);
    }
    if (part && (part[0] == '\0' || strlen(part) > DELTA_MAX_PART ||
                 !delta_utf8_valid(part, strlen(part)))) {
        return SYNC_E_ARG;
    }
    return 0;
}

/* Fill change fields from caller arguments; checks names, types, duplicates. */
static int fill_fields(const struct replica *r, const struct schema_table *table, struct delta *d,
                       struct change *c, size_t n, const char *const *columns,
                       const struct sync_value *values)
{
    for (size_t i = 0; i < n; i++) {
        int col = schema_column(table, columns[i]);
        if (col < 0) {
            return SYNC_E_UNKNOWN_COLUMN;
        }
        if (!schema_value_ok(&table->columns[col], &values[i]) || check_text(r, &values[i]) ||
            (values[i].type == SYNC_INT &&
             (values[i].i > JSON_MAX_SAFE_INT || values[i].i < -JSON_MAX_SAFE_INT))) {
            return SYNC_E_FIELD_TYPE;
        }
        for (size_t j = 0; j < i; j++) {
            if (c->fields[j].column == col) {
                return SYNC_E_ARG;
            }
        }
        c->fields[i].column = col;
        struct sync_value v = normalize(&table->columns[col], values[i]);
        if (v.type == SYNC_TEXT) {
            int rc = delta_set_text(d, &c->fields[i].value, v.s);
            if (rc != 0) {
                return rc;
            }
        } else {
            c->fields[i].value = v;
        }
    }
    return 0;
}

int replica_put(struct replica *r, const char *table, const char *id, const char *part, size_t n,
                const char *const *columns, const struct sync_value *values, int *changed)
{
    int t = schema_table(r->schema, table);
    if (changed) {
        *changed = 0;
    }
    if (t < 0) {
        return SYNC_E_UNKNOWN_TABLE;
    }
    const struct schema_table *tbl = &r->schema->tables[t];
    if (tbl->kind != SCHEMA_RECORD) {
        return SYNC_E_APPEND_ONLY;
    }
    if (!part || n == 0) {
        return SYNC_E_ARG;
    }
    struct delta *d = delta_new(DELTA_PUSH);
    struct change *c = d ? delta_add_change(d, n) : NULL;
    if (!c) {
        delta_free(d);
        return SYNC_E_NOMEM;
    }
    int rc = check_record_args(r, table, id, part, &t, c);
    c->op = CHANGE_PUT;
    c->table = t;
    snprintf(c->part, sizeof c->part, "%s", part);
    id = c->id;
    if (rc != 0 || (rc = fill_fields(r, tbl, d, c, n, columns, values)) != 0) {
        delta_free(d);
        return rc;
    }
    if ((rc = work_begin(r)) != 0) {
        delta_free(d);
        return rc;
    }
    struct row row;
    if ((rc = row_load(r, t, id, &row)) != 0) {
        delta_free(d);
        return work_end(r, rc);
    }
    if (row.exists && strcmp(row.part, part) != 0) {
        rc = SYNC_E_PARTITION;
    }
    /* Each changed field remembers the stamp of the value it replaces. */
    for (size_t i = 0; rc == 0 && i < c->nfields; i++) {
        struct change_field *f = &c->fields[i];
        size_t slot = (size_t)f->column;
        if (row.exists && !value_equal(&row.values[slot], &f->value) &&
            tbl->columns[slot].merge == SCHEMA_ONCE && row.stamps[slot].set) {
            rc = SYNC_E_IMMUTABLE;
        }
        f->prev_hlc = row.stamps[slot].hlc;
        f->prev_node = row.stamps[slot].node;
    }
    /* Then only the fields that change are kept. */
    size_t kept = 0;
    for (size_t i = 0; rc == 0 && i < c->nfields; i++) {
        struct change_field f = c->fields[i];
        if (row.exists && value_equal(&row.values[f.column], &f.value)) {
            if (f.value.type == SYNC_TEXT) {
                free((char *)(uintptr_t)f.value.s);
            }
            continue;
        }
        c->fields[kept++] = f;
    }
    if (rc == 0) {
        c->nfields = kept;
        if (kept > 0) {
            rc = commit_local(r, c, &row);
            if (rc == 0 && changed) {
                *changed = 1;
            }
        }
    }
    row_free(&row);
    delta_free(d);
    return work_end(r, rc);
}

int replica_append(struct replica *r, const char *table, const char *id, const char *part, size_t n,
                   const char *const *columns, const struct sync_value *values)
{
    int t = schema_table(r->schema, table);
    if (t < 0) {
        return SYNC_E_UNKNOWN_TABLE;
    }
    const struct schema_table *tbl = &r->schema->tables[t];
    if (tbl->kind != SCHEMA_APPEND || !part) {
        return tbl->kind != SCHEMA_APPEND ? SYNC_E_STATE : SYNC_E_ARG;
    }
    struct delta *d = delta_new(DELTA_PUSH);
    struct change *c = d ? delta_add_change(d, n) : NULL;
    if (!c) {
        delta_free(d);
        return SYNC_E_NOMEM;
    }
    int rc = check_record_args(r, table, id, part, &t, c);
    c->op = CHANGE_APPEND;
    c->table = t;
    snprintf(c->part, sizeof c->part, "%s", part);
    id = c->id;
    if (rc != 0 || (rc = fill_fields(r, tbl, d, c, n, columns, values)) != 0 ||
        (rc = work_begin(r)) != 0) {
        delta_free(d);
        return rc;
    }
    struct row row;
    if ((rc = row_load(r, t, id, &row)) != 0) {
        delta_free(d);
        return work_end(r, rc);
    }
    if (row.exists) {
        /* The same row again is a no-op; anything else would be an edit. */
        rc = strcmp(row.part, part) != 0 ? SYNC_E_PARTITION : 0;
        for (size_t col = 0; rc == 0 && col < tbl->ncolumns; col++) {
            struct sync_value given = {.type = SYNC_NULL};
            for (size_t i = 0; i < c->nfields; i++) {
                if (c->fields[i].column == (int)col) {
                    given = c->fields[i].value;
                }
            }
            if (!value_equal(&row.values[col], &given)) {
                rc = SYNC_E_APPEND_ONLY;
            }
        }
    } else {
        rc = commit_local(r, c, &row);
    }
    row_free(&row);
    delta_free(d);
    return work_end(r, rc);
}

int replica_delete(struct replica *r, const char *table, const char *id)
{
    int t;
    int rc = check_record_args(r, table, id, NULL, &t, NULL);
    if (rc != 0) {
        return rc;
    }
    const struct schema_table *tbl = &r->schema->tables[t];
    if (tbl->kind != SCHEMA_RECORD) {
        return SYNC_E_APPEND_ONLY;
    }
    struct delta *d = delta_new(DELTA_PUSH);
    struct change *c = d ? delta_add_change(d, 1) : NULL;
    if (!c) {
        delta_free(d);
        return SYNC_E_NOMEM;
    }
    if ((rc = work_begin(r)) != 0) {
        delta_free(d);
        return rc;
    }
    struct row row;
    if ((rc = row_load(r, t, id, &row)) != 0) {
        delta_free(d);
        return work_end(r, rc);
    }
    if (!row.exists) {
        rc = SYNC_E_NOT_FOUND;
    } else if (row.values[tbl->ncolumns].i == 0) {
        c->op = CHANGE_DELETE;
        c->table = t;
        snprintf(c->id, sizeof c->id, "%s", id);
        snprintf(c->part, sizeof c->part, "%s", row.part);
        c->fields[0] = (struct change_field){
            .column = DELTA_DELETED,
            .value = {.type = SYNC_INT, .i = 1},
            .prev_hlc = row.stamps[tbl->ncolumns].hlc,
            .prev_node = row.stamps[tbl->ncolumns].node,
        };
        rc = commit_local(r, c, &row);
    }
    row_free(&row);
    delta_free(d);
    return work_end(r, rc);
}

int replica_record_part(struct replica *r, const char *table, const char *id, char *out)
{
    int t = schema_table(r->schema, table);
    if (t < 0) {
        return SYNC_E_UNKNOWN_TABLE;
    }
    sqlite3_stmt *st;
    int rc = row_get_stmt(r, t, &st);
    if (rc != 0) {
        return rc;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        const char *part = (const char *)sqlite3_column_text(st, 0);
        snprintf(out, DELTA_MAX_PART + 1, "%s", part ? part : "");
        rc = 0;
    } else {
        rc = step == SQLITE_DONE ? SYNC_E_NOT_FOUND : SYNC_E_DB;
    }
    sqlite3_reset(st);
    return rc;
}

/* ---- sending ---- */

int64_t replica_own_seq(struct replica *r)
{
    reload_state(r);
    return r->own_seq;
}

/* The value the change c gave the field in slot of its record, as loaded
 * in row: the row's while the field's stamp is the change's own, else the
 * one hl_prior kept. Text is strdup'd into *v. */
static int journal_value(struct replica *r, const struct change *c, const struct row *row,
                         size_t slot, struct sync_value *v)
{
    const struct schema_table *table = &r->schema->tables[c->table];
    size_t stamp_slot = c->op == CHANGE_APPEND ? table->ncolumns + 1 : slot;
    struct stamp own = {c->hlc, c->node, 1};
    enum sync_type type = slot < table->ncolumns ? table->columns[slot].type : SYNC_INT;
    if (c->op == CHANGE_DELETE && slot == table->ncolumns) {
        /* A delete sets the tombstone to 1, always; the journal of engine
         * version 2 kept no value for it, so migration 0003 put none in
         * hl_prior for a delete that another one replaced. */
        *v = (struct sync_value){.type = SYNC_INT, .i = 1};
        return 0;
    }
    if (row->exists && row->stamps[stamp_slot].set && !stamp_cmp(row->stamps[stamp_slot], own)) {
        *v = row->values[slot];
        return v->type == SYNC_TEXT && !(v->s = strdup(v->s)) ? SYNC_E_NOMEM : 0;
    }
    if (stmt(r, &r->prior_get,
             "SELECT value FROM hl_prior WHERE tbl = ?1 AND row_id = ?2 AND col = ?3"
             " AND hlc = ?4 AND node = ?5") != 0) {
        return SYNC_E_DB;
    }
    sqlite3_stmt *st = r->prior_get;
    bind_field(st, table, c->id, slot);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)c->hlc);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)c->node);
    int rc = 0, step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *v = column_value(st, 0, type);
        if (v->type == SYNC_TEXT && !(v->s = strdup(v->s))) {
            rc = SYNC_E_NOMEM;
        }
    } else {
        rc = SYNC_E_DB; /* the journal lost a value: the file is damaged */
    }
    sqlite3_reset(st);
    return rc;
}

/* Append a change read from the journal (journal_each()) to out, with the
 * values it wrote. */
static int journal_copy(struct replica *r, const struct change *c, struct delta *out)
{
    if (c->table < 0) {
        return 0; /* a table this schema no longer has */
    }
    struct row row;
    int rc = row_load(r, c->table, c->id, &row);
    if (rc != 0) {
        return rc;
    }
    struct change *o = delta_add_change(out, c->nfields);
    if (!o) {
        row_free(&row);
        return SYNC_E_NOMEM;
    }
    struct change_field *fields = o->fields;
    *o = *c;
    o->fields = fields;
    for (size_t i = 0; rc == 0 && i < c->nfields; i++) {
        fields[i] = c->fields[i];
        size_t slot = slot_of(&r->schema->tables[c->table], c->fields[i].column);
        rc = journal_value(r, c, &row, slot, &fields[i].value);
    }
    row_free(&row);
    return rc;
}

/* What a read of the journal takes, run by run. */
struct reading {
    struct replica *r;
    struct delta *out;
    int64_t run_pos; /* position of the run's first change */
    int by_seq;      /* take changes with seq > after, else pos > after */
    int64_t after;
    size_t max_bytes; /* stop before this many (the first change is taken) */
    size_t bytes;
    int64_t last_pos; /* the last change taken */
    int more;         /* stopped for max_bytes */
};

static int reading_each(void *ctx, size_t k, struct change *c)
{
    struct reading *rd = ctx;
    int64_t pos = rd->run_pos + (int64_t)k;
    if ((rd->by_seq ? c->seq : pos) <= rd->after) {
        return 0;
    }
    size_t before = rd->out->nchanges;
    int rc = journal_copy(rd->r, c, rd->out);
    if (rc != 0 || rd->out->nchanges == before) {
        return rc;
    }
    size_t size = delta_change_size(rd->r->schema, &rd->out->changes[before]);
    if (rd->bytes > 0 && rd->bytes + size > rd->max_bytes) {
        delta_drop_last(rd->out);
        rd->more = 1;
        return 1; /* stop */
    }
    rd->bytes += size;
    rd->last_pos = pos;
    return 0;
}

/* What a run's row says of its changes (columns pos, node, seq, part of a
 * stepped statement): their node and partition and the first one's seq into
 * head; returns the first one's position. */
static int64_t run_head(sqlite3_stmt *st, struct change *head)
{
    memset(head, 0, sizeof *head);
    head->node = (uint64_t)sqlite3_column_int64(st, 1);
    head->seq = sqlite3_column_int64(st, 2);
    const char *part = (const char *)sqlite3_column_text(st, 3);
    snprintf(head->part, sizeof head->part, "%s", part ? part : "");
    return sqlite3_column_int64(st, 0);
}

/* Take changes from the runs a statement gives (columns pos, node, seq,
 * part, body), in order, until rd->max_bytes. */
static int collect(struct replica *r, sqlite3_stmt *st, struct reading *rd)
{
    int step, rc = 0;
    while (rc == 0 && !rd->more && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct change head;
        rd->run_pos = run_head(st, &head);
        rc = journal_each(r->schema, sqlite3_column_blob(st, 4),
                          (size_t)sqlite3_column_bytes(st, 4), &head, reading_each, rd);
        if (rc == 1) {
            rc = 0;
        }
    }
    if (rc == 0 && !rd->more && step != SQLITE_DONE) {
        rc = SYNC_E_DB;
    }
    sqlite3_reset(st);
    return rc == SYNC_E_NOMEM || rc == 0 ? rc : SYNC_E_DB;
}

int replica_pending(struct replica *r, int64_t after_seq, size_t max_bytes, struct delta *out)
{
    /* From the run holding after_seq + 1 on. */
    if (stmt(r, &r->pending,
             "SELECT pos, node, seq, part, body FROM hl_run WHERE node = ?1 AND seq >="
             " coalesce((SELECT max(seq) FROM hl_run WHERE node = ?1 AND seq <= ?2 + 1), 0)"
             " ORDER BY seq") != 0) {
        return SYNC_E_DB;
    }
    sqlite3_bind_int64(r->pending, 1, (sqlite3_int64)r->node);
    sqlite3_bind_int64(r->pending, 2, after_seq);
    struct reading rd = {
        .r = r, .out = out, .by_seq = 1, .after = after_seq, .max_bytes = max_bytes};
    return collect(r, r->pending, &rd);
}

int replica_changes_since(struct replica *r, int64_t cursor, const char *part,
                          uint64_t exclude_node, size_t max_bytes, struct delta *out)
{
    int rc = sqlite3_exec(r->db, r->in_tx ? "SAVEPOINT hl_read" : "BEGIN", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        return SYNC_E_DB;
    }
    /* From the run holding cursor + 1 on. */
    sqlite3_stmt *st;
    if (part) {
        rc = stmt(r, &r->since_part,
                  "SELECT pos, node, seq, part, body FROM hl_run WHERE part = ?1 AND pos >="
                  " coalesce((SELECT max(pos) FROM hl_run WHERE pos <= ?2 + 1), 0)"
                  " AND node != ?3 ORDER BY pos");
        st = r->since_part;
    } else {
        rc = stmt(r, &r->since_all,
                  "SELECT pos, node, seq, part, body FROM hl_run WHERE pos >="
                  " coalesce((SELECT max(pos) FROM hl_run WHERE pos <= ?2 + 1), 0)"
                  " AND node != ?3 ORDER BY pos");
        st = r->since_all;
    }
    struct reading rd = {
        .r = r, .out = out, .after = cursor, .max_bytes = max_bytes, .last_pos = cursor};
    if (rc == 0) {
        if (part) {
            sqlite3_bind_text(st, 1, part, -1, SQLITE_STATIC);
        }
        sqlite3_bind_int64(st, 2, cursor);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)exclude_node);
        rc = collect(r, st, &rd);
    }
    int64_t last = rd.last_pos;
    if (rc == 0 && !rd.more) {
        /* Caught up: skip past what the filter left out, so that the next
         * pull does not scan it again. */
        rc = stmt(r, &r->log_max,
                  "SELECT coalesce((SELECT pos + n - 1 FROM hl_run ORDER BY pos DESC LIMIT 1), 0)");
        if (rc == 0 && sqlite3_step(r->log_max) == SQLITE_ROW) {
            int64_t max = sqlite3_column_int64(r->log_max, 0);
            last = max > last ? max : last;
        }
        sqlite3_reset(r->log_max);
    }
    sqlite3_exec(r->db, r->in_tx ? "RELEASE hl_read" : "COMMIT", NULL, NULL, NULL);
    out->cursor = last;
    out->more = rd.more;
    return rc;
}

/* ---- history ---- */

/* A record's history being read: its positions, ascending, and the next
 * one to give. */
struct history {
    struct replica *r;
    int64_t *pos;
    size_t n, next;
    int64_t run_pos, received_ms;
    struct delta *scratch;
    int (*each)(void *ctx, const struct replica_history_entry *entry);
    void *ctx;
};

static int history_each(void *ctx, size_t k, struct change *c)
{
    struct history *h = ctx;
    int64_t pos = h->run_pos + (int64_t)k;
    if (h->next == h->n || pos != h->pos[h->next]) {
        return 0;
    }
    h->next++;
    delta_drop_changes(h->scratch);
    int rc = journal_copy(h->r, c, h->scratch);
    if (rc != 0 || h->scratch->nchanges == 0) {
        return rc;
    }
    struct replica_history_entry e = {pos, h->received_ms, &h->scratch->changes[0]};
    return h->each(h->ctx, &e);
}

/* The positions of a record's changes, parsed from its row's history. */
static int history_positions(struct replica *r, int t, const char *id, struct history *h)
{
    sqlite3_stmt *st;
    int rc = row_get_stmt(r, t, &st);
    if (rc != 0) {
        return rc;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    const char *p =
        step == SQLITE_ROW
            ? (const char *)sqlite3_column_text(st, (int)r->schema->tables[t].ncolumns + 3)
            : NULL;
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        rc = SYNC_E_DB;
    }
    size_t cap = 0;
    while (rc == 0 && p && *p) {
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p || (*end && *end != ',') || (h->n && v <= h->pos[h->n - 1])) {
            rc = SYNC_E_DB; /* not a list of ascending positions: damaged */
            break;
        }
        if (h->n == cap) {
            cap = cap ? 2 * cap : 16;
            int64_t *grown = realloc(h->pos, cap * sizeof *grown);
            if (!grown) {
                rc = SYNC_E_NOMEM;
                break;
            }
            h->pos = grown;
        }
        h->pos[h->n++] = v;
        p = *end ? end + 1 : end;
    }
    sqlite3_reset(st);
    return rc;
}

int replica_history(struct replica *r, const char *table, const char *id,
                    int (*each)(void *ctx, const struct replica_history_entry *entry), void *ctx)
{
    int t = schema_table(r->schema, table);
    if (t < 0) {
        return SYNC_E_UNKNOWN_TABLE;
    }
    /* One snapshot for the whole read, inside the caller's transaction if
     * one is open. */
    int outer = !sqlite3_get_autocommit(r->db);
    int rc = sqlite3_exec(r->db, outer ? "SAVEPOINT hl_read" : "BEGIN", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        return SYNC_E_DB;
    }
    struct history h = {.r = r, .each = each, .ctx = ctx, .scratch = delta_new(DELTA_PUSH)};
    rc = h.scratch ? history_positions(r, t, id, &h) : SYNC_E_NOMEM;
    if (rc == 0 && h.n > 0 &&
        stmt(r, &r->run_find,
             "SELECT pos, node, seq, part, body, received_ms FROM hl_run WHERE pos <= ?1"
             " ORDER BY pos DESC LIMIT 1") != 0) {
        rc = SYNC_E_DB;
    }
    /* Each run once, with the positions of the record in it. */
    while (rc == 0 && h.next < h.n) {
        sqlite3_stmt *st = r->run_find;
        sqlite3_bind_int64(st, 1, h.pos[h.next]);
        if (sqlite3_step(st) != SQLITE_ROW) {
            sqlite3_reset(st);
            rc = SYNC_E_DB;
            break;
        }
        struct change head;
        h.run_pos = run_head(st, &head);
        h.received_ms = sqlite3_column_int64(st, 5);
        size_t before = h.next;
        rc = journal_each(r->schema, sqlite3_column_blob(st, 4),
                          (size_t)sqlite3_column_bytes(st, 4), &head, history_each, &h);
        sqlite3_reset(st);
        if (rc == 0 && h.next == before) {
            rc = SYNC_E_DB; /* a position no run holds: damaged */
        }
    }
    free(h.pos);
    delta_free(h.scratch);
    sqlite3_exec(r->db, outer ? "RELEASE hl_read" : "COMMIT", NULL, NULL, NULL);
    return rc;
}

/* ---- receiving ---- */

int64_t replica_acked(struct replica *r, uint64_t node)
{
    if (stmt(r, &r->peer_get, "SELECT acked FROM hl_peer WHERE node = ?1") != 0) {
        return SYNC_E_DB;
    }
    sqlite3_bind_int64(r->peer_get, 1, (sqlite3_int64)node);
    int64_t acked = 0;
    int step = sqlite3_step(r->peer_get);
    if (step == SQLITE_ROW) {
        acked = sqlite3_column_int64(r->peer_get, 0);
    } else if (step != SQLITE_DONE) {
        acked = SYNC_E_DB;
    }
    sqlite3_reset(r->peer_get);
    return acked;
}

static int peer_set(struct replica *r, uint64_t node, int64_t acked)
{
    if (stmt(r, &r->peer_set,
             "INSERT INTO hl_peer (node, acked, updated_ms) VALUES (?1, ?2, ?3)"
             " ON CONFLICT (node) DO UPDATE SET acked = excluded.acked,"
             " updated_ms = excluded.updated_ms") != 0) {
        return SYNC_E_DB;
    }
    sqlite3_bind_int64(r->peer_set, 1, (sqlite3_int64)node);
    sqlite3_bind_int64(r->peer_set, 2, acked);
    sqlite3_bind_int64(r->peer_set, 3, hlc_wall(r->clock));
    return step_done(r->peer_set);
}

static int log_exists(struct replica *r, uint64_t node, int64_t seq, int *exists)
{
    /* In the run being written, or in the stored run starting at or
     * before seq. */
    if (r->run.nchanges > 0 && node == r->run_head.node && seq >= r->run_head.seq &&
        seq < r->run_head.seq + (int64_t)r->run.nchanges) {
        *exists = 1;
        return 0;
    }
    if (stmt(r, &r->log_exists,
             "SELECT seq + n > ?2 FROM hl_run WHERE node = ?1 AND seq <= ?2"
             " ORDER BY seq DESC LIMIT 1") != 0) {
        return SYNC_E_DB;
    }
    sqlite3_bind_int64(r->log_exists, 1, (sqlite3_int64)node);
    sqlite3_bind_int64(r->log_exists, 2, seq);
    int step = sqlite3_step(r->log_exists);
    *exists = step == SQLITE_ROW && sqlite3_column_int(r->log_exists, 0);
    sqlite3_reset(r->log_exists);
    return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : SYNC_E_DB;
}

static int refuse(struct replica *r, const struct change *c, int code, const char *allowed,
                  struct delta *refusals)
{
    char message[200];
    if (allowed && strcmp(c->part, allowed) != 0) {
        snprintf(message, sizeof message,
                 "%s %s belongs to \"%s\"; this device may only write \"%s\"",
                 r->schema->tables[c->table].name, c->id, c->part, allowed);
    } else {
        snprintf(message, sizeof message, "%s %s already exists in another partition",
                 r->schema->tables[c->table].name, c->id);
    }
    char *body;
    int rc = delta_change_json(r->schema, c, &body);
    if (rc != 0) {
        return rc;
    }
    if (stmt(r, &r->refused_insert,
             "INSERT INTO hl_refused (node, seq, code, message, body, received_ms)"
             " VALUES (?1, ?2, ?3, ?4, ?5, ?6)") != 0) {
        free(body);
        return SYNC_E_DB;
    }
    sqlite3_stmt *st = r->refused_insert;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)c->node);
    sqlite3_bind_int64(st, 2, c->seq);
    sqlite3_bind_text(st, 3, sync_error_name(code), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, message, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, body, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, hlc_wall(r->clock));
    rc = step_done(st);
    free(body);
    if (rc == 0 && refusals) {
        rc = delta_add_refusal(refusals, c->seq, code, message);
    }
    return rc;
}

int replica_apply(struct replica *r, const struct delta *in, const struct replica_apply_opts *opts,
                  struct replica_apply_result *result, struct delta *refusals)
{
    memset(result, 0, sizeof *result);
    if (opts->contiguous) {
        for (size_t i = 0; i < in->nchanges; i++) {
            if (in->changes[i].node != opts->sender) {
                return SYNC_E_ORIGIN;
            }
        }
    }
    int rc = work_begin(r);
    if (rc != 0) {
        return rc;
    }
    int64_t acked = 0;
    if (opts->contiguous && (acked = replica_acked(r, opts->sender)) < 0) {
        rc = (int)acked;
    }
    size_t nrefusals = refusals ? refusals->nrefused : 0;
    for (size_t i = 0; rc == 0 && i < in->nchanges; i++) {
        const struct change *c = &in->changes[i];
        if (opts->contiguous) {
            if (c->seq <= acked) {
                result->duplicates++;
                continue;
            }
            if (c->seq > acked + 1) {
                result->resume_from = acked + 1;
                break;
            }
        } else {
            int exists;
            if ((rc = log_exists(r, c->node, c->seq, &exists)) != 0) {
                break;
            }
            if (exists) {
                result->duplicates++;
                continue;
            }
        }
        if (opts->part && strcmp(c->part, opts->part) != 0) {
            rc = refuse(r, c, SYNC_E_PARTITION, opts->part, refusals);
            result->refused++;
        } else {
            struct row row;
            if ((rc = row_load(r, c->table, c->id, &row)) == 0) {
                rc = ingest(r, c, &row, r->keep_conflicts, &result->conflicts);
                row_free(&row);
            }
            if (rc == SYNC_E_PARTITION) {
                rc = refuse(r, c, SYNC_E_PARTITION, NULL, refusals);
                result->refused++;
            } else if (rc == 0) {
                result->applied++;
                /* A stamp too far ahead is kept all the same: merging never
                 * depends on the clock having followed it. */
                (void)hlc_observe(r->clock, c->hlc);
            }
        }
        if (opts->contiguous) {
            acked = c->seq;
        }
    }
    if (rc == 0 && opts->contiguous) {
        rc = peer_set(r, opts->sender, acked);
        result->acked = acked;
    }
    if (rc == 0) {
        rc = replica_set_meta_int(r, "hl.hlc", (int64_t)hlc_last(r->clock));
    }
    rc = work_end(r, rc);
    if (rc != 0) {
        struct replica_apply_result empty = {0};
        *result = empty;
        if (refusals) {
            while (refusals->nrefused > nrefusals) {
                free(refusals->refused[--refusals->nrefused].message);
            }
        }
    }
    return rc;
}

/* ---- conflicts ---- */

int replica_resolve_conflict(struct replica *r, int64_t conflict, const struct sync_value *value,
                             const char *resolution)
{
    sqlite3_stmt *st = NULL;
    char table[64], id[UUID7_STRLEN + 1], col[64], part[DELTA_MAX_PART + 1];
    int rc = work_begin(r);
    if (rc != 0) {
        return rc;
    }
    if (sqlite3_prepare_v2(r->db,
                           "SELECT tbl, row_id, col, part, resolved_ms FROM hl_conflict"
                           " WHERE id = ?1",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = SYNC_E_DB;
        goto done;
    }
    sqlite3_bind_int64(st, 1, conflict);
    int step = sqlite3_step(st);
    if (step != SQLITE_ROW) {
        rc = step == SQLITE_DONE ? SYNC_E_NOT_FOUND : SYNC_E_DB;
        goto done;
    }
    snprintf(table, sizeof table, "%s", (const char *)sqlite3_column_text(st, 0));
    snprintf(id, sizeof id, "%s", (const char *)sqlite3_column_text(st, 1));
    snprintf(col, sizeof col, "%s", (const char *)sqlite3_column_text(st, 2));
    snprintf(part, sizeof part, "%s", (const char *)sqlite3_column_text(st, 3));
    if (sqlite3_column_type(st, 4) != SQLITE_NULL || !strcmp(col, "deleted")) {
        rc = SYNC_E_STATE;
        goto done;
    }
    sqlite3_finalize(st);
    st = NULL;
    const char *cols[] = {col};
    if ((rc = replica_put(r, table, id, part, 1, cols, value, NULL)) != 0) {
        goto done;
    }
    if (sqlite3_prepare_v2(r->db,
                           "UPDATE hl_conflict SET resolved_ms = ?1, resolution = ?2"
                           " WHERE tbl = ?3 AND row_id = ?4 AND col = ?5 AND resolved_ms IS NULL",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = SYNC_E_DB;
        goto done;
    }
    sqlite3_bind_int64(st, 1, hlc_wall(r->clock));
    sqlite3_bind_text(st, 2, resolution ? resolution : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, table, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, col, -1, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : SYNC_E_DB;
done:
    sqlite3_finalize(st);
    return work_end(r, rc);
}

/* ---- export ---- */

static int export_table(struct replica *r, int t, const char *part,
                        int (*write)(void *ctx, const char *line, size_t len), void *ctx)
{
    const struct schema_table *table = &r->schema->tables[t];
    char sql[SQL_MAX];
    size_t used = 0;
    sqlite3_stmt *st = NULL;
    int rc = append_sql(sql, &used, "SELECT id, \"%s\", %s", table->partition,
                        table->kind == SCHEMA_RECORD ? "deleted" : "0");
    for (size_t c = 0; rc == 0 && c < table->ncolumns; c++) {
        rc = append_sql(sql, &used, ", \"%s\"", table->columns[c].name);
    }
    if (rc == 0) {
        rc = append_sql(sql, &used, " FROM \"%s\"", table->name);
    }
    if (rc == 0 && part) {
        rc = append_sql(sql, &used, " WHERE \"%s\" = ?1", table->partition);
    }
    if (rc == 0) {
        rc = append_sql(sql, &used, " ORDER BY id");
    }
    if (rc != 0) {
        return rc;
    }
    if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK) {
        return SYNC_E_DB;
    }
    if (part) {
        sqlite3_bind_text(st, 1, part, -1, SQLITE_STATIC);
    }
    int step;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *obj = cJSON_CreateObject();
        int ok = obj && cJSON_AddStringToObject(obj, "table", table->name) &&
                 cJSON_AddStringToObject(obj, "id", (const char *)sqlite3_column_text(st, 0)) &&
                 cJSON_AddStringToObject(obj, table->partition,
                                         (const char *)sqlite3_column_text(st, 1));
        for (size_t c = 0; ok && c < table->ncolumns; c++) {
            struct sync_value v = column_value(st, (int)c + 3, table->columns[c].type);
            cJSON *item = v.type == SYNC_TEXT   ? cJSON_CreateString(v.s)
                          : v.type == SYNC_INT  ? json_util_int(v.i)
                          : v.type == SYNC_REAL ? cJSON_CreateNumber(v.r)
                                                : cJSON_CreateNull();
            ok = item && cJSON_AddItemToObject(obj, table->columns[c].name, item);
        }
        if (ok && table->kind == SCHEMA_RECORD) {
            ok = json_util_add_int(obj, "deleted", sqlite3_column_int(st, 2));
        }
        char *line = ok ? cJSON_PrintUnformatted(obj) : NULL;
        cJSON_Delete(obj);
        if (!line) {
            rc = SYNC_E_NOMEM;
            break;
        }
        size_t len = strlen(line);
        char *full = realloc(line, len + 2);
        if (!full) {
            free(line);
            rc = SYNC_E_NOMEM;
            break;
        }
        full[len] = '\n';
        full[len + 1] = '\0';
        rc = write(ctx, full, len + 1);
        free(full);
    }
    if (rc == 0 && step != SQLITE_DONE) {
        rc = SYNC_E_DB;
    }
    sqlite3_finalize(st);
    return rc;
}

int replica_export(struct replica *r, const char *part,
                   int (*write)(void *ctx, const char *line, size_t len), void *ctx)
{
    if (sqlite3_exec(r->db, r->in_tx ? "SAVEPOINT hl_read" : "BEGIN", NULL, NULL, NULL) !=
        SQLITE_OK) {
        return SYNC_E_DB;
    }
    int rc = 0;
    for (size_t t = 0; rc == 0 && t < r->schema->ntables; t++) {
        rc = export_table(r, (int)t, part, write, ctx);
    }
    sqlite3_exec(r->db, r->in_tx ? "RELEASE hl_read" : "COMMIT", NULL, NULL, NULL);
    return rc;
}

/* ---- opening ---- */

/* Give every replicated table the engine's columns (hl_stamps, hl_hist),
 * moving what an older engine kept for its records in hl_stamp: the
 * application's migrations make the tables, after the engine's. */
static int adopt_tables(struct replica *r, char *why, size_t why_len)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(r->db,
                           "SELECT 1 FROM pragma_table_info(?1) WHERE name = '" ENGINE_STAMPS "'",
                           -1, &st, NULL) != SQLITE_OK) {
        return say(why, why_len, SYNC_E_DB, "%s", sqlite3_errmsg(r->db));
    }
    /* Look first, then again inside the write lock: another process may be
     * adopting them too. */
    int rc = 0, pass = 0, missing = 0;
    for (; rc == 0 && pass < 2; pass++) {
        if (pass == 1 && sqlite3_exec(r->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
            rc = SYNC_E_DB;
            break;
        }
        for (size_t t = 0; rc == 0 && t < r->schema->ntables; t++) {
            const char *name = r->schema->tables[t].name;
            sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
            int has = sqlite3_step(st) == SQLITE_ROW;
            sqlite3_reset(st);
            if (has) {
                continue;
            }
            missing = 1;
            if (pass == 0) {
                break;
            }
            char sql[SQL_MAX];
            snprintf(
                sql, sizeof sql,
                "ALTER TABLE \"%s\" ADD COLUMN " ENGINE_STAMPS " BLOB;"
                " ALTER TABLE \"%s\" ADD COLUMN " ENGINE_HIST " TEXT;"
                " UPDATE \"%s\" AS x SET (" ENGINE_STAMPS ", " ENGINE_HIST ") ="
                " (SELECT s.stamps, s.hist FROM hl_stamp s"
                " WHERE s.tbl = '%s' AND s.row_id = x.id)"
                " WHERE x.id IN (SELECT row_id FROM hl_stamp WHERE tbl = '%s');"
                " DELETE FROM hl_stamp WHERE tbl = '%s' AND row_id IN (SELECT id FROM \"%s\");",
                name, name, name, name, name, name, name);
            if (sqlite3_exec(r->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
                rc = SYNC_E_DB;
            }
        }
        if (!missing) {
            break;
        }
    }
    sqlite3_finalize(st);
    if (pass == 2 && rc == 0 && sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        rc = SYNC_E_DB;
    }
    if (rc != 0) {
        say(why, why_len, rc, "cannot add the engine's columns to the tables: %s",
            sqlite3_errmsg(r->db));
        if (!sqlite3_get_autocommit(r->db)) {
            sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
        }
    }
    return rc;
}

static int check_tables(struct replica *r, char *why, size_t why_len)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(r->db, "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2", -1, &st,
                           NULL) != SQLITE_OK) {
        return say(why, why_len, SYNC_E_DB, "%s", sqlite3_errmsg(r->db));
    }
    int rc = 0;
    for (size_t t = 0; rc == 0 && t < r->schema->ntables; t++) {
        const struct schema_table *table = &r->schema->tables[t];
        size_t extra = table->kind == SCHEMA_RECORD ? 3 : 2;
        for (size_t c = 0; rc == 0 && c < table->ncolumns + extra; c++) {
            const char *name = c < table->ncolumns        ? table->columns[c].name
                               : c == table->ncolumns     ? "id"
                               : c == table->ncolumns + 1 ? table->partition
                                                          : "deleted";
            sqlite3_bind_text(st, 1, table->name, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
            if (sqlite3_step(st) != SQLITE_ROW) {
                rc = say(why, why_len, SYNC_E_SCHEMA,
                         "table %s has no column %s that the schema describes", table->name, name);
            }
            sqlite3_reset(st);
        }
    }
    sqlite3_finalize(st);
    return rc;
}

static int load_identity(struct replica *r)
{
    int64_t node = replica_meta_int(r, "hl.node", 0);
    if (node == 0) {
        uint64_t fresh = 0;
        while (fresh == 0) {
            if (getrandom(&fresh, sizeof fresh, 0) != (ssize_t)sizeof fresh) {
                return SYNC_E_RANDOM;
            }
        }
        node = (int64_t)fresh;
        int rc = replica_set_meta_int(r, "hl.node", node);
        if (rc != 0) {
            return rc;
        }
    }
    r->node = (uint64_t)node;
    r->own_seq = replica_meta_int(r, "hl.seq", 0);
    hlc_restore(r->clock, (uint64_t)replica_meta_int(r, "hl.hlc", 0));
    return 0;
}

/* hl_journal_pack(body): a change of the journal of engine migration 0001
 * (its JSON body) packed as a run of one (journal.h), for migration 0003. */
static void journal_pack_sql(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    struct replica *r = sqlite3_user_data(ctx);
    const char *json = (const char *)sqlite3_value_text(argv[0]);
    struct delta *d = delta_new(DELTA_PUSH);
    struct journal_writer w = {0};
    unsigned char *body = NULL;
    size_t len = 0;
    int rc = !d ? SYNC_E_NOMEM : !json ? SYNC_E_FIELD_MISSING : 0;
    if (rc == 0) {
        rc = delta_add_change_json(r->schema, &r->limits, d, json);
    }
    if (rc == 0) {
        rc = journal_add(&w, r->schema, &d->changes[0]);
    }
    if (rc == 0) {
        rc = journal_finish(&w, &body, &len);
    }
    if (rc == 0) {
        sqlite3_result_blob(ctx, body, (int)len, free);
    } else {
        char message[200];
        snprintf(message, sizeof message, "a change of the journal cannot be converted: %s",
                 sync_strerror(rc));
        sqlite3_result_error(ctx, message, -1);
    }
    journal_reset(&w);
    delta_free(d);
}

int replica_open(const char *path, const struct replica_config *config, struct replica **out,
                 char *why, size_t why_len)
{
    char dummy[8];
    if (!why) {
        why = dummy;
        why_len = sizeof dummy;
    }
    why[0] = '\0';
    int rc = schema_check(config->schema, why, why_len);
    if (rc != 0) {
        return rc;
    }
    struct replica *r = calloc(1, sizeof *r);
    if (!r) {
        return SYNC_E_NOMEM;
    }
    r->schema = config->schema;
    r->keep_conflicts = config->keep_conflicts;
    envelope_limits_default(&r->limits);
    r->limits.max_string = (size_t)-1;
    r->clock = hlc_new(config->max_drift_ms);
    r->tables = calloc(config->schema->ntables, sizeof *r->tables);
    if (!r->clock || !r->tables) {
        rc = SYNC_E_NOMEM;
        goto fail;
    }
    for (size_t t = 0; t < config->schema->ntables; t++) {
        r->tables[t].column_set =
            calloc(config->schema->tables[t].ncolumns + 1, sizeof(sqlite3_stmt *));
        if (!r->tables[t].column_set) {
            rc = SYNC_E_NOMEM;
            goto fail;
        }
    }
    if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        rc = say(why, why_len, SYNC_E_DB, "cannot open %s: %s", path,
                 r->db ? sqlite3_errmsg(r->db) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(r->db, 10000);
    sqlite3_extended_result_codes(r->db, 1);
    if (sqlite3_exec(r->db,
                     "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                     " PRAGMA foreign_keys = ON;",
                     NULL, NULL, NULL) != SQLITE_OK) {
        rc = say(why, why_len, SYNC_E_DB, "cannot set up %s: %s", path, sqlite3_errmsg(r->db));
        goto fail;
    }
    /* Migration 0002 packs the stamps of version 1 with this function, and
     * 0003 the journal with the next. */
    if (stamps_register(r->db) != 0 ||
        sqlite3_create_function(r->db, "hl_journal_pack", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, r,
                                journal_pack_sql, NULL, NULL) != SQLITE_OK) {
        rc = say(why, why_len, SYNC_E_DB, "cannot set up %s: %s", path, sqlite3_errmsg(r->db));
        goto fail;
    }
    if ((rc = migrate_apply(r->db, "engine", engine_migrations, engine_migrations_count, why,
                            why_len)) != 0) {
        goto fail;
    }
    if (config->component && (rc = migrate_apply(r->db, config->component, config->migrations,
                                                 config->nmigrations, why, why_len)) != 0) {
        goto fail;
    }
    if ((rc = check_tables(r, why, why_len)) != 0 || (rc = adopt_tables(r, why, why_len)) != 0) {
        goto fail;
    }
    if ((rc = load_identity(r)) != 0) {
        say(why, why_len, rc, "cannot set up the node id: %s", sync_strerror(rc));
        goto fail;
    }
    *out = r;
    return 0;
fail:
    replica_close(r);
    return rc;
}

static void finalize_all(sqlite3_stmt **list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sqlite3_finalize(list[i]);
    }
}

void replica_close(struct replica *r)
{
    if (!r) {
        return;
    }
    if (r->in_tx) {
        replica_rollback(r);
    }
    for (size_t t = 0; r->tables && t < r->schema->ntables; t++) {
        struct table_stmts *ts = &r->tables[t];
        sqlite3_stmt *own[] = {ts->row_get,       ts->row_insert,  ts->append_set,
                               ts->append_insert, ts->deleted_set, ts->stamps_set};
        finalize_all(own, sizeof own / sizeof own[0]);
        if (ts->column_set) {
            finalize_all(ts->column_set, r->schema->tables[t].ncolumns);
        }
        for (size_t k = 0; k < FIELDS_SET_CACHE; k++) {
            sqlite3_finalize(ts->update.entry[k].st);
            sqlite3_finalize(ts->insert.entry[k].st);
        }
        free(ts->column_set);
    }
    free(r->tables);
    sqlite3_stmt *shared[] = {r->log_exists, r->conflict_insert, r->meta_get,       r->meta_set,
                              r->peer_get,   r->peer_set,        r->refused_insert, r->pending,
                              r->since_part, r->since_all,       r->log_max,        r->run_insert,
                              r->run_last,   r->run_find,        r->prior_insert,   r->prior_get};
    finalize_all(shared, sizeof shared / sizeof shared[0]);
    journal_reset(&r->run);
    sqlite3_close(r->db);
    hlc_free(r->clock);
    free(r);
}

sqlite3 *replica_db(struct replica *r)
{
    return r->db;
}

uint64_t replica_node(const struct replica *r)
{
    return r->node;
}

struct hlc *replica_clock(struct replica *r)
{
    return r->clock;
}

const struct schema *replica_schema(const struct replica *r)
{
    return r->schema;
}

const char *replica_errmsg(struct replica *r)
{
    return sqlite3_errmsg(r->db);
}
