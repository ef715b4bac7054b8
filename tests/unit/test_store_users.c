/* SPDX-License-Identifier: MIT */
/*
 * test_store_users.c - the township's accounts in a real hub database (a
 * temporary folder): accounts added, listed and disabled; sign-ins that
 * let the right password in and nothing else; the lock after repeated
 * failures, which holds against the right password until its time is up;
 * sessions that end when idle, when old, when signed out, and when their
 * account is disabled; and an auth log that records every attempt. The
 * clock is moved with the _at variants, not by waiting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth.h"
#include "hub_error.h"
#include "store.h"

#include <sodium.h>
#include <sqlite3.h>

#define PASSWORD "山路十八弯-2026"
#define MINUTE   ((int64_t)60 * 1000)
#define HOUR     (60 * MINUTE)

/* Hashing takes a tenth of a second: the tests share two hashes. */
static char hash_right[AUTH_HASH_LEN];
static char hash_other[AUTH_HASH_LEN];

struct fixture {
    char dir[64];
    char path[128];
    struct store *store;
    sqlite3 *db; /* a second connection, to look behind the interface */
};

static int group_setup(void **state)
{
    (void)state;
    if (auth_hash_password(PASSWORD, hash_right) != 0 ||
        auth_hash_password("another password", hash_other) != 0) {
        return -1;
    }
    return 0;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/hamlet-test-users-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    char why[200];
    snprintf(f->path, sizeof f->path, "%s/hub.db", f->dir);
    assert_int_equal(store_open(f->path, 1, &f->store, why, sizeof why), 0);
    assert_int_equal(sqlite3_open(f->path, &f->db), SQLITE_OK);
    sqlite3_busy_timeout(f->db, 5000);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    sqlite3_close(f->db);
    store_close(f->store);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* One integer from a fixed query of the test's own. */
static int64_t query_int(struct fixture *f, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(f->db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void exec(struct fixture *f, const char *sql)
{
    assert_int_equal(sqlite3_exec(f->db, sql, NULL, NULL, NULL), SQLITE_OK);
}

/* The account as store_user_list() gives it. */
struct find {
    const char *name;
    struct store_user user;
    int found;
};

static int find_user(void *ctx, const struct store_user *u)
{
    struct find *fd = ctx;
    if (!strcmp(u->name, fd->name)) {
        fd->user = *u;
        fd->found = 1;
    }
    return 0;
}

static struct store_user get_user(struct fixture *f, const char *name)
{
    struct find fd = {name, {0}, 0};
    assert_int_equal(store_user_list(f->store, find_user, &fd), 0);
    assert_true(fd.found);
    return fd.user;
}

static int64_t hub_now(struct fixture *f)
{
    return store_now(f->store);
}

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- accounts ---- */

struct listing {
    char names[8][AUTH_NAME_MAX + 1];
    char roles[8][16];
    size_t n;
};

static int collect(void *ctx, const struct store_user *u)
{
    struct listing *l = ctx;
    if (l->n < 8) {
        snprintf(l->names[l->n], sizeof l->names[0], "%s", u->name);
        snprintf(l->roles[l->n], sizeof l->roles[0], "%s", u->role);
        l->n++;
    }
    return 0;
}

static int stop_at_first(void *ctx, const struct store_user *u)
{
    (void)u;
    ++*(int *)ctx;
    return 7;
}

static void test_add_list_disable(void **state)
{
    struct fixture *f = *state;
    int64_t before = hub_now(f);
    assert_int_equal(store_user_add(f->store, "wangfang", "reviewer", hash_right), 0);
    assert_int_equal(store_user_add(f->store, "王芳", "admin", hash_other), 0);
    assert_int_equal(store_user_add(f->store, "chen", "reviewer", hash_other), 0);

    struct listing l = {0};
    assert_int_equal(store_user_list(f->store, collect, &l), 0);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.names[0], "chen"); /* by name */
    assert_string_equal(l.names[1], "wangfang");
    assert_string_equal(l.names[2], "王芳");
    assert_string_equal(l.roles[2], "admin");
    int calls = 0;
    assert_int_equal(store_user_list(f->store, stop_at_first, &calls), 7);
    assert_int_equal(calls, 1);

    struct store_user u = get_user(f, "wangfang");
    assert_true(u.id > 0);
    assert_string_equal(u.role, "reviewer");
    assert_int_equal(u.disabled, 0);
    assert_int_equal(u.failures, 0);
    assert_true(u.created_ms >= before);
    assert_int_equal(u.last_login_ms, 0);
    assert_int_equal(u.locked_until_ms, 0);

    /* Names are unique, disabled or not; bad input changes nothing. */
    assert_int_equal(store_user_add(f->store, "wangfang", "admin", hash_other), HUB_E_EXISTS);
    assert_int_equal(store_user_add(f->store, "li", "boss", hash_other), HUB_E_ARG);
    assert_int_equal(store_user_add(f->store, "li", NULL, hash_other), HUB_E_ARG);
    assert_int_equal(store_user_add(f->store, "li ming", "reviewer", hash_other), HUB_E_ARG);
    assert_int_equal(store_user_add(f->store, "", "reviewer", hash_other), HUB_E_ARG);
    assert_int_equal(store_user_add(f->store, "li", "reviewer", "plain text password"), HUB_E_ARG);
    assert_int_equal(store_user_add(f->store, "li", "reviewer", NULL), HUB_E_ARG);
    /* The role is checked by the schema too. */
    assert_int_not_equal(sqlite3_exec(f->db,
                                      "INSERT INTO users (name, role, pw_hash, created_ms)"
                                      " VALUES ('x', 'boss', 'h', 0)",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
    assert_int_equal(query_int(f, "SELECT count(*) FROM users"), 3);
    /* Only the hash is kept. */
    assert_int_equal(query_int(f, "SELECT count(*) FROM users WHERE pw_hash LIKE '$argon2id$%'"),
                     3);

    assert_int_equal(store_user_disable(f->store, "chen"), 0);
    assert_int_equal(store_user_disable(f->store, "chen"), 0); /* twice is fine */
    assert_int_equal(get_user(f, "chen").disabled, 1);
    assert_int_equal(get_user(f, "wangfang").disabled, 0);
    assert_int_equal(store_user_disable(f->store, "nobody"), HUB_E_NOT_FOUND);
    assert_int_equal(store_user_disable(f->store, NULL), HUB_E_NOT_FOUND);
    assert_int_equal(store_user_add(f->store, "chen", "reviewer", hash_other), HUB_E_EXISTS);

    assert_int_equal(
        query_int(f, "SELECT count(*) FROM auth_log WHERE kind = 'user_added' AND remote IS NULL"),
        3);
    assert_int_equal(
        query_int(f,
                  "SELECT count(*) FROM auth_log WHERE kind = 'user_disabled' AND user = 'chen'"),
        2);
}

/* ---- sign-in ---- */

static void test_login(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(store_user_add(f->store, "wangfang", "reviewer", hash_right), 0);
    struct store_user u;
    unsigned retry = 99;
    assert_int_equal(store_login(f->store, "wangfang", PASSWORD, "192.0.2.7", &u, &retry), 0);
    assert_string_equal(u.name, "wangfang");
    assert_string_equal(u.role, "reviewer");
    assert_true(u.last_login_ms > 0);
    assert_int_equal(retry, 0);
    assert_int_equal(query_int(f, "SELECT count(*) FROM auth_log WHERE kind = 'login_ok'"
                                  " AND user = 'wangfang' AND remote = '192.0.2.7'"),
                     1);

    /* A wrong password, an unknown name and a name that cannot be one are
     * all the same refusal. */
    assert_int_equal(store_login(f->store, "wangfang", "not the password", "192.0.2.7", &u, &retry),
                     HUB_E_AUTH);
    assert_string_equal(u.name, "");
    assert_int_equal(store_login(f->store, "wangfang", NULL, NULL, NULL, NULL), HUB_E_AUTH);
    assert_int_equal(store_login(f->store, "lisi", PASSWORD, "192.0.2.8", &u, &retry), HUB_E_AUTH);
    assert_int_equal(store_login(f->store, "li si", PASSWORD, NULL, &u, &retry), HUB_E_AUTH);
    assert_int_equal(store_login(f->store, NULL, PASSWORD, NULL, &u, &retry), HUB_E_AUTH);
    assert_int_equal(get_user(f, "wangfang").failures, 2);
    assert_int_equal(query_int(f, "SELECT count(*) FROM auth_log WHERE kind = 'login_failed'"), 5);
    assert_int_equal(query_int(f, "SELECT count(*) FROM auth_log WHERE kind = 'login_failed'"
                                  " AND user = 'lisi' AND remote = '192.0.2.8'"),
                     1);
    assert_int_equal(query_int(f, "SELECT count(*) FROM auth_log WHERE kind = 'login_failed'"
                                  " AND user IS NULL"),
                     2);

    /* A success resets the count. */
    assert_int_equal(store_login(f->store, "wangfang", PASSWORD, NULL, &u, NULL), 0);
    assert_int_equal(get_user(f, "wangfang").failures, 0);
}

static void test_unknown_name_costs_a_hash(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(store_user_add(f->store, "wangfang", "reviewer", hash_right), 0);
    store_login(f->store, "nobody", PASSWORD, NULL, NULL, NULL); /* makes the dummy hash */
    double t0 = seconds();
    assert_int_equal(store_login(f->store, "wangfang", "wrong password", NULL, NULL, NULL),
                     HUB_E_AUTH);
    double wrong = seconds() - t0;
    t0 = seconds();
    assert_int_equal(store_login(f->store, "nobody", "wrong password", NULL, NULL, NULL),
                     HUB_E_AUTH);
    double unknown = seconds() - t0;
    /* Without a hash an unknown name would answer a hundred times sooner. */
    if (unknown < wrong / 3) {
        fail_msg("an unknown name took %.3f s, a wrong password %.3f s", unknown, wrong);
    }
}

static void test_lockout(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(store_user_add(f->store, "wangfang", "reviewer", hash_right), 0);
    assert_int_equal(store_user_add(f->store, "chen", "reviewer", hash_other), 0);
    int64_t t = hub_now(f);
    unsigned retry = 0;
    struct store_user u;

    /* Four failures cost nothing but the count. */
    for (int i = 1; i <= 4; i++) {
        assert_int_equal(store_login_at(f->store, t, "wangfang", "guess", NULL, NULL, &retry),
                         HUB_E_AUTH);
        assert_int_equal(get_user(f, "wangfang").locked_until_ms, 0);
    }
    /* The fifth locks the account for 30 s. */
    assert_int_equal(store_login_at(f->store, t, "wangfang", "guess", "198.51.100.1", NULL, &retry),
                     HUB_E_AUTH);
    assert_int_equal(get_user(f, "wangfang").locked_until_ms, t + 30000);
    assert_int_equal(get_user(f, "wangfang").failures, 5);

    /* While locked even the right password is refused, and said how long. */
    assert_int_equal(store_login_at(f->store, t + 1000, "wangfang", PASSWORD, NULL, &u, &retry),
                     HUB_E_STATE);
    assert_int_equal(retry, 29);
    assert_string_equal(u.name, "");
    assert_int_equal(store_login_at(f->store, t + 29500, "wangfang", PASSWORD, NULL, &u, &retry),
                     HUB_E_STATE);
    assert_int_equal(retry, 1);
    /* A refusal while locked does not count as a failure. */
    assert_int_equal(get_user(f, "wangfang").failures, 5);
    /* Other accounts are not affected. */
    assert_int_equal(store_login_at(f->store, t + 1000, "chen", "another password", NULL, &u, NULL),
                     0);

    /* After the lock, one more failure locks for twice as long... */
    assert_int_equal(store_login_at(f->store, t + 30000, "wangfang", "guess", NULL, NULL, &retry),
                     HUB_E_AUTH);
    assert_int_equal(get_user(f, "wangfang").locked_until_ms, t + 30000 + 60000);
    assert_int_equal(store_login_at(f->store, t + 89999, "wangfang", PASSWORD, NULL, &u, &retry),
                     HUB_E_STATE);
    assert_int_equal(retry, 1);
    /* ...and when it lifts the right password gets in and clears it all. */
    assert_int_equal(store_login_at(f->store, t + 90000, "wangfang", PASSWORD, NULL, &u, &retry),
                     0);
    assert_string_equal(u.name, "wangfang");
    assert_int_equal(u.failures, 0);
    assert_int_equal(u.locked_until_ms, 0);
    assert_int_equal(u.last_login_ms, t + 90000);
    assert_int_equal(store_login_at(f->store, t + 90000, "wangfang", "guess", NULL, NULL, &retry),
                     HUB_E_AUTH);
    assert_int_equal(get_user(f, "wangfang").locked_until_ms, 0); /* one failure: no lock */

    /* The log has every attempt: 7 failures, 2 locks begun, 3 refusals
     * while locked, 1 success (and chen's). */
    assert_int_equal(query_int(f, "SELECT count(*) FROM auth_log WHERE user = 'wangfang'"
                                  " AND kind = 'login_failed'"),
                     7);
    assert_int_equal(query_int(f, "SELECT count(*) FROM auth_log WHERE user = 'wangfang'"
                                  " AND kind = 'locked'"),
                     2 + 3);
    assert_int_equal(query_int(f, "SELECT count(*) FROM auth_log WHERE user = 'wangfang'"
                                  " AND kind = 'login_ok'"),
                     1);
    assert_int_equal(query_int(f, "SELECT count(*) FROM auth_log WHERE kind = 'locked'"
                                  " AND remote = '198.51.100.1'"
                                  " AND message LIKE 'locked for 30 s%'"),
                     1);
}

static void test_disabled_cannot_login(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(store_user_add(f->store, "wangfang", "reviewer", hash_right), 0);
    assert_int_equal(store_user_disable(f->store, "wangfang"), 0);
    struct store_user u;
    assert_int_equal(store_login(f->store, "wangfang", PASSWORD, "192.0.2.9", &u, NULL),
                     HUB_E_REVOKED);
    assert_string_equal(u.name, "");
    /* Without the password, a disabled account is not told apart. */
    assert_int_equal(store_login(f->store, "wangfang", "a wrong guess", NULL, &u, NULL),
                     HUB_E_AUTH);
    assert_int_equal(query_int(f, "SELECT count(*) FROM auth_log WHERE kind = 'disabled'"
                                  " AND remote = '192.0.2.9'"),
                     1);
    assert_int_equal(get_user(f, "wangfang").last_login_ms, 0);
}

/* ---- sessions ---- */

static int64_t login_id(struct fixture *f, const char *name, const char *password)
{
    struct store_user u;
    assert_int_equal(store_login(f->store, name, password, NULL, &u, NULL), 0);
    return u.id;
}

static void test_sessions(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(store_user_add(f->store, "wangfang", "reviewer", hash_right), 0);
    int64_t id = login_id(f, "wangfang", PASSWORD);
    char token[AUTH_TOKEN_LEN], csrf[AUTH_TOKEN_LEN], got_csrf[AUTH_TOKEN_LEN];
    assert_int_equal(store_session_new(f->store, id, STORE_SESSION_MAX_MS, token, csrf), 0);
    assert_true(auth_token_valid(token));
    assert_true(auth_token_valid(csrf));
    assert_string_not_equal(token, csrf);

    struct store_user u;
    assert_int_equal(store_session_get(f->store, token, &u, got_csrf), 0);
    assert_string_equal(u.name, "wangfang");
    assert_int_equal(u.id, id);
    assert_string_equal(got_csrf, csrf);
    assert_int_equal(store_session_get(f->store, token, NULL, NULL), 0);

    /* The database keeps the token's hash, never the token. */
    unsigned char h[AUTH_TOKEN_HASH_LEN];
    auth_token_hash(token, h);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(f->db,
                                        "SELECT count(*) FROM sessions WHERE token_hash = ?1", -1,
                                        &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_blob(st, 1, h, sizeof h, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(f->db,
                                        "SELECT count(*) FROM sessions WHERE instr(token_hash, ?1)"
                                        " OR instr(csrf, ?1)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, token, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 0);
    sqlite3_finalize(st);

    /* Tokens that are not this session's. */
    char other[AUTH_TOKEN_LEN];
    assert_int_equal(auth_token_new(other), 0);
    assert_int_equal(store_session_get(f->store, other, &u, NULL), HUB_E_AUTH);
    assert_int_equal(store_session_get(f->store, csrf, &u, NULL), HUB_E_AUTH);
    assert_int_equal(store_session_get(f->store, "", &u, NULL), HUB_E_AUTH);
    assert_int_equal(store_session_get(f->store, NULL, &u, NULL), HUB_E_AUTH);
    assert_int_equal(store_session_get(f->store, "' OR 1=1 --", &u, NULL), HUB_E_AUTH);

    /* Signing out ends it; twice is not an error. */
    assert_int_equal(store_session_end(f->store, token), 0);
    assert_int_equal(store_session_get(f->store, token, &u, NULL), HUB_E_AUTH);
    assert_int_equal(store_session_end(f->store, token), 0);
    assert_int_equal(store_session_end(f->store, "garbage"), 0);

    /* Refusals. */
    assert_int_equal(store_session_new(f->store, id, 0, token, csrf), HUB_E_ARG);
    assert_int_equal(store_session_new(f->store, id + 100, HOUR, token, csrf), HUB_E_NOT_FOUND);
    assert_string_equal(token, "");
}

static void test_session_expiry(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(store_user_add(f->store, "wangfang", "reviewer", hash_right), 0);
    int64_t id = login_id(f, "wangfang", PASSWORD);
    char idle[AUTH_TOKEN_LEN], busy[AUTH_TOKEN_LEN], brief[AUTH_TOKEN_LEN], csrf[AUTH_TOKEN_LEN];
    assert_int_equal(store_session_new(f->store, id, STORE_SESSION_MAX_MS, idle, csrf), 0);
    assert_int_equal(store_session_new(f->store, id, 30 * 86400 * 1000LL, busy, csrf), 0);
    assert_int_equal(store_session_new(f->store, id, HOUR, brief, csrf), 0);
    int64_t t = hub_now(f);
    assert_int_equal(query_int(f, "SELECT count(*) FROM sessions"), 3);
    /* No session is made longer than the limit. */
    assert_int_equal(query_int(f, "SELECT max(expires_ms - created_ms) FROM sessions"),
                     STORE_SESSION_MAX_MS);

    /* Idle longer than the limit: ended, and forgotten. */
    assert_int_equal(
        store_session_get_at(f->store, idle, t + STORE_SESSION_IDLE_MS - MINUTE, NULL, NULL), 0);
    assert_int_equal(store_session_get_at(
                         f->store, idle, t + 2 * STORE_SESSION_IDLE_MS - MINUTE + 1000, NULL, NULL),
                     HUB_E_AUTH);
    assert_int_equal(store_session_get_at(f->store, idle, t, NULL, NULL), HUB_E_AUTH);

    /* The short one ends at its end. */
    assert_int_equal(store_session_get_at(f->store, brief, t + HOUR - 1000, NULL, NULL), 0);
    assert_int_equal(store_session_get_at(f->store, brief, t + HOUR + 1000, NULL, NULL),
                     HUB_E_AUTH);

    /* A session used every few hours lives on (the idle time restarts)
     * until its absolute end, and not a moment longer. */
    int64_t at = t;
    while (at + 7 * HOUR < t + STORE_SESSION_MAX_MS - 1000) {
        at += 7 * HOUR;
        assert_int_equal(store_session_get_at(f->store, busy, at, NULL, NULL), 0);
    }
    assert_int_equal(
        store_session_get_at(f->store, busy, t + STORE_SESSION_MAX_MS - 1000, NULL, NULL), 0);
    assert_int_equal(
        store_session_get_at(f->store, busy, t + STORE_SESSION_MAX_MS + 1000, NULL, NULL),
        HUB_E_AUTH);
    assert_int_equal(query_int(f, "SELECT count(*) FROM sessions"), 0);

    /* Ended sessions left behind are cleared when a new one begins. */
    exec(f, "INSERT INTO sessions (token_hash, csrf, user_id, created_ms, last_ms, expires_ms)"
            " VALUES (x'00', 'c', 1, 0, 0, 1)");
    assert_int_equal(store_session_new(f->store, id, HOUR, brief, csrf), 0);
    assert_int_equal(query_int(f, "SELECT count(*) FROM sessions"), 1);
}

static void test_disabled_user_sessions(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(store_user_add(f->store, "wangfang", "reviewer", hash_right), 0);
    assert_int_equal(store_user_add(f->store, "chen", "admin", hash_other), 0);
    int64_t wang = login_id(f, "wangfang", PASSWORD);
    int64_t chen = login_id(f, "chen", "another password");
    char t1[AUTH_TOKEN_LEN], t2[AUTH_TOKEN_LEN], t3[AUTH_TOKEN_LEN], csrf[AUTH_TOKEN_LEN];
    assert_int_equal(store_session_new(f->store, wang, HOUR, t1, csrf), 0);
    assert_int_equal(store_session_new(f->store, wang, HOUR, t2, csrf), 0);
    assert_int_equal(store_session_new(f->store, chen, HOUR, t3, csrf), 0);

    /* Disabling ends every session of the account, and no other. */
    assert_int_equal(store_user_disable(f->store, "wangfang"), 0);
    assert_int_equal(store_session_get(f->store, t1, NULL, NULL), HUB_E_AUTH);
    assert_int_equal(store_session_get(f->store, t2, NULL, NULL), HUB_E_AUTH);
    assert_int_equal(store_session_get(f->store, t3, NULL, NULL), 0);
    assert_int_equal(store_session_new(f->store, wang, HOUR, t1, csrf), HUB_E_REVOKED);
    assert_int_equal(query_int(f, "SELECT count(*) FROM auth_log WHERE kind = 'user_disabled'"
                                  " AND message LIKE '%2 open sessions ended%'"),
                     1);

    /* A session whose account is marked disabled some other way (a
     * restored copy, another implementation) is refused all the same. */
    exec(f, "UPDATE users SET disabled = 1 WHERE name = 'chen'");
    assert_int_equal(store_session_get(f->store, t3, NULL, NULL), HUB_E_AUTH);
}

static void test_auth_log(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(
        store_auth_log(f->store, "wangfang", "decision", "conflict 7: kept standing", "192.0.2.1"),
        0);
    assert_int_equal(store_auth_log(f->store, NULL, "logout", NULL, NULL), 0);
    assert_int_equal(store_auth_log(f->store, "wangfang", "shutdown", "x", NULL), HUB_E_ARG);
    assert_int_equal(store_auth_log(f->store, "wangfang", NULL, "x", NULL), HUB_E_ARG);
    assert_int_equal(query_int(f, "SELECT count(*) FROM auth_log WHERE kind = 'decision'"
                                  " AND user = 'wangfang' AND remote = '192.0.2.1'"
                                  " AND message = 'conflict 7: kept standing' AND at_ms > 0"),
                     1);
    assert_int_equal(query_int(f, "SELECT count(*) FROM auth_log"), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_add_list_disable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_login, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_name_costs_a_hash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lockout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disabled_cannot_login, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sessions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disabled_user_sessions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auth_log, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
