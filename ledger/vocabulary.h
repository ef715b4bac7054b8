/* SPDX-License-Identifier: MIT */
/*
 * vocabulary.h - the ledger's words as JSON, for the pages of both UIs.
 *
 * The township's review pages (hub, GET /api/vocabulary) and the village's
 * pages (agent, GET /api/vocabulary) show the ledger's tokens in Chinese
 * or English with the same words. The words come from rules.h, the
 * categories from the township's configuration; this module puts them in
 * the one shape both pages read.
 */
#ifndef HAMLET_VOCABULARY_H
#define HAMLET_VOCABULARY_H

#include "rules.h"

#include <cjson/cJSON.h>

/* vocabulary_json(config): the object
 *   {"kinds", "channels", "statuses", "levels" ("1" to "7"), "categories"
 *    (config's), "opinions", "event_kinds": each [{"name","zh","en"}],
 *    "status_aliases": {"closed": "concluded"}}
 * in that order; every word but the none of each list. A word without a
 * label has its name as the label. Returns the object (free with
 * cJSON_Delete()), or NULL when memory runs out. */
cJSON *vocabulary_json(const struct rules_config *config);

/* vocabulary_add_word(list, name, zh, en): append {"name", "zh", "en"} to
 * the array list; a NULL zh or en is name. Returns 0, or -1 when memory
 * runs out (list then holds what was added before). */
int vocabulary_add_word(cJSON *list, const char *name, const char *zh, const char *en);

#endif
