/* SPDX-License-Identifier: MIT */
/*
 * workflow.c - each step of a case's work, checked against the rules and
 * written with its event in one unit of work (workflow.h).
 */
#include "workflow.h"

#include "hlc.h"
#include "replica.h"
#include "sync_error.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

static int is_zh(const char *lang)
{
    return lang && lang[0] == 'z' && lang[1] == 'h';
}

static int say(struct workflow *w, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int say(struct workflow *w, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->why, sizeof w->why, fmt, ap);
    va_end(ap);
    return code;
}

/* An engine error, in words. */
static int engine_failed(struct workflow *w, int rc)
{
    return say(w, rc, "%s",
               rc == SYNC_E_PARTITION ? "that record belongs to another village"
                                      : sync_strerror(rc));
}

/* What the steps need to know of a case. */
struct current {
    char village[DELTA_MAX_PART + 1];
    enum rules_kind kind;
    enum rules_status status;
    int level;
    int extension_days;
    int correction_asked; /* the township's request for a correction stands */
    struct rules_date received, accepted, result_notice;
};

static int load_case(struct workflow *w, const char *case_id, struct current *c)
{
    static const char sql[] = "SELECT village, kind, status, level, extension_days, created_at,"
                              " accepted_on, result_notice_on, coalesce(correction, '') != ''"
                              " FROM cases"
                              " WHERE id = ?1 AND deleted = 0";
    memset(c, 0, sizeof *c);
    sqlite3_stmt *st = NULL;
    if (!case_id) {
        return say(w, RULES_E_ARG, "no case given");
    }
    if (sqlite3_prepare_v2(replica_db(w->replica), sql, -1, &st, NULL) != SQLITE_OK) {
        return say(w, SYNC_E_DB, "the ledger could not be read");
    }
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st), rc = 0;
    if (step == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(c->village, sizeof c->village, "%s", t ? (const char *)t : "");
        if ((t = sqlite3_column_text(st, 1))) {
            (void)rules_kind_parse((const char *)t, &c->kind);
        }
        if ((t = sqlite3_column_text(st, 2))) {
            (void)rules_status_parse((const char *)t, &c->status);
        }
        c->level = sqlite3_column_int(st, 3);
        c->extension_days = sqlite3_column_int(st, 4);
        if ((t = sqlite3_column_text(st, 5))) {
            (void)rules_date_of_rfc3339((const char *)t, &c->received);
        }
        if ((t = sqlite3_column_text(st, 6))) {
            (void)rules_date_parse((const char *)t, &c->accepted);
        }
        if ((t = sqlite3_column_text(st, 7))) {
            (void)rules_date_parse((const char *)t, &c->result_notice);
        }
        c->correction_asked = sqlite3_column_int(st, 8);
    } else {
        rc = step == SQLITE_DONE ? say(w, SYNC_E_NOT_FOUND, "no case %s", case_id)
                                 : say(w, SYNC_E_DB, "the ledger could not be read");
    }
    sqlite3_finalize(st);
    return rc;
}

/* Append the event of a step (inside the caller's unit of work). */
static int add_event(struct workflow *w, const char *village, const char *case_id, const char *kind,
                     struct rules_date date, const char *note, const char *detail,
                     char out_id[UUID7_STRLEN + 1])
{
    char id[UUID7_STRLEN + 1], day[RULES_DATE_LEN + 1];
    if (rules_date_format(rules_date_valid(date) ? date : w->today, day) != 0) {
        return say(w, RULES_E_ARG, "no valid date for the event");
    }
    if (uuid7_make(hlc_wall(replica_clock(w->replica)), id) != 0) {
        return say(w, SYNC_E_ARG, "the system gave no random bytes");
    }
    const char *columns[] = {"case_id", "date", "kind", "note", "recorded_at", "detail"};
    struct sync_value values[] = {
        case_id ? (struct sync_value){.type = SYNC_TEXT, .s = case_id}
                : (struct sync_value){.type = SYNC_NULL},
        {.type = SYNC_TEXT, .s = day},
        {.type = SYNC_TEXT, .s = kind},
        note && note[0] ? (struct sync_value){.type = SYNC_TEXT, .s = note}
                        : (struct sync_value){.type = SYNC_NULL},
        {.type = SYNC_TEXT, .s = w->now},
        detail ? (struct sync_value){.type = SYNC_TEXT, .s = detail}
               : (struct sync_value){.type = SYNC_NULL},
    };
    int rc = replica_append(w->replica, "events", id, village, COUNT(columns), columns, values);
    if (rc != 0) {
        return engine_failed(w, rc);
    }
    if (out_id) {
        memcpy(out_id, id, sizeof id);
    }
    return 0;
}

/* Set fields of the case (inside the unit of work). updated_at is left as
 * it is: the event records when, and two laptops stepping the same case
 * must not be flagged for the moment alone. */
static int put_case(struct workflow *w, const char *case_id, const char *village, size_t n,
                    const char **columns, const struct sync_value *values)
{
    int rc = replica_put(w->replica, "cases", case_id, village, n, columns, values, NULL);
    return rc == 0 ? 0 : engine_failed(w, rc);
}

static int begin(struct workflow *w)
{
    if (!w || !w->replica || !w->config || !w->now || !rules_date_valid(w->today)) {
        return w ? say(w, RULES_E_ARG, "the workflow is not set up") : RULES_E_ARG;
    }
    w->why[0] = '\0';
    int rc = replica_begin(w->replica);
    return rc == 0 ? 0 : engine_failed(w, rc);
}

/* Commit when rc is 0, else roll back; returns rc or the commit's error. */
static int end(struct workflow *w, int rc)
{
    if (rc != 0) {
        replica_rollback(w->replica);
        return rc;
    }
    rc = replica_commit(w->replica);
    return rc == 0 ? 0 : engine_failed(w, rc);
}

/* The words of a step's event: what, then the user's note. Returns a
 * malloc'd string for the caller to free, or NULL when out of memory. The
 * note is never cut: a cut could split a character and is a loss besides. */
static char *step_note(const char *what, const char *note)
{
    size_t len = strlen(what) + (note ? strlen(note) : 0) + 3;
    char *out = malloc(len);
    if (out) {
        snprintf(out, len, "%s%s%s", what, note && note[0] ? "; " : "", note ? note : "");
    }
    return out;
}

/* Every agreement of the case is signed: 1, 0, or an error. */
static int agreements_signed(struct workflow *w, const char *case_id, int *any)
{
    static const char sql[] = "SELECT count(*), count(signed_at) FROM agreements"
                              " WHERE case_id = ?1 AND deleted = 0";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(replica_db(w->replica), sql, -1, &st, NULL) != SQLITE_OK) {
        return say(w, SYNC_E_DB, "the ledger could not be read");
    }
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
    int rc = SYNC_E_DB;
    if (sqlite3_step(st) == SQLITE_ROW) {
        int all = sqlite3_column_int(st, 0), signed_ = sqlite3_column_int(st, 1);
        *any = all > 0;
        rc = all == signed_;
    }
    sqlite3_finalize(st);
    return rc;
}

/* The status change itself, inside the unit of work, c already loaded. */
static int change_status(struct workflow *w, const char *case_id, const struct current *c,
                         enum rules_status to, const char *kind, const char *detail,
                         const char *note)
{
    enum rules_status from = c->status ? c->status : RULES_STATUS_REGISTERED;
    int rc = rules_transition_explain(from, to, w->lang, w->why, sizeof w->why);
    if (rc != 0) {
        return rc;
    }
    if (to == RULES_STATUS_CONCLUDED) {
        int any = 0, all = agreements_signed(w, case_id, &any);
        if (all < 0) {
            return all;
        }
        struct rules_conclusion_facts facts = {
            .kind = c->kind,
            .result_notice_sent = rules_date_valid(c->result_notice),
            .agreement_reached = any,
            .agreement_signed = all,
        };
        enum rules_requirement missing[RULES_REQ_COUNT];
        size_t n = rules_conclusion_missing(&facts, missing);
        if (n > 0) {
            int zh = is_zh(w->lang);
            size_t used = (size_t)snprintf(w->why, sizeof w->why, "%s",
                                           zh ? "办结前还缺少：" : "before concluding, missing: ");
            for (size_t i = 0; i < n && used < sizeof w->why; i++) {
                used += (size_t)snprintf(w->why + used, sizeof w->why - used, "%s%s",
                                         i ? (zh ? "；" : "; ") : "",
                                         rules_requirement_label(missing[i], w->lang));
            }
            return RULES_E_INCOMPLETE;
        }
    }
    char day[RULES_DATE_LEN + 1];
    (void)rules_date_format(w->today, day);
    const char *columns[2] = {"status"};
    struct sync_value values[2] = {{.type = SYNC_TEXT, .s = rules_status_name(to)}};
    size_t n = 1;
    if (to == RULES_STATUS_ACCEPTED && !rules_date_valid(c->accepted)) {
        columns[n] = "accepted_on";
        values[n++] = (struct sync_value){.type = SYNC_TEXT, .s = day};
    } else if (to == RULES_STATUS_CONCLUDED) {
        columns[n] = "concluded_on";
        values[n++] = (struct sync_value){.type = SYNC_TEXT, .s = day};
    }
    if ((rc = put_case(w, case_id, c->village, n, columns, values)) != 0) {
        return rc;
    }
    char move[200];
    snprintf(move, sizeof move, "%s → %s", rules_status_label(from, "zh"),
             rules_status_label(to, "zh"));
    char *words = step_note(move, note);
    if (!words) {
        return say(w, SYNC_E_NOMEM, "out of memory");
    }
    rc = add_event(w, c->village, case_id, kind, RULES_DATE_NONE, words,
                   detail ? detail : rules_status_name(to), NULL);
    free(words);
    return rc;
}

int workflow_status(struct workflow *w, const char *case_id, enum rules_status to, const char *note)
{
    int rc = begin(w);
    if (rc != 0) {
        return rc;
    }
    struct current c;
    if ((rc = load_case(w, case_id, &c)) == 0) {
        if (to == RULES_STATUS_REFERRED) {
            rc = say(w, RULES_E_ARG, "%s",
                     is_zh(w->lang)
                         ? "转办请用 transfer，并写明转往何处（派出所、法庭、司法所或其他部门）"
                         : "a transfer says where the case goes: use transfer --to "
                           "police_station|court|judicial_office|department");
        } else {
            rc = change_status(w, case_id, &c, to, "status", NULL, note);
        }
    }
    return end(w, rc);
}

int workflow_transfer(struct workflow *w, const char *case_id, enum rules_referral_target target,
                      const char *note)
{
    int rc = begin(w);
    if (rc != 0) {
        return rc;
    }
    struct current c;
    if (!rules_referral_name(target)) {
        rc = say(w, RULES_E_ARG,
                 "unknown office: police_station, court, judicial_office or "
                 "department");
    } else if ((rc = load_case(w, case_id, &c)) == 0) {
        char what[100];
        snprintf(what, sizeof what, "转%s", rules_referral_label(target, "zh"));
        char *words = step_note(what, note);
        rc = words ? change_status(w, case_id, &c, RULES_STATUS_REFERRED, "referral",
                                   rules_referral_name(target), words)
                   : say(w, SYNC_E_NOMEM, "out of memory");
        free(words);
    }
    return end(w, rc);
}

int workflow_escalate(struct workflow *w, const char *case_id, int level, const char *note)
{
    int rc = begin(w);
    if (rc != 0) {
        return rc;
    }
    struct current c;
    if ((rc = load_case(w, case_id, &c)) == 0) {
        int from = c.level >= RULES_LEVEL_MIN ? c.level : RULES_LEVEL_MIN;
        rc = rules_escalation_explain(from, level, w->lang, w->why, sizeof w->why);
    }
    if (rc == 0) {
        const char *columns[] = {"level"};
        struct sync_value values[] = {{.type = SYNC_INT, .i = level}};
        rc = put_case(w, case_id, c.village, 1, columns, values);
    }
    if (rc == 0) {
        char what[200], detail[8];
        snprintf(what, sizeof what, "升级至第%d级：%s", level, rules_level_label(level, "zh"));
        snprintf(detail, sizeof detail, "%d", level);
        char *words = step_note(what, note);
        rc = words ? add_event(w, c.village, case_id, "escalation", RULES_DATE_NONE, words, detail,
                               NULL)
                   : say(w, SYNC_E_NOMEM, "out of memory");
        free(words);
    }
    return end(w, rc);
}

/* A step that sets one field of the case and records an event. */
static int field_step(struct workflow *w, const char *case_id, const char *column,
                      struct sync_value value, const char *kind, struct rules_date date,
                      const char *what, const char *detail, const char *note)
{
    int rc = begin(w);
    if (rc != 0) {
        return rc;
    }
    struct current c;
    if ((rc = load_case(w, case_id, &c)) == 0 && column) {
        rc = put_case(w, case_id, c.village, 1, &column, &value);
    }
    if (rc == 0) {
        char *words = step_note(what, note);
        rc = words ? add_event(w, c.village, case_id, kind, date, words, detail, NULL)
                   : say(w, SYNC_E_NOMEM, "out of memory");
        free(words);
    }
    return end(w, rc);
}

/* date, or today when not set, checked not to lie in the future. */
static int step_date(struct workflow *w, struct rules_date date, char day[RULES_DATE_LEN + 1])
{
    struct rules_date d = rules_date_is_set(date) ? date : w->today;
    if (!rules_date_valid(d)) {
        return say(w, RULES_E_ARG, "not a valid date");
    }
    if (rules_date_cmp(d, w->today) > 0) {
        return say(w, RULES_E_ARG, "%s",
                   is_zh(w->lang) ? "日期不能晚于今天" : "the date lies in the future");
    }
    return rules_date_format(d, day);
}

int workflow_result_notice(struct workflow *w, const char *case_id, struct rules_date date,
                           const char *note)
{
    char day[RULES_DATE_LEN + 1];
    if (!w) {
        return RULES_E_ARG;
    }
    int rc = step_date(w, date, day);
    if (rc != 0) {
        return rc;
    }
    struct rules_date d;
    (void)rules_date_parse(day, &d);
    return field_step(w, case_id, "result_notice_on",
                      (struct sync_value){.type = SYNC_TEXT, .s = day}, "result_notice", d,
                      "书面告知处理结果", NULL, note);
}

int workflow_opinion(struct workflow *w, const char *case_id, enum rules_opinion opinion,
                     const char *note)
{
    if (!w) {
        return RULES_E_ARG;
    }
    const char *name = rules_opinion_name(opinion);
    if (!name) {
        return say(w, RULES_E_ARG, "an opinion is satisfied, basically_satisfied or not_satisfied");
    }
    char what[100];
    snprintf(what, sizeof what, "当事人意见：%s", rules_opinion_label(opinion, "zh"));
    return field_step(w, case_id, "opinion", (struct sync_value){.type = SYNC_TEXT, .s = name},
                      "opinion", RULES_DATE_NONE, what, name, note);
}

int workflow_followup(struct workflow *w, const char *case_id, struct rules_date date,
                      const char *note)
{
    char day[RULES_DATE_LEN + 1];
    if (!w) {
        return RULES_E_ARG;
    }
    int rc = step_date(w, date, day);
    if (rc != 0) {
        return rc;
    }
    struct rules_date d;
    (void)rules_date_parse(day, &d);
    return field_step(w, case_id, NULL, (struct sync_value){.type = SYNC_NULL}, "followup", d,
                      "回访", NULL, note);
}

int workflow_extend(struct workflow *w, const char *case_id, int days, const char *note)
{
    int rc = begin(w);
    if (rc != 0) {
        return rc;
    }
    struct current c;
    if ((rc = load_case(w, case_id, &c)) != 0) {
        return end(w, rc);
    }
    struct rules_petition_deadlines d = {0};
    if (c.kind != RULES_KIND_PETITION) {
        rc = say(w, RULES_E_ARG, "%s",
                 is_zh(w->lang) ? "只有信访件可以延期" : "only a petition's deadline is extended");
    } else if (!rules_status_is_open(c.status ? c.status : RULES_STATUS_REGISTERED)) {
        rc = say(w, RULES_E_ARG, "the case is no longer open");
    } else if (rules_petition_deadlines(rules_date_valid(c.received) ? c.received : w->today,
                                        c.accepted, w->config, &d) != 0) {
        rc = say(w, RULES_E_ARG, "the case's dates are not valid");
    } else {
        d.extension_days = c.extension_days;
        rc = rules_petition_extend(&d, days, w->config);
        if (rc == RULES_E_EXTENDED) {
            say(w, rc,
                "the deadline was extended once already (%d days); only one extension is "
                "allowed",
                c.extension_days);
        } else if (rc == RULES_E_EXTENSION_TOO_LONG) {
            say(w, rc, "an extension is at most %d days", w->config->max_extension_days);
        } else if (rc != 0) {
            say(w, rc, "an extension is 1 to %d days", w->config->max_extension_days);
        }
    }
    if (rc == 0) {
        const char *columns[] = {"extension_days"};
        struct sync_value values[] = {{.type = SYNC_INT, .i = days}};
        rc = put_case(w, case_id, c.village, 1, columns, values);
    }
    if (rc == 0) {
        char what[100], detail[16], due[RULES_DATE_LEN + 1];
        (void)rules_date_format(d.conclude_due, due);
        snprintf(what, sizeof what, "延期%d天，办结期限至%s", days, due);
        snprintf(detail, sizeof detail, "%d", days);
        char *words = step_note(what, note);
        rc = words ? add_event(w, c.village, case_id, "extension", RULES_DATE_NONE, words, detail,
                               NULL)
                   : say(w, SYNC_E_NOMEM, "out of memory");
        free(words);
    }
    return end(w, rc);
}

int workflow_deadline(struct workflow *w, const char *case_id, struct rules_date date,
                      const char *note)
{
    if (!w) {
        return RULES_E_ARG;
    }
    char day[RULES_DATE_LEN + 1] = "", what[100];
    int set = rules_date_is_set(date);
    if (set && rules_date_format(date, day) != 0) {
        return say(w, RULES_E_ARG, "not a valid date");
    }
    snprintf(what, sizeof what, set ? "督办期限：%s" : "撤销督办期限%s", day);
    struct sync_value value = set ? (struct sync_value){.type = SYNC_TEXT, .s = day}
                                  : (struct sync_value){.type = SYNC_NULL};
    return field_step(w, case_id, "deadline", value, "deadline", RULES_DATE_NONE, what,
                      set ? day : "", note);
}

/* ---- the township's actions ---- */

/* Words of an event, formatted into a malloc'd string (free() it), or
 * NULL when out of memory. */
static char *words_of(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *words_of(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *out = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (out) {
        va_start(ap, fmt);
        vsnprintf(out, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return out;
}

/* 1 when s holds only white space: ASCII, or U+3000, the ideographic space
 * a Chinese input method types. */
static int blank(const char *s)
{
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

/* Check a text people give to a step: what names it in the refusal (en,
 * zh); max is in characters; lines allows line breaks and tabs. Returns 0
 * or RULES_E_ARG with why set. */
static int check_text(struct workflow *w, const char *const what[2], const char *text, size_t max,
                      int lines)
{
    int zh = is_zh(w->lang);
    const char *name = what[zh];
    if (!text || blank(text)) {
        return say(w, RULES_E_ARG, zh ? "%s不能为空" : "%s must not be empty", name);
    }
    size_t len = strlen(text), chars = 0;
    if (!delta_utf8_valid(text, len)) {
        return say(w, RULES_E_ARG, zh ? "%s不是有效的 UTF-8 文字" : "%s is not valid UTF-8 text",
                   name);
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char b = (unsigned char)text[i];
        if ((b < 0x20 || b == 0x7F) && !(lines && (b == '\n' || b == '\t' || b == '\r'))) {
            return say(w, RULES_E_ARG,
                       zh ? "%s不能含控制字符%s" : "%s may not hold control characters%s", name,
                       lines ? (zh ? "（换行和制表符除外）" : " (line breaks and tabs are allowed)")
                             : "");
        }
        chars += (b & 0xC0) != 0x80;
    }
    if (chars > max) {
        return say(w, RULES_E_ARG,
                   zh ? "%s有%zu个字，最多%zu个字"
                      : "%s is %zu characters long; at most %zu are allowed",
                   name, chars, max);
    }
    return 0;
}

/* "，经办人：" and the name, after an action's words, when w->who is set;
 * else "" and "". */
static const char *who_label(const struct workflow *w)
{
    return w->who && w->who[0] ? "，经办人：" : "";
}

static const char *who_name(const struct workflow *w)
{
    return w->who && w->who[0] ? w->who : "";
}

/* Set n fields of the loaded case c and record the event of the step, its
 * words what followed by the note (inside the unit of work). */
static int write_step(struct workflow *w, const char *case_id, const struct current *c, size_t n,
                      const char **columns, const struct sync_value *values, const char *kind,
                      const char *what, const char *detail, const char *note)
{
    int rc = put_case(w, case_id, c->village, n, columns, values);
    if (rc != 0) {
        return rc;
    }
    char *words = what ? step_note(what, note) : NULL;
    rc = words ? add_event(w, c->village, case_id, kind, RULES_DATE_NONE, words, detail, NULL)
               : say(w, SYNC_E_NOMEM, "out of memory");
    free(words);
    return rc;
}

int workflow_level(struct workflow *w, const char *case_id, int level, const char *note)
{
    int rc = begin(w);
    if (rc != 0) {
        return rc;
    }
    struct current c;
    int from = 0;
    if ((rc = load_case(w, case_id, &c)) == 0) {
        /* A level outside 1-7 (an import's 0) is no level. */
        from = c.level >= RULES_LEVEL_MIN && c.level <= RULES_LEVEL_MAX ? c.level : 0;
        rc = rules_level_set_explain(from, level, w->lang, w->why, sizeof w->why);
    }
    if (rc == 0) {
        char old[100], detail[8];
        if (from) {
            snprintf(old, sizeof old, "第%d级（%s）", from, rules_level_label(from, "zh"));
        } else {
            snprintf(old, sizeof old, "未定");
        }
        snprintf(detail, sizeof detail, "%d", level);
        const char *columns[] = {"level"};
        struct sync_value values[] = {{.type = SYNC_INT, .i = level}};
        char *what = words_of("镇里调整责任层级：%s → 第%d级（%s）%s%s", old, level,
                              rules_level_label(level, "zh"), who_label(w), who_name(w));
        rc = write_step(w, case_id, &c, 1, columns, values, "level", what, detail, note);
        free(what);
    }
    return end(w, rc);
}

/* 1 when the case has that mediator already (id NULL: none), 0 when not,
 * or an error. */
static int same_mediator(struct workflow *w, const char *case_id, const char *name, const char *id)
{
    static const char sql[] = "SELECT count(*) FROM cases WHERE id = ?1"
                              " AND mediator_name IS ?2 AND mediator_id IS ?3";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(replica_db(w->replica), sql, -1, &st, NULL) != SQLITE_OK) {
        return say(w, SYNC_E_DB, "the ledger could not be read");
    }
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    if (id) {
        sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
    }
    int rc = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) > 0
                                            : say(w, SYNC_E_DB, "the ledger could not be read");
    sqlite3_finalize(st);
    return rc;
}

int workflow_mediator(struct workflow *w, const char *case_id, const char *name, const char *id,
                      const char *note)
{
    static const char *const name_words[2] = {"a mediator's name", "调解员姓名"};
    static const char *const id_words[2] = {"a mediator's id", "调解员编号"};
    if (!w) {
        return RULES_E_ARG;
    }
    int rc = check_text(w, name_words, name, WORKFLOW_MEDIATOR_NAME_MAX, 0);
    if (rc == 0 && id) {
        rc = check_text(w, id_words, id, WORKFLOW_MEDIATOR_ID_MAX, 0);
    }
    if (rc != 0) {
        return rc;
    }
    if ((rc = begin(w)) != 0) {
        return rc;
    }
    struct current c;
    if ((rc = load_case(w, case_id, &c)) == 0 && (rc = same_mediator(w, case_id, name, id)) == 1) {
        rc = say(w, RULES_E_ARG,
                 is_zh(w->lang) ? "该案件的调解员已是%s" : "%s is the case's mediator already",
                 name);
    }
    if (rc == 0) {
        const char *columns[] = {"mediator_name", "mediator_id"};
        struct sync_value values[] = {
            {.type = SYNC_TEXT, .s = name},
            id ? (struct sync_value){.type = SYNC_TEXT, .s = id}
               : (struct sync_value){.type = SYNC_NULL},
        };
        char *what = words_of("镇里指派调解员：%s%s%s%s%s%s", name, id ? "（编号" : "",
                              id ? id : "", id ? "）" : "", who_label(w), who_name(w));
        rc = write_step(w, case_id, &c, 2, columns, values, "mediator", what, name, note);
        free(what);
    }
    return end(w, rc);
}

int workflow_correction(struct workflow *w, const char *case_id, const char *comment)
{
    static const char *const words[2] = {"a request for a correction", "更正要求"};
    if (!w) {
        return RULES_E_ARG;
    }
    int rc = comment ? check_text(w, words, comment, WORKFLOW_CORRECTION_MAX, 1) : 0;
    if (rc != 0) {
        return rc;
    }
    if ((rc = begin(w)) != 0) {
        return rc;
    }
    struct current c;
    if ((rc = load_case(w, case_id, &c)) == 0 && !comment && !c.correction_asked) {
        rc = say(w, RULES_E_ARG, "%s",
                 is_zh(w->lang) ? "该案件没有待更正的要求，无需撤销"
                                : "no correction is asked of this case: there is nothing to clear");
    }
    if (rc == 0) {
        char day[RULES_DATE_LEN + 1];
        (void)rules_date_format(w->today, day);
        const char *columns[] = {"correction", "correction_on"};
        struct sync_value values[] = {
            comment ? (struct sync_value){.type = SYNC_TEXT, .s = comment}
                    : (struct sync_value){.type = SYNC_NULL},
            comment ? (struct sync_value){.type = SYNC_TEXT, .s = day}
                    : (struct sync_value){.type = SYNC_NULL},
        };
        char *what = comment
                         ? words_of("镇里要求更正：%s%s%s", comment, who_label(w), who_name(w))
                         : words_of("镇里确认已更正，撤销更正要求%s%s", who_label(w), who_name(w));
        rc = write_step(w, case_id, &c, 2, columns, values, "correction", what,
                        comment ? "asked" : "cleared", NULL);
        free(what);
    }
    return end(w, rc);
}

int workflow_correction_reply(struct workflow *w, const char *case_id, const char *text)
{
    static const char *const words[2] = {"an answer to the township", "对更正要求的答复"};
    if (!w) {
        return RULES_E_ARG;
    }
    int rc = check_text(w, words, text, WORKFLOW_CORRECTION_MAX, 1);
    if (rc != 0) {
        return rc;
    }
    if ((rc = begin(w)) != 0) {
        return rc;
    }
    struct current c;
    if ((rc = load_case(w, case_id, &c)) == 0 && !c.correction_asked) {
        rc = say(w, RULES_E_ARG, "%s",
                 is_zh(w->lang) ? "镇里没有对该案件提出更正要求，无需答复"
                                : "the township asks no correction of this case: there is "
                                  "nothing to answer");
    }
    if (rc == 0) {
        char day[RULES_DATE_LEN + 1];
        (void)rules_date_format(w->today, day);
        const char *columns[] = {"correction_reply", "correction_reply_on"};
        struct sync_value values[] = {{.type = SYNC_TEXT, .s = text},
                                      {.type = SYNC_TEXT, .s = day}};
        char *what = words_of("答复更正要求：%s%s%s", text, who_label(w), who_name(w));
        rc = write_step(w, case_id, &c, 2, columns, values, "correction_reply", what, "answered",
                        NULL);
        free(what);
    }
    return end(w, rc);
}

/* The kinds the steps write: not for workflow_event(). */
static const char *const step_kinds[] = {
    "status",    "referral", "escalation", "result_notice",   "opinion",
    "extension", "deadline", "reveal",     "followup",        "agreement",
    "level",     "mediator", "correction", "correction_reply"};

int workflow_event(struct workflow *w, const char *case_id, const char *kind,
                   struct rules_date date, const char *note, const char *detail,
                   char id[UUID7_STRLEN + 1])
{
    if (!w) {
        return RULES_E_ARG;
    }
    size_t n = kind ? strlen(kind) : 0;
    int ok = n > 0 && n <= 32;
    for (size_t i = 0; ok && i < n; i++) {
        ok = (kind[i] >= 'a' && kind[i] <= 'z') || kind[i] == '_';
    }
    if (!ok) {
        return say(w, RULES_E_ARG,
                   "an event kind is a word of a-z and _ (visit, phone, session...)");
    }
    for (size_t i = 0; i < COUNT(step_kinds); i++) {
        if (!strcmp(kind, step_kinds[i]) && strcmp(kind, "followup") != 0 &&
            strcmp(kind, "agreement") != 0) {
            return say(w, RULES_E_ARG,
                       "\"%s\" events are recorded by their own command, which also changes the "
                       "case",
                       kind);
        }
    }
    if (rules_date_is_set(date) && !rules_date_valid(date)) {
        return say(w, RULES_E_ARG, "not a valid date");
    }
    /* A visit that has not happened must not count as made. */
    if (!strcmp(kind, "followup") && rules_date_is_set(date) &&
        rules_date_cmp(date, w->today) > 0) {
        return say(w, RULES_E_ARG, "%s",
                   is_zh(w->lang) ? "日期不能晚于今天" : "the date lies in the future");
    }
    int rc = begin(w);
    if (rc != 0) {
        return rc;
    }
    struct current c;
    if ((rc = load_case(w, case_id, &c)) == 0) {
        rc = add_event(w, c.village, case_id, kind, date, note, detail, id);
    }
    return end(w, rc);
}

int workflow_reveal(struct workflow *w, const char *village, const char *case_id, const char *what)
{
    if (!w) {
        return RULES_E_ARG;
    }
    int rc = begin(w);
    if (rc != 0) {
        return rc;
    }
    struct current c;
    const char *part = village;
    if (case_id) {
        if ((rc = load_case(w, case_id, &c)) == 0) {
            part = c.village;
        }
    } else if (!village || !village[0]) {
        rc = say(w, RULES_E_ARG, "no village for the reveal");
    }
    if (rc == 0) {
        char words[WORKFLOW_WHY];
        snprintf(words, sizeof words, "显示完整身份证号和电话：%s（%s）", what ? what : "",
                 w->who && w->who[0] ? w->who : "unknown");
        rc = add_event(w, part, case_id, "reveal", RULES_DATE_NONE, words, what, NULL);
    }
    return end(w, rc);
}

/* ---- agreements ---- */

struct agreement_row {
    char village[DELTA_MAX_PART + 1];
    char case_id[UUID7_STRLEN + 1];
    char *text[6]; /* the texts of parts 1-4, malloc'd */
    int signed_;   /* signed_at set */
};

static void agreement_row_free(struct agreement_row *a)
{
    for (size_t i = 0; i < COUNT(a->text); i++) {
        free(a->text[i]);
    }
}

static int load_agreement(struct workflow *w, const char *id, struct agreement_row *a)
{
    static const char sql[] =
        "SELECT village, case_id, parties_details, facts_and_liability, rights_obligations,"
        " performance_method, performance_place, performance_deadline, signed_at"
        " FROM agreements WHERE id = ?1 AND deleted = 0";
    memset(a, 0, sizeof *a);
    sqlite3_stmt *st = NULL;
    if (!id) {
        return say(w, RULES_E_ARG, "no agreement given");
    }
    if (sqlite3_prepare_v2(replica_db(w->replica), sql, -1, &st, NULL) != SQLITE_OK) {
        return say(w, SYNC_E_DB, "the ledger could not be read");
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st), rc = 0;
    if (step == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(a->village, sizeof a->village, "%s", t ? (const char *)t : "");
        t = sqlite3_column_text(st, 1);
        snprintf(a->case_id, sizeof a->case_id, "%s", t ? (const char *)t : "");
        for (int i = 0; i < 6; i++) {
            t = sqlite3_column_text(st, 2 + i);
            if (t && !(a->text[i] = strdup((const char *)t))) {
                rc = say(w, SYNC_E_NOMEM, "out of memory");
            }
        }
        a->signed_ = sqlite3_column_type(st, 8) != SQLITE_NULL;
    } else {
        rc = step == SQLITE_DONE ? say(w, SYNC_E_NOT_FOUND, "no agreement %s", id)
                                 : say(w, SYNC_E_DB, "the ledger could not be read");
    }
    sqlite3_finalize(st);
    if (rc != 0) {
        agreement_row_free(a);
    }
    return rc;
}

static int locked(struct workflow *w)
{
    return say(w, RULES_E_LOCKED, "%s",
               is_zh(w->lang) ? "协议已签署，不得修改；如需变更，请订立补充协议"
                              : "the agreement is signed and locked: make a supplementary "
                                "agreement instead (agreement supplement ID)");
}

int workflow_agreement_editable(struct workflow *w, const char *agreement_id)
{
    if (!w || !w->replica) {
        return RULES_E_ARG;
    }
    struct agreement_row a;
    int rc = load_agreement(w, agreement_id, &a);
    if (rc != 0) {
        return rc;
    }
    rc = a.signed_ ? locked(w) : 0;
    agreement_row_free(&a);
    return rc;
}

int workflow_agreement_sign(struct workflow *w, const char *agreement_id)
{
    int rc = begin(w);
    if (rc != 0) {
        return rc;
    }
    struct agreement_row a;
    if ((rc = load_agreement(w, agreement_id, &a)) != 0) {
        return end(w, rc);
    }
    struct rules_agreement ra = {
        .parties_details = a.text[0],
        .facts_and_liability = a.text[1],
        .rights_obligations = a.text[2],
        .performance_method = a.text[3],
        .performance_place = a.text[4],
        .performance_deadline = a.text[5],
        .signed_at = a.signed_ ? "signed" : NULL,
    };
    enum rules_agreement_item missing[RULES_AGR_COUNT];
    size_t n = 0;
    rc = rules_agreement_sign_check(&ra, missing, &n);
    if (rc == RULES_E_LOCKED) {
        locked(w);
    } else if (rc == RULES_E_INCOMPLETE) {
        int zh = is_zh(w->lang);
        size_t used = (size_t)snprintf(w->why, sizeof w->why, "%s",
                                       zh ? "协议不完整，不能签署，缺少："
                                          : "incomplete, cannot be signed; missing: ");
        for (size_t i = 0; i < n && used < sizeof w->why; i++) {
            used += (size_t)snprintf(w->why + used, sizeof w->why - used, "%s%s",
                                     i ? (zh ? "；" : "; ") : "",
                                     rules_agreement_item_label(missing[i], w->lang));
        }
    }
    if (rc == 0) {
        const char *columns[] = {"parties_signed", "mediator_signed", "sealed", "signed_at"};
        struct sync_value values[] = {{.type = SYNC_INT, .i = 1},
                                      {.type = SYNC_INT, .i = 1},
                                      {.type = SYNC_INT, .i = 1},
                                      {.type = SYNC_TEXT, .s = w->now}};
        rc = replica_put(w->replica, "agreements", agreement_id, a.village, COUNT(columns), columns,
                         values, NULL);
        if (rc != 0) {
            engine_failed(w, rc);
        }
    }
    struct current c;
    if (rc == 0 && a.case_id[0] && (rc = load_case(w, a.case_id, &c)) == 0) {
        rc = add_event(w, c.village, a.case_id, "agreement", RULES_DATE_NONE, "调解协议已签署",
                       "signed", NULL);
        if (rc == 0 && c.status == RULES_STATUS_MEDIATING) {
            rc = change_status(w, a.case_id, &c, RULES_STATUS_AGREEMENT, "status", NULL, NULL);
        }
    }
    agreement_row_free(&a);
    return end(w, rc);
}

/* ---- case numbers ---- */

/* The highest sequence number of this device's numbers of year in the
 * ledger (0 when none). */
static int highest_seq(struct workflow *w, const char *village, int year, const char *code,
                       int *out)
{
    char pattern[64];
    snprintf(pattern, sizeof pattern, "%%%d%%调字第%s-%%", year, code);
    static const char sql[] = "SELECT case_no FROM cases WHERE village = ?1 AND case_no LIKE ?2";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(replica_db(w->replica), sql, -1, &st, NULL) != SQLITE_OK) {
        return SYNC_E_DB;
    }
    sqlite3_bind_text(st, 1, village, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, pattern, -1, SQLITE_STATIC);
    int step;
    *out = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct rules_case_no no;
        const unsigned char *t = sqlite3_column_text(st, 0);
        if (t && rules_case_no_parse((const char *)t, &no) == 0 && no.year == year &&
            !strcmp(no.device_code, code) && no.seq > *out) {
            *out = no.seq;
        }
    }
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? 0 : SYNC_E_DB;
}

int workflow_case_no(struct workflow *w, const char *village, const char *village_name,
                     const char *device_code, char *buf, size_t len)
{
    if (!w || !w->replica || !village || !buf || len == 0 || !rules_date_valid(w->today) ||
        !rules_device_code_valid(device_code)) {
        return RULES_E_ARG;
    }
    buf[0] = '\0';
    char short_name[RULES_VILLAGE_SHORT_MAX], key[96];
    int rc = rules_village_short(village_name && village_name[0] ? village_name : village,
                                 short_name, sizeof short_name);
    if (rc != 0) {
        return say(w, rc, "the village's name cannot go into a case number");
    }
    int year = w->today.year, seen = 0;
    snprintf(key, sizeof key, "ledger.case_seq.%s.%d", device_code, year);
    if ((rc = replica_begin(w->replica)) != 0) {
        return engine_failed(w, rc);
    }
    if ((rc = highest_seq(w, village, year, device_code, &seen)) != 0) {
        say(w, rc, "the ledger could not be read");
    }
    int64_t last = replica_meta_int(w->replica, key, 0);
    int64_t next = (last > seen ? last : seen) + 1;
    if (rc == 0 && next > RULES_SEQ_MAX) {
        rc = say(w, RULES_E_RANGE,
                 "this device has made %d case numbers this year, the most there "
                 "can be",
                 RULES_SEQ_MAX);
    }
    if (rc == 0) {
        rc = rules_case_no_format(year, short_name, device_code, (int)next, buf, len);
    }
    if (rc == 0) {
        rc = replica_set_meta_int(w->replica, key, next);
    }
    return end(w, rc);
}
