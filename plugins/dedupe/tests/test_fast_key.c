/*
 * test_fast_key.c - the fast key against the reference: dedupe_normalise
 * (ASCII inline, BMP classes cached, the rest through utf8proc) must give
 * the bytes the straightforward utf8proc loop gives (ref_normalise.h) for
 * every code point and for random mixes of valid, truncated and invalid
 * UTF-8 cut anywhere; dedupe_sha256_hex (SHA-NI when the CPU has it) must
 * give the digest of the portable code, also when fed in pieces, and the
 * FIPS 180-4 examples.  Keys are stored in state databases: any
 * difference would break them.
 */
#include "dedupe.h" /* before cmocka.h: its fail() macro */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ref_normalise.h"
#include "sha256.h"

/* Fails unless dedupe_normalise and ref_normalise agree on text. */
static void same_as_reference(const char *text, size_t n, size_t max)
{
    size_t len, chars, rlen, rchars;
    char *got = dedupe_normalise(text, n, max, &len, &chars);
    char *want = ref_normalise(text, n, max, &rlen, &rchars);
    assert_non_null(got);
    assert_non_null(want);
    assert_int_equal(len, rlen);
    assert_int_equal(chars, rchars);
    assert_memory_equal(got, want, len + 1);
    free(got);
    free(want);
}

static void every_code_point_as_the_reference(void **s)
{
    unsigned char *all = malloc(4 * 0x110000), *p = all;
    for (utf8proc_int32_t cp = 0; cp < 0x110000; cp++)
        if (cp < 0xd800 || cp > 0xdfff)
            p += utf8proc_encode_char(cp, p);
    size_t n = (size_t)(p - all);
    /* twice: the first pass fills the BMP classes, the second uses them */
    same_as_reference((char *)all, n, 64 << 20);
    same_as_reference((char *)all, n, 64 << 20);
    free(all);
}

/* Every lead byte E0-EF with every two bytes after it: the table of
 * three-byte classes meets valid characters, overlong forms, surrogates
 * and broken sequences, alone, between ASCII letters and run together. */
static void every_three_byte_form_as_the_reference(void **s)
{
    unsigned char *all = malloc(16 * 256 * 256 * 4), *p = all;
    for (unsigned b0 = 0xe0; b0 <= 0xef; b0++)
        for (unsigned b1 = 0; b1 < 256; b1++)
            for (unsigned b2 = 0; b2 < 256; b2++) {
                *p++ = (unsigned char)b0, *p++ = (unsigned char)b1;
                *p++ = (unsigned char)b2;
                if ((b1 + b2) % 3 == 0)
                    *p++ = 'Q';
            }
    size_t n = (size_t)(p - all);
    same_as_reference((char *)all, n, 64 << 20);
    same_as_reference((char *)all, n, 64 << 20); /* classes known */
    same_as_reference((char *)all, n, 100000);   /* cut somewhere inside */
    free(all);
}

/* A deterministic generator (xorshift64*). */
static uint64_t rnd(uint64_t *x)
{
    *x ^= *x >> 12, *x ^= *x << 25, *x ^= *x >> 27;
    return *x * 0x2545F4914F6CDD1DULL;
}

/* Appends one random piece to b: a byte, ASCII, a character from a range
 * that matters (CJK, full-width, Latin capitals and accents, marks,
 * ligatures, other planes) or a sequence cut short.  Returns bytes added. */
static size_t piece(unsigned char *b, uint64_t *x)
{
    static const utf8proc_int32_t from[] = {0x20,   0xa0,   0x300,  0x3000,
                                            0x4e00, 0xf900, 0xfb00, 0xff00,
                                            0x1d400, 0x2f800, 0x370};
    uint64_t r = rnd(x);
    int kind = (int)(r % 8);
    if (kind == 0) { /* any byte */
        b[0] = (unsigned char)(r >> 8);
        return 1;
    }
    utf8proc_int32_t cp = from[(r >> 8) % 11] + (utf8proc_int32_t)((r >> 16) % 256);
    size_t k = (size_t)utf8proc_encode_char(cp, b);
    return kind == 1 && k > 1 ? k - 1 : k; /* 1 in 8: truncated */
}

static void random_text_as_the_reference(void **s)
{
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    unsigned char b[4096];
    for (int round = 0; round < 5000; round++) {
        size_t n = 0, want = rnd(&x) % 1000;
        while (n < want)
            n += piece(b + n, &x);
        size_t max = 64 + rnd(&x) % 600;
        same_as_reference((char *)b, n, max);
        same_as_reference((char *)b, n, 65536);
    }
}

/* Fails unless every SHA-256 implementation this CPU runs, and fetch's,
 * agree on n bytes.  Returns how many implementations ran. */
static int same_digest(const unsigned char *data, size_t n)
{
    char want[65], got[65];
    int ran = 0;
    sha256_hex_of(data, n, want);
    dedupe_sha256_hex(data, n, got);
    assert_string_equal(got, want);
    for (int i = 0; dedupe_sha256_impl(i); i++)
        if (dedupe_sha256_hex_using(i, data, n, got) == 0) {
            assert_string_equal(got, want);
            ran++;
        }
    /* fed in pieces of 1 to 150 bytes: buffered tails, whole blocks */
    sha256_ctx c;
    sha256_init(&c);
    for (size_t at = 0, piece = 1; at < n; at += piece, piece = piece % 150 + 1)
        sha256_update(&c, data + at, piece < n - at ? piece : n - at);
    sha256_hex(&c, got);
    assert_string_equal(got, want);
    return ran;
}

static void sha256_as_fetch_and_fips(void **s)
{
    char hex[65];
    dedupe_sha256_hex("abc", 3, hex); /* FIPS 180-4, appendix B.1 */
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
                             "b00361a396177a9cb410ff61f20015ad");
    dedupe_sha256_hex("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb924"
                             "27ae41e4649b934ca495991b7852b855");
    static unsigned char big[1 << 20];
    uint64_t x = 42;
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (unsigned char)rnd(&x);
    for (size_t n = 0; n <= 300; n++) /* every tail length, 1 and 2 blocks */
        same_digest(big + n % 7, n);
    int ran = same_digest(big, sizeof big);
    assert_true(ran >= 1); /* the plain C runs everywhere */
    assert_int_equal(dedupe_sha256_hex_using(99, "", 0, hex), -1);
    print_message("# SHA-256: %s used, %d implementation(s) checked\n",
                  dedupe_sha256_impl(-1), ran);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_code_point_as_the_reference),
        cmocka_unit_test(every_three_byte_form_as_the_reference),
        cmocka_unit_test(random_text_as_the_reference),
        cmocka_unit_test(sha256_as_fetch_and_fips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
