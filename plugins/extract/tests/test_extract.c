/*
 * test_extract.c - unit tests of the extract stage: JioNLP's money vectors,
 * dates, tickers, titles, bylines, user rules and the stage through the
 * harness.
 */
#include "entities.h"
#include "harness.h"

/* cmocka after the stage header: cmocka defines a fail() macro */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- JioNLP money vectors ------------------------------------------------ */

static const char *iso_of(const char *jio_case)
{
    static const struct { const char *c, *code; } m[] = {
        {"元", "CNY"}, {"港元", "HKD"}, {"美元", "USD"}, {"日元", "JPY"},
        {"新台币", "TWD"}, {"欧元", "EUR"}, {"泰铢", "THB"}, {"卢布", "RUB"},
        {"韩元", "KRW"}, {"澳元", "AUD"}};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (!strcmp(m[i].c, jio_case))
            return m[i].code;
    return "?";
}

/* JioNLP's "definition" from our flags: ranges and "about" are blur. */
static const char *definition(const ext_money *m)
{
    if (m->is_range || m->approx == EXT_APPROX_ABOUT)
        return "blur";
    return m->approx == EXT_APPROX_BELOW   ? "blur-"
           : m->approx == EXT_APPROX_ABOVE ? "blur+"
                                           : "accurate";
}

static int parse_case(char **f)
{
    ext_money m;
    size_t n = strlen(f[1]);
    size_t l = ext_money_parse(f[1], n, 0, &m);
    int ok = l == n && !strcmp(iso_of(f[4]), m.currency) &&
             !strcmp(definition(&m), f[5]);
    if (f[3][0])
        ok = ok && m.is_range && fabs(m.low - atof(f[2])) < 0.01 &&
             fabs(m.high - atof(f[3])) < 0.01;
    else
        ok = ok && !m.is_range && fabs(m.value - atof(f[2])) < 0.01;
    if (!ok)
        printf("# money parse differs: %s -> %zu/%zu bytes, %.2f [%.2f, %.2f] "
               "%s %s (JioNLP: %s %s %s %s)\n", f[1], l, n, m.value, m.low,
               m.high, m.currency, definition(&m), f[2], f[3], f[4], f[5]);
    return ok;
}

/* Runs the entity scanner on f[1] and compares the money texts with the
 * \x1f-separated list in f[2]. */
static int extract_case(char **f)
{
    ext_dref ref = {0, 0, 480, 2020};
    ext_ent_opts o = {.money = 1, .max = 100, .ref = &ref};
    const char *texts[] = {f[1]};
    size_t lens[] = {strlen(f[1])};
    cJSON *out = cJSON_CreateObject();
    char got[2048] = "";
    assert_int_equal(ext_entities(texts, lens, 1, &o, out), 0);
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(out, "money"))
    {
        if (got[0])
            strcat(got, "\x1f");
        strncat(got, cJSON_GetObjectItem(it, "text")->valuestring,
                sizeof got - strlen(got) - 2);
    }
    cJSON_Delete(out);
    int ok = !strcmp(got, f[2]);
    if (!ok)
        printf("# money extraction differs on %s: got '%s' want '%s'\n", f[1],
               got, f[2]);
    return ok;
}

static void jionlp_money(void **s)
{
    const char *shared = getenv("TJ_SHARED");
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "python3 plugins/extract/tests/jionlp_money.py '%s/corpora/jionlp'",
             shared ? shared : "../shared");
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[8192];
    int pass[2] = {0, 0}, all[2] = {0, 0};
    while (fgets(line, sizeof line, p)) {
        char *f[8] = {0};
        int k = 0;
        line[strcspn(line, "\n")] = 0;
        for (char *q = line; k < 8;) {
            f[k++] = q;
            char *t = strchr(q, '\t');
            if (!t)
                break;
            *t = 0;
            q = t + 1;
        }
        int is_parse = !strcmp(f[0], "parse");
        if (is_parse && k < 6)
            continue;
        if (!is_parse && k < 2)
            continue;
        if (!is_parse && k == 2)
            f[2] = "";
        all[!is_parse]++;
        pass[!is_parse] += is_parse ? parse_case(f) : extract_case(f);
    }
    assert_int_equal(pclose(p), 0);
    printf("# JioNLP parse_money vectors: %d/%d\n", pass[0], all[0]);
    printf("# JioNLP extract_money vectors: %d/%d\n", pass[1], all[1]);
    assert_true(all[0] >= 50 && all[1] >= 10);
    assert_true(pass[0] * 100 >= 95 * all[0]);
    assert_true(pass[1] * 100 >= 95 * all[1]);
}

/* ---- dates --------------------------------------------------------------- */

static void iso(const char *text, const ext_dref *ref, const char *want)
{
    ext_dt dt;
    size_t ml;
    char out[32] = "";
    if (ext_date_find(text, strlen(text), ref, &dt, &ml) >= 0)
        ext_dt_iso(&dt, 480, out);
    if (strcmp(out, want))
        printf("# date %s: got '%s' want '%s'\n", text, out, want);
    assert_string_equal(out, want);
}

static void dates(void **s)
{
    ext_dref none = {0, 0, 480, 0};
    ext_dt now;
    assert_true(ext_date_parse("2025-03-06T08:00:00+08:00", 25, &none, 1, &now));
    ext_dref ref = {ext_dt_epoch(&now, 480), 1, 480, 0};
    iso("2025-03-05 10:05", &ref, "2025-03-05T10:05:00+08:00");
    iso("发布时间:2025-03-05 10:05:33", &ref, "2025-03-05T10:05:33+08:00");
    iso("2025/02/04 16:20", &ref, "2025-02-04T16:20:00+08:00");
    iso("2025.3.5", &ref, "2025-03-05T00:00:00+08:00");
    iso("2025年02月06日 10:32", &ref, "2025-02-06T10:32:00+08:00");
    iso("2025年2月6日10:32", &ref, "2025-02-06T10:32:00+08:00");
    iso("3月26日", &ref, "2024-03-26T00:00:00+08:00"); /* after now: last year */
    iso("3月1日 上午", &ref, "2025-03-01T00:00:00+08:00");
    iso("昨天 10:05", &ref, "2025-03-05T10:05:00+08:00");
    iso("前天", &ref, "2025-03-04T00:00:00+08:00");
    iso("3小时前", &ref, "2025-03-06T05:00:00+08:00");
    iso("三小时前", &ref, "2025-03-06T05:00:00+08:00");
    iso("刚刚", &ref, "2025-03-06T08:00:00+08:00");
    iso("30分钟前", &ref, "2025-03-06T07:30:00+08:00");
    iso("2019-9-5 9:38:01 PM", &ref, "2019-09-05T21:38:01+08:00");
    iso("2019-09-07T13:43:45Z", &ref, "2019-09-07T21:43:45+08:00");
    iso("Wed, 05 Mar 2025 02:05:00 +0000", &ref, "2025-03-05T10:05:00+08:00");
    iso("下午3点20分", &ref, "");
    iso("2025-02-30", &ref, "");
    iso("2028-2030财年", &ref, "");
    iso("3小时前", &none, "");
    int z;
    assert_int_equal(ext_parse_zone("+08:00", &z), 0);
    assert_int_equal(z, 480);
    assert_int_equal(ext_parse_zone("-0530", &z), 0);
    assert_int_equal(z, -330);
    assert_int_equal(ext_parse_zone("Asia/Tokyo", &z), 0);
    assert_int_equal(z, 540);
    assert_int_equal(ext_parse_zone("Mars/Olympus", &z), -1);
}

/* ---- entities ------------------------------------------------------------ */

static cJSON *scan(const char *text)
{
    char err[256];
    static ext_dict *dict;
    if (!dict)
        dict = ext_dict_create(1, NULL, err, sizeof err);
    ext_dref ref = {0, 0, 480, 2025};
    ext_ent_opts o = {1, 1, 1, 1, 1, 100, dict, &ref, NULL, NULL};
    const char *texts[] = {text};
    size_t lens[] = {strlen(text)};
    cJSON *out = cJSON_CreateObject();
    assert_int_equal(ext_entities(texts, lens, 1, &o, out), 0);
    return out;
}

static int count_of(cJSON *e, const char *list, const char *key,
                    const char *value)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(e, list))
    {
        if (!strcmp(cJSON_GetObjectItem(it, key)->valuestring, value))
            return cJSON_GetObjectItem(it, "count")->valueint;
    }
    return 0;
}

static void tickers_and_orgs(void **s)
{
    cJSON *e = scan("英伟达(NVDA.US)与阿里巴巴(BABA.US)、腾讯(00700.HK)、"
                    "茅台600519.SH、平安银行000001.SZ；(NASDAQ: NVDA)，"
                    "纳斯达克：NVDA。nvda.us 英偉達 NVIDIA 辉达 大摩 摩根士丹利"
                    " metaverse Meta 2048块GPU");
    assert_int_equal(count_of(e, "tickers", "symbol", "NVDA.US"), 4);
    assert_int_equal(count_of(e, "tickers", "symbol", "BABA.US"), 1);
    assert_int_equal(count_of(e, "tickers", "symbol", "0700.HK"), 1);
    assert_int_equal(count_of(e, "tickers", "symbol", "600519.SH"), 1);
    assert_int_equal(count_of(e, "tickers", "symbol", "000001.SZ"), 1);
    assert_int_equal(count_of(e, "organizations", "name", "NVIDIA"), 4);
    assert_int_equal(count_of(e, "organizations", "name", "Morgan Stanley"), 2);
    assert_int_equal(count_of(e, "organizations", "name", "Meta"), 1);
    assert_int_equal(count_of(e, "organizations", "name", "Alibaba"), 1);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(e, "money")), 0);
    cJSON_Delete(e);
}

static void money_percent_dates(void **s)
{
    cJSON *e = scan("市值蒸发5890亿美元，影响达300亿至350亿美元（约合人民幣2184億至"
                    "2548億元），股价跌近6%，增长百分之二十，3月26日周三，"
                    "2024年3月18日发布。");
    cJSON *m = cJSON_GetObjectItem(e, "money");
    assert_int_equal(cJSON_GetArraySize(m), 3);
    cJSON *a = cJSON_GetArrayItem(m, 0), *b = cJSON_GetArrayItem(m, 1),
          *c = cJSON_GetArrayItem(m, 2);
    assert_string_equal(cJSON_GetObjectItem(a, "text")->valuestring, "5890亿美元");
    assert_true(cJSON_GetObjectItem(a, "value")->valuedouble == 589000000000.0);
    assert_string_equal(cJSON_GetObjectItem(a, "currency")->valuestring, "USD");
    assert_true(cJSON_GetObjectItem(b, "low")->valuedouble == 3e10);
    assert_true(cJSON_GetObjectItem(b, "high")->valuedouble == 3.5e10);
    assert_string_equal(cJSON_GetObjectItem(c, "currency")->valuestring, "CNY");
    assert_string_equal(cJSON_GetObjectItem(c, "approx")->valuestring, "about");
    cJSON *p = cJSON_GetObjectItem(e, "percents");
    assert_int_equal(cJSON_GetArraySize(p), 2);
    assert_true(cJSON_GetObjectItem(cJSON_GetArrayItem(p, 0), "value")->valuedouble == 6);
    assert_true(cJSON_GetObjectItem(cJSON_GetArrayItem(p, 1), "value")->valuedouble == 20);
    cJSON *d = cJSON_GetObjectItem(e, "dates");
    assert_int_equal(cJSON_GetArraySize(d), 2);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(d, 0), "date")->valuestring,
                        "2025-03-26");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(d, 1), "date")->valuestring,
                        "2024-03-18");
    cJSON_Delete(e);
}

/* ---- fast paths against their plain definitions ---------------------------- */

/* A small deterministic generator (xorshift), so failures reproduce. */
static uint32_t rnd_next(uint64_t *st)
{
    *st ^= *st << 13;
    *st ^= *st >> 7;
    *st ^= *st << 17;
    return (uint32_t)(*st >> 11);
}

/* Fills buf with up to cap bytes of random pieces: ASCII, quotes and
 * backslashes, control bytes and NUL, CJK, full-width punctuation, a
 * four-byte character, and broken sequences (lone continuation, cut lead,
 * overlong, surrogate).  Returns the length. */
static size_t rnd_text(uint64_t *st, char *buf, size_t cap)
{
    static const char *const pieces[] = {
        "a", "Z", "7", " ", "\"", "\\", "\n", "\t", "\x01", "\x1f", "",
        "中", "国", "的", "英伟达", "，", "。", "（", "｜", "\xF0\x9F\x98\x80",
        "\x80", "\xE4\xBD", "\xE0\x80\x80", "\xED\xA0\x80", "\xC3\xA9", "\xFF"};
    size_t n = 0, want = rnd_next(st) % 48;
    while (n < want) {
        const char *p = pieces[rnd_next(st) % (sizeof pieces / sizeof *pieces)];
        size_t l = p[0] ? strlen(p) : 1; /* "" stands for a NUL byte */
        if (n + l > cap)
            break;
        memcpy(buf + n, p, l);
        n += l;
    }
    return n;
}

/* Calls fn(text, len, arg) on each seed text and JioNLP test file of the
 * shared corpora ($TJ_SHARED, else ../shared) and returns how many were
 * read. */
static int each_corpus_text(void (*fn)(const char *, size_t, void *), void *arg)
{
    const char *shared = getenv("TJ_SHARED");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "ls '%s'/seeds/*.txt '%s'/corpora/jionlp/*.py 2>/dev/null",
             shared ? shared : "../shared", shared ? shared : "../shared");
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char path[1024];
    int files = 0;
    while (fgets(path, sizeof path, p)) {
        path[strcspn(path, "\n")] = 0;
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        static char text[1 << 20];
        size_t n = fread(text, 1, sizeof text, f);
        fclose(f);
        fn(text, n, arg);
        files++;
    }
    pclose(p);
    return files;
}

/* ext_json_str (eight bytes at a time) writes what cJSON prints for the
 * same C string, on random bytes. */
static void json_str_agrees(void **s)
{
    uint64_t st = 0x9E3779B97F4A7C15ull;
    char buf[256];
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = rnd_text(&st, buf, sizeof buf - 1);
        buf[n] = '\0';
        ext_buf b = {0};
        assert_int_equal(ext_json_str(&b, buf, n), 0);
        cJSON *str = cJSON_CreateString(buf);
        char *want = cJSON_PrintUnformatted(str);
        assert_string_equal(b.p, want);
        free(want);
        cJSON_Delete(str);
        ext_buf_free(&b);
    }
}

/* ext_utf8_count_max is min(ext_utf8_count, limit); ext_words_at agrees
 * with trying each word in turn, at every character start. */
static void counts_and_words_agree(void **s)
{
    static const char *const list[] = {"来源", "作者", "|", "｜", "中国",
                                       "\xF0\x9F\x98\x80", "a", NULL};
    static ext_words ws = {list, {0}, 0};
    uint64_t st = 0x2545F4914F6CDD1Dull;
    char buf[256];
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = rnd_text(&st, buf, sizeof buf), l;
        size_t limit = rnd_next(&st) % 40;
        size_t all = ext_utf8_count(buf, n);
        assert_int_equal(ext_utf8_count_max(buf, n, limit),
                         all < limit ? all : limit);
        for (size_t i = 0; i < n; i += l) {
            uint32_t c = ext_utf8_next(buf + i, n - i, &l);
            int naive = 0;
            for (size_t k = 0; list[k]; k++)
                naive |= ext_starts(buf + i, n - i, list[k]);
            assert_int_equal(ext_words_at(&ws, buf + i, n - i, c) != 0, naive);
        }
    }
}

/* The script the scanner counts in its first pass (two three-byte
 * characters per eight-byte load, one at a time before other bytes, the
 * decoder for the rest) is ext_script's, on random mixes of Simplified-
 * and Traditional-only characters, neutral ones, ASCII, numerals and
 * (in half the texts) broken UTF-8, at every alignment. */
static void script_scan_agrees(void **s)
{
    static const char *const pieces[] = {
        "这", "们", "说", "国", "這", "們", "說", "國", "的", "中", "，",
        "一", "亿", "a", "7", " ", "\n", "$", "\xC3\xA9", "\xF0\x9F\x98\x80",
        "\x80", "\xE4\xBD", "\xE0\x80\x80", "\xED\xA0\x80", "\xFF"};
    enum { NCLEAN = 20 }; /* pieces before this index are well-formed */
    ext_ent_opts o = {1, 1, 1, 1, 1, 100, NULL, NULL, NULL, NULL};
    ext_dref ref = {0, 0, 480, 0};
    o.ref = &ref;
    assert_int_equal(ext_entities_prepare(&o), 0);
    uint64_t st = 0x8CB92BA72F3D8DD7ull;
    char buf[600];
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = 0, want = rnd_next(&st) % 200, npieces = iter % 2 ? 25 : NCLEAN;
        unsigned trad_weight = rnd_next(&st) % 8; /* how often 這們說國 */
        while (n < want) {
            size_t k = rnd_next(&st) % npieces;
            if (k < 8 && (k >= 4) != (rnd_next(&st) % 8 < trad_weight))
                k ^= 4; /* lean towards one script */
            size_t l = strlen(pieces[k]);
            memcpy(buf + n, pieces[k], l);
            n += l;
        }
        const char *texts[] = {buf}, *script = NULL;
        size_t lens[] = {n};
        ext_buf b = {0};
        assert_int_equal(ext_entities_json(texts, lens, 1, &o, NULL, &b, &script), 0);
        assert_string_equal(script, ext_script(buf, n));
        ext_buf_free(&b);
    }
    ext_entities_release(&o);
}

/* What org_scan_agrees compares on one text: the scanner's organisation
 * counts for buf[0..n) against the plain walk. */
typedef struct org_check {
    const ext_dict *d;
    const ext_ent_opts *o;
    int *want;
    size_t norg;
} org_check;

static void org_counts_agree(const char *buf, size_t n, void *arg)
{
    const org_check *ck = arg;
    const ext_dict *d = ck->d;
    int *want = ck->want;
    size_t norg = ck->norg;
    /* the plain walk: an ASCII letter or digit is tried only at the
     * start of a run (not after another one, '.' or '_'), or right
     * after a match that ended in '.' or '_' */
    memset(want, 0, norg * sizeof *want);
    int matched = 0;
    for (size_t i = 0, l; i < n; i += l) {
        size_t org, m;
        unsigned char b = (unsigned char)buf[i];
        unsigned char pb = i ? (unsigned char)buf[i - 1] : 0;
        int glued = isalnum(b) && i &&
                    (isalnum(pb) || ((pb == '.' || pb == '_') && !matched));
        ext_utf8_next(buf + i, n - i, &l);
        matched = 0;
        if (!glued && (m = ext_dict_match(d, buf + i, n - i, &org)) > 0) {
            want[org]++;
            l = m;
            matched = 1;
        }
    }
    const char *texts[] = {buf};
    size_t lens[] = {n};
    cJSON *out = cJSON_CreateObject();
    assert_int_equal(ext_entities(texts, lens, 1, ck->o, out), 0);
    size_t listed = 0;
    for (size_t k = 0; k < norg; k++) {
        if (!want[k])
            continue;
        listed++;
        assert_int_equal(count_of(out, "organizations", "name",
                                  ext_dict_name(d, k)), want[k]);
    }
    assert_int_equal(
        cJSON_GetArraySize(cJSON_GetObjectItem(out, "organizations")),
        listed);
    cJSON_Delete(out);
}

/* The scanner's organisation counts (its first-character and pair
 * filters, read eight bytes at a time, and at ASCII letters the bucket's
 * third-character mask) equal a plain walk that tries the dictionary at
 * every character start and skips each match, on random mixes of
 * aliases, their cut-off pieces, loose letters and digits and broken
 * UTF-8. */
static void org_scan_agrees(void **s)
{
    char err[256];
    ext_dict *d = ext_dict_create(1, NULL, err, sizeof err);
    assert_non_null(d);
    /* every alias of the built-in list (fields of the TSV) */
    size_t tl, na = 0;
    const char *tsv = ext_builtin_orgs(&tl);
    static char *aliases[4096];
    for (size_t i = 0; i < tl && na < 4096;) {
        size_t e = i;
        while (e < tl && tsv[e] != '\t' && tsv[e] != '\n')
            e++;
        if (e > i && tsv[i] != '#')
            aliases[na++] = strndup(tsv + i, e - i);
        i = e + 1;
    }
    assert_true(na > 100);
    static const char *const filler[] = {
        "的", "在", "，", " ", "\x80", "\xE4\xBD", "\xED\xA0\x80",
        "\xE0\x80\x80", "\xF0\x9F\x98\x80", "。", "和",
        /* letters and digits against the ASCII pair-and-third filter */
        "AI", "ai", "A", "r", "R", "b", "ASIC", "BL", "Bl", "ack", "x", "9",
        "0", "-", ".", "_", "\xC3\xA9"};
    ext_ent_opts o = {0, 1, 0, 0, 0, 100, d, NULL, NULL, NULL};
    assert_int_equal(ext_entities_prepare(&o), 0);
    size_t norg = ext_dict_size(d);
    int *want = calloc(norg, sizeof *want);
    uint64_t st = 0xD1B54A32D192ED03ull;
    char buf[512];
    for (int iter = 0; iter < 10000; iter++) {
        size_t n = 0, parts = rnd_next(&st) % 12;
        for (size_t k = 0; k < parts; k++) {
            const char *p;
            size_t l;
            if (rnd_next(&st) % 2) {
                p = aliases[rnd_next(&st) % na];
                l = strlen(p);
                if (rnd_next(&st) % 3 == 0) /* cut anywhere, even mid-character */
                    l = rnd_next(&st) % (l + 1);
            } else {
                p = filler[rnd_next(&st) % (sizeof filler / sizeof *filler)];
                l = strlen(p);
            }
            if (n + l > sizeof buf)
                break;
            memcpy(buf + n, p, l);
            n += l;
        }
        org_check ck = {d, &o, want, norg};
        org_counts_agree(buf, n, &ck);
    }
    org_check ck = {d, &o, want, norg};
    assert_true(each_corpus_text(org_counts_agree, &ck) >= 5);
    free(want);
    for (size_t i = 0; i < na; i++)
        free(aliases[i]);
    ext_entities_release(&o);
    ext_dict_destroy(d);
}

/* Writes to buf (cap bytes) a random number of random pieces, fewer than
 * `most` bytes; returns the length. */
static size_t rnd_pieces(uint64_t *st, const char *const *pieces,
                         size_t npieces, size_t most, char *buf, size_t cap)
{
    size_t n = 0, want = rnd_next(st) % most;
    while (n < want) {
        const char *q = pieces[rnd_next(st) % npieces];
        size_t l = strlen(q);
        if (n + l > cap)
            break;
        memcpy(buf + n, q, l);
        n += l;
    }
    return n;
}

/* Random texts of money words and their neighbours: digits, numerals,
 * units, currency words and signs, modifiers, range words, letters and
 * Han characters outside the grammar, and broken UTF-8. */
static size_t rnd_money_text(uint64_t *st, char *buf, size_t cap)
{
    static const char *const pieces[] = {
        "1", "23", "0", "5.5", ",", "，", " ", "万", "亿", "千", "十", "一",
        "两", "三", "几", "数", "多", "余", "元", "美元", "港币", "欧元",
        "人民币", "块", "钱", "角", "分", "约", "近", "超过", "至", "到",
        "-", "~", "——", "从", "(", "（", "含", "$", "US$", "HK$", "RMB",
        "USD", "k", "w", "K", "W", "%", "％", "百分之", "英", "伟", "达",
        "季", "度", "数据", "年", "月", "日", "a", "Q", "\xC3\xA9",
        "\xF0\x9F\x98\x80", "\x80", "\xE4\xBD", "\xE0\x80\x80",
        "\xED\xA0\x80", "\xFF"};
    return rnd_pieces(st, pieces, sizeof pieces / sizeof *pieces, 40, buf,
                      cap);
}

/* At every byte of s: the money filter's inline decoding loop answers
 * like the plain one, and ext_money_may_match never refuses a position
 * where the parser (currency required) finds money. */
static void money_filter_at_each(const char *s, size_t n, void *arg)
{
    size_t *checked = arg;
    for (size_t i = 0; i < n; i++) {
        ext_money m;
        assert_int_equal(ext_money_run_check(s + i, n - i, 0),
                         ext_money_run_check(s + i, n - i, 1));
        if (!ext_money_may_match(s + i, n - i))
            assert_int_equal(ext_money_parse(s + i, n - i, 1, &m), 0);
        (*checked)++;
    }
}

static void money_filter_agrees(void **s)
{
    uint64_t st = 0x6A09E667F3BCC909ull;
    char buf[256];
    size_t checked = 0, found = 0;
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = rnd_money_text(&st, buf, sizeof buf);
        money_filter_at_each(buf, n, &checked);
        ext_money m;
        found += n && ext_money_parse(buf, n, 1, &m) > 0;
    }
    assert_true(found > 500); /* the texts do hold money */
    assert_true(each_corpus_text(money_filter_at_each, &checked) >= 5);
    printf("# money filter: %zu positions\n", checked);
}

/* Random texts of ticker pieces: exchange names (and their look-alikes),
 * colons, blanks, symbols, dots and markets, letters, digits, Han and
 * broken UTF-8. */
static size_t rnd_ticker_text(uint64_t *st, char *buf, size_t cap)
{
    static const char *const pieces[] = {
        "NASDAQ", "Nasdaq", "NYSE", "AMEX", "HKEX", "SEHK", "HK", "SSE",
        "SZSE", "NAS", "AM", "S", "N", "A", "H", ":", "：", " ", "  ",
        "(", ")", "（", "NVDA", "nvda", "BABA", "0700", "00700", "600519",
        "1234567", ".", ".US", ".us", ".HK", ".SH", ".SS", ".SZ", ".BJ",
        "_", "x", "7", "AI", "大", "纳斯达克", "港交所", "\xEF\xBC",
        "\xC3\xA9", "\x80", "\xFF"};
    return rnd_pieces(st, pieces, sizeof pieces / sizeof *pieces, 32, buf,
                      cap);
}

/* At every byte of s: the scanner's ticker pre-filter never refuses a
 * position where the ticker parsers read one. */
static void ticker_filter_at_each(const char *s, size_t n, void *arg)
{
    size_t *found = arg;
    for (size_t i = 0; i < n; i++) {
        size_t want = ext_ticker_probe(s + i, n - i, 0);
        assert_int_equal(ext_ticker_probe(s + i, n - i, 1), want);
        *found += want > 0;
    }
}

static void ticker_filter_agrees(void **s)
{
    uint64_t st = 0xBB67AE8584CAA73Bull;
    char buf[256];
    size_t found = 0, corpus = 0;
    for (int iter = 0; iter < 40000; iter++) {
        size_t n = rnd_ticker_text(&st, buf, sizeof buf);
        ticker_filter_at_each(buf, n, &found);
    }
    assert_true(found > 2000); /* every form turns up */
    assert_true(each_corpus_text(ticker_filter_at_each, &corpus) >= 5);
    printf("# ticker filter: %zu random tickers, %zu in the corpora\n", found,
           corpus);
}

/* ---- article fields ------------------------------------------------------- */

static void meta_of(const char *body, const char *page_json, ext_meta *m)
{
    cJSON *page = page_json ? cJSON_Parse(page_json) : NULL;
    ext_meta_in in = {body, strlen(body), page, "2025-03-06T08:00:00+08:00",
                      NULL, 480};
    assert_int_equal(ext_meta_extract(&in, m), 0);
    cJSON_Delete(page);
}

static void titles_and_bylines(void **s)
{
    ext_meta m;
    char t[] = "NVDA.US 英伟达 泡沫 (nvda.us)";
    ext_title_strip_tickers(t);
    assert_string_equal(t, "英伟达 泡沫");
    char t2[] = "英伟达大跌（NVDA.US）";
    ext_title_strip_tickers(t2);
    assert_string_equal(t2, "英伟达大跌");

    /* GNE's rule beats og:title; the logo h1 loses to the article's */
    meta_of("正文。", "{\"title\":\"龙湖集团暗伤曝露_网易财经\",\"h1\":[\"网易财经\","
                     "\"龙湖集团暗伤曝露\"],\"meta\":{\"og:title\":\"别的\"}}", &m);
    assert_string_equal(m.title, "龙湖集团暗伤曝露");
    ext_meta_free(&m);
    /* no h1: og:title, then <title> minus the site */
    meta_of("正文。", "{\"title\":\"苹果回应：大多数指控错误 | 观察者网\"}", &m);
    assert_string_equal(m.title, "苹果回应：大多数指控错误");
    ext_meta_free(&m);

    meta_of("(文/汤普济 吕栋)\n一边是高端芯片。", NULL, &m);
    assert_string_equal(m.author, "汤普济, 吕栋");
    assert_null(m.title);
    ext_meta_free(&m);
    meta_of("撰文|劉一鳴\n編輯|翟文婷\n最近頻繁陷入質疑的英偉達。", NULL, &m);
    assert_string_equal(m.author, "劉一鳴");
    assert_string_equal(m.editor, "翟文婷");
    ext_meta_free(&m);
    meta_of("正文。", "{\"before\":[\"2025-03-05 10:05 来源：钛媒体 作者：刘一鸣\"]}",
            &m);
    assert_string_equal(m.author, "刘一鸣");
    assert_string_equal(m.source, "钛媒体");
    assert_string_equal(m.published_at, "2025-03-05T10:05:00+08:00");
    ext_meta_free(&m);
    /* site names, nav words and brand-like names are never authors */
    meta_of("作者：搜索\n记者了解到，股价大跌。", "{\"title\":\"标题很长的新闻_网易新闻\","
            "\"meta\":{\"author\":\"网易\"},\"byline\":[\"- 作者:利来w66\"]}", &m);
    assert_null(m.author);
    ext_meta_free(&m);
    /* a sidebar date never beats the byline; relative dates use fetched_at */
    meta_of("正文。", "{\"before\":[\"2025-01-01 热门文章\",\"昨天 10:05\"],"
            "\"after\":[\"2025-03-27\"]}", &m);
    assert_string_equal(m.published_at, "2025-03-05T10:05:00+08:00");
    ext_meta_free(&m);
    /* meta first; a date-only meta borrows the byline's time */
    meta_of("正文。", "{\"meta\":{\"publishdate\":\"2017-03-10\"},"
            "\"before\":[\"2017-03-10 09:58 来源：网易科学人\"]}", &m);
    assert_string_equal(m.published_at, "2017-03-10T09:58:00+08:00");
    ext_meta_free(&m);
}

/* ---- the stage ------------------------------------------------------------- */

static tj_harness *stage(const char *const *opts, char **err)
{
    const tj_stage_desc *d = taojin_stage_entry(tj__host_api());
    return tj_harness_new(d, opts, err);
}

static void stage_record(void **s)
{
    char *err = NULL;
    const char *opts[] = {"timezone=UTC",
                          "rules={deal: '(?<buyer>\\p{Han}{2,6})收购(?<target>\\p{Han}{2,6})',"
                          " editor: '校对[:：](?<editor>\\p{Han}{2,4})'}",
                          NULL};
    tj_harness *h = stage(opts, &err);
    if (!h)
        printf("# %s\n", err);
    assert_non_null(h);
    tj_record *r = tj_record_new();
    tj_record_set_str(r, "body", "英伟达收购初创公司，股价涨5%。\n校对：王小明");
    tj_record_set_str(r, "page", "{\"title\":\"英伟达收购案_财经网\",\"h1\":[\"英伟达收购案\"],"
                                 "\"time\":[\"2025-03-05T10:05:00+08:00\"]}");
    tj_record_set_json(r, "quality", "{\"score\":0.9}", 13);
    assert_int_equal(tj_harness_process(h, r), 0);
    tj_record *o = tj_harness_next(h);
    assert_non_null(o);
    assert_string_equal(tj_record_get(o, "title", NULL), "英伟达收购案");
    assert_string_equal(tj_record_get(o, "published_at", NULL),
                        "2025-03-05T02:05:00+00:00");
    assert_string_equal(tj_record_get(o, "editor", NULL), "王小明");
    cJSON *q = cJSON_Parse(tj_record_get(o, "quality", NULL));
    assert_string_equal(cJSON_GetObjectItem(q, "script")->valuestring, "simplified");
    assert_true(cJSON_GetObjectItem(q, "score")->valuedouble == 0.9);
    cJSON *e = cJSON_Parse(tj_record_get(o, "entities", NULL));
    cJSON *deal = cJSON_GetArrayItem(cJSON_GetObjectItem(e, "deal"), 0);
    assert_non_null(deal);
    assert_string_equal(cJSON_GetObjectItem(deal, "target")->valuestring, "初创公司");
    /* the title is scanned too: the body does not begin with it */
    assert_int_equal(count_of(e, "organizations", "name", "NVIDIA"), 2);
    cJSON_Delete(q);
    cJSON_Delete(e);
    tj_record_free(o);
    tj_harness_free(h);
}

static void stage_bad_options(void **s)
{
    char *err = NULL;
    const char *bad_rule[] = {"rules={deal: '(?<x>abc'}", NULL};
    assert_null(stage(bad_rule, &err));
    assert_non_null(strstr(err, "rules: 'deal'"));
    free(err);
    err = NULL;
    const char *bad_zone[] = {"timezone=Mars/Olympus", NULL};
    assert_null(stage(bad_zone, &err));
    assert_non_null(strstr(err, "timezone"));
    free(err);
    err = NULL;
    const char *bad_file[] = {"organizations=/nonexistent/orgs.tsv", NULL};
    assert_null(stage(bad_file, &err));
    assert_non_null(strstr(err, "/nonexistent/orgs.tsv"));
    free(err);
    err = NULL;
    const char *bad_kind[] = {"entities=[tickers, people]", NULL};
    assert_null(stage(bad_kind, &err));
    assert_non_null(strstr(err, "people"));
    free(err);
}

static void user_organizations(void **s)
{
    char path[] = "/tmp/tj_orgs_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *tsv = "# mine\n淘金科技\t淘金\tTaojin Tech\n";
    assert_int_equal(write(fd, tsv, strlen(tsv)), (ssize_t)strlen(tsv));
    close(fd);
    char opt[64];
    snprintf(opt, sizeof opt, "organizations=%s", path);
    const char *opts[] = {opt, "builtin_organizations=false", NULL};
    char *err = NULL;
    tj_harness *h = stage(opts, &err);
    assert_non_null(h);
    tj_record *r = tj_record_new();
    tj_record_set_str(r, "body", "淘金与Taojin Tech合作，英伟达旁观。");
    assert_int_equal(tj_harness_process(h, r), 0);
    tj_record *o = tj_harness_next(h);
    cJSON *e = cJSON_Parse(tj_record_get(o, "entities", NULL));
    assert_int_equal(count_of(e, "organizations", "name", "淘金科技"), 2);
    assert_int_equal(count_of(e, "organizations", "name", "NVIDIA"), 0);
    cJSON_Delete(e);
    tj_record_free(o);
    tj_harness_free(h);
    unlink(path);
}

static void builtin_dictionary(void **s)
{
    char err[256];
    ext_dict *d = ext_dict_create(1, NULL, err, sizeof err);
    assert_non_null(d);
    printf("# built-in organisations: %zu\n", ext_dict_size(d));
    assert_true(ext_dict_size(d) >= 150);
    ext_dict_destroy(d);
    assert_string_equal(ext_script("這是繁體中文的文章", 27), "traditional");
    assert_string_equal(ext_script("这是简体中文的文章", 27), "simplified");
    assert_string_equal(ext_script("这是简体，這是繁體", 27), "mixed");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(jionlp_money),
        cmocka_unit_test(dates),
        cmocka_unit_test(tickers_and_orgs),
        cmocka_unit_test(money_percent_dates),
        cmocka_unit_test(titles_and_bylines),
        cmocka_unit_test(stage_record),
        cmocka_unit_test(stage_bad_options),
        cmocka_unit_test(user_organizations),
        cmocka_unit_test(builtin_dictionary),
        cmocka_unit_test(json_str_agrees),
        cmocka_unit_test(counts_and_words_agree),
        cmocka_unit_test(org_scan_agrees),
        cmocka_unit_test(script_scan_agrees),
        cmocka_unit_test(money_filter_agrees),
        cmocka_unit_test(ticker_filter_agrees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
