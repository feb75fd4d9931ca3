/*
 * convert.c - byte-to-UTF-8 converters: table-driven GB18030 and
 * Big5-HKSCS, in-place UTF-8 validation and repair, UTF-16, and an iconv
 * loop for everything else.  See convert.h for the contracts.
 *
 * Why tables: glibc's iconv converts GB18030 and Big5 at 70-85 MB/s here;
 * the stage's target is 100 MB/s and more.  The tables are filled from iconv
 * itself (one call per two- or four-byte code, once per process), so the
 * text produced is exactly the text iconv would produce.
 */
#include "convert.h"

#include <errno.h>
#include <iconv.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "taojin/stage.h"

#define REPLACEMENT 0xFFFDu
#define CHUNK 65536 /* input bytes converted between two capacity checks */

/* ---- output buffer ------------------------------------------------------ */

typedef struct obuf {
    unsigned char *p;
    size_t len, cap;
} obuf;

/* Makes room for `extra` more bytes plus a NUL.  0 or TJ_ENOMEM. */
static int ob_reserve(obuf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1)
        cap += cap / 2 + 64;
    unsigned char *p = realloc(b->p, cap);
    if (!p)
        return TJ_ENOMEM;
    b->p = p;
    b->cap = cap;
    return 0;
}

/* Appends code point cp as UTF-8; the caller reserved 4 bytes. */
static inline void ob_put_cp(obuf *b, uint32_t cp)
{
    unsigned char *o = b->p + b->len;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        b->len += 1;
    } else if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        b->len += 2;
    } else if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        b->len += 3;
    } else {
        o[0] = (unsigned char)(0xF0 | (cp >> 18));
        o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[3] = (unsigned char)(0x80 | (cp & 0x3F));
        b->len += 4;
    }
}

/* The number of ASCII bytes (below 0x80) that open the 8 bytes in x, read
 * little-endian: the byte index of the first set top bit, 8 when none. */
static inline size_t ascii_lead(uint64_t x)
{
    uint64_t high = x & 0x8080808080808080ULL;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return high ? (size_t)__builtin_ctzll(high) / 8 : 8;
#else
    size_t k = 0;
    while (k < 8 && !((x >> (8 * k)) & 0x80))
        k++;
    return k;
#endif
}

/* The 8 bytes at p as a little-endian word. */
static inline uint64_t load8(const unsigned char *p)
{
    uint64_t x;
    memcpy(&x, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    x = __builtin_bswap64(x);
#endif
    return x;
}

/* Copies the run of ASCII bytes starting at s[i] (possibly empty) to *w
 * (advanced); returns the index after it.  Eight bytes are copied at a
 * time, even past the run's end (a run's end is found in the copied word:
 * short runs between CJK characters take one step, not one per byte), so
 * the caller must have reserved room for the rest of the chunk plus 8. */
static inline size_t copy_ascii(const unsigned char *s, size_t i, size_t end,
                                unsigned char **w)
{
    unsigned char *o = *w;
    while (i + 8 <= end) {
        uint64_t x = load8(s + i);
        size_t k = ascii_lead(x);
        memcpy(o, s + i, 8);
        o += k;
        i += k;
        if (k < 8)
            break;
    }
    while (i < end && s[i] < 0x80)
        *o++ = s[i++];
    *w = o;
    return i;
}

/* Records one error: emits U+FFFD.  Returns 1 when the caller must stop. */
static inline int bad(obuf *b, conv_out *res, size_t max_errors, int tail)
{
    ob_put_cp(b, REPLACEMENT);
    res->tail_error = tail;
    return ++res->errors > max_errors && max_errors;
}

/* ---- UTF-8 -------------------------------------------------------------- */

int conv_is_ascii(const unsigned char *s, size_t n)
{
    size_t i = 0;
    uint64_t acc = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        acc |= w;
    }
    for (; i < n; i++)
        acc |= s[i];
    return (acc & 0x8080808080808080ULL) == 0;
}

/* Length of the valid UTF-8 sequence at s[0] (n bytes left), 0 if none. */
static inline size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xE0 && c <= 0xEF) {
        if (n < 3 || (s[2] & 0xC0) != 0x80)
            return 0;
        unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        return s[1] >= lo && s[1] <= hi ? 3 : 0;
    }
    if (c >= 0xC2 && c <= 0xDF)
        return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xF0 && c <= 0xF4) {
        if (n < 4 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return 0;
        unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        return s[1] >= lo && s[1] <= hi ? 4 : 0;
    }
    return 0;
}

/* The index of the first non-ASCII byte at or after s[i] (n when none):
 * 16 bytes a step through long runs, and the end of a short run (between
 * CJK characters) found in one 8-byte word rather than byte by byte. */
static inline size_t skip_ascii(const unsigned char *s, size_t i, size_t n)
{
    while (i + 16 <= n &&
           !((load8(s + i) | load8(s + i + 8)) & 0x8080808080808080ULL))
        i += 16;
    while (i + 8 <= n) {
        size_t k = ascii_lead(load8(s + i));
        i += k;
        if (k < 8)
            return i;
    }
    while (i < n && s[i] < 0x80)
        i++;
    return i;
}

size_t conv_utf8_valid_prefix(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (s[i] < 0x80) {
            i = skip_ascii(s, i, n);
            continue;
        }
        /* Runs of three-byte sequences (all of CJK) in tight loops: two
         * at a time from one 8-byte load, then one from a 4-byte load.
         * Leads E0 and ED (lead nibbles 0 and D: bits 0 and 13 of 0x2001),
         * whose second byte has a narrower range, go through utf8_seq. */
        while (i + 8 <= n) {
            uint64_t x = load8(s + i);
            if ((x & 0xC0C0F0C0C0F0ULL) != 0x8080E08080E0ULL ||
                ((0x2001u >> (x & 0x0F)) | (0x2001u >> (x >> 24 & 0x0F))) & 1)
                break;
            i += 6;
        }
        while (i + 4 <= n) {
            uint32_t v;
            memcpy(&v, s + i, 4);
            if ((v & 0xC0C0F0u) != 0x8080E0u || (v & 0x0Fu) == 0 ||
                (v & 0x0Fu) == 0x0D)
                break;
            i += 3;
        }
        if (i >= n || s[i] < 0x80)
            continue;
        size_t k = utf8_seq(s + i, n - i);
        if (!k)
            return i;
        i += k;
    }
    return n;
}

/* Number of bytes at s (n left, s[0] invalid) to replace by one U+FFFD:
 * the lead plus the continuation bytes of a sequence cut short.  *cut is
 * set when the sequence was only cut short by the end of the input. */
static size_t utf8_bad_len(const unsigned char *s, size_t n, int *cut)
{
    unsigned c = s[0];
    size_t want = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 && c <= 0xEF ? 3
                  : c >= 0xC2 && c <= 0xDF ? 2 : 1;
    size_t k = 1;
    while (k < want && k < n && (s[k] & 0xC0) == 0x80)
        k++;
    *cut = want > 1 && k < want && k == n;
    return k;
}

int conv_utf8_stats(const unsigned char *s, size_t n, size_t ratio,
                    size_t *multi, size_t *invalid)
{
    size_t i = 0, m = 0, bad = 0;
    while (i < n) {
        if (s[i] < 0x80) {
            while (i + 8 <= n) {
                uint64_t w;
                memcpy(&w, s + i, 8);
                if (w & 0x8080808080808080ULL)
                    break;
                i += 8;
            }
            while (i < n && s[i] < 0x80)
                i++;
            continue;
        }
        size_t k = utf8_seq(s + i, n - i);
        if (k) {
            m++;
            i += k;
            continue;
        }
        int cut;
        i += utf8_bad_len(s + i, n - i, &cut);
        bad++;
        /* At most one multi-byte character per two bytes left. */
        if (ratio && bad * ratio > m + (n - i) / 2) {
            *multi = m;
            *invalid = bad;
            return 1;
        }
    }
    *multi = m;
    *invalid = bad;
    return 0;
}

/* Copies valid UTF-8 and replaces each invalid sequence with U+FFFD. */
static int utf8_repair(const unsigned char *s, size_t n, size_t max_errors,
                       obuf *b, conv_out *res)
{
    size_t i = 0;
    if (ob_reserve(b, n + 16))
        return TJ_ENOMEM;
    while (i < n) {
        size_t ok = conv_utf8_valid_prefix(s + i, n - i);
        if (ob_reserve(b, ok + 3))
            return TJ_ENOMEM;
        memcpy(b->p + b->len, s + i, ok);
        b->len += ok;
        i += ok;
        if (i >= n)
            break;
        int cut;
        size_t len = utf8_bad_len(s + i, n - i, &cut);
        i += len;
        if (bad(b, res, cut ? 0 : max_errors, cut))
            break;
    }
    return 0;
}

/* ---- tables built from iconv -------------------------------------------- */

#define GB2_SIZE (126 * 190) /* lead 81..FE, trail 40..7E 80..FE */
#define GB4_BMP 39420        /* four-byte codes 81308130..8431A439 */
#define GB4_SUPP_BASE 189000 /* linear index of 90308130 = U+10000 */
#define B5_SIZE (126 * 157)  /* lead 81..FE, trail 40..7E A1..FE */
#define B5_EXTRA_MAX 4096    /* HKSCS codes beyond the BMP or with 2 chars */
#define PACK_EXTRA 0xF0u     /* packed length byte: index into b5_extra */

/* The two-byte tables hold each code's UTF-8 bytes ready to store: bytes
 * in the low 24 bits, their count (1-3) in the top byte; 0 = invalid.
 * They are indexed by the code's two bytes read as one little-endian word
 * (trail << 8 | lead, see pair_slot), so a decoder needs one load and no
 * range checks: bytes that are no code read 0. */
static uint32_t gb2[0x10000];
static uint16_t gb4[GB4_BMP];
static uint32_t b5[0x10000];
static uint32_t b5_extra[B5_EXTRA_MAX][2];
static int tables_rc = TJ_EINVAL;
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

/* Reads the code points of UTF-32LE output o[0..len) into the results of
 * the codes it belongs to: each code's output ends with U+000A (the
 * separator after it in the input).  *k is the code being read, *m how
 * many of its code points were seen so far. */
static void take_output(const unsigned char *o, size_t len, size_t *k,
                        size_t *m, uint32_t (*cp)[2], uint8_t *got)
{
    for (size_t i = 0; i + 4 <= len; i += 4) {
        uint32_t c = (uint32_t)o[i] | (uint32_t)o[i + 1] << 8 |
                     (uint32_t)o[i + 2] << 16 | (uint32_t)o[i + 3] << 24;
        if (c == '\n') {
            got[*k] = *m >= 1 && *m <= 2 ? (uint8_t)*m : 0;
            ++*k;
            *m = 0;
        } else if (++*m <= 2) {
            cp[*k][*m - 1] = c;
        }
    }
}

/* Converts n codes of `width` bytes each (codes[0..n*width)) with cd, as
 * if one iconv call per code: got[k] is how many code points code k gave
 * (1 or 2, with them in cp[k]), or 0 when iconv refused it or gave more.
 * One iconv call covers many codes: a newline after each code tells their
 * outputs apart, and a refused code is stepped over.  0 or TJ_ENOMEM. */
static int iconv_many(iconv_t cd, const unsigned char *codes, size_t n,
                      size_t width, uint32_t (*cp)[2], uint8_t *got)
{
    size_t step = width + 1, k = 0, m = 0, cap = n * 12 + 64;
    unsigned char *in = malloc(n * step), *out = malloc(cap);
    int rc = TJ_ENOMEM;
    if (!in || !out)
        goto done;
    for (size_t i = 0; i < n; i++) {
        memcpy(in + i * step, codes + i * width, width);
        in[i * step + width] = '\n';
    }
    char *ip = (char *)in;
    size_t inleft = n * step;
    iconv(cd, NULL, NULL, NULL, NULL);
    while (inleft) {
        char *op = (char *)out;
        size_t outleft = cap;
        size_t r = iconv(cd, &ip, &inleft, &op, &outleft);
        take_output(out, cap - outleft, &k, &m, cp, got);
        if (r != (size_t)-1 || errno == E2BIG)
            continue;
        /* Refused at the start of code k: step over it and its newline. */
        got[k++] = 0;
        m = 0;
        size_t at = (size_t)(ip - (char *)in), next = (at / step + 1) * step;
        ip = (char *)in + next;
        inleft = n * step - next;
        iconv(cd, NULL, NULL, NULL, NULL);
    }
    rc = 0;
done:
    free(in);
    free(out);
    return rc;
}

/* The packed UTF-8 form of a BMP code point (see gb2). */
static uint32_t pack_utf8(uint32_t cp)
{
    if (cp < 0x80)
        return 1u << 24 | cp;
    if (cp < 0x800)
        return 2u << 24 | (0x80 | (cp & 0x3F)) << 8 | (0xC0 | cp >> 6);
    return 3u << 24 | (0x80 | (cp & 0x3F)) << 16 |
           (0x80 | ((cp >> 6) & 0x3F)) << 8 | (0xE0 | cp >> 12);
}

static inline int gb2_index(unsigned lead, unsigned trail)
{
    if (trail < 0x40 || trail == 0x7F || trail == 0xFF)
        return -1;
    return (int)((lead - 0x81) * 190 + (trail < 0x7F ? trail - 0x40
                                                     : trail - 0x41));
}

static inline int b5_index(unsigned lead, unsigned trail)
{
    if (trail >= 0x40 && trail <= 0x7E)
        return (int)((lead - 0x81) * 157 + trail - 0x40);
    if (trail >= 0xA1 && trail <= 0xFE)
        return (int)((lead - 0x81) * 157 + 63 + trail - 0xA1);
    return -1;
}

/* The results of one converter over a list of codes (see iconv_many). */
typedef struct code_run {
    uint32_t (*cp)[2];
    uint8_t *got;
} code_run;

static int run_codes(iconv_t cd, const unsigned char *codes, size_t n,
                     size_t width, code_run *r)
{
    r->cp = malloc(n * sizeof *r->cp);
    r->got = malloc(n);
    if (!r->cp || !r->got)
        return TJ_ENOMEM;
    return iconv_many(cd, codes, n, width, r->cp, r->got);
}

static void free_run(code_run *r)
{
    free(r->cp);
    free(r->got);
}

/* Every two-byte code of lead 81..FE with a table index (gb2_index or
 * b5_index), in index order, into codes (2 * count bytes). */
static size_t two_byte_codes(int (*index)(unsigned, unsigned),
                             unsigned char *codes)
{
    size_t n = 0;
    for (unsigned lead = 0x81; lead <= 0xFE; lead++)
        for (unsigned trail = 0x40; trail <= 0xFE; trail++)
            if (index(lead, trail) >= 0) {
                codes[2 * n] = (unsigned char)lead;
                codes[2 * n + 1] = (unsigned char)trail;
                n++;
            }
    return n;
}

static int gb2_ix(unsigned lead, unsigned trail) { return gb2_index(lead, trail); }
static int b5_ix(unsigned lead, unsigned trail) { return b5_index(lead, trail); }

static int fill_gb(iconv_t cd)
{
    unsigned char *codes = malloc(GB4_BMP * 4);
    code_run r2 = {0}, r4 = {0};
    int rc = TJ_ENOMEM;
    if (!codes)
        goto done;
    size_t n = two_byte_codes(gb2_ix, codes); /* GB2_SIZE codes */
    if ((rc = run_codes(cd, codes, n, 2, &r2)))
        goto done;
    for (size_t ix = 0; ix < n; ix++)
        if (r2.got[ix] == 1 && r2.cp[ix][0] < 0x10000)
            gb2[codes[2 * ix + 1] << 8 | codes[2 * ix]] =
                pack_utf8(r2.cp[ix][0]);
    for (int ix = 0; ix < GB4_BMP; ix++) {
        unsigned char *code = codes + 4 * ix;
        code[0] = (unsigned char)(0x81 + ix / 12600);
        code[1] = (unsigned char)(0x30 + ix / 1260 % 10);
        code[2] = (unsigned char)(0x81 + ix / 10 % 126);
        code[3] = (unsigned char)(0x30 + ix % 10);
    }
    if ((rc = run_codes(cd, codes, GB4_BMP, 4, &r4)))
        goto done;
    for (int ix = 0; ix < GB4_BMP; ix++)
        if (r4.got[ix] == 1 && r4.cp[ix][0] < 0x10000)
            gb4[ix] = (uint16_t)r4.cp[ix][0];
done:
    free(codes);
    free_run(&r2);
    free_run(&r4);
    return rc;
}

/* Big5 as browsers read it: the Big5 (ETEN) table first, then CP950's
 * additions, then HKSCS-2008 for the rest and for codes that BIG5 maps to
 * the private use area.  glibc's BIG5-HKSCS alone drops
 * Big5 codes that pages use (A2CC, A1C3, A1FE) and moves others (A145). */
static int fill_b5(iconv_t cds[3])
{
    unsigned char *codes = malloc(B5_SIZE * 2);
    code_run r[3] = {{0}, {0}, {0}};
    size_t npairs = 0, n = 0;
    int rc = TJ_ENOMEM;
    if (!codes)
        goto done;
    n = two_byte_codes(b5_ix, codes); /* B5_SIZE codes */
    for (int k = 0; k < 3; k++)
        if ((rc = run_codes(cds[k], codes, n, 2, &r[k])))
            goto done;
    for (size_t ix = 0; ix < n; ix++) {
        int k = 0;
        while (k < 3 && !r[k].got[ix])
            k++;
        if (k == 3)
            continue;
        uint32_t cp[2] = {r[k].cp[ix][0], r[k].cp[ix][1]};
        int got = r[k].got[ix];
        /* ETEN's kana and symbols (C6A1-C8FE) are private-use code
         * points in glibc's BIG5; HKSCS has real characters there. */
        if (got == 1 && cp[0] >= 0xE000 && cp[0] <= 0xF8FF &&
            r[2].got[ix] == 1 &&
            (r[2].cp[ix][0] < 0xE000 || r[2].cp[ix][0] > 0xF8FF))
            cp[0] = r[2].cp[ix][0];
        if (got == 1 && cp[0] < 0x10000) {
            b5[codes[2 * ix + 1] << 8 | codes[2 * ix]] = pack_utf8(cp[0]);
        } else if (npairs < B5_EXTRA_MAX) {
            b5_extra[npairs][0] = cp[0];
            b5_extra[npairs][1] = got == 2 ? cp[1] : 0;
            b5[codes[2 * ix + 1] << 8 | codes[2 * ix]] =
                PACK_EXTRA << 24 | (uint32_t)npairs++;
        }
    }
done:
    free(codes);
    for (int k = 0; k < 3; k++)
        free_run(&r[k]);
    return rc;
}

static void build_tables(void)
{
    const char *names[4] = {"GB18030", "BIG5", "CP950", "BIG5-HKSCS"};
    iconv_t cds[4];
    int ok = 1;
    for (int k = 0; k < 4; k++)
        ok &= (cds[k] = iconv_open("UTF-32LE", names[k])) != (iconv_t)-1;
    if (ok)
        tables_rc = fill_gb(cds[0]) ? TJ_ENOMEM
                    : fill_b5(cds + 1) ? TJ_ENOMEM : 0;
    for (int k = 0; k < 4; k++)
        if (cds[k] != (iconv_t)-1)
            iconv_close(cds[k]);
}

int conv_init_tables(void)
{
    pthread_once(&tables_once, build_tables);
    return tables_rc;
}

/* ---- table decoders ----------------------------------------------------- */

/* Decodes the four-byte GB18030 code at s[0] (lead 81..FE, second byte
 * 30..39, n bytes left).  Returns the code's length and its code point in
 * *cp (0 = invalid), or 0 when the input ends inside a code that could
 * still be valid. */
static size_t gb_code4(const unsigned char *s, size_t n, uint32_t *cp)
{
    *cp = 0;
    unsigned t = s[1];
    if (t >= 0x30 && t <= 0x39) {
        if (n < 4) /* cut short: still a prefix of a valid code? */
            return n == 2 || (s[2] >= 0x81 && s[2] <= 0xFE) ? 0 : 1;
        if (s[2] < 0x81 || s[2] > 0xFE || s[3] < 0x30 || s[3] > 0x39)
            return 1;
        long ix = (((long)(s[0] - 0x81) * 10 + (t - 0x30)) * 126 +
                   (s[2] - 0x81)) * 10 + (s[3] - 0x30);
        if (ix < GB4_BMP)
            *cp = gb4[ix];
        else if (ix >= GB4_SUPP_BASE && ix - GB4_SUPP_BASE < 0x100000)
            *cp = 0x10000 + (uint32_t)(ix - GB4_SUPP_BASE);
        return *cp ? 4 : 1;
    }
    return 1;
}

/* The table slot of the two bytes at s (see gb2): one 16-bit load. */
static inline unsigned pair_slot(const unsigned char *s)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint16_t v;
    memcpy(&v, s, 2);
    return v;
#else
    return (unsigned)s[1] << 8 | s[0];
#endif
}

/* Copies the UTF-8 of the run of two-byte codes starting at s[i] that
 * `pairs` (gb2 or b5) holds as plain entries, to *w (advanced), while i <
 * lim; returns the index after the run.  The caller keeps lim below the
 * input's last byte and has reserved 4 bytes past each code's output. */
static inline size_t copy_pairs(const uint32_t *pairs, const unsigned char *s,
                                size_t i, size_t lim, unsigned char **w)
{
    unsigned char *o = *w;
    while (i < lim) {
        uint32_t v = pairs[pair_slot(s + i)];
        if (v - (1u << 24) >= (3u << 24)) /* 0, or a b5_extra index */
            break;
        memcpy(o, &v, 4); /* little-endian: low byte first */
        o += v >> 24;
        i += 2;
    }
    *w = o;
    return i;
}

/* Writes code point cp as UTF-8 to out; returns the byte count. */
static size_t put_cp(unsigned char *out, uint32_t cp)
{
    obuf b = {out, 0, 8};
    ob_put_cp(&b, cp);
    return b.len;
}

/* Writes the packed table entry v (not 0, not a b5_extra index) to out. */
static size_t put_packed(unsigned char *out, uint32_t v)
{
    for (unsigned k = 0; k < v >> 24; k++)
        out[k] = (unsigned char)(v >> (8 * k));
    return v >> 24;
}

/* One GB18030 code at s[0] (n > 0 bytes left, s[0] >= 0x80); see
 * conv_table_code. */
static size_t gb_code(const unsigned char *s, size_t n, unsigned char out[8],
                      size_t *len)
{
    uint32_t cp = 0;
    *len = 0;
    if (s[0] == 0x80 || s[0] == 0xFF)
        return 1;
    if (n < 2)
        return 0;
    uint32_t v = gb2[pair_slot(s)];
    if (v) {
        *len = put_packed(out, v);
        return 2;
    }
    size_t k = gb_code4(s, n, &cp);
    if (cp)
        *len = put_cp(out, cp);
    return k;
}

/* One Big5-HKSCS code at s[0] (n > 0 bytes left, s[0] >= 0x80); see
 * conv_table_code. */
static size_t b5_code(const unsigned char *s, size_t n, unsigned char out[8],
                      size_t *len)
{
    *len = 0;
    if (s[0] == 0x80 || s[0] == 0xFF)
        return 1;
    if (n < 2)
        return 0;
    uint32_t v = b5[pair_slot(s)];
    if (!v)
        return 1;
    if (v >> 24 != PACK_EXTRA) {
        *len = put_packed(out, v);
        return 2;
    }
    const uint32_t *cp = b5_extra[v & 0xFFFFFF];
    *len = put_cp(out, cp[0]);
    if (cp[1])
        *len += put_cp(out + *len, cp[1]);
    return 2;
}

size_t conv_table_code(const char *charset, const unsigned char *s, size_t n,
                       unsigned char out[8], size_t *len)
{
    *len = 0;
    if (!n)
        return 0;
    if (s[0] < 0x80) {
        out[0] = s[0];
        *len = 1;
        return 1;
    }
    if (conv_init_tables())
        return 1; /* no tables: conv_to_utf8 uses iconv instead */
    return strcmp(charset, CS_BIG5) ? gb_code(s, n, out, len)
                                    : b5_code(s, n, out, len);
}

/* Decodes GB18030 (big5 = 0) or Big5-HKSCS (big5 = 1) from the tables.
 * ASCII runs and runs of plain two-byte codes (nearly all of a page) go
 * through tight loops; every other code through gb_code / b5_code.  The
 * write position stays in a local (the output buffer is bytes, which may
 * alias anything: through b->len the compiler would reload it at every
 * step) and is handed back to b around the rare calls that use b.  Each
 * input byte makes at most 3 output bytes (U+FFFD for a bad byte), which
 * bounds what a chunk reserves. */
static int table_decode(int big5, const unsigned char *s, size_t n,
                        size_t max_errors, obuf *b, conv_out *res)
{
    const uint32_t *pairs = big5 ? b5 : gb2;
    size_t i = 0;
    while (i < n) {
        size_t end = n - i > CHUNK ? i + CHUNK : n;
        size_t pair_end = end < n - 1 ? end : n - 1; /* a trail must follow */
        if (ob_reserve(b, (end - i) * 3 + 8))
            return TJ_ENOMEM;
        unsigned char *w = b->p + b->len;
        while (i < end) {
            i = copy_ascii(s, i, end, &w);
            i = copy_pairs(pairs, s, i, pair_end, &w);
            if (i >= end || s[i] < 0x80)
                continue;
            size_t len, k = big5 ? b5_code(s + i, n - i, w, &len)
                                 : gb_code(s + i, n - i, w, &len);
            if (k && len) {
                w += len;
                i += k;
                continue;
            }
            b->len = (size_t)(w - b->p);
            if (!k) { /* cut short by the end of the input */
                bad(b, res, 0, 1);
                i = n;
            } else {
                i += k;
                if (bad(b, res, max_errors, 0))
                    return 0;
            }
            w = b->p + b->len;
        }
        b->len = (size_t)(w - b->p);
    }
    return 0;
}

/* ---- UTF-16 -------------------------------------------------------------- */

static int utf16_decode(const unsigned char *s, size_t n, int big_endian,
                        size_t max_errors, obuf *b, conv_out *res)
{
    int hi = big_endian ? 0 : 1, lo = big_endian ? 1 : 0;
    size_t i = 0;
    if (ob_reserve(b, n / 2 * 3 + 8))
        return TJ_ENOMEM;
    while (i + 2 <= n) {
        uint32_t u = (uint32_t)s[i + hi] << 8 | s[i + lo];
        i += 2;
        if (u < 0xD800 || u > 0xDFFF) {
            ob_put_cp(b, u);
            continue;
        }
        if (u <= 0xDBFF && i + 2 <= n) {
            uint32_t v = (uint32_t)s[i + hi] << 8 | s[i + lo];
            if (v >= 0xDC00 && v <= 0xDFFF) {
                ob_put_cp(b, 0x10000 + ((u - 0xD800) << 10) + (v - 0xDC00));
                i += 2;
                continue;
            }
        }
        int tail = u <= 0xDBFF && i == n;
        if (bad(b, res, tail ? 0 : max_errors, tail) && !tail)
            return 0;
    }
    if (i < n)
        bad(b, res, 0, 1);
    return 0;
}

/* ---- generic iconv loop --------------------------------------------------- */

/* Width of one code unit: how far to skip over an invalid sequence. */
static size_t unit_size(const char *charset)
{
    if (!strncasecmp(charset, "UTF-32", 6) || !strncasecmp(charset, "UCS-4", 5))
        return 4;
    if (!strncasecmp(charset, "UTF-16", 6) || !strncasecmp(charset, "UCS-2", 5))
        return 2;
    return 1;
}

static int iconv_decode(iconv_t cd, const unsigned char *s, size_t n,
                        size_t unit, size_t max_errors, obuf *b,
                        conv_out *res)
{
    char *in = (char *)s;
    size_t inleft = n;
    if (ob_reserve(b, n + n / 2 + 16))
        return TJ_ENOMEM;
    for (;;) {
        char *out = (char *)b->p + b->len;
        size_t room = b->cap - b->len - 1, outleft = room;
        size_t r = iconv(cd, &in, &inleft, &out, &outleft);
        int err = r == (size_t)-1 ? errno : 0;
        b->len += room - outleft;
        if (err == E2BIG || (err && outleft < 4)) {
            if (ob_reserve(b, inleft * 2 + 64))
                return TJ_ENOMEM;
        } else if (err == EILSEQ) {
            size_t skip = unit < inleft ? unit : inleft;
            in += skip;
            inleft -= skip;
            if (bad(b, res, max_errors, 0))
                return 0;
        } else if (err == EINVAL) {
            bad(b, res, 0, 1);
            inleft = 0;
        } else if (err) {
            return TJ_EINVAL;
        } else {
            return 0; /* iconv consumed all input */
        }
    }
}

/* ---- entry points ---------------------------------------------------------- */

int conv_supported(const char *charset)
{
    iconv_t cd = iconv_open("UTF-8", charset);
    if (cd == (iconv_t)-1)
        return 0;
    iconv_close(cd);
    return 1;
}

static int dispatch(const char *cs, const unsigned char *in, size_t n,
                    size_t max_errors, obuf *b, conv_out *out)
{
    if (!strcmp(cs, CS_UTF8))
        return utf8_repair(in, n, max_errors, b, out);
    if (!strcmp(cs, CS_UTF16LE) || !strcmp(cs, CS_UTF16BE))
        return utf16_decode(in, n, cs[6] == 'B', max_errors, b, out);
    if ((!strcmp(cs, CS_GB18030) || !strcmp(cs, CS_BIG5)) &&
        conv_init_tables() == 0)
        return table_decode(cs[0] == 'B', in, n, max_errors, b, out);
    iconv_t cd = iconv_open("UTF-8", cs);
    if (cd == (iconv_t)-1)
        return TJ_EINVAL;
    int rc = iconv_decode(cd, in, n, unit_size(cs), max_errors, b, out);
    iconv_close(cd);
    return rc;
}

int conv_to_utf8(const char *charset, const unsigned char *in, size_t n,
                 size_t max_errors, conv_out *out)
{
    obuf b = {0};
    memset(out, 0, sizeof *out);
    int rc = dispatch(charset, in, n, max_errors, &b, out);
    if (rc == 0)
        rc = ob_reserve(&b, 0);
    if (rc) {
        free(b.p);
        memset(out, 0, sizeof *out);
        return rc;
    }
    b.p[b.len] = '\0';
    out->text = (char *)b.p;
    out->len = b.len;
    return 0;
}
