/* SPDX-License-Identifier: MIT */
/*
 * test_rules.c - unit tests for the rules of the mediators' work
 * (ledger/rules.h): civil dates across month ends, leap days and the year
 * end, the Asia/Shanghai day of instants near UTC midnight, every status
 * transition allowed and refused with the words of the refusal, levels,
 * petition deadlines and their one extension, follow-up visits per severity
 * class, agreement completeness and locking, case numbers of both forms,
 * the township figures on a hand-made ledger with known answers (0/0
 * included), and the masking of personal numbers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rules.h"

#include <stdio.h>
#include <string.h>

/* ---- helpers ---- */

static struct rules_date day(const char *text)
{
    struct rules_date d;
    assert_int_equal(rules_date_parse(text, &d), 0);
    return d;
}

static void assert_day(struct rules_date d, const char *expected)
{
    char text[RULES_DATE_LEN + 1];
    assert_int_equal(rules_date_format(d, text), 0);
    assert_string_equal(text, expected);
}

static void assert_add_days(const char *from, int64_t n, const char *expected)
{
    struct rules_date d;
    assert_int_equal(rules_date_add_days(day(from), n, &d), 0);
    assert_day(d, expected);
}

static void assert_add_months(const char *from, int n, const char *expected)
{
    struct rules_date d;
    assert_int_equal(rules_date_add_months(day(from), n, &d), 0);
    assert_day(d, expected);
}

/* 1 when s is well-formed UTF-8 (a cut sentence must still be text). */
static int utf8_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int k = *p < 0x80 ? 1 : (*p & 0xE0) == 0xC0 ? 2 : (*p & 0xF0) == 0xE0 ? 3 : 4;
        for (int i = 1; i < k; i++) {
            if ((p[i] & 0xC0) != 0x80) {
                return 0;
            }
        }
        p += k;
    }
    return 1;
}

/* ---- errors ---- */

static void test_strerror(void **state)
{
    (void)state;
    const int codes[] = {
        RULES_E_ARG,        RULES_E_PARSE,      RULES_E_RANGE,    RULES_E_SPACE,
        RULES_E_TRANSITION, RULES_E_LEVEL,      RULES_E_EXTENDED, RULES_E_EXTENSION_TOO_LONG,
        RULES_E_LOCKED,     RULES_E_INCOMPLETE, RULES_E_FULL};
    const size_t n = sizeof codes / sizeof codes[0];
    const char *unknown = rules_strerror(-399);
    assert_non_null(unknown);
    for (size_t i = 0; i < n; i++) {
        /* In the rules' own range, away from the engine's and the hub's. */
        assert_true(codes[i] <= -300 && codes[i] > -400);
        assert_string_not_equal(rules_strerror(codes[i]), unknown);
        for (size_t j = 0; j < i; j++) {
            assert_int_not_equal(codes[i], codes[j]);
            assert_string_not_equal(rules_strerror(codes[i]), rules_strerror(codes[j]));
        }
    }
    assert_string_equal(rules_strerror(0), "success");
}

/* ---- dates ---- */

static void test_leap_years(void **state)
{
    (void)state;
    assert_true(rules_is_leap(2024));
    assert_true(rules_is_leap(2000));
    assert_false(rules_is_leap(1900));
    assert_false(rules_is_leap(2023));
    assert_false(rules_is_leap(2100));
    assert_int_equal(rules_days_in_month(2024, 2), 29);
    assert_int_equal(rules_days_in_month(2000, 2), 29);
    assert_int_equal(rules_days_in_month(1900, 2), 28);
    assert_int_equal(rules_days_in_month(2023, 2), 28);
    assert_int_equal(rules_days_in_month(2024, 4), 30);
    assert_int_equal(rules_days_in_month(2024, 12), 31);
    assert_int_equal(rules_days_in_month(2024, 13), 0);
    assert_int_equal(rules_days_in_month(2024, 0), 0);
}

static void test_date_parse(void **state)
{
    (void)state;
    struct rules_date d;
    assert_int_equal(rules_date_parse("2024-02-29", &d), 0);
    assert_int_equal(d.year, 2024);
    assert_int_equal(d.month, 2);
    assert_int_equal(d.day, 29);
    assert_int_equal(rules_date_parse("2000-02-29", &d), 0);
    assert_int_equal(rules_date_parse("0001-01-01", &d), 0);
    assert_int_equal(rules_date_parse("9999-12-31", &d), 0);

    const char *bad[] = {
        "1900-02-29",  "2023-02-29",  "2024-04-31",          "2024-13-01", "2024-00-10",
        "2024-01-00",  "2024-01-32",  "0000-01-01",          "2024-1-01",  "2024-01-1",
        "2024-01-01x", " 2024-01-01", "2024/01/01",          "",           "+024-01-01",
        "2024-0a-01",  "20240101",    "2024-01-01T00:00:00Z"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        d = (struct rules_date){1, 1, 1};
        assert_int_equal(rules_date_parse(bad[i], &d), RULES_E_PARSE);
        assert_false(rules_date_is_set(d));
    }
    assert_int_equal(rules_date_parse(NULL, &d), RULES_E_ARG);
    assert_int_equal(rules_date_parse("2024-01-01", NULL), RULES_E_ARG);

    char text[RULES_DATE_LEN + 1];
    assert_int_equal(rules_date_format((struct rules_date){7, 3, 9}, text), 0);
    assert_string_equal(text, "0007-03-09");
    assert_int_equal(rules_date_format((struct rules_date){2023, 2, 29}, text), RULES_E_ARG);
    assert_string_equal(text, "");
    assert_int_equal(rules_date_format(RULES_DATE_NONE, text), RULES_E_ARG);
    assert_false(rules_date_valid(RULES_DATE_NONE));
    assert_false(rules_date_is_set(RULES_DATE_NONE));
}

static void test_days_from_civil(void **state)
{
    (void)state;
    assert_int_equal(rules_days_from_civil(day("1970-01-01")), 0);
    assert_int_equal(rules_days_from_civil(day("1969-12-31")), -1);
    assert_int_equal(rules_days_from_civil(day("2000-03-01")), 11017);
    assert_int_equal(rules_days_from_civil(day("2025-01-01")), 20089);
    assert_int_equal(rules_days_from_civil(day("0001-01-01")), -719162);
    assert_int_equal(rules_days_from_civil(day("9999-12-31")), 2932896);

    /* Walk day by day from 1899 to 2101 and check the numbers against a
     * plain calendar count. */
    struct rules_date d = day("1899-01-01");
    int64_t n = rules_days_from_civil(d);
    while (d.year < 2101) {
        struct rules_date back;
        assert_int_equal(rules_civil_from_days(n, &back), 0);
        assert_int_equal(rules_date_cmp(back, d), 0);
        assert_int_equal(rules_days_from_civil(d), n);
        if (++d.day > rules_days_in_month(d.year, d.month)) {
            d.day = 1;
            if (++d.month > 12) {
                d.month = 1;
                d.year++;
            }
        }
        n++;
    }
    struct rules_date out;
    assert_int_equal(rules_civil_from_days(-719163, &out), RULES_E_RANGE);
    assert_int_equal(rules_civil_from_days(2932897, &out), RULES_E_RANGE);
    assert_int_equal(rules_civil_from_days(INT64_MIN, &out), RULES_E_RANGE);
}

static void test_add_days(void **state)
{
    (void)state;
    assert_add_days("2024-01-31", 1, "2024-02-01");
    assert_add_days("2024-02-28", 1, "2024-02-29");
    assert_add_days("2024-02-29", 1, "2024-03-01");
    assert_add_days("2023-02-28", 1, "2023-03-01");
    assert_add_days("2000-02-28", 1, "2000-02-29");
    assert_add_days("1900-02-28", 1, "1900-03-01");
    assert_add_days("2024-12-31", 1, "2025-01-01");
    assert_add_days("2025-01-01", -1, "2024-12-31");
    assert_add_days("2024-03-01", -1, "2024-02-29");
    assert_add_days("2023-03-01", -1, "2023-02-28");
    assert_add_days("2024-01-01", 366, "2025-01-01");
    assert_add_days("2023-01-01", 365, "2024-01-01");
    assert_add_days("2024-06-15", 0, "2024-06-15");

    struct rules_date d;
    assert_int_equal(rules_date_add_days(day("9999-12-31"), 1, &d), RULES_E_RANGE);
    assert_false(rules_date_is_set(d));
    assert_int_equal(rules_date_add_days(day("0001-01-01"), -1, &d), RULES_E_RANGE);
    assert_int_equal(rules_date_add_days(day("2024-01-01"), INT64_MAX, &d), RULES_E_RANGE);
    assert_int_equal(rules_date_add_days(day("2024-01-01"), INT64_MIN, &d), RULES_E_RANGE);
    assert_int_equal(rules_date_add_days((struct rules_date){2023, 2, 29}, 1, &d), RULES_E_ARG);
}

static void test_add_months(void **state)
{
    (void)state;
    assert_add_months("2024-01-31", 1, "2024-02-29"); /* clamped, leap year */
    assert_add_months("2023-01-31", 1, "2023-02-28");
    assert_add_months("2000-01-31", 1, "2000-02-29");
    assert_add_months("1900-01-31", 1, "1900-02-28");
    assert_add_months("2024-03-31", 1, "2024-04-30");
    assert_add_months("2024-08-31", 6, "2025-02-28");
    assert_add_months("2024-11-30", 3, "2025-02-28");
    assert_add_months("2024-12-15", 1, "2025-01-15"); /* year end */
    assert_add_months("2024-02-29", 12, "2025-02-28");
    assert_add_months("2024-02-29", 48, "2028-02-29");
    assert_add_months("2024-03-31", -1, "2024-02-29");
    assert_add_months("2024-01-15", -1, "2023-12-15");
    assert_add_months("2024-05-20", 0, "2024-05-20");

    struct rules_date d;
    assert_int_equal(rules_date_add_months(day("9999-12-01"), 1, &d), RULES_E_RANGE);
    assert_int_equal(rules_date_add_months(day("0001-01-31"), -1, &d), RULES_E_RANGE);
    assert_int_equal(rules_date_add_months(day("2024-01-01"), INT32_MAX, &d), RULES_E_RANGE);
    assert_int_equal(rules_date_add_months(RULES_DATE_NONE, 1, &d), RULES_E_ARG);
}

static void test_cmp_and_diff(void **state)
{
    (void)state;
    assert_true(rules_date_cmp(day("2024-01-31"), day("2024-02-01")) < 0);
    assert_true(rules_date_cmp(day("2025-01-01"), day("2024-12-31")) > 0);
    assert_int_equal(rules_date_cmp(day("2024-02-29"), day("2024-02-29")), 0);
    assert_true(rules_date_cmp(RULES_DATE_NONE, day("0001-01-01")) < 0);
    assert_int_equal(rules_date_diff(day("2024-01-01"), day("2025-01-01")), 366);
    assert_int_equal(rules_date_diff(day("2023-01-01"), day("2024-01-01")), 365);
    assert_int_equal(rules_date_diff(day("2024-02-28"), day("2024-03-01")), 2);
    assert_int_equal(rules_date_diff(day("2023-02-28"), day("2023-03-01")), 1);
    assert_int_equal(rules_date_diff(day("2025-01-01"), day("2024-12-31")), -1);
}

static void assert_ms_day(int64_t ms, const char *expected)
{
    struct rules_date d;
    assert_int_equal(rules_date_of_ms(ms, &d), 0);
    assert_day(d, expected);
    assert_int_equal(rules_today(ms, &d), 0);
    assert_day(d, expected);
}

static void test_shanghai_day(void **state)
{
    (void)state;
    const int64_t hour = 3600000;
    const int64_t new_year_utc = 20089LL * 86400000; /* 2025-01-01T00:00:00Z */
    /* 2024-12-31T16:00:00Z is midnight in China: already 2025-01-01. */
    assert_ms_day(new_year_utc - 8 * hour, "2025-01-01");
    assert_ms_day(new_year_utc - 8 * hour - 1, "2024-12-31");
    assert_ms_day(new_year_utc, "2025-01-01");
    assert_ms_day(new_year_utc + 15 * hour + 59 * 60000, "2025-01-01");
    assert_ms_day(new_year_utc + 16 * hour, "2025-01-02");
    /* The leap day: 2024-02-29T15:59:59.999Z and 16:00Z. */
    const int64_t feb29_utc = (20089LL - 307) * 86400000;
    assert_ms_day(feb29_utc, "2024-02-29");
    assert_ms_day(feb29_utc + 16 * hour - 1, "2024-02-29");
    assert_ms_day(feb29_utc + 16 * hour, "2024-03-01");
    /* Around the epoch, where division must round down. */
    assert_ms_day(0, "1970-01-01");
    assert_ms_day(-8 * hour, "1970-01-01");
    assert_ms_day(-8 * hour - 1, "1969-12-31");

    struct rules_date d;
    assert_int_equal(rules_date_of_ms(INT64_MAX, &d), RULES_E_RANGE);
    assert_int_equal(rules_date_of_ms(INT64_MIN, &d), RULES_E_RANGE);
    assert_int_equal(rules_date_of_ms(0, NULL), RULES_E_ARG);
}

static void test_rfc3339_day(void **state)
{
    (void)state;
    const struct {
        const char *text, *day;
    } good[] = {
        {"2023-09-28T15:28:45+08:00", "2023-09-28"}, {"2024-12-31T16:00:00Z", "2025-01-01"},
        {"2024-12-31T15:59:59.999Z", "2024-12-31"},  {"2024-12-31T23:30:00-02:00", "2025-01-01"},
        {"2025-01-01T07:59:59+08:00", "2025-01-01"}, {"2025-01-01T00:30:00+09:00", "2024-12-31"},
        {"2024-02-29t15:59:60z", "2024-02-29"},      {"2024-02-28 16:00:00Z", "2024-02-29"},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        struct rules_date d;
        assert_int_equal(rules_date_of_rfc3339(good[i].text, &d), 0);
        assert_day(d, good[i].day);
    }
    const char *bad[] = {"2024-12-31",
                         "2024-12-31T25:00:00Z",
                         "2024-12-31T10:00:00",
                         "2024-12-31T10:00:00+8:00",
                         "2024-12-31T10:00:00+08",
                         "2024-12-31T10:00:00+0",
                         "2024-02-30T10:00:00Z",
                         "2024-12-31T10:00:00.Z",
                         "2024-12-31T10:00:00Zx",
                         "2024-12-31T10:60:00Z",
                         "2024-12-31X10:00:00Z"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct rules_date d;
        assert_int_equal(rules_date_of_rfc3339(bad[i], &d), RULES_E_PARSE);
    }
}

static void test_periods(void **state)
{
    (void)state;
    struct rules_period p;
    assert_int_equal(rules_period_parse("2024-02", &p), 0);
    assert_day(p.first, "2024-02-01");
    assert_day(p.last, "2024-02-29");
    assert_int_equal(rules_period_parse("2023-02", &p), 0);
    assert_day(p.last, "2023-02-28");
    assert_true(rules_period_contains(&p, day("2023-02-28")));
    assert_true(rules_period_contains(&p, day("2023-02-01")));
    assert_false(rules_period_contains(&p, day("2023-03-01")));
    assert_false(rules_period_contains(&p, day("2023-01-31")));
    assert_false(rules_period_contains(&p, RULES_DATE_NONE));
    assert_int_equal(rules_period_parse("2024", &p), 0);
    assert_day(p.first, "2024-01-01");
    assert_day(p.last, "2024-12-31");
    const char *bad[] = {"2024-13", "24-01", "2024-1", "2024-02-01", "0000", "", "2024-"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(rules_period_parse(bad[i], &p), RULES_E_PARSE);
    }
    assert_int_equal(rules_period_month(2024, 13, &p), RULES_E_ARG);
    assert_int_equal(rules_period_year(0, &p), RULES_E_ARG);
}

/* ---- words ---- */

static void test_kinds_and_channels(void **state)
{
    (void)state;
    assert_string_equal(rules_kind_name(RULES_KIND_DISPUTE), "dispute");
    assert_string_equal(rules_kind_label(RULES_KIND_DISPUTE, "zh"), "矛盾纠纷");
    assert_string_equal(rules_kind_label(RULES_KIND_PETITION, "zh-CN"), "信访件");
    assert_string_equal(rules_kind_label(RULES_KIND_PETITION, "en"), "petition");
    assert_string_equal(rules_kind_label(RULES_KIND_PETITION, NULL), "petition");
    assert_string_equal(rules_kind_label(RULES_KIND_SCREENING, "zh_CN"), "排查发现");
    assert_string_equal(rules_kind_label(RULES_KIND_SCREENING, "zhx"), "screening finding");
    assert_null(rules_kind_name(RULES_KIND_NONE));
    assert_null(rules_kind_label(RULES_KIND_COUNT, "zh"));

    enum rules_kind kind;
    assert_int_equal(rules_kind_parse("petition", &kind), 0);
    assert_int_equal(kind, RULES_KIND_PETITION);
    assert_int_equal(rules_kind_parse("矛盾纠纷", &kind), 0);
    assert_int_equal(kind, RULES_KIND_DISPUTE);
    assert_int_equal(rules_kind_parse("Petition", &kind), RULES_E_PARSE);
    assert_int_equal(kind, RULES_KIND_NONE);

    const struct {
        enum rules_channel channel;
        const char *name, *zh;
    } channels[] = {
        {RULES_CHANNEL_VISIT, "visit", "来访"},
        {RULES_CHANNEL_LETTER, "letter", "来信"},
        {RULES_CHANNEL_CALL, "call", "来电"},
        {RULES_CHANNEL_ONLINE, "online", "网上信访"},
        {RULES_CHANNEL_SCREENING, "screening", "排查"},
        {RULES_CHANNEL_REFERRAL, "referral", "转送交办"},
    };
    assert_int_equal(sizeof channels / sizeof channels[0], RULES_CHANNEL_COUNT - 1);
    for (size_t i = 0; i < sizeof channels / sizeof channels[0]; i++) {
        enum rules_channel c;
        assert_string_equal(rules_channel_name(channels[i].channel), channels[i].name);
        assert_string_equal(rules_channel_label(channels[i].channel, "zh"), channels[i].zh);
        assert_non_null(rules_channel_label(channels[i].channel, "en"));
        assert_int_equal(rules_channel_parse(channels[i].name, &c), 0);
        assert_int_equal(c, channels[i].channel);
        assert_int_equal(rules_channel_parse(channels[i].zh, &c), 0);
        assert_int_equal(c, channels[i].channel);
        /* A dispute may come by any channel. */
        assert_true(rules_channel_fits_kind(RULES_KIND_DISPUTE, channels[i].channel));
    }
    enum rules_channel c;
    assert_int_equal(rules_channel_parse("fax", &c), RULES_E_PARSE);
    assert_true(rules_channel_fits_kind(RULES_KIND_PETITION, RULES_CHANNEL_LETTER));
    assert_true(rules_channel_fits_kind(RULES_KIND_PETITION, RULES_CHANNEL_ONLINE));
    assert_false(rules_channel_fits_kind(RULES_KIND_PETITION, RULES_CHANNEL_SCREENING));
    assert_true(rules_channel_fits_kind(RULES_KIND_SCREENING, RULES_CHANNEL_SCREENING));
    assert_false(rules_channel_fits_kind(RULES_KIND_SCREENING, RULES_CHANNEL_VISIT));
    assert_false(rules_channel_fits_kind(RULES_KIND_NONE, RULES_CHANNEL_VISIT));
    assert_false(rules_channel_fits_kind(RULES_KIND_DISPUTE, RULES_CHANNEL_NONE));

    enum rules_referral_target target;
    assert_int_equal(rules_referral_parse("police_station", &target), 0);
    assert_int_equal(target, RULES_REFERRAL_POLICE);
    assert_int_equal(rules_referral_parse("司法所", &target), 0);
    assert_int_equal(target, RULES_REFERRAL_JUDICIAL_OFFICE);
    assert_string_equal(rules_referral_label(RULES_REFERRAL_COURT, "zh"), "法庭");
    assert_string_equal(rules_referral_name(RULES_REFERRAL_DEPARTMENT), "department");
    assert_string_equal(rules_referral_label(RULES_REFERRAL_DEPARTMENT, "en"),
                        "another department");
}

static void test_statuses(void **state)
{
    (void)state;
    const char *names[RULES_STATUS_COUNT] = {
        NULL,        "registered", "accepted", "not_accepted", "investigating", "mediating",
        "agreement", "failed",     "referred", "concluded",    "archived"};
    const char *zh[RULES_STATUS_COUNT] = {NULL,     "登记",   "受理",     "不予受理",
                                          "调查中", "调解中", "达成协议", "调解不成",
                                          "转办",   "办结",   "归档"};
    for (int s = 1; s < RULES_STATUS_COUNT; s++) {
        enum rules_status parsed;
        assert_string_equal(rules_status_name((enum rules_status)s), names[s]);
        assert_string_equal(rules_status_label((enum rules_status)s, "zh"), zh[s]);
        assert_int_equal(rules_status_parse(names[s], &parsed), 0);
        assert_int_equal(parsed, s);
        assert_int_equal(rules_status_parse(zh[s], &parsed), 0);
        assert_int_equal(parsed, s);
    }
    /* Every status of the reference data is valid; "closed" is concluded. */
    const char *data[] = {"registered", "accepted", "mediating", "agreement",
                          "failed",     "referred", "closed"};
    for (size_t i = 0; i < sizeof data / sizeof data[0]; i++) {
        enum rules_status parsed;
        assert_int_equal(rules_status_parse(data[i], &parsed), 0);
    }
    enum rules_status parsed;
    assert_int_equal(rules_status_parse("closed", &parsed), 0);
    assert_int_equal(parsed, RULES_STATUS_CONCLUDED);
    assert_string_equal(rules_status_name(parsed), "concluded");
    assert_int_equal(rules_status_parse("open", &parsed), RULES_E_PARSE);
    assert_null(rules_status_name(RULES_STATUS_NONE));
    assert_null(rules_status_label(RULES_STATUS_COUNT, "en"));

    const int open[RULES_STATUS_COUNT] = {0, 1, 1, 0, 1, 1, 1, 1, 0, 0, 0};
    for (int s = 0; s < RULES_STATUS_COUNT; s++) {
        assert_int_equal(rules_status_is_open((enum rules_status)s), open[s]);
    }
}

/* ---- transitions ---- */

/* The table of RULES.md, written out again: allowed[from][to]. */
static const char *const allowed_next[RULES_STATUS_COUNT] = {
    [RULES_STATUS_REGISTERED] = "accepted, not_accepted, referred",
    [RULES_STATUS_ACCEPTED] = "investigating, mediating, referred",
    [RULES_STATUS_INVESTIGATING] = "mediating, referred, concluded",
    [RULES_STATUS_MEDIATING] = "agreement, failed, referred",
    [RULES_STATUS_AGREEMENT] = "concluded",
    [RULES_STATUS_FAILED] = "referred, concluded",
    [RULES_STATUS_NOT_ACCEPTED] = "archived",
    [RULES_STATUS_REFERRED] = "archived",
    [RULES_STATUS_CONCLUDED] = "archived",
    [RULES_STATUS_ARCHIVED] = "",
};

/* 1 when token is one of the comma-separated words of list. */
static int listed(const char *list, const char *token)
{
    size_t n = strlen(token);
    for (const char *p = list; (p = strstr(p, token)) != NULL; p += n) {
        if ((p == list || p[-1] == ' ') && (p[n] == ',' || p[n] == '\0')) {
            return 1;
        }
    }
    return 0;
}

static void test_every_transition(void **state)
{
    (void)state;
    int allowed_count = 0;
    for (int from = 1; from < RULES_STATUS_COUNT; from++) {
        for (int to = 1; to < RULES_STATUS_COUNT; to++) {
            const char *from_name = rules_status_name((enum rules_status)from);
            const char *to_name = rules_status_name((enum rules_status)to);
            int expected = listed(allowed_next[from], to_name);
            char why[256] = "untouched";
            int rc = rules_transition_explain((enum rules_status)from, (enum rules_status)to, "en",
                                              why, sizeof why);
            assert_int_equal(
                rules_transition_allowed((enum rules_status)from, (enum rules_status)to), expected);
            if (expected) {
                allowed_count++;
                assert_int_equal(rc, 0);
                assert_string_equal(why, "");
                continue;
            }
            assert_int_equal(rc, RULES_E_TRANSITION);
            char head[128], tail[128], sentence[256];
            if (from == to) {
                snprintf(head, sizeof head, "the case is already %s; ", from_name);
            } else {
                snprintf(head, sizeof head, "a case that is %s cannot go to %s; ", from_name,
                         to_name);
            }
            if (from == RULES_STATUS_ARCHIVED) {
                snprintf(tail, sizeof tail, "archived is final: a case goes nowhere from it");
            } else {
                snprintf(tail, sizeof tail, "from %s a case can go to: %s", from_name,
                         allowed_next[from]);
            }
            snprintf(sentence, sizeof sentence, "%s%s", head, tail);
            assert_string_equal(why, sentence);
            /* The Chinese sentence names the same statuses by their labels. */
            rc = rules_transition_explain((enum rules_status)from, (enum rules_status)to, "zh", why,
                                          sizeof why);
            assert_int_equal(rc, RULES_E_TRANSITION);
            assert_non_null(strstr(why, rules_status_label((enum rules_status)from, "zh")));
            for (int s = 1; s < RULES_STATUS_COUNT; s++) {
                if (listed(allowed_next[from], rules_status_name((enum rules_status)s))) {
                    assert_non_null(strstr(why, rules_status_label((enum rules_status)s, "zh")));
                }
            }
        }
    }
    assert_int_equal(allowed_count, 18);
}

static void test_transition_words(void **state)
{
    (void)state;
    char why[256];
    assert_int_equal(rules_transition_explain(RULES_STATUS_MEDIATING, RULES_STATUS_CONCLUDED, "en",
                                              why, sizeof why),
                     RULES_E_TRANSITION);
    assert_string_equal(why, "a case that is mediating cannot go to concluded; from mediating a "
                             "case can go to: agreement, failed, referred");
    assert_int_equal(rules_transition_explain(RULES_STATUS_MEDIATING, RULES_STATUS_CONCLUDED, "zh",
                                              why, sizeof why),
                     RULES_E_TRANSITION);
    assert_string_equal(why,
                        "「调解中」的案件不能转为「办结」；「调解中」的案件只能转为：达成协议、"
                        "调解不成、转办");
    assert_int_equal(rules_transition_explain(RULES_STATUS_ARCHIVED, RULES_STATUS_MEDIATING, "zh",
                                              why, sizeof why),
                     RULES_E_TRANSITION);
    assert_string_equal(why,
                        "「归档」的案件不能转为「调解中」；「归档」是最终状态，不能再转为其他状态");
    /* An escalation does not change the status: there is no such move, and
     * a case cannot "re-enter" its own status. */
    assert_int_equal(rules_transition_explain(RULES_STATUS_AGREEMENT, RULES_STATUS_AGREEMENT, "en",
                                              why, sizeof why),
                     RULES_E_TRANSITION);
    assert_string_equal(why, "the case is already agreement; from agreement a case can go to: "
                             "concluded");

    /* Unknown statuses are the caller's mistake, still explained. */
    assert_int_equal(
        rules_transition_explain(RULES_STATUS_NONE, RULES_STATUS_ACCEPTED, "en", why, sizeof why),
        RULES_E_ARG);
    assert_string_equal(why, "the case's present status is unknown");
    assert_int_equal(
        rules_transition_explain(RULES_STATUS_FAILED, RULES_STATUS_COUNT, "en", why, sizeof why),
        RULES_E_ARG);
    assert_string_equal(why, "unknown status; from failed a case can go to: referred, concluded");
    assert_false(rules_transition_allowed(RULES_STATUS_NONE, RULES_STATUS_ACCEPTED));
    assert_false(rules_transition_allowed(RULES_STATUS_REGISTERED, RULES_STATUS_COUNT));

    /* A short buffer gets a cut sentence, never a cut character. */
    for (size_t len = 1; len < 40; len++) {
        char small[40];
        memset(small, 'x', sizeof small);
        assert_int_equal(rules_transition_explain(RULES_STATUS_MEDIATING, RULES_STATUS_ARCHIVED,
                                                  "zh", small, len),
                         RULES_E_TRANSITION);
        assert_true(strlen(small) < len);
        assert_true(utf8_ok(small));
    }
    assert_int_equal(
        rules_transition_explain(RULES_STATUS_MEDIATING, RULES_STATUS_ARCHIVED, "en", NULL, 0),
        RULES_E_TRANSITION);
}

/* ---- levels ---- */

static void test_levels(void **state)
{
    (void)state;
    assert_string_equal(rules_level_label(1, "en"), "village mediation committee director");
    assert_string_equal(rules_level_label(1, "zh"), "村调委会主任");
    assert_string_equal(rules_level_label(3, "en"), "resident township cadre");
    assert_string_equal(rules_level_label(4, "zh"), "驻村第一书记");
    assert_string_equal(rules_level_label(7, "en"), "township principal leader");
    assert_string_equal(rules_level_label(7, "zh"), "乡镇主要领导");
    for (int level = 1; level <= 7; level++) {
        assert_non_null(rules_level_label(level, "en"));
        assert_non_null(rules_level_label(level, "zh"));
    }
    assert_null(rules_level_label(0, "en"));
    assert_null(rules_level_label(8, "zh"));

    for (int from = 0; from <= 8; from++) {
        for (int to = 0; to <= 8; to++) {
            int known = from >= 1 && from <= 7 && to >= 1 && to <= 7;
            int expected = known && to > from;
            char why[256] = "untouched";
            int rc = rules_escalation_explain(from, to, "en", why, sizeof why);
            assert_int_equal(rules_escalation_allowed(from, to), expected);
            assert_int_equal(rc, expected ? 0 : known ? RULES_E_LEVEL : RULES_E_ARG);
            assert_true(expected ? why[0] == '\0' : why[0] != '\0');
        }
    }

    char why[256];
    assert_int_equal(rules_escalation_explain(3, 1, "en", why, sizeof why), RULES_E_LEVEL);
    assert_string_equal(why, "a case at level 3 (resident township cadre) cannot be moved down to "
                             "level 1 (village mediation committee director): a level can only be "
                             "raised, to level 4 to 7");
    assert_int_equal(rules_escalation_explain(3, 1, "zh", why, sizeof why), RULES_E_LEVEL);
    assert_string_equal(
        why,
        "第3级（驻村干部）的案件不能降至第1级（村调委会主任）：层级只能上调，可上报至第4至7级");
    assert_int_equal(rules_escalation_explain(6, 6, "en", why, sizeof why), RULES_E_LEVEL);
    assert_string_equal(why, "the case is already at level 6 (head of the relevant unit); it can "
                             "be escalated to level 7");
    assert_int_equal(rules_escalation_explain(7, 7, "en", why, sizeof why), RULES_E_LEVEL);
    assert_string_equal(why, "level 7 (township principal leader) is the highest; the case cannot "
                             "be escalated further");
    assert_int_equal(rules_escalation_explain(7, 2, "zh", why, sizeof why), RULES_E_LEVEL);
    assert_string_equal(why, "第7级（乡镇主要领导）是最高层级，案件不能再上报");
    assert_int_equal(rules_escalation_explain(0, 3, "en", why, sizeof why), RULES_E_ARG);
    assert_string_equal(why, "responsibility levels run from 1 to 7");
    /* Escalation by more than one level at once is allowed. */
    assert_int_equal(rules_escalation_explain(1, 7, "en", why, sizeof why), 0);
}

/* ---- configuration ---- */

static void test_config(void **state)
{
    (void)state;
    struct rules_config c;
    rules_config_default(&c);
    assert_int_equal(rules_config_check(&c), 0);
    assert_int_equal(c.accept_days, 15);
    assert_int_equal(c.conclude_days, 60);
    assert_int_equal(c.max_extension_days, 30);
    assert_int_equal(c.followup_months[0], 1);
    assert_int_equal(c.followup_months[1], 3);
    assert_int_equal(c.followup_months[2], 6);
    assert_int_equal(c.target_participation_bp, 9800);
    assert_int_equal(c.target_success_bp, 9800);
    assert_int_equal(c.target_satisfaction_bp, 9600);
    assert_int_equal(c.ncategories, 12);
    /* The reference data's categories are all listed. */
    const char *data[] = {"land",
                          "forest_boundary",
                          "demolition_compensation",
                          "family",
                          "neighbour",
                          "debt",
                          "labour",
                          "other"};
    for (size_t i = 0; i < sizeof data / sizeof data[0]; i++) {
        assert_true(rules_category_find(&c, data[i]) >= 0);
    }
    assert_string_equal(rules_category_label(&c, "forest_boundary", "zh"), "山林纠纷");
    assert_string_equal(rules_category_label(&c, "debt", "en"), "debts");
    assert_null(rules_category_label(&c, "weather", "en"));
    assert_int_equal(rules_category_find(&c, "邻里纠纷"), rules_category_find(&c, "neighbour"));
    assert_int_equal(rules_category_find(&c, "weather"), -1);
    assert_int_equal(rules_category_find(&c, NULL), -1);

    assert_int_equal(rules_config_set(&c, "accept_days", "10"), 0);
    assert_int_equal(c.accept_days, 10);
    assert_int_equal(rules_config_set(&c, "followup_months_2", "2"), 0);
    assert_int_equal(c.followup_months[1], 2);
    assert_int_equal(rules_config_set(&c, "target_satisfaction", "96.5"), 0);
    assert_int_equal(c.target_satisfaction_bp, 9650);
    assert_int_equal(rules_config_set(&c, "target_success", "100"), 0);
    assert_int_equal(c.target_success_bp, 10000);
    assert_int_equal(rules_config_set(&c, "target_participation", "97.25"), 0);
    assert_int_equal(c.target_participation_bp, 9725);
    assert_int_equal(rules_config_set(&c, "max_extension_days", "0"), 0);
    assert_int_equal(c.max_extension_days, 0);

    const struct {
        const char *key, *value;
    } bad[] = {
        {"accept_days", ""},
        {"accept_days", "0"},
        {"accept_days", "-1"},
        {"accept_days", "15x"},
        {"accept_days", " 15"},
        {"accept_days", "+15"},
        {"accept_days", "99999999999999999999"},
        {"followup_months_1", "61"},
        {"followup_months_4", "1"},
        {"target_success", "100.01"},
        {"target_success", "96.555"},
        {"target_success", "96."},
        {"target_success", ".5"},
        {"target_success", "1000"},
        {"target_success", "98%"},
        {"accept_dayz", "15"},
        {"warn_days", "366"},
    };
    struct rules_config before = c;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(rules_config_set(&c, bad[i].key, bad[i].value), RULES_E_ARG);
    }
    assert_memory_equal(&c, &before, sizeof c);

    /* A township's own categories. */
    rules_config_clear_categories(&c);
    assert_int_equal(c.ncategories, 0);
    assert_int_equal(rules_config_add_category(&c, "water", "用水纠纷", "water"), 0);
    assert_int_equal(rules_config_add_category(&c, "water", "水", "water again"), RULES_E_ARG);
    assert_int_equal(rules_config_add_category(&c, "Water2", "水", "w"), RULES_E_ARG);
    assert_int_equal(rules_config_add_category(&c, "2water", "水", "w"), RULES_E_ARG);
    assert_int_equal(rules_config_add_category(&c, "roads", "", "roads"), RULES_E_ARG);
    assert_int_equal(rules_config_add_category(&c, "roads", "道路", "roads|paths"), RULES_E_ARG);
    assert_int_equal(rules_config_add_category(&c, "roads", "道路", "　"), RULES_E_ARG);
    for (int i = 1; i < RULES_MAX_CATEGORIES; i++) {
        char name[16];
        snprintf(name, sizeof name, "c%d", i);
        assert_int_equal(rules_config_add_category(&c, name, "类", "kind"), 0);
    }
    assert_int_equal(rules_config_add_category(&c, "one_more", "类", "kind"), RULES_E_FULL);
    assert_int_equal(rules_config_check(&c), 0);
    c.categories[3].name[0] = 'A';
    assert_int_equal(rules_config_check(&c), RULES_E_ARG);
    rules_config_default(&c);
    c.target_success_bp = 10001;
    assert_int_equal(rules_config_check(&c), RULES_E_ARG);
}

/* ---- deadlines ---- */

static void test_petition_deadlines(void **state)
{
    (void)state;
    struct rules_config c;
    rules_config_default(&c);
    struct rules_petition_deadlines d;

    /* Received 2024-03-01, not accepted yet: 15 days to decide; the 60
     * days counted provisionally from the registration. */
    assert_int_equal(rules_petition_deadlines(day("2024-03-01"), RULES_DATE_NONE, &c, &d), 0);
    assert_day(d.accept_due, "2024-03-16");
    assert_day(d.conclude_due, "2024-04-30");
    assert_int_equal(d.provisional, 1);
    assert_int_equal(d.extension_days, 0);

    /* Accepted on 2024-03-10: 60 days from acceptance. */
    assert_int_equal(rules_petition_deadlines(day("2024-03-01"), day("2024-03-10"), &c, &d), 0);
    assert_day(d.accept_due, "2024-03-16");
    assert_day(d.conclude_due, "2024-05-09");
    assert_int_equal(d.provisional, 0);

    /* One extension of at most 30 days. */
    struct rules_petition_deadlines before = d;
    assert_int_equal(rules_petition_extend(&d, 31, &c), RULES_E_EXTENSION_TOO_LONG);
    assert_int_equal(rules_petition_extend(&d, 0, &c), RULES_E_ARG);
    assert_int_equal(rules_petition_extend(&d, -5, &c), RULES_E_ARG);
    assert_memory_equal(&d, &before, sizeof d);
    assert_int_equal(rules_petition_extend(&d, 30, &c), 0);
    assert_day(d.conclude_due, "2024-06-08");
    assert_int_equal(d.extension_days, 30);
    before = d;
    assert_int_equal(rules_petition_extend(&d, 1, &c), RULES_E_EXTENDED);
    assert_memory_equal(&d, &before, sizeof d);

    /* A shorter extension is fine, and still the only one. */
    assert_int_equal(rules_petition_deadlines(day("2024-03-01"), day("2024-03-01"), &c, &d), 0);
    assert_int_equal(rules_petition_extend(&d, 10, &c), 0);
    assert_day(d.conclude_due, "2024-05-10");
    assert_int_equal(rules_petition_extend(&d, 10, &c), RULES_E_EXTENDED);

    /* Across the year end and onto a leap day. */
    assert_int_equal(rules_petition_deadlines(day("2024-12-20"), day("2024-12-20"), &c, &d), 0);
    assert_day(d.accept_due, "2025-01-04");
    assert_day(d.conclude_due, "2025-02-18");
    assert_int_equal(rules_petition_deadlines(day("2024-02-14"), RULES_DATE_NONE, &c, &d), 0);
    assert_day(d.accept_due, "2024-02-29");
    assert_int_equal(rules_petition_deadlines(day("2023-02-14"), RULES_DATE_NONE, &c, &d), 0);
    assert_day(d.accept_due, "2023-03-01");

    /* A township's own numbers. */
    assert_int_equal(rules_config_set(&c, "accept_days", "10"), 0);
    assert_int_equal(rules_config_set(&c, "conclude_days", "30"), 0);
    assert_int_equal(rules_config_set(&c, "max_extension_days", "15"), 0);
    assert_int_equal(rules_petition_deadlines(day("2024-01-25"), day("2024-01-31"), &c, &d), 0);
    assert_day(d.accept_due, "2024-02-04");
    assert_day(d.conclude_due, "2024-03-01");
    assert_int_equal(rules_petition_extend(&d, 16, &c), RULES_E_EXTENSION_TOO_LONG);
    assert_int_equal(rules_petition_extend(&d, 15, &c), 0);
    assert_day(d.conclude_due, "2024-03-16");
    assert_int_equal(rules_config_set(&c, "max_extension_days", "0"), 0);
    assert_int_equal(rules_petition_deadlines(day("2024-01-25"), RULES_DATE_NONE, &c, &d), 0);
    assert_int_equal(rules_petition_extend(&d, 1, &c), RULES_E_EXTENSION_TOO_LONG);

    /* Acceptance cannot precede receipt. */
    assert_int_equal(rules_petition_deadlines(day("2024-03-10"), day("2024-03-09"), &c, &d),
                     RULES_E_ARG);
    assert_int_equal(rules_petition_deadlines(RULES_DATE_NONE, RULES_DATE_NONE, &c, &d),
                     RULES_E_ARG);
}

static void test_case_due(void **state)
{
    (void)state;
    struct rules_config c;
    rules_config_default(&c);
    struct rules_petition_deadlines d;
    assert_int_equal(rules_petition_deadlines(day("2024-03-01"), day("2024-03-05"), &c, &d), 0);
    struct rules_date none = RULES_DATE_NONE, set = day("2024-03-20");

    assert_day(rules_case_due(RULES_KIND_PETITION, RULES_STATUS_REGISTERED, &d, none),
               "2024-03-16");
    assert_day(rules_case_due(RULES_KIND_PETITION, RULES_STATUS_MEDIATING, &d, none), "2024-05-04");
    assert_day(rules_case_due(RULES_KIND_PETITION, RULES_STATUS_FAILED, &d, none), "2024-05-04");
    /* The township's deadline wins, even over the statutory one. */
    assert_day(rules_case_due(RULES_KIND_PETITION, RULES_STATUS_REGISTERED, &d, set), "2024-03-20");
    assert_day(rules_case_due(RULES_KIND_DISPUTE, RULES_STATUS_MEDIATING, NULL, set), "2024-03-20");
    /* Disputes have no statutory deadline; closed cases none at all. */
    assert_false(
        rules_date_is_set(rules_case_due(RULES_KIND_DISPUTE, RULES_STATUS_MEDIATING, NULL, none)));
    assert_false(
        rules_date_is_set(rules_case_due(RULES_KIND_PETITION, RULES_STATUS_CONCLUDED, &d, set)));
    assert_false(
        rules_date_is_set(rules_case_due(RULES_KIND_PETITION, RULES_STATUS_REFERRED, &d, none)));
    assert_false(
        rules_date_is_set(rules_case_due(RULES_KIND_PETITION, RULES_STATUS_MEDIATING, NULL, none)));
}

static void test_deadline_state(void **state)
{
    (void)state;
    int64_t days = -99;
    struct rules_date due = day("2024-03-10");
    assert_int_equal(rules_deadline_state(due, day("2024-03-01"), 5, &days), RULES_DUE_ON_TIME);
    assert_int_equal(days, 9);
    assert_int_equal(rules_deadline_state(due, day("2024-03-04"), 5, &days), RULES_DUE_ON_TIME);
    assert_int_equal(days, 6);
    assert_int_equal(rules_deadline_state(due, day("2024-03-05"), 5, &days), RULES_DUE_SOON);
    assert_int_equal(days, 5);
    assert_int_equal(rules_deadline_state(due, day("2024-03-10"), 5, &days), RULES_DUE_SOON);
    assert_int_equal(days, 0);
    assert_int_equal(rules_deadline_state(due, day("2024-03-11"), 5, &days), RULES_DUE_OVERDUE);
    assert_int_equal(days, 1);
    assert_int_equal(rules_deadline_state(due, day("2024-03-10"), 0, &days), RULES_DUE_SOON);
    assert_int_equal(rules_deadline_state(due, day("2024-03-09"), 0, &days), RULES_DUE_ON_TIME);
    /* Across a leap day and the year end. */
    assert_int_equal(rules_deadline_state(day("2024-02-28"), day("2024-03-01"), 5, &days),
                     RULES_DUE_OVERDUE);
    assert_int_equal(days, 2);
    assert_int_equal(rules_deadline_state(day("2023-02-28"), day("2023-03-01"), 5, &days),
                     RULES_DUE_OVERDUE);
    assert_int_equal(days, 1);
    assert_int_equal(rules_deadline_state(day("2024-12-31"), day("2025-01-30"), 5, &days),
                     RULES_DUE_OVERDUE);
    assert_int_equal(days, 30);
    assert_int_equal(rules_deadline_state(day("2025-01-02"), day("2024-12-30"), 5, NULL),
                     RULES_DUE_SOON);
    assert_int_equal(rules_deadline_state(RULES_DATE_NONE, day("2024-03-01"), 5, &days),
                     RULES_DUE_NONE);
    assert_int_equal(days, 0);

    assert_string_equal(rules_due_state_label(RULES_DUE_OVERDUE, "zh"), "已逾期");
    assert_string_equal(rules_due_state_label(RULES_DUE_SOON, "en"), "due soon");
    assert_string_equal(rules_due_state_label(RULES_DUE_ON_TIME, "en"), "on time");
    assert_null(rules_due_state_label(RULES_DUE_NONE, "en"));
}

/* ---- follow-ups ---- */

static void assert_followup(const char *concluded, int severity, const char *expected)
{
    struct rules_config c;
    rules_config_default(&c);
    struct rules_date due;
    assert_int_equal(rules_followup_due(day(concluded), severity, &c, &due), 0);
    assert_day(due, expected);
}

static void test_followups(void **state)
{
    (void)state;
    assert_followup("2024-03-15", 1, "2024-04-15");
    assert_followup("2024-03-15", 2, "2024-06-15");
    assert_followup("2024-03-15", 3, "2024-09-15");
    assert_followup("2024-01-31", 1, "2024-02-29");
    assert_followup("2023-01-31", 1, "2023-02-28");
    assert_followup("2024-01-31", 2, "2024-04-30");
    assert_followup("2024-01-31", 3, "2024-07-31");
    assert_followup("2024-11-30", 2, "2025-02-28");
    assert_followup("2024-12-31", 3, "2025-06-30");
    assert_followup("2024-12-15", 1, "2025-01-15");

    struct rules_config c;
    rules_config_default(&c);
    struct rules_date due;
    assert_int_equal(rules_followup_due(day("2024-03-15"), 0, &c, &due), RULES_E_ARG);
    assert_int_equal(rules_followup_due(day("2024-03-15"), 4, &c, &due), RULES_E_ARG);
    assert_int_equal(rules_followup_due(RULES_DATE_NONE, 1, &c, &due), RULES_E_ARG);
    assert_int_equal(rules_config_set(&c, "followup_months_1", "2"), 0);
    assert_int_equal(rules_followup_due(day("2024-03-15"), 1, &c, &due), 0);
    assert_day(due, "2024-05-15");

    struct rules_date d = day("2024-04-15"), none = RULES_DATE_NONE;
    assert_int_equal(rules_followup_state(d, none, day("2024-04-01")), RULES_FOLLOWUP_DUE);
    assert_int_equal(rules_followup_state(d, none, day("2024-04-15")), RULES_FOLLOWUP_DUE);
    assert_int_equal(rules_followup_state(d, none, day("2024-04-16")), RULES_FOLLOWUP_OVERDUE);
    assert_int_equal(rules_followup_state(d, day("2024-04-10"), day("2024-05-01")),
                     RULES_FOLLOWUP_DONE);
    assert_int_equal(rules_followup_state(d, day("2024-04-20"), day("2024-05-01")),
                     RULES_FOLLOWUP_DONE);
    assert_int_equal(rules_followup_state(none, none, day("2024-05-01")), RULES_FOLLOWUP_NONE);
    assert_string_equal(rules_followup_state_label(RULES_FOLLOWUP_OVERDUE, "zh"), "回访逾期");
    assert_string_equal(rules_followup_state_label(RULES_FOLLOWUP_DONE, "en"), "done");
    assert_null(rules_followup_state_label(RULES_FOLLOWUP_NONE, "en"));
}

/* ---- result notice and opinion ---- */

/* Every kind of event has words in both languages: those of the
 * reference data and those the workflow's steps write. */
static void test_event_kinds(void **state)
{
    (void)state;
    static const char *const used[] = {"register",  "inspection", "visit",           "phone",
                                       "session",   "agreement",  "followup",        "referral",
                                       "status",    "escalation", "result_notice",   "opinion",
                                       "extension", "deadline",   "reveal",          "level",
                                       "mediator",  "correction", "correction_reply"};
    for (size_t i = 0; i < sizeof used / sizeof used[0]; i++) {
        const char *zh = rules_event_kind_label(used[i], "zh");
        const char *en = rules_event_kind_label(used[i], "en");
        if (!zh || !en) {
            fail_msg("no words for the event kind %s", used[i]);
        }
        assert_string_equal(rules_event_kind_label(zh, "en"), en); /* the Chinese word finds it */
    }
    assert_int_equal(rules_event_kind_count(), sizeof used / sizeof used[0]);
    for (size_t i = 0; i < rules_event_kind_count(); i++) {
        assert_non_null(rules_event_kind_label(rules_event_kind_name(i), "zh"));
    }
    assert_null(rules_event_kind_name(rules_event_kind_count()));
    assert_null(rules_event_kind_label("bribe", "zh"));
    assert_null(rules_event_kind_label(NULL, "zh"));
    assert_string_equal(rules_event_kind_label("session", "zh"), "调解");
}

static void test_opinion_and_conclusion(void **state)
{
    (void)state;
    enum rules_opinion o;
    assert_int_equal(rules_opinion_parse("basically_satisfied", &o), 0);
    assert_int_equal(o, RULES_OPINION_BASICALLY_SATISFIED);
    assert_int_equal(rules_opinion_parse("满意", &o), 0);
    assert_int_equal(o, RULES_OPINION_SATISFIED);
    assert_int_equal(rules_opinion_parse("基本满意", &o), 0);
    assert_int_equal(o, RULES_OPINION_BASICALLY_SATISFIED);
    assert_int_equal(rules_opinion_parse("不满意", &o), 0);
    assert_int_equal(o, RULES_OPINION_NOT_SATISFIED);
    assert_int_equal(rules_opinion_parse("happy", &o), RULES_E_PARSE);
    assert_string_equal(rules_opinion_name(RULES_OPINION_NOT_SATISFIED), "not_satisfied");
    assert_string_equal(rules_opinion_label(RULES_OPINION_BASICALLY_SATISFIED, "en"),
                        "basically satisfied");
    assert_null(rules_opinion_label(RULES_OPINION_NONE, "zh"));

    enum rules_requirement missing[RULES_REQ_COUNT];
    struct rules_conclusion_facts f = {RULES_KIND_PETITION, 0, 0, 0};
    assert_int_equal(rules_conclusion_missing(&f, missing), 1);
    assert_int_equal(missing[0], RULES_REQ_RESULT_NOTICE);
    assert_string_equal(rules_requirement_label(missing[0], "en"),
                        "a written result notice to the petitioner");
    f.result_notice_sent = 1;
    assert_int_equal(rules_conclusion_missing(&f, missing), 0);
    f = (struct rules_conclusion_facts){RULES_KIND_PETITION, 0, 1, 0};
    assert_int_equal(rules_conclusion_missing(&f, missing), 2);
    assert_int_equal(missing[0], RULES_REQ_RESULT_NOTICE);
    assert_int_equal(missing[1], RULES_REQ_AGREEMENT_SIGNED);
    /* A dispute needs no written notice, only a signed agreement if one
     * was reached. */
    f = (struct rules_conclusion_facts){RULES_KIND_DISPUTE, 0, 0, 0};
    assert_int_equal(rules_conclusion_missing(&f, missing), 0);
    f.agreement_reached = 1;
    assert_int_equal(rules_conclusion_missing(&f, missing), 1);
    assert_int_equal(missing[0], RULES_REQ_AGREEMENT_SIGNED);
    assert_non_null(rules_requirement_label(missing[0], "zh"));
    f.agreement_signed = 1;
    assert_int_equal(rules_conclusion_missing(&f, missing), 0);
}

/* ---- agreements ---- */

static struct rules_agreement complete_agreement(void)
{
    return (struct rules_agreement){
        .parties_details = "申请人谭德胜，男，1972年2月28日生；被申请人王光明，男。",
        .facts_and_liability = "王光明向谭德胜借款三万元，到期未还。",
        .rights_obligations = "王光明分十个月偿还剩余借款二万五千元。",
        .performance_method = "银行转账",
        .performance_place = "杨柳村村委会",
        .performance_deadline = "2024-12-31",
        .parties_signed = 1,
        .mediator_signed = 1,
        .sealed = 1,
        .signed_at = NULL,
    };
}

static void test_agreement_missing(void **state)
{
    (void)state;
    enum rules_agreement_item out[RULES_AGR_COUNT];
    struct rules_agreement a = complete_agreement();
    assert_int_equal(rules_agreement_missing(&a, out), 0);

    /* Each item missing on its own, as NULL, empty or white space. */
    const char *blanks[] = {NULL, "", " \t", "\xE3\x80\x80"};
    for (int item = 1; item < RULES_AGR_COUNT; item++) {
        for (size_t b = 0; b < sizeof blanks / sizeof blanks[0]; b++) {
            a = complete_agreement();
            switch ((enum rules_agreement_item)item) {
            case RULES_AGR_PARTIES:
                a.parties_details = blanks[b];
                break;
            case RULES_AGR_FACTS:
                a.facts_and_liability = blanks[b];
                break;
            case RULES_AGR_RIGHTS:
                a.rights_obligations = blanks[b];
                break;
            case RULES_AGR_PERFORMANCE_METHOD:
                a.performance_method = blanks[b];
                break;
            case RULES_AGR_PERFORMANCE_PLACE:
                a.performance_place = blanks[b];
                break;
            case RULES_AGR_PERFORMANCE_DEADLINE:
                a.performance_deadline = blanks[b];
                break;
            case RULES_AGR_PARTIES_SIGNED:
                a.parties_signed = 0;
                break;
            case RULES_AGR_MEDIATOR_SIGNED:
                a.mediator_signed = 0;
                break;
            case RULES_AGR_SEAL:
                a.sealed = 0;
                break;
            default:
                fail();
            }
            assert_int_equal(rules_agreement_missing(&a, out), 1);
            assert_int_equal(out[0], item);
        }
        assert_non_null(rules_agreement_item_label((enum rules_agreement_item)item, "en"));
        assert_non_null(rules_agreement_item_label((enum rules_agreement_item)item, "zh"));
    }
    const int parts[RULES_AGR_COUNT] = {0, 1, 2, 3, 4, 4, 4, 5, 5, 5};
    for (int item = 0; item < RULES_AGR_COUNT; item++) {
        assert_int_equal(rules_agreement_item_part((enum rules_agreement_item)item), parts[item]);
    }
    assert_string_equal(rules_agreement_item_label(RULES_AGR_PERFORMANCE_PLACE, "en"),
                        "(4) the place of performance");
    assert_string_equal(rules_agreement_item_label(RULES_AGR_SEAL, "zh"),
                        "（五）人民调解委员会印章");
    assert_null(rules_agreement_item_label(RULES_AGR_NONE, "en"));

    /* An empty agreement misses everything, in order. */
    struct rules_agreement empty = {0};
    assert_int_equal(rules_agreement_missing(&empty, out), RULES_AGR_COUNT - 1);
    for (int i = 0; i < RULES_AGR_COUNT - 1; i++) {
        assert_int_equal(out[i], i + 1);
    }
}

static void test_agreement_signing(void **state)
{
    (void)state;
    enum rules_agreement_item out[RULES_AGR_COUNT];
    size_t n = 99;
    struct rules_agreement a = complete_agreement();
    a.parties_signed = a.mediator_signed = a.sealed = 0;
    /* The signatures and the seal are the signing itself. */
    assert_int_equal(rules_agreement_sign_check(&a, out, &n), 0);
    assert_int_equal(n, 0);
    assert_true(rules_agreement_edit_allowed(&a));

    a.performance_place = "";
    a.rights_obligations = NULL;
    assert_int_equal(rules_agreement_sign_check(&a, out, &n), RULES_E_INCOMPLETE);
    assert_int_equal(n, 2);
    assert_int_equal(out[0], RULES_AGR_RIGHTS);
    assert_int_equal(out[1], RULES_AGR_PERFORMANCE_PLACE);
    assert_int_equal(rules_agreement_sign_check(&a, NULL, NULL), RULES_E_INCOMPLETE);

    /* Signed: locked; a change is a supplementary agreement. */
    a = complete_agreement();
    a.signed_at = "2024-06-01T10:00:00+08:00";
    assert_true(rules_agreement_is_signed(&a));
    assert_false(rules_agreement_edit_allowed(&a));
    assert_int_equal(rules_agreement_sign_check(&a, out, &n), RULES_E_LOCKED);
    /* Signed but incomplete: still locked, and shown as incomplete. */
    a.sealed = 0;
    assert_false(rules_agreement_edit_allowed(&a));
    assert_int_equal(rules_agreement_missing(&a, out), 1);
    assert_int_equal(out[0], RULES_AGR_SEAL);
    a.signed_at = " ";
    assert_false(rules_agreement_is_signed(&a));
    assert_true(rules_agreement_edit_allowed(&a));
    assert_false(rules_agreement_edit_allowed(NULL));
}

/* ---- case numbers ---- */

static void test_case_numbers(void **state)
{
    (void)state;
    char buf[RULES_CASE_NO_MAX];
    struct rules_case_no no;

    assert_int_equal(rules_case_no_format(2026, "白沙", "A3", 12, buf, sizeof buf), 0);
    assert_string_equal(buf, "（2026）白沙调字第A3-0012号");
    assert_int_equal(rules_case_no_parse(buf, &no), 0);
    assert_int_equal(no.year, 2026);
    assert_string_equal(no.village_short, "白沙");
    assert_string_equal(no.device_code, "A3");
    assert_int_equal(no.seq, 12);

    /* The reference data's form, without a device code. */
    assert_int_equal(rules_case_no_format(2024, "白沙", NULL, 648, buf, sizeof buf), 0);
    assert_string_equal(buf, "（2024）白沙调字第0648号");
    assert_int_equal(rules_case_no_format(2024, "白沙", "", 648, buf, sizeof buf), 0);
    assert_string_equal(buf, "（2024）白沙调字第0648号");
    const char *data[] = {"（2023）杨柳调字第0001号", "（2023）柏树湾调字第0007号",
                          "（2024）黄土岭调字第1000号"};
    for (size_t i = 0; i < sizeof data / sizeof data[0]; i++) {
        assert_int_equal(rules_case_no_parse(data[i], &no), 0);
        assert_string_equal(no.device_code, "");
        assert_int_equal(rules_case_no_format(no.year, no.village_short, no.device_code, no.seq,
                                              buf, sizeof buf),
                         0);
        assert_string_equal(buf, data[i]);
    }
    assert_int_equal(rules_case_no_parse("（2023）柏树湾调字第0007号", &no), 0);
    assert_int_equal(no.year, 2023);
    assert_string_equal(no.village_short, "柏树湾");
    assert_int_equal(no.seq, 7);

    /* Round trips over codes and sequences; long sequences grow. */
    const char *codes[] = {"A0", "ZZ", "H7", "QX"};
    const int seqs[] = {1, 9999, 10000, RULES_SEQ_MAX};
    for (size_t i = 0; i < 4; i++) {
        for (size_t j = 0; j < 4; j++) {
            assert_int_equal(
                rules_case_no_format(2025, "枫树湾", codes[i], seqs[j], buf, sizeof buf), 0);
            assert_int_equal(rules_case_no_parse(buf, &no), 0);
            assert_int_equal(no.year, 2025);
            assert_string_equal(no.village_short, "枫树湾");
            assert_string_equal(no.device_code, codes[i]);
            assert_int_equal(no.seq, seqs[j]);
        }
    }
    assert_int_equal(rules_case_no_format(2025, "河西", "B2", 12345, buf, sizeof buf), 0);
    assert_string_equal(buf, "（2025）河西调字第B2-12345号");

    /* What people type: ASCII brackets, a lower-case code. */
    assert_int_equal(rules_case_no_parse("(2026)白沙调字第a3-0012号", &no), 0);
    assert_string_equal(no.device_code, "A3");
    assert_int_equal(no.seq, 12);

    const char *bad[] = {"（2026）白沙调字第A3-0012",
                         "（2026）白沙调字第A3-0012号 ",
                         "（2026）白沙调字第-0012号",
                         "（26）白沙调字第0012号",
                         "（2026）白沙第0012号",
                         "（2026）白沙调字第A3-号",
                         "（2026）白沙调字第A30012号",
                         "（2026）白沙调字第I3-0012号",
                         "（2026）白沙调字第3A-0012号",
                         "（2026）白沙调字第0000号",
                         "（2026）调字第0012号",
                         "（0000）白沙调字第0012号",
                         "2026白沙调字第0012号",
                         "（2026）白沙调字第1234567号",
                         "（2026）白沙调字第A3-0012号（2026）",
                         ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(rules_case_no_parse(bad[i], &no), RULES_E_PARSE);
    }

    /* Numbers that could not be read back are never made. */
    assert_int_equal(rules_case_no_format(2026, "白沙", "I3", 1, buf, sizeof buf), RULES_E_ARG);
    assert_int_equal(rules_case_no_format(2026, "白沙", "3A", 1, buf, sizeof buf), RULES_E_ARG);
    assert_int_equal(rules_case_no_format(2026, "白沙", "a3", 1, buf, sizeof buf), RULES_E_ARG);
    assert_int_equal(rules_case_no_format(2026, "白沙", "A33", 1, buf, sizeof buf), RULES_E_ARG);
    assert_int_equal(rules_case_no_format(2026, "白沙", "A3", 0, buf, sizeof buf), RULES_E_ARG);
    assert_int_equal(rules_case_no_format(2026, "白沙", "A3", RULES_SEQ_MAX + 1, buf, sizeof buf),
                     RULES_E_ARG);
    assert_int_equal(rules_case_no_format(0, "白沙", "A3", 1, buf, sizeof buf), RULES_E_ARG);
    assert_int_equal(rules_case_no_format(2026, "", "A3", 1, buf, sizeof buf), RULES_E_ARG);
    assert_int_equal(rules_case_no_format(2026, "白（沙", "A3", 1, buf, sizeof buf), RULES_E_ARG);
    assert_int_equal(rules_case_no_format(2026, "白(沙", "A3", 1, buf, sizeof buf), RULES_E_ARG);
    assert_int_equal(rules_case_no_format(2026, "白沙调字", "A3", 1, buf, sizeof buf), RULES_E_ARG);
    assert_int_equal(rules_case_no_format(2026, "\xE7\x99", "A3", 1, buf, sizeof buf), RULES_E_ARG);
    assert_int_equal(rules_case_no_format(2026, "白沙", "A3", 12, buf, 20), RULES_E_SPACE);
    assert_string_equal(buf, "");
    /* Exactly enough room. */
    assert_int_equal(rules_case_no_format(2026, "白沙", "A3", 12, buf,
                                          strlen("（2026）白沙调字第A3-0012号") + 1),
                     0);
}

static void test_device_codes(void **state)
{
    (void)state;
    char code[RULES_DEVICE_CODE_LEN + 1], again[RULES_DEVICE_CODE_LEN + 1];
    rules_device_code(0x0123456789abcdefULL, 0, code);
    rules_device_code(0x0123456789abcdefULL, 0, again);
    assert_string_equal(code, again); /* the same device, the same code */
    assert_true(rules_device_code_valid(code));

    /* The attempts 0 to 703 of one node give every code once. */
    static char seen[704][RULES_DEVICE_CODE_LEN + 1];
    for (unsigned a = 0; a < 704; a++) {
        rules_device_code(42, a, seen[a]);
        assert_true(rules_device_code_valid(seen[a]));
        assert_true(seen[a][0] >= 'A' && seen[a][0] <= 'Z');
        for (unsigned b = 0; b < a; b++) {
            assert_string_not_equal(seen[a], seen[b]);
        }
    }
    rules_device_code(42, 704, code);
    assert_string_equal(code, seen[0]);

    /* Node ids a few bits apart still spread over the codes. */
    int distinct = 0;
    static int used[26][32];
    memset(used, 0, sizeof used);
    for (uint64_t node = 1; node <= 1000; node++) {
        rules_device_code(node, 0, code);
        const char *alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
        int *slot = &used[code[0] - 'A'][strchr(alphabet, code[1]) - alphabet];
        distinct += (*slot)++ == 0;
    }
    assert_true(distinct > 500);

    assert_false(rules_device_code_valid("A"));
    assert_false(rules_device_code_valid("AU"));
    assert_false(rules_device_code_valid("LA"));
    assert_false(rules_device_code_valid("0A"));
    assert_false(rules_device_code_valid(""));
    assert_false(rules_device_code_valid(NULL));

    char shortname[RULES_VILLAGE_SHORT_MAX];
    assert_int_equal(rules_village_short("白沙村", shortname, sizeof shortname), 0);
    assert_string_equal(shortname, "白沙");
    assert_int_equal(rules_village_short("柏树湾村", shortname, sizeof shortname), 0);
    assert_string_equal(shortname, "柏树湾");
    assert_int_equal(rules_village_short("城关社区", shortname, sizeof shortname), 0);
    assert_string_equal(shortname, "城关");
    assert_int_equal(rules_village_short("新塘", shortname, sizeof shortname), 0);
    assert_string_equal(shortname, "新塘");
    assert_int_equal(rules_village_short("村", shortname, sizeof shortname), 0);
    assert_string_equal(shortname, "村");
    assert_int_equal(rules_village_short("", shortname, sizeof shortname), RULES_E_ARG);
    assert_int_equal(rules_village_short("柏树湾村", shortname, 9), RULES_E_SPACE);
    assert_int_equal(rules_village_short("柏树湾村", shortname, 10), 0);
}

/* ---- figures ---- */

/* A hand-made ledger of two villages; the answers for March 2024 are
 * worked out in the comments. */
static struct rules_case_facts facts[14];

static void make_ledger(void)
{
    struct rules_date none = RULES_DATE_NONE;
    memset(facts, 0, sizeof facts);
    /* c1: a land dispute, mediated to an agreement, concluded, satisfied. */
    facts[0] = (struct rules_case_facts){"A",
                                         RULES_KIND_DISPUTE,
                                         "land",
                                         RULES_CHANNEL_VISIT,
                                         RULES_STATUS_CONCLUDED,
                                         1,
                                         day("2024-03-02"),
                                         day("2024-03-20"),
                                         1,
                                         1,
                                         1,
                                         RULES_OPINION_SATISFIED,
                                         none,
                                         none};
    /* c2: a debt dispute whose mediation failed; not satisfied. */
    facts[1] = (struct rules_case_facts){"A",
                                         RULES_KIND_DISPUTE,
                                         "debt",
                                         RULES_CHANNEL_CALL,
                                         RULES_STATUS_FAILED,
                                         2,
                                         day("2024-03-05"),
                                         none,
                                         1,
                                         0,
                                         1,
                                         RULES_OPINION_NOT_SATISFIED,
                                         none,
                                         none};
    /* c3: neighbours (category given by its Chinese label), just registered,
     * no channel known. */
    facts[2] = (struct rules_case_facts){"A",
                                         RULES_KIND_DISPUTE,
                                         "邻里纠纷",
                                         RULES_CHANNEL_NONE,
                                         RULES_STATUS_REGISTERED,
                                         3,
                                         day("2024-03-31"),
                                         none,
                                         0,
                                         0,
                                         0,
                                         RULES_OPINION_NONE,
                                         none,
                                         none};
    /* c4: a petition by letter, due 03-25 and still open: overdue. */
    facts[3] = (struct rules_case_facts){"A",
                                         RULES_KIND_PETITION,
                                         "veterans",
                                         RULES_CHANNEL_LETTER,
                                         RULES_STATUS_ACCEPTED,
                                         2,
                                         day("2024-03-10"),
                                         none,
                                         0,
                                         0,
                                         0,
                                         RULES_OPINION_NONE,
                                         none,
                                         day("2024-03-25")};
    /* c5: a petition received in February, due 03-10, concluded late on
     * 03-15. */
    facts[4] = (struct rules_case_facts){"A",
                                         RULES_KIND_PETITION,
                                         "pensions",
                                         RULES_CHANNEL_ONLINE,
                                         RULES_STATUS_CONCLUDED,
                                         0,
                                         day("2024-02-20"),
                                         day("2024-03-15"),
                                         0,
                                         0,
                                         0,
                                         RULES_OPINION_BASICALLY_SATISFIED,
                                         none,
                                         day("2024-03-10")};
    /* c6: village B. */
    facts[5] = (struct rules_case_facts){"B",
                                         RULES_KIND_DISPUTE,
                                         "land",
                                         RULES_CHANNEL_VISIT,
                                         RULES_STATUS_REGISTERED,
                                         2,
                                         day("2024-03-03"),
                                         none,
                                         0,
                                         0,
                                         0,
                                         RULES_OPINION_NONE,
                                         none,
                                         none};
    /* c7: a screening finding in mediation, category unknown. */
    facts[6] = (struct rules_case_facts){"A",
                                         RULES_KIND_SCREENING,
                                         NULL,
                                         RULES_CHANNEL_SCREENING,
                                         RULES_STATUS_MEDIATING,
                                         2,
                                         day("2024-03-15"),
                                         none,
                                         1,
                                         0,
                                         0,
                                         RULES_OPINION_NONE,
                                         none,
                                         none};
    /* c8: concluded on the leap day, class 1: visit due 03-29, made 03-20. */
    facts[7] = (struct rules_case_facts){"A",
                                         RULES_KIND_DISPUTE,
                                         "family",
                                         RULES_CHANNEL_VISIT,
                                         RULES_STATUS_CONCLUDED,
                                         1,
                                         day("2023-12-01"),
                                         day("2024-02-29"),
                                         1,
                                         1,
                                         1,
                                         RULES_OPINION_NONE,
                                         day("2024-03-20"),
                                         none};
    /* c9: concluded on the last day of 2023, class 2: visit due 2024-03-31,
     * never made. */
    facts[8] = (struct rules_case_facts){"A",
                                         RULES_KIND_DISPUTE,
                                         "family",
                                         RULES_CHANNEL_VISIT,
                                         RULES_STATUS_ARCHIVED,
                                         2,
                                         day("2023-10-01"),
                                         day("2023-12-31"),
                                         1,
                                         1,
                                         1,
                                         RULES_OPINION_NONE,
                                         none,
                                         none};
    /* c10: concluded 2023-09-30, class 3: visit due 2024-03-30, made late on
     * 04-05. */
    facts[9] = (struct rules_case_facts){"A",
                                         RULES_KIND_DISPUTE,
                                         "debt",
                                         RULES_CHANNEL_CALL,
                                         RULES_STATUS_CONCLUDED,
                                         3,
                                         day("2023-09-01"),
                                         day("2023-09-30"),
                                         1,
                                         0,
                                         1,
                                         RULES_OPINION_NONE,
                                         day("2024-04-05"),
                                         none};
    /* c11: received in January, due 02-15, still being mediated. */
    facts[10] = (struct rules_case_facts){"A",
                                          RULES_KIND_DISPUTE,
                                          "labour",
                                          RULES_CHANNEL_VISIT,
                                          RULES_STATUS_MEDIATING,
                                          2,
                                          day("2024-01-05"),
                                          none,
                                          1,
                                          0,
                                          0,
                                          RULES_OPINION_NONE,
                                          none,
                                          day("2024-02-15")};
    /* c12: due on the last day of March, still open. */
    facts[11] = (struct rules_case_facts){"A",
                                          RULES_KIND_DISPUTE,
                                          "family",
                                          RULES_CHANNEL_VISIT,
                                          RULES_STATUS_MEDIATING,
                                          2,
                                          day("2024-03-20"),
                                          none,
                                          1,
                                          0,
                                          0,
                                          RULES_OPINION_NONE,
                                          none,
                                          day("2024-03-31")};
    /* c13: an agreement reached (mediation_concluded not set: implied). */
    facts[12] = (struct rules_case_facts){"A",
                                          RULES_KIND_DISPUTE,
                                          "family",
                                          RULES_CHANNEL_REFERRAL,
                                          RULES_STATUS_AGREEMENT,
                                          2,
                                          day("2024-03-08"),
                                          none,
                                          1,
                                          1,
                                          0,
                                          RULES_OPINION_BASICALLY_SATISFIED,
                                          none,
                                          none};
    /* c14: an online petition concluded in March, satisfied, class 3. */
    facts[13] = (struct rules_case_facts){"A",
                                          RULES_KIND_PETITION,
                                          "pensions",
                                          RULES_CHANNEL_ONLINE,
                                          RULES_STATUS_CONCLUDED,
                                          3,
                                          day("2024-03-12"),
                                          day("2024-03-28"),
                                          0,
                                          0,
                                          0,
                                          RULES_OPINION_SATISFIED,
                                          none,
                                          day("2024-05-11")};
}

static void assert_rate(struct rules_rate r, size_t num, size_t den, int target,
                        enum rules_rate_verdict verdict)
{
    assert_int_equal(r.num, num);
    assert_int_equal(r.den, den);
    assert_int_equal(r.target_bp, target);
    assert_int_equal(r.verdict, verdict);
}

static void test_figures_month(void **state)
{
    (void)state;
    make_ledger();
    struct rules_config c;
    rules_config_default(&c);
    struct rules_period march;
    assert_int_equal(rules_period_parse("2024-03", &march), 0);
    struct rules_figures f;
    const size_t n = sizeof facts / sizeof facts[0];

    assert_int_equal(rules_figures_compute(facts, n, &march, "A", &c, day("2024-04-10"), &f), 0);
    assert_day(f.as_of, "2024-03-31");
    /* Received in March in A: c1 c2 c3 c4 c7 c12 c13 c14. */
    assert_int_equal(f.received, 8);
    assert_int_equal(f.received_by_kind[RULES_KIND_NONE], 0);
    assert_int_equal(f.received_by_kind[RULES_KIND_DISPUTE], 5);
    assert_int_equal(f.received_by_kind[RULES_KIND_PETITION], 2);
    assert_int_equal(f.received_by_kind[RULES_KIND_SCREENING], 1);
    assert_int_equal(f.received_by_channel[RULES_CHANNEL_NONE], 1);
    assert_int_equal(f.received_by_channel[RULES_CHANNEL_VISIT], 2);
    assert_int_equal(f.received_by_channel[RULES_CHANNEL_LETTER], 1);
    assert_int_equal(f.received_by_channel[RULES_CHANNEL_CALL], 1);
    assert_int_equal(f.received_by_channel[RULES_CHANNEL_ONLINE], 1);
    assert_int_equal(f.received_by_channel[RULES_CHANNEL_SCREENING], 1);
    assert_int_equal(f.received_by_channel[RULES_CHANNEL_REFERRAL], 1);
    assert_int_equal(f.received_by_category[rules_category_find(&c, "land")], 1);
    assert_int_equal(f.received_by_category[rules_category_find(&c, "debt")], 1);
    assert_int_equal(f.received_by_category[rules_category_find(&c, "neighbour")], 1);
    assert_int_equal(f.received_by_category[rules_category_find(&c, "veterans")], 1);
    assert_int_equal(f.received_by_category[rules_category_find(&c, "family")], 2);
    assert_int_equal(f.received_by_category[rules_category_find(&c, "other")], 0);
    assert_int_equal(f.received_unlisted_category, 2); /* c7 (none), c14 ("pensions") */
    /* Concluded in March: c1 (03-20), c5 (03-15), c14 (03-28). */
    assert_int_equal(f.concluded, 3);
    /* Participation: disputes and screening findings received (c1 c2 c3 c7
     * c12 c13), of which mediated all but c3. */
    assert_rate(f.participation, 5, 6, 9800, RULES_RATE_BELOW);
    /* Success: mediations ended (c1 c2 c13), with an agreement c1 c13. */
    assert_rate(f.success, 2, 3, 9800, RULES_RATE_BELOW);
    /* Satisfaction: opinions c1 c2 c13 c14, satisfied or basically: 3. */
    assert_rate(f.satisfaction, 3, 4, 9600, RULES_RATE_BELOW);
    /* Overdue: deadlines in March missed: c4 (open), c5 (late), c12 (open
     * past 03-31). Open and overdue at 03-31: c4, c11 (not c12: its due
     * day is still on time). */
    assert_int_equal(f.overdue, 3);
    assert_int_equal(f.overdue_open, 2);
    /* Follow-ups due in March: c8 (done), c9 (overdue), c10 (done late). */
    assert_int_equal(f.followups_due, 3);
    assert_int_equal(f.followups_done, 2);
    assert_int_equal(f.followups_overdue, 1);

    /* All villages: c6 of B joins the received and the participation. */
    assert_int_equal(rules_figures_compute(facts, n, &march, NULL, &c, day("2024-04-10"), &f), 0);
    assert_int_equal(f.received, 9);
    assert_int_equal(f.received_by_category[rules_category_find(&c, "land")], 2);
    assert_rate(f.participation, 5, 7, 9800, RULES_RATE_BELOW);
    assert_int_equal(rules_figures_compute(facts, n, &march, "B", &c, day("2024-04-10"), &f), 0);
    assert_int_equal(f.received, 1);
    assert_rate(f.participation, 0, 1, 9800, RULES_RATE_BELOW);
    assert_rate(f.success, 0, 0, 9800, RULES_RATE_NO_DATA);
    assert_int_equal(rules_figures_compute(facts, n, &march, "C", &c, day("2024-04-10"), &f), 0);
    assert_int_equal(f.received, 0);

    /* The same month seen on 03-20, while it runs. */
    assert_int_equal(rules_figures_compute(facts, n, &march, "A", &c, day("2024-03-20"), &f), 0);
    assert_day(f.as_of, "2024-03-20");
    assert_int_equal(f.overdue, 1);      /* c5 only: c4's and c12's days have not passed */
    assert_int_equal(f.overdue_open, 1); /* c11 */
    assert_int_equal(f.followups_due, 3);
    assert_int_equal(f.followups_overdue, 0);

    /* April, seen on 04-10: c1's visit (class 1, due 04-20) is due. */
    struct rules_period april;
    assert_int_equal(rules_period_month(2024, 4, &april), 0);
    assert_int_equal(rules_figures_compute(facts, n, &april, "A", &c, day("2024-04-10"), &f), 0);
    assert_int_equal(f.received, 0);
    assert_int_equal(f.followups_due, 1);
    assert_int_equal(f.followups_done, 0);
    assert_int_equal(f.followups_overdue, 0);
    assert_int_equal(f.overdue_open, 3); /* c4, c11, c12 */

    /* A period not yet begun has no overdue cases yet. */
    struct rules_period may;
    assert_int_equal(rules_period_month(2024, 5, &may), 0);
    assert_int_equal(rules_figures_compute(facts, n, &may, "A", &c, day("2024-04-10"), &f), 0);
    assert_int_equal(f.overdue_open, 0);
    assert_int_equal(f.overdue, 0);

    /* The year 2024 in A: the March cases, c5 (February), c11 (January). */
    struct rules_period year;
    assert_int_equal(rules_period_year(2024, &year), 0);
    assert_int_equal(rules_figures_compute(facts, n, &year, "A", &c, day("2024-04-10"), &f), 0);
    assert_int_equal(f.received, 10);
    assert_int_equal(f.concluded, 4); /* c1 c5 c8 c14 */
    assert_rate(f.satisfaction, 4, 5, 9600, RULES_RATE_BELOW);

    /* A township that lowers its targets sees them met. */
    assert_int_equal(rules_config_set(&c, "target_satisfaction", "75"), 0);
    assert_int_equal(rules_figures_compute(facts, n, &march, "A", &c, day("2024-04-10"), &f), 0);
    assert_rate(f.satisfaction, 3, 4, 7500, RULES_RATE_MEETS);
}

static void test_figures_no_data(void **state)
{
    (void)state;
    struct rules_config c;
    rules_config_default(&c);
    struct rules_period march;
    assert_int_equal(rules_period_month(2024, 3, &march), 0);
    struct rules_figures f;

    /* No cases: every rate is "no data", not 100% and not 0%. */
    assert_int_equal(rules_figures_compute(NULL, 0, &march, NULL, &c, day("2024-04-01"), &f), 0);
    assert_int_equal(f.received, 0);
    assert_rate(f.participation, 0, 0, 9800, RULES_RATE_NO_DATA);
    assert_rate(f.success, 0, 0, 9800, RULES_RATE_NO_DATA);
    assert_rate(f.satisfaction, 0, 0, 9600, RULES_RATE_NO_DATA);
    char text[32];
    assert_int_equal(rules_rate_format(&f.participation, "en", text, sizeof text), 0);
    assert_string_equal(text, "no data");
    assert_int_equal(rules_rate_format(&f.participation, "zh", text, sizeof text), 0);
    assert_string_equal(text, "无数据");

    /* Only a petition: no disputes, so no participation rate. */
    struct rules_case_facts petition = {.village = "A",
                                        .kind = RULES_KIND_PETITION,
                                        .received = day("2024-03-05"),
                                        .status = RULES_STATUS_ACCEPTED};
    assert_int_equal(rules_figures_compute(&petition, 1, &march, "A", &c, day("2024-04-01"), &f),
                     0);
    assert_int_equal(f.received, 1);
    assert_rate(f.participation, 0, 0, 9800, RULES_RATE_NO_DATA);

    /* A case without a kind (the reference data) is a dispute. */
    struct rules_case_facts unknown = {
        .village = "A", .received = day("2024-03-05"), .mediated = 1};
    assert_int_equal(rules_figures_compute(&unknown, 1, &march, "A", &c, day("2024-04-01"), &f), 0);
    assert_int_equal(f.received_by_kind[RULES_KIND_NONE], 1);
    assert_rate(f.participation, 1, 1, 9800, RULES_RATE_MEETS);

    /* Bad arguments. */
    struct rules_period backwards = {day("2024-03-31"), day("2024-03-01")};
    assert_int_equal(rules_figures_compute(NULL, 1, &march, NULL, &c, day("2024-04-01"), &f),
                     RULES_E_ARG);
    assert_int_equal(rules_figures_compute(NULL, 0, &backwards, NULL, &c, day("2024-04-01"), &f),
                     RULES_E_ARG);
    assert_int_equal(rules_figures_compute(NULL, 0, &march, NULL, &c, RULES_DATE_NONE, &f),
                     RULES_E_ARG);
    c.accept_days = 0;
    assert_int_equal(rules_figures_compute(NULL, 0, &march, NULL, &c, day("2024-04-01"), &f),
                     RULES_E_ARG);
}

static void assert_rate_text(size_t num, size_t den, int target, const char *text,
                             enum rules_rate_verdict verdict)
{
    struct rules_rate r = rules_rate_make(num, den, target);
    char buf[32];
    assert_int_equal(r.verdict, verdict);
    assert_int_equal(rules_rate_format(&r, "en", buf, sizeof buf), 0);
    assert_string_equal(buf, text);
}

static void test_rates(void **state)
{
    (void)state;
    assert_rate_text(49, 50, 9800, "98.0%", RULES_RATE_MEETS);
    /* 97/99 shows as 98.0% but is below 98%: the verdict is exact. */
    assert_rate_text(97, 99, 9800, "98.0%", RULES_RATE_BELOW);
    assert_rate_text(2, 3, 9800, "66.7%", RULES_RATE_BELOW);
    assert_rate_text(1, 3, 0, "33.3%", RULES_RATE_MEETS);
    assert_rate_text(1, 8, 1250, "12.5%", RULES_RATE_MEETS);
    assert_rate_text(1, 16, 9800, "6.3%", RULES_RATE_BELOW); /* 6.25: half up */
    assert_rate_text(0, 5, 9600, "0.0%", RULES_RATE_BELOW);
    assert_rate_text(5, 5, 10000, "100.0%", RULES_RATE_MEETS);
    assert_rate_text(24, 25, 9600, "96.0%", RULES_RATE_MEETS);
    assert_rate_text(0, 0, 9600, "no data", RULES_RATE_NO_DATA);

    struct rules_rate r = rules_rate_make(49, 50, 9800);
    char small[4];
    assert_int_equal(rules_rate_format(&r, "en", small, sizeof small), RULES_E_SPACE);
    assert_string_equal(small, "");

    char buf[16];
    assert_int_equal(rules_bp_format(9800, buf, sizeof buf), 0);
    assert_string_equal(buf, "98%");
    assert_int_equal(rules_bp_format(9650, buf, sizeof buf), 0);
    assert_string_equal(buf, "96.5%");
    assert_int_equal(rules_bp_format(9625, buf, sizeof buf), 0);
    assert_string_equal(buf, "96.25%");
    assert_int_equal(rules_bp_format(5, buf, sizeof buf), 0);
    assert_string_equal(buf, "0.05%");
}

/* ---- masking ---- */

static void assert_mask(int (*fn)(const char *, char *, size_t), const char *in, const char *out)
{
    char buf[64];
    assert_int_equal(fn(in, buf, sizeof buf), 0);
    assert_string_equal(buf, out);
}

static void test_masking(void **state)
{
    (void)state;
    assert_mask(rules_mask_id_no, "431228197202284460", "4312**********4460");
    assert_mask(rules_mask_id_no, "43312219890414019X", "4331**********019X");
    assert_mask(rules_mask_id_no, "123456789", "1234*6789");
    assert_mask(rules_mask_id_no, "12345678", "********");
    assert_mask(rules_mask_id_no, "", "");
    assert_mask(rules_mask_phone, "13800138000", "138****8000");
    assert_mask(rules_mask_phone, "17880400833", "178****0833");
    assert_mask(rules_mask_phone, "0731-84561234", "073******1234");
    assert_mask(rules_mask_phone, "1234567", "*******");
    assert_mask(rules_mask_phone, "12345678", "123*5678");
    /* Characters, not bytes, are kept and starred. */
    assert_mask(rules_mask_id_no, "张三李四王五赵六钱七", "张三李四**赵六钱七");

    char buf[32];
    assert_int_equal(rules_mask_id_no("431228197202284460", buf, 19), 0);
    memset(buf, 'x', sizeof buf);
    assert_int_equal(rules_mask_id_no("431228197202284460", buf, 18), RULES_E_SPACE);
    assert_string_equal(buf, "");
    assert_int_equal(rules_mask_phone(NULL, buf, sizeof buf), RULES_E_ARG);
    assert_int_equal(rules_mask_phone("13800138000", NULL, 0), RULES_E_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_leap_years),
        cmocka_unit_test(test_date_parse),
        cmocka_unit_test(test_days_from_civil),
        cmocka_unit_test(test_add_days),
        cmocka_unit_test(test_add_months),
        cmocka_unit_test(test_cmp_and_diff),
        cmocka_unit_test(test_shanghai_day),
        cmocka_unit_test(test_rfc3339_day),
        cmocka_unit_test(test_periods),
        cmocka_unit_test(test_kinds_and_channels),
        cmocka_unit_test(test_statuses),
        cmocka_unit_test(test_every_transition),
        cmocka_unit_test(test_transition_words),
        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_petition_deadlines),
        cmocka_unit_test(test_case_due),
        cmocka_unit_test(test_deadline_state),
        cmocka_unit_test(test_followups),
        cmocka_unit_test(test_opinion_and_conclusion),
        cmocka_unit_test(test_agreement_missing),
        cmocka_unit_test(test_agreement_signing),
        cmocka_unit_test(test_case_numbers),
        cmocka_unit_test(test_device_codes),
        cmocka_unit_test(test_figures_month),
        cmocka_unit_test(test_figures_no_data),
        cmocka_unit_test(test_rates),
        cmocka_unit_test(test_masking),
        cmocka_unit_test(test_event_kinds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
