/* The runner: acknowledgements, error policies, ordered fan-out, workers,
 * end-of-input and shutdown, all with real threads and fixture stages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner.h"

static char head[4200], dir[64];

static int setup(void **st)
{
    const char *b = getenv("TJ_BUILD");
    snprintf(head, sizeof head, "name: t\nplugin_dirs: [%s/tests/fixtures]\n",
             b ? b : "build");
    snprintf(dir, sizeof dir, "/tmp/tjrun.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **st)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    tj__plugins_unload_all();
    return system(cmd);
}

/* Runs head + body with $D replaced by the temp dir, with options opts. */
static int run_with(const char *body, const tj_run_opts *opts, tj_run_result *res)
{
    char text[8192], expanded[8192];
    snprintf(text, sizeof text, "%s%s", head, body);
    char *o = expanded;
    for (const char *s = text; *s; s++) {
        if (s[0] == '$' && s[1] == 'D') {
            o += sprintf(o, "%s", dir);
            s++;
        } else
            *o++ = *s;
    }
    *o = 0;
    tj_pipeline *p;
    tj_err err;
    int rc = tj__pipeline_parse(expanded, strlen(expanded), "p.yaml", NULL, 0, true, &p, &err);
    if (rc) {
        snprintf(res->message, sizeof res->message, "%s", err.msg);
        res->failed = true;
        return rc;
    }
    rc = tj__run(p, opts, res);
    tj__pipeline_free(p);
    return rc;
}

static int run(const char *body, tj_run_result *res)
{
    return run_with(body, &(tj_run_opts){0}, res);
}

static char *slurp(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return strdup("");
    static char buf[1 << 22];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = 0;
    fclose(fp);
    return strdup(buf);
}

static long count_lines(const char *s)
{
    long n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_acks_exactly_once(void **st)
{
    tj_run_result res;
    assert_int_equal(run("stages:\n  - use: gen\n    with: {count: 5000, ack_file: $D/acks}\n"
                         "  - use: xform\n    workers: 2\n"
                         "    with: {fail_every: 100, drop_every: 7, dup_every: 10}\n"
                         "  - use: collect\n    with: {path: $D/out, hold: true}\n", &res), 0);
    assert_false(res.failed);
    assert_int_equal(res.records_failed, 50);
    char *acks = slurp("acks");
    /* 5000 families: 50 failed (n%100==99), 714 dropped (n%7==6 and not
     * failed: 714 of the 0..4999 with 7 of those also failing), rest
     * delivered; clones share their original's acknowledgement */
    assert_string_equal(acks, "delivered 4243 dropped 707 failed 50\n");
    char *out = slurp("out");
    /* + clones of n%10==9 that were neither failed (n%100==99: 50) nor
     * dropped (n%70==69 but not n%700==699: 64): 500 - 50 - 64 = 386 */
    assert_int_equal(count_lines(out), 4243 + 386);
    free(acks);
    free(out);
}

static void test_ordered_workers_keep_order(void **st)
{
    tj_run_result res;
    assert_int_equal(run("buffer: 8\nstages:\n  - use: gen\n    with: {count: 3000}\n"
                         "  - use: xform\n    workers: 3\n    ordered: true\n"
                         "    with: {drop_every: 5, dup_every: 4}\n"
                         "  - use: collect\n    with: {path: $D/ordered}\n", &res), 0);
    char *out = slurp("ordered");
    long prev = -1, lines = 0;
    int ok = 1;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"), lines++) {
        long n = atol(line);
        int copy = strstr(line, "copy") != NULL;
        ok &= copy ? n == prev + 0 || n >= prev : n > prev;
        if (!copy)
            prev = n;
    }
    assert_true(ok);
    assert_int_equal(lines, 3000 - 600 + 600); /* 600 dropped, 600 clones (n%4==3, n%5!=4) */
    free(out);
}

static void test_unordered_workers_share_load(void **st)
{
    tj_run_result res;
    assert_int_equal(run("stages:\n  - use: gen\n    with: {count: 20000}\n"
                         "  - use: xform\n    workers: 4\n    with: {tag: true}\n"
                         "  - use: collect\n    with: {path: $D/all}\n", &res), 0);
    char *out = slurp("all");
    assert_int_equal(count_lines(out), 20000);
    free(out);
}

static void test_on_error_fail_stops_run(void **st)
{
    tj_run_result res;
    int rc = run("stages:\n  - use: gen\n    with: {count: 100000, ack_file: $D/acks2}\n"
                 "  - use: xform\n    on_error: fail\n    with: {fail_every: 50}\n"
                 "  - use: collect\n    with: {path: $D/o2, hold: true}\n", &res);
    assert_int_not_equal(rc, 0);
    assert_true(res.failed);
    assert_string_equal(res.message, "stage 'xform': record 49 is unlucky");
    char *acks = slurp("acks2");
    long d, dr, f;
    assert_int_equal(sscanf(acks, "delivered %ld dropped %ld failed %ld", &d, &dr, &f), 3);
    assert_true(d >= 49);   /* what was in flight still drained */
    assert_true(d < 99000); /* the source stopped early */
    assert_true(f >= 1);
    free(acks);
}

static void test_dead_letter(void **st)
{
    tj_run_result res;
    assert_int_equal(run("dead_letter: $D/dead.jsonl\nstages:\n  - use: gen\n"
                         "    with: {count: 30, size: 3}\n  - use: xform\n"
                         "    on_error: dead_letter\n    with: {fail_every: 10}\n"
                         "  - use: collect\n    with: {path: $D/o3}\n", &res), 0);
    assert_int_equal(res.records_failed, 3);
    char *dead = slurp("dead.jsonl");
    assert_int_equal(count_lines(dead), 3);
    assert_non_null(strstr(dead, "{\"stage\":\"xform\",\"error\":\"record 9 is unlucky\","
                                 "\"record\":{\"n\":9,\"body\":\"xxx\"}}\n"));
    free(dead);
}

static void test_source_fatal_error(void **st)
{
    tj_run_result res;
    int rc = run("stages:\n  - use: gen\n    with: {count: 100, fail_at: 70}\n"
                 "  - use: collect\n    with: {path: $D/o4}\n", &res);
    assert_int_not_equal(rc, 0);
    assert_string_equal(res.message, "stage 'gen': generator broke at record 70");
    char *out = slurp("o4");
    assert_int_equal(count_lines(out), 70); /* everything before the failure */
    free(out);
}

static void test_flush_failure_fails_run(void **st)
{
    tj_run_result res;
    int rc = run("stages:\n  - use: gen\n    with: {count: 10, ack_file: $D/acks5}\n"
                 "  - use: collect\n    with: {path: $D/o5, hold: true, fail_flush: true}\n",
                 &res);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(res.message, "stage 'collect': flush failed: cannot commit to "));
    char *acks = slurp("acks5");
    assert_string_equal(acks, "delivered 0 dropped 0 failed 10\n");
    free(acks);
}

static void test_init_failure_message(void **st)
{
    tj_run_result res;
    char want[4400];
    int rc = run("stages:\n  - use: gen\n  - use: init_fail\n", &res);
    assert_int_equal(rc, TJ_ELOAD);
    snprintf(want, sizeof want, "p.yaml:5:5: stage 'init_fail': init failed: the license key "
             "is missing (");
    assert_memory_equal(res.message, want, strlen(want));
    assert_non_null(strstr(res.message, "tests/fixtures/init_fail.so)"));
}

static void test_several_sinks_each_get_every_record(void **st)
{
    tj_run_result res;
    assert_int_equal(run("stages:\n  - use: gen\n    with: {count: 3000, ack_file: $D/acks7}\n"
                         "  - use: xform\n    workers: 2\n    with: {fail_every: 1000}\n"
                         "  - use: collect\n    name: c1\n    with: {path: $D/s1, hold: true}\n"
                         "  - use: collect\n    name: c2\n    workers: 2\n"
                         "    with: {path: $D/s2}\n", &res), 0);
    char *a = slurp("s1"), *acks = slurp("acks7");
    assert_int_equal(count_lines(a), 2997);
    /* one family each: delivered once although two sinks got a copy */
    assert_string_equal(acks, "delivered 2997 dropped 0 failed 3\n");
    free(a);
    free(acks);
}

static void *stop_later(void *arg)
{
    usleep(300 * 1000);
    tj__run_request_stop();
    return NULL;
}

static void test_stop_drains_without_loss(void **st)
{
    pthread_t t;
    pthread_create(&t, NULL, stop_later, NULL);
    tj_run_result res;
    assert_int_equal(run("buffer: 16\nstages:\n  - use: gen\n"
                         "    with: {count: 1000000, delay: 1ms, ack_file: $D/acks6}\n"
                         "  - use: xform\n    with: {sleep: 2ms}\n"
                         "  - use: collect\n    with: {path: $D/o6, hold: true}\n", &res), 0);
    pthread_join(t, NULL);
    assert_false(res.failed);
    char *acks = slurp("acks6"), *out = slurp("o6");
    long d, dr, f;
    assert_int_equal(sscanf(acks, "delivered %ld dropped %ld failed %ld", &d, &dr, &f), 3);
    assert_true(d > 10 && d < 1000);
    assert_int_equal(dr + f, 0);               /* nothing in flight was lost */
    assert_int_equal(count_lines(out), d);     /* every emitted record arrived */
    free(acks);
    free(out);
}

static atomic_int urgs;
static void count_urg(int sig) { atomic_fetch_add(&urgs, 1); }

/* With handle_signals the last instance wakes the supervisor with SIGURG
 * (so a run returns when its work ends, not on the next tick).  That
 * wake-up must stay inside the run: a caller's SIGURG handler never sees
 * it, and the caller's signal mask comes back as it was. */
static void test_signal_wakeup_stays_inside(void **st)
{
    struct sigaction sa = {.sa_handler = count_urg}, old_sa;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGURG, &sa, &old_sa);
    tj_run_opts o = {.handle_signals = true};
    for (int i = 0; i < 20; i++) {
        tj_run_result res;
        assert_int_equal(run_with("stages:\n  - use: gen\n    with: {count: 50}\n"
                                  "  - use: xform\n    workers: 2\n"
                                  "  - use: collect\n    with: {path: $D/u}\n",
                                  &o, &res), 0);
        assert_false(res.failed);
        sigset_t now;
        pthread_sigmask(SIG_SETMASK, NULL, &now);
        assert_false(sigismember(&now, SIGURG));
        assert_false(sigismember(&now, SIGINT));
    }
    char *out = slurp("u");
    assert_int_equal(count_lines(out), 50);
    free(out);
    assert_int_equal(atomic_load(&urgs), 0);
    sigaction(SIGURG, &old_sa, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_acks_exactly_once),
        cmocka_unit_test(test_ordered_workers_keep_order),
        cmocka_unit_test(test_unordered_workers_share_load),
        cmocka_unit_test(test_on_error_fail_stops_run),
        cmocka_unit_test(test_dead_letter),
        cmocka_unit_test(test_source_fatal_error),
        cmocka_unit_test(test_flush_failure_fails_run),
        cmocka_unit_test(test_init_failure_message),
        cmocka_unit_test(test_stop_drains_without_loss),
        cmocka_unit_test(test_several_sinks_each_get_every_record),
        cmocka_unit_test(test_signal_wakeup_stays_inside),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
