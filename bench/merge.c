/* SPDX-License-Identifier: MIT */
/*
 * merge.c - how fast the hub merges a large batch, beside the ceiling.
 *
 * A device replica imports the reference cases (every village), and its
 * whole journal becomes one push. The hub's merge (replica_apply(), the
 * path of every sync) takes that push into a fresh ledger, timed; the
 * ceiling is plain SQLite writing the same rows into the same tables, in
 * one transaction, with the same durability settings (WAL, synchronous
 * FULL) and prepared statements reused: what any store of these rows must
 * at least do. Each is run several times on fresh files and the median is
 * kept. Prints one JSON object on stdout; bench/run.mjs reads it.
 *
 *   merge [--cases FILE] [--runs N] [--dir DIR]
 */
#include "ledger_io.h"
#include "ledger_schema.h"
#include "replica.h"
#include "schema.h"
#include "sync_error.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_RUNS 15

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void remove_db(const char *path)
{
    char extra[600];
    unlink(path);
    snprintf(extra, sizeof extra, "%s-wal", path);
    unlink(extra);
    snprintf(extra, sizeof extra, "%s-shm", path);
    unlink(extra);
}

/* The push: every change of a device that imported the cases. */
static int make_push(const char *dir, const char *cases, struct delta **out, size_t *nrecords)
{
    char path[512], why[300];
    snprintf(path, sizeof path, "%s/device.db", dir);
    remove_db(path);
    struct replica_config config;
    ledger_schema_config(&config, 0);
    struct replica *r = NULL;
    if (replica_open(path, &config, &r, why, sizeof why) != 0) {
        fprintf(stderr, "merge: %s: %s\n", path, why);
        return -1;
    }
    FILE *in = fopen(cases, "r");
    if (!in) {
        fprintf(stderr, "merge: %s: %s\n", cases, strerror(errno));
        replica_close(r);
        return -1;
    }
    struct ledger_io_stats st;
    memset(&st, 0, sizeof st);
    int rc = ledger_io_import_file(r, NULL, in, &st, why, sizeof why);
    fclose(in);
    struct delta *push = rc == 0 ? delta_new(DELTA_PUSH) : NULL;
    if (rc != 0 || !push) {
        fprintf(stderr, "merge: import: %s\n", rc ? why : "out of memory");
        replica_close(r);
        return -1;
    }
    push->node = replica_node(r);
    rc = replica_pending(r, 0, SIZE_MAX, push);
    replica_close(r);
    remove_db(path);
    if (rc != 0) {
        delta_free(push);
        fprintf(stderr, "merge: %s\n", sync_strerror(rc));
        return -1;
    }
    *out = push;
    *nrecords = st.records;
    return 0;
}

/* One merge of the push into a fresh hub ledger; seconds, or < 0. */
static double merge_once(const char *dir, const struct delta *push)
{
    char path[512], why[300];
    snprintf(path, sizeof path, "%s/hub.db", dir);
    remove_db(path);
    struct replica_config config;
    ledger_schema_config(&config, 1);
    struct replica *hub = NULL;
    if (replica_open(path, &config, &hub, why, sizeof why) != 0) {
        fprintf(stderr, "merge: %s: %s\n", path, why);
        return -1;
    }
    struct replica_apply_opts opts = {push->node, NULL, 1};
    struct replica_apply_result result;
    double start = now_s();
    int rc = replica_apply(hub, push, &opts, &result, NULL);
    double took = now_s() - start;
    replica_close(hub);
    remove_db(path);
    if (rc != 0 || result.applied != push->nchanges) {
        fprintf(stderr, "merge: applied %zu of %zu: %s\n", result.applied, push->nchanges,
                sync_strerror(rc));
        return -1;
    }
    return took;
}

/* Prepared statements of the plain writes, one per table and column set. */
struct plain {
    sqlite3 *db;
    size_t n;
    struct {
        char key[512];
        sqlite3_stmt *st;
    } cache[64];
};

static sqlite3_stmt *plain_statement(struct plain *p, const struct schema_table *t,
                                     const struct change *c)
{
    char key[512], sql[2048];
    size_t k = (size_t)snprintf(key, sizeof key, "%s", t->name);
    for (size_t i = 0; i < c->nfields && k < sizeof key; i++) {
        k += (size_t)snprintf(key + k, sizeof key - k, ",%d", c->fields[i].column);
    }
    for (size_t i = 0; i < p->n; i++) {
        if (!strcmp(p->cache[i].key, key)) {
            return p->cache[i].st;
        }
    }
    if (p->n == sizeof p->cache / sizeof p->cache[0]) {
        return NULL;
    }
    /* INSERT ... ON CONFLICT (id) DO UPDATE: a record's later change updates it. */
    size_t n = (size_t)snprintf(sql, sizeof sql, "INSERT INTO \"%s\" (id, village", t->name);
    for (size_t i = 0; i < c->nfields; i++) {
        const char *name =
            c->fields[i].column == DELTA_DELETED ? "deleted" : t->columns[c->fields[i].column].name;
        n += (size_t)snprintf(sql + n, sizeof sql - n, ", \"%s\"", name);
    }
    n += (size_t)snprintf(sql + n, sizeof sql - n, ") VALUES (?1, ?2");
    for (size_t i = 0; i < c->nfields; i++) {
        n += (size_t)snprintf(sql + n, sizeof sql - n, ", ?%zu", i + 3);
    }
    n += (size_t)snprintf(sql + n, sizeof sql - n, ") ON CONFLICT (id) DO UPDATE SET village = ?2");
    for (size_t i = 0; i < c->nfields; i++) {
        const char *name =
            c->fields[i].column == DELTA_DELETED ? "deleted" : t->columns[c->fields[i].column].name;
        n += (size_t)snprintf(sql + n, sizeof sql - n, ", \"%s\" = ?%zu", name, i + 3);
    }
    sqlite3_stmt *st = NULL;
    if (n >= sizeof sql || sqlite3_prepare_v2(p->db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "merge: %s\n", sqlite3_errmsg(p->db));
        return NULL;
    }
    snprintf(p->cache[p->n].key, sizeof p->cache[p->n].key, "%s", key);
    p->cache[p->n++].st = st;
    return st;
}

/* The same rows written plainly into a fresh ledger; seconds, or < 0. */
static double plain_once(const char *dir, const struct delta *push)
{
    char path[512], why[300];
    snprintf(path, sizeof path, "%s/plain.db", dir);
    remove_db(path);
    /* The ledger's own tables, made by its migrations. */
    struct replica_config config;
    ledger_schema_config(&config, 0);
    struct replica *r = NULL;
    if (replica_open(path, &config, &r, why, sizeof why) != 0) {
        fprintf(stderr, "merge: %s: %s\n", path, why);
        return -1;
    }
    replica_close(r);
    struct plain p = {0};
    if (sqlite3_open(path, &p.db) != SQLITE_OK ||
        sqlite3_exec(p.db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;", NULL, NULL,
                     NULL) != SQLITE_OK) {
        sqlite3_close(p.db);
        return -1;
    }
    const struct schema *schema = ledger_schema_get();
    double start = now_s();
    int ok = sqlite3_exec(p.db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
    for (size_t i = 0; ok && i < push->nchanges; i++) {
        const struct change *c = &push->changes[i];
        sqlite3_stmt *st = plain_statement(&p, &schema->tables[c->table], c);
        if (!st) {
            ok = 0;
            break;
        }
        sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, c->part, -1, SQLITE_STATIC);
        for (size_t f = 0; f < c->nfields; f++) {
            const struct sync_value *v = &c->fields[f].value;
            int at = (int)f + 3;
            if (c->fields[f].column == DELTA_DELETED) {
                sqlite3_bind_int(st, at, 1);
            } else if (v->type == SYNC_TEXT) {
                sqlite3_bind_text(st, at, v->s, -1, SQLITE_STATIC);
            } else if (v->type == SYNC_INT) {
                sqlite3_bind_int64(st, at, v->i);
            } else if (v->type == SYNC_REAL) {
                sqlite3_bind_double(st, at, v->r);
            } else {
                sqlite3_bind_null(st, at);
            }
        }
        ok = sqlite3_step(st) == SQLITE_DONE;
        sqlite3_reset(st);
    }
    ok = ok && sqlite3_exec(p.db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
    double took = now_s() - start;
    if (!ok) {
        fprintf(stderr, "merge: plain writes: %s\n", sqlite3_errmsg(p.db));
    }
    for (size_t i = 0; i < p.n; i++) {
        sqlite3_finalize(p.cache[i].st);
    }
    sqlite3_close(p.db);
    remove_db(path);
    return ok ? took : -1;
}

int main(int argc, char **argv)
{
    const char *cases = "../shared/data/cases-1000.jsonl", *dir = NULL;
    int runs = 5;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--cases") && i + 1 < argc) {
            cases = argv[++i];
        } else if (!strcmp(argv[i], "--dir") && i + 1 < argc) {
            dir = argv[++i];
        } else if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
            char *end;
            errno = 0;
            long v = strtol(argv[++i], &end, 10);
            if (errno || *end || v < 1 || v > MAX_RUNS) {
                fprintf(stderr, "merge: --runs: 1 to %d\n", MAX_RUNS);
                return 2;
            }
            runs = (int)v;
        } else {
            fprintf(stderr, "usage: merge [--cases FILE] [--runs N] [--dir DIR]\n");
            return 2;
        }
    }
    char tmp[] = "/tmp/hamlet-bench-merge-XXXXXX";
    if (!dir && !(dir = mkdtemp(tmp))) {
        fprintf(stderr, "merge: cannot make a temporary folder: %s\n", strerror(errno));
        return 1;
    }
    struct delta *push = NULL;
    size_t records = 0;
    if (make_push(dir, cases, &push, &records) != 0) {
        return 1;
    }
    double merged[MAX_RUNS], plain[MAX_RUNS];
    for (int i = 0; i < runs; i++) {
        merged[i] = merge_once(dir, push);
        plain[i] = plain_once(dir, push);
        if (merged[i] < 0 || plain[i] < 0) {
            delta_free(push);
            return 1;
        }
    }
    double m = median(merged, runs), p = median(plain, runs);
    printf("{\"cases\": %zu, \"changes\": %zu, \"runs\": %d, \"merge_s\": %.4f,"
           " \"plain_s\": %.4f, \"merge_per_s\": %.0f, \"plain_per_s\": %.0f, \"ratio\": %.3f}\n",
           records, push->nchanges, runs, m, p, (double)push->nchanges / m,
           (double)push->nchanges / p, p / m);
    delta_free(push);
    if (dir == tmp) {
        rmdir(tmp);
    }
    return 0;
}
