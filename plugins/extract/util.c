/*
 * util.c - byte buffers and UTF-8 helpers of the extract stage.
 */
#include "ext.h"

#include <float.h>
#include <pthread.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ext_buf_grow(ext_buf *b, size_t need)
{
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p)
        return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

/* Appends a NUL-terminated string. */
int ext_buf_puts(ext_buf *b, const char *s)
{
    return ext_buf_add(b, s, strlen(s));
}

/* Frees the bytes of b and empties it. */
void ext_buf_free(ext_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* Non-zero when one of the 8 bytes in v is '"', '\\' or below 0x20 (a
 * NUL included).  Exact: the has-zero-byte tests below never miss a byte
 * and never report one that is not there. */
static inline int word_needs_escape(uint64_t v)
{
    const uint64_t ones = 0x0101010101010101ull, high = ones * 0x80;
    uint64_t q = v ^ (ones * '"'), b = v ^ (ones * '\\');
    return (((q - ones) & ~q) | ((b - ones) & ~b) | ((v - ones * 0x20) & ~v)) &
           high ? 1 : 0;
}

/* Index of the first byte of s[0..n) that JSON must escape (or a NUL), or
 * n when there is none; eight bytes at a time over the usual long runs. */
static size_t plain_prefix(const char *s, size_t n)
{
    size_t i = 0;
    for (uint64_t v; n - i >= 8; i += 8) {
        memcpy(&v, s + i, 8);
        if (word_needs_escape(v))
            break;
    }
    while (i < n && (unsigned char)s[i] >= 0x20 && s[i] != '"' && s[i] != '\\')
        i++;
    return i;
}

int ext_json_str(ext_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0, i = plain_prefix(s, n);
    if (i < n) /* stop at a NUL byte, as a C string would */
        n = i + strnlen(s + i, n - i);
    if (i == n) { /* nothing to escape: one copy between the quotes */
        if (b->len + n + 3 > b->cap && ext_buf_grow(b, b->len + n + 3))
            return -1;
        b->p[b->len] = '"';
        memcpy(b->p + b->len + 1, s, n);
        b->p[b->len + n + 1] = '"';
        b->len += n + 2;
        b->p[b->len] = '\0';
        return 0;
    }
    if (ext_buf_add(b, "\"", 1))
        return -1;
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[6] = {'\\', 0, '0', '0', 0, 0};
        size_t el = 2;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u', esc[4] = hex[c >> 4], esc[5] = hex[c & 15], el = 6;
        }
        if (ext_buf_add(b, s + run, i - run) || ext_buf_add(b, esc, el))
            return -1;
        run = i + 1;
    }
    return ext_buf_add(b, s + run, n - run) || ext_buf_add(b, "\"", 1) ? -1
                                                                        : 0;
}

/* Writes k / 10^places in decimal (trailing fraction zeros dropped, and
 * the point with them) into t (32 bytes); returns the length. */
static size_t fmt_fixed(char *t, long long k, int places, int frac)
{
    char tmp[32];
    size_t n = 0, o = 0;
    unsigned long long u = k < 0 ? 0ULL - (unsigned long long)k
                                 : (unsigned long long)k;
    int pl = frac ? places : 0;
    while (pl > 0 && u % 10 == 0 && u)
        u /= 10, pl--;
    if (pl > 0) {
        for (int j = 0; j < pl; j++, u /= 10)
            tmp[n++] = (char)('0' + u % 10);
        tmp[n++] = '.';
    }
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (k < 0)
        t[o++] = '-';
    while (n)
        t[o++] = tmp[--n];
    return o;
}

int ext_json_num(ext_buf *b, double d)
{
    char t[32];
    int len;
    if (isnan(d) || isinf(d))
        return ext_buf_add(b, "null", 4);
    int vi = d >= INT_MAX ? INT_MAX : d <= (double)INT_MIN ? INT_MIN : (int)d;
    if (d == 0 && signbit(d))
        return ext_buf_add(b, "-0", 2); /* as cJSON's %1.15g writes it */
    if (d == (double)vi)
        return ext_buf_add(b, t, fmt_fixed(t, vi, 0, 0));
    /* whole numbers under 1e15 have at most 15 digits: %1.15g writes them
     * all, without an exponent */
    if (d == floor(d) && fabs(d) < 1e15)
        return ext_buf_add(b, t, fmt_fixed(t, (long long)d, 0, 0));
    /* Cents and the 4-place percents: when d is the double nearest to
     * k / 10^p and has at most 14 significant digits, %1.15g prints those
     * digits with the trailing zeros dropped, and they read back as d. */
    for (int p = 2; p <= 4 && fabs(d) < 1e10; p += 2) {
        double scale = p == 2 ? 100 : 10000;
        long long k = llround(d * scale);
        if ((double)k / scale == d)
            return ext_buf_add(b, t, fmt_fixed(t, k, p, 1));
    }
    {
        double back = 0;
        len = snprintf(t, sizeof t, "%1.15g", d);
        double m = fabs(back = strtod(t, NULL)) > fabs(d) ? fabs(back) : fabs(d);
        if (!(fabs(back - d) <= m * DBL_EPSILON))
            len = snprintf(t, sizeof t, "%1.17g", d);
    }
    return len > 0 && len < 26 ? ext_buf_add(b, t, (size_t)len) : -1;
}

uint32_t ext_utf8_next_slow(const char *str, size_t n, size_t *len)
{
    const unsigned char *s = (const unsigned char *)str;
    uint32_t c = s[0];
    size_t k;
    if (c < 0x80) {
        *len = 1;
        return c;
    }
    if (c >= 0xC2 && c < 0xE0)
        k = 2, c &= 0x1F;
    else if (c >= 0xE0 && c < 0xF0)
        k = 3, c &= 0x0F;
    else if (c >= 0xF0 && c < 0xF5)
        k = 4, c &= 0x07;
    else
        goto bad;
    if (k > n)
        goto bad;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xC0) != 0x80)
            goto bad;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if ((k == 3 && c < 0x800) || (k == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
        (c >= 0xD800 && c < 0xE000))
        goto bad;
    *len = k;
    return c;
bad:
    *len = 1;
    return 0xFFFD;
}

size_t ext_utf8_count(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += ((unsigned char)s[i] & 0xC0) != 0x80;
    return count;
}

size_t ext_utf8_count_max(const char *s, size_t n, size_t limit)
{
    size_t count = 0, i = 0;
    /* eight bytes at a time (a byte starts a character unless it is
     * 10xxxxxx); once the count reaches the limit the answer is the limit,
     * however far past it the last eight bytes went */
    while (n - i >= 8 && count < limit) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        uint64_t cont = (w & ~(w << 1) & 0x8080808080808080ull) >> 7;
        count += 8 - (size_t)(cont * 0x0101010101010101ull >> 56);
        i += 8;
    }
    if (count >= limit)
        return limit;
    for (; i < n && count < limit; i++)
        count += ((unsigned char)s[i] & 0xC0) != 0x80;
    return count;
}

int ext_is_space(const char *s, size_t n, size_t *len)
{
    unsigned char c = (unsigned char)s[0];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
        c == '\v') {
        *len = 1;
        return 1;
    }
    if (c < 0xC2)
        return 0;
    size_t l;
    uint32_t cp = ext_utf8_next(s, n, &l);
    if (cp == 0xA0 || cp == 0x3000 || (cp >= 0x2000 && cp <= 0x200B) ||
        cp == 0xFEFF) {
        *len = l;
        return 1;
    }
    return 0;
}

const char *ext_trim(const char *s, size_t *n)
{
    size_t l, len = *n;
    while (len && ext_is_space(s, len, &l))
        s += l, len -= l;
    /* Trailing blanks: walk back to the start of each last character. */
    while (len) {
        size_t k = len - 1;
        while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
            k--;
        if (!ext_is_space(s + k, len - k, &l) || k + l != len)
            break;
        len = k;
    }
    *n = len;
    return s;
}

char *ext_clean_dup(const char *s, size_t n)
{
    s = ext_trim(s, &n);
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    size_t o = 0, l;
    int blank = 0;
    for (size_t i = 0; i < n;) {
        if (ext_is_space(s + i, n - i, &l)) {
            blank = 1;
            i += l;
            continue;
        }
        if (blank)
            out[o++] = ' ';
        blank = 0;
        out[o++] = s[i++];
    }
    out[o] = '\0';
    return out;
}

int ext_is_han(uint32_t cp)
{
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x2FA1F);
}

static pthread_mutex_t words_lock = PTHREAD_MUTEX_INITIALIZER;

/* Fills the first-character bits of ws once. */
static void words_ready(ext_words *ws)
{
    if (__atomic_load_n(&ws->ready, __ATOMIC_ACQUIRE))
        return;
    pthread_mutex_lock(&words_lock);
    for (size_t k = 0; !ws->ready && ws->list[k]; k++) {
        size_t l;
        uint32_t c = ext_utf8_next(ws->list[k], strlen(ws->list[k]), &l);
        ws->first[(c & 0xFFFF) >> 3] |= (uint8_t)(1u << (c & 7));
    }
    __atomic_store_n(&ws->ready, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&words_lock);
}

int ext_words_at(ext_words *ws, const char *s, size_t n, uint32_t c)
{
    words_ready(ws);
    if (!((ws->first[(c & 0xFFFF) >> 3] >> (c & 7)) & 1))
        return 0;
    for (size_t k = 0; ws->list[k]; k++)
        if (ext_starts_tab(s, n, ws->list[k]))
            return 1;
    return 0;
}

int ext_words_in(ext_words *ws, const char *s, size_t n)
{
    size_t l;
    words_ready(ws);
    /* every byte that is not a continuation byte is met: a word can only
     * begin on one, so this finds what memmem would */
    for (size_t i = 0; i < n; i += l) {
        uint32_t c = ext_utf8_next(s + i, n - i, &l);
        if (!((ws->first[(c & 0xFFFF) >> 3] >> (c & 7)) & 1))
            continue;
        for (size_t k = 0; ws->list[k]; k++)
            if (ext_starts_tab(s + i, n - i, ws->list[k]))
                return 1;
    }
    return 0;
}
