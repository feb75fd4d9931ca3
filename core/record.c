/*
 * record.c - records: a small array of named, typed fields plus an optional
 * shared acknowledgement.
 *
 * Records hold a handful of fields (10-30), so a linear scan over names beats
 * hashing.  Every BYTES and JSON value is stored with a trailing NUL so stages
 * may treat text as C strings.
 */
#include "core.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

typedef struct tj_ack {
    tj_ack_fn fn;
    void *arg;
    atomic_int refs;
    atomic_int worst; /* highest tj_ack_status seen */
} tj_ack;

typedef struct field {
    char *name;
    tj_field_type type;
    size_t len;
    union {
        char *bytes;
        int64_t i;
        double d;
    } v;
} field;

struct tj_record {
    field *f;
    size_t n, cap;
    tj_ack *ack;
};

tj_record *tj__record_new(void) { return calloc(1, sizeof(tj_record)); }

static void field_clear(field *f)
{
    if (f->type == TJ_FIELD_BYTES || f->type == TJ_FIELD_JSON)
        free(f->v.bytes);
    f->v.bytes = NULL;
    f->len = 0;
}

static field *find(const tj_record *rec, const char *name)
{
    if (!rec || !name)
        return NULL;
    for (size_t i = 0; i < rec->n; i++)
        if (strcmp(rec->f[i].name, name) == 0)
            return &rec->f[i];
    return NULL;
}

/* Returns the field called name, creating an empty one at the end. */
static field *find_or_add(tj_record *rec, const char *name)
{
    field *f = find(rec, name);
    if (f) {
        field_clear(f);
        return f;
    }
    if (rec->n == rec->cap) {
        size_t cap = rec->cap ? rec->cap * 2 : 8;
        field *nf = realloc(rec->f, cap * sizeof *nf);
        if (!nf)
            return NULL;
        rec->f = nf;
        rec->cap = cap;
    }
    f = &rec->f[rec->n];
    memset(f, 0, sizeof *f);
    if (!(f->name = strdup(name)))
        return NULL;
    rec->n++;
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
        ack->fn(ack->arg, (tj_ack_status)atomic_load(&ack->worst));
        free(ack);
    }
}

/* Frees the record and reports `status` to its acknowledgement. */
void tj__record_finish(tj_record *rec, tj_ack_status status)
{
    if (!rec)
        return;
    for (size_t i = 0; i < rec->n; i++) {
        field_clear(&rec->f[i]);
        free(rec->f[i].name);
    }
    free(rec->f);
    if (rec->ack)
        ack_release(rec->ack, status);
    free(rec);
}

/* Frees a record no stage delivered: its family counts it as dropped. */
void tj__record_free(tj_record *rec) { tj__record_finish(rec, TJ_ACK_DROPPED); }

/* Deep copy sharing the acknowledgement; NULL when out of memory. */
tj_record *tj__record_clone(const tj_record *rec)
{
    tj_record *c = tj__record_new();
    if (!c || !rec)
        return c;
    for (size_t i = 0; i < rec->n; i++) {
        const field *f = &rec->f[i];
        int rc = 0;
        switch (f->type) {
        case TJ_FIELD_BYTES:
            rc = tj__record_set_bytes(c, f->name, f->v.bytes, f->len);
            break;
        case TJ_FIELD_JSON:
            rc = tj__record_set_bytes(c, f->name, f->v.bytes, f->len);
            if (!rc)
                find(c, f->name)->type = TJ_FIELD_JSON;
            break;
        case TJ_FIELD_INT:
            rc = tj__record_set_int(c, f->name, f->v.i);
            break;
        default:
            rc = tj__record_set_double(c, f->name, f->v.d);
        }
        if (rc) {
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

/* Approximate payload size in bytes (for the bytes counters). */
size_t tj__record_bytes(const tj_record *rec)
{
    size_t n = 0;
    for (size_t i = 0; rec && i < rec->n; i++)
        n += rec->f[i].len;
    return n;
}

/* Attaches an acknowledgement; TJ_EINVAL if the record already has one. */
int tj__record_set_ack(tj_record *rec, tj_ack_fn fn, void *arg)
{
    if (!rec || !fn || rec->ack)
        return TJ_EINVAL;
    tj_ack *a = calloc(1, sizeof *a);
    if (!a)
        return TJ_ENOMEM;
    a->fn = fn;
    a->arg = arg;
    atomic_init(&a->refs, 1);
    atomic_init(&a->worst, TJ_ACK_DROPPED);
    rec->ack = a;
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
    return f->v.bytes;
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
    field *f = rec && name ? find_or_add(rec, name) : NULL;
    if (!f) {
        free(data);
        return rec && name ? TJ_ENOMEM : TJ_EINVAL;
    }
    if (!data && !(data = malloc(1)))
        return TJ_ENOMEM;
    ((char *)data)[len] = 0;
    f->type = TJ_FIELD_BYTES;
    f->v.bytes = data;
    f->len = len;
    return 0;
}

int tj__record_set_bytes(tj_record *rec, const char *name, const void *data,
                         size_t len)
{
    if (!rec || !name || (!data && len))
        return TJ_EINVAL;
    char *copy = malloc(len + 1);
    if (!copy)
        return TJ_ENOMEM;
    if (len)
        memcpy(copy, data, len);
    /* the source may alias the field being replaced: copy first */
    return tj__record_take_bytes(rec, name, copy, len);
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

/* Stores JSON text after checking it is exactly one JSON value. */
int tj__record_set_json(tj_record *rec, const char *name, const char *json,
                        size_t len)
{
    if (!rec || !name || !json)
        return TJ_EINVAL;
    const char *end = NULL;
    cJSON *v = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!v)
        return TJ_EPARSE;
    cJSON_Delete(v);
    while (end < json + len && (*end == ' ' || *end == '\n' || *end == '\t' ||
                                *end == '\r' || *end == 0))
        end++;
    if (end != json + len)
        return TJ_EPARSE;
    int rc = tj__record_set_bytes(rec, name, json, len);
    if (!rc)
        find(rec, name)->type = TJ_FIELD_JSON;
    return rc;
}

/* Removes a field; TJ_ENOENT when absent.  Keeps the others' order. */
int tj__record_del(tj_record *rec, const char *name)
{
    field *f = find(rec, name);
    if (!f)
        return TJ_ENOENT;
    field_clear(f);
    free(f->name);
    size_t i = (size_t)(f - rec->f);
    memmove(&rec->f[i], &rec->f[i + 1], (rec->n - i - 1) * sizeof *f);
    rec->n--;
    return 0;
}

size_t tj__record_count(const tj_record *rec) { return rec ? rec->n : 0; }

const char *tj__record_field_at(const tj_record *rec, size_t i,
                                tj_field_type *type)
{
    if (!rec || i >= rec->n)
        return NULL;
    if (type)
        *type = rec->f[i].type;
    return rec->f[i].name;
}
