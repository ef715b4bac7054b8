/* SPDX-License-Identifier: MIT */
/*
 * township_rules.h - the township's rules configuration, carried to the
 * villages inside the ledger.
 *
 * A township may change the numbers of the rules (deadlines, follow-up
 * months, targets) and its list of categories (RULES.md, "Configuration").
 * The laptops must compute with the same numbers offline, so the hub writes
 * them into the ledger as one record of the table township_rules per
 * village; the record is replicated like any other and a laptop reads the
 * rules from it. The record's id is derived from the village code, so that
 * every hub run writes the same record and an unchanged configuration makes
 * no change. The text is "key=value" lines: the keys of rules_config_set()
 * and "category=token|中文|English" lines in the order of the reports.
 */
#ifndef HAMLET_TOWNSHIP_RULES_H
#define HAMLET_TOWNSHIP_RULES_H

#include "rules.h"

#include <stddef.h>

struct replica;

#define TOWNSHIP_RULES_MAX_TEXT 8192 /* longest settings text */

/* township_rules_format(config, out, len): config as settings text, every
 * number and every category, in a fixed order. Returns 0, RULES_E_ARG
 * (config out of range) or RULES_E_SPACE. */
int township_rules_format(const struct rules_config *config, char *out, size_t len);

/* township_rules_parse(text, out, why, why_len): the configuration that
 * text describes: the defaults (rules_config_default()), changed by each
 * line; when any "category=" line is present the categories are exactly
 * those lines. Blank lines and lines starting with '#' are skipped.
 * Returns 0, or RULES_E_PARSE / RULES_E_ARG with the line number and the
 * reason in why (out is then the defaults). */
int township_rules_parse(const char *text, struct rules_config *out, char *why, size_t why_len);

/* township_rules_load(replica, village, out): the rules the village works
 * under: its township_rules record when it holds one that parses, else the
 * defaults. Returns 0 (defaults included), or SYNC_E_DB. */
int township_rules_load(struct replica *replica, const char *village, struct rules_config *out);

/* township_rules_store(replica, village, config, now, changed): write the
 * village's record (now: RFC 3339, for updated_at) unless it holds these
 * settings already, or holds no record and config is the defaults (a
 * village without a record works under them, so a township that keeps the
 * defaults sends nothing); *changed (may be NULL) says whether it wrote.
 * Returns 0, RULES_E_ARG, or an engine error (SYNC_E_*). */
int township_rules_store(struct replica *replica, const char *village,
                         const struct rules_config *config, const char *now, int *changed);

#endif
