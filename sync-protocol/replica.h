/* SPDX-License-Identifier: MIT */
/*
 * replica.h - one replica of the replicated tables in one SQLite file.
 *
 * A replica is what a village laptop or the township hub holds: the
 * application's tables, a stamp for every field, and the journal (hl_run,
 * by runs of changes; journal.h) of every change made or received. Local writes go through
 * replica_put(), replica_append() and replica_delete(): the row, its stamps and its journal entry
 * commit in one transaction (DESIGN.md rule 2). Changes from other replicas go through
 * replica_apply(), which merges field by field (rule 3), keeps appended rows (rule 4), records
 * concurrent edits when asked (rule 5) and acknowledges by (node, sequence) (rule 6). Two replicas
 * that applied the same changes, in any order and any number of times, export the same bytes.
 *
 * A replica is used by one thread at a time.
 */
#ifndef HAMLET_REPLICA_H
#define HAMLET_REPLICA_H

#include "delta.h"
#include "migrate.h"
#include "schema.h"

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

struct replica; /* opaque: fields live in replica.c */

struct replica_config {
    const struct schema *schema;        /* the replicated tables */
    const char *component;              /* the application's migration name */
    const struct migration *migrations; /* the application's migrations */
    size_t nmigrations;
    int64_t max_drift_ms; /* clock drift accepted from others */
    int keep_conflicts;   /* 1: record concurrent edits (the hub) */
};

/* replica_open(path, config, out, why, why_len): open or create the replica
 * at path (":memory:" for a private one): WAL mode, foreign keys, a busy
 * timeout; the engine's and the application's migrations applied; the
 * tables checked against the schema; a node id made on first open. The
 * config and its schema must outlive the replica. Returns 0 and *out (free
 * with replica_close()), or SYNC_E_DB, SYNC_E_MIGRATION, SYNC_E_SCHEMA,
 * SYNC_E_NOMEM with the reason in why. */
int replica_open(const char *path, const struct replica_config *config, struct replica **out,
                 char *why, size_t why_len);
void replica_close(struct replica *replica); /* accepts NULL */

/* The replica's SQLite connection, for the application's own queries. It
 * must not write the replicated tables except through this module. */
sqlite3 *replica_db(struct replica *replica);
uint64_t replica_node(const struct replica *replica);
struct hlc *replica_clock(struct replica *replica);
const struct schema *replica_schema(const struct replica *replica);

/* replica_errmsg(replica): the detail of the last SYNC_E_DB, from SQLite. */
const char *replica_errmsg(struct replica *replica);

/* ---- transactions ----
 * Every write call below runs in its own transaction unless the caller
 * opened one with replica_begin(); then all commit or roll back together.
 * Units of work nest: a replica_begin() inside another opens a savepoint,
 * whose replica_commit() keeps its writes for the outer unit and whose
 * replica_rollback() undoes only them. replica_commit() without a unit
 * open is SYNC_E_STATE. */
int replica_begin(struct replica *replica);
int replica_commit(struct replica *replica);
void replica_rollback(struct replica *replica);

/* ---- local writes ---- */

/* replica_put(replica, table, id, part, n, columns, values, changed): set n
 * fields of a record, creating it in partition part if it is new. id is the
 * record's UUID, or a derivation "<uuid>/<label>" (uuid7_from_valid()): the
 * record is then uuid7_derive(id), and the change carries the derivation so
 * that syncs need not send the id (PROTOCOL.md 1, 5.2). Fields
 * whose value is unchanged are not recorded; if none changed, nothing is
 * written and *changed (if given) is 0, else 1. Errors: SYNC_E_UNKNOWN_TABLE,
 * SYNC_E_UNKNOWN_COLUMN, SYNC_E_FIELD_TYPE (value of the wrong type, text
 * too long or not UTF-8, an integer beyond +-2^53), SYNC_E_PARTITION (the record is in another
 * partition), SYNC_E_IMMUTABLE (a set-once field already set to another value), SYNC_E_APPEND_ONLY,
 * SYNC_E_HLC_OVERFLOW, SYNC_E_DB. Nothing is written on error. */
int replica_put(struct replica *replica, const char *table, const char *id, const char *part,
                size_t n, const char *const *columns, const struct sync_value *values,
                int *changed);

/* replica_append(replica, table, id, part, n, columns, values): write a row
 * of an append-only table (id as for replica_put()). Writing an identical row again does nothing;
 * another row under an existing id is SYNC_E_APPEND_ONLY. Other errors as
 * replica_put(). */
int replica_append(struct replica *replica, const char *table, const char *id, const char *part,
                   size_t n, const char *const *columns, const struct sync_value *values);

/* replica_delete(replica, table, id): set the record's tombstone (id a
 * UUID: a derivation is SYNC_E_ARG). Deleting
 * a deleted record does nothing. Errors: SYNC_E_NOT_FOUND,
 * SYNC_E_APPEND_ONLY, and those of replica_put(). */
int replica_delete(struct replica *replica, const char *table, const char *id);

/* replica_record_part(replica, table, id, out): the record's partition into
 * out (DELTA_MAX_PART + 1 bytes). Returns 0, SYNC_E_NOT_FOUND,
 * SYNC_E_UNKNOWN_TABLE or SYNC_E_DB. */
int replica_record_part(struct replica *replica, const char *table, const char *id, char *out);

/* ---- sending ---- */

/* replica_pending(replica, after_seq, max_bytes, out): append to out this
 * replica's own changes with seq > after_seq, in order, until their encoded
 * size would pass max_bytes (at least one change if any waits). Returns 0,
 * SYNC_E_NOMEM or SYNC_E_DB. */
int replica_pending(struct replica *replica, int64_t after_seq, size_t max_bytes,
                    struct delta *out);

/* replica_own_seq(replica): the sequence number of this replica's latest
 * own change (0 for none), as the database holds it now. */
int64_t replica_own_seq(struct replica *replica);

/* replica_changes_since(replica, cursor, part, exclude_node, max_bytes, out):
 * append to out the changes of partition part (NULL: all) that this replica
 * applied after journal position cursor, except those made by exclude_node
 * (0: none), until their size would pass max_bytes (at least one). Sets
 * out->cursor to the position to ask from next time and out->more to 1 if
 * changes remain. Returns 0, SYNC_E_NOMEM or SYNC_E_DB. */
int replica_changes_since(struct replica *replica, int64_t cursor, const char *part,
                          uint64_t exclude_node, size_t max_bytes, struct delta *out);

/* ---- history ---- */

/* One change of a record's history. */
struct replica_history_entry {
    int64_t pos;                 /* its position in this replica's journal */
    int64_t received_ms;         /* when this replica journaled it */
    const struct change *change; /* with the values it wrote; valid during
                                    the call only */
};

/* replica_history(replica, table, id, each, ctx): call each(ctx, entry) for
 * every change of the record this replica journaled, in journal order,
 * whether it won its fields or not. A record without changes has none.
 * Returns 0, SYNC_E_UNKNOWN_TABLE, SYNC_E_NOMEM, SYNC_E_DB (also for a
 * damaged journal), or the first nonzero value each returned. */
int replica_history(struct replica *replica, const char *table, const char *id,
                    int (*each)(void *ctx, const struct replica_history_entry *entry), void *ctx);

/* ---- receiving ---- */

struct replica_apply_opts {
    uint64_t sender;  /* the node the delta comes from (authenticated) */
    const char *part; /* only changes of this partition are accepted; NULL: any */
    int contiguous;   /* 1: a push; changes must be the sender's own, in
                         sequence order, and a gap stops the batch */
};

struct replica_apply_result {
    int64_t acked;       /* contiguous: every seq up to this is held */
    int64_t resume_from; /* contiguous: a gap; resend from this seq (0: none) */
    size_t applied;      /* changes newly applied */
    size_t duplicates;   /* changes already held, skipped */
    size_t refused;      /* changes refused one by one (see refusals) */
    size_t conflicts;    /* conflict records raised */
};

/* replica_apply(replica, in, opts, result, refusals): merge the changes of
 * delta in, all in one transaction. Changes already held are skipped, so
 * applying a delta twice changes nothing. A change of another partition
 * than opts->part, or of a record that lives in another partition, is
 * refused alone: recorded in hl_refused, added to refusals (if given) and,
 * when contiguous, acknowledged, so that the rest still arrives. Returns 0,
 * or SYNC_E_ORIGIN (a pushed change made by another node: nothing applied),
 * SYNC_E_DB, SYNC_E_NOMEM (nothing applied). */
int replica_apply(struct replica *replica, const struct delta *in,
                  const struct replica_apply_opts *opts, struct replica_apply_result *result,
                  struct delta *refusals);

/* replica_acked(replica, node): every change of node up to the returned seq
 * has been applied here (0: none). Negative on SYNC_E_DB. */
int64_t replica_acked(struct replica *replica, uint64_t node);

/* ---- conflicts ---- */

/* replica_resolve_conflict(replica, conflict, value, resolution): a
 * reviewer's decision on a conflict record: the field gets value as a new
 * ordinary write (so it travels to every replica like any other change) and
 * every open conflict on that field is marked resolved with the text
 * resolution (who decided what, for the history). Returns 0,
 * SYNC_E_NOT_FOUND, SYNC_E_STATE (already resolved, or a tombstone
 * conflict), or an error of replica_put(). */
int replica_resolve_conflict(struct replica *replica, int64_t conflict,
                             const struct sync_value *value, const char *resolution);

/* ---- small persistent facts (cursor, acknowledgement, settings) ---- */

/* replica_meta_int(replica, key, fallback): the integer stored under key, or
 * fallback when absent. replica_set_meta_int(): store one (0 or SYNC_E_DB).
 * Keys starting with "hl." belong to the engine. */
int64_t replica_meta_int(struct replica *replica, const char *key, int64_t fallback);
int replica_set_meta_int(struct replica *replica, const char *key, int64_t value);

/* replica_meta_text(replica, key, out, out_len): the text stored under key
 * into out. Returns 0, SYNC_E_NOT_FOUND or SYNC_E_DB.
 * replica_set_meta_text(): store one. */
int replica_meta_text(struct replica *replica, const char *key, char *out, size_t out_len);
int replica_set_meta_text(struct replica *replica, const char *key, const char *value);

/* ---- export ---- */

/* replica_export(replica, part, write, ctx): the canonical export of
 * partition part (NULL: all): one JSON object a line for every row of every
 * table, tables in schema order, rows by id, fields in schema order, deleted
 * rows included with "deleted":1. Replicas that hold the same changes write
 * the same bytes. write(ctx, line, len) gets each line with its newline and
 * returns 0 to go on. Returns 0, what write returned, SYNC_E_NOMEM or
 * SYNC_E_DB. */
int replica_export(struct replica *replica, const char *part,
                   int (*write)(void *ctx, const char *line, size_t len), void *ctx);

#endif
