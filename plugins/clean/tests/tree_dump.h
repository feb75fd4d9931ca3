/*
 * tree_dump.h - one text form for two trees of a page: libxml2's own
 * (htmlReadMemory) and clean's (dom.c), so tests and the fuzz target can
 * assert they are the same tree and that the veil changes nothing.
 *
 * One line per node, indented two spaces per level:
 *   E name a=LEN:value ...     element and its attributes, in order
 *   T LEN:content              text        C LEN:content   CDATA
 *   M LEN:content              comment     P target LEN:data   PI
 *   D name                     doctype
 * Lengths make the form exact whatever bytes the content holds.
 */
#ifndef TJ_CLEAN_TREE_DUMP_H
#define TJ_CLEAN_TREE_DUMP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <taojin/stage.h>

#include "clean.h"

static inline void dump_line_start(cl_buf *b, int depth, char kind)
{
    for (int i = 0; i < depth; i++)
        cl_buf_puts(b, "  ");
    cl_buf_putc(b, kind);
}

static inline void dump_counted(cl_buf *b, const char *s, size_t n)
{
    char num[32];
    snprintf(num, sizeof num, " %zu:", n);
    cl_buf_puts(b, num);
    cl_buf_put(b, s ? s : "", n);
}

/* Appends the form of n, its siblings and descendants (clean's tree). */
static inline void dump_dom(cl_buf *b, const cl_node *n, int depth)
{
    static const char kinds[] = {[CL_ELEM] = 'E', [CL_TEXT] = 'T', [CL_CDATA] = 'C',
                                 [CL_COMMENT] = 'M', [CL_PI] = 'P', [CL_DTD] = 'D'};
    for (; n; n = n->next) {
        dump_line_start(b, depth, kinds[n->type]);
        if (n->type == CL_ELEM || n->type == CL_PI || n->type == CL_DTD) {
            cl_buf_putc(b, ' ');
            cl_buf_puts(b, n->name);
        }
        for (const char **a = n->attrs; a && *a; a += 2) {
            cl_buf_putc(b, ' ');
            cl_buf_puts(b, a[0]);
            cl_buf_putc(b, '=');
            dump_counted(b, a[1], strlen(a[1]));
        }
        if (n->type != CL_ELEM && n->type != CL_DTD)
            dump_counted(b, n->content, n->len);
        cl_buf_putc(b, '\n');
        if (n->type == CL_ELEM)
            dump_dom(b, n->children, depth + 1);
    }
}

/* The same for libxml2's tree. */
static inline void dump_xml(cl_buf *b, xmlNodePtr n, int depth)
{
    for (; n; n = n->next) {
        const char *content = (const char *)n->content;
        switch (n->type) {
        case XML_ELEMENT_NODE:
            dump_line_start(b, depth, 'E');
            cl_buf_putc(b, ' ');
            cl_buf_puts(b, (const char *)n->name);
            for (xmlAttrPtr a = n->properties; a; a = a->next) {
                xmlChar *v = xmlNodeListGetString(n->doc, a->children, 1);
                cl_buf_putc(b, ' ');
                cl_buf_puts(b, (const char *)a->name);
                cl_buf_putc(b, '=');
                dump_counted(b, v ? (const char *)v : "", v ? strlen((char *)v) : 0);
                xmlFree(v);
            }
            cl_buf_putc(b, '\n');
            dump_xml(b, n->children, depth + 1);
            continue;
        case XML_TEXT_NODE:
            dump_line_start(b, depth, 'T');
            break;
        case XML_CDATA_SECTION_NODE:
            dump_line_start(b, depth, 'C');
            break;
        case XML_COMMENT_NODE:
            dump_line_start(b, depth, 'M');
            break;
        case XML_PI_NODE:
            dump_line_start(b, depth, 'P');
            cl_buf_putc(b, ' ');
            cl_buf_puts(b, (const char *)n->name);
            break;
        case XML_DTD_NODE:
            dump_line_start(b, depth, 'D');
            cl_buf_putc(b, ' ');
            cl_buf_puts(b, n->name ? (const char *)n->name : "");
            cl_buf_putc(b, '\n');
            continue;
        default:
            dump_line_start(b, depth, '?');
            cl_buf_putc(b, '\n');
            continue;
        }
        dump_counted(b, content, content ? strlen(content) : 0);
        cl_buf_putc(b, '\n');
    }
}

/* The form of clean's tree of html[0..n), veiled or not, malloc()ed;
 * "(no tree N)" with cl_html_parse's result when it fails. */
static inline char *dump_clean_tree(const char *html, size_t n, int veil, int *veiled)
{
    cl_dom d;
    cl_buf b;
    int rc = cl_html_parse(&d, html, n, veil, veiled);
    cl_buf_init(&b);
    if (rc) {
        char msg[32];
        snprintf(msg, sizeof msg, "(no tree %d)", rc);
        cl_buf_puts(&b, msg);
    } else {
        dump_dom(&b, d.doc.children, 0);
    }
    cl_dom_free(&d);
    return b.p ? b.p : strdup("");
}

/* The form of libxml2's own tree of html[0..n) (what clean parsed with
 * before dom.c), malloc()ed; "(no tree -6)" when it gives no root. */
static inline char *dump_libxml2_tree(const char *html, size_t n)
{
    htmlDocPtr doc = n ? htmlReadMemory(html, (int)n, NULL, "UTF-8",
                                        HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
                                            HTML_PARSE_NOWARNING | HTML_PARSE_NONET |
                                            HTML_PARSE_COMPACT)
                       : NULL;
    cl_buf b;
    cl_buf_init(&b);
    if (!doc || !xmlDocGetRootElement(doc)) {
        char msg[32];
        snprintf(msg, sizeof msg, "(no tree %d)", TJ_EPARSE);
        cl_buf_puts(&b, msg);
    } else {
        dump_xml(&b, doc->children, 0);
    }
    xmlFreeDoc(doc);
    return b.p ? b.p : strdup("");
}

#endif
