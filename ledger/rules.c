/* SPDX-License-Identifier: MIT */
/*
 * rules.c - the rules of the mediators' work (rules.h): civil dates in
 * China Standard Time, the words of the ledger, the workflow of statuses
 * and levels, deadlines, follow-up visits, agreement completeness, case
 * numbers, the township figures and the masking of personal numbers. Pure
 * computation: no I/O, no clock, no heap; the same answers on the village
 * laptop and at the hub.
 */
#include "rules.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- errors ---- */

const char *rules_strerror(int code)
{
    switch (code) {
    case RULES_OK:
        return "success";
    case RULES_E_ARG:
        return "invalid argument";
    case RULES_E_PARSE:
        return "the text is not in the expected form";
    case RULES_E_RANGE:
        return "the date or number is outside the supported range";
    case RULES_E_SPACE:
        return "the result does not fit the buffer";
    case RULES_E_TRANSITION:
        return "the case cannot move to that status from its present one";
    case RULES_E_LEVEL:
        return "a case's responsibility level can only be raised";
    case RULES_E_EXTENDED:
        return "the deadline can be extended only once, and it was extended already";
    case RULES_E_EXTENSION_TOO_LONG:
        return "the extension is longer than the township allows";
    case RULES_E_LOCKED:
        return "the agreement is signed: a change must be a supplementary agreement";
    case RULES_E_INCOMPLETE:
        return "something required is missing";
    case RULES_E_FULL:
        return "there is no room for another category";
    default:
        return "unknown rules error";
    }
}

/* ---- small helpers ---- */

/* 1 when lang asks for Chinese: "zh", "zh-CN", "zh_TW", any case. */
static int is_zh(const char *lang)
{
    return lang && (lang[0] == 'z' || lang[0] == 'Z') && (lang[1] == 'h' || lang[1] == 'H') &&
           (lang[2] == '\0' || lang[2] == '-' || lang[2] == '_');
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* The value of n ASCII digits at s, or -1 if any is not a digit. */
static int read_digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit(s[i])) {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Length in bytes of the UTF-8 character starting at s, or 0 when the bytes
 * there are not one well-formed character (overlong forms, surrogates and
 * values above U+10FFFF included). */
static size_t utf8_char_len(const unsigned char *s)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        return (s[1] & 0xC0) == 0x80 ? 2 : 0;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        if ((s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) {
            return 0;
        }
        if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] > 0x9F)) {
            return 0;
        }
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if ((s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80) {
            return 0;
        }
        if ((c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] > 0x8F)) {
            return 0;
        }
        return 4;
    }
    return 0;
}

/* 1 when the n bytes at s are well-formed UTF-8 without control characters. */
static int utf8_text_ok(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        if (p[i] < 0x20 || p[i] == 0x7F) {
            return 0;
        }
        size_t k = utf8_char_len(p + i);
        if (k == 0 || k > n - i) {
            return 0;
        }
        i += k;
    }
    return 1;
}

/* 1 when s is NULL or holds only white space: ASCII, or U+3000, the
 * ideographic space a Chinese input method types. */
static int is_blank(const char *s)
{
    if (!s) {
        return 1;
    }
    while (*s) {
        if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\v' || *s == '\f') {
            s++;
        } else if (!strncmp(s, "\xE3\x80\x80", 3)) {
            s += 3;
        } else {
            return 0;
        }
    }
    return 1;
}

/* The bytes of needle's first occurrence in the n bytes at hay, or NULL. */
static const char *find_bytes(const char *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; k <= n && i <= n - k; i++) {
        if (!memcmp(hay + i, needle, k)) {
            return hay + i;
        }
    }
    return NULL;
}

/* A sentence built into a caller's buffer, cut at a character boundary
 * when it does not fit; once cut, nothing more is added. */
struct text {
    char *buf;
    size_t len;
    size_t used;
    int full;
};

static void text_init(struct text *t, char *buf, size_t len)
{
    t->buf = buf;
    t->len = len;
    t->used = 0;
    t->full = !buf || len == 0;
    if (!t->full) {
        buf[0] = '\0';
    }
}

static void text_add(struct text *t, const char *s)
{
    if (t->full) {
        return;
    }
    size_t room = t->len - 1 - t->used;
    size_t n = strlen(s);
    if (n > room) {
        n = room;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) {
            n--;
        }
        t->full = 1;
    }
    memcpy(t->buf + t->used, s, n);
    t->used += n;
    t->buf[t->used] = '\0';
}

static void text_int(struct text *t, int v)
{
    char num[16];
    snprintf(num, sizeof num, "%d", v);
    text_add(t, num);
}

/* ---- civil dates ---- */

int rules_is_leap(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int rules_days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12) {
        return 0;
    }
    return month == 2 && rules_is_leap(year) ? 29 : days[month - 1];
}

int rules_date_valid(struct rules_date d)
{
    return d.year >= 1 && d.year <= 9999 && d.month >= 1 && d.month <= 12 && d.day >= 1 &&
           d.day <= rules_days_in_month(d.year, d.month);
}

int rules_date_is_set(struct rules_date d)
{
    return d.year != 0;
}

int rules_date_parse(const char *text, struct rules_date *out)
{
    if (!text || !out) {
        return RULES_E_ARG;
    }
    *out = RULES_DATE_NONE;
    if (strlen(text) != RULES_DATE_LEN || text[4] != '-' || text[7] != '-') {
        return RULES_E_PARSE;
    }
    struct rules_date d = {read_digits(text, 4), read_digits(text + 5, 2),
                           read_digits(text + 8, 2)};
    if (!rules_date_valid(d)) {
        return RULES_E_PARSE;
    }
    *out = d;
    return 0;
}

int rules_date_format(struct rules_date d, char out[RULES_DATE_LEN + 1])
{
    if (!out) {
        return RULES_E_ARG;
    }
    out[0] = '\0';
    if (!rules_date_valid(d)) {
        return RULES_E_ARG;
    }
    /* Digit by digit: the compiler cannot see that the fields are small. */
    const int fields[3][2] = {{d.year, 4}, {d.month, 2}, {d.day, 2}};
    char *p = out;
    for (int f = 0; f < 3; f++) {
        for (int i = fields[f][1] - 1, v = fields[f][0]; i >= 0; i--, v /= 10) {
            p[i] = (char)('0' + v % 10);
        }
        p += fields[f][1];
        *p++ = f < 2 ? '-' : '\0';
    }
    return 0;
}

/* Howard Hinnant's days_from_civil: eras of 400 years (146097 days), the
 * year counted from March so that the leap day is the year's last. */
int64_t rules_days_from_civil(struct rules_date d)
{
    int64_t y = (int64_t)d.year - (d.month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                                                  /* [0, 399] */
    int64_t doy = (153 * (d.month + (d.month > 2 ? -3 : 9)) + 2) / 5 + d.day - 1; /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                          /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

/* The first and last day numbers of years 1 to 9999. */
#define DAYS_MIN (-719162)
#define DAYS_MAX 2932896

int rules_civil_from_days(int64_t days, struct rules_date *out)
{
    if (!out) {
        return RULES_E_ARG;
    }
    *out = RULES_DATE_NONE;
    if (days < DAYS_MIN || days > DAYS_MAX) {
        return RULES_E_RANGE;
    }
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t day = doy - (153 * mp + 2) / 5 + 1;
    int64_t month = mp < 10 ? mp + 3 : mp - 9;
    int64_t year = yoe + era * 400 + (month <= 2);
    out->year = (int)year;
    out->month = (int)month;
    out->day = (int)day;
    return 0;
}

int rules_date_add_days(struct rules_date d, int64_t n, struct rules_date *out)
{
    if (!out) {
        return RULES_E_ARG;
    }
    *out = RULES_DATE_NONE;
    if (!rules_date_valid(d)) {
        return RULES_E_ARG;
    }
    /* Any n outside this span leaves years 1-9999, and keeps the sum safe. */
    if (n > (int64_t)DAYS_MAX - DAYS_MIN || n < (int64_t)DAYS_MIN - DAYS_MAX) {
        return RULES_E_RANGE;
    }
    return rules_civil_from_days(rules_days_from_civil(d) + n, out);
}

int rules_date_add_months(struct rules_date d, int n, struct rules_date *out)
{
    if (!out) {
        return RULES_E_ARG;
    }
    *out = RULES_DATE_NONE;
    if (!rules_date_valid(d)) {
        return RULES_E_ARG;
    }
    int64_t total = (int64_t)d.year * 12 + (d.month - 1) + n;
    if (total < 12 || total > 9999 * 12 + 11) {
        return RULES_E_RANGE;
    }
    struct rules_date r = {(int)(total / 12), (int)(total % 12) + 1, d.day};
    int last = rules_days_in_month(r.year, r.month);
    if (r.day > last) {
        r.day = last;
    }
    *out = r;
    return 0;
}

int rules_date_cmp(struct rules_date a, struct rules_date b)
{
    if (a.year != b.year) {
        return a.year < b.year ? -1 : 1;
    }
    if (a.month != b.month) {
        return a.month < b.month ? -1 : 1;
    }
    if (a.day != b.day) {
        return a.day < b.day ? -1 : 1;
    }
    return 0;
}

int64_t rules_date_diff(struct rules_date from, struct rules_date to)
{
    return rules_days_from_civil(to) - rules_days_from_civil(from);
}

#define MS_PER_DAY      86400000LL
#define SHANGHAI_OFFSET 28800000LL /* UTC+8, in milliseconds */

/* Floor division, for instants before 1970. */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int rules_date_of_ms(int64_t unix_ms, struct rules_date *out)
{
    if (!out) {
        return RULES_E_ARG;
    }
    *out = RULES_DATE_NONE;
    if (unix_ms > INT64_MAX - SHANGHAI_OFFSET) {
        return RULES_E_RANGE;
    }
    return rules_civil_from_days(floor_div(unix_ms + SHANGHAI_OFFSET, MS_PER_DAY), out);
}

int rules_today(int64_t now_ms, struct rules_date *out)
{
    return rules_date_of_ms(now_ms, out);
}

int rules_date_of_rfc3339(const char *text, struct rules_date *out)
{
    if (!text || !out) {
        return RULES_E_ARG;
    }
    *out = RULES_DATE_NONE;
    size_t n = strlen(text);
    char day_text[RULES_DATE_LEN + 1];
    if (n < 20) {
        return RULES_E_PARSE;
    }
    memcpy(day_text, text, RULES_DATE_LEN);
    day_text[RULES_DATE_LEN] = '\0';
    struct rules_date d;
    if (rules_date_parse(day_text, &d) != 0) {
        return RULES_E_PARSE;
    }
    const char *p = text + RULES_DATE_LEN;
    if (*p != 'T' && *p != 't' && *p != ' ') {
        return RULES_E_PARSE;
    }
    p++;
    if (p[2] != ':' || p[5] != ':') {
        return RULES_E_PARSE;
    }
    int hour = read_digits(p, 2), minute = read_digits(p + 3, 2), second = read_digits(p + 6, 2);
    /* Second 60 is a leap second (RFC 3339 allows it); it stays in its minute. */
    if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) {
        return RULES_E_PARSE;
    }
    p += 8;
    if (*p == '.') {
        p++;
        if (!is_digit(*p)) {
            return RULES_E_PARSE;
        }
        while (is_digit(*p)) {
            p++;
        }
    }
    int offset_min;
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
        offset_min = 0;
    } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
        int oh = read_digits(p + 1, 2), om = read_digits(p + 4, 2);
        if (oh < 0 || oh > 23 || om < 0 || om > 59) {
            return RULES_E_PARSE;
        }
        offset_min = (oh * 60 + om) * (*p == '-' ? -1 : 1);
    } else {
        return RULES_E_PARSE;
    }
    /* Minutes since the epoch in UTC, then in Shanghai; seconds never move
     * a minute, so they play no part in the day. */
    int64_t minutes = rules_days_from_civil(d) * 1440 + (int64_t)hour * 60 + minute - offset_min +
                      (int64_t)8 * 60;
    return rules_civil_from_days(floor_div(minutes, 1440), out);
}

/* ---- periods ---- */

int rules_period_month(int year, int month, struct rules_period *out)
{
    if (!out || year < 1 || year > 9999 || month < 1 || month > 12) {
        return RULES_E_ARG;
    }
    out->first = (struct rules_date){year, month, 1};
    out->last = (struct rules_date){year, month, rules_days_in_month(year, month)};
    return 0;
}

int rules_period_year(int year, struct rules_period *out)
{
    if (!out || year < 1 || year > 9999) {
        return RULES_E_ARG;
    }
    out->first = (struct rules_date){year, 1, 1};
    out->last = (struct rules_date){year, 12, 31};
    return 0;
}

int rules_period_parse(const char *text, struct rules_period *out)
{
    if (!text || !out) {
        return RULES_E_ARG;
    }
    size_t n = strlen(text);
    int year = n >= 4 ? read_digits(text, 4) : -1;
    if (n == 4 && year >= 1) {
        return rules_period_year(year, out);
    }
    if (n == 7 && year >= 1 && text[4] == '-') {
        int month = read_digits(text + 5, 2);
        if (month >= 1 && month <= 12) {
            return rules_period_month(year, month, out);
        }
    }
    return RULES_E_PARSE;
}

int rules_period_contains(const struct rules_period *p, struct rules_date d)
{
    return p && rules_date_valid(d) && rules_date_cmp(d, p->first) >= 0 &&
           rules_date_cmp(d, p->last) <= 0;
}

/* ---- words ---- */

/* One value of an enum in words: its token, and its labels. */
struct word {
    const char *name;
    const char *zh;
    const char *en;
};

static const char *word_name(const struct word *words, int count, int v)
{
    return v > 0 && v < count ? words[v].name : NULL;
}

static const char *word_label(const struct word *words, int count, int v, const char *lang)
{
    if (v <= 0 || v >= count) {
        return NULL;
    }
    return is_zh(lang) ? words[v].zh : words[v].en;
}

/* The value whose token or Chinese label is text, or 0. */
static int word_find(const struct word *words, int count, const char *text)
{
    for (int v = 1; v < count; v++) {
        if (!strcmp(text, words[v].name) || !strcmp(text, words[v].zh)) {
            return v;
        }
    }
    return 0;
}

static const struct word kind_words[RULES_KIND_COUNT] = {
    {NULL, NULL, NULL},
    {"dispute", "矛盾纠纷", "dispute"},
    {"petition", "信访件", "petition"},
    {"screening", "排查发现", "screening finding"},
};

const char *rules_kind_name(enum rules_kind kind)
{
    return word_name(kind_words, RULES_KIND_COUNT, (int)kind);
}

const char *rules_kind_label(enum rules_kind kind, const char *lang)
{
    return word_label(kind_words, RULES_KIND_COUNT, (int)kind, lang);
}

int rules_kind_parse(const char *text, enum rules_kind *out)
{
    if (!text || !out) {
        return RULES_E_ARG;
    }
    *out = (enum rules_kind)word_find(kind_words, RULES_KIND_COUNT, text);
    return *out ? 0 : RULES_E_PARSE;
}

static const struct word channel_words[RULES_CHANNEL_COUNT] = {
    {NULL, NULL, NULL},
    {"visit", "来访", "visit"},
    {"letter", "来信", "letter"},
    {"call", "来电", "call"},
    {"online", "网上信访", "online"},
    {"screening", "排查", "screening"},
    {"referral", "转送交办", "referred by another office"},
};

const char *rules_channel_name(enum rules_channel channel)
{
    return word_name(channel_words, RULES_CHANNEL_COUNT, (int)channel);
}

const char *rules_channel_label(enum rules_channel channel, const char *lang)
{
    return word_label(channel_words, RULES_CHANNEL_COUNT, (int)channel, lang);
}

int rules_channel_parse(const char *text, enum rules_channel *out)
{
    if (!text || !out) {
        return RULES_E_ARG;
    }
    *out = (enum rules_channel)word_find(channel_words, RULES_CHANNEL_COUNT, text);
    return *out ? 0 : RULES_E_PARSE;
}

int rules_channel_fits_kind(enum rules_kind kind, enum rules_channel channel)
{
    if (channel <= RULES_CHANNEL_NONE || channel >= RULES_CHANNEL_COUNT) {
        return 0;
    }
    switch (kind) {
    case RULES_KIND_DISPUTE:
        return 1;
    case RULES_KIND_PETITION:
        return channel != RULES_CHANNEL_SCREENING;
    case RULES_KIND_SCREENING:
        return channel == RULES_CHANNEL_SCREENING;
    default:
        return 0;
    }
}

static const struct word referral_words[RULES_REFERRAL_COUNT] = {
    {NULL, NULL, NULL},
    {"police_station", "派出所", "police station"},
    {"court", "法庭", "court"},
    {"judicial_office", "司法所", "judicial office"},
    {"department", "其他部门", "another department"},
};

const char *rules_referral_name(enum rules_referral_target target)
{
    return word_name(referral_words, RULES_REFERRAL_COUNT, (int)target);
}

const char *rules_referral_label(enum rules_referral_target target, const char *lang)
{
    return word_label(referral_words, RULES_REFERRAL_COUNT, (int)target, lang);
}

int rules_referral_parse(const char *text, enum rules_referral_target *out)
{
    if (!text || !out) {
        return RULES_E_ARG;
    }
    *out = (enum rules_referral_target)word_find(referral_words, RULES_REFERRAL_COUNT, text);
    return *out ? 0 : RULES_E_PARSE;
}

static const struct word status_words[RULES_STATUS_COUNT] = {
    {NULL, NULL, NULL},
    {"registered", "登记", "registered"},
    {"accepted", "受理", "accepted"},
    {"not_accepted", "不予受理", "not accepted"},
    {"investigating", "调查中", "investigating"},
    {"mediating", "调解中", "mediating"},
    {"agreement", "达成协议", "agreement reached"},
    {"failed", "调解不成", "mediation failed"},
    {"referred", "转办", "referred"},
    {"concluded", "办结", "concluded"},
    {"archived", "归档", "archived"},
};

const char *rules_status_name(enum rules_status status)
{
    return word_name(status_words, RULES_STATUS_COUNT, (int)status);
}

const char *rules_status_label(enum rules_status status, const char *lang)
{
    return word_label(status_words, RULES_STATUS_COUNT, (int)status, lang);
}

int rules_status_parse(const char *text, enum rules_status *out)
{
    if (!text || !out) {
        return RULES_E_ARG;
    }
    /* The reference data's word for a concluded case. */
    if (!strcmp(text, "closed")) {
        *out = RULES_STATUS_CONCLUDED;
        return 0;
    }
    *out = (enum rules_status)word_find(status_words, RULES_STATUS_COUNT, text);
    return *out ? 0 : RULES_E_PARSE;
}

int rules_status_is_open(enum rules_status status)
{
    switch (status) {
    case RULES_STATUS_REGISTERED:
    case RULES_STATUS_ACCEPTED:
    case RULES_STATUS_INVESTIGATING:
    case RULES_STATUS_MEDIATING:
    case RULES_STATUS_AGREEMENT:
    case RULES_STATUS_FAILED:
        return 1;
    default:
        return 0;
    }
}

/* ---- the workflow ---- */

#define BIT(s) (1u << (s))

/* For each status, the statuses a case may move to next. */
static const unsigned next_statuses[RULES_STATUS_COUNT] = {
    [RULES_STATUS_REGISTERED] =
        BIT(RULES_STATUS_ACCEPTED) | BIT(RULES_STATUS_NOT_ACCEPTED) | BIT(RULES_STATUS_REFERRED),
    [RULES_STATUS_ACCEPTED] =
        BIT(RULES_STATUS_INVESTIGATING) | BIT(RULES_STATUS_MEDIATING) | BIT(RULES_STATUS_REFERRED),
    [RULES_STATUS_INVESTIGATING] =
        BIT(RULES_STATUS_MEDIATING) | BIT(RULES_STATUS_REFERRED) | BIT(RULES_STATUS_CONCLUDED),
    [RULES_STATUS_MEDIATING] =
        BIT(RULES_STATUS_AGREEMENT) | BIT(RULES_STATUS_FAILED) | BIT(RULES_STATUS_REFERRED),
    [RULES_STATUS_AGREEMENT] = BIT(RULES_STATUS_CONCLUDED),
    [RULES_STATUS_FAILED] = BIT(RULES_STATUS_REFERRED) | BIT(RULES_STATUS_CONCLUDED),
    [RULES_STATUS_NOT_ACCEPTED] = BIT(RULES_STATUS_ARCHIVED),
    [RULES_STATUS_REFERRED] = BIT(RULES_STATUS_ARCHIVED),
    [RULES_STATUS_CONCLUDED] = BIT(RULES_STATUS_ARCHIVED),
    [RULES_STATUS_ARCHIVED] = 0,
};

static int status_known(enum rules_status s)
{
    return s > RULES_STATUS_NONE && s < RULES_STATUS_COUNT;
}

int rules_transition_allowed(enum rules_status from, enum rules_status to)
{
    return status_known(from) && status_known(to) && (next_statuses[from] & BIT(to)) != 0;
}

/* A status in a sentence: its token in English, its label in Chinese. */
static const char *status_word(enum rules_status s, int zh)
{
    return zh ? status_words[s].zh : status_words[s].name;
}

/* "from mediating a case can go to: agreement, failed, referred", or the
 * sentence for a final status. */
static void text_next_statuses(struct text *t, enum rules_status from, int zh)
{
    unsigned next = next_statuses[from];
    if (!next) {
        text_add(t, zh ? "「" : "");
        text_add(t, status_word(from, zh));
        text_add(t, zh ? "」是最终状态，不能再转为其他状态"
                       : " is final: a case goes nowhere from it");
        return;
    }
    text_add(t, zh ? "「" : "from ");
    text_add(t, status_word(from, zh));
    text_add(t, zh ? "」的案件只能转为：" : " a case can go to: ");
    int first = 1;
    for (int s = 1; s < RULES_STATUS_COUNT; s++) {
        if (next & BIT(s)) {
            text_add(t, first ? "" : zh ? "、" : ", ");
            text_add(t, status_word((enum rules_status)s, zh));
            first = 0;
        }
    }
}

int rules_transition_explain(enum rules_status from, enum rules_status to, const char *lang,
                             char *buf, size_t len)
{
    int zh = is_zh(lang);
    struct text t;
    text_init(&t, buf, len);
    if (!status_known(from)) {
        text_add(&t, zh ? "案件的当前状态未知" : "the case's present status is unknown");
        return RULES_E_ARG;
    }
    if (!status_known(to)) {
        text_add(&t, zh ? "未知的目标状态；" : "unknown status; ");
        text_next_statuses(&t, from, zh);
        return RULES_E_ARG;
    }
    if (rules_transition_allowed(from, to)) {
        return 0;
    }
    if (from == to) {
        text_add(&t, zh ? "案件已是「" : "the case is already ");
        text_add(&t, status_word(from, zh));
        text_add(&t, zh ? "」；" : "; ");
    } else {
        text_add(&t, zh ? "「" : "a case that is ");
        text_add(&t, status_word(from, zh));
        text_add(&t, zh ? "」的案件不能转为「" : " cannot go to ");
        text_add(&t, status_word(to, zh));
        text_add(&t, zh ? "」；" : "; ");
    }
    text_next_statuses(&t, from, zh);
    return RULES_E_TRANSITION;
}

/* ---- responsibility levels ---- */

static const struct word level_words[RULES_LEVEL_MAX + 1] = {
    {NULL, NULL, NULL},
    {"1", "村调委会主任", "village mediation committee director"},
    {"2", "村委会主任", "village head"},
    {"3", "驻村干部", "resident township cadre"},
    {"4", "驻村第一书记", "resident first secretary"},
    {"5", "分管领导", "leader in charge"},
    {"6", "相关单位负责人", "head of the relevant unit"},
    {"7", "乡镇主要领导", "township principal leader"},
};

const char *rules_level_label(int level, const char *lang)
{
    return word_label(level_words, RULES_LEVEL_MAX + 1, level, lang);
}

static int level_known(int level)
{
    return level >= RULES_LEVEL_MIN && level <= RULES_LEVEL_MAX;
}

int rules_escalation_allowed(int from, int to)
{
    return level_known(from) && level_known(to) && to > from;
}

/* "level 3 (resident township cadre)" or "第3级（驻村干部）". */
static void text_level(struct text *t, int level, int zh)
{
    text_add(t, zh ? "第" : "level ");
    text_int(t, level);
    text_add(t, zh ? "级（" : " (");
    text_add(t, rules_level_label(level, zh ? "zh" : "en"));
    text_add(t, zh ? "）" : ")");
}

/* "to level 4 to 7" / "to level 7", the levels above from. */
static void text_levels_above(struct text *t, int from, int zh)
{
    text_add(t, zh ? "第" : "level ");
    text_int(t, from + 1);
    if (from + 1 < RULES_LEVEL_MAX) {
        text_add(t, zh ? "至" : " to ");
        text_int(t, RULES_LEVEL_MAX);
    }
    text_add(t, zh ? "级" : "");
}

int rules_escalation_explain(int from, int to, const char *lang, char *buf, size_t len)
{
    int zh = is_zh(lang);
    struct text t;
    text_init(&t, buf, len);
    if (!level_known(from) || !level_known(to)) {
        text_add(&t, zh ? "责任层级为第1至7级" : "responsibility levels run from 1 to 7");
        return RULES_E_ARG;
    }
    if (to > from) {
        return 0;
    }
    if (from == RULES_LEVEL_MAX) {
        text_level(&t, from, zh);
        text_add(&t, zh ? "是最高层级，案件不能再上报"
                        : " is the highest; the case cannot be escalated further");
        return RULES_E_LEVEL;
    }
    if (to == from) {
        text_add(&t, zh ? "案件已在" : "the case is already at ");
        text_level(&t, from, zh);
        text_add(&t, zh ? "；只能上报至" : "; it can be escalated to ");
    } else {
        text_add(&t, zh ? "" : "a case at ");
        text_level(&t, from, zh);
        text_add(&t, zh ? "的案件不能降至" : " cannot be moved down to ");
        text_level(&t, to, zh);
        text_add(&t, zh ? "：层级只能上调，可上报至" : ": a level can only be raised, to ");
    }
    text_levels_above(&t, from, zh);
    return RULES_E_LEVEL;
}

int rules_level_set_explain(int from, int to, const char *lang, char *buf, size_t len)
{
    int zh = is_zh(lang);
    struct text t;
    text_init(&t, buf, len);
    if (!level_known(to) || (from != 0 && !level_known(from))) {
        text_add(&t, zh ? "责任层级为第1至7级" : "responsibility levels run from 1 to 7");
        return RULES_E_ARG;
    }
    if (from != to) {
        return 0;
    }
    text_add(&t, zh ? "案件已在" : "the case is already at ");
    text_level(&t, from, zh);
    text_add(&t, zh ? "；请选择其他层级（第1至7级）" : "; choose another level from 1 to 7");
    return RULES_E_LEVEL;
}

/* ---- configuration ---- */

static const struct {
    const char *name, *zh, *en;
} default_categories[] = {
    {"land", "土地征收", "land expropriation"},
    {"demolition_compensation", "征地拆迁补偿", "land acquisition and demolition compensation"},
    {"forest_boundary", "山林纠纷", "forest and hill boundaries"},
    {"illegal_mining", "违法采砂采矿", "illegal sand or ore mining"},
    {"family", "婚姻家庭", "family and marriage"},
    {"neighbour", "邻里纠纷", "neighbours"},
    {"debt", "债务纠纷", "debts"},
    {"labour", "劳资纠纷", "labour and wages"},
    {"veterans", "退役军人优抚", "veterans' entitlements"},
    {"social_security", "养老和社会保障", "pensions and social security"},
    {"litigation", "涉法涉诉", "law- and litigation-related"},
    {"other", "其他", "other"},
};

void rules_config_default(struct rules_config *out)
{
    if (!out) {
        return;
    }
    memset(out, 0, sizeof *out);
    out->accept_days = 15;
    out->conclude_days = 60;
    out->max_extension_days = 30;
    out->warn_days = 5;
    out->followup_months[0] = 1;
    out->followup_months[1] = 3;
    out->followup_months[2] = 6;
    out->target_participation_bp = 9800;
    out->target_success_bp = 9800;
    out->target_satisfaction_bp = 9600;
    for (size_t i = 0; i < sizeof default_categories / sizeof default_categories[0]; i++) {
        rules_config_add_category(out, default_categories[i].name, default_categories[i].zh,
                                  default_categories[i].en);
    }
}

/* A whole number in [min, max], all of text, without sign or spaces. */
static int parse_int(const char *text, int min, int max, int *out)
{
    if (!is_digit(text[0])) {
        return RULES_E_ARG;
    }
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || *end || v < min || v > max) {
        return RULES_E_ARG;
    }
    *out = (int)v;
    return 0;
}

/* A percentage "98", "96.5" or "96.25" (0 to 100) in basis points. */
static int parse_percent(const char *text, int *bp)
{
    int whole = 0, digits = 0;
    const char *p = text;
    while (is_digit(*p) && digits < 3) {
        whole = whole * 10 + (*p++ - '0');
        digits++;
    }
    if (digits == 0) {
        return RULES_E_ARG;
    }
    int hundredths = 0;
    if (*p == '.') {
        p++;
        int scale = 10, places = 0;
        while (is_digit(*p) && places < 2) {
            hundredths += (*p++ - '0') * scale;
            scale /= 10;
            places++;
        }
        if (places == 0) {
            return RULES_E_ARG;
        }
    }
    if (*p || whole * 100 + hundredths > 10000) {
        return RULES_E_ARG;
    }
    *bp = whole * 100 + hundredths;
    return 0;
}

/* The whole-number field a configuration key names, with its range; NULL
 * for keys that are not whole numbers. */
static int *config_number(struct rules_config *c, const char *key, int *min, int *max)
{
    static const char *const followup_keys[RULES_SEVERITY_MAX] = {
        "followup_months_1", "followup_months_2", "followup_months_3"};
    *min = 1;
    *max = 3650;
    if (!strcmp(key, "accept_days")) {
        return &c->accept_days;
    }
    if (!strcmp(key, "conclude_days")) {
        return &c->conclude_days;
    }
    *min = 0;
    *max = 365;
    if (!strcmp(key, "max_extension_days")) {
        return &c->max_extension_days;
    }
    if (!strcmp(key, "warn_days")) {
        return &c->warn_days;
    }
    *min = 1;
    *max = 60;
    for (int i = 0; i < RULES_SEVERITY_MAX; i++) {
        if (!strcmp(key, followup_keys[i])) {
            return &c->followup_months[i];
        }
    }
    return NULL;
}

int rules_config_set(struct rules_config *config, const char *key, const char *value)
{
    if (!config || !key || !value) {
        return RULES_E_ARG;
    }
    int min, max, v;
    int *number = config_number(config, key, &min, &max);
    if (number) {
        if (parse_int(value, min, max, &v) != 0) {
            return RULES_E_ARG;
        }
        *number = v;
        return 0;
    }
    int *target = !strcmp(key, "target_participation")  ? &config->target_participation_bp
                  : !strcmp(key, "target_success")      ? &config->target_success_bp
                  : !strcmp(key, "target_satisfaction") ? &config->target_satisfaction_bp
                                                        : NULL;
    if (!target || parse_percent(value, &v) != 0) {
        return RULES_E_ARG;
    }
    *target = v;
    return 0;
}

/* 1 when name is a category token: a-z first, then a-z, 0-9, _. */
static int token_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= RULES_NAME_MAX || name[0] < 'a' || name[0] > 'z') {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || is_digit(c) || c == '_')) {
            return 0;
        }
    }
    return 1;
}

static int label_ok(const char *label)
{
    size_t n = strnlen(label, RULES_LABEL_MAX);
    /* '|' separates the parts of a category in the township's settings
     * text (township_rules.h): a label holding one could not travel. */
    return n > 0 && n < RULES_LABEL_MAX && utf8_text_ok(label, n) && !is_blank(label) &&
           !memchr(label, '|', n);
}

int rules_config_check(const struct rules_config *c)
{
    if (!c || c->accept_days < 1 || c->accept_days > 3650 || c->conclude_days < 1 ||
        c->conclude_days > 3650 || c->max_extension_days < 0 || c->max_extension_days > 365 ||
        c->warn_days < 0 || c->warn_days > 365 || c->ncategories > RULES_MAX_CATEGORIES) {
        return RULES_E_ARG;
    }
    for (int i = 0; i < RULES_SEVERITY_MAX; i++) {
        if (c->followup_months[i] < 1 || c->followup_months[i] > 60) {
            return RULES_E_ARG;
        }
    }
    const int targets[] = {c->target_participation_bp, c->target_success_bp,
                           c->target_satisfaction_bp};
    for (size_t i = 0; i < 3; i++) {
        if (targets[i] < 0 || targets[i] > 10000) {
            return RULES_E_ARG;
        }
    }
    for (size_t i = 0; i < c->ncategories; i++) {
        const struct rules_category *cat = &c->categories[i];
        if (strnlen(cat->name, RULES_NAME_MAX) == RULES_NAME_MAX || !token_ok(cat->name) ||
            !label_ok(cat->zh) || !label_ok(cat->en)) {
            return RULES_E_ARG;
        }
        for (size_t j = 0; j < i; j++) {
            if (!strcmp(cat->name, c->categories[j].name)) {
                return RULES_E_ARG;
            }
        }
    }
    return 0;
}

void rules_config_clear_categories(struct rules_config *config)
{
    if (config) {
        config->ncategories = 0;
        memset(config->categories, 0, sizeof config->categories);
    }
}

int rules_config_add_category(struct rules_config *config, const char *name, const char *zh,
                              const char *en)
{
    if (!config || !name || !zh || !en || !token_ok(name) || !label_ok(zh) || !label_ok(en) ||
        config->ncategories > RULES_MAX_CATEGORIES) {
        return RULES_E_ARG;
    }
    for (size_t i = 0; i < config->ncategories; i++) {
        if (!strcmp(config->categories[i].name, name)) {
            return RULES_E_ARG;
        }
    }
    if (config->ncategories == RULES_MAX_CATEGORIES) {
        return RULES_E_FULL;
    }
    struct rules_category *cat = &config->categories[config->ncategories++];
    snprintf(cat->name, sizeof cat->name, "%s", name);
    snprintf(cat->zh, sizeof cat->zh, "%s", zh);
    snprintf(cat->en, sizeof cat->en, "%s", en);
    return 0;
}

int rules_category_find(const struct rules_config *config, const char *text)
{
    if (!config || !text) {
        return -1;
    }
    for (size_t i = 0; i < config->ncategories && i < RULES_MAX_CATEGORIES; i++) {
        const struct rules_category *cat = &config->categories[i];
        if (!strcmp(text, cat->name) || !strcmp(text, cat->zh) || !strcmp(text, cat->en)) {
            return (int)i;
        }
    }
    return -1;
}

const char *rules_category_label(const struct rules_config *config, const char *name,
                                 const char *lang)
{
    if (!config || !name) {
        return NULL;
    }
    for (size_t i = 0; i < config->ncategories && i < RULES_MAX_CATEGORIES; i++) {
        if (!strcmp(name, config->categories[i].name)) {
            return is_zh(lang) ? config->categories[i].zh : config->categories[i].en;
        }
    }
    return NULL;
}

/* ---- deadlines ---- */

int rules_petition_deadlines(struct rules_date received, struct rules_date accepted,
                             const struct rules_config *config,
                             struct rules_petition_deadlines *out)
{
    if (!config || !out || !rules_date_valid(received)) {
        return RULES_E_ARG;
    }
    memset(out, 0, sizeof *out);
    int have_accepted = rules_date_is_set(accepted);
    if (have_accepted && (!rules_date_valid(accepted) || rules_date_cmp(accepted, received) < 0)) {
        return RULES_E_ARG;
    }
    struct rules_petition_deadlines d = {RULES_DATE_NONE, RULES_DATE_NONE, 0, !have_accepted};
    int rc = rules_date_add_days(received, config->accept_days, &d.accept_due);
    if (rc == 0) {
        rc = rules_date_add_days(have_accepted ? accepted : received, config->conclude_days,
                                 &d.conclude_due);
    }
    if (rc != 0) {
        return rc;
    }
    *out = d;
    return 0;
}

int rules_petition_extend(struct rules_petition_deadlines *deadlines, int days,
                          const struct rules_config *config)
{
    if (!deadlines || !config || !rules_date_valid(deadlines->conclude_due)) {
        return RULES_E_ARG;
    }
    if (deadlines->extension_days > 0) {
        return RULES_E_EXTENDED;
    }
    if (days < 1) {
        return RULES_E_ARG;
    }
    if (days > config->max_extension_days) {
        return RULES_E_EXTENSION_TOO_LONG;
    }
    struct rules_date due;
    int rc = rules_date_add_days(deadlines->conclude_due, days, &due);
    if (rc != 0) {
        return rc;
    }
    deadlines->conclude_due = due;
    deadlines->extension_days = days;
    return 0;
}

struct rules_date rules_case_due(enum rules_kind kind, enum rules_status status,
                                 const struct rules_petition_deadlines *deadlines,
                                 struct rules_date override)
{
    if (!rules_status_is_open(status)) {
        return RULES_DATE_NONE;
    }
    if (rules_date_valid(override)) {
        return override;
    }
    if (kind != RULES_KIND_PETITION || !deadlines) {
        return RULES_DATE_NONE;
    }
    return status == RULES_STATUS_REGISTERED ? deadlines->accept_due : deadlines->conclude_due;
}

enum rules_due_state rules_deadline_state(struct rules_date due, struct rules_date today,
                                          int warn_days, int64_t *days)
{
    if (days) {
        *days = 0;
    }
    if (!rules_date_valid(due) || !rules_date_valid(today)) {
        return RULES_DUE_NONE;
    }
    int64_t left = rules_date_diff(today, due);
    if (left < 0) {
        if (days) {
            *days = -left;
        }
        return RULES_DUE_OVERDUE;
    }
    if (days) {
        *days = left;
    }
    return left <= (warn_days > 0 ? warn_days : 0) ? RULES_DUE_SOON : RULES_DUE_ON_TIME;
}

static const struct word due_state_words[] = {
    {NULL, NULL, NULL},
    {"on_time", "按期", "on time"},
    {"due_soon", "即将到期", "due soon"},
    {"overdue", "已逾期", "overdue"},
};

const char *rules_due_state_label(enum rules_due_state state, const char *lang)
{
    return word_label(due_state_words, 4, (int)state, lang);
}

/* ---- follow-up visits ---- */

int rules_followup_due(struct rules_date concluded, int severity, const struct rules_config *config,
                       struct rules_date *out)
{
    if (out) {
        *out = RULES_DATE_NONE;
    }
    if (!config || !out || !rules_date_valid(concluded) || severity < RULES_SEVERITY_MIN ||
        severity > RULES_SEVERITY_MAX) {
        return RULES_E_ARG;
    }
    return rules_date_add_months(concluded, config->followup_months[severity - 1], out);
}

enum rules_followup_state rules_followup_state(struct rules_date due, struct rules_date visited,
                                               struct rules_date today)
{
    if (!rules_date_valid(due)) {
        return RULES_FOLLOWUP_NONE;
    }
    if (rules_date_valid(visited)) {
        return RULES_FOLLOWUP_DONE;
    }
    if (rules_date_valid(today) && rules_date_cmp(today, due) > 0) {
        return RULES_FOLLOWUP_OVERDUE;
    }
    return RULES_FOLLOWUP_DUE;
}

static const struct word followup_words[] = {
    {NULL, NULL, NULL},
    {"due", "待回访", "due"},
    {"overdue", "回访逾期", "overdue"},
    {"done", "已回访", "done"},
};

const char *rules_followup_state_label(enum rules_followup_state state, const char *lang)
{
    return word_label(followup_words, 4, (int)state, lang);
}

/* ---- result notice and opinion ---- */

static const struct word opinion_words[RULES_OPINION_COUNT] = {
    {NULL, NULL, NULL},
    {"satisfied", "满意", "satisfied"},
    {"basically_satisfied", "基本满意", "basically satisfied"},
    {"not_satisfied", "不满意", "not satisfied"},
};

const char *rules_opinion_name(enum rules_opinion opinion)
{
    return word_name(opinion_words, RULES_OPINION_COUNT, (int)opinion);
}

const char *rules_opinion_label(enum rules_opinion opinion, const char *lang)
{
    return word_label(opinion_words, RULES_OPINION_COUNT, (int)opinion, lang);
}

/* ---- the kinds of events ---- */

static const struct word event_words[] = {
    {NULL, NULL, NULL},
    {"register", "登记", "registered"},
    {"inspection", "实地查看", "inspection"},
    {"visit", "走访", "visit"},
    {"phone", "电话", "phone call"},
    {"session", "调解", "mediation session"},
    {"agreement", "调解协议", "agreement"},
    {"followup", "回访", "follow-up visit"},
    {"referral", "转办", "referral"},
    {"status", "状态变更", "status change"},
    {"escalation", "上报", "escalation"},
    {"result_notice", "书面告知", "result notice"},
    {"opinion", "当事人意见", "party's opinion"},
    {"extension", "延期", "extension"},
    {"deadline", "督办期限", "deadline"},
    {"reveal", "查看号码", "numbers shown"},
    {"level", "责任层级", "responsibility level"},
    {"mediator", "指派调解员", "mediator assigned"},
    {"correction", "整改要求", "correction asked"},
    {"correction_reply", "整改答复", "correction answered"},
};

size_t rules_event_kind_count(void)
{
    return sizeof event_words / sizeof event_words[0] - 1;
}

const char *rules_event_kind_name(size_t i)
{
    return i < rules_event_kind_count() ? event_words[i + 1].name : NULL;
}

const char *rules_event_kind_label(const char *name, const char *lang)
{
    int i =
        name ? word_find(event_words, (int)(sizeof event_words / sizeof event_words[0]), name) : 0;
    return word_label(event_words, (int)(sizeof event_words / sizeof event_words[0]), i, lang);
}

int rules_opinion_parse(const char *text, enum rules_opinion *out)
{
    if (!text || !out) {
        return RULES_E_ARG;
    }
    *out = (enum rules_opinion)word_find(opinion_words, RULES_OPINION_COUNT, text);
    return *out ? 0 : RULES_E_PARSE;
}

size_t rules_conclusion_missing(const struct rules_conclusion_facts *facts,
                                enum rules_requirement out[RULES_REQ_COUNT])
{
    size_t n = 0;
    if (!facts || !out) {
        return 0;
    }
    if (facts->kind == RULES_KIND_PETITION && !facts->result_notice_sent) {
        out[n++] = RULES_REQ_RESULT_NOTICE;
    }
    if (facts->agreement_reached && !facts->agreement_signed) {
        out[n++] = RULES_REQ_AGREEMENT_SIGNED;
    }
    return n;
}

static const struct word requirement_words[RULES_REQ_COUNT] = {
    {NULL, NULL, NULL},
    {"result_notice", "书面告知信访人处理结果", "a written result notice to the petitioner"},
    {"agreement_signed", "调解协议书经各方签字", "the mediation agreement, signed"},
};

const char *rules_requirement_label(enum rules_requirement req, const char *lang)
{
    return word_label(requirement_words, RULES_REQ_COUNT, (int)req, lang);
}

/* ---- mediation agreements ---- */

static const struct {
    int part;
    const char *zh, *en;
} agreement_items[RULES_AGR_COUNT] = {
    {0, NULL, NULL},
    {1, "（一）当事人的基本情况", "(1) the parties' basic details"},
    {2, "（二）纠纷的主要事实、争议事项及各方责任",
     "(2) the facts, the matters in dispute and each side's responsibility"},
    {3, "（三）各方当事人的权利和义务", "(3) each party's rights and obligations"},
    {4, "（四）履行方式", "(4) how the agreement is performed"},
    {4, "（四）履行地点", "(4) the place of performance"},
    {4, "（四）履行期限", "(4) the deadline of performance"},
    {5, "（五）当事人签名", "(5) the parties' signatures"},
    {5, "（五）调解员签名", "(5) the mediator's signature"},
    {5, "（五）人民调解委员会印章", "(5) the mediation committee's seal"},
};

size_t rules_agreement_missing(const struct rules_agreement *a,
                               enum rules_agreement_item out[RULES_AGR_COUNT])
{
    size_t n = 0;
    if (!a || !out) {
        return 0;
    }
    const int present[RULES_AGR_COUNT] = {
        [RULES_AGR_PARTIES] = !is_blank(a->parties_details),
        [RULES_AGR_FACTS] = !is_blank(a->facts_and_liability),
        [RULES_AGR_RIGHTS] = !is_blank(a->rights_obligations),
        [RULES_AGR_PERFORMANCE_METHOD] = !is_blank(a->performance_method),
        [RULES_AGR_PERFORMANCE_PLACE] = !is_blank(a->performance_place),
        [RULES_AGR_PERFORMANCE_DEADLINE] = !is_blank(a->performance_deadline),
        [RULES_AGR_PARTIES_SIGNED] = a->parties_signed != 0,
        [RULES_AGR_MEDIATOR_SIGNED] = a->mediator_signed != 0,
        [RULES_AGR_SEAL] = a->sealed != 0,
    };
    for (int i = 1; i < RULES_AGR_COUNT; i++) {
        if (!present[i]) {
            out[n++] = (enum rules_agreement_item)i;
        }
    }
    return n;
}

int rules_agreement_item_part(enum rules_agreement_item item)
{
    return item > RULES_AGR_NONE && item < RULES_AGR_COUNT ? agreement_items[item].part : 0;
}

const char *rules_agreement_item_label(enum rules_agreement_item item, const char *lang)
{
    if (item <= RULES_AGR_NONE || item >= RULES_AGR_COUNT) {
        return NULL;
    }
    return is_zh(lang) ? agreement_items[item].zh : agreement_items[item].en;
}

int rules_agreement_is_signed(const struct rules_agreement *agreement)
{
    return agreement && !is_blank(agreement->signed_at);
}

int rules_agreement_edit_allowed(const struct rules_agreement *agreement)
{
    return agreement && !rules_agreement_is_signed(agreement);
}

int rules_agreement_sign_check(const struct rules_agreement *agreement,
                               enum rules_agreement_item out[RULES_AGR_COUNT], size_t *nout)
{
    if (nout) {
        *nout = 0;
    }
    if (!agreement) {
        return RULES_E_ARG;
    }
    if (rules_agreement_is_signed(agreement)) {
        return RULES_E_LOCKED;
    }
    enum rules_agreement_item all[RULES_AGR_COUNT];
    size_t n = rules_agreement_missing(agreement, all), kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (rules_agreement_item_part(all[i]) <= 4) {
            if (out) {
                out[kept] = all[i];
            }
            kept++;
        }
    }
    if (nout) {
        *nout = kept;
    }
    return kept ? RULES_E_INCOMPLETE : 0;
}

/* ---- case numbers ---- */

/* Crockford's base32: digits and letters without I, L, O and U, which are
 * easily misread; the first 22 of LETTERS start a device code. */
static const char BASE32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
static const char LETTERS[] = "ABCDEFGHJKMNPQRSTVWXYZ";
#define DEVICE_CODES ((sizeof LETTERS - 1) * (sizeof BASE32 - 1)) /* 704 */

/* SplitMix64's finaliser: every bit of the node id moves the code, so that
 * node ids that differ only in a few bits still get unrelated codes. */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBULL;
    x ^= x >> 31;
    return x;
}

void rules_device_code(uint64_t node, unsigned attempt, char out[RULES_DEVICE_CODE_LEN + 1])
{
    if (!out) {
        return;
    }
    size_t v = (size_t)((mix64(node) % DEVICE_CODES + attempt % DEVICE_CODES) % DEVICE_CODES);
    out[0] = LETTERS[v / (sizeof BASE32 - 1)];
    out[1] = BASE32[v % (sizeof BASE32 - 1)];
    out[2] = '\0';
}

int rules_device_code_valid(const char *code)
{
    return code && code[0] && strchr(LETTERS, code[0]) && code[1] && strchr(BASE32, code[1]) &&
           code[2] == '\0';
}

#define CASE_WORD   "调字第"
#define CASE_END    "号"
#define OPEN_WIDE   "（"
#define CLOSE_WIDE  "）"
#define VILLAGE_SUF "村"
#define COMMUN_SUF  "社区"

/* 1 when the n bytes at s may stand as a village's short name in a case
 * number: UTF-8 text, no brackets of either width, no 调字 that would make
 * the number ambiguous to read back. */
static int village_short_ok(const char *s, size_t n)
{
    if (n == 0 || n >= RULES_VILLAGE_SHORT_MAX || !utf8_text_ok(s, n) || is_blank(s)) {
        return 0;
    }
    if (memchr(s, '(', n) || memchr(s, ')', n) || find_bytes(s, n, OPEN_WIDE) ||
        find_bytes(s, n, CLOSE_WIDE) || find_bytes(s, n, "调字")) {
        return 0;
    }
    return 1;
}

int rules_village_short(const char *name, char *out, size_t len)
{
    if (!name || !out || len == 0) {
        return RULES_E_ARG;
    }
    out[0] = '\0';
    size_t n = strlen(name);
    const char *suffixes[] = {VILLAGE_SUF, COMMUN_SUF};
    for (size_t i = 0; i < 2; i++) {
        size_t k = strlen(suffixes[i]);
        if (n > k && !memcmp(name + n - k, suffixes[i], k)) {
            n -= k;
            break;
        }
    }
    if (n == 0 || is_blank(name)) {
        return RULES_E_ARG;
    }
    if (n >= len) {
        return RULES_E_SPACE;
    }
    memcpy(out, name, n);
    out[n] = '\0';
    return 0;
}

int rules_case_no_format(int year, const char *village_short, const char *device_code, int seq,
                         char *buf, size_t len)
{
    if (buf && len) {
        buf[0] = '\0';
    }
    if (!buf || !village_short || year < 1 || year > 9999 || seq < 1 || seq > RULES_SEQ_MAX ||
        !village_short_ok(village_short, strlen(village_short))) {
        return RULES_E_ARG;
    }
    int with_code = device_code && device_code[0];
    if (with_code && !rules_device_code_valid(device_code)) {
        return RULES_E_ARG;
    }
    int n = snprintf(buf, len, OPEN_WIDE "%04d" CLOSE_WIDE "%s" CASE_WORD "%s%s%04d" CASE_END, year,
                     village_short, with_code ? device_code : "", with_code ? "-" : "", seq);
    if (n < 0 || (size_t)n >= len) {
        if (len) {
            buf[0] = '\0';
        }
        return RULES_E_SPACE;
    }
    return 0;
}

/* Skip one of two spellings of a bracket at *p; 1 when one was there. */
static int skip_either(const char **p, const char *wide, char ascii)
{
    size_t k = strlen(wide);
    if (!strncmp(*p, wide, k)) {
        *p += k;
        return 1;
    }
    if (**p == ascii) {
        (*p)++;
        return 1;
    }
    return 0;
}

static char upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

int rules_case_no_parse(const char *text, struct rules_case_no *out)
{
    if (!text || !out) {
        return RULES_E_ARG;
    }
    memset(out, 0, sizeof *out);
    struct rules_case_no r;
    memset(&r, 0, sizeof r);
    const char *p = text;
    if (!skip_either(&p, OPEN_WIDE, '(') || strnlen(p, 4) < 4) {
        return RULES_E_PARSE;
    }
    r.year = read_digits(p, 4);
    p += 4;
    if (r.year < 1 || !skip_either(&p, CLOSE_WIDE, ')')) {
        return RULES_E_PARSE;
    }
    const char *word = strstr(p, CASE_WORD);
    if (!word || !village_short_ok(p, (size_t)(word - p))) {
        return RULES_E_PARSE;
    }
    memcpy(r.village_short, p, (size_t)(word - p));
    r.village_short[word - p] = '\0';
    p = word + strlen(CASE_WORD);
    if (p[0] && p[1] && p[2] == '-') {
        char code[RULES_DEVICE_CODE_LEN + 1] = {upper(p[0]), upper(p[1]), '\0'};
        if (!rules_device_code_valid(code)) {
            return RULES_E_PARSE;
        }
        memcpy(r.device_code, code, sizeof code);
        p += 3;
    }
    int digits = 0;
    long seq = 0;
    while (digits < 7 && is_digit(p[digits])) {
        seq = seq * 10 + (p[digits] - '0');
        digits++;
    }
    if (digits == 0 || seq < 1 || seq > RULES_SEQ_MAX || strcmp(p + digits, CASE_END) != 0) {
        return RULES_E_PARSE;
    }
    r.seq = (int)seq;
    *out = r;
    return 0;
}

/* ---- the township figures ---- */

/* Reduce a fraction whose terms are too large to multiply by 10000 without
 * overflow; the counts of any real ledger are far below that. */
static void fit_fraction(uint64_t *num, uint64_t *den)
{
    while (*num > UINT64_MAX / 20000 || *den > UINT64_MAX / 20000) {
        *num >>= 1;
        *den >>= 1;
    }
}

struct rules_rate rules_rate_make(size_t num, size_t den, int target_bp)
{
    struct rules_rate r = {num, den, target_bp, RULES_RATE_NO_DATA};
    if (den == 0) {
        return r;
    }
    uint64_t a = num, b = den;
    fit_fraction(&a, &b);
    uint64_t target = target_bp <= 0 ? 0 : target_bp >= 10000 ? 10000 : (uint64_t)target_bp;
    r.verdict = b == 0 || a * 10000 >= target * b ? RULES_RATE_MEETS : RULES_RATE_BELOW;
    return r;
}

int rules_rate_format(const struct rules_rate *rate, const char *lang, char *buf, size_t len)
{
    if (!rate || !buf || len == 0) {
        return RULES_E_ARG;
    }
    int n;
    if (rate->den == 0) {
        n = snprintf(buf, len, "%s", is_zh(lang) ? "无数据" : "no data");
    } else {
        uint64_t a = rate->num, b = rate->den;
        fit_fraction(&a, &b);
        if (b == 0) {
            b = 1;
        }
        uint64_t permille = (a * 2000 + b) / (2 * b); /* rounded half up */
        n = snprintf(buf, len, "%llu.%llu%%", (unsigned long long)(permille / 10),
                     (unsigned long long)(permille % 10));
    }
    if (n < 0 || (size_t)n >= len) {
        buf[0] = '\0';
        return RULES_E_SPACE;
    }
    return 0;
}

int rules_bp_format(int bp, char *buf, size_t len)
{
    if (!buf || len == 0) {
        return RULES_E_ARG;
    }
    int n;
    if (bp < 0) {
        n = snprintf(buf, len, "?");
    } else if (bp % 100 == 0) {
        n = snprintf(buf, len, "%d%%", bp / 100);
    } else if (bp % 10 == 0) {
        n = snprintf(buf, len, "%d.%d%%", bp / 100, bp % 100 / 10);
    } else {
        n = snprintf(buf, len, "%d.%02d%%", bp / 100, bp % 100);
    }
    if (n < 0 || (size_t)n >= len) {
        buf[0] = '\0';
        return RULES_E_SPACE;
    }
    return 0;
}

/* Whether a case without a conclusion date is still being handled. A case
 * whose status is unknown counts as open. */
static int open_without_date(const struct rules_case_facts *c)
{
    return c->status == RULES_STATUS_NONE || rules_status_is_open(c->status);
}

/* Whether the case was still open at the end of day. */
static int open_at(const struct rules_case_facts *c, struct rules_date day)
{
    if (rules_date_valid(c->received) && rules_date_cmp(c->received, day) > 0) {
        return 0; /* not received yet */
    }
    if (rules_date_valid(c->concluded)) {
        return rules_date_cmp(c->concluded, day) > 0;
    }
    return open_without_date(c);
}

int rules_figures_compute(const struct rules_case_facts *cases, size_t n,
                          const struct rules_period *period, const char *village,
                          const struct rules_config *config, struct rules_date today,
                          struct rules_figures *out)
{
    if (!out || !period || !config || (!cases && n > 0)) {
        return RULES_E_ARG;
    }
    memset(out, 0, sizeof *out);
    if (!rules_date_valid(today) || !rules_date_valid(period->first) ||
        !rules_date_valid(period->last) || rules_date_cmp(period->first, period->last) > 0 ||
        rules_config_check(config) != 0) {
        return RULES_E_ARG;
    }
    out->period = *period;
    out->as_of = rules_date_cmp(today, period->last) < 0 ? today : period->last;
    int begun = rules_date_cmp(out->as_of, period->first) >= 0;
    size_t part_num = 0, part_den = 0, succ_num = 0, succ_den = 0, sat_num = 0, sat_den = 0;

    for (size_t i = 0; i < n; i++) {
        const struct rules_case_facts *c = &cases[i];
        if (village && (!c->village || strcmp(c->village, village) != 0)) {
            continue;
        }
        if (rules_period_contains(period, c->received)) {
            out->received++;
            out->received_by_kind[c->kind > 0 && c->kind < RULES_KIND_COUNT ? c->kind : 0]++;
            out->received_by_channel[c->channel > 0 && c->channel < RULES_CHANNEL_COUNT ? c->channel
                                                                                        : 0]++;
            int cat = rules_category_find(config, c->category);
            if (cat >= 0) {
                out->received_by_category[cat]++;
            } else {
                out->received_unlisted_category++;
            }
            if (c->kind != RULES_KIND_PETITION) {
                part_den++;
                part_num += c->mediated != 0;
            }
            if (c->mediation_concluded || c->agreement_reached) {
                succ_den++;
                succ_num += c->agreement_reached != 0;
            }
            if (c->opinion > RULES_OPINION_NONE && c->opinion < RULES_OPINION_COUNT) {
                sat_den++;
                sat_num += c->opinion == RULES_OPINION_SATISFIED ||
                           c->opinion == RULES_OPINION_BASICALLY_SATISFIED;
            }
        }
        if (rules_period_contains(period, c->concluded)) {
            out->concluded++;
        }
        if (rules_date_valid(c->due)) {
            /* A deadline of the period, passed by today, and missed. */
            if (rules_period_contains(period, c->due) && rules_date_cmp(today, c->due) > 0) {
                int missed = rules_date_valid(c->concluded)
                                 ? rules_date_cmp(c->concluded, c->due) > 0
                                 : open_without_date(c);
                out->overdue += missed != 0;
            }
            /* Open at as_of with its deadline behind it. */
            if (begun && rules_date_cmp(c->due, out->as_of) < 0 && open_at(c, out->as_of)) {
                out->overdue_open++;
            }
        }
        struct rules_date visit_due;
        if (rules_date_valid(c->concluded) &&
            rules_followup_due(c->concluded, c->severity, config, &visit_due) == 0 &&
            rules_period_contains(period, visit_due)) {
            out->followups_due++;
            switch (rules_followup_state(visit_due, c->followup_done, today)) {
            case RULES_FOLLOWUP_DONE:
                out->followups_done++;
                break;
            case RULES_FOLLOWUP_OVERDUE:
                out->followups_overdue++;
                break;
            default:
                break;
            }
        }
    }
    out->participation = rules_rate_make(part_num, part_den, config->target_participation_bp);
    out->success = rules_rate_make(succ_num, succ_den, config->target_success_bp);
    out->satisfaction = rules_rate_make(sat_num, sat_den, config->target_satisfaction_bp);
    return 0;
}

/* ---- masking ---- */

/* Keep the first head and last tail characters (UTF-8 aware) of value and
 * star the rest; star everything when nothing would be hidden otherwise. */
static int mask(const char *value, size_t head, size_t tail, char *out, size_t len)
{
    if (!value || !out || len == 0) {
        return RULES_E_ARG;
    }
    out[0] = '\0';
    size_t bytes = strlen(value), chars = 0;
    size_t head_end = 0, tail_start = bytes;
    /* First pass: count characters; a byte that starts no well-formed
     * character counts as one. */
    for (size_t i = 0; i < bytes;) {
        size_t k = utf8_char_len((const unsigned char *)value + i);
        i += k && k <= bytes - i ? k : 1;
        chars++;
    }
    int whole = chars <= head + tail;
    size_t keep_head = whole ? 0 : head, stars = whole ? chars : chars - head - tail;
    size_t index = 0;
    for (size_t i = 0; i < bytes; index++) {
        size_t k = utf8_char_len((const unsigned char *)value + i);
        k = k && k <= bytes - i ? k : 1;
        if (index == keep_head) {
            head_end = i;
        }
        if (!whole && index == chars - tail) {
            tail_start = i;
        }
        i += k;
    }
    if (whole) {
        head_end = 0;
        tail_start = bytes;
    }
    size_t need = head_end + stars + (bytes - tail_start);
    if (need >= len) {
        return RULES_E_SPACE;
    }
    memcpy(out, value, head_end);
    memset(out + head_end, '*', stars);
    memcpy(out + head_end + stars, value + tail_start, bytes - tail_start);
    out[need] = '\0';
    return 0;
}

int rules_mask_id_no(const char *id_no, char *out, size_t len)
{
    return mask(id_no, 4, 4, out, len);
}

int rules_mask_phone(const char *phone, char *out, size_t len)
{
    return mask(phone, 3, 4, out, len);
}
