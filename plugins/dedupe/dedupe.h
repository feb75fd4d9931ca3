/*
 * dedupe.h - internals of the dedupe stage shared with its tests.
 */
#ifndef DEDUPE_H
#define DEDUPE_H

#include <stddef.h>
#include <stdint.h>

#include "taojin/stage.h"

typedef struct dedupe_config {
    const char *field;     /* text the key is computed from */
    const char *into;      /* field that receives the key */
    const char *url_field; /* what identifies the first copy */
    const char *ns;        /* state database namespace */
    int64_t max_bytes;     /* normalised bytes hashed */
    int64_t min_chars;     /* fewer normalised characters: no key */
    int keep_duplicates;
} dedupe_config;

/* Normalises n bytes of UTF-8 text for keying: NFKD, case folded, and only
 * letters and digits kept (whitespace, punctuation, symbols, controls and
 * marks removed), cut at max_bytes on a character boundary.  Invalid UTF-8
 * bytes are skipped.  Returns a malloc()ed NUL-terminated string with its
 * length in *len and its character count in *chars, or NULL when out of
 * memory. */
char *dedupe_normalise(const char *text, size_t n, size_t max_bytes,
                       size_t *len, size_t *chars);

/* The key of a text: SHA-256 (hex, 64 digits + NUL) of its normalised
 * form.  Returns the character count of the normalised form, or -1 when
 * out of memory. */
long dedupe_key(const char *text, size_t n, size_t max_bytes, char key[65]);

/* SHA-256 of n bytes as 64 lowercase hex digits + NUL (digest.c), with
 * the fastest implementation this CPU runs: the SHA extensions, else plain
 * C.  Both give the same digest. */
void dedupe_sha256_hex(const void *data, size_t n, char hex[65]);

/* For tests and benchmarks: the name of implementation i (0 the best
 * first; -1: the one dedupe_sha256_hex uses), NULL past the last; and the
 * digest made with implementation i: 0, or -1 when this CPU cannot run
 * it. */
const char *dedupe_sha256_impl(int i);
int dedupe_sha256_hex_using(int i, const void *data, size_t n, char hex[65]);

#endif
