/* SPDX-License-Identifier: MIT */
/*
 * test_sync_error.c - unit tests for the engine's error words
 * (sync-protocol/sync_error.h). Every code must have its own sentence for
 * people and its own lower-case name for the wire (refusal reasons), and an
 * unknown code must still give words rather than NULL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sync_error.h"

#include <string.h>

/* Every code in sync_error.h; keep in step with the header. */
static const int codes[] = {
    SYNC_OK,
    SYNC_E_NOMEM,
    SYNC_E_DB,
    SYNC_E_ARG,
    SYNC_E_SCHEMA,
    SYNC_E_MIGRATION,
    SYNC_E_RANDOM,
    SYNC_E_HLC_DRIFT,
    SYNC_E_HLC_OVERFLOW,
    SYNC_E_ENV_TRUNCATED,
    SYNC_E_ENV_MAGIC,
    SYNC_E_ENV_VERSION,
    SYNC_E_ENV_FLAGS,
    SYNC_E_ENV_CRC,
    SYNC_E_ENV_TOO_BIG,
    SYNC_E_ENV_INFLATED,
    SYNC_E_ENV_RATIO,
    SYNC_E_ENV_CORRUPT,
    SYNC_E_ENV_LENGTH,
    SYNC_E_ENV_TRAILING,
    SYNC_E_UTF8,
    SYNC_E_JSON,
    SYNC_E_JSON_DEPTH,
    SYNC_E_JSON_STRING,
    SYNC_E_JSON_NOT_OBJECT,
    SYNC_E_TOO_MANY,
    SYNC_E_FIELD_MISSING,
    SYNC_E_FIELD_TYPE,
    SYNC_E_DELTA_VERSION,
    SYNC_E_UNKNOWN_TABLE,
    SYNC_E_UNKNOWN_COLUMN,
    SYNC_E_NOT_FOUND,
    SYNC_E_PARTITION,
    SYNC_E_IMMUTABLE,
    SYNC_E_APPEND_ONLY,
    SYNC_E_ORIGIN,
    SYNC_E_STATE,
};

#define NCODES       (sizeof codes / sizeof codes[0])
#define UNKNOWN_CODE 12345

static int is_listed(int code)
{
    for (size_t i = 0; i < NCODES; i++) {
        if (codes[i] == code) {
            return 1;
        }
    }
    return 0;
}

static void test_codes_distinct(void **state)
{
    (void)state;
    for (size_t i = 0; i < NCODES; i++) {
        for (size_t j = 0; j < i; j++) {
            assert_int_not_equal(codes[i], codes[j]);
        }
        /* Success is 0; every failure is negative. */
        assert_true(i == 0 ? codes[i] == 0 : codes[i] < 0);
    }
}

static void test_strerror_distinct(void **state)
{
    (void)state;
    const char *unknown = sync_strerror(UNKNOWN_CODE);
    for (size_t i = 0; i < NCODES; i++) {
        const char *text = sync_strerror(codes[i]);
        assert_non_null(text);
        if (text[0] == '\0' || !strcmp(text, unknown)) {
            fail_msg("code %d has no words of its own", codes[i]);
        }
        for (size_t j = 0; j < i; j++) {
            if (!strcmp(text, sync_strerror(codes[j]))) {
                fail_msg("codes %d and %d share the text \"%s\"", codes[i], codes[j], text);
            }
        }
    }
}

static void test_names_distinct(void **state)
{
    (void)state;
    for (size_t i = 0; i < NCODES; i++) {
        const char *name = sync_error_name(codes[i]);
        assert_non_null(name);
        if (name[0] == '\0' || !strcmp(name, "unknown")) {
            fail_msg("code %d has no name of its own", codes[i]);
        }
        /* Names travel on the wire as lower-case tokens. */
        for (const char *c = name; *c; c++) {
            if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_')) {
                fail_msg("code %d: name \"%s\" is not a lower-case token", codes[i], name);
            }
        }
        for (size_t j = 0; j < i; j++) {
            if (!strcmp(name, sync_error_name(codes[j]))) {
                fail_msg("codes %d and %d share the name \"%s\"", codes[i], codes[j], name);
            }
        }
    }
}

static void test_wire_names(void **state)
{
    (void)state;
    /* Names are part of the wire protocol (refusal reasons): never renamed. */
    assert_string_equal(sync_error_name(SYNC_OK), "ok");
    assert_string_equal(sync_error_name(SYNC_E_ENV_CRC), "env_crc");
    assert_string_equal(sync_error_name(SYNC_E_HLC_DRIFT), "hlc_drift");
    assert_string_equal(sync_error_name(SYNC_E_PARTITION), "partition");
    assert_string_equal(sync_error_name(SYNC_E_FIELD_TYPE), "field_type");
}

static void test_unknown(void **state)
{
    (void)state;
    static const int unknown[] = {UNKNOWN_CODE, 1, -7, -12, -19, -31, -66, -1000, INT32_MIN};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        assert_string_equal(sync_error_name(unknown[i]), "unknown");
        const char *text = sync_strerror(unknown[i]);
        assert_non_null(text);
        assert_true(text[0] != '\0');
    }
}

static void test_no_unlisted_codes(void **state)
{
    (void)state;
    /* A code with words but missing from the list above means the header
     * grew and this test did not: every named code in range is listed. */
    for (int code = -200; code <= 200; code++) {
        if (strcmp(sync_error_name(code), "unknown") != 0 && !is_listed(code)) {
            fail_msg("code %d (%s) is not in this test's list", code, sync_error_name(code));
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codes_distinct), cmocka_unit_test(test_strerror_distinct),
        cmocka_unit_test(test_names_distinct), cmocka_unit_test(test_wire_names),
        cmocka_unit_test(test_unknown),        cmocka_unit_test(test_no_unlisted_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
