/* Pipeline files: structure checks and their messages, overrides, and
 * stage loading errors.  Fixture stages: $TJ_BUILD/tests/fixtures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"

static char head[4200];

static int setup(void **st)
{
    const char *b = getenv("TJ_BUILD");
    snprintf(head, sizeof head, "name: t\nplugin_dirs: [%s/tests/fixtures]\n",
             b ? b : "build");
    return 0;
}

/* Parses head + body (loading stages); returns rc and fills err. */
static int parse(const char *body, tj_err *err, tj_pipeline **out)
{
    char text[8192];
    snprintf(text, sizeof text, "%s%s", head, body);
    tj_pipeline *p = NULL;
    int rc = tj__pipeline_parse(text, strlen(text), "p.yaml", NULL, 0, true, &p, err);
    if (out)
        *out = p;
    else
        tj__pipeline_free(p);
    return rc;
}

static void expect(const char *body, const char *msg)
{
    tj_err err;
    assert_int_not_equal(parse(body, &err, NULL), 0);
    assert_string_equal(err.msg, msg);
}

static void test_malformed_yaml(void **st)
{
    tj_err err;
    tj_pipeline *p;
    const char *bad = "name: x\nstages: [\n  - use: gen\n";
    assert_int_equal(tj__pipeline_parse(bad, strlen(bad), "bad.yaml", NULL, 0, false, &p, &err),
                     TJ_ECONFIG);
    assert_string_equal(err.msg, "bad.yaml:3:3: did not find expected node content while "
                                 "parsing a flow node");
}

static void test_structure_errors(void **st)
{
    expect("", "p.yaml:1:1: missing 'stages' (a list of stages, the first a source)");
    expect("stages: []\n", "p.yaml:3:9: the pipeline has no stages");
    expect("stages: {a: 1}\n", "p.yaml:3:9: 'stages' must be a list");
    expect("stages:\n  - with: {}\n", "p.yaml:4:5: stage has no 'use' (the stage to run, e.g. "
                                      "use: fetch)");
    expect("stagse: []\n", "p.yaml:3:1: unknown key 'stagse' in the pipeline (did you mean "
                           "'stages'?); allowed: name, description, plugin_dirs, buffer, "
                           "dead_letter, stages, schedule, timezone, jitter, catch_up, state, "
                           "shutdown_timeout");
    expect("stages:\n  - use: gen\n    workrs: 2\n",
           "p.yaml:5:5: unknown key 'workrs' in a stage (did you mean 'workers'?); allowed: "
           "use, name, workers, on_error, ordered, with");
    expect("stages:\n  - use: gen\n    on_error: retry\n",
           "p.yaml:5:15: on_error must be skip, fail or dead_letter (got 'retry')");
    expect("stages:\n  - use: gen\n  - use: gen\n",
           "p.yaml:5:5: two stages are named 'gen'; give one a 'name:'");
    expect("buffer: lots\nstages:\n  - use: gen\n",
           "p.yaml:3:9: 'buffer' must be an integer from 2 to 16777216 (got 'lots')");
    expect("stages:\n  - use: xform\n    on_error: dead_letter\n",
           "p.yaml:4:5: stage 'xform' uses on_error: dead_letter but the pipeline sets no "
           "'dead_letter:' file");
}

static void test_stage_errors(void **st)
{
    tj_err err;
    assert_int_equal(parse("stages:\n  - use: gen\n    with: {cuont: 3}\n", &err, NULL),
                     TJ_ECONFIG);
    assert_string_equal(err.msg, "p.yaml:5:12: stage 'gen': unknown option 'cuont' (did you "
                                 "mean 'count'?); allowed: count, size, ack_file, delay, "
                                 "fail_at");
    assert_int_equal(parse("stages:\n  - use: gen\n    with: {count: many}\n", &err, NULL),
                     TJ_ECONFIG);
    assert_string_equal(err.msg, "p.yaml:5:19: stage 'gen': option 'count': expected an "
                                 "integer (got 'many')");
    assert_int_equal(parse("stages:\n  - use: nosuch\n", &err, NULL), TJ_ELOAD);
    assert_memory_equal(err.msg, "p.yaml:4:5: stage 'nosuch': unknown stage 'nosuch': no "
                        "nosuch.so in ", 64);
    assert_int_equal(parse("stages:\n  - use: xform\n", &err, NULL), TJ_ECONFIG);
    assert_string_equal(err.msg, "p.yaml:4:5: stage 'xform' (xform) is a transform; the "
                                 "first stage must be a source");
    assert_int_equal(parse("stages:\n  - use: gen\n  - use: collect\n    with: {path: /dev/null}"
                           "\n  - use: xform\n", &err, NULL), TJ_ECONFIG);
    assert_string_equal(err.msg, "p.yaml:7:5: stage 'xform' follows sink 'collect': sinks "
                                 "come last (several sinks at the end each receive every "
                                 "record)");
    assert_int_equal(parse("stages:\n  - use: gen\n  - use: collect\n", &err, NULL), TJ_ECONFIG);
    assert_string_equal(err.msg, "p.yaml:5:5: stage 'collect': missing required option "
                                 "'path' (output file)");
}

static void test_overrides(void **st)
{
    char text[8192], arg[] = "gen.count=[1";
    snprintf(text, sizeof text, "%sstages:\n  - use: gen\n    with: {count: 3}\n", head);
    tj_override ov[2];
    assert_int_equal(tj__override_parse(arg, &ov[0]), 0);
    assert_string_equal(ov[0].stage, "gen");
    assert_string_equal(ov[0].option, "count");
    char bad[] = "count=3";
    assert_int_equal(tj__override_parse(bad, &ov[1]), TJ_EINVAL);
    tj_pipeline *p;
    tj_err err;
    assert_int_equal(tj__pipeline_parse(text, strlen(text), "p.yaml", ov, 1, true, &p, &err),
                     TJ_ECONFIG);
    assert_string_equal(err.msg, "--set:1:1: stage 'gen': option 'count': expected an "
                                 "integer (got '[1')");
    ov[0].value = "42";
    assert_int_equal(tj__pipeline_parse(text, strlen(text), "p.yaml", ov, 1, true, &p, &err), 0);
    assert_int_equal(*(int64_t *)p->stages[0].config.data, 42);
    tj__pipeline_free(p);
    ov[0].stage = "nope";
    assert_int_equal(tj__pipeline_parse(text, strlen(text), "p.yaml", ov, 1, true, &p, &err),
                     TJ_ECONFIG);
    assert_string_equal(err.msg, "--set nope.count: no stage named 'nope' in p.yaml");
}

static void test_good_pipeline(void **st)
{
    tj_err err;
    tj_pipeline *p;
    assert_int_equal(parse("description: ok\nbuffer: 100\nstages:\n  - use: gen\n"
                           "  - use: xform\n    name: x2\n    workers: 3\n    ordered: true\n"
                           "  - use: collect\n    with: {path: /dev/null}\n", &err, &p), 0);
    assert_string_equal(p->name, "t");
    assert_int_equal(p->buffer, 100);
    assert_int_equal(p->nstages, 3);
    assert_string_equal(p->stages[1].name, "x2");
    assert_int_equal(p->stages[1].workers, 3);
    assert_true(p->stages[1].ordered);
    tj__pipeline_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_malformed_yaml),
        cmocka_unit_test(test_structure_errors),
        cmocka_unit_test(test_stage_errors),
        cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_good_pipeline),
    };
    int rc = cmocka_run_group_tests(tests, setup, NULL);
    tj__plugins_unload_all();
    return rc;
}
