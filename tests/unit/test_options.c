/* Options as data: conversion of every type, defaults, and the messages for
 * unknown options, wrong types and bad values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

typedef struct {
    const char *format;
    int64_t batch;
    int gzip;
    double ratio;
    int64_t max;
    double timeout;
    tj_list fields;
    tj_map headers;
    const char *path;
} cfg_t;

static const tj_option opts[] = {
    {"format", TJ_OPT_STRING, "jsonl", 0, "jsonl|csv|sqlite", "output format", offsetof(cfg_t, format)},
    {"batch", TJ_OPT_INT, "500", 0, NULL, "records per batch", offsetof(cfg_t, batch)},
    {"gzip", TJ_OPT_BOOL, "false", 0, NULL, "compress", offsetof(cfg_t, gzip)},
    {"ratio", TJ_OPT_DOUBLE, "0.5", 0, NULL, "a ratio", offsetof(cfg_t, ratio)},
    {"max_bytes", TJ_OPT_SIZE, "16M", 0, NULL, "limit", offsetof(cfg_t, max)},
    {"timeout", TJ_OPT_DURATION, "30s", 0, NULL, "timeout", offsetof(cfg_t, timeout)},
    {"fields", TJ_OPT_LIST, "[url, title]", 0, NULL, "columns", offsetof(cfg_t, fields)},
    {"headers", TJ_OPT_MAP, NULL, 0, NULL, "extra headers", offsetof(cfg_t, headers)},
    {"path", TJ_OPT_STRING, NULL, 1, NULL, "where to write", offsetof(cfg_t, path)},
    TJ_OPTION_END};

static const tj_stage_desc desc = {TJ_ABI_VERSION, sizeof(tj_stage_desc), "export", "x",
                                   TJ_SINK, opts, sizeof(cfg_t), NULL, NULL, NULL, NULL, NULL};

static tj_node *last_root;

/* Converts the `with` of a YAML text; the tree stays alive (config strings
 * point into it) until the next call. */
static int convert(const char *yaml, tj_config *cfg, tj_err *err)
{
    tj__node_free(last_root);
    last_root = tj__node_parse(yaml, strlen(yaml), "p.yaml", true, err);
    assert_non_null(last_root);
    tj_node *with = tj__node_get(last_root, "with");
    return tj__options_convert(&desc, "out", with, with, cfg, err);
}

static void test_defaults_and_types(void **st)
{
    tj_config cfg;
    tj_err err;
    const char *y = "with:\n  path: /tmp/x\n  gzip: yes\n  max_bytes: 512k\n"
                    "  timeout: 1m30s\n  headers: {A: b}\n  fields: body\n";
    tj_node *root = tj__node_parse(y, strlen(y), "p.yaml", true, &err);
    assert_non_null(root);
    assert_int_equal(tj__options_convert(&desc, "out", tj__node_get(root, "with"), root, &cfg, &err), 0);
    cfg_t *c = cfg.data;
    assert_string_equal(c->format, "jsonl");
    assert_int_equal(c->batch, 500);
    assert_int_equal(c->gzip, 1);
    assert_true(c->ratio == 0.5);
    assert_int_equal(c->max, 512 * 1024);
    assert_true(c->timeout == 90.0);
    assert_int_equal(c->fields.n, 1);
    assert_string_equal(c->fields.items[0], "body");
    assert_int_equal(c->headers.n, 1);
    assert_string_equal(c->headers.keys[0], "A");
    assert_string_equal(c->headers.values[0], "b");
    assert_string_equal(c->path, "/tmp/x");
    tj__config_free(&cfg);
    tj__node_free(root);
}

static void test_list_default(void **st)
{
    tj_config cfg;
    tj_err err;
    assert_int_equal(convert("with: {path: a}", &cfg, &err), 0);
    cfg_t *c = cfg.data;
    assert_int_equal(c->fields.n, 2);
    assert_string_equal(c->fields.items[1], "title");
    assert_int_equal(c->max, 16 << 20);
    tj__config_free(&cfg);
}

static void test_unknown_option_did_you_mean(void **st)
{
    tj_config cfg;
    tj_err err;
    assert_int_equal(convert("with:\n  path: a\n  formt: csv\n", &cfg, &err), TJ_ECONFIG);
    assert_string_equal(err.msg, "p.yaml:3:3: stage 'out': unknown option 'formt' (did you "
                                 "mean 'format'?); allowed: format, batch, gzip, ratio, "
                                 "max_bytes, timeout, fields, headers, path");
}

static void test_bad_values(void **st)
{
    tj_config cfg;
    tj_err err;
    assert_int_equal(convert("with: {path: a, batch: ten}", &cfg, &err), TJ_ECONFIG);
    assert_string_equal(err.msg, "p.yaml:1:24: stage 'out': option 'batch': expected an "
                                 "integer (got 'ten')");
    assert_int_equal(convert("with: {path: a, format: xml}", &cfg, &err), TJ_ECONFIG);
    assert_string_equal(err.msg, "p.yaml:1:25: stage 'out': option 'format': value not "
                                 "allowed; allowed: jsonl, csv, sqlite (got 'xml')");
    assert_int_equal(convert("with: {path: a, max_bytes: 12Q}", &cfg, &err), TJ_ECONFIG);
    assert_non_null(strstr(err.msg, "expected a size such as 512k"));
    assert_int_equal(convert("with: {path: a, timeout: soon}", &cfg, &err), TJ_ECONFIG);
    assert_non_null(strstr(err.msg, "option 'timeout': expected a duration"));
    assert_int_equal(convert("with: {path: a, gzip: maybe}", &cfg, &err), TJ_ECONFIG);
    assert_non_null(strstr(err.msg, "expected true or false"));
    assert_int_equal(convert("with: {path: [a, b]}", &cfg, &err), TJ_ECONFIG);
    assert_non_null(strstr(err.msg, "expected a single value"));
    assert_int_equal(convert("with: {path: a, headers: [x]}", &cfg, &err), TJ_ECONFIG);
    assert_non_null(strstr(err.msg, "expected a mapping"));
}

static void test_missing_required(void **st)
{
    tj_config cfg;
    tj_err err;
    assert_int_equal(convert("with: {format: csv}", &cfg, &err), TJ_ECONFIG);
    assert_string_equal(err.msg, "p.yaml:1:7: stage 'out': missing required option 'path' "
                                 "(where to write)");
}

static void test_variables(void **st)
{
    tj_config cfg;
    tj_err err;
    setenv("TJ_TEST_DIR", "/data", 1);
    unsetenv("TJ_TEST_UNSET");
    assert_int_equal(convert("with: {path: '${TJ_TEST_DIR}/out.db', format: "
                             "'${TJ_TEST_UNSET:-csv}'}", &cfg, &err), 0);
    assert_string_equal(((cfg_t *)cfg.data)->path, "/data/out.db");
    assert_string_equal(((cfg_t *)cfg.data)->format, "csv");
    tj__config_free(&cfg);
    tj_node *n = tj__node_parse("with:\n  path: ${TJ_TEST_UNSET}/x\n", 31, "p.yaml", true, &err);
    assert_null(n);
    assert_string_equal(err.msg, "p.yaml:2:9: variable 'TJ_TEST_UNSET' is not set (use "
                                 "${TJ_TEST_UNSET:-default} for a fallback)");
}

static void test_parsers(void **st)
{
    int64_t sz;
    double d;
    assert_int_equal(tj__parse_size("1G", &sz), 0);
    assert_int_equal(sz, 1LL << 30);
    assert_int_equal(tj__parse_size("64MiB", &sz), 0);
    assert_int_equal(sz, 64LL << 20);
    assert_int_equal(tj__parse_size("-1", &sz), TJ_EINVAL);
    assert_int_equal(tj__parse_duration("500ms", &d), 0);
    assert_true(d == 0.5);
    assert_int_equal(tj__parse_duration("2h", &d), 0);
    assert_true(d == 7200);
    assert_int_equal(tj__parse_duration("", &d), TJ_EINVAL);
    assert_int_equal(tj__parse_duration("5x", &d), TJ_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_types),
        cmocka_unit_test(test_list_default),
        cmocka_unit_test(test_unknown_option_did_you_mean),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_missing_required),
        cmocka_unit_test(test_variables),
        cmocka_unit_test(test_parsers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
