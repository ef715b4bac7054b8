/* SPDX-License-Identifier: MIT */
/*
 * township_rules.c - the township's rules as a replicated settings text
 * (township_rules.h): formatting, parsing, and the record of each village.
 */
#include "township_rules.h"

#include "ledger_io.h"
#include "replica.h"
#include "sync_error.h"
#include "uuid7.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Append to out at *used; RULES_E_SPACE when it does not fit. */
static int put(char *out, size_t len, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int put(char *out, size_t len, size_t *used, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out + *used, len - *used, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= len - *used) {
        out[*used] = '\0';
        return RULES_E_SPACE;
    }
    *used += (size_t)n;
    return 0;
}

int township_rules_format(const struct rules_config *config, char *out, size_t len)
{
    if (!config || !out || len == 0) {
        return RULES_E_ARG;
    }
    out[0] = '\0';
    if (rules_config_check(config) != 0) {
        return RULES_E_ARG;
    }
    const struct {
        const char *key;
        int value;
    } days[] = {
        {"accept_days", config->accept_days},
        {"conclude_days", config->conclude_days},
        {"max_extension_days", config->max_extension_days},
        {"warn_days", config->warn_days},
        {"followup_months_1", config->followup_months[0]},
        {"followup_months_2", config->followup_months[1]},
        {"followup_months_3", config->followup_months[2]},
    };
    const struct {
        const char *key;
        int bp;
    } targets[] = {
        {"target_participation", config->target_participation_bp},
        {"target_success", config->target_success_bp},
        {"target_satisfaction", config->target_satisfaction_bp},
    };
    size_t used = 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sizeof days / sizeof days[0]; i++) {
        rc = put(out, len, &used, "%s=%d\n", days[i].key, days[i].value);
    }
    for (size_t i = 0; rc == 0 && i < sizeof targets / sizeof targets[0]; i++) {
        /* Basis points as the percentage rules_config_set() reads: 96.5. */
        int bp = targets[i].bp;
        rc = bp % 100 == 0 ? put(out, len, &used, "%s=%d\n", targets[i].key, bp / 100)
             : bp % 10 == 0
                 ? put(out, len, &used, "%s=%d.%d\n", targets[i].key, bp / 100, bp % 100 / 10)
                 : put(out, len, &used, "%s=%d.%02d\n", targets[i].key, bp / 100, bp % 100);
    }
    for (size_t i = 0; rc == 0 && i < config->ncategories; i++) {
        const struct rules_category *cat = &config->categories[i];
        rc = put(out, len, &used, "category=%s|%s|%s\n", cat->name, cat->zh, cat->en);
    }
    if (rc != 0) {
        out[0] = '\0';
    }
    return rc;
}

static int parse_fail(char *why, size_t why_len, int code, size_t line, const char *reason)
{
    if (why && why_len) {
        snprintf(why, why_len, "line %zu: %s", line, reason);
    }
    return code;
}

/* One "category=token|zh|en" value, into config. */
static int parse_category(struct rules_config *config, char *value)
{
    char *bar1 = strchr(value, '|');
    char *bar2 = bar1 ? strchr(bar1 + 1, '|') : NULL;
    if (!bar2 || strchr(bar2 + 1, '|')) {
        return RULES_E_PARSE;
    }
    *bar1 = '\0';
    *bar2 = '\0';
    return rules_config_add_category(config, value, bar1 + 1, bar2 + 1);
}

int township_rules_parse(const char *text, struct rules_config *out, char *why, size_t why_len)
{
    if (!text || !out) {
        return RULES_E_ARG;
    }
    rules_config_default(out);
    if (why && why_len) {
        why[0] = '\0';
    }
    size_t total = strlen(text);
    if (total > TOWNSHIP_RULES_MAX_TEXT) {
        if (why && why_len) {
            snprintf(why, why_len, "the settings are longer than %d bytes",
                     TOWNSHIP_RULES_MAX_TEXT);
        }
        return RULES_E_ARG;
    }
    int categories_seen = 0, rc = 0;
    size_t lineno = 0;
    char line[512];
    for (const char *p = text; rc == 0 && *p;) {
        const char *end = strchr(p, '\n');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        lineno++;
        if (n >= sizeof line) {
            rc = parse_fail(why, why_len, RULES_E_PARSE, lineno, "the line is too long");
            break;
        }
        memcpy(line, p, n);
        line[n] = '\0';
        p = end ? end + 1 : p + n;
        if (n > 0 && line[n - 1] == '\r') {
            line[--n] = '\0';
        }
        if (n == 0 || line[0] == '#') {
            continue;
        }
        char *eq = strchr(line, '=');
        if (!eq) {
            rc = parse_fail(why, why_len, RULES_E_PARSE, lineno, "expected key=value");
            break;
        }
        *eq = '\0';
        if (!strcmp(line, "category")) {
            if (!categories_seen) {
                rules_config_clear_categories(out);
                categories_seen = 1;
            }
            if (parse_category(out, eq + 1) != 0) {
                rc = parse_fail(why, why_len, RULES_E_ARG, lineno,
                                "expected category=token|中文|English, a new token of a-z, 0-9 "
                                "and _ starting with a letter");
            }
        } else if (rules_config_set(out, line, eq + 1) != 0) {
            char reason[200];
            snprintf(reason, sizeof reason, "unknown key or value out of range: %.64s", line);
            rc = parse_fail(why, why_len, RULES_E_ARG, lineno, reason);
        }
    }
    if (rc == 0 && rules_config_check(out) != 0) {
        rc = parse_fail(why, why_len, RULES_E_ARG, lineno, "the settings are not consistent");
    }
    if (rc != 0) {
        rules_config_default(out);
    }
    return rc;
}

/* The id of a village's record. */
static int record_id(const char *village, char id[UUID7_STRLEN + 1])
{
    char seed[128];
    int n = snprintf(seed, sizeof seed, "township_rules/%s", village);
    return n < 0 || (size_t)n >= sizeof seed ? RULES_E_ARG : uuid7_derive(seed, id);
}

int township_rules_load(struct replica *replica, const char *village, struct rules_config *out)
{
    rules_config_default(out);
    char id[UUID7_STRLEN + 1];
    if (!replica || !village || record_id(village, id) != 0) {
        return 0;
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(replica_db(replica),
                           "SELECT settings FROM township_rules WHERE id = ?1 AND deleted = 0", -1,
                           &st, NULL) != SQLITE_OK) {
        return SYNC_E_DB;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_TEXT) {
        /* A record that does not parse (written by a newer hub, say) leaves
         * the defaults: the figures stay computable. */
        (void)township_rules_parse((const char *)sqlite3_column_text(st, 0), out, NULL, 0);
    }
    sqlite3_finalize(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : SYNC_E_DB;
}

int township_rules_store(struct replica *replica, const char *village,
                         const struct rules_config *config, const char *now, int *changed)
{
    char id[UUID7_STRLEN + 1];
    char *text = malloc(TOWNSHIP_RULES_MAX_TEXT);
    int rc = RULES_E_ARG;
    if (changed) {
        *changed = 0;
    }
    if (!text || !replica || !village || !now || record_id(village, id) != 0) {
        goto done;
    }
    if ((rc = township_rules_format(config, text, TOWNSHIP_RULES_MAX_TEXT)) != 0) {
        goto done;
    }
    /* The same settings again change nothing, not even updated_at. */
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(replica_db(replica),
                           "SELECT settings FROM township_rules WHERE id = ?1 AND deleted = 0", -1,
                           &st, NULL) != SQLITE_OK) {
        rc = SYNC_E_DB;
        goto done;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int held = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_TEXT;
    int same = held && strcmp((const char *)sqlite3_column_text(st, 0), text) == 0;
    sqlite3_finalize(st);
    /* Without a record a village works under the defaults: a township that
     * keeps them sends nothing. */
    struct rules_config defaults;
    rules_config_default(&defaults);
    if (!same && !held && township_rules_format(&defaults, text, TOWNSHIP_RULES_MAX_TEXT) == 0 &&
        township_rules_format(config, text + TOWNSHIP_RULES_MAX_TEXT / 2,
                              TOWNSHIP_RULES_MAX_TEXT / 2) == 0 &&
        strcmp(text, text + TOWNSHIP_RULES_MAX_TEXT / 2) == 0) {
        same = 1;
    }
    if (same) {
        rc = 0;
        goto done;
    }
    if ((rc = township_rules_format(config, text, TOWNSHIP_RULES_MAX_TEXT)) != 0) {
        goto done;
    }
    const char *columns[] = {"settings", "updated_at"};
    struct sync_value values[] = {{.type = SYNC_TEXT, .s = text}, {.type = SYNC_TEXT, .s = now}};
    rc = replica_put(replica, "township_rules", id, village, 2, columns, values, changed);
done:
    free(text);
    return rc;
}
