/*
 * test_veil.c - the veiled parse (veil.c) gives the very tree the page
 * itself gives (dom.c): both trees are written out and compared, on
 * every corpus page, the fixtures, the sample site, and pages made to
 * trip the veil (runs inside attributes, comments, scripts, PIs, bogus
 * tags, blank chunks under an HTML 4.01 doctype, entities, token marks
 * already in the page, invalid UTF-8, script and style bodies and
 * attribute values that are none or that the parser reads otherwise).
 */
#include "clean_test.h" /* before cmocka.h: its fail() macro */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "clean.h"
#include "tree_dump.h"

/* Asserts both parses agree; returns whether the veil was used. */
static int same_tree(const char *what, const char *html, size_t n)
{
    int veiled = 0;
    char *plain = dump_clean_tree(html, n, 0, NULL);
    char *veil = dump_clean_tree(html, n, 1, &veiled);
    if (strcmp(plain, veil)) {
        print_error("veiled tree differs on %s\n--- plain\n%s\n--- veiled\n%s\n",
                    what, plain, veil);
        fail();
    }
    free(plain);
    free(veil);
    return veiled;
}

static void veil_page(const char *path, const char *html, size_t n, void *arg)
{
    *(size_t *)arg += (size_t)same_tree(path, html, n);
}

static void test_corpora_and_samples(void **st)
{
    size_t veiled = 0, pages = each_page(veil_page, &veiled);
    (void)st;
    print_message("# %zu pages, %zu parsed veiled, trees identical\n", pages,
                  veiled);
    assert_true(pages >= 40);
    assert_true(veiled * 10 >= pages * 8); /* the veil is really exercised */
}

/* Asserts both parses agree on each of the NULL-terminated pages; prints
 * and returns how many were parsed veiled. */
static int same_trees(const char *label, const char *const *pages)
{
    int veiled = 0, i;
    for (i = 0; pages[i]; i++) {
        char what[48];
        snprintf(what, sizeof what, "%s page %d", label, i);
        int one = same_tree(what, pages[i], strlen(pages[i]));
        if (getenv("VEIL_DEBUG"))
            print_message("#   %s: %s\n", what, one ? "veiled" : "as it is");
        veiled += one;
    }
    print_message("# %s pages: %d of %d parsed veiled\n", label, veiled, i);
    return veiled;
}

#define LONG "這是一段很長的文字，用來檢查遮蔽後的解析是否與原頁相同。"

static void test_tricky_pages(void **st)
{
    static const char *const pages[] = {
        "<html><body><p>" LONG LONG "</p><p>" LONG "&amp;" LONG "</p></body></html>",
        "<a title=\"x> " LONG "\" href=y>z</a><p>" LONG "</p>",
        "<a title='x> " LONG "' href=y>" LONG "</a>",
        "<p><!-- a > " LONG " -- ><p>" LONG "</p> --><p>after " LONG "</p>",
        "<p><!-- a >" LONG "--<b>x</b>-->" LONG "</p>",
        "<script>if (a > b) { s = '" LONG "'; }</script><p>" LONG "</p>",
        "<script>x = 1 > 0;" LONG "</script><style>a>b{}" LONG "</style>",
        "<title>" LONG "</title><body>" LONG "</body>",
        "<!DOCTYPE html PUBLIC \"-//W3C//DTD HTML 4.01//EN\"><html><body>>" LONG
        LONG LONG LONG LONG LONG LONG LONG LONG LONG LONG LONG "     </body></html>",
        "<!DOCTYPE html PUBLIC \"-//W3C//DTD HTML 4.01//EN\"><html><body><b>x</b>"
        LONG "<br>   </body></html>",
        "<?php echo \"> " LONG "\"; ?><p>" LONG "</p>",
        "<p></p foo> " LONG "<b>x</b></p>",
        "<p><![CDATA[ > " LONG " ]]></p>" LONG,
        "<textarea>a > " LONG "</textarea><xmp>b > " LONG "</xmp>",
        "<p>a > " LONG "&nbsp;" LONG "&bogus " LONG "&#12354;</p>",
        "> " LONG "<p>x</p>",
        "<p>" LONG "\xEF\xB7\x90" "0" "\xEF\xB7\x91</p><p>" LONG "</p>",
        "<p>" LONG "</p>\xff<p>" LONG "</p>",
        "<p>" LONG "\r\n" LONG "</p>",
        "<p>" LONG "\x01" LONG "</p><p>" LONG "\xEF\xBF\xBF" LONG "</p>",
        "<p>>" LONG "</p><p>> " LONG "   </p><p>>" LONG "   &amp;</p>",
        "<html><head>>" LONG "<meta name=a content=b></head><body>x</body></html>",
        "</html>>" LONG "<p>x",
        "<table><tr>>" LONG "<td>x</td></tr></table>",
        "<select>>" LONG "<option>x</select>",
        "<a href='x'>>" LONG "<a href='y'>>" LONG "</a></a>",
        NULL};
    (void)st;
    same_trees("tricky", pages);
    /* a plain article page is veiled */
    assert_int_equal(same_tree("plain", pages[0], strlen(pages[0])), 1);
}

/* Script text that parses as markup anywhere else: tags, '&', '>'. */
#define CODE "if (a<b && c > d) { s = '<i>" LONG "</i>&amp;'; }"

/* Script and style bodies veiled whole: every case the scanner could take
 * for a body that is none, or a body the parser reads otherwise. */
static void test_script_bodies(void **st)
{
    static const char *const pages[] = {
        "<p>a</p><script>" CODE "</script><p>b</p>",
        "<!-- <script>" CODE "</script> --><p>" LONG "</p>",
        "<p title=\"<script>\">" CODE "</script></p>",
        "<script/>" CODE "</script><p>" LONG "</p>",
        "<script></div>" CODE "</script>",
        "<script><div>" CODE "</script>",
        "<script>" CODE "</scriptx>" CODE "</script>",
        "<SCRIPT type=\"text/javascript\">" CODE "</SCRIPT>",
        "<style>p > b { content: \"" LONG "\" }</style>",
        "<script>" CODE "\r\n" CODE "</script>",
        "<script>" CODE "\x01" CODE "</script>",
        "<script>" CODE "\xEF\xBF\xBE" CODE "</script>",
        "<script data-x=\"a>b\">" CODE "</script>",
        "<script data-x='a>b'>" CODE "</script>",
        "<script>document.write(\"<script>" CODE "<\\/script>\"); " CODE "</script>",
        "<textarea><script>" CODE "</script></textarea>",
        "<script>" CODE,
        "<title><style>x{} " CODE "</style></title>",
        "<svg><script>" CODE "</script></svg>",
        "<xmp><script>" CODE "</script></xmp>",
        "<noscript><script>" CODE "</script></noscript>",
        "<script>" CODE "</script ><script>" CODE "</SCRIPT\n>",
        "<style>" CODE "</script></style><script>" CODE "</style></script>",
        "<select><script>" CODE "</script></select>",
        "<table><script>" CODE "</script><tr><td>x</td></tr></table>",
        "<html><head><script>" CODE "</script></head><body><p>" LONG "</p></body></html>",
        "</html><script>" CODE "</script>",
        "<!-- a --><script>" CODE "</script><!-- <script> -->" CODE,
        "<![CDATA[<script>]]>" CODE "</script>",
        NULL};
    (void)st;
    same_trees("script", pages);
    /* the body holds '<', '>' and '&': only its own token veils it */
    assert_int_equal(same_tree("script", pages[0], strlen(pages[0])), 1);
}

#define VAL "a-very-long-class-name another-long-class-name " LONG

/* Long quoted attribute values veiled: values the parser reads otherwise,
 * quotes the scanner pairs wrongly, tags that are none. */
static void test_attribute_values(void **st)
{
    static const char *const pages[] = {
        "<div class=\"" VAL "\"><p>" LONG "</p></div>",
        "<div class='" VAL "' title=\"" VAL "\">x</div>",
        "<div class=\"" VAL "\" \"=\"\" data-x=\"" VAL "\">x</div><p>" LONG "</p>",
        "<div \"" VAL "\" class=\"" VAL "\">x</div>",
        "<div class=\"" VAL "\" class=\"" VAL "\">duplicate</div>",
        "<div class = \"" VAL "\">blanks around =</div>",
        "<div class=" "unquoted-" VAL ">x</div>",
        "<div title=\"a > b " VAL "\">x</div>",
        "<div title=\"" VAL "&amp;" VAL "\">x</div>",
        "<div title=\"" VAL "\r\n" VAL "\">x</div>",
        "<div title=\"" VAL "\x01\">x</div>",
        /* control characters and U+FFFE/U+FFFF inside a long value, with
         * a whole word of it after them */
        "<div title=\"" VAL "\x01" VAL "\">x</div>",
        "<div title=\"" VAL "\x0c" VAL "\">x</div>",
        "<div title=\"" VAL "\r" VAL "\">x</div>",
        "<div title=\"" VAL "\xef\xbf\xbe" VAL "\">x</div>",
        "<div title=\"" VAL "\xef\xbf\xbf" VAL "\">x</div>",
        "<div title=\"" VAL,
        "<html><body class=\"" VAL "\"><p>x</p></body></html><body class=\"" VAL "\">",
        "<html lang=\"" VAL "\"><html lang=\"" VAL "\"><p>x</p>",
        "<!-- <div class=\"" VAL "\"> --><p>" LONG "</p>",
        "<script>s = '<div class=\"" VAL "\">';</script>",
        "<script>" CODE "<div class=\"" VAL "\"></script>",
        "<p title=\"<div class=\"" VAL "\">\">x</p>",
        "<p title=\"<div data-x='aaa\"bbb " VAL "'>x\">y</p>",
        "<!DOCTYPE html PUBLIC \"" VAL "\" \"" VAL "\"><p>x</p>",
        "<?php x=\"" VAL "\" ?><p>x</p>",
        "<p>text with a=\"" VAL "\" in it</p>",
        "<div/class=\"" VAL "\">x</div>",
        "<div class=\"" VAL "\"/><p>x</p>",
        "<img src=\"" VAL "\" alt='" VAL "'>",
        "<a href=\"http://example.com/" VAL "\">" LONG "</a>",
        "<div data-json='{\"a\": \"" VAL "\"}'>x</div>",
        "<select><option value=\"" VAL "\">x</select>",
        "<table class=\"" VAL "\"><tr class=\"" VAL "\"><td>x</table>",
        "<font face=\"" VAL "\"><p>x</p></font>",
        /* references in values: only "&amp;" and what stays as it is */
        "<a href=\"http://x.cn/a?b=1&amp;c=2&amp;" VAL "\">x</a>",
        "<a href=\"http://x.cn/a?b=1&c=2&d;e&" VAL "&\">x</a>",
        "<a title=\"" VAL "&amp\">x</a><a title=\"" VAL "&amp;amp;\">y</a>",
        "<a title=\"" VAL "&lt;b&gt;\">x</a>",
        "<a title=\"" VAL "&#38;&#x26;\">x</a>",
        "<a title=\"" VAL "&copy;&foo;&ampx;&1;&;\">x</a>",
        "<a title=\"" VAL "&\xe4\xb8\xad;&nbsp\xe4\xb8\xad & =\">x</a>",
        "<a title=\"" VAL "&lt&gt \">x</a>",
        NULL};
    (void)st;
    same_trees("attribute", pages);
    assert_int_equal(same_tree("attribute", pages[1], strlen(pages[1])), 1);
}

/* Blank stretches around 1000-byte chunk edges, every alignment. */
static void test_blank_chunks(void **st)
{
    (void)st;
    for (int pad = 0; pad < 40; pad++) {
        cl_buf b;
        cl_buf_init(&b);
        cl_buf_puts(&b, "<!DOCTYPE html PUBLIC \"-//W3C//DTD HTML 4.01//EN\">"
                        "<html><body><b>x</b>>");
        for (int k = 0; k < 960 + pad; k++)
            cl_buf_putc(&b, 'a' + k % 26);
        for (int k = 0; k < 50; k++)
            cl_buf_putc(&b, ' ');
        cl_buf_puts(&b, "z   </body></html>");
        same_tree("blank chunks", b.p, b.len);
        cl_buf_free(&b);
    }
}

/* Whole attribute lists, read again by veil.c as htmlParseStartTag reads
 * them: every kind of attribute it covers, and lists it must leave to
 * libxml2 (bogus bytes between attributes, long names, empty values). */
static void test_attribute_lists(void **st)
{
    static const char *const read[] = {
        "<div CLASS=\"a b c\" Id='main' data-X=1 hidden>x</div>",
        "<input type=checkbox checked disabled value=\"on\" name=agree>",
        "<div class=\"a\" class=\"b\" CLASS=c id=d>duplicates: the first kept</div>",
        "<a href=/a/b/c/ title=\"x > y < z\">unquoted value ending in '/'</a>",
        "<br class=\"clear both\" id=\"br1\" /><br class=x/ id=y/><p>x</p>",
        "<a   href = \"http://x.cn/?a=1&amp;b=2&c=3\"   target = _blank  >x</a>",
        "<a href=\"x\"title=\"no blank between\"class='y'>x</a>",
        "<img src=\"a.png\" alt=\"\" width=10 height=20\n\tstyle=\"display:none\">",
        "<o:p class=\"MsoNormal\" style=\"margin:0\">x</o:p><svg:rect x=\"1\" y=\"2\" z=\"3\"/>",
        "<td nowrap valign=top align=center colspan=2>x</td>",
        "<div data-json='{\"a\": [1, 2], \"b\": \"c\"}' data-y=\"it's\">x</div>",
        "<div title=\"\xe4\xb8\xad\xe6\x96\x87 \xe6\xa0\x87\xe9\xa2\x98\" lang=zh-CN>x</div>",
        "<script type=\"text/javascript\" src=\"/a/b.js\" async></script><p>x</p>",
        "<option value=\"1\" selected=\"selected\" label=\"one one\">x",
        NULL};
    static const char *const left[] = {
        "<div class=\"a b c\" / id=\"x\">a '/' alone between attributes</div>",
        "<div class=\"a b c\" \"=\"\" id=\"x\">a quote for a name</div>",
        "<div class=\"a b c\" id= >an empty unquoted value</div>",
        "<div class=\"a b c\" id=\"x>unterminated",
        "<div class=\"a b c\" \xe4\xb8\xad=1 id=x>a name that is not ASCII</div>",
        "<div aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=1 b=2>x</div>",
        "<div class=\"a b c\" id=\"x\r\ny\">a CR in a value</div>",
        "<div class=\"a b c\" title=\"&lt;b&gt;\">a reference</div>",
        "<meta name=\"description\" content=\"a page about something\"><p>x</p>",
        "<html lang=\"zh-CN\" class=\"no-js x\"><body class=\"home page\"><p>x</p></body></html>",
        NULL};
    /* a tag's list read as another's: the stand-in is that one's */
    static const char *const odd[] = {
        "<a <div class=\"x y z\" id=\"abc\">text</a>",
        "<a href=<div class=\"x y z\" id=\"abc\">text</a>",
        "<a title=\"<div class='x y z' id='abc'>\">text</a>",
        "<p t>x</p><div class=\"x y z\" id=\"abc\" t>y</div><i t class=\"x y z w v\">z</i>",
        "<div class=\"x y z\" id=\"abc\"<p class=\"x y z\" id=\"abc\">y</p>",
        NULL};
    (void)st;
    same_trees("attribute list odd", odd);
    assert_int_equal(same_trees("attribute list", read), 14);
    /* nothing else on these pages is worth veiling */
    assert_int_equal(same_trees("attribute list left", left), 0);
}

/* Blank runs between tags, cut to one byte while libxml2 parses: where
 * they are, and every place where the parser skips them, reads them
 * otherwise, or reads their one byte with more. */
#define IND "\n        "
static void test_blank_runs(void **st)
{
    static const char *const cut[] = {
        "<html>" IND "<head>" IND "<title>t</title>" IND "</head>" IND "<body>" IND
        "<div>" IND "<p>" LONG "</p>" IND "</div>" IND "</body>" IND "</html>" IND,
        /* prologue blanks are skipped, not read: not cut */
        "<!DOCTYPE html>" IND "<!-- c -->" IND "<?pi x?>" IND "<html>" IND "<p>x</p></html>",
        IND "<p>x</p>" IND "<p>y</p>",
        /* areBlanks says yes in the body under this doctype */
        "<!DOCTYPE html PUBLIC \"-//W3C//DTD HTML 4.01//EN\"><html><body>" IND
        "<b>x</b>" IND "<p>y</p>" IND "</body></html>",
        "<p title=\"a >" IND "<b\">x</p>" IND "<p title='>" IND "<'>y</p>",
        "<script>a >" IND "</script>" IND "<style>b >" IND "</style>" IND "<p>x</p>",
        "<textarea>" IND "</textarea>" IND "<pre>" IND "<b>x</b>" IND "</pre>",
        "<table>" IND "<tr>" IND "<td>x</td>" IND "</tr>" IND "</table>",
        "<select>" IND "<option>x" IND "<option>y" IND "</select>",
        "<ul>" IND "<li>a" IND "<li>b" IND "</ul>" IND "<br>" IND "<hr>" IND "<img src=x>" IND,
        "<p>x</p>\r\n  \r\n<p>y</p>\t \t<p>z</p>",
        "<p>x</p></body></html>" IND "<p>after</p>" IND,
        "<p>x</p foo>" IND "<b>y</b>",
        "<html>" IND "<head>" IND "<meta charset=utf-8>" IND "x" IND "<title>t</title>",
        "<html><head></head>" IND "<body>" IND "x</body></html>",
        "<a href=x>a</a>" IND "<a href=y>b</a>" IND "<a name=z></a>",
        NULL};
    /* the run's byte read with the text before it ("a >", "]]>"), the
     * run in a comment, an unclosed script, a bogus tag, or after no '>' */
    static const char *const whole[] = {
        "<p>a >" IND "<b>x</b>" IND "</p>",
        "<p><!-- a >" IND "<b> -->" IND "</p>",
        "<script>a >" IND "<b>",
        "<title>a >" IND "</title>" IND "<xmp>a >" IND "</xmp>",
        "<p>x</p>  &amp;  <p>y</p>" IND "&nbsp;" IND "<p>z</p>",
        "<p>x</p>" IND,
        "<p>x<p" IND "<b>y</b>",
        "<p>&lt;b&gt;" IND "<b>x</b>",
        "<p>a</p><![CDATA[ >" IND "]]>" IND "<p>b</p>",
        NULL};
    cl_veil v;
    size_t blanks = 0;
    (void)st;
    assert_int_equal(same_trees("blank cut", cut), 16);
    assert_int_equal(same_trees("blank kept", whole), 0);
    /* the indentation of an article page is cut */
    assert_int_equal(cl_veil_make(&v, cut[0], strlen(cut[0])), 0);
    assert_non_null(v.html);
    for (size_t r = 0; r < v.n; r++)
        blanks += v.kind[r] == RUN_BLANK;
    assert_int_equal(blanks, 9); /* the last one ends the page: kept */
    assert_true(v.html_len > strlen(IND)); /* which stays whole */
    assert_null(memmem(v.html, v.html_len - strlen(IND), IND, 2));
    assert_memory_equal(v.html + v.html_len - strlen(IND), IND, strlen(IND));
    cl_veil_free(&v);
    /* a blank run at every offset from a 1000-byte chunk edge */
    for (int pad = 0; pad < 24; pad++) {
        cl_buf b;
        cl_buf_init(&b);
        cl_buf_puts(&b, "<html><body><p>");
        for (int k = 0; k < 980 + pad; k++)
            cl_buf_putc(&b, k % 50 == 49 ? '>' : 'a' + k % 26);
        cl_buf_puts(&b, IND "<b>x</b>" IND "</p></body></html>");
        same_tree("blank at chunk edge", b.p, b.len);
        cl_buf_free(&b);
    }
    /* runs of every length around the cut limit */
    for (int len = 1; len < 1100; len += len < 8 ? 1 : 101) {
        cl_buf b;
        cl_buf_init(&b);
        cl_buf_puts(&b, "<html><body><p>x</p>");
        for (int k = 0; k < len; k++)
            cl_buf_putc(&b, " \n\t"[k % 3]);
        cl_buf_puts(&b, "<p>y</p></body></html>");
        same_tree("blank run length", b.p, b.len);
        cl_buf_free(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpora_and_samples),
        cmocka_unit_test(test_tricky_pages),
        cmocka_unit_test(test_script_bodies),
        cmocka_unit_test(test_attribute_values),
        cmocka_unit_test(test_blank_chunks),
        cmocka_unit_test(test_attribute_lists),
        cmocka_unit_test(test_blank_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
