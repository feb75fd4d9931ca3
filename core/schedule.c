/*
 * schedule.c - the scheduler daemon.
 *
 * The main thread owns the schedule: it sleeps in sigtimedwait until the
 * next pipeline is due (so SIGTERM, SIGINT and SIGHUP are handled
 * synchronously, never in a handler), starts each due run on its own
 * thread, and never starts a pipeline that is still running: that tick is
 * skipped and counted.  Runs report back under `lock`, which also guards
 * the figures served on /metrics and /health (libmicrohttpd's thread).
 */
#include "schedule.h"
#include "state.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <microhttpd.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct stage_total {
    char name[64];
    long long in, out, dropped, failed, unchanged;
} stage_total;

typedef struct job {
    char *file;
    tj_pipeline *p;       /* current spec */
    tj_pipeline *pending; /* reloaded spec waiting for the run to end */
    time_t next_due;      /* -1: never */
    double jitter_delay;  /* seconds added to the current tick */
    pthread_t thread;
    atomic_int running, stop, abort;
    /* figures */
    long long runs_ok, runs_partial, runs_failed, ticks_skipped;
    double last_duration, duration_sum, last_success;
    int last_failed; /* last finished run failed */
    stage_total *stages;
    size_t nstages;
} job;

typedef struct scheduler {
    job *jobs;
    size_t njobs;
    pthread_mutex_t lock;
    struct MHD_Daemon *httpd;
} scheduler;

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- figures ----------------------------------------------------------- */

static stage_total *stage_slot(job *j, const char *name)
{
    for (size_t i = 0; i < j->nstages; i++)
        if (strcmp(j->stages[i].name, name) == 0)
            return &j->stages[i];
    stage_total *g = realloc(j->stages, (j->nstages + 1) * sizeof *g);
    if (!g)
        return NULL;
    j->stages = g;
    memset(&g[j->nstages], 0, sizeof *g);
    snprintf(g[j->nstages].name, sizeof g->name, "%s", name);
    return &g[j->nstages++];
}

static long long num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? (long long)v->valuedouble : 0;
}

/* Adds one run's per-stage counters (stats JSON) to the job's totals. */
static void add_stats(job *j, const char *stats)
{
    cJSON *root = stats ? cJSON_Parse(stats) : NULL;
    const cJSON *st;
    cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(root, "stages"))
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(st, "name");
        stage_total *t = cJSON_IsString(name) ? stage_slot(j, name->valuestring)
                                              : NULL;
        if (!t)
            continue;
        t->in += num(st, "in");
        t->out += num(st, "out");
        t->dropped += num(st, "dropped");
        t->failed += num(st, "failed");
        t->unchanged +=
            num(cJSON_GetObjectItemCaseSensitive(st, "counters"), "unchanged");
    }
    cJSON_Delete(root);
}

/* ---- runs -------------------------------------------------------------- */

typedef struct run_arg {
    scheduler *s;
    job *j;
} run_arg;

/* Waits out the tick's jitter in short naps, so a SIGTERM during a long
 * jitter is not held up by it.  Returns false when told to stop. */
static bool jitter_wait(job *j)
{
    double end = wall_now() + j->jitter_delay;
    while (!atomic_load(&j->stop)) {
        double left = end - wall_now();
        if (left <= 0)
            return true;
        struct timespec ts = {0, (long)((left < 0.05 ? left : 0.05) * 1e9)};
        nanosleep(&ts, NULL);
    }
    return false;
}

static void *run_main(void *arg)
{
    run_arg *ra = arg;
    job *j = ra->j;
    scheduler *s = ra->s;
    free(ra);
    if (!jitter_wait(j)) { /* stopped before it began: not a run */
        atomic_store(&j->running, 0);
        return NULL;
    }
    tj_run_opts o = {.summary = false, .stop = &j->stop, .abort = &j->abort,
                     .keep_stats = true};
    tj_run_result res = {0};
    double t0 = wall_now();
    tj__log(TJ_LOG_INFO, j->p->name, "run started");
    int rc = tj__run(j->p, &o, &res);
    double dt = wall_now() - t0;
    pthread_mutex_lock(&s->lock);
    j->last_duration = dt;
    j->duration_sum += dt;
    if (rc || res.failed) {
        j->runs_failed++;
        j->last_failed = 1;
        tj__log(TJ_LOG_ERROR, j->p->name, "run failed: %s", res.message);
    } else {
        j->last_failed = 0;
        j->last_success = wall_now();
        if (res.records_failed)
            j->runs_partial++;
        else
            j->runs_ok++;
        tj__log(TJ_LOG_INFO, j->p->name, "run finished in %.2f s (%lld "
                "failed records)", dt, res.records_failed);
    }
    add_stats(j, res.stats_json);
    free(res.stats_json);
    pthread_mutex_unlock(&s->lock);
    atomic_store(&j->running, 0);
    return NULL;
}

/* Next tick after `after`, plus a fresh jitter draw. */
static void plan_next(job *j, time_t after)
{
    j->next_due = j->p->scheduled ? tj__cron_next(&j->p->cron, after) : -1;
    j->jitter_delay = j->p->jitter > 0 ? drand48() * j->p->jitter : 0;
}

static void start_run(scheduler *s, job *j)
{
    run_arg *ra = malloc(sizeof *ra);
    if (!ra)
        return;
    *ra = (run_arg){s, j};
    if (j->thread)
        pthread_join(j->thread, NULL);
    j->thread = 0;
    atomic_store(&j->stop, 0);
    atomic_store(&j->abort, 0);
    atomic_store(&j->running, 1);
    if (pthread_create(&j->thread, NULL, run_main, ra)) {
        atomic_store(&j->running, 0);
        free(ra);
        tj__log(TJ_LOG_ERROR, j->p->name, "cannot start a run thread");
    }
}

/* Handles one due tick: start, or skip when the last run is still going. */
static void tick(scheduler *s, job *j, time_t now)
{
    if (atomic_load(&j->running)) {
        pthread_mutex_lock(&s->lock);
        j->ticks_skipped++;
        pthread_mutex_unlock(&s->lock);
        tj__log(TJ_LOG_WARN, j->p->name, "tick skipped: the previous run is "
                "still going");
    } else {
        if (j->pending) { /* a reload waited for the run to end */
            pthread_mutex_lock(&s->lock); /* /metrics reads j->p */
            tj__pipeline_free(j->p);
            j->p = j->pending;
            j->pending = NULL;
            pthread_mutex_unlock(&s->lock);
        }
        start_run(s, j);
    }
    plan_next(j, now);
}

/* ---- loading and reloading --------------------------------------------- */

static int load_job(job *j, tj_err *err)
{
    tj_pipeline *p;
    int rc = tj__pipeline_load(j->file, NULL, 0, &p, err);
    if (rc)
        return rc;
    if (!p->scheduled) {
        tj__errf(err, TJ_ECONFIG, "%s: no 'schedule:' (e.g. schedule: "
                 "\"*/10 * * * *\" or \"@every 10m\")", j->file);
        tj__pipeline_free(p);
        return TJ_ECONFIG;
    }
    if (!j->p)
        j->p = p;
    else {
        tj__pipeline_free(j->pending);
        j->pending = p;
    }
    return 0;
}

/* First plan: with catch_up, a tick missed since the last recorded run
 * makes the pipeline due now (once, however many were missed). */
static void first_plan(job *j, time_t now)
{
    plan_next(j, now);
    if (!j->p->catch_up || !j->p->state_path)
        return;
    tj_state *st;
    tj_err err;
    if (tj__state_open(j->p->state_path, &st, &err))
        return;
    double last = tj__state_last_run_start(st);
    tj__state_close(st);
    time_t missed = last >= 0 ? tj__cron_next(&j->p->cron, (time_t)last) : -1;
    if (missed >= 0 && missed < now) {
        tj__log(TJ_LOG_INFO, j->p->name, "catch_up: a tick was missed since "
                "the last run; running once now");
        j->next_due = now;
    }
}

static void reload(scheduler *s)
{
    for (size_t i = 0; i < s->njobs; i++) {
        job *j = &s->jobs[i];
        tj_err err;
        if (load_job(j, &err)) {
            tj__log(TJ_LOG_ERROR, NULL, "SIGHUP: %s; keeping the running "
                    "version", err.msg);
            continue;
        }
        tj__log(TJ_LOG_INFO, NULL, "SIGHUP: reloaded %s", j->file);
        if (!atomic_load(&j->running)) {
            if (j->thread)
                pthread_join(j->thread, NULL);
            j->thread = 0;
            pthread_mutex_lock(&s->lock); /* /metrics reads j->p */
            tj__pipeline_free(j->p);
            j->p = j->pending;
            j->pending = NULL;
            pthread_mutex_unlock(&s->lock);
        }
        plan_next(j, time(NULL));
    }
}

/* ---- /metrics and /health ---------------------------------------------- */

static void metric_header(tj_buf *b, const char *name, const char *type,
                          const char *help)
{
    tj__buf_addf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void render_metrics(scheduler *s, tj_buf *b)
{
    pthread_mutex_lock(&s->lock);
    metric_header(b, "taojin_runs_total", "counter", "Finished runs by status.");
    for (size_t i = 0; i < s->njobs; i++) {
        job *j = &s->jobs[i];
        const char *n = j->p->name;
        tj__buf_addf(b, "taojin_runs_total{pipeline=\"%s\",status=\"ok\"} %lld\n"
                     "taojin_runs_total{pipeline=\"%s\",status=\"partial\"} %lld\n"
                     "taojin_runs_total{pipeline=\"%s\",status=\"failed\"} %lld\n",
                     n, j->runs_ok, n, j->runs_partial, n, j->runs_failed);
    }
    metric_header(b, "taojin_ticks_skipped_total", "counter",
                  "Ticks skipped because the previous run was still going.");
    for (size_t i = 0; i < s->njobs; i++)
        tj__buf_addf(b, "taojin_ticks_skipped_total{pipeline=\"%s\"} %lld\n",
                     s->jobs[i].p->name, s->jobs[i].ticks_skipped);
    metric_header(b, "taojin_run_errors_total", "counter", "Runs that failed.");
    for (size_t i = 0; i < s->njobs; i++)
        tj__buf_addf(b, "taojin_run_errors_total{pipeline=\"%s\"} %lld\n",
                     s->jobs[i].p->name, s->jobs[i].runs_failed);
    metric_header(b, "taojin_records_total", "counter",
                  "Records by stage and outcome, summed over runs.");
    static const char *const outcomes[] = {"in", "out", "dropped", "failed"};
    for (size_t i = 0; i < s->njobs; i++)
        for (size_t k = 0; k < s->jobs[i].nstages; k++) {
            stage_total *t = &s->jobs[i].stages[k];
            long long v[] = {t->in, t->out, t->dropped, t->failed};
            for (int o = 0; o < 4; o++)
                tj__buf_addf(b, "taojin_records_total{pipeline=\"%s\",stage=\"%s\","
                             "outcome=\"%s\"} %lld\n", s->jobs[i].p->name,
                             t->name, outcomes[o], v[o]);
        }
    metric_header(b, "taojin_unchanged_total", "counter",
                  "Documents found unchanged (304 or same content).");
    for (size_t i = 0; i < s->njobs; i++) {
        long long u = 0;
        for (size_t k = 0; k < s->jobs[i].nstages; k++)
            u += s->jobs[i].stages[k].unchanged;
        tj__buf_addf(b, "taojin_unchanged_total{pipeline=\"%s\"} %lld\n",
                     s->jobs[i].p->name, u);
    }
    metric_header(b, "taojin_run_duration_seconds", "summary",
                  "Run durations.");
    for (size_t i = 0; i < s->njobs; i++) {
        job *j = &s->jobs[i];
        tj__buf_addf(b, "taojin_run_duration_seconds_sum{pipeline=\"%s\"} %.3f\n"
                     "taojin_run_duration_seconds_count{pipeline=\"%s\"} %lld\n",
                     j->p->name, j->duration_sum, j->p->name,
                     j->runs_ok + j->runs_partial + j->runs_failed);
    }
    metric_header(b, "taojin_last_success_timestamp_seconds", "gauge",
                  "When the last successful run ended (Unix time).");
    for (size_t i = 0; i < s->njobs; i++)
        tj__buf_addf(b, "taojin_last_success_timestamp_seconds{pipeline=\"%s\"}"
                     " %.3f\n", s->jobs[i].p->name, s->jobs[i].last_success);
    metric_header(b, "taojin_running", "gauge", "1 while a run is going.");
    for (size_t i = 0; i < s->njobs; i++)
        tj__buf_addf(b, "taojin_running{pipeline=\"%s\"} %d\n",
                     s->jobs[i].p->name, atomic_load(&s->jobs[i].running));
    pthread_mutex_unlock(&s->lock);
}

static int render_health(scheduler *s, tj_buf *b)
{
    int failed = 0;
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->njobs; i++)
        if (s->jobs[i].last_failed) {
            tj__buf_addf(b, "%s: last run failed\n", s->jobs[i].p->name);
            failed++;
        }
    pthread_mutex_unlock(&s->lock);
    if (!failed)
        tj__buf_add(b, "ok\n", 3);
    return failed ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_OK;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c,
                              const char *url, const char *method,
                              const char *version, const char *data,
                              size_t *size, void **con_cls)
{
    scheduler *s = cls;
    tj_buf b = {0};
    int status = MHD_HTTP_OK;
    const char *type = "text/plain; charset=utf-8";
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        status = MHD_HTTP_METHOD_NOT_ALLOWED;
        tj__buf_add(&b, "GET only\n", 9);
    } else if (strcmp(url, "/metrics") == 0) {
        render_metrics(s, &b);
        type = "text/plain; version=0.0.4; charset=utf-8";
    } else if (strcmp(url, "/health") == 0) {
        status = render_health(s, &b);
    } else {
        status = MHD_HTTP_NOT_FOUND;
        tj__buf_add(&b, "try /metrics or /health\n", 24);
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(
        b.len, b.data ? b.data : "", MHD_RESPMEM_MUST_COPY);
    tj__buf_free(&b);
    MHD_add_response_header(r, "Content-Type", type);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Starts the HTTP endpoint on HOST:PORT (loopback by default). */
static int start_httpd(scheduler *s, const char *listen, tj_err *err)
{
    char host[256] = "127.0.0.1";
    const char *colon = strrchr(listen, ':');
    int port = atoi(colon ? colon + 1 : listen);
    if (colon && colon != listen)
        snprintf(host, sizeof host, "%.*s", (int)(colon - listen), listen);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (port <= 0 || port > 65535 || inet_pton(AF_INET, host, &addr.sin_addr) != 1)
        return tj__errf(err, TJ_ECONFIG, "--listen expects IPv4:PORT such as "
                        "127.0.0.1:9464 (got '%s')", listen);
    s->httpd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
                                (uint16_t)port, NULL, NULL, answer, s,
                                MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                                MHD_OPTION_END);
    if (!s->httpd)
        return tj__errf(err, TJ_EIO, "--listen %s: cannot listen (port in "
                        "use?)", listen);
    return 0;
}

/* ---- the daemon --------------------------------------------------------- */

/* Seconds (at most 1) to wait before the next due tick. */
static int wait_ms(scheduler *s, time_t now)
{
    long ms = 1000;
    for (size_t i = 0; i < s->njobs; i++)
        if (s->jobs[i].next_due >= 0) {
            long d = (long)(s->jobs[i].next_due - now) * 1000;
            if (d < ms)
                ms = d;
        }
    return ms < 10 ? 10 : (int)ms;
}

/* Drains running pipelines within their shutdown_timeout, then aborts. */
static void drain(scheduler *s)
{
    double deadline = 0;
    for (size_t i = 0; i < s->njobs; i++) {
        atomic_store(&s->jobs[i].stop, 1);
        if (s->jobs[i].p->shutdown_timeout > deadline)
            deadline = s->jobs[i].p->shutdown_timeout;
    }
    double t0 = wall_now();
    for (;;) {
        bool any = false;
        for (size_t i = 0; i < s->njobs; i++)
            any |= atomic_load(&s->jobs[i].running) != 0;
        if (!any)
            break;
        if (wall_now() - t0 > deadline) {
            tj__log(TJ_LOG_WARN, NULL, "shutdown_timeout passed: aborting runs");
            for (size_t i = 0; i < s->njobs; i++)
                atomic_store(&s->jobs[i].abort, 1);
            deadline = 1e18;
        }
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    for (size_t i = 0; i < s->njobs; i++)
        if (s->jobs[i].thread)
            pthread_join(s->jobs[i].thread, NULL);
}

/* When every pipeline names the same timezone, make it the process zone
 * now, before any run thread exists, so tj__cron_next never has to switch
 * zones while runs call localtime_r. */
static void settle_zone(scheduler *s)
{
    const char *tz = s->njobs ? s->jobs[0].p->cron.tz : "";
    for (size_t i = 1; i < s->njobs; i++)
        if (strcmp(s->jobs[i].p->cron.tz, tz) != 0)
            return;
    if (tz[0]) {
        setenv("TZ", tz, 1);
        tzset();
    }
}

static void free_scheduler(scheduler *s)
{
    if (s->httpd)
        MHD_stop_daemon(s->httpd);
    for (size_t i = 0; i < s->njobs; i++) {
        tj__pipeline_free(s->jobs[i].p);
        tj__pipeline_free(s->jobs[i].pending);
        free(s->jobs[i].stages);
    }
    free(s->jobs);
    pthread_mutex_destroy(&s->lock);
}

static void loop(scheduler *s)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    for (;;) {
        time_t now = time(NULL);
        for (size_t i = 0; i < s->njobs; i++)
            if (s->jobs[i].next_due >= 0 && s->jobs[i].next_due <= now)
                tick(s, &s->jobs[i], now);
        int ms = wait_ms(s, time(NULL));
        struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
        int sig = sigtimedwait(&set, NULL, &ts);
        if (sig == SIGHUP)
            reload(s);
        else if (sig == SIGINT || sig == SIGTERM) {
            tj__log(TJ_LOG_INFO, NULL, "%s: starting nothing new, draining "
                    "running pipelines", sig == SIGINT ? "SIGINT" : "SIGTERM");
            return;
        }
    }
}

int tj__cmd_schedule(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, 'l'}, {NULL, 0, NULL, 0}};
    const char *listen = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c != 'l')
            return 2;
        listen = optarg;
    }
    if (optind >= argc) {
        fprintf(stderr, "taojin: schedule expects pipeline files\n");
        return 2;
    }
    scheduler s = {.njobs = (size_t)(argc - optind)};
    pthread_mutex_init(&s.lock, NULL);
    s.jobs = calloc(s.njobs, sizeof *s.jobs);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* every thread inherits this */
    srand48((long)time(NULL) ^ getpid());
    tj_err err;
    int rc = s.jobs ? 0 : 1;
    for (size_t i = 0; !rc && i < s.njobs; i++) {
        s.jobs[i].file = argv[optind + (int)i];
        if (load_job(&s.jobs[i], &err)) {
            fprintf(stderr, "taojin: %s\n", err.msg);
            rc = 2;
        }
    }
    if (!rc && listen && start_httpd(&s, listen, &err)) {
        fprintf(stderr, "taojin: %s\n", err.msg);
        rc = 2;
    }
    if (!rc)
        settle_zone(&s);
    if (!rc) {
        time_t now = time(NULL);
        for (size_t i = 0; i < s.njobs; i++)
            first_plan(&s.jobs[i], now);
        tj__log(TJ_LOG_INFO, NULL, "scheduling %zu pipeline(s)%s%s", s.njobs,
                listen ? "; metrics on http://" : "", listen ? listen : "");
        loop(&s);
        drain(&s);
    }
    free_scheduler(&s);
    return rc;
}

/* ---- run --if-due and history ------------------------------------------ */

int tj__is_due(const tj_pipeline *p, time_t now, time_t *next_due, tj_err *err)
{
    if (!p->scheduled)
        return tj__errf(err, TJ_ECONFIG, "%s: --if-due needs a 'schedule:'",
                        p->file);
    tj_state *st;
    int rc = tj__state_open(p->state_path, &st, err);
    if (rc)
        return rc;
    double last = tj__state_last_run_start(st);
    tj__state_close(st);
    if (last < 0)
        return 1;
    *next_due = tj__cron_next(&p->cron, (time_t)last);
    return *next_due >= 0 && *next_due <= now ? 1 : 0;
}

int tj__cmd_history(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},
        {"limit", required_argument, NULL, 'n'},
        {"state", required_argument, NULL, 's'},
        {NULL, 0, NULL, 0}};
    bool json = false;
    int limit = 20, c;
    const char *state = NULL;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 'j')
            json = true;
        else if (c == 'n')
            limit = atoi(optarg);
        else if (c == 's')
            state = optarg;
        else
            return 2;
    }
    if (optind != argc - 1) {
        fprintf(stderr, "taojin: history expects a pipeline NAME or FILE\n");
        return 2;
    }
    const char *arg = argv[optind];
    char path[1024];
    tj_pipeline *p = NULL;
    tj_err err;
    if (!state && access(arg, R_OK) == 0 && strstr(arg, ".y")) {
        if (tj__pipeline_load(arg, NULL, 0, &p, &err)) {
            fprintf(stderr, "taojin: %s\n", err.msg);
            return 2;
        }
        state = p->state_path;
        if (!state) {
            fprintf(stderr, "taojin: %s keeps no state (no 'state:' or "
                    "'schedule:')\n", arg);
            tj__pipeline_free(p);
            return 2;
        }
    } else if (!state) {
        snprintf(path, sizeof path, "state/%s.db", arg);
        state = path;
    }
    int rc = 0;
    tj_state *st;
    if (access(state, R_OK) != 0) {
        fprintf(stderr, "taojin: history: no state database at %s (runs are "
                "recorded when a pipeline has 'state:' or 'schedule:')\n", state);
        rc = 1;
    } else if (tj__state_open(state, &st, &err)) {
        fprintf(stderr, "taojin: %s\n", err.msg);
        rc = 1;
    } else {
        tj_buf b = {0};
        tj__state_history(st, limit > 0 ? limit : 20, json, &b);
        if (b.len)
            fwrite(b.data, 1, b.len, stdout);
        tj__buf_free(&b);
        tj__state_close(st);
    }
    tj__pipeline_free(p);
    return rc;
}
