/*
 * fuzz_key.c - libFuzzer target for dedupe's normalisation (key.c): any
 * bytes, any cut.  The normalised text must be valid UTF-8 made only of
 * letters and digits, no longer than the cut, byte for byte what the
 * straightforward utf8proc loop makes (tests/ref_normalise.h: stored keys
 * must never change), and the key must be the SHA-256 of exactly that text
 * (fetch's sha256.h), with every implementation this CPU runs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "../tests/ref_normalise.h"
#include "dedupe.h"
#include "sha256.h"

/* Aborts unless s (n bytes) is UTF-8 of letters and digits only. */
static void check_letters_digits(const char *s, size_t n)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    size_t i = 0;
    while (i < n) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(p + i, (utf8proc_ssize_t)(n - i),
                                              &cp);
        if (k <= 0)
            abort();
        utf8proc_category_t c = utf8proc_category(cp);
        if (!(c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) &&
            !(c >= UTF8PROC_CATEGORY_ND && c <= UTF8PROC_CATEGORY_NO))
            abort();
        i += (size_t)k;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t max = 64 + (size ? data[0] * 16u : 0), len, chars;
    char *norm = dedupe_normalise((const char *)data, size, max, &len, &chars);
    if (!norm)
        return 0;
    if (len > max || strlen(norm) != len || chars > len)
        abort();
    check_letters_digits(norm, len);
    size_t rlen, rchars;
    char *ref = ref_normalise((const char *)data, size, max, &rlen, &rchars);
    if (ref && (rlen != len || rchars != chars || memcmp(ref, norm, len)))
        abort();
    free(ref);
    char want[65], got[65];
    sha256_hex_of(norm, len, want);
    if (dedupe_key((const char *)data, size, max, got) != (long)chars ||
        strcmp(want, got))
        abort();
    for (int i = 0; dedupe_sha256_impl(i); i++)
        if (dedupe_sha256_hex_using(i, norm, len, got) == 0 &&
            strcmp(want, got))
            abort();
    free(norm);
    return 0;
}
