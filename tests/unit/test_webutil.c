/* SPDX-License-Identifier: MIT */
/*
 * test_webutil.c - unit tests for what both browser UIs' HTTP layers share
 * (web/webutil.h): finding a cookie among others, whatever the spacing,
 * and the next one of the same name; telling a JSON Content-Type; making
 * request text safe for a log line and cutting it; reading a body as a
 * JSON object and its string members with their limits; the language of
 * an answer; and the refusals' JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "webutil.h"

#include <string.h>

/* The value of the cookie as a string (at most 63 bytes), or NULL. */
static const char *cookie(const char *header, const char *name)
{
    static char value[64];
    size_t len;
    const char *v = webutil_cookie(header, name, &len);
    if (!v) {
        assert_int_equal(len, 0);
        return NULL;
    }
    assert_true(len < sizeof value);
    memcpy(value, v, len);
    value[len] = '\0';
    return value;
}

static void test_cookie(void **state)
{
    (void)state;
    assert_string_equal(cookie("s=abc", "s"), "abc");
    assert_string_equal(cookie("a=1; s=abc; b=2", "s"), "abc");
    assert_string_equal(cookie("a=1;s=abc;b=2", "s"), "abc");
    assert_string_equal(cookie("a=1; \ts=abc\t; b=2", "s"), "abc");
    assert_string_equal(cookie("a=1; s=", "s"), "");
    assert_string_equal(cookie("hamlet_ui_8080=x; hamlet_ui_80=y", "hamlet_ui_80"), "y");
    assert_null(cookie("ss=abc; xs=abc", "s")); /* a name that merely ends or starts alike */
    assert_null(cookie("a=s=abc", "s"));        /* inside another cookie's value */
    assert_null(cookie("", "s"));
    assert_null(cookie(NULL, "s"));
    assert_null(cookie("s", "s")); /* no '=' */
}

static void test_cookie_next_of_the_name(void **state)
{
    (void)state;
    const char *header = "s=bad; a=1; s=good";
    size_t len;
    const char *v = webutil_cookie(header, "s", &len);
    assert_non_null(v);
    assert_int_equal(len, 3);
    v = webutil_cookie(strchr(v, ';') + 1, "s", &len);
    assert_non_null(v);
    assert_int_equal(len, 4);
    assert_memory_equal(v, "good", 4);
}

static void test_is_json(void **state)
{
    (void)state;
    assert_true(webutil_is_json("application/json"));
    assert_true(webutil_is_json("application/json; charset=utf-8"));
    assert_true(webutil_is_json("Application/JSON;charset=UTF-8"));
    assert_true(webutil_is_json("application/json "));
    assert_false(webutil_is_json("application/jsonp"));
    assert_false(webutil_is_json("application/x-www-form-urlencoded"));
    assert_false(webutil_is_json("text/plain"));
    assert_false(webutil_is_json(""));
    assert_false(webutil_is_json(NULL));
}

static void test_log_safe(void **state)
{
    (void)state;
    char out[16];
    webutil_log_safe(out, sizeof out, "GET /x\r\nEvil: 1");
    assert_string_equal(out, "GET /x??Evil: 1");
    webutil_log_safe(out, sizeof out, "a\x7f\x1b[0m");
    assert_string_equal(out, "a??[0m");
    webutil_log_safe(out, sizeof out, "0123456789abcdefghij"); /* cut to fit */
    assert_string_equal(out, "0123456789abcde");
    webutil_log_safe(out, sizeof out, "村调解"); /* UTF-8 is kept */
    assert_string_equal(out, "村调解");
    webutil_log_safe(out, sizeof out, NULL);
    assert_string_equal(out, "");
    webutil_log_safe(out, 1, "abc");
    assert_string_equal(out, "");
}

static cJSON *parse(const char *text)
{
    return webutil_parse_object((const uint8_t *)text, strlen(text));
}

static void test_parse_object(void **state)
{
    (void)state;
    cJSON *doc = parse("{\"id\": \"x\"}");
    assert_non_null(doc);
    assert_true(cJSON_IsObject(doc));
    cJSON_Delete(doc);
    assert_null(parse("[1, 2]"));
    assert_null(parse("\"text\""));
    assert_null(parse("{\"id\": "));
    assert_null(parse(""));
    assert_null(webutil_parse_object(NULL, 0));
    /* Only len bytes are read: the rest is not part of the body. */
    doc = webutil_parse_object((const uint8_t *)"{}garbage", 2);
    assert_non_null(doc);
    cJSON_Delete(doc);
}

static void test_member_text(void **state)
{
    (void)state;
    cJSON *doc = parse("{\"name\": \"王芳\", \"empty\": \"\", \"none\": null, \"n\": 3,"
                       " \"long\": \"abcdef\"}");
    assert_non_null(doc);
    int bad = 0;
    assert_string_equal(webutil_member_text(doc, "name", 6, &bad), "王芳");
    assert_string_equal(webutil_member_text(doc, "empty", 6, &bad), "");
    assert_null(webutil_member_text(doc, "none", 6, &bad));
    assert_null(webutil_member_text(doc, "absent", 6, &bad));
    assert_string_equal(webutil_member_text(doc, "long", 6, &bad), "abcdef");
    assert_int_equal(bad, 0);
    assert_null(webutil_member_text(doc, "long", 5, &bad)); /* one byte too many */
    assert_int_equal(bad, 1);
    bad = 0;
    assert_null(webutil_member_text(doc, "n", 6, &bad)); /* not a string */
    assert_int_equal(bad, 1);
    assert_null(webutil_member_text(doc, "Name", 6, &bad)); /* names are exact */
    cJSON_Delete(doc);
}

static void test_lang(void **state)
{
    (void)state;
    assert_string_equal(webutil_lang("en"), "en");
    assert_string_equal(webutil_lang("zh"), "zh");
    assert_string_equal(webutil_lang("EN"), "zh");
    assert_string_equal(webutil_lang("fr"), "zh");
    assert_string_equal(webutil_lang(""), "zh");
    assert_string_equal(webutil_lang(NULL), "zh");
}

static void test_error_json(void **state)
{
    (void)state;
    cJSON *obj = webutil_error_json("csrf", "the request lacks the page's X-CSRF-Token");
    assert_non_null(obj);
    char *text = cJSON_PrintUnformatted(obj);
    assert_string_equal(
        text, "{\"error\":\"csrf\",\"message\":\"the request lacks the page's X-CSRF-Token\"}");
    cJSON_free(text);
    cJSON_Delete(obj);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cookie),       cmocka_unit_test(test_cookie_next_of_the_name),
        cmocka_unit_test(test_is_json),      cmocka_unit_test(test_log_safe),
        cmocka_unit_test(test_parse_object), cmocka_unit_test(test_member_text),
        cmocka_unit_test(test_lang),         cmocka_unit_test(test_error_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
