/* SPDX-License-Identifier: MIT */
/*
 * test_records.c - the agent's command-line views: FIELD=VALUE parsing
 * against the schema, masking of personal numbers, short ids, and the
 * laptop's settings kept in its ledger file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "local.h"
#include "records.h"
#include "sync_error.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/hamlet-test-records-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static void test_parse(void **state)
{
    (void)state;
    char a1[] = "title=邻里纠纷", a2[] = "severity=2", a3[] = "claims=";
    char *ok[] = {a1, a2, a3};
    struct records_fields f;
    char why[200];
    assert_int_equal(records_parse("cases", 3, ok, &f, why, sizeof why), 0);
    assert_int_equal(f.n, 3);
    assert_string_equal(f.names[0], "title");
    assert_string_equal(f.values[0].s, "邻里纠纷");
    assert_int_equal(f.values[1].type, SYNC_INT);
    assert_int_equal(f.values[1].i, 2);
    assert_int_equal(f.values[2].type, SYNC_NULL); /* an empty value clears */
    char b1[] = "severity=two";
    char *bad_number[] = {b1};
    assert_int_equal(records_parse("cases", 1, bad_number, &f, why, sizeof why), -1);
    assert_non_null(strstr(why, "severity"));
    char b2[] = "colour=red";
    char *unknown[] = {b2};
    assert_int_equal(records_parse("cases", 1, unknown, &f, why, sizeof why), -1);
    assert_non_null(strstr(why, "colour"));
    char b3[] = "justtext";
    char *no_eq[] = {b3};
    assert_int_equal(records_parse("cases", 1, no_eq, &f, why, sizeof why), -1);
    char b4[] = "village=other";
    char *reserved[] = {b4};
    assert_int_equal(records_parse("cases", 1, reserved, &f, why, sizeof why), -1);
}

static void test_mask(void **state)
{
    (void)state;
    char out[64];
    records_mask("phone", "13800138000", out, sizeof out);
    assert_string_equal(out, "138****8000");
    records_mask("id_no", "110101199003071234", out, sizeof out);
    assert_string_equal(out, "1101**********1234");
    records_mask("phone", "12345", out, sizeof out);
    assert_string_equal(out, "*****");
    records_mask("phone", "", out, sizeof out);
    assert_string_equal(out, "");
}

static void test_local_settings_and_short_ids(void **state)
{
    (void)state;
    char path[128], why[300];
    snprintf(path, sizeof path, "%s/sub/ledger.db", dir);
    struct local l;
    assert_int_equal(local_open(path, 0, &l, why, sizeof why), SYNC_E_NOT_FOUND);
    assert_non_null(strstr(why, "hamlet init"));
    assert_int_equal(local_open(path, 1, &l, why, sizeof why), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600); /* personal data: owner only */
    assert_int_equal(local_set_village(&l, "baisha", "白沙村"), 0);
    assert_int_equal(local_set_village(&l, "other", NULL), SYNC_E_STATE);
    assert_int_equal(local_count_bytes(&l, 100, 2000), 0);
    assert_int_equal(local_count_bytes(&l, 1, 2), 0);
    assert_int_equal(local_get_int(&l, "agent.bytes_up_today", 0), 101);
    assert_int_equal(local_get_int(&l, "agent.bytes_down_month", 0), 2002);
    char id[UUID7_STRLEN + 1], found[UUID7_STRLEN + 1];
    assert_int_equal(uuid7_now(id), 0);
    const char *cols[] = {"title"};
    struct sync_value v = {.type = SYNC_TEXT, .s = "x"};
    assert_int_equal(replica_put(l.replica, "cases", id, "baisha", 1, cols, &v, NULL), 0);
    assert_int_equal(local_pending(&l), 1);
    char prefix[16];
    snprintf(prefix, sizeof prefix, "%.10s", id);
    assert_int_equal(records_resolve(&l, "cases", prefix, found), 0);
    assert_string_equal(found, id);
    assert_int_equal(records_resolve(&l, "cases", "0123", found), SYNC_E_ARG);
    assert_int_equal(records_resolve(&l, "cases", "ffffffff", found), SYNC_E_NOT_FOUND);
    local_close(&l);
    /* The village is remembered. */
    assert_int_equal(local_open(path, 0, &l, why, sizeof why), 0);
    assert_string_equal(l.village, "baisha");
    assert_string_equal(l.village_name, "白沙村");
    local_close(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_mask),
        cmocka_unit_test_setup_teardown(test_local_settings_and_short_ids, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
