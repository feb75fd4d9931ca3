/*
 * html.c - the main text of an HTML page, and the hints around it.
 *
 * 1. libxml2's HTML parser (recover, no network, no error output) reads the
 *    page and dom.c builds its tree; the hints extract needs (title, h1/h2,
 *    meta, JSON-LD, <time>) are read first, from the whole tree.
 * 2. Elements that never hold the article go: script, style, nav, aside,
 *    forms, hidden elements, ... and those whose class or id marks them as
 *    share bars, comments, related links, breadcrumbs, ads, copyright or
 *    footer blocks (unless they hold most of the page's punctuation).
 * 3. Every element gets its counts: text T, link text LT, tags TG, link tags
 *    LTG, punctuation P (outside links), paragraphs PN.  Its score follows
 *    the text-and-symbol density method (GNE, after 基于文本及符号密度的网页
 *    正文提取方法): text density TD = (T-LT)/(TG-LTG+1), weighted by
 *    lg(PN+2) and by the symbol mass ln(1+P), divided by a link-density
 *    penalty.  The best element is the main node; siblings that read like
 *    article text (punctuated, few links) join it.
 * 4. The main node is written out one block per line; the short blocks just
 *    before and after it become page.before / page.after.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <pthread.h>

#include <taojin/stage.h>

#include "clean.h"

/* Per-element counts, hung on node->priv. */
typedef struct nstat {
    long text, link_text, tags, link_tags, punct, paras;
    double score;
    int keep; /* 1: part of the main content */
} nstat;

typedef struct hx {
    nstat *pool;
    size_t npool, cappool;
    cJSON *page;
    cJSON *near_title; /* short dated blocks beside the first h1 */
    long doc_punct;
    long (*tcount)[2]; /* chars and symbols of text nodes, counted once */
    size_t ntc, captc;
    int oom;
} hx;

#define NAME(n) ((const char *)(n)->name)

/* Tag names compare as strcasecmp does (ASCII case folded), inline: the
 * tree walks ask this of every element several times. */
static inline int lc(unsigned char c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static inline int name_eq(const char *a, const char *b)
{
    for (; *b; a++, b++)
        if (lc(*a) != (unsigned char)*b)
            return 0;
    return *a == 0;
}

static inline int name_is(cl_node *n, const char *name)
{
    return n->type == CL_ELEM && name_eq(n->name, name);
}

static const char *const BLOCKS[] = {
    "p", "div", "br", "li", "ul", "ol", "tr", "td", "th", "table", "tbody",
    "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "blockquote",
    "pre", "dd", "dt", "dl", "figure", "figcaption", "center", "main",
    "header", "footer", "hr", "address", "body", "html", "caption", NULL};

static const char *const DROP_TAGS[] = {
    "script", "style", "noscript", "iframe", "form", "nav", "aside",
    "select", "button", "input", "textarea", "svg", "canvas", "object",
    "embed", "link", "meta", "template", "video", "audio", "map", "head",
    "title", "footer", "header", "menu", "dialog", "label", NULL};

/* Classes of the names above, found through a small hash table built
 * once: one probe per element instead of a strcasecmp per listed name. */
enum { TAG_BLOCK = 1, TAG_DROP = 2 };

typedef struct tag_slot {
    const char *name; /* lower case; NULL = empty */
    unsigned bits;
} tag_slot;

static tag_slot tag_tab[256];
static pthread_once_t tag_once = PTHREAD_ONCE_INIT;

static unsigned tag_hash(const char *s)
{
    unsigned h = 5381;
    for (; *s; s++)
        h = h * 33 + (unsigned)lc(*s);
    return h & 255;
}

static void tag_add(const char *name, unsigned bits)
{
    unsigned h = tag_hash((const char *)name);
    while (tag_tab[h].name && strcmp(tag_tab[h].name, name))
        h = (h + 1) & 255;
    tag_tab[h].name = name;
    tag_tab[h].bits |= bits;
}

static void mark_init(void);

/* TJ_CLEAN_DEBUG set: the chosen element and its ancestors, with their
 * counts, go to stderr for each page (read once, with the tables). */
static int debug_main;

static void tag_init(void)
{
    debug_main = getenv("TJ_CLEAN_DEBUG") != NULL;
    mark_init();
    for (int i = 0; BLOCKS[i]; i++)
        tag_add(BLOCKS[i], TAG_BLOCK);
    for (int i = 0; DROP_TAGS[i]; i++)
        tag_add(DROP_TAGS[i], TAG_DROP);
}

/* TAG_* bits of an element's name (0 for other nodes and other names). */
static unsigned tag_bits(cl_node *n)
{
    if (n->type != CL_ELEM || !n->name)
        return 0;
    for (unsigned h = tag_hash(n->name); tag_tab[h].name; h = (h + 1) & 255)
        if (name_eq(n->name, tag_tab[h].name))
            return tag_tab[h].bits;
    return 0;
}

static int is_block(cl_node *n)
{
    return (tag_bits(n) & TAG_BLOCK) != 0;
}

/* ---- small text helpers ------------------------------------------------------ */

/* Appends text s (may be NULL) to b with each ASCII blank (space, tab,
 * CR, LF) written as one space, none at the start of b or after a space:
 * runs of other bytes are copied whole. */
static void put_collapsed(cl_buf *b, const char *s)
{
    if (!s)
        return;
    while (*s) {
        size_t run = strcspn(s, " \n\t\r");
        if (run) {
            cl_buf_put(b, s, run);
            s += run;
        }
        for (; *s == ' ' || *s == '\n' || *s == '\t' || *s == '\r'; s++)
            if (b->len && b->p[b->len - 1] != ' ')
                cl_buf_putc(b, ' ');
    }
}

/* Appends the text under n (whitespace collapsed to single spaces),
 * stopping once b holds more than `limit` bytes (the text is then cut
 * short: only its being too long counts). */
static void text_of(cl_node *n, cl_buf *b, size_t limit)
{
    for (cl_node *c = n->children; c && b->len <= limit; c = c->next) {
        if (c->type == CL_TEXT || c->type == CL_CDATA) {
            put_collapsed(b, c->content);
        } else if (c->type == CL_ELEM && !name_is(c, "script") &&
                   !name_is(c, "style")) {
            if (name_is(c, "br") && b->len && b->p[b->len - 1] != ' ')
                cl_buf_putc(b, ' ');
            text_of(c, b, limit);
        }
    }
}

static void trim(cl_buf *b)
{
    size_t s = 0;
    while (b->len && (b->p[b->len - 1] == ' '))
        b->p[--b->len] = 0;
    while (s < b->len && b->p[s] == ' ')
        s++;
    if (s) {
        memmove(b->p, b->p + s, b->len - s + 1);
        b->len -= s;
    }
}

/* The collapsed, trimmed text of n as a new cJSON string, NULL if empty;
 * reading stops once more than `limit` bytes are collected (text_of). */
static cJSON *text_json(cl_node *n, size_t limit)
{
    cl_buf b;
    cJSON *j = NULL;
    cl_buf_init(&b);
    text_of(n, &b, limit);
    trim(&b);
    if (b.len && !b.oom)
        j = cJSON_CreateString(b.p);
    cl_buf_free(&b);
    return j;
}

/* page[key] as an array, created on first use. */
static cJSON *page_array(cJSON *page, const char *key)
{
    cJSON *a = cJSON_GetObjectItemCaseSensitive(page, key);
    if (!a)
        a = cJSON_AddArrayToObject(page, key);
    return a;
}

/* ---- hints: title, headings, meta, JSON-LD, time -------------------------------- */

/* A JSON-LD value as text: a string, or the "name" of an object, or the
 * names of an array joined by ", ". NULL when none. */
static char *ld_text(const cJSON *v)
{
    if (cJSON_IsString(v) && v->valuestring[0])
        return strdup(v->valuestring);
    if (cJSON_IsObject(v))
        return ld_text(cJSON_GetObjectItemCaseSensitive(v, "name"));
    if (cJSON_IsArray(v)) {
        cl_buf b;
        const cJSON *e;
        cl_buf_init(&b);
        cJSON_ArrayForEach(e, v) {
            char *t = ld_text(e);
            if (!t)
                continue;
            if (b.len)
                cl_buf_puts(&b, ", ");
            cl_buf_puts(&b, t);
            free(t);
        }
        if (b.len && !b.oom)
            return b.p;
        cl_buf_free(&b);
    }
    return NULL;
}

/* Copies headline/author/datePublished/publisher of one JSON-LD object
 * (following @graph and arrays) into page.jsonld, first value wins. */
static void ld_collect(const cJSON *o, cJSON *out, int depth)
{
    static const char *const keys[] = {"headline", "author", "datePublished",
                                       "publisher", NULL};
    const cJSON *e;
    if (depth > 4)
        return;
    if (cJSON_IsArray(o)) {
        cJSON_ArrayForEach(e, o) ld_collect(e, out, depth + 1);
        return;
    }
    if (!cJSON_IsObject(o))
        return;
    for (int i = 0; keys[i]; i++) {
        char *t;
        if (cJSON_GetObjectItemCaseSensitive(out, keys[i]))
            continue;
        t = ld_text(cJSON_GetObjectItemCaseSensitive(o, keys[i]));
        if (t) {
            cJSON_AddStringToObject(out, keys[i], t);
            free(t);
        }
    }
    ld_collect(cJSON_GetObjectItemCaseSensitive(o, "@graph"), out, depth + 1);
}

static void hint_jsonld(hx *h, cl_node *n)
{
    const char *type = cl_dom_attr(n, "type");
    cl_buf body;
    cJSON *j, *out;
    if (!type || strcasecmp(type, "application/ld+json"))
        return;
    cl_buf_init(&body);
    cl_dom_text_content(n, &body);
    if (!body.p || body.oom || !(j = cJSON_Parse(body.p)))
        goto done;
    out = cJSON_GetObjectItemCaseSensitive(h->page, "jsonld");
    if (!out)
        out = cJSON_AddObjectToObject(h->page, "jsonld");
    if (out)
        ld_collect(j, out, 0);
    if (out && !out->child)
        cJSON_DeleteItemFromObjectCaseSensitive(h->page, "jsonld");
    cJSON_Delete(j);
done:
    cl_buf_free(&body);
}

static void hint_meta(hx *h, cl_node *n)
{
    static const char *const keys[] = {"name", "property", "itemprop",
                                       "http-equiv", NULL};
    const char *content = cl_dom_attr(n, "content");
    cJSON *meta;
    for (int i = 0; content && keys[i]; i++) {
        const char *k = cl_dom_attr(n, keys[i]);
        if (!k)
            continue;
        meta = cJSON_GetObjectItemCaseSensitive(h->page, "meta");
        if (!meta)
            meta = cJSON_AddObjectToObject(h->page, "meta");
        if (meta && k[0] &&
            !cJSON_GetObjectItemCaseSensitive(meta, (const char *)k))
            cJSON_AddStringToObject(meta, k, content);
        break;
    }
}

/* Keeps the short blocks right after the first h1 that carry a digit (a
 * byline such as "2019-09-05 11:10 游民星空"): pages often put them in an
 * <aside> or <header> together with the title, which pruning removes
 * before the main text and its neighbours are chosen. */
static void note_near_title(hx *h, cl_node *h1)
{
    h->near_title = cJSON_CreateArray();
    int seen = 0;
    for (cl_node *s = h1->next; s && seen < 3 && h->near_title; s = s->next) {
        if (s->type != CL_ELEM)
            continue;
        seen++;
        /* a long block (often the article itself) is not read whole: over
         * 121 bytes collected is over 120 trimmed (put_collapsed writes no
         * leading blank and at most one trailing one) */
        cJSON *t = text_json(s, 121);
        const char *v = t ? t->valuestring : NULL;
        if (v && strlen(v) <= 120 && strpbrk(v, "0123456789"))
            cJSON_AddItemToArray(h->near_title, t);
        else
            cJSON_Delete(t);
    }
}

/* Appends the near-title blocks not already among page.before. */
static void merge_near_title(hx *h, cJSON *before)
{
    cJSON *it;
    cJSON_ArrayForEach(it, h->near_title)
    {
        int dup = 0;
        cJSON *b;
        cJSON_ArrayForEach(b, before) dup |= strcmp(b->valuestring, it->valuestring) == 0;
        if (!dup)
            cJSON_AddItemToArray(before, cJSON_CreateString(it->valuestring));
    }
}

/* Walks the whole tree once for the page hints. */
static void collect_hints(hx *h, cl_node *n)
{
    for (; n; n = n->next) {
        if (n->type != CL_ELEM)
            continue;
        if (name_is(n, "title")) {
            cJSON *t;
            if (!cJSON_GetObjectItemCaseSensitive(h->page, "title") &&
                (t = text_json(n, SIZE_MAX)))
                cJSON_AddItemToObject(h->page, "title", t);
        } else if (name_is(n, "h1") || name_is(n, "h2")) {
            if (name_is(n, "h1") && !h->near_title)
                note_near_title(h, n);
            cJSON *t = text_json(n, SIZE_MAX), *a;
            a = t ? page_array(h->page, name_is(n, "h1") ? "h1" : "h2") : NULL;
            if (a && cJSON_GetArraySize(a) < 20)
                cJSON_AddItemToArray(a, t);
            else
                cJSON_Delete(t);
        } else if (name_is(n, "meta")) {
            hint_meta(h, n);
        } else if (name_is(n, "script")) {
            hint_jsonld(h, n);
            continue;
        } else if (name_is(n, "time")) {
            const char *dt = cl_dom_attr(n, "datetime");
            cJSON *a;
            if (dt && dt[0] && (a = page_array(h->page, "time")) &&
                cJSON_GetArraySize(a) < 20)
                cJSON_AddItemToArray(a, cJSON_CreateString(dt));
        }
        collect_hints(h, n->children);
    }
}

/* ---- pruning ------------------------------------------------------------------- */

/* Words that mark boilerplate when they appear anywhere in class or id. */
static const char *const BAD_SUBSTR[] = {
    "share", "comment", "related", "recommend", "breadcrumb", "crumb",
    "copyright", "footer", "sidebar", "advert", "sponsor", "banner",
    "social", "toolbar", "login", "subscribe", "newsletter", "popup",
    "modal", "cookie", "relevant", "hotnews", "hot-news", "hot_news",
    "hotlist", "morenews", "more-news", "pagination", "pager", "tuijian",
    "xiangguan", "guanggao", "disclaimer", "statement", "jiathis", "bdshare",
    "bshare", "reply", "qrcode", "erweima", "weixin", "wechat", "rank",
    "print", "fontsize", "font-size", "tags", "caption", "follow", NULL};
/* Words that mark boilerplate only as a whole token ("ad", not "head"). */
static const char *const BAD_TOKEN[] = {
    "ad", "ads", "gg", "nav", "navbar", "menu", "foot", "side", "hot",
    "header", "top", "topbar", "bottom", "tool", "tools", "links",
    "friendlink", "copy", "footnav", "crumbs", "sns", "fx", "fenxiang",
    "clear", "ewm", NULL};

/* Both lists by first letter, so that a class/id string is read once
 * (mark_init fills it, once): pattern k of letter c is mark_tab[c][k]. */
enum { MARK_PER_LETTER = 16 };
typedef struct mark_pat {
    const char *s;
    unsigned char len, token; /* token: BAD_TOKEN's, else BAD_SUBSTR's */
} mark_pat;
static mark_pat mark_tab[26][MARK_PER_LETTER];
static unsigned char mark_n[26];

static void mark_add(const char *pat, int token)
{
    int c = pat[0] - 'a';
    if (c < 0 || c >= 26 || mark_n[c] == MARK_PER_LETTER)
        abort(); /* the lists above are lower-case words, few per letter */
    mark_tab[c][mark_n[c]++] = (mark_pat){pat, (unsigned char)strlen(pat), (unsigned char)token};
}

static void mark_init(void)
{
    for (int i = 0; BAD_SUBSTR[i]; i++)
        mark_add(BAD_SUBSTR[i], 0);
    for (int i = 0; BAD_TOKEN[i]; i++)
        mark_add(BAD_TOKEN[i], 1);
}

static int alnum_lc(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* 2 when buf[0..len) (NUL-terminated, lower case) holds a BAD_SUBSTR word
 * anywhere, else 1 when it holds a BAD_TOKEN word as a whole token (no
 * letter or digit on either side), else 0. */
static int marks_in(const char *buf, size_t len)
{
    int weak = 0;
    for (size_t p = 0; p < len; p++) {
        unsigned c = (unsigned)(unsigned char)buf[p] - 'a';
        if (c >= 26)
            continue;
        for (unsigned k = 0; k < mark_n[c]; k++) {
            const mark_pat *m = &mark_tab[c][k];
            if (p + m->len > len || memcmp(buf + p, m->s, m->len))
                continue;
            if (!m->token)
                return 2;
            if ((p == 0 || !alnum_lc(buf[p - 1])) && !alnum_lc(buf[p + m->len]))
                weak = 1;
        }
    }
    return weak;
}

/* 2 when the element's class/id/style surely marks boilerplate (hidden,
 * "comment", "share", ...), 1 when a weaker whole-word mark does ("top",
 * "side"), 0 otherwise. */
static int marked_boilerplate(cl_node *n)
{
    static const char *const attrs[] = {"class", "id", NULL};
    char buf[512];
    size_t len = 0;
    int bad = 0;
    if (!n->attrs) /* no class, id, style or hidden: buf is " " */
        return 0;
    const char *sv = cl_dom_attr(n, "style");
    if (sv) {
        char *style = strdup(sv), *p, *q;
        if (!style)
            return 0;
        for (p = q = style; *p; p++) /* lower-case, no spaces */
            if (*p != ' ')
                *q++ = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        *q = 0;
        bad = strstr(style, "display:none") != NULL ||
              strstr(style, "visibility:hidden") != NULL;
        free(style);
        if (bad)
            return 2;
    }
    if (cl_dom_attr(n, "hidden"))
        return 2;
    for (int i = 0; attrs[i]; i++) {
        const char *v = cl_dom_attr(n, attrs[i]);
        for (const char *p = v; p && *p && len + 2 < sizeof buf; p++)
            buf[len++] = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        if (len + 1 < sizeof buf)
            buf[len++] = ' ';
    }
    buf[len] = 0;
    if (len <= 2)
        return 0;
    return marks_in(buf, len);
}

/* Removes the elements that never hold the article. */
static void prune_tags(cl_node *n)
{
    cl_node *next;
    for (; n; n = next) {
        next = n->next;
        if (n->type == CL_COMMENT || n->type == CL_PI) {
            cl_dom_unlink(n);
            continue;
        }
        if (n->type != CL_ELEM)
            continue;
        if ((tag_bits(n) & TAG_DROP) &&
            !(name_is(n, "header") && n->parent &&
              name_is(n->parent, "article"))) {
            cl_dom_unlink(n);
            continue;
        }
        prune_tags(n->children);
    }
}

/* ---- counts and scores ---------------------------------------------------------- */

static nstat *stat_of(cl_node *n) { return (nstat *)n->priv; }

/* Does u[i..n) start with a hanzi of U+4000..U+9FFF (three bytes, lead
 * E4..E9; U+4DC0..U+4DFF, the hexagram symbols, are E4 B7 xx)? */
static inline int run_hanzi(const unsigned char *u, size_t i, size_t n)
{
    return cl_three_at(u, i, n, 0xE4, 0xE9) &&
           !(u[i] == 0xE4 && u[i + 1] == 0xB7);
}

/* The ASCII punctuation count_text counts as symbols. */
static const unsigned char ascii_symbol[128] = {
    [','] = 1, ['.'] = 1, ['!'] = 1, ['?'] = 1,
    [';'] = 1, [':'] = 1, ['"'] = 1, ['\''] = 1};

/* Counts the non-space characters and the symbols of a text node:
 * punctuation, and spaces between two hanzi (blogs that write no commas
 * separate their clauses with them).  cl_count_blocks takes most of the text
 * when `wide` (off only in cl_check_count_text's reference run), tried
 * again once the loop is past the byte that stopped it. */
static void count_text(const char *s, size_t n, long *chars, long *punct,
                       int wide)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, bad, retry = 0;
    uint32_t prev = 0;
    int gap = 0;
    long nc = 0, np = 0; /* in registers: the callers' counters may alias */
    while (i < n) {
        uint32_t cp;
        unsigned char b;
#ifdef __SSE2__
        if (wide && !gap && i >= retry) { /* no blank waits for its verdict */
            size_t j = cl_count_blocks(u, i, n, &nc, &np, &bad);
            retry = bad + 1;
            if (j > i) {
                /* the last character the lanes took: ASCII, two bytes
                 * (lead C3..C7) or three */
                prev = u[j - 1] < 0x80 ? u[j - 1]
                       : (u[j - 2] & 0xE0) == 0xC0
                           ? (uint32_t)(u[j - 2] & 0x1F) << 6 | (u[j - 1] & 0x3F)
                           : (uint32_t)(u[j - 3] & 0x0F) << 12 |
                                 (uint32_t)(u[j - 2] & 0x3F) << 6 | (u[j - 1] & 0x3F);
                i = j;
                if (i >= n)
                    break;
            }
        }
#endif
        b = u[i];
        if (b > ' ' && b < 0x80 && !ascii_symbol[b]) { /* a run of them */
            do {
                i++;
                nc++;
            } while (i < n && u[i] > ' ' && u[i] < 0x80 && !ascii_symbol[u[i]]);
            gap = 0;
            prev = u[i - 1];
            continue;
        }
        if (b < 0x80) { /* ASCII: blanks and controls, or a letter/mark */
            i++;
            if (b <= ' ') {
                gap = gap || (prev >= 0x3007 && cl_is_han(prev));
                continue;
            }
            nc++;
            np += ascii_symbol[b];
            gap = 0;
            prev = b;
            continue;
        }
        if (run_hanzi(u, i, n)) { /* a run of them: counted, the last kept */
            np += gap; /* a hanzi is never punctuation */
            gap = 0;
            do {
                i += 3;
                nc++;
            } while (run_hanzi(u, i, n));
            prev = (uint32_t)(u[i - 3] & 0x0F) << 12 |
                   (uint32_t)(u[i - 2] & 0x3F) << 6 | (u[i - 1] & 0x3F);
            continue;
        }
        i += (size_t)cl_utf8_next(s + i, n - i, &cp);
        if (cp <= ' ' || cl_is_space(cp)) {
            gap = gap || cl_is_han(prev);
            continue;
        }
        nc++;
        if (cl_is_punct(cp) || (gap && cl_is_han(cp)))
            np++;
        gap = 0;
        prev = cp;
    }
    *chars += nc;
    *punct += np;
}

long cl_check_count_text(const char *s, size_t *skipped)
{
    long c1 = 0, p1 = 0, c0 = 0, p0 = 0;
    size_t n = strlen(s);
    *skipped = 0;
#ifdef __SSE2__
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0, j, bad; i < n; i = j > i ? j : i + 1) {
        long nc = 0, np = 0;
        j = cl_count_blocks(u, i, n, &nc, &np, &bad);
        *skipped += j - i;
    }
#endif
    count_text(s, n, &c1, &p1, 1);
    count_text(s, n, &c0, &p0, 0);
    return c1 != c0 || p1 != p0;
}

/* The counts of text node t: counted on the first call, remembered in
 * h->tcount (index + 1 in t->priv) for the recount after pruning. */
static void text_counts(hx *h, cl_node *t, long *chars, long *punct)
{
    intptr_t k = (intptr_t)t->priv;
    if (k > 0 && (size_t)k <= h->ntc) {
        *chars = h->tcount[k - 1][0];
        *punct = h->tcount[k - 1][1];
        return;
    }
    *chars = *punct = 0;
    count_text(t->content, t->len, chars, punct, 1); /* text holds no NUL */
    if (h->ntc == h->captc) {
        size_t cap = h->captc ? h->captc * 2 : 256;
        long(*p)[2] = realloc(h->tcount, cap * sizeof *p);
        if (!p)
            return; /* not remembered: counted again next time */
        h->tcount = p;
        h->captc = cap;
    }
    h->tcount[h->ntc][0] = *chars;
    h->tcount[h->ntc][1] = *punct;
    t->priv = (void *)(intptr_t)++h->ntc;
}

/* Fills the counts of n and its descendants (post-order); `in_link` when n
 * is inside an <a>.  Stats live in h->pool, addressed by index. */
static long fill_stats(hx *h, cl_node *n, int in_link)
{
    long idx;
    nstat s = {0};
    int is_a = name_is(n, "a");
    if (h->npool == h->cappool) {
        size_t cap = h->cappool ? h->cappool * 2 : 1024;
        nstat *p = realloc(h->pool, cap * sizeof *p);
        if (!p) {
            h->oom = 1;
            return -1;
        }
        h->pool = p;
        h->cappool = cap;
    }
    idx = (long)h->npool++;
    for (cl_node *c = n->children; c; c = c->next) {
        if (c->type == CL_TEXT || c->type == CL_CDATA) {
            long chars, punct;
            text_counts(h, c, &chars, &punct);
            s.text += chars;
            if (in_link || is_a)
                s.link_text += chars;
            else
                s.punct += punct;
        } else if (c->type == CL_ELEM) {
            long ci = fill_stats(h, c, in_link || is_a);
            nstat *cs;
            if (ci < 0)
                return -1;
            cs = &h->pool[ci];
            s.text += cs->text;
            s.link_text += cs->link_text;
            s.tags += cs->tags + 1;
            s.link_tags += cs->link_tags + name_is(c, "a");
            s.punct += cs->punct;
            s.paras += cs->paras + (name_is(c, "p") || name_is(c, "br"));
        }
    }
    h->pool[idx] = s;
    n->priv = (void *)(intptr_t)(idx + 1);
    return idx;
}

/* Turns the pool indexes stored by fill_stats into pointers (the pool no
 * longer moves). */
static void bind_stats(hx *h, cl_node *n)
{
    for (; n; n = n->next) {
        if (n->type != CL_ELEM)
            continue;
        if (n->priv)
            n->priv = &h->pool[(intptr_t)n->priv - 1];
        bind_stats(h, n->children);
    }
}

/* Removes class/id-marked boilerplate.  A weak mark is ignored when the
 * element holds a large share of the page's punctuation (then it is wrong). */
static void prune_marked(hx *h, cl_node *n)
{
    cl_node *next;
    for (; n; n = next) {
        next = n->next;
        if (n->type != CL_ELEM)
            continue;
        int mark = name_is(n, "body") || name_is(n, "html")
                       ? 0
                       : marked_boilerplate(n);
        if (mark) {
            nstat *s = stat_of(n);
            if (mark == 2 || !s || s->punct * 10 < h->doc_punct * 4) {
                cl_dom_unlink(n);
                continue;
            }
        }
        prune_marked(h, n->children);
    }
}

/* The density score of one element (see the file comment). */
static double score_of(const nstat *s)
{
    double nonlink = (double)(s->text - s->link_text);
    double td, ld;
    if (nonlink <= 0 || s->punct == 0)
        return 0;
    td = nonlink / (double)(s->tags - s->link_tags + 1);
    ld = s->text ? (double)s->link_text / (double)s->text : 0;
    return td * log10((double)s->paras + 2) * log1p((double)s->punct) *
           (1 - ld) * (1 - ld);
}

static void score_all(cl_node *n, cl_node **best, double *best_score)
{
    for (; n; n = n->next) {
        nstat *s;
        if (n->type != CL_ELEM || !(s = stat_of(n)))
            continue;
        s->score = score_of(s);
        if (!name_is(n, "a") && !name_is(n, "p") && s->score > *best_score &&
            !name_is(n, "html")) {
            *best = n;
            *best_score = s->score;
        }
        score_all(n->children, best, best_score);
    }
}

/* ---- choosing the main content ------------------------------------------------------ */

/* Does a sibling of the main node read like more of the article: enough
 * text outside links, punctuated like prose (a mark per 40 characters), few
 * links? */
static int sibling_is_content(const nstat *s)
{
    long nonlink = s->text - s->link_text;
    if (nonlink < 20 || s->punct < 2)
        return 0;
    if (s->link_text * 3 > s->text)
        return 0;
    return s->punct * 40 >= nonlink;
}

/* Inside a sibling that is not content as a whole (a lead box beside a
 * gallery), keeps the paragraphs that read like prose: 50+ characters
 * outside links, links under half the text, punctuated. */
static void keep_prose_blocks(cl_node *n)
{
    for (; n; n = n->next) {
        nstat *s;
        if (n->type != CL_ELEM || !(s = stat_of(n)))
            continue;
        if ((name_is(n, "p") || name_is(n, "div")) &&
            s->text - s->link_text >= 50 && s->link_text * 2 < s->text &&
            s->punct * 30 >= s->text - s->link_text && s->paras < 2) {
            s->keep = 1;
            continue;
        }
        keep_prose_blocks(n->children);
    }
}

/* The paragraphs of the main node (and siblings that join it) are marked
 * keep = 1. */
static cl_node *choose_main(hx *h, cl_node *root)
{
    cl_node *best = NULL, *p;
    double best_score = 0;
    score_all(root, &best, &best_score);
    if (!best)
        return NULL;
    /* climb while the parent adds little besides the node itself */
    while ((p = best->parent) && p->type == CL_ELEM &&
           !name_is(p, "body") && !name_is(p, "html") && stat_of(p)) {
        nstat *ps = stat_of(p), *bs = stat_of(best);
        int adds_little =
            (ps->text - ps->link_text) * 20 <= (bs->text - bs->link_text) * 21;
        /* a lone paragraph won: its parent holds far more prose */
        int lone = ps->punct >= bs->punct * 3 && ps->link_text * 10 < ps->text * 3 &&
                   bs->paras < 2;
        if (!adds_little && !lone)
            break;
        best = p;
    }
    if (debug_main) {
        for (cl_node *a = best; a && a->type == CL_ELEM; a = a->parent) {
            const char *c = cl_dom_attr(a, "class");
            const char *i = cl_dom_attr(a, "id");
            nstat *s = stat_of(a);
            fprintf(stderr, "clean: main %s.%s#%s text=%ld link=%ld punct=%ld score=%.1f\n",
                    NAME(a), c ? c : "", i ? i : "",
                    s ? s->text : 0, s ? s->link_text : 0, s ? s->punct : 0, s ? s->score : 0);
        }
    }
    stat_of(best)->keep = 1;
    for (cl_node *s = best->parent ? best->parent->children : NULL; s;
         s = s->next) {
        nstat *ss;
        if (s == best || s->type != CL_ELEM || !(ss = stat_of(s)))
            continue;
        if (sibling_is_content(ss))
            ss->keep = 1;
        else
            keep_prose_blocks(s->children);
    }
    (void)h;
    return best;
}

/* ---- writing paragraphs ---------------------------------------------------------- */

typedef struct writer {
    cl_buf *out;       /* the main text */
    cl_buf line;       /* the block being collected */
    cJSON *before, *after;
    int region;        /* 0 before the main content, 1 inside, 2 after */
    cl_stats *st;
} writer;

/* Ends the current line: into the text inside the main content, into the
 * before/after lists outside (short blocks only, nearest ones kept). */
static void flush_line(writer *w)
{
    size_t cps;
    trim(&w->line);
    if (w->line.len == 0 || w->line.oom) {
        w->line.len = 0;
        return;
    }
    if (w->region == 1) {
        if (w->out->len)
            cl_buf_putc(w->out, '\n');
        cl_buf_put(w->out, w->line.p, w->line.len);
    } else if (w->line.len <= 120 ||
               (cps = cl_utf8_count(w->line.p, w->line.len)) <= 120) {
        cJSON *a = w->region == 0 ? w->before : w->after;
        if (w->region == 0 && cJSON_GetArraySize(a) >= 8)
            cJSON_DeleteItemFromArray(a, 0);
        if (w->region == 0 || cJSON_GetArraySize(a) < 8)
            cJSON_AddItemToArray(a, cJSON_CreateString(w->line.p));
    }
    w->line.len = 0;
}

/* A link-heavy block inside the article (a related-links list). */
static int link_block(cl_node *n)
{
    nstat *s = stat_of(n);
    return s && (name_is(n, "ul") || name_is(n, "ol") || name_is(n, "div") ||
                 name_is(n, "table") || name_is(n, "section") ||
                 name_is(n, "p") || name_is(n, "li")) &&
           s->text > 0 && s->link_text * 10 >= s->text * 7 &&
           s->text - s->link_text < 60;
}

static void write_node(writer *w, cl_node *n, int inside)
{
    for (; n; n = n->next) {
        if (n->type == CL_TEXT || n->type == CL_CDATA) {
            put_collapsed(&w->line, n->content);
            continue;
        }
        if (n->type != CL_ELEM)
            continue;
        if (name_is(n, "br")) {
            flush_line(w);
            continue;
        }
        if (!inside && stat_of(n) && stat_of(n)->keep) {
            flush_line(w);
            w->region = 1;
            write_node(w, n->children, 1);
            flush_line(w);
            w->region = 2;
            continue;
        }
        if (inside && (link_block(n) || name_is(n, "h1")))
            continue; /* the title lives in page.h1 */
        if (is_block(n))
            flush_line(w);
        write_node(w, n->children, inside);
        if (is_block(n))
            flush_line(w);
    }
}

/* ---- the whole ------------------------------------------------------------------ */

int cl_looks_like_html(const char *s, size_t n)
{
    static const char *const marks[] = {"<!doctype", "<html", "<head",
                                        "<body", "<meta", "<div", "<p>",
                                        "<p ", "<title", "<table", "<span",
                                        "<article", "<br", NULL};
    size_t lim = n < 4096 ? n : 4096;
    int hits = 0;
    for (size_t i = 0; i < lim; i++) {
        if (s[i] != '<')
            continue;
        for (int k = 0; marks[k]; k++) {
            size_t m = strlen(marks[k]);
            if (i + m <= n && !strncasecmp(s + i, marks[k], m)) {
                if (k < 5)
                    return 1;
                hits++;
                break;
            }
        }
        if (hits >= 2)
            return 1;
    }
    return 0;
}

static cl_node *find_body(cl_node *n)
{
    for (; n; n = n->next) {
        cl_node *b;
        if (name_is(n, "body"))
            return n;
        if (n->type == CL_ELEM && (b = find_body(n->children)))
            return b;
    }
    return NULL;
}

int cl_html_parse(cl_dom *d, const char *html, size_t n, int veil, int *veiled)
{
    cl_veil v;
    int rc = 1; /* not parsed veiled (yet) */
    if (veiled)
        *veiled = 0;
    if (veil && cl_veil_make(&v, html, n) == 0 && v.html) {
        if ((rc = cl_dom_parse(d, v.html, v.html_len, &v)) == 0)
            rc = cl_veil_restore(&v, d);
        if (rc)
            cl_dom_free(d);
        else if (veiled)
            *veiled = 1;
    }
    if (veil)
        cl_veil_free(&v);
    return rc ? cl_dom_parse(d, html, n, NULL) : 0;
}

int cl_html_extract(const char *html, size_t n, cl_buf *text, cJSON *page,
                    cl_stats *st)
{
    hx h = {0};
    writer w = {0};
    cl_dom dom;
    cl_node *root, *body, *main;
    int rc = 0;
    if (n > (size_t)INT32_MAX)
        return TJ_EINVAL;
    pthread_once(&tag_once, tag_init);
    if ((rc = cl_html_parse(&dom, html, n, 1, NULL)) != 0) {
        cl_dom_free(&dom);
        return rc == TJ_ENOMEM ? rc : TJ_EPARSE;
    }
    root = cl_dom_root(&dom);
    h.page = page;
    collect_hints(&h, root);
    prune_tags(root);
    body = find_body(root);
    if (!body)
        body = root;
    if (fill_stats(&h, body, 0) < 0)
        goto oom;
    bind_stats(&h, body);
    h.doc_punct = stat_of(body)->punct;
    prune_marked(&h, body->children);
    /* recount without the pruned elements */
    h.npool = 0;
    if (fill_stats(&h, body, 0) < 0)
        goto oom;
    bind_stats(&h, body);
    main = choose_main(&h, body->children);
    w.out = text;
    w.st = st;
    cl_buf_init(&w.line);
    w.before = cJSON_CreateArray();
    w.after = cJSON_CreateArray();
    if (!w.before || !w.after)
        goto oom;
    w.region = main ? 0 : 1;
    write_node(&w, body->children, !main);
    flush_line(&w);
    merge_near_title(&h, w.before);
    if (cJSON_GetArraySize(w.before) > 0)
        cJSON_AddItemToObject(page, "before", w.before), w.before = NULL;
    if (cJSON_GetArraySize(w.after) > 0)
        cJSON_AddItemToObject(page, "after", w.after), w.after = NULL;
    if (w.line.oom || text->oom)
        goto oom;
    goto done;
oom:
    rc = TJ_ENOMEM;
done:
    cJSON_Delete(w.before);
    cJSON_Delete(w.after);
    cJSON_Delete(h.near_title);
    cl_buf_free(&w.line);
    free(h.pool);
    free(h.tcount);
    cl_dom_free(&dom);
    return rc;
}
