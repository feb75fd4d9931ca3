/*
 * test_engine.c - the conversion engine against OpenCC: the v1.1.6 case
 * files, the real `opencc` CLI on those inputs and on zuozhuan.txt's round
 * trip (s2t, then t2s and tw2s back), plus what OpenCC does not do: invalid
 * UTF-8, user dictionaries, protection, detection, JSON strings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "taojin/stage.h" /* before cmocka.h, whose fail() is a macro */
#include "tc_engine.h"
#include "tc_format.h"
#include "tc_json.h"

#include <cmocka.h>

static const char *shared(void)
{
    const char *s = getenv("TJ_SHARED");
    return s && *s ? s : "../shared";
}

/* Reads a whole file (NULL when missing); *len gets its size. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0, got;
    if (!f)
        return NULL;
    do {
        if (cap - n < 65536) {
            cap = cap * 2 + 65536;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
    } while (got);
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
}

/* Appends n bytes to o (keeping it NUL-terminated); 0 or TJ_ENOMEM. */
static int out_append(tc_out *o, const char *s, size_t n)
{
    if (o->len + n + 1 > o->cap) {
        size_t cap = (o->len + n + 1) * 2;
        char *b = realloc(o->buf, cap);
        if (!b)
            return TJ_ENOMEM;
        o->buf = b;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = 0;
    return 0;
}

/* Converts text with configuration name (protect off); caller frees. */
static char *conv(const char *name, const char *text, size_t len,
                  size_t *outlen)
{
    tc_conv *cv;
    tc_out o = {0};
    int cfg = tc_config_find(name);
    assert_true(cfg >= 0);
    assert_int_equal(tc_conv_new(cfg, NULL, 0, &cv), 0);
    assert_int_equal(tc_convert(cv, text, len, &o), 0);
    tc_conv_free(cv);
    if (outlen)
        *outlen = o.len;
    return o.buf;
}

static char *conv_s(const char *name, const char *text)
{
    return conv(name, text, strlen(text), NULL);
}

/* Runs `opencc -c cfg` on file `in`, returns its stdout. */
static char *opencc_cli(const char *cfg, const char *in, size_t *len)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "opencc -c %s < '%s'", cfg, in);
    FILE *p = popen(cmd, "r");
    char *buf = NULL;
    size_t n = 0, cap = 0, got;
    assert_non_null(p);
    do {
        if (cap - n < 65536) {
            cap = cap * 2 + 65536;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        got = fread(buf + n, 1, cap - n - 1, p);
        n += got;
    } while (got);
    assert_int_equal(pclose(p), 0);
    buf[n] = 0;
    *len = n;
    return buf;
}

static void test_data_loads(void **state)
{
    const char *why = "x";
    (void)state;
    assert_int_equal(tc_data_check(&why), 0);
    assert_null(why);
    assert_int_equal(tc_config_count(), 14);
    const char *names[] = {"t2s", "s2t", "tw2s", "tw2sp", "s2tw",
                           "s2twp", "hk2s", "s2hk", "t2tw", "t2hk",
                           "tw2t", "hk2t", "t2jp", "jp2t"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        assert_true(tc_config_find(names[i]) >= 0);
    assert_int_equal(tc_config_find("nope"), -1);
}

static const char *const v116[] = {"hk2s", "s2t", "t2s", "tw2s", "tw2sp"};

/* Every v1.1.6 case file, against its .ans and against the real CLI. */
static void test_case_files(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof v116 / sizeof *v116; i++) {
        char in[4096], ans[4096];
        size_t n, an, cn, on;
        snprintf(in, sizeof in, "%s/corpora/opencc/v1.1.6/%s.in", shared(),
                 v116[i]);
        snprintf(ans, sizeof ans, "%s/corpora/opencc/v1.1.6/%s.ans",
                 shared(), v116[i]);
        char *text = slurp(in, &n), *expect = slurp(ans, &an);
        assert_non_null(text);
        assert_non_null(expect);
        char *out = conv(v116[i], text, n, &on);
        char *cli = opencc_cli(v116[i], in, &cn);
        assert_int_equal(on, an);
        assert_memory_equal(out, expect, an);
        assert_int_equal(on, cn);
        assert_memory_equal(out, cli, cn);
        free(text);
        free(expect);
        free(out);
        free(cli);
    }
}

static void write_file(const char *path, const char *s, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(s, 1, n, f), n);
    fclose(f);
}

/* zuozhuan.txt -> s2t -> t2s and tw2s, each step against the CLI. */
static void test_zuozhuan_round_trip(void **state)
{
    char in[4096], tmp[] = "/tmp/tc_zz_XXXXXX";
    size_t n, tn, cn, bn;
    (void)state;
    snprintf(in, sizeof in, "%s/corpora/opencc/zuozhuan.txt", shared());
    char *text = slurp(in, &n);
    assert_non_null(text);
    assert_true(n > 1000000);
    char *trad = conv("s2t", text, n, &tn);
    char *cli = opencc_cli("s2t", in, &cn);
    assert_int_equal(tn, cn);
    assert_memory_equal(trad, cli, cn);
    free(cli);
    int fd = mkstemp(tmp);
    assert_true(fd >= 0);
    close(fd);
    write_file(tmp, trad, tn);
    const char *back[] = {"t2s", "tw2s"};
    for (int i = 0; i < 2; i++) {
        char *simp = conv(back[i], trad, tn, &bn);
        cli = opencc_cli(back[i], tmp, &cn);
        assert_int_equal(bn, cn);
        assert_memory_equal(simp, cli, cn);
        free(simp);
        free(cli);
    }
    remove(tmp);
    free(text);
    free(trad);
}

/* Known conversions, one per configuration family. */
static void test_spot_values(void **state)
{
    (void)state;
    struct { const char *cfg, *in, *out; } c[] = {
        {"t2s", "憂鬱的臺灣烏龜", "忧郁的台湾乌龟"},
        {"s2t", "忧郁的台湾乌龟", "憂鬱的臺灣烏龜"},
        {"s2tw", "着", "著"},
        {"s2twp", "软件", "軟體"},
        {"tw2s", "隨著", "随着"},
        {"t2s", "隨著", "随著"},
        {"tw2s", "那么", "那幺"},
        {"t2s", "", ""},
        {"t2s", "plain ASCII\n", "plain ASCII\n"},
    };
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        char *o = conv_s(c[i].cfg, c[i].in);
        assert_string_equal(o ? o : "", c[i].out);
        free(o);
    }
}

static void test_invalid_utf8(void **state)
{
    const char in[] = "\xff\xfe\xe6\xbc\xa2\xe5\xad\x97\xc3 \xed\xa0\x80"
                      "\xe8\x87\xba";
    const char want[] = "\xff\xfe\xe6\xb1\x89\xe5\xad\x97\xc3 \xed\xa0\x80"
                        "\xe5\x8f\xb0";
    tc_conv *cv;
    tc_out o = {0};
    (void)state;
    assert_int_equal(tc_conv_new(tc_config_find("t2s"), NULL, 0, &cv), 0);
    assert_int_equal(tc_convert(cv, in, sizeof in - 1, &o), 0);
    assert_int_equal(o.len, sizeof want - 1);
    assert_memory_equal(o.buf, want, o.len);
    assert_int_equal(o.invalid, 6); /* ff fe c3 ed a0 80 */
    /* A truncated sequence at the very end. */
    o.len = o.invalid = 0;
    assert_int_equal(tc_convert(cv, "\xe6\xbc", 2, &o), 0);
    assert_int_equal(o.len, 2);
    assert_memory_equal(o.buf, "\xe6\xbc", 2);
    assert_int_equal(o.invalid, 2);
    /* NUL bytes are ordinary characters. */
    o.len = 0;
    assert_int_equal(tc_convert(cv, "\xe6\xbc\xa2\0\xe6\xbc\xa2", 7, &o), 0);
    assert_int_equal(o.len, 7);
    assert_memory_equal(o.buf, "\xe6\xb1\x89\0\xe6\xb1\x89", 7);
    tc_out_free(&o);
    tc_conv_free(cv);
}

static void test_empty_input(void **state)
{
    tc_conv *cv;
    tc_out o = {0};
    (void)state;
    assert_int_equal(tc_conv_new(tc_config_find("s2twp"), NULL, 0, &cv), 0);
    assert_int_equal(tc_convert(cv, "", 0, &o), 0);
    assert_int_equal(o.len, 0);
    assert_non_null(o.buf);
    assert_string_equal(o.buf, "");
    assert_int_equal(o.changes, 0);
    tc_out_free(&o);
    tc_conv_free(cv);
}

static void test_user_dict(void **state)
{
    const char text[] = "# names\n臺灣\t台灣 臺灣\n昇騰\t昇腾\r\n\n騰訊\t腾讯X\n";
    tc_userdict *ud;
    tc_conv *cv;
    tc_out o = {0};
    char *err = NULL;
    (void)state;
    assert_int_equal(tc_userdict_parse(text, strlen(text), "u.txt", &ud, &err),
                     0);
    assert_int_equal(tc_userdict_size(ud), 3);
    assert_int_equal(tc_conv_new(tc_config_find("t2s"), ud, 0, &cv), 0);
    /* 臺灣 -> 台灣 (the user's first value, not t2s's 台湾); the text around
     * is converted; 發騰訊 would be segmented otherwise. */
    assert_int_equal(tc_convert(cv, "臺灣的昇騰與騰訊發展", 30, &o), 0);
    assert_string_equal(o.buf, "台灣的昇腾与腾讯X发展");
    tc_conv_free(cv);
    tc_userdict_free(ud);
    tc_out_free(&o);

    assert_int_equal(tc_userdict_parse("a\tb\nno tab here\n", 16, "u.txt",
                                       &ud, &err),
                     TJ_EPARSE);
    assert_null(ud);
    assert_string_equal(err, "u.txt:2: expected 'key<TAB>value'");
    free(err);
    assert_int_equal(tc_userdict_parse("甲\t乙\n甲\t丙\n", 16, "d", &ud, &err),
                     TJ_EPARSE);
    assert_string_equal(err, "d:2: duplicate key");
    free(err);
    assert_int_equal(tc_userdict_load("/nonexistent/u.txt", &ud, &err),
                     TJ_EIO);
    assert_non_null(strstr(err, "/nonexistent/u.txt"));
    free(err);
}

/* With protect (config: auto), Simplified-only characters stay. */
static void test_protect(void **state)
{
    tc_conv *cv;
    tc_out o = {0};
    (void)state;
    assert_int_equal(tc_conv_new(tc_config_find("tw2s"), NULL, 1, &cv), 0);
    assert_int_equal(tc_convert(cv, "那么隨著臺灣", 18, &o), 0);
    assert_string_equal(o.buf, "那么随着台湾");
    tc_out_free(&o);
    tc_conv_free(cv);
}

static void test_detect(void **state)
{
    tc_conv *cv;
    tc_evidence ev;
    (void)state;
    assert_int_equal(tc_conv_new(tc_config_find("t2s"), NULL, 0, &cv), 0);
    const char *simp = "随着人工智能的发展，那么台湾的芯片产业";
    size_t sl = strlen(simp);
    assert_int_equal(tc_detect(cv, &simp, &sl, 1, &ev), -1);
    assert_int_equal(ev.trad, 0);
    assert_true(ev.simp > 3);
    const char *tw = "隨著人工智慧的發展，台灣的晶片產業裡";
    size_t tl = strlen(tw);
    assert_int_equal(tc_detect(cv, &tw, &tl, 1, &ev), tc_config_find("tw2s"));
    assert_true(ev.trad > 3);
    assert_true(ev.tw > ev.hk);
    const char *hk = "衞生署説明温度";
    size_t hl = strlen(hk);
    assert_int_equal(tc_detect(cv, &hk, &hl, 1, &ev), tc_config_find("hk2s"));
    const char *plain = "人工智慧的發展與晶片產業";
    size_t pl = strlen(plain);
    assert_int_equal(tc_detect(cv, &plain, &pl, 1, &ev),
                     tc_config_find("t2s"));
    tc_conv_free(cv);
}

/* A Simplified text of `simp_chars` Simplified-only characters (这, 60 a
 * line) followed by a Taiwan-style Traditional sentence; the caller frees. */
static char *simplified_then_traditional(size_t simp_chars)
{
    const char *tail = "隨著臺灣的發展，那么裡面";
    char *s = malloc(simp_chars * 3 + simp_chars / 60 + strlen(tail) + 1);
    size_t n = 0;
    for (size_t i = 0; i < simp_chars; i++) {
        memcpy(s + n, "这", 3);
        n += 3;
        if (i % 60 == 59)
            s[n++] = '\n';
    }
    strcpy(s + n, tail);
    return s;
}

/* auto reads the whole record: a Traditional quote after a long
 * Simplified stretch still makes it convert (README, config: auto). */
static void test_detect_bound(void **state)
{
    tc_conv *cv;
    tc_evidence ev;
    (void)state;
    assert_int_equal(tc_conv_new(tc_config_find("t2s"), NULL, 0, &cv), 0);
    char *late = simplified_then_traditional(5000);
    size_t ll = strlen(late);
    assert_int_equal(tc_detect(cv, (const char **)&late, &ll, 1, &ev),
                     tc_config_find("tw2s"));
    assert_int_equal(ev.simp, 5000 + 1); /* and 么 in the tail */
    assert_true(ev.trad >= 3);
    char *plain = simplified_then_traditional(0);
    plain[0] = 0; /* no text: Simplified by default */
    size_t pl = 0;
    assert_int_equal(tc_detect(cv, (const char **)&plain, &pl, 1, &ev), -1);
    assert_int_equal(ev.simp, 0);
    char *simp = simplified_then_traditional(300);
    simp[300 * 3 + 300 / 60] = 0; /* cut before the Traditional tail */
    size_t sl = strlen(simp);
    assert_int_equal(tc_detect(cv, (const char **)&simp, &sl, 1, &ev), -1);
    assert_int_equal(ev.simp, 300);
    assert_int_equal(ev.trad, 0);
    free(late);
    free(plain);
    free(simp);
    tc_conv_free(cv);
}

/* The detection scans go through three-byte characters two, then one at
 * a time, with ASCII, other lengths and malformed bytes in between; the
 * evidence must not depend on where a character falls.  Random sequences
 * of pieces (Traditional-only, Simplified-only, neutral, regional, ASCII,
 * two- and four-byte characters, malformed and truncated sequences) are
 * split into 1-3 texts, each in a buffer of its exact size, and the
 * Traditional-only and Simplified-only counts must be the sums of each
 * piece's own counts, with "none" exactly when there is no
 * Traditional-only character. */
static void test_detect_scan(void **state)
{
    static const char *const piece[] = {
        "後", "說", "國", "裡", "衞", "説", "么", "着", "发", "国", "这",
        "中", "文", "，", "。", "著名", "乾燥", "台", "臺", "a", "1 ", "\n",
        "é", "𠀀", "\xe3\x80\x80", "\xff", "\xc0\xaf", "\xe0\x80\x80",
        "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe4\xb8", "人工智慧的發展"};
    enum { NP = sizeof piece / sizeof *piece };
    size_t ptrad[NP], psimp[NP];
    tc_conv *cv;
    tc_evidence ev;
    unsigned seed = 12345;
    (void)state;
    assert_int_equal(tc_conv_new(tc_config_find("t2s"), NULL, 0, &cv), 0);
    for (int i = 0; i < NP; i++) {
        size_t l = strlen(piece[i]);
        assert_true(tc_detect(cv, &piece[i], &l, 1, &ev) >= -1);
        ptrad[i] = ev.trad;
        psimp[i] = ev.simp;
    }
    assert_true(ptrad[0] == 1 && psimp[0] == 0 && psimp[6] == 1);
    for (int round = 0; round < 3000; round++) {
        char *texts[3];
        size_t lens[3], trad = 0, simp = 0;
        int n = 1 + round % 3;
        for (int t = 0; t < n; t++) {
            char buf[512];
            size_t len = 0;
            int count = (int)((seed = seed * 1103515245u + 12345u) >> 16) % 40;
            /* mostly one kind (a Simplified or a Traditional stretch) */
            int bias = (int)(seed >> 8) % 3;
            for (int k = 0; k < count; k++) {
                seed = seed * 1103515245u + 12345u;
                int i = (int)(seed >> 16) % NP;
                if (bias == 1 && (seed & 3))
                    i = 6 + (int)(seed >> 4) % 7; /* Simplified, neutral */
                else if (bias == 2 && (seed & 3))
                    i = (int)(seed >> 4) % 3; /* Traditional */
                memcpy(buf + len, piece[i], strlen(piece[i]));
                len += strlen(piece[i]);
                trad += ptrad[i];
                simp += psimp[i];
            }
            texts[t] = malloc(len ? len : 1);
            memcpy(texts[t], buf, len);
            lens[t] = len;
        }
        int cfg = tc_detect(cv, (const char *const *)texts, lens, (size_t)n,
                            &ev);
        assert_true(trad ? cfg >= 0 : cfg == -1);
        assert_int_equal(ev.trad, trad);
        assert_int_equal(ev.simp, simp);
        for (int t = 0; t < n; t++)
            free(texts[t]);
    }
    tc_conv_free(cv);
}

/* Whether code point c is Simplified-only (what protection copies), as
 * tc_detect counts it on the character alone; cached in known[]. */
static int simp_only(unsigned char *known, uint32_t c)
{
    if (!known[c]) {
        char buf[4];
        size_t n = 0;
        const char *t = buf;
        tc_evidence ev;
        tc_conv *cv;
        if (c < 0x800) {
            buf[n++] = (char)(0xC0 | c >> 6);
        } else if (c < 0x10000) {
            buf[n++] = (char)(0xE0 | c >> 12);
            buf[n++] = (char)(0x80 | (c >> 6 & 0x3F));
        } else {
            buf[n++] = (char)(0xF0 | c >> 18);
            buf[n++] = (char)(0x80 | (c >> 12 & 0x3F));
            buf[n++] = (char)(0x80 | (c >> 6 & 0x3F));
        }
        buf[n++] = (char)(0x80 | (c & 0x3F));
        assert_int_equal(tc_conv_new(0, NULL, 0, &cv), 0);
        assert_true(tc_detect(cv, &t, &n, 1, &ev) >= -1);
        tc_conv_free(cv);
        known[c] = ev.simp ? 2 : 1;
    }
    return known[c] == 2;
}

/* Protected conversion, with the positions tc_detect recorded
 * (tc_convert_known: the three-byte loop bounded by the next protected
 * character) and without them (tc_convert: each character's class looked
 * up), equals the plain conversion of the pieces between Simplified-only
 * characters, joined by those characters, in every configuration: random
 * mixtures of characters, phrases, malformed bytes and zuozhuan.txt
 * fragments (its Traditional form, so long runs take the three-byte
 * loop). */
static void test_protect_paths(void **state)
{
    static const char *const piece[] = {
        "後", "說", "國", "裡", "衞", "説", "著", "乾燥", "著名", "台灣",
        "人工智慧的發展", "中", "文", "，", "。", "a", "1 ", "\n", "é",
        "𠀀", "\xe3\x80\x80", "\xff", "\xc0\xaf", "\xe0\x80\x80",
        "\xed\xa0\x80", "\xe4\xb8", "那", "么", "着", "发", "这", "国"};
    enum { NP = sizeof piece / sizeof *piece };
    char path[4096];
    size_t zlen, tlen;
    snprintf(path, sizeof path, "%s/corpora/opencc/zuozhuan.txt", shared());
    char *zs = slurp(path, &zlen);
    if (!zs)
        skip();
    char *zt = conv("s2t", zs, zlen, &tlen);
    unsigned char *known = calloc(0x110000, 1);
    unsigned seed = 4242;
    int nconf = tc_config_count();
    tc_conv *cv, *plain;
    (void)state;
    assert_non_null(known);
    assert_int_equal(tc_conv_new(0, NULL, 1, &cv), 0);
    assert_int_equal(tc_conv_new(0, NULL, 0, &plain), 0);
    for (int round = 0; round < 400; round++) {
        size_t cap = 1 << 16, len, start = 0;
        char *text = malloc(cap);
        tc_out want = {0}, a = {0}, b = {0};
        int cfg = round % nconf;
        assert_non_null(text);
        assert_int_equal(tc_conv_set(plain, cfg, 0), 0);
        /* Always one Traditional-only character, so detection records. */
        memcpy(text, "後", 3);
        len = 3;
        while (len < cap - 4096 &&
               (seed = seed * 1103515245u + 12345u) >> 16 & 63) {
            seed = seed * 1103515245u + 12345u;
            if ((seed & 7) == 0) {
                /* a stretch of Traditional prose, from a character start */
                size_t from = (seed >> 4) % (tlen - 2048);
                size_t n = (seed >> 8) % 2000;
                while ((zt[from] & 0xC0) == 0x80)
                    from++;
                memcpy(text + len, zt + from, n);
                len += n;
            } else {
                const char *s = piece[(seed >> 16) % NP];
                memcpy(text + len, s, strlen(s));
                len += strlen(s);
            }
        }
        /* The reference: plain conversion between protected characters. */
        for (size_t at = 0; at < len;) {
            unsigned n;
            uint32_t c = tc_utf8_decode((const unsigned char *)text + at,
                                        (const unsigned char *)text + len,
                                        &n);
            if (c != TC_INVALID && simp_only(known, c)) {
                assert_int_equal(tc_convert(plain, text + start, at - start,
                                            &want), 0);
                assert_int_equal(out_append(&want, text + at, n), 0);
                start = at + n;
            }
            at += n;
        }
        assert_int_equal(tc_convert(plain, text + start, len - start, &want),
                         0);
        const char *tp = text;
        assert_true(tc_detect(cv, &tp, &len, 1, NULL) >= 0);
        assert_int_equal(tc_conv_set(cv, cfg, 1), 0);
        assert_int_equal(tc_convert(cv, text, len, &a), 0);
        assert_int_equal(tc_convert_known(cv, 0, text, len, &b), 0);
        assert_int_equal(a.len, want.len);
        assert_memory_equal(a.buf, want.buf, want.len);
        assert_int_equal(b.len, want.len);
        assert_memory_equal(b.buf, want.buf, want.len);
        assert_int_equal(a.changes, b.changes);
        tc_out_free(&want);
        tc_out_free(&a);
        tc_out_free(&b);
        free(text);
    }
    tc_conv_free(cv);
    tc_conv_free(plain);
    free(known);
    free(zs);
    free(zt);
}

/* tc_convert_known gives tc_convert's output (protected, after detection
 * on several texts), and falls back to it when detection recorded
 * nothing. */
static void test_convert_known(void **state)
{
    const char *texts[3] = {"那么隨著臺灣，这个裡面乾燥的衞生", "", "著名的那么多发展"};
    size_t lens[3] = {strlen(texts[0]), 0, strlen(texts[2])};
    tc_conv *cv;
    tc_out a = {0}, b = {0};
    (void)state;
    assert_int_equal(tc_conv_new(tc_config_find("t2s"), NULL, 0, &cv), 0);
    int cfg = tc_detect(cv, texts, lens, 3, NULL);
    assert_true(cfg >= 0);
    assert_int_equal(tc_conv_set(cv, cfg, 1), 0);
    for (size_t i = 0; i < 3; i++) {
        a.len = a.changes = b.len = b.changes = 0;
        assert_int_equal(tc_convert(cv, texts[i], lens[i], &a), 0);
        assert_int_equal(tc_convert_known(cv, i, texts[i], lens[i], &b), 0);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.buf, b.buf, a.len);
        assert_int_equal(a.changes, b.changes);
    }
    a.len = b.len = 0;
    assert_int_equal(tc_convert(cv, texts[0], lens[0], &a), 0);
    assert_memory_equal(a.buf, "那么随着台湾，这个里面", 33); /* 么 and 这 kept */
    const char *simp = "这个那么";
    size_t sl = strlen(simp);
    assert_int_equal(tc_detect(cv, &simp, &sl, 1, NULL), -1);
    assert_int_equal(tc_convert_known(cv, 0, texts[0], lens[0], &b), 0);
    assert_string_equal(b.buf, a.buf);
    tc_out_free(&a);
    tc_out_free(&b);
    tc_conv_free(cv);
}

static void test_json_strings(void **state)
{
    const char *in = "{\"title\": \"隨著臺灣\", \"h1\":[\"漢字\", \"ok\", 3],"
                     " \"臺灣\": {\"m\":\"\\u81fa\\u7063\\n\\\"\"}, \"x\":"
                     " \"\\ud800\"}";
    tc_conv *cv;
    tc_out o = {0};
    (void)state;
    assert_int_equal(tc_conv_new(tc_config_find("t2s"), NULL, 0, &cv), 0);
    assert_int_equal(tc_json_convert(cv, in, strlen(in), &o), 0);
    assert_string_equal(o.buf, "{\"title\": \"随著台湾\", \"h1\":[\"汉字\", "
                               "\"ok\", 3], \"臺灣\": {\"m\":\"台湾\\n\\\"\"}, "
                               "\"x\": \"\\ud800\"}");
    tc_out_free(&o);
    assert_int_equal(tc_json_convert(cv, "[\"abc", 5, &o), TJ_EPARSE);
    tc_out_free(&o);
    tc_conv_free(cv);
}

/* A large input: output grows past every initial guess. */
static void test_large(void **state)
{
    const char unit[] = "臺灣烏龜憂鬱地說：ABC。\n";
    size_t reps = getenv("TJ_SANITIZED") ? 20000 : 400000, n = 0, on;
    char *big = malloc(reps * (sizeof unit - 1) + 1);
    (void)state;
    assert_non_null(big);
    for (size_t i = 0; i < reps; i++, n += sizeof unit - 1)
        memcpy(big + n, unit, sizeof unit - 1);
    char *out = conv("t2s", big, n, &on);
    const char want[] = "台湾乌龟忧郁地说：ABC。\n";
    assert_int_equal(on, reps * (sizeof want - 1));
    assert_memory_equal(out + on - (sizeof want - 1), want, sizeof want - 1);
    free(out);
    out = conv("s2twp", big, n, &on);
    assert_int_equal(on, n);
    free(out);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_data_loads),
        cmocka_unit_test(test_case_files),
        cmocka_unit_test(test_zuozhuan_round_trip),
        cmocka_unit_test(test_spot_values),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_empty_input),
        cmocka_unit_test(test_user_dict),
        cmocka_unit_test(test_protect),
        cmocka_unit_test(test_detect),
        cmocka_unit_test(test_detect_bound),
        cmocka_unit_test(test_detect_scan),
        cmocka_unit_test(test_convert_known),
        cmocka_unit_test(test_protect_paths),
        cmocka_unit_test(test_json_strings),
        cmocka_unit_test(test_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
