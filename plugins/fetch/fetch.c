/*
 * fetch.c - the fetch source stage: local files (`paths`), URLs (`urls`,
 * `urls_file`) and the items of RSS/Atom feeds (`feeds`), as records with
 * the raw bytes in `body`.  URLs go through the engine in http.c; feeds are
 * parsed in feed.c; globs are expanded in paths.c.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <libxml/parser.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fetch.h"
#include "sha256.h"

#ifndef TJ_VERSION
#define TJ_VERSION "dev"
#endif

#define FILES_PER_CALL 16 /* local files read per produce call */
#define POLL_WAIT 0.1     /* seconds: the longest produce blocks */

typedef struct fetch_state {
    const fetch_config *cfg;
    strlist files;       /* absolute paths from `paths` */
    strlist missing;     /* literal paths that do not exist */
    strlist local_feeds; /* `feeds` entries that are file paths */
    size_t next_file, next_missing, next_feed;
    http_engine *http;
    int incremental; /* resolved from the option and the state database */
} fetch_state;

static const tj_option fetch_options[] = {
    {"paths", TJ_OPT_LIST, NULL, 0, NULL,
     "local files: globs (`**` = any directories) or directories, read "
     "recursively; each file one record with url file:///abs/path",
     offsetof(fetch_config, paths)},
    {"urls", TJ_OPT_LIST, NULL, 0, NULL, "URLs to fetch (http, https, file)",
     offsetof(fetch_config, urls)},
    {"urls_file", TJ_OPT_STRING, NULL, 0, NULL,
     "file with one URL per line ('#' starts a comment line)",
     offsetof(fetch_config, urls_file)},
    {"feeds", TJ_OPT_LIST, NULL, 0, NULL,
     "RSS 2.0 / Atom feeds (URLs or local files); every item's link is "
     "fetched, its date passed on as feed_published_at",
     offsetof(fetch_config, feeds)},
    {"concurrency", TJ_OPT_INT, "8", 0, NULL, "transfers at once, in all",
     offsetof(fetch_config, concurrency)},
    {"per_host", TJ_OPT_INT, "2", 0, NULL, "transfers at once to one host",
     offsetof(fetch_config, per_host)},
    {"rate_per_host", TJ_OPT_DOUBLE, "0", 0, NULL,
     "requests per second started to one host (0 = no limit)",
     offsetof(fetch_config, rate_per_host)},
    {"timeout", TJ_OPT_DURATION, "30s", 0, NULL,
     "longest time for one transfer (connect to last byte)",
     offsetof(fetch_config, timeout)},
    {"retries", TJ_OPT_INT, "3", 0, NULL,
     "retries after a connection error, a timeout, a 5xx or a 429",
     offsetof(fetch_config, retries)},
    {"backoff", TJ_OPT_DURATION, "1s", 0, NULL,
     "first retry delay; doubles on each retry, +-50% jitter; a "
     "Retry-After header takes precedence (capped at 300s)",
     offsetof(fetch_config, backoff)},
    {"max_redirects", TJ_OPT_INT, "5", 0, NULL,
     "redirects followed (final_url keeps where they led)",
     offsetof(fetch_config, max_redirects)},
    {"max_bytes", TJ_OPT_SIZE, "16M", 0, NULL,
     "largest body; a larger one is a record error",
     offsetof(fetch_config, max_bytes)},
    {"user_agent", TJ_OPT_STRING, "taojin/" TJ_VERSION, 0, NULL,
     "User-Agent header", offsetof(fetch_config, user_agent)},
    {"insecure", TJ_OPT_BOOL, "false", 0, NULL,
     "turn TLS certificate verification off (logged as a warning)",
     offsetof(fetch_config, insecure)},
    {"headers", TJ_OPT_MAP, NULL, 0, NULL,
     "extra request headers ({Name: value}); they replace ours of the "
     "same name", offsetof(fetch_config, headers)},
    {"incremental", TJ_OPT_STRING, "auto", 0, "auto|true|false",
     "send If-None-Match / If-Modified-Since from the state database and "
     "emit nothing for a 304 or an unchanged SHA-256 (counted as "
     "`unchanged`); validators are stored when the record is exported. "
     "auto = true when the pipeline has a state database (state: or "
     "schedule:).", offsetof(fetch_config, incremental)},
    TJ_OPTION_END};

/* ---- shared helpers ----------------------------------------------------- */

void fetch_now_iso(char out[32])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int fetch_fail(tj_ctx *ctx, const char *url, const char *final_url,
               long status, const char *msg)
{
    char now[32];
    tj_record *rec = tj_record_new();
    if (!rec)
        return TJ_ENOMEM;
    fetch_now_iso(now);
    tj_record_set_str(rec, "url", url);
    if (final_url)
        tj_record_set_str(rec, "final_url", final_url);
    if (status > 0)
        tj_record_set_int(rec, "status", status);
    tj_record_set_str(rec, "fetched_at", now);
    int rc = tj_fail(ctx, rec, msg);
    return rc == TJ_ECANCELED ? rc : 0;
}

static pthread_once_t libs_once = PTHREAD_ONCE_INIT;
static int libs_rc;

/* libcurl and libxml2 want one global initialisation per process. */
static void init_libs(void)
{
    libs_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0
                                                                : TJ_ENOMEM;
    xmlInitParser();
}

/* ---- init / fini -------------------------------------------------------- */

static void fetch_fini(void *state)
{
    fetch_state *st = state;
    if (!st)
        return;
    http_free(st->http);
    strlist_free(&st->files);
    strlist_free(&st->missing);
    strlist_free(&st->local_feeds);
    free(st);
}

/* Checks the numeric options; 0 or TJ_ECONFIG after tj_error. */
static int check_limits(tj_ctx *ctx, const fetch_config *c)
{
    const char *bad = c->concurrency < 1     ? "concurrency must be >= 1"
                      : c->per_host < 1      ? "per_host must be >= 1"
                      : c->retries < 0       ? "retries must be >= 0"
                      : c->max_redirects < 0 ? "max_redirects must be >= 0"
                      : c->timeout <= 0      ? "timeout must be > 0"
                      : c->backoff < 0       ? "backoff must be >= 0"
                      : c->max_bytes <= 0    ? "max_bytes must be > 0"
                      : c->rate_per_host < 0 ? "rate_per_host must be >= 0"
                      : !c->paths.n && !c->urls.n && !c->feeds.n &&
                              !c->urls_file
                          ? "nothing to fetch: set paths, urls, urls_file "
                            "or feeds"
                          : NULL;
    if (!bad)
        return 0;
    tj_error(ctx, "%s", bad);
    return TJ_ECONFIG;
}

/* Queues urls, urls_file and remote feeds; expands paths. */
static int gather(tj_ctx *ctx, fetch_state *st)
{
    const fetch_config *c = st->cfg;
    char err[512];
    int rc = 0;
    for (size_t i = 0; i < c->paths.n && !rc; i++)
        rc = paths_expand(c->paths.items[i], &st->files, &st->missing);
    strlist_sort_unique(&st->files);
    for (size_t i = 0; i < c->urls.n && !rc; i++)
        rc = http_enqueue(st->http, c->urls.items[i], NULL, 0);
    if (!rc && c->urls_file) {
        strlist list = {0};
        rc = paths_read_url_list(c->urls_file, &list, err, sizeof err);
        for (size_t i = 0; i < list.n && !rc; i++)
            rc = http_enqueue(st->http, list.v[i], NULL, 0);
        strlist_free(&list);
        if (rc == TJ_EIO) {
            tj_error(ctx, "%s", err);
            return TJ_ECONFIG;
        }
    }
    for (size_t i = 0; i < c->feeds.n && !rc; i++)
        rc = strstr(c->feeds.items[i], "://")
                 ? http_enqueue(st->http, c->feeds.items[i], NULL, 1)
                 : strlist_add(&st->local_feeds, c->feeds.items[i]);
    if (rc)
        tj_error(ctx, "out of memory");
    return rc;
}

/* Resolves `incremental`: auto means on when the pipeline has a state
 * database (tj_state_get answers anything but TJ_EINVAL).  0, or
 * TJ_ECONFIG when `true` is asked for without a database. */
static int resolve_incremental(tj_ctx *ctx, const fetch_config *cfg,
                               int *on)
{
    char *v = NULL;
    int rc = tj_state_get(ctx, "fetch", "", &v);
    free(v);
    int have_db = rc != TJ_EINVAL;
    const char *want = cfg->incremental ? cfg->incremental : "auto";
    *on = strcmp(want, "false") && have_db;
    if (!strcmp(want, "true") && !have_db) {
        tj_error(ctx, "incremental: true needs a state database: set "
                 "'state: FILE' (or 'schedule:') at the top of the pipeline");
        return TJ_ECONFIG;
    }
    return 0;
}

static int fetch_init(tj_ctx *ctx, const void *config, void **state)
{
    const fetch_config *cfg = config;
    fetch_state *st = NULL;
    char err[256];
    int rc = check_limits(ctx, cfg);
    if (rc)
        return rc;
    pthread_once(&libs_once, init_libs);
    if (libs_rc) {
        tj_error(ctx, "cannot initialise libcurl");
        return libs_rc;
    }
    if (!(st = calloc(1, sizeof *st))) {
        tj_error(ctx, "out of memory");
        return TJ_ENOMEM;
    }
    st->cfg = cfg;
    if ((rc = resolve_incremental(ctx, cfg, &st->incremental)) != 0)
        goto fail;
    if (!(st->http = http_new(cfg, err, sizeof err))) {
        tj_error(ctx, "%s", err);
        rc = TJ_ENOMEM;
        goto fail;
    }
    http_set_incremental(st->http, st->incremental);
    if ((rc = gather(ctx, st)) != 0)
        goto fail;
    if (cfg->insecure)
        tj_log(ctx, TJ_LOG_WARN,
               "insecure: true: TLS certificates are NOT verified");
    *state = st;
    return 0;
fail:
    fetch_fini(st);
    return rc;
}

/* ---- local inputs -------------------------------------------------------- */

/* Reads a whole file of at most max bytes (what it holds when read: a
 * file that shrinks gives fewer).  0, or an errno-style failure described
 * in msg.  Plain read(2) into the buffer: no stdio stream to allocate and
 * no second read for the end of the file. */
static int read_file(const char *path, int64_t max, char **data, size_t *n,
                     char *msg, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    size_t got = 0;
    ssize_t k = 0;
    *data = NULL;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(msg, len, "%s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return TJ_EIO;
    }
    if (st.st_size > max) {
        snprintf(msg, len, "file exceeds max_bytes (%lld bytes)",
                 (long long)max);
        close(fd);
        return TJ_EFULL;
    }
    *data = malloc((size_t)st.st_size + 1);
    while (*data && got < (size_t)st.st_size &&
           ((k = read(fd, *data + got, (size_t)st.st_size - got)) > 0 ||
            (k < 0 && errno == EINTR)))
        got += k > 0 ? (size_t)k : 0;
    close(fd);
    if (!*data || k < 0) {
        snprintf(msg, len, "%s", *data ? "read error" : "out of memory");
        free(*data);
        *data = NULL;
        return TJ_EIO;
    }
    *n = got;
    return 0;
}

/* Incremental, before reading a file: loads url's stored entry into old
 * and puts the file's mtime and size in fresh.  1 when both match the
 * entry (the file is unchanged and need not be read), else 0. */
static int file_same_stat(tj_ctx *ctx, const char *url, const char *path,
                          fstate *old, fstate *fresh)
{
    struct stat sb;
    char mtime[48];
    if (fstate_load(ctx, url, old) < 0 || stat(path, &sb) != 0)
        return 0;
    snprintf(mtime, sizeof mtime, "%lld.%09ld", (long long)sb.st_mtim.tv_sec,
             (long)sb.st_mtim.tv_nsec);
    fresh->mtime = strdup(mtime);
    fresh->size = (long long)sb.st_size;
    return old->mtime && fresh->mtime && !strcmp(old->mtime, fresh->mtime) &&
           old->size == fresh->size && old->sha256[0];
}

/* Incremental, after reading: 1 when the content has the stored SHA-256
 * (a touched file; the new mtime is stored at once), else 0. */
static int file_same_content(tj_ctx *ctx, const char *url, const char *data,
                             size_t n, const fstate *old, fstate *fresh)
{
    sha256_hex_of(data, n, fresh->sha256);
    if (!old->sha256[0] || strcmp(old->sha256, fresh->sha256))
        return 0;
    if (!fstate_same(old, fresh))
        fstate_store(ctx, url, fresh);
    return 1;
}

/* The record of a file read into data (taken over). */
static int file_record(tj_ctx *ctx, fetch_state *st, const char *url,
                       char *data, size_t n, const fstate *fresh)
{
    char now[32];
    tj_record *rec = tj_record_new();
    fetch_now_iso(now);
    int rc = rec ? 0 : TJ_ENOMEM;
    if (!rc)
        rc = tj_record_set_str(rec, "url", url);
    if (!rc)
        rc = tj_record_set_str(rec, "final_url", url);
    if (!rc)
        rc = tj_record_set_str(rec, "fetched_at", now);
    if (!rc) {
        rc = tj_record_take(rec, "body", data, n);
        data = NULL;
    }
    if (!rc && st->incremental)
        rc = fstate_on_ack(ctx, rec, url, fresh);
    free(data);
    if (rc) {
        tj_record_free(rec);
        return rc;
    }
    return tj_emit(ctx, rec);
}

/* One local file as a record: url, final_url, fetched_at, body; nothing
 * (counted `unchanged`) when incremental and the file has not changed. */
static int emit_file(tj_ctx *ctx, fetch_state *st, const char *path)
{
    char msg[1024], why[256];
    char *url = paths_file_url(path), *data = NULL;
    size_t n = 0;
    fstate old = {.size = -1}, fresh = {.size = -1};
    int rc = url ? 0 : TJ_ENOMEM;
    if (!rc && st->incremental &&
        file_same_stat(ctx, url, path, &old, &fresh)) {
        tj_count(ctx, "unchanged", 1);
        goto out;
    }
    if (!rc && (rc = read_file(path, st->cfg->max_bytes, &data, &n, why,
                               sizeof why)) != 0) {
        snprintf(msg, sizeof msg, "read %s: %s", url, why);
        rc = fetch_fail(ctx, url, NULL, 0, msg);
        goto out;
    }
    if (!rc && st->incremental &&
        file_same_content(ctx, url, data, n, &old, &fresh)) {
        tj_count(ctx, "unchanged", 1);
        goto out;
    }
    if (!rc) {
        rc = file_record(ctx, st, url, data, n, &fresh);
        data = NULL;
    }
out:
    free(data);
    free(url);
    fstate_clear(&old);
    fstate_clear(&fresh);
    return rc;
}

/* Missing literal paths and local feeds: handled on the first calls. */
static int local_extras(tj_ctx *ctx, fetch_state *st)
{
    char msg[1024], why[256];
    int rc = 0;
    while (!rc && st->next_missing < st->missing.n) {
        const char *p = st->missing.v[st->next_missing++];
        char *url = paths_file_url(p);
        snprintf(msg, sizeof msg, "read %s: no such file or directory",
                 url ? url : p);
        rc = fetch_fail(ctx, url ? url : p, NULL, 0, msg);
        free(url);
    }
    while (!rc && st->next_feed < st->local_feeds.n) {
        const char *p = st->local_feeds.v[st->next_feed++];
        char *data;
        size_t n;
        if (read_file(p, st->cfg->max_bytes, &data, &n, why, sizeof why)) {
            snprintf(msg, sizeof msg, "feed %s: %s", p, why);
            rc = fetch_fail(ctx, p, NULL, 0, msg);
            continue;
        }
        rc = http_enqueue_feed(st->http, ctx, p, NULL, data, n);
        free(data);
    }
    return rc;
}

/* ---- produce --------------------------------------------------------------- */

static int fetch_produce(tj_ctx *ctx, void *state)
{
    fetch_state *st = state;
    int rc = local_extras(ctx, st);
    for (int k = 0; !rc && k < FILES_PER_CALL && st->next_file < st->files.n;
         k++)
        rc = emit_file(ctx, st, st->files.v[st->next_file++]);
    if (rc)
        return rc == TJ_ECANCELED ? 0 : rc;
    if (tj_should_stop(ctx))
        return 0;
    int files_left = st->next_file < st->files.n;
    rc = http_step(st->http, ctx, files_left ? 0 : POLL_WAIT);
    if (rc < 0)
        return rc == TJ_ECANCELED ? 0 : rc;
    return rc || files_left;
}

static const tj_stage_desc fetch_desc = {
    .abi_version = TJ_ABI_VERSION,
    .struct_size = sizeof(tj_stage_desc),
    .name = "fetch",
    .description = "read local files and fetch URLs and RSS/Atom feed items "
                   "(HTTP(S), file://) into records with the raw body",
    .kind = TJ_SOURCE,
    .options = fetch_options,
    .config_size = sizeof(fetch_config),
    .init = fetch_init,
    .produce = fetch_produce,
    .fini = fetch_fini,
};

TJ_STAGE_DEFINE(fetch_desc)
