/* SPDX-License-Identifier: MIT */
/*
 * vocabulary.c - the ledger's words in zh and en as one JSON object
 * (vocabulary.h), read from rules.h and the township's categories. Both
 * UIs answer GET /api/vocabulary with it; the village's adds its own
 * lists after.
 */
#include "vocabulary.h"

#include <stdio.h>

int vocabulary_add_word(cJSON *list, const char *name, const char *zh, const char *en)
{
    cJSON *w = cJSON_CreateObject();
    if (!w || !cJSON_AddItemToArray(list, w) || !cJSON_AddStringToObject(w, "name", name) ||
        !cJSON_AddStringToObject(w, "zh", zh ? zh : name) ||
        !cJSON_AddStringToObject(w, "en", en ? en : name)) {
        return -1; /* w, once in the list, is freed with it */
    }
    return 0;
}

cJSON *vocabulary_json(const struct rules_config *config)
{
    cJSON *obj = cJSON_CreateObject();
    cJSON *kinds = cJSON_AddArrayToObject(obj, "kinds");
    cJSON *channels = cJSON_AddArrayToObject(obj, "channels");
    cJSON *statuses = cJSON_AddArrayToObject(obj, "statuses");
    cJSON *levels = cJSON_AddArrayToObject(obj, "levels");
    cJSON *categories = cJSON_AddArrayToObject(obj, "categories");
    cJSON *opinions = cJSON_AddArrayToObject(obj, "opinions");
    cJSON *events = cJSON_AddArrayToObject(obj, "event_kinds");
    cJSON *aliases = cJSON_AddObjectToObject(obj, "status_aliases");
    int failed = !obj || !kinds || !channels || !statuses || !levels || !categories || !opinions ||
                 !events || !aliases || !cJSON_AddStringToObject(aliases, "closed", "concluded");
    for (int k = 1; !failed && k < RULES_KIND_COUNT; k++) {
        failed = vocabulary_add_word(kinds, rules_kind_name(k), rules_kind_label(k, "zh"),
                                     rules_kind_label(k, "en"));
    }
    for (int k = 1; !failed && k < RULES_CHANNEL_COUNT; k++) {
        failed = vocabulary_add_word(channels, rules_channel_name(k), rules_channel_label(k, "zh"),
                                     rules_channel_label(k, "en"));
    }
    for (int k = 1; !failed && k < RULES_STATUS_COUNT; k++) {
        failed = vocabulary_add_word(statuses, rules_status_name(k), rules_status_label(k, "zh"),
                                     rules_status_label(k, "en"));
    }
    for (int k = RULES_LEVEL_MIN; !failed && k <= RULES_LEVEL_MAX; k++) {
        char name[12];
        snprintf(name, sizeof name, "%d", k);
        failed = vocabulary_add_word(levels, name, rules_level_label(k, "zh"),
                                     rules_level_label(k, "en"));
    }
    for (size_t k = 0; !failed && k < config->ncategories; k++) {
        failed = vocabulary_add_word(categories, config->categories[k].name,
                                     config->categories[k].zh, config->categories[k].en);
    }
    for (int k = 1; !failed && k < RULES_OPINION_COUNT; k++) {
        failed = vocabulary_add_word(opinions, rules_opinion_name(k), rules_opinion_label(k, "zh"),
                                     rules_opinion_label(k, "en"));
    }
    for (size_t k = 0; !failed && k < rules_event_kind_count(); k++) {
        const char *name = rules_event_kind_name(k);
        failed = vocabulary_add_word(events, name, rules_event_kind_label(name, "zh"),
                                     rules_event_kind_label(name, "en"));
    }
    if (failed) {
        cJSON_Delete(obj);
        return NULL;
    }
    return obj;
}
