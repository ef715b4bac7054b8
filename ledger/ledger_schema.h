/* SPDX-License-Identifier: MIT */
/*
 * ledger_schema.h - the ledger's replicated tables, described for the engine.
 *
 * Cases, contacts, the parties of a case, the events of a case and
 * mediation agreements (DOMAIN.md). The tables themselves are created by the
 * numbered migrations in ledger/migrations/; this module tells the engine
 * how each column merges. The partition of every record is its village.
 */
#ifndef HAMLET_LEDGER_SCHEMA_H
#define HAMLET_LEDGER_SCHEMA_H

#include "replica.h"
#include "schema.h"

#define LEDGER_MAX_TEXT (32u << 10) /* longest text field, in bytes */

/* ledger_schema_get(): the ledger's schema description (static). */
const struct schema *ledger_schema_get(void);

/* ledger_schema_config(config, keep_conflicts): fill a replica
 * configuration for the ledger: schema, migrations, a drift limit of one
 * day, and conflict records when keep_conflicts is 1 (the hub). */
void ledger_schema_config(struct replica_config *config, int keep_conflicts);

#endif
