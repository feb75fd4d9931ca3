/*
 * harness.c - a single-threaded driver for one stage (tests, fuzzing).
 * It uses the same option conversion and the same process rules as the
 * runner (api.c), so a stage behaves here as it does in `taojin run`.
 */
#include "ctx.h"
#include "harness.h"
#include "options.h"
#include "state.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct tj_harness {
    tj_ctx ctx;
    tj_config cfg;
    tj_node *with;
    tj_record **q; /* emitted, not yet taken */
    size_t qhead, qlen, qcap;
    int stop;
    char lasterr[1024];
};

static int h_emit(tj_ctx *ctx, tj_record *rec)
{
    tj_harness *h = ctx->owner;
    if (h->qhead + h->qlen == h->qcap) {
        if (h->qhead) {
            memmove(h->q, h->q + h->qhead, h->qlen * sizeof *h->q);
            h->qhead = 0;
        } else {
            size_t cap = h->qcap ? h->qcap * 2 : 16;
            tj_record **q = realloc(h->q, cap * sizeof *q);
            if (!q) {
                tj__record_finish(rec, TJ_ACK_FAILED);
                return TJ_ENOMEM;
            }
            h->q = q;
            h->qcap = cap;
        }
    }
    h->q[h->qhead + h->qlen++] = rec;
    return 0;
}

static int h_should_stop(tj_ctx *ctx) { return ((tj_harness *)ctx->owner)->stop; }

static void h_fail_run(tj_ctx *ctx, const char *msg)
{
    tj_harness *h = ctx->owner;
    snprintf(h->lasterr, sizeof h->lasterr, "%s", msg);
    h->stop = 1;
}

static const tj_ctx_ops harness_ops = {h_emit, h_should_stop, h_fail_run};

/* Builds the `with` mapping from "name=value" strings. */
static tj_node *options_map(const char *const *opts, tj_err *err)
{
    tj_node *map = tj__node_new_map("(options)");
    for (size_t i = 0; map && opts && opts[i]; i++) {
        const char *eq = strchr(opts[i], '=');
        if (!eq) {
            tj__errf(err, TJ_ECONFIG, "option '%s' is not name=value", opts[i]);
            tj__node_free(map);
            return NULL;
        }
        char *key = strndup(opts[i], (size_t)(eq - opts[i]));
        tj_node *v = tj__node_from_arg(eq + 1, "(options)");
        if (!key || !v || tj__node_map_set(map, key, v)) {
            free(key);
            tj__node_free(map);
            return NULL;
        }
        free(key);
    }
    return map;
}

struct tj_harness_state {
    tj_state *st;
    char dir[PATH_MAX];  /* made by mkdtemp, removed by free */
    char path[PATH_MAX + 16]; /* dir/state.db */
    char *last;               /* the value tj_harness_state_get gave */
};

tj_harness *tj_harness_new(const tj_stage_desc *desc, const char *const *opts,
                           char **errout)
{
    return tj_harness_new_with_state(desc, opts, NULL, errout);
}

tj_harness *tj_harness_new_with_state(const tj_stage_desc *desc,
                                      const char *const *opts,
                                      tj_harness_state *db, char **errout)
{
    tj_err err = {{0}};
    tj_harness *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    tj__ctx_setup(&h->ctx, desc, desc->name, 0, &harness_ops, h);
    h->ctx.state_db = db ? db->st : NULL;
    h->with = options_map(opts, &err);
    if (!h->with)
        goto fail;
    if (tj__options_convert(desc, desc->name, h->with, h->with, &h->cfg, &err))
        goto fail;
    h->ctx.config = h->cfg.data;
    if (tj__ctx_init(&h->ctx, &err))
        goto fail;
    return h;
fail:
    if (errout)
        *errout = strdup(err.msg[0] ? err.msg : "out of memory");
    tj_harness_free(h);
    return NULL;
}

static void remember_error(tj_harness *h, int rc)
{
    h->lasterr[0] = 0;
    if (h->ctx.has_error)
        snprintf(h->lasterr, sizeof h->lasterr, "%s", h->ctx.errmsg);
    else if (rc < 0)
        snprintf(h->lasterr, sizeof h->lasterr, "%s", tj__strerror(rc));
}

int tj_harness_process(tj_harness *h, tj_record *rec)
{
    int rc = tj__ctx_process(&h->ctx, rec);
    remember_error(h, rc);
    return rc;
}

int tj_harness_produce(tj_harness *h)
{
    if (!h->ctx.desc->produce)
        return TJ_EINVAL;
    int rc = tj__ctx_produce(&h->ctx);
    remember_error(h, rc);
    return rc;
}

int tj_harness_flush(tj_harness *h)
{
    int rc = tj__ctx_flush(&h->ctx);
    remember_error(h, rc);
    return rc;
}

tj_record *tj_harness_next(tj_harness *h)
{
    if (!h->qlen)
        return NULL;
    h->qlen--;
    return h->q[h->qhead++];
}

const char *tj_harness_error(tj_harness *h)
{
    if (h->ctx.has_error)
        return h->ctx.errmsg;
    return h->lasterr[0] ? h->lasterr : h->ctx.lastfail;
}

int64_t tj_harness_counter(tj_harness *h, const char *name)
{
    return tj__ctx_counter(&h->ctx, name);
}

void tj_harness_stop(tj_harness *h) { h->stop = 1; }

void tj_harness_free(tj_harness *h)
{
    if (!h)
        return;
    tj__ctx_teardown(&h->ctx);
    tj_record *r;
    while ((r = tj_harness_next(h)))
        tj__record_free(r);
    free(h->q);
    tj__config_free(&h->cfg);
    tj__node_free(h->with);
    free(h);
}

tj_harness_state *tj_harness_state_new(char **errout)
{
    tj_err err = {{0}};
    const char *tmp = getenv("TMPDIR");
    tj_harness_state *db = calloc(1, sizeof *db);
    if (!db)
        goto fail;
    snprintf(db->dir, sizeof db->dir, "%s/tjstate.XXXXXX",
             tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(db->dir)) {
        tj__errf(&err, TJ_EIO, "state: cannot make %s", db->dir);
        db->dir[0] = 0;
        goto fail;
    }
    snprintf(db->path, sizeof db->path, "%s/state.db", db->dir);
    if (tj__state_open(db->path, &db->st, &err))
        goto fail;
    return db;
fail:
    if (errout)
        *errout = strdup(err.msg[0] ? err.msg : "out of memory");
    tj_harness_state_free(db);
    return NULL;
}

int tj_harness_state_get(tj_harness_state *db, const char *ns,
                         const char *key, const char **value)
{
    free(db->last);
    int rc = tj__state_get(db->st, ns, key, &db->last);
    *value = db->last;
    return rc;
}

int tj_harness_state_put(tj_harness_state *db, const char *ns,
                         const char *key, const char *value)
{
    return tj__state_put(db->st, ns, key, value);
}

/* state.c has no way to list entries, so the count asks the database file
 * through a connection of its own (it sees every committed put). */
int64_t tj_harness_state_count(tj_harness_state *db, const char *ns)
{
    return tj__state_count(db->st, ns);
}

void tj_harness_state_free(tj_harness_state *db)
{
    if (!db)
        return;
    tj__state_close(db->st);
    free(db->last);
    if (db->dir[0]) {
        static const char *const files[] = {"", "-wal", "-shm", "-journal"};
        char path[PATH_MAX + 32];
        for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
            snprintf(path, sizeof path, "%s%s", db->path, files[i]);
            unlink(path);
        }
        rmdir(db->dir);
    }
    free(db);
}
