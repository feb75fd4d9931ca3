/*
 * ref_normalise.h - the reference for dedupe_normalise: the first,
 * straightforward version (every character through utf8proc_iterate,
 * utf8proc_decompose_char and utf8proc_category, output grown as it goes).
 * Tests and the fuzz target check the fast version against it byte for
 * byte: a key must never change, keys are stored in state databases.
 */
#ifndef DEDUPE_REF_NORMALISE_H
#define DEDUPE_REF_NORMALISE_H

#include <stdlib.h>
#include <utf8proc.h>

static int ref_keeps(utf8proc_int32_t cp)
{
    utf8proc_category_t c = utf8proc_category(cp);
    return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) ||
           (c >= UTF8PROC_CATEGORY_ND && c <= UTF8PROC_CATEGORY_NO);
}

/* Same contract as dedupe_normalise. */
static char *ref_normalise(const char *text, size_t n, size_t max_bytes,
                           size_t *len, size_t *chars)
{
    size_t cap = (n < max_bytes ? n : max_bytes) + 4 * 32 + 1, i = 0;
    unsigned char *out = malloc(cap), *grown;
    const unsigned char *p = (const unsigned char *)text;
    *len = *chars = 0;
    while (out && i < n && *len < max_bytes) {
        utf8proc_int32_t cp, parts[32];
        utf8proc_ssize_t step =
            utf8proc_iterate(p + i, (utf8proc_ssize_t)(n - i), &cp);
        if (step <= 0) {
            i++;
            continue;
        }
        i += (size_t)step;
        if (*len + 4 * 32 + 1 > cap) {
            if (!(grown = realloc(out, cap * 2))) {
                free(out);
                return NULL;
            }
            out = grown, cap *= 2;
        }
        int last = 0;
        utf8proc_ssize_t k = utf8proc_decompose_char(
            cp, parts, 32,
            UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |
                UTF8PROC_IGNORE,
            &last);
        size_t before = *len, got = 0;
        for (utf8proc_ssize_t j = 0; j < k && j < 32; j++)
            if (ref_keeps(parts[j])) {
                *len += (size_t)utf8proc_encode_char(parts[j], out + *len);
                got++;
            }
        if (*len > max_bytes) {
            *len = before;
            break;
        }
        *chars += got;
    }
    if (out)
        out[*len] = '\0';
    return (char *)out;
}

#endif
