/*
 * main.c - the taojin command line.
 *
 * Exit codes: 0 every record succeeded; 3 the run completed but some
 * records failed or were skipped; 1 the run failed; 2 usage or
 * configuration error.
 */
#include "builtin.h"
#include "runner.h"
#include "schedule.h"

#include <getopt.h>
#include <time.h>
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { EXIT_OK = 0, EXIT_RUN_FAILED = 1, EXIT_USAGE = 2, EXIT_PARTIAL = 3 };

static const char usage_text[] =
    "usage: taojin COMMAND [ARGS]\n"
    "\n"
    "  run FILE [--set STAGE.OPTION=VALUE]... [--no-progress]\n"
    "           [--stats-json FILE] [--log-level LEVEL] [--quiet] [--if-due]\n"
    "                         run a pipeline to the end of its input\n"
    "                         (--if-due: only when its schedule has a tick\n"
    "                         since the last recorded run)\n"
    "  schedule FILE... [--listen 127.0.0.1:PORT]\n"
    "                         run pipelines on their schedules; serve\n"
    "                         /metrics and /health\n"
    "  history NAME|FILE [--json] [--limit N] [--state PATH]\n"
    "                         past runs from the pipeline's state\n"
    "  validate FILE...       check pipeline files without running them\n"
    "  stages [--json] [NAME] list stages, or one stage's options\n"
    "  exec STAGE [OPTION=VALUE]... [--jsonl]\n"
    "                         run one stage on stdin: the whole input is one\n"
    "                         record's body (or one JSON record per line with\n"
    "                         --jsonl) and the result goes to stdout\n"
    "  version                print the version\n"
    "  help                   this text\n"
    "\n"
    "exit codes: 0 ok, 1 run failed, 2 usage or configuration error,\n"
    "            3 completed but some records failed\n";

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "taojin: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(run 'taojin help' for usage)\n");
    return EXIT_USAGE;
}

static int exit_code_for(int rc, const tj_run_result *res)
{
    if (rc == TJ_ECONFIG || rc == TJ_ELOAD)
        return EXIT_USAGE;
    if (rc || res->failed)
        return EXIT_RUN_FAILED;
    return res->records_failed ? EXIT_PARTIAL : EXIT_OK;
}

static int cmd_run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"set", required_argument, NULL, 's'},
        {"no-progress", no_argument, NULL, 'n'},
        {"stats-json", required_argument, NULL, 'j'},
        {"log-level", required_argument, NULL, 'l'},
        {"quiet", no_argument, NULL, 'q'},
        {"if-due", no_argument, NULL, 'd'},
        {NULL, 0, NULL, 0}};
    bool if_due = false;
    tj_override ov[64];
    size_t nov = 0;
    tj_run_opts o = {.progress = true, .summary = true, .handle_signals = true};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 's') {
            if (nov == 64 || tj__override_parse(optarg, &ov[nov]))
                return usage_error("--set expects STAGE.OPTION=VALUE, got "
                                   "'%s'", optarg);
            nov++;
        } else if (c == 'n')
            o.progress = false;
        else if (c == 'j')
            o.stats_json = optarg;
        else if (c == 'q')
            o.summary = false, o.progress = false;
        else if (c == 'd')
            if_due = true;
        else if (c == 'l') {
            int lvl = tj__parse_log_level(optarg);
            if (lvl < 0)
                return usage_error("unknown log level '%s' (error, warn, "
                                   "info, debug)", optarg);
            tj__log_level = lvl;
        } else
            return EXIT_USAGE;
    }
    if (optind != argc - 1)
        return usage_error("run expects one pipeline file%s", "");
    tj_pipeline *p;
    tj_err err;
    int rc = tj__pipeline_load(argv[optind], ov, nov, &p, &err);
    if (rc) {
        fprintf(stderr, "taojin: %s\n", err.msg);
        return EXIT_USAGE;
    }
    if (if_due) {
        time_t next = -1;
        int due = tj__is_due(p, time(NULL), &next, &err);
        if (due <= 0) {
            if (due < 0)
                fprintf(stderr, "taojin: %s\n", err.msg);
            else {
                char when[64] = "never";
                struct tm tm;
                if (next >= 0 && localtime_r(&next, &tm))
                    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S%z", &tm);
                fprintf(stderr, "taojin: %s: not due (next tick %s)\n",
                        p->name, when);
            }
            tj__pipeline_free(p);
            return due < 0 ? EXIT_USAGE : EXIT_OK;
        }
    }
    tj_run_result res;
    rc = tj__run(p, &o, &res);
    if (res.failed)
        fprintf(stderr, "taojin: run failed: %s\n", res.message);
    tj__pipeline_free(p);
    return exit_code_for(rc, &res);
}

static int cmd_validate(int argc, char **argv)
{
    if (argc < 2)
        return usage_error("validate expects pipeline files%s", "");
    int bad = 0;
    for (int i = 1; i < argc; i++) {
        tj_pipeline *p;
        tj_err err;
        if (tj__pipeline_load(argv[i], NULL, 0, &p, &err)) {
            fprintf(stderr, "taojin: %s\n", err.msg);
            bad++;
            continue;
        }
        printf("%s: ok (pipeline '%s', %zu stages)\n", argv[i], p->name,
               p->nstages);
        tj__pipeline_free(p);
    }
    return bad ? EXIT_USAGE : EXIT_OK;
}

static const char *kind_name(tj_stage_kind k)
{
    return k == TJ_SOURCE ? "source" : k == TJ_SINK ? "sink" : "transform";
}

static void print_stage_json(const tj_plugin *pl, tj_buf *b)
{
    const tj_stage_desc *d = pl->desc;
    tj__buf_add(b, "{\"name\":", 8);
    tj__json_add_string(b, d->name, strlen(d->name));
    tj__buf_add(b, ",\"description\":", 15);
    const char *ds = d->description ? d->description : "";
    tj__json_add_string(b, ds, strlen(ds));
    tj__buf_addf(b, ",\"kind\":\"%s\",\"path\":", kind_name(d->kind));
    tj__json_add_string(b, pl->path, strlen(pl->path));
    tj__buf_add(b, ",\"options\":[", 12);
    for (const tj_option *o = d->options; o && o->name; o++) {
        tj__buf_addf(b, "%s{\"name\":", o == d->options ? "" : ",");
        tj__json_add_string(b, o->name, strlen(o->name));
        tj__buf_addf(b, ",\"type\":\"%s\",\"required\":%s,\"default\":",
                     tj__opt_type_name(o->type), o->required ? "true" : "false");
        if (o->default_value)
            tj__json_add_string(b, o->default_value, strlen(o->default_value));
        else
            tj__buf_add(b, "null", 4);
        tj__buf_add(b, ",\"allowed\":", 11);
        if (o->allowed) {
            tj__buf_add(b, "[", 1);
            const char *a = o->allowed;
            for (bool first = true; a; first = false) {
                const char *bar = strchr(a, '|');
                size_t len = bar ? (size_t)(bar - a) : strlen(a);
                if (!first)
                    tj__buf_add(b, ",", 1);
                tj__json_add_string(b, a, len);
                a = bar ? bar + 1 : NULL;
            }
            tj__buf_add(b, "]", 1);
        } else
            tj__buf_add(b, "null", 4);
        tj__buf_add(b, ",\"description\":", 15);
        const char *od = o->description ? o->description : "";
        tj__json_add_string(b, od, strlen(od));
        tj__buf_add(b, "}", 1);
    }
    tj__buf_add(b, "]}", 2);
}

static void print_stage_table(const tj_plugin *pl)
{
    const tj_stage_desc *d = pl->desc;
    printf("%s (%s): %s\n  file: %s\n\n", d->name, kind_name(d->kind),
           d->description ? d->description : "", pl->path);
    if (!d->options || !d->options->name) {
        printf("  (no options)\n");
        return;
    }
    int w = 18, dw = 14; /* column widths grow to fit the longest entry */
    for (const tj_option *o = d->options; o->name; o++) {
        int n = (int)strlen(o->name);
        int dn = o->default_value ? (int)strlen(o->default_value) : 0;
        w = n > w ? n : w;
        dw = dn > dw && dn <= 30 ? dn : dw;
    }
    printf("  %-*s %-9s %-*s %s\n", w, "option", "type", dw, "default",
           "description");
    for (const tj_option *o = d->options; o && o->name; o++) {
        printf("  %-*s %-9s %-*s %s%s", w, o->name, tj__opt_type_name(o->type),
               dw, o->required ? "(required)"
                   : o->default_value ? o->default_value : "-",
               o->description ? o->description : "",
               o->allowed ? " [" : "\n");
        if (o->allowed) {
            for (const char *a = o->allowed; *a; a++)
                putchar(*a == '|' ? ',' : *a);
            printf("]\n");
        }
    }
}

static int cmd_stages(int argc, char **argv)
{
    bool json = false;
    const char *name = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else if (!name)
            name = argv[i];
        else
            return usage_error("stages takes at most one NAME (got '%s')",
                               argv[i]);
    }
    tj_plugin_path pp;
    tj_err err;
    tj__plugin_path_init(&pp, NULL, 0, NULL);
    const tj_plugin **list = NULL, *one = NULL;
    size_t n = 0;
    int rc = name ? tj__plugin_load(&pp, name, &one, &err)
                  : tj__plugin_list(&pp, &list, &n, &err);
    tj__plugin_path_free(&pp);
    if (rc) {
        fprintf(stderr, "taojin: %s\n", err.msg);
        return EXIT_USAGE;
    }
    if (one) {
        list = &one;
        n = 1;
    }
    if (json) {
        tj_buf b = {0};
        tj__buf_add(&b, "{\"stages\":[", 11);
        for (size_t i = 0; i < n; i++) {
            if (i)
                tj__buf_add(&b, ",", 1);
            print_stage_json(list[i], &b);
        }
        tj__buf_add(&b, "]}\n", 3);
        fwrite(b.data, 1, b.len, stdout);
        tj__buf_free(&b);
    } else if (name) {
        print_stage_table(one);
    } else {
        for (size_t i = 0; i < n; i++)
            printf("%-22s %-9s %s\n", list[i]->desc->name,
                   kind_name(list[i]->desc->kind),
                   list[i]->desc->description ? list[i]->desc->description : "");
    }
    if (!one)
        free(list);
    return EXIT_OK;
}

/* exec: stdin -> STAGE -> stdout, options as overrides of STAGE. */
static int cmd_exec(int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-')
        return usage_error("exec expects a STAGE name%s", "");
    const char *stage = argv[1];
    bool jsonl = false;
    tj_override ov[64];
    size_t nov = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--jsonl") == 0) {
            jsonl = true;
            continue;
        }
        char *eq = strchr(argv[i], '=');
        if (!eq || eq == argv[i] || nov == 64)
            return usage_error("exec options are OPTION=VALUE, got '%s'",
                               argv[i]);
        *eq = 0;
        ov[nov++] = (tj_override){"stage", argv[i], eq + 1};
    }
    tj_plugin_path pp;
    tj_err err;
    const tj_plugin *pl;
    tj__plugin_path_init(&pp, NULL, 0, NULL);
    int rc = tj__plugin_load(&pp, stage, &pl, &err);
    tj__plugin_path_free(&pp);
    if (rc) {
        fprintf(stderr, "taojin: exec: %s\n", err.msg);
        return EXIT_USAGE;
    }
    const char *mode = jsonl ? "jsonl" : "body";
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "name: exec\nstages:\n%s  - use: \"%s\"\n    name: stage\n%s",
             pl->desc->kind == TJ_SOURCE ? "" : "  - use: stdin\n    with: {mode: MODE}\n",
             stage,
             pl->desc->kind == TJ_SINK ? "" : "  - use: stdout\n    with: {mode: MODE}\n");
    for (char *m; (m = strstr(yaml, "MODE"));) {
        memmove(m + strlen(mode), m + 4, strlen(m + 4) + 1);
        memcpy(m, mode, strlen(mode));
    }
    tj_pipeline *p;
    rc = tj__pipeline_parse(yaml, strlen(yaml), "(exec)", ov, nov, true, &p,
                            &err);
    if (rc) {
        fprintf(stderr, "taojin: exec: %s\n", err.msg);
        return EXIT_USAGE;
    }
    tj_run_opts o = {.handle_signals = true};
    tj_run_result res;
    rc = tj__run(p, &o, &res);
    if (res.failed)
        fprintf(stderr, "taojin: exec failed: %s\n", res.message);
    else if (res.records_failed)
        fprintf(stderr, "taojin: exec: %lld record(s) failed\n",
                res.records_failed);
    tj__pipeline_free(p);
    return exit_code_for(rc, &res);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    /* The host links tcmalloc (Makefile: MALLOC_LIB), which ignores these
     * two settings; they tune glibc's malloc in builds without it
     * (sanitizers, `make MALLOC_LIB=`).
     * Peak memory must not grow with the record count.  Records are made
     * on one thread and freed on another, and glibc's arenas fragment
     * under page-sized blocks of mixed sizes freed that way.  glibc's
     * dynamic threshold rises to the largest block freed, so a page body
     * of any size ends up in the arenas: the news pipeline's peak RSS crept
     * from 74 to 101 MB between 1000 and 6000 pages (massif showed a flat
     * live heap).  A fixed threshold stops the rise.  It is glibc's own
     * starting value, 128 KiB, not lower: at 32 KiB every page's 36-68 KiB
     * scratch blocks were mapped and unmapped (four mmaps per page, each
     * page touched fresh, each unmap a TLB shootdown to the other core),
     * which cost 10% of the pipeline's CPU and a quarter of its wall time
     * on 20k pages, for a plateau 12 MB lower (69 against 81 MB). */
    mallopt(M_MMAP_THRESHOLD, 128 << 10);
    /* A fixed threshold also fixes the trim threshold (128 KiB) and the
     * heaps of the threads' arenas then shrink and grow all the time: a
     * heap whose top empties is unmapped and made again for the next
     * burst (4200 news pages: 3600 mprotect, 470 madvise, 340 munmap
     * calls, each unmap a TLB shootdown).  Growing the heaps 16 MiB at a
     * time (address space: pages count once touched) keeps them: 160
     * mprotect, 12 madvise, 86 munmap; peak RSS 80 -> 86 MB, flat.  An
     * operator's MALLOC_TOP_PAD_ wins. */
    if (!getenv("MALLOC_TOP_PAD_"))
        mallopt(M_TOP_PAD, 16 << 20);
    /* a file over RLIMIT_FSIZE must be a write error (EFBIG) that names the
     * file, not a silent kill */
    signal(SIGXFSZ, SIG_IGN);
    /* stdin/stdout stages are usable in pipelines too (tests, shell glue) */
    tj__plugin_register_builtin(&tj__stdin_stage);
    tj__plugin_register_builtin(&tj__stdout_stage);
    const char *lvl = getenv("TAOJIN_LOG_LEVEL");
    if (lvl && tj__parse_log_level(lvl) >= 0)
        tj__log_level = tj__parse_log_level(lvl);
    if (argc < 2)
        return usage_error("no command given%s", "");
    const char *cmd = argv[1];
    int rc;
    if (strcmp(cmd, "run") == 0)
        rc = cmd_run(argc - 1, argv + 1);
    else if (strcmp(cmd, "validate") == 0)
        rc = cmd_validate(argc - 1, argv + 1);
    else if (strcmp(cmd, "stages") == 0)
        rc = cmd_stages(argc - 1, argv + 1);
    else if (strcmp(cmd, "exec") == 0)
        rc = cmd_exec(argc - 1, argv + 1);
    else if (strcmp(cmd, "schedule") == 0)
        rc = tj__cmd_schedule(argc - 1, argv + 1);
    else if (strcmp(cmd, "history") == 0)
        rc = tj__cmd_history(argc - 1, argv + 1);
    else if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("taojin %s (stage ABI %d)\n", TJ_VERSION, TJ_ABI_VERSION);
        rc = 0;
    } else if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 ||
               strcmp(cmd, "-h") == 0) {
        fputs(usage_text, stdout);
        rc = 0;
    } else
        rc = usage_error("unknown command '%s'", cmd);
    fflush(stdout);
    tj__plugins_unload_all();
    return rc;
}
