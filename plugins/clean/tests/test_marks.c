/*
 * test_marks.c - the line pass skips the mojibake marker on lines whose
 * characters it can only leave unmarked (may_mark in text.c).  Checked
 * against the marker itself, line by line: on the seeds, the corpora pages
 * and random texts in simplified, traditional and mixed script, drawn from
 * the characters the marker looks at.
 */
#include "clean_test.h" /* before cmocka.h: its fail() macro */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "clean.h"

typedef struct tally {
    cl_rules *rules;
    size_t lines, skipped, wrong;
} tally;

static void check(tally *t, const char *what, const char *s, size_t n)
{
    size_t skipped = 0, lines = 0;
    long wrong = cl_check_mark_skips(t->rules, s, n, &skipped, &lines);
    assert_true(wrong >= 0);
    assert_int_equal(cl_check_survey(t->rules, s, n), 0);
    if (wrong > 0 && t->wrong < 10)
        print_message("%s: %ld lines skipped but marked: \"%.60s\"\n", what,
                      wrong, s);
    t->wrong += (size_t)wrong;
    t->skipped += skipped;
    t->lines += lines;
}

static void on_page(const char *path, const char *html, size_t n, void *arg)
{
    check(arg, path, html, n);
}

static void test_seeds_and_pages(void **st)
{
    (void)st;
    char *err = NULL;
    tally t = {cl_rules_create(NULL, 0, &err), 0, 0, 0};
    assert_non_null(t.rules);
    assert_int_equal(each_seed(on_page, &t), 5);
    assert_true(each_page(on_page, &t) >= 40);
    print_message("# %zu lines, %zu skipped\n", t.lines, t.skipped);
    assert_true(t.skipped >= 100 && t.skipped < t.lines);
    assert_int_equal(t.wrong, 0);
    cl_rules_destroy(t.rules);
}

static unsigned rnd(unsigned *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return *seed >> 16;
}

/* Random documents: a script (simplified-only hanzi, traditional-only
 * hanzi or both in turn, enough of them for the survey to decide) plus
 * lines mixing hanzi of every commonness with the characters the marker
 * judges by their neighbours: letters, '?', '_', digits, punctuation it
 * decides itself and characters it hands to mark_of. */
static void test_random_texts(void **st)
{
    (void)st;
    static const char *const gb[] = {"这", "说", "们", "国", "会", "时", "发", "经"};
    static const char *const b5[] = {"這", "說", "們", "國", "會", "時", "發", "經"};
    static const char *const mix[] = {
        "中", "人", "大", "的", "在", "丂", "龥", "䶮", "㐀", "䷀", "〇", "豈",
        "𠀀", "氕", "锂", "鿿", "a", "Z", "q", "?", "_", "1", " ", "，", "。",
        "、", "“", "”", "—", "…", "‰", "＋", "Ａ", "ｱ", "あ", "é", "×", "·",
        "\xEF\xBF\xBD", "\xEE\x80\x80", "(", ")", "%", "\n"};
    enum { NG = 8, NM = sizeof mix / sizeof *mix };
    char *err = NULL;
    tally t = {cl_rules_create(NULL, 0, &err), 0, 0, 0};
    static char buf[8192];
    unsigned seed = 4242;
    assert_non_null(t.rules);
    for (int doc = 0; doc < 20000; doc++) {
        size_t len = 0;
        int script = doc % 3, chars = 40 + (int)(rnd(&seed) % 400);
        /* a share of characters from the odd mix; lines of ~30 */
        unsigned odd = (unsigned[]){0, 1, 4, 20}[rnd(&seed) % 4];
        for (int i = 0; i < chars; i++) {
            const char *c;
            if (rnd(&seed) % 30 == 0)
                c = "\n";
            else if (rnd(&seed) % 100 < odd)
                c = mix[rnd(&seed) % NM];
            else if (script == 0 || (script == 2 && rnd(&seed) % 2))
                c = gb[rnd(&seed) % NG];
            else
                c = b5[rnd(&seed) % NG];
            size_t cl = strlen(c);
            memcpy(buf + len, c, cl);
            len += cl;
        }
        buf[len] = 0;
        check(&t, "random", buf, len);
    }
    print_message("# %zu lines, %zu skipped\n", t.lines, t.skipped);
    /* both verdicts come up often: the comparison is not vacuous */
    assert_true(t.skipped >= 50000 && t.lines - t.skipped >= 50000);
    assert_int_equal(t.wrong, 0);
    cl_rules_destroy(t.rules);
}

/* The survey counts a run of hanzi in a register, twelve bits a class,
 * added up every 4095 characters: runs far longer than that, of hanzi of
 * every class, count as character by character. */
static void test_long_runs(void **st)
{
    (void)st;
    /* all of lead E4..E9: one run */
    static const char *const han[] = {"这", "這", "中", "丂", "龥", "䷀", "的"};
    static char buf[3 * 20000 + 64];
    char *err = NULL;
    cl_rules *r = cl_rules_create(NULL, 0, &err);
    unsigned seed = 99;
    assert_non_null(r);
    for (int len = 4090; len < 20000; len += 4093) {
        size_t n = 0;
        for (int i = 0; i < len; i++) {
            const char *c = han[rnd(&seed) % 7];
            memcpy(buf + n, c, strlen(c));
            n += strlen(c);
        }
        assert_int_equal(cl_check_survey(r, buf, n), 0);
    }
    cl_rules_destroy(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seeds_and_pages),
        cmocka_unit_test(test_random_texts),
        cmocka_unit_test(test_long_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
