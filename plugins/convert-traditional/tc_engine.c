/*
 * tc_engine.c - single-pass OpenCC conversion over the embedded data.
 *
 * How one configuration runs (tc_format.h has the data layout):
 *
 *   at each position, the segmentation trie is walked from the character's
 *   entry; a match emits the precomputed chain output of the whole key;
 *   otherwise a "simple" character emits its precomputed output; otherwise
 *   the rest of the unsegmented run (up to the next segmentation match) is
 *   converted by OpenCC's own stage-by-stage algorithm (slow_run).
 *
 */
#include "tc_engine.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "taojin/stage.h"
#include "tc_format.h"

extern const unsigned char tc__blob_start[], tc__blob_end[];

#define OUT_SLACK 1024
/* Off the hot loop: kept out of line so its registers stay its own. */
#define TC_COLD __attribute__((noinline)) /* bytes the hot loop may write without checking */

/* ---- the loaded data ------------------------------------------------------ */

typedef struct trie {
    const uint64_t *hash;
    uint32_t mask;
    const uint64_t *nodes; /* info word | child filter << 32 */
    uint32_t n_nodes;
    uint32_t max_chars; /* longest key, in characters */
    const uint64_t *bigram; /* filter of the first two characters */
    uint32_t bigram_log2;
} trie;

typedef struct config {
    const char *name;
    trie seg;
    const uint16_t *pages;
    const uint32_t *entries;
    const tc_cp_side *side;
    uint32_t n_side;
    size_t resync; /* simple characters after which all stages align */
    int ascii_plain;
    int few_sides; /* most characters need no look-ahead (the t2s kind) */
    int n_stages;
    int stage_len[TC_MAX_STAGES];
    const trie *stage[TC_MAX_STAGES][TC_MAX_GROUP];
    const uint16_t *stage_pages[TC_MAX_STAGES]; /* pages of entries */
    const tc_lone *lone;
    uint32_t n_lone;
} config;

static struct {
    const unsigned char *base;
    const unsigned char *pool;
    const uint16_t *class_pages;
    const uint8_t *class_entries;
    int n_configs, n_dicts;
    config configs[64];
    trie dicts[64];
    int tw2t, hk2t, tw2s, hk2s, t2s;
    int ascii_classless; /* no ASCII character has a class bit */
    uint8_t bmp_class[0x10000]; /* char_class of the BMP, flat */
    /* bmp_class of a well-formed three-byte sequence, indexed by its
     * bytes as they sit in a little-endian 4-byte load (tri_index: no
     * shifting the code point together), and TRI_BAD where the value is an
     * overlong form or a surrogate (not a character: tc_utf8_decode
     * rejects the sequence). */
    uint8_t tri_class[1u << 18];
    const char *why; /* NULL when the data is good */
} D;

static pthread_once_t data_once = PTHREAD_ONCE_INIT;

#define TRI_BAD 0x80u /* see D.tri_class; no class bit is this high */

/* D.tri_class's index for the three-byte sequence loaded little-endian in
 * v (lead 1110xxxx, then two 10xxxxxx): the lead's 4 bits above the two
 * continuation bytes' 6 bits, as they lie. */
static inline uint32_t tri_index(uint32_t v)
{
    uint32_t x = v & 0x3F3F0Fu;
    return (x >> 8) | (x & 0x0Fu) << 14;
}

static int in_blob(uint32_t off, uint64_t bytes, uint32_t size)
{
    return off <= size && bytes <= (uint64_t)size - off && off % 8 == 0;
}

static int trie_load(const tc_trie_desc *t, uint32_t size, trie *out)
{
    if ((t->hash_mask & (t->hash_mask + 1)) != 0 ||
        !in_blob(t->hash_off, ((uint64_t)t->hash_mask + 1) * 8, size) ||
        !in_blob(t->nodes_off, (uint64_t)t->n_nodes * 8, size) ||
        t->n_nodes == 0)
        return -1;
    out->hash = (const uint64_t *)(D.base + t->hash_off);
    out->mask = t->hash_mask;
    out->nodes = (const uint64_t *)(D.base + t->nodes_off);
    out->n_nodes = t->n_nodes;
    return 0;
}

static int config_load(const tc_config_desc *c, uint32_t size, config *out)
{
    if (c->seg_dict >= (uint32_t)D.n_dicts || c->n_stages == 0 ||
        c->n_stages > TC_MAX_STAGES || trie_load(&c->seg, size, &out->seg) ||
        !in_blob(c->cp_pages_off, TC_NPAGES * 2, size) ||
        c->name[TC_NAME_MAX - 1] != 0)
        return -1;
    if (!in_blob(c->side_off, (uint64_t)c->n_side * sizeof(tc_cp_side), size))
        return -1;
    out->seg.bigram = D.dicts[c->seg_dict].bigram;
    out->seg.bigram_log2 = D.dicts[c->seg_dict].bigram_log2;
    out->name = c->name;
    out->pages = (const uint16_t *)(D.base + c->cp_pages_off);
    out->entries = (const uint32_t *)(D.base + c->cp_entries_off);
    out->side = (const tc_cp_side *)(D.base + c->side_off);
    if (!in_blob(c->lone_off, (uint64_t)c->n_lone * sizeof(tc_lone), size))
        return -1;
    out->lone = (const tc_lone *)(D.base + c->lone_off);
    out->n_lone = c->n_lone;
    out->n_side = c->n_side;
    /* s2t and its kin have side records for ~3.6k characters (STPhrases
     * starts at most common Simplified characters): for them the
     * three-byte loop of piece_impl would mostly stop at once. */
    out->few_sides = c->n_side < 1024;
    out->ascii_plain = (c->flags & TC_CFG_ASCII_PLAIN) != 0;
    out->n_stages = (int)c->n_stages;
    out->resync = c->resync;
    for (uint32_t s = 0; s < c->n_stages; s++) {
        if (c->stage_len[s] == 0 || c->stage_len[s] > TC_MAX_GROUP)
            return -1;
        out->stage_len[s] = (int)c->stage_len[s];
        if (!in_blob(c->stage_pages_off[s], TC_NPAGES * 2, size))
            return -1;
        out->stage_pages[s] = (const uint16_t *)(D.base + c->stage_pages_off[s]);
        for (uint32_t g = 0; g < c->stage_len[s]; g++) {
            if (c->stage_dict[s][g] >= (uint32_t)D.n_dicts)
                return -1;
            out->stage[s][g] = &D.dicts[c->stage_dict[s][g]];
        }
    }
    return 0;
}

static int find_config(const char *name)
{
    for (int i = 0; i < D.n_configs; i++)
        if (strcmp(D.configs[i].name, name) == 0)
            return i;
    return -1;
}

/* Checks the header and resolves every section into D (run once). */
static void data_load(void)
{
    const tc_header *h = (const tc_header *)tc__blob_start;
    size_t have = (size_t)(tc__blob_end - tc__blob_start);
    D.base = tc__blob_start;
    if (have < sizeof *h || memcmp(h->magic, TC_MAGIC, 8) != 0 ||
        h->version != TC_FORMAT_VERSION || h->size != have) {
        D.why = "embedded dictionary data is missing or of another version";
        return;
    }
    D.why = "embedded dictionary data is corrupt";
    if (h->n_dicts > 64 || h->n_configs > 64 ||
        !in_blob(h->dicts_off, (uint64_t)h->n_dicts * sizeof(tc_dict_desc),
                 h->size) ||
        !in_blob(h->configs_off,
                 (uint64_t)h->n_configs * sizeof(tc_config_desc), h->size) ||
        !in_blob(h->pool_off, (uint64_t)h->pool_size + TC_POOL_SLACK,
                 h->size) ||
        !in_blob(h->class_pages_off, TC_NPAGES * 2, h->size))
        return;
    D.pool = D.base + h->pool_off;
    D.class_pages = (const uint16_t *)(D.base + h->class_pages_off);
    D.class_entries = D.base + h->class_entries_off;
    D.n_dicts = (int)h->n_dicts;
    const tc_dict_desc *dd = (const tc_dict_desc *)(D.base + h->dicts_off);
    for (int i = 0; i < D.n_dicts; i++) {
        if (trie_load(&dd[i].trie, h->size, &D.dicts[i]) ||
            dd[i].bigram_log2 < 6 || dd[i].bigram_log2 > 24 ||
            !in_blob(dd[i].bigram_off, (1ull << dd[i].bigram_log2) / 8,
                     h->size))
            return;
        D.dicts[i].max_chars = dd[i].max_key_chars;
        D.dicts[i].bigram = (const uint64_t *)(D.base + dd[i].bigram_off);
        D.dicts[i].bigram_log2 = dd[i].bigram_log2;
    }
    const tc_config_desc *cd = (const tc_config_desc *)(D.base + h->configs_off);
    D.n_configs = (int)h->n_configs;
    for (int i = 0; i < D.n_configs; i++)
        if (config_load(&cd[i], h->size, &D.configs[i]))
            return;
    D.why = NULL;
    for (uint32_t c = 0; c < 0x10000; c++)
        D.bmp_class[c] =
            D.class_entries[(size_t)D.class_pages[c >> 8] * 256 + (c & 255)];
    for (uint32_t c = 0; c < 0x10000; c++) {
        uint32_t v = 0xE0u | c >> 12 | (0x80u | (c >> 6 & 0x3F)) << 8 |
                     (0x80u | (c & 0x3F)) << 16;
        D.tri_class[tri_index(v)] =
            c < 0x800 || (c >= 0xD800 && c < 0xE000) ? TRI_BAD
                                                     : D.bmp_class[c];
    }
    D.ascii_classless = 1;
    for (uint32_t c = 0; c < 0x80; c++)
        if (D.bmp_class[c])
            D.ascii_classless = 0;
    D.tw2t = find_config("tw2t");
    D.hk2t = find_config("hk2t");
    D.tw2s = find_config("tw2s");
    D.hk2s = find_config("hk2s");
    D.t2s = find_config("t2s");
    if (D.tw2t < 0 || D.hk2t < 0 || D.tw2s < 0 || D.hk2s < 0 || D.t2s < 0)
        D.why = "embedded data lacks t2s, tw2s, hk2s, tw2t or hk2t";
}

int tc_data_check(const char **why)
{
    pthread_once(&data_once, data_load);
    if (why)
        *why = D.why;
    return D.why ? TJ_EIO : 0;
}

int tc_config_find(const char *name)
{
    return tc_data_check(NULL) ? -1 : find_config(name);
}

const char *tc_config_name(int idx)
{
    if (tc_data_check(NULL) || idx < 0 || idx >= D.n_configs)
        return NULL;
    return D.configs[idx].name;
}

int tc_config_count(void)
{
    return tc_data_check(NULL) ? 0 : D.n_configs;
}

/* ---- output ------------------------------------------------------------ */

void tc_out_free(tc_out *o)
{
    free(o->buf);
    memset(o, 0, sizeof *o);
}

/* Makes room for `need` more bytes plus OUT_SLACK; 0 or TJ_ENOMEM. */
static int out_reserve(tc_out *o, size_t need)
{
    size_t want = o->len + need + OUT_SLACK, cap;
    char *p;
    if (want < need)
        return TJ_ENOMEM;
    if (o->buf && want <= o->cap)
        return 0;
    cap = o->cap ? o->cap : 256;
    while (cap < want) {
        if (cap > SIZE_MAX / 2)
            return TJ_ENOMEM;
        cap *= 2;
    }
    p = realloc(o->buf, cap);
    if (!p)
        return TJ_ENOMEM;
    o->buf = p;
    o->cap = cap;
    return 0;
}

static int out_add(tc_out *o, const void *s, size_t n)
{
    if (out_reserve(o, n))
        return TJ_ENOMEM;
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = 0;
    return 0;
}

/* Appends the pool string at ref (a length byte, then the bytes). */
static inline char *emit_ref(char *w, uint32_t ref)
{
    const unsigned char *s = D.pool + ref;
    size_t n = s[0];
    memcpy(w, s + 1, 16);
    if (n > 16)
        memcpy(w + 16, s + 17, n - 16);
    return w + n;
}

/* ---- tries ----------------------------------------------------------- */

static inline uint32_t trie_child(const trie *t, uint32_t node, uint32_t cp)
{
    uint64_t want = ((uint64_t)node << 21) | cp;
    uint32_t i = tc_hash_slot(node, cp, t->mask);
    for (;; i = (i + 1) & t->mask) {
        uint64_t s = t->hash[i];
        if (!s)
            return 0;
        if ((s & ((1ull << 42) - 1)) == want)
            return (uint32_t)(s >> 42);
    }
}

/* Longest key of t starting at p, whose first character (n bytes) led to
 * `node`.  Returns the key's length in bytes (0: none) and its node's info
 * word in *info. */
static inline size_t trie_walk(const trie *t, uint32_t node, unsigned n,
                               const unsigned char *p,
                               const unsigned char *end, uint32_t *info)
{
    const unsigned char *q = p + n;
    uint64_t in = t->nodes[node];
    size_t best = 0;
    if (in & TC_INFO_REF) {
        best = n;
        *info = (uint32_t)in;
    }
    while ((in & TC_INFO_CHILD) && q < end) {
        unsigned l;
        uint32_t c = tc_utf8_decode(q, end, &l);
        if (c == TC_INVALID || !((in >> 32) >> tc_filter_bit(c) & 1) ||
            !(node = trie_child(t, node, c)))
            break;
        q += l;
        in = t->nodes[node];
        if (in & TC_INFO_REF) {
            best = (size_t)(q - p);
            *info = (uint32_t)in;
        }
    }
    return best;
}

/* Longest key of t at p (any first character); as trie_walk. */
static size_t trie_longest(const trie *t, const unsigned char *p,
                           const unsigned char *end, uint32_t *info)
{
    unsigned n;
    uint32_t c = tc_utf8_decode(p, end, &n), node;
    if (c == TC_INVALID || !((t->nodes[0] >> 32) >> tc_filter_bit(c) & 1) ||
        !(node = trie_child(t, 0, c)))
        return 0;
    return trie_walk(t, node, n, p, end, info);
}

/* Longest segmentation key at p, whose first character c (n bytes) has
 * side node `node` (TC_NODE_KEY flag included); as trie_walk.  When c
 * alone is no key, a key needs the next character to pass the bigram
 * filter, which settles most positions without touching the trie. */
static inline size_t seg_match(const config *cf, uint32_t c, uint32_t node,
                               unsigned n, const unsigned char *p,
                               const unsigned char *end, uint32_t *info)
{
    if (!(node & TC_NODE_KEY)) {
        unsigned l;
        uint32_t c2, b;
        if (p + n >= end)
            return 0;
        c2 = tc_utf8_decode(p + n, end, &l);
        b = tc_bigram_bit(c, c2, cf->seg.bigram_log2);
        if (c2 == TC_INVALID || !(cf->seg.bigram[b >> 6] >> (b & 63) & 1))
            return 0;
    }
    return trie_walk(&cf->seg, node & ~(uint32_t)TC_NODE_KEY, n, p, end,
                     info);
}

static inline uint32_t cp_entry(const config *cf, uint32_t c)
{
    return cf->entries[(size_t)cf->pages[c >> 8] * 256 + (c & 255)];
}

/* What the table says about character c: its segmentation node (0: none)
 * and its output word (TC_OUT_* flags | pool offset; no TC_OUT_SIMPLE: the
 * slow path).  For the inline kinds only TC_OUT_SIMPLE is meaningful: the
 * hot loop handles those itself. */
static inline tc_cp_side cp_side(const config *cf, uint32_t e)
{
    tc_cp_side sd = {TC_OUT_SIMPLE, 0};
    uint32_t kind = e >> 24;
    if (kind == TC_CP_SIDE)
        return cf->side[e & 0xFFFFFF];
    if (kind == TC_CP_POOL)
        sd.out |= TC_OUT_CHANGED | (e & 0xFFFFFF);
    return sd; /* inline kinds: simple (their output is not needed here) */
}

/* ---- three-byte entry tables --------------------------------------------- */

/* A configuration's code-point entries for the three-byte characters,
 * indexed like D.tri_class by the bytes as loaded (tri_index), so the
 * three-byte loop of piece_impl needs neither the code point nor the
 * two-level lookup: one index computation and one load per character.
 * TRI_ENTRY_BAD marks an overlong form or a surrogate (no entry has that
 * kind).  1 MiB each, built when piece_impl first converts with the
 * configuration (a pipeline that only ever meets Simplified text under
 * `auto` builds none) and kept for the life of the process (like the data
 * it is derived from); when it cannot be built, piece_impl does without
 * its three-byte loop and the output is the same. */
#define TRI_ENTRY_BAD 0xFF000000u
#define TRI_SLOTS (1u << 18)

static struct {
    pthread_mutex_t lock;
    const uint32_t *entries[64]; /* by configuration index; atomic */
} T = {PTHREAD_MUTEX_INITIALIZER, {NULL}};

/* The three-byte table of configuration idx, or NULL when not built. */
static inline const uint32_t *tri_entries(int idx)
{
    return __atomic_load_n(&T.entries[idx], __ATOMIC_ACQUIRE);
}

/* Fills t's slots for the code points hi << 8 .. hi << 8 | 0xFF.  Their
 * three-byte forms share the lead byte and the high bits of the second
 * byte: code point hi << 8 | q << 6 | r has slot base + q + (r << 8), so
 * the page is copied four entries at a time, without assembling a
 * sequence per code point. */
static void tri_page(const config *cf, uint32_t hi, uint32_t *t)
{
    const uint32_t *src = cf->entries + (size_t)cf->pages[hi] * 256;
    uint32_t base = (hi & 0x0Fu) << 2 | (hi >> 4) << 14;
    int bad = hi < 0x08 || (hi >= 0xD8 && hi < 0xE0); /* overlong, surrogate */
    for (uint32_t r = 0; r < 64; r++) {
        uint32_t *d = t + base + (r << 8);
        if (bad) {
            d[0] = d[1] = d[2] = d[3] = TRI_ENTRY_BAD;
        } else {
            d[0] = src[r];
            d[1] = src[64 + r];
            d[2] = src[128 + r];
            d[3] = src[192 + r];
        }
    }
}

/* The three-byte table of configuration idx, built first if need be;
 * NULL when the configuration would not use one (few_sides unset) or out
 * of memory (which only costs speed). */
static const uint32_t *tri_entries_get(int idx)
{
    const config *cf = &D.configs[idx];
    const uint32_t *have = tri_entries(idx);
    uint32_t *t;
    if (have || !cf->few_sides)
        return have;
    pthread_mutex_lock(&T.lock);
    if (!T.entries[idx] && (t = calloc(TRI_SLOTS, sizeof *t)) != NULL) {
        for (uint32_t hi = 0; hi < 0x100; hi++)
            tri_page(cf, hi, t);
        __atomic_store_n(&T.entries[idx], t, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&T.lock);
    return tri_entries(idx);
}

/* ---- converters --------------------------------------------------------- */

/* Where tc_detect found characters of a class: cut[i] is a byte offset,
 * text[i] the text it is in (both ascending). */
typedef struct cuts {
    size_t *cut, *text;
    size_t n, cap;
} cuts;

struct tc_conv {
    const config *cf;
    const tc_userdict *ud;
    int protect;
    tc_out a, b, scratch; /* slow-path stages; tc_detect */
    cuts simp, tw, hk;    /* tc_detect's positions, reused from call to call */
    /* tc_convert_known: the Simplified-only characters of the text being
     * converted still ahead (offsets from known_base), else NULL. */
    const size_t *known;
    size_t n_known;
    const unsigned char *known_base;
    int cuts_valid; /* simp, tw, hk are those of the last tc_detect */
};

int tc_conv_new(int cfg, const tc_userdict *ud, int protect, tc_conv **out)
{
    tc_conv *cv;
    *out = NULL;
    if (tc_data_check(NULL) || cfg < 0 || cfg >= D.n_configs)
        return TJ_EINVAL;
    cv = calloc(1, sizeof *cv);
    if (!cv)
        return TJ_ENOMEM;
    cv->cf = &D.configs[cfg];
    cv->ud = ud;
    cv->protect = protect;
    *out = cv;
    return 0;
}

int tc_conv_set(tc_conv *cv, int cfg, int protect)
{
    if (cfg < 0 || cfg >= D.n_configs)
        return TJ_EINVAL;
    cv->cf = &D.configs[cfg];
    cv->protect = protect;
    return 0;
}

void tc_conv_free(tc_conv *cv)
{
    if (!cv)
        return;
    tc_out_free(&cv->a);
    tc_out_free(&cv->b);
    tc_out_free(&cv->scratch);
    free(cv->simp.cut);
    free(cv->simp.text);
    free(cv->tw.cut);
    free(cv->tw.text);
    free(cv->hk.cut);
    free(cv->hk.text);
    free(cv);
}

/* Copies n input bytes to w; short ones without a call. */
static inline char *copy_bytes(char *w, const unsigned char *p, size_t n)
{
    if (n <= 4) {
        for (size_t i = 0; i < n; i++)
            w[i] = (char)p[i];
        return w + n;
    }
    memcpy(w, p, n);
    return w + n;
}

/* The longest key at p of the first dictionary of stage k's group with a
 * key there (Conversion::Convert's lookup); its length, 0 when none. */
static size_t group_match(const config *cf, int k, const unsigned char *p,
                          const unsigned char *end, uint32_t *info)
{
    size_t m = 0;
    for (int g = 0; g < cf->stage_len[k] && !m; g++)
        m = trie_longest(cf->stage[k][g], p, end, info);
    return m;
}

/* One OpenCC stage over in[0..len), appended to o (Conversion::Convert):
 * at each position the first dictionary of the group with a key there
 * gives its longest key's first value; elsewhere the character is copied.
 * The stage's table answers for every character at which no key of two or
 * more characters can match; the tries are walked only at the others.
 * Counts bytes that are not UTF-8 in *invalid when it is not NULL. */
TC_COLD static int stage_run(const config *cf, int k, const unsigned char *in,
                     size_t len, tc_out *o, size_t *invalid)
{
    const unsigned char *p = in, *end = in + len;
    const uint16_t *pages = cf->stage_pages[k];
    const uint32_t *entries = cf->entries;
    char *w, *wend;
    if (out_reserve(o, len + len / 4))
        return TJ_ENOMEM;
    w = o->buf + o->len;
    wend = o->buf + o->cap - OUT_SLACK;
    while (p < end) {
        unsigned n;
        uint32_t c, e, kind, info;
        size_t m;
        if (w >= wend) {
            o->len = (size_t)(w - o->buf);
            if (out_reserve(o, (size_t)(end - p) + 4096))
                return TJ_ENOMEM;
            w = o->buf + o->len;
            wend = o->buf + o->cap - OUT_SLACK;
        }
        c = tc_utf8_decode(p, end, &n);
        if (c == TC_INVALID) {
            if (invalid)
                (*invalid)++;
            *w++ = (char)*p++;
            continue;
        }
        e = entries[(size_t)pages[c >> 8] * 256 + (c & 255)];
        kind = e >> 24;
        if (kind - 1 < 7) {
            memcpy(w, &e, 4);
            w += kind & 3;
        } else if (e == 0) {
            w = copy_bytes(w, p, n);
        } else if (kind == TC_CP_POOL) {
            w = emit_ref(w, e & 0xFFFFFF);
        } else if ((m = group_match(cf, k, p, end, &info)) != 0) {
            w = emit_ref(w, info & TC_INFO_REF);
            n = (unsigned)m;
        } else {
            w = copy_bytes(w, p, n);
        }
        p += n;
    }
    o->len = (size_t)(w - o->buf);
    o->buf[o->len] = 0;
    return 0;
}

/* The rest of an unsegmented run, in[0..len), through every stage, appended
 * to o (the last stage writes there directly).  Counts one change when the
 * text changed. */
TC_COLD static int slow_run(tc_conv *cv, const unsigned char *in, size_t len,
                    tc_out *o)
{
    const config *cf = cv->cf;
    const unsigned char *src = in;
    size_t srclen = len, start = o->len;
    tc_out *dst = &cv->a, *other = &cv->b;
    for (int k = 0; k < cf->n_stages; k++) {
        tc_out *to = k == cf->n_stages - 1 ? o : dst;
        if (to != o)
            to->len = 0;
        if (stage_run(cf, k, src, srclen, to, k == 0 ? &o->invalid : NULL))
            return TJ_ENOMEM;
        src = (const unsigned char *)dst->buf;
        srclen = dst->len;
        tc_out *t = dst;
        dst = other;
        other = t;
    }
    if (o->len - start != len || memcmp(o->buf + start, in, len) != 0)
        o->changes++;
    return 0;
}

/* Stage k's table entry for character c. */
static inline uint32_t stage_entry(const config *cf, int k, uint32_t c)
{
    return cf->entries[(size_t)cf->stage_pages[k][c >> 8] * 256 + (c & 255)];
}

/* Whether the bigram filter of some dictionary of stage k's group has the
 * pair c1 c2. */
static inline int stage_bigram(const config *cf, int k, uint32_t c1,
                               uint32_t c2)
{
    for (int g = 0; g < cf->stage_len[k]; g++) {
        const trie *t = cf->stage[k][g];
        uint32_t b = tc_bigram_bit(c1, c2, t->bigram_log2);
        if (t->bigram[b >> 6] >> (b & 63) & 1)
            return 1;
    }
    return 0;
}

enum { NEXT_NONE = 0xFFFFFFFEu };

/* The character at p (n bytes) is not simple, every stage is in step at
 * p, and `side_out` is its side entry's out word.  When no stage can start
 * a key of two or more characters on its image (the image through the
 * earlier stages, converted a character at a time: its tc_lone record),
 * it converts on its own: its output is written to w and the new w
 * returned.  Otherwise returns NULL and the slow path takes over.
 *
 * Where a key of stage k may start at the image's last character
 * (check[k]), its second character would be the first of the next
 * character's image entering stage k.  That is followed here while the
 * next character converts a character at a time (its stage entries are
 * not walks; else NULL), and the pair is tested against the bigram
 * filters of the stage's dictionaries. */
TC_COLD static char *lone_char(const config *cf, uint32_t side_out,
                       const unsigned char *p, unsigned n,
                       const unsigned char *end, char *w)
{
    uint32_t idx = (side_out >> 8) & 0x3FFFFF, y = NEXT_NONE;
    int ky = 0; /* y is the first character of the image entering ky */
    const tc_lone *l;
    if (idx == 0 || idx > cf->n_lone)
        return NULL;
    l = &cf->lone[idx - 1];
    if (l->out & TC_LONE_NEVER)
        return NULL;
    if (p + n < end) {
        unsigned yl;
        y = tc_utf8_decode(p + n, end, &yl);
        if (y == TC_INVALID) /* never part of a key */
            y = NEXT_NONE;
    }
    for (int k = 0; k < cf->n_stages && y != NEXT_NONE; k++) {
        if (!l->check[k])
            continue;
        for (; ky < k; ky++) {
            uint32_t e = stage_entry(cf, ky, y), kind = e >> 24;
            const unsigned char *s;
            unsigned char inl[4];
            size_t m;
            unsigned yl;
            if (e == 0)
                continue; /* copied */
            if (kind - 1 < 7) {
                memcpy(inl, &e, 4);
                s = inl;
                m = kind & 3;
            } else if (kind == TC_CP_POOL) {
                s = D.pool + (e & 0xFFFFFF) + 1;
                m = s[-1];
            } else {
                return NULL; /* a key may start there: output unknown */
            }
            if (m == 0)
                return NULL; /* deleted: what follows is unknown */
            y = tc_utf8_decode(s, s + m, &yl);
        }
        if (stage_bigram(cf, k, l->check[k], y))
            return NULL;
    }
    if (l->out & TC_OUT_CHANGED)
        return emit_ref(w, l->out & 0xFFFFFF);
    return copy_bytes(w, p, n);
}

/* Where the slow path that began before p may stop: at the next position
 * where a segmentation key matches (the run ends), or once `need` more
 * characters are taken in and every character not simple among them has
 * its reach (the characters after it that a match it starts, and the
 * matches that one causes in later stages, can span) inside too: there
 * every stage is back at a character boundary (see README.md). */
TC_COLD static const unsigned char *slow_end(const config *cf, const unsigned char *p,
                                     const unsigned char *end, size_t need)
{
    while (p < end && need > 0) {
        unsigned n;
        uint32_t c = tc_utf8_decode(p, end, &n), info;
        need--;
        if (c != TC_INVALID) {
            tc_cp_side sd = cp_side(cf, cp_entry(cf, c));
            if (sd.node && seg_match(cf, c, sd.node, n, p, end, &info))
                return p;
            if (!(sd.out & TC_OUT_SIMPLE) && (sd.out & 0xFF) > need)
                need = sd.out & 0xFF;
        }
        p += n;
    }
    return p;
}

static inline int char_class(uint32_t c)
{
    if (c < 0x10000)
        return D.bmp_class[c];
    return D.class_entries[(size_t)D.class_pages[c >> 8] * 256 + (c & 255)];
}

/* tc_utf8_decode with a shortcut for the common case, a three-byte
 * character with a byte to spare after it: one 4-byte load, one mask test
 * for the lead and continuation bytes, then the overlong and surrogate
 * checks.  Same results as tc_utf8_decode. */
static inline uint32_t decode_fast(const unsigned char *p,
                                   const unsigned char *end, unsigned *len)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (end - p >= 4) {
        uint32_t v, c;
        memcpy(&v, p, 4);
        if ((v & 0xC0C0F0u) == 0x8080E0u) {
            c = ((v & 0x0Fu) << 12) | ((v >> 2) & 0xFC0u) |
                ((v >> 16) & 0x3Fu);
            if (c >= 0x800 && c - 0xD800 >= 0x800) {
                *len = 3;
                return c;
            }
        }
    }
#endif
    return tc_utf8_decode(p, end, len);
}

/* The first Simplified-only character in p[0..end), or end. */
static const unsigned char *next_protected(const unsigned char *p,
                                           const unsigned char *end)
{
    while (p < end) {
        unsigned n;
        uint32_t c = decode_fast(p, end, &n);
        if (c != TC_INVALID && (char_class(c) & TC_CLASS_SIMP))
            return p;
        p += n;
    }
    return end;
}

/* next_protected from the positions tc_detect recorded: the first one at
 * or after p, or end.  Positions behind p are dropped (the callers move
 * forward only). */
static const unsigned char *next_known(tc_conv *cv, const unsigned char *p,
                                       const unsigned char *end)
{
    while (cv->n_known && cv->known_base + cv->known[0] < p) {
        cv->known++;
        cv->n_known--;
    }
    if (cv->n_known && cv->known_base + cv->known[0] < end)
        return cv->known_base + cv->known[0];
    return end;
}

/* The code point of the well-formed three-byte sequence loaded
 * little-endian in v. */
static inline uint32_t tri_code_point(uint32_t v)
{
    return ((v & 0x0Fu) << 12) | ((v >> 2) & 0xFC0u) | ((v >> 16) & 0x3Fu);
}

/* How many input bytes piece_impl's three-byte loop may start characters
 * in, with `left` input bytes left and `room` output bytes before the
 * slack: a character starts only where a 4-byte load stays inside the
 * input, and writes at most as many bytes as it reads. */
static inline size_t tight_span(size_t left, size_t room)
{
    size_t span = left > 3 ? left - 3 : 0;
    return span < room ? span : room;
}

/* piece_impl's three-byte loop: converts the three-byte characters from
 * p whose output needs no look-ahead, writing at *w and counting changed
 * ones into *changes, while p < stop (stop leaves a 4-byte load inside
 * the input and room for 3 output bytes per character).  Returns where it
 * stopped: at stop, at a byte that starts no three-byte character or not
 * a character (TRI_ENTRY_BAD), or at one the general step must take,
 * setting *hit: a character with side data, or with `scan_simp` (a
 * constant) a Simplified-only one. */
static inline __attribute__((always_inline)) const unsigned char *
tight_run(const uint32_t *tri, const unsigned char *p,
          const unsigned char *stop, char **wp, size_t *changes,
          const int scan_simp, int *hit)
{
    char *w = *wp;
    size_t ch = 0;
    while (p < stop) {
        uint32_t v, x, e, k;
        memcpy(&v, p, 4);
        if ((v & 0xC0C0F0u) != 0x8080E0u)
            break;
        x = tri_index(v);
        e = tri[x];
        k = e >> 24;
        if (scan_simp && e && (D.tri_class[x] & TC_CLASS_SIMP)) {
            *hit = 1; /* protected: the general step copies it */
            break;
        }
        if (k - 1 < 7) {
            memcpy(w, &e, 4);
            w += k & 3;
            ch += k < TC_CP_SAME;
        } else if (e == 0) {
            memcpy(w, p, 4);
            w += 3;
        } else {
            *hit = e != TRI_ENTRY_BAD; /* BAD: not a character */
            break;
        }
        p += 3;
    }
    *wp = w;
    *changes += ch;
    return p;
}

/* Converts in[0..len) with the configuration alone (OpenCC's
 * Converter::Convert) and appends it to o.  With `protect` (a constant:
 * the function is instantiated twice), Simplified-only characters are
 * copied and split the text into pieces converted on their own: no key
 * and no slow run reaches past the next one (`lim`, found only when some
 * look-ahead needs it), which is what converting the pieces separately
 * gives, without a separate pass over the text.
 *
 * The loop writes as it reads, at most 255 bytes per step, and checks for
 * room once per step (OUT_SLACK covers a step).  Most characters are one
 * table load and one 4-byte store with no data-dependent branch: their
 * entry holds the output bytes whether or not they changed.  The character
 * after a segmentation-trie character is decoded once: the bigram test's
 * decode is kept for the next step. */
static inline __attribute__((always_inline)) int
piece_impl(tc_conv *cv, const unsigned char *p, size_t len, tc_out *o,
           const int protect)
{
    const config *cf = cv->cf;
    const uint16_t *pages = cf->pages;
    const uint32_t *entries = cf->entries;
    const unsigned char *end = p + len, *lim = p, *np = NULL;
    const int ascii_plain = cf->ascii_plain;
    size_t changes = 0, invalid = 0;
    uint32_t nc = 0;
    unsigned nl = 0;
    int tight = 1; /* try the three-byte loop at the next character */
    const uint32_t *tri = tri_entries_get((int)(cf - D.configs));
    const int tight_ok = tri != NULL; /* built only for few_sides */
    /* With the positions tc_detect recorded, the next protected character
     * is a pointer compare away (kp; NULL: look at each character). */
    const unsigned char *kp =
        protect && cv->known ? next_known(cv, p, end) : NULL;
    char *w, *wend;
    if (!protect)
        lim = end;
    if (out_reserve(o, len + len / 4))
        return TJ_ENOMEM;
    w = o->buf + o->len;
    wend = o->buf + o->cap - OUT_SLACK;
    while (p < end) {
        unsigned n;
        uint32_t c, e, k, info;
        size_t m;
        if (w >= wend) {
            o->len = (size_t)(w - o->buf);
            if (out_reserve(o, (size_t)(end - p) + 4096))
                goto nomem;
            w = o->buf + o->len;
            wend = o->buf + o->cap - OUT_SLACK;
        }
        if (*p < 0x80 && ascii_plain) {
            const unsigned char *q = p + 1;
            while (q < end && *q < 0x80 && q - p < OUT_SLACK / 2)
                q++;
            w = copy_bytes(w, p, (size_t)(q - p));
            p = q;
            continue;
        }
        if (tight_ok && tight && p != np && *p >= 0xE0) {
            /* Three-byte characters whose output needs no look-ahead, while
             * a 4-byte load stays inside the input and there is room: each
             * writes at most the 3 bytes it reads, so one bound covers
             * both. */
            const unsigned char *from = p;
            const unsigned char *stop =
                p + tight_span((size_t)(end - p), (size_t)(wend - w));
            int hit = 0;
            if (protect && kp) {
                /* The next protected character bounds the run instead of
                 * being compared with at each character: kp is a character
                 * start of this same walk (tc_detect stepped over the text
                 * with the same decoder, and nothing before it reaches
                 * past it), so the run stops exactly where the test
                 * would have stopped it; the general step copies it. */
                if (kp < stop)
                    stop = kp;
                p = tight_run(tri, p, stop, &w, &changes, 0, &hit);
            } else {
                p = tight_run(tri, p, stop, &w, &changes, protect, &hit);
            }
            if (hit) { /* decoded: the general step takes it */
                uint32_t v;
                memcpy(&v, p, 4);
                np = p;
                nc = tri_code_point(v);
                nl = 3;
            }
            if (p == from)
                tight = 0; /* until a character could have gone this way */
            else if (p != np && !(protect && p == kp))
                continue; /* next step: room check, ASCII, ... (a run
                             stopped at kp goes on to the general step
                             now, not after one more empty run) */
        }
        if (p == np) {
            c = nc;
            n = nl;
        } else {
            c = decode_fast(p, end, &n);
            if (c == TC_INVALID) {
                invalid++;
                *w++ = (char)*p++;
                continue;
            }
        }
        if (protect && (kp ? p == kp : (char_class(c) & TC_CLASS_SIMP))) {
            w = copy_bytes(w, p, n);
            p += n;
            if (kp)
                kp = next_known(cv, p, end);
            continue;
        }
        e = entries[(size_t)pages[c >> 8] * 256 + (c & 255)];
        k = e >> 24;
        if (k - 1 < 7) { /* inline output, changed (1..3) or not (5..7) */
            memcpy(w, &e, 4);
            w += k & 3;
            changes += k < TC_CP_SAME;
            p += n;
            tight = 1;
            continue;
        }
        if (e == 0) { /* unchanged, not stored inline */
            if (end - p >= 4) {
                memcpy(w, p, 4);
                w += n;
            } else {
                w = copy_bytes(w, p, n);
            }
            p += n;
            tight = 1;
            continue;
        }
        if (protect && lim <= p)
            lim = kp ? kp : next_protected(p + n, end);
        tc_cp_side sd = cp_side(cf, e);
        m = 0;
        if (sd.node) {
            if (sd.node & TC_NODE_KEY) {
                m = trie_walk(&cf->seg, sd.node & ~(uint32_t)TC_NODE_KEY, n,
                              p, lim, &info);
            } else if (p + n < lim) {
                unsigned l;
                uint32_t c2 = decode_fast(p + n, lim, &l);
                uint32_t b = tc_bigram_bit(c, c2, cf->seg.bigram_log2);
                if (c2 != TC_INVALID) {
                    np = p + n;
                    nc = c2;
                    nl = l;
                    if (cf->seg.bigram[b >> 6] >> (b & 63) & 1)
                        m = trie_walk(&cf->seg, sd.node, n, p, lim, &info);
                }
            }
        }
        if (m) {
            if (info & TC_INFO_CHANGED) {
                w = emit_ref(w, info & TC_INFO_REF);
                changes++;
            } else if (m <= OUT_SLACK / 2) {
                w = copy_bytes(w, p, m);
            } else {
                o->len = (size_t)(w - o->buf);
                if (out_add(o, p, m))
                    goto nomem;
                w = o->buf + o->len;
                wend = o->buf + o->cap - OUT_SLACK;
            }
            p += m;
            continue;
        }
        if (sd.out & TC_OUT_SIMPLE) {
            if (sd.out & TC_OUT_CHANGED) {
                w = emit_ref(w, sd.out & TC_INFO_REF);
                changes++;
            } else {
                w = copy_bytes(w, p, n);
            }
            p += n;
            continue;
        }
        /* A character that converts on its own after all. */
        char *nw = lone_char(cf, sd.out, p, n, lim, w);
        if (nw) {
            changes += (size_t)(nw - w) != n || memcmp(w, p, n) != 0;
            w = nw;
            p += n;
            continue;
        }
        /* The slow path, up to where every stage is in step again. */
        const unsigned char *q = slow_end(cf, p + n, lim, sd.out & 0xFF);
        o->len = (size_t)(w - o->buf);
        o->changes += changes;
        o->invalid += invalid;
        changes = invalid = 0;
        if (slow_run(cv, p, (size_t)(q - p), o) ||
            out_reserve(o, (size_t)(end - q) + 4096))
            return TJ_ENOMEM;
        w = o->buf + o->len;
        wend = o->buf + o->cap - OUT_SLACK;
        p = q;
    }
    o->len = (size_t)(w - o->buf);
    o->buf[o->len] = 0;
    o->changes += changes;
    o->invalid += invalid;
    return 0;
nomem:
    o->changes += changes;
    o->invalid += invalid;
    return TJ_ENOMEM;
}

/* Converts one piece in[0..len) with the configuration alone. */
static int convert_piece(tc_conv *cv, const unsigned char *p, size_t len,
                         tc_out *o)
{
    return piece_impl(cv, p, len, o, 0);
}

/* With protect: Simplified-only characters are copied and split the text
 * into pieces converted on their own (see piece_impl).  Otherwise one
 * piece. */
static int convert_protected(tc_conv *cv, const unsigned char *p, size_t len,
                             tc_out *o)
{
    if (!cv->protect)
        return convert_piece(cv, p, len, o);
    return piece_impl(cv, p, len, o, 1);
}

/* ---- user dictionaries ----------------------------------------------------- */

struct tc_userdict {
    uint64_t *slots;
    uint32_t mask, n_edges;
    uint32_t *val; /* per node: entry index + 1, 0 = none */
    uint32_t n_nodes, cap_nodes;
    char **keys;
    char **vals;
    size_t *val_len;
    size_t n, cap;
    uint8_t first[0x10000 / 8]; /* BMP first characters */
    int first_astral;           /* some key starts past the BMP */
};

size_t tc_userdict_size(const tc_userdict *ud) { return ud ? ud->n : 0; }

void tc_userdict_free(tc_userdict *ud)
{
    if (!ud)
        return;
    for (size_t i = 0; i < ud->n; i++) {
        free(ud->keys[i]);
        free(ud->vals[i]);
    }
    free(ud->keys);
    free(ud->vals);
    free(ud->val_len);
    free(ud->slots);
    free(ud->val);
    free(ud);
}

static uint32_t ud_child(const tc_userdict *ud, uint32_t node, uint32_t cp)
{
    uint64_t want = ((uint64_t)node << 21) | cp;
    uint32_t i = tc_hash_slot(node, cp, ud->mask);
    for (; ud->slots[i]; i = (i + 1) & ud->mask)
        if ((ud->slots[i] & ((1ull << 42) - 1)) == want)
            return (uint32_t)(ud->slots[i] >> 42);
    return 0;
}

static int ud_grow_hash(tc_userdict *ud)
{
    uint32_t old_n = ud->slots ? ud->mask + 1 : 0;
    uint32_t n = old_n ? old_n * 2 : 256;
    uint64_t *old = ud->slots, *s = calloc(n, 8);
    if (!s)
        return TJ_ENOMEM;
    ud->slots = s;
    ud->mask = n - 1;
    for (uint32_t i = 0; i < old_n; i++) {
        if (!old[i])
            continue;
        uint32_t cp = old[i] & 0x1FFFFF, parent = (old[i] >> 21) & 0x1FFFFF;
        uint32_t j = tc_hash_slot(parent, cp, ud->mask);
        while (s[j])
            j = (j + 1) & ud->mask;
        s[j] = old[i];
    }
    free(old);
    return 0;
}

static int ud_new_node(tc_userdict *ud, uint32_t *id)
{
    if (ud->n_nodes == ud->cap_nodes) {
        uint32_t cap = ud->cap_nodes * 2 + 64;
        uint32_t *v = realloc(ud->val, cap * sizeof *v);
        if (!v)
            return TJ_ENOMEM;
        ud->val = v;
        ud->cap_nodes = cap;
    }
    if (ud->n_nodes >= TC_MAX_NODES)
        return TJ_EFULL;
    ud->val[ud->n_nodes] = 0;
    *id = ud->n_nodes++;
    return 0;
}

/* Inserts key[0..n) (valid UTF-8) and returns its node in *node. */
static int ud_insert(tc_userdict *ud, const char *key, size_t n,
                     uint32_t *node)
{
    const unsigned char *p = (const unsigned char *)key, *end = p + n;
    uint32_t cur = 0;
    int rc;
    if (ud->n_nodes == 0 && (rc = ud_new_node(ud, &cur)))
        return rc;
    while (p < end) {
        unsigned l;
        uint32_t c = tc_utf8_decode(p, end, &l), child;
        child = ud->slots ? ud_child(ud, cur, c) : 0;
        if (!child) {
            if ((!ud->slots || (ud->n_edges + 1) * 2 > ud->mask + 1) &&
                (rc = ud_grow_hash(ud)))
                return rc;
            if ((rc = ud_new_node(ud, &child)))
                return rc;
            uint32_t j = tc_hash_slot(cur, c, ud->mask);
            while (ud->slots[j])
                j = (j + 1) & ud->mask;
            ud->slots[j] = ((uint64_t)child << 42) | ((uint64_t)cur << 21) | c;
            ud->n_edges++;
        }
        cur = child;
        p += l;
    }
    *node = cur;
    return 0;
}

static int is_utf8(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        unsigned l;
        if (tc_utf8_decode(p, end, &l) == TC_INVALID)
            return 0;
        p += l;
    }
    return 1;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

/* Adds one entry; TJ_EPARSE (message in *why) for a duplicate key. */
static int ud_add(tc_userdict *ud, const char *key, size_t kn,
                  const char *val, size_t vn, const char **why)
{
    uint32_t node;
    unsigned l;
    int rc;
    if (ud->n == ud->cap) {
        size_t cap = ud->cap * 2 + 16;
        char **k = realloc(ud->keys, cap * sizeof *k);
        if (k)
            ud->keys = k;
        char **v = realloc(ud->vals, cap * sizeof *v);
        if (v)
            ud->vals = v;
        size_t *vl = realloc(ud->val_len, cap * sizeof *vl);
        if (vl)
            ud->val_len = vl;
        if (!k || !v || !vl)
            return TJ_ENOMEM;
        ud->cap = cap;
    }
    if ((rc = ud_insert(ud, key, kn, &node)))
        return rc;
    if (ud->val[node]) {
        *why = "duplicate key";
        return TJ_EPARSE;
    }
    ud->keys[ud->n] = dup_n(key, kn);
    ud->vals[ud->n] = dup_n(val, vn);
    if (!ud->keys[ud->n] || !ud->vals[ud->n]) {
        free(ud->keys[ud->n]);
        free(ud->vals[ud->n]);
        return TJ_ENOMEM;
    }
    ud->val_len[ud->n] = vn;
    ud->n++;
    ud->val[node] = (uint32_t)ud->n;
    uint32_t c = tc_utf8_decode((const unsigned char *)key,
                                (const unsigned char *)key + kn, &l);
    if (c < 0x10000)
        ud->first[c >> 3] |= (uint8_t)(1u << (c & 7));
    else
        ud->first_astral = 1;
    return 0;
}

/* Parses one line (without its newline); TJ_EPARSE with *why on error. */
static int ud_line(tc_userdict *ud, const char *s, size_t n, const char **why)
{
    const char *tab, *val, *sp;
    if (n && s[n - 1] == '\r')
        n--;
    if (n == 0 || s[0] == '#')
        return 0;
    tab = memchr(s, '\t', n);
    if (!tab) {
        *why = "expected 'key<TAB>value'";
        return TJ_EPARSE;
    }
    if (tab == s) {
        *why = "empty key";
        return TJ_EPARSE;
    }
    if (!is_utf8(s, n)) {
        *why = "not UTF-8";
        return TJ_EPARSE;
    }
    val = tab + 1;
    sp = memchr(val, ' ', (size_t)(s + n - val));
    return ud_add(ud, s, (size_t)(tab - s), val,
                  (size_t)((sp ? sp : s + n) - val), why);
}

int tc_userdict_parse(const char *text, size_t len, const char *label,
                      tc_userdict **out, char **err)
{
    tc_userdict *ud = calloc(1, sizeof *ud);
    const char *p = text, *end = text + len, *why = "out of memory";
    int rc = TJ_ENOMEM, line = 0;
    *out = NULL;
    if (err)
        *err = NULL;
    if (!ud)
        goto fail;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            nl = end;
        line++;
        if ((rc = ud_line(ud, p, (size_t)(nl - p), &why)))
            goto fail;
        p = nl + 1;
    }
    *out = ud;
    return 0;
fail:
    if (err) {
        size_t n = strlen(label) + strlen(why) + 32;
        if ((*err = malloc(n)))
            snprintf(*err, n, "%s:%d: %s", label, line, why);
    }
    tc_userdict_free(ud);
    return rc == TJ_ENOMEM ? TJ_ENOMEM : TJ_EPARSE;
}

int tc_userdict_load(const char *path, tc_userdict **out, char **err)
{
    FILE *f = fopen(path, "rb");
    tc_out text = {0};
    char chunk[65536];
    size_t n;
    int rc;
    *out = NULL;
    if (err)
        *err = NULL;
    if (!f) {
        if (err && (*err = malloc(strlen(path) + 64)))
            sprintf(*err, "%s: cannot open the user dictionary", path);
        return TJ_EIO;
    }
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (out_add(&text, chunk, n)) {
            fclose(f);
            tc_out_free(&text);
            return TJ_ENOMEM;
        }
    fclose(f);
    rc = tc_userdict_parse(text.buf ? text.buf : "", text.len, path, out, err);
    tc_out_free(&text);
    return rc;
}

/* Longest user key at p; its length (0: none) and entry index in *entry. */
static size_t ud_match(const tc_userdict *ud, const unsigned char *p,
                       const unsigned char *end, size_t *entry)
{
    uint32_t node = 0;
    size_t best = 0;
    const unsigned char *q = p;
    while (q < end) {
        unsigned l;
        uint32_t c = tc_utf8_decode(q, end, &l);
        if (c == TC_INVALID || !(node = ud_child(ud, node, c)))
            break;
        q += l;
        if (ud->val[node]) {
            best = (size_t)(q - p);
            *entry = ud->val[node] - 1;
        }
    }
    return best;
}

int tc_convert(tc_conv *cv, const char *in, size_t len, tc_out *o)
{
    const unsigned char *p = (const unsigned char *)in, *end = p + len;
    const unsigned char *start = p;
    const tc_userdict *ud = cv->ud;
    if (out_reserve(o, 0))
        return TJ_ENOMEM;
    o->buf[o->len] = 0;
    if (!ud || ud->n == 0)
        return convert_protected(cv, p, len, o);
    while (p < end) {
        unsigned n;
        size_t m, entry = 0;
        uint32_t c = tc_utf8_decode(p, end, &n);
        int maybe = c != TC_INVALID &&
                    (c < 0x10000 ? (ud->first[c >> 3] >> (c & 7)) & 1
                                 : ud->first_astral);
        if (maybe && (m = ud_match(ud, p, end, &entry))) {
            if (convert_protected(cv, start, (size_t)(p - start), o) ||
                out_add(o, ud->vals[entry], ud->val_len[entry]))
                return TJ_ENOMEM;
            if (m != ud->val_len[entry] ||
                memcmp(p, ud->vals[entry], m) != 0)
                o->changes++;
            p += m;
            start = p;
            continue;
        }
        p += n;
    }
    return convert_protected(cv, start, (size_t)(end - start), o);
}

int tc_convert_known(tc_conv *cv, size_t text, const char *in, size_t len,
                     tc_out *out)
{
    const cuts *cs = &cv->simp;
    size_t first = 0, k;
    int rc;
    if (!cv->cuts_valid)
        return tc_convert(cv, in, len, out);
    while (first < cs->n && cs->text[first] < text)
        first++;
    for (k = first; k < cs->n && cs->text[k] == text; k++)
        ;
    cv->known = cs->cut + first;
    cv->n_known = k - first;
    cv->known_base = (const unsigned char *)in;
    rc = tc_convert(cv, in, len, out);
    cv->known = NULL;
    return rc;
}

/* ---- config: auto -------------------------------------------------------- */

/* Doubles the room of c (plus 64); 0 or TJ_ENOMEM. */
TC_COLD static int cuts_grow(cuts *c)
{
    size_t cap = c->cap * 2 + 64;
    size_t *a = realloc(c->cut, cap * sizeof *a);
    if (!a)
        return TJ_ENOMEM;
    c->cut = a;
    size_t *b = realloc(c->text, cap * sizeof *b);
    if (!b)
        return TJ_ENOMEM;
    c->text = b;
    c->cap = cap;
    return 0;
}

/* Appends position `off` of text `text` to c; 0 or TJ_ENOMEM. */
static inline int cuts_add(cuts *c, size_t text, size_t off)
{
    if (c->n == c->cap && cuts_grow(c))
        return TJ_ENOMEM;
    c->cut[c->n] = off;
    c->text[c->n++] = text;
    return 0;
}

/* Pieces config `cfg`, protected, would change in the texts: what
 * convert_protected counts, with the Simplified-only characters already
 * found (cs), so the texts are not scanned again.  Output goes to
 * scratch. */
static int count_changes(tc_conv *cv, int cfg, const cuts *cs,
                         const char *const *texts, const size_t *lens,
                         size_t n, size_t *changes)
{
    const config *keep_cf = cv->cf;
    size_t k = 0;
    int rc = 0;
    cv->cf = &D.configs[cfg];
    *changes = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        const unsigned char *p = (const unsigned char *)texts[i];
        size_t start = 0;
        cv->scratch.len = 0;
        cv->scratch.changes = 0;
        for (; k < cs->n && cs->text[k] == i && !rc; k++) {
            unsigned l;
            size_t at = cs->cut[k];
            tc_utf8_decode(p + at, p + lens[i], &l);
            cv->scratch.len = 0;
            rc = convert_piece(cv, p + start, at - start, &cv->scratch);
            start = at + l;
        }
        cv->scratch.len = 0;
        if (!rc)
            rc = convert_piece(cv, p + start, lens[i] - start, &cv->scratch);
        *changes += cv->scratch.changes;
    }
    cv->cf = keep_cf;
    return rc;
}

/* count_changes for a configuration whose characters are all simple
 * (tw2t, hk2t): text changes only at the characters `at` lists (those
 * whose entry is not "simple, unchanged"), and between segmentation
 * matches every character is a step of its own, so only those positions
 * are visited, skipping the ones a match covered.  Returns 0, or 1 when
 * the configuration does not qualify (the caller counts the slow way). */
static int count_sparse(const config *cf, const cuts *at, const cuts *cs,
                        const char *const *texts, const size_t *lens,
                        size_t *changes)
{
    size_t j = 0, covered = 0, text = (size_t)-1;
    if (cf->n_lone != 0)
        return 1;
    *changes = 0;
    for (size_t k = 0; k < at->n; k++) {
        size_t i = at->text[k], r = at->cut[k], lim, m;
        const unsigned char *p = (const unsigned char *)texts[i];
        unsigned n;
        uint32_t c, e, kind, info;
        if (i != text) {
            text = i;
            covered = 0;
        }
        if (r < covered)
            continue;
        while (j < cs->n && (cs->text[j] < i ||
                             (cs->text[j] == i && cs->cut[j] < r)))
            j++;
        if (j < cs->n && cs->text[j] == i && cs->cut[j] == r)
            continue; /* protected: copied as it is */
        lim = j < cs->n && cs->text[j] == i ? cs->cut[j] : lens[i];
        c = tc_utf8_decode(p + r, p + lim, &n);
        e = cp_entry(cf, c);
        kind = e >> 24;
        covered = r + n;
        if (kind - 1 < 3 || kind == TC_CP_POOL) {
            (*changes)++;
        } else if (kind == TC_CP_SIDE) {
            tc_cp_side sd = cf->side[e & 0xFFFFFF];
            if (sd.node &&
                (m = seg_match(cf, c, sd.node, n, p + r, p + lim, &info))) {
                *changes += (info & TC_INFO_CHANGED) != 0;
                covered = r + m;
            } else if (!(sd.out & TC_OUT_SIMPLE)) {
                return 1;
            } else {
                *changes += (sd.out & TC_OUT_CHANGED) != 0;
            }
        }
    }
    return 0;
}

/* Past the three-byte characters from p whose class has no bit of `stop`
 * (TRI_BAD, a malformed sequence, should be among them), adding to *count
 * how many of them have the class bit `counted`: returns the first stop,
 * or a position less than 4 bytes from end.  `stop` and `counted` are
 * constants at each call, so the loop is specialised there.  No branch
 * depends on the counted class, and characters go two at a time (one
 * 8-byte load and mask test, one test of both classes) while 8 bytes
 * remain, then one at a time. */
static inline const unsigned char *skip_classes(const unsigned char *p,
                                                const unsigned char *end,
                                                unsigned stop,
                                                unsigned counted,
                                                size_t *count)
{
    size_t s = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (end - p >= 8) {
        uint64_t w;
        uint32_t k1, k2;
        memcpy(&w, p, 8);
        if ((w & 0xC0C0F0C0C0F0ull) != 0x8080E08080E0ull)
            break;
        k1 = D.tri_class[tri_index((uint32_t)w)];
        k2 = D.tri_class[tri_index((uint32_t)(w >> 24))];
        if ((k1 | k2) & stop)
            break;
        s += (k1 & counted) + (k2 & counted);
        p += 6;
    }
#endif
    while (end - p >= 4) {
        uint32_t v, k;
        memcpy(&v, p, 4);
        if ((v & 0xC0C0F0u) != 0x8080E0u)
            break;
        k = D.tri_class[tri_index(v)];
        if (k & stop)
            break;
        s += k & counted;
        p += 3;
    }
    *count += s / counted;
    return p;
}

/* Counts the Simplified-only characters of the texts into e->simp,
 * stopping at the first Traditional-only one (returns 1; e->simp is then
 * partial).  Returns 0 after reading everything without meeting one: the
 * text is Simplified.  Reading stops at no fixed length: a Traditional
 * quote late in a long Simplified article must still be converted. */
static int count_until_trad(const char *const *texts, const size_t *lens,
                            size_t n, tc_evidence *e)
{
    for (size_t i = 0; i < n; i++) {
        const unsigned char *p = (const unsigned char *)texts[i];
        const unsigned char *end = p + lens[i];
        while ((p = skip_classes(p, end, TC_CLASS_TRAD | TRI_BAD,
                                 TC_CLASS_SIMP, &e->simp)) < end) {
            unsigned l;
            int k;
            if (*p < 0x80 && D.ascii_classless) {
                while (++p < end && *p < 0x80)
                    ;
                continue;
            }
            uint32_t c = decode_fast(p, end, &l);
            k = c == TC_INVALID ? 0 : char_class(c);
            if (k & TC_CLASS_TRAD)
                return 1;
            e->simp += (k & TC_CLASS_SIMP) != 0;
            p += l;
        }
    }
    return 0;
}

/* find_cuts' work at one character of class k at `at` of text i: 0 or
 * TJ_ENOMEM. */
static inline int note_class(tc_conv *cv, int k, size_t i, size_t at,
                             tc_evidence *e)
{
    e->trad += (k & TC_CLASS_TRAD) != 0;
    if (((k & TC_CLASS_SIMP) && cuts_add(&cv->simp, i, at)) ||
        ((k & TC_CLASS_TW) && cuts_add(&cv->tw, i, at)) ||
        ((k & TC_CLASS_HK) && cuts_add(&cv->hk, i, at)))
        return TJ_ENOMEM;
    return 0;
}

/* Records where the Simplified-only characters (cv->simp) and the
 * characters tw2t (cv->tw) and hk2t (cv->hk) may act on are, and counts
 * the Traditional-only ones into e->trad.  0 or TJ_ENOMEM. */
static int find_cuts(tc_conv *cv, const char *const *texts,
                     const size_t *lens, size_t n, tc_evidence *e)
{
    cv->simp.n = cv->tw.n = cv->hk.n = 0;
    for (size_t i = 0; i < n; i++) {
        const unsigned char *p = (const unsigned char *)texts[i];
        const unsigned char *start = p, *end = p + lens[i];
        /* Traditional-only characters, the most common class in this text,
         * are counted without leaving skip_classes. */
        while ((p = skip_classes(p, end, 0xFFu & ~(unsigned)TC_CLASS_TRAD,
                                 TC_CLASS_TRAD, &e->trad)) < end) {
            unsigned l;
            uint32_t c;
            int k;
            if (*p < 0x80 && D.ascii_classless) {
                while (++p < end && *p < 0x80)
                    ;
                continue;
            }
            c = decode_fast(p, end, &l);
            k = c == TC_INVALID ? 0 : char_class(c);
            if (k && note_class(cv, k, i, (size_t)(p - start), e))
                return TJ_ENOMEM;
            p += l;
        }
    }
    return 0;
}

/* Text without a Traditional-only character is left alone, and most text
 * is Simplified: a counting pass decides that without recording anything.
 * Only text with Traditional evidence is
 * scanned again for the positions the change counts and the protection
 * need. */
int tc_detect(tc_conv *cv, const char *const *texts, const size_t *lens,
              size_t n, tc_evidence *ev)
{
    tc_evidence e = {0, 0, 0, 0};
    const cuts *cs = &cv->simp;
    int rc;
    cv->cuts_valid = 0;
    if (count_until_trad(texts, lens, n, &e)) {
        e.simp = 0;
        if (find_cuts(cv, texts, lens, n, &e))
            return TJ_ENOMEM;
        cv->cuts_valid = 1;
        e.simp = cs->n;
        /* Without a character tw2t (hk2t) may act on, it changes nothing. */
        if ((cv->tw.n &&
             count_sparse(&D.configs[D.tw2t], &cv->tw, cs, texts, lens,
                          &e.tw) &&
             (rc = count_changes(cv, D.tw2t, cs, texts, lens, n, &e.tw))) ||
            (cv->hk.n &&
             count_sparse(&D.configs[D.hk2t], &cv->hk, cs, texts, lens,
                          &e.hk) &&
             (rc = count_changes(cv, D.hk2t, cs, texts, lens, n, &e.hk))))
            return rc;
        rc = e.tw > e.hk ? D.tw2s : e.hk > e.tw ? D.hk2s : D.t2s;
    } else {
        rc = -1;
    }
    if (ev)
        *ev = e;
    return rc;
}
