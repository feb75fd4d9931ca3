/*
 * api.c - the host function table handed to stages, and the calls that
 * drive a stage instance (init, process, produce, flush) with the ownership
 * rules of stage.h.
 */
#include "ctx.h"
#include "state.h"

#include <stdlib.h>
#include <string.h>

static int api_emit(tj_ctx *ctx, tj_record *rec)
{
    if (!rec)
        return TJ_EINVAL;
    if (rec == ctx->current)
        ctx->current_taken = true;
    TJ_COUNT(ctx->c.out, 1);
    return ctx->ops->emit(ctx, rec);
}

static int api_hold(tj_ctx *ctx, tj_record *rec)
{
    if (!rec || rec != ctx->current)
        return TJ_EINVAL;
    ctx->current_taken = true;
    return 0;
}

static void api_done(tj_ctx *ctx, tj_record *rec, const char *error)
{
    if (!rec)
        return;
    if (rec == ctx->current)
        ctx->current_taken = true;
    if (error) {
        tj__ctx_fail_record(ctx, rec, error);
        return;
    }
    TJ_COUNT(ctx->c.out, 1);
    tj__record_finish(rec, TJ_ACK_DELIVERED);
}

static int api_fail(tj_ctx *ctx, tj_record *rec, const char *msg)
{
    if (!rec)
        return TJ_EINVAL;
    if (rec == ctx->current)
        ctx->current_taken = true;
    tj__ctx_fail_record(ctx, rec, msg ? msg : "record failed");
    return 0;
}

static int api_should_stop(tj_ctx *ctx) { return ctx->ops->should_stop(ctx); }

static void api_logv(tj_ctx *ctx, tj_log_level level, const char *fmt,
                     va_list ap)
{
    tj__logv(level, ctx ? ctx->name : NULL, fmt, ap);
}

static int api_errorv(tj_ctx *ctx, const char *fmt, va_list ap)
{
    vsnprintf(ctx->errmsg, sizeof ctx->errmsg, fmt, ap);
    ctx->has_error = true;
    return TJ_ERECORD;
}

/* Custom counters have one writer (the instance's thread): a new name is
 * written first and then published by the release store of ncustom. */
static void api_counter_add(tj_ctx *ctx, const char *name, int64_t delta)
{
    int n = atomic_load_explicit(&ctx->ncustom, memory_order_relaxed), i;
    for (i = 0; i < n; i++)
        if (strcmp(ctx->custom[i].name, name) == 0)
            break;
    if (i == TJ_MAX_CUSTOM)
        return;
    if (i == n) {
        snprintf(ctx->custom[i].name, sizeof ctx->custom[i].name, "%s", name);
        atomic_init(&ctx->custom[i].value, 0);
        atomic_store_explicit(&ctx->ncustom, n + 1, memory_order_release);
    }
    TJ_COUNT(ctx->custom[i].value, delta);
}

static const char *api_stage_name(tj_ctx *ctx) { return ctx->name; }
static int api_worker_index(tj_ctx *ctx) { return ctx->worker; }
static const char *api_pipeline_dir(tj_ctx *ctx)
{
    return ctx->pipeline_dir ? ctx->pipeline_dir : ".";
}

static int api_state_get(tj_ctx *ctx, const char *ns, const char *key,
                         char **value)
{
    *value = NULL;
    return ctx->state_db ? tj__state_get(ctx->state_db, ns, key, value)
                         : TJ_EINVAL;
}

static int api_state_put(tj_ctx *ctx, const char *ns, const char *key,
                         const char *value)
{
    return ctx->state_db ? tj__state_put(ctx->state_db, ns, key, value)
                         : TJ_EINVAL;
}

static const tj_host_api host_api = {
    .abi_version = TJ_ABI_VERSION,
    .struct_size = sizeof(tj_host_api),
    .record_new = tj__record_new,
    .record_clone = tj__record_clone,
    .record_free = tj__record_free,
    .record_type = tj__record_type,
    .record_get = tj__record_get,
    .record_get_int = tj__record_get_int,
    .record_get_double = tj__record_get_double,
    .record_set_bytes = tj__record_set_bytes,
    .record_take_bytes = tj__record_take_bytes,
    .record_set_int = tj__record_set_int,
    .record_set_double = tj__record_set_double,
    .record_set_json = tj__record_set_json,
    .record_del = tj__record_del,
    .record_count = tj__record_count,
    .record_field_at = tj__record_field_at,
    .record_set_ack = tj__record_set_ack,
    .emit = api_emit,
    .hold = api_hold,
    .done = api_done,
    .fail = api_fail,
    .should_stop = api_should_stop,
    .logv = api_logv,
    .errorv = api_errorv,
    .counter_add = api_counter_add,
    .stage_name = api_stage_name,
    .worker_index = api_worker_index,
    .strerror = tj__strerror,
    .pipeline_dir = api_pipeline_dir,
    .state_get = api_state_get,
    .state_put = api_state_put,
};

/* The table every stage gets; also what in-process tests hand to
 * taojin_stage_entry(). */
const tj_host_api *tj__host_api(void) { return &host_api; }

void tj__ctx_setup(tj_ctx *ctx, const tj_stage_desc *desc, const char *name,
                   int worker, const tj_ctx_ops *ops, void *owner)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->desc = desc;
    ctx->name = strdup(name ? name : desc->name);
    ctx->worker = worker;
    ctx->ops = ops;
    ctx->owner = owner;
}

void tj__ctx_teardown(tj_ctx *ctx)
{
    if (ctx->state && ctx->desc->fini)
        ctx->desc->fini(ctx->state);
    ctx->state = NULL;
    free(ctx->name);
    ctx->name = NULL;
}

int tj__ctx_init(tj_ctx *ctx, tj_err *err)
{
    if (!ctx->desc->init)
        return 0;
    ctx->has_error = false;
    int rc = ctx->desc->init(ctx, ctx->config, &ctx->state);
    if (rc < 0) {
        ctx->state = NULL;
        return tj__errf(err, TJ_ELOAD, "stage '%s': init failed: %s",
                        ctx->name,
                        ctx->has_error ? ctx->errmsg : tj__strerror(rc));
    }
    return 0;
}

void tj__ctx_fail_record(tj_ctx *ctx, tj_record *rec, const char *msg)
{
    TJ_COUNT(ctx->c.failed, 1);
    /* the same message again (a failed batch) is logged 3 times, then at
     * 10, 100, 1000... repeats; the counters keep the exact figure */
    long long rep = strcmp(msg, ctx->lastfail) == 0 ? ++ctx->fail_repeats : 0;
    if (!rep) {
        ctx->fail_repeats = 0;
        snprintf(ctx->lastfail, sizeof ctx->lastfail, "%s", msg);
    }
    bool quiet = rep >= 3;
    for (long long p = 10; quiet && p <= rep; p *= 10)
        quiet = rep != p;
    if (ctx->on_error == TJ_ON_ERROR_FAIL) {
        tj__log(TJ_LOG_ERROR, ctx->name, "%s (on_error: fail stops the run)",
                msg);
        ctx->ops->fail_run(ctx, msg);
    } else if (!quiet) {
        tj__log(TJ_LOG_WARN, ctx->name, rep >= 3 ? "%s (repeated %lld times)"
                                                 : "%s", msg, rep);
    }
    tj_dead_letter *dl = ctx->dead_letter;
    if (ctx->on_error == TJ_ON_ERROR_DEAD_LETTER && dl && dl->path) {
        tj_buf b = {0};
        tj__buf_add(&b, "{\"stage\":", 9);
        tj__json_add_string(&b, ctx->name, strlen(ctx->name));
        tj__buf_add(&b, ",\"error\":", 9);
        tj__json_add_string(&b, msg, strlen(msg));
        tj__buf_add(&b, ",\"record\":", 10);
        tj__record_to_json(rec, &b);
        tj__buf_add(&b, "}\n", 2);
        pthread_mutex_lock(&dl->lock);
        if (!dl->fp && !(dl->fp = fopen(dl->path, "a")))
            tj__log(TJ_LOG_ERROR, ctx->name, "dead_letter: cannot open %s: "
                    "%m; the record is only logged", dl->path);
        if (dl->fp && (fwrite(b.data, 1, b.len, dl->fp) != b.len ||
                       fflush(dl->fp) != 0))
            tj__log(TJ_LOG_ERROR, ctx->name, "dead_letter: cannot write %s:"
                    " %m", dl->path);
        else if (dl->fp)
            dl->written++;
        pthread_mutex_unlock(&dl->lock);
        tj__buf_free(&b);
    }
    tj__record_finish(rec, TJ_ACK_FAILED);
}

int tj__ctx_process(tj_ctx *ctx, tj_record *rec)
{
    TJ_COUNT(ctx->c.in, 1);
    TJ_COUNT(ctx->c.bytes_in, (long long)tj__record_bytes(rec));
    ctx->current = rec;
    ctx->current_taken = false;
    ctx->has_error = false;
    int rc = ctx->desc->process(ctx, ctx->state, rec);
    if (!ctx->current_taken) {
        if (rc < 0)
            tj__ctx_fail_record(ctx, rec,
                                ctx->has_error ? ctx->errmsg
                                               : tj__strerror(rc));
        else if (ctx->desc->kind == TJ_SINK) {
            TJ_COUNT(ctx->c.out, 1);
            tj__record_finish(rec, TJ_ACK_DELIVERED);
        } else {
            TJ_COUNT(ctx->c.dropped, 1);
            tj__record_finish(rec, TJ_ACK_DROPPED);
        }
    } else if (rc < 0) {
        TJ_COUNT(ctx->c.failed, 1);
        tj__log(TJ_LOG_WARN, ctx->name, "%s",
                ctx->has_error ? ctx->errmsg : tj__strerror(rc));
    }
    ctx->current = NULL;
    return rc;
}

int tj__ctx_produce(tj_ctx *ctx)
{
    uint64_t t0 = tj__now_ns();
    ctx->has_error = false;
    int rc = ctx->desc->produce(ctx, ctx->state);
    TJ_COUNT(ctx->c.busy_ns, (long long)(tj__now_ns() - t0));
    return rc;
}

int tj__ctx_flush(tj_ctx *ctx)
{
    if (!ctx->desc->flush)
        return 0;
    ctx->has_error = false;
    return ctx->desc->flush(ctx, ctx->state);
}

long long tj__ctx_counter(tj_ctx *ctx, const char *name)
{
    static const struct {
        const char *n;
        size_t off;
    } std[] = {{"in", offsetof(tj_counters, in)},
               {"out", offsetof(tj_counters, out)},
               {"dropped", offsetof(tj_counters, dropped)},
               {"failed", offsetof(tj_counters, failed)}};
    for (size_t i = 0; i < 4; i++)
        if (strcmp(name, std[i].n) == 0)
            return atomic_load(
                (atomic_llong *)((char *)&ctx->c + std[i].off));
    long long v = 0;
    int n = atomic_load_explicit(&ctx->ncustom, memory_order_acquire);
    for (int i = 0; i < n; i++)
        if (strcmp(ctx->custom[i].name, name) == 0)
            v = atomic_load(&ctx->custom[i].value);
    return v;
}
