/*
 * test_dedupe.c - the dedupe stage: the normalised text and its key
 * (against hashlib's SHA-256), duplicates within a run and across runs
 * (through a state database), keep_duplicates, the first copy's key stored
 * only on delivery, short texts left unkeyed, bad options.
 *
 * Cases with a state database get a fresh real one (the harness's, the
 * SQLite store `taojin run` uses); the host table handed to the stage is a
 * copy whose state_get counts its calls before passing them on.  Records
 * are finished with the host's tj__record_finish, as a sink would.
 */
#include "harness.h" /* before cmocka.h: its fail() macro */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dedupe.h"

void tj__record_finish(tj_record *rec, tj_ack_status status); /* core */

static tj_host_api api;

/* ---- the state database ------------------------------------------------------ */

static tj_harness_state *db; /* a fresh one per case that uses it */
static int gets;             /* tj_state_get calls since the case reset it */

/* The host's state_get, counted. */
static int counted_get(tj_ctx *ctx, const char *ns, const char *key, char **v)
{
    gets++;
    return tj__host_api()->state_get(ctx, ns, key, v);
}

/* The value stored for (ns, key), or "(absent)"; valid until the next
 * call. */
static const char *stored(const char *ns, const char *key)
{
    const char *v;
    int rc = tj_harness_state_get(db, ns, key, &v);
    if (rc && rc != TJ_ENOENT)
        fail_msg("state: %s", api.strerror(rc));
    return v ? v : "(absent)";
}

static int fresh_db(void **s)
{
    return (db = tj_harness_state_new(NULL)) ? 0 : -1;
}

static int drop_db(void **s)
{
    tj_harness_state_free(db);
    db = NULL;
    return 0;
}

/* ---- helpers ----------------------------------------------------------------- */

static const char *article =
    "Hello, World!\n  你好。２０２５年3月5日 ①②";
/* the same words, other spacing and punctuation */
static const char *reformatted = "hello world 你好 2025年3月5日 1 2.";
/* hashlib.sha256("helloworld你好2025年3月5日12".encode()).hexdigest() */
static const char *article_key =
    "52d91c23073e109fee5f4014b275e54085d545709145928d9d9fc7a695e0525c";

/* A dedupe stage made from opts, with the state database state, or
 * without any when state is NULL. */
static tj_harness *stage(const char *const *opts, tj_harness_state *state)
{
    char *err = NULL;
    const tj_stage_desc *d = taojin_stage_entry(&api);
    tj_harness *h = state ? tj_harness_new_with_state(d, opts, state, &err)
                          : tj_harness_new(d, opts, &err);
    if (!h)
        fail_msg("harness: %s", err);
    return h;
}

static tj_record *page(const char *url, const char *body)
{
    tj_record *r = tj_record_new();
    if (url)
        tj_record_set_str(r, "url", url);
    if (body)
        tj_record_set_str(r, "body", body);
    return r;
}

static const char *str(tj_record *r, const char *name)
{
    const char *s = tj_record_get(r, name, NULL);
    return s ? s : "(absent)";
}

/* ---- cases ------------------------------------------------------------------- */

static void normalised_text_and_key(void **s)
{
    size_t len, chars;
    char *norm = dedupe_normalise(article, strlen(article), 65536, &len,
                                  &chars);
    assert_string_equal(norm, "helloworld你好2025年3月5日12");
    assert_int_equal(len, strlen(norm));
    assert_int_equal(chars, 23);
    free(norm);
    char a[65], b[65];
    assert_int_equal(dedupe_key(article, strlen(article), 65536, a), 23);
    assert_string_equal(a, article_key);
    dedupe_key(reformatted, strlen(reformatted), 65536, b);
    assert_string_equal(a, b);
    dedupe_key("ab\xff\xfe" "cd", 6, 65536, a); /* invalid bytes skipped */
    dedupe_key("abcd", 4, 65536, b);
    assert_string_equal(a, b);
    const char *other = "hello world 你好 2025年3月5日 1 3"; /* 38 bytes */
    dedupe_key(other, strlen(other), 65536, b);
    assert_string_not_equal(a, b);
}

static void only_the_first_bytes_count(void **s)
{
    char x[200], y[200], a[65], b[65];
    memset(x, 'a', 100);
    memcpy(y, x, 100);
    strcpy(x + 100, "这里不同");
    strcpy(y + 100, "那里也不同");
    dedupe_key(x, strlen(x), 64, a);
    dedupe_key(y, strlen(y), 64, b);
    assert_string_equal(a, b); /* past max_bytes: ignored */
    dedupe_key(x, strlen(x), 4096, a);
    dedupe_key(y, strlen(y), 4096, b);
    assert_string_not_equal(a, b);
    size_t len, chars; /* the cut falls on a character boundary */
    char *norm = dedupe_normalise("一二三四五", 15, 7, &len, &chars);
    assert_string_equal(norm, "一二");
    assert_int_equal(chars, 2);
    free(norm);
}

static void duplicates_in_one_run(void **s)
{
    tj_harness *h = stage(NULL, db);
    assert_int_equal(tj_harness_process(h, page("http://a/1", article)), 0);
    tj_record *first = tj_harness_next(h);
    assert_non_null(first);
    assert_string_equal(str(first, "id"), article_key);
    assert_int_equal(tj_record_type(first, "duplicate_of"), TJ_FIELD_NONE);

    assert_int_equal(tj_harness_process(h, page("http://b/2", reformatted)),
                     0);
    assert_null(tj_harness_next(h)); /* dropped */
    assert_int_equal(tj_harness_counter(h, "duplicates"), 1);

    /* the same URL again is not a duplicate of itself */
    assert_int_equal(tj_harness_process(h, page("http://a/1", article)), 0);
    tj_record *again = tj_harness_next(h);
    assert_non_null(again);
    assert_int_equal(tj_record_type(again, "duplicate_of"), TJ_FIELD_NONE);
    assert_int_equal(tj_harness_counter(h, "duplicates"), 1);
    tj_record_free(first);
    tj_record_free(again);
    tj_harness_free(h);
    /* nothing delivered, nothing stored */
    assert_int_equal(tj_harness_state_count(db, NULL), 0);
}

static void records_without_url(void **s)
{
    const char *opts[] = {"keep_duplicates=true", NULL};
    tj_harness *h = stage(opts, db);
    tj_harness_process(h, page(NULL, article));
    tj_harness_process(h, page(NULL, reformatted));
    tj_record *one = tj_harness_next(h), *two = tj_harness_next(h);
    assert_non_null(two);
    assert_int_equal(tj_record_type(one, "duplicate_of"), TJ_FIELD_NONE);
    assert_string_equal(str(two, "duplicate_of"), "");
    assert_int_equal(tj_harness_counter(h, "duplicates"), 1);
    tj_record_free(one);
    tj_record_free(two);
    tj_harness_free(h);
}

static void keep_duplicates_marks_them(void **s)
{
    /* and works without a state database */
    const char *opts[] = {"keep_duplicates=true", "into=article_id", NULL};
    tj_harness *h = stage(opts, NULL);
    tj_harness_process(h, page("http://a/1", article));
    tj_harness_process(h, page("http://b/2", reformatted));
    tj_record *one = tj_harness_next(h), *two = tj_harness_next(h);
    assert_non_null(two);
    assert_string_equal(str(one, "article_id"), article_key);
    assert_string_equal(str(two, "article_id"), article_key);
    assert_string_equal(str(two, "duplicate_of"), "http://a/1");
    assert_int_equal(tj_record_type(one, "duplicate_of"), TJ_FIELD_NONE);
    assert_int_equal(tj_harness_counter(h, "duplicates"), 1);
    tj_record_free(one);
    tj_record_free(two);
    tj_harness_free(h);
}

/* Enough articles for the run map to grow its index several times and
 * fill more than one block of entries: every copy still finds its first
 * URL. */
static void many_articles_in_one_run(void **s)
{
    const char *opts[] = {"keep_duplicates=true", NULL};
    tj_harness *h = stage(opts, NULL);
    enum { N = 3000 };
    char body[64], url[64], want[64];
    for (int copy = 0; copy < 2; copy++)
        for (int i = 0; i < N; i++) {
            snprintf(body, sizeof body, "article number %d, body text", i);
            snprintf(url, sizeof url, "http://site%d/%d", copy, i);
            assert_int_equal(tj_harness_process(h, page(url, body)), 0);
            tj_record *r = tj_harness_next(h);
            assert_non_null(r);
            snprintf(want, sizeof want, "http://site0/%d", i);
            assert_string_equal(str(r, "duplicate_of"),
                                copy ? want : "(absent)");
            tj_record_free(r);
        }
    assert_int_equal(tj_harness_counter(h, "duplicates"), N);
    tj_harness_free(h);
}

static void across_runs_through_the_state(void **s)
{
    tj_harness *h = stage(NULL, db); /* run 1: the first copy, not delivered */
    tj_harness_process(h, page("http://a/1", article));
    tj_record *rec = tj_harness_next(h);
    tj__record_finish(rec, TJ_ACK_FAILED);
    tj_harness_free(h);
    assert_int_equal(tj_harness_state_count(db, NULL), 0);

    h = stage(NULL, db); /* run 2: b is first now; delivered */
    tj_harness_process(h, page("http://b/2", reformatted));
    rec = tj_harness_next(h);
    assert_non_null(rec);
    tj__record_finish(rec, TJ_ACK_DELIVERED);
    tj_harness_free(h);
    assert_int_equal(tj_harness_state_count(db, NULL), 1); /* that one: */
    assert_string_equal(stored("articles", article_key), "http://b/2");

    const char *keep[] = {"keep_duplicates=yes", NULL};
    h = stage(keep, db); /* run 3: a is a duplicate of b, from the database */
    tj_harness_process(h, page("http://a/1", article));
    tj_harness_process(h, page("http://b/2", article)); /* b itself: fine */
    rec = tj_harness_next(h);
    tj_record *b = tj_harness_next(h);
    assert_string_equal(str(rec, "duplicate_of"), "http://b/2");
    assert_int_equal(tj_record_type(b, "duplicate_of"), TJ_FIELD_NONE);
    assert_int_equal(tj_harness_counter(h, "duplicates"), 1);
    tj__record_finish(rec, TJ_ACK_DELIVERED);
    tj__record_finish(b, TJ_ACK_DELIVERED);
    tj_harness_free(h);
    /* duplicates are never stored */
    assert_int_equal(tj_harness_state_count(db, NULL), 1);
    assert_string_equal(stored("articles", article_key), "http://b/2");
}

static void the_database_is_asked_once_per_key(void **s)
{
    gets = 0;
    tj_harness *h = stage(NULL, db);
    for (int i = 0; i < 5; i++) {
        char url[32];
        snprintf(url, sizeof url, "http://m/%d", i);
        tj_harness_process(h, page(url, article));
    }
    int init_gets = 1; /* init's probe for a database */
    assert_int_equal(gets, init_gets + 1);
    assert_int_equal(tj_harness_counter(h, "duplicates"), 4);
    tj_harness_free(h);
}

static void short_or_missing_text_passes_unkeyed(void **s)
{
    tj_harness *h = stage(NULL, db);
    tj_harness_process(h, page("http://a/1", "短文。"));
    tj_harness_process(h, page("http://b/2", "短文!"));
    tj_harness_process(h, page("http://c/3", NULL));
    for (int i = 0; i < 3; i++) {
        tj_record *r = tj_harness_next(h);
        assert_non_null(r);
        assert_int_equal(tj_record_type(r, "id"), TJ_FIELD_NONE);
        tj_record_free(r);
    }
    assert_int_equal(tj_harness_counter(h, "unkeyed"), 3);
    assert_int_equal(tj_harness_counter(h, "duplicates"), 0);
    tj_harness_free(h);
    const char *low[] = {"min_chars=1", "field=title", NULL};
    h = stage(low, db);
    tj_record *r = page("http://a/1", NULL);
    tj_record_set_str(r, "title", "短");
    tj_harness_process(h, r);
    r = tj_harness_next(h);
    assert_int_equal(tj_record_type(r, "id"), TJ_FIELD_BYTES);
    tj_record_free(r);
    tj_harness_free(h);
}

static void bad_options(void **s)
{
    const char *cases[][2] = {{"max_bytes=10", NULL},
                              {"min_chars=-1", NULL},
                              {"keep_duplicates=perhaps", NULL}};
    const char *words[] = {"max_bytes must be at least 64", "min_chars",
                           "keep_duplicates"};
    for (int i = 0; i < 3; i++) {
        char *err = NULL;
        assert_null(tj_harness_new(taojin_stage_entry(&api), cases[i], &err));
        if (!err || !strstr(err, words[i]))
            fail_msg("'%s' does not mention '%s'", err ? err : "", words[i]);
        free(err);
    }
}

static int setup(void **s)
{
    api = *tj__host_api();
    api.state_get = counted_get;
    return 0;
}

/* A case run with a fresh state database in db. */
#define with_db(f) cmocka_unit_test_setup_teardown(f, fresh_db, drop_db)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(normalised_text_and_key),
        cmocka_unit_test(only_the_first_bytes_count),
        with_db(duplicates_in_one_run),
        with_db(records_without_url),
        cmocka_unit_test(keep_duplicates_marks_them),
        cmocka_unit_test(many_articles_in_one_run),
        with_db(across_runs_through_the_state),
        with_db(the_database_is_asked_once_per_key),
        with_db(short_or_missing_text_passes_unkeyed),
        cmocka_unit_test(bad_options),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
