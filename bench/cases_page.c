/* SPDX-License-Identifier: MIT */
/*
 * cases_page.c - how long the review pages' typical reads take (hub/view.h)
 * with 1,000 cases and with 100,000, side by side.
 *
 * A hub is built in a temporary folder from the reference data: its 1,000
 * cases imported as their villages would send them (ledger_io, one
 * transaction a case, villages registered with codes), with a share of
 * petitions, levels and township deadlines, and a few conflicts. Each read
 * is timed there; then the cases, their parties, contacts, events,
 * agreements, their stamps and the journal are copied 99 times with new
 * ids (in SQL, so that the search indexes' triggers run as for any write)
 * and every read is timed again. A figure is the median of RUNS runs, in milliseconds. The
 * program prints figures and never passes or fails.
 *
 *   cases_page [--keep] [DATA_DIR]   (default $HAMLET_DATA, else ../shared/data)
 *
 * --keep leaves the 100,000-case hub's database in place (its path is
 * printed), to look at query plans with the sqlite3 shell.
 */
#include "hub_error.h"
#include "ledger_io.h"
#include "replica.h"
#include "rules.h"
#include "store.h"
#include "view.h"

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RUNS         5  /* runs of each read; the median is shown */
#define COPIES       99 /* copies of the data added for the large hub */
#define MAX_VILLAGES 64

struct bench {
    char dir[64], path[128];
    struct store *store;
    struct rules_config rules;
    char villages[MAX_VILLAGES][64];
    size_t nvillages;
    char sample_case[UUID7_STRLEN + 1];
};

/* One read of the table, or one case's page. */
struct read {
    const char *name;
    struct view_filter filter;
    int one_case; /* 1: view_case() of the sample case, history included */
};

static const struct read reads[] = {
    {"newest first, page 1 of 50", {.desc = 1}, 0},
    {"newest first, page 100 of 50", {.desc = 1, .page = 100}, 0},
    {"one village, newest first", {.village = "v03", .desc = 1}, 0},
    {"category and status", {.category = "land", .status = "mediating"}, 0},
    {"class 1, level 2", {.severity = 1, .level = 2}, 0},
    {"sorted by case number, page 20", {.sort = "case_no", .page = 20}, 0},
    {"sorted by township deadline", {.sort = "deadline"}, 0},
    {"overdue, all villages", {.overdue = 1}, 0},
    {"overdue, one village", {.overdue = 1, .village = "v03"}, 0},
    {"open conflicts", {.conflict = 1}, 0},
    {"search 宅基地 (3 characters)", {.q = "宅基地"}, 0},
    {"search 土地 (2 characters)", {.q = "土地"}, 0},
    {"search 宅基 in one village", {.q = "宅基", .village = "v03"}, 0},
    {"search 纠 (1 character)", {.q = "纠"}, 0},
    {"search 的 (1 character, in most trigrams)", {.q = "的"}, 0},
    {"search ab (2 Latin letters)", {.q = "ab"}, 0},
    {"search a phrase of a note", {.q = "下一步将继续跟进"}, 0},
    {"search 调解 宅基地 (two words)", {.q = "调解 宅基地"}, 0},
    {"one case's page, with history", {0}, 1},
};

#define NREADS (sizeof reads / sizeof reads[0])

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median time of RUNS runs of one read, in ms; *total the cases
 * found. Negative on error. */
static double time_read(struct bench *b, const struct read *r, long *total)
{
    double runs[RUNS];
    char why[256] = "";
    for (int i = 0; i < RUNS; i++) {
        cJSON *doc = NULL;
        double start = now_ms();
        int rc = r->one_case
                     ? view_case(b->store, &b->rules, b->sample_case, 0, &doc, why, sizeof why)
                     : view_cases(b->store, &b->rules, &r->filter, &doc, why, sizeof why);
        runs[i] = now_ms() - start;
        if (rc != 0) {
            fprintf(stderr, "cases_page: %s: %s (%s)\n", r->name, hub_strerror(rc), why);
            return -1;
        }
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(doc, "total");
        *total = t ? (long)t->valuedouble
                   : cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "history"));
        cJSON_Delete(doc);
    }
    qsort(runs, RUNS, sizeof runs[0], by_value);
    return runs[RUNS / 2];
}

/* ---- building the hub ---- */

struct import {
    const char *line;
    size_t len;
    struct ledger_io_village village;
    char why[256];
};

static int import_one(struct replica *r, void *ctx)
{
    struct import *im = ctx;
    return ledger_io_import_line(r, &im->village, im->line, im->len, NULL, im->why, sizeof im->why);
}

/* The code of the village named in a line of the data (v01, v02, ...),
 * registering it at the first sight. */
static int village_of(struct bench *b, const char *line, char code[16], char name[64])
{
    cJSON *obj = cJSON_Parse(line);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "village");
    if (!cJSON_IsString(v)) {
        cJSON_Delete(obj);
        return -1;
    }
    snprintf(name, 64, "%s", v->valuestring);
    cJSON_Delete(obj);
    size_t i = 0;
    while (i < b->nvillages && strcmp(b->villages[i], name) != 0) {
        i++;
    }
    if (i == MAX_VILLAGES) {
        return -1;
    }
    snprintf(code, 16, "v%02zu", i + 1);
    if (i == b->nvillages) {
        snprintf(b->villages[b->nvillages++], sizeof b->villages[0], "%s", name);
        if (store_village_add(b->store, code, name) != 0) {
            return -1;
        }
    }
    return 0;
}

static int import_data(struct bench *b, const char *data_dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/cases-1000.jsonl", data_dir);
    FILE *in = fopen(path, "r");
    if (!in) {
        fprintf(stderr, "cases_page: cannot read %s (give the data folder as the argument)\n",
                path);
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;
    while (rc == 0 && (len = getline(&line, &cap, in)) > 0) {
        struct import im = {line, (size_t)len, {NULL, NULL}, ""};
        char code[16], name[64];
        rc = village_of(b, line, code, name);
        if (rc == 0) {
            im.village.code = code;
            im.village.name = name;
            rc = store_with_ledger(b->store, import_one, &im);
        }
        if (rc != 0) {
            fprintf(stderr, "cases_page: import: %s\n", im.why);
        }
    }
    free(line);
    fclose(in);
    return rc;
}

/* Plain SQL of the bench's own, on its own connection to the hub file. */
static int exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "cases_page: %s\n  in: %.200s\n", err ? err : "?", sql);
        sqlite3_free(err);
        return -1;
    }
    return 0;
}

/* The township's share of the work: petitions, levels, deadlines. */
static const char township_sql[] =
    "UPDATE cases SET kind = 'petition' WHERE rowid % 7 = 3;"
    "UPDATE cases SET level = rowid % 7 + 1 WHERE rowid % 5 = 1;"
    "UPDATE cases SET deadline = CASE WHEN rowid % 2 THEN '2024-01-31' ELSE '2099-12-31' END"
    " WHERE rowid % 11 = 2;";

/* INSERT ... SELECT for one table's copy ?1, its ids (and the ids it
 * refers to) new: their first 8 hex digits replaced by the copy's number;
 * the record's history (hl_hist) shifted as the journal is, by ?1 times
 * the original's last position ?3. */
static int copy_sql(sqlite3 *db, const char *table, char *sql, size_t len)
{
    char pragma[128];
    snprintf(pragma, sizeof pragma, "PRAGMA table_info(%s)", table);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, pragma, -1, &st, NULL) != SQLITE_OK) {
        return -1;
    }
    char cols[2048] = "", exprs[4096] = "";
    size_t c = 0, e = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 1);
        int id_like = !strcmp(name, "id") || !strcmp(name, "case_id") ||
                      !strcmp(name, "contact_id") || !strcmp(name, "supplements");
        char expr[256];
        if (id_like) {
            snprintf(expr, sizeof expr,
                     "CASE WHEN %s IS NULL THEN NULL ELSE printf('%%08x', ?1) || substr(%s, 9) END",
                     name, name);
        } else if (!strcmp(name, "hl_hist")) {
            snprintf(expr, sizeof expr,
                     "(SELECT group_concat(p, ',') FROM (SELECT value + ?1 * ?3 AS p"
                     " FROM json_each('[' || hl_hist || ']') ORDER BY key))");
        } else {
            snprintf(expr, sizeof expr, "%s", name);
        }
        c += (size_t)snprintf(cols + c, sizeof cols - c, "%s%s", c ? ", " : "", name);
        e += (size_t)snprintf(exprs + e, sizeof exprs - e, "%s%s", e ? ", " : "", expr);
    }
    sqlite3_finalize(st);
    snprintf(sql, len, "INSERT INTO %s (%s) SELECT %s FROM %s WHERE rowid <= ?2", table, cols,
             exprs, table);
    return 0;
}

/* The one integer sql (the bench's own) gives; -1 on error. */
static int64_t one_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return n;
}

static int64_t max_rowid(sqlite3 *db, const char *table)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT coalesce(max(rowid), 0) FROM %s", table);
    return one_int(db, sql);
}

/* Run sql for copies 1 to COPIES (?1), with last (?2) the end of the
 * original: a rowid, or a journal position; ?3 the journal's last
 * position. */
static int copy_times(sqlite3 *db, const char *what, const char *sql, int64_t last,
                      int64_t last_pos)
{
    sqlite3_stmt *st = NULL;
    if (last < 0 || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "cases_page: %s: %s\n", what, sqlite3_errmsg(db));
        return -1;
    }
    int rc = 0;
    for (int k = 1; rc == 0 && k <= COPIES; k++) {
        sqlite3_reset(st);
        sqlite3_bind_int(st, 1, k);
        if (sqlite3_bind_parameter_count(st) >= 2) {
            sqlite3_bind_int64(st, 2, last);
        }
        if (sqlite3_bind_parameter_count(st) >= 3) {
            sqlite3_bind_int64(st, 3, last_pos);
        }
        if (sqlite3_step(st) != SQLITE_DONE) {
            fprintf(stderr, "cases_page: copy %d of %s: %s\n", k, what, sqlite3_errmsg(db));
            rc = -1;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/* The engine's share of a copy ?1 (sync-protocol/migrations/0003_runs.sql):
 * the journal's runs, shifted by ?1 times the original's last position ?2
 * and by ?1 * 10^8 sequence numbers, so that positions and each node's
 * sequence numbers stay unique and a run's changes stay consecutive; the
 * values kept for the journal (hl_prior) under the copies' ids, read from
 * a snapshot of the original (engine_before makes it). The records'
 * stamps and histories are in their rows, copied with them (copy_sql()).
 * A run's body is packed and names the original records:
 * SQL cannot rewrite it, so a copy's history reads as its original's, at
 * the same cost. */
static const char engine_before[] =
    "CREATE TEMP TABLE bench_prior AS SELECT * FROM hl_prior WHERE tbl IN"
    " ('cases', 'contacts', 'case_parties', 'events', 'agreements');";
static const char engine_after[] = "DROP TABLE bench_prior;";
static const struct {
    const char *table, *sql;
} engine_copies[] = {
    {"hl_run", "INSERT INTO hl_run (pos, node, seq, n, part, received_ms, body)"
               " SELECT pos + ?1 * ?2, node, seq + ?1 * 100000000, n, part, received_ms, body"
               " FROM hl_run WHERE pos <= ?2"},
    {"hl_prior", "INSERT INTO hl_prior (tbl, row_id, col, hlc, node, value)"
                 " SELECT tbl, printf('%08x', ?1) || substr(row_id, 9), col, hlc, node,"
                 " CASE WHEN col IN ('case_id', 'contact_id', 'supplements') AND value IS NOT NULL"
                 " THEN printf('%08x', ?1) || substr(value, 9) ELSE value END"
                 " FROM bench_prior"},
};

/* Copy every record COPIES times with new ids, and the journal with them. */
static int grow(sqlite3 *db)
{
    static const char *const tables[] = {"cases", "contacts", "case_parties", "events",
                                         "agreements"};
    int rc = exec(db, "BEGIN");
    int64_t last = one_int(db, "SELECT coalesce(max(pos + n - 1), 0) FROM hl_run");
    for (size_t t = 0; rc == 0 && t < sizeof tables / sizeof tables[0]; t++) {
        char sql[8192];
        rc = copy_sql(db, tables[t], sql, sizeof sql) == 0
                 ? copy_times(db, tables[t], sql, max_rowid(db, tables[t]), last)
                 : -1;
    }
    if (rc == 0) {
        rc = exec(db, engine_before);
    }
    for (size_t e = 0; rc == 0 && e < sizeof engine_copies / sizeof engine_copies[0]; e++) {
        rc = copy_times(db, engine_copies[e].table, engine_copies[e].sql, last, last);
    }
    if (rc == 0) {
        rc = exec(db, engine_after);
    }
    return rc == 0 ? exec(db, "COMMIT") : (exec(db, "ROLLBACK"), -1);
}

/* A few open conflicts: on the title of every 2,000th case (run again
 * after the copies, so that the large hub has fifty). */
static const char conflicts_sql[] =
    "INSERT INTO hl_conflict (tbl, row_id, col, part, log_pos, standing_value, incoming_value,"
    " incoming_hlc, incoming_node, winner, created_ms)"
    " SELECT 'cases', c.id, 'title', c.village, (SELECT min(pos) FROM hl_run), c.title,"
    " c.title || '（改）', 1, 1, 'incoming', 0 FROM cases c WHERE c.rowid % 2000 = 7"
    " AND NOT EXISTS (SELECT 1 FROM hl_conflict x WHERE x.row_id = c.id)";

static int sample(struct bench *b, sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(db, "SELECT id FROM cases WHERE rowid = 1", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        snprintf(b->sample_case, sizeof b->sample_case, "%s", sqlite3_column_text(st, 0));
        rc = 0;
    }
    sqlite3_finalize(st);
    return rc;
}

int main(int argc, char **argv)
{
    const char *env = getenv("HAMLET_DATA");
    int keep = argc > 1 && !strcmp(argv[1], "--keep");
    const char *data_dir = argc > 1 + keep ? argv[1 + keep]
                           : env && env[0] ? env
                                           : "../shared/data";
    struct bench b;
    memset(&b, 0, sizeof b);
    rules_config_default(&b.rules);
    snprintf(b.dir, sizeof b.dir, "/tmp/hamlet-bench-view-XXXXXX");
    if (!mkdtemp(b.dir)) {
        perror("cases_page: mkdtemp");
        return 1;
    }
    snprintf(b.path, sizeof b.path, "%s/hub.db", b.dir);
    char why[256] = "";
    sqlite3 *db = NULL;
    double small[NREADS], large[NREADS];
    long small_n[NREADS], large_n[NREADS];
    int rc = store_open(b.path, 1, &b.store, why, sizeof why);
    if (rc != 0) {
        fprintf(stderr, "cases_page: %s\n", why);
        return 1;
    }
    double t0 = now_ms();
    rc = import_data(&b, data_dir);
    double import_ms = now_ms() - t0;
    if (rc == 0 &&
        (sqlite3_open(b.path, &db) != SQLITE_OK || sqlite3_busy_timeout(db, 10000) != SQLITE_OK)) {
        rc = -1;
    }
    if (rc == 0) {
        rc = exec(db, township_sql);
    }
    if (rc == 0) {
        rc = exec(db, conflicts_sql);
    }
    if (rc == 0) {
        rc = sample(&b, db);
    }
    for (size_t i = 0; rc == 0 && i < NREADS; i++) {
        small[i] = time_read(&b, &reads[i], &small_n[i]);
        rc = small[i] < 0 ? -1 : 0;
    }
    double grow_ms = 0;
    if (rc == 0) {
        t0 = now_ms();
        rc = grow(db);
        grow_ms = now_ms() - t0;
    }
    if (rc == 0) {
        rc = exec(db, conflicts_sql);
    }
    for (size_t i = 0; rc == 0 && i < NREADS; i++) {
        large[i] = time_read(&b, &reads[i], &large_n[i]);
        rc = large[i] < 0 ? -1 : 0;
    }
    if (rc == 0) {
        printf("# The review table's reads (hub/view.h), median of %d runs\n\n", RUNS);
        printf("1,000 cases imported in %.1f s; copied to 100,000 (search indexes included)"
               " in %.1f s.\n\n",
               import_ms / 1e3, grow_ms / 1e3);
        printf("| read | 1,000 cases: ms | found | 100,000 cases: ms | found |\n");
        printf("| --- | ---: | ---: | ---: | ---: |\n");
        for (size_t i = 0; i < NREADS; i++) {
            printf("| %s | %.2f | %ld | %.2f | %ld |\n", reads[i].name, small[i], small_n[i],
                   large[i], large_n[i]);
        }
        printf("\n(found: the total the table shows; for the case's page, its history"
               " entries.)\n");
    }
    sqlite3_close(db);
    store_close(b.store);
    if (keep) {
        printf("\nThe hub's database: %s\n", b.path);
        return rc == 0 ? 0 : 1;
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", b.dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "cases_page: could not remove %s\n", b.dir);
    }
    return rc == 0 ? 0 : 1;
}
