/*
 * uni.c - code points for the clean stage: UTF-8 walking, character classes,
 * the look-alike radical table and the set of common hanzi.
 */
#include <iconv.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <taojin/stage.h>
#include <utf8proc.h>

#include "clean.h"
#include "radicals_table.h"

/* ---- buffer ---------------------------------------------------------------- */

void cl_buf_init(cl_buf *b) { memset(b, 0, sizeof *b); }

void cl_buf_free(cl_buf *b)
{
    free(b->p);
    cl_buf_init(b);
}

/* Makes room for `more` bytes plus the NUL; sets oom on failure. */
static int buf_grow(cl_buf *b, size_t more)
{
    size_t need = b->len + more + 2, cap = b->cap ? b->cap : 64;
    char *p;
    if (b->oom)
        return -1;
    if (need <= b->cap)
        return 0;
    while (cap < need)
        cap *= 2;
    p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

int cl_buf_reserve(cl_buf *b, size_t more) { return buf_grow(b, more); }

void cl_buf_put(cl_buf *b, const char *s, size_t n)
{
    if ((b->oom || b->len + n + 2 > b->cap) && buf_grow(b, n) < 0)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

void cl_buf_puts(cl_buf *b, const char *s) { cl_buf_put(b, s, strlen(s)); }

void cl_buf_put_cp_slow(cl_buf *b, uint32_t cp)
{
    utf8proc_uint8_t tmp[4];
    utf8proc_ssize_t n = utf8proc_encode_char((utf8proc_int32_t)cp, tmp);
    cl_buf_put(b, (const char *)tmp, (size_t)n);
}

char *cl_buf_steal(cl_buf *b, size_t *len)
{
    char *p;
    if (b->oom) {
        cl_buf_free(b);
        return NULL;
    }
    if (!b->p && buf_grow(b, 0) < 0)
        return NULL;
    if (!b->p) {
        return NULL;
    }
    b->p[b->len] = 0;
    p = b->p;
    *len = b->len;
    cl_buf_init(b);
    return p;
}

/* ---- UTF-8 --------------------------------------------------------------- */

int cl_utf8_next_slow(const char *s, size_t n, uint32_t *cp)
{
    utf8proc_int32_t c;
    utf8proc_ssize_t k;
    if (n == 0) {
        *cp = 0;
        return 0;
    }
    if ((unsigned char)s[0] < 0x80) {
        *cp = (unsigned char)s[0];
        return 1;
    }
    k = utf8proc_iterate((const utf8proc_uint8_t *)s,
                         (utf8proc_ssize_t)(n > 4 ? 4 : n), &c);
    if (k <= 0 || c < 0) {
        *cp = 0xFFFD;
        return 1;
    }
    *cp = (uint32_t)c;
    return (int)k;
}

size_t cl_utf8_prev(const char *s, size_t i)
{
    size_t k = 1;
    while (k < i && k < 4 && ((unsigned char)s[i - k] & 0xC0) == 0x80)
        k++;
    return k;
}

/* Counts the bytes that start a code point (not 10xxxxxx), eight at a
 * time: a continuation byte has bit 7 set and bit 6 clear. */
size_t cl_utf8_count(const char *s, size_t n)
{
    const uint64_t ones = 0x0101010101010101ull;
    size_t cont = 0, i = 0;
#ifdef __SSE2__
    /* sixteen bytes a step: a continuation byte (0x80..0xBF) is a signed
     * byte under -64; the compare's -1 lanes are summed per lane (at most
     * 255 steps), then the lanes by psadbw */
    const __m128i lim = _mm_set1_epi8(-64), zero = _mm_setzero_si128();
    while (i + 16 <= n) {
        __m128i acc = zero;
        for (int k = 0; k < 255 && i + 16 <= n; k++, i += 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
            acc = _mm_sub_epi8(acc, _mm_cmplt_epi8(v, lim));
        }
        acc = _mm_sad_epu8(acc, zero);
        cont += (size_t)_mm_cvtsi128_si32(acc) +
                (size_t)_mm_cvtsi128_si32(_mm_srli_si128(acc, 8));
    }
#endif
    while (i + 8 <= n) {
        uint64_t acc = 0; /* eight byte lanes, each under 256 */
        for (int k = 0; k < 255 && i + 8 <= n; k++, i += 8) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            acc += (w >> 7) & ~(w >> 6) & ones;
        }
        acc = (acc & 0x00FF00FF00FF00FFull) + ((acc >> 8) & 0x00FF00FF00FF00FFull);
        cont += (size_t)((acc * 0x0001000100010001ull) >> 48);
    }
    for (; i < n; i++)
        cont += ((unsigned char)s[i] & 0xC0) == 0x80;
    return n - cont;
}

/* ---- classes --------------------------------------------------------------- */

int cl_is_cjk_punct(uint32_t cp)
{
    if (cp >= 0x3001 && cp <= 0x3003)
        return 1;
    if (cp >= 0x3008 && cp <= 0x3011)
        return 1;
    if (cp >= 0x3014 && cp <= 0x301F)
        return 1;
    if (cp >= 0xFF01 && cp <= 0xFF0F)
        return !(cp >= 0xFF03 && cp <= 0xFF06) && cp != 0xFF0B;
    if (cp >= 0xFF1A && cp <= 0xFF1F)
        return 1;
    if (cp == 0xFF3B || cp == 0xFF3D || cp == 0xFF5B || cp == 0xFF5D ||
        cp == 0xFF5E)
        return 1;
    switch (cp) {
    case 0x2018: case 0x2019: case 0x201C: case 0x201D: case 0x2026:
    case 0x2014: case 0x2015: case 0x00B7: case 0x30FB: case 0xFE41:
    case 0xFE42: case 0xFE43: case 0xFE44:
        return 1;
    }
    return 0;
}

int cl_is_space(uint32_t cp)
{
    if (cp == ' ' || cp == '\t' || cp == '\r' || cp == '\f' || cp == '\v' ||
        cp == 0xA0 || cp == 0x3000 || cp == 0x1680 || cp == 0x202F ||
        cp == 0x205F)
        return 1;
    return cp >= 0x2000 && cp <= 0x200A;
}

int cl_is_zero_width(uint32_t cp)
{
    return (cp >= 0x200B && cp <= 0x200F) || cp == 0xFEFF || cp == 0x2060 ||
           cp == 0x00AD || (cp >= 0x202A && cp <= 0x202E);
}

int cl_is_punct(uint32_t cp)
{
    if (cp < 0x80)
        return cp == ',' || cp == '.' || cp == '!' || cp == '?' ||
               cp == ';' || cp == ':' || cp == '"' || cp == '\'';
    if (cl_is_cjk_punct(cp))
        return 1;
    switch (utf8proc_category((utf8proc_int32_t)cp)) {
    case UTF8PROC_CATEGORY_PO: case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE: case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
        return 1;
    default:
        return 0;
    }
}

uint32_t cl_radical_map(uint32_t cp)
{
    size_t lo = 0, hi = sizeof radical_map / sizeof radical_map[0];
    if (cp < 0x2E80 || (cp > 0x2FDF && cp < 0xF900) ||
        (cp > 0xFAFF && cp < 0x2F800) || cp > 0x2FA1F)
        return 0;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (radical_map[mid][0] == cp)
            return radical_map[mid][1];
        if (radical_map[mid][0] < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* ---- common hanzi -------------------------------------------------------------
 * Two bits per BMP code point: in GB2312 level 1 (3755 most used Simplified
 * hanzi) and in Big5 level 1 (5401 most used Traditional ones).  A hanzi in
 * neither is "rare": a run of rare ones is the mark of mojibake. */
uint8_t *cl_common_map;      /* 65536 entries, CL_COMMON_* bits */
static uint16_t *gbk_map;   /* (lead-0x81)*191 + (trail-0x40) -> BMP */
static int common_rc;
static pthread_once_t common_once = PTHREAD_ONCE_INIT;

/* Decodes the two-byte code hi,lo in charset `cd` and sets `bit` for it. */
static void common_mark(iconv_t cd, unsigned hi, unsigned lo, uint8_t bit)
{
    char in[2] = {(char)hi, (char)lo};
    char out[8];
    char *ip = in, *op = out;
    size_t il = 2, ol = sizeof out;
    uint32_t cp;
    iconv(cd, NULL, NULL, NULL, NULL);
    if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 || op == out)
        return;
    if (cl_utf8_next(out, (size_t)(op - out), &cp) == (int)(op - out) &&
        cp < 0x10000 && cp != 0xFFFD)
        cl_common_map[cp] |= bit;
}

/* Fills gbk_map with every two-byte code of GBK/GB18030. */
static void gbk_build(iconv_t cd)
{
    for (unsigned hi = 0x81; hi <= 0xFE; hi++) {
        for (unsigned lo = 0x40; lo <= 0xFE; lo++) {
            char in[2] = {(char)hi, (char)lo}, out[8];
            char *ip = in, *op = out;
            size_t il = 2, ol = sizeof out;
            uint32_t cp;
            if (lo == 0x7F)
                continue;
            iconv(cd, NULL, NULL, NULL, NULL);
            if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 || op == out)
                continue;
            if (cl_utf8_next(out, (size_t)(op - out), &cp) ==
                    (int)(op - out) && cp < 0x10000 && cp != 0xFFFD)
                gbk_map[(hi - 0x81) * 191 + (lo - 0x40)] = (uint16_t)cp;
        }
    }
}

static void common_build(void)
{
    iconv_t gb = iconv_open("UTF-8", "GB2312");
    iconv_t b5 = iconv_open("UTF-8", "BIG5");
    iconv_t g18 = iconv_open("UTF-8", "GB18030");
    cl_common_map = calloc(65536, 1);
    gbk_map = calloc(126 * 191, sizeof *gbk_map);
    if (!cl_common_map || !gbk_map || gb == (iconv_t)-1 || b5 == (iconv_t)-1 ||
        g18 == (iconv_t)-1) {
        common_rc = cl_common_map && gbk_map ? TJ_EIO : TJ_ENOMEM;
        goto done;
    }
    gbk_build(g18);
    for (unsigned hi = 0xB0; hi <= 0xF7; hi++)
        for (unsigned lo = 0xA1; lo <= 0xFE; lo++)
            common_mark(gb, hi, lo, hi <= 0xD7 ? CL_COMMON_GB : CL_COMMON_GB2);
    for (unsigned hi = 0xA4; hi <= 0xC6; hi++) {
        for (unsigned lo = 0x40; lo <= 0xFE; lo++) {
            if ((lo > 0x7E && lo < 0xA1) || (hi == 0xC6 && lo > 0x7E))
                continue;
            common_mark(b5, hi, lo, CL_COMMON_BIG5);
        }
    }
done:
    if (g18 != (iconv_t)-1)
        iconv_close(g18);
    if (gb != (iconv_t)-1)
        iconv_close(gb);
    if (b5 != (iconv_t)-1)
        iconv_close(b5);
}

int cl_common_init(void)
{
    pthread_once(&common_once, common_build);
    return common_rc;
}

uint32_t cl_gbk_pair(unsigned char lead, unsigned char trail)
{
    if (!gbk_map || lead < 0x81 || lead > 0xFE || trail < 0x40 ||
        trail > 0xFE)
        return 0;
    return gbk_map[(lead - 0x81) * 191 + (trail - 0x40)];
}
