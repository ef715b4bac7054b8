/* SPDX-License-Identifier: MIT */
/*
 * test_devices.c - device secrets and enrolment codes: fresh, of the right
 * form, hashed so that only the same secret matches, and codes that a
 * laptop can split back into their parts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "devices.h"
#include "hub_error.h"

static void test_secrets_are_fresh_and_urlsafe(void **state)
{
    (void)state;
    assert_true(sodium_init() >= 0);
    char a[DEVICES_SECRET_LEN], b[DEVICES_SECRET_LEN], code[DEVICES_CODE_LEN];
    devices_new_secret(a);
    devices_new_secret(b);
    devices_new_code(code);
    assert_int_equal(strlen(a), 43);
    assert_int_equal(strlen(code), 22);
    assert_string_not_equal(a, b);
    for (const char *p = a; *p; p++) {
        assert_non_null(
            strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p));
    }
}

static void test_hashes_match_only_the_same_secret(void **state)
{
    (void)state;
    unsigned char h1[DEVICES_HASH_LEN], h2[DEVICES_HASH_LEN], h3[DEVICES_HASH_LEN];
    devices_hash("secret-one", h1);
    devices_hash("secret-one", h2);
    devices_hash("secret-onf", h3);
    assert_true(devices_hash_equal(h1, h2));
    assert_false(devices_hash_equal(h1, h3));
}

static void test_enrolment_code(void **state)
{
    (void)state;
    char line[512];
    assert_int_equal(devices_enrolment_code("https://hub:8443",
                                            "sha256//abc=", "019b7a3c-5e00-7a21-9c3e-2f6b1d0a4e55",
                                            "code", line, sizeof line),
                     0);
    assert_string_equal(line, "HAMLET1:https://hub:8443|sha256//abc=|"
                              "019b7a3c-5e00-7a21-9c3e-2f6b1d0a4e55|code");
    assert_int_equal(devices_enrolment_code("https://a|b", "p", "d", "c", line, sizeof line),
                     HUB_E_ARG);
    assert_int_equal(devices_enrolment_code("", "p", "d", "c", line, sizeof line), HUB_E_ARG);
    assert_int_equal(devices_enrolment_code("u", "p", "d", "c", line, 8), HUB_E_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_secrets_are_fresh_and_urlsafe),
        cmocka_unit_test(test_hashes_match_only_the_same_secret),
        cmocka_unit_test(test_enrolment_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
