/*
 * inflate.h - Content-Encoding gzip / deflate for the decode stage, with a
 * cap on the inflated size so that a gzip bomb is an error, not an
 * out-of-memory kill.
 */
#ifndef DECODE_INFLATE_H
#define DECODE_INFLATE_H

#include <stddef.h>

typedef enum zmode {
    Z_MODE_GZIP,   /* gzip (zlib-wrapped streams accepted too) */
    Z_MODE_DEFLATE /* zlib-wrapped, or raw deflate as some servers send */
} zmode;

/* Returns 1 when the n bytes at s start with the gzip magic (1f 8b 08). */
int zb_is_gzip(const unsigned char *s, size_t n);

/* Inflates n bytes at `in` (several concatenated gzip members are one
 * body) into a malloc()ed buffer of *out_len bytes plus a spare NUL byte
 * at *out.  Returns 0; TJ_EFULL when the output would pass max_out bytes;
 * TJ_EPARSE for a corrupt or truncated stream; TJ_ENOMEM.  On failure *out
 * is NULL and *why (static text) says what went wrong. */
int zb_inflate(const unsigned char *in, size_t n, zmode mode, size_t max_out,
               char **out, size_t *out_len, const char **why);

#endif
