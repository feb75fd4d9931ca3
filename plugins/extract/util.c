/*
 * util.c - byte buffers and UTF-8 helpers of the extract stage.
 */
#include "ext.h"

#include <stdlib.h>
#include <string.h>

/* Appends n bytes to b, growing it; returns 0 or -1 when out of memory (b
 * is then unchanged). */
int ext_buf_add(ext_buf *b, const void *data, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
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
