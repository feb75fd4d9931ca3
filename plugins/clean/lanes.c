/*
 * lanes.c - the clean stage's byte loops, a block of bytes a step: the
 * bodies are in lanes_impl.h, built here for SSE2 (16 bytes; part of
 * x86-64) and for AVX2 (32 bytes; chosen at run time when the CPU has it,
 * unless cl_lanes_sse2_only is set, as the tests do to check both).
 * Elsewhere than x86-64 there are no lanes and the byte loops do it all.
 */
#include "clean.h"

#ifdef __SSE2__
#include <emmintrin.h>
#include <stdint.h>

int cl_lanes_sse2_only;

/* The sum of the sixteen unsigned byte lanes of v. */
static inline long sum16(__m128i v)
{
    v = _mm_sad_epu8(v, _mm_setzero_si128());
    return _mm_cvtsi128_si32(v) + _mm_cvtsi128_si32(_mm_srli_si128(v, 8));
}

#define V __m128i
#define W 16
#define FN
#define SUF(name) name##_sse2
#define LD(p) _mm_loadu_si128((const __m128i *)(const void *)(p))
#define S1(b) _mm_set1_epi8(b)
#define EQ _mm_cmpeq_epi8
#define GT _mm_cmpgt_epi8
#define OR _mm_or_si128
#define AND _mm_and_si128
#define ANDN _mm_andnot_si128
#define MASK(v) ((uint64_t)(unsigned)_mm_movemask_epi8(v))
#define SUB _mm_sub_epi8
#define SUM(v) sum16(v)
#include "lanes_impl.h"
#undef V
#undef W
#undef FN
#undef SUF
#undef LD
#undef S1
#undef EQ
#undef GT
#undef OR
#undef AND
#undef ANDN
#undef MASK
#undef SUB
#undef SUM

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HAVE_AVX2 1

/* The sum of the 32 unsigned byte lanes of v. */
__attribute__((target("avx2"))) static inline long sum32(__m256i v)
{
    v = _mm256_sad_epu8(v, _mm256_setzero_si256());
    __m128i s = _mm_add_epi64(_mm256_castsi256_si128(v),
                              _mm256_extracti128_si256(v, 1));
    return (long)(_mm_cvtsi128_si64(s) + _mm_cvtsi128_si64(_mm_srli_si128(s, 8)));
}

#define V __m256i
#define W 32
#define FN __attribute__((target("avx2")))
#define SUF(name) name##_avx2
#define LD(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define S1(b) _mm256_set1_epi8(b)
#define EQ _mm256_cmpeq_epi8
#define GT _mm256_cmpgt_epi8
#define OR _mm256_or_si256
#define AND _mm256_and_si256
#define ANDN _mm256_andnot_si256
#define MASK(v) ((uint64_t)(uint32_t)_mm256_movemask_epi8(v))
#define SUB _mm256_sub_epi8
#define SUM(v) sum32(v)
#include "lanes_impl.h"
#endif

/* AVX2 when the CPU has it and the tests did not ask for SSE2. */
static inline int wide(void)
{
#ifdef HAVE_AVX2
    return !cl_lanes_sse2_only && __builtin_cpu_supports("avx2");
#else
    return 0;
#endif
}

/* Each runs the AVX2 lanes first when it may, then the SSE2 ones from
 * where they stopped (a character boundary): those take the rest that is
 * shorter than an AVX2 block, and at most one block more before the byte
 * that stopped AVX2, which stops them too. */
size_t cl_plain_blocks(const unsigned char *u, size_t i, size_t n, size_t *bad)
{
#ifdef HAVE_AVX2
    if (wide())
        i = cl_plain_blocks_avx2(u, i, n, bad);
#endif
    return cl_plain_blocks_sse2(u, i, n, bad);
}

size_t cl_count_blocks(const unsigned char *u, size_t i, size_t n, long *nc,
                       long *np, size_t *bad)
{
#ifdef HAVE_AVX2
    if (wide())
        i = cl_count_blocks_avx2(u, i, n, nc, np, bad);
#endif
    return cl_count_blocks_sse2(u, i, n, nc, np, bad);
}

size_t cl_safe_blocks(const unsigned char *s, size_t n, size_t a, size_t *stop)
{
#ifdef HAVE_AVX2
    if (wide())
        a = cl_safe_blocks_avx2(s, n, a, stop);
#endif
    return cl_safe_blocks_sse2(s, n, a, stop);
}

size_t cl_pin_blocks(const unsigned char *u, size_t i, size_t n, int q)
{
#ifdef HAVE_AVX2
    if (wide())
        i = cl_pin_blocks_avx2(u, i, n, q);
#endif
    return cl_pin_blocks_sse2(u, i, n, q);
}
#endif
