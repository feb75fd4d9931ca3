/*
 * bench_key.c - in-process throughput of dedupe's key (one core), beside
 * the reference in the same run: the first implementation (every
 * character through utf8proc, tests/ref_normalise.h, and fetch's portable
 * SHA-256), then dedupe_key, its normalising alone, and the digest of the
 * normalised text with each SHA-256 implementation this CPU runs.  Texts:
 * every file in DIR (the seed articles, or bodies saved from the news
 * workload).  Prints MB/s of input text per second of CPU time.
 * Usage: bench_key DIR [SECONDS]
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dedupe.h"
#include "../tests/ref_normalise.h"
#include "sha256.h"

enum { MAXTEXTS = 4096 };
static char *texts[MAXTEXTS];
static size_t lens[MAXTEXTS], ntexts;

static double cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Reads every regular file of dir into texts[]; the count. */
static size_t load(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[4096];
    while (d && (e = readdir(d)) && ntexts < MAXTEXTS) {
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = e->d_name[0] != '.' ? fopen(path, "rb") : NULL;
        if (!f)
            continue;
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        texts[ntexts] = malloc((size_t)n + 1);
        lens[ntexts] = fread(texts[ntexts], 1, (size_t)n, f);
        ntexts++;
        fclose(f);
    }
    if (d)
        closedir(d);
    return ntexts;
}

/* One way of keying a text; `impl` is a SHA-256 implementation number. */
static void reference(const char *t, size_t n, int impl)
{
    size_t len, chars;
    char hex[65], *norm = ref_normalise(t, n, 65536, &len, &chars);
    sha256_hex_of(norm, len, hex);
    free(norm);
}

static void key(const char *t, size_t n, int impl)
{
    char hex[65];
    dedupe_key(t, n, 65536, hex);
}

static void normalise(const char *t, size_t n, int impl)
{
    size_t len, chars;
    free(dedupe_normalise(t, n, 65536, &len, &chars));
}

static void digest(const char *t, size_t n, int impl)
{
    size_t len, chars;
    char hex[65], *norm = dedupe_normalise(t, n, 65536, &len, &chars);
    dedupe_sha256_hex_using(impl, norm, len, hex);
    free(norm);
}

/* Runs fn over all texts until secs of CPU have passed; prints MB/s. */
static void run(const char *name, void (*fn)(const char *, size_t, int),
                int impl, double secs)
{
    double t0 = cpu(), t;
    size_t bytes = 0;
    do {
        for (size_t i = 0; i < ntexts; i++) {
            fn(texts[i], lens[i], impl);
            bytes += lens[i];
        }
    } while ((t = cpu() - t0) < secs);
    printf("  %-44s %8.1f MB/s\n", name, bytes / 1e6 / t);
}

int main(int argc, char **argv)
{
    double secs = argc > 2 ? atof(argv[2]) : 1;
    if (argc < 2 || !load(argv[1])) {
        fprintf(stderr, "usage: bench_key DIR [SECONDS]\n");
        return 1;
    }
    run("reference: utf8proc per character + C SHA", reference, 0, secs);
    run("dedupe_key", key, 0, secs);
    run("  normalising only", normalise, 0, secs);
    char name[64], hex[65];
    for (int i = 0; dedupe_sha256_impl(i); i++)
        if (dedupe_sha256_hex_using(i, "", 0, hex) == 0) {
            snprintf(name, sizeof name, "  normalising + SHA-256 (%s)",
                     dedupe_sha256_impl(i));
            run(name, digest, i, secs);
        }
    printf("  (dedupe_key uses %s here)\n", dedupe_sha256_impl(-1));
    return 0;
}
