/*
 * test_convert.c - the converters' fast loops against plain loops.
 *
 * GB18030 and Big5-HKSCS: conv_to_utf8 copies ASCII runs eight bytes at a
 * time and runs of two-byte codes in a tight loop, and sends every other
 * code to the per-code decoder; here its text, error count and tail flag
 * must equal those of a loop that calls that per-code decoder
 * (conv_table_code) for every code, on random mixes of ASCII runs, valid
 * and invalid two- and four-byte codes and stray bytes, cut anywhere, some
 * longer than a conversion chunk, with and without an error limit.
 *
 * UTF-8: conv_utf8_valid_prefix (ASCII and three-byte runs in word-wide
 * loops) must equal a decoder that checks one code point at a time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "convert.h"

/* A deterministic generator (xorshift64*). */
static uint64_t rnd(uint64_t *x)
{
    *x ^= *x >> 12, *x ^= *x << 25, *x ^= *x >> 27;
    return *x * 0x2545F4914F6CDD1DULL;
}

/* ---- table charsets ------------------------------------------------------ */

/* conv_to_utf8's contract, one code at a time through conv_table_code. */
static void plain_decode(const char *cs, const unsigned char *s, size_t n,
                         size_t max_errors, unsigned char *out, conv_out *r)
{
    static const unsigned char fffd[3] = {0xEF, 0xBF, 0xBD};
    size_t i = 0;
    memset(r, 0, sizeof *r);
    while (i < n) {
        unsigned char u[8];
        size_t len, k = conv_table_code(cs, s + i, n - i, u, &len);
        if (k && len) {
            memcpy(out + r->len, u, len);
            r->len += len;
            i += k;
            continue;
        }
        memcpy(out + r->len, fffd, 3);
        r->len += 3;
        r->errors++;
        r->tail_error = !k;
        if (!k)
            break;
        i += k;
        if (max_errors && r->errors > max_errors)
            break;
    }
}

/* Random bytes shaped like a legacy CJK page: ASCII runs of any length,
 * runs of two-byte codes (mostly valid, some not), four-byte GB18030
 * codes, stray bytes. */
static size_t legacy_text(uint64_t *x, unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i + 8 < n) {
        unsigned kind = rnd(x) % 10, run = 1 + rnd(x) % 24;
        for (unsigned r = 0; r < run && i + 8 < n; r++) {
            uint64_t v = rnd(x);
            if (kind < 3) { /* ASCII */
                s[i++] = (unsigned char)(0x20 + v % 0x5F);
            } else if (kind < 8) { /* a two-byte code, trail anywhere */
                s[i++] = (unsigned char)(0x81 + v % 0x7E);
                s[i++] = (unsigned char)(v >> 8 & 1 ? 0xA1 + (v >> 16) % 0x5E
                                                   : 0x30 + (v >> 16) % 0xCF);
            } else if (kind == 8) { /* a four-byte GB18030 code */
                s[i++] = (unsigned char)(0x81 + v % (v >> 40 & 1 ? 4 : 0x7E));
                s[i++] = (unsigned char)(0x30 + (v >> 8) % 10);
                s[i++] = (unsigned char)(0x81 + (v >> 16) % 0x7E);
                s[i++] = (unsigned char)(0x30 + (v >> 24) % 10);
            } else { /* any byte */
                s[i++] = (unsigned char)v;
            }
        }
    }
    return i;
}

static void same_as_plain(const char *cs, const unsigned char *s, size_t n,
                          size_t max_errors, unsigned char *want)
{
    conv_out got, ref;
    assert_int_equal(conv_to_utf8(cs, s, n, max_errors, &got), 0);
    plain_decode(cs, s, n, max_errors, want, &ref);
    assert_int_equal(got.len, ref.len);
    assert_int_equal(got.errors, ref.errors);
    assert_int_equal(got.tail_error, ref.tail_error);
    assert_memory_equal(got.text, want, ref.len);
    assert_int_equal(got.text[got.len], '\0');
    free(got.text);
}

static void table_charsets_as_the_plain_loop(void **state)
{
    static const char *const charsets[] = {CS_GB18030, CS_BIG5};
    size_t cap = 200000;
    unsigned char *s = malloc(cap), *want = malloc(cap * 3 + 16);
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    assert_non_null(s);
    assert_non_null(want);
    for (int round = 0; round < 4000; round++) {
        size_t n = legacy_text(&x, s, round % 500 == 0 ? cap : 64 + rnd(&x) % 3000);
        size_t cut = n - rnd(&x) % 5; /* end inside a code now and then */
        for (int c = 0; c < 2; c++) {
            same_as_plain(charsets[c], s, cut, 0, want);
            same_as_plain(charsets[c], s, cut, 1 + round % 3, want);
        }
    }
    free(s);
    free(want);
}

/* ---- UTF-8 ----------------------------------------------------------------- */

/* Length of the valid UTF-8 character at s (n left), 0 if none, from the
 * code point and its ranges. */
static size_t plain_utf8_char(const unsigned char *s, size_t n)
{
    size_t k = s[0] < 0x80 ? 1 : s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3
               : s[0] >= 0xC0 ? 2 : 0;
    if (!k || k > n || s[0] > 0xF7)
        return 0;
    uint32_t cp = k == 1 ? s[0] : s[0] & (0x7F >> k);
    for (size_t j = 1; j < k; j++) {
        if ((s[j] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[j] & 0x3F);
    }
    static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < least[k] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return k;
}

static size_t plain_valid_prefix(const unsigned char *s, size_t n)
{
    size_t i = 0, k;
    while (i < n && (k = plain_utf8_char(s + i, n - i)) > 0)
        i += k;
    return i;
}

/* Random UTF-8-like text: ASCII runs, runs of characters of every length
 * (E0 and ED leads, overlong and surrogate forms included), stray bytes. */
static size_t utf8_text(uint64_t *x, unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i + 8 < n) {
        unsigned kind = rnd(x) % 8, run = 1 + rnd(x) % 20;
        for (unsigned r = 0; r < run && i + 8 < n; r++) {
            uint64_t v = rnd(x);
            if (kind < 2) {
                s[i++] = (unsigned char)(v % 0x80);
            } else if (kind < 6) { /* three bytes, lead E0-EF */
                s[i++] = (unsigned char)(0xE0 + (kind == 5 ? (v & 1) * 0xD
                                                           : v % 16));
                s[i++] = (unsigned char)(0x80 + (v >> 8) % 0x40);
                s[i++] = (unsigned char)(0x80 + (v >> 16) % 0x40);
            } else if (kind == 6) { /* two or four bytes */
                s[i++] = (unsigned char)(v & 1 ? 0xC0 + (v >> 1) % 0x20
                                               : 0xF0 + (v >> 1) % 8);
                s[i++] = (unsigned char)(0x80 + (v >> 8) % 0x40);
                if (!(v & 1)) {
                    s[i++] = (unsigned char)(0x80 + (v >> 16) % 0x40);
                    s[i++] = (unsigned char)(0x80 + (v >> 24) % 0x40);
                }
            } else {
                s[i++] = (unsigned char)v;
            }
        }
    }
    return i;
}

static void utf8_prefix_as_the_plain_loop(void **state)
{
    unsigned char s[4096];
    uint64_t x = 0x2545F4914F6CDD1DULL;
    for (int round = 0; round < 200000; round++) {
        size_t n = utf8_text(&x, s, 16 + rnd(&x) % (sizeof s - 16));
        /* Valid texts too: cut at the first bad character, then at any
         * point (inside a character or not). */
        size_t valid = plain_valid_prefix(s, n);
        size_t cut = round & 1 ? valid : n - rnd(&x) % (n / 2 + 1);
        assert_int_equal(conv_utf8_valid_prefix(s, cut),
                         plain_valid_prefix(s, cut));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_charsets_as_the_plain_loop),
        cmocka_unit_test(utf8_prefix_as_the_plain_loop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
