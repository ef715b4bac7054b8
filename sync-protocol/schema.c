/* SPDX-License-Identifier: MIT */
/*
 * schema.c - checks and look-ups on a schema description. Names checked here
 * are later spliced into SQL as identifiers, so the check is strict: that is
 * what keeps remote input out of SQL text.
 */
#include "schema.h"

#include "sync_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int fail(char *why, size_t why_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *why, size_t why_len, const char *fmt, ...)
{
    if (why && why_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, why_len, fmt, ap);
        va_end(ap);
    }
    return SYNC_E_SCHEMA;
}

static int identifier_ok(const char *name)
{
    size_t len = name ? strlen(name) : 0;
    if (len == 0 || len > 63) {
        return 0;
    }
    if (!((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_')) {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
            return 0;
        }
    }
    return strncmp(name, "hl_", 3) != 0;
}

int schema_check(const struct schema *schema, char *why, size_t why_len)
{
    if (!schema || !schema->tables || schema->ntables == 0) {
        return fail(why, why_len, "the schema has no tables");
    }
    if (schema->max_text == 0) {
        return fail(why, why_len, "the schema sets no maximum text length");
    }
    for (size_t t = 0; t < schema->ntables; t++) {
        const struct schema_table *table = &schema->tables[t];
        if (!identifier_ok(table->name)) {
            return fail(why, why_len, "table %zu: bad name", t);
        }
        if (table->kind != SCHEMA_RECORD && table->kind != SCHEMA_APPEND) {
            return fail(why, why_len, "%s: unknown kind", table->name);
        }
        if (!identifier_ok(table->partition) || !strcmp(table->partition, "id") ||
            !strcmp(table->partition, "deleted")) {
            return fail(why, why_len, "%s: bad partition column", table->name);
        }
        for (size_t u = 0; u < t; u++) {
            if (!strcmp(schema->tables[u].name, table->name)) {
                return fail(why, why_len, "%s: table listed twice", table->name);
            }
        }
        if (table->ncolumns > 0 && !table->columns) {
            return fail(why, why_len, "%s: no column array", table->name);
        }
        if (table->ncolumns > SCHEMA_MAX_COLUMNS) {
            return fail(why, why_len, "%s: more than %d columns", table->name, SCHEMA_MAX_COLUMNS);
        }
        for (size_t c = 0; c < table->ncolumns; c++) {
            const struct schema_column *col = &table->columns[c];
            if (!identifier_ok(col->name) || !strcmp(col->name, "id") ||
                !strcmp(col->name, "deleted") || !strcmp(col->name, table->partition)) {
                return fail(why, why_len, "%s: column %zu: bad or reserved name", table->name, c);
            }
            if (col->type != SYNC_INT && col->type != SYNC_REAL && col->type != SYNC_TEXT) {
                return fail(why, why_len, "%s.%s: unknown type", table->name, col->name);
            }
            if (col->merge != SCHEMA_LWW && col->merge != SCHEMA_ONCE) {
                return fail(why, why_len, "%s.%s: unknown merge kind", table->name, col->name);
            }
            for (size_t d = 0; d < c; d++) {
                if (!strcmp(table->columns[d].name, col->name)) {
                    return fail(why, why_len, "%s.%s: column listed twice", table->name, col->name);
                }
            }
        }
    }
    return 0;
}

int schema_table(const struct schema *schema, const char *name)
{
    for (size_t t = 0; name && t < schema->ntables; t++) {
        if (!strcmp(schema->tables[t].name, name)) {
            return (int)t;
        }
    }
    return -1;
}

int schema_column(const struct schema_table *table, const char *name)
{
    for (size_t c = 0; name && c < table->ncolumns; c++) {
        if (!strcmp(table->columns[c].name, name)) {
            return (int)c;
        }
    }
    return -1;
}

int schema_value_ok(const struct schema_column *column, const struct sync_value *value)
{
    if (value->type == SYNC_NULL) {
        return 1;
    }
    if (value->type == column->type) {
        return value->type != SYNC_TEXT || value->s != NULL;
    }
    return column->type == SYNC_REAL && value->type == SYNC_INT;
}
