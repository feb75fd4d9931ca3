/*
 * sha256.h - SHA-256 (FIPS 180-4) in one header, for content fingerprints
 * (fetch: has the body changed since it was exported?; dedupe: the key of
 * an article's cleaned text).  Not constant-time, not for secrets.  Header
 * only so the dedupe stage can include it too (dedupe/plugin.mk adds
 * -Iplugins/fetch); every function is static.
 *
 * Fingerprints are taken of every fetched body and every article, so the
 * rounds are fast: CPUs with the SHA extensions (Intel since Ice Lake and
 * Goldmont, AMD since Zen) use them, ~155 instructions per 64-byte block;
 * every other CPU (and valgrind, which hides the extensions) runs the C
 * rounds, ~3200.  The choice is made once, from CPUID; both give the same
 * digest, so stored fingerprints stay valid.
 *
 *     sha256_ctx c;
 *     sha256_init(&c);
 *     sha256_update(&c, data, len);     // any number of times
 *     char hex[65];
 *     sha256_hex(&c, hex);              // finishes; hex is NUL-terminated
 *
 * or sha256_hex_of(data, len, hex) in one call.
 */
#ifndef TJ_SHA256_H
#define TJ_SHA256_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define SHA256_X86 1
#endif

__attribute__((unused)) static const uint32_t sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
    0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

/* Processes n 64-byte blocks of p into the state h[8]. */
typedef void sha256_blocks_fn(uint32_t h[8], const unsigned char *p, size_t n);

/* ---- portable ------------------------------------------------------------- */

#define SHA256_ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))
#define SHA256_BSIG0(a) (SHA256_ROR(a, 2) ^ SHA256_ROR(a, 13) ^ SHA256_ROR(a, 22))
#define SHA256_BSIG1(e) (SHA256_ROR(e, 6) ^ SHA256_ROR(e, 11) ^ SHA256_ROR(e, 25))
#define SHA256_SSIG0(x) (SHA256_ROR(x, 7) ^ SHA256_ROR(x, 18) ^ ((x) >> 3))
#define SHA256_SSIG1(x) (SHA256_ROR(x, 17) ^ SHA256_ROR(x, 19) ^ ((x) >> 10))
#define SHA256_CH(e, f, g) ((g) ^ ((e) & ((f) ^ (g))))
#define SHA256_MAJ(a, b, c) (((a) & (b)) | ((c) & ((a) | (b))))
/* One round with the variables renamed instead of shifted. */
#define SHA256_ROUND(a, b, c, d, e, f, g, h, i)                                     \
    do {                                                                     \
        uint32_t t1_ = h + SHA256_BSIG1(e) + SHA256_CH(e, f, g) + sha256_k[i] + w[i];             \
        d += t1_;                                                            \
        h = t1_ + SHA256_BSIG0(a) + SHA256_MAJ(a, b, c);                                   \
    } while (0)

/* The big-endian word at p. */
static inline uint32_t sha256_load_be32(const unsigned char *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint32_t v;
    memcpy(&v, p, 4);
    return __builtin_bswap32(v);
#else
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
#endif
}

/* The rounds in plain C. */
__attribute__((unused)) static void sha256_blocks_portable(uint32_t h[8], const unsigned char *p, size_t n)
{
    for (; n--; p += 64) {
        uint32_t w[64];
        for (int i = 0; i < 16; i++)
            w[i] = sha256_load_be32(p + 4 * i);
        for (int i = 16; i < 64; i++)
            w[i] = w[i - 16] + SHA256_SSIG0(w[i - 15]) + w[i - 7] + SHA256_SSIG1(w[i - 2]);
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5],
                 g = h[6], hh = h[7];
        for (int i = 0; i < 64; i += 8) {
            SHA256_ROUND(a, b, c, d, e, f, g, hh, i);
            SHA256_ROUND(hh, a, b, c, d, e, f, g, i + 1);
            SHA256_ROUND(g, hh, a, b, c, d, e, f, i + 2);
            SHA256_ROUND(f, g, hh, a, b, c, d, e, i + 3);
            SHA256_ROUND(e, f, g, hh, a, b, c, d, i + 4);
            SHA256_ROUND(d, e, f, g, hh, a, b, c, i + 5);
            SHA256_ROUND(c, d, e, f, g, hh, a, b, i + 6);
            SHA256_ROUND(b, c, d, e, f, g, hh, a, i + 7);
        }
        h[0] += a, h[1] += b, h[2] += c, h[3] += d;
        h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
    }
}

/* ---- SHA-NI --------------------------------------------------------------- */

#ifdef SHA256_X86
/* The state lives in two registers as ABEF and CDGH (the layout the
 * sha256rnds2 instruction wants); each group of four rounds takes four
 * message words, computed from the previous sixteen with sha256msg1/2. */
__attribute__((target("sha,sse4.1,ssse3"), unused)) static void
sha256_blocks_ni(uint32_t h[8], const unsigned char *p, size_t n)
{
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL,
                                         0x0405060700010203ULL);
    __m128i t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)h), 0xB1);
    __m128i cdgh = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(h + 4)),
                                     0x1B);
    __m128i abef = _mm_alignr_epi8(t, cdgh, 8);
    cdgh = _mm_blend_epi16(cdgh, t, 0xF0);
    for (; n--; p += 64) {
        __m128i abef0 = abef, cdgh0 = cdgh, w[4];
#if defined(__clang__)
#pragma unroll
#else
#pragma GCC unroll 16
#endif
        for (int g = 0; g < 16; g++) { /* w[g & 3] holds words 4g..4g+3 */
            if (g < 4) {
                w[g] = _mm_shuffle_epi8(
                    _mm_loadu_si128((const __m128i *)(p + 16 * g)), bswap);
            } else {
                __m128i m = _mm_sha256msg1_epu32(w[g & 3], w[(g + 1) & 3]);
                m = _mm_add_epi32(
                    m, _mm_alignr_epi8(w[(g + 3) & 3], w[(g + 2) & 3], 4));
                w[g & 3] = _mm_sha256msg2_epu32(m, w[(g + 3) & 3]);
            }
            __m128i k = _mm_add_epi32(
                w[g & 3], _mm_loadu_si128((const __m128i *)(sha256_k + 4 * g)));
            cdgh = _mm_sha256rnds2_epu32(cdgh, abef, k);
            abef = _mm_sha256rnds2_epu32(abef, cdgh,
                                         _mm_shuffle_epi32(k, 0x0E));
        }
        abef = _mm_add_epi32(abef, abef0);
        cdgh = _mm_add_epi32(cdgh, cdgh0);
    }
    t = _mm_shuffle_epi32(abef, 0x1B);
    cdgh = _mm_shuffle_epi32(cdgh, 0xB1);
    _mm_storeu_si128((__m128i *)h, _mm_blend_epi16(t, cdgh, 0xF0));
    _mm_storeu_si128((__m128i *)(h + 4), _mm_alignr_epi8(cdgh, t, 8));
}

/* 1 when the CPU has the SHA extensions and the SSSE3 and SSE4.1 they come
 * with. */
__attribute__((unused)) static int sha256_cpu_has_ni(void)
{
    unsigned a, b, c, d, sse = bit_SSSE3 | bit_SSE4_1;
    if (!__get_cpuid(1, &a, &b, &c, &d) || (c & sse) != sse ||
        __get_cpuid_max(0, NULL) < 7)
        return 0;
    __cpuid_count(7, 0, a, b, c, d);
    return (b & bit_SHA) != 0;
}
#endif

/* The implementations, best first: every one but the last needs the
 * extensions runs_here() checks. */
__attribute__((unused)) static const struct sha256_impl {
    const char *name;
    sha256_blocks_fn *blocks;
} sha256_impls[] = {
#ifdef SHA256_X86
    {"sha-ni", sha256_blocks_ni},
#endif
    {"c", sha256_blocks_portable},
};
enum { SHA256_NIMPL = sizeof sha256_impls / sizeof *sha256_impls };

__attribute__((unused)) static int sha256_runs_here(int i)
{
#ifdef SHA256_X86
    if (i == 0)
        return sha256_cpu_has_ni();
#endif
    return i == SHA256_NIMPL - 1;
}

/* The block function for this CPU, chosen on first use (a race only
 * computes the same answer twice). */
__attribute__((unused)) static sha256_blocks_fn *sha256_blocks(void)
{
    static _Atomic(sha256_blocks_fn *) chosen;
    sha256_blocks_fn *f = atomic_load_explicit(&chosen, memory_order_relaxed);
    if (!f) {
        int i = 0;
        while (!sha256_runs_here(i))
            i++;
        atomic_store_explicit(&chosen, f = sha256_impls[i].blocks,
                              memory_order_relaxed);
    }
    return f;
}

/* ---- the digest ------------------------------------------------------------ */

typedef struct sha256_ctx {
    uint32_t h[8];
    uint64_t total; /* bytes hashed */
    unsigned char block[64];
    size_t used; /* bytes in block */
    sha256_blocks_fn *f;
} sha256_ctx;

/* Starts a digest with f, the block function (NULL: the best for this
 * CPU; tests pass one of sha256_impls to compare them). */
static inline void sha256_init_with(sha256_ctx *c, sha256_blocks_fn *f)
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372,
                                   0xa54ff53a, 0x510e527f, 0x9b05688c,
                                   0x1f83d9ab, 0x5be0cd19};
    memcpy(c->h, iv, sizeof iv);
    c->total = 0;
    c->used = 0;
    c->f = f ? f : sha256_blocks();
}

static inline void sha256_init(sha256_ctx *c) { sha256_init_with(c, NULL); }

static inline void sha256_update(sha256_ctx *c, const void *data, size_t n)
{
    const unsigned char *p = data;
    c->total += n;
    if (c->used) { /* top up the buffered block first */
        size_t take = 64 - c->used < n ? 64 - c->used : n;
        memcpy(c->block + c->used, p, take);
        c->used += take, p += take, n -= take;
        if (c->used < 64)
            return;
        c->f(c->h, c->block, 1);
        c->used = 0;
    }
    if (n >= 64) { /* whole blocks straight from p */
        c->f(c->h, p, n / 64);
        p += n - n % 64;
        n %= 64;
    }
    memcpy(c->block, p, n);
    c->used = n;
}

/* Pads, finishes and writes the digest as 64 lowercase hex digits + NUL.
 * The context must be initialised again before reuse. */
static inline void sha256_hex(sha256_ctx *c, char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    uint64_t bits = c->total * 8;
    unsigned char pad[72] = {0x80};
    size_t padlen = (c->used < 56 ? 56 : 120) - c->used;
    for (int i = 0; i < 8; i++)
        pad[padlen + i] = (unsigned char)(bits >> (56 - 8 * i));
    sha256_update(c, pad, padlen + 8);
    for (int i = 0; i < 64; i++)
        hex[i] = digits[(c->h[i / 8] >> (28 - 4 * (i % 8))) & 15];
    hex[64] = '\0';
}

/* SHA-256 of n bytes as hex, in one call. */
static inline void sha256_hex_of(const void *data, size_t n, char hex[65])
{
    sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, data, n);
    sha256_hex(&c, hex);
}

#endif
