/*
 * test_corpora.c - the clean stage on third-party reference pages
 * (../shared/corpora): character-level F1 against gold text, trafilatura's
 * must-have / must-not-have snippets, and GNE's 30 pages.  Per-page figures
 * are printed as TAP comments.
 *
 * F1 is over bags of characters (white space left out, full-width ASCII
 * folded); the prediction is the body plus the byline lines clean moved out
 * of it (they are kept, in page.byline, not thrown away).
 */
#include "clean_test.h" /* before cmocka.h: its fail() macro */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <libxml/HTMLparser.h>

static const char *const NO_OPTS[] = {NULL};

/* A page as UTF-8: as is when valid, else converted from `fallback` (the
 * decode stage's job in a pipeline). */
static char *page_utf8(const char *rel, const char *fallback)
{
    char *path = shared_path(rel), *raw, *out;
    size_t n = 0;
    raw = slurp(path, &n);
    free(path);
    if (!raw)
        return NULL;
    if (valid_utf8(raw, n))
        return raw;
    out = to_utf8(raw, n, fallback);
    free(raw);
    return out;
}

/* The text content of an HTML file (the gold of readability's tests). */
static char *html_text(const char *html)
{
    htmlDocPtr doc = htmlReadMemory(html, (int)strlen(html), NULL, "UTF-8",
                                    HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
                                        HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
    xmlChar *t = doc ? xmlNodeGetContent(xmlDocGetRootElement(doc)) : NULL;
    char *out = t ? strdup((char *)t) : strdup("");
    xmlFree(t);
    xmlFreeDoc(doc);
    return out;
}

/* Cleans the page and returns F1 of body+byline against gold. */
static double score_page(const char *name, const char *html, const char *gold)
{
    tj_record *r = clean_run(NO_OPTS, html, "text/html");
    double p, rc, f, fb;
    char *pred;
    assert_non_null(r);
    pred = body_and_byline(r);
    f = char_f1(pred, gold, &p, &rc);
    fb = char_f1(field(r, "body"), gold, NULL, NULL);
    printf("# %-22s F1 %.3f (P %.3f R %.3f; body alone %.3f) chars %zu gold %zu\n",
           name, f, p, rc, fb, count_cps(field(r, "body")), count_cps(gold));
    free(pred);
    tj_record_free(r);
    return f;
}

static void test_readability_zh(void **st)
{
    static const char *const pages[] = {"gmw", "qq", "youth", "pixnet", NULL};
    (void)st;
    for (int i = 0; pages[i]; i++) {
        char src[128], exp[128], *html, *gold_html, *gold;
        snprintf(src, sizeof src, "corpora/readability_zh/%s/source.html", pages[i]);
        snprintf(exp, sizeof exp, "corpora/readability_zh/%s/expected.html", pages[i]);
        html = page_utf8(src, "GB18030");
        gold_html = page_utf8(exp, "GB18030");
        assert_non_null(html);
        assert_non_null(gold_html);
        gold = html_text(gold_html);
        if (score_page(pages[i], html, gold) < 0.95)
            fail_msg("readability_zh/%s: F1 below 0.95", pages[i]);
        free(gold);
        free(gold_html);
        free(html);
    }
}

static void test_newspaper_zh(void **st)
{
    char *html = page_utf8("corpora/newspaper_zh/chinese_article.html", "GB18030");
    char *gold = page_utf8("corpora/newspaper_zh/chinese.txt", "GB18030");
    (void)st;
    assert_non_null(html);
    assert_non_null(gold);
    assert_true(score_page("newspaper_zh", html, gold) >= 0.95);
    free(gold);
    free(html);
}

/* Every `with` snippet in the body, every `without` one absent.  The
 * archive.org page is GB2312 bytes whose first meta claims UTF-8: invalid
 * UTF-8, so page_utf8 converts it from GB18030. */
static void test_trafilatura_zh(void **st)
{
    char *path = shared_path("corpora/trafilatura_zh/evaldata_zh.json");
    char *json = slurp(path, NULL);
    cJSON *ev = cJSON_Parse(json), *e;
    int pages = 0;
    (void)st;
    assert_non_null(ev);
    cJSON_ArrayForEach(e, ev) {
        char rel[256], *html;
        cJSON *s;
        tj_record *r;
        int with = 0, without = 0;
        snprintf(rel, sizeof rel, "corpora/trafilatura_zh/%s",
                 cJSON_GetObjectItemCaseSensitive(e, "file")->valuestring);
        html = page_utf8(rel, "GB18030");
        assert_non_null(html);
        r = clean_run(NO_OPTS, html, "text/html");
        assert_non_null(r);
        cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(e, "with")) {
            if (!strstr(field(r, "body"), s->valuestring))
                fail_msg("%s: missing '%s'", rel, s->valuestring);
            with++;
        }
        cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(e, "without")) {
            if (strstr(field(r, "body"), s->valuestring))
                fail_msg("%s: unwanted '%s'", rel, s->valuestring);
            without++;
        }
        printf("# %-60s with %d/%d without %d/%d chars %zu\n", rel + 23, with, with,
               without, without, count_cps(field(r, "body")));
        tj_record_free(r);
        free(html);
        pages++;
    }
    assert_int_equal(pages, 4);
    cJSON_Delete(ev);
    free(json);
    free(path);
}

/* GNE: main text found on all 30 pages.  "Found" means at least 100
 * characters of punctuated prose; where GNE's own (unchecked) output exists
 * the F1 against it is printed and must reach 0.7 with recall 0.8. */
static void test_gne(void **st)
{
    static const char *const dirs[] = {"pages", "pages_no_expected", NULL};
    char *mpath = shared_path("corpora/gne/manifest.json");
    char *mjson = slurp(mpath, NULL);
    cJSON *manifest = cJSON_Parse(mjson), *m;
    int found = 0, total = 0;
    double sum_f1 = 0;
    int with_gold = 0;
    (void)st;
    assert_non_null(manifest);
    cJSON_ArrayForEach(m, manifest) {
        const char *name = cJSON_GetObjectItemCaseSensitive(m, "name")->valuestring;
        char rel[256], *html = NULL;
        tj_record *r;
        size_t chars;
        for (int d = 0; dirs[d] && !html; d++) {
            snprintf(rel, sizeof rel, "corpora/gne/%s/%s.html", dirs[d], name);
            html = page_utf8(rel, "GB18030");
        }
        if (!html)
            fail_msg("gne page %s not found", name);
        r = clean_run(NO_OPTS, html, "text/html");
        assert_non_null(r);
        chars = count_cps(field(r, "body"));
        total++;
        if (chars >= 100 && (strstr(field(r, "body"), "，") || strstr(field(r, "body"), "。")))
            found++;
        else
            printf("# gne/%s: main text not found (%zu chars)\n", name, chars);
        snprintf(rel, sizeof rel, "corpora/gne/expected/%s.json", name);
        {
            char *ep = shared_path(rel), *ej = slurp(ep, NULL);
            cJSON *exp = ej ? cJSON_Parse(ej) : NULL;
            cJSON *content = cJSON_GetObjectItemCaseSensitive(exp, "content");
            if (cJSON_IsString(content)) {
                double p, rc, f = char_f1(field(r, "body"), content->valuestring, &p, &rc);
                printf("# gne/%-22s F1 %.3f (P %.3f R %.3f) chars %zu\n", name, f, p, rc, chars);
                if (f < 0.7 || rc < 0.8)
                    fail_msg("gne/%s: F1 %.3f recall %.3f vs GNE's output", name, f, rc);
                sum_f1 += f;
                with_gold++;
            } else {
                printf("# gne/%-22s (no expected) chars %zu quality %s\n", name, chars,
                       field(r, "quality"));
            }
            cJSON_Delete(exp);
            free(ej);
            free(ep);
        }
        tj_record_free(r);
        free(html);
    }
    printf("# gne: main text found on %d/%d pages; mean F1 %.3f over %d with GNE output\n",
           found, total, with_gold ? sum_f1 / with_gold : 0, with_gold);
    assert_int_equal(total, 30);
    assert_int_equal(found, 30);
    cJSON_Delete(manifest);
    free(mjson);
    free(mpath);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_readability_zh),
        cmocka_unit_test(test_newspaper_zh),
        cmocka_unit_test(test_trafilatura_zh),
        cmocka_unit_test(test_gne),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
