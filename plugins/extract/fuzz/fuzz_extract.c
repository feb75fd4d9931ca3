/*
 * fuzz_extract.c - libFuzzer target for the extract stage.
 *
 * The first byte picks what the input feeds: the date parser, the money
 * parser, the percent parser, the whole stage (body, or "page" JSON and
 * body split at the first NUL).  Under ASan/UBSan every path must stay in
 * bounds; the parsers must consume no more than they were given.
 */
#include "entities.h"
#include "harness.h"

#include <stdlib.h>
#include <string.h>

static tj_harness *stage(void)
{
    static tj_harness *h;
    if (!h) {
        const char *opts[] = {"rules={deal: '(?<who>\\p{Han}{2,4})收购'}", NULL};
        h = tj_harness_new(taojin_stage_entry(tj__host_api()), opts, NULL);
    }
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int mode = data[0] % 5;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    char *copy = malloc(n + 1); /* exact-size heap copy: overreads trap */
    if (!copy)
        return 0;
    memcpy(copy, s, n);
    copy[n] = 0;
    ext_dref ref = {1741219200, 1, 480, 0};
    ext_dt dt;
    ext_money m;
    double v;
    size_t l, ml;
    switch (mode) {
    case 0:
        for (size_t i = 0; i < n; i++)
            if ((l = ext_date_parse(copy + i, n - i, &ref, i & 1, &dt)) > n - i)
                abort();
        ext_date_find(copy, n, &ref, &dt, &ml);
        break;
    case 1:
        for (size_t i = 0; i < n; i++)
            if ((l = ext_money_parse(copy + i, n - i, i & 1, &m)) > n - i)
                abort();
        break;
    case 2:
        for (size_t i = 0; i < n; i++)
            if (ext_percent_parse(copy + i, n - i, &v) > n - i ||
                ext_number_parse(copy + i, n - i, &v) > n - i)
                abort();
        break;
    default: {
        tj_harness *h = stage();
        tj_record *r = tj_record_new();
        const char *nul = memchr(copy, 0, n);
        if (mode == 4 && nul) {
            tj_record_set_str(r, "page", copy);
            tj_record_set(r, "body", nul + 1, n - (size_t)(nul + 1 - copy));
        } else {
            tj_record_set(r, "body", copy, n);
        }
        tj_record_set_str(r, "fetched_at", "2025-03-06T08:00:00+08:00");
        tj_harness_process(h, r);
        tj_record *o;
        while ((o = tj_harness_next(h)))
            tj_record_free(o);
    }
    }
    free(copy);
    return 0;
}
