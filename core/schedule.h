/*
 * schedule.h - long-running ingestion: `taojin schedule`, `taojin run
 * --if-due` and `taojin history`.
 */
#ifndef TJ_SCHEDULE_H
#define TJ_SCHEDULE_H
#include "runner.h"

/* taojin schedule FILE... [--listen HOST:PORT]: runs each pipeline when its
 * schedule says, until SIGTERM/SIGINT; SIGHUP reloads the files.  Returns
 * the process exit code. */
int tj__cmd_schedule(int argc, char **argv);

/* For `run --if-due`: 1 when the pipeline's schedule has a tick between its
 * last recorded run and now (or it never ran), 0 when not due (*next_due
 * set), negative on error (err filled). */
int tj__is_due(const tj_pipeline *p, time_t now, time_t *next_due,
               tj_err *err);

/* taojin history NAME|FILE [--json] [--limit N] [--state PATH]. */
int tj__cmd_history(int argc, char **argv);
#endif
