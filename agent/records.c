/* SPDX-License-Identifier: MIT */
/*
 * records.c - command-line views of the ledger. Reads go straight to the
 * tables with prepared statements; writes go through the engine (main.c).
 */
#include "records.h"

#include "ledger_schema.h"
#include "rules.h"
#include "sync_error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int records_parse(const char *table, int argc, char **argv, struct records_fields *out, char *why,
                  size_t why_len)
{
    const struct schema *schema = ledger_schema_get();
    int t = schema_table(schema, table);
    memset(out, 0, sizeof *out);
    for (int i = 0; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq || eq == argv[i]) {
            snprintf(why, why_len, "\"%s\": expected FIELD=VALUE", argv[i]);
            return -1;
        }
        if (out->n == RECORDS_MAX_FIELDS) {
            snprintf(why, why_len, "too many fields at once");
            return -1;
        }
        *eq = '\0';
        const char *name = argv[i], *text = eq + 1;
        int c = t < 0 ? -1 : schema_column(&schema->tables[t], name);
        if (c < 0) {
            snprintf(why, why_len, "%s has no field \"%s\"", table, name);
            *eq = '=';
            return -1;
        }
        const struct schema_column *col = &schema->tables[t].columns[c];
        struct sync_value v = {.type = SYNC_NULL};
        if (text[0]) {
            v.type = col->type;
            if (col->type == SYNC_TEXT) {
                v.s = text;
            } else {
                char *end;
                errno = 0;
                if (col->type == SYNC_INT) {
                    v.i = strtoll(text, &end, 10);
                } else {
                    v.r = strtod(text, &end);
                }
                if (errno || *end) {
                    snprintf(why, why_len, "%s: \"%s\" is not a number", name, text);
                    *eq = '=';
                    return -1;
                }
            }
        }
        out->names[out->n] = name;
        out->values[out->n] = v;
        out->n++;
    }
    return 0;
}

void records_mask(const char *kind, const char *value, char *out, size_t len)
{
    /* One rule for the whole ledger: rules.c decides what stays visible. */
    if (!strcmp(kind, "id_no")) {
        rules_mask_id_no(value ? value : "", out, len);
    } else {
        rules_mask_phone(value ? value : "", out, len);
    }
}

int records_resolve(struct local *l, const char *table, const char *prefix,
                    char id[UUID7_STRLEN + 1])
{
    if (!prefix || strlen(prefix) < 8 || strlen(prefix) > UUID7_STRLEN) {
        return SYNC_E_ARG;
    }
    if (schema_table(ledger_schema_get(), table) < 0) {
        return SYNC_E_UNKNOWN_TABLE;
    }
    char sql[160];
    /* table is one of the schema's names, checked above. */
    snprintf(sql, sizeof sql,
             "SELECT id FROM \"%s\" WHERE id >= ?1 AND id < ?1 || 'g' ORDER BY id LIMIT 2", table);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(replica_db(l->replica), sql, -1, &st, NULL) != SQLITE_OK) {
        return SYNC_E_DB;
    }
    sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
    int found = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (found++ == 0) {
            snprintf(id, UUID7_STRLEN + 1, "%s", (const char *)sqlite3_column_text(st, 0));
        }
    }
    sqlite3_finalize(st);
    return found == 1 ? 0 : found == 0 ? SYNC_E_NOT_FOUND : SYNC_E_ARG;
}

static const char *text_or(sqlite3_stmt *st, int col, const char *fallback)
{
    const char *v = (const char *)sqlite3_column_text(st, col);
    return v && v[0] ? v : fallback;
}

int records_list_cases(struct local *l, const char *status, FILE *out)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(replica_db(l->replica),
                           "SELECT id, coalesce(case_no, ''), coalesce(status, ''),"
                           " coalesce(severity, ''), coalesce(title, '') FROM cases"
                           " WHERE deleted = 0 AND (?1 IS NULL OR status = ?1)"
                           " ORDER BY created_at DESC, id DESC",
                           -1, &st, NULL) != SQLITE_OK) {
        return SYNC_E_DB;
    }
    if (status) {
        sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
    }
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        fprintf(out, "%s  %-12s %-24s %-2s %s\n", text_or(st, 0, ""), text_or(st, 2, "-"),
                text_or(st, 1, "-"), text_or(st, 3, "-"), text_or(st, 4, ""));
        n++;
    }
    sqlite3_finalize(st);
    fprintf(out, "%d case%s\n", n, n == 1 ? "" : "s");
    return 0;
}

int records_show_case(struct local *l, const char *id, int reveal, FILE *out)
{
    sqlite3 *db = replica_db(l->replica);
    const struct schema_table *cases = &ledger_schema_get()->tables[0];
    char sql[1024];
    size_t used = (size_t)snprintf(sql, sizeof sql, "SELECT village, deleted");
    for (size_t c = 0; c < cases->ncolumns; c++) {
        used += (size_t)snprintf(sql + used, sizeof sql - used, ", \"%s\"", cases->columns[c].name);
    }
    snprintf(sql + used, sizeof sql - used, " FROM cases WHERE id = ?1");
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        return SYNC_E_DB;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return SYNC_E_NOT_FOUND;
    }
    fprintf(out, "case %s%s\nvillage: %s\n", id, sqlite3_column_int(st, 1) ? " (deleted)" : "",
            text_or(st, 0, ""));
    for (size_t c = 0; c < cases->ncolumns; c++) {
        if (sqlite3_column_type(st, (int)c + 2) != SQLITE_NULL) {
            fprintf(out, "%s: %s\n", cases->columns[c].name, text_or(st, (int)c + 2, ""));
        }
    }
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(db,
                           "SELECT p.role, c.name, c.phone, c.id_no, c.address, c.id"
                           " FROM case_parties p LEFT JOIN contacts c ON c.id = p.contact_id"
                           " WHERE p.case_id = ?1 AND p.deleted = 0 ORDER BY p.position, p.id",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        fprintf(out, "parties:\n");
        while (sqlite3_step(st) == SQLITE_ROW) {
            char phone[64], id_no[64];
            const char *raw_phone = text_or(st, 2, ""), *raw_id = text_or(st, 3, "");
            records_mask("phone", raw_phone, phone, sizeof phone);
            records_mask("id_no", raw_id, id_no, sizeof id_no);
            fprintf(out, "  %s %s  phone %s  id %s  %s  (contact %s)\n", text_or(st, 0, "-"),
                    text_or(st, 1, "?"), reveal ? raw_phone : phone, reveal ? raw_id : id_no,
                    text_or(st, 4, ""), text_or(st, 5, "?"));
        }
        sqlite3_finalize(st);
    }
    if (sqlite3_prepare_v2(db,
                           "SELECT date, kind, note FROM events WHERE case_id = ?1"
                           " ORDER BY date, id",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        fprintf(out, "events:\n");
        while (sqlite3_step(st) == SQLITE_ROW) {
            fprintf(out, "  %s %-10s %s\n", text_or(st, 0, "-"), text_or(st, 1, "-"),
                    text_or(st, 2, ""));
        }
        sqlite3_finalize(st);
    }
    return 0;
}

int records_list_contacts(struct local *l, int reveal, FILE *out)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(replica_db(l->replica),
                           "SELECT id, coalesce(name, ''), coalesce(phone, ''),"
                           " coalesce(id_no, '') FROM contacts WHERE deleted = 0"
                           " ORDER BY name, id",
                           -1, &st, NULL) != SQLITE_OK) {
        return SYNC_E_DB;
    }
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        char phone[64], id_no[64];
        const char *raw_phone = text_or(st, 2, ""), *raw_id = text_or(st, 3, "");
        records_mask("phone", raw_phone, phone, sizeof phone);
        records_mask("id_no", raw_id, id_no, sizeof id_no);
        fprintf(out, "%s  %-8s %-13s %s\n", text_or(st, 0, ""), text_or(st, 1, ""),
                reveal ? raw_phone : phone, reveal ? raw_id : id_no);
        n++;
    }
    sqlite3_finalize(st);
    fprintf(out, "%d contact%s\n", n, n == 1 ? "" : "s");
    return 0;
}

int records_show_contact(struct local *l, const char *id, int reveal, FILE *out)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(replica_db(l->replica),
                           "SELECT coalesce(name, ''), coalesce(phone, ''), coalesce(id_no, ''),"
                           " coalesce(address, ''), coalesce(notes, ''), deleted FROM contacts"
                           " WHERE id = ?1",
                           -1, &st, NULL) != SQLITE_OK) {
        return SYNC_E_DB;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return SYNC_E_NOT_FOUND;
    }
    char phone[64], id_no[64];
    records_mask("phone", text_or(st, 1, ""), phone, sizeof phone);
    records_mask("id_no", text_or(st, 2, ""), id_no, sizeof id_no);
    fprintf(out, "contact %s%s\nname: %s\nphone: %s\nid_no: %s\naddress: %s\nnotes: %s\n", id,
            sqlite3_column_int(st, 5) ? " (deleted)" : "", text_or(st, 0, ""),
            reveal ? text_or(st, 1, "") : phone, reveal ? text_or(st, 2, "") : id_no,
            text_or(st, 3, ""), text_or(st, 4, ""));
    sqlite3_finalize(st);
    return 0;
}
