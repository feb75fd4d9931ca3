/*
 * runner.c - threads, rings and shutdown.
 *
 * Topology: stage group g has workers(g) instances.  Every instance of g
 * owns one output ring per instance of g+1, so each ring has exactly one
 * producer and one consumer (SPSC).  Records leave an instance in batches:
 * emits collect into a small local batch that is pushed after each input
 * batch (or produce call), so the rings see bulk operations.
 *
 * `ordered: true` on a stage with workers N: its single upstream instance
 * deals records to the workers strictly in turn, each worker follows every
 * processed record's outputs with a marker, and the single downstream
 * instance reads the workers' rings in the same turn, one marker at a time:
 * input order is restored exactly.
 *
 * End of input: a source that returns 0, or an instance whose input rings
 * are all closed and drained, calls flush, pushes what is left and closes
 * its output rings.  Stop (first SIGINT/SIGTERM, on_error: fail, a fatal
 * error) makes sources end early so everything in flight drains; abort (a
 * second signal) makes every wait give up and frees records as failed.
 */
#include "runner.h"
#include "ring.h"
#include "state.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sched.h>
#include <unistd.h>

#define BATCH 256 /* most records moved per ring operation */
#define WAIT_MS 100
#define MARK ((void *)1)
#define SPINS 64 /* polls before sleeping: a futex round trip costs ~5 us */
#define YIELDS 16 /* of which the last ones give the core away */
/* Wakes a supervisor that sleeps in sigtimedwait when the last instance
 * ends, so a run returns as soon as its work is done instead of on the
 * next 50 ms tick.  SIGURG: its default action is to be ignored, so one
 * left pending (it is drained, see tj__run) could never hurt the caller. */
#define WAKE_SIG SIGURG

/* The wait between two polls of a ring that was empty (or full): a pause
 * at first, then sched_yield.  A pipeline has more threads than cores, so
 * the thread that would fill (or drain) the ring is often queued behind
 * the one polling it; yielding lets it run now instead of after a futex
 * sleep and wake-up.  Measured on the 6-stage no-op pipeline: ten times
 * fewer sleeps and a fifth less CPU per record; the news pipeline is
 * unchanged (see the commit). */
static inline void backoff(int spin)
{
    if (spin >= SPINS - YIELDS) {
        sched_yield();
        return;
    }
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

typedef struct tj_run tj_run;

/* The rings to one downstream stage (one per instance of it) and the
 * batch waiting for them.  A stage before the sinks has one output group
 * per sink stage: every record goes to each (clones share the ack). */
/* Cache-line aligned (and so padded): nbatch is written per record, and a
 * line shared with data another thread reads would bounce between cores. */
typedef struct out_group {
    _Alignas(TJ_CACHELINE) size_t nbatch;
    tj_ring **rings;
    size_t n, rr;
    void *batch[BATCH];
} out_group;

typedef struct tj_instance {
    tj_ctx ctx;
    tj_run *run;
    size_t group;
    pthread_t thread;
    bool started;
    tj_ring **in;
    size_t nin, rr_in;
    out_group *outs;
    size_t nouts;
    bool strict_rr;  /* deal to outputs strictly in turn (ordered next) */
    bool mark_out;   /* follow each processed record with MARK */
    bool ordered_in; /* read inputs in turn, one marker at a time */
    size_t batch;    /* records per hand-off: a quarter of the ring */
    tj_waiter in_wait, out_wait;
    atomic_bool finished;
} tj_instance;

struct tj_run {
    tj_pipeline *p;
    tj_instance ***groups; /* groups[g][w] */
    atomic_int stop, abort, failed;
    pthread_mutex_t lock;
    char fail_msg[1024];
    tj_dead_letter dl;
    atomic_int running;
    tj_waiter done;        /* woken when `running` reaches 0 */
    pthread_t supervisor;  /* the thread in tj__run; sent WAKE_SIG then */
    bool signals;          /* the supervisor waits in sigtimedwait */
    tj_state *state;
    int64_t run_id;
};

static volatile sig_atomic_t external_stop;

void tj__run_request_stop(void) { external_stop = 1; }

static void run_fail(tj_run *run, const char *fmt, ...) TJ_PRINTF(2, 3);
static void run_fail(tj_run *run, const char *fmt, ...)
{
    pthread_mutex_lock(&run->lock);
    if (!atomic_load(&run->failed)) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(run->fail_msg, sizeof run->fail_msg, fmt, ap);
        va_end(ap);
        atomic_store(&run->failed, 1);
    }
    pthread_mutex_unlock(&run->lock);
    atomic_store(&run->stop, 1);
}

/* ---- output side ------------------------------------------------------- */

static void drop_batch(out_group *g)
{
    for (size_t i = 0; i < g->nbatch; i++)
        if (g->batch[i] != MARK)
            tj__record_finish(g->batch[i], TJ_ACK_FAILED);
    g->nbatch = 0;
}

/* Pushes as much of g's batch as its rings take now; returns items moved. */
static size_t push_some(tj_instance *in, out_group *g, size_t from)
{
    size_t left = g->nbatch - from;
    if (in->strict_rr) {
        size_t moved = 0;
        while (moved < left &&
               tj__ring_push(g->rings[g->rr], &g->batch[from + moved], 1)) {
            moved++;
            g->rr = (g->rr + 1) % g->n;
        }
        return moved;
    }
    for (size_t k = 0; k < g->n; k++) {
        size_t r = (g->rr + k) % g->n;
        size_t got = tj__ring_push(g->rings[r], &g->batch[from], left);
        if (got) {
            g->rr = (r + 1) % g->n;
            return got;
        }
    }
    return 0;
}

/* Pushes g's whole batch downstream, blocking while its rings are full.
 * On abort the rest is freed as failed and TJ_ECANCELED returned. */
static int flush_group(tj_instance *in, out_group *g)
{
    size_t done = 0;
    while (done < g->nbatch) {
        if (atomic_load(&in->run->abort)) {
            memmove(g->batch, g->batch + done,
                    (g->nbatch - done) * sizeof *g->batch);
            g->nbatch -= done;
            drop_batch(g);
            return TJ_ECANCELED;
        }
        size_t got = push_some(in, g, done);
        for (int spin = 0; !got && spin < SPINS; spin++) {
            backoff(spin);
            got = push_some(in, g, done);
        }
        if (got) {
            done += got;
            continue;
        }
        unsigned snap = tj__waiter_prepare(&in->out_wait);
        got = push_some(in, g, done); /* re-check after announcing the wait */
        if (got)
            done += got;
        else
            tj__waiter_wait(&in->out_wait, snap, WAIT_MS);
        tj__waiter_done(&in->out_wait);
    }
    g->nbatch = 0;
    return 0;
}

static int flush_out(tj_instance *in)
{
    int rc = 0;
    for (size_t k = 0; k < in->nouts; k++) {
        int r = flush_group(in, &in->outs[k]);
        if (r)
            rc = r;
    }
    return rc;
}

/* Appends an item (record or MARK) to every output group's batch; groups
 * after the first get a clone of a record. */
__attribute__((noinline)) static int add_out_all(tj_instance *in, void *item)
{
    for (size_t k = 0; k < in->nouts; k++)
        if (in->outs[k].nbatch == in->batch) {
            int rc = flush_out(in);
            if (rc)
                return rc;
            break;
        }
    for (size_t k = in->nouts; k-- > 0;) {
        void *copy = item;
        if (k && item != MARK && !(copy = tj__record_clone(item))) {
            tj__log(TJ_LOG_ERROR, in->ctx.name, "out of memory copying a "
                    "record for sink %zu", k);
            continue;
        }
        in->outs[k].batch[in->outs[k].nbatch++] = copy;
    }
    return 0;
}

/* add_out_all for the common case, one downstream stage, which is the
 * hottest path of a pipeline: a compare and a store per record. */
static inline int add_out(tj_instance *in, void *item)
{
    out_group *g = in->outs;
    if (in->nouts != 1 || g->nbatch == in->batch)
        return add_out_all(in, item);
    g->batch[g->nbatch++] = item;
    return 0;
}

static int inst_emit(tj_ctx *ctx, tj_record *rec)
{
    tj_instance *in = ctx->owner;
    if (atomic_load(&in->run->abort)) {
        tj__record_finish(rec, TJ_ACK_FAILED);
        return TJ_ECANCELED;
    }
    if (!in->nouts) { /* a sink emitting: nothing downstream */
        tj__record_finish(rec, TJ_ACK_DELIVERED);
        return 0;
    }
    int rc = add_out(in, rec);
    if (rc)
        tj__record_finish(rec, TJ_ACK_FAILED);
    return rc;
}

static int inst_should_stop(tj_ctx *ctx)
{
    tj_instance *in = ctx->owner;
    return atomic_load(&in->run->stop) || atomic_load(&in->run->abort);
}

static void inst_fail_run(tj_ctx *ctx, const char *msg)
{
    tj_instance *in = ctx->owner;
    run_fail(in->run, "stage '%s': %s", ctx->name, msg);
}

static const tj_ctx_ops inst_ops = {inst_emit, inst_should_stop, inst_fail_run};

/* ---- input side -------------------------------------------------------- */

static bool inputs_finished(tj_instance *in)
{
    for (size_t i = 0; i < in->nin; i++)
        if (!tj__ring_finished(in->in[i]))
            return false;
    return true;
}

/* Pops from any input ring; 0 means end of input. */
static size_t try_pop_any(tj_instance *in, void **out, size_t max)
{
    for (size_t k = 0; k < in->nin; k++) {
        size_t r = (in->rr_in + k) % in->nin;
        size_t got = tj__ring_pop(in->in[r], out, max);
        if (got) {
            in->rr_in = (r + 1) % in->nin;
            return got;
        }
    }
    return 0;
}

/* Ordered input: records from ring rr_in until its marker, then the next. */
static size_t try_pop_ordered(tj_instance *in, void **out, size_t max)
{
    size_t n = 0;
    for (size_t tries = 0; n < max && tries < in->nin;) {
        tj_ring *r = in->in[in->rr_in];
        void *item;
        if (tj__ring_pop(r, &item, 1)) {
            if (item == MARK)
                in->rr_in = (in->rr_in + 1) % in->nin;
            else
                out[n++] = item;
            tries = 0;
        } else if (tj__ring_finished(r)) {
            in->rr_in = (in->rr_in + 1) % in->nin; /* worker done: skip */
            tries++;
        } else {
            break;
        }
    }
    return n;
}

/* Blocks until records arrive (returns their count) or input ends (0). */
static size_t pop_input(tj_instance *in, void **out, size_t max)
{
    for (;;) {
        size_t n = 0;
        for (int spin = 0; !n && spin < SPINS; spin++) {
            n = in->ordered_in ? try_pop_ordered(in, out, max)
                               : try_pop_any(in, out, max);
            if (!n)
                backoff(spin);
        }
        if (n)
            return n;
        if (inputs_finished(in))
            return 0;
        unsigned snap = tj__waiter_prepare(&in->in_wait);
        n = in->ordered_in ? try_pop_ordered(in, out, max)
                           : try_pop_any(in, out, max);
        if (!n && !inputs_finished(in))
            tj__waiter_wait(&in->in_wait, snap, WAIT_MS);
        tj__waiter_done(&in->in_wait);
        if (n)
            return n;
    }
}

/* ---- threads ----------------------------------------------------------- */

/* Counts an instance out; the last one wakes the supervisor. */
static void instance_ended(tj_run *run)
{
    if (atomic_fetch_sub(&run->running, 1) != 1)
        return;
    tj__waiter_wake(&run->done);
    if (run->signals)
        pthread_kill(run->supervisor, WAKE_SIG);
}

static void finish_instance(tj_instance *in)
{
    tj_run *run = in->run;
    if (!atomic_load(&run->abort)) {
        int rc = tj__ctx_flush(&in->ctx);
        if (rc < 0)
            run_fail(run, "stage '%s': flush failed: %s", in->ctx.name,
                     in->ctx.has_error ? in->ctx.errmsg : tj__strerror(rc));
    }
    flush_out(in);
    for (size_t k = 0; k < in->nouts; k++)
        for (size_t i = 0; i < in->outs[k].n; i++)
            tj__ring_close(in->outs[k].rings[i]);
    atomic_store(&in->finished, true);
    instance_ended(run);
}

static void *source_main(void *arg)
{
    tj_instance *in = arg;
    tj_run *run = in->run;
    while (!atomic_load(&run->stop) && !atomic_load(&run->abort)) {
        int rc = tj__ctx_produce(&in->ctx);
        flush_out(in);
        if (rc == 0)
            break;
        if (rc < 0) {
            run_fail(run, "stage '%s': %s", in->ctx.name,
                     in->ctx.has_error ? in->ctx.errmsg : tj__strerror(rc));
            break;
        }
    }
    finish_instance(in);
    return NULL;
}

static void *worker_main(void *arg)
{
    tj_instance *in = arg;
    void *batch[BATCH];
    size_t n;
    while ((n = pop_input(in, batch, in->batch)) > 0) {
        uint64_t t0 = tj__now_ns(); /* busy time is taken per batch */
        for (size_t i = 0; i < n; i++) {
            /* records arrive from another core: fetch the next ones'
             * first lines while this one is processed */
            if (i + 2 < n) {
                __builtin_prefetch(batch[i + 2]);
                __builtin_prefetch((char *)batch[i + 2] + 64);
            }
            if (atomic_load(&in->run->abort)) {
                tj__record_finish(batch[i], TJ_ACK_FAILED);
                continue;
            }
            tj__ctx_process(&in->ctx, batch[i]);
            if (in->mark_out)
                add_out(in, MARK);
        }
        TJ_COUNT(in->ctx.c.busy_ns, tj__now_ns() - t0);
        flush_out(in);
    }
    finish_instance(in);
    return NULL;
}

/* ---- set-up ------------------------------------------------------------ */

/* The dead-letter file is opened on the first failed record (api.c), so a
 * clean run leaves none behind; its directory must be creatable now. */
static int open_dead_letter(tj_run *run, tj_err *err)
{
    pthread_mutex_init(&run->dl.lock, NULL);
    if (!run->p->dead_letter)
        return 0;
    run->dl.path = run->p->dead_letter;
    if (tj__mkdir_parent(run->dl.path))
        return tj__errf(err, TJ_EIO, "dead_letter: cannot create the "
                        "directory of %s: %m", run->dl.path);
    return 0;
}

/* Joins every instance of stage g to every instance of stages
 * first..last with one SPSC ring per pair. */
static int wire(tj_run *run, size_t g, size_t first, size_t last)
{
    tj_pipeline *p = run->p;
    int np = p->stages[g].workers;
    size_t ngroups = last - first + 1;
    bool ord_prev = p->stages[g].ordered && np > 1;
    for (int a = 0; a < np; a++) {
        tj_instance *pi = run->groups[g][a];
        pi->outs = aligned_alloc(TJ_CACHELINE, ngroups * sizeof *pi->outs);
        if (!pi->outs)
            return TJ_ENOMEM;
        memset(pi->outs, 0, ngroups * sizeof *pi->outs);
        pi->nouts = ngroups;
        pi->mark_out = ord_prev;
        pi->strict_rr = ngroups == 1 && p->stages[first].ordered &&
                        p->stages[first].workers > 1;
    }
    for (size_t t = first; t <= last; t++) {
        int nc = p->stages[t].workers;
        for (int b = 0; b < nc; b++) {
            tj_instance *ci = run->groups[t][b];
            ci->in = calloc((size_t)np, sizeof *ci->in);
            ci->nin = (size_t)np;
            ci->ordered_in = ord_prev;
            if (!ci->in)
                return TJ_ENOMEM;
        }
        for (int a = 0; a < np; a++) {
            out_group *og = &run->groups[g][a]->outs[t - first];
            og->rings = calloc((size_t)nc, sizeof *og->rings);
            og->n = (size_t)nc;
            if (!og->rings)
                return TJ_ENOMEM;
            for (int b = 0; b < nc; b++) {
                tj_instance *pi = run->groups[g][a], *ci = run->groups[t][b];
                tj_ring *r = tj__ring_new(p->buffer, &ci->in_wait,
                                          &pi->out_wait);
                if (!r)
                    return TJ_ENOMEM;
                og->rings[b] = r;
                ci->in[a] = r;
            }
        }
    }
    return 0;
}

/* Creates instances, runs every init (in stage order), wires the rings. */
static int build(tj_run *run, tj_err *err)
{
    tj_pipeline *p = run->p;
    run->groups = calloc(p->nstages, sizeof *run->groups);
    if (!run->groups)
        return TJ_ENOMEM;
    for (size_t g = 0; g < p->nstages; g++) {
        tj_stage_spec *s = &p->stages[g];
        if (s->ordered && s->workers > 1 &&
            (p->stages[g - 1].workers > 1 ||
             (g + 1 < p->nstages && p->stages[g + 1].workers > 1)))
            return tj__errf(err, TJ_ECONFIG, "%s:%d:%d: stage '%s': ordered: "
                            "true needs single-worker stages before and "
                            "after it", s->at->file, s->at->line, s->at->col,
                            s->name);
        run->groups[g] = calloc((size_t)s->workers, sizeof **run->groups);
        if (!run->groups[g])
            return TJ_ENOMEM;
        for (int w = 0; w < s->workers; w++) {
            tj_instance *in = aligned_alloc(TJ_CACHELINE,
                                            (sizeof *in + TJ_CACHELINE - 1) /
                                                TJ_CACHELINE * TJ_CACHELINE);
            if (!in)
                return TJ_ENOMEM;
            memset(in, 0, sizeof *in);
            run->groups[g][w] = in;
            in->run = run;
            in->group = g;
            /* a quarter of the ring per hand-off: big enough to amortise
             * a wake-up, small enough that both sides keep working */
            in->batch = p->buffer / 4 < 16 ? 16 : p->buffer / 4;
            if (in->batch > BATCH)
                in->batch = BATCH;
            char name[256];
            if (s->workers > 1)
                snprintf(name, sizeof name, "%s#%d", s->name, w);
            else
                snprintf(name, sizeof name, "%s", s->name);
            tj__ctx_setup(&in->ctx, s->plugin->desc, name, w, &inst_ops, in);
            in->ctx.config = s->config.data;
            in->ctx.on_error = s->on_error;
            in->ctx.dead_letter = &run->dl;
            in->ctx.state_db = run->state;
            in->ctx.pipeline_dir = p->dir;
            tj_err e;
            int rc = tj__ctx_init(&in->ctx, &e);
            if (rc)
                return tj__errf(err, rc, "%s:%d:%d: %s (%s)", s->at->file,
                                s->at->line, s->at->col, e.msg,
                                s->plugin->path);
        }
    }
    for (size_t g = 0; g + 1 < p->nstages; g++) {
        if (p->stages[g].plugin->desc->kind == TJ_SINK)
            break;
        /* targets: the next stage, or every sink when sinks come next */
        size_t first = g + 1, last = g + 1;
        if (p->stages[first].plugin->desc->kind == TJ_SINK)
            last = p->nstages - 1;
        int rc = wire(run, g, first, last);
        if (rc)
            return rc;
    }
    return 0;
}

/* Frees instances (running fini) and rings; safe on a partial build. */
static void teardown(tj_run *run)
{
    tj_pipeline *p = run->p;
    /* last stage first: acknowledgements fired by later stages' fini (held
     * records of an aborted run) reach sources that still exist */
    for (size_t g = p->nstages; run->groups && g-- > 0;) {
        for (int w = 0; run->groups[g] && w < p->stages[g].workers; w++) {
            tj_instance *in = run->groups[g][w];
            if (!in)
                continue;
            for (size_t i = 0; i < in->nin; i++) {
                void *item;
                while (tj__ring_pop(in->in[i], &item, 1))
                    if (item != MARK)
                        tj__record_finish(item, TJ_ACK_FAILED);
                tj__ring_free(in->in[i]);
            }
            tj__ctx_teardown(&in->ctx);
            free(in->in);
            for (size_t k = 0; k < in->nouts; k++) {
                drop_batch(&in->outs[k]);
                free(in->outs[k].rings);
            }
            free(in->outs);
            free(in);
        }
        free(run->groups[g]);
    }
    free(run->groups);
    if (run->dl.fp)
        fclose(run->dl.fp);
    pthread_mutex_destroy(&run->dl.lock);
    pthread_mutex_destroy(&run->lock);
}

/* ---- reporting --------------------------------------------------------- */

typedef struct stage_sum {
    long long in, out, dropped, failed, bytes, busy_ns;
} stage_sum;

static stage_sum sum_group(tj_run *run, size_t g)
{
    stage_sum s = {0};
    for (int w = 0; w < run->p->stages[g].workers; w++) {
        tj_counters *c = &run->groups[g][w]->ctx.c;
        s.in += atomic_load(&c->in);
        s.out += atomic_load(&c->out);
        s.dropped += atomic_load(&c->dropped);
        s.failed += atomic_load(&c->failed);
        s.bytes += atomic_load(&c->bytes_in);
        s.busy_ns += atomic_load(&c->busy_ns);
    }
    return s;
}

static void progress_line(tj_run *run, double elapsed)
{
    char line[512];
    size_t n = 0;
    tj_pipeline *p = run->p;
    long long last_out = 0;
    for (size_t g = 0; g < p->nstages && n < sizeof line - 64; g++) {
        stage_sum s = sum_group(run, g);
        size_t fill = 0, cap = 0;
        tj_instance *in0 = run->groups[g][0];
        for (size_t i = 0; i < in0->nin; i++)
            fill += tj__ring_fill(in0->in[i]), cap += tj__ring_capacity(in0->in[i]);
        n += (size_t)snprintf(line + n, sizeof line - n, "%s%s %lld",
                              g ? " > " : "", p->stages[g].name,
                              g ? s.in : s.out);
        if (cap)
            n += (size_t)snprintf(line + n, sizeof line - n, " [%zu%%]",
                                  fill * 100 / cap);
        last_out = s.in;
    }
    fprintf(stderr, "\r\033[K%s | %.0f rec/s", line,
            elapsed > 0 ? (double)last_out / elapsed : 0.0);
}

static void print_summary(tj_run *run, double elapsed, const char *status)
{
    tj_pipeline *p = run->p;
    fprintf(stderr, "taojin: pipeline '%s' %s in %.2f s\n", p->name, status,
            elapsed);
    fprintf(stderr, "  %-22s %9s %9s %8s %7s %10s %8s\n", "stage", "in", "out",
            "dropped", "failed", "MB in", "busy s");
    for (size_t g = 0; g < p->nstages; g++) {
        stage_sum s = sum_group(run, g);
        fprintf(stderr, "  %-22s %9lld %9lld %8lld %7lld %10.2f %8.2f\n",
                p->stages[g].name, s.in, s.out, s.dropped, s.failed,
                (double)s.bytes / 1e6, (double)s.busy_ns / 1e9);
    }
    if (run->dl.written)
        fprintf(stderr, "  %lld failed record(s) written to %s\n",
                run->dl.written, run->dl.path);
}

static void write_custom(tj_run *run, size_t g, tj_buf *b)
{
    /* merge the workers' custom counters by name */
    tj_buf seen = {0};
    tj__buf_add(&seen, "|", 1);
    bool first = true;
    for (int w = 0; w < run->p->stages[g].workers; w++) {
        tj_ctx *c = &run->groups[g][w]->ctx;
        int nc = atomic_load_explicit(&c->ncustom, memory_order_acquire);
        for (int i = 0; i < nc; i++) {
            char key[64];
            snprintf(key, sizeof key, "|%s|", c->custom[i].name);
            if (strstr(seen.data, key))
                continue;
            tj__buf_addf(&seen, "%s|", c->custom[i].name);
            long long total = 0;
            for (int v = 0; v < run->p->stages[g].workers; v++)
                total += tj__ctx_counter(&run->groups[g][v]->ctx,
                                         c->custom[i].name);
            tj__buf_addf(b, "%s", first ? "" : ",");
            tj__json_add_string(b, c->custom[i].name, strlen(c->custom[i].name));
            tj__buf_addf(b, ":%lld", total);
            first = false;
        }
    }
    tj__buf_free(&seen);
}

/* The counters as one JSON object (the --stats-json format). */
static void build_stats(tj_run *run, double elapsed, const char *status,
                        tj_buf *b)
{
    tj__buf_add(b, "{\"pipeline\":", 12);
    tj__json_add_string(b, run->p->name, strlen(run->p->name));
    tj__buf_addf(b, ",\"status\":\"%s\",\"elapsed_s\":%.3f,\"stages\":[",
                 status, elapsed);
    for (size_t g = 0; g < run->p->nstages; g++) {
        stage_sum s = sum_group(run, g);
        tj__buf_addf(b, "%s{\"name\":", g ? "," : "");
        tj__json_add_string(b, run->p->stages[g].name,
                            strlen(run->p->stages[g].name));
        tj__buf_addf(b, ",\"stage\":\"%s\",\"workers\":%d,\"in\":%lld,"
                     "\"out\":%lld,\"dropped\":%lld,\"failed\":%lld,"
                     "\"bytes_in\":%lld,\"busy_s\":%.6f,\"counters\":{",
                     run->p->stages[g].plugin->desc->name,
                     run->p->stages[g].workers, s.in, s.out, s.dropped,
                     s.failed, s.bytes, (double)s.busy_ns / 1e9);
        write_custom(run, g, b);
        tj__buf_add(b, "}}", 2);
    }
    tj__buf_add(b, "]}", 2);
}

static void write_stats(const char *path, const tj_buf *b)
{
    FILE *fp = fopen(path, "w");
    if (!fp || fwrite(b->data, 1, b->len, fp) != b->len || fputc('\n', fp) < 0)
        tj__log(TJ_LOG_ERROR, NULL, "--stats-json: cannot write %s: %m", path);
    if (fp)
        fclose(fp);
}

/* ---- the run ----------------------------------------------------------- */

static double now_s(void) { return (double)tj__now_ns() / 1e9; }

/* Waits for the instances while handling signals and drawing progress. */
static void supervise(tj_run *run, const tj_run_opts *o, double t0)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, WAKE_SIG);
    bool tty = o->progress && isatty(2);
    int signals = 0;
    double next_draw = t0 + 0.5;
    while (atomic_load(&run->running) > 0) {
        struct timespec ts = {0, 50 * 1000000L};
        int sig = -1;
        if (o->handle_signals) {
            sig = sigtimedwait(&set, NULL, &ts);
        } else {
            unsigned snap = tj__waiter_prepare(&run->done);
            if (atomic_load(&run->running) > 0)
                tj__waiter_wait(&run->done, snap, 50);
            tj__waiter_done(&run->done);
        }
        if ((external_stop || (o->stop && atomic_load(o->stop))) &&
            !atomic_load(&run->stop)) {
            external_stop = 0;
            atomic_store(&run->stop, 1);
        }
        if (o->abort && atomic_load(o->abort) && !atomic_load(&run->abort)) {
            atomic_store(&run->abort, 1);
            run_fail(run, "aborted");
        }
        if (sig == SIGINT || sig == SIGTERM) {
            if (++signals == 1) {
                tj__log(TJ_LOG_WARN, NULL, "%s: stopping: sources end, records"
                        " in flight drain (signal again to abort)",
                        sig == SIGINT ? "SIGINT" : "SIGTERM");
                atomic_store(&run->stop, 1);
            } else {
                tj__log(TJ_LOG_WARN, NULL, "aborting: records in flight are "
                        "dropped as failed");
                atomic_store(&run->abort, 1);
                run_fail(run, "aborted by a second signal");
            }
        }
        if (tty && now_s() >= next_draw) {
            progress_line(run, now_s() - t0);
            next_draw = now_s() + 0.5;
        }
    }
    if (tty)
        fprintf(stderr, "\r\033[K");
}

/* Names a stage instance's thread after it, so that top -H, ps -L and
 * perf show which stage a thread runs: the instance name ("clean#1" for
 * the second worker of clean), cut to the 15 bytes Linux keeps, keeping
 * the worker number. */
static void name_thread(pthread_t t, const char *name)
{
    char buf[16];
    size_t len = strlen(name);
    const char *hash = strrchr(name, '#');
    if (len < sizeof buf)
        memcpy(buf, name, len + 1);
    else if (hash && strlen(hash) < 8) /* "long-stage-na#12" */
        snprintf(buf, sizeof buf, "%.*s%s", (int)(15 - strlen(hash)), name, hash);
    else
        snprintf(buf, sizeof buf, "%.15s", name);
    pthread_setname_np(t, buf);
}

static int start_threads(tj_run *run, tj_err *err)
{
    tj_pipeline *p = run->p;
    for (size_t g = 0; g < p->nstages; g++)
        for (int w = 0; w < p->stages[g].workers; w++) {
            tj_instance *in = run->groups[g][w];
            atomic_fetch_add(&run->running, 1);
            int rc = pthread_create(&in->thread, NULL,
                                    g == 0 ? source_main : worker_main, in);
            if (rc) {
                instance_ended(run);
                atomic_store(&run->abort, 1);
                return tj__errf(err, TJ_ENOMEM, "cannot start a thread for "
                                "stage '%s': %s", in->ctx.name, strerror(rc));
            }
            in->started = true;
            name_thread(in->thread, in->ctx.name);
        }
    return 0;
}

int tj__run(tj_pipeline *p, const tj_run_opts *o, tj_run_result *res)
{
    tj_run run = {.p = p};
    tj_err err = {{0}};
    memset(res, 0, sizeof *res);
    pthread_mutex_init(&run.lock, NULL);
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, WAKE_SIG);
    run.supervisor = pthread_self();
    run.signals = o->handle_signals;
    if (o->handle_signals)
        pthread_sigmask(SIG_BLOCK, &set, &old);
    double t0 = now_s();
    int rc = open_dead_letter(&run, &err);
    if (!rc && p->state_path) {
        rc = tj__state_open(p->state_path, &run.state, &err);
        if (!rc)
            tj__state_run_begin(run.state, p->name, &run.run_id);
    }
    if (!rc)
        rc = build(&run, &err);
    bool built = rc == 0;
    if (!rc)
        rc = start_threads(&run, &err);
    if (!rc || run.groups)
        supervise(&run, o, t0);
    for (size_t g = 0; run.groups && g < p->nstages; g++)
        for (int w = 0; run.groups[g] && w < p->stages[g].workers; w++)
            if (run.groups[g][w] && run.groups[g][w]->started)
                pthread_join(run.groups[g][w]->thread, NULL);
    double elapsed = now_s() - t0;
    if (rc) {
        res->failed = true;
        snprintf(res->message, sizeof res->message, "%s",
                 err.msg[0] ? err.msg : tj__strerror(rc));
    } else if (atomic_load(&run.failed)) {
        res->failed = true;
        snprintf(res->message, sizeof res->message, "%s", run.fail_msg);
        rc = TJ_ERECORD;
    }
    for (size_t g = 0; !rc && g < p->nstages; g++)
        res->records_failed += sum_group(&run, g).failed;
    const char *status = res->failed ? "failed"
                         : res->records_failed ? "completed with failures"
                                               : "completed";
    tj_buf stats = {0};
    if (built)
        build_stats(&run, elapsed, status, &stats);
    if (built) {
        if (o->summary)
            print_summary(&run, elapsed, status);
        if (o->stats_json && stats.len)
            write_stats(o->stats_json, &stats);
    }
    teardown(&run);
    /* history is written after teardown: every acknowledgement has run */
    if (run.state) {
        tj__state_run_end(run.state, run.run_id,
                          res->failed ? "failed"
                          : res->records_failed ? "partial" : "ok",
                          stats.data, res->failed ? res->message : NULL);
        tj__state_close(run.state);
    }
    if (o->keep_stats)
        res->stats_json = stats.data;
    else
        tj__buf_free(&stats);
    if (o->handle_signals) {
        /* every instance is joined, so a wake-up sent is pending by now */
        sigset_t wake;
        sigemptyset(&wake);
        sigaddset(&wake, WAKE_SIG);
        while (sigtimedwait(&wake, NULL, &(struct timespec){0, 0}) == WAKE_SIG)
            ;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    return rc;
}
