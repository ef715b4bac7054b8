/* SPDX-License-Identifier: MIT */
/*
 * delta.c - building, encoding and decoding sync messages. A lexical pre-pass
 * (UTF-8, nesting depth, string length) runs before cJSON sees the text, so
 * that hostile input is refused with a precise reason and never drives the
 * parser deep. cJSON then builds the tree, which is checked field by field
 * against the schema. The journal's form of one change, written for every
 * change a replica merges, is printed directly in the bytes cJSON would
 * print (delta_change_json()).
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

static cJSON *value_json(const struct sync_value *v)
{
    switch (v->type) {
    case SYNC_INT:
        return json_util_int(v->i);
    case SYNC_REAL:
        return cJSON_CreateNumber(v->r);
    case SYNC_TEXT:
        return cJSON_CreateString(v->s);
    case SYNC_NULL:
        break;
    }
    return cJSON_CreateNull();
}

static cJSON *change_json(const struct schema *schema, const struct change *c)
{
    if (c->table < 0 || (size_t)c->table >= schema->ntables || c->op < CHANGE_PUT ||
        c->op > CHANGE_DELETE) {
        return NULL;
    }
    const struct schema_table *table = &schema->tables[c->table];
    char hex[HLC_HEXLEN + 1];
    char prev[2 * HLC_HEXLEN + 2];
    cJSON *obj = cJSON_CreateObject();
    if (!obj) {
        return NULL;
    }
    hlc_format(c->node, hex);
    int ok = json_util_add_int(obj, "seq", c->seq) &&
             cJSON_AddStringToObject(obj, "op", op_names[c->op]) &&
             cJSON_AddStringToObject(obj, "table", table->name) &&
             cJSON_AddStringToObject(obj, "id", c->id) &&
             cJSON_AddStringToObject(obj, "part", c->part) &&
             cJSON_AddStringToObject(obj, "node", hex);
    hlc_format(c->hlc, hex);
    ok = ok && cJSON_AddStringToObject(obj, "hlc", hex);
    cJSON *set = NULL, *prevs = NULL;
    if (ok && c->op != CHANGE_DELETE) {
        ok = (set = cJSON_AddObjectToObject(obj, "set")) != NULL;
    }
    for (size_t f = 0; ok && f < c->nfields; f++) {
        const struct change_field *field = &c->fields[f];
        if (field->column != DELTA_DELETED &&
            (field->column < 0 || (size_t)field->column >= table->ncolumns)) {
            ok = 0;
            break;
        }
        if (set && field->column != DELTA_DELETED) {
            cJSON *v = value_json(&field->value);
            ok = v && cJSON_AddItemToObject(set, field_name(table, field), v);
        }
        if (ok && c->op != CHANGE_APPEND && (field->prev_hlc || field->prev_node)) {
            if (!prevs) {
                ok = (prevs = cJSON_AddObjectToObject(obj, "prev")) != NULL;
            }
            format_prev(field->prev_hlc, field->prev_node, prev);
            ok = ok && cJSON_AddStringToObject(prevs, field_name(table, field), prev);
        }
    }
    if (!ok) {
        cJSON_Delete(obj);
        return NULL;
    }
    return obj;
}

size_t delta_change_size(const struct schema *schema, const struct change *change)
{
    /* Fixed parts: keys, ids and stamps take about 190 bytes; each field its
     * name, value and stamp. An estimate within a few per cent is enough to
     * size a batch, and much cheaper than printing it. */
    size_t size = 190;
    if (change->table < 0 || (size_t)change->table >= schema->ntables) {
        return size;
    }
    const struct schema_table *table = &schema->tables[change->table];
    for (size_t f = 0; f < change->nfields; f++) {
        const struct change_field *field = &change->fields[f];
        size += 8 + strlen(field_name(table, field));
        if (field->value.type == SYNC_TEXT) {
            size += strlen(field->value.s) + 8;
        } else {
            size += 20;
        }
        if (field->prev_hlc || field->prev_node) {
            size += 40 + strlen(field_name(table, field));
        }
    }
    return size;
}

int delta_encode(const struct schema *schema, const struct delta *delta, char **json, size_t *len)
{
    char hex[HLC_HEXLEN + 1];
    int rc = SYNC_E_NOMEM;
    cJSON *root = cJSON_CreateObject();
    if (!root || delta->type < DELTA_PUSH || delta->type > DELTA_REPLY) {
        rc = root ? SYNC_E_ARG : SYNC_E_NOMEM;
        goto fail;
    }
    hlc_format(delta->node, hex);
    int ok = json_util_add_int(root, "hamlet", DELTA_VERSION) &&
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
    used -= 2; /* keep "[" */
    size_t cap = used + 64;
    char *text = realloc(head, cap);
    if (!text) {
        free(head);
        goto fail;
    }
    for (size_t i = 0; i < delta->nchanges; i++) {
        cJSON *c = change_json(schema, &delta->changes[i]);
        int bad_change = c == NULL;
        char *one = c ? cJSON_PrintUnformatted(c) : NULL;
        cJSON_Delete(c);
        size_t n = one ? strlen(one) : 0;
        /* Room for a comma, the change, and "]}" with its NUL after it. */
        if (!one || used + n + 4 > cap) {
            size_t want = cap * 2 > used + n + 4 ? cap * 2 : used + n + 4;
            char *grown = one ? realloc(text, want) : NULL;
            if (!grown) {
                rc = bad_change ? SYNC_E_ARG : SYNC_E_NOMEM;
                cJSON_free(one);
                free(text);
                goto fail;
            }
            text = grown;
            cap = want;
        }
        if (i > 0) {
            text[used++] = ',';
        }
        memcpy(text + used, one, n + 1); /* with its NUL: the text stays a string */
        used += n;
        cJSON_free(one);
    }
    memcpy(text + used, "]}", 3);
    *json = text;
    *len = used + 2;
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
    for (const cJSON *item = prev ? prev->child : NULL; item; item = item->next) {
        struct change_field *field = NULL;
        for (size_t f = 0; f < c->nfields; f++) {
            if (!strcmp(field_name(table, &c->fields[f]), item->string)) {
                field = &c->fields[f];
            }
        }
        if (!field || op == CHANGE_APPEND) {
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
    if (version != DELTA_VERSION) {
        return say(d, SYNC_E_DELTA_VERSION, "delta version %lld (this program reads %d)",
                   (long long)version, DELTA_VERSION);
    }
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
    size_t i = 0;
    for (const cJSON *c = changes->child; c; c = c->next, i++) {
        if ((rc = decode_change(d, c, i, delta)) != 0) {
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
 * The journal stores a body for every change merged, so it is written here
 * directly: the same bytes cJSON_PrintUnformatted() prints for
 * change_json()'s tree (members in the same order, strings escaped as cJSON
 * escapes them), without building the tree. A real number is printed by
 * cJSON itself, so that its digits are cJSON's. */

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

int delta_change_json(const struct schema *schema, const struct change *c, char **json)
{
    *json = NULL;
    if (c->table < 0 || (size_t)c->table >= schema->ntables || c->op < CHANGE_PUT ||
        c->op > CHANGE_DELETE) {
        return SYNC_E_ARG;
    }
    const struct schema_table *table = &schema->tables[c->table];
    int has_prev = 0;
    for (size_t f = 0; f < c->nfields; f++) {
        const struct change_field *field = &c->fields[f];
        if (field->column != DELTA_DELETED &&
            (field->column < 0 || (size_t)field->column >= table->ncolumns)) {
            return SYNC_E_ARG;
        }
        has_prev |= c->op != CHANGE_APPEND && (field->prev_hlc || field->prev_node);
    }
    struct text_out o = {0};
    char text[2 * HLC_HEXLEN + 2];
    /* One allocation in the usual case: the estimate is within a few per
     * cent, and escapes are rare. */
    o.cap = delta_change_size(schema, c) + 64;
    if (!(o.buf = malloc(o.cap))) {
        return SYNC_E_NOMEM;
    }
    snprintf(text, sizeof text, "%" PRId64, c->seq);
    out_text(&o, "{\"seq\":");
    out_text(&o, text);
    out_member(&o, 0, "op");
    out_string(&o, op_names[c->op]);
    out_member(&o, 0, "table");
    out_string(&o, table->name);
    out_member(&o, 0, "id");
    out_string(&o, c->id);
    out_member(&o, 0, "part");
    out_string(&o, c->part);
    hlc_format(c->node, text);
    out_member(&o, 0, "node");
    out_string(&o, text);
    hlc_format(c->hlc, text);
    out_member(&o, 0, "hlc");
    out_string(&o, text);
    if (c->op != CHANGE_DELETE) {
        out_member(&o, 0, "set");
        out_bytes(&o, "{", 1);
        int first = 1;
        for (size_t f = 0; f < c->nfields; f++) {
            if (c->fields[f].column != DELTA_DELETED) {
                out_member(&o, first, field_name(table, &c->fields[f]));
                out_value(&o, &c->fields[f].value);
                first = 0;
            }
        }
        out_bytes(&o, "}", 1);
    }
    if (has_prev) {
        out_member(&o, 0, "prev");
        out_bytes(&o, "{", 1);
        int first = 1;
        for (size_t f = 0; f < c->nfields; f++) {
            const struct change_field *field = &c->fields[f];
            if (field->prev_hlc || field->prev_node) {
                format_prev(field->prev_hlc, field->prev_node, text);
                out_member(&o, first, field_name(table, field));
                out_string(&o, text);
                first = 0;
            }
        }
        out_bytes(&o, "}", 1);
    }
    out_bytes(&o, "}", 1);
    if (o.failed) {
        free(o.buf);
        return SYNC_E_NOMEM;
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
