/* SPDX-License-Identifier: MIT */
/*
 * test_daemon.c - the background sync's schedule: after a change it syncs
 * every interval; while nothing moves the interval doubles up to idle_max,
 * so that a quiet day costs about ten syncs, and any change brings it back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "daemon.h"

static void test_defaults(void **state)
{
    (void)state;
    struct daemon_opts o;
    daemon_opts_default(&o);
    assert_int_equal(o.debounce_s, 5);
    assert_int_equal(o.interval_s, 900);
    assert_int_equal(o.idle_max_s, 14400);
}

static void test_doubling_while_idle(void **state)
{
    (void)state;
    struct daemon_opts o;
    daemon_opts_default(&o);
    static const unsigned expected[] = {1800, 3600, 7200, 14400, 14400, 14400};
    unsigned interval = o.interval_s;
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        interval = daemon_next_interval(&o, interval, 0);
        assert_int_equal(interval, expected[i]);
    }
    /* Anything sent or received: back to the interval at once. */
    assert_int_equal(daemon_next_interval(&o, interval, 1), 900);
    /* A maximum that is not a doubling of the interval is still reached. */
    o.idle_max_s = 5000;
    assert_int_equal(daemon_next_interval(&o, 3600, 0), 5000);
    assert_int_equal(daemon_next_interval(&o, 5000, 0), 5000);
    /* A maximum below the interval leaves the interval. */
    o.idle_max_s = 60;
    assert_int_equal(daemon_next_interval(&o, 900, 0), 900);
}

/* A day in which nothing moves, from a change at midnight: the syncs the
 * daemon makes, which the benchmarks multiply by the bytes of one. */
static void test_quiet_day(void **state)
{
    (void)state;
    struct daemon_opts o;
    daemon_opts_default(&o);
    unsigned syncs = 0, interval = o.interval_s;
    for (unsigned long t = interval; t <= 86400; t += interval) {
        syncs++;
        interval = daemon_next_interval(&o, interval, 0);
    }
    assert_int_equal(syncs, 9); /* against 96 at a fixed 15 minutes */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_doubling_while_idle),
        cmocka_unit_test(test_quiet_day),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
