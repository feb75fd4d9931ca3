/*
 * test_fetch.c - the fetch source through the harness, against the loopback
 * fixture server tests/httpd/server.py (started here on a free port):
 * fields of a fetched page, raw gzip bodies, 404 / refused / timeout /
 * oversize record errors, retries on 500 and 429 (Retry-After), redirect
 * chains, feeds, URL files, local paths, prompt stop, bad options.
 *
 * The host table handed to the stage is a copy whose `fail` is spied on,
 * so each failed record's message, url and status can be asserted.
 */
#include "harness.h" /* before cmocka.h: its fail() macro */

#include <curl/curl.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "httpd_client.h"



/* ---- spying on tj_fail ---------------------------------------------------- */

#define MAX_FAILS 32
typedef struct failed {
    char msg[1024], url[512];
    int64_t status;
} failed;
static failed fails[MAX_FAILS];
static int nfails;
static tj_host_api spy_api;
static int (*real_fail)(tj_ctx *, tj_record *, const char *);

static int spy_fail(tj_ctx *ctx, tj_record *rec, const char *msg)
{
    if (nfails < MAX_FAILS) {
        failed *f = &fails[nfails++];
        const char *url = spy_api.record_get(rec, "url", NULL);
        snprintf(f->msg, sizeof f->msg, "%s", msg);
        snprintf(f->url, sizeof f->url, "%s", url ? (const char *)url : "");
        f->status = 0;
        spy_api.record_get_int(rec, "status", &f->status);
    }
    return real_fail(ctx, rec, msg);
}

/* ---- running the stage -------------------------------------------------------- */

#define MAX_RECS 64
typedef struct result {
    tj_harness *h;
    tj_record *recs[MAX_RECS];
    int n;
    double seconds;
    long calls;
} result;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Makes a fetch stage from opts and produces until end of input (at most
 * 60 s), collecting the records; failures land in fails[]. */
static result run(const char *const *opts)
{
    result r = {0};
    char *err = NULL;
    nfails = 0;
    r.h = tj_harness_new(taojin_stage_entry(&spy_api), opts, &err);
    if (!r.h)
        fail_msg("harness: %s", err);
    double t0 = now();
    int rc;
    while ((rc = tj_harness_produce(r.h)) == 1 && now() - t0 < 60) {
        r.calls++;
        tj_record *rec;
        while ((rec = tj_harness_next(r.h)) && r.n < MAX_RECS)
            r.recs[r.n++] = rec;
    }
    assert_int_equal(rc, 0);
    tj_record *rec;
    while ((rec = tj_harness_next(r.h)) && r.n < MAX_RECS)
        r.recs[r.n++] = rec;
    r.seconds = now() - t0;
    return r;
}

static void done(result *r)
{
    for (int i = 0; i < r->n; i++)
        tj_record_free(r->recs[i]);
    tj_harness_free(r->h);
}

static const char *str(tj_record *r, const char *name)
{
    const char *s = tj_record_get(r, name, NULL);
    return s ? s : "(absent)";
}

static int64_t num(tj_record *r, const char *name)
{
    int64_t v = -1;
    tj_record_get_int(r, name, &v);
    return v;
}

/* The record whose url ends with suffix. */
static tj_record *by_url(result *r, const char *suffix)
{
    for (int i = 0; i < r->n; i++) {
        const char *u = str(r->recs[i], "url");
        size_t a = strlen(u), b = strlen(suffix);
        if (a >= b && !strcmp(u + a - b, suffix))
            return r->recs[i];
    }
    return NULL;
}

/* "urls=[BASE/path]" in a static buffer (one per slot). */
static const char *url_opt(int slot, const char *key, const char *path)
{
    static char buf[8][512];
    snprintf(buf[slot], sizeof buf[slot], "%s=[\"%s%s\"]", key, base, path);
    return buf[slot];
}

/* GET BASE/path with curl easy (the server's own view); caller frees. */
static size_t sink(char *p, size_t s, size_t n, void *arg)
{
    FILE *f = arg;
    return fwrite(p, s, n, f);
}

static char *get(const char *path, size_t *len)
{
    char url[512], *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    CURL *c = curl_easy_init();
    snprintf(url, sizeof url, "%s%s", base, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_cleanup(c);
    fclose(f);
    if (len)
        *len = n;
    return buf;
}

/* ---- cases --------------------------------------------------------------------- */

static void page_fields(void **s)
{
    const char *opts[] = {url_opt(0, "urls", "/utf8.html"), NULL};
    result r = run(opts);
    assert_int_equal(r.n, 1);
    tj_record *rec = r.recs[0];
    char want[256];
    snprintf(want, sizeof want, "%s/utf8.html", base);
    assert_string_equal(str(rec, "url"), want);
    assert_string_equal(str(rec, "final_url"), want);
    assert_int_equal(num(rec, "status"), 200);
    assert_string_equal(str(rec, "content_type"), "text/html; charset=utf-8");
    assert_string_equal(str(rec, "etag"), "\"taojin-utf8-v1\"");
    assert_string_equal(str(rec, "last_modified"),
                        "Wed, 05 Mar 2025 02:05:00 GMT");
    assert_int_equal(tj_record_type(rec, "content_encoding"), TJ_FIELD_NONE);
    const char *at = str(rec, "fetched_at");
    int y, mo, d, h, mi, sec;
    char z;
    assert_int_equal(sscanf(at, "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h,
                            &mi, &sec, &z), 7);
    assert_true(y >= 2024 && z == 'Z' && strlen(at) == 20);
    char *expect = get("/_expect/simplified", NULL);
    assert_string_equal(str(rec, "body"), expect);
    free(expect);
    done(&r);
}

static void gzip_body_is_left_compressed(void **s)
{
    const char *opts[] = {url_opt(0, "urls", "/gzip.html"), NULL};
    result r = run(opts);
    assert_int_equal(r.n, 1);
    size_t len, served;
    const char *body = tj_record_get(r.recs[0], "body", &len);
    char *raw = get("/gzip.html", &served); /* curl easy: no inflation */
    assert_string_equal(str(r.recs[0], "content_encoding"), "gzip");
    assert_true(len > 2 && (unsigned char)body[0] == 0x1F &&
                (unsigned char)body[1] == 0x8B);
    assert_int_equal(len, served);
    assert_memory_equal(body, raw, len);
    free(raw);
    done(&r);
}

static void request_headers(void **s)
{
    const char *opts[] = {url_opt(0, "urls", "/_headers"), NULL};
    result r = run(opts);
    assert_int_equal(r.n, 1);
    const char *body = str(r.recs[0], "body");
    assert_non_null(strstr(body, "\"user-agent\": \"taojin/"));
    assert_non_null(strstr(body, "\"accept-encoding\": \"gzip, deflate\""));
    done(&r);
    const char *opts2[] = {url_opt(0, "urls", "/_headers"),
                           "user_agent=probe/1", "headers={X-Test: yes}",
                           NULL};
    r = run(opts2);
    body = str(r.recs[0], "body");
    assert_non_null(strstr(body, "\"user-agent\": \"probe/1\""));
    assert_non_null(strstr(body, "\"x-test\": \"yes\""));
    done(&r);
}

static void not_found_is_a_record_error(void **s)
{
    const char *opts[] = {url_opt(0, "urls", "/missing"), NULL};
    result r = run(opts);
    char want[256];
    assert_int_equal(r.n, 0);
    assert_int_equal(nfails, 1);
    snprintf(want, sizeof want, "GET %s/missing: HTTP 404", base);
    assert_string_equal(fails[0].msg, want);
    assert_int_equal(fails[0].status, 404);
    assert_int_equal(tj_harness_counter(r.h, "failed"), 1);
    done(&r);
}

static void refused_connection(void **s)
{
    const char *opts[] = {"urls=[\"http://127.0.0.1:1/x\"]", "retries=2",
                          "backoff=50ms", NULL};
    result r = run(opts);
    assert_int_equal(r.n, 0);
    assert_int_equal(nfails, 1);
    assert_string_equal(fails[0].url, "http://127.0.0.1:1/x");
    assert_non_null(strstr(fails[0].msg, "GET http://127.0.0.1:1/x: "));
    assert_non_null(strstr(fails[0].msg, "(after 2 retries)"));
    assert_non_null(strstr(fails[0].msg, "onnect")); /* curl's words */
    assert_int_equal(tj_harness_counter(r.h, "retries"), 2);
    done(&r);
}

static void server_error_succeeds_on_retry(void **s)
{
    free(get("/_reset", NULL));
    const char *opts[] = {url_opt(0, "urls", "/flaky"), "backoff=100ms",
                          NULL};
    result r = run(opts);
    assert_int_equal(r.n, 1);
    assert_int_equal(num(r.recs[0], "status"), 200);
    assert_string_equal(str(r.recs[0], "body"), "恢复了");
    assert_int_equal(tj_harness_counter(r.h, "retries"), 1);
    assert_int_equal(nfails, 0);
    char *stats = get("/_stats", NULL);
    assert_non_null(strstr(stats, "\"/flaky\": 2"));
    free(stats);
    done(&r);
}

static void too_many_requests_honours_retry_after(void **s)
{
    free(get("/_reset", NULL));
    /* backoff would retry after ~50 ms; Retry-After: 1 says a second. */
    const char *opts[] = {url_opt(0, "urls", "/busy"), "backoff=50ms", NULL};
    result r = run(opts);
    assert_int_equal(r.n, 1);
    assert_int_equal(num(r.recs[0], "status"), 200);
    assert_string_equal(str(r.recs[0], "body"), "不忙了");
    assert_true(r.seconds >= 0.95);
    assert_int_equal(tj_harness_counter(r.h, "retries"), 1);
    done(&r);
}

static void no_retry_for_client_errors(void **s)
{
    free(get("/_reset", NULL));
    const char *opts[] = {url_opt(0, "urls", "/missing"), "backoff=10ms",
                          NULL};
    result r = run(opts);
    assert_int_equal(tj_harness_counter(r.h, "retries"), 0);
    char *stats = get("/_stats", NULL);
    assert_non_null(strstr(stats, "\"/missing\": 1"));
    free(stats);
    done(&r);
}

static void redirect_chain_keeps_final_url(void **s)
{
    const char *opts[] = {url_opt(0, "urls", "/redirect/3"), NULL};
    result r = run(opts);
    char want[256];
    assert_int_equal(r.n, 1);
    snprintf(want, sizeof want, "%s/utf8.html", base);
    assert_string_equal(str(r.recs[0], "final_url"), want);
    assert_int_equal(num(r.recs[0], "status"), 200);
    assert_non_null(strstr(str(r.recs[0], "url"), "/redirect/3"));
    done(&r);
    const char *opts2[] = {url_opt(0, "urls", "/redirect/7"), NULL};
    r = run(opts2);
    assert_int_equal(r.n, 0);
    assert_int_equal(nfails, 1);
    assert_non_null(strstr(fails[0].msg, "/redirect/7: "));
    assert_non_null(strstr(fails[0].msg, "edirect"));
    done(&r);
}

static void slow_response_times_out(void **s)
{
    const char *opts[] = {url_opt(0, "urls", "/slow"), "timeout=500ms",
                          "retries=0", NULL};
    result r = run(opts);
    assert_int_equal(r.n, 0);
    assert_int_equal(nfails, 1);
    assert_non_null(strstr(fails[0].msg, "/slow: "));
    assert_non_null(strstr(fails[0].msg, "timed out"));
    assert_true(r.seconds < 2.0);
    /* It did not spin while it waited. */
    assert_true(r.calls < 200);
    done(&r);
}

static void body_over_max_bytes(void **s)
{
    const char *paths[] = {"/big", "/big-chunked"};
    for (int i = 0; i < 2; i++) {
        const char *opts[] = {url_opt(0, "urls", paths[i]), "max_bytes=1M",
                              NULL};
        result r = run(opts);
        char want[256];
        assert_int_equal(r.n, 0);
        assert_int_equal(nfails, 1);
        snprintf(want, sizeof want,
                 "GET %s%s: body exceeds max_bytes (1048576 bytes)", base,
                 paths[i]);
        assert_string_equal(fails[0].msg, want);
        done(&r);
    }
}

static void rss_and_atom_feeds(void **s)
{
    const char *opts[] = {"feeds=[\"X/feed.rss\", \"X/feed.atom\"]", NULL};
    char feeds[512];
    snprintf(feeds, sizeof feeds, "feeds=[\"%s/feed.rss\", \"%s/feed.atom\"]",
             base, base);
    opts[0] = feeds;
    result r = run(opts);
    assert_int_equal(r.n, 4);
    assert_int_equal(nfails, 0);
    const char *ids[] = {"/article/1", "/article/2", "/article/3",
                         "/article/4"};
    const char *dates[] = {"2025-03-05T10:05:00+08:00", "2025-03-06T01:00:00Z",
                           "2025-03-07T08:30:00+08:00", "2025-03-08T00:00:00Z"};
    for (int i = 0; i < 4; i++) {
        tj_record *rec = by_url(&r, ids[i]);
        assert_non_null(rec);
        assert_string_equal(str(rec, "feed_published_at"), dates[i]);
        assert_int_equal(num(rec, "status"), 200);
        assert_true(strncmp(str(rec, "url"), base, strlen(base)) == 0);
    }
    assert_int_equal(tj_harness_counter(r.h, "feed_items"), 4);
    done(&r);
}

static void local_feed_file_and_bad_feed(void **s)
{
    char path[512], opt[600];
    snprintf(path, sizeof path, "%s/feed.xml", tmpdir);
    FILE *f = fopen(path, "w");
    fprintf(f, "<rss version=\"2.0\"><channel><item><link>%s/article/9</link>"
               "<pubDate>Sat, 01 Mar 2025 12:00:00 +0800</pubDate></item>"
               "</channel></rss>", base);
    fclose(f);
    snprintf(opt, sizeof opt, "feeds=[\"%s\", \"%s/utf8.html\"]", path, base);
    const char *opts[] = {opt, NULL};
    result r = run(opts);
    assert_int_equal(r.n, 1);
    assert_string_equal(str(r.recs[0], "feed_published_at"),
                        "2025-03-01T12:00:00+08:00");
    assert_int_equal(nfails, 1); /* an HTML page is not a feed */
    assert_non_null(strstr(fails[0].msg, "/utf8.html: not an RSS or Atom feed"));
    done(&r);
}

static void urls_file_and_duplicates(void **s)
{
    char path[512], opt[600];
    snprintf(path, sizeof path, "%s/urls.txt", tmpdir);
    FILE *f = fopen(path, "w");
    fprintf(f, "# fixtures\n\n  %s/article/5  \n#%s/article/6\n%s/article/7\n"
               "%s/article/5\n", base, base, base, base);
    fclose(f);
    snprintf(opt, sizeof opt, "urls_file=%s", path);
    const char *opts[] = {opt, url_opt(1, "urls", "/article/7"), NULL};
    result r = run(opts);
    assert_int_equal(r.n, 2);
    assert_non_null(by_url(&r, "/article/5"));
    assert_non_null(by_url(&r, "/article/7"));
    done(&r);
    const char *bad[] = {"urls_file=/nonexistent/urls.txt", NULL};
    char *err = NULL;
    assert_null(tj_harness_new(taojin_stage_entry(&spy_api), bad, &err));
    assert_non_null(strstr(err, "/nonexistent/urls.txt"));
    free(err);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void local_paths(void **s)
{
    char d[300], opt[700], sub[400];
    snprintf(d, sizeof d, "%s/site", tmpdir);
    mkdir(d, 0755);
    snprintf(sub, sizeof sub, "%s/a", d);
    mkdir(sub, 0755);
    snprintf(sub, sizeof sub, "%s/a/b", d);
    mkdir(sub, 0755);
    write_file(d, "top.txt", "top");
    write_file(d, "a/one.txt", "one");
    write_file(d, "a/b/two.txt", "two");
    write_file(d, "a/b/page.html", "<p>page</p>");
    write_file(d, "a/b/新闻.txt", "新闻");
    /* ** matches zero or more directories. */
    snprintf(opt, sizeof opt, "paths=[\"%s/**/*.txt\"]", d);
    const char *opts[] = {opt, NULL};
    result r = run(opts);
    assert_int_equal(r.n, 4);
    char want[512];
    snprintf(want, sizeof want, "file://%s/a/b/two.txt", d);
    tj_record *two = by_url(&r, "/a/b/two.txt");
    assert_non_null(two);
    assert_string_equal(str(two, "url"), want);
    assert_string_equal(str(two, "body"), "two");
    assert_non_null(by_url(&r, "/top.txt"));
    tj_record *cn = by_url(&r, "/a/b/%E6%96%B0%E9%97%BB.txt");
    assert_non_null(cn);
    assert_string_equal(str(cn, "body"), "新闻");
    assert_null(by_url(&r, "page.html"));
    done(&r);
    /* A directory is read recursively; a missing path is a record error. */
    snprintf(opt, sizeof opt, "paths=[\"%s/a\", \"%s/nope.txt\"]", d, d);
    r = run(opts);
    assert_int_equal(r.n, 4);
    assert_int_equal(nfails, 1);
    assert_non_null(strstr(fails[0].msg, "nope.txt: no such file"));
    done(&r);
    /* Files over max_bytes fail; file:// URLs work through libcurl too. */
    snprintf(opt, sizeof opt, "paths=[\"%s/a/b/page.html\"]", d);
    const char *small[] = {opt, "max_bytes=4", NULL};
    r = run(small);
    assert_int_equal(r.n, 0);
    assert_int_equal(nfails, 1);
    assert_non_null(strstr(fails[0].msg, "exceeds max_bytes"));
    done(&r);
    snprintf(opt, sizeof opt, "urls=[\"file://%s/a/one.txt\"]", d);
    r = run(opts);
    assert_int_equal(r.n, 1);
    assert_string_equal(str(r.recs[0], "body"), "one");
    done(&r);
}

static void per_host_rate_limit(void **s)
{
    char opt[1024];
    int k = snprintf(opt, sizeof opt, "urls=[");
    for (int i = 20; i < 25; i++)
        k += snprintf(opt + k, sizeof opt - k, "%s\"%s/article/%d\"",
                      i > 20 ? ", " : "", base, i);
    snprintf(opt + k, sizeof opt - k, "]");
    const char *opts[] = {opt, "rate_per_host=10", NULL};
    result r = run(opts);
    assert_int_equal(r.n, 5);
    assert_true(r.seconds >= 0.38); /* 5 starts, 0.1 s apart */
    done(&r);
    /* Without the rate, per_host=1 still fetches them all, one by one. */
    const char *serial[] = {opt, "per_host=1", NULL};
    r = run(serial);
    assert_int_equal(r.n, 5);
    done(&r);
}

static void stop_is_prompt(void **s)
{
    char *err = NULL;
    const char *opts[] = {url_opt(0, "urls", "/slow"), NULL};
    tj_harness *h = tj_harness_new(taojin_stage_entry(&spy_api), opts, &err);
    assert_non_null(h);
    double t0 = now();
    assert_int_equal(tj_harness_produce(h), 1); /* starts the transfer */
    tj_harness_stop(h);
    assert_int_equal(tj_harness_produce(h), 0);
    tj_harness_free(h); /* aborts the transfer in flight */
    assert_true(now() - t0 < 1.0);
}

static void bad_options(void **s)
{
    const char *cases[][3] = {{"concurrency=0", "urls=[x]", NULL},
                              {"per_host=0", "urls=[x]", NULL},
                              {"timeout=0", "urls=[x]", NULL},
                              {"retries=1", NULL, NULL}};
    const char *words[] = {"concurrency", "per_host", "timeout",
                           "nothing to fetch"};
    for (int i = 0; i < 4; i++) {
        char *err = NULL;
        assert_null(tj_harness_new(taojin_stage_entry(&spy_api), cases[i],
                                   &err));
        assert_non_null(err);
        if (!strstr(err, words[i]))
            fail_msg("'%s' does not mention '%s'", err, words[i]);
        free(err);
    }
}

/* ---- server ------------------------------------------------------------------------ */

static int start_server(void **s)
{
    if (httpd_start("/tmp/tjfetch.XXXXXX"))
        return -1;
    spy_api = *tj__host_api();
    real_fail = spy_api.fail;
    spy_api.fail = spy_fail;
    return 0;
}

static int stop_server(void **s)
{
    return httpd_stop();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(page_fields),
        cmocka_unit_test(gzip_body_is_left_compressed),
        cmocka_unit_test(request_headers),
        cmocka_unit_test(not_found_is_a_record_error),
        cmocka_unit_test(refused_connection),
        cmocka_unit_test(server_error_succeeds_on_retry),
        cmocka_unit_test(too_many_requests_honours_retry_after),
        cmocka_unit_test(no_retry_for_client_errors),
        cmocka_unit_test(redirect_chain_keeps_final_url),
        cmocka_unit_test(slow_response_times_out),
        cmocka_unit_test(body_over_max_bytes),
        cmocka_unit_test(rss_and_atom_feeds),
        cmocka_unit_test(local_feed_file_and_bad_feed),
        cmocka_unit_test(urls_file_and_duplicates),
        cmocka_unit_test(local_paths),
        cmocka_unit_test(per_host_rate_limit),
        cmocka_unit_test(stop_is_prompt),
        cmocka_unit_test(bad_options),
    };
    return cmocka_run_group_tests(tests, start_server, stop_server);
}
