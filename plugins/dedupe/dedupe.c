/*
 * dedupe.c - the dedupe transform: one record per article, whatever the
 * number of URLs it was found at.
 *
 * Each record's key is the SHA-256 of its normalised text (key.c), written
 * to `id`.  The first URL seen with a key is the article's; a record with
 * the same key at another URL is a duplicate: it gets `duplicate_of` =
 * that first URL and is dropped (or passed on, marked, with
 * keep_duplicates).  "Seen" means either earlier in this run (a map shared
 * by the stage's workers) or in an earlier run (the state database,
 * namespace `articles`: key -> first URL).  The database entry is written
 * only when the first record is delivered (its acknowledgement), so a run
 * that dies before exporting it leaves no key behind.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dedupe.h"

static const tj_option dedupe_options[] = {
    {"field", TJ_OPT_STRING, "body", 0, NULL,
     "the text the key is computed from (clean's body, after "
     "convert-traditional)",
     offsetof(dedupe_config, field)},
    {"into", TJ_OPT_STRING, "id", 0, NULL,
     "field that receives the key (64 hex digits)",
     offsetof(dedupe_config, into)},
    {"url_field", TJ_OPT_STRING, "url", 0, NULL,
     "field naming where the record came from; duplicate_of holds the "
     "first one's value",
     offsetof(dedupe_config, url_field)},
    {"namespace", TJ_OPT_STRING, "articles", 0, NULL,
     "state database namespace of the keys (key -> first URL)",
     offsetof(dedupe_config, ns)},
    {"max_bytes", TJ_OPT_SIZE, "64k", 0, NULL,
     "bytes of normalised text hashed (the start of the article)",
     offsetof(dedupe_config, max_bytes)},
    {"min_chars", TJ_OPT_INT, "16", 0, NULL,
     "records with fewer letters and digits get no key and pass as they "
     "are (counted `unkeyed`): empty pages are not all one article",
     offsetof(dedupe_config, min_chars)},
    {"keep_duplicates", TJ_OPT_BOOL, "false", 0, NULL,
     "pass duplicates on (marked with duplicate_of) instead of dropping "
     "them",
     offsetof(dedupe_config, keep_duplicates)},
    TJ_OPTION_END};

/* ---- the keys seen in this run, shared by the stage's workers ---------------
 * The host gives every worker of one stage the same config pointer, and a
 * pipeline never runs twice at once, so the config identifies "this stage
 * in this run": the map lives from the first worker's init to the last
 * worker's fini.
 *
 * It holds one entry per distinct article and never forgets one, so it is
 * compact: the key in binary (32 bytes) and a pointer to the first URL (in
 * blocks of ENTRIES), the URL packed into an arena of text blocks, and a
 * 4-byte slot in an open-addressing index kept at most half full: 48 to 56
 * bytes plus the URL per article.  Entries and URLs never move, so a URL
 * found under the lock can be read after it. */

enum { ENTRIES = 1024, TEXT_BLOCK = 16384 };

typedef struct entry {
    unsigned char key[32];
    const char *url; /* in the arena */
} entry;

typedef struct text_block {
    struct text_block *next;
    size_t used, cap;
    char data[];
} text_block;

typedef struct runmap {
    struct runmap *next;
    const void *owner; /* the config */
    int refs;
    pthread_mutex_t lock;
    uint32_t *slots; /* entry number + 1, 0 when free */
    size_t cap;      /* slots, a power of two */
    entry **blocks;  /* the entries, ENTRIES per block */
    size_t n, nblocks;
    text_block *text; /* the URLs, newest block first */
} runmap;

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static runmap *registry;

/* The map of `owner`, created on first use; NULL when out of memory. */
static runmap *runmap_acquire(const void *owner)
{
    pthread_mutex_lock(&registry_lock);
    runmap *m = registry;
    while (m && m->owner != owner)
        m = m->next;
    if (!m && (m = calloc(1, sizeof *m)) != NULL) {
        m->owner = owner;
        pthread_mutex_init(&m->lock, NULL);
        m->next = registry;
        registry = m;
    }
    if (m)
        m->refs++;
    pthread_mutex_unlock(&registry_lock);
    return m;
}

static void runmap_free(runmap *m)
{
    for (size_t i = 0; i < m->nblocks; i++)
        free(m->blocks[i]);
    free(m->blocks);
    while (m->text) {
        text_block *next = m->text->next;
        free(m->text);
        m->text = next;
    }
    free(m->slots);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static void runmap_release(runmap *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&registry_lock);
    if (--m->refs == 0) {
        runmap **p = &registry;
        while (*p != m)
            p = &(*p)->next;
        *p = m->next;
        runmap_free(m);
    }
    pthread_mutex_unlock(&registry_lock);
}

static entry *entry_at(const runmap *m, size_t i)
{
    return &m->blocks[i / ENTRIES][i % ENTRIES];
}

/* The index slot holding key's entry, or the free slot where it would go.
 * Caller holds m->lock; m->cap > 0.  The key is already a hash: its first
 * bytes pick the slot. */
static uint32_t *runmap_find(const runmap *m, const unsigned char key[32])
{
    uint64_t h;
    memcpy(&h, key, sizeof h);
    size_t i = (size_t)h & (m->cap - 1);
    while (m->slots[i] && memcmp(entry_at(m, m->slots[i] - 1)->key, key, 32))
        i = (i + 1) & (m->cap - 1);
    return &m->slots[i];
}

/* Makes room for one more entry: the index doubles when it would be more
 * than half full, the entries get a new block when theirs are full.  0 or
 * TJ_ENOMEM. */
static int runmap_grow(runmap *m)
{
    if (m->n >= UINT32_MAX - 1)
        return TJ_ENOMEM;
    if (m->n == m->nblocks * ENTRIES) {
        entry **blocks = realloc(m->blocks, (m->nblocks + 1) * sizeof *blocks);
        if (!blocks)
            return TJ_ENOMEM;
        m->blocks = blocks;
        if (!(blocks[m->nblocks] = malloc(ENTRIES * sizeof(entry))))
            return TJ_ENOMEM;
        m->nblocks++;
    }
    if ((m->n + 1) * 2 <= m->cap)
        return 0;
    runmap bigger = *m;
    bigger.cap = m->cap ? m->cap * 2 : 256;
    if (!(bigger.slots = calloc(bigger.cap, sizeof *bigger.slots)))
        return TJ_ENOMEM;
    for (size_t i = 0; i < m->n; i++)
        *runmap_find(&bigger, entry_at(m, i)->key) = (uint32_t)(i + 1);
    free(m->slots);
    m->slots = bigger.slots;
    m->cap = bigger.cap;
    return 0;
}

/* A copy of s in m's arena, or NULL when out of memory. */
static const char *runmap_text(runmap *m, const char *s)
{
    size_t n = strlen(s) + 1;
    text_block *b = m->text;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > TEXT_BLOCK ? n : TEXT_BLOCK;
        if (!(b = malloc(sizeof *b + cap)))
            return NULL;
        b->used = 0, b->cap = cap;
        b->next = m->text;
        m->text = b;
    }
    char *copy = memcpy(b->data + b->used, s, n);
    b->used += n;
    return copy;
}

/* Adds key -> url at the free index slot `slot` (runmap_grow made room).
 * Returns the stored URL, or NULL when out of memory. */
static const char *runmap_add(runmap *m, uint32_t *slot,
                              const unsigned char key[32], const char *url)
{
    const char *copy = runmap_text(m, url);
    if (!copy)
        return NULL;
    entry *e = entry_at(m, m->n);
    memcpy(e->key, key, 32);
    e->url = copy;
    *slot = (uint32_t)++m->n;
    return copy;
}

/* The 32 bytes of a 64-digit lowercase hex key. */
static void key_bytes(const char *hex, unsigned char key[32])
{
    for (int i = 0; i < 32; i++) {
        unsigned hi = (unsigned char)hex[2 * i], lo = (unsigned char)hex[2 * i + 1];
        hi = hi <= '9' ? hi - '0' : hi - 'a' + 10;
        lo = lo <= '9' ? lo - '0' : lo - 'a' + 10;
        key[i] = (unsigned char)(hi << 4 | lo);
    }
}

/* ---- the stage ---------------------------------------------------------------- */

typedef struct dedupe_state {
    const dedupe_config *cfg;
    runmap *run;
} dedupe_state;

static void dedupe_fini(void *state)
{
    dedupe_state *st = state;
    if (!st)
        return;
    runmap_release(st->run);
    free(st);
}

static int dedupe_init(tj_ctx *ctx, const void *config, void **state)
{
    const dedupe_config *cfg = config;
    if (cfg->max_bytes < 64)
        return tj_error(ctx, "max_bytes must be at least 64 (got %lld)",
                        (long long)cfg->max_bytes);
    if (cfg->min_chars < 0)
        return tj_error(ctx, "min_chars must be >= 0");
    dedupe_state *st = calloc(1, sizeof *st);
    if (!st || !(st->run = runmap_acquire(config))) {
        free(st);
        return tj_error(ctx, "out of memory");
    }
    st->cfg = cfg;
    char *v = NULL;
    if (tj_state_get(ctx, cfg->ns, "", &v) == TJ_EINVAL &&
        tj_worker_index(ctx) == 0)
        tj_log(ctx, TJ_LOG_INFO, "no state database: duplicates are found "
               "within one run only (set 'state:' to remember articles)");
    free(v);
    *state = st;
    return 0;
}

/* The acknowledgement of a first copy: remember key -> url once it is
 * delivered.  Self-contained, one allocation (the stage may be gone when a
 * failed record is finished at teardown). */
typedef struct remember {
    tj_ctx *ctx;
    const char *ns, *url; /* in text[] */
    char key[65];
    char text[];
} remember;

static void on_ack(void *arg, tj_ack_status status)
{
    remember *r = arg;
    if (status == TJ_ACK_DELIVERED)
        tj_state_put(r->ctx, r->ns, r->key, r->url);
    free(r);
}

static int attach_remember(tj_ctx *ctx, tj_record *rec, const char *ns,
                           const char *key, const char *url)
{
    size_t nl = strlen(ns) + 1, ul = strlen(url) + 1;
    remember *r = malloc(sizeof *r + nl + ul);
    if (!r)
        return TJ_ENOMEM;
    r->ctx = ctx;
    r->ns = memcpy(r->text, ns, nl);
    r->url = memcpy(r->text + nl, url, ul);
    memcpy(r->key, key, sizeof r->key);
    int rc = tj_record_set_ack(rec, on_ack, r);
    if (rc)
        free(r);
    return rc;
}

/* Looks key up (this run, then the database) and, when it is new, claims
 * it for url.  Returns 0 with *first = NULL for a first copy (*stored: the
 * database already says url), 0 with *first = the first URL (in the run
 * map: valid until the stage ends) for a duplicate, or TJ_ENOMEM.  The
 * lookup and the claim happen under one lock, so two workers cannot both
 * claim a key. */
static int claim(tj_ctx *ctx, dedupe_state *st, const char *key,
                 const char *url, const char **first, int *stored)
{
    runmap *m = st->run;
    unsigned char bin[32];
    const char *known = NULL;
    char *db = NULL;
    int rc = 0;
    *first = NULL;
    *stored = 0;
    key_bytes(key, bin);
    pthread_mutex_lock(&m->lock);
    if ((rc = runmap_grow(m)) != 0)
        goto out;
    uint32_t *slot = runmap_find(m, bin);
    int seen_before = *slot != 0;
    if (seen_before) {
        known = entry_at(m, *slot - 1)->url;
    } else { /* not in this run: ask the database */
        tj_state_get(ctx, st->cfg->ns, key, &db);
        if (!(known = runmap_add(m, slot, bin, db ? db : url))) {
            rc = TJ_ENOMEM;
            goto out;
        }
        seen_before = db != NULL;
        *stored = db && !strcmp(db, url);
    }
    if (seen_before && (!url[0] || strcmp(known, url)))
        *first = known;
out:
    pthread_mutex_unlock(&m->lock);
    free(db);
    return rc;
}

static int dedupe_process(tj_ctx *ctx, void *state, tj_record *rec)
{
    dedupe_state *st = state;
    const dedupe_config *c = st->cfg;
    size_t n = 0;
    const char *text = tj_record_get(rec, c->field, &n);
    char key[65];
    const char *first = NULL;
    long chars = text ? dedupe_key(text, n, (size_t)c->max_bytes, key) : 0;
    if (chars < 0)
        return tj_error(ctx, "out of memory");
    if (chars < c->min_chars) {
        tj_count(ctx, "unkeyed", 1);
        return tj_emit(ctx, rec);
    }
    const char *url = tj_record_get(rec, c->url_field, NULL);
    int stored, rc = tj_record_set_str(rec, c->into, key);
    if (!rc)
        rc = claim(ctx, st, key, url ? url : "", &first, &stored);
    if (!rc && !first && !stored)
        rc = attach_remember(ctx, rec, c->ns, key, url ? url : "");
    if (!rc && first)
        rc = tj_record_set_str(rec, "duplicate_of", first);
    if (rc)
        return tj_error(ctx, "%s", tj_strerror(rc));
    if (!first)
        return tj_emit(ctx, rec);
    tj_count(ctx, "duplicates", 1);
    tj_log(ctx, TJ_LOG_DEBUG, "%s: duplicate of %s", url ? url : "(no url)",
           first);
    return c->keep_duplicates ? tj_emit(ctx, rec) : 0;
}

static const tj_stage_desc dedupe_desc = {
    .abi_version = TJ_ABI_VERSION,
    .struct_size = sizeof(tj_stage_desc),
    .name = "dedupe",
    .description = "key each article by a hash of its normalised text "
                   "(`id`); drop or mark (`duplicate_of`) the same article "
                   "at another URL, across runs with a state database",
    .kind = TJ_TRANSFORM,
    .options = dedupe_options,
    .config_size = sizeof(dedupe_config),
    .init = dedupe_init,
    .process = dedupe_process,
    .fini = dedupe_fini,
};

TJ_STAGE_DEFINE(dedupe_desc)
