/*
 * convert.h - byte-to-UTF-8 converters of the decode stage.
 *
 * GB18030 and Big5-HKSCS are decoded from lookup tables that are filled once
 * per process from glibc's iconv (so the text is exactly what iconv gives,
 * several times faster); UTF-8 is validated in place; every other charset
 * goes through an iconv loop.  Invalid input becomes U+FFFD and is counted.
 */
#ifndef DECODE_CONVERT_H
#define DECODE_CONVERT_H

#include <stddef.h>
#include <stdint.h>

/* Canonical names of the charsets with a fast path. */
#define CS_UTF8 "UTF-8"
#define CS_GB18030 "GB18030"
#define CS_BIG5 "BIG5-HKSCS"
#define CS_UTF16LE "UTF-16LE"
#define CS_UTF16BE "UTF-16BE"
#define CS_WIN1252 "WINDOWS-1252"

/* A converted text and how it went. */
typedef struct conv_out {
    char *text;     /* malloc()ed UTF-8, one spare byte after len */
    size_t len;
    size_t errors;  /* invalid sequences replaced by U+FFFD */
    int tail_error; /* 1 when the last error was an incomplete final
                       sequence (a truncated body), 0 otherwise */
} conv_out;

/* Returns the length of the longest prefix of `s` (n bytes) that is valid
 * UTF-8 and ends on a character boundary: n when the whole buffer is valid.
 * Overlong forms, surrogates and code points past U+10FFFF are invalid. */
size_t conv_utf8_valid_prefix(const unsigned char *s, size_t n);

/* Counts, over the n bytes at s, the valid multi-byte UTF-8 characters
 * (*multi) and the invalid sequences (*invalid).  With `ratio` non-zero the
 * count may stop early, as soon as invalid * ratio > multi is certain for
 * the whole buffer whatever its remaining bytes hold: it then returns 1
 * and the counts are those of the prefix read (still with
 * invalid * ratio > multi).  Returns 0 after a full count. */
int conv_utf8_stats(const unsigned char *s, size_t n, size_t ratio,
                    size_t *multi, size_t *invalid);

/* Returns 1 when the n bytes at s are all ASCII (below 0x80), else 0. */
int conv_is_ascii(const unsigned char *s, size_t n);

/* Converts n bytes at `in` from `charset` (an iconv name; the names above
 * take the fast paths) to UTF-8 in *out.  When max_errors is non-zero the
 * conversion stops as soon as more than max_errors errors were seen: *out
 * then holds a partial text and out->errors > max_errors.  Returns 0, or
 * TJ_EINVAL when iconv does not know the charset, TJ_ENOMEM.  On failure
 * out->text is NULL.  The caller frees out->text. */
int conv_to_utf8(const char *charset, const unsigned char *in, size_t n,
                 size_t max_errors, conv_out *out);

/* Decodes the one code at s (n bytes left) of `charset`, CS_GB18030 or
 * CS_BIG5, the way conv_to_utf8 decodes it there; for tests, which check
 * conv_to_utf8's fast loops against a plain loop over this function.
 * Returns the bytes the code takes, with its UTF-8 (at most 8 bytes) in
 * out and *len, or with *len = 0 for an invalid byte (one U+FFFD, 1 byte
 * taken); 0 when n is 0 or the input ends inside a code that could still
 * be valid (one U+FFFD for the rest, a truncated body). */
size_t conv_table_code(const char *charset, const unsigned char *s, size_t n,
                       unsigned char out[8], size_t *len);

/* Returns 1 when iconv can convert from `charset` to UTF-8, else 0. */
int conv_supported(const char *charset);

/* Fills the GB18030 and Big5-HKSCS tables now rather than on first use
 * (they are built once per process, thread-safely, in about 20 ms).
 * Returns 0 or TJ_ENOMEM / TJ_EINVAL when iconv lacks those charsets. */
int conv_init_tables(void);

#endif
