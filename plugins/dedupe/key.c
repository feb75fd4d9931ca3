/*
 * key.c - the key of an article: SHA-256 of its text with everything but
 * letters and digits removed, so the same article reformatted (other
 * spacing, full-width or ASCII punctuation, other line breaks, full-width
 * digits) keys the same.  Contracts in dedupe.h.
 *
 * Speed: nearly every character of a Chinese article is ASCII or a
 * three-byte character whose folded decomposition is itself (a CJK
 * ideograph) or nothing (punctuation).  ASCII is folded inline; each
 * three-byte character is classified once per process (utf8proc, on first
 * sight) into a table indexed by its bytes, and only the rest (full-width
 * forms, compatibility characters, two- and four-byte characters, invalid
 * bytes) go through utf8proc each time, exactly as they always did.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "dedupe.h"

/* 1 for letters and digits, the characters a key is made of. */
static int keeps(utf8proc_int32_t cp)
{
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
        return 1;
    default:
        return 0;
    }
}

/* cp's compatibility decomposition, case folded, default ignorables
 * removed, into parts[32].  Returns the number of parts (at most 32; 0 on
 * an error). */
static int fold(utf8proc_int32_t cp, utf8proc_int32_t parts[32])
{
    int last = 0;
    utf8proc_ssize_t n = utf8proc_decompose_char(
        cp, parts, 32,
        UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |
            UTF8PROC_IGNORE,
        &last);
    return n < 0 ? 0 : n > 32 ? 32 : (int)n;
}

/* Appends the kept characters of cp's folded decomposition to out, which
 * has room for 4 * 32 more bytes.  Returns the number of characters
 * appended. */
static size_t append_folded(utf8proc_int32_t cp, unsigned char *out,
                            size_t *len)
{
    utf8proc_int32_t parts[32];
    int n = fold(cp, parts);
    size_t kept = 0;
    for (int i = 0; i < n; i++)
        if (keeps(parts[i])) {
            *len += (size_t)utf8proc_encode_char(parts[i], out + *len);
            kept++;
        }
    return kept;
}

/* ---- the three-byte classes ---------------------------------------------- */

enum { UNKNOWN, DROPPED, ITSELF, OTHER };

/* Three bytes 1110xxxx 10yyyyyy 10zzzzzz, read as the little-endian word
 * w, give a table slot from their payload bits: yyyyyy in bits 0-5,
 * zzzzzz in bits 8-13 and xxxx in bits 14-17.  Five operations where the
 * code point takes ten. */
#define SLOT(w) (((w) & 0x3f3f0f) >> 8 | ((w) & 0x0f) << 14)

/* What folding the character at each slot gives: DROPPED (nothing kept),
 * ITSELF (exactly the character, kept) or OTHER (utf8proc decides; also
 * the slots of overlong forms and surrogates, which are invalid UTF-8);
 * UNKNOWN until first seen.  Shared by all threads: every writer stores
 * the same value. */
static _Atomic unsigned char classes[1 << 18];

/* Classifies the character at `slot`, remembers it and returns its class
 * (out of line: each character goes through here once per process). */
static __attribute__((noinline)) unsigned char learn(unsigned slot)
{
    utf8proc_int32_t cp = (utf8proc_int32_t)((slot >> 14) << 12 |
                                             (slot & 0x3f) << 6 |
                                             (slot >> 8 & 0x3f));
    utf8proc_int32_t parts[32];
    int n = fold(cp, parts), kept = 0;
    for (int i = 0; i < n; i++)
        kept += keeps(parts[i]);
    unsigned char c = cp < 0x800 || (cp >= 0xd800 && cp < 0xe000) ? OTHER
                      : !kept                                    ? DROPPED
                      : n == 1 && parts[0] == cp                 ? ITSELF
                                                                 : OTHER;
    atomic_store_explicit(&classes[slot], c, memory_order_relaxed);
    return c;
}

/* The class remembered at `slot`, UNKNOWN when not learnt yet. */
static inline unsigned char class_at(unsigned slot)
{
    return atomic_load_explicit(&classes[slot], memory_order_relaxed);
}

/* ---- bytes ------------------------------------------------------------------ */

/* The ASCII character c folded, or 0 when it is not a letter or digit. */
static inline unsigned char ascii_key(unsigned c)
{
    unsigned lower = c | 0x20;
    if (c - '0' < 10)
        return (unsigned char)c;
    return lower - 'a' < 26 ? (unsigned char)lower : 0;
}

/* The three bytes at p (and one more, unused) as a little-endian word. */
static inline uint32_t load_word(const unsigned char *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint32_t w;
    memcpy(&w, p, 4);
    return w;
#else
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
#endif
}

/* Stores the three bytes of w at out (and, little-endian, a fourth one
 * that is overwritten or ignored: out must have room for it). */
static inline void store_word(unsigned char *out, uint32_t w)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(out, &w, 4);
#else
    out[0] = (unsigned char)w, out[1] = (unsigned char)(w >> 8);
    out[2] = (unsigned char)(w >> 16);
#endif
}

/* ---- normalising --------------------------------------------------------------- */

/* The normalised text being built.  Before each character there is room
 * for ROOM more bytes: the longest folded decomposition and the NUL. */
typedef struct norm {
    unsigned char *out;
    size_t cap, len, chars, max;
} norm;

#define ROOM (4 * 32 + 1)

/* Makes room for one more character; 0 or TJ_ENOMEM. */
static int reserve(norm *b)
{
    if (b->len + ROOM <= b->cap)
        return 0;
    unsigned char *p = realloc(b->out, b->cap * 2);
    if (!p)
        return TJ_ENOMEM;
    b->out = p;
    b->cap *= 2;
    return 0;
}

/* Takes the characters from p[*i] on that need no utf8proc call: ASCII,
 * and three-byte characters that fold to themselves or to nothing (CJK
 * ideographs and punctuation).  It stops before any other character and
 * wherever a character could reach b->max, the end of b's room or the last
 * byte of the text: the caller goes on from there one character at a
 * time.  As no character taken makes more bytes than it reads, those
 * limits are one bound on the input position. */
static void take_simple(norm *b, const unsigned char *p, size_t n, size_t *i)
{
    unsigned char *out = b->out;
    size_t j = *i, len = b->len, chars = b->chars;
    size_t room = b->cap - ROOM > len ? b->cap - ROOM - len : 0;
    size_t lim = b->max - len < room ? b->max - len : room;
    lim = n - 1 - j < lim ? n - 1 : j + lim; /* n > j: *i < n */
    if (lim < j + 3)
        return;
    size_t last = lim - 3; /* where the last character taken may start */
    while (j <= last) {
        unsigned c = p[j];
        if (c < 0x80) { /* stored, then kept only if it counts */
            unsigned char a = ascii_key(c);
            out[len] = a;
            len += a != 0, chars += a != 0, j++;
            continue;
        }
        /* A run of three-byte characters.  Each one kept adds 3 bytes, so
         * the run's character count is taken from its length at its end
         * (one counter less in the loop), and the common class is tested
         * first. */
        size_t run_from = len;
        uint32_t w;
        int stopped = 0;
        while ((w = load_word(p + j), (w & 0xc0c0f0) == 0x8080e0)) {
            unsigned char cls = class_at(SLOT(w));
            if (cls == ITSELF) {
                store_word(out + len, w);
                len += 3;
            } else if (cls == UNKNOWN) {
                learn(SLOT(w));
                continue; /* learnt: read it again */
            } else if (cls != DROPPED) {
                stopped = 1;
                break;
            }
            if ((j += 3) > last) {
                stopped = 1;
                break;
            }
        }
        chars += (len - run_from) / 3;
        if (stopped || p[j] >= 0x80) /* or neither ASCII nor three bytes */
            break;
    }
    b->len = len, b->chars = chars, *i = j;
}

/* Appends the character at p (left > 0 bytes) the way every character
 * once went: utf8proc decodes, decomposes and classifies.  Sets *step to
 * the bytes read (1 for an invalid byte, skipped).  Returns 0, or 1
 * (nothing appended) when the character would take the text past b->max.
 * b has room for it (reserve). */
static int append_char(norm *b, const unsigned char *p, size_t left,
                       size_t *step)
{
    utf8proc_int32_t cp;
    utf8proc_ssize_t k = utf8proc_iterate(p, (utf8proc_ssize_t)left, &cp);
    *step = 1;
    if (k <= 0)
        return 0;
    *step = (size_t)k;
    size_t len = b->len, got = append_folded(cp, b->out, &len);
    if (len > b->max)
        return 1;
    b->len = len;
    b->chars += got;
    return 0;
}

char *dedupe_normalise(const char *text, size_t n, size_t max_bytes,
                       size_t *len, size_t *chars)
{
    norm b = {.cap = (n < max_bytes ? n : max_bytes) + ROOM, .max = max_bytes};
    const unsigned char *p = (const unsigned char *)text;
    size_t i = 0, step;
    *len = *chars = 0;
    b.out = malloc(b.cap);
    while (b.out && i < n && b.len < max_bytes) {
        take_simple(&b, p, n, &i);
        if (i >= n || b.len >= max_bytes)
            break;
        if (reserve(&b))
            goto fail;
        if (append_char(&b, p + i, n - i, &step))
            break; /* the character that crosses the cap */
        i += step;
    }
    if (!b.out)
        return NULL;
    b.out[b.len] = '\0';
    *len = b.len, *chars = b.chars;
    return (char *)b.out;
fail:
    free(b.out);
    return NULL;
}

long dedupe_key(const char *text, size_t n, size_t max_bytes, char key[65])
{
    size_t len, chars;
    char *norm = dedupe_normalise(text, n, max_bytes, &len, &chars);
    if (!norm)
        return -1;
    dedupe_sha256_hex(norm, len, key);
    free(norm);
    return (long)chars;
}
