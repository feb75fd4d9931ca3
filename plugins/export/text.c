/*
 * text.c - encoders shared by every export backend: a growable buffer,
 * UTF-8 validation, JSON and CSV escaping, base64, number formatting, and
 * the `fields:` / `exclude:` selection.
 *
 * The JSON writer is hand-rolled rather than cJSON because the sink must
 * stream hundreds of MB/s: a record is appended straight into the output
 * buffer with no intermediate tree.
 */
#include "export.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define EX_UTF8_SSSE3 1
#endif

int ex_buf_reserve(ex_buf *b, size_t n)
{
    if (b->cap - b->len > n)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len <= n)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return TJ_ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int ex_buf_add(ex_buf *b, const void *p, size_t n)
{
    if (ex_buf_reserve(b, n))
        return TJ_ENOMEM;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int ex_buf_addc(ex_buf *b, char c) { return ex_buf_add(b, &c, 1); }
int ex_buf_adds(ex_buf *b, const char *s) { return ex_buf_add(b, s, strlen(s)); }

void ex_buf_free(ex_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

double ex_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Length of the well-formed UTF-8 sequence starting at s (at most n bytes
 * available), or 0 when it is malformed. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    if (c < 0xC2)
        return 0;
    if (c < 0xE0)
        return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c < 0xF0) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
            return 0;
        if (c == 0xE0 && s[1] < 0xA0)
            return 0; /* overlong */
        if (c == 0xED && s[1] >= 0xA0)
            return 0; /* surrogate */
        return 3;
    }
    if (c > 0xF4 || n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
        (s[3] & 0xC0) != 0x80)
        return 0;
    if (c == 0xF0 && s[1] < 0x90)
        return 0;
    if (c == 0xF4 && s[1] >= 0x90)
        return 0;
    return 4;
}

bool ex_utf8_valid_scalar(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        /* ASCII runs eight bytes at a time. */
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (w & 0x8080808080808080ull)
                break;
            i += 8;
        }
        /* Runs of three-byte sequences (CJK text) without the general
         * decoder: lead E1..EC or EE..EF need only two continuations. */
        while (i + 3 <= n && (s[i] & 0xF0) == 0xE0) {
            unsigned c = s[i], c1 = s[i + 1];
            if (((c1 | (unsigned)s[i + 2] << 8) & 0xC0C0) != 0x8080 ||
                (c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0))
                return false;
            i += 3;
        }
        if (i >= n)
            break;
        size_t k = utf8_seq(s + i, n - i);
        if (!k)
            return false;
        i += k;
    }
    return true;
}

#ifdef EX_UTF8_SSSE3
/* The vector check of Keiser and Lemire ("Validating UTF-8 in less than
 * one instruction per byte", 2021), 16 bytes at a time.  Each byte is
 * classified from its own high nibble and both nibbles of the byte before
 * it, through three 16-entry tables whose bits name the errors a pair can
 * show; a pair is bad when the three lookups share a bit.  The third and
 * fourth bytes of long sequences are checked by comparing "must be a
 * continuation" (from the bytes two and three back) with what the pair
 * lookup saw.  The error bits accumulate; a sequence cut off by the end of
 * a block is carried into the next one (prev). */
enum {
    U8_TOO_SHORT = 1 << 0,  /* a lead byte not followed by a continuation */
    U8_TOO_LONG = 1 << 1,   /* ASCII followed by a continuation */
    U8_OVERLONG_3 = 1 << 2, /* E0 80..9F */
    U8_TOO_LARGE = 1 << 3,  /* above U+10FFFF */
    U8_SURROGATE = 1 << 4,  /* ED A0..BF */
    U8_OVERLONG_2 = 1 << 5, /* C0/C1 */
    U8_TOO_LARGE_1000 = 1 << 6,
    U8_OVERLONG_4 = 1 << 6, /* F0 80..8F */
    U8_TWO_CONTS = 1 << 7,  /* a continuation after a continuation */
    U8_CARRY = U8_TOO_SHORT | U8_TOO_LONG | U8_TWO_CONTS,
};

#define U8_BIG (U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000)
/* Indexed by the high nibble of the first byte of a pair. */
static const unsigned char u8_t1[16] = {
    U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG,
    U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG, U8_TWO_CONTS, U8_TWO_CONTS,
    U8_TWO_CONTS, U8_TWO_CONTS, U8_TOO_SHORT | U8_OVERLONG_2, U8_TOO_SHORT,
    U8_TOO_SHORT | U8_OVERLONG_3 | U8_SURROGATE,
    U8_TOO_SHORT | U8_TOO_LARGE | U8_TOO_LARGE_1000 | U8_OVERLONG_4};
/* Indexed by the low nibble of the first byte. */
static const unsigned char u8_t2[16] = {
    U8_CARRY | U8_OVERLONG_3 | U8_OVERLONG_2 | U8_OVERLONG_4,
    U8_CARRY | U8_OVERLONG_2, U8_CARRY, U8_CARRY, U8_CARRY | U8_TOO_LARGE,
    U8_BIG, U8_BIG, U8_BIG, U8_BIG, U8_BIG, U8_BIG, U8_BIG, U8_BIG,
    U8_BIG | U8_SURROGATE, U8_BIG, U8_BIG};
/* Indexed by the high nibble of the second byte. */
static const unsigned char u8_t3[16] = {
    U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT,
    U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT,
    U8_TOO_LONG | U8_OVERLONG_2 | U8_TWO_CONTS | U8_OVERLONG_3 |
        U8_TOO_LARGE_1000 | U8_OVERLONG_4,
    U8_TOO_LONG | U8_OVERLONG_2 | U8_TWO_CONTS | U8_OVERLONG_3 | U8_TOO_LARGE,
    U8_TOO_LONG | U8_OVERLONG_2 | U8_TWO_CONTS | U8_SURROGATE | U8_TOO_LARGE,
    U8_TOO_LONG | U8_OVERLONG_2 | U8_TWO_CONTS | U8_SURROGATE | U8_TOO_LARGE,
    U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT};
/* Bytes above these in the last three places of a block start a sequence
 * that the block does not finish. */
static const unsigned char u8_max[32] = {
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 0xEF, 0xDF, 0xBF};

typedef struct u8_state {
    __m128i prev, err, incomplete;
} u8_state;

/* Checks one 16-byte block against the one before it (st->prev). */
__attribute__((target("ssse3"))) static inline void
u8_block(u8_state *st, __m128i in)
{
    const __m128i nib = _mm_set1_epi8(0x0F);
    if (_mm_movemask_epi8(in) == 0) { /* ASCII: only a cut-off can fail */
        st->err = _mm_or_si128(st->err, st->incomplete);
        st->incomplete = _mm_setzero_si128();
        st->prev = in;
        return;
    }
    const __m128i t1 = _mm_loadu_si128((const __m128i *)u8_t1);
    const __m128i t2 = _mm_loadu_si128((const __m128i *)u8_t2);
    const __m128i t3 = _mm_loadu_si128((const __m128i *)u8_t3);
    __m128i prev1 = _mm_alignr_epi8(in, st->prev, 15);
    __m128i sc = _mm_and_si128(
        _mm_and_si128(
            _mm_shuffle_epi8(t1, _mm_and_si128(_mm_srli_epi16(prev1, 4), nib)),
            _mm_shuffle_epi8(t2, _mm_and_si128(prev1, nib))),
        _mm_shuffle_epi8(t3, _mm_and_si128(_mm_srli_epi16(in, 4), nib)));
    __m128i third = _mm_subs_epu8(_mm_alignr_epi8(in, st->prev, 14),
                                  _mm_set1_epi8(0xE0 - 0x80));
    __m128i fourth = _mm_subs_epu8(_mm_alignr_epi8(in, st->prev, 13),
                                   _mm_set1_epi8(0xF0 - 0x80));
    __m128i must23 = _mm_and_si128(_mm_or_si128(third, fourth),
                                   _mm_set1_epi8((char)0x80));
    st->err = _mm_or_si128(st->err, _mm_xor_si128(must23, sc));
    st->incomplete = _mm_subs_epu8(
        in, _mm_loadu_si128((const __m128i *)(u8_max + 16)));
    st->prev = in;
}

__attribute__((target("ssse3"))) static bool u8_valid_ssse3(
    const unsigned char *s, size_t n)
{
    u8_state st = {_mm_setzero_si128(), _mm_setzero_si128(),
                   _mm_setzero_si128()};
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        u8_block(&st, _mm_loadu_si128((const __m128i *)(s + i)));
    if (i < n) {
        unsigned char tail[16] = {0}; /* NUL is ASCII: ends nothing early */
        memcpy(tail, s + i, n - i);
        u8_block(&st, _mm_loadu_si128((const __m128i *)tail));
    }
    __m128i err = _mm_or_si128(st.err, st.incomplete);
    return _mm_movemask_epi8(_mm_cmpeq_epi8(err, _mm_setzero_si128())) ==
           0xFFFF;
}
/* The same check 32 bytes at a time with AVX2.  The lookups work within
 * each 16-byte lane, and the bytes before a lane come from the lane before
 * it (permute2x128), so the tables are the SSSE3 ones, twice. */
typedef struct u8_state32 {
    __m256i prev, err, incomplete;
} u8_state32;

/* The constants of u8_block32, made once per string so that the compiler
 * keeps them in registers across the loop. */
typedef struct u8_consts32 {
    __m256i nib, t1, t2, t3, sub3, sub4, high, max;
} u8_consts32;

__attribute__((target("avx2"))) static inline void
u8_block32(u8_state32 *st, const u8_consts32 *k, __m256i in)
{
    if (_mm256_movemask_epi8(in) == 0) {
        st->err = _mm256_or_si256(st->err, st->incomplete);
        st->incomplete = _mm256_setzero_si256();
        st->prev = in;
        return;
    }
    /* [high lane of prev, low lane of in]: the 16 bytes before each lane */
    __m256i before = _mm256_permute2x128_si256(st->prev, in, 0x21);
    __m256i prev1 = _mm256_alignr_epi8(in, before, 15);
    __m256i sc = _mm256_and_si256(
        _mm256_and_si256(
            _mm256_shuffle_epi8(
                k->t1, _mm256_and_si256(_mm256_srli_epi16(prev1, 4), k->nib)),
            _mm256_shuffle_epi8(k->t2, _mm256_and_si256(prev1, k->nib))),
        _mm256_shuffle_epi8(
            k->t3, _mm256_and_si256(_mm256_srli_epi16(in, 4), k->nib)));
    __m256i third =
        _mm256_subs_epu8(_mm256_alignr_epi8(in, before, 14), k->sub3);
    __m256i fourth =
        _mm256_subs_epu8(_mm256_alignr_epi8(in, before, 13), k->sub4);
    __m256i must23 =
        _mm256_and_si256(_mm256_or_si256(third, fourth), k->high);
    st->err = _mm256_or_si256(st->err, _mm256_xor_si256(must23, sc));
    st->incomplete = _mm256_subs_epu8(in, k->max);
    st->prev = in;
}

__attribute__((target("avx2"))) static bool u8_valid_avx2(
    const unsigned char *s, size_t n)
{
    const u8_consts32 k = {
        _mm256_set1_epi8(0x0F),
        _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)u8_t1)),
        _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)u8_t2)),
        _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)u8_t3)),
        _mm256_set1_epi8(0xE0 - 0x80),
        _mm256_set1_epi8(0xF0 - 0x80),
        _mm256_set1_epi8((char)0x80),
        _mm256_loadu_si256((const __m256i *)u8_max),
    };
    u8_state32 st = {_mm256_setzero_si256(), _mm256_setzero_si256(),
                     _mm256_setzero_si256()};
    size_t i = 0;
    for (; i + 32 <= n; i += 32)
        u8_block32(&st, &k, _mm256_loadu_si256((const __m256i *)(s + i)));
    if (i < n) {
        unsigned char tail[32] = {0};
        memcpy(tail, s + i, n - i);
        u8_block32(&st, &k, _mm256_loadu_si256((const __m256i *)tail));
    }
    __m256i err = _mm256_or_si256(st.err, st.incomplete);
    return _mm256_testz_si256(err, err);
}
#endif

bool ex_utf8_valid(const char *str, size_t n)
{
#ifdef EX_UTF8_SSSE3
    if (n >= 32 && __builtin_cpu_supports("avx2"))
        return u8_valid_avx2((const unsigned char *)str, n);
    if (n >= 16 && __builtin_cpu_supports("ssse3"))
        return u8_valid_ssse3((const unsigned char *)str, n);
#endif
    return ex_utf8_valid_scalar(str, n);
}

/* Bytes that need an escape in a JSON string: controls, '"' and '\\'. */
static const unsigned char json_esc[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
};

/* Writes the escape for ASCII byte c (a control, '"' or '\\') at o;
 * returns the new end. */
static char *json_escape(char *o, unsigned c)
{
    *o++ = '\\';
    switch (c) {
    case '"': *o++ = '"'; break;
    case '\\': *o++ = '\\'; break;
    case '\n': *o++ = 'n'; break;
    case '\r': *o++ = 'r'; break;
    case '\t': *o++ = 't'; break;
    case '\b': *o++ = 'b'; break;
    case '\f': *o++ = 'f'; break;
    default: o += sprintf(o, "u%04x", c);
    }
    return o;
}

int ex_json_scalar_only;

/* After a block of `width` input bytes from s[*i] was stored whole at *o,
 * with `m` flagging the bytes to escape: moves both on past the block when
 * none is, else past the bytes before the first one, which is escaped. */
static inline void block_done(char **o, const unsigned char *s, size_t *i,
                              unsigned m, size_t width)
{
    size_t k;
    if (!m) {
        *o += width;
        *i += width;
        return;
    }
    k = (size_t)__builtin_ctz(m);
    *o = json_escape(*o + k, s[*i + k]);
    *i += k + 1;
}

#ifdef EX_UTF8_SSSE3
/* The first part of json_copy_escaped with AVX2: 32 bytes per test.  Each
 * block is stored whole, and the output advances only past the bytes
 * before the first one to escape, which is then escaped; the next load
 * starts right after it.  Stores beyond the kept bytes stay inside the
 * room ex_json_bytes reserved (6 bytes per input byte).  Returns the
 * input bytes consumed (all but fewer than 32); *po is moved on. */
__attribute__((target("avx2"))) static size_t
json_copy_avx2(char **po, const unsigned char *s, size_t n)
{
    const __m256i quote = _mm256_set1_epi8('"'),
                  bslash = _mm256_set1_epi8('\\'),
                  ctl = _mm256_set1_epi8(0x1F);
    char *o = *po;
    size_t i = 0;
    while (i + 32 <= n) {
        __m256i x = _mm256_loadu_si256((const __m256i *)(s + i));
        __m256i esc = _mm256_or_si256(
            _mm256_or_si256(_mm256_cmpeq_epi8(x, quote),
                            _mm256_cmpeq_epi8(x, bslash)),
            _mm256_cmpeq_epi8(_mm256_min_epu8(x, ctl), x)); /* <= 0x1F */
        _mm256_storeu_si256((__m256i *)o, x);
        block_done(&o, s, &i, (unsigned)_mm256_movemask_epi8(esc), 32);
    }
    *po = o;
    return i;
}
#endif

#ifdef __SSE2__
/* json_copy_avx2 with SSE2, 16 bytes per test, from input byte i on;
 * returns the input bytes consumed (all but fewer than 16). */
static size_t json_copy_sse2(char **po, const unsigned char *s, size_t n,
                             size_t i)
{
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'),
                  ctl = _mm_set1_epi8(0x1F);
    char *o = *po;
    while (i + 16 <= n) {
        __m128i x = _mm_loadu_si128((const __m128i *)(s + i));
        __m128i esc = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)),
            _mm_cmpeq_epi8(_mm_min_epu8(x, ctl), x)); /* x <= 0x1F */
        _mm_storeu_si128((__m128i *)o, x);
        block_done(&o, s, &i, (unsigned)_mm_movemask_epi8(esc), 16);
    }
    *po = o;
    return i;
}
#endif

/* Writes s[0..n), valid UTF-8, at o as the inside of a JSON string and
 * returns the new end; o must have room for 6 * n bytes.  Only ASCII
 * controls, '"' and '\\' need escapes (bytes of multi-byte sequences never
 * do), so 32 (AVX2) or 16 (SSE2) bytes at a time are tested and copied
 * until one of those turns up, and the byte loop finishes the tail.  With
 * ex_json_scalar_only set (tests) the byte loop does it all. */
static char *json_copy_escaped(char *o, const unsigned char *s, size_t n)
{
    size_t i = 0;
#ifdef EX_UTF8_SSSE3
    if (!ex_json_scalar_only && n >= 32 && __builtin_cpu_supports("avx2"))
        i = json_copy_avx2(&o, s, n);
#endif
#ifdef __SSE2__
    if (!ex_json_scalar_only)
        i = json_copy_sse2(&o, s, n, i);
#endif
    for (; i < n; i++) {
        if (json_esc[s[i]])
            o = json_escape(o, s[i]);
        else
            *o++ = (char)s[i];
    }
    return o;
}

/* Copies s[0..n) to o when every byte is printable ASCII other than '"'
 * and '\\' (field names, URLs, dates, ids): such bytes are UTF-8 and need
 * no escape, so the general check and copy can be skipped.  Returns the
 * end, or NULL at the first other byte (what was copied is then to be
 * overwritten). */
static char *json_copy_plain(char *o, const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] >= 0x80 || json_esc[s[i]])
            return NULL;
        o[i] = (char)s[i];
    }
    return o + n;
}

/* Strings shorter than this try json_copy_plain first; longer ones go
 * straight to the vector loops. */
#define JSON_SHORT 32

int ex_json_bytes(ex_buf *b, const char *s, size_t n)
{
    /* Worst case: every byte becomes \u00XX (6 bytes), quotes, slack. */
    if (n > (SIZE_MAX - 16) / 6 || ex_buf_reserve(b, n * 6 + 16))
        return TJ_ENOMEM;
    char *o = b->data + b->len, *e = NULL;
    *o = '"';
    if (n < JSON_SHORT && !ex_json_scalar_only)
        e = json_copy_plain(o + 1, (const unsigned char *)s, n);
    if (e) {
        *e++ = '"';
        b->len = (size_t)(e - b->data);
        b->data[b->len] = '\0';
        return 0;
    }
    if (ex_utf8_valid(s, n)) {
        o++;
        o = json_copy_escaped(o, (const unsigned char *)s, n);
        *o++ = '"';
        b->len = (size_t)(o - b->data);
        b->data[b->len] = '\0';
        return 0;
    }
    if (ex_buf_adds(b, "{\"$base64\":\"") ||
        ex_base64(b, (const unsigned char *)s, n) || ex_buf_adds(b, "\"}"))
        return TJ_ENOMEM;
    return 0;
}

/* Index of the first byte below 0x20 (a control: a line end, a tab) in
 * s[0..n), or n when there is none; 16 bytes per test with SSE2 unless
 * ex_json_scalar_only is set. */
static size_t first_control(const char *s, size_t n)
{
    size_t i = 0;
#ifdef __SSE2__
    const __m128i ctl = _mm_set1_epi8(0x1F);
    for (; !ex_json_scalar_only && i + 16 <= n; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(s + i));
        unsigned m = (unsigned)_mm_movemask_epi8(
            _mm_cmpeq_epi8(_mm_min_epu8(x, ctl), x)); /* x <= 0x1F */
        if (m)
            return i + (size_t)__builtin_ctz(m);
    }
#endif
    while (i < n && (unsigned char)s[i] >= 0x20)
        i++;
    return i;
}

int ex_json_compact(ex_buf *b, const char *s, size_t n)
{
    if (first_control(s, n) == n) /* the usual case: already one line */
        return ex_buf_add(b, s, n);
    size_t i;
    /* Whitespace outside strings goes; a raw control character inside a
     * string (which strict JSON forbids, but a lenient producer may leave)
     * is escaped, so the value stays on one line. */
    if (n > (SIZE_MAX - 16) / 6 || ex_buf_reserve(b, n * 6 + 16))
        return TJ_ENOMEM;
    char *o = b->data + b->len;
    bool in_str = false;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (in_str) {
            if (c < 0x20) {
                o = json_escape(o, c);
            } else {
                *o++ = (char)c;
                if (c == '\\' && i + 1 < n) {
                    unsigned char e = (unsigned char)s[++i];
                    if (e < 0x20)
                        o = json_escape(o - 1, e); /* "\<LF>" -> "\n" */
                    else
                        *o++ = (char)e;
                } else if (c == '"') {
                    in_str = false;
                }
            }
        } else if (c <= ' ') {
            continue;
        } else {
            *o++ = (char)c;
            in_str = c == '"';
        }
    }
    b->len = (size_t)(o - b->data);
    b->data[b->len] = '\0';
    return 0;
}

int ex_double_text(ex_buf *b, double v, bool json)
{
    char t[40];
    if (isnan(v))
        return ex_buf_adds(b, json ? "null" : "NaN");
    if (isinf(v))
        return ex_buf_adds(b, json ? "null" : v > 0 ? "Infinity" : "-Infinity");
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(t, sizeof t, "%.*g", prec, v);
        if (strtod(t, NULL) == v)
            break;
    }
    if (!strpbrk(t, ".eE"))
        strcat(t, ".0");
    return ex_buf_adds(b, t);
}

int ex_int_text(ex_buf *b, int64_t v)
{
    char t[24];
    int n = snprintf(t, sizeof t, "%lld", (long long)v);
    return ex_buf_add(b, t, (size_t)n);
}

int ex_base64(ex_buf *b, const unsigned char *s, size_t n)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (ex_buf_reserve(b, (n + 2) / 3 * 4 + 1))
        return TJ_ENOMEM;
    char *o = b->data + b->len;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        *o++ = tab[v >> 18];
        *o++ = tab[(v >> 12) & 63];
        *o++ = tab[(v >> 6) & 63];
        *o++ = tab[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)s[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)s[i + 1] << 8;
        *o++ = tab[v >> 18];
        *o++ = tab[(v >> 12) & 63];
        *o++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    b->len = (size_t)(o - b->data);
    b->data[b->len] = '\0';
    return 0;
}

int ex_csv_cell(ex_buf *b, const char *s, size_t n)
{
    bool quote = false;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    if (!quote)
        return ex_buf_add(b, s, n);
    if (ex_buf_reserve(b, n * 2 + 2))
        return TJ_ENOMEM;
    char *o = b->data + b->len;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            *o++ = '"';
        *o++ = s[i];
    }
    *o++ = '"';
    b->len = (size_t)(o - b->data);
    b->data[b->len] = '\0';
    return 0;
}

static bool in_list(const tj_list *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i], name) == 0)
            return true;
    return false;
}

int ex_each_field(const ex_config *cfg, const tj_record *rec, ex_field_fn fn,
                  void *arg)
{
    int rc;
    if (cfg->fields.n) {
        for (size_t i = 0; i < cfg->fields.n; i++) {
            const char *name = cfg->fields.items[i];
            tj_field_type t = tj_record_type(rec, name);
            if (t == TJ_FIELD_NONE || in_list(&cfg->exclude, name))
                continue;
            if ((rc = fn(arg, rec, name, t)))
                return rc;
        }
        return 0;
    }
    tj_field_type t;
    const char *name;
    for (size_t i = 0; (name = tj_record_field_at(rec, i, &t)); i++) {
        if (cfg->exclude.n && in_list(&cfg->exclude, name))
            continue;
        if ((rc = fn(arg, rec, name, t)))
            return rc;
    }
    return 0;
}

/* Appends the JSON form of one field value. */
static int json_value(ex_buf *b, const tj_record *rec, const char *name,
                      tj_field_type type)
{
    size_t len;
    const char *s;
    int64_t iv;
    double dv;
    switch (type) {
    case TJ_FIELD_BYTES:
        s = tj_record_get(rec, name, &len);
        return ex_json_bytes(b, s, len);
    case TJ_FIELD_JSON:
        s = tj_record_get(rec, name, &len);
        return ex_json_compact(b, s, len);
    case TJ_FIELD_INT:
        tj_record_get_int(rec, name, &iv);
        return ex_int_text(b, iv);
    case TJ_FIELD_DOUBLE:
        tj_record_get_double(rec, name, &dv);
        return ex_double_text(b, dv, true);
    default:
        return ex_buf_adds(b, "null");
    }
}

typedef struct jsonl_arg {
    ex_buf *b;
    bool first;
} jsonl_arg;

static int jsonl_field(void *arg, const tj_record *rec, const char *name,
                       tj_field_type type)
{
    jsonl_arg *a = arg;
    if (!a->first && ex_buf_addc(a->b, ','))
        return TJ_ENOMEM;
    a->first = false;
    if (ex_json_bytes(a->b, name, strlen(name)) || ex_buf_addc(a->b, ':'))
        return TJ_ENOMEM;
    return json_value(a->b, rec, name, type);
}

int ex_record_jsonl(const ex_config *cfg, const tj_record *rec, ex_buf *out)
{
    jsonl_arg a = {out, true};
    size_t mark = out->len;
    int rc = ex_buf_addc(out, '{');
    if (!rc)
        rc = ex_each_field(cfg, rec, jsonl_field, &a);
    if (!rc)
        rc = ex_buf_add(out, "}\n", 2);
    if (rc) {
        out->len = mark; /* no half record in the output */
        if (out->data)
            out->data[mark] = '\0';
    }
    return rc;
}
