/* SPDX-License-Identifier: MIT */
/*
 * auth.h - the township's accounts, as secrets: password hashes, session
 * tokens, the comparison of CSRF tokens, the back-off after failed logins,
 * and reading a password from the administrator's terminal.
 *
 * Everything cryptographic is libsodium's: Argon2id for passwords, the
 * system's random generator for tokens, BLAKE2b to store a session token
 * without keeping the token itself, and constant-time comparison. The store
 * (store_users.c) keeps what these functions make; web.c and main.c call
 * them. The limits are explicit: names of 1 to AUTH_NAME_MAX bytes,
 * passwords of AUTH_PASSWORD_MIN to AUTH_PASSWORD_MAX bytes.
 */
#ifndef HAMLET_AUTH_H
#define HAMLET_AUTH_H

#include <stddef.h>
#include <stdint.h>

#define AUTH_NAME_MAX       63  /* bytes of an account name */
#define AUTH_PASSWORD_MIN   8   /* bytes of a password */
#define AUTH_PASSWORD_MAX   256 /* bytes of a password */
#define AUTH_HASH_LEN       128 /* a stored password hash, with its NUL (crypto_pwhash_STRBYTES) */
#define AUTH_TOKEN_BYTES    32  /* random bytes of a session or CSRF token */
#define AUTH_TOKEN_LEN      44  /* such a token in base64url without padding, with its NUL */
#define AUTH_TOKEN_HASH_LEN 32  /* BLAKE2b-256 of a token, as the store keeps it */
#define AUTH_MAX_HASHING    2   /* Argon2id computations at once in one process */

/* The back-off after failed logins (auth_lockout_delay_s()). */
#define AUTH_LOCK_FREE_FAILURES 4    /* consecutive failures allowed without a wait */
#define AUTH_LOCK_FIRST_S       30   /* the wait after the next failure */
#define AUTH_LOCK_MAX_S         3600 /* the longest wait: doubling stops here */

/* auth_name_valid(name): 1 if name can name an account: 1 to AUTH_NAME_MAX
 * bytes of valid UTF-8 without spaces, control characters or DEL
 * ("王芳", "wangfang"), else 0. NULL is not valid. */
int auth_name_valid(const char *name);

/* auth_password_valid(password): 1 if password is AUTH_PASSWORD_MIN to
 * AUTH_PASSWORD_MAX bytes of valid UTF-8 without control characters (so
 * that what is typed at a terminal and what a browser sends are the same
 * bytes), else 0. Spaces are allowed. */
int auth_password_valid(const char *password);

/* auth_hash_password(password, out): the Argon2id hash of a valid password
 * in the PHC string form ("$argon2id$v=19$m=...") that auth_verify()
 * checks, with a random salt. Each hash takes about 64 MiB of memory for a
 * moment; at most AUTH_MAX_HASHING hashes or verifications run at once in
 * the process, the others wait their turn. Returns 0, HUB_E_ARG (the password is not
 * valid), HUB_E_NOMEM (the hash's memory could not be had), HUB_E_STATE
 * (libsodium could not start). */
int auth_hash_password(const char *password, char out[AUTH_HASH_LEN]);

/* auth_verify(hash, password): 0 if password matches hash (made by
 * auth_hash_password()), HUB_E_AUTH if not or when hash is not a hash,
 * HUB_E_STATE if libsodium could not start. Takes as long as a hash: a
 * caller with no hash to check against uses auth_dummy_hash(). */
int auth_verify(const char *hash, const char *password);

/* auth_dummy_hash(): a hash of a random password nobody knows, made once
 * per process with the same parameters as auth_hash_password(), so that a
 * login with an unknown name costs what a wrong password costs. Static;
 * never NULL ("" if libsodium could not start: auth_verify() then fails
 * at once). */
const char *auth_dummy_hash(void);

/* auth_token_new(out): a new secret token: AUTH_TOKEN_BYTES random bytes
 * in base64url without padding (43 characters). Returns 0, or HUB_E_STATE
 * if libsodium could not start. */
int auth_token_new(char out[AUTH_TOKEN_LEN]);

/* auth_token_valid(token): 1 if token has the form auth_token_new() gives
 * (43 characters of A-Z a-z 0-9 - _), else 0. Checked before anything
 * else is done with a token that came from outside. */
int auth_token_valid(const char *token);

/* auth_token_hash(token, out): BLAKE2b-256 of the token's text, under
 * which the store keeps a session: a copy of the database does not hold
 * the tokens of the sessions in it. */
void auth_token_hash(const char *token, unsigned char out[AUTH_TOKEN_HASH_LEN]);

/* auth_equal(a, b): 1 if the two strings are equal, compared in time that
 * depends on their lengths only (for CSRF tokens), else 0. NULL is equal
 * to nothing. */
int auth_equal(const char *a, const char *b);

/* auth_lockout_delay_s(failures): the seconds an account stays locked after
 * its failures-th consecutive failed login: 0 for the first
 * AUTH_LOCK_FREE_FAILURES, then AUTH_LOCK_FIRST_S, doubling with each
 * further failure, never more than AUTH_LOCK_MAX_S. */
unsigned auth_lockout_delay_s(int64_t failures);

/* auth_read_password(prompt, out, len): read a password. From a terminal,
 * prompt goes to stderr and the typed line is not echoed; otherwise one
 * line is read from stdin without a prompt (for scripts:
 * `echo "$pw" | hamlet-hub user add ...`). The line ending is removed.
 * Returns 0, HUB_E_ARG when the line does not fit in len bytes (it is read
 * to its end and out is wiped), HUB_E_IO at end of input or a read error.
 * It does not check the password's limits (auth_password_valid()). */
int auth_read_password(const char *prompt, char *out, size_t len);

#endif
