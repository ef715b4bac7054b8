/* SPDX-License-Identifier: MIT */
/*
 * test_hlc.c - unit tests for the hybrid logical clock (sync-protocol/hlc.h).
 * A fake wall clock, installed with hlc_set_wall(), lets each test move time
 * forwards, freeze it or step it back, and check what a replica would notice:
 * stamps that always increase, a counter that only runs while the wall clock
 * stands still, refusal of remote stamps from too far in the future, the
 * hub's time correction, and the text form of stamps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hlc.h"
#include "sync_error.h"

#include <string.h>
#include <time.h>

#define DAY_MS (24LL * 3600 * 1000)
#define T0     1700000000000LL /* a plausible "now": November 2023 */

struct fake_wall {
    int64_t ms;
};

static int64_t fake_wall_read(void *ctx)
{
    return ((struct fake_wall *)ctx)->ms;
}

/* Clocks made by the running test; free_clocks() releases them after it,
 * even when a failed assertion cut the test short. */
static struct hlc *clocks[4];
static size_t nclocks;

/* A clock with the given drift limit that reads *wall. */
static struct hlc *clock_at(struct fake_wall *wall, int64_t max_drift_ms)
{
    assert_true(nclocks < sizeof clocks / sizeof clocks[0]);
    struct hlc *clock = hlc_new(max_drift_ms);
    assert_non_null(clock);
    hlc_set_wall(clock, fake_wall_read, wall);
    clocks[nclocks++] = clock;
    return clock;
}

static int free_clocks(void **state)
{
    (void)state;
    for (size_t i = 0; i < nclocks; i++) {
        hlc_free(clocks[i]);
        clocks[i] = NULL;
    }
    nclocks = 0;
    return 0;
}

static uint64_t now_ok(struct hlc *clock)
{
    uint64_t stamp = 0;
    assert_int_equal(hlc_now(clock, &stamp), 0);
    return stamp;
}

static void test_macros(void **state)
{
    (void)state;
    uint64_t s = HLC_STAMP(T0, 42);
    assert_true(HLC_MS(s) == T0);
    assert_int_equal(HLC_COUNT(s), 42);
    assert_true(s == (((uint64_t)T0 << 16) | 42));

    /* The counter is cut to 16 bits and never spills into the milliseconds. */
    uint64_t spilled = HLC_STAMP(T0, 0x10005u);
    assert_true(HLC_MS(spilled) == T0);
    assert_int_equal(HLC_COUNT(spilled), 5);

    uint64_t top = HLC_STAMP(0xffffffffffffLL, 0xffff);
    assert_true(top == UINT64_MAX);
    assert_true(HLC_MS(top) == 0xffffffffffffLL);
    assert_int_equal(HLC_COUNT(top), 0xffff);

    assert_true(HLC_STAMP(0, 0) == 0);
    /* A later millisecond beats any counter of an earlier one. */
    assert_true(HLC_STAMP(T0 + 1, 0) > HLC_STAMP(T0, 0xffff));
}

static void test_new_and_accessors(void **state)
{
    (void)state;
    struct fake_wall wall = {T0};
    struct hlc *clock = clock_at(&wall, DAY_MS);
    assert_true(hlc_max_drift(clock) == DAY_MS);
    assert_true(hlc_offset(clock) == 0);
    assert_true(hlc_last(clock) == 0);
    assert_true(hlc_wall(clock) == T0);
    wall.ms = T0 + 123;
    assert_true(hlc_wall(clock) == T0 + 123);

    /* A clock of its own, freed here, reading the system clock. */
    struct hlc *own = hlc_new(5);
    assert_non_null(own);
    int64_t drift = hlc_max_drift(own);
    uint64_t last = hlc_last(own);
    hlc_free(own);
    assert_true(drift == 5);
    assert_true(last == 0);
    hlc_free(NULL);
}

static void test_system_wall_restored(void **state)
{
    (void)state;
    struct fake_wall wall = {1000};
    struct hlc *clock = clock_at(&wall, DAY_MS);
    assert_true(hlc_wall(clock) == 1000);
    hlc_set_wall(clock, NULL, NULL);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t sys_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    int64_t got = hlc_wall(clock);
    assert_true(got >= sys_ms - 5000 && got <= sys_ms + 5000);
}

static void test_stamps_strictly_increase(void **state)
{
    (void)state;
    struct fake_wall wall = {T0};
    struct hlc *clock = clock_at(&wall, DAY_MS);
    uint64_t prev = 0;
    uint32_t rng = 12345;
    for (int i = 0; i < 20000; i++) {
        /* Mostly forwards, sometimes frozen, sometimes stepping back. */
        rng = rng * 1103515245u + 12345u;
        switch ((rng >> 16) % 4) {
        case 0:
            break;
        case 1:
            wall.ms += 1;
            break;
        case 2:
            wall.ms += (int64_t)((rng >> 8) % 50);
            break;
        default:
            wall.ms -= (int64_t)((rng >> 8) % 30);
            break;
        }
        uint64_t stamp = now_ok(clock);
        assert_true(stamp > prev);
        assert_true(hlc_last(clock) == stamp);
        prev = stamp;
    }
}

static void test_follows_wall(void **state)
{
    (void)state;
    struct fake_wall wall = {T0};
    struct hlc *clock = clock_at(&wall, DAY_MS);
    assert_true(now_ok(clock) == HLC_STAMP(T0, 0));
    assert_true(now_ok(clock) == HLC_STAMP(T0, 1));
    assert_true(now_ok(clock) == HLC_STAMP(T0, 2));
    /* The wall moves: the stamp follows it and the counter starts again. */
    wall.ms = T0 + 1;
    assert_true(now_ok(clock) == HLC_STAMP(T0 + 1, 0));
    wall.ms = T0 + 5000;
    assert_true(now_ok(clock) == HLC_STAMP(T0 + 5000, 0));
    assert_true(now_ok(clock) == HLC_STAMP(T0 + 5000, 1));
}

static void test_frozen_wall_counts(void **state)
{
    (void)state;
    struct fake_wall wall = {T0};
    struct hlc *clock = clock_at(&wall, DAY_MS);
    for (unsigned i = 0; i < 1000; i++) {
        uint64_t stamp = now_ok(clock);
        assert_true(HLC_MS(stamp) == T0);
        assert_int_equal(HLC_COUNT(stamp), i);
    }
}

static void test_backwards_wall_counts(void **state)
{
    (void)state;
    struct fake_wall wall = {T0};
    struct hlc *clock = clock_at(&wall, DAY_MS);
    assert_true(now_ok(clock) == HLC_STAMP(T0, 0));
    wall.ms = T0 - 1000;
    assert_true(now_ok(clock) == HLC_STAMP(T0, 1));
    wall.ms = T0 - 2 * DAY_MS;
    assert_true(now_ok(clock) == HLC_STAMP(T0, 2));
    /* Until the wall passes the stamp again, the counter keeps going. */
    wall.ms = T0;
    assert_true(now_ok(clock) == HLC_STAMP(T0, 3));
    wall.ms = T0 + 1;
    assert_true(now_ok(clock) == HLC_STAMP(T0 + 1, 0));
}

static void test_overflow_in_one_millisecond(void **state)
{
    (void)state;
    struct fake_wall wall = {T0};
    struct hlc *clock = clock_at(&wall, DAY_MS);
    uint64_t prev = 0;
    for (unsigned i = 0; i < 65536; i++) {
        uint64_t stamp = now_ok(clock);
        assert_true(stamp > prev);
        assert_true(HLC_MS(stamp) == T0);
        prev = stamp;
    }
    assert_true(prev == HLC_STAMP(T0, 0xffff));

    /* The 65,537th stamp in the millisecond is refused; nothing changes. */
    uint64_t out = 777;
    assert_int_equal(hlc_now(clock, &out), SYNC_E_HLC_OVERFLOW);
    assert_true(hlc_last(clock) == HLC_STAMP(T0, 0xffff));
    assert_int_equal(hlc_now(clock, &out), SYNC_E_HLC_OVERFLOW);
    assert_true(hlc_last(clock) == HLC_STAMP(T0, 0xffff));

    /* Once the wall clock moves on, the caller's retry succeeds. */
    wall.ms = T0 + 1;
    uint64_t stamp = now_ok(clock);
    assert_true(stamp == HLC_STAMP(T0 + 1, 0));
    assert_true(stamp > prev);
}

static void test_observe_ahead_within_drift(void **state)
{
    (void)state;
    struct fake_wall wall = {T0};
    struct hlc *clock = clock_at(&wall, 1000);
    uint64_t local = now_ok(clock);

    uint64_t remote = HLC_STAMP(T0 + 500, 7);
    assert_int_equal(hlc_observe(clock, remote), 0);
    assert_true(hlc_last(clock) == remote);
    uint64_t next = now_ok(clock);
    assert_true(next > remote);
    assert_true(next > local);
    assert_true(next == HLC_STAMP(T0 + 500, 8));

    /* Exactly at the drift limit is still accepted. */
    remote = HLC_STAMP(T0 + 1000, 0);
    assert_int_equal(hlc_observe(clock, remote), 0);
    assert_true(now_ok(clock) > remote);

    /* Ahead in the same millisecond as the wall: only the counter differs. */
    struct fake_wall wall2 = {T0};
    struct hlc *clock2 = clock_at(&wall2, 1000);
    assert_true(now_ok(clock2) == HLC_STAMP(T0, 0));
    assert_int_equal(hlc_observe(clock2, HLC_STAMP(T0, 9)), 0);
    assert_true(now_ok(clock2) == HLC_STAMP(T0, 10));
}

/* A remote node that used its whole counter in one millisecond sends a
 * perfectly valid stamp; observing it must not leave this clock unable to
 * stamp anything until the wall clock catches up with the remote one. */
static void test_observe_ahead_full_counter(void **state)
{
    (void)state;
    struct fake_wall wall = {T0};
    struct hlc *clock = clock_at(&wall, DAY_MS);
    uint64_t remote = HLC_STAMP(T0 + 10, 0xffff);
    assert_int_equal(hlc_observe(clock, remote), 0);
    uint64_t next = 0;
    assert_int_equal(hlc_now(clock, &next), 0);
    assert_true(next > remote);
}

static void test_observe_behind(void **state)
{
    (void)state;
    struct fake_wall wall = {T0};
    struct hlc *clock = clock_at(&wall, 1000);
    uint64_t local = now_ok(clock);
    assert_true(local == HLC_STAMP(T0, 0));

    /* An older stamp changes nothing. */
    assert_int_equal(hlc_observe(clock, HLC_STAMP(T0 - 5000, 3)), 0);
    assert_true(hlc_last(clock) == local);
    assert_true(now_ok(clock) == HLC_STAMP(T0, 1));
}

/* A stamp observed while it was behind the wall clock must still bound the
 * next local stamp if the wall clock then steps back (NTP, a flat RTC
 * battery): hlc_now() promises stamps above every stamp observed. */
static void test_observe_then_wall_steps_back(void **state)
{
    (void)state;
    struct fake_wall wall = {T0};
    struct hlc *clock = clock_at(&wall, DAY_MS);
    uint64_t remote = HLC_STAMP(T0 - 10, 5);
    assert_int_equal(hlc_observe(clock, remote), 0);
    wall.ms = T0 - 1000;
    uint64_t next = now_ok(clock);
    assert_true(next > remote);
}

/* hlc_last() is what a replica persists for hlc_restore() after a restart,
 * so it must cover every stamp observed, including one behind the wall. */
static void test_observe_behind_wall_counts_in_last(void **state)
{
    (void)state;
    struct fake_wall wall = {T0};
    struct hlc *clock = clock_at(&wall, DAY_MS);
    uint64_t remote = HLC_STAMP(T0 - 10, 5);
    assert_int_equal(hlc_observe(clock, remote), 0);
    assert_true(hlc_last(clock) >= remote);
}

static void test_observe_beyond_drift(void **state)
{
    (void)state;
    struct fake_wall wall = {T0};
    struct hlc *clock = clock_at(&wall, 1000);
    uint64_t local = now_ok(clock);

    assert_int_equal(hlc_observe(clock, HLC_STAMP(T0 + 1001, 0)), SYNC_E_HLC_DRIFT);
    assert_true(hlc_last(clock) == local);
    assert_int_equal(hlc_observe(clock, HLC_STAMP(T0 + 200 * DAY_MS, 0)), SYNC_E_HLC_DRIFT);
    assert_true(hlc_last(clock) == local);
    assert_int_equal(hlc_observe(clock, UINT64_MAX), SYNC_E_HLC_DRIFT);
    assert_true(hlc_last(clock) == local);

    /* The refusal leaves the clock as it was: the next stamp follows it. */
    assert_true(now_ok(clock) == HLC_STAMP(T0, 1));
}

static void test_observe_drift_uses_corrected_wall(void **state)
{
    (void)state;
    struct fake_wall wall = {T0};
    struct hlc *clock = clock_at(&wall, 1000);
    hlc_correct(clock, 10000);
    /* 10.5 s ahead of this machine, but only 0.5 s ahead of the hub's time. */
    assert_int_equal(hlc_observe(clock, HLC_STAMP(T0 + 10500, 0)), 0);
    assert_int_equal(hlc_observe(clock, HLC_STAMP(T0 + 11001, 0)), SYNC_E_HLC_DRIFT);
}

static void test_restore_only_forward(void **state)
{
    (void)state;
    struct fake_wall wall = {T0};
    struct hlc *clock = clock_at(&wall, DAY_MS);

    uint64_t saved = HLC_STAMP(T0 + 60000, 3);
    hlc_restore(clock, saved);
    assert_true(hlc_last(clock) == saved);
    assert_true(now_ok(clock) == HLC_STAMP(T0 + 60000, 4));

    /* An older persisted value does not pull the clock back. */
    uint64_t last = hlc_last(clock);
    hlc_restore(clock, HLC_STAMP(T0, 0));
    assert_true(hlc_last(clock) == last);
    hlc_restore(clock, 0);
    assert_true(hlc_last(clock) == last);
    assert_true(now_ok(clock) > last);
}

static void test_correct_applies_offset(void **state)
{
    (void)state;
    struct fake_wall wall = {T0};
    struct hlc *clock = clock_at(&wall, DAY_MS);
    hlc_correct(clock, 5000);
    assert_true(hlc_offset(clock) == 5000);
    assert_true(hlc_wall(clock) == T0 + 5000);
    assert_true(now_ok(clock) == HLC_STAMP(T0 + 5000, 0));

    /* A new correction replaces the old one; it does not add to it. */
    hlc_correct(clock, 7000);
    assert_true(hlc_offset(clock) == 7000);
    assert_true(hlc_wall(clock) == T0 + 7000);
    wall.ms = T0 + 1;
    assert_true(hlc_wall(clock) == T0 + 7001);
    assert_true(now_ok(clock) == HLC_STAMP(T0 + 7001, 0));
}

static void test_correct_far_ahead_restarts(void **state)
{
    (void)state;
    /* The machine's clock was set 200 days into the future. */
    struct fake_wall wall = {T0 + 200 * DAY_MS};
    struct hlc *clock = clock_at(&wall, DAY_MS);
    uint64_t before = 0;
    for (int i = 0; i < 5; i++) {
        before = now_ok(clock);
    }
    assert_true(HLC_MS(before) == T0 + 200 * DAY_MS);

    /* The hub says we are 200 days ahead. */
    hlc_correct(clock, -200 * DAY_MS);
    assert_true(hlc_wall(clock) == T0);
    assert_true(HLC_MS(hlc_last(clock)) == T0);

    uint64_t after = now_ok(clock);
    assert_true(HLC_MS(after) == T0);
    assert_true(after < before);
    /* From there on, the clock is monotonic again. */
    assert_true(now_ok(clock) > after);
    wall.ms += 1;
    assert_true(HLC_MS(now_ok(clock)) == T0 + 1);
}

static void test_correct_within_drift_keeps_monotonic(void **state)
{
    (void)state;
    struct fake_wall wall = {T0};
    struct hlc *clock = clock_at(&wall, DAY_MS);
    uint64_t before = 0;
    for (int i = 0; i < 5; i++) {
        before = now_ok(clock);
    }
    /* Ten minutes back: within the drift, so nothing goes backwards. */
    hlc_correct(clock, -600000);
    assert_true(hlc_wall(clock) == T0 - 600000);
    assert_true(hlc_last(clock) == before);
    uint64_t after = now_ok(clock);
    assert_true(after > before);
    assert_true(after == before + 1);

    /* Exactly one drift ahead of the corrected wall is still kept. */
    struct fake_wall wall2 = {T0 + DAY_MS};
    struct hlc *clock2 = clock_at(&wall2, DAY_MS);
    uint64_t edge = now_ok(clock2);
    hlc_correct(clock2, -DAY_MS);
    assert_true(hlc_last(clock2) == edge);
    assert_true(now_ok(clock2) > edge);
}

static void test_format_parse_round_trip(void **state)
{
    (void)state;
    char text[HLC_HEXLEN + 1];
    uint64_t back = 1;

    hlc_format(0, text);
    assert_string_equal(text, "0000000000000000");
    assert_int_equal(hlc_parse(text, &back), 0);
    assert_true(back == 0);

    hlc_format(UINT64_MAX, text);
    assert_string_equal(text, "ffffffffffffffff");
    assert_int_equal(hlc_parse(text, &back), 0);
    assert_true(back == UINT64_MAX);

    hlc_format(0x0123456789abcdefULL, text);
    assert_string_equal(text, "0123456789abcdef");
    assert_int_equal(hlc_parse(text, &back), 0);
    assert_true(back == 0x0123456789abcdefULL);

    uint64_t v = 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < 1000; i++) {
        v ^= v << 13;
        v ^= v >> 7;
        v ^= v << 17;
        hlc_format(v, text);
        assert_int_equal(strlen(text), HLC_HEXLEN);
        assert_int_equal(hlc_parse(text, &back), 0);
        assert_true(back == v);
    }
}

static void test_parse_uppercase(void **state)
{
    (void)state;
    uint64_t v = 0;
    assert_int_equal(hlc_parse("0123456789ABCDEF", &v), 0);
    assert_true(v == 0x0123456789abcdefULL);
    assert_int_equal(hlc_parse("FFFFFFFFFFFFFFFF", &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(hlc_parse("aBcDeF0000000001", &v), 0);
    assert_true(v == 0xabcdef0000000001ULL);
}

static void test_parse_refuses(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "0",
        "000000000000000",   /* 15 digits */
        "00000000000000000", /* 17 digits */
        "0123456789abcdeg",
        "g123456789abcdef",
        "0x23456789abcdef",
        " 123456789abcdef",
        "0123456789abcde ",
        "-123456789abcdef",
        "+123456789abcdef",
        "01234567-9abcdef",
        "0123456789abcdef\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t v = 0;
        assert_int_equal(hlc_parse(bad[i], &v), SYNC_E_FIELD_TYPE);
    }
    uint64_t v = 0;
    assert_int_equal(hlc_parse(NULL, &v), SYNC_E_FIELD_TYPE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_macros, free_clocks),
        cmocka_unit_test_teardown(test_new_and_accessors, free_clocks),
        cmocka_unit_test_teardown(test_system_wall_restored, free_clocks),
        cmocka_unit_test_teardown(test_stamps_strictly_increase, free_clocks),
        cmocka_unit_test_teardown(test_follows_wall, free_clocks),
        cmocka_unit_test_teardown(test_frozen_wall_counts, free_clocks),
        cmocka_unit_test_teardown(test_backwards_wall_counts, free_clocks),
        cmocka_unit_test_teardown(test_overflow_in_one_millisecond, free_clocks),
        cmocka_unit_test_teardown(test_observe_ahead_within_drift, free_clocks),
        cmocka_unit_test_teardown(test_observe_ahead_full_counter, free_clocks),
        cmocka_unit_test_teardown(test_observe_behind, free_clocks),
        cmocka_unit_test_teardown(test_observe_then_wall_steps_back, free_clocks),
        cmocka_unit_test_teardown(test_observe_behind_wall_counts_in_last, free_clocks),
        cmocka_unit_test_teardown(test_observe_beyond_drift, free_clocks),
        cmocka_unit_test_teardown(test_observe_drift_uses_corrected_wall, free_clocks),
        cmocka_unit_test_teardown(test_restore_only_forward, free_clocks),
        cmocka_unit_test_teardown(test_correct_applies_offset, free_clocks),
        cmocka_unit_test_teardown(test_correct_far_ahead_restarts, free_clocks),
        cmocka_unit_test_teardown(test_correct_within_drift_keeps_monotonic, free_clocks),
        cmocka_unit_test_teardown(test_format_parse_round_trip, free_clocks),
        cmocka_unit_test_teardown(test_parse_uppercase, free_clocks),
        cmocka_unit_test_teardown(test_parse_refuses, free_clocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
