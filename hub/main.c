/* SPDX-License-Identifier: MIT */
/*
 * main.c - hamlet-hub, the township hub's program: argument parsing and the
 * calls into the hub's modules. Every command has --help, exits 0 on
 * success, and reports an error once, in one line, with a non-zero status.
 */
#include "auth.h"
#include "cert.h"
#include "config.h"
#include "devices.h"
#include "hlc.h"
#include "hub_error.h"
#include "review.h"
#include "township_rules.h"
#include "workflow.h"
#include "server.h"
#include "store.h"
#include "sync_error.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EXIT_USAGE 2

static const char usage_text[] =
    "usage: hamlet-hub [--db PATH] [--config FILE] COMMAND [ARGS]\n"
    "\n"
    "The township hub: merges the ledgers of every village, over HTTPS.\n"
    "\n"
    "commands:\n"
    "  init                              create the hub database\n"
    "  cert generate --out DIR [--name HOST]   a self-signed certificate and its pin\n"
    "  village add CODE --name NAME      add a village\n"
    "  village list                      list the villages\n"
    "  device add --village CODE         register a laptop; prints its enrolment code\n"
    "  device list [--village CODE]      list the devices\n"
    "  device revoke ID                  revoke a lost or retired laptop\n"
    "  user add NAME --role reviewer|admin   an account for the review pages\n"
    "  user list                         list the accounts\n"
    "  user disable NAME                 stop an account from signing in\n"
    "  serve --listen ADDR:PORT --cert FILE --key FILE   run the HTTPS sync server and\n"
    "                                    the review pages\n"
    "  export [--village CODE] [--reveal]   the merged ledger as JSON Lines\n"
    "  backup FILE                       a copy of the database, taken while serving\n"
    "  case deadline ID YYYY-MM-DD|none [--note TEXT]   the township's deadline on a case\n"
    "  case level ID 1-7                 the responsibility level of a case\n"
    "  case mediator ID NAME [--id X]    assign a case's mediator\n"
    "  case correct ID COMMENT|--clear   ask the village to correct a case, or clear it\n"
    "  list overdue|due|followups|corrections [--village CODE] [--days N] [--json]\n"
    "                                    what is due, and what the township asked\n"
    "  report --month YYYY-MM|--year YYYY [--village CODE] [--csv|--json]   the figures\n"
    "  rules                             the township's rules, as sent to the villages\n"
    "  conflicts list [--village CODE] [--all]   concurrent edits waiting for review\n"
    "  conflicts show ID                 both values of a conflict\n"
    "  conflicts resolve ID (--keep standing|incoming | --value TEXT) [--by NAME]\n"
    "  history ID [--table TABLE]        every change received for a record\n"
    "\n"
    "options:\n"
    "  --db PATH        the hub database (or HAMLET_HUB_DB, or db in the config)\n"
    "  --config FILE    the configuration file (default " CONFIG_DEFAULT_PATH " if present)\n"
    "  --help           this text; 'hamlet-hub COMMAND --help' for a command\n";

struct ctx {
    struct config config;
    const char *db_arg;
};

static int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%shamlet-hub: ", server_is_journal(stderr) ? "<3>" : "");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    return code;
}

/* A line of news on stderr (an error's "<3>" becomes "<6>" in the journal). */
static void inform(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void inform(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%shamlet-hub: ", server_is_journal(stderr) ? "<6>" : "");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

/* Parse a subcommand's options. Returns the index of the first operand, or
 * -1 after printing help (exit 0) or -2 on a usage error. */
static int sub_options(int argc, char **argv, const char *help, const struct option *opts,
                       int (*take)(void *ctx, int opt, const char *arg), void *ctx)
{
    optind = 0;
    opterr = 0;
    int opt;
    const char *shorts = "h"; /* GNU order: options may follow operands */
    while ((opt = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
        if (opt == 'h') {
            fputs(help, stdout);
            return -1;
        }
        if (opt == '?' || take(ctx, opt, optarg) != 0) {
            fprintf(stderr, "hamlet-hub: %s: bad option %s\n%s", argv[0],
                    argv[optind - 1] ? argv[optind - 1] : "", help);
            return -2;
        }
    }
    return optind;
}

static int open_store(struct ctx *c, int create, struct store **out)
{
    const char *path = c->db_arg ? c->db_arg : getenv("HAMLET_HUB_DB");
    if (!path || !path[0]) {
        path = c->config.db[0] ? c->config.db : NULL;
    }
    if (!path) {
        return fail(EXIT_USAGE, "no database given: use --db PATH (or HAMLET_HUB_DB)");
    }
    char why[300];
    int rc = store_open(path, create, out, why, sizeof why);
    if (rc != 0) {
        return fail(1, "%s", why);
    }
    return 0;
}

/* The option of a command that has just one, taking a string. */
static int take_string(void *ctx, int opt, const char *arg)
{
    (void)opt;
    *(const char **)ctx = arg;
    return 0;
}

/* The start of a command with subcommands (village, device, user):
 * help, then the options after the subcommand. Returns -1 to go on, with
 * the operands after the subcommand in *operand (*operands of them), or
 * the exit status to return now. */
static int begin_subcommand(int argc, char **argv, const char *help, const struct option *opts,
                            int (*take)(void *ctx, int opt, const char *arg), void *ctx,
                            int *operands, char ***operand)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(help, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : 0;
    }
    int first = sub_options(argc - 1, argv + 1, help, opts, take, ctx);
    if (first < 0) {
        return first == -1 ? 0 : EXIT_USAGE;
    }
    *operands = argc - 1 - first;
    *operand = argv + 1 + first;
    return -1;
}

/* ---- init ---- */

static int cmd_init(struct ctx *c, int argc, char **argv)
{
    static const char help[] = "usage: hamlet-hub [--db PATH] init\n"
                               "Create the hub database (nothing happens if it exists).\n";
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int first = sub_options(argc, argv, help, opts, NULL, NULL);
    if (first < 0) {
        return first == -1 ? 0 : EXIT_USAGE;
    }
    if (first != argc) {
        return fail(EXIT_USAGE, "init takes no arguments");
    }
    struct store *s;
    int rc = open_store(c, 1, &s);
    if (rc != 0) {
        return rc;
    }
    store_close(s);
    printf("hub database ready\n");
    return 0;
}

/* ---- cert ---- */

struct cert_args {
    const char *out, *name;
    long days;
};

static int take_cert(void *ctx, int opt, const char *arg)
{
    struct cert_args *a = ctx;
    char *end;
    switch (opt) {
    case 'o':
        a->out = arg;
        return 0;
    case 'n':
        a->name = arg;
        return 0;
    case 'd':
        errno = 0;
        a->days = strtol(arg, &end, 10);
        return errno || *end || a->days < 1 || a->days > 36500 ? -1 : 0;
    }
    return -1;
}

static int cmd_cert(struct ctx *c, int argc, char **argv)
{
    (void)c;
    static const char help[] =
        "usage: hamlet-hub cert generate --out DIR [--name HOST] [--days N]\n"
        "Make a self-signed certificate (DIR/hub.crt) and key (DIR/hub.key) for a\n"
        "township without a certificate authority, and print the pin that devices\n"
        "check. HOST is the name or address devices use (default localhost).\n";
    static const struct option opts[] = {{"out", required_argument, NULL, 'o'},
                                         {"name", required_argument, NULL, 'n'},
                                         {"days", required_argument, NULL, 'd'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    if (argc < 2 || strcmp(argv[1], "generate") != 0) {
        if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
            fputs(help, stdout);
            return 0;
        }
        return fail(EXIT_USAGE, "usage: hamlet-hub cert generate --out DIR [--name HOST]");
    }
    struct cert_args a = {NULL, NULL, 3650};
    int first = sub_options(argc - 1, argv + 1, help, opts, take_cert, &a);
    if (first < 0) {
        return first == -1 ? 0 : EXIT_USAGE;
    }
    if (!a.out || first != argc - 1) {
        return fail(EXIT_USAGE, "cert generate needs --out DIR");
    }
    char pin[CERT_PIN_LEN], why[300];
    int rc = cert_generate(a.out, a.name, (int)a.days, pin, sizeof pin, why, sizeof why);
    if (rc != 0) {
        return fail(1, "%s", why);
    }
    printf("certificate: %s/hub.crt\nkey:         %s/hub.key\npin:         %s\n", a.out, a.out,
           pin);
    return 0;
}

/* ---- village ---- */

static int print_village(void *ctx, const char *code, const char *name, int64_t devices,
                         int64_t cases)
{
    (void)ctx;
    printf("%-16s %-20s %4" PRId64 " devices %6" PRId64 " cases\n", code, name, devices, cases);
    return 0;
}

static int cmd_village(struct ctx *c, int argc, char **argv)
{
    static const char help[] = "usage: hamlet-hub village add CODE --name NAME\n"
                               "       hamlet-hub village list\n"
                               "CODE is what devices of the village are enrolled with (e.g.\n"
                               "yangliu); NAME is how people call it (e.g. 杨柳村).\n";
    static const struct option opts[] = {{"name", required_argument, NULL, 'n'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *name = NULL;
    int operands = 0;
    char **operand = NULL;
    int begun = begin_subcommand(argc, argv, help, opts, take_string, &name, &operands, &operand);
    if (begun >= 0) {
        return begun;
    }
    struct store *s;
    int rc;
    if (!strcmp(argv[1], "add")) {
        if (operands != 1 || !name) {
            return fail(EXIT_USAGE, "usage: hamlet-hub village add CODE --name NAME");
        }
        if ((rc = open_store(c, 0, &s)) != 0) {
            return rc;
        }
        rc = store_village_add(s, operand[0], name);
        /* The village's laptops get the township's rules with their first sync. */
        if (rc == 0 && (rc = review_publish_rules(s, &c->config.rules, NULL)) != 0) {
            store_close(s);
            return fail(1, "cannot record the township's rules: %s", hub_strerror(rc));
        }
        store_close(s);
        if (rc == HUB_E_EXISTS) {
            return fail(1, "village %s exists already", operand[0]);
        }
        if (rc == HUB_E_ARG) {
            return fail(1, "a village code is 1 to 64 bytes without spaces or '|', and needs a"
                           " name");
        }
        if (rc != 0) {
            return fail(1, "cannot add the village: %s", hub_strerror(rc));
        }
        printf("village %s (%s) added\n", operand[0], name);
        return 0;
    }
    if (!strcmp(argv[1], "list")) {
        if (operands != 0) {
            return fail(EXIT_USAGE, "usage: hamlet-hub village list");
        }
        if ((rc = open_store(c, 0, &s)) != 0) {
            return rc;
        }
        rc = store_village_list(s, print_village, NULL);
        store_close(s);
        return rc == 0 ? 0 : fail(1, "cannot list villages: %s", hub_strerror(rc));
    }
    return fail(EXIT_USAGE, "unknown village command \"%s\" (add, list)", argv[1]);
}

/* ---- device ---- */

struct device_args {
    const char *village, *label, *url, *cert;
};

static int take_device(void *ctx, int opt, const char *arg)
{
    struct device_args *a = ctx;
    switch (opt) {
    case 'v':
        a->village = arg;
        return 0;
    case 'l':
        a->label = arg;
        return 0;
    case 'u':
        a->url = arg;
        return 0;
    case 'c':
        a->cert = arg;
        return 0;
    }
    return -1;
}

static void format_time(int64_t ms, char *out, size_t len)
{
    if (ms <= 0) {
        snprintf(out, len, "-");
        return;
    }
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int print_device(void *ctx, const struct store_device *d)
{
    (void)ctx;
    char last[32];
    format_time(d->last_sync_ms, last, sizeof last);
    printf("%s  %-12s %-8s last sync %s (%s)  %" PRId64 " syncs  in %" PRId64 " B  out %" PRId64
           " B  clock %+" PRId64 " s  %s\n",
           d->id, d->village, d->status, last, d->last_result[0] ? d->last_result : "-", d->syncs,
           d->bytes_in, d->bytes_out, d->clock_offset_ms / 1000, d->label);
    return 0;
}

static int cmd_device(struct ctx *c, int argc, char **argv)
{
    static const char help[] =
        "usage: hamlet-hub device add --village CODE [--label TEXT] [--url URL] [--cert FILE]\n"
        "       hamlet-hub device list [--village CODE]\n"
        "       hamlet-hub device revoke ID\n"
        "add prints, as its last line, the one-time enrolment code to give to the\n"
        "laptop (hamlet enroll CODE). URL is the hub's address as devices reach it\n"
        "(or url in the config); FILE the hub's certificate (or cert in the config).\n";
    static const struct option opts[] = {
        {"village", required_argument, NULL, 'v'}, {"label", required_argument, NULL, 'l'},
        {"url", required_argument, NULL, 'u'},     {"cert", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    struct device_args a = {NULL, NULL, NULL, NULL};
    int operands = 0;
    char **operand = NULL;
    int begun = begin_subcommand(argc, argv, help, opts, take_device, &a, &operands, &operand);
    if (begun >= 0) {
        return begun;
    }
    struct store *s;
    int rc;
    if (!strcmp(argv[1], "add")) {
        const char *url = a.url ? a.url : c->config.url[0] ? c->config.url : NULL;
        const char *cert = a.cert ? a.cert : c->config.cert[0] ? c->config.cert : NULL;
        if (!a.village || operands != 0) {
            return fail(EXIT_USAGE, "usage: hamlet-hub device add --village CODE");
        }
        if (!url || strncmp(url, "https://", 8) != 0) {
            return fail(EXIT_USAGE, "the hub's public URL is needed (https://...): give --url"
                                    " or set url in the config");
        }
        if (!cert) {
            return fail(EXIT_USAGE, "the hub's certificate is needed for its pin: give --cert"
                                    " or set cert in the config");
        }
        char pin[CERT_PIN_LEN], why[300];
        if ((rc = cert_pin_file(cert, pin, sizeof pin, why, sizeof why)) != 0) {
            return fail(1, "%s", why);
        }
        if ((rc = open_store(c, 0, &s)) != 0) {
            return rc;
        }
        char id[UUID7_STRLEN + 1], code[DEVICES_CODE_LEN], line[1024];
        int64_t valid_ms = (int64_t)c->config.enrol_valid_days * 86400 * 1000;
        rc = store_device_add(s, a.village, a.label, valid_ms, id, code);
        store_close(s);
        if (rc == HUB_E_NOT_FOUND) {
            return fail(1, "no village %s (see 'hamlet-hub village list')", a.village);
        }
        if (rc != 0) {
            return fail(1, "cannot add the device: %s", hub_strerror(rc));
        }
        if (devices_enrolment_code(url, pin, id, code, line, sizeof line) != 0) {
            return fail(1, "the URL cannot go into an enrolment code (no '|' allowed)");
        }
        printf("device %s added to village %s; its enrolment code is valid %u days, once:\n", id,
               a.village, c->config.enrol_valid_days);
        printf("%s\n", line);
        return 0;
    }
    if (!strcmp(argv[1], "list")) {
        if (operands != 0) {
            return fail(EXIT_USAGE, "usage: hamlet-hub device list [--village CODE]");
        }
        if ((rc = open_store(c, 0, &s)) != 0) {
            return rc;
        }
        rc = store_device_list(s, a.village, print_device, NULL);
        store_close(s);
        return rc == 0 ? 0 : fail(1, "cannot list devices: %s", hub_strerror(rc));
    }
    if (!strcmp(argv[1], "revoke")) {
        if (operands != 1) {
            return fail(EXIT_USAGE, "usage: hamlet-hub device revoke ID");
        }
        if ((rc = open_store(c, 0, &s)) != 0) {
            return rc;
        }
        rc = store_device_revoke(s, operand[0]);
        store_close(s);
        if (rc == HUB_E_NOT_FOUND) {
            return fail(1, "no device %s", operand[0]);
        }
        if (rc != 0) {
            return fail(1, "cannot revoke: %s", hub_strerror(rc));
        }
        printf("device %s revoked; it is refused from its next request on\n", operand[0]);
        return 0;
    }
    return fail(EXIT_USAGE, "unknown device command \"%s\" (add, list, revoke)", argv[1]);
}

/* ---- user ---- */

static int print_user(void *ctx, const struct store_user *u)
{
    (void)ctx;
    char last[32], locked[32];
    format_time(u->last_login_ms, last, sizeof last);
    format_time(u->locked_until_ms, locked, sizeof locked);
    printf("%-20s %-8s %-8s last login %s", u->name, u->role, u->disabled ? "disabled" : "active",
           last);
    if (u->failures > 0) {
        printf("  %" PRId64 " failed logins", u->failures);
    }
    if (u->locked_until_ms > 0) {
        printf("  locked until %s", locked);
    }
    printf("\n");
    return 0;
}

/* The new account's password: typed twice at a terminal, or one line of
 * stdin. 0, or an exit status after saying why. */
static int new_password(const char *name, char *out, size_t len)
{
    char prompt[AUTH_NAME_MAX + 40], again[AUTH_PASSWORD_MAX + 2];
    snprintf(prompt, sizeof prompt, "password for %s: ", name);
    int rc = auth_read_password(prompt, out, len);
    if (rc == 0 && isatty(STDIN_FILENO)) {
        rc = auth_read_password("the same password again: ", again, sizeof again);
        if (rc == 0 && strcmp(out, again) != 0) {
            rc = HUB_E_STATE;
        }
        sodium_memzero(again, sizeof again);
    }
    if (rc == HUB_E_STATE) {
        return fail(1, "the two passwords differ; nothing was changed");
    }
    if (rc == HUB_E_IO) {
        return fail(1, "no password given (type it, or give it as one line on stdin)");
    }
    if (rc != 0 || !auth_password_valid(out)) {
        return fail(1, "a password is %d to %d bytes, without control characters",
                    AUTH_PASSWORD_MIN, AUTH_PASSWORD_MAX);
    }
    return 0;
}

static int cmd_user(struct ctx *c, int argc, char **argv)
{
    static const char help[] =
        "usage: hamlet-hub user add NAME --role reviewer|admin\n"
        "       hamlet-hub user list\n"
        "       hamlet-hub user disable NAME\n"
        "Accounts for the township's review pages. add asks for the password twice\n"
        "at a terminal, or reads it as one line from stdin; it is kept only as an\n"
        "Argon2id hash. NAME is 1 to 63 bytes without spaces (e.g. wangfang or 王芳);\n"
        "a password 8 to 256 bytes. disable ends the account's sessions at once; the\n"
        "account stays in the log. Every sign-in is recorded in the hub's auth log.\n";
    static const struct option opts[] = {{"role", required_argument, NULL, 'r'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *role = NULL;
    int operands = 0;
    char **operand = NULL;
    int begun = begin_subcommand(argc, argv, help, opts, take_string, &role, &operands, &operand);
    if (begun >= 0) {
        return begun;
    }
    struct store *s;
    int rc;
    if (!strcmp(argv[1], "add")) {
        if (operands != 1 || !role) {
            return fail(EXIT_USAGE, "usage: hamlet-hub user add NAME --role reviewer|admin");
        }
        if (strcmp(role, "reviewer") != 0 && strcmp(role, "admin") != 0) {
            return fail(EXIT_USAGE, "--role: reviewer or admin");
        }
        if (!auth_name_valid(operand[0])) {
            return fail(EXIT_USAGE,
                        "a name is 1 to %d bytes of UTF-8 without spaces or control"
                        " characters",
                        AUTH_NAME_MAX);
        }
        /* The store first: a mistyped --db is said before a password is asked. */
        if ((rc = open_store(c, 0, &s)) != 0) {
            return rc;
        }
        char password[AUTH_PASSWORD_MAX + 2], hash[AUTH_HASH_LEN];
        rc = new_password(operand[0], password, sizeof password);
        if (rc == 0) {
            rc = auth_hash_password(password, hash);
            rc = rc == 0 ? store_user_add(s, operand[0], role, hash) : rc;
            if (rc == HUB_E_EXISTS) {
                rc = fail(1, "an account %s exists already", operand[0]);
            } else if (rc != 0) {
                rc = fail(1, "cannot add the account: %s", hub_strerror(rc));
            } else {
                printf("account %s added as %s\n", operand[0], role);
            }
        }
        sodium_memzero(password, sizeof password);
        sodium_memzero(hash, sizeof hash);
        store_close(s);
        return rc;
    }
    if (!strcmp(argv[1], "list")) {
        if (operands != 0 || role) {
            return fail(EXIT_USAGE, "usage: hamlet-hub user list");
        }
        if ((rc = open_store(c, 0, &s)) != 0) {
            return rc;
        }
        rc = store_user_list(s, print_user, NULL);
        store_close(s);
        return rc == 0 ? 0 : fail(1, "cannot list the accounts: %s", hub_strerror(rc));
    }
    if (!strcmp(argv[1], "disable")) {
        if (operands != 1 || role) {
            return fail(EXIT_USAGE, "usage: hamlet-hub user disable NAME");
        }
        if ((rc = open_store(c, 0, &s)) != 0) {
            return rc;
        }
        rc = store_user_disable(s, operand[0]);
        store_close(s);
        if (rc == HUB_E_NOT_FOUND) {
            return fail(1, "no account %s (see 'hamlet-hub user list')", operand[0]);
        }
        if (rc != 0) {
            return fail(1, "cannot disable the account: %s", hub_strerror(rc));
        }
        printf("account %s disabled; its sessions have ended\n", operand[0]);
        return 0;
    }
    return fail(EXIT_USAGE, "unknown user command \"%s\" (add, list, disable)", argv[1]);
}

/* ---- serve ---- */

static int take_serve(void *ctx, int opt, const char *arg)
{
    struct config *cfg = ctx;
    char *end;
    unsigned long v;
    switch (opt) {
    case 'l':
        snprintf(cfg->listen, sizeof cfg->listen, "%s", arg);
        return strlen(arg) < sizeof cfg->listen ? 0 : -1;
    case 'c':
        snprintf(cfg->cert, sizeof cfg->cert, "%s", arg);
        return strlen(arg) < sizeof cfg->cert ? 0 : -1;
    case 'k':
        snprintf(cfg->key, sizeof cfg->key, "%s", arg);
        return strlen(arg) < sizeof cfg->key ? 0 : -1;
    case 'u':
        snprintf(cfg->url, sizeof cfg->url, "%s", arg);
        return strlen(arg) < sizeof cfg->url && !strncmp(arg, "https://", 8) ? 0 : -1;
    case 't':
    case 'm':
    case 'i':
    case 'r':
        errno = 0;
        v = strtoul(arg, &end, 10);
        if (errno || *end || arg[0] == '-' || v == 0 || v > 100000) {
            return -1;
        }
        if (opt == 't') {
            cfg->server.threads = (unsigned)v;
        } else if (opt == 'm') {
            cfg->server.max_connections = (unsigned)v;
        } else if (opt == 'i') {
            cfg->server.idle_timeout_s = (unsigned)v;
        } else {
            cfg->server.device_per_minute = (unsigned)v;
        }
        return 0;
    }
    return -1;
}

static int cmd_serve(struct ctx *c, int argc, char **argv)
{
    static const char help[] =
        "usage: hamlet-hub serve --listen ADDR:PORT --cert FILE --key FILE\n"
        "                        [--threads N] [--max-connections N] [--idle-timeout S]\n"
        "                        [--device-rate N] [--url URL]\n"
        "Serve the sync endpoint and the review pages (sign in at https://ADDR:PORT/)\n"
        "over HTTPS (TLS 1.2 or newer) until SIGTERM or SIGINT, then finish the\n"
        "requests in flight and stop. SIGHUP reads the certificate and key again\n"
        "for new connections. One log line per request on stderr (the journal,\n"
        "with priorities, under systemd). URL\n"
        "(https://..., or url in the config) is the hub's address as devices reach\n"
        "it: the devices page puts it into the enrolment codes it makes.\n";
    static const struct option opts[] = {{"listen", required_argument, NULL, 'l'},
                                         {"cert", required_argument, NULL, 'c'},
                                         {"key", required_argument, NULL, 'k'},
                                         {"threads", required_argument, NULL, 't'},
                                         {"max-connections", required_argument, NULL, 'm'},
                                         {"idle-timeout", required_argument, NULL, 'i'},
                                         {"device-rate", required_argument, NULL, 'r'},
                                         {"url", required_argument, NULL, 'u'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int first = sub_options(argc, argv, help, opts, take_serve, &c->config);
    if (first < 0) {
        return first == -1 ? 0 : EXIT_USAGE;
    }
    if (first != argc) {
        return fail(EXIT_USAGE, "serve takes no operands");
    }
    config_finish(&c->config);
    /* Signals are taken by this thread alone, with sigwait(). */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
    struct store *s;
    int rc = open_store(c, 0, &s);
    if (rc != 0) {
        return rc;
    }
    int changed = 0;
    if ((rc = review_publish_rules(s, &c->config.rules, &changed)) != 0) {
        store_close(s);
        return fail(1, "cannot record the township's rules: %s", hub_strerror(rc));
    }
    if (changed > 0) {
        inform("the township's rules changed for %d villages; they reach them at their next sync",
               changed);
    }
    struct server *srv;
    char why[300];
    rc = server_start(s, &c->config.server, &srv, why, sizeof why);
    if (rc != 0) {
        store_close(s);
        return fail(1, "%s", why);
    }
    int sig = 0;
    while (sigwait(&stop, &sig) == 0 && sig == SIGHUP) {
        server_reload_cert(srv, why, sizeof why); /* logs what happened */
    }
    inform("%s: finishing the syncs in flight", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    server_stop(srv, 30);
    store_close(s);
    return 0;
}

/* ---- backup ---- */

static int cmd_backup(struct ctx *c, int argc, char **argv)
{
    static const char help[] =
        "usage: hamlet-hub backup FILE\n"
        "Copy the whole hub database into FILE (new; it must not exist) while the\n"
        "hub keeps serving: one consistent moment, taken with SQLite's backup API,\n"
        "checked, then renamed into place (FILE.part meanwhile), readable by its\n"
        "owner only. To restore: stop the hub, copy FILE over the database (and\n"
        "remove its -wal and -shm files), start the hub.\n";
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int first = sub_options(argc, argv, help, opts, NULL, NULL);
    if (first < 0) {
        return first == -1 ? 0 : EXIT_USAGE;
    }
    if (argc - first != 1 || !argv[first][0]) {
        return fail(EXIT_USAGE, "usage: hamlet-hub backup FILE");
    }
    struct store *s;
    int rc = open_store(c, 0, &s);
    if (rc != 0) {
        return rc;
    }
    char why[600];
    rc = store_backup(s, argv[first], why, sizeof why);
    store_close(s);
    if (rc != 0) {
        return fail(1, "backup failed: %s", why);
    }
    printf("backup written to %s\n", argv[first]);
    return 0;
}

/* ---- export ---- */

static int write_stdout(void *ctx, const char *data, size_t len)
{
    (void)ctx;
    return fwrite(data, 1, len, stdout) == len ? 0 : HUB_E_IO;
}

/* The options of export, list and report. */
struct view_args {
    const char *village, *month, *year, *days, *note, *lang;
    int reveal, csv, json;
};

static int take_view(void *ctx, int opt, const char *arg)
{
    struct view_args *a = ctx;
    switch (opt) {
    case 'v':
        a->village = arg;
        break;
    case 'm':
        a->month = arg;
        break;
    case 'y':
        a->year = arg;
        break;
    case 'd':
        a->days = arg;
        break;
    case 'n':
        a->note = arg;
        break;
    case 'L':
        a->lang = arg;
        break;
    case 'r':
        a->reveal = 1;
        break;
    case 'C':
        a->csv = 1;
        break;
    case 'J':
        a->json = 1;
        break;
    default:
        return -1;
    }
    return 0;
}

static const struct option view_opts[] = {{"village", required_argument, NULL, 'v'},
                                          {"month", required_argument, NULL, 'm'},
                                          {"year", required_argument, NULL, 'y'},
                                          {"days", required_argument, NULL, 'd'},
                                          {"note", required_argument, NULL, 'n'},
                                          {"lang", required_argument, NULL, 'L'},
                                          {"reveal", no_argument, NULL, 'r'},
                                          {"csv", no_argument, NULL, 'C'},
                                          {"json", no_argument, NULL, 'J'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};

/* The language of the words shown: --lang, else the locale's. */
static const char *view_lang(const char *given)
{
    static const char *const vars[] = {"HAMLET_LANG", "LC_ALL", "LC_MESSAGES", "LANG"};
    for (size_t i = 0; !given && i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        given = v && v[0] ? v : NULL;
    }
    return given && !strncmp(given, "zh", 2) ? "zh" : "en";
}

static int cmd_export(struct ctx *c, int argc, char **argv)
{
    static const char help[] =
        "usage: hamlet-hub export [--village CODE] [--reveal]\n"
        "The merged ledger (of one village, or all) as JSON Lines on stdout, in the\n"
        "shape of the reference data with ids: byte for byte what a device of that\n"
        "village exports when it holds the same changes. Phone and identity-card\n"
        "numbers are masked unless --reveal is given; a reveal is recorded as an\n"
        "event in each village's ledger.\n";
    struct view_args a = {0};
    int first = sub_options(argc, argv, help, view_opts, take_view, &a);
    if (first < 0) {
        return first == -1 ? 0 : EXIT_USAGE;
    }
    if (first != argc || a.month || a.year || a.days || a.note || a.csv || a.json) {
        return fail(EXIT_USAGE, "usage: hamlet-hub export [--village CODE] [--reveal]");
    }
    struct store *s;
    int rc = open_store(c, 0, &s);
    if (rc != 0) {
        return rc;
    }
    const char *user = getenv("USER");
    if (a.reveal && (rc = review_reveal(s, a.village, "export", user ? user : "hub")) != 0) {
        store_close(s);
        return fail(1, "cannot record the reveal: %s", hub_strerror(rc));
    }
    rc = store_export(s, a.village, a.reveal ? 0 : LEDGER_IO_MASK, write_stdout, NULL);
    store_close(s);
    if (rc == 0 && fflush(stdout) != 0) {
        rc = HUB_E_IO;
    }
    return rc == 0 ? 0 : fail(1, "export failed: %s", hub_strerror(rc));
}

/* ---- the rules: the township's actions on a case, lists, report ---- */

/* The options of "case". */
struct case_args {
    const char *note, *id, *by;
    int clear;
};

static int take_case(void *ctx, int opt, const char *arg)
{
    struct case_args *a = ctx;
    switch (opt) {
    case 'n':
        a->note = arg;
        break;
    case 'i':
        a->id = arg;
        break;
    case 'b':
        a->by = arg;
        break;
    case 'c':
        a->clear = 1;
        break;
    default:
        return -1;
    }
    return 0;
}

static int cmd_case(struct ctx *c, int argc, char **argv)
{
    static const char help[] =
        "usage: hamlet-hub case deadline ID YYYY-MM-DD|none [--note TEXT]\n"
        "       hamlet-hub case level ID 1-7\n"
        "       hamlet-hub case mediator ID NAME [--id X]\n"
        "       hamlet-hub case correct ID COMMENT\n"
        "       hamlet-hub case correct ID --clear\n"
        "The township's actions on a case. Each is recorded as an event of the case\n"
        "(naming the reviewer: $USER, or --by NAME) and reaches the village at its\n"
        "next sync.\n"
        "  deadline  the township's deadline (督办期限), or 'none' to lift it. It wins\n"
        "            over the statutory deadline and shows in 'hamlet list overdue'.\n"
        "  level     the responsibility level, 1 (village mediation committee director)\n"
        "            to 7 (township principal leader); the township may move it up or\n"
        "            down.\n"
        "  mediator  the mediator, by name (at most 50 characters) and, with --id, the\n"
        "            mediator's id (at most 64).\n"
        "  correct   mark the case \"needs correction\" (要求更正) with a comment of at\n"
        "            most 1000 characters; the village sees it in 'hamlet list\n"
        "            corrections' and answers with 'hamlet case answer'. --clear lifts\n"
        "            it once the township is satisfied.\n";
    static const struct option opts[] = {
        {"note", required_argument, NULL, 'n'}, {"id", required_argument, NULL, 'i'},
        {"by", required_argument, NULL, 'b'},   {"clear", no_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0}};
    static const char *const subs[] = {"deadline", "level", "mediator", "correct"};
    static const char *const usages[] = {
        "usage: hamlet-hub case deadline ID YYYY-MM-DD|none [--note TEXT]",
        "usage: hamlet-hub case level ID 1-7",
        "usage: hamlet-hub case mediator ID NAME [--id X]",
        "usage: hamlet-hub case correct ID COMMENT|--clear",
    };
    size_t sub = 0;
    while (argc >= 2 && sub < sizeof subs / sizeof subs[0] && strcmp(argv[1], subs[sub]) != 0) {
        sub++;
    }
    if (argc < 2 || sub == sizeof subs / sizeof subs[0]) {
        if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
            fputs(help, stdout);
            return 0;
        }
        if (argc >= 2) {
            return fail(EXIT_USAGE,
                        "unknown case command \"%s\" (deadline, level, mediator, correct)",
                        argv[1]);
        }
        fputs(help, stderr);
        return EXIT_USAGE;
    }
    struct case_args a = {0};
    int first = sub_options(argc - 1, argv + 1, help, opts, take_case, &a);
    if (first < 0) {
        return first == -1 ? 0 : EXIT_USAGE;
    }
    char **operand = argv + 1 + first;
    int operands = argc - 1 - first;
    /* Each action takes its own options only. */
    int wanted = !strcmp(subs[sub], "correct") ? (a.clear ? 1 : 2) : 2;
    if (operands != wanted || (a.note && sub != 0) || (a.id && sub != 2) || (a.clear && sub != 3)) {
        return fail(EXIT_USAGE, "%s", usages[sub]);
    }
    struct rules_date date = RULES_DATE_NONE;
    long level = 0;
    if (sub == 0 && strcmp(operand[1], "none") && rules_date_parse(operand[1], &date) != 0) {
        return fail(EXIT_USAGE, "%s", usages[sub]);
    }
    if (sub == 1) {
        char *end = NULL;
        errno = 0;
        level = strtol(operand[1], &end, 10);
        if (errno || !operand[1][0] || *end || level < RULES_LEVEL_MIN || level > RULES_LEVEL_MAX) {
            return fail(EXIT_USAGE, "a level is a number from %d (%s) to %d (%s)", RULES_LEVEL_MIN,
                        rules_level_label(RULES_LEVEL_MIN, "en"), RULES_LEVEL_MAX,
                        rules_level_label(RULES_LEVEL_MAX, "en"));
        }
    }
    const char *user = getenv("USER");
    const char *by = a.by && a.by[0] ? a.by : user && user[0] ? user : NULL;
    struct store *s;
    int rc = open_store(c, 0, &s);
    if (rc != 0) {
        return rc;
    }
    char why[WORKFLOW_WHY] = "";
    switch (sub) {
    case 0:
        rc = review_deadline(s, &c->config.rules, operand[0], date, a.note, why, sizeof why);
        break;
    case 1:
        rc = review_level(s, &c->config.rules, operand[0], (int)level, by, why, sizeof why);
        break;
    case 2:
        rc =
            review_mediator(s, &c->config.rules, operand[0], operand[1], a.id, by, why, sizeof why);
        break;
    default:
        rc = review_correction(s, &c->config.rules, operand[0], a.clear ? NULL : operand[1], by,
                               why, sizeof why);
        break;
    }
    store_close(s);
    if (rc != 0) {
        return fail(1, "%s", why[0] ? why : hub_strerror(rc));
    }
    printf("saved; the village sees it after its next sync\n");
    return 0;
}

static int cmd_list(struct ctx *c, int argc, char **argv)
{
    static const char help[] =
        "usage: hamlet-hub list overdue|due|followups|corrections [--village CODE] [--days N]\n"
        "                       [--json] [--lang zh|en]\n"
        "What is due, by the township's rules, as of today (China time), for one\n"
        "village or all: overdue cases, deadlines in the next N days (default 7),\n"
        "follow-up visits owed (within N days when --days is given), or the cases\n"
        "the township asked to correct and has not cleared, with the village's\n"
        "answer when it came.\n";
    struct view_args a = {0};
    int first = sub_options(argc, argv, help, view_opts, take_view, &a);
    if (first < 0) {
        return first == -1 ? 0 : EXIT_USAGE;
    }
    enum casefile_list which;
    const char *name = first < argc ? argv[first] : "";
    if (argc - first != 1 || a.month || a.year || a.reveal || a.csv) {
        fputs(help, stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(name, "overdue")) {
        which = CASEFILE_OVERDUE;
    } else if (!strcmp(name, "due")) {
        which = CASEFILE_DUE_SOON;
    } else if (!strcmp(name, "followups")) {
        which = CASEFILE_FOLLOWUPS;
    } else if (!strcmp(name, "corrections")) {
        which = CASEFILE_CORRECTIONS;
    } else {
        return fail(EXIT_USAGE, "unknown list \"%s\" (overdue, due, followups, corrections)", name);
    }
    char *end = NULL;
    long days = which == CASEFILE_DUE_SOON ? 7 : -1;
    if (a.days) {
        errno = 0;
        days = strtol(a.days, &end, 10);
        if (errno || !a.days[0] || *end || days < 0 || days > 3650) {
            return fail(EXIT_USAGE, "--days: a number of days from 0 to 3650");
        }
    }
    struct store *s;
    int rc = open_store(c, 0, &s);
    if (rc != 0) {
        return rc;
    }
    rc = review_list(s, &c->config.rules, which, a.village, (int)days, a.json, view_lang(a.lang),
                     write_stdout, NULL);
    store_close(s);
    return rc == 0 ? 0 : fail(1, "cannot make the list: %s", hub_strerror(rc));
}

static int cmd_report(struct ctx *c, int argc, char **argv)
{
    static const char help[] =
        "usage: hamlet-hub report --month YYYY-MM|--year YYYY [--village CODE]\n"
        "                         [--csv|--json] [--lang zh|en]\n"
        "The township's figures: cases received by kind, channel and category,\n"
        "concluded, the mediation participation, success and satisfaction rates beside\n"
        "their targets, overdue cases, follow-ups due and done; per village and in\n"
        "total. ledger/RULES.md defines every figure.\n";
    struct view_args a = {0};
    int first = sub_options(argc, argv, help, view_opts, take_view, &a);
    if (first < 0) {
        return first == -1 ? 0 : EXIT_USAGE;
    }
    if (first != argc || !a.month == !a.year || (a.csv && a.json) || a.reveal || a.days) {
        fputs(help, stderr);
        return EXIT_USAGE;
    }
    const char *given = a.month ? a.month : a.year;
    struct rules_period period;
    if (rules_period_parse(given, &period) != 0 || strlen(given) != (a.month ? 7u : 4u)) {
        return fail(EXIT_USAGE, a.month ? "--month: expected YYYY-MM" : "--year: expected YYYY");
    }
    struct store *s;
    int rc = open_store(c, 0, &s);
    if (rc != 0) {
        return rc;
    }
    rc = review_report(s, &c->config.rules, &period, a.village,
                       a.csv    ? REVIEW_CSV
                       : a.json ? REVIEW_JSON
                                : REVIEW_TABLE,
                       view_lang(a.lang), write_stdout, NULL);
    store_close(s);
    if (rc == HUB_E_NOT_FOUND) {
        return fail(1, "no village %s", a.village);
    }
    return rc == 0 ? 0 : fail(1, "cannot make the report: %s", hub_strerror(rc));
}

static int cmd_rules(struct ctx *c, int argc, char **argv)
{
    static const char help[] = "usage: hamlet-hub rules\n"
                               "The township's rules ([rules] of the configuration file, or the\n"
                               "defaults), in the form the villages receive them.\n";
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(help, stdout);
        return 0;
    }
    if (argc != 1) {
        return fail(EXIT_USAGE, "usage: hamlet-hub rules");
    }
    char text[TOWNSHIP_RULES_MAX_TEXT];
    if (township_rules_format(&c->config.rules, text, sizeof text) != 0) {
        return fail(1, "the township's rules are out of range");
    }
    fputs(text, stdout);
    return 0;
}

/* ---- conflicts ---- */

struct conflict_args {
    const char *village, *keep, *value, *by;
    int all;
};

static int take_conflict(void *ctx, int opt, const char *arg)
{
    struct conflict_args *a = ctx;
    switch (opt) {
    case 'v':
        a->village = arg;
        return 0;
    case 'k':
        a->keep = arg;
        return strcmp(arg, "standing") && strcmp(arg, "incoming") ? -1 : 0;
    case 'V':
        a->value = arg;
        return 0;
    case 'b':
        a->by = arg;
        return 0;
    case 'a':
        a->all = 1;
        return 0;
    }
    return -1;
}

static int print_conflict_line(void *ctx, const struct store_conflict *k)
{
    (void)ctx;
    char when[32];
    format_time(k->created_ms, when, sizeof when);
    printf("%-5" PRId64 " %s %-10s %s %s.%s: \"%s\" / \"%s\" (%s stands)%s\n", k->id, when,
           k->village, k->row_id, k->table, k->column, k->standing, k->incoming, k->winner,
           k->resolved_ms ? " resolved" : "");
    return 0;
}

static int parse_id(const char *text, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end || v <= 0) {
        return -1;
    }
    *out = v;
    return 0;
}

static int cmd_conflicts(struct ctx *c, int argc, char **argv)
{
    static const char help[] =
        "usage: hamlet-hub conflicts list [--village CODE] [--all]\n"
        "       hamlet-hub conflicts show ID\n"
        "       hamlet-hub conflicts resolve ID (--keep standing|incoming | --value TEXT)"
        " [--by NAME]\n"
        "A conflict is two devices changing one field without seeing each other's\n"
        "change. The later one stands until a reviewer decides; the decision is a\n"
        "normal change that reaches the village at its next sync.\n";
    static const struct option opts[] = {{"village", required_argument, NULL, 'v'},
                                         {"keep", required_argument, NULL, 'k'},
                                         {"value", required_argument, NULL, 'V'},
                                         {"by", required_argument, NULL, 'b'},
                                         {"all", no_argument, NULL, 'a'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct conflict_args a = {NULL, NULL, NULL, NULL, 0};
    int operands = 0;
    char **operand = NULL;
    int begun = begin_subcommand(argc, argv, help, opts, take_conflict, &a, &operands, &operand);
    if (begun >= 0) {
        return begun;
    }
    int64_t id = 0;
    struct store *s;
    int rc;
    if (!strcmp(argv[1], "list")) {
        if (operands != 0) {
            return fail(EXIT_USAGE, "usage: hamlet-hub conflicts list [--village CODE]");
        }
        if ((rc = open_store(c, 0, &s)) != 0) {
            return rc;
        }
        rc = store_conflict_list(s, a.village, !a.all, print_conflict_line, NULL);
        store_close(s);
        return rc == 0 ? 0 : fail(1, "cannot list conflicts: %s", hub_strerror(rc));
    }
    if (operands != 1 || parse_id(operand[0], &id) != 0) {
        return fail(EXIT_USAGE, "conflicts %s needs one conflict id (a number)", argv[1]);
    }
    if (!strcmp(argv[1], "show")) {
        if ((rc = open_store(c, 0, &s)) != 0) {
            return rc;
        }
        struct store_conflict k;
        rc = store_conflict_get(s, id, &k);
        store_close(s);
        if (rc == SYNC_E_NOT_FOUND) {
            return fail(1, "no conflict %" PRId64, id);
        }
        if (rc != 0) {
            return fail(1, "cannot read the conflict: %s", hub_strerror(rc));
        }
        char when[32], resolved[32];
        format_time(k.created_ms, when, sizeof when);
        format_time(k.resolved_ms, resolved, sizeof resolved);
        printf("conflict %" PRId64 " (%s)\nvillage:  %s\nrecord:   %s %s\nfield:    %s\n"
               "standing: \"%s\"  by %s%s\nincoming: \"%s\"  by %s%s\n",
               k.id, when, k.village, k.table, k.row_id, k.column, k.standing,
               k.standing_device[0] ? k.standing_device : "the hub",
               !strcmp(k.winner, "standing") ? "  (stands)" : "", k.incoming,
               k.incoming_device[0] ? k.incoming_device : "the hub",
               !strcmp(k.winner, "incoming") ? "  (stands)" : "");
        if (k.resolved_ms) {
            printf("resolved: %s, %s\n", resolved, k.resolution);
        }
        return 0;
    }
    if (!strcmp(argv[1], "resolve")) {
        if (!a.keep == !a.value) {
            return fail(EXIT_USAGE, "conflicts resolve needs either --keep standing|incoming"
                                    " or --value TEXT");
        }
        if ((rc = open_store(c, 0, &s)) != 0) {
            return rc;
        }
        const char *by = a.by ? a.by : getenv("USER");
        rc = store_conflict_resolve(s, id, a.keep ? a.keep : "value", a.value, by);
        store_close(s);
        if (rc == SYNC_E_NOT_FOUND) {
            return fail(1, "no conflict %" PRId64, id);
        }
        if (rc == SYNC_E_STATE) {
            return fail(1, "conflict %" PRId64 " is resolved already", id);
        }
        if (rc == HUB_E_ARG) {
            return fail(1, "that value does not fit the field");
        }
        if (rc != 0) {
            return fail(1, "cannot resolve: %s", hub_strerror(rc));
        }
        printf("conflict %" PRId64 " resolved; the decision reaches the village at its next"
               " sync\n",
               id);
        return 0;
    }
    return fail(EXIT_USAGE, "unknown conflicts command \"%s\" (list, show, resolve)", argv[1]);
}

/* ---- history ---- */

static int print_history(void *ctx, const struct store_history_entry *e)
{
    (void)ctx;
    char when[32];
    format_time(e->received_ms, when, sizeof when);
    char clock[32];
    format_time(HLC_MS(e->hlc), clock, sizeof clock);
    printf("%s (device clock %s) %-6s by %s: %s\n", when, clock, e->op, e->device, e->body);
    return 0;
}

static int cmd_history(struct ctx *c, int argc, char **argv)
{
    static const char help[] = "usage: hamlet-hub history ID [--table TABLE]\n"
                               "Every change the hub received for a record (a case by"
                               " default): when\n(hub time and the device's clock), by"
                               " which device, and what.\n";
    static const struct option opts[] = {{"table", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *table = "cases";
    int first = sub_options(argc, argv, help, opts, take_string, &table);
    if (first < 0) {
        return first == -1 ? 0 : EXIT_USAGE;
    }
    if (argc - first != 1) {
        return fail(EXIT_USAGE, "usage: hamlet-hub history ID [--table TABLE]");
    }
    struct store *s;
    int rc = open_store(c, 0, &s);
    if (rc != 0) {
        return rc;
    }
    rc = store_history(s, table, argv[first], print_history, NULL);
    store_close(s);
    return rc == 0 ? 0 : fail(1, "cannot read the history: %s", hub_strerror(rc));
}

int main(int argc, char **argv)
{
    struct ctx c;
    memset(&c, 0, sizeof c);
    config_defaults(&c.config);
    const char *config_path = NULL;
    static const struct option opts[] = {{"db", required_argument, NULL, 'd'},
                                         {"config", required_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {"version", no_argument, NULL, 'V'},
                                         {NULL, 0, NULL, 0}};
    int opt;
    while ((opt = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (opt) {
        case 'd':
            c.db_arg = optarg;
            break;
        case 'c':
            config_path = optarg;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        case 'V':
            printf("hamlet-hub (protocol %d)\n", DELTA_VERSION);
            return 0;
        default:
            fputs(usage_text, stderr);
            return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    char why[300];
    const char *env_config = getenv("HAMLET_HUB_CONFIG");
    const char *path = config_path ? config_path : env_config ? env_config : CONFIG_DEFAULT_PATH;
    if (config_load(&c.config, path, config_path != NULL || env_config != NULL, why, sizeof why) !=
        0) {
        return fail(1, "%s", why);
    }
    const char *command = argv[optind];
    int sub_argc = argc - optind;
    char **sub_argv = argv + optind;
    static const struct {
        const char *name;
        int (*run)(struct ctx *, int, char **);
    } commands[] = {{"init", cmd_init},     {"cert", cmd_cert},           {"village", cmd_village},
                    {"device", cmd_device}, {"user", cmd_user},           {"serve", cmd_serve},
                    {"export", cmd_export}, {"conflicts", cmd_conflicts}, {"history", cmd_history},
                    {"case", cmd_case},     {"list", cmd_list},           {"report", cmd_report},
                    {"rules", cmd_rules},   {"backup", cmd_backup}};
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (!strcmp(command, commands[i].name)) {
            return commands[i].run(&c, sub_argc, sub_argv);
        }
    }
    return fail(EXIT_USAGE, "unknown command \"%s\" (see hamlet-hub --help)", command);
}
