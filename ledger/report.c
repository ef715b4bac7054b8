/* SPDX-License-Identifier: MIT */
/*
 * report.c - the township's figures as a table, CSV and JSON (report.h).
 *
 * The figures arrive computed (rules_figures_compute()); this file only
 * lays them out. The table pads by terminal display width, since a Chinese
 * character takes two columns; the CSV follows RFC 4180 with a byte order
 * mark and a guard against spreadsheet formulas; the JSON is built with
 * cJSON. Output goes to the caller's write callback a line or a document at
 * a time, and the first refusal stops it.
 */
#include "report.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync_error.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Room for any one cell: a rate with two 20-digit counts, a count, a mark. */
#define CELL_MAX 96

/* Room for a figure's name: a category label with its indent. */
#define LABEL_MAX (RULES_LABEL_MAX + 16)

/* Lines of the table: 20 fixed ones, the kinds, channels and categories. */
#define MAX_LINES (24 + RULES_KIND_COUNT + RULES_CHANNEL_COUNT + RULES_MAX_CATEGORIES)

#define COLUMN_GAP 2 /* spaces between the columns of the table */

/* ---- a growing output buffer ---- */

struct text {
    char *data;
    size_t len, cap;
    int failed; /* an allocation failed: everything after is dropped */
};

static void text_add(struct text *t, const char *data, size_t len)
{
    if (t->failed || len == 0) {
        return;
    }
    if (t->cap - t->len < len) {
        size_t cap = t->cap ? t->cap : 512;
        while (cap - t->len < len) {
            if (cap > SIZE_MAX / 2) {
                t->failed = 1;
                return;
            }
            cap *= 2;
        }
        char *data_new = realloc(t->data, cap);
        if (!data_new) {
            t->failed = 1;
            return;
        }
        t->data = data_new;
        t->cap = cap;
    }
    memcpy(t->data + t->len, data, len);
    t->len += len;
}

static void text_str(struct text *t, const char *s)
{
    text_add(t, s, strlen(s));
}

static void text_repeat(struct text *t, char c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        text_add(t, &c, 1);
    }
}

/* Hand what was gathered to write, and start afresh. */
static int text_flush(struct text *t, ledger_io_write_fn write, void *ctx)
{
    if (t->failed) {
        return SYNC_E_NOMEM;
    }
    int rc = t->len ? write(ctx, t->data, t->len) : 0;
    t->len = 0;
    return rc;
}

static void text_free(struct text *t)
{
    free(t->data);
    t->data = NULL;
    t->len = t->cap = 0;
}

/* ---- UTF-8 and display width ---- */

/* Decode the character at s: its length in bytes (at least 1), and its
 * code point in *cp. A byte that starts no well-formed character is one
 * character of its own, U+FFFD. */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
    size_t n;
    uint32_t c, min;
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    } else if ((s[0] & 0xE0) == 0xC0) {
        n = 2, c = s[0] & 0x1Fu, min = 0x80;
    } else if ((s[0] & 0xF0) == 0xE0) {
        n = 3, c = s[0] & 0x0Fu, min = 0x800;
    } else if ((s[0] & 0xF8) == 0xF0) {
        n = 4, c = s[0] & 0x07u, min = 0x10000;
    } else {
        *cp = 0xFFFD;
        return 1;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) { /* also stops at the NUL */
            *cp = 0xFFFD;
            return 1;
        }
        c = c << 6 | (s[i] & 0x3Fu);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
        *cp = 0xFFFD;
        return 1;
    }
    *cp = c;
    return n;
}

/* 1 when a terminal gives the character two columns: the East Asian wide
 * and full-width ranges (Hangul, CJK, kana, full-width forms, emoji). */
static int is_wide(uint32_t cp)
{
    static const uint32_t wide[][2] = {
        {0x1100, 0x115F},   {0x2E80, 0x303E},   {0x3041, 0x33FF},   {0x3400, 0x4DBF},
        {0x4E00, 0x9FFF},   {0xA000, 0xA4CF},   {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},
        {0xFE30, 0xFE4F},   {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x1F300, 0x1F64F},
        {0x1F900, 0x1F9FF}, {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD},
    };
    for (size_t i = 0; i < COUNT(wide); i++) {
        if (cp >= wide[i][0] && cp <= wide[i][1]) {
            return 1;
        }
    }
    return 0;
}

/* The columns s takes in a terminal: two for a wide character, one for
 * any other (a control character is shown as '?', see text_add_clean). */
static size_t display_width(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t width = 0;
    while (*p) {
        uint32_t cp;
        p += utf8_next(p, &cp);
        width += is_wide(cp) ? 2 : 1;
    }
    return width;
}

/* Append s with control characters (C0, DEL, C1) replaced by '?', so that
 * a village name cannot move the cursor or break the table's lines. */
static void text_add_clean(struct text *t, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t cp;
        size_t n = utf8_next(p, &cp);
        if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) {
            text_add(t, "?", 1);
        } else {
            text_add(t, (const char *)p, n);
        }
        p += n;
    }
}

/* Append s, cleaned, and spaces up to width columns, on the side asked. */
static void text_pad(struct text *t, const char *s, size_t width, int right_align)
{
    size_t w = display_width(s);
    size_t fill = w < width ? width - w : 0;
    if (right_align) {
        text_repeat(t, ' ', fill);
    }
    text_add_clean(t, s);
    if (!right_align) {
        text_repeat(t, ' ', fill);
    }
}

/* ---- checking the report ---- */

/* 1 when lang asks for Chinese: NULL (the default), "zh", "zh-CN", "zh_TW". */
static int want_zh(const char *lang)
{
    return !lang || ((lang[0] == 'z' || lang[0] == 'Z') && (lang[1] == 'h' || lang[1] == 'H') &&
                     (lang[2] == '\0' || lang[2] == '-' || lang[2] == '_'));
}

static const struct rules_figures *first_figures(const struct report *r)
{
    return r->nrows > 0 ? &r->rows[0].figures : &r->total->figures;
}

static int same_days(const struct rules_figures *a, const struct rules_figures *b)
{
    return rules_date_cmp(a->period.first, b->period.first) == 0 &&
           rules_date_cmp(a->period.last, b->period.last) == 0 &&
           rules_date_cmp(a->as_of, b->as_of) == 0;
}

/* 0 when r can be rendered (report.h lists the rules), else SYNC_E_ARG. */
static int check_report(const struct report *r, ledger_io_write_fn write)
{
    if (!r || !write || !r->config || (r->nrows > 0 && !r->rows) || (r->nrows == 0 && !r->total) ||
        r->nrows >= SIZE_MAX / sizeof(struct report_row) - 1) {
        return SYNC_E_ARG;
    }
    if (rules_config_check(r->config) != 0 || !rules_date_valid(r->today)) {
        return SYNC_E_ARG;
    }
    for (size_t i = 0; i < r->config->ncategories; i++) {
        if (strcmp(r->config->categories[i].name, "unlisted") == 0) {
            return SYNC_E_ARG;
        }
    }
    const struct rules_figures *f = first_figures(r);
    if (!rules_date_valid(f->period.first) || !rules_date_valid(f->period.last) ||
        !rules_date_valid(f->as_of)) {
        return SYNC_E_ARG;
    }
    for (size_t i = 0; i < r->nrows; i++) {
        if (!r->rows[i].village || !same_days(&r->rows[i].figures, f)) {
            return SYNC_E_ARG;
        }
    }
    if (r->total && !same_days(&r->total->figures, f)) {
        return SYNC_E_ARG;
    }
    return 0;
}

/* ---- pieces shared by the formats ---- */

static const char *const rate_tokens[3] = {"participation", "success", "satisfaction"};

/* The i-th rate of f, in the order of rate_tokens. */
static const struct rules_rate *rate_at(const struct rules_figures *f, size_t i)
{
    return i == 0 ? &f->participation : i == 1 ? &f->success : &f->satisfaction;
}

static int target_at(const struct rules_config *config, size_t i)
{
    return i == 0   ? config->target_participation_bp
           : i == 1 ? config->target_success_bp
                    : config->target_satisfaction_bp;
}

/* The token of kind or channel i, index 0 being "unknown". */
static const char *kind_token(size_t i)
{
    return i == 0 ? "unknown" : rules_kind_name((enum rules_kind)i);
}

static const char *channel_token(size_t i)
{
    return i == 0 ? "unknown" : rules_channel_name((enum rules_channel)i);
}

/* The name to show for a village: its name, or its code when it has none. */
static const char *row_name(const struct report_row *row)
{
    return row->name ? row->name : row->village;
}

/* ---- the table ---- */

enum line_kind {
    LINE_RULE, /* a ruled line, with the label as its caption */
    LINE_RECEIVED,
    LINE_KIND, /* index: enum rules_kind, 0 unknown */
    LINE_CHANNEL,
    LINE_CATEGORY, /* index: the config's category */
    LINE_UNLISTED,
    LINE_CONCLUDED,
    LINE_RATE,   /* index: rate_at() */
    LINE_TARGET, /* the target of the rate above, and whether it is met */
    LINE_OVERDUE,
    LINE_OVERDUE_OPEN,
    LINE_FOLLOWUPS_DUE,
    LINE_FOLLOWUPS_DONE,
    LINE_FOLLOWUPS_OVERDUE,
};

struct line {
    enum line_kind kind;
    size_t index;
    char label[LABEL_MAX];
};

struct lines {
    struct line line[MAX_LINES];
    size_t n;
};

static void add_line(struct lines *ls, enum line_kind kind, size_t index, const char *indent,
                     const char *label)
{
    if (ls->n < MAX_LINES) {
        struct line *ln = &ls->line[ls->n++];
        ln->kind = kind;
        ln->index = index;
        snprintf(ln->label, sizeof ln->label, "%s%s", indent, label ? label : "?");
    }
}

/* The rows of the table, in order, with their names in the language. */
static void table_lines(const struct rules_config *config, int zh, struct lines *ls)
{
    const char *lang = zh ? "zh" : "en";
    static const char *const rate_zh[3] = {"参调率", "调解成功率", "满意率"};
    static const char *const rate_en[3] = {"participation rate", "success rate",
                                           "satisfaction rate"};
    const char *unknown = zh ? "未注明" : "not recorded";

    ls->n = 0;
    add_line(ls, LINE_RULE, 0, "", "");
    add_line(ls, LINE_RECEIVED, 0, "", zh ? "受理数" : "received");
    add_line(ls, LINE_RULE, 0, "", zh ? "按类型" : "by kind");
    for (size_t k = 1; k < RULES_KIND_COUNT; k++) {
        add_line(ls, LINE_KIND, k, "  ", rules_kind_label((enum rules_kind)k, lang));
    }
    add_line(ls, LINE_KIND, 0, "  ", unknown);
    add_line(ls, LINE_RULE, 0, "", zh ? "按渠道" : "by channel");
    for (size_t c = 1; c < RULES_CHANNEL_COUNT; c++) {
        add_line(ls, LINE_CHANNEL, c, "  ", rules_channel_label((enum rules_channel)c, lang));
    }
    add_line(ls, LINE_CHANNEL, 0, "  ", unknown);
    add_line(ls, LINE_RULE, 0, "", zh ? "按类别" : "by category");
    for (size_t i = 0; i < config->ncategories; i++) {
        add_line(ls, LINE_CATEGORY, i, "  ",
                 rules_category_label(config, config->categories[i].name, lang));
    }
    add_line(ls, LINE_UNLISTED, 0, "  ", zh ? "其他未列明" : "unlisted");
    add_line(ls, LINE_RULE, 0, "", "");
    add_line(ls, LINE_CONCLUDED, 0, "", zh ? "办结数" : "concluded");
    for (size_t i = 0; i < COUNT(rate_tokens); i++) {
        char target[32], label[48];
        if (rules_bp_format(target_at(config, i), target, sizeof target) != 0) {
            snprintf(target, sizeof target, "?");
        }
        snprintf(label, sizeof label, "%s %s", zh ? "目标" : "target", target);
        add_line(ls, LINE_RATE, i, "", zh ? rate_zh[i] : rate_en[i]);
        add_line(ls, LINE_TARGET, i, "  ", label);
    }
    add_line(ls, LINE_RULE, 0, "", "");
    add_line(ls, LINE_OVERDUE, 0, "", zh ? "逾期数" : "overdue");
    add_line(ls, LINE_OVERDUE_OPEN, 0, "", zh ? "当前逾期未结" : "overdue and open");
    add_line(ls, LINE_FOLLOWUPS_DUE, 0, "", zh ? "应回访" : "follow-ups due");
    add_line(ls, LINE_FOLLOWUPS_DONE, 0, "", zh ? "已回访" : "follow-ups done");
    add_line(ls, LINE_FOLLOWUPS_OVERDUE, 0, "", zh ? "回访逾期" : "follow-ups overdue");
}

/* The count a line shows for f. */
static size_t line_count(const struct line *ln, const struct rules_figures *f)
{
    switch (ln->kind) {
    case LINE_RECEIVED:
        return f->received;
    case LINE_KIND:
        return f->received_by_kind[ln->index];
    case LINE_CHANNEL:
        return f->received_by_channel[ln->index];
    case LINE_CATEGORY:
        return f->received_by_category[ln->index];
    case LINE_UNLISTED:
        return f->received_unlisted_category;
    case LINE_CONCLUDED:
        return f->concluded;
    case LINE_OVERDUE:
        return f->overdue;
    case LINE_OVERDUE_OPEN:
        return f->overdue_open;
    case LINE_FOLLOWUPS_DUE:
        return f->followups_due;
    case LINE_FOLLOWUPS_DONE:
        return f->followups_done;
    case LINE_FOLLOWUPS_OVERDUE:
        return f->followups_overdue;
    default:
        return 0;
    }
}

/* The cell of line ln in the column of f, into buf. */
static void cell_text(const struct line *ln, const struct rules_figures *f, int zh, char *buf,
                      size_t len)
{
    const struct rules_rate *rate;
    char percent[32];
    buf[0] = '\0';
    switch (ln->kind) {
    case LINE_RULE:
        break;
    case LINE_RATE:
        rate = rate_at(f, ln->index);
        if (rules_rate_format(rate, zh ? "zh" : "en", percent, sizeof percent) != 0) {
            snprintf(percent, sizeof percent, "?");
        }
        if (rate->den == 0) {
            snprintf(buf, len, "%s", percent);
        } else {
            snprintf(buf, len, "%s (%zu/%zu)", percent, rate->num, rate->den);
        }
        break;
    case LINE_TARGET:
        switch (rate_at(f, ln->index)->verdict) {
        case RULES_RATE_MEETS:
            snprintf(buf, len, "%s", zh ? "达标" : "meets");
            break;
        case RULES_RATE_BELOW:
            snprintf(buf, len, "%s", zh ? "未达标" : "below target");
            break;
        default:
            snprintf(buf, len, "-");
            break;
        }
        break;
    default:
        snprintf(buf, len, "%zu", line_count(ln, f));
        break;
    }
}

/* One column of the table: its heading and its figures. */
struct column {
    const char *heading;
    const struct rules_figures *figures;
    size_t width;
};

/* The period in words: 2024年3月 / March 2024 for a calendar month, 2024年
 * / 2024 for a calendar year, and NULL for any other span. */
static const char *period_words(const struct rules_period *p, int zh, char *buf, size_t len)
{
    static const char *const months[12] = {"January",   "February", "March",    "April",
                                           "May",       "June",     "July",     "August",
                                           "September", "October",  "November", "December"};
    struct rules_date a = p->first, b = p->last;
    if (a.year != b.year || a.day != 1) {
        return NULL;
    }
    if (a.month == 1 && b.month == 12 && b.day == 31) {
        if (zh) {
            snprintf(buf, len, "%d年", a.year);
        } else {
            snprintf(buf, len, "%d", a.year);
        }
        return buf;
    }
    if (a.month == b.month && b.day == rules_days_in_month(b.year, b.month)) {
        if (zh) {
            snprintf(buf, len, "%d年%d月", a.year, a.month);
        } else {
            snprintf(buf, len, "%s %d", months[a.month - 1], a.year);
        }
        return buf;
    }
    return NULL;
}

/* The heading line and the blank line under it. */
static void table_heading(struct text *t, const struct rules_figures *f, int zh)
{
    char first[RULES_DATE_LEN + 1], last[RULES_DATE_LEN + 1], as_of[RULES_DATE_LEN + 1];
    char words[32], line[160];
    (void)rules_date_format(f->period.first, first);
    (void)rules_date_format(f->period.last, last);
    (void)rules_date_format(f->as_of, as_of);
    const char *named = period_words(&f->period, zh, words, sizeof words);
    if (zh && named) {
        snprintf(line, sizeof line, "统计期间：%s（%s 至 %s），截至 %s\n\n", named, first, last,
                 as_of);
    } else if (zh) {
        snprintf(line, sizeof line, "统计期间：%s 至 %s，截至 %s\n\n", first, last, as_of);
    } else if (named) {
        snprintf(line, sizeof line, "Figures for %s (%s to %s), as of %s\n\n", named, first, last,
                 as_of);
    } else {
        snprintf(line, sizeof line, "Figures for %s to %s, as of %s\n\n", first, last, as_of);
    }
    text_str(t, line);
}

/* Write one block of the table: the figure names and columns [from, to). */
static int table_block(const struct lines *ls, const struct column *cols, size_t from, size_t to,
                       size_t label_width, int zh, struct text *t, ledger_io_write_fn write,
                       void *ctx)
{
    size_t width = label_width;
    for (size_t c = from; c < to; c++) {
        width += COLUMN_GAP + cols[c].width;
    }
    text_pad(t, zh ? "项目" : "figure", label_width, 0);
    for (size_t c = from; c < to; c++) {
        text_repeat(t, ' ', COLUMN_GAP);
        text_pad(t, cols[c].heading, cols[c].width, 1);
    }
    text_add(t, "\n", 1);
    int rc = text_flush(t, write, ctx);
    for (size_t i = 0; rc == 0 && i < ls->n; i++) {
        const struct line *ln = &ls->line[i];
        if (ln->kind == LINE_RULE) {
            size_t caption = display_width(ln->label);
            if (caption > 0 && caption + 1 < width) {
                text_str(t, ln->label);
                text_add(t, " ", 1);
                text_repeat(t, '-', width - caption - 1);
            } else {
                text_repeat(t, '-', width);
            }
        } else {
            text_pad(t, ln->label, label_width, 0);
            for (size_t c = from; c < to; c++) {
                char cell[CELL_MAX];
                cell_text(ln, cols[c].figures, zh, cell, sizeof cell);
                text_repeat(t, ' ', COLUMN_GAP);
                text_pad(t, cell, cols[c].width, 1);
            }
        }
        text_add(t, "\n", 1);
        rc = text_flush(t, write, ctx);
    }
    return rc;
}

int report_write_table(const struct report *r, ledger_io_write_fn write, void *ctx)
{
    int rc = check_report(r, write);
    if (rc != 0) {
        return rc;
    }
    int zh = want_zh(r->lang);
    struct text t = {0};
    struct lines *ls = malloc(sizeof *ls);
    size_t ncols = r->nrows + (r->total ? 1 : 0);
    struct column *cols = calloc(ncols, sizeof *cols);
    if (!ls || !cols) {
        rc = SYNC_E_NOMEM;
        goto done;
    }
    table_lines(r->config, zh, ls);

    /* Every column as wide as its widest cell; the names as wide as the
     * widest name. */
    size_t label_width = display_width(zh ? "项目" : "figure");
    for (size_t i = 0; i < ls->n; i++) {
        if (ls->line[i].kind != LINE_RULE) {
            size_t w = display_width(ls->line[i].label);
            label_width = w > label_width ? w : label_width;
        }
    }
    for (size_t c = 0; c < ncols; c++) {
        struct column *col = &cols[c];
        if (c < r->nrows) {
            col->heading = row_name(&r->rows[c]);
            col->figures = &r->rows[c].figures;
        } else {
            col->heading = zh ? "合计" : "total";
            col->figures = &r->total->figures;
        }
        col->width = display_width(col->heading);
        for (size_t i = 0; i < ls->n; i++) {
            char cell[CELL_MAX];
            cell_text(&ls->line[i], col->figures, zh, cell, sizeof cell);
            size_t w = display_width(cell);
            col->width = w > col->width ? w : col->width;
        }
    }

    table_heading(&t, first_figures(r), zh);
    rc = text_flush(&t, write, ctx);

    /* As many columns to a block as fit in REPORT_TABLE_WIDTH, at least
     * one; blocks are parted by a blank line. */
    for (size_t from = 0; rc == 0 && from < ncols;) {
        size_t to = from, width = label_width;
        while (to < ncols &&
               (to == from || width + COLUMN_GAP + cols[to].width <= REPORT_TABLE_WIDTH)) {
            width += COLUMN_GAP + cols[to].width;
            to++;
        }
        if (from > 0) {
            text_add(&t, "\n", 1);
            rc = text_flush(&t, write, ctx);
        }
        if (rc == 0) {
            rc = table_block(ls, cols, from, to, label_width, zh, &t, write, ctx);
        }
        from = to;
    }

done:
    text_free(&t);
    free(cols);
    free(ls);
    return rc;
}

/* ---- CSV ---- */

/* One field, after a comma unless it is the first of its line. Quoted when
 * it holds a comma, a quote, CR or LF (RFC 4180); text a spreadsheet would
 * run as a formula gets an apostrophe first. */
static void csv_field(struct text *t, const char *s, int first)
{
    if (!first) {
        text_add(t, ",", 1);
    }
    int quote = s[strcspn(s, ",\"\r\n")] != '\0';
    if (quote) {
        text_add(t, "\"", 1);
    }
    if (s[0] && strchr("=+-@\t\r", s[0])) {
        text_add(t, "'", 1);
    }
    for (const char *p = s; *p; p++) {
        text_add(t, p, 1);
        if (*p == '"') {
            text_add(t, "\"", 1);
        }
    }
    if (quote) {
        text_add(t, "\"", 1);
    }
}

static void csv_count(struct text *t, size_t n)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%zu", n);
    csv_field(t, buf, 0);
}

/* A column name made of a prefix and a token: received_dispute. */
static void csv_name(struct text *t, const char *prefix, const char *token)
{
    char buf[RULES_NAME_MAX + 32];
    snprintf(buf, sizeof buf, "%s%s", prefix, token);
    csv_field(t, buf, 0);
}

static void csv_header(struct text *t, const struct rules_config *config)
{
    static const char *const rate_parts[] = {"_num", "_den", "_percent", "_target", "_meets"};
    static const char *const tail[] = {"overdue", "overdue_open", "followups_due", "followups_done",
                                       "followups_overdue"};
    text_str(t, "\xEF\xBB\xBF");
    csv_field(t, "village", 1);
    csv_field(t, "name", 0);
    csv_field(t, "received", 0);
    for (size_t k = 1; k <= RULES_KIND_COUNT; k++) {
        csv_name(t, "received_kind_", kind_token(k % RULES_KIND_COUNT));
    }
    for (size_t c = 1; c <= RULES_CHANNEL_COUNT; c++) {
        csv_name(t, "received_channel_", channel_token(c % RULES_CHANNEL_COUNT));
    }
    for (size_t i = 0; i < config->ncategories; i++) {
        csv_name(t, "received_category_", config->categories[i].name);
    }
    csv_field(t, "received_category_unlisted", 0);
    csv_field(t, "concluded", 0);
    for (size_t i = 0; i < COUNT(rate_tokens); i++) {
        for (size_t j = 0; j < COUNT(rate_parts); j++) {
            csv_name(t, rate_tokens[i], rate_parts[j]);
        }
    }
    for (size_t i = 0; i < COUNT(tail); i++) {
        csv_field(t, tail[i], 0);
    }
    text_add(t, "\r\n", 2);
}

static void csv_rate(struct text *t, const struct rules_rate *rate)
{
    char buf[32];
    csv_count(t, rate->num);
    csv_count(t, rate->den);
    if (rate->den == 0 || rules_rate_format(rate, "en", buf, sizeof buf) != 0) {
        buf[0] = '\0';
    }
    csv_field(t, buf, 0);
    if (rules_bp_format(rate->target_bp, buf, sizeof buf) != 0) {
        buf[0] = '\0';
    }
    csv_field(t, buf, 0);
    csv_field(t,
              rate->verdict == RULES_RATE_MEETS   ? "yes"
              : rate->verdict == RULES_RATE_BELOW ? "no"
                                                  : "",
              0);
}

static void csv_row(struct text *t, const char *village, const char *name,
                    const struct rules_figures *f, const struct rules_config *config)
{
    csv_field(t, village, 1);
    csv_field(t, name, 0);
    csv_count(t, f->received);
    for (size_t k = 1; k <= RULES_KIND_COUNT; k++) {
        csv_count(t, f->received_by_kind[k % RULES_KIND_COUNT]);
    }
    for (size_t c = 1; c <= RULES_CHANNEL_COUNT; c++) {
        csv_count(t, f->received_by_channel[c % RULES_CHANNEL_COUNT]);
    }
    for (size_t i = 0; i < config->ncategories; i++) {
        csv_count(t, f->received_by_category[i]);
    }
    csv_count(t, f->received_unlisted_category);
    csv_count(t, f->concluded);
    for (size_t i = 0; i < COUNT(rate_tokens); i++) {
        csv_rate(t, rate_at(f, i));
    }
    csv_count(t, f->overdue);
    csv_count(t, f->overdue_open);
    csv_count(t, f->followups_due);
    csv_count(t, f->followups_done);
    csv_count(t, f->followups_overdue);
    text_add(t, "\r\n", 2);
}

int report_write_csv(const struct report *r, ledger_io_write_fn write, void *ctx)
{
    int rc = check_report(r, write);
    if (rc != 0) {
        return rc;
    }
    struct text t = {0};
    csv_header(&t, r->config);
    rc = text_flush(&t, write, ctx);
    for (size_t i = 0; rc == 0 && i < r->nrows; i++) {
        const struct report_row *row = &r->rows[i];
        csv_row(&t, row->village, row_name(row), &row->figures, r->config);
        rc = text_flush(&t, write, ctx);
    }
    if (rc == 0 && r->total) {
        csv_row(&t, want_zh(r->lang) ? "合计" : "total", "", &r->total->figures, r->config);
        rc = text_flush(&t, write, ctx);
    }
    text_free(&t);
    return rc;
}

/* ---- JSON ---- */

/* The adders below note a failed allocation in *failed and carry on: cJSON
 * ignores additions to a NULL object, so one check at the end suffices. */

static void json_count(cJSON *obj, const char *key, size_t n, int *failed)
{
    if (!cJSON_AddNumberToObject(obj, key, (double)n)) {
        *failed = 1;
    }
}

static void json_date(cJSON *obj, const char *key, struct rules_date d, int *failed)
{
    char text[RULES_DATE_LEN + 1];
    (void)rules_date_format(d, text);
    if (!cJSON_AddStringToObject(obj, key, text)) {
        *failed = 1;
    }
}

static void json_string_or_null(cJSON *obj, const char *key, const char *s, int *failed)
{
    if (!(s ? cJSON_AddStringToObject(obj, key, s) : cJSON_AddNullToObject(obj, key))) {
        *failed = 1;
    }
}

static void json_rate(cJSON *obj, const char *key, const struct rules_rate *rate, int *failed)
{
    cJSON *o = cJSON_AddObjectToObject(obj, key);
    char percent[32];
    if (!o) {
        *failed = 1;
        return;
    }
    json_count(o, "num", rate->num, failed);
    json_count(o, "den", rate->den, failed);
    if (rate->den == 0 || rules_rate_format(rate, "en", percent, sizeof percent) != 0) {
        json_string_or_null(o, "percent", NULL, failed);
    } else {
        json_string_or_null(o, "percent", percent, failed);
    }
    if (!cJSON_AddNumberToObject(o, "target", rate->target_bp)) {
        *failed = 1;
    }
    cJSON *meets = rate->verdict == RULES_RATE_NO_DATA
                       ? cJSON_AddNullToObject(o, "meets")
                       : cJSON_AddBoolToObject(o, "meets", rate->verdict == RULES_RATE_MEETS);
    if (!meets) {
        *failed = 1;
    }
}

/* A village's (or the total's) object: its code and name, its figures. */
static cJSON *json_row(const char *village, const char *name, const struct rules_figures *f,
                       const struct rules_config *config, int *failed)
{
    cJSON *obj = cJSON_CreateObject();
    if (!obj) {
        *failed = 1;
        return NULL;
    }
    json_string_or_null(obj, "village", village, failed);
    json_string_or_null(obj, "name", name, failed);
    json_count(obj, "received", f->received, failed);
    cJSON *kinds = cJSON_AddObjectToObject(obj, "received_by_kind");
    for (size_t k = 1; k <= RULES_KIND_COUNT; k++) {
        json_count(kinds, kind_token(k % RULES_KIND_COUNT),
                   f->received_by_kind[k % RULES_KIND_COUNT], failed);
    }
    cJSON *channels = cJSON_AddObjectToObject(obj, "received_by_channel");
    for (size_t c = 1; c <= RULES_CHANNEL_COUNT; c++) {
        json_count(channels, channel_token(c % RULES_CHANNEL_COUNT),
                   f->received_by_channel[c % RULES_CHANNEL_COUNT], failed);
    }
    cJSON *categories = cJSON_AddObjectToObject(obj, "received_by_category");
    for (size_t i = 0; i < config->ncategories; i++) {
        json_count(categories, config->categories[i].name, f->received_by_category[i], failed);
    }
    json_count(categories, "unlisted", f->received_unlisted_category, failed);
    json_count(obj, "concluded", f->concluded, failed);
    for (size_t i = 0; i < COUNT(rate_tokens); i++) {
        json_rate(obj, rate_tokens[i], rate_at(f, i), failed);
    }
    json_count(obj, "overdue", f->overdue, failed);
    json_count(obj, "overdue_open", f->overdue_open, failed);
    json_count(obj, "followups_due", f->followups_due, failed);
    json_count(obj, "followups_done", f->followups_done, failed);
    json_count(obj, "followups_overdue", f->followups_overdue, failed);
    return obj;
}

/* Put item into container (an array when key is NULL); item is freed when
 * that fails. */
static void json_attach(cJSON *container, const char *key, cJSON *item, int *failed)
{
    cJSON_bool ok = 0;
    if (item && container) {
        ok = key ? cJSON_AddItemToObject(container, key, item)
                 : cJSON_AddItemToArray(container, item);
    }
    if (!ok) {
        cJSON_Delete(item);
        *failed = 1;
    }
}

int report_write_json(const struct report *r, ledger_io_write_fn write, void *ctx)
{
    int rc = check_report(r, write);
    if (rc != 0) {
        return rc;
    }
    const struct rules_figures *f = first_figures(r);
    const struct rules_config *config = r->config;
    int failed = 0;
    char *printed = NULL;
    struct text t = {0};
    cJSON *root = cJSON_CreateObject();
    if (!root) {
        return SYNC_E_NOMEM;
    }
    cJSON *period = cJSON_AddObjectToObject(root, "period");
    json_date(period, "first", f->period.first, &failed);
    json_date(period, "last", f->period.last, &failed);
    json_date(root, "as_of", f->as_of, &failed);
    json_date(root, "today", r->today, &failed);
    cJSON *targets = cJSON_AddObjectToObject(root, "targets");
    for (size_t i = 0; i < COUNT(rate_tokens); i++) {
        if (!cJSON_AddNumberToObject(targets, rate_tokens[i], target_at(config, i))) {
            failed = 1;
        }
    }
    cJSON *villages = cJSON_AddArrayToObject(root, "villages");
    for (size_t i = 0; !failed && i < r->nrows; i++) {
        const struct report_row *row = &r->rows[i];
        json_attach(villages, NULL,
                    json_row(row->village, row_name(row), &row->figures, config, &failed), &failed);
    }
    if (r->total) {
        json_attach(root, "total", json_row(NULL, NULL, &r->total->figures, config, &failed),
                    &failed);
    }
    if (failed || !(printed = cJSON_Print(root))) {
        rc = SYNC_E_NOMEM;
        goto done;
    }
    text_str(&t, printed);
    text_add(&t, "\n", 1);
    rc = text_flush(&t, write, ctx);

done:
    cJSON_free(printed);
    cJSON_Delete(root);
    text_free(&t);
    return rc;
}
