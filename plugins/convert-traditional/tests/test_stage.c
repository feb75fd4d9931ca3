/*
 * test_stage.c - the convert-traditional stage through the harness:
 * options, which fields change, convert_config, auto mode, user
 * dictionaries, invalid UTF-8, empty and large records.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h" /* before cmocka.h, whose fail() is a macro */

#include <cmocka.h>

static tj_harness *make(const char *const *opts)
{
    char *err = NULL;
    tj_harness *h = tj_harness_new(taojin_stage_entry(tj__host_api()), opts,
                                   &err);
    if (!h)
        fprintf(stderr, "# %s\n", err ? err : "?");
    free(err);
    assert_non_null(h);
    return h;
}

/* Runs one record through h and returns the emitted one. */
static tj_record *run(tj_harness *h, tj_record *r)
{
    assert_int_equal(tj_harness_process(h, r), 0);
    tj_record *o = tj_harness_next(h);
    assert_non_null(o);
    return o;
}

static const char *get(const tj_record *r, const char *name)
{
    size_t n;
    const char *v = tj_record_get(r, name, &n);
    return v ? v : "(absent)";
}

static void test_t2s_default_fields(void **state)
{
    const char *opts[] = {"config=t2s", NULL};
    tj_harness *h = make(opts);
    tj_record *r = tj_record_new();
    (void)state;
    tj_record_set_str(r, "body", "憂鬱的臺灣烏龜");
    tj_record_set_str(r, "title", "漢字");
    tj_record_set_str(r, "url", "http://example.com/漢字");
    tj_record_set_str(r, "charset", "漢");
    tj_record_set_int(r, "status", 200);
    tj_record_set_json(r, "page", "{\"title\":\"臺灣\",\"h1\":[\"漢字\"]}",
                       strlen("{\"title\":\"臺灣\",\"h1\":[\"漢字\"]}"));
    tj_record *o = run(h, r);
    assert_string_equal(get(o, "body"), "忧郁的台湾乌龟");
    assert_string_equal(get(o, "title"), "汉字");
    assert_string_equal(get(o, "url"), "http://example.com/漢字");
    assert_string_equal(get(o, "charset"), "漢");
    assert_string_equal(get(o, "page"), "{\"title\":\"台湾\",\"h1\":[\"汉字\"]}");
    assert_string_equal(get(o, "convert_config"), "t2s");
    int64_t st = 0;
    assert_int_equal(tj_record_get_int(o, "status", &st), 0);
    assert_int_equal(st, 200);
    assert_int_equal(tj_harness_counter(h, "fields_changed"), 3);
    tj_record_free(o);
    tj_harness_free(h);
}

static void test_fields_option(void **state)
{
    const char *opts[] = {"config=s2t", "fields=[title, url]", NULL};
    tj_harness *h = make(opts);
    tj_record *r = tj_record_new();
    (void)state;
    tj_record_set_str(r, "body", "汉字");
    tj_record_set_str(r, "title", "汉字");
    tj_record_set_str(r, "url", "汉字");
    tj_record *o = run(h, r);
    assert_string_equal(get(o, "body"), "汉字");
    assert_string_equal(get(o, "title"), "漢字");
    assert_string_equal(get(o, "url"), "漢字");
    tj_record_free(o);
    tj_harness_free(h);
}

static void test_auto(void **state)
{
    const char *opts[] = {NULL}; /* config defaults to auto */
    tj_harness *h = make(opts);
    tj_record *r = tj_record_new();
    (void)state;
    /* Mixed: Taiwan-style Traditional around Simplified 那么. */
    tj_record_set_str(r, "body", "隨著臺灣的發展，那么裡面");
    tj_record *o = run(h, r);
    assert_string_equal(get(o, "convert_config"), "tw2s");
    assert_string_equal(get(o, "body"), "随着台湾的发展，那么里面");
    tj_record_free(o);

    r = tj_record_new();
    tj_record_set_str(r, "body", "随着台湾的发展，那么");
    o = run(h, r);
    assert_string_equal(get(o, "convert_config"), "none");
    assert_string_equal(get(o, "body"), "随着台湾的发展，那么");
    tj_record_free(o);

    r = tj_record_new();
    tj_record_set_str(r, "body", "衞生署説明");
    o = run(h, r);
    assert_string_equal(get(o, "convert_config"), "hk2s");
    assert_string_equal(get(o, "body"), "卫生署说明");
    tj_record_free(o);
    assert_int_equal(tj_harness_counter(h, "auto_tw2s"), 1);
    assert_int_equal(tj_harness_counter(h, "auto_none"), 1);
    assert_int_equal(tj_harness_counter(h, "auto_hk2s"), 1);
    tj_harness_free(h);
}

static void test_user_dict(void **state)
{
    char path[] = "/tmp/tc_ud_XXXXXX";
    int fd = mkstemp(path);
    const char dict[] = "昇騰\t昇騰\n";
    char opt[128];
    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, dict, sizeof dict - 1), sizeof dict - 1);
    close(fd);
    snprintf(opt, sizeof opt, "user_dict=%s", path);
    const char *opts[] = {"config=t2s", opt, NULL};
    tj_harness *h = make(opts);
    tj_record *r = tj_record_new();
    tj_record_set_str(r, "body", "華為昇騰芯片");
    tj_record *o = run(h, r);
    assert_string_equal(get(o, "body"), "华为昇騰芯片");
    tj_record_free(o);
    tj_harness_free(h);
    remove(path);
}

static void test_bad_options(void **state)
{
    char *err = NULL;
    const tj_stage_desc *d = taojin_stage_entry(tj__host_api());
    const char *bad_cfg[] = {"config=x2y", NULL};
    const char *bad_dict[] = {"user_dict=/nonexistent/dict.txt", NULL};
    (void)state;
    assert_null(tj_harness_new(d, bad_cfg, &err));
    assert_non_null(err);
    assert_non_null(strstr(err, "x2y"));
    free(err);
    err = NULL;
    assert_null(tj_harness_new(d, bad_dict, &err));
    assert_non_null(err);
    assert_non_null(strstr(err, "/nonexistent/dict.txt"));
    free(err);
}

static void test_invalid_and_empty(void **state)
{
    const char *opts[] = {"config=t2s", NULL};
    tj_harness *h = make(opts);
    tj_record *r = tj_record_new();
    size_t n;
    (void)state;
    tj_record_set(r, "body", "\xff\xe6\xbc\xa2\xc0", 5);
    tj_record_set(r, "title", "", 0);
    tj_record *o = run(h, r);
    const char *b = tj_record_get(o, "body", &n);
    assert_int_equal(n, 5);
    assert_memory_equal(b, "\xff\xe6\xb1\x89\xc0", 5);
    assert_string_equal(get(o, "title"), "");
    assert_int_equal(tj_harness_counter(h, "invalid_utf8"), 2);
    tj_record_free(o);
    /* A record with no text at all still gets convert_config. */
    r = tj_record_new();
    o = run(h, r);
    assert_string_equal(get(o, "convert_config"), "t2s");
    tj_record_free(o);
    tj_harness_free(h);
}

static void test_large_record(void **state)
{
    const char *opts[] = {"config=t2s", NULL};
    tj_harness *h = make(opts);
    size_t reps = getenv("TJ_SANITIZED") ? 100000 : 2000000, n;
    const char unit[] = "臺灣";
    char *big = malloc(reps * 6);
    (void)state;
    assert_non_null(big);
    for (size_t i = 0; i < reps; i++)
        memcpy(big + i * 6, unit, 6);
    tj_record *r = tj_record_new();
    assert_int_equal(tj_record_set(r, "body", big, reps * 6), 0);
    free(big);
    tj_record *o = run(h, r);
    const char *b = tj_record_get(o, "body", &n);
    assert_int_equal(n, reps * 6);
    assert_memory_equal(b + n - 6, "台湾", 6);
    tj_record_free(o);
    tj_harness_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_t2s_default_fields),
        cmocka_unit_test(test_fields_option),
        cmocka_unit_test(test_auto),
        cmocka_unit_test(test_user_dict),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_invalid_and_empty),
        cmocka_unit_test(test_large_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
