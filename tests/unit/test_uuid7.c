/* SPDX-License-Identifier: MIT */
/*
 * test_uuid7.c - unit tests for offline record ids (sync-protocol/uuid7.h).
 * Ids made with uuid7_make() must be canonical UUIDv7 text, carry the time
 * they were made for, and sort in the order they were made, even when many
 * are made in one millisecond or the clock steps back. uuid7_valid() and
 * uuid7_time() must refuse anything but the canonical lower-case form.
 *
 * uuid7_make() remembers the last millisecond it used (per thread), so each
 * test takes its times from fresh_ms(), which only moves forward.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "uuid7.h"
#include "sync_error.h"

#include <stdlib.h>
#include <string.h>

#define SAME_MS_IDS 10000

/* A millisecond later than any a previous test used, with room to spare. */
static int64_t fresh_ms(void)
{
    static int64_t next = 1700000000000LL;
    next += 10000000;
    return next;
}

static void make_ok(int64_t ms, char out[UUID7_STRLEN + 1])
{
    assert_int_equal(uuid7_make(ms, out), 0);
    assert_true(uuid7_valid(out));
}

static void test_canonical_form(void **state)
{
    (void)state;
    char id[UUID7_STRLEN + 1];
    for (int i = 0; i < 1000; i++) {
        int64_t ms = fresh_ms();
        make_ok(ms, id);
        assert_int_equal(strlen(id), UUID7_STRLEN);
        assert_int_equal(uuid7_valid(id), 1);
        assert_int_equal(id[8], '-');
        assert_int_equal(id[13], '-');
        assert_int_equal(id[18], '-');
        assert_int_equal(id[23], '-');
        /* Version 7 in the first nibble of the third group. */
        assert_int_equal(id[14], '7');
        /* Variant bits 10: the first nibble of the fourth group is 8-b. */
        assert_non_null(strchr("89ab", id[19]));
        assert_true(uuid7_time(id) == ms);
    }
}

static void test_known_time(void **state)
{
    (void)state;
    /* RFC 9562, appendix A.6, in lower case. */
    assert_true(uuid7_time("017f22e2-79b0-7cc3-98c4-dc0c0c07398f") == 1645557742000LL);
    assert_true(uuid7_time("00000000-0000-7000-8000-000000000000") == 0);
    assert_true(uuid7_time("ffffffff-ffff-7fff-bfff-ffffffffffff") == 0xffffffffffffLL);
}

static int compare_tails(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a + 24, *(const char *const *)b + 24);
}

static void test_same_millisecond_increasing(void **state)
{
    (void)state;
    char(*ids)[UUID7_STRLEN + 1] = calloc(SAME_MS_IDS, sizeof *ids);
    const char **tails = calloc(SAME_MS_IDS, sizeof *tails);
    assert_non_null(ids);
    assert_non_null(tails);
    int64_t ms = fresh_ms();
    for (int i = 0; i < SAME_MS_IDS; i++) {
        make_ok(ms, ids[i]);
        assert_int_equal(ids[i][14], '7');
        assert_true(uuid7_time(ids[i]) >= ms);
        tails[i] = ids[i];
    }
    assert_true(uuid7_time(ids[0]) == ms);
    for (int i = 1; i < SAME_MS_IDS; i++) {
        assert_true(strcmp(ids[i - 1], ids[i]) < 0);
    }
    /* The last 48 bits are random: ten thousand of them do not repeat, so
     * two devices making ids in the same millisecond do not collide. */
    qsort(tails, SAME_MS_IDS, sizeof *tails, compare_tails);
    for (int i = 1; i < SAME_MS_IDS; i++) {
        assert_true(strcmp(tails[i - 1] + 24, tails[i] + 24) != 0);
    }
    free(tails);
    free(ids);
}

static void test_increasing_time_increasing_ids(void **state)
{
    (void)state;
    char prev[UUID7_STRLEN + 1];
    char id[UUID7_STRLEN + 1];
    int64_t ms = fresh_ms();
    make_ok(ms, prev);
    for (int k = 1; k < 2000; k++) {
        /* Steps of 1 ms, and now and then a larger one. */
        ms += k % 100 == 0 ? 1000 : 1;
        make_ok(ms, id);
        assert_true(uuid7_time(id) == ms);
        assert_true(strcmp(prev, id) < 0);
        memcpy(prev, id, sizeof id);
    }
}

static void test_backwards_time_still_increasing(void **state)
{
    (void)state;
    char prev[UUID7_STRLEN + 1];
    char id[UUID7_STRLEN + 1];
    int64_t ms = fresh_ms();
    make_ok(ms, prev);
    static const int64_t steps[] = {-1, -1000, 0, -86400000, 1, -5, 0, 2};
    for (int round = 0; round < 500; round++) {
        for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
            make_ok(ms + steps[i], id);
            assert_int_equal(id[14], '7');
            assert_true(strcmp(prev, id) < 0);
            memcpy(prev, id, sizeof id);
        }
    }
}

static void test_valid_accepts(void **state)
{
    (void)state;
    /* Any version in canonical lower-case form. */
    assert_int_equal(uuid7_valid("017f22e2-79b0-7cc3-98c4-dc0c0c07398f"), 1);
    assert_int_equal(uuid7_valid("919108f7-52d1-4320-9bac-f847db4148a8"), 1);
    assert_int_equal(uuid7_valid("00000000-0000-0000-0000-000000000000"), 1);
}

static void test_valid_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "017F22E2-79B0-7CC3-98C4-DC0C0C07398F",  /* upper case */
        "017f22e2-79b0-7cc3-98c4-dc0c0c07398F",  /* one upper-case digit */
        "017f22e2-79b0-7cc3-98c4-dc0c0c07398",   /* 35 characters */
        "017f22e2-79b0-7cc3-98c4-dc0c0c07398f0", /* 37 characters */
        "017f22e279b07cc398c4dc0c0c07398f",      /* no dashes */
        "017f22e-279b0-7cc3-98c4-dc0c0c07398f",  /* first dash one early */
        "017f22e27-9b0-7cc3-98c4-dc0c0c07398f",  /* first dash one late */
        "017f22e2-79b07-cc3-98c4-dc0c0c07398f",  /* second dash misplaced */
        "017f22e2-79b0-7cc39-8c4-dc0c0c07398f",  /* third dash misplaced */
        "017f22e2-79b0-7cc3-98c4d-c0c0c07398f",  /* fourth dash misplaced */
        "017f22e2_79b0-7cc3-98c4-dc0c0c07398f",  /* not a dash */
        "017f22e2-79b0-7cc3-98c4-dc0c0c07398g",  /* not hex */
        "017f22e2-79b0-7cc3-98c4-dc0c0c07 98f",  /* space */
        "{17f22e2-79b0-7cc3-98c4-dc0c0c07398f",  /* brace */
        "017f22e2-79b0-7cc3-98c4-dc0c0c07398-",  /* dash in a digit's place */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(uuid7_valid(bad[i]), 0);
    }
    assert_int_equal(uuid7_valid(NULL), 0);
}

static void test_time_refuses(void **state)
{
    (void)state;
    /* Valid UUIDs of other versions have no time to give. */
    assert_true(uuid7_time("919108f7-52d1-4320-9bac-f847db4148a8") == -1);
    assert_true(uuid7_time("017f22e2-79b0-1cc3-98c4-dc0c0c07398f") == -1);
    assert_true(uuid7_time("017f22e2-79b0-6cc3-98c4-dc0c0c07398f") == -1);
    assert_true(uuid7_time("017f22e2-79b0-8cc3-98c4-dc0c0c07398f") == -1);
    /* Not valid at all. */
    assert_true(uuid7_time("017F22E2-79B0-7CC3-98C4-DC0C0C07398F") == -1);
    assert_true(uuid7_time("017f22e2-79b0-7cc3-98c4-dc0c0c07398") == -1);
    assert_true(uuid7_time("017f22e279b07cc398c4dc0c0c07398f") == -1);
    assert_true(uuid7_time("") == -1);
    assert_true(uuid7_time("not an id") == -1);
    assert_true(uuid7_time(NULL) == -1);
}

static void test_now(void **state)
{
    (void)state;
    char a[UUID7_STRLEN + 1];
    char b[UUID7_STRLEN + 1];
    assert_int_equal(uuid7_now(a), 0);
    assert_int_equal(uuid7_now(b), 0);
    assert_true(uuid7_valid(a));
    assert_true(uuid7_valid(b));
    assert_true(uuid7_time(a) > 0);
    assert_true(strcmp(a, b) < 0);
}

/* Derived ids: BLAKE2b-128 of the seed as a version-8 UUID, the values
 * every replica must agree on (PROTOCOL.md 1). */
static void test_derive(void **state)
{
    (void)state;
    char id[UUID7_STRLEN + 1];
    assert_int_equal(uuid7_derive("04aea4e3-f8c9-49c6-a460-d415c80d276e/party/0", id), 0);
    assert_string_equal(id, "2ae3ce23-de9c-8409-aee2-11618650335f");
    assert_int_equal(uuid7_derive("township_rules/杨柳村", id), 0);
    assert_string_equal(id, "69660bc8-4d9a-8181-93d8-979c842a15d6");
    assert_true(uuid7_valid(id));
    assert_int_equal(uuid7_derive(NULL, id), SYNC_E_ARG);
    char big[1002];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(uuid7_derive(big, id), SYNC_E_ARG);
    big[1000] = '\0';
    assert_int_equal(uuid7_derive(big, id), 0);
}

static void test_from_valid(void **state)
{
    (void)state;
    static const char *const good[] = {
        "04aea4e3-f8c9-49c6-a460-d415c80d276e/party/0",
        "04aea4e3-f8c9-49c6-a460-d415c80d276e/x",
        "04aea4e3-f8c9-49c6-a460-d415c80d276e/A-Z_a.z/09",
        "04aea4e3-f8c9-49c6-a460-d415c80d276e/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    };
    static const char *const bad[] = {
        "04aea4e3-f8c9-49c6-a460-d415c80d276e",
        "04aea4e3-f8c9-49c6-a460-d415c80d276e/",
        "04aea4e3-f8c9-49c6-a460-d415c80d276e/a b",
        "04aea4e3-f8c9-49c6-a460-d415c80d276e/参与人",
        "04aea4e3-f8c9-49c6-a460-d415c80d276e/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "04AEA4E3-F8C9-49C6-A460-D415C80D276E/party/0",
        "04aea4e3f8c9-49c6-a460-d415c80d276e-/party/0",
        "/party/0",
        "township_rules/杨柳村",
        "",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_true(uuid7_from_valid(good[i]));
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (uuid7_from_valid(bad[i])) {
            fail_msg("accepted \"%s\"", bad[i]);
        }
    }
    assert_false(uuid7_from_valid(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical_form),
        cmocka_unit_test(test_known_time),
        cmocka_unit_test(test_same_millisecond_increasing),
        cmocka_unit_test(test_increasing_time_increasing_ids),
        cmocka_unit_test(test_backwards_time_still_increasing),
        cmocka_unit_test(test_valid_accepts),
        cmocka_unit_test(test_valid_rejects),
        cmocka_unit_test(test_time_refuses),
        cmocka_unit_test(test_now),
        cmocka_unit_test(test_derive),
        cmocka_unit_test(test_from_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
