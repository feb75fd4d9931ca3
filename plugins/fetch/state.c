/*
 * state.c - what incremental fetching remembers about each URL, in the
 * pipeline's state database (namespace "fetch", key = the URL as queued):
 *
 *     {"etag": "\"v3\"", "last_modified": "Wed, 05 Mar 2025 02:05:00 GMT",
 *      "sha256": "9f86d0...", "mtime": "1741140300.123456789", "size": 5120}
 *
 * (etag/last_modified for HTTP, mtime/size for local files; sha256 always.)
 * A new entry is written only from the record's acknowledgement, once the
 * record was delivered (exported) or deliberately dropped downstream, so a
 * run that dies before the export commits leaves the old entry and the
 * next run fetches the page again.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "fetch.h"

#define NS "fetch"

void fstate_clear(fstate *s)
{
    free(s->etag);
    free(s->last_modified);
    free(s->mtime);
    memset(s, 0, sizeof *s);
    s->size = -1;
}

/* A malloc()ed copy of the string member `name` of o, or NULL. */
static char *member(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) && v->valuestring[0] ? strdup(v->valuestring)
                                                  : NULL;
}

int fstate_load(tj_ctx *ctx, const char *url, fstate *out)
{
    char *text = NULL;
    memset(out, 0, sizeof *out);
    out->size = -1;
    int rc = tj_state_get(ctx, NS, url, &text);
    if (rc == TJ_ENOENT)
        return 0;
    if (rc)
        return rc;
    cJSON *o = cJSON_Parse(text);
    free(text);
    if (!cJSON_IsObject(o)) { /* unreadable: as if never seen */
        cJSON_Delete(o);
        return 0;
    }
    out->etag = member(o, "etag");
    out->last_modified = member(o, "last_modified");
    out->mtime = member(o, "mtime");
    char *sha = member(o, "sha256");
    if (sha && strlen(sha) == 64)
        memcpy(out->sha256, sha, 65);
    free(sha);
    const cJSON *size = cJSON_GetObjectItemCaseSensitive(o, "size");
    if (cJSON_IsNumber(size))
        out->size = (long long)size->valuedouble;
    cJSON_Delete(o);
    return 1;
}

/* The JSON text of s (malloc()ed), or NULL when out of memory. */
static char *to_json(const fstate *s)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    int bad = 0;
    if (s->etag)
        bad |= !cJSON_AddStringToObject(o, "etag", s->etag);
    if (s->last_modified)
        bad |= !cJSON_AddStringToObject(o, "last_modified", s->last_modified);
    if (s->sha256[0])
        bad |= !cJSON_AddStringToObject(o, "sha256", s->sha256);
    if (s->mtime)
        bad |= !cJSON_AddStringToObject(o, "mtime", s->mtime);
    if (s->size >= 0)
        bad |= !cJSON_AddNumberToObject(o, "size", (double)s->size);
    char *text = bad ? NULL : cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

int fstate_store(tj_ctx *ctx, const char *url, const fstate *s)
{
    char *text = to_json(s);
    if (!text)
        return TJ_ENOMEM;
    int rc = tj_state_put(ctx, NS, url, text);
    free(text);
    return rc;
}

static int same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

int fstate_same(const fstate *a, const fstate *b)
{
    return same_str(a->etag, b->etag) &&
           same_str(a->last_modified, b->last_modified) &&
           same_str(a->mtime, b->mtime) && a->size == b->size &&
           !strcmp(a->sha256, b->sha256);
}

/* ---- the acknowledgement ------------------------------------------------ */

typedef struct pending {
    tj_ctx *ctx;
    char *url;
    char *json; /* the entry to store */
} pending;

/* Runs once per record family.  Stores the entry when the record was
 * delivered or dropped on purpose; a failed record leaves the old entry
 * so that the next run tries the URL again.  Never touches the stage
 * instance: on failure the host may call it after the stage's fini. */
static void on_ack(void *arg, tj_ack_status status)
{
    pending *p = arg;
    if (status != TJ_ACK_FAILED)
        tj_state_put(p->ctx, NS, p->url, p->json);
    free(p->url);
    free(p->json);
    free(p);
}

int fstate_on_ack(tj_ctx *ctx, tj_record *rec, const char *url,
                  const fstate *s)
{
    int rc = TJ_ENOMEM;
    pending *p = calloc(1, sizeof *p);
    if (!p || !(p->url = strdup(url)) || !(p->json = to_json(s)))
        goto fail;
    p->ctx = ctx;
    if ((rc = tj_record_set_ack(rec, on_ack, p)) == 0)
        return 0;
fail:
    if (p) {
        free(p->url);
        free(p->json);
    }
    free(p);
    return rc;
}
