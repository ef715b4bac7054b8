/* SPDX-License-Identifier: MIT */
/*
 * store.c - the hub's storage on one SQLite file: the engine's replica of
 * every village's ledger (with conflict records), and the hub's own tables
 * of villages and devices. One mutex serialises callers: a sync is one
 * short transaction, and SQLite allows one writer at a time anyway.
 */
#include "store_int.h"

#include "devices.h"
#include "hlc.h"
#include "hub_error.h"
#include "rules.h"
#include "ledger_io.h"
#include "ledger_schema.h"
#include "replica.h"
#include "sync_error.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

extern const struct migration hub_migrations[];
extern const size_t hub_migrations_count;

void store_lock(struct store *s)
{
    pthread_mutex_lock(&s->lock);
}

void store_unlock(struct store *s)
{
    pthread_mutex_unlock(&s->lock);
}

int store_open(const char *path, int create, struct store **out, char *why, size_t why_len)
{
    if (sodium_init() < 0) {
        snprintf(why, why_len, "libsodium could not start");
        return HUB_E_STATE;
    }
    if (!create && access(path, F_OK) != 0) {
        snprintf(why, why_len, "no hub database at %s (run 'hamlet-hub init' first)", path);
        return HUB_E_NOT_FOUND;
    }
    struct store *s = calloc(1, sizeof *s);
    if (!s) {
        return HUB_E_NOMEM;
    }
    pthread_mutex_init(&s->lock, NULL);
    ledger_schema_config(&s->config, 1);
    int rc = replica_open(path, &s->config, &s->replica, why, why_len);
    if (rc != 0) {
        goto fail;
    }
    s->db = replica_db(s->replica);
    rc = migrate_apply(s->db, "hub", hub_migrations, hub_migrations_count, why, why_len);
    if (rc != 0) {
        goto fail;
    }
    *out = s;
    return 0;
fail:
    store_close(s);
    return rc;
}

void store_close(struct store *s)
{
    if (!s) {
        return;
    }
    replica_close(s->replica);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

int64_t store_now(struct store *s)
{
    return hlc_wall(replica_clock(s->replica));
}

int store_prepare(struct store *s, const char *sql, sqlite3_stmt **out)
{
    return sqlite3_prepare_v2(s->db, sql, -1, out, NULL) == SQLITE_OK ? 0 : HUB_E_DB;
}

void store_copy_text(char *out, size_t out_len, sqlite3_stmt *st, int col)
{
    const char *text = (const char *)sqlite3_column_text(st, col);
    snprintf(out, out_len, "%s", text ? text : "");
}

/* ---- villages ---- */

static int code_ok(const char *code)
{
    size_t len = code ? strlen(code) : 0;
    if (len == 0 || len > DELTA_MAX_PART || !delta_utf8_valid(code, len)) {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)code[i];
        if (c <= ' ' || c == 0x7f || c == '|') {
            return 0;
        }
    }
    return 1;
}

int store_village_add(struct store *s, const char *code, const char *name)
{
    if (!code_ok(code) || !name || !name[0] || strlen(name) > 200 ||
        !delta_utf8_valid(name, strlen(name))) {
        return HUB_E_ARG;
    }
    store_lock(s);
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(s,
                           "INSERT INTO villages (code, name, created_at)"
                           " VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
                           &st);
    if (rc == 0) {
        sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        rc = step == SQLITE_DONE                                               ? 0
             : sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_PRIMARYKEY ? HUB_E_EXISTS
                                                                               : HUB_E_DB;
    }
    sqlite3_finalize(st);
    store_unlock(s);
    return rc;
}

int store_village_list(struct store *s,
                       int (*each)(void *ctx, const char *code, const char *name, int64_t devices,
                                   int64_t cases),
                       void *ctx)
{
    store_lock(s);
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(s,
                           "SELECT v.code, v.name,"
                           " (SELECT count(*) FROM devices d WHERE d.village = v.code"
                           "  AND d.status != 'revoked'),"
                           " (SELECT count(*) FROM cases c WHERE c.village = v.code"
                           "  AND c.deleted = 0)"
                           " FROM villages v ORDER BY v.code",
                           &st);
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        rc = each(ctx, (const char *)sqlite3_column_text(st, 0),
                  (const char *)sqlite3_column_text(st, 1), sqlite3_column_int64(st, 2),
                  sqlite3_column_int64(st, 3));
    }
    sqlite3_finalize(st);
    store_unlock(s);
    return rc;
}

/* ---- devices ---- */

static const char device_columns[] =
    "id, village, coalesce(label, ''), status, coalesce(node, 0), created_ms,"
    " coalesce(enrolled_ms, 0), coalesce(revoked_ms, 0), coalesce(last_sync_ms, 0),"
    " coalesce(clock_offset_ms, 0), syncs, bytes_in, bytes_out, coalesce(last_result, ''),"
    " coalesce(case_code, ''),"
    " coalesce((SELECT v.name FROM villages v WHERE v.code = devices.village), '')";

static void read_device(sqlite3_stmt *st, struct store_device *d)
{
    memset(d, 0, sizeof *d);
    store_copy_text(d->id, sizeof d->id, st, 0);
    store_copy_text(d->village, sizeof d->village, st, 1);
    store_copy_text(d->label, sizeof d->label, st, 2);
    store_copy_text(d->status, sizeof d->status, st, 3);
    d->node = (uint64_t)sqlite3_column_int64(st, 4);
    d->created_ms = sqlite3_column_int64(st, 5);
    d->enrolled_ms = sqlite3_column_int64(st, 6);
    d->revoked_ms = sqlite3_column_int64(st, 7);
    d->last_sync_ms = sqlite3_column_int64(st, 8);
    d->clock_offset_ms = sqlite3_column_int64(st, 9);
    d->syncs = sqlite3_column_int64(st, 10);
    d->bytes_in = sqlite3_column_int64(st, 11);
    d->bytes_out = sqlite3_column_int64(st, 12);
    store_copy_text(d->last_result, sizeof d->last_result, st, 13);
    store_copy_text(d->case_code, sizeof d->case_code, st, 14);
    store_copy_text(d->village_name, sizeof d->village_name, st, 15);
}

/* Load a device with its stored hashes; HUB_E_AUTH when unknown. */
static int load_device(struct store *s, const char *id, struct store_device *d,
                       unsigned char enroll_hash[DEVICES_HASH_LEN], int *has_enroll,
                       int64_t *enroll_expires, unsigned char secret_hash[DEVICES_HASH_LEN],
                       int *has_secret)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT %s, enroll_hash, coalesce(enroll_expires, 0), secret_hash FROM devices"
             " WHERE id = ?1",
             device_columns);
    sqlite3_stmt *st = NULL;
    if (store_prepare(s, sql, &st) != 0) {
        return HUB_E_DB;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = HUB_E_AUTH;
    if (sqlite3_step(st) == SQLITE_ROW) {
        read_device(st, d);
        *has_enroll = sqlite3_column_bytes(st, 16) == DEVICES_HASH_LEN;
        if (*has_enroll) {
            memcpy(enroll_hash, sqlite3_column_blob(st, 16), DEVICES_HASH_LEN);
        }
        *enroll_expires = sqlite3_column_int64(st, 17);
        *has_secret = sqlite3_column_bytes(st, 18) == DEVICES_HASH_LEN;
        if (*has_secret) {
            memcpy(secret_hash, sqlite3_column_blob(st, 18), DEVICES_HASH_LEN);
        }
        rc = 0;
    }
    sqlite3_finalize(st);
    return rc;
}

int store_device_add(struct store *s, const char *village, const char *label, int64_t valid_ms,
                     char id[UUID7_STRLEN + 1], char code[DEVICES_CODE_LEN])
{
    if (label && (strlen(label) > 120 || !delta_utf8_valid(label, strlen(label)))) {
        return HUB_E_ARG;
    }
    unsigned char hash[DEVICES_HASH_LEN];
    if (uuid7_now(id) != 0) {
        return HUB_E_STATE;
    }
    devices_new_code(code);
    devices_hash(code, hash);
    store_lock(s);
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(s, "SELECT 1 FROM villages WHERE code = ?1", &st);
    if (rc == 0) {
        sqlite3_bind_text(st, 1, village, -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_ROW ? 0 : HUB_E_NOT_FOUND;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc == 0) {
        rc =
            store_prepare(s,
                          "INSERT INTO devices (id, village, label, status, enroll_hash,"
                          " enroll_expires, created_ms) VALUES (?1, ?2, ?3, 'pending', ?4, ?5, ?6)",
                          &st);
    }
    if (rc == 0) {
        int64_t now = store_now(s);
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, village, -1, SQLITE_STATIC);
        if (label) {
            sqlite3_bind_text(st, 3, label, -1, SQLITE_STATIC);
        }
        sqlite3_bind_blob(st, 4, hash, sizeof hash, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, now + valid_ms);
        sqlite3_bind_int64(st, 6, now);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : HUB_E_DB;
    }
    sqlite3_finalize(st);
    store_unlock(s);
    return rc;
}

/* The device's code for case numbers: the first of rules_device_code(node,
 * 0, 1, ...) that no other device of the village holds. Inside the
 * caller's transaction. */
static int assign_case_code(struct store *s, const char *id, const char *village, uint64_t node,
                            char out[RULES_DEVICE_CODE_LEN + 1])
{
    sqlite3_stmt *taken = NULL, *set = NULL;
    int rc =
        store_prepare(s, "SELECT 1 FROM devices WHERE village = ?1 AND case_code = ?2", &taken);
    if (rc == 0) {
        rc = store_prepare(s, "UPDATE devices SET case_code = ?2 WHERE id = ?1", &set);
    }
    unsigned attempt = 0;
    for (; rc == 0 && attempt < 704; attempt++) {
        rules_device_code(node, attempt, out);
        sqlite3_reset(taken);
        sqlite3_bind_text(taken, 1, village, -1, SQLITE_STATIC);
        sqlite3_bind_text(taken, 2, out, -1, SQLITE_STATIC);
        int step = sqlite3_step(taken);
        if (step == SQLITE_DONE) {
            break;
        }
        if (step != SQLITE_ROW) {
            rc = HUB_E_DB;
        }
    }
    if (rc == 0 && attempt == 704) {
        rc = HUB_E_STATE; /* every code of the village is taken */
    }
    if (rc == 0) {
        sqlite3_bind_text(set, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(set, 2, out, -1, SQLITE_STATIC);
        rc = sqlite3_step(set) == SQLITE_DONE ? 0 : HUB_E_DB;
    }
    sqlite3_finalize(taken);
    sqlite3_finalize(set);
    if (rc != 0) {
        out[0] = '\0';
    }
    return rc;
}

int store_device_enroll(struct store *s, const char *id, const char *code, uint64_t node,
                        char secret[DEVICES_SECRET_LEN], struct store_device *out)
{
    unsigned char enroll_hash[DEVICES_HASH_LEN], secret_hash[DEVICES_HASH_LEN];
    unsigned char given[DEVICES_HASH_LEN];
    int has_enroll = 0, has_secret = 0;
    int64_t expires = 0;
    if (!id || !code || node == 0) {
        return HUB_E_ARG;
    }
    devices_hash(code, given);
    store_lock(s);
    sqlite3_stmt *st = NULL;
    int rc = load_device(s, id, out, enroll_hash, &has_enroll, &expires, secret_hash, &has_secret);
    if (rc == 0) {
        if (!strcmp(out->status, "revoked")) {
            rc = HUB_E_REVOKED;
        } else if (!has_enroll) {
            rc = HUB_E_USED;
        } else if (!devices_hash_equal(enroll_hash, given)) {
            rc = HUB_E_AUTH;
        } else if (store_now(s) > expires) {
            rc = HUB_E_EXPIRED;
        }
    }
    if (rc == 0 && sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        rc = HUB_E_DB;
    } else if (rc == 0) {
        devices_new_secret(secret);
        devices_hash(secret, secret_hash);
        rc = store_prepare(s,
                           "UPDATE devices SET status = 'active', node = ?2, enroll_hash = NULL,"
                           " secret_hash = ?3, enrolled_ms = ?4 WHERE id = ?1 AND enroll_hash"
                           " IS NOT NULL",
                           &st);
        if (rc == 0) {
            sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, (sqlite3_int64)node);
            sqlite3_bind_blob(st, 3, secret_hash, sizeof secret_hash, SQLITE_STATIC);
            sqlite3_bind_int64(st, 4, store_now(s));
            int step = sqlite3_step(st);
            if (step != SQLITE_DONE) {
                rc = sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_UNIQUE ? HUB_E_EXISTS
                                                                                 : HUB_E_DB;
            } else if (sqlite3_changes(s->db) != 1) {
                rc = HUB_E_USED;
            }
        }
        if (rc == 0) {
            rc = assign_case_code(s, id, out->village, node, out->case_code);
        }
        sqlite3_exec(s->db, rc == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
        if (rc == 0) {
            snprintf(out->status, sizeof out->status, "active");
            out->node = node;
        } else {
            sodium_memzero(secret, DEVICES_SECRET_LEN);
        }
    }
    sqlite3_finalize(st);
    store_unlock(s);
    return rc;
}

int store_device_auth(struct store *s, const char *id, const char *secret, struct store_device *out)
{
    unsigned char enroll_hash[DEVICES_HASH_LEN], secret_hash[DEVICES_HASH_LEN];
    unsigned char given[DEVICES_HASH_LEN];
    int has_enroll = 0, has_secret = 0;
    int64_t expires = 0;
    if (!id || !secret || !uuid7_valid(id)) {
        return HUB_E_AUTH;
    }
    devices_hash(secret, given);
    store_lock(s);
    int rc = load_device(s, id, out, enroll_hash, &has_enroll, &expires, secret_hash, &has_secret);
    store_unlock(s);
    if (rc != 0) {
        return rc;
    }
    if (!has_secret || !devices_hash_equal(secret_hash, given)) {
        return HUB_E_AUTH;
    }
    return strcmp(out->status, "revoked") == 0 ? HUB_E_REVOKED : 0;
}

int store_device_revoke(struct store *s, const char *id)
{
    store_lock(s);
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(s,
                           "UPDATE devices SET status = 'revoked', enroll_hash = NULL,"
                           " revoked_ms = coalesce(revoked_ms, ?2) WHERE id = ?1",
                           &st);
    if (rc == 0) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, store_now(s));
        rc = sqlite3_step(st) != SQLITE_DONE ? HUB_E_DB
             : sqlite3_changes(s->db) == 0   ? HUB_E_NOT_FOUND
                                             : 0;
    }
    sqlite3_finalize(st);
    store_unlock(s);
    return rc;
}

int store_device_list(struct store *s, const char *village,
                      int (*each)(void *ctx, const struct store_device *device), void *ctx)
{
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT %s,"
             " (SELECT count(*) FROM hub_log l WHERE l.device = devices.id"
             "  AND l.at_ms > coalesce(devices.last_sync_ms, 0)),"
             " (SELECT count(*) FROM hl_refused r WHERE r.node = devices.node)"
             " FROM devices WHERE ?1 IS NULL OR village = ?1"
             " ORDER BY village, created_ms, id",
             device_columns);
    store_lock(s);
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(s, sql, &st);
    if (rc == 0 && village) {
        sqlite3_bind_text(st, 1, village, -1, SQLITE_STATIC);
    }
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        struct store_device d;
        read_device(st, &d);
        d.errors = sqlite3_column_int64(st, 16);
        d.refused = sqlite3_column_int64(st, 17);
        rc = each(ctx, &d);
    }
    sqlite3_finalize(st);
    store_unlock(s);
    return rc;
}

static int log_locked(struct store *s, const char *device, const char *kind, const char *message)
{
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(s,
                           "INSERT INTO hub_log (at_ms, device, kind, message)"
                           " VALUES (?1, ?2, ?3, ?4)",
                           &st);
    if (rc == 0) {
        sqlite3_bind_int64(st, 1, store_now(s));
        if (device) {
            sqlite3_bind_text(st, 2, device, -1, SQLITE_STATIC);
        }
        sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, message, -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : HUB_E_DB;
    }
    sqlite3_finalize(st);
    return rc;
}

int store_log(struct store *s, const char *device, const char *kind, const char *message)
{
    store_lock(s);
    int rc = log_locked(s, device, kind, message);
    store_unlock(s);
    return rc;
}

/* ---- sync ---- */

int store_sync(struct store *s, const struct store_device *device, const struct delta *push,
               size_t max_pull, struct delta *reply, struct store_sync_result *result)
{
    char message[300];
    memset(result, 0, sizeof *result);
    if (push->node != device->node) {
        snprintf(message, sizeof message,
                 "push from node %016llx, but this device is enrolled as %016llx",
                 (unsigned long long)push->node, (unsigned long long)device->node);
        store_log(s, device->id, "origin", message);
        return SYNC_E_ORIGIN;
    }
    if (strcmp(push->part, device->village) != 0) {
        snprintf(message, sizeof message,
                 "asked for village \"%s\", but this device belongs to \"%s\"", push->part,
                 device->village);
        store_log(s, device->id, "foreign_pull", message);
        return SYNC_E_PARTITION;
    }
    store_lock(s);
    struct replica_apply_opts opts = {device->node, device->village, 1};
    size_t refused_before = reply->nrefused;
    int rc = replica_apply(s->replica, push, &opts, &result->apply, reply);
    if (rc == SYNC_E_ORIGIN) {
        log_locked(s, device->id, "origin",
                   "a pushed change was made by another node; the batch was refused");
    }
    for (size_t i = refused_before; rc == 0 && i < reply->nrefused; i++) {
        snprintf(message, sizeof message, "change %lld refused: %s",
                 (long long)reply->refused[i].seq, reply->refused[i].message);
        log_locked(s, device->id, "refused", message);
    }
    if (rc == 0) {
        struct hlc *clock = replica_clock(s->replica);
        reply->node = replica_node(s->replica);
        reply->time_ms = hlc_wall(clock);
        reply->clock = hlc_last(clock);
        reply->acked = result->apply.acked;
        reply->resume_from = result->apply.resume_from;
        reply->conflicts = (int64_t)result->apply.conflicts;
        size_t want = push->pull_bytes > 0 ? (size_t)push->pull_bytes : 0;
        if (want > max_pull) {
            want = max_pull;
        }
        if (want > 0) {
            size_t before = reply->nchanges;
            rc = replica_changes_since(s->replica, push->cursor, device->village, device->node,
                                       want, reply);
            result->sent = reply->nchanges - before;
        } else {
            reply->cursor = push->cursor;
        }
    }
    store_unlock(s);
    return rc;
}

int store_note_sync(struct store *s, const char *id, int64_t bytes_in, int64_t bytes_out,
                    const char *result, int64_t clock_offset_ms)
{
    store_lock(s);
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(s,
                           "UPDATE devices SET last_sync_ms = ?2, syncs = syncs + 1,"
                           " bytes_in = bytes_in + ?3, bytes_out = bytes_out + ?4,"
                           " last_result = ?5, clock_offset_ms = ?6 WHERE id = ?1",
                           &st);
    if (rc == 0) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, store_now(s));
        sqlite3_bind_int64(st, 3, bytes_in);
        sqlite3_bind_int64(st, 4, bytes_out);
        sqlite3_bind_text(st, 5, result, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, clock_offset_ms);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : HUB_E_DB;
    }
    sqlite3_finalize(st);
    store_unlock(s);
    return rc;
}

/* ---- conflicts ---- */

static void value_text(sqlite3_stmt *st, int col, char *out, size_t out_len)
{
    switch (sqlite3_column_type(st, col)) {
    case SQLITE_NULL:
        snprintf(out, out_len, "(empty)");
        break;
    case SQLITE_INTEGER:
        snprintf(out, out_len, "%lld", (long long)sqlite3_column_int64(st, col));
        break;
    case SQLITE_FLOAT:
        snprintf(out, out_len, "%.17g", sqlite3_column_double(st, col));
        break;
    default:
        store_copy_text(out, out_len, st, col);
    }
}

static const char conflict_sql[] =
    "SELECT c.id, c.tbl, c.row_id, c.col, c.part, c.standing_value, c.incoming_value,"
    " c.winner, c.created_ms, coalesce(c.resolved_ms, 0), coalesce(c.resolution, ''),"
    " coalesce((SELECT d.id FROM devices d WHERE d.node = c.standing_node), ''),"
    " coalesce((SELECT d.id FROM devices d WHERE d.node = c.incoming_node), '')"
    " FROM hl_conflict c";

static void read_conflict(sqlite3_stmt *st, struct store_conflict *c)
{
    memset(c, 0, sizeof *c);
    c->id = sqlite3_column_int64(st, 0);
    store_copy_text(c->table, sizeof c->table, st, 1);
    store_copy_text(c->row_id, sizeof c->row_id, st, 2);
    store_copy_text(c->column, sizeof c->column, st, 3);
    store_copy_text(c->village, sizeof c->village, st, 4);
    value_text(st, 5, c->standing, sizeof c->standing);
    value_text(st, 6, c->incoming, sizeof c->incoming);
    store_copy_text(c->winner, sizeof c->winner, st, 7);
    c->created_ms = sqlite3_column_int64(st, 8);
    c->resolved_ms = sqlite3_column_int64(st, 9);
    store_copy_text(c->resolution, sizeof c->resolution, st, 10);
    store_copy_text(c->standing_device, sizeof c->standing_device, st, 11);
    store_copy_text(c->incoming_device, sizeof c->incoming_device, st, 12);
}

int store_conflict_list(struct store *s, const char *village, int open_only,
                        int (*each)(void *ctx, const struct store_conflict *conflict), void *ctx)
{
    char sql[1024];
    snprintf(sql, sizeof sql,
             "%s WHERE (?1 IS NULL OR c.part = ?1) AND (?2 = 0 OR c.resolved_ms IS NULL)"
             " ORDER BY c.id",
             conflict_sql);
    store_lock(s);
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(s, sql, &st);
    if (rc == 0) {
        if (village) {
            sqlite3_bind_text(st, 1, village, -1, SQLITE_STATIC);
        }
        sqlite3_bind_int(st, 2, open_only);
    }
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        struct store_conflict c;
        read_conflict(st, &c);
        rc = each(ctx, &c);
    }
    sqlite3_finalize(st);
    store_unlock(s);
    return rc;
}

int store_conflict_get(struct store *s, int64_t id, struct store_conflict *out)
{
    char sql[1024];
    snprintf(sql, sizeof sql, "%s WHERE c.id = ?1", conflict_sql);
    store_lock(s);
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(s, sql, &st);
    if (rc == 0) {
        sqlite3_bind_int64(st, 1, id);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            read_conflict(st, out);
        } else {
            rc = step == SQLITE_DONE ? SYNC_E_NOT_FOUND : HUB_E_DB;
        }
    }
    sqlite3_finalize(st);
    store_unlock(s);
    return rc;
}

/* The value to write for a decision, typed as the field's column. */
static int decision_value(struct store *s, int64_t id, const char *choice, const char *text,
                          struct sync_value *out, char **owned)
{
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(s,
                           "SELECT tbl, col, standing_value, incoming_value FROM hl_conflict"
                           " WHERE id = ?1",
                           &st);
    if (rc != 0) {
        return rc;
    }
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return SYNC_E_NOT_FOUND;
    }
    const struct schema *schema = ledger_schema_get();
    int t = schema_table(schema, (const char *)sqlite3_column_text(st, 0));
    int c =
        t < 0 ? -1 : schema_column(&schema->tables[t], (const char *)sqlite3_column_text(st, 1));
    if (c < 0) {
        sqlite3_finalize(st);
        return SYNC_E_STATE;
    }
    enum sync_type type = schema->tables[t].columns[c].type;
    memset(out, 0, sizeof *out);
    if (!strcmp(choice, "standing") || !strcmp(choice, "incoming")) {
        int col = !strcmp(choice, "standing") ? 2 : 3;
        if (sqlite3_column_type(st, col) != SQLITE_NULL) {
            out->type = type;
            out->i = sqlite3_column_int64(st, col);
            out->r = sqlite3_column_double(st, col);
            const char *v = (const char *)sqlite3_column_text(st, col);
            *owned = v ? strdup(v) : NULL;
            out->s = *owned;
            rc = type == SYNC_TEXT && !*owned ? HUB_E_NOMEM : 0;
        }
    } else if (!strcmp(choice, "value") && text) {
        char *end = NULL;
        out->type = type;
        if (type == SYNC_TEXT) {
            *owned = strdup(text);
            out->s = *owned;
            rc = *owned ? 0 : HUB_E_NOMEM;
        } else if (type == SYNC_INT) {
            out->i = strtoll(text, &end, 10);
            rc = end != text && *end == '\0' ? 0 : HUB_E_ARG;
        } else {
            out->r = strtod(text, &end);
            rc = end != text && *end == '\0' ? 0 : HUB_E_ARG;
        }
    } else {
        rc = HUB_E_ARG;
    }
    sqlite3_finalize(st);
    return rc;
}

int store_conflict_resolve(struct store *s, int64_t id, const char *choice, const char *value,
                           const char *who)
{
    char *owned = NULL;
    struct sync_value v;
    store_lock(s);
    int rc = decision_value(s, id, choice ? choice : "", value, &v, &owned);
    if (rc == 0) {
        char resolution[256];
        snprintf(resolution, sizeof resolution, "%s kept %s%s%s", who ? who : "a reviewer", choice,
                 value ? ": " : "", value ? value : "");
        rc = replica_resolve_conflict(s->replica, id, &v, resolution);
        if (rc == SYNC_E_FIELD_TYPE) {
            rc = HUB_E_ARG;
        }
    }
    free(owned);
    store_unlock(s);
    return rc;
}

/* ---- history and export ---- */

struct history_ctx {
    struct store *s;
    sqlite3_stmt *device;
    int (*each)(void *ctx, const struct store_history_entry *entry);
    void *ctx;
};

static int history_one(void *ctx, const struct replica_history_entry *h)
{
    static const char *const ops[] = {"?", "put", "append", "delete"};
    struct history_ctx *hc = ctx;
    const struct change *c = h->change;
    char *body = NULL;
    if (delta_change_json(replica_schema(hc->s->replica), c, &body) != 0) {
        return HUB_E_NOMEM;
    }
    sqlite3_bind_int64(hc->device, 1, (sqlite3_int64)c->node);
    int found = sqlite3_step(hc->device) == SQLITE_ROW;
    struct store_history_entry e = {
        .pos = h->pos,
        .received_ms = h->received_ms,
        .hlc = c->hlc,
        .device = found ? (const char *)sqlite3_column_text(hc->device, 0) : "hub",
        .op = c->op >= CHANGE_PUT && c->op <= CHANGE_DELETE ? ops[c->op] : ops[0],
        .body = body,
    };
    int rc = hc->each(hc->ctx, &e);
    sqlite3_reset(hc->device);
    free(body);
    return rc;
}

int store_history(struct store *s, const char *table, const char *id,
                  int (*each)(void *ctx, const struct store_history_entry *entry), void *ctx)
{
    store_lock(s);
    struct history_ctx hc = {s, NULL, each, ctx};
    int rc = store_prepare(s, "SELECT id FROM devices WHERE node = ?1", &hc.device);
    if (rc == 0) {
        rc = replica_history(s->replica, table, id, history_one, &hc);
        if (rc == SYNC_E_NOMEM) {
            rc = HUB_E_NOMEM;
        } else if (rc == SYNC_E_UNKNOWN_TABLE) {
            rc = HUB_E_ARG;
        } else if (rc == SYNC_E_DB) {
            rc = HUB_E_DB;
        }
    }
    sqlite3_finalize(hc.device);
    store_unlock(s);
    return rc;
}

int store_export(struct store *s, const char *village, unsigned flags,
                 int (*write)(void *ctx, const char *data, size_t len), void *ctx)
{
    store_lock(s);
    int rc = ledger_io_export_jsonl(s->replica, village, flags, write, ctx);
    store_unlock(s);
    return rc;
}

int store_with_ledger(struct store *s, int (*fn)(struct replica *replica, void *ctx), void *ctx)
{
    if (!s || !fn) {
        return HUB_E_ARG;
    }
    store_lock(s);
    int rc = fn(s->replica, ctx);
    store_unlock(s);
    return rc;
}

/* ---- online backup ---- */

/* Copy s's database into the open connection dest in one step (one read
 * transaction), retrying while another process holds a lock that stops
 * it. Returns an SQLite result code. */
static int backup_copy(struct store *s, sqlite3 *dest)
{
    sqlite3_backup *b = sqlite3_backup_init(dest, "main", s->db, "main");
    if (!b) {
        return sqlite3_errcode(dest);
    }
    int rc;
    for (int waited = 0;; waited += 50) {
        rc = sqlite3_backup_step(b, -1);
        if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || waited >= STORE_BACKUP_BUSY_MS) {
            break;
        }
        struct timespec tick = {0, 50 * 1000000L};
        nanosleep(&tick, NULL);
    }
    int done = sqlite3_backup_finish(b);
    return rc == SQLITE_DONE ? done : rc;
}

int store_backup(struct store *s, const char *path, char *why, size_t why_len)
{
    char tmp[4096];
    int n = snprintf(tmp, sizeof tmp, "%s.part", path);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        snprintf(why, why_len, "the backup path is longer than %zu bytes", sizeof tmp - 6);
        return HUB_E_ARG;
    }
    if (access(path, F_OK) == 0) {
        snprintf(why, why_len, "%s exists already; choose a new name", path);
        return HUB_E_EXISTS;
    }
    /* A file of our own, private from the start (it holds personal data);
     * a leftover .part of a failed run is reported, not overwritten. */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(why, why_len, "cannot create %s: %s", tmp, strerror(errno));
        return HUB_E_IO;
    }
    close(fd);
    sqlite3 *dest = NULL;
    int rc = HUB_E_DB;
    if (sqlite3_open_v2(tmp, &dest, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        snprintf(why, why_len, "cannot open %s: %s", tmp, sqlite3_errmsg(dest));
        goto fail;
    }
    store_lock(s);
    int src = backup_copy(s, dest);
    store_unlock(s);
    if (src != SQLITE_OK) {
        snprintf(why, why_len, "the backup into %s failed: %s", tmp,
                 src == SQLITE_BUSY || src == SQLITE_LOCKED ? "the database stayed busy; try again"
                                                            : sqlite3_errstr(src));
        goto fail;
    }
    sqlite3_stmt *st = NULL;
    int ok = sqlite3_prepare_v2(dest, "PRAGMA quick_check", -1, &st, NULL) == SQLITE_OK &&
             sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) &&
             !strcmp((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    if (!ok) {
        snprintf(why, why_len, "the copy in %s does not pass its check: %s", tmp,
                 sqlite3_errmsg(dest));
        goto fail;
    }
    if (sqlite3_close(dest) != SQLITE_OK) {
        snprintf(why, why_len, "cannot close %s", tmp);
        dest = NULL;
        goto fail;
    }
    dest = NULL;
    rc = HUB_E_IO;
    fd = open(tmp, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        snprintf(why, why_len, "cannot flush %s: %s", tmp, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        goto fail;
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        snprintf(why, why_len, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        goto fail;
    }
    return 0;
fail:
    sqlite3_close(dest);
    unlink(tmp);
    return rc;
}
