/* SPDX-License-Identifier: MIT */
/*
 * delta.c - building, encoding and decoding sync messages. A lexical pre-pass
 * (UTF-8, nesting depth, string length) runs before cJSON sees the text, so
 * that hostile input is refused with a precise reason and never drives the
 * parser deep. cJSON then builds the tree, which is checked field by field
 * against the schema. Deltas are written in the compact form of format 2
 * (PROTOCOL.md 5.2) and read in both formats; the journal's form of one
 * change, written for every change a replica merges, is format 1's, printed
 * directly in the bytes cJSON would print (delta_change_json()).
 */
#include "delta.h"

#include "hlc.h"
#include "json_util.h"
#include "sync_error.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SAFE_INT ((double)JSON_MAX_SAFE_INT)

static const char *const op_names[] = {NULL, "put", "append", "delete"};
static const char *const type_names[] = {NULL, "push", "reply"};

struct delta *delta_new(enum delta_type type)
{
    struct delta *delta = calloc(1, sizeof *delta);
    if (delta) {
        delta->type = type;
        delta->version = DELTA_VERSION;
    }
    return delta;
}

static void free_change(struct change *change)
{
    for (size_t f = 0; f < change->nfields; f++) {
        if (change->fields[f].value.type == SYNC_TEXT) {
            free((char *)(uintptr_t)change->fields[f].value.s);
        }
    }
    free(change->fields);
}

void delta_drop_changes(struct delta *delta)
{
    for (size_t i = 0; i < delta->nchanges; i++) {
        free_change(&delta->changes[i]);
    }
    delta->nchanges = 0;
}

void delta_drop_last(struct delta *delta)
{
    if (delta->nchanges > 0) {
        free_change(&delta->changes[--delta->nchanges]);
    }
}

void delta_free(struct delta *delta)
{
    if (!delta) {
        return;
    }
    delta_drop_changes(delta);
    free(delta->changes);
    for (size_t i = 0; i < delta->nrefused; i++) {
        free(delta->refused[i].message);
    }
    free(delta->refused);
    free(delta);
}

struct change *delta_add_change(struct delta *delta, size_t nfields)
{
    if (delta->nchanges == delta->changes_cap) {
        size_t cap = delta->changes_cap ? delta->changes_cap * 2 : 16;
        struct change *grown = realloc(delta->changes, cap * sizeof *grown);
        if (!grown) {
            return NULL;
        }
        delta->changes = grown;
        delta->changes_cap = cap;
    }
    struct change *change = &delta->changes[delta->nchanges];
    memset(change, 0, sizeof *change);
    if (nfields) {
        change->fields = calloc(nfields, sizeof *change->fields);
        if (!change->fields) {
            return NULL;
        }
    }
    change->nfields = nfields;
    delta->nchanges++;
    return change;
}

int delta_set_text(struct delta *delta, struct sync_value *value, const char *text)
{
    (void)delta;
    char *copy = strdup(text);
    if (!copy) {
        return SYNC_E_NOMEM;
    }
    value->type = SYNC_TEXT;
    value->s = copy;
    return 0;
}

int delta_add_refusal(struct delta *delta, int64_t seq, int code, const char *message)
{
    if (delta->nrefused == delta->refused_cap) {
        size_t cap = delta->refused_cap ? delta->refused_cap * 2 : 4;
        struct delta_refusal *grown = realloc(delta->refused, cap * sizeof *grown);
        if (!grown) {
            return SYNC_E_NOMEM;
        }
        delta->refused = grown;
        delta->refused_cap = cap;
    }
    char *copy = strdup(message ? message : sync_strerror(code));
    if (!copy) {
        return SYNC_E_NOMEM;
    }
    struct delta_refusal *r = &delta->refused[delta->nrefused++];
    r->seq = seq;
    r->code = code;
    r->message = copy;
    return 0;
}

/* ---- encoding ---- */

struct text_out {
    char *buf;
    size_t len, cap;
    int failed;
};

static void out_bytes(struct text_out *o, const char *bytes, size_t n)
{
    if (o->failed) {
        return;
    }
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 256;
        while (cap < o->len + n + 1) {
            cap *= 2;
        }
        char *grown = realloc(o->buf, cap);
        if (!grown) {
            o->failed = 1;
            return;
        }
        o->buf = grown;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, bytes, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

static void out_text(struct text_out *o, const char *text)
{
    out_bytes(o, text, strlen(text));
}

/* The bytes a JSON string cannot hold as they are: those below 0x20, the
 * quote and the backslash. */
/* clang-format off */
static const unsigned char needs_escape[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    ['"'] = 1,
    ['\\'] = 1,
};
/* clang-format on */

/* A JSON string, escaped as cJSON escapes: the two-character escapes for
 * quote, backslash, \b \f \n \r \t, \u00xx for other bytes below 0x20,
 * every other byte as it is. Runs of bytes that need no escape are copied
 * whole. */
static void out_string(struct text_out *o, const char *s)
{
    out_bytes(o, "\"", 1);
    const unsigned char *p = (const unsigned char *)s;
    for (;;) {
        const unsigned char *run = p;
        while (!needs_escape[p[0]] && !needs_escape[p[1]] && !needs_escape[p[2]] &&
               !needs_escape[p[3]]) {
            p += 4; /* none of the four is the terminating NUL */
        }
        while (!needs_escape[*p]) {
            p++;
        }
        out_bytes(o, (const char *)run, (size_t)(p - run));
        if (*p == '\0') {
            break;
        }
        char esc[8] = {'\\', (char)*p, '\0'};
        switch (*p) {
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        case '"':
        case '\\':
            break;
        default:
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            break;
        }
        out_text(o, esc);
        p++;
    }
    out_bytes(o, "\"", 1);
}

static void out_member(struct text_out *o, int first, const char *key)
{
    if (!first) {
        out_bytes(o, ",", 1);
    }
    out_string(o, key);
    out_bytes(o, ":", 1);
}

static void out_value(struct text_out *o, const struct sync_value *v)
{
    char text[24];
    switch (v->type) {
    case SYNC_INT:
        snprintf(text, sizeof text, "%" PRId64, v->i);
        out_text(o, text);
        return;
    case SYNC_TEXT:
        out_string(o, v->s);
        return;
    case SYNC_REAL: {
        cJSON *item = cJSON_CreateNumber(v->r);
        char *printed = item ? cJSON_PrintUnformatted(item) : NULL;
        cJSON_Delete(item);
        if (!printed) {
            o->failed = 1;
            return;
        }
        out_text(o, printed);
        cJSON_free(printed);
        return;
    }
    case SYNC_NULL:
        break;
    }
    out_text(o, "null");
}

static const char *field_name(const struct schema_table *table, const struct change_field *f)
{
    return f->column == DELTA_DELETED ? "deleted" : table->columns[f->column].name;
}

static void format_prev(uint64_t hlc, uint64_t node, char out[2 * HLC_HEXLEN + 2])
{
    hlc_format(hlc, out);
    out[HLC_HEXLEN] = ':';
    hlc_format(node, out + HLC_HEXLEN + 1);
}

/* Checks what neither form can say: a known table and op, fields of the
 * table's columns, none twice. Fills at[] (column to field index, -1 for
 * none) and *mask (the columns written). */
static int change_shape(const struct schema *schema, const struct change *c, int at[],
                        uint64_t *mask)
{
    if (c->table < 0 || (size_t)c->table >= schema->ntables || c->op < CHANGE_PUT ||
        c->op > CHANGE_DELETE) {
        return SYNC_E_ARG;
    }
    const struct schema_table *table = &schema->tables[c->table];
    if (table->ncolumns > SCHEMA_MAX_COLUMNS) {
        return SYNC_E_ARG;
    }
    *mask = 0;
    for (size_t k = 0; k < table->ncolumns; k++) {
        at[k] = -1;
    }
    for (size_t f = 0; f < c->nfields; f++) {
        int col = c->fields[f].column;
        if (col == DELTA_DELETED) {
            continue;
        }
        if (col < 0 || (size_t)col >= table->ncolumns || at[col] >= 0) {
            return SYNC_E_ARG;
        }
        at[col] = (int)f;
        *mask |= UINT64_C(1) << col;
    }
    return 0;
}

/* The bytes a JSON string takes: quotes, and escapes as out_string()
 * writes them. */
static size_t string_size(const char *s)
{
    size_t n = 2;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        n += !needs_escape[*p]                                                     ? 1
             : *p == '"' || *p == '\\' || (*p >= '\b' && *p <= '\r' && *p != '\v') ? 2
                                                                                   : 6;
    }
    return n;
}

size_t delta_change_size(const struct schema *schema, const struct change *change)
{
    /* The compact form (PROTOCOL.md 5.2): brackets and commas, the table's
     * name, the id or its derivation (a UUID's 38 bytes; a relative
     * derivation takes less, a whole one more), the mask, each value, and
     * the stamps a field replaced. The overrides are left out: they depend
     * on the changes before. Close enough to size a batch, and much cheaper
     * than printing it. */
    size_t size = 52;
    if (change->table < 0 || (size_t)change->table >= schema->ntables) {
        return size;
    }
    const struct schema_table *table = &schema->tables[change->table];
    size += strlen(table->name);
    for (size_t f = 0; f < change->nfields; f++) {
        const struct change_field *field = &change->fields[f];
        switch (field->value.type) {
        case SYNC_TEXT:
            size += 1 + string_size(field->value.s);
            break;
        case SYNC_INT:
            size += 4;
            break;
        case SYNC_REAL:
            size += 12;
            break;
        case SYNC_NULL:
            size += 5;
            break;
        }
        if (field->prev_hlc || field->prev_node) {
            size += 40 + strlen(field_name(table, field));
        }
    }
    return size;
}

/* The derived records a delta has named so far, by id, so that a later
 * value naming one is written as its derivation (PROTOCOL.md 5.2). Open
 * addressing, at most half full; a slot holds a change's index + 1. */
struct id_index {
    const struct change *changes;
    size_t *slots;
    size_t mask; /* slots - 1 */
};

static size_t id_hash(const char *id)
{
    uint64_t h = UINT64_C(14695981039346656037); /* FNV-1a */
    for (size_t i = 0; i < UUID7_STRLEN && id[i]; i++) {
        h = (h ^ (unsigned char)id[i]) * UINT64_C(1099511628211);
    }
    return (size_t)h;
}

static int id_index_init(struct id_index *x, const struct delta *delta)
{
    size_t n = 0, cap = 16;
    for (size_t i = 0; i < delta->nchanges; i++) {
        n += delta->changes[i].from[0] != '\0';
    }
    while (cap < 2 * n) {
        cap *= 2;
    }
    x->changes = delta->changes;
    x->slots = calloc(cap, sizeof *x->slots);
    x->mask = cap - 1;
    return x->slots ? 0 : SYNC_E_NOMEM;
}

static void id_index_add(struct id_index *x, const struct change *c)
{
    size_t i = id_hash(c->id) & x->mask;
    while (x->slots[i]) {
        if (!strcmp(x->changes[x->slots[i] - 1].id, c->id)) {
            return;
        }
        i = (i + 1) & x->mask;
    }
    x->slots[i] = (size_t)(c - x->changes) + 1;
}

static const struct change *id_index_find(const struct id_index *x, const char *id)
{
    for (size_t i = id_hash(id) & x->mask; x->slots[i]; i = (i + 1) & x->mask) {
        const struct change *c = &x->changes[x->slots[i] - 1];
        if (!strcmp(c->id, id)) {
            return c;
        }
    }
    return NULL;
}

/* What the compact form leaves out of a change when it is as expected: the
 * previous change's node and partition, its seq and stamp plus one, and the
 * base of relative derivations (PROTOCOL.md 5.2). */
struct run {
    uint64_t node, hlc;
    int64_t seq;
    char part[DELTA_MAX_PART + 1];
    char base[UUID7_STRLEN + 1]; /* "" before the first id */
};

static void run_start(struct run *run, const struct delta *delta)
{
    memset(run, 0, sizeof *run);
    run->node = delta->node;
    if (delta->type == DELTA_PUSH) {
        memcpy(run->part, delta->part, sizeof run->part);
    }
}

/* A derivation, relative ("/label") when its uuid is the run's base. */
static void out_derivation(struct text_out *o, const char *from, const struct run *run)
{
    int relative = run->base[0] && strncmp(from, run->base, UUID7_STRLEN) == 0;
    out_string(o, relative ? from + UUID7_STRLEN : from);
}

static int compact_change(struct text_out *o, const struct schema *schema, const struct change *c,
                          struct run *run, struct id_index *ids)
{
    int at[SCHEMA_MAX_COLUMNS];
    uint64_t mask;
    int rc = change_shape(schema, c, at, &mask);
    const struct schema_table *table = rc == 0 ? &schema->tables[c->table] : NULL;
    /* The op is implied: an append table's rows are appended, an empty
     * mask deletes, anything else is a put. */
    if (rc != 0 || (table->kind == SCHEMA_APPEND
                        ? c->op != CHANGE_APPEND
                        : c->op == CHANGE_APPEND || (c->op == CHANGE_DELETE) != (mask == 0))) {
        return SYNC_E_ARG;
    }
    char text[2 * HLC_HEXLEN + 2];
    out_bytes(o, "[", 1);
    out_string(o, table->name);
    out_bytes(o, ",", 1);
    /* A record the delta has derived before is named so again. */
    const struct change *known = c->from[0] ? c : id_index_find(ids, c->id);
    if (known) {
        out_derivation(o, known->from, run);
        memcpy(run->base, known->from, UUID7_STRLEN);
    } else {
        out_string(o, c->id);
        memcpy(run->base, c->id, UUID7_STRLEN);
    }
    run->base[UUID7_STRLEN] = '\0';
    snprintf(text, sizeof text, ",%" PRIu64, mask);
    out_text(o, text);
    for (size_t k = 0; k < table->ncolumns; k++) {
        if (at[k] < 0) {
            continue;
        }
        const struct sync_value *v = &c->fields[at[k]].value;
        const struct change *named = NULL;
        out_bytes(o, ",", 1);
        if (v->type == SYNC_TEXT && !strcmp(v->s, run->base)) {
            out_text(o, "[\"\"]");
        } else if (v->type == SYNC_TEXT && strlen(v->s) == UUID7_STRLEN &&
                   (named = id_index_find(ids, v->s)) != NULL) {
            out_bytes(o, "[", 1);
            out_derivation(o, named->from, run);
            out_bytes(o, "]", 1);
        } else {
            out_value(o, v);
        }
    }
    int first = 1;
    if (c->seq != run->seq + 1) {
        snprintf(text, sizeof text, "%" PRId64, c->seq);
        out_text(o, ",{\"seq\":");
        out_text(o, text);
        first = 0;
    }
    if (c->node != run->node) {
        out_text(o, first ? ",{" : ",");
        hlc_format(c->node, text);
        out_member(o, 1, "node");
        out_string(o, text);
        first = 0;
    }
    if (c->hlc != run->hlc + 1) {
        out_text(o, first ? ",{" : ",");
        hlc_format(c->hlc, text);
        out_member(o, 1, "hlc");
        out_string(o, text);
        first = 0;
    }
    if (strcmp(c->part, run->part) != 0) {
        out_text(o, first ? ",{" : ",");
        out_member(o, 1, "part");
        out_string(o, c->part);
        first = 0;
    }
    int prevs = 0;
    for (size_t f = 0; c->op != CHANGE_APPEND && f < c->nfields; f++) {
        const struct change_field *field = &c->fields[f];
        if (field->prev_hlc || field->prev_node) {
            if (!prevs++) {
                out_text(o, first ? ",{" : ",");
                out_member(o, 1, "prev");
                out_bytes(o, "{", 1);
                first = 0;
            } else {
                out_bytes(o, ",", 1);
            }
            format_prev(field->prev_hlc, field->prev_node, text);
            out_member(o, 1, field_name(table, field));
            out_string(o, text);
        }
    }
    out_text(o, prevs ? "}}]" : first ? "]" : "}]");
    run->node = c->node;
    run->seq = c->seq;
    run->hlc = c->hlc;
    memcpy(run->part, c->part, sizeof run->part);
    if (c->from[0]) {
        id_index_add(ids, c);
    }
    return 0;
}

static int journal_change(struct text_out *o, const struct schema *schema, const struct change *c);

int delta_encode(const struct schema *schema, const struct delta *delta, char **json, size_t *len)
{
    char hex[HLC_HEXLEN + 1];
    int rc = SYNC_E_NOMEM;
    cJSON *root = cJSON_CreateObject();
    if (!root || delta->type < DELTA_PUSH || delta->type > DELTA_REPLY ||
        (delta->version != DELTA_VERSION && delta->version != DELTA_VERSION1)) {
        rc = root ? SYNC_E_ARG : SYNC_E_NOMEM;
        goto fail;
    }
    hlc_format(delta->node, hex);
    int ok = json_util_add_int(root, "hamlet", delta->version) &&
             cJSON_AddStringToObject(root, "type", type_names[delta->type]) &&
             cJSON_AddStringToObject(root, "node", hex) &&
             json_util_add_int(root, "time", delta->time_ms);
    hlc_format(delta->clock, hex);
    ok = ok && cJSON_AddStringToObject(root, "clock", hex) &&
         json_util_add_int(root, "cursor", delta->cursor);
    if (delta->type == DELTA_PUSH) {
        ok = ok && cJSON_AddStringToObject(root, "part", delta->part) &&
             json_util_add_int(root, "pull_bytes", delta->pull_bytes);
    } else {
        ok = ok && json_util_add_int(root, "acked", delta->acked) &&
             json_util_add_int(root, "resume_from", delta->resume_from) &&
             json_util_add_int(root, "conflicts", delta->conflicts) &&
             cJSON_AddBoolToObject(root, "more", delta->more);
        cJSON *refused = ok ? cJSON_AddArrayToObject(root, "refused") : NULL;
        ok = refused != NULL;
        for (size_t i = 0; ok && i < delta->nrefused; i++) {
            cJSON *r = cJSON_CreateObject();
            ok = r && cJSON_AddItemToArray(refused, r) &&
                 json_util_add_int(r, "seq", delta->refused[i].seq) &&
                 cJSON_AddStringToObject(r, "error", sync_error_name(delta->refused[i].code)) &&
                 cJSON_AddStringToObject(r, "message", delta->refused[i].message);
        }
    }
    /* The changes are printed one at a time after the head, so that a
     * large delta never exists as one tree of JSON nodes: memory stays the
     * size of the text (an old laptop's limit, PROTOCOL.md). "changes" is
     * the last member, so the head prints ending in "[]}". */
    if (!ok || !cJSON_AddArrayToObject(root, "changes")) {
        goto fail;
    }
    char *head = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    root = NULL;
    size_t used = head ? strlen(head) : 0;
    if (!head || used < 3 || strcmp(head + used - 3, "[]}") != 0) {
        free(head);
        goto fail;
    }
    struct text_out o = {.buf = head, .len = used - 2, .cap = used + 1}; /* keep "[" */
    struct id_index ids = {0};
    struct run run;
    run_start(&run, delta);
    if (delta->version == DELTA_VERSION && (rc = id_index_init(&ids, delta)) != 0) {
        free(head);
        return rc;
    }
    rc = 0;
    for (size_t i = 0; rc == 0 && !o.failed && i < delta->nchanges; i++) {
        if (i > 0) {
            out_bytes(&o, ",", 1);
        }
        rc = delta->version == DELTA_VERSION
                 ? compact_change(&o, schema, &delta->changes[i], &run, &ids)
                 : journal_change(&o, schema, &delta->changes[i]);
    }
    out_bytes(&o, "]}", 2);
    free(ids.slots);
    if (rc != 0 || o.failed) {
        free(o.buf);
        return rc ? rc : SYNC_E_NOMEM;
    }
    *json = o.buf;
    *len = o.len;
    return 0;
fail:
    cJSON_Delete(root);
    return rc;
}

/* ---- decoding ---- */

struct decoder {
    const struct schema *schema;
    const struct envelope_limits *limits;
    char *why;
    size_t why_len;
};

static int say(struct decoder *d, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int say(struct decoder *d, int code, const char *fmt, ...)
{
    if (d->why && d->why_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d->why, d->why_len, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Length of the UTF-8 sequence at p (at most n bytes), or 0 if invalid:
 * no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    if (c < 0x80) {
        return 1;
    }
    size_t len;
    unsigned cp;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len) {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }
    return len;
}

int delta_utf8_valid(const char *text, size_t len)
{
    const unsigned char *p = (const unsigned char *)text;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq(p + i, len - i);
        if (n == 0) {
            return 0;
        }
        i += n;
    }
    return 1;
}

/* One pass over the raw text: valid UTF-8, nesting within the limit, every
 * string within the limit, and no escaped NUL (which C strings cannot hold). */
static int lex_check(struct decoder *d, const char *json, size_t len)
{
    const unsigned char *p = (const unsigned char *)json;
    int depth = 0, in_string = 0;
    size_t string_start = 0;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq(p + i, len - i);
        if (n == 0) {
            return say(d, SYNC_E_UTF8, "invalid UTF-8 at byte %zu", i);
        }
        if (p[i] == 0) {
            return say(d, SYNC_E_JSON, "a NUL byte at byte %zu", i);
        }
        if (in_string) {
            if (p[i] < 0x20) {
                return say(d, SYNC_E_JSON, "a control character inside a string at byte %zu", i);
            }
            if (p[i] == '\\' && i + 1 < len) {
                if (p[i + 1] == 'u' && i + 5 < len && !memcmp(p + i + 2, "0000", 4)) {
                    return say(d, SYNC_E_FIELD_TYPE, "a string holds \\u0000 at byte %zu", i);
                }
                i += 2;
                continue;
            }
            if (p[i] == '"') {
                in_string = 0;
                if (i - string_start > d->limits->max_string) {
                    return say(d, SYNC_E_JSON_STRING,
                               "a string of %zu bytes at byte %zu (the limit is %zu)",
                               i - string_start, string_start, d->limits->max_string);
                }
            }
        } else if (p[i] == '"') {
            in_string = 1;
            string_start = i + 1;
        } else if (p[i] == '{' || p[i] == '[') {
            if (++depth > d->limits->max_depth) {
                return say(d, SYNC_E_JSON_DEPTH, "nested deeper than %d at byte %zu",
                           d->limits->max_depth, i);
            }
        } else if (p[i] == '}' || p[i] == ']') {
            depth--;
        }
        i += n;
    }
    if (in_string && len - string_start > d->limits->max_string) {
        return say(d, SYNC_E_JSON_STRING, "an unterminated string longer than the limit");
    }
    return 0;
}

static int get_int(struct decoder *d, const cJSON *obj, const char *key, const char *where,
                   int required, int64_t min, int64_t *out)
{
    *out = 0;
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!item) {
        if (required) {
            return say(d, SYNC_E_FIELD_MISSING, "%s%s: missing", where, key);
        }
        *out = 0;
        return 0;
    }
    double v = item->valuedouble;
    if (!cJSON_IsNumber(item) || v != floor(v) || v < (double)min || v > MAX_SAFE_INT) {
        return say(d, SYNC_E_FIELD_TYPE, "%s%s: expected an integer of at least %lld", where, key,
                   (long long)min);
    }
    *out = (int64_t)v;
    return 0;
}

static int get_string(struct decoder *d, const cJSON *obj, const char *key, const char *where,
                      const char **out)
{
    *out = "";
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!item) {
        return say(d, SYNC_E_FIELD_MISSING, "%s%s: missing", where, key);
    }
    if (!cJSON_IsString(item)) {
        return say(d, SYNC_E_FIELD_TYPE, "%s%s: expected a string", where, key);
    }
    *out = item->valuestring;
    return 0;
}

static int get_hex(struct decoder *d, const cJSON *obj, const char *key, const char *where,
                   uint64_t *out)
{
    const char *s;
    int rc = get_string(d, obj, key, where, &s);
    if (rc == 0 && hlc_parse(s, out) != 0) {
        return say(d, SYNC_E_FIELD_TYPE, "%s%s: expected 16 hex digits", where, key);
    }
    return rc;
}

static int get_part(struct decoder *d, const cJSON *obj, const char *where, char *out)
{
    const char *s;
    int rc = get_string(d, obj, "part", where, &s);
    if (rc != 0) {
        return rc;
    }
    size_t n = strlen(s);
    if (n == 0 || n > DELTA_MAX_PART) {
        return say(d, SYNC_E_FIELD_TYPE, "%spart: expected 1 to %d bytes", where, DELTA_MAX_PART);
    }
    memcpy(out, s, n + 1);
    return 0;
}

static int parse_prev(const char *s, uint64_t *hlc, uint64_t *node)
{
    char buf[HLC_HEXLEN + 1];
    if (strlen(s) != 2 * HLC_HEXLEN + 1 || s[HLC_HEXLEN] != ':') {
        return SYNC_E_FIELD_TYPE;
    }
    memcpy(buf, s, HLC_HEXLEN);
    buf[HLC_HEXLEN] = '\0';
    if (hlc_parse(buf, hlc) != 0 || hlc_parse(s + HLC_HEXLEN + 1, node) != 0) {
        return SYNC_E_FIELD_TYPE;
    }
    return 0;
}

static int decode_value(struct decoder *d, const struct schema_column *col, const cJSON *item,
                        const char *where, struct delta *delta, struct sync_value *out)
{
    if (cJSON_IsNull(item)) {
        out->type = SYNC_NULL;
        return 0;
    }
    if (col->type == SYNC_TEXT) {
        if (!cJSON_IsString(item)) {
            return say(d, SYNC_E_FIELD_TYPE, "%s%s: expected a string or null", where, col->name);
        }
        if (strlen(item->valuestring) > d->schema->max_text) {
            return say(d, SYNC_E_JSON_STRING, "%s%s: longer than %zu bytes", where, col->name,
                       d->schema->max_text);
        }
        return delta_set_text(delta, out, item->valuestring);
    }
    if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble)) {
        return say(d, SYNC_E_FIELD_TYPE, "%s%s: expected a number or null", where, col->name);
    }
    double v = item->valuedouble;
    if (col->type == SYNC_INT) {
        if (v != floor(v) || fabs(v) > MAX_SAFE_INT) {
            return say(d, SYNC_E_FIELD_TYPE, "%s%s: expected an integer", where, col->name);
        }
        out->type = SYNC_INT;
        out->i = (int64_t)v;
    } else {
        out->type = SYNC_REAL;
        out->r = v;
    }
    return 0;
}

/* The stamps the fields of c replaced: an object of field names. */
static int decode_prevs(struct decoder *d, const cJSON *prev, struct change *c,
                        const struct schema_table *table, const char *where)
{
    if (prev && !cJSON_IsObject(prev)) {
        return say(d, SYNC_E_JSON_NOT_OBJECT, "%sprev: expected an object", where);
    }
    for (const cJSON *item = prev ? prev->child : NULL; item; item = item->next) {
        struct change_field *field = NULL;
        for (size_t f = 0; f < c->nfields; f++) {
            if (!strcmp(field_name(table, &c->fields[f]), item->string)) {
                field = &c->fields[f];
            }
        }
        if (!field || c->op == CHANGE_APPEND) {
            return say(d, SYNC_E_FIELD_TYPE, "%sprev.%.64s: no such field in this change", where,
                       item->string);
        }
        if (!cJSON_IsString(item) ||
            parse_prev(item->valuestring, &field->prev_hlc, &field->prev_node) != 0) {
            return say(d, SYNC_E_FIELD_TYPE, "%sprev.%s: expected \"<hlc>:<node>\"", where,
                       item->string);
        }
    }
    return 0;
}

/* A "from" member: a derivation that gives id. */
static int check_from(struct decoder *d, const cJSON *from, const char *id, const char *where,
                      char out[UUID7_FROMLEN + 1])
{
    char derived[UUID7_STRLEN + 1];
    if (!cJSON_IsString(from) || !uuid7_from_valid(from->valuestring)) {
        return say(d, SYNC_E_FIELD_TYPE,
                   "%sfrom: expected \"<uuid>/<label>\" (a label of 1 to %d letters, digits, "
                   "'_', '-', '.' or '/')",
                   where, UUID7_MAX_LABEL);
    }
    if (uuid7_derive(from->valuestring, derived) != 0 || strcmp(derived, id) != 0) {
        return say(d, SYNC_E_FIELD_TYPE, "%sfrom: does not derive the id %s", where, id);
    }
    memcpy(out, from->valuestring, strlen(from->valuestring) + 1);
    return 0;
}

static int decode_change(struct decoder *d, const cJSON *obj, size_t index, struct delta *delta)
{
    char where[48];
    snprintf(where, sizeof where, "changes[%zu].", index);
    if (!cJSON_IsObject(obj)) {
        return say(d, SYNC_E_JSON_NOT_OBJECT, "changes[%zu]: expected an object", index);
    }
    const char *op_name, *table_name, *id;
    int rc;
    if ((rc = get_string(d, obj, "op", where, &op_name)) != 0 ||
        (rc = get_string(d, obj, "table", where, &table_name)) != 0 ||
        (rc = get_string(d, obj, "id", where, &id)) != 0) {
        return rc;
    }
    enum change_op op = 0;
    for (int i = CHANGE_PUT; i <= CHANGE_DELETE; i++) {
        if (!strcmp(op_name, op_names[i])) {
            op = (enum change_op)i;
        }
    }
    if (!op) {
        return say(d, SYNC_E_FIELD_TYPE, "%sop: expected put, append or delete", where);
    }
    int t = schema_table(d->schema, table_name);
    if (t < 0) {
        return say(d, SYNC_E_UNKNOWN_TABLE, "%stable: no table named \"%.64s\"", where, table_name);
    }
    const struct schema_table *table = &d->schema->tables[t];
    if (op != CHANGE_APPEND && table->kind == SCHEMA_APPEND) {
        return say(d, SYNC_E_APPEND_ONLY, "%sop: %s rows are append-only", where, table->name);
    }
    if (op == CHANGE_APPEND && table->kind != SCHEMA_APPEND) {
        return say(d, SYNC_E_FIELD_TYPE, "%sop: %s rows are not appended", where, table->name);
    }
    if (!uuid7_valid(id)) {
        return say(d, SYNC_E_FIELD_TYPE, "%sid: expected a lower-case UUID", where);
    }
    const cJSON *set = cJSON_GetObjectItemCaseSensitive(obj, "set");
    const cJSON *prev = cJSON_GetObjectItemCaseSensitive(obj, "prev");
    if (op != CHANGE_DELETE && !set) {
        return say(d, SYNC_E_FIELD_MISSING, "%sset: missing", where);
    }
    if ((set && !cJSON_IsObject(set)) || (prev && !cJSON_IsObject(prev))) {
        return say(d, SYNC_E_JSON_NOT_OBJECT, "%s%s: expected an object", where,
                   set && !cJSON_IsObject(set) ? "set" : "prev");
    }
    size_t nfields = op == CHANGE_DELETE ? 1 : (size_t)cJSON_GetArraySize(set);
    if (op == CHANGE_PUT && nfields == 0) {
        return say(d, SYNC_E_FIELD_MISSING, "%sset: a put sets at least one field", where);
    }
    struct change *c = delta_add_change(delta, nfields);
    if (!c) {
        return SYNC_E_NOMEM;
    }
    c->op = op;
    c->table = t;
    memcpy(c->id, id, UUID7_STRLEN + 1);
    const cJSON *from = cJSON_GetObjectItemCaseSensitive(obj, "from");
    if (from && (rc = check_from(d, from, id, where, c->from)) != 0) {
        return rc;
    }
    int64_t seq;
    if ((rc = get_part(d, obj, where, c->part)) != 0 ||
        (rc = get_hex(d, obj, "node", where, &c->node)) != 0 ||
        (rc = get_hex(d, obj, "hlc", where, &c->hlc)) != 0 ||
        (rc = get_int(d, obj, "seq", where, 1, 1, &seq)) != 0) {
        return rc;
    }
    c->seq = seq;
    if (op == CHANGE_DELETE) {
        c->fields[0].column = DELTA_DELETED;
        c->fields[0].value = (struct sync_value){.type = SYNC_INT, .i = 1};
    } else {
        size_t f = 0;
        for (const cJSON *item = set->child; item; item = item->next, f++) {
            int col = schema_column(table, item->string);
            if (col < 0) {
                return say(d, SYNC_E_UNKNOWN_COLUMN, "%sset: %s has no column \"%.64s\"", where,
                           table->name, item->string);
            }
            for (size_t g = 0; g < f; g++) {
                if (c->fields[g].column == col) {
                    return say(d, SYNC_E_FIELD_TYPE, "%sset.%s: given twice", where, item->string);
                }
            }
            c->fields[f].column = col;
            char sub[64];
            snprintf(sub, sizeof sub, "%sset.", where);
            if ((rc = decode_value(d, &table->columns[col], item, sub, delta,
                                   &c->fields[f].value)) != 0) {
                return rc;
            }
        }
    }
    return decode_prevs(d, prev, c, table, where);
}

/* The derivation a compact id or reference names: "/<label>" after the
 * run's base, or "<uuid>/<label>" whole. */
static int notation_from(struct decoder *d, const char *text, const struct run *run,
                         const char *where, char from[UUID7_FROMLEN + 1])
{
    size_t n = strlen(text);
    if (text[0] == '/' && !run->base[0]) {
        return say(d, SYNC_E_FIELD_TYPE, "%s: \"%.64s\" is relative, and no id came before it",
                   where, text);
    }
    if (text[0] == '/' && n <= UUID7_MAX_LABEL + 1) {
        memcpy(from, run->base, UUID7_STRLEN);
        memcpy(from + UUID7_STRLEN, text, n + 1);
    } else if (text[0] != '/' && n <= UUID7_FROMLEN) {
        memcpy(from, text, n + 1);
    } else {
        from[0] = '\0';
    }
    if (!uuid7_from_valid(from)) {
        return say(d, SYNC_E_FIELD_TYPE,
                   "%s: expected a UUID, \"<uuid>/<label>\" or \"/<label>\" (a label of 1 to %d "
                   "letters, digits, '_', '-', '.' or '/')",
                   where, UUID7_MAX_LABEL);
    }
    return 0;
}

/* A value naming a record by its derivation: ["<uuid>/<label>"],
 * ["/<label>"], or [""] for the run's base itself. */
static int decode_reference(struct decoder *d, const struct schema_column *col, const cJSON *item,
                            const char *where, const struct run *run, struct delta *delta,
                            struct sync_value *out)
{
    char from[UUID7_FROMLEN + 1], id[UUID7_STRLEN + 1];
    const cJSON *text = item->child;
    if (col->type != SYNC_TEXT || !cJSON_IsString(text) || text->next) {
        return say(d, SYNC_E_FIELD_TYPE, "%s%s: expected a %s", where, col->name,
                   col->type == SYNC_TEXT ? "string, null or [derivation]" : "number or null");
    }
    char at[80];
    snprintf(at, sizeof at, "%s%s", where, col->name);
    if (text->valuestring[0] == '\0') {
        if (!run->base[0]) {
            return say(d, SYNC_E_FIELD_TYPE, "%s: [\"\"] names the id before it, and none came",
                       at);
        }
        memcpy(id, run->base, sizeof id);
    } else {
        int rc = notation_from(d, text->valuestring, run, at, from);
        if (rc != 0) {
            return rc;
        }
        if (uuid7_derive(from, id) != 0) {
            return SYNC_E_ARG;
        }
    }
    return delta_set_text(delta, out, id);
}

/* The members of a compact change's trailing object, each overriding what
 * the run implies. */
static int decode_overrides(struct decoder *d, const cJSON *meta, const char *where,
                            struct change *c)
{
    int64_t seq;
    int rc = 0;
    if (!cJSON_IsObject(meta)) {
        return say(d, SYNC_E_JSON_NOT_OBJECT, "%s: the last item is not an object", where);
    }
    if (cJSON_GetObjectItemCaseSensitive(meta, "seq")) {
        if ((rc = get_int(d, meta, "seq", where, 1, 1, &seq)) != 0) {
            return rc;
        }
        c->seq = seq;
    }
    if (cJSON_GetObjectItemCaseSensitive(meta, "node")) {
        rc = get_hex(d, meta, "node", where, &c->node);
    }
    if (rc == 0 && cJSON_GetObjectItemCaseSensitive(meta, "hlc")) {
        rc = get_hex(d, meta, "hlc", where, &c->hlc);
    }
    if (rc == 0 && cJSON_GetObjectItemCaseSensitive(meta, "part")) {
        rc = get_part(d, meta, where, c->part);
    }
    return rc;
}

/* One change of format 2 (PROTOCOL.md 5.2): [table, id, mask, values...,
 * {overrides}], read against the run of the changes before it. */
static int decode_compact(struct decoder *d, const cJSON *arr, size_t index, struct delta *delta,
                          struct run *run)
{
    char where[48];
    snprintf(where, sizeof where, "changes[%zu].", index);
    if (!cJSON_IsArray(arr)) {
        return say(d, SYNC_E_FIELD_TYPE, "changes[%zu]: expected an array", index);
    }
    const cJSON *name = arr->child;
    const cJSON *idv = name ? name->next : NULL;
    const cJSON *maskv = idv ? idv->next : NULL;
    if (!maskv) {
        return say(d, SYNC_E_FIELD_MISSING, "changes[%zu]: expected [table, id, mask, values...]",
                   index);
    }
    if (!cJSON_IsString(name)) {
        return say(d, SYNC_E_FIELD_TYPE, "%stable: expected a string", where);
    }
    int t = schema_table(d->schema, name->valuestring);
    if (t < 0) {
        return say(d, SYNC_E_UNKNOWN_TABLE, "%stable: no table named \"%.64s\"", where,
                   name->valuestring);
    }
    const struct schema_table *table = &d->schema->tables[t];
    double m = maskv->valuedouble;
    if (!cJSON_IsNumber(maskv) || m != floor(m) || m < 0 || m >= ldexp(1.0, (int)table->ncolumns)) {
        return say(d, SYNC_E_FIELD_TYPE, "%smask: expected a mask of %s's %zu columns", where,
                   table->name, table->ncolumns);
    }
    uint64_t mask = (uint64_t)m;
    size_t nvalues = 0;
    for (uint64_t b = mask; b; b &= b - 1) {
        nvalues++;
    }
    size_t count = (size_t)cJSON_GetArraySize(arr);
    if (count != 3 + nvalues && count != 4 + nvalues) {
        return say(d, SYNC_E_FIELD_TYPE,
                   "%smask: %zu values expected after it (and an object at most), %zu found", where,
                   nvalues, count - 3);
    }
    enum change_op op = table->kind == SCHEMA_APPEND ? CHANGE_APPEND
                        : mask                       ? CHANGE_PUT
                                                     : CHANGE_DELETE;
    struct change *c = delta_add_change(delta, op == CHANGE_DELETE ? 1 : nvalues);
    if (!c) {
        return SYNC_E_NOMEM;
    }
    c->op = op;
    c->table = t;
    char at[64];
    snprintf(at, sizeof at, "%sid", where);
    int rc;
    if (!cJSON_IsString(idv)) {
        return say(d, SYNC_E_FIELD_TYPE, "%s: expected a UUID or a derivation", at);
    }
    if (uuid7_valid(idv->valuestring)) {
        memcpy(c->id, idv->valuestring, UUID7_STRLEN + 1);
    } else if ((rc = notation_from(d, idv->valuestring, run, at, c->from)) != 0) {
        return rc;
    } else if (uuid7_derive(c->from, c->id) != 0) {
        return SYNC_E_ARG;
    }
    memcpy(run->base, c->from[0] ? c->from : c->id, UUID7_STRLEN);
    run->base[UUID7_STRLEN] = '\0';
    const cJSON *item = maskv->next;
    size_t f = 0;
    for (size_t k = 0; k < table->ncolumns; k++) {
        if (!(mask & (UINT64_C(1) << k))) {
            continue;
        }
        struct change_field *field = &c->fields[f++];
        field->column = (int)k;
        rc = cJSON_IsArray(item)
                 ? decode_reference(d, &table->columns[k], item, where, run, delta, &field->value)
                 : decode_value(d, &table->columns[k], item, where, delta, &field->value);
        if (rc != 0) {
            return rc;
        }
        item = item->next;
    }
    if (op == CHANGE_DELETE) {
        c->fields[0].column = DELTA_DELETED;
        c->fields[0].value = (struct sync_value){.type = SYNC_INT, .i = 1};
    }
    c->node = run->node;
    c->seq = run->seq + 1;
    c->hlc = run->hlc + 1;
    memcpy(c->part, run->part, sizeof c->part);
    if (item && ((rc = decode_overrides(d, item, where, c)) != 0 ||
                 (rc = decode_prevs(d, cJSON_GetObjectItemCaseSensitive(item, "prev"), c, table,
                                    where)) != 0)) {
        return rc;
    }
    if (!c->part[0]) {
        return say(d, SYNC_E_FIELD_MISSING, "%spart: missing (no partition came before it)", where);
    }
    if (c->seq > JSON_MAX_SAFE_INT) {
        return say(d, SYNC_E_FIELD_TYPE, "%sseq: beyond 2^53", where);
    }
    run->node = c->node;
    run->seq = c->seq;
    run->hlc = c->hlc;
    memcpy(run->part, c->part, sizeof run->part);
    return 0;
}

static int decode_tree(struct decoder *d, const cJSON *root, struct delta *delta)
{
    int rc;
    int64_t version, v;
    const char *type;
    if (!cJSON_IsObject(root)) {
        return say(d, SYNC_E_JSON_NOT_OBJECT, "the delta is not a JSON object");
    }
    if ((rc = get_int(d, root, "hamlet", "", 1, 0, &version)) != 0) {
        return rc;
    }
    if (version != DELTA_VERSION && version != DELTA_VERSION1) {
        return say(d, SYNC_E_DELTA_VERSION, "delta version %lld (this program reads %d and %d)",
                   (long long)version, DELTA_VERSION1, DELTA_VERSION);
    }
    delta->version = (int)version;
    if ((rc = get_string(d, root, "type", "", &type)) != 0) {
        return rc;
    }
    if (!strcmp(type, "push")) {
        delta->type = DELTA_PUSH;
    } else if (!strcmp(type, "reply")) {
        delta->type = DELTA_REPLY;
    } else {
        return say(d, SYNC_E_FIELD_TYPE, "type: expected push or reply");
    }
    if ((rc = get_hex(d, root, "node", "", &delta->node)) != 0 ||
        (rc = get_hex(d, root, "clock", "", &delta->clock)) != 0 ||
        (rc = get_int(d, root, "time", "", 1, 0, &delta->time_ms)) != 0 ||
        (rc = get_int(d, root, "cursor", "", 1, 0, &delta->cursor)) != 0) {
        return rc;
    }
    if (delta->type == DELTA_PUSH) {
        if ((rc = get_part(d, root, "", delta->part)) != 0 ||
            (rc = get_int(d, root, "pull_bytes", "", 0, 0, &delta->pull_bytes)) != 0) {
            return rc;
        }
    } else {
        if ((rc = get_int(d, root, "acked", "", 1, 0, &delta->acked)) != 0 ||
            (rc = get_int(d, root, "resume_from", "", 1, 0, &delta->resume_from)) != 0 ||
            (rc = get_int(d, root, "conflicts", "", 0, 0, &delta->conflicts)) != 0) {
            return rc;
        }
        const cJSON *more = cJSON_GetObjectItemCaseSensitive(root, "more");
        if (!cJSON_IsBool(more)) {
            return say(d, more ? SYNC_E_FIELD_TYPE : SYNC_E_FIELD_MISSING,
                       "more: expected true or false");
        }
        delta->more = cJSON_IsTrue(more);
        const cJSON *refused = cJSON_GetObjectItemCaseSensitive(root, "refused");
        if (refused && !cJSON_IsArray(refused)) {
            return say(d, SYNC_E_FIELD_TYPE, "refused: expected an array");
        }
        if (refused && (size_t)cJSON_GetArraySize(refused) > d->limits->max_changes) {
            return say(d, SYNC_E_TOO_MANY, "%d refusals (the limit is %zu)",
                       cJSON_GetArraySize(refused), d->limits->max_changes);
        }
        size_t i = 0;
        for (const cJSON *r = refused ? refused->child : NULL; r; r = r->next, i++) {
            char where[40];
            const char *name, *message;
            snprintf(where, sizeof where, "refused[%zu].", i);
            if (!cJSON_IsObject(r)) {
                return say(d, SYNC_E_JSON_NOT_OBJECT, "refused[%zu]: expected an object", i);
            }
            if ((rc = get_int(d, r, "seq", where, 1, 1, &v)) != 0 ||
                (rc = get_string(d, r, "error", where, &name)) != 0 ||
                (rc = get_string(d, r, "message", where, &message)) != 0) {
                return rc;
            }
            int code = SYNC_E_STATE;
            for (int k = 0; k >= -99; k--) {
                if (!strcmp(sync_error_name(k), name)) {
                    code = k;
                    break;
                }
            }
            if ((rc = delta_add_refusal(delta, v, code, message)) != 0) {
                return rc;
            }
        }
    }
    const cJSON *changes = cJSON_GetObjectItemCaseSensitive(root, "changes");
    if (!changes) {
        return say(d, SYNC_E_FIELD_MISSING, "changes: missing");
    }
    if (!cJSON_IsArray(changes)) {
        return say(d, SYNC_E_FIELD_TYPE, "changes: expected an array");
    }
    size_t count = (size_t)cJSON_GetArraySize(changes);
    if (count > d->limits->max_changes) {
        return say(d, SYNC_E_TOO_MANY, "%zu changes (the limit is %zu)", count,
                   d->limits->max_changes);
    }
    struct run run;
    run_start(&run, delta);
    size_t i = 0;
    for (const cJSON *c = changes->child; c; c = c->next, i++) {
        rc = delta->version == DELTA_VERSION ? decode_compact(d, c, i, delta, &run)
                                             : decode_change(d, c, i, delta);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

int delta_decode(const struct schema *schema, const struct envelope_limits *limits,
                 const char *json, size_t len, struct delta **out, char *why, size_t why_len)
{
    struct decoder d = {schema, limits, why, why_len};
    if (why && why_len) {
        why[0] = '\0';
    }
    int rc = lex_check(&d, json, len);
    if (rc != 0) {
        return rc;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        return say(&d, SYNC_E_JSON, "not valid JSON near byte %ld",
                   at && at >= json && at <= json + len ? (long)(at - json) : -1L);
    }
    for (; end && end < json + len; end++) {
        if (*end != ' ' && *end != '\n' && *end != '\r' && *end != '\t') {
            cJSON_Delete(root);
            return say(&d, SYNC_E_JSON, "text after the JSON value at byte %ld",
                       (long)(end - json));
        }
    }
    struct delta *delta = delta_new(DELTA_PUSH);
    if (!delta) {
        cJSON_Delete(root);
        return SYNC_E_NOMEM;
    }
    rc = decode_tree(&d, root, delta);
    cJSON_Delete(root);
    if (rc != 0) {
        delta_free(delta);
        return rc;
    }
    *out = delta;
    return 0;
}

/* ---- the journal's form of one change ----
 * The journal stores a body for every change merged: the change as format
 * 1 writes it (PROTOCOL.md 5.4), printed directly, without a tree of JSON
 * nodes, in the bytes cJSON_PrintUnformatted() would print (strings escaped
 * as cJSON escapes them; a real number printed by cJSON itself). */

/* The journal's form (the change as format 1 writes it), appended to o. */
static int journal_change(struct text_out *o, const struct schema *schema, const struct change *c)
{
    int at[SCHEMA_MAX_COLUMNS];
    uint64_t mask;
    int rc = change_shape(schema, c, at, &mask);
    if (rc != 0) {
        return rc;
    }
    const struct schema_table *table = &schema->tables[c->table];
    int has_prev = 0;
    for (size_t f = 0; f < c->nfields; f++) {
        const struct change_field *field = &c->fields[f];
        has_prev |= c->op != CHANGE_APPEND && (field->prev_hlc || field->prev_node);
    }
    char text[2 * HLC_HEXLEN + 2];
    snprintf(text, sizeof text, "%" PRId64, c->seq);
    out_text(o, "{\"seq\":");
    out_text(o, text);
    out_member(o, 0, "op");
    out_string(o, op_names[c->op]);
    out_member(o, 0, "table");
    out_string(o, table->name);
    out_member(o, 0, "id");
    out_string(o, c->id);
    if (c->from[0]) {
        out_member(o, 0, "from");
        out_string(o, c->from);
    }
    out_member(o, 0, "part");
    out_string(o, c->part);
    hlc_format(c->node, text);
    out_member(o, 0, "node");
    out_string(o, text);
    hlc_format(c->hlc, text);
    out_member(o, 0, "hlc");
    out_string(o, text);
    if (c->op != CHANGE_DELETE) {
        out_member(o, 0, "set");
        out_bytes(o, "{", 1);
        int first = 1;
        for (size_t f = 0; f < c->nfields; f++) {
            if (c->fields[f].column != DELTA_DELETED) {
                out_member(o, first, field_name(table, &c->fields[f]));
                out_value(o, &c->fields[f].value);
                first = 0;
            }
        }
        out_bytes(o, "}", 1);
    }
    if (has_prev) {
        out_member(o, 0, "prev");
        out_bytes(o, "{", 1);
        int first = 1;
        for (size_t f = 0; f < c->nfields; f++) {
            const struct change_field *field = &c->fields[f];
            if (field->prev_hlc || field->prev_node) {
                format_prev(field->prev_hlc, field->prev_node, text);
                out_member(o, first, field_name(table, field));
                out_string(o, text);
                first = 0;
            }
        }
        out_bytes(o, "}", 1);
    }
    out_bytes(o, "}", 1);
    return 0;
}

int delta_change_json(const struct schema *schema, const struct change *c, char **json)
{
    *json = NULL;
    struct text_out o = {0};
    /* One allocation in the usual case: the estimate is generous for the
     * keys of this form, and escapes are rare. */
    o.cap = 2 * delta_change_size(schema, c) + 160;
    if (!(o.buf = malloc(o.cap))) {
        return SYNC_E_NOMEM;
    }
    int rc = journal_change(&o, schema, c);
    if (rc != 0 || o.failed) {
        free(o.buf);
        return rc ? rc : SYNC_E_NOMEM;
    }
    *json = o.buf;
    return 0;
}

int delta_add_change_json(const struct schema *schema, const struct envelope_limits *limits,
                          struct delta *delta, const char *json)
{
    struct decoder d = {schema, limits, NULL, 0};
    cJSON *obj = cJSON_Parse(json);
    if (!obj) {
        return SYNC_E_JSON;
    }
    size_t before = delta->nchanges;
    int rc = decode_change(&d, obj, 0, delta);
    cJSON_Delete(obj);
    if (rc != 0 && delta->nchanges > before) {
        free_change(&delta->changes[--delta->nchanges]);
    }
    return rc;
}

int delta_pack(const struct schema *schema, const struct delta *delta, int level, uint8_t **out,
               size_t *out_len)
{
    char *json;
    size_t len;
    int rc = delta_encode(schema, delta, &json, &len);
    if (rc != 0) {
        return rc;
    }
    rc = envelope_seal(json, len, level, out, out_len);
    free(json);
    return rc;
}

int delta_unpack(const struct schema *schema, const struct envelope_limits *limits,
                 const uint8_t *buf, size_t len, struct delta **out, char *why, size_t why_len)
{
    char *body;
    size_t body_len;
    int rc = envelope_open(buf, len, limits, &body, &body_len);
    if (rc != 0) {
        if (why && why_len) {
            snprintf(why, why_len, "%s", sync_strerror(rc));
        }
        return rc;
    }
    rc = delta_decode(schema, limits, body, body_len, out, why, why_len);
    free(body);
    return rc;
}
