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
 *
 * Script and style bodies (a third of a news page's bytes, read by libxml2
 * a character at a time) are veiled whole: from the '>' that seems to end
 * a <script ...> or <style ...> start tag to the first "</script" (or
 * "</style"), in any case, when that exists, the body does not start with
 * '<', and it holds no NUL, CR, control character other than TAB and LF,
 * U+FFFE or U+FFFF.  Such a token only counts when it comes back as the
 * whole content of a CDATA node of an element of that name.  Why that is
 * enough: CDATA comes only from htmlParseScript, which collects the
 * characters of the current script/style element up to "</" and its name
 * (recovery mode), every piece into the element's one CDATA node; a node
 * holding just the token means the veiled parse, at the token, began that
 * element's data at a loop step of htmlParseContentInternal.  The parse
 * of the page itself is in the same state there (same bytes before); its
 * step looks at the first character ('<' alone starts anything else, and
 * the body starts otherwise), reads the body as data, every character
 * kept as it is, and stops where the body ends, at the same "</script"
 * the veiled parse stopped at.  A start tag guessed wrong (a '>' inside a
 * quoted value, a tag inside a comment or an attribute) leaves the token
 * in an attribute, a comment or text: not found, or not alone in CDATA, so
 * the page is parsed as it is.
 *
 * Long quoted attribute values (class lists, URLs, inline styles, JSON in
 * data-*: the rest of what libxml2 reads a character at a time, twice)
 * are veiled too, between their quotes, when they hold no '&', NUL, CR or
 * control character but TAB and LF, U+FFFE or U+FFFF.  Such a token only
 * counts when it comes back as the whole value of an attribute.  Why that
 * is enough: a value comes only from htmlParseAttValue; one that is just
 * the token began at the token, right after the quote before it (an
 * unquoted value cannot start after a quote), so the parser took that
 * quote as the value's opening one.  The parse of the page itself, in the
 * same state there, reads the value up to the next such quote, which ends
 * it, keeping every character, and goes on from the same place.
 *
 * A start tag's whole attribute list, when veil.c can read it the way
 * htmlParseStartTag does (read_attrs: names, '=', values quoted or not or
 * none, blanks, up to '>' or "/>"; anything else leaves the list to
 * libxml2), is stood in by one valueless attribute " t" (names, quotes
 * and short values were most of what libxml2 still read a character at
 * a time, with a malloc per value).  When an element comes with just that
 * attribute, its start ending right after the stand-in (cl_veil_attrs),
 * the list is read again from the page into the element: names lower-
 * cased, the first of a repeated name kept, "&amp;" decoded, a missing
 * value as SAX2 gives it.  Why that is enough: only the attribute loop
 * of a start tag reads " t" as an attribute, so that loop stood at the
 * list's start (an implied element has no attributes); the parse of the
 * page itself is in the same state there and reads the list to the same
 * place, making those attributes, for whichever element the loop is
 * reading.  <html>, <head>, <body> (whose attributes a second one loses)
 * and <meta> (htmlCheckMeta reads them) keep theirs.
 *
 * Blank runs between a '>' and a '<' (a quarter of what libxml2 is left to
 * read of a veiled news page: indentation) are cut to their first byte;
 * the tree builder puts each back (cl_veil_text) when a `characters`
 * event brings exactly that byte and ends right before that '<'.  Why
 * that is enough: such an event comes only from htmlParseCharData having
 * begun a chunk at the byte (any other event ends after '&', ';' or '<'),
 * and the parse of the page itself, in the same state there, reads the
 * whole run into that one chunk (it is under the 1000 bytes that would
 * split it), stops at the same '<' and, the chunk being blank like the
 * byte, makes the same areBlanks decision.  A run whose byte is met
 * elsewhere (skipped before the first element, inside a comment, an
 * attribute or a script) is not put back; then the page is parsed as it
 * is.  Blank runs are only cut after the first start tag, since the
 * prologue's blanks are skipped, not read.
 *
 * The tokens are looked for only in the nodes the tree builder lists
 * (cl_veil_note): each node it makes or adds to where a token has just
 * ended in the veiled page.  That saves a walk of the whole tree and
 * changes nothing else: a token elsewhere is not found, so the page is
 * parsed as it is.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <taojin/stage.h>

#include "clean.h"

#include <strings.h>

#define MARK_OPEN "\xEF\xB7\x90"  /* U+FDD0 */
#define MARK_CLOSE "\xEF\xB7\x91" /* U+FDD1 */

enum {
    MIN_RUN = 40,      /* shorter runs are not worth a token */
    MIN_ATTR = 24,     /* nor shorter attribute values */
    MIN_ATTRS = 20,    /* nor shorter attribute lists */
    MAX_NAME = 100,    /* htmlParseHTMLName cuts names there */
    MIN_BLANK = 2,     /* blank runs worth cutting */
    MAX_BLANK = 512,   /* under htmlParseCharData's 1000-byte chunks */
    MAX_PAGE = 8 << 20 /* libxml2 truncates text nodes at 10 MB */
};

/* Classes of bytes, filled once (safe_init): blanks (IS_BLANK_CH), bytes
 * of an HTML name (htmlParseHTMLName) and those that may start one, and
 * the bytes value_ok looks at twice. */
enum { C_BLANK = 1, C_NAME = 2, C_START = 4, C_VALUE = 8 };
static unsigned char cls[256];

static int is_blank(unsigned char c)
{
    return cls[c] & C_BLANK;
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
            if (cl_word_high(w) || cl_word_has(w, 0))
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
static pthread_once_t safe_once = PTHREAD_ONCE_INIT;

static void safe_init(void)
{
    for (int c = 0; c < 256; c++) {
        int letter = (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
        cls[c] = (unsigned char)((c == ' ' || c == '\t' || c == '\n' || c == '\r' ? C_BLANK : 0) |
                                 (letter || (c >= '0' && c <= '9') || c == ':' || c == '-' ||
                                          c == '_' || c == '.'
                                      ? C_NAME
                                      : 0) |
                                 (letter || c == ':' || c == '_' || c == '.' ? C_START : 0) |
                                 (c == '&' || c == 0xEF || (c < 0x20 && c != '\t' && c != '\n')
                                      ? C_VALUE
                                      : 0));
    }
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
 * ends the stretch is left for page_ok.  cl_safe_blocks takes most of a long
 * stretch when `wide` (off only in cl_check_safe_end's reference run),
 * tried again once the loop is past the byte that stopped it. */
static size_t safe_end_in(const unsigned char *s, size_t n, size_t a,
                          int *bad, int wide)
{
#ifdef __SSE2__
    size_t stop, retry = 0;
#endif
    while (a < n) {
#ifdef __SSE2__
        if (wide && a >= retry) {
            a = cl_safe_blocks(s, n, a, &stop);
            retry = stop + 1;
            if (a >= n)
                break;
        }
#endif
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

static size_t safe_end(const unsigned char *s, size_t n, size_t a, int *bad)
{
    return safe_end_in(s, n, a, bad, 1);
}

long cl_check_safe_end(const char *page, size_t n, size_t a, size_t *skipped)
{
    const unsigned char *s = (const unsigned char *)page;
    int bad1 = 0, bad0 = 0;
    size_t end;
    pthread_once(&safe_once, safe_init);
    end = safe_end_in(s, n, a, &bad0, 0);
    *skipped = 0;
#ifdef __SSE2__
    for (size_t i = a, j, stop; i < end; i = j > i ? j : i + 1) {
        j = cl_safe_blocks(s, n, i, &stop);
        *skipped += j - i;
    }
#endif
    return safe_end_in(s, n, a, &bad1, 1) != end || bad1 != bad0;
}

/* Remembers run s[off..off+len) as token number v->n, of `kind`
 * (RUN_TEXT, RUN_SCRIPT, RUN_STYLE). */
static int add_run(cl_veil *v, size_t off, size_t len, int kind)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        size_t *o = realloc(v->off, cap * sizeof *o);
        unsigned char *k;
        if (!o)
            return -1;
        v->off = o;
        if (!(o = realloc(v->len, cap * sizeof *o)))
            return -1;
        v->len = o;
        if (!(k = realloc(v->kind, cap)))
            return -1;
        v->kind = k;
        v->cap = cap;
    }
    v->off[v->n] = off;
    v->len[v->n] = len;
    v->kind[v->n] = (unsigned char)kind;
    v->n++;
    return 0;
}

static const char *const RUN_TAG[] = {[RUN_SCRIPT] = "script", [RUN_STYLE] = "style"};

enum { TAG_COMMENT = RUN_BLANK + 1, TAG_START };

/* What the '>' at s[gt] seems to end: TAG_COMMENT when s[i..gt) holds
 * the start of a comment ("<!--", its offset in *lt); TAG_START when its
 * last '<' (offset in *lt) opens a start tag (a letter follows); else
 * RUN_TEXT. */
static int tag_kind(const unsigned char *s, size_t i, size_t gt, size_t *lt)
{
    const unsigned char *p, *last = NULL;
    for (size_t j = i; j < gt && (p = memchr(s + j, '<', gt - j)); j = (size_t)(p - s) + 1) {
        if ((size_t)(p - s) + 4 <= gt && !memcmp(p + 1, "!--", 3)) {
            *lt = (size_t)(p - s);
            return TAG_COMMENT;
        }
        last = p;
    }
    if (!last || !((last[1] | 0x20) >= 'a' && (last[1] | 0x20) <= 'z'))
        return RUN_TEXT;
    *lt = (size_t)(last - s);
    return TAG_START;
}

/* RUN_SCRIPT or RUN_STYLE when the start tag at s[lt] is <script ...> or
 * <style ...>, else RUN_TEXT. */
static int body_kind(const unsigned char *s, size_t lt, size_t gt)
{
    for (int k = RUN_SCRIPT; k <= RUN_STYLE; k++) {
        size_t m = strlen(RUN_TAG[k]), at = lt + 1;
        if (gt - at >= m && !strncasecmp((const char *)s + at, RUN_TAG[k], m) &&
            (at + m == gt || is_blank(s[at + m]) || s[at + m] == '/'))
            return k;
    }
    return RUN_TEXT;
}

static int name_char(unsigned char c)
{
    return cls[c] & C_NAME;
}

static int name_start(unsigned char c)
{
    return cls[c] & C_START;
}

/* The end of the ASCII name run at s[i..b) (what htmlParseName reads of
 * it on its ASCII path). */
static size_t ascii_name_end(const unsigned char *s, size_t i, size_t b)
{
    while (i < b && name_char(s[i]))
        i++;
    return i;
}

/* 1 when the '&' at s[i] of a value s[..b) is one libxml2 keeps as it is,
 * or "&amp;" (value_of decodes it).  htmlParseEntityRef decodes only a
 * known entity name followed by ';' (all of them ASCII), and '#' starts a
 * character reference; anything else is copied.  So: no '#', and the
 * ASCII name after the '&' is not followed by ';' unless it is "amp". */
static int amp_ok(const unsigned char *s, size_t i, size_t b)
{
    size_t e = ascii_name_end(s, i + 1, b);
    if (i + 1 < b && s[i + 1] == '#')
        return 0;
    if (e == b || s[e] != ';')
        return 1;
    return e - i - 1 == 3 && !memcmp(s + i + 1, "amp", 3);
}

/* 1 when the quoted value s[a..b) may be veiled: its '&' are amp_ok's, no
 * NUL, CR or control character but TAB and LF, no U+FFFE/U+FFFF (the
 * parser keeps every other character as it is).  Validity as UTF-8 is
 * page_ok's. */
static int value_ok(const unsigned char *s, size_t a, size_t b)
{
    for (size_t i = a; i < b;) {
        if (i + 8 <= b) { /* eight bytes with no '&', 0xEF or control pass */
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (!cl_word_below(w, 0x20) && !cl_word_has(w, '&') &&
                !cl_word_has(w, 0xEF)) {
                i += 8;
                continue;
            }
        }
        unsigned char c = s[i];
        if (!(cls[c] & C_VALUE)) {
            i++;
            continue;
        }
        if ((c == '&' && !amp_ok(s, i, b)) || (c < 0x20 && c != '\t' && c != '\n') ||
            (c == 0xEF && i + 2 < b && s[i + 1] == 0xBF && s[i + 2] >= 0xBE))
            return 0;
        i++;
    }
    return 1;
}

/* 1 for <html>, <head> and <body>: libxml2 drops the attributes of a
 * second one, tokens with them. */
static int root_tag(const unsigned char *s, size_t n, size_t lt)
{
    static const char *const names[] = {"html", "head", "body"};
    if (lt + 1 < n && (s[lt + 1] | 0x20) != 'h' && (s[lt + 1] | 0x20) != 'b')
        return 0; /* most tags */
    for (int k = 0; k < 3 && lt + 5 < n; k++)
        if (!strncasecmp((const char *)s + lt + 1, names[k], 4) &&
            !name_char(s[lt + 5]))
            return 1;
    return 0;
}

/* Walks the start tag at s[lt] the way htmlParseStartTag reads it (the
 * name; then attributes: a name, '=' and a value quoted or not; anything
 * else skipped to a blank or '>') and, with `values`, veils its long
 * quoted values (RUN_ATTR).  Returns the offset of the '>' that ends it
 * (n when none), or (size_t)-1 when out of memory.  A wrong reading costs
 * only tokens: see the file comment. */
static size_t scan_tag(cl_veil *v, const unsigned char *s, size_t n, size_t lt,
                       int values)
{
    size_t j = lt + 1;
    while (j < n && name_char(s[j]))
        j++;
    for (;;) {
        while (j < n && is_blank(s[j]))
            j++;
        if (j >= n || s[j] == '>')
            break;
        if (!name_start(s[j])) { /* no attribute: skipped */
            while (j < n && !is_blank(s[j]) && s[j] != '>')
                j++;
            continue;
        }
        while (j < n && name_char(s[j]))
            j++;
        while (j < n && is_blank(s[j]))
            j++;
        if (j >= n || s[j] != '=')
            continue;
        for (j++; j < n && is_blank(s[j]); j++)
            ;
        if (j < n && (s[j] == '"' || s[j] == '\'')) {
            const unsigned char *q = memchr(s + j + 1, s[j], n - j - 1);
            size_t e;
            if (!q)
                return n;
            e = (size_t)(q - s);
            if (values && e - j - 1 >= MIN_ATTR && value_ok(s, j + 1, e) &&
                add_run(v, j + 1, e - j - 1, RUN_ATTR) < 0)
                return (size_t)-1;
            j = e + 1;
        } else {
            while (j < n && !is_blank(s[j]) && s[j] != '>')
                j++;
        }
    }
    return j;
}

/* The value libxml2 makes of s[0..n), a value_ok one: "&amp;" is '&'.
 * In the tree's arena; NULL when out of memory. */
static const char *value_of(cl_dom *d, const char *s, size_t n)
{
    const char *amp = memchr(s, '&', n);
    char *out, *o;
    if (!amp)
        return cl_dom_strndup(d, s, n);
    if (!(o = out = cl_dom_strndup(d, s, n)))
        return NULL;
    for (size_t i = 0; i < n; i++) {
        *o++ = s[i];
        if (s[i] == '&' && i + 5 <= n && !memcmp(s + i, "&amp;", 5))
            i += 4;
    }
    *o = 0;
    return out;
}

#define NOT_PLAIN ((size_t)-1)

/* The attributes of an element as SAX2 gives them, being read: in `a`,
 * the pointers name, value, name, value, ...; the strings in the tree's
 * arena. */
typedef struct attr_list {
    cl_dom *d;
    cl_buf *a;
} attr_list;

/* Adds the attribute named s[a..b) (lower-cased, as htmlParseHTMLName
 * makes it) with the value s[va..vb) (none when va == vb == 0), unless
 * one of that name came first (htmlParseStartTag keeps the first).
 * 0, or -1 when out of memory. */
static int add_attr(attr_list *l, const unsigned char *s, size_t a, size_t b,
                    size_t va, size_t vb)
{
    char *name = cl_dom_strndup(l->d, (const char *)s + a, b - a);
    const char **pairs = (const char **)l->a->p, *pair[2];
    if (!name)
        return -1;
    for (char *p = name; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
    for (size_t i = 0; i < l->a->len / sizeof *pairs; i += 2)
        if (!strcmp(pairs[i], name))
            return 0;
    pair[0] = name;
    pair[1] = vb ? value_of(l->d, (const char *)s + va, vb - va) : cl_dom_bare_value(name);
    if (!pair[1])
        return -1;
    cl_buf_put(l->a, (const char *)pair, sizeof pair);
    return l->a->oom ? -1 : 0;
}

/* Reads the attributes of a start tag from s[j], just after its name, the
 * way htmlParseStartTag does: blanks; a name, blanks, and '=', blanks and
 * a value, quoted or not, or no value; until '>' or "/>".  Returns the
 * offset where that loop stops (of the '>', or of the '/' of "/>"), or
 * NOT_PLAIN when some part is one this reading does not cover: no name
 * where one should start (libxml2 skips such bytes), a name of MAX_NAME
 * bytes, a value unterminated, unquoted and empty, or not value_ok (not
 * checked again with `out`: the list was read before), the end of the
 * page.  With `out`, adds each attribute to it (add_attr). */
static size_t read_attrs(const unsigned char *s, size_t n, size_t j, attr_list *out)
{
    for (;;) {
        size_t a, b, va = 0, vb = 0;
        while (j < n && is_blank(s[j]))
            j++;
        if (j >= n)
            return NOT_PLAIN;
        if (s[j] == '>' || (s[j] == '/' && j + 1 < n && s[j + 1] == '>'))
            return j;
        if (!name_start(s[j]))
            return NOT_PLAIN;
        a = j;
        b = j = ascii_name_end(s, j, n);
        if (b - a >= MAX_NAME)
            return NOT_PLAIN;
        while (j < n && is_blank(s[j]))
            j++;
        if (j < n && s[j] == '=') {
            for (j++; j < n && is_blank(s[j]); j++)
                ;
            if (j < n && (s[j] == '"' || s[j] == '\'')) {
                const unsigned char *q = memchr(s + j + 1, s[j], n - j - 1);
                if (!q)
                    return NOT_PLAIN;
                va = j + 1;
                vb = (size_t)(q - s);
                j = vb + 1;
            } else {
                for (va = j; j < n && !is_blank(s[j]) && s[j] != '>'; j++)
                    ;
                if ((vb = j) == va)
                    return NOT_PLAIN;
            }
            if (!out && !value_ok(s, va, vb))
                return NOT_PLAIN;
        }
        if (out && add_attr(out, s, a, b, va, vb) < 0)
            return NOT_PLAIN;
    }
}

/* 1 when the start tag at s[lt], its name ending at s[e], may have its
 * attributes veiled whole: not <html>, <head> or <body> (`root`), nor
 * <meta> (htmlCheckMeta reads its attributes), and a name libxml2 reads
 * whole. */
static int attrs_tag(const unsigned char *s, size_t n, size_t lt, size_t e, int root)
{
    return e < n && is_blank(s[e]) && e - lt - 1 < MAX_NAME && !root &&
           !(e - lt - 1 == 4 && !strncasecmp((const char *)s + lt + 1, "meta", 4));
}

/* The end of the body of a `kind` element starting at s[a]: the offset of
 * the first "</script" (or "</style"), any case, or n when there is none. */
static size_t body_end(const unsigned char *s, size_t n, size_t a, int kind)
{
    size_t m = strlen(RUN_TAG[kind]);
    const unsigned char *p;
    while (a < n && (p = memchr(s + a, '<', n - a))) {
        size_t i = (size_t)(p - s);
        if (i + 2 + m <= n && s[i + 1] == '/' &&
            !strncasecmp((const char *)s + i + 2, RUN_TAG[kind], m))
            return i;
        a = i + 1;
    }
    return n;
}

/* 1 when s[a..b) may be veiled as a body: valid UTF-8 without NUL or token
 * marks, no CR, no control character but TAB and LF, no U+FFFE or U+FFFF:
 * libxml2 keeps every character of it as it is.  Eight bytes at a time
 * while they are printable ASCII (a third of a page is script). */
static int body_ok(const unsigned char *s, size_t a, size_t b)
{
    size_t i = a, k;
    while (i < b) {
        unsigned char c = s[i];
        if (i + 8 <= b) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (!cl_word_high(w) && !cl_word_below(w, 0x20)) { /* 0x20..0x7F */
                i += 8;
                continue;
            }
        }
        if (c < 0x80) {
            if (c < 0x20 && c != '\t' && c != '\n')
                return 0;
            i++;
            continue;
        }
        if (!(k = valid_char(s + i, b - i)) ||
            (c == 0xEF && s[i + 1] == 0xBF && s[i + 2] >= 0xBE))
            return 0;
        i += k;
    }
    return 1;
}

/* Finds the runs worth a token in s[0..n): script and style bodies, and
 * after a '>' and its blanks, safe characters up to a '<' or '&' (see the
 * file comment); and the blank runs worth cutting.  Comments ("<!--" to
 * "-->") are passed over whole: a <script> in one is no script.  The page
 * is checked on the way (page_ok between runs, safe_end or body_ok
 * within): returns 0, 1 when the page may not be veiled, -1 when out of
 * memory. */
static int find_runs(cl_veil *v, const unsigned char *s, size_t n)
{
    const unsigned char *gt;
    size_t i = 0, lt = 0;
    int bad = 0, kind, started = 0; /* past the first start tag */
    while (i < n && (gt = memchr(s + i, '>', n - i))) {
        size_t a = (size_t)(gt - s) + 1, b;
        if ((kind = tag_kind(s, i, a - 1, &lt)) == TAG_COMMENT) {
            const unsigned char *e = memmem(s + lt + 4, n - lt - 4, "-->", 3);
            a = e ? (size_t)(e - s) + 3 : n;
            if (!page_ok(s + i, a - i))
                return 1;
            i = a;
            continue;
        }
        if (kind == TAG_START) { /* its attributes veiled; the '>' really ending it */
            size_t e = ascii_name_end(s, lt + 1, n), end = NOT_PLAIN;
            int root = root_tag(s, n, lt);
            started = 1;
            if (attrs_tag(s, n, lt, e, root))
                end = read_attrs(s, n, e, NULL);
            if (end != NOT_PLAIN && end - e >= MIN_ATTRS) { /* all of them */
                if (add_run(v, e, end - e, RUN_ATTRS) < 0)
                    return -1;
                end += s[end] == '/';
            } else { /* its long values */
                end = scan_tag(v, s, n, lt, !root);
            }
            if (end == (size_t)-1)
                return -1;
            kind = body_kind(s, lt, end);
            a = end < n ? end + 1 : n;
        }
        if (!page_ok(s + i, a - i))
            return 1;
        if (a >= n)
            break;
        if (kind != RUN_TEXT && (b = body_end(s, n, a, kind)) < n) {
            /* veiled whole or not at all: no tag in it is one */
            if (b - a >= MIN_RUN && s[a] != '<' && body_ok(s, a, b)) {
                if (add_run(v, a, b - a, kind) < 0)
                    return -1;
            } else if (!page_ok(s + a, b - a)) {
                return 1;
            }
            i = b;
            continue;
        }
        b = a;
        while (a < n && is_blank(s[a]))
            a++;
        if (started && kind == RUN_TEXT && a < n && s[a] == '<' &&
            a - b >= MIN_BLANK && a - b <= MAX_BLANK) {
            if (add_run(v, b, a - b, RUN_BLANK) < 0)
                return -1;
            i = a;
            continue;
        }
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
        if (b - a >= MIN_RUN && add_run(v, a, b - a, RUN_TEXT) < 0)
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
    pthread_once(&safe_once, safe_init);
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
    if (!(v->end = malloc(v->n * sizeof *v->end)))
        goto oom;
    cl_buf_init(&out);
    cl_buf_reserve(&out, n); /* the veiled page is shorter */
    for (size_t r = 0; r < v->n; r++) {
        char tok[32];
        cl_buf_put(&out, html + at, v->off[r] - at);
        if (v->kind[r] == RUN_BLANK) {
            cl_buf_put(&out, html + v->off[r], 1);
        } else if (v->kind[r] == RUN_ATTRS) { /* one attribute, no value */
            cl_buf_puts(&out, " t");
        } else {
            cl_buf_put(&out, tok, token(r, tok));
        }
        v->end[r] = out.len;
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
 * is malformed, unknown or met twice, or is a body's and not the whole
 * content of a CDATA node of a script (style) element; or TJ_ENOMEM. */
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
        if (v->kind[r] != RUN_TEXT &&
            ((v->kind[r] != RUN_SCRIPT && v->kind[r] != RUN_STYLE) ||
             node->type != CL_CDATA || p - 3 != node->content || q + 3 != end ||
             !node->parent || node->parent->type != CL_ELEM ||
             strcmp(node->parent->name, RUN_TAG[v->kind[r]])))
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

/* Puts the values back into the attributes of element n: a token there
 * must be a value's, and the whole value.  0, 1 (not so), TJ_ENOMEM. */
static int restore_attrs(cl_veil *v, cl_dom *d, cl_node *n)
{
    for (const char **a = n->attrs; *a; a += 2) {
        const char *val = a[1], *p = strstr(val, MARK_OPEN);
        char *q;
        unsigned long r;
        if (!p)
            continue;
        r = strtoul(p + 3, &q, 10);
        if (p != val || q == p + 3 || strcmp(q, MARK_CLOSE) || r >= v->n ||
            v->found[r] || v->kind[r] != RUN_ATTR)
            return 1;
        v->found[r] = 1;
        v->nfound++;
        if (!(a[1] = value_of(d, v->src + v->off[r], v->len[r])))
            return TJ_ENOMEM;
    }
    return 0;
}

/* The run of `kind` whose stand-in ends where `rem` bytes of the veiled
 * page are left, found from *next on (runs passed are left unfound), or
 * v->n when there is none. */
static size_t run_ending(cl_veil *v, size_t *next, int kind, size_t rem)
{
    size_t at = v->html_len - rem;
    while (*next < v->n && (v->kind[*next] != kind || v->end[*next] < at))
        ++*next;
    return *next < v->n && v->end[*next] == at ? *next : v->n;
}

/* Marks run r found; the next search starts after it. */
static void take(cl_veil *v, size_t *next, size_t r)
{
    v->found[r] = 1;
    v->nfound++;
    *next = r + 1;
}

const char *cl_veil_text(cl_veil *v, size_t rem, const char *ch, size_t *len)
{
    size_t r = run_ending(v, &v->next_blank, RUN_BLANK, rem);
    if (r == v->n || *len != 1 || ch[0] != v->src[v->off[r]])
        return ch;
    take(v, &v->next_blank, r);
    *len = v->len[r];
    return v->src + v->off[r];
}

int cl_veil_attrs(cl_veil *v, cl_dom *d, size_t rem, const char ***list)
{
    const unsigned char *s = (const unsigned char *)v->src;
    size_t r = run_ending(v, &v->next_list, RUN_ATTRS, rem), e, n_s;
    attr_list l = {.d = d, .a = &v->pairs};
    const char **a;
    if (r == v->n)
        return 0;
    take(v, &v->next_list, r);
    e = v->off[r] + v->len[r];
    n_s = e + 1 + (s[e] == '/');
    v->pairs.len = 0;
    if (read_attrs(s, n_s, v->off[r], &l) != e || /* as in cl_veil_make */
        !(a = cl_dom_alloc(d, v->pairs.len + sizeof *a)))
        return TJ_ENOMEM;
    memcpy(a, v->pairs.p, v->pairs.len);
    a[v->pairs.len / sizeof *a] = NULL;
    *list = a;
    return 1;
}

/* 1 for the runs that stand in the veiled page as a token (blank runs
 * and attribute lists are found by where they end instead). */
static int is_token(int kind)
{
    return kind != RUN_BLANK && kind != RUN_ATTRS;
}

void cl_veil_note(cl_veil *v, cl_node *n, size_t rem)
{
    size_t at = v->html_len - rem;
    int token = 0;
    while (v->next_token < v->n && v->end[v->next_token] <= at)
        token |= is_token(v->kind[v->next_token++]);
    if (token && !n->noted) {
        cl_buf_put(&v->noted, (const char *)&n, sizeof n);
        n->noted = 1;
    }
}

int cl_veil_restore(cl_veil *v, cl_dom *d)
{
    cl_node **noted = (cl_node **)v->noted.p;
    cl_buf b;
    int rc = v->noted.oom ? TJ_ENOMEM : 0;
    cl_buf_init(&b);
    for (size_t i = 0; i < v->noted.len / sizeof *noted && !rc; i++)
        rc = noted[i]->type == CL_ELEM ? restore_attrs(v, d, noted[i])
                                       : restore_node(v, d, noted[i], &b);
    cl_buf_free(&b);
    return rc ? rc : v->nfound != v->n;
}

void cl_veil_free(cl_veil *v)
{
    free(v->html);
    free(v->off);
    free(v->len);
    free(v->found);
    free(v->kind);
    free(v->end);
    cl_buf_free(&v->noted);
    cl_buf_free(&v->pairs);
    memset(v, 0, sizeof *v);
}
