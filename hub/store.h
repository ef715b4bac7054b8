/* SPDX-License-Identifier: MIT */
/*
 * store.h - the hub's storage, behind one narrow interface.
 *
 * Everything the hub keeps goes through these functions: villages and
 * devices, applying a device's batch and reading the changes it should
 * have, conflicts, the history of a record, the export. The embedded
 * implementation (store.c) is one SQLite file holding the engine's replica;
 * a deployment that outgrows one machine gets a second implementation of
 * this header on PostgreSQL, and nothing above it changes (DESIGN.md,
 * "Scale"). Every function is safe to call from several threads: the store
 * serialises them.
 */
#ifndef HAMLET_STORE_H
#define HAMLET_STORE_H

#include "delta.h"
#include "devices.h"
#include "replica.h"
#include "rules.h"
#include "uuid7.h"

#include <stddef.h>
#include <stdint.h>

struct store; /* opaque */

struct store_device {
    char id[UUID7_STRLEN + 1];
    char village[DELTA_MAX_PART + 1];
    char label[128];
    char status[16]; /* pending | active | revoked */
    uint64_t node;   /* 0 until enrolled */
    int64_t created_ms, enrolled_ms, revoked_ms, last_sync_ms, clock_offset_ms;
    int64_t syncs, bytes_in, bytes_out;
    char last_result[64];
    char case_code[RULES_DEVICE_CODE_LEN + 1]; /* for case numbers; "" until enrolled */
    char village_name[128];                    /* as people call the village: 白沙村 */
};

struct store_conflict {
    int64_t id;
    char table[64];
    char row_id[UUID7_STRLEN + 1];
    char column[64];
    char village[DELTA_MAX_PART + 1];
    char standing[512];                     /* the value standing when the other arrived, as text */
    char incoming[512];                     /* the value that arrived */
    char standing_device[UUID7_STRLEN + 1]; /* who wrote each ("" if unknown) */
    char incoming_device[UUID7_STRLEN + 1];
    char winner[16]; /* standing | incoming */
    int64_t created_ms, resolved_ms;
    char resolution[256];
};

struct store_history_entry {
    int64_t pos;         /* order of arrival at the hub */
    int64_t received_ms; /* hub time */
    uint64_t hlc;        /* the change's clock */
    const char *device;  /* device id, or "hub" */
    const char *op;      /* put | append | delete */
    const char *body;    /* the change as PROTOCOL.md encodes it */
};

/* store_open(path, create, out, why, why_len): open the hub's database at
 * path; with create 0 it must exist already (a mistyped --db is an error,
 * not a new empty hub). Returns 0, HUB_E_NOT_FOUND, or an engine error with
 * the reason in why. Free with store_close(). */
int store_open(const char *path, int create, struct store **out, char *why, size_t why_len);
void store_close(struct store *store); /* accepts NULL */

/* The wall clock of the hub, Unix ms. */
int64_t store_now(struct store *store);

/* ---- villages ---- */

/* store_village_add(store, code, name): HUB_E_EXISTS, HUB_E_ARG (code empty,
 * over 64 bytes, not UTF-8, or with control characters or spaces). */
int store_village_add(struct store *store, const char *code, const char *name);

/* store_village_list(store, each, ctx): every village in code order with
 * its number of devices and of cases; each() returns 0 to go on. */
int store_village_list(struct store *store,
                       int (*each)(void *ctx, const char *code, const char *name, int64_t devices,
                                   int64_t cases),
                       void *ctx);

/* ---- devices ---- */

/* store_device_add(store, village, label, valid_ms, id, code): register a
 * device of the village, pending enrolment; id gets its id and code the
 * one-time enrolment code (valid for valid_ms). HUB_E_NOT_FOUND for an
 * unknown village. */
int store_device_add(struct store *store, const char *village, const char *label, int64_t valid_ms,
                     char id[UUID7_STRLEN + 1], char code[DEVICES_CODE_LEN]);

/* store_device_enroll(store, id, code, node, secret, out): exchange the
 * one-time code for the device's credential (written to secret), binding
 * the device to the replica node. HUB_E_AUTH (unknown device or wrong
 * code), HUB_E_USED, HUB_E_EXPIRED, HUB_E_REVOKED, HUB_E_EXISTS (another
 * device holds that node). */
int store_device_enroll(struct store *store, const char *id, const char *code, uint64_t node,
                        char secret[DEVICES_SECRET_LEN], struct store_device *out);

/* store_device_auth(store, id, secret, out): the device whose credential
 * this is. HUB_E_AUTH, HUB_E_REVOKED. */
int store_device_auth(struct store *store, const char *id, const char *secret,
                      struct store_device *out);

/* store_device_revoke(store, id): effective at the device's next request.
 * HUB_E_NOT_FOUND; revoking twice is not an error. */
int store_device_revoke(struct store *store, const char *id);

/* store_device_list(store, village, each, ctx): devices (of village, or all
 * when NULL) by village then creation. */
int store_device_list(struct store *store, const char *village,
                      int (*each)(void *ctx, const struct store_device *device), void *ctx);

/* store_log(store, device, kind, message): record a refusal or an
 * authentication failure for the township's review. */
int store_log(struct store *store, const char *device, const char *kind, const char *message);

/* ---- sync ---- */

struct store_sync_result {
    struct replica_apply_result apply;
    size_t sent; /* changes put in the reply */
};

/* store_sync(store, device, push, max_pull, reply, result): one sync of an
 * authenticated device: apply its push (only its own village's records;
 * others are refused one by one and logged), then fill reply with the
 * acknowledgement, the hub's time and clock, and the changes of its village
 * after push->cursor, up to min(push->pull_bytes, max_pull) bytes. Returns 0,
 * SYNC_E_ORIGIN (changes not made by the device's node), SYNC_E_PARTITION
 * (the push names another village), or an engine error. */
int store_sync(struct store *store, const struct store_device *device, const struct delta *push,
               size_t max_pull, struct delta *reply, struct store_sync_result *result);

/* store_note_sync(store, id, bytes_in, bytes_out, result, clock_offset_ms):
 * remember a device's last sync, its data use and its clock offset. */
int store_note_sync(struct store *store, const char *id, int64_t bytes_in, int64_t bytes_out,
                    const char *result, int64_t clock_offset_ms);

/* ---- conflicts ---- */

/* store_conflict_list(store, village, open_only, each, ctx): conflicts by id. */
int store_conflict_list(struct store *store, const char *village, int open_only,
                        int (*each)(void *ctx, const struct store_conflict *conflict), void *ctx);

/* store_conflict_get(store, id, out): SYNC_E_NOT_FOUND if none. */
int store_conflict_get(struct store *store, int64_t id, struct store_conflict *out);

/* store_conflict_resolve(store, id, choice, value, who): decide a conflict:
 * choice "standing" or "incoming" keeps that side's value; "value" writes
 * value (text, converted to the field's type). The decision is an ordinary
 * change that reaches the village at its next sync. who is recorded. Errors:
 * SYNC_E_NOT_FOUND, SYNC_E_STATE (resolved already), HUB_E_ARG (bad choice
 * or a value the field cannot hold). */
int store_conflict_resolve(struct store *store, int64_t id, const char *choice, const char *value,
                           const char *who);

/* ---- history and export ---- */

/* store_history(store, table, id, each, ctx): every change received for a
 * record, in order of arrival. */
int store_history(struct store *store, const char *table, const char *id,
                  int (*each)(void *ctx, const struct store_history_entry *entry), void *ctx);

/* store_export(store, village, flags, write, ctx): the merged ledger of a
 * village (NULL: all) in the JSON Lines shape of the reference data, byte
 * for byte what a device of that village exports with the same flags
 * (LEDGER_IO_MASK: numbers masked). */
int store_export(struct store *store, const char *village, unsigned flags,
                 int (*write)(void *ctx, const char *data, size_t len), void *ctx);

/* ---- the ledger's rules ---- */

/* store_with_ledger(store, fn, ctx): call fn(replica, ctx) with the merged
 * ledger, holding the store's lock, and return what fn returned. The
 * ledger's modules (casefile.h, workflow.h, township_rules.h) read and
 * write through it; a change made there is an ordinary change of the hub,
 * sent to the case's village at its next sync. fn must not keep replica. */
int store_with_ledger(struct store *store, int (*fn)(struct replica *replica, void *ctx),
                      void *ctx);

#endif
