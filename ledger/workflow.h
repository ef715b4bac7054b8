/* SPDX-License-Identifier: MIT */
/*
 * workflow.h - the rules applied to the ledger: every step of a case's
 * work, checked and recorded.
 *
 * Each function checks a step against the rules (rules.h), then writes the
 * case's fields and the event that records the step in one unit of work
 * through the replica, so that the step travels to the other replicas as
 * ordinary changes: a status change (event "status", detail the new
 * status), a transfer ("referral", detail the office), an escalation of
 * the responsibility level ("escalation", detail the level), the written
 * result notice ("result_notice"), the party's opinion ("opinion"), a
 * follow-up visit ("followup"), the one extension of a petition
 * ("extension", detail the days), a deadline the township sets
 * ("deadline", detail the day), the level the township sets ("level",
 * detail the level), the mediator it assigns ("mediator", detail the
 * name), its request for a correction and the clearing of it
 * ("correction", detail "asked" or "cleared"), the village's answer
 * ("correction_reply", detail "answered"), the signing of an agreement
 * ("agreement", detail "signed") and each reveal of personal numbers
 * ("reveal"). The laptop and the hub call the same functions. A refused
 * step writes nothing and says why, naming what is allowed.
 */
#ifndef HAMLET_WORKFLOW_H
#define HAMLET_WORKFLOW_H

#include "rules.h"
#include "uuid7.h"

#include <stddef.h>

struct replica;

#define WORKFLOW_WHY 512

/* The longest texts the township's actions take, in characters (UTF-8):
 * a mediator's name and id, and a request for a correction or its answer
 * (the UI's fields can use them as their maxlength). */
#define WORKFLOW_MEDIATOR_NAME_MAX 50
#define WORKFLOW_MEDIATOR_ID_MAX   64
#define WORKFLOW_CORRECTION_MAX    1000

/* Who acts, and when. The caller fills it; why receives the reason of a
 * refusal or failure. */
struct workflow {
    struct replica *replica;
    const struct rules_config *config;
    struct rules_date today; /* the day in China (rules_today()) */
    const char *now;         /* the moment, RFC 3339, for recorded_at and updated_at */
    const char *lang;        /* of the messages in why: "zh" or English */
    const char *who;         /* the person or device acting, for reveal events; may be NULL */
    char why[WORKFLOW_WHY];
};

/* Every function returns 0, or a negative code with why set: RULES_E_* for
 * a step the rules refuse (RULES_E_TRANSITION, RULES_E_LEVEL,
 * RULES_E_EXTENDED, RULES_E_EXTENSION_TOO_LONG, RULES_E_LOCKED,
 * RULES_E_INCOMPLETE, RULES_E_ARG for a bad value), SYNC_E_NOT_FOUND (no
 * such case or agreement) or another engine error (SYNC_E_*). note may be
 * NULL; it is added to the event's words. */

/* workflow_status(w, case_id, to, note): move the case to status to. The
 * move must be allowed from the case's status (an unknown status counts
 * as registered); to accepted sets accepted_on, to concluded sets
 * concluded_on and requires what rules_conclusion_missing() asks (a
 * petition's result notice; every agreement recorded for the case signed).
 * A move to referred is a transfer: use workflow_transfer(). */
int workflow_status(struct workflow *w, const char *case_id, enum rules_status to,
                    const char *note);

/* workflow_transfer(w, case_id, target, note): transfer the case to the
 * police station, court, judicial office or another department: status
 * referred, and an event naming the office. */
int workflow_transfer(struct workflow *w, const char *case_id, enum rules_referral_target target,
                      const char *note);

/* workflow_escalate(w, case_id, level, note): raise the responsibility
 * level (rules_escalation_allowed(); a case without a level is at 1). */
int workflow_escalate(struct workflow *w, const char *case_id, int level, const char *note);

/* workflow_result_notice(w, case_id, date, note): the written result
 * notice went out on date (today when not set). */
int workflow_result_notice(struct workflow *w, const char *case_id, struct rules_date date,
                           const char *note);

/* workflow_opinion(w, case_id, opinion, note): the party's opinion of the
 * result. */
int workflow_opinion(struct workflow *w, const char *case_id, enum rules_opinion opinion,
                     const char *note);

/* workflow_followup(w, case_id, date, note): a follow-up visit was made on
 * date (today when not set). */
int workflow_followup(struct workflow *w, const char *case_id, struct rules_date date,
                      const char *note);

/* workflow_extend(w, case_id, days, note): a petition's one extension of
 * its conclusion deadline (rules_petition_extend()). */
int workflow_extend(struct workflow *w, const char *case_id, int days, const char *note);

/* workflow_deadline(w, case_id, date, note): the township sets (or, with
 * RULES_DATE_NONE, lifts) the case's deadline; it wins over the statutory
 * one. */
int workflow_deadline(struct workflow *w, const char *case_id, struct rules_date date,
                      const char *note);

/* The township's actions that travel to the village (RULES.md, "The
 * township's actions"). w->who, the reviewer, is named in the event's
 * words when set. The texts are checked first: not blank, well-formed
 * UTF-8, no control characters (a request and an answer may hold line
 * breaks and tabs), no longer than the limits above; a refusal
 * (RULES_E_ARG) names the limit. */

/* workflow_level(w, case_id, level, note): the township sets the
 * responsibility level, up or down (rules_level_set_explain(): 1 to 7,
 * not the level the case holds): field level, event "level" with the new
 * level as detail and the old and new level in its words. */
int workflow_level(struct workflow *w, const char *case_id, int level, const char *note);

/* workflow_mediator(w, case_id, name, id, note): the township assigns a
 * mediator: mediator_name = name, mediator_id = id (NULL: none, so that
 * the id of an earlier mediator does not stay with the new name); event
 * "mediator", detail the name. The mediator the case has already (same
 * name and id) is refused. */
int workflow_mediator(struct workflow *w, const char *case_id, const char *name, const char *id,
                      const char *note);

/* workflow_correction(w, case_id, comment): the township marks the case
 * "needs correction" (要求更正) with comment: correction = comment,
 * correction_on = today, event "correction", detail "asked", the comment
 * in its words. Asking again replaces the comment (a reminder is one too).
 * comment NULL clears the request once the township is satisfied:
 * correction and correction_on NULL, event detail "cleared"; refused when
 * nothing is asked. An empty or blank comment is refused, not taken for a
 * clearing. The village's answer is left as it is: it is the village's. */
int workflow_correction(struct workflow *w, const char *case_id, const char *comment);

/* workflow_correction_reply(w, case_id, text): the village answers the
 * township's request: correction_reply = text, correction_reply_on =
 * today, event "correction_reply", detail "answered", the text in its
 * words. Refused when no correction is asked of the case. */
int workflow_correction_reply(struct workflow *w, const char *case_id, const char *text);

/* workflow_event(w, case_id, kind, date, note, detail, id): record an
 * event as given (date: today when not set); kind is a word of a-z and _.
 * The kinds the functions above write are refused here, so that a status
 * event always goes with its status, except "followup" (a visit recorded
 * with its own words; a future date is refused) and "agreement" (an
 * agreement made on paper). The new event's id goes to id (may be NULL). */
int workflow_event(struct workflow *w, const char *case_id, const char *kind,
                   struct rules_date date, const char *note, const char *detail,
                   char id[UUID7_STRLEN + 1]);

/* workflow_reveal(w, village, case_id, what): record that someone was
 * shown identity-card and phone numbers in full: an event "reveal" of the
 * case (case_id NULL: of the village's ledger as a whole, such as an
 * export), its note saying what was shown and to whom (w->who). */
int workflow_reveal(struct workflow *w, const char *village, const char *case_id, const char *what);

/* workflow_agreement_editable(w, agreement_id): 0 while the agreement may
 * be edited; RULES_E_LOCKED once signed (make a supplementary agreement);
 * SYNC_E_NOT_FOUND. */
int workflow_agreement_editable(struct workflow *w, const char *agreement_id);

/* workflow_agreement_sign(w, agreement_id): sign the agreement: parts 1 to
 * 4 must be complete (RULES_E_INCOMPLETE names what is missing); sets the
 * signatures, the seal and signed_at, records an event "agreement" on the
 * case, and moves a case that is mediating to agreement. */
int workflow_agreement_sign(struct workflow *w, const char *agreement_id);

/* workflow_case_no(w, village, village_name, device_code, buf, len): the
 * next case number this device makes this year: its own counter, kept
 * beside the ledger, and never below a number the device made before that
 * the ledger holds. Returns 0, RULES_E_ARG, RULES_E_SPACE, RULES_E_RANGE
 * (the device made RULES_SEQ_MAX numbers this year) or SYNC_E_DB. */
int workflow_case_no(struct workflow *w, const char *village, const char *village_name,
                     const char *device_code, char *buf, size_t len);

#endif
