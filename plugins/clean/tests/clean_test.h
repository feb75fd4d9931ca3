/*
 * clean_test.h - helpers shared by the clean stage's tests: files, charset
 * conversion for the corpora, running the stage through the harness, and
 * the character-level F1 used against gold texts.
 */
#ifndef CLEAN_TEST_H
#define CLEAN_TEST_H

#include <glob.h>
#include <iconv.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include <cjson/cJSON.h>
#include <utf8proc.h>

#ifdef __SSE2__
/* Setups for cmocka: the byte lanes (lanes.c) kept to SSE2 on a CPU that
 * has AVX2, and back to any width, so that tests check both. */
extern int cl_lanes_sse2_only;
static inline int lanes_sse2_only(void **st)
{
    (void)st;
    cl_lanes_sse2_only = 1;
    return 0;
}
static inline int lanes_any_width(void **st)
{
    (void)st;
    cl_lanes_sse2_only = 0;
    return 0;
}
#endif

/* $TJ_TOP/rel (or ./rel) and $TJ_SHARED/rel (or ../shared/rel). */
static inline char *top_path(const char *rel)
{
    const char *top = getenv("TJ_TOP");
    char *p = malloc(strlen(rel) + (top ? strlen(top) : 1) + 2);
    sprintf(p, "%s/%s", top ? top : ".", rel);
    return p;
}

static inline char *shared_path(const char *rel)
{
    const char *sh = getenv("TJ_SHARED");
    char *p = malloc(strlen(rel) + (sh ? strlen(sh) : 9) + 2);
    sprintf(p, "%s/%s", sh ? sh : "../shared", rel);
    return p;
}

/* The whole file, NUL-terminated, or NULL. */
static inline char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
        fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) &&
        fread(buf, 1, (size_t)n, f) == (size_t)n) {
        buf[n] = 0;
        if (len)
            *len = (size_t)n;
    } else {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

/* Calls fn(path, bytes, n, arg) on each file the glob pattern `pat`
 * matches; returns how many.  A file that cannot be read ends the test
 * program with a message. */
static inline size_t each_file(const char *pat,
                               void (*fn)(const char *path, const char *s,
                                          size_t n, void *arg),
                               void *arg)
{
    glob_t g;
    size_t k = 0;
    if (glob(pat, 0, NULL, &g) != 0)
        return 0;
    for (; k < g.gl_pathc; k++) {
        size_t n = 0;
        char *s = slurp(g.gl_pathv[k], &n);
        if (!s) {
            fprintf(stderr, "%s: cannot read\n", g.gl_pathv[k]);
            exit(1);
        }
        fn(g.gl_pathv[k], s, n, arg);
        free(s);
    }
    globfree(&g);
    return k;
}

/* Calls fn on each seed text (the .txt files of ../shared/seeds); returns
 * how many. */
static inline size_t each_seed(void (*fn)(const char *path, const char *text,
                                          size_t n, void *arg),
                               void *arg)
{
    char *pat = shared_path("seeds/*.txt");
    size_t k = each_file(pat, fn, arg);
    free(pat);
    return k;
}

/* Calls fn(path, html, n, arg) on every HTML page the tree tests use:
 * the corpora's (GNE, readability source and expected, newspaper,
 * trafilatura), the fixtures and the sample site.  Returns how many; a
 * page that cannot be read ends the test program with a message. */
static inline size_t each_page(void (*fn)(const char *path, const char *html,
                                          size_t n, void *arg),
                               void *arg)
{
    static const char *const shared[] = {
        "corpora/gne/pages/*.html", "corpora/gne/pages_no_expected/*.html",
        "corpora/readability_zh/*/source.html",
        "corpora/readability_zh/*/expected.html",
        "corpora/newspaper_zh/*.html", "corpora/trafilatura_zh/*.html", NULL};
    static const char *const top[] = {"plugins/clean/tests/fixtures/*.html",
                                      "samples/site/*.html", NULL};
    size_t pages = 0;
    for (int t = 0; t < 2; t++) {
        const char *const *pats = t ? top : shared;
        for (int i = 0; pats[i]; i++) {
            char *pat = t ? top_path(pats[i]) : shared_path(pats[i]);
            pages += each_file(pat, fn, arg);
            free(pat);
        }
    }
    return pages;
}

static inline int valid_utf8(const char *s, size_t n)
{
    utf8proc_int32_t c;
    for (size_t i = 0; i < n;) {
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
                                              (utf8proc_ssize_t)(n - i), &c);
        if (k <= 0)
            return 0;
        i += (size_t)k;
    }
    return 1;
}

/* Converts `from`-encoded bytes to a new UTF-8 string (invalid input is
 * skipped, //IGNORE style).  The decode stage does this in a pipeline; the
 * tests feed clean directly. */
static inline char *to_utf8(const char *in, size_t n, const char *from)
{
    iconv_t cd = iconv_open("UTF-8", from);
    size_t cap = n * 3 + 16, ol = cap;
    char *out = malloc(cap + 1), *op = out, *ip = (char *)in;
    size_t il = n;
    if (cd == (iconv_t)-1 || !out) {
        free(out);
        return NULL;
    }
    while (il > 0) {
        if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1) {
            ip++; /* skip a byte that does not convert */
            il--;
        }
    }
    *op = 0;
    iconv_close(cd);
    return out;
}

/* Runs the stage once on `body` with options `opts`; returns the emitted
 * record (caller frees) or NULL. */
static inline tj_record *clean_run(const char *const *opts, const char *body,
                                   const char *content_type)
{
    char *err = NULL;
    const tj_stage_desc *d = taojin_stage_entry(tj__host_api());
    tj_harness *h = tj_harness_new(d, opts, &err);
    tj_record *r, *out = NULL;
    if (!h) {
        fprintf(stderr, "# harness: %s\n", err ? err : "?");
        free(err);
        return NULL;
    }
    r = tj_record_new();
    tj_record_set_str(r, "body", body);
    if (content_type)
        tj_record_set_str(r, "content_type", content_type);
    if (tj_harness_process(h, r) == 0)
        out = tj_harness_next(h);
    tj_harness_free(h);
    return out;
}

static inline const char *field(const tj_record *r, const char *name)
{
    size_t n;
    const char *s = r ? tj_record_get(r, name, &n) : NULL;
    return s ? s : "";
}

/* quality[key] as a number (-1 when absent). */
static inline double quality_of(const tj_record *r, const char *key)
{
    cJSON *q = cJSON_Parse(field(r, "quality"));
    cJSON *v = cJSON_GetObjectItemCaseSensitive(q, key);
    double d = cJSON_IsNumber(v) ? v->valuedouble : -1;
    cJSON_Delete(q);
    return d;
}

/* body plus the byline lines clean moved out of it (moved, not lost). */
static inline char *body_and_byline(const tj_record *r)
{
    cJSON *page = cJSON_Parse(field(r, "page")), *e;
    const char *body = field(r, "body");
    size_t cap = strlen(body) + 2, len;
    char *out;
    cJSON *by = cJSON_GetObjectItemCaseSensitive(page, "byline");
    cJSON_ArrayForEach(e, by) cap += strlen(e->valuestring) + 1;
    out = malloc(cap + 1);
    strcpy(out, body);
    len = strlen(out);
    cJSON_ArrayForEach(e, by) len += (size_t)sprintf(out + len, "\n%s", e->valuestring);
    cJSON_Delete(page);
    return out;
}

/* ---- character-level F1 ---------------------------------------------------
 * Both texts become bags of code points, white space left out and full-width
 * ASCII forms folded to ASCII (so "，" and "," count as one character). */
typedef struct bag {
    uint32_t *cp;
    size_t n;
} bag;

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static inline bag bag_of(const char *s)
{
    size_t n = strlen(s), i = 0;
    bag b = {malloc((n + 1) * sizeof(uint32_t)), 0};
    while (i < n) {
        utf8proc_int32_t c;
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
                                              (utf8proc_ssize_t)(n - i), &c);
        if (k <= 0) {
            i++;
            continue;
        }
        i += (size_t)k;
        if (c >= 0xFF01 && c <= 0xFF5E)
            c -= 0xFEE0;
        if (c <= ' ' || c == 0xA0 || c == 0x3000 ||
            utf8proc_category(c) == UTF8PROC_CATEGORY_ZS)
            continue;
        b.cp[b.n++] = (uint32_t)c;
    }
    qsort(b.cp, b.n, sizeof *b.cp, cmp_u32);
    return b;
}

/* F1 of pred against gold; precision and recall in *p, *r when given. */
static inline double char_f1(const char *pred, const char *gold, double *p,
                             double *r)
{
    bag a = bag_of(pred), b = bag_of(gold);
    size_t i = 0, j = 0, common = 0;
    double pr, rc, f;
    while (i < a.n && j < b.n) {
        if (a.cp[i] == b.cp[j])
            common++, i++, j++;
        else if (a.cp[i] < b.cp[j])
            i++;
        else
            j++;
    }
    pr = a.n ? (double)common / (double)a.n : 0;
    rc = b.n ? (double)common / (double)b.n : 0;
    f = pr + rc > 0 ? 2 * pr * rc / (pr + rc) : 0;
    if (p)
        *p = pr;
    if (r)
        *r = rc;
    free(a.cp);
    free(b.cp);
    return f;
}

static inline size_t count_cps(const char *s)
{
    size_t c = 0;
    for (; *s; s++)
        c += ((unsigned char)*s & 0xC0) != 0x80;
    return c;
}

#endif
