/* SPDX-License-Identifier: MIT */
/*
 * test_report.c - the township figures end to end. A real hub and one real
 * laptop for each of the sixteen villages of cases-1000.jsonl: every laptop
 * imports the whole file (keeping its own village's cases) and syncs over
 * HTTPS. Then `hamlet-hub report --json`, for whole years and for single
 * months, must give for every village and for the township exactly the
 * figures this file computes by itself from the reference data, following
 * ledger/RULES.md ("The township figures") with date arithmetic of its own
 * and nothing from ledger/; the villages must add up to the township; and
 * `hamlet report --json` on a laptop must give its village's entry of the
 * hub's report.
 *
 * Environment: HAMLET_AGENT, HAMLET_HUB (the programs), HAMLET_DATA (the
 * reference data; default ../shared/data), HAMLET_TEST_FILTER (a cmocka
 * pattern: run some tests).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "agentproc.h"
#include "hubclient.h"
#include "hubproc.h"

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DATA_FILE     "cases-1000.jsonl"
#define MAX_VILLAGES  32
#define MAX_CASES     100000    /* lines of the data file */
#define MAX_LINE      (1 << 20) /* bytes of one line */
#define ALL_VILLAGES  SIZE_MAX  /* the township, in compute() */
#define CHINA_OFFSET  "+08:00"  /* of every created_at in the data */
#define CHINA_SECONDS (8L * 3600)

/* The default targets, in basis points (RULES.md: 98%, 98%, 96%). */
#define TARGET_PARTICIPATION 9800
#define TARGET_SUCCESS       9800
#define TARGET_SATISFACTION  9600

/* The keys of received_by_kind, received_by_channel, received_by_category. */
static const char *const kinds[] = {"dispute", "petition", "screening", "unknown"};
static const char *const channels[] = {"visit",     "letter",   "call",   "online",
                                       "screening", "referral", "unknown"};
static const char *const categories[] = {"land",
                                         "demolition_compensation",
                                         "forest_boundary",
                                         "illegal_mining",
                                         "family",
                                         "neighbour",
                                         "debt",
                                         "labour",
                                         "veterans",
                                         "social_security",
                                         "litigation",
                                         "other",
                                         "unlisted"};
#define NKINDS            (sizeof kinds / sizeof kinds[0])
#define NCHANNELS         (sizeof channels / sizeof channels[0])
#define NCATEGORIES       (sizeof categories / sizeof categories[0])
#define KIND_PETITION     1
#define KIND_UNKNOWN      3
#define CHANNEL_UNKNOWN   6
#define CATEGORY_UNLISTED 12

/* The members a case of the reference data has (shared/data/README.md).
 * Anything else (a kind, a channel, an opinion, a deadline) would change
 * the figures in ways this test does not compute, so it stops the test. */
static const char *const documented[] = {
    "id",    "village", "case_no", "category", "severity",   "status",     "title",
    "facts", "claims",  "parties", "mediator", "created_at", "updated_at", "events"};

/* What the figures need of one case of the data file. Days are counted
 * from 1970-01-01. */
struct ref_case {
    size_t village;          /* index in the fixture's villages */
    size_t kind;             /* index in kinds */
    size_t channel;          /* index in channels */
    size_t category;         /* index in categories */
    long received;           /* the day of created_at, China time */
    int severity;            /* 1, 2 or 3 */
    int concluded;           /* status closed */
    long concluded_on;       /* the day of its latest event that is not a follow-up */
    int mediated;            /* taken into mediation */
    int agreement;           /* an agreement reached */
    int mediation_concluded; /* an agreement, or a failed mediation */
    int followed_up;         /* a follow-up event on or after concluded_on */
};

struct village {
    char code[8];  /* v01, v02, ...: the hub's code */
    char name[64]; /* as in the data, e.g. 白沙村 */
    size_t ncases;
    struct agentproc *laptop;
};

struct fixture {
    struct hubproc *hub;
    char dir[AGENTPROC_PATH_MAX - 80]; /* the laptops' files */
    char data[AGENTPROC_PATH_MAX];     /* the path of DATA_FILE */
    struct village villages[MAX_VILLAGES];
    size_t nvillages;
    struct ref_case *cases;
    size_t ncases;
    int tried; /* the hub and the laptops were set up, or that failed */
    int ready;
};

/* A reporting period: the days first..last, both included. */
struct period {
    const char *flag;  /* "--year" or "--month" */
    const char *value; /* "2024" or "2024-02" */
    long first, last;
};

struct rate {
    long num, den;
};

/* The figures of one village, or of the township, for one period. */
struct figures {
    long received;
    long by_kind[NKINDS];
    long by_channel[NCHANNELS];
    long by_category[NCATEGORIES];
    long concluded;
    struct rate participation, success, satisfaction;
    long overdue, overdue_open;
    long followups_due, followups_done, followups_overdue;
};

/* ---- calendar arithmetic ---- */

/* Days from 1970-01-01 to a date of the proleptic Gregorian calendar. */
static long days_from_civil(long y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153L * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The date of a day counted from 1970-01-01. */
static void civil_from_days(long z, long *y, int *m, int *d)
{
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int days_in_month(long y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* A run of n digits as a number; -1 if any is not a digit. */
static long digits(const char *text, size_t n)
{
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (text[i] < '0' || text[i] > '9') {
            return -1;
        }
        v = v * 10 + (text[i] - '0');
    }
    return v;
}

/* "YYYY-MM-DD" at the start of text (what follows is not looked at) as a
 * day number. 0, or -1 when it is not a valid date. */
static int parse_day(const char *text, long *out)
{
    if (strlen(text) < 10 || text[4] != '-' || text[7] != '-') {
        return -1;
    }
    long y = digits(text, 4), m = digits(text + 5, 2), d = digits(text + 8, 2);
    if (y < 0 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, (int)m)) {
        return -1;
    }
    *out = days_from_civil(y, (int)m, (int)d);
    return 0;
}

static void format_day(long day, char *out, size_t len)
{
    long y;
    int m, d;
    civil_from_days(day, &y, &m, &d);
    snprintf(out, len, "%04ld-%02d-%02d", y, m, d);
}

/* The same day n calendar months later, or the last day of that month
 * when it is shorter (2024-01-31 + 1 month = 2024-02-29). */
static long add_months(long day, int n)
{
    long y;
    int m, d;
    civil_from_days(day, &y, &m, &d);
    long months = y * 12 + (m - 1) + n;
    y = months / 12;
    m = (int)(months % 12) + 1;
    if (d > days_in_month(y, m)) {
        d = days_in_month(y, m);
    }
    return days_from_civil(y, m, d);
}

/* The months after its conclusion in which a case falls due for its
 * follow-up visit, by severity. */
static int followup_months(int severity)
{
    return severity == 1 ? 1 : severity == 2 ? 3 : 6;
}

/* Today in China, where the villages are. */
static long china_today(void)
{
    time_t now = time(NULL);
    return (long)((now + CHINA_SECONDS) / 86400);
}

static void period_year(const char *value, struct period *out)
{
    long y = digits(value, 4);
    assert_true(y > 0 && value[4] == '\0');
    out->flag = "--year";
    out->value = value;
    out->first = days_from_civil(y, 1, 1);
    out->last = days_from_civil(y, 12, 31);
}

static void period_month(const char *value, struct period *out)
{
    long y = digits(value, 4), m = digits(value + 5, 2);
    assert_true(y > 0 && value[4] == '-' && m >= 1 && m <= 12 && value[7] == '\0');
    out->flag = "--month";
    out->value = value;
    out->first = days_from_civil(y, (int)m, 1);
    out->last = days_from_civil(y, (int)m, days_in_month(y, (int)m));
}

static int in_period(const struct period *p, long day)
{
    return day >= p->first && day <= p->last;
}

/* ---- the reference data ---- */

/* The reference data: $HAMLET_DATA, else ../shared/data from the root. */
static void find_data(struct fixture *f)
{
    const char *env = getenv("HAMLET_DATA");
    snprintf(f->data, sizeof f->data, "%s/" DATA_FILE, env && env[0] ? env : "../shared/data");
    if (access(f->data, R_OK) != 0) {
        fail_msg("no reference data at %s: run from the repository root beside shared/, or set"
                 " HAMLET_DATA",
                 f->data);
    }
}

static size_t index_of(const char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], name) == 0) {
            return i;
        }
    }
    return n;
}

static const char *string_member(const cJSON *obj, const char *name, size_t line)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!cJSON_IsString(item)) {
        fail_msg("%s line %zu: no string \"%s\"", DATA_FILE, line, name);
    }
    return item->valuestring;
}

/* The village of a name, added to the fixture when it is new. */
static size_t village_of(struct fixture *f, const char *name)
{
    for (size_t i = 0; i < f->nvillages; i++) {
        if (strcmp(f->villages[i].name, name) == 0) {
            return i;
        }
    }
    assert_true(f->nvillages < MAX_VILLAGES);
    assert_true(strlen(name) < sizeof f->villages[0].name);
    struct village *v = &f->villages[f->nvillages];
    snprintf(v->code, sizeof v->code, "v%02zu", f->nvillages + 1);
    snprintf(v->name, sizeof v->name, "%s", name);
    return f->nvillages++;
}

/* One case of the data file, reduced to what the figures need. */
static void read_case(struct fixture *f, const cJSON *obj, size_t line, struct ref_case *c)
{
    const cJSON *member;
    cJSON_ArrayForEach(member, obj)
    {
        if (index_of(documented, sizeof documented / sizeof documented[0], member->string) ==
            sizeof documented / sizeof documented[0]) {
            fail_msg("%s line %zu carries \"%s\", which this test does not account for", DATA_FILE,
                     line, member->string);
        }
    }
    memset(c, 0, sizeof *c);
    c->village = village_of(f, string_member(obj, "village", line));
    f->villages[c->village].ncases++;
    /* The data records neither kind nor channel. */
    c->kind = KIND_UNKNOWN;
    c->channel = CHANNEL_UNKNOWN;
    const char *category = string_member(obj, "category", line);
    /* A category not in the township's list is "unlisted". */
    c->category = index_of(categories, CATEGORY_UNLISTED, category);

    const char *created = string_member(obj, "created_at", line);
    size_t len = strlen(created);
    if (parse_day(created, &c->received) != 0 || created[10] != 'T' || len < 6 ||
        strcmp(created + len - 6, CHINA_OFFSET) != 0) {
        fail_msg("%s line %zu: created_at %s is not a China time", DATA_FILE, line, created);
    }
    const cJSON *severity = cJSON_GetObjectItemCaseSensitive(obj, "severity");
    assert_true(cJSON_IsNumber(severity));
    c->severity = severity->valueint;
    assert_true(c->severity >= 1 && c->severity <= 3);

    const char *status = string_member(obj, "status", line);
    c->concluded = strcmp(status, "closed") == 0;
    c->mediated = strcmp(status, "mediating") == 0 || strcmp(status, "agreement") == 0 ||
                  strcmp(status, "failed") == 0;
    c->agreement = strcmp(status, "agreement") == 0;

    const cJSON *events = cJSON_GetObjectItemCaseSensitive(obj, "events");
    assert_true(cJSON_IsArray(events));
    long latest = -1;
    const cJSON *event;
    cJSON_ArrayForEach(event, events)
    {
        const char *kind = string_member(event, "kind", line);
        long day = 0;
        if (parse_day(string_member(event, "date", line), &day) != 0) {
            fail_msg("%s line %zu: an event's date is not YYYY-MM-DD", DATA_FILE, line);
        }
        if (strcmp(kind, "session") == 0 || strcmp(kind, "agreement") == 0) {
            c->mediated = 1;
        }
        if (strcmp(kind, "agreement") == 0) {
            c->agreement = 1;
        }
        if (strcmp(kind, "followup") != 0 && day > latest) {
            latest = day;
        }
    }
    c->mediation_concluded = c->agreement || strcmp(status, "failed") == 0;
    if (c->concluded) {
        if (latest < 0) {
            fail_msg("%s line %zu: a closed case without events", DATA_FILE, line);
        }
        c->concluded_on = latest;
        cJSON_ArrayForEach(event, events)
        {
            long day = 0;
            if (strcmp(string_member(event, "kind", line), "followup") == 0 &&
                parse_day(string_member(event, "date", line), &day) == 0 && day >= latest) {
                c->followed_up = 1;
            }
        }
    }
}

/* Read every case of the data file into the fixture. */
static void load_cases(struct fixture *f)
{
    FILE *in = fopen(f->data, "r");
    assert_non_null(in);
    size_t cap = 1024;
    f->cases = malloc(cap * sizeof *f->cases);
    assert_non_null(f->cases);
    char *line = NULL;
    size_t line_cap = 0;
    ssize_t len;
    while ((len = getline(&line, &line_cap, in)) > 0) {
        if (strspn(line, " \t\r\n") == (size_t)len) {
            continue;
        }
        assert_true(len < MAX_LINE);
        assert_true(f->ncases < MAX_CASES);
        if (f->ncases == cap) {
            struct ref_case *grown = realloc(f->cases, 2 * cap * sizeof *f->cases);
            assert_non_null(grown);
            f->cases = grown;
            cap *= 2;
        }
        cJSON *obj = cJSON_ParseWithLength(line, (size_t)len);
        if (!cJSON_IsObject(obj)) {
            cJSON_Delete(obj);
            fail_msg("%s line %zu is not a JSON object", DATA_FILE, f->ncases + 1);
        }
        read_case(f, obj, f->ncases + 1, &f->cases[f->ncases]);
        cJSON_Delete(obj);
        f->ncases++;
    }
    free(line);
    fclose(in);
    assert_true(f->ncases > 0);
}

/* ---- the figures, computed from the data ---- */

/* The figures of one village (or ALL_VILLAGES) for a period, as of today. */
static void compute(const struct fixture *f, const struct period *p, long today, size_t village,
                    struct figures *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < f->ncases; i++) {
        const struct ref_case *c = &f->cases[i];
        if (village != ALL_VILLAGES && c->village != village) {
            continue;
        }
        if (in_period(p, c->received)) {
            out->received++;
            out->by_kind[c->kind]++;
            out->by_channel[c->channel]++;
            out->by_category[c->category]++;
            if (c->kind != KIND_PETITION) {
                out->participation.den++;
                out->participation.num += c->mediated;
            }
            if (c->mediation_concluded) {
                out->success.den++;
                out->success.num += c->agreement;
            }
        }
        if (!c->concluded) {
            continue;
        }
        if (in_period(p, c->concluded_on)) {
            out->concluded++;
        }
        long due = add_months(c->concluded_on, followup_months(c->severity));
        if (in_period(p, due)) {
            out->followups_due++;
            if (c->followed_up) {
                out->followups_done++;
            } else if (due < today) {
                out->followups_overdue++;
            }
        }
    }
    /* The data records no opinions and no deadlines: satisfaction is 0/0,
     * and nothing can be overdue. */
}

static void print_figures(const char *what, const struct figures *x)
{
    printf("  %s: received %ld (", what, x->received);
    for (size_t i = 0; i < NCATEGORIES; i++) {
        printf("%s%s %ld", i ? ", " : "", categories[i], x->by_category[i]);
    }
    printf("), all of unknown kind and channel: %ld, %ld\n", x->by_kind[KIND_UNKNOWN],
           x->by_channel[CHANNEL_UNKNOWN]);
    printf("    concluded %ld; participation %ld/%ld, success %ld/%ld, satisfaction %ld/%ld;"
           " overdue %ld, open %ld; follow-ups due %ld, done %ld, overdue %ld\n",
           x->concluded, x->participation.num, x->participation.den, x->success.num, x->success.den,
           x->satisfaction.num, x->satisfaction.den, x->overdue, x->overdue_open, x->followups_due,
           x->followups_done, x->followups_overdue);
}

/* ---- running the programs ---- */

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void print_run(const char *who, const char *const *args, const struct agentproc_result *r)
{
    fprintf(stderr, "  %s: hamlet", who);
    for (size_t i = 0; args[i]; i++) {
        fprintf(stderr, " %s", args[i]);
    }
    fprintf(stderr, ": exit %d%s (signal %d) after %.1f s\n  stdout: %.2000s\n  stderr: %.2000s\n",
            r->status, r->timed_out ? ", timed out" : "", r->signal, r->seconds, r->out, r->err);
}

/* Run hamlet on a laptop; it must succeed. Returns its stdout (free it). */
static char *agent_ok(struct agentproc *a, const char *const *args)
{
    struct agentproc_result r;
    int status = agentproc_run(a, args, &r);
    if (status != 0) {
        print_run(a->name, args, &r);
        agentproc_result_clear(&r);
    }
    assert_int_equal(status, 0);
    char *out = r.out;
    r.out = NULL;
    agentproc_result_clear(&r);
    return out;
}

/* hamlet-hub --db HUB args...; it must succeed. Returns stdout (free it). */
static char *hub_ok(struct fixture *f, const char *const *args)
{
    char *out = NULL;
    size_t len = 0;
    int status = hubproc_run(f->hub, args, &out, &len);
    if (status != 0) {
        fprintf(stderr, "  hamlet-hub");
        for (size_t i = 0; args[i]; i++) {
            fprintf(stderr, " %s", args[i]);
        }
        fprintf(stderr, ": exit %d\n  stdout: %.2000s\n", status, out ? out : "");
        free(out);
        out = NULL;
    }
    assert_int_equal(status, 0);
    assert_non_null(out);
    return out;
}

/* The number just before suffix in text ("72 new" for " new"); -1 if
 * there is none. */
static long number_before(const char *text, const char *suffix)
{
    const char *at = strstr(text, suffix);
    if (!at) {
        return -1;
    }
    const char *start = at;
    while (start > text && start[-1] >= '0' && start[-1] <= '9') {
        start--;
    }
    return start < at ? digits(start, (size_t)(at - start)) : -1;
}

/* The laptops import the whole file at the same time (each has a ledger
 * of its own); each keeps its own village's cases and skips the rest. */
static void import_everywhere(struct fixture *f)
{
    const char *const *args = ARGS("import", f->data);
    for (size_t i = 0; i < f->nvillages; i++) {
        assert_int_equal(agentproc_spawn(f->villages[i].laptop, args), 0);
    }
    int failed = 0;
    for (size_t i = 0; i < f->nvillages; i++) {
        struct village *v = &f->villages[i];
        struct agentproc_result r;
        int status = agentproc_wait(v->laptop, &r);
        long records = number_before(r.out, " records:");
        long created = number_before(r.out, " new,");
        long skipped = number_before(r.out, " of other villages skipped");
        if (status != 0 || records != (long)f->ncases || created != (long)v->ncases ||
            skipped != (long)(f->ncases - v->ncases)) {
            fprintf(stderr, "  %s (%s) should import %zu cases and skip %zu\n", v->code, v->name,
                    v->ncases, f->ncases - v->ncases);
            print_run(v->code, args, &r);
            failed++;
        } else {
            printf("    %s: %s", v->code, r.out);
        }
        agentproc_result_clear(&r);
    }
    assert_int_equal(failed, 0);
}

/* The hub's export holds every case of the data file once, each in the
 * village that imported it. */
static void assert_hub_holds_all(struct fixture *f)
{
    char *export = NULL;
    size_t len = 0;
    assert_int_equal(hubproc_export(f->hub, NULL, &export, &len), 0);
    size_t held[MAX_VILLAGES] = {0}, lines = 0;
    for (char *p = export; *p;) {
        char *end = strchr(p, '\n');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        cJSON *obj = cJSON_ParseWithLength(p, n);
        const cJSON *village = cJSON_GetObjectItemCaseSensitive(obj, "village");
        for (size_t i = 0; cJSON_IsString(village) && i < f->nvillages; i++) {
            held[i] += strcmp(village->valuestring, f->villages[i].code) == 0;
        }
        cJSON_Delete(obj);
        lines++;
        p = end ? end + 1 : p + n;
    }
    free(export);
    printf("  the hub's export: %zu cases\n", lines);
    assert_int_equal(lines, f->ncases);
    for (size_t i = 0; i < f->nvillages; i++) {
        if (held[i] != f->villages[i].ncases) {
            fprintf(stderr, "  the hub holds %zu cases of %s, the data %zu\n", held[i],
                    f->villages[i].code, f->villages[i].ncases);
        }
        assert_int_equal(held[i], f->villages[i].ncases);
    }
}

/* Read the data, start the hub, and give every village a laptop that has
 * imported and synced its cases. Done once, by the first test that needs
 * it; the group teardown undoes it. */
static void ensure_ready(struct fixture *f)
{
    if (f->ready) {
        return;
    }
    if (f->tried) {
        fail_msg("the hub and the laptops could not be set up (see the first failure above)");
    }
    f->tried = 1;
    find_data(f);
    load_cases(f);
    printf("  %s: %zu cases of %zu villages\n", f->data, f->ncases, f->nvillages);
    assert_int_equal(agentproc_tmpdir("hamlet-report-test", f->dir, sizeof f->dir), 0);
    assert_int_equal(hubproc_new(NULL, &f->hub), 0);
    assert_int_equal(hubproc_start(f->hub), 0);
    printf("  hub: %s in %s; laptops in %s\n", f->hub->url, f->hub->dir, f->dir);

    double started = agentproc_now();
    for (size_t i = 0; i < f->nvillages; i++) {
        struct village *v = &f->villages[i];
        free(hub_ok(f, ARGS("village", "add", v->code, "--name", v->name)));
        char code[HUBPROC_CODE_MAX];
        assert_int_equal(hubproc_device_add(f->hub, v->code, code, sizeof code), 0);
        assert_int_equal(agentproc_new(f->dir, v->code, &v->laptop), 0);
        free(agent_ok(v->laptop, ARGS("init", "--village", v->code, "--name", v->name)));
        char *out = agent_ok(v->laptop, ARGS("enroll", code));
        printf("    %s (%s, %zu cases): %s", v->code, v->name, v->ncases, out);
        free(out);
    }
    printf("  every laptop imports %s\n", f->data);
    import_everywhere(f);
    printf("  every laptop syncs\n");
    for (size_t i = 0; i < f->nvillages; i++) {
        struct village *v = &f->villages[i];
        char *out = agent_ok(v->laptop, ARGS("sync"));
        printf("    %s: %s", v->code, out);
        free(out);
        int64_t seq = -1, acked = -1;
        assert_int_equal(agentproc_meta_int(v->laptop, "hl.seq", &seq), 0);
        assert_int_equal(agentproc_meta_int(v->laptop, "agent.acked", &acked), 0);
        assert_true(seq > 0);
        assert_int_equal(acked, seq); /* every change reached the hub */
    }
    assert_hub_holds_all(f);
    printf("  set up in %.1f s\n", agentproc_now() - started);
    f->ready = 1;
}

/* ---- reading a report ---- */

static cJSON *parse_report(const char *who, const char *text)
{
    cJSON *report = cJSON_Parse(text);
    if (!cJSON_IsObject(report)) {
        cJSON_Delete(report);
        fail_msg("%s printed no JSON object: %.2000s", who, text);
    }
    return report;
}

/* hamlet-hub report FLAG VALUE --json [--village CODE]. Delete it. */
static cJSON *hub_report(struct fixture *f, const struct period *p, const char *village)
{
    char *out = village
                    ? hub_ok(f, ARGS("report", p->flag, p->value, "--json", "--village", village))
                    : hub_ok(f, ARGS("report", p->flag, p->value, "--json"));
    cJSON *report = parse_report("hamlet-hub report", out);
    free(out);
    return report;
}

/* hamlet report FLAG VALUE --json on a village's laptop. Delete it. */
static cJSON *agent_report(struct village *v, const struct period *p)
{
    char *out = agent_ok(v->laptop, ARGS("report", p->flag, p->value, "--json"));
    cJSON *report = parse_report("hamlet report", out);
    free(out);
    return report;
}

static const cJSON *member(const cJSON *obj, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(obj, name);
}

/* One line about a value of the report that is not the computed one.
 * Returns 1, to be added to a count of mismatches. */
static int mismatch(const char *where, const char *parent, const char *name, const cJSON *got,
                    const char *want)
{
    char *text = got ? cJSON_PrintUnformatted(got) : NULL;
    fprintf(stderr, "  %s: %s%s%s is %s, computed %s\n", where, parent ? parent : "",
            parent ? "." : "", name, text ? text : "(absent)", want);
    cJSON_free(text);
    return 1;
}

/* 0 when obj's member name is the number want, else 1 (and a line). */
static int count_differs(const cJSON *obj, const char *parent, const char *name, long want,
                         const char *where)
{
    const cJSON *got = member(obj, name);
    if (cJSON_IsNumber(got) && got->valuedouble == (double)want) {
        return 0;
    }
    char text[32];
    snprintf(text, sizeof text, "%ld", want);
    return mismatch(where, parent, name, got, text);
}

/* A breakdown (received_by_kind, ...): each of its keys, and the sum of
 * all its members, which catches a key this test does not know. */
static int counts_differ(const cJSON *fig, const char *name, const char *const *keys,
                         const long *want, size_t n, const char *where)
{
    const cJSON *obj = member(fig, name);
    if (!cJSON_IsObject(obj)) {
        return mismatch(where, NULL, name, obj, "an object");
    }
    int bad = 0;
    double sum = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, obj)
    {
        sum += cJSON_IsNumber(item) ? item->valuedouble : 0;
    }
    long total = 0;
    for (size_t i = 0; i < n; i++) {
        bad += count_differs(obj, name, keys[i], want[i], where);
        total += want[i];
    }
    if (sum != (double)total) {
        fprintf(stderr, "  %s: the members of %s add up to %.0f, computed %ld\n", where, name, sum,
                total);
        bad++;
    }
    return bad;
}

/* "97.9%": num/den in per cent, one decimal, rounded half up. */
static void format_percent(const struct rate *r, char *out, size_t len)
{
    long tenths = (r->num * 2000 + r->den) / (2 * r->den);
    snprintf(out, len, "%ld.%ld%%", tenths / 10, tenths % 10);
}

static int rate_differs(const cJSON *fig, const char *name, const struct rate *want, long target,
                        const char *where)
{
    const cJSON *obj = member(fig, name);
    if (!cJSON_IsObject(obj)) {
        return mismatch(where, NULL, name, obj, "an object");
    }
    int bad = count_differs(obj, name, "num", want->num, where) +
              count_differs(obj, name, "den", want->den, where) +
              count_differs(obj, name, "target", target, where);
    const cJSON *percent = member(obj, "percent");
    const cJSON *meets = member(obj, "meets");
    if (want->den == 0) {
        /* 0/0 is no data: neither a percentage nor a verdict. */
        if (!cJSON_IsNull(percent)) {
            bad += mismatch(where, name, "percent", percent, "null");
        }
        if (!cJSON_IsNull(meets)) {
            bad += mismatch(where, name, "meets", meets, "null");
        }
        return bad;
    }
    char text[32];
    format_percent(want, text, sizeof text);
    if (!cJSON_IsString(percent) || strcmp(percent->valuestring, text) != 0) {
        bad += mismatch(where, name, "percent", percent, text);
    }
    int met = want->num * 10000 >= target * want->den;
    if (!cJSON_IsBool(meets) || cJSON_IsTrue(meets) != met) {
        bad += mismatch(where, name, "meets", meets, met ? "true" : "false");
    }
    return bad;
}

/* The number of FIGURES members of fig that differ from want. */
static int figures_differ(const cJSON *fig, const struct figures *want, const char *where)
{
    int bad =
        count_differs(fig, NULL, "received", want->received, where) +
        counts_differ(fig, "received_by_kind", kinds, want->by_kind, NKINDS, where) +
        counts_differ(fig, "received_by_channel", channels, want->by_channel, NCHANNELS, where) +
        counts_differ(fig, "received_by_category", categories, want->by_category, NCATEGORIES,
                      where) +
        count_differs(fig, NULL, "concluded", want->concluded, where) +
        rate_differs(fig, "participation", &want->participation, TARGET_PARTICIPATION, where) +
        rate_differs(fig, "success", &want->success, TARGET_SUCCESS, where) +
        rate_differs(fig, "satisfaction", &want->satisfaction, TARGET_SATISFACTION, where);
    static const char *const names[] = {"overdue", "overdue_open", "followups_due",
                                        "followups_done", "followups_overdue"};
    const long values[] = {want->overdue, want->overdue_open, want->followups_due,
                           want->followups_done, want->followups_overdue};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        bad += count_differs(fig, NULL, names[i], values[i], where);
    }
    return bad;
}

/* The value at total's path (outer, and inner when not NULL) in every
 * village entry, added up, against the total's value. */
static int sum_differs(const cJSON *villages, const char *outer, const char *inner,
                       const cJSON *total, const char *where)
{
    double sum = 0;
    const cJSON *entry;
    cJSON_ArrayForEach(entry, villages)
    {
        const cJSON *value = member(entry, outer);
        value = inner ? member(value, inner) : value;
        if (!cJSON_IsNumber(value)) {
            fprintf(stderr, "  %s: a village lacks %s%s%s\n", where, outer, inner ? "." : "",
                    inner ? inner : "");
            return 1;
        }
        sum += value->valuedouble;
    }
    if (sum == total->valuedouble) {
        return 0;
    }
    fprintf(stderr, "  %s: the villages' %s%s%s add up to %.0f, the total is %.0f\n", where, outer,
            inner ? "." : "", inner ? inner : "", sum, total->valuedouble);
    return 1;
}

/* Every count of the total (and every numerator and denominator) is the
 * sum of the villages'. Returns the number of those that are not. */
static int sums_differ(const cJSON *villages, const cJSON *total, const char *where)
{
    int bad = 0;
    size_t checked = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, total)
    {
        if (cJSON_IsNumber(item)) {
            bad += sum_differs(villages, item->string, NULL, item, where);
            checked++;
        } else if (cJSON_IsObject(item)) {
            const cJSON *inner;
            cJSON_ArrayForEach(inner, item)
            {
                if (cJSON_IsNumber(inner) && strcmp(inner->string, "target") != 0) {
                    bad += sum_differs(villages, item->string, inner->string, inner, where);
                    checked++;
                }
            }
        }
    }
    /* received, concluded, 5 more counts, 3 breakdowns and 3 rates. */
    if (checked < 7 + NKINDS + NCHANNELS + NCATEGORIES + 6) {
        fprintf(stderr, "  %s: only %zu counts of the total could be checked\n", where, checked);
        bad++;
    }
    return bad;
}

/* The report's period, as_of and today; *today receives today's day as
 * the report sees it (the test's own today, give or take a day across
 * midnight). Returns the number of mismatches. */
static int header_differs(const cJSON *report, const struct period *p, const char *where,
                          long *today)
{
    int bad = 0;
    char first[16], last[16], text[16];
    format_day(p->first, first, sizeof first);
    format_day(p->last, last, sizeof last);
    const cJSON *period = member(report, "period");
    const cJSON *got = member(period, "first");
    if (!cJSON_IsString(got) || strcmp(got->valuestring, first) != 0) {
        bad += mismatch(where, "period", "first", got, first);
    }
    got = member(period, "last");
    if (!cJSON_IsString(got) || strcmp(got->valuestring, last) != 0) {
        bad += mismatch(where, "period", "last", got, last);
    }
    long mine = china_today();
    got = member(report, "today");
    if (!cJSON_IsString(got) || parse_day(got->valuestring, today) != 0 || *today < mine - 1 ||
        *today > mine + 1) {
        format_day(mine, text, sizeof text);
        *today = mine;
        bad += mismatch(where, NULL, "today", got, text);
    }
    format_day(*today < p->last ? *today : p->last, text, sizeof text);
    got = member(report, "as_of");
    if (!cJSON_IsString(got) || strcmp(got->valuestring, text) != 0) {
        bad += mismatch(where, NULL, "as_of", got, text);
    }
    const cJSON *targets = member(report, "targets");
    bad += count_differs(targets, "targets", "participation", TARGET_PARTICIPATION, where) +
           count_differs(targets, "targets", "success", TARGET_SUCCESS, where) +
           count_differs(targets, "targets", "satisfaction", TARGET_SATISFACTION, where);
    return bad;
}

/* The village of a report's entry, by its code; ALL_VILLAGES if none. */
static size_t entry_village(const struct fixture *f, const cJSON *entry)
{
    const cJSON *code = member(entry, "village");
    for (size_t i = 0; cJSON_IsString(code) && i < f->nvillages; i++) {
        if (strcmp(code->valuestring, f->villages[i].code) == 0) {
            return i;
        }
    }
    return ALL_VILLAGES;
}

/* One entry of a report against the figures computed for its village.
 * Returns the number of mismatches. */
static int entry_differs(const struct fixture *f, const char *who, const cJSON *entry,
                         const struct period *p, long today, size_t *village)
{
    *village = entry_village(f, entry);
    if (*village == ALL_VILLAGES) {
        char *text = cJSON_PrintUnformatted(member(entry, "village"));
        fprintf(stderr, "  %s %s %s: an entry for an unknown village %s\n", who, p->flag, p->value,
                text ? text : "(absent)");
        cJSON_free(text);
        return 1;
    }
    const struct village *v = &f->villages[*village];
    char where[128];
    snprintf(where, sizeof where, "%s %s %s, %s (%s)", who, p->flag, p->value, v->code, v->name);
    int bad = 0;
    const cJSON *name = member(entry, "name");
    if (!cJSON_IsString(name) || strcmp(name->valuestring, v->name) != 0) {
        bad += mismatch(where, NULL, "name", name, v->name);
    }
    struct figures want;
    compute(f, p, today, *village, &want);
    return bad + figures_differ(entry, &want, where);
}

/* The whole township's report for a period: every village once, each
 * with its computed figures, and the total, which is their sum. */
static void check_period(struct fixture *f, const struct period *p, struct figures *total_out)
{
    ensure_ready(f);
    char where[64], total_where[80];
    snprintf(where, sizeof where, "%s %s", p->flag, p->value);
    snprintf(total_where, sizeof total_where, "%s, total", where);
    struct figures want;
    compute(f, p, china_today(), ALL_VILLAGES, &want);
    print_figures(total_where, &want);
    cJSON *report = hub_report(f, p, NULL);
    long today;
    int bad = header_differs(report, p, where, &today);

    const cJSON *villages = member(report, "villages");
    int seen[MAX_VILLAGES] = {0};
    const cJSON *entry;
    cJSON_ArrayForEach(entry, villages)
    {
        size_t village;
        bad += entry_differs(f, "hamlet-hub report", entry, p, today, &village);
        if (village != ALL_VILLAGES && seen[village]++) {
            fprintf(stderr, "  %s: %s is in the report twice\n", where, f->villages[village].code);
            bad++;
        }
    }
    for (size_t i = 0; i < f->nvillages; i++) {
        if (!seen[i]) {
            fprintf(stderr, "  %s: %s (%s) is not in the report\n", where, f->villages[i].code,
                    f->villages[i].name);
            bad++;
        }
    }

    compute(f, p, today, ALL_VILLAGES, &want);
    const cJSON *total = member(report, "total");
    if (!cJSON_IsObject(total)) {
        bad += mismatch(where, NULL, "total", total, "an object");
    } else {
        if (!cJSON_IsNull(member(total, "village"))) {
            bad += mismatch(total_where, NULL, "village", member(total, "village"), "null");
        }
        if (!cJSON_IsNull(member(total, "name"))) {
            bad += mismatch(total_where, NULL, "name", member(total, "name"), "null");
        }
        bad += figures_differ(total, &want, total_where);
        if (cJSON_IsArray(villages)) {
            bad += sums_differ(villages, total, where);
        }
    }
    printf("  %s: %d values of the report differ from the computed ones\n", where, bad);
    cJSON_Delete(report);
    assert_int_equal(bad, 0);
    if (total_out) {
        *total_out = want;
    }
}

/* ---- tests ---- */

/* The test's own calendar, on the days where it is easy to get wrong. */
static void test_calendar(void **state)
{
    (void)state;
    printf("  checks: the date arithmetic this test computes the figures with\n");
    static const struct {
        const char *from;
        int months;
        const char *to;
    } cases[] = {
        {"2024-01-31", 1, "2024-02-29"}, {"2023-01-31", 1, "2023-02-28"},
        {"2023-08-30", 6, "2024-02-29"}, {"2023-11-30", 3, "2024-02-29"},
        {"2023-12-31", 3, "2024-03-31"}, {"2024-10-31", 6, "2025-04-30"},
        {"2024-07-15", 6, "2025-01-15"}, {"2000-02-29", 12, "2001-02-28"},
        {"1970-01-01", 1, "1970-02-01"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        long from = 0, to = 0;
        assert_int_equal(parse_day(cases[i].from, &from), 0);
        assert_int_equal(parse_day(cases[i].to, &to), 0);
        char text[16];
        format_day(add_months(from, cases[i].months), text, sizeof text);
        assert_string_equal(text, cases[i].to);
    }
    long day = 0;
    assert_int_equal(parse_day("1970-01-01", &day), 0);
    assert_int_equal(day, 0);
    assert_int_equal(parse_day("2024-02-29", &day), 0);
    assert_int_equal(day, 19782);
    assert_int_equal(parse_day("2023-02-29", &day), -1);
    assert_int_equal(parse_day("2024-13-01", &day), -1);
    assert_int_equal(parse_day("2024-1-01", &day), -1);
    struct rate r = {979, 1000};
    char text[16];
    format_percent(&r, text, sizeof text);
    assert_string_equal(text, "97.9%");
    r = (struct rate){97, 99}; /* 97.979...: shown as 98.0%, yet short of 98% */
    format_percent(&r, text, sizeof text);
    assert_string_equal(text, "98.0%");
    r = (struct rate){1, 8}; /* 12.5 exactly */
    format_percent(&r, text, sizeof text);
    assert_string_equal(text, "12.5%");
    r = (struct rate){1, 16}; /* 6.25: half up */
    format_percent(&r, text, sizeof text);
    assert_string_equal(text, "6.3%");
}

/* Every village's laptop imported and synced, and the hub holds it all. */
static void test_villages_synced(void **state)
{
    struct fixture *f = *state;
    printf("  checks: sixteen laptops import the reference data, each keeping its village's"
           " cases, and sync; the hub holds every case once\n");
    ensure_ready(f);
    assert_int_equal(f->nvillages, 16);
}

static void test_year_2024(void **state)
{
    struct fixture *f = *state;
    printf("  checks: hamlet-hub report --year 2024 --json, every figure of every village and"
           " of the township\n");
    struct period p;
    period_year("2024", &p);
    struct figures total;
    check_period(f, &p, &total);
    /* The figures are not trivially zero: the test can tell wrong from right. */
    assert_true(total.received > 0);
    assert_true(total.concluded > 0);
    assert_true(total.participation.den > 0);
    assert_true(total.success.den > 0);
    assert_true(total.followups_due > 0);
}

static void test_year_2023(void **state)
{
    struct fixture *f = *state;
    printf("  checks: hamlet-hub report --year 2023 --json\n");
    struct period p;
    period_year("2023", &p);
    check_period(f, &p, NULL);
}

/* A year after the data: nothing received or concluded, no rate has data. */
static void test_year_2025(void **state)
{
    struct fixture *f = *state;
    printf("  checks: hamlet-hub report --year 2025 --json, a year after the data\n");
    struct period p;
    period_year("2025", &p);
    struct figures total;
    check_period(f, &p, &total);
    assert_int_equal(total.received, 0);
    assert_int_equal(total.concluded, 0);
}

/* A month's report; what is special about the month is said in why. */
static void check_month(void **state, const char *month, const char *why)
{
    struct fixture *f = *state;
    struct period p;
    period_month(month, &p);
    ensure_ready(f);
    size_t clamped = 0;
    for (size_t i = 0; i < f->ncases; i++) {
        const struct ref_case *c = &f->cases[i];
        if (!c->concluded) {
            continue;
        }
        long due = add_months(c->concluded_on, followup_months(c->severity));
        long y1, y2;
        int m1, m2, d1, d2;
        civil_from_days(c->concluded_on, &y1, &m1, &d1);
        civil_from_days(due, &y2, &m2, &d2);
        clamped += in_period(&p, due) && d1 != d2;
    }
    printf("  checks: hamlet-hub report --month %s --json: %s (%zu follow-ups fall due on the"
           " last day of a shorter month)\n",
           month, why, clamped);
    check_period(f, &p, NULL);
}

static void test_month_2024_02(void **state)
{
    check_month(state, "2024-02", "a leap February");
}

static void test_month_2023_08(void **state)
{
    check_month(state, "2023-08", "conclusions and follow-ups in one month");
}

static void test_month_2024_09(void **state)
{
    check_month(state, "2024-09", "after the last case received, follow-ups still fall due");
}

/* The two years hold the whole file, less what lies outside them. */
static void test_years_cover_the_data(void **state)
{
    struct fixture *f = *state;
    ensure_ready(f);
    struct period years[2];
    period_year("2023", &years[0]);
    period_year("2024", &years[1]);
    size_t outside = 0;
    for (size_t i = 0; i < f->ncases; i++) {
        outside += !in_period(&years[0], f->cases[i].received) &&
                   !in_period(&years[1], f->cases[i].received);
    }
    printf("  checks: cases received in 2023 and 2024 by the reports = %zu lines - %zu received"
           " in other years\n",
           f->ncases, outside);
    long reported = 0;
    long by_village[MAX_VILLAGES] = {0};
    for (size_t y = 0; y < 2; y++) {
        cJSON *report = hub_report(f, &years[y], NULL);
        const cJSON *received = member(member(report, "total"), "received");
        assert_true(cJSON_IsNumber(received));
        reported += (long)received->valuedouble;
        const cJSON *entry;
        cJSON_ArrayForEach(entry, member(report, "villages"))
        {
            size_t v = entry_village(f, entry);
            const cJSON *n = member(entry, "received");
            assert_true(v != ALL_VILLAGES && cJSON_IsNumber(n));
            by_village[v] += (long)n->valuedouble;
        }
        cJSON_Delete(report);
    }
    printf("  the reports count %ld\n", reported);
    assert_int_equal(reported, (long)(f->ncases - outside));
    for (size_t i = 0; i < f->nvillages; i++) {
        size_t mine = 0;
        for (size_t c = 0; c < f->ncases; c++) {
            mine += f->cases[c].village == i && (in_period(&years[0], f->cases[c].received) ||
                                                 in_period(&years[1], f->cases[c].received));
        }
        assert_int_equal(by_village[i], (long)mine);
    }
}

/* --village CODE gives that village's entry of the township's report. */
static void test_one_village(void **state)
{
    struct fixture *f = *state;
    ensure_ready(f);
    struct period p;
    period_year("2024", &p);
    size_t which = f->nvillages / 2;
    const struct village *v = &f->villages[which];
    printf("  checks: hamlet-hub report --year 2024 --json --village %s is the township report's"
           " entry of %s\n",
           v->code, v->code);
    cJSON *all = hub_report(f, &p, NULL);
    cJSON *one = hub_report(f, &p, v->code);
    const char *who = "hamlet-hub report --village";
    const cJSON *entries = member(one, "villages");
    int bad = 0;
    if (cJSON_GetArraySize(entries) != 1) {
        fprintf(stderr, "  %s: %d entries in villages\n", who, cJSON_GetArraySize(entries));
        bad++;
    } else {
        const cJSON *entry = cJSON_GetArrayItem(entries, 0);
        const cJSON *same = NULL, *item;
        cJSON_ArrayForEach(item, member(all, "villages"))
        {
            same = entry_village(f, item) == which ? item : same;
        }
        long today;
        size_t village;
        bad += header_differs(one, &p, who, &today) +
               entry_differs(f, who, entry, &p, today, &village);
        if (village != which || !same || !cJSON_Compare(entry, same, 1)) {
            fprintf(stderr, "  %s: not the township report's entry of %s\n", who, v->code);
            bad++;
        }
    }
    cJSON_Delete(all);
    cJSON_Delete(one);
    assert_int_equal(bad, 0);
}

/* One laptop's report against the hub's report and the computed figures.
 * Returns the number of mismatches. */
static int laptop_differs(struct fixture *f, const cJSON *hub, size_t which, const struct period *p)
{
    struct village *v = &f->villages[which];
    printf("  checks: hamlet report %s %s --json on %s's laptop\n", p->flag, p->value, v->code);
    cJSON *mine = agent_report(v, p);
    char who[64];
    snprintf(who, sizeof who, "hamlet report on %s's laptop", v->code);
    long today;
    int bad = header_differs(mine, p, who, &today);
    const cJSON *entries = member(mine, "villages");
    if (cJSON_GetArraySize(entries) != 1) {
        fprintf(stderr, "  %s: %d entries in villages\n", who, cJSON_GetArraySize(entries));
        cJSON_Delete(mine);
        return bad + 1;
    }
    const cJSON *entry = cJSON_GetArrayItem(entries, 0);
    size_t village;
    bad += entry_differs(f, who, entry, p, today, &village);
    const cJSON *at_hub = NULL, *item;
    cJSON_ArrayForEach(item, member(hub, "villages"))
    {
        at_hub = entry_village(f, item) == which ? item : at_hub;
    }
    if (village != which || !at_hub || !cJSON_Compare(entry, at_hub, 1)) {
        char *a = cJSON_PrintUnformatted(entry);
        char *b = at_hub ? cJSON_PrintUnformatted(at_hub) : NULL;
        fprintf(stderr, "  %s: its entry\n    %s\n  is not the hub's\n    %s\n", who, a ? a : "?",
                b ? b : "(none)");
        cJSON_free(a);
        cJSON_free(b);
        bad++;
    }
    cJSON_Delete(mine);
    return bad;
}

/* A laptop's own report is its village's entry of the hub's: the largest
 * village and the smallest. */
static void test_laptop_reports(void **state)
{
    struct fixture *f = *state;
    ensure_ready(f);
    struct period p;
    period_year("2024", &p);
    size_t largest = 0, smallest = 0;
    for (size_t i = 1; i < f->nvillages; i++) {
        largest = f->villages[i].ncases > f->villages[largest].ncases ? i : largest;
        smallest = f->villages[i].ncases < f->villages[smallest].ncases ? i : smallest;
    }
    cJSON *hub = hub_report(f, &p, NULL);
    int bad = laptop_differs(f, hub, largest, &p) + laptop_differs(f, hub, smallest, &p);
    cJSON_Delete(hub);
    assert_int_equal(bad, 0);
}

/* ---- the group ---- */

static int group_setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f) {
        return -1;
    }
    *state = f;
    return 0;
}

/* Everything ensure_ready() started is stopped here, also after a failed
 * assertion. */
static int group_teardown(void **state)
{
    struct fixture *f = *state;
    for (size_t i = 0; i < f->nvillages; i++) {
        agentproc_free(f->villages[i].laptop);
    }
    int status = f->hub ? hubproc_stop(f->hub) : 0;
    if (status != 0) {
        fprintf(stderr, "  the hub did not stop cleanly on SIGTERM (status %d)\n", status);
    }
    hubproc_free(f->hub);
    agentproc_rmdir(f->dir);
    free(f->cases);
    free(f);
    return status == 0 ? 0 : -1;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0); /* progress and failures interleave in order */
    if (hubclient_global_init() != 0) {
        fprintf(stderr, "test_report: libcurl would not start\n");
        return 1;
    }
    const char *filter = getenv("HAMLET_TEST_FILTER");
    if (filter && filter[0]) {
        cmocka_set_test_filter(filter);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calendar),
        cmocka_unit_test(test_villages_synced),
        cmocka_unit_test(test_year_2024),
        cmocka_unit_test(test_year_2023),
        cmocka_unit_test(test_year_2025),
        cmocka_unit_test(test_month_2024_02),
        cmocka_unit_test(test_month_2023_08),
        cmocka_unit_test(test_month_2024_09),
        cmocka_unit_test(test_years_cover_the_data),
        cmocka_unit_test(test_one_village),
        cmocka_unit_test(test_laptop_reports),
    };
    int failed = cmocka_run_group_tests(tests, group_setup, group_teardown);
    hubclient_global_cleanup();
    return failed ? 1 : 0;
}
