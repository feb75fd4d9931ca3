/*
 * taojin/stage.h - the one header a taojin stage includes.
 *
 * A stage is a shared object that exports one symbol, TJ_ENTRY_SYMBOL
 * ("taojin_stage_entry").  The host calls it once after dlopen(), handing
 * over the host function table (tj_host_api), and gets the stage descriptor
 * (tj_stage_desc) back.  The stage links against nothing from taojin: every
 * host service is reached through the table, wrapped below by static inline
 * functions so stage code reads naturally:
 *
 *     size_t len;
 *     const char *body = tj_record_get(rec, "body", &len);
 *     tj_log(ctx, TJ_LOG_INFO, "%zu bytes", len);
 *     return tj_emit(ctx, rec);
 *
 * ABI rules (the sqlite3ext.h model):
 *  - tj_stage_desc and tj_host_api begin with abi_version and struct_size;
 *    new members are only ever appended.  The host refuses a stage whose
 *    abi_version differs from its own TJ_ABI_VERSION or whose struct_size is
 *    smaller than the size that version defines.
 *  - Records and contexts are opaque handles.
 *
 * Use TJ_STAGE_DEFINE(desc) once in exactly one .c file of the stage; other
 * files of the same stage just include this header.
 */
#ifndef TAOJIN_STAGE_H
#define TAOJIN_STAGE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TJ_ABI_VERSION 1
#define TJ_ENTRY_SYMBOL "taojin_stage_entry"

#if defined(__GNUC__)
#define TJ_EXPORT __attribute__((visibility("default")))
#define TJ_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define TJ_EXPORT
#define TJ_PRINTF(f, a)
#endif

/* ---- Error codes: 0 is success, failures are negative ------------------ */
#define TJ_ERRNO_MAP(X)                                                        \
    X(OK, 0, "success")                                                        \
    X(ENOMEM, -1, "out of memory")                                             \
    X(EINVAL, -2, "invalid argument")                                          \
    X(ENOENT, -3, "no such field or file")                                     \
    X(ETYPE, -4, "wrong type")                                                 \
    X(EIO, -5, "input/output error")                                           \
    X(ECANCELED, -6, "run aborted")                                            \
    X(ECONFIG, -7, "configuration error")                                      \
    X(ELOAD, -8, "stage cannot be loaded")                                     \
    X(EPARSE, -9, "parse error")                                               \
    X(ERECORD, -10, "record failed")                                           \
    X(EFULL, -11, "no space left")                                             \
    X(ENET, -12, "network error")

enum {
#define TJ__ERR_ENUM(name, code, text) TJ_##name = code,
    TJ_ERRNO_MAP(TJ__ERR_ENUM)
#undef TJ__ERR_ENUM
};

/* ---- Handles ------------------------------------------------------------ */
typedef struct tj_record tj_record; /* a record: named, typed fields */
typedef struct tj_ctx tj_ctx;       /* one running stage instance */

/* Field types of a record. */
typedef enum tj_field_type {
    TJ_FIELD_NONE = 0,   /* field absent */
    TJ_FIELD_BYTES = 1,  /* byte string, usually UTF-8 text */
    TJ_FIELD_INT = 2,    /* int64_t */
    TJ_FIELD_DOUBLE = 3, /* double */
    TJ_FIELD_JSON = 4    /* a JSON value, stored as its text */
} tj_field_type;

/* The longest value a field holds: 4 GiB - 1 bytes.  Longer values are
 * refused with TJ_EINVAL (tj_record_take frees the buffer all the same). */
#define TJ_FIELD_MAX_LEN 0xFFFFFFFFu

/* Outcome passed to an acknowledgement callback. */
typedef enum tj_ack_status {
    TJ_ACK_DELIVERED = 0, /* exported by a sink (and committed) */
    TJ_ACK_DROPPED = 1,   /* a stage chose not to pass it on */
    TJ_ACK_FAILED = 2     /* a stage failed on it, or the run aborted */
} tj_ack_status;

/* Called exactly once per acknowledged record family, from whatever stage
 * thread finishes the last copy.  Must be thread-safe and quick. */
typedef void (*tj_ack_fn)(void *arg, tj_ack_status status);

typedef enum tj_log_level {
    TJ_LOG_ERROR = 0,
    TJ_LOG_WARN = 1,
    TJ_LOG_INFO = 2,
    TJ_LOG_DEBUG = 3
} tj_log_level;

/* ---- Options as data ----------------------------------------------------- */
typedef enum tj_opt_type {
    TJ_OPT_STRING = 1,   /* const char *            (NULL when unset)      */
    TJ_OPT_INT = 2,      /* int64_t                                        */
    TJ_OPT_BOOL = 3,     /* int, 0 or 1 (true/false/yes/no/on/off)         */
    TJ_OPT_DOUBLE = 4,   /* double                                         */
    TJ_OPT_SIZE = 5,     /* int64_t bytes; "64M", "512k", "1G", "100"      */
    TJ_OPT_DURATION = 6, /* double seconds; "30s", "500ms", "5m", "1h", "2" */
    TJ_OPT_LIST = 7,     /* tj_list; a sequence (a scalar = one item)       */
    TJ_OPT_MAP = 8       /* tj_map; a mapping of scalars                   */
} tj_opt_type;

typedef struct tj_list {
    size_t n;
    const char *const *items;
} tj_list;

typedef struct tj_map {
    size_t n;
    const char *const *keys;
    const char *const *values;
} tj_map;

/* One option of a stage.  The host converts the `with:` value (or the
 * default) and stores it at `offset` inside the stage's config struct of
 * desc->config_size bytes.  `allowed` is NULL or "a|b|c".  A table ends with
 * an entry whose name is NULL.  Strings in the config stay valid until the
 * stage's fini returns. */
typedef struct tj_option {
    const char *name;
    tj_opt_type type;
    const char *default_value; /* textual default, NULL = none */
    int required;
    const char *allowed;
    const char *description;
    size_t offset;
} tj_option;

#define TJ_OPTION_END {NULL, 0, NULL, 0, NULL, NULL, 0}

/* ---- The stage descriptor ---------------------------------------------- */
typedef enum tj_stage_kind {
    TJ_SOURCE = 1,    /* produces records: implements produce */
    TJ_TRANSFORM = 2, /* records in, records out: implements process */
    TJ_SINK = 3       /* records in, nothing out: implements process */
} tj_stage_kind;

typedef struct tj_stage_desc {
    uint32_t abi_version; /* TJ_ABI_VERSION */
    uint32_t struct_size; /* sizeof(tj_stage_desc) */
    const char *name;
    const char *description; /* one line */
    tj_stage_kind kind;
    const tj_option *options; /* NULL or ended by TJ_OPTION_END */
    size_t config_size;       /* size of the struct options land in */

    /* Creates one instance.  `config` holds the converted options and stays
     * valid until fini.  On success store the instance state in *state and
     * return 0; on failure return a TJ_E* code after tj_error(ctx, ...). */
    int (*init)(tj_ctx *ctx, const void *config, void **state);

    /* Sources: emit zero or more records with tj_emit.  Return 1 when there
     * may be more, 0 at end of input, a TJ_E* code on a fatal error.  The host
     * stops calling it when tj_should_stop() turns true. */
    int (*produce)(tj_ctx *ctx, void *state);

    /* Transforms and sinks: handle one record.  The host owns `rec` during
     * the call.  A transform passes it on with tj_emit (ownership moves),
     * may emit other records, and drops it by doing neither.  A sink that
     * returns 0 has delivered it, unless it called tj_hold to finish it later
     * with tj_done.  Returning a TJ_E* code (message via tj_error) fails the
     * record, handled by the stage's on_error policy; the run goes on. */
    int (*process)(tj_ctx *ctx, void *state, tj_record *rec);

    /* End of input: emit or commit what is buffered.  May be NULL. */
    int (*flush)(tj_ctx *ctx, void *state);

    /* Frees the instance.  May be NULL.  Called once, even after errors.
     * An aborted run skips flush: finish any record still held here with
     * tj_done(ctx, rec, "reason") (the ctx saved at init is still valid). */
    void (*fini)(void *state);
} tj_stage_desc;

/* ---- The host function table ---------------------------------------------
 * Append-only.  A stage that needs a member added in a later version checks
 * tj_api->abi_version (or struct_size) first. */
typedef struct tj_host_api {
    uint32_t abi_version;
    uint32_t struct_size;

    /* records */
    tj_record *(*record_new)(void);
    tj_record *(*record_clone)(const tj_record *rec);
    void (*record_free)(tj_record *rec);
    tj_field_type (*record_type)(const tj_record *rec, const char *name);
    const void *(*record_get)(const tj_record *rec, const char *name,
                              size_t *len);
    int (*record_get_int)(const tj_record *rec, const char *name,
                          int64_t *out);
    int (*record_get_double)(const tj_record *rec, const char *name,
                             double *out);
    int (*record_set_bytes)(tj_record *rec, const char *name, const void *data,
                            size_t len);
    int (*record_take_bytes)(tj_record *rec, const char *name, void *data,
                             size_t len);
    int (*record_set_int)(tj_record *rec, const char *name, int64_t v);
    int (*record_set_double)(tj_record *rec, const char *name, double v);
    int (*record_set_json)(tj_record *rec, const char *name, const char *json,
                           size_t len);
    int (*record_del)(tj_record *rec, const char *name);
    size_t (*record_count)(const tj_record *rec);
    const char *(*record_field_at)(const tj_record *rec, size_t i,
                                   tj_field_type *type);
    int (*record_set_ack)(tj_record *rec, tj_ack_fn fn, void *arg);

    /* flow */
    int (*emit)(tj_ctx *ctx, tj_record *rec);
    int (*hold)(tj_ctx *ctx, tj_record *rec);
    void (*done)(tj_ctx *ctx, tj_record *rec, const char *error);
    int (*fail)(tj_ctx *ctx, tj_record *rec, const char *msg);
    int (*should_stop)(tj_ctx *ctx);

    /* diagnostics */
    void (*logv)(tj_ctx *ctx, tj_log_level level, const char *fmt,
                 va_list ap);
    int (*errorv)(tj_ctx *ctx, const char *fmt, va_list ap);
    void (*counter_add)(tj_ctx *ctx, const char *name, int64_t delta);
    const char *(*stage_name)(tj_ctx *ctx);
    int (*worker_index)(tj_ctx *ctx);
    const char *(*strerror)(int code);
    const char *(*pipeline_dir)(tj_ctx *ctx);

    /* state store (the pipeline's `state:` database) */
    int (*state_get)(tj_ctx *ctx, const char *ns, const char *key,
                     char **value);
    int (*state_put)(tj_ctx *ctx, const char *ns, const char *key,
                     const char *value);
} tj_host_api;

typedef const tj_stage_desc *(*tj_entry_fn)(const tj_host_api *api);

#ifndef TJ_HOST
/* The table the host handed to this stage (set by the entry point). */
extern const tj_host_api *tj_api;

/* Defines the entry point returning `desc` (a tj_stage_desc object). */
#define TJ_STAGE_DEFINE(desc)                                                  \
    const tj_host_api *tj_api;                                                 \
    TJ_EXPORT const tj_stage_desc *taojin_stage_entry(const tj_host_api *api)  \
    {                                                                          \
        tj_api = api;                                                          \
        return &(desc);                                                        \
    }

/* A new, empty record owned by the caller. */
static inline tj_record *tj_record_new(void) { return tj_api->record_new(); }
/* A deep copy sharing `rec`'s acknowledgement: the source's callback runs
 * once every copy is finished.  Use it to emit several records from one. */
static inline tj_record *tj_record_clone(const tj_record *rec)
{
    return tj_api->record_clone(rec);
}
/* Frees a record the caller owns that was never emitted.  If it belongs to
 * an acknowledged family, this copy counts as dropped. */
static inline void tj_record_free(tj_record *rec) { tj_api->record_free(rec); }
static inline tj_field_type tj_record_type(const tj_record *rec,
                                           const char *name)
{
    return tj_api->record_type(rec, name);
}
/* Bytes of a BYTES field, or the text of a JSON field; NUL-terminated (the
 * NUL is not counted in *len).  NULL when absent or of another type.  Valid
 * until the field is changed or the record leaves the caller. */
static inline const char *tj_record_get(const tj_record *rec, const char *name,
                                        size_t *len)
{
    return (const char *)tj_api->record_get(rec, name, len);
}
static inline int tj_record_get_int(const tj_record *rec, const char *name,
                                    int64_t *out)
{
    return tj_api->record_get_int(rec, name, out);
}
static inline int tj_record_get_double(const tj_record *rec, const char *name,
                                       double *out)
{
    return tj_api->record_get_double(rec, name, out);
}
/* Copies `len` bytes into the field, replacing any value. */
static inline int tj_record_set(tj_record *rec, const char *name,
                                const void *data, size_t len)
{
    return tj_api->record_set_bytes(rec, name, data, len);
}
/* Sets a NUL-terminated string. */
static inline int tj_record_set_str(tj_record *rec, const char *name,
                                    const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return tj_api->record_set_bytes(rec, name, s, n);
}
/* Takes ownership of a malloc()ed buffer of len bytes (one more byte must be
 * allocated: the host writes a NUL at data[len]).  Freed by the host, even
 * when the call fails. */
static inline int tj_record_take(tj_record *rec, const char *name, void *data,
                                 size_t len)
{
    return tj_api->record_take_bytes(rec, name, data, len);
}
static inline int tj_record_set_int(tj_record *rec, const char *name,
                                    int64_t v)
{
    return tj_api->record_set_int(rec, name, v);
}
static inline int tj_record_set_double(tj_record *rec, const char *name,
                                       double v)
{
    return tj_api->record_set_double(rec, name, v);
}
/* Stores JSON text (validated: TJ_EPARSE if it is not one JSON value). */
static inline int tj_record_set_json(tj_record *rec, const char *name,
                                     const char *json, size_t len)
{
    return tj_api->record_set_json(rec, name, json, len);
}
static inline int tj_record_del(tj_record *rec, const char *name)
{
    return tj_api->record_del(rec, name);
}
static inline size_t tj_record_count(const tj_record *rec)
{
    return tj_api->record_count(rec);
}
/* Name and type of the i-th field, in insertion order; NULL past the end. */
static inline const char *tj_record_field_at(const tj_record *rec, size_t i,
                                             tj_field_type *type)
{
    return tj_api->record_field_at(rec, i, type);
}
/* Attaches an end-to-end acknowledgement.  `fn(arg, status)` runs exactly
 * once, when the record and every clone of it have been delivered, dropped
 * or failed (status: failed if any copy failed, else delivered if any was
 * delivered, else dropped).  Sources attach one to commit their own state;
 * a later stage may attach another (up to four per record), which then runs
 * for the whole family too.  Callbacks run on whichever stage thread
 * finishes the last copy: keep them thread-safe and short. */
static inline int tj_record_set_ack(tj_record *rec, tj_ack_fn fn, void *arg)
{
    return tj_api->record_set_ack(rec, fn, arg);
}

/* Passes `rec` to the next stage; the caller no longer owns it.  Blocks while
 * the ring is full.  TJ_ECANCELED when the run is aborting (rec is then
 * finished as failed by the host). */
static inline int tj_emit(tj_ctx *ctx, tj_record *rec)
{
    return tj_api->emit(ctx, rec);
}
/* Keeps the record being processed past the process call (batching sinks,
 * buffering transforms).  Finish it later with tj_done or tj_emit. */
static inline int tj_hold(tj_ctx *ctx, tj_record *rec)
{
    return tj_api->hold(ctx, rec);
}
/* Finishes a held record in a sink: delivered when error is NULL, otherwise
 * failed with that message under the stage's on_error policy. */
static inline void tj_done(tj_ctx *ctx, tj_record *rec, const char *error)
{
    tj_api->done(ctx, rec, error);
}
/* Fails a record the stage owns (made by a source, or held) with `msg`; the
 * on_error policy (skip, dead_letter, fail) applies.  Ownership moves. */
static inline int tj_fail(tj_ctx *ctx, tj_record *rec, const char *msg)
{
    return tj_api->fail(ctx, rec, msg);
}
/* Non-zero once the run is shutting down: sources should stop producing. */
static inline int tj_should_stop(tj_ctx *ctx)
{
    return tj_api->should_stop(ctx);
}

static inline TJ_PRINTF(3, 4) void tj_log(tj_ctx *ctx, tj_log_level level,
                                          const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tj_api->logv(ctx, level, fmt, ap);
    va_end(ap);
}
/* Records the message for the error being returned; returns TJ_ERECORD so
 * `return tj_error(ctx, "...")` reads naturally. */
static inline TJ_PRINTF(2, 3) int tj_error(tj_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    int rc;
    va_start(ap, fmt);
    rc = tj_api->errorv(ctx, fmt, ap);
    va_end(ap);
    return rc;
}
/* Adds to a named counter of this stage (shown in stats and metrics). */
static inline void tj_count(tj_ctx *ctx, const char *name, int64_t delta)
{
    tj_api->counter_add(ctx, name, delta);
}
static inline const char *tj_stage_name(tj_ctx *ctx)
{
    return tj_api->stage_name(ctx);
}
/* 0..workers-1: which replica of the stage this instance is. */
static inline int tj_worker_index(tj_ctx *ctx)
{
    return tj_api->worker_index(ctx);
}
static inline const char *tj_strerror(int code)
{
    return tj_api->strerror(code);
}
/* Directory of the pipeline file: resolve relative paths in options here. */
static inline const char *tj_pipeline_dir(tj_ctx *ctx)
{
    return tj_api->pipeline_dir(ctx);
}
/* Reads (ns, key) from the pipeline's state database into a malloc()ed
 * string the caller frees.  TJ_ENOENT when absent; TJ_EINVAL when the
 * pipeline has no state database (no `state:` and no `schedule:`). */
static inline int tj_state_get(tj_ctx *ctx, const char *ns, const char *key,
                               char **value)
{
    return tj_api->state_get(ctx, ns, key, value);
}
/* Stores (ns, key) = value (NULL deletes), committed before it returns.
 * Safe from any thread, including acknowledgement callbacks.  TJ_EINVAL
 * when the pipeline has no state database. */
static inline int tj_state_put(tj_ctx *ctx, const char *ns, const char *key,
                               const char *value)
{
    return tj_api->state_put(ctx, ns, key, value);
}
#endif /* TJ_HOST */

#ifdef __cplusplus
}
#endif
#endif /* TAOJIN_STAGE_H */
