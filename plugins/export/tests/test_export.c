/*
 * test_export.c - the export sink driven in-process: encoders, JSON Lines
 * and CSV files (atomic replace, gzip, append), SQLite (upsert, new
 * columns, type clash), acknowledgement after commit, and option errors.
 */
/* stage.h before cmocka.h: cmocka defines a `fail` macro. */
#include "export.h"
#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static const tj_stage_desc *desc;
static char dir[256];

static int setup(void **state)
{
    desc = taojin_stage_entry(tj__host_api());
    snprintf(dir, sizeof dir, "/tmp/tjexport.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

static char *path_in(const char *name)
{
    static char p[4][400];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

static char *slurp(const char *path, size_t *len)
{
    gzFile f = gzopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    int r;
    while ((r = gzread(f, buf + n, (unsigned)(cap - n))) > 0) {
        n += (size_t)r;
        if (n == cap)
            buf = realloc(buf, (cap *= 2) + 1);
    }
    gzclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

/* Number of entries in dir whose name starts with prefix. */
static int count_entries(const char *prefix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)))
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
            n++;
    closedir(d);
    return n;
}

static tj_harness *open_h(const char **opts)
{
    char *err = NULL;
    tj_harness *h = tj_harness_new(desc, opts, &err);
    if (!h)
        fail_msg("harness: %s", err);
    return h;
}

/* A record like the pipeline's: text, int, double, JSON, bytes. */
static tj_record *sample(int i)
{
    tj_record *r = tj_record_new();
    char url[64];
    snprintf(url, sizeof url, "http://example.cn/a/%d", i);
    tj_record_set_str(r, "url", url);
    tj_record_set_str(r, "title", "英伟达\"财报\"\n第二行");
    tj_record_set_int(r, "status", 200 + i);
    tj_record_set_double(r, "score", 0.5);
    const char *js = "{\n  \"a\": [1, 2],\n  \"s\": \"x y\"\n}";
    tj_record_set_json(r, "quality", js, strlen(js));
    return r;
}

/* ---- encoders ---------------------------------------------------------- */
/* The SSSE3 validator and the portable one agree on random byte strings
 * built from valid sequences with a byte replaced now and then, and on
 * random bytes. */
static void test_utf8_vector_matches_scalar(void **state)
{
    static const char *seqs[] = {"a", "\xc2\x80", "\xe4\xb8\xad",
                                 "\xf0\x9f\x98\x80", "\xed\x9f\xbf",
                                 "\xf4\x8f\xbf\xbf", "\xe0\xa0\x80",
                                 "\xdf\xbf", "\n"};
    static const unsigned char odd[] = {0x80, 0xbf, 0xc0, 0xc1, 0xe0, 0xed,
                                        0xf0, 0xf4, 0xf5, 0xff, 0x9f, 0xa0};
    uint64_t x = 88172645463325252ull;
    unsigned char b[90];
    long valid = 0;
    for (int it = 0; it < 300000; it++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t n = 0, want = x % 80;
        while (n < want) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            const char *q = seqs[x % 9];
            size_t l = strlen(q);
            if (it % 3 == 0)
                b[n++] = odd[(x >> 8) % sizeof odd];
            else if (n + l <= sizeof b)
                memcpy(b + n, q, l), n += l;
            else
                break;
        }
        if (n && it % 3 == 1)
            b[(x >> 16) % n] = odd[(x >> 24) % sizeof odd];
        bool v = ex_utf8_valid_scalar((char *)b, n);
        valid += v;
        assert_int_equal(ex_utf8_valid((char *)b, n), v);
    }
    assert_true(valid > 50000); /* both outcomes were exercised */
}

/* Encodes s[0..n) with ex_json_bytes and ex_json_compact, with the vector
 * loops and with the byte loops, and fails unless both give the same
 * bytes. */
static void json_both_ways(const char *s, size_t n)
{
    ex_buf fast = {0}, slow = {0};
    ex_json_scalar_only = 0;
    assert_int_equal(ex_json_bytes(&fast, s, n), 0);
    assert_int_equal(ex_json_compact(&fast, s, n), 0);
    ex_json_scalar_only = 1;
    assert_int_equal(ex_json_bytes(&slow, s, n), 0);
    assert_int_equal(ex_json_compact(&slow, s, n), 0);
    ex_json_scalar_only = 0;
    assert_int_equal(fast.len, slow.len);
    assert_memory_equal(fast.data, slow.data, fast.len);
    ex_buf_free(&fast);
    ex_buf_free(&slow);
}

/* The 32- and 16-byte JSON loops (string escapes, the compact scan,
 * the short printable-ASCII copy) and the byte loops agree on 200 000
 * random strings of up to 300 bytes: Chinese text and ASCII with quotes,
 * backslashes, line ends and other controls at random places, so escapes
 * fall at every offset of a block, in runs and at the ends; some strings
 * are not UTF-8 (base64). */
static void test_json_vector_matches_scalar(void **state)
{
    static const char *parts[] = {"中", "文", "a", "bc", " ", "\"", "\\",
                                  "\n", "\r\n", "\t", "\x01", "\x1f",
                                  "{\"k\": [1, 2]}", "\xf0\x9f\x98\x80",
                                  "\x7f", "~"};
    uint64_t x = 0x9E3779B97F4A7C15ull;
    char b[320];
    for (int it = 0; it < 200000; it++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t n = 0, want = x % 300;
        /* 0: mostly Chinese without escapes (long vector runs); 1: mostly
         * printable ASCII (the short-string copy); else anything. */
        unsigned mode = (unsigned)(x >> 20) % 4;
        if (mode == 1)
            want %= 40;
        while (n < want) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            const char *q = parts[x % 16];
            if (mode == 0 && x % 8)
                q = parts[x % 3];
            else if (mode == 1 && x % 16)
                q = parts[2 + x % 3];
            size_t l = strlen(q);
            if (n + l > sizeof b)
                break;
            memcpy(b + n, q, l);
            n += l;
        }
        if (n && it % 50 == 0)
            b[(x >> 16) % n] = (char)0xff; /* not UTF-8 */
        json_both_ways(b, n);
    }
}

static void test_encoders(void **state)
{
    ex_buf b = {0};
    assert_true(ex_utf8_valid("abc 中文", strlen("abc 中文")));
    assert_false(ex_utf8_valid("\xff", 1));
    assert_false(ex_utf8_valid("\xc0\xaf", 2));         /* overlong */
    assert_false(ex_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    assert_false(ex_utf8_valid("\xe4\xb8", 2));         /* truncated */
    assert_true(ex_utf8_valid("\xf0\x9f\x98\x80", 4));  /* emoji */
    /* The vector check works in 16-byte blocks: sequences across a block
     * boundary, and cut off by the end, must be judged like the rest. */
    char u8[40];
    memset(u8, 'a', sizeof u8);
    memcpy(u8 + 14, "\xe4\xb8\xad", 3); /* straddles bytes 15/16 */
    assert_true(ex_utf8_valid(u8, 33));
    memcpy(u8 + 31, "\xf0\x9f\x98", 3); /* cut off at the end */
    assert_false(ex_utf8_valid(u8, 34));
    assert_true(ex_utf8_valid(u8, 31));
    u8[20] = (char)0x80; /* a lone continuation */
    assert_false(ex_utf8_valid(u8, 31));
    ex_json_bytes(&b, "a\"\\\n\x01中", strlen("a\"\\\n\x01中"));
    assert_string_equal(b.data, "\"a\\\"\\\\\\n\\u0001中\"");
    b.len = 0;
    /* Escapes found by the 16-byte scan, at block edges and inside. */
    const char *lng = "\x01" "abcdefghijklmno\"中文pqrstuvw\nxyz\\end-of-line-16+\t";
    ex_json_bytes(&b, lng, strlen(lng));
    assert_string_equal(b.data, "\"\\u0001abcdefghijklmno\\\"中文pqrstuvw\\nxyz"
                                "\\\\end-of-line-16+\\t\"");
    b.len = 0;
    ex_json_bytes(&b, "\xff\x00\x01", 3);
    assert_string_equal(b.data, "{\"$base64\":\"/wAB\"}");
    b.len = 0;
    ex_json_compact(&b, "{ \"a b\" :\n [1, 2] }", 19);
    assert_string_equal(b.data, "{\"a b\":[1,2]}");
    b.len = 0; /* raw controls inside strings (lenient producers) escaped */
    ex_json_compact(&b, "[\"a\nb\x01\", \t1]", 12);
    assert_string_equal(b.data, "[\"a\\nb\\u0001\",1]");
    b.len = 0;
    ex_double_text(&b, 1.0, true);
    ex_buf_addc(&b, ' ');
    ex_double_text(&b, 0.1, true);
    ex_buf_addc(&b, ' ');
    ex_double_text(&b, 1e300, true);
    ex_buf_addc(&b, ' ');
    ex_double_text(&b, 0.0 / 0.0, true);
    assert_string_equal(b.data, "1.0 0.1 1e+300 null");
    b.len = 0;
    ex_csv_cell(&b, "plain", 5);
    ex_buf_addc(&b, '|');
    ex_csv_cell(&b, "a,\"b\"\r\n", 7);
    assert_string_equal(b.data, "plain|\"a,\"\"b\"\"\r\n\"");
    b.len = 0;
    ex_base64(&b, (const unsigned char *)"ab", 2);
    assert_string_equal(b.data, "YWI=");
    ex_buf_free(&b);
}

/* ---- jsonl ---------------------------------------------------------------- */
static void test_jsonl_atomic_roundtrip(void **state)
{
    const char *p = path_in("out.jsonl");
    char opt[500];
    snprintf(opt, sizeof opt, "path=%s", p);
    const char *opts[] = {"format=jsonl", opt, NULL};
    tj_harness *h = open_h(opts);
    tj_record *r = sample(1);
    tj_record_set(r, "raw", "\xff\xfeok", 4);
    assert_int_equal(tj_harness_process(h, r), 0);
    assert_int_equal(tj_harness_process(h, sample(2)), 0);
    /* Nothing at path before the run ends; a hidden temporary beside it. */
    assert_int_equal(access(p, F_OK), -1);
    assert_int_equal(count_entries(".out.jsonl.tmp-"), 1);
    assert_int_equal(tj_harness_counter(h, "out"), 0);
    assert_int_equal(tj_harness_flush(h), 0);
    assert_int_equal(tj_harness_counter(h, "out"), 2);
    tj_harness_free(h);
    assert_int_equal(count_entries(".out.jsonl.tmp-"), 0);
    char *text = slurp(p, NULL);
    assert_non_null(text);
    assert_string_equal(
        text,
        "{\"url\":\"http://example.cn/a/1\",\"title\":\"英伟达\\\"财报\\\"\\n"
        "第二行\",\"status\":201,\"score\":0.5,\"quality\":{\"a\":[1,2],"
        "\"s\":\"x y\"},\"raw\":{\"$base64\":\"//5vaw==\"}}\n"
        "{\"url\":\"http://example.cn/a/2\",\"title\":\"英伟达\\\"财报\\\"\\n"
        "第二行\",\"status\":202,\"score\":0.5,\"quality\":{\"a\":[1,2],"
        "\"s\":\"x y\"}}\n");
    free(text);
}

static void test_jsonl_failed_run_leaves_nothing(void **state)
{
    const char *p = path_in("keep.jsonl");
    FILE *f = fopen(p, "w");
    fputs("old\n", f);
    fclose(f);
    char opt[500];
    snprintf(opt, sizeof opt, "path=%s", p);
    const char *opts[] = {"format=jsonl", opt, NULL};
    tj_harness *h = open_h(opts);
    for (int i = 0; i < 100; i++)
        assert_int_equal(tj_harness_process(h, sample(i)), 0);
    tj_harness_free(h); /* no flush: the run failed */
    char *text = slurp(p, NULL);
    assert_string_equal(text, "old\n");
    free(text);
    assert_int_equal(count_entries(".keep.jsonl.tmp-"), 0);
}

static void test_jsonl_gz_fields_exclude(void **state)
{
    const char *p = path_in("out.jsonl.gz");
    char opt[500];
    snprintf(opt, sizeof opt, "path=%s", p);
    /* no format: inferred from the name */
    const char *opts[] = {opt, "fields=[status, url, nope]",
                          "exclude=[url]", NULL};
    tj_harness *h = open_h(opts);
    for (int i = 0; i < 3; i++)
        assert_int_equal(tj_harness_process(h, sample(i)), 0);
    assert_int_equal(tj_harness_flush(h), 0);
    tj_harness_free(h);
    FILE *raw = fopen(p, "rb");
    unsigned char magic[2] = {0};
    assert_int_equal(fread(magic, 1, 2, raw), 2);
    fclose(raw);
    assert_int_equal(magic[0], 0x1f);
    assert_int_equal(magic[1], 0x8b);
    char *text = slurp(p, NULL);
    assert_string_equal(text, "{\"status\":200}\n{\"status\":201}\n"
                              "{\"status\":202}\n");
    free(text);
}

static int acks[3];
static void on_ack(void *arg, tj_ack_status s) { acks[s]++; }

static void test_jsonl_append_acks_per_batch(void **state)
{
    const char *p = path_in("app.jsonl");
    FILE *f = fopen(p, "w");
    fputs("{\"old\":1}\n", f);
    fclose(f);
    char opt[500];
    snprintf(opt, sizeof opt, "path=%s", p);
    const char *opts[] = {"format=jsonl", opt, "append=true", "batch=2",
                          "fields=[status]", NULL};
    tj_harness *h = open_h(opts);
    memset(acks, 0, sizeof acks);
    for (int i = 0; i < 3; i++) {
        tj_record *r = sample(i);
        tj_record_set_ack(r, on_ack, NULL);
        assert_int_equal(tj_harness_process(h, r), 0);
        assert_int_equal(acks[TJ_ACK_DELIVERED], i >= 1 ? 2 : 0);
    }
    /* The first batch is on disk already. */
    char *text = slurp(p, NULL);
    assert_string_equal(text, "{\"old\":1}\n{\"status\":200}\n"
                              "{\"status\":201}\n");
    free(text);
    assert_int_equal(tj_harness_flush(h), 0);
    assert_int_equal(acks[TJ_ACK_DELIVERED], 3);
    tj_harness_free(h);
    text = slurp(p, NULL);
    assert_string_equal(text, "{\"old\":1}\n{\"status\":200}\n"
                              "{\"status\":201}\n{\"status\":202}\n");
    free(text);
}

static void test_jsonl_acks_at_flush(void **state)
{
    const char *p = path_in("acks.jsonl");
    char opt[500];
    snprintf(opt, sizeof opt, "path=%s", p);
    const char *opts[] = {"format=jsonl", opt, "batch=1", NULL};
    tj_harness *h = open_h(opts);
    memset(acks, 0, sizeof acks);
    for (int i = 0; i < 5; i++) {
        tj_record *r = sample(i);
        tj_record_set_ack(r, on_ack, NULL);
        assert_int_equal(tj_harness_process(h, r), 0);
    }
    assert_int_equal(acks[TJ_ACK_DELIVERED], 0);
    assert_int_equal(tj_harness_flush(h), 0);
    assert_int_equal(acks[TJ_ACK_DELIVERED], 5);
    tj_harness_free(h);
    /* A run that fails before flush: every record is failed. */
    h = open_h(opts);
    memset(acks, 0, sizeof acks);
    tj_record *r = sample(9);
    tj_record_set_ack(r, on_ack, NULL);
    assert_int_equal(tj_harness_process(h, r), 0);
    tj_harness_free(h);
    assert_int_equal(acks[TJ_ACK_FAILED], 1);
    assert_int_equal(acks[TJ_ACK_DELIVERED], 0);
}

static void test_jsonl_stopped_run_leaves_nothing(void **state)
{
    const char *p = path_in("stopped.jsonl");
    char opt[500];
    snprintf(opt, sizeof opt, "path=%s", p);
    const char *opts[] = {"format=jsonl", opt, NULL};
    tj_harness *h = open_h(opts);
    memset(acks, 0, sizeof acks);
    for (int i = 0; i < 3; i++) {
        tj_record *r = sample(i);
        tj_record_set_ack(r, on_ack, NULL);
        assert_int_equal(tj_harness_process(h, r), 0);
    }
    tj_harness_stop(h); /* another stage failed the run, or a signal */
    assert_int_not_equal(tj_harness_flush(h), 0);
    char want[600];
    snprintf(want, sizeof want, "the run stopped before the end of its "
                                "input: %s is left unchanged", p);
    assert_string_equal(tj_harness_error(h), want);
    assert_int_equal(acks[TJ_ACK_FAILED], 3);
    tj_harness_free(h);
    assert_int_equal(access(p, F_OK), -1);
    assert_int_equal(count_entries(".stopped.jsonl.tmp-"), 0);
}

/* ---- csv ------------------------------------------------------------------ */
static void test_csv(void **state)
{
    const char *p = path_in("out.csv");
    char opt[500];
    snprintf(opt, sizeof opt, "path=%s", p);
    const char *opts[] = {"format=csv", opt, "batch=2", NULL};
    tj_harness *h = open_h(opts);
    tj_record *r = tj_record_new();
    tj_record_set_str(r, "url", "u1");
    tj_record_set_str(r, "title", "a,\"b\"");
    assert_int_equal(tj_harness_process(h, r), 0);
    r = tj_record_new();
    tj_record_set_str(r, "url", "u2");
    tj_record_set_int(r, "n", 7);
    const char *js = "{\"k\": [1]}";
    tj_record_set_json(r, "j", js, strlen(js));
    assert_int_equal(tj_harness_process(h, r), 0);
    r = tj_record_new(); /* after the header: 'late' has no column */
    tj_record_set_str(r, "url", "u3");
    tj_record_set_str(r, "late", "x");
    assert_int_equal(tj_harness_process(h, r), 0);
    assert_int_equal(tj_harness_flush(h), 0);
    assert_int_equal(tj_harness_counter(h, "csv_dropped_fields"), 1);
    tj_harness_free(h);
    char *text = slurp(p, NULL);
    assert_string_equal(text, "url,title,n,j\r\n"
                              "u1,\"a,\"\"b\"\"\",,\r\n"
                              "u2,,7,\"{\"\"k\"\": [1]}\"\r\n"
                              "u3,,,\r\n");
    free(text);
}

/* ---- sqlite ------------------------------------------------------------------ */
static char *query(const char *db, const char *sql)
{
    sqlite3 *d;
    sqlite3_stmt *s;
    static char out[4096];
    out[0] = '\0';
    assert_int_equal(sqlite3_open(db, &d), SQLITE_OK);
    if (sqlite3_prepare_v2(d, sql, -1, &s, NULL) != SQLITE_OK) {
        snprintf(out, sizeof out, "ERR %s", sqlite3_errmsg(d));
        sqlite3_close(d);
        return out;
    }
    while (sqlite3_step(s) == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(s); i++) {
            const char *v = (const char *)sqlite3_column_text(s, i);
            strncat(out, v ? v : "NULL", sizeof out - strlen(out) - 2);
            strcat(out, i + 1 < sqlite3_column_count(s) ? "|" : ";");
        }
    }
    sqlite3_finalize(s);
    sqlite3_close(d);
    return out;
}

static void run_sqlite(const char **opts, int n, int status_base)
{
    tj_harness *h = open_h(opts);
    for (int i = 0; i < n; i++) {
        tj_record *r = sample(i % 3);
        tj_record_set_int(r, "status", status_base + i);
        assert_int_equal(tj_harness_process(h, r), 0);
    }
    assert_int_equal(tj_harness_flush(h), 0);
    assert_int_equal(tj_harness_counter(h, "out"), n);
    tj_harness_free(h);
}

static void test_sqlite_upsert(void **state)
{
    const char *db = path_in("t.db");
    char opt[500];
    snprintf(opt, sizeof opt, "path=%s", db);
    const char *opts[] = {opt, "table=news", "batch=2", NULL};
    run_sqlite(opts, 3, 100);
    run_sqlite(opts, 6, 500); /* same keys again, updated */
    assert_string_equal(query(db, "SELECT count(*) FROM news"), "3;");
    assert_string_equal(
        query(db, "SELECT url, status, json_extract(quality,'$.a[1]'), "
                  "typeof(score) FROM news ORDER BY url"),
        "http://example.cn/a/0|503|2|real;http://example.cn/a/1|504|2|real;"
        "http://example.cn/a/2|505|2|real;");
    assert_string_equal(query(db, "PRAGMA journal_mode"), "wal;");
    assert_string_equal(
        query(db, "SELECT name, type FROM pragma_table_info('news')"),
        "url|TEXT;title|TEXT;status|INTEGER;score|REAL;quality|JSON TEXT;");
    /* mode: append keeps every record */
    const char *app[] = {opt, "table=log", "mode=append", NULL};
    run_sqlite(app, 3, 0);
    run_sqlite(app, 3, 0);
    assert_string_equal(query(db, "SELECT count(*) FROM log"), "6;");
}

static void test_sqlite_columns_and_clash(void **state)
{
    const char *db = path_in("c.db");
    char opt[500];
    snprintf(opt, sizeof opt, "path=%s", db);
    const char *opts[] = {opt, "exclude=[title, quality]", NULL};
    tj_harness *h = open_h(opts);
    memset(acks, 0, sizeof acks);
    assert_int_equal(tj_harness_process(h, sample(1)), 0);
    tj_record *r = sample(2);
    tj_record_set_str(r, "author", "刘一鸣");
    assert_int_equal(tj_harness_process(h, r), 0);
    r = sample(3);
    tj_record_set_str(r, "status", "not a number");
    tj_record_set_ack(r, on_ack, NULL);
    assert_int_not_equal(tj_harness_process(h, r), 0);
    char want[600];
    snprintf(want, sizeof want, "type clash: field 'status' is bytes "
                                "but column 'status' of table 'records' in %s "
                                "is INTEGER", db);
    assert_string_equal(tj_harness_error(h), want);
    assert_int_equal(acks[TJ_ACK_FAILED], 1);
    r = tj_record_new(); /* no key */
    tj_record_set_str(r, "title", "x");
    assert_int_not_equal(tj_harness_process(h, r), 0);
    assert_non_null(strstr(tj_harness_error(h), "record has no 'url' field"));
    assert_int_equal(tj_harness_flush(h), 0);
    assert_int_equal(tj_harness_counter(h, "failed"), 2);
    assert_int_equal(tj_harness_counter(h, "out"), 2);
    tj_harness_free(h);
    assert_string_equal(
        query(db, "SELECT url, status, author FROM records ORDER BY url"),
        "http://example.cn/a/1|201|NULL;http://example.cn/a/2|202|刘一鸣;");
}

static void test_sqlite_batch_timeout(void **state)
{
    const char *db = path_in("bt.db");
    char opt[500];
    snprintf(opt, sizeof opt, "path=%s", db);
    const char *opts[] = {opt, "batch=100", "batch_timeout=50ms", NULL};
    tj_harness *h = open_h(opts);
    memset(acks, 0, sizeof acks);
    for (int i = 0; i < 2; i++) {
        tj_record *r = sample(i);
        tj_record_set_ack(r, on_ack, NULL);
        assert_int_equal(tj_harness_process(h, r), 0);
        if (i == 0)
            usleep(80 * 1000);
    }
    /* The second arrival found the batch older than 50 ms: committed. */
    assert_int_equal(acks[TJ_ACK_DELIVERED], 2);
    assert_string_equal(query(db, "SELECT count(*) FROM records"), "2;");
    assert_int_equal(tj_harness_flush(h), 0);
    assert_int_equal(tj_harness_counter(h, "batches"), 1);
    tj_harness_free(h);
}

static off_t file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? sb.st_size : 0;
}

/* Checkpoints run in a thread (ckpt.c) with a WAL threshold of 16 pages:
 * 3000 upserts of ~3 KB (1000 of them updates) in batches of 50.  While
 * the run goes on the WAL stays under four thresholds plus a batch, the
 * database file fills, and a reader sees each committed batch; at the end
 * every row is there with its last values and the WAL file is gone. */
static void test_sqlite_background_checkpoints(void **state)
{
    const char *db = path_in("ck.db");
    char wal[500], opt[500], body[3001];
    snprintf(wal, sizeof wal, "%s-wal", db);
    snprintf(opt, sizeof opt, "path=%s", db);
    memset(body, 'x', 3000);
    body[3000] = '\0';
    const char *opts[] = {opt, "batch=50", NULL};
    int passes = ex_ckpt_passes;
    ex_sqlite_wal_frames = 16;
    tj_harness *h = open_h(opts);
    memset(acks, 0, sizeof acks);
    off_t max_wal = 0;
    for (int i = 0; i < 3000; i++) {
        tj_record *r = sample(i % 2000);
        tj_record_set_int(r, "status", i);
        tj_record_set_str(r, "body", body);
        tj_record_set_ack(r, on_ack, NULL);
        assert_int_equal(tj_harness_process(h, r), 0);
        if (i % 50 == 49) {
            off_t w = file_size(wal);
            max_wal = w > max_wal ? w : max_wal;
            assert_int_equal(acks[TJ_ACK_DELIVERED], i + 1);
            char want[32];
            snprintf(want, sizeof want, "%d;", i < 2000 ? i + 1 : 2000);
            assert_string_equal(query(db, "SELECT count(*) FROM records"),
                                want);
        }
    }
    assert_int_equal(tj_harness_flush(h), 0);
    off_t db_before_close = file_size(db);
    tj_harness_free(h);
    ex_sqlite_wal_frames = 0;
    /* 4 thresholds of 16 pages, a batch (~10 pages) and the index pages. */
    assert_true(max_wal > 0);
    assert_true(max_wal < (4 * 16 + 40) * (16384 + 24) + 32);
    assert_true(db_before_close > 4 * 1000 * 1000);
    assert_true(ex_ckpt_passes > passes);
    assert_int_equal(file_size(wal), 0);
    assert_string_equal(query(db, "PRAGMA integrity_check"), "ok;");
    assert_string_equal(query(db, "SELECT count(*), sum(status), "
                                  "sum(length(body)) FROM records"),
                        "2000|3999000|6000000;");
    assert_string_equal(query(db, "SELECT status FROM records WHERE url = "
                                  "'http://example.cn/a/999'"),
                        "2999;");
}

/* ---- errors ---------------------------------------------------------------------- */
static void expect_init_error(const char **opts, const char *needle)
{
    char *err = NULL;
    tj_harness *h = tj_harness_new(desc, opts, &err);
    assert_null(h);
    assert_non_null(err);
    if (!strstr(err, needle))
        fail_msg("'%s' not in '%s'", needle, err);
    free(err);
}

static void test_init_errors(void **state)
{
    const char *a[] = {"format=jsonl", NULL};
    expect_init_error(a, "format jsonl needs `path`");
    const char *a2[] = {NULL};
    expect_init_error(a2, "format sqlite needs `path`");
    const char *b[] = {"format=jsonl", "path=/dev/null/dir/x.jsonl", NULL};
    expect_init_error(b, "cannot create a file in directory /dev/null/dir "
                         "(for /dev/null/dir/x.jsonl): Not a directory");
    const char *c[] = {"path=/dev/null/dir/x.db", NULL};
    expect_init_error(c, "cannot create sqlite database /dev/null/dir/x.db:"
                         " directory /dev/null/dir: Not a directory");
    const char *d[] = {"format=postgres", NULL};
    expect_init_error(d, "format postgres needs `dsn`");
    const char *e[] = {"path=x.db", "exclude=[url]", NULL};
    expect_init_error(e, "the upsert key 'url' must be exported");
    const char *f[] = {"format=xml", "path=x", NULL};
    expect_init_error(f, "xml");
    const char *g[] = {"format=postgres",
                       "dsn=host=127.0.0.1 port=1 dbname=x user=x "
                       "password=secret connect_timeout=2",
                       NULL};
    char *err = NULL;
    assert_null(tj_harness_new(desc, g, &err));
    assert_non_null(strstr(err, "cannot connect to PostgreSQL host 127.0.0.1 "
                                "port 1 database x"));
    assert_null(strstr(err, "secret"));
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encoders),
        cmocka_unit_test(test_jsonl_atomic_roundtrip),
        cmocka_unit_test(test_jsonl_failed_run_leaves_nothing),
        cmocka_unit_test(test_jsonl_gz_fields_exclude),
        cmocka_unit_test(test_utf8_vector_matches_scalar),
        cmocka_unit_test(test_json_vector_matches_scalar),
        cmocka_unit_test(test_jsonl_append_acks_per_batch),
        cmocka_unit_test(test_jsonl_acks_at_flush),
        cmocka_unit_test(test_jsonl_stopped_run_leaves_nothing),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_sqlite_upsert),
        cmocka_unit_test(test_sqlite_columns_and_clash),
        cmocka_unit_test(test_sqlite_batch_timeout),
        cmocka_unit_test(test_sqlite_background_checkpoints),
        cmocka_unit_test(test_init_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
