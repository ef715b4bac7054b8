/* SPDX-License-Identifier: MIT */
/*
 * rules.h - the rules of the mediators' work, as pure functions.
 *
 * What state a case may move to, who may handle it, what is due and when,
 * what a mediation agreement must contain, how case numbers are made and
 * read, and the figures the township reports (../shared/DOMAIN.md). The
 * village laptop and the township hub call the same functions, offline, so
 * that both see the same deadlines and the same figures. Nothing here
 * touches a database, a file, the clock or the heap: callers pass in the
 * facts and today's date, and get answers back. ledger/RULES.md states the
 * rules in prose, with the definition of every figure.
 *
 * Conventions. Every enum has 0 as "none / unknown", so that a zeroed
 * struct means "nothing known"; *_COUNT is one past the last value. A
 * struct rules_date whose year is 0 is "no date" (RULES_DATE_NONE). Words
 * come in two languages: a lang of "zh" (or "zh-CN", "zh_CN", ...) gives
 * Chinese, anything else (NULL included) English. Strings returned are
 * static. Functions that can fail return 0 or a negative RULES_E_* code
 * (rules_strerror() gives the words); the range -300..-399 is the rules'
 * own and does not meet the engine's (sync_error.h) or the hub's.
 */
#ifndef HAMLET_RULES_H
#define HAMLET_RULES_H

#include <stddef.h>
#include <stdint.h>

/* ---- errors ---- */

enum rules_error {
    RULES_OK = 0,
    RULES_E_ARG = -301,                /* a caller passed an invalid argument */
    RULES_E_PARSE = -302,              /* the text is not in the expected form */
    RULES_E_RANGE = -303,              /* a date or number outside the supported range */
    RULES_E_SPACE = -304,              /* the output does not fit the caller's buffer */
    RULES_E_TRANSITION = -305,         /* the status change is not allowed */
    RULES_E_LEVEL = -306,              /* the responsibility level change is not allowed */
    RULES_E_EXTENDED = -307,           /* the deadline was extended once already */
    RULES_E_EXTENSION_TOO_LONG = -308, /* the extension is longer than allowed */
    RULES_E_LOCKED = -309,             /* the agreement is signed: no more edits */
    RULES_E_INCOMPLETE = -310,         /* something required is missing */
    RULES_E_FULL = -311,               /* no room for another category */
};

/* rules_strerror(code): a short English sentence for a RULES_E_* code (or
 * 0). Never NULL; static. Unknown codes give a generic sentence. */
const char *rules_strerror(int code);

/* ---- civil dates, in China Standard Time ---- */

/* A day of the proleptic Gregorian calendar, years 1 to 9999. */
struct rules_date {
    int year, month, day;
};

#define RULES_DATE_NONE ((struct rules_date){0, 0, 0})
#define RULES_DATE_LEN  10 /* characters of "YYYY-MM-DD", without the NUL */

/* rules_is_leap(year): 1 when year is a Gregorian leap year, else 0. */
int rules_is_leap(int year);

/* rules_days_in_month(year, month): 28 to 31, or 0 when month is not 1-12. */
int rules_days_in_month(int year, int month);

/* rules_date_valid(d): 1 when d is a real day of years 1 to 9999, else 0.
 * RULES_DATE_NONE is not valid. */
int rules_date_valid(struct rules_date d);

/* rules_date_is_set(d): 1 when d is not RULES_DATE_NONE (year != 0). An
 * optional date is "absent" when it is not set. */
int rules_date_is_set(struct rules_date d);

/* rules_date_parse(text, out): read exactly "YYYY-MM-DD" (four, two and two
 * ASCII digits, nothing before or after) naming a real day: 2023-02-29 and
 * 2024-04-31 are refused. Returns 0, RULES_E_PARSE (out then
 * RULES_DATE_NONE) or RULES_E_ARG (NULL). */
int rules_date_parse(const char *text, struct rules_date *out);

/* rules_date_format(d, out): write d as "YYYY-MM-DD" into out, which holds
 * RULES_DATE_LEN + 1 bytes. Returns 0, or RULES_E_ARG when d is not valid
 * (out is then ""). */
int rules_date_format(struct rules_date d, char out[RULES_DATE_LEN + 1]);

/* rules_days_from_civil(d): days from 1970-01-01 to d (negative before).
 * d must be valid, or the result means nothing. */
int64_t rules_days_from_civil(struct rules_date d);

/* rules_civil_from_days(days, out): the day that is days after
 * 1970-01-01. Returns 0, or RULES_E_RANGE when that day is outside years 1
 * to 9999 (out then RULES_DATE_NONE). */
int rules_civil_from_days(int64_t days, struct rules_date *out);

/* rules_date_add_days(d, n, out): the day n days after d (before, when n is
 * negative). Returns 0, RULES_E_ARG (d not valid) or RULES_E_RANGE. */
int rules_date_add_days(struct rules_date d, int64_t n, struct rules_date *out);

/* rules_date_add_months(d, n, out): the same day n calendar months later
 * (earlier when n < 0), clamped to the end of a shorter month: 2024-01-31
 * plus one month is 2024-02-29, 2023-01-31 plus one is 2023-02-28. Returns
 * 0, RULES_E_ARG (d not valid) or RULES_E_RANGE. */
int rules_date_add_months(struct rules_date d, int n, struct rules_date *out);

/* rules_date_cmp(a, b): negative, 0 or positive as a is before, the same
 * day as, or after b. RULES_DATE_NONE sorts before every date. */
int rules_date_cmp(struct rules_date a, struct rules_date b);

/* rules_date_diff(from, to): days from from to to (to - from; negative when
 * to is earlier). Both must be valid. */
int64_t rules_date_diff(struct rules_date from, struct rules_date to);

/* rules_date_of_ms(unix_ms, out): the day in Asia/Shanghai (UTC+8 all
 * year: China has had no daylight saving time since 1991) of the instant
 * unix_ms milliseconds after 1970-01-01T00:00:00Z. 2024-12-31T16:00:00Z is
 * 2025-01-01 in China. Returns 0 or RULES_E_RANGE. */
int rules_date_of_ms(int64_t unix_ms, struct rules_date *out);

/* rules_today(now_ms, out): today's date at the township for the wall
 * clock reading now_ms (Unix milliseconds); the same computation as
 * rules_date_of_ms(), named for the call sites that mean "today". */
int rules_today(int64_t now_ms, struct rules_date *out);

/* rules_date_of_rfc3339(text, out): the Asia/Shanghai day of an RFC 3339
 * timestamp such as the ledger's created_at ("2023-09-28T15:28:45+08:00",
 * "2024-12-31T16:00:00Z", fractions of a second allowed). The offset is
 * honoured, so "2024-12-31T23:30:00-02:00" is 2025-01-01. Returns 0,
 * RULES_E_PARSE, RULES_E_RANGE or RULES_E_ARG. */
int rules_date_of_rfc3339(const char *text, struct rules_date *out);

/* A reporting period: every day from first to last, both included. */
struct rules_period {
    struct rules_date first, last;
};

/* rules_period_month(year, month, out) and rules_period_year(year, out):
 * the period of one calendar month or year. Return 0 or RULES_E_ARG. */
int rules_period_month(int year, int month, struct rules_period *out);
int rules_period_year(int year, struct rules_period *out);

/* rules_period_parse(text, out): "YYYY-MM" (a month, as `report --month`
 * takes it) or "YYYY" (a year). Returns 0, RULES_E_PARSE or RULES_E_ARG. */
int rules_period_parse(const char *text, struct rules_period *out);

/* rules_period_contains(p, d): 1 when the valid day d lies in p, else 0. */
int rules_period_contains(const struct rules_period *p, struct rules_date d);

/* ---- words: case kinds, channels, statuses ----
 *
 * For each of these enums: rules_X_name(v) gives the stable English token
 * stored in the ledger and typed on the command line; rules_X_label(v,
 * lang) the words shown to people; both NULL when v is not a value of the
 * enum (or is 0). rules_X_parse(text, out) reads the token or the Chinese
 * label and returns 0, or RULES_E_PARSE (out then 0) or RULES_E_ARG. */

enum rules_kind {
    RULES_KIND_NONE = 0,
    RULES_KIND_DISPUTE,   /* dispute 矛盾纠纷 */
    RULES_KIND_PETITION,  /* petition 信访件 */
    RULES_KIND_SCREENING, /* found in the weekly screening 排查发现 */
    RULES_KIND_COUNT
};

const char *rules_kind_name(enum rules_kind kind);
const char *rules_kind_label(enum rules_kind kind, const char *lang);
int rules_kind_parse(const char *text, enum rules_kind *out);

/* How a case reached the office. A petition comes by letter, visit, call,
 * online, or is referred down by another office; a screening finding comes
 * by screening. */
enum rules_channel {
    RULES_CHANNEL_NONE = 0,
    RULES_CHANNEL_VISIT,     /* visit 来访 */
    RULES_CHANNEL_LETTER,    /* letter 来信 */
    RULES_CHANNEL_CALL,      /* call 来电 */
    RULES_CHANNEL_ONLINE,    /* online 网上信访 */
    RULES_CHANNEL_SCREENING, /* screening 排查 */
    RULES_CHANNEL_REFERRAL,  /* referred by another office 转送交办 */
    RULES_CHANNEL_COUNT
};

const char *rules_channel_name(enum rules_channel channel);
const char *rules_channel_label(enum rules_channel channel, const char *lang);
int rules_channel_parse(const char *text, enum rules_channel *out);

/* rules_channel_fits_kind(kind, channel): 1 when a case of this kind can
 * come by this channel: a petition by letter, visit, call, online or
 * referral; a screening finding by screening; a dispute by any channel.
 * 0 otherwise, and for unknown values. */
int rules_channel_fits_kind(enum rules_kind kind, enum rules_channel channel);

/* Where a transfer (转办) sends a case. */
enum rules_referral_target {
    RULES_REFERRAL_NONE = 0,
    RULES_REFERRAL_POLICE,          /* police_station 派出所 */
    RULES_REFERRAL_COURT,           /* court 法庭 */
    RULES_REFERRAL_JUDICIAL_OFFICE, /* judicial_office 司法所 */
    RULES_REFERRAL_DEPARTMENT,      /* department: another department 其他部门 */
    RULES_REFERRAL_COUNT
};

const char *rules_referral_name(enum rules_referral_target target);
const char *rules_referral_label(enum rules_referral_target target, const char *lang);
int rules_referral_parse(const char *text, enum rules_referral_target *out);

/* The statuses of a case, in the order of the work. The reference data's
 * "closed" is read as RULES_STATUS_CONCLUDED (see RULES.md). */
enum rules_status {
    RULES_STATUS_NONE = 0,
    RULES_STATUS_REGISTERED,    /* registered 登记 */
    RULES_STATUS_ACCEPTED,      /* accepted 受理 */
    RULES_STATUS_NOT_ACCEPTED,  /* not_accepted 不予受理 */
    RULES_STATUS_INVESTIGATING, /* investigating 调查中 */
    RULES_STATUS_MEDIATING,     /* mediating 调解中 */
    RULES_STATUS_AGREEMENT,     /* agreement 达成协议 */
    RULES_STATUS_FAILED,        /* failed 调解不成 */
    RULES_STATUS_REFERRED,      /* referred 转办 */
    RULES_STATUS_CONCLUDED,     /* concluded 办结 (imported "closed") */
    RULES_STATUS_ARCHIVED,      /* archived 归档 */
    RULES_STATUS_COUNT
};

const char *rules_status_name(enum rules_status status);
const char *rules_status_label(enum rules_status status, const char *lang);
int rules_status_parse(const char *text, enum rules_status *out);

/* rules_status_is_open(status): 1 while the case is still being handled
 * here (registered, accepted, investigating, mediating, agreement, failed),
 * so that its deadlines run; 0 for concluded, not accepted, referred,
 * archived and unknown values. */
int rules_status_is_open(enum rules_status status);

/* rules_transition_allowed(from, to): 1 when a case may move from status
 * from to status to (RULES.md has the table), else 0. */
int rules_transition_allowed(enum rules_status from, enum rules_status to);

/* rules_transition_explain(from, to, lang, buf, len): check the move and
 * say why it is refused. Returns 0 when it is allowed (buf is then "");
 * RULES_E_TRANSITION with a sentence in buf that names what IS allowed:
 * "a case that is mediating cannot go to concluded; from mediating a case
 * can go to: agreement, failed, referred" (tokens in English, labels in
 * Chinese); RULES_E_ARG with a sentence when a status is unknown. The
 * sentence is cut, at a character boundary, to fit len. */
int rules_transition_explain(enum rules_status from, enum rules_status to, const char *lang,
                             char *buf, size_t len);

/* ---- responsibility levels ---- */

#define RULES_LEVEL_MIN 1 /* the village mediation committee director */
#define RULES_LEVEL_MAX 7 /* the township's principal leader */

/* rules_level_label(level, lang): who handles a case at level 1 to 7
 * ("village mediation committee director" ... "township principal
 * leader"); NULL outside 1-7. */
const char *rules_level_label(int level, const char *lang);

/* rules_escalation_allowed(from, to): 1 when a case at level from may be
 * escalated to level to: both in 1-7 and to above from (by one or more
 * levels). An escalation is an event; it does not change the status. */
int rules_escalation_allowed(int from, int to);

/* rules_escalation_explain(from, to, lang, buf, len): as
 * rules_transition_explain() for levels. Returns 0 (buf ""), RULES_E_LEVEL
 * with the reason (a lower or equal level, or nothing above level 7) or
 * RULES_E_ARG (a level outside 1-7). */
int rules_escalation_explain(int from, int to, const char *lang, char *buf, size_t len);

/* rules_level_set_explain(from, to, lang, buf, len): the township sets the
 * level of a case (督办 from above), which, unlike a village's escalation,
 * may move it up or down: to must be in 1-7 and differ from the level the
 * case holds (from; 0 when the case has no level yet, and then every level
 * is allowed, 1 included). Returns 0 (buf ""), RULES_E_ARG with a sentence
 * naming levels 1 to 7, or RULES_E_LEVEL when the case is at to already. */
int rules_level_set_explain(int from, int to, const char *lang, char *buf, size_t len);

/* ---- configuration, per township ---- */

#define RULES_MAX_CATEGORIES 32
#define RULES_NAME_MAX       32 /* bytes of a category token, with its NUL */
#define RULES_LABEL_MAX      64 /* bytes of a category label, with its NUL */
#define RULES_SEVERITY_MIN   1  /* class 1: the largest, most complex cases */
#define RULES_SEVERITY_MAX   3

struct rules_category {
    char name[RULES_NAME_MAX]; /* token: a-z, 0-9, _; starts with a letter */
    char zh[RULES_LABEL_MAX];
    char en[RULES_LABEL_MAX];
};

/* The numbers a township may change. Percentages are in basis points:
 * 9800 is 98%. */
struct rules_config {
    int accept_days;                         /* petitions: decide acceptance within (15) */
    int conclude_days;                       /* petitions: conclude within, from acceptance (60) */
    int max_extension_days;                  /* petitions: the one extension, at most (30) */
    int warn_days;                           /* a deadline this near is "due soon" (5) */
    int followup_months[RULES_SEVERITY_MAX]; /* by severity class 1-3 (1, 3, 6) */
    int target_participation_bp;             /* 参调率 target (9800) */
    int target_success_bp;                   /* 调解成功率 target (9800) */
    int target_satisfaction_bp;              /* 满意率 target (9600) */
    size_t ncategories;
    struct rules_category categories[RULES_MAX_CATEGORIES];
};

/* rules_config_default(out): the statutory and field defaults (the
 * numbers above) and DOMAIN.md's categories: land, demolition_compensation,
 * forest_boundary, illegal_mining, family, neighbour, debt, labour,
 * veterans, social_security, litigation, other. */
void rules_config_default(struct rules_config *out);

/* rules_config_set(config, key, value): change one number, as a township's
 * configuration file names it: accept_days, conclude_days,
 * max_extension_days, warn_days (whole days), followup_months_1,
 * followup_months_2, followup_months_3 (whole months), target_participation,
 * target_success, target_satisfaction (a percentage such as "98" or
 * "96.5"). Returns 0, or RULES_E_ARG for an unknown key or a value out of
 * range (config then unchanged). */
int rules_config_set(struct rules_config *config, const char *key, const char *value);

/* rules_config_check(config): 0 when every number is in range (days 1 to
 * 3650, extension 0 to 365, warning 0 to 365, months 1 to 60, targets 0 to
 * 10000 basis points, categories valid and distinct), else RULES_E_ARG. */
int rules_config_check(const struct rules_config *config);

/* rules_config_clear_categories(config): no categories (before a township
 * lists its own). */
void rules_config_clear_categories(struct rules_config *config);

/* rules_config_add_category(config, name, zh, en): add a category at the
 * end of the list (the order of the reports). Returns 0, RULES_E_ARG (a bad
 * or repeated token, a label empty, too long or holding '|') or
 * RULES_E_FULL. */
int rules_config_add_category(struct rules_config *config, const char *name, const char *zh,
                              const char *en);

/* rules_category_find(config, text): the index of the category whose
 * token or Chinese or English label is text, or -1. */
int rules_category_find(const struct rules_config *config, const char *text);

/* rules_category_label(config, name, lang): the label of the category with
 * token name; NULL when it is not listed. Borrowed from config. */
const char *rules_category_label(const struct rules_config *config, const char *name,
                                 const char *lang);

/* ---- deadlines ---- */

/* A petition's deadlines. Days count from the day after the starting day
 * (China's rule for periods), so "within 15 days" of a letter received on
 * 2024-03-01 ends on 2024-03-16, the last day allowed. */
struct rules_petition_deadlines {
    struct rules_date accept_due;   /* decide acceptance by */
    struct rules_date conclude_due; /* conclude by; includes the extension */
    int extension_days;             /* 0 until the one extension is granted */
    int provisional;                /* 1: not accepted yet, conclude_due counted
                                       from the registration, the earliest start */
};

/* rules_petition_deadlines(received, accepted, config, out): accept_due =
 * received + accept_days; conclude_due = accepted + conclude_days, or
 * received + conclude_days (provisional) while accepted is not set.
 * Returns 0 or RULES_E_ARG (received invalid, accepted set but invalid or
 * before received, NULL). */
int rules_petition_deadlines(struct rules_date received, struct rules_date accepted,
                             const struct rules_config *config,
                             struct rules_petition_deadlines *out);

/* rules_petition_extend(deadlines, days, config): grant the one extension
 * of days (1 to max_extension_days) to conclude_due. Returns 0;
 * RULES_E_EXTENDED when an extension was granted already;
 * RULES_E_EXTENSION_TOO_LONG when days > max_extension_days; RULES_E_ARG
 * when days < 1. deadlines is unchanged on failure. */
int rules_petition_extend(struct rules_petition_deadlines *deadlines, int days,
                          const struct rules_config *config);

/* rules_case_due(kind, status, deadlines, override): the deadline that
 * governs a case now. A deadline the township set on the case (override,
 * when set) wins. Otherwise a petition still registered must be accepted
 * or refused by accept_due, and a petition being handled concluded by
 * conclude_due; other kinds have no statutory deadline. A case that is not
 * open (rules_status_is_open()) has none. Returns RULES_DATE_NONE when
 * there is no deadline; deadlines may be NULL for other kinds. */
struct rules_date rules_case_due(enum rules_kind kind, enum rules_status status,
                                 const struct rules_petition_deadlines *deadlines,
                                 struct rules_date override);

enum rules_due_state {
    RULES_DUE_NONE = 0, /* no deadline */
    RULES_DUE_ON_TIME,  /* more than warn_days left */
    RULES_DUE_SOON,     /* warn_days or fewer left, the due day included */
    RULES_DUE_OVERDUE,  /* the due day has passed */
};

/* rules_deadline_state(due, today, warn_days, days): how a deadline stands
 * today. The due day itself is still on time (due soon). days, when not
 * NULL, receives the days left (due - today) or, when overdue, the days
 * overdue (today - due, at least 1); 0 for RULES_DUE_NONE. due not set (or
 * today invalid) gives RULES_DUE_NONE. */
enum rules_due_state rules_deadline_state(struct rules_date due, struct rules_date today,
                                          int warn_days, int64_t *days);

/* rules_due_state_label(state, lang): "on time", "due soon", "overdue"
 * (按期, 即将到期, 已逾期); NULL for RULES_DUE_NONE and unknown values. */
const char *rules_due_state_label(enum rules_due_state state, const char *lang);

/* ---- follow-up visits ---- */

enum rules_followup_state {
    RULES_FOLLOWUP_NONE = 0, /* not concluded yet, or no severity: nothing due */
    RULES_FOLLOWUP_DUE,      /* owed, its due day not passed */
    RULES_FOLLOWUP_OVERDUE,  /* owed, its due day passed */
    RULES_FOLLOWUP_DONE,     /* the visit was made */
};

/* rules_followup_due(concluded, severity, config, out): the day by which
 * the parties of a case concluded on concluded must be visited again:
 * concluded plus followup_months[severity - 1] months (class 1 one month,
 * class 2 a quarter, class 3 half a year by default), clamped to the month
 * end. Returns 0 or RULES_E_ARG (date invalid, severity not 1-3). */
int rules_followup_due(struct rules_date concluded, int severity, const struct rules_config *config,
                       struct rules_date *out);

/* rules_followup_state(due, visited, today): done when visited (the date
 * of the follow-up visit event) is set; otherwise due, or overdue once
 * today is after due. NONE when due is not set. */
enum rules_followup_state rules_followup_state(struct rules_date due, struct rules_date visited,
                                               struct rules_date today);

/* rules_followup_state_label(state, lang): "due", "overdue", "done" (待回访,
 * 回访逾期, 已回访); NULL for NONE and unknown values. */
const char *rules_followup_state_label(enum rules_followup_state state, const char *lang);

/* ---- result notice and opinion ---- */

enum rules_opinion {
    RULES_OPINION_NONE = 0,
    RULES_OPINION_SATISFIED,           /* satisfied 满意 */
    RULES_OPINION_BASICALLY_SATISFIED, /* basically_satisfied 基本满意 */
    RULES_OPINION_NOT_SATISFIED,       /* not_satisfied 不满意 */
    RULES_OPINION_COUNT
};

const char *rules_opinion_name(enum rules_opinion opinion);
const char *rules_opinion_label(enum rules_opinion opinion, const char *lang);
int rules_opinion_parse(const char *text, enum rules_opinion *out);

/* ---- the kinds of events ----
 * The kinds of the events of a case, with their words for people: those
 * the reference data uses (register, inspection, visit, phone, session,
 * agreement, followup, referral) and those the workflow's steps write. */

/* rules_event_kind_count(): how many kinds there are;
 * rules_event_kind_name(i): the token of the i-th (0-based), or NULL past
 * the end. */
size_t rules_event_kind_count(void);
const char *rules_event_kind_name(size_t i);

/* rules_event_kind_label(name, lang): the words for a kind's token (or
 * Chinese label), in Chinese ("zh") or English; NULL for an unknown kind. */
const char *rules_event_kind_label(const char *name, const char *lang);

/* What a case must have before it may be concluded. */
enum rules_requirement {
    RULES_REQ_NONE = 0,
    RULES_REQ_RESULT_NOTICE,    /* a petition: the written result notice was sent */
    RULES_REQ_AGREEMENT_SIGNED, /* an agreement was reached: it is signed */
    RULES_REQ_COUNT
};

struct rules_conclusion_facts {
    enum rules_kind kind;
    int result_notice_sent; /* 1 when a result notice event is recorded */
    int agreement_reached;  /* 1 when the mediation reached an agreement */
    int agreement_signed;   /* 1 when that agreement is signed */
};

/* rules_conclusion_missing(facts, out): what is missing before the case
 * may be concluded, written into out in a fixed order. Returns how many
 * (0: it may be concluded, as far as these rules go; the status must also
 * allow it, rules_transition_allowed()). */
size_t rules_conclusion_missing(const struct rules_conclusion_facts *facts,
                                enum rules_requirement out[RULES_REQ_COUNT]);

/* rules_requirement_label(req, lang): what is missing, in words ("a
 * written result notice to the petitioner"); NULL for unknown values. */
const char *rules_requirement_label(enum rules_requirement req, const char *lang);

/* ---- mediation agreements ---- */

/* The items of an agreement's five parts (DOMAIN.md). */
enum rules_agreement_item {
    RULES_AGR_NONE = 0,
    RULES_AGR_PARTIES,              /* (1) the parties' basic details */
    RULES_AGR_FACTS,                /* (2) facts, matters in dispute, responsibility */
    RULES_AGR_RIGHTS,               /* (3) each party's rights and obligations */
    RULES_AGR_PERFORMANCE_METHOD,   /* (4) how it is performed */
    RULES_AGR_PERFORMANCE_PLACE,    /* (4) where */
    RULES_AGR_PERFORMANCE_DEADLINE, /* (4) by when */
    RULES_AGR_PARTIES_SIGNED,       /* (5) the parties' signatures */
    RULES_AGR_MEDIATOR_SIGNED,      /* (5) the mediator's signature */
    RULES_AGR_SEAL,                 /* (5) the committee's seal */
    RULES_AGR_COUNT
};

/* An agreement as the agreements table holds it. A text is missing when
 * it is NULL or only white space (ASCII or the ideographic space). */
struct rules_agreement {
    const char *parties_details;
    const char *facts_and_liability;
    const char *rights_obligations;
    const char *performance_method;
    const char *performance_place;
    const char *performance_deadline;
    int parties_signed, mediator_signed, sealed; /* 1 when done */
    const char *signed_at;                       /* set when signed: the agreement is locked */
};

/* rules_agreement_missing(agreement, out): the items missing, in the order
 * of the enum, written into out. Returns how many; 0 means complete. */
size_t rules_agreement_missing(const struct rules_agreement *agreement,
                               enum rules_agreement_item out[RULES_AGR_COUNT]);

/* rules_agreement_item_part(item): the part (1-5) an item belongs to; 0
 * for unknown values. */
int rules_agreement_item_part(enum rules_agreement_item item);

/* rules_agreement_item_label(item, lang): the item in words, with its part
 * number ("(4) the place of performance", "（四）履行地点"); NULL for unknown
 * values. */
const char *rules_agreement_item_label(enum rules_agreement_item item, const char *lang);

/* rules_agreement_is_signed(agreement): 1 when signed_at is set. */
int rules_agreement_is_signed(const struct rules_agreement *agreement);

/* rules_agreement_edit_allowed(agreement): 1 while the agreement may be
 * edited; 0 once it is signed: a change is then a supplementary agreement
 * (a new agreement whose supplements names this one), never an edit. */
int rules_agreement_edit_allowed(const struct rules_agreement *agreement);

/* rules_agreement_sign_check(agreement, out, nout): whether the agreement
 * may be signed now. Parts (1) to (4) must be complete; the signatures and
 * the seal are the signing itself. Returns 0; RULES_E_LOCKED (signed
 * already); or RULES_E_INCOMPLETE with the missing items of parts 1-4 in
 * out and their number in *nout (out and nout may be NULL). */
int rules_agreement_sign_check(const struct rules_agreement *agreement,
                               enum rules_agreement_item out[RULES_AGR_COUNT], size_t *nout);

/* ---- case numbers ----
 *
 * （2026）白沙调字第A3-0012号: the year, the village's short name, 调字, the
 * device code of the laptop that made the number and that device's
 * sequence number of the year. The reference data's form has no device
 * code: （2024）白沙调字第0648号. RULES.md explains the choice. */

#define RULES_DEVICE_CODE_LEN   2   /* characters of a device code */
#define RULES_VILLAGE_SHORT_MAX 64  /* bytes of a village short name, with its NUL */
#define RULES_CASE_NO_MAX       128 /* a buffer this size holds any case number */
#define RULES_SEQ_MAX           999999

/* rules_device_code(node, attempt, out): a device's code from its node id:
 * two characters of Crockford's base32 (no I, L, O or U), the first a
 * letter, such as "A3"; 704 codes. attempt 0 gives the code derived from
 * the node id; 1, 2, ... give other codes, for when the hub finds the
 * first already taken in the village at enrolment. */
void rules_device_code(uint64_t node, unsigned attempt, char out[RULES_DEVICE_CODE_LEN + 1]);

/* rules_device_code_valid(code): 1 when code is a well-formed device code
 * (upper case), else 0. */
int rules_device_code_valid(const char *code);

/* rules_village_short(name, out, len): the short name used in case numbers:
 * the village name without a final 村 or 社区 (白沙村 -> 白沙). Returns 0,
 * RULES_E_ARG (empty) or RULES_E_SPACE. */
int rules_village_short(const char *name, char *out, size_t len);

/* rules_case_no_format(year, village_short, device_code, seq, buf, len):
 * write the case number. device_code NULL or "" gives the reference data's
 * form (for imports and tests; new numbers always carry a code). seq is 1
 * to RULES_SEQ_MAX and has at least four digits. Returns 0, RULES_E_ARG (a
 * year outside 1-9999, a bad code or sequence, a short name that is empty,
 * not UTF-8, too long or holding brackets, ASCII digits or 调字) or
 * RULES_E_SPACE (buf then ""). */
int rules_case_no_format(int year, const char *village_short, const char *device_code, int seq,
                         char *buf, size_t len);

struct rules_case_no {
    int year;
    char village_short[RULES_VILLAGE_SHORT_MAX];
    char device_code[RULES_DEVICE_CODE_LEN + 1]; /* "" in the reference data's form */
    int seq;
};

/* rules_case_no_parse(text, out): read a case number of either form.
 * Full-width brackets are what Hamlet writes; ASCII brackets, as people
 * type them, and a lower-case device code are accepted too. Returns 0,
 * RULES_E_PARSE or RULES_E_ARG. */
int rules_case_no_parse(const char *text, struct rules_case_no *out);

/* ---- the township figures ---- */

/* What the figures need to know of one case. Dates not known are
 * RULES_DATE_NONE. */
struct rules_case_facts {
    const char *village;  /* partition; compared with the village filter */
    enum rules_kind kind; /* NONE counts as a dispute (the reference data) */
    const char *category; /* token or label; NULL when not known */
    enum rules_channel channel;
    enum rules_status status;
    int severity;                    /* 1-3; 0 unknown */
    struct rules_date received;      /* registered */
    struct rules_date concluded;     /* concluded (办结); not set while open */
    int mediated;                    /* taken into mediation */
    int agreement_reached;           /* the mediation reached an agreement */
    int mediation_concluded;         /* the mediation ended (agreement or failure) */
    enum rules_opinion opinion;      /* the party's opinion of the result */
    struct rules_date followup_done; /* the follow-up visit, after conclusion */
    struct rules_date due;           /* the deadline, as rules_case_due() gives it */
};

/* A rate as an exact fraction; den 0 means "no data", not 100%. */
enum rules_rate_verdict {
    RULES_RATE_NO_DATA = 0,
    RULES_RATE_BELOW,
    RULES_RATE_MEETS,
};

struct rules_rate {
    size_t num, den;
    int target_bp; /* the township's target, basis points */
    enum rules_rate_verdict verdict;
};

/* rules_rate_make(num, den, target_bp): the rate with its verdict: MEETS
 * when num / den >= target, compared exactly. */
struct rules_rate rules_rate_make(size_t num, size_t den, int target_bp);

/* rules_rate_format(rate, lang, buf, len): the rate as a percentage with
 * one decimal, rounded half up ("97.9%"), or "no data" / "无数据" when den is
 * 0. Returns 0 or RULES_E_SPACE (buf then ""). */
int rules_rate_format(const struct rules_rate *rate, const char *lang, char *buf, size_t len);

/* rules_bp_format(bp, buf, len): basis points as a percentage ("98%",
 * "96.5%"), for a target. Returns 0 or RULES_E_SPACE. */
int rules_bp_format(int bp, char *buf, size_t len);

struct rules_figures {
    struct rules_period period;
    struct rules_date as_of; /* the earlier of the period's last day and today */
    size_t received;
    size_t received_by_kind[RULES_KIND_COUNT];         /* [0]: kind unknown */
    size_t received_by_channel[RULES_CHANNEL_COUNT];   /* [0]: channel unknown */
    size_t received_by_category[RULES_MAX_CATEGORIES]; /* in config's order */
    size_t received_unlisted_category;                 /* no category, or not in config */
    size_t concluded;
    struct rules_rate participation; /* 参调率 */
    struct rules_rate success;       /* 调解成功率 */
    struct rules_rate satisfaction;  /* 满意率 */
    size_t overdue;                  /* deadlines in the period that were missed */
    size_t overdue_open;             /* open and overdue at as_of */
    size_t followups_due;            /* follow-up visits due in the period */
    size_t followups_done;           /* of those, made */
    size_t followups_overdue;        /* of those, not made and past their day */
};

/* rules_figures_compute(cases, n, period, village, config, today, out):
 * the township's figures for the cases of village (NULL: all villages) in
 * period, as of today. RULES.md defines every figure; in short: received
 * and the rates count the cases received in the period; concluded those
 * concluded in it; overdue the deadlines falling in it (and passed by
 * today) that were missed; overdue_open the cases open and past their
 * deadline at as_of; follow-ups those falling due in it. Returns 0 or
 * RULES_E_ARG (NULL arguments, today or the period invalid, config out of
 * range). */
int rules_figures_compute(const struct rules_case_facts *cases, size_t n,
                          const struct rules_period *period, const char *village,
                          const struct rules_config *config, struct rules_date today,
                          struct rules_figures *out);

/* ---- masking personal numbers ---- */

/* rules_mask_id_no(id_no, out, len): an identity-card number with all but
 * its first 4 and last 4 characters starred: 431228197202284460 ->
 * 4312**********4460. Numbers of 8 characters or fewer are starred whole.
 * Returns 0, RULES_E_ARG (NULL) or RULES_E_SPACE (out then "": a mask is
 * never cut into a partial number). */
int rules_mask_id_no(const char *id_no, char *out, size_t len);

/* rules_mask_phone(phone, out, len): a phone number with all but its first
 * 3 and last 4 characters starred: 13800138000 -> 138****8000. Numbers of
 * 7 characters or fewer are starred whole. Returns as rules_mask_id_no(). */
int rules_mask_phone(const char *phone, char *out, size_t len);

#endif
