/* SPDX-License-Identifier: MIT */
/*
 * casework.h - the laptop's commands for the work on a case: the steps of
 * the workflow (status, transfer, escalation, result notice, opinion,
 * follow-up visit, extension, the answer to the township's request for a
 * correction), case numbers, reveals of personal numbers,
 * the lists of what is due, the village's figures, mediation agreements and
 * the township's rules. Each command function takes the arguments after
 * its name (argv[0] is the command's own name), prints what it did, and
 * returns the exit status. The rules come from ledger/ (rules.h,
 * workflow.h, casefile.h); the township's numbers from the village's
 * township_rules record, or the defaults.
 */
#ifndef HAMLET_CASEWORK_H
#define HAMLET_CASEWORK_H

#include "ledger_io.h"
#include "local.h"
#include "workflow.h"

/* casework_setup(local, w, config, now, now_len, lang): a workflow for
 * this laptop: the township's rules, today and now by the clock that
 * follows the hub's (China time), the user's name from $USER. */
void casework_setup(struct local *local, struct workflow *w, struct rules_config *config, char *now,
                    size_t now_len, const char *lang);

/* casework_case_no(local, buf, len): the next case number of this laptop,
 * with its device code (the hub's at enrolment, else derived from the
 * node id). Inside the caller's unit of work when one is open. Returns 0
 * or a RULES_E_* / SYNC_E_* code. */
int casework_case_no(struct local *local, char *buf, size_t len);

/* casework_device_code(local, out): this laptop's device code. */
void casework_device_code(struct local *local, char out[RULES_DEVICE_CODE_LEN + 1]);

/* casework_reveal(local, case_id, what): record a reveal event (case_id
 * NULL: of the village's ledger). Returns 0 or an error, printed. */
int casework_reveal(struct local *local, const char *case_id, const char *what);

/* hamlet case status|transfer|escalate|notice|opinion|followup|extend|answer
 * ... argv[0] is the step. */
int casework_case_step(struct local *local, int argc, char **argv);

/* casework_split_set(argc, argv, status, level, rest): of the FIELD=VALUE
 * arguments of "hamlet case set", take status= and level= (steps of the
 * workflow) into *status and *level, and leave the others at the front of
 * argv, *rest of them. A field the workflow owns (accepted_on, deadline,
 * opinion...) is refused with the command that sets it. Returns 0 or the
 * exit status. */
int casework_split_set(int argc, char **argv, const char **status, const char **level, int *rest);

/* casework_apply_set(local, id, status, level): the status change and the
 * escalation that "case set" asked for (either may be NULL), through the
 * workflow. Returns 0 or the exit status (the reason printed). */
int casework_apply_set(struct local *local, const char *id, const char *status, const char *level);

/* casework_case_summary(local, id, lang): what the rules say of a case
 * today: its deadline and how it stands, its follow-up visit, its
 * agreements, the township's request for a correction and the answer;
 * printed after "case show". Returns 0 or the exit status. */
int casework_case_summary(struct local *local, const char *id, const char *lang);

/* hamlet list overdue|due|followups|corrections [--days N] [--json] [--lang L] */
int casework_list(struct local *local, int argc, char **argv);

/* hamlet report --month YYYY-MM|--year YYYY [--csv|--json] [--lang L] */
int casework_report(struct local *local, int argc, char **argv);

/* hamlet agreement add|set|show|sign|supplement|print ... */
int casework_agreement(struct local *local, int argc, char **argv);

/* casework_agreement_html(local, id, reveal, lang, write, ctx): the
 * agreement id laid out as the paper form (agreement_html.h) with its
 * case's number, title, mediator and parties, handed to write(ctx, ...);
 * what `agreement print` prints and the village UI shows. With reveal 1 the
 * numbers are printed in full and the reveal is recorded as an event of
 * the case first. Returns 0, SYNC_E_NOT_FOUND (no such agreement), another
 * SYNC_E_* code, or the first non-zero value of write. Prints nothing. */
int casework_agreement_html(struct local *local, const char *id, int reveal, const char *lang,
                            ledger_io_write_fn write, void *ctx);

/* hamlet rules: the township's rules this laptop works under. */
int casework_rules(struct local *local, int argc, char **argv);

#endif
