/* The stage loader refuses broken stages, each with an exact message that
 * names the file.  Fixtures: the .so files in $TJ_BUILD/tests/fixtures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugin.h"

static char fixtures[4096], tmpdir[64];

static const char *fx(const char *name)
{
    static char path[8192];
    snprintf(path, sizeof path, "%s/%s", fixtures, name);
    return path;
}

static int setup(void **st)
{
    const char *b = getenv("TJ_BUILD");
    snprintf(fixtures, sizeof fixtures, "%s/tests/fixtures", b ? b : "build");
    snprintf(tmpdir, sizeof tmpdir, "/tmp/tjload.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **st)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    return system(cmd);
}

static void expect_refusal(const char *path, const char *suffix)
{
    const tj_plugin *p = NULL;
    tj_err err;
    assert_int_equal(tj__plugin_load_file(path, &p, &err), TJ_ELOAD);
    char want[8192];
    snprintf(want, sizeof want, "%s: %s", path, suffix);
    assert_string_equal(err.msg, want);
}

static void test_missing_file(void **st)
{
    expect_refusal(fx("does_not_exist.so"), "no such file");
}

static void test_not_a_shared_object(void **st)
{
    char path[128];
    snprintf(path, sizeof path, "%s/text.so", tmpdir);
    FILE *fp = fopen(path, "w");
    fputs("this is not ELF\n", fp);
    fclose(fp);
    const tj_plugin *p;
    tj_err err;
    assert_int_equal(tj__plugin_load_file(path, &p, &err), TJ_ELOAD);
    char want[256];
    snprintf(want, sizeof want, "%s: not a loadable shared object: ", path);
    assert_memory_equal(err.msg, want, strlen(want));
}

static void test_missing_entry_symbol(void **st)
{
    expect_refusal(fx("no_entry.so"), "no entry symbol 'taojin_stage_entry' (not a taojin "
                                      "stage, or built without TJ_STAGE_DEFINE)");
}

static void test_wrong_abi_version(void **st)
{
    char want[256];
    snprintf(want, sizeof want, "stage ABI version 99, but this taojin (%s) loads ABI "
             "version 1; rebuild the stage against this taojin's headers", TJ_VERSION);
    expect_refusal(fx("bad_abi.so"), want);
}

static void test_wrong_struct_size(void **st)
{
    char want[256];
    snprintf(want, sizeof want, "stage descriptor struct_size 24 is smaller than %zu, the "
             "size for ABI version 1", sizeof(tj_stage_desc));
    expect_refusal(fx("bad_size.so"), want);
}

static void test_writable_by_others(void **st)
{
    char path[128], cmd[16800];
    snprintf(path, sizeof path, "%s/open.so", tmpdir);
    snprintf(cmd, sizeof cmd, "cp %s %s && chmod 0666 %s", fx("xform.so"), path, path);
    assert_int_equal(system(cmd), 0);
    expect_refusal(path, "refusing to load: the file is writable by others (mode 0666); "
                         "run chmod o-w");
}

static void test_good_stage_and_cache(void **st)
{
    const tj_plugin *a, *b;
    tj_err err;
    assert_int_equal(tj__plugin_load_file(fx("xform.so"), &a, &err), 0);
    assert_string_equal(a->desc->name, "xform");
    assert_int_equal(a->desc->kind, TJ_TRANSFORM);
    assert_int_equal(tj__plugin_load_file(fx("xform.so"), &b, &err), 0);
    assert_ptr_equal(a, b); /* loaded once */
}

static void test_search_path_order(void **st)
{
    /* a copy of xform named gen.so in an earlier dir wins over fixtures */
    char dir[128], cmd[16800];
    snprintf(dir, sizeof dir, "%s/first", tmpdir);
    snprintf(cmd, sizeof cmd, "mkdir -p %s && cp %s %s/gen.so", dir, fx("xform.so"), dir);
    assert_int_equal(system(cmd), 0);
    const char *dirs[] = {dir, fixtures};
    tj_plugin_path pp;
    assert_int_equal(tj__plugin_path_init(&pp, dirs, 2, NULL), 0);
    assert_string_equal(pp.dirs[0], dir);
    assert_string_equal(pp.dirs[pp.n - 2], TJ_PREFIX "/lib/taojin/plugins");
    const tj_plugin *p;
    tj_err err;
    assert_int_equal(tj__plugin_load(&pp, "gen", &p, &err), 0);
    assert_string_equal(p->desc->name, "xform");
    assert_int_equal(tj__plugin_load(&pp, "nosuch", &p, &err), TJ_ELOAD);
    assert_non_null(strstr(err.msg, "unknown stage 'nosuch': no nosuch.so in "));
    assert_non_null(strstr(err.msg, "; stages found: "));
    assert_non_null(strstr(err.msg, "collect"));
    tj__plugin_path_free(&pp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_not_a_shared_object),
        cmocka_unit_test(test_missing_entry_symbol),
        cmocka_unit_test(test_wrong_abi_version),
        cmocka_unit_test(test_wrong_struct_size),
        cmocka_unit_test(test_writable_by_others),
        cmocka_unit_test(test_good_stage_and_cache),
        cmocka_unit_test(test_search_path_order),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    tj__plugins_unload_all();
    return rc;
}
