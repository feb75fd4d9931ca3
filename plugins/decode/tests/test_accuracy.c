/*
 * test_accuracy.c - charset detection accuracy on the reference corpora,
 * with no labels given: ours beside uchardet alone, same files, same run.
 *
 * A file counts as right when its decoded text equals the text iconv gives
 * in the file's known encoding (the directory or file name says which; a
 * leading U+FEFF is ignored on both sides).  Where glibc's strict codec
 * rejects bytes that browsers accept (GBK characters in a GB2312 file, HKSCS
 * in a Big5 file), the browsers' superset is the reference.
 */
#include <dirent.h>
#include <errno.h>
#include <iconv.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>
#include <uchardet/uchardet.h>

#include "charset.h"
#include "convert.h"

typedef struct tally {
    int files, ours, uchardet;
} tally;

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)len + 1);
    *n = fread(buf, 1, (size_t)len, f);
    fclose(f);
    buf[*n] = 0;
    return buf;
}

/* Strict whole-buffer iconv to UTF-8; NULL when iconv refuses any byte. */
static char *iconv_all(const char *cs, const char *in, size_t n, size_t *out_n)
{
    iconv_t cd = iconv_open("UTF-8", cs);
    if (cd == (iconv_t)-1)
        return NULL;
    size_t cap = n * 4 + 16, left = cap, inleft = n;
    char *out = malloc(cap), *o = out, *i = (char *)in;
    size_t r = iconv(cd, &i, &inleft, &o, &left);
    iconv_close(cd);
    if (r == (size_t)-1) {
        free(out);
        return NULL;
    }
    *out_n = cap - left;
    return out;
}

static const char *skip_bom(const char *s, size_t *n)
{
    if (*n >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3)) {
        *n -= 3;
        return s + 3;
    }
    return s;
}

static int same(const char *a, size_t an, const char *b, size_t bn)
{
    a = skip_bom(a, &an);
    b = skip_bom(b, &bn);
    return an == bn && !memcmp(a, b, an);
}

/* The reference text for a file of encoding `enc`. */
static char *reference(const char *enc, const char *bytes, size_t n,
                       size_t *rn)
{
    const char *cs = enc;
    if (!strcasecmp(enc, "utf-8-sig"))
        cs = "UTF-8";
    /* A GB2312 label means the GBK decoder (WHATWG, and the issue's own
     * mapping); glibc's GB2312 differs on A1A4 and A1AA (U+30FB, U+2015
     * for the GBK decoder's U+00B7, U+2014). */
    if (!strcasecmp(cs, "GB2312"))
        cs = "GB18030";
    char *ref = iconv_all(cs, bytes, n, rn);
    if (!ref && !strcasecmp(cs, "BIG5"))
        ref = iconv_all("BIG5-HKSCS", bytes, n, rn);
    return ref;
}

static void one_file(cs_detector *det, uchardet_t ud, const char *path,
                     const char *enc, tally *t)
{
    size_t n = 0, rn, un;
    char *bytes = slurp(path, &n);
    assert_non_null(bytes);
    char *ref = reference(enc, bytes, n, &rn);
    assert_non_null(ref);
    cs_hints hints = {NULL, NULL, NULL};
    cs_result res;
    assert_int_equal(cs_decode(det, bytes, n, &hints, &res), 0);
    int ok = res.text ? same(res.text, res.len, ref, rn)
                      : same(bytes, n, ref, rn);
    t->files++;
    t->ours += ok;
    if (!ok)
        printf("# ours wrong: %s (%s): got %s (%s)\n", path, enc, res.charset,
               cs_source_name(res.source));
    uchardet_reset(ud);
    uchardet_handle_data(ud, bytes, n);
    uchardet_data_end(ud);
    const char *guess = uchardet_get_charset(ud);
    char *u = guess && *guess ? iconv_all(guess, bytes, n, &un) : NULL;
    int uok = u && same(u, un, ref, rn);
    t->uchardet += uok;
    if (!uok)
        printf("# uchardet alone wrong: %s (%s): said '%s'\n", path, enc,
               guess ? guess : "");
    free(u);
    free(res.text);
    free(ref);
    free(bytes);
}

/* Every file of dir, each in `enc`, or in the encoding its name gives when
 * enc is NULL (uchardet's "big5.txt", charset_normalizer's "x.big5.txt"). */
static void one_dir(cs_detector *det, uchardet_t ud, const char *dir,
                    const char *enc, tally *t)
{
    struct dirent **ents;
    int k = scandir(dir, &ents, NULL, alphasort);
    if (k < 0) {
        printf("# cannot read %s: %s\n", dir, strerror(errno));
        fail();
    }
    for (int i = 0; i < k; i++) {
        char path[4096], name_enc[64];
        const char *e = enc;
        if (ents[i]->d_name[0] != '.') {
            snprintf(path, sizeof path, "%s/%s", dir, ents[i]->d_name);
            if (!e) {
                char *dot = strrchr(ents[i]->d_name, '.');
                char *prev = dot;
                while (prev > ents[i]->d_name && prev[-1] != '.')
                    prev--;
                size_t len = (size_t)(dot - prev);
                snprintf(name_enc, sizeof name_enc, "%.*s", (int)len, prev);
                e = name_enc;
            }
            one_file(det, ud, path, e, t);
        }
        free(ents[i]);
    }
    free(ents);
}

static void test_corpora(void **unused)
{
    (void)unused;
    const char *shared = getenv("TJ_SHARED") ? getenv("TJ_SHARED")
                                             : "../shared";
    const char *encs[] = {"Big5",     "EUC-TW",   "GB2312",   "UTF-16",
                          "UTF-16BE", "UTF-16LE", "utf-8-sig", NULL};
    char dir[4096];
    tally t = {0, 0, 0};
    cs_detector *det = cs_detector_new();
    uchardet_t ud = uchardet_new();
    for (int i = 0; encs[i]; i++) {
        snprintf(dir, sizeof dir, "%s/corpora/chardet_zh/%s", shared, encs[i]);
        one_dir(det, ud, dir, encs[i], &t);
    }
    snprintf(dir, sizeof dir, "%s/corpora/uchardet/zh", shared);
    one_dir(det, ud, dir, NULL, &t);
    snprintf(dir, sizeof dir, "%s/corpora/charset_normalizer", shared);
    one_dir(det, ud, dir, NULL, &t);
    printf("# charset accuracy, no labels, %d files: taojin decode %d/%d "
           "(%.1f%%), uchardet alone %d/%d (%.1f%%)\n",
           t.files, t.ours, t.files, 100.0 * t.ours / t.files, t.uchardet,
           t.files, 100.0 * t.uchardet / t.files);
    uchardet_delete(ud);
    cs_detector_free(det);
    assert_true(t.files >= 55);
    assert_true(t.ours * 100 >= t.files * 98);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_corpora)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
