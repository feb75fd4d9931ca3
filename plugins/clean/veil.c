/*
 * veil.c - long text runs of a page stood in by short tokens while libxml2
 * parses it, put back into the tree afterwards.
 *
 * libxml2's HTML parser reads character data one code point at a time
 * (about 70 instructions per hanzi); the markup is what it must see.  So
 * before parsing, every long run of "safe" text is replaced by a token
 * U+FDD0 <decimal index> U+FDD1, and after parsing the tokens found in
 * text, CDATA, comment and PI nodes are replaced by the runs again.
 *
 * Why the tree is the one the page itself gives.  A run follows a '>' (and
 * blanks), after which no parser state looks back or ahead at it, and
 * ends just before a '<' or '&', which look only ahead.  It holds no '<',
 * '>', '&', CR, control character, U+FFFE or U+FFFF, so in every parser
 * state that can hold it whole it is consumed the same way as its token:
 * as character data (stopped only by '<', '&', NUL), as script/style raw
 * text (stopped only by "</"), inside a comment or PI (stopped only by
 * '>'); the state after it is the same, and by induction over the runs so
 * is the rest of the parse.  The one thing that depends on the bytes
 * themselves is libxml2's dropping of a 1000-byte chunk of character data
 * made only of blanks when '<' follows it (areBlanks): a run starts on a
 * non-blank and, when '<' follows, ends on one, so no such chunk differs.
 * Any other state (inside a tag, an attribute value, a doctype, a skipped
 * bogus tag) swallows the token; then some token is not found exactly
 * once and the caller parses the page itself instead.  The page must be
 * valid UTF-8 without NUL and without U+FDD0/U+FDD1 (else: no veil), and
 * under 8 MB (libxml2 cuts text nodes at 10 MB).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <taojin/stage.h>

#include "clean.h"

#define MARK_OPEN "\xEF\xB7\x90"  /* U+FDD0 */
#define MARK_CLOSE "\xEF\xB7\x91" /* U+FDD1 */

enum {
    MIN_RUN = 40,      /* shorter runs are not worth a token */
    MAX_PAGE = 8 << 20 /* libxml2 truncates text nodes at 10 MB */
};

static int is_blank(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Length of the valid UTF-8 sequence at s[0..n), 0 when invalid or when it
 * is U+FDD0 / U+FDD1 (the token marks) or NUL. */
static size_t valid_char(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return c != 0;
    if (c >= 0xC2 && c <= 0xDF)
        return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
            return 0;
        if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] > 0x9F))
            return 0; /* overlong, surrogate */
        if (c == 0xEF && s[1] == 0xB7 && (s[2] == 0x90 || s[2] == 0x91))
            return 0; /* a token mark already in the page */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
            (s[3] & 0xC0) != 0x80)
            return 0;
        if ((c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] > 0x8F))
            return 0;
        return 4;
    }
    return 0;
}

/* 1 when the page may be veiled: valid UTF-8, no NUL, no token marks.
 * ASCII goes eight bytes at a time, three-byte characters led by E1..EC
 * (hanzi among them: never overlong, never a surrogate or a mark) inline. */
static int page_ok(const unsigned char *s, size_t n)
{
    const uint64_t hi = 0x8080808080808080ull, ones = 0x0101010101010101ull;
    size_t i = 0, k;
    while (i < n) {
        unsigned char c = s[i];
        if (c >= 0x80) {
            if (c >= 0xE1 && c <= 0xEC && i + 2 < n &&
                (s[i + 1] & 0xC0) == 0x80 && (s[i + 2] & 0xC0) == 0x80) {
                i += 3;
                continue;
            }
            if (!(k = valid_char(s + i, n - i)))
                return 0;
            i += k;
            continue;
        }
        if (!c)
            return 0;
        i++;
        while (i + 8 <= n) { /* the ASCII that follows, a word at a time */
            uint64_t w;
            memcpy(&w, s + i, 8);
            if ((w & hi) || ((w - ones) & ~w & hi))
                break;
            i += 8;
        }
    }
    return 1;
}

/* Bytes of each character by its lead byte when it is safe, 0 when not:
 * '<', '>', '&', CR, controls other than TAB and LF (U+FFFE and U+FFFF,
 * also unsafe, are told apart by the caller).  Filled once. */
static unsigned char safe_len[256];

static void safe_init(void)
{
    for (int c = 0; c < 256; c++)
        safe_len[c] = c < 0x80 ? !(c == '<' || c == '>' || c == '&' ||
                                   c == '\r' || (c < 0x20 && c != '\t' && c != '\n'))
                      : c < 0xC0 ? 0 /* never a lead in valid UTF-8 */
                      : c < 0xE0 ? 2
                      : c < 0xF0 ? 3
                                 : 4;
}

/* End of the stretch of safe characters starting at s[a], checking on the
 * way that they are valid UTF-8 (*bad set when not).  The character that
 * ends the stretch is left for page_ok. */
static size_t safe_end(const unsigned char *s, size_t n, size_t a, int *bad)
{
    while (a < n) {
        unsigned char c = s[a];
        size_t k = safe_len[c];
        if (k == 1) {
            a++;
            continue;
        }
        if (!k)
            break; /* unsafe ASCII, or a stray continuation byte */
        if (c >= 0xE1 && c <= 0xEC && a + 2 < n && (s[a + 1] & 0xC0) == 0x80 &&
            (s[a + 2] & 0xC0) == 0x80) {
            do /* hanzi and most of the BMP: valid, safe; a run at once */
                a += 3;
            while (cl_three_at(s, a, n, 0xE1, 0xEC));
            continue;
        }
        if (!(k = valid_char(s + a, n - a))) {
            *bad = 1;
            return a;
        }
        if (c == 0xEF && s[a + 1] == 0xBF && s[a + 2] >= 0xBE)
            break; /* U+FFFE, U+FFFF */
        a += k;
    }
    return a;
}

/* Remembers run s[off..off+len) as token number v->n. */
static int add_run(cl_veil *v, size_t off, size_t len)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        size_t *o = realloc(v->off, cap * sizeof *o);
        if (!o)
            return -1;
        v->off = o;
        if (!(o = realloc(v->len, cap * sizeof *o)))
            return -1;
        v->len = o;
        v->cap = cap;
    }
    v->off[v->n] = off;
    v->len[v->n] = len;
    v->n++;
    return 0;
}

/* Finds the runs worth a token in s[0..n): after a '>' and its blanks,
 * safe characters up to a '<' or '&' (see the file comment).  The page is
 * checked on the way (page_ok between runs, safe_end within): returns 0,
 * 1 when the page may not be veiled, -1 when out of memory. */
static int find_runs(cl_veil *v, const unsigned char *s, size_t n)
{
    const unsigned char *gt;
    size_t i = 0;
    int bad = 0;
    while (i < n && (gt = memchr(s + i, '>', n - i))) {
        size_t a = (size_t)(gt - s) + 1, b;
        if (!page_ok(s + i, a - i))
            return 1;
        while (a < n && is_blank(s[a]))
            a++;
        b = safe_end(s, n, a, &bad);
        if (bad)
            return 1;
        i = b;
        if (b >= n || (s[b] != '<' && s[b] != '&'))
            continue;
        if (b > a && is_blank(s[b - 1]) && s[b] == '<')
            continue; /* trailing blanks before '<' */
        while (b > a && is_blank(s[b - 1]))
            b--;
        if (b - a >= MIN_RUN && add_run(v, a, b - a) < 0)
            return -1;
    }
    return i < n && !page_ok(s + i, n - i);
}

/* Writes token r (U+FDD0, r in decimal, U+FDD1) to t; returns its length. */
static size_t token(size_t r, char *t)
{
    char digits[24];
    size_t nd = 0, len = 0;
    do
        digits[nd++] = (char)('0' + r % 10);
    while ((r /= 10));
    memcpy(t, MARK_OPEN, 3);
    len = 3;
    while (nd)
        t[len++] = digits[--nd];
    memcpy(t + len, MARK_CLOSE, 3);
    return len + 3;
}

int cl_veil_make(cl_veil *v, const char *html, size_t n)
{
    const unsigned char *s = (const unsigned char *)html;
    cl_buf out;
    size_t at = 0;
    memset(v, 0, sizeof *v);
    v->src = html;
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, safe_init);
    if (n > MAX_PAGE)
        return 0;
    switch (find_runs(v, s, n)) {
    case 0:
        break;
    case 1: /* not valid UTF-8, NUL, token marks: no veil */
        cl_veil_free(v);
        return 0;
    default:
        goto oom;
    }
    if (v->n == 0) {
        cl_veil_free(v);
        return 0;
    }
    cl_buf_init(&out);
    cl_buf_reserve(&out, n); /* the veiled page is shorter */
    for (size_t r = 0; r < v->n; r++) {
        char tok[32];
        cl_buf_put(&out, html + at, v->off[r] - at);
        cl_buf_put(&out, tok, token(r, tok));
        at = v->off[r] + v->len[r];
    }
    cl_buf_put(&out, html + at, n - at);
    if (out.oom) {
        cl_buf_free(&out);
        goto oom;
    }
    v->html = out.p;
    v->html_len = out.len;
    if (!(v->found = calloc(v->n, 1)))
        goto oom;
    return 0;
oom:
    cl_veil_free(v);
    return TJ_ENOMEM;
}

/* Puts the runs back into one node's content.  Returns 0, 1 when a token
 * is malformed, unknown or met twice, or TJ_ENOMEM. */
static int restore_node(cl_veil *v, cl_dom *d, cl_node *node, cl_buf *b)
{
    const char *s = node->content, *p, *end = node->content + node->len;
    if (!(p = strstr(s, MARK_OPEN)))
        return 0;
    b->len = 0;
    do {
        char *q;
        unsigned long r;
        cl_buf_put(b, s, (size_t)(p - s));
        p += 3;
        r = strtoul(p, &q, 10);
        if (q == p || strncmp(q, MARK_CLOSE, 3) || r >= v->n || v->found[r])
            return 1;
        v->found[r] = 1;
        v->nfound++;
        cl_buf_put(b, v->src + v->off[r], v->len[r]);
        s = q + 3;
    } while ((p = strstr(s, MARK_OPEN)));
    cl_buf_put(b, s, (size_t)(end - s));
    if (b->oom)
        return TJ_ENOMEM;
    return cl_dom_set_content(d, node, b->p, b->len);
}

/* Walks n and its siblings and descendants (not attributes). */
static int restore_tree(cl_veil *v, cl_dom *d, cl_node *n, cl_buf *b)
{
    int rc;
    for (; n; n = n->next) {
        switch (n->type) {
        case CL_TEXT:
        case CL_CDATA:
        case CL_COMMENT:
        case CL_PI:
            if ((rc = restore_node(v, d, n, b)))
                return rc;
            break;
        case CL_ELEM:
            if (n->children && (rc = restore_tree(v, d, n->children, b)))
                return rc;
            break;
        default:
            break;
        }
    }
    return 0;
}

int cl_veil_restore(cl_veil *v, cl_dom *d)
{
    cl_buf b;
    int rc;
    cl_buf_init(&b);
    rc = restore_tree(v, d, d->doc.children, &b);
    cl_buf_free(&b);
    return rc ? rc : v->nfound != v->n;
}

void cl_veil_free(cl_veil *v)
{
    free(v->html);
    free(v->off);
    free(v->len);
    free(v->found);
    memset(v, 0, sizeof *v);
}
