/*
 * http.c - the fetch stage's URL engine on libcurl's multi interface.
 *
 * Jobs wait in one FIFO per host.  A job starts when fewer than
 * `concurrency` transfers run in all, fewer than `per_host` on its host,
 * and the host's rate allows (`rate_per_host` starts per second).  A
 * transfer that fails with a connection error, a 5xx or a 429 goes to the
 * delayed list for another try after an exponential backoff with jitter, or
 * after the server's Retry-After; everything else becomes a record (or a
 * failed record) at once.  Nothing here blocks except curl_multi_poll, with
 * a bounded wait, so the stage notices a shutdown promptly.
 *
 * Incremental fetching (http_set_incremental): a job reads its URL's
 * entry from the state database when it first starts and sends
 * If-None-Match / If-Modified-Since from it.  A 304, or a 200 whose body
 * has the stored SHA-256, is counted as `unchanged` and emits nothing; any
 * other body becomes a record whose acknowledgement stores the new entry
 * (state.c).  Feed documents are always fetched in full: their items are
 * the URLs that carry state.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "fetch.h"
#include "sha256.h"

#define MAX_RETRY_AFTER 300.0 /* seconds: a longer Retry-After is capped */
#define MAX_BACKOFF 300.0

typedef struct host host;

typedef struct job {
    struct job *next;
    char *url;
    char *published; /* feed item date, or NULL */
    int is_feed;
    int attempt; /* retries done so far */
    double not_before;
    host *host;
    int loaded;  /* old was read from the state database */
    fstate old;  /* the stored entry (incremental) */
} job;

struct host {
    char *name;
    job *head, *tail;
    int active;
    double next_start;
};

typedef struct xfer {
    struct xfer *prev, *next; /* the engine's running transfers */
    CURL *easy;
    job *job;
    char *body;
    size_t len, cap, max;
    int oversize;
    char *etag, *last_modified, *content_encoding;
    struct curl_slist *headers; /* own list for a conditional request */
    double retry_after; /* seconds, < 0 when the response had none */
    char errbuf[CURL_ERROR_SIZE];
} xfer;

struct http_engine {
    const fetch_config *cfg;
    CURLM *multi;
    struct curl_slist *headers;
    host **hosts;
    size_t nhosts, hosts_cap, rr;
    job *delayed; /* sorted by not_before */
    xfer *running;
    size_t queued;
    int active;
    char **seen; /* open-addressing set of queued URLs */
    size_t seen_n, seen_cap;
    unsigned seed;
    int emitted;
    int incremental;
};

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the set of URLs seen in this run -------------------------------------- */

static size_t hash(const char *s)
{
    size_t h = 1469598103934665603ULL;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    return h;
}

/* Adds url to the set: 1 when it was new, 0 when seen, TJ_ENOMEM. */
static int seen_add(http_engine *e, const char *url)
{
    if ((e->seen_n + 1) * 2 > e->seen_cap) {
        size_t cap = e->seen_cap ? e->seen_cap * 2 : 256;
        char **v = calloc(cap, sizeof *v);
        if (!v)
            return TJ_ENOMEM;
        for (size_t i = 0; i < e->seen_cap; i++)
            if (e->seen[i]) {
                size_t k = hash(e->seen[i]) & (cap - 1);
                while (v[k])
                    k = (k + 1) & (cap - 1);
                v[k] = e->seen[i];
            }
        free(e->seen);
        e->seen = v;
        e->seen_cap = cap;
    }
    size_t k = hash(url) & (e->seen_cap - 1);
    for (; e->seen[k]; k = (k + 1) & (e->seen_cap - 1))
        if (!strcmp(e->seen[k], url))
            return 0;
    if (!(e->seen[k] = strdup(url)))
        return TJ_ENOMEM;
    e->seen_n++;
    return 1;
}

/* ---- hosts and queues ------------------------------------------------------- */

/* The host part of url, lower-cased, in out; "" for file:// or junk. */
static void host_key(const char *url, char *out, size_t outlen)
{
    CURLU *u = curl_url();
    char *h = NULL;
    out[0] = '\0';
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK) {
        snprintf(out, outlen, "%s", h);
        for (char *p = out; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    }
    curl_free(h);
    curl_url_cleanup(u);
}

static host *host_get(http_engine *e, const char *name)
{
    for (size_t i = 0; i < e->nhosts; i++)
        if (!strcmp(e->hosts[i]->name, name))
            return e->hosts[i];
    if (e->nhosts == e->hosts_cap) {
        size_t cap = e->hosts_cap ? e->hosts_cap * 2 : 16;
        host **v = realloc(e->hosts, cap * sizeof *v);
        if (!v)
            return NULL;
        e->hosts = v;
        e->hosts_cap = cap;
    }
    host *h = calloc(1, sizeof *h);
    if (!h || !(h->name = strdup(name))) {
        free(h);
        return NULL;
    }
    e->hosts[e->nhosts++] = h;
    return h;
}

static void push_back(host *h, job *j)
{
    j->next = NULL;
    if (h->tail)
        h->tail->next = j;
    else
        h->head = j;
    h->tail = j;
}

static void push_front(host *h, job *j)
{
    j->next = h->head;
    h->head = j;
    if (!h->tail)
        h->tail = j;
}

static job *pop_front(host *h)
{
    job *j = h->head;
    h->head = j->next;
    if (!h->head)
        h->tail = NULL;
    j->next = NULL;
    return j;
}

static void job_free(job *j)
{
    if (!j)
        return;
    free(j->url);
    free(j->published);
    fstate_clear(&j->old);
    free(j);
}

int http_enqueue(http_engine *e, const char *url,
                 const char *feed_published_at, int is_feed)
{
    char key[256];
    int fresh = seen_add(e, url);
    if (fresh <= 0)
        return fresh;
    job *j = calloc(1, sizeof *j);
    if (!j || !(j->url = strdup(url)) ||
        (feed_published_at && !(j->published = strdup(feed_published_at))))
        goto fail;
    j->is_feed = is_feed;
    j->old.size = -1;
    host_key(url, key, sizeof key);
    if (!(j->host = host_get(e, key)))
        goto fail;
    push_back(j->host, j);
    e->queued++;
    return 0;
fail:
    job_free(j);
    return TJ_ENOMEM;
}

/* Puts j on the delayed list (sorted by not_before). */
static void delay(http_engine *e, job *j)
{
    job **p = &e->delayed;
    while (*p && (*p)->not_before <= j->not_before)
        p = &(*p)->next;
    j->next = *p;
    *p = j;
}

/* Moves delayed jobs that are due to the front of their host's queue. */
static void promote_due(http_engine *e, double now)
{
    while (e->delayed && e->delayed->not_before <= now) {
        job *j = e->delayed;
        e->delayed = j->next;
        push_front(j->host, j);
    }
}

/* ---- curl callbacks --------------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    xfer *x = arg;
    size_t n = size * nmemb;
    if (x->len + n > x->max) {
        x->oversize = 1;
        return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
    }
    if (x->len + n + 1 > x->cap) {
        size_t cap = x->cap ? x->cap : 16384;
        while (cap < x->len + n + 1)
            cap *= 2;
        char *p = realloc(x->body, cap);
        if (!p)
            return 0;
        x->body = p;
        x->cap = cap;
    }
    memcpy(x->body + x->len, data, n);
    x->len += n;
    return n;
}

/* Replaces *slot with the header value v (n bytes, trimmed). */
static void keep_header(char **slot, const char *v, size_t n)
{
    while (n && isspace((unsigned char)*v))
        v++, n--;
    while (n && isspace((unsigned char)v[n - 1]))
        n--;
    free(*slot);
    *slot = strndup(v, n);
}

/* Retry-After: delta seconds or an HTTP date. */
static double parse_retry_after(const char *v, size_t n)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%.*s", (int)(n < 127 ? n : 127), v);
    char *end;
    double s = strtod(buf, &end);
    if (end != buf && s >= 0)
        return s;
    time_t t = curl_getdate(buf, NULL);
    return t < 0 ? -1 : difftime(t, time(NULL)) > 0 ? difftime(t, time(NULL))
                                                     : 0;
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *arg)
{
    xfer *x = arg;
    size_t n = size * nmemb;
    if (n >= 5 && !strncmp(line, "HTTP/", 5)) { /* a new response */
        free(x->etag);
        free(x->last_modified);
        free(x->content_encoding);
        x->etag = x->last_modified = x->content_encoding = NULL;
        x->retry_after = -1;
        return n;
    }
    const char *colon = memchr(line, ':', n);
    if (!colon)
        return n;
    size_t klen = (size_t)(colon - line), vlen = n - klen - 1;
    if (klen == 4 && !strncasecmp(line, "etag", 4))
        keep_header(&x->etag, colon + 1, vlen);
    else if (klen == 13 && !strncasecmp(line, "last-modified", 13))
        keep_header(&x->last_modified, colon + 1, vlen);
    else if (klen == 16 && !strncasecmp(line, "content-encoding", 16))
        keep_header(&x->content_encoding, colon + 1, vlen);
    else if (klen == 11 && !strncasecmp(line, "retry-after", 11))
        x->retry_after = parse_retry_after(colon + 1, vlen);
    return n;
}

/* ---- transfers --------------------------------------------------------------- */

static void xfer_free(xfer *x)
{
    if (!x)
        return;
    if (x->easy)
        curl_easy_cleanup(x->easy);
    free(x->body);
    free(x->etag);
    free(x->last_modified);
    free(x->content_encoding);
    curl_slist_free_all(x->headers);
    free(x);
}

/* The request headers of x: the engine's, plus If-None-Match and
 * If-Modified-Since when the job has stored validators.  NULL when out of
 * memory (x->headers then holds what was built, freed with x). */
static struct curl_slist *request_headers(http_engine *e, xfer *x)
{
    const fstate *old = &x->job->old;
    if (!old->etag && !old->last_modified)
        return e->headers;
    char line[2048];
    for (struct curl_slist *l = e->headers; l; l = l->next) {
        struct curl_slist *n = curl_slist_append(x->headers, l->data);
        if (!n)
            return NULL;
        x->headers = n;
    }
    const char *names[] = {"If-None-Match", "If-Modified-Since"};
    const char *values[] = {old->etag, old->last_modified};
    for (int i = 0; i < 2; i++) {
        if (!values[i])
            continue;
        snprintf(line, sizeof line, "%s: %s", names[i], values[i]);
        struct curl_slist *n = curl_slist_append(x->headers, line);
        if (!n)
            return NULL;
        x->headers = n;
    }
    return x->headers;
}

/* Sets the options of one transfer.  0 or TJ_ENOMEM. */
static int setup_easy(http_engine *e, xfer *x)
{
    const fetch_config *c = e->cfg;
    CURL *h = x->easy;
    int bad = 0;
    bad |= curl_easy_setopt(h, CURLOPT_URL, x->job->url);
    bad |= curl_easy_setopt(h, CURLOPT_PRIVATE, x);
    bad |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    bad |= curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    bad |= curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    bad |= curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
    bad |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf);
    bad |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    bad |= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    bad |= curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long)c->max_redirects);
    bad |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https,file");
    bad |= curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    bad |= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(c->timeout * 1000));
    bad |= curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
                            (curl_off_t)c->max_bytes);
    bad |= curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
    struct curl_slist *headers = request_headers(e, x);
    bad |= !headers;
    bad |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    /* The body goes on exactly as served; decode inflates it. */
    bad |= curl_easy_setopt(h, CURLOPT_HTTP_CONTENT_DECODING, 0L);
    bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, c->insecure ? 0L : 1L);
    bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, c->insecure ? 0L : 2L);
    return bad ? TJ_ENOMEM : 0;
}

/* Reads the job's stored entry once (incremental engines, pages only).
 * A state database error is logged and the request goes out
 * unconditional. */
static void load_old(http_engine *e, tj_ctx *ctx, job *j)
{
    if (!e->incremental || j->is_feed || j->loaded)
        return;
    j->loaded = 1;
    int rc = fstate_load(ctx, j->url, &j->old);
    if (rc < 0)
        tj_log(ctx, TJ_LOG_WARN, "%s: cannot read its state (%s); fetching "
               "it in full", j->url, tj_strerror(rc));
}

/* Starts job j.  On failure the job is failed as a record. */
static int start(http_engine *e, tj_ctx *ctx, job *j)
{
    load_old(e, ctx, j);
    xfer *x = calloc(1, sizeof *x);
    if (!x || !(x->easy = curl_easy_init()))
        goto fail;
    x->job = j;
    x->max = (size_t)e->cfg->max_bytes;
    x->retry_after = -1;
    if (setup_easy(e, x) || curl_multi_add_handle(e->multi, x->easy))
        goto fail;
    j->host->active++;
    e->active++;
    x->next = e->running;
    if (e->running)
        e->running->prev = x;
    e->running = x;
    tj_log(ctx, TJ_LOG_DEBUG, "GET %s (try %d)", j->url, j->attempt + 1);
    return 0;
fail:
    xfer_free(x);
    int rc = fetch_fail(ctx, j->url, NULL, 0, "cannot start transfer");
    job_free(j);
    return rc;
}

/* Starts jobs, round-robin over hosts, as far as the limits allow. */
static int start_ready(http_engine *e, tj_ctx *ctx, double now)
{
    const fetch_config *c = e->cfg;
    while (e->active < c->concurrency && e->nhosts) {
        host *h = NULL;
        for (size_t k = 0; k < e->nhosts && !h; k++) {
            host *cand = e->hosts[(e->rr + k) % e->nhosts];
            if (cand->head && cand->active < c->per_host &&
                now >= cand->next_start) {
                h = cand;
                e->rr = (e->rr + k + 1) % e->nhosts;
            }
        }
        if (!h)
            return 0;
        if (c->rate_per_host > 0)
            h->next_start = now + 1.0 / c->rate_per_host;
        e->queued--;
        int rc = start(e, ctx, pop_front(h));
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- finished transfers ------------------------------------------------------- */

static int retryable(CURLcode res, long status, int oversize)
{
    if (oversize)
        return 0;
    switch (res) {
    case CURLE_OK:
        return status >= 500 || status == 429;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return 1;
    default:
        return 0;
    }
}

/* The wait before retry number `attempt` (1-based): backoff * 2^(n-1)
 * with +-50% jitter, or the server's Retry-After, capped. */
static double retry_delay(http_engine *e, int attempt, double retry_after)
{
    if (retry_after >= 0)
        return retry_after < MAX_RETRY_AFTER ? retry_after : MAX_RETRY_AFTER;
    double base = e->cfg->backoff * pow(2.0, attempt - 1);
    double jitter = 0.5 + (double)rand_r(&e->seed) / RAND_MAX;
    double d = base * jitter;
    return d < MAX_BACKOFF ? d : MAX_BACKOFF;
}

/* Incremental only: 1 when the body has the stored SHA-256 (counted as
 * unchanged; validators that changed are refreshed at once, as the content
 * they describe was exported before), else 0 with the new entry in *fresh
 * (its strings borrowed from x). */
static int body_unchanged(tj_ctx *ctx, xfer *x, fstate *fresh)
{
    const fstate *old = &x->job->old;
    memset(fresh, 0, sizeof *fresh);
    fresh->size = -1;
    fresh->etag = x->etag;
    fresh->last_modified = x->last_modified;
    sha256_hex_of(x->body ? x->body : "", x->len, fresh->sha256);
    if (!old->sha256[0] || strcmp(old->sha256, fresh->sha256))
        return 0;
    tj_count(ctx, "unchanged", 1);
    tj_log(ctx, TJ_LOG_DEBUG, "%s: unchanged (same SHA-256)", x->job->url);
    if (!fstate_same(old, fresh))
        fstate_store(ctx, x->job->url, fresh);
    return 1;
}

/* A successful transfer's record, emitted (incremental: unless its body is
 * unchanged; the record carries the acknowledgement storing its entry). */
static int make_record(http_engine *e, tj_ctx *ctx, xfer *x,
                       const char *final_url, long status,
                       const char *content_type)
{
    char now[32];
    fstate fresh;
    if (e->incremental && body_unchanged(ctx, x, &fresh))
        return 0;
    tj_record *rec = tj_record_new();
    int rc = rec ? 0 : TJ_ENOMEM;
    fetch_now_iso(now);
    if (!rc)
        rc = tj_record_set_str(rec, "url", x->job->url);
    if (!rc && final_url)
        rc = tj_record_set_str(rec, "final_url", final_url);
    if (!rc && status > 0)
        rc = tj_record_set_int(rec, "status", status);
    const char *names[] = {"content_type", "content_encoding", "etag",
                           "last_modified", "feed_published_at"};
    const char *values[] = {content_type, x->content_encoding, x->etag,
                            x->last_modified, x->job->published};
    for (int i = 0; i < 5 && !rc; i++)
        if (values[i])
            rc = tj_record_set_str(rec, names[i], values[i]);
    if (!rc)
        rc = tj_record_set_str(rec, "fetched_at", now);
    if (!rc && x->body) {
        rc = tj_record_take(rec, "body", x->body, x->len);
        x->body = NULL;
    } else if (!rc) {
        rc = tj_record_set(rec, "body", "", 0);
    }
    if (!rc && e->incremental)
        rc = fstate_on_ack(ctx, rec, x->job->url, &fresh);
    if (rc) {
        tj_record_free(rec);
        return rc;
    }
    return tj_emit(ctx, rec);
}

/* The failure message of a finished transfer, or NULL when it succeeded. */
static const char *failure(xfer *x, CURLcode res, long status,
                           const char *final_url, char *msg, size_t len,
                           long long max_bytes)
{
    const char *url = x->job->url;
    char tries[48] = "";
    if (x->job->attempt)
        snprintf(tries, sizeof tries, " (after %d retr%s)", x->job->attempt,
                 x->job->attempt == 1 ? "y" : "ies");
    if (x->oversize || res == CURLE_FILESIZE_EXCEEDED)
        snprintf(msg, len, "GET %s: body exceeds max_bytes (%lld bytes)", url,
                 max_bytes);
    else if (res != CURLE_OK)
        snprintf(msg, len, "GET %s: %s%s", url,
                 x->errbuf[0] ? x->errbuf : curl_easy_strerror(res), tries);
    else if (status != 0 && (status < 200 || status > 299))
        snprintf(msg, len, "GET %s: HTTP %ld%s%s%s", url, status,
                 final_url && strcmp(final_url, url) ? " at " : "",
                 final_url && strcmp(final_url, url) ? final_url : "", tries);
    else
        return NULL;
    return msg;
}

/* Handles one finished transfer: retry, failed record, feed, or record. */
static int finish(http_engine *e, tj_ctx *ctx, xfer *x, CURLcode res)
{
    long status = 0;
    char *eff = NULL, *ct = NULL, msg[1024];
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(x->easy, CURLINFO_EFFECTIVE_URL, &eff);
    curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &ct);
    job *j = x->job;
    if (retryable(res, status, x->oversize) && j->attempt < e->cfg->retries &&
        !tj_should_stop(ctx)) {
        j->attempt++;
        double d = retry_delay(e, j->attempt, x->retry_after);
        j->not_before = mono() + d;
        if (res == CURLE_OK)
            snprintf(msg, sizeof msg, "HTTP %ld", status);
        tj_log(ctx, TJ_LOG_INFO, "GET %s: %s; retry %d in %.1fs", j->url,
               res != CURLE_OK ? curl_easy_strerror(res) : msg, j->attempt, d);
        tj_count(ctx, "retries", 1);
        delay(e, j);
        e->queued++;
        x->job = NULL;
        return 0;
    }
    int rc;
    if (res == CURLE_OK && status == 304 &&
        (j->old.etag || j->old.last_modified)) {
        tj_count(ctx, "unchanged", 1);
        tj_log(ctx, TJ_LOG_DEBUG, "%s: 304 not modified", j->url);
        rc = 0;
    } else if (failure(x, res, status, eff, msg, sizeof msg,
                       (long long)e->cfg->max_bytes))
        rc = fetch_fail(ctx, j->url, eff, status, msg);
    else if (j->is_feed)
        rc = http_enqueue_feed(e, ctx, j->url, eff ? eff : j->url,
                               x->body ? x->body : "", x->len);
    else
        rc = make_record(e, ctx, x, eff, status, ct);
    e->emitted++;
    return rc;
}

static void unlink_running(http_engine *e, xfer *x)
{
    if (x->prev)
        x->prev->next = x->next;
    else
        e->running = x->next;
    if (x->next)
        x->next->prev = x->prev;
    x->prev = x->next = NULL;
}

/* Collects finished transfers. */
static int harvest(http_engine *e, tj_ctx *ctx)
{
    CURLMsg *m;
    int left, rc = 0;
    while (!rc && (m = curl_multi_info_read(e->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE)
            continue;
        xfer *x = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        CURLcode res = m->data.result;
        curl_multi_remove_handle(e->multi, m->easy_handle);
        unlink_running(e, x);
        e->active--;
        x->job->host->active--;
        rc = finish(e, ctx, x, res);
        job_free(x->job);
        xfer_free(x);
    }
    return rc;
}

/* Seconds until something may start (a delayed job is due or a host's
 * rate allows), capped at max_wait. */
static double next_wake(http_engine *e, double now, double max_wait)
{
    double wait = max_wait;
    if (e->delayed && e->delayed->not_before - now < wait)
        wait = e->delayed->not_before - now;
    for (size_t i = 0; i < e->nhosts; i++) {
        host *h = e->hosts[i];
        if (h->head && h->active < e->cfg->per_host &&
            h->next_start - now < wait)
            wait = h->next_start - now;
    }
    return wait > 0 ? wait : 0;
}

int http_step(http_engine *e, tj_ctx *ctx, double max_wait)
{
    int running = 0, rc;
    double now = mono();
    e->emitted = 0;
    promote_due(e, now);
    if ((rc = start_ready(e, ctx, now)) != 0)
        return rc;
    if (e->active)
        curl_multi_perform(e->multi, &running);
    if ((rc = harvest(e, ctx)) != 0)
        return rc;
    if (!e->active && !e->queued)
        return 0;
    if (e->emitted)
        return 1;
    double wait = next_wake(e, now, max_wait);
    if (e->active || wait > 0)
        curl_multi_poll(e->multi, NULL, 0, (int)(wait * 1000) + 1, NULL);
    return 1;
}

/* ---- feeds ---------------------------------------------------------------------- */

typedef struct feed_ctx {
    http_engine *e;
    int queued;
} feed_ctx;

static int on_item(void *arg, const char *link, const char *published)
{
    feed_ctx *f = arg;
    f->queued++;
    return http_enqueue(f->e, link, published, 0);
}

int http_enqueue_feed(http_engine *e, tj_ctx *ctx, const char *where,
                      const char *base_url, const char *data, size_t n)
{
    char err[256], msg[1024];
    feed_ctx f = {e, 0};
    int rc = feed_parse(data, n, base_url, on_item, &f, err, sizeof err);
    if (rc == TJ_ENOMEM)
        return rc;
    if (rc < 0) {
        snprintf(msg, sizeof msg, "feed %s: %s", where, err);
        return fetch_fail(ctx, where, NULL, 0, msg);
    }
    tj_count(ctx, "feed_items", rc);
    tj_log(ctx, TJ_LOG_INFO, "feed %s: %d items", where, rc);
    return 0;
}

/* ---- engine ---------------------------------------------------------------------- */

/* Request headers: ours, unless the `headers` option names the same. */
static int build_headers(http_engine *e, const tj_map *extra)
{
    static const char *const defaults[][2] = {
        {"Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,"
                   "*/*;q=0.8"},
        {"Accept-Encoding", "gzip, deflate"},
        {"Accept-Language", "zh-CN,zh;q=0.9,zh-TW;q=0.8,en;q=0.5"}};
    char line[2048];
    for (size_t i = 0; i < 3; i++) {
        int overridden = 0;
        for (size_t k = 0; k < extra->n; k++)
            overridden |= !strcasecmp(extra->keys[k], defaults[i][0]);
        if (overridden)
            continue;
        snprintf(line, sizeof line, "%s: %s", defaults[i][0], defaults[i][1]);
        struct curl_slist *l = curl_slist_append(e->headers, line);
        if (!l)
            return TJ_ENOMEM;
        e->headers = l;
    }
    for (size_t k = 0; k < extra->n; k++) {
        snprintf(line, sizeof line, "%s: %s", extra->keys[k],
                 extra->values[k]);
        struct curl_slist *l = curl_slist_append(e->headers, line);
        if (!l)
            return TJ_ENOMEM;
        e->headers = l;
    }
    return 0;
}

http_engine *http_new(const fetch_config *cfg, char *err, size_t errlen)
{
    http_engine *e = calloc(1, sizeof *e);
    if (!e || !(e->multi = curl_multi_init()) ||
        build_headers(e, &cfg->headers)) {
        snprintf(err, errlen, "cannot create the HTTP client");
        http_free(e);
        return NULL;
    }
    e->cfg = cfg;
    e->seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    curl_multi_setopt(e->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                      (long)cfg->concurrency);
    curl_multi_setopt(e->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                      (long)cfg->per_host);
    return e;
}

void http_set_incremental(http_engine *e, int on) { e->incremental = on; }

void http_free(http_engine *e)
{
    if (!e)
        return;
    while (e->running) {
        xfer *x = e->running;
        unlink_running(e, x);
        curl_multi_remove_handle(e->multi, x->easy);
        job_free(x->job);
        xfer_free(x);
    }
    if (e->multi)
        curl_multi_cleanup(e->multi);
    for (size_t i = 0; i < e->nhosts; i++) {
        while (e->hosts[i]->head)
            job_free(pop_front(e->hosts[i]));
        free(e->hosts[i]->name);
        free(e->hosts[i]);
    }
    while (e->delayed) {
        job *j = e->delayed;
        e->delayed = j->next;
        job_free(j);
    }
    for (size_t i = 0; i < e->seen_cap; i++)
        free(e->seen[i]);
    free(e->seen);
    free(e->hosts);
    curl_slist_free_all(e->headers);
    free(e);
}
