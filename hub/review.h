/* SPDX-License-Identifier: MIT */
/*
 * review.h - the township's side of the ledger's rules: its rules sent to
 * the villages, the deadlines, levels, mediators and requests for
 * correction it sets on cases, the lists of what is overdue or due,
 * the figures of its reports, and the reveals of personal numbers it
 * makes. Everything goes through the store's merged ledger
 * (store_with_ledger()) and the ledger's modules, so that the hub computes
 * exactly what the laptops compute offline.
 */
#ifndef HAMLET_REVIEW_H
#define HAMLET_REVIEW_H

#include "casefile.h"
#include "ledger_io.h"
#include "rules.h"
#include "store.h"
#include "workflow.h"

/* review_publish_rules(store, rules, changed): write the township's rules
 * into every village's township_rules record (unchanged ones are left
 * alone); *changed (may be NULL) counts the villages whose record changed.
 * They reach each village at its next sync. Returns 0 or an error code. */
int review_publish_rules(struct store *store, const struct rules_config *rules, int *changed);

/* review_deadline(store, rules, case_id, date, note, why, why_len): set
 * (RULES_DATE_NONE: lift) the township's deadline on a case, recorded as
 * an event of the case. Returns 0 or an error with the reason in why. */
int review_deadline(struct store *store, const struct rules_config *rules, const char *case_id,
                    struct rules_date date, const char *note, char *why, size_t why_len);

/* The township's actions on a case (ledger/workflow.h, RULES.md "The
 * township's actions"). Each is recorded as an event of the case naming
 * who (the reviewer's account name; NULL: "township hub"), and reaches the
 * village at its next sync. Each returns 0, or an error (RULES_E_* for a
 * value the rules refuse, SYNC_E_NOT_FOUND for no such case, or another
 * code) with the reason, naming what is allowed, in why; nothing is
 * written then. why_len of WORKFLOW_WHY holds every reason whole. */

/* review_level(store, rules, case_id, level, who, why, why_len): set the
 * responsibility level, 1 to 7, up or down (not the level it holds). */
int review_level(struct store *store, const struct rules_config *rules, const char *case_id,
                 int level, const char *who, char *why, size_t why_len);

/* review_mediator(store, rules, case_id, name, id, who, why, why_len):
 * assign a mediator by name (at most WORKFLOW_MEDIATOR_NAME_MAX
 * characters) and, optionally, id (NULL: none; at most
 * WORKFLOW_MEDIATOR_ID_MAX characters). */
int review_mediator(struct store *store, const struct rules_config *rules, const char *case_id,
                    const char *name, const char *id, const char *who, char *why, size_t why_len);

/* review_correction(store, rules, case_id, comment, who, why, why_len):
 * mark the case "needs correction" with comment (at most
 * WORKFLOW_CORRECTION_MAX characters; line breaks allowed), or clear the
 * request with comment NULL (refused when none is asked). The village's
 * answer shows in review_list(CASEFILE_CORRECTIONS) after its sync. */
int review_correction(struct store *store, const struct rules_config *rules, const char *case_id,
                      const char *comment, const char *who, char *why, size_t why_len);

/* review_list(store, rules, which, village, days, json, lang, write, ctx):
 * a list of casefile.h for one village (NULL: all, each line naming its
 * village), as of today. Returns 0 or an error code. */
int review_list(struct store *store, const struct rules_config *rules, enum casefile_list which,
                const char *village, int days, int json, const char *lang, ledger_io_write_fn write,
                void *ctx);

enum review_format { REVIEW_TABLE, REVIEW_CSV, REVIEW_JSON };

/* review_report(store, rules, period, village, format, lang, write, ctx):
 * the township's figures for the period (report.h): one row per village
 * (or only village, when not NULL) and the total of all villages. Returns
 * 0, HUB_E_NOT_FOUND (no such village) or an error code. */
int review_report(struct store *store, const struct rules_config *rules,
                  const struct rules_period *period, const char *village, enum review_format format,
                  const char *lang, ledger_io_write_fn write, void *ctx);

/* review_reveal(store, village, what, who): record that the hub showed
 * personal numbers in full (an export with --reveal, say): an event
 * "reveal" in the ledger of village (NULL: of every village). */
int review_reveal(struct store *store, const char *village, const char *what, const char *who);

/* review_reveal_case(store, rules, case_id, who): record that the review
 * pages showed who the personal numbers of one case in full: an event
 * "reveal" of the case, naming who (NULL: "township hub"). Returns 0,
 * SYNC_E_NOT_FOUND (no such case) or an error code. */
int review_reveal_case(struct store *store, const struct rules_config *rules, const char *case_id,
                       const char *who);

#endif
