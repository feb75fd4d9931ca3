/*
 * lanes_impl.h - the byte lanes of lanes.c, written once for any vector
 * width W (16: SSE2, 32: AVX2).  lanes.c includes it once per width with
 * V (the vector type), W, FN (the functions' target attribute), SUF (a
 * name suffix) and the operations LD, S1, EQ, GT, OR, AND, ANDN (~a & b),
 * MASK (a lane mask, bit k for byte k), SUB and SUM (the sum of the
 * unsigned byte lanes) defined.  Every lane reads the W bytes at i and the
 * two after them (the second and third byte of a lead in the last lanes),
 * and takes a block only when every byte of it is one the byte loop would
 * pass over the same way: the callers' loops decide all the rest.
 *
 * UTF-8 by masks: l (three-byte leads), l2 (two-byte leads) and c
 * (continuation bytes) must satisfy c == due_of(l, l2), with the bits
 * past the block carried into the next ("owed"); a lead whose
 * continuation bytes the next block fails is given back ("back").
 */

#define FULL (W == 32 ? 0xFFFFFFFFull : 0xFFFFull)

static inline FN V SUF(eqb)(V v, int b) { return EQ(v, S1((char)b)); }

/* Lanes below b, signed: b in 0x81..0xFF or 0x01..0x7F. */
static inline FN V SUF(ltb)(V v, int b) { return GT(S1((char)b), v); }

/* Lanes in lo..hi, signed: both in 0x01..0x7E or both in 0x81..0xFE. */
static inline FN V SUF(range)(V v, int lo, int hi)
{
    return AND(GT(v, S1((char)(lo - 1))), GT(S1((char)(hi + 1)), v));
}

/* The continuation bytes the leads of a block call for: l3's two, l2's
 * one, those past the block (bits W and up) being the next one's. */
static inline uint64_t SUF(due_of)(uint64_t l3, uint64_t l2)
{
    return l3 << 1 | l3 << 2 | l2 << 1;
}

/* The bytes of a block that break it: neither taken (ASCII the lane
 * accepts, a lead) nor a continuation byte, or a continuation byte where
 * none is due, or none where one is.  0 when the block is whole. */
static inline uint64_t SUF(wrong_of)(uint64_t taken, uint64_t c, uint64_t due)
{
    return (~(taken | c) | (c ^ due)) & FULL;
}

/* Where the lead owing the next block its continuation bytes starts,
 * counted back from the block's end (0: none). */
static inline size_t SUF(back_of)(uint64_t l3, uint64_t l2)
{
    return (l3 | l2) >> (W - 1) ? 1 : l3 >> (W - 2) & 1 ? 2 : 0;
}

/* The UTF-8 check of block v with taken ASCII lanes a, three-byte leads
 * l3 and two-byte leads l2: its wrong_of bytes, 0 when whole.  A whole
 * block passes *owed and *back on to the next; a broken one leaves them
 * as the last whole block set them. */
static inline FN uint64_t SUF(block_check)(V v, uint64_t a, uint64_t l3,
                                           uint64_t l2, uint64_t *owed,
                                           size_t *back)
{
    uint64_t due = SUF(due_of)(l3, l2);
    uint64_t wrong = SUF(wrong_of)(a | l3 | l2, MASK(SUF(ltb)(v, 0xC0)),
                                   due | *owed);
    if (!wrong) {
        *owed = due >> W;
        *back = SUF(back_of)(l3, l2);
    }
    return wrong;
}

/* Step 1 (text.c: normalize_chars): printable ASCII and '\n', two-byte
 * leads C3..C7 (U+00C0..U+01FF: pinyin's tone marks), three-byte leads
 * E4..E9 (hanzi), E3 but U+3000 (CJK punctuation, kana), EF BC 80..8F and
 * 9A..A0 (full-width punctuation, no letters or digits), E2 80 90..A7
 * (dashes, quotes, ellipsis): what keeps_char keeps. */
static FN size_t SUF(cl_plain_blocks)(const unsigned char *u, size_t i, size_t n,
                               size_t *bad)
{
    uint64_t owed = 0; /* continuation bytes due in this block, from the last */
    size_t back = 0;
    while (i + W + 2 <= n) {
        V v = LD(u + i), v1 = LD(u + i + 1), v2 = LD(u + i + 2);
        V ascii = OR(GT(v, S1(0x1F)), SUF(eqb)(v, '\n'));
        V b1x80 = SUF(eqb)(v1, 0x80);
        V lead = SUF(range)(v, 0xE4, 0xE9);
        lead = OR(lead, ANDN(AND(b1x80, SUF(eqb)(v2, 0x80)), SUF(eqb)(v, 0xE3)));
        lead = OR(lead, AND(AND(SUF(eqb)(v, 0xEF), SUF(eqb)(v1, 0xBC)),
                            OR(SUF(ltb)(v2, 0x90), SUF(range)(v2, 0x9A, 0xA0))));
        lead = OR(lead, AND(AND(SUF(eqb)(v, 0xE2), b1x80),
                            SUF(range)(v2, 0x90, 0xA7)));
        uint64_t wrong = SUF(block_check)(v, MASK(ascii), MASK(lead),
                                          MASK(SUF(range)(v, 0xC3, 0xC7)),
                                          &owed, &back);
        if (wrong) {
            *bad = i + (size_t)__builtin_ctzll(wrong);
            return i - back;
        }
        i += W;
    }
    *bad = n;
    return i - back;
}

/* The element counts (html.c: count_text), with no blank pending: ASCII
 * but blanks and controls (its eight symbols counted as punctuation),
 * leads E4..E9 (hanzi, and hexagrams: with no blank pending, no
 * punctuation either way), leads C3..C7 (letters, and x and the division
 * sign), and the commonest punctuation (cl_is_cjk_punct): 、。〈〉《》「」
 * 『』【】〔〕 and the rest of U+3014..301F (E3 80), ！（），：；＜＝＞？ (EF BC),
 * —―‘’“”… (E2 80).  A block with a blank fails at once, and the
 * punctuation is looked for only in a block the cheaper test refused.
 * Counts go to per-lane byte counters, added up every 255 blocks. */
static FN size_t SUF(cl_count_blocks)(const unsigned char *u, size_t i, size_t n,
                               long *nc, long *np, size_t *bad)
{
    uint64_t owed = 0;
    size_t back = 0;
    int back_punct = 0, steps = 0;
    const V zero = S1(0);
    V chars = zero, puncts = zero;
    *bad = n;
    while (i + W + 2 <= n) {
        V v = LD(u + i);
        uint64_t a = MASK(GT(v, S1(' ')));
        uint64_t taken = a | MASK(GT(zero, v));
        if (taken != FULL) { /* a blank or a control: the byte loop's */
            *bad = i + (size_t)__builtin_ctzll(~taken);
            break;
        }
        uint64_t c = MASK(SUF(ltb)(v, 0xC0));
        uint64_t l = MASK(SUF(range)(v, 0xE4, 0xE9)), p = 0;
        uint64_t l2 = MASK(SUF(range)(v, 0xC3, 0xC7));
        V punct = zero;
        uint64_t wrong = SUF(wrong_of)(a | l | l2, c, SUF(due_of)(l, l2) | owed);
        if (wrong) { /* punctuation, perhaps: it needs the next two bytes */
            V v1 = LD(u + i + 1), v2 = LD(u + i + 2);
            V b1x80 = SUF(eqb)(v1, 0x80);
            V e3 = AND(AND(SUF(eqb)(v, 0xE3), b1x80),
                       OR(OR(SUF(range)(v2, 0x81, 0x82), SUF(range)(v2, 0x88, 0x91)),
                          SUF(range)(v2, 0x94, 0x9F)));
            V ef = AND(AND(SUF(eqb)(v, 0xEF), SUF(eqb)(v1, 0xBC)),
                       OR(OR(SUF(eqb)(v2, 0x81), SUF(eqb)(v2, 0x8C)),
                          OR(SUF(range)(v2, 0x88, 0x89), SUF(range)(v2, 0x9A, 0x9F))));
            V e2 = AND(AND(SUF(eqb)(v, 0xE2), b1x80),
                       OR(OR(SUF(range)(v2, 0x94, 0x95), SUF(range)(v2, 0x98, 0x99)),
                          OR(SUF(range)(v2, 0x9C, 0x9D), SUF(eqb)(v2, 0xA6))));
            punct = OR(OR(e3, ef), e2);
            p = MASK(punct);
            l |= p;
            wrong = SUF(wrong_of)(a | l | l2, c, SUF(due_of)(l, l2) | owed);
            if (wrong) {
                *bad = i + (size_t)__builtin_ctzll(wrong);
                break;
            }
        }
        if (a) /* the ASCII symbols */
            punct = OR(punct, OR(OR(OR(SUF(eqb)(v, ','), SUF(eqb)(v, '.')),
                                    OR(SUF(eqb)(v, '!'), SUF(eqb)(v, '?'))),
                                 OR(OR(SUF(eqb)(v, ';'), SUF(eqb)(v, ':')),
                                    OR(SUF(eqb)(v, '"'), SUF(eqb)(v, '\'')))));
        /* a character per byte but continuation bytes; lanes of -1 */
        chars = SUB(chars, GT(v, S1((char)0xBF)));
        puncts = SUB(puncts, punct);
        if (++steps == 255) {
            *nc += SUM(chars);
            *np += SUM(puncts);
            chars = puncts = zero;
            steps = 0;
        }
        owed = SUF(due_of)(l, l2) >> W;
        back = SUF(back_of)(l, l2);
        back_punct = back ? (int)(p >> (W - back) & 1) : 0;
        i += W;
    }
    /* a lead whose continuation bytes were not checked: the caller's */
    *nc += SUM(chars) - (back > 0);
    *np += SUM(puncts) - back_punct;
    return i - back;
}

/* The veil's safe runs (veil.c: safe_end): safe ASCII (printable but '<',
 * '>', '&'; TAB, LF) and characters valid and safe by their first two
 * bytes: leads C2..DF, E1..EC, EE, and EF but EF B7 (U+FDD0 token marks)
 * and EF BF (U+FFFE, U+FFFF). */
static FN size_t SUF(cl_safe_blocks)(const unsigned char *s, size_t n, size_t a,
                              size_t *stop)
{
    uint64_t owed = 0;
    size_t back = 0;
    while (a + W + 1 <= n) {
        V v = LD(s + a), v1 = LD(s + a + 1);
        V ascii = ANDN(OR(OR(SUF(eqb)(v, '<'), SUF(eqb)(v, '>')), SUF(eqb)(v, '&')),
                       OR(GT(v, S1(0x1F)), OR(SUF(eqb)(v, '\t'), SUF(eqb)(v, '\n'))));
        V lead3 = OR(OR(SUF(range)(v, 0xE1, 0xEC), SUF(eqb)(v, 0xEE)),
                     ANDN(OR(SUF(eqb)(v1, 0xB7), SUF(eqb)(v1, 0xBF)), SUF(eqb)(v, 0xEF)));
        uint64_t wrong = SUF(block_check)(v, MASK(ascii), MASK(lead3),
                                          MASK(SUF(range)(v, 0xC2, 0xDF)),
                                          &owed, &back);
        if (wrong) {
            *stop = a + (size_t)__builtin_ctzll(wrong);
            return a - back;
        }
        a += W;
    }
    *stop = n;
    return a - back;
}

/* The pinyin cursor (text.c: pin_next): the first '(', "（" (EF BC 88) or,
 * when q, '?' at or after i among the blocks with two bytes after them;
 * else where the byte loop must go on. */
static FN size_t SUF(cl_pin_blocks)(const unsigned char *u, size_t i, size_t n, int q)
{
    const V qv = S1(q ? '?' : '(');
    for (; i + W + 2 <= n; i += W) {
        V v = LD(u + i), v1 = LD(u + i + 1), v2 = LD(u + i + 2);
        uint64_t m = MASK(OR(OR(SUF(eqb)(v, '('), EQ(v, qv)),
                             AND(AND(SUF(eqb)(v, 0xEF), SUF(eqb)(v1, 0xBC)),
                                 SUF(eqb)(v2, 0x88))));
        if (m)
            return i + (size_t)__builtin_ctzll(m);
    }
    return i;
}

#undef FULL
