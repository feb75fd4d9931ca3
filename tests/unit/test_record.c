/* Records: typed fields, replacement, deletion, clones and acks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

static void test_fields(void **st)
{
    tj_record *r = tj__record_new();
    assert_int_equal(tj__record_set_bytes(r, "body", "abc", 3), 0);
    assert_int_equal(tj__record_set_int(r, "status", 404), 0);
    assert_int_equal(tj__record_set_double(r, "score", 0.5), 0);
    assert_int_equal(tj__record_set_json(r, "page", "{\"a\":[1,2]}", 11), 0);
    assert_int_equal(tj__record_set_json(r, "bad", "{\"a\":", 5), TJ_EPARSE);
    assert_int_equal(tj__record_set_json(r, "bad", "1 2", 3), TJ_EPARSE);
    size_t len;
    assert_string_equal(tj__record_get(r, "body", &len), "abc");
    assert_int_equal(len, 3);
    int64_t i;
    assert_int_equal(tj__record_get_int(r, "status", &i), 0);
    assert_int_equal(i, 404);
    assert_int_equal(tj__record_get_int(r, "body", &i), TJ_ETYPE);
    assert_int_equal(tj__record_get_int(r, "nope", &i), TJ_ENOENT);
    assert_int_equal(tj__record_type(r, "page"), TJ_FIELD_JSON);
    assert_null(tj__record_get(r, "status", &len));
    /* replacing with a value that aliases the old one */
    const char *old = tj__record_get(r, "body", &len);
    assert_int_equal(tj__record_set_bytes(r, "body", old + 1, 2), 0);
    assert_string_equal(tj__record_get(r, "body", NULL), "bc");
    assert_int_equal(tj__record_count(r), 4);
    assert_int_equal(tj__record_del(r, "status"), 0);
    assert_int_equal(tj__record_del(r, "status"), TJ_ENOENT);
    tj_field_type t;
    assert_string_equal(tj__record_field_at(r, 1, &t), "score");
    assert_int_equal(t, TJ_FIELD_DOUBLE);
    assert_null(tj__record_field_at(r, 3, &t));
    tj__record_free(r);
}

/* Names of 1 to 40 bytes, around the 24-byte inline limit: each is found
 * again, listed as written, replaced in place, and freed (ASan checks the
 * heap-held ones are released). */
static void test_name_lengths(void **st)
{
    tj_record *r = tj__record_new();
    char names[40][41];
    for (int k = 0; k < 40; k++) {
        for (int j = 0; j <= k; j++)
            names[k][j] = (char)('a' + (k + j) % 26);
        names[k][k + 1] = 0;
        assert_int_equal(tj__record_set_int(r, names[k], k), 0);
    }
    for (int k = 0; k < 40; k++) {
        int64_t v = -1;
        tj_field_type t;
        assert_int_equal(tj__record_get_int(r, names[k], &v), 0);
        assert_int_equal(v, k);
        assert_string_equal(tj__record_field_at(r, (size_t)k, &t), names[k]);
        assert_int_equal(tj__record_set_int(r, names[k], -k), 0);
    }
    assert_int_equal(tj__record_count(r), 40);
    int64_t v = 0;
    assert_int_equal(tj__record_get_int(r, names[23], &v), 0); /* 24 bytes */
    assert_int_equal(v, -23);
    tj__record_free(r);
}

static void test_pointers_stay_valid(void **st)
{
    tj_record *r = tj__record_new();
    tj__record_set_bytes(r, "short", "abc", 3);
    tj__record_set_bytes(r, "a_field_name_longer_than_inline", "0123456789abcdefXYZ", 19);
    const char *s1 = tj__record_get(r, "short", NULL);
    const char *s2 = tj__record_get(r, "a_field_name_longer_than_inline", NULL);
    char name[32];
    for (int i = 0; i < 40; i++) { /* several chunks */
        snprintf(name, sizeof name, "f%d", i);
        tj__record_set_int(r, name, i);
    }
    tj__record_del(r, "f3");
    assert_string_equal(s1, "abc");
    assert_string_equal(s2, "0123456789abcdefXYZ");
    assert_int_equal(tj__record_count(r), 41);
    tj_field_type t;
    assert_string_equal(tj__record_field_at(r, 1, &t), "a_field_name_longer_than_inline");
    assert_string_equal(tj__record_field_at(r, 5, &t), "f4"); /* f3 skipped */
    int64_t v;
    assert_int_equal(tj__record_get_int(r, "f39", &v), 0);
    assert_int_equal(v, 39);
    tj_record *c = tj__record_clone(r);
    assert_int_equal(tj__record_count(c), 41);
    assert_string_equal(tj__record_get(c, "a_field_name_longer_than_inline", NULL),
                        "0123456789abcdefXYZ");
    assert_int_equal(tj__record_get_int(c, "f38", &v), 0);
    assert_int_equal(v, 38);
    assert_int_equal(tj__record_bytes(c), 22);
    tj__record_free(c);
    tj__record_free(r);
}

/* Recycled shells: records of 1, 8, 9 and 40 fields (one chunk, a full
 * one, one more, several) made and freed in turn, so each shell is reused
 * after records of every size; every field reads back, and a shell that
 * kept a freed chunk would be freed twice (glibc aborts). */
static void test_shell_reuse(void **st)
{
    static const int sizes[] = {1, 9, 40, 8, 1, 40, 9, 2};
    char name[16];
    (void)st;
    for (int round = 0; round < 300; round++) {
        int n = sizes[round % 8];
        tj_record *r = tj__record_new();
        for (int i = 0; i < n; i++) {
            snprintf(name, sizeof name, "f%d", i);
            assert_int_equal(tj__record_set_int(r, name, round * 100 + i), 0);
        }
        assert_int_equal(tj__record_count(r), n);
        for (int i = 0; i < n; i++) {
            int64_t v = -1;
            snprintf(name, sizeof name, "f%d", i);
            assert_int_equal(tj__record_get_int(r, name, &v), 0);
            assert_int_equal(v, round * 100 + i);
        }
        snprintf(name, sizeof name, "f%d", n);
        assert_null(tj__record_get(r, name, NULL));
        tj__record_free(r);
    }
}

/* Values over TJ_FIELD_MAX_LEN are refused before a byte is read (a taken
 * buffer is freed, not written past); numbers under long names survive a
 * clone and a delete leaves the name free for reuse. */
static void test_limits_and_long_names(void **st)
{
    (void)st;
    tj_record *r = tj__record_new();
#if SIZE_MAX > 0xFFFFFFFFu
    size_t huge = (size_t)TJ_FIELD_MAX_LEN + 1;
    assert_int_equal(tj__record_set_bytes(r, "big", "x", huge), TJ_EINVAL);
    assert_int_equal(tj__record_take_bytes(r, "big", malloc(8), huge), TJ_EINVAL);
    assert_int_equal(tj__record_count(r), 0);
#endif
    const char *ln = "a_number_under_a_name_of_40_bytes_______";
    assert_int_equal(tj__record_set_double(r, ln, 2.5), 0);
    assert_int_equal(tj__record_set_int(r, "a_second_name_longer_than_24", 7), 0);
    tj_record *c = tj__record_clone(r);
    double d = 0;
    int64_t v = 0;
    assert_int_equal(tj__record_get_double(c, ln, &d), 0);
    assert_true(d == 2.5);
    assert_int_equal(tj__record_get_int(c, "a_second_name_longer_than_24", &v), 0);
    assert_int_equal(v, 7);
    tj_field_type t;
    assert_string_equal(tj__record_field_at(c, 0, &t), ln);
    assert_int_equal(t, TJ_FIELD_DOUBLE);
    assert_int_equal(tj__record_del(r, ln), 0);
    assert_int_equal(tj__record_count(r), 1);
    assert_int_equal(tj__record_set_bytes(r, ln, "again", 5), 0);
    assert_string_equal(tj__record_get(r, ln, NULL), "again");
    assert_string_equal(tj__record_field_at(r, 1, &t), ln);
    tj__record_free(c);
    tj__record_free(r);
}

/* A clone holds every live field of its original, in order, with the same
 * type, value and byte count, and owns its copies: deleted slots (one in
 * each of three chunks), heap and inline names and values, a taken short
 * buffer, JSON, numbers.  The original is changed and freed before the
 * clone is read (ASan reports a shared buffer). */
static void test_clone_copies_fields(void **st)
{
    (void)st;
    tj_record *r = tj__record_new();
    char name[48], val[64];
    for (int i = 0; i < 22; i++) {
        snprintf(name, sizeof name, i % 5 ? "f%d" : "a_long_field_name_number_%d", i);
        snprintf(val, sizeof val, i % 2 ? "v%d" : "a value longer than inline %d", i);
        if (i % 7 == 3)
            assert_int_equal(tj__record_set_int(r, name, -i), 0);
        else if (i % 7 == 4)
            assert_int_equal(tj__record_set_double(r, name, i + 0.5), 0);
        else if (i % 7 == 5)
            assert_int_equal(tj__record_set_json(r, name, "[1,{\"k\":2}]", 11), 0);
        else
            assert_int_equal(tj__record_set_bytes(r, name, val, strlen(val)), 0);
    }
    assert_int_equal(tj__record_take_bytes(r, "taken", strdup("ab"), 2), 0);
    assert_int_equal(tj__record_del(r, "f2"), 0);
    assert_int_equal(tj__record_del(r, "f9"), 0);
    assert_int_equal(tj__record_del(r, "a_long_field_name_number_20"), 0);
    tj_record *c = tj__record_clone(r);
    assert_non_null(c);
    assert_int_equal(tj__record_count(c), tj__record_count(r));
    assert_int_equal(tj__record_count(c), 20);
    assert_int_equal(tj__record_bytes(c), tj__record_bytes(r));
    tj_buf want = {0}, got = {0};
    assert_int_equal(tj__record_to_json(r, &want), 0);
    assert_int_equal(tj__record_to_json(c, &got), 0);
    assert_string_equal(got.data, want.data);
    for (size_t i = 0; i < tj__record_count(r); i++) {
        tj_field_type t1, t2;
        assert_string_equal(tj__record_field_at(c, i, &t2),
                            tj__record_field_at(r, i, &t1));
        assert_int_equal(t2, t1);
    }
    /* the original changes and goes; the clone keeps its own copies */
    assert_int_equal(tj__record_set_bytes(r, "f1", "changed", 7), 0);
    tj__record_free(r);
    assert_string_equal(tj__record_get(c, "f1", NULL), "v1");
    assert_string_equal(tj__record_get(c, "taken", NULL), "ab");
    assert_string_equal(tj__record_get(c, "a_long_field_name_number_0", NULL),
                        "a value longer than inline 0");
    assert_int_equal(tj__record_type(c, "f12"), TJ_FIELD_JSON);
    assert_null(tj__record_get(c, "f9", NULL));
    /* the clone takes new fields after its last chunk */
    assert_int_equal(tj__record_set_bytes(c, "later", "x", 1), 0);
    assert_string_equal(tj__record_field_at(c, 20, NULL), "later");
    assert_int_equal(tj__record_set_bytes(c, "f1", "v1 again", 8), 0);
    tj__buf_free(&want);
    tj__buf_free(&got);
    tj__record_free(c);
}

static int acks[3], ack_calls;
static void on_ack(void *arg, tj_ack_status s)
{
    (void)arg;
    acks[s]++;
    ack_calls++;
}

static void test_ack_once_per_family(void **st)
{
    memset(acks, 0, sizeof acks);
    ack_calls = 0;
    tj_record *r = tj__record_new();
    assert_int_equal(tj__record_set_ack(r, on_ack, NULL), 0);
    assert_int_equal(tj__record_set_ack(r, on_ack, NULL), 0); /* a second callback */
    tj_record *c1 = tj__record_clone(r), *c2 = tj__record_clone(r);
    tj__record_finish(r, TJ_ACK_DROPPED);
    tj__record_finish(c1, TJ_ACK_DELIVERED);
    assert_int_equal(ack_calls, 0);
    tj__record_finish(c2, TJ_ACK_DROPPED);
    assert_int_equal(ack_calls, 2); /* both callbacks, once each */
    assert_int_equal(acks[TJ_ACK_DELIVERED], 2);

    r = tj__record_new();
    tj__record_set_ack(r, on_ack, NULL);
    c1 = tj__record_clone(r);
    tj__record_finish(c1, TJ_ACK_FAILED);
    tj__record_finish(r, TJ_ACK_DELIVERED);
    assert_int_equal(ack_calls, 3);
    assert_int_equal(acks[TJ_ACK_FAILED], 1);
}

static void test_json_round_trip(void **st)
{
    tj_record *r = tj__record_new();
    tj__record_set_bytes(r, "text", "中文\n\"q\"", strlen("中文\n\"q\""));
    tj__record_set_bytes(r, "raw", "\xb0\xa1\x00z", 4);
    tj__record_set_int(r, "n", -7);
    tj__record_set_double(r, "d", 2.5);
    tj__record_set_json(r, "j", "{\"k\":[true,null]}", 17);
    tj_buf b = {0};
    assert_int_equal(tj__record_to_json(r, &b), 0);
    assert_string_equal(b.data, "{\"text\":\"中文\\n\\\"q\\\"\",\"raw\":{\"$base64\":"
                                "\"sKEAeg==\"},\"n\":-7,\"d\":2.5,\"j\":{\"k\":[true,null]}}");
    tj_record *back = NULL;
    tj_err err;
    assert_int_equal(tj__record_from_json(b.data, b.len, &back, &err), 0);
    size_t len;
    const char *raw = tj__record_get(back, "raw", &len);
    assert_int_equal(len, 4);
    assert_memory_equal(raw, "\xb0\xa1\x00z", 4);
    tj_buf b2 = {0};
    tj__record_to_json(back, &b2);
    assert_string_equal(b.data, b2.data);
    tj__record_free(back);
    assert_int_equal(tj__record_from_json("[1]", 3, &back, &err), TJ_EPARSE);
    assert_null(back);
    tj__buf_free(&b);
    tj__buf_free(&b2);
    tj__record_free(r);
    tj__record_free(NULL);
}

static void test_json_validation(void **st)
{
    static const char *const good[] = {
        "{}", "[]", " {\"a\": [1, -2.5e+3, true, false, null, \"x\\u00e9\\n\"]} ",
        "0", "\"中文\"", "{\"k\":{\"k\":{\"k\":[[[]]]}}}", "-0.0", "1E9"};
    static const char *const bad[] = {
        "", "{", "[1,]", "{\"a\"}", "{\"a\":1,}", "01", "1.", ".5", "+1", "tru",
        "\"tab\there\"", "\"\\x\"", "[1] [2]", "{a:1}", "\"\\u12\"", "nul", "-"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_true(tj__json_valid(good[i], strlen(good[i])));
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (tj__json_valid(bad[i], strlen(bad[i])))
            fail_msg("accepted invalid JSON: %s", bad[i]);
    assert_false(tj__json_valid("\"\xff\"", 3)); /* not UTF-8 */
    char deep[2000];
    memset(deep, '[', 1000);
    memset(deep + 1000, ']', 1000);
    assert_false(tj__json_valid(deep, 2000)); /* nesting limit, no overflow */
    assert_true(tj__json_valid(deep + 600, 800));
    /* strings are skipped a word at a time: a quote, backslash or control
     * byte must be seen at every offset of a word */
    for (size_t at = 1; at < 40; at++) {
        char s[64];
        memset(s, 'x', sizeof s);
        s[0] = '"';
        s[at] = '"';
        assert_true(tj__json_valid(s, at + 1));
        assert_false(tj__json_valid(s, at + 2)); /* a byte after the end */
        s[at] = '\x01';
        s[at + 1] = '"';
        assert_false(tj__json_valid(s, at + 2));
        s[at] = '\\';
        s[at + 1] = '"';
        s[at + 2] = '"';
        assert_true(tj__json_valid(s, at + 3));
        assert_false(tj__json_valid(s, at + 2)); /* escaped, unterminated */
    }
    /* three-byte UTF-8: overlongs and surrogates are refused */
    assert_true(tj__json_valid("\"\xe4\xb8\xad\xef\xbf\xbd\"", 8));
    assert_false(tj__json_valid("\"\xe0\x9f\xbf\"", 5));
    assert_false(tj__json_valid("\"\xed\xa0\x80\"", 5));
    assert_true(tj__json_valid("\"\xed\x9f\xbf\"", 5));
    assert_false(tj__json_valid("\"\xe4\xb8\"", 4));
}

/* One JSON string value, checked a byte at a time: the reference for the
 * word-at-a-time scanner (ASCII input: UTF-8 validity is not at stake). */
static bool ref_string_valid(const char *s, size_t n)
{
    size_t i = 1;
    if (n < 2 || s[0] != '"')
        return false;
    while (i < n) {
        unsigned char c = (unsigned char)s[i++];
        if (c == '"') { /* then only white space */
            while (i < n && s[i] == ' ')
                i++;
            return i == n;
        }
        if (c < 0x20)
            return false;
        if (c != '\\')
            continue;
        if (i >= n)
            return false;
        c = (unsigned char)s[i++];
        if (c == 'u') {
            for (int k = 0; k < 4; k++, i++)
                if (i >= n || !isxdigit((unsigned char)s[i]))
                    return false;
        } else if (!strchr("\"\\/bfnrt", c)) {
            return false;
        }
    }
    return false;
}

/* Random strings dense in the bytes the scanner stops at (several in one
 * word, a control byte below a quote, escapes across words): the same
 * verdict as the byte-at-a-time reference. */
static void test_json_string_scan(void **st)
{
    static const char pool[] = {'x', 'x', 'x', 'x', '"', '\\', 0x01, 0x1f,
                                0x20, 0x21, 0x7f, 'u', 'a', '0', 'n', '/'};
    unsigned seed = 99;
    size_t valid = 0;
    (void)st;
    for (int t = 0; t < 200000; t++) {
        char s[48];
        size_t n = 2 + (size_t)(rand_r(&seed) % 40);
        s[0] = '"';
        for (size_t i = 1; i < n; i++)
            s[i] = pool[rand_r(&seed) % sizeof pool];
        if (rand_r(&seed) % 2)
            s[n - 1] = '"';
        bool want = ref_string_valid(s, n);
        valid += want;
        if (tj__json_valid(s, n) != want)
            fail_msg("string %d: scanner %d, reference %d: %.*s", t, !want, want, (int)n, s);
    }
    assert_true(valid > 10000 && valid < 190000); /* both verdicts met */
}

static void test_utf8_validation(void **st)
{
    assert_true(tj__utf8_valid("plain ascii text here", 21));
    assert_true(tj__utf8_valid("英伟达", 9));
    assert_false(tj__utf8_valid("\xc0\xaf", 2));         /* overlong */
    assert_false(tj__utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    assert_false(tj__utf8_valid("\xe8\x8b", 2));         /* truncated */
    assert_false(tj__utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_name_lengths),
        cmocka_unit_test(test_pointers_stay_valid),
        cmocka_unit_test(test_shell_reuse),
        cmocka_unit_test(test_limits_and_long_names),
        cmocka_unit_test(test_clone_copies_fields),
        cmocka_unit_test(test_ack_once_per_family),
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_json_validation),
        cmocka_unit_test(test_json_string_scan),
        cmocka_unit_test(test_utf8_validation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
