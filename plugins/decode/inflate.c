/*
 * inflate.c - capped gzip / deflate inflation (see inflate.h).
 */
#include "inflate.h"

#include <stdlib.h>
#include <zlib.h>

#include "taojin/stage.h"

int zb_is_gzip(const unsigned char *s, size_t n)
{
    return n >= 3 && s[0] == 0x1F && s[1] == 0x8B && s[2] == 0x08;
}

/* zlib's window bits for the stream at `in`: gzip or zlib headers are
 * detected by zlib itself (15 + 32); "deflate" without a zlib header is
 * raw deflate (-15), as browsers accept. */
static int window_bits(const unsigned char *in, size_t n, zmode mode)
{
    if (mode == Z_MODE_GZIP)
        return 15 + 32;
    int zlib_header = n >= 2 && (in[0] & 0x0F) == 8 &&
                      ((unsigned)in[0] << 8 | in[1]) % 31 == 0;
    return zlib_header ? 15 : -15;
}

/* The first output buffer's size for n bytes at `in`: room for the whole
 * output when a gzip trailer tells it (ISIZE, the last member's size mod
 * 2^32: exact for the usual one-member body, so it is inflated without a
 * realloc and its copy), else four times the input.  A trailer claiming
 * more than deflate's largest ratio (1032:1) is not believed; the buffer
 * grows as needed whatever the guess, and never past max_out + 2. */
static size_t first_capacity(const unsigned char *in, size_t n, size_t max_out)
{
    size_t cap = n < (SIZE_MAX - 256) / 4 ? n * 4 + 256 : SIZE_MAX / 2;
    if (zb_is_gzip(in, n) && n >= 18) {
        const unsigned char *t = in + n - 4;
        size_t isize = (size_t)t[0] | (size_t)t[1] << 8 | (size_t)t[2] << 16 |
                       (size_t)t[3] << 24;
        if (isize + 2 > cap && isize / 1032 <= n)
            cap = isize + 2;
    }
    return cap > max_out + 2 ? max_out + 2 : cap;
}

/* Grows *buf so that more output fits without passing max_out + 1 bytes
 * (one byte past the cap tells "too big" from "exactly the cap"). */
static int grow(char **buf, size_t *cap, size_t max_out)
{
    size_t limit = max_out + 2, ncap = *cap * 2;
    if (*cap >= limit)
        return TJ_EFULL;
    if (ncap > limit || ncap < *cap)
        ncap = limit;
    char *p = realloc(*buf, ncap);
    if (!p)
        return TJ_ENOMEM;
    *buf = p;
    *cap = ncap;
    return 0;
}

/* One inflate step's outcome: 1 go on, 0 finished, or a TJ_E* code. */
static int step(z_stream *z, int mode_gzip, const char **why)
{
    int zrc = inflate(z, Z_NO_FLUSH);
    if (zrc == Z_STREAM_END) {
        /* Another gzip member may follow: it is part of the same body. */
        if (mode_gzip && zb_is_gzip(z->next_in, z->avail_in))
            return inflateReset(z) == Z_OK ? 1 : TJ_EPARSE;
        return 0;
    }
    if (zrc == Z_OK || (zrc == Z_BUF_ERROR && z->avail_out == 0))
        return 1;
    if (zrc == Z_BUF_ERROR) {
        *why = "truncated stream";
        return TJ_EPARSE;
    }
    if (zrc == Z_MEM_ERROR)
        return TJ_ENOMEM;
    *why = z->msg ? z->msg : "corrupt stream";
    return TJ_EPARSE;
}

int zb_inflate(const unsigned char *in, size_t n, zmode mode, size_t max_out,
               char **out, size_t *out_len, const char **why)
{
    z_stream z = {0};
    size_t cap = first_capacity(in, n, max_out);
    char *buf = NULL;
    size_t len = 0; /* z.total_out restarts with each gzip member */
    int rc = TJ_ENOMEM;
    *out = NULL;
    *why = "out of memory";
    if (!(buf = malloc(cap)) ||
        inflateInit2(&z, window_bits(in, n, mode)) != Z_OK)
        goto fail;
    z.next_in = (unsigned char *)in;
    z.avail_in = (uInt)n; /* bodies are capped far below 4 GB */
    do {
        if (len + 1 >= cap && (rc = grow(&buf, &cap, max_out)) != 0)
            break;
        z.next_out = (unsigned char *)buf + len;
        z.avail_out = (uInt)(cap - 1 - len);
        rc = step(&z, mode == Z_MODE_GZIP, why);
        len = cap - 1 - z.avail_out;
    } while (rc == 1);
    if (rc == 0 && len > max_out)
        rc = TJ_EFULL;
    if (rc == TJ_EFULL)
        *why = "inflated size exceeds max_inflated";
    if (rc)
        goto fail;
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    inflateEnd(&z);
    return 0;
fail:
    inflateEnd(&z);
    free(buf);
    return rc;
}
