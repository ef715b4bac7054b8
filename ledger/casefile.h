/* SPDX-License-Identifier: MIT */
/*
 * casefile.h - the ledger's cases as the rules see them.
 *
 * The rules (rules.h) are pure functions of facts; this module reads those
 * facts out of a ledger replica (the laptop's file or the hub's merged
 * ledger) and hands back, for every case, its deadline and how it stands
 * today, its follow-up visit, and the facts the township figures count.
 * The lists of the command lines (overdue, due soon, follow-ups) and the
 * figures of the reports are built on it, so that the laptop, offline, and
 * the hub see the same thing. RULES.md, "From the ledger to the facts",
 * says how each fact is read, including from records imported from the
 * reference data, which carry only a status and events.
 */
#ifndef HAMLET_CASEFILE_H
#define HAMLET_CASEFILE_H

#include "ledger_io.h"
#include "rules.h"
#include "uuid7.h"

#include <stddef.h>
#include <stdint.h>

struct replica;

/* One case. Strings are owned by the casefile; NULL when unknown. */
struct casefile_case {
    char id[UUID7_STRLEN + 1];
    char *village, *case_no, *title, *category, *status_text;
    enum rules_kind kind;
    enum rules_status status;
    int severity, level; /* 0 when unknown */
    struct rules_date received, accepted, concluded, deadline, result_notice;
    int extension_days;
    int agreements, agreements_signed;        /* agreement records of the case */
    struct rules_petition_deadlines petition; /* petitions only */
    struct rules_date due;                    /* governs now (rules_case_due), or NONE */
    enum rules_due_state due_state;           /* of due, today */
    int64_t due_days;                         /* days left, or days overdue */
    struct rules_date followup_due;           /* set once concluded with a severity */
    enum rules_followup_state followup_state; /* of followup_due, today */
    char *correction;       /* the township's request for a correction; NULL: none asked */
    char *correction_reply; /* the village's answer, or NULL */
    struct rules_date correction_on, correction_reply_on; /* the days asked and answered */
    int correction_answered; /* an answer stands from the day of the request or later */
};

struct casefile {
    struct casefile_case *cases;    /* in order of id */
    struct rules_case_facts *facts; /* facts[i] is cases[i], for rules_figures_compute() */
    size_t n;
    struct rules_date today;
    struct rules_config config;
};

/* casefile_load(replica, village, config, today, out): every case of the
 * village (NULL: every village) that is not deleted, with its events and
 * agreements read into facts, as of today. *out is freed with
 * casefile_free(). Returns 0, RULES_E_ARG (NULL, today invalid, config out
 * of range), SYNC_E_NOMEM or SYNC_E_DB. */
int casefile_load(struct replica *replica, const char *village, const struct rules_config *config,
                  struct rules_date today, struct casefile **out);

/* casefile_free(cf): accepts NULL. */
void casefile_free(struct casefile *cf);

/* casefile_find(cf, id): the case with that id, or NULL. Borrowed. */
const struct casefile_case *casefile_find(const struct casefile *cf, const char *id);

/* The lists. */
enum casefile_list {
    CASEFILE_OVERDUE,     /* open cases past their deadline, most overdue first */
    CASEFILE_DUE_SOON,    /* open cases whose deadline is today or in the next days */
    CASEFILE_FOLLOWUPS,   /* follow-up visits owed: overdue ones, then those due within days */
    CASEFILE_CORRECTIONS, /* cases the township asked to correct and has not cleared, oldest
                             request first, answered or not */
};

/* casefile_select(cf, which, village, days, out, nout): the indexes into
 * cf->cases of the list's cases (of village, NULL: all), in the list's
 * order. days: the horizon of CASEFILE_DUE_SOON (today to today + days)
 * and CASEFILE_FOLLOWUPS (due by today + days; negative: every visit
 * owed); CASEFILE_CORRECTIONS ignores it. *out is malloc'd (free() it; NULL when *nout is 0).
 * Returns 0, RULES_E_ARG or SYNC_E_NOMEM. */
int casefile_select(const struct casefile *cf, enum casefile_list which, const char *village,
                    int days, size_t **out, size_t *nout);

/* casefile_write_list(cf, which, village, days, json, lang, write, ctx):
 * the list for people, one line per case with its number, days overdue or
 * left, the date, status and title (and village when village is NULL);
 * "nothing" in words when empty. With json, one JSON array of objects {id,
 * village, case_no, title, status, due, state, days} instead (state:
 * "overdue", "due_soon", "on_time", "due", "done"; the follow-up list
 * gives its visit day as due). The corrections list shows under each line
 * the township's request and the village's answer; its JSON gives the day
 * of the request as due, the days since then, state "asked" or "answered",
 * and correction, correction_on, correction_reply and correction_reply_on
 * (null when not set). Returns 0, an error of casefile_select(),
 * SYNC_E_NOMEM, or the first non-zero value write returned. */
int casefile_write_list(const struct casefile *cf, enum casefile_list which, const char *village,
                        int days, int json, const char *lang, ledger_io_write_fn write, void *ctx);

#endif
