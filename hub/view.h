/* SPDX-License-Identifier: MIT */
/*
 * view.h - the read side of the township's review pages.
 *
 * The pages of hub/web.c show the merged ledger of every village: a table
 * of all cases with filters, sorting, paging and full-text search; one
 * case with its parties, events, agreements, conflicts and full change
 * history; and the queue of conflicting edits. This module builds those
 * documents as cJSON trees from the store's SQLite file, under the store's
 * lock; it writes nothing (a reveal of personal numbers is recorded by the
 * caller, review_reveal()). Deadlines and "overdue" come from the ledger's
 * rules (rules.h), computed exactly as casefile.h computes them.
 *
 * Costs, with 100,000 cases (bench/cases_page.c prints the figures; on a
 * 2-core server, in ms: a page of any sort or filter 1-35, search of a
 * 3-character word 100, of a 1- or 2-character word 100-300 where it
 * used to take 1,000-3,000: see below). A page is one query
 * for the rows (filters, sort, LIMIT/OFFSET) plus one COUNT of the rows the
 * filters leave, both answered from the covering indexes of
 * hub/migrations/0004_search.sql, then a few indexed look-ups for each of
 * the (at most VIEW_MAX_PER) rows shown. A word of 3 or more characters is
 * found with the FTS5 trigram indexes of the same migration; its cost
 * grows with the cases it matches (a phrase in most cases' notes: 0.7 s).
 * A word of 1 or 2 characters (土地, 宅基, 纠) is shorter than a trigram:
 * the trigrams that contain it are looked up in the lists of
 * hub/migrations/0006_short_words.sql (LIKE over the distinct trigrams, a
 * few tens of thousands of short strings), the indexes are asked for the
 * OR of them, and the texts they find are checked with LIKE (not needed
 * for a word of Chinese characters only); texts of 1 or 2 characters,
 * which have no trigram, are read from a partial index. Its cost grows
 * with the cases and notes that hold the word, as for a longer word. A
 * word found in more than VIEW_MAX_TRIGRAMS trigrams of the cases' text or
 * of the notes (a very common character: 的, or a Latin letter) is
 * matched instead with LIKE over all the text: one pass over every case's
 * text and every note (about 0.6 s for the page and again for the count),
 * or, with a village, category, status, class, level or conflict filter,
 * over the cases that filter leaves. The results are the same either way.
 * The overdue filter evaluates the
 * rules' deadline (an SQL function over the case's own columns: kind,
 * status, received, accepted, deadline, extension; no events are read) for
 * every open case the other filters leave, from the index: 35 ms for
 * 100,000 cases; closed cases are skipped by their status alone.
 */
#ifndef HAMLET_VIEW_H
#define HAMLET_VIEW_H

#include "rules.h"
#include "store.h"

#include <cjson/cJSON.h>
#include <stddef.h>

#define VIEW_MAX_PER      200    /* cases on one page, at most */
#define VIEW_DEFAULT_PER  50     /* cases on one page when per is 0 */
#define VIEW_MAX_PAGE     100000 /* the highest page number accepted */
#define VIEW_MAX_QUERY    200    /* bytes of search text, at most */
#define VIEW_MAX_TERMS    8      /* words of search text (split at spaces), at most */
#define VIEW_MAX_TRIGRAMS 256    /* trigrams a 1-2 character word is looked up by, at most */
#define VIEW_MAX_TOKEN    64     /* bytes of a village code or a token filter, at most */
#define VIEW_MAX_HISTORY  5000   /* journal entries in a case's history, at most */
#define VIEW_MAX_CONFLICT 10000  /* conflicts in one view_conflicts() answer, at most */

/* What view_cases() lists. A zeroed struct lists every case, 50 a page,
 * oldest first. */
struct view_filter {
    const char *village;                  /* village code; NULL: any */
    const char *category, *kind, *status; /* NULL: any. Tokens as the ledger stores
                                             them; the rules' Chinese labels are read
                                             too (调解中). kind "dispute" also matches
                                             cases without a kind (the reference data);
                                             status "concluded" also matches "closed". */
    int severity;                         /* class 1..3; 0: any */
    int level;                            /* responsibility level 1..7; 0: any */
    int overdue;                          /* 1: only cases overdue today (CASEFILE_OVERDUE) */
    int conflict;     /* 1: only cases with an open conflict on the case or any of its
                         records (its parties, their contacts, events, agreements) */
    const char *q;    /* search text; NULL or "": none. Every word (words are split at
                         spaces, ASCII or ideographic) must occur, as written, in the
                         title, facts or claims of the case or in the note of one of
                         its events. Letters compare without case (in words of
                         1-2 characters, ASCII letters only). */
    const char *sort; /* received (default; created_at), case_no, village, status,
                         deadline (the township's; cases without one last), updated,
                         level. Ties are broken by received, then by case id. */
    int desc;         /* 1: descending */
    int page, per;    /* page 1.. (0: 1); per 1..VIEW_MAX_PER (0: VIEW_DEFAULT_PER) */
};

/* view_cases(store, rules, f, out, why, why_len): one page of the cases
 * that pass f, as of today at the hub (China time):
 *
 *   {"total": N, "page": P, "per": K, "cases": [{"id", "village",
 *    "village_name", "case_no", "title", "kind", "channel", "category",
 *    "severity", "status", "level", "created_at", "accepted_on", "due_on",
 *    "deadline", "overdue", "conflicts", "updated_at"}]}
 *
 * total counts every case that passes f; a page past the end has no cases.
 * Deleted cases are never listed. village_name is the name of the village
 * registered at the hub (its code when not registered); due_on is the date
 * the rules say the case is due (rules_case_due(), null when none);
 * deadline the township's (null when none); overdue a boolean; conflicts
 * the number of open conflicts touching the case. Unknown values are null.
 * rules NULL: rules_config_default(). *out is the caller's (cJSON_Delete).
 * Returns 0; HUB_E_ARG with a sentence in why (f NULL, an unknown sort, a
 * page or per out of range, a token, level, class or village that is not
 * one, a search text too long, not UTF-8 or of too many words); HUB_E_NOMEM;
 * HUB_E_DB. */
int view_cases(struct store *store, const struct rules_config *rules, const struct view_filter *f,
               cJSON **out, char *why, size_t why_len);

/* view_case(store, rules, case_id, reveal, out, why, why_len): everything
 * about one case, for its page and its print view (一人一案):
 *
 *   {"case": {every column of the case, "village_name", "due_on", "overdue",
 *             "masked": !reveal},
 *    "parties": [{"id", "role", "position", "contact_id", "name", "phone",
 *                 "id_no", "address"}],                  by position, then id
 *    "events": [{"id", "date", "kind", "note", "detail", "recorded_at"}],
 *                                      by date, then recorded_at, then arrival
 *    "agreements": [{every column, "complete", "missing", "missing_zh",
 *                    "missing_en", "locked"}],
 *    "conflicts": [as view_conflicts(), open and resolved],
 *    "history": [{"table", "row_id", "what", "device", "device_label",
 *                 "device_ms", "hub_ms", "op",
 *                 "fields": [{"column", "before", "after"}]}],
 *    "history_truncated": bool}
 *
 * Parties and agreements that are deleted are left out (their history
 * stays). phone and id_no are masked as the ledger's masked export masks
 * them (rules_mask_phone(), rules_mask_id_no()) unless reveal is 1, in the
 * parties, the conflicts and the history alike; the caller records a
 * reveal (review_reveal()). missing names the agreement's missing items
 * (rules_agreement_missing()) by their column (parties_details, ...,
 * sealed), with their labels in Chinese and English; complete is true when
 * none is missing; locked when it is signed (rules_agreement_edit_allowed()).
 *
 * history is every journal entry of the case, its parties (case_parties),
 * their contacts, its events and its agreements, in order of arrival at the
 * hub; at most VIEW_MAX_HISTORY (the earliest; history_truncated then
 * true). what is case, party, contact, event or agreement; device the
 * device id that made the change, or "hub" for the hub's own changes (a
 * reviewer's decision, an import); device_label that device's label ("" if
 * none; "hub" for the hub); device_ms the wall time of the change's clock
 * (HLC_MS()); hub_ms when the hub received it; op put, append or delete
 * (a delete shows its tombstone as the field "deleted"). before is the
 * value the hub held for that field when the change arrived, by the merge
 * rules (PROTOCOL.md 4.2: the newest stamp of a last-writer-wins field,
 * the oldest of a set-once field), null when none; a change that lost its
 * merge still shows what it carried as after.
 *
 * Returns 0, HUB_E_ARG (case_id not a UUID), HUB_E_NOT_FOUND (no such
 * case; why says so), HUB_E_NOMEM, HUB_E_DB. *out is the caller's. */
int view_case(struct store *store, const struct rules_config *rules, const char *case_id,
              int reveal, cJSON **out, char *why, size_t why_len);

/* view_conflicts(store, village, open_only, out): the conflict queue of a
 * village (NULL: all), oldest first, at most VIEW_MAX_CONFLICT:
 *
 *   {"conflicts": [{"id", "table", "row_id", "column", "village", "case_id",
 *     "case_no", "title", "standing", "incoming", "standing_device",
 *     "incoming_device", "standing_label", "incoming_label", "winner",
 *     "created_ms", "resolved_ms", "resolution"}], "truncated": bool}
 *
 * case_id is the case the record belongs to (for a contact, the first of
 * its cases by case id; null when none is held); case_no and title are that
 * case's. standing and incoming are the two values as text ("(empty)" for
 * none), phone and id_no masked; *_device the device id, or "hub" for a
 * write of the hub or of a node that is not a device; *_label the device's
 * label ("" when none; "hub" for the hub). resolved_ms and resolution are
 * null while open. Returns 0, HUB_E_ARG (store or out NULL), HUB_E_NOMEM,
 * HUB_E_DB. *out is the caller's. */
int view_conflicts(struct store *store, const char *village, int open_only, cJSON **out);

#endif
