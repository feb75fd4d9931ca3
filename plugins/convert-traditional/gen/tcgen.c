/*
 * tcgen - compiles OpenCC's configurations and dictionaries into the blob
 * described in ../tc_format.h.  Runs at build time (plugin.mk):
 *
 *     tcgen OPENCC_DIR DUMP_DIR OUT
 *
 * OPENCC_DIR holds the configurations (every NAME.json is compiled);
 * DUMP_DIR holds X.txt for every X.ocd2 they name, dumped with
 * `opencc_dict -f ocd2 -t text`.  Dictionaries of type "text" are read from
 * OPENCC_DIR.
 *
 * Besides copying each dictionary into a code-point trie, tcgen runs
 * OpenCC's algorithm itself (ref_chain below) to precompute, per
 * configuration, the chain's output for every segmentation key and for
 * every "simple" character, which is what makes the engine single-pass.
 *
 * OpenCC semantics reproduced here (1.1.x, src/MaxMatchSegmentation.cpp,
 * Conversion.cpp, DictGroup.cpp): the text is segmented by maximum forward
 * matching over the segmentation dictionary, unmatched characters
 * accumulating into one segment; then each stage rewrites every segment on
 * its own, left to right, taking at each position the longest key of the
 * first dictionary of the group that has any key there, and its first value.
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tc_format.h"

#define MAX_DICTS 64
#define MAX_CONFIGS 64

/* ---- small utilities ---------------------------------------------------- */

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "tcgen: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        die("out of memory");
    return p;
}

static char *xstrndup(const char *s, size_t n)
{
    char *d = xrealloc(NULL, n + 1);
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0, got;
    if (!f)
        die("%s: %s", path, strerror(errno));
    do {
        if (cap - n < 65536)
            buf = xrealloc(buf, cap = cap * 2 + 65536);
        got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
    } while (got > 0);
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
}

/* A growable byte string. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static void sb_add(sbuf *b, const void *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static uint64_t fnv(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

/* Length of the character at s (1 for a byte that starts none). */
static unsigned ulen(const char *s, const char *end)
{
    unsigned n;
    tc_utf8_decode((const unsigned char *)s, (const unsigned char *)end, &n);
    return n;
}

static uint32_t first_cp(const char *s)
{
    unsigned n;
    return tc_utf8_decode((const unsigned char *)s,
                          (const unsigned char *)s + strlen(s), &n);
}

static size_t nchars(const char *s)
{
    size_t c = 0;
    const char *end = s + strlen(s);
    while (s < end) {
        s += ulen(s, end);
        c++;
    }
    return c;
}

/* ---- a set of code points ------------------------------------------------ */
typedef struct cpset {
    uint8_t bits[0x110000 / 8];
} cpset;

static void cps_add(cpset *s, uint32_t c) { s->bits[c >> 3] |= 1u << (c & 7); }
static int cps_has(const cpset *s, uint32_t c)
{
    return c < 0x110000 && (s->bits[c >> 3] >> (c & 7) & 1);
}

/* ---- dictionaries --------------------------------------------------------- */

typedef struct gdict {
    char name[TC_NAME_MAX];
    char **keys, **vals;
    size_t n, cap;
    uint32_t *slots; /* index + 1 into keys; 0 empty */
    size_t mask;
    size_t max_key; /* bytes */
    size_t max_chars;
    int blob_index;
} gdict;

static gdict dicts[MAX_DICTS];
static int n_dicts;

static long gd_find(const gdict *d, const char *k, size_t n)
{
    size_t i = fnv(k, n) & d->mask;
    for (; d->slots[i]; i = (i + 1) & d->mask) {
        const char *key = d->keys[d->slots[i] - 1];
        if (strlen(key) == n && memcmp(key, k, n) == 0)
            return (long)d->slots[i] - 1;
    }
    return -1;
}

static void gd_index(gdict *d)
{
    d->mask = 1;
    while (d->mask < d->n * 2 + 2)
        d->mask <<= 1;
    d->slots = xrealloc(NULL, d->mask * sizeof *d->slots);
    memset(d->slots, 0, d->mask * sizeof *d->slots);
    d->mask--;
    for (size_t k = 0; k < d->n; k++) {
        size_t n = strlen(d->keys[k]);
        size_t i = fnv(d->keys[k], n) & d->mask;
        if (gd_find(d, d->keys[k], n) >= 0)
            die("dictionary %s: duplicate key '%s'", d->name, d->keys[k]);
        while (d->slots[i])
            i = (i + 1) & d->mask;
        d->slots[i] = (uint32_t)k + 1;
        if (n > d->max_key)
            d->max_key = n;
    }
}

/* Parses OpenCC's text format: "key\tvalue1 value2 ...\n"; keeps value1. */
static void gd_parse(gdict *d, const char *path)
{
    size_t len;
    char *text = read_file(path, &len), *line = text, *nl, *tab, *sp;
    int lineno = 0;
    for (; line < text + len; line = nl + 1) {
        lineno++;
        nl = memchr(line, '\n', (size_t)(text + len - line));
        if (!nl)
            nl = text + len;
        if (nl > line && nl[-1] == '\r')
            nl[-1] = 0;
        *nl = 0;
        if (!*line)
            continue;
        tab = strchr(line, '\t');
        if (!tab || tab == line)
            die("%s:%d: expected 'key<TAB>value'", path, lineno);
        sp = strchr(tab + 1, ' ');
        if (d->n == d->cap) {
            d->cap = d->cap * 2 + 1024;
            d->keys = xrealloc(d->keys, d->cap * sizeof(char *));
            d->vals = xrealloc(d->vals, d->cap * sizeof(char *));
        }
        d->keys[d->n] = xstrndup(line, (size_t)(tab - line));
        d->vals[d->n] = sp ? xstrndup(tab + 1, (size_t)(sp - tab - 1))
                           : xstrndup(tab + 1, strlen(tab + 1));
        if (nchars(d->keys[d->n]) > d->max_chars)
            d->max_chars = nchars(d->keys[d->n]);
        d->n++;
    }
    free(text);
    gd_index(d);
}

/* Returns the index of dictionary `name`, loading it on first use. */
static int gd_load(const char *name, const char *path)
{
    for (int i = 0; i < n_dicts; i++)
        if (strcmp(dicts[i].name, name) == 0)
            return i;
    if (n_dicts == MAX_DICTS)
        die("too many dictionaries");
    if (strlen(name) >= TC_NAME_MAX)
        die("dictionary name too long: %s", name);
    gdict *d = &dicts[n_dicts];
    memset(d, 0, sizeof *d);
    strcpy(d->name, name);
    gd_parse(d, path);
    return n_dicts++;
}

/* Longest key of d that prefixes s[0..n); its length (0: none), *val set. */
static size_t gd_match(const gdict *d, const char *s, size_t n,
                       const char **val)
{
    size_t best = 0, l = 0;
    const char *end = s + n;
    while (l < n && l < d->max_key) {
        l += ulen(s + l, end);
        if (l > n)
            break;
        long k = gd_find(d, s, l);
        if (k >= 0) {
            best = l;
            *val = d->vals[k];
        }
    }
    return best;
}

/* ---- configurations ----------------------------------------------------- */

typedef struct gconfig {
    char name[TC_NAME_MAX];
    int seg;
    int n_stages;
    int stage_len[TC_MAX_STAGES];
    int stage[TC_MAX_STAGES][TC_MAX_GROUP];
} gconfig;

static gconfig configs[MAX_CONFIGS];
static int n_configs;
static const char *opencc_dir, *dump_dir;

/* Appends the dictionaries of a "dict" object (groups flattened: OpenCC's
 * DictGroup returns the first member's match, so nesting is order only). */
static void cfg_dicts(const cJSON *dict, int *out, int *n, const char *where)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(dict, "type");
    const cJSON *file = cJSON_GetObjectItemCaseSensitive(dict, "file");
    char path[4096], name[256];
    if (!cJSON_IsString(type))
        die("%s: dictionary without a type", where);
    if (strcmp(type->valuestring, "group") == 0) {
        const cJSON *m;
        cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(dict, "dicts"))
            cfg_dicts(m, out, n, where);
        return;
    }
    if (!cJSON_IsString(file))
        die("%s: dictionary without a file", where);
    snprintf(name, sizeof name, "%s", file->valuestring);
    if (strchr(name, '.'))
        *strrchr(name, '.') = 0;
    if (strcmp(type->valuestring, "ocd2") == 0)
        snprintf(path, sizeof path, "%s/%s.txt", dump_dir, name);
    else if (strcmp(type->valuestring, "text") == 0)
        snprintf(path, sizeof path, "%s/%s", opencc_dir, file->valuestring);
    else
        die("%s: unsupported dictionary type '%s'", where, type->valuestring);
    if (*n == TC_MAX_GROUP)
        die("%s: dictionary group too large", where);
    out[(*n)++] = gd_load(name, path);
}

static void cfg_load(const char *file)
{
    char path[4096];
    size_t len;
    snprintf(path, sizeof path, "%s/%s", opencc_dir, file);
    char *text = read_file(path, &len);
    cJSON *root = cJSON_Parse(text);
    gconfig *c = &configs[n_configs];
    int seg[TC_MAX_GROUP], nseg = 0;
    const cJSON *st;
    if (!root)
        die("%s: not valid JSON", path);
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%.*s", (int)(strlen(file) - 5), file);
    const cJSON *sg = cJSON_GetObjectItemCaseSensitive(root, "segmentation");
    const cJSON *sgt = cJSON_GetObjectItemCaseSensitive(sg, "type");
    if (!cJSON_IsString(sgt) || strcmp(sgt->valuestring, "mmseg") != 0)
        die("%s: only mmseg segmentation is supported", path);
    cfg_dicts(cJSON_GetObjectItemCaseSensitive(sg, "dict"), seg, &nseg, path);
    if (nseg != 1)
        die("%s: segmentation must use one dictionary", path);
    c->seg = seg[0];
    cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(root,
                                                           "conversion_chain"))
    {
        if (c->n_stages == TC_MAX_STAGES)
            die("%s: too many stages", path);
        cfg_dicts(cJSON_GetObjectItemCaseSensitive(st, "dict"),
                  c->stage[c->n_stages], &c->stage_len[c->n_stages], path);
        c->n_stages++;
    }
    if (c->n_stages == 0)
        die("%s: empty conversion chain", path);
    cJSON_Delete(root);
    free(text);
    n_configs++;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void load_configs(void)
{
    DIR *dir = opendir(opencc_dir);
    struct dirent *e;
    char *names[MAX_CONFIGS];
    int n = 0;
    if (!dir)
        die("%s: %s", opencc_dir, strerror(errno));
    while ((e = readdir(dir))) {
        size_t l = strlen(e->d_name);
        if (l > 5 && strcmp(e->d_name + l - 5, ".json") == 0) {
            if (n == MAX_CONFIGS)
                die("too many configurations");
            names[n++] = xstrndup(e->d_name, l);
        }
    }
    closedir(dir);
    if (n == 0)
        die("%s: no *.json configuration", opencc_dir);
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    for (int i = 0; i < n; i++) {
        cfg_load(names[i]);
        free(names[i]);
    }
}

/* ---- the reference algorithm ------------------------------------------- */

/* One stage over one segment (Conversion::Convert). */
static void ref_stage(const gconfig *c, int k, const char *s, size_t n,
                      sbuf *out)
{
    size_t i = 0;
    while (i < n) {
        const char *val = NULL;
        size_t m = 0;
        for (int g = 0; g < c->stage_len[k] && !m; g++)
            m = gd_match(&dicts[c->stage[k][g]], s + i, n - i, &val);
        if (m) {
            sb_add(out, val, strlen(val));
            i += m;
        } else {
            m = ulen(s + i, s + n);
            sb_add(out, s + i, m);
            i += m;
        }
    }
}

/* The whole chain over one segment; returns a malloc()ed string. */
static char *ref_chain(const gconfig *c, const char *s, size_t n)
{
    sbuf a = {0}, b = {0};
    sb_add(&a, s, n);
    for (int k = 0; k < c->n_stages; k++) {
        b.len = 0;
        sb_add(&b, "", 0);
        ref_stage(c, k, a.p, a.len, &b);
        sbuf t = a;
        a = b;
        b = t;
    }
    free(b.p);
    return a.p;
}

/* ---- blob building ------------------------------------------------------- */

static sbuf blob;
static sbuf pool;
static uint32_t *pool_slots; /* offset of a pooled string, 0 empty */
static size_t pool_mask;

static uint32_t blob_align(size_t a)
{
    static const char zeros[64];
    while (blob.len % a)
        sb_add(&blob, zeros, 1);
    (void)zeros;
    return (uint32_t)blob.len;
}

/* Interns s in the pool; returns its offset (never 0). */
static uint32_t pool_put(const char *s, size_t n)
{
    if (n > 255)
        die("value longer than 255 bytes: %.40s...", s);
    if (!pool_slots) {
        pool_mask = (1u << 20) - 1;
        pool_slots = xrealloc(NULL, (pool_mask + 1) * sizeof *pool_slots);
        memset(pool_slots, 0, (pool_mask + 1) * sizeof *pool_slots);
        sb_add(&pool, "", 1); /* offset 0 is reserved */
    }
    size_t i = fnv(s, n) & pool_mask;
    for (; pool_slots[i]; i = (i + 1) & pool_mask) {
        const char *e = pool.p + pool_slots[i];
        if ((unsigned char)e[0] == n && memcmp(e + 1, s, n) == 0)
            return pool_slots[i];
    }
    unsigned char len = (unsigned char)n;
    pool_slots[i] = (uint32_t)pool.len;
    sb_add(&pool, &len, 1);
    sb_add(&pool, s, n);
    if (pool.len >= TC_INFO_REF)
        die("pool too large");
    return pool_slots[i];
}

/* A trie under construction. */
typedef struct gtrie {
    uint64_t *slots;
    uint32_t mask, n_edges, n_nodes, cap_nodes;
    uint32_t *info;
} gtrie;

static uint32_t gt_child(const gtrie *t, uint32_t parent, uint32_t cp)
{
    uint32_t i = tc_hash_slot(parent, cp, t->mask);
    uint64_t want = ((uint64_t)parent << 21) | cp;
    for (; t->slots[i]; i = (i + 1) & t->mask)
        if ((t->slots[i] & ((1ull << 42) - 1)) == want)
            return (uint32_t)(t->slots[i] >> 42);
    return 0;
}

static void gt_put_slot(gtrie *t, uint64_t slot)
{
    uint32_t cp = slot & 0x1FFFFF, parent = (slot >> 21) & 0x1FFFFF;
    uint32_t i = tc_hash_slot(parent, cp, t->mask);
    while (t->slots[i])
        i = (i + 1) & t->mask;
    t->slots[i] = slot;
}

static void gt_grow(gtrie *t)
{
    uint64_t *old = t->slots;
    uint32_t n = old ? t->mask + 1 : 0;
    t->mask = n ? n * 2 - 1 : 1023;
    t->slots = xrealloc(NULL, (size_t)(t->mask + 1) * 8);
    memset(t->slots, 0, (size_t)(t->mask + 1) * 8);
    for (uint32_t i = 0; i < n; i++)
        if (old[i])
            gt_put_slot(t, old[i]);
    free(old);
}

static uint32_t gt_new_node(gtrie *t)
{
    if (t->n_nodes == t->cap_nodes) {
        t->cap_nodes = t->cap_nodes * 2 + 1024;
        t->info = xrealloc(t->info, t->cap_nodes * sizeof *t->info);
    }
    if (t->n_nodes >= TC_MAX_NODES)
        die("trie too large");
    t->info[t->n_nodes] = 0;
    return t->n_nodes++;
}

/* Inserts key; returns its node. */
static uint32_t gt_insert(gtrie *t, const char *key)
{
    const char *p = key, *end = key + strlen(key);
    uint32_t node = 0;
    if (t->n_nodes == 0)
        gt_new_node(t);
    while (p < end) {
        unsigned n;
        uint32_t cp = tc_utf8_decode((const unsigned char *)p,
                                     (const unsigned char *)end, &n);
        if (cp == TC_INVALID)
            die("key is not UTF-8: %s", key);
        uint32_t child = t->slots ? gt_child(t, node, cp) : 0;
        if (!child) {
            if (!t->slots || (t->n_edges + 1) * 2 > t->mask + 1)
                gt_grow(t);
            child = gt_new_node(t);
            t->info[node] |= TC_INFO_CHILD;
            gt_put_slot(t, ((uint64_t)child << 42) |
                               ((uint64_t)node << 21) | cp);
            t->n_edges++;
        }
        node = child;
        p += n;
    }
    return node;
}

/* Child filters of every node of t (see tc_format.h). */
static uint32_t *gt_filters(const gtrie *t)
{
    uint32_t *f = xrealloc(NULL, t->n_nodes * sizeof *f);
    memset(f, 0, t->n_nodes * sizeof *f);
    for (uint32_t i = 0; i <= t->mask; i++)
        if (t->slots[i])
            f[(t->slots[i] >> 21) & 0x1FFFFF] |=
                1u << tc_filter_bit(t->slots[i] & 0x1FFFFF);
    return f;
}

/* Writes a node array (info words plus t's child filters). */
static uint32_t gt_emit_nodes(const gtrie *t, const uint32_t *info)
{
    uint32_t *f = gt_filters(t), off = blob_align(64);
    for (uint32_t i = 0; i < t->n_nodes; i++) {
        uint64_t v = ((uint64_t)f[i] << 32) | info[i];
        sb_add(&blob, &v, 8);
    }
    free(f);
    return off;
}

/* Writes the edges and a node array to the blob; fills desc. */
static void gt_emit(const gtrie *t, const uint32_t *info, tc_trie_desc *desc)
{
    desc->hash_off = blob_align(64);
    desc->hash_mask = t->mask;
    sb_add(&blob, t->slots, (size_t)(t->mask + 1) * 8);
    desc->nodes_off = gt_emit_nodes(t, info);
    desc->n_nodes = t->n_nodes;
}

/* Info word for a node ending a key whose value is val. */
static uint32_t node_info(uint32_t old, const char *key, const char *val)
{
    uint32_t info = (old & TC_INFO_CHILD) | pool_put(val, strlen(val));
    if (strcmp(key, val) != 0)
        info |= TC_INFO_CHANGED;
    return info;
}

static gtrie tries[MAX_DICTS];
static tc_dict_desc dict_desc[MAX_DICTS];

/* The bigram filter of d (tc_format.h): about 32 bits per key of two or
 * more characters, so few pairs that start no key pass it. */
static void build_bigrams(const gdict *d, tc_dict_desc *desc)
{
    size_t multi = 0;
    uint32_t lg = 6;
    uint64_t *words;
    for (size_t k = 0; k < d->n; k++)
        multi += nchars(d->keys[k]) >= 2;
    while (lg < 21 && ((size_t)1 << lg) < multi * 32)
        lg++;
    words = xrealloc(NULL, ((size_t)1 << lg) / 8);
    memset(words, 0, ((size_t)1 << lg) / 8);
    for (size_t k = 0; k < d->n; k++) {
        const char *key = d->keys[k], *end = key + strlen(key);
        if (nchars(key) < 2)
            continue;
        uint32_t b = tc_bigram_bit(first_cp(key), first_cp(key + ulen(key, end)),
                                   lg);
        words[b >> 6] |= 1ull << (b & 63);
    }
    desc->bigram_log2 = lg;
    desc->bigram_off = blob_align(64);
    sb_add(&blob, words, ((size_t)1 << lg) / 8);
    free(words);
}

static void build_dict(int i)
{
    gdict *d = &dicts[i];
    gtrie *t = &tries[i];
    for (size_t k = 0; k < d->n; k++)
        gt_insert(t, d->keys[k]);
    for (size_t k = 0; k < d->n; k++) {
        uint32_t node = gt_insert(t, d->keys[k]); /* a walk by now */
        t->info[node] = node_info(t->info[node], d->keys[k], d->vals[k]);
    }
    strcpy(dict_desc[i].name, d->name);
    dict_desc[i].n_keys = (uint32_t)d->n;
    dict_desc[i].max_key_chars = (uint32_t)d->max_chars;
    build_bigrams(d, &dict_desc[i]);
}

/* Which multi-character keys of a configuration's stages can ever match
 * inside an unsegmented run (a run is where the segmenter found no key):
 *
 *  - stage 1 sees the original text, so a key with a segmentation key as a
 *    prefix cannot (the segmenter would have matched there);
 *  - a later stage sees the earlier stages' output; a key with a
 *    segmentation-key prefix still cannot match unless one of its
 *    characters was written by an earlier change (a value differing from
 *    its key), since otherwise the text there is the original text.  Any
 *    empty value in an earlier stage (a deletion could join pieces)
 *    disables this.
 *
 * starts[k] gets the first code points of the keys of stage k that can
 * match, and longest[k] the length of the longest such key in characters
 * (at least 1).  What cannot match never affects the output, so neither
 * needs to be considered by "simple" or by the resynchronisation window. */
typedef struct reach {
    cpset *starts[TC_MAX_STAGES];
    size_t longest[TC_MAX_STAGES];
    uint8_t *len[TC_MAX_STAGES]; /* per first code point: longest such key */
    size_t tail[TC_MAX_STAGES];  /* see reach_tails */
    uint16_t *ext[TC_MAX_STAGES]; /* per first code point, see reach_tails */
    int deletes;                 /* some value is empty */
} reach;

static int has_seg_prefix(const gdict *seg, const char *key)
{
    const char *end = key + strlen(key);
    size_t l = 0;
    while (key + l < end) {
        l += ulen(key + l, end);
        if (gd_find(seg, key, l) >= 0)
            return 1;
    }
    return 0;
}

static int uses_any(const cpset *set, const char *s)
{
    const char *end = s + strlen(s);
    for (; s < end; s += ulen(s, end))
        if (cps_has(set, first_cp(s)))
            return 1;
    return 0;
}

static void reach_build(const gconfig *c, reach *r)
{
    const gdict *seg = &dicts[c->seg];
    cpset *written = xrealloc(NULL, sizeof(cpset));
    int deletes = 0;
    memset(written, 0, sizeof *written);
    for (int k = 0; k < c->n_stages; k++) {
        r->starts[k] = xrealloc(NULL, sizeof(cpset));
        memset(r->starts[k], 0, sizeof(cpset));
        r->longest[k] = 1;
        r->len[k] = xrealloc(NULL, 0x110000);
        memset(r->len[k], 0, 0x110000);
        for (int g = 0; g < c->stage_len[k]; g++) {
            const gdict *d = &dicts[c->stage[k][g]];
            for (size_t i = 0; i < d->n; i++) {
                const char *key = d->keys[i];
                size_t n = nchars(key);
                if (n < 2 || (has_seg_prefix(seg, key) && !deletes &&
                              (k == 0 || !uses_any(written, key))))
                    continue;
                cps_add(r->starts[k], first_cp(key));
                if (n > r->len[k][first_cp(key)])
                    r->len[k][first_cp(key)] = (uint8_t)(n > 255 ? 255 : n);
                if (n > r->longest[k])
                    r->longest[k] = n;
            }
        }
        for (int g = 0; g < c->stage_len[k]; g++) {
            const gdict *d = &dicts[c->stage[k][g]];
            for (size_t i = 0; i < d->n; i++) {
                const char *v = d->vals[i], *end = v + strlen(v);
                if (strcmp(d->keys[i], v) == 0)
                    continue;
                deletes |= !*v;
                for (; v < end; v += ulen(v, end))
                    cps_add(written, first_cp(v));
            }
        }
    }
    free(written);
    r->deletes = deletes;
}

/* How far past its own output a match of stage k can make later stages
 * reach: tail[k] = sum over later stages i of (the longest key of stage i
 * that can match inside a run and starts with a character of some value
 * of an earlier stage) - 1.  A key of stage i that starts inside the
 * output of an earlier stage's match starts with such a character; one
 * that starts at a character converted one at a time so far starts at a
 * character that is itself not simple and is accounted for there. */
static void reach_tails(const gconfig *c, reach *r)
{
    cpset *values = xrealloc(NULL, sizeof(cpset));
    size_t la[TC_MAX_STAGES];
    memset(values, 0, sizeof *values);
    for (int k = 0; k < c->n_stages; k++) {
        la[k] = 1;
        for (uint32_t cp = 0; k > 0 && cp < 0x110000; cp++)
            if (r->len[k][cp] > la[k] && cps_has(values, cp))
                la[k] = r->len[k][cp];
        for (int g = 0; g < c->stage_len[k]; g++) {
            const gdict *d = &dicts[c->stage[k][g]];
            for (size_t i = 0; i < d->n; i++) {
                const char *v = d->vals[i], *end = v + strlen(v);
                for (; v < end; v += ulen(v, end))
                    cps_add(values, first_cp(v));
            }
        }
    }
    for (int k = 0; k < c->n_stages; k++) {
        r->tail[k] = 0;
        for (int i = k + 1; i < c->n_stages; i++)
            r->tail[k] += la[i] - 1;
    }
    free(values);
    /* ext[k][cp]: over the keys K of stage k starting with cp that can
     * match inside a run, the most of (len(K) - 1) + (the longest such
     * key of stage k + 1 starting with a character of K's value) - 1: how
     * far a match at cp and the next stage's matches inside its output
     * reach.  Stages after that add tail[k + 1]. */
    for (int k = 0; k < c->n_stages; k++) {
        r->ext[k] = xrealloc(NULL, 0x110000 * sizeof(uint16_t));
        memset(r->ext[k], 0, 0x110000 * sizeof(uint16_t));
        for (int g = 0; g < c->stage_len[k]; g++) {
            const gdict *d = &dicts[c->stage[k][g]];
            for (size_t i = 0; i < d->n; i++) {
                const char *key = d->keys[i], *v = d->vals[i];
                const char *vend = v + strlen(v);
                uint32_t cp = first_cp(key);
                size_t n = nchars(key), nx = 1;
                if (n < 2 || !cps_has(r->starts[k], cp) ||
                    r->len[k][cp] < 2)
                    continue;
                /* keys that cannot match were left out of len[k]; the
                 * bound over every key starting with cp is safe */
                for (; k + 1 < c->n_stages && v < vend; v += ulen(v, vend))
                    if (r->len[k + 1][first_cp(v)] > nx)
                        nx = r->len[k + 1][first_cp(v)];
                if (n - 1 + nx - 1 > r->ext[k][cp])
                    r->ext[k][cp] = (uint16_t)(n - 1 + nx - 1);
            }
        }
    }
}

/* The reach of a character that is not simple: how many characters after
 * it the stage-by-stage path must take in before every stage is
 * guaranteed to be back in step (README.md, "One pass").  A key of stage k
 * that starts at a character of the character's one-at-a-time image
 * through the earlier stages spans at most len - 1 more characters, and
 * matches it causes in later stages at most tail[k] more.  With a deletion
 * anywhere the conservative bound (resync) is used. */
static uint32_t char_reach(const gconfig *c, const reach *r, const char *ch,
                           size_t chlen, uint32_t resync)
{
    sbuf a = {0}, b = {0};
    size_t best = 0;
    if (r->deletes)
        return resync;
    sb_add(&a, ch, chlen);
    for (int k = 0; k < c->n_stages; k++) {
        const char *p = a.p, *end = a.p + a.len;
        if (a.len == 0) {
            best = resync;
            break;
        }
        for (; p < end; p += ulen(p, end)) {
            size_t l = r->len[k][first_cp(p)];
            size_t x = r->ext[k][first_cp(p)] +
                       (k + 1 < c->n_stages ? r->tail[k + 1] : 0);
            if (l >= 2 && x > best)
                best = x;
        }
        b.len = 0;
        sb_add(&b, "", 0);
        ref_stage(c, k, a.p, a.len, &b);
        sbuf t = a;
        a = b;
        b = t;
    }
    free(a.p);
    free(b.p);
    return (uint32_t)(best < resync ? best : resync);
}

/* Decides whether c is simple in configuration c (see tc_format.h): no
 * reachable multi-character key starts at it or at any character an
 * earlier stage turned it into, and no stage deletes it.  When it is,
 * returns the chain's output for it (malloc()ed), else NULL. */
static char *simple_output(const gconfig *c, const reach *r, const char *ch,
                           size_t chlen)
{
    sbuf a = {0}, b = {0};
    sb_add(&a, ch, chlen);
    for (int k = 0; k < c->n_stages; k++) {
        const char *p = a.p, *end = a.p + a.len;
        if (a.len == 0) /* resynchronisation counts characters */
            goto no;
        for (; p < end; p += ulen(p, end))
            if (cps_has(r->starts[k], first_cp(p)))
                goto no;
        b.len = 0;
        sb_add(&b, "", 0);
        ref_stage(c, k, a.p, a.len, &b);
        sbuf t = a;
        a = b;
        b = t;
    }
    free(b.p);
    if (a.len == 0)
        goto no;
    return a.p;
no:
    free(a.p);
    free(b.p);
    return NULL;
}

static size_t encode_cp(uint32_t c, char *o)
{
    if (c < 0x80) {
        o[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (char)(0xC0 | c >> 6);
        o[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = (char)(0xE0 | c >> 12);
        o[1] = (char)(0x80 | (c >> 6 & 0x3F));
        o[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | c >> 18);
    o[1] = (char)(0x80 | (c >> 12 & 0x3F));
    o[2] = (char)(0x80 | (c >> 6 & 0x3F));
    o[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* Two-level table under construction: pages[cp >> 8] -> page number. */
typedef struct gtable {
    uint16_t pages[TC_NPAGES];
    sbuf entries; /* page 0 is the default page */
    size_t entry_size;
} gtable;

static void *gtable_slot(gtable *t, uint32_t cp, const void *dflt)
{
    if (!t->pages[cp >> 8]) {
        size_t np = t->entries.len / (256 * t->entry_size);
        if (np >= 0xFFFF)
            die("table too large");
        for (int i = 0; i < 256; i++)
            sb_add(&t->entries, dflt, t->entry_size);
        t->pages[cp >> 8] = (uint16_t)np;
    }
    return t->entries.p +
           ((size_t)t->pages[cp >> 8] * 256 + (cp & 255)) * t->entry_size;
}

static void gtable_init(gtable *t, size_t entry_size, const void *dflt)
{
    memset(t, 0, sizeof *t);
    t->entry_size = entry_size;
    for (int i = 0; i < 256; i++)
        sb_add(&t->entries, dflt, entry_size);
}

static void gtable_emit(gtable *t, uint32_t *pages_off, uint32_t *entries_off)
{
    *pages_off = blob_align(64);
    sb_add(&blob, t->pages, sizeof t->pages);
    *entries_off = blob_align(64);
    sb_add(&blob, t->entries.p, t->entries.len);
}

/* Code-point pages of every configuration, stored once when identical. */
static sbuf cp_pages;
static uint32_t cp_page_slots[1u << 16]; /* page number + 1, 0 empty */

static uint16_t cp_page_put(const uint32_t *page)
{
    size_t bytes = 256 * sizeof *page;
    size_t i = fnv((const char *)page, bytes) & 0xFFFF;
    for (; cp_page_slots[i]; i = (i + 1) & 0xFFFF)
        if (!memcmp(cp_pages.p + (cp_page_slots[i] - 1) * bytes, page, bytes))
            return (uint16_t)(cp_page_slots[i] - 1);
    if (cp_pages.len / bytes >= 0xFFFF)
        die("too many code-point pages");
    cp_page_slots[i] = (uint32_t)(cp_pages.len / bytes) + 1;
    sb_add(&cp_pages, page, bytes);
    return (uint16_t)(cp_page_slots[i] - 1);
}

/* Writes the page index of t, its pages going to the shared page store. */
static void cp_table_emit(const gtable *t, tc_config_desc *desc)
{
    uint16_t pages[TC_NPAGES];
    const uint32_t *e = (const uint32_t *)t->entries.p;
    for (uint32_t i = 0; i < TC_NPAGES; i++)
        pages[i] = cp_page_put(e + (size_t)t->pages[i] * 256);
    desc->cp_pages_off = blob_align(64);
    sb_add(&blob, pages, sizeof pages);
}

/* The table entry for a character (see TC_CP_* in tc_format.h). */
/* The tc_lone record of a character that is not simple (tc_format.h). */
static tc_lone lone_for(const gconfig *c, const reach *r, const char *ch,
                        size_t chlen)
{
    sbuf a = {0}, b = {0};
    tc_lone l;
    memset(&l, 0, sizeof l);
    sb_add(&a, ch, chlen);
    for (int k = 0; k < c->n_stages; k++) {
        const char *p = a.p, *end = a.p + a.len;
        if (a.len == 0 || a.len > 64)
            goto never;
        for (; p < end; p += ulen(p, end)) {
            if (!cps_has(r->starts[k], first_cp(p)))
                continue;
            if (p + ulen(p, end) < end || first_cp(p) == 0)
                goto never;
            l.check[k] = first_cp(p);
        }
        b.len = 0;
        sb_add(&b, "", 0);
        ref_stage(c, k, a.p, a.len, &b);
        sbuf t = a;
        a = b;
        b = t;
    }
    if (a.len == 0)
        goto never;
    if (a.len != chlen || memcmp(a.p, ch, chlen) != 0)
        l.out = TC_OUT_CHANGED | pool_put(a.p, a.len);
    free(a.p);
    free(b.p);
    return l;
never:
    free(a.p);
    free(b.p);
    memset(&l, 0, sizeof l);
    l.out = TC_LONE_NEVER;
    return l;
}

static uint32_t cp_entry_for(uint32_t node, const char *out, const char *ch,
                             size_t n, sbuf *side, uint32_t reach)
{
    int same = out && strlen(out) == n && memcmp(out, ch, n) == 0;
    tc_cp_side sd = {out ? 0 : reach, node};
    if (!node && same && n > 3)
        return 0;
    if (!node && out && strlen(out) <= 3) {
        uint32_t e = (uint32_t)(strlen(out) | (same ? TC_CP_SAME : 0)) << 24;
        for (size_t i = 0; out[i]; i++)
            e |= (uint32_t)(unsigned char)out[i] << (8 * i);
        return e;
    }
    if (!node && out) {
        uint32_t ref = pool_put(out, strlen(out));
        if (ref >= 1u << 24)
            die("pool offset too large for a code-point entry");
        return (uint32_t)TC_CP_POOL << 24 | ref;
    }
    if (out)
        sd.out = TC_OUT_SIMPLE |
                 (same ? 0 : TC_OUT_CHANGED | pool_put(out, strlen(out)));
    if (side->len / sizeof sd >= 1u << 24)
        die("side table too large");
    sb_add(side, &sd, sizeof sd);
    return (uint32_t)TC_CP_SIDE << 24 | (uint32_t)(side->len / sizeof sd - 1);
}

/* The entry of stage k's table for character ch (n bytes), see "Stage
 * tables" in tc_format.h. */
static uint32_t stage_entry_for(const gconfig *c, const reach *r, int k,
                                uint32_t cp, const char *ch, size_t n)
{
    sbuf out = {0};
    uint32_t e;
    sb_add(&out, "", 0);
    ref_stage(c, k, ch, n, &out);
    if (cps_has(r->starts[k], cp)) {
        /* A key may start here; the payload is the output when none
         * does (0: the character itself). */
        e = (uint32_t)TC_CP_SIDE << 24;
        if (out.len != n || memcmp(out.p, ch, n) != 0) {
            uint32_t ref = pool_put(out.p, out.len);
            if (ref >= 1u << 24)
                die("pool offset too large for a code-point entry");
            e |= ref;
        }
    } else if (out.len == 0 || (out.len > 3 && (out.len != n ||
                                         memcmp(out.p, ch, n) != 0))) {
        uint32_t ref = pool_put(out.p, out.len);
        if (ref >= 1u << 24)
            die("pool offset too large for a code-point entry");
        e = (uint32_t)TC_CP_POOL << 24 | ref;
    } else {
        e = cp_entry_for(0, out.p, ch, n, NULL, 0);
    }
    free(out.p);
    return e;
}

/* Writes the table of stage k of c (tc_format.h, "Stage tables"). */
static void build_stage_table(const gconfig *c, const reach *r, int k,
                              tc_config_desc *desc)
{
    static gtable table;
    uint32_t dflt = 0;
    free(table.entries.p);
    gtable_init(&table, sizeof(uint32_t), &dflt);
    for (int g = 0; g < c->stage_len[k]; g++) {
        const gdict *d = &dicts[c->stage[k][g]];
        for (size_t i = 0; i < d->n; i++) {
            uint32_t cp = first_cp(d->keys[i]);
            char ch[4];
            size_t n = encode_cp(cp, ch);
            *(uint32_t *)gtable_slot(&table, cp, &dflt) =
                stage_entry_for(c, r, k, cp, ch, n);
        }
    }
    /* Pages in use copy their other characters inline, as in the chain
     * table: a key's first character gets its entry again, harmlessly. */
    for (uint32_t cp = 0; cp < 0x10000; cp++) {
        char ch[4];
        size_t n = encode_cp(cp, ch);
        if (!table.pages[cp >> 8] ||
            *(uint32_t *)gtable_slot(&table, cp, &dflt) != 0)
            continue;
        *(uint32_t *)gtable_slot(&table, cp, &dflt) =
            stage_entry_for(c, r, k, cp, ch, n);
    }
    uint16_t pages[TC_NPAGES];
    const uint32_t *e = (const uint32_t *)table.entries.p;
    for (uint32_t i = 0; i < TC_NPAGES; i++)
        pages[i] = cp_page_put(e + (size_t)table.pages[i] * 256);
    desc->stage_pages_off[k] = blob_align(64);
    sb_add(&blob, pages, sizeof pages);
}

/* Characters at which tw2t / hk2t may change the text: their entry is
 * anything but "simple, unchanged" (for TC_CLASS_TW / TC_CLASS_HK). */
static cpset rel_tw, rel_hk;

static void build_config(const gconfig *c, tc_config_desc *desc)
{
    const gdict *seg = &dicts[c->seg];
    const gtrie *t = &tries[c->seg];
    uint32_t *info = xrealloc(NULL, t->n_nodes * sizeof *info);
    cpset *universe = xrealloc(NULL, sizeof(cpset));
    reach r;
    uint32_t dflt = 0;
    sbuf side = {0}, lone = {0};
    static gtable table;
    memset(universe, 0, sizeof *universe);
    memset(desc, 0, sizeof *desc);
    strcpy(desc->name, c->name);
    desc->seg_dict = (uint32_t)c->seg;

    /* Segmentation keys: the chain's output for the key as a segment. */
    for (uint32_t i = 0; i < t->n_nodes; i++)
        info[i] = t->info[i] & TC_INFO_CHILD;
    for (size_t k = 0; k < seg->n; k++) {
        char *out = ref_chain(c, seg->keys[k], strlen(seg->keys[k]));
        uint32_t node = gt_insert(&tries[c->seg], seg->keys[k]);
        info[node] = node_info(info[node], seg->keys[k], out);
        free(out);
    }
    desc->seg = dict_desc[c->seg].trie; /* shared edges, own values */
    desc->seg.nodes_off = gt_emit_nodes(t, info);

    /* Characters: every first character of any key of the configuration. */
    for (size_t k = 0; k < seg->n; k++)
        cps_add(universe, first_cp(seg->keys[k]));
    for (int s = 0; s < c->n_stages; s++)
        for (int g = 0; g < c->stage_len[s]; g++) {
            const gdict *d = &dicts[c->stage[s][g]];
            for (size_t k = 0; k < d->n; k++)
                cps_add(universe, first_cp(d->keys[k]));
        }
    reach_build(c, &r);
    reach_tails(c, &r);
    desc->resync = 0;
    for (int k = 0; k < c->n_stages; k++)
        desc->resync += (uint32_t)r.longest[k] - 1;
    free(table.entries.p);
    gtable_init(&table, sizeof(uint32_t), &dflt);
    desc->flags = TC_CFG_ASCII_PLAIN;
    for (uint32_t cp = 0; cp < 0x110000; cp++) {
        char ch[4];
        size_t n;
        char *out;
        if (!cps_has(universe, cp))
            continue;
        if (cp < 0x80)
            desc->flags &= ~(uint32_t)TC_CFG_ASCII_PLAIN;
        n = encode_cp(cp, ch);
        out = simple_output(c, &r, ch, n);
        uint32_t node = gt_child(t, 0, cp);
        if (node && (t->info[node] & TC_INFO_REF))
            node |= TC_NODE_KEY;
        uint32_t rs = 0;
        if (!out) {
            tc_lone l = lone_for(c, &r, ch, n);
            rs = char_reach(c, &r, ch, n, desc->resync);
            if (rs > 255)
                die("%s: reach past 255 characters", c->name);
            sb_add(&lone, &l, sizeof l);
            if (lone.len / sizeof l >= 1u << 21)
                die("%s: too many characters that are not simple", c->name);
            rs |= (uint32_t)(lone.len / sizeof l) << 8;
        }
        uint32_t e = cp_entry_for(node, out, ch, n, &side, rs);
        *(uint32_t *)gtable_slot(&table, cp, &dflt) = e;
        if (e != 0 && !((e >> 24) >= (TC_CP_SAME | 1) &&
                        (e >> 24) <= (TC_CP_SAME | 3))) {
            if (strcmp(c->name, "tw2t") == 0)
                cps_add(&rel_tw, cp);
            if (strcmp(c->name, "hk2t") == 0)
                cps_add(&rel_hk, cp);
        }
        free(out);
    }
    /* The other characters of the pages in use copy themselves inline, so
     * the hot loop writes every BMP character the same way. */
    for (uint32_t cp = 0; cp < 0x10000; cp++) {
        char ch[5];
        size_t n = encode_cp(cp, ch);
        ch[n] = 0;
        if (!table.pages[cp >> 8] || cps_has(universe, cp))
            continue;
        *(uint32_t *)gtable_slot(&table, cp, &dflt) =
            cp_entry_for(0, ch, ch, n, &side, 0);
    }
    cp_table_emit(&table, desc);
    desc->lone_off = blob_align(64);
    desc->n_lone = (uint32_t)(lone.len / sizeof(tc_lone));
    sb_add(&blob, lone.p, lone.len);
    free(lone.p);
    desc->side_off = blob_align(64);
    desc->n_side = (uint32_t)(side.len / sizeof(tc_cp_side));
    sb_add(&blob, side.p, side.len);
    free(side.p);
    fprintf(stderr, "tcgen: %-6s %3u pages, %5u side entries, resync %u\n",
            c->name, (unsigned)(table.entries.len / 256 / sizeof(uint32_t)),
            desc->n_side, desc->resync);
    desc->n_stages = (uint32_t)c->n_stages;
    for (int k = 0; k < c->n_stages; k++)
        build_stage_table(c, &r, k, desc);
    for (int s = 0; s < c->n_stages; s++) {
        desc->stage_len[s] = (uint32_t)c->stage_len[s];
        for (int g = 0; g < c->stage_len[s]; g++)
            desc->stage_dict[s][g] = (uint32_t)c->stage[s][g];
    }
    free(info);
    free(universe);
    for (int k = 0; k < c->n_stages; k++) {
        free(r.starts[k]);
        free(r.len[k]);
        free(r.ext[k]);
    }
}

/* Character classes for `config: auto`, from the character dictionaries:
 * Traditional-only = a key of TSCharacters whose first value differs and
 * which is not a key of STCharacters (not also a Simplified character);
 * Simplified-only = a key of STCharacters whose first value differs. */
static void build_classes(tc_header *h)
{
    int ts = -1, st = -1;
    uint8_t zero = 0;
    static gtable table;
    for (int i = 0; i < n_dicts; i++) {
        if (strcmp(dicts[i].name, "TSCharacters") == 0)
            ts = i;
        if (strcmp(dicts[i].name, "STCharacters") == 0)
            st = i;
    }
    if (ts < 0 || st < 0)
        die("TSCharacters and STCharacters are needed for config: auto");
    gtable_init(&table, 1, &zero);
    for (size_t k = 0; k < dicts[st].n; k++) {
        const char *key = dicts[st].keys[k];
        if (nchars(key) == 1 && strcmp(key, dicts[st].vals[k]) != 0) {
            *(uint8_t *)gtable_slot(&table, first_cp(key), &zero) |=
                TC_CLASS_SIMP;
            h->n_simp++;
        }
    }
    for (size_t k = 0; k < dicts[ts].n; k++) {
        const char *key = dicts[ts].keys[k];
        if (nchars(key) == 1 && strcmp(key, dicts[ts].vals[k]) != 0 &&
            gd_find(&dicts[st], key, strlen(key)) < 0) {
            *(uint8_t *)gtable_slot(&table, first_cp(key), &zero) |=
                TC_CLASS_TRAD;
            h->n_trad++;
        }
    }
    for (uint32_t cp = 0; cp < 0x110000; cp++) {
        if (cps_has(&rel_tw, cp))
            *(uint8_t *)gtable_slot(&table, cp, &zero) |= TC_CLASS_TW;
        if (cps_has(&rel_hk, cp))
            *(uint8_t *)gtable_slot(&table, cp, &zero) |= TC_CLASS_HK;
    }
    gtable_emit(&table, &h->class_pages_off, &h->class_entries_off);
}

int main(int argc, char **argv)
{
    tc_header h;
    static tc_config_desc cdesc[MAX_CONFIGS];
    FILE *f;
    if (argc != 4) {
        fprintf(stderr, "usage: tcgen OPENCC_DIR DUMP_DIR OUT\n");
        return 2;
    }
    opencc_dir = argv[1];
    dump_dir = argv[2];
    load_configs();
    memset(&h, 0, sizeof h);
    sb_add(&blob, &h, sizeof h);
    for (int i = 0; i < n_dicts; i++) {
        build_dict(i);
        gt_emit(&tries[i], tries[i].info, &dict_desc[i].trie);
    }
    for (int i = 0; i < n_configs; i++)
        build_config(&configs[i], &cdesc[i]);
    uint32_t cp_off = blob_align(64);
    sb_add(&blob, cp_pages.p, cp_pages.len);
    for (int i = 0; i < n_configs; i++)
        cdesc[i].cp_entries_off = cp_off;
    fprintf(stderr, "tcgen: %zu distinct code-point pages\n",
            cp_pages.len / 256 / sizeof(uint32_t));
    build_classes(&h);
    memcpy(h.magic, TC_MAGIC, 8);
    h.version = TC_FORMAT_VERSION;
    h.n_dicts = (uint32_t)n_dicts;
    h.dicts_off = blob_align(64);
    sb_add(&blob, dict_desc, (size_t)n_dicts * sizeof *dict_desc);
    h.n_configs = (uint32_t)n_configs;
    h.configs_off = blob_align(64);
    sb_add(&blob, cdesc, (size_t)n_configs * sizeof *cdesc);
    h.pool_off = blob_align(64);
    h.pool_size = (uint32_t)pool.len;
    sb_add(&blob, pool.p, pool.len);
    for (int i = 0; i < TC_POOL_SLACK; i++)
        sb_add(&blob, "", 1);
    blob_align(64);
    h.size = (uint32_t)blob.len;
    memcpy(blob.p, &h, sizeof h);
    f = fopen(argv[3], "wb");
    if (!f || fwrite(blob.p, 1, blob.len, f) != blob.len || fclose(f) != 0)
        die("%s: cannot write", argv[3]);
    fprintf(stderr, "tcgen: %d configurations, %d dictionaries, %zu bytes\n",
            n_configs, n_dicts, blob.len);
    return 0;
}
