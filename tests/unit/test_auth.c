/* SPDX-License-Identifier: MIT */
/*
 * test_auth.c - the secrets of the township's accounts: Argon2id hashes
 * that verify the right password only, session tokens of the documented
 * form that never repeat, the back-off table of failed logins, the limits
 * of names and passwords, and passwords read from stdin as a script gives
 * them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth.h"
#include "hub_error.h"

#include <pthread.h>
#include <sodium.h>

static void test_hash_and_verify(void **state)
{
    (void)state;
    char hash[AUTH_HASH_LEN], again[AUTH_HASH_LEN];
    assert_int_equal(auth_hash_password("黄土坡调解 2026", hash), 0);
    /* Argon2id at the interactive limits, in the PHC form. */
    assert_true(strncmp(hash, "$argon2id$v=19$m=65536,t=2,p=1$", 31) == 0);
    assert_int_equal(auth_verify(hash, "黄土坡调解 2026"), 0);
    /* The salt is random: the same password hashes differently. */
    assert_int_equal(auth_hash_password("黄土坡调解 2026", again), 0);
    assert_string_not_equal(hash, again);
    assert_int_equal(auth_verify(again, "黄土坡调解 2026"), 0);
}

static void test_wrong_password(void **state)
{
    (void)state;
    char hash[AUTH_HASH_LEN];
    assert_int_equal(auth_hash_password("correct horse", hash), 0);
    assert_int_equal(auth_verify(hash, "correct horsE"), HUB_E_AUTH);
    assert_int_equal(auth_verify(hash, "correct horse "), HUB_E_AUTH);
    assert_int_equal(auth_verify(hash, ""), HUB_E_AUTH);
    assert_int_equal(auth_verify(hash, NULL), HUB_E_AUTH);
    /* What is not an Argon2id hash verifies nothing. */
    assert_int_equal(auth_verify("", "correct horse"), HUB_E_AUTH);
    assert_int_equal(auth_verify(NULL, "correct horse"), HUB_E_AUTH);
    assert_int_equal(auth_verify("correct horse", "correct horse"), HUB_E_AUTH);
    /* Passwords outside the limits are not hashed. */
    assert_int_equal(auth_hash_password("short", hash), HUB_E_ARG);
    assert_string_equal(hash, "");
}

static void test_dummy_hash(void **state)
{
    (void)state;
    const char *dummy = auth_dummy_hash();
    assert_true(strncmp(dummy, "$argon2id$v=19$m=65536,t=2,p=1$", 31) == 0);
    assert_ptr_equal(auth_dummy_hash(), dummy); /* made once */
    assert_int_equal(auth_verify(dummy, "password"), HUB_E_AUTH);
    assert_int_equal(auth_verify(dummy, ""), HUB_E_AUTH);
}

static void *verify_in_thread(void *hash)
{
    return (void *)(intptr_t)auth_verify(hash, "many at once");
}

static void test_hashes_at_once(void **state)
{
    (void)state;
    char hash[AUTH_HASH_LEN];
    assert_int_equal(auth_hash_password("many at once", hash), 0);
    pthread_t threads[5];
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(pthread_create(&threads[i], NULL, verify_in_thread, hash), 0);
    }
    for (size_t i = 0; i < 5; i++) {
        void *result = NULL;
        assert_int_equal(pthread_join(threads[i], &result), 0);
        assert_int_equal((int)(intptr_t)result, 0); /* all wait their turn, none fails */
    }
}

static int compare_tokens(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void test_tokens(void **state)
{
    (void)state;
    enum { N = 2000 };
    char(*tokens)[AUTH_TOKEN_LEN] = calloc(N, AUTH_TOKEN_LEN);
    assert_non_null(tokens);
    for (size_t i = 0; i < N; i++) {
        assert_int_equal(auth_token_new(tokens[i]), 0);
        assert_int_equal(strlen(tokens[i]), 43);
        assert_true(auth_token_valid(tokens[i]));
        assert_int_equal(strspn(tokens[i], "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                           "0123456789-_"),
                         43);
        /* 32 bytes of base64url without padding. */
        unsigned char bin[64];
        size_t bin_len = 0;
        assert_int_equal(sodium_base642bin(bin, sizeof bin, tokens[i], 43, NULL, &bin_len, NULL,
                                           sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                         0);
        assert_int_equal(bin_len, AUTH_TOKEN_BYTES);
    }
    qsort(tokens, N, AUTH_TOKEN_LEN, compare_tokens);
    for (size_t i = 1; i < N; i++) {
        assert_string_not_equal(tokens[i - 1], tokens[i]);
    }
    free(tokens);
}

static void test_token_form(void **state)
{
    (void)state;
    const char *good = "EERlOHbgy8mMOt5gdllnn9kNeoKS5HNRpiviPHiSHl0";
    assert_true(auth_token_valid(good));
    assert_false(auth_token_valid(NULL));
    assert_false(auth_token_valid(""));
    assert_false(auth_token_valid("EERlOHbgy8mMOt5gdllnn9kNeoKS5HNRpiviPHiSHl"));   /* 42 */
    assert_false(auth_token_valid("EERlOHbgy8mMOt5gdllnn9kNeoKS5HNRpiviPHiSHl0A")); /* 44 */
    assert_false(auth_token_valid("EERlOHbgy8mMOt5gdllnn9kNeoKS5HNRpiviPHiSHl+"));
    assert_false(auth_token_valid("EERlOHbgy8mMOt5gdllnn9kNeoKS5HNRpiviPHiSHl/"));
    assert_false(auth_token_valid("EERlOHbgy8mMOt5gdllnn9kNeoKS5HNRpiviPHiSHl="));
    assert_false(auth_token_valid("EERlOHbgy8mMOt5gdllnn9kNeoKS5HNRpiviPHiSH;0"));

    /* The stored form is BLAKE2b-256 of the text, one per token. */
    unsigned char h1[AUTH_TOKEN_HASH_LEN], h2[AUTH_TOKEN_HASH_LEN], want[AUTH_TOKEN_HASH_LEN];
    auth_token_hash(good, h1);
    crypto_generichash(want, sizeof want, (const unsigned char *)good, strlen(good), NULL, 0);
    assert_memory_equal(h1, want, sizeof want);
    auth_token_hash("FERlOHbgy8mMOt5gdllnn9kNeoKS5HNRpiviPHiSHl0", h2);
    assert_memory_not_equal(h1, h2, sizeof h1);

    assert_true(auth_equal(good, "EERlOHbgy8mMOt5gdllnn9kNeoKS5HNRpiviPHiSHl0"));
    assert_false(auth_equal(good, "FERlOHbgy8mMOt5gdllnn9kNeoKS5HNRpiviPHiSHl0"));
    assert_false(auth_equal(good, "EERlOHbgy8mMOt5gdllnn9kNeoKS5HNRpiviPHiSHl"));
    assert_false(auth_equal(good, ""));
    assert_false(auth_equal(good, NULL));
    assert_false(auth_equal(NULL, NULL));
}

static void test_lockout_delays(void **state)
{
    (void)state;
    static const struct {
        int64_t failures;
        unsigned delay_s;
    } table[] = {
        {-1, 0},    {0, 0},     {1, 0},     {2, 0},     {3, 0},       {4, 0},
        {5, 30},    {6, 60},    {7, 120},   {8, 240},   {9, 480},     {10, 960},
        {11, 1920}, {12, 3600}, {13, 3600}, {40, 3600}, {1000, 3600}, {INT64_MAX, 3600},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (auth_lockout_delay_s(table[i].failures) != table[i].delay_s) {
            fail_msg("%lld failures: %u s, expected %u s", (long long)table[i].failures,
                     auth_lockout_delay_s(table[i].failures), table[i].delay_s);
        }
    }
}

static void test_name_limits(void **state)
{
    (void)state;
    char name[80];
    assert_true(auth_name_valid("a"));
    assert_true(auth_name_valid("wangfang"));
    assert_true(auth_name_valid("王芳"));
    assert_true(auth_name_valid("li.ming-2"));
    memset(name, 'x', 63);
    name[63] = '\0';
    assert_true(auth_name_valid(name));
    name[63] = 'x';
    name[64] = '\0';
    assert_false(auth_name_valid(name));
    /* 21 three-byte characters are 63 bytes; 22 are too many. */
    name[0] = '\0';
    for (int i = 0; i < 21; i++) {
        memcpy(name + 3 * i, "王", 4);
    }
    assert_true(auth_name_valid(name));
    memcpy(name + 63, "王", 4);
    assert_false(auth_name_valid(name));
    assert_false(auth_name_valid(NULL));
    assert_false(auth_name_valid(""));
    assert_false(auth_name_valid("wang fang"));
    assert_false(auth_name_valid("wang\tfang"));
    assert_false(auth_name_valid("wang\nfang"));
    assert_false(auth_name_valid("wang\x7f"));
    assert_false(auth_name_valid("wang\xff"));
    assert_false(auth_name_valid("\xe7\x8e")); /* a character cut in half */
}

static void test_password_limits(void **state)
{
    (void)state;
    char password[300];
    assert_false(auth_password_valid(NULL));
    assert_false(auth_password_valid(""));
    assert_false(auth_password_valid("1234567"));
    assert_true(auth_password_valid("12345678"));
    assert_true(auth_password_valid("with spaces in it"));
    assert_true(auth_password_valid("调解委员会")); /* 15 bytes */
    assert_false(auth_password_valid("调解"));      /* 6 bytes */
    assert_false(auth_password_valid("line\nbreak1"));
    assert_false(auth_password_valid("tab\tinside"));
    assert_false(auth_password_valid("bad\xff utf-8"));
    memset(password, 'p', 256);
    password[256] = '\0';
    assert_true(auth_password_valid(password));
    password[256] = 'p';
    password[257] = '\0';
    assert_false(auth_password_valid(password));
}

/* Run auth_read_password() with stdin the given bytes (a pipe). */
struct reader {
    int saved;
};

static void stdin_from(struct reader *r, const char *input)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(write(fds[1], input, strlen(input)), (ssize_t)strlen(input));
    close(fds[1]);
    r->saved = dup(STDIN_FILENO);
    assert_true(r->saved >= 0);
    assert_int_equal(dup2(fds[0], STDIN_FILENO), STDIN_FILENO);
    close(fds[0]);
}

static void stdin_back(struct reader *r)
{
    assert_int_equal(dup2(r->saved, STDIN_FILENO), STDIN_FILENO);
    close(r->saved);
}

static void test_read_password(void **state)
{
    (void)state;
    struct reader r;
    char out[AUTH_PASSWORD_MAX + 2];

    /* One line each, and nothing past it is consumed. */
    stdin_from(&r, "first password\nsecond one\r\nlast without newline");
    assert_int_equal(auth_read_password("unused: ", out, sizeof out), 0);
    assert_string_equal(out, "first password");
    assert_int_equal(auth_read_password(NULL, out, sizeof out), 0);
    assert_string_equal(out, "second one");
    assert_int_equal(auth_read_password(NULL, out, sizeof out), 0);
    assert_string_equal(out, "last without newline");
    assert_int_equal(auth_read_password(NULL, out, sizeof out), HUB_E_IO);
    stdin_back(&r);

    /* A line too long for the buffer is refused whole, and wiped. */
    char input[700];
    memset(input, 'x', 600);
    memcpy(input + 600, "\nnext line\n", 12);
    stdin_from(&r, input);
    assert_int_equal(auth_read_password(NULL, out, sizeof out), HUB_E_ARG);
    assert_string_equal(out, "");
    assert_int_equal(auth_read_password(NULL, out, sizeof out), 0);
    assert_string_equal(out, "next line");
    stdin_back(&r);

    /* An empty line is read as empty: the caller's limits refuse it. */
    stdin_from(&r, "\n");
    assert_int_equal(auth_read_password(NULL, out, sizeof out), 0);
    assert_string_equal(out, "");
    assert_false(auth_password_valid(out));
    stdin_back(&r);

    stdin_from(&r, "");
    assert_int_equal(auth_read_password(NULL, out, sizeof out), HUB_E_IO);
    stdin_back(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_and_verify), cmocka_unit_test(test_wrong_password),
        cmocka_unit_test(test_dummy_hash),      cmocka_unit_test(test_hashes_at_once),
        cmocka_unit_test(test_tokens),          cmocka_unit_test(test_token_form),
        cmocka_unit_test(test_lockout_delays),  cmocka_unit_test(test_name_limits),
        cmocka_unit_test(test_password_limits), cmocka_unit_test(test_read_password),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
