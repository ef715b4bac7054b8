/* SPDX-License-Identifier: MIT */
/*
 * ledger_schema.c - how each ledger column merges. Most fields are
 * last-writer-wins; what a record is attached to (a party's case and
 * contact, an agreement's case) and when it was created are set once.
 */
#include "ledger_schema.h"

#include "migrate.h"

extern const struct migration ledger_migrations[];
extern const size_t ledger_migrations_count;

#define LWW(name, type)                                                                            \
    {                                                                                              \
        name, type, SCHEMA_LWW                                                                     \
    }
#define ONCE(name, type)                                                                           \
    {                                                                                              \
        name, type, SCHEMA_ONCE                                                                    \
    }
#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

static const struct schema_column case_columns[] = {
    LWW("case_no", SYNC_TEXT),
    LWW("kind", SYNC_TEXT),
    LWW("channel", SYNC_TEXT),
    LWW("category", SYNC_TEXT),
    LWW("severity", SYNC_INT),
    LWW("status", SYNC_TEXT),
    LWW("level", SYNC_INT),
    LWW("title", SYNC_TEXT),
    LWW("facts", SYNC_TEXT),
    LWW("claims", SYNC_TEXT),
    LWW("mediator_id", SYNC_TEXT),
    LWW("mediator_name", SYNC_TEXT),
    LWW("received_by", SYNC_TEXT),
    LWW("outcome", SYNC_TEXT),
    ONCE("created_at", SYNC_TEXT),
    LWW("updated_at", SYNC_TEXT),
    /* The workflow's dates and answers (migration 0002, RULES.md). */
    LWW("accepted_on", SYNC_TEXT),
    LWW("concluded_on", SYNC_TEXT),
    LWW("deadline", SYNC_TEXT),
    LWW("extension_days", SYNC_INT),
    LWW("result_notice_on", SYNC_TEXT),
    LWW("opinion", SYNC_TEXT),
    /* The township's request for a correction and the village's answer
     * (migration 0003): the hub writes the first two, the laptop the last
     * two, so a request and an answer never conflict. */
    LWW("correction", SYNC_TEXT),
    LWW("correction_on", SYNC_TEXT),
    LWW("correction_reply", SYNC_TEXT),
    LWW("correction_reply_on", SYNC_TEXT),
};

static const struct schema_column contact_columns[] = {
    LWW("name", SYNC_TEXT),    LWW("phone", SYNC_TEXT), LWW("id_no", SYNC_TEXT),
    LWW("address", SYNC_TEXT), LWW("notes", SYNC_TEXT),
};

static const struct schema_column party_columns[] = {
    ONCE("case_id", SYNC_TEXT),
    ONCE("contact_id", SYNC_TEXT),
    LWW("role", SYNC_TEXT),
    LWW("position", SYNC_INT),
};

/* Appended rows: every column is written once, with the row. */
static const struct schema_column event_columns[] = {
    ONCE("case_id", SYNC_TEXT), ONCE("date", SYNC_TEXT),        ONCE("kind", SYNC_TEXT),
    ONCE("note", SYNC_TEXT),    ONCE("recorded_at", SYNC_TEXT), ONCE("detail", SYNC_TEXT),
};

static const struct schema_column agreement_columns[] = {
    ONCE("case_id", SYNC_TEXT),
    ONCE("supplements", SYNC_TEXT),
    LWW("parties_details", SYNC_TEXT),
    LWW("facts_and_liability", SYNC_TEXT),
    LWW("rights_obligations", SYNC_TEXT),
    LWW("performance_method", SYNC_TEXT),
    LWW("performance_place", SYNC_TEXT),
    LWW("performance_deadline", SYNC_TEXT),
    LWW("parties_signed", SYNC_INT),
    LWW("mediator_signed", SYNC_INT),
    LWW("sealed", SYNC_INT),
    LWW("signed_at", SYNC_TEXT),
};

/* The township's rules as a village's laptop applies them: one record per
 * village, written by the hub (township_rules.h). */
static const struct schema_column township_rules_columns[] = {
    LWW("settings", SYNC_TEXT),
    LWW("updated_at", SYNC_TEXT),
};

static const struct schema_table tables[] = {
    {"cases", SCHEMA_RECORD, "village", case_columns, COUNT(case_columns)},
    {"contacts", SCHEMA_RECORD, "village", contact_columns, COUNT(contact_columns)},
    {"case_parties", SCHEMA_RECORD, "village", party_columns, COUNT(party_columns)},
    {"events", SCHEMA_APPEND, "village", event_columns, COUNT(event_columns)},
    {"agreements", SCHEMA_RECORD, "village", agreement_columns, COUNT(agreement_columns)},
    {"township_rules", SCHEMA_RECORD, "village", township_rules_columns,
     COUNT(township_rules_columns)},
};

static const struct schema ledger = {tables, COUNT(tables), LEDGER_MAX_TEXT};

const struct schema *ledger_schema_get(void)
{
    return &ledger;
}

void ledger_schema_config(struct replica_config *config, int keep_conflicts)
{
    *config = (struct replica_config){
        .schema = &ledger,
        .component = "ledger",
        .migrations = ledger_migrations,
        .nmigrations = ledger_migrations_count,
        .max_drift_ms = 24LL * 3600 * 1000,
        .keep_conflicts = keep_conflicts,
    };
}
