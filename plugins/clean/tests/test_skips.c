/*
 * test_skips.c - three byte loops of the clean stage take most of their text
 * a block of bytes at a time (lanes.c, 16 bytes with SSE2, 32 with AVX2;
 * both widths are checked): step 1 of the text pass (characters, skipping
 * what it keeps), the text counts that score the page's elements, and the
 * veil's runs of safe characters.  None may change a
 * thing: the text and counts come out as the byte loops alone make them,
 * on the seeds, the corpora pages and random texts built around what the
 * lanes must refuse (U+3000, full-width letters and digits, zero-width
 * marks, spaces, hexagrams, punctuation the counts look up, broken and
 * truncated sequences), every kind landing at every offset of a block.
 */
#include "clean_test.h" /* before cmocka.h: its fail() macro */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "clean.h"

typedef struct tally {
    size_t bytes, skipped, wrong;     /* step 1 */
    size_t cskipped, cwrong;          /* the counts */
    size_t vtried, vskipped, vwrong;  /* the veil's safe runs */
} tally;

/* s[0..n) is NUL-terminated; the counts read it up to its first NUL. */
static void check(tally *t, const char *what, const char *s, size_t n)
{
    size_t skipped = 0;
    long wrong = cl_check_normalize(s, n, &skipped);
    assert_true(wrong >= 0);
    if (wrong > 0 && t->wrong < 10)
        print_message("%s: the skip changed the text: \"%.80s\"\n", what, s);
    t->wrong += (size_t)wrong;
    t->skipped += skipped;
    t->bytes += n;
    wrong = cl_check_count_text(s, &skipped);
    if (wrong > 0 && t->cwrong < 10)
        print_message("%s: the lane changed the counts: \"%.80s\"\n", what, s);
    t->cwrong += (size_t)wrong;
    t->cskipped += skipped;
    /* runs start after a '>' in the veil; anywhere else tries more */
    for (size_t a = 0; a < n; a++) {
        if (a % 61 && (a == 0 || s[a - 1] != '>'))
            continue;
        wrong = cl_check_safe_end(s, n, a, &skipped);
        if (wrong > 0 && t->vwrong < 10)
            print_message("%s: the lane moved a safe run's end at %zu: \"%.60s\"\n",
                          what, a, s + a);
        t->vwrong += (size_t)wrong;
        t->vskipped += skipped;
        t->vtried++;
    }
}

/* No lane changed anything, and (with lanes) they took their share: more
 * than 1/share of step 1's bytes, a quarter of the counts' bytes, and 16
 * bytes a safe run on average.  Not vacuous, then. */
static void report(const tally *t, size_t share)
{
    print_message("# %zu bytes, %zu skipped, %zu counted by blocks\n",
                  t->bytes, t->skipped, t->cskipped);
    print_message("# %zu safe runs, %zu bytes taken by blocks\n", t->vtried,
                  t->vskipped);
    assert_int_equal(t->wrong, 0);
    assert_int_equal(t->cwrong, 0);
    assert_int_equal(t->vwrong, 0);
#ifdef __SSE2__
    assert_true(t->skipped > t->bytes / share);
    assert_true(t->cskipped > t->bytes / 4);
    assert_true(t->vskipped > t->vtried * 16);
#else
    (void)share;
#endif
}

static void on_page(const char *path, const char *html, size_t n, void *arg)
{
    check(arg, path, html, n);
}

static void test_seeds_and_pages(void **st)
{
    (void)st;
    tally t = {0};
    assert_int_equal(each_seed(on_page, &t), 5);
    assert_true(each_page(on_page, &t) >= 40);
    report(&t, 2); /* pages: half the bytes at least */
}

static unsigned rnd(unsigned *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return *seed >> 16;
}

/* Hanzi text broken now and then by one of `odd`: characters the skip
 * takes (its punctuation, kana, tone marks, ASCII) and ones it must leave
 * to the byte loop, changed or not. */
static void test_random_texts(void **st)
{
    (void)st;
    static const char *const han[] = {"中", "国", "經", "济", "的", "一", "䷀", "鿿"};
    static const char *const odd[] = {
        "，", "。", "、", "“", "”", "‘", "’", "—", "…", "！", "？", "：", "；",
        "（", "）", "＠", "［", "〈", "》", "「", "】", "〔", "〟", "〠", "〃",
        "〄", "〒", "〓", "＃", "＋", "＇", "＂", "／", "．", "－", "―", "‖",
        "‚", "„", "•", "‧", "‰", "あ", "ア", "ǎ", "ì", "ü", "À", "ǿ", "a", "Z",
        "7", " ", "\n", "~", "\x7F", ",", ".", "!", "?", ";", ":", "\"", "'",
        "\xE4\xB7\x80", "\xE4\xB6\xBF", "\xE3\x90\x80", "\xE3\x80\x87",
        "<", ">", "&", "\xEF\xB7\x90", "\xEF\xB7\x91", "\xEF\xBF\xBE",
        "\xEE\x80\x80", "\xDF\xBF", "\xC2\x80", "\xE1\x80\x80",
        "\xEC\xBF\xBF", "\xED\x9F\xBF", "\xE0\xA0\x80", "\xC1\xBF",
        "\xE3\x80\x80", "\xEF\xBC\x90", "\xEF\xBC\x99", "\xEF\xBC\xA1",
        "\xEF\xBC\xBA", "\xEF\xBD\x81", "\xEF\xBC\x8D", "\xE2\x80\x8B",
        "\xE2\x80\x80", "\xE2\x80\x8F", "\xE2\x80\xA8", "\xE2\x80\xAF",
        "\xE2\x80\x93", "\xEF\xBF\xBF", "\xEF\xBB\xBF", "\xC2\xA0", "\xC2\xAD",
        "\xC2\xB7", "\xC8\x80", "\t", "\r", "\r\n", "\x01", "\xE4\xB8", "\xE3",
        "\xEF\xBC", "\xE2\x80", "\xC3", "\x80", "\xBF\xBF", "\xE0\x80\x80",
        "\xED\xA0\x80", "\xC0\xAF", "\xF0\x9F\x98\x80", "\xE2\xBC\x80",
        "\xEF\xA4\x80", "\xE9\xBF"};
    enum { NH = sizeof han / sizeof *han, NO = sizeof odd / sizeof *odd };
    static char buf[4096];
    unsigned seed = 2024;
    tally t = {0};
    for (int doc = 0; doc < 30000; doc++) {
        size_t len = 0;
        int chars = 1 + (int)(rnd(&seed) % 300);
        unsigned rate = (unsigned[]){1, 3, 10, 40}[rnd(&seed) % 4];
        for (int i = 0; i < chars; i++) {
            const char *c = rnd(&seed) % 100 < rate ? odd[rnd(&seed) % NO]
                                                   : han[rnd(&seed) % NH];
            size_t cl = strlen(c);
            memcpy(buf + len, c, cl);
            len += cl;
        }
        buf[len] = 0;
        check(&t, "random", buf, len);
    }
    report(&t, 3);
}

/* Every kind of character a block may end on, at every offset, before a
 * blank and a hanzi: the counts' gap rule reads the character before the
 * blank, which the byte loop gets from the lanes. */
static void test_block_edges(void **st)
{
    (void)st;
    static const char *const last[] = {"中", "ì", "ǜ", "a", ",", "，", "“", "。"};
    static const char *const blank[] = {" ", "\n", "\t", "\xE3\x80\x80"};
    static char buf[512];
    tally t = {0};
    for (int k = 0; k < 70; k++)
        for (size_t e = 0; e < sizeof last / sizeof *last; e++)
            for (size_t b = 0; b < sizeof blank / sizeof *blank; b++)
                for (int pad = 0; pad < 3; pad++) {
                    size_t n = 0;
                    for (int i = 0; i < pad; i++)
                        buf[n++] = 'x';
                    for (int i = 0; i < k; i++) /* 的: E7 9A 84 */
                        n += (size_t)sprintf(buf + n, "的");
                    n += (size_t)sprintf(buf + n, "%s%s中国的一经济中国的一经济中国的一经济",
                                         last[e], blank[b]);
                    check(&t, "edge", buf, n);
                }
    assert_int_equal(t.wrong, 0);
    assert_int_equal(t.cwrong, 0);
    assert_int_equal(t.vwrong, 0);
}

typedef struct remnants {
    cl_rules *r;
    long wrong, found;
} remnants;

static void check_remnants(remnants *t, const char *what, const char *s,
                           size_t n)
{
    long found = 0, wrong;
    if (!valid_utf8(s, n))
        return;
    wrong = cl_check_remnants(t->r, s, n, &found);
    assert_true(wrong >= 0);
    if (wrong > 0 && t->wrong < 10)
        print_message("%s: the remnant search by '>' differs: \"%.80s\"\n",
                      what, s);
    t->wrong += wrong;
    t->found += found;
}

static void on_remnant_page(const char *path, const char *html, size_t n,
                            void *arg)
{
    check_remnants(arg, path, html, n);
}

/* Step 2's tag remnants, looked for '>' by '>' from as far back as a match
 * may start (remnant_reach), against one search through the whole text:
 * the seeds, the corpora pages (as UTF-8 text, tags and all), remnants
 * with attributes of 195 to 205 characters and blank runs of every kind
 * before their "/>", and random texts of names, '>', '/', '?', blanks
 * PCRE2 counts as \s (and ones it does not) and hanzi. */
static void test_remnant_windows(void **st)
{
    (void)st;
    static const char *const tok[] = {
        "中", "的", "?!?", "?", "!", "br", "p", "hr", "img", "/p>", "/div>",
        "/span>", "/figcaption>", "/h3>", "br/>", "br>", "<br/>", ">", "/",
        "<", "=", "\"", "'", "a", "b", "x", " ", "\t", "\n", "\r",
        "\xE3\x80\x80", "\xC2\xA0", "\xE2\x80\xA8", "\xE1\xA0\x8E",
        "\xC2\x85", "\xE2\x80\x8B", "\xE2\x80\x89", " src=\"x.jpg\"", "—",
        "。", "“"};
    static const char *const blanks[] = {"", " ", "\t\n", "\xE3\x80\x80",
                                         "\xC2\xA0\xE2\x80\xA8 ", "\xE2\x80\x8B"};
    enum { NT = sizeof tok / sizeof *tok };
    static char buf[8192];
    char *err = NULL;
    remnants t = {cl_rules_create(NULL, 0, &err), 0, 0};
    unsigned seed = 77;
    assert_non_null(t.r);
    assert_int_equal(each_seed(on_remnant_page, &t), 5);
    assert_true(each_page(on_remnant_page, &t) >= 40);
    for (int len = 195; len <= 205; len++)
        for (size_t b = 0; b < sizeof blanks / sizeof *blanks; b++)
            for (int run = 0; run < 3; run++) {
                size_t n = (size_t)sprintf(buf, "中?!?img ");
                for (int i = 0; i < len; i++)
                    n += (size_t)sprintf(buf + n, i % 3 ? "y" : "的");
                for (int i = 0; i < run * 150; i++)
                    n += (size_t)sprintf(buf + n, "%s", blanks[b]);
                n += (size_t)sprintf(buf + n, "/>中 br/> p>");
                check_remnants(&t, "edge", buf, n);
            }
    for (int doc = 0; doc < 20000; doc++) {
        size_t n = 0;
        int toks = 1 + (int)(rnd(&seed) % 120);
        for (int i = 0; i < toks && n < sizeof buf - 600; i++) {
            const char *c = tok[rnd(&seed) % NT];
            int times = rnd(&seed) % 40 ? 1 : (int)(rnd(&seed) % 250);
            for (int k = 0; k < times; k++)
                n += (size_t)sprintf(buf + n, "%s", c);
        }
        buf[n] = 0;
        check_remnants(&t, "random", buf, n);
    }
    print_message("# %ld remnants found\n", t.found);
    assert_int_equal(t.wrong, 0);
    assert_true(t.found > 20000); /* not vacuous */
    cl_rules_destroy(t.r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seeds_and_pages),
        cmocka_unit_test(test_random_texts),
        cmocka_unit_test(test_block_edges),
        cmocka_unit_test(test_remnant_windows),
#ifdef __SSE2__
        cmocka_unit_test_setup_teardown(test_block_edges, lanes_sse2_only, lanes_any_width),
        cmocka_unit_test_setup_teardown(test_seeds_and_pages, lanes_sse2_only, lanes_any_width),
        cmocka_unit_test_setup_teardown(test_random_texts, lanes_sse2_only, lanes_any_width),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
