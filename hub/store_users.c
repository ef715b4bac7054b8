/* SPDX-License-Identifier: MIT */
/*
 * store_users.c - the township's accounts in the hub's SQLite file: the
 * users, their sessions, and the auth log (migration 0003). The store's
 * lock is held for the reads and writes only, never while a password is
 * hashed: an Argon2id check takes tens of milliseconds, and the villages'
 * syncs must not queue behind a sign-in.
 */
#include "store_int.h"

#include "auth.h"
#include "hub_error.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

static const char *const log_kinds[] = {"login_ok", "login_failed", "locked",        "disabled",
                                        "logout",   "user_added",   "user_disabled", "decision"};

static int kind_known(const char *kind)
{
    for (size_t i = 0; kind && i < sizeof log_kinds / sizeof log_kinds[0]; i++) {
        if (!strcmp(kind, log_kinds[i])) {
            return 1;
        }
    }
    return 0;
}

static int role_known(const char *role)
{
    return role && (!strcmp(role, "reviewer") || !strcmp(role, "admin"));
}

/* The hub's clock, read under the lock like every other use of it. */
static int64_t now_ms(struct store *s)
{
    store_lock(s);
    int64_t now = store_now(s);
    store_unlock(s);
    return now;
}

/* Open a write transaction; 0 or HUB_E_DB. */
static int begin(struct store *s)
{
    return sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK ? 0 : HUB_E_DB;
}

/* Commit when rc is 0, else roll back; returns rc, or HUB_E_DB when the
 * commit failed. */
static int finish(struct store *s, int rc)
{
    if (rc == 0 && sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK) {
        return 0;
    }
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc != 0 ? rc : HUB_E_DB;
}

/* Append to the auth log; the caller holds the lock. */
static int log_locked(struct store *s, int64_t now, const char *user, const char *kind,
                      const char *message, const char *remote)
{
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(s,
                           "INSERT INTO auth_log (at_ms, user, kind, message, remote)"
                           " VALUES (?1, ?2, ?3, ?4, ?5)",
                           &st);
    if (rc == 0) {
        sqlite3_bind_int64(st, 1, now);
        if (user) {
            sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
        }
        sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, message ? message : "", -1, SQLITE_STATIC);
        if (remote) {
            sqlite3_bind_text(st, 5, remote, -1, SQLITE_STATIC);
        }
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : HUB_E_DB;
    }
    sqlite3_finalize(st);
    return rc;
}

int store_auth_log(struct store *s, const char *user, const char *kind, const char *message,
                   const char *remote)
{
    if (!kind_known(kind)) {
        return HUB_E_ARG;
    }
    store_lock(s);
    int rc = log_locked(s, store_now(s), user, kind, message, remote);
    store_unlock(s);
    return rc;
}

/* ---- accounts ---- */

#define USER_COLUMNS                                                                               \
    "u.id, u.name, u.role, u.disabled, u.failures, u.created_ms, coalesce(u.last_login_ms, 0),"    \
    " coalesce(u.locked_until_ms, 0)"
#define USER_NCOLUMNS 8

/* The account in columns first .. first + USER_NCOLUMNS - 1. */
static void read_user(sqlite3_stmt *st, int first, struct store_user *u)
{
    memset(u, 0, sizeof *u);
    u->id = sqlite3_column_int64(st, first);
    store_copy_text(u->name, sizeof u->name, st, first + 1);
    store_copy_text(u->role, sizeof u->role, st, first + 2);
    u->disabled = sqlite3_column_int(st, first + 3) != 0;
    u->failures = sqlite3_column_int64(st, first + 4);
    u->created_ms = sqlite3_column_int64(st, first + 5);
    u->last_login_ms = sqlite3_column_int64(st, first + 6);
    u->locked_until_ms = sqlite3_column_int64(st, first + 7);
}

int store_user_add(struct store *s, const char *name, const char *role, const char *pw_hash)
{
    if (!auth_name_valid(name) || !role_known(role) || !pw_hash ||
        strnlen(pw_hash, AUTH_HASH_LEN) >= AUTH_HASH_LEN ||
        strncmp(pw_hash, "$argon2id$", 10) != 0) {
        return HUB_E_ARG;
    }
    store_lock(s);
    int64_t now = store_now(s);
    sqlite3_stmt *st = NULL;
    int rc = begin(s);
    if (rc == 0) {
        rc = store_prepare(s,
                           "INSERT INTO users (name, role, pw_hash, created_ms)"
                           " VALUES (?1, ?2, ?3, ?4)",
                           &st);
        if (rc == 0) {
            sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, role, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 3, pw_hash, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 4, now);
            int step = sqlite3_step(st);
            rc = step == SQLITE_DONE                                           ? 0
                 : sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_UNIQUE ? HUB_E_EXISTS
                                                                               : HUB_E_DB;
        }
        sqlite3_finalize(st);
        if (rc == 0) {
            char message[64];
            snprintf(message, sizeof message, "account added as %s", role);
            rc = log_locked(s, now, name, "user_added", message, NULL);
        }
        rc = finish(s, rc);
    }
    store_unlock(s);
    return rc;
}

int store_user_list(struct store *s, int (*each)(void *ctx, const struct store_user *user),
                    void *ctx)
{
    store_lock(s);
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(s, "SELECT " USER_COLUMNS " FROM users u ORDER BY u.name", &st);
    int step = SQLITE_DONE;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_user u;
        read_user(st, 0, &u);
        rc = each(ctx, &u);
    }
    if (rc == 0 && step != SQLITE_DONE) {
        rc = HUB_E_DB;
    }
    sqlite3_finalize(st);
    store_unlock(s);
    return rc;
}

int store_user_disable(struct store *s, const char *name)
{
    if (!name) {
        return HUB_E_NOT_FOUND;
    }
    store_lock(s);
    int64_t now = store_now(s);
    sqlite3_stmt *st = NULL;
    int ended = 0;
    int rc = begin(s);
    if (rc == 0) {
        rc = store_prepare(s, "UPDATE users SET disabled = 1 WHERE name = ?1", &st);
        if (rc == 0) {
            sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
            rc = sqlite3_step(st) != SQLITE_DONE ? HUB_E_DB
                 : sqlite3_changes(s->db) == 0   ? HUB_E_NOT_FOUND
                                                 : 0;
        }
        sqlite3_finalize(st);
        st = NULL;
        if (rc == 0) {
            rc = store_prepare(s,
                               "DELETE FROM sessions WHERE user_id ="
                               " (SELECT id FROM users WHERE name = ?1)",
                               &st);
        }
        if (rc == 0) {
            sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
            rc = sqlite3_step(st) == SQLITE_DONE ? 0 : HUB_E_DB;
            ended = sqlite3_changes(s->db);
        }
        sqlite3_finalize(st);
        if (rc == 0) {
            char message[80];
            snprintf(message, sizeof message, "account disabled; %d open sessions ended", ended);
            rc = log_locked(s, now, name, "user_disabled", message, NULL);
        }
        rc = finish(s, rc);
    }
    store_unlock(s);
    return rc;
}

/* ---- login ---- */

/* The account called name with its hash; *found 0 when there is none. */
static int load_user(struct store *s, const char *name, struct store_user *u,
                     char hash[AUTH_HASH_LEN], int *found)
{
    sqlite3_stmt *st = NULL;
    *found = 0;
    int rc =
        store_prepare(s, "SELECT " USER_COLUMNS ", u.pw_hash FROM users u WHERE u.name = ?1", &st);
    if (rc == 0) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            read_user(st, 0, u);
            store_copy_text(hash, AUTH_HASH_LEN, st, USER_NCOLUMNS);
            *found = 1;
        } else if (step != SQLITE_DONE) {
            rc = HUB_E_DB;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/* Count a wrong password of account id and lock it when the count calls
 * for it, in one transaction; the caller holds the lock. */
static int note_failure(struct store *s, int64_t now, const char *name, int64_t id,
                        const char *remote)
{
    sqlite3_stmt *st = NULL;
    int64_t failures = 0;
    int rc = begin(s);
    if (rc != 0) {
        return rc;
    }
    rc = store_prepare(s, "UPDATE users SET failures = failures + 1 WHERE id = ?1", &st);
    if (rc == 0) {
        sqlite3_bind_int64(st, 1, id);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : HUB_E_DB;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc == 0) {
        rc = store_prepare(s, "SELECT failures FROM users WHERE id = ?1", &st);
    }
    if (rc == 0) {
        sqlite3_bind_int64(st, 1, id);
        rc = sqlite3_step(st) == SQLITE_ROW ? 0 : HUB_E_DB;
        failures = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    st = NULL;
    unsigned delay = auth_lockout_delay_s(failures);
    char message[120];
    if (rc == 0) {
        snprintf(message, sizeof message, "wrong password (%lld in a row)", (long long)failures);
        rc = log_locked(s, now, name, "login_failed", message, remote);
    }
    if (rc == 0 && delay > 0) {
        rc = store_prepare(s, "UPDATE users SET locked_until_ms = ?2 WHERE id = ?1", &st);
        if (rc == 0) {
            sqlite3_bind_int64(st, 1, id);
            sqlite3_bind_int64(st, 2, now + (int64_t)delay * 1000);
            rc = sqlite3_step(st) == SQLITE_DONE ? 0 : HUB_E_DB;
        }
        sqlite3_finalize(st);
        if (rc == 0) {
            snprintf(message, sizeof message, "locked for %u s after %lld failed logins in a row",
                     delay, (long long)failures);
            rc = log_locked(s, now, name, "locked", message, remote);
        }
    }
    return finish(s, rc);
}

/* Record a good password of account id: failures reset, the time kept.
 * HUB_E_REVOKED if the account was disabled meanwhile. */
static int note_success(struct store *s, int64_t now, const char *name, int64_t id,
                        const char *remote, struct store_user *out)
{
    sqlite3_stmt *st = NULL;
    char hash[AUTH_HASH_LEN];
    int found = 0;
    int rc = begin(s);
    if (rc != 0) {
        return rc;
    }
    rc = store_prepare(s,
                       "UPDATE users SET failures = 0, locked_until_ms = NULL, last_login_ms = ?2"
                       " WHERE id = ?1 AND disabled = 0",
                       &st);
    if (rc == 0) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, now);
        rc = sqlite3_step(st) != SQLITE_DONE ? HUB_E_DB
             : sqlite3_changes(s->db) == 0   ? HUB_E_REVOKED
                                             : 0;
    }
    sqlite3_finalize(st);
    if (rc == 0) {
        rc = log_locked(s, now, name, "login_ok", "signed in", remote);
    }
    if (rc == 0) {
        rc = load_user(s, name, out, hash, &found);
        rc = rc == 0 && !found ? HUB_E_DB : rc;
        sodium_memzero(hash, sizeof hash);
    }
    return finish(s, rc);
}

int store_login_at(struct store *s, int64_t now, const char *name, const char *password,
                   const char *remote, struct store_user *out, unsigned *retry_after_s)
{
    struct store_user user, ignored;
    char hash[AUTH_HASH_LEN] = "";
    char message[120];
    int found = 0, rc = 0;
    int named = auth_name_valid(name);
    if (!out) {
        out = &ignored;
    }
    memset(out, 0, sizeof *out);
    memset(&user, 0, sizeof user);
    if (retry_after_s) {
        *retry_after_s = 0;
    }
    if (named) {
        store_lock(s);
        rc = load_user(s, name, &user, hash, &found);
        if (rc == 0 && found && user.locked_until_ms > now) {
            unsigned wait_s = (unsigned)((user.locked_until_ms - now + 999) / 1000);
            if (retry_after_s) {
                *retry_after_s = wait_s;
            }
            snprintf(message, sizeof message, "refused: the account is locked for %u s more",
                     wait_s);
            rc = log_locked(s, now, name, "locked", message, remote);
            rc = rc == 0 ? HUB_E_STATE : rc;
        }
        store_unlock(s);
        if (rc != 0) {
            goto done;
        }
    }
    /* Outside the lock, and as long for an unknown name as for a known one. */
    int good = auth_verify(found ? hash : auth_dummy_hash(), password ? password : "") == 0;
    store_lock(s);
    if (!found) {
        rc = log_locked(s, now, named ? name : NULL, "login_failed",
                        named ? "no account of that name" : "a name that is not valid", remote);
        rc = rc == 0 ? HUB_E_AUTH : rc;
    } else if (!good) {
        rc = note_failure(s, now, name, user.id, remote);
        rc = rc == 0 ? HUB_E_AUTH : rc;
    } else if (user.disabled) {
        rc = log_locked(s, now, name, "disabled", "refused: the account is disabled", remote);
        rc = rc == 0 ? HUB_E_REVOKED : rc;
    } else {
        rc = note_success(s, now, name, user.id, remote, out);
        if (rc == HUB_E_REVOKED) {
            log_locked(s, now, name, "disabled", "refused: the account is disabled", remote);
        }
    }
    store_unlock(s);
done:
    sodium_memzero(hash, sizeof hash);
    if (rc != 0) {
        memset(out, 0, sizeof *out);
    }
    return rc;
}

int store_login(struct store *s, const char *name, const char *password, const char *remote,
                struct store_user *out, unsigned *retry_after_s)
{
    return store_login_at(s, now_ms(s), name, password, remote, out, retry_after_s);
}

/* ---- sessions ---- */

int store_session_new(struct store *s, int64_t user_id, int64_t ttl_ms, char token[AUTH_TOKEN_LEN],
                      char csrf[AUTH_TOKEN_LEN])
{
    unsigned char token_hash[AUTH_TOKEN_HASH_LEN];
    token[0] = csrf[0] = '\0';
    if (ttl_ms <= 0) {
        return HUB_E_ARG;
    }
    if (ttl_ms > STORE_SESSION_MAX_MS) {
        ttl_ms = STORE_SESSION_MAX_MS;
    }
    int rc = auth_token_new(token);
    if (rc == 0) {
        rc = auth_token_new(csrf);
    }
    if (rc != 0) {
        return rc;
    }
    auth_token_hash(token, token_hash);
    store_lock(s);
    int64_t now = store_now(s);
    sqlite3_stmt *st = NULL;
    rc = begin(s);
    if (rc != 0) {
        goto unlock;
    }
    rc = store_prepare(s, "SELECT disabled FROM users WHERE id = ?1", &st);
    if (rc == 0) {
        sqlite3_bind_int64(st, 1, user_id);
        int step = sqlite3_step(st);
        rc = step == SQLITE_DONE              ? HUB_E_NOT_FOUND
             : step != SQLITE_ROW             ? HUB_E_DB
             : sqlite3_column_int(st, 0) != 0 ? HUB_E_REVOKED
                                              : 0;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc == 0) {
        rc = store_prepare(s, "DELETE FROM sessions WHERE expires_ms <= ?1 OR last_ms <= ?2", &st);
    }
    if (rc == 0) {
        sqlite3_bind_int64(st, 1, now);
        sqlite3_bind_int64(st, 2, now - STORE_SESSION_IDLE_MS);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : HUB_E_DB;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc == 0) {
        rc = store_prepare(s,
                           "INSERT INTO sessions (token_hash, csrf, user_id, created_ms, last_ms,"
                           " expires_ms) VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
                           &st);
    }
    if (rc == 0) {
        sqlite3_bind_blob(st, 1, token_hash, sizeof token_hash, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, csrf, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, user_id);
        sqlite3_bind_int64(st, 4, now);
        sqlite3_bind_int64(st, 5, now + ttl_ms);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : HUB_E_DB;
    }
    sqlite3_finalize(st);
    rc = finish(s, rc);
unlock:
    store_unlock(s);
    if (rc != 0) {
        sodium_memzero(token, AUTH_TOKEN_LEN);
        sodium_memzero(csrf, AUTH_TOKEN_LEN);
    }
    return rc;
}

/* Remove one session; the caller holds the lock. */
static int end_locked(struct store *s, const unsigned char token_hash[AUTH_TOKEN_HASH_LEN])
{
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(s, "DELETE FROM sessions WHERE token_hash = ?1", &st);
    if (rc == 0) {
        sqlite3_bind_blob(st, 1, token_hash, AUTH_TOKEN_HASH_LEN, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : HUB_E_DB;
    }
    sqlite3_finalize(st);
    return rc;
}

int store_session_get_at(struct store *s, const char *token, int64_t now, struct store_user *user,
                         char csrf[AUTH_TOKEN_LEN])
{
    unsigned char token_hash[AUTH_TOKEN_HASH_LEN];
    struct store_user found;
    char found_csrf[AUTH_TOKEN_LEN] = "";
    memset(&found, 0, sizeof found);
    if (!auth_token_valid(token)) {
        return HUB_E_AUTH;
    }
    auth_token_hash(token, token_hash);
    store_lock(s);
    sqlite3_stmt *st = NULL;
    int live = 0;
    int rc = store_prepare(s,
                           "SELECT s.csrf, s.last_ms, s.expires_ms, " USER_COLUMNS
                           " FROM sessions s JOIN users u ON u.id = s.user_id"
                           " WHERE s.token_hash = ?1",
                           &st);
    if (rc == 0) {
        sqlite3_bind_blob(st, 1, token_hash, sizeof token_hash, SQLITE_STATIC);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            store_copy_text(found_csrf, sizeof found_csrf, st, 0);
            int64_t last_ms = sqlite3_column_int64(st, 1);
            int64_t expires_ms = sqlite3_column_int64(st, 2);
            read_user(st, 3, &found);
            live = now < expires_ms && now - last_ms < STORE_SESSION_IDLE_MS && !found.disabled;
            rc = HUB_E_AUTH; /* unless it is live, below */
        } else {
            rc = step == SQLITE_DONE ? HUB_E_AUTH : HUB_E_DB;
        }
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc == HUB_E_AUTH && live) {
        rc = store_prepare(
            s, "UPDATE sessions SET last_ms = max(last_ms, ?2) WHERE token_hash = ?1", &st);
        if (rc == 0) {
            sqlite3_bind_blob(st, 1, token_hash, sizeof token_hash, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, now);
            rc = sqlite3_step(st) == SQLITE_DONE ? 0 : HUB_E_DB;
        }
        sqlite3_finalize(st);
    } else if (rc == HUB_E_AUTH && found_csrf[0]) {
        end_locked(s, token_hash); /* it has ended: forget it */
    }
    store_unlock(s);
    if (rc == 0) {
        if (user) {
            *user = found;
        }
        if (csrf) {
            memcpy(csrf, found_csrf, AUTH_TOKEN_LEN);
        }
    }
    sodium_memzero(found_csrf, sizeof found_csrf);
    return rc;
}

int store_session_get(struct store *s, const char *token, struct store_user *user,
                      char csrf[AUTH_TOKEN_LEN])
{
    return store_session_get_at(s, token, now_ms(s), user, csrf);
}

int store_session_end(struct store *s, const char *token)
{
    unsigned char token_hash[AUTH_TOKEN_HASH_LEN];
    if (!auth_token_valid(token)) {
        return 0; /* no such session can exist */
    }
    auth_token_hash(token, token_hash);
    store_lock(s);
    int rc = end_locked(s, token_hash);
    store_unlock(s);
    return rc;
}
