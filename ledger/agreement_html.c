/* SPDX-License-Identifier: MIT */
/*
 * agreement_html.c - a mediation agreement as a printable HTML page.
 *
 * The page is written top to bottom in the order of the paper form. Output
 * goes through a small staging buffer that is handed to the caller's write
 * callback whenever it fills and at the end of every block, so memory stays
 * bounded whatever the length of the texts, and the first error of the
 * callback stops everything. Fixed words come from one table per language;
 * texts from the ledger only ever pass through put_text(), which escapes
 * them and replaces what is not well-formed UTF-8.
 */
#include "agreement_html.h"

#include "sync_error.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STAGE_SIZE 8192 /* bytes staged before they go to the write callback */
#define DATE_TEXT  64   /* "15 September 2026" and the like, with room to spare */

#define FACTS_LINES   6 /* ruled lines left for a missing long text */
#define RIGHTS_LINES  6
#define METHOD_LINES  3
#define DETAILS_LINES 2
#define SHORT_LINES   1
#define BLANK_PARTIES 2 /* party blocks printed when the case has none */
#define MIN_COPIES    3 /* two parties and the committee */

static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

/* ---- output ---- */

/* Where the page goes. The stage never takes more than it has room for:
 * put() hands it to the callback when it is full, so a text of any length
 * passes through in pieces. */
struct out {
    ledger_io_write_fn write;
    void *ctx;
    int err; /* the first error; once set, nothing more is written */
    size_t len;
    char stage[STAGE_SIZE];
};

static void fail_with(struct out *o, int err)
{
    if (!o->err) {
        o->err = err;
    }
}

/* Hand what is staged to the callback; called at the end of every block. */
static void flush(struct out *o)
{
    if (!o->err && o->len > 0) {
        int rc = o->write(o->ctx, o->stage, o->len);
        if (rc != 0) {
            o->err = rc;
        }
    }
    o->len = 0;
}

static void put(struct out *o, const char *data, size_t n)
{
    while (!o->err && n > 0) {
        if (o->len == sizeof o->stage) {
            flush(o);
            continue;
        }
        size_t room = sizeof o->stage - o->len;
        size_t k = n < room ? n : room;
        memcpy(o->stage + o->len, data, k);
        o->len += k;
        data += k;
        n -= k;
    }
}

static void put_str(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

/* Read the UTF-8 character at s (at most avail bytes). Returns 1 with its
 * length in *len and its code point in *cp when it is well formed; 0 when
 * it is not (overlong forms, surrogates, values above U+10FFFF, cut
 * sequences), with *len the bytes of its longest well-formed beginning
 * (at least 1), which are replaced by one U+FFFD, as browsers do. */
static int utf8_next(const unsigned char *s, size_t avail, size_t *len, uint32_t *cp)
{
    unsigned char b = s[0], lo = 0x80, hi = 0xBF;
    size_t need;
    uint32_t v;
    *len = 1;
    if (b < 0x80) {
        *cp = b;
        return 1;
    } else if (b >= 0xC2 && b <= 0xDF) {
        need = 1;
        v = b & 0x1Fu;
    } else if (b >= 0xE0 && b <= 0xEF) {
        need = 2;
        v = b & 0x0Fu;
        lo = b == 0xE0 ? 0xA0 : 0x80; /* no overlong forms */
        hi = b == 0xED ? 0x9F : 0xBF; /* no surrogates */
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 3;
        v = b & 0x07u;
        lo = b == 0xF0 ? 0x90 : 0x80; /* no overlong forms */
        hi = b == 0xF4 ? 0x8F : 0xBF; /* nothing above U+10FFFF */
    } else {
        return 0;
    }
    for (size_t i = 1; i <= need; i++) {
        if (i >= avail || s[i] < lo || s[i] > hi) {
            *len = i;
            return 0;
        }
        v = (v << 6) | (s[i] & 0x3Fu);
        lo = 0x80;
        hi = 0xBF;
    }
    *len = need + 1;
    *cp = v;
    return 1;
}

/* The entity for an ASCII character that HTML gives a meaning, or NULL. */
static const char *entity(unsigned char c)
{
    switch (c) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '"':
        return "&quot;";
    case '\'':
        return "&#39;";
    default:
        return NULL;
    }
}

/* Write text from the ledger as HTML text (also safe in a quoted
 * attribute): the five special characters escaped, CR LF and a lone CR
 * made LF, other control characters and bytes that are not UTF-8 made
 * U+FFFD, so that the page stays one well-formed UTF-8 document. */
static void put_text(struct out *o, const char *text)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t n = strlen(text), start = 0, i = 0;
    while (i < n) {
        uint32_t cp = 0;
        size_t k = 0;
        const char *instead = NULL;
        int ok = utf8_next(s + i, n - i, &k, &cp);
        if (ok && cp == '\r') {
            instead = "\n";
            k = i + 1 < n && s[i + 1] == '\n' ? 2 : 1;
        } else if (ok && k == 1 && entity(s[i])) {
            instead = entity(s[i]);
        } else if (!ok || (cp < 0x20 && cp != '\n' && cp != '\t') || (cp >= 0x7F && cp <= 0x9F)) {
            instead = replacement;
        }
        if (instead) {
            put(o, text + start, i - start);
            put_str(o, instead);
            start = i + k;
        }
        i += k;
    }
    put(o, text + start, n - start);
}

/* 1 when text is NULL or only white space (ASCII or the ideographic space
 * U+3000), as the rules count a missing text. */
static int is_blank(const char *text)
{
    if (!text) {
        return 1;
    }
    for (const char *p = text; *p;) {
        if (*p == ' ' || (*p >= '\t' && *p <= '\r')) {
            p++;
        } else if (!strncmp(p, "\xE3\x80\x80", 3)) {
            p += 3;
        } else {
            return 0;
        }
    }
    return 1;
}

/* ---- words ---- */

/* Every fixed text of the page, in one language. */
struct words {
    const char *rules_lang; /* what rules.h is asked for */
    const char *html_lang;
    const char *title;
    const char *title_supplement;
    const char *case_no;
    const char *matter;
    const char *supplements_before, *supplements_after;
    const char *incomplete;
    const char *locked;
    const char *locked_before, *locked_after;
    const char *part1, *part2, *part3, *part4, *part5;
    const char *name, *role, *id_no, *phone, *address;
    const char *agreed;
    const char *method, *place, *deadline;
    const char *copies_before, *copies_after;
    const char *takes_effect;
    const char *party_sign, *mediator_sign, *seal;
    const char *date_label;
};

static const struct words zh_words = {
    .rules_lang = "zh",
    .html_lang = "zh-CN",
    .title = "人民调解协议书",
    .title_supplement = "补充协议",
    .case_no = "编号：",
    .matter = "案由：",
    .supplements_before = "本协议是对编号为",
    .supplements_after = "的人民调解协议书的补充。",
    .incomplete = "本协议尚不完整，缺少：",
    .locked = "已签署，不得修改。",
    .locked_before = "本协议已于",
    .locked_after = "签署；如需变更，只能另行签订补充协议。",
    .part1 = "（一）当事人基本情况",
    .part2 = "（二）纠纷的主要事实、争议事项及各方责任",
    .part3 = "（三）各方当事人的权利和义务",
    .part4 = "（四）履行方式、地点、期限",
    .part5 = "（五）签名和印章",
    .name = "姓名",
    .role = "角色",
    .id_no = "身份证号",
    .phone = "联系电话",
    .address = "住址",
    .agreed = "经调解，自愿达成如下协议：",
    .method = "履行方式：",
    .place = "履行地点：",
    .deadline = "履行期限：",
    .copies_before = "本协议一式",
    .copies_after = "份，当事人、人民调解委员会各持一份。",
    .takes_effect = "本协议自各方当事人签名、人民调解员签名并加盖人民调解委员会印章之日起生效。",
    .party_sign = "当事人（签名）：",
    .mediator_sign = "人民调解员（签名）：",
    .seal = "（人民调解委员会印章）",
    .date_label = "",
};

static const struct words en_words = {
    .rules_lang = "en",
    .html_lang = "en",
    .title = "People's Mediation Agreement",
    .title_supplement = "Supplementary Agreement",
    .case_no = "No.: ",
    .matter = "Matter: ",
    .supplements_before = "This agreement supplements the mediation agreement No. ",
    .supplements_after = ".",
    .incomplete = "This agreement is not complete. Missing:",
    .locked = "Signed: no changes allowed.",
    .locked_before = " This agreement was signed on ",
    .locked_after = "; it can be changed only by a supplementary agreement.",
    .part1 = "(1) The parties",
    .part2 = "(2) The main facts of the dispute, the matters in dispute and each party's "
             "responsibility",
    .part3 = "(3) The rights and obligations of each party",
    .part4 = "(4) Method, place and time limit of performance",
    .part5 = "(5) Signatures and seal",
    .name = "Name",
    .role = "Role",
    .id_no = "ID card no.",
    .phone = "Phone",
    .address = "Address",
    .agreed = "Through mediation, the parties have voluntarily agreed as follows:",
    .method = "Method of performance:",
    .place = "Place of performance:",
    .deadline = "Time limit of performance:",
    .copies_before = "This agreement is made in ",
    .copies_after = " copies; each party and the People's Mediation Committee keep one.",
    .takes_effect = "This agreement takes effect on the day the parties and the people's mediator "
                    "have signed it and the seal of the People's Mediation Committee has been "
                    "affixed.",
    .party_sign = "Party (signature):",
    .mediator_sign = "People's mediator (signature):",
    .seal = "(Seal of the People's Mediation Committee)",
    .date_label = "Date: ",
};

/* The words for lang, or NULL when lang is neither Chinese nor English. */
static const struct words *words_for(const char *lang)
{
    if (!lang) {
        return &zh_words;
    }
    int zh = (lang[0] == 'z' || lang[0] == 'Z') && (lang[1] == 'h' || lang[1] == 'H');
    int en = (lang[0] == 'e' || lang[0] == 'E') && (lang[1] == 'n' || lang[1] == 'N');
    if ((!zh && !en) || (lang[2] != '\0' && lang[2] != '-' && lang[2] != '_')) {
        return NULL;
    }
    return zh ? &zh_words : &en_words;
}

/* The roles of the reference data, in both languages. */
static const struct role_words {
    const char *zh, *token, *en;
} roles[] = {
    {"申请人", "applicant", "Applicant"},
    {"被申请人", "respondent", "Respondent"},
    {"第三人", "third_party", "Third party"},
};

/* role in the page's language when it is one of the known roles, else as
 * stored (NULL for NULL). */
static const char *role_label(const char *role, const struct words *w)
{
    if (!role) {
        return NULL;
    }
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
        if (!strcmp(role, roles[i].zh) || !strcmp(role, roles[i].token) ||
            !strcmp(role, roles[i].en)) {
            return w == &zh_words ? roles[i].zh : roles[i].en;
        }
    }
    return role;
}

/* A count in words: Chinese numerals up to 99 (三, 十二), English words up
 * to twelve, digits beyond. */
static void count_words(size_t n, const struct words *w, char *out, size_t len)
{
    static const char *const zh[] = {"", "一", "二", "三", "四", "五", "六", "七", "八", "九"};
    static const char *const en[] = {"zero",  "one",   "two",  "three", "four",   "five",  "six",
                                     "seven", "eight", "nine", "ten",   "eleven", "twelve"};
    if (w == &zh_words && n >= 1 && n <= 99) {
        snprintf(out, len, "%s%s%s", n >= 20 ? zh[n / 10] : "", n >= 10 ? "十" : "", zh[n % 10]);
    } else if (w == &en_words && n < sizeof en / sizeof en[0]) {
        snprintf(out, len, "%s", en[n]);
    } else {
        snprintf(out, len, "%zu", n);
    }
}

/* ---- dates ---- */

/* The day text names: "YYYY-MM-DD", or an RFC 3339 timestamp read as its
 * day in China. 0 or -1. */
static int day_of(const char *text, struct rules_date *out)
{
    if (rules_date_parse(text, out) == 0 || rules_date_of_rfc3339(text, out) == 0) {
        return 0;
    }
    return -1;
}

static void put_day(struct out *o, struct rules_date d, const struct words *w)
{
    static const char *const months[] = {"January",   "February", "March",    "April",
                                         "May",       "June",     "July",     "August",
                                         "September", "October",  "November", "December"};
    char text[DATE_TEXT];
    if (w == &zh_words) {
        snprintf(text, sizeof text, "%d年%d月%d日", d.year, d.month, d.day);
    } else {
        snprintf(text, sizeof text, "%d %s %d", d.day, months[d.month - 1], d.year);
    }
    put_str(o, text);
}

/* A date from the ledger: printed as a day when it is one, else as stored. */
static void put_date_text(struct out *o, const char *text, const struct words *w)
{
    struct rules_date d;
    if (day_of(text, &d) == 0) {
        put_day(o, d, w);
    } else {
        put_text(o, text);
    }
}

/* ---- pieces of the form ---- */

static const char style[] =
    "@page { size: A4; margin: 2cm; }\n"
    "* { box-sizing: border-box; }\n"
    "html { background: #e6e6e6; }\n"
    "body { max-width: 21cm; margin: 1cm auto; padding: 2cm; background: #fff; color: #000;\n"
    "  font-family: \"Songti SC\", \"SimSun\", \"Noto Serif CJK SC\", serif;\n"
    "  font-size: 12pt; line-height: 1.9; }\n"
    "@media screen { body { box-shadow: 0 0 0.3cm rgba(0, 0, 0, 0.25); } }\n"
    "@media print { html { background: none; } body { max-width: none; margin: 0; padding: 0; } "
    "}\n"
    "h1 { margin: 0.2em 0; font-size: 22pt; text-align: center; letter-spacing: 0.2em; }\n"
    "html[lang=\"en\"] h1 { letter-spacing: normal; }\n"
    "h2 { margin: 1.2em 0 0.4em; font-size: 13pt; break-after: avoid; }\n"
    "p { margin: 0.3em 0; }\n"
    ".committee { margin: 0; font-size: 14pt; text-align: center; }\n"
    ".case-no { text-align: right; }\n"
    ".text { white-space: pre-wrap; overflow-wrap: anywhere; }\n"
    ".fill > div { height: 1.9em; border-bottom: 1px solid #000; }\n"
    ".field { display: flex; align-items: flex-start; margin: 0.4em 0; }\n"
    ".field > .label { flex: none; padding-right: 0.3em; white-space: nowrap; }\n"
    ".field > .text, .field > .fill { flex: 1; min-width: 0; }\n"
    ".blank { display: inline-block; min-width: 2.5em; border-bottom: 1px solid #000; }\n"
    ".blank.wide { min-width: 12em; }\n"
    ".blank.year { min-width: 4em; }\n"
    "table.party { width: 100%; margin: 0.4em 0 0.9em; border-collapse: collapse;\n"
    "  table-layout: fixed; break-inside: avoid; }\n"
    "table.party th { width: 5.5em; padding: 0.1em 0.4em 0 0; font-weight: normal;\n"
    "  text-align: left; vertical-align: bottom; white-space: nowrap; }\n"
    "html[lang=\"en\"] table.party th { width: 7.5em; }\n"
    "table.party td { height: 2em; padding: 0.1em 0.4em 0; border-bottom: 1px solid #000;\n"
    "  vertical-align: bottom; overflow-wrap: anywhere; }\n"
    ".notice { margin: 0 0 1em; padding: 0.5em 0.8em; border: 2px solid #000;\n"
    "  break-inside: avoid; -webkit-print-color-adjust: exact; print-color-adjust: exact; }\n"
    ".notice.incomplete { border: 3px double #b00000; color: #b00000; background: #fff3f3; }\n"
    ".notice ul { margin: 0.2em 0 0; padding-left: 1.5em; }\n"
    ".closing { margin-top: 1.2em; }\n"
    ".closing p { text-indent: 2em; }\n"
    ".signatures { break-inside: avoid; }\n"
    ".sign { display: flex; align-items: flex-end; margin: 1.4em 0; }\n"
    ".sign .label { flex: 0 0 10em; }\n"
    "html[lang=\"en\"] .sign .label { flex-basis: 13em; }\n"
    ".sign .line { flex: 0 0 6cm; height: 1.9em; margin: 0 0.6em; border-bottom: 1px solid "
    "#000; }\n"
    ".sign .who { font-size: 10.5pt; }\n"
    ".seal { width: 10cm; margin: 2em 0 0 auto; padding-top: 1em; text-align: center; }\n";

static void put_head(struct out *o, const struct agreement_html *in, const struct words *w)
{
    put_str(o, "<!DOCTYPE html>\n<html lang=\"");
    put_str(o, w->html_lang);
    /* The policy makes the promise of the module hold in the browser too:
     * nothing is loaded from anywhere, and no script runs. */
    put_str(o, "\">\n<head>\n<meta charset=\"utf-8\">\n"
               "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
               "style-src 'unsafe-inline'\">\n"
               "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
               "<title>");
    put_str(o, in->supplements_case_no ? w->title_supplement : w->title);
    if (!is_blank(in->case_no)) {
        put_str(o, " ");
        put_text(o, in->case_no);
    }
    put_str(o, "</title>\n<style>\n");
    put_str(o, style);
    put_str(o, "</style>\n</head>\n<body>\n");
    flush(o);
}

/* Ruled lines to fill in by hand. */
static void put_fill(struct out *o, int lines)
{
    put_str(o, "<div class=\"fill\">");
    for (int i = 0; i < lines; i++) {
        put_str(o, "<div></div>");
    }
    put_str(o, "</div>\n");
}

/* A long text, its line breaks kept, or ruled lines when it is missing. */
static void put_long(struct out *o, const char *text, int present, int lines)
{
    if (present) {
        put_str(o, "<div class=\"text\">");
        put_text(o, text);
        put_str(o, "</div>\n");
    } else {
        put_fill(o, lines);
    }
}

static void put_notices(struct out *o, const struct agreement_html *in, const struct words *w,
                        const enum rules_agreement_item *missing, size_t nmissing)
{
    if (nmissing > 0) {
        put_str(o, "<div class=\"notice incomplete\" role=\"alert\">\n<p><strong>");
        put_str(o, w->incomplete);
        put_str(o, "</strong></p>\n<ul>\n");
        for (size_t i = 0; i < nmissing; i++) {
            const char *label = rules_agreement_item_label(missing[i], w->rules_lang);
            if (label) {
                put_str(o, "<li>");
                put_str(o, label);
                put_str(o, "</li>\n");
            }
        }
        put_str(o, "</ul>\n</div>\n");
    }
    if (rules_agreement_is_signed(in->agreement)) {
        put_str(o, "<div class=\"notice locked\">\n<p><strong>");
        put_str(o, w->locked);
        put_str(o, "</strong>");
        put_str(o, w->locked_before);
        put_date_text(o, in->agreement->signed_at, w);
        put_str(o, w->locked_after);
        put_str(o, "</p>\n</div>\n");
    }
    flush(o);
}

/* The committee's name: 青石镇白沙村人民调解委员会. */
static void put_committee(struct out *o, const struct agreement_html *in, const struct words *w)
{
    if (w == &zh_words) {
        if (!is_blank(in->township)) {
            put_text(o, in->township);
        }
        put_text(o, in->village_name);
        put_str(o, "人民调解委员会");
    } else {
        put_str(o, "People's Mediation Committee of ");
        put_text(o, in->village_name);
        if (!is_blank(in->township)) {
            put_str(o, ", ");
            put_text(o, in->township);
        }
    }
}

static void put_header(struct out *o, const struct agreement_html *in, const struct words *w)
{
    put_str(o, "<header>\n<p class=\"committee\">");
    put_committee(o, in, w);
    put_str(o, "</p>\n<h1>");
    put_str(o, in->supplements_case_no ? w->title_supplement : w->title);
    put_str(o, "</h1>\n<p class=\"case-no\">");
    put_str(o, w->case_no);
    if (is_blank(in->case_no)) {
        put_str(o, "<span class=\"blank wide\"></span>");
    } else {
        put_text(o, in->case_no);
    }
    put_str(o, "</p>\n");
    if (in->supplements_case_no) {
        put_str(o, "<p class=\"supplements\">");
        put_str(o, w->supplements_before);
        if (is_blank(in->supplements_case_no)) {
            put_str(o, "<span class=\"blank wide\"></span>");
        } else {
            put_text(o, in->supplements_case_no);
        }
        put_str(o, w->supplements_after);
        put_str(o, "</p>\n");
    }
    if (!is_blank(in->title)) {
        put_str(o, "<p class=\"matter\">");
        put_str(o, w->matter);
        put_text(o, in->title);
        put_str(o, "</p>\n");
    }
    put_str(o, "</header>\n");
    flush(o);
}

/* A personal number, masked unless reveal is set; nothing when blank. */
static void put_number(struct out *o, const char *number, int reveal,
                       int (*mask)(const char *, char *, size_t))
{
    if (!number || is_blank(number)) {
        return;
    }
    if (reveal) {
        put_text(o, number);
        return;
    }
    /* A mask is never longer than the number: one star per character. */
    size_t len = strlen(number) + 1;
    char *masked = malloc(len);
    if (!masked) {
        fail_with(o, SYNC_E_NOMEM);
        return;
    }
    if (mask(number, masked, len) == 0) {
        put_text(o, masked);
    }
    free(masked);
}

/* A table cell holding text, or left empty (a line to write on). */
static void put_cell(struct out *o, const char *text)
{
    put_str(o, "<td>");
    if (!is_blank(text)) {
        put_text(o, text);
    }
    put_str(o, "</td>");
}

static void put_party(struct out *o, const struct agreement_html_party *p, int reveal,
                      const struct words *w)
{
    put_str(o, "<table class=\"party\">\n<tr><th>");
    put_str(o, w->name);
    put_str(o, "</th>");
    put_cell(o, p->name);
    put_str(o, "<th>");
    put_str(o, w->role);
    put_str(o, "</th>");
    put_cell(o, role_label(p->role, w));
    put_str(o, "</tr>\n<tr><th>");
    put_str(o, w->id_no);
    put_str(o, "</th><td>");
    put_number(o, p->id_no, reveal, rules_mask_id_no);
    put_str(o, "</td><th>");
    put_str(o, w->phone);
    put_str(o, "</th><td>");
    put_number(o, p->phone, reveal, rules_mask_phone);
    put_str(o, "</td></tr>\n<tr><th>");
    put_str(o, w->address);
    put_str(o, "</th><td colspan=\"3\">");
    if (!is_blank(p->address)) {
        put_text(o, p->address);
    }
    put_str(o, "</td></tr>\n</table>\n");
    flush(o);
}

static void put_part1(struct out *o, const struct agreement_html *in, const struct words *w,
                      const int *present)
{
    static const struct agreement_html_party blank_party = {0};
    put_str(o, "<section class=\"part1\">\n<h2>");
    put_str(o, w->part1);
    put_str(o, "</h2>\n");
    for (size_t i = 0; i < in->nparties; i++) {
        put_party(o, &in->parties[i], in->reveal, w);
    }
    for (size_t i = 0; in->nparties == 0 && i < BLANK_PARTIES; i++) {
        put_party(o, &blank_party, in->reveal, w);
    }
    put_long(o, in->agreement->parties_details, present[RULES_AGR_PARTIES], DETAILS_LINES);
    put_str(o, "</section>\n");
    flush(o);
}

static void put_part(struct out *o, const char *heading, const char *lead, const char *text,
                     int present, int lines)
{
    put_str(o, "<section>\n<h2>");
    put_str(o, heading);
    put_str(o, "</h2>\n");
    if (lead) {
        put_str(o, "<p class=\"lead\">");
        put_str(o, lead);
        put_str(o, "</p>\n");
    }
    put_long(o, text, present, lines);
    put_str(o, "</section>\n");
    flush(o);
}

/* One item of part (4): its label, then the text or ruled lines. */
static void put_field(struct out *o, const char *label, const char *text, int present, int lines,
                      int is_date, const struct words *w)
{
    put_str(o, "<div class=\"field\">\n<div class=\"label\">");
    put_str(o, label);
    put_str(o, "</div>\n");
    if (present && is_date) {
        put_str(o, "<div class=\"text\">");
        put_date_text(o, text, w);
        put_str(o, "</div>\n");
    } else {
        put_long(o, text, present, lines);
    }
    put_str(o, "</div>\n");
}

static void put_part4(struct out *o, const struct agreement_html *in, const struct words *w,
                      const int *present)
{
    const struct rules_agreement *a = in->agreement;
    put_str(o, "<section class=\"part4\">\n<h2>");
    put_str(o, w->part4);
    put_str(o, "</h2>\n");
    put_field(o, w->method, a->performance_method, present[RULES_AGR_PERFORMANCE_METHOD],
              METHOD_LINES, 0, w);
    put_field(o, w->place, a->performance_place, present[RULES_AGR_PERFORMANCE_PLACE], SHORT_LINES,
              0, w);
    put_field(o, w->deadline, a->performance_deadline, present[RULES_AGR_PERFORMANCE_DEADLINE],
              SHORT_LINES, 1, w);
    put_str(o, "</section>\n");
    flush(o);
}

static void put_closing(struct out *o, const struct agreement_html *in, const struct words *w)
{
    /* Each party keeps a copy, and the committee one. */
    size_t copies = in->nparties + 1 < MIN_COPIES ? MIN_COPIES : in->nparties + 1;
    char count[32];
    count_words(copies, w, count, sizeof count);
    put_str(o, "<section class=\"closing\">\n<p>");
    put_str(o, w->copies_before);
    put_str(o, count);
    put_str(o, w->copies_after);
    put_str(o, "</p>\n<p>");
    put_str(o, w->takes_effect);
    put_str(o, "</p>\n</section>\n");
    flush(o);
}

/* A signature line with, after it, whose signature it is. */
static void put_sign_line(struct out *o, const char *label, const char *name, const char *role,
                          const struct words *w)
{
    put_str(o, "<div class=\"sign\"><span class=\"label\">");
    put_str(o, label);
    put_str(o, "</span><span class=\"line\"></span><span class=\"who\">");
    if (!is_blank(name)) {
        put_text(o, name);
        if (!is_blank(role)) {
            put_str(o, w == &zh_words ? "（" : " (");
            put_text(o, role_label(role, w));
            put_str(o, w == &zh_words ? "）" : ")");
        }
    }
    put_str(o, "</span></div>\n");
}

static void put_signatures(struct out *o, const struct agreement_html *in, const struct words *w)
{
    put_str(o, "<section class=\"signatures\">\n<h2>");
    put_str(o, w->part5);
    put_str(o, "</h2>\n");
    for (size_t i = 0; i < in->nparties; i++) {
        put_sign_line(o, w->party_sign, in->parties[i].name, in->parties[i].role, w);
    }
    for (size_t i = 0; in->nparties == 0 && i < BLANK_PARTIES; i++) {
        put_sign_line(o, w->party_sign, NULL, NULL, w);
    }
    put_sign_line(o, w->mediator_sign, in->mediator_name, NULL, w);

    put_str(o, "<div class=\"seal\">\n<p class=\"committee-name\">");
    put_committee(o, in, w);
    put_str(o, "</p>\n<p>");
    put_str(o, w->seal);
    put_str(o, "</p>\n<p class=\"date\">");
    put_str(o, w->date_label);
    if (rules_agreement_is_signed(in->agreement)) {
        put_date_text(o, in->agreement->signed_at, w);
    } else if (w == &zh_words) {
        put_str(o, "<span class=\"blank year\"></span>年<span class=\"blank\"></span>月"
                   "<span class=\"blank\"></span>日");
    } else {
        put_str(o, "<span class=\"blank wide\"></span>");
    }
    put_str(o, "</p>\n</div>\n</section>\n");
    flush(o);
}

/* ---- the page ---- */

int agreement_html_write(const struct agreement_html *in, ledger_io_write_fn write, void *ctx)
{
    if (!in || !write || !in->agreement || !in->village_name || !in->village_name[0] ||
        (in->nparties > 0 && !in->parties) || (in->reveal != 0 && in->reveal != 1)) {
        return SYNC_E_ARG;
    }
    const struct words *w = words_for(in->lang);
    if (!w) {
        return SYNC_E_ARG;
    }
    const struct rules_agreement *a = in->agreement;
    enum rules_agreement_item missing[RULES_AGR_COUNT];
    size_t nmissing = rules_agreement_missing(a, missing);
    /* What is present is what the rules do not call missing, so that the
     * notice and the ruled lines always agree. */
    int present[RULES_AGR_COUNT];
    for (int i = 0; i < RULES_AGR_COUNT; i++) {
        present[i] = 1;
    }
    for (size_t i = 0; i < nmissing; i++) {
        present[missing[i]] = 0;
    }

    struct out page = {.write = write, .ctx = ctx, .err = 0, .len = 0};
    struct out *o = &page;

    put_head(o, in, w);
    put_notices(o, in, w, missing, nmissing);
    put_header(o, in, w);
    put_part1(o, in, w, present);
    put_part(o, w->part2, NULL, a->facts_and_liability, present[RULES_AGR_FACTS], FACTS_LINES);
    put_part(o, w->part3, w->agreed, a->rights_obligations, present[RULES_AGR_RIGHTS],
             RIGHTS_LINES);
    put_part4(o, in, w, present);
    put_closing(o, in, w);
    put_signatures(o, in, w);
    put_str(o, "</body>\n</html>\n");
    flush(o);

    return o->err;
}
