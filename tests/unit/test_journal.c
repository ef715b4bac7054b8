/* SPDX-License-Identifier: MIT */
/*
 * test_journal.c - the packed body of a journal run (sync-protocol/
 * journal.h): changes written and read back as they were, without their
 * values (UUID and other ids, derivations written whole or relative to the
 * change before, stamps going up and down, the stamps each field replaced,
 * puts, appends and deletes); bodies read with a later schema that dropped
 * a table or a field; the limit on names in one run; and damaged bodies,
 * which are refused without reading past their end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "journal.h"
#include "sync_error.h"
#include "uuid7.h"

/* ---- schemas ---- */

static const struct schema_column case_columns[] = {
    {"title", SYNC_TEXT, SCHEMA_LWW},
    {"status", SYNC_TEXT, SCHEMA_LWW},
    {"severity", SYNC_INT, SCHEMA_LWW},
    {"created_at", SYNC_TEXT, SCHEMA_ONCE},
};
static const struct schema_column contact_columns[] = {
    {"name", SYNC_TEXT, SCHEMA_LWW},
    {"phone", SYNC_TEXT, SCHEMA_LWW},
};
static const struct schema_column event_columns[] = {
    {"case_id", SYNC_TEXT, SCHEMA_ONCE},
    {"note", SYNC_TEXT, SCHEMA_ONCE},
};

enum { CASES, CONTACTS, EVENTS };

static const struct schema_table tables[] = {
    [CASES] = {"cases", SCHEMA_RECORD, "village", case_columns, 4},
    [CONTACTS] = {"contacts", SCHEMA_RECORD, "village", contact_columns, 2},
    [EVENTS] = {"events", SCHEMA_APPEND, "village", event_columns, 2},
};
static const struct schema schema = {tables, 3, 1024};

/* A later program's schema: contacts and the case's status are gone, the
 * case has a new column, and the tables come in another order. */
static const struct schema_column later_case_columns[] = {
    {"level", SYNC_INT, SCHEMA_LWW},
    {"severity", SYNC_INT, SCHEMA_LWW},
    {"title", SYNC_TEXT, SCHEMA_LWW},
    {"created_at", SYNC_TEXT, SCHEMA_ONCE},
};
static const struct schema_table later_tables[] = {
    {"events", SCHEMA_APPEND, "village", event_columns, 2},
    {"cases", SCHEMA_RECORD, "village", later_case_columns, 4},
};
static const struct schema later = {later_tables, 2, 1024};

#define U1 "019b7a3c-5e00-7a21-9c3e-2f6b1d0a4e55"
#define U9 "019b7a3c-9a10-7c02-8d11-6e0f2a9b3c47"
#define H0 UINT64_C(0x019b774885000000)

/* ---- helpers ---- */

/* Append a change of table to d, with n fields (columns by name; "deleted"
 * is the tombstone) whose values are text; prev stamps are set after. */
static struct change *add(struct delta *d, const struct schema *s, int table, enum change_op op,
                          const char *id, const char *from, uint64_t hlc, size_t n,
                          const char *const *columns)
{
    struct change *c = delta_add_change(d, n);
    assert_non_null(c);
    c->op = op;
    c->table = table;
    snprintf(c->id, sizeof c->id, "%s", id);
    snprintf(c->from, sizeof c->from, "%s", from);
    c->hlc = hlc;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(columns[i], "deleted")) {
            c->fields[i].column = DELTA_DELETED;
            c->fields[i].value = (struct sync_value){.type = SYNC_INT, .i = 1};
            continue;
        }
        c->fields[i].column = schema_column(&s->tables[table], columns[i]);
        assert_true(c->fields[i].column >= 0);
        assert_int_equal(delta_set_text(d, &c->fields[i].value, "邻里纠纷 a value"), 0);
    }
    return c;
}

/* Pack the changes of d as one run; free() the body. */
static unsigned char *pack(const struct schema *s, const struct delta *d, size_t *len)
{
    struct journal_writer w = {0};
    for (size_t i = 0; i < d->nchanges; i++) {
        assert_int_equal(journal_add(&w, s, &d->changes[i]), 0);
    }
    assert_int_equal(w.nchanges, d->nchanges);
    unsigned char *body = NULL;
    assert_int_equal(journal_finish(&w, &body, len), 0);
    assert_non_null(body);
    journal_reset(&w);
    return body;
}

/* What journal_each() gave, copied out of its calls. */
#define SEEN_MAX 32
struct seen {
    size_t n;
    struct change changes[SEEN_MAX];
    struct change_field fields[SEEN_MAX][8];
    size_t total_fields;
    size_t stop_after; /* return stop_with after this many calls (0: never) */
    int stop_with;
};

static int see(void *ctx, size_t k, struct change *c)
{
    struct seen *s = ctx;
    assert_int_equal(k, s->n);
    if (s->n < SEEN_MAX) {
        s->changes[s->n] = *c;
        s->changes[s->n].fields = NULL;
        if (c->nfields <= 8) {
            for (size_t i = 0; i < c->nfields; i++) {
                s->fields[s->n][i] = c->fields[i];
            }
            s->changes[s->n].fields = s->fields[s->n];
        }
    }
    /* Values are not in the journal. */
    for (size_t i = 0; i < c->nfields; i++) {
        assert_int_equal(c->fields[i].value.type, SYNC_NULL);
    }
    s->total_fields += c->nfields;
    s->n++;
    return s->stop_after && s->n == s->stop_after ? s->stop_with : 0;
}

static const struct change run_head = {.part = "杨柳村", .node = 0x9000000000000001, .seq = 41};

/* The change read back is the change written, but for the values. */
static void assert_same_change(const struct change *want, const struct change *got, size_t k)
{
    assert_int_equal(got->op, want->op);
    assert_int_equal(got->table, want->table);
    assert_string_equal(got->id, want->id);
    assert_string_equal(got->from, want->from);
    assert_string_equal(got->part, run_head.part);
    assert_true(got->node == run_head.node);
    assert_int_equal(got->seq, run_head.seq + (int64_t)k);
    assert_true(got->hlc == want->hlc);
    assert_int_equal(got->nfields, want->nfields);
    assert_non_null(got->fields);
    for (size_t i = 0; i < want->nfields; i++) {
        assert_int_equal(got->fields[i].column, want->fields[i].column);
        assert_true(got->fields[i].prev_hlc == want->fields[i].prev_hlc);
        assert_true(got->fields[i].prev_node == want->fields[i].prev_node);
    }
}

/* How many times text is in a body. */
static int contains(const unsigned char *body, size_t len, const char *text)
{
    size_t n = strlen(text);
    int found = 0;
    for (size_t i = 0; i + n <= len; i++) {
        found += !memcmp(body + i, text, n);
    }
    return found;
}

/* The changes of the round trip: every form a change can take. */
static struct delta *every_form(void)
{
    struct delta *d = delta_new(DELTA_PUSH);
    assert_non_null(d);
    static const char *const case_cols[] = {"title", "status", "severity"};
    static const char *const name[] = {"name"};
    static const char *const both[] = {"name", "phone"};
    static const char *const event_cols[] = {"case_id", "note"};
    static const char *const tombstone[] = {"deleted"};
    char id[UUID7_STRLEN + 1];

    /* A record by its UUID; one field with no stamp before it, one with a
     * whole stamp, one with only a node. */
    struct change *c = add(d, &schema, CASES, CHANGE_PUT, U1, "", H0, 3, case_cols);
    c->fields[1].prev_hlc = H0 - 5;
    c->fields[1].prev_node = 7;
    c->fields[2].prev_node = 9;
    /* Derived records: relative to the UUID of the change before, with the
     * clock going down, then up; the longest label there is. */
    assert_int_equal(uuid7_derive(U1 "/contact/0", id), 0);
    add(d, &schema, CONTACTS, CHANGE_PUT, id, U1 "/contact/0", H0 - 1000, 1, name);
    char from[UUID7_FROMLEN + 1];
    snprintf(from, sizeof from, "%s/%.*s", U1, UUID7_MAX_LABEL,
             "0123456789abcdefghijklmnopqrstuvwxyz-_./ABCDEFGHIJKLMNOP");
    assert_int_equal(strlen(from), UUID7_FROMLEN);
    assert_int_equal(uuid7_derive(from, id), 0);
    c = add(d, &schema, CONTACTS, CHANGE_PUT, id, from, H0 + 5, 2, both);
    c->fields[0].prev_hlc = UINT64_MAX;
    c->fields[0].prev_node = UINT64_MAX;
    /* Ids that are not UUIDs: short, and a UUID in upper case (36 bytes,
     * kept as written). */
    add(d, &schema, EVENTS, CHANGE_APPEND, "not-a-uuid", "", UINT64_MAX, 2, event_cols);
    add(d, &schema, CASES, CHANGE_PUT, "019B7A3C-5E00-7A21-9C3E-2F6B1D0A4E55", "", 0, 1, case_cols);
    /* A derivation from another UUID: written whole, then relative to it. */
    assert_int_equal(uuid7_derive(U9 "/x", id), 0);
    add(d, &schema, CONTACTS, CHANGE_PUT, id, U9 "/x", H0, 1, name);
    assert_int_equal(uuid7_derive(U9 "/y", id), 0);
    add(d, &schema, CONTACTS, CHANGE_PUT, id, U9 "/y", 0x8000000000000000, 1, name);
    /* Deletes: the tombstone with and without the stamp it replaced. */
    c = add(d, &schema, CASES, CHANGE_DELETE, U1, "", 1, 1, tombstone);
    c->fields[0].prev_hlc = H0;
    c->fields[0].prev_node = 0x8000000000000001;
    add(d, &schema, CONTACTS, CHANGE_DELETE, id, "", H0 + 1, 1, tombstone);
    /* A change that sets nothing. */
    add(d, &schema, CASES, CHANGE_PUT, U9, "", H0 + 2, 0, NULL);
    return d;
}

/* ---- tests ---- */

static void test_round_trip(void **state)
{
    (void)state;
    struct delta *d = every_form();
    size_t len = 0;
    unsigned char *body = pack(&schema, d, &len);
    assert_int_equal(body[0], JOURNAL_VERSION);

    struct seen *s = calloc(1, sizeof *s);
    assert_non_null(s);
    assert_int_equal(journal_each(&schema, body, len, &run_head, see, s), 0);
    assert_int_equal(s->n, d->nchanges);
    for (size_t k = 0; k < d->nchanges; k++) {
        assert_same_change(&d->changes[k], &s->changes[k], k);
    }

    /* No value is in the body; a UUID id is in binary, another id as
     * written; a derivation that continues the UUID before it keeps only
     * its label. */
    assert_false(contains(body, len, "邻里纠纷"));
    assert_false(contains(body, len, U1));
    assert_true(contains(body, len, "not-a-uuid"));
    assert_true(contains(body, len, "019B7A3C-5E00-7A21-9C3E-2F6B1D0A4E55"));
    assert_false(contains(body, len, U1 "/contact/0"));
    assert_true(contains(body, len, "/contact/0"));
    assert_true(contains(body, len, U9 "/x"));
    assert_false(contains(body, len, U9 "/y"));
    /* Each name once, however many changes use it. */
    assert_int_equal(contains(body, len, "contacts"), 1);
    assert_int_equal(contains(body, len, "deleted"), 1);
    free(body);
    free(s);
    delta_free(d);
}

static void test_writer_is_reusable(void **state)
{
    (void)state;
    struct delta *d = every_form();
    struct journal_writer w = {0};
    unsigned char *empty = NULL, *first = NULL, *all = NULL;
    size_t empty_len = 0, first_len = 0, all_len = 0;
    struct seen *s = calloc(1, sizeof *s);
    assert_non_null(s);

    /* An empty run reads as no changes. */
    assert_int_equal(journal_finish(&w, &empty, &empty_len), 0);
    assert_int_equal(journal_each(&schema, empty, empty_len, &run_head, see, s), 0);
    assert_int_equal(s->n, 0);

    /* Finishing leaves the writer as it was: more changes follow. */
    assert_int_equal(journal_add(&w, &schema, &d->changes[0]), 0);
    assert_int_equal(journal_finish(&w, &first, &first_len), 0);
    for (size_t i = 1; i < d->nchanges; i++) {
        assert_int_equal(journal_add(&w, &schema, &d->changes[i]), 0);
    }
    assert_int_equal(journal_finish(&w, &all, &all_len), 0);
    assert_int_equal(journal_each(&schema, first, first_len, &run_head, see, s), 0);
    assert_int_equal(s->n, 1);
    s->n = 0;
    assert_int_equal(journal_each(&schema, all, all_len, &run_head, see, s), 0);
    assert_int_equal(s->n, d->nchanges);
    for (size_t k = 0; k < d->nchanges; k++) {
        assert_same_change(&d->changes[k], &s->changes[k], k);
    }

    /* After a reset, the writer starts a new run. */
    journal_reset(&w);
    assert_int_equal(w.nchanges, 0);
    assert_null(w.buf);
    assert_int_equal(journal_add(&w, &schema, &d->changes[3]), 0);
    free(first);
    assert_int_equal(journal_finish(&w, &first, &first_len), 0);
    s->n = 0;
    assert_int_equal(journal_each(&schema, first, first_len, &run_head, see, s), 0);
    assert_int_equal(s->n, 1);
    assert_same_change(&d->changes[3], &s->changes[0], 0);
    journal_reset(&w);
    journal_reset(&w); /* twice is harmless */
    free(empty);
    free(first);
    free(all);
    free(s);
    delta_free(d);
}

static void test_names_the_schema_no_longer_has(void **state)
{
    (void)state;
    struct delta *d = delta_new(DELTA_PUSH);
    assert_non_null(d);
    static const char *const case_cols[] = {"title", "status", "severity"};
    static const char *const name[] = {"name"};
    static const char *const status[] = {"status"};
    static const char *const tombstone[] = {"deleted"};
    static const char *const note[] = {"note"};
    struct change *c = add(d, &schema, CASES, CHANGE_PUT, U1, "", H0, 3, case_cols);
    c->fields[2].prev_hlc = H0 - 1;
    c->fields[2].prev_node = 3;
    add(d, &schema, CONTACTS, CHANGE_PUT, U9, "", H0 + 1, 1, name);
    add(d, &schema, CASES, CHANGE_PUT, U1, "", H0 + 2, 1, status);
    add(d, &schema, CASES, CHANGE_DELETE, U1, "", H0 + 3, 1, tombstone);
    add(d, &schema, EVENTS, CHANGE_APPEND, U9, "", H0 + 4, 1, note);
    size_t len = 0;
    unsigned char *body = pack(&schema, d, &len);

    struct seen *s = calloc(1, sizeof *s);
    assert_non_null(s);
    assert_int_equal(journal_each(&later, body, len, &run_head, see, s), 0);
    assert_int_equal(s->n, 5);
    /* The case's title and severity, by their new places; its status is
     * left out. */
    assert_int_equal(s->changes[0].table, 1);
    assert_int_equal(s->changes[0].nfields, 2);
    assert_int_equal(s->changes[0].fields[0].column, 2); /* title */
    assert_int_equal(s->changes[0].fields[1].column, 1); /* severity */
    assert_true(s->changes[0].fields[1].prev_hlc == H0 - 1);
    assert_int_equal(s->changes[0].fields[1].prev_node, 3);
    /* A table it no longer has: -1, and no fields; the reading goes on. */
    assert_int_equal(s->changes[1].table, -1);
    assert_int_equal(s->changes[1].nfields, 0);
    assert_string_equal(s->changes[1].id, U9);
    assert_true(s->changes[1].hlc == H0 + 1);
    /* A change of nothing but a dropped field. */
    assert_int_equal(s->changes[2].table, 1);
    assert_int_equal(s->changes[2].nfields, 0);
    assert_true(s->changes[2].hlc == H0 + 2);
    /* The tombstone, and the appended row, still there. */
    assert_int_equal(s->changes[3].op, CHANGE_DELETE);
    assert_int_equal(s->changes[3].nfields, 1);
    assert_int_equal(s->changes[3].fields[0].column, DELTA_DELETED);
    assert_int_equal(s->changes[4].table, 0);
    assert_int_equal(s->changes[4].fields[0].column, 1);
    assert_int_equal(s->changes[4].seq, run_head.seq + 4);
    free(body);
    free(s);
    delta_free(d);
}

/* A table of many columns, "c0000" on, and one whose name is too long. */
#define WIDE 1100
static char wide_names[WIDE][8];
static char long_name[257];
static struct schema_column wide_columns[WIDE + 2];
static struct schema_table wide_tables[1];
static struct schema wide = {wide_tables, 1, 1024};

static void wide_schema(void)
{
    for (size_t i = 0; i < WIDE; i++) {
        snprintf(wide_names[i], sizeof wide_names[i], "c%04zu", i);
        wide_columns[i] = (struct schema_column){wide_names[i], SYNC_TEXT, SCHEMA_LWW};
    }
    memset(long_name, 'x', 256);
    wide_columns[WIDE] = (struct schema_column){long_name, SYNC_TEXT, SCHEMA_LWW};
    wide_columns[WIDE + 1] = (struct schema_column){long_name + 1, SYNC_TEXT, SCHEMA_LWW};
    wide_tables[0] =
        (struct schema_table){"wide", SCHEMA_RECORD, "village", wide_columns, WIDE + 2};
}

/* A put of columns from to to - 1 of the wide table. */
static struct change *wide_put(struct delta *d, size_t from, size_t to, uint64_t hlc)
{
    struct change *c = delta_add_change(d, to - from);
    assert_non_null(c);
    c->op = CHANGE_PUT;
    snprintf(c->id, sizeof c->id, "%s", U1);
    c->hlc = hlc;
    for (size_t i = from; i < to; i++) {
        c->fields[i - from].column = (int)i;
    }
    return c;
}

static void assert_writer_unchanged(const struct journal_writer *w, const unsigned char *before,
                                    size_t before_len)
{
    unsigned char *now = NULL;
    size_t now_len = 0;
    assert_int_equal(journal_finish(w, &now, &now_len), 0);
    assert_int_equal(now_len, before_len);
    assert_memory_equal(now, before, before_len);
    free(now);
}

static void test_names_max(void **state)
{
    (void)state;
    wide_schema();
    struct delta *d = delta_new(DELTA_PUSH);
    assert_non_null(d);
    struct journal_writer w = {0};
    unsigned char *before = NULL;
    size_t before_len = 0;

    /* The table's name and ten fields. */
    assert_int_equal(journal_add(&w, &wide, wide_put(d, 0, 10, H0)), 0);
    assert_int_equal(journal_finish(&w, &before, &before_len), 0);
    /* A change that would name more than JOURNAL_NAMES_MAX is refused,
     * and the run stays as it was. */
    assert_int_equal(journal_add(&w, &wide, wide_put(d, 10, WIDE, H0 + 1)), SYNC_E_ARG);
    assert_int_equal(w.nchanges, 1);
    assert_writer_unchanged(&w, before, before_len);
    /* So does a name longer than 255 bytes, even after names that fit. */
    struct change *c = wide_put(d, 10, 12, H0 + 2);
    c->fields[1].column = WIDE;
    assert_int_equal(journal_add(&w, &wide, c), SYNC_E_ARG);
    assert_writer_unchanged(&w, before, before_len);
    /* 255 bytes fit. */
    c = wide_put(d, 0, 1, H0 + 3);
    c->fields[0].column = WIDE + 1;
    assert_int_equal(journal_add(&w, &wide, c), 0);

    /* Up to the maximum exactly: the table, 1 long name and 1022 others. */
    assert_int_equal(journal_add(&w, &wide, wide_put(d, 10, JOURNAL_NAMES_MAX - 2, H0 + 4)), 0);
    free(before);
    assert_int_equal(journal_finish(&w, &before, &before_len), 0);
    assert_int_equal(journal_add(&w, &wide, wide_put(d, 0, JOURNAL_NAMES_MAX - 1, H0 + 5)),
                     SYNC_E_ARG);
    assert_writer_unchanged(&w, before, before_len);
    /* Names already in the run still serve. */
    assert_int_equal(journal_add(&w, &wide, wide_put(d, 5, 500, H0 + 6)), 0);
    assert_int_equal(w.nchanges, 4);

    unsigned char *body = NULL;
    size_t len = 0;
    assert_int_equal(journal_finish(&w, &body, &len), 0);
    struct seen *s = calloc(1, sizeof *s);
    assert_non_null(s);
    assert_int_equal(journal_each(&wide, body, len, &run_head, see, s), 0);
    assert_int_equal(s->n, 4);
    assert_int_equal(s->total_fields, 10 + 1 + (JOURNAL_NAMES_MAX - 12) + 495);
    assert_true(s->changes[3].hlc == H0 + 6);
    journal_reset(&w);
    free(body);
    free(before);
    free(s);
    delta_free(d);
}

/* Every way a body can be damaged is SYNC_E_DB, never a read past its end
 * (run under make asan). */
static void test_damaged_bodies(void **state)
{
    (void)state;
    struct delta *d = every_form();
    size_t len = 0;
    unsigned char *body = pack(&schema, d, &len);
    struct seen *s = calloc(1, sizeof *s);
    assert_non_null(s);

    /* Every truncation, each in a buffer of its own size. */
    for (size_t cut = 0; cut < len; cut++) {
        unsigned char *part = malloc(cut ? cut : 1);
        assert_non_null(part);
        memcpy(part, body, cut);
        s->n = 0;
        int rc = journal_each(&schema, part, cut, &run_head, see, s);
        if (rc != SYNC_E_DB) {
            fail_msg("a body cut to %zu of %zu bytes gives %d", cut, len, rc);
        }
        free(part);
    }
    assert_int_equal(journal_each(&schema, NULL, 0, &run_head, see, s), SYNC_E_DB);

    /* A byte too many. */
    unsigned char *longer = malloc(len + 1);
    assert_non_null(longer);
    memcpy(longer, body, len);
    longer[len] = 0;
    s->n = 0;
    assert_int_equal(journal_each(&schema, longer, len + 1, &run_head, see, s), SYNC_E_DB);
    free(longer);

    /* Another version: nothing is read. */
    body[0] = JOURNAL_VERSION + 1;
    s->n = 0;
    assert_int_equal(journal_each(&schema, body, len, &run_head, see, s), SYNC_E_DB);
    assert_int_equal(s->n, 0);
    body[0] = 0;
    assert_int_equal(journal_each(&schema, body, len, &run_head, see, s), SYNC_E_DB);
    free(body);
    free(s);
    delta_free(d);
}

/* One change of one name, hand-made: version, 1 name "cases", 1 change:
 * flags (op), table 0, id of 1 byte "x", no derivation, hlc 2 (+1), no
 * fields. Offsets: flags 9, table 10. */
static const unsigned char small[] = {
    1, 1, 5, 'c', 'a', 's', 'e', 's', 1, CHANGE_PUT, 0, 1, 'x', 0, 2, 0,
};

static int read_small(const unsigned char *body, size_t len, struct seen *s)
{
    memset(s, 0, sizeof *s);
    return journal_each(&schema, body, len, &run_head, see, s);
}

static void test_damaged_fields(void **state)
{
    (void)state;
    struct seen *s = calloc(1, sizeof *s);
    assert_non_null(s);
    unsigned char b[64];
    memcpy(b, small, sizeof small);
    assert_int_equal(read_small(b, sizeof small, s), 0);
    assert_int_equal(s->n, 1);
    assert_int_equal(s->changes[0].table, CASES);
    assert_string_equal(s->changes[0].id, "x");
    assert_true(s->changes[0].hlc == 1);

    /* Ops that are none, one with the flag of a binary id. */
    const unsigned char ops[] = {0, CHANGE_DELETE + 1, 0x0f, 0x10};
    for (size_t i = 0; i < sizeof ops; i++) {
        memcpy(b, small, sizeof small);
        b[9] = ops[i];
        assert_int_equal(read_small(b, sizeof small, s), SYNC_E_DB);
        assert_int_equal(s->n, 0);
    }
    /* A table index past the names. */
    memcpy(b, small, sizeof small);
    b[10] = 1;
    assert_int_equal(read_small(b, sizeof small, s), SYNC_E_DB);
    /* A derivation "/": whole, it reads; relative, there is nothing before
     * it to continue. */
    memcpy(b, small, 13);
    memcpy(b + 13, "\1/\2\0", 4);
    assert_int_equal(read_small(b, 17, s), 0);
    assert_string_equal(s->changes[0].from, "/");
    b[9] = CHANGE_PUT | 0x20;
    assert_int_equal(read_small(b, 17, s), SYNC_E_DB);
    /* A field whose name index is past the names. */
    memcpy(b, small, sizeof small);
    b[15] = 1;
    b[16] = 1 << 1;
    assert_int_equal(read_small(b, sizeof small + 1, s), SYNC_E_DB);
    /* A field that announces the stamp it replaced, and ends. */
    b[16] = 0 << 1 | 1;
    assert_int_equal(read_small(b, sizeof small + 1, s), SYNC_E_DB);
    /* More fields than bytes left. */
    b[15] = 0x7f;
    assert_int_equal(read_small(b, sizeof small + 1, s), SYNC_E_DB);
    /* A binary id cut short. */
    memcpy(b, small, sizeof small);
    b[9] = CHANGE_PUT | 0x10;
    assert_int_equal(read_small(b, sizeof small, s), SYNC_E_DB);
    /* An id longer than a UUID. */
    memcpy(b, small, 11);
    b[11] = UUID7_STRLEN + 1;
    memset(b + 12, 'y', UUID7_STRLEN + 1);
    memcpy(b + 12 + UUID7_STRLEN + 1, "\0\2\0", 3);
    assert_int_equal(read_small(b, 12 + UUID7_STRLEN + 1 + 3, s), SYNC_E_DB);
    b[11] = UUID7_STRLEN;
    memcpy(b + 12 + UUID7_STRLEN, "\0\2\0", 3);
    assert_int_equal(read_small(b, 12 + UUID7_STRLEN + 3, s), 0);
    /* A varint that never ends. */
    memcpy(b, small, 9);
    memset(b + 8, 0xff, 12);
    assert_int_equal(read_small(b, 20, s), SYNC_E_DB);
    /* More names than a run may hold. */
    const unsigned char many[] = {1, 0x81, 0x08, 0};
    assert_int_equal(read_small(many, sizeof many, s), SYNC_E_DB);
    /* A name longer than 255 bytes. */
    const unsigned char long_len[] = {1, 1, 0x80, 0x02};
    assert_int_equal(read_small(long_len, sizeof long_len, s), SYNC_E_DB);
    /* A name with a NUL in it: the writer never writes one, and a reader
     * comparing it as a C string would take "cases\0" for "cases" and read
     * past "deleted". */
    static const char nul[] = "\1"            /* version */
                              "\2\6cases\0"   /* two names: "cases\0", */
                              "\11deleted\0x" /* and "deleted\0x" */
                              "\1\3\0\1x\0\2" /* a delete of "x" in the first, */
                              "\1\2";         /* setting the second */
    assert_int_equal(read_small((const unsigned char *)nul, sizeof nul - 1, s), SYNC_E_DB);
    free(s);
}

static void test_callback_stops_the_reading(void **state)
{
    (void)state;
    struct delta *d = every_form();
    size_t len = 0;
    unsigned char *body = pack(&schema, d, &len);
    struct seen *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->stop_after = 2;
    s->stop_with = 42;
    assert_int_equal(journal_each(&schema, body, len, &run_head, see, s), 42);
    assert_int_equal(s->n, 2);
    s->n = 0;
    s->stop_with = SYNC_E_NOT_FOUND;
    assert_int_equal(journal_each(&schema, body, len, &run_head, see, s), SYNC_E_NOT_FOUND);
    assert_int_equal(s->n, 2);
    free(body);
    free(s);
    delta_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_writer_is_reusable),
        cmocka_unit_test(test_names_the_schema_no_longer_has),
        cmocka_unit_test(test_names_max),
        cmocka_unit_test(test_damaged_bodies),
        cmocka_unit_test(test_damaged_fields),
        cmocka_unit_test(test_callback_stops_the_reading),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
