/*
 * export_bench.c - drives the export stage in-process (the harness) with
 * news-like records and prints records/s and output MB/s.  Built and run by
 * export.sh; not part of the stage.
 *
 *   [BENCH_PARAS=16] export_bench N OPTION=VALUE...
 * (BENCH_PARAS: paragraphs of body per record, 0 for no body)
 * prints: "<records> <seconds> <records/s> <cpu seconds>"; the time runs
 * from the first record to the end of fini (a database's closing work
 * included); cpu is this process's user + system time over the same span
 * (on a shared machine it varies less than the wall clock).
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/* CPU seconds (user + system) this process has used. */
static double cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A clean-stage-like record: ~2.4 KB of Chinese body, title, metadata,
 * a JSON quality object. */
static tj_record *make(long i, const char *body, size_t blen)
{
    char url[80];
    tj_record *r = tj_record_new();
    snprintf(url, sizeof url, "https://news.example.cn/2025/03/05/a%ld.html",
             i);
    tj_record_set_str(r, "url", url);
    tj_record_set_str(r, "title", "英伟达第四季度营收同比增长78% 超市场预期");
    tj_record_set_str(r, "author", "刘一鸣");
    tj_record_set_str(r, "published_at", "2025-03-05T10:05:00+08:00");
    tj_record_set_int(r, "status", 200);
    if (blen)
        tj_record_set(r, "body", body, blen);
    static const char q[] = "{\"pinyin_removed\":12,\"boilerplate_removed\":3,"
                            "\"mojibake_spans\":0,\"score\":0.93}";
    tj_record_set_json(r, "quality", q, sizeof q - 1);
    return r;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: export_bench N OPTION=VALUE...\n");
        return 2;
    }
    long n = atol(argv[1]);
    const tj_stage_desc *d = taojin_stage_entry(tj__host_api());
    char *err = NULL;
    tj_harness *h = tj_harness_new(d, (const char *const *)argv + 2, &err);
    if (!h) {
        fprintf(stderr, "export_bench: %s\n", err);
        return 1;
    }
    static const char para[] =
        "英伟达公布的财报显示，第四季度营收达到393亿美元，同比增长78%，"
        "数据中心业务收入356亿美元，高于分析师此前预期。\n";
    size_t plen = sizeof para - 1, blen = 0;
    char *body = malloc(plen * 16 + 1);
    int paras = getenv("BENCH_PARAS") ? atoi(getenv("BENCH_PARAS")) : 16;
    for (int k = 0; k < paras && k < 16; k++, blen += plen)
        memcpy(body + blen, para, plen);
    double t0 = now(), c0 = cpu();
    for (long i = 0; i < n; i++)
        if (tj_harness_process(h, make(i, body, blen)) != 0) {
            fprintf(stderr, "export_bench: %s\n", tj_harness_error(h));
            return 1;
        }
    if (tj_harness_flush(h) != 0) {
        fprintf(stderr, "export_bench: %s\n", tj_harness_error(h));
        return 1;
    }
    tj_harness_free(h); /* fini: SQLite's last checkpoint, closing */
    double dt = now() - t0, dc = cpu() - c0;
    free(body);
    printf("%ld %.3f %.0f %.2f\n", n, dt, n / dt, dc);
    return 0;
}
