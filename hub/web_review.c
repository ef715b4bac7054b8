/* SPDX-License-Identifier: MIT */
/*
 * web_review.c - the review pages' endpoints: the ledger, a case and its
 * history, the township's actions on a case, conflicts, the lists, the
 * figures and the devices (the table at the end; web.h lists them). Each
 * one checks its input, calls the module that knows the answer (view.h for
 * reading, review.h and store.h for deciding) and answers JSON. Every
 * decision is recorded in the auth log with the account that made it.
 */
#include "cert.h"
#include "devices.h"
#include "hub_error.h"
#include "ledger_io.h"
#include "qr.h"
#include "review.h"
#include "sync_error.h"
#include "view.h"
#include "vocabulary.h"
#include "web_int.h"
#include "webutil.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bytes of a note or comment of a decision: 1,000 characters of any
 * script (the workflow counts the characters of a correction). */
#define WEB_MAX_NOTE ((size_t)4 * WORKFLOW_CORRECTION_MAX)

/* ---- reading the request ---- */

/* A whole number from text in [min, max], or -1 with *bad set. */
static long parse_long(const char *text, long min, long max, int *bad)
{
    char *end = NULL;
    errno = 0;
    long v = text ? strtol(text, &end, 10) : 0;
    if (!text || errno || !text[0] || *end || v < min || v > max) {
        *bad = 1;
        return -1;
    }
    return v;
}

/* A query argument that is a flag: absent or "0" is 0, "1" is 1. */
static int arg_flag(const struct web_call *c, const char *name, int *bad)
{
    const char *v = web_arg(c, name);
    if (!v || !v[0] || !strcmp(v, "0")) {
        return 0;
    }
    if (!strcmp(v, "1")) {
        return 1;
    }
    *bad = 1;
    return 0;
}

/* A query argument that is a number in [min, max]; absent or empty is dflt. */
static int arg_int(const struct web_call *c, const char *name, int min, int max, int dflt, int *bad)
{
    const char *v = web_arg(c, name);
    return v && v[0] ? (int)parse_long(v, min, max, bad) : dflt;
}

/* A query argument, NULL when absent or empty. */
static const char *arg_text(const struct web_call *c, const char *name)
{
    const char *v = web_arg(c, name);
    return v && v[0] ? v : NULL;
}

/* The language of the answer's words: ?lang=en, else Chinese. */
static const char *arg_lang(const struct web_call *c)
{
    return webutil_lang(web_arg(c, "lang"));
}

/* The rules in force (the defaults when the site has none). */
static const struct rules_config *site_rules(const struct web_call *c)
{
    static struct rules_config defaults;
    static int ready;
    if (c->site->rules) {
        return c->site->rules;
    }
    if (!ready) {
        rules_config_default(&defaults); /* the same values each time: a race is harmless */
        ready = 1;
    }
    return &defaults;
}

/* ---- answering ---- */

/* An error of the store or the engine, as a 500 (or 404 for not found). */
static void store_failed(struct web_response *out, int rc)
{
    if (rc == HUB_E_NOT_FOUND || rc == SYNC_E_NOT_FOUND) {
        web_error(out, 404, "not_found", "no such record");
        return;
    }
    web_error(out, 500, "store", rc < -1000 ? sync_strerror(rc) : hub_strerror(rc));
}

/* ---- the ledger and a case ---- */

static void do_cases(const struct web_call *c, struct web_response *out)
{
    int bad = 0;
    struct view_filter f = {
        .village = arg_text(c, "village"),
        .category = arg_text(c, "category"),
        .kind = arg_text(c, "kind"),
        .status = arg_text(c, "status"),
        .severity = arg_int(c, "class", RULES_SEVERITY_MIN, RULES_SEVERITY_MAX, 0, &bad),
        .level = arg_int(c, "level", RULES_LEVEL_MIN, RULES_LEVEL_MAX, 0, &bad),
        .overdue = arg_flag(c, "overdue", &bad),
        .conflict = arg_flag(c, "conflict", &bad),
        .q = arg_text(c, "q"),
        .sort = arg_text(c, "sort"),
        .desc = 0,
        .page = arg_int(c, "page", 1, VIEW_MAX_PAGE, 1, &bad),
        .per = arg_int(c, "per", 1, VIEW_MAX_PER, VIEW_DEFAULT_PER, &bad),
    };
    const char *dir = arg_text(c, "dir");
    if (dir && strcmp(dir, "asc") != 0 && strcmp(dir, "desc") != 0) {
        bad = 1;
    }
    f.desc = dir && !strcmp(dir, "desc");
    if (bad) {
        char message[200];
        snprintf(message, sizeof message,
                 "a filter is out of range: class 1-3, level 1-7, overdue and conflict 0 or 1,"
                 " dir asc or desc, page 1 to %d, per 1 to %d",
                 VIEW_MAX_PAGE, VIEW_MAX_PER);
        web_error(out, 400, "bad_request", message);
        return;
    }
    cJSON *obj = NULL;
    char why[256] = "";
    int rc = view_cases(c->site->store, site_rules(c), &f, &obj, why, sizeof why);
    if (rc == HUB_E_ARG) {
        web_error(out, 400, "bad_request", why);
        return;
    }
    if (rc != 0) {
        store_failed(out, rc);
        return;
    }
    web_json(out, 200, obj);
}

/* A case as view_case() gives it, the numbers in full when reveal. */
static void answer_case(const struct web_call *c, const char *id, int reveal,
                        struct web_response *out)
{
    if (!id || !id[0] || strlen(id) > 64) {
        web_error(out, 400, "bad_request", "which case? (?id=...)");
        return;
    }
    cJSON *obj = NULL;
    char why[256] = "";
    int rc = view_case(c->site->store, site_rules(c), id, reveal, &obj, why, sizeof why);
    if (rc == HUB_E_NOT_FOUND || rc == SYNC_E_NOT_FOUND) {
        web_error(out, 404, "not_found", "no such case");
        return;
    }
    if (rc != 0) {
        store_failed(out, rc);
        return;
    }
    web_json(out, 200, obj);
}

static void do_case(const struct web_call *c, struct web_response *out)
{
    answer_case(c, web_arg(c, "id"), 0, out);
}

static void do_reveal(const struct web_call *c, struct web_response *out)
{
    cJSON *doc = web_read_json(c, out);
    if (!doc) {
        return;
    }
    int bad = 0;
    const char *id = webutil_member_text(doc, "id", 64, &bad);
    if (bad || !id) {
        web_error(out, 400, "bad_request", "expected {\"id\": CASE}");
        cJSON_Delete(doc);
        return;
    }
    int rc = review_reveal_case(c->site->store, site_rules(c), id, c->user->name);
    if (rc != 0) {
        store_failed(out, rc);
        cJSON_Delete(doc);
        return;
    }
    web_log_decision(c, "reveal", id);
    answer_case(c, id, 1, out);
    cJSON_Delete(doc);
}

/* ---- actions on a case ---- */

/* What the actions share: the case, an optional note; the rest is read
 * by each. */
struct action {
    cJSON *doc;
    const char *id, *note;
};

static int action_begin(const struct web_call *c, struct web_response *out, struct action *a)
{
    a->doc = web_read_json(c, out);
    if (!a->doc) {
        return -1;
    }
    int bad = 0;
    a->id = webutil_member_text(a->doc, "id", 64, &bad);
    a->note = webutil_member_text(a->doc, "note", WEB_MAX_NOTE, &bad);
    if (bad || !a->id || !a->id[0]) {
        web_error(out, 400, "bad_request",
                  "expected {\"id\": CASE, ...} with a note of at most 1000 characters");
        cJSON_Delete(a->doc);
        return -1;
    }
    return 0;
}

/* The end of an action: refused by the rules (422 with the reason),
 * failed, or done (logged). */
static void action_end(const struct web_call *c, struct web_response *out, struct action *a, int rc,
                       const char *why, const char *what, const char *detail)
{
    if (rc == SYNC_E_NOT_FOUND || rc == HUB_E_NOT_FOUND) {
        web_error(out, 404, "not_found", "no such case");
    } else if (rc < 0 && rc > -1000) {
        web_error(out, 422, "refused", why[0] ? why : "the rules do not allow this");
    } else if (rc != 0) {
        store_failed(out, rc);
    } else {
        char line[300];
        snprintf(line, sizeof line, "case %s: %s", a->id, detail);
        web_log_decision(c, what, line);
        answer_case(c, a->id, 0, out);
    }
    cJSON_Delete(a->doc);
}

static void do_deadline(const struct web_call *c, struct web_response *out)
{
    struct action a;
    if (action_begin(c, out, &a) != 0) {
        return;
    }
    int bad = 0;
    const char *text = webutil_member_text(a.doc, "date", RULES_DATE_LEN, &bad);
    struct rules_date date = RULES_DATE_NONE;
    if (bad || (text && rules_date_parse(text, &date) != 0)) {
        web_error(out, 400, "bad_request", "date: YYYY-MM-DD, or null to lift the deadline");
        cJSON_Delete(a.doc);
        return;
    }
    char why[WORKFLOW_WHY] = "";
    int rc = review_deadline(c->site->store, site_rules(c), a.id, date, a.note, why, sizeof why);
    action_end(c, out, &a, rc, why, "deadline", text ? text : "lifted");
}

static void do_level(const struct web_call *c, struct web_response *out)
{
    struct action a;
    if (action_begin(c, out, &a) != 0) {
        return;
    }
    const cJSON *level = cJSON_GetObjectItemCaseSensitive(a.doc, "level");
    if (!cJSON_IsNumber(level) || level->valuedouble < RULES_LEVEL_MIN ||
        level->valuedouble > RULES_LEVEL_MAX || level->valuedouble != (int)level->valuedouble) {
        web_error(out, 400, "bad_request", "level: a whole number from 1 to 7");
        cJSON_Delete(a.doc);
        return;
    }
    char why[WORKFLOW_WHY] = "", detail[32];
    snprintf(detail, sizeof detail, "level %d", level->valueint);
    int rc = review_level(c->site->store, site_rules(c), a.id, level->valueint, c->user->name, why,
                          sizeof why);
    action_end(c, out, &a, rc, why, "level", detail);
}

static void do_correction(const struct web_call *c, struct web_response *out)
{
    struct action a;
    if (action_begin(c, out, &a) != 0) {
        return;
    }
    int bad = 0;
    const char *comment = webutil_member_text(a.doc, "comment", WEB_MAX_NOTE, &bad);
    if (bad || (comment && !comment[0])) {
        web_error(out, 400, "bad_request",
                  "comment: what needs correcting (at most 1000 characters), or null to clear");
        cJSON_Delete(a.doc);
        return;
    }
    char why[WORKFLOW_WHY] = "";
    int rc = review_correction(c->site->store, site_rules(c), a.id, comment, c->user->name, why,
                               sizeof why);
    action_end(c, out, &a, rc, why, "correction", comment ? "needs correction" : "cleared");
}

static void do_mediator(const struct web_call *c, struct web_response *out)
{
    struct action a;
    if (action_begin(c, out, &a) != 0) {
        return;
    }
    int bad = 0;
    const char *name =
        webutil_member_text(a.doc, "name", (size_t)4 * WORKFLOW_MEDIATOR_NAME_MAX, &bad);
    const char *mediator_id =
        webutil_member_text(a.doc, "mediator_id", WORKFLOW_MEDIATOR_ID_MAX, &bad);
    if (bad || !name || !name[0]) {
        web_error(out, 400, "bad_request",
                  "name: the mediator's name (at most 50 characters); mediator_id optional");
        cJSON_Delete(a.doc);
        return;
    }
    char why[WORKFLOW_WHY] = "";
    int rc = review_mediator(c->site->store, site_rules(c), a.id, name,
                             mediator_id && mediator_id[0] ? mediator_id : NULL, c->user->name, why,
                             sizeof why);
    action_end(c, out, &a, rc, why, "mediator", "mediator assigned");
}

/* ---- conflicts ---- */

static void do_conflicts(const struct web_call *c, struct web_response *out)
{
    int bad = 0;
    int all = arg_flag(c, "all", &bad);
    if (bad) {
        web_error(out, 400, "bad_request", "all: 0 (open conflicts) or 1 (resolved ones too)");
        return;
    }
    cJSON *obj = NULL;
    int rc = view_conflicts(c->site->store, arg_text(c, "village"), !all, &obj);
    if (rc != 0) {
        store_failed(out, rc);
        return;
    }
    web_json(out, 200, obj);
}

static void do_resolve(const struct web_call *c, struct web_response *out)
{
    cJSON *doc = web_read_json(c, out);
    if (!doc) {
        return;
    }
    int bad = 0;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(doc, "id");
    const char *choice = webutil_member_text(doc, "choice", 16, &bad);
    const char *value = webutil_member_text(doc, "value", 500, &bad);
    if (bad || !cJSON_IsNumber(id) || id->valuedouble < 1 || !choice ||
        (strcmp(choice, "standing") != 0 && strcmp(choice, "incoming") != 0 &&
         strcmp(choice, "value") != 0) ||
        (!strcmp(choice, "value") != !!value)) {
        web_error(out, 400, "bad_request",
                  "expected {\"id\": N, \"choice\": \"standing\"|\"incoming\"} or"
                  " {\"id\": N, \"choice\": \"value\", \"value\": TEXT (at most 500 bytes)}");
        cJSON_Delete(doc);
        return;
    }
    int64_t n = (int64_t)id->valuedouble;
    char who[AUTH_NAME_MAX + 16];
    snprintf(who, sizeof who, "web:%s", c->user->name);
    int rc = store_conflict_resolve(c->site->store, n, choice, value, who);
    if (rc == SYNC_E_NOT_FOUND) {
        web_error(out, 404, "not_found", "no such conflict");
    } else if (rc == SYNC_E_STATE) {
        web_error(out, 409, "resolved", "this conflict has been decided already");
    } else if (rc == HUB_E_ARG) {
        web_error(out, 422, "refused", "the field cannot hold that value");
    } else if (rc != 0) {
        store_failed(out, rc);
    } else {
        char line[64];
        snprintf(line, sizeof line, "conflict %lld: kept %s", (long long)n, choice);
        web_log_decision(c, "conflict", line);
        web_ok(out);
    }
    cJSON_Delete(doc);
}

/* ---- lists and figures ---- */

static void do_list(const struct web_call *c, struct web_response *out)
{
    static const struct {
        const char *name;
        enum casefile_list which;
        int days;
    } lists[] = {
        {"overdue", CASEFILE_OVERDUE, -1},
        {"due", CASEFILE_DUE_SOON, 7},
        {"followups", CASEFILE_FOLLOWUPS, -1},
        {"corrections", CASEFILE_CORRECTIONS, -1},
    };
    const char *name = web_arg(c, "which");
    size_t i = 0;
    while (i < sizeof lists / sizeof lists[0] && (!name || strcmp(name, lists[i].name) != 0)) {
        i++;
    }
    int bad = 0;
    int days =
        i < sizeof lists / sizeof lists[0] ? arg_int(c, "days", 0, 3650, lists[i].days, &bad) : 0;
    if (i == sizeof lists / sizeof lists[0] || bad) {
        web_error(out, 400, "bad_request",
                  "which: overdue, due, followups or corrections; days from 0 to 3650");
        return;
    }
    struct ledger_io_buffer b = {0};
    int rc = review_list(c->site->store, site_rules(c), lists[i].which, arg_text(c, "village"),
                         days, 1, arg_lang(c), ledger_io_buffer_write, &b);
    if (rc != 0) {
        store_failed(out, rc);
    } else {
        web_body(out, 200, "application/json", b.data ? b.data : "[]", b.data ? b.len : 2);
    }
    ledger_io_buffer_free(&b);
}

/* The period of a report: ?month=YYYY-MM or ?year=YYYY. */
static int report_period(const struct web_call *c, struct rules_period *period,
                         struct web_response *out)
{
    const char *month = arg_text(c, "month"), *year = arg_text(c, "year");
    const char *given = month ? month : year;
    if (!month == !year || rules_period_parse(given, period) != 0 ||
        strlen(given) != (month ? 7u : 4u)) {
        web_error(out, 400, "bad_request", "the period: ?month=YYYY-MM or ?year=YYYY");
        return -1;
    }
    return 0;
}

static void report(const struct web_call *c, struct web_response *out, enum review_format format)
{
    struct rules_period period;
    if (report_period(c, &period, out) != 0) {
        return;
    }
    const char *village = arg_text(c, "village");
    struct ledger_io_buffer b = {0};
    int rc = review_report(c->site->store, site_rules(c), &period, village, format, arg_lang(c),
                           ledger_io_buffer_write, &b);
    if (rc == HUB_E_NOT_FOUND) {
        web_error(out, 404, "not_found", "no such village");
    } else if (rc != 0) {
        store_failed(out, rc);
    } else if (format == REVIEW_CSV) {
        const char *given = arg_text(c, "month") ? arg_text(c, "month") : arg_text(c, "year");
        web_body(out, 200, "text/csv; charset=utf-8", b.data ? b.data : "", b.len);
        char name[80];
        snprintf(name, sizeof name, "hamlet-report-%s%s%s.csv", given, village ? "-" : "",
                 village ? village : "");
        for (char *p = name; *p; p++) { /* a file name, whatever the village's code holds */
            *p = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_", *p)
                     ? *p
                     : '_';
        }
        web_header(out, "Content-Disposition", "attachment; filename=\"%s\"", name);
    } else {
        web_body(out, 200, "application/json", b.data ? b.data : "{}", b.data ? b.len : 2);
    }
    ledger_io_buffer_free(&b);
}

static void do_report(const struct web_call *c, struct web_response *out)
{
    report(c, out, REVIEW_JSON);
}

static void do_report_csv(const struct web_call *c, struct web_response *out)
{
    report(c, out, REVIEW_CSV);
}

/* ---- the words of the ledger ---- */

static void do_vocabulary(const struct web_call *c, struct web_response *out)
{
    web_json(out, 200, vocabulary_json(site_rules(c)));
}

/* ---- devices ---- */

static int add_device(void *ctx, const struct store_device *d)
{
    cJSON *v = cJSON_CreateObject();
    if (!v || !cJSON_AddItemToArray(ctx, v) || !cJSON_AddStringToObject(v, "id", d->id) ||
        !cJSON_AddStringToObject(v, "village", d->village) ||
        !cJSON_AddStringToObject(v, "village_name", d->village_name) ||
        !cJSON_AddStringToObject(v, "label", d->label) ||
        !cJSON_AddStringToObject(v, "status", d->status) ||
        !cJSON_AddStringToObject(v, "case_code", d->case_code) ||
        !cJSON_AddNumberToObject(v, "created_ms", (double)d->created_ms) ||
        !cJSON_AddNumberToObject(v, "enrolled_ms", (double)d->enrolled_ms) ||
        !cJSON_AddNumberToObject(v, "revoked_ms", (double)d->revoked_ms) ||
        !cJSON_AddNumberToObject(v, "last_sync_ms", (double)d->last_sync_ms) ||
        !cJSON_AddNumberToObject(v, "clock_offset_ms", (double)d->clock_offset_ms) ||
        !cJSON_AddNumberToObject(v, "syncs", (double)d->syncs) ||
        !cJSON_AddNumberToObject(v, "bytes_in", (double)d->bytes_in) ||
        !cJSON_AddNumberToObject(v, "bytes_out", (double)d->bytes_out) ||
        !cJSON_AddStringToObject(v, "last_result", d->last_result) ||
        !cJSON_AddNumberToObject(v, "errors", (double)d->errors) ||
        !cJSON_AddNumberToObject(v, "refused", (double)d->refused)) {
        return HUB_E_NOMEM; /* v, once in the array, is freed with it */
    }
    return 0;
}

static void do_devices(const struct web_call *c, struct web_response *out)
{
    cJSON *obj = cJSON_CreateObject();
    cJSON *list = obj ? cJSON_AddArrayToObject(obj, "devices") : NULL;
    int rc = list ? store_device_list(c->site->store, arg_text(c, "village"), add_device, list)
                  : HUB_E_NOMEM;
    if (rc != 0) {
        cJSON_Delete(obj);
        store_failed(out, rc);
        return;
    }
    web_json(out, 200, obj);
}

static void do_device_add(const struct web_call *c, struct web_response *out)
{
    const struct web_site *site = c->site;
    cJSON *doc = web_read_json(c, out);
    if (!doc) {
        return;
    }
    int bad = 0;
    const char *village = webutil_member_text(doc, "village", DELTA_MAX_PART, &bad);
    const char *label = webutil_member_text(doc, "label", 120, &bad);
    if (bad || !village) {
        web_error(out, 400, "bad_request",
                  "expected {\"village\": CODE, \"label\": TEXT (at most 120 bytes)}");
        cJSON_Delete(doc);
        return;
    }
    if (!site->public_url || !site->cert_path) {
        web_error(out, 409, "no_url",
                  "the hub's public URL is not set (url in hub.conf): no enrolment code can be"
                  " made");
        cJSON_Delete(doc);
        return;
    }
    char pin[CERT_PIN_LEN], why[300], id[UUID7_STRLEN + 1], code[DEVICES_CODE_LEN], line[1024];
    int rc = cert_pin_file(site->cert_path, pin, sizeof pin, why, sizeof why);
    if (rc != 0) {
        web_error(out, 500, "certificate", why);
        cJSON_Delete(doc);
        return;
    }
    int64_t valid_ms = (int64_t)site->enrol_valid_days * 86400 * 1000;
    rc = store_device_add(site->store, village, label, valid_ms, id, code);
    if (rc == HUB_E_NOT_FOUND) {
        web_error(out, 404, "not_found", "no such village");
    } else if (rc != 0) {
        store_failed(out, rc);
    } else if (devices_enrolment_code(site->public_url, pin, id, code, line, sizeof line) != 0) {
        web_error(out, 500, "url", "the hub's URL cannot go into an enrolment code");
    } else {
        char *svg = NULL;
        cJSON *obj = cJSON_CreateObject();
        int ok = obj && cJSON_AddStringToObject(obj, "id", id) &&
                 cJSON_AddStringToObject(obj, "village", village) &&
                 cJSON_AddStringToObject(obj, "code", line) &&
                 cJSON_AddNumberToObject(obj, "valid_days", site->enrol_valid_days);
        /* The QR image is a convenience: without it the code is typed. */
        if (ok && qr_svg(line, &svg) == 0) {
            ok = cJSON_AddStringToObject(obj, "qr_svg", svg) != NULL;
        }
        free(svg);
        if (!ok) {
            cJSON_Delete(obj);
            obj = NULL;
        }
        char detail[160];
        snprintf(detail, sizeof detail, "device %s added to village %s", id, village);
        web_log_decision(c, "device_added", detail);
        web_json(out, 200, obj);
    }
    sodium_memzero(code, sizeof code);
    sodium_memzero(line, sizeof line);
    cJSON_Delete(doc);
}

static void do_device_revoke(const struct web_call *c, struct web_response *out)
{
    cJSON *doc = web_read_json(c, out);
    if (!doc) {
        return;
    }
    int bad = 0;
    const char *id = webutil_member_text(doc, "id", UUID7_STRLEN, &bad);
    if (bad || !id) {
        web_error(out, 400, "bad_request", "expected {\"id\": DEVICE}");
        cJSON_Delete(doc);
        return;
    }
    int rc = store_device_revoke(c->site->store, id);
    if (rc != 0) {
        store_failed(out, rc);
    } else {
        char detail[80];
        snprintf(detail, sizeof detail, "device %s revoked", id);
        web_log_decision(c, "device_revoked", detail);
        web_ok(out);
    }
    cJSON_Delete(doc);
}

const struct web_endpoint web_review_endpoints[] = {
    {"GET", "/api/vocabulary", WEB_SESSION, do_vocabulary},
    {"GET", "/api/cases", WEB_SESSION, do_cases},
    {"GET", "/api/case", WEB_SESSION, do_case},
    {"POST", "/api/case/reveal", WEB_CHANGE, do_reveal},
    {"POST", "/api/case/deadline", WEB_CHANGE, do_deadline},
    {"POST", "/api/case/level", WEB_CHANGE, do_level},
    {"POST", "/api/case/correction", WEB_CHANGE, do_correction},
    {"POST", "/api/case/mediator", WEB_CHANGE, do_mediator},
    {"GET", "/api/conflicts", WEB_SESSION, do_conflicts},
    {"POST", "/api/conflicts/resolve", WEB_CHANGE, do_resolve},
    {"GET", "/api/list", WEB_SESSION, do_list},
    {"GET", "/api/report", WEB_SESSION, do_report},
    {"GET", "/api/report.csv", WEB_SESSION, do_report_csv},
    {"GET", "/api/devices", WEB_SESSION, do_devices},
    {"POST", "/api/devices/add", WEB_ADMIN, do_device_add},
    {"POST", "/api/devices/revoke", WEB_ADMIN, do_device_revoke},
};
const size_t web_review_endpoints_count =
    sizeof web_review_endpoints / sizeof web_review_endpoints[0];
