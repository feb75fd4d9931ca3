/*
 * fetch.h - internals shared by the files of the fetch stage.
 *
 * fetch is a source.  Its work is a list of local files (from `paths`) read
 * directly, and a queue of URLs (from `urls`, `urls_file` and the items of
 * `feeds`) fetched through libcurl's multi interface with per-host limits,
 * a per-host rate, retries with backoff, and a cap on body size.
 */
#ifndef FETCH_H
#define FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "taojin/stage.h"

typedef struct fetch_config {
    tj_list paths, urls, feeds;
    const char *urls_file;
    int64_t concurrency, per_host, retries, max_redirects;
    double rate_per_host; /* requests per second, 0 = no limit */
    double timeout, backoff;
    int64_t max_bytes;
    const char *user_agent;
    int insecure;
    tj_map headers;
    const char *incremental; /* auto | true | false */
} fetch_config;

/* A growable list of owned strings. */
typedef struct strlist {
    char **v;
    size_t n, cap;
} strlist;
int strlist_add(strlist *l, const char *s);
int strlist_take(strlist *l, char *s); /* s is freed on failure */
void strlist_free(strlist *l);
/* Sorts and removes duplicates. */
void strlist_sort_unique(strlist *l);

/* ---- paths.c ------------------------------------------------------------ */

/* Expands one `paths` pattern (relative to the working directory; `**`
 * matches any number of directories, a directory means every file under
 * it) into absolute file paths appended to `files`.  A literal path that
 * does not exist is appended to `missing`.  Returns 0 or TJ_ENOMEM. */
int paths_expand(const char *pattern, strlist *files, strlist *missing);

/* Reads a URL list: one URL per line, blank lines and lines starting with
 * '#' skipped.  Returns 0, or TJ_EIO with a message in err. */
int paths_read_url_list(const char *path, strlist *urls, char *err,
                        size_t errlen);

/* The file:// URL of an absolute path (bytes outside the unreserved set
 * and '/' percent-encoded).  malloc()ed, NULL when out of memory. */
char *paths_file_url(const char *abs_path);

/* ---- feed.c ------------------------------------------------------------- */

/* Called for each feed item: its resolved link and its date (ISO 8601 when
 * it could be read, else the text as given; NULL when absent). */
typedef int (*feed_item_fn)(void *arg, const char *link,
                            const char *published);

/* Parses an RSS 2.0, RSS 1.0 or Atom document of n bytes.  Relative links
 * are resolved against base_url (may be NULL).  Returns the number of
 * items seen (>= 0), or TJ_EPARSE with a message in err when the document
 * is not a feed, or the first non-zero value fn returned. */
int feed_parse(const char *data, size_t n, const char *base_url,
               feed_item_fn fn, void *arg, char *err, size_t errlen);

/* Converts an RFC 822 date ("Wed, 05 Mar 2025 10:05:00 +0800") or an RFC
 * 3339 one to ISO 8601 with its offset ("2025-03-05T10:05:00+08:00") in
 * out (at least 32 bytes).  Returns 0, or TJ_EPARSE. */
int feed_date_iso(const char *text, char *out, size_t outlen);

/* ---- state.c ------------------------------------------------------------ */

/* What incremental fetching keeps per URL (see state.c).  Strings are
 * malloc()ed or NULL; sha256 is "" when unknown, size -1. */
typedef struct fstate {
    char *etag, *last_modified, *mtime;
    long long size;
    char sha256[65];
} fstate;

/* Reads url's entry from the state database into out (which the caller
 * clears with fstate_clear).  Returns 1 when there was one, 0 when not
 * (or it was unreadable), or a TJ_E* code from the state database. */
int fstate_load(tj_ctx *ctx, const char *url, fstate *out);
void fstate_clear(fstate *s);
/* Writes s as url's entry now.  0 or a TJ_E* code. */
int fstate_store(tj_ctx *ctx, const char *url, const fstate *s);
/* Non-zero when a and b hold the same values. */
int fstate_same(const fstate *a, const fstate *b);
/* Attaches an acknowledgement to rec that writes s (copied now) as url's
 * entry once the record is delivered or dropped, never when it failed.
 * 0, or a TJ_E* code (nothing attached). */
int fstate_on_ack(tj_ctx *ctx, tj_record *rec, const char *url,
                  const fstate *s);

/* ---- http.c ------------------------------------------------------------- */

typedef struct http_engine http_engine;

/* Creates the engine for a stage instance (curl multi handle, limits from
 * cfg).  Returns NULL with a message in err on failure. */
http_engine *http_new(const fetch_config *cfg, char *err, size_t errlen);
void http_free(http_engine *e);

/* Turns incremental fetching on: conditional requests from the stored
 * validators, 304s and bodies whose SHA-256 is unchanged counted as
 * `unchanged` instead of emitted, entries stored on acknowledgement. */
void http_set_incremental(http_engine *e, int on);

/* Queues a URL.  `feed_published_at` (may be NULL) is copied onto the
 * record; is_feed marks a feed document whose items are queued in turn.
 * URLs already queued in this run are skipped (returns 0 too).  Returns 0
 * or TJ_ENOMEM. */
int http_enqueue(http_engine *e, const char *url,
                 const char *feed_published_at, int is_feed);

/* Runs the engine once: starts what the limits allow, moves data, and
 * emits (or fails) the records of finished transfers.  Blocks at most
 * max_wait seconds when nothing finished.  Returns 1 while work remains,
 * 0 when idle with nothing queued, or a TJ_E* code. */
int http_step(http_engine *e, tj_ctx *ctx, double max_wait);

/* Queues the items of a parsed feed document (used for local feed files
 * and for feeds fetched by the engine).  Failures become failed records
 * naming `where`.  Returns 0 or a TJ_E* code from emitting. */
int http_enqueue_feed(http_engine *e, tj_ctx *ctx, const char *where,
                      const char *base_url, const char *data, size_t n);

/* ---- fetch.c ------------------------------------------------------------ */

/* Writes the current UTC time as ISO 8601 ("2025-03-05T02:05:07Z"). */
void fetch_now_iso(char out[32]);

/* Makes a record failed with msg (the stage's on_error policy applies):
 * url, final_url (when given), status (when > 0) and fetched_at are set. */
int fetch_fail(tj_ctx *ctx, const char *url, const char *final_url,
               long status, const char *msg);

#endif
