/*
 * runner.h - runs a loaded pipeline: one thread per stage instance, rings
 * between consecutive stages, end-of-input propagation, signals, counters.
 */
#ifndef TJ_RUNNER_H
#define TJ_RUNNER_H
#include "pipeline.h"

typedef struct tj_run_opts {
    bool progress;          /* one-line display on stderr (TTY only) */
    bool summary;           /* per-stage table on stderr at the end */
    const char *stats_json; /* write counters here when set */
    bool handle_signals;    /* SIGINT/SIGTERM: drain; second one aborts */
    atomic_int *stop;       /* set non-zero to drain this run (scheduler) */
    atomic_int *abort;      /* set non-zero to abort this run */
    bool keep_stats;        /* fill tj_run_result.stats_json */
} tj_run_opts;

typedef struct tj_run_result {
    bool failed;          /* the run itself failed (exit 1) */
    long long records_failed; /* records that failed in any stage */
    char message[1024];   /* why the run failed */
    char *stats_json;     /* with keep_stats: malloc()ed counters in the
                             --stats-json format; the caller frees */
} tj_run_result;

/* Runs the pipeline to the end of its input (or until stopped).  Returns 0
 * when the run completed (check res->records_failed) or a negative code
 * when it failed (res->message says why).  Stage init failures are
 * reported with the stage's own message before any thread starts. */
int tj__run(tj_pipeline *p, const tj_run_opts *opts, tj_run_result *res);

/* Asks a running tj__run to drain (as SIGTERM does); async-signal-safe. */
void tj__run_request_stop(void);
#endif
