/*
 * ctx.h - a running stage instance (tj_ctx) and what drives it.
 *
 * The runner (threads and rings) and the harness (single-threaded, for
 * tests and `exec`) both drive stages through the tj__ctx_* calls below, so
 * the ownership rules of stage.h are implemented once, in api.c.
 */
#ifndef TJ_CTX_H
#define TJ_CTX_H

#include "core.h"
#include <pthread.h>

typedef enum tj_on_error {
    TJ_ON_ERROR_SKIP = 0,
    TJ_ON_ERROR_FAIL = 1,
    TJ_ON_ERROR_DEAD_LETTER = 2
} tj_on_error;

/* Each counter has one writer, the instance's own thread, so increments
 * are a relaxed load and store (no locked instruction); other threads only
 * read them for progress and stats. */
typedef struct tj_counters {
    atomic_llong in, out, dropped, failed, bytes_in, busy_ns;
} tj_counters;

#define TJ_COUNT(ctr, delta)                                                   \
    atomic_store_explicit(&(ctr),                                              \
                          atomic_load_explicit(&(ctr), memory_order_relaxed) + \
                              (long long)(delta),                              \
                          memory_order_relaxed)

#define TJ_MAX_CUSTOM 32
typedef struct tj_custom_counter {
    char name[40];
    atomic_llong value;
} tj_custom_counter;

/* Dead-letter file shared by all stages of a run. */
typedef struct tj_dead_letter {
    FILE *fp;
    char *path;
    pthread_mutex_t lock;
    long long written;
} tj_dead_letter;

/* What the driver of a ctx provides. */
typedef struct tj_ctx_ops {
    int (*emit)(tj_ctx *ctx, tj_record *rec);       /* takes ownership */
    int (*should_stop)(tj_ctx *ctx);
    void (*fail_run)(tj_ctx *ctx, const char *msg); /* on_error: fail */
} tj_ctx_ops;

struct tj_ctx {
    const tj_stage_desc *desc;
    char *name; /* instance name */
    int worker;
    void *state;
    void *config;
    const char *pipeline_dir;
    tj_on_error on_error;
    tj_dead_letter *dead_letter;
    struct tj_state *state_db; /* NULL when the pipeline keeps no state */
    const tj_ctx_ops *ops;
    void *owner;

    tj_record *current; /* record inside process() */
    bool current_taken;
    bool has_error;
    char errmsg[1024];
    char lastfail[1024]; /* message of the last failed record */
    long long fail_repeats; /* how many failures in a row had it */

    tj_counters c;
    atomic_int ncustom; /* published with release after the name is set */
    tj_custom_counter custom[TJ_MAX_CUSTOM];
};

const tj_host_api *tj__host_api(void);

/* Sets up ctx for `desc` (zeroed counters, no state yet). */
void tj__ctx_setup(tj_ctx *ctx, const tj_stage_desc *desc, const char *name,
                   int worker, const tj_ctx_ops *ops, void *owner);
/* Frees what tj__ctx_setup and a successful init allocated (runs fini). */
void tj__ctx_teardown(tj_ctx *ctx);
/* Runs the stage's init with ctx->config; on failure fills err with the
 * stage's own message. */
int tj__ctx_init(tj_ctx *ctx, tj_err *err);
/* Runs process on rec (ownership moves in) and applies the rules of
 * stage.h: not taken -> dropped (transform) or delivered (sink); an error
 * -> the on_error policy. */
int tj__ctx_process(tj_ctx *ctx, tj_record *rec);
/* Runs produce once; returns its result (1 more, 0 end, <0 fatal). */
int tj__ctx_produce(tj_ctx *ctx);
/* Runs flush if the stage has one. */
int tj__ctx_flush(tj_ctx *ctx);
/* Applies the on_error policy to a failed record (ownership moves in). */
void tj__ctx_fail_record(tj_ctx *ctx, tj_record *rec, const char *msg);
/* Value of a custom counter (0 if never set). */
long long tj__ctx_counter(tj_ctx *ctx, const char *name);
#endif
