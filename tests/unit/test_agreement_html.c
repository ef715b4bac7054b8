/* SPDX-License-Identifier: MIT */
/*
 * test_agreement_html.c - unit tests for the printable mediation agreement
 * (ledger/agreement_html.h): the page a village secretary prints for the
 * parties to sign. The tests read the page the way a user would: its title
 * and case number, the parties' numbers masked or in full, text from the
 * ledger escaped and with its line breaks, the notice that lists exactly
 * what is still missing, the note on a signed agreement and its date, the
 * supplementary title, the English page, blank lines for what is to be
 * filled in by hand, and a page that stops at the first write error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agreement_html.h"
#include "sync_error.h"

#include <stdlib.h>
#include <string.h>

#define ID_NO        "431228197202284460"
#define ID_MASKED    "4312**********4460"
#define PHONE        "13800138000"
#define PHONE_MASKED "138****8000"
#define CASE_NO      "（2026）白沙调字第A3-0012号"

/* ---- helpers ---- */

/* The page as written: all pieces joined, NUL-terminated. */
struct page {
    char *data;
    size_t len, cap;
    size_t calls;
    size_t fail_at; /* the call (from 1) that returns fail_rc; 0: never */
    int fail_rc;
};

static int collect(void *ctx, const char *data, size_t len)
{
    struct page *p = ctx;
    p->calls++;
    if (p->fail_at && p->calls == p->fail_at) {
        return p->fail_rc;
    }
    assert_true(p->fail_at == 0 || p->calls < p->fail_at);
    assert_true(len > 0);
    if (p->len + len + 1 > p->cap) {
        size_t cap = (p->len + len + 1) * 2;
        char *data_new = realloc(p->data, cap);
        assert_non_null(data_new);
        p->data = data_new;
        p->cap = cap;
    }
    memcpy(p->data + p->len, data, len);
    p->len += len;
    p->data[p->len] = '\0';
    return 0;
}

static const struct agreement_html_party two_parties[] = {
    {"谭德胜", "申请人", ID_NO, PHONE, "云岭县青石镇杨柳村3组23号"},
    {"王光明", "被申请人", "431228198005061234", "17880400833", "云岭县青石镇杨柳村3组5号"},
};

static struct rules_agreement complete_agreement(void)
{
    return (struct rules_agreement){
        .parties_details = "申请人谭德胜，男，1972年2月28日生；被申请人王光明，男。",
        .facts_and_liability = "王光明向谭德胜借款三万元，到期未还。",
        .rights_obligations = "王光明分十个月偿还剩余借款二万五千元。",
        .performance_method = "银行转账",
        .performance_place = "杨柳村村委会",
        .performance_deadline = "2026-12-31",
        .parties_signed = 1,
        .mediator_signed = 1,
        .sealed = 1,
        .signed_at = NULL,
    };
}

static struct agreement_html form(const struct rules_agreement *a)
{
    return (struct agreement_html){
        .lang = NULL,
        .township = "青石镇",
        .village_name = "白沙村",
        .case_no = CASE_NO,
        .title = "谭德胜与王光明借款纠纷",
        .mediator_name = "李秀英",
        .parties = two_parties,
        .nparties = 2,
        .agreement = a,
        .supplements_case_no = NULL,
        .reveal = 0,
    };
}

/* Render in, expecting success; the caller frees the result. */
static char *render(const struct agreement_html *in)
{
    struct page p = {0};
    assert_int_equal(agreement_html_write(in, collect, &p), 0);
    assert_non_null(p.data);
    assert_int_equal(strlen(p.data), p.len);
    return p.data;
}

static void assert_has(const char *page, const char *text)
{
    if (!strstr(page, text)) {
        fail_msg("the page lacks \"%s\"", text);
    }
}

static void assert_lacks(const char *page, const char *text)
{
    if (strstr(page, text)) {
        fail_msg("the page holds \"%s\"", text);
    }
}

static size_t count(const char *page, const char *text)
{
    size_t n = 0;
    for (const char *p = strstr(page, text); p; p = strstr(p + strlen(text), text)) {
        n++;
    }
    return n;
}

/* The part of page from the first from to the next to after it, as a new
 * string (NULL when from is not there). */
static char *between(const char *page, const char *from, const char *to)
{
    const char *start = strstr(page, from);
    if (!start) {
        return NULL;
    }
    const char *end = strstr(start, to);
    size_t n = end ? (size_t)(end - start) : strlen(start);
    char *s = malloc(n + 1);
    assert_non_null(s);
    memcpy(s, start, n);
    s[n] = '\0';
    return s;
}

/* 1 when s is well-formed UTF-8. */
static int utf8_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int k = *p < 0x80 ? 1 : (*p & 0xE0) == 0xC0 ? 2 : (*p & 0xF0) == 0xE0 ? 3 : 4;
        if (*p >= 0x80 && (*p < 0xC2 || *p > 0xF4)) {
            return 0;
        }
        for (int i = 1; i < k; i++) {
            if ((p[i] & 0xC0) != 0x80) {
                return 0;
            }
        }
        p += k;
    }
    return 1;
}

/* ---- the form ---- */

static void test_title_and_layout(void **state)
{
    (void)state;
    struct rules_agreement a = complete_agreement();
    struct agreement_html in = form(&a);
    char *page = render(&in);

    assert_true(strncmp(page, "<!DOCTYPE html>", 15) == 0);
    assert_has(page, "<html lang=\"zh-CN\">");
    assert_has(page, "<meta charset=\"utf-8\">");
    assert_has(page, "<h1>人民调解协议书</h1>");
    assert_has(page, "<title>人民调解协议书 " CASE_NO "</title>");
    assert_has(page, "<p class=\"case-no\">编号：" CASE_NO "</p>");
    assert_has(page, "青石镇白沙村人民调解委员会");
    assert_has(page, "案由：谭德胜与王光明借款纠纷");
    assert_has(page, "@page { size: A4; margin: 2cm; }");
    assert_has(page, "\"Songti SC\", \"SimSun\", \"Noto Serif CJK SC\", serif");
    assert_has(page, "max-width: 21cm");
    assert_true(utf8_ok(page));

    /* The parts in the order of the paper form. */
    const char *order[] = {
        "<h1>人民调解协议书</h1>",
        "（一）当事人基本情况",
        "谭德胜",
        "申请人谭德胜，男",
        "（二）纠纷的主要事实、争议事项及各方责任",
        "王光明向谭德胜借款三万元",
        "（三）各方当事人的权利和义务",
        "经调解，自愿达成如下协议：",
        "王光明分十个月偿还",
        "（四）履行方式、地点、期限",
        "履行方式：",
        "银行转账",
        "履行地点：",
        "杨柳村村委会",
        "履行期限：",
        "2026年12月31日",
        "本协议一式三份，当事人、人民调解委员会各持一份。",
        "本协议自各方当事人签名、人民调解员签名并加盖人民调解委员会印章之日起生效。",
        "（五）签名和印章",
        "当事人（签名）：",
        "人民调解员（签名）：",
        "（人民调解委员会印章）",
        "</html>",
    };
    const char *at = page;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        const char *next = strstr(at, order[i]);
        if (!next) {
            fail_msg("\"%s\" is missing or out of order", order[i]);
            break;
        }
        at = next + strlen(order[i]);
    }

    /* One block and one signature line per party, the mediator named. */
    assert_int_equal(count(page, "<table class=\"party\">"), 2);
    assert_int_equal(count(page, "当事人（签名）："), 2);
    assert_has(page, "<span class=\"who\">谭德胜（申请人）</span>");
    assert_has(page, "<span class=\"who\">王光明（被申请人）</span>");
    assert_has(page, "<span class=\"who\">李秀英</span>");

    /* Nothing to fetch, nothing to run. */
    assert_lacks(page, "<script");
    assert_lacks(page, "src=");
    assert_lacks(page, "href=");
    assert_lacks(page, "url(");
    assert_lacks(page, "@import");
    assert_lacks(page, "http:");
    assert_lacks(page, "https:");

    /* lang NULL is Chinese: the same page as "zh". */
    in.lang = "zh";
    char *zh = render(&in);
    assert_string_equal(zh, page);
    free(zh);
    free(page);
}

static void test_escaping(void **state)
{
    (void)state;
    static const struct agreement_html_party evil[] = {
        {"<script>alert(1)</script>", "申请人", NULL, NULL, "\"村口\" & 'A'"},
        {"王光明", "被申请人", NULL, NULL, NULL},
    };
    struct rules_agreement a = complete_agreement();
    a.facts_and_liability = "第一行 A & B\n第二行 <b>x</b>\r\n第三行";
    struct agreement_html in = form(&a);
    in.parties = evil;
    in.title = "<img src=x onerror=alert(1)>";
    in.case_no = "（2026）白沙调字第0001号 & <i>";
    char *page = render(&in);

    assert_lacks(page, "<script>");
    assert_lacks(page, "<img");
    assert_lacks(page, "<b>x</b>");
    assert_lacks(page, "<i>");
    assert_lacks(page, "A & B");
    assert_has(page, "&lt;script&gt;alert(1)&lt;/script&gt;");
    assert_has(page, "&lt;img src=x onerror=alert(1)&gt;");
    assert_has(page, "&quot;村口&quot; &amp; &#39;A&#39;");
    assert_has(page, "第0001号 &amp; &lt;i&gt;");
    /* Line breaks are kept, CR LF as LF, in a block that shows them. */
    assert_has(page,
               "<div class=\"text\">第一行 A &amp; B\n第二行 &lt;b&gt;x&lt;/b&gt;\n第三行</div>");
    assert_has(page, ".text { white-space: pre-wrap;");
    free(page);

    /* Bytes that are not UTF-8 and control characters do not reach the
     * page: it stays one UTF-8 document. */
    a = complete_agreement();
    a.facts_and_liability = "坏\xFF字\xE4\xB8节\x01尾\xC0\x80|\xED\xA0\x80|\xF4\x90\x80\x80|";
    in = form(&a);
    page = render(&in);
    assert_true(utf8_ok(page));
    assert_has(page, "坏\xEF\xBF\xBD字\xEF\xBF\xBD节\xEF\xBF\xBD尾");
    assert_lacks(page, "\xC0\x80");     /* an overlong NUL */
    assert_lacks(page, "\xED\xA0\x80"); /* a surrogate */
    assert_lacks(page, "\xF4\x90");     /* beyond U+10FFFF */
    free(page);
}

static void test_masking(void **state)
{
    (void)state;
    struct rules_agreement a = complete_agreement();
    struct agreement_html in = form(&a);
    char *page = render(&in);
    assert_has(page, "<td>" ID_MASKED "</td>");
    assert_has(page, "<td>" PHONE_MASKED "</td>");
    assert_has(page, "4312**********1234");
    assert_has(page, "178****0833");
    assert_lacks(page, ID_NO);
    assert_lacks(page, PHONE);
    assert_lacks(page, "431228198005061234");
    assert_lacks(page, "17880400833");
    free(page);

    in.reveal = 1;
    page = render(&in);
    assert_has(page, "<td>" ID_NO "</td>");
    assert_has(page, "<td>" PHONE "</td>");
    assert_has(page, "17880400833");
    assert_lacks(page, ID_MASKED);
    assert_lacks(page, PHONE_MASKED);
    free(page);
}

static void test_incomplete_notice(void **state)
{
    (void)state;
    struct rules_agreement a = complete_agreement();
    a.performance_place = "\xE3\x80\x80"; /* an ideographic space is no place */
    a.sealed = 0;
    struct agreement_html in = form(&a);
    char *page = render(&in);

    char *notice = between(page, "<div class=\"notice incomplete\"", "</div>");
    assert_non_null(notice);
    assert_has(notice, "本协议尚不完整，缺少：");
    assert_int_equal(count(notice, "<li>"), 2);
    assert_has(notice, "<li>（四）履行地点</li>");
    assert_has(notice, "<li>（五）人民调解委员会印章</li>");
    for (int item = 1; item < RULES_AGR_COUNT; item++) {
        if (item != RULES_AGR_PERFORMANCE_PLACE && item != RULES_AGR_SEAL) {
            assert_lacks(notice, rules_agreement_item_label((enum rules_agreement_item)item, "zh"));
        }
    }
    /* It comes before the form, and no style hides it from the printer. */
    assert_true(strstr(page, "本协议尚不完整") < strstr(page, "<h1>"));
    assert_lacks(page, "display: none");
    assert_lacks(page, "visibility: hidden");
    free(notice);

    /* The missing place is a ruled line to fill in by hand. */
    assert_has(page,
               "<div class=\"label\">履行地点：</div>\n<div class=\"fill\"><div></div></div>");
    free(page);

    /* Complete: no notice, no ruled lines. */
    a = complete_agreement();
    in = form(&a);
    page = render(&in);
    assert_lacks(page, "本协议尚不完整");
    assert_lacks(page, "notice incomplete");
    assert_lacks(page, "<div class=\"fill\">");
    free(page);
}

static void test_empty_agreement_is_a_blank_form(void **state)
{
    (void)state;
    struct rules_agreement a = {0};
    struct agreement_html in = form(&a);
    in.nparties = 0;
    in.parties = NULL;
    in.case_no = NULL;
    in.title = NULL;
    in.mediator_name = NULL;
    char *page = render(&in);

    char *notice = between(page, "<div class=\"notice incomplete\"", "</div>");
    assert_non_null(notice);
    assert_int_equal(count(notice, "<li>"), RULES_AGR_COUNT - 1);
    free(notice);
    /* Every text is lines to write on, two blank parties and their
     * signature lines, an empty case number and date. */
    assert_int_equal(count(page, "<div class=\"fill\">"), 6);
    assert_int_equal(count(page, "<table class=\"party\">"), 2);
    assert_int_equal(count(page, "当事人（签名）："), 2);
    assert_has(page, "编号：<span class=\"blank wide\"></span>");
    assert_has(page, "<span class=\"blank year\"></span>年<span class=\"blank\"></span>月"
                     "<span class=\"blank\"></span>日");
    assert_lacks(page, "案由");
    assert_has(page, "本协议一式三份");
    free(page);

    /* Three parties keep a copy each, and the committee one. */
    static const struct agreement_html_party three[] = {
        {"谭德胜", "申请人", NULL, NULL, NULL},
        {"王光明", "被申请人", NULL, NULL, NULL},
        {"白桂芳", "第三人", NULL, NULL, NULL},
    };
    a = complete_agreement();
    in = form(&a);
    in.parties = three;
    in.nparties = 3;
    page = render(&in);
    assert_has(page, "本协议一式四份，当事人、人民调解委员会各持一份。");
    assert_int_equal(count(page, "当事人（签名）："), 3);
    free(page);
}

static void test_signed(void **state)
{
    (void)state;
    struct rules_agreement a = complete_agreement();
    a.signed_at = "2026-03-15";
    struct agreement_html in = form(&a);
    char *page = render(&in);
    char *note = between(page, "<div class=\"notice locked\"", "</div>");
    assert_non_null(note);
    assert_has(note, "已签署，不得修改");
    assert_has(note, "2026年3月15日");
    assert_has(note, "补充协议");
    free(note);
    assert_has(page, "<p class=\"date\">2026年3月15日</p>");
    assert_lacks(page, "本协议尚不完整");
    free(page);

    /* A timestamp is read as its day in China. */
    a.signed_at = "2026-03-14T20:00:00Z";
    page = render(&in);
    assert_has(page, "<p class=\"date\">2026年3月15日</p>");
    free(page);

    /* Signed but without the seal: locked, and still incomplete. */
    a.sealed = 0;
    page = render(&in);
    assert_has(page, "已签署，不得修改");
    assert_has(page, "<li>（五）人民调解委员会印章</li>");
    free(page);

    /* Not signed: no note, the date left blank. */
    a = complete_agreement();
    page = render(&in);
    assert_lacks(page, "已签署");
    assert_lacks(page, "notice locked");
    assert_has(page, "<p class=\"date\"><span class=\"blank year\"></span>年");
    free(page);
}

static void test_supplement(void **state)
{
    (void)state;
    struct rules_agreement a = complete_agreement();
    struct agreement_html in = form(&a);
    in.supplements_case_no = "（2026）白沙调字第A3-0007号";
    char *page = render(&in);
    assert_has(page, "<h1>补充协议</h1>");
    assert_lacks(page, "<h1>人民调解协议书</h1>");
    assert_has(page, "<title>补充协议 " CASE_NO "</title>");
    assert_has(page, "本协议是对编号为（2026）白沙调字第A3-0007号的人民调解协议书的补充。");
    free(page);

    in.lang = "en";
    page = render(&in);
    assert_has(page, "<h1>Supplementary Agreement</h1>");
    assert_has(
        page,
        "This agreement supplements the mediation agreement No. （2026）白沙调字第A3-0007号.");
    free(page);
}

static void test_english(void **state)
{
    (void)state;
    struct rules_agreement a = complete_agreement();
    a.performance_place = NULL;
    a.sealed = 0;
    a.signed_at = "2026-03-15";
    struct agreement_html in = form(&a);
    in.lang = "en";
    char *page = render(&in);

    assert_has(page, "<html lang=\"en\">");
    assert_has(page, "<h1>People's Mediation Agreement</h1>");
    assert_has(page, "No.: " CASE_NO);
    assert_has(page, "People's Mediation Committee of 白沙村, 青石镇");
    assert_has(page, "<th>Name</th><td>谭德胜</td><th>Role</th><td>Applicant</td>");
    assert_has(page, "<td>Respondent</td>");
    assert_has(page, "<th>ID card no.</th><td>" ID_MASKED "</td>");
    assert_has(page, "<th>Phone</th><td>" PHONE_MASKED "</td>");
    assert_has(page, "<th>Address</th>");
    assert_has(page, "This agreement is not complete. Missing:");
    assert_has(page, "<li>(4) the place of performance</li>");
    assert_has(page, "<li>(5) the mediation committee's seal</li>");
    assert_has(page, "Signed: no changes allowed.");
    assert_has(page, "signed on 15 March 2026");
    assert_has(page, "Place of performance:");
    assert_has(page, "31 December 2026");
    assert_has(page, "This agreement is made in three copies");
    assert_has(page, "Party (signature):");
    assert_has(page, "People's mediator (signature):");
    assert_has(page, "(Seal of the People's Mediation Committee)");
    assert_has(page, "Date: 15 March 2026");
    assert_has(page, "谭德胜 (Applicant)");

    /* None of the Chinese fixed texts. */
    const char *zh[] = {"人民调解协议书", "编号", "姓名", "身份证号", "联系电话", "住址", "（一）",
                        "（五）",         "签名", "印章", "缺少",     "已签署",   "一式", "年3月"};
    for (size_t i = 0; i < sizeof zh / sizeof zh[0]; i++) {
        assert_lacks(page, zh[i]);
    }
    free(page);
}

static void test_write_error_stops(void **state)
{
    (void)state;
    struct rules_agreement a = complete_agreement();
    struct agreement_html in = form(&a);

    /* Refused at once. */
    struct page p = {.fail_at = 1, .fail_rc = -42};
    assert_int_equal(agreement_html_write(&in, collect, &p), -42);
    assert_int_equal(p.calls, 1);
    free(p.data);

    /* Refused half way: that error, and no call after it. */
    struct page whole = {0};
    assert_int_equal(agreement_html_write(&in, collect, &whole), 0);
    assert_true(whole.calls > 4);
    p = (struct page){.fail_at = 3, .fail_rc = 7};
    assert_int_equal(agreement_html_write(&in, collect, &p), 7);
    assert_int_equal(p.calls, 3);
    assert_true(p.len < whole.len);
    free(p.data);
    free(whole.data);
}

static void test_long_text_in_pieces(void **state)
{
    (void)state;
    /* A text far longer than any buffer of the module passes whole. */
    size_t n = 100000;
    char *facts = malloc(n * 3 + 1);
    assert_non_null(facts);
    for (size_t i = 0; i < n; i++) {
        memcpy(facts + i * 3, i % 2 ? "&ab" : "字", 3);
    }
    facts[n * 3] = '\0';
    struct rules_agreement a = complete_agreement();
    a.facts_and_liability = facts;
    struct agreement_html in = form(&a);
    struct page p = {0};
    assert_int_equal(agreement_html_write(&in, collect, &p), 0);
    assert_true(p.calls > 2 * 100000 / 8192);
    assert_int_equal(count(p.data, "字&amp;ab"), n / 2);
    assert_true(utf8_ok(p.data));
    assert_has(p.data, "</html>\n");
    free(p.data);
    free(facts);
}

static void test_bad_input(void **state)
{
    (void)state;
    struct rules_agreement a = complete_agreement();
    struct agreement_html good = form(&a);
    struct page p = {0};

    assert_int_equal(agreement_html_write(NULL, collect, &p), SYNC_E_ARG);
    assert_int_equal(agreement_html_write(&good, NULL, &p), SYNC_E_ARG);

    struct agreement_html in = good;
    in.agreement = NULL;
    assert_int_equal(agreement_html_write(&in, collect, &p), SYNC_E_ARG);
    in = good;
    in.village_name = NULL;
    assert_int_equal(agreement_html_write(&in, collect, &p), SYNC_E_ARG);
    in.village_name = "";
    assert_int_equal(agreement_html_write(&in, collect, &p), SYNC_E_ARG);
    in = good;
    in.parties = NULL;
    assert_int_equal(agreement_html_write(&in, collect, &p), SYNC_E_ARG);
    in = good;
    in.lang = "fr";
    assert_int_equal(agreement_html_write(&in, collect, &p), SYNC_E_ARG);
    in.lang = "english";
    assert_int_equal(agreement_html_write(&in, collect, &p), SYNC_E_ARG);
    in = good;
    in.reveal = 2;
    assert_int_equal(agreement_html_write(&in, collect, &p), SYNC_E_ARG);
    in.reveal = -1;
    assert_int_equal(agreement_html_write(&in, collect, &p), SYNC_E_ARG);
    assert_int_equal(p.calls, 0);

    /* Regional forms of the two languages are understood. */
    in = good;
    in.lang = "zh-CN";
    assert_int_equal(agreement_html_write(&in, collect, &p), 0);
    in.lang = "en_GB";
    assert_int_equal(agreement_html_write(&in, collect, &p), 0);
    free(p.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_title_and_layout),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_masking),
        cmocka_unit_test(test_incomplete_notice),
        cmocka_unit_test(test_empty_agreement_is_a_blank_form),
        cmocka_unit_test(test_signed),
        cmocka_unit_test(test_supplement),
        cmocka_unit_test(test_english),
        cmocka_unit_test(test_write_error_stops),
        cmocka_unit_test(test_long_text_in_pieces),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
