/* SPDX-License-Identifier: MIT */
/*
 * delta.h - the sync messages and their JSON codec.
 *
 * A delta is one message of the protocol: a "push" (a device's changes, its
 * pull cursor and its clock; also the content of a sync file carried on a
 * USB stick) or a "reply" (the hub's acknowledgement, refusals, its time,
 * and the changes the device should have). Each change is one write of one
 * record: a put of some fields, an append of an immutable row, or a delete.
 * Decoding checks every field against the schema and the limits, and says
 * which field was wrong. PROTOCOL.md specifies the JSON.
 */
#ifndef HAMLET_DELTA_H
#define HAMLET_DELTA_H

#include "envelope.h"
#include "schema.h"
#include "uuid7.h"

#include <stddef.h>
#include <stdint.h>

#define DELTA_VERSION  2    /* the JSON format written ("hamlet" field) */
#define DELTA_VERSION1 1    /* the first format, still read and answered */
#define DELTA_DELETED  (-1) /* change_field.column of the tombstone */
#define DELTA_MAX_PART 64   /* bytes in a partition value */

enum change_op {
    CHANGE_PUT = 1, /* set fields of a record, creating it if new */
    CHANGE_APPEND,  /* write an immutable row (events) */
    CHANGE_DELETE,  /* set the record's tombstone */
};

/* One field written by a change. */
struct change_field {
    int column;              /* index in the table's columns, or DELTA_DELETED */
    struct sync_value value; /* text owned by the delta */
    uint64_t prev_hlc;       /* stamp of the value this write replaced; */
    uint64_t prev_node;      /* both 0 when the field had none */
};

/* One write of one record, as made on its origin node. */
struct change {
    enum change_op op;
    int table;                     /* index in schema->tables */
    char id[UUID7_STRLEN + 1];     /* the record */
    char from[UUID7_FROMLEN + 1];  /* "<uuid>/<label>" when id is derived
                                      from it (uuid7_derive()), else "" */
    char part[DELTA_MAX_PART + 1]; /* the record's partition (village) */
    uint64_t node;                 /* origin node */
    int64_t seq;                   /* origin's sequence number, from 1 */
    uint64_t hlc;                  /* stamp of the write */
    size_t nfields;
    struct change_field *fields; /* owned by the delta */
};

enum delta_type {
    DELTA_PUSH = 1, /* device to hub, or a sync file */
    DELTA_REPLY,    /* hub to device */
};

/* A change the receiver did not apply, and why (code is a SYNC_E_*). */
struct delta_refusal {
    int64_t seq;
    int code;
    char *message; /* owned by the delta */
};

struct delta {
    enum delta_type type;
    int version;                   /* the format: DELTA_VERSION (new deltas)
                                      or DELTA_VERSION1 */
    uint64_t node;                 /* sender's node id */
    char part[DELTA_MAX_PART + 1]; /* push: the sender's partition */
    int64_t time_ms;               /* sender's corrected wall clock */
    uint64_t clock;                /* sender's latest hlc stamp */
    int64_t cursor;                /* push: pull after this; reply: the new cursor */
    int64_t pull_bytes;            /* push: most change bytes wanted back (0: none) */
    int64_t acked;                 /* reply: highest contiguous seq held of the sender */
    int64_t resume_from;           /* reply: resend from this seq (0: no gap) */
    int64_t conflicts;             /* reply: conflicts this push raised */
    int more;                      /* reply: more changes wait past cursor */
    size_t nchanges;
    struct change *changes;
    size_t nrefused;
    struct delta_refusal *refused;
    size_t changes_cap, refused_cap; /* private */
};

/* delta_new(type): an empty delta of the current format (DELTA_VERSION).
 * NULL on out-of-memory. Free with
 * delta_free(), which frees every change and string in it. */
struct delta *delta_new(enum delta_type type);
void delta_free(struct delta *delta); /* accepts NULL */

/* delta_add_change(delta, nfields): append a zeroed change with room for
 * nfields fields (nfields set). Returns the change, owned by the delta, or
 * NULL on out-of-memory. Valid until the next delta_add_change(). */
struct change *delta_add_change(struct delta *delta, size_t nfields);

/* delta_set_text(delta, value, text): make value a text owned by the delta
 * (a copy of text). Returns 0 or SYNC_E_NOMEM. */
int delta_set_text(struct delta *delta, struct sync_value *value, const char *text);

/* delta_add_refusal(delta, seq, code, message): record a refusal (message
 * copied). Returns 0 or SYNC_E_NOMEM. */
int delta_add_refusal(struct delta *delta, int64_t seq, int code, const char *message);

/* delta_drop_changes(delta): remove all changes, keeping the header. */
void delta_drop_changes(struct delta *delta);

/* delta_drop_last(delta): remove the last change, if any. */
void delta_drop_last(struct delta *delta);

/* delta_change_size(schema, change): about the bytes the change takes in
 * a delta of the current format (before compression), for sizing batches. */
size_t delta_change_size(const struct schema *schema, const struct change *change);

/* delta_encode(schema, delta, json, len): the delta as JSON without
 * whitespace, in the format delta->version names. On
 * success *json is malloc'd and NUL-terminated (the caller frees it).
 * Returns 0, SYNC_E_NOMEM, or SYNC_E_ARG for a change the schema lacks. */
int delta_encode(const struct schema *schema, const struct delta *delta, char **json, size_t *len);

/* delta_decode(schema, limits, json, len, out, why, why_len): parse and
 * check a delta. On success *out is a new delta (free with delta_free()).
 * On failure returns the SYNC_E_* code of the first problem and, if why is
 * given, a sentence naming the field ("changes[3].hlc: expected 16 hex
 * digits"). Limits: UTF-8, depth, string length, number of changes. */
int delta_decode(const struct schema *schema, const struct envelope_limits *limits,
                 const char *json, size_t len, struct delta **out, char *why, size_t why_len);

/* delta_change_json(schema, change, json): one change as compact JSON, the
 * form the journal stores. *json is malloc'd (the caller frees it).
 * Returns 0, SYNC_E_NOMEM or SYNC_E_ARG. */
int delta_change_json(const struct schema *schema, const struct change *change, char **json);

/* delta_add_change_json(schema, limits, delta, json): decode one change
 * stored by delta_change_json() and append it to delta. Returns 0 or the
 * decode error, as delta_decode() would give it. */
int delta_add_change_json(const struct schema *schema, const struct envelope_limits *limits,
                          struct delta *delta, const char *json);

/* delta_utf8_valid(text, len): 1 if the bytes are valid UTF-8 (no overlong
 * forms, surrogates or code points above U+10FFFF), else 0. */
int delta_utf8_valid(const char *text, size_t len);

/* delta_pack(schema, delta, level, out, out_len): encode and seal in one
 * step (the envelope is malloc'd). delta_unpack(): open and decode in one
 * step. Both return 0 or the first error, as their parts do. */
int delta_pack(const struct schema *schema, const struct delta *delta, int level, uint8_t **out,
               size_t *out_len);
int delta_unpack(const struct schema *schema, const struct envelope_limits *limits,
                 const uint8_t *buf, size_t len, struct delta **out, char *why, size_t why_len);

#endif
