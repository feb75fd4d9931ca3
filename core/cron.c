/* cron.c - schedule expressions (contract in cron.h). */
#include "cron.h"
#include "options.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const month_names[] = {"jan", "feb", "mar", "apr",
                                          "may", "jun", "jul", "aug",
                                          "sep", "oct", "nov", "dec"};
static const char *const day_names[] = {"sun", "mon", "tue", "wed",
                                        "thu", "fri", "sat"};

typedef struct field_spec {
    const char *name;
    int lo, hi;
    const char *const *names; /* names[i] means lo + i */
    int nnames;
} field_spec;

static const field_spec fields[5] = {
    {"minute", 0, 59, NULL, 0},
    {"hour", 0, 23, NULL, 0},
    {"day-of-month", 1, 31, NULL, 0},
    {"month", 1, 12, month_names, 12},
    {"day-of-week", 0, 7, day_names, 7},
};

/* Reads a number or a name at *s. */
static int read_value(const field_spec *f, const char **s, int *out)
{
    if (isdigit((unsigned char)**s)) {
        char *end;
        long v = strtol(*s, &end, 10);
        *s = end;
        *out = (int)v;
        return v >= f->lo && v <= f->hi ? 0 : TJ_EINVAL;
    }
    for (int i = 0; i < f->nnames; i++)
        if (strncasecmp(*s, f->names[i], 3) == 0) {
            *s += 3;
            *out = (f->names == month_names ? 1 : 0) + i;
            return 0;
        }
    return TJ_EPARSE;
}

/* Parses one field (a star, "0-59/15", "1-5,10", "mon-fri") into bits. */
static int parse_field(const field_spec *f, const char *text, uint64_t *bits,
                       tj_err *err)
{
    const char *s = text;
    *bits = 0;
    for (;;) {
        int a = f->lo, b = f->hi, step = 1, rc = 0;
        if (*s == '*')
            s++;
        else {
            rc = read_value(f, &s, &a);
            b = a;
            if (!rc && *s == '-') {
                s++;
                rc = read_value(f, &s, &b);
            }
        }
        if (!rc && *s == '/') {
            char *end;
            step = (int)strtol(s + 1, &end, 10);
            if (end == s + 1 || step < 1)
                rc = TJ_EINVAL;
            s = end;
            if (b == a && text[0] != '*')
                b = f->hi; /* "5/15" means 5-max/15 */
        }
        if (rc || a > b)
            return tj__errf(err, TJ_EPARSE, "%s field: '%s' is not valid "
                            "(range %d-%d)", f->name, text, f->lo, f->hi);
        for (int v = a; v <= b; v += step)
            *bits |= 1ull << v;
        if (*s == ',') {
            s++;
            continue;
        }
        if (*s)
            return tj__errf(err, TJ_EPARSE, "%s field: unexpected '%s' in "
                            "'%s'", f->name, s, text);
        return 0;
    }
}

static const struct {
    const char *name, *expr;
} macros[] = {{"@yearly", "0 0 1 1 *"},  {"@annually", "0 0 1 1 *"},
              {"@monthly", "0 0 1 * *"}, {"@weekly", "0 0 * * 0"},
              {"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"},
              {"@hourly", "0 * * * *"}};

int tj__cron_parse(const char *expr, const char *tz, tj_cron *c, tj_err *err)
{
    memset(c, 0, sizeof *c);
    snprintf(c->tz, sizeof c->tz, "%s", tz ? tz : "");
    while (isspace((unsigned char)*expr))
        expr++;
    if (strncmp(expr, "@every", 6) == 0) {
        const char *d = expr + 6;
        while (isspace((unsigned char)*d))
            d++;
        if (tj__parse_duration(d, &c->every) || c->every < 1)
            return tj__errf(err, TJ_EPARSE, "@every needs a duration of at "
                            "least 1s, such as @every 10m (got '%s')", d);
        return 0;
    }
    for (size_t i = 0; i < sizeof macros / sizeof *macros; i++)
        if (strcasecmp(expr, macros[i].name) == 0)
            expr = macros[i].expr;
    if (*expr == '@')
        return tj__errf(err, TJ_EPARSE, "unknown schedule '%s' (use @hourly,"
                        " @daily, @weekly, @monthly, @yearly, @every 10m or "
                        "five cron fields)", expr);
    char copy[256], *save = NULL, *part[6];
    snprintf(copy, sizeof copy, "%s", expr);
    int n = 0;
    for (char *t = strtok_r(copy, " \t", &save); t && n < 6;
         t = strtok_r(NULL, " \t", &save))
        part[n++] = t;
    if (n != 5)
        return tj__errf(err, TJ_EPARSE, "a cron schedule has five fields "
                        "(minute hour day-of-month month day-of-week), got "
                        "%d in '%s'", n, expr);
    uint64_t bits[5];
    for (int i = 0; i < 5; i++)
        if (parse_field(&fields[i], part[i], &bits[i], err))
            return TJ_EPARSE;
    c->minutes = bits[0];
    c->hours = (uint32_t)bits[1];
    c->mdays = (uint32_t)bits[2];
    c->months = (uint16_t)bits[3];
    c->wdays = (uint8_t)((bits[4] | (bits[4] >> 7)) & 0x7f); /* 7 = Sunday */
    c->mday_star = part[2][0] == '*';
    c->wday_star = part[4][0] == '*';
    return 0;
}

static bool day_matches(const tj_cron *c, const struct tm *t)
{
    bool md = c->mdays >> t->tm_mday & 1, wd = c->wdays >> t->tm_wday & 1;
    if (c->mday_star || c->wday_star)
        return md && wd;
    return md || wd;
}

/* The zone is process-wide state in libc: conversions for a named zone
 * switch TZ under this lock and restore it. */
static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;

/* Local midnight starting the day after t's day (+months/+days). */
static time_t next_boundary(const struct tm *lt, int add_months, int add_days)
{
    struct tm t = *lt;
    t.tm_sec = t.tm_min = t.tm_hour = 0;
    if (add_months) {
        t.tm_mday = 1;
        t.tm_mon += add_months;
    }
    t.tm_mday += add_days;
    t.tm_isdst = -1;
    return mktime(&t);
}

static time_t search(const tj_cron *c, time_t after)
{
    time_t t = (after / 60 + 1) * 60;
    time_t limit = after + 8 * 366 * 86400L;
    while (t <= limit) {
        struct tm lt;
        localtime_r(&t, &lt);
        time_t next;
        if (!(c->months >> (lt.tm_mon + 1) & 1))
            next = next_boundary(&lt, 1, 0);
        else if (!day_matches(c, &lt))
            next = next_boundary(&lt, 0, 1);
        else if (!(c->hours >> lt.tm_hour & 1))
            next = t + (60 - lt.tm_min) * 60;
        else if (!(c->minutes >> lt.tm_min & 1))
            next = t + 60;
        else {
            /* a wall time repeated by a DST fall-back fires once */
            time_t hour_ago = t - 3600;
            struct tm prev;
            localtime_r(&hour_ago, &prev);
            if (prev.tm_hour == lt.tm_hour && prev.tm_min == lt.tm_min &&
                prev.tm_gmtoff != lt.tm_gmtoff) {
                t += 60;
                continue;
            }
            return t;
        }
        t = next > t ? next : t + 60;
    }
    return -1;
}

time_t tj__cron_next(const tj_cron *c, time_t after)
{
    if (c->every > 0) {
        time_t step = (time_t)c->every;
        return (after / step + 1) * step;
    }
    const char *cur = getenv("TZ");
    if (!c->tz[0] || (cur && strcmp(cur, c->tz) == 0))
        return search(c, after); /* already the process zone: no switch */
    pthread_mutex_lock(&tz_lock);
    char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
    setenv("TZ", c->tz, 1);
    tzset();
    time_t r = search(c, after);
    if (old)
        setenv("TZ", old, 1);
    else
        unsetenv("TZ");
    tzset();
    free(old);
    pthread_mutex_unlock(&tz_lock);
    return r;
}
