/*
 * entities.h - the entity scanner and the article-field extractor of the
 * extract stage (internal).
 */
#ifndef TJ_EXTRACT_ENTITIES_H
#define TJ_EXTRACT_ENTITIES_H

#include "ext.h"

#include <cjson/cJSON.h>

/* What to look for and against what.  `ref` resolves year-less and relative
 * dates (the article's published_at); `max` caps each list.  `cls` is the
 * scanner's character table made by ext_entities_prepare (NULL: each call
 * builds a temporary one, as tests and fuzz targets may), `marks` its
 * scratch space (an instance scans one record at a time). */
typedef struct ext_ent_opts {
    int tickers, orgs, money, percents, dates;
    size_t max;
    const ext_dict *dict;
    const ext_dref *ref;
    const uint8_t *cls;
    struct ext_marks *marks; /* the scanner's scratch lists (with cls) */
} ext_ent_opts;

/* Builds the character table of the scanner for o's dictionary (one byte
 * per BMP code point: what each character may start) and stores it in
 * o->cls, so that no record pays for it.  Returns 0, or -1 when out of
 * memory.  ext_entities_release frees it (a no-op when there is none). */
int ext_entities_prepare(ext_ent_opts *o);
void ext_entities_release(ext_ent_opts *o);

/* Scans each text in turn and adds "tickers", "organizations", "money",
 * "percents" and "dates" arrays to the JSON object `out`.  Returns 0, or -1
 * when out of memory (out may then hold some of the arrays). */
int ext_entities(const char *const *texts, const size_t *lens, size_t ntexts,
                 const ext_ent_opts *o, cJSON *out);

/* The same scan written straight as the JSON text of the entities object
 * into `out` (no cJSON tree: the stage's hot path).  The lists of `user`
 * (a cJSON object, may be NULL) follow the built-in ones and replace those
 * of the same name.  When `script` is not NULL it gets ext_script() of the
 * last text, counted in the same pass.  Returns 0, or -1 when out of
 * memory. */
int ext_entities_json(const char *const *texts, const size_t *lens,
                      size_t ntexts, const ext_ent_opts *o,
                      const cJSON *user, ext_buf *out, const char **script);

/* For tests: the bytes of the ticker the scanner reads at the ASCII byte
 * s[0] (0 for none), asked through its pre-filter ticker_may_start_ascii
 * (filtered != 0) or straight from the parsers.  The two agree on every
 * input. */
size_t ext_ticker_probe(const char *s, size_t n, int filtered);

/* ---- meta.c --------------------------------------------------------------- */

/* The article fields; each string is malloc'ed or NULL when unknown. */
typedef struct ext_meta {
    char *title, *author, *editor, *source;
    char published_at[32]; /* "" when unknown */
    ext_dt published;      /* valid when published_at[0] */
} ext_meta;

/* Inputs of ext_meta_extract: the clean body, the page hints (may be NULL),
 * fetched_at and feed_published_at (NULL when absent) and the zone. */
typedef struct ext_meta_in {
    const char *body;
    size_t body_len;
    const cJSON *page;
    const char *fetched_at, *feed_published_at;
    int zone_min;
} ext_meta_in;

/* Fills *m from `in` following the rules in README.md.  Returns 0 or -1
 * when out of memory (*m is then freed). */
int ext_meta_extract(const ext_meta_in *in, ext_meta *m);

/* Frees the strings of m (not m itself). */
void ext_meta_free(ext_meta *m);

/* Removes ticker noise from a title in place: a trailing "(nvda.us)" or
 * "（NVDA.US）" and a leading "NVDA.US " token. */
void ext_title_strip_tickers(char *title);

#endif
