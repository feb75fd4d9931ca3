/*
 * fuzz_feed.c - libFuzzer target for the fetch stage's parsers: feed
 * documents (RSS / Atom through libxml2, links resolved against a base
 * URL) and feed dates (RFC 822 / RFC 3339 to ISO 8601).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fetch.h"

static int on_item(void *arg, const char *link, const char *published)
{
    size_t *n = arg;
    if (!link || !*link)
        abort(); /* items without a link are skipped, never passed on */
    *n += strlen(link) + (published ? strlen(published) : 0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256], iso[64], date[128];
    size_t total = 0;
    feed_parse((const char *)data, size, "http://fuzz.test/dir/feed.xml",
               on_item, &total, err, sizeof err);
    size_t n = size < sizeof date - 1 ? size : sizeof date - 1;
    memcpy(date, data, n);
    date[n] = '\0';
    if (feed_date_iso(date, iso, sizeof iso) == 0 && strlen(iso) < 20)
        abort(); /* an ISO 8601 date with a zone is at least 20 chars */
    return 0;
}
