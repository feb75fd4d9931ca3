/*
 * dom.c - the tree of an HTML page, built by us from libxml2's SAX events.
 *
 * libxml2's HTML parser reads the page; its own tree builder (SAX2.c) is
 * replaced by the callbacks below, which build the same tree in a compact
 * form: nodes and strings come from one arena, freed at once, instead of
 * a malloc per node, attribute, attribute value and text (plus a dictionary
 * lookup each), and a free per allocation afterwards.  Clean spent about a
 * third of its time there.
 *
 * The tree is libxml2's own, node for node (test_dom compares the two on
 * every corpus page and on mutilated copies), because the callbacks keep
 * SAX2's rules, from libxml2 2.9's SAX2.c:
 *   - an element with no open parent becomes the first top-level node when
 *     there is none, else a child of the first top-level node when that is
 *     an element, else the last top-level node;
 *   - an element name "p:x" is "x" (xmlSplitQName: the part after the
 *     first colon, unless the colon starts or ends the name);
 *   - an attribute without a value gets its own name as value when HTML
 *     calls it boolean (checked, hidden, ...), else the empty string;
 *   - character data goes to the open element (none: dropped) and joins
 *     its last child when that is text (CDATA: CDATA), up to 10 MB;
 *   - comments and PIs go to the open element, else to the top level;
 *   - the doctype is a top-level node placed first (once; when the page
 *     has none, "html" is added after the parse);
 *   - at the 257th level of nesting the parser stops (xmlParserMaxDepth)
 *     and keeps what it had.
 * The events themselves do not depend on the tree: with blanks kept (the
 * default), libxml2 hands every run of character data to `characters`
 * whatever areBlanks says, and the tree-dependent part of areBlanks only
 * decides an implied <p> in cases (html, head, no element) where it is
 * decided before the tree is looked at.
 */
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/HTMLtree.h>
#include <libxml/parserInternals.h>
#include <taojin/stage.h>

#include "clean.h"

enum {
    ARENA_BLOCK = 64 << 10, /* first block; later ones double, up to 1 MB */
    ARENA_MAX_BLOCK = 1 << 20,
    MAX_TEXT = XML_MAX_TEXT_LENGTH, /* SAX2 drops character data beyond */
    STACK_START = 64
};

typedef struct blk {
    struct blk *next;
    size_t cap, used;
    _Alignas(16) char mem[];
} blk;

/* The parse in progress: the tree, its arena and the open elements. */
typedef struct builder {
    cl_dom *dom;
    cl_veil *veil;   /* when the page is a veiled one, else NULL */
    cl_node **stack; /* open elements; stack[depth - 1] is the current one */
    size_t depth, cap;
} builder;

/* ---- arena ----------------------------------------------------------------- */

/* n bytes (8-aligned) from the arena, NULL (and d->oom) when out of
 * memory.  A new block has room for twice n at least, so that a text
 * growing by appends (arena_grow) moves O(log n) times. */
static void *arena_alloc(cl_dom *d, size_t n)
{
    blk *b = d->arena;
    n = (n + 7) & ~(size_t)7;
    if (!b || b->cap - b->used < n) {
        size_t cap = !b ? ARENA_BLOCK
                     : b->cap < ARENA_MAX_BLOCK / 2 ? b->cap * 2 : ARENA_MAX_BLOCK;
        if (cap < 2 * n)
            cap = 2 * n;
        blk *nb = malloc(sizeof *nb + cap);
        if (!nb) {
            d->oom = 1;
            return NULL;
        }
        nb->next = b;
        nb->cap = cap;
        nb->used = 0;
        d->arena = b = nb;
    }
    void *p = b->mem + b->used;
    b->used += n;
    return p;
}

/* A NUL-terminated copy of s[0..n) in the arena. */
static char *arena_strndup(cl_dom *d, const char *s, size_t n)
{
    char *p = arena_alloc(d, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = 0;
    }
    return p;
}

/* Grows p, an allocation of `old` bytes, to `need` bytes (its first `old`
 * kept); returns where it now is, or NULL when out of memory.  In place
 * when p is the current block's last allocation and room is left. */
static char *arena_grow(cl_dom *d, char *p, size_t old, size_t need)
{
    blk *b = d->arena;
    size_t o = (old + 7) & ~(size_t)7, nw = (need + 7) & ~(size_t)7;
    if (b && p + o == b->mem + b->used && b->used - o + nw <= b->cap) {
        b->used = b->used - o + nw;
        return p;
    }
    char *q = arena_alloc(d, need);
    if (q)
        memcpy(q, p, old);
    return q;
}

void cl_dom_free(cl_dom *d)
{
    for (blk *b = d->arena, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    if (d->ctxt)
        xmlFreeParserCtxt(d->ctxt);
    memset(d, 0, sizeof *d);
}

/* ---- linking ---------------------------------------------------------------- */

static cl_node *new_node(cl_dom *d, int type)
{
    cl_node *n = arena_alloc(d, sizeof *n);
    if (n) {
        memset(n, 0, sizeof *n);
        n->type = (unsigned char)type;
    }
    return n;
}

/* Appends n as the last child of parent. */
static void append_child(cl_node *parent, cl_node *n)
{
    n->parent = parent;
    n->prev = parent->last;
    if (parent->last)
        parent->last->next = n;
    else
        parent->children = n;
    parent->last = n;
}

/* The element a node goes under when no element is open (SAX2's rule for
 * elements): the first top-level node when it is an element, else the top
 * level itself. */
static cl_node *orphan_parent(cl_dom *d)
{
    cl_node *first = d->doc.children;
    return first && first->type == CL_ELEM ? first : &d->doc;
}

static cl_node *current(builder *b)
{
    return b->depth ? b->stack[b->depth - 1] : NULL;
}

/* ---- SAX callbacks --------------------------------------------------------------- */

static builder *builder_of(void *ctx)
{
    return ((xmlParserCtxtPtr)ctx)->_private;
}

/* How many bytes of the page the parser has left to read. */
static size_t bytes_left(void *ctx)
{
    xmlParserInputPtr in = ((xmlParserCtxtPtr)ctx)->input;
    return (size_t)(in->end - in->cur);
}

/* Stops the parse for good (out of memory, too deep). */
static void halt(builder *b, void *ctx)
{
    xmlStopParser((xmlParserCtxtPtr)ctx);
    b->dom->halted = 1;
}

/* xmlSplitQName's local part: after the first colon unless the colon is
 * the first or the last character. */
static const char *local_name(const char *name)
{
    const char *c = name[0] == ':' ? NULL : strchr(name, ':');
    return c && c[1] ? c + 1 : name;
}

/* The attribute pairs of a new element, in the arena: values copied (the
 * parser frees its own), a missing value as SAX2 gives it. */
static const char **copy_attrs(cl_dom *d, const xmlChar **atts)
{
    size_t k = 0;
    const char **a;
    while (atts[k])
        k += 2;
    a = arena_alloc(d, (k + 1) * sizeof *a);
    if (!a)
        return NULL;
    for (size_t i = 0; i < k; i += 2) {
        const char *name = (const char *)atts[i], *v = (const char *)atts[i + 1];
        a[i] = name;
        if (!v)
            a[i + 1] = cl_dom_bare_value(name);
        else if (!(a[i + 1] = arena_strndup(d, v, strlen(v))))
            return NULL;
    }
    a[k] = NULL;
    return a;
}

static void on_start(void *ctx, const xmlChar *fullname, const xmlChar **atts)
{
    builder *b = builder_of(ctx);
    cl_dom *d = b->dom;
    cl_node *n, *parent = current(b);
    if (d->halted || !fullname)
        return;
    if (b->depth > xmlParserMaxDepth) { /* nodePush refuses: the parse ends */
        halt(b, ctx);
        return;
    }
    if (b->depth == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : STACK_START;
        cl_node **s = realloc(b->stack, cap * sizeof *s);
        if (!s)
            goto oom;
        b->stack = s;
        b->cap = cap;
    }
    if (!(n = new_node(d, CL_ELEM)))
        goto oom;
    n->name = local_name((const char *)fullname);
    if (b->veil && atts && atts[0] && !atts[1] && !atts[2] &&
        !strcmp((const char *)atts[0], "t")) { /* a veiled attribute list? */
        int rc = cl_veil_attrs(b->veil, d, bytes_left(ctx), &n->attrs);
        if (rc < 0)
            goto oom;
    }
    if (!n->attrs && atts && atts[0] && !(n->attrs = copy_attrs(d, atts)))
        goto oom;
    append_child(parent ? parent : d->doc.children ? orphan_parent(d) : &d->doc, n);
    b->stack[b->depth++] = n;
    if (b->veil && n->attrs) /* not an implied element, made before its cause */
        cl_veil_note(b->veil, n, bytes_left(ctx));
    return;
oom:
    d->oom = 1;
    halt(b, ctx);
}

static void on_end(void *ctx, const xmlChar *name)
{
    builder *b = builder_of(ctx);
    (void)name;
    if (b->depth)
        b->depth--;
}

/* Character data ch[0..len) of `type` (CL_TEXT or CL_CDATA) for the open
 * element. */
static void add_text(builder *b, void *ctx, const char *ch, size_t len, int type)
{
    cl_dom *d = b->dom;
    cl_node *parent = current(b), *last;
    if (d->halted || !parent)
        return;
    last = parent->last;
    if (last && last->type == type) { /* joins the text before it */
        char *p;
        if (last->len + len > MAX_TEXT)
            return;
        if (!(p = arena_grow(d, last->content, last->len + 1, last->len + len + 1)))
            goto oom;
        memcpy(p + last->len, ch, len);
        last->len += len;
        p[last->len] = 0;
        last->content = p;
    } else {
        if (!(last = new_node(d, type)) || !(last->content = arena_strndup(d, ch, len)))
            goto oom;
        last->len = len;
        append_child(parent, last);
    }
    if (b->veil)
        cl_veil_note(b->veil, last, bytes_left(ctx));
    return;
oom:
    d->oom = 1;
    halt(b, ctx);
}

/* Text; on a veiled page, a cut blank run is put back here (the event
 * ends where the parser stands: cl_veil_text). */
static void on_characters(void *ctx, const xmlChar *ch, int len)
{
    builder *b = builder_of(ctx);
    const char *s = (const char *)ch;
    size_t n = (size_t)len;
    if (len < 0)
        return;
    if (b->veil)
        s = cl_veil_text(b->veil, bytes_left(ctx), s, &n);
    add_text(b, ctx, s, n, CL_TEXT);
}

static void on_cdata(void *ctx, const xmlChar *ch, int len)
{
    if (len >= 0)
        add_text(builder_of(ctx), ctx, (const char *)ch, (size_t)len, CL_CDATA);
}

/* A comment or PI: under the open element, else at the top level. */
static void add_marker(void *ctx, int type, const xmlChar *name,
                       const xmlChar *content)
{
    builder *b = builder_of(ctx);
    cl_dom *d = b->dom;
    cl_node *n, *parent = current(b);
    const char *s = content ? (const char *)content : "";
    if (d->halted)
        return;
    if (!(n = new_node(d, type)) ||
        !(n->content = arena_strndup(d, s, strlen(s))) ||
        (name && !(n->name = arena_strndup(d, (const char *)name,
                                           strlen((const char *)name))))) {
        d->oom = 1;
        halt(b, ctx);
        return;
    }
    n->len = strlen(s);
    append_child(parent ? parent : &d->doc, n);
    if (b->veil)
        cl_veil_note(b->veil, n, bytes_left(ctx));
}

static void on_comment(void *ctx, const xmlChar *value)
{
    add_marker(ctx, CL_COMMENT, NULL, value);
}

static void on_pi(void *ctx, const xmlChar *target, const xmlChar *data)
{
    add_marker(ctx, CL_PI, target, data);
}

/* Makes the doctype `name` the first top-level node, unless there is one.
 * 0 or TJ_ENOMEM. */
static int add_doctype(cl_dom *d, const char *name)
{
    cl_node *n;
    if (d->doctype)
        return 0;
    if (!(n = new_node(d, CL_DTD)))
        return TJ_ENOMEM;
    n->name = name;
    n->parent = &d->doc;
    n->next = d->doc.children;
    if (d->doc.children)
        d->doc.children->prev = n;
    else
        d->doc.last = n;
    d->doc.children = n;
    d->doctype = n;
    return 0;
}

static void on_doctype(void *ctx, const xmlChar *name, const xmlChar *external_id,
                       const xmlChar *system_id)
{
    builder *b = builder_of(ctx);
    (void)external_id, (void)system_id;
    if (!b->dom->halted && add_doctype(b->dom, name ? (const char *)name : "")) {
        b->dom->oom = 1;
        halt(b, ctx);
    }
}

/* ---- the whole ------------------------------------------------------------------- */

int cl_dom_parse(cl_dom *d, const char *html, size_t n, cl_veil *veil)
{
    static xmlSAXHandler sax = {
        .internalSubset = on_doctype,
        .startElement = on_start,
        .endElement = on_end,
        .characters = on_characters,
        .processingInstruction = on_pi,
        .comment = on_comment,
        .cdataBlock = on_cdata,
        .initialized = 1,
    };
    builder b = {.dom = d, .veil = veil};
    xmlParserCtxtPtr ctxt;
    xmlCharEncodingHandlerPtr utf8;
    memset(d, 0, sizeof *d);
    d->doc.type = CL_DOC;
    if (n > (size_t)INT32_MAX)
        return TJ_EINVAL;
    /* what htmlReadMemory(html, n, NULL, "UTF-8", options) does, with our
     * callbacks in place of SAX2's */
    xmlInitParser();
    if (!(ctxt = xmlCreateMemoryParserCtxt(html, (int)n)))
        return n ? TJ_ENOMEM : TJ_EPARSE;
    d->ctxt = ctxt;
    memcpy(ctxt->sax, &sax, sizeof(xmlSAXHandlerV1));
    ctxt->_private = &b;
    htmlCtxtUseOptions(ctxt, HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
                                 HTML_PARSE_NOWARNING | HTML_PARSE_NONET |
                                 HTML_PARSE_COMPACT);
    ctxt->html = 1;
    if ((utf8 = xmlFindCharEncodingHandler("UTF-8"))) {
        xmlSwitchToEncoding(ctxt, utf8);
        if (ctxt->input->encoding)
            xmlFree((xmlChar *)ctxt->input->encoding);
        ctxt->input->encoding = xmlStrdup((const xmlChar *)"UTF-8");
    }
    htmlParseDocument(ctxt);
    ctxt->_private = NULL;
    free(b.stack);
    if (add_doctype(d, "html")) /* htmlParseDocument's default one */
        d->oom = 1;
    if (d->oom)
        return TJ_ENOMEM;
    return cl_dom_root(d) ? 0 : TJ_EPARSE;
}

cl_node *cl_dom_root(const cl_dom *d)
{
    for (cl_node *n = d->doc.children; n; n = n->next)
        if (n->type == CL_ELEM)
            return n;
    return NULL;
}

const char *cl_dom_attr(const cl_node *n, const char *name)
{
    if (n->type != CL_ELEM || !n->attrs)
        return NULL;
    for (const char **a = n->attrs; *a; a += 2)
        if (!strcmp(a[0], name))
            return a[1];
    return NULL;
}

char *cl_dom_strndup(cl_dom *d, const char *s, size_t len)
{
    return arena_strndup(d, s, len);
}

void *cl_dom_alloc(cl_dom *d, size_t n)
{
    return arena_alloc(d, n);
}

const char *cl_dom_bare_value(const char *name)
{
    return htmlIsBooleanAttr((const xmlChar *)name) ? name : "";
}

int cl_dom_set_content(cl_dom *d, cl_node *n, const char *s, size_t len)
{
    char *p = arena_strndup(d, s, len);
    if (!p)
        return TJ_ENOMEM;
    n->content = p;
    n->len = len;
    return 0;
}

void cl_dom_unlink(cl_node *n)
{
    cl_node *p = n->parent;
    if (n->prev)
        n->prev->next = n->next;
    else if (p)
        p->children = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else if (p)
        p->last = n->prev;
    n->parent = n->prev = n->next = NULL;
}

void cl_dom_text_content(const cl_node *n, cl_buf *b)
{
    for (const cl_node *c = n->children; c; c = c->next) {
        if (c->type == CL_TEXT || c->type == CL_CDATA)
            cl_buf_put(b, c->content, c->len);
        else if (c->type == CL_ELEM)
            cl_dom_text_content(c, b);
    }
}
