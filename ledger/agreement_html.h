/* SPDX-License-Identifier: MIT */
/*
 * agreement_html.h - a mediation agreement (人民调解协议书) as a printable
 * HTML page.
 *
 * `hamlet agreement print ID > file.html` writes the page that the parties
 * sign: one self-contained HTML5 document laid out like the paper form, on
 * A4, with the five parts that ledger/RULES.md requires, the standard
 * closing sentences and the lines for the signatures and the committee's
 * seal. A part that is still missing prints as ruled lines to fill in by
 * hand, and the page says, on screen and on paper, which items are
 * missing, so that a draft never passes for a finished agreement. Personal
 * numbers are masked unless the caller asks for them in full. The page
 * needs no network: the style is inline, and there are no scripts, fonts or
 * images to fetch. The module is pure: it reads the caller's structs and
 * hands the bytes to a write callback; it opens no file and no database.
 */
#ifndef HAMLET_AGREEMENT_HTML_H
#define HAMLET_AGREEMENT_HTML_H

#include <stddef.h>

#include "ledger_io.h" /* ledger_io_write_fn */
#include "rules.h"

/* One party of the agreement, as the case holds it. Every member may be
 * NULL (or empty), and then prints as a blank line to fill in by hand. */
struct agreement_html_party {
    const char *name;    /* 谭德胜 */
    const char *role;    /* 申请人 | 被申请人 | 第三人, as stored (the tokens applicant,
                            respondent and third_party are understood too) */
    const char *id_no;   /* identity-card number */
    const char *phone;   /* phone number */
    const char *address; /* address */
};

/* What the page shows. The strings are borrowed for the call only. */
struct agreement_html {
    const char *lang;          /* "zh" (also NULL, "zh-CN", ...) or "en" ("en-GB", ...) */
    const char *township;      /* e.g. 青石镇, printed before the village; NULL to omit */
    const char *village_name;  /* required, e.g. 白沙村: the committee's name is built from it */
    const char *case_no;       /* （2026）白沙调字第A3-0012号; NULL: a blank to fill in */
    const char *title;         /* the case title, printed as the matter (案由); NULL to omit */
    const char *mediator_name; /* printed by the mediator's signature line; may be NULL */
    const struct agreement_html_party *parties; /* nparties of them; NULL when 0 */
    size_t nparties; /* 0 prints two blank party blocks and signature lines */
    const struct rules_agreement *agreement; /* the five parts, signed_at etc. (rules.h) */
    const char *supplements_case_no; /* non-NULL for a supplementary agreement (补充协议):
                                        the number of the signed agreement it supplements */
    int reveal; /* 0: identity-card and phone numbers masked (rules_mask_id_no(),
                   rules_mask_phone()); 1: printed in full. Nothing else is allowed. */
};

/* agreement_html_write(in, write, ctx): write the whole page for in, one
 * UTF-8 HTML5 document, to write(ctx, data, len), in pieces that end at
 * line ends (a very long text may be cut into several pieces).
 *
 * The page, in the order of the paper form: a notice
 * "本协议尚不完整，缺少：" listing every item rules_agreement_missing()
 * reports (absent when the agreement is complete); when signed_at is set,
 * the note "已签署，不得修改" with the day it was signed; the committee
 * ("<township><village_name>人民调解委员会"), the title 人民调解协议书
 * (补充协议 and the agreement it supplements, for a supplementary one) and
 * the case number; (1) one block per party (name, role, identity-card
 * number, phone, address) and the agreement's own parties_details; (2) the
 * facts and responsibility; (3) the rights and obligations; (4) the
 * method, place and deadline of performance; the closing sentences (the
 * number of copies is the number of parties plus one, at least three); (5)
 * a signature line for each party and for the mediator, the committee's
 * seal and the date (signed_at's day, or blank 年 月 日 lines). A missing
 * text prints as ruled lines. signed_at and performance_deadline print as
 * dates (2026年3月15日, 15 March 2026) when they hold "YYYY-MM-DD" or an
 * RFC 3339 timestamp (its day in China), else as stored. The fixed texts
 * are Chinese, or English for lang "en"; the known roles are translated,
 * other texts of the ledger print as stored. Every text of the ledger is
 * HTML-escaped; its line breaks are kept; bytes that are not UTF-8 and
 * control characters print as U+FFFD. A Content-Security-Policy in the
 * page forbids the browser to load anything or run any script.
 *
 * Returns 0; SYNC_E_ARG (from sync_error.h) when in, write, in->agreement
 * or in->village_name is NULL, village_name is empty, parties is NULL
 * while nparties is not 0, lang is neither Chinese nor English, or reveal
 * is not 0 or 1 (nothing is written then); SYNC_E_NOMEM; or the first
 * non-zero value write returned, after which write is not called again.
 * Nothing is kept after the call returns. */
int agreement_html_write(const struct agreement_html *in, ledger_io_write_fn write, void *ctx);

#endif
