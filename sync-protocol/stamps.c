/* SPDX-License-Identifier: MIT */
/*
 * stamps.c - packing and unpacking the stamps of one record (the layout is
 * in stamps.h), and the SQL aggregate that packs the rows of the engine's
 * first stamp table when a replica is upgraded.
 */
#include "stamps.h"

#include "sync_error.h"

#include <stdlib.h>
#include <string.h>

#define GROUP_HEAD 17  /* hlc, node, count */
#define GROUP_MAX  255 /* fields in one group */

static int same_stamp(const struct stamps_field *a, const struct stamps_field *b)
{
    return a->hlc == b->hlc && a->node == b->node;
}

/* Append len bytes at *pos if they fit; *pos counts them either way. */
static void put(unsigned char *out, size_t cap, size_t *pos, const void *bytes, size_t len)
{
    if (out && *pos + len <= cap) {
        memcpy(out + *pos, bytes, len);
    }
    *pos += len;
}

static void put_u64(unsigned char *out, size_t cap, size_t *pos, uint64_t v)
{
    unsigned char b[8];
    for (int i = 7; i >= 0; i--) {
        b[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
    put(out, cap, pos, b, sizeof b);
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

size_t stamps_encode(const struct stamps_field *fields, size_t n, unsigned char *out, size_t cap)
{
    if (n == 0) {
        return 0;
    }
    size_t pos = 0;
    unsigned char byte = STAMPS_VERSION;
    put(out, cap, &pos, &byte, 1);
    for (size_t i = 0; i < n; i++) {
        if (fields[i].name_len == 0 || fields[i].name_len > STAMPS_NAME_MAX) {
            return 0;
        }
        /* Field i leads a group unless an earlier field has its stamp. */
        size_t k = 0;
        while (k < i && !same_stamp(&fields[k], &fields[i])) {
            k++;
        }
        if (k < i) {
            continue;
        }
        size_t members = 0;
        for (size_t j = i; j < n; j++) {
            members += same_stamp(&fields[j], &fields[i]);
        }
        size_t in_group = 0;
        for (size_t j = i; j < n; j++) {
            if (!same_stamp(&fields[j], &fields[i])) {
                continue;
            }
            if (in_group == 0) {
                size_t count = members > GROUP_MAX ? GROUP_MAX : members;
                put_u64(out, cap, &pos, fields[i].hlc);
                put_u64(out, cap, &pos, fields[i].node);
                byte = (unsigned char)count;
                put(out, cap, &pos, &byte, 1);
                in_group = count;
                members -= count;
            }
            byte = (unsigned char)fields[j].name_len;
            put(out, cap, &pos, &byte, 1);
            put(out, cap, &pos, fields[j].name, fields[j].name_len);
            in_group--;
        }
    }
    return pos;
}

int stamps_decode(const void *packed, size_t len,
                  int (*each)(void *ctx, const struct stamps_field *field), void *ctx)
{
    const unsigned char *p = packed;
    if (len < 1 || p[0] != STAMPS_VERSION) {
        return SYNC_E_DB;
    }
    size_t at = 1;
    while (at < len) {
        if (len - at < GROUP_HEAD || p[at + 16] == 0) {
            return SYNC_E_DB;
        }
        struct stamps_field f = {NULL, 0, get_u64(p + at), get_u64(p + at + 8)};
        size_t count = p[at + 16];
        at += GROUP_HEAD;
        for (size_t i = 0; i < count; i++) {
            if (at >= len || p[at] == 0 || len - at - 1 < p[at]) {
                return SYNC_E_DB;
            }
            f.name_len = p[at];
            f.name = (const char *)p + at + 1;
            at += 1 + f.name_len;
            int rc = each(ctx, &f);
            if (rc != 0) {
                return rc;
            }
        }
    }
    return 0;
}

/* ---- hl_stamps_pack(name, hlc, node) ---- */

struct pack_state {
    struct stamps_field *fields; /* names malloc'd */
    size_t n, cap;
    int failed; /* 1: out of memory; 2: a name that cannot be packed */
};

static void pack_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    struct pack_state *s = sqlite3_aggregate_context(ctx, sizeof *s);
    if (!s) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    if (s->failed) {
        return;
    }
    const unsigned char *name = sqlite3_value_text(argv[0]);
    size_t len = (size_t)sqlite3_value_bytes(argv[0]);
    if (!name || len == 0 || len > STAMPS_NAME_MAX) {
        s->failed = 2;
        return;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        struct stamps_field *grown = realloc(s->fields, cap * sizeof *grown);
        if (!grown) {
            s->failed = 1;
            return;
        }
        s->fields = grown;
        s->cap = cap;
    }
    char *copy = malloc(len);
    if (!copy) {
        s->failed = 1;
        return;
    }
    memcpy(copy, name, len);
    struct stamps_field *f = &s->fields[s->n++];
    f->name = copy; /* freed by pack_final() */
    f->name_len = len;
    f->hlc = (uint64_t)sqlite3_value_int64(argv[1]);
    f->node = (uint64_t)sqlite3_value_int64(argv[2]);
}

static void pack_final(sqlite3_context *ctx)
{
    struct pack_state *s = sqlite3_aggregate_context(ctx, 0);
    if (!s) {
        sqlite3_result_null(ctx); /* an empty group */
        return;
    }
    size_t len = s->failed ? 0 : stamps_encode(s->fields, s->n, NULL, 0);
    unsigned char *out = len ? sqlite3_malloc64(len) : NULL;
    if (s->failed == 2) {
        sqlite3_result_error(ctx, "hl_stamps_pack: a field name of 1 to 255 bytes", -1);
    } else if (!out) {
        sqlite3_result_error_nomem(ctx);
    } else {
        stamps_encode(s->fields, s->n, out, len);
        sqlite3_result_blob64(ctx, out, len, sqlite3_free);
    }
    for (size_t i = 0; i < s->n; i++) {
        free((char *)(uintptr_t)s->fields[i].name);
    }
    free(s->fields);
}

int stamps_register(sqlite3 *db)
{
    return sqlite3_create_function_v2(db, "hl_stamps_pack", 3, SQLITE_UTF8, NULL, NULL, pack_step,
                                      pack_final, NULL) == SQLITE_OK
               ? 0
               : SYNC_E_DB;
}
