/*
 * fuzz_clean.c - libFuzzer target for the clean stage, HTML and text paths.
 * The first byte picks the mode (auto, html, text) and the mojibake policy;
 * the rest is the body.  Three harnesses are built once and reused.
 * Every input is also parsed veiled and plain (veil.c): the two trees must
 * serialize the same.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/HTMLtree.h>

#include "clean.h"
#include "harness.h"

static tj_harness *harness[3][3];

static tj_harness *get(int mode, int moji)
{
    static const char *const modes[] = {"mode=auto", "mode=html", "mode=text"};
    static const char *const mojis[] = {"drop_mojibake=span", "drop_mojibake=none",
                                        "drop_mojibake=paragraph"};
    if (!harness[mode][moji]) {
        const char *opts[] = {modes[mode], mojis[moji], "boilerplate=[本站提醒, x]",
                              NULL};
        harness[mode][moji] =
            tj_harness_new(taojin_stage_entry(tj__host_api()), opts, NULL);
        if (!harness[mode][moji])
            abort();
    }
    return harness[mode][moji];
}

/* The serialized tree of html[0..n), veiled or not; NULL when none. */
static xmlChar *tree(const char *html, size_t n, int veil, int *size)
{
    xmlDocPtr doc = cl_html_parse(html, n, veil, NULL);
    xmlChar *mem = NULL;
    *size = 0;
    if (doc)
        htmlDocDumpMemory(doc, &mem, size);
    xmlFreeDoc(doc);
    return mem;
}

static void check_veil(const uint8_t *data, size_t size)
{
    int na, nb;
    xmlChar *a = tree((const char *)data, size, 0, &na);
    xmlChar *b = tree((const char *)data, size, 1, &nb);
    if (na != nb || (na && memcmp(a, b, (size_t)na)))
        abort(); /* the veil changed the tree */
    xmlFree(a);
    xmlFree(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tj_harness *h;
    tj_record *r, *o;
    if (size < 1)
        return 0;
    h = get(data[0] % 3, (data[0] / 3) % 3);
    r = tj_record_new();
    tj_record_set(r, "body", data + 1, size - 1);
    if (data[0] & 0x80)
        tj_record_set_str(r, "content_type", "text/plain");
    tj_harness_process(h, r);
    while ((o = tj_harness_next(h)))
        tj_record_free(o);
    check_veil(data + 1, size - 1);
    return 0;
}
