/*
 * key.c - the key of an article: SHA-256 of its text with everything but
 * letters and digits removed, so the same article reformatted (other
 * spacing, full-width or ASCII punctuation, other line breaks, full-width
 * digits) keys the same.  Contracts in dedupe.h.
 */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "dedupe.h"
#include "sha256.h"

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

/* Appends the kept characters of cp's compatibility decomposition, case
 * folded, to out (reserve() made room for 4 * 32 more bytes).  Returns the
 * number of characters appended. */
static size_t append_folded(utf8proc_int32_t cp, unsigned char *out,
                            size_t *len)
{
    utf8proc_int32_t parts[32];
    int last = 0;
    utf8proc_ssize_t n = utf8proc_decompose_char(
        cp, parts, 32,
        UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |
            UTF8PROC_IGNORE,
        &last);
    size_t kept = 0;
    for (utf8proc_ssize_t i = 0; i < n && i < 32; i++)
        if (keeps(parts[i])) {
            *len += (size_t)utf8proc_encode_char(parts[i], out + *len);
            kept++;
        }
    return kept;
}

/* Makes room for one more character's decomposition; 0 or TJ_ENOMEM. */
static int reserve(unsigned char **out, size_t *cap, size_t len)
{
    if (len + 4 * 32 + 1 <= *cap)
        return 0;
    unsigned char *p = realloc(*out, *cap * 2);
    if (!p)
        return TJ_ENOMEM;
    *out = p;
    *cap *= 2;
    return 0;
}

char *dedupe_normalise(const char *text, size_t n, size_t max_bytes,
                       size_t *len, size_t *chars)
{
    size_t cap = (n < max_bytes ? n : max_bytes) + 4 * 32 + 1;
    unsigned char *out = malloc(cap);
    const unsigned char *p = (const unsigned char *)text;
    size_t i = 0;
    *len = *chars = 0;
    while (out && i < n && *len < max_bytes) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t step =
            utf8proc_iterate(p + i, (utf8proc_ssize_t)(n - i), &cp);
        if (step <= 0) { /* an invalid byte: skipped */
            i++;
            continue;
        }
        i += (size_t)step;
        if (reserve(&out, &cap, *len)) {
            free(out);
            return NULL;
        }
        size_t before = *len, got = append_folded(cp, out, len);
        if (*len > max_bytes) { /* the character that crosses the cap */
            *len = before;
            break;
        }
        *chars += got;
    }
    if (out)
        out[*len] = '\0';
    return (char *)out;
}

long dedupe_key(const char *text, size_t n, size_t max_bytes, char key[65])
{
    size_t len, chars;
    char *norm = dedupe_normalise(text, n, max_bytes, &len, &chars);
    if (!norm)
        return -1;
    sha256_hex_of(norm, len, key);
    free(norm);
    return (long)chars;
}
