/*
 * test_incremental.c - incremental fetching through the harness against
 * the loopback server (tests/httpd/server.py): conditional requests from
 * the stored validators, 304s and unchanged bodies counted and not
 * emitted, entries stored only when a record is delivered or dropped
 * (never when it failed), local files by mtime and SHA-256, the option's
 * auto/true/false, and SHA-256 against the FIPS 180-4 vectors.
 *
 * Each case gets a fresh real state database (the harness's, the SQLite
 * store `taojin run` uses), whose entries it reads and plants directly.
 * Records are finished with the host's own tj__record_finish, as a sink
 * would.
 */
#include "harness.h" /* before cmocka.h: its fail() macro */

#include <curl/curl.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "httpd_client.h"

#include "sha256.h"

void tj__record_finish(tj_record *rec, tj_ack_status status); /* core */

/* ---- the state database ------------------------------------------------------ */

static tj_harness_state *db; /* a fresh one per case that uses it */
static int no_db;            /* runs get no state database at all */

/* The stored entry of base+path (or a full file:// URL), or NULL; valid
 * until the next call. */
static const char *entry(const char *path)
{
    char key[512];
    const char *v;
    snprintf(key, sizeof key, "%s%s", strncmp(path, "file:", 5) ? base : "",
             path);
    int rc = tj_harness_state_get(db, "fetch", key, &v);
    if (rc && rc != TJ_ENOENT)
        fail_msg("state: %s", tj__host_api()->strerror(rc));
    return v;
}

/* Fixtures: each case gets a fresh database and runs with it. */
static int fresh_db(void **s)
{
    no_db = 0;
    return (db = tj_harness_state_new(NULL)) ? 0 : -1;
}

static int drop_db(void **s)
{
    tj_harness_state_free(db);
    return 0;
}

/* ---- running the stage ------------------------------------------------------ */

#define MAX_RECS 16
typedef struct result {
    tj_harness *h;
    tj_record *recs[MAX_RECS];
    int n;
} result;

/* One run of a fetch stage made from opts, to the end of its input, with
 * the state database db (none when no_db is set). */
static result run(const char *const *opts)
{
    result r = {0};
    char *err = NULL;
    const tj_stage_desc *d = taojin_stage_entry(tj__host_api());
    r.h = no_db ? tj_harness_new(d, opts, &err)
                : tj_harness_new_with_state(d, opts, db, &err);
    if (!r.h)
        fail_msg("harness: %s", err);
    int rc;
    for (int calls = 0; (rc = tj_harness_produce(r.h)) == 1 && calls < 3000;
         calls++) {
        tj_record *rec;
        while ((rec = tj_harness_next(r.h)) && r.n < MAX_RECS)
            r.recs[r.n++] = rec;
    }
    assert_int_equal(rc, 0);
    tj_record *rec;
    while ((rec = tj_harness_next(r.h)) && r.n < MAX_RECS)
        r.recs[r.n++] = rec;
    return r;
}

/* Finishes every record with status (as a sink or a stage would), then
 * frees the stage. */
static void finish_all(result *r, tj_ack_status status)
{
    for (int i = 0; i < r->n; i++)
        tj__record_finish(r->recs[i], status);
    tj_harness_free(r->h);
}

static const char *url_opt(const char *path)
{
    static char buf[4][512];
    static int slot;
    slot = (slot + 1) % 4;
    snprintf(buf[slot], sizeof buf[slot], "urls=[\"%s%s\"]", base, path);
    return buf[slot];
}

static size_t sink(char *p, size_t s, size_t n, void *arg)
{
    return fwrite(p, s, n, (FILE *)arg);
}

/* GET base+path (the server's control and statistics pages). */
static char *get(const char *path)
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
    return buf;
}

/* How many times the server answered `status` for path. */
static int answered(const char *path, int status)
{
    char *codes = get("/_codes"), needle[600];
    snprintf(needle, sizeof needle, "\"%s\": {", path);
    const char *at = strstr(codes, needle);
    int n = 0;
    if (at) {
        const char *end = strchr(at, '}');
        char want[16];
        snprintf(want, sizeof want, "\"%d\": ", status);
        const char *s = strstr(at, want);
        if (s && s < end)
            n = atoi(s + strlen(want));
    }
    free(codes);
    return n;
}

static void assert_contains(const char *hay, const char *needle)
{
    if (!hay || !strstr(hay, needle))
        fail_msg("'%s' not found in '%s'", needle, hay ? hay : "(null)");
}

/* ---- cases ---------------------------------------------------------------------- */

static void sha256_vectors(void **s)
{
    char hex[65];
    sha256_hex_of("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb924"
                             "27ae41e4649b934ca495991b7852b855");
    sha256_hex_of("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
                             "b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha256_hex_of(two, strlen(two), hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039"
                             "a33ce45964ff2167f6ecedd419db06c1");
    sha256_ctx c; /* a million 'a', fed in uneven pieces */
    char chunk[997];
    memset(chunk, 'a', sizeof chunk);
    sha256_init(&c);
    size_t left = 1000000;
    while (left) {
        size_t k = left < sizeof chunk ? left : sizeof chunk;
        sha256_update(&c, chunk, k);
        left -= k;
    }
    sha256_hex(&c, hex);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67"
                             "f1809a48a497200e046d39ccc7112cd0");
}

static void conditional_requests_and_ack(void **s)
{
    const char *opts[] = {url_opt("/p/inc1"), NULL};
    result r = run(opts);
    assert_int_equal(r.n, 1);
    assert_null(entry("/p/inc1")); /* nothing stored before delivery */
    char sha[65];
    size_t len;
    const char *body = tj_record_get(r.recs[0], "body", &len);
    sha256_hex_of(body, len, sha);
    finish_all(&r, TJ_ACK_DELIVERED);
    assert_contains(entry("/p/inc1"), "\"etag\":\"\\\"inc1-v1\\\"\"");
    assert_contains(entry("/p/inc1"), sha);
    assert_contains(entry("/p/inc1"), "\"last_modified\":\"");

    r = run(opts); /* conditional: 304, nothing emitted */
    assert_int_equal(r.n, 0);
    assert_int_equal(tj_harness_counter(r.h, "unchanged"), 1);
    assert_int_equal(answered("/p/inc1", 304), 1);
    finish_all(&r, TJ_ACK_DELIVERED);

    free(get("/_set/inc1?v=2")); /* the page changes */
    r = run(opts);
    assert_int_equal(r.n, 1);
    assert_int_equal(tj_harness_counter(r.h, "unchanged"), 0);
    assert_contains(entry("/p/inc1"), "inc1-v1"); /* not yet acknowledged */
    finish_all(&r, TJ_ACK_DROPPED);               /* dropped on purpose */
    assert_contains(entry("/p/inc1"), "inc1-v2");
    assert_int_equal(answered("/p/inc1", 200), 2);
}

static void failed_record_is_fetched_again(void **s)
{
    const char *opts[] = {url_opt("/p/inc2"), NULL};
    result r = run(opts);
    assert_int_equal(r.n, 1);
    finish_all(&r, TJ_ACK_FAILED);
    assert_null(entry("/p/inc2"));
    r = run(opts);
    assert_int_equal(r.n, 1); /* a full GET again */
    finish_all(&r, TJ_ACK_DELIVERED);
    assert_int_equal(answered("/p/inc2", 200), 2);
    assert_int_equal(answered("/p/inc2", 304), 0);
    assert_contains(entry("/p/inc2"), "inc2-v1");
}

static void same_body_without_validators(void **s)
{
    const char *opts[] = {url_opt("/plain/inc3"), NULL};
    result r = run(opts);
    assert_int_equal(r.n, 1);
    finish_all(&r, TJ_ACK_DELIVERED);
    const char *e = entry("/plain/inc3");
    assert_non_null(e);
    assert_null(strstr(e, "etag"));
    assert_contains(e, "\"sha256\":\"");
    r = run(opts);
    assert_int_equal(r.n, 0); /* 200 again, same SHA-256 */
    assert_int_equal(tj_harness_counter(r.h, "unchanged"), 1);
    finish_all(&r, TJ_ACK_DELIVERED);
    assert_int_equal(answered("/plain/inc3", 200), 2);
}

/* The request headers the server saw, as its /_headers page reports. */
static char *headers_sent(const char *incremental)
{
    char opt[64];
    snprintf(opt, sizeof opt, "incremental=%s", incremental);
    const char *opts[] = {url_opt("/_headers"), opt, NULL};
    result r = run(opts);
    assert_int_equal(r.n, 1);
    char *h = strdup(tj_record_get(r.recs[0], "body", NULL));
    finish_all(&r, TJ_ACK_FAILED);
    return h;
}

static void option_auto_true_false(void **s)
{
    char key[256];
    snprintf(key, sizeof key, "%s/_headers", base);
    const char *planted = "{\"etag\":\"\\\"zzz\\\"\",\"last_modified\":"
                          "\"Wed, 05 Mar 2025 02:05:00 GMT\"}";
    assert_int_equal(tj_harness_state_put(db, "fetch", key, planted), 0);
    char *h = headers_sent("auto");
    assert_contains(h, "\"if-none-match\": \"\\\"zzz\\\"\"");
    assert_contains(h, "\"if-modified-since\": \"Wed, 05 Mar 2025 02:05:00");
    free(h);
    h = headers_sent("false");
    assert_null(strstr(h, "if-none-match"));
    free(h);

    no_db = 1; /* no state database */
    h = headers_sent("auto");
    assert_null(strstr(h, "if-none-match"));
    free(h);
    char *err = NULL;
    const char *opts[] = {url_opt("/p/x"), "incremental=true", NULL};
    const tj_stage_desc *d = taojin_stage_entry(tj__host_api());
    assert_null(tj_harness_new(d, opts, &err));
    assert_contains(err, "incremental: true needs a state database");
    free(err);
    const char *bad[] = {url_opt("/p/x"), "incremental=maybe", NULL};
    assert_null(tj_harness_new(d, bad, &err));
    assert_contains(err, "incremental");
    free(err);
    no_db = 0;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void set_mtime(const char *path, time_t t)
{
    struct timeval tv[2] = {{t, 0}, {t, 0}};
    assert_int_equal(utimes(path, tv), 0);
}

static void local_files_by_mtime_and_hash(void **s)
{
    char path[400], opt[420], url[420];
    snprintf(path, sizeof path, "%s/page.html", tmpdir);
    snprintf(opt, sizeof opt, "paths=[\"%s\"]", path);
    snprintf(url, sizeof url, "file://%s", path);
    write_file(path, "<p>第一版</p>");
    set_mtime(path, 1700000000);
    const char *opts[] = {opt, NULL};
    result r = run(opts);
    assert_int_equal(r.n, 1);
    finish_all(&r, TJ_ACK_DELIVERED);
    assert_contains(entry(url), "\"mtime\":\"1700000000.000000000\"");
    assert_contains(entry(url), "\"size\":");

    r = run(opts); /* same mtime and size: not even read */
    assert_int_equal(r.n, 0);
    assert_int_equal(tj_harness_counter(r.h, "unchanged"), 1);
    finish_all(&r, TJ_ACK_DELIVERED);

    set_mtime(path, 1700000100); /* touched, same bytes */
    r = run(opts);
    assert_int_equal(r.n, 0);
    assert_int_equal(tj_harness_counter(r.h, "unchanged"), 1);
    finish_all(&r, TJ_ACK_DELIVERED);
    assert_contains(entry(url), "\"mtime\":\"1700000100.000000000\"");

    write_file(path, "<p>第二版</p>"); /* same size, new content */
    set_mtime(path, 1700000200);
    r = run(opts);
    assert_int_equal(r.n, 1);
    assert_contains(tj_record_get(r.recs[0], "body", NULL), "第二版");
    finish_all(&r, TJ_ACK_DELIVERED);
    assert_contains(entry(url), "1700000200");
}

/* ---- server --------------------------------------------------------------------- */

static int start_server(void **s)
{
    return httpd_start("/tmp/tjinc.XXXXXX");
}

static int stop_server(void **s) { return httpd_stop(); }

/* A case run with a fresh state database in db. */
#define with_db(f) cmocka_unit_test_setup_teardown(f, fresh_db, drop_db)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sha256_vectors),
        with_db(conditional_requests_and_ack),
        with_db(failed_record_is_fetched_again),
        with_db(same_body_without_validators),
        with_db(option_auto_true_false),
        with_db(local_files_by_mtime_and_hash),
    };
    return cmocka_run_group_tests(tests, start_server, stop_server);
}
