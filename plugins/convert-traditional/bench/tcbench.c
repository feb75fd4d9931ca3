/*
 * tcbench - the conversion engine without the host, for bench/convert.sh
 * and for checking against the opencc CLI by hand.
 *
 *   tcbench convert CONFIG [USER_DICT] < in > out   one conversion
 *   tcbench bench FILE CONFIG...                     MB/s per configuration
 *   tcbench load                                     data load time
 *
 * CONFIG is a configuration name or "auto" (detection + protection, as the
 * stage does).  Built by plugin.mk: $(BUILD)/convert-traditional/tcbench.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tc_engine.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int read_all(FILE *f, tc_out *o)
{
    char chunk[1 << 16];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        size_t need = o->len + n + 1;
        if (need > o->cap) {
            size_t cap = o->cap ? o->cap * 2 : need;
            while (cap < need)
                cap *= 2;
            char *p = realloc(o->buf, cap);
            if (!p)
                return -1;
            o->buf = p;
            o->cap = cap;
        }
        memcpy(o->buf + o->len, chunk, n);
        o->len += n;
        o->buf[o->len] = 0;
    }
    return ferror(f) ? -1 : 0;
}

/* Converts text with `name` ("auto" picks per call, as the stage does). */
static int convert(tc_conv *cv, const char *name, const tc_out *in,
                   tc_out *out)
{
    if (strcmp(name, "auto") == 0) {
        const char *t = in->buf ? in->buf : "";
        tc_evidence ev;
        int cfg = tc_detect(cv, &t, &in->len, 1, &ev);
        if (cfg < -1)
            return cfg;
        if (cfg == -1) {
            out->len = 0;
            out->changes = 0;
            return 0;
        }
        tc_conv_set(cv, cfg, ev.simp > 0); /* as the stage does */
    }
    return tc_convert(cv, in->buf ? in->buf : "", in->len, out);
}

static int cmd_convert(const char *name, const char *dict)
{
    tc_userdict *ud = NULL;
    tc_conv *cv = NULL;
    tc_out in = {0}, out = {0};
    char *err = NULL;
    int cfg = strcmp(name, "auto") ? tc_config_find(name) : 0;
    if (cfg < 0) {
        fprintf(stderr, "tcbench: unknown configuration %s\n", name);
        return 2;
    }
    if (dict && tc_userdict_load(dict, &ud, &err)) {
        fprintf(stderr, "tcbench: %s\n", err ? err : "out of memory");
        return 2;
    }
    if (read_all(stdin, &in) || tc_conv_new(cfg, ud, 0, &cv) ||
        convert(cv, name, &in, &out))
        return 1;
    if (strcmp(name, "auto") == 0 && out.len == 0 && in.len)
        fwrite(in.buf, 1, in.len, stdout);
    else
        fwrite(out.buf ? out.buf : "", 1, out.len, stdout);
    tc_out_free(&in);
    tc_out_free(&out);
    tc_conv_free(cv);
    tc_userdict_free(ud);
    return 0;
}

static int cmd_bench(const char *file, char **names, int n)
{
    FILE *f = fopen(file, "rb");
    tc_out in = {0}, out = {0};
    if (!f || read_all(f, &in))
        return 1;
    fclose(f);
    for (int i = 0; i < n; i++) {
        tc_conv *cv;
        int cfg = strcmp(names[i], "auto") ? tc_config_find(names[i]) : 0;
        double t0, best = 1e9;
        if (cfg < 0 || tc_conv_new(cfg, NULL, 0, &cv))
            return 1;
        /* Best of several runs: the figure is the engine, not the noise. */
        for (int rep = 0; rep < 5; rep++) {
            out.len = 0;
            t0 = now();
            if (convert(cv, names[i], &in, &out))
                return 1;
            double t = now() - t0;
            if (t < best)
                best = t;
        }
        printf("%s %.1f MB/s (%zu bytes in, %zu out)\n", names[i],
               (double)in.len / best / 1e6, in.len, out.len);
        tc_conv_free(cv);
    }
    tc_out_free(&in);
    tc_out_free(&out);
    return 0;
}

static int cmd_load(void)
{
    double t0 = now();
    const char *why;
    tc_conv *cv;
    tc_out out = {0};
    if (tc_data_check(&why)) {
        fprintf(stderr, "tcbench: %s\n", why);
        return 1;
    }
    double t1 = now();
    /* First conversion: the pages it needs are faulted in now. */
    if (tc_conv_new(tc_config_find("t2s"), NULL, 0, &cv) ||
        tc_convert(cv, "漢字轉換測試：憂鬱的臺灣烏龜", 42, &out))
        return 1;
    double t2 = now();
    printf("load %.3f ms (check %.3f ms, first conversion %.3f ms)\n",
           (t2 - t0) * 1e3, (t1 - t0) * 1e3, (t2 - t1) * 1e3);
    tc_out_free(&out);
    tc_conv_free(cv);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "convert") == 0)
        return cmd_convert(argv[2], argc > 3 ? argv[3] : NULL);
    if (argc >= 4 && strcmp(argv[1], "bench") == 0)
        return cmd_bench(argv[2], argv + 3, argc - 3);
    if (argc == 2 && strcmp(argv[1], "load") == 0)
        return cmd_load();
    fprintf(stderr, "usage: tcbench convert CONFIG [USER_DICT] < in > out\n"
                    "       tcbench bench FILE CONFIG...\n"
                    "       tcbench load\n");
    return 2;
}
