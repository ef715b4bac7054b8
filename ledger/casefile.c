/* SPDX-License-Identifier: MIT */
/*
 * casefile.c - reading the ledger's cases into the rules' facts, and the
 * lists built on them (casefile.h). Three queries read everything: the
 * cases, one summary row of events per case, and the follow-up visits; the
 * agreements are counted per case. Cases are kept in order of id, so that
 * the summaries are matched by binary search.
 */
#include "casefile.h"

#include "replica.h"
#include "sync_error.h"

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Event kinds recorded after the work on a case is done, or about it
 * rather than in it: they never date its conclusion (RULES.md). */
#define AFTER_KINDS                                                                                \
    "('followup', 'reveal', 'opinion', 'deadline', 'result_notice', 'comment', 'level',"           \
    " 'mediator', 'correction', 'correction_reply')"

void casefile_free(struct casefile *cf)
{
    if (!cf) {
        return;
    }
    for (size_t i = 0; i < cf->n; i++) {
        struct casefile_case *c = &cf->cases[i];
        free(c->village);
        free(c->case_no);
        free(c->title);
        free(c->category);
        free(c->status_text);
        free(c->correction);
        free(c->correction_reply);
    }
    free(cf->cases);
    free(cf->facts);
    free(cf);
}

static int by_id(const void *key, const void *item)
{
    return strcmp(key, ((const struct casefile_case *)item)->id);
}

const struct casefile_case *casefile_find(const struct casefile *cf, const char *id)
{
    if (!cf || !id || cf->n == 0) {
        return NULL;
    }
    return bsearch(id, cf->cases, cf->n, sizeof cf->cases[0], by_id);
}

static size_t find_index(const struct casefile *cf, const unsigned char *id)
{
    const struct casefile_case *c = id ? casefile_find(cf, (const char *)id) : NULL;
    return c ? (size_t)(c - cf->cases) : cf->n;
}

/* A copy of a text column, or NULL; *failed set when out of memory. */
static char *text_dup(sqlite3_stmt *st, int col, int *failed)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    if (!t) {
        return NULL;
    }
    char *copy = strdup((const char *)t);
    *failed |= copy == NULL;
    return copy;
}

static struct rules_date date_col(sqlite3_stmt *st, int col)
{
    struct rules_date d = RULES_DATE_NONE;
    const unsigned char *t = sqlite3_column_text(st, col);
    if (t) {
        (void)rules_date_parse((const char *)t, &d);
    }
    return d;
}

static int prepare(sqlite3 *db, const char *sql, const char *village, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
        return SYNC_E_DB;
    }
    if (village) {
        sqlite3_bind_text(*st, 1, village, -1, SQLITE_STATIC);
    }
    return 0;
}

enum {
    K_ID,
    K_VILLAGE,
    K_CASE_NO,
    K_TITLE,
    K_CATEGORY,
    K_STATUS,
    K_KIND,
    K_CHANNEL,
    K_SEVERITY,
    K_LEVEL,
    K_CREATED_AT,
    K_UPDATED_AT,
    K_ACCEPTED_ON,
    K_CONCLUDED_ON,
    K_DEADLINE,
    K_EXTENSION_DAYS,
    K_RESULT_NOTICE_ON,
    K_OPINION,
    K_CORRECTION,
    K_CORRECTION_ON,
    K_CORRECTION_REPLY,
    K_CORRECTION_REPLY_ON,
};

static int read_cases(sqlite3 *db, const char *village, struct casefile *cf)
{
    static const char count_sql[] =
        "SELECT count(*) FROM cases WHERE deleted = 0 AND (?1 IS NULL OR village = ?1)";
    static const char sql[] =
        "SELECT id, village, case_no, title, category, status, kind, channel, severity, level,"
        " created_at, updated_at, accepted_on, concluded_on, deadline, extension_days,"
        " result_notice_on, opinion, nullif(correction, ''), correction_on,"
        " nullif(correction_reply, ''), correction_reply_on"
        " FROM cases WHERE deleted = 0 AND (?1 IS NULL OR village = ?1) ORDER BY id";
    sqlite3_stmt *st = NULL;
    int rc = prepare(db, count_sql, village, &st);
    size_t n = 0;
    if (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        n = (size_t)sqlite3_column_int64(st, 0);
    } else if (rc == 0) {
        rc = SYNC_E_DB;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc != 0) {
        return rc;
    }
    cf->cases = calloc(n ? n : 1, sizeof *cf->cases);
    cf->facts = calloc(n ? n : 1, sizeof *cf->facts);
    if (!cf->cases || !cf->facts) {
        return SYNC_E_NOMEM;
    }
    if ((rc = prepare(db, sql, village, &st)) != 0) {
        return rc;
    }
    int step = SQLITE_DONE, failed = 0;
    while (cf->n < n && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct casefile_case *c = &cf->cases[cf->n];
        struct rules_case_facts *f = &cf->facts[cf->n];
        const unsigned char *id = sqlite3_column_text(st, K_ID);
        if (!id || strlen((const char *)id) != UUID7_STRLEN) {
            continue;
        }
        memcpy(c->id, id, UUID7_STRLEN + 1);
        cf->n++;
        c->village = text_dup(st, K_VILLAGE, &failed);
        c->case_no = text_dup(st, K_CASE_NO, &failed);
        c->title = text_dup(st, K_TITLE, &failed);
        c->category = text_dup(st, K_CATEGORY, &failed);
        c->status_text = text_dup(st, K_STATUS, &failed);
        const unsigned char *t;
        if ((t = sqlite3_column_text(st, K_KIND))) {
            (void)rules_kind_parse((const char *)t, &c->kind);
        }
        if ((t = sqlite3_column_text(st, K_STATUS))) {
            (void)rules_status_parse((const char *)t, &c->status);
        }
        if ((t = sqlite3_column_text(st, K_CHANNEL))) {
            (void)rules_channel_parse((const char *)t, &f->channel);
        }
        if ((t = sqlite3_column_text(st, K_OPINION))) {
            (void)rules_opinion_parse((const char *)t, &f->opinion);
        }
        if ((t = sqlite3_column_text(st, K_CREATED_AT))) {
            (void)rules_date_of_rfc3339((const char *)t, &c->received);
        }
        int severity = sqlite3_column_int(st, K_SEVERITY);
        c->severity =
            severity >= RULES_SEVERITY_MIN && severity <= RULES_SEVERITY_MAX ? severity : 0;
        int level = sqlite3_column_int(st, K_LEVEL);
        c->level = level >= RULES_LEVEL_MIN && level <= RULES_LEVEL_MAX ? level : 0;
        c->accepted = date_col(st, K_ACCEPTED_ON);
        c->concluded = date_col(st, K_CONCLUDED_ON);
        c->deadline = date_col(st, K_DEADLINE);
        c->result_notice = date_col(st, K_RESULT_NOTICE_ON);
        c->extension_days = sqlite3_column_int(st, K_EXTENSION_DAYS);
        c->correction = text_dup(st, K_CORRECTION, &failed);
        c->correction_on = date_col(st, K_CORRECTION_ON);
        c->correction_reply = text_dup(st, K_CORRECTION_REPLY, &failed);
        c->correction_reply_on = date_col(st, K_CORRECTION_REPLY_ON);
        /* Dates are all the ledger has to order a request and its answer
         * made on different devices: an answer of the same day counts. */
        c->correction_answered = c->correction && c->correction_reply &&
                                 (!rules_date_valid(c->correction_on) ||
                                  (rules_date_valid(c->correction_reply_on) &&
                                   rules_date_cmp(c->correction_reply_on, c->correction_on) >= 0));
        /* Without a conclusion day, a concluded case is dated by its last
         * change here; the event pass below puts the day of its last work
         * event in its place when there is one (RULES.md). */
        if (!rules_date_valid(c->concluded) &&
            (c->status == RULES_STATUS_CONCLUDED || c->status == RULES_STATUS_ARCHIVED)) {
            if ((t = sqlite3_column_text(st, K_UPDATED_AT))) {
                (void)rules_date_of_rfc3339((const char *)t, &f->concluded);
            }
        } else {
            f->concluded = c->concluded;
        }
    }
    step = cf->n == n ? SQLITE_DONE : step;
    sqlite3_finalize(st);
    if (failed) {
        return SYNC_E_NOMEM;
    }
    return step == SQLITE_DONE ? 0 : SYNC_E_DB;
}

/* What the events say of each case. */
static int read_events(sqlite3 *db, const char *village, struct casefile *cf)
{
    static const char sql[] =
        "SELECT case_id,"
        " max(CASE WHEN kind NOT IN " AFTER_KINDS " THEN date END),"
        " max(kind IN ('session', 'agreement')"
        "     OR (kind = 'status' AND detail IN ('mediating', 'agreement', 'failed'))),"
        " max(kind = 'agreement' OR (kind = 'status' AND detail = 'agreement')),"
        " max(kind = 'status' AND detail = 'failed')"
        " FROM events WHERE (?1 IS NULL OR village = ?1) AND case_id IS NOT NULL"
        " GROUP BY case_id";
    sqlite3_stmt *st = NULL;
    int rc = prepare(db, sql, village, &st), step;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        size_t i = find_index(cf, sqlite3_column_text(st, 0));
        if (i == cf->n) {
            continue; /* an event of a deleted or unknown case */
        }
        struct casefile_case *c = &cf->cases[i];
        struct rules_case_facts *f = &cf->facts[i];
        struct rules_date last_work = date_col(st, 1);
        if (!rules_date_valid(c->concluded) &&
            (c->status == RULES_STATUS_CONCLUDED || c->status == RULES_STATUS_ARCHIVED) &&
            rules_date_valid(last_work)) {
            f->concluded = last_work;
        }
        f->mediated = sqlite3_column_int(st, 2);
        f->agreement_reached = sqlite3_column_int(st, 3);
        f->mediation_concluded = sqlite3_column_int(st, 4);
    }
    if (rc == 0 && step != SQLITE_DONE) {
        rc = SYNC_E_DB;
    }
    sqlite3_finalize(st);
    return rc;
}

/* The first follow-up visit on or after the conclusion day. */
static int read_followups(sqlite3 *db, const char *village, struct casefile *cf)
{
    static const char sql[] = "SELECT case_id, date FROM events"
                              " WHERE kind = 'followup' AND (?1 IS NULL OR village = ?1)"
                              " ORDER BY case_id, date";
    sqlite3_stmt *st = NULL;
    int rc = prepare(db, sql, village, &st), step;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        size_t i = find_index(cf, sqlite3_column_text(st, 0));
        if (i == cf->n) {
            continue;
        }
        struct rules_case_facts *f = &cf->facts[i];
        struct rules_date visit = date_col(st, 1);
        if (!rules_date_valid(f->followup_done) && rules_date_valid(f->concluded) &&
            rules_date_cmp(visit, f->concluded) >= 0) {
            f->followup_done = visit;
        }
    }
    if (rc == 0 && step != SQLITE_DONE) {
        rc = SYNC_E_DB;
    }
    sqlite3_finalize(st);
    return rc;
}

static int read_agreements(sqlite3 *db, const char *village, struct casefile *cf)
{
    static const char sql[] = "SELECT case_id, count(*), count(signed_at) FROM agreements"
                              " WHERE deleted = 0 AND (?1 IS NULL OR village = ?1)"
                              " GROUP BY case_id";
    sqlite3_stmt *st = NULL;
    int rc = prepare(db, sql, village, &st), step;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        size_t i = find_index(cf, sqlite3_column_text(st, 0));
        if (i == cf->n) {
            continue;
        }
        cf->cases[i].agreements = sqlite3_column_int(st, 1);
        cf->cases[i].agreements_signed = sqlite3_column_int(st, 2);
        cf->facts[i].agreement_reached = 1;
    }
    if (rc == 0 && step != SQLITE_DONE) {
        rc = SYNC_E_DB;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Deadlines, follow-ups and the rest of the facts, once everything is read. */
static void settle(struct casefile *cf, size_t i)
{
    struct casefile_case *c = &cf->cases[i];
    struct rules_case_facts *f = &cf->facts[i];
    const struct rules_config *config = &cf->config;
    f->village = c->village;
    f->kind = c->kind;
    f->category = c->category;
    f->status = c->status;
    f->severity = c->severity;
    f->received = c->received;
    /* The state says it too, for records that came without events. */
    if (c->status == RULES_STATUS_MEDIATING || c->status == RULES_STATUS_AGREEMENT ||
        c->status == RULES_STATUS_FAILED) {
        f->mediated = 1;
    }
    if (c->status == RULES_STATUS_AGREEMENT) {
        f->agreement_reached = 1;
    }
    if (c->status == RULES_STATUS_FAILED) {
        f->mediation_concluded = 1;
    }
    f->mediation_concluded |= f->agreement_reached;
    /* A paper petition entered late may have been accepted before the day
     * it was recorded: its periods run from the earlier day. */
    struct rules_date start = c->received;
    if (rules_date_valid(c->accepted) && rules_date_cmp(c->accepted, start) < 0) {
        start = c->accepted;
    }
    if (c->kind == RULES_KIND_PETITION && rules_date_valid(start) &&
        rules_petition_deadlines(start, c->accepted, config, &c->petition) == 0 &&
        c->extension_days > 0) {
        /* An extension longer than the township now allows still counts:
         * it was granted. */
        struct rules_date extended;
        if (rules_date_add_days(c->petition.conclude_due, c->extension_days, &extended) == 0) {
            c->petition.conclude_due = extended;
            c->petition.extension_days = c->extension_days;
        }
    }
    const struct rules_petition_deadlines *pd =
        c->kind == RULES_KIND_PETITION ? &c->petition : NULL;
    c->due = rules_case_due(c->kind, c->status, pd, c->deadline);
    c->due_state = rules_deadline_state(c->due, cf->today, config->warn_days, &c->due_days);
    /* The deadline the case had, open or not, for the figures' "overdue". */
    enum rules_status as_open = c->status;
    if (!rules_status_is_open(as_open)) {
        as_open = rules_date_valid(c->accepted) || c->status != RULES_STATUS_NOT_ACCEPTED
                      ? RULES_STATUS_ACCEPTED
                      : RULES_STATUS_REGISTERED;
    }
    f->due = rules_case_due(c->kind, as_open, pd, c->deadline);
    c->concluded = f->concluded;
    if (rules_date_valid(f->concluded) && c->severity &&
        rules_followup_due(f->concluded, c->severity, config, &c->followup_due) == 0) {
        c->followup_state = rules_followup_state(c->followup_due, f->followup_done, cf->today);
    }
}

int casefile_load(struct replica *replica, const char *village, const struct rules_config *config,
                  struct rules_date today, struct casefile **out)
{
    if (!out) {
        return RULES_E_ARG;
    }
    *out = NULL;
    if (!replica || !config || !rules_date_valid(today) || rules_config_check(config) != 0) {
        return RULES_E_ARG;
    }
    struct casefile *cf = calloc(1, sizeof *cf);
    if (!cf) {
        return SYNC_E_NOMEM;
    }
    cf->today = today;
    cf->config = *config;
    sqlite3 *db = replica_db(replica);
    /* One snapshot for the four reads. */
    int in_tx =
        sqlite3_get_autocommit(db) && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
    int rc = read_cases(db, village, cf);
    if (rc == 0) {
        rc = read_events(db, village, cf);
    }
    if (rc == 0) {
        rc = read_agreements(db, village, cf);
    }
    if (rc == 0) {
        rc = read_followups(db, village, cf);
    }
    if (in_tx) {
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    }
    for (size_t i = 0; rc == 0 && i < cf->n; i++) {
        settle(cf, i);
    }
    if (rc != 0) {
        casefile_free(cf);
        return rc;
    }
    *out = cf;
    return 0;
}

/* ---- lists ---- */

struct pick {
    size_t index;
    int64_t key; /* sort key: days from today of the date the list shows */
};

static int by_key(const void *a, const void *b)
{
    const struct pick *x = a, *y = b;
    if (x->key != y->key) {
        return x->key < y->key ? -1 : 1;
    }
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Whether case i belongs to the list, and its sort key. */
static int wanted(const struct casefile *cf, size_t i, enum casefile_list which, int days,
                  int64_t *key)
{
    const struct casefile_case *c = &cf->cases[i];
    switch (which) {
    case CASEFILE_OVERDUE:
        *key = -c->due_days; /* the most overdue first */
        return c->due_state == RULES_DUE_OVERDUE;
    case CASEFILE_DUE_SOON:
        *key = c->due_days;
        return (c->due_state == RULES_DUE_SOON || c->due_state == RULES_DUE_ON_TIME) &&
               c->due_days <= days;
    case CASEFILE_FOLLOWUPS:
        if (c->followup_state != RULES_FOLLOWUP_DUE &&
            c->followup_state != RULES_FOLLOWUP_OVERDUE) {
            return 0;
        }
        *key = rules_date_diff(cf->today, c->followup_due);
        return days < 0 || *key <= days;
    case CASEFILE_CORRECTIONS:
        /* The oldest request first; one without a day after the others. */
        *key = rules_date_valid(c->correction_on) ? rules_date_diff(cf->today, c->correction_on)
                                                  : INT64_MAX;
        return c->correction != NULL;
    }
    return 0;
}

int casefile_select(const struct casefile *cf, enum casefile_list which, const char *village,
                    int days, size_t **out, size_t *nout)
{
    if (!cf || !out || !nout || (unsigned)which > CASEFILE_CORRECTIONS ||
        (which == CASEFILE_DUE_SOON && days < 0)) {
        return RULES_E_ARG;
    }
    *out = NULL;
    *nout = 0;
    struct pick *picks = calloc(cf->n ? cf->n : 1, sizeof *picks);
    if (!picks) {
        return SYNC_E_NOMEM;
    }
    size_t n = 0;
    for (size_t i = 0; i < cf->n; i++) {
        int64_t key = 0;
        if (village && (!cf->cases[i].village || strcmp(cf->cases[i].village, village) != 0)) {
            continue;
        }
        if (wanted(cf, i, which, days, &key)) {
            picks[n++] = (struct pick){i, key};
        }
    }
    qsort(picks, n, sizeof *picks, by_key);
    size_t *list = n ? malloc(n * sizeof *list) : NULL;
    if (n && !list) {
        free(picks);
        return SYNC_E_NOMEM;
    }
    for (size_t k = 0; k < n; k++) {
        list[k] = picks[k].index;
    }
    free(picks);
    *out = list;
    *nout = n;
    return 0;
}

static int is_zh(const char *lang)
{
    return lang && lang[0] == 'z' && lang[1] == 'h';
}

/* The state and days a line of the list shows. */
static void line_state(const struct casefile *cf, const struct casefile_case *c,
                       enum casefile_list which, const char **state, struct rules_date *date,
                       int64_t *days)
{
    if (which == CASEFILE_FOLLOWUPS) {
        *state = c->followup_state == RULES_FOLLOWUP_OVERDUE ? "overdue" : "due";
        *date = c->followup_due;
        int64_t left = rules_date_diff(cf->today, c->followup_due);
        *days = left < 0 ? -left : left;
        return;
    }
    if (which == CASEFILE_CORRECTIONS) {
        *state = c->correction_answered ? "answered" : "asked";
        *date = c->correction_on;
        *days =
            rules_date_valid(c->correction_on) ? rules_date_diff(c->correction_on, cf->today) : 0;
        return;
    }
    *state = c->due_state == RULES_DUE_OVERDUE ? "overdue"
             : c->due_state == RULES_DUE_SOON  ? "due_soon"
                                               : "on_time";
    *date = c->due;
    *days = c->due_days;
}

/* A text member, or null. */
static int add_text(cJSON *obj, const char *key, const char *text)
{
    return (text ? cJSON_AddStringToObject(obj, key, text) : cJSON_AddNullToObject(obj, key)) ? 0
                                                                                              : -1;
}

/* A date member, or null when d is not set. */
static int add_day(cJSON *obj, const char *key, struct rules_date d)
{
    char day[RULES_DATE_LEN + 1];
    return add_text(obj, key, rules_date_format(d, day) == 0 ? day : NULL);
}

/* The township's request and the village's answer, on a line of the
 * corrections list. */
static int add_correction(cJSON *obj, const struct casefile_case *c)
{
    int failed = add_text(obj, "correction", c->correction) != 0;
    failed |= add_day(obj, "correction_on", c->correction_on) != 0;
    failed |= add_text(obj, "correction_reply", c->correction_reply) != 0;
    failed |= add_day(obj, "correction_reply_on", c->correction_reply_on) != 0;
    return failed ? SYNC_E_NOMEM : 0;
}

static int write_json(const struct casefile *cf, enum casefile_list which, const size_t *list,
                      size_t n, ledger_io_write_fn write, void *ctx)
{
    cJSON *array = cJSON_CreateArray();
    int rc = array ? 0 : SYNC_E_NOMEM;
    for (size_t k = 0; rc == 0 && k < n; k++) {
        const struct casefile_case *c = &cf->cases[list[k]];
        const char *state;
        struct rules_date date;
        int64_t days;
        char due[RULES_DATE_LEN + 1];
        line_state(cf, c, which, &state, &date, &days);
        (void)rules_date_format(date, due);
        cJSON *obj = cJSON_CreateObject();
        if (!obj || !cJSON_AddItemToArray(array, obj)) {
            cJSON_Delete(obj);
            rc = SYNC_E_NOMEM;
            break;
        }
        const char *status = c->status ? rules_status_name(c->status) : c->status_text;
        if (!cJSON_AddStringToObject(obj, "id", c->id) ||
            !(c->village ? cJSON_AddStringToObject(obj, "village", c->village)
                         : cJSON_AddNullToObject(obj, "village")) ||
            !(c->case_no ? cJSON_AddStringToObject(obj, "case_no", c->case_no)
                         : cJSON_AddNullToObject(obj, "case_no")) ||
            !(c->title ? cJSON_AddStringToObject(obj, "title", c->title)
                       : cJSON_AddNullToObject(obj, "title")) ||
            !(status ? cJSON_AddStringToObject(obj, "status", status)
                     : cJSON_AddNullToObject(obj, "status")) ||
            !cJSON_AddStringToObject(obj, "due", due) ||
            !cJSON_AddStringToObject(obj, "state", state) ||
            !cJSON_AddNumberToObject(obj, "days", (double)days)) {
            rc = SYNC_E_NOMEM;
        }
        if (rc == 0 && which == CASEFILE_CORRECTIONS) {
            rc = add_correction(obj, c);
        }
    }
    char *text = rc == 0 ? cJSON_Print(array) : NULL;
    if (rc == 0 && !text) {
        rc = SYNC_E_NOMEM;
    }
    if (rc == 0 && (rc = write(ctx, text, strlen(text))) == 0) {
        rc = write(ctx, "\n", 1);
    }
    cJSON_free(text);
    cJSON_Delete(array);
    return rc;
}

/* The lines of one case of the corrections list: the case, then the
 * township's request and the village's answer, each on its own line (they
 * are not cut: a request may be WORKFLOW_CORRECTION_MAX characters). */
static int correction_lines(const struct casefile_case *c, int64_t days, const char *asked_on,
                            const char *status, const char *village, int zh,
                            ledger_io_write_fn write, void *ctx)
{
    char when[64], reply_on[RULES_DATE_LEN + 1] = "";
    if (zh) {
        snprintf(when, sizeof when, days > 0 ? "%lld天前提出" : "今天提出", (long long)days);
    } else {
        snprintf(when, sizeof when, days > 0 ? "asked %lld days ago" : "asked today",
                 (long long)days);
    }
    if (rules_date_valid(c->correction_reply_on)) {
        (void)rules_date_format(c->correction_reply_on, reply_on);
    }
    const char *answer = c->correction_answered ? c->correction_reply : NULL;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (!out) {
        return SYNC_E_NOMEM;
    }
    fprintf(out, "%s  %s  %s %s  %s  %s%s%s\n", c->case_no ? c->case_no : c->id, when,
            zh ? "要求更正" : "asked on", asked_on[0] ? asked_on : "-", status ? status : "-",
            c->title ? c->title : "", village ? "" : "  ",
            village ? "" : (c->village ? c->village : ""));
    fprintf(out, "    %s%s\n", zh ? "镇里：" : "township: ", c->correction);
    if (answer) {
        fprintf(out, zh ? "    村里答复（%s）：%s\n" : "    answer (%s): %s\n", reply_on, answer);
    } else {
        fprintf(out, "    %s\n", zh ? "村里尚未答复" : "not answered yet");
    }
    int rc = fclose(out) == 0 && text ? write(ctx, text, len) : SYNC_E_NOMEM;
    free(text);
    return rc;
}

int casefile_write_list(const struct casefile *cf, enum casefile_list which, const char *village,
                        int days, int json, const char *lang, ledger_io_write_fn write, void *ctx)
{
    if (!write) {
        return RULES_E_ARG;
    }
    size_t *list = NULL, n = 0;
    int rc = casefile_select(cf, which, village, days, &list, &n);
    if (rc != 0) {
        return rc;
    }
    if (json) {
        rc = write_json(cf, which, list, n, write, ctx);
        free(list);
        return rc;
    }
    int zh = is_zh(lang);
    if (n == 0) {
        static const char *const none[][2] = {
            {"no case is overdue\n", "没有逾期的案件\n"},
            {"no deadline in the coming days\n", "近期没有到期的案件\n"},
            {"no follow-up visit is owed\n", "没有待回访的案件\n"},
            {"the township asks no correction\n", "没有镇里要求更正的案件\n"},
        };
        const char *text = none[which][zh];
        return write(ctx, text, strlen(text));
    }
    for (size_t k = 0; rc == 0 && k < n; k++) {
        const struct casefile_case *c = &cf->cases[list[k]];
        const char *state;
        struct rules_date date;
        int64_t d;
        char due[RULES_DATE_LEN + 1], when[64], line[2048];
        line_state(cf, c, which, &state, &date, &d);
        (void)rules_date_format(date, due);
        int late = !strcmp(state, "overdue");
        if (zh) {
            snprintf(when, sizeof when,
                     late     ? "逾期%lld天"
                     : d == 0 ? "今天到期"
                              : "还有%lld天",
                     (long long)d);
        } else {
            snprintf(when, sizeof when,
                     late     ? "%lld days overdue"
                     : d == 0 ? "due today"
                              : "%lld days left",
                     (long long)d);
        }
        const char *status =
            c->status ? rules_status_label(c->status, zh ? "zh" : "en") : c->status_text;
        if (which == CASEFILE_CORRECTIONS) {
            rc = correction_lines(c, d, due, status, village, zh, write, ctx);
            continue;
        }
        snprintf(
            line, sizeof line, "%s  %s  %s %s  %s  %s%s%s\n", c->case_no ? c->case_no : c->id, when,
            which == CASEFILE_FOLLOWUPS ? (zh ? "回访期限" : "visit by") : (zh ? "期限" : "due"),
            due, status ? status : "-", c->title ? c->title : "", village ? "" : "  ",
            village ? "" : (c->village ? c->village : ""));
        rc = write(ctx, line, strlen(line));
    }
    free(list);
    return rc;
}
