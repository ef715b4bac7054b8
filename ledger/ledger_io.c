/* SPDX-License-Identifier: MIT */
/*
 * ledger_io.c - cases in and out as JSON Lines, and out as CSV.
 *
 * An imported line is parsed and checked whole into a struct case_in that
 * borrows its strings from the cJSON tree; only then is it written, in one
 * transaction, through replica_put(), replica_append() and replica_delete(),
 * which record just the fields that change. Reads go through the replica's
 * connection, with statements prepared here and every value bound. The
 * exports read the tables in a fixed order and print with cJSON, integers as
 * exact text, so that equal data gives equal bytes on every replica. At the
 * end, the buffer in memory that any of the ledger's writers can fill.
 */
#include "ledger_io.h"

#include "delta.h"
#include "json_util.h"
#include "ledger_schema.h"
#include "replica.h"
#include "rules.h"
#include "schema.h"
#include "sync_error.h"
#include "uuid7.h"

#include <cjson/cJSON.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CASE_COLUMNS 32   /* the case fields and the mediator's two */
#define MAX_GENERATIONS  1000 /* derived ids tried for one place in a list */
#define PREFIX_LEN       32   /* "parties[123]." and the like */
#define PATH_MAX_LEN     64   /* a prefix and a member name */

static const char csv_bom[] = "\xEF\xBB\xBF";
static const char csv_header[] = "id,village,case_no,category,severity,status,title,parties,"
                                 "mediator,created_at,updated_at,events,last_event_date\r\n";
static const char name_separator[] = "、";

/* ---- small helpers ---- */

static int say(char *why, size_t why_len, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int say(char *why, size_t why_len, int code, const char *fmt, ...)
{
    if (why && why_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, why_len, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Copy an id read from the database; an absent or malformed one gives "". */
static void copy_id(char out[UUID7_STRLEN + 1], const unsigned char *text)
{
    out[0] = '\0';
    if (text && uuid7_valid((const char *)text)) {
        memcpy(out, text, UUID7_STRLEN + 1);
    }
}

/* 1 if a stored text (NULL for SQL NULL) equals a value to be written. */
static int stored_equal(const unsigned char *stored, const struct sync_value *v)
{
    if (v->type == SYNC_NULL) {
        return stored == NULL;
    }
    return stored && v->type == SYNC_TEXT && strcmp((const char *)stored, v->s) == 0;
}

/* The derived id of a party, contact or event without an id of its own:
 * uuid7_derive() of "<case id>/<what>/<index>" (with "/<generation>" after
 * it when generation > 0). That seed is also the derivation the record is
 * written under (into from), so that a sync need not carry the id itself. */
static int derive_id(const char *case_id, const char *what, size_t index, unsigned generation,
                     char out[UUID7_STRLEN + 1], char from[UUID7_FROMLEN + 1])
{
    char seed[128];
    int n = generation
                ? snprintf(seed, sizeof seed, "%s/%s/%zu/%u", case_id, what, index, generation)
                : snprintf(seed, sizeof seed, "%s/%s/%zu", case_id, what, index);
    if (n < 0 || (size_t)n >= sizeof seed) {
        return SYNC_E_ARG;
    }
    if (uuid7_from_valid(seed)) {
        memcpy(from, seed, (size_t)n + 1); /* n <= UUID7_FROMLEN: it is valid */
    } else {
        from[0] = '\0';
    }
    return uuid7_derive(seed, out);
}

/* 1 if s is a calendar date written YYYY-MM-DD. */
static int date_valid(const char *s)
{
    static const int days[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-') {
        return 0;
    }
    for (int i = 0; i < 10; i++) {
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) {
            return 0;
        }
    }
    int year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int month = (s[5] - '0') * 10 + (s[6] - '0');
    int day = (s[8] - '0') * 10 + (s[9] - '0');
    if (month < 1 || month > 12 || day < 1 || day > days[month - 1]) {
        return 0;
    }
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return !(month == 2 && day == 29 && !leap);
}

/* A growing output buffer; out-of-memory is remembered and reported once. */
struct sbuf {
    char *data;
    size_t len, cap;
    int failed;
};

static void sbuf_add(struct sbuf *b, const char *data, size_t len)
{
    if (b->failed) {
        return;
    }
    if (b->cap - b->len < len) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap - b->len < len) {
            if (cap > SIZE_MAX / 2) {
                b->failed = 1;
                return;
            }
            cap *= 2;
        }
        char *data_new = realloc(b->data, cap);
        if (!data_new) {
            b->failed = 1;
            return;
        }
        b->data = data_new;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

static void sbuf_str(struct sbuf *b, const char *text)
{
    sbuf_add(b, text, strlen(text));
}

/* ---- reading a line ---- */

/* How a member of the line becomes a column value. */
struct field_spec {
    const char *key;    /* the member of the JSON object */
    const char *column; /* the column it is stored in */
    enum sync_type type;
    int64_t min, max;   /* SYNC_INT: the values accepted */
    const char *expect; /* SYNC_INT: those values in words; SYNC_TEXT: "date" for YYYY-MM-DD */
};

#define DATE_FIELD(name)                                                                           \
    {                                                                                              \
        name, name, SYNC_TEXT, 0, 0, "date"                                                        \
    }

static const struct field_spec case_fields[] = {
    {"case_no", "case_no", SYNC_TEXT, 0, 0, NULL},
    {"kind", "kind", SYNC_TEXT, 0, 0, NULL},
    {"channel", "channel", SYNC_TEXT, 0, 0, NULL},
    {"category", "category", SYNC_TEXT, 0, 0, NULL},
    {"severity", "severity", SYNC_INT, 1, 3, "1, 2 or 3"},
    {"status", "status", SYNC_TEXT, 0, 0, NULL},
    {"level", "level", SYNC_INT, 1, 7, "an integer from 1 to 7"},
    {"title", "title", SYNC_TEXT, 0, 0, NULL},
    {"facts", "facts", SYNC_TEXT, 0, 0, NULL},
    {"claims", "claims", SYNC_TEXT, 0, 0, NULL},
    {"received_by", "received_by", SYNC_TEXT, 0, 0, NULL},
    {"outcome", "outcome", SYNC_TEXT, 0, 0, NULL},
    DATE_FIELD("accepted_on"),
    DATE_FIELD("concluded_on"),
    DATE_FIELD("deadline"),
    {"extension_days", "extension_days", SYNC_INT, 1, 365, "an integer from 1 to 365"},
    DATE_FIELD("result_notice_on"),
    {"opinion", "opinion", SYNC_TEXT, 0, 0, NULL},
    {"correction", "correction", SYNC_TEXT, 0, 0, NULL},
    DATE_FIELD("correction_on"),
    {"correction_reply", "correction_reply", SYNC_TEXT, 0, 0, NULL},
    DATE_FIELD("correction_reply_on"),
    {"created_at", "created_at", SYNC_TEXT, 0, 0, NULL},
    {"updated_at", "updated_at", SYNC_TEXT, 0, 0, NULL},
};

static const struct field_spec mediator_fields[] = {
    {"id", "mediator_id", SYNC_TEXT, 0, 0, NULL},
    {"name", "mediator_name", SYNC_TEXT, 0, 0, NULL},
};

static const struct field_spec contact_fields[] = {
    {"name", "name", SYNC_TEXT, 0, 0, NULL},
    {"phone", "phone", SYNC_TEXT, 0, 0, NULL},
    {"id_no", "id_no", SYNC_TEXT, 0, 0, NULL},
    {"address", "address", SYNC_TEXT, 0, 0, NULL},
};

static const struct field_spec text_field = {NULL, NULL, SYNC_TEXT, 0, 0, NULL};

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))
#define NCONTACT     COUNT(contact_fields)

struct party_in {
    const char *given_id; /* the object's own "id", or NULL */
    size_t ncontact;
    const char *contact_columns[NCONTACT];
    struct sync_value contact_values[NCONTACT];
    int has_role;
    struct sync_value role;
    char id[UUID7_STRLEN + 1]; /* the case_parties row, chosen when writing */
    char contact_id[UUID7_STRLEN + 1];
    char from[UUID7_FROMLEN + 1]; /* the derivations of both, if new: */
    char contact_from[UUID7_FROMLEN + 1];
};

/* What a write names a record by: its derivation when it has one. */
static const char *written_id(const char *id, const char *from)
{
    return from[0] ? from : id;
}

struct event_in {
    const char *given_id;
    struct sync_value date, kind, note, detail;
};

/* One case as read from a line; strings are borrowed from the cJSON tree. */
struct case_in {
    const char *id;
    const char *village;
    size_t ncolumns;
    const char *columns[MAX_CASE_COLUMNS];
    struct sync_value values[MAX_CASE_COLUMNS];
    int has_parties, has_events;
    size_t nparties, nevents;
    size_t masked; /* masked numbers left out (see drop_masked()) */
    struct party_in *parties;
    struct event_in *events;
};

static void case_in_free(struct case_in *c)
{
    free(c->parties);
    free(c->events);
}

/* Read item (not NULL), named path in messages, as the spec says. */
static int read_value(const cJSON *item, const char *path, const struct field_spec *spec,
                      size_t max_text, struct sync_value *out, char *why, size_t why_len)
{
    *out = (struct sync_value){.type = SYNC_NULL};
    if (cJSON_IsNull(item)) {
        return 0;
    }
    if (spec->type == SYNC_TEXT) {
        if (!cJSON_IsString(item)) {
            return say(why, why_len, SYNC_E_FIELD_TYPE, "%s: expected a string or null", path);
        }
        size_t len = strlen(item->valuestring);
        if (len > max_text) {
            return say(why, why_len, SYNC_E_JSON_STRING,
                       "%s: %zu bytes, longer than the %zu allowed", path, len, max_text);
        }
        if (spec->expect && !date_valid(item->valuestring)) {
            return say(why, why_len, SYNC_E_FIELD_TYPE, "%s: expected a date YYYY-MM-DD", path);
        }
        *out = (struct sync_value){.type = SYNC_TEXT, .s = item->valuestring};
        return 0;
    }
    double d = item->valuedouble;
    if (!cJSON_IsNumber(item) || !(d >= (double)spec->min && d <= (double)spec->max) ||
        d != (double)(int64_t)d) {
        return say(why, why_len, SYNC_E_FIELD_TYPE, "%s: expected %s", path, spec->expect);
    }
    *out = (struct sync_value){.type = SYNC_INT, .i = (int64_t)d};
    return 0;
}

/* Read the members of obj that specs name into columns and values,
 * counting them in *n; absent members are left out. */
static int read_fields(const cJSON *obj, const char *prefix, const struct field_spec *specs,
                       size_t nspecs, size_t max_text, const char **columns,
                       struct sync_value *values, size_t *n, char *why, size_t why_len)
{
    for (size_t i = 0; i < nspecs; i++) {
        const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, specs[i].key);
        if (!item) {
            continue;
        }
        char path[PATH_MAX_LEN];
        snprintf(path, sizeof path, "%s%s", prefix, specs[i].key);
        int rc = read_value(item, path, &specs[i], max_text, &values[*n], why, why_len);
        if (rc != 0) {
            return rc;
        }
        columns[(*n)++] = specs[i].column;
    }
    return 0;
}

/* The optional "id" of a party or an event: NULL when absent or null. */
static int read_given_id(const cJSON *obj, const char *prefix, const char **out, char *why,
                         size_t why_len)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, "id");
    *out = NULL;
    if (!item || cJSON_IsNull(item)) {
        return 0;
    }
    if (!cJSON_IsString(item) || !uuid7_valid(item->valuestring)) {
        return say(why, why_len, SYNC_E_FIELD_TYPE,
                   "%sid: expected a UUID in lower-case canonical form", prefix);
    }
    *out = item->valuestring;
    return 0;
}

static int read_mediator(const cJSON *root, size_t max_text, struct case_in *c, char *why,
                         size_t why_len)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, "mediator");
    if (!item) {
        return 0;
    }
    if (cJSON_IsNull(item)) {
        for (size_t i = 0; i < COUNT(mediator_fields); i++) {
            c->columns[c->ncolumns] = mediator_fields[i].column;
            c->values[c->ncolumns++] = (struct sync_value){.type = SYNC_NULL};
        }
        return 0;
    }
    if (!cJSON_IsObject(item)) {
        return say(why, why_len, SYNC_E_FIELD_TYPE,
                   "mediator: expected an object {\"id\", \"name\"} or null");
    }
    return read_fields(item, "mediator.", mediator_fields, COUNT(mediator_fields), max_text,
                       c->columns, c->values, &c->ncolumns, why, why_len);
}

/* A phone or identity-card number as a masked export shows it
 * (138****8000) is not the number: it is left out, so that importing a
 * masked export never overwrites the real number. Returns how many. */
static size_t drop_masked(struct party_in *p)
{
    size_t kept = 0, dropped = 0;
    for (size_t i = 0; i < p->ncontact; i++) {
        const char *column = p->contact_columns[i];
        const struct sync_value *v = &p->contact_values[i];
        if ((!strcmp(column, "phone") || !strcmp(column, "id_no")) && v->type == SYNC_TEXT &&
            strchr(v->s, '*')) {
            dropped++;
            continue;
        }
        p->contact_columns[kept] = column;
        p->contact_values[kept++] = *v;
    }
    p->ncontact = kept;
    return dropped;
}

static int read_parties(const cJSON *root, size_t max_text, struct case_in *c, char *why,
                        size_t why_len)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "parties");
    if (!list) {
        return 0;
    }
    if (!cJSON_IsArray(list)) {
        return say(why, why_len, SYNC_E_FIELD_TYPE, "parties: expected an array of objects");
    }
    c->has_parties = 1;
    size_t n = (size_t)cJSON_GetArraySize(list);
    if (n == 0) {
        return 0;
    }
    c->parties = calloc(n, sizeof *c->parties);
    if (!c->parties) {
        return say(why, why_len, SYNC_E_NOMEM, "parties: out of memory");
    }
    const cJSON *obj;
    cJSON_ArrayForEach(obj, list)
    {
        size_t i = c->nparties;
        struct party_in *p = &c->parties[i];
        char prefix[PREFIX_LEN];
        snprintf(prefix, sizeof prefix, "parties[%zu].", i);
        if (!cJSON_IsObject(obj)) {
            return say(why, why_len, SYNC_E_FIELD_TYPE, "parties[%zu]: expected an object", i);
        }
        int rc = read_given_id(obj, prefix, &p->given_id, why, why_len);
        for (size_t j = 0; rc == 0 && p->given_id && j < i; j++) {
            if (c->parties[j].given_id && strcmp(c->parties[j].given_id, p->given_id) == 0) {
                rc = say(why, why_len, SYNC_E_FIELD_TYPE,
                         "parties[%zu].id: the same as parties[%zu]", i, j);
            }
        }
        if (rc == 0) {
            rc = read_fields(obj, prefix, contact_fields, NCONTACT, max_text, p->contact_columns,
                             p->contact_values, &p->ncontact, why, why_len);
        }
        if (rc == 0) {
            c->masked += drop_masked(p);
        }
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(obj, "role");
        if (rc == 0 && role) {
            char path[PATH_MAX_LEN];
            snprintf(path, sizeof path, "%srole", prefix);
            p->has_role = 1;
            rc = read_value(role, path, &text_field, max_text, &p->role, why, why_len);
        }
        if (rc != 0) {
            return rc;
        }
        c->nparties++;
    }
    return 0;
}

static int read_events(const cJSON *root, size_t max_text, struct case_in *c, char *why,
                       size_t why_len)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "events");
    if (!list) {
        return 0;
    }
    if (!cJSON_IsArray(list)) {
        return say(why, why_len, SYNC_E_FIELD_TYPE, "events: expected an array of objects");
    }
    c->has_events = 1;
    size_t n = (size_t)cJSON_GetArraySize(list);
    if (n == 0) {
        return 0;
    }
    c->events = calloc(n, sizeof *c->events);
    if (!c->events) {
        return say(why, why_len, SYNC_E_NOMEM, "events: out of memory");
    }
    const cJSON *obj;
    cJSON_ArrayForEach(obj, list)
    {
        size_t i = c->nevents;
        struct event_in *e = &c->events[i];
        char prefix[PREFIX_LEN], path[PATH_MAX_LEN];
        snprintf(prefix, sizeof prefix, "events[%zu].", i);
        if (!cJSON_IsObject(obj)) {
            return say(why, why_len, SYNC_E_FIELD_TYPE, "events[%zu]: expected an object", i);
        }
        int rc = read_given_id(obj, prefix, &e->given_id, why, why_len);
        for (size_t j = 0; rc == 0 && e->given_id && j < i; j++) {
            if (c->events[j].given_id && strcmp(c->events[j].given_id, e->given_id) == 0) {
                rc = say(why, why_len, SYNC_E_FIELD_TYPE, "events[%zu].id: the same as events[%zu]",
                         i, j);
            }
        }
        if (rc != 0) {
            return rc;
        }
        const cJSON *date = cJSON_GetObjectItemCaseSensitive(obj, "date");
        if (!date) {
            return say(why, why_len, SYNC_E_FIELD_MISSING, "events[%zu].date: missing", i);
        }
        if (!cJSON_IsString(date) || !date_valid(date->valuestring)) {
            return say(why, why_len, SYNC_E_FIELD_TYPE,
                       "events[%zu].date: expected a date YYYY-MM-DD", i);
        }
        e->date = (struct sync_value){.type = SYNC_TEXT, .s = date->valuestring};
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(obj, "kind");
        if (!kind) {
            return say(why, why_len, SYNC_E_FIELD_MISSING, "events[%zu].kind: missing", i);
        }
        if (!cJSON_IsString(kind)) {
            return say(why, why_len, SYNC_E_FIELD_TYPE, "events[%zu].kind: expected a string", i);
        }
        snprintf(path, sizeof path, "%skind", prefix);
        if ((rc = read_value(kind, path, &text_field, max_text, &e->kind, why, why_len)) != 0) {
            return rc;
        }
        const cJSON *note = cJSON_GetObjectItemCaseSensitive(obj, "note");
        snprintf(path, sizeof path, "%snote", prefix);
        e->note = (struct sync_value){.type = SYNC_NULL};
        if (note && (rc = read_value(note, path, &text_field, max_text, &e->note, why, why_len))) {
            return rc;
        }
        const cJSON *detail = cJSON_GetObjectItemCaseSensitive(obj, "detail");
        snprintf(path, sizeof path, "%sdetail", prefix);
        e->detail = (struct sync_value){.type = SYNC_NULL};
        if (detail &&
            (rc = read_value(detail, path, &text_field, max_text, &e->detail, why, why_len))) {
            return rc;
        }
        c->nevents++;
    }
    return 0;
}

/* Check the whole object and read it into c (zeroed by the caller). */
static int read_case(const cJSON *root, size_t max_text, struct case_in *c, char *why,
                     size_t why_len)
{
    if (!cJSON_IsObject(root)) {
        return say(why, why_len, SYNC_E_JSON_NOT_OBJECT, "expected a JSON object");
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "id");
    if (!id) {
        return say(why, why_len, SYNC_E_FIELD_MISSING, "id: missing");
    }
    if (!cJSON_IsString(id) || !uuid7_valid(id->valuestring)) {
        return say(why, why_len, SYNC_E_FIELD_TYPE,
                   "id: expected a UUID in lower-case canonical form");
    }
    c->id = id->valuestring;
    const cJSON *village = cJSON_GetObjectItemCaseSensitive(root, "village");
    if (!village) {
        return say(why, why_len, SYNC_E_FIELD_MISSING, "village: missing");
    }
    if (!cJSON_IsString(village) || village->valuestring[0] == '\0') {
        return say(why, why_len, SYNC_E_FIELD_TYPE, "village: expected a non-empty string");
    }
    c->village = village->valuestring;
    int rc = read_fields(root, "", case_fields, COUNT(case_fields), max_text, c->columns, c->values,
                         &c->ncolumns, why, why_len);
    if (rc == 0) {
        rc = read_mediator(root, max_text, c, why, why_len);
    }
    if (rc == 0) {
        rc = read_parties(root, max_text, c, why, why_len);
    }
    if (rc == 0) {
        rc = read_events(root, max_text, c, why, why_len);
    }
    return rc;
}

/* ---- writing a case ---- */

/* The statements one import of a line uses, prepared on first use. */
struct importer {
    struct replica *r;
    const char *part;
    const struct case_in *c;
    sqlite3_stmt *case_get, *party_get, *parties_live, *party_exists, *contact_exists, *event_get;
    char *why;
    size_t why_len;
};

static void importer_done(struct importer *im)
{
    sqlite3_finalize(im->case_get);
    sqlite3_finalize(im->party_get);
    sqlite3_finalize(im->parties_live);
    sqlite3_finalize(im->party_exists);
    sqlite3_finalize(im->contact_exists);
    sqlite3_finalize(im->event_get);
}

static int prepare(struct importer *im, sqlite3_stmt **slot, const char *sql)
{
    if (*slot) {
        sqlite3_reset(*slot);
        sqlite3_clear_bindings(*slot);
        return 0;
    }
    if (sqlite3_prepare_v2(replica_db(im->r), sql, -1, slot, NULL) != SQLITE_OK) {
        *slot = NULL;
        return say(im->why, im->why_len, SYNC_E_DB, "database: %s",
                   sqlite3_errmsg(replica_db(im->r)));
    }
    return 0;
}

/* Step a lookup: 1 for a row, 0 for none, SYNC_E_DB. */
static int lookup(struct importer *im, sqlite3_stmt *st)
{
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        return 1;
    }
    if (step == SQLITE_DONE) {
        return 0;
    }
    return say(im->why, im->why_len, SYNC_E_DB, "database: %s", sqlite3_errmsg(replica_db(im->r)));
}

/* 1 if a row with this id exists in the table the statement reads. */
static int row_exists(struct importer *im, sqlite3_stmt **slot, const char *sql, const char *id)
{
    int rc = prepare(im, slot, sql);
    if (rc != 0) {
        return rc;
    }
    sqlite3_bind_text(*slot, 1, id, -1, SQLITE_STATIC);
    rc = lookup(im, *slot);
    sqlite3_reset(*slot);
    return rc;
}

static int contact_exists(struct importer *im, const char *id)
{
    return row_exists(im, &im->contact_exists, "SELECT 1 FROM contacts WHERE id = ?1", id);
}

/* Explain an engine error of a write, naming what was written. */
static int write_failed(struct importer *im, int rc, const char *what)
{
    switch (rc) {
    case SYNC_E_PARTITION:
        return say(im->why, im->why_len, rc, "%s: held here in another village", what);
    case SYNC_E_DB:
        return say(im->why, im->why_len, rc, "%s: %s: %s", what, sync_strerror(rc),
                   replica_errmsg(im->r));
    default:
        return say(im->why, im->why_len, rc, "%s: %s", what, sync_strerror(rc));
    }
}

/* Fresh derived ids for the party (when party_id is not NULL) and the
 * contact at index: the first generation whose ids are not taken. */
static int derive_fresh(struct importer *im, size_t index, struct party_in *p, int party_too)
{
    char *party_id = party_too ? p->id : NULL, *contact_id = p->contact_id;
    const struct case_in *c = im->c;
    for (unsigned g = 0; g < MAX_GENERATIONS; g++) {
        int taken = 0, rc;
        if (party_id) {
            if ((rc = derive_id(c->id, "party", index, g, party_id, p->from)) != 0) {
                return say(im->why, im->why_len, rc, "parties[%zu]: no id could be made", index);
            }
            for (size_t j = 0; j < c->nparties; j++) {
                if (c->parties[j].given_id && strcmp(c->parties[j].given_id, party_id) == 0) {
                    taken = 1;
                }
            }
            if (!taken) {
                taken = row_exists(im, &im->party_exists,
                                   "SELECT 1 FROM case_parties WHERE id = ?1", party_id);
            }
        }
        if (taken == 0) {
            if ((rc = derive_id(c->id, "contact", index, g, contact_id, p->contact_from)) != 0) {
                return say(im->why, im->why_len, rc, "parties[%zu]: no id could be made", index);
            }
            taken = contact_exists(im, contact_id);
        }
        if (taken < 0) {
            return taken;
        }
        if (!taken) {
            return 0;
        }
    }
    return say(im->why, im->why_len, SYNC_E_STATE, "parties[%zu]: no free id for a new party",
               index);
}

/* A party the case holds now (not deleted), in the order of the list. */
struct live_party {
    char id[UUID7_STRLEN + 1];
    char contact_id[UUID7_STRLEN + 1];
    int kept; /* named again by the import, or taking an entry's place */
};

static int load_live_parties(struct importer *im, struct live_party **out, size_t *n)
{
    int rc = prepare(im, &im->parties_live,
                     "SELECT id, contact_id FROM case_parties WHERE case_id = ?1 AND village = ?2"
                     " AND deleted = 0 ORDER BY position, id");
    if (rc != 0) {
        return rc;
    }
    sqlite3_bind_text(im->parties_live, 1, im->c->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(im->parties_live, 2, im->part, -1, SQLITE_STATIC);
    size_t cap = 0;
    while ((rc = lookup(im, im->parties_live)) == 1) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            struct live_party *bigger = realloc(*out, cap * sizeof **out);
            if (!bigger) {
                rc = say(im->why, im->why_len, SYNC_E_NOMEM, "parties: out of memory");
                break;
            }
            *out = bigger;
        }
        struct live_party *lp = &(*out)[(*n)++];
        copy_id(lp->id, sqlite3_column_text(im->parties_live, 0));
        copy_id(lp->contact_id, sqlite3_column_text(im->parties_live, 1));
        lp->kept = 0;
    }
    sqlite3_reset(im->parties_live);
    return rc < 0 ? rc : 0;
}

/* The ids of a party that names its own: the row must not be deleted. */
static int resolve_given(struct importer *im, size_t i, struct party_in *p)
{
    int rc =
        prepare(im, &im->party_get, "SELECT deleted, contact_id FROM case_parties WHERE id = ?1");
    if (rc != 0) {
        return rc;
    }
    memcpy(p->id, p->given_id, UUID7_STRLEN + 1);
    sqlite3_bind_text(im->party_get, 1, p->id, -1, SQLITE_STATIC);
    int found = lookup(im, im->party_get);
    int deleted = found == 1 && sqlite3_column_int64(im->party_get, 0) != 0;
    if (found == 1) {
        copy_id(p->contact_id, sqlite3_column_text(im->party_get, 1));
    }
    sqlite3_reset(im->party_get);
    if (found < 0) {
        return found;
    }
    if (deleted) {
        return say(im->why, im->why_len, SYNC_E_STATE,
                   "parties[%zu].id: this party was removed from the case; to add the person "
                   "again, leave out the id",
                   i);
    }
    return p->contact_id[0] ? 0 : derive_fresh(im, i, p, 0);
}

/* Give every party of the line its ids: its own, else the case's party at
 * the same rank among those the line does not name, else new derived ones.
 * Parties held now and not kept are marked in live. */
static int resolve_parties(struct importer *im, struct case_in *c, struct live_party *live,
                           size_t nlive)
{
    for (size_t i = 0; i < c->nparties; i++) {
        for (size_t k = 0; c->parties[i].given_id && k < nlive; k++) {
            if (strcmp(live[k].id, c->parties[i].given_id) == 0) {
                live[k].kept = 1;
            }
        }
    }
    size_t next = 0;
    for (size_t i = 0; i < c->nparties; i++) {
        struct party_in *p = &c->parties[i];
        int rc;
        if (p->given_id) {
            rc = resolve_given(im, i, p);
        } else {
            while (next < nlive && (live[next].kept || !live[next].id[0])) {
                next++;
            }
            if (next < nlive) {
                live[next].kept = 1;
                memcpy(p->id, live[next].id, sizeof p->id);
                memcpy(p->contact_id, live[next].contact_id, sizeof p->contact_id);
                rc = p->contact_id[0] ? 0 : derive_fresh(im, i, p, 0);
            } else {
                rc = derive_fresh(im, i, p, 1);
            }
        }
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

static int write_parties(struct importer *im, struct case_in *c)
{
    struct live_party *live = NULL;
    size_t nlive = 0;
    char what[PATH_MAX_LEN];
    int rc = load_live_parties(im, &live, &nlive);
    if (rc == 0) {
        rc = resolve_parties(im, c, live, nlive);
    }
    for (size_t i = 0; rc == 0 && i < c->nparties; i++) {
        struct party_in *p = &c->parties[i];
        snprintf(what, sizeof what, "parties[%zu]", i);
        if (p->ncontact > 0) {
            rc = replica_put(im->r, "contacts", written_id(p->contact_id, p->contact_from),
                             im->part, p->ncontact, p->contact_columns, p->contact_values, NULL);
        } else {
            /* A party with no details still needs its contact row. */
            static const char *const name_only[] = {"name"};
            static const struct sync_value no_name = {.type = SYNC_NULL};
            int exists = contact_exists(im, p->contact_id);
            if (exists < 0) {
                rc = exists;
                break;
            }
            rc = exists ? 0
                        : replica_put(im->r, "contacts", written_id(p->contact_id, p->contact_from),
                                      im->part, 1, name_only, &no_name, NULL);
        }
        if (rc != 0) {
            rc = write_failed(im, rc, what);
            break;
        }
        const char *columns[] = {"case_id", "contact_id", "position", "role"};
        struct sync_value values[] = {
            {.type = SYNC_TEXT, .s = c->id},
            {.type = SYNC_TEXT, .s = p->contact_id},
            {.type = SYNC_INT, .i = (int64_t)i},
            p->role,
        };
        rc = replica_put(im->r, "case_parties", written_id(p->id, p->from), im->part,
                         p->has_role ? 4 : 3, columns, values, NULL);
        if (rc == SYNC_E_IMMUTABLE) {
            rc = say(im->why, im->why_len, rc,
                     "parties[%zu].id: this party belongs to another case", i);
        } else if (rc != 0) {
            rc = write_failed(im, rc, what);
        }
    }
    /* Parties the line no longer lists are removed from the case. */
    for (size_t k = 0; rc == 0 && k < nlive; k++) {
        if (!live[k].kept && live[k].id[0]) {
            if ((rc = replica_delete(im->r, "case_parties", live[k].id)) != 0) {
                rc = write_failed(im, rc, "parties");
            }
        }
    }
    free(live);
    return rc;
}

static int write_events(struct importer *im, const struct case_in *c)
{
    int rc = prepare(im, &im->event_get,
                     "SELECT village, case_id, date, kind, note, detail FROM events WHERE id = ?1");
    for (size_t i = 0; rc == 0 && i < c->nevents; i++) {
        const struct event_in *e = &c->events[i];
        char id[UUID7_STRLEN + 1], from[UUID7_FROMLEN + 1] = "", what[PATH_MAX_LEN];
        snprintf(what, sizeof what, "events[%zu]", i);
        if (e->given_id) {
            memcpy(id, e->given_id, sizeof id);
        } else if ((rc = derive_id(c->id, "event", i, 0, id, from)) != 0) {
            return say(im->why, im->why_len, rc, "%s: no id could be made", what);
        }
        sqlite3_stmt *st = im->event_get;
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        int found = lookup(im, st);
        if (found == 1) {
            /* Held already: the same event again is fine, an edit is not.
             * recorded_at is not compared: the export does not carry it. */
            const unsigned char *village = sqlite3_column_text(st, 0);
            struct sync_value case_id = {.type = SYNC_TEXT, .s = c->id};
            if (!village || strcmp((const char *)village, im->part) != 0) {
                rc = write_failed(im, SYNC_E_PARTITION, what);
            } else if (!stored_equal(sqlite3_column_text(st, 1), &case_id) ||
                       !stored_equal(sqlite3_column_text(st, 2), &e->date) ||
                       !stored_equal(sqlite3_column_text(st, 3), &e->kind) ||
                       !stored_equal(sqlite3_column_text(st, 4), &e->note) ||
                       !stored_equal(sqlite3_column_text(st, 5), &e->detail)) {
                rc = say(im->why, im->why_len, SYNC_E_APPEND_ONLY,
                         "%s (%s): differs from the event already recorded; events are never "
                         "edited: record a correction as a new event",
                         what, e->date.s);
            }
        } else if (found == 0) {
            const char *columns[] = {"case_id", "date", "kind", "note", "detail"};
            struct sync_value values[] = {
                {.type = SYNC_TEXT, .s = c->id}, e->date, e->kind, e->note, e->detail};
            rc =
                replica_append(im->r, "events", written_id(id, from), im->part, 5, columns, values);
            if (rc != 0) {
                rc = write_failed(im, rc, what);
            }
        } else {
            rc = found;
        }
        sqlite3_reset(st);
    }
    return rc;
}

/* Write the case inside the caller's transaction. *existed is set to 1 when
 * the case was held before, 2 when it is deleted here (nothing written). */
static int write_case(struct importer *im, struct case_in *c, int *existed)
{
    int rc = prepare(im, &im->case_get, "SELECT village, deleted FROM cases WHERE id = ?1");
    if (rc != 0) {
        return rc;
    }
    sqlite3_bind_text(im->case_get, 1, c->id, -1, SQLITE_STATIC);
    int found = lookup(im, im->case_get);
    if (found == 1) {
        const unsigned char *village = sqlite3_column_text(im->case_get, 0);
        if (!village || strcmp((const char *)village, im->part) != 0) {
            rc = say(im->why, im->why_len, SYNC_E_PARTITION,
                     "id: this case is held here in village %s, not %s",
                     village ? (const char *)village : "(none)", im->part);
        }
        *existed = sqlite3_column_int64(im->case_get, 1) != 0 ? 2 : 1;
    }
    sqlite3_reset(im->case_get);
    if (found < 0 || rc != 0) {
        return found < 0 ? found : rc;
    }
    if (*existed == 2) {
        return 0;
    }
    if (c->ncolumns > 0 || !*existed) {
        /* A new case with no fields at all still gets its row. */
        static const char *const no_columns[] = {"case_no"};
        static const struct sync_value no_values[] = {{.type = SYNC_NULL}};
        int empty = c->ncolumns == 0;
        rc = replica_put(im->r, "cases", c->id, im->part, empty ? 1 : c->ncolumns,
                         empty ? no_columns : c->columns, empty ? no_values : c->values, NULL);
        if (rc == SYNC_E_IMMUTABLE) {
            return say(im->why, im->why_len, rc,
                       "created_at: set when the case was created, and cannot change");
        }
        if (rc != 0) {
            return write_failed(im, rc, "case");
        }
    }
    if (c->has_parties && (rc = write_parties(im, c)) != 0) {
        return rc;
    }
    return c->has_events ? write_events(im, c) : 0;
}

/* ---- import ---- */

int ledger_io_import_line(struct replica *r, const struct ledger_io_village *v, const char *line,
                          size_t len, struct ledger_io_stats *st, char *why, size_t why_len)
{
    if (why && why_len) {
        why[0] = '\0';
    }
    if (!r || !line || (v && (!v->code || !v->code[0] || strlen(v->code) > DELTA_MAX_PART))) {
        return say(why, why_len, SYNC_E_ARG, "no replica, no line, or a village without a code");
    }
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) {
        len--;
    }
    if (len > LEDGER_IO_MAX_LINE) {
        return say(why, why_len, SYNC_E_JSON_STRING, "the line is longer than %u bytes",
                   LEDGER_IO_MAX_LINE);
    }
    if (!delta_utf8_valid(line, len)) {
        return say(why, why_len, SYNC_E_UTF8, "the line is not valid UTF-8");
    }
    if (memchr(line, '\0', len)) {
        return say(why, why_len, SYNC_E_JSON, "the line holds a NUL byte");
    }
    if (sodium_init() < 0) {
        return say(why, why_len, SYNC_E_RANDOM, "libsodium could not start");
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(line, len, &end, 0);
    if (!root) {
        return say(why, why_len, SYNC_E_JSON, "not JSON (near byte %zu)",
                   end && end >= line ? (size_t)(end - line) : (size_t)0);
    }
    for (; end && end < line + len; end++) {
        if (*end != ' ' && *end != '\t' && *end != '\r' && *end != '\n') {
            cJSON_Delete(root);
            return say(why, why_len, SYNC_E_JSON, "not JSON: more after the object (byte %zu)",
                       (size_t)(end - line));
        }
    }

    struct case_in c = {0};
    struct importer im = {.r = r, .c = &c, .why = why, .why_len = why_len};
    int in_tx = 0, existed = 0;
    int64_t before = 0, changes = 0;
    int rc = read_case(root, replica_schema(r)->max_text, &c, why, why_len);
    if (rc == 0 && !c.village) {
        rc = SYNC_E_FIELD_MISSING; /* read_case() sets it; this tells the analyser */
    }
    if (rc != 0) {
        goto fail;
    }
    if (v && strcmp(c.village, v->code) != 0 && (!v->name || strcmp(c.village, v->name) != 0)) {
        if (st) {
            st->records++;
            st->skipped_other_village++;
        }
        goto done;
    }
    if (!v && strlen(c.village) > DELTA_MAX_PART) {
        rc = say(why, why_len, SYNC_E_FIELD_TYPE, "village: longer than %d bytes", DELTA_MAX_PART);
        goto fail;
    }
    im.part = v ? v->code : c.village;

    if ((rc = replica_begin(r)) != 0) {
        rc = say(why, why_len, rc, "%s",
                 rc == SYNC_E_STATE ? "a transaction is already open" : replica_errmsg(r));
        goto fail;
    }
    in_tx = 1;
    before = replica_own_seq(r);
    if ((rc = write_case(&im, &c, &existed)) != 0) {
        goto fail;
    }
    changes = replica_own_seq(r) - before;
    if (existed == 2) {
        replica_rollback(r);
    } else if ((rc = replica_commit(r)) != 0) {
        rc = say(why, why_len, rc, "commit: %s", replica_errmsg(r));
        in_tx = 0;
        goto fail;
    }
    if (st) {
        st->records++;
        st->created += existed == 0;
        st->updated += existed == 1 && changes > 0;
        st->unchanged += existed == 1 && changes == 0;
        st->skipped_deleted += existed == 2;
        st->changes += existed == 2 ? 0 : (size_t)changes;
        st->masked_kept += existed == 2 ? 0 : c.masked;
    }
done:
    importer_done(&im);
    case_in_free(&c);
    cJSON_Delete(root);
    return 0;

fail:
    importer_done(&im);
    if (in_tx) {
        replica_rollback(r);
    }
    case_in_free(&c);
    cJSON_Delete(root);
    return rc;
}

/* Read one line of in into *buf, without its '\n'. Returns 1, 0 at the end
 * of the file, SYNC_E_JSON_STRING (longer than the limit, left unread),
 * SYNC_E_ARG (a read error) or SYNC_E_NOMEM. */
static int read_line(FILE *in, struct sbuf *buf)
{
    buf->len = 0;
    int ch;
    while ((ch = getc(in)) != EOF && ch != '\n') {
        /* One byte more than the limit, for a '\r' before the newline. */
        if (buf->len > LEDGER_IO_MAX_LINE) {
            return SYNC_E_JSON_STRING;
        }
        char byte = (char)ch;
        sbuf_add(buf, &byte, 1);
        if (buf->failed) {
            return SYNC_E_NOMEM;
        }
    }
    if (ferror(in)) {
        return SYNC_E_ARG;
    }
    return ch == EOF && buf->len == 0 ? 0 : 1;
}

static int blank(const char *line, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r') {
            return 0;
        }
    }
    return 1;
}

int ledger_io_import_file(struct replica *r, const struct ledger_io_village *v, FILE *in,
                          struct ledger_io_stats *st, char *why, size_t why_len)
{
    if (!r || !in) {
        return say(why, why_len, SYNC_E_ARG, "no replica or no file");
    }
    struct sbuf buf = {0};
    size_t lineno = 0;
    int rc;
    char detail[512];
    while ((rc = read_line(in, &buf)) == 1) {
        lineno++;
        if (blank(buf.data, buf.len)) {
            continue;
        }
        rc = ledger_io_import_line(r, v, buf.data, buf.len, st, detail, sizeof detail);
        if (rc != 0) {
            say(why, why_len, rc, "line %zu: %s", lineno, detail);
            goto fail;
        }
    }
    if (rc == SYNC_E_JSON_STRING) {
        say(why, why_len, rc, "line %zu: the line is longer than %u bytes", lineno + 1,
            LEDGER_IO_MAX_LINE);
        goto fail;
    }
    if (rc != 0) {
        say(why, why_len, rc, "line %zu: %s", lineno + 1,
            rc == SYNC_E_NOMEM ? "out of memory" : "the file could not be read");
        goto fail;
    }
    free(buf.data);
    return 0;

fail:
    free(buf.data);
    return rc;
}

/* ---- export ---- */

/* Columns of the case query, in its order. */
enum {
    C_ID,
    C_VILLAGE,
    C_CASE_NO,
    C_KIND,
    C_CHANNEL,
    C_CATEGORY,
    C_SEVERITY,
    C_STATUS,
    C_LEVEL,
    C_TITLE,
    C_FACTS,
    C_CLAIMS,
    C_MEDIATOR_ID,
    C_MEDIATOR_NAME,
    C_RECEIVED_BY,
    C_OUTCOME,
    C_CREATED_AT,
    C_UPDATED_AT,
    C_ACCEPTED_ON,
    C_CONCLUDED_ON,
    C_DEADLINE,
    C_EXTENSION_DAYS,
    C_RESULT_NOTICE_ON,
    C_OPINION,
    C_CORRECTION,
    C_CORRECTION_ON,
    C_CORRECTION_REPLY,
    C_CORRECTION_REPLY_ON,
};

struct exporter {
    sqlite3_stmt *cases, *parties, *events, *summary;
    ledger_io_write_fn write;
    void *ctx;
    unsigned flags; /* LEDGER_IO_* */
    struct sbuf line;
};

static void exporter_done(struct exporter *x)
{
    sqlite3_finalize(x->cases);
    sqlite3_finalize(x->parties);
    sqlite3_finalize(x->events);
    sqlite3_finalize(x->summary);
    free(x->line.data);
}

static int exporter_start(struct replica *r, const char *code, struct exporter *x)
{
    sqlite3 *db = replica_db(r);
    static const char cases_sql[] =
        "SELECT id, village, case_no, kind, channel, category, severity, status, level, title,"
        " facts, claims, mediator_id, mediator_name, received_by, outcome, created_at,"
        " updated_at, accepted_on, concluded_on, deadline, extension_days, result_notice_on,"
        " opinion, correction, correction_on, correction_reply, correction_reply_on"
        " FROM cases WHERE deleted = 0 AND (?1 IS NULL OR village = ?1) ORDER BY id";
    static const char parties_sql[] =
        "SELECT p.id, c.name, p.role, c.phone, c.id_no, c.address FROM case_parties p"
        " LEFT JOIN contacts c ON c.id = p.contact_id AND c.village = p.village"
        " WHERE p.case_id = ?1 AND p.village = ?2 AND p.deleted = 0 ORDER BY p.position, p.id";
    static const char events_sql[] = "SELECT id, date, kind, note, detail FROM events"
                                     " WHERE case_id = ?1 AND village = ?2 ORDER BY date, id";
    static const char summary_sql[] =
        "SELECT count(*), max(date) FROM events WHERE case_id = ?1 AND village = ?2";
    if (sqlite3_prepare_v2(db, cases_sql, -1, &x->cases, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, parties_sql, -1, &x->parties, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, events_sql, -1, &x->events, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, summary_sql, -1, &x->summary, NULL) != SQLITE_OK) {
        return SYNC_E_DB;
    }
    if (code) {
        sqlite3_bind_text(x->cases, 1, code, -1, SQLITE_STATIC);
    }
    return 0;
}

/* Point a per-case statement at the current case and its village. */
static void bind_case(struct exporter *x, sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, (const char *)sqlite3_column_text(x->cases, C_ID), -1,
                      SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, (const char *)sqlite3_column_text(x->cases, C_VILLAGE), -1,
                      SQLITE_TRANSIENT);
}

/* Add column col of st to obj under key; a NULL is written only if always. */
static int add_column(cJSON *obj, const char *key, sqlite3_stmt *st, int col, int always)
{
    cJSON *item;
    switch (sqlite3_column_type(st, col)) {
    case SQLITE_INTEGER:
        item = json_util_int(sqlite3_column_int64(st, col));
        break;
    case SQLITE_FLOAT:
        item = cJSON_CreateNumber(sqlite3_column_double(st, col));
        break;
    case SQLITE_TEXT:
        item = cJSON_CreateString((const char *)sqlite3_column_text(st, col));
        break;
    default:
        if (!always) {
            return 0;
        }
        item = cJSON_CreateNull();
        break;
    }
    if (!item || !cJSON_AddItemToObject(obj, key, item)) {
        cJSON_Delete(item);
        return SYNC_E_NOMEM;
    }
    return 0;
}

/* Add an array built from the rows of st, each an object of keys[i] =
 * column i; a NULL is written for the first nalways keys, left out after. */
static int add_rows(cJSON *obj, const char *key, sqlite3_stmt *st, const char *const *keys,
                    int nkeys, int nalways)
{
    cJSON *list = cJSON_AddArrayToObject(obj, key);
    if (!list) {
        return SYNC_E_NOMEM;
    }
    int step = SQLITE_DONE, rc = 0;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *row = cJSON_CreateObject();
        if (!row || !cJSON_AddItemToArray(list, row)) {
            cJSON_Delete(row);
            rc = SYNC_E_NOMEM;
            break;
        }
        for (int i = 0; rc == 0 && i < nkeys; i++) {
            rc = add_column(row, keys[i], st, i, i < nalways);
        }
    }
    if (rc == 0 && step != SQLITE_DONE) {
        rc = SYNC_E_DB;
    }
    sqlite3_reset(st);
    return rc;
}

/* Mask the phone and identity-card numbers of the parties in list. */
static int mask_parties(cJSON *list)
{
    cJSON *party;
    cJSON_ArrayForEach(party, list)
    {
        static const char *const keys[] = {"phone", "id_no"};
        for (size_t k = 0; k < COUNT(keys); k++) {
            cJSON *item = cJSON_GetObjectItemCaseSensitive(party, keys[k]);
            char masked[LEDGER_MAX_TEXT + 1];
            if (!cJSON_IsString(item)) {
                continue;
            }
            int rc = k == 0 ? rules_mask_phone(item->valuestring, masked, sizeof masked)
                            : rules_mask_id_no(item->valuestring, masked, sizeof masked);
            cJSON *repl = rc == 0 ? cJSON_CreateString(masked) : NULL;
            if (!repl || !cJSON_ReplaceItemInObjectCaseSensitive(party, keys[k], repl)) {
                cJSON_Delete(repl);
                return SYNC_E_NOMEM;
            }
        }
    }
    return 0;
}

static int add_mediator(cJSON *obj, sqlite3_stmt *st)
{
    if (sqlite3_column_type(st, C_MEDIATOR_ID) == SQLITE_NULL &&
        sqlite3_column_type(st, C_MEDIATOR_NAME) == SQLITE_NULL) {
        return cJSON_AddNullToObject(obj, "mediator") ? 0 : SYNC_E_NOMEM;
    }
    cJSON *mediator = cJSON_AddObjectToObject(obj, "mediator");
    if (!mediator) {
        return SYNC_E_NOMEM;
    }
    int rc = add_column(mediator, "id", st, C_MEDIATOR_ID, 1);
    return rc ? rc : add_column(mediator, "name", st, C_MEDIATOR_NAME, 1);
}

/* The JSON object of the current case. */
static int case_json(struct exporter *x, cJSON *obj)
{
    static const char *const party_keys[] = {"id", "name", "role", "phone", "id_no", "address"};
    static const char *const event_keys[] = {"id", "date", "kind", "note", "detail"};
    /* The members before "parties": key, column, written when NULL. */
    static const struct {
        const char *key;
        int col, always;
    } head[] = {
        {"id", C_ID, 1},
        {"village", C_VILLAGE, 1},
        {"case_no", C_CASE_NO, 1},
        {"kind", C_KIND, 0},
        {"channel", C_CHANNEL, 0},
        {"category", C_CATEGORY, 1},
        {"severity", C_SEVERITY, 1},
        {"status", C_STATUS, 1},
        {"level", C_LEVEL, 0},
        {"title", C_TITLE, 1},
        {"facts", C_FACTS, 1},
        {"claims", C_CLAIMS, 1},
    };
    sqlite3_stmt *st = x->cases;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < COUNT(head); i++) {
        rc = add_column(obj, head[i].key, st, head[i].col, head[i].always);
    }
    if (rc == 0) {
        bind_case(x, x->parties);
        rc = add_rows(obj, "parties", x->parties, party_keys, (int)COUNT(party_keys),
                      (int)COUNT(party_keys));
    }
    if (rc == 0 && (x->flags & LEDGER_IO_MASK)) {
        rc = mask_parties(cJSON_GetObjectItemCaseSensitive(obj, "parties"));
    }
    if (rc == 0) {
        rc = add_mediator(obj, st);
    }
    if (rc == 0) {
        rc = add_column(obj, "received_by", st, C_RECEIVED_BY, 0);
    }
    if (rc == 0) {
        rc = add_column(obj, "outcome", st, C_OUTCOME, 0);
    }
    /* The workflow's fields, when known (the reference data has none). */
    static const struct {
        const char *key;
        int col;
    } rules_fields[] = {
        {"accepted_on", C_ACCEPTED_ON},
        {"concluded_on", C_CONCLUDED_ON},
        {"deadline", C_DEADLINE},
        {"extension_days", C_EXTENSION_DAYS},
        {"result_notice_on", C_RESULT_NOTICE_ON},
        {"opinion", C_OPINION},
        {"correction", C_CORRECTION},
        {"correction_on", C_CORRECTION_ON},
        {"correction_reply", C_CORRECTION_REPLY},
        {"correction_reply_on", C_CORRECTION_REPLY_ON},
    };
    for (size_t i = 0; rc == 0 && i < COUNT(rules_fields); i++) {
        rc = add_column(obj, rules_fields[i].key, st, rules_fields[i].col, 0);
    }
    if (rc == 0) {
        rc = add_column(obj, "created_at", st, C_CREATED_AT, 1);
    }
    if (rc == 0) {
        rc = add_column(obj, "updated_at", st, C_UPDATED_AT, 1);
    }
    if (rc == 0) {
        bind_case(x, x->events);
        rc = add_rows(obj, "events", x->events, event_keys, (int)COUNT(event_keys), 4);
    }
    return rc;
}

static int jsonl_row(struct exporter *x)
{
    cJSON *obj = cJSON_CreateObject();
    char *text = NULL;
    int rc = obj ? case_json(x, obj) : SYNC_E_NOMEM;
    if (rc == 0 && !(text = cJSON_PrintUnformatted(obj))) {
        rc = SYNC_E_NOMEM;
    }
    if (rc == 0) {
        x->line.len = 0;
        sbuf_str(&x->line, text);
        sbuf_add(&x->line, "\n", 1);
        rc = x->line.failed ? SYNC_E_NOMEM : x->write(x->ctx, x->line.data, x->line.len);
    }
    cJSON_free(text);
    cJSON_Delete(obj);
    return rc;
}

/* One CSV field: quoted when it holds a comma, a quote, CR or LF. Text that
 * a spreadsheet would run as a formula (=, +, -, @, tab or CR first) is
 * prefixed with an apostrophe, so that a case's title can never become a
 * command on the township's computer. */
static void csv_field(struct sbuf *b, const char *text, int last)
{
    int formula = text && text[0] && strchr("=+-@\t\r", text[0]) != NULL;
    if (formula) {
        sbuf_add(b, "\"'", 2);
        for (const char *p = text; *p; p++) {
            sbuf_add(b, p, 1);
            if (*p == '"') {
                sbuf_add(b, "\"", 1);
            }
        }
        sbuf_add(b, "\"", 1);
    } else if (text && text[strcspn(text, ",\"\r\n")] != '\0') {
        sbuf_add(b, "\"", 1);
        for (const char *p = text; *p; p++) {
            sbuf_add(b, p, 1);
            if (*p == '"') {
                sbuf_add(b, "\"", 1);
            }
        }
        sbuf_add(b, "\"", 1);
    } else if (text) {
        sbuf_str(b, text);
    }
    sbuf_add(b, last ? "\r\n" : ",", last ? 2 : 1);
}

static const char *column_text(sqlite3_stmt *st, int col)
{
    return (const char *)sqlite3_column_text(st, col);
}

static int csv_row(struct exporter *x)
{
    static const int head[] = {C_ID,       C_VILLAGE, C_CASE_NO, C_CATEGORY,
                               C_SEVERITY, C_STATUS,  C_TITLE};
    sqlite3_stmt *st = x->cases;
    struct sbuf names = {0};
    struct sbuf *b = &x->line;
    b->len = 0;
    for (size_t i = 0; i < COUNT(head); i++) {
        csv_field(b, column_text(st, head[i]), 0);
    }
    bind_case(x, x->parties);
    int step, first = 1;
    while ((step = sqlite3_step(x->parties)) == SQLITE_ROW) {
        const char *name = column_text(x->parties, 1);
        if (name) {
            if (!first) {
                sbuf_str(&names, name_separator);
            }
            sbuf_str(&names, name);
            first = 0;
        }
    }
    sqlite3_reset(x->parties);
    sbuf_add(&names, "", 1);
    int rc = step == SQLITE_DONE ? 0 : SYNC_E_DB;
    csv_field(b, names.failed ? NULL : names.data, 0);
    csv_field(b, column_text(st, C_MEDIATOR_NAME), 0);
    csv_field(b, column_text(st, C_CREATED_AT), 0);
    csv_field(b, column_text(st, C_UPDATED_AT), 0);
    bind_case(x, x->summary);
    if (rc == 0 && sqlite3_step(x->summary) == SQLITE_ROW) {
        csv_field(b, column_text(x->summary, 0), 0);
        csv_field(b, column_text(x->summary, 1), 1);
    } else {
        rc = SYNC_E_DB;
    }
    sqlite3_reset(x->summary);
    if (rc == 0) {
        rc = b->failed || names.failed ? SYNC_E_NOMEM : x->write(x->ctx, b->data, b->len);
    }
    free(names.data);
    return rc;
}

/* Run row() for every case of the export, after writing head (if any). */
static int export_cases(struct replica *r, const char *code, unsigned flags,
                        ledger_io_write_fn write, void *ctx, const char *head,
                        int (*row)(struct exporter *))
{
    if (!r || !write || (flags & ~(unsigned)LEDGER_IO_MASK)) {
        return SYNC_E_ARG;
    }
    struct exporter x = {.write = write, .ctx = ctx, .flags = flags};
    int rc = exporter_start(r, code, &x);
    if (rc != 0) {
        goto fail;
    }
    if (head && (rc = write(ctx, head, strlen(head))) != 0) {
        goto fail;
    }
    int step;
    while ((step = sqlite3_step(x.cases)) == SQLITE_ROW) {
        if ((rc = row(&x)) != 0) {
            goto fail;
        }
    }
    if (step != SQLITE_DONE) {
        rc = SYNC_E_DB;
        goto fail;
    }
    exporter_done(&x);
    return 0;

fail:
    exporter_done(&x);
    return rc;
}

int ledger_io_export_jsonl(struct replica *r, const char *village_code, unsigned flags,
                           ledger_io_write_fn write, void *ctx)
{
    return export_cases(r, village_code, flags, write, ctx, NULL, jsonl_row);
}

int ledger_io_export_csv(struct replica *r, const char *village_code, unsigned flags,
                         ledger_io_write_fn write, void *ctx)
{
    char head[sizeof csv_bom + sizeof csv_header];
    snprintf(head, sizeof head, "%s%s", csv_bom, csv_header);
    return export_cases(r, village_code, flags, write, ctx, head, csv_row);
}

/* ---- a buffer for the writers ---- */

int ledger_io_buffer_write(void *ctx, const char *data, size_t len)
{
    struct ledger_io_buffer *b = ctx;
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + len + 1) {
            cap *= 2;
        }
        char *grown = realloc(b->data, cap);
        if (!grown) {
            return SYNC_E_NOMEM;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

void ledger_io_buffer_free(struct ledger_io_buffer *buffer)
{
    if (buffer) {
        free(buffer->data);
        memset(buffer, 0, sizeof *buffer);
    }
}
