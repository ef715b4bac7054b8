/* SPDX-License-Identifier: MIT */
/*
 * view.c - the read side of the review pages (view.h): the table of all
 * cases, one case with its history, and the conflict queue, as cJSON
 * documents built from the store's SQLite file.
 *
 * A page of the table is two queries: the rowids of the page (the filters,
 * the sort and LIMIT/OFFSET, served by the indexes of
 * hub/migrations/0004_search.sql) and a COUNT of the same filters; then one
 * indexed look-up per row shown. The SQL is assembled from fixed fragments
 * chosen by which filters are set; every value, the search text included,
 * is a bound parameter. The rules' deadline of a case is computed by
 * case_due(), the same steps as casefile.c's settle(), both for the rows
 * shown and, as the SQL function view_overdue(), for the overdue filter.
 */
#include "view.h"

#include "delta.h"
#include "hlc.h"
#include "hub_error.h"
#include "replica.h"
#include "ledger_schema.h"
#include "rules.h"
#include "schema.h"
#include "store_int.h"
#include "sync_error.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The name under which the rules and today travel into view_overdue(). */
#define RULES_POINTER_TYPE "hamlet_view_rules"

/* Bytes of a page's SQL: the fixed fragments, at most VIEW_MAX_TERMS times
 * the longest term fragment. */
#define SQL_MAX 16384

/* Bytes of one trigram in an FTS5 query: three characters of at most four
 * bytes, each of which may be a doubled quote, the quotes and " OR ". */
#define TRIGRAM_QUERY_MAX (3 * 4 * 2 + 2 + 4)

/* Statuses that end the handling here (rules_status_is_open() is 0 for
 * them): a case in one of these has no deadline, so the overdue filter
 * skips it without computing one. Only exact tokens are listed; anything
 * else is left to the rules. */
#define CLOSED_STATUSES "('concluded', 'closed', 'archived', 'referred', 'not_accepted')"

/* Parameters of the page's query. Terms take TERM_PARAM and up. */
enum {
    P_VILLAGE = 1,
    P_CATEGORY,
    P_KIND,
    P_STATUS,
    P_STATUS_ALIAS,
    P_SEVERITY,
    P_LEVEL,
    P_RULES,
    P_LIMIT,
    P_OFFSET,
    TERM_PARAM = 20,    /* a word's phrase or LIKE pattern */
    CASE_TRIGRAMS = 40, /* a short word's trigrams, for case_text */
    NOTE_TRIGRAMS = 60, /* the same for event_text */
};

static void say(char *why, size_t why_len, const char *fmt, ...)
{
    if (!why || why_len == 0) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, why_len, fmt, ap);
    va_end(ap);
}

/* ---- the rules' deadline of a case ---- */

/* What view_overdue() needs besides the row: the rules and today. */
struct due_ctx {
    const struct rules_config *config;
    struct rules_date today;
};

static struct rules_date date_of(const char *text)
{
    struct rules_date d = RULES_DATE_NONE;
    if (text) {
        (void)rules_date_parse(text, &d);
    }
    return d;
}

/* The deadline that governs a case now, from its own columns: the same
 * steps, in the same order, as settle() in ledger/casefile.c, so that the
 * table and the overdue list (CASEFILE_OVERDUE) never disagree. */
static struct rules_date case_due(const struct rules_config *config, const char *kind_text,
                                  const char *status_text, const char *created_at,
                                  const char *accepted_on, const char *deadline_text,
                                  int extension_days)
{
    enum rules_kind kind = RULES_KIND_NONE;
    enum rules_status status = RULES_STATUS_NONE;
    struct rules_date received = RULES_DATE_NONE;
    if (kind_text) {
        (void)rules_kind_parse(kind_text, &kind);
    }
    if (status_text) {
        (void)rules_status_parse(status_text, &status);
    }
    if (created_at) {
        (void)rules_date_of_rfc3339(created_at, &received);
    }
    struct rules_date accepted = date_of(accepted_on);
    struct rules_date deadline = date_of(deadline_text);
    struct rules_petition_deadlines petition;
    memset(&petition, 0, sizeof petition);
    struct rules_date start = received;
    if (rules_date_valid(accepted) && rules_date_cmp(accepted, start) < 0) {
        start = accepted;
    }
    if (kind == RULES_KIND_PETITION && rules_date_valid(start) &&
        rules_petition_deadlines(start, accepted, config, &petition) == 0 && extension_days > 0) {
        struct rules_date extended;
        if (rules_date_add_days(petition.conclude_due, extension_days, &extended) == 0) {
            petition.conclude_due = extended;
            petition.extension_days = extension_days;
        }
    }
    return rules_case_due(kind, status, kind == RULES_KIND_PETITION ? &petition : NULL, deadline);
}

static int is_overdue(struct rules_date due, struct rules_date today, int warn_days)
{
    return rules_deadline_state(due, today, warn_days, NULL) == RULES_DUE_OVERDUE;
}

/* view_overdue(kind, status, created_at, accepted_on, deadline,
 * extension_days, rules): 1 when the case is overdue today. */
static void sql_overdue(sqlite3_context *sc, int argc, sqlite3_value **argv)
{
    const struct due_ctx *ctx = sqlite3_value_pointer(argv[argc - 1], RULES_POINTER_TYPE);
    if (!ctx) {
        sqlite3_result_error(sc, "view_overdue: no rules", -1);
        return;
    }
    struct rules_date due = case_due(
        ctx->config, (const char *)sqlite3_value_text(argv[0]),
        (const char *)sqlite3_value_text(argv[1]), (const char *)sqlite3_value_text(argv[2]),
        (const char *)sqlite3_value_text(argv[3]), (const char *)sqlite3_value_text(argv[4]),
        sqlite3_value_int(argv[5]));
    sqlite3_result_int(sc, is_overdue(due, ctx->today, ctx->config->warn_days));
}

/* Register view_overdue() on the store's connection, once. */
static int register_functions(struct store *s)
{
    sqlite3_stmt *probe = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT view_overdue(NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
                           -1, &probe, NULL) == SQLITE_OK) {
        sqlite3_finalize(probe);
        return 0;
    }
    return sqlite3_create_function_v2(s->db, "view_overdue", 7, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                      NULL, sql_overdue, NULL, NULL, NULL) == SQLITE_OK
               ? 0
               : HUB_E_DB;
}

static struct rules_date hub_today(struct store *s)
{
    struct rules_date today = RULES_DATE_NONE;
    (void)rules_today(store_now(s), &today);
    return today;
}

/* ---- JSON helpers: each records a failure in *failed ---- */

static void add_text(cJSON *obj, const char *key, const char *text, int *failed)
{
    if (!(text ? cJSON_AddStringToObject(obj, key, text) : cJSON_AddNullToObject(obj, key))) {
        *failed = 1;
    }
}

/* Integers of the ledger and of the clocks stay far below 2^53, so a cJSON
 * number holds them exactly, and callers read them as numbers. */
static void add_int(cJSON *obj, const char *key, int64_t value, int *failed)
{
    if (!cJSON_AddNumberToObject(obj, key, (double)value)) {
        *failed = 1;
    }
}

static void add_bool(cJSON *obj, const char *key, int value, int *failed)
{
    if (!cJSON_AddBoolToObject(obj, key, value)) {
        *failed = 1;
    }
}

/* A column's value as JSON: number, string or null. */
static cJSON *column_json(sqlite3_stmt *st, int col)
{
    switch (sqlite3_column_type(st, col)) {
    case SQLITE_INTEGER:
        return cJSON_CreateNumber((double)sqlite3_column_int64(st, col));
    case SQLITE_FLOAT:
        return cJSON_CreateNumber(sqlite3_column_double(st, col));
    case SQLITE_NULL:
        return cJSON_CreateNull();
    default:
        return cJSON_CreateString((const char *)sqlite3_column_text(st, col));
    }
}

static void add_column(cJSON *obj, const char *key, sqlite3_stmt *st, int col, int *failed)
{
    cJSON *v = column_json(st, col);
    if (!v || !cJSON_AddItemToObject(obj, key, v)) {
        cJSON_Delete(v);
        *failed = 1;
    }
}

static void add_date(cJSON *obj, const char *key, struct rules_date d, int *failed)
{
    char text[RULES_DATE_LEN + 1];
    add_text(obj, key, rules_date_valid(d) && rules_date_format(d, text) == 0 ? text : NULL,
             failed);
}

static const char *col_text(sqlite3_stmt *st, int col)
{
    return (const char *)sqlite3_column_text(st, col);
}

/* The masked form of a personal number, as the ledger's masked export
 * writes it; "" when it does not fit (never a partial number). */
static void mask_number(const char *column, const char *value, char *out, size_t out_len)
{
    int rc = !strcmp(column, "phone") ? rules_mask_phone(value, out, out_len)
                                      : rules_mask_id_no(value, out, out_len);
    if (rc != 0) {
        out[0] = '\0';
    }
}

/* 1 when column of table holds a personal number shown masked. */
static int is_personal(const char *table, const char *column)
{
    return !strcmp(table, "contacts") && (!strcmp(column, "phone") || !strcmp(column, "id_no"));
}

/* ---- validating a filter ---- */

/* A village code or token: 1..VIEW_MAX_TOKEN bytes of UTF-8 without
 * control characters. */
static int token_ok(const char *text)
{
    size_t len = strlen(text);
    if (len == 0 || len > VIEW_MAX_TOKEN || !delta_utf8_valid(text, len)) {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c < 0x20 || c == 0x7f) {
            return 0;
        }
    }
    return 1;
}

/* A category token as rules.h defines one: a-z, 0-9, _, starting with a
 * letter, shorter than RULES_NAME_MAX. */
static int category_token_ok(const char *text)
{
    size_t len = strlen(text);
    if (len == 0 || len >= RULES_NAME_MAX || text[0] < 'a' || text[0] > 'z') {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
            return 0;
        }
    }
    return 1;
}

static const char *const sort_names[] = {"received", "case_no", "village", "status",
                                         "deadline", "updated", "level"};

/* The leading sort key of each sort, before the tie-breakers. */
static const char *const sort_keys[] = {
    NULL, "c.case_no", "c.village", "c.status", "c.deadline", "c.updated_at", "c.level",
};

#define NSORTS (sizeof sort_names / sizeof sort_names[0])

/* One word of the search: the FTS5 phrase or the LIKE pattern to bind. */
struct term {
    int fts;      /* 1: 3 characters or more, the trigram index answers */
    int caseless; /* 1: 1-2 characters of U+3000..U+9FFF only (no letter folds to
                     them): a text the trigrams find holds the word as written */
    int scan;     /* 1: 1-2 characters in more than VIEW_MAX_TRIGRAMS trigrams:
                     LIKE over all text */
    char text[2 * VIEW_MAX_QUERY + 8];
    char *case_trigrams, *note_trigrams; /* a short word's trigrams in case_text and
                                            event_text, as an FTS5 OR query; NULL:
                                            none. Owned (plan_free()). */
};

/* A filter checked and turned into the values the SQL binds. */
struct plan {
    const char *village, *category, *kind, *status, *status_alias;
    int severity, level, overdue, conflict;
    size_t sort;
    int desc;
    int page, per;
    size_t nterms;
    struct term terms[VIEW_MAX_TERMS];
};

/* Characters of UTF-8 text (valid, checked before). */
static size_t utf8_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    }
    return n;
}

/* Length of the separator (ASCII white space or U+3000) at s, or 0. */
static size_t separator_at(const char *s)
{
    if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
        return 1;
    }
    return strncmp(s, "\xe3\x80\x80", 3) == 0 ? 3 : 0;
}

/* One word as an FTS5 phrase ("..." with " doubled: nothing in it is
 * query syntax) or a LIKE pattern (%...% with %, _ and \ escaped by \). */
static void make_term(const char *word, size_t len, struct term *t)
{
    size_t o = 0;
    t->fts = utf8_chars(word, len) >= 3;
    t->text[o++] = t->fts ? '"' : '%';
    for (size_t i = 0; i < len; i++) {
        char c = word[i];
        if (t->fts && c == '"') {
            t->text[o++] = '"';
        } else if (!t->fts && (c == '%' || c == '_' || c == '\\')) {
            t->text[o++] = '\\';
        }
        t->text[o++] = c;
    }
    t->text[o++] = t->fts ? '"' : '%';
    t->text[o] = '\0';
}

/* 1 when every character of the word is in U+3000..U+9FFF (CJK symbols,
 * kana, ideographs): three bytes, the first E3..E9. */
static int caseless_word(const char *word, size_t len)
{
    const unsigned char *w = (const unsigned char *)word;
    for (size_t i = 0; i < len; i += 3) {
        if (len - i < 3 || w[i] < 0xe3 || w[i] > 0xe9) {
            return 0;
        }
    }
    return 1;
}

static int split_query(const char *q, struct plan *p, char *why, size_t why_len)
{
    size_t len = strlen(q);
    if (len > VIEW_MAX_QUERY) {
        say(why, why_len, "the search text is %zu bytes long; at most %d are allowed", len,
            VIEW_MAX_QUERY);
        return HUB_E_ARG;
    }
    if (!delta_utf8_valid(q, len)) {
        say(why, why_len, "the search text is not valid UTF-8");
        return HUB_E_ARG;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)q[i];
        if ((c < 0x20 && !separator_at(q + i)) || c == 0x7f) {
            say(why, why_len, "the search text holds a control character");
            return HUB_E_ARG;
        }
    }
    size_t i = 0;
    while (i < len) {
        size_t sep;
        while (i < len && (sep = separator_at(q + i)) > 0) {
            i += sep;
        }
        size_t start = i;
        while (i < len && separator_at(q + i) == 0) {
            i++;
        }
        if (i == start) {
            break;
        }
        if (p->nterms == VIEW_MAX_TERMS) {
            say(why, why_len, "the search text has more than %d words", VIEW_MAX_TERMS);
            return HUB_E_ARG;
        }
        p->terms[p->nterms].caseless = caseless_word(q + start, i - start);
        make_term(q + start, i - start, &p->terms[p->nterms++]);
    }
    return 0;
}

static int check_filter(const struct view_filter *f, const struct rules_config *rules,
                        struct plan *p, char *why, size_t why_len)
{
    memset(p, 0, sizeof *p);
    if (f->village) {
        if (!token_ok(f->village)) {
            say(why, why_len, "village: \"%.64s\" is not a village code", f->village);
            return HUB_E_ARG;
        }
        p->village = f->village;
    }
    if (f->category) {
        int i = token_ok(f->category) ? rules_category_find(rules, f->category) : -1;
        if (i >= 0) {
            p->category = rules->categories[i].name;
        } else if (category_token_ok(f->category)) {
            p->category = f->category; /* a category no longer listed may be on old cases */
        } else {
            say(why, why_len, "category: \"%.64s\" is not a category", f->category);
            return HUB_E_ARG;
        }
    }
    if (f->kind) {
        enum rules_kind kind;
        if (!token_ok(f->kind) || rules_kind_parse(f->kind, &kind) != 0) {
            say(why, why_len, "kind: \"%.64s\" is not one of dispute, petition, screening",
                f->kind);
            return HUB_E_ARG;
        }
        p->kind = rules_kind_name(kind);
    }
    if (f->status) {
        enum rules_status status;
        if (!token_ok(f->status) || rules_status_parse(f->status, &status) != 0) {
            say(why, why_len, "status: \"%.64s\" is not a status of the ledger", f->status);
            return HUB_E_ARG;
        }
        p->status = rules_status_name(status);
        p->status_alias = status == RULES_STATUS_CONCLUDED ? "closed" : p->status;
    }
    if (f->severity < 0 || f->severity > RULES_SEVERITY_MAX) {
        say(why, why_len, "class: %d is not 1 to %d", f->severity, RULES_SEVERITY_MAX);
        return HUB_E_ARG;
    }
    if (f->level < 0 || f->level > RULES_LEVEL_MAX) {
        say(why, why_len, "level: %d is not 1 to %d", f->level, RULES_LEVEL_MAX);
        return HUB_E_ARG;
    }
    if ((f->overdue != 0 && f->overdue != 1) || (f->conflict != 0 && f->conflict != 1) ||
        (f->desc != 0 && f->desc != 1)) {
        say(why, why_len, "overdue, conflict and desc are 0 or 1");
        return HUB_E_ARG;
    }
    p->severity = f->severity;
    p->level = f->level;
    p->overdue = f->overdue;
    p->conflict = f->conflict;
    p->desc = f->desc;
    p->sort = 0;
    if (f->sort && f->sort[0]) {
        for (p->sort = 0; p->sort < NSORTS && strcmp(f->sort, sort_names[p->sort]) != 0;
             p->sort++) {
        }
        if (p->sort == NSORTS) {
            say(why, why_len,
                "sort: \"%.64s\" is not one of received, case_no, village, status, deadline,"
                " updated, level",
                f->sort);
            return HUB_E_ARG;
        }
    }
    if (f->page < 0 || f->page > VIEW_MAX_PAGE) {
        say(why, why_len, "page: %d is not 1 to %d", f->page, VIEW_MAX_PAGE);
        return HUB_E_ARG;
    }
    if (f->per < 0 || f->per > VIEW_MAX_PER) {
        say(why, why_len, "per: %d is not 1 to %d", f->per, VIEW_MAX_PER);
        return HUB_E_ARG;
    }
    p->page = f->page ? f->page : 1;
    p->per = f->per ? f->per : VIEW_DEFAULT_PER;
    return f->q ? split_query(f->q, p, why, why_len) : 0;
}

/* ---- the table of cases ---- */

/* Append to sql, which holds SQL_MAX bytes; HUB_E_STATE if it would not fit. */
static int append(char *sql, size_t *used, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(sql + *used, SQL_MAX - *used, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= SQL_MAX - *used) {
        return HUB_E_STATE;
    }
    *used += (size_t)n;
    return 0;
}

/* The condition for a word of 1 or 2 characters, from the trigrams that
 * contain it (find_trigrams()): a case whose text or one of whose notes
 * holds one of them, checked with LIKE unless the word is caseless (then
 * every text the index finds holds it as written); and a case whose title,
 * facts, claims or a note is itself 1 or 2 characters long and holds the
 * word (no trigram there), from the partial indexes cases_short_text and
 * events_short_note, whose conditions are repeated word for word. Notes
 * are asked in the two ways of where_sql(). */
static int short_word_sql(const struct term *t, int i, int for_count, char *sql, size_t *used)
{
    int n = TERM_PARAM + i;
    int rc = append(sql, used, " AND (");
    if (rc == 0 && t->case_trigrams) {
        rc = append(sql, used,
                    " +c.rowid IN (SELECT rowid FROM case_text WHERE case_text MATCH ?%d)",
                    CASE_TRIGRAMS + i);
    }
    if (rc == 0 && t->case_trigrams && !t->caseless) {
        rc = append(sql, used,
                    " AND (c.title LIKE ?%d ESCAPE '\\' OR c.facts LIKE ?%d ESCAPE '\\'"
                    " OR c.claims LIKE ?%d ESCAPE '\\')",
                    n, n, n);
    }
    if (rc == 0) {
        rc = append(sql, used,
                    "%s +c.rowid IN (SELECT x.rowid FROM cases x WHERE (length(title) BETWEEN"
                    " 1 AND 2 OR length(facts) BETWEEN 1 AND 2 OR length(claims) BETWEEN 1 AND 2)"
                    " AND (x.title LIKE ?%d ESCAPE '\\' OR x.facts LIKE ?%d ESCAPE '\\'"
                    " OR x.claims LIKE ?%d ESCAPE '\\'))",
                    t->case_trigrams ? " OR" : "", n, n, n);
    }
    if (rc == 0 && for_count) {
        rc = append(sql, used,
                    " OR +c.id IN (SELECT e.case_id FROM events e WHERE length(note) BETWEEN 1"
                    " AND 2 AND e.note LIKE ?%d ESCAPE '\\'",
                    n);
    } else if (rc == 0) {
        rc = append(sql, used,
                    " OR EXISTS (SELECT 1 FROM events e WHERE e.case_id = c.id AND length(note)"
                    " BETWEEN 1 AND 2 AND e.note LIKE ?%d ESCAPE '\\')",
                    n);
    }
    if (rc == 0 && t->note_trigrams) {
        rc = append(sql, used,
                    for_count ? " UNION ALL SELECT e.case_id FROM events e WHERE e.rowid IN"
                                " (SELECT rowid FROM event_text WHERE event_text MATCH ?%d)"
                              : " OR EXISTS (SELECT 1 FROM events e WHERE e.case_id = c.id AND"
                                " e.rowid IN (SELECT rowid FROM event_text WHERE event_text"
                                " MATCH ?%d)",
                    NOTE_TRIGRAMS + i);
    }
    if (rc == 0 && t->note_trigrams && !t->caseless) {
        rc = append(sql, used, " AND e.note LIKE ?%d ESCAPE '\\'", n);
    }
    if (rc == 0) {
        rc = append(sql, used, for_count || t->note_trigrams ? "))" : ")");
    }
    return rc;
}

/* FROM and WHERE of the page (for_count 0) and of its count (1). A word
 * of the search is found in the case's text by the trigram index of
 * case_text; in its events' notes by that of event_text, asked in two
 * ways that give the same rows: the page, which stops at its last row,
 * probes each case's events (events_case) against the matching events;
 * the count, which must see every case, collects the cases of the
 * matching events once. The unary + keeps SQLite from reading every
 * matching case row to test it, when the covering indexes of
 * 0004_search.sql answer the other filters. */
static int where_sql(const struct plan *p, int for_count, char *sql, size_t *used)
{
    int rc = append(sql, used, " FROM cases c WHERE c.deleted = 0");
    if (rc == 0 && p->village) {
        rc = append(sql, used, " AND c.village = ?%d", P_VILLAGE);
    }
    if (rc == 0 && p->category) {
        rc = append(sql, used, " AND c.category = ?%d", P_CATEGORY);
    }
    if (rc == 0 && p->kind) {
        rc = append(sql, used, " AND (c.kind = ?%d OR (?%d = 'dispute' AND c.kind IS NULL))",
                    P_KIND, P_KIND);
    }
    if (rc == 0 && p->status) {
        rc = append(sql, used, " AND c.status IN (?%d, ?%d)", P_STATUS, P_STATUS_ALIAS);
    }
    if (rc == 0 && p->severity) {
        rc = append(sql, used, " AND c.severity = ?%d", P_SEVERITY);
    }
    if (rc == 0 && p->level) {
        rc = append(sql, used, " AND c.level = ?%d", P_LEVEL);
    }
    if (rc == 0 && p->overdue) {
        rc = append(sql, used,
                    " AND c.status IS NOT NULL AND c.status NOT IN " CLOSED_STATUSES
                    " AND view_overdue(c.kind, c.status, c.created_at, c.accepted_on,"
                    " c.deadline, c.extension_days, ?%d)",
                    P_RULES);
    }
    if (rc == 0 && p->conflict) {
        rc = append(sql, used,
                    " AND c.id IN (SELECT cc.case_id FROM conflict_cases cc"
                    " WHERE cc.resolved_ms IS NULL)");
    }
    /* Words of one or two characters in too many trigrams: without a
     * filter that picks a share of the cases, the cases matching all of
     * them are found by one pass over the table and one over the events,
     * in the order they are stored (read in an index's order, the same
     * text costs several times as much); with such a filter, each case it
     * leaves is tested. */
    int selective =
        p->village || p->category || p->status || p->level || p->severity || p->conflict;
    int scanned = 0;
    for (size_t i = 0; rc == 0 && i < p->nterms; i++) {
        int n = TERM_PARAM + (int)i;
        if (!p->terms[i].fts && !p->terms[i].scan) {
            rc = short_word_sql(&p->terms[i], (int)i, for_count, sql, used);
        } else if (p->terms[i].fts && for_count) {
            rc = append(sql, used,
                        " AND (+c.rowid IN (SELECT rowid FROM case_text WHERE case_text MATCH ?%d)"
                        " OR +c.id IN (SELECT e.case_id FROM event_text t JOIN events e"
                        " ON e.rowid = t.rowid WHERE event_text MATCH ?%d))",
                        n, n);
        } else if (p->terms[i].fts) {
            rc = append(sql, used,
                        " AND (+c.rowid IN (SELECT rowid FROM case_text WHERE case_text MATCH ?%d)"
                        " OR EXISTS (SELECT 1 FROM events e WHERE e.case_id = c.id AND e.rowid IN"
                        " (SELECT rowid FROM event_text WHERE event_text MATCH ?%d)))",
                        n, n);
        } else if (selective) { /* a word in too many trigrams */
            rc = append(sql, used,
                        " AND (c.title LIKE ?%d ESCAPE '\\' OR c.facts LIKE ?%d ESCAPE '\\'"
                        " OR c.claims LIKE ?%d ESCAPE '\\' OR EXISTS (SELECT 1 FROM events e"
                        " WHERE e.case_id = c.id AND e.note LIKE ?%d ESCAPE '\\'))",
                        n, n, n, n);
        }
    }
    for (size_t i = 0; rc == 0 && !selective && i < p->nterms; i++) {
        int n = TERM_PARAM + (int)i;
        if (!p->terms[i].fts && p->terms[i].scan) {
            rc = append(sql, used,
                        "%s (x.title LIKE ?%d ESCAPE '\\' OR x.facts LIKE ?%d ESCAPE '\\'"
                        " OR x.claims LIKE ?%d ESCAPE '\\' OR x.id IN (SELECT e.case_id FROM"
                        " events e NOT INDEXED WHERE e.note LIKE ?%d ESCAPE '\\'))",
                        scanned++ ? " AND"
                                  : " AND +c.rowid IN (SELECT x.rowid FROM cases x"
                                    " NOT INDEXED WHERE",
                        n, n, n, n);
        }
    }
    if (rc == 0 && scanned) {
        rc = append(sql, used, ")");
    }
    return rc;
}

/* The trigrams of one table (case_trigrams, note_trigrams) that contain
 * the LIKE pattern, as an FTS5 query: "abc" OR "bcd" ..., quotes doubled.
 * *query is the caller's (free()); NULL when no trigram contains it.
 * Returns 0; 1 when more than VIEW_MAX_TRIGRAMS do (*query NULL);
 * HUB_E_NOMEM; HUB_E_DB. */
static int trigrams_query(struct store *s, const char *sql, const char *pattern, char **query)
{
    sqlite3_stmt *st = NULL;
    size_t used = 0, count = 0;
    int step;
    char *q = malloc(VIEW_MAX_TRIGRAMS * TRIGRAM_QUERY_MAX + 1);
    int rc = q ? store_prepare(s, sql, &st) : HUB_E_NOMEM;
    *query = NULL;
    if (rc != 0) {
        goto fail;
    }
    sqlite3_bind_text(st, 1, pattern, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, VIEW_MAX_TRIGRAMS + 1);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *term = (const char *)sqlite3_column_text(st, 0);
        size_t len = (size_t)sqlite3_column_bytes(st, 0);
        if (++count > VIEW_MAX_TRIGRAMS) {
            rc = 1;
            goto fail;
        }
        if (!term || len > (size_t)3 * 4) {
            continue; /* not three characters of text: cannot happen */
        }
        if (used) {
            memcpy(q + used, " OR ", 4);
            used += 4;
        }
        q[used++] = '"';
        for (size_t i = 0; i < len; i++) {
            if (term[i] == '"') {
                q[used++] = '"';
            }
            q[used++] = term[i];
        }
        q[used++] = '"';
    }
    if (step != SQLITE_DONE) {
        rc = HUB_E_DB;
        goto fail;
    }
    sqlite3_finalize(st);
    q[used] = '\0';
    if (used == 0) {
        free(q);
        q = NULL;
    }
    *query = q;
    return 0;

fail:
    sqlite3_finalize(st);
    free(q);
    return rc;
}

/* For each word of 1 or 2 characters, the trigrams of the cases' text and
 * of the notes that contain it (hub/migrations/0006_short_words.sql); a
 * word in more than VIEW_MAX_TRIGRAMS of either is left to the scan. */
static int find_trigrams(struct store *s, struct plan *p)
{
    static const char case_sql[] =
        "SELECT term FROM case_trigrams WHERE term LIKE ?1 ESCAPE '\\' LIMIT ?2";
    static const char note_sql[] =
        "SELECT term FROM note_trigrams WHERE term LIKE ?1 ESCAPE '\\' LIMIT ?2";
    int rc = 0;
    for (size_t i = 0; rc >= 0 && i < p->nterms; i++) {
        struct term *t = &p->terms[i];
        if (t->fts) {
            continue;
        }
        rc = trigrams_query(s, case_sql, t->text, &t->case_trigrams);
        if (rc == 0) {
            rc = trigrams_query(s, note_sql, t->text, &t->note_trigrams);
        }
        if (rc == 1) {
            t->scan = 1;
            rc = 0;
        }
    }
    return rc;
}

/* Free what find_trigrams() gave the plan. */
static void plan_free(struct plan *p)
{
    for (size_t i = 0; i < p->nterms; i++) {
        free(p->terms[i].case_trigrams);
        free(p->terms[i].note_trigrams);
        p->terms[i].case_trigrams = p->terms[i].note_trigrams = NULL;
    }
}

static int order_sql(const struct plan *p, char *sql, size_t *used)
{
    const char *dir = p->desc ? "DESC" : "ASC";
    int rc = append(sql, used, " ORDER BY ");
    if (rc == 0 && sort_keys[p->sort] && !strcmp(sort_names[p->sort], "deadline")) {
        /* Cases without a deadline come last, whichever the direction (the
         * index cases_by_deadline serves the ascending order). */
        rc = append(sql, used, "(c.deadline IS NULL), c.deadline %s, ", dir);
    } else if (rc == 0 && sort_keys[p->sort]) {
        rc = append(sql, used, "%s %s, ", sort_keys[p->sort], dir);
    }
    if (rc == 0) {
        rc = append(sql, used, "c.created_at %s, c.id %s", dir, dir);
    }
    return rc;
}

static void bind_plan(sqlite3_stmt *st, const struct plan *p, const struct due_ctx *due)
{
    if (p->village) {
        sqlite3_bind_text(st, P_VILLAGE, p->village, -1, SQLITE_STATIC);
    }
    if (p->category) {
        sqlite3_bind_text(st, P_CATEGORY, p->category, -1, SQLITE_STATIC);
    }
    if (p->kind) {
        sqlite3_bind_text(st, P_KIND, p->kind, -1, SQLITE_STATIC);
    }
    if (p->status) {
        sqlite3_bind_text(st, P_STATUS, p->status, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, P_STATUS_ALIAS, p->status_alias, -1, SQLITE_STATIC);
    }
    if (p->severity) {
        sqlite3_bind_int(st, P_SEVERITY, p->severity);
    }
    if (p->level) {
        sqlite3_bind_int(st, P_LEVEL, p->level);
    }
    if (p->overdue) {
        sqlite3_bind_pointer(st, P_RULES, (void *)due, RULES_POINTER_TYPE, NULL);
    }
    for (size_t i = 0; i < p->nterms; i++) {
        const struct term *t = &p->terms[i];
        sqlite3_bind_text(st, TERM_PARAM + (int)i, t->text, -1, SQLITE_STATIC);
        if (t->case_trigrams) {
            sqlite3_bind_text(st, CASE_TRIGRAMS + (int)i, t->case_trigrams, -1, SQLITE_STATIC);
        }
        if (t->note_trigrams) {
            sqlite3_bind_text(st, NOTE_TRIGRAMS + (int)i, t->note_trigrams, -1, SQLITE_STATIC);
        }
    }
}

static const char row_sql[] =
    "SELECT c.id, c.village, coalesce(v.name, c.village), c.case_no, c.title, c.kind, c.channel,"
    " c.category, c.severity, c.status, c.level, c.created_at, c.accepted_on, c.deadline,"
    " c.updated_at, c.extension_days,"
    " (SELECT count(DISTINCT cc.conflict_id) FROM conflict_cases cc"
    "  WHERE cc.case_id = c.id AND cc.resolved_ms IS NULL)"
    " FROM cases c LEFT JOIN villages v ON v.code = c.village WHERE c.rowid = ?1";

enum {
    R_ID,
    R_VILLAGE,
    R_VILLAGE_NAME,
    R_CASE_NO,
    R_TITLE,
    R_KIND,
    R_CHANNEL,
    R_CATEGORY,
    R_SEVERITY,
    R_STATUS,
    R_LEVEL,
    R_CREATED_AT,
    R_ACCEPTED_ON,
    R_DEADLINE,
    R_UPDATED_AT,
    R_EXTENSION_DAYS,
    R_CONFLICTS,
};

/* One row of the table, from row_sql. */
static cJSON *case_row(sqlite3_stmt *st, const struct due_ctx *due)
{
    cJSON *obj = cJSON_CreateObject();
    int failed = obj == NULL;
    if (failed) {
        return NULL;
    }
    struct rules_date d =
        case_due(due->config, col_text(st, R_KIND), col_text(st, R_STATUS),
                 col_text(st, R_CREATED_AT), col_text(st, R_ACCEPTED_ON), col_text(st, R_DEADLINE),
                 sqlite3_column_int(st, R_EXTENSION_DAYS));
    add_column(obj, "id", st, R_ID, &failed);
    add_column(obj, "village", st, R_VILLAGE, &failed);
    add_column(obj, "village_name", st, R_VILLAGE_NAME, &failed);
    add_column(obj, "case_no", st, R_CASE_NO, &failed);
    add_column(obj, "title", st, R_TITLE, &failed);
    add_column(obj, "kind", st, R_KIND, &failed);
    add_column(obj, "channel", st, R_CHANNEL, &failed);
    add_column(obj, "category", st, R_CATEGORY, &failed);
    add_column(obj, "severity", st, R_SEVERITY, &failed);
    add_column(obj, "status", st, R_STATUS, &failed);
    add_column(obj, "level", st, R_LEVEL, &failed);
    add_column(obj, "created_at", st, R_CREATED_AT, &failed);
    add_column(obj, "accepted_on", st, R_ACCEPTED_ON, &failed);
    add_date(obj, "due_on", d, &failed);
    add_column(obj, "deadline", st, R_DEADLINE, &failed);
    add_bool(obj, "overdue", is_overdue(d, due->today, due->config->warn_days), &failed);
    add_int(obj, "conflicts", sqlite3_column_int64(st, R_CONFLICTS), &failed);
    add_column(obj, "updated_at", st, R_UPDATED_AT, &failed);
    if (failed) {
        cJSON_Delete(obj);
        return NULL;
    }
    return obj;
}

/* The page's rows, the count, and the rows' details; under the lock. */
static int cases_locked(struct store *s, struct plan *p, const struct due_ctx *due, cJSON *list,
                        int64_t *total)
{
    char sql[SQL_MAX];
    size_t used = 0;
    sqlite3_stmt *page = NULL, *count = NULL, *row = NULL;
    int64_t rowids[VIEW_MAX_PER];
    size_t n = 0;
    /* One read snapshot for the trigrams, the count and the page. */
    int in_tx = sqlite3_get_autocommit(s->db) &&
                sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
    int rc = register_functions(s);
    if (rc == 0) {
        rc = find_trigrams(s, p);
    }
    if (rc == 0) {
        rc = append(sql, &used, "SELECT c.rowid");
    }
    if (rc == 0) {
        rc = where_sql(p, 0, sql, &used);
    }
    if (rc == 0) {
        rc = order_sql(p, sql, &used);
    }
    if (rc == 0) {
        rc = append(sql, &used, " LIMIT ?%d OFFSET ?%d", P_LIMIT, P_OFFSET);
    }
    if (rc == 0) {
        rc = store_prepare(s, sql, &page);
    }
    used = 0;
    if (rc == 0) {
        rc = append(sql, &used, "SELECT count(*)");
    }
    if (rc == 0) {
        rc = where_sql(p, 1, sql, &used);
    }
    if (rc == 0) {
        rc = store_prepare(s, sql, &count);
    }
    if (rc == 0) {
        rc = store_prepare(s, row_sql, &row);
    }
    if (rc == 0) {
        bind_plan(page, p, due);
        sqlite3_bind_int(page, P_LIMIT, p->per);
        sqlite3_bind_int64(page, P_OFFSET, (int64_t)(p->page - 1) * p->per);
        int step;
        while ((step = sqlite3_step(page)) == SQLITE_ROW && n < VIEW_MAX_PER) {
            rowids[n++] = sqlite3_column_int64(page, 0);
        }
        rc = step == SQLITE_DONE || step == SQLITE_ROW ? 0 : HUB_E_DB;
    }
    if (rc == 0) {
        bind_plan(count, p, due);
        rc = sqlite3_step(count) == SQLITE_ROW ? 0 : HUB_E_DB;
        *total = rc == 0 ? sqlite3_column_int64(count, 0) : 0;
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        sqlite3_reset(row);
        sqlite3_bind_int64(row, 1, rowids[i]);
        int step = sqlite3_step(row);
        if (step == SQLITE_DONE) {
            continue; /* cannot happen inside the snapshot */
        }
        cJSON *obj = step == SQLITE_ROW ? case_row(row, due) : NULL;
        if (step != SQLITE_ROW) {
            rc = HUB_E_DB;
        } else if (!obj || !cJSON_AddItemToArray(list, obj)) {
            cJSON_Delete(obj);
            rc = HUB_E_NOMEM;
        }
    }
    if (in_tx) {
        sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    }
    sqlite3_finalize(page);
    sqlite3_finalize(count);
    sqlite3_finalize(row);
    plan_free(p);
    return rc;
}

int view_cases(struct store *s, const struct rules_config *rules, const struct view_filter *f,
               cJSON **out, char *why, size_t why_len)
{
    struct rules_config defaults;
    struct plan p;
    if (!s || !f || !out) {
        say(why, why_len, "no store, filter or output");
        return HUB_E_ARG;
    }
    *out = NULL;
    if (!rules) {
        rules_config_default(&defaults);
        rules = &defaults;
    }
    int rc = check_filter(f, rules, &p, why, why_len);
    if (rc != 0) {
        return rc;
    }
    cJSON *doc = cJSON_CreateObject();
    cJSON *list = cJSON_CreateArray();
    if (!doc || !list) {
        cJSON_Delete(doc);
        cJSON_Delete(list);
        return HUB_E_NOMEM;
    }
    int64_t total = 0;
    store_lock(s);
    struct due_ctx due = {rules, hub_today(s)};
    rc = cases_locked(s, &p, &due, list, &total);
    store_unlock(s);
    int failed = 0;
    if (rc == 0) {
        add_int(doc, "total", total, &failed);
        add_int(doc, "page", p.page, &failed);
        add_int(doc, "per", p.per, &failed);
        if (!cJSON_AddItemToObject(doc, "cases", list)) {
            failed = 1;
        } else {
            list = NULL;
        }
        rc = failed ? HUB_E_NOMEM : 0;
    }
    cJSON_Delete(list);
    if (rc != 0) {
        cJSON_Delete(doc);
        if (rc == HUB_E_DB) {
            say(why, why_len, "the hub's database failed: %s", sqlite3_errmsg(s->db));
        }
        return rc;
    }
    *out = doc;
    return 0;
}

/* ---- conflicts ---- */

/* The conflicts store_conflict_list() gave, kept for the JSON. */
struct conflict_set {
    struct store_conflict *items;
    size_t n, cap;
    const int64_t *only; /* when not NULL: keep only these ids (sorted) */
    size_t nonly;
    int truncated;
    int failed;
};

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int collect_conflict(void *ctx, const struct store_conflict *c)
{
    struct conflict_set *set = ctx;
    if (set->only && !bsearch(&c->id, set->only, set->nonly, sizeof *set->only, cmp_id)) {
        return 0;
    }
    if (set->n == VIEW_MAX_CONFLICT) {
        set->truncated = 1;
        return 1; /* stop: the queue shows the oldest VIEW_MAX_CONFLICT */
    }
    if (set->n == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 16;
        struct store_conflict *grown = realloc(set->items, cap * sizeof *grown);
        if (!grown) {
            set->failed = 1;
            return 1;
        }
        set->items = grown;
        set->cap = cap;
    }
    set->items[set->n++] = *c;
    return 0;
}

/* A device's id and label for the JSON: "hub" for the hub's own writes. */
static void device_label(sqlite3_stmt *label_st, const char *device, char *label, size_t len)
{
    snprintf(label, len, "%s", device[0] ? "" : "hub");
    if (!device[0]) {
        return;
    }
    sqlite3_reset(label_st);
    sqlite3_bind_text(label_st, 1, device, -1, SQLITE_STATIC);
    if (sqlite3_step(label_st) == SQLITE_ROW) {
        store_copy_text(label, len, label_st, 0);
    }
}

/* A conflict's value as the JSON shows it: personal numbers masked. */
static void conflict_value(const struct store_conflict *c, const char *value, int reveal, char *out,
                           size_t out_len)
{
    if (!reveal && is_personal(c->table, c->column) && strcmp(value, "(empty)") != 0) {
        mask_number(c->column, value, out, out_len);
    } else {
        snprintf(out, out_len, "%s", value);
    }
}

/* The entries of a conflict list, with each conflict's case and the
 * devices' labels read under the lock. case_id, when given, is the case of
 * every entry (view_case(), with its case_no and title); otherwise each
 * conflict's own case is read. */
static int conflicts_json(struct store *s, const struct conflict_set *set, int reveal,
                          const char *case_id, const char *case_no, const char *title, cJSON *list)
{
    sqlite3_stmt *case_st = NULL, *label_st = NULL;
    store_lock(s);
    int rc = store_prepare(s,
                           "SELECT c.id, c.case_no, c.title FROM cases c WHERE c.id ="
                           " (SELECT cc.case_id FROM conflict_cases cc WHERE cc.conflict_id = ?1"
                           " ORDER BY cc.case_id LIMIT 1)",
                           &case_st);
    if (rc == 0) {
        rc = store_prepare(s, "SELECT coalesce(label, '') FROM devices WHERE id = ?1", &label_st);
    }
    for (size_t i = 0; rc == 0 && i < set->n; i++) {
        const struct store_conflict *c = &set->items[i];
        char standing[sizeof c->standing], incoming[sizeof c->incoming];
        char standing_label[128], incoming_label[128];
        cJSON *obj = cJSON_CreateObject();
        int failed = obj == NULL || !cJSON_AddItemToArray(list, obj);
        if (failed) {
            cJSON_Delete(obj);
            rc = HUB_E_NOMEM;
            break;
        }
        conflict_value(c, c->standing, reveal, standing, sizeof standing);
        conflict_value(c, c->incoming, reveal, incoming, sizeof incoming);
        device_label(label_st, c->standing_device, standing_label, sizeof standing_label);
        device_label(label_st, c->incoming_device, incoming_label, sizeof incoming_label);
        add_int(obj, "id", c->id, &failed);
        add_text(obj, "table", c->table, &failed);
        add_text(obj, "row_id", c->row_id, &failed);
        add_text(obj, "column", c->column, &failed);
        add_text(obj, "village", c->village, &failed);
        if (case_id) {
            add_text(obj, "case_id", case_id, &failed);
            add_text(obj, "case_no", case_no, &failed);
            add_text(obj, "title", title, &failed);
        } else {
            sqlite3_reset(case_st);
            sqlite3_bind_int64(case_st, 1, c->id);
            int found = sqlite3_step(case_st) == SQLITE_ROW;
            add_text(obj, "case_id", found ? col_text(case_st, 0) : NULL, &failed);
            add_text(obj, "case_no", found ? col_text(case_st, 1) : NULL, &failed);
            add_text(obj, "title", found ? col_text(case_st, 2) : NULL, &failed);
        }
        add_text(obj, "standing", standing, &failed);
        add_text(obj, "incoming", incoming, &failed);
        add_text(obj, "standing_device", c->standing_device[0] ? c->standing_device : "hub",
                 &failed);
        add_text(obj, "incoming_device", c->incoming_device[0] ? c->incoming_device : "hub",
                 &failed);
        add_text(obj, "standing_label", standing_label, &failed);
        add_text(obj, "incoming_label", incoming_label, &failed);
        add_text(obj, "winner", c->winner, &failed);
        add_int(obj, "created_ms", c->created_ms, &failed);
        if (c->resolved_ms) {
            add_int(obj, "resolved_ms", c->resolved_ms, &failed);
            add_text(obj, "resolution", c->resolution, &failed);
        } else {
            add_text(obj, "resolved_ms", NULL, &failed);
            add_text(obj, "resolution", NULL, &failed);
        }
        rc = failed ? HUB_E_NOMEM : 0;
    }
    sqlite3_finalize(case_st);
    sqlite3_finalize(label_st);
    store_unlock(s);
    return rc;
}

int view_conflicts(struct store *s, const char *village, int open_only, cJSON **out)
{
    if (!s || !out || (village && !token_ok(village))) {
        return HUB_E_ARG;
    }
    *out = NULL;
    struct conflict_set set;
    memset(&set, 0, sizeof set);
    int rc = store_conflict_list(s, village, open_only ? 1 : 0, collect_conflict, &set);
    if (rc == 1) {
        rc = set.failed ? HUB_E_NOMEM : 0; /* stopped by collect_conflict() */
    }
    cJSON *doc = rc == 0 ? cJSON_CreateObject() : NULL;
    cJSON *list = doc ? cJSON_AddArrayToObject(doc, "conflicts") : NULL;
    if (rc == 0 && !list) {
        rc = HUB_E_NOMEM;
    }
    if (rc == 0) {
        rc = conflicts_json(s, &set, 0, NULL, NULL, NULL, list);
    }
    if (rc == 0 && !cJSON_AddBoolToObject(doc, "truncated", set.truncated)) {
        rc = HUB_E_NOMEM;
    }
    free(set.items);
    if (rc != 0) {
        cJSON_Delete(doc);
        return rc;
    }
    *out = doc;
    return 0;
}

/* ---- one case ---- */

/* A case id: a UUID in canonical lower-case text. */
static int uuid_text_ok(const char *id)
{
    if (!id || strlen(id) != UUID7_STRLEN) {
        return 0;
    }
    for (size_t i = 0; i < UUID7_STRLEN; i++) {
        char c = id[i];
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return 0;
        }
    }
    return 1;
}

static int column_index(sqlite3_stmt *st, const char *name)
{
    for (int i = 0; i < sqlite3_column_count(st); i++) {
        if (!strcmp(sqlite3_column_name(st, i), name)) {
            return i;
        }
    }
    return -1;
}

static const char *named_text(sqlite3_stmt *st, const char *name)
{
    int i = column_index(st, name);
    return i < 0 ? NULL : col_text(st, i);
}

/* Every column of the current row into obj, but the engine's own (hl_...:
 * a record's stamps and history). */
static void add_all_columns(cJSON *obj, sqlite3_stmt *st, int *failed)
{
    for (int i = 0; i < sqlite3_column_count(st); i++) {
        const char *name = sqlite3_column_name(st, i);
        if (strncmp(name, "hl_", 3) != 0) {
            add_column(obj, name, st, i, failed);
        }
    }
}

/* What view_case() reads under the lock. */
struct case_doc {
    const char *id;
    int reveal;
    const struct due_ctx *due;
    cJSON *doc;
    char village[DELTA_MAX_PART + 1];
    char case_no[RULES_CASE_NO_MAX];
    char title[512];
    int64_t *conflict_ids;
    size_t nconflicts;
    int history_truncated;
};

static int read_case(struct store *s, struct case_doc *cd)
{
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(s,
                           "SELECT c.*, coalesce(v.name, c.village) AS village_name FROM cases c"
                           " LEFT JOIN villages v ON v.code = c.village WHERE c.id = ?1",
                           &st);
    if (rc != 0) {
        return rc;
    }
    sqlite3_bind_text(st, 1, cd->id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step != SQLITE_ROW) {
        sqlite3_finalize(st);
        return step == SQLITE_DONE ? HUB_E_NOT_FOUND : HUB_E_DB;
    }
    int failed = 0;
    cJSON *obj = cJSON_AddObjectToObject(cd->doc, "case");
    if (!obj) {
        sqlite3_finalize(st);
        return HUB_E_NOMEM;
    }
    add_all_columns(obj, st, &failed);
    int ext = column_index(st, "extension_days");
    struct rules_date due =
        case_due(cd->due->config, named_text(st, "kind"), named_text(st, "status"),
                 named_text(st, "created_at"), named_text(st, "accepted_on"),
                 named_text(st, "deadline"), ext < 0 ? 0 : sqlite3_column_int(st, ext));
    add_date(obj, "due_on", due, &failed);
    add_bool(obj, "overdue", is_overdue(due, cd->due->today, cd->due->config->warn_days), &failed);
    add_bool(obj, "masked", !cd->reveal, &failed);
    const char *v = named_text(st, "village");
    snprintf(cd->village, sizeof cd->village, "%s", v ? v : "");
    v = named_text(st, "case_no");
    snprintf(cd->case_no, sizeof cd->case_no, "%s", v ? v : "");
    v = named_text(st, "title");
    snprintf(cd->title, sizeof cd->title, "%s", v ? v : "");
    sqlite3_finalize(st);
    return failed ? HUB_E_NOMEM : 0;
}

/* Adds one row of a list of the case to obj; sets *failed when memory
 * runs out. */
typedef void (*row_fn)(const struct case_doc *cd, sqlite3_stmt *st, cJSON *obj, int *failed);

/* The rows sql (?1: the case's id) selects, each made an object by add_row,
 * as the array name of the case's document. */
static int read_rows(struct store *s, struct case_doc *cd, const char *name, const char *sql,
                     row_fn add_row)
{
    sqlite3_stmt *st = NULL;
    cJSON *list = cJSON_AddArrayToObject(cd->doc, name);
    int rc = list ? store_prepare(s, sql, &st) : HUB_E_NOMEM;
    if (rc == 0) {
        sqlite3_bind_text(st, 1, cd->id, -1, SQLITE_STATIC);
    }
    int step = SQLITE_DONE;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *obj = cJSON_CreateObject();
        int failed = !obj || !cJSON_AddItemToArray(list, obj);
        if (failed) {
            cJSON_Delete(obj);
            rc = HUB_E_NOMEM;
            break;
        }
        add_row(cd, st, obj, &failed);
        rc = failed ? HUB_E_NOMEM : 0;
    }
    if (rc == 0 && step != SQLITE_DONE) {
        rc = HUB_E_DB;
    }
    sqlite3_finalize(st);
    return rc;
}

/* A party, its numbers masked unless the case is revealed. */
static void add_party(const struct case_doc *cd, sqlite3_stmt *st, cJSON *obj, int *failed)
{
    static const char *const names[] = {"id",   "role",  "position", "contact_id",
                                        "name", "phone", "id_no",    "address"};
    for (int i = 0; i < 8; i++) {
        const char *value = col_text(st, i);
        if ((i == 5 || i == 6) && value && !cd->reveal) {
            char masked[LEDGER_MAX_TEXT + 1];
            mask_number(names[i], value, masked, sizeof masked);
            add_text(obj, names[i], masked, failed);
        } else {
            add_column(obj, names[i], st, i, failed);
        }
    }
}

static void add_event(const struct case_doc *cd, sqlite3_stmt *st, cJSON *obj, int *failed)
{
    (void)cd;
    add_all_columns(obj, st, failed);
}

/* The column that holds each agreement item (rules_agreement_item order). */
static const char *const agreement_item_columns[RULES_AGR_COUNT] = {
    NULL,
    "parties_details",
    "facts_and_liability",
    "rights_obligations",
    "performance_method",
    "performance_place",
    "performance_deadline",
    "parties_signed",
    "mediator_signed",
    "sealed",
};

static int named_int(sqlite3_stmt *st, const char *name)
{
    int i = column_index(st, name);
    return i < 0 ? 0 : sqlite3_column_int(st, i);
}

/* An agreement, with what it misses and whether it is locked. */
static void add_agreement(const struct case_doc *cd, sqlite3_stmt *st, cJSON *obj, int *failed)
{
    (void)cd;
    add_all_columns(obj, st, failed);
    struct rules_agreement a = {
        .parties_details = named_text(st, "parties_details"),
        .facts_and_liability = named_text(st, "facts_and_liability"),
        .rights_obligations = named_text(st, "rights_obligations"),
        .performance_method = named_text(st, "performance_method"),
        .performance_place = named_text(st, "performance_place"),
        .performance_deadline = named_text(st, "performance_deadline"),
        .parties_signed = named_int(st, "parties_signed"),
        .mediator_signed = named_int(st, "mediator_signed"),
        .sealed = named_int(st, "sealed"),
        .signed_at = named_text(st, "signed_at"),
    };
    enum rules_agreement_item missing[RULES_AGR_COUNT];
    size_t nmissing = rules_agreement_missing(&a, missing);
    add_bool(obj, "complete", nmissing == 0, failed);
    cJSON *names = cJSON_AddArrayToObject(obj, "missing");
    cJSON *zh = cJSON_AddArrayToObject(obj, "missing_zh");
    cJSON *en = cJSON_AddArrayToObject(obj, "missing_en");
    *failed |= !names || !zh || !en;
    for (size_t i = 0; !*failed && i < nmissing; i++) {
        const char *column = missing[i] > RULES_AGR_NONE && missing[i] < RULES_AGR_COUNT
                                 ? agreement_item_columns[missing[i]]
                                 : NULL;
        const char *label_zh = rules_agreement_item_label(missing[i], "zh");
        const char *label_en = rules_agreement_item_label(missing[i], "en");
        *failed |= !cJSON_AddItemToArray(names, cJSON_CreateString(column ? column : "?"));
        *failed |= !cJSON_AddItemToArray(zh, cJSON_CreateString(label_zh ? label_zh : "?"));
        *failed |= !cJSON_AddItemToArray(en, cJSON_CreateString(label_en ? label_en : "?"));
    }
    add_bool(obj, "locked", !rules_agreement_edit_allowed(&a), failed);
}

static int read_parties(struct store *s, struct case_doc *cd)
{
    return read_rows(s, cd, "parties",
                     "SELECT p.id, p.role, p.position, p.contact_id, k.name, k.phone,"
                     " k.id_no, k.address FROM case_parties p"
                     " LEFT JOIN contacts k ON k.id = p.contact_id"
                     " WHERE p.case_id = ?1 AND p.deleted = 0"
                     " ORDER BY p.position, p.id",
                     add_party);
}

static int read_events(struct store *s, struct case_doc *cd)
{
    return read_rows(s, cd, "events",
                     "SELECT id, date, kind, note, detail, recorded_at FROM events"
                     " WHERE case_id = ?1 ORDER BY date, recorded_at, rowid",
                     add_event);
}

static int read_agreements(struct store *s, struct case_doc *cd)
{
    return read_rows(s, cd, "agreements",
                     "SELECT * FROM agreements WHERE case_id = ?1 AND deleted = 0 ORDER BY id",
                     add_agreement);
}

static int read_conflict_ids(struct store *s, struct case_doc *cd)
{
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(s,
                           "SELECT DISTINCT conflict_id FROM conflict_cases WHERE case_id = ?1"
                           " ORDER BY conflict_id LIMIT ?2",
                           &st);
    size_t cap = 0;
    if (rc == 0) {
        sqlite3_bind_text(st, 1, cd->id, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, VIEW_MAX_CONFLICT);
    }
    int step = SQLITE_DONE;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (cd->nconflicts == cap) {
            cap = cap ? cap * 2 : 8;
            int64_t *grown = realloc(cd->conflict_ids, cap * sizeof *grown);
            if (!grown) {
                rc = HUB_E_NOMEM;
                break;
            }
            cd->conflict_ids = grown;
        }
        cd->conflict_ids[cd->nconflicts++] = sqlite3_column_int64(st, 0);
    }
    if (rc == 0 && step != SQLITE_DONE) {
        rc = HUB_E_DB;
    }
    sqlite3_finalize(st);
    return rc;
}

/* ---- the history of a case ---- */

/* The value the hub holds for one field of one record, as the journal
 * walked so far has it. */
struct cell {
    char table[32];
    char row_id[UUID7_STRLEN + 1];
    char column[64];
    cJSON *value; /* owned */
    uint64_t hlc, node;
};

struct cells {
    struct cell *items;
    size_t n, cap;
};

static void cells_free(struct cells *cells)
{
    for (size_t i = 0; i < cells->n; i++) {
        cJSON_Delete(cells->items[i].value);
    }
    free(cells->items);
}

/* The cell of a field, made (without a value) when new; NULL when out of
 * memory. */
static struct cell *cell_get(struct cells *cells, const char *table, const char *row_id,
                             const char *column, int *fresh)
{
    for (size_t i = cells->n; i-- > 0;) {
        struct cell *c = &cells->items[i];
        if (!strcmp(c->column, column) && !strcmp(c->row_id, row_id) && !strcmp(c->table, table)) {
            *fresh = 0;
            return c;
        }
    }
    if (cells->n == cells->cap) {
        size_t cap = cells->cap ? cells->cap * 2 : 64;
        struct cell *grown = realloc(cells->items, cap * sizeof *grown);
        if (!grown) {
            return NULL;
        }
        cells->items = grown;
        cells->cap = cap;
    }
    struct cell *c = &cells->items[cells->n++];
    memset(c, 0, sizeof *c);
    snprintf(c->table, sizeof c->table, "%s", table);
    snprintf(c->row_id, sizeof c->row_id, "%s", row_id);
    snprintf(c->column, sizeof c->column, "%s", column);
    *fresh = 1;
    return c;
}

/* Whether a write stamped (hlc, node) takes the field from the value
 * standing: the newest stamp wins a last-writer-wins field, the oldest a
 * set-once one (PROTOCOL.md 4.2). */
static int write_wins(const struct cell *c, int fresh, enum schema_merge merge, uint64_t hlc,
                      uint64_t node)
{
    if (fresh) {
        return 1;
    }
    int newer = hlc != c->hlc ? hlc > c->hlc : node > c->node;
    return merge == SCHEMA_ONCE ? !newer && (hlc != c->hlc || node != c->node) : newer;
}

static enum schema_merge merge_of(const char *table, const char *column)
{
    const struct schema *schema = ledger_schema_get();
    int t = schema_table(schema, table);
    int c = t < 0 ? -1 : schema_column(&schema->tables[t], column);
    if (c < 0) {
        return SCHEMA_LWW; /* the tombstone, and anything not described */
    }
    return schema->tables[t].kind == SCHEMA_APPEND ? SCHEMA_ONCE
                                                   : schema->tables[t].columns[c].merge;
}

/* A value for the history, personal numbers masked unless reveal. */
static cJSON *history_value(const cJSON *value, const char *table, const char *column, int reveal)
{
    if (!value) {
        return cJSON_CreateNull();
    }
    if (!reveal && is_personal(table, column) && cJSON_IsString(value)) {
        char masked[LEDGER_MAX_TEXT + 1];
        mask_number(column, value->valuestring, masked, sizeof masked);
        return cJSON_CreateString(masked);
    }
    return cJSON_Duplicate(value, 1);
}

static const char *what_of(const char *table)
{
    static const char *const names[][2] = {{"cases", "case"},
                                           {"case_parties", "party"},
                                           {"contacts", "contact"},
                                           {"events", "event"},
                                           {"agreements", "agreement"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!strcmp(table, names[i][0])) {
            return names[i][1];
        }
    }
    return table;
}

/* One field of a change: its before (the cell) and after, then the cell
 * moves on if the write wins. */
static int history_field(struct cells *cells, cJSON *fields, const char *table, const char *row_id,
                         const char *column, const cJSON *after, uint64_t hlc, uint64_t node,
                         int reveal)
{
    int fresh = 0;
    struct cell *c = cell_get(cells, table, row_id, column, &fresh);
    if (!c) {
        return HUB_E_NOMEM;
    }
    cJSON *obj = cJSON_CreateObject();
    int failed = !obj || !cJSON_AddItemToArray(fields, obj);
    if (failed) {
        cJSON_Delete(obj);
        return HUB_E_NOMEM;
    }
    add_text(obj, "column", column, &failed);
    cJSON *before = history_value(c->value, table, column, reveal);
    cJSON *now = history_value(after, table, column, reveal);
    if (!before || !cJSON_AddItemToObject(obj, "before", before)) {
        cJSON_Delete(before);
        failed = 1;
    }
    if (!now || !cJSON_AddItemToObject(obj, "after", now)) {
        cJSON_Delete(now);
        failed = 1;
    }
    if (!failed && write_wins(c, fresh, merge_of(table, column), hlc, node)) {
        cJSON *copy = after ? cJSON_Duplicate(after, 1) : cJSON_CreateNull();
        if (!copy) {
            return HUB_E_NOMEM;
        }
        cJSON_Delete(c->value);
        c->value = copy;
        c->hlc = hlc;
        c->node = node;
    }
    return failed ? HUB_E_NOMEM : 0;
}

/* The records whose changes make a case's history: the case, its
 * parties and their contacts, its events and agreements. */
static const char history_records_sql[] =
    "SELECT 'cases', ?1"
    " UNION SELECT 'case_parties', id FROM case_parties WHERE case_id = ?1"
    " UNION SELECT 'contacts', contact_id FROM case_parties WHERE case_id = ?1"
    " UNION SELECT 'events', id FROM events WHERE case_id = ?1"
    " UNION SELECT 'agreements', id FROM agreements WHERE case_id = ?1";

/* One change of the history, as the journal gave it. */
struct history_item {
    int64_t pos, received_ms;
    uint64_t hlc, node;
    int op;
    char table[32];
    char row_id[UUID7_STRLEN + 1];
    char *body; /* the change as delta_change_json() writes it */
};

struct history_list {
    const struct schema *schema;
    struct history_item *items;
    size_t n, cap;
};

static int history_collect(void *ctx, const struct replica_history_entry *e)
{
    struct history_list *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 32;
        struct history_item *grown = realloc(l->items, cap * sizeof *grown);
        if (!grown) {
            return HUB_E_NOMEM;
        }
        l->items = grown;
        l->cap = cap;
    }
    const struct change *c = e->change;
    struct history_item *it = &l->items[l->n];
    memset(it, 0, sizeof *it);
    it->pos = e->pos;
    it->received_ms = e->received_ms;
    it->hlc = c->hlc;
    it->node = c->node;
    it->op = (int)c->op;
    snprintf(it->table, sizeof it->table, "%s", l->schema->tables[c->table].name);
    snprintf(it->row_id, sizeof it->row_id, "%s", c->id);
    if (delta_change_json(l->schema, c, &it->body) != 0) {
        return HUB_E_NOMEM;
    }
    l->n++;
    return 0;
}

static int history_cmp(const void *a, const void *b)
{
    const struct history_item *x = a, *y = b;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static void history_list_free(struct history_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].body);
    }
    free(l->items);
}

static int history_entry(const struct history_item *it, sqlite3_stmt *device, struct cells *cells,
                         cJSON *list, int reveal)
{
    static const char *const ops[] = {"?", "put", "append", "delete"};
    const char *table = it->table, *row_id = it->row_id;
    int op = it->op;
    uint64_t hlc = it->hlc, node = it->node;
    cJSON *obj = cJSON_CreateObject();
    int failed = !obj || !cJSON_AddItemToArray(list, obj);
    if (failed) {
        cJSON_Delete(obj);
        return HUB_E_NOMEM;
    }
    add_text(obj, "table", table, &failed);
    add_text(obj, "row_id", row_id, &failed);
    add_text(obj, "what", what_of(table), &failed);
    sqlite3_bind_int64(device, 1, (sqlite3_int64)node);
    if (sqlite3_step(device) == SQLITE_ROW) {
        add_column(obj, "device", device, 0, &failed);
        add_column(obj, "device_label", device, 1, &failed);
    } else {
        add_text(obj, "device", "hub", &failed);
        add_text(obj, "device_label", "hub", &failed);
    }
    sqlite3_reset(device);
    add_int(obj, "device_ms", HLC_MS(hlc), &failed);
    add_int(obj, "hub_ms", it->received_ms, &failed);
    add_text(obj, "op", op >= 1 && op <= 3 ? ops[op] : ops[0], &failed);
    cJSON *fields = cJSON_AddArrayToObject(obj, "fields");
    if (failed || !fields) {
        return HUB_E_NOMEM;
    }
    if (op == 3) {
        cJSON *one = cJSON_CreateNumber(1);
        int rc =
            one ? history_field(cells, fields, table, row_id, "deleted", one, hlc, node, reveal)
                : HUB_E_NOMEM;
        cJSON_Delete(one);
        return rc;
    }
    cJSON *body = cJSON_Parse(it->body);
    if (!body) {
        return HUB_E_NOMEM; /* the engine wrote the body */
    }
    const cJSON *set = cJSON_GetObjectItemCaseSensitive(body, "set");
    int rc = 0;
    const cJSON *field;
    cJSON_ArrayForEach(field, set)
    {
        if (rc == 0 && field->string) {
            rc = history_field(cells, fields, table, row_id, field->string, field, hlc, node,
                               reveal);
        }
    }
    cJSON_Delete(body);
    return rc;
}

static int read_history(struct store *s, struct case_doc *cd)
{
    sqlite3_stmt *st = NULL, *device = NULL;
    struct cells cells = {NULL, 0, 0};
    struct history_list l = {replica_schema(s->replica), NULL, 0, 0};
    cJSON *list = cJSON_AddArrayToObject(cd->doc, "history");
    int rc = list ? store_prepare(s, history_records_sql, &st) : HUB_E_NOMEM;
    if (rc == 0) {
        rc = store_prepare(s, "SELECT id, coalesce(label, '') FROM devices WHERE node = ?1",
                           &device);
    }
    if (rc == 0) {
        sqlite3_bind_text(st, 1, cd->id, -1, SQLITE_STATIC);
    }
    int step = SQLITE_DONE;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        int sync =
            replica_history(s->replica, col_text(st, 0), col_text(st, 1), history_collect, &l);
        rc = sync == 0 ? 0 : sync == HUB_E_NOMEM || sync == SYNC_E_NOMEM ? HUB_E_NOMEM : HUB_E_DB;
    }
    if (rc == 0 && step != SQLITE_DONE) {
        rc = HUB_E_DB;
    }
    if (l.n > 1) {
        qsort(l.items, l.n, sizeof *l.items, history_cmp);
    }
    for (size_t i = 0; rc == 0 && i < l.n; i++) {
        if (i == VIEW_MAX_HISTORY) {
            cd->history_truncated = 1;
            break;
        }
        rc = history_entry(&l.items[i], device, &cells, list, cd->reveal);
    }
    sqlite3_finalize(st);
    sqlite3_finalize(device);
    history_list_free(&l);
    cells_free(&cells);
    return rc;
}

int view_case(struct store *s, const struct rules_config *rules, const char *case_id, int reveal,
              cJSON **out, char *why, size_t why_len)
{
    struct rules_config defaults;
    if (!s || !out) {
        say(why, why_len, "no store or output");
        return HUB_E_ARG;
    }
    *out = NULL;
    if (!uuid_text_ok(case_id)) {
        say(why, why_len, "\"%.40s\" is not a case id (a UUID in lower case)",
            case_id ? case_id : "");
        return HUB_E_ARG;
    }
    if (!rules) {
        rules_config_default(&defaults);
        rules = &defaults;
    }
    struct case_doc cd;
    memset(&cd, 0, sizeof cd);
    cd.id = case_id;
    cd.reveal = reveal ? 1 : 0;
    cd.doc = cJSON_CreateObject();
    if (!cd.doc) {
        return HUB_E_NOMEM;
    }
    store_lock(s);
    struct due_ctx due = {rules, hub_today(s)};
    cd.due = &due;
    int in_tx = sqlite3_get_autocommit(s->db) &&
                sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
    int rc = read_case(s, &cd);
    if (rc == 0) {
        rc = read_parties(s, &cd);
    }
    if (rc == 0) {
        rc = read_events(s, &cd);
    }
    if (rc == 0) {
        rc = read_agreements(s, &cd);
    }
    if (rc == 0) {
        rc = read_conflict_ids(s, &cd);
    }
    if (rc == 0) {
        rc = read_history(s, &cd);
    }
    if (in_tx) {
        sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    }
    if (rc == HUB_E_DB) {
        say(why, why_len, "the hub's database failed: %s", sqlite3_errmsg(s->db));
    }
    store_unlock(s);
    /* The conflicts, in the queue's shape, read after the lock is let go:
     * store_conflict_list() takes it itself. */
    struct conflict_set set;
    memset(&set, 0, sizeof set);
    set.only = cd.conflict_ids;
    set.nonly = cd.nconflicts;
    cJSON *list = rc == 0 ? cJSON_CreateArray() : NULL;
    if (rc == 0 && !list) {
        rc = HUB_E_NOMEM;
    }
    if (rc == 0 && cd.nconflicts > 0) {
        rc = store_conflict_list(s, cd.village, 0, collect_conflict, &set);
        if (rc == 1) {
            rc = set.failed ? HUB_E_NOMEM : 0;
        }
        if (rc == 0) {
            rc = conflicts_json(s, &set, cd.reveal, cd.id, cd.case_no, cd.title, list);
        }
    }
    if (rc == 0) {
        /* Conflicts go before the history, as view.h lists them. */
        cJSON *history = cJSON_DetachItemFromObjectCaseSensitive(cd.doc, "history");
        if (!cJSON_AddItemToObject(cd.doc, "conflicts", list)) {
            cJSON_Delete(history);
            rc = HUB_E_NOMEM;
        } else {
            list = NULL;
            if (!cJSON_AddItemToObject(cd.doc, "history", history)) {
                cJSON_Delete(history);
                rc = HUB_E_NOMEM;
            } else if (!cJSON_AddBoolToObject(cd.doc, "history_truncated", cd.history_truncated)) {
                rc = HUB_E_NOMEM;
            }
        }
    }
    cJSON_Delete(list);
    free(set.items);
    free(cd.conflict_ids);
    if (rc == HUB_E_NOT_FOUND) {
        say(why, why_len, "no case %s at this hub", case_id);
    }
    if (rc != 0) {
        cJSON_Delete(cd.doc);
        return rc;
    }
    *out = cd.doc;
    return 0;
}
