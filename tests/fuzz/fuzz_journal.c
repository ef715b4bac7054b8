/* SPDX-License-Identifier: MIT */
/*
 * fuzz_journal.c - libFuzzer target for the body of a journal run as a
 * replica reads it from its file (journal.h): a damaged file must give
 * SYNC_E_DB, never a crash or a read past the body. Whatever unpacks must
 * pack again and unpack to the same changes. `make fuzz` runs it over the
 * seed corpus in tests/fuzz/corpus/journal/.
 */
#include "journal.h"
#include "ledger_schema.h"
#include "sync_error.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The changes of a body, as unpacked (values are never there). */
struct seen {
    const struct schema *schema;
    struct journal_writer again; /* the changes packed anew */
    struct change *changes;      /* copies, fields included */
    size_t n;
};

static int take(void *ctx, size_t k, struct change *c)
{
    struct seen *s = ctx;
    if (k != s->n) {
        abort();
    }
    struct change *grown = realloc(s->changes, (s->n + 1) * sizeof *grown);
    if (!grown) {
        abort();
    }
    s->changes = grown;
    struct change *copy = &s->changes[s->n++];
    *copy = *c;
    copy->fields = c->nfields ? malloc(c->nfields * sizeof *c->fields) : NULL;
    if (c->nfields && !copy->fields) {
        abort();
    }
    if (c->nfields) {
        memcpy(copy->fields, c->fields, c->nfields * sizeof *c->fields);
    }
    /* A change of a table the schema has packs again; one of a table it
     * lacks cannot be named and is left out of the second body. */
    if (c->table >= 0 && journal_add(&s->again, s->schema, c) != 0) {
        abort();
    }
    return 0;
}

struct compare {
    const struct seen *first;
    size_t next;
};

static int same(void *ctx, size_t k, struct change *c)
{
    struct compare *cmp = ctx;
    (void)k;
    while (cmp->next < cmp->first->n && cmp->first->changes[cmp->next].table < 0) {
        cmp->next++;
    }
    if (cmp->next == cmp->first->n) {
        abort();
    }
    const struct change *a = &cmp->first->changes[cmp->next++];
    if (a->op != c->op || a->table != c->table || strcmp(a->id, c->id) != 0 ||
        strcmp(a->from, c->from) != 0 || a->hlc != c->hlc || a->nfields != c->nfields) {
        abort();
    }
    for (size_t i = 0; i < c->nfields; i++) {
        if (a->fields[i].column != c->fields[i].column ||
            a->fields[i].prev_hlc != c->fields[i].prev_hlc ||
            a->fields[i].prev_node != c->fields[i].prev_node) {
            abort();
        }
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct schema *schema = ledger_schema_get();
    struct change run;
    memset(&run, 0, sizeof run);
    run.node = 7;
    run.seq = 1;
    memcpy(run.part, "village", 8);
    struct seen s = {schema, {0}, NULL, 0};
    int rc = journal_each(schema, data, size, &run, take, &s);
    if (rc != 0 && rc != SYNC_E_DB) {
        abort();
    }
    if (rc == 0) {
        unsigned char *body = NULL;
        size_t len = 0;
        if (journal_finish(&s.again, &body, &len) != 0) {
            abort();
        }
        struct compare cmp = {&s, 0};
        if (journal_each(schema, body, len, &run, same, &cmp) != 0) {
            abort();
        }
        free(body);
    }
    for (size_t i = 0; i < s.n; i++) {
        free(s.changes[i].fields);
    }
    free(s.changes);
    journal_reset(&s.again);
    return 0;
}
