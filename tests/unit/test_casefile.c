/* SPDX-License-Identifier: MIT */
/*
 * test_casefile.c - unit tests for the ledger's cases as the rules see them
 * (ledger/casefile.h), on a real SQLite replica with the ledger schema in a
 * temporary directory. Cases, events and agreements are written through the
 * engine as the laptop writes them, then read back: the day a case was
 * received and concluded, whether it was mediated and how the mediation
 * ended, the follow-up visit, a petition's deadlines, the deadline that
 * governs now and how it stands today, the township's requests for a
 * correction and the village's answers, the lists of the command line (as
 * indexes, as JSON and as text in both languages) and the township figures
 * computed over the facts. Dates cross month ends, a leap day and the end
 * of a year.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <cjson/cJSON.h>

#include "casefile.h"
#include "ledger_schema.h"
#include "replica.h"
#include "rules.h"
#include "sync_error.h"

#define BAISHA  "baisha"
#define YANGLIU "yangliu"

/* Case ids: the same prefix, two digits at the end. */
#define CASE_ID(nn) "0190f5a2-7b3c-7d4e-8f5a-0000000000" nn

struct fixture {
    char dir[64];
    struct replica_config config;
    struct replica *replica;
    size_t events; /* events written so far, for their ids */
    struct casefile *cf;
};

/* ---- fixture ---- */

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/hamlet-test-casefile-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    ledger_schema_config(&f->config, 0);
    char path[128], why[256] = "";
    snprintf(path, sizeof path, "%s/ledger.db", f->dir);
    int rc = replica_open(path, &f->config, &f->replica, why, sizeof why);
    if (rc != 0) {
        fail_msg("replica_open %s: %s (%s)", path, sync_strerror(rc), why);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    casefile_free(f->cf);
    replica_close(f->replica);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* ---- writing the ledger ---- */

/* The fields of one case; NULL and 0 leave a field unset. */
struct case_spec {
    const char *id, *village, *case_no, *title, *status, *kind, *channel, *category;
    int severity;
    const char *created_at, *updated_at, *accepted_on, *concluded_on, *deadline;
    int extension_days;
    const char *result_notice_on, *opinion;
};

static void put_case(struct fixture *f, const struct case_spec *s)
{
    const struct {
        const char *column, *value;
    } texts[] = {
        {"case_no", s->case_no},         {"title", s->title},
        {"status", s->status},           {"kind", s->kind},
        {"channel", s->channel},         {"category", s->category},
        {"created_at", s->created_at},   {"updated_at", s->updated_at},
        {"accepted_on", s->accepted_on}, {"concluded_on", s->concluded_on},
        {"deadline", s->deadline},       {"result_notice_on", s->result_notice_on},
        {"opinion", s->opinion},
    };
    const char *columns[16];
    struct sync_value values[16];
    size_t n = 0;
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        if (texts[i].value) {
            columns[n] = texts[i].column;
            values[n++] = (struct sync_value){.type = SYNC_TEXT, .s = texts[i].value};
        }
    }
    if (s->severity) {
        columns[n] = "severity";
        values[n++] = (struct sync_value){.type = SYNC_INT, .i = s->severity};
    }
    if (s->extension_days) {
        columns[n] = "extension_days";
        values[n++] = (struct sync_value){.type = SYNC_INT, .i = s->extension_days};
    }
    int changed = 0;
    int rc = replica_put(f->replica, "cases", s->id, s->village ? s->village : BAISHA, n, columns,
                         values, &changed);
    if (rc != 0) {
        fail_msg("replica_put %s: %s", s->id, sync_strerror(rc));
    }
    assert_int_equal(changed, 1);
}

/* An event of case_id (NULL: none) in village. */
static void add_event(struct fixture *f, const char *village, const char *case_id, const char *date,
                      const char *kind, const char *detail)
{
    char id[UUID7_STRLEN + 1];
    snprintf(id, sizeof id, "0190f5a2-7b3c-7d4e-9e00-%012zx", ++f->events);
    const char *columns[5];
    struct sync_value values[5];
    size_t n = 0;
    const char *texts[][2] = {
        {"case_id", case_id}, {"date", date}, {"kind", kind}, {"note", "..."}, {"detail", detail}};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        if (texts[i][1]) {
            columns[n] = texts[i][0];
            values[n++] = (struct sync_value){.type = SYNC_TEXT, .s = texts[i][1]};
        }
    }
    int rc = replica_append(f->replica, "events", id, village, n, columns, values);
    if (rc != 0) {
        fail_msg("replica_append %s: %s", id, sync_strerror(rc));
    }
}

/* An agreement of case_id; signed_at NULL while unsigned. */
static void add_agreement(struct fixture *f, const char *id, const char *case_id,
                          const char *signed_at)
{
    const char *columns[] = {"case_id", "parties_details", "signed_at"};
    struct sync_value values[] = {
        {.type = SYNC_TEXT, .s = case_id},
        {.type = SYNC_TEXT, .s = "张三、李四"},
        {.type = SYNC_TEXT, .s = signed_at},
    };
    int rc =
        replica_put(f->replica, "agreements", id, BAISHA, signed_at ? 3 : 2, columns, values, NULL);
    if (rc != 0) {
        fail_msg("replica_put agreement %s: %s", id, sync_strerror(rc));
    }
}

/* ---- reading it back ---- */

static struct rules_date day(const char *text)
{
    struct rules_date d;
    if (rules_date_parse(text, &d) != 0) {
        fail_msg("not a date: %s", text);
    }
    return d;
}

/* The casefile of village (NULL: all) as of today, with config (NULL: the
 * defaults); the fixture frees it. */
static const struct casefile *load_with(struct fixture *f, const char *village, const char *today,
                                        const struct rules_config *config)
{
    struct rules_config defaults;
    rules_config_default(&defaults);
    casefile_free(f->cf);
    f->cf = NULL;
    int rc = casefile_load(f->replica, village, config ? config : &defaults, day(today), &f->cf);
    if (rc != 0) {
        fail_msg("casefile_load: %d", rc);
    }
    assert_non_null(f->cf);
    return f->cf;
}

static const struct casefile *load(struct fixture *f, const char *village, const char *today)
{
    return load_with(f, village, today, NULL);
}

static const struct casefile_case *find(const struct casefile *cf, const char *id)
{
    const struct casefile_case *c = casefile_find(cf, id);
    if (!c) {
        fail_msg("case %s not in the casefile", id);
    }
    return c;
}

/* The facts of the case c. */
static const struct rules_case_facts *facts_of(const struct casefile *cf,
                                               const struct casefile_case *c)
{
    return &cf->facts[c - cf->cases];
}

/* Asserts that d is the day want ("YYYY-MM-DD"; NULL: no date). */
static void assert_day_at(struct rules_date d, const char *want, const char *what, int line)
{
    char got[RULES_DATE_LEN + 1] = "none";
    if (rules_date_is_set(d)) {
        (void)rules_date_format(d, got);
    }
    if (strcmp(got, want ? want : "none") != 0) {
        fail_msg("line %d: %s is %s, expected %s", line, what, got, want ? want : "none");
    }
}

#define assert_day(d, want) assert_day_at((d), (want), #d, __LINE__)

/* A write callback that keeps everything in memory, and can refuse with
 * fail_rc when it is non-zero. */
struct sink {
    char *data;
    size_t len;
    int fail_rc;
};

static int sink_write(void *ctx, const char *data, size_t len)
{
    struct sink *s = ctx;
    if (s->fail_rc) {
        return s->fail_rc;
    }
    char *grown = realloc(s->data, s->len + len + 1);
    assert_non_null(grown);
    memcpy(grown + s->len, data, len);
    s->data = grown;
    s->len += len;
    s->data[s->len] = '\0';
    return 0;
}

static void sink_reset(struct sink *s)
{
    free(s->data);
    memset(s, 0, sizeof *s);
}

/* The ids of a list, in its order, joined with spaces, for comparison. */
static void select_ids(const struct casefile *cf, enum casefile_list which, const char *village,
                       int days, char *out, size_t len)
{
    size_t *list = NULL, n = 99;
    assert_int_equal(casefile_select(cf, which, village, days, &list, &n), 0);
    out[0] = '\0';
    size_t used = 0;
    for (size_t k = 0; k < n; k++) {
        /* The last two digits name the case. */
        const char *id = cf->cases[list[k]].id;
        int w = snprintf(out + used, len - used, "%s%s", k ? " " : "", id + UUID7_STRLEN - 2);
        assert_true(w > 0 && (size_t)w < len - used);
        used += (size_t)w;
    }
    if (n == 0) {
        assert_null(list);
    }
    free(list);
}

#define assert_list(cf, which, village, days, want)                                                \
    do {                                                                                           \
        char got_[256];                                                                            \
        select_ids((cf), (which), (village), (days), got_, sizeof got_);                           \
        assert_string_equal(got_, (want));                                                         \
    } while (0)

/* ---- the facts of one case ---- */

static void test_received_is_the_china_day(void **state)
{
    struct fixture *f = *state;
    put_case(f, &(struct case_spec){.id = CASE_ID("01"),
                                    .status = "registered",
                                    .created_at = "2024-12-31T23:30:00-02:00"});
    put_case(f, &(struct case_spec){.id = CASE_ID("02"),
                                    .status = "registered",
                                    .created_at = "2024-02-28T16:00:00Z"});
    put_case(f, &(struct case_spec){.id = CASE_ID("03"),
                                    .status = "registered",
                                    .created_at = "2024-02-29T23:59:59+08:00"});
    put_case(f, &(struct case_spec){.id = CASE_ID("04"),
                                    .status = "registered",
                                    .created_at = "2024-03-31T16:00:00.500Z"});
    put_case(f, &(struct case_spec){.id = CASE_ID("05"), .status = "registered"});
    const struct casefile *cf = load(f, NULL, "2025-01-15");
    assert_int_equal(cf->n, 5);
    const char *want[] = {"2025-01-01", "2024-02-29", "2024-02-29", "2024-04-01", NULL};
    const char *ids[] = {CASE_ID("01"), CASE_ID("02"), CASE_ID("03"), CASE_ID("04"), CASE_ID("05")};
    for (size_t i = 0; i < 5; i++) {
        const struct casefile_case *c = find(cf, ids[i]);
        assert_day(c->received, want[i]);
        assert_day(facts_of(cf, c)->received, want[i]);
    }
}

static void test_concluded_day(void **state)
{
    struct fixture *f = *state;
    /* concluded_on wins over every event. */
    put_case(f, &(struct case_spec){.id = CASE_ID("01"),
                                    .status = "closed",
                                    .updated_at = "2024-04-02T10:00:00+08:00",
                                    .concluded_on = "2024-03-01"});
    add_event(f, BAISHA, CASE_ID("01"), "2024-03-05", "session", NULL);
    /* Without it, the last event of the work, not those that come after. */
    put_case(f, &(struct case_spec){.id = CASE_ID("02"),
                                    .status = "closed",
                                    .updated_at = "2024-04-02T10:00:00+08:00"});
    add_event(f, BAISHA, CASE_ID("02"), "2024-01-30", "session", NULL);
    add_event(f, BAISHA, CASE_ID("02"), "2024-02-29", "agreement", NULL);
    const char *after[] = {"followup", "reveal", "opinion",  "deadline",   "result_notice",
                           "comment",  "level",  "mediator", "correction", "correction_reply"};
    for (size_t i = 0; i < sizeof after / sizeof after[0]; i++) {
        char date[16];
        snprintf(date, sizeof date, "2024-03-%02zu", i + 2);
        add_event(f, BAISHA, CASE_ID("02"), date, after[i], NULL);
    }
    /* Without events, the day of the last change, in China. */
    put_case(f, &(struct case_spec){.id = CASE_ID("03"),
                                    .status = "archived",
                                    .updated_at = "2024-12-31T17:00:00Z"});
    /* Events that come after the work never date it. */
    put_case(f, &(struct case_spec){.id = CASE_ID("04"),
                                    .status = "archived",
                                    .updated_at = "2024-06-30T12:00:00+08:00"});
    add_event(f, BAISHA, CASE_ID("04"), "2024-07-15", "followup", NULL);
    add_event(f, BAISHA, CASE_ID("04"), "2024-07-16", "comment", NULL);
    /* A case still being handled has no conclusion day. */
    put_case(f, &(struct case_spec){.id = CASE_ID("05"),
                                    .status = "mediating",
                                    .updated_at = "2024-06-30T12:00:00+08:00"});
    add_event(f, BAISHA, CASE_ID("05"), "2024-06-29", "session", NULL);
    /* A concluded case without updated_at is still dated by its events. */
    put_case(f, &(struct case_spec){.id = CASE_ID("06"), .status = "concluded"});
    add_event(f, BAISHA, CASE_ID("06"), "2024-05-02", "session", NULL);
    /* Referred: handled elsewhere, no conclusion day here. */
    put_case(f, &(struct case_spec){.id = CASE_ID("07"),
                                    .status = "referred",
                                    .updated_at = "2024-06-30T12:00:00+08:00"});
    add_event(f, BAISHA, CASE_ID("07"), "2024-06-29", "transfer", "court");

    const struct casefile *cf = load(f, BAISHA, "2025-01-15");
    assert_int_equal(cf->n, 7);
    const struct {
        const char *id, *concluded;
    } want[] = {
        {CASE_ID("01"), "2024-03-01"}, {CASE_ID("02"), "2024-02-29"}, {CASE_ID("03"), "2025-01-01"},
        {CASE_ID("04"), "2024-06-30"}, {CASE_ID("05"), NULL},         {CASE_ID("06"), "2024-05-02"},
        {CASE_ID("07"), NULL},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const struct casefile_case *c = find(cf, want[i].id);
        assert_day(facts_of(cf, c)->concluded, want[i].concluded);
        assert_day(c->concluded, want[i].concluded);
    }
    /* "closed" is the reference data's word for concluded. */
    const struct casefile_case *c = find(cf, CASE_ID("01"));
    assert_int_equal(c->status, RULES_STATUS_CONCLUDED);
    assert_int_equal(facts_of(cf, c)->status, RULES_STATUS_CONCLUDED);
    assert_string_equal(c->status_text, "closed");
}

static void test_mediation_facts(void **state)
{
    struct fixture *f = *state;
    const char *accepted = "accepted";
    put_case(f, &(struct case_spec){.id = CASE_ID("10"), .status = "registered"});
    put_case(f, &(struct case_spec){.id = CASE_ID("11"), .status = "mediating"});
    put_case(f, &(struct case_spec){.id = CASE_ID("12"), .status = accepted});
    add_event(f, BAISHA, CASE_ID("12"), "2024-03-01", "session", NULL);
    put_case(f, &(struct case_spec){.id = CASE_ID("13"), .status = accepted});
    add_event(f, BAISHA, CASE_ID("13"), "2024-03-01", "status", "mediating");
    put_case(f, &(struct case_spec){.id = CASE_ID("14"), .status = accepted});
    add_event(f, BAISHA, CASE_ID("14"), "2024-03-01", "visit", NULL);
    add_event(f, BAISHA, CASE_ID("14"), "2024-03-01", "status", "accepted");
    put_case(f, &(struct case_spec){.id = CASE_ID("15"), .status = "closed"});
    add_event(f, BAISHA, CASE_ID("15"), "2024-03-01", "agreement", NULL);
    put_case(f, &(struct case_spec){.id = CASE_ID("16"), .status = "agreement"});
    put_case(f, &(struct case_spec){.id = CASE_ID("17"), .status = "failed"});
    put_case(f, &(struct case_spec){.id = CASE_ID("18"), .status = "closed"});
    add_event(f, BAISHA, CASE_ID("18"), "2024-03-01", "status", "failed");
    /* Agreement records: two, one signed; and one that was deleted. */
    put_case(f, &(struct case_spec){.id = CASE_ID("19"), .status = accepted});
    add_agreement(f, "0190f5a2-7b3c-7d4e-a000-000000000001", CASE_ID("19"), NULL);
    add_agreement(f, "0190f5a2-7b3c-7d4e-a000-000000000002", CASE_ID("19"),
                  "2024-03-02T10:00:00+08:00");
    put_case(f, &(struct case_spec){.id = CASE_ID("20"), .status = accepted});
    add_agreement(f, "0190f5a2-7b3c-7d4e-a000-000000000003", CASE_ID("20"), NULL);
    assert_int_equal(
        replica_delete(f->replica, "agreements", "0190f5a2-7b3c-7d4e-a000-000000000003"), 0);

    const struct casefile *cf = load(f, BAISHA, "2024-03-10");
    assert_int_equal(cf->n, 11);
    const struct {
        const char *id;
        int mediated, agreement, concluded;
    } want[] = {
        {CASE_ID("10"), 0, 0, 0}, {CASE_ID("11"), 1, 0, 0}, {CASE_ID("12"), 1, 0, 0},
        {CASE_ID("13"), 1, 0, 0}, {CASE_ID("14"), 0, 0, 0}, {CASE_ID("15"), 1, 1, 1},
        {CASE_ID("16"), 1, 1, 1}, {CASE_ID("17"), 1, 0, 1}, {CASE_ID("18"), 1, 0, 1},
        {CASE_ID("20"), 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const struct rules_case_facts *fc = facts_of(cf, find(cf, want[i].id));
        if ((fc->mediated != 0) != want[i].mediated ||
            (fc->agreement_reached != 0) != want[i].agreement ||
            (fc->mediation_concluded != 0) != want[i].concluded) {
            fail_msg("case %s: mediated %d agreement %d concluded %d, expected %d %d %d",
                     want[i].id + UUID7_STRLEN - 2, fc->mediated, fc->agreement_reached,
                     fc->mediation_concluded, want[i].mediated, want[i].agreement,
                     want[i].concluded);
        }
    }
    const struct casefile_case *c = find(cf, CASE_ID("19"));
    assert_int_equal(c->agreements, 2);
    assert_int_equal(c->agreements_signed, 1);
    assert_true(facts_of(cf, c)->agreement_reached);
    assert_true(facts_of(cf, c)->mediation_concluded);
    c = find(cf, CASE_ID("20"));
    assert_int_equal(c->agreements, 0);
    assert_int_equal(c->agreements_signed, 0);
}

static void test_other_fields(void **state)
{
    struct fixture *f = *state;
    put_case(f, &(struct case_spec){.id = CASE_ID("01"),
                                    .case_no = "（2024）白沙调字第A3-0012号",
                                    .title = "宅基地边界纠纷",
                                    .status = "closed",
                                    .kind = "dispute",
                                    .channel = "visit",
                                    .category = "land",
                                    .severity = 2,
                                    .created_at = "2024-01-05T09:00:00+08:00",
                                    .concluded_on = "2024-02-01",
                                    .result_notice_on = "2024-02-02",
                                    .opinion = "basically_satisfied"});
    /* Words a newer version might write are kept as unknown. */
    put_case(f, &(struct case_spec){.id = CASE_ID("02"),
                                    .status = "pondering",
                                    .kind = "riddle",
                                    .channel = "pigeon",
                                    .severity = 9,
                                    .opinion = "meh"});
    const struct casefile *cf = load(f, BAISHA, "2024-03-10");
    const struct casefile_case *c = find(cf, CASE_ID("01"));
    const struct rules_case_facts *fc = facts_of(cf, c);
    assert_string_equal(c->case_no, "（2024）白沙调字第A3-0012号");
    assert_string_equal(c->title, "宅基地边界纠纷");
    assert_string_equal(c->village, BAISHA);
    assert_string_equal(c->category, "land");
    assert_int_equal(c->kind, RULES_KIND_DISPUTE);
    assert_int_equal(c->severity, 2);
    assert_day(c->result_notice, "2024-02-02");
    assert_string_equal(fc->village, BAISHA);
    assert_string_equal(fc->category, "land");
    assert_int_equal(fc->kind, RULES_KIND_DISPUTE);
    assert_int_equal(fc->channel, RULES_CHANNEL_VISIT);
    assert_int_equal(fc->severity, 2);
    assert_int_equal(fc->opinion, RULES_OPINION_BASICALLY_SATISFIED);

    c = find(cf, CASE_ID("02"));
    fc = facts_of(cf, c);
    assert_int_equal(c->status, RULES_STATUS_NONE);
    assert_string_equal(c->status_text, "pondering");
    assert_int_equal(c->kind, RULES_KIND_NONE);
    assert_int_equal(c->severity, 0);
    assert_null(c->case_no);
    assert_null(c->title);
    assert_null(fc->category);
    assert_int_equal(fc->channel, RULES_CHANNEL_NONE);
    assert_int_equal(fc->opinion, RULES_OPINION_NONE);
    assert_int_equal(c->followup_state, RULES_FOLLOWUP_NONE);
}

static void test_followup_done(void **state)
{
    struct fixture *f = *state;
    /* The first visit on or after the conclusion day. */
    put_case(f, &(struct case_spec){.id = CASE_ID("01"),
                                    .status = "closed",
                                    .severity = 1,
                                    .concluded_on = "2024-03-10"});
    add_event(f, BAISHA, CASE_ID("01"), "2024-04-01", "followup", NULL);
    add_event(f, BAISHA, CASE_ID("01"), "2024-03-01", "followup", NULL);
    add_event(f, BAISHA, CASE_ID("01"), "2024-03-15", "followup", NULL);
    /* On the conclusion day itself. */
    put_case(f, &(struct case_spec){.id = CASE_ID("02"),
                                    .status = "closed",
                                    .severity = 1,
                                    .concluded_on = "2024-03-10"});
    add_event(f, BAISHA, CASE_ID("02"), "2024-03-10", "followup", NULL);
    /* Only before it: not a follow-up of this conclusion. */
    put_case(f, &(struct case_spec){.id = CASE_ID("03"),
                                    .status = "closed",
                                    .severity = 1,
                                    .concluded_on = "2024-03-10"});
    add_event(f, BAISHA, CASE_ID("03"), "2024-03-09", "followup", NULL);
    /* A case still open owes no visit, whatever its events say. */
    put_case(f, &(struct case_spec){.id = CASE_ID("04"), .status = "mediating", .severity = 1});
    add_event(f, BAISHA, CASE_ID("04"), "2024-03-09", "followup", NULL);

    const struct casefile *cf = load(f, BAISHA, "2024-04-11");
    const struct casefile_case *c = find(cf, CASE_ID("01"));
    assert_day(facts_of(cf, c)->followup_done, "2024-03-15");
    assert_day(c->followup_due, "2024-04-10");
    assert_int_equal(c->followup_state, RULES_FOLLOWUP_DONE);
    c = find(cf, CASE_ID("02"));
    assert_day(facts_of(cf, c)->followup_done, "2024-03-10");
    assert_int_equal(c->followup_state, RULES_FOLLOWUP_DONE);
    c = find(cf, CASE_ID("03"));
    assert_day(facts_of(cf, c)->followup_done, NULL);
    assert_int_equal(c->followup_state, RULES_FOLLOWUP_OVERDUE);
    c = find(cf, CASE_ID("04"));
    assert_day(facts_of(cf, c)->followup_done, NULL);
    assert_day(c->followup_due, NULL);
    assert_int_equal(c->followup_state, RULES_FOLLOWUP_NONE);
}

/* ---- deadlines ---- */

static void test_petition_deadlines(void **state)
{
    struct fixture *f = *state;
    /* Registered: accept within 15 days of receipt. */
    put_case(f, &(struct case_spec){.id = CASE_ID("30"),
                                    .kind = "petition",
                                    .status = "registered",
                                    .created_at = "2024-02-20T10:00:00+08:00"});
    /* Accepted: conclude within 60 days of acceptance, across the leap day. */
    put_case(f, &(struct case_spec){.id = CASE_ID("31"),
                                    .kind = "petition",
                                    .status = "accepted",
                                    .created_at = "2024-01-02T09:00:00+08:00",
                                    .accepted_on = "2024-01-05"});
    /* Extended once by 30 days, across the year end. */
    put_case(f, &(struct case_spec){.id = CASE_ID("32"),
                                    .kind = "petition",
                                    .status = "mediating",
                                    .created_at = "2023-11-01T09:00:00+08:00",
                                    .accepted_on = "2023-11-15",
                                    .extension_days = 30});
    /* The township's deadline wins. */
    put_case(f, &(struct case_spec){.id = CASE_ID("33"),
                                    .kind = "petition",
                                    .status = "registered",
                                    .created_at = "2024-02-20T10:00:00+08:00",
                                    .deadline = "2024-03-02"});
    /* A dispute has only the township's deadline. */
    put_case(f, &(struct case_spec){.id = CASE_ID("34"),
                                    .kind = "dispute",
                                    .status = "accepted",
                                    .created_at = "2024-02-20T10:00:00+08:00"});
    put_case(f, &(struct case_spec){.id = CASE_ID("35"),
                                    .kind = "dispute",
                                    .status = "accepted",
                                    .created_at = "2024-02-20T10:00:00+08:00",
                                    .deadline = "2024-03-20"});
    /* Closed cases have no deadline now, but keep the one they had. */
    put_case(f, &(struct case_spec){.id = CASE_ID("36"),
                                    .kind = "petition",
                                    .status = "closed",
                                    .created_at = "2024-01-02T09:00:00+08:00",
                                    .accepted_on = "2024-01-05",
                                    .concluded_on = "2024-02-20"});
    put_case(f, &(struct case_spec){.id = CASE_ID("37"),
                                    .kind = "petition",
                                    .status = "not_accepted",
                                    .created_at = "2024-02-01T09:00:00+08:00"});
    put_case(f, &(struct case_spec){.id = CASE_ID("38"),
                                    .kind = "dispute",
                                    .status = "closed",
                                    .created_at = "2024-01-02T09:00:00+08:00",
                                    .concluded_on = "2024-02-12",
                                    .deadline = "2024-02-10"});
    /* A paper petition recorded after it was accepted: its periods run from
     * the earlier day. */
    put_case(f, &(struct case_spec){.id = CASE_ID("39"),
                                    .kind = "petition",
                                    .status = "accepted",
                                    .created_at = "2024-02-10T09:00:00+08:00",
                                    .accepted_on = "2024-01-20"});

    const struct casefile *cf = load(f, BAISHA, "2024-03-01");
    const struct casefile_case *c = find(cf, CASE_ID("39"));
    assert_day(c->petition.accept_due, "2024-02-04");
    assert_day(c->petition.conclude_due, "2024-03-20");
    assert_day(c->due, "2024-03-20");

    c = find(cf, CASE_ID("30"));
    assert_day(c->petition.accept_due, "2024-03-06");
    assert_day(c->petition.conclude_due, "2024-04-20");
    assert_int_equal(c->petition.provisional, 1);
    assert_day(c->due, "2024-03-06");
    assert_int_equal(c->due_state, RULES_DUE_SOON);
    assert_int_equal(c->due_days, 5);
    assert_day(facts_of(cf, c)->due, "2024-03-06");

    c = find(cf, CASE_ID("31"));
    assert_day(c->petition.accept_due, "2024-01-17");
    assert_day(c->petition.conclude_due, "2024-03-05");
    assert_int_equal(c->petition.provisional, 0);
    assert_int_equal(c->petition.extension_days, 0);
    assert_day(c->due, "2024-03-05");
    assert_int_equal(c->due_state, RULES_DUE_SOON);
    assert_int_equal(c->due_days, 4);

    c = find(cf, CASE_ID("32"));
    assert_int_equal(c->extension_days, 30);
    assert_int_equal(c->petition.extension_days, 30);
    assert_day(c->petition.conclude_due, "2024-02-13");
    assert_day(c->due, "2024-02-13");
    assert_int_equal(c->due_state, RULES_DUE_OVERDUE);
    assert_int_equal(c->due_days, 17);

    c = find(cf, CASE_ID("33"));
    assert_day(c->deadline, "2024-03-02");
    assert_day(c->petition.accept_due, "2024-03-06");
    assert_day(c->due, "2024-03-02");
    assert_int_equal(c->due_days, 1);
    assert_day(facts_of(cf, c)->due, "2024-03-02");

    c = find(cf, CASE_ID("34"));
    assert_day(c->due, NULL);
    assert_int_equal(c->due_state, RULES_DUE_NONE);
    assert_int_equal(c->due_days, 0);
    assert_day(facts_of(cf, c)->due, NULL);

    c = find(cf, CASE_ID("35"));
    assert_day(c->due, "2024-03-20");
    assert_int_equal(c->due_state, RULES_DUE_ON_TIME);
    assert_int_equal(c->due_days, 19);

    c = find(cf, CASE_ID("36"));
    assert_day(c->due, NULL);
    assert_int_equal(c->due_state, RULES_DUE_NONE);
    assert_int_equal(c->due_days, 0);
    assert_day(facts_of(cf, c)->due, "2024-03-05");

    c = find(cf, CASE_ID("37"));
    assert_day(c->due, NULL);
    assert_int_equal(c->due_state, RULES_DUE_NONE);
    assert_day(facts_of(cf, c)->due, "2024-02-16");

    c = find(cf, CASE_ID("38"));
    assert_day(c->due, NULL);
    assert_day(facts_of(cf, c)->due, "2024-02-10");
}

static void test_due_states(void **state)
{
    struct fixture *f = *state;
    const struct {
        const char *id, *deadline;
    } cases[] = {
        {CASE_ID("40"), "2024-02-29"}, {CASE_ID("41"), "2024-01-31"}, {CASE_ID("42"), "2024-03-01"},
        {CASE_ID("43"), "2024-03-06"}, {CASE_ID("44"), "2024-03-07"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        put_case(f, &(struct case_spec){.id = cases[i].id,
                                        .kind = "dispute",
                                        .status = "investigating",
                                        .deadline = cases[i].deadline});
    }
    const struct {
        enum rules_due_state state;
        int64_t days;
    } want[] = {
        {RULES_DUE_OVERDUE, 1}, {RULES_DUE_OVERDUE, 30}, {RULES_DUE_SOON, 0},
        {RULES_DUE_SOON, 5},    {RULES_DUE_ON_TIME, 6},
    };
    const struct casefile *cf = load(f, BAISHA, "2024-03-01");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct casefile_case *c = find(cf, cases[i].id);
        assert_day(c->due, cases[i].deadline);
        if (c->due_state != want[i].state || c->due_days != want[i].days) {
            fail_msg("deadline %s: state %d, %lld days; expected %d, %lld days", cases[i].deadline,
                     (int)c->due_state, (long long)c->due_days, (int)want[i].state,
                     (long long)want[i].days);
        }
    }
    /* With no warning days, only the due day itself is "due soon". */
    struct rules_config config;
    rules_config_default(&config);
    assert_int_equal(rules_config_set(&config, "warn_days", "0"), 0);
    cf = load_with(f, BAISHA, "2024-03-01", &config);
    assert_int_equal(find(cf, CASE_ID("42"))->due_state, RULES_DUE_SOON);
    assert_int_equal(find(cf, CASE_ID("43"))->due_state, RULES_DUE_ON_TIME);
    assert_int_equal(find(cf, CASE_ID("43"))->due_days, 5);
    assert_int_equal(find(cf, CASE_ID("40"))->due_state, RULES_DUE_OVERDUE);
}

static void test_followup_due_by_severity(void **state)
{
    struct fixture *f = *state;
    const struct {
        const char *id, *status;
        int severity;
        const char *concluded_on, *updated_at;
    } cases[] = {
        {CASE_ID("50"), "closed", 1, "2024-01-31", NULL},
        {CASE_ID("51"), "closed", 2, "2023-11-30", NULL},
        {CASE_ID("52"), "closed", 3, "2023-08-31", NULL},
        {CASE_ID("53"), "closed", 1, "2023-12-31", NULL},
        {CASE_ID("54"), "closed", 3, "2023-12-31", NULL},
        {CASE_ID("55"), "closed", 1, "2024-02-29", NULL},
        {CASE_ID("56"), "closed", 0, "2024-02-01", NULL},
        {CASE_ID("57"), "mediating", 1, NULL, NULL},
        {CASE_ID("58"), "archived", 2, NULL, "2023-12-31T20:00:00-05:00"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        put_case(f, &(struct case_spec){.id = cases[i].id,
                                        .status = cases[i].status,
                                        .severity = cases[i].severity,
                                        .concluded_on = cases[i].concluded_on,
                                        .updated_at = cases[i].updated_at});
    }
    add_event(f, BAISHA, CASE_ID("52"), "2024-02-29", "followup", NULL);
    const struct {
        const char *due;
        enum rules_followup_state state;
    } want[] = {
        {"2024-02-29", RULES_FOLLOWUP_OVERDUE},
        {"2024-02-29", RULES_FOLLOWUP_OVERDUE},
        {"2024-02-29", RULES_FOLLOWUP_DONE},
        {"2024-01-31", RULES_FOLLOWUP_OVERDUE},
        {"2024-06-30", RULES_FOLLOWUP_DUE},
        {"2024-03-29", RULES_FOLLOWUP_DUE},
        {NULL, RULES_FOLLOWUP_NONE},
        {NULL, RULES_FOLLOWUP_NONE},
        {"2024-04-01", RULES_FOLLOWUP_DUE},
    };
    const struct casefile *cf = load(f, BAISHA, "2024-03-01");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct casefile_case *c = find(cf, cases[i].id);
        assert_day(c->followup_due, want[i].due);
        if (c->followup_state != want[i].state) {
            fail_msg("case %s: follow-up state %d, expected %d", cases[i].id + UUID7_STRLEN - 2,
                     (int)c->followup_state, (int)want[i].state);
        }
    }
    /* The township's months are used: class 3 after a year. */
    struct rules_config config;
    rules_config_default(&config);
    assert_int_equal(rules_config_set(&config, "followup_months_3", "12"), 0);
    cf = load_with(f, BAISHA, "2024-03-01", &config);
    assert_day(find(cf, CASE_ID("52"))->followup_due, "2024-08-31");
    assert_day(find(cf, CASE_ID("54"))->followup_due, "2024-12-31");
    assert_day(find(cf, CASE_ID("50"))->followup_due, "2024-02-29");
}

/* ---- which cases ---- */

static void test_deleted_and_unknown_cases(void **state)
{
    struct fixture *f = *state;
    put_case(f, &(struct case_spec){.id = CASE_ID("60"),
                                    .kind = "dispute",
                                    .status = "accepted",
                                    .deadline = "2024-02-01"});
    add_event(f, BAISHA, CASE_ID("60"), "2024-02-01", "session", NULL);
    assert_int_equal(replica_delete(f->replica, "cases", CASE_ID("60")), 0);
    put_case(f, &(struct case_spec){.id = CASE_ID("61"), .status = "accepted"});
    /* Events, a visit and an agreement of cases this replica never saw,
     * and an event of no case. */
    add_event(f, BAISHA, CASE_ID("99"), "2024-02-01", "session", NULL);
    add_event(f, BAISHA, CASE_ID("98"), "2024-02-01", "followup", NULL);
    add_event(f, BAISHA, NULL, "2024-02-01", "agreement", NULL);
    add_agreement(f, "0190f5a2-7b3c-7d4e-a000-000000000009", CASE_ID("97"), NULL);

    const struct casefile *cf = load(f, NULL, "2024-03-01");
    assert_int_equal(cf->n, 1);
    assert_null(casefile_find(cf, CASE_ID("60")));
    assert_null(casefile_find(cf, CASE_ID("99")));
    const struct casefile_case *c = find(cf, CASE_ID("61"));
    assert_int_equal(facts_of(cf, c)->mediated, 0);
    assert_int_equal(facts_of(cf, c)->agreement_reached, 0);
    assert_int_equal(c->agreements, 0);
    assert_list(cf, CASEFILE_OVERDUE, NULL, 0, "");
}

static void test_village_filter(void **state)
{
    struct fixture *f = *state;
    put_case(f, &(struct case_spec){.id = CASE_ID("70"),
                                    .kind = "dispute",
                                    .status = "accepted",
                                    .deadline = "2024-02-20"});
    put_case(f, &(struct case_spec){.id = CASE_ID("71"), .status = "registered"});
    put_case(f, &(struct case_spec){.id = CASE_ID("72"),
                                    .village = YANGLIU,
                                    .kind = "dispute",
                                    .status = "accepted",
                                    .deadline = "2024-02-25"});
    add_event(f, YANGLIU, CASE_ID("72"), "2024-02-21", "session", NULL);

    const struct casefile *cf = load(f, BAISHA, "2024-03-01");
    assert_int_equal(cf->n, 2);
    assert_null(casefile_find(cf, CASE_ID("72")));
    for (size_t i = 0; i < cf->n; i++) {
        assert_string_equal(cf->cases[i].village, BAISHA);
        assert_string_equal(cf->facts[i].village, BAISHA);
    }
    assert_list(cf, CASEFILE_OVERDUE, NULL, 0, "70");

    cf = load(f, NULL, "2024-03-01");
    assert_int_equal(cf->n, 3);
    const struct casefile_case *c = find(cf, CASE_ID("72"));
    assert_string_equal(c->village, YANGLIU);
    assert_int_equal(facts_of(cf, c)->mediated, 1);
    assert_list(cf, CASEFILE_OVERDUE, NULL, 0, "70 72");
    assert_list(cf, CASEFILE_OVERDUE, YANGLIU, 0, "72");
    assert_list(cf, CASEFILE_OVERDUE, BAISHA, 0, "70");
    assert_list(cf, CASEFILE_OVERDUE, "nowhere", 0, "");

    cf = load(f, "nowhere", "2024-03-01");
    assert_int_equal(cf->n, 0);
    assert_null(casefile_find(cf, CASE_ID("70")));
    assert_list(cf, CASEFILE_OVERDUE, NULL, 0, "");
    assert_list(cf, CASEFILE_DUE_SOON, NULL, 30, "");
    assert_list(cf, CASEFILE_FOLLOWUPS, NULL, -1, "");
}

static void test_load_refuses_bad_arguments(void **state)
{
    struct fixture *f = *state;
    struct rules_config config;
    rules_config_default(&config);
    struct casefile sentinel = {0};
    struct casefile *cf = &sentinel; /* set to NULL on failure */
    assert_int_equal(casefile_load(NULL, NULL, &config, day("2024-03-01"), &cf), RULES_E_ARG);
    assert_null(cf);
    assert_int_equal(casefile_load(f->replica, NULL, NULL, day("2024-03-01"), &cf), RULES_E_ARG);
    assert_int_equal(casefile_load(f->replica, NULL, &config, RULES_DATE_NONE, &cf), RULES_E_ARG);
    assert_null(cf);
    config.accept_days = 0;
    assert_int_equal(casefile_load(f->replica, NULL, &config, day("2024-03-01"), &cf), RULES_E_ARG);
    assert_null(cf);
    assert_int_equal(casefile_load(f->replica, NULL, &config, day("2024-03-01"), NULL),
                     RULES_E_ARG);
    casefile_free(NULL);
    assert_null(casefile_find(NULL, CASE_ID("01")));
}

/* ---- the lists ---- */

/* Village baisha, seen on 2024-12-30: deadlines around the year end, and
 * follow-up visits owed and made. */
static void make_lists(struct fixture *f)
{
    const struct {
        const char *nn, *deadline;
    } open[] = {
        {"01", "2024-12-20"}, /* 10 days overdue */
        {"02", "2024-12-29"}, /* 1 day overdue */
        {"03", "2024-11-30"}, /* 30 days overdue */
        {"04", "2024-12-30"}, /* due today */
        {"05", "2025-01-02"}, /* 3 days left */
        {"06", "2025-01-04"}, /* 5 days left */
        {"07", "2025-01-10"}, /* 11 days left, on time */
    };
    for (size_t i = 0; i < sizeof open / sizeof open[0]; i++) {
        char id[UUID7_STRLEN + 1], case_no[64], title[64];
        snprintf(id, sizeof id, CASE_ID("%s"), open[i].nn);
        snprintf(case_no, sizeof case_no, "（2024）白沙调字第A3-00%s号", open[i].nn);
        snprintf(title, sizeof title, "案件%s", open[i].nn);
        put_case(f, &(struct case_spec){.id = id,
                                        .case_no = case_no,
                                        .title = title,
                                        .kind = "dispute",
                                        .status = "accepted",
                                        .deadline = open[i].deadline});
    }
    /* Closed past its deadline: in no list. */
    put_case(f, &(struct case_spec){.id = CASE_ID("08"),
                                    .status = "closed",
                                    .deadline = "2024-12-01",
                                    .concluded_on = "2024-12-05"});
    const struct {
        const char *nn;
        int severity;
        const char *concluded_on;
    } closed[] = {
        {"11", 1, "2024-10-31"}, /* visit due 2024-11-30: 30 days overdue */
        {"12", 1, "2024-11-30"}, /* due 2024-12-30, today */
        {"13", 1, "2024-12-15"}, /* due 2025-01-15, in 16 days */
        {"14", 2, "2024-10-31"}, /* due 2025-01-31, in 32 days */
        {"15", 1, "2024-11-15"}, /* due 2024-12-15, visited */
    };
    for (size_t i = 0; i < sizeof closed / sizeof closed[0]; i++) {
        char id[UUID7_STRLEN + 1];
        snprintf(id, sizeof id, CASE_ID("%s"), closed[i].nn);
        put_case(f, &(struct case_spec){.id = id,
                                        .title = "回访",
                                        .status = "closed",
                                        .severity = closed[i].severity,
                                        .concluded_on = closed[i].concluded_on});
    }
    add_event(f, BAISHA, CASE_ID("15"), "2024-12-01", "followup", NULL);
}

static void test_select_lists(void **state)
{
    struct fixture *f = *state;
    make_lists(f);
    const struct casefile *cf = load(f, BAISHA, "2024-12-30");
    /* Overdue, the most overdue first. */
    assert_list(cf, CASEFILE_OVERDUE, NULL, 0, "03 01 02");
    /* Due within N days: today and day N included. */
    assert_list(cf, CASEFILE_DUE_SOON, NULL, 0, "04");
    assert_list(cf, CASEFILE_DUE_SOON, NULL, 3, "04 05");
    assert_list(cf, CASEFILE_DUE_SOON, NULL, 5, "04 05 06");
    assert_list(cf, CASEFILE_DUE_SOON, NULL, 10, "04 05 06");
    assert_list(cf, CASEFILE_DUE_SOON, NULL, 11, "04 05 06 07");
    assert_list(cf, CASEFILE_DUE_SOON, BAISHA, 11, "04 05 06 07");
    assert_list(cf, CASEFILE_DUE_SOON, YANGLIU, 11, "");
    size_t *list = NULL, n = 0;
    assert_int_equal(casefile_select(cf, CASEFILE_DUE_SOON, NULL, -1, &list, &n), RULES_E_ARG);
    assert_int_equal(casefile_select(NULL, CASEFILE_OVERDUE, NULL, 0, &list, &n), RULES_E_ARG);
    assert_int_equal(casefile_select(cf, (enum casefile_list)4, NULL, 0, &list, &n), RULES_E_ARG);
    /* Follow-ups: every one owed, or those due within N days and the
     * overdue ones; the visited one never. */
    assert_list(cf, CASEFILE_FOLLOWUPS, NULL, -1, "11 12 13 14");
    assert_list(cf, CASEFILE_FOLLOWUPS, NULL, 0, "11 12");
    assert_list(cf, CASEFILE_FOLLOWUPS, NULL, 15, "11 12");
    assert_list(cf, CASEFILE_FOLLOWUPS, NULL, 16, "11 12 13");
    assert_list(cf, CASEFILE_FOLLOWUPS, NULL, 31, "11 12 13");
    assert_list(cf, CASEFILE_FOLLOWUPS, NULL, 32, "11 12 13 14");
    /* A day later the visit due today is overdue, and still listed. */
    cf = load(f, BAISHA, "2024-12-31");
    assert_int_equal(find(cf, CASE_ID("12"))->followup_state, RULES_FOLLOWUP_OVERDUE);
    assert_list(cf, CASEFILE_FOLLOWUPS, NULL, 0, "11 12");
    assert_list(cf, CASEFILE_OVERDUE, NULL, 0, "03 01 02 04");
}

/* The member key of obj as a string, failing when it is not one. */
static const char *json_text(const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsString(item)) {
        fail_msg("member %s is not a string", key);
    }
    return item->valuestring;
}

static double json_number(const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(item)) {
        fail_msg("member %s is not a number", key);
    }
    return item->valuedouble;
}

/* The list as JSON, parsed; the caller deletes it. */
static cJSON *list_json(const struct casefile *cf, enum casefile_list which, int days)
{
    struct sink s = {0};
    assert_int_equal(casefile_write_list(cf, which, NULL, days, 1, NULL, sink_write, &s), 0);
    assert_non_null(s.data);
    assert_int_equal(s.data[s.len - 1], '\n');
    cJSON *array = cJSON_Parse(s.data);
    sink_reset(&s);
    assert_true(cJSON_IsArray(array));
    return array;
}

static void test_write_list_json(void **state)
{
    struct fixture *f = *state;
    make_lists(f);
    const struct casefile *cf = load(f, BAISHA, "2024-12-30");

    cJSON *array = list_json(cf, CASEFILE_OVERDUE, 0);
    assert_int_equal(cJSON_GetArraySize(array), 3);
    const cJSON *first = cJSON_GetArrayItem(array, 0);
    assert_string_equal(json_text(first, "id"), CASE_ID("03"));
    assert_string_equal(json_text(first, "village"), BAISHA);
    assert_string_equal(json_text(first, "case_no"), "（2024）白沙调字第A3-0003号");
    assert_string_equal(json_text(first, "title"), "案件03");
    assert_string_equal(json_text(first, "status"), "accepted");
    assert_string_equal(json_text(first, "due"), "2024-11-30");
    assert_string_equal(json_text(first, "state"), "overdue");
    assert_true(json_number(first, "days") == 30);
    assert_true(json_number(cJSON_GetArrayItem(array, 2), "days") == 1);
    cJSON_Delete(array);

    array = list_json(cf, CASEFILE_DUE_SOON, 11);
    assert_int_equal(cJSON_GetArraySize(array), 4);
    const cJSON *today = cJSON_GetArrayItem(array, 0);
    assert_string_equal(json_text(today, "due"), "2024-12-30");
    assert_string_equal(json_text(today, "state"), "due_soon");
    assert_true(json_number(today, "days") == 0);
    const cJSON *later = cJSON_GetArrayItem(array, 3);
    assert_string_equal(json_text(later, "id"), CASE_ID("07"));
    assert_string_equal(json_text(later, "due"), "2025-01-10");
    assert_string_equal(json_text(later, "state"), "on_time");
    assert_true(json_number(later, "days") == 11);
    cJSON_Delete(array);

    /* Follow-ups give the visit day; a case without a number gives null. */
    array = list_json(cf, CASEFILE_FOLLOWUPS, -1);
    assert_int_equal(cJSON_GetArraySize(array), 4);
    const cJSON *late = cJSON_GetArrayItem(array, 0);
    assert_string_equal(json_text(late, "id"), CASE_ID("11"));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(late, "case_no")));
    assert_string_equal(json_text(late, "status"), "concluded");
    assert_string_equal(json_text(late, "due"), "2024-11-30");
    assert_string_equal(json_text(late, "state"), "overdue");
    assert_true(json_number(late, "days") == 30);
    const cJSON *owed = cJSON_GetArrayItem(array, 2);
    assert_string_equal(json_text(owed, "due"), "2025-01-15");
    assert_string_equal(json_text(owed, "state"), "due");
    assert_true(json_number(owed, "days") == 16);
    cJSON_Delete(array);

    /* An empty list is an empty array. */
    cf = load(f, YANGLIU, "2024-12-30");
    array = list_json(cf, CASEFILE_OVERDUE, 0);
    assert_int_equal(cJSON_GetArraySize(array), 0);
    cJSON_Delete(array);
}

/* The list as text into s (reset first). */
static void list_text(const struct casefile *cf, enum casefile_list which, const char *village,
                      int days, const char *lang, struct sink *s)
{
    sink_reset(s);
    assert_int_equal(casefile_write_list(cf, which, village, days, 0, lang, sink_write, s), 0);
    assert_non_null(s->data);
}

static void assert_contains(const char *text, const char *needle)
{
    if (!strstr(text, needle)) {
        fail_msg("\"%s\" not in:\n%s", needle, text);
    }
}

static void test_write_list_text(void **state)
{
    struct fixture *f = *state;
    struct sink s = {0};
    /* Empty lists say so, in either language. */
    const struct casefile *cf = load(f, NULL, "2024-12-30");
    list_text(cf, CASEFILE_OVERDUE, NULL, 0, "en", &s);
    assert_string_equal(s.data, "no case is overdue\n");
    list_text(cf, CASEFILE_OVERDUE, NULL, 0, "zh", &s);
    assert_string_equal(s.data, "没有逾期的案件\n");
    list_text(cf, CASEFILE_DUE_SOON, NULL, 7, NULL, &s);
    assert_string_equal(s.data, "no deadline in the coming days\n");
    list_text(cf, CASEFILE_DUE_SOON, NULL, 7, "zh-CN", &s);
    assert_string_equal(s.data, "近期没有到期的案件\n");
    list_text(cf, CASEFILE_FOLLOWUPS, NULL, -1, "en", &s);
    assert_string_equal(s.data, "no follow-up visit is owed\n");
    list_text(cf, CASEFILE_FOLLOWUPS, NULL, -1, "zh", &s);
    assert_string_equal(s.data, "没有待回访的案件\n");
    /* A list that does not exist has no words either. */
    sink_reset(&s);
    assert_int_equal(
        casefile_write_list(cf, (enum casefile_list)4, NULL, 0, 0, "en", sink_write, &s),
        RULES_E_ARG);
    assert_null(s.data);

    make_lists(f);
    cf = load(f, BAISHA, "2024-12-30");
    list_text(cf, CASEFILE_OVERDUE, NULL, 0, "en", &s);
    /* One line per case, the most overdue first, with the village. */
    const char *first = strstr(s.data, "（2024）白沙调字第A3-0003号");
    const char *second = strstr(s.data, "（2024）白沙调字第A3-0001号");
    assert_non_null(first);
    assert_non_null(second);
    assert_true(first < second);
    assert_contains(s.data, "30 days overdue");
    assert_contains(s.data, "2024-11-30");
    assert_contains(s.data, "案件03");
    assert_contains(s.data, BAISHA);
    size_t lines = 0;
    for (const char *p = s.data; (p = strchr(p, '\n')) != NULL; p++) {
        lines++;
    }
    assert_int_equal(lines, 3);
    list_text(cf, CASEFILE_OVERDUE, BAISHA, 0, "zh", &s);
    assert_contains(s.data, "逾期30天");
    assert_contains(s.data, "受理");
    assert_null(strstr(s.data, BAISHA)); /* one village: not repeated */
    list_text(cf, CASEFILE_DUE_SOON, NULL, 3, "en", &s);
    assert_contains(s.data, "due today");
    assert_contains(s.data, "3 days left");
    list_text(cf, CASEFILE_DUE_SOON, NULL, 3, "zh", &s);
    assert_contains(s.data, "今天到期");
    assert_contains(s.data, "还有3天");
    /* A case without a number is shown by its id. */
    list_text(cf, CASEFILE_FOLLOWUPS, NULL, 0, "en", &s);
    assert_contains(s.data, CASE_ID("11"));
    assert_contains(s.data, "30 days overdue");
    assert_contains(s.data, "visit by 2024-11-30");
    list_text(cf, CASEFILE_FOLLOWUPS, NULL, 0, "zh", &s);
    assert_contains(s.data, "回访期限 2024-11-30");

    /* The first refusal of the sink is returned. */
    sink_reset(&s);
    s.fail_rc = 42;
    assert_int_equal(casefile_write_list(cf, CASEFILE_OVERDUE, NULL, 0, 0, "en", sink_write, &s),
                     42);
    assert_int_equal(casefile_write_list(cf, CASEFILE_OVERDUE, NULL, 0, 1, "en", sink_write, &s),
                     42);
    assert_int_equal(casefile_write_list(cf, CASEFILE_DUE_SOON, NULL, -1, 0, "en", sink_write, &s),
                     RULES_E_ARG);
    assert_int_equal(casefile_write_list(cf, CASEFILE_OVERDUE, NULL, 0, 0, "en", NULL, &s),
                     RULES_E_ARG);
    sink_reset(&s);
}

/* ---- the township's requests for a correction ---- */

/* Text fields of a case, written as the hub and the laptop write them;
 * pairs of column and value (NULL: cleared), ended by NULL. */
static void put_fields(struct fixture *f, const char *id, const char *village, ...)
{
    const char *columns[8];
    struct sync_value values[8];
    size_t n = 0;
    va_list ap;
    va_start(ap, village);
    const char *column;
    while ((column = va_arg(ap, const char *)) != NULL) {
        const char *value = va_arg(ap, const char *);
        assert_true(n < 8);
        columns[n] = column;
        values[n++] = value ? (struct sync_value){.type = SYNC_TEXT, .s = value}
                            : (struct sync_value){.type = SYNC_NULL};
    }
    va_end(ap);
    int rc = replica_put(f->replica, "cases", id, village, n, columns, values, NULL);
    if (rc != 0) {
        fail_msg("replica_put %s: %s", id, sync_strerror(rc));
    }
}

static void make_corrections(struct fixture *f)
{
    /* Asked on three days, one of them answered the same day, one answered
     * before a later request (so not answered), one not at all. */
    put_case(f, &(struct case_spec){.id = CASE_ID("21"),
                                    .case_no = "（2024）白沙调字第A3-0021号",
                                    .title = "案件21",
                                    .status = "mediating"});
    put_fields(f, CASE_ID("21"), BAISHA, "correction", "当事人身份证号有误\n请核对",
               "correction_on", "2024-12-20", NULL);
    put_case(f, &(struct case_spec){.id = CASE_ID("22"), .title = "案件22", .status = "closed"});
    put_fields(f, CASE_ID("22"), BAISHA, "correction", "补充调解笔录", "correction_on",
               "2024-12-28", "correction_reply", "已补充", "correction_reply_on", "2024-12-28",
               NULL);
    put_case(f, &(struct case_spec){.id = CASE_ID("23"), .title = "案件23", .status = "accepted"});
    put_fields(f, CASE_ID("23"), BAISHA, "correction", "再次核对金额", "correction_on",
               "2024-12-29", "correction_reply", "第一次的答复", "correction_reply_on",
               "2024-12-27", NULL);
    /* Cleared by the township: the answer stays, the case leaves the list. */
    put_case(f, &(struct case_spec){.id = CASE_ID("24"), .title = "案件24", .status = "accepted"});
    put_fields(f, CASE_ID("24"), BAISHA, "correction", NULL, "correction_on", NULL,
               "correction_reply", "已改", "correction_reply_on", "2024-12-01", NULL);
    /* An empty request asks for nothing. */
    put_case(f, &(struct case_spec){.id = CASE_ID("25"), .title = "案件25", .status = "accepted"});
    put_fields(f, CASE_ID("25"), BAISHA, "correction", "", NULL);
    /* Another village's request, and a deleted case's. */
    put_case(f, &(struct case_spec){.id = CASE_ID("26"), .village = YANGLIU, .status = "accepted"});
    put_fields(f, CASE_ID("26"), YANGLIU, "correction", "杨柳的", "correction_on", "2024-12-30",
               NULL);
    put_case(f, &(struct case_spec){.id = CASE_ID("27"), .status = "accepted"});
    put_fields(f, CASE_ID("27"), BAISHA, "correction", "已删除的", "correction_on", "2024-12-01",
               NULL);
    assert_int_equal(replica_delete(f->replica, "cases", CASE_ID("27")), 0);
}

static void test_corrections_list(void **state)
{
    struct fixture *f = *state;
    make_corrections(f);
    const struct casefile *cf = load(f, NULL, "2024-12-30");
    const struct casefile_case *c = find(cf, CASE_ID("21"));
    assert_string_equal(c->correction, "当事人身份证号有误\n请核对");
    assert_day(c->correction_on, "2024-12-20");
    assert_null(c->correction_reply);
    assert_day(c->correction_reply_on, NULL);
    assert_false(c->correction_answered);
    c = find(cf, CASE_ID("22"));
    assert_string_equal(c->correction_reply, "已补充");
    assert_true(c->correction_answered); /* the same day counts */
    assert_false(find(cf, CASE_ID("23"))->correction_answered);
    c = find(cf, CASE_ID("24"));
    assert_null(c->correction);
    assert_string_equal(c->correction_reply, "已改");
    assert_null(find(cf, CASE_ID("25"))->correction);

    /* Oldest request first; every village, or one; days ignored. */
    assert_list(cf, CASEFILE_CORRECTIONS, NULL, -1, "21 22 23 26");
    assert_list(cf, CASEFILE_CORRECTIONS, BAISHA, 0, "21 22 23");
    assert_list(cf, CASEFILE_CORRECTIONS, YANGLIU, 7, "26");

    cJSON *array = list_json(cf, CASEFILE_CORRECTIONS, 0);
    assert_int_equal(cJSON_GetArraySize(array), 4);
    const cJSON *first = cJSON_GetArrayItem(array, 0);
    assert_string_equal(json_text(first, "id"), CASE_ID("21"));
    assert_string_equal(json_text(first, "status"), "mediating");
    assert_string_equal(json_text(first, "due"), "2024-12-20");
    assert_string_equal(json_text(first, "state"), "asked");
    assert_true(json_number(first, "days") == 10);
    assert_string_equal(json_text(first, "correction"), "当事人身份证号有误\n请核对");
    assert_string_equal(json_text(first, "correction_on"), "2024-12-20");
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(first, "correction_reply")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(first, "correction_reply_on")));
    const cJSON *answered = cJSON_GetArrayItem(array, 1);
    assert_string_equal(json_text(answered, "state"), "answered");
    assert_string_equal(json_text(answered, "correction_reply"), "已补充");
    assert_string_equal(json_text(answered, "correction_reply_on"), "2024-12-28");
    assert_true(json_number(answered, "days") == 2);
    assert_string_equal(json_text(cJSON_GetArrayItem(array, 2), "state"), "asked");
    cJSON_Delete(array);

    struct sink s = {0};
    list_text(cf, CASEFILE_CORRECTIONS, BAISHA, 0, "en", &s);
    assert_contains(s.data, "（2024）白沙调字第A3-0021号  asked 10 days ago  asked on 2024-12-20");
    assert_contains(s.data, "    township: 当事人身份证号有误\n请核对\n    not answered yet\n");
    assert_contains(s.data, "    township: 补充调解笔录\n    answer (2024-12-28): 已补充\n");
    /* An answer older than the request is not shown as its answer. */
    assert_null(strstr(s.data, "第一次的答复"));
    assert_null(strstr(s.data, "已改"));
    assert_null(strstr(s.data, BAISHA));
    list_text(cf, CASEFILE_CORRECTIONS, NULL, 0, "zh", &s);
    assert_contains(s.data, "10天前提出  要求更正 2024-12-20");
    assert_contains(s.data, "    镇里：补充调解笔录\n    村里答复（2024-12-28）：已补充\n");
    assert_contains(s.data, "村里尚未答复");
    assert_contains(s.data, "今天提出");
    assert_contains(s.data, YANGLIU);
    /* A request of 1000 characters is shown whole. */
    char long_text[3 * 1000 + 1];
    for (size_t i = 0; i < 1000; i++) {
        memcpy(long_text + 3 * i, "改", 3);
    }
    long_text[3 * 1000] = '\0';
    put_fields(f, CASE_ID("21"), BAISHA, "correction", long_text, NULL);
    cf = load(f, BAISHA, "2024-12-30");
    list_text(cf, CASEFILE_CORRECTIONS, NULL, 0, "zh", &s);
    assert_contains(s.data, long_text);
    sink_reset(&s);

    /* Nothing asked: the list says so. */
    put_fields(f, CASE_ID("26"), YANGLIU, "correction", NULL, "correction_on", NULL, NULL);
    cf = load(f, YANGLIU, "2024-12-30");
    assert_list(cf, CASEFILE_CORRECTIONS, NULL, 0, "");
    list_text(cf, CASEFILE_CORRECTIONS, NULL, 0, "en", &s);
    assert_string_equal(s.data, "the township asks no correction\n");
    list_text(cf, CASEFILE_CORRECTIONS, NULL, 0, "zh", &s);
    assert_string_equal(s.data, "没有镇里要求更正的案件\n");
    sink_reset(&s);
}

/* ---- the figures ---- */

static void test_figures_over_the_facts(void **state)
{
    struct fixture *f = *state;
    /* February 2024 in baisha, seen on 2024-03-10. */
    put_case(f, &(struct case_spec){.id = CASE_ID("81"), /* mediated to an agreement */
                                    .kind = "dispute",
                                    .channel = "visit",
                                    .category = "land",
                                    .severity = 1,
                                    .status = "closed",
                                    .created_at = "2024-02-01T09:00:00+08:00",
                                    .concluded_on = "2024-02-20",
                                    .opinion = "satisfied"});
    add_event(f, BAISHA, CASE_ID("81"), "2024-02-10", "session", NULL);
    add_agreement(f, "0190f5a2-7b3c-7d4e-a000-000000000081", CASE_ID("81"),
                  "2024-02-15T10:00:00+08:00");
    add_event(f, BAISHA, CASE_ID("81"), "2024-03-05", "followup", NULL);
    put_case(f, &(struct case_spec){.id = CASE_ID("82"), /* received on Feb 1st in China */
                                    .kind = "dispute",
                                    .channel = "call",
                                    .category = "debt",
                                    .status = "failed",
                                    .created_at = "2024-01-31T16:30:00Z",
                                    .opinion = "not_satisfied"});
    put_case(f, &(struct case_spec){.id = CASE_ID("83"), /* a petition never accepted */
                                    .kind = "petition",
                                    .channel = "letter",
                                    .category = "veterans",
                                    .status = "registered",
                                    .created_at = "2024-02-05T10:00:00+08:00"});
    put_case(f, &(struct case_spec){.id = CASE_ID("84"), /* the reference data: no kind */
                                    .category = "pensions",
                                    .status = "registered",
                                    .created_at = "2024-02-29T23:59:59+08:00"});
    put_case(f, &(struct case_spec){.id = CASE_ID("85"), /* concluded in January, visited */
                                    .kind = "dispute",
                                    .severity = 1,
                                    .status = "closed",
                                    .created_at = "2024-01-10T09:00:00+08:00",
                                    .updated_at = "2024-02-27T18:00:00+08:00"});
    add_event(f, BAISHA, CASE_ID("85"), "2024-01-31", "session", NULL);
    add_event(f, BAISHA, CASE_ID("85"), "2024-02-27", "followup", NULL);
    put_case(f, &(struct case_spec){.id = CASE_ID("86"), /* concluded in January, not visited */
                                    .kind = "dispute",
                                    .severity = 1,
                                    .status = "closed",
                                    .created_at = "2024-01-02T09:00:00+08:00",
                                    .concluded_on = "2024-01-15"});
    put_case(f, &(struct case_spec){.id = CASE_ID("87"), /* concluded after its deadline */
                                    .kind = "dispute",
                                    .severity = 3,
                                    .status = "closed",
                                    .created_at = "2024-02-03T09:00:00+08:00",
                                    .deadline = "2024-02-10",
                                    .concluded_on = "2024-02-12"});
    put_case(f, &(struct case_spec){.id = CASE_ID("88"), /* another village */
                                    .village = YANGLIU,
                                    .kind = "dispute",
                                    .status = "mediating",
                                    .created_at = "2024-02-10T09:00:00+08:00"});
    put_case(f, &(struct case_spec){.id = CASE_ID("89"), /* deleted */
                                    .kind = "dispute",
                                    .status = "registered",
                                    .created_at = "2024-02-10T09:00:00+08:00"});
    assert_int_equal(replica_delete(f->replica, "cases", CASE_ID("89")), 0);

    const struct casefile *cf = load(f, NULL, "2024-03-10");
    assert_int_equal(cf->n, 8);
    assert_day(facts_of(cf, find(cf, CASE_ID("85")))->concluded, "2024-01-31");
    struct rules_period feb;
    assert_int_equal(rules_period_month(2024, 2, &feb), 0);
    struct rules_figures fig;
    assert_int_equal(
        rules_figures_compute(cf->facts, cf->n, &feb, BAISHA, &cf->config, cf->today, &fig), 0);
    assert_day(fig.as_of, "2024-02-29");
    assert_int_equal(fig.received, 5);
    assert_int_equal(fig.received_by_kind[RULES_KIND_DISPUTE], 3);
    assert_int_equal(fig.received_by_kind[RULES_KIND_PETITION], 1);
    assert_int_equal(fig.received_by_kind[RULES_KIND_NONE], 1);
    assert_int_equal(fig.received_by_channel[RULES_CHANNEL_VISIT], 1);
    assert_int_equal(fig.received_by_channel[RULES_CHANNEL_CALL], 1);
    assert_int_equal(fig.received_by_channel[RULES_CHANNEL_LETTER], 1);
    assert_int_equal(fig.received_by_channel[RULES_CHANNEL_NONE], 2);
    int land = rules_category_find(&cf->config, "land");
    int debt = rules_category_find(&cf->config, "debt");
    int veterans = rules_category_find(&cf->config, "veterans");
    assert_true(land >= 0 && debt >= 0 && veterans >= 0);
    assert_int_equal(fig.received_by_category[land], 1);
    assert_int_equal(fig.received_by_category[debt], 1);
    assert_int_equal(fig.received_by_category[veterans], 1);
    assert_int_equal(fig.received_unlisted_category, 2);
    assert_int_equal(fig.concluded, 2);
    assert_int_equal(fig.participation.num, 2);
    assert_int_equal(fig.participation.den, 4);
    assert_int_equal(fig.success.num, 1);
    assert_int_equal(fig.success.den, 2);
    assert_int_equal(fig.satisfaction.num, 1);
    assert_int_equal(fig.satisfaction.den, 2);
    assert_int_equal(fig.overdue, 2);
    assert_int_equal(fig.overdue_open, 1);
    assert_int_equal(fig.followups_due, 2);
    assert_int_equal(fig.followups_done, 1);
    assert_int_equal(fig.followups_overdue, 1);

    /* Every village: yangliu's mediated dispute joins. */
    assert_int_equal(
        rules_figures_compute(cf->facts, cf->n, &feb, NULL, &cf->config, cf->today, &fig), 0);
    assert_int_equal(fig.received, 6);
    assert_int_equal(fig.participation.num, 3);
    assert_int_equal(fig.participation.den, 5);

    /* A village's own load gives the same figures. */
    cf = load(f, BAISHA, "2024-03-10");
    assert_int_equal(cf->n, 7);
    assert_int_equal(
        rules_figures_compute(cf->facts, cf->n, &feb, NULL, &cf->config, cf->today, &fig), 0);
    assert_int_equal(fig.received, 5);
    assert_int_equal(fig.overdue, 2);
    assert_int_equal(fig.followups_due, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_received_is_the_china_day, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concluded_day, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mediation_facts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_followup_done, setup, teardown),
        cmocka_unit_test_setup_teardown(test_petition_deadlines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_due_states, setup, teardown),
        cmocka_unit_test_setup_teardown(test_followup_due_by_severity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deleted_and_unknown_cases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_village_filter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_refuses_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_select_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_list_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_list_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrections_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_figures_over_the_facts, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
