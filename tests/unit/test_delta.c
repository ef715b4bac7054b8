/* SPDX-License-Identifier: MIT */
/*
 * test_delta.c - unit tests of the sync messages and their JSON codec
 * (sync-protocol/delta.h), with the ledger's schema. Pushes and replies
 * built through the API make the round trip through delta_encode() and
 * delta_decode() and through delta_pack() and delta_unpack(), every field
 * compared. Then JSON written by hand, one valid push and its variants,
 * checks that each malformed input is refused with its own code and a
 * reason naming the field, so that the decoder is not only tested against
 * its own encoder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "delta.h"
#include "ledger_schema.h"
#include "sync_error.h"
#include "uuid7.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

/* Stamps, node ids and record ids of the hand-written JSON. */
#define NODE_A     "00c0ffee00000001"
#define NODE_A_VAL 0x00c0ffee00000001ull
#define NODE_HUB   "00000000000000b2"
#define CLOCK      "0000018bcfe56a00"
#define CLOCK_VAL  0x0000018bcfe56a00ull
#define HLC_1      "0000018bcfe56800"
#define HLC_1_VAL  0x0000018bcfe56800ull
#define PREV_1     "0000018bcfe50001:00000000000000b2"
#define ID_1       "018bcfe5-6800-7abc-8def-0123456789ab"
#define ID_2       "018bcfe5-6801-7000-8000-00000000beef"
#define PART       "v-lakeside"

/* ---- building JSON by hand ---- */

/* One member of a JSON object: its key and its value as JSON text. */
struct json_field {
    const char *key;
    const char *text; /* NULL: the changes array given to object_text() */
};

/* A valid put of three fields of a case: text, integer and null. */
static const struct json_field good_change[] = {
    {"seq", "7"},
    {"op", "\"put\""},
    {"table", "\"cases\""},
    {"id", "\"" ID_1 "\""},
    {"part", "\"" PART "\""},
    {"node", "\"" NODE_A "\""},
    {"hlc", "\"" HLC_1 "\""},
    {"set", "{\"title\":\"Boundary wall\",\"severity\":2,\"outcome\":null}"},
};

static const struct json_field good_push[] = {
    {"hamlet", "1"},          {"type", "\"push\""},      {"node", "\"" NODE_A "\""},
    {"part", "\"" PART "\""}, {"time", "1700000000123"}, {"clock", "\"" CLOCK "\""},
    {"cursor", "42"},         {"pull_bytes", "65536"},   {"changes", NULL},
};

static const struct json_field good_reply[] = {
    {"hamlet", "1"},
    {"type", "\"reply\""},
    {"node", "\"" NODE_HUB "\""},
    {"time", "1700000000999"},
    {"clock", "\"" CLOCK "\""},
    {"cursor", "99"},
    {"acked", "7"},
    {"resume_from", "0"},
    {"conflicts", "1"},
    {"more", "true"},
    {"refused",
     "[{\"seq\":8,\"error\":\"partition\",\"message\":\"village v-hill is not yours\"}]"},
    {"changes", NULL},
};

struct text {
    char *s;
    size_t len, cap;
};

static void text_add(struct text *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 256;
        while (cap < t->len + n + 1) {
            cap *= 2;
        }
        char *grown = realloc(t->s, cap);
        assert_non_null(grown);
        t->s = grown;
        t->cap = cap;
    }
    memcpy(t->s + t->len, s, n);
    t->len += n;
    t->s[t->len] = '\0';
}

static void text_puts(struct text *t, const char *s)
{
    text_add(t, s, strlen(s));
}

/* A malloc'd string from a printf format. */
__attribute__((format(printf, 1, 2))) static char *strf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    assert_true(n >= 0);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* n copies of c, NUL-terminated (malloc'd). */
static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* The JSON object of fields, with the member key given the text value
 * instead: dropped when value is NULL, added at the end when the object
 * lacks key. A field whose text is NULL takes changes. Malloc'd. */
static char *object_text(const struct json_field *fields, size_t n, const char *key,
                         const char *value, const char *changes)
{
    struct text t = {0};
    int found = 0, first = 1;
    text_puts(&t, "{");
    for (size_t i = 0; i < n; i++) {
        const char *v = fields[i].text ? fields[i].text : changes;
        if (key && !strcmp(key, fields[i].key)) {
            found = 1;
            if (!value) {
                continue;
            }
            v = value;
        }
        text_puts(&t, first ? "\"" : ",\"");
        text_puts(&t, fields[i].key);
        text_puts(&t, "\":");
        text_puts(&t, v);
        first = 0;
    }
    if (key && value && !found) {
        text_puts(&t, first ? "\"" : ",\"");
        text_puts(&t, key);
        text_puts(&t, "\":");
        text_puts(&t, value);
    }
    text_puts(&t, "}");
    return t.s;
}

/* The good change with one member replaced, dropped or added. */
static char *change_text(const char *key, const char *value)
{
    return object_text(good_change, COUNT(good_change), key, value, NULL);
}

/* A push whose changes array is the given JSON text. */
static char *push_with_changes(const char *changes)
{
    return object_text(good_push, COUNT(good_push), NULL, NULL, changes);
}

/* A push of one change: the good change with one member varied. */
static char *push_change(const char *key, const char *value)
{
    char *change = change_text(key, value);
    char *changes = strf("[%s]", change);
    char *json = push_with_changes(changes);
    free(changes);
    free(change);
    return json;
}

/* The good push (or reply), with one top-level member varied. */
static char *top_text(const struct json_field *fields, size_t n, const char *key, const char *value)
{
    char *change = change_text(NULL, NULL);
    char *changes = strf("[%s]", change);
    char *json = object_text(fields, n, key, value, changes);
    free(changes);
    free(change);
    return json;
}

static char *push_top(const char *key, const char *value)
{
    return top_text(good_push, COUNT(good_push), key, value);
}

static char *reply_top(const char *key, const char *value)
{
    return top_text(good_reply, COUNT(good_reply), key, value);
}

/* ---- decoding with checks ---- */

static const struct envelope_limits *default_limits(void)
{
    static struct envelope_limits limits;
    envelope_limits_default(&limits);
    return &limits;
}

/* Decode len bytes of json and expect code; for a refusal, a reason that
 * contains why_has (if given) and no delta. */
static void expect_bytes(const char *json, size_t len, const struct envelope_limits *limits,
                         int code, const char *why_has)
{
    char why[256];
    struct delta *delta = NULL;
    memset(why, 'X', sizeof why);
    int rc = delta_decode(ledger_schema_get(), limits ? limits : default_limits(), json, len,
                          &delta, why, sizeof why);
    if (rc != code || (rc != 0 && why_has && !strstr(why, why_has))) {
        print_error("input: %.300s\nexpected %s (\"%s\"), got %s: %.256s\n", json,
                    sync_error_name(code), why_has ? why_has : "", sync_error_name(rc),
                    rc ? why : "");
    }
    assert_int_equal(rc, code);
    if (code == 0) {
        assert_non_null(delta);
        delta_free(delta);
        return;
    }
    assert_null(delta);
    assert_non_null(memchr(why, '\0', sizeof why));
    assert_true(why[0] != '\0');
    if (why_has) {
        assert_non_null(strstr(why, why_has));
    }
}

/* As expect_bytes() for a malloc'd string, which it frees. */
static void expect_json(char *json, const struct envelope_limits *limits, int code,
                        const char *why_has)
{
    expect_bytes(json, strlen(json), limits, code, why_has);
    free(json);
}

static struct delta *decode_ok(const char *json)
{
    char why[256] = "";
    struct delta *delta = NULL;
    int rc = delta_decode(ledger_schema_get(), default_limits(), json, strlen(json), &delta, why,
                          sizeof why);
    if (rc != 0) {
        print_error("input: %.300s\nrefused: %s: %s\n", json, sync_error_name(rc), why);
    }
    assert_int_equal(rc, 0);
    assert_non_null(delta);
    return delta;
}

static int table_of(const char *name)
{
    int t = schema_table(ledger_schema_get(), name);
    assert_true(t >= 0);
    return t;
}

static int column_of(int table, const char *name)
{
    int c = schema_column(&ledger_schema_get()->tables[table], name);
    assert_true(c >= 0);
    return c;
}

/* ---- deltas built through the API ---- */

static struct change *add_change(struct delta *delta, enum change_op op, const char *table,
                                 const char *id, int64_t seq, uint64_t hlc, size_t nfields)
{
    struct change *c = delta_add_change(delta, nfields);
    assert_non_null(c);
    c->op = op;
    c->table = table_of(table);
    snprintf(c->id, sizeof c->id, "%s", id);
    snprintf(c->part, sizeof c->part, "%s", PART);
    c->node = NODE_A_VAL;
    c->seq = seq;
    c->hlc = hlc;
    return c;
}

static void set_text(struct delta *delta, struct change *c, size_t f, const char *column,
                     const char *text)
{
    c->fields[f].column = column_of(c->table, column);
    assert_int_equal(delta_set_text(delta, &c->fields[f].value, text), 0);
}

static void set_int(struct change *c, size_t f, const char *column, int64_t i)
{
    c->fields[f].column = column_of(c->table, column);
    c->fields[f].value = (struct sync_value){.type = SYNC_INT, .i = i};
}

static void set_null(struct change *c, size_t f, const char *column)
{
    c->fields[f].column = column_of(c->table, column);
    c->fields[f].value = (struct sync_value){.type = SYNC_NULL};
}

static void set_prev(struct change *c, size_t f, uint64_t hlc, uint64_t node)
{
    c->fields[f].prev_hlc = hlc;
    c->fields[f].prev_node = node;
}

static void make_delete(struct change *c, uint64_t prev_hlc, uint64_t prev_node)
{
    c->fields[0].column = DELTA_DELETED;
    c->fields[0].value = (struct sync_value){.type = SYNC_INT, .i = 1};
    set_prev(c, 0, prev_hlc, prev_node);
}

#define HLC(n) (0x0000018bcfe50000ull + (n))

/* Puts of every field kind, an append, deletes with and without a prior
 * stamp: the changes a push or a reply carries. */
static void add_sample_changes(struct delta *d)
{
    struct change *c = add_change(d, CHANGE_PUT, "cases", ID_1, 1, HLC(1), 6);
    set_text(d, c, 0, "title",
             "Boundary wall \"north\" \\ line\nsecond\ttab \xe2\x9c\x93 "
             "\xf0\x9f\x8c\xbe Ng\xc3\xb4");
    set_prev(c, 0, HLC(0), 0x00000000000000b2ull);
    set_int(c, 1, "severity", 3);
    set_null(c, 2, "outcome");
    set_prev(c, 2, 0xffffffffffffffffull, 0xfedcba9876543210ull);
    set_int(c, 3, "level", -4503599627370496ll); /* -2^52 */
    set_text(d, c, 4, "facts", "");
    set_text(d, c, 5, "case_no", "LS-2023-0042");

    c = add_change(d, CHANGE_APPEND, "events", ID_2, 2, HLC(2), 4);
    set_text(d, c, 0, "case_id", ID_1);
    set_text(d, c, 1, "date", "2023-11-14");
    set_text(d, c, 2, "kind", "hearing");
    set_null(c, 3, "note");

    c = add_change(d, CHANGE_DELETE, "contacts", "018bcfe5-6802-7000-8000-000000000001", 3, HLC(3),
                   1);
    make_delete(c, HLC(0), NODE_A_VAL);

    c = add_change(d, CHANGE_DELETE, "case_parties", "018bcfe5-6803-7000-8000-000000000002", 4,
                   HLC(4), 1);
    make_delete(c, 0, 0);

    c = add_change(d, CHANGE_PUT, "agreements", "018bcfe5-6804-7000-8000-000000000003",
                   4503599627370495ll, 0xffffffffffffffffull, 3);
    set_int(c, 0, "sealed", 1);
    set_int(c, 1, "parties_signed", 0);
    set_int(c, 2, "mediator_signed", 4503599627370495ll); /* 2^52 - 1 */
    set_prev(c, 1, 1, 1);
}

static struct delta *sample_push(void)
{
    struct delta *d = delta_new(DELTA_PUSH);
    assert_non_null(d);
    d->node = NODE_A_VAL;
    snprintf(d->part, sizeof d->part, "%s", PART);
    d->time_ms = 1700000000123;
    d->clock = CLOCK_VAL;
    d->cursor = 123456789012;
    d->pull_bytes = 65536;
    add_sample_changes(d);
    return d;
}

static struct delta *sample_reply(void)
{
    struct delta *d = delta_new(DELTA_REPLY);
    assert_non_null(d);
    d->node = 0xb2;
    d->time_ms = 1700000000999;
    d->clock = 0xfffffffffffffffeull;
    d->cursor = 77;
    d->acked = 3;
    d->resume_from = 5;
    d->conflicts = 2;
    d->more = 1;
    assert_int_equal(delta_add_refusal(d, 4, SYNC_E_PARTITION, "village v-hill is not yours"), 0);
    assert_int_equal(delta_add_refusal(d, 6, SYNC_E_APPEND_ONLY, NULL), 0);
    assert_int_equal(delta_add_refusal(d, 7, SYNC_E_UNKNOWN_COLUMN, "cases has no \"colour\""), 0);
    add_sample_changes(d);
    return d;
}

static void assert_value_equal(const struct sync_value *a, const struct sync_value *b)
{
    assert_int_equal(a->type, b->type);
    switch (a->type) {
    case SYNC_INT:
        assert_true(a->i == b->i);
        break;
    case SYNC_REAL:
        assert_true(a->r == b->r);
        break;
    case SYNC_TEXT:
        assert_string_equal(a->s, b->s);
        break;
    case SYNC_NULL:
        break;
    }
}

static void assert_change_equal(const struct change *a, const struct change *b)
{
    assert_int_equal(a->op, b->op);
    assert_int_equal(a->table, b->table);
    assert_string_equal(a->id, b->id);
    assert_string_equal(a->part, b->part);
    assert_true(a->node == b->node);
    assert_true(a->seq == b->seq);
    assert_true(a->hlc == b->hlc);
    assert_string_equal(a->from, b->from);
    assert_int_equal(a->nfields, b->nfields);
    /* The same fields, in any order: the compact form writes them in the
     * table's column order. */
    for (size_t f = 0; f < a->nfields; f++) {
        const struct change_field *fb = NULL;
        for (size_t g = 0; g < b->nfields; g++) {
            if (b->fields[g].column == a->fields[f].column) {
                fb = &b->fields[g];
            }
        }
        assert_non_null(fb);
        assert_value_equal(&a->fields[f].value, &fb->value);
        assert_true(a->fields[f].prev_hlc == fb->prev_hlc);
        assert_true(a->fields[f].prev_node == fb->prev_node);
    }
}

static void assert_delta_equal(const struct delta *a, const struct delta *b)
{
    assert_int_equal(a->type, b->type);
    assert_true(a->node == b->node);
    assert_string_equal(a->part, b->part);
    assert_true(a->time_ms == b->time_ms);
    assert_true(a->clock == b->clock);
    assert_true(a->cursor == b->cursor);
    assert_true(a->pull_bytes == b->pull_bytes);
    assert_true(a->acked == b->acked);
    assert_true(a->resume_from == b->resume_from);
    assert_true(a->conflicts == b->conflicts);
    assert_int_equal(a->more, b->more);
    assert_int_equal(a->nchanges, b->nchanges);
    for (size_t i = 0; i < a->nchanges; i++) {
        assert_change_equal(&a->changes[i], &b->changes[i]);
    }
    assert_int_equal(a->nrefused, b->nrefused);
    for (size_t i = 0; i < a->nrefused; i++) {
        assert_true(a->refused[i].seq == b->refused[i].seq);
        assert_int_equal(a->refused[i].code, b->refused[i].code);
        assert_string_equal(a->refused[i].message, b->refused[i].message);
    }
}

/* Encode and decode, then pack and unpack at three levels: every trip
 * gives back the same delta. */
static void check_round_trips(const struct delta *d)
{
    const struct schema *schema = ledger_schema_get();
    char *json = NULL;
    size_t len = 0;
    assert_int_equal(delta_encode(schema, d, &json, &len), 0);
    assert_int_equal(len, strlen(json));
    assert_true(delta_utf8_valid(json, len));
    struct delta *back = decode_ok(json);
    assert_delta_equal(d, back);
    delta_free(back);
    free(json);

    static const int levels[] = {0, 6, 9};
    for (size_t i = 0; i < COUNT(levels); i++) {
        uint8_t *env = NULL;
        size_t env_len = 0;
        char why[128] = "";
        back = NULL;
        assert_int_equal(delta_pack(schema, d, levels[i], &env, &env_len), 0);
        assert_int_equal(env[5], levels[i] ? ENVELOPE_DEFLATE : 0);
        assert_int_equal(
            delta_unpack(schema, default_limits(), env, env_len, &back, why, sizeof why), 0);
        assert_delta_equal(d, back);
        delta_free(back);
        free(env);
    }
}

/* ---- round trips ---- */

static void test_round_trip_push(void **state)
{
    (void)state;
    struct delta *d = sample_push();
    check_round_trips(d);
    delta_free(d);
}

/* Deltas of 0 to 300 changes of text lengths from 0 to 40 bytes, and with
 * a change far larger than the head (the buffer then grows to fit it
 * exactly), so that the printed text ends at every position of its growing
 * buffer: under the sanitizers an overrun there is caught. */
static void test_round_trip_many_sizes(void **state)
{
    (void)state;
    static char big[6000];
    for (size_t len = 100; len < sizeof big; len += 97) {
        struct delta *d = delta_new(DELTA_PUSH);
        assert_non_null(d);
        d->node = NODE_A_VAL;
        snprintf(d->part, sizeof d->part, "%s", PART);
        memset(big, 'x', len);
        big[len] = '\0';
        /* A small change, then the large one after its comma. */
        set_text(d, add_change(d, CHANGE_PUT, "cases", ID_1, 1, HLC(1), 1), 0, "title", "a");
        set_text(d, add_change(d, CHANGE_PUT, "cases", ID_1, 2, HLC(2), 1), 0, "title", big);
        check_round_trips(d);
        delta_free(d);
    }
    char text[64];
    for (size_t n = 0; n <= 300; n += 7) {
        struct delta *d = delta_new(DELTA_PUSH);
        assert_non_null(d);
        d->node = NODE_A_VAL;
        snprintf(d->part, sizeof d->part, "%s", PART);
        for (size_t i = 0; i < n; i++) {
            size_t len = (i * 13 + n) % 41;
            memset(text, 'a' + (int)(i % 26), len);
            text[len] = '\0';
            struct change *c =
                add_change(d, CHANGE_PUT, "cases", ID_1, (int64_t)i + 1, HLC(i + 1), 1);
            set_text(d, c, 0, "title", text);
        }
        check_round_trips(d);
        delta_free(d);
    }
}

static void test_round_trip_reply(void **state)
{
    (void)state;
    struct delta *d = sample_reply();
    assert_string_equal(d->refused[1].message, sync_strerror(SYNC_E_APPEND_ONLY));
    check_round_trips(d);
    /* The other value of the more flag. */
    d->more = 0;
    check_round_trips(d);
    delta_free(d);
}

static void test_round_trip_empty(void **state)
{
    (void)state;
    struct delta *d = delta_new(DELTA_PUSH);
    assert_non_null(d);
    snprintf(d->part, sizeof d->part, "%s", "v");
    check_round_trips(d);
    delta_free(d);
    d = delta_new(DELTA_REPLY);
    assert_non_null(d);
    check_round_trips(d);
    delta_free(d);
}

static void test_round_trip_large_integers(void **state)
{
    (void)state;
    /* The decoder takes integers up to 2^53 in magnitude (exact in a
     * double); the encoder must write them back digit for digit, in a
     * field, a seq and a cursor. */
    static const int64_t values[] = {
        4503599627370496ll,  /* 2^52 */
        4503599627370499ll,  /* 2^52 + 3 */
        6000000000000001ll,  /* 6e15 + 1 */
        9007199254740991ll,  /* 2^53 - 1 */
        9007199254740992ll,  /* 2^53 */
        -9007199254740992ll, /* -2^53 */
    };
    int wrong = 0;
    for (size_t i = 0; i < COUNT(values); i++) {
        int64_t positive = values[i] > 0 ? values[i] : 1;
        struct delta *d = delta_new(DELTA_PUSH);
        assert_non_null(d);
        snprintf(d->part, sizeof d->part, "%s", PART);
        d->cursor = positive;
        struct change *c = add_change(d, CHANGE_PUT, "cases", ID_1, positive, HLC(1), 1);
        set_int(c, 0, "severity", values[i]);
        char *json = NULL;
        size_t len = 0;
        assert_int_equal(delta_encode(ledger_schema_get(), d, &json, &len), 0);
        delta_free(d);
        struct delta *back = decode_ok(json);
        if (back->changes[0].fields[0].value.i != values[i] || back->changes[0].seq != positive ||
            back->cursor != positive) {
            print_error("%lld came back as %lld (seq %lld, cursor %lld); the JSON: %s\n",
                        (long long)values[i], (long long)back->changes[0].fields[0].value.i,
                        (long long)back->changes[0].seq, (long long)back->cursor, json);
            wrong++;
        }
        delta_free(back);
        free(json);
    }
    assert_int_equal(wrong, 0);
}

static void test_drop_changes(void **state)
{
    (void)state;
    struct delta *d = sample_reply();
    delta_drop_changes(d);
    assert_int_equal(d->nchanges, 0);
    assert_int_equal(d->nrefused, 3);
    check_round_trips(d);
    delta_free(d);
    delta_free(NULL);
}

static void test_encode_bad_change(void **state)
{
    (void)state;
    const struct schema *schema = ledger_schema_get();
    char *json = NULL;
    size_t len = 0;
    struct delta *d = sample_push();
    d->changes[1].table = (int)schema->ntables;
    assert_int_equal(delta_encode(schema, d, &json, &len), SYNC_E_ARG);
    d->changes[1].table = -1;
    assert_int_equal(delta_encode(schema, d, &json, &len), SYNC_E_ARG);
    d->changes[1].table = table_of("events");
    d->changes[1].fields[0].column = 99;
    assert_int_equal(delta_encode(schema, d, &json, &len), SYNC_E_ARG);
    d->changes[1].fields[0].column = 0;
    d->changes[1].op = 0;
    assert_int_equal(delta_encode(schema, d, &json, &len), SYNC_E_ARG);
    assert_null(json);
    delta_free(d);
}

/* ---- the hand-written JSON decodes to what it says ---- */

static void test_decode_hand_push(void **state)
{
    (void)state;
    char *json = push_change(NULL, NULL);
    struct delta *d = decode_ok(json);
    free(json);
    assert_int_equal(d->type, DELTA_PUSH);
    assert_true(d->node == NODE_A_VAL);
    assert_string_equal(d->part, PART);
    assert_true(d->time_ms == 1700000000123);
    assert_true(d->clock == CLOCK_VAL);
    assert_true(d->cursor == 42);
    assert_true(d->pull_bytes == 65536);
    assert_int_equal(d->nchanges, 1);
    assert_int_equal(d->nrefused, 0);
    const struct change *c = &d->changes[0];
    int cases = table_of("cases");
    assert_int_equal(c->op, CHANGE_PUT);
    assert_int_equal(c->table, cases);
    assert_string_equal(c->id, ID_1);
    assert_string_equal(c->part, PART);
    assert_true(c->node == NODE_A_VAL);
    assert_true(c->seq == 7);
    assert_true(c->hlc == HLC_1_VAL);
    assert_int_equal(c->nfields, 3);
    assert_int_equal(c->fields[0].column, column_of(cases, "title"));
    assert_int_equal(c->fields[0].value.type, SYNC_TEXT);
    assert_string_equal(c->fields[0].value.s, "Boundary wall");
    assert_int_equal(c->fields[1].column, column_of(cases, "severity"));
    assert_int_equal(c->fields[1].value.type, SYNC_INT);
    assert_true(c->fields[1].value.i == 2);
    assert_int_equal(c->fields[2].column, column_of(cases, "outcome"));
    assert_int_equal(c->fields[2].value.type, SYNC_NULL);
    for (size_t f = 0; f < 3; f++) {
        assert_true(c->fields[f].prev_hlc == 0 && c->fields[f].prev_node == 0);
    }
    delta_free(d);

    /* Optional members may be left out; whitespace and escapes are JSON. */
    json = push_top("pull_bytes", NULL);
    d = decode_ok(json);
    assert_true(d->pull_bytes == 0);
    delta_free(d);
    free(json);
    d = decode_ok(" \n{ \"hamlet\" : 1 , \"type\" : \"push\", \"node\":\"" NODE_A "\",\t"
                  "\"part\":\"v-lake\\u0073ide\",\"time\":0,\"clock\":\"" CLOCK "\","
                  "\"cursor\":0,\"changes\":[ ] }\r\n");
    assert_string_equal(d->part, PART);
    assert_int_equal(d->nchanges, 0);
    delta_free(d);
}

static void test_decode_hand_reply(void **state)
{
    (void)state;
    char *json = reply_top(NULL, NULL);
    struct delta *d = decode_ok(json);
    free(json);
    assert_int_equal(d->type, DELTA_REPLY);
    assert_true(d->node == 0xb2);
    assert_true(d->time_ms == 1700000000999);
    assert_true(d->cursor == 99);
    assert_true(d->acked == 7);
    assert_true(d->resume_from == 0);
    assert_true(d->conflicts == 1);
    assert_int_equal(d->more, 1);
    assert_int_equal(d->nrefused, 1);
    assert_true(d->refused[0].seq == 8);
    assert_int_equal(d->refused[0].code, SYNC_E_PARTITION);
    assert_string_equal(d->refused[0].message, "village v-hill is not yours");
    assert_int_equal(d->nchanges, 1);
    delta_free(d);

    json = reply_top("more", "false");
    d = decode_ok(json);
    assert_int_equal(d->more, 0);
    delta_free(d);
    free(json);

    /* refused and conflicts are optional. */
    json = reply_top("refused", NULL);
    d = decode_ok(json);
    assert_int_equal(d->nrefused, 0);
    delta_free(d);
    free(json);
    json = reply_top("conflicts", NULL);
    d = decode_ok(json);
    assert_true(d->conflicts == 0);
    delta_free(d);
    free(json);
}

static void test_decode_hand_append_delete_prev(void **state)
{
    (void)state;
    const char *changes =
        "[{\"seq\":1,\"op\":\"append\",\"table\":\"events\",\"id\":\"" ID_2 "\","
        "\"part\":\"" PART "\",\"node\":\"" NODE_A "\",\"hlc\":\"" HLC_1 "\","
        "\"set\":{\"case_id\":\"" ID_1 "\",\"kind\":\"visit\",\"note\":null}},"
        "{\"seq\":2,\"op\":\"delete\",\"table\":\"contacts\",\"id\":\"" ID_1 "\","
        "\"part\":\"" PART "\",\"node\":\"" NODE_A "\",\"hlc\":\"" HLC_1 "\","
        "\"prev\":{\"deleted\":\"" PREV_1 "\"}},"
        "{\"seq\":3,\"op\":\"put\",\"table\":\"case_parties\",\"id\":\"" ID_1 "\","
        "\"part\":\"" PART "\",\"node\":\"" NODE_A "\",\"hlc\":\"" HLC_1 "\","
        "\"set\":{\"role\":\"respondent\",\"position\":-2},"
        "\"prev\":{\"position\":\"0000018BCFE50001:00000000000000B2\"}}]";
    char *json = push_with_changes(changes);
    struct delta *d = decode_ok(json);
    free(json);
    assert_int_equal(d->nchanges, 3);

    const struct change *c = &d->changes[0];
    assert_int_equal(c->op, CHANGE_APPEND);
    assert_int_equal(c->table, table_of("events"));
    assert_int_equal(c->nfields, 3);
    assert_int_equal(c->fields[1].column, column_of(c->table, "kind"));
    assert_string_equal(c->fields[1].value.s, "visit");
    assert_int_equal(c->fields[2].value.type, SYNC_NULL);

    c = &d->changes[1];
    assert_int_equal(c->op, CHANGE_DELETE);
    assert_int_equal(c->table, table_of("contacts"));
    assert_int_equal(c->nfields, 1);
    assert_int_equal(c->fields[0].column, DELTA_DELETED);
    assert_int_equal(c->fields[0].value.type, SYNC_INT);
    assert_true(c->fields[0].value.i == 1);
    assert_true(c->fields[0].prev_hlc == 0x0000018bcfe50001ull);
    assert_true(c->fields[0].prev_node == 0xb2);

    c = &d->changes[2];
    assert_int_equal(c->nfields, 2);
    assert_true(c->fields[0].prev_hlc == 0 && c->fields[0].prev_node == 0);
    assert_true(c->fields[1].value.i == -2);
    assert_true(c->fields[1].prev_hlc == 0x0000018bcfe50001ull); /* hex of either case */
    assert_true(c->fields[1].prev_node == 0xb2);
    delta_free(d);
}

/* ---- malformed input, one class at a time ---- */

static void test_invalid_utf8(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "\xff",             /* never valid */
        "\x80",             /* a lone continuation byte */
        "\xc0\xaf",         /* overlong '/' */
        "\xc1\xbf",         /* overlong */
        "\xe0\x80\xaf",     /* overlong, three bytes */
        "\xf0\x80\x80\xaf", /* overlong, four bytes */
        "\xed\xa0\x80",     /* U+D800, a surrogate */
        "\xed\xbf\xbf",     /* U+DFFF, a surrogate */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "\xe2\x82",         /* cut short before the closing quote */
        "\xe2\x28\xa1",     /* a bad continuation byte */
    };
    for (size_t i = 0; i < COUNT(bad); i++) {
        char *set = strf("{\"title\":\"Boundary %s wall\"}", bad[i]);
        expect_json(push_change("set", set), NULL, SYNC_E_UTF8, "UTF-8");
        free(set);
    }
    /* Outside strings too, and as the very last byte. */
    char *json = push_change(NULL, NULL);
    char *bad_tail = strf("%s\xc3", json);
    expect_json(bad_tail, NULL, SYNC_E_UTF8, "UTF-8");
    free(json);
    /* Valid multi-byte text is fine, up to U+10FFFF. */
    expect_json(push_change("set", "{\"title\":\"\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e"
                                   "\xf4\x8f\xbf\xbf\xed\x9f\xbf\xee\x80\x80\"}"),
                NULL, 0, NULL);
}

static void test_not_json(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        " ",
        "{",
        "hamlet",
        "{\"hamlet\":1,}",
        "{'hamlet':1}",
        "{\"hamlet\":NaN}",
        "{\"hamlet\" 1}",
    };
    for (size_t i = 0; i < COUNT(bad); i++) {
        expect_bytes(bad[i], strlen(bad[i]), NULL, SYNC_E_JSON, NULL);
    }
    /* The good push, cut anywhere, is not JSON. */
    char *json = push_change(NULL, NULL);
    size_t len = strlen(json);
    for (size_t cut = 0; cut < len; cut += 7) {
        expect_bytes(json, cut, NULL, SYNC_E_JSON, NULL);
    }
    expect_bytes(json, len - 1, NULL, SYNC_E_JSON, NULL);
    free(json);
    /* A lone surrogate escape names no character. */
    expect_json(push_change("set", "{\"title\":\"a\\ud800b\"}"), NULL, SYNC_E_JSON, NULL);
}

static void test_trailing_garbage(void **state)
{
    (void)state;
    static const char *const tails[] = {"x", " x", "{}", ",", "]", "\n1", "}"};
    char *json = push_change(NULL, NULL);
    for (size_t i = 0; i < COUNT(tails); i++) {
        expect_json(strf("%s%s", json, tails[i]), NULL, SYNC_E_JSON, NULL);
    }
    /* Whitespace after the value is not garbage. */
    expect_json(strf("%s \r\n\t", json), NULL, 0, NULL);
    free(json);
}

static void test_not_object(void **state)
{
    (void)state;
    static const char *const bad[] = {"[]", "[{\"hamlet\":1}]", "\"push\"", "42", "null", "true"};
    for (size_t i = 0; i < COUNT(bad); i++) {
        expect_bytes(bad[i], strlen(bad[i]), NULL, SYNC_E_JSON_NOT_OBJECT, NULL);
    }
    static const char *const bad_changes[] = {"[1]", "[[]]", "[\"put\"]", "[null]"};
    for (size_t i = 0; i < COUNT(bad_changes); i++) {
        expect_json(push_with_changes(bad_changes[i]), NULL, SYNC_E_JSON_NOT_OBJECT, "changes[0]");
    }
    expect_json(push_change("set", "[]"), NULL, SYNC_E_JSON_NOT_OBJECT, "changes[0].set");
    expect_json(push_change("set", "\"title\""), NULL, SYNC_E_JSON_NOT_OBJECT, "set");
    expect_json(push_change("prev", "[\"" PREV_1 "\"]"), NULL, SYNC_E_JSON_NOT_OBJECT,
                "changes[0].prev");
    expect_json(reply_top("refused", "[5]"), NULL, SYNC_E_JSON_NOT_OBJECT, "refused[0]");
}

static void test_depth(void **state)
{
    (void)state;
    /* The push is an object (1) whose member ext holds arrays: seven of them
     * reach the default depth of 8, eight go past it. */
    char *open = repeat('[', 7), *close = repeat(']', 7);
    char *ext = strf("%s%s", open, close);
    expect_json(push_top("ext", ext), NULL, 0, NULL);
    free(ext);
    ext = strf("[%s%s]", open, close);
    expect_json(push_top("ext", ext), NULL, SYNC_E_JSON_DEPTH, "deeper than 8");
    free(ext);
    free(open);
    free(close);

    /* Inside a change: root, changes, change, set and five arrays. */
    expect_json(push_change("set", "{\"title\":[[[[[1]]]]]}"), NULL, SYNC_E_JSON_DEPTH, NULL);

    /* A lower limit applies; a huge nesting is refused before parsing. */
    struct envelope_limits limits = *default_limits();
    limits.max_depth = 3;
    expect_json(push_change(NULL, NULL), &limits, SYNC_E_JSON_DEPTH, NULL);
    limits.max_depth = 4;
    expect_json(push_change(NULL, NULL), &limits, 0, NULL);
    char *deep = repeat('[', 100000);
    expect_json(deep, NULL, SYNC_E_JSON_DEPTH, NULL);
}

static void test_string_limit(void **state)
{
    (void)state;
    struct envelope_limits limits = *default_limits();
    limits.max_string = 100;
    char *a100 = repeat('a', 100), *a101 = repeat('a', 101);
    char *set = strf("{\"title\":\"%s\"}", a100);
    expect_json(push_change("set", set), &limits, 0, NULL);
    free(set);
    set = strf("{\"title\":\"%s\"}", a101);
    expect_json(push_change("set", set), &limits, SYNC_E_JSON_STRING, "limit is 100");
    free(set);
    /* A key is a string too, even one the decoder would ignore. */
    char *key = strf("{\"%s\":1}", a101);
    expect_json(push_top("ext", key), &limits, SYNC_E_JSON_STRING, NULL);
    free(key);
    free(a100);
    free(a101);

    /* The default limit of 64 KiB, on a member the decoder ignores. */
    char *big = repeat('b', 64u << 10);
    char *value = strf("\"%s\"", big);
    expect_json(push_top("ext", value), NULL, 0, NULL);
    free(value);
    value = strf("\"%sb\"", big);
    expect_json(push_top("ext", value), NULL, SYNC_E_JSON_STRING, NULL);
    free(value);
    /* Unterminated and over the limit. */
    char *json = strf("{\"ext\":\"%sb", big);
    expect_json(json, NULL, SYNC_E_JSON_STRING, NULL);
    free(big);
}

static void test_text_over_max_text(void **state)
{
    (void)state;
    size_t max = ledger_schema_get()->max_text;
    assert_int_equal(max, LEDGER_MAX_TEXT);
    char *text = repeat('f', max);
    char *set = strf("{\"facts\":\"%s\"}", text);
    expect_json(push_change("set", set), NULL, 0, NULL);
    free(set);
    set = strf("{\"title\":\"t\",\"facts\":\"%sf\"}", text);
    expect_json(push_change("set", set), NULL, SYNC_E_JSON_STRING, "changes[0].set.facts");
    free(set);
    free(text);
}

static void test_too_many_changes(void **state)
{
    (void)state;
    struct envelope_limits limits = *default_limits();
    limits.max_changes = 2;
    char *one = change_text(NULL, NULL);
    char *two = strf("[%s,%s]", one, one);
    char *three = strf("[%s,%s,%s]", one, one, one);
    expect_json(push_with_changes(two), &limits, 0, NULL);
    expect_json(push_with_changes(three), &limits, SYNC_E_TOO_MANY, "limit is 2");
    free(one);
    free(two);
    free(three);

    /* The default limit of 50,000 is checked before any change is read:
     * 50,000 numbers fail as not objects, 50,001 as too many. */
    struct text t = {0};
    text_puts(&t, "[1");
    for (int i = 1; i < 50000; i++) {
        text_add(&t, ",1", 2);
    }
    text_puts(&t, "]");
    expect_json(push_with_changes(t.s), NULL, SYNC_E_JSON_NOT_OBJECT, NULL);
    t.s[t.len - 1] = ',';
    text_puts(&t, "1]");
    expect_json(push_with_changes(t.s), NULL, SYNC_E_TOO_MANY, "50001");
    free(t.s);
}

static void test_delta_version(void **state)
{
    (void)state;
    expect_json(push_top("hamlet", "3"), NULL, SYNC_E_DELTA_VERSION, "version 3");
    expect_json(push_top("hamlet", "0"), NULL, SYNC_E_DELTA_VERSION, NULL);
    expect_json(push_top("hamlet", "1000"), NULL, SYNC_E_DELTA_VERSION, NULL);
    expect_json(reply_top("hamlet", "3"), NULL, SYNC_E_DELTA_VERSION, NULL);
    expect_json(push_top("hamlet", "\"1\""), NULL, SYNC_E_FIELD_TYPE, "hamlet");
    expect_json(push_top("hamlet", "-1"), NULL, SYNC_E_FIELD_TYPE, "hamlet");
}

static void test_missing_fields(void **state)
{
    (void)state;
    static const char *const push_keys[] = {"hamlet", "type",   "node", "clock",
                                            "time",   "cursor", "part", "changes"};
    for (size_t i = 0; i < COUNT(push_keys); i++) {
        expect_json(push_top(push_keys[i], NULL), NULL, SYNC_E_FIELD_MISSING, push_keys[i]);
    }
    static const char *const reply_keys[] = {"hamlet", "type",  "node",        "clock", "time",
                                             "cursor", "acked", "resume_from", "more",  "changes"};
    for (size_t i = 0; i < COUNT(reply_keys); i++) {
        expect_json(reply_top(reply_keys[i], NULL), NULL, SYNC_E_FIELD_MISSING, reply_keys[i]);
    }
    static const char *const change_keys[] = {"seq",  "op",   "table", "id",
                                              "part", "node", "hlc",   "set"};
    for (size_t i = 0; i < COUNT(change_keys); i++) {
        char *where = strf("changes[0].%s", change_keys[i]);
        expect_json(push_change(change_keys[i], NULL), NULL, SYNC_E_FIELD_MISSING, where);
        free(where);
    }
    /* A put sets at least one field; a delete needs no set (set is the
     * last member of the good change, so COUNT - 1 leaves it out). */
    expect_json(push_change("set", "{}"), NULL, SYNC_E_FIELD_MISSING, "changes[0].set");
    char *change = object_text(good_change, COUNT(good_change) - 1, "op", "\"delete\"", NULL);
    assert_null(strstr(change, "\"set\""));
    char *changes = strf("[%s]", change);
    expect_json(push_with_changes(changes), NULL, 0, NULL);
    free(changes);
    free(change);
    /* Each member of a refusal. */
    expect_json(reply_top("refused", "[{\"error\":\"partition\",\"message\":\"m\"}]"), NULL,
                SYNC_E_FIELD_MISSING, "refused[0].seq");
    expect_json(reply_top("refused", "[{\"seq\":1,\"message\":\"m\"}]"), NULL, SYNC_E_FIELD_MISSING,
                "refused[0].error");
    expect_json(reply_top("refused", "[{\"seq\":1,\"error\":\"partition\"}]"), NULL,
                SYNC_E_FIELD_MISSING, "refused[0].message");
}

/* One variant of the good change that must be refused as mistyped. */
struct variant {
    const char *key;
    const char *value;
    const char *why_has;
};

static void test_mistyped_change_fields(void **state)
{
    (void)state;
    static const struct variant variants[] = {
        {"seq", "\"1\"", "changes[0].seq"},
        {"seq", "0", "changes[0].seq"},
        {"seq", "-1", "changes[0].seq"},
        {"seq", "1.5", "changes[0].seq"},
        {"seq", "true", "changes[0].seq"},
        {"seq", "null", "changes[0].seq"},
        {"seq", "1e300", "changes[0].seq"},
        {"seq", "9007199254740994", "changes[0].seq"},
        {"hlc", "\"abc\"", "changes[0].hlc"},
        {"hlc", "\"0000018bcfe5680\"", "changes[0].hlc"},
        {"hlc", "\"0000018bcfe568000\"", "changes[0].hlc"},
        {"hlc", "\"0000018bcfe5680g\"", "changes[0].hlc"},
        {"hlc", "\" 000018bcfe56800\"", "changes[0].hlc"},
        {"hlc", "12", "changes[0].hlc"},
        {"node", "\"\"", "changes[0].node"},
        {"node", "\"00c0ffee0000000x\"", "changes[0].node"},
        {"id", "\"not-a-uuid\"", "changes[0].id"},
        {"id", "\"018BCFE5-6800-7ABC-8DEF-0123456789AB\"", "changes[0].id"},
        {"id", "\"018bcfe568007abc8def0123456789ab\"", "changes[0].id"},
        {"id", "\"018bcfe5-6800-7abc-8def-0123456789ab0\"", "changes[0].id"},
        {"id", "5", "changes[0].id"},
        {"op", "\"upsert\"", "changes[0].op"},
        {"op", "\"PUT\"", "changes[0].op"},
        {"op", "1", "changes[0].op"},
        {"op", "\"append\"", "changes[0].op"}, /* cases rows are not appended */
        {"table", "5", "changes[0].table"},
        {"part", "\"\"", "changes[0].part"},
        {"part", "\"ppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp\"", /* 65 */
         "changes[0].part"},
        {"part", "7", "changes[0].part"},
        {"set", "{\"severity\":\"3\"}", "changes[0].set.severity"},
        {"set", "{\"severity\":2.5}", "changes[0].set.severity"},
        {"set", "{\"severity\":true}", "changes[0].set.severity"},
        {"set", "{\"severity\":[3]}", "changes[0].set.severity"},
        {"set", "{\"severity\":1e300}", "changes[0].set.severity"},
        {"set", "{\"title\":5}", "changes[0].set.title"},
        {"set", "{\"title\":false}", "changes[0].set.title"},
        {"set", "{\"title\":{}}", "changes[0].set.title"},
        {"set", "{\"title\":\"a\",\"title\":\"b\"}", "changes[0].set.title"},
        {"prev", "{\"title\":\"xyz\"}", "changes[0].prev.title"},
        {"prev", "{\"title\":\"0000018bcfe50001-00000000000000b2\"}", "changes[0].prev.title"},
        {"prev", "{\"title\":\"0000018bcfe50001:00000000000000b\"}", "changes[0].prev.title"},
        {"prev", "{\"title\":\"0000018bcfe50001:00000000000000b2:\"}", "changes[0].prev.title"},
        {"prev", "{\"title\":\"0000018bcfe5000z:00000000000000b2\"}", "changes[0].prev.title"},
        {"prev", "{\"title\":5}", "changes[0].prev.title"},
        {"prev", "{\"status\":\"" PREV_1 "\"}", "changes[0].prev.status"},
        {"prev", "{\"deleted\":\"" PREV_1 "\"}", "changes[0].prev.deleted"},
    };
    for (size_t i = 0; i < COUNT(variants); i++) {
        expect_json(push_change(variants[i].key, variants[i].value), NULL, SYNC_E_FIELD_TYPE,
                    variants[i].why_has);
    }
    /* The edges that are fine: 64 bytes of part, the largest exact seq, a
     * number with a zero fraction, a prev that names a field of the set. */
    expect_json(
        push_change("part", "\"pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp\""),
        NULL, 0, NULL);
    expect_json(push_change("seq", "9007199254740992"), NULL, 0, NULL);
    expect_json(push_change("seq", "7.0"), NULL, 0, NULL);
    expect_json(push_change("prev", "{\"outcome\":\"" PREV_1 "\",\"title\":\"" PREV_1 "\"}"), NULL,
                0, NULL);
    /* prev on an appended row: nothing was replaced. */
    const char *append = "[{\"seq\":1,\"op\":\"append\",\"table\":\"events\",\"id\":\"" ID_2
                         "\",\"part\":\"" PART "\",\"node\":\"" NODE_A "\",\"hlc\":\"" HLC_1
                         "\",\"set\":{\"kind\":\"visit\"},\"prev\":{\"kind\":\"" PREV_1 "\"}}]";
    expect_json(push_with_changes(append), NULL, SYNC_E_FIELD_TYPE, "changes[0].prev.kind");
}

static void test_mistyped_top_fields(void **state)
{
    (void)state;
    static const struct variant push_variants[] = {
        {"type", "\"pull\"", "type"},
        {"type", "1", "type"},
        {"node", "\"xyz\"", "node"},
        {"node", "0", "node"},
        {"clock", "\"0000018bcfe56a0\"", "clock"},
        {"time", "-1", "time"},
        {"time", "\"now\"", "time"},
        {"time", "1.25", "time"},
        {"cursor", "-3", "cursor"},
        {"cursor", "true", "cursor"},
        {"part", "\"\"", "part"},
        {"part", "null", "part"},
        {"pull_bytes", "-5", "pull_bytes"},
        {"pull_bytes", "\"64k\"", "pull_bytes"},
        {"changes", "{}", "changes"},
        {"changes", "\"[]\"", "changes"},
    };
    for (size_t i = 0; i < COUNT(push_variants); i++) {
        expect_json(push_top(push_variants[i].key, push_variants[i].value), NULL, SYNC_E_FIELD_TYPE,
                    push_variants[i].why_has);
    }
    static const struct variant reply_variants[] = {
        {"more", "1", "more"},
        {"more", "\"true\"", "more"},
        {"more", "null", "more"},
        {"acked", "-1", "acked"},
        {"resume_from", "0.5", "resume_from"},
        {"conflicts", "\"2\"", "conflicts"},
        {"refused", "{}", "refused"},
        {"refused", "[{\"seq\":0,\"error\":\"partition\",\"message\":\"m\"}]", "refused[0].seq"},
        {"refused", "[{\"seq\":1,\"error\":5,\"message\":\"m\"}]", "refused[0].error"},
        {"refused", "[{\"seq\":1,\"error\":\"partition\",\"message\":null}]", "refused[0].message"},
    };
    for (size_t i = 0; i < COUNT(reply_variants); i++) {
        expect_json(reply_top(reply_variants[i].key, reply_variants[i].value), NULL,
                    SYNC_E_FIELD_TYPE, reply_variants[i].why_has);
    }
}

static void test_unknown_table_and_column(void **state)
{
    (void)state;
    static const char *const tables[] = {"\"case\"", "\"Cases\"", "\"sqlite_master\"", "\"\"",
                                         "\"hl_journal\""};
    for (size_t i = 0; i < COUNT(tables); i++) {
        expect_json(push_change("table", tables[i]), NULL, SYNC_E_UNKNOWN_TABLE,
                    "changes[0].table");
    }
    static const char *const sets[] = {"{\"colour\":\"red\"}", "{\"title\":\"t\",\"Title\":\"t\"}",
                                       "{\"id\":\"" ID_1 "\"}", "{\"village\":\"v\"}",
                                       "{\"deleted\":1}"};
    for (size_t i = 0; i < COUNT(sets); i++) {
        expect_json(push_change("set", sets[i]), NULL, SYNC_E_UNKNOWN_COLUMN, "changes[0].set");
    }
    expect_json(push_change("set", "{\"colour\":\"red\"}"), NULL, SYNC_E_UNKNOWN_COLUMN, "colour");
    /* A column of another table is unknown here. */
    expect_json(push_change("set", "{\"phone\":\"555\"}"), NULL, SYNC_E_UNKNOWN_COLUMN, "phone");
}

static void test_append_only(void **state)
{
    (void)state;
    static const char *const ops[] = {"put", "delete"};
    for (size_t i = 0; i < COUNT(ops); i++) {
        char *json = strf("[{\"seq\":1,\"op\":\"%s\",\"table\":\"events\",\"id\":\"" ID_2
                          "\",\"part\":\"" PART "\",\"node\":\"" NODE_A "\",\"hlc\":\"" HLC_1
                          "\",\"set\":{\"kind\":\"visit\"}}]",
                          ops[i]);
        expect_json(push_with_changes(json), NULL, SYNC_E_APPEND_ONLY, "changes[0].op");
        free(json);
    }
}

static void test_nul_in_strings(void **state)
{
    (void)state;
    /* An escaped NUL, in a value, a key, the partition; never cut short. */
    expect_json(push_change("set", "{\"title\":\"ab\\u0000cd\"}"), NULL, SYNC_E_FIELD_TYPE,
                "\\u0000");
    expect_json(push_change("set", "{\"ti\\u0000tle\":\"t\"}"), NULL, SYNC_E_FIELD_TYPE, NULL);
    expect_json(push_change("part", "\"" PART "\\u0000x\""), NULL, SYNC_E_FIELD_TYPE, NULL);
    expect_json(push_top("ext", "\"\\u0000\""), NULL, SYNC_E_FIELD_TYPE, NULL);
    /* An escaped backslash then "u0000" is text, not a NUL. */
    char *json = push_change("set", "{\"title\":\"\\\\u0000\"}");
    struct delta *d = decode_ok(json);
    assert_string_equal(d->changes[0].fields[0].value.s, "\\u0000");
    delta_free(d);
    free(json);
    /* Other escapes decode to their characters. */
    json = push_change("set", "{\"title\":\"\\u00e9\\ud83c\\udf3e\\n\\\"\\/\"}");
    d = decode_ok(json);
    assert_string_equal(d->changes[0].fields[0].value.s, "\xc3\xa9\xf0\x9f\x8c\xbe\n\"/");
    delta_free(d);
    free(json);
}

static void test_raw_nul_refused(void **state)
{
    (void)state;
    /* A raw NUL byte inside a string is not JSON (control characters must
     * be escaped) and must not silently cut the text short. */
    char *json = push_change("set", "{\"title\":\"ab#cd\"}");
    size_t len = strlen(json);
    *strchr(json, '#') = '\0';
    struct delta *d = NULL;
    char why[256] = "";
    int rc = delta_decode(ledger_schema_get(), default_limits(), json, len, &d, why, sizeof why);
    free(json);
    if (rc == 0) {
        print_error("a raw NUL inside \"ab<NUL>cd\" was accepted; the title decoded as \"%s\"\n",
                    d->changes[0].fields[0].value.s);
        delta_free(d);
    }
    assert_int_not_equal(rc, 0);
    assert_true(why[0] != '\0');
}

/* ---- one change at a time: the journal's form ---- */

static void test_change_json_round_trip(void **state)
{
    (void)state;
    const struct schema *schema = ledger_schema_get();
    struct delta *d = sample_reply();
    struct delta *back = delta_new(DELTA_PUSH);
    assert_non_null(back);
    for (size_t i = 0; i < d->nchanges; i++) {
        char *json = NULL;
        assert_int_equal(delta_change_json(schema, &d->changes[i], &json), 0);
        assert_non_null(json);
        assert_int_equal(json[0], '{');
        assert_int_equal(delta_add_change_json(schema, default_limits(), back, json), 0);
        assert_int_equal(back->nchanges, i + 1);
        assert_change_equal(&d->changes[i], &back->changes[i]);
        free(json);
    }

    /* A refused change leaves the delta as it was. */
    size_t before = back->nchanges;
    assert_int_equal(delta_add_change_json(schema, default_limits(), back, "{"), SYNC_E_JSON);
    assert_int_equal(delta_add_change_json(schema, default_limits(), back, "[]"),
                     SYNC_E_JSON_NOT_OBJECT);
    char *bad = change_text("table", "\"case\"");
    assert_int_equal(delta_add_change_json(schema, default_limits(), back, bad),
                     SYNC_E_UNKNOWN_TABLE);
    free(bad);
    /* hlc is read after the change is added: it must be taken back. */
    bad = change_text("hlc", "\"xyz\"");
    assert_int_equal(delta_add_change_json(schema, default_limits(), back, bad), SYNC_E_FIELD_TYPE);
    free(bad);
    bad = change_text("set", "{\"title\":\"t\",\"severity\":\"high\"}");
    assert_int_equal(delta_add_change_json(schema, default_limits(), back, bad), SYNC_E_FIELD_TYPE);
    free(bad);
    assert_int_equal(back->nchanges, before);
    assert_change_equal(&d->changes[before - 1], &back->changes[before - 1]);

    /* A change that cannot be described is refused. */
    char *json = NULL;
    d->changes[0].table = 99;
    assert_int_equal(delta_change_json(schema, &d->changes[0], &json), SYNC_E_ARG);
    delta_free(d);
    delta_free(back);
}

/* The estimate against the change's bytes in a delta of its own, written
 * in the current (compact) form. */
static void check_change_size(const struct delta *d, const struct change *c)
{
    struct delta one = *d, none = *d;
    one.changes = (struct change *)(uintptr_t)c;
    one.nchanges = 1;
    none.nchanges = 0;
    char *json = NULL, *empty = NULL;
    size_t len = 0, empty_len = 0;
    assert_int_equal(delta_encode(ledger_schema_get(), &one, &json, &len), 0);
    assert_int_equal(delta_encode(ledger_schema_get(), &none, &empty, &empty_len), 0);
    size_t real = len - empty_len;
    free(empty);
    size_t guess = delta_change_size(ledger_schema_get(), c);
    if (guess > 2 * real || 2 * guess < real) {
        print_error("delta_change_size says %zu for %zu bytes: %.200s\n", guess, real, json);
    }
    assert_true(guess <= 2 * real);
    assert_true(2 * guess >= real);
    free(json);
}

static void test_change_size(void **state)
{
    (void)state;
    struct delta *d = sample_push();
    for (size_t i = 0; i < d->nchanges; i++) {
        check_change_size(d, &d->changes[i]);
    }
    /* Long texts: a case's facts, a multi-line note with quotes. */
    char *facts = repeat('x', 20000);
    struct change *c = add_change(d, CHANGE_PUT, "cases", ID_1, 10, HLC(10), 2);
    set_text(d, c, 0, "facts", facts);
    set_text(d, c, 1, "claims", "one line\nand \"another\" line\n");
    set_prev(c, 0, HLC(9), 1);
    check_change_size(d, c);
    memset(facts, '\n', 5000);
    facts[5000] = '\0';
    c = add_change(d, CHANGE_APPEND, "events", ID_2, 11, HLC(11), 1);
    set_text(d, c, 0, "note", facts);
    check_change_size(d, c);
    free(facts);

    /* The sizes of the changes add up to about the size of the delta. */
    size_t sum = 0;
    for (size_t i = 0; i < d->nchanges; i++) {
        sum += delta_change_size(ledger_schema_get(), &d->changes[i]);
    }
    char *json = NULL;
    size_t len = 0;
    assert_int_equal(delta_encode(ledger_schema_get(), d, &json, &len), 0);
    assert_true(sum <= 2 * len && 2 * sum >= len);
    free(json);
    delta_free(d);
}

/* ---- format 2: the compact changes ---- */

#define HEAD2                                                                                      \
    "{\"hamlet\":2,\"type\":\"push\",\"node\":\"" NODE_A "\",\"part\":\"" PART "\","               \
    "\"time\":1,\"clock\":\"" CLOCK "\",\"cursor\":0,\"pull_bytes\":0,\"changes\":["
#define REPLY2                                                                                     \
    "{\"hamlet\":2,\"type\":\"reply\",\"node\":\"" NODE_HUB "\",\"time\":1,\"clock\":\"" CLOCK     \
    "\",\"cursor\":0,\"acked\":0,\"resume_from\":0,\"more\":false,\"changes\":["

/* A format-2 push of the given changes, malloc'd for expect_json(). */
static char *push2(const char *changes)
{
    size_t n = strlen(HEAD2) + strlen(changes) + 3;
    char *s = malloc(n);
    assert_non_null(s);
    snprintf(s, n, "%s%s]}", HEAD2, changes);
    return s;
}

/* The worked example of PROTOCOL.md 5.3, byte for byte. */
static void test_worked_example(void **state)
{
    (void)state;
    static const char expected[] =
        "{\"hamlet\":2,\"type\":\"push\",\"node\":\"5f3a9c0e12d47b61\",\"time\":1767233000500,"
        "\"clock\":\"019b774b92410000\",\"cursor\":0,\"part\":\"yangliu\",\"pull_bytes\":262144,"
        "\"changes\":["
        "[\"cases\",\"019b7a3c-5e00-7a21-9c3e-2f6b1d0a4e55\",48,2,\"registered\","
        "{\"hlc\":\"019b774885000000\"}],"
        "[\"cases\",\"019b7a3c-5e00-7a21-9c3e-2f6b1d0a4e55\",32,\"accepted\","
        "{\"hlc\":\"019b774b92400000\",\"prev\":{\"status\":\"019b774885000000:5f3a9c0e12d47b61\"}}"
        "],"
        "[\"events\",\"019b7a3c-9a10-7c02-8d11-6e0f2a9b3c47\",15,"
        "\"019b7a3c-5e00-7a21-9c3e-2f6b1d0a4e55\",\"2026-01-01\",\"visit\",\"走访双方\","
        "{\"hlc\":\"019b774b92410000\"}]]}";
    static const uint8_t header[] = {0x48, 0x4d, 0x4c, 0x54, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00,
                                     0x01, 0x31, 0x00, 0x00, 0x02, 0x29, 0x91, 0xdf, 0x4a, 0x98};
    const struct schema *schema = ledger_schema_get();
    struct delta *d = delta_new(DELTA_PUSH);
    assert_non_null(d);
    d->node = 0x5f3a9c0e12d47b61ull;
    snprintf(d->part, sizeof d->part, "yangliu");
    d->time_ms = 1767233000500;
    d->clock = 0x019b774b92410000ull;
    d->pull_bytes = 262144;
    struct change *c = add_change(d, CHANGE_PUT, "cases", "019b7a3c-5e00-7a21-9c3e-2f6b1d0a4e55", 1,
                                  0x019b774885000000ull, 2);
    set_text(d, c, 0, "status", "registered");
    set_int(c, 1, "severity", 2);
    c = add_change(d, CHANGE_PUT, "cases", "019b7a3c-5e00-7a21-9c3e-2f6b1d0a4e55", 2,
                   0x019b774b92400000ull, 1);
    set_text(d, c, 0, "status", "accepted");
    set_prev(c, 0, 0x019b774885000000ull, d->node);
    c = add_change(d, CHANGE_APPEND, "events", "019b7a3c-9a10-7c02-8d11-6e0f2a9b3c47", 3,
                   0x019b774b92410000ull, 4);
    set_text(d, c, 0, "case_id", "019b7a3c-5e00-7a21-9c3e-2f6b1d0a4e55");
    set_text(d, c, 1, "date", "2026-01-01");
    set_text(d, c, 2, "kind", "visit");
    set_text(d, c, 3, "note", "走访双方");
    for (size_t i = 0; i < d->nchanges; i++) {
        snprintf(d->changes[i].part, sizeof d->changes[i].part, "yangliu");
        d->changes[i].node = d->node;
    }
    char *json = NULL;
    size_t len = 0;
    assert_int_equal(delta_encode(schema, d, &json, &len), 0);
    assert_string_equal(json, expected);
    assert_int_equal(len, 553);
    free(json);
    uint8_t *env = NULL;
    size_t env_len = 0;
    assert_int_equal(delta_pack(schema, d, 9, &env, &env_len), 0);
    assert_int_equal(env_len, 325);
    assert_memory_equal(env, header, sizeof header);
    free(env);
    /* Format 1 gives the example of 5.4: 850 bytes. */
    d->version = DELTA_VERSION1;
    assert_int_equal(delta_encode(schema, d, &json, &len), 0);
    assert_int_equal(len, 850);
    assert_non_null(strstr(json, "{\"seq\":3,\"op\":\"append\",\"table\":\"events\""));
    free(json);
    delta_free(d);
}

#define CASE_ID  "04aea4e3-f8c9-49c6-a460-d415c80d276e"
#define OTHER_ID "018bcfe5-6800-7abc-8def-0123456789ab"

/* A case imported with a party and an event, named by derivations, then
 * a party of another case: relative derivations after their case, whole
 * ones elsewhere, and references to ids the delta derived before. */
static void test_derivations(void **state)
{
    (void)state;
    const struct schema *schema = ledger_schema_get();
    struct delta *d = delta_new(DELTA_PUSH);
    assert_non_null(d);
    d->node = NODE_A_VAL;
    snprintf(d->part, sizeof d->part, "%s", PART);
    char contact[UUID7_STRLEN + 1], party[UUID7_STRLEN + 1], event[UUID7_STRLEN + 1],
        other[UUID7_STRLEN + 1];
    assert_int_equal(uuid7_derive(CASE_ID "/contact/0", contact), 0);
    assert_int_equal(uuid7_derive(CASE_ID "/party/0", party), 0);
    assert_int_equal(uuid7_derive(CASE_ID "/event/0", event), 0);
    assert_int_equal(uuid7_derive(OTHER_ID "/party/1/2", other), 0);

    struct change *c = add_change(d, CHANGE_PUT, "cases", CASE_ID, 1, HLC(1), 1);
    set_text(d, c, 0, "title", "a boundary");
    c = add_change(d, CHANGE_PUT, "contacts", contact, 2, HLC(2), 1);
    snprintf(c->from, sizeof c->from, "%s", CASE_ID "/contact/0");
    set_text(d, c, 0, "name", "谭德胜");
    c = add_change(d, CHANGE_PUT, "case_parties", party, 3, HLC(3), 3);
    snprintf(c->from, sizeof c->from, "%s", CASE_ID "/party/0");
    set_text(d, c, 0, "case_id", CASE_ID);
    set_text(d, c, 1, "contact_id", contact);
    set_int(c, 2, "position", 0);
    c = add_change(d, CHANGE_APPEND, "events", event, 4, HLC(4), 1);
    snprintf(c->from, sizeof c->from, "%s", CASE_ID "/event/0");
    set_text(d, c, 0, "case_id", CASE_ID);
    c = add_change(d, CHANGE_PUT, "case_parties", other, 5, HLC(5), 2);
    snprintf(c->from, sizeof c->from, "%s", OTHER_ID "/party/1/2");
    set_text(d, c, 0, "contact_id", contact); /* derived before, another base */
    set_text(d, c, 1, "case_id", event);      /* an id of the delta, by derivation */

    char *json = NULL;
    size_t len = 0;
    assert_int_equal(delta_encode(schema, d, &json, &len), 0);
    /* No derived id travels: only the two whole UUIDs the derivations name. */
    assert_null(strstr(json, contact));
    assert_null(strstr(json, party));
    assert_null(strstr(json, event));
    assert_null(strstr(json, other));
    assert_non_null(strstr(json, "[\"contacts\",\"/contact/0\","));
    assert_non_null(strstr(json, "[\"case_parties\",\"/party/0\",11,[\"\"],[\"/contact/0\"],0]"));
    assert_non_null(strstr(json, "[\"events\",\"/event/0\",1,[\"\"]]"));
    assert_non_null(strstr(json, "[\"case_parties\",\"" OTHER_ID "/party/1/2\",3,[\"" CASE_ID
                                 "/event/0\"],[\"" CASE_ID "/contact/0\"]]"));
    struct delta *back = decode_ok(json);
    assert_delta_equal(d, back);
    free(json);

    /* The journal's form keeps the derivation, and reads it back. */
    char *body = NULL;
    assert_int_equal(delta_change_json(schema, &d->changes[1], &body), 0);
    assert_non_null(strstr(body, "\"id\":\""));
    assert_non_null(strstr(body, "\",\"from\":\"" CASE_ID "/contact/0\",\"part\""));
    struct delta *one = delta_new(DELTA_PUSH);
    assert_non_null(one);
    assert_int_equal(delta_add_change_json(schema, default_limits(), one, body), 0);
    assert_string_equal(one->changes[0].from, CASE_ID "/contact/0");
    assert_string_equal(one->changes[0].id, contact);
    free(body);
    delta_free(one);
    delta_free(back);
    delta_free(d);
}

/* Changes from two nodes and two partitions, with gaps in seq and stamp,
 * a delete and a reply's first partition: what breaks the run is written,
 * the rest implied, and all of it comes back. */
static void test_compact_run(void **state)
{
    (void)state;
    const struct schema *schema = ledger_schema_get();
    struct delta *d = delta_new(DELTA_REPLY);
    assert_non_null(d);
    d->node = 0xb2;
    struct change *c = add_change(d, CHANGE_PUT, "cases", ID_1, 10, HLC(10), 1);
    set_int(c, 0, "severity", 1);
    c = add_change(d, CHANGE_PUT, "cases", ID_1, 11, HLC(11), 1); /* all implied */
    set_int(c, 0, "severity", 2);
    set_prev(c, 0, HLC(10), NODE_A_VAL);
    c = add_change(d, CHANGE_DELETE, "cases", ID_2, 40, HLC(90), 1);
    make_delete(c, HLC(11), NODE_A_VAL);
    c->node = 0x77;
    c = add_change(d, CHANGE_PUT, "contacts", ID_2, 41, HLC(91), 1);
    set_text(d, c, 0, "name", "x");
    c->node = 0x77;
    snprintf(c->part, sizeof c->part, "v-hill");
    char *json = NULL;
    size_t len = 0;
    assert_int_equal(delta_encode(schema, d, &json, &len), 0);
    const char *changes = strstr(json, "\"changes\":[");
    assert_non_null(changes);
    char expect[600];
    int col = column_of(table_of("cases"), "severity");
    snprintf(expect, sizeof expect,
             "\"changes\":[[\"cases\",\"" ID_1 "\",%llu,1,{\"seq\":10,\"node\":\"" NODE_A "\","
             "\"hlc\":\"0000018bcfe5000a\","
             "\"part\":\"" PART "\"}],[\"cases\",\"" ID_1 "\",%llu,2,{\"prev\":{\"severity\":"
             "\"0000018bcfe5000a:" NODE_A "\"}}],[\"cases\",\"" ID_2 "\",0,{\"seq\":40,\"node\":"
             "\"0000000000000077\",\"hlc\":\"0000018bcfe5005a\",\"prev\":{\"deleted\":"
             "\"0000018bcfe5000b:" NODE_A "\"}}],[\"contacts\",\"" ID_2 "\",1,\"x\",{\"part\":"
             "\"v-hill\"}]]}",
             1ull << col, 1ull << col);
    assert_string_equal(changes, expect);
    struct delta *back = decode_ok(json);
    assert_int_equal(back->version, DELTA_VERSION);
    assert_delta_equal(d, back);
    delta_free(back);
    free(json);
    delta_free(d);
}

/* Every way a compact change can be wrong is refused, and says where. */
static void test_compact_errors(void **state)
{
    (void)state;
    int cases = table_of("cases");
    char text[400];
    /* The shape. */
    expect_json(push2("{\"seq\":1}"), NULL, SYNC_E_FIELD_TYPE, "changes[0]: expected an array");
    expect_json(push2("[\"cases\",\"" ID_1 "\"]"), NULL, SYNC_E_FIELD_MISSING,
                "[table, id, mask, values...]");
    expect_json(push2("[1,\"" ID_1 "\",1,2]"), NULL, SYNC_E_FIELD_TYPE, "table");
    expect_json(push2("[\"case\",\"" ID_1 "\",1,2]"), NULL, SYNC_E_UNKNOWN_TABLE, "case");
    expect_json(push2("[\"cases\",7,1,2]"), NULL, SYNC_E_FIELD_TYPE, "changes[0].id");
    /* The mask: an integer below 2^columns, with a value for each bit. */
    size_t ncols = ledger_schema_get()->tables[cases].ncolumns;
    snprintf(text, sizeof text, "[\"cases\",\"" ID_1 "\",%.0f]", ldexp(1.0, (int)ncols));
    expect_json(push2(text), NULL, SYNC_E_FIELD_TYPE, "mask");
    expect_json(push2("[\"cases\",\"" ID_1 "\",-1]"), NULL, SYNC_E_FIELD_TYPE, "mask");
    expect_json(push2("[\"cases\",\"" ID_1 "\",1.5,2]"), NULL, SYNC_E_FIELD_TYPE, "mask");
    expect_json(push2("[\"cases\",\"" ID_1 "\",\"1\",2]"), NULL, SYNC_E_FIELD_TYPE, "mask");
    expect_json(push2("[\"cases\",\"" ID_1 "\",3,\"a\"]"), NULL, SYNC_E_FIELD_TYPE,
                "2 values expected");
    expect_json(push2("[\"cases\",\"" ID_1 "\",1,\"a\",\"b\",{}]"), NULL, SYNC_E_FIELD_TYPE,
                "1 values expected");
    expect_json(push2("[\"cases\",\"" ID_1 "\",1,\"a\",[1]]"), NULL, SYNC_E_JSON_NOT_OBJECT,
                "not an object");
    /* Values of the wrong type, by column. */
    int severity = column_of(cases, "severity");
    snprintf(text, sizeof text, "[\"cases\",\"" ID_1 "\",%llu,\"high\"]", 1ull << severity);
    expect_json(push2(text), NULL, SYNC_E_FIELD_TYPE, "severity");
    snprintf(text, sizeof text, "[\"cases\",\"" ID_1 "\",%llu,[\"\"]]", 1ull << severity);
    expect_json(push2(text), NULL, SYNC_E_FIELD_TYPE, "severity");
    expect_json(push2("[\"cases\",\"" ID_1 "\",1,[\"\",\"\"]]"), NULL, SYNC_E_FIELD_TYPE,
                "[derivation]");
    expect_json(push2("[\"cases\",\"" ID_1 "\",1,[5]]"), NULL, SYNC_E_FIELD_TYPE, "[derivation]");
    expect_json(push2("[\"cases\",\"" ID_1 "\",1,[\"/a b\"]]"), NULL, SYNC_E_FIELD_TYPE,
                "a label of 1 to 48");
    /* Ids and derivations. */
    expect_json(push2("[\"contacts\",\"/contact/0\",1,\"a\"]"), NULL, SYNC_E_FIELD_TYPE,
                "relative, and no id came before it");
    expect_json(push2("[\"contacts\",\"" ID_1 "/\",1,\"a\"]"), NULL, SYNC_E_FIELD_TYPE, "label");
    expect_json(push2("[\"contacts\",\"" ID_1 "/a\\u0000\",1,\"a\"]"), NULL, SYNC_E_FIELD_TYPE,
                NULL);
    expect_json(push2("[\"contacts\",\"018BCFE5-6800-7ABC-8DEF-0123456789AB/a\",1,\"a\"]"), NULL,
                SYNC_E_FIELD_TYPE, "label");
    char label[80];
    memset(label, 'x', 49);
    label[49] = '\0';
    snprintf(text, sizeof text, "[\"cases\",\"" ID_1 "\",1,\"a\"],[\"contacts\",\"/%s\",1,\"a\"]",
             label);
    expect_json(push2(text), NULL, SYNC_E_FIELD_TYPE, "label");
    label[48] = '\0'; /* 48 bytes: the limit itself */
    snprintf(text, sizeof text, "[\"cases\",\"" ID_1 "\",1,\"a\"],[\"contacts\",\"/%s\",1,\"a\"]",
             label);
    expect_json(push2(text), NULL, 0, NULL);
    /* The overrides. */
    expect_json(push2("[\"cases\",\"" ID_1 "\",1,\"a\",{\"seq\":0}]"), NULL, SYNC_E_FIELD_TYPE,
                "seq");
    expect_json(push2("[\"cases\",\"" ID_1 "\",1,\"a\",{\"hlc\":\"12\"}]"), NULL, SYNC_E_FIELD_TYPE,
                "hlc");
    expect_json(push2("[\"cases\",\"" ID_1 "\",1,\"a\",{\"node\":5}]"), NULL, SYNC_E_FIELD_TYPE,
                "node");
    expect_json(push2("[\"cases\",\"" ID_1 "\",1,\"a\",{\"part\":\"\"}]"), NULL, SYNC_E_FIELD_TYPE,
                "part");
    expect_json(push2("[\"cases\",\"" ID_1 "\",1,\"a\",{\"prev\":{\"title\":\"x\"}}]"), NULL,
                SYNC_E_FIELD_TYPE, "prev");
    expect_json(push2("[\"events\",\"" ID_1 "\",1,\"a\",{\"prev\":{\"case_id\":\"" PREV_1 "\"}}]"),
                NULL, SYNC_E_FIELD_TYPE, "no such field");
    /* A reply's first change names its partition. */
    expect_json(strdup(REPLY2 "[\"cases\",\"" ID_1 "\",1,\"a\"]]}"), NULL, SYNC_E_FIELD_MISSING,
                "part");
    expect_json(strdup(REPLY2 "[\"cases\",\"" ID_1 "\",1,\"a\",{\"part\":\"v\"}]]}"), NULL, 0,
                NULL);
    /* Format 1's from must derive the id. */
    expect_json(push_change("from", "\"" ID_2 "/x\""), NULL, SYNC_E_FIELD_TYPE, "does not derive");
    expect_json(push_change("from", "\"x\""), NULL, SYNC_E_FIELD_TYPE, "from");
    expect_json(push_change("from", "7"), NULL, SYNC_E_FIELD_TYPE, "from");
}

static void test_utf8_valid(void **state)
{
    (void)state;
    static const char *const good[] = {
        "",
        "plain ascii",
        "\xc3\xa9",         /* U+00E9 */
        "\xc2\x80",         /* U+0080, the smallest two-byte form */
        "\xdf\xbf",         /* U+07FF */
        "\xe0\xa0\x80",     /* U+0800, the smallest three-byte form */
        "\xe2\x82\xac",     /* U+20AC */
        "\xed\x9f\xbf",     /* U+D7FF, just below the surrogates */
        "\xee\x80\x80",     /* U+E000, just above them */
        "\xef\xbf\xbf",     /* U+FFFF */
        "\xf0\x90\x80\x80", /* U+10000 */
        "\xf0\x9f\x8c\xbe", /* U+1F33E */
        "\xf4\x8f\xbf\xbf", /* U+10FFFF, the last */
    };
    for (size_t i = 0; i < COUNT(good); i++) {
        assert_int_equal(delta_utf8_valid(good[i], strlen(good[i])), 1);
    }
    static const char *const bad[] = {
        "\x80",
        "\xbf",
        "\xc0\x80",
        "\xc1\xbf",
        "\xc2",
        "\xc2\x41",
        "\xe0\x9f\xbf",
        "\xe2\x82",
        "\xe2\x28\xa1",
        "\xed\xa0\x80",
        "\xed\xbf\xbf",
        "\xf0\x8f\xbf\xbf",
        "\xf4\x90\x80\x80",
        "\xf5\x80\x80\x80",
        "\xf8\x88\x80\x80\x80",
        "\xfe",
        "\xff",
        "abc\xff",
        "\xe2\x82\xac\x80",
    };
    for (size_t i = 0; i < COUNT(bad); i++) {
        assert_int_equal(delta_utf8_valid(bad[i], strlen(bad[i])), 0);
    }
    /* The length is honoured: a NUL is a character, a cut sequence is not. */
    assert_int_equal(delta_utf8_valid("a\0b", 3), 1);
    assert_int_equal(delta_utf8_valid("\xe2\x82\xac", 2), 0);
    assert_int_equal(delta_utf8_valid("\xff", 0), 1);
}

static void test_unpack_refusals(void **state)
{
    (void)state;
    const struct schema *schema = ledger_schema_get();
    char why[128] = "";
    struct delta *d = NULL;
    /* An envelope error comes through with its own code and words. */
    static const uint8_t junk[24] = "GIF89a not an envelope";
    assert_int_equal(delta_unpack(schema, default_limits(), junk, sizeof junk, &d, why, sizeof why),
                     SYNC_E_ENV_MAGIC);
    assert_null(d);
    assert_true(why[0] != '\0');

    /* A good envelope around a bad delta gives the delta's error. */
    char *json = push_change("seq", "0");
    uint8_t *env = NULL;
    size_t env_len = 0;
    assert_int_equal(envelope_seal(json, strlen(json), 6, &env, &env_len), 0);
    why[0] = '\0';
    assert_int_equal(delta_unpack(schema, default_limits(), env, env_len, &d, why, sizeof why),
                     SYNC_E_FIELD_TYPE);
    assert_null(d);
    assert_non_null(strstr(why, "changes[0].seq"));
    free(env);
    free(json);

    /* The delta's limits apply inside the envelope too. */
    struct envelope_limits limits = *default_limits();
    limits.max_changes = 0;
    json = push_change(NULL, NULL);
    assert_int_equal(envelope_seal(json, strlen(json), 0, &env, &env_len), 0);
    assert_int_equal(delta_unpack(schema, &limits, env, env_len, &d, why, sizeof why),
                     SYNC_E_TOO_MANY);
    assert_int_equal(delta_unpack(schema, default_limits(), env, env_len, &d, why, sizeof why), 0);
    delta_free(d);
    free(env);
    free(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_push),
        cmocka_unit_test(test_round_trip_many_sizes),
        cmocka_unit_test(test_round_trip_reply),
        cmocka_unit_test(test_round_trip_empty),
        cmocka_unit_test(test_round_trip_large_integers),
        cmocka_unit_test(test_drop_changes),
        cmocka_unit_test(test_encode_bad_change),
        cmocka_unit_test(test_decode_hand_push),
        cmocka_unit_test(test_decode_hand_reply),
        cmocka_unit_test(test_decode_hand_append_delete_prev),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_not_json),
        cmocka_unit_test(test_trailing_garbage),
        cmocka_unit_test(test_not_object),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_string_limit),
        cmocka_unit_test(test_text_over_max_text),
        cmocka_unit_test(test_too_many_changes),
        cmocka_unit_test(test_delta_version),
        cmocka_unit_test(test_missing_fields),
        cmocka_unit_test(test_mistyped_change_fields),
        cmocka_unit_test(test_mistyped_top_fields),
        cmocka_unit_test(test_unknown_table_and_column),
        cmocka_unit_test(test_append_only),
        cmocka_unit_test(test_nul_in_strings),
        cmocka_unit_test(test_raw_nul_refused),
        cmocka_unit_test(test_change_json_round_trip),
        cmocka_unit_test(test_change_size),
        cmocka_unit_test(test_worked_example),
        cmocka_unit_test(test_derivations),
        cmocka_unit_test(test_compact_run),
        cmocka_unit_test(test_compact_errors),
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_unpack_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
