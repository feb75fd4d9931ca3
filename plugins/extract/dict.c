/*
 * dict.c - the organisation alias dictionary and script detection.
 *
 * Aliases are bucketed by their first two characters in an open-addressing
 * table; a bucket lists its aliases longest first, so a lookup at a text
 * position costs one hash probe and usually nothing more (most characters
 * start no alias, which a 64K-bit filter on the first character answers
 * before the probe).  One-character aliases are ignored.  ASCII
 * letters compare case-insensitively and an alias that begins or ends with
 * an ASCII letter or digit must not touch another one in the text, so
 * "Meta" does not match inside "metaverse".
 */
#include "ext.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct alias {
    char *s;
    uint32_t len;
    uint32_t org;
    uint32_t first;  /* first character, ASCII lower-cased */
    uint32_t keylen; /* bytes of the first two characters */
    uint64_t key;    /* first two characters, ASCII lower-cased */
    int plain;       /* no ASCII letter: compared byte for byte */
} alias;

typedef struct slot {
    uint64_t key;  /* two-character key + 1; 0 = empty */
    uint32_t start, count;
    /* bit (third character & 63) of each longer alias, all ones when the
     * bucket holds a two-character alias: a text whose third character
     * misses it matches none of the bucket */
    uint64_t third;
} slot;

/* The third character of an alias or a text after its first two (at byte
 * `off`), ASCII lower-cased; U+FFFD when there is none. */
static uint32_t third_char(const char *s, size_t n, size_t off)
{
    size_t l;
    if (off >= n)
        return 0xFFFD;
    uint32_t c = ext_utf8_next(s + off, n - off, &l);
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

struct ext_dict {
    char **names;
    size_t nnames, capnames;
    alias *al;
    size_t nal, capal;
    uint32_t *order; /* alias indices grouped by first character */
    slot *tab;
    size_t tabmask;
    uint8_t filter[65536 / 8];
    uint8_t pair[65536 / 8]; /* ext_pair_hash of the first two characters */
};

static uint32_t fold(uint32_t c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z');
}

static int add_name(ext_dict *d, const char *s, size_t n)
{
    if (d->nnames == d->capnames) {
        size_t cap = d->capnames ? d->capnames * 2 : 256;
        char **p = realloc(d->names, cap * sizeof *p);
        if (!p)
            return -1;
        d->names = p, d->capnames = cap;
    }
    if (!(d->names[d->nnames] = strndup(s, n)))
        return -1;
    d->nnames++;
    return 0;
}

static int add_alias(ext_dict *d, const char *s, size_t n, uint32_t org)
{
    size_t l;
    if (!n)
        return 0;
    if (d->nal == d->capal) {
        size_t cap = d->capal ? d->capal * 2 : 1024;
        alias *p = realloc(d->al, cap * sizeof *p);
        if (!p)
            return -1;
        d->al = p, d->capal = cap;
    }
    alias *a = &d->al[d->nal];
    if (!(a->s = strndup(s, n)))
        return -1;
    a->len = (uint32_t)n;
    a->org = org;
    a->first = fold(ext_utf8_next(s, n, &l));
    if (l >= n) { /* one character: too ambiguous to match */
        free(a->s);
        return 0;
    }
    size_t l2;
    uint32_t second = ext_utf8_next(s + l, n - l, &l2);
    a->key = (uint64_t)a->first << 32 | fold(second);
    /* an undecodable start (U+FFFD) may stand for other bytes in the text:
     * such aliases are compared from their first byte */
    a->keylen = a->first == 0xFFFD || second == 0xFFFD ? 0 : (uint32_t)(l + l2);
    a->plain = 1;
    for (size_t i = 0; i < n; i++)
        if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z'))
            a->plain = 0;
    d->nal++;
    return 0;
}

int ext_dict_load_tsv(ext_dict *d, const char *text, size_t n,
                      const char *what, char *err, size_t errlen)
{
    size_t lineno = 0;
    for (size_t i = 0; i < n;) {
        const char *line = text + i;
        const char *nl = memchr(line, '\n', n - i);
        size_t len = nl ? (size_t)(nl - line) : n - i;
        i += len + (nl != NULL);
        lineno++;
        if (len && line[len - 1] == '\r')
            len--;
        size_t t = len;
        const char *tr = ext_trim(line, &t);
        if (!t || tr[0] == '#')
            continue;
        const char *tab = memchr(line, '\t', len);
        size_t nlen = tab ? (size_t)(tab - line) : len;
        size_t cl = nlen;
        const char *canon = ext_trim(line, &cl);
        if (!cl) {
            snprintf(err, errlen, "%s:%zu: empty canonical name", what, lineno);
            return -1;
        }
        uint32_t org = (uint32_t)d->nnames;
        if (add_name(d, canon, cl) || add_alias(d, canon, cl, org))
            goto oom;
        for (size_t k = nlen; k < len;) {
            const char *f = line + k + 1;
            const char *e = memchr(f, '\t', len - k - 1);
            size_t fl = e ? (size_t)(e - f) : len - k - 1;
            k += fl + 1;
            const char *a = ext_trim(f, &fl);
            if (add_alias(d, a, fl, org))
                goto oom;
        }
    }
    return 0;
oom:
    snprintf(err, errlen, "%s: out of memory", what);
    return -1;
}

static uint64_t hash64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

static const ext_dict *sort_dict;

static int by_first_then_len(const void *a, const void *b)
{
    const alias *x = &sort_dict->al[*(const uint32_t *)a];
    const alias *y = &sort_dict->al[*(const uint32_t *)b];
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    if (x->len != y->len)
        return x->len > y->len ? -1 : 1;
    return 0;
}

static pthread_mutex_t sort_lock = PTHREAD_MUTEX_INITIALIZER;

/* Builds the first-character index over every alias loaded so far. */
static int build_index(ext_dict *d)
{
    size_t size = 16;
    while (size < d->nal * 2)
        size *= 2;
    if (!(d->order = malloc((d->nal + 1) * sizeof *d->order)) ||
        !(d->tab = calloc(size, sizeof *d->tab)))
        return -1;
    d->tabmask = size - 1;
    for (size_t i = 0; i < d->nal; i++)
        d->order[i] = (uint32_t)i;
    pthread_mutex_lock(&sort_lock);
    sort_dict = d;
    qsort(d->order, d->nal, sizeof *d->order, by_first_then_len);
    pthread_mutex_unlock(&sort_lock);
    for (size_t i = 0; i < d->nal;) {
        uint64_t key = d->al[d->order[i]].key;
        uint32_t first = d->al[d->order[i]].first;
        size_t j = i;
        while (j < d->nal && d->al[d->order[j]].key == key)
            j++;
        size_t h = hash64(key) & d->tabmask;
        while (d->tab[h].key)
            h = (h + 1) & d->tabmask;
        uint64_t third = 0;
        for (size_t k = i; k < j; k++) {
            const alias *a = &d->al[d->order[k]];
            size_t l1, l2;
            ext_utf8_next(a->s, a->len, &l1);
            ext_utf8_next(a->s + l1, a->len - l1, &l2);
            uint32_t t3 = third_char(a->s, a->len, l1 + l2);
            third |= l1 + l2 >= a->len || a->keylen == 0 || t3 == 0xFFFD
                         ? ~0ull /* two characters, or undecodable */
                         : 1ull << (t3 & 63);
        }
        d->tab[h] = (slot){key + 1, (uint32_t)i, (uint32_t)(j - i), third};
        d->filter[(first & 0xFFFF) >> 3] |= (uint8_t)(1u << (first & 7));
        unsigned ph = ext_pair_hash(first, (uint32_t)key);
        d->pair[ph >> 3] |= (uint8_t)(1u << (ph & 7));
        i = j;
    }
    return 0;
}

ext_dict *ext_dict_create(int builtin, const char *path, char *err,
                          size_t errlen)
{
    ext_dict *d = calloc(1, sizeof *d);
    char *text = NULL;
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (builtin) {
        size_t n;
        const char *tsv = ext_builtin_orgs(&n);
        if (ext_dict_load_tsv(d, tsv, n, "builtin organizations.tsv", err,
                              errlen))
            goto fail;
    }
    if (path) {
        FILE *f = fopen(path, "rb");
        if (!f) {
            snprintf(err, errlen, "organizations: cannot open '%s'", path);
            goto fail;
        }
        ext_buf b = {0};
        char chunk[65536];
        size_t got;
        while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
            if (ext_buf_add(&b, chunk, got)) {
                fclose(f);
                ext_buf_free(&b);
                snprintf(err, errlen, "out of memory");
                goto fail;
            }
        fclose(f);
        text = b.p;
        if (ext_dict_load_tsv(d, text ? text : "", b.len, path, err, errlen))
            goto fail;
    }
    if (build_index(d)) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    free(text);
    return d;
fail:
    free(text);
    ext_dict_destroy(d);
    return NULL;
}

void ext_dict_destroy(ext_dict *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->nnames; i++)
        free(d->names[i]);
    for (size_t i = 0; i < d->nal; i++)
        free(d->al[i].s);
    free(d->names);
    free(d->al);
    free(d->order);
    free(d->tab);
    free(d);
}

size_t ext_dict_size(const ext_dict *d) { return d->nnames; }

const char *ext_dict_name(const ext_dict *d, size_t i) { return d->names[i]; }

int ext_dict_may_start(const ext_dict *d, uint32_t c)
{
    c = fold(c);
    return (d->filter[(c & 0xFFFF) >> 3] >> (c & 7)) & 1;
}

const uint8_t *ext_dict_first_bits(const ext_dict *d) { return d->filter; }

const uint8_t *ext_dict_pair_bits(const ext_dict *d) { return d->pair; }

uint64_t ext_dict_third_bits(const ext_dict *d, uint32_t c0, uint32_t c1)
{
    uint64_t key = (uint64_t)fold(c0) << 32 | fold(c1);
    size_t h = hash64(key) & d->tabmask;
    while (d->tab[h].key && d->tab[h].key != key + 1)
        h = (h + 1) & d->tabmask;
    return d->tab[h].key ? d->tab[h].third : 0;
}

/* memcmp(a, b, n) == 0 for the few bytes of an alias's tail: most
 * candidates differ in their first byte or two, before a call would pay. */
static inline int same_bytes(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

static int same_folded(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fold((unsigned char)a[i]) != fold((unsigned char)b[i]))
            return 0;
    return 1;
}

size_t ext_dict_match(const ext_dict *d, const char *s, size_t n,
                      size_t *org)
{
    size_t l, l2;
    uint32_t c = fold(ext_utf8_next(s, n, &l));
    if (!(d->filter[(c & 0xFFFF) >> 3] & (1u << (c & 7))) || l >= n)
        return 0;
    uint64_t key = (uint64_t)c << 32 | fold(ext_utf8_next(s + l, n - l, &l2));
    size_t h = hash64(key) & d->tabmask;
    while (d->tab[h].key && d->tab[h].key != key + 1)
        h = (h + 1) & d->tabmask;
    if (!d->tab[h].key)
        return 0;
    const slot *sl = &d->tab[h];
    /* the first two characters are the key's: compare the rest (from the
     * start when the text's are undecodable) */
    size_t skip = c == 0xFFFD || (uint32_t)key == 0xFFFD ? 0 : l + l2;
    if (skip && ~sl->third &&
        !((sl->third >> (third_char(s, n, skip) & 63)) & 1))
        return 0;
    for (uint32_t k = 0; k < sl->count; k++) {
        const alias *a = &d->al[d->order[sl->start + k]];
        size_t from = a->keylen == skip ? skip : 0;
        if (a->len > n ||
            (a->plain ? !same_bytes(s + from, a->s + from, a->len - from)
                      : !same_folded(s + from, a->s + from, a->len - from)))
            continue;
        if (is_alnum((unsigned char)a->s[a->len - 1]) && a->len < n &&
            is_alnum((unsigned char)s[a->len]))
            continue;
        *org = a->org;
        return a->len;
    }
    return 0;
}

/* ---- script detection --------------------------------------------------- */

static uint8_t trad_bits[65536 / 8], simp_bits[65536 / 8];
/* U+3000..U+9FFF (every character with an E3..E9 lead byte): bit 0 set
 * for a traditional-only form, bit 1 for a simplified-only one. */
static uint8_t script_class[0xA000 - 0x3000];
static pthread_once_t script_once = PTHREAD_ONCE_INIT;

static void script_init(void)
{
    size_t n, l;
    const char *t = ext_script_table(&n);
    uint8_t *bits = NULL;
    for (size_t i = 0; i < n; i += l) {
        if (i == 0 || t[i - 1] == '\n') {
            bits = t[i] == 'T' ? trad_bits : t[i] == 'S' ? simp_bits : NULL;
            l = 2;
            continue;
        }
        uint32_t c = ext_utf8_next(t + i, n - i, &l);
        if (bits && c < 65536 && c != '\n')
            bits[c >> 3] |= (uint8_t)(1u << (c & 7));
    }
    for (uint32_t c = 0x3000; c < 0xA000; c++)
        script_class[c - 0x3000] =
            (uint8_t)(((trad_bits[c >> 3] >> (c & 7)) & 1) |
                      ((simp_bits[c >> 3] >> (c & 7)) & 1) << 1);
}

/* Counts the one character at s[0..n) (n > 0) that is not an ASCII byte
 * nor a well-formed E3..E9 sequence into cnt; returns its byte length. */
static size_t script_other(const unsigned char *s, size_t n, size_t cnt[4])
{
    size_t l;
    if (s[0] < 0xE3 || s[0] > 0xE9) { /* not U+3000..U+9FFF: skip the char */
        l = s[0] < 0xE0 ? 2 : s[0] < 0xF0 ? 3 : 4;
        return l > n ? n : l;
    }
    uint32_t c = ext_utf8_next_slow((const char *)s, n, &l);
    cnt[((trad_bits[c >> 3] >> (c & 7)) & 1) |
        ((simp_bits[c >> 3] >> (c & 7)) & 1) << 1]++;
    return l;
}

const char *ext_script(const char *s, size_t n)
{
    size_t cnt[4] = {0, 0, 0, 0}, trad, simp;
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    pthread_once(&script_once, script_init);
    while (end - p >= 3) {
        unsigned b = p[0], b1 = p[1], b2 = p[2];
        if (b < 0x80) { /* ASCII */
            p++;
            continue;
        }
        if (b - 0xE3 <= 0xE9 - 0xE3 && ((b1 ^ 0x80) | (b2 ^ 0x80)) < 0x40) {
            /* E3..E9 lead: always U+3000..U+9FFF, never overlong */
            cnt[script_class[(b - 0xE3) << 12 | (b1 & 0x3F) << 6 | (b2 & 0x3F)]]++;
            p += 3;
            continue;
        }
        p += script_other(p, (size_t)(end - p), cnt);
    }
    while (p < end)
        p += p[0] < 0x80 ? 1 : script_other(p, (size_t)(end - p), cnt);
    trad = cnt[1] + cnt[3];
    simp = cnt[2] + cnt[3];
    return ext_script_verdict(trad, simp);
}

const char *ext_script_verdict(size_t trad, size_t simp)
{
    /* Spun or partly converted pages mix a few characters of the other
     * script; call a text mixed only when the minority passes 10%. */
    if (trad * 10 > trad + simp && simp * 10 > trad + simp)
        return "mixed";
    return trad > simp ? "traditional" : "simplified";
}

void ext_script_mark(uint8_t *cls, unsigned trad_bit, unsigned simp_bit)
{
    pthread_once(&script_once, script_init);
    for (uint32_t c = 0x3000; c < 0xA000; c++) {
        unsigned k = script_class[c - 0x3000];
        cls[c] |= (uint8_t)((k & 1 ? trad_bit : 0) | (k & 2 ? simp_bit : 0));
    }
}
