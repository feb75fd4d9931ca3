/*
 * clean.h - internals shared by the files of the clean stage.
 *
 * The stage is split in layers:
 *   uni.c   code points: UTF-8 walking, character classes, look-alike
 *           radicals, the "common character" set, a growable buffer;
 *   text.c  repairs on text (HTML or plain): tags and remnants, entities,
 *           pinyin annotations, punctuation, mojibake, boilerplate, bylines;
 *   dom.c   the page's tree, built from libxml2's HTML parser's SAX events;
 *   veil.c  long text runs stood in by tokens while libxml2 parses;
 *   html.c  boilerplate elements, main-node choice by text and symbol
 *           density, paragraphs, and the `page` hints;
 *   clean.c the stage itself: options, fields, counters, quality.
 */
#ifndef TJ_CLEAN_H
#define TJ_CLEAN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

/* ---- growable byte buffer ---------------------------------------------- */
typedef struct cl_buf {
    char *p;    /* NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
    int oom;    /* set once an allocation failed; later appends are no-ops */
} cl_buf;

void cl_buf_init(cl_buf *b);
void cl_buf_free(cl_buf *b);
void cl_buf_put(cl_buf *b, const char *s, size_t n);
void cl_buf_puts(cl_buf *b, const char *s);
/* Makes room for `more` bytes (appends up to that need no realloc); -1 and
 * oom set when out of memory. */
int cl_buf_reserve(cl_buf *b, size_t more);
/* The out-of-line halves of cl_buf_put_cp and cl_utf8_next below (the
 * general cases, through utf8proc). */
void cl_buf_put_cp_slow(cl_buf *b, uint32_t cp);
int cl_utf8_next_slow(const char *s, size_t n, uint32_t *cp);

/* Appends one byte.  Inline: the repairs append byte by byte. */
static inline void cl_buf_putc(cl_buf *b, char c)
{
    if (!b->oom && b->len + 3 <= b->cap) { /* room: no call, no memcpy */
        b->p[b->len++] = c;
        b->p[b->len] = 0;
        return;
    }
    cl_buf_put(b, &c, 1);
}

/* Appends cp as UTF-8 (what utf8proc_encode_char writes).  ASCII and the
 * three-byte BMP characters are written inline, the rest by the slow half. */
static inline void cl_buf_put_cp(cl_buf *b, uint32_t cp)
{
    if (cp < 0x80) {
        cl_buf_putc(b, (char)cp);
    } else if (cp >= 0x800 && cp < 0xFFFF && !b->oom && b->len + 5 <= b->cap) {
        unsigned char *d = (unsigned char *)b->p + b->len;
        d[0] = (unsigned char)(0xE0 | (cp >> 12));
        d[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        d[2] = (unsigned char)(0x80 | (cp & 0x3F));
        d[3] = 0;
        b->len += 3;
    } else {
        cl_buf_put_cp_slow(b, cp);
    }
}
/* Hands the bytes to the caller (malloc()ed, NUL-terminated, one spare byte
 * for tj_record_take) and leaves b empty.  NULL when the buffer hit OOM. */
char *cl_buf_steal(cl_buf *b, size_t *len);

/* ---- code points -------------------------------------------------------- */
/* Decodes one code point at s (n bytes left) into *cp and returns its length
 * (1..4).  Invalid or truncated sequences give U+FFFD and length 1. */
static inline int cl_utf8_next(const char *s, size_t n, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    if (n && u[0] < 0x80) {
        *cp = u[0];
        return 1;
    }
    /* leads E1..EC, EE, EF: never overlong, never a surrogate */
    if (n >= 3 && u[0] >= 0xE1 && u[0] != 0xED && u[0] <= 0xEF &&
        (u[1] & 0xC0) == 0x80 && (u[2] & 0xC0) == 0x80) {
        *cp = (uint32_t)(u[0] & 0x0F) << 12 | (uint32_t)(u[1] & 0x3F) << 6 |
              (uint32_t)(u[2] & 0x3F);
        return 3;
    }
    return cl_utf8_next_slow(s, n, cp);
}
/* Does u[i..n) start with a lead byte in lo..hi followed by two
 * continuation bytes (a valid three-byte character when lo..hi lies in
 * E1..EC or EE..EF)?  Both continuation bytes tested with one load. */
static inline int cl_three_at(const unsigned char *u, size_t i, size_t n,
                              unsigned char lo, unsigned char hi)
{
    uint16_t t;
    if (i + 2 >= n || (unsigned)(u[i] - lo) > (unsigned)(hi - lo))
        return 0;
    memcpy(&t, u + i + 1, 2);
    return (t & 0xC0C0) == 0x8080;
}
#ifdef __SSE2__
/* The byte lanes (lanes.c): each takes, from the character boundary i, a
 * block of bytes at a time while every byte of a block is one its byte
 * loop passes over the same way, and returns the character boundary where
 * it stopped, leaving the rest to that loop.  *bad / *stop: the byte that
 * stopped it (n when the text ran out). */
size_t cl_plain_blocks(const unsigned char *u, size_t i, size_t n, size_t *bad);
/* ... adding the characters to *nc and the punctuation to *np; from a
 * place with no blank pending (count_text's gap). */
size_t cl_count_blocks(const unsigned char *u, size_t i, size_t n, long *nc,
                       long *np, size_t *bad);
size_t cl_safe_blocks(const unsigned char *s, size_t n, size_t a, size_t *stop);
/* The first '(', "（" or (when q) '?' at or after i, or where the byte loop
 * must go on looking (near the end). */
size_t cl_pin_blocks(const unsigned char *u, size_t i, size_t n, int q);
/* Set (by tests) to keep to the SSE2 lanes on a CPU with AVX2. */
extern int cl_lanes_sse2_only;
#endif
/* Eight bytes at a time (exact as yes/no answers): does word w hold a
 * byte below n (n <= 128)?  A byte equal to c?  A byte of 0x80 or more? */
#define CL_ONES 0x0101010101010101ull
static inline int cl_word_below(uint64_t w, unsigned n)
{
    return (((w - CL_ONES * n) & ~w) & (CL_ONES << 7)) != 0;
}
static inline int cl_word_has(uint64_t w, unsigned char c)
{
    return cl_word_below(w ^ (CL_ONES * c), 1);
}
static inline int cl_word_high(uint64_t w) { return (w & (CL_ONES << 7)) != 0; }

/* Length in bytes of the code point ending just before s[i] (i > 0). */
size_t cl_utf8_prev(const char *s, size_t i);
size_t cl_utf8_count(const char *s, size_t n);

/* CJK unified / compatibility ideograph */
static inline int cl_is_han(uint32_t cp)
{
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x3134F) ||
           cp == 0x3007;
}
int cl_is_cjk_punct(uint32_t cp);   /* 。，、“”「」（）…— and friends */
static inline int cl_is_kana(uint32_t cp)
{
    return (cp >= 0x3041 && cp <= 0x30FA) || (cp >= 0xFF66 && cp <= 0xFF9F);
}
int cl_is_space(uint32_t cp);       /* ASCII, NBSP, ideographic, Zs */
int cl_is_zero_width(uint32_t cp);
/* Any punctuation, ASCII or CJK (the "symbols" of the density method). */
int cl_is_punct(uint32_t cp);
/* The look-alike's ideograph (Kangxi, radicals supplement, compatibility
 * ideographs) or 0. */
uint32_t cl_radical_map(uint32_t cp);

/* Common-character classes from GB2312 level 1 and Big5 level 1, built once
 * (thread-safe) with iconv.  */
enum { CL_COMMON_GB = 1, CL_COMMON_BIG5 = 2, CL_COMMON_GB2 = 4 };
/* Bitmask of CL_COMMON_* (GB2 = GB2312 level 2, less common); 0 = rare. */
extern uint8_t *cl_common_map; /* 65536 CL_COMMON_* masks (after init) */
static inline int cl_common_class(uint32_t cp)
{
    return cl_common_map && cp < 0x10000 ? cl_common_map[cp] : 0;
}
int cl_common_init(void);           /* 0, or TJ_ENOMEM / TJ_EIO */
/* The character of a GBK two-byte code, 0 when none (after cl_common_init). */
uint32_t cl_gbk_pair(unsigned char lead, unsigned char trail);

/* ---- statistics --------------------------------------------------------- */
typedef struct cl_stats {
    long pinyin_removed;
    long boilerplate_removed;
    long tags_removed;
    long entities_decoded;
    long normalized_chars;
    long punct_fixed;
    long mojibake_spans;
    long mojibake_repaired;
    long lost_chars;
    long bylines;
    long duplicates;
    long paragraphs;
    long chars_in;
    long chars_out;
} cl_stats;

/* ---- text repairs -------------------------------------------------------- */
typedef enum cl_moji_policy {
    CL_MOJI_NONE = 0,
    CL_MOJI_SPAN = 1,
    CL_MOJI_PARAGRAPH = 2
} cl_moji_policy;

typedef struct cl_rules cl_rules;

/* Compiles the rule set (PCRE2, JIT when available), adding the literal
 * phrases in extra[0..n_extra) to the boilerplate rules.  Returns NULL and a
 * malloc()ed message in *err on failure.  One per stage instance, used by
 * one thread at a time: the match data and the repairs' scratch buffers
 * inside are not shared between threads. */
cl_rules *cl_rules_create(const char *const *extra, size_t n_extra,
                          char **err);
void cl_rules_destroy(cl_rules *r);

typedef struct cl_text_opts {
    cl_moji_policy moji;
    size_t min_paragraph; /* drop paragraphs with fewer code points (0: keep) */
} cl_text_opts;

/* Repairs `in` (n bytes, any bytes; invalid UTF-8 becomes U+FFFD) and
 * appends the clean text to `out`: one paragraph per line, each line ended
 * by '\n' except the last.  Metadata lines go, as strings, into the cJSON
 * array `byline` (may be NULL).  Counts go into *st.  Returns 0, or TJ_ENOMEM
 * (out may then hold a partial result the caller frees). */
int cl_clean_text(cl_rules *r, const cl_text_opts *o, const char *in,
                  size_t n, cl_buf *out, cJSON *byline, cl_stats *st);

/* Counts the pinyin annotations of s[0..n) as the repair finds them:
 * after hanzi (cl_rx_pinyin_han), or with `any` anywhere
 * (cl_rx_pinyin_any), leftmost first, none overlapping.  For tests. */
int cl_count_pinyin(cl_rules *r, const char *s, size_t n, int any);

/* 1 when a pinyin annotation starts at s[p] (a character boundary of valid
 * UTF-8 s[0..n)), with *end just past it; 0 otherwise.  `any`: the pattern
 * cl_rx_pinyin_any, else cl_rx_pinyin_han (only after a hanzi).  The
 * patterns (PCRE2, UTF + UCP, anchored at p) define what it matches. */
int cl_pinyin_at(cl_rules *r, const char *s, size_t n, size_t p, int any,
                 size_t *end);
extern const char cl_rx_pinyin_han[], cl_rx_pinyin_any[];

/* For tests: loads the text s[0..n) as the line pass does and, on each
 * line the mark pre-check lets go unmarked, asks the marker itself.
 * Returns how many of those lines it would have marked (0, or the
 * pre-check is wrong), or -1 when out of memory; *skipped and *lines
 * count the lines let go and all lines. */
long cl_check_mark_skips(cl_rules *r, const char *s, size_t n,
                         size_t *skipped, size_t *lines);
/* For tests: the survey's counts (hanzi by commonness, kana, others) of
 * the text s[0..n) as the line pass loads it, against a count character
 * by character; 0 when they agree, 1 when not, -1 when out of memory. */
long cl_check_survey(cl_rules *r, const char *s, size_t n);
/* For tests: the tag remnants of s[0..n) replaced as step 2 does, '>' by
 * '>', against one search through the whole text; 0 when the texts and
 * counts agree, 1 when not, -1 when out of memory.  *found: the count. */
long cl_check_remnants(cl_rules *r, const char *s, size_t n, long *found);
/* For tests: step 1 (characters) on s[0..n) with and without its
 * sixteen-byte skip; 0 when both give the same text and counts, 1 when
 * not, -1 when out of memory.  *skipped: the bytes the skip takes when
 * tried at every byte it leaves (0 without SSE2). */
long cl_check_normalize(const char *s, size_t n, size_t *skipped);
/* For tests: the character and punctuation counts of the text s (as of a
 * text node) with and without count_text's sixteen-byte lane; 0 when they
 * agree, 1 when not.  *skipped as for cl_check_normalize. */
long cl_check_count_text(const char *s, size_t *skipped);
/* For tests: where the veil's run of safe characters from s[a] ends (and
 * whether it met invalid UTF-8), with and without its sixteen-byte lane;
 * 0 when both agree, 1 when not.  *skipped: the bytes the lane takes
 * from a on, tried at every byte it leaves (0 without SSE2). */
long cl_check_safe_end(const char *s, size_t n, size_t a, size_t *skipped);

/* ---- HTML --------------------------------------------------------------- */
/* The tree of a page (dom.c): libxml2's HTML tree, node for node, built
 * from its parser's SAX events into one arena. */
enum { CL_DOC, CL_ELEM, CL_TEXT, CL_CDATA, CL_COMMENT, CL_PI, CL_DTD };

typedef struct cl_node {
    struct cl_node *parent, *children, *last, *prev, *next;
    const char *name;   /* element (local name, lower case), PI target, doctype */
    char *content;      /* text, CDATA, comment, PI data: NUL-terminated */
    size_t len;         /* of content */
    const char **attrs; /* element: name, value, name, value, ..., NULL */
    void *priv;         /* the user's */
    unsigned char type; /* CL_* */
    unsigned char noted; /* listed by cl_veil_note */
} cl_node;

typedef struct cl_dom {
    cl_node doc;        /* CL_DOC: its children are the top-level nodes */
    cl_node *doctype;
    struct blk *arena;
    void *ctxt;         /* libxml2's parser context (owns the names) */
    int oom, halted;
} cl_dom;

struct cl_veil;
/* Parses html[0..n) (UTF-8) as htmlReadMemory would, with recovery and no
 * network.  With a veil, html is its veiled page: the tree is built with
 * its blank runs put back and its token-bearing nodes listed for
 * cl_veil_restore.  Returns 0, TJ_EPARSE when the page gives no element,
 * TJ_EINVAL when over 2 GB, or TJ_ENOMEM.  cl_dom_free in every case. */
int cl_dom_parse(cl_dom *d, const char *html, size_t n, struct cl_veil *veil);
void cl_dom_free(cl_dom *d);
/* The first top-level element (libxml2's root), or NULL. */
cl_node *cl_dom_root(const cl_dom *d);
/* The value of n's first attribute called `name` ("" when it has none),
 * NULL when n has no such attribute or is not an element. */
const char *cl_dom_attr(const cl_node *n, const char *name);
/* A NUL-terminated copy of s[0..len) living as long as the tree, or NULL
 * when out of memory. */
char *cl_dom_strndup(cl_dom *d, const char *s, size_t len);
/* Gives n a copy of s[0..len) as content.  0 or TJ_ENOMEM. */
int cl_dom_set_content(cl_dom *d, cl_node *n, const char *s, size_t len);
/* n bytes (8-aligned) from the tree's arena; NULL when out of memory. */
void *cl_dom_alloc(cl_dom *d, size_t n);
/* The value SAX2 gives the attribute `name` written without one. */
const char *cl_dom_bare_value(const char *name);
/* Takes n (and what is under it) out of the tree; its memory stays in the
 * arena until cl_dom_free. */
void cl_dom_unlink(cl_node *n);
/* Appends the text and CDATA under n, in document order (xmlNodeGetContent). */
void cl_dom_text_content(const cl_node *n, cl_buf *b);

/* A page with its long text runs stood in by tokens, and its blank runs
 * between tags by their first byte, for libxml2 (veil.c). */
enum { RUN_TEXT, RUN_SCRIPT, RUN_STYLE, RUN_ATTR, RUN_ATTRS, RUN_BLANK };
typedef struct cl_veil {
    char *html;        /* the veiled page, NULL when nothing was veiled */
    size_t html_len;
    const char *src;   /* the page itself */
    size_t *off, *len; /* run r is src[off[r] .. off[r] + len[r]) */
    size_t *end;       /* where its stand-in ends in html */
    unsigned char *kind; /* RUN_TEXT, a script (style) body, a quoted value,
                            a start tag's attributes, blanks */
    unsigned char *found;
    size_t n, cap, nfound;
    size_t next_blank; /* the first run cl_veil_text has not passed */
    size_t next_list;  /* the first run cl_veil_attrs has not passed */
    size_t next_token; /* the first run cl_veil_note has not passed */
    cl_buf noted;      /* cl_node pointers: nodes that hold a token */
    cl_buf pairs;      /* room to read an attribute list in (pointers) */
} cl_veil;

/* Veils html[0..n) when it can be done safely (v->html stays NULL when
 * not).  Returns 0 or TJ_ENOMEM. */
int cl_veil_make(cl_veil *v, const char *html, size_t n);
/* For the tree builder: the character data to put in the tree for a
 * `characters` event of ch[0..*len) that ends where `rem` bytes of the
 * veiled page are left.  That is the blank run itself (its length in
 * *len) when the event is its one byte, else ch. */
const char *cl_veil_text(cl_veil *v, size_t rem, const char *ch, size_t *len);
/* For the tree builder: when the element whose start ends where `rem`
 * bytes of the veiled page are left came with the one valueless attribute
 * "t", the attribute list that stands for, read from the page into the
 * tree's arena (*list; returns 1); else 0; or TJ_ENOMEM. */
int cl_veil_attrs(cl_veil *v, cl_dom *d, size_t rem, const char ***list);
/* For the tree builder: lists n (once) when a token ended in the veiled
 * page since the last call, before where `rem` bytes are left: n is the
 * node the parser just made or added to there, so the token should be
 * in it (cl_veil_restore checks). */
void cl_veil_note(cl_veil *v, cl_node *n, size_t rem);
/* Puts every token's run back into the parsed tree.  Returns 0, 1 when
 * some token did not come back exactly once in a text, CDATA, comment or
 * PI node or as a whole attribute value, or some blank run not as a whole
 * `characters` event (then the tree is not the page's: parse the page
 * itself), or TJ_ENOMEM. */
int cl_veil_restore(cl_veil *v, cl_dom *d);
void cl_veil_free(cl_veil *v);

/* The tree of html[0..n): with `veil`, parsed veiled when that can be
 * done (*veiled, may be NULL, says whether it was), else as it is.
 * Returns what cl_dom_parse does; cl_dom_free in every case. */
int cl_html_parse(cl_dom *d, const char *html, size_t n, int veil, int *veiled);

/* Non-zero when `s` looks like markup (a tag among the first bytes). */
int cl_looks_like_html(const char *s, size_t n);

/* Parses an HTML page, picks the main content and appends its paragraphs
 * (raw: one block per line, not yet repaired) to `text`.  Fills `page` (a
 * cJSON object) with title, h1, h2, meta, jsonld, time, before, after.
 * Returns 0, TJ_EPARSE when libxml2 gives no document, or TJ_ENOMEM. */
int cl_html_extract(const char *html, size_t n, cl_buf *text, cJSON *page,
                    cl_stats *st);

#endif
