/* SPDX-License-Identifier: MIT */
/*
 * main.c - hamlet, the village laptop's program: argument parsing and calls
 * into the agent's modules. Works the same with or without a link; only
 * enroll and sync talk to the hub. Every command has --help, exits 0 on
 * success and reports an error once, in one line.
 */
#include "casework.h"
#include "cli.h"
#include "configfile.h"
#include "daemon.h"
#include "hlc.h"
#include "https.h"
#include "ledger_io.h"
#include "ledger_schema.h"
#include "local.h"
#include "records.h"
#include "sync_client.h"
#include "sync_error.h"
#include "ui.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EXIT_USAGE 2

static const char usage_text[] =
    "usage: hamlet [--db PATH] [--config FILE] COMMAND [ARGS]\n"
    "\n"
    "The village ledger: records cases offline and syncs with the township hub.\n"
    "\n"
    "commands:\n"
    "  init --village CODE [--name NAME]   start the ledger of a village\n"
    "  enroll CODE                         connect to the hub with a code from it\n"
    "  case add FIELD=VALUE...             record a case (prints its id)\n"
    "  case list [--status S]              the village's cases\n"
    "  case show ID [--reveal]             one case with parties and events\n"
    "  case set ID FIELD=VALUE...          change fields of a case\n"
    "  case status|transfer|escalate|notice|opinion|followup|extend ID ...\n"
    "                                      a step of the work, checked by the rules\n"
    "  case answer ID TEXT                 answer the township's request for a correction\n"
    "  case delete ID                      delete a case\n"
    "  event add CASE --kind K --note TEXT [--date YYYY-MM-DD]\n"
    "  agreement add|set|show|sign|supplement|print   mediation agreements\n"
    "  list overdue|due|followups|corrections   what needs doing, and what the\n"
    "                                      township asked\n"
    "  report --month YYYY-MM|--year YYYY  the village's figures (--csv, --json)\n"
    "  rules                               the township's rules in force here\n"
    "  contact add|list|show|set           people: parties, petitioners, mediators\n"
    "  import FILE                         cases in JSON Lines (the reference shape)\n"
    "  export [--format jsonl|csv]         the ledger, the same bytes on every replica\n"
    "  sync                                send and receive changes now\n"
    "  status                              what waits, the last sync, data used\n"
    "  daemon                              sync in the background until stopped\n"
    "  ui [--port N] [--no-browser|--open] the village's pages in this laptop's browser\n"
    "\n"
    "options:\n"
    "  --db PATH   the ledger file (or HAMLET_DB; default\n"
    "              $XDG_DATA_HOME/hamlet/ledger.db)\n"
    "  --config FILE  the only configuration file read (or HAMLET_CONFIG; default\n"
    "              " CONFIGFILE_SYSTEM_PATH " and ~/.config/hamlet/hamlet.conf)\n"
    "  --help      this text; 'hamlet COMMAND --help' for a command\n";

struct ctx {
    char path[LOCAL_TEXT];
    struct local local;
    int open;
    struct configfile config; /* hamlet.conf; the command line overrides it */
};

static int open_local(struct ctx *c, int create)
{
    char why[400];
    int rc = local_open(c->path, create, &c->local, why, sizeof why);
    if (rc != 0) {
        return cli_fail(1, "%s", why);
    }
    c->open = 1;
    if (!create && !c->local.village[0]) {
        return cli_fail(1, "this ledger has no village yet (hamlet init --village CODE)");
    }
    return 0;
}

static void now_rfc3339(char *out, size_t len, struct local *l)
{
    int64_t ms = hlc_wall(replica_clock(l->replica)) + 8LL * 3600 * 1000;
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%dT%H:%M:%S+08:00", &tm);
}

/* A new record id, timed by the clock that follows the hub's. */
static int new_id(struct ctx *c, char id[UUID7_STRLEN + 1])
{
    return uuid7_make(hlc_wall(replica_clock(c->local.replica)), id);
}

static const char *engine_error(int rc)
{
    switch (rc) {
    case SYNC_E_IMMUTABLE:
        return "that field is set when the record is created and cannot change";
    case SYNC_E_FIELD_TYPE:
        return "a value has the wrong type, is too long, or is not valid text";
    case SYNC_E_NOT_FOUND:
        return "no such record";
    case SYNC_E_PARTITION:
        return "that record belongs to another village";
    default:
        return sync_strerror(rc);
    }
}

/* ---- init and enroll ---- */

static int cmd_init(struct ctx *c, int argc, char **argv)
{
    static const char help[] = "usage: hamlet init --village CODE [--name NAME]\n"
                               "Start this laptop's ledger for the village CODE (the code the\n"
                               "township uses, e.g. yangliu; NAME as people call it, 杨柳村).\n"
                               "Works offline; enrolment with the hub can come later.\n";
    if (cli_wants_help(argc, argv, help)) {
        return 0;
    }
    static const char *const names[] = {"--village", "--name"};
    const char *values[2] = {NULL, NULL};
    int n = cli_take_options(argc, argv, names, values, 2, NULL, NULL, 0);
    if (n != 0 || !values[0]) {
        return cli_fail(EXIT_USAGE, "usage: hamlet init --village CODE [--name NAME]");
    }
    if (!values[0][0] || strlen(values[0]) > DELTA_MAX_PART || strchr(values[0], ' ')) {
        return cli_fail(EXIT_USAGE, "a village code is 1 to 64 characters without spaces");
    }
    int rc = open_local(c, 1);
    if (rc != 0) {
        return rc;
    }
    if (c->local.village[0] && strcmp(c->local.village, values[0]) != 0) {
        return cli_fail(1, "this ledger belongs to village %s already", c->local.village);
    }
    if (local_set_village(&c->local, values[0], values[1]) != 0) {
        return cli_fail(1, "cannot store the village");
    }
    printf("ledger of village %s ready at %s\n", values[0], c->path);
    return 0;
}

static int cmd_enroll(struct ctx *c, int argc, char **argv)
{
    static const char help[] = "usage: hamlet enroll CODE\n"
                               "Connect this laptop to the township hub with the one-time code\n"
                               "that 'hamlet-hub device add' printed. The code also pins the\n"
                               "hub's certificate. Works before or after 'hamlet init'.\n";
    if (cli_wants_help(argc, argv, help)) {
        return 0;
    }
    if (argc != 2) {
        return cli_fail(EXIT_USAGE, "usage: hamlet enroll CODE");
    }
    int rc = open_local(c, 1);
    if (rc != 0) {
        return rc;
    }
    char why[500];
    if (sync_client_enroll(&c->local, argv[1], why, sizeof why) != 0) {
        return cli_fail(1, "enrolment failed: %s", why);
    }
    char hub[LOCAL_TEXT];
    local_get(&c->local, "agent.hub_url", hub, sizeof hub);
    printf("enrolled: village %s, hub %s\n", c->local.village, hub);
    return 0;
}

/* ---- cases ---- */

static int resolve(struct ctx *c, const char *table, const char *given, char id[UUID7_STRLEN + 1])
{
    int rc = records_resolve(&c->local, table, given, id);
    if (rc == SYNC_E_NOT_FOUND) {
        return cli_fail(1, "no %s with id %s", table, given);
    }
    if (rc != 0) {
        return cli_fail(1, "\"%s\" does not name one %s (give at least 8 characters)", given,
                        table);
    }
    return 0;
}

static int put_fields(struct ctx *c, const char *table, const char *id,
                      const struct records_fields *f, int *changed)
{
    int rc = replica_put(c->local.replica, table, id, c->local.village, f->n, f->names, f->values,
                         changed);
    return rc == 0 ? 0 : cli_fail(1, "cannot save: %s", engine_error(rc));
}

/* For commands with subcommands (case, contact): help, usage, and the
 * ledger opened. Returns -1 to go on with *sub and argv starting at it, or
 * the exit status to return now. */
static int begin_subcommand(struct ctx *c, int *argc, char ***argv, const char *help,
                            const char **sub)
{
    if (cli_wants_help(*argc, *argv, help)) {
        return 0;
    }
    if (*argc < 2) {
        fputs(help, stderr);
        return EXIT_USAGE;
    }
    *sub = (*argv)[1];
    (*argc)--;
    (*argv)++;
    int rc = open_local(c, 0);
    return rc != 0 ? rc : -1;
}

/* "set ID FIELD=VALUE..." of a case or a contact (argv[0] is "set"). */
static int set_fields(struct ctx *c, const char *what, const char *table, int argc, char **argv)
{
    char id[UUID7_STRLEN + 1], why[300];
    struct records_fields f;
    if (argc < 3) {
        return cli_fail(EXIT_USAGE, "usage: hamlet %s set ID FIELD=VALUE...", what);
    }
    int rc = resolve(c, table, argv[1], id);
    if (rc != 0) {
        return rc;
    }
    if (records_parse(table, argc - 2, argv + 2, &f, why, sizeof why) != 0) {
        return cli_fail(EXIT_USAGE, "%s", why);
    }
    int changed = 0;
    if ((rc = put_fields(c, table, id, &f, &changed)) != 0) {
        return rc;
    }
    printf("%s\n", changed ? "saved" : "nothing changed");
    return 0;
}

static int cmd_case(struct ctx *c, int argc, char **argv)
{
    static const char help[] =
        "usage: hamlet case add FIELD=VALUE...\n"
        "       hamlet case list [--status S]\n"
        "       hamlet case show ID [--reveal]\n"
        "       hamlet case set ID FIELD=VALUE...\n"
        "       hamlet case status|transfer|escalate|notice|opinion|followup|extend ID ...\n"
        "       hamlet case answer ID TEXT\n"
        "       hamlet case delete ID\n"
        "Fields: case_no kind channel category severity status level title facts claims\n"
        "mediator_id mediator_name received_by outcome. IDs may be shortened to 8+ characters.\n"
        "A new case is registered and numbered by this laptop (（2026）白沙调字第A3-0012号).\n"
        "status= and level= go through the rules, as 'case status' and 'case escalate' do\n"
        "('hamlet case status --help' lists the steps). Phone and identity-card numbers\n"
        "are masked unless --reveal is given; a reveal is recorded as an event.\n";
    const char *sub;
    int rc = begin_subcommand(c, &argc, &argv, help, &sub);
    if (rc >= 0) {
        return rc;
    }
    char id[UUID7_STRLEN + 1], why[300];
    struct records_fields f;
    if (!strcmp(sub, "add")) {
        if (records_parse("cases", argc - 1, argv + 1, &f, why, sizeof why) != 0) {
            return cli_fail(EXIT_USAGE, "%s", why);
        }
        for (size_t k = 0; k < f.n; k++) {
            enum rules_status given;
            if (!strcmp(f.names[k], "status") && f.values[k].type == SYNC_TEXT &&
                (rules_status_parse(f.values[k].s, &given) != 0 ||
                 given != RULES_STATUS_REGISTERED)) {
                return cli_fail(EXIT_USAGE, "a new case starts registered; then move it on with"
                                            " 'hamlet case status ID STATUS'");
            }
            if (!strcmp(f.names[k], "level") && f.values[k].type == SYNC_INT &&
                (f.values[k].i < RULES_LEVEL_MIN || f.values[k].i > RULES_LEVEL_MAX)) {
                return cli_fail(EXIT_USAGE, "a level is a number from 1 to 7");
            }
        }
        char created[40], case_no[RULES_CASE_NO_MAX];
        now_rfc3339(created, sizeof created, &c->local);
        /* A new case is registered now unless told otherwise. */
        const char *defaults[][2] = {{"status", "registered"},
                                     {"created_at", created},
                                     {"updated_at", created},
                                     {"case_no", case_no}};
        if (replica_begin(c->local.replica) != 0) {
            return cli_fail(1, "cannot open a transaction on the ledger");
        }
        /* The number is drawn in the same unit of work as the case. */
        int numbered = 0;
        for (size_t k = 0; k < f.n; k++) {
            numbered |= !strcmp(f.names[k], "case_no");
        }
        if (!numbered && (rc = casework_case_no(&c->local, case_no, sizeof case_no)) != 0) {
            replica_rollback(c->local.replica);
            return cli_fail(1, "cannot make a case number: %s", rules_strerror(rc));
        }
        for (size_t d = 0; d < 4; d++) {
            size_t k = 0;
            while (k < f.n && strcmp(f.names[k], defaults[d][0]) != 0) {
                k++;
            }
            if (k == f.n && f.n < RECORDS_MAX_FIELDS) {
                f.names[f.n] = defaults[d][0];
                f.values[f.n++] = (struct sync_value){.type = SYNC_TEXT, .s = defaults[d][1]};
            }
        }
        if (new_id(c, id) != 0 || (rc = put_fields(c, "cases", id, &f, NULL)) != 0) {
            replica_rollback(c->local.replica);
            return rc ? rc : cli_fail(1, "the system gave no random bytes");
        }
        if (replica_commit(c->local.replica) != 0) {
            return cli_fail(1, "cannot save the case");
        }
        printf("%s\n", id);
        return 0;
    }
    static const char *const steps[] = {"status",  "transfer", "escalate", "notice",
                                        "opinion", "followup", "extend",   "answer"};
    for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
        if (!strcmp(sub, steps[k])) {
            return casework_case_step(&c->local, argc, argv);
        }
    }
    if (!strcmp(sub, "list")) {
        static const char *const names[] = {"--status"};
        const char *status = NULL;
        if (cli_take_options(argc, argv, names, &status, 1, NULL, NULL, 0) != 0) {
            return cli_fail(EXIT_USAGE, "usage: hamlet case list [--status S]");
        }
        return records_list_cases(&c->local, status, stdout) == 0
                   ? 0
                   : cli_fail(1, "cannot list cases");
    }
    if (!strcmp(sub, "show")) {
        static const char *const flags[] = {"--reveal"};
        int reveal = 0;
        if (cli_take_options(argc, argv, NULL, NULL, 0, flags, &reveal, 1) != 1) {
            return cli_fail(EXIT_USAGE, "usage: hamlet case show ID [--reveal]");
        }
        if ((rc = resolve(c, "cases", argv[0], id)) != 0) {
            return rc;
        }
        if (reveal && (rc = casework_reveal(&c->local, id, "case show")) != 0) {
            return rc;
        }
        if (records_show_case(&c->local, id, reveal, stdout) != 0) {
            return cli_fail(1, "no case %s", id);
        }
        return casework_case_summary(&c->local, id, cli_lang(NULL));
    }
    if (!strcmp(sub, "set")) {
        if (argc < 3) {
            return cli_fail(EXIT_USAGE, "usage: hamlet case set ID FIELD=VALUE...");
        }
        if ((rc = resolve(c, "cases", argv[1], id)) != 0) {
            return rc;
        }
        /* status= and level= are steps of the workflow; the rest are fields,
         * checked before anything is written. */
        const char *status, *level;
        int rest;
        if ((rc = casework_split_set(argc - 2, argv + 2, &status, &level, &rest)) != 0) {
            return rc;
        }
        if (records_parse("cases", rest, argv + 2, &f, why, sizeof why) != 0) {
            return cli_fail(EXIT_USAGE, "%s", why);
        }
        if ((status || level) && (rc = casework_apply_set(&c->local, id, status, level)) != 0) {
            return rc;
        }
        int changed = 0;
        if (rest > 0 && (rc = put_fields(c, "cases", id, &f, &changed)) != 0) {
            return rc;
        }
        printf("%s\n", changed || status || level ? "saved" : "nothing changed");
        return 0;
    }
    if (!strcmp(sub, "delete")) {
        if (argc != 2) {
            return cli_fail(EXIT_USAGE, "usage: hamlet case delete ID");
        }
        if ((rc = resolve(c, "cases", argv[1], id)) != 0) {
            return rc;
        }
        rc = replica_delete(c->local.replica, "cases", id);
        return rc == 0 ? (printf("deleted\n"), 0)
                       : cli_fail(1, "cannot delete: %s", engine_error(rc));
    }
    return cli_fail(EXIT_USAGE, "unknown case command \"%s\" (add, list, show, set, delete)", sub);
}

static int cmd_event(struct ctx *c, int argc, char **argv)
{
    static const char help[] =
        "usage: hamlet event add CASE --kind KIND --note TEXT [--date YYYY-MM-DD]\n"
        "Record what happened to a case: inspection, visit, phone, session, followup,\n"
        "agreement... Events are never edited or deleted: a correction is a new event.\n"
        "Status changes, transfers, escalations, result notices and opinions are\n"
        "recorded by their own steps ('hamlet case status --help').\n";
    if (cli_wants_help(argc, argv, help)) {
        return 0;
    }
    static const char *const names[] = {"--kind", "--note", "--date"};
    const char *values[3] = {NULL, NULL, NULL};
    /* Check the subcommand before cli_take_options() moves the operands over it. */
    int is_add = argc > 1 && !strcmp(argv[1], "add");
    int n = is_add ? cli_take_options(argc - 1, argv + 1, names, values, 3, NULL, NULL, 0) : -1;
    if (!is_add || n != 1 || !values[0] || !values[1]) {
        return cli_fail(EXIT_USAGE, "usage: hamlet event add CASE --kind KIND --note TEXT");
    }
    int rc = open_local(c, 0);
    if (rc != 0) {
        return rc;
    }
    char case_id[UUID7_STRLEN + 1], id[UUID7_STRLEN + 1], now[40];
    if ((rc = resolve(c, "cases", argv[1], case_id)) != 0) {
        return rc;
    }
    struct rules_date date = RULES_DATE_NONE;
    if (values[2] && rules_date_parse(values[2], &date) != 0) {
        return cli_fail(EXIT_USAGE, "--date: expected a date YYYY-MM-DD");
    }
    struct workflow w;
    struct rules_config config;
    casework_setup(&c->local, &w, &config, now, sizeof now, cli_lang(NULL));
    if (workflow_event(&w, case_id, values[0], date, values[1], NULL, id) != 0) {
        return cli_fail(1, "cannot save the event: %s", w.why);
    }
    printf("%s\n", id);
    return 0;
}

static int cmd_contact(struct ctx *c, int argc, char **argv)
{
    static const char help[] = "usage: hamlet contact add FIELD=VALUE...\n"
                               "       hamlet contact list [--reveal]\n"
                               "       hamlet contact show ID [--reveal]\n"
                               "       hamlet contact set ID FIELD=VALUE...\n"
                               "Fields: name phone id_no address notes.\n";
    const char *sub;
    int rc = begin_subcommand(c, &argc, &argv, help, &sub);
    if (rc >= 0) {
        return rc;
    }
    char id[UUID7_STRLEN + 1], why[300];
    struct records_fields f;
    static const char *const flags[] = {"--reveal"};
    int reveal = 0;
    if (!strcmp(sub, "add")) {
        if (records_parse("contacts", argc - 1, argv + 1, &f, why, sizeof why) != 0 || f.n == 0) {
            return cli_fail(EXIT_USAGE, "%s",
                            f.n ? why : "usage: hamlet contact add name=NAME ...");
        }
        if (new_id(c, id) != 0) {
            return cli_fail(1, "the system gave no random bytes");
        }
        if ((rc = put_fields(c, "contacts", id, &f, NULL)) != 0) {
            return rc;
        }
        printf("%s\n", id);
        return 0;
    }
    if (!strcmp(sub, "list")) {
        if (cli_take_options(argc, argv, NULL, NULL, 0, flags, &reveal, 1) != 0) {
            return cli_fail(EXIT_USAGE, "usage: hamlet contact list [--reveal]");
        }
        if (reveal && (rc = casework_reveal(&c->local, NULL, "contact list")) != 0) {
            return rc;
        }
        return records_list_contacts(&c->local, reveal, stdout) == 0
                   ? 0
                   : cli_fail(1, "cannot list contacts");
    }
    if (!strcmp(sub, "show")) {
        if (cli_take_options(argc, argv, NULL, NULL, 0, flags, &reveal, 1) != 1) {
            return cli_fail(EXIT_USAGE, "usage: hamlet contact show ID [--reveal]");
        }
        if ((rc = resolve(c, "contacts", argv[0], id)) != 0) {
            return rc;
        }
        char what[UUID7_STRLEN + 32];
        snprintf(what, sizeof what, "contact %s", id);
        if (reveal && (rc = casework_reveal(&c->local, NULL, what)) != 0) {
            return rc;
        }
        return records_show_contact(&c->local, id, reveal, stdout) == 0 ? 0 : 1;
    }
    if (!strcmp(sub, "set")) {
        return set_fields(c, "contact", "contacts", argc, argv);
    }
    return cli_fail(EXIT_USAGE, "unknown contact command \"%s\" (add, list, show, set)", sub);
}

/* ---- import and export ---- */

static int cmd_import(struct ctx *c, int argc, char **argv)
{
    static const char help[] =
        "usage: hamlet import FILE\n"
        "Import cases from JSON Lines in the shape of the reference data (or of\n"
        "'hamlet export'). Only what changed is recorded: importing the same file\n"
        "again changes nothing. Records of other villages are skipped and counted.\n";
    if (cli_wants_help(argc, argv, help)) {
        return 0;
    }
    if (argc != 2) {
        return cli_fail(EXIT_USAGE, "usage: hamlet import FILE");
    }
    int rc = open_local(c, 0);
    if (rc != 0) {
        return rc;
    }
    FILE *in = strcmp(argv[1], "-") ? fopen(argv[1], "r") : stdin;
    if (!in) {
        return cli_fail(1, "cannot read %s: %s", argv[1], strerror(errno));
    }
    struct ledger_io_village v = {c->local.village,
                                  c->local.village_name[0] ? c->local.village_name : NULL};
    struct ledger_io_stats st;
    memset(&st, 0, sizeof st);
    char why[400];
    rc = ledger_io_import_file(c->local.replica, &v, in, &st, why, sizeof why);
    if (in != stdin) {
        fclose(in);
    }
    printf("%zu records: %zu new, %zu updated, %zu unchanged, %zu of other villages skipped;"
           " %zu changes to sync\n",
           st.records, st.created, st.updated, st.unchanged, st.skipped_other_village, st.changes);
    if (st.masked_kept > 0) {
        printf("%zu masked numbers (as a masked export shows them) were not imported; the numbers"
               " already held are kept\n",
               st.masked_kept);
    }
    return rc == 0 ? 0 : cli_fail(1, "%s: %s", argv[1], why);
}

static int cmd_export(struct ctx *c, int argc, char **argv)
{
    static const char help[] =
        "usage: hamlet export [--format jsonl|csv] [--reveal]\n"
        "The village's ledger on stdout. JSON Lines is canonical: the same state gives\n"
        "the same bytes on every laptop and at the hub. CSV is for spreadsheets.\n"
        "Phone and identity-card numbers are masked unless --reveal is given; a reveal\n"
        "is recorded as an event. Importing a masked export changes no number.\n";
    if (cli_wants_help(argc, argv, help)) {
        return 0;
    }
    static const char *const names[] = {"--format"};
    static const char *const flags[] = {"--reveal"};
    const char *format = "jsonl";
    int reveal = 0;
    if (cli_take_options(argc, argv, names, &format, 1, flags, &reveal, 1) != 0 ||
        (strcmp(format, "jsonl") && strcmp(format, "csv"))) {
        return cli_fail(EXIT_USAGE, "usage: hamlet export [--format jsonl|csv] [--reveal]");
    }
    int rc = open_local(c, 0);
    if (rc != 0) {
        return rc;
    }
    if (reveal && !strcmp(format, "jsonl") &&
        (rc = casework_reveal(&c->local, NULL, "export")) != 0) {
        return rc;
    }
    unsigned flags_out = reveal ? 0 : LEDGER_IO_MASK;
    rc = !strcmp(format, "csv") ? ledger_io_export_csv(c->local.replica, c->local.village,
                                                       flags_out, cli_write_stdout, NULL)
                                : ledger_io_export_jsonl(c->local.replica, c->local.village,
                                                         flags_out, cli_write_stdout, NULL);
    if (rc == 0 && fflush(stdout) != 0) {
        rc = SYNC_E_DB;
    }
    return rc == 0 ? 0 : cli_fail(1, "export failed: %s", sync_strerror(rc));
}

/* ---- sync, status, daemon ---- */

/* ---- the rules: lists, report, agreements ---- */

/* Commands whose work is in casework.c: the ledger opened, then run. */
static int with_casework(struct ctx *c, int argc, char **argv,
                         int (*run)(struct local *, int, char **))
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            return run(NULL, argc, argv);
        }
    }
    int rc = open_local(c, 0);
    return rc != 0 ? rc : run(&c->local, argc, argv);
}

static int cmd_list(struct ctx *c, int argc, char **argv)
{
    return with_casework(c, argc, argv, casework_list);
}

static int cmd_report(struct ctx *c, int argc, char **argv)
{
    return with_casework(c, argc, argv, casework_report);
}

static int cmd_agreement(struct ctx *c, int argc, char **argv)
{
    return with_casework(c, argc, argv, casework_agreement);
}

static int cmd_rules(struct ctx *c, int argc, char **argv)
{
    return with_casework(c, argc, argv, casework_rules);
}

static int cmd_sync(struct ctx *c, int argc, char **argv)
{
    static const char help[] =
        "usage: hamlet sync\n"
        "Send this laptop's changes to the hub and receive the village's new ones,\n"
        "in as few round trips as fit. A cut link loses nothing: what was not\n"
        "acknowledged is sent again next time.\n";
    if (cli_wants_help(argc, argv, help)) {
        return 0;
    }
    if (argc != 1) {
        return cli_fail(EXIT_USAGE, "usage: hamlet sync");
    }
    int rc = open_local(c, 0);
    if (rc != 0) {
        return rc;
    }
    struct sync_client_summary s;
    rc = sync_client_run(&c->local, 6, &s);
    if (s.clock_off) {
        fprintf(stderr,
                "hamlet: this laptop's clock is off by %+" PRId64 " s from the hub's; Hamlet"
                " follows the hub's clock (fix the system clock when you can)\n",
                -s.clock_offset_ms / 1000);
    }
    if (s.refused) {
        fprintf(stderr,
                "hamlet: the hub refused %" PRId64 " change(s) of records of another"
                " village; they stay on this laptop\n",
                s.refused);
    }
    if (rc != 0) {
        return cli_fail(1, "sync failed: %s", s.error);
    }
    printf("synced: sent %" PRId64 ", received %" PRId64 ", %" PRId64 " bytes up, %" PRId64
           " bytes down, %d round trip%s, %" PRId64 " conflict%s\n",
           s.sent, s.received, s.bytes_up, s.bytes_down, s.rounds, s.rounds == 1 ? "" : "s",
           s.conflicts, s.conflicts == 1 ? "" : "s");
    return 0;
}

static void print_time(const char *label, int64_t ms)
{
    if (ms <= 0) {
        printf("%s never\n", label);
        return;
    }
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    char text[40];
    strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &tm);
    printf("%s %s\n", label, text);
}

static int cmd_status(struct ctx *c, int argc, char **argv)
{
    static const char help[] = "usage: hamlet status\n"
                               "Changes waiting to be sent, the last sync and its result, the\n"
                               "hub, data used today and this month, the clock offset.\n";
    if (cli_wants_help(argc, argv, help)) {
        return 0;
    }
    if (argc != 1) {
        return cli_fail(EXIT_USAGE, "usage: hamlet status");
    }
    int rc = open_local(c, 0);
    if (rc != 0) {
        return rc;
    }
    struct local *l = &c->local;
    char hub[LOCAL_TEXT], result[LOCAL_TEXT];
    local_get(l, "agent.hub_url", hub, sizeof hub);
    local_get(l, "agent.last_result", result, sizeof result);
    printf("village:         %s%s%s%s\n", l->village, l->village_name[0] ? " (" : "",
           l->village_name, l->village_name[0] ? ")" : "");
    printf("ledger:          %s\n", l->path);
    printf("hub:             %s\n", hub[0] ? hub : "not enrolled (hamlet enroll CODE)");
    printf("pending changes: %" PRId64 "\n", local_pending(l));
    print_time("last sync:      ", local_get_int(l, "agent.last_sync_ms", 0));
    printf("last result:     %s\n", result[0] ? result : "-");
    print_time("last success:   ", local_get_int(l, "agent.last_ok_ms", 0));
    printf("data today:      %" PRId64 " bytes up, %" PRId64 " down\n",
           local_get_int(l, "agent.bytes_up_today", 0),
           local_get_int(l, "agent.bytes_down_today", 0));
    printf("data this month: %" PRId64 " bytes up, %" PRId64 " down\n",
           local_get_int(l, "agent.bytes_up_month", 0),
           local_get_int(l, "agent.bytes_down_month", 0));
    int64_t offset = local_get_int(l, "agent.clock_offset_ms", 0);
    printf("clock offset:    %+.1f s from the hub%s\n", -(double)offset / 1000.0,
           offset > SYNC_CLIENT_CLOCK_WARN_MS || offset < -SYNC_CLIENT_CLOCK_WARN_MS
               ? " (this laptop's clock is off; Hamlet follows the hub's)"
               : "");
    int64_t refused = local_get_int(l, "agent.refused_total", 0);
    if (refused) {
        char last[LOCAL_TEXT];
        local_get(l, "agent.last_refusal", last, sizeof last);
        printf("refused:         %" PRId64 " change(s); last: %s\n", refused, last);
    }
    return 0;
}

static int cmd_daemon(struct ctx *c, int argc, char **argv)
{
    static const char help[] =
        "usage: hamlet daemon [--interval S] [--idle-max S] [--debounce S]\n"
        "Sync in the background: S seconds after a local change (--debounce, default 5),\n"
        "then every --interval seconds (default 900); while syncs find nothing to send\n"
        "or receive the interval doubles, up to --idle-max (default 14400), so that a\n"
        "quiet day costs few bytes. Growing pauses while the hub cannot be reached.\n"
        "SIGUSR1 syncs at once (a link came up). Defaults from [daemon] in hamlet.conf.\n"
        "Stops cleanly on SIGTERM or Ctrl-C.\n";
    if (cli_wants_help(argc, argv, help)) {
        return 0;
    }
    static const char *const names[] = {"--interval", "--debounce", "--idle-max"};
    const char *values[3] = {NULL, NULL, NULL};
    if (cli_take_options(argc, argv, names, values, 3, NULL, NULL, 0) != 0) {
        return cli_fail(EXIT_USAGE,
                        "usage: hamlet daemon [--interval S] [--idle-max S] [--debounce S]");
    }
    struct daemon_opts o;
    daemon_opts_default(&o);
    if (c->config.debounce_s) {
        o.debounce_s = c->config.debounce_s;
    }
    if (c->config.interval_s) {
        o.interval_s = c->config.interval_s;
    }
    if (c->config.idle_max_s) {
        o.idle_max_s = c->config.idle_max_s;
    }
    unsigned *targets[] = {&o.interval_s, &o.debounce_s, &o.idle_max_s};
    for (int i = 0; i < 3; i++) {
        if (values[i]) {
            char *end;
            errno = 0;
            unsigned long v = strtoul(values[i], &end, 10);
            if (errno || *end || v == 0 || v > 86400) {
                return cli_fail(EXIT_USAGE, "%s: expected seconds from 1 to 86400", names[i]);
            }
            *targets[i] = (unsigned)v;
        }
    }
    if (!values[2] && o.idle_max_s < o.interval_s) {
        o.idle_max_s = o.interval_s;
    }
    if (o.idle_max_s < o.interval_s) {
        return cli_fail(EXIT_USAGE, "--idle-max is at least --interval");
    }
    int rc = open_local(c, 0);
    if (rc != 0) {
        return rc;
    }
    return daemon_loop(&c->local, &o) == 0 ? 0 : 1;
}

static int cmd_ui(struct ctx *c, int argc, char **argv)
{
    static const char help[] =
        "usage: hamlet ui [--port N] [--no-browser | --open]\n"
        "The village's pages (Today, new case, cases, agreements, contacts, sync,\n"
        "enrolment) in this laptop's browser, in Chinese or English. Listens on\n"
        "127.0.0.1 only, on a free port unless --port is given, prints the first\n"
        "address (with a secret token that only this run knows) and opens it in\n"
        "the default browser unless --no-browser is given. Works offline. Runs\n"
        "until Ctrl-C or SIGTERM; one line per request on stderr.\n"
        "The address is also left, for this user only, in\n"
        "$XDG_RUNTIME_DIR/hamlet/ui.url (else ~/.cache/hamlet/ui.url), removed\n"
        "when it stops. --open opens the pages of the hamlet ui already running\n"
        "(the one systemd starts at login) and exits; when none answers, it\n"
        "starts one as plain 'hamlet ui' does.\n";
    if (cli_wants_help(argc, argv, help)) {
        return 0;
    }
    static const char *const names[] = {"--port"};
    static const char *const flags[] = {"--no-browser", "--open"};
    const char *port = NULL;
    int set[2] = {0, 0}; /* --no-browser, --open */
    if (cli_take_options(argc, argv, names, &port, 1, flags, set, 2) != 0 || (set[0] && set[1])) {
        return cli_fail(EXIT_USAGE, "usage: hamlet ui [--port N] [--no-browser | --open]");
    }
    struct ui_opts o = {0, !set[0], stdout, stderr};
    if (port) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(port, &end, 10);
        if (errno || *end || !port[0] || v > 65535) {
            return cli_fail(EXIT_USAGE, "--port: expected a port from 0 (any free one) to 65535");
        }
        o.port = (unsigned)v;
    }
    if (set[1] && ui_open_running(stdout, stderr) == 0) {
        return 0;
    }
    /* A laptop without a ledger yet gets one: its village comes with the
     * enrolment code the pages ask for. */
    char why[400];
    if (local_open(c->path, 1, &c->local, why, sizeof why) != 0) {
        return cli_fail(1, "%s", why);
    }
    c->open = 1;
    int rc = ui_serve(&c->local, &o);
    return rc == 0 ? 0 : cli_fail(1, "the pages could not start: %s", ui_strerror(rc));
}

int main(int argc, char **argv)
{
    struct ctx c;
    memset(&c, 0, sizeof c);
    const char *db = NULL, *config_path = NULL;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--db") && i + 1 < argc) {
            db = argv[++i];
        } else if (!strcmp(argv[i], "--config") && i + 1 < argc) {
            config_path = argv[++i];
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage_text, stdout);
            return 0;
        } else {
            fputs(usage_text, stderr);
            return EXIT_USAGE;
        }
    }
    if (i >= argc) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    char why[400];
    if (configfile_load_default(&c.config, config_path, why, sizeof why) != 0) {
        return cli_fail(1, "%s", why);
    }
    const char *env_db = getenv("HAMLET_DB");
    if (!db && !(env_db && env_db[0]) && c.config.db[0]) {
        db = c.config.db;
    }
    if (db) {
        snprintf(c.path, sizeof c.path, "%s", db);
    } else if (local_default_path(c.path, sizeof c.path) != 0) {
        return cli_fail(EXIT_USAGE, "no HOME to keep the ledger in: give --db PATH");
    }
    if (https_global_init() != 0) {
        return cli_fail(1, "cannot start libcurl");
    }
    static const struct {
        const char *name;
        int (*run)(struct ctx *, int, char **);
    } commands[] = {{"init", cmd_init},           {"enroll", cmd_enroll},   {"case", cmd_case},
                    {"event", cmd_event},         {"contact", cmd_contact}, {"import", cmd_import},
                    {"export", cmd_export},       {"sync", cmd_sync},       {"status", cmd_status},
                    {"daemon", cmd_daemon},       {"list", cmd_list},       {"report", cmd_report},
                    {"agreement", cmd_agreement}, {"rules", cmd_rules},     {"ui", cmd_ui}};
    int rc = -1;
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++) {
        if (!strcmp(argv[i], commands[k].name)) {
            rc = commands[k].run(&c, argc - i, argv + i);
            break;
        }
    }
    if (rc == -1) {
        rc = cli_fail(EXIT_USAGE, "unknown command \"%s\" (see hamlet --help)", argv[i]);
    }
    if (c.open) {
        local_close(&c.local);
    }
    return rc;
}
