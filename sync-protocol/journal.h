/* SPDX-License-Identifier: MIT */
/*
 * journal.h - the body of one run of the change journal.
 *
 * The replica journals changes by runs (hl_run, one row per run): changes
 * of one origin node, one partition and consecutive sequence numbers,
 * applied one after the other. The row holds what the run shares (node,
 * partition, first seq, first position); its body, packed here, holds what
 * each change adds: its operation, record, stamp, and the fields it set with
 * the stamps they replaced. Values are not in the body: a value is in the
 * record's row while the field still holds it, and in hl_prior once another
 * write replaced it (or when it never won), so the journal repeats nothing
 * the rows hold.
 *
 * Tables and fields are named, not numbered, so that a body stays right
 * when a later schema adds or drops columns: the body starts with the names
 * it uses, and the changes refer to them by index. The packed form
 * (version 1), with every integer an unsigned LEB128 varint:
 *
 *     version  1 byte, 0x01
 *     names    count, then each: length (1 to 255), bytes
 *     changes  count, then each:
 *         flags    1 byte: the op (enum change_op) in the low 4 bits;
 *                  0x10: the id is binary; 0x20: the derivation is relative
 *         table    index of its name
 *         id       binary: the UUID's 16 bytes; else length, bytes
 *         from     the derivation (uuid7.h): length (0: none), bytes; when
 *                  relative, only what follows the UUID, which is the
 *                  UUID of the previous change's derivation, or else of its
 *                  id
 *         hlc      the stamp minus the previous change's (the first: minus
 *                  0), zigzag-encoded
 *         fields   count, then each: index of its name ("deleted" for the
 *                  tombstone) times 2, plus 1 when the stamp it replaced
 *                  follows (prev hlc, prev node)
 */
#ifndef HAMLET_JOURNAL_H
#define HAMLET_JOURNAL_H

#include "delta.h"
#include "schema.h"

#include <stddef.h>
#include <stdint.h>

#define JOURNAL_VERSION   1
#define JOURNAL_NAMES_MAX 1024 /* distinct table and field names in one run */

/* A run being written. Zero it before the first journal_add(). */
struct journal_writer {
    const char **names; /* borrowed from the schema */
    size_t nnames, names_cap;
    unsigned char *buf; /* the changes, packed */
    size_t len, cap;
    size_t nchanges;
    uint64_t last_hlc;
    char base[UUID7_STRLEN + 1]; /* what a relative derivation continues */
};

/* journal_add(w, schema, change): append a change (its values are not
 * kept). Returns 0, SYNC_E_NOMEM, or SYNC_E_ARG when a name is too long or
 * the run would name more than JOURNAL_NAMES_MAX. */
int journal_add(struct journal_writer *w, const struct schema *schema, const struct change *c);

/* journal_finish(w, out, len): the packed body of the changes added, in a
 * malloc'd buffer (the caller frees it). Returns 0 or SYNC_E_NOMEM. The
 * writer is left as it was. */
int journal_finish(const struct journal_writer *w, unsigned char **out, size_t *len);

/* journal_reset(w): forget the changes added and free the writer's memory. */
void journal_reset(struct journal_writer *w);

/* journal_each(schema, body, len, change, each, ctx): unpack a body,
 * calling each(ctx, k, c) for its k-th change (from 0). change gives what
 * the run's row holds (node, part, and seq of the first change); c gets the
 * rest, with every field's value SYNC_NULL, and is valid during the call
 * only. A table the schema no longer has gives c->table -1 and no fields;
 * a field it no longer has is left out. Returns 0, SYNC_E_DB when the body
 * is damaged, SYNC_E_NOMEM, or the first nonzero value each returned. */
int journal_each(const struct schema *schema, const void *body, size_t len,
                 const struct change *run, int (*each)(void *ctx, size_t k, struct change *c),
                 void *ctx);

#endif
