/* SPDX-License-Identifier: MIT */
/*
 * fuzz_envelope.c - libFuzzer target for the bytes a hub or a device reads
 * from outside: an envelope from the network or a USB stick, opened and
 * decoded with the ledger's schema and the default limits, and the same
 * bytes taken as the JSON text of a delta. Whatever decodes must encode
 * again, and encode to the same text a second time round. `make fuzz` runs
 * it over the seed corpus in tests/fuzz/corpus/envelope/.
 */
#include "delta.h"
#include "envelope.h"
#include "ledger_schema.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A decoded delta must encode, decode and encode again to the same text.
 * The second decode runs with wide string limits: escaping can lengthen a
 * string the first decode took at its limit. */
static void check_re_encode(const struct schema *schema, const struct delta *delta)
{
    struct envelope_limits wide;
    envelope_limits_default(&wide);
    wide.max_string = (size_t)-1;
    char *first = NULL, *second = NULL;
    size_t first_len = 0, second_len = 0;
    struct delta *again = NULL;
    if (delta_encode(schema, delta, &first, &first_len) != 0) {
        abort();
    }
    if (delta_decode(schema, &wide, first, first_len, &again, NULL, 0) != 0) {
        abort();
    }
    if (delta_encode(schema, again, &second, &second_len) != 0) {
        abort();
    }
    if (first_len != second_len || memcmp(first, second, first_len) != 0) {
        abort();
    }
    free(first);
    free(second);
    delta_free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct schema *schema = ledger_schema_get();
    struct envelope_limits limits;
    envelope_limits_default(&limits);
    char why[256];
    struct delta *delta = NULL;

    if (delta_unpack(schema, &limits, data, size, &delta, why, sizeof why) == 0) {
        check_re_encode(schema, delta);
        delta_free(delta);
    }

    delta = NULL;
    if (delta_decode(schema, &limits, (const char *)data, size, &delta, why, sizeof why) == 0) {
        check_re_encode(schema, delta);
        delta_free(delta);
    }
    return 0;
}
