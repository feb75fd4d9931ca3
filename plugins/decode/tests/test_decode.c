/*
 * test_decode.c - the decode stage through the harness: every charset
 * source (bom, header, meta, detected, fallback, forced), lying labels,
 * U+FFFD counting, gzip/deflate, gzip bombs and truncated streams.
 */
#include "harness.h" /* before cmocka.h: its fail() macro */

#include <glob.h>
#include <iconv.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zlib.h>

static char *seed_simplified, *seed_traditional;

/* The first `max` bytes' worth of whole lines of seed file `prefix`. */
static char *read_seed(const char *prefix, size_t max)
{
    char pat[4096];
    glob_t g;
    const char *shared = getenv("TJ_SHARED") ? getenv("TJ_SHARED")
                                             : "../shared";
    snprintf(pat, sizeof pat, "%s/seeds/%s_*.txt", shared, prefix);
    if (glob(pat, 0, NULL, &g) || g.gl_pathc < 1)
        return NULL;
    FILE *f = fopen(g.gl_pathv[0], "rb");
    globfree(&g);
    if (!f)
        return NULL;
    char *buf = calloc(1, max + 1), line[8192];
    size_t len = 0;
    while (fgets(line, sizeof line, f) && len + strlen(line) < max) {
        memcpy(buf + len, line, strlen(line));
        len += strlen(line);
    }
    fclose(f);
    return buf;
}

/* `text` (UTF-8) in charset cs, dropping what cs cannot encode when
 * translit is set; sets *n.  The caller frees. */
static char *encode(const char *cs, const char *text, size_t *n)
{
    iconv_t cd = iconv_open(cs, "UTF-8");
    assert_true(cd != (iconv_t)-1);
    size_t inleft = strlen(text), cap = inleft * 4 + 16, left = cap;
    char *out = malloc(cap), *o = out, *in = (char *)text;
    assert_true(iconv(cd, &in, &inleft, &o, &left) != (size_t)-1);
    iconv_close(cd);
    *n = cap - left;
    return out;
}

/* Gzip (wbits 31), zlib (15) or raw deflate (-15) of n bytes. */
static char *zip(const void *data, size_t n, int wbits, size_t *out_n)
{
    z_stream z = {0};
    size_t cap = n + n / 10 + 1024;
    char *out = malloc(cap);
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, wbits, 8,
                                  Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (unsigned char *)data;
    z.avail_in = (uInt)n;
    z.next_out = (unsigned char *)out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    *out_n = z.total_out;
    deflateEnd(&z);
    return out;
}

typedef struct run {
    tj_harness *h;
    tj_record *out;
    int rc;
} run;

/* Runs one record (url, optional content type and encoding, body) through
 * a decode stage made with `opts`. */
static run decode(const char *const *opts, const char *ct, const char *ce,
                  const void *body, size_t n)
{
    run r = {0};
    char *err = NULL;
    const char *none[] = {NULL};
    r.h = tj_harness_new(taojin_stage_entry(tj__host_api()),
                         opts ? opts : none, &err);
    if (!r.h)
        fail_msg("harness: %s", err);
    tj_record *rec = tj_record_new();
    tj_record_set_str(rec, "url", "http://example.test/page");
    if (ct)
        tj_record_set_str(rec, "content_type", ct);
    if (ce)
        tj_record_set_str(rec, "content_encoding", ce);
    tj_record_set(rec, "body", body, n);
    r.rc = tj_harness_process(r.h, rec);
    r.out = tj_harness_next(r.h);
    return r;
}

static void done(run *r)
{
    if (r->out)
        tj_record_free(r->out);
    tj_harness_free(r->h);
}

static void expect(run *r, const char *charset, const char *source,
                   int64_t errors, const char *text)
{
    int64_t e = -1;
    assert_int_equal(r->rc, 0);
    assert_non_null(r->out);
    assert_string_equal(tj_record_get(r->out, "charset", NULL), charset);
    assert_string_equal(tj_record_get(r->out, "charset_source", NULL), source);
    assert_int_equal(tj_record_get_int(r->out, "decode_errors", &e), 0);
    assert_int_equal(e, errors);
    if (text)
        assert_string_equal(tj_record_get(r->out, "body", NULL), text);
}

static void utf8_without_label_is_detected(void **s)
{
    run r = decode(NULL, NULL, NULL, seed_simplified, strlen(seed_simplified));
    expect(&r, "UTF-8", "detected", 0, seed_simplified);
    done(&r);
}

static void gbk_header_label(void **s)
{
    size_t n;
    char *gbk = encode("GBK", seed_simplified, &n);
    run r = decode(NULL, "text/html; charset=\"GBK\"", NULL, gbk, n);
    expect(&r, "GB18030", "header", 0, seed_simplified);
    done(&r);
    free(gbk);
}

static void header_utf8_on_big5_bytes_falls_through(void **s)
{
    size_t n;
    char *big5 = encode("BIG5", seed_traditional, &n);
    run r = decode(NULL, "text/html; charset=utf-8", NULL, big5, n);
    expect(&r, "BIG5-HKSCS", "detected", 0, seed_traditional);
    done(&r);
    free(big5);
}

static void header_gbk_on_utf8_bytes_is_a_lie(void **s)
{
    run r = decode(NULL, "text/html; charset=gbk", NULL, seed_simplified,
                   strlen(seed_simplified));
    expect(&r, "UTF-8", "detected", 0, seed_simplified);
    done(&r);
}

static void meta_charset_only(void **s)
{
    char html[8192];
    size_t n;
    snprintf(html, sizeof html,
             "<html><head><meta http-equiv=\"Content-Type\" "
             "content=\"text/html; charset=gb2312\"></head><body>%s</body>",
             seed_simplified);
    char *gbk = encode("GB18030", html, &n);
    run r = decode(NULL, "text/html", NULL, gbk, n);
    expect(&r, "GB18030", "meta", 0, html);
    done(&r);
    free(gbk);
}

static void utf16_with_bom(void **s)
{
    size_t n;
    char *le = encode("UTF-16LE", seed_simplified, &n);
    char *buf = malloc(n + 2);
    memcpy(buf, "\xFF\xFE", 2);
    memcpy(buf + 2, le, n);
    run r = decode(NULL, "text/html; charset=gbk", NULL, buf, n + 2);
    expect(&r, "UTF-16LE", "bom", 0, seed_simplified);
    done(&r);
    free(le);
    free(buf);
}

static void utf16_without_bom(void **s)
{
    size_t n;
    const char *text = "<html><body><p>Hello 人工智能 news</p></body></html>";
    char *be = encode("UTF-16BE", text, &n);
    run r = decode(NULL, NULL, NULL, be, n);
    expect(&r, "UTF-16BE", "detected", 0, text);
    done(&r);
    free(be);
}

static void latin1_label_on_utf8_is_utf8(void **s)
{
    run r = decode(NULL, "text/html; charset=ISO-8859-1", NULL,
                   seed_simplified, strlen(seed_simplified));
    expect(&r, "UTF-8", "header", 0, seed_simplified);
    done(&r);
}

static void latin1_label_on_gbk_is_a_lie(void **s)
{
    size_t n;
    char *gbk = encode("GBK", seed_simplified, &n);
    run r = decode(NULL, "text/html; charset=iso-8859-1", NULL, gbk, n);
    expect(&r, "GB18030", "detected", 0, seed_simplified);
    done(&r);
    free(gbk);
}

static void forced_charset(void **s)
{
    size_t n;
    char *big5 = encode("BIG5", seed_traditional, &n);
    const char *opts[] = {"charset=big5", NULL};
    run r = decode(opts, "text/html; charset=gbk", NULL, big5, n);
    expect(&r, "BIG5-HKSCS", "forced", 0, seed_traditional);
    done(&r);
    free(big5);
}

static void short_gbk_falls_back(void **s)
{
    run r = decode(NULL, NULL, NULL, "\xD6\xD0\xCE\xC4", 4); /* 中文 */
    expect(&r, "GB18030", "fallback", 0, "中文");
    done(&r);
    const char *opts[] = {"fallback=big5", NULL};
    r = decode(opts, NULL, NULL, "\xA4\xA4\xA4\xE5", 4); /* 中文 in Big5 */
    expect(&r, "BIG5-HKSCS", "fallback", 0, "中文");
    done(&r);
}

static void invalid_bytes_become_replacement_characters(void **s)
{
    size_t n;
    char *gbk = encode("GBK", seed_simplified, &n);
    gbk[40] = (char)0xFF; /* not a GB18030 byte anywhere */
    run r = decode(NULL, "text/html; charset=gbk", NULL, gbk, n);
    assert_int_equal(r.rc, 0);
    int64_t e = 0;
    tj_record_get_int(r.out, "decode_errors", &e);
    assert_int_equal(e, 1);
    assert_non_null(strstr(tj_record_get(r.out, "body", NULL), "\xEF\xBF\xBD"));
    assert_string_equal(tj_record_get(r.out, "charset", NULL), "GB18030");
    assert_int_equal(tj_harness_counter(r.h, "decode_errors"), 1);
    done(&r);
    free(gbk);
}

static void utf8_with_a_damaged_byte_stays_utf8(void **s)
{
    char *copy = strdup(seed_simplified);
    size_t n = strlen(copy);
    copy[n / 2] = (char)0xFF;
    run r = decode(NULL, NULL, NULL, copy, n);
    assert_int_equal(r.rc, 0);
    assert_string_equal(tj_record_get(r.out, "charset", NULL), "UTF-8");
    int64_t e = 0;
    tj_record_get_int(r.out, "decode_errors", &e);
    assert_true(e >= 1 && e <= 3); /* lead, bad byte, orphan trail */
    done(&r);
    free(copy);
}

static void four_byte_gb18030_and_hkscs_pairs(void **s)
{
    /* U+20000 and U+00E4 are four-byte GB18030 codes. */
    const char *text = "\xF0\xA0\x80\x80 \xC3\xA4 中文";
    size_t n;
    char *gb = encode("GB18030", text, &n);
    const char *opts[] = {"charset=gb18030", NULL};
    run r = decode(opts, NULL, NULL, gb, n);
    expect(&r, "GB18030", "forced", 0, text);
    done(&r);
    free(gb);
    const char *b5opts[] = {"charset=big5-hkscs", NULL};
    r = decode(b5opts, NULL, NULL, "\x88\x62", 2);
    expect(&r, "BIG5-HKSCS", "forced", 0, "\xC3\x8A\xCC\x84"); /* Ê̄ */
    done(&r);
}

static void gzip_and_deflate_bodies(void **s)
{
    int wbits[] = {31, 15, -15};
    const char *ce[] = {"gzip", "deflate", "deflate"};
    for (int i = 0; i < 3; i++) {
        size_t n;
        char *z = zip(seed_simplified, strlen(seed_simplified), wbits[i], &n);
        run r = decode(NULL, "text/plain; charset=utf-8", ce[i], z, n);
        expect(&r, "UTF-8", "header", 0, seed_simplified);
        assert_int_equal(tj_record_type(r.out, "content_encoding"),
                         TJ_FIELD_NONE);
        assert_int_equal(tj_harness_counter(r.h, "inflated"), 1);
        done(&r);
        free(z);
    }
}

static void local_gz_file_by_magic(void **s)
{
    size_t n, g;
    char *gbk = encode("GBK", seed_simplified, &n);
    char *z = zip(gbk, n, 31, &g);
    run r = decode(NULL, NULL, NULL, z, g);
    expect(&r, "GB18030", "detected", 0, seed_simplified);
    done(&r);
    free(z);
    free(gbk);
}

static void gzip_bomb_is_a_record_error(void **s)
{
    size_t big = 8 << 20, n;
    char *zeros = calloc(1, big);
    char *z = zip(zeros, big, 31, &n);
    const char *opts[] = {"max_inflated=1M", NULL};
    run r = decode(opts, NULL, "gzip", z, n);
    assert_int_equal(r.rc, TJ_ERECORD);
    assert_null(r.out);
    const char *msg = tj_harness_error(r.h);
    assert_non_null(strstr(msg, "http://example.test/page"));
    assert_non_null(strstr(msg, "max_inflated"));
    done(&r);
    /* Exactly the cap is fine. */
    const char *opts2[] = {"max_inflated=8M", NULL};
    r = decode(opts2, "text/plain; charset=utf-8", "gzip", z, n);
    assert_int_equal(r.rc, 0);
    size_t len = 0;
    tj_record_get(r.out, "body", &len);
    assert_int_equal(len, big);
    done(&r);
    free(z);
    free(zeros);
}

static void truncated_and_corrupt_gzip(void **s)
{
    size_t n;
    char *z = zip(seed_simplified, strlen(seed_simplified), 31, &n);
    run r = decode(NULL, NULL, "gzip", z, n / 2);
    assert_int_equal(r.rc, TJ_ERECORD);
    assert_non_null(strstr(tj_harness_error(r.h), "http://example.test/page"));
    assert_non_null(strstr(tj_harness_error(r.h), "truncated"));
    done(&r);
    memset(z + 10, 0xFF, 16);
    r = decode(NULL, NULL, "gzip", z, n);
    assert_int_equal(r.rc, TJ_ERECORD);
    assert_non_null(strstr(tj_harness_error(r.h), "corrupt gzip"));
    done(&r);
    r = decode(NULL, NULL, "br", z, n);
    assert_int_equal(r.rc, TJ_ERECORD);
    assert_non_null(strstr(tj_harness_error(r.h), "unsupported Content-Encoding 'br'"));
    done(&r);
    free(z);
}

static void bad_options_are_refused(void **s)
{
    char *err = NULL;
    const char *opts[] = {"charset=klingon-8", NULL};
    tj_harness *h = tj_harness_new(taojin_stage_entry(tj__host_api()), opts,
                                   &err);
    assert_null(h);
    assert_non_null(strstr(err, "klingon-8"));
    free(err);
}

static void record_without_body_passes(void **s)
{
    const char *none[] = {NULL};
    tj_harness *h = tj_harness_new(taojin_stage_entry(tj__host_api()), none,
                                   NULL);
    tj_record *rec = tj_record_new();
    tj_record_set_str(rec, "url", "x");
    assert_int_equal(tj_harness_process(h, rec), 0);
    tj_record *out = tj_harness_next(h);
    assert_non_null(out);
    assert_int_equal(tj_record_type(out, "charset"), TJ_FIELD_NONE);
    tj_record_free(out);
    tj_harness_free(h);
}

/* Drops, in place, the characters of UTF-8 `text` that `cs` lacks (the
 * Traditional seeds carry pinyin with tone marks, not in Big5). */
static void keep_encodable(char *text, const char *cs)
{
    iconv_t cd = iconv_open(cs, "UTF-8");
    char *r = text, *w = text;
    while (*r) {
        size_t k = 1;
        while ((r[k] & 0xC0) == 0x80)
            k++;
        char buf[16], *in = r, *o = buf;
        size_t inleft = k, left = sizeof buf;
        iconv(cd, NULL, NULL, NULL, NULL);
        if (iconv(cd, &in, &inleft, &o, &left) != (size_t)-1) {
            memmove(w, r, k);
            w += k;
        }
        r += k;
    }
    *w = 0;
    iconv_close(cd);
}

static int setup(void **s)
{
    seed_simplified = read_seed("000", 3000);
    seed_traditional = read_seed("002", 3000);
    if (!seed_simplified || !seed_traditional)
        return -1;
    keep_encodable(seed_simplified, "GBK");
    keep_encodable(seed_traditional, "BIG5");
    return 0;
}

static int teardown(void **s)
{
    free(seed_simplified);
    free(seed_traditional);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(utf8_without_label_is_detected),
        cmocka_unit_test(gbk_header_label),
        cmocka_unit_test(header_utf8_on_big5_bytes_falls_through),
        cmocka_unit_test(header_gbk_on_utf8_bytes_is_a_lie),
        cmocka_unit_test(meta_charset_only),
        cmocka_unit_test(utf16_with_bom),
        cmocka_unit_test(utf16_without_bom),
        cmocka_unit_test(latin1_label_on_utf8_is_utf8),
        cmocka_unit_test(latin1_label_on_gbk_is_a_lie),
        cmocka_unit_test(forced_charset),
        cmocka_unit_test(short_gbk_falls_back),
        cmocka_unit_test(invalid_bytes_become_replacement_characters),
        cmocka_unit_test(utf8_with_a_damaged_byte_stays_utf8),
        cmocka_unit_test(four_byte_gb18030_and_hkscs_pairs),
        cmocka_unit_test(gzip_and_deflate_bodies),
        cmocka_unit_test(local_gz_file_by_magic),
        cmocka_unit_test(gzip_bomb_is_a_record_error),
        cmocka_unit_test(truncated_and_corrupt_gzip),
        cmocka_unit_test(bad_options_are_refused),
        cmocka_unit_test(record_without_body_passes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
