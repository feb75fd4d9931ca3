/*
 * tc_format.h - layout of the compiled conversion data ("the blob").
 *
 * gen/tcgen.c writes the blob at build time from Debian's OpenCC configs
 * (/usr/share/opencc/NAME.json) and the text dumps of their .ocd2 dictionaries;
 * tc_blob.c embeds it into the stage with `.incbin`; tc_engine.c reads it in
 * place.  Every offset is in bytes from the start of the blob and every
 * integer is little-endian, so loading is a header check and pointer
 * arithmetic: no parsing, no allocation.
 *
 * Tries.  Every dictionary is a trie over Unicode code points.  Node 0 is
 * the root.  Edges live in one open-addressing hash table of uint64_t slots:
 *
 *     bits  0..20  code point of the edge
 *     bits 21..41  parent node id
 *     bits 42..62  child node id (never 0, so an all-zero slot is empty)
 *
 * probed linearly from tc_hash_slot(parent, cp, mask).  nodes[id] is a
 * uint64_t.  Its low 32 bits are the info word: TC_INFO_CHILD when the node
 * has children, TC_INFO_CHANGED when its value differs from its key, and in
 * TC_INFO_REF the pool offset of the value (0: the node ends no key).  Its
 * high 32 bits are a filter of the children: bit tc_filter_bit(cp) is set
 * for every child edge, so most failed lookups never touch the hash table.
 * Each dictionary also has a bigram filter: bit tc_bigram_bit(c1, c2) of
 * a bit array is set for the first two characters of every key of two or
 * more characters, so a walk from a node without a value usually stops
 * after one probe of a small array (see tc_cp_side.node).
 * Pool strings are a length byte followed by the bytes; the pool ends with
 * TC_POOL_SLACK zero bytes so readers may copy 16 bytes at a time.
 *
 * Configurations.  A configuration keeps its segmentation dictionary's edges
 * but has its own node array whose values are the output of the WHOLE
 * conversion chain for that key (a matched segment is converted on its own,
 * so that output is fixed).  A per-code-point table (two levels: a page
 * index of uint16_t per 256 code points, then pages of 256 uint32_t entries
 * shared by all configurations) says what to do with each character; see
 * TC_CP_*.  A character is "simple" when no multi-character key of any
 * stage could start at it inside an unsegmented run (see gen/tcgen.c), so a
 * run of simple characters converts character by character, from the
 * table alone.  Anything else takes the slow path: OpenCC's stage-by-stage
 * algorithm over the run, using the per-dictionary tries of tc_config_desc.
 *
 * Stage tables.  The slow path runs each stage with a code-point table of
 * its own (stage_pages_off, pages in the same shared store), whose entries
 * have the same kinds: the inline and pool kinds give the stage's output
 * for a character at which no multi-character key of the stage can match
 * inside a run (the first dictionary of the group with the character as a
 * key decides; an empty output is a pool string), and TC_CP_SIDE means a
 * key may start there: walk the group's tries; its payload is the output
 * when no key of two or more characters matches there (a pool offset, 0:
 * the character itself).
 *
 * The blob is little-endian; inline outputs are stored so that writing the
 * entry as a little-endian uint32_t writes the output's bytes in order.
 */
#ifndef TC_FORMAT_H
#define TC_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define TC_MAGIC "TJTCDAT1"
#define TC_FORMAT_VERSION 7u
#define TC_MAX_STAGES 6
#define TC_MAX_GROUP 6
#define TC_NAME_MAX 32
#define TC_POOL_SLACK 32
#define TC_MAX_NODES (1u << 21)
#define TC_INVALID 0xFFFFFFFFu /* what tc_utf8_decode returns for a bad byte */
#define TC_NPAGES 0x1100u      /* 0x110000 code points / 256 */

enum {
    TC_INFO_CHILD = 1u << 31,
    TC_INFO_CHANGED = 1u << 30,
    TC_INFO_REF = (1u << 30) - 1
};

/* A code-point entry: kind (TC_CP_*) in the top byte, payload below.
 *   0                whole entry 0: simple, copied unchanged
 *   1, 2, 3          simple, changed: the output is the payload's low
 *                    `kind` bytes
 *   5, 6, 7          simple, unchanged: the payload's low `kind & 3`
 *                    bytes are the character itself (TC_CP_SAME set)
 *   TC_CP_POOL       simple, changed: the output is the pool string at
 *                    the payload
 *   TC_CP_SIDE       the payload indexes the configuration's side table of
 *                    tc_cp_side: a segmentation trie node and/or not simple */
enum { TC_CP_SAME = 4, TC_CP_POOL = 0x10, TC_CP_SIDE = 0x20 };

/* tc_cp_side.out flags: the low bits are a pool offset, 0 = unchanged. */
enum { TC_OUT_SIMPLE = 1u << 31, TC_OUT_CHANGED = 1u << 30 };

/* Per-code-point class bits for `config: auto` (tc_header.class_*). */
enum {
    TC_CLASS_TRAD = 1, /* a Traditional-only character (evidence) */
    TC_CLASS_SIMP = 2, /* a Simplified-only character (never rewritten) */
    TC_CLASS_TW = 4,   /* tw2t might rewrite text at this character */
    TC_CLASS_HK = 8    /* hk2t might rewrite text at this character */
};

/* Configuration flags. */
enum { TC_CFG_ASCII_PLAIN = 1 }; /* no key involves ASCII: copy it as is */

typedef struct tc_trie_desc {
    uint32_t hash_off;  /* uint64_t slots[hash_mask + 1] */
    uint32_t hash_mask; /* slots - 1, a power of two minus one */
    uint32_t nodes_off; /* uint64_t nodes[n_nodes] */
    uint32_t n_nodes;
} tc_trie_desc;

typedef struct tc_dict_desc {
    char name[TC_NAME_MAX]; /* file name without extension: "TSPhrases" */
    tc_trie_desc trie;
    uint32_t n_keys;
    uint32_t max_key_chars;
    uint32_t bigram_off;  /* uint64_t words[(1 << bigram_log2) / 64] */
    uint32_t bigram_log2; /* bits in the filter, log 2 (at least 6) */
} tc_dict_desc;

/* tc_cp_side.node flag: the character alone is a segmentation key. */
enum { TC_NODE_KEY = 1u << 31 };

typedef struct tc_cp_side {
    uint32_t out;  /* TC_OUT_* flags | pool offset (0: the character); not
                    * simple (no TC_OUT_SIMPLE): bits 0..7 the character's
                    * reach, the characters after it the slow path must
                    * take, bits 8..29 its tc_lone index + 1 (0: none) */
    uint32_t node; /* segmentation trie child of the root, 0 = none,
                    * | TC_NODE_KEY */
} tc_cp_side;

/* What a character that is not simple does when it is converted on its
 * own (the engine's lone_char).  check[k] is the last character of its
 * image entering stage k (converted a character at a time) when a key of
 * stage k may start there, else 0; a key starting at any other character
 * of an image makes the record TC_LONE_NEVER. */
enum { TC_LONE_NEVER = 1u << 29 };
typedef struct tc_lone {
    uint32_t out; /* TC_OUT_CHANGED | pool offset of the output, 0: the
                   * character itself, or TC_LONE_NEVER */
    uint32_t check[TC_MAX_STAGES];
} tc_lone;

typedef struct tc_config_desc {
    char name[TC_NAME_MAX]; /* "t2s" */
    uint32_t seg_dict;      /* index into the dictionaries */
    tc_trie_desc seg;       /* seg_dict's edges, chain-output nodes */
    uint32_t cp_pages_off;   /* uint16_t pages[TC_NPAGES] */
    uint32_t cp_entries_off; /* uint32_t entries[n_pages * 256], shared */
    uint32_t side_off;       /* tc_cp_side side[n_side] */
    uint32_t n_side;
    uint32_t flags;          /* TC_CFG_* */
    uint32_t resync; /* simple characters after which every stage aligns */
    uint32_t n_stages;
    uint32_t stage_len[TC_MAX_STAGES];
    uint32_t stage_dict[TC_MAX_STAGES][TC_MAX_GROUP];
    uint32_t stage_pages_off[TC_MAX_STAGES]; /* uint16_t pages[TC_NPAGES] */
    uint32_t lone_off; /* tc_lone lone[n_lone] */
    uint32_t n_lone;
} tc_config_desc;

typedef struct tc_header {
    char magic[8];
    uint32_t version;
    uint32_t size; /* whole blob, bytes */
    uint32_t n_dicts;
    uint32_t dicts_off; /* tc_dict_desc[n_dicts] */
    uint32_t n_configs;
    uint32_t configs_off; /* tc_config_desc[n_configs] */
    uint32_t pool_off;
    uint32_t pool_size;
    uint32_t class_pages_off;   /* uint16_t pages[TC_NPAGES] */
    uint32_t class_entries_off; /* uint8_t classes[n_pages * 256] */
    uint32_t n_trad, n_simp;    /* class sizes, for documentation */
} tc_header;

/* The slot where the probe for edge (parent, cp) starts. */
static inline uint32_t tc_hash_slot(uint32_t parent, uint32_t cp,
                                    uint32_t mask)
{
    uint64_t k = ((uint64_t)parent << 21) | cp;
    return (uint32_t)((k * 0x9E3779B97F4A7C15ull) >> 32) & mask;
}

/* The bit of a node's child filter that child code point cp sets. */
static inline uint32_t tc_filter_bit(uint32_t cp)
{
    return (cp * 0x9E3779B1u) >> 27;
}

/* The bit of a bigram filter of 1 << log2 bits that the pair c1 c2 sets. */
static inline uint32_t tc_bigram_bit(uint32_t c1, uint32_t c2, uint32_t log2)
{
    return ((c1 * 0x9E3779B1u + c2) * 0x85EBCA77u) >> (32 - log2);
}

/* Decodes one UTF-8 character at p (p < end).  Returns the code point and
 * its length in *len, or TC_INVALID with *len = 1 when the byte does not
 * start a well-formed sequence (RFC 3629: no overlongs, surrogates or code
 * points past U+10FFFF; truncated sequences are invalid). */
static inline uint32_t tc_utf8_decode(const unsigned char *p,
                                      const unsigned char *end, unsigned *len)
{
    uint32_t b0 = p[0], c;
    size_t room = (size_t)(end - p);
    if (b0 < 0x80) {
        *len = 1;
        return b0;
    }
    if (b0 - 0xE0 < 0x10) { /* most CJK: few branches */
        if (room >= 3) {
            uint32_t b1 = p[1] ^ 0x80u, b2 = p[2] ^ 0x80u;
            c = ((b0 & 0x0F) << 12) | (b1 << 6) | b2;
            if ((b1 | b2) < 0x40 && c >= 0x800 && c - 0xD800 >= 0x800) {
                *len = 3;
                return c;
            }
        }
    } else if (b0 >= 0xC2 && b0 < 0xE0) {
        if (room >= 2 && (p[1] & 0xC0) == 0x80) {
            *len = 2;
            return ((b0 & 0x1F) << 6) | (p[1] & 0x3F);
        }
    } else if (b0 >= 0xF0 && b0 < 0xF5) {
        if (room >= 4 && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80 &&
            (p[3] & 0xC0) == 0x80) {
            c = ((b0 & 0x07) << 18) | ((uint32_t)(p[1] & 0x3F) << 12) |
                ((uint32_t)(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
            if (c >= 0x10000 && c <= 0x10FFFF) {
                *len = 4;
                return c;
            }
        }
    }
    *len = 1;
    return TC_INVALID;
}

#endif /* TC_FORMAT_H */
