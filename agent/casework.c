/* SPDX-License-Identifier: MIT */
/*
 * casework.c - the laptop's commands for the work on a case (casework.h):
 * argument parsing and output around the ledger's workflow, casefile,
 * report and agreement modules.
 */
#include "casework.h"

#include "agreement_html.h"
#include "casefile.h"
#include "cli.h"
#include "hlc.h"
#include "ledger_io.h"
#include "records.h"
#include "replica.h"
#include "report.h"
#include "sync_error.h"
#include "township_rules.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EXIT_USAGE CLI_EXIT_USAGE

void casework_setup(struct local *local, struct workflow *w, struct rules_config *config, char *now,
                    size_t now_len, const char *lang)
{
    int64_t ms = hlc_wall(replica_clock(local->replica));
    time_t t = (time_t)((ms + 8LL * 3600 * 1000) / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(now, now_len, "%Y-%m-%dT%H:%M:%S+08:00", &tm);
    if (township_rules_load(local->replica, local->village, config) != 0) {
        rules_config_default(config);
    }
    memset(w, 0, sizeof *w);
    w->replica = local->replica;
    w->config = config;
    (void)rules_today(ms, &w->today);
    w->now = now;
    w->lang = lang;
    const char *user = getenv("USER");
    w->who = user && user[0] ? user : NULL;
}

void casework_device_code(struct local *local, char out[RULES_DEVICE_CODE_LEN + 1])
{
    char code[LOCAL_TEXT];
    if (local_get(local, "agent.device_code", code, sizeof code) == 0 &&
        rules_device_code_valid(code)) {
        memcpy(out, code, RULES_DEVICE_CODE_LEN + 1);
        return;
    }
    rules_device_code(replica_node(local->replica), 0, out);
}

int casework_case_no(struct local *local, char *buf, size_t len)
{
    struct workflow w;
    struct rules_config config;
    char now[40], code[RULES_DEVICE_CODE_LEN + 1];
    casework_setup(local, &w, &config, now, sizeof now, "en");
    casework_device_code(local, code);
    return workflow_case_no(&w, local->village, local->village_name, code, buf, len);
}

int casework_reveal(struct local *local, const char *case_id, const char *what)
{
    struct workflow w;
    struct rules_config config;
    char now[40];
    casework_setup(local, &w, &config, now, sizeof now, cli_lang(NULL));
    int rc = workflow_reveal(&w, local->village, case_id, what);
    return rc == 0 ? 0 : cli_fail(1, "cannot record the reveal: %s", w.why);
}

/* The full id of a case from a prefix, or the exit status in *status. */
static int resolve_case(struct local *local, const char *given, char id[UUID7_STRLEN + 1])
{
    int rc = records_resolve(local, "cases", given, id);
    if (rc == SYNC_E_NOT_FOUND) {
        return cli_fail(1, "no case with id %s", given);
    }
    if (rc != 0) {
        return cli_fail(1, "\"%s\" does not name one case (give at least 8 characters)", given);
    }
    return 0;
}

static int parse_date_option(const char *text, struct rules_date *out)
{
    *out = RULES_DATE_NONE;
    return text && rules_date_parse(text, out) != 0 ? -1 : 0;
}

/* A whole number from min to max, or -1 with *ok 0. */
static long parse_number(const char *text, long min, long max, int *ok)
{
    char *end;
    errno = 0;
    long v = text ? strtol(text, &end, 10) : 0;
    *ok = text && text[0] && !errno && !*end && v >= min && v <= max;
    return *ok ? v : -1;
}

static const char step_help[] =
    "usage: hamlet case status ID STATUS [--note TEXT]\n"
    "       hamlet case transfer ID --to police_station|court|judicial_office|department"
    " [--note TEXT]\n"
    "       hamlet case escalate ID LEVEL [--note TEXT]\n"
    "       hamlet case notice ID [--date YYYY-MM-DD] [--note TEXT]\n"
    "       hamlet case opinion ID satisfied|basically_satisfied|not_satisfied [--note TEXT]\n"
    "       hamlet case followup ID --note TEXT [--date YYYY-MM-DD]\n"
    "       hamlet case extend ID DAYS [--note TEXT]\n"
    "       hamlet case answer ID TEXT\n"
    "Each step is checked against the rules and recorded as an event of the case:\n"
    "status moves along the workflow (registered, accepted, not_accepted,\n"
    "investigating, mediating, agreement, failed, concluded, archived; a refused\n"
    "move says which are allowed); transfer sends the case to another office;\n"
    "escalate raises the responsibility level (1-7); notice records the written\n"
    "result notice; opinion the party's opinion of the result; followup a\n"
    "follow-up visit; extend the one extension of a petition's deadline; answer\n"
    "replies to the township's request for a correction (see 'hamlet list\n"
    "corrections'), in at most 1000 characters.\n";

int casework_case_step(struct local *local, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, step_help)) {
        return 0;
    }
    const char *step = argv[0];
    static const char *const names[] = {"--note", "--date", "--to", "--lang"};
    const char *values[4] = {NULL, NULL, NULL, NULL};
    int n = cli_take_options(argc, argv, names, values, 4, NULL, NULL, 0);
    int wants_value = strcmp(step, "transfer") != 0 && strcmp(step, "notice") != 0 &&
                      strcmp(step, "followup") != 0;
    if (n != (wants_value ? 2 : 1)) {
        fputs(step_help, stderr);
        return EXIT_USAGE;
    }
    struct rules_date date;
    if (parse_date_option(values[1], &date) != 0) {
        return cli_fail(EXIT_USAGE, "--date: expected a date YYYY-MM-DD");
    }
    char id[UUID7_STRLEN + 1], now[40];
    int rc = resolve_case(local, argv[0], id);
    if (rc != 0) {
        return rc;
    }
    struct workflow w;
    struct rules_config config;
    casework_setup(local, &w, &config, now, sizeof now, cli_lang(values[3]));
    const char *note = values[0], *value = wants_value ? argv[1] : NULL;
    int ok = 1;
    if (!strcmp(step, "status")) {
        enum rules_status to;
        if (rules_status_parse(value, &to) != 0) {
            return cli_fail(EXIT_USAGE,
                            "unknown status \"%s\" (registered, accepted, not_accepted, "
                            "investigating, mediating, agreement, failed, concluded, "
                            "archived)",
                            value);
        }
        rc = workflow_status(&w, id, to, note);
    } else if (!strcmp(step, "transfer")) {
        enum rules_referral_target target;
        if (!values[2] || rules_referral_parse(values[2], &target) != 0) {
            return cli_fail(EXIT_USAGE, "--to: police_station, court, judicial_office or "
                                        "department");
        }
        rc = workflow_transfer(&w, id, target, note);
    } else if (!strcmp(step, "escalate")) {
        long level = parse_number(value, RULES_LEVEL_MIN, RULES_LEVEL_MAX, &ok);
        if (!ok) {
            return cli_fail(EXIT_USAGE, "a level is a number from 1 to 7");
        }
        rc = workflow_escalate(&w, id, (int)level, note);
    } else if (!strcmp(step, "notice")) {
        rc = workflow_result_notice(&w, id, date, note);
    } else if (!strcmp(step, "opinion")) {
        enum rules_opinion opinion;
        if (rules_opinion_parse(value, &opinion) != 0) {
            return cli_fail(EXIT_USAGE,
                            "an opinion is satisfied, basically_satisfied or not_satisfied");
        }
        rc = workflow_opinion(&w, id, opinion, note);
    } else if (!strcmp(step, "followup")) {
        if (!note || !note[0]) {
            return cli_fail(EXIT_USAGE, "a follow-up visit needs --note saying what was found");
        }
        rc = workflow_followup(&w, id, date, note);
    } else if (!strcmp(step, "extend")) {
        long days = parse_number(value, 1, 3650, &ok);
        if (!ok) {
            return cli_fail(EXIT_USAGE, "an extension is a number of days");
        }
        rc = workflow_extend(&w, id, (int)days, note);
    } else if (!strcmp(step, "answer")) {
        if (note || values[1] || values[2]) {
            return cli_fail(EXIT_USAGE, "usage: hamlet case answer ID TEXT");
        }
        rc = workflow_correction_reply(&w, id, value);
    } else {
        return cli_fail(EXIT_USAGE, "unknown case step \"%s\"", step);
    }
    if (rc != 0) {
        return cli_fail(1, "%s", w.why);
    }
    printf("saved\n");
    return 0;
}

/* The case fields the workflow owns, and the command that changes each. */
static const struct {
    const char *field, *command;
} owned[] = {
    {"accepted_on", "case status ID accepted"},
    {"concluded_on", "case status ID concluded"},
    {"deadline", "the township (hamlet-hub case deadline)"},
    {"extension_days", "case extend ID DAYS"},
    {"result_notice_on", "case notice ID"},
    {"opinion", "case opinion ID OPINION"},
    {"correction_reply_on", "case answer ID TEXT"},
    {"correction_reply", "case answer ID TEXT"},
    {"correction_on", "the township (hamlet-hub case correct)"},
    {"correction", "the township (hamlet-hub case correct)"},
};

int casework_split_set(int argc, char **argv, const char **status, const char **level, int *rest)
{
    *status = *level = NULL;
    *rest = 0;
    for (int i = 0; i < argc; i++) {
        for (size_t k = 0; k < sizeof owned / sizeof owned[0]; k++) {
            size_t len = strlen(owned[k].field);
            if (!strncmp(argv[i], owned[k].field, len) && argv[i][len] == '=') {
                return cli_fail(EXIT_USAGE, "%s is set by: hamlet %s", owned[k].field,
                                owned[k].command);
            }
        }
        if (!strncmp(argv[i], "status=", 7)) {
            *status = argv[i] + 7;
        } else if (!strncmp(argv[i], "level=", 6)) {
            *level = argv[i] + 6;
        } else {
            argv[(*rest)++] = argv[i];
        }
    }
    return 0;
}

int casework_apply_set(struct local *local, const char *id, const char *status, const char *level)
{
    struct workflow w;
    struct rules_config config;
    char now[40];
    enum rules_status to = RULES_STATUS_NONE;
    int ok = 1;
    long v = level ? parse_number(level, RULES_LEVEL_MIN, RULES_LEVEL_MAX, &ok) : 0;
    if (!ok) {
        return cli_fail(EXIT_USAGE, "a level is a number from 1 to 7");
    }
    if (status && rules_status_parse(status, &to) != 0) {
        return cli_fail(EXIT_USAGE, "unknown status \"%s\"", status);
    }
    casework_setup(local, &w, &config, now, sizeof now, cli_lang(NULL));
    int rc = status ? workflow_status(&w, id, to, NULL) : 0;
    if (rc == 0 && level) {
        rc = workflow_escalate(&w, id, (int)v, NULL);
    }
    return rc == 0 ? 0 : cli_fail(1, "%s", w.why);
}

/* ---- lists ---- */

static int load_casefile(struct local *local, struct casefile **cf, struct rules_config *config,
                         struct rules_date *today)
{
    struct workflow w;
    char now[40];
    casework_setup(local, &w, config, now, sizeof now, "en");
    *today = w.today;
    int rc = casefile_load(local->replica, local->village, config, w.today, cf);
    return rc == 0 ? 0 : cli_fail(1, "cannot read the ledger: %s", sync_strerror(rc));
}

int casework_list(struct local *local, int argc, char **argv)
{
    static const char help[] =
        "usage: hamlet list overdue|due|followups|corrections [--days N] [--json]\n"
        "                   [--lang zh|en]\n"
        "What needs doing, by the township's rules, as of today (China time):\n"
        "  overdue      open cases past their deadline, the most overdue first\n"
        "  due          deadlines today and in the next N days (default 7)\n"
        "  followups    follow-up visits owed: overdue ones first, then those due\n"
        "               (within N days when --days is given)\n"
        "  corrections  cases the township asked to correct, the oldest request\n"
        "               first, with the answer given (hamlet case answer ID TEXT)\n";
    if (cli_wants_help(argc, argv, help)) {
        return 0;
    }
    static const char *const names[] = {"--days", "--lang"};
    static const char *const flags[] = {"--json"};
    const char *values[2] = {NULL, NULL};
    int json = 0, ok = 1;
    if (cli_take_options(argc, argv, names, values, 2, flags, &json, 1) != 1) {
        fputs(help, stderr);
        return EXIT_USAGE;
    }
    enum casefile_list which;
    if (!strcmp(argv[0], "overdue")) {
        which = CASEFILE_OVERDUE;
    } else if (!strcmp(argv[0], "due")) {
        which = CASEFILE_DUE_SOON;
    } else if (!strcmp(argv[0], "followups")) {
        which = CASEFILE_FOLLOWUPS;
    } else if (!strcmp(argv[0], "corrections")) {
        which = CASEFILE_CORRECTIONS;
    } else {
        return cli_fail(EXIT_USAGE, "unknown list \"%s\" (overdue, due, followups, corrections)",
                        argv[0]);
    }
    long days = which == CASEFILE_DUE_SOON ? 7 : -1;
    if (values[0] && (days = parse_number(values[0], 0, 3650, &ok), !ok)) {
        return cli_fail(EXIT_USAGE, "--days: a number of days from 0 to 3650");
    }
    struct casefile *cf;
    struct rules_config config;
    struct rules_date today;
    int rc = load_casefile(local, &cf, &config, &today);
    if (rc != 0) {
        return rc;
    }
    rc = casefile_write_list(cf, which, local->village, (int)days, json, cli_lang(values[1]),
                             cli_write_stdout, NULL);
    casefile_free(cf);
    return rc == 0 ? 0 : cli_fail(1, "cannot write the list: %s", sync_strerror(rc));
}

int casework_case_summary(struct local *local, const char *id, const char *lang)
{
    struct casefile *cf;
    struct rules_config config;
    struct rules_date today;
    int rc = load_casefile(local, &cf, &config, &today);
    if (rc != 0) {
        return rc;
    }
    const struct casefile_case *c = casefile_find(cf, id);
    int zh = !strcmp(lang, "zh");
    char day[RULES_DATE_LEN + 1];
    if (c && rules_date_valid(c->due)) {
        (void)rules_date_format(c->due, day);
        const char *state = rules_due_state_label(c->due_state, lang);
        printf(zh ? "期限：%s（%s，%s%lld天）\n" : "due: %s (%s, %s%lld days)\n", day,
               state ? state : "-",
               c->due_state == RULES_DUE_OVERDUE ? (zh ? "逾期" : "overdue by ")
                                                 : (zh ? "还有" : "left: "),
               (long long)c->due_days);
    }
    if (c && rules_date_valid(c->followup_due)) {
        (void)rules_date_format(c->followup_due, day);
        const char *state = rules_followup_state_label(c->followup_state, lang);
        printf(zh ? "回访期限：%s（%s）\n" : "follow-up visit by: %s (%s)\n", day,
               state ? state : "-");
    }
    if (c && c->agreements > 0) {
        printf(zh ? "调解协议：%d份，已签署%d份\n" : "agreements: %d, %d signed\n", c->agreements,
               c->agreements_signed);
    }
    if (c && c->correction) {
        (void)rules_date_format(c->correction_on, day);
        printf(zh ? "镇里要求更正（%s）：%s\n" : "the township asks for a correction (%s): %s\n",
               day[0] ? day : "-", c->correction);
        if (c->correction_answered) {
            (void)rules_date_format(c->correction_reply_on, day);
            printf(zh ? "村里答复（%s）：%s\n" : "answered (%s): %s\n", day[0] ? day : "-",
                   c->correction_reply);
        } else {
            printf(zh ? "尚未答复：hamlet case answer %s 答复内容\n"
                      : "not answered yet: hamlet case answer %s TEXT\n",
                   id);
        }
    }
    casefile_free(cf);
    return 0;
}

/* ---- report ---- */

int casework_report(struct local *local, int argc, char **argv)
{
    static const char help[] =
        "usage: hamlet report --month YYYY-MM|--year YYYY [--csv|--json] [--lang zh|en]\n"
        "The township's figures for this village: cases received by kind, channel and\n"
        "category, concluded, the mediation participation, success and satisfaction\n"
        "rates beside their targets, overdue cases, follow-ups due and done.\n"
        "ledger/RULES.md defines each figure.\n";
    if (cli_wants_help(argc, argv, help)) {
        return 0;
    }
    static const char *const names[] = {"--month", "--year", "--lang"};
    static const char *const flags[] = {"--csv", "--json"};
    const char *values[3] = {NULL, NULL, NULL};
    int formats[2] = {0, 0};
    struct rules_period period;
    if (cli_take_options(argc, argv, names, values, 3, flags, formats, 2) != 0 ||
        !values[0] == !values[1] || (formats[0] && formats[1])) {
        fputs(help, stderr);
        return EXIT_USAGE;
    }
    const char *given = values[0] ? values[0] : values[1];
    if (rules_period_parse(given, &period) != 0 || (values[0] && strlen(given) != 7) ||
        (values[1] && strlen(given) != 4)) {
        return cli_fail(EXIT_USAGE,
                        values[0] ? "--month: expected YYYY-MM" : "--year: expected YYYY");
    }
    struct casefile *cf;
    struct rules_config config;
    struct rules_date today;
    int rc = load_casefile(local, &cf, &config, &today);
    if (rc != 0) {
        return rc;
    }
    struct report_row row = {.village = local->village,
                             .name = local->village_name[0] ? local->village_name : NULL};
    rc = rules_figures_compute(cf->facts, cf->n, &period, local->village, &config, today,
                               &row.figures);
    struct report r = {
        .config = &config, .today = today, .rows = &row, .nrows = 1, .lang = cli_lang(values[2])};
    if (rc == 0) {
        rc = formats[0]   ? report_write_csv(&r, cli_write_stdout, NULL)
             : formats[1] ? report_write_json(&r, cli_write_stdout, NULL)
                          : report_write_table(&r, cli_write_stdout, NULL);
    }
    casefile_free(cf);
    return rc == 0 ? 0 : cli_fail(1, "cannot make the report: %s", sync_strerror(rc));
}

/* ---- agreements ---- */

static const char agreement_help[] =
    "usage: hamlet agreement add CASE FIELD=VALUE...\n"
    "       hamlet agreement set ID FIELD=VALUE...\n"
    "       hamlet agreement show ID [--lang zh|en]\n"
    "       hamlet agreement sign ID\n"
    "       hamlet agreement supplement ID FIELD=VALUE...\n"
    "       hamlet agreement print ID [--reveal] [--lang zh|en] > agreement.html\n"
    "A mediation agreement (调解协议书) has five parts. Fields: parties_details,\n"
    "facts_and_liability, rights_obligations, performance_method, performance_place,\n"
    "performance_deadline (YYYY-MM-DD). Signing needs parts 1 to 4 and locks the\n"
    "agreement: a change is then a supplementary agreement. print writes an HTML\n"
    "page laid out as the paper form (in Chinese unless --lang en); numbers are\n"
    "masked unless --reveal is given.\n";

static const char *const agreement_fields[] = {
    "parties_details",    "facts_and_liability", "rights_obligations",
    "performance_method", "performance_place",   "performance_deadline",
};

/* Parse FIELD=VALUE of an agreement's texts. */
static int agreement_parse(int argc, char **argv, struct records_fields *f)
{
    char why[300];
    for (int i = 0; i < argc; i++) {
        int known = 0;
        for (size_t k = 0; k < sizeof agreement_fields / sizeof agreement_fields[0]; k++) {
            size_t len = strlen(agreement_fields[k]);
            known |= !strncmp(argv[i], agreement_fields[k], len) && argv[i][len] == '=';
        }
        if (!known) {
            return cli_fail(EXIT_USAGE,
                            "\"%s\": an agreement's fields are parties_details, "
                            "facts_and_liability, rights_obligations, performance_method, "
                            "performance_place, performance_deadline (signing is 'agreement "
                            "sign')",
                            argv[i]);
        }
        if (!strncmp(argv[i], "performance_deadline=", 21)) {
            struct rules_date d;
            if (argv[i][21] && rules_date_parse(argv[i] + 21, &d) != 0) {
                return cli_fail(EXIT_USAGE, "performance_deadline: expected YYYY-MM-DD");
            }
        }
    }
    if (records_parse("agreements", argc, argv, f, why, sizeof why) != 0) {
        return cli_fail(EXIT_USAGE, "%s", why);
    }
    return 0;
}

static int resolve_agreement(struct local *local, const char *given, char id[UUID7_STRLEN + 1])
{
    int rc = records_resolve(local, "agreements", given, id);
    if (rc == SYNC_E_NOT_FOUND) {
        return cli_fail(1, "no agreement with id %s", given);
    }
    return rc == 0 ? 0 : cli_fail(1, "\"%s\" does not name one agreement", given);
}

/* A new agreement of case_id (supplementing supplements, when set). */
static int agreement_create(struct local *local, const char *case_id, const char *supplements,
                            struct records_fields *f)
{
    char id[UUID7_STRLEN + 1];
    if (uuid7_make(hlc_wall(replica_clock(local->replica)), id) != 0) {
        return cli_fail(1, "the system gave no random bytes");
    }
    if (f->n + 2 > RECORDS_MAX_FIELDS) {
        return cli_fail(EXIT_USAGE, "too many fields");
    }
    f->names[f->n] = "case_id";
    f->values[f->n++] = (struct sync_value){.type = SYNC_TEXT, .s = case_id};
    if (supplements) {
        f->names[f->n] = "supplements";
        f->values[f->n++] = (struct sync_value){.type = SYNC_TEXT, .s = supplements};
    }
    int rc = replica_put(local->replica, "agreements", id, local->village, f->n, f->names,
                         f->values, NULL);
    if (rc != 0) {
        return cli_fail(1, "cannot save: %s", sync_strerror(rc));
    }
    printf("%s\n", id);
    return 0;
}

/* The agreement's row, for show and print. */
struct agreement_view {
    char *text[6];
    char *case_id, *supplements, *signed_at;
    int parties_signed, mediator_signed, sealed;
    struct rules_agreement rules;
};

static void agreement_view_free(struct agreement_view *v)
{
    for (size_t i = 0; i < 6; i++) {
        free(v->text[i]);
    }
    free(v->case_id);
    free(v->supplements);
    free(v->signed_at);
}

static char *column_dup(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? strdup((const char *)t) : NULL;
}

static int agreement_view_load(struct local *local, const char *id, struct agreement_view *v)
{
    memset(v, 0, sizeof *v);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(replica_db(local->replica),
                           "SELECT parties_details, facts_and_liability, rights_obligations,"
                           " performance_method, performance_place, performance_deadline,"
                           " case_id, supplements, signed_at, parties_signed, mediator_signed,"
                           " sealed FROM agreements WHERE id = ?1 AND deleted = 0",
                           -1, &st, NULL) != SQLITE_OK) {
        return SYNC_E_DB;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : SYNC_E_NOT_FOUND;
    if (rc == 0) {
        for (int i = 0; i < 6; i++) {
            v->text[i] = column_dup(st, i);
        }
        v->case_id = column_dup(st, 6);
        v->supplements = column_dup(st, 7);
        v->signed_at = column_dup(st, 8);
        v->parties_signed = sqlite3_column_int(st, 9);
        v->mediator_signed = sqlite3_column_int(st, 10);
        v->sealed = sqlite3_column_int(st, 11);
    }
    sqlite3_finalize(st);
    v->rules = (struct rules_agreement){
        .parties_details = v->text[0],
        .facts_and_liability = v->text[1],
        .rights_obligations = v->text[2],
        .performance_method = v->text[3],
        .performance_place = v->text[4],
        .performance_deadline = v->text[5],
        .parties_signed = v->parties_signed,
        .mediator_signed = v->mediator_signed,
        .sealed = v->sealed,
        .signed_at = v->signed_at,
    };
    return rc;
}

static int agreement_show(struct local *local, const char *id, const char *lang)
{
    struct agreement_view v;
    int rc = agreement_view_load(local, id, &v);
    if (rc != 0) {
        agreement_view_free(&v);
        return cli_fail(1, "no agreement %s", id);
    }
    printf("agreement %s\ncase: %s\n", id, v.case_id ? v.case_id : "-");
    if (v.supplements) {
        printf("supplements: %s\n", v.supplements);
    }
    for (size_t i = 0; i < 6; i++) {
        printf("%s: %s\n", agreement_fields[i], v.text[i] ? v.text[i] : "");
    }
    enum rules_agreement_item missing[RULES_AGR_COUNT];
    size_t n = rules_agreement_missing(&v.rules, missing);
    printf("signed: %s\n", v.signed_at ? v.signed_at : "no");
    if (n == 0) {
        printf("%s\n", strcmp(lang, "zh") ? "complete" : "完整");
    } else {
        printf("%s", strcmp(lang, "zh") ? "incomplete, missing:\n" : "不完整，缺少：\n");
        for (size_t i = 0; i < n; i++) {
            printf("  %s\n", rules_agreement_item_label(missing[i], lang));
        }
    }
    if (v.signed_at) {
        printf("%s\n", strcmp(lang, "zh") ? "locked: a change is a supplementary agreement"
                                          : "已签署，不得修改；变更请订立补充协议");
    }
    agreement_view_free(&v);
    return 0;
}

/* The parties of a case, for the printed form. */
struct party_list {
    struct agreement_html_party *parties;
    char **texts;
    size_t n, ntexts;
};

static void party_list_free(struct party_list *p)
{
    for (size_t i = 0; i < p->ntexts; i++) {
        free(p->texts[i]);
    }
    free(p->texts);
    free(p->parties);
}

static int party_list_load(struct local *local, const char *case_id, struct party_list *p)
{
    memset(p, 0, sizeof *p);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(replica_db(local->replica),
                           "SELECT c.name, p.role, c.id_no, c.phone, c.address FROM case_parties p"
                           " LEFT JOIN contacts c ON c.id = p.contact_id"
                           " WHERE p.case_id = ?1 AND p.deleted = 0 ORDER BY p.position, p.id",
                           -1, &st, NULL) != SQLITE_OK) {
        return SYNC_E_DB;
    }
    sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC);
    int rc = 0;
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        struct agreement_html_party *grown = realloc(p->parties, (p->n + 1) * sizeof *grown);
        char **texts = grown ? realloc(p->texts, (p->ntexts + 5) * sizeof *texts) : NULL;
        if (grown) {
            p->parties = grown;
        }
        if (!texts) {
            rc = SYNC_E_NOMEM;
            break;
        }
        p->texts = texts;
        const char **fields[] = {&grown[p->n].name, &grown[p->n].role, &grown[p->n].id_no,
                                 &grown[p->n].phone, &grown[p->n].address};
        for (int i = 0; i < 5; i++) {
            char *copy = column_dup(st, i);
            p->texts[p->ntexts++] = copy;
            *fields[i] = copy;
        }
        p->n++;
    }
    sqlite3_finalize(st);
    return rc;
}

int casework_agreement_html(struct local *local, const char *id, int reveal, const char *lang,
                            ledger_io_write_fn write, void *ctx)
{
    struct agreement_view v;
    struct party_list parties = {0};
    int rc = agreement_view_load(local, id, &v);
    if (rc != 0) {
        agreement_view_free(&v);
        return rc;
    }
    char *case_no = NULL, *title = NULL, *mediator = NULL, *supplements_no = NULL;
    sqlite3_stmt *st;
    if (v.case_id && sqlite3_prepare_v2(replica_db(local->replica),
                                        "SELECT case_no, title, mediator_name FROM cases"
                                        " WHERE id = ?1",
                                        -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, v.case_id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            case_no = column_dup(st, 0);
            title = column_dup(st, 1);
            mediator = column_dup(st, 2);
        }
        sqlite3_finalize(st);
    }
    if (v.supplements) {
        /* The supplemented agreement is named by its case's number. */
        supplements_no = strdup(case_no ? case_no : v.supplements);
    }
    if (v.case_id) {
        rc = party_list_load(local, v.case_id, &parties);
    }
    if (rc == 0 && reveal) {
        struct workflow w;
        struct rules_config config;
        char now[40];
        casework_setup(local, &w, &config, now, sizeof now, lang);
        rc = workflow_reveal(&w, local->village, v.case_id, "agreement print");
    }
    struct agreement_html page = {
        .lang = lang,
        .village_name = local->village_name[0] ? local->village_name : local->village,
        .case_no = case_no,
        .title = title,
        .mediator_name = mediator,
        .parties = parties.parties,
        .nparties = parties.n,
        .agreement = &v.rules,
        .supplements_case_no = supplements_no,
        .reveal = reveal,
    };
    if (rc == 0) {
        rc = agreement_html_write(&page, write, ctx);
    }
    party_list_free(&parties);
    free(case_no);
    free(title);
    free(mediator);
    free(supplements_no);
    agreement_view_free(&v);
    return rc;
}

static int agreement_print(struct local *local, const char *id, int reveal, const char *lang)
{
    int rc = casework_agreement_html(local, id, reveal, lang, cli_write_stdout, NULL);
    rc = rc == 0 && fflush(stdout) != 0 ? SYNC_E_DB : rc;
    if (rc == SYNC_E_NOT_FOUND) {
        return cli_fail(1, "no agreement %s", id);
    }
    return rc == 0 ? 0 : cli_fail(1, "cannot print the agreement: %s", sync_strerror(rc));
}

int casework_agreement(struct local *local, int argc, char **argv)
{
    if (cli_wants_help(argc, argv, agreement_help)) {
        return 0;
    }
    if (argc < 3) {
        fputs(agreement_help, stderr);
        return EXIT_USAGE;
    }
    const char *sub = argv[1];
    char id[UUID7_STRLEN + 1], now[40];
    struct records_fields f;
    struct workflow w;
    struct rules_config config;
    int rc;
    if (!strcmp(sub, "show") || !strcmp(sub, "print")) {
        static const char *const names[] = {"--lang"};
        static const char *const flags[] = {"--reveal"};
        const char *lang = NULL;
        int reveal = 0;
        if (cli_take_options(argc - 1, argv + 1, names, &lang, 1, flags, &reveal, 1) != 1 ||
            (reveal && !strcmp(sub, "show"))) {
            fputs(agreement_help, stderr);
            return EXIT_USAGE;
        }
        if ((rc = resolve_agreement(local, argv[1], id)) != 0) {
            return rc;
        }
        /* The printed form is the Chinese paper form unless asked otherwise. */
        return !strcmp(sub, "show")
                   ? agreement_show(local, id, cli_lang(lang))
                   : agreement_print(local, id, reveal, lang ? cli_lang(lang) : "zh");
    }
    casework_setup(local, &w, &config, now, sizeof now, cli_lang(NULL));
    if (!strcmp(sub, "add")) {
        if ((rc = resolve_case(local, argv[2], id)) != 0 ||
            (rc = agreement_parse(argc - 3, argv + 3, &f)) != 0) {
            return rc;
        }
        return agreement_create(local, id, NULL, &f);
    }
    if ((rc = resolve_agreement(local, argv[2], id)) != 0) {
        return rc;
    }
    if (!strcmp(sub, "set")) {
        if ((rc = agreement_parse(argc - 3, argv + 3, &f)) != 0) {
            return rc;
        }
        if (f.n == 0) {
            return cli_fail(EXIT_USAGE, "usage: hamlet agreement set ID FIELD=VALUE...");
        }
        if (workflow_agreement_editable(&w, id) != 0) {
            return cli_fail(1, "%s", w.why);
        }
        int changed = 0;
        rc = replica_put(local->replica, "agreements", id, local->village, f.n, f.names, f.values,
                         &changed);
        if (rc != 0) {
            return cli_fail(1, "cannot save: %s", sync_strerror(rc));
        }
        printf("%s\n", changed ? "saved" : "nothing changed");
        return 0;
    }
    if (!strcmp(sub, "sign")) {
        if (argc != 3) {
            return cli_fail(EXIT_USAGE, "usage: hamlet agreement sign ID");
        }
        if (workflow_agreement_sign(&w, id) != 0) {
            return cli_fail(1, "%s", w.why);
        }
        printf("signed\n");
        return 0;
    }
    if (!strcmp(sub, "supplement")) {
        struct agreement_view v;
        if ((rc = agreement_parse(argc - 3, argv + 3, &f)) != 0) {
            return rc;
        }
        rc = agreement_view_load(local, id, &v);
        if (rc == 0 && !v.signed_at) {
            agreement_view_free(&v);
            return cli_fail(1, "the agreement is not signed yet: edit it (agreement set)");
        }
        char case_id[UUID7_STRLEN + 1] = "";
        if (rc == 0 && v.case_id) {
            snprintf(case_id, sizeof case_id, "%s", v.case_id);
        }
        agreement_view_free(&v);
        return rc == 0 ? agreement_create(local, case_id, id, &f) : cli_fail(1, "no agreement");
    }
    return cli_fail(EXIT_USAGE,
                    "unknown agreement command \"%s\" (add, set, show, sign, "
                    "supplement, print)",
                    sub);
}

int casework_rules(struct local *local, int argc, char **argv)
{
    static const char help[] = "usage: hamlet rules\n"
                               "The township's rules this laptop works under (deadlines,\n"
                               "follow-up months, targets, categories), as the hub sent them,\n"
                               "or the defaults before the first sync.\n";
    if (cli_wants_help(argc, argv, help)) {
        return 0;
    }
    if (argc != 1) {
        return cli_fail(EXIT_USAGE, "usage: hamlet rules");
    }
    struct rules_config config;
    char text[TOWNSHIP_RULES_MAX_TEXT];
    if (township_rules_load(local->replica, local->village, &config) != 0 ||
        township_rules_format(&config, text, sizeof text) != 0) {
        return cli_fail(1, "cannot read the township's rules");
    }
    fputs(text, stdout);
    return 0;
}
