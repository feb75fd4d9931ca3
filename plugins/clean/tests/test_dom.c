/*
 * test_dom.c - the tree dom.c builds from libxml2's SAX events is the tree
 * libxml2's own builder (SAX2) makes of the same page, node for node: on
 * every corpus page, fixture and sample page, on damaged copies of them
 * (pieces cut out, ends cut off), and on pages made for each of SAX2's
 * rules that dom.c repeats (orphan elements, prefixed names, valueless
 * attributes, comments and PIs outside the root, late doctypes, text
 * joined across chunks, nesting past libxml2's depth limit).
 */
#include "clean_test.h" /* before cmocka.h: its fail() macro */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "clean.h"
#include "tree_dump.h"

/* Asserts clean's tree of html[0..n) is libxml2's; returns its form
 * (malloc()ed) for further checks. */
static char *same_as_libxml2(const char *what, const char *html, size_t n)
{
    char *ours = dump_clean_tree(html, n, 0, NULL);
    char *theirs = dump_libxml2_tree(html, n);
    if (strcmp(ours, theirs)) {
        print_error("tree differs on %s\n--- libxml2\n%s\n--- dom.c\n%s\n", what,
                    theirs, ours);
        fail();
    }
    free(theirs);
    return ours;
}

/* A small deterministic generator for the damaged copies. */
static uint32_t next_rand(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

/* The page, then `copies` damaged copies: a piece of up to 4000 bytes cut
 * out, or the end cut off, at pseudo-random places. */
static size_t check_page(const char *path, const char *html, size_t n, int copies)
{
    uint32_t seed = (uint32_t)n;
    size_t checked = 1;
    char *buf = malloc(n + 1);
    free(same_as_libxml2(path, html, n));
    for (int k = 0; k < copies && n > 2 && buf; k++, checked++) {
        size_t a = next_rand(&seed) % n, len;
        if (k % 2) { /* the end cut off */
            len = a;
            memcpy(buf, html, a);
        } else {
            size_t cut = 1 + next_rand(&seed) % 4000;
            size_t b = a + cut < n ? a + cut : n;
            memcpy(buf, html, a);
            memcpy(buf + a, html + b, n - b);
            len = a + (n - b);
        }
        buf[len] = 0;
        free(same_as_libxml2(path, buf, len));
    }
    free(buf);
    return checked;
}

/* each_page's callback: the page and its damaged copies (arg: counts). */
static void check_one(const char *path, const char *html, size_t n, void *arg)
{
    size_t *counts = arg; /* copies per page, trees checked */
    counts[1] += check_page(path, html, n, (int)counts[0]);
}

static void test_pages_and_damaged_copies(void **st)
{
    /* fewer copies under the sanitizers: same assertions, less time */
    size_t counts[2] = {getenv("TJ_SANITIZED") ? 2 : 8, 0};
    size_t pages = each_page(check_one, counts);
    (void)st;
    print_message("# %zu pages and %zu damaged copies: trees identical\n", pages,
                  counts[1] - pages);
    assert_true(pages >= 40);
    assert_true(counts[1] >= pages * (counts[0] + 1));
}

/* Each page exercises one rule; `expect` is a line its form must hold
 * (so the rule is really met, not just equally missed). */
static void test_sax2_rules(void **st)
{
    static const struct {
        const char *html, *expect;
    } cases[] = {
        {"<o:p>office</o:p><fb:like x=1>", "E p\n      T 6:office"},
        {"<p>a</p><fb:like:x>y</fb:like:x>", "E like:x"},
        {"<p>a</p><:odd>b</:odd>", "T 7:<:odd>b"},
        {"<p>a</p><odd:>b</odd:>", "E odd:"},
        {"<p><input checked name=a><div hidden foo>x</div></p>",
         "checked= 7:checked name= 1:a"},
        {"<div hidden foo>x</div>", "E div hidden= 0: foo= 0:"},
        {"<p xml:lang=zh lang=zh-CN DIR=rtl>x</p>", "xml:lang= 2:zh"},
        {"<p title=\"&amp;&lt;&#x4e2d;\">x</p>", "title= 5:&<\xe4\xb8\xad"},
        {"<!-- before --><html><body><p>x</p></body></html><!-- after --><p>late</p>",
         "M 7: after \nE html\n  E p"},
        {"<!DOCTYPE html><html><body>x</body></html><div>after the root</div>",
         "\nE html\n  E div"},
        {"<html><body>x</body></html><div>after</div>", "  E html\n    E div"},
        {"<?xml version=\"1.0\"?><html><body><?php echo 1 ?>x</body></html>", "P php 8:echo 1 ?"},
        {"<p>a</p><!DOCTYPE html><p>b</p>", "T 1:b"},
        {"<p>a<!-- c -->b&amp;c&#20013;d</p>", "M 3: c \n      T 7:b&c\xe4\xb8\xad" "d"},
        {"<script>var a = '<b>';</script><style>p > b {}</style>", "C 14:var a = '<b>';"},
        {"text before any tag<p>x", "T 19:text before any tag"},
        {"<table><tr><td>a<td>b</table><ul><li>x<li>y</ul>", "E td"},
        {"<p>a<p>b<div>c</p>d", "T 2:cd"},
        {"<select><option>a<option>b</select>", "E option"},
        {"", NULL}, /* NULL: no tree (TJ_EPARSE) */
        {"   ", NULL},
        {NULL, ""}};
    char no_tree[32];
    (void)st;
    snprintf(no_tree, sizeof no_tree, "(no tree %d)", TJ_EPARSE);
    for (int i = 0; cases[i].html; i++) {
        const char *expect = cases[i].expect ? cases[i].expect : no_tree;
        char what[32];
        snprintf(what, sizeof what, "rule page %d", i);
        char *form = same_as_libxml2(what, cases[i].html, strlen(cases[i].html));
        if (!strstr(form, expect)) {
            print_error("%s: no \"%s\" in\n%s\n", what, expect, form);
            fail();
        }
        free(form);
    }
}

/* Text longer than libxml2's 1000-byte chunks arrives in pieces that join
 * into one node; CDATA too. */
static void test_text_joined_across_chunks(void **st)
{
    cl_buf b;
    cl_dom d;
    (void)st;
    cl_buf_init(&b);
    cl_buf_puts(&b, "<html><body><p>");
    for (int k = 0; k < 5000; k++)
        cl_buf_puts(&b, k % 7 ? "\xe6\xb7\x98" : "&amp;");
    cl_buf_puts(&b, "</p><script>");
    for (int k = 0; k < 3000; k++)
        cl_buf_puts(&b, "x<y;");
    cl_buf_puts(&b, "</script></body></html>");
    free(same_as_libxml2("long text", b.p, b.len));
    assert_int_equal(cl_dom_parse(&d, b.p, b.len, NULL), 0);
    cl_node *body = cl_dom_root(&d)->last, *p = body->children;
    assert_string_equal(p->name, "p");
    assert_ptr_equal(p->children, p->last); /* one text node */
    assert_int_equal(p->children->len, 715 + (5000 - 715) * 3); /* & and 淘 */
    assert_int_equal(p->next->children->type, CL_CDATA);
    cl_dom_free(&d);
    cl_buf_free(&b);
}

/* Nesting past 256 levels: libxml2 stops the parse there and keeps what
 * it had; dom.c must stop at the same element. */
static void test_depth_limit(void **st)
{
    cl_buf b;
    cl_dom d;
    int depth = 0;
    (void)st;
    cl_buf_init(&b);
    for (int k = 0; k < 400; k++)
        cl_buf_puts(&b, "<div>x");
    cl_buf_puts(&b, "<p>never read</p>");
    free(same_as_libxml2("deep page", b.p, b.len));
    assert_int_equal(cl_dom_parse(&d, b.p, b.len, NULL), 0);
    for (cl_node *n = cl_dom_root(&d); n; n = n->last)
        depth += n->type == CL_ELEM;
    assert_int_equal(depth, 257); /* html, body, then 255 divs */
    assert_true(d.halted);
    cl_dom_free(&d);
    cl_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pages_and_damaged_copies),
        cmocka_unit_test(test_sax2_rules),
        cmocka_unit_test(test_text_joined_across_chunks),
        cmocka_unit_test(test_depth_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
