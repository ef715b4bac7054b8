/* SPDX-License-Identifier: MIT */
/*
 * review.c - the township's side of the ledger's rules (review.h).
 */
#include "review.h"

#include "hlc.h"
#include "hub_error.h"
#include "replica.h"
#include "report.h"
#include "sync_error.h"
#include "township_rules.h"
#include "workflow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A workflow of the hub: today and now by the hub's clock, China time. */
static void hub_workflow(struct replica *replica, const struct rules_config *rules,
                         struct workflow *w, char *now, size_t now_len)
{
    int64_t ms = hlc_wall(replica_clock(replica));
    time_t t = (time_t)((ms + 8LL * 3600 * 1000) / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(now, now_len, "%Y-%m-%dT%H:%M:%S+08:00", &tm);
    memset(w, 0, sizeof *w);
    w->replica = replica;
    w->config = rules;
    (void)rules_today(ms, &w->today);
    w->now = now;
    w->lang = "en";
    w->who = "township hub";
}

/* ---- the villages ---- */

struct village {
    char *code, *name;
};

struct villages {
    struct village *list;
    size_t n;
    int failed;
};

static int add_village(void *ctx, const char *code, const char *name, int64_t devices,
                       int64_t cases)
{
    (void)devices;
    (void)cases;
    struct villages *v = ctx;
    struct village *grown = realloc(v->list, (v->n + 1) * sizeof *grown);
    if (!grown) {
        v->failed = 1;
        return HUB_E_NOMEM;
    }
    v->list = grown;
    v->list[v->n].code = strdup(code);
    v->list[v->n].name = name ? strdup(name) : NULL;
    v->failed |= !v->list[v->n].code || (name && !v->list[v->n].name);
    v->n++;
    return v->failed ? HUB_E_NOMEM : 0;
}

static void villages_free(struct villages *v)
{
    for (size_t i = 0; i < v->n; i++) {
        free(v->list[i].code);
        free(v->list[i].name);
    }
    free(v->list);
}

static int villages_load(struct store *store, struct villages *v)
{
    memset(v, 0, sizeof *v);
    int rc = store_village_list(store, add_village, v);
    return rc != 0 ? rc : v->failed ? HUB_E_NOMEM : 0;
}

/* ---- rules ---- */

struct publish {
    const struct rules_config *rules;
    struct villages villages;
    int changed;
};

static int publish_in(struct replica *replica, void *ctx)
{
    struct publish *p = ctx;
    struct workflow w;
    char now[40];
    hub_workflow(replica, p->rules, &w, now, sizeof now);
    int rc = replica_begin(replica);
    for (size_t i = 0; rc == 0 && i < p->villages.n; i++) {
        int changed = 0;
        rc = township_rules_store(replica, p->villages.list[i].code, p->rules, now, &changed);
        p->changed += changed;
    }
    if (rc == 0) {
        return replica_commit(replica);
    }
    replica_rollback(replica);
    return rc;
}

int review_publish_rules(struct store *store, const struct rules_config *rules, int *changed)
{
    struct publish p = {.rules = rules};
    int rc = villages_load(store, &p.villages);
    if (rc == 0) {
        rc = store_with_ledger(store, publish_in, &p);
    }
    villages_free(&p.villages);
    if (changed) {
        *changed = p.changed;
    }
    return rc;
}

/* ---- deadlines ---- */

struct deadline {
    const struct rules_config *rules;
    const char *case_id, *note;
    struct rules_date date;
    char *why;
    size_t why_len;
};

static int deadline_in(struct replica *replica, void *ctx)
{
    struct deadline *d = ctx;
    struct workflow w;
    char now[40];
    hub_workflow(replica, d->rules, &w, now, sizeof now);
    int rc = workflow_deadline(&w, d->case_id, d->date, d->note);
    if (rc != 0) {
        snprintf(d->why, d->why_len, "%s", w.why);
    }
    return rc;
}

int review_deadline(struct store *store, const struct rules_config *rules, const char *case_id,
                    struct rules_date date, const char *note, char *why, size_t why_len)
{
    struct deadline d = {rules, case_id, note, date, why, why_len};
    return store_with_ledger(store, deadline_in, &d);
}

/* ---- levels, mediators, corrections ---- */

enum action_kind { ACTION_LEVEL, ACTION_MEDIATOR, ACTION_CORRECTION };

struct action {
    enum action_kind kind;
    const struct rules_config *rules;
    const char *case_id, *text, *id, *who;
    int level;
    char *why;
    size_t why_len;
};

static int action_in(struct replica *replica, void *ctx)
{
    struct action *a = ctx;
    struct workflow w;
    char now[40];
    hub_workflow(replica, a->rules, &w, now, sizeof now);
    if (a->who && a->who[0]) {
        w.who = a->who;
    }
    int rc = a->kind == ACTION_LEVEL      ? workflow_level(&w, a->case_id, a->level, NULL)
             : a->kind == ACTION_MEDIATOR ? workflow_mediator(&w, a->case_id, a->text, a->id, NULL)
                                          : workflow_correction(&w, a->case_id, a->text);
    if (rc != 0 && a->why && a->why_len) {
        snprintf(a->why, a->why_len, "%s", w.why);
    }
    return rc;
}

int review_level(struct store *store, const struct rules_config *rules, const char *case_id,
                 int level, const char *who, char *why, size_t why_len)
{
    struct action a = {ACTION_LEVEL, rules, case_id, NULL, NULL, who, level, why, why_len};
    return store_with_ledger(store, action_in, &a);
}

int review_mediator(struct store *store, const struct rules_config *rules, const char *case_id,
                    const char *name, const char *id, const char *who, char *why, size_t why_len)
{
    struct action a = {ACTION_MEDIATOR, rules, case_id, name, id, who, 0, why, why_len};
    return store_with_ledger(store, action_in, &a);
}

int review_correction(struct store *store, const struct rules_config *rules, const char *case_id,
                      const char *comment, const char *who, char *why, size_t why_len)
{
    struct action a = {ACTION_CORRECTION, rules, case_id, comment, NULL, who, 0, why, why_len};
    return store_with_ledger(store, action_in, &a);
}

/* ---- lists and report ---- */

struct reading {
    const struct rules_config *rules;
    const char *village;
    struct casefile *cf;
};

static int load_in(struct replica *replica, void *ctx)
{
    struct reading *r = ctx;
    struct workflow w;
    char now[40];
    hub_workflow(replica, r->rules, &w, now, sizeof now);
    return casefile_load(replica, r->village, r->rules, w.today, &r->cf);
}

int review_list(struct store *store, const struct rules_config *rules, enum casefile_list which,
                const char *village, int days, int json, const char *lang, ledger_io_write_fn write,
                void *ctx)
{
    struct reading r = {rules, village, NULL};
    int rc = store_with_ledger(store, load_in, &r);
    if (rc == 0) {
        rc = casefile_write_list(r.cf, which, village, days, json, lang, write, ctx);
    }
    casefile_free(r.cf);
    return rc;
}

int review_report(struct store *store, const struct rules_config *rules,
                  const struct rules_period *period, const char *village, enum review_format format,
                  const char *lang, ledger_io_write_fn write, void *ctx)
{
    struct villages v;
    struct reading r = {rules, NULL, NULL};
    struct report_row *rows = NULL, total = {0};
    size_t nrows = 0;
    int rc = villages_load(store, &v);
    if (rc == 0) {
        rc = store_with_ledger(store, load_in, &r);
    }
    if (rc == 0 && !(rows = calloc(v.n ? v.n : 1, sizeof *rows))) {
        rc = HUB_E_NOMEM;
    }
    for (size_t i = 0; rc == 0 && i < v.n; i++) {
        if (village && strcmp(village, v.list[i].code) != 0) {
            continue;
        }
        rows[nrows].village = v.list[i].code;
        rows[nrows].name = v.list[i].name;
        rc = rules_figures_compute(r.cf->facts, r.cf->n, period, v.list[i].code, rules, r.cf->today,
                                   &rows[nrows].figures);
        nrows++;
    }
    if (rc == 0 && village && nrows == 0) {
        rc = HUB_E_NOT_FOUND;
    }
    if (rc == 0 && !village) {
        rc = rules_figures_compute(r.cf->facts, r.cf->n, period, NULL, rules, r.cf->today,
                                   &total.figures);
    }
    if (rc == 0) {
        struct report rep = {.config = rules,
                             .today = r.cf->today,
                             .rows = rows,
                             .nrows = nrows,
                             .total = village ? NULL : &total,
                             .lang = lang};
        rc = format == REVIEW_CSV    ? report_write_csv(&rep, write, ctx)
             : format == REVIEW_JSON ? report_write_json(&rep, write, ctx)
                                     : report_write_table(&rep, write, ctx);
    }
    free(rows);
    casefile_free(r.cf);
    villages_free(&v);
    return rc;
}

/* ---- reveals ---- */

struct reveal {
    struct villages villages;
    const char *village, *what, *who;
};

static int reveal_in(struct replica *replica, void *ctx)
{
    struct reveal *r = ctx;
    struct workflow w;
    struct rules_config rules;
    char now[40];
    rules_config_default(&rules);
    hub_workflow(replica, &rules, &w, now, sizeof now);
    w.who = r->who;
    int rc = replica_begin(replica);
    for (size_t i = 0; rc == 0 && i < r->villages.n; i++) {
        if (!r->village || !strcmp(r->village, r->villages.list[i].code)) {
            rc = workflow_reveal(&w, r->villages.list[i].code, NULL, r->what);
        }
    }
    if (rc == 0) {
        return replica_commit(replica);
    }
    replica_rollback(replica);
    return rc;
}

int review_reveal(struct store *store, const char *village, const char *what, const char *who)
{
    struct reveal r = {.village = village, .what = what, .who = who};
    int rc = villages_load(store, &r.villages);
    if (rc == 0) {
        rc = store_with_ledger(store, reveal_in, &r);
    }
    villages_free(&r.villages);
    return rc;
}

struct case_reveal {
    const struct rules_config *rules;
    const char *case_id, *who;
};

static int case_reveal_in(struct replica *replica, void *ctx)
{
    struct case_reveal *r = ctx;
    struct workflow w;
    char now[40];
    hub_workflow(replica, r->rules, &w, now, sizeof now);
    if (r->who && r->who[0]) {
        w.who = r->who;
    }
    return workflow_reveal(&w, NULL, r->case_id, "case page");
}

int review_reveal_case(struct store *store, const struct rules_config *rules, const char *case_id,
                       const char *who)
{
    struct case_reveal r = {rules, case_id, who};
    return store_with_ledger(store, case_reveal_in, &r);
}
