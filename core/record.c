/*
 * record.c - records: a small array of named, typed fields plus an optional
 * shared acknowledgement.
 *
 * Records hold a handful of fields (10-30), so a linear scan over names beats
 * hashing.  Every BYTES and JSON value is stored with a trailing NUL so stages
 * may treat text as C strings.
 */
#include "core.h"

#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h> /* PREFETCHW detection */
#endif

/* One record family's acknowledgement: callbacks run once, in the order
 * attached, when the last copy is finished. */
#define MAX_ACK_FNS 4
typedef struct tj_ack {
    tj_ack_fn fn[MAX_ACK_FNS];
    void *arg[MAX_ACK_FNS];
    int nfn;
    atomic_int refs;
    atomic_int worst; /* highest tj_ack_status seen */
} tj_ack;

/* Field storage.  A record holds its fields in chunks of eight: the first
 * chunk lives inside the record, later ones are linked.  Fields never move,
 * so a pointer from tj_record_get stays valid while other fields are added
 * or deleted (deletion leaves a tombstone).  Short names and short values
 * are stored inline, so a small record costs one allocation.
 *
 * Sizes are chosen for the cache: a field is 48 bytes and the header 32,
 * so a record of two fields (a shell is 64-byte aligned) fills exactly two
 * cache lines.  Records are made on one core and read and freed on
 * others, and every line is a transfer: measured in the commit that made
 * this layout. */
#define CHUNK_FIELDS 8
#define NAME_INLINE 24 /* names up to 23 bytes live in the field */
#define VALUE_INLINE 16 /* values up to 15 bytes do too */

typedef struct field {
    union {
        char in[NAME_INLINE];
        char *heap; /* when name_on_heap */
    } name;
    uint8_t type; /* tj_field_type; TJ_FIELD_NONE: deleted */
    bool value_inline;
    bool name_on_heap;
    uint32_t len; /* TJ_FIELD_MAX_LEN at most (stage.h) */
    union {
        char *bytes;
        int64_t i;
        double d;
        char small[VALUE_INLINE];
    } v;
} field;

_Static_assert(sizeof(field) == 48, "a field is 48 bytes");

typedef struct chunk {
    field f[CHUNK_FIELDS];
    struct chunk *next;
} chunk;

struct tj_record {
    uint32_t used;  /* slots used, tombstones included */
    uint32_t live;  /* fields present */
    uint32_t owned; /* heap names and values held by fields */
    size_t bytes;   /* payload bytes, for counters */
    tj_ack *ack;
    chunk first;
};

_Static_assert(offsetof(struct tj_record, first) == 32,
               "the header is 32 bytes");

#define SHELL_SIZE ((sizeof(tj_record) + 63) / 64 * 64)

/* Record shells are recycled through per-thread magazines: a record is
 * usually made on the source's thread and freed on a sink's, which glibc
 * handles with a locked arena per free.  Each thread keeps up to
 * MAG_SIZE free shells; a full magazine moves to a global depot under one
 * lock, and an empty thread takes a whole magazine back, so the lock is
 * taken once per MAG_SIZE records.  Sanitizer builds use plain malloc so
 * use-after-free stays detectable. */
#if defined(__SANITIZE_ADDRESS__)
#define RECORD_POOL 0
#else
#define RECORD_POOL 1
#endif
#define MAG_SIZE 64
#define DEPOT_MAX 256 /* magazines kept globally (beyond: freed) */

typedef struct magazine {
    struct magazine *next;
    size_t n;
    tj_record *items[MAG_SIZE];
} magazine;

static pthread_mutex_t depot_lock = PTHREAD_MUTEX_INITIALIZER;
static magazine *depot_full;
static size_t depot_count;
static __thread magazine *local_mag;
static pthread_key_t mag_key;
static pthread_once_t mag_once = PTHREAD_ONCE_INIT;

static void mag_release(magazine *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->items[i]);
    free(m);
}

/* A thread's magazine goes to the depot when the thread ends. */
static void mag_thread_exit(void *arg)
{
    magazine *m = arg;
    pthread_mutex_lock(&depot_lock);
    if (depot_count < DEPOT_MAX && m->n) {
        m->next = depot_full;
        depot_full = m;
        depot_count++;
        m = NULL;
    }
    pthread_mutex_unlock(&depot_lock);
    if (m)
        mag_release(m);
}

/* A prefetch for writing: the line arrives owned, so the stores that
 * follow need no second transfer.  x86 has it as PREFETCHW where CPUID
 * says so (checked once), a plain prefetch elsewhere. */
#if defined(__x86_64__) || defined(__i386__)
static bool has_prefetchw;

static void prefetchw_detect(void)
{
    unsigned a, b, c, d;
    has_prefetchw = __get_cpuid(0x80000001, &a, &b, &c, &d) && (c & (1u << 8));
}

static inline void prefetch_for_write(const char *p)
{
    if (has_prefetchw)
        __asm__ volatile("prefetchw %0" : : "m"(*p));
    else
        __builtin_prefetch(p, 1);
}
#else
static void prefetchw_detect(void) {}
static inline void prefetch_for_write(const char *p) { __builtin_prefetch(p, 1); }
#endif

static void mag_init(void)
{
    prefetchw_detect();
    pthread_key_create(&mag_key, mag_thread_exit);
}

static magazine *my_mag(void)
{
    if (!local_mag) {
        pthread_once(&mag_once, mag_init);
        local_mag = calloc(1, sizeof *local_mag);
        if (local_mag)
            pthread_setspecific(mag_key, local_mag);
    }
    return local_mag;
}

static tj_record *shell_get(void)
{
    magazine *m = RECORD_POOL ? my_mag() : NULL;
    if (m && !m->n && depot_full) { /* unlocked peek: a hint only */
        pthread_mutex_lock(&depot_lock);
        magazine *full = depot_full;
        if (full) {
            depot_full = full->next;
            depot_count--;
        }
        pthread_mutex_unlock(&depot_lock);
        if (full) {
            free(m);
            local_mag = m = full;
            m->next = NULL;
            pthread_setspecific(mag_key, m);
        }
    }
    if (m && m->n) {
        tj_record *r = m->items[--m->n];
        /* The next shell was last written by a sink, likely on the other
         * core: ask now, for writing, for the two lines a record of two
         * fields fills, so that the source's stores to it do not each wait
         * for a transfer (a read prefetch would bring the lines shared and
         * each first store would still wait).  Measured: see the commits
         * that brought it back and made it a write prefetch. */
        if (m->n) {
            const char *next = (const char *)m->items[m->n - 1];
            prefetch_for_write(next);
            prefetch_for_write(next + 64);
        }
        return r;
    }
    tj_record *r = aligned_alloc(64, SHELL_SIZE);
    if (r)
        r->first.next = NULL; /* as every pooled shell's is */
    return r;
}

static void shell_put(tj_record *r)
{
    magazine *m = RECORD_POOL ? my_mag() : NULL;
    if (!m) {
        free(r);
        return;
    }
    if (m->n == MAG_SIZE) {
        magazine *fresh = calloc(1, sizeof *fresh);
        if (!fresh) {
            free(r);
            return;
        }
        pthread_mutex_lock(&depot_lock);
        bool kept = depot_count < DEPOT_MAX;
        if (kept) {
            m->next = depot_full;
            depot_full = m;
            depot_count++;
        }
        pthread_mutex_unlock(&depot_lock);
        if (!kept)
            mag_release(m);
        local_mag = m = fresh;
        pthread_setspecific(mag_key, m);
    }
    m->items[m->n++] = r;
}

tj_record *tj__record_new(void)
{
    tj_record *r = shell_get();
    if (r) {
        /* first.next is NULL already (shell_get): it lies at the end of
         * the shell, a line the source need not fetch */
        r->used = r->live = r->bytes = r->owned = 0;
        r->ack = NULL;
    }
    return r;
}

static const char *fname(const field *f)
{
    return f->name_on_heap ? f->name.heap : f->name.in;
}

static char *fbytes(field *f) { return f->value_inline ? f->v.small : f->v.bytes; }

/* Releases a field's heap name. */
static void name_free(tj_record *rec, field *f)
{
    if (f->name_on_heap) {
        free(f->name.heap);
        f->name_on_heap = false;
        rec->owned--;
    }
}

static field *slot(const tj_record *rec, size_t i)
{
    const chunk *c = &rec->first;
    for (; i >= CHUNK_FIELDS; i -= CHUNK_FIELDS)
        c = c->next;
    return (field *)&c->f[i];
}

static void field_clear(tj_record *rec, field *f)
{
    if ((f->type == TJ_FIELD_BYTES || f->type == TJ_FIELD_JSON) &&
        !f->value_inline) {
        free(f->v.bytes);
        rec->owned--;
    }
    if (f->type == TJ_FIELD_BYTES || f->type == TJ_FIELD_JSON)
        rec->bytes -= f->len;
    f->value_inline = false;
    f->v.bytes = NULL;
    f->len = 0;
}

static field *find(const tj_record *rec, const char *name)
{
    if (!rec || !name)
        return NULL;
    const chunk *c = &rec->first;
    for (size_t i = 0; i < rec->used; i++) {
        if (i && i % CHUNK_FIELDS == 0)
            c = c->next;
        field *f = (field *)&c->f[i % CHUNK_FIELDS];
        const char *fn = fname(f);
        if (fn[0] == name[0] && f->type != TJ_FIELD_NONE &&
            strcmp(fn, name) == 0)
            return f;
    }
    return NULL;
}

/* The slot after the last one used (not yet counted in rec->used), in a
 * chunk added when the last is full; NULL when out of memory. */
static field *next_slot(tj_record *rec)
{
    size_t at = rec->used;
    if (at == UINT32_MAX)
        return NULL;
    if (!at || at % CHUNK_FIELDS)
        return slot(rec, at);
    chunk *c = malloc(sizeof *c), *last = &rec->first; /* the last is full */
    if (!c)
        return NULL;
    c->next = NULL;
    while (last->next)
        last = last->next;
    last->next = c;
    return &c->f[0];
}

/* Returns the field called name (its old value released), or a new empty
 * one at the end; NULL when out of memory. */
static field *find_or_add(tj_record *rec, const char *name)
{
    field *f = rec->used ? find(rec, name) : NULL; /* a new record: none */
    if (f) {
        field_clear(rec, f);
        return f;
    }
    if (!(f = next_slot(rec)))
        return NULL;
    /* names are short: copied inline while measured, one pass and no
     * strlen + memcpy calls (a tenth of making a small record); on a
     * failure below the slot stays unused, so nothing reads it */
    size_t nl = 0;
    while (nl < NAME_INLINE && (f->name.in[nl] = name[nl]) != 0)
        nl++;
    f->name_on_heap = false;
    if (nl == NAME_INLINE) { /* too long for inline */
        char *heap = strdup(name);
        if (!heap)
            return NULL;
        f->name.heap = heap;
        f->name_on_heap = true;
        rec->owned++;
    }
    f->type = TJ_FIELD_INT; /* placeholder until the caller sets it */
    f->value_inline = false;
    f->len = 0;
    rec->used++;
    rec->live++;
    return f;
}

/* Releases one reference to an acknowledgement, running it on the last. */
static void ack_release(tj_ack *ack, tj_ack_status status)
{
    int worst = atomic_load(&ack->worst);
    /* FAILED outranks DELIVERED outranks DROPPED for the family's outcome */
    static const int rank[] = {1, 0, 2};
    while (rank[status] > rank[worst] &&
           !atomic_compare_exchange_weak(&ack->worst, &worst, (int)status))
        ;
    if (atomic_fetch_sub(&ack->refs, 1) == 1) {
        tj_ack_status final = (tj_ack_status)atomic_load(&ack->worst);
        for (int i = 0; i < ack->nfn; i++)
            ack->fn[i](ack->arg[i], final);
        free(ack);
    }
}

/* Frees the record and reports `status` to its acknowledgement. */
void tj__record_finish(tj_record *rec, tj_ack_status status)
{
    if (!rec)
        return;
    /* Fields with nothing on the heap need no visit: a sink on another
     * core then touches only the record's first line, not every field's */
    for (size_t i = 0; rec->owned && i < rec->used; i++) {
        field *f = slot(rec, i);
        field_clear(rec, f);
        name_free(rec, f);
    }
    if (rec->used > CHUNK_FIELDS) { /* only then are there more chunks */
        for (chunk *c = rec->first.next, *next; c; c = next) {
            next = c->next;
            free(c);
        }
        rec->first.next = NULL; /* the pool's shells keep it so */
    }
    if (rec->ack)
        ack_release(rec->ack, status);
    shell_put(rec);
}

/* Frees a record no stage delivered: its family counts it as dropped. */
void tj__record_free(tj_record *rec) { tj__record_finish(rec, TJ_ACK_DROPPED); }

/* Appends a copy of field src to rec, its heap name and value copied too.
 * 0, or TJ_ENOMEM with rec unchanged. */
static int field_copy(tj_record *rec, const field *src)
{
    field *f = next_slot(rec);
    bool text = src->type == TJ_FIELD_BYTES || src->type == TJ_FIELD_JSON;
    if (!f)
        return TJ_ENOMEM;
    *f = *src;
    if (src->name_on_heap && !(f->name.heap = strdup(src->name.heap)))
        return TJ_ENOMEM;
    if (text && !src->value_inline) {
        if (!(f->v.bytes = malloc((size_t)src->len + 1))) {
            if (src->name_on_heap)
                free(f->name.heap);
            return TJ_ENOMEM;
        }
        memcpy(f->v.bytes, src->v.bytes, (size_t)src->len + 1); /* + NUL */
        rec->owned++;
    }
    rec->owned += src->name_on_heap;
    rec->bytes += text ? src->len : 0;
    rec->used++;
    rec->live++;
    return 0;
}

/* Deep copy sharing the acknowledgement; NULL when out of memory.  Slot
 * by slot, deleted ones left out: no lookup by name (a clone per record
 * for each extra sink; the lookups were most of its cost). */
tj_record *tj__record_clone(const tj_record *rec)
{
    tj_record *c = tj__record_new();
    if (!c || !rec)
        return c;
    const chunk *ch = &rec->first;
    for (size_t i = 0; i < rec->used; i++) {
        if (i && i % CHUNK_FIELDS == 0)
            ch = ch->next;
        const field *f = &ch->f[i % CHUNK_FIELDS];
        if (f->type != TJ_FIELD_NONE && field_copy(c, f)) {
            tj__record_finish(c, TJ_ACK_DROPPED);
            return NULL;
        }
    }
    if (rec->ack) {
        c->ack = rec->ack;
        atomic_fetch_add(&c->ack->refs, 1);
    }
    return c;
}

/* Payload size in bytes of the text fields (for the bytes counters). */
size_t tj__record_bytes(const tj_record *rec) { return rec ? rec->bytes : 0; }

/* Attaches a callback to the record's family acknowledgement, creating
 * the family when the record has none.  The caller must own rec (no copy of
 * it may be finishing concurrently).  TJ_EINVAL past MAX_ACK_FNS. */
int tj__record_set_ack(tj_record *rec, tj_ack_fn fn, void *arg)
{
    if (!rec || !fn)
        return TJ_EINVAL;
    if (!rec->ack) {
        if (!(rec->ack = calloc(1, sizeof *rec->ack)))
            return TJ_ENOMEM;
        atomic_init(&rec->ack->refs, 1);
        atomic_init(&rec->ack->worst, TJ_ACK_DROPPED);
    }
    tj_ack *a = rec->ack;
    if (a->nfn == MAX_ACK_FNS)
        return TJ_EINVAL;
    a->fn[a->nfn] = fn;
    a->arg[a->nfn++] = arg;
    return 0;
}

tj_field_type tj__record_type(const tj_record *rec, const char *name)
{
    field *f = find(rec, name);
    return f ? f->type : TJ_FIELD_NONE;
}

/* Bytes of a BYTES field or text of a JSON field; NULL otherwise. */
const void *tj__record_get(const tj_record *rec, const char *name, size_t *len)
{
    field *f = find(rec, name);
    if (!f || (f->type != TJ_FIELD_BYTES && f->type != TJ_FIELD_JSON)) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = f->len;
    return fbytes(f);
}

/* Reads an INT field (a DOUBLE is truncated); TJ_ENOENT / TJ_ETYPE. */
int tj__record_get_int(const tj_record *rec, const char *name, int64_t *out)
{
    field *f = find(rec, name);
    if (!f)
        return TJ_ENOENT;
    if (f->type == TJ_FIELD_INT)
        *out = f->v.i;
    else if (f->type == TJ_FIELD_DOUBLE)
        *out = (int64_t)f->v.d;
    else
        return TJ_ETYPE;
    return 0;
}

/* Reads a DOUBLE field (an INT is converted); TJ_ENOENT / TJ_ETYPE. */
int tj__record_get_double(const tj_record *rec, const char *name, double *out)
{
    field *f = find(rec, name);
    if (!f)
        return TJ_ENOENT;
    if (f->type == TJ_FIELD_DOUBLE)
        *out = f->v.d;
    else if (f->type == TJ_FIELD_INT)
        *out = (double)f->v.i;
    else
        return TJ_ETYPE;
    return 0;
}

/* Takes a malloc()ed buffer with room for len + 1 bytes. */
int tj__record_take_bytes(tj_record *rec, const char *name, void *data,
                          size_t len)
{
    if (!rec || !name || len > TJ_FIELD_MAX_LEN) {
        free(data);
        return TJ_EINVAL;
    }
    field *f = find_or_add(rec, name);
    if (!f) {
        free(data);
        return TJ_ENOMEM;
    }
    if (!data && !(data = malloc(1)))
        return TJ_ENOMEM;
    ((char *)data)[len] = 0;
    f->type = TJ_FIELD_BYTES;
    f->v.bytes = data;
    f->len = len;
    rec->bytes += len;
    rec->owned++;
    return 0;
}

/* Copies len bytes into the field (inline when short). */
int tj__record_set_bytes(tj_record *rec, const char *name, const void *data,
                         size_t len)
{
    if (!rec || !name || (!data && len) || len > TJ_FIELD_MAX_LEN)
        return TJ_EINVAL;
    if (len >= VALUE_INLINE) {
        char *copy = malloc(len + 1);
        if (!copy)
            return TJ_ENOMEM;
        memcpy(copy, data, len);
        /* copied before the old value is released: data may alias it */
        return tj__record_take_bytes(rec, name, copy, len);
    }
    char tmp[VALUE_INLINE];
    if (len)
        memcpy(tmp, data, len);
    field *f = find_or_add(rec, name);
    if (!f)
        return TJ_ENOMEM;
    memcpy(f->v.small, tmp, len);
    f->v.small[len] = 0;
    f->value_inline = true;
    f->type = TJ_FIELD_BYTES;
    f->len = len;
    rec->bytes += len;
    return 0;
}

int tj__record_set_int(tj_record *rec, const char *name, int64_t v)
{
    field *f = rec && name ? find_or_add(rec, name) : NULL;
    if (!f)
        return rec && name ? TJ_ENOMEM : TJ_EINVAL;
    f->type = TJ_FIELD_INT;
    f->v.i = v;
    f->len = sizeof v;
    return 0;
}

int tj__record_set_double(tj_record *rec, const char *name, double v)
{
    field *f = rec && name ? find_or_add(rec, name) : NULL;
    if (!f)
        return rec && name ? TJ_ENOMEM : TJ_EINVAL;
    f->type = TJ_FIELD_DOUBLE;
    f->v.d = v;
    f->len = sizeof v;
    return 0;
}

/* Stores JSON text after checking it is exactly one JSON value (RFC 8259,
 * so raw control characters in strings are refused). */
int tj__record_set_json(tj_record *rec, const char *name, const char *json,
                        size_t len)
{
    if (!rec || !name || !json)
        return TJ_EINVAL;
    if (!tj__json_valid(json, len))
        return TJ_EPARSE;
    int rc = tj__record_set_bytes(rec, name, json, len);
    if (!rc)
        find(rec, name)->type = TJ_FIELD_JSON;
    return rc;
}

/* Removes a field; TJ_ENOENT when absent.  Keeps the others' order and
 * addresses (the slot becomes a tombstone). */
int tj__record_del(tj_record *rec, const char *name)
{
    field *f = find(rec, name);
    if (!f)
        return TJ_ENOENT;
    field_clear(rec, f);
    name_free(rec, f);
    f->type = TJ_FIELD_NONE;
    rec->live--;
    return 0;
}

size_t tj__record_count(const tj_record *rec) { return rec ? rec->live : 0; }

/* Name and type of the i-th live field in insertion order. */
const char *tj__record_field_at(const tj_record *rec, size_t i,
                                tj_field_type *type)
{
    if (!rec || i >= rec->live)
        return NULL;
    if (rec->live == rec->used) { /* no deleted slots: field i is slot i */
        field *f = slot(rec, i);
        if (type)
            *type = f->type;
        return fname(f);
    }
    for (size_t k = 0; k < rec->used; k++) {
        field *f = slot(rec, k);
        if (f->type == TJ_FIELD_NONE)
            continue;
        if (i-- == 0) {
            if (type)
                *type = f->type;
            return fname(f);
        }
    }
    return NULL;
}
