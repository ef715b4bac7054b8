/* SPDX-License-Identifier: MIT */
/*
 * journal.c - packing and unpacking the body of a journal run (the layout
 * is in journal.h).
 */
#include "journal.h"

#include "sync_error.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 255
#define VARINT_MAX   ((size_t)10) /* bytes of a 64-bit LEB128 */
#define UUID_BYTES   16

/* Flags of a change's first byte, above its op. */
#define ID_BINARY     0x10 /* the id is a UUID in 16 bytes */
#define FROM_RELATIVE 0x20 /* the derivation's UUID is the last base */
#define OP_MASK       0x0f

static const char tombstone[] = "deleted";

/* Room for more bytes in w->buf; the buffer exists after it succeeds. */
static int reserve(struct journal_writer *w, size_t more)
{
    if (w->buf && w->len + more <= w->cap) {
        return 0;
    }
    size_t cap = w->cap ? w->cap : 256;
    while (cap < w->len + more) {
        cap *= 2;
    }
    unsigned char *grown = realloc(w->buf, cap);
    if (!grown) {
        return SYNC_E_NOMEM;
    }
    w->buf = grown;
    w->cap = cap;
    return 0;
}

/* Callers reserve room first. */
static void put_varint(struct journal_writer *w, uint64_t v)
{
    while (v >= 0x80) {
        w->buf[w->len++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    w->buf[w->len++] = (unsigned char)v;
}

static void put_bytes(struct journal_writer *w, const char *s, size_t len)
{
    put_varint(w, len);
    memcpy(w->buf + w->len, s, len);
    w->len += len;
}

/* The index of a name in the run's list, added if new; -1 when the list
 * is full or the name too long. Names are the schema's own strings, so
 * equal names are usually the same pointer. */
static long name_index(struct journal_writer *w, const char *name)
{
    for (size_t i = 0; i < w->nnames; i++) {
        if (w->names[i] == name || !strcmp(w->names[i], name)) {
            return (long)i;
        }
    }
    size_t len = strlen(name);
    if (len == 0 || len > NAME_MAX_LEN || w->nnames == JOURNAL_NAMES_MAX) {
        return -1;
    }
    if (w->nnames == w->names_cap) {
        size_t cap = w->names_cap ? 2 * w->names_cap : 16;
        const char **grown = realloc(w->names, cap * sizeof *grown);
        if (!grown) {
            return -2;
        }
        w->names = grown;
        w->names_cap = cap;
    }
    w->names[w->nnames] = name;
    return (long)w->nnames++;
}

/* The difference now - before as a signed number (two's complement),
 * zigzag-encoded: 0, -1, 1, -2... become 0, 1, 2, 3... */
static uint64_t zigzag(uint64_t now, uint64_t before)
{
    uint64_t d = now - before;
    return (d << 1) ^ (0 - (d >> 63));
}

static uint64_t unzigzag(uint64_t z)
{
    return (z >> 1) ^ (0 - (z & 1));
}

/* The base a derivation is relative to: the UUID of the last change's
 * derivation, or else of its id. */
static void set_base(char base[UUID7_STRLEN + 1], const struct change *c)
{
    memcpy(base, c->from[0] ? c->from : c->id, UUID7_STRLEN);
    base[UUID7_STRLEN] = '\0';
}

int journal_add(struct journal_writer *w, const struct schema *schema, const struct change *c)
{
    const struct schema_table *table = &schema->tables[c->table];
    size_t id_len = strlen(c->id), from_len = strlen(c->from);
    size_t need =
        1 + 3 * VARINT_MAX + id_len + from_len + 2 * VARINT_MAX + c->nfields * 3 * VARINT_MAX;
    if (reserve(w, need) != 0) {
        return SYNC_E_NOMEM;
    }
    /* A change refused leaves the run as it was, its names included. */
    size_t start = w->len, names_before = w->nnames;
    long t = name_index(w, table->name);
    if (t < 0) {
        return t == -2 ? SYNC_E_NOMEM : SYNC_E_ARG;
    }
    unsigned char id[UUID_BYTES];
    size_t bin_len = 0;
    int binary = uuid7_valid(c->id) &&
                 sodium_hex2bin(id, sizeof id, c->id, id_len, "-", &bin_len, NULL) == 0 &&
                 bin_len == UUID_BYTES;
    int relative = from_len > UUID7_STRLEN && w->base[0] && !memcmp(c->from, w->base, UUID7_STRLEN);
    w->buf[w->len++] =
        (unsigned char)(c->op | (binary ? ID_BINARY : 0) | (relative ? FROM_RELATIVE : 0));
    put_varint(w, (uint64_t)t);
    if (binary) {
        memcpy(w->buf + w->len, id, sizeof id);
        w->len += sizeof id;
    } else {
        put_bytes(w, c->id, id_len);
    }
    if (relative) {
        put_bytes(w, c->from + UUID7_STRLEN, from_len - UUID7_STRLEN);
    } else {
        put_bytes(w, c->from, from_len);
    }
    put_varint(w, zigzag(c->hlc, w->last_hlc));
    put_varint(w, c->nfields);
    for (size_t i = 0; i < c->nfields; i++) {
        const struct change_field *f = &c->fields[i];
        const char *name = f->column == DELTA_DELETED ? tombstone : table->columns[f->column].name;
        long n = name_index(w, name);
        if (n < 0) {
            w->len = start; /* the change is not added */
            w->nnames = names_before;
            return n == -2 ? SYNC_E_NOMEM : SYNC_E_ARG;
        }
        int prev = f->prev_hlc || f->prev_node;
        put_varint(w, (uint64_t)n << 1 | (uint64_t)prev);
        if (prev) {
            put_varint(w, f->prev_hlc);
            put_varint(w, f->prev_node);
        }
    }
    w->last_hlc = c->hlc;
    if (id_len >= UUID7_STRLEN) {
        set_base(w->base, c);
    }
    w->nchanges++;
    return 0;
}

int journal_finish(const struct journal_writer *w, unsigned char **out, size_t *len)
{
    struct journal_writer head = {0};
    size_t need = 1 + 2 * VARINT_MAX;
    for (size_t i = 0; i < w->nnames; i++) {
        need += VARINT_MAX + strlen(w->names[i]);
    }
    if (reserve(&head, need + w->len) != 0) {
        return SYNC_E_NOMEM;
    }
    head.buf[head.len++] = JOURNAL_VERSION;
    put_varint(&head, w->nnames);
    for (size_t i = 0; i < w->nnames; i++) {
        put_bytes(&head, w->names[i], strlen(w->names[i]));
    }
    put_varint(&head, w->nchanges);
    if (w->len) {
        memcpy(head.buf + head.len, w->buf, w->len);
        head.len += w->len;
    }
    *out = head.buf;
    *len = head.len;
    return 0;
}

void journal_reset(struct journal_writer *w)
{
    free(w->names);
    free(w->buf);
    memset(w, 0, sizeof *w);
}

/* ---- reading ---- */

struct reader {
    const unsigned char *p, *end;
    int bad;
};

static uint64_t get_varint(struct reader *r)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (r->p == r->end) {
            break;
        }
        unsigned char b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            return v;
        }
    }
    r->bad = 1;
    return 0;
}

/* A length-prefixed string of at most max bytes (when r->bad is set after
 * it, an empty one). */
static const char *get_bytes(struct reader *r, size_t max, size_t *len)
{
    uint64_t n = get_varint(r);
    if (r->bad || n > max || n > (uint64_t)(r->end - r->p)) {
        r->bad = 1;
        *len = 0;
        return "";
    }
    const char *s = (const char *)r->p;
    r->p += n;
    *len = (size_t)n;
    return s;
}

struct name {
    const char *s;
    size_t len;
};

static int name_is(const struct name *n, const char *s)
{
    return !strncmp(n->s, s, n->len) && s[n->len] == '\0';
}

/* The column a field name gives in table: DELTA_DELETED for the tombstone,
 * -2 for a name the table does not have. */
static int column_of(const struct schema_table *table, const struct name *name)
{
    if (name_is(name, tombstone)) {
        return DELTA_DELETED;
    }
    for (size_t col = 0; col < table->ncolumns; col++) {
        if (name_is(name, table->columns[col].name)) {
            return (int)col;
        }
    }
    return -2;
}

/* Read the record of a change (flags, id, derivation) into c; base is the
 * UUID a relative derivation continues, updated for the next change. */
static void read_record(struct reader *r, unsigned flags, struct change *c,
                        char base[UUID7_STRLEN + 1])
{
    size_t id_len = 0, from_len = 0;
    if (flags & ID_BINARY) {
        char hex[2 * UUID_BYTES + 1];
        if (r->end - r->p < UUID_BYTES) {
            r->bad = 1;
            return;
        }
        sodium_bin2hex(hex, sizeof hex, r->p, UUID_BYTES);
        r->p += UUID_BYTES;
        snprintf(c->id, sizeof c->id, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16,
                 hex + 20);
        id_len = UUID7_STRLEN;
    } else {
        const char *id = get_bytes(r, UUID7_STRLEN, &id_len);
        memcpy(c->id, id, id_len);
    }
    int relative = (flags & FROM_RELATIVE) != 0;
    const char *from =
        get_bytes(r, relative ? UUID7_FROMLEN - UUID7_STRLEN : UUID7_FROMLEN, &from_len);
    if (r->bad || (relative && (!base[0] || from_len == 0))) {
        r->bad = 1;
        return;
    }
    if (relative) {
        memcpy(c->from, base, UUID7_STRLEN);
        memcpy(c->from + UUID7_STRLEN, from, from_len);
    } else if (from_len) {
        memcpy(c->from, from, from_len);
    }
    if (id_len >= UUID7_STRLEN) {
        set_base(base, c);
    }
}

int journal_each(const struct schema *schema, const void *body, size_t len,
                 const struct change *run, int (*each)(void *ctx, size_t k, struct change *c),
                 void *ctx)
{
    struct reader r = {body, (const unsigned char *)body + len, 0};
    if (len < 1 || *r.p++ != JOURNAL_VERSION) {
        return SYNC_E_DB;
    }
    uint64_t nnames = get_varint(&r);
    if (r.bad || nnames > JOURNAL_NAMES_MAX) {
        return SYNC_E_DB;
    }
    struct name *names = calloc(nnames ? nnames : 1, sizeof *names);
    struct change_field *fields = NULL;
    size_t fields_cap = 0;
    if (!names) {
        return SYNC_E_NOMEM;
    }
    for (uint64_t i = 0; i < nnames; i++) {
        names[i].s = get_bytes(&r, NAME_MAX_LEN, &names[i].len);
        /* The writer's names are C strings: a NUL is damage, and would make
         * name_is() read past the schema's name. */
        if (memchr(names[i].s, '\0', names[i].len)) {
            r.bad = 1;
        }
    }
    uint64_t nchanges = get_varint(&r);
    uint64_t hlc = 0;
    char base[UUID7_STRLEN + 1] = "";
    int rc = r.bad ? SYNC_E_DB : 0;
    for (uint64_t k = 0; rc == 0 && k < nchanges; k++) {
        struct change c;
        memset(&c, 0, sizeof c);
        unsigned flags = r.p < r.end ? *r.p++ : 0;
        c.op = (enum change_op)(flags & OP_MASK);
        uint64_t t = get_varint(&r);
        read_record(&r, flags, &c, base);
        uint64_t d = get_varint(&r);
        hlc += unzigzag(d);
        uint64_t nfields = get_varint(&r);
        if (r.bad || c.op < CHANGE_PUT || c.op > CHANGE_DELETE || t >= nnames ||
            nfields > (uint64_t)(r.end - r.p)) {
            rc = SYNC_E_DB;
            break;
        }
        if (nfields > fields_cap) {
            struct change_field *grown = realloc(fields, nfields * sizeof *grown);
            if (!grown) {
                rc = SYNC_E_NOMEM;
                break;
            }
            fields = grown;
            fields_cap = nfields;
        }
        char table_name[NAME_MAX_LEN + 1];
        snprintf(table_name, sizeof table_name, "%.*s", (int)names[t].len, names[t].s);
        c.table = schema_table(schema, table_name);
        snprintf(c.part, sizeof c.part, "%s", run->part);
        c.node = run->node;
        c.seq = run->seq + (int64_t)k;
        c.hlc = hlc;
        c.fields = fields;
        for (uint64_t i = 0; i < nfields; i++) {
            uint64_t n = get_varint(&r), prev_hlc = 0, prev_node = 0;
            if (n & 1) {
                prev_hlc = get_varint(&r);
                prev_node = get_varint(&r);
            }
            n >>= 1;
            if (r.bad || n >= nnames) {
                rc = SYNC_E_DB;
                break;
            }
            int column = c.table < 0 ? -2 : column_of(&schema->tables[c.table], &names[n]);
            if (column == -2) {
                continue; /* a table or field this schema no longer has */
            }
            fields[c.nfields++] =
                (struct change_field){column, {SYNC_NULL, 0, 0, NULL}, prev_hlc, prev_node};
        }
        if (rc == 0) {
            rc = each(ctx, (size_t)k, &c);
        }
    }
    if (rc == 0 && r.p != r.end) {
        rc = SYNC_E_DB;
    }
    free(names);
    free(fields);
    return rc;
}
