/* SPDX-License-Identifier: MIT */
/*
 * ledger_io.h - the ledger's cases in and out as JSON Lines, and out as CSV.
 *
 * One JSON object a line is one case with its parties and events, the shape
 * of the reference data (/work/shared/data/README.md). The village agent
 * imports such files (`hamlet import FILE`) and exports them
 * (`hamlet export`); the hub exports a village (`hamlet-hub export
 * --village CODE`). Import is an upsert through the replica, so that only
 * fields that really changed reach the journal, and importing the same file
 * twice changes nothing. The export is canonical: two replicas holding the
 * same data write the same bytes, and importing an export into an empty
 * replica and exporting again gives the same bytes.
 *
 * Parties and events in the reference data carry no ids. The import gives
 * them ids derived from the case id and their place in the list (a
 * version-8 UUID made of BLAKE2b of "<case id>/party/<index>", and likewise
 * "/contact/" and "/event/"), so that the same record imported again is
 * recognised; the export writes those ids, and an imported object that has
 * an "id" keeps it. *
 * The writers of the ledger (these exports, casefile.h's lists, report.h,
 * agreement_html.h) write through a ledger_io_write_fn; struct
 * ledger_io_buffer collects what one writes in memory.
 */
#ifndef HAMLET_LEDGER_IO_H
#define HAMLET_LEDGER_IO_H

#include "uuid7.h"

#include <stddef.h>
#include <stdio.h>

struct replica;

#define LEDGER_IO_MAX_LINE (1u << 20) /* longest line accepted, in bytes, without its newline */

/* The village a device holds. A record belongs to it if its "village"
 * equals code or name (the reference data uses names such as 杨柳村); the
 * partition stored, and the "village" the export writes, is always code. */
struct ledger_io_village {
    const char *code;
    const char *name; /* may be NULL */
};

/* What an import did; the import functions add to these counts, so zero
 * the struct before the first call. */
struct ledger_io_stats {
    size_t records;               /* cases read (lines that were not blank) */
    size_t created;               /* cases new to the replica */
    size_t updated;               /* cases that existed, with at least one change */
    size_t unchanged;             /* cases that existed, and nothing changed */
    size_t skipped_other_village; /* cases of another village, left alone */
    size_t skipped_deleted;       /* cases deleted here: a tombstone is final */
    size_t changes;               /* journal entries made */
    size_t masked_kept;           /* masked numbers (138****8000) not written: the stored
                                     number, if any, is kept (a masked export re-imported) */
};

/* The sink of the exports: write(ctx, data, len) gets the output in pieces
 * (each a whole line) and returns 0 to go on, anything else to stop. */
typedef int (*ledger_io_write_fn)(void *ctx, const char *data, size_t len);

/* A growing text in memory, a sink for any ledger_io_write_fn writer (the
 * exports here, lists, reports, the agreement's paper form): start from a
 * zeroed struct and pass ledger_io_buffer_write with it as ctx. data is
 * NULL until something is written, then holds len bytes and a terminating
 * NUL. The buffer owns data; free it with ledger_io_buffer_free(). */
struct ledger_io_buffer {
    char *data;
    size_t len, cap;
};

/* ledger_io_buffer_write(ctx, data, len): append len bytes of data to the
 * struct ledger_io_buffer ctx. Returns 0, or SYNC_E_NOMEM (the buffer is
 * then as it was). */
int ledger_io_buffer_write(void *ctx, const char *data, size_t len);

/* ledger_io_buffer_free(buffer): free the text and zero the struct, ready
 * to be filled again. Accepts NULL. */
void ledger_io_buffer_free(struct ledger_io_buffer *buffer);

/* ledger_io_import_line(replica, village, line, len, stats, why, why_len):
 * upsert the one case in line (len bytes, no NUL needed; a trailing
 * newline is allowed).
 *
 * The line is checked whole before anything is written: at most
 * LEDGER_IO_MAX_LINE bytes of UTF-8 holding one JSON object; "id" a UUID in
 * lower-case canonical form; "village" a non-empty string; "severity" 1, 2
 * or 3 and "level" 1 to 7 when given; the day members (accepted_on,
 * concluded_on, deadline, result_notice_on, correction_on,
 * correction_reply_on) YYYY-MM-DD; text members strings (or null) no
 * longer than the schema's max_text; "mediator" an object {id, name} or
 * null; "parties" an array of objects (name, role, phone, id_no, address,
 * optional id); "events" an array of objects with "date" (YYYY-MM-DD),
 * "kind" (a string), "note" (a string or null) and an optional id. Unknown
 * members are ignored.
 *
 * village: the device's village. A case of another village is counted in
 * stats->skipped_other_village and changes nothing. NULL (the hub): every
 * village is accepted and the record's own "village" value is the
 * partition, so a hub importing the reference data, whose villages are
 * names, files them under those names.
 *
 * Upsert: a member that is absent leaves the stored field as it is; a
 * member that is null clears it. Case fields go to one replica_put() (one
 * journal entry when any changed); each party is a contact (name, phone,
 * id_no, address) and a case_parties row (role, position = its index);
 * parties of the case that are no longer in the array are deleted
 * (tombstoned); a party without an "id" takes the place of the case's
 * party at the same rank. Each event is appended once: an event already
 * held with other content is refused, since events are never edited. All
 * writes of the case commit together or not at all; the caller must not
 * hold a transaction (replica_begin()) open.
 *
 * Returns 0 and adds to *stats (if given). On error nothing is written,
 * stats are unchanged, and why (if given) holds one sentence naming the
 * member: SYNC_E_ARG (replica or line NULL, village without a code),
 * SYNC_E_JSON_STRING (line or text too long), SYNC_E_UTF8, SYNC_E_JSON,
 * SYNC_E_JSON_NOT_OBJECT, SYNC_E_FIELD_MISSING (no id or village),
 * SYNC_E_FIELD_TYPE (a member of the wrong type or form),
 * SYNC_E_APPEND_ONLY (an event changed in place), SYNC_E_IMMUTABLE
 * (created_at changed, or a party id that belongs to another case),
 * SYNC_E_PARTITION (the case, a party or an event is held in another
 * village), SYNC_E_STATE (a party id that was deleted here, or a
 * transaction already open), SYNC_E_NOMEM, SYNC_E_DB and the other errors
 * of replica_put(). */
int ledger_io_import_line(struct replica *replica, const struct ledger_io_village *village,
                          const char *line, size_t len, struct ledger_io_stats *stats, char *why,
                          size_t why_len);

/* ledger_io_import_file(replica, village, in, stats, why, why_len): import
 * every line of in with ledger_io_import_line(), each case in its own
 * transaction. Blank lines (and a '\r' before a newline) are skipped.
 * Reading stops at the first bad line: the cases before it stay imported,
 * and why begins with its line number ("line 17: severity: expected 1, 2 or
 * 3"). A line longer than LEDGER_IO_MAX_LINE is refused without reading it
 * whole. Returns 0, the error of the bad line, or SYNC_E_ARG (a read error
 * of in; errno is kept), SYNC_E_NOMEM. The caller keeps and closes in. */
int ledger_io_import_file(struct replica *replica, const struct ledger_io_village *village,
                          FILE *in, struct ledger_io_stats *stats, char *why, size_t why_len);

/* Flags of the exports. */
#define LEDGER_IO_MASK 1u /* phone and identity-card numbers masked: 138****8000 */

/* ledger_io_export_jsonl(replica, village_code, flags, write, ctx): write
 * one line for every case of partition village_code (NULL: every village)
 * that is not deleted, in order of case id, ending with '\n'. Members in
 * this order: id, village, case_no, kind, channel, category, severity,
 * status, level, title, facts, claims, parties, mediator, received_by,
 * outcome, accepted_on, concluded_on, deadline, extension_days,
 * result_notice_on, opinion, correction, correction_on, correction_reply,
 * correction_reply_on, created_at, updated_at, events. kind, channel,
 * level, received_by, outcome, the six workflow fields from accepted_on to
 * opinion and the four of a correction are left out when unknown, so that
 * a ledger without them exports as before; the others are always written (null
 * when unknown). parties: the case's parties that are not deleted, by
 * position then id, each {id, name, role, phone, id_no, address}, the
 * numbers masked with LEDGER_IO_MASK (rules_mask_phone, rules_mask_id_no);
 * mediator {id, name} or null; events by date then id, each {id, date,
 * kind, note} and "detail" when the event has one. Parties and events are
 * those held in the case's own village, so that a device and the hub
 * holding the same changes write the same bytes. Importing a masked export
 * changes no number (ledger_io_stats.masked_kept). Returns 0, the first
 * non-zero value write returned, SYNC_E_ARG (also for an unknown flag),
 * SYNC_E_NOMEM or SYNC_E_DB. */
int ledger_io_export_jsonl(struct replica *replica, const char *village_code, unsigned flags,
                           ledger_io_write_fn write, void *ctx);

/* ledger_io_export_csv(replica, village_code, flags, write, ctx): the same
 * cases as ledger_io_export_jsonl(), as a table for spreadsheets: UTF-8
 * with a byte-order mark (so that Excel and WPS read the Chinese right), a
 * header row, then one row per case, fields quoted as RFC 4180 says, CRLF
 * line ends. Columns: id, village, case_no, category, severity, status,
 * title, parties (their names joined by "、"), mediator (the name),
 * created_at, updated_at, events (how many), last_event_date. Unknown
 * values are empty fields. The table holds no personal numbers, so
 * LEDGER_IO_MASK changes nothing in it. Returns as
 * ledger_io_export_jsonl(). */
int ledger_io_export_csv(struct replica *replica, const char *village_code, unsigned flags,
                         ledger_io_write_fn write, void *ctx);

#endif
