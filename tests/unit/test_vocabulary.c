/* SPDX-License-Identifier: MIT */
/*
 * test_vocabulary.c - unit tests for the ledger's words as JSON
 * (ledger/vocabulary.h), the answer of both UIs' GET /api/vocabulary:
 * every list in its order with each word of rules.h in zh and en, the
 * levels 1 to 7, the township's own categories, the status alias, and a
 * word without a label shown by its name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rules.h"
#include "vocabulary.h"

#include <stdio.h>
#include <string.h>

/* The word named name in the array list, or NULL. */
static const cJSON *word(const cJSON *list, const char *name)
{
    const cJSON *w;
    cJSON_ArrayForEach(w, list)
    {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(w, "name");
        if (cJSON_IsString(n) && !strcmp(n->valuestring, name)) {
            return w;
        }
    }
    return NULL;
}

static void assert_word(const cJSON *list, const char *name, const char *zh, const char *en)
{
    const cJSON *w = word(list, name);
    assert_non_null(w);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(w, "zh")->valuestring, zh);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(w, "en")->valuestring, en);
}

static void test_lists_in_order(void **state)
{
    (void)state;
    struct rules_config config;
    rules_config_default(&config);
    cJSON *v = vocabulary_json(&config);
    assert_non_null(v);
    static const char *const keys[] = {"kinds",      "channels", "statuses",    "levels",
                                       "categories", "opinions", "event_kinds", "status_aliases"};
    const cJSON *item = v->child;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++, item = item->next) {
        assert_non_null(item);
        assert_string_equal(item->string, keys[i]);
    }
    assert_null(item); /* nothing else: the hub answers exactly these */
    cJSON_Delete(v);
}

static void test_words_of_the_rules(void **state)
{
    (void)state;
    struct rules_config config;
    rules_config_default(&config);
    cJSON *v = vocabulary_json(&config);
    assert_non_null(v);
    const cJSON *kinds = cJSON_GetObjectItemCaseSensitive(v, "kinds");
    assert_int_equal(cJSON_GetArraySize(kinds), RULES_KIND_COUNT - 1); /* not the none */
    assert_word(kinds, "petition", rules_kind_label(RULES_KIND_PETITION, "zh"), "petition");
    assert_word(kinds, rules_kind_name(RULES_KIND_DISPUTE),
                rules_kind_label(RULES_KIND_DISPUTE, "zh"),
                rules_kind_label(RULES_KIND_DISPUTE, "en"));
    const cJSON *channels = cJSON_GetObjectItemCaseSensitive(v, "channels");
    assert_int_equal(cJSON_GetArraySize(channels), RULES_CHANNEL_COUNT - 1);
    const cJSON *statuses = cJSON_GetObjectItemCaseSensitive(v, "statuses");
    assert_int_equal(cJSON_GetArraySize(statuses), RULES_STATUS_COUNT - 1);
    assert_word(statuses, "mediating", "调解中", "mediating");
    assert_word(statuses, "concluded", "办结", "concluded");
    const cJSON *opinions = cJSON_GetObjectItemCaseSensitive(v, "opinions");
    assert_int_equal(cJSON_GetArraySize(opinions), RULES_OPINION_COUNT - 1);
    const cJSON *events = cJSON_GetObjectItemCaseSensitive(v, "event_kinds");
    assert_int_equal((size_t)cJSON_GetArraySize(events), rules_event_kind_count());
    const char *first = rules_event_kind_name(0);
    assert_word(events, first, rules_event_kind_label(first, "zh"),
                rules_event_kind_label(first, "en"));
    const cJSON *aliases = cJSON_GetObjectItemCaseSensitive(v, "status_aliases");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(aliases, "closed")->valuestring,
                        "concluded");
    cJSON_Delete(v);
}

static void test_levels(void **state)
{
    (void)state;
    struct rules_config config;
    rules_config_default(&config);
    cJSON *v = vocabulary_json(&config);
    assert_non_null(v);
    const cJSON *levels = cJSON_GetObjectItemCaseSensitive(v, "levels");
    assert_int_equal(cJSON_GetArraySize(levels), RULES_LEVEL_MAX - RULES_LEVEL_MIN + 1);
    assert_string_equal(cJSON_GetArrayItem(levels, 0)->child->valuestring, "1");
    assert_word(levels, "7", rules_level_label(7, "zh"), rules_level_label(7, "en"));
    assert_null(word(levels, "0"));
    assert_null(word(levels, "8"));
    cJSON_Delete(v);
}

static void test_the_townships_categories(void **state)
{
    (void)state;
    struct rules_config config;
    rules_config_default(&config);
    rules_config_clear_categories(&config);
    assert_int_equal(rules_config_add_category(&config, "water", "用水", "water use"), 0);
    assert_int_equal(rules_config_add_category(&config, "pets", "宠物", "pets"), 0);
    cJSON *v = vocabulary_json(&config);
    assert_non_null(v);
    const cJSON *categories = cJSON_GetObjectItemCaseSensitive(v, "categories");
    assert_int_equal(cJSON_GetArraySize(categories), 2);
    assert_string_equal(cJSON_GetArrayItem(categories, 0)->child->valuestring, "water");
    assert_word(categories, "water", "用水", "water use");
    assert_word(categories, "pets", "宠物", "pets");
    cJSON_Delete(v);

    rules_config_clear_categories(&config);
    v = vocabulary_json(&config);
    assert_non_null(v);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(v, "categories")), 0);
    cJSON_Delete(v);
}

static void test_add_word(void **state)
{
    (void)state;
    cJSON *list = cJSON_CreateArray();
    assert_non_null(list);
    assert_int_equal(vocabulary_add_word(list, "applicant", "申请人", "applicant"), 0);
    assert_int_equal(vocabulary_add_word(list, "bare", NULL, NULL), 0);
    assert_int_equal(cJSON_GetArraySize(list), 2);
    assert_word(list, "applicant", "申请人", "applicant");
    assert_word(list, "bare", "bare", "bare"); /* no label: the name stands in */
    char *text = cJSON_PrintUnformatted(cJSON_GetArrayItem(list, 0));
    assert_string_equal(text, "{\"name\":\"applicant\",\"zh\":\"申请人\",\"en\":\"applicant\"}");
    cJSON_free(text);
    cJSON_Delete(list);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lists_in_order), cmocka_unit_test(test_words_of_the_rules),
        cmocka_unit_test(test_levels),         cmocka_unit_test(test_the_townships_categories),
        cmocka_unit_test(test_add_word),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
