/*
 * fuzz_decode.c - libFuzzer target for the decode stage: arbitrary bytes
 * as a body, with the first input byte choosing a Content-Type label and a
 * Content-Encoding, run through the real stage (harness + host table).
 * Also checks the invariant that a successful decode yields valid UTF-8.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "harness.h"

static const char *const content_types[] = {
    NULL, "text/html", "text/html; charset=utf-8", "text/html; charset=gbk",
    "text/html; charset=big5", "text/html; charset=iso-8859-1",
    "text/html; charset=utf-16", "text/html; charset=euc-tw"};
static const char *const encodings[] = {NULL, "gzip", "deflate", "identity"};

static tj_harness *stage(int which)
{
    static tj_harness *h[2];
    static const char *opts[2][3] = {{"max_inflated=1M", NULL, NULL},
                                     {"max_inflated=1M", "fallback=big5",
                                      NULL}};
    if (!h[which])
        h[which] = tj_harness_new(taojin_stage_entry(tj__host_api()),
                                  opts[which], NULL);
    return h[which];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned sel = data[0];
    tj_harness *h = stage(sel >> 7);
    if (!h)
        abort();
    tj_record *rec = tj_record_new();
    tj_record_set_str(rec, "url", "http://fuzz.test/");
    if (content_types[sel & 7])
        tj_record_set_str(rec, "content_type", content_types[sel & 7]);
    if (encodings[(sel >> 3) & 3])
        tj_record_set_str(rec, "content_encoding", encodings[(sel >> 3) & 3]);
    tj_record_set(rec, "body", data + 1, size - 1);
    if (tj_harness_process(h, rec) == 0) {
        tj_record *out = tj_harness_next(h);
        size_t n = 0;
        const char *body = tj_record_get(out, "body", &n);
        if (!body || conv_utf8_valid_prefix((const unsigned char *)body, n) != n)
            abort(); /* decode must always hand on valid UTF-8 */
        tj_record_free(out);
    }
    return 0;
}
