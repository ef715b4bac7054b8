/* SPDX-License-Identifier: MIT */
/*
 * stamps.h - the stamps of one record, packed in one value.
 *
 * Every field of a replicated record remembers the (hlc, node) of the write
 * that set it (PROTOCOL.md §4.2). The replica keeps them in hl_stamp, one
 * row per record with its fields' stamps packed in a BLOB, so that merging
 * a change reads and writes one row, however many fields it sets. Fields
 * are named, not numbered, so a packed value stays right when a later
 * schema adds or drops columns.
 *
 * The packed form (version 1): one byte 0x01, then groups, each the stamp
 * that its fields share and those fields' names:
 *
 *     hlc    8 bytes, big-endian
 *     node   8 bytes, big-endian
 *     count  1 byte, 1 to 255: the fields in the group
 *     count times: length (1 byte, 1 to 255), then the name's bytes
 *
 * A name appears at most once in a value. The tombstone is the field
 * "deleted"; an appended row has one stamp, under the name "*".
 */
#ifndef HAMLET_STAMPS_H
#define HAMLET_STAMPS_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#define STAMPS_VERSION  1
#define STAMPS_NAME_MAX 255

/* One field's stamp. The name need not be NUL-terminated. */
struct stamps_field {
    const char *name;
    size_t name_len; /* 1 to STAMPS_NAME_MAX */
    uint64_t hlc;
    uint64_t node;
};

/* stamps_encode(fields, n, out, cap): pack n fields, those with equal
 * stamps in one group, groups in the order their first field comes. Writes
 * at most cap bytes to out (which may be NULL when cap is 0) and returns
 * the packed size: if it is more than cap, call again with a buffer that
 * large. Returns 0 when n is 0 or a name is empty or longer than
 * STAMPS_NAME_MAX. */
size_t stamps_encode(const struct stamps_field *fields, size_t n, unsigned char *out, size_t cap);

/* stamps_decode(packed, len, each, ctx): call each(ctx, field) for every
 * field of a packed value, in order; field->name points into packed.
 * Returns 0, SYNC_E_DB when the value is not a well-formed packed value
 * (the file is damaged), or the first nonzero value each returned. */
int stamps_decode(const void *packed, size_t len,
                  int (*each)(void *ctx, const struct stamps_field *field), void *ctx);

/* stamps_register(db): define on db the SQL aggregate
 * hl_stamps_pack(name, hlc, node), which packs the fields of its group as
 * stamps_encode() does (engine migration 0002 uses it to convert the
 * one-row-per-field table of version 1). Returns 0 or SYNC_E_DB. */
int stamps_register(sqlite3 *db);

#endif
