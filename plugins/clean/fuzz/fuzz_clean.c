/*
 * fuzz_clean.c - libFuzzer target for the clean stage, HTML and text paths.
 * The first byte picks the mode (auto, html, text) and the mojibake policy;
 * the rest is the body.  Three harnesses are built once and reused.
 * Every input is also parsed veiled and plain (veil.c), and by libxml2's
 * own tree builder: the three trees must be the same (tests/tree_dump.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/tree_dump.h"
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

/* The veil changes nothing, and clean's tree is libxml2's own. */
static void check_trees(const uint8_t *data, size_t size)
{
    const char *html = (const char *)data;
    char *plain = dump_clean_tree(html, size, 0, NULL);
    char *veiled = dump_clean_tree(html, size, 1, NULL);
    char *theirs = dump_libxml2_tree(html, size);
    if (strcmp(plain, veiled))
        abort(); /* the veil changed the tree */
    if (strcmp(plain, theirs))
        abort(); /* dom.c built another tree than libxml2's SAX2 */
    free(plain);
    free(veiled);
    free(theirs);
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
    check_trees(data + 1, size - 1);
    return 0;
}
