/*
 * bench_extract.c - in-process throughput of the extract stage (one core):
 * runs the stage through the harness on the seed texts (with page hints)
 * until about SECONDS have passed and prints MB/s of body text.  With
 * --jsonl it runs the records of a JSON Lines file instead (the news
 * workload: what clean, convert-traditional and dedupe hand to extract).
 * Usage: bench_extract SEEDS_DIR [SECONDS]
 *        bench_extract --jsonl FILE [SECONDS]
 */
#include "harness.h"
#include "core.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double clock_of(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double now(void) { return clock_of(CLOCK_MONOTONIC); }

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)len + 1);
    *n = fread(p, 1, (size_t)len, f);
    p[*n] = 0;
    fclose(f);
    return p;
}

/* Runs the records of a JSON Lines file through the stage until about
 * secs have passed; prints MB/s of body text per core of CPU time. */
static int bench_jsonl(const char *path, double secs)
{
    size_t n = 0, nrec = 0, total = 0, records = 0;
    char *text = slurp(path, &n), *err = NULL;
    if (!text) {
        fprintf(stderr, "cannot read %s\n", path);
        return 1;
    }
    const char *opts[] = {NULL};
    tj_harness *h = tj_harness_new(taojin_stage_entry(tj__host_api()), opts, &err);
    if (!h) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    double t0 = now(), c0 = clock_of(CLOCK_PROCESS_CPUTIME_ID), t;
    do {
        for (char *line = text, *nl; line < text + n; line = nl + 1) {
            tj_record *r;
            tj_err e;
            size_t blen = 0;
            if (!(nl = memchr(line, '\n', (size_t)(text + n - line))))
                nl = text + n;
            if (nl == line || tj__record_from_json(line, (size_t)(nl - line), &r, &e))
                continue;
            tj_record_get(r, "body", &blen);
            if (tj_harness_process(h, r)) {
                fprintf(stderr, "process failed\n");
                return 1;
            }
            tj_record_free(tj_harness_next(h));
            total += blen;
            records++;
            nrec++;
        }
        t = now() - t0;
    } while (t < secs);
    double cpu = clock_of(CLOCK_PROCESS_CPUTIME_ID) - c0;
    printf("extract on the news workload (%s): %zu records, %.1f MB of text "
           "in %.2f s CPU: %.1f MB/s per core, %.3f ms per record "
           "(JSON reading included)\n",
           path, records, total / 1e6, cpu, total / 1e6 / cpu,
           cpu * 1e3 / (double)records);
    tj_harness_free(h);
    free(text);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 2 && !strcmp(argv[1], "--jsonl"))
        return bench_jsonl(argv[2], argc > 3 ? atof(argv[3]) : 2.0);
    const char *dir = argc > 1 ? argv[1] : "../shared/seeds";
    double secs = argc > 2 ? atof(argv[2]) : 2.0;
    char *texts[16];
    size_t lens[16], nt = 0, total = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) && nt < 16) {
        char path[4096];
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if ((texts[nt] = slurp(path, &lens[nt])))
            nt++;
    }
    if (d)
        closedir(d);
    if (!nt) {
        fprintf(stderr, "no seeds in %s\n", dir);
        return 1;
    }
    char *err = NULL;
    const char *opts[] = {NULL};
    tj_harness *h = tj_harness_new(taojin_stage_entry(tj__host_api()), opts, &err);
    if (!h) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    const char *page = "{\"title\":\"英伟达泡沫分裂_财经网\",\"h1\":[\"英伟达泡沫分裂\"],"
                       "\"before\":[\"2025-03-05 10:05 来源：钛媒体 作者：刘一鸣\"]}";
    size_t records = 0;
    double t0 = now(), c0 = clock_of(CLOCK_PROCESS_CPUTIME_ID), t;
    do {
        for (size_t i = 0; i < nt; i++) {
            tj_record *r = tj_record_new();
            tj_record_set(r, "body", texts[i], lens[i]);
            tj_record_set_str(r, "page", page);
            tj_record_set_str(r, "fetched_at", "2025-03-06T08:00:00+08:00");
            if (tj_harness_process(h, r)) {
                fprintf(stderr, "process failed\n");
                return 1;
            }
            tj_record_free(tj_harness_next(h));
            total += lens[i];
            records++;
        }
        t = now() - t0;
    } while (t < secs);
    double cpu = clock_of(CLOCK_PROCESS_CPUTIME_ID) - c0;
    printf("extract: %zu records, %.1f MB of text in %.2f s wall / %.2f s CPU: "
           "%.1f MB/s per core of CPU time (%.1f MB/s wall; target >= 50)\n",
           records, total / 1e6, t, cpu, total / 1e6 / cpu, total / 1e6 / t);
    tj_harness_free(h);
    for (size_t i = 0; i < nt; i++)
        free(texts[i]);
    return 0;
}
