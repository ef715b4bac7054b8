/* SPDX-License-Identifier: MIT */
/*
 * store.h - the hub's storage, behind one narrow interface.
 *
 * Everything the hub keeps goes through these functions: villages and
 * devices, applying a device's batch and reading the changes it should
 * have, conflicts, the history of a record, the export, and the township's
 * accounts with their sessions (store_users.c). The embedded
 * implementation (store.c) is one SQLite file holding the engine's replica;
 * a deployment that outgrows one machine gets a second implementation of
 * this header on PostgreSQL, and nothing above it changes (DESIGN.md,
 * "Scale"). Every function is safe to call from several threads: the store
 * serialises them.
 */
#ifndef HAMLET_STORE_H
#define HAMLET_STORE_H

#include "auth.h"
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
    /* Only store_device_list() fills these two (0 elsewhere): */
    int64_t errors;  /* refusals and failures logged since its last good sync */
    int64_t refused; /* changes of its node the hub refused (hl_refused) */
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

/* store_backup(store, path, why, why_len): an online copy of the whole
 * database into a new file at path, with SQLite's backup API: one read
 * transaction, so the copy is one consistent moment even while a serving
 * hub (another process) keeps writing; writers are not blocked (WAL). The
 * copy is written beside path, checked (PRAGMA quick_check), flushed to
 * disk and renamed into place, so path never holds half a copy; it is
 * readable by its owner only. Returns 0, HUB_E_EXISTS (path exists),
 * HUB_E_IO (cannot create, write or rename), HUB_E_DB (the copy failed,
 * or the database stayed busy for STORE_BACKUP_BUSY_MS), with the reason in
 * why. */
#define STORE_BACKUP_BUSY_MS 30000
int store_backup(struct store *store, const char *path, char *why, size_t why_len);

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

/* ---- the township's accounts ---- */

/* A session ends after STORE_SESSION_IDLE_MS without a request (a working
 * day: a reviewer who leaves the office signs in again the next morning),
 * and STORE_SESSION_MAX_MS after it began however busy it is. */
#define STORE_SESSION_IDLE_MS ((int64_t)8 * 3600 * 1000)
#define STORE_SESSION_MAX_MS  ((int64_t)7 * 86400 * 1000)

struct store_user {
    int64_t id;
    char name[AUTH_NAME_MAX + 1];
    char role[16];           /* reviewer | admin */
    int disabled;            /* 1: may not sign in */
    int64_t failures;        /* failed logins since the last success */
    int64_t created_ms;      /* Unix ms, hub time */
    int64_t last_login_ms;   /* 0: never */
    int64_t locked_until_ms; /* 0: not locked (or locked in the past) */
};

/* store_user_add(store, name, role, pw_hash): a new account; pw_hash from
 * auth_hash_password(). Recorded in the auth log (user_added). Returns 0,
 * HUB_E_EXISTS (the name is taken, by a disabled account too), HUB_E_ARG
 * (name not auth_name_valid(), role not "reviewer" or "admin", or pw_hash
 * not an Argon2id hash). */
int store_user_add(struct store *store, const char *name, const char *role, const char *pw_hash);

/* store_user_list(store, each, ctx): every account, disabled ones too, by
 * name; each() returns 0 to go on (its non-zero return is returned). */
int store_user_list(struct store *store, int (*each)(void *ctx, const struct store_user *user),
                    void *ctx);

/* store_user_disable(store, name): the account can no longer sign in, and
 * its open sessions end now. Recorded in the auth log (user_disabled).
 * Disabling twice is not an error. HUB_E_NOT_FOUND for an unknown name. */
int store_user_disable(struct store *store, const char *name);

/* store_login(store, name, password, remote, out, retry_after_s): check a
 * sign-in from remote (the client's address, or NULL), in this order:
 *   - a locked account is refused without looking at the password:
 *     HUB_E_STATE, with *retry_after_s the seconds until the lock lifts;
 *   - an unknown name (or one that is not valid) and a wrong password are
 *     both HUB_E_AUTH, and take the same time: an unknown name is checked
 *     against auth_dummy_hash(). A wrong password counts a failure, and
 *     auth_lockout_delay_s() of the count locks the account;
 *   - the right password of a disabled account: HUB_E_REVOKED;
 *   - otherwise 0: out is the account, its failures are reset.
 * Every attempt is recorded in the auth log (login_ok, login_failed,
 * locked, disabled). The password is hashed outside the store's lock, so
 * that syncs do not wait for it. out and retry_after_s may be NULL. */
int store_login(struct store *store, const char *name, const char *password, const char *remote,
                struct store_user *out, unsigned *retry_after_s);

/* store_login_at(store, now_ms, ...): store_login() as if the hub's clock
 * read now_ms (Unix ms): for tests of the lock, and callers that hold the
 * time already. */
int store_login_at(struct store *store, int64_t now_ms, const char *name, const char *password,
                   const char *remote, struct store_user *out, unsigned *retry_after_s);

/* store_session_new(store, user_id, ttl_ms, token, csrf): open a session of
 * the account for at most ttl_ms (cut to STORE_SESSION_MAX_MS). token gets
 * the secret for the session cookie and csrf the token that state-changing
 * requests must carry; the store keeps only the token's hash. Sessions past
 * their end are removed on the way. Returns 0, HUB_E_ARG (ttl_ms <= 0),
 * HUB_E_NOT_FOUND (no such account), HUB_E_REVOKED (it is disabled). */
int store_session_new(struct store *store, int64_t user_id, int64_t ttl_ms,
                      char token[AUTH_TOKEN_LEN], char csrf[AUTH_TOKEN_LEN]);

/* store_session_get(store, token, user, csrf): the account of a session
 * cookie's token and the session's CSRF token (user and csrf may be NULL).
 * The session's idle time starts again (STORE_SESSION_IDLE_MS). Returns 0,
 * or HUB_E_AUTH when the token is malformed or unknown, the session has
 * ended (idle too long, or past its end: it is removed then), or the
 * account is disabled. */
int store_session_get(struct store *store, const char *token, struct store_user *user,
                      char csrf[AUTH_TOKEN_LEN]);

/* store_session_get_at(store, token, now_ms, user, csrf): the same, as if
 * the hub's clock read now_ms. */
int store_session_get_at(struct store *store, const char *token, int64_t now_ms,
                         struct store_user *user, char csrf[AUTH_TOKEN_LEN]);

/* store_session_end(store, token): end a session (sign-out). Ending a
 * session that does not exist, or no longer does, is not an error. */
int store_session_end(struct store *store, const char *token);

/* store_auth_log(store, user, kind, message, remote): record in the auth
 * log. user (a name) and remote may be NULL; kind is one of login_ok,
 * login_failed, locked, disabled, logout, user_added, user_disabled,
 * decision (others: HUB_E_ARG). */
int store_auth_log(struct store *store, const char *user, const char *kind, const char *message,
                   const char *remote);

#endif
