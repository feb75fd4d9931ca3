/*
 * test_pinyin.c - the hand-written pinyin matcher (cl_pinyin_at) against
 * the patterns that define it (cl_rx_pinyin_han, cl_rx_pinyin_any, run by
 * PCRE2 anchored at each position): same verdict and same end at every
 * character boundary of the seeds, the corpora pages and random texts
 * drawn from the characters the patterns turn on.
 */
#include "clean_test.h" /* before cmocka.h: its fail() macro */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "clean.h"

typedef struct oracle {
    cl_rules *rules;
    pcre2_code *re[2]; /* han, any */
    pcre2_match_data *md;
    size_t positions, matches[2], mismatches;
} oracle;

static pcre2_code *compile(const char *pat)
{
    int code;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF | PCRE2_UCP | PCRE2_ANCHORED,
                                   &code, &off, NULL);
    assert_non_null(re);
    return re;
}

static void oracle_init(oracle *o)
{
    char *err = NULL;
    memset(o, 0, sizeof *o);
    o->rules = cl_rules_create(NULL, 0, &err);
    assert_non_null(o->rules);
    o->re[0] = compile(cl_rx_pinyin_han);
    o->re[1] = compile(cl_rx_pinyin_any);
    o->md = pcre2_match_data_create(4, NULL);
}

static void oracle_free(oracle *o)
{
    pcre2_code_free(o->re[0]);
    pcre2_code_free(o->re[1]);
    pcre2_match_data_free(o->md);
    cl_rules_destroy(o->rules);
}

/* Compares the two at every character boundary of s (valid UTF-8: the
 * callers check). */
static void compare_all(oracle *o, const char *what, const char *s, size_t n)
{
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(o->md);
    for (size_t p = 0; p < n; p++) {
        if (((unsigned char)s[p] & 0xC0) == 0x80)
            continue;
        o->positions++;
        for (int any = 0; any < 2; any++) {
            size_t end = 0;
            int got = cl_pinyin_at(o->rules, s, n, p, any, &end);
            /* s is checked once by the caller: PCRE2 would check all
             * of it again at every call */
            int want = pcre2_match(o->re[any], (PCRE2_SPTR)s, n, p,
                                   PCRE2_NO_UTF_CHECK, o->md, NULL) >= 0;
            o->matches[any] += (size_t)want;
            if (got != want || (want && end != ov[1])) {
                if (o->mismatches++ < 10)
                    print_message("%s: offset %zu (%s): matcher %d end %zu, "
                                  "pattern %d end %zu: \"%.40s\"\n",
                                  what, p, any ? "any" : "han", got, end,
                                  want, want ? (size_t)ov[1] : 0, s + p);
            }
        }
    }
}

static void on_seed(const char *path, const char *text, size_t n, void *arg)
{
    assert_true(valid_utf8(text, n));
    compare_all(arg, path, text, n);
}

static void on_page(const char *path, const char *html, size_t n, void *arg)
{
    if (valid_utf8(html, n)) /* the stage sees decoded text only */
        compare_all(arg, path, html, n);
}

static void test_seeds_and_pages(void **st)
{
    (void)st;
    oracle o;
    oracle_init(&o);
    assert_int_equal(each_seed(on_seed, &o), 5);
    size_t seed_matches = o.matches[0];
    assert_true(each_page(on_page, &o) >= 40);
    print_message("# %zu positions, %zu han and %zu any matches (%zu in the "
                  "seeds)\n", o.positions, o.matches[0], o.matches[1],
                  seed_matches);
    /* the seeds are full of annotations: the comparison is not vacuous */
    assert_true(seed_matches >= 100);
    assert_int_equal(o.mismatches, 0);
    oracle_free(&o);
}

static unsigned rnd(unsigned *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return *seed >> 16;
}

/* Random texts over the characters the patterns turn on: brackets of both
 * widths, '?', letters in and out of the sets (upper case, ü, toned and
 * look-alike vowels), hanzi of several blocks and scripts beside them. */
static void test_random_texts(void **st)
{
    (void)st;
    static const char *const alphabet[] = {
        "(", ")", "（", "）", "?", "ü", "Ü", "A", "B", "ê", "ñ", "ä", "ő", "ɑ",
        "中", "對", "丂", "龥", "鿿", "㐀", "々", "〇", "〆", "⺮", "⼊", "豈",
        "𠀀", "𪚥", "ㄅ", "あ", "한", " ", "1", "\n", "，", "。", "Ω", "x",
    };
    static const char *const plain[] = {"a", "e", "i", "n", "g", "z", "ü"};
    static const char *const toned[] = {
        "ā", "á", "ǎ", "à", "ē", "é", "ě", "è", "ī", "í", "ǐ", "ì",
        "ō", "ó", "ǒ", "ò", "ū", "ú", "ǔ", "ù", "ǖ", "ǘ", "ǚ", "ǜ",
    };
    enum { NA = sizeof alphabet / sizeof *alphabet, NP = 7, NT = 24 };
    oracle o;
    char buf[512];
    unsigned seed = 12345;
    oracle_init(&o);
    /* Each text: up to four candidates, each a character, an opening
     * bracket (or not), 0-12 letters and a closing bracket (or not), so
     * that near misses of every kind come up.  A candidate's share of
     * toned letters is 10, 35 or 70%, for long untoned heads and tails. */
    for (int t = 0; t < 40000; t++) {
        size_t len = 0;
        int parts = 1 + (int)(rnd(&seed) % 4);
        for (int i = 0; i < parts; i++) {
            const char *c[16];
            int k = 0, letters = (int)(rnd(&seed) % 13);
            unsigned pct = (unsigned[]){10, 35, 70}[rnd(&seed) % 3];
            c[k++] = alphabet[rnd(&seed) % NA];
            c[k++] = rnd(&seed) % 5 ? alphabet[rnd(&seed) % 5] : alphabet[rnd(&seed) % NA];
            for (int j = 0; j < letters; j++)
                c[k++] = rnd(&seed) % 10 == 0 ? alphabet[rnd(&seed) % NA]
                         : rnd(&seed) % 100 < pct ? toned[rnd(&seed) % NT]
                                                  : plain[rnd(&seed) % NP];
            c[k++] = rnd(&seed) % 4 ? alphabet[1 + rnd(&seed) % 3 / 2 * 2]
                                    : alphabet[rnd(&seed) % NA];
            for (int j = 0; j < k; j++) {
                size_t cl = strlen(c[j]);
                memcpy(buf + len, c[j], cl);
                len += cl;
            }
        }
        buf[len] = 0;
        assert_true(valid_utf8(buf, len));
        compare_all(&o, "random", buf, len);
    }
    print_message("# %zu positions, %zu han and %zu any matches\n",
                  o.positions, o.matches[0], o.matches[1]);
    assert_true(o.matches[0] >= 200 && o.matches[1] >= 1000);
    assert_int_equal(o.mismatches, 0);
    oracle_free(&o);
}

/* Annotations in s (after hanzi, or anywhere when `any`), leftmost first
 * and not overlapping, found by asking cl_pinyin_at at every character
 * boundary. */
static int count_by_position(oracle *o, const char *s, size_t n, int any)
{
    int count = 0;
    for (size_t p = 0; p < n;) {
        size_t end = 0;
        if (cl_pinyin_at(o->rules, s, n, p, any, &end)) {
            count++;
            p = end;
            continue;
        }
        do
            p++;
        while (p < n && ((unsigned char)s[p] & 0xC0) == 0x80);
    }
    return count;
}

/* The cursor that offers cl_pinyin_at its candidates (a '(', "（" or
 * '?') misses none: cl_count_pinyin equals the count by position, in both
 * modes, on random texts thick with full-width punctuation and with
 * characters whose last byte is that of "（" (丈 E4 B8 88, ｈ EF BD 88). */
static void test_cursor(void **st)
{
    (void)st;
    static const char *const alphabet[] = {
        "(", ")", "（", "）", "，", "：", "丈", "ｈ", "舀", "中", "對", "ā",
        "ǎ", "n", "g", "a", "o", " ", "?"};
    enum { NA = sizeof alphabet / sizeof *alphabet };
    oracle o;
    char buf[1024];
    unsigned seed = 777;
    long found = 0;
    oracle_init(&o);
    for (int t = 0; t < 30000; t++) {
        size_t len = 0;
        int pieces = 1 + (int)(rnd(&seed) % 30);
        for (int i = 0; i < pieces; i++) {
            const char *c[4] = {alphabet[rnd(&seed) % NA], "", "", ""};
            if (rnd(&seed) % 3 == 0) { /* a candidate, whole or broken */
                static const char *const syl[] = {"zhōng", "duì", "ǎn", "yàn", "qu"};
                c[0] = rnd(&seed) % 4 ? alphabet[6 + rnd(&seed) % 4] : alphabet[rnd(&seed) % NA];
                c[1] = rnd(&seed) % 2 ? "（" : "(";
                c[2] = syl[rnd(&seed) % 5];
                c[3] = rnd(&seed) % 5 ? (rnd(&seed) % 2 ? "）" : ")") : alphabet[rnd(&seed) % NA];
            }
            for (int k = 0; k < 4; k++) {
                memcpy(buf + len, c[k], strlen(c[k]));
                len += strlen(c[k]);
            }
        }
        buf[len] = 0;
        for (int any = 0; any < 2; any++) {
            int want = count_by_position(&o, buf, len, any);
            found += want;
            if (cl_count_pinyin(o.rules, buf, len, any) != want)
                fail_msg("cursor count %d (any %d), by position %d: \"%s\"",
                         cl_count_pinyin(o.rules, buf, len, any), any, want,
                         buf);
        }
    }
    print_message("# %ld annotations\n", found);
    assert_true(found >= 1000);
    oracle_free(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seeds_and_pages),
        cmocka_unit_test(test_random_texts),
        cmocka_unit_test(test_cursor),
#ifdef __SSE2__
        cmocka_unit_test_setup_teardown(test_cursor, lanes_sse2_only, lanes_any_width),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
