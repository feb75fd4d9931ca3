/*
 * bench_extract.c - in-process throughput of the extract stage (one core):
 * runs the stage through the harness on the seed texts (with page hints)
 * until about SECONDS have passed and prints MB/s of body text.
 * Usage: bench_extract SEEDS_DIR [SECONDS]
 */
#include "harness.h"

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

int main(int argc, char **argv)
{
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
