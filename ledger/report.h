/* SPDX-License-Identifier: MIT */
/*
 * report.h - the township's figures as a table, CSV and JSON.
 *
 * rules_figures_compute() (rules.h) works out the figures of one village or
 * of the whole township for a month or a year; this module only renders
 * them, for `hamlet-hub report` and `hamlet report` (--month YYYY-MM or
 * --year YYYY, optionally --village CODE, and --csv or --json). The table
 * is for people at a terminal, in Chinese by default; the CSV is for the
 * township's spreadsheets (Excel, WPS); the JSON is for programs. Nothing
 * here touches a database or the clock: the caller passes the figures and
 * today's date, and gets the bytes through a write callback. The period
 * and as-of day come from the figures, so every row must share them.
 */
#ifndef HAMLET_REPORT_H
#define HAMLET_REPORT_H

#include <stddef.h>

#include "ledger_io.h" /* ledger_io_write_fn */
#include "rules.h"

/* The table never grows wider than this many terminal columns when it can
 * help it: villages that do not fit beside each other go on in a further
 * block below, with the figure names repeated (see report_write_table). */
#define REPORT_TABLE_WIDTH 80

/* One column of the report: a village, or the township total. */
struct report_row {
    const char *village; /* partition code, e.g. "baisha"; NULL for the total row */
    const char *name;    /* as people call it, e.g. 白沙村; may be NULL (the code is used) */
    struct rules_figures figures;
};

/* What to render. Every pointer is borrowed for the duration of the call. */
struct report {
    const struct rules_config *config; /* categories (labels, order) and targets */
    struct rules_date today;
    const struct report_row *rows; /* one per village, in the order to print */
    size_t nrows;
    const struct report_row *total; /* the total of all villages (village NULL); may be
                                       NULL when only one village is reported */
    const char *lang;               /* "zh" (default, NULL too) or "en" */
};

/*
 * The three writers share their arguments and errors.
 *
 * r: the report. r->config must pass rules_config_check() and must not
 * name a category "unlisted" (that word is the report's own, for cases
 * whose category is not in the list). There must be at least one row or a
 * total, every row must have a village code, and all of them (the total
 * included) must share one period and one as-of day; r->today must be a
 * valid date. r->lang: NULL or "zh..." gives Chinese, anything else
 * English.
 *
 * write(ctx, data, len): receives the output in pieces, each one or more
 * whole lines; it returns 0 to go on, anything else to stop. ctx is passed
 * through untouched and may be NULL.
 *
 * Returns 0; SYNC_E_ARG (sync_error.h) when r or write is NULL or r breaks
 * the rules above, before anything is written; SYNC_E_NOMEM; or the first
 * non-zero value write returned, after which write is not called again.
 * Nothing is allocated that outlives the call.
 */

/* report_write_table(r, write, ctx): the figures for people. A heading
 * line names the period and the as-of day; then a table with one row per
 * figure (received; by kind, channel and every configured category, those
 * with no cases included, so that months compare; concluded; the three
 * rates as "97.9% (97/99)" with a row under each giving the target and
 * whether it is met, 未达标 / below target, or "-" when there is no data;
 * overdue; overdue and open; follow-ups due, done and overdue) and one
 * column per village, then 合计 (total). Columns are padded by display
 * width, a CJK or full-width character taking two terminal columns, so
 * that they line up; every line of one block has the same width. When the
 * columns would make the table wider than REPORT_TABLE_WIDTH, the villages
 * are cut into blocks that fit, one under the other, each with the figure
 * names and its own heading row; the total is the last column of the last
 * block. Village names have control characters replaced by '?'. */
int report_write_table(const struct report *r, ledger_io_write_fn write, void *ctx);

/* report_write_csv(r, write, ctx): one header row and one row per village,
 * then a row for the total when there is one. UTF-8 with a byte order mark
 * (so that Excel and WPS read the Chinese), CRLF line ends, RFC 4180
 * quoting. The header is made of English tokens, so that programs can read
 * it whatever the language: village, name, received;
 * received_kind_<kind> for dispute, petition, screening and unknown;
 * received_channel_<channel> for visit, letter, call, online, screening,
 * referral and unknown; received_category_<token> for each configured
 * category in its order, then received_category_unlisted; concluded; then
 * for each of participation, success and satisfaction: _num, _den,
 * _percent ("97.9%", empty when there is no data), _target (the target as
 * a percentage, "98%"), _meets ("yes", "no", empty when there is no data);
 * then overdue, overdue_open, followups_due, followups_done,
 * followups_overdue. (The kind, channel and category columns name their
 * dimension because the words overlap: "screening" is both a kind and a
 * channel, and a township may call a category anything.) The name column
 * holds the code when a village has no name; the total's village column is
 * 合计 (total in English) and its name is empty. A field that a spreadsheet
 * would run as a formula (starting with =, +, -, @, tab or CR) gets a
 * leading apostrophe, since village names are typed by users. */
int report_write_csv(const struct report *r, ledger_io_write_fn write, void *ctx);

/* report_write_json(r, write, ctx): one pretty-printed JSON object and a
 * newline, in one piece:
 *
 *   {"period": {"first": "2024-01-01", "last": "2024-12-31"},
 *    "as_of": "2024-12-31", "today": "2026-11-29",
 *    "targets": {"participation": 9800, "success": 9800, "satisfaction": 9600},
 *    "villages": [{"village": "baisha", "name": "白沙村", FIGURES}, ...],
 *    "total": {"village": null, "name": null, FIGURES}}
 *
 * "total" is left out when r->total is NULL; "name" is the code when a
 * village has no name. FIGURES are "received", "received_by_kind" {dispute,
 * petition, screening, unknown}, "received_by_channel" {visit, letter,
 * call, online, screening, referral, unknown}, "received_by_category"
 * {each category token in the config's order, then unlisted}, "concluded",
 * "participation", "success", "satisfaction", "overdue", "overdue_open",
 * "followups_due", "followups_done", "followups_overdue". Counts are exact
 * integers. A rate is {"num", "den", "percent": "97.9%" or null when den is
 * 0, "target": basis points (9800 is 98%), "meets": true, false, or null
 * when den is 0}. Targets are in basis points. */
int report_write_json(const struct report *r, ledger_io_write_fn write, void *ctx);

#endif
