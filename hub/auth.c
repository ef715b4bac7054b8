/* SPDX-License-Identifier: MIT */
/*
 * auth.c - password hashes, tokens and the login back-off, on libsodium.
 *
 * Passwords are hashed with Argon2id at libsodium's "interactive" limits
 * (2 passes over 64 MiB). The township's hub is often an old office
 * machine, and a login is rare (a reviewer signs in once a day, then holds
 * a session), so the hash is tuned to cost a person nothing noticeable and
 * a guesser a great deal; the stronger "moderate" limits would take the
 * old machine about a second per login and 256 MiB. The parameters are
 * written into each hash, so raising them later leaves old hashes
 * checkable.
 */
#include "auth.h"

#include "delta.h"
#include "hub_error.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

_Static_assert(AUTH_HASH_LEN == crypto_pwhash_STRBYTES, "AUTH_HASH_LEN is libsodium's size");
_Static_assert(AUTH_TOKEN_HASH_LEN >= crypto_generichash_BYTES_MIN &&
                   AUTH_TOKEN_HASH_LEN <= crypto_generichash_BYTES_MAX,
               "a BLAKE2b output size");
_Static_assert(AUTH_TOKEN_LEN == (4 * AUTH_TOKEN_BYTES + 2) / 3 + 1,
               "base64 of AUTH_TOKEN_BYTES without padding, with its NUL");

#define OPSLIMIT crypto_pwhash_OPSLIMIT_INTERACTIVE
#define MEMLIMIT crypto_pwhash_MEMLIMIT_INTERACTIVE

static int sodium_ready(void)
{
    return sodium_init() >= 0; /* idempotent and thread-safe */
}

/* ---- limits ---- */

int auth_name_valid(const char *name)
{
    size_t len = name ? strlen(name) : 0;
    if (len == 0 || len > AUTH_NAME_MAX || !delta_utf8_valid(name, len)) {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c <= ' ' || c == 0x7f) {
            return 0;
        }
    }
    return 1;
}

int auth_password_valid(const char *password)
{
    size_t len = password ? strlen(password) : 0;
    if (len < AUTH_PASSWORD_MIN || len > AUTH_PASSWORD_MAX || !delta_utf8_valid(password, len)) {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)password[i];
        if (c < ' ' || c == 0x7f) {
            return 0;
        }
    }
    return 1;
}

/* ---- hashes ---- */

/* The gate that keeps at most AUTH_MAX_HASHING hashes running at once. */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_free = PTHREAD_COND_INITIALIZER;
static unsigned gate_busy;

static void gate_enter(void)
{
    pthread_mutex_lock(&gate_lock);
    while (gate_busy >= AUTH_MAX_HASHING) {
        pthread_cond_wait(&gate_free, &gate_lock);
    }
    gate_busy++;
    pthread_mutex_unlock(&gate_lock);
}

static void gate_leave(void)
{
    pthread_mutex_lock(&gate_lock);
    gate_busy--;
    pthread_cond_signal(&gate_free);
    pthread_mutex_unlock(&gate_lock);
}

int auth_hash_password(const char *password, char out[AUTH_HASH_LEN])
{
    out[0] = '\0';
    if (!auth_password_valid(password)) {
        return HUB_E_ARG;
    }
    if (!sodium_ready()) {
        return HUB_E_STATE;
    }
    gate_enter();
    int rc = crypto_pwhash_str_alg(out, password, strlen(password), OPSLIMIT, MEMLIMIT,
                                   crypto_pwhash_ALG_ARGON2ID13);
    gate_leave();
    if (rc != 0) {
        out[0] = '\0';
        return HUB_E_NOMEM; /* libsodium fails here only when the memory is not there */
    }
    return 0;
}

int auth_verify(const char *hash, const char *password)
{
    if (!sodium_ready()) {
        return HUB_E_STATE;
    }
    if (!hash || !password || strnlen(hash, AUTH_HASH_LEN) >= AUTH_HASH_LEN ||
        strncmp(hash, "$argon2id$", 10) != 0) {
        return HUB_E_AUTH;
    }
    gate_enter();
    int rc = crypto_pwhash_str_verify(hash, password, strlen(password));
    gate_leave();
    return rc == 0 ? 0 : HUB_E_AUTH;
}

static char dummy_hash[AUTH_HASH_LEN];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

/* Hash random bytes nobody is told: no password can match it. */
static void make_dummy_hash(void)
{
    unsigned char secret[AUTH_TOKEN_BYTES];
    char text[AUTH_TOKEN_LEN];
    if (!sodium_ready()) {
        return;
    }
    randombytes_buf(secret, sizeof secret);
    sodium_bin2base64(text, sizeof text, secret, sizeof secret,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    if (auth_hash_password(text, dummy_hash) != 0) {
        dummy_hash[0] = '\0';
    }
    sodium_memzero(secret, sizeof secret);
    sodium_memzero(text, sizeof text);
}

const char *auth_dummy_hash(void)
{
    pthread_once(&dummy_once, make_dummy_hash);
    return dummy_hash;
}

/* ---- tokens ---- */

int auth_token_new(char out[AUTH_TOKEN_LEN])
{
    unsigned char bytes[AUTH_TOKEN_BYTES];
    out[0] = '\0';
    if (!sodium_ready()) {
        return HUB_E_STATE;
    }
    randombytes_buf(bytes, sizeof bytes);
    sodium_bin2base64(out, AUTH_TOKEN_LEN, bytes, sizeof bytes,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(bytes, sizeof bytes);
    return 0;
}

int auth_token_valid(const char *token)
{
    if (!token || strnlen(token, AUTH_TOKEN_LEN) != AUTH_TOKEN_LEN - 1) {
        return 0;
    }
    for (size_t i = 0; i < AUTH_TOKEN_LEN - 1; i++) {
        char c = token[i];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_';
        if (!ok) {
            return 0;
        }
    }
    return 1;
}

void auth_token_hash(const char *token, unsigned char out[AUTH_TOKEN_HASH_LEN])
{
    crypto_generichash(out, AUTH_TOKEN_HASH_LEN, (const unsigned char *)token, strlen(token), NULL,
                       0);
}

int auth_equal(const char *a, const char *b)
{
    if (!a || !b) {
        return 0;
    }
    size_t len = strlen(a);
    if (strlen(b) != len) {
        return 0;
    }
    return sodium_memcmp(a, b, len) == 0;
}

/* ---- the back-off ---- */

unsigned auth_lockout_delay_s(int64_t failures)
{
    if (failures <= AUTH_LOCK_FREE_FAILURES) {
        return 0;
    }
    int64_t doublings = failures - AUTH_LOCK_FREE_FAILURES - 1;
    unsigned delay = AUTH_LOCK_FIRST_S;
    for (int64_t i = 0; i < doublings && delay < AUTH_LOCK_MAX_S; i++) {
        delay *= 2;
    }
    return delay < AUTH_LOCK_MAX_S ? delay : AUTH_LOCK_MAX_S;
}

/* ---- passwords from a person ---- */

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
    interrupted = sig;
}

int auth_read_password(const char *prompt, char *out, size_t len)
{
    if (!out || len < 2) {
        return HUB_E_ARG;
    }
    struct termios saved, quiet;
    struct sigaction on_sig, old_int, old_term, old_quit;
    int tty = isatty(STDIN_FILENO), echo_off = 0;
    interrupted = 0;
    if (tty) {
        /* Catch a Ctrl-C, so that the terminal gets its echo back before
         * the program dies of it. */
        memset(&on_sig, 0, sizeof on_sig);
        on_sig.sa_handler = on_interrupt;
        sigemptyset(&on_sig.sa_mask);
        sigaction(SIGINT, &on_sig, &old_int);
        sigaction(SIGTERM, &on_sig, &old_term);
        sigaction(SIGQUIT, &on_sig, &old_quit);
        fputs(prompt ? prompt : "password: ", stderr);
        fflush(stderr);
        if (tcgetattr(STDIN_FILENO, &saved) == 0) {
            quiet = saved;
            quiet.c_lflag &= ~(tcflag_t)ECHO;
            echo_off = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
        }
    }
    /* One byte at a time: nothing past the line is consumed, and no copy
     * of the password is left in a stdio buffer. */
    size_t n = 0;
    int too_long = 0, failed = 0, ended = 0;
    for (;;) {
        char c;
        ssize_t got = read(STDIN_FILENO, &c, 1);
        if (got < 0 && errno == EINTR && !interrupted) {
            continue;
        }
        if (got <= 0) {
            failed = got < 0;
            ended = 1;
            break;
        }
        if (c == '\n') {
            break;
        }
        if (n + 1 < len) {
            out[n++] = c;
        } else {
            too_long = 1;
        }
    }
    if (n > 0 && out[n - 1] == '\r') {
        n--;
    }
    out[n] = '\0';
    if (tty) {
        if (echo_off) {
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
        }
        fputc('\n', stderr);
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        sigaction(SIGQUIT, &old_quit, NULL);
        if (interrupted) {
            sodium_memzero(out, len);
            raise(interrupted);
            return HUB_E_IO;
        }
    }
    if (too_long) {
        sodium_memzero(out, len);
        return HUB_E_ARG;
    }
    if (failed || (ended && n == 0)) {
        sodium_memzero(out, len);
        return HUB_E_IO;
    }
    return 0;
}
