/* SPDX-License-Identifier: MIT */
/*
 * ui_api.c - the endpoints of the village's pages (the table at the end):
 * the session, the ledger's words, the Today page's lists and sync state,
 * the list and search of the village's cases, a new case with its parties,
 * a case with its parties (masked unless revealed), events, agreements and
 * the steps allowed now, the steps themselves, a correction of a party's
 * details, agreements and their paper form, contacts, the sync and the
 * enrolment. Each one checks its input, calls the module the command line
 * calls for the same work (workflow.h, casework.h, casefile.h,
 * sync_client.h; replica_put() for a party's details, as `hamlet contact
 * set` does) and answers JSON; a step the rules refuse answers 409 with the
 * rules' own sentence.
 */
#include "ui_int.h"

#include "casefile.h"
#include "casework.h"
#include "hlc.h"
#include "ledger_io.h"
#include "ledger_schema.h"
#include "replica.h"
#include "sync_client.h"
#include "sync_error.h"
#include "township_rules.h"
#include "vocabulary.h"
#include "webutil.h"
#include "workflow.h"

#include <errno.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TITLE 400 /* bytes of a case's title, or of a party's address */
#define MAX_SHORT 200 /* bytes of a name, role, received_by */
#define MAX_PHONE 40  /* bytes of a phone number (20 digits and separators) */
#define MAX_ID_NO 18  /* bytes of an identity-card number */
#define MAX_CODE  1000

/* The roles of a party, as the reference data stores them. */
static const char *const roles[][3] = {
    {"申请人", "申请人", "applicant"},
    {"被申请人", "被申请人", "respondent"},
    {"第三人", "第三人", "third party"},
};

/* The kinds of event a secretary records by hand; the others are written
 * by the steps of the work (workflow.h). */
static const char *const manual_events[] = {"session", "visit", "inspection", "phone"};

/* ---- small tools ---- */

/* A string member of a JSON body: NULL when absent, null or empty; *bad
 * (with the member's name in *which) when not a string or longer than max
 * bytes. */
static const char *member_text(const cJSON *doc, const char *name, size_t max, const char **which)
{
    int bad = 0;
    const char *text = webutil_member_text(doc, name, max, &bad);
    if (bad && !*which) {
        *which = name;
    }
    return text && text[0] ? text : NULL;
}

/* A whole-number member in [min, max]; dflt when absent or null. */
static int member_int(const cJSON *doc, const char *name, int min, int max, int dflt,
                      const char **which)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(doc, name);
    if (!item || cJSON_IsNull(item) || (cJSON_IsString(item) && !item->valuestring[0])) {
        return dflt;
    }
    double v = cJSON_IsNumber(item)   ? item->valuedouble
               : cJSON_IsString(item) ? strtod(item->valuestring, NULL)
                                      : min - 1.0;
    if (v < min || v > max || v != (double)(int)v) {
        if (!*which) {
            *which = name;
        }
        return dflt;
    }
    return (int)v;
}

static void bad_member(struct ui_response *out, const char *which)
{
    char message[160];
    snprintf(message, sizeof message, "\"%s\" is missing, too long or of the wrong kind", which);
    ui_error(out, 400, "bad_request", message);
}

/* The request's body, and the village it works on; NULL with the
 * refusal made. */
static int need_village(const struct ui_call *c, struct ui_response *out)
{
    if (!c->local->village[0]) {
        ui_error(out, 409, "no_village", "this laptop has no village yet: enrol it first");
        return -1;
    }
    return 0;
}

static cJSON *read_change(const struct ui_call *c, struct ui_response *out)
{
    return need_village(c, out) == 0 ? ui_read_json(c, out) : NULL;
}

/* Adds the column's value to obj under its name: text, number or null. */
static int add_column(cJSON *obj, sqlite3_stmt *st, int col)
{
    const char *name = sqlite3_column_name(st, col);
    switch (sqlite3_column_type(st, col)) {
    case SQLITE_INTEGER:
        return cJSON_AddNumberToObject(obj, name, (double)sqlite3_column_int64(st, col)) ? 0 : -1;
    case SQLITE_NULL:
        return cJSON_AddNullToObject(obj, name) ? 0 : -1;
    default:
        return cJSON_AddStringToObject(obj, name, (const char *)sqlite3_column_text(st, col)) ? 0
                                                                                              : -1;
    }
}

static int add_row(cJSON *obj, sqlite3_stmt *st)
{
    for (int i = 0; i < sqlite3_column_count(st); i++) {
        if (add_column(obj, st, i) != 0) {
            return -1;
        }
    }
    return 0;
}

static int add_date(cJSON *obj, const char *name, struct rules_date d)
{
    char text[RULES_DATE_LEN + 1];
    if (!rules_date_valid(d)) {
        return cJSON_AddNullToObject(obj, name) ? 0 : -1;
    }
    (void)rules_date_format(d, text);
    return cJSON_AddStringToObject(obj, name, text) ? 0 : -1;
}

/* The casefile of the village as of today, by the township's rules. */
static int load_casefile(struct local *local, struct casefile **cf)
{
    struct workflow w;
    struct rules_config config;
    char now[40];
    casework_setup(local, &w, &config, now, sizeof now, "en");
    return casefile_load(local->replica, local->village, &config, w.today, cf);
}

static const char *due_state_name(enum rules_due_state s)
{
    static const char *const names[] = {"none", "on_time", "due_soon", "overdue"};
    return (unsigned)s < 4 ? names[s] : "none";
}

static const char *followup_state_name(enum rules_followup_state s)
{
    static const char *const names[] = {"none", "due", "overdue", "done"};
    return (unsigned)s < 4 ? names[s] : "none";
}

/* ---- the session and the words ---- */

static void do_session(const struct ui_call *c, struct ui_response *out)
{
    struct local *l = c->local;
    char hub[LOCAL_TEXT], code[RULES_DEVICE_CODE_LEN + 1];
    local_get(l, "agent.hub_url", hub, sizeof hub);
    casework_device_code(l, code);
    struct rules_date today;
    (void)rules_today(hlc_wall(replica_clock(l->replica)), &today);
    cJSON *obj = cJSON_CreateObject();
    if (!obj || !cJSON_AddStringToObject(obj, "csrf", ui_csrf(c->site)) ||
        !cJSON_AddStringToObject(obj, "village", l->village) ||
        !cJSON_AddStringToObject(obj, "village_name", l->village_name) ||
        !cJSON_AddBoolToObject(obj, "enrolled", hub[0] != '\0') ||
        !cJSON_AddStringToObject(obj, "hub", hub) ||
        !cJSON_AddStringToObject(obj, "device_code", code) || add_date(obj, "today", today) != 0) {
        cJSON_Delete(obj);
        obj = NULL;
    }
    ui_json(out, 200, obj);
}

/* The ledger's words (vocabulary.h), and the village pages' own: which
 * channels fit each kind, the events recorded by hand, the referrals and
 * the parties' roles. */
static void do_vocabulary(const struct ui_call *c, struct ui_response *out)
{
    struct rules_config config;
    if (!c->local->village[0] ||
        township_rules_load(c->local->replica, c->local->village, &config) != 0) {
        rules_config_default(&config);
    }
    cJSON *obj = vocabulary_json(&config);
    cJSON *fits = obj ? cJSON_AddObjectToObject(obj, "kind_channels") : NULL;
    cJSON *manual = obj ? cJSON_AddArrayToObject(obj, "manual_events") : NULL;
    cJSON *referrals = obj ? cJSON_AddArrayToObject(obj, "referrals") : NULL;
    cJSON *role_list = obj ? cJSON_AddArrayToObject(obj, "roles") : NULL;
    int failed = !fits || !manual || !referrals || !role_list;
    for (int k = 1; !failed && k < RULES_KIND_COUNT; k++) {
        cJSON *ok = cJSON_AddArrayToObject(fits, rules_kind_name(k));
        failed = !ok;
        for (int ch = 1; !failed && ch < RULES_CHANNEL_COUNT; ch++) {
            if (rules_channel_fits_kind(k, ch)) {
                cJSON *name = cJSON_CreateString(rules_channel_name(ch));
                failed = !name || !cJSON_AddItemToArray(ok, name);
            }
        }
    }
    for (size_t k = 0; !failed && k < sizeof manual_events / sizeof manual_events[0]; k++) {
        cJSON *name = cJSON_CreateString(manual_events[k]);
        failed = !name || !cJSON_AddItemToArray(manual, name);
    }
    for (int k = 1; !failed && k < RULES_REFERRAL_COUNT; k++) {
        failed = vocabulary_add_word(referrals, rules_referral_name(k),
                                     rules_referral_label(k, "zh"), rules_referral_label(k, "en"));
    }
    for (size_t k = 0; !failed && k < sizeof roles / sizeof roles[0]; k++) {
        failed = vocabulary_add_word(role_list, roles[k][0], roles[k][1], roles[k][2]);
    }
    if (failed) {
        cJSON_Delete(obj);
        obj = NULL;
    }
    ui_json(out, 200, obj);
}

/* ---- Today ---- */

/* The list as `hamlet list ... --json` writes it, parsed. */
static cJSON *list_json(const struct casefile *cf, enum casefile_list which, const char *village,
                        int days, const char *lang)
{
    struct ledger_io_buffer t = {0};
    cJSON *list = NULL;
    if (casefile_write_list(cf, which, village, days, 1, lang, ledger_io_buffer_write, &t) == 0 &&
        t.data) {
        list = cJSON_Parse(t.data);
    }
    ledger_io_buffer_free(&t);
    return list;
}

static int add_sync_state(const struct ui_call *c, cJSON *obj)
{
    struct local *l = c->local;
    char hub[LOCAL_TEXT], result[LOCAL_TEXT];
    local_get(l, "agent.hub_url", hub, sizeof hub);
    local_get(l, "agent.last_result", result, sizeof result);
    int64_t offset = local_get_int(l, "agent.clock_offset_ms", 0);
    cJSON *s = cJSON_AddObjectToObject(obj, "sync");
    if (!s || !cJSON_AddBoolToObject(s, "enrolled", hub[0] != '\0') ||
        !cJSON_AddStringToObject(s, "hub", hub) ||
        !cJSON_AddNumberToObject(s, "pending", (double)local_pending(l)) ||
        !cJSON_AddNumberToObject(s, "last_sync_ms",
                                 (double)local_get_int(l, "agent.last_sync_ms", 0)) ||
        !cJSON_AddNumberToObject(s, "last_ok_ms",
                                 (double)local_get_int(l, "agent.last_ok_ms", 0)) ||
        !cJSON_AddStringToObject(s, "last_result", result) ||
        !cJSON_AddNumberToObject(s, "bytes_up_month",
                                 (double)local_get_int(l, "agent.bytes_up_month", 0)) ||
        !cJSON_AddNumberToObject(s, "bytes_down_month",
                                 (double)local_get_int(l, "agent.bytes_down_month", 0)) ||
        !cJSON_AddNumberToObject(s, "clock_offset_ms", (double)-offset) ||
        !cJSON_AddBoolToObject(s, "clock_off",
                               offset > SYNC_CLIENT_CLOCK_WARN_MS ||
                                   offset < -SYNC_CLIENT_CLOCK_WARN_MS) ||
        ui_sync_state(c->site, s) != 0) {
        return -1;
    }
    return 0;
}

static void do_today(const struct ui_call *c, struct ui_response *out)
{
    if (need_village(c, out) != 0) {
        return;
    }
    const char *lang = webutil_lang(ui_arg(c, "lang"));
    struct casefile *cf = NULL;
    int rc = load_casefile(c->local, &cf);
    if (rc != 0) {
        ui_error(out, 500, "ledger", sync_strerror(rc));
        return;
    }
    static const struct {
        const char *name;
        enum casefile_list which;
        int days;
    } lists[] = {{"overdue", CASEFILE_OVERDUE, -1},
                 {"due", CASEFILE_DUE_SOON, 7},
                 {"followups", CASEFILE_FOLLOWUPS, 7},
                 {"corrections", CASEFILE_CORRECTIONS, -1}};
    cJSON *obj = cJSON_CreateObject();
    int failed = !obj;
    for (size_t i = 0; !failed && i < sizeof lists / sizeof lists[0]; i++) {
        cJSON *list = list_json(cf, lists[i].which, c->local->village, lists[i].days, lang);
        failed = !list || !cJSON_AddItemToObject(obj, lists[i].name, list);
        if (failed) {
            cJSON_Delete(list);
        }
    }
    casefile_free(cf);
    if (failed || add_sync_state(c, obj) != 0) {
        cJSON_Delete(obj);
        obj = NULL;
    }
    ui_json(out, 200, obj);
}

/* ---- the list of cases ---- */

static int id_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void do_cases(const struct ui_call *c, struct ui_response *out)
{
    if (need_village(c, out) != 0) {
        return;
    }
    const char *q = ui_arg(c, "q"), *status = ui_arg(c, "status"), *kind = ui_arg(c, "kind"),
               *category = ui_arg(c, "category"), *severity = ui_arg(c, "severity");
    const char *overdue = ui_arg(c, "overdue");
    if (q && strlen(q) > UI_MAX_QUERY) {
        ui_error(out, 400, "bad_request", "the search is longer than 200 bytes");
        return;
    }
    q = q && q[0] ? q : NULL;
    enum rules_status want_status = RULES_STATUS_NONE;
    int open_only = status && !strcmp(status, "open");
    if (status && status[0] && !open_only && rules_status_parse(status, &want_status) != 0) {
        ui_error(out, 400, "bad_request", "unknown status");
        return;
    }
    enum rules_kind want_kind = RULES_KIND_NONE;
    if (kind && kind[0] && rules_kind_parse(kind, &want_kind) != 0) {
        ui_error(out, 400, "bad_request", "unknown kind");
        return;
    }
    int want_severity = 0;
    if (severity && severity[0]) {
        char *end;
        errno = 0;
        long v = strtol(severity, &end, 10);
        if (errno || *end || v < RULES_SEVERITY_MIN || v > RULES_SEVERITY_MAX) {
            ui_error(out, 400, "bad_request", "severity: a class from 1 to 3");
            return;
        }
        want_severity = (int)v;
    }
    /* The cases the search finds, by id: in their texts, number or parties. */
    char(*ids)[UUID7_STRLEN + 1] = NULL;
    size_t nids = 0, capids = 0;
    int rc = 0;
    if (q) {
        sqlite3_stmt *st;
        rc = sqlite3_prepare_v2(
                 replica_db(c->local->replica),
                 "SELECT id FROM cases c WHERE village = ?1 AND deleted = 0 AND ("
                 " instr(coalesce(title, ''), ?2) OR instr(coalesce(facts, ''), ?2) OR"
                 " instr(coalesce(claims, ''), ?2) OR instr(coalesce(case_no, ''), ?2) OR"
                 " EXISTS (SELECT 1 FROM case_parties p JOIN contacts k ON k.id = p.contact_id"
                 "  WHERE p.case_id = c.id AND p.deleted = 0 AND instr(coalesce(k.name, ''), ?2)))"
                 " ORDER BY id",
                 -1, &st, NULL) == SQLITE_OK
                 ? 0
                 : SYNC_E_DB;
        if (rc == 0) {
            sqlite3_bind_text(st, 1, c->local->village, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, q, -1, SQLITE_STATIC);
            while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
                if (nids == capids) {
                    capids = capids ? capids * 2 : 64;
                    void *grown = realloc(ids, capids * sizeof *ids);
                    if (!grown) {
                        rc = SYNC_E_NOMEM;
                        break;
                    }
                    ids = grown;
                }
                snprintf(ids[nids++], UUID7_STRLEN + 1, "%s", sqlite3_column_text(st, 0));
            }
            sqlite3_finalize(st);
        }
    }
    struct casefile *cf = NULL;
    if (rc == 0) {
        rc = load_casefile(c->local, &cf);
    }
    if (rc != 0) {
        free(ids);
        ui_error(out, 500, "ledger", sync_strerror(rc));
        return;
    }
    cJSON *obj = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(obj, "cases");
    int failed = !list;
    size_t total = 0;
    /* Newest first: ids are time-ordered. */
    for (size_t i = cf->n; !failed && i-- > 0;) {
        const struct casefile_case *k = &cf->cases[i];
        if ((q && (!ids || !bsearch(k->id, ids, nids, sizeof *ids, id_cmp))) ||
            (want_status && k->status != want_status) ||
            (open_only && !rules_status_is_open(k->status)) ||
            (want_kind && k->kind != want_kind) ||
            (category && category[0] && (!k->category || strcmp(k->category, category) != 0)) ||
            (want_severity && k->severity != want_severity) ||
            (overdue && !strcmp(overdue, "1") && k->due_state != RULES_DUE_OVERDUE)) {
            continue;
        }
        if (++total > UI_MAX_LIST) {
            continue; /* counted, not sent */
        }
        cJSON *v = cJSON_CreateObject();
        failed =
            !v || !cJSON_AddItemToArray(list, v) || !cJSON_AddStringToObject(v, "id", k->id) ||
            !cJSON_AddStringToObject(v, "case_no", k->case_no ? k->case_no : "") ||
            !cJSON_AddStringToObject(v, "title", k->title ? k->title : "") ||
            !cJSON_AddStringToObject(v, "kind", k->kind ? rules_kind_name(k->kind) : "dispute") ||
            !cJSON_AddStringToObject(v, "category", k->category ? k->category : "") ||
            !cJSON_AddStringToObject(v, "status",
                                     k->status ? rules_status_name(k->status)
                                               : (k->status_text ? k->status_text : "")) ||
            !cJSON_AddNumberToObject(v, "severity", k->severity) ||
            !cJSON_AddNumberToObject(v, "level", k->level) ||
            add_date(v, "received", k->received) != 0 || add_date(v, "due", k->due) != 0 ||
            !cJSON_AddStringToObject(v, "due_state", due_state_name(k->due_state)) ||
            !cJSON_AddBoolToObject(v, "correction", k->correction != NULL);
    }
    casefile_free(cf);
    free(ids);
    if (failed || !cJSON_AddNumberToObject(obj, "total", (double)total) ||
        !cJSON_AddNumberToObject(obj, "limit", UI_MAX_LIST)) {
        cJSON_Delete(obj);
        obj = NULL;
    }
    ui_json(out, 200, obj);
}

/* ---- one case ---- */

/* The case's JSON: its fields, what the rules say of it today, parties
 * (numbers masked unless reveal), events, agreements and the steps
 * allowed. Answers 404 when there is no such case of the village. */
static void answer_case(const struct ui_call *c, const char *id, int reveal,
                        struct ui_response *out)
{
    sqlite3 *db = replica_db(c->local->replica);
    sqlite3_stmt *st = NULL;
    cJSON *obj = cJSON_CreateObject(), *k = cJSON_AddObjectToObject(obj, "case");
    int failed = !k;
    if (sqlite3_prepare_v2(db,
                           "SELECT id, case_no, kind, channel, category, severity, status, level,"
                           " title, facts, claims, mediator_name, received_by, outcome,"
                           " created_at, accepted_on, concluded_on, deadline, extension_days,"
                           " result_notice_on, opinion, correction, correction_on,"
                           " correction_reply, correction_reply_on FROM cases"
                           " WHERE id = ?1 AND village = ?2 AND deleted = 0",
                           -1, &st, NULL) != SQLITE_OK) {
        cJSON_Delete(obj);
        ui_error(out, 500, "ledger", "cannot read the case");
        return;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, c->local->village, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        cJSON_Delete(obj);
        ui_error(out, 404, "not_found", "no such case in this village");
        return;
    }
    enum rules_status status = RULES_STATUS_NONE;
    const unsigned char *status_text = sqlite3_column_text(st, 6);
    if (!status_text || rules_status_parse((const char *)status_text, &status) != 0) {
        status = RULES_STATUS_REGISTERED; /* an unknown status counts as registered */
    }
    int level = sqlite3_column_type(st, 7) == SQLITE_NULL ? 1 : sqlite3_column_int(st, 7);
    failed = failed || add_row(k, st) != 0;
    sqlite3_finalize(st);

    /* The steps allowed now. */
    cJSON *allowed = cJSON_AddArrayToObject(obj, "allowed_statuses");
    failed = failed || !allowed;
    for (int to = 1; !failed && to < RULES_STATUS_COUNT; to++) {
        if (to != RULES_STATUS_REFERRED && rules_transition_allowed(status, to)) {
            cJSON *s = cJSON_CreateString(rules_status_name(to));
            failed = !s || !cJSON_AddItemToArray(allowed, s);
        }
    }
    failed =
        failed || !cJSON_AddBoolToObject(obj, "transfer_allowed",
                                         rules_transition_allowed(status, RULES_STATUS_REFERRED));
    cJSON *levels = cJSON_AddArrayToObject(obj, "levels_above");
    failed = failed || !levels;
    for (int to = level + 1; !failed && to <= RULES_LEVEL_MAX; to++) {
        failed = !cJSON_AddItemToArray(levels, cJSON_CreateNumber(to));
    }

    /* What the rules say of it today. */
    struct casefile *cf = NULL;
    if (!failed && load_casefile(c->local, &cf) == 0) {
        const struct casefile_case *f = casefile_find(cf, id);
        cJSON *r = cJSON_AddObjectToObject(obj, "rules");
        failed = !r;
        if (f && r) {
            failed = add_date(r, "due", f->due) != 0 ||
                     !cJSON_AddStringToObject(r, "due_state", due_state_name(f->due_state)) ||
                     !cJSON_AddNumberToObject(r, "due_days", (double)f->due_days) ||
                     add_date(r, "followup_due", f->followup_due) != 0 ||
                     !cJSON_AddStringToObject(r, "followup_state",
                                              followup_state_name(f->followup_state)) ||
                     !cJSON_AddBoolToObject(r, "correction_answered", f->correction_answered);
        }
    }
    casefile_free(cf);

    /* Parties. */
    cJSON *parties = cJSON_AddArrayToObject(obj, "parties");
    failed = failed || !parties;
    int masked = 0;
    if (!failed && sqlite3_prepare_v2(db,
                                      "SELECT p.id, p.role, k.id, k.name, k.phone, k.id_no,"
                                      " k.address FROM case_parties p"
                                      " LEFT JOIN contacts k ON k.id = p.contact_id"
                                      " WHERE p.case_id = ?1 AND p.deleted = 0"
                                      " ORDER BY p.position, p.id",
                                      -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        while (!failed && sqlite3_step(st) == SQLITE_ROW) {
            char phone[64] = "", id_no[64] = "";
            const char *p = (const char *)sqlite3_column_text(st, 4);
            const char *n = (const char *)sqlite3_column_text(st, 5);
            if (p && !reveal) {
                (void)rules_mask_phone(p, phone, sizeof phone);
            }
            if (n && !reveal) {
                (void)rules_mask_id_no(n, id_no, sizeof id_no);
            }
            masked |= !reveal && ((p && p[0]) || (n && n[0]));
            cJSON *v = cJSON_CreateObject();
            const char *names[] = {"id", "role", "contact_id", "name", NULL, NULL, "address"};
            failed = !v || !cJSON_AddItemToArray(parties, v);
            for (int col = 0; !failed && col < 7; col++) {
                const char *t = (const char *)sqlite3_column_text(st, col);
                const char *name = names[col] ? names[col] : col == 4 ? "phone" : "id_no";
                if (col == 4 && !reveal) {
                    t = phone[0] ? phone : t;
                } else if (col == 5 && !reveal) {
                    t = id_no[0] ? id_no : t;
                }
                failed =
                    !(t ? cJSON_AddStringToObject(v, name, t) : cJSON_AddNullToObject(v, name));
            }
        }
        sqlite3_finalize(st);
    }
    failed = failed || !cJSON_AddBoolToObject(obj, "masked", masked);

    /* Events, in order. */
    cJSON *events = cJSON_AddArrayToObject(obj, "events");
    failed = failed || !events;
    if (!failed && sqlite3_prepare_v2(db,
                                      "SELECT id, date, kind, note, detail, recorded_at FROM events"
                                      " WHERE case_id = ?1"
                                      " ORDER BY date, coalesce(recorded_at, ''), id",
                                      -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        while (!failed && sqlite3_step(st) == SQLITE_ROW) {
            cJSON *v = cJSON_CreateObject();
            failed = !v || !cJSON_AddItemToArray(events, v) || add_row(v, st) != 0;
        }
        sqlite3_finalize(st);
    }

    /* Agreements, with what each misses. */
    cJSON *agreements = cJSON_AddArrayToObject(obj, "agreements");
    failed = failed || !agreements;
    if (!failed &&
        sqlite3_prepare_v2(db,
                           "SELECT id, supplements, parties_details, facts_and_liability,"
                           " rights_obligations, performance_method, performance_place,"
                           " performance_deadline, parties_signed, mediator_signed, sealed,"
                           " signed_at FROM agreements WHERE case_id = ?1 AND deleted = 0"
                           " ORDER BY id",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        while (!failed && sqlite3_step(st) == SQLITE_ROW) {
            struct rules_agreement a = {
                (const char *)sqlite3_column_text(st, 2),
                (const char *)sqlite3_column_text(st, 3),
                (const char *)sqlite3_column_text(st, 4),
                (const char *)sqlite3_column_text(st, 5),
                (const char *)sqlite3_column_text(st, 6),
                (const char *)sqlite3_column_text(st, 7),
                sqlite3_column_int(st, 8),
                sqlite3_column_int(st, 9),
                sqlite3_column_int(st, 10),
                (const char *)sqlite3_column_text(st, 11),
            };
            enum rules_agreement_item missing[RULES_AGR_COUNT];
            size_t n = rules_agreement_missing(&a, missing);
            cJSON *v = cJSON_CreateObject(), *m = NULL;
            failed = !v || !cJSON_AddItemToArray(agreements, v) || add_row(v, st) != 0 ||
                     !(m = cJSON_AddArrayToObject(v, "missing")) ||
                     !cJSON_AddBoolToObject(v, "complete", n == 0) ||
                     !cJSON_AddBoolToObject(v, "locked", a.signed_at != NULL);
            for (size_t i = 0; !failed && i < n; i++) {
                cJSON *item = cJSON_CreateObject();
                failed =
                    !item || !cJSON_AddItemToArray(m, item) ||
                    !cJSON_AddNumberToObject(item, "part", rules_agreement_item_part(missing[i])) ||
                    !cJSON_AddStringToObject(item, "zh",
                                             rules_agreement_item_label(missing[i], "zh")) ||
                    !cJSON_AddStringToObject(item, "en",
                                             rules_agreement_item_label(missing[i], "en"));
            }
        }
        sqlite3_finalize(st);
    }
    if (failed) {
        cJSON_Delete(obj);
        obj = NULL;
    }
    ui_json(out, 200, obj);
}

static void do_case(const struct ui_call *c, struct ui_response *out)
{
    const char *id = ui_arg(c, "id");
    if (need_village(c, out) != 0) {
        return;
    }
    if (!id || strlen(id) != UUID7_STRLEN) {
        ui_error(out, 400, "bad_request", "expected ?id=CASE");
        return;
    }
    answer_case(c, id, 0, out);
}

/* ---- a new case ---- */

/* A problem with the intake form: the field ("parties.1.phone") and a
 * word the page turns into a sentence ("required", "phone", ...). */
static int add_problem(cJSON *problems, const char *field, int index, const char *code)
{
    char name[64];
    if (index >= 0) {
        snprintf(name, sizeof name, "parties.%d.%s", index, field);
    } else {
        snprintf(name, sizeof name, "%s", field);
    }
    cJSON *p = cJSON_CreateObject();
    return p && cJSON_AddItemToArray(problems, p) && cJSON_AddStringToObject(p, "field", name) &&
                   cJSON_AddStringToObject(p, "code", code)
               ? 0
               : -1;
}

/* 1 when text is a phone number as people write it: 5 to 20 digits, with
 * '+', '-' or spaces between. */
static int phone_valid(const char *text)
{
    size_t digits = 0;
    for (const char *p = text; *p; p++) {
        if (*p >= '0' && *p <= '9') {
            digits++;
        } else if (*p != '+' && *p != '-' && *p != ' ') {
            return 0;
        }
    }
    return digits >= 5 && digits <= 20;
}

/* 1 when text is an identity-card number: 18 characters, digits with a
 * final digit or X (or the old 15 digits). */
static int id_no_valid(const char *text)
{
    size_t len = strlen(text);
    if (len != 18 && len != 15) {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        int last = i == len - 1 && len == 18;
        if (!(text[i] >= '0' && text[i] <= '9') && !(last && (text[i] == 'X' || text[i] == 'x'))) {
            return 0;
        }
    }
    return 1;
}

/* The intake form, checked: the problems go into problems; 0 when there
 * are none. */
static int intake_check(const cJSON *doc, const struct rules_config *config, cJSON *problems)
{
    const char *bad = NULL;
    const char *title = member_text(doc, "title", MAX_TITLE, &bad);
    const char *facts = member_text(doc, "facts", LEDGER_MAX_TEXT, &bad);
    const char *claims = member_text(doc, "claims", LEDGER_MAX_TEXT, &bad);
    const char *received_by = member_text(doc, "received_by", MAX_SHORT, &bad);
    const char *kind = member_text(doc, "kind", MAX_SHORT, &bad);
    const char *channel = member_text(doc, "channel", MAX_SHORT, &bad);
    const char *category = member_text(doc, "category", MAX_SHORT, &bad);
    int severity = member_int(doc, "severity", RULES_SEVERITY_MIN, RULES_SEVERITY_MAX, 0, &bad);
    int failed = 0;
    if (bad) {
        failed |= add_problem(problems, bad, -1, "too_long");
    }
    (void)claims;
    enum rules_kind k = RULES_KIND_NONE;
    enum rules_channel ch = RULES_CHANNEL_NONE;
    if (!title) {
        failed |= add_problem(problems, "title", -1, "required");
    }
    if (!facts) {
        failed |= add_problem(problems, "facts", -1, "required");
    }
    if (!received_by) {
        failed |= add_problem(problems, "received_by", -1, "required");
    }
    if (!kind || rules_kind_parse(kind, &k) != 0) {
        failed |= add_problem(problems, "kind", -1, kind ? "unknown" : "required");
    }
    if (!channel || rules_channel_parse(channel, &ch) != 0) {
        failed |= add_problem(problems, "channel", -1, channel ? "unknown" : "required");
    } else if (k && !rules_channel_fits_kind(k, ch)) {
        failed |= add_problem(problems, "channel", -1, "channel_kind");
    }
    if (!category) {
        failed |= add_problem(problems, "category", -1, "required");
    } else if (rules_category_find(config, category) < 0) {
        failed |= add_problem(problems, "category", -1, "unknown");
    }
    if (!severity) {
        failed |= add_problem(problems, "severity", -1, "required");
    }
    const cJSON *parties = cJSON_GetObjectItemCaseSensitive(doc, "parties");
    int n = cJSON_IsArray(parties) ? cJSON_GetArraySize(parties) : 0;
    if (n == 0) {
        failed |= add_problem(problems, "parties", -1, "no_party");
    } else if (n > UI_MAX_PARTIES) {
        failed |= add_problem(problems, "parties", -1, "too_many");
    }
    for (int i = 0; i < n && i < UI_MAX_PARTIES; i++) {
        const cJSON *p = cJSON_GetArrayItem(parties, i);
        const char *pbad = NULL;
        if (!cJSON_IsObject(p)) {
            failed |= add_problem(problems, "name", i, "required");
            continue;
        }
        const char *name = member_text(p, "name", MAX_SHORT, &pbad);
        const char *role = member_text(p, "role", MAX_SHORT, &pbad);
        const char *phone = member_text(p, "phone", MAX_PHONE, &pbad);
        const char *id_no = member_text(p, "id_no", MAX_ID_NO, &pbad);
        (void)member_text(p, "address", MAX_TITLE, &pbad);
        if (pbad) {
            failed |= add_problem(problems, pbad, i, "too_long");
        }
        if (!name) {
            failed |= add_problem(problems, "name", i, "required");
        }
        int known = 0;
        for (size_t r = 0; role && r < sizeof roles / sizeof roles[0]; r++) {
            known |= !strcmp(role, roles[r][0]);
        }
        if (!known) {
            failed |= add_problem(problems, "role", i, role ? "unknown" : "required");
        }
        if (phone && !phone_valid(phone)) {
            failed |= add_problem(problems, "phone", i, "phone");
        }
        if (id_no && !id_no_valid(id_no)) {
            failed |= add_problem(problems, "id_no", i, "id_no");
        }
    }
    return failed || cJSON_GetArraySize(problems) > 0 ? -1 : 0;
}

/* Writes the checked intake form as a case, its contacts and parties, and
 * its registration event, in one unit of work. */
static int intake_write(struct local *l, const cJSON *doc, const char *lang,
                        char id[UUID7_STRLEN + 1], char *why, size_t why_len)
{
    struct workflow w;
    struct rules_config config;
    char now[40], case_no[RULES_CASE_NO_MAX];
    casework_setup(l, &w, &config, now, sizeof now, lang);
    const char *bad = NULL;
    int severity = member_int(doc, "severity", RULES_SEVERITY_MIN, RULES_SEVERITY_MAX, 0, &bad);
    int64_t wall = hlc_wall(replica_clock(l->replica));
    int rc = replica_begin(l->replica);
    if (rc != 0) {
        snprintf(why, why_len, "cannot open a transaction on the ledger");
        return rc;
    }
    if ((rc = casework_case_no(l, case_no, sizeof case_no)) != 0) {
        snprintf(why, why_len, "cannot make a case number: %s", rules_strerror(rc));
        goto fail;
    }
    if ((rc = uuid7_make(wall, id)) != 0) {
        snprintf(why, why_len, "the system gave no random bytes");
        goto fail;
    }
    static const char *const texts[] = {"kind",  "channel", "category",   "title",
                                        "facts", "claims",  "received_by"};
    const char *names[16];
    struct sync_value values[16];
    size_t n = 0;
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        const char *v = member_text(doc, texts[i], LEDGER_MAX_TEXT, &bad);
        if (v) {
            names[n] = texts[i];
            values[n++] = (struct sync_value){.type = SYNC_TEXT, .s = v};
        }
    }
    names[n] = "case_no";
    values[n++] = (struct sync_value){.type = SYNC_TEXT, .s = case_no};
    names[n] = "status";
    values[n++] = (struct sync_value){.type = SYNC_TEXT, .s = "registered"};
    names[n] = "severity";
    values[n++] = (struct sync_value){.type = SYNC_INT, .i = severity};
    names[n] = "level";
    values[n++] = (struct sync_value){.type = SYNC_INT, .i = RULES_LEVEL_MIN};
    names[n] = "created_at";
    values[n++] = (struct sync_value){.type = SYNC_TEXT, .s = now};
    names[n] = "updated_at";
    values[n++] = (struct sync_value){.type = SYNC_TEXT, .s = now};
    if ((rc = replica_put(l->replica, "cases", id, l->village, n, names, values, NULL)) != 0) {
        snprintf(why, why_len, "cannot save the case: %s", sync_strerror(rc));
        goto fail;
    }
    const cJSON *parties = cJSON_GetObjectItemCaseSensitive(doc, "parties");
    int position = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, parties)
    {
        char contact[UUID7_STRLEN + 1], party[UUID7_STRLEN + 1];
        static const char *const fields[] = {"name", "phone", "id_no", "address"};
        n = 0;
        for (size_t i = 0; i < 4; i++) {
            const char *v = member_text(p, fields[i], MAX_TITLE, &bad);
            if (v) {
                names[n] = fields[i];
                values[n++] = (struct sync_value){.type = SYNC_TEXT, .s = v};
            }
        }
        if ((rc = uuid7_make(wall, contact)) != 0 || (rc = uuid7_make(wall, party)) != 0) {
            snprintf(why, why_len, "the system gave no random bytes");
            goto fail;
        }
        if ((rc = replica_put(l->replica, "contacts", contact, l->village, n, names, values,
                              NULL)) != 0) {
            snprintf(why, why_len, "cannot save a party: %s", sync_strerror(rc));
            goto fail;
        }
        const char *pnames[] = {"case_id", "contact_id", "role", "position"};
        struct sync_value pvalues[] = {
            {.type = SYNC_TEXT, .s = id},
            {.type = SYNC_TEXT, .s = contact},
            {.type = SYNC_TEXT, .s = member_text(p, "role", MAX_SHORT, &bad)},
            {.type = SYNC_INT, .i = ++position},
        };
        if ((rc = replica_put(l->replica, "case_parties", party, l->village, 4, pnames, pvalues,
                              NULL)) != 0) {
            snprintf(why, why_len, "cannot save a party: %s", sync_strerror(rc));
            goto fail;
        }
    }
    /* The registration is the case's first event (首问负责制: who received it). */
    char note[MAX_SHORT + 40];
    snprintf(note, sizeof note,
             strcmp(lang, "en") ? "登记受理，首问责任人：%s" : "registered by %s",
             member_text(doc, "received_by", MAX_SHORT, &bad));
    if ((rc = workflow_event(&w, id, "register", RULES_DATE_NONE, note, NULL, NULL)) != 0) {
        snprintf(why, why_len, "%s", w.why);
        goto fail;
    }
    if ((rc = replica_commit(l->replica)) != 0) {
        snprintf(why, why_len, "cannot save the case");
        goto fail;
    }
    return 0;
fail:
    replica_rollback(l->replica);
    return rc;
}

static void do_case_new(const struct ui_call *c, struct ui_response *out)
{
    cJSON *doc = read_change(c, out);
    if (!doc) {
        return;
    }
    const char *bad = NULL;
    const char *lang = webutil_lang(member_text(doc, "lang", 8, &bad));
    struct rules_config config;
    if (township_rules_load(c->local->replica, c->local->village, &config) != 0) {
        rules_config_default(&config);
    }
    cJSON *problems = cJSON_CreateArray();
    if (!problems) {
        cJSON_Delete(doc);
        ui_error(out, 500, "memory", "out of memory");
        return;
    }
    if (intake_check(doc, &config, problems) != 0) {
        cJSON *obj = cJSON_CreateObject();
        if (!obj || !cJSON_AddStringToObject(obj, "error", "invalid") ||
            !cJSON_AddStringToObject(obj, "message", "the form has problems: see problems") ||
            !cJSON_AddItemToObject(obj, "problems", problems)) {
            cJSON_Delete(problems);
            cJSON_Delete(obj);
            obj = NULL;
        }
        cJSON_Delete(doc);
        ui_json(out, 400, obj);
        return;
    }
    cJSON_Delete(problems);
    char id[UUID7_STRLEN + 1], why[WORKFLOW_WHY];
    int rc = intake_write(c->local, doc, lang, id, why, sizeof why);
    cJSON_Delete(doc);
    if (rc != 0) {
        ui_error(out, 500, "ledger", why);
        return;
    }
    answer_case(c, id, 0, out);
}

/* ---- the steps of the work ---- */

/* The case id of a change, checked to be of this village. */
static const char *change_case(const struct ui_call *c, const cJSON *doc, struct ui_response *out)
{
    const char *bad = NULL;
    const char *id = member_text(doc, "id", UUID7_STRLEN, &bad);
    if (!id || strlen(id) != UUID7_STRLEN) {
        ui_error(out, 400, "bad_request", "expected {\"id\": CASE, ...}");
        return NULL;
    }
    sqlite3_stmt *st;
    int found = 0;
    if (sqlite3_prepare_v2(replica_db(c->local->replica),
                           "SELECT 1 FROM cases WHERE id = ?1 AND village = ?2 AND deleted = 0", -1,
                           &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, c->local->village, -1, SQLITE_STATIC);
        found = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
    }
    if (!found) {
        ui_error(out, 404, "not_found", "no such case in this village");
        return NULL;
    }
    return id;
}

/* An optional date member; RULES_DATE_NONE when absent. -1 when bad. */
static int member_date(const cJSON *doc, const char *name, struct rules_date *out)
{
    const char *bad = NULL;
    const char *text = member_text(doc, name, RULES_DATE_LEN, &bad);
    *out = RULES_DATE_NONE;
    if (bad) {
        return -1;
    }
    return text && rules_date_parse(text, out) != 0 ? -1 : 0;
}

enum step {
    STEP_EVENT,
    STEP_STATUS,
    STEP_TRANSFER,
    STEP_ESCALATE,
    STEP_NOTICE,
    STEP_OPINION,
    STEP_FOLLOWUP,
    STEP_EXTEND,
    STEP_ANSWER,
    STEP_REVEAL,
};

/* One step of the work on a case, as `hamlet case STEP` takes it; which
 * step is the endpoint's variant (the table at the end). The answer is the
 * case afterwards, or the rules' refusal (409). */
static void run_step(const struct ui_call *c, struct ui_response *out)
{
    enum step step = (enum step)c->variant;
    cJSON *doc = read_change(c, out);
    if (!doc) {
        return;
    }
    const char *id = change_case(c, doc, out);
    if (!id) {
        cJSON_Delete(doc);
        return;
    }
    const char *bad = NULL;
    const char *lang = webutil_lang(member_text(doc, "lang", 8, &bad));
    const char *note = member_text(doc, "note", LEDGER_MAX_TEXT, &bad);
    struct rules_date date;
    struct workflow w;
    struct rules_config config;
    char now[40];
    casework_setup(c->local, &w, &config, now, sizeof now, lang);
    int rc = 0, reveal = 0;
    const char *refusal = NULL;
    if (bad || member_date(doc, "date", &date) != 0) {
        refusal = bad ? bad : "date";
    } else if (step == STEP_EVENT) {
        const char *kind = member_text(doc, "kind", 32, &bad);
        int known = 0;
        for (size_t i = 0; kind && i < sizeof manual_events / sizeof manual_events[0]; i++) {
            known |= !strcmp(kind, manual_events[i]);
        }
        if (!known || !note) {
            refusal = known ? "note" : "kind";
        } else {
            rc = workflow_event(&w, id, kind, date, note, NULL, NULL);
        }
    } else if (step == STEP_STATUS) {
        enum rules_status to;
        const char *text = member_text(doc, "status", 32, &bad);
        if (!text || rules_status_parse(text, &to) != 0) {
            refusal = "status";
        } else {
            rc = workflow_status(&w, id, to, note);
        }
    } else if (step == STEP_TRANSFER) {
        enum rules_referral_target to;
        const char *text = member_text(doc, "to", 32, &bad);
        if (!text || rules_referral_parse(text, &to) != 0) {
            refusal = "to";
        } else {
            rc = workflow_transfer(&w, id, to, note);
        }
    } else if (step == STEP_ESCALATE) {
        int level = member_int(doc, "level", RULES_LEVEL_MIN, RULES_LEVEL_MAX, 0, &bad);
        if (!level) {
            refusal = "level";
        } else {
            rc = workflow_escalate(&w, id, level, note);
        }
    } else if (step == STEP_NOTICE) {
        rc = workflow_result_notice(&w, id, date, note);
    } else if (step == STEP_OPINION) {
        enum rules_opinion opinion;
        const char *text = member_text(doc, "opinion", 32, &bad);
        if (!text || rules_opinion_parse(text, &opinion) != 0) {
            refusal = "opinion";
        } else {
            rc = workflow_opinion(&w, id, opinion, note);
        }
    } else if (step == STEP_FOLLOWUP) {
        if (!note) {
            refusal = "note";
        } else {
            rc = workflow_followup(&w, id, date, note);
        }
    } else if (step == STEP_EXTEND) {
        int days = member_int(doc, "days", 1, 3650, 0, &bad);
        if (!days) {
            refusal = "days";
        } else {
            rc = workflow_extend(&w, id, days, note);
        }
    } else if (step == STEP_ANSWER) {
        const char *text = member_text(doc, "text", (size_t)WORKFLOW_CORRECTION_MAX * 4, &bad);
        if (!text) {
            refusal = "text";
        } else {
            rc = workflow_correction_reply(&w, id, text);
        }
    } else {
        rc = workflow_reveal(&w, c->local->village, id,
                             strcmp(lang, "en") ? "村调解台账页面" : "the village's pages");
        reveal = 1;
    }
    if (refusal) {
        bad_member(out, refusal);
    } else if (rc == SYNC_E_NOT_FOUND) {
        ui_error(out, 404, "not_found", w.why);
    } else if (rc <= -300 && rc > -400) {
        ui_error(out, 409, "refused", w.why); /* the rules' own sentence */
    } else if (rc != 0) {
        ui_error(out, 500, "ledger", w.why[0] ? w.why : sync_strerror(rc));
    } else {
        char copy[UUID7_STRLEN + 1];
        snprintf(copy, sizeof copy, "%s", id);
        cJSON_Delete(doc);
        answer_case(c, copy, reveal, out);
        return;
    }
    cJSON_Delete(doc);
}

/* ---- a party's details ---- */

/* A correction of one party after intake: the contact's name, phone,
 * identity-card number and address, and the party's role on this case.
 * Each field is optional, absent meaning "keep": the page sends the phone
 * and identity-card number only when a new one is typed (it never has the
 * stored ones unless revealed), and clears one only on "clear_phone" or
 * "clear_id_no". The limits are the intake form's. */
struct party_edit {
    const char *name, *role, *phone, *id_no, *address; /* NULL: keep */
    int clear_address, clear_phone, clear_id_no;
};

/* The words of a problem's code, for the refusal's message. */
static const char *party_problem_words(const char *code)
{
    static const char *const words[][2] = {
        {"required", "must not be empty"},
        {"too_long", "is too long"},
        {"type", "is of the wrong kind (text, or true/false for clear_*)"},
        {"unknown", "must be 申请人, 被申请人 or 第三人"},
        {"phone", "is not a phone number (5 to 20 digits; '+', '-' and spaces allowed)"},
        {"id_no", "is not an identity-card number (18 characters, the last a digit or X;"
                  " or 15 digits)"},
        {"both", "is given and cleared at once: give a new number or clear it"},
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (!strcmp(code, words[i][0])) {
            return words[i][1];
        }
    }
    return code;
}

/* The text member name of an edit: 0 with *text NULL when absent or null,
 * or the text ("" when emptied); -1 with the problem added when it is not
 * text or longer than max bytes. */
static int party_text(const cJSON *doc, const char *name, size_t max, const char **text,
                      cJSON *problems)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(doc, name);
    *text = NULL;
    if (!item || cJSON_IsNull(item)) {
        return 0;
    }
    if (!cJSON_IsString(item)) {
        (void)add_problem(problems, name, -1, "type");
        return -1;
    }
    if (strlen(item->valuestring) > max) {
        (void)add_problem(problems, name, -1, "too_long");
        return -1;
    }
    *text = item->valuestring;
    return 0;
}

/* A true/false member; absent or null is false. -1 with the problem added
 * when of another kind. */
static int party_flag(const cJSON *doc, const char *name, int *flag, cJSON *problems)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(doc, name);
    *flag = cJSON_IsTrue(item);
    if (item && !cJSON_IsNull(item) && !cJSON_IsBool(item)) {
        (void)add_problem(problems, name, -1, "type");
        return -1;
    }
    return 0;
}

static int blank(const char *text)
{
    return text[strspn(text, " \t\r\n")] == '\0';
}

/* The edit form, checked into e: the problems go into problems; 0 when
 * there are none. */
static int party_check(const cJSON *doc, struct party_edit *e, cJSON *problems)
{
    memset(e, 0, sizeof *e);
    int bad = 0;
    if (party_text(doc, "name", MAX_SHORT, &e->name, problems) == 0 && e->name && blank(e->name)) {
        bad |= add_problem(problems, "name", -1, "required");
    }
    if (party_text(doc, "role", MAX_SHORT, &e->role, problems) == 0 && e->role) {
        int known = 0;
        for (size_t r = 0; r < sizeof roles / sizeof roles[0]; r++) {
            known |= !strcmp(e->role, roles[r][0]);
        }
        if (!e->role[0]) {
            e->role = NULL; /* an empty choice keeps the role */
        } else if (!known) {
            bad |= add_problem(problems, "role", -1, "unknown");
        }
    }
    static const char *const numbers[] = {"phone", "id_no"};
    const char **given[] = {&e->phone, &e->id_no};
    int *clear[] = {&e->clear_phone, &e->clear_id_no};
    for (size_t i = 0; i < 2; i++) {
        char flag[16];
        snprintf(flag, sizeof flag, "clear_%s", numbers[i]);
        int typed =
            party_text(doc, numbers[i], i == 0 ? MAX_PHONE : MAX_ID_NO, given[i], problems) == 0;
        if (party_flag(doc, flag, clear[i], problems) != 0 || !typed) {
            continue;
        }
        if (*given[i] && blank(*given[i])) {
            *given[i] = NULL; /* left empty: the number on file stays */
        }
        if (*given[i] && *clear[i]) {
            bad |= add_problem(problems, numbers[i], -1, "both");
        } else if (*given[i] && !(i == 0 ? phone_valid(*given[i]) : id_no_valid(*given[i]))) {
            bad |= add_problem(problems, numbers[i], -1, numbers[i]);
        }
    }
    if (party_text(doc, "address", MAX_TITLE, &e->address, problems) == 0 && e->address &&
        blank(e->address)) {
        e->address = NULL;
        e->clear_address = 1; /* an emptied address is cleared */
    }
    return bad || cJSON_GetArraySize(problems) > 0 ? -1 : 0;
}

/* 400 with the problems, each named in the message as well. problems is
 * taken over. */
static void party_refuse(struct ui_response *out, cJSON *problems)
{
    char message[600];
    size_t len = (size_t)snprintf(message, sizeof message, "the correction was not saved:");
    const cJSON *p;
    cJSON_ArrayForEach(p, problems)
    {
        const cJSON *field = cJSON_GetObjectItemCaseSensitive(p, "field");
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(p, "code");
        if (len < sizeof message && cJSON_IsString(field) && cJSON_IsString(code)) {
            len += (size_t)snprintf(message + len, sizeof message - len, "%s \"%s\" %s",
                                    p == problems->child ? "" : ";", field->valuestring,
                                    party_problem_words(code->valuestring));
        }
    }
    cJSON *obj = cJSON_CreateObject();
    if (!obj || !cJSON_AddStringToObject(obj, "error", "invalid") ||
        !cJSON_AddStringToObject(obj, "message", message) ||
        !cJSON_AddItemToObject(obj, "problems", problems)) {
        cJSON_Delete(problems);
        cJSON_Delete(obj);
        obj = NULL;
    }
    ui_json(out, 400, obj);
}

/* The contact of party on the case, both of this village: 0 with its id
 * in contact; SYNC_E_NOT_FOUND when there is no such party on the case;
 * SYNC_E_STATE when the party has no contact here to correct. */
static int party_contact(struct local *l, const char *case_id, const char *party,
                         char contact[UUID7_STRLEN + 1])
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(replica_db(l->replica),
                           "SELECT k.id FROM case_parties p LEFT JOIN contacts k"
                           " ON k.id = p.contact_id AND k.village = ?3 AND k.deleted = 0"
                           " WHERE p.id = ?1 AND p.case_id = ?2 AND p.village = ?3"
                           " AND p.deleted = 0",
                           -1, &st, NULL) != SQLITE_OK) {
        return SYNC_E_DB;
    }
    sqlite3_bind_text(st, 1, party, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, case_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, l->village, -1, SQLITE_STATIC);
    int rc = SYNC_E_NOT_FOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *id = sqlite3_column_text(st, 0);
        rc = id && strlen((const char *)id) == UUID7_STRLEN ? 0 : SYNC_E_STATE;
        if (rc == 0) {
            snprintf(contact, UUID7_STRLEN + 1, "%s", id);
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/* Writes the checked edit: the contact's fields, then the party's role, in
 * one unit of work. replica_put() records only the fields whose value
 * changes, so an unchanged form journals nothing and syncs nothing. */
static int party_write(struct local *l, const char *party, const char *contact,
                       const struct party_edit *e)
{
    const char *names[4];
    struct sync_value values[4];
    size_t n = 0;
    static const struct sync_value none = {.type = SYNC_NULL};
    struct {
        const char *name, *text;
        int clear;
    } fields[] = {
        {"name", e->name, 0},
        {"phone", e->phone, e->clear_phone},
        {"id_no", e->id_no, e->clear_id_no},
        {"address", e->address, e->clear_address},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (fields[i].text || fields[i].clear) {
            names[n] = fields[i].name;
            values[n++] =
                fields[i].text ? (struct sync_value){.type = SYNC_TEXT, .s = fields[i].text} : none;
        }
    }
    int rc = replica_begin(l->replica);
    if (rc != 0) {
        return rc;
    }
    if (n > 0) {
        rc = replica_put(l->replica, "contacts", contact, l->village, n, names, values, NULL);
    }
    if (rc == 0 && e->role) {
        const char *role_name[] = {"role"};
        struct sync_value role = {.type = SYNC_TEXT, .s = e->role};
        rc = replica_put(l->replica, "case_parties", party, l->village, 1, role_name, &role, NULL);
    }
    if (rc == 0) {
        rc = replica_commit(l->replica);
    }
    if (rc != 0) {
        replica_rollback(l->replica);
    }
    return rc;
}

/* POST /api/case/party {"id": CASE, "party": PARTY, "name", "role",
 * "phone", "id_no", "address", "clear_phone", "clear_id_no"}: correct a
 * party's details. Answers the case (numbers masked, as always after a
 * change), 400 with the problems, or 404. The rules lock a signed
 * agreement's own texts, not the parties: a correction stays allowed. */
static void do_party_edit(const struct ui_call *c, struct ui_response *out)
{
    cJSON *doc = read_change(c, out);
    if (!doc) {
        return;
    }
    const char *case_id = change_case(c, doc, out);
    if (!case_id) {
        cJSON_Delete(doc);
        return;
    }
    const char *bad = NULL;
    const char *party = member_text(doc, "party", UUID7_STRLEN, &bad);
    char contact[UUID7_STRLEN + 1], copy[UUID7_STRLEN + 1];
    if (!party || strlen(party) != UUID7_STRLEN) {
        ui_error(out, 400, "bad_request", "expected {\"id\": CASE, \"party\": PARTY, ...}");
        cJSON_Delete(doc);
        return;
    }
    int rc = party_contact(c->local, case_id, party, contact);
    if (rc != 0) {
        if (rc == SYNC_E_NOT_FOUND) {
            ui_error(out, 404, "not_found", "no such party on this case");
        } else if (rc == SYNC_E_STATE) {
            ui_error(out, 409, "refused", "this party has no contact record to correct");
        } else {
            ui_error(out, 500, "ledger", sync_strerror(rc));
        }
        cJSON_Delete(doc);
        return;
    }
    cJSON *problems = cJSON_CreateArray();
    struct party_edit e;
    if (!problems) {
        ui_error(out, 500, "memory", "out of memory");
        cJSON_Delete(doc);
        return;
    }
    if (party_check(doc, &e, problems) != 0) {
        party_refuse(out, problems);
        cJSON_Delete(doc);
        return;
    }
    cJSON_Delete(problems);
    rc = party_write(c->local, party, contact, &e);
    snprintf(copy, sizeof copy, "%s", case_id);
    cJSON_Delete(doc);
    if (rc == SYNC_E_FIELD_TYPE) {
        ui_error(out, 400, "bad_request", "a field is not valid UTF-8 text");
    } else if (rc != 0) {
        ui_error(out, 500, "ledger", sync_strerror(rc));
    } else {
        answer_case(c, copy, 0, out);
    }
}

/* ---- agreements ---- */

static const char *const agreement_fields[] = {
    "parties_details",    "facts_and_liability", "rights_obligations",
    "performance_method", "performance_place",   "performance_deadline",
};

/* The case an agreement belongs to, of this village; "" when none. */
static void agreement_case(struct local *l, const char *id, char out[UUID7_STRLEN + 1])
{
    sqlite3_stmt *st;
    out[0] = '\0';
    if (sqlite3_prepare_v2(replica_db(l->replica),
                           "SELECT case_id FROM agreements WHERE id = ?1 AND village = ?2"
                           " AND deleted = 0",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, l->village, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
            snprintf(out, UUID7_STRLEN + 1, "%s", sqlite3_column_text(st, 0));
        }
        sqlite3_finalize(st);
    }
}

/* Whether a new agreement of case_id may supplement the agreement
 * supplements: it must be of the same case in this village and signed
 * (an unsigned one is edited instead). 0, or -1 with the refusal made. */
static int supplement_check(const struct ui_call *c, struct workflow *w, const char *case_id,
                            const char *supplements, const char *lang, struct ui_response *out)
{
    char of[UUID7_STRLEN + 1] = "";
    if (strlen(supplements) == UUID7_STRLEN) {
        agreement_case(c->local, supplements, of);
    }
    if (!of[0]) {
        ui_error(out, 404, "not_found", "no such agreement in this village to supplement");
        return -1;
    }
    if (strcmp(of, case_id) != 0) {
        ui_error(out, 409, "refused",
                 strcmp(lang, "zh") ? "that agreement is of another case: a supplementary"
                                      " agreement is of the same case"
                                    : "该协议属于另一案件，补充协议只能补充本案的协议");
        return -1;
    }
    /* Only a signed (locked, so no longer editable) agreement is supplemented. */
    int rc = workflow_agreement_editable(w, supplements);
    if (rc == 0) {
        ui_error(out, 409, "refused",
                 strcmp(lang, "zh") ? "that agreement is not signed yet: edit it instead"
                                    : "该协议尚未签署，直接修改即可，无需补充协议");
        return -1;
    }
    if (rc != RULES_E_LOCKED) {
        ui_error(out, 500, "ledger", w->why);
        return -1;
    }
    return 0;
}

/* Save an agreement's texts: a new one of the case {"id"} (supplementing
 * the signed agreement {"supplements"}, when given), or an edit of
 * {"agreement"} (refused once signed); answers the case. */
static void do_agreement_save(const struct ui_call *c, struct ui_response *out)
{
    cJSON *doc = read_change(c, out);
    if (!doc) {
        return;
    }
    const char *bad = NULL;
    const char *lang = webutil_lang(member_text(doc, "lang", 8, &bad));
    const char *id = member_text(doc, "agreement", UUID7_STRLEN, &bad);
    const char *supplements = member_text(doc, "supplements", UUID7_STRLEN, &bad);
    /* The texts, and case_id and supplements for a new agreement. */
    const char *names[sizeof agreement_fields / sizeof agreement_fields[0] + 2];
    struct sync_value values[sizeof agreement_fields / sizeof agreement_fields[0] + 2];
    size_t n = 0;
    for (size_t i = 0; i < 6; i++) {
        const cJSON *item = cJSON_GetObjectItemCaseSensitive(doc, agreement_fields[i]);
        if (!item) {
            continue;
        }
        const char *v = member_text(doc, agreement_fields[i], LEDGER_MAX_TEXT, &bad);
        names[n] = agreement_fields[i];
        /* An emptied text is cleared: it is missing again. */
        values[n++] = v ? (struct sync_value){.type = SYNC_TEXT, .s = v}
                        : (struct sync_value){.type = SYNC_NULL};
    }
    struct rules_date d;
    if (!bad && member_date(doc, "performance_deadline", &d) != 0) {
        bad = "performance_deadline";
    }
    char case_id[UUID7_STRLEN + 1], new_id[UUID7_STRLEN + 1];
    if (!bad && id && supplements) {
        bad = "supplements"; /* only a new agreement supplements another */
    }
    if (bad) {
        bad_member(out, bad);
        cJSON_Delete(doc);
        return;
    }
    struct workflow w;
    struct rules_config config;
    char now[40];
    casework_setup(c->local, &w, &config, now, sizeof now, lang);
    int rc;
    if (id) {
        agreement_case(c->local, id, case_id);
        if (!case_id[0]) {
            ui_error(out, 404, "not_found", "no such agreement in this village");
            cJSON_Delete(doc);
            return;
        }
        if (workflow_agreement_editable(&w, id) != 0) {
            ui_error(out, 409, "refused", w.why);
            cJSON_Delete(doc);
            return;
        }
        rc = n ? replica_put(c->local->replica, "agreements", id, c->local->village, n, names,
                             values, NULL)
               : 0;
    } else {
        const char *given = change_case(c, doc, out);
        if (!given) {
            cJSON_Delete(doc);
            return;
        }
        snprintf(case_id, sizeof case_id, "%s", given);
        if (supplements && supplement_check(c, &w, case_id, supplements, lang, out) != 0) {
            cJSON_Delete(doc);
            return;
        }
        names[n] = "case_id";
        values[n++] = (struct sync_value){.type = SYNC_TEXT, .s = case_id};
        if (supplements) {
            names[n] = "supplements";
            values[n++] = (struct sync_value){.type = SYNC_TEXT, .s = supplements};
        }
        rc = uuid7_make(hlc_wall(replica_clock(c->local->replica)), new_id);
        if (rc == 0) {
            rc = replica_put(c->local->replica, "agreements", new_id, c->local->village, n, names,
                             values, NULL);
        }
    }
    cJSON_Delete(doc);
    if (rc != 0) {
        ui_error(out, 500, "ledger", sync_strerror(rc));
        return;
    }
    answer_case(c, case_id, 0, out);
}

static void do_agreement_sign(const struct ui_call *c, struct ui_response *out)
{
    cJSON *doc = read_change(c, out);
    if (!doc) {
        return;
    }
    const char *bad = NULL;
    const char *lang = webutil_lang(member_text(doc, "lang", 8, &bad));
    const char *id = member_text(doc, "agreement", UUID7_STRLEN, &bad);
    char case_id[UUID7_STRLEN + 1] = "";
    if (id) {
        agreement_case(c->local, id, case_id);
    }
    if (!case_id[0]) {
        cJSON_Delete(doc);
        ui_error(out, 404, "not_found", "no such agreement in this village");
        return;
    }
    struct workflow w;
    struct rules_config config;
    char now[40];
    casework_setup(c->local, &w, &config, now, sizeof now, lang);
    int rc = workflow_agreement_sign(&w, id);
    cJSON_Delete(doc);
    if (rc != 0) {
        ui_error(out, rc <= -300 && rc > -400 ? 409 : 500, "refused", w.why);
        return;
    }
    answer_case(c, case_id, 0, out);
}

/* The print's own policy: its style is inline and it runs no script. */
static void print_answer(struct ui_response *out, const char *html, size_t len)
{
    ui_body(out, 200, "text/html; charset=utf-8", html, len);
    out->csp = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none';"
               " form-action 'none'; frame-ancestors 'self'";
    out->frame_self = 1;
}

/* The agreement as the paper form, for the browser to print (A4), the
 * numbers masked; with ticket=T (POST /api/agreement/print-ticket) the
 * form kept for T, the numbers in full, whose reveal that POST recorded.
 * A ticket that is not good is refused rather than printed masked. */
static void do_agreement_print(const struct ui_call *c, struct ui_response *out)
{
    const char *id = ui_arg(c, "id");
    const char *ticket = ui_arg(c, "ticket");
    char case_id[UUID7_STRLEN + 1] = "";
    if (need_village(c, out) != 0) {
        return;
    }
    if (id && strlen(id) == UUID7_STRLEN) {
        agreement_case(c->local, id, case_id);
    }
    if (!case_id[0]) {
        ui_error(out, 404, "not_found", "no such agreement in this village");
        return;
    }
    if (ticket) {
        char *html = NULL;
        size_t len = 0;
        if (ui_ticket_take(c->site, ticket, id, &html, &len) != 0) {
            ui_error(out, 403, "ticket",
                     "this print ticket is unknown, used, expired or for another agreement:"
                     " ask to print with the numbers in full again");
            return;
        }
        print_answer(out, html, len);
        sodium_memzero(html, len);
        free(html);
        return;
    }
    struct ledger_io_buffer t = {0};
    int rc = casework_agreement_html(c->local, id, 0, webutil_lang(ui_arg(c, "lang")),
                                     ledger_io_buffer_write, &t);
    if (rc != 0) {
        ledger_io_buffer_free(&t);
        ui_error(out, 500, "ledger", sync_strerror(rc));
        return;
    }
    print_answer(out, t.data, t.len);
    ledger_io_buffer_free(&t);
}

/* POST /api/agreement/print-ticket {"agreement": ID, "lang": L}: the paper
 * form with the numbers in full is made now, which records the reveal on
 * the case once (as `hamlet agreement print --reveal` does), and kept for
 * one GET /print/agreement?id=ID&ticket=T; the answer is {"ticket": T}. */
static void do_agreement_ticket(const struct ui_call *c, struct ui_response *out)
{
    cJSON *doc = read_change(c, out);
    if (!doc) {
        return;
    }
    const char *bad = NULL;
    const char *id = member_text(doc, "agreement", UUID7_STRLEN, &bad);
    const char *lang = webutil_lang(member_text(doc, "lang", 8, &bad));
    char case_id[UUID7_STRLEN + 1] = "";
    if (bad || !id) {
        bad_member(out, bad ? bad : "agreement");
        cJSON_Delete(doc);
        return;
    }
    agreement_case(c->local, id, case_id);
    if (!case_id[0]) {
        ui_error(out, 404, "not_found", "no such agreement in this village");
        cJSON_Delete(doc);
        return;
    }
    struct ledger_io_buffer t = {0};
    int rc = casework_agreement_html(c->local, id, 1, lang, ledger_io_buffer_write, &t);
    char ticket[UI_TICKET_HEX + 1];
    if (rc != 0) {
        ledger_io_buffer_free(&t);
        ui_error(out, 500, "ledger", sync_strerror(rc));
    } else if (ui_ticket_issue(c->site, id, t.data, t.len, ticket) != 0) {
        ui_error(out, 500, "ticket", "the print ticket could not be kept");
    } else {
        cJSON *obj = cJSON_CreateObject();
        if (obj && !cJSON_AddStringToObject(obj, "ticket", ticket)) {
            cJSON_Delete(obj);
            obj = NULL;
        }
        ui_json(out, 200, obj);
    }
    cJSON_Delete(doc);
}

/* ---- contacts ---- */

static void do_contacts(const struct ui_call *c, struct ui_response *out)
{
    if (need_village(c, out) != 0) {
        return;
    }
    const char *q = ui_arg(c, "q");
    if (q && strlen(q) > UI_MAX_QUERY) {
        ui_error(out, 400, "bad_request", "the search is longer than 200 bytes");
        return;
    }
    sqlite3 *db = replica_db(c->local->replica);
    sqlite3_stmt *st = NULL, *cases = NULL;
    cJSON *obj = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(obj, "contacts");
    int failed = !list;
    if (!failed &&
        (sqlite3_prepare_v2(db,
                            "SELECT id, name, phone, id_no, address FROM contacts"
                            " WHERE village = ?1 AND deleted = 0 AND (?2 IS NULL OR ?2 = '' OR"
                            " instr(coalesce(name, ''), ?2) OR instr(coalesce(address, ''), ?2))"
                            " ORDER BY name, id LIMIT ?3",
                            -1, &st, NULL) != SQLITE_OK ||
         sqlite3_prepare_v2(db,
                            "SELECT c.id, c.case_no, c.title, p.role FROM case_parties p"
                            " JOIN cases c ON c.id = p.case_id AND c.deleted = 0"
                            " WHERE p.contact_id = ?1 AND p.deleted = 0 ORDER BY c.id",
                            -1, &cases, NULL) != SQLITE_OK)) {
        failed = 1;
    }
    if (!failed) {
        sqlite3_bind_text(st, 1, c->local->village, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, q, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, UI_MAX_LIST);
    }
    while (!failed && sqlite3_step(st) == SQLITE_ROW) {
        char phone[64] = "", id_no[64] = "";
        const char *p = (const char *)sqlite3_column_text(st, 2);
        const char *n = (const char *)sqlite3_column_text(st, 3);
        const char *name = (const char *)sqlite3_column_text(st, 1);
        const char *address = (const char *)sqlite3_column_text(st, 4);
        if (p) {
            (void)rules_mask_phone(p, phone, sizeof phone);
        }
        if (n) {
            (void)rules_mask_id_no(n, id_no, sizeof id_no);
        }
        cJSON *v = cJSON_CreateObject(), *on = NULL;
        failed = !v || !cJSON_AddItemToArray(list, v) ||
                 !cJSON_AddStringToObject(v, "id", (const char *)sqlite3_column_text(st, 0)) ||
                 !cJSON_AddStringToObject(v, "name", name ? name : "") ||
                 !cJSON_AddStringToObject(v, "phone", phone) ||
                 !cJSON_AddStringToObject(v, "id_no", id_no) ||
                 !cJSON_AddStringToObject(v, "address", address ? address : "") ||
                 !(on = cJSON_AddArrayToObject(v, "cases"));
        sqlite3_reset(cases);
        sqlite3_bind_text(cases, 1, (const char *)sqlite3_column_text(st, 0), -1, SQLITE_TRANSIENT);
        while (!failed && sqlite3_step(cases) == SQLITE_ROW) {
            cJSON *k = cJSON_CreateObject();
            failed = !k || !cJSON_AddItemToArray(on, k) || add_row(k, cases) != 0;
        }
    }
    sqlite3_finalize(st);
    sqlite3_finalize(cases);
    if (failed) {
        cJSON_Delete(obj);
        obj = NULL;
    }
    ui_json(out, 200, obj);
}

/* ---- sync and enrolment ---- */

static void do_sync(const struct ui_call *c, struct ui_response *out)
{
    char hub[LOCAL_TEXT];
    if (need_village(c, out) != 0) {
        return;
    }
    local_get(c->local, "agent.hub_url", hub, sizeof hub);
    if (!hub[0]) {
        ui_error(out, 409, "not_enrolled", "this laptop is not enrolled with a hub yet");
        return;
    }
    int rc = ui_sync_start(c->site);
    if (rc < 0) {
        ui_error(out, 500, "thread", "the sync could not start");
        return;
    }
    cJSON *obj = cJSON_CreateObject();
    if (obj && (!cJSON_AddBoolToObject(obj, "started", rc == 0) || add_sync_state(c, obj) != 0)) {
        cJSON_Delete(obj);
        obj = NULL;
    }
    ui_json(out, rc == 0 ? 202 : 200, obj);
}

static void do_sync_state(const struct ui_call *c, struct ui_response *out)
{
    cJSON *obj = cJSON_CreateObject();
    if (obj && add_sync_state(c, obj) != 0) {
        cJSON_Delete(obj);
        obj = NULL;
    }
    ui_json(out, 200, obj);
}

static void do_enroll(const struct ui_call *c, struct ui_response *out)
{
    cJSON *doc = ui_read_json(c, out);
    if (!doc) {
        return;
    }
    const char *bad = NULL;
    const char *code = member_text(doc, "code", MAX_CODE, &bad);
    char hub[LOCAL_TEXT], why[500];
    local_get(c->local, "agent.hub_url", hub, sizeof hub);
    if (hub[0]) {
        ui_error(out, 409, "enrolled", "this laptop is enrolled already");
    } else if (!code) {
        bad_member(out, "code");
    } else {
        /* People paste codes with spaces or line breaks around them. */
        char trimmed[MAX_CODE + 1];
        size_t start = strspn(code, " \t\r\n"), len = strlen(code + start);
        while (len > 0 && strchr(" \t\r\n", code[start + len - 1])) {
            len--;
        }
        snprintf(trimmed, sizeof trimmed, "%.*s", (int)len, code + start);
        if (sync_client_enroll(c->local, trimmed, why, sizeof why) != 0) {
            ui_error(out, 409, "enrolment", why);
        } else {
            cJSON_Delete(doc);
            do_session(c, out);
            return;
        }
    }
    cJSON_Delete(doc);
}

const struct ui_endpoint ui_api_endpoints[] = {
    {"GET", "/api/session", do_session, 0},
    {"GET", "/api/vocabulary", do_vocabulary, 0},
    {"GET", "/api/today", do_today, 0},
    {"GET", "/api/cases", do_cases, 0},
    {"GET", "/api/case", do_case, 0},
    {"POST", "/api/case/new", do_case_new, 0},
    {"POST", "/api/case/reveal", run_step, STEP_REVEAL},
    {"POST", "/api/case/event", run_step, STEP_EVENT},
    {"POST", "/api/case/status", run_step, STEP_STATUS},
    {"POST", "/api/case/transfer", run_step, STEP_TRANSFER},
    {"POST", "/api/case/escalate", run_step, STEP_ESCALATE},
    {"POST", "/api/case/notice", run_step, STEP_NOTICE},
    {"POST", "/api/case/opinion", run_step, STEP_OPINION},
    {"POST", "/api/case/followup", run_step, STEP_FOLLOWUP},
    {"POST", "/api/case/extend", run_step, STEP_EXTEND},
    {"POST", "/api/case/answer", run_step, STEP_ANSWER},
    {"POST", "/api/case/party", do_party_edit, 0},
    {"POST", "/api/agreement/save", do_agreement_save, 0},
    {"POST", "/api/agreement/sign", do_agreement_sign, 0},
    {"POST", "/api/agreement/print-ticket", do_agreement_ticket, 0},
    {"GET", "/print/agreement", do_agreement_print, 0},
    {"GET", "/api/contacts", do_contacts, 0},
    {"GET", "/api/sync", do_sync_state, 0},
    {"POST", "/api/sync", do_sync, 0},
    {"POST", "/api/enroll", do_enroll, 0},
};
const size_t ui_api_endpoints_count = sizeof ui_api_endpoints / sizeof ui_api_endpoints[0];
