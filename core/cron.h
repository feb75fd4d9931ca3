/*
 * cron.h - schedules: five-field cron expressions, @macros and @every.
 *
 * Fields: minute hour day-of-month month day-of-week, each `*`, a number,
 * a range `a-b`, a step `a-b/n` (or a star followed by /n), or a comma
 * list of those; months
 * and weekdays also by name (jan..dec, sun..sat; 7 is Sunday too).  When
 * both day fields are restricted a day matches either (Vixie cron).
 * Macros: @yearly @annually @monthly @weekly @daily @midnight @hourly and
 * `@every DURATION` (e.g. @every 10m, aligned to multiples of the interval
 * since the epoch).
 *
 * Times are evaluated in a named zone (IANA, e.g. Asia/Shanghai) or the
 * machine's.  libc keeps one zone per process, so a named zone other than
 * $TZ is switched in and out under a lock; the scheduler sets $TZ once at
 * start when all its pipelines share a zone, so no switch happens while
 * runs are going.  Across DST changes a wall-clock time that does not exist that
 * day is skipped, and one that occurs twice fires once (the first).
 */
#ifndef TJ_CRON_H
#define TJ_CRON_H
#include "core.h"
#include <time.h>

typedef struct tj_cron {
    uint64_t minutes;  /* bit m: minute m matches */
    uint32_t hours;    /* bit h */
    uint32_t mdays;    /* bit d, 1..31 */
    uint16_t months;   /* bit m, 1..12 */
    uint8_t wdays;     /* bit w, 0..6 (Sunday 0) */
    bool mday_star, wday_star;
    double every;      /* > 0 for @every: seconds */
    char tz[64];       /* "" = the machine's zone */
} tj_cron;

/* Parses expr; `tz` may be NULL or "" for local time.  Errors describe the
 * field at fault ("minute field: 61 is out of range 0-59"). */
int tj__cron_parse(const char *expr, const char *tz, tj_cron *out,
                   tj_err *err);
/* The first time strictly after `after` that the schedule fires, or -1 if
 * none within eight years (e.g. 30 February). */
time_t tj__cron_next(const tj_cron *c, time_t after);
#endif
